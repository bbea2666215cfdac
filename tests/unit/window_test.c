/*
 * window_test.c - window arithmetic, late corrections, clamping, sampling,
 * 'other' folding and the merge across workers (window/window.h,
 * window/agg_table.h, window/rollup.h).
 *
 * Oracles: arithmetic done here from the definitions in the issue (windows
 * aligned to multiples of the length since the epoch, close at end +
 * lateness, event time clamped to [received - 1 h, received + 1 min]), and a
 * naive reference aggregator (a sorted list of every record's contribution)
 * that the engine's output must equal exactly, whatever the arrival order,
 * the number of workers, the lateness or the table bounds (sqlite's bitvec
 * test idea: a differential test against the simplest thing that works).
 */
#include "window/window.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "test.h"
#include "window/agg_table.h"

#define S 1000000000ull /* ns per s */

/* ---- a sink that keeps every row it is given, as text ------------------------ */

typedef struct got_row {
    uint64_t window_s;
    int dim;
    char key[FT_RKEY_TEXT_MAX];
    char exporter[FT_RKEY_TEXT_MAX];
    uint64_t bytes, packets, flows;
    bool correction, partial;
} got_row;

typedef struct got {
    got_row *v;
    size_t n, cap;
    size_t batches, corrections, partials;
    uint64_t last_start_ns, last_end_ns;
} got;

static int got_flush(void *ctx, const ft_rollup_batch *b)
{
    got *g = ctx;
    g->batches++;
    g->corrections += b->is_correction;
    g->partials += b->is_partial;
    g->last_start_ns = b->window_start_ns;
    g->last_end_ns = b->window_end_ns;
    uint64_t per_dim[FT_DIM_COUNT] = {0};
    for (size_t i = 0; i < b->n_rows; i++) {
        const ft_rollup_row *r = &b->rows[i];
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 1024;
            g->v = realloc(g->v, g->cap * sizeof *g->v);
        }
        got_row *x = &g->v[g->n++];
        memset(x, 0, sizeof *x);
        x->window_s = r->key.window_s;
        if (r->key.window_s * S != b->window_start_ns)
            abort(); /* a row outside its batch's window */
        x->dim = r->dim;
        ft_rkey_text(r->dim, &r->key, x->key);
        ft_rkey_exporter_text(&r->key, b->by_exporter, x->exporter);
        x->bytes = r->bytes;
        x->packets = r->packets;
        x->flows = r->flows;
        x->correction = b->is_correction;
        x->partial = b->is_partial;
        per_dim[r->dim] += r->flows;
    }
    /* Every dimension of a batch sums to the batch's record count. */
    for (int d = 0; d < FT_DIM_COUNT; d++)
        if (per_dim[d] != b->flows)
            abort();
    return 0;
}

static void got_free(got *g)
{
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Sum of a column over rows matching window (0 = any), dim and key (NULL = any). */
static uint64_t sum(const got *g, uint64_t window_s, int dim, const char *key, int col)
{
    uint64_t t = 0;
    for (size_t i = 0; i < g->n; i++) {
        const got_row *r = &g->v[i];
        if ((window_s && r->window_s != window_s) || r->dim != dim || (key && strcmp(r->key, key) != 0))
            continue;
        t += col == 0 ? r->bytes : col == 1 ? r->packets : r->flows;
    }
    return t;
}

static ft_windows *engine(got *g, uint32_t window_s, uint32_t lateness_s, uint32_t workers, uint32_t max_keys,
                          bool capture, bool received)
{
    ft_window_opts o = {window_s, lateness_s, received, false, max_keys, workers, capture};
    ft_rollup_sink sink = {"test", got_flush, g};
    ft_windows *w = ft_windows_new(&o, &sink, 1);
    if (!w)
        abort();
    return w;
}

static ft_flow rec(uint64_t recv_ns, uint64_t end_ns, uint64_t bytes, uint64_t packets, uint64_t rate)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.time_received_ns = recv_ns;
    f.time_flow_end_ns = end_ns;
    f.time_flow_start_ns = end_ns;
    f.bytes = bytes;
    f.packets = packets;
    f.sampling_rate = rate;
    f.proto = 6;
    f.src_port = 443;
    f.dst_port = 50000;
    f.src_as = 64500;
    f.dst_as = 64501;
    ft_addr_parse("192.0.2.1", &f.sampler_address);
    ft_addr_parse("198.51.100.1", &f.src_addr);
    ft_addr_parse("203.0.113.1", &f.dst_addr);
    f.in_if = 3;
    f.out_if = 4;
    memcpy(f.src_country, "NL", 3);
    return f;
}

