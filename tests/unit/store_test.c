/*
 * store_test.c - the SQLite store (store/sqlite_store.h): migrations,
 * UPSERTs that add, the rollups view and its readable keys, the windows
 * table, retention in batches, retry of failed flushes, exporter state.
 *
 * Includes the .c to reach the store's connection (h2o t/00unit style):
 * the retry case shortens its busy timeout. Oracles: SQLite itself read
 * back through plain SQL, the readable keys the issue names ("AS64500",
 * "6/443", "NL"), and arithmetic done here.
 */
#include "store/sqlite_store.c"

#include <unistd.h>

#include "test.h"

static char dir[128];

static char *dbpath(const char *name)
{
    static char p[8][256];
    static int i;
    char *x = p[i++ % 8];
    snprintf(x, 256, "%s/%s", dir, name);
    return x;
}

/* One integer (or -1) from a query on a separate connection. */
static long long q1(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -2;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -3 : sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "  query failed: %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static int exec(const char *db, const char *sql)
{
    sqlite3 *h;
    if (sqlite3_open(db, &h) != SQLITE_OK)
        return -1;
    char *e = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &e);
    if (rc)
        fprintf(stderr, "  exec failed: %s\n", e ? e : "?");
    sqlite3_free(e);
    sqlite3_close(h);
    return rc;
}

static ft_store *open_store(const char *path, uint32_t retention_s)
{
    ft_store_opts o = {path, retention_s};
    char err[512];
    ft_store *s = ft_store_open(&o, err, sizeof err);
    if (!s)
        FT_FAIL("open %s: %s", path, err);
    return s;
}

#define W0 1700000100ull /* s, a multiple of 300 */

static ft_rollup_row row(ft_dim d, uint32_t a, uint32_t b, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    ft_rollup_row r;
    memset(&r, 0, sizeof r);
    r.dim = d;
    r.key.window_s = W0;
    r.key.a = a;
    r.key.b = b;
    r.bytes = bytes;
    r.packets = packets;
    r.flows = flows;
    return r;
}

static ft_rollup_batch batch(uint64_t ws, const ft_rollup_row *rows, size_t n, bool corr, bool partial)
{
    ft_rollup_batch b;
    memset(&b, 0, sizeof b);
    b.window_start_ns = ws * 1000000000ull;
    b.window_end_ns = (ws + 300) * 1000000000ull;
    b.is_correction = corr;
    b.is_partial = partial;
    b.rows = rows;
    b.n_rows = n;
    b.flows = n ? rows[0].flows : 0;
    return b;
}

