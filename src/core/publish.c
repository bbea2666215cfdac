/*
 * publish.c - snapshot hand-over between one writer and lock-free readers
 * (publish.h).
 *
 * Ordering: the writer stores the snapshot pointer, then the generation,
 * both release; a reader loads the generation (acquire), then the pointer
 * (acquire), so it sees a snapshot at least as new as that generation and
 * everything the writer built into it. A reader may meet generation g with
 * the snapshot of g + 1 when two publications race its poll: it then
 * acknowledges g, uses g + 1's snapshot, and at its next poll sees g + 1
 * and acknowledges that: never too early, only late.
 */
#include "core/publish.h"

#include <stdlib.h>

typedef struct reader_slot {
    _Alignas(64) _Atomic uint64_t acked; /* own cache line: readers write only their own */
} reader_slot;

struct ft_publish {
    _Atomic(void *) cur;
    _Atomic uint64_t gen;
    size_t n;
    reader_slot *r; /* n entries */
};

ft_publish *ft_publish_new(size_t n_readers, void *first)
{
    ft_publish *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n_readers;
    if (n_readers && !(p->r = aligned_alloc(64, n_readers * sizeof *p->r))) {
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < n_readers; i++)
        atomic_init(&p->r[i].acked, 0);
    atomic_init(&p->cur, first);
    atomic_init(&p->gen, 0);
    return p;
}

void ft_publish_free(ft_publish *p)
{
    if (!p)
        return;
    free(p->r);
    free(p);
}

uint64_t ft_publish_set(ft_publish *p, void *snap)
{
    uint64_t g = atomic_load_explicit(&p->gen, memory_order_relaxed) + 1;
    atomic_store_explicit(&p->cur, snap, memory_order_release);
    atomic_store_explicit(&p->gen, g, memory_order_release);
    return g;
}

bool ft_publish_all_acked(const ft_publish *p, uint64_t gen)
{
    for (size_t i = 0; i < p->n; i++)
        if (atomic_load_explicit(&p->r[i].acked, memory_order_acquire) < gen)
            return false;
    return true;
}

void *ft_publish_poll(ft_publish *p, size_t i, uint64_t *seen)
{
    (void)i;
    uint64_t g = atomic_load_explicit(&p->gen, memory_order_acquire);
    if (g == *seen)
        return NULL;
    *seen = g;
    return atomic_load_explicit(&p->cur, memory_order_acquire);
}

void ft_publish_ack(ft_publish *p, size_t i, uint64_t gen)
{
    if (i < p->n)
        atomic_store_explicit(&p->r[i].acked, gen, memory_order_release);
}

void *ft_publish_current(const ft_publish *p)
{
    return atomic_load_explicit((_Atomic(void *) *)&p->cur, memory_order_acquire);
}
