/*
 * agg_table.c - bounded rollup map with folding into 'other' (agg_table.h).
 *
 * Workload: ten adds per flow record on the receive workers (one table per
 * dimension), mostly to keys already present; a merge per worker and
 * dimension at each window close. A fold copies the table out once,
 * selects the keys to keep with a randomised quickselect (expected linear
 * time whatever the byte counts are), and rebuilds.
 *
 * Why the slots are not ft_rkey: with 40-byte keys a slot was 64 bytes and a
 * key was hashed as five words; the profile of a 100k-key rollup run spent
 * half its time in the probe loop, most of it waiting for cache lines. A
 * slot here is two key words and the three sums (40 bytes): the window start
 * fits 32 bits (seconds until 2106), the 17-byte exporter address becomes
 * an index into the table's own list of exporters (a table sees a handful),
 * and the 'other' flag a bit. Two words hash with one 64x64->128 multiply.
 */
#include "window/agg_table.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64
#define SUM_MAX ((uint64_t)INT64_MAX)

/* k1 layout: b in bits 0..31, exporter index + 1 in bits 32..55 (0 = no
 * exporter in the key), 'other' in bit 56, the window start's bits 32..38
 * in bits 57..63 (a start in ns since the epoch fits 35 bits of seconds). */
#define K1_EXP_SHIFT 32
#define K1_EXP_MASK 0xffffffull
#define K1_OTHER (1ull << 56)
#define K1_WHI_SHIFT 57
#define K1_WHI_MASK (0x7full << K1_WHI_SHIFT)
/* Exporters one table can name; a key whose exporter does not fit goes to
 * 'other' (counted as folded). Tables are per window and worker, and
 * exporters per worker are capped by the decoder long before this. */
#define MAX_EXPORTERS ((uint32_t)K1_EXP_MASK - 1)

typedef struct slot {
    uint64_t k0; /* window_s bits 0..31 | a << 32 */
    uint64_t k1; /* see K1_* */
    uint64_t bytes, packets;
    uint64_t flows; /* >= 1 in a used slot; 0 marks an empty one */
} slot;

typedef struct exp_addr {
    uint8_t b[16];
    uint8_t family;
} exp_addr;

struct ft_agg {
    slot *e;
    size_t cap;   /* power of two */
    unsigned shift; /* 64 - log2(cap): a hash's top bits pick the slot */
    size_t used;  /* entries, 'other' rows included */
    size_t keys;  /* ordinary keys */
    uint32_t max_keys;
    bool keep_exporter;
    uint64_t seed0, seed1;
    uint64_t rng; /* quickselect pivots */
    uint64_t folded;

    exp_addr *exp;   /* exporters named by keys, index = k1 exporter field - 1 */
    uint32_t n_exp, cap_exp;
    uint32_t *exp_ix; /* open addressing over exp: index + 1, 0 empty; 2 x cap_exp slots */
    uint32_t last_exp; /* index + 1 of the exporter used last, 0 none */
};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* The two key words folded by one 128-bit multiply of the seeded words
 * (both halves kept, so every input bit reaches the top bits that pick the
 * slot). The seeds are per table and secret: keys chosen by an exporter
 * cannot be made to collide without them. */
static inline uint64_t hash2(const ft_agg *t, uint64_t k0, uint64_t k1)
{
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)(k0 ^ t->seed0) * (u128)(k1 ^ t->seed1);
    return (uint64_t)(p >> 64) ^ (uint64_t)p;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a >= SUM_MAX || b >= SUM_MAX - a ? SUM_MAX : a + b;
}

static unsigned log2_of(size_t cap)
{
    unsigned n = 0;
    while (((size_t)1 << n) < cap)
        n++;
    return n;
}

ft_agg *ft_agg_new(uint32_t max_keys, bool keep_exporter, uint64_t seed)
{
    ft_agg *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = MIN_CAP;
    t->shift = 64 - log2_of(MIN_CAP);
    t->e = calloc(t->cap, sizeof *t->e);
    if (!t->e) {
        free(t);
        return NULL;
    }
    t->max_keys = max_keys < 4 ? 4 : max_keys;
    t->keep_exporter = keep_exporter;
    t->seed0 = mix(seed ^ 0x9E3779B97F4A7C15ULL) | 1;
    t->seed1 = mix(t->seed0 + 0x632BE59BD9B4E019ULL) | 1;
    t->rng = t->seed0;
    return t;
}

void ft_agg_free(ft_agg *t)
{
    if (!t)
        return;
    free(t->e);
    free(t->exp);
    free(t->exp_ix);
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
    return sizeof *t + t->cap * sizeof *t->e + t->cap_exp * (sizeof *t->exp + 2 * sizeof *t->exp_ix);
}

