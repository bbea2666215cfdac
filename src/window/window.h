/*
 * window.h - tumbling event-time windows over flow records, closed with an
 * allowed lateness, merged across workers and flushed to rollup sinks.
 *
 * Time:
 *   - windows are [k x W, (k + 1) x W) in ns since the Unix epoch, W = --window;
 *   - a record's event time is its flow end (time_flow_end_ns), clamped to
 *     [received - 1 h, received + 1 min] (each clamp counted), or its
 *     arrival time with --event-time received;
 *   - the clock is the wall clock live (a thread ticks every second), or in
 *     --pcap mode the latest capture time seen (advanced by ft_window_add
 *     itself), so a replayed day closes its windows as the live day did;
 *   - a window closes once the clock passes its end + L (L = --lateness):
 *     its rows are merged across workers and flushed, once;
 *   - a record whose window has closed is not dropped: it is counted late and
 *     goes into a correction, flushed within a second (live) as an increment
 *     to that window (ft_rollup_batch.is_correction).
 *
 * Values: each record adds bytes x r, packets x r and one flow to one key of
 * every dimension (rollup.h), r = its sampling_rate; a rate of 0 or above
 * 2^24 is counted (bad_sampling) and used as 1. Products above
 * FT_RECORD_BYTES_MAX / FT_RECORD_PACKETS_MAX are capped there (counted).
 *
 * Threads and locks: each receive worker owns an ft_window_worker with its
 * own tables (one per open window and dimension, one per dimension for late
 * records); nothing is shared per record. A worker takes its own mutex at
 * the first record of a receive batch and releases it at ft_window_batch_end:
 * one uncontended lock per batch, taken by the flushing thread only to
 * detach the tables of a window that closed. The boundary between open and
 * closed windows is an atomic read under that mutex, so a record is either
 * in the window's flush or in a later correction, never both or neither.
 *
 * Memory: per worker, at most --max-keys ordinary keys per (window,
 * dimension) table plus the late tables (agg_table.h); about
 * (open windows + 1) x 10 dimensions x max_keys x 100 B per worker at worst.
 */
#ifndef FT_WINDOW_H
#define FT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "window/rollup.h"

#define FT_EVENT_CLAMP_PAST_NS (3600ull * 1000000000ull) /* event time >= received - 1 h */
#define FT_EVENT_CLAMP_FUTURE_NS (60ull * 1000000000ull) /* event time <= received + 1 min */
#define FT_SAMPLING_RATE_MAX (1ull << 24)                /* larger rates are absurd: used as 1 */
/* A record's bytes x rate and packets x rate are capped here (counted):
 * 1 PiB or 2^40 packets in one flow record is no real traffic (100 Gbit/s
 * for a day is 2^50 bytes / 8 ... 2^47), only a broken or hostile exporter;
 * the cap keeps a window's sums far from the 2^63 - 1 of SQLite integers. */
#define FT_RECORD_BYTES_MAX (1ull << 50)
#define FT_RECORD_PACKETS_MAX (1ull << 40)

typedef struct ft_window_opts {
    uint32_t window_s;         /* window length, s, >= 1 */
    uint32_t lateness_s;       /* allowed lateness, s */
    bool event_time_received;  /* --event-time received */
    bool by_exporter;          /* --rollup-by-exporter */
    uint32_t max_keys;         /* per table (agg_table.h), >= 16 */
    uint32_t workers;          /* ft_window_worker handles, >= 1 */
    bool capture_clock;        /* --pcap: the clock is the latest time received seen */
} ft_window_opts;

/* Counters (X-macro: name, help). Per-worker ones are summed on read. */
#define FT_WIN_CTR_MAP(X)                                                                                   \
    X(records, "flow records added to windows")                                                           \
    X(late_records, "records whose window had already closed: flushed as corrections")                    \
    X(clamped_past, "records whose flow end was more than 1 h before arrival (event time moved up)")     \
    X(clamped_future, "records whose flow end was more than 1 min after arrival (event time moved back)") \
    X(bad_sampling, "records with a sampling rate of 0 or above 2^24, counted with rate 1")               \
    X(absurd_counters, "records whose bytes x rate > 2^50 or packets x rate > 2^40, counted at that cap")     \
    X(dropped, "records lost for want of memory for a window table")                                      \
    X(folded_keys, "keys folded into an 'other' row once a table was full (merged tables)")              \
    X(windows_flushed, "windows closed and flushed")                                                      \
    X(corrections_flushed, "late-correction batches flushed")                                             \
    X(partial_flushes, "windows flushed while still open (shutdown)")                                     \
    X(rows_flushed, "rollup rows handed to the sinks")                                                    \
    X(sink_errors, "batches a sink failed to take")                                                       \
    X(flush_ns_total, "time spent merging and flushing, ns")                                              \
    X(flush_ns_max, "longest single flush (merge + every sink), ns")