static void t_fresh_and_view(void)
{
    const char *p = dbpath("fresh.db");
    ft_store *s = open_store(p, 0);
    ASSERT_EQ(ft_store_schema_version(), 2);
    ASSERT_EQ(q1(p, "PRAGMA user_version"), 2);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM dimensions"), FT_DIM_COUNT);
    ft_rollup_row rows[] = {
        row(FT_DIM_SRC_AS, 64500, 0, 1000, 10, 3),
        row(FT_DIM_DST_PORT, 6, 443, 1000, 10, 3),
        row(FT_DIM_SRC_COUNTRY, ('N' << 8) | 'L', 0, 1000, 10, 3),
    };
    ft_rollup_sink k = ft_store_sink(s);
    ft_rollup_batch b = batch(W0, rows, 3, false, true);
    ASSERT_EQ(k.flush(k.ctx, &b), 0);
    /* The view: readable keys, window_end = start + length. */
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE dimension = 'src_as' AND key = 'AS64500'"), 1000);
    ASSERT_EQ(q1(p, "SELECT packets FROM rollups WHERE dimension = 'dst_port' AND key = '6/443'"), 10);
    ASSERT_EQ(q1(p, "SELECT flows FROM rollups WHERE dimension = 'src_country' AND key = 'NL'"), 3);
    ASSERT_EQ(q1(p, "SELECT window_end - window_start FROM rollups LIMIT 1"), 300);
    ASSERT_EQ(q1(p, "SELECT min(window_start) FROM rollups"), (long long)W0);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollups WHERE exporter = ''"), 3);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM windows WHERE state = 'partial'"), 1);
    /* A second partial flush (a restart) and then the close: they add. */
    ASSERT_EQ(k.flush(k.ctx, &b), 0);
    ft_rollup_batch c = batch(W0, rows, 3, false, false);
    ASSERT_EQ(k.flush(k.ctx, &c), 0);
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE dimension = 'src_as' AND key = 'AS64500'"), 3000);
    ASSERT_EQ(q1(p, "SELECT state = 'closed' FROM windows"), 1);
    /* A late correction adds too. */
    ft_rollup_row late[] = {row(FT_DIM_SRC_AS, 64500, 0, 7, 1, 1), row(FT_DIM_SRC_AS, 64501, 0, 5, 1, 1)};
    ft_rollup_batch d = batch(W0, late, 2, true, false);
    ASSERT_EQ(k.flush(k.ctx, &d), 0);
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE dimension = 'src_as' AND key = 'AS64500'"), 3007);
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE dimension = 'src_as' AND key = 'AS64501'"), 5);
    ASSERT_EQ(q1(p, "SELECT flushes FROM windows"), 4);
    ASSERT_EQ(q1(p, "SELECT corrections FROM windows"), 1);
    ASSERT_EQ(q1(p, "SELECT flows FROM windows"), 3 * 3 + 1);
    uint64_t c2[FT_STORE_CTR_COUNT];
    ft_store_counters(s, c2);
    ASSERT_EQ(c2[FT_STORE_CTR_flushes], 4);
    ASSERT_EQ(c2[FT_STORE_CTR_rows], 11);
    ft_store_close(s);
    /* WAL journal. */
    ASSERT_EQ(q1(p, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    /* Reopening applies nothing and keeps the data. */
    s = open_store(p, 0);
    ASSERT_EQ(q1(p, "SELECT sum(bytes) FROM rollups WHERE dimension = 'src_as'"), 3012);
    ft_store_close(s);
}

/* --rollup-by-exporter fills the exporter column; in_if keys carry the
 * exporter in their text either way. */
static void t_exporter_column(void)
{
    const char *p = dbpath("exporter.db");
    ft_store *s = open_store(p, 0);
    ft_rollup_row rows[2] = {row(FT_DIM_IN_IF, 3, 0, 10, 1, 1), row(FT_DIM_OUT_IF, 4, 0, 10, 1, 1)};
    ft_addr a, b6;
    ft_addr_parse("192.0.2.1", &a);
    ft_addr_parse("2001:db8::1", &b6);
    memcpy(rows[0].key.exporter, a.b, 16);
    rows[0].key.exporter_family = 4;
    memcpy(rows[1].key.exporter, b6.b, 16);
    rows[1].key.exporter_family = 6;
    ft_rollup_batch bt = batch(W0, rows, 2, false, false);
    bt.by_exporter = true;
    ft_rollup_sink k = ft_store_sink(s);
    ASSERT_EQ(k.flush(k.ctx, &bt), 0);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollups WHERE key = '192.0.2.1:3' AND exporter = '192.0.2.1'"), 1);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollups WHERE key = '[2001:db8::1]:4' AND exporter = '2001:db8::1'"), 1);
    ft_store_close(s);
}

/* A database made by migration 1 alone (the text of sql/schema.sql up to
 * "-- migration 2") is upgraded in place, its rows kept. */
static void t_migration_from_v1(void)
{
    const char *p = dbpath("v1.db");
    size_t start[8], end[8];
    ASSERT_EQ(migrations(start, end, 8), 2);
    char *m1 = strndup(ft_sql_schema + start[0], end[0] - start[0]);
    char *sql = NULL;
    ASSERT_TRUE(asprintf(&sql, "%s\nPRAGMA user_version = 1;\nINSERT INTO rollup VALUES "
                               "(1, %llu, 'AS1', '', 300, 5, 1, 1, 0);", m1, W0) > 0);
    ASSERT_EQ(exec(p, sql), 0);
    free(sql);
    free(m1);
    ASSERT_EQ(q1(p, "PRAGMA user_version"), 1);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM sqlite_master WHERE name = 'exporter_state'"), 0);
    ft_store *s = open_store(p, 0);
    ASSERT_EQ(q1(p, "PRAGMA user_version"), 2);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM sqlite_master WHERE name = 'exporter_state'"), 1);
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE key = 'AS1'"), 5);
    ft_store_close(s);
}

