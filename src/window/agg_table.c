/*
 * agg_table.c - bounded rollup map with folding into 'other' (agg_table.h).
 *
 * Workload: ten adds per flow record on the receive workers (one table per
 * dimension), mostly to keys already present; a merge per worker and
 * dimension at each window close. A fold copies the table out once,
 * selects the keys to keep with a randomised quickselect (expected linear
 * time whatever the byte counts are), and rebuilds.
 */
#include "window/agg_table.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64
#define SUM_MAX ((uint64_t)INT64_MAX)

struct ft_agg {
    ft_agg_entry *e;
    size_t cap;   /* power of two */
    size_t used;  /* entries, 'other' rows included */
    size_t keys;  /* ordinary keys */
    uint32_t max_keys;
    bool keep_exporter;
    uint64_t seed;
    uint64_t rng; /* quickselect pivots */
    uint64_t folded;
};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t hash_key(const ft_agg *t, const ft_rkey *k)
{
    uint64_t w[5];
    memcpy(w, k, sizeof w);
    uint64_t h = t->seed;
    for (int i = 0; i < 5; i++)
        h = mix(h ^ w[i]) + (uint64_t)i;
    return h;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a >= SUM_MAX || b >= SUM_MAX - a ? SUM_MAX : a + b;
}

ft_agg *ft_agg_new(uint32_t max_keys, bool keep_exporter, uint64_t seed)
{
    ft_agg *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = MIN_CAP;
    t->e = calloc(t->cap, sizeof *t->e);
    if (!t->e) {
        free(t);
        return NULL;
    }
    t->max_keys = max_keys < 4 ? 4 : max_keys;
    t->keep_exporter = keep_exporter;
    t->seed = mix(seed ^ 0x9E3779B97F4A7C15ULL);
    t->rng = t->seed | 1;
    return t;
}

void ft_agg_free(ft_agg *t)
{
    if (!t)
        return;
    free(t->e);
    free(t);
}

size_t ft_agg_count(const ft_agg *t)
{
    return t->used;
}

uint64_t ft_agg_folded(const ft_agg *t)
{
    return t->folded;
}

size_t ft_agg_memory(const ft_agg *t)
{
    return sizeof *t + t->cap * sizeof *t->e;
}

void ft_agg_clear(ft_agg *t)
{
    memset(t->e, 0, t->cap * sizeof *t->e);
    t->used = t->keys = 0;
}

/* The slot holding k, or the empty slot where it belongs. */
static size_t find(const ft_agg *t, const ft_rkey *k)
{
    size_t mask = t->cap - 1, i = (size_t)hash_key(t, k) & mask;
    while (t->e[i].flows && memcmp(&t->e[i].key, k, sizeof *k) != 0)
        i = (i + 1) & mask;
    return i;
}

/* Puts a whole entry into an empty slot (rebuilds; the key is absent). */
static void place(ft_agg *t, const ft_agg_entry *x)
{
    size_t i = find(t, &x->key);
    t->e[i] = *x;
    t->used++;
    if (!x->key.other)
        t->keys++;
}

static int grow(ft_agg *t)
{
    size_t ncap = t->cap * 2;
    ft_agg_entry *ne = calloc(ncap, sizeof *ne), *old = t->e;
    if (!ne)
        return -1;
    size_t ocap = t->cap;
    t->e = ne;
    t->cap = ncap;
    t->used = t->keys = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].flows)
            place(t, &old[i]);
    free(old);
    return 0;
}

static void other_key(const ft_agg *t, const ft_rkey *k, ft_rkey *o)
{
    memset(o, 0, sizeof *o);
    o->window_s = k->window_s;
    o->other = 1;
    if (t->keep_exporter) {
        memcpy(o->exporter, k->exporter, sizeof o->exporter);
        o->exporter_family = k->exporter_family;
    }
}