static void add1(ft_windows *w, uint32_t worker, const ft_flow *f)
{
    ft_window_worker *ww = ft_windows_worker(w, worker);
    ft_window_add(ww, f);
    ft_window_batch_end(ww);
}

static uint64_t ctr(ft_windows *w, ft_win_ctr c)
{
    uint64_t v[FT_WIN_CTR_COUNT] = {0};
    ft_windows_counters(w, v);
    return v[c];
}

/* T0: a multiple of 300 s (2023-11-14T22:15:00Z). */
#define T0 (1700000100ull * S)

/* Windows [k W, (k+1) W): the first and last nanosecond of a window, and
 * the close at exactly end + lateness. */
static void t_boundaries(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 300, 120, 1, 1000, false, false);
    ft_windows_advance(w, T0);
    ASSERT_EQ(ft_windows_closed_before(w), T0 - 300 * S); /* T0 - 120 s lies in [T0 - 300, T0) */
    /* Arrival T0 + 250 s: no flow end below is clamped. */
    ft_flow a = rec(T0 + 250 * S, T0, 100, 1, 1);              /* first ns of [T0, T0+300) */
    ft_flow b = rec(T0 + 250 * S, T0 + 300 * S - 1, 200, 2, 1); /* last ns of it */
    ft_flow c = rec(T0 + 250 * S, T0 + 300 * S, 400, 4, 1);     /* first ns of the next */
    ft_flow d = rec(T0 + 250 * S, T0 - 1, 800, 8, 1);            /* last ns of the previous, still open */
    add1(w, 0, &a);
    add1(w, 0, &b);
    add1(w, 0, &c);
    add1(w, 0, &d);
    /* [T0 - 300, T0) closes at T0 + 120 s: not one ns before. */
    ft_windows_advance(w, T0 + 120 * S - 1);
    ASSERT_EQ(g.batches, 0);
    ft_windows_advance(w, T0 + 120 * S);
    ASSERT_EQ(g.batches, 1);
    ASSERT_EQ(g.last_start_ns, T0 - 300 * S);
    ASSERT_EQ(g.last_end_ns, T0);
    ASSERT_EQ(sum(&g, T0 / S - 300, FT_DIM_PROTO, "6", 0), 800);
    /* [T0, T0 + 300) closes at T0 + 420 s. */
    ft_windows_advance(w, T0 + 420 * S - 1);
    ASSERT_EQ(g.batches, 1);
    ft_windows_advance(w, T0 + 420 * S);
    ASSERT_EQ(g.batches, 2);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 0), 300);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 2), 2);
    ASSERT_EQ(sum(&g, T0 / S + 300, FT_DIM_PROTO, "6", 0), 0); /* still open */
    ASSERT_EQ(ctr(w, FT_WIN_CTR_windows_flushed), 2);
    ft_windows_finish(w, 0);
    ASSERT_EQ(g.batches, 3);
    ASSERT_EQ(g.partials, 1);
    ASSERT_EQ(sum(&g, T0 / S + 300, FT_DIM_PROTO, "6", 0), 400);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_partial_flushes), 1);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_late_records), 0);
    ft_windows_free(w);
    got_free(&g);
}

/* A record for a closed window is counted late and flushed as a correction
 * of that window, at the next advance. */
static void t_late_correction(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 30, 1, 1000, false, false);
    ft_windows_advance(w, T0);
    ft_flow a = rec(T0, T0 - 1 * S, 1000, 10, 1); /* window [T0 - 60, T0): open until T0 + 30 */
    add1(w, 0, &a);
    ft_windows_advance(w, T0 + 30 * S);
    ASSERT_EQ(g.batches, 1);
    ASSERT_EQ(g.corrections, 0);
    ft_flow late = rec(T0 + 40 * S, T0 - 2 * S, 500, 5, 1); /* same window, after its close */
    add1(w, 0, &late);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_late_records), 1);
    ASSERT_EQ(g.batches, 1); /* not before the next advance */
    ft_windows_advance(w, T0 + 41 * S);
    ASSERT_EQ(g.batches, 2);
    ASSERT_EQ(g.corrections, 1);
    ASSERT_EQ(g.last_start_ns, T0 - 60 * S);
    ASSERT_EQ(sum(&g, T0 / S - 60, FT_DIM_SRC_AS, "AS64500", 0), 1500);
    ASSERT_EQ(sum(&g, T0 / S - 60, FT_DIM_SRC_AS, "AS64500", 2), 2);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_corrections_flushed), 1);
    /* Nothing pending: an advance flushes nothing. */
    ft_windows_advance(w, T0 + 42 * S);
    ASSERT_EQ(g.batches, 2);
    ft_windows_finish(w, 0);
    ASSERT_EQ(g.batches, 2);
    ft_windows_free(w);
    got_free(&g);
}

