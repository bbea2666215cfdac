/*
 * pipeline.c - the one place where flowtally's stages are wired together.
 *
 *                                  ┌──> kafka raw (FlowMessage, kafka/raw_sink.h)
 *   listen ──> decode ──> flow ────┤
 *   (udp.c,    (decoder.h, record  ├──> enrich ──> window ──┬──> sqlite
 *    pcap.c)    one per    (flow.h)│    (geo.h:    (window.h└──> kafka rollup (kafka/rollup_sink.h)
 *               worker)            │     country,   tumbling,        │
 *                                  │     AS)        rollups.h)       └──> http query (query.h:
 *                                  │                                      SQLite + open windows)
 *                                  └──> --print JSON lines or FlowMessage (flow_pb.h),
 *                                       after enrichment
 *
 * Threads: one per receive worker (--workers per --listen URL), each running
 * listen -> decode -> its own fan-out (struct fanout below) without a lock;
 * the only shared point today is the --print output, locked once per batch.
 * Kafka raw: each worker encodes into its own buffer and hands the bytes to
 * the one thread-safe librdkafka producer, whose bounded local queue is the
 * stage's queue (full = counted drop, or a wait with --kafka-block). Kafka
 * rollups share that producer and queue, with topic handles and counters of
 * their own; they are a sink of the window stage, produced from its
 * flushing thread, never from a receive worker.
 *
 * Shutdown order: workers stop, then the windows are finished (open ones
 * flushed partial to SQLite and Kafka), then the producer is flushed and
 * closed, so the last rollups are among what it delivers.
 *
 * HTTP (http/server.h, live mode or --pcap --serve): its threads only read
 * what every stage offers to any thread - counters the decoders publish
 * once a second, relaxed atomic counters, the open windows copied under
 * the window stage's locks (query.h) - through the backend callbacks below.
 *
 * Reload (SIGHUP, live mode; ft_pipeline_reload): the settings that can
 * change without dropping a datagram - --allow-exporter, --sampling-rate
 * and the GeoIP databases - form one read-only live_set per generation,
 * handed to the workers through core/publish.h: each worker checks the
 * generation before every receive batch (one atomic load), switches its
 * allow list, decoder overrides and enricher between two batches, and
 * acknowledges; a set is freed only once every worker has acknowledged a
 * newer one. No lock per record, no pause of the receive path.
 *
 * Build order: outputs, then per-worker fan-outs, then listeners (which bind
 * and create decoders), then the HTTP server. Teardown is the reverse: stop
 * and join listeners, stop the HTTP server, then free fan-outs, then outputs.
 */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/publish.h"
#include "enrich/geo.h"
#include "flow/flow_json.h"
#include "flow/flow_pb.h"
#include "kafka/producer.h"
#include "http/metrics.h"
#include "http/server.h"
#include "kafka/raw_sink.h"
#include "kafka/rollup_sink.h"
#include "listen/pcap.h"
#include "listen/udp.h"
#include "query.h"
#include "rollups.h"
#include "store/sqlite_store.h"

/* One receive worker's view of the later stages: its own buffers and
 * queue ends, so emitting a record never takes a shared lock. */
typedef struct fanout {
    ft_json_sink *json; /* --print, or NULL */
    ft_flow_pb *pb_print; /* --print-format pb: the encoder json formats with, or NULL */
    ft_kafka_raw *kafka;  /* Kafka raw, or NULL */
    ft_enricher *enrich;       /* GeoIP (rollups.h), or NULL; runs first, so every output sees it */
    ft_window_worker *window;  /* windows (rollups.h), or NULL */
    ft_rollups *rollups;       /* for the decode-state tick; idx = worker index */
    uint32_t idx;
    ft_publish *live;          /* reloadable settings (live mode), or NULL */
    uint64_t live_seen;        /* the generation this worker uses */
} fanout;

/* The settings a SIGHUP may change while the workers run, one per
 * generation, read-only once published. */
typedef struct live_set {
    const ft_config *c; /* allow_exporter, sampling, geoip_*: the configuration they came from */
    ft_config *own_c;   /* c when this set owns it (a reloaded configuration), else NULL */
    ft_geo *geo;        /* the GeoIP databases the enrichers use, or NULL */
    bool own_geo;       /* geo is closed with this set */
    uint64_t retired_at; /* the generation that replaced it */
} live_set;

#define MAX_RETIRED 8 /* sets waiting for a slow worker; past this a reload is refused */

struct ft_pipeline {
    const ft_config *c;
    ft_decoder_opts dopts;

    /* outputs shared by all workers */
    ft_json_out *json_out; /* --print */
    ft_kafka *kafka;       /* --kafka-brokers, or NULL */
    ft_kafka_rollup *kafka_rollup; /* rollups to Kafka (a window sink), or NULL */
    bool kafka_closed;
    ft_rollups *rollups;   /* enrich -> window -> sqlite, or NULL */

