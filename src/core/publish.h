/*
 * publish.h - hands a new read-only snapshot (e.g. the settings a SIGHUP
 * reloaded) from one writer thread to a fixed set of reader threads that
 * never lock, and tells the writer when the old snapshot is free to go.
 *
 * A quiescent-state scheme in the manner of RCU: readers poll a generation
 * number once per batch of work (one atomic load when nothing changed),
 * switch to the new snapshot between two batches, and acknowledge the
 * generation they now use. A reader that acknowledged generation g never
 * looks at a snapshot published before g again, so once every reader has
 * acknowledged g the writer may free everything older. Nothing is ever
 * freed under a reader, and no reader waits for the writer.
 *
 *   writer:  ft_publish_set(p, snap)        -> gen g
 *            ... ft_publish_all_acked(p, g) true -> free the previous ones
 *   reader i (per batch):
 *            if ((s = ft_publish_poll(p, i, &seen))) { switch to s; ft_publish_ack(p, i, seen); }
 *
 * Threads: one writer (any thread, but only one at a time); reader i only
 * from one thread. Ownership: the snapshots are the caller's; p only holds
 * pointers.
 */
#ifndef FT_PUBLISH_H
#define FT_PUBLISH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ft_publish ft_publish;

/* A publication for n_readers readers whose first snapshot is first
 * (generation 0; every reader has acknowledged it). NULL on ENOMEM. */
ft_publish *ft_publish_new(size_t n_readers, void *first);
void ft_publish_free(ft_publish *p); /* NULL is a no-op; snapshots untouched */

/* Writer: makes snap the current snapshot; returns its generation (the
 * previous one + 1). */
uint64_t ft_publish_set(ft_publish *p, void *snap);

/* Writer: true once every reader acknowledged generation gen or a later
 * one, i.e. no reader can hold a snapshot older than gen's. */
bool ft_publish_all_acked(const ft_publish *p, uint64_t gen);

/* Reader i: the current snapshot when its generation differs from *seen
 * (then *seen is updated to it), else NULL. One acquire load when nothing
 * changed. */
void *ft_publish_poll(ft_publish *p, size_t i, uint64_t *seen);

/* Reader i: it no longer uses any snapshot older than generation gen. */
void ft_publish_ack(ft_publish *p, size_t i, uint64_t gen);

/* The current snapshot (writer, or a reader about to start its first batch). */
void *ft_publish_current(const ft_publish *p);

#endif