/* Event time = flow end clamped to [received - 1 h, received + 1 min];
 * --event-time received ignores the flow end. */
static void t_clamping(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 0, 1, 1000, false, false);
    uint64_t recv = T0 + 7200 * S;
    ft_windows_advance(w, recv - 3700 * S); /* every window from recv - 1 h on is open */
    ft_flow past = rec(recv, recv - 7200 * S, 1, 1, 1);           /* 2 h before: to recv - 1 h */
    ft_flow edge = rec(recv, recv - 3600 * S, 2, 1, 1);           /* exactly 1 h before: kept */
    ft_flow future = rec(recv, recv + 300 * S, 4, 1, 1);          /* 5 min after: to recv + 1 min */
    ft_flow fedge = rec(recv, recv + 60 * S, 8, 1, 1);            /* exactly 1 min after: kept */
    add1(w, 0, &past);
    add1(w, 0, &edge);
    add1(w, 0, &future);
    add1(w, 0, &fedge);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_clamped_past), 1);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_clamped_future), 1);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_late_records), 0);
    ft_windows_finish(w, 0);
    uint64_t r_s = recv / S;
    ASSERT_EQ(sum(&g, r_s - 3600, FT_DIM_PROTO, "6", 0), 3); /* recv - 1 h is a window start (T0 + 1 h) */
    ASSERT_EQ(sum(&g, r_s + 60, FT_DIM_PROTO, "6", 0), 12);
    ft_windows_free(w);
    got_free(&g);

    memset(&g, 0, sizeof g);
    w = engine(&g, 60, 0, 1, 1000, false, true);
    ft_windows_advance(w, recv - 3700 * S);
    add1(w, 0, &past);
    add1(w, 0, &future);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_clamped_past), 0);
    ft_windows_finish(w, 0);
    ASSERT_EQ(sum(&g, r_s, FT_DIM_PROTO, "6", 0), 5);
    ft_windows_free(w);
    got_free(&g);
}

/* bytes x rate, packets x rate; rate 0 and rates above 2^24 count as 1;
 * products above 2^50 bytes / 2^40 packets are capped there. */
static void t_sampling(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 0, 1, 1000, false, false);
    ft_windows_advance(w, T0);
    ft_flow a = rec(T0, T0, 1500, 3, 100);
    ft_flow b = rec(T0, T0, 1000, 2, 0);
    ft_flow c = rec(T0, T0, 10, 1, 1u << 24);
    ft_flow d = rec(T0, T0, 7, 1, (1u << 24) + 1);
    add1(w, 0, &a);
    add1(w, 0, &b);
    add1(w, 0, &c);
    add1(w, 0, &d);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_bad_sampling), 2);
    ft_windows_finish(w, 0);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 0), 150000 + 1000 + 10 * (1ull << 24) + 7);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 1), 300 + 2 + (1ull << 24) + 1);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 2), 4);
    ft_windows_free(w);
    got_free(&g);

    memset(&g, 0, sizeof g);
    w = engine(&g, 60, 0, 1, 1000, false, false);
    ft_windows_advance(w, T0);
    ft_flow big = rec(T0, T0, 1ull << 62, 1, 4);    /* 2^64: overflows */
    ft_flow edge = rec(T0, T0, 1ull << 48, 1, 4);   /* exactly 2^50: kept */
    ft_flow over = rec(T0, T0, 1000, 1ull << 39, 4); /* 2^41 packets */
    add1(w, 0, &big);
    add1(w, 0, &edge);
    add1(w, 0, &over);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_absurd_counters), 2);
    ft_windows_finish(w, 0);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 0), (1ull << 50) * 2 + 4000);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 1), 4 + 4 + (1ull << 40));
    ft_windows_free(w);
    got_free(&g);
}

