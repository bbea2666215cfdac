/*
 * rollup.h - what the window stage produces and hands to its sinks: the
 * dimensions, the key of a rollup row, rows, batches and the sink interface
 * shared by SQLite (store/sqlite_store.h) and Kafka rollups
 * (kafka/rollup_sink.h).
 *
 * Every flow record adds bytes x sampling_rate, packets x sampling_rate and
 * one flow to exactly one row of every dimension, so within one batch each
 * dimension's rows sum to the same totals.
 */
#ifndef FT_ROLLUP_H
#define FT_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

/*
 * X(NAME, name, "what the key is"): the dimensions, named exactly as in the
 * SQLite view and the HTTP API. The order is stable: a dimension's id in
 * SQLite (table dimensions) is its position + 1, so append only.
 * Key fields per dimension (ft_rkey):
 *   src_as, dst_as          a = AS number (0 = none)            text "AS64500"
 *   as_pair                 a = src_as, b = dst_as              text "AS64500-AS64501"
 *   src_port, dst_port      a = IP protocol, b = port           text "6/443"
 *   proto                   a = IP protocol                     text "17"
 *   src_country, dst_country a = ISO 3166 alpha-2 as two bytes  text "NL", "unknown"
 *   in_if, out_if           exporter + a = SNMP ifIndex         text "192.0.2.1:3", "[2001:db8::1]:3"
 * The 'other' row of a dimension (ft_rkey.other) holds what was folded
 * there once the dimension's table was full: text "other".
 */
#define FT_DIM_MAP(X)                                                  \
    X(SRC_AS, src_as, "source AS number")                              \
    X(DST_AS, dst_as, "destination AS number")                         \
    X(AS_PAIR, as_pair, "source and destination AS numbers")           \
    X(SRC_PORT, src_port, "IP protocol and source port")               \
    X(DST_PORT, dst_port, "IP protocol and destination port")          \
    X(PROTO, proto, "IP protocol")                                     \
    X(SRC_COUNTRY, src_country, "source country (ISO 3166 alpha-2)")   \
    X(DST_COUNTRY, dst_country, "destination country")                 \
    X(IN_IF, in_if, "exporter and input interface (SNMP ifIndex)")     \
    X(OUT_IF, out_if, "exporter and output interface (SNMP ifIndex)")

typedef enum ft_dim {
#define FT_DIM_ENUM(NAME, name, help) FT_DIM_##NAME,
    FT_DIM_MAP(FT_DIM_ENUM)
#undef FT_DIM_ENUM
        FT_DIM_COUNT
} ft_dim;

/* "src_as", "dst_port"...; "?" out of range. */
const char *ft_dim_name(ft_dim d);
const char *ft_dim_help(ft_dim d);
/* The dimension called name, or -1. */
int ft_dim_parse(const char *name);

/*
 * A rollup key: 40 bytes compared and hashed as bytes, so every unused
 * byte must be zero (build keys with ft_rkey_of or memset first).
 */
typedef struct ft_rkey {
    uint64_t window_s;       /* window start, s since the Unix epoch */
    uint8_t exporter[16];    /* exporter address (ft_addr.b) for in_if/out_if and --rollup-by-exporter */
    uint32_t a, b;           /* key fields, see FT_DIM_MAP */
    uint8_t exporter_family; /* 0 = no exporter in the key, 4 or 6 */
    uint8_t other;           /* 1 = the 'other' row (a = b = 0) */
    uint8_t pad[6];          /* zero */
} ft_rkey;

_Static_assert(sizeof(ft_rkey) == 40, "ft_rkey is hashed as 40 bytes");

/* The key fields a and b of every dimension of record f at once (see
 * FT_DIM_MAP; 0 where a dimension has no b): the window stage's hot path. */
void ft_rkey_fields(const ft_flow *f, uint32_t a[FT_DIM_COUNT], uint32_t b[FT_DIM_COUNT]);

/* Whether dimension d's key names the exporter (by_exporter: all do). */
static inline bool ft_dim_has_exporter(ft_dim d, bool by_exporter)
{
    return by_exporter || d == FT_DIM_IN_IF || d == FT_DIM_OUT_IF;
}

/* Fills k for dimension d of record f in window window_s. by_exporter puts
 * the exporter (f->sampler_address) in every dimension's key. */
void ft_rkey_of(ft_rkey *k, ft_dim d, const ft_flow *f, uint64_t window_s, bool by_exporter);

/* Longest text of a key or an exporter, NUL included. */
#define FT_RKEY_TEXT_MAX 80

/* The readable key ("AS64500", "6/443", "NL", "192.0.2.1:3", "other")
 * into buf (FT_RKEY_TEXT_MAX bytes); returns buf. */
char *ft_rkey_text(ft_dim d, const ft_rkey *k, char *buf);
/* The exporter column: the address text with --rollup-by-exporter, else "". */
char *ft_rkey_exporter_text(const ft_rkey *k, bool by_exporter, char *buf);

/* One row of a flushed window. */
typedef struct ft_rollup_row {
    ft_dim dim;
    ft_rkey key;
    uint64_t bytes;   /* sum of bytes x sampling_rate */
    uint64_t packets; /* sum of packets x sampling_rate */
    uint64_t flows;   /* flow records */
} ft_rollup_row;

/* What one sink flush receives: the rows of one window. */
typedef struct ft_rollup_batch {
    uint64_t window_start_ns; /* ns since the Unix epoch, a multiple of the window length */
    uint64_t window_end_ns;   /* start + window length */
    bool is_correction;       /* late records of a window already closed: add them to it */
    bool is_partial;          /* shutdown flush of a window still open: more may be added later */
    bool by_exporter;         /* --rollup-by-exporter: the exporter column is filled */
    const ft_rollup_row *rows; /* by dimension, then bytes descending, 'other' last */
    size_t n_rows;
    uint64_t flows;           /* records in the batch: each dimension's rows sum to it */
} ft_rollup_batch;

/*
 * A rollup sink (SQLite, Kafka rollups). flush() runs on the window stage's
 * flushing thread, one batch at a time, never concurrently; the batch and
 * its rows are valid only during the call. A sink adds rows to what it
 * already holds (a correction or a partial flush is an increment, never a
 * replacement). Returns 0, or -1 when the batch could not be delivered
 * (the sink has logged and counted it; the engine counts sink_errors).
 */
typedef struct ft_rollup_sink {
    const char *name; /* for logs: "sqlite", "kafka" */
    int (*flush)(void *ctx, const ft_rollup_batch *b);
    void *ctx;
} ft_rollup_sink;

#endif
