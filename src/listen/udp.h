/*
 * udp.h - one --listen URL: N UDP sockets, N receive threads, N decoders.
 *
 * Workload: export datagrams of 100 B - 9 kB (up to 64 kB), from a few to
 * thousands of exporters, bursts of 100k+ datagrams/s. Each worker thread
 * owns one socket, one ft_decoder and one ft_worker_out, so nothing on the
 * receive path is shared or locked:
 *
 *   exporter ──> kernel ──(reuseport cBPF: hash of the SOURCE ADDRESS)──> socket i
 *                          socket i ──recvmmsg x64──> decoder i ──> out i
 *
 * With --workers N > 1 the sockets share the port through SO_REUSEPORT and a
 * classic BPF program (SO_ATTACH_REUSEPORT_CBPF) picks the socket from the
 * exporter's source address only: an exporter that changes source port (many
 * do, per export process or after a restart) still reaches the worker that
 * holds its NetFlow v9 / IPFIX templates. When the program cannot be
 * attached the kernel's 4-tuple hash is used and a warning says so.
 *
 * Per batch: recvmmsg(2) of up to 64 datagrams (64 x 64 KiB buffers
 * allocated once per worker), one CLOCK_REALTIME reading as time received,
 * decode, flush the out. Idle: poll(2) on the socket, the stop pipe and
 * the worker's eventfd (ft_udp_listener_kick: a reload), at most 1 s, so
 * ft_decoder_expire runs about once a second and a stop or a reload is
 * seen at once. Kernel drops (receive buffer full) are read from the
 * SO_RXQ_OVFL counter, counted and logged at a limited rate.
 *
 * Ownership: the listener owns its sockets, threads, buffers and decoders;
 * the outs and the stop flag/pipe belong to the caller and must outlive it.
 */
#ifndef FT_UDP_H
#define FT_UDP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "decode/decoder.h"
#include "listen/listen.h"

typedef struct ft_udp_opts {
    ft_listen_url url;               /* address and port to bind (port 0 = ephemeral) */
    uint32_t workers;                /* sockets/threads/decoders, 1..64 */
    uint32_t rcvbuf;                 /* SO_RCVBUF request in bytes; 0 = keep the kernel default */
    const ft_decoder_opts *decoder;  /* copied by each decoder */
    const ft_worker_out *outs;       /* `workers` entries, outs[i] for worker i; not owned */
    const atomic_bool *stop;         /* workers return once it is true; not owned */
    int wake_fd;                     /* readable when stop is set (a pipe's read end); not owned */
    ft_allow_list allow;             /* --allow-exporter; n == 0 = every source; prefixes not owned */
} ft_udp_opts;

typedef struct ft_udp_listener ft_udp_listener;

/*
 * Creates and binds the sockets, attaches the steering program, creates
 * the decoders and logs "listening on netflow://ADDR:PORT" with the bound
 * port. Threads are not started yet. Returns NULL with a message in err
 * (naming the address and the errno text, e.g. "cannot bind
 * netflow://127.0.0.1:2055: Address already in use") on failure.
 */
ft_udp_listener *ft_udp_listener_new(const ft_udp_opts *o, char *err, size_t err_len);

/* Starts one thread per worker (all signals blocked in them, so they go to
 * the main thread). Returns 0, or -1 with a message in err; on failure the
 * threads already started keep running until stop is set. */
int ft_udp_listener_start(ft_udp_listener *l, char *err, size_t err_len);

/* Waits for every worker thread (call after setting stop and waking them).
 * Each worker calls ft_decoder_finish and flushes its out before it ends.
 * Logs a summary per worker (datagrams, bytes, kernel drops). */
void ft_udp_listener_join(ft_udp_listener *l);

/* Any thread: wakes every idle worker at once (an eventfd each), so it
 * runs its ft_worker_out.refresh now rather than at its next poll timeout
 * (at most 1 s). For SIGHUP reloads. */
void ft_udp_listener_kick(ft_udp_listener *l);

/* The bound port (host order), useful with port 0. */
uint16_t ft_udp_listener_port(const ft_udp_listener *l);

/* Datagrams received by worker i so far (relaxed read; for tests and logs). */
uint64_t ft_udp_listener_datagrams(const ft_udp_listener *l, uint32_t worker);

/* Calls ft_decoder_foreach_exporter on every worker's decoder. Only after
 * ft_udp_listener_join (or before start). */
void ft_udp_listener_foreach_exporter(ft_udp_listener *l, void (*cb)(void *arg, const ft_exporter_stats *s),
                                      void *arg);

/* Any thread, while the workers run: ft_decoder_read_published on every
 * worker's decoder (counters as of each worker's last publish, at most about
 * a second old; final once joined). */
void ft_udp_listener_read_published(ft_udp_listener *l, void (*xcb)(void *arg, const ft_exporter_stats *s),
                                    void (*icb)(void *arg, const ft_if_counters *c), void *arg);

/* One worker's receive counters (relaxed reads; any thread). */
typedef struct ft_udp_counters {
    uint64_t datagrams, bytes;   /* received */
    uint64_t kernel_drops;       /* dropped by the kernel: receive buffer full (SO_RXQ_OVFL) */
    uint64_t oversize;           /* cut at 64 KiB */
    uint64_t recv_errors;        /* recvmmsg errors */
    uint64_t not_allowed;        /* from a source outside --allow-exporter: dropped before decoding
                                    (also in datagrams and bytes) */
    ft_histo_snap decode_time;   /* the worker decoder's ft_decoder_decode_time */
} ft_udp_counters;

/* Worker i's counters into *out (zeroed first; nothing for i >= workers). */
void ft_udp_listener_counters(const ft_udp_listener *l, uint32_t i, ft_udp_counters *out);
/* Workers of the listener. */
uint32_t ft_udp_listener_workers(const ft_udp_listener *l);
/* "netflow://127.0.0.1:2055", with the bound port; lives as long as l. */
const char *ft_udp_listener_url(const ft_udp_listener *l);

/* Worker i's decoder (i < workers), or NULL. Only while the threads are not
 * running (before start, after join): for loading and saving decode state. */
ft_decoder *ft_udp_listener_decoder(ft_udp_listener *l, uint32_t i);

/* Frees everything. The threads must have been joined (or never started).
 * NULL is a no-op. */
void ft_udp_listener_free(ft_udp_listener *l);

#endif
