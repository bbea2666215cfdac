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
 * Layout: 64-byte entries (40-byte key, three uint64 sums), linear probing,
 * capacity a power of two kept at most 3/4 full, grown by doubling from 64
 * entries; so a table costs about 64 B / load, 85..170 B per key. The hash
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

/* Adds every entry of src into dst ('other' rows into 'other' rows). */
void ft_agg_merge(ft_agg *dst, const ft_agg *src);

/* Entries held ('other' rows included). */
size_t ft_agg_count(const ft_agg *t);
/* Ordinary keys folded into 'other' so far. */
uint64_t ft_agg_folded(const ft_agg *t);
/* Bytes of memory the table holds. */
size_t ft_agg_memory(const ft_agg *t);

/* Calls cb once per entry, in table order. */
void ft_agg_foreach(const ft_agg *t, void (*cb)(void *arg, const ft_agg_entry *e), void *arg);

/* Empties the table, keeping its memory. */
void ft_agg_clear(ft_agg *t);

#endif