/* One record lands once in every dimension, under the documented text key. */
static void t_dimensions(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 0, 1, 1000, false, false);
    ft_windows_advance(w, T0);
    ft_flow a = rec(T0, T0, 100, 1, 1);
    ft_flow b = rec(T0, T0, 10, 1, 1);
    ft_addr_parse("2001:db8::1", &b.sampler_address);
    b.proto = 17;
    b.dst_port = 53;
    b.src_country[0] = 0;
    memcpy(b.dst_country, "de", 3);
    add1(w, 0, &a);
    add1(w, 0, &b);
    ft_windows_finish(w, 0);
    static const struct {
        int dim;
        const char *key;
        uint64_t bytes;
    } want[] = {
        {FT_DIM_SRC_AS, "AS64500", 110},      {FT_DIM_DST_AS, "AS64501", 110},
        {FT_DIM_AS_PAIR, "AS64500-AS64501", 110}, {FT_DIM_SRC_PORT, "6/443", 100},
        {FT_DIM_SRC_PORT, "17/443", 10},      {FT_DIM_DST_PORT, "6/50000", 100},
        {FT_DIM_DST_PORT, "17/53", 10},       {FT_DIM_PROTO, "6", 100},
        {FT_DIM_PROTO, "17", 10},             {FT_DIM_SRC_COUNTRY, "NL", 100},
        {FT_DIM_SRC_COUNTRY, "unknown", 10},  {FT_DIM_DST_COUNTRY, "unknown", 100},
        {FT_DIM_DST_COUNTRY, "DE", 10},       {FT_DIM_IN_IF, "192.0.2.1:3", 100},
        {FT_DIM_IN_IF, "[2001:db8::1]:3", 10}, {FT_DIM_OUT_IF, "192.0.2.1:4", 100},
        {FT_DIM_OUT_IF, "[2001:db8::1]:4", 10},
    };
    size_t rows = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t v = sum(&g, T0 / S, want[i].dim, want[i].key, 0);
        if (v != want[i].bytes)
            FT_FAIL("%s %s: %llu bytes, want %llu", ft_dim_name((ft_dim)want[i].dim), want[i].key,
                    (unsigned long long)v, (unsigned long long)want[i].bytes);
    }
    for (size_t i = 0; i < g.n; i++)
        rows++;
    ASSERT_EQ(rows, sizeof want / sizeof want[0]);
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        ASSERT_EQ(sum(&g, 0, d, NULL, 0), 110);
        ASSERT_TRUE(ft_dim_parse(ft_dim_name((ft_dim)d)) == d);
    }
    ASSERT_EQ(ft_dim_parse("nope"), -1);
    ft_windows_free(w);
    got_free(&g);
}

/* --rollup-by-exporter: one row per exporter, exporter column filled. */
static void t_by_exporter(void)
{
    got g = {0};
    ft_window_opts o = {60, 0, false, true, 1000, 1, false};
    ft_rollup_sink sink = {"test", got_flush, &g};
    ft_windows *w = ft_windows_new(&o, &sink, 1);
    ft_windows_advance(w, T0);
    ft_flow a = rec(T0, T0, 100, 1, 1), b = rec(T0, T0, 10, 1, 1);
    ft_addr_parse("192.0.2.2", &b.sampler_address);
    add1(w, 0, &a);
    add1(w, 0, &b);
    ft_windows_finish(w, 0);
    ASSERT_EQ(g.n, 2 * FT_DIM_COUNT);
    for (size_t i = 0; i < g.n; i++) {
        ASSERT_TRUE(strcmp(g.v[i].exporter, "192.0.2.1") == 0 || strcmp(g.v[i].exporter, "192.0.2.2") == 0);
        ASSERT_EQ(g.v[i].bytes, strcmp(g.v[i].exporter, "192.0.2.1") == 0 ? 100 : 10);
    }
    ft_windows_free(w);
    got_free(&g);
}

/* More keys than max_keys: the table stays bounded, the smallest keys fold
 * into 'other', and every dimension still sums to the input. */
static void t_other_folding(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 0, 1, 16, false, false);
    ft_windows_advance(w, T0);
    uint64_t total = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        ft_flow f = rec(T0, T0, 1000 + i, 1, 1);
        f.src_port = i; /* 1000 source ports */
        f.src_as = i % 10;
        add1(w, 0, &f);
        total += 1000 + i;
    }
    ft_windows_finish(w, 0);
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        ASSERT_EQ(sum(&g, T0 / S, d, NULL, 0), total);
        ASSERT_EQ(sum(&g, T0 / S, d, NULL, 2), 1000);
    }
    size_t port_rows = 0;
    for (size_t i = 0; i < g.n; i++)
        port_rows += g.v[i].dim == FT_DIM_SRC_PORT;
    ASSERT_TRUE(port_rows <= 17); /* 16 keys + 'other' */
    ASSERT_TRUE(sum(&g, T0 / S, FT_DIM_SRC_PORT, "other", 2) >= 1000 - 16);
    /* The biggest port (999, the last one seen) is kept by name. */
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_SRC_PORT, "6/999", 0), 1999);
    /* Ten AS numbers fit: no 'other' there. */
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_SRC_AS, "other", 2), 0);
    ASSERT_TRUE(ctr(w, FT_WIN_CTR_folded_keys) >= 1000 - 16);
    ft_windows_free(w);
    got_free(&g);
}