    /* per worker (live: sum of listeners' workers; pcap: 1) */
    size_t n_fan;
    fanout *fan;
    ft_worker_out *outs;

    /* live mode */
    size_t n_listeners;
    ft_udp_listener **listeners;
    atomic_bool stop;
    int wake[2]; /* a byte written to wake[1] wakes every idle worker */
    bool started;

    /* pcap mode */
    ft_decoder *pcap_dec;
    atomic_bool replayed; /* the capture has been read (readiness) */
    ft_pcap_stats pcap_st; /* written by the replay; read by others once replayed is true */
    atomic_bool receiving; /* live: the receive threads run (readiness) */

    /* HTTP API, /metrics, web page */
    ft_query *query;
    ft_http_backend be;
    ft_http *http;
    uint64_t start_s;

    ft_kafka_raw_opts raw_opts; /* per-worker Kafka sinks are built from these */

    /* SIGHUP reloads (live mode) */
    ft_publish *live_pub;
    live_set *live;                  /* the current set (main thread) */
    live_set *retired[MAX_RETIRED];  /* replaced, not yet acknowledged by every worker */
    size_t n_retired;
    _Atomic uint64_t reloads_ok, reloads_failed; /* read by /metrics */
};

static void kafka_stats(const ft_pipeline *p, ft_kafka_stats *s)
{
    memset(s, 0, sizeof *s);
    ft_kafka_stats_add(p->kafka, s);
    for (size_t i = 0; i < p->n_fan; i++)
        ft_kafka_raw_stats_add(p->fan[i].kafka, s);
}

static void kafka_rollup_stats(const ft_pipeline *p, ft_kafka_stats *s)
{
    memset(s, 0, sizeof *s);
    ft_kafka_rollup_stats_add(p->kafka_rollup, s);
}

static ft_rollup_encoding rollup_encoding(const ft_config *c)
{
    return strcmp(c->kafka_rollup_encoding, "json") == 0 ? FT_ROLLUP_JSON : FT_ROLLUP_PROTOBUF;
}

static void fan_emit(void *ctx, const ft_flow *f)
{
    fanout *o = ctx;
    ft_flow enriched;
    if (o->enrich) {
        enriched = *f;
        ft_enrich(o->enrich, &enriched);
        f = &enriched;
    }
    if (o->window)
        ft_window_add(o->window, f);
    if (o->json) {
        ft_flow_sink s = ft_json_sink_flow_sink(o->json);
        s.emit(s.ctx, f);
    }
    if (o->kafka) {
        ft_flow_sink s = ft_kafka_raw_flow_sink(o->kafka);
        s.emit(s.ctx, f);
    }
}

static void fan_flush(void *ctx)
{
    fanout *o = ctx;
    ft_json_sink_flush(o->json);
    ft_kafka_raw_flush(o->kafka);
    if (o->window)
        ft_window_batch_end(o->window);
}

/* Between two receive batches: switch to a newer live_set, if any. */
static void fan_refresh(void *ctx, struct ft_decoder *d, ft_allow_list *allow)
{
    fanout *o = ctx;
    const live_set *s = ft_publish_poll(o->live, o->idx, &o->live_seen);
    if (!s)
        return;
    allow->v = s->c->allow_exporter;
    allow->n = s->c->n_allow_exporter;
    ft_decoder_set_overrides(d, s->c->sampling, s->c->n_sampling);
    if (o->enrich && s->geo)
        ft_enricher_set_geo(o->enrich, s->geo);
    ft_publish_ack(o->live, o->idx, o->live_seen);
}

static void fan_tick(void *ctx, struct ft_decoder *d, uint64_t now_ns)
{
    fanout *o = ctx;
    ft_rollups_tick(o->rollups, o->idx, d, now_ns);
}

static ft_pb_format pb_format(const ft_config *c)
{
    return strcmp(c->format, "goflow2") == 0 ? FT_PB_GOFLOW2 : FT_PB_GOFLOW;
}

static ft_pb_framing pb_framing(const ft_config *c)
{
    if (!c->framing)
        return FT_PB_FRAMING_DEFAULT;
    return strcmp(c->framing, "delimited") == 0 ? FT_PB_FRAMING_DELIMITED : FT_PB_FRAMING_PLAIN;
}

/* --print: JSON lines, or (--print-format pb) length-delimited FlowMessages
 * so that a stream of them can be split again. */
static bool build_print(ft_pipeline *p, fanout *o)
{
    if (strcmp(p->c->print_format, "pb") != 0)
        return (o->json = ft_json_sink_new(p->json_out)) != NULL;
    if (!(o->pb_print = ft_flow_pb_new(pb_format(p->c), FT_PB_FRAMING_DELIMITED)))
        return false;
    return (o->json = ft_json_sink_new_fmt(p->json_out, ft_flow_pb_format, o->pb_print)) != NULL;
}

