/*
 * query_test.c - top keys and series read from SQLite plus the open
 * windows (query.h), against sums computed here from the records added
 * (the definitions of issue 5: a record adds bytes x rate, packets x rate
 * and one flow to its key in its window), never from the engine's output.
 *
 * The windows run on the capture clock (as with --pcap) so the test moves
 * time itself: what is open, flushed, flushed partial and reopened after a
 * "restart" (a new window stage on the same database) is known exactly.
 * One test races a writer that flushes windows against readers: every
 * answer must lie between the records added before the query started and
 * those added when it returned (plus the one the writer may hold), i.e.
 * nothing counted twice or lost while a
 * window moves from memory to SQLite.
 */
#include "query.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/sqlite_reader.h"
#include "store/sqlite_store.h"
#include "test.h"

#define S 1000000000ull
#define W 60 /* window, s */
#define T0 1800000000ull /* a window start (multiple of 60), s */

static char dir[64];

typedef struct stage {
    ft_store *store;
    ft_windows *win;
    ft_query *q;
} stage;

static void stage_open(stage *st, const char *db, uint32_t workers, bool by_exporter)
{
    char err[512];
    ft_store_opts so = {db, 0};
    st->store = ft_store_open(&so, err, sizeof err);
    if (!st->store)
        FT_FAIL("store: %s", err);
    ft_rollup_sink sink = ft_store_sink(st->store);
    ft_window_opts wo = {W, 10, false, by_exporter, 1000, workers, true};
    st->win = ft_windows_new(&wo, &sink, 1);
    ft_query_opts qo = {st->win, db, by_exporter, W, 2};
    st->q = ft_query_new(&qo);
    ASSERT_TRUE(st->win && st->q);
}

static void stage_close(stage *st)
{
    ft_windows_finish(st->win, 0);
    ft_query_free(st->q);
    ft_windows_free(st->win);
    ft_store_close(st->store);
}

/* A record of port `port` (TCP), exporter 192.0.2.<ex>, ending at t s. */
static ft_flow rec(uint64_t t, uint16_t port, uint64_t bytes, uint64_t packets, uint64_t rate, uint8_t ex)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.time_received_ns = t * S;
    f.time_flow_end_ns = t * S;
    f.proto = 6;
    f.dst_port = port;
    f.bytes = bytes;
    f.packets = packets;
    f.sampling_rate = rate;
    f.in_if = 7;
    f.sampler_address = ft_addr_v4u(0xc0000200u | ex);
    return f;
}

static void add(stage *st, uint32_t worker, const ft_flow *f)
{
    ft_window_worker *ww = ft_windows_worker(st->win, worker);
    ft_window_add(ww, f);
    ft_window_batch_end(ww);
}

static ft_query_req req_top(uint64_t from, uint64_t to)
{
    ft_query_req r;
    memset(&r, 0, sizeof r);
    r.dim = FT_DIM_DST_PORT;
    r.from_s = from;
    r.to_s = to;
    r.metric = FT_METRIC_BYTES;
    r.limit = 10;
    return r;
}

static long sqlite_rows(const char *db, const char *sql)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"%s\"", db, sql);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p) {
        if (fscanf(p, "%ld", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* Open windows answer before any flush; the same totals after it. */
static void t_open_then_flushed(void)
{
    char db[128];
    snprintf(db, sizeof db, "%s/open.db", dir);
    stage st;
    stage_open(&st, db, 2, false);
    ft_flow a = rec(T0 + 5, 443, 1000, 2, 1, 1), b = rec(T0 + 6, 443, 500, 1, 10, 1), c = rec(T0 + 7, 53, 80, 1, 1, 2);
    add(&st, 0, &a);
    add(&st, 1, &b); /* the same key on another worker */
    add(&st, 0, &c);
    /* port 443: 1000 + 500 x 10 = 6000 bytes, 2 + 1 x 10 = 12 packets, 2 flows */
    ft_query_req r = req_top(T0, T0 + W);
    ft_top_result t;
    char err[256];
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(sqlite_rows(db, "SELECT count(*) FROM rollups"), 0);
    ASSERT_EQ(t.n, 2);
    ASSERT_STR(t.rows[0].key, "6/443");
    ASSERT_EQ(t.rows[0].v[FT_METRIC_BYTES], 6000);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_PACKETS], 12);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_FLOWS], 2);
    ASSERT_STR(t.rows[1].key, "6/53");
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 6080);
    ASSERT_EQ(t.total[FT_METRIC_FLOWS], 3);
    ASSERT_TRUE(t.open_rows >= 3);
    ASSERT_EQ(t.stored_rows, 0);
    ft_query_top_free(&t);

    /* Sorted by packets: the same two keys, 6/443 first (12 vs 1). A range
     * without the window is empty. */
    r.metric = FT_METRIC_FLOWS;
    r.limit = 1;
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.n, 1);
    ASSERT_EQ(t.n_keys, 2);
    ASSERT_STR(t.rows[0].key, "6/443");
    ft_query_top_free(&t);
    ft_query_req r2 = req_top(T0 + W, T0 + 2 * W);
    ASSERT_EQ(ft_query_top(st.q, &r2, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.n, 0);
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 0);
    ft_query_top_free(&t);

    /* The capture clock passes the window's end + lateness: flushed. */
    ft_flow later = rec(T0 + W + 11, 80, 1, 1, 1, 1);
    add(&st, 0, &later);
    ASSERT_TRUE(sqlite_rows(db, "SELECT count(*) FROM rollups WHERE window_start = 1800000000") > 0);
    r = req_top(T0, T0 + W);
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.open_rows, 0);
    ASSERT_TRUE(t.stored_rows >= 2);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_BYTES], 6000);
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 6080);
    ft_query_top_free(&t);
    stage_close(&st);
}

