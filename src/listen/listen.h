/*
 * listen.h - what a receive stage (UDP worker, pcap reader) hands its flow
 * records to.
 *
 * Each receive worker owns one decoder and one ft_worker_out; the pipeline
 * builds the outs (pipeline.c: --print today; Kafka, enrichment and windows
 * later) and the listeners call them on the worker's own thread only.
 */
#ifndef FT_LISTEN_H
#define FT_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "flow/flow.h"

struct ft_decoder;
struct ft_allow_list;

typedef struct ft_worker_out {
    ft_flow_sink sink;         /* the decoder emits each record here */
    void (*flush)(void *ctx);  /* end of a receive batch, and once before the worker
                                  stops: push buffered records on; ctx = sink.ctx.
                                  NULL when nothing is buffered. */
    void (*tick)(void *ctx, struct ft_decoder *d, uint64_t now_ns);
                               /* live workers, about once a second after template
                                  expiry, on the worker's thread: a chance to read
                                  its decoder (now_ns: wall clock). NULL: none. */
    void (*refresh)(void *ctx, struct ft_decoder *d, struct ft_allow_list *allow);
                               /* live workers, before every receive batch (and at
                                  least once a second when idle), on the worker's
                                  thread: a chance to apply settings reloaded on
                                  SIGHUP to its decoder and to the allow list it
                                  checks (*allow: the worker's own copy, whose
                                  prefixes the callee keeps alive). Must cost one
                                  atomic load when nothing changed. NULL: none. */
} ft_worker_out;

/* --allow-exporter: the source prefixes a receive stage accepts. n == 0
 * accepts every source. The prefixes are not owned (they live in the
 * config). Checked on the source address of the datagram (UDP: the
 * socket's peer; --pcap: the IP source), before any byte of the payload is
 * read, so a source outside the list never reaches the decoder and never
 * takes an exporter slot (--max-exporters). */
typedef struct ft_allow_list {
    const ft_cidr *v;
    size_t n;
} ft_allow_list;

/* True when a may be decoded: the list is empty or a prefix holds it
 * (IPv4 prefixes match IPv4 sources only; ft_cidr_match). Linear: allow
 * lists are a handful of router networks. */
static inline bool ft_allow_ok(const ft_allow_list *l, const ft_addr *a)
{
    if (!l || l->n == 0)
        return true;
    for (size_t i = 0; i < l->n; i++)
        if (ft_cidr_match(&l->v[i], a))
            return true;
    return false;
}

static inline void ft_worker_out_flush(const ft_worker_out *o)
{
    if (o->flush)
        o->flush(o->sink.ctx);
}

#endif