/* The Kafka producer, when --kafka-brokers names any. */
static int build_kafka(ft_pipeline *p)
{
    const ft_config *c = p->c;
    if (!c->kafka_brokers || !*c->kafka_brokers)
        return 0;
    ft_kafka_opts ko = {
        .brokers = c->kafka_brokers,
        .topic = c->kafka_topic,
        .compression = c->kafka_compression,
        .props = c->kafka_props.v,
        .n_props = c->kafka_props.n,
        .block = c->kafka_block,
        .flush_timeout_ms = c->kafka_flush_timeout_ms,
    };
    char err[768];
    if (!(p->kafka = ft_kafka_new(&ko, err, sizeof err))) {
        ft_log(FT_LOG_ERROR, "kafka", "%s", err);
        return -1;
    }
    ft_kafka_watch_stop(p->kafka, &p->stop);
    p->raw_opts = (ft_kafka_raw_opts){
        .producer = p->kafka, .format = pb_format(c), .framing = pb_framing(c), .key_fields = c->kafka_key,
        .batch = c->kafka_batch};
    /* Property values may be secrets: only their number is logged. */
    char per[64];
    if (c->kafka_batch > 1)
        snprintf(per, sizeof per, "up to %u per Kafka message", (unsigned)c->kafka_batch);
    else
        snprintf(per, sizeof per, "one per Kafka message");
    ft_log(FT_LOG_INFO, "kafka",
           "producing %s records (%s, %s) to topic '%s' at %s, compression %s, %zu -X properties",
           ft_pb_format_name(p->raw_opts.format),
           c->kafka_batch > 1 || ft_pb_delimited(p->raw_opts.format, p->raw_opts.framing) ? "length-delimited"
                                                                                          : "plain",
           per, c->kafka_topic, c->kafka_brokers, c->kafka_compression, c->kafka_props.n);
    const char *rt = ft_config_kafka_rollup_topic(c);
    if (!rt)
        return 0;
    ft_kafka_rollup_opts ro = {.producer = p->kafka, .topic = rt, .encoding = rollup_encoding(c)};
    if (!(p->kafka_rollup = ft_kafka_rollup_new(&ro, err, sizeof err))) {
        ft_log(FT_LOG_ERROR, "kafka", "%s", err);
        return -1;
    }
    ft_log(FT_LOG_INFO, "kafka", "producing rollup rows (%s Rollup) to topic '%s'%s, keyed by dimension and key",
           ft_rollup_encoding_name(ro.encoding), rt, strstr(rt, "{dimension}") ? " (one per dimension)" : "");
    return 0;
}

/* Flushes the producer (bounded) once every worker has stopped producing,
 * and logs what became of the records. */
static void close_kafka(ft_pipeline *p)
{
    if (!p->kafka || p->kafka_closed)
        return;
    p->kafka_closed = true;
    ft_kafka_close(p->kafka);
    ft_kafka_stats s;
    kafka_stats(p, &s);
    uint64_t failed = ft_kafka_codes_total(&s.delivery_failed), refused = ft_kafka_codes_total(&s.produce_failed);
    bool loss = failed || refused || s.dropped_queue_full || s.produced != s.delivered;
    ft_log(loss ? FT_LOG_WARN : FT_LOG_INFO, "kafka",
           "%llu flow records produced, %llu delivered, %llu failed, %llu dropped (queue full), %llu refused",
           (unsigned long long)s.produced, (unsigned long long)s.delivered, (unsigned long long)failed,
           (unsigned long long)s.dropped_queue_full, (unsigned long long)refused);
    if (!p->kafka_rollup)
        return;
    kafka_rollup_stats(p, &s);
    failed = ft_kafka_codes_total(&s.delivery_failed);
    refused = ft_kafka_codes_total(&s.produce_failed);
    loss = failed || refused || s.dropped_queue_full || s.produced != s.delivered;
    ft_log(loss ? FT_LOG_WARN : FT_LOG_INFO, "kafka",
           "%llu rollup rows produced, %llu delivered, %llu failed, %llu dropped (queue full), %llu refused",
           (unsigned long long)s.produced, (unsigned long long)s.delivered, (unsigned long long)failed,
           (unsigned long long)s.dropped_queue_full, (unsigned long long)refused);
}

static int build_fanouts(ft_pipeline *p, size_t n)
{
    p->fan = calloc(n, sizeof *p->fan);
    p->outs = calloc(n, sizeof *p->outs);
    if (!p->fan || !p->outs)
        return -1;
    p->n_fan = n;
    for (size_t i = 0; i < n; i++) {
        if (p->json_out && !build_print(p, &p->fan[i]))
            return -1;
        if (p->kafka && !(p->fan[i].kafka = ft_kafka_raw_new(&p->raw_opts)))
            return -1;
        p->fan[i].enrich = ft_rollups_enricher(p->rollups, (uint32_t)i);
        p->fan[i].window = ft_rollups_window(p->rollups, (uint32_t)i);
        p->fan[i].rollups = p->rollups;
        p->fan[i].idx = (uint32_t)i;
        p->outs[i].tick = p->rollups ? fan_tick : NULL;
        p->outs[i].sink.emit = fan_emit;
        p->outs[i].sink.ctx = &p->fan[i];
        p->outs[i].flush = fan_flush;
    }
    return 0;
}