static void expect_open_error(const char *path, const char *want)
{
    ft_store_opts o = {path, 0};
    char err[512] = "";
    ft_store *s = ft_store_open(&o, err, sizeof err);
    if (s) {
        ft_store_close(s);
        FT_FAIL("%s opened; want an error with '%s'", path, want);
    }
    if (!strstr(err, want) || !strstr(err, path))
        FT_FAIL("error \"%s\" lacks \"%s\" or the file name", err, want);
    fprintf(stderr, "  ok: %s\n", err);
}

static void t_bad_databases(void)
{
    const char *newer = dbpath("newer.db");
    ASSERT_EQ(exec(newer, "PRAGMA user_version = 99"), 0);
    expect_open_error(newer, "schema version 99 is newer than this flowtally's (2)");
    const char *text = dbpath("text.db");
    FILE *f = fopen(text, "w");
    fputs("this is not a database, just some text long enough to look like a header..........\n", f);
    fclose(f);
    expect_open_error(text, "not a usable SQLite database");
    const char *dims = dbpath("dims.db");
    ft_store_close(open_store(dims, 0));
    ASSERT_EQ(exec(dims, "UPDATE dimensions SET name = 'src_asn' WHERE id = 1"), 0);
    expect_open_error(dims, "dimension 1 is 'src_asn' in the database, 'src_as' here");
    expect_open_error("/nonexistent-dir/x.db", "cannot open");
}

/* --retention: windows older than the retention before the newest closed
 * window go, a bounded number of (dimension, window) deletes per flush. */
static void t_retention(void)
{
    const char *p = dbpath("retention.db");
    ft_store *s = open_store(p, 30 * 86400);
    ft_rollup_sink k = ft_store_sink(s);
    /* Ten old windows, 31..40 days before W0 + 1 h, every dimension. */
    ft_rollup_row rows[FT_DIM_COUNT];
    for (int i = 0; i < 10; i++) {
        uint64_t ws = W0 - (uint64_t)(40 - i) * 86400;
        for (int d = 0; d < FT_DIM_COUNT; d++) {
            rows[d] = row((ft_dim)d, 1, 0, 1, 1, 1);
            rows[d].key.window_s = ws;
        }
        ft_rollup_batch b = batch(ws, rows, FT_DIM_COUNT, false, true); /* partial: no retention run */
        ASSERT_EQ(k.flush(k.ctx, &b), 0);
    }
    /* One recent window (29 days old) must stay. */
    for (int d = 0; d < FT_DIM_COUNT; d++)
        rows[d].key.window_s = W0 - 29 * 86400;
    ft_rollup_batch keep = batch(W0 - 29 * 86400, rows, FT_DIM_COUNT, false, true);
    ASSERT_EQ(k.flush(k.ctx, &keep), 0);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollup"), 11 * FT_DIM_COUNT);
    for (int d = 0; d < FT_DIM_COUNT; d++)
        rows[d].key.window_s = W0 + 3600;
    ft_rollup_batch now = batch(W0 + 3600, rows, FT_DIM_COUNT, false, false);
    ASSERT_EQ(k.flush(k.ctx, &now), 0);
    /* 40 statements: 4 of the 10 old windows per flush. */
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollup"), 8 * FT_DIM_COUNT);
    ASSERT_EQ(k.flush(k.ctx, &now), 0);
    ASSERT_EQ(k.flush(k.ctx, &now), 0);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollup"), 2 * FT_DIM_COUNT);
    ASSERT_EQ(q1(p, "SELECT count(DISTINCT window_start) FROM rollup"), 2);
    ASSERT_EQ(q1(p, "SELECT min(window_start) FROM rollup"), (long long)(W0 - 29 * 86400));
    ASSERT_EQ(q1(p, "SELECT count(*) FROM windows"), 2);
    uint64_t c[FT_STORE_CTR_COUNT];
    ft_store_counters(s, c);
    ASSERT_EQ(c[FT_STORE_CTR_deleted_rows], 10 * FT_DIM_COUNT);
    ft_store_close(s);
}

/* A flush that cannot get the write lock is kept and written, in order,
 * with the next flush once the backoff (1 s after the first failure) has
 * passed; before that the next flush queues behind it without trying. */
