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

#include <stdint.h>

#include "flow/flow.h"

struct ft_decoder;

typedef struct ft_worker_out {
    ft_flow_sink sink;         /* the decoder emits each record here */
    void (*flush)(void *ctx);  /* end of a receive batch, and once before the worker
                                  stops: push buffered records on; ctx = sink.ctx.
                                  NULL when nothing is buffered. */
    void (*tick)(void *ctx, struct ft_decoder *d, uint64_t now_ns);
                               /* live workers, about once a second after template
                                  expiry, on the worker's thread: a chance to read
                                  its decoder (now_ns: wall clock). NULL: none. */
} ft_worker_out;

static inline void ft_worker_out_flush(const ft_worker_out *o)
{
    if (o->flush)
        o->flush(o->sink.ctx);
}

#endif