/* ---- SIGHUP reloads (main thread) ---------------------------------------------------- */

static void live_set_free(live_set *s)
{
    if (!s)
        return;
    if (s->own_geo)
        ft_geo_close(s->geo);
    if (s->own_c) {
        ft_config_free(s->own_c);
        free(s->own_c);
    }
    free(s);
}

/* Live mode: generation 0 is the start configuration, and the GeoIP
 * databases move from the rollups to it (a reload may replace them). */
static int build_live(ft_pipeline *p)
{
    live_set *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->c = p->c;
    s->geo = ft_rollups_take_geo(p->rollups);
    s->own_geo = true;
    p->live = s;
    if (!(p->live_pub = ft_publish_new(p->n_fan, s)))
        return -1;
    for (size_t i = 0; i < p->n_fan; i++) {
        p->fan[i].live = p->live_pub;
        p->outs[i].refresh = fan_refresh;
    }
    return 0;
}

/* Frees the replaced sets every worker has moved past (all of them once
 * the workers are stopped: final). */
static void free_retired(ft_pipeline *p, bool final)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_retired; i++) {
        live_set *s = p->retired[i];
        if (final || ft_publish_all_acked(p->live_pub, s->retired_at))
            live_set_free(s);
        else
            p->retired[k++] = s;
    }
    p->n_retired = k;
}

/* Options a reload applies; every other change waits for a restart. */
static bool reloadable(const ft_opt *o)
{
    static const char *const names[] = {"allow-exporter", "sampling-rate", "geoip-country", "geoip-asn",
                                        "geoip-country-key", "geoip-asn-key", "asn-source"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(o->name, names[i]) == 0)
            return true;
    return false;
}

struct reload_diff {
    char applied[256]; /* reloadable options that changed */
    unsigned restart;  /* changed options that need a restart */
};

static void note_restart(void *arg, const ft_opt *o)
{
    struct reload_diff *d = arg;
    if (reloadable(o))
        return;
    d->restart++;
    ft_log(FT_LOG_WARN, "reload", "--%s changed: needs a restart (the running value stays)", o->name);
}

static void note_applied(void *arg, const ft_opt *o)
{
    struct reload_diff *d = arg;
    size_t n = strlen(d->applied);
    if (reloadable(o))
        snprintf(d->applied + n, sizeof d->applied - n, "%s--%s", n ? ", " : "", o->name);
}

void ft_pipeline_reload_failed(ft_pipeline *p, const char *why)
{
    atomic_fetch_add(&p->reloads_failed, 1);
    ft_log(FT_LOG_ERROR, "reload", "configuration not reloaded, the running one stays: %s", why);
}

int ft_pipeline_reload(ft_pipeline *p, ft_config *nc)
{
    char err[1024];
    if (!p->live_pub) {
        ft_log(FT_LOG_INFO, "reload", "SIGHUP ignored: a --pcap run has nothing to reload");
        ft_config_free(nc);
        free(nc);
        return 0;
    }
    free_retired(p, false);
    if (p->n_retired == MAX_RETIRED) {
        snprintf(err, sizeof err, "%zu earlier reloads still wait for a worker to apply them (a blocked worker?)",
                 p->n_retired);
        goto fail;
    }
    struct reload_diff d = {"", 0};
    ft_config_diff(p->c, nc, note_restart, &d);
    ft_config_diff(p->live->c, nc, note_applied, &d);

    live_set *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    s->c = s->own_c = nc;
    bool had_geo = p->live->geo != NULL, want_geo = nc->geoip_country || nc->geoip_asn;
    if (had_geo != want_geo) {
        /* The enrichers exist only when GeoIP was on at start. */
        ft_log(FT_LOG_WARN, "reload", "GeoIP %s: needs a restart (the running databases stay)",
               want_geo ? "turned on" : "turned off");
        s->geo = p->live->geo;
        s->own_geo = p->live->own_geo;
        p->live->own_geo = false; /* moves to the new set, still open */
    } else if (want_geo) {
        /* Opened again even when the names did not change: the files may
         * have been replaced (geoipupdate). */
        ft_geo_opts go = {nc->geoip_country, nc->geoip_asn, nc->geoip_country_key, nc->geoip_asn_key,
                          (ft_asn_source)nc->asn_source};
        if (!(s->geo = ft_geo_open(&go, err, sizeof err))) {
            free(s);
            goto fail;
        }
        s->own_geo = true;
    }

    live_set *old = p->live;
    uint64_t gen = ft_publish_set(p->live_pub, s);
    p->live = s;
    old->retired_at = gen;
    p->retired[p->n_retired++] = old;
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_kick(p->listeners[i]);
    /* The workers switch before their next batch (an idle one is woken);
     * wait for them so the log line below means "in effect". */
    bool applied = false;
    for (int i = 0; i < 500 && !(applied = ft_publish_all_acked(p->live_pub, gen)); i++) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    free_retired(p, false);
    atomic_fetch_add(&p->reloads_ok, 1);
    char geo[768] = "off";
    if (s->geo)
        ft_geo_describe(s->geo, geo, sizeof geo);
    ft_log(applied ? FT_LOG_INFO : FT_LOG_WARN, "reload",
           "configuration reloaded (generation %llu)%s: %s changed; %zu --allow-exporter prefixes, %zu "
           "--sampling-rate overrides; GeoIP: %s; %u other change%s need%s a restart",
           (unsigned long long)gen, applied ? ", in effect on every worker" : ", NOT yet applied by every worker",
           d.applied[0] ? d.applied : "nothing reloadable", nc->n_allow_exporter, nc->n_sampling, geo, d.restart,
           d.restart == 1 ? "" : "s", d.restart == 1 ? "s" : "");
    return 0;

fail:
    ft_config_free(nc);
    free(nc);
    ft_pipeline_reload_failed(p, err);
    return -1;
}

