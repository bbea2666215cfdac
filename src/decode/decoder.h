/*
 * decoder.h - the decode stage: export datagram in, flow records out.
 *
 * One ft_decoder per worker thread holds all decode state of that worker:
 * exporters (counters, sequence tracking), the template cache, sampling
 * rates learnt from options data and data sets held until their template
 * arrives. It is never shared between threads, so nothing on the hot path
 * takes a lock. A listener with several workers (SO_REUSEPORT) steers each
 * exporter to one socket, so each exporter's templates live in one decoder.
 *
 * The protocol is sniffed from the payload, whatever port it came on:
 *   - first 32-bit word == 5: sFlow v5 (sFlow.org "sFlow Version 5" §5);
 *   - else first 16-bit word 5, 9 or 10: NetFlow v5, NetFlow v9 (RFC 3954),
 *     IPFIX (RFC 7011).
 * (A NetFlow v5 header starts 0x0005 followed by a count of 1..30, so its first
 * 32-bit word is never 5.)
 */
#ifndef FT_DECODER_H
#define FT_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/counters.h"
#include "core/histo.h"
#include "core/err.h"
#include "flow/flow.h"

/* One UDP payload as received (live) or read from a capture. */
typedef struct ft_datagram {
    ft_addr exporter;          /* IP source address of the datagram */
    uint16_t exporter_port;    /* UDP source port, host order */
    uint64_t time_received_ns; /* ns since the Unix epoch: arrival or capture time */
    const uint8_t *data;       /* UDP payload; not owned, never written */
    size_t len;                /* payload length in bytes */
} ft_datagram;

/* A configured rate for exporters in a prefix (--sampling-rate CIDR=N). */
typedef struct ft_sampling_override {
    ft_cidr prefix;
    uint64_t rate; /* 1 in N, >= 1 */
} ft_sampling_override;

typedef struct ft_decoder_opts {
    uint32_t template_timeout_s;         /* templates not refreshed for this long expire; default 1800 */
    uint32_t max_exporters;              /* exporters tracked per worker; default 4096 */
    uint32_t max_interfaces;             /* sFlow interfaces kept in all, per worker; default 65536 */
    uint32_t max_templates_per_exporter; /* default 2048 */
    uint32_t max_template_bytes;         /* compiled templates in all, per worker; default 64 MiB */
    uint32_t pending_max_sets;           /* data sets held per exporter before their template; default 64 */
    uint32_t pending_max_bytes;          /* bytes held per exporter; default 262144 */
    uint32_t pending_max_age_s;          /* a held set older than this is dropped; default 60 */
    const ft_sampling_override *overrides; /* not owned; must outlive the decoder */
    size_t n_overrides;
} ft_decoder_opts;

/* Fills o with the defaults above. */
void ft_decoder_opts_default(ft_decoder_opts *o);

typedef struct ft_decoder ft_decoder;

/* A decoder with options o (copied; NULL for defaults). NULL on ENOMEM.
 * The name ("netflow.0") prefixes its log lines. */
ft_decoder *ft_decoder_new(const ft_decoder_opts *o, const char *name);

/* Replaces the --sampling-rate overrides (v: n entries, not owned, must
 * outlive the decoder or the next call) and applies them at once to every
 * exporter already known, so the records decoded after the call use the
 * new rates (or, with no matching prefix, the rate the exporter sends).
 * Owner thread only (SIGHUP reload: between two receive batches). Cost
 * O(exporters x n). */
void ft_decoder_set_overrides(ft_decoder *d, const ft_sampling_override *v, size_t n);

/* Frees everything the decoder holds. NULL is a no-op. Held data sets are
 * discarded silently: call ft_decoder_finish() first to count them. */
void ft_decoder_free(ft_decoder *d);

/*
 * Decodes one datagram, calling sink->emit once per flow record, in wire
 * order (records held for a missing template are emitted when it arrives,
 * possibly during a later call). Returns FT_OK or the first fault met; every
 * fault is also counted on the exporter (ft_exporter_stats.errors) and
 * logged at a limited rate. A faulty datagram may still emit the records
 * that precede the fault. Never reads outside dg->data[0..len).
 */
ft_err ft_decoder_decode(ft_decoder *d, const ft_datagram *dg, const ft_flow_sink *sink);

/* Expires templates not refreshed within the timeout and held data sets
 * older than their bound, as of now_ns (ns since the Unix epoch: wall clock
 * live, capture time in --pcap mode). Call about once a second. */
