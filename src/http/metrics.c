/*
 * metrics.c - stage counters as Prometheus families (metrics.h). Runs on an
 * HTTP thread per scrape; reads plain snapshots handed in by pipeline.c.
 */
#include "http/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/geo.h"
#include "store/sqlite_store.h"
#include "window/window.h"

#define NAME_MAX_ 128
#define LABELS_MAX 320

typedef struct named {
    const char *name, *help;
} named;

static const named exporter_ctrs[FT_CTR_COUNT] = {
#define X(name, help) {#name, help},
    FT_CTR_MAP(X)
#undef X
};

/* ---- exporters ------------------------------------------------------------------ */

/* The family name of a FT_CTR_MAP counter: flowtally_exporter_NAME_total,
 * except where the name would trip Prometheus' naming rules (a metric name
 * must not contain its type: "counter_samples"). */
static const char *ctr_family(int c, char *buf, size_t len)
{
    const char *n = exporter_ctrs[c].name;
    if (c == FT_CTR_counter_samples)
        n = "sflow_stats_samples";
    snprintf(buf, len, "flowtally_exporter_%s_total", n);
    return buf;
}

void ft_metrics_exporters(ft_prom *p, const ft_stats_set *set)
{
    char name[NAME_MAX_], lab[LABELS_MAX], a[FT_ADDR_STRLEN];
    for (int c = 0; c < FT_CTR_COUNT; c++) {
        ft_prom_family(p, ctr_family(c, name, sizeof name), "counter", exporter_ctrs[c].help);
        for (size_t i = 0; i < set->n; i++)
            ft_prom_u64(p, name, ft_prom_labels(lab, sizeof lab, 1, "exporter", ft_addr_format(&set->v[i].addr, a)),
                        set->v[i].ctr[c]);
    }
    ft_prom_family(p, "flowtally_exporter_errors_total", "counter",
                   "datagrams, sets and records dropped or cut short, by kind (the --stats errors)");
    for (size_t i = 0; i < set->n; i++) {
        ft_addr_format(&set->v[i].addr, a);
        for (int e = 1; e < FT_ERR_COUNT; e++)
            ft_prom_u64(p, "flowtally_exporter_errors_total",
                        ft_prom_labels(lab, sizeof lab, 2, "exporter", a, "kind", ft_err_name((ft_err)e)),
                        set->v[i].errors[e]);
    }
    static const struct {
        const char *name, *help;
        int field;
    } gauges[] = {
        {"flowtally_exporter_templates", "templates held now (NetFlow v9, IPFIX)", 0},
        {"flowtally_exporter_pending_sets", "data sets held now until their template arrives", 1},
        {"flowtally_exporter_sampling_rate", "the exporter's sampling rate (1 in N; 0 = unknown)", 2},
        {"flowtally_exporter_last_seen_seconds", "time the last datagram arrived, s since the Unix epoch", 3},
    };
    for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++) {
        ft_prom_family(p, gauges[g].name, "gauge", gauges[g].help);
        for (size_t i = 0; i < set->n; i++) {
            const ft_exporter_stats *s = &set->v[i];
            ft_prom_labels(lab, sizeof lab, 1, "exporter", ft_addr_format(&s->addr, a));
            if (gauges[g].field == 3)
                ft_prom_f64(p, gauges[g].name, lab, (double)s->last_seen_ns / 1e9);
            else
                ft_prom_u64(p, gauges[g].name, lab,
                            gauges[g].field == 0 ? s->templates : gauges[g].field == 1 ? s->pending : s->sampling_rate);
        }
    }
    static const struct {
        uint32_t bit;
        const char *name;
    } protos[] = {{FT_PROTO_NETFLOW_V5, "netflow_v5"},
                  {FT_PROTO_NETFLOW_V9, "netflow_v9"},
                  {FT_PROTO_IPFIX, "ipfix"},
                  {FT_PROTO_SFLOW_5, "sflow_5"}};
    ft_prom_family(p, "flowtally_exporter_protocol", "gauge", "1 for each export protocol the exporter has sent");
    for (size_t i = 0; i < set->n; i++) {
        ft_addr_format(&set->v[i].addr, a);
        for (size_t k = 0; k < sizeof protos / sizeof protos[0]; k++)
            if (set->v[i].protocols & protos[k].bit)
                ft_prom_u64(p, "flowtally_exporter_protocol",
                            ft_prom_labels(lab, sizeof lab, 2, "exporter", a, "protocol", protos[k].name), 1);
    }
}

