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
 * past the timeout) is kept in memory and retried before the next one, up
 * to FT_STORE_RETRY_ROWS rows; beyond that the oldest is dropped, counted
 * and logged. Retention (--retention) deletes windows older than the
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

#define FT_STORE_RETRY_ROWS 2000000 /* rows of failed flushes kept for retry (~150 MB) */

/* The schema version this binary writes (its last migration). */
int ft_store_schema_version(void);

typedef struct ft_store_opts {
    const char *path;     /* database file, created when missing */
    uint32_t retention_s; /* delete windows older than this; 0 = keep */
} ft_store_opts;

typedef struct ft_store ft_store;

/* Opens (creating) the database, applies the missing migrations, checks
 * the dimensions table against rollup.h. NULL with a message in err naming
 * the file (cannot open, not a database, newer schema, read-only...). */
ft_store *ft_store_open(const ft_store_opts *o, char *err, size_t err_len);

/* Retries the pending flushes once, then closes. NULL is a no-op. */
void ft_store_close(ft_store *s);

/* The rollup sink writing to s (window.h). */
ft_rollup_sink ft_store_sink(ft_store *s);

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
    X(dropped_rows, "rows of failed batches dropped: the retry backlog was full")   \
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