/* A flushed window's tables are emptied and reused for the worker's next
 * window (recycle()): the second of two identical windows must fold and
 * sum exactly as the first did, nothing carried over. Oracle: the same
 * input replayed, one window later, through the reused tables; and the
 * first window on fresh tables (a second engine). */
static void one_window_of_ports(ft_windows *w, uint64_t t, uint32_t workers)
{
    for (uint32_t i = 0; i < 1000; i++) {
        ft_flow f = rec(t, t, 1000 + i, 1, 1);
        f.src_port = i;
        f.src_as = i % 10;
        add1(w, i % workers, &f);
    }
}

static void t_recycled_tables(void)
{
    for (uint32_t workers = 1; workers <= 2; workers++) {
        got g1 = {0}, g2 = {0};
        ft_windows *w1 = engine(&g1, 60, 0, workers, 16, false, false);
        ft_windows_advance(w1, T0);
        one_window_of_ports(w1, T0, workers);
        ft_windows_finish(w1, 0);
        uint64_t folded1 = ctr(w1, FT_WIN_CTR_folded_keys);
        ASSERT_TRUE(folded1 >= 1000 - 16 * workers);

        ft_windows *w2 = engine(&g2, 60, 0, workers, 16, false, false);
        ft_windows_advance(w2, T0);
        one_window_of_ports(w2, T0, workers);
        ft_windows_advance(w2, T0 + 61 * S); /* closes and flushes the first window: its tables are reused */
        one_window_of_ports(w2, T0 + 61 * S, workers);
        ft_windows_finish(w2, 0);
        /* With two workers the merge visits the workers' keys in table
         * order, which depends on each table's secret seed, and a bounded
         * merge may fold a different number of keys: exact there only for
         * one worker; the sums are exact either way. */
        if (workers == 1)
            ASSERT_EQ(ctr(w2, FT_WIN_CTR_folded_keys), 2 * folded1);
        else
            ASSERT_TRUE(ctr(w2, FT_WIN_CTR_folded_keys) >= 2 * (1000 - 16 * workers));
        for (int d = 0; d < FT_DIM_COUNT; d++) {
            for (int k = 0; k < 3; k++) {
                ASSERT_EQ(sum(&g2, T0 / S, d, NULL, k), sum(&g1, T0 / S, d, NULL, k));
                ASSERT_EQ(sum(&g2, T0 / S + 60, d, NULL, k), sum(&g1, T0 / S, d, NULL, k));
            }
            if (workers == 1)
                ASSERT_EQ(sum(&g2, T0 / S + 60, d, "other", 2), sum(&g1, T0 / S, d, "other", 2));
        }
        ft_windows_free(w1);
        ft_windows_free(w2);
        got_free(&g1);
        got_free(&g2);
    }
}

struct acc {
    uint64_t bytes, flows, min_kept;
    size_t other;
};

static void acc_cb(void *arg, const ft_agg_entry *e)
{
    struct acc *a = arg;
    a->bytes += e->bytes;
    a->flows += e->flows;
    if (e->key.other)
        a->other++;
    else if (e->bytes < a->min_kept)
        a->min_kept = e->bytes;
}

/* agg_table alone: folding keeps the biggest keys and the sums; merge adds. */
static void t_agg_table(void)
{
    ft_agg *t = ft_agg_new(100, false, 42);
    uint64_t total = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        ft_rkey k;
        memset(&k, 0, sizeof k);
        k.window_s = 60;
        k.a = i;
        ft_agg_add(t, &k, i, 1, 1);
        total += i;
    }
    ASSERT_TRUE(ft_agg_count(t) <= 101);
    struct acc acc = {0, 0, UINT64_MAX, 0};
    ft_agg_foreach(t, acc_cb, &acc);
    ASSERT_EQ(acc.bytes, total);
    ASSERT_EQ(acc.flows, 10000);
    ASSERT_EQ(acc.other, 1);
    /* Keys arrive in increasing size: the last 75 (the largest) survived the
     * last fold at least. */
    ASSERT_TRUE(acc.min_kept >= 10000 - 100);
    ft_agg *m = ft_agg_new(100, false, 7);
    ft_agg_merge(m, t);
    ft_agg_merge(m, t);
    struct acc acc2 = {0, 0, UINT64_MAX, 0};
    ft_agg_foreach(m, acc_cb, &acc2);
    ASSERT_EQ(acc2.bytes, 2 * total);
    ASSERT_EQ(acc2.other, 1);
    ft_agg_free(m);
    ft_agg_free(t);
}