/* ---- sFlow interfaces ------------------------------------------------------------ */

static int cmp_if(const void *pa, const void *pb)
{
    const ft_if_counters *x = pa, *y = pb;
    if (x->agent.family != y->agent.family)
        return x->agent.family < y->agent.family ? -1 : 1;
    int c = memcmp(x->agent.b, y->agent.b, 16);
    if (c)
        return c;
    if (x->if_index != y->if_index)
        return x->if_index < y->if_index ? -1 : 1;
    return x->updated_ns > y->updated_ns ? -1 : x->updated_ns < y->updated_ns; /* latest first */
}

typedef uint64_t (*if_fn)(const ft_if_counters *c);
#define IFF(field)                                    \
    static uint64_t if_##field(const ft_if_counters *c) \
    {                                                 \
        return c->field;                              \
    }
IFF(in_octets)
IFF(out_octets)
IFF(in_packets)
IFF(out_packets)
IFF(in_errors)
IFF(out_errors)
IFF(in_discards)
IFF(out_discards)
#undef IFF
static uint64_t if_speed_bytes(const ft_if_counters *c)
{
    return c->if_speed / 8; /* Prometheus' base unit is the byte */
}
static uint64_t if_admin(const ft_if_counters *c)
{
    return c->if_status & 1;
}
static uint64_t if_oper(const ft_if_counters *c)
{
    return (c->if_status >> 1) & 1;
}

#define ETH_MAP(X)                                                                                      \
    X(alignment_errors, "dot3StatsAlignmentErrors") X(fcs_errors, "dot3StatsFCSErrors")                 \
    X(single_collision_frames, "dot3StatsSingleCollisionFrames")                                         \
    X(multiple_collision_frames, "dot3StatsMultipleCollisionFrames")                                     \
    X(sqe_test_errors, "dot3StatsSQETestErrors") X(deferred_transmissions, "dot3StatsDeferredTransmissions") \
    X(late_collisions, "dot3StatsLateCollisions") X(excessive_collisions, "dot3StatsExcessiveCollisions") \
    X(internal_mac_transmit_errors, "dot3StatsInternalMacTransmitErrors")                               \
    X(carrier_sense_errors, "dot3StatsCarrierSenseErrors") X(frame_too_longs, "dot3StatsFrameTooLongs")   \
    X(internal_mac_receive_errors, "dot3StatsInternalMacReceiveErrors") X(symbol_errors, "dot3StatsSymbolErrors")

#define X(f, h)                                           \
    static uint64_t eth_##f(const ft_if_counters *c)      \
    {                                                     \
        return c->eth.f;                                  \
    }
ETH_MAP(X)
#undef X

