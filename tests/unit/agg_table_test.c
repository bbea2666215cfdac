/*
 * agg_table_test.c - the bounded rollup map (window/agg_table.h): which keys
 * a fold keeps, exact sums, 'other' rows per window and exporter, and the
 * shape of the table after many folds.
 *
 * Includes the .c (h2o t/00unit style) to look at the slots. Oracles:
 * arithmetic done here, and linear probing's known behaviour: at load 3/4
 * with a good hash, runs of occupied slots stay in the tens, not thousands.
 */
#include "window/agg_table.c"

#include "test.h"

static ft_rkey key(uint64_t window_s, uint32_t a)
{
    ft_rkey k;
    memset(&k, 0, sizeof k);
    k.window_s = window_s;
    k.a = a;
    return k;
}

static size_t longest_run(const ft_agg *t)
{
    size_t run = 0, best = 0;
    for (size_t i = 0; i < 2 * t->cap; i++) { /* twice round: a run may wrap */
        if (t->e[i % t->cap].flows) {
            if (++run > best)
                best = run;
        } else {
            run = 0;
        }
    }
    return best < t->cap ? best : t->cap;
}

/* The slot holding k (a zeroed dummy when absent: flows 0). */
static slot *lookup(ft_agg *t, const ft_rkey *k)
{
    static slot none;
    uint64_t k0, k1;
    memset(&none, 0, sizeof none);
    if (!pack(t, k, &k0, &k1))
        return &none;
    return &t->e[find(t, k0, k1)];
}

static ft_rkey other_rkey(const ft_rkey *k)
{
    ft_rkey o;
    memset(&o, 0, sizeof o);
    o.window_s = k->window_s;
    o.other = 1;
    return o;
}

struct sums {
    uint64_t bytes, packets, flows, other_flows;
    size_t entries, others;
};

static void add_sums(void *arg, const ft_agg_entry *e)
{
    struct sums *s = arg;
    s->bytes += e->bytes;
    s->packets += e->packets;
    s->flows += e->flows;
    s->entries++;
    if (e->key.other) {
        s->others++;
        s->other_flows += e->flows;
    }
}

/* A flood of keys that all weigh the same: before the fix, ties were broken
 * by table position, the kept keys crowded one part of the hash space and a
 * run of 30000 occupied slots formed after a few folds (every lookup then
 * walked it). */
static void t_folds_keep_table_healthy(void)
{
    ft_agg *t = ft_agg_new(4000, false, 99);
    uint32_t x = 1;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345;
        ft_rkey k = key(60, x);
        ft_agg_add(t, &k, 1500, 1, 1);
    }
    ASSERT_TRUE(t->folded > 150000);
    size_t run = longest_run(t);
    fprintf(stderr, "  %zu slots, %zu used, longest run %zu after %llu folded keys\n", t->cap, t->used, run,
            (unsigned long long)t->folded);
    ASSERT_TRUE(run < 200);
    struct sums s = {0};
    ft_agg_foreach(t, add_sums, &s);
    ASSERT_EQ(s.bytes, 200000ull * 1500);
    ASSERT_EQ(s.flows, 200000);
    ft_agg_free(t);
}

