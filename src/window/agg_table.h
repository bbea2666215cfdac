/*
 * agg_table.h - a bounded open-addressing map ft_rkey -> {bytes, packets,
 * flows}, one per (window, dimension) and worker, and one per dimension at
 * merge time.
 *
 * Bounded memory: at most max_keys ordinary keys. A new key arriving when
 * the table is full triggers a fold: the quarter of the keys with the
 * fewest bytes is added into the 'other' row of their window (ft_rkey.other)
 * and removed, so the sums over the table never change: totals stay exact,
 * only the split between small keys is lost. 'other' rows (one per window,
 * and per exporter with keep_exporter) do not count against max_keys.
 *
 * Layout: 40-byte slots (the key packed into two words, its exporter an
 * index into the table's own exporter list; three uint64 sums), linear
 * probing, capacity a power of two kept at most 3/4 full, grown by doubling
 * from 64 slots; so a table costs 40 B / load, 53..107 B per key. The hash
 * is seeded per table (ft_agg_new) so that keys chosen by an exporter cannot
 * be made to collide on purpose without knowing the seed.
 *
 * Not thread-safe: one owner at a time (the window stage moves tables
 * between threads under a lock).
 */
#ifndef FT_AGG_TABLE_H
#define FT_AGG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "window/rollup.h"

typedef struct ft_agg_entry {
    ft_rkey key;
    uint64_t bytes, packets;
    uint64_t flows; /* >= 1 in a used entry; 0 marks an empty slot */
} ft_agg_entry;

typedef struct ft_agg ft_agg;

/* An empty table of at most max_keys (>= 4) ordinary keys. keep_exporter:
 * a folded key keeps its exporter in the 'other' row (--rollup-by-exporter).
 * NULL on ENOMEM. */
ft_agg *ft_agg_new(uint32_t max_keys, bool keep_exporter, uint64_t seed);
void ft_agg_free(ft_agg *t); /* NULL is a no-op */

/* Adds the sums to key k (other == 0 for an ordinary key, 1 to add straight
 * into an 'other' row); flows must be >= 1. Sums saturate at INT64_MAX (the
 * SQLite integer limit; counted by the caller, never reached by real
 * traffic). Never fails: when memory runs out the values go to 'other'. */
void ft_agg_add(ft_agg *t, const ft_rkey *k, uint64_t bytes, uint64_t packets, uint64_t flows);

/*
 * The hot path in two steps, so that a caller can start the memory loads
 * of several adds before doing any (the window stage keeps a few records in
 * flight): ft_agg_prepare packs a key for table t, hashes it and prefetches
 * its slot; ft_agg_add_prepared adds to it later. A prepared key stays valid
 * for t until ft_agg_clear (folds and growth keep it valid). exporter is
 * NULL for a key without one; window_s is s since the Unix epoch. Returns
 * false when the exporter cannot be named in t (no memory, 2^24 exporters):
 * add with ft_agg_add instead (it folds such keys into 'other').
 */
typedef struct ft_agg_pkey {
    uint64_t k0, k1, hash;
} ft_agg_pkey;
bool ft_agg_prepare(ft_agg *t, uint64_t window_s, uint32_t a, uint32_t b, const ft_addr *exporter,
                    ft_agg_pkey *p);
void ft_agg_add_prepared(ft_agg *t, const ft_agg_pkey *p, uint64_t bytes, uint64_t packets);

/* Adds every entry of src into dst ('other' rows into 'other' rows). */
void ft_agg_merge(ft_agg *dst, const ft_agg *src);

/* Entries held ('other' rows included). */
size_t ft_agg_count(const ft_agg *t);
/* Ordinary keys folded into 'other' so far. */
uint64_t ft_agg_folded(const ft_agg *t);
/* Bytes of memory the table holds. */
size_t ft_agg_memory(const ft_agg *t);
/* Bytes of slots a table holding max_keys ordinary keys and one 'other'
 * row reaches (the smallest power of two at most 3/4 full, 40 B a slot):
 * for start-up memory estimates. */
uint64_t ft_agg_full_bytes(uint32_t max_keys);

/* Calls cb once per entry, in table order. */
void ft_agg_foreach(const ft_agg *t, void (*cb)(void *arg, const ft_agg_entry *e), void *arg);

/* Empties the table (keys, exporters, the folded count), keeping its
 * memory: a window's tables are reused for a later window. */
void ft_agg_clear(ft_agg *t);

#endif