/* A window flushed partial at a shutdown and open again after a restart:
 * the two parts add, once each. */
static void t_partial_and_reopened(void)
{
    char db[128];
    snprintf(db, sizeof db, "%s/partial.db", dir);
    stage st;
    stage_open(&st, db, 1, false);
    ft_flow a = rec(T0 + 1, 443, 100, 1, 1, 1);
    add(&st, 0, &a);
    stage_close(&st); /* partial flush */
    ASSERT_EQ(sqlite_rows(db, "SELECT count(*) FROM windows WHERE state = 'partial'"), 1);

    stage_open(&st, db, 1, false);
    ft_flow b = rec(T0 + 2, 443, 20, 1, 1, 1);
    add(&st, 0, &b);
    ft_query_req r = req_top(T0, T0 + W);
    ft_top_result t;
    char err[256];
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.n, 1);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_BYTES], 120);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_FLOWS], 2);
    ASSERT_TRUE(t.open_rows >= 1 && t.stored_rows >= 1);
    ft_query_top_free(&t);
    stage_close(&st); /* second partial flush: SQLite alone says the same */
    stage_open(&st, db, 1, false);
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.rows[0].v[FT_METRIC_BYTES], 120);
    ASSERT_EQ(t.open_rows, 0);
    ft_query_top_free(&t);
    stage_close(&st);
}

/* Series: zero-filled buckets of step 2 windows; one key and the top N. */
static void t_series(void)
{
    char db[128];
    snprintf(db, sizeof db, "%s/series.db", dir);
    stage st;
    stage_open(&st, db, 1, false);
    /* windows T0, T0+60 (bucket 0 of step 120), T0+240 (bucket 2) */
    ft_flow f1 = rec(T0 + 1, 443, 10, 1, 1, 1), f2 = rec(T0 + 61, 443, 5, 1, 1, 1), f3 = rec(T0 + 62, 22, 7, 1, 1, 1),
            f4 = rec(T0 + 241, 22, 100, 1, 1, 1);
    add(&st, 0, &f1);
    add(&st, 0, &f2);
    add(&st, 0, &f3);
    add(&st, 0, &f4); /* closes T0 and T0+60 (clock past their end + 10 s) */
    ft_query_req r = req_top(T0, T0 + 360);
    r.step_s = 120;
    r.key = "6/443";
    ft_series_result s;
    char err[256];
    ASSERT_EQ(ft_query_series(st.q, &r, &s, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(s.n_times, 3);
    ASSERT_EQ(s.n_keys, 1);
    ASSERT_EQ(s.values[0], 15);
    ASSERT_EQ(s.values[1], 0);
    ASSERT_EQ(s.values[2], 0);
    ASSERT_EQ(s.total[0], 22);
    ASSERT_EQ(s.total[2], 100);
    ft_query_series_free(&s);

    r.key = NULL;
    r.limit = 5;
    ASSERT_EQ(ft_query_series(st.q, &r, &s, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(s.n_keys, 2);
    ASSERT_STR(s.keys[0], "6/22"); /* 107 bytes against 15 */
    ASSERT_EQ(s.values[0 * 3 + 0], 7);
    ASSERT_EQ(s.values[0 * 3 + 2], 100);
    ASSERT_STR(s.keys[1], "6/443");
    ASSERT_EQ(s.values[1 * 3 + 0], 15);
    ft_query_series_free(&s);

    r.step_s = 90; /* not a multiple of the window */
    ASSERT_EQ(ft_query_series(st.q, &r, &s, err, sizeof err), FT_QUERY_BAD);
    stage_close(&st);
}

/* The exporter filter: by key text for in_if/out_if, a 400 for other
 * dimensions unless rows are kept per exporter. */
static void t_exporter_filter(void)
{
    char db[128];
    snprintf(db, sizeof db, "%s/exporter.db", dir);
    stage st;
    stage_open(&st, db, 1, false);
    ft_flow a = rec(T0 + 1, 443, 100, 1, 1, 1), b = rec(T0 + 2, 443, 30, 1, 1, 2);
    add(&st, 0, &a);
    add(&st, 0, &b);
    ft_addr ex = ft_addr_v4u(0xc0000202u);
    ft_query_req r = req_top(T0, T0 + W);
    r.exporter = &ex;
    ft_top_result t;
    char err[256];
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_BAD);
    ASSERT_TRUE(strstr(err, "--rollup-by-exporter") != NULL);
    r.dim = FT_DIM_IN_IF;
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.n, 1);
    ASSERT_STR(t.rows[0].key, "192.0.2.2:7");
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 30);
    ft_query_top_free(&t);
    stage_close(&st); /* flushed: the same from SQLite (key prefix) */
    stage_open(&st, db, 1, false);
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.n, 1);
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 30);
    ASSERT_EQ(t.open_rows, 0);
    ft_query_top_free(&t);
    stage_close(&st);

    snprintf(db, sizeof db, "%s/by_exporter.db", dir);
    stage_open(&st, db, 1, true);
    add(&st, 0, &a);
    add(&st, 0, &b);
    r.dim = FT_DIM_DST_PORT;
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 30);
    ft_query_top_free(&t);
    stage_close(&st);
    stage_open(&st, db, 1, true);
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.total[FT_METRIC_BYTES], 30);
    ASSERT_EQ(t.open_rows, 0);
    ft_query_top_free(&t);
    stage_close(&st);
}

