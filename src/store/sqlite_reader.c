/*
 * sqlite_reader.c - read-only queries of the rollups view (sqlite_reader.h).
 * Workload: one range scan per HTTP query, up to millions of rows over a
 * long range; a few per second at most.
 */
#include "store/sqlite_reader.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct ft_store_reader {
    sqlite3 *db;
    sqlite3_stmt *begin, *end, *pin, *rows, *check;
    char *path;
    bool in_txn;
    ft_log_limiter lim;
};

/* ?4..?6 are NULL for "no filter": one statement for every query. The
 * view flattens into the rollup table, so SQLite reads the primary-key
 * range (dim, window_start) and tests the filters per row. */
static const char SQL_ROWS[] =
    "SELECT window_start, key, exporter, bytes, packets, flows FROM rollups "
    "WHERE dimension = ?1 AND window_start >= ?2 AND window_start < ?3 "
    "AND (?4 IS NULL OR exporter = ?4) AND (?5 IS NULL OR key = ?5) "
    "AND (?6 IS NULL OR substr(key, 1, length(?6)) = ?6)";

/* Any read fixes the WAL snapshot; the windows table is small. */
static const char SQL_PIN[] = "SELECT count(*) FROM (SELECT 1 FROM windows LIMIT 1)";
static const char SQL_CHECK[] = "SELECT count(*) FROM dimensions";

ft_store_reader *ft_store_reader_open(const char *path, char *err, size_t err_len)
{
    ft_store_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        snprintf(err, err_len, "out of memory");
        free(r);
        return NULL;
    }
    ft_log_limiter_init(&r->lim, 60);
    int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "--db %s: cannot open for reading: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(r->db, 1);
    /* A WAL reader waits only in rare cases (the writer restarting the
     * log); a few seconds at most, then the query fails with 500. */
    sqlite3_busy_timeout(r->db, 2000);
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } stmts[] = {
        {&r->begin, "BEGIN"}, {&r->end, "COMMIT"}, {&r->pin, SQL_PIN}, {&r->rows, SQL_ROWS}, {&r->check, SQL_CHECK},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        if (sqlite3_prepare_v3(r->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, stmts[i].st, NULL) != SQLITE_OK) {
            snprintf(err, err_len, "--db %s: %s", path, sqlite3_errmsg(r->db));
            goto fail;
        }
    }
    return r;
fail:
    ft_store_reader_close(r);
    return NULL;
}

void ft_store_reader_close(ft_store_reader *r)
{
    if (!r)
        return;
    sqlite3_stmt *all[] = {r->begin, r->end, r->pin, r->rows, r->check};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    if (r->db)
        sqlite3_close(r->db);
    free(r->path);
    free(r);
}

static int step_reset(sqlite3_stmt *st, int want)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == want ? 0 : rc;
}

int ft_store_reader_begin(ft_store_reader *r)
{
    int rc = step_reset(r->begin, SQLITE_DONE);
    if (rc) {
        ft_log_limited(&r->lim, 1, FT_LOG_WARN, "sqlite", "%s: cannot start a read: %s", r->path, sqlite3_errstr(rc));
        return -1;
    }
    r->in_txn = true;
    if ((rc = step_reset(r->pin, SQLITE_ROW)) != 0) {
        ft_log_limited(&r->lim, 2, FT_LOG_WARN, "sqlite", "%s: cannot read: %s", r->path, sqlite3_errstr(rc));
        ft_store_reader_end(r);
        return -1;
    }
    return 0;
}

void ft_store_reader_end(ft_store_reader *r)
{
    if (!r->in_txn)
        return;
    r->in_txn = false;
    if (step_reset(r->end, SQLITE_DONE) != 0)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL); /* a constant statement: nothing to bind */
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

long ft_store_reader_rows(ft_store_reader *r, ft_dim dim, uint64_t from_s, uint64_t to_s, const ft_store_filter *f,
                          void (*cb)(void *ctx, const ft_store_row *row), void *ctx, const char **why)
{
    sqlite3_stmt *st = r->rows;
    sqlite3_bind_text(st, 1, ft_dim_name(dim), -1, SQLITE_STATIC);
    /* Times beyond int64 cannot be stored: clamp (the caller bounds them). */
    sqlite3_bind_int64(st, 2, from_s > INT64_MAX ? INT64_MAX : (int64_t)from_s);
    sqlite3_bind_int64(st, 3, to_s > INT64_MAX ? INT64_MAX : (int64_t)to_s);
    bind_opt(st, 4, f ? f->exporter : NULL);
    bind_opt(st, 5, f ? f->key : NULL);
    bind_opt(st, 6, f ? f->key_prefix : NULL);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ft_store_row row;
        sqlite3_int64 ws = sqlite3_column_int64(st, 0);
        row.window_start = ws > 0 ? (uint64_t)ws : 0;
        row.key = (const char *)sqlite3_column_text(st, 1);
        row.exporter = (const char *)sqlite3_column_text(st, 2);
        if (!row.key)
            row.key = "";
        if (!row.exporter)
            row.exporter = "";
        /* Stored values are never negative (saturating adds at INT64_MAX). */
        sqlite3_int64 v[3] = {sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5)};
        row.bytes = v[0] > 0 ? (uint64_t)v[0] : 0;
        row.packets = v[1] > 0 ? (uint64_t)v[1] : 0;
        row.flows = v[2] > 0 ? (uint64_t)v[2] : 0;
        cb(ctx, &row);
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        ft_log_limited(&r->lim, 3, FT_LOG_WARN, "sqlite", "%s: query failed: %s", r->path, sqlite3_errstr(rc));
        if (why)
            *why = sqlite3_errstr(rc);
        return -1;
    }
    return n;
}

int ft_store_reader_check(ft_store_reader *r, const char **why)
{
    int rc = sqlite3_step(r->check);
    int ok = rc == SQLITE_ROW && sqlite3_column_int(r->check, 0) == FT_DIM_COUNT;
    sqlite3_reset(r->check);
    if (!ok && why)
        *why = rc == SQLITE_ROW ? "the dimensions table is not this flowtally's" : sqlite3_errstr(rc);
    return ok ? 0 : -1;
}