void ft_decoder_expire(ft_decoder *d, uint64_t now_ns);

/* End of input: drops every held data set, counting each as pending_expired. */
void ft_decoder_finish(ft_decoder *d);

/* Calls cb once per exporter seen in this run (not one only loaded by
 * ft_decoder_import) with a snapshot of its counters. Call from the
 * owner thread, or from another thread while the owner is stopped. */
void ft_decoder_foreach_exporter(ft_decoder *d, void (*cb)(void *arg, const ft_exporter_stats *s),
                                 void *arg);

/* Calls cb once per sFlow interface with its latest counters (sFlow v5
 * counter samples). Same threading rule as ft_decoder_foreach_exporter. */
void ft_decoder_foreach_interface(ft_decoder *d, void (*cb)(void *arg, const ft_if_counters *c),
                                  void *arg);

/* Time taken by each ft_decoder_decode call (the records' trip through the
 * sink included: the outputs run inline), added into s; buckets
 * ft_histo_decode_le_ns. Any thread (relaxed reads). */
void ft_decoder_decode_time(const ft_decoder *d, ft_histo_snap *s);

/*
 * Counters for readers on other threads (HTTP /metrics, /api/v1/exporters)
 * while the owner keeps decoding: the owner calls ft_decoder_publish about
 * once a second and when it stops; it copies every exporter's snapshot (as
 * ft_decoder_foreach_exporter gives them) and every sFlow interface's
 * counters, outside any lock, then swaps the copies in under a mutex taken
 * only by publishers and readers, never per record. Cost O(exporters +
 * interfaces) per call; on ENOMEM the previous copy stays.
 */
void ft_decoder_publish(ft_decoder *d);

/* Any thread: calls xcb per exporter and icb per interface (either may be
 * NULL) on the latest published copy, holding the decoder's publish mutex:
 * the callbacks must be quick and must not call into d. Nothing before the
 * first ft_decoder_publish. */
void ft_decoder_read_published(ft_decoder *d, void (*xcb)(void *arg, const ft_exporter_stats *s),
                               void (*icb)(void *arg, const ft_if_counters *c), void *arg);

/*
 * Decode state across restarts: what the decoder learnt from each exporter
 * and a restarted collector would otherwise wait minutes for (NetFlow v9
 * and IPFIX templates and options templates, RFC 3954 §5.2 / RFC 7011 §8:
 * exporters resend them only periodically; sampling rates learnt from
 * options data; IPFIX systemInitTimeMilliseconds). One opaque blob per
 * exporter, versioned, big-endian:
 *   "FTS1"
 *   u16 domains,   each: u8 version, u32 domain id, u64 rate, u64 keyed rate, u64 system_init_ms
 *   u16 samplers,  each: u8 version, u32 domain id, u64 sampler id, u64 rate
 *   u16 templates, each: u8 version (9/10), u32 domain id, u16 template id, u8 options,
 *                        u16 scope field count, u64 refreshed_ns, u16 field count,
 *                        fields x {u16 element id, u16 length, u32 enterprise number}
 * Sequence tracking is not saved: the first datagram after a restart starts
 * it afresh (no loss counted for the downtime).
 */
#define FT_DECODER_STATE_MAGIC "FTS1"

/* Calls cb once per exporter seen in this run that has state to keep (an
 * exporter only loaded by ft_decoder_import is skipped: the state it came
 * from is still where it was loaded from), with its blob (valid only during
 * the call). Same threading rule as ft_decoder_foreach_exporter.
 * Returns the number of exporters passed to cb. */
size_t ft_decoder_export(ft_decoder *d, void (*cb)(void *arg, const ft_addr *exporter, const uint8_t *state,
                                                   size_t len),
                         void *arg);

/*
 * Loads one exporter's blob (from ft_decoder_export, possibly of an earlier
 * run) into d, as if its templates had arrived at their saved refresh time
 * (never later than now_ns): templates older than the template timeout are
 * skipped; the exporter and template caps apply. The blob is read with the
 * bounds-checked reader: a corrupt one loads what precedes the damage.
 * Returns the number of templates installed, or -1 when the blob is not a
 * state blob (bad magic, truncated, impossible values), after installing
 * what preceded the fault. Call before the decoder's thread starts.
 */
int ft_decoder_import(ft_decoder *d, const ft_addr *exporter, const uint8_t *state, size_t len, uint64_t now_ns);

#endif