/* ---- differential test against a naive aggregator --------------------------------- */

typedef struct ref_row {
    uint64_t window_s;
    int dim;
    char key[FT_RKEY_TEXT_MAX];
    uint64_t bytes, packets, flows;
} ref_row;

static int cmp_ref(const void *pa, const void *pb)
{
    const ref_row *a = pa, *b = pb;
    if (a->window_s != b->window_s)
        return a->window_s < b->window_s ? -1 : 1;
    if (a->dim != b->dim)
        return a->dim - b->dim;
    return strcmp(a->key, b->key);
}

/* Sorts and sums equal keys in place; returns the new count. */
static size_t squash(ref_row *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_ref);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o && cmp_ref(&v[o - 1], &v[i]) == 0) {
            v[o - 1].bytes += v[i].bytes;
            v[o - 1].packets += v[i].packets;
            v[o - 1].flows += v[i].flows;
        } else {
            v[o++] = v[i];
        }
    }
    return o;
}

static uint64_t rnd_state = 0x12345678abcdefull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* The event window of f as the issue defines it, computed independently. */
static uint64_t ref_window_s(const ft_flow *f, uint32_t window_s, bool received)
{
    int64_t recv = (int64_t)f->time_received_ns, ev = received ? recv : (int64_t)f->time_flow_end_ns;
    if (ev < recv - 3600 * (int64_t)S)
        ev = recv - 3600 * (int64_t)S;
    if (ev > recv + 60 * (int64_t)S)
        ev = recv + 60 * (int64_t)S;
    return (uint64_t)(ev / (int64_t)S) / window_s * window_s;
}

static void ref_add(ref_row **v, size_t *n, size_t *cap, const ft_flow *f, uint64_t ws)
{
    uint64_t rate = f->sampling_rate == 0 || f->sampling_rate > (1u << 24) ? 1 : f->sampling_rate;
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 4096;
            *v = realloc(*v, *cap * sizeof **v);
        }
        ref_row *r = &(*v)[(*n)++];
        memset(r, 0, sizeof *r);
        r->window_s = ws;
        r->dim = d;
        /* Key text spelled out here from the record, not by ft_rkey_text. */
        char ex[FT_ADDR_STRLEN];
        ft_addr_format(&f->sampler_address, ex);
        switch (d) {
        case FT_DIM_SRC_AS: snprintf(r->key, sizeof r->key, "AS%u", f->src_as); break;
        case FT_DIM_DST_AS: snprintf(r->key, sizeof r->key, "AS%u", f->dst_as); break;
        case FT_DIM_AS_PAIR: snprintf(r->key, sizeof r->key, "AS%u-AS%u", f->src_as, f->dst_as); break;
        case FT_DIM_SRC_PORT: snprintf(r->key, sizeof r->key, "%u/%u", f->proto, f->src_port); break;
        case FT_DIM_DST_PORT: snprintf(r->key, sizeof r->key, "%u/%u", f->proto, f->dst_port); break;
        case FT_DIM_PROTO: snprintf(r->key, sizeof r->key, "%u", f->proto); break;
        case FT_DIM_SRC_COUNTRY: snprintf(r->key, sizeof r->key, "%s", f->src_country[0] ? f->src_country : "unknown"); break;
        case FT_DIM_DST_COUNTRY: snprintf(r->key, sizeof r->key, "%s", f->dst_country[0] ? f->dst_country : "unknown"); break;
        case FT_DIM_IN_IF: snprintf(r->key, sizeof r->key, "%s:%u", ex, f->in_if); break;
        case FT_DIM_OUT_IF: snprintf(r->key, sizeof r->key, "%s:%u", ex, f->out_if); break;
        }
        r->bytes = f->bytes * rate;
        r->packets = f->packets * rate;
        r->flows = 1;
    }
}

