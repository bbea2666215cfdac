/*
 * pipeline.h - builds flowtally's stages from a configuration, runs them,
 * and tears them down in reverse. The graph itself is drawn in pipeline.c.
 *
 * Live mode:  ft_pipeline_new (binds every listener, exit 1 on failure)
 *             -> ft_pipeline_start -> ... signal ... -> ft_pipeline_stop
 *             -> ft_pipeline_print_stats -> ft_pipeline_free.
 * Pcap mode:  ft_pipeline_new -> ft_pipeline_run_pcap -> print_stats -> free.
 * All calls from the main thread.
 */
#ifndef FT_PIPELINE_H
#define FT_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

typedef struct ft_pipeline ft_pipeline;

/* Builds every stage c asks for: outputs, decoders, and in live mode the
 * listeners, bound and logged ("listening on ..."). c must outlive the
 * pipeline. Returns NULL after logging why (cannot bind ADDR: errno text,
 * out of memory...). */
ft_pipeline *ft_pipeline_new(const ft_config *c);

/* Live mode: starts the receive threads. Returns 0, or -1 after logging. */
int ft_pipeline_start(ft_pipeline *p);

/* Live mode: tells every worker to stop, wakes them, joins them (each
 * finishes its decoder and flushes its outputs). Idempotent. */
void ft_pipeline_stop(ft_pipeline *p);

/* Pcap mode: replays the capture on the calling thread; *stop (set by the
 * SIGINT/SIGTERM handler) ends it early. Returns 0, or -1 after logging
 * (cannot open, unsupported link type, read error). */
int ft_pipeline_run_pcap(ft_pipeline *p, const atomic_bool *stop);

/* True when the HTTP server runs (for --pcap --serve). */
bool ft_pipeline_serving(const ft_pipeline *p);

/*
 * SIGHUP, on the main thread, live mode: applies nc (a freshly parsed
 * configuration: ft_config_parse_args with the same argv, re-reading
 * --config; taken, freed here in every case) while the workers run:
 * --allow-exporter, --sampling-rate (for exporters already known too) and
 * the GeoIP databases (opened again, also when the file names are the
 * same; each worker's cache is emptied). Any other option that differs
 * from the running configuration is logged as needing a restart and keeps
 * its value; so does turning GeoIP on or off. Waits up to 5 s for every
 * worker to switch (one receive batch; idle ones are woken).
 * Returns 0 (logged "configuration reloaded"), or -1 when a GeoIP file
 * cannot be opened (logged; the running configuration stays). Counted in
 * /metrics flowtally_config_reloads_total. With --pcap: logged, ignored.
 */
int ft_pipeline_reload(ft_pipeline *p, ft_config *nc);

/* A reload that failed before ft_pipeline_reload (the file does not
 * parse): logs why, counts it; the running configuration stays. */
void ft_pipeline_reload_failed(ft_pipeline *p, const char *why);

/* Writes the --stats lines (one JSON object per exporter, summed across
 * workers and listeners) to out. Only once the workers are stopped. */
void ft_pipeline_print_stats(ft_pipeline *p, FILE *out);

/* Stops if needed, then frees every stage in reverse order of creation.
 * NULL is a no-op. */
void ft_pipeline_free(ft_pipeline *p);

#endif