/* ---- a writer flushing windows while readers query ---------------------------- */

typedef struct race {
    stage *st;
    atomic_ulong added; /* records added and their batch ended */
    atomic_bool done;
    atomic_int bad;
    unsigned long n;
} race;

static void *writer(void *arg)
{
    race *x = arg;
    for (unsigned long i = 0; i < x->n; i++) {
        /* 25 records per capture second: a window closes every 1500 records */
        ft_flow f = rec(T0 + i / 25, (uint16_t)(i % 7), 1, 1, 1, 1);
        add(x->st, 0, &f);
        atomic_store(&x->added, i + 1);
    }
    atomic_store(&x->done, true);
    return NULL;
}

static void *reader(void *arg)
{
    race *x = arg;
    ft_query_req r = req_top(T0, T0 + 100000);
    char err[256];
    while (!atomic_load(&x->done)) {
        unsigned long before = atomic_load(&x->added);
        ft_top_result t;
        if (ft_query_top(x->st->q, &r, &t, err, sizeof err) != FT_QUERY_OK) {
            fprintf(stderr, "query failed: %s\n", err);
            atomic_fetch_add(&x->bad, 1);
            return NULL;
        }
        /* One record may be in the writer's hands (added, not yet counted
         * in x->added): at most after + 1. */
        unsigned long after = atomic_load(&x->added) + 1;
        uint64_t got = t.total[FT_METRIC_FLOWS];
        if (got < before || got > after) {
            fprintf(stderr, "total %llu outside [%lu, %lu]\n", (unsigned long long)got, before, after);
            atomic_fetch_add(&x->bad, 1);
        }
        ft_query_top_free(&t);
    }
    return NULL;
}

static void t_race(void)
{
    char db[128];
    snprintf(db, sizeof db, "%s/race.db", dir);
    stage st;
    stage_open(&st, db, 1, false);
    race x;
    memset(&x, 0, sizeof x);
    x.st = &st;
    x.n = 60000; /* 40 windows closed under the readers' feet */
    pthread_t w, r1, r2;
    pthread_create(&r1, NULL, reader, &x);
    pthread_create(&r2, NULL, reader, &x);
    pthread_create(&w, NULL, writer, &x);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    ASSERT_EQ(atomic_load(&x.bad), 0);
    ASSERT_TRUE(sqlite_rows(db, "SELECT count(*) FROM windows") >= 30);
    ft_query_req r = req_top(T0, T0 + 100000);
    ft_top_result t;
    char err[256];
    ASSERT_EQ(ft_query_top(st.q, &r, &t, err, sizeof err), FT_QUERY_OK);
    ASSERT_EQ(t.total[FT_METRIC_FLOWS], x.n);
    ASSERT_EQ(t.n, 7);
    ft_query_top_free(&t);
    stage_close(&st);
}

int main(void)
{
    ft_log_threshold = FT_LOG_WARN;
    if (system("command -v sqlite3 >/dev/null") != 0) {
        fprintf(stderr, "sqlite3 shell missing (scripts/deps.sh test)\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/ft_query_test.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    FT_RUN(t_open_then_flushed);
    FT_RUN(t_partial_and_reopened);
    FT_RUN(t_series);
    FT_RUN(t_exporter_filter);
    FT_RUN(t_race);
    if (!ft_t_failed) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    return FT_DONE();
}