void ft_metrics_interfaces(ft_prom *p, ft_if_counters *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_if);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || !ft_addr_eq(&v[m - 1].agent, &v[i].agent) || v[m - 1].if_index != v[i].if_index)
            v[m++] = v[i];
    static const struct {
        const char *name, *type, *help;
        if_fn get;
    } fam[] = {
        {"flowtally_sflow_if_in_octets_total", "counter", "ifInOctets reported by the sFlow agent", if_in_octets},
        {"flowtally_sflow_if_out_octets_total", "counter", "ifOutOctets reported by the sFlow agent", if_out_octets},
        {"flowtally_sflow_if_in_packets_total", "counter",
         "ifInUcastPkts + ifInMulticastPkts + ifInBroadcastPkts reported by the sFlow agent", if_in_packets},
        {"flowtally_sflow_if_out_packets_total", "counter",
         "ifOutUcastPkts + ifOutMulticastPkts + ifOutBroadcastPkts reported by the sFlow agent", if_out_packets},
        {"flowtally_sflow_if_in_errors_total", "counter", "ifInErrors reported by the sFlow agent", if_in_errors},
        {"flowtally_sflow_if_out_errors_total", "counter", "ifOutErrors reported by the sFlow agent", if_out_errors},
        {"flowtally_sflow_if_in_discards_total", "counter", "ifInDiscards reported by the sFlow agent", if_in_discards},
        {"flowtally_sflow_if_out_discards_total", "counter", "ifOutDiscards reported by the sFlow agent",
         if_out_discards},
        {"flowtally_sflow_if_speed_bytes_per_second", "gauge", "ifSpeed reported by the sFlow agent / 8",
         if_speed_bytes},
        {"flowtally_sflow_if_admin_up", "gauge", "ifAdminStatus up (ifStatus bit 0)", if_admin},
        {"flowtally_sflow_if_oper_up", "gauge", "ifOperStatus up (ifStatus bit 1)", if_oper},
    };
    char lab[LABELS_MAX], a[FT_ADDR_STRLEN], idx[16];
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        ft_prom_family(p, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < m; i++) {
            snprintf(idx, sizeof idx, "%u", (unsigned)v[i].if_index);
            ft_prom_u64(p, fam[f].name,
                        ft_prom_labels(lab, sizeof lab, 2, "agent", ft_addr_format(&v[i].agent, a), "ifindex", idx),
                        fam[f].get(&v[i]));
        }
    }
    static const struct {
        const char *name, *help;
        if_fn get;
    } eth[] = {
#define X(f, h) {"flowtally_sflow_if_" #f "_total", h " reported by the sFlow agent (ethernet_counters)", eth_##f},
        ETH_MAP(X)
#undef X
    };
    for (size_t f = 0; f < sizeof eth / sizeof eth[0]; f++) {
        ft_prom_family(p, eth[f].name, "counter", eth[f].help);
        for (size_t i = 0; i < m; i++) {
            if (!v[i].has_ethernet)
                continue;
            snprintf(idx, sizeof idx, "%u", (unsigned)v[i].if_index);
            ft_prom_u64(p, eth[f].name,
                        ft_prom_labels(lab, sizeof lab, 2, "agent", ft_addr_format(&v[i].agent, a), "ifindex", idx),
                        eth[f].get(&v[i]));
        }
    }
}

/* ---- receive workers --------------------------------------------------------------- */

void ft_metrics_udp(ft_prom *p, ft_udp_listener *const *l, size_t n, const ft_histo_snap *extra)
{
    static const struct {
        const char *name, *help;
    } fam[] = {
        {"flowtally_udp_datagrams_total", "datagrams received"},
        {"flowtally_udp_bytes_total", "UDP payload bytes received"},
        {"flowtally_udp_kernel_drops_total", "datagrams the kernel dropped: receive buffer full (SO_RXQ_OVFL)"},
        {"flowtally_udp_truncated_total", "datagrams longer than 64 KiB, cut"},
        {"flowtally_udp_receive_errors_total", "recvmmsg errors"},
        {"flowtally_udp_not_allowed_total", "datagrams from sources outside --allow-exporter, dropped before decoding"},
    };
    ft_histo_snap h;
    memset(&h, 0, sizeof h);
    h.le_ns = ft_histo_decode_le_ns;
    h.n = ft_histo_decode_n;
    if (extra)
        for (size_t i = 0; i <= extra->n; i++)
            h.count[i] += extra->count[i];
    if (extra)
        h.sum_ns += extra->sum_ns;
    char lab[LABELS_MAX], w[16];
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        ft_prom_family(p, fam[f].name, "counter", fam[f].help);
        for (size_t i = 0; i < n; i++) {
            for (uint32_t k = 0; k < ft_udp_listener_workers(l[i]); k++) {
                ft_udp_counters c;
                ft_udp_listener_counters(l[i], k, &c);
                if (f == 0) {
                    for (size_t b = 0; b <= c.decode_time.n; b++)
                        h.count[b] += c.decode_time.count[b];
                    h.sum_ns += c.decode_time.sum_ns;
                }
                uint64_t v[] = {c.datagrams, c.bytes, c.kernel_drops, c.oversize, c.recv_errors, c.not_allowed};
                snprintf(w, sizeof w, "%u", (unsigned)k);
                ft_prom_u64(p, fam[f].name,
                            ft_prom_labels(lab, sizeof lab, 2, "listener", ft_udp_listener_url(l[i]), "worker", w), v[f]);
            }
        }
    }
    ft_prom_histogram(p, "flowtally_decode_duration_seconds",
                      "time to decode one export datagram, its records' trip through the outputs included", NULL, &h);
}

