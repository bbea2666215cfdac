/*
 * query.h - the read side of the rollups: top keys and time series of one
 * dimension over a time range, summed from SQLite (closed and partially
 * flushed windows) PLUS the windows still open in memory, so the last
 * minutes show before they are flushed. Used by the HTTP API (http/api.c).
 *
 *   HTTP thread ──> ft_query_top / ft_query_series
 *                     │ 1. under the window stage's flush mutex:
 *                     │    SQLite read transaction opened (pinned), open windows copied
 *                     │    (window.h ft_windows_read_open: every record exactly once)
 *                     │ 2. no lock: the rows of the range read through the pinned
 *                     │    snapshot (sqlite_reader.h), added to the copied ones per key
 *                     └ 3. sorted, cut, returned
 *
 * A window flushed as partial (a shutdown) and open again after a restart
 * is counted once: its flushed rows are in SQLite, what came after the
 * restart is in memory, and flushes add (rollup.h). Rows of a flush that
 * failed and waits for its retry (sqlite_store.h) are in neither: they show
 * once the retry succeeds.
 *
 * Values: bytes and packets already multiplied by the sampling rate
 * (window.h); sums saturate at 2^64 - 1 (never reached by real traffic: a
 * window's row is at most 2^63 - 1). A range is the windows whose START is
 * in [from_s, to_s): a window is never split.
 *
 * Threads: any number of callers at once; each takes one read-only SQLite
 * connection from a pool (opened on demand, at most `readers` kept).
 */
#ifndef FT_QUERY_H
#define FT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "window/rollup.h"
#include "window/window.h"

typedef enum ft_metric { FT_METRIC_BYTES = 0, FT_METRIC_PACKETS, FT_METRIC_FLOWS, FT_METRIC_COUNT } ft_metric;

/* "bytes", "packets", "flows". */
const char *ft_metric_name(ft_metric m);
/* The metric called name, or -1. */
int ft_metric_parse(const char *name);

typedef struct ft_query_opts {
    ft_windows *windows;  /* open windows (not owned), or NULL */
    const char *db_path;  /* the rollups database (copied), or NULL */
    bool by_exporter;     /* --rollup-by-exporter: every row carries its exporter */
    uint32_t window_s;    /* --window */
    uint32_t readers;     /* idle SQLite connections kept at most (>= 1) */
} ft_query_opts;

typedef struct ft_query ft_query;

/* NULL on ENOMEM (nothing is opened yet: connections open on demand). */
ft_query *ft_query_new(const ft_query_opts *o);
void ft_query_free(ft_query *q); /* NULL is a no-op; no query may be running */

/* Results (HTTP status in the comment). */
#define FT_QUERY_OK 0
#define FT_QUERY_BAD (-1)  /* a request that cannot be answered: err says why (400) */
#define FT_QUERY_FAIL (-2) /* SQLite or memory failed (500) */
#define FT_QUERY_OFF (-3)  /* no rollups at all: --db off (503) */

typedef struct ft_query_req {
    ft_dim dim;
    uint64_t from_s, to_s;   /* window starts in [from_s, to_s), s since the epoch; from_s < to_s */
    ft_metric metric;        /* what rows are sorted by (top) or series hold */
    const ft_addr *exporter; /* only rows of this exporter (needs --rollup-by-exporter, or in_if/out_if), or NULL */
    uint32_t limit;          /* top: rows returned; series without key: keys (the top ones) */
    const char *key;         /* series: this key only (rollup.h text), or NULL */
    uint32_t step_s;         /* series: bucket length, a multiple of window_s; from_s is a multiple of it */
} ft_query_req;

typedef struct ft_query_row {
    char key[FT_RKEY_TEXT_MAX];
    uint64_t v[FT_METRIC_COUNT]; /* bytes, packets, flows */
} ft_query_row;

typedef struct ft_top_result {
    uint64_t total[FT_METRIC_COUNT]; /* every key of the range, not only the rows */
    ft_query_row *rows;              /* owned; metric descending, then key ascending (strcmp) */
    size_t n;                        /* <= limit */
    size_t n_keys;                   /* distinct keys in the range */
    uint64_t open_rows, stored_rows; /* rows read from memory / from SQLite */
} ft_top_result;

/* The top req->limit keys. Returns FT_QUERY_OK with *out filled (free it
 * with ft_query_top_free), or an error above with a message in err. */
int ft_query_top(ft_query *q, const ft_query_req *req, ft_top_result *out, char *err, size_t err_len);
void ft_query_top_free(ft_top_result *t);

#define FT_QUERY_MAX_BUCKETS 10000 /* buckets of one series */
#define FT_QUERY_MAX_SERIES 100    /* keys of a top-N series */

typedef struct ft_series_result {
    uint64_t start_s, step_s; /* bucket i starts at start_s + i x step_s */
    size_t n_times;           /* ceil((to_s - from_s) / step_s) */
    size_t n_keys;            /* 1 with req->key; else up to limit, the top keys, in /top order */
    char (*keys)[FT_RKEY_TEXT_MAX];
    uint64_t *values;         /* n_keys x n_times, row-major: the metric, 0 where nothing */
    uint64_t *total;          /* n_times: every key's sum (the chart's whole) */
} ft_series_result;

/* One key's series (req->key), or the top req->limit keys' (ranked by the
 * metric over the whole range), bucketed by req->step_s and zero-filled.
 * Same results as ft_query_top. Free with ft_query_series_free. */
int ft_query_series(ft_query *q, const ft_query_req *req, ft_series_result *out, char *err, size_t err_len);
void ft_query_series_free(ft_series_result *s);

/* Readiness: the database can be read (0), or -1 with a reason in why
 * (static text). 0 without a database. */
int ft_query_check(ft_query *q, const char **why);

#endif