static uint64_t next_rand(ft_agg *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

static void swap(ft_agg_entry *a, ft_agg_entry *b)
{
    ft_agg_entry x = *a;
    *a = *b;
    *b = x;
}

/* Order of importance: bytes, then packets, then flows, then the key's
 * bytes. Ties must not be broken by table position: the kept keys would all
 * hash to one part of the table and linear probing would degrade into long
 * runs after a few folds. */
static int cmp_importance(const ft_agg_entry *a, const ft_agg_entry *b)
{
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? 1 : -1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? 1 : -1;
    if (a->flows != b->flows)
        return a->flows > b->flows ? 1 : -1;
    return memcmp(&a->key, &b->key, sizeof a->key);
}

/* Reorders v[0..n) so that v[0..k) hold the k most important entries
 * (quickselect around random pivots: expected linear time whatever the
 * values; keys are distinct, so the order is total). */
static void select_top(ft_agg *t, ft_agg_entry *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        swap(&v[lo + next_rand(t) % (hi - lo)], &v[hi - 1]);
        ft_agg_entry p = v[hi - 1];
        size_t store = lo;
        for (size_t i = lo; i < hi - 1; i++)
            if (cmp_importance(&v[i], &p) > 0)
                swap(&v[store++], &v[i]);
        swap(&v[store], &v[hi - 1]); /* the pivot: store entries are more important */
        if (k <= store)
            hi = store;
        else if (k == store + 1)
            return;
        else
            lo = store + 1;
    }
}

static void add_entry(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows);

/* Folds the smallest quarter of the ordinary keys into 'other'. Returns 0,
 * or -1 (nothing changed) when the copy cannot be allocated. */
static int fold(ft_agg *t)
{
    size_t n = t->used;
    ft_agg_entry *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    /* Others first, ordinary keys after. */
    size_t no = 0, nk = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].flows && t->e[i].key.other)
            v[no++] = t->e[i];
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].flows && !t->e[i].key.other)
            v[no + nk++] = t->e[i];
    size_t keep = (size_t)t->max_keys * 3 / 4;
    if (keep < 1)
        keep = 1;
    if (keep > nk)
        keep = nk;
    select_top(t, v + no, nk, keep);
    ft_agg_clear(t);
    for (size_t i = 0; i < no + keep; i++)
        place(t, &v[i]);
    for (size_t i = no + keep; i < no + nk; i++) {
        ft_rkey o;
        other_key(t, &v[i].key, &o);
        add_entry(t, &o, v[i].bytes, v[i].packets, v[i].flows);
    }
    t->folded += nk - keep;
    free(v);
    return 0;
}

static void add_entry(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    size_t i = find(t, k);
    ft_agg_entry *x = &t->e[i];
    if (!x->flows) {
        if (!k->other && t->keys >= t->max_keys) {
            if (fold(t) == 0) {
                add_entry(t, k, bytes, packets, flows);
                return;
            }
            /* No memory to fold: this key goes to 'other' itself. */
            ft_rkey o;
            other_key(t, k, &o);
            t->folded++;
            add_entry(t, &o, bytes, packets, flows);
            return;
        }
        if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0 && t->used + 2 > t->cap) {
            /* Out of memory with the table full to the last slot: only
             * an existing entry of the same window can take the values. */
            for (size_t j = 0; j < t->cap; j++) {
                if (t->e[j].flows && t->e[j].key.window_s == k->window_s && t->e[j].key.other) {
                    x = &t->e[j];
                    goto sum;
                }
            }
            return;
        }
        i = find(t, k); /* the table may have grown */
        x = &t->e[i];
        x->key = *k;
        t->used++;
        if (!k->other)
            t->keys++;
    }
sum:
    x->bytes = sat_add(x->bytes, bytes);
    x->packets = sat_add(x->packets, packets);
    x->flows = sat_add(x->flows, flows);
}

void ft_agg_add(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    if (!flows)
        flows = 1; /* 0 marks empty slots: a record is always one flow */
    add_entry(t, k, bytes, packets, flows);
}

void ft_agg_merge(ft_agg *dst, const ft_agg *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const ft_agg_entry *x = &src->e[i];
        if (x->flows)
            add_entry(dst, &x->key, x->bytes, x->packets, x->flows);
    }
    dst->folded += src->folded;
}

void ft_agg_foreach(const ft_agg *t, void (*cb)(void *arg, const ft_agg_entry *e), void *arg)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].flows)
            cb(arg, &t->e[i]);
}