static ft_flow random_record(uint64_t now)
{
    static const char cc[][3] = {"NL", "DE", "US", "", "FR"};
    ft_flow f = rec(now, 0, 1 + rnd() % 100000, 1 + rnd() % 100, 1 + rnd() % 3 * 511);
    /* Flow ends mostly recent, some old (late or clamped), some in the future. */
    uint64_t r = rnd() % 100;
    uint64_t back = r < 80 ? rnd() % (200 * S) : r < 95 ? rnd() % (7200 * S) : 0;
    f.time_flow_end_ns = back ? now - back : now + rnd() % (300 * S);
    f.src_as = 64500 + (uint32_t)(rnd() % 20);
    f.dst_as = 64500 + (uint32_t)(rnd() % 20);
    f.proto = rnd() % 2 ? 6 : 17;
    f.src_port = (uint32_t)(rnd() % 50);
    f.dst_port = 1024 + (uint32_t)(rnd() % 300);
    f.in_if = (uint32_t)(rnd() % 8);
    f.out_if = (uint32_t)(rnd() % 8);
    memcpy(f.src_country, cc[rnd() % 5], 3);
    memcpy(f.dst_country, cc[rnd() % 5], 3);
    if (rnd() % 4 == 0)
        ft_addr_parse("192.0.2.9", &f.sampler_address);
    if (rnd() % 50 == 0)
        f.sampling_rate = rnd() % 2 ? 0 : (1u << 25);
    return f;
}

/* Records from several workers, a clock moving in irregular steps, late
 * records, clamps, a finish with windows still open: every (window,
 * dimension, key) sum equals the reference's, and late counts equal what the
 * reference derives from the clock. */
static void differential(uint32_t window_s, uint32_t lateness_s, uint32_t workers, bool received, uint32_t n,
                         uint32_t max_keys)
{
    got g = {0};
    ft_windows *w = engine(&g, window_s, lateness_s, workers, max_keys, false, received);
    /* With few keys allowed, 'other' rows appear: compare per (window,
     * dimension) totals, which folding must keep exact. */
    bool totals_only = max_keys < 1000;
    ref_row *ref = NULL;
    size_t nref = 0, cap = 0;
    uint64_t now = T0, late = 0, clock = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (rnd() % 50 == 0) {
            now += rnd() % (90 * S);
            ft_windows_advance(w, now);
            clock = now;
        }
        ft_flow f = random_record(now);
        uint64_t ws = ref_window_s(&f, window_s, received);
        uint64_t c = clock > (uint64_t)lateness_s * S ? clock - (uint64_t)lateness_s * S : 0;
        if (clock && ws * S < c / (window_s * S) * (window_s * S))
            late++;
        ref_add(&ref, &nref, &cap, &f, ws);
        add1(w, (uint32_t)(rnd() % workers), &f);
    }
    ft_windows_finish(w, 0);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_late_records), late);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_records), n);
    if (totals_only)
        for (size_t i = 0; i < nref; i++)
            ref[i].key[0] = 0;
    nref = squash(ref, nref);
    ref_row *mine = calloc(g.n ? g.n : 1, sizeof *mine);
    for (size_t i = 0; i < g.n; i++) {
        mine[i].window_s = g.v[i].window_s;
        mine[i].dim = g.v[i].dim;
        if (!totals_only)
            memcpy(mine[i].key, g.v[i].key, sizeof mine[i].key);
        mine[i].bytes = g.v[i].bytes;
        mine[i].packets = g.v[i].packets;
        mine[i].flows = g.v[i].flows;
    }
    size_t nmine = squash(mine, g.n);
    ASSERT_EQ(nmine, nref);
    for (size_t i = 0; i < nref; i++) {
        if (cmp_ref(&mine[i], &ref[i]) != 0 || mine[i].bytes != ref[i].bytes || mine[i].packets != ref[i].packets ||
            mine[i].flows != ref[i].flows)
            FT_FAIL("row %zu: engine %llu %s %s %llu/%llu/%llu, reference %llu %s %s %llu/%llu/%llu", i,
                    (unsigned long long)mine[i].window_s, ft_dim_name((ft_dim)mine[i].dim), mine[i].key,
                    (unsigned long long)mine[i].bytes, (unsigned long long)mine[i].packets,
                    (unsigned long long)mine[i].flows, (unsigned long long)ref[i].window_s,
                    ft_dim_name((ft_dim)ref[i].dim), ref[i].key, (unsigned long long)ref[i].bytes,
                    (unsigned long long)ref[i].packets, (unsigned long long)ref[i].flows);
    }
    fprintf(stderr, "  window %us lateness %us workers %u: %u records, %zu rows, %zu batches (%zu corrections, "
            "%zu partial), %llu late\n", window_s, lateness_s, workers, n, nref, g.batches, g.corrections,
            g.partials, (unsigned long long)late);
    free(mine);
    free(ref);
    ft_windows_free(w);
    got_free(&g);
}

static void t_differential(void)
{
    differential(300, 120, 1, false, 20000, 100000);
    differential(60, 0, 3, false, 20000, 100000);
    differential(10, 30, 2, false, 20000, 100000);
    differential(300, 120, 4, true, 20000, 100000);
    differential(300, 120, 3, false, 20000, 16); /* folding on every dimension but proto */
}

