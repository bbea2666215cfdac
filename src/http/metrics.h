/*
 * metrics.h - each stage's counters as Prometheus families (prom.h), every
 * name prefixed flowtally_. pipeline.c gathers the values (it alone knows
 * the stages) and calls these; the HTTP server serves the text at /metrics.
 *
 * Families (labels):
 *   flowtally_exporter_<counter>_total (exporter)  every FT_CTR_MAP counter, per exporter
 *       (counter_samples is flowtally_exporter_sflow_stats_samples_total: no type in a name)
 *   flowtally_exporter_errors_total (exporter, kind)  every FT_ERR_MAP kind
 *   flowtally_exporter_templates / _pending_sets / _sampling_rate / _last_seen_seconds (exporter)  gauges
 *   flowtally_exporter_protocol (exporter, protocol)  1 per protocol seen
 *   flowtally_sflow_if_* (agent, ifindex)  sFlow counter samples: the agent's own counters as
 *       counters (_total), speed and status as gauges
 *   flowtally_udp_* (listener, worker)  receive counters
 *   flowtally_decode_duration_seconds  histogram, every worker
 *   flowtally_window_* / flowtally_sqlite_* / flowtally_geo_*  FT_WIN_CTR_MAP, FT_STORE_CTR_MAP,
 *       FT_GEO_CTR_MAP (ns totals as _seconds_total, maxima as gauges), the SQLite flush
 *       histogram flowtally_sqlite_flush_duration_seconds
 *   flowtally_kafka_* (code for failures)  Kafka stage, queue depth gauge
 */
#ifndef FT_HTTP_METRICS_H
#define FT_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/counters.h"
#include "flow/flow_json.h"
#include "http/prom.h"
#include "kafka/producer.h"
#include "listen/udp.h"

/* Exporters, merged (ft_stats_set_merge) so each appears once. */
void ft_metrics_exporters(ft_prom *p, const ft_stats_set *set);

/* sFlow interfaces; v is sorted by (agent, ifindex) and duplicates (the same
 * agent seen by two workers) reduced to the latest, in place. */
void ft_metrics_interfaces(ft_prom *p, ft_if_counters *v, size_t n);

/* Receive counters of every worker of every listener, and the decode
 * histogram summed over them plus `extra` (the --pcap decoder's, or NULL). */
void ft_metrics_udp(ft_prom *p, ft_udp_listener *const *l, size_t n, const ft_histo_snap *extra);

/* Window stage counters (FT_WIN_CTR_COUNT values). */
void ft_metrics_windows(ft_prom *p, const uint64_t *v);
/* SQLite store counters (FT_STORE_CTR_COUNT values), flush histogram, write state. */
void ft_metrics_store(ft_prom *p, const uint64_t *v, const ft_histo_snap *flush, int write_ok,
                      uint64_t pending_batches, uint64_t pending_rows);
/* GeoIP enrichment counters (FT_GEO_CTR_COUNT values). */
void ft_metrics_geo(ft_prom *p, const uint64_t *v);
/* Kafka stage counters and the local queue depth. */
void ft_metrics_kafka(ft_prom *p, const ft_kafka_stats *s, long queue_len);
/* The rollup rows' class of the same producer (--kafka-rollup-topic):
 * flowtally_kafka_rollup_*_total, the counters of kafka_stats "rollups". */
void ft_metrics_kafka_rollups(ft_prom *p, const ft_kafka_stats *s);
/* --print lines written and lost. */
void ft_metrics_print(ft_prom *p, uint64_t lines, uint64_t lost);

#endif