static void t_retry(void)
{
    const char *p = dbpath("retry.db");
    ft_store *s = open_store(p, 0);
    sqlite3_busy_timeout(s->db, 50);
    sqlite3 *other;
    ASSERT_EQ(sqlite3_open(p, &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ft_rollup_row r1 = row(FT_DIM_PROTO, 6, 0, 100, 1, 1);
    ft_rollup_batch b1 = batch(W0, &r1, 1, false, false);
    ft_rollup_sink k = ft_store_sink(s);
    ASSERT_EQ(k.flush(k.ctx, &b1), -1);
    ASSERT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ft_rollup_row r2 = row(FT_DIM_PROTO, 6, 0, 1, 1, 1);
    ft_rollup_batch b2 = batch(W0, &r2, 1, true, false);
    /* Within the backoff: queued, not tried (one failure counted). */
    ASSERT_EQ(k.flush(k.ctx, &b2), -1);
    uint64_t pb, pr;
    ft_store_pending(s, &pb, &pr);
    ASSERT_EQ(pb, 2);
    ASSERT_EQ(pr, 2);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollup"), 0);
    s->retry_at_ns = 0; /* the backoff has passed */
    ft_store_tick(s);
    ASSERT_EQ(q1(p, "SELECT bytes FROM rollups WHERE dimension = 'proto' AND key = '6'"), 101);
    ASSERT_EQ(q1(p, "SELECT flushes FROM windows"), 2);
    ft_store_pending(s, &pb, &pr);
    ASSERT_EQ(pb + pr, 0);
    uint64_t c[FT_STORE_CTR_COUNT];
    ft_store_counters(s, c);
    ASSERT_EQ(c[FT_STORE_CTR_failed], 1);
    ASSERT_EQ(c[FT_STORE_CTR_retried], 2);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_rows], 0);
    ft_store_close(s);
}

/* The backlog keeps at most retry_rows rows: the oldest batches go first,
 * each counted (batches, rows, flow records); a batch larger than the bound
 * is dropped at once. The kept ones land once the lock is gone. */
static void t_retry_bound(void)
{
    const char *p = dbpath("bound.db");
    ft_store_opts o = {p, 0, 3};
    char err[512];
    ft_store *s = ft_store_open(&o, err, sizeof err);
    ASSERT_TRUE(s != NULL);
    sqlite3_busy_timeout(s->db, 20);
    sqlite3 *other;
    ASSERT_EQ(sqlite3_open(p, &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ft_rollup_sink k = ft_store_sink(s);
    /* Windows W0, W0+300, W0+600 of 2, 2 and 1 rows (7, 5, 3 flows), then
     * one of 4 rows: more than the bound alone. */
    ft_rollup_row a[2] = {row(FT_DIM_PROTO, 6, 0, 10, 1, 7), row(FT_DIM_PROTO, 17, 0, 20, 2, 0)};
    ft_rollup_row b[2] = {row(FT_DIM_PROTO, 6, 0, 30, 3, 5), row(FT_DIM_PROTO, 17, 0, 40, 4, 0)};
    ft_rollup_row c1 = row(FT_DIM_PROTO, 1, 0, 50, 5, 3);
    ft_rollup_row d[4] = {row(FT_DIM_PROTO, 1, 0, 1, 1, 1), row(FT_DIM_PROTO, 2, 0, 1, 1, 0),
                          row(FT_DIM_PROTO, 3, 0, 1, 1, 0), row(FT_DIM_PROTO, 4, 0, 1, 1, 0)};
    ft_rollup_batch ba = batch(W0, a, 2, false, false), bb = batch(W0 + 300, b, 2, false, false),
                    bc = batch(W0 + 600, &c1, 1, false, false), bd = batch(W0 + 900, d, 4, false, false);
    ASSERT_EQ(k.flush(k.ctx, &ba), -1); /* kept: 2 rows */
    ASSERT_EQ(k.flush(k.ctx, &bb), -1); /* 4 rows > 3: W0 dropped */
    ASSERT_EQ(k.flush(k.ctx, &bc), -1); /* 3 rows: kept */
    ASSERT_EQ(k.flush(k.ctx, &bd), -1); /* alone above the bound: dropped */
    uint64_t c[FT_STORE_CTR_COUNT], pb, pr;
    ft_store_counters(s, c);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_batches], 2);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_rows], 6);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_flows], 8);
    ft_store_pending(s, &pb, &pr);
    ASSERT_EQ(pb, 2);
    ASSERT_EQ(pr, 3);
    ASSERT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    s->retry_at_ns = 0;
    ft_store_tick(s);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM windows"), 2);
    ASSERT_EQ(q1(p, "SELECT sum(flows) FROM windows"), 8);
    ASSERT_EQ(q1(p, "SELECT sum(bytes) FROM rollup"), 120);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM windows WHERE window_start = 1700000100"), 0);
    ft_store_close(s);
}

