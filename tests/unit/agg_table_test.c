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
        bool present = t->e[find(t, &k)].flows != 0;
        if (present != (a >= 3))
            FT_FAIL("key %u present %d", a, present);
    }
    ft_rkey o;
    other_key(t, &k9, &o);
    ft_agg_entry *other = &t->e[find(t, &o)];
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
    ASSERT_EQ(t->e[find(t, &k1)].flows, 0);
    for (uint32_t a = 2; a <= 5; a++) {
        ft_rkey k = key(60, a);
        ASSERT_TRUE(t->e[find(t, &k)].flows != 0);
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
    ASSERT_EQ(t->e[find(t, &k)].bytes, (uint64_t)INT64_MAX);
    ASSERT_EQ(t->e[find(t, &k)].packets, 2);
    ft_agg_free(t);
}

int main(void)
{
    FT_RUN(t_folds_keep_table_healthy);
    FT_RUN(t_fold_keeps_most_important);
    FT_RUN(t_other_rows);
    FT_RUN(t_saturation);
    return FT_DONE();
}