/* A fold keeps the most bytes, then packets, then flows. */
static void t_fold_keeps_most_important(void)
{
    ft_agg *t = ft_agg_new(8, false, 1);
    /* 8 keys: a = 1..8 with bytes 10*a; then key 9 forces a fold of 2. */
    for (uint32_t a = 1; a <= 8; a++) {
        ft_rkey k = key(60, a);
        ft_agg_add(t, &k, 10 * a, 1, 1);
    }
    ft_rkey k9 = key(60, 9);
    ft_agg_add(t, &k9, 5, 1, 1);
    /* keep = 8 * 3 / 4 = 6: keys 3..8 stay, 1 and 2 fold, then 9 is added. */
    for (uint32_t a = 1; a <= 9; a++) {
        ft_rkey k = key(60, a);
        bool present = lookup(t, &k)->flows != 0;
        if (present != (a >= 3))
            FT_FAIL("key %u present %d", a, present);
    }
    ft_rkey o = other_rkey(&k9);
    slot *other = lookup(t, &o);
    ASSERT_EQ(other->bytes, 30);
    ASSERT_EQ(other->flows, 2);
    ft_agg_free(t);

    /* Equal bytes: packets decide. */
    t = ft_agg_new(4, false, 1);
    for (uint32_t a = 1; a <= 4; a++) {
        ft_rkey k = key(60, a);
        ft_agg_add(t, &k, 100, a, 1);
    }
    ft_rkey k5 = key(60, 5);
    ft_agg_add(t, &k5, 100, 9, 1); /* keep 3: 2, 3, 4 */
    ft_rkey k1 = key(60, 1);
    ASSERT_EQ(lookup(t, &k1)->flows, 0);
    for (uint32_t a = 2; a <= 5; a++) {
        ft_rkey k = key(60, a);
        ASSERT_TRUE(lookup(t, &k)->flows != 0);
    }
    ft_agg_free(t);
}

/* 'other' rows: one per window (late tables mix windows), one per exporter
 * with keep_exporter; they do not count against max_keys. */
static void t_other_rows(void)
{
    ft_agg *t = ft_agg_new(4, true, 1);
    uint64_t total = 0;
    for (uint32_t i = 0; i < 100; i++) {
        ft_rkey k = key(i % 2 ? 60 : 120, i);
        k.exporter_family = 4;
        k.exporter[15] = (uint8_t)(i % 3);
        ft_agg_add(t, &k, i + 1, 1, 1);
        total += i + 1;
    }
    struct sums s = {0};
    ft_agg_foreach(t, add_sums, &s);
    ASSERT_EQ(s.bytes, total);
    ASSERT_EQ(s.flows, 100);
    ASSERT_EQ(s.others, 6); /* 2 windows x 3 exporters */
    ASSERT_EQ(s.entries - s.others, t->keys);
    ASSERT_TRUE(t->keys <= 4);
    ft_agg_free(t);
}

/* Sums stop at INT64_MAX instead of wrapping. */
static void t_saturation(void)
{
    ft_agg *t = ft_agg_new(16, false, 1);
    ft_rkey k = key(60, 1);
    ft_agg_add(t, &k, (uint64_t)INT64_MAX - 5, 1, 1);
    ft_agg_add(t, &k, 10, 1, 1);
    ASSERT_EQ(lookup(t, &k)->bytes, (uint64_t)INT64_MAX);
    ASSERT_EQ(lookup(t, &k)->packets, 2);
    ft_agg_free(t);
}

/* Slots name exporters by an index private to their table: a merge must
 * translate, whatever order each table met its exporters in. Sums are
 * checked per (exporter, key) against arithmetic done here. */
struct per_exp {
    uint64_t bytes[3][4]; /* exporter 192.0.2.(1+i), key a = j */
    size_t n;
};

static void add_per_exp(void *arg, const ft_agg_entry *e)
{
    struct per_exp *s = arg;
    if (e->key.exporter_family != 4 || e->key.exporter[15] < 1 || e->key.exporter[15] > 3 || e->key.a > 3 ||
        e->key.window_s != 600) {
        FT_FAIL("unexpected key: family %u last byte %u a %u window %llu", e->key.exporter_family,
                e->key.exporter[15], e->key.a, (unsigned long long)e->key.window_s);
        return;
    }
    s->bytes[e->key.exporter[15] - 1][e->key.a] += e->bytes;
    s->n++;
}

static ft_rkey exp_key(uint8_t last, uint32_t a)
{
    ft_rkey k = key(600, a);
    ft_addr x;
    ft_addr_parse("192.0.2.0", &x);
    x.b[15] = last;
    memcpy(k.exporter, x.b, 16);
    k.exporter_family = x.family;
    return k;
}