uint64_t ft_agg_full_bytes(uint32_t max_keys)
{
    uint64_t cap = MIN_CAP;
    while (((uint64_t)max_keys + 1) * 4 > cap * 3)
        cap *= 2;
    return cap * sizeof(slot);
}

void ft_agg_clear(ft_agg *t)
{
    memset(t->e, 0, t->cap * sizeof *t->e);
    t->used = t->keys = 0;
    t->folded = 0;
    /* Slots name exporters by index: the list empties with them. */
    if (t->exp_ix)
        memset(t->exp_ix, 0, 2 * (size_t)t->cap_exp * sizeof *t->exp_ix);
    t->n_exp = 0;
    t->last_exp = 0;
}

/* ---- exporters ----------------------------------------------------------------- */

static uint64_t exp_hash(const uint8_t b[16], uint8_t family)
{
    uint64_t w0, w1;
    memcpy(&w0, b, 8);
    memcpy(&w1, b + 8, 8);
    return mix(w0 ^ mix(w1 + family));
}

static bool exp_eq(const exp_addr *x, const uint8_t b[16], uint8_t family)
{
    return x->family == family && memcmp(x->b, b, 16) == 0;
}

static void exp_index(ft_agg *t, uint32_t i)
{
    uint32_t mask = 2 * t->cap_exp - 1, j = (uint32_t)exp_hash(t->exp[i].b, t->exp[i].family) & mask;
    while (t->exp_ix[j])
        j = (j + 1) & mask;
    t->exp_ix[j] = i + 1;
}

/* The exporter's index + 1 in this table, added when new; 0 when no more
 * exporters fit (memory or MAX_EXPORTERS). */
static uint32_t exp_intern(ft_agg *t, const uint8_t b[16], uint8_t family)
{
    if (t->last_exp && exp_eq(&t->exp[t->last_exp - 1], b, family))
        return t->last_exp;
    if (t->cap_exp) {
        uint32_t mask = 2 * t->cap_exp - 1, j = (uint32_t)exp_hash(b, family) & mask;
        for (; t->exp_ix[j]; j = (j + 1) & mask) {
            if (exp_eq(&t->exp[t->exp_ix[j] - 1], b, family))
                return t->last_exp = t->exp_ix[j];
        }
    }
    if (t->n_exp >= MAX_EXPORTERS)
        return 0;
    if (t->n_exp == t->cap_exp) {
        uint32_t ncap = t->cap_exp ? 2 * t->cap_exp : 8;
        exp_addr *ne = realloc(t->exp, (size_t)ncap * sizeof *ne);
        if (!ne)
            return 0;
        t->exp = ne;
        uint32_t *nix = calloc(2 * (size_t)ncap, sizeof *nix);
        if (!nix)
            return 0;
        free(t->exp_ix);
        t->exp_ix = nix;
        t->cap_exp = ncap;
        for (uint32_t i = 0; i < t->n_exp; i++)
            exp_index(t, i);
    }
    exp_addr *x = &t->exp[t->n_exp];
    memcpy(x->b, b, 16);
    x->family = family;
    exp_index(t, t->n_exp);
    return t->last_exp = ++t->n_exp;
}

/* ---- keys ---------------------------------------------------------------------- */

/* ft_rkey -> slot key; false when its exporter cannot be named here. */
static bool pack(ft_agg *t, const ft_rkey *k, uint64_t *k0, uint64_t *k1)
{
    uint64_t e = 0;
    if (k->exporter_family) {
        e = exp_intern(t, k->exporter, k->exporter_family);
        if (!e)
            return false;
    }
    *k0 = (k->window_s & 0xffffffffull) | (uint64_t)k->a << 32;
    *k1 = (uint64_t)k->b | e << K1_EXP_SHIFT | (k->other ? K1_OTHER : 0) |
          (k->window_s >> 32 << K1_WHI_SHIFT & K1_WHI_MASK);
    return true;
}

static void unpack(const ft_agg *t, const slot *s, ft_rkey *k)
{
    memset(k, 0, sizeof *k);
    k->window_s = (s->k0 & 0xffffffffull) | (s->k1 & K1_WHI_MASK) >> K1_WHI_SHIFT << 32;
    k->a = (uint32_t)(s->k0 >> 32);
    k->b = (uint32_t)s->k1;
    uint32_t e = (uint32_t)(s->k1 >> K1_EXP_SHIFT & K1_EXP_MASK);
    if (e) {
        memcpy(k->exporter, t->exp[e - 1].b, 16);
        k->exporter_family = t->exp[e - 1].family;
    }
    k->other = (s->k1 & K1_OTHER) != 0;
}

