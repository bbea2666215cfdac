/*
 * flow_json.h - flow records and exporter counters as JSON lines.
 *
 * --print writes one JSON object per flow record per line on stdout; its
 * keys are exactly the ft_flow field names, in flow.h order, every key always
 * present (the project notes' "--print JSON" contract):
 *   addresses  text ("192.0.2.1", "2001:db8::1", "" when absent);
 *   MACs       "aa:bb:cc:dd:ee:ff";
 *   booleans   true / false;
 *   as_path    an array of integers;
 *   countries  "" when unknown;
 *   the rest   unsigned integers (times in ns since the Unix epoch); jansson
 *              integers are signed 64-bit, so a uint64 above 2^63 - 1 (only a
 *              hostile or broken exporter sends one) prints as 2^63 - 1.
 * --stats writes one {"kind":"exporter_stats",...} object per exporter.
 *
 * Built with jansson (a JSON object per line, serialised into the caller's
 * buffer with json_dumpb). --print is the debugging and piping output; the
 * per-record allocations jansson makes stay off the Kafka and rollup paths.
 *
 * Threads: each worker owns one ft_json_sink (its line buffer); the sinks
 * of all workers share one ft_json_out, whose lock makes each flush one
 * uninterrupted write, so lines from different workers never interleave.
 */
#ifndef FT_FLOW_JSON_H
#define FT_FLOW_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/counters.h"
#include "flow/flow.h"

/* An upper bound of one formatted record line, newline included. */
#define FT_FLOW_JSON_MAX 6144

/* Formats f as one JSON object followed by '\n' into buf[0..cap), NUL
 * terminated when it fits. Returns the line length (without the NUL); when
 * that is >= cap the output was cut (like snprintf). */
size_t ft_flow_json(const ft_flow *f, char *buf, size_t cap);

/* Formats one exporter's counters as the --stats line (with '\n'), same
 * return convention. `protocols` lists the FT_PROTO_* bits seen, counters
 * every FT_CTR_MAP name, errors every FT_ERR_MAP name. */
size_t ft_exporter_stats_json(const ft_exporter_stats *s, char *buf, size_t cap);

/* ---- the record's fields by --print name ------------------------------- */

/* How a field is stored in ft_flow. */
typedef enum ft_field_kind {
    FT_FIELD_TYPE,    /* ft_flow_type */
    FT_FIELD_U32,
    FT_FIELD_U64,
    FT_FIELD_BOOL,
    FT_FIELD_ADDR,    /* ft_addr */
    FT_FIELD_MAC,     /* uint64, low 48 bits */
    FT_FIELD_ASPATH,  /* as_path[as_path_len] */
    FT_FIELD_COUNTRY, /* char[3] */
} ft_field_kind;

typedef struct ft_flow_field {
    const char *name; /* the --print JSON key = the ft_flow member name */
    ft_field_kind kind;
    size_t off;       /* offsetof(ft_flow, member) */
} ft_flow_field;

/* The field named `name` (a --print key, e.g. "src_addr"), or NULL. For
 * options that name fields (--kafka-key). */
const ft_flow_field *ft_flow_field_find(const char *name);

/* ---- the shared output ------------------------------------------------- */

typedef struct ft_json_out ft_json_out;

/* An output writing to fp (not owned; must outlive it). NULL on ENOMEM. */
ft_json_out *ft_json_out_new(FILE *fp);
/* NULL is a no-op. Does not close fp. */
void ft_json_out_free(ft_json_out *o);
/* Lines written, and lines lost to write errors (EPIPE, disk full), so far. */
uint64_t ft_json_out_lines(const ft_json_out *o);
uint64_t ft_json_out_dropped(const ft_json_out *o);

/* ---- one worker's buffer -------------------------------------------------- */

typedef struct ft_json_sink ft_json_sink;

/* A per-worker buffer in front of o (not owned; must outlive the sink).
 * NULL on ENOMEM. */
ft_json_sink *ft_json_sink_new(ft_json_out *o);

/* Formats one record into buf[0..cap) and returns its length; a return
 * >= cap means it did not fit (ft_flow_json's convention). At most
 * FT_FLOW_JSON_MAX bytes per record. */
typedef size_t (*ft_record_fmt)(void *ctx, const ft_flow *f, char *buf, size_t cap);

/* The same sink with another record format (--print-format pb: flow_pb.h
 * ft_flow_pb_format with the worker's encoder as ctx, not owned). */
ft_json_sink *ft_json_sink_new_fmt(ft_json_out *o, ft_record_fmt fmt, void *ctx);
/* Flushes, then frees. NULL is a no-op. */
void ft_json_sink_free(ft_json_sink *s);
/* The decoder-facing sink: emit() appends the record's line to the buffer,
 * flushing first when it might not fit. Call from the owning thread only. */
ft_flow_sink ft_json_sink_flow_sink(ft_json_sink *s);
/* Writes the buffered lines to the output under its lock (one write per
 * flush) and flushes the FILE. Called at the end of each receive batch, so
 * lines appear promptly. A write error counts the lost lines and logs at a
 * limited rate. */
void ft_json_sink_flush(ft_json_sink *s);

/* ---- --stats: exporter snapshots summed across workers ------------------- */

/* Snapshots from every decoder; the same exporter seen by several workers
 * (several listeners, or a kernel-hash fallback) is summed into one entry. */
typedef struct ft_stats_set {
    ft_exporter_stats *v; /* owned */
    size_t n, cap;
} ft_stats_set;

/* Callback for ft_decoder_foreach_exporter(d, ft_stats_set_collect, set):
 * copies one snapshot in. Aborts on ENOMEM (exit-time only). */
void ft_stats_set_collect(void *set, const ft_exporter_stats *s);
/* Sorts by address and sums entries of the same exporter
 * (ft_exporter_stats_add). */
void ft_stats_set_merge(ft_stats_set *set);
/* Writes one --stats line per exporter to out. */
void ft_stats_set_print(const ft_stats_set *set, FILE *out);
void ft_stats_set_free(ft_stats_set *set);

#endif
