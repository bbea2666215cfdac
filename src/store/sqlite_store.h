/*
 * sqlite_store.h - closed windows added to a SQLite database (--db FILE),
 * and the exporters' decode state kept there across restarts.
 *
 * Schema: sql/schema.sql (embedded), applied in order up to its last
 * migration (PRAGMA user_version). Journal: WAL, so readers (the sqlite3
 * shell, the HTTP API) never block the flush and the flush never blocks
 * them; synchronous=NORMAL (a power cut may lose the last flush, never
 * corrupt the file); busy_timeout 5 s for other writers.
 *
 * Each flush is one transaction of prepared UPSERTs that ADD to the rows
 * (rollup.h: corrections and partial flushes are increments), plus the
 * window's bookkeeping row. A flush that fails (disk full, database locked
 * past the timeout) is kept in memory, in order, up to opts.retry_rows rows
 * (--db-retry-rows); beyond that the oldest batches are dropped, counted
 * (dropped_batches, dropped_rows, dropped_flows) and logged. The backlog is
 * retried, oldest first, by the next flush or by ft_store_tick (live: every
 * second), but not before a backoff after the last failure (1 s doubling
 * to FT_STORE_RETRY_BACKOFF_MAX_S): a locked database costs the flushing
 * thread a busy timeout per attempt, a full disk a failed write, and
 * neither should be hammered. While a backlog waits, new batches queue
 * behind it (the windows table's states stay in time order). Retention (--retention) deletes windows older than the
 * retention before the newest closed window, at most one (dimension,
 * window) per statement and a few statements per flush, each in its own
 * transaction, so a large backlog never holds the write lock for long.
 *
 * Threads: one connection; calls must not overlap (the window stage's
 * flushing thread calls the sink; start-up and shutdown call the rest
 * while it is stopped).
 */
#ifndef FT_SQLITE_STORE_H
#define FT_SQLITE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/histo.h"
#include "window/rollup.h"

#define FT_STORE_RETRY_ROWS 2000000    /* default bound of the retry backlog, rows (~150 MB) */
#define FT_STORE_RETRY_BACKOFF_MAX_S 8 /* longest wait between two retries of the backlog */

/* The schema version this binary writes (its last migration). */
int ft_store_schema_version(void);

typedef struct ft_store_opts {
    const char *path;     /* database file, created when missing */
    uint32_t retention_s; /* delete windows older than this; 0 = keep */
    uint32_t retry_rows;  /* bound of the retry backlog, rows; 0 = FT_STORE_RETRY_ROWS */
} ft_store_opts;

typedef struct ft_store ft_store;

/* Opens (creating) the database, applies the missing migrations, checks
 * the dimensions table against rollup.h. NULL with a message in err naming
 * the file (cannot open, not a database, newer schema, read-only...). */
ft_store *ft_store_open(const ft_store_opts *o, char *err, size_t err_len);

/* Shutdown, after the last flush: retries the kept flushes once (whatever
 * the backoff); what still fails is counted dropped and freed, so the
 * counters read afterwards (--stats) are final. NULL is a no-op. */
void ft_store_finish(ft_store *s);

/* ft_store_finish, then closes. NULL is a no-op. */
void ft_store_close(ft_store *s);

/* The rollup sink writing to s (window.h). Its flush returns 0 when the
 * batch is in the file, -1 when it was kept for retry (or dropped: the
 * counters say which). */
ft_rollup_sink ft_store_sink(ft_store *s);

/* Housekeeping on the flushing thread (live: the window clock's tick, about
 * once a second): retries the backlog of failed flushes when its backoff
 * has passed, so retained windows land as soon as the database is writable
 * again even when no new window closes. */
void ft_store_tick(ft_store *s);

/* The retry backlog now: batches and rows kept in memory. Any thread. */
void ft_store_pending(const ft_store *s, uint64_t *batches, uint64_t *rows);

/* Saves one exporter's decode state (replacing the previous one).
 * Returns 0 or -1 (logged). */
int ft_store_save_state(ft_store *s, const ft_addr *exporter, const uint8_t *state, size_t len);

/* Calls cb for every saved exporter state. Returns the count, or -1. */
int ft_store_load_states(ft_store *s,
                         void (*cb)(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len,
                                    uint64_t saved_s),
                         void *arg);

/* Counters (X-macro: name, help). */
#define FT_STORE_CTR_MAP(X)                                                          \
    X(flushes, "batches written (one transaction each)")                            \
    X(rows, "rows added")                                                           \
    X(failed, "flush attempts that failed (kept for retry)")                        \
    X(retried, "failed batches written on a later attempt")                         \
    X(dropped_batches, "failed batches dropped: the retry backlog was full, or exit") \
    X(dropped_rows, "rows of those batches")                                        \
    X(dropped_flows, "flow records those batches summed (lost from the database)")  \
    X(deleted_rows, "rows deleted by --retention")                                  \
    X(flush_ns_total, "time in flush transactions, ns")                            \
    X(flush_ns_max, "longest flush transaction, ns")

typedef enum ft_store_ctr {
#define FT_STORE_CTR_ENUM(name, help) FT_STORE_CTR_##name,
    FT_STORE_CTR_MAP(FT_STORE_CTR_ENUM)
#undef FT_STORE_CTR_ENUM
        FT_STORE_CTR_COUNT
} ft_store_ctr;

const char *ft_store_ctr_name(ft_store_ctr c);
/* Copies the counters into out[FT_STORE_CTR_COUNT]. Any thread. */
void ft_store_counters(const ft_store *s, uint64_t *out);
/* Adds the duration of every flush transaction (buckets ft_histo_flush_le_ns)
 * into out. Any thread. */
void ft_store_flush_time(const ft_store *s, ft_histo_snap *out);
/* False when the last write (a flush or a state save) failed: the file is
 * not writable right now (disk full, read-only, locked). Any thread. */
bool ft_store_write_ok(const ft_store *s);
/* The database file, as given. Lives as long as s. */
const char *ft_store_path(const ft_store *s);

#endif