/* ---- HTTP backend (any HTTP thread) ------------------------------------------------ */

static void http_exporters(void *ctx, ft_stats_set *out)
{
    ft_pipeline *p = ctx;
    if (p->pcap_dec)
        ft_decoder_read_published(p->pcap_dec, ft_stats_set_collect, NULL, out);
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_read_published(p->listeners[i], ft_stats_set_collect, NULL, out);
    ft_stats_set_merge(out);
}

struct if_list {
    ft_if_counters *v;
    size_t n, cap;
    bool oom;
};

static void collect_if(void *arg, const ft_if_counters *c)
{
    struct if_list *l = arg;
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        ft_if_counters *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *c;
}

static void http_metrics(void *ctx, ft_prom *m)
{
    ft_pipeline *p = ctx;
    char lab[64];
    ft_prom_family(m, "flowtally_build_info", "gauge", "1, labelled with the version");
    ft_prom_u64(m, "flowtally_build_info", ft_prom_labels(lab, sizeof lab, 1, "version", &FT_VERSION_STRING[10]), 1);
    ft_prom_family(m, "flowtally_start_time_seconds", "gauge", "start time of the process, s since the Unix epoch");
    ft_prom_u64(m, "flowtally_start_time_seconds", NULL, p->start_s);

    ft_stats_set set = {0};
    http_exporters(p, &set);
    ft_metrics_exporters(m, &set);
    ft_stats_set_free(&set);
    struct if_list ifs = {0};
    if (p->pcap_dec)
        ft_decoder_read_published(p->pcap_dec, NULL, collect_if, &ifs);
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_read_published(p->listeners[i], NULL, collect_if, &ifs);
    ft_metrics_interfaces(m, ifs.v, ifs.oom ? 0 : ifs.n);
    free(ifs.v);

    ft_histo_snap pcap_time;
    memset(&pcap_time, 0, sizeof pcap_time);
    if (p->pcap_dec)
        ft_decoder_decode_time(p->pcap_dec, &pcap_time);
    ft_metrics_udp(m, p->listeners, p->n_listeners, p->pcap_dec ? &pcap_time : NULL);
    if (p->pcap_dec && atomic_load(&p->replayed)) {
        ft_prom_family(m, "flowtally_pcap_not_allowed_total", "counter",
                       "datagrams of the capture from sources outside --allow-exporter, not decoded");
        ft_prom_u64(m, "flowtally_pcap_not_allowed_total", NULL, p->pcap_st.not_allowed);
    }

    ft_windows *w = ft_rollups_windows(p->rollups);
    if (w) {
        uint64_t v[FT_WIN_CTR_COUNT] = {0};
        ft_windows_counters(w, v);
        ft_metrics_windows(m, v);
    }
    ft_store *st = ft_rollups_store(p->rollups);
    if (st) {
        uint64_t v[FT_STORE_CTR_COUNT];
        ft_histo_snap h;
        memset(&h, 0, sizeof h);
        ft_store_counters(st, v);
        ft_store_flush_time(st, &h);
        uint64_t pb, pr;
        ft_store_pending(st, &pb, &pr);
        ft_metrics_store(m, v, &h, ft_store_write_ok(st), pb, pr);
    }
    uint64_t g[FT_GEO_CTR_COUNT] = {0};
    if (ft_rollups_geo_counters(p->rollups, g))
        ft_metrics_geo(m, g);
    if (p->kafka) {
        ft_kafka_stats ks;
        kafka_stats(p, &ks);
        ft_metrics_kafka(m, &ks, ft_kafka_queue_len(p->kafka));
    }
    if (p->kafka_rollup) {
        ft_kafka_stats rs;
        kafka_rollup_stats(p, &rs);
        ft_metrics_kafka_rollups(m, &rs);
    }
    if (p->json_out)
        ft_metrics_print(m, ft_json_out_lines(p->json_out), ft_json_out_dropped(p->json_out));
    if (p->live_pub) {
        ft_prom_family(m, "flowtally_config_reloads_total", "counter",
                       "configuration reloads (SIGHUP), by result; a failed one keeps the running configuration");
        ft_prom_u64(m, "flowtally_config_reloads_total", ft_prom_labels(lab, sizeof lab, 1, "result", "ok"),
                    atomic_load(&p->reloads_ok));
        ft_prom_u64(m, "flowtally_config_reloads_total", ft_prom_labels(lab, sizeof lab, 1, "result", "failed"),
                    atomic_load(&p->reloads_failed));
    }
}