/* The 'other' row's key for slot key (k0, k1): same window, and same
 * exporter with keep_exporter. */
static void other_of(const ft_agg *t, uint64_t k0, uint64_t k1, uint64_t *o0, uint64_t *o1)
{
    *o0 = k0 & 0xffffffffull;
    *o1 = K1_OTHER | (k1 & K1_WHI_MASK) | (t->keep_exporter ? k1 & (K1_EXP_MASK << K1_EXP_SHIFT) : 0);
}

/* The slot holding (k0, k1) of hash h, or the empty slot where it belongs. */
static inline size_t find_h(const ft_agg *t, uint64_t h, uint64_t k0, uint64_t k1)
{
    size_t mask = t->cap - 1, i = (size_t)(h >> t->shift);
    while (t->e[i].flows && (t->e[i].k0 != k0 || t->e[i].k1 != k1))
        i = (i + 1) & mask;
    return i;
}

static size_t find(const ft_agg *t, uint64_t k0, uint64_t k1)
{
    return find_h(t, hash2(t, k0, k1), k0, k1);
}

/* Puts a whole slot into an empty place (rebuilds; the key is absent). */
static void place(ft_agg *t, const slot *x)
{
    size_t i = find(t, x->k0, x->k1);
    t->e[i] = *x;
    t->used++;
    if (!(x->k1 & K1_OTHER))
        t->keys++;
}

static int grow(ft_agg *t)
{
    size_t ncap = t->cap * 2;
    slot *ne = calloc(ncap, sizeof *ne), *old = t->e;
    if (!ne)
        return -1;
    size_t ocap = t->cap;
    t->e = ne;
    t->cap = ncap;
    t->shift--;
    t->used = t->keys = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].flows)
            place(t, &old[i]);
    free(old);
    return 0;
}

static uint64_t next_rand(ft_agg *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

static void swap(slot *a, slot *b)
{
    slot x = *a;
    *a = *b;
    *b = x;
}

/* Order of importance: bytes, then packets, then flows, then the key.
 * Ties must not be broken by table position: the kept keys would all hash
 * to one part of the table and linear probing would degrade into long runs
 * after a few folds. */
static int cmp_importance(const slot *a, const slot *b)
{
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? 1 : -1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? 1 : -1;
    if (a->flows != b->flows)
        return a->flows > b->flows ? 1 : -1;
    if (a->k0 != b->k0)
        return a->k0 > b->k0 ? 1 : -1;
    return a->k1 > b->k1 ? 1 : a->k1 < b->k1 ? -1 : 0;
}

/* Reorders v[0..n) so that v[0..k) hold the k most important entries
 * (quickselect around random pivots: expected linear time whatever the
 * values; keys are distinct, so the order is total). */
static void select_top(ft_agg *t, slot *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1 && k > lo && k < hi) {
        swap(&v[lo + next_rand(t) % (hi - lo)], &v[hi - 1]);
        slot p = v[hi - 1];
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

static void add_slot(ft_agg *t, uint64_t k0, uint64_t k1, uint64_t bytes, uint64_t packets, uint64_t flows);

/* Folds the smallest quarter of the ordinary keys into 'other'. Returns 0,
 * or -1 (nothing changed) when the copy cannot be allocated. The exporter
 * list is kept: the kept slots still name exporters by index. */
static int fold(ft_agg *t)
{
    size_t n = t->used;
    slot *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    /* Others first, ordinary keys after. */
    size_t no = 0, nk = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].flows && (t->e[i].k1 & K1_OTHER))
            v[no++] = t->e[i];
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].flows && !(t->e[i].k1 & K1_OTHER))
            v[no + nk++] = t->e[i];
    size_t keep = (size_t)t->max_keys * 3 / 4;
    if (keep < 1)
        keep = 1;
    if (keep > nk)
        keep = nk;
    select_top(t, v + no, nk, keep);
    memset(t->e, 0, t->cap * sizeof *t->e);
    t->used = t->keys = 0;
    for (size_t i = 0; i < no + keep; i++)
        place(t, &v[i]);
    for (size_t i = no + keep; i < no + nk; i++) {
        uint64_t o0, o1;
        other_of(t, v[i].k0, v[i].k1, &o0, &o1);
        add_slot(t, o0, o1, v[i].bytes, v[i].packets, v[i].flows);
    }
    t->folded += nk - keep;
    free(v);
    return 0;
}