/* ---- counter tables of the later stages --------------------------------------------- */

/* name_ns_total -> prefix_name_seconds_total (counter); name_ns_max ->
 * prefix_name_seconds_max (gauge); others prefix_name_total. */
static void ctr_table(ft_prom *p, const char *prefix, const named *t, size_t n, const uint64_t *v)
{
    char name[NAME_MAX_];
    for (size_t i = 0; i < n; i++) {
        const char *nm = t[i].name;
        size_t len = strlen(nm);
        if (len > 9 && strcmp(nm + len - 9, "_ns_total") == 0) {
            snprintf(name, sizeof name, "%s_%.*s_seconds_total", prefix, (int)(len - 9), nm);
            ft_prom_family(p, name, "counter", t[i].help);
            ft_prom_f64(p, name, NULL, (double)v[i] / 1e9);
        } else if (len > 7 && strcmp(nm + len - 7, "_ns_max") == 0) {
            snprintf(name, sizeof name, "%s_%.*s_seconds_max", prefix, (int)(len - 7), nm);
            ft_prom_family(p, name, "gauge", t[i].help);
            ft_prom_f64(p, name, NULL, (double)v[i] / 1e9);
        } else {
            snprintf(name, sizeof name, "%s_%s_total", prefix, nm);
            ft_prom_family(p, name, "counter", t[i].help);
            ft_prom_u64(p, name, NULL, v[i]);
        }
    }
}

void ft_metrics_windows(ft_prom *p, const uint64_t *v)
{
    static const named t[FT_WIN_CTR_COUNT] = {
#define X(name, help) {#name, help},
        FT_WIN_CTR_MAP(X)
#undef X
    };
    ctr_table(p, "flowtally_window", t, FT_WIN_CTR_COUNT, v);
}

void ft_metrics_store(ft_prom *p, const uint64_t *v, const ft_histo_snap *flush, int write_ok,
                      uint64_t pending_batches, uint64_t pending_rows)
{
    static const named t[FT_STORE_CTR_COUNT] = {
#define X(name, help) {#name, help},
        FT_STORE_CTR_MAP(X)
#undef X
    };
    ctr_table(p, "flowtally_sqlite", t, FT_STORE_CTR_COUNT, v);
    ft_prom_histogram(p, "flowtally_sqlite_flush_duration_seconds",
                      "duration of each SQLite flush transaction (one window or correction)", NULL, flush);
    ft_prom_family(p, "flowtally_sqlite_write_ok", "gauge", "1 when the last write to the database succeeded");
    ft_prom_u64(p, "flowtally_sqlite_write_ok", NULL, write_ok ? 1 : 0);
    ft_prom_family(p, "flowtally_sqlite_pending_batches", "gauge",
                   "failed flushes kept in memory for retry now (--db-retry-rows bounds their rows)");
    ft_prom_u64(p, "flowtally_sqlite_pending_batches", NULL, pending_batches);
    ft_prom_family(p, "flowtally_sqlite_pending_rows", "gauge", "rows of those batches");
    ft_prom_u64(p, "flowtally_sqlite_pending_rows", NULL, pending_rows);
}

void ft_metrics_geo(ft_prom *p, const uint64_t *v)
{
    static const named t[FT_GEO_CTR_COUNT] = {
#define X(name, help) {#name, help},
        FT_GEO_CTR_MAP(X)
#undef X
    };
    ctr_table(p, "flowtally_geo", t, FT_GEO_CTR_COUNT, v);
}

static void codes(ft_prom *p, const char *name, const char *help, const ft_kafka_codes *c)
{
    char lab[LABELS_MAX];
    ft_prom_family(p, name, "counter", help);
    for (int i = 0; i < FT_KAFKA_CODES; i++)
        if (c->code[i])
            ft_prom_u64(p, name, ft_prom_labels(lab, sizeof lab, 1, "code", ft_kafka_err_name(c->code[i])), c->n[i]);
    ft_prom_u64(p, name, ft_prom_labels(lab, sizeof lab, 1, "code", "other"), c->other);
}