static void http_ready(void *ctx, void (*check)(void *arg, const char *name, const char *state, bool ok), void *arg)
{
    ft_pipeline *p = ctx;
    char text[256];
    if (p->c->pcap) {
        bool done = atomic_load(&p->replayed);
        check(arg, "listeners", done ? "ok: capture replayed" : "replaying the capture", done);
    } else {
        bool up = atomic_load(&p->receiving);
        snprintf(text, sizeof text, "%s: %zu listener%s", up ? "ok" : "not receiving", p->n_listeners,
                 p->n_listeners == 1 ? "" : "s");
        check(arg, "listeners", text, up && p->n_listeners);
    }
    ft_store *st = ft_rollups_store(p->rollups);
    if (!st) {
        check(arg, "database", "off", true);
    } else {
        const char *why = NULL;
        if (!ft_store_write_ok(st))
            why = "the last write failed";
        else if (access(ft_store_path(st), W_OK) != 0)
            why = strerror(errno);
        else if (p->query && ft_query_check(p->query, &why) != 0 && !why)
            why = "cannot read it";
        snprintf(text, sizeof text, "%s%s", why ? "not writable: " : "ok", why ? why : "");
        check(arg, "database", text, !why);
    }
    if (!p->kafka) {
        check(arg, "kafka", "off", true);
    } else {
        const char *why = NULL;
        int rc = ft_kafka_check(p->kafka, 1000, &why);
        snprintf(text, sizeof text, "%s%s", rc ? "unreachable: " : "ok", rc ? why : "");
        check(arg, "kafka", text, rc == 0);
    }
}

/* The HTTP server, unless --http off or a --pcap run without --serve. */
static int build_http(ft_pipeline *p)
{
    const ft_config *c = p->c;
    if (c->http_off || (c->pcap && !c->serve))
        return 0;
    ft_store *st = ft_rollups_store(p->rollups);
    ft_windows *w = ft_rollups_windows(p->rollups);
    if (st || w) {
        ft_query_opts qo = {w, st ? ft_store_path(st) : NULL, c->rollup_by_exporter, c->window_s, c->http_threads};
        if (!(p->query = ft_query_new(&qo)))
            return -1;
    }
    p->be = (ft_http_backend){
        .ctx = p,
        .query = p->query,
        .window_s = c->window_s,
        .retention_s = c->retention_s,
        .by_exporter = c->rollup_by_exporter,
        .exporters = http_exporters,
        .metrics = http_metrics,
        .ready = http_ready,
    };
    ft_http_opts ho = {
        .addr = c->http_addr,
        .port = c->http_port,
        .threads = c->http_threads,
        .max_connections = c->http_max_connections,
        .max_per_ip = c->http_max_per_ip,
        .idle_timeout_s = c->http_timeout_s,
        .backend = &p->be,
    };
    char err[512];
    char *token = NULL;
    if (c->http_token_file) {
        /* Read here, before --user drops the privileges that may be needed
         * to read it; the server keeps its own copy. */
        if (!(token = ft_http_token_read(c->http_token_file, &ho.token_len, err, sizeof err))) {
            ft_log(FT_LOG_ERROR, "http", "%s", err);
            return -1;
        }
        ho.token = token;
    }
    char *cert = NULL, *key = NULL;
    /* Read here too, before --user: a key is typically root's only. */
    if (!c->http_cert || ((cert = ft_http_pem_read(c->http_cert, false, err, sizeof err)) &&
                          (key = ft_http_pem_read(c->http_key, true, err, sizeof err)))) {
        ho.tls_cert = cert;
        ho.tls_key = key;
        p->http = ft_http_start(&ho, err, sizeof err);
    }
    free(cert);
    if (key) {
        volatile char *k = key;
        for (size_t i = 0; key[i]; i++)
            k[i] = 0;
        free(key);
    }
    if (token) {
        volatile char *t = token;
        for (size_t i = 0; i < ho.token_len; i++)
            t[i] = 0;
        free(token);
    }
    if (!p->http) {
        ft_log(FT_LOG_ERROR, "http", "%s", err);
        return -1;
    }
    return 0;
}