static void add_slot_h(ft_agg *t, uint64_t h, uint64_t k0, uint64_t k1, uint64_t bytes, uint64_t packets,
                       uint64_t flows)
{
    size_t i = find_h(t, h, k0, k1);
    slot *x = &t->e[i];
    if (!x->flows) {
        bool other = (k1 & K1_OTHER) != 0;
        if (!other && t->keys >= t->max_keys) {
            if (fold(t) == 0) {
                add_slot(t, k0, k1, bytes, packets, flows);
                return;
            }
            /* No memory to fold: this key goes to 'other' itself. */
            uint64_t o0, o1;
            other_of(t, k0, k1, &o0, &o1);
            t->folded++;
            add_slot(t, o0, o1, bytes, packets, flows);
            return;
        }
        if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0 && t->used + 2 > t->cap) {
            /* Out of memory with the table full to the last slot: only
             * an existing 'other' row of the same window can take the
             * values. */
            for (size_t j = 0; j < t->cap; j++) {
                if (t->e[j].flows && (t->e[j].k1 & K1_OTHER) &&
                    (t->e[j].k0 & 0xffffffffull) == (k0 & 0xffffffffull) &&
                    (t->e[j].k1 & K1_WHI_MASK) == (k1 & K1_WHI_MASK)) {
                    x = &t->e[j];
                    goto sum;
                }
            }
            return;
        }
        i = find_h(t, h, k0, k1); /* the table may have grown */
        x = &t->e[i];
        x->k0 = k0;
        x->k1 = k1;
        t->used++;
        if (!other)
            t->keys++;
    }
sum:
    x->bytes = sat_add(x->bytes, bytes);
    x->packets = sat_add(x->packets, packets);
    x->flows = sat_add(x->flows, flows);
}

static void add_slot(ft_agg *t, uint64_t k0, uint64_t k1, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    add_slot_h(t, hash2(t, k0, k1), k0, k1, bytes, packets, flows);
}

/* Adds into the exporter-less 'other' row of k's window: where a key goes
 * whose exporter cannot be named (no memory, or MAX_EXPORTERS reached). */
static void add_unnamed(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    t->folded++;
    add_slot(t, k->window_s & 0xffffffffull, K1_OTHER | (k->window_s >> 32 << K1_WHI_SHIFT & K1_WHI_MASK), bytes,
             packets, flows);
}

void ft_agg_add(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows)
{
    if (!flows)
        flows = 1; /* 0 marks empty slots: a record is always one flow */
    uint64_t k0, k1;
    if (!pack(t, k, &k0, &k1)) {
        add_unnamed(t, k, bytes, packets, flows);
        return;
    }
    add_slot(t, k0, k1, bytes, packets, flows);
}

bool ft_agg_prepare(ft_agg *t, uint64_t window_s, uint32_t a, uint32_t b, const ft_addr *exporter,
                    ft_agg_pkey *p)
{
    uint64_t e = 0;
    if (exporter) {
        e = exp_intern(t, exporter->b, exporter->family);
        if (!e)
            return false;
    }
    p->k0 = (window_s & 0xffffffffull) | (uint64_t)a << 32;
    p->k1 = (uint64_t)b | e << K1_EXP_SHIFT | (window_s >> 32 << K1_WHI_SHIFT & K1_WHI_MASK);
    p->hash = hash2(t, p->k0, p->k1);
    /* A 40-byte slot may straddle two cache lines. */
    const char *at = (const char *)&t->e[p->hash >> t->shift];
    __builtin_prefetch(at, 1);
    __builtin_prefetch(at + sizeof(slot) - 1, 1);
    return true;
}

void ft_agg_add_prepared(ft_agg *t, const ft_agg_pkey *p, uint64_t bytes, uint64_t packets)
{
    add_slot_h(t, p->hash, p->k0, p->k1, bytes, packets, 1);
}

void ft_agg_merge(ft_agg *dst, const ft_agg *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const slot *x = &src->e[i];
        if (!x->flows)
            continue;
        /* Exporter indexes are per table: translate through the key. */
        ft_rkey k;
        unpack(src, x, &k);
        uint64_t k0, k1;
        if (!pack(dst, &k, &k0, &k1)) {
            add_unnamed(dst, &k, x->bytes, x->packets, x->flows);
            continue;
        }
        add_slot(dst, k0, k1, x->bytes, x->packets, x->flows);
    }
    dst->folded += src->folded;
}

void ft_agg_foreach(const ft_agg *t, void (*cb)(void *arg, const ft_agg_entry *e), void *arg)
{
    for (size_t i = 0; i < t->cap; i++) {
        const slot *x = &t->e[i];
        if (!x->flows)
            continue;
        ft_agg_entry e;
        unpack(t, x, &e.key);
        e.bytes = x->bytes;
        e.packets = x->packets;
        e.flows = x->flows;
        cb(arg, &e);
    }
}