void ft_metrics_kafka(ft_prom *p, const ft_kafka_stats *s, long queue_len)
{
    static const struct {
        const char *name, *help;
    } fam[] = {
        {"flowtally_kafka_produced_total", "flow records accepted into librdkafka's local queue"},
        {"flowtally_kafka_produced_bytes_total", "payload bytes of those records"},
        {"flowtally_kafka_dropped_queue_full_total", "flow records dropped: the local queue was full"},
        {"flowtally_kafka_queue_full_waits_total", "flow records that waited for room (--kafka-block)"},
        {"flowtally_kafka_delivered_total", "flow records acknowledged by the broker"},
        {"flowtally_kafka_flush_left_total", "flow records still queued when the exit flush timed out"},
        {"flowtally_kafka_produced_messages_total", "Kafka messages holding the produced records (--kafka-batch)"},
        {"flowtally_kafka_delivered_messages_total", "Kafka messages acknowledged by the broker"},
    };
    uint64_t v[] = {s->produced, s->produced_bytes, s->dropped_queue_full, s->queue_full_waits, s->delivered,
                    s->flush_left, s->produced_messages, s->delivered_messages};
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        ft_prom_family(p, fam[f].name, "counter", fam[f].help);
        ft_prom_u64(p, fam[f].name, NULL, v[f]);
    }
    codes(p, "flowtally_kafka_produce_failed_total", "flow records librdkafka refused, by error code",
          &s->produce_failed);
    codes(p, "flowtally_kafka_delivery_failed_total", "flow records whose delivery failed, by error code",
          &s->delivery_failed);
    codes(p, "flowtally_kafka_client_errors_total",
          "errors librdkafka reported about the cluster (brokers down or unreachable, timeouts, fatal), by code",
          &s->client_errors);
    ft_prom_family(p, "flowtally_kafka_queue_messages", "gauge",
                   "messages in librdkafka's local queue now (waiting to be sent or acknowledged)");
    ft_prom_u64(p, "flowtally_kafka_queue_messages", NULL, queue_len > 0 ? (uint64_t)queue_len : 0);
}

void ft_metrics_kafka_rollups(ft_prom *p, const ft_kafka_stats *s)
{
    static const struct {
        const char *name, *help;
    } fam[] = {
        {"flowtally_kafka_rollup_produced_total", "rollup rows accepted into librdkafka's local queue"},
        {"flowtally_kafka_rollup_dropped_queue_full_total", "rollup rows dropped: the local queue stayed full"},
        {"flowtally_kafka_rollup_queue_full_waits_total", "rollup rows that waited for room in the local queue"},
        {"flowtally_kafka_rollup_delivered_total", "rollup rows acknowledged by the broker"},
        {"flowtally_kafka_rollup_flush_left_total", "rollup rows still queued when the exit flush timed out"},
    };
    uint64_t v[] = {s->produced, s->dropped_queue_full, s->queue_full_waits, s->delivered, s->flush_left};
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        ft_prom_family(p, fam[f].name, "counter", fam[f].help);
        ft_prom_u64(p, fam[f].name, NULL, v[f]);
    }
    codes(p, "flowtally_kafka_rollup_produce_failed_total", "rollup rows librdkafka refused, by error code",
          &s->produce_failed);
    codes(p, "flowtally_kafka_rollup_delivery_failed_total", "rollup rows whose delivery failed, by error code",
          &s->delivery_failed);
}

void ft_metrics_print(ft_prom *p, uint64_t lines, uint64_t lost)
{
    ft_prom_family(p, "flowtally_print_lines_total", "counter", "flow records written by --print");
    ft_prom_u64(p, "flowtally_print_lines_total", NULL, lines);
    ft_prom_family(p, "flowtally_print_lost_total", "counter", "flow records --print lost to write errors");
    ft_prom_u64(p, "flowtally_print_lost_total", NULL, lost);
}