ft_pipeline *ft_pipeline_new(const ft_config *c)
{
    ft_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        ft_log(FT_LOG_ERROR, "main", "out of memory");
        return NULL;
    }
    p->c = c;
    p->wake[0] = p->wake[1] = -1;
    p->start_s = (uint64_t)time(NULL);
    atomic_init(&p->stop, false);
    atomic_init(&p->replayed, false);
    atomic_init(&p->receiving, false);
    ft_config_decoder_opts(c, &p->dopts);
    if (!c->print && c->print_format && strcmp(c->print_format, "json") != 0)
        ft_log(FT_LOG_WARN, "main", "--print-format %s has no effect without --print", c->print_format);

    if (c->print && !(p->json_out = ft_json_out_new(stdout)))
        goto oom;
    if (build_kafka(p) != 0)
        goto fail;
    size_t n_workers = c->pcap ? 1 : c->n_listen * c->workers;
    ft_rollup_sink ks = ft_kafka_rollup_sink(p->kafka_rollup);
    if (ft_rollups_new(c, (uint32_t)n_workers, &ks, p->kafka_rollup ? 1 : 0, &p->rollups) != 0)
        goto fail;

    if (c->pcap) {
        if (build_fanouts(p, 1) != 0)
            goto oom;
        if (!(p->pcap_dec = ft_decoder_new(&p->dopts, "pcap")))
            goto oom;
        if (build_http(p) != 0)
            goto fail;
        return p;
    }

    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        ft_log(FT_LOG_ERROR, "main", "cannot create the stop pipe: %s", strerror(errno));
        goto fail;
    }
    size_t total = 0;
    for (size_t i = 0; i < c->n_listen; i++)
        total += c->workers;
    if (build_fanouts(p, total) != 0 || build_live(p) != 0)
        goto oom;
    p->listeners = calloc(c->n_listen, sizeof *p->listeners);
    if (!p->listeners)
        goto oom;
    for (size_t i = 0; i < c->n_listen; i++) {
        ft_udp_opts uo = {
            .url = c->listen[i],
            .workers = c->workers,
            .rcvbuf = c->rcvbuf,
            .decoder = &p->dopts,
            .outs = &p->outs[i * c->workers],
            .stop = &p->stop,
            .wake_fd = p->wake[0],
            .allow = {c->allow_exporter, c->n_allow_exporter},
        };
        char err[512];
        p->listeners[i] = ft_udp_listener_new(&uo, err, sizeof err);
        if (!p->listeners[i]) {
            ft_log(FT_LOG_ERROR, "main", "%s", err);
            goto fail;
        }
        p->n_listeners = i + 1;
        for (uint32_t w = 0; w < c->workers; w++)
            ft_rollups_load_state(p->rollups, ft_udp_listener_decoder(p->listeners[i], w));
    }
    if (build_http(p) != 0)
        goto fail;
    return p;

oom:
    ft_log(FT_LOG_ERROR, "main", "out of memory building the pipeline");
fail:
    ft_pipeline_free(p);
    return NULL;
}

int ft_pipeline_start(ft_pipeline *p)
{
    p->started = true;
    if (ft_rollups_start(p->rollups) != 0)
        return -1;
    for (size_t i = 0; i < p->n_listeners; i++) {
        char err[512];
        if (ft_udp_listener_start(p->listeners[i], err, sizeof err) != 0) {
            ft_log(FT_LOG_ERROR, "main", "%s", err);
            return -1;
        }
    }
    atomic_store(&p->receiving, true);
    return 0;
}

void ft_pipeline_stop(ft_pipeline *p)
{
    if (!p || !p->started)
        return;
    atomic_store(&p->receiving, false);
    atomic_store(&p->stop, true);
    /* Never read: the pipe stays readable, so every poller wakes. */
    if (p->wake[1] >= 0 && write(p->wake[1], "x", 1) < 0 && errno != EAGAIN)
        ft_log(FT_LOG_WARN, "main", "cannot wake the workers (%s): they stop within 1 s", strerror(errno));
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_join(p->listeners[i]);
    /* Workers stopped: flush the open windows (partial), then save what the
     * decoders learnt, for the next start. */
    ft_rollups_finish(p->rollups);
    for (size_t i = 0; i < p->n_listeners; i++)
        for (uint32_t w = 0; w < p->c->workers; w++)
            ft_rollups_save_state(p->rollups, ft_udp_listener_decoder(p->listeners[i], w));
    p->started = false;
    close_kafka(p);
}

int ft_pipeline_run_pcap(ft_pipeline *p, const atomic_bool *stop)
{
    char err[512];
    if (p->kafka)
        ft_kafka_watch_stop(p->kafka, stop);
    ft_allow_list allow = {p->c->allow_exporter, p->c->n_allow_exporter};
    int rc = ft_pcap_replay(p->c->pcap, p->pcap_dec, &p->outs[0], &allow, stop, &p->pcap_st, err, sizeof err);
    if (rc != 0)
        ft_log(FT_LOG_ERROR, "main", "%s", err);
    /* End of the capture (or a read error, or a signal): the windows still
     * open are flushed as partial, then Kafka is flushed (it may carry them). */
    ft_rollups_finish(p->rollups);
    close_kafka(p);
    atomic_store(&p->replayed, true);
    return rc != 0 ? -1 : 0;
}