/* --pcap: the records' own arrival times drive the clock. */
static void t_capture_clock(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 60, 10, 1, 1000, true, false);
    ft_flow a = rec(T0 + 5 * S, T0 + 1 * S, 100, 1, 1); /* window [T0, T0 + 60) */
    add1(w, 0, &a);
    ft_flow b = rec(T0 + 69 * S, T0 + 65 * S, 10, 1, 1); /* clock T0 + 69: not closed yet */
    add1(w, 0, &b);
    ASSERT_EQ(g.batches, 0);
    ft_flow c = rec(T0 + 70 * S, T0 + 66 * S, 1, 1, 1); /* clock T0 + 70 = end + lateness: closes it */
    add1(w, 0, &c);
    ASSERT_EQ(g.batches, 1);
    ASSERT_EQ(g.last_start_ns, T0);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 0), 100);
    /* An old capture time does not move the clock back. */
    ft_flow d = rec(T0 + 1 * S, T0 + 2 * S, 1000, 1, 1);
    add1(w, 0, &d);
    ASSERT_EQ(ctr(w, FT_WIN_CTR_late_records), 1);
    ft_flow e = rec(T0 + 71 * S, T0 + 67 * S, 1, 1, 1); /* one capture second later: correction out */
    add1(w, 0, &e);
    ASSERT_EQ(g.corrections, 1);
    ASSERT_EQ(sum(&g, T0 / S, FT_DIM_PROTO, "6", 0), 1100);
    ft_windows_finish(w, 0);
    ASSERT_EQ(g.partials, 1);
    ASSERT_EQ(sum(&g, T0 / S + 60, FT_DIM_PROTO, "6", 0), 12);
    ft_windows_free(w);
    got_free(&g);
}

/* Worker threads adding while another thread advances the clock: nothing
 * lost, nothing counted twice (run under ASan/UBSan too). */
struct thr {
    ft_windows *w;
    uint32_t idx, n;
    uint64_t bytes;
};

static void *adder(void *arg)
{
    struct thr *t = arg;
    ft_window_worker *ww = ft_windows_worker(t->w, t->idx);
    for (uint32_t i = 0; i < t->n; i++) {
        ft_flow f = rec(T0 + (uint64_t)i * 10 * 1000000, T0 + (uint64_t)i * 10 * 1000000, 1 + i % 1000, 1, 1);
        f.src_port = i % 5000;
        ft_window_add(ww, &f);
        t->bytes += 1 + i % 1000;
        if (i % 64 == 63)
            ft_window_batch_end(ww);
    }
    ft_window_batch_end(ww);
    return NULL;
}

static void t_threads(void)
{
    got g = {0};
    ft_windows *w = engine(&g, 1, 0, 4, 2000, false, false);
    ft_windows_advance(w, T0);
    struct thr t[4];
    pthread_t th[4];
    for (uint32_t i = 0; i < 4; i++) {
        t[i] = (struct thr){w, i, 50000, 0};
        pthread_create(&th[i], NULL, adder, &t[i]);
    }
    /* The records span T0 .. T0 + 500 s; advance through it meanwhile. */
    for (uint64_t s = 0; s < 500; s += 7)
        ft_windows_advance(w, T0 + s * S);
    uint64_t total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += t[i].bytes;
    }
    ft_windows_finish(w, 0);
    for (int d = 0; d < FT_DIM_COUNT; d++)
        ASSERT_EQ(sum(&g, 0, d, NULL, 0), total);
    ASSERT_EQ(sum(&g, 0, FT_DIM_PROTO, NULL, 2), 200000);
    fprintf(stderr, "  %zu batches, %zu corrections, %llu late\n", g.batches, g.corrections,
            (unsigned long long)ctr(w, FT_WIN_CTR_late_records));
    ft_windows_free(w);
    got_free(&g);
}

int main(void)
{
    ft_log_threshold = FT_LOG_WARN; /* one info line per window otherwise */
    FT_RUN(t_boundaries);
    FT_RUN(t_late_correction);
    FT_RUN(t_clamping);
    FT_RUN(t_sampling);
    FT_RUN(t_dimensions);
    FT_RUN(t_by_exporter);
    FT_RUN(t_other_folding);
    FT_RUN(t_recycled_tables);
    FT_RUN(t_agg_table);
    FT_RUN(t_differential);
    FT_RUN(t_capture_clock);
    FT_RUN(t_threads);
    return FT_DONE();
}
