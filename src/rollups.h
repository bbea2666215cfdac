/*
 * rollups.h - the enrich -> window -> {sqlite, kafka rollup} branch of the
 * pipeline, built from the configuration; pipeline.c wires it to the
 * receive workers.
 *
 *   receive worker i ──ft_flow──> enricher i (geo.h: countries, AS numbers)
 *                                    │  (the enriched record also feeds --print)
 *                                    └──> window worker i (window.h) ──close──> sinks:
 *                                                                  SQLite (sqlite_store.h)
 *                                                                  Kafka rollups (extra sink,
 *                                                                  kafka/rollup_sink.h)
 *
 * Enrichment runs when --geoip-country or --geoip-asn is given; windows
 * unless --db off and no extra sink (Kafka rollups) is given; SQLite unless
 * --db off. Live, a clock thread closes windows on the wall clock; with
 * --pcap the capture's timestamps do (window.h).
 *
 * Restarts: at start (live) the decode state saved in the database is
 * loaded into every decoder; every minute and at stop the decoders' state
 * is saved; at stop every open window is flushed as partial.
 *
 * Threads: ft_rollups_enricher(r, i) and ft_rollups_window(r, i) belong to
 * worker i; everything else is called from the main thread.
 */
#ifndef FT_ROLLUPS_H
#define FT_ROLLUPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "decode/decoder.h"
#include "enrich/geo.h"
#include "window/rollup.h"
#include "window/window.h"

typedef struct ft_rollups ft_rollups;

/*
 * Opens the GeoIP databases and the SQLite database and builds the windows
 * for n_workers receive workers, with extra_sinks (may be NULL; copied; for
 * Kafka rollups) after SQLite. c must outlive it. Returns 0 with *out set
 * (NULL when nothing is configured: no GeoIP, --db off and no extra sink),
 * or -1 after logging why (a bad GeoIP file, an unusable database...).
 */
int ft_rollups_new(const ft_config *c, uint32_t n_workers, const ft_rollup_sink *extra_sinks, size_t n_extra,
                   ft_rollups **out);

/* Worker i's enricher / window handle; NULL when that part is off (or r is NULL). */
ft_enricher *ft_rollups_enricher(ft_rollups *r, uint32_t i);
ft_window_worker *ft_rollups_window(ft_rollups *r, uint32_t i);

/* The GeoIP databases the enrichers were built over (NULL without GeoIP),
 * handed to the caller: ft_rollups_free will no longer close them, and
 * the caller must keep them open until every enricher is rebound
 * (ft_enricher_set_geo) or freed. For SIGHUP reloads (pipeline.c). */
ft_geo *ft_rollups_take_geo(ft_rollups *r);

/* Live mode, before the workers start: loads the saved decode state into d
 * (call once per decoder). No-op without a database. */
void ft_rollups_load_state(ft_rollups *r, ft_decoder *d);

/* Live mode, on worker i's thread about once a second (ft_worker_out.tick):
 * every --state-save the worker exports d's decode state, which the window
 * clock thread then writes to the database, so a crash loses at most that
 * much of what the exporters taught. */
void ft_rollups_tick(ft_rollups *r, uint32_t i, ft_decoder *d, uint64_t now_ns);

/* Live mode: starts the window clock thread. 0 or -1 (logged). */
int ft_rollups_start(ft_rollups *r);

/* After the workers stopped: flushes every open window as partial (live:
 * closing first what the wall clock passed). Idempotent. */
void ft_rollups_finish(ft_rollups *r);

/* After ft_rollups_finish: saves d's decode state (call once per decoder). */
void ft_rollups_save_state(ft_rollups *r, ft_decoder *d);

/* The --stats line {"kind":"rollup_stats",...}: window, enrichment and
 * SQLite counters. Nothing when r is NULL. */
void ft_rollups_print_stats(ft_rollups *r, FILE *out);

/* For the HTTP API and /metrics (any thread; NULL when that part is off or
 * r is NULL): the window stage, the SQLite store, and the enrichers'
 * counters summed into out[FT_GEO_CTR_COUNT] (returns false without GeoIP). */
struct ft_store;
ft_windows *ft_rollups_windows(ft_rollups *r);
struct ft_store *ft_rollups_store(ft_rollups *r);
bool ft_rollups_geo_counters(ft_rollups *r, uint64_t *out);

/* Logs a summary, closes the databases, frees. NULL is a no-op. */
void ft_rollups_free(ft_rollups *r);

#endif