bool ft_pipeline_serving(const ft_pipeline *p)
{
    return p && p->http;
}

/* One {"kind":"listener_stats"} line per listener (workers summed) and one
 * for the capture: what the receive stage itself saw and dropped, before
 * any exporter's counters exist (--allow-exporter drops never reach one). */
static void print_listener_stats(const ft_pipeline *p, FILE *out)
{
    for (size_t i = 0; i < p->n_listeners; i++) {
        ft_udp_counters sum, c;
        memset(&sum, 0, sizeof sum);
        for (uint32_t k = 0; k < ft_udp_listener_workers(p->listeners[i]); k++) {
            ft_udp_listener_counters(p->listeners[i], k, &c);
            sum.datagrams += c.datagrams;
            sum.bytes += c.bytes;
            sum.kernel_drops += c.kernel_drops;
            sum.oversize += c.oversize;
            sum.recv_errors += c.recv_errors;
            sum.not_allowed += c.not_allowed;
        }
        fprintf(out,
                "{\"kind\":\"listener_stats\",\"listener\":\"%s\",\"datagrams\":%llu,\"bytes\":%llu,"
                "\"kernel_drops\":%llu,\"truncated\":%llu,\"receive_errors\":%llu,\"not_allowed\":%llu}\n",
                ft_udp_listener_url(p->listeners[i]), (unsigned long long)sum.datagrams,
                (unsigned long long)sum.bytes, (unsigned long long)sum.kernel_drops,
                (unsigned long long)sum.oversize, (unsigned long long)sum.recv_errors,
                (unsigned long long)sum.not_allowed);
    }
    if (p->pcap_dec && atomic_load(&p->replayed)) {
        const ft_pcap_stats *s = &p->pcap_st;
        fprintf(out,
                "{\"kind\":\"listener_stats\",\"listener\":\"pcap\",\"packets\":%llu,\"datagrams\":%llu,"
                "\"bytes\":%llu,\"not_allowed\":%llu}\n",
                (unsigned long long)s->packets, (unsigned long long)s->datagrams, (unsigned long long)s->bytes,
                (unsigned long long)s->not_allowed);
    }
    fflush(out);
}

void ft_pipeline_print_stats(ft_pipeline *p, FILE *out)
{
    ft_stats_set set = {0};
    if (p->pcap_dec)
        ft_decoder_foreach_exporter(p->pcap_dec, ft_stats_set_collect, &set);
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_foreach_exporter(p->listeners[i], ft_stats_set_collect, &set);
    ft_stats_set_merge(&set);
    ft_stats_set_print(&set, out);
    ft_stats_set_free(&set);
    print_listener_stats(p, out);
    if (p->kafka) {
        ft_kafka_stats ks, rs;
        char line[8192];
        kafka_stats(p, &ks);
        kafka_rollup_stats(p, &rs);
        ft_kafka_stats_class rc = {"rollups", ft_config_kafka_rollup_topic(p->c),
                                   ft_rollup_encoding_name(rollup_encoding(p->c)), &rs};
        size_t n = ft_kafka_stats_json(&ks, p->c->kafka_topic, ft_pb_format_name(p->raw_opts.format),
                                       p->kafka_rollup ? &rc : NULL, line, sizeof line);
        if (n < sizeof line)
            fwrite(line, 1, n, out);
        fflush(out);
    }
    ft_rollups_print_stats(p->rollups, out);
}

void ft_pipeline_free(ft_pipeline *p)
{
    if (!p)
        return;
    ft_pipeline_stop(p);
    ft_http_stop(p->http); /* before anything it reads is freed */
    p->http = NULL;
    ft_query_free(p->query);
    for (size_t i = 0; i < p->n_listeners; i++)
        ft_udp_listener_free(p->listeners[i]);
    free(p->listeners);
    ft_decoder_free(p->pcap_dec);
    close_kafka(p);
    for (size_t i = 0; i < p->n_fan; i++) {
        ft_json_sink_free(p->fan[i].json);
        ft_flow_pb_free(p->fan[i].pb_print);
        ft_kafka_raw_free(p->fan[i].kafka);
    }
    free(p->fan);
    free(p->outs);
    ft_rollups_free(p->rollups); /* the window stage: its sinks are done */
    /* Workers and enrichers gone: every reload set can go. */
    free_retired(p, true);
    live_set_free(p->live);
    ft_publish_free(p->live_pub);
    ft_kafka_rollup_free(p->kafka_rollup);
    if (p->json_out) {
        uint64_t lost = ft_json_out_dropped(p->json_out);
        ft_log(lost ? FT_LOG_WARN : FT_LOG_INFO, "print", "%llu flow records printed, %llu lost to write errors",
               (unsigned long long)ft_json_out_lines(p->json_out), (unsigned long long)lost);
    }
    ft_json_out_free(p->json_out);
    ft_kafka_free(p->kafka);
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    free(p);
}