typedef enum ft_win_ctr {
#define FT_WIN_CTR_ENUM(name, help) FT_WIN_CTR_##name,
    FT_WIN_CTR_MAP(FT_WIN_CTR_ENUM)
#undef FT_WIN_CTR_ENUM
        FT_WIN_CTR_COUNT
} ft_win_ctr;

const char *ft_win_ctr_name(ft_win_ctr c);

typedef struct ft_windows ft_windows;
typedef struct ft_window_worker ft_window_worker;

/* The stage, with n_sinks sinks (copied; their ctx must outlive it).
 * NULL on ENOMEM. */
ft_windows *ft_windows_new(const ft_window_opts *o, const ft_rollup_sink *sinks, size_t n_sinks);

/* Worker i's handle (0 <= i < workers), owned by the stage. */
ft_window_worker *ft_windows_worker(ft_windows *w, uint32_t i);

/* Hot path, on worker i's thread: adds one record. Takes the worker's mutex
 * if this batch does not hold it yet. */
void ft_window_add(ft_window_worker *ww, const ft_flow *f);

/* End of a receive batch (and before the worker stops): releases the
 * worker's mutex. Cheap when no record was added. */
void ft_window_batch_end(ft_window_worker *ww);

/*
 * Advances the clock to now_ns (it never goes back), closes and flushes
 * every window whose end + lateness it passed, and flushes pending late
 * corrections. Call from one thread at a time, holding no worker mutex
 * (the live clock thread; in --pcap mode ft_window_add does it).
 */
void ft_windows_advance(ft_windows *w, uint64_t now_ns);

/* Calls cb(ctx, clock_ns) on the advancing thread after every
 * ft_windows_advance (live: about once a second), for housekeeping that
 * must run on the same thread as the sinks. Set before the clock starts. */
void ft_windows_on_tick(ft_windows *w, void (*cb)(void *ctx, uint64_t clock_ns), void *ctx);

/* Live mode: starts the clock thread (wall clock, one advance per second).
 * Returns 0, or -1 with errno. */
int ft_windows_start_clock(ft_windows *w);

/*
 * Shutdown (end of --pcap, SIGTERM/SIGINT): stops the clock thread, closes
 * what the clock passed as of now_ns (live: the wall clock; --pcap: 0, the
 * last capture time stands), then flushes every window still open as
 * partial and every pending correction. The workers must have stopped
 * (their last ft_window_batch_end done). Idempotent.
 */
void ft_windows_finish(ft_windows *w, uint64_t now_ns);

/* Frees everything (finish first, or open windows are lost). NULL is a no-op. */
void ft_windows_free(ft_windows *w);

/* Sums every counter into out[FT_WIN_CTR_COUNT]. Any thread. */
void ft_windows_counters(ft_windows *w, uint64_t *out);

/*
 * Any thread (the HTTP API): the rows of dimension dim not flushed yet, in
 * the windows still open and in the late corrections waiting for their
 * flush, of every worker, whose window start (s since the epoch) is in
 * [from_s, to_s). Per worker and window, as the workers hold them (a key
 * seen by two workers comes twice; 'other' rows included): the caller sums.
 *
 * Consistency with the sinks: under the stage's flush mutex (no window is
 * on its way from the workers to the sinks meanwhile) it calls pin(ctx)
 * (may be NULL), then copies the rows. A sink reader that fixes its view
 * in pin() (SQLite: opens its read transaction) sees every flush before,
 * and the rows copied here are every record added since and not flushed:
 * each record counted exactly once. Partial flushes are no exception: they
 * take the rows out of memory as they write them (rollup.h: increments).
 *
 * Cost: each worker's mutex is held while its tables of one dimension are
 * copied (at most (open windows + 1) x max_keys entries of 64 bytes),
 * between two of its receive batches; the flush mutex for all of it.
 * row(ctx, r) is called after every lock is released. Returns 0, or -1 on
 * ENOMEM (row not called) or a bad dim.
 */
int ft_windows_read_open(ft_windows *w, ft_dim dim, uint64_t from_s, uint64_t to_s, void (*pin)(void *ctx),
                         void (*row)(void *ctx, const ft_rollup_row *r), void *ctx);

/* The window length, s. */
uint32_t ft_windows_window_s(const ft_windows *w);

/* The start (ns) of the oldest window still open: every window before it
 * has been flushed. */
uint64_t ft_windows_closed_before(const ft_windows *w);

#endif