/* Shutdown with the database still locked: ft_store_finish tries once
 * more, then counts the kept batch as dropped, so the counters read after
 * it (--stats) are final; a later close changes nothing. */
static void t_finish_locked(void)
{
    const char *p = dbpath("finish.db");
    ft_store *s = open_store(p, 0);
    sqlite3_busy_timeout(s->db, 20);
    sqlite3 *other;
    ASSERT_EQ(sqlite3_open(p, &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ft_rollup_row r1 = row(FT_DIM_PROTO, 6, 0, 100, 1, 4);
    ft_rollup_batch b1 = batch(W0, &r1, 1, false, false);
    ft_rollup_sink k = ft_store_sink(s);
    ASSERT_EQ(k.flush(k.ctx, &b1), -1);
    ft_store_finish(s);
    uint64_t c[FT_STORE_CTR_COUNT], pb, pr;
    ft_store_counters(s, c);
    ft_store_pending(s, &pb, &pr);
    ASSERT_EQ(pb + pr, 0);
    ASSERT_EQ(c[FT_STORE_CTR_failed], 2);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_batches], 1);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_rows], 1);
    ASSERT_EQ(c[FT_STORE_CTR_dropped_flows], 4);
    ASSERT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    ft_store_close(s);
    ASSERT_EQ(q1(p, "SELECT count(*) FROM rollup"), 0);
}

struct loaded {
    int n;
    char addr[2][FT_ADDR_STRLEN];
    size_t len[2];
    uint8_t first[2];
};

static void on_state(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len, uint64_t saved_s)
{
    struct loaded *l = arg;
    if (l->n < 2) {
        ft_addr_format(exporter, l->addr[l->n]);
        l->len[l->n] = len;
        l->first[l->n] = state[0];
    }
    l->n++;
    (void)saved_s;
}

static void t_exporter_state(void)
{
    const char *p = dbpath("state.db");
    ft_store *s = open_store(p, 0);
    ft_addr a, b;
    ft_addr_parse("192.0.2.7", &a);
    ft_addr_parse("2001:db8::7", &b);
    uint8_t blob1[100], blob2[3] = {9, 9, 9};
    memset(blob1, 1, sizeof blob1);
    ASSERT_EQ(ft_store_save_state(s, &a, blob2, sizeof blob2), 0);
    ASSERT_EQ(ft_store_save_state(s, &a, blob1, sizeof blob1), 0); /* replaces */
    ASSERT_EQ(ft_store_save_state(s, &b, blob2, sizeof blob2), 0);
    ft_store_close(s);
    s = open_store(p, 0);
    struct loaded l;
    memset(&l, 0, sizeof l);
    ASSERT_EQ(ft_store_load_states(s, on_state, &l), 2);
    ASSERT_STR(l.addr[0], "192.0.2.7");
    ASSERT_EQ(l.len[0], 100);
    ASSERT_EQ(l.first[0], 1);
    ASSERT_STR(l.addr[1], "2001:db8::7");
    ASSERT_EQ(l.len[1], 3);
    ft_store_close(s);
}

int main(void)
{
    ft_log_threshold = FT_LOG_WARN;
    snprintf(dir, sizeof dir, "/tmp/ft_store_test.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    FT_RUN(t_fresh_and_view);
    FT_RUN(t_exporter_column);
    FT_RUN(t_migration_from_v1);
    FT_RUN(t_bad_databases);
    FT_RUN(t_retention);
    FT_RUN(t_retry);
    FT_RUN(t_retry_bound);
    FT_RUN(t_finish_locked);
    FT_RUN(t_exporter_state);
    if (!ft_t_failed) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    return FT_DONE();
}