static void t_exporters_translate_on_merge(void)
{
    ft_agg *a = ft_agg_new(100, false, 1), *b = ft_agg_new(100, false, 2), *m = ft_agg_new(100, false, 3);
    uint64_t want[3][4] = {{0}};
    /* a meets exporters 1, 2; b meets 3, 2, 1: index 1 means different
     * exporters in the two tables. */
    static const uint8_t order_a[] = {1, 2, 1, 2}, order_b[] = {3, 2, 1, 3};
    for (uint32_t j = 0; j < 4; j++) {
        ft_rkey ka = exp_key(order_a[j], j), kb = exp_key(order_b[j], j);
        ft_agg_add(a, &ka, 100 + j, 1, 1);
        ft_agg_add(b, &kb, 1000 + j, 1, 1);
        want[order_a[j] - 1][j] += 100 + j;
        want[order_b[j] - 1][j] += 1000 + j;
    }
    ft_agg_merge(m, b); /* m meets 3 first */
    ft_agg_merge(m, a);
    struct per_exp got = {{{0}}, 0};
    ft_agg_foreach(m, add_per_exp, &got);
    ASSERT_EQ(got.n, 6); /* (exporter 2, a 1) and (1, 2) are in both tables */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            if (got.bytes[i][j] != want[i][j])
                FT_FAIL("exporter %d key %d: %llu != %llu", i + 1, j, (unsigned long long)got.bytes[i][j],
                        (unsigned long long)want[i][j]);
    ft_agg_free(a);
    ft_agg_free(b);
    ft_agg_free(m);
}

/* A window start past 2^32 s (a capture with a timestamp after 2106)
 * keeps its value: its high bits live in the second key word. */
static void t_window_past_2106(void)
{
    ft_agg *t = ft_agg_new(100, false, 5);
    uint64_t far = (1ull << 34) + 300;
    ft_rkey k1 = key(far, 7), k2 = key(300, 7);
    ft_agg_add(t, &k1, 10, 1, 1);
    ft_agg_add(t, &k2, 20, 1, 1);
    ASSERT_EQ(ft_agg_count(t), 2);
    ASSERT_EQ(lookup(t, &k1)->bytes, 10);
    ASSERT_EQ(lookup(t, &k2)->bytes, 20);
    struct sums s = {0};
    ft_agg_foreach(t, add_sums, &s);
    ASSERT_EQ(s.bytes, 30);
    ft_agg_free(t);
}

/* ft_agg_prepare + ft_agg_add_prepared land where ft_agg_add does. */
static void t_prepared_is_add(void)
{
    ft_agg *t = ft_agg_new(1000, false, 6);
    ft_rkey k = exp_key(2, 42);
    ft_agg_add(t, &k, 5, 1, 1);
    ft_addr x;
    memcpy(x.b, k.exporter, 16);
    x.family = 4;
    ft_agg_pkey p;
    ASSERT_TRUE(ft_agg_prepare(t, 600, 42, 0, &x, &p));
    ft_agg_add_prepared(t, &p, 7, 2);
    ASSERT_EQ(ft_agg_count(t), 1);
    ASSERT_EQ(lookup(t, &k)->bytes, 12);
    ASSERT_EQ(lookup(t, &k)->packets, 3);
    ASSERT_EQ(lookup(t, &k)->flows, 2);
    ft_agg_free(t);
}

int main(void)
{
    FT_RUN(t_folds_keep_table_healthy);
    FT_RUN(t_fold_keeps_most_important);
    FT_RUN(t_other_rows);
    FT_RUN(t_saturation);
    FT_RUN(t_exporters_translate_on_merge);
    FT_RUN(t_window_past_2106);
    FT_RUN(t_prepared_is_add);
    return FT_DONE();
}
