/*
 * sqlite_reader.h - a read-only connection to the rollups database, for
 * the HTTP API's queries (query.h), beside the writer of sqlite_store.h.
 *
 * The database is in WAL mode (sqlite_store.h): a reader never blocks the
 * window stage's flushes and is never blocked by them. A read transaction
 * (ft_store_reader_begin) sees the database as of its start, however long
 * its queries take, which lets query.c pin that moment while no flush is
 * running (window.h ft_windows_read_open).
 *
 * Queries go through the view `rollups` (sql/schema.sql: the stable
 * interface), as prepared statements with bound parameters only; each one
 * reads one range of the rollup table's primary key (dim, window_start).
 *
 * Threads: one reader per thread at a time (query.c keeps a pool); the
 * connection is opened without SQLite's own mutex.
 */
#ifndef FT_SQLITE_READER_H
#define FT_SQLITE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "window/rollup.h"

typedef struct ft_store_reader ft_store_reader;

/* Opens path read-only (the writer must have created it: ft_store_open
 * first). NULL with a message in err naming the file. */
ft_store_reader *ft_store_reader_open(const char *path, char *err, size_t err_len);
void ft_store_reader_close(ft_store_reader *r); /* NULL is a no-op */

/* Starts a read transaction and reads once, so that the snapshot is fixed
 * now (SQLite starts it at the first read, not at BEGIN). 0 or -1. */
int ft_store_reader_begin(ft_store_reader *r);
/* Ends it (also after a failed query). */
void ft_store_reader_end(ft_store_reader *r);

/* One row of the view. Strings valid only during the callback. */
typedef struct ft_store_row {
    uint64_t window_start;  /* s */
    const char *key;        /* rollup.h key text */
    const char *exporter;   /* "" unless --rollup-by-exporter */
    uint64_t bytes, packets, flows;
} ft_store_row;

/* Filters of ft_store_reader_rows; NULL = no filter. */
typedef struct ft_store_filter {
    const char *exporter;   /* exporter column equals this text */
    const char *key;        /* key equals this text */
    const char *key_prefix; /* key starts with this text ("192.0.2.1:" for in_if/out_if) */
} ft_store_filter;

/* Calls cb for every row of dimension dim with window_start in [from_s,
 * to_s) passing f, in primary-key order. Inside a read transaction.
 * Returns the number of rows, or -1 (SQLite error, logged at a limited
 * rate; *why set to its text when why is not NULL). */
long ft_store_reader_rows(ft_store_reader *r, ft_dim dim, uint64_t from_s, uint64_t to_s, const ft_store_filter *f,
                          void (*cb)(void *ctx, const ft_store_row *row), void *ctx, const char **why);

/* Readiness: a tiny read of the dimensions table. 0, or -1 with *why. */
int ft_store_reader_check(ft_store_reader *r, const char **why);

#endif
