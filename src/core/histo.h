/*
 * histo.h - a fixed-bucket latency histogram with one writer and readers on
 * any thread, for /metrics (Prometheus histograms: cumulative buckets,
 * _sum and _count).
 *
 * The writer (a receive worker timing each datagram, the window stage's
 * flushing thread timing each SQLite transaction) adds with plain relaxed
 * loads and stores (ft_ctr: no lock prefix, no lock); readers sum the
 * histograms of every writer. Bucket bounds are fixed per use, in ns, so
 * two histograms of one kind add bucket by bucket.
 */
#ifndef FT_HISTO_H
#define FT_HISTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"

#define FT_HISTO_MAX_BUCKETS 16

typedef struct ft_histo {
    const uint64_t *le_ns; /* upper bounds, ns, ascending; n of them (+Inf implied after) */
    size_t n;
    ft_ctr count[FT_HISTO_MAX_BUCKETS + 1]; /* per bucket, NOT cumulative; [n] = above the last bound */
    ft_ctr sum_ns;
} ft_histo;

/* A plain copy, as read by ft_histo_read (summable). */
typedef struct ft_histo_snap {
    const uint64_t *le_ns;
    size_t n;
    uint64_t count[FT_HISTO_MAX_BUCKETS + 1];
    uint64_t sum_ns;
} ft_histo_snap;

/* Bounds for decode time per datagram: 1 us .. 10 ms. */
extern const uint64_t ft_histo_decode_le_ns[];
extern const size_t ft_histo_decode_n;
/* Bounds for SQLite flush transactions: 1 ms .. 30 s. */
extern const uint64_t ft_histo_flush_le_ns[];
extern const size_t ft_histo_flush_n;

static inline void ft_histo_init(ft_histo *h, const uint64_t *le_ns, size_t n)
{
    for (size_t i = 0; i <= FT_HISTO_MAX_BUCKETS; i++)
        atomic_init(&h->count[i], 0);
    atomic_init(&h->sum_ns, 0);
    h->le_ns = le_ns;
    h->n = n <= FT_HISTO_MAX_BUCKETS ? n : FT_HISTO_MAX_BUCKETS;
}

/* Writer only. A linear scan: the first buckets are the likely ones. */
static inline void ft_histo_add(ft_histo *h, uint64_t ns)
{
    size_t i = 0;
    while (i < h->n && ns > h->le_ns[i])
        i++;
    ft_ctr_add(&h->count[i], 1);
    ft_ctr_add(&h->sum_ns, ns);
}

/* Adds h into s (s zeroed, or holding histograms with the same bounds). */
static inline void ft_histo_read(const ft_histo *h, ft_histo_snap *s)
{
    s->le_ns = h->le_ns;
    s->n = h->n;
    for (size_t i = 0; i <= h->n; i++)
        s->count[i] += ft_ctr_get(&h->count[i]);
    s->sum_ns += ft_ctr_get(&h->sum_ns);
}

#endif
