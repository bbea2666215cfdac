/*
 * producer.c - the librdkafka producer behind the Kafka stage (producer.h).
 *
 * Configuration order: our defaults (client.id, bootstrap.servers,
 * compression.codec, enable.idempotence, linger.ms), then every -X property
 * in the order given, so -X can override anything.
 *
 * linger.ms = 5: librdkafka 2.x's own default, set explicitly because 1.x
 * defaulted to 0.5 ms and a short linger makes many small ProduceRequests:
 * on bench/run's Kafka rows linger.ms=0 doubled the CPU per record, while
 * 50 ms, larger batches (batch.num.messages 100000, batch.size 8 MB) or a
 * 1M-message queue changed it by less than the run-to-run noise
 * (bench/RESULTS.md, "Optimisations (Kafka)"); the rest stays librdkafka's.
 * Callbacks: delivery reports and errors are served by
 * the poll thread (rd_kafka_poll), librdkafka's log lines arrive on its own
 * threads; the log limiter they share is under a mutex (logging is off the
 * record path).
 */
#include "kafka/producer.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/log.h"

_Static_assert(FT_KAFKA_ERR_QUEUE_FULL == RD_KAFKA_RESP_ERR__QUEUE_FULL, "librdkafka's _QUEUE_FULL code");

struct dr_node {
    ft_kafka_dr dr;
    struct dr_node *next;
};

struct ft_kafka {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    bool block;
    uint32_t flush_timeout_ms;
    const atomic_bool *stop; /* watched by a blocking produce; may be NULL */

    pthread_t poller;
    bool poller_started;
    atomic_bool poller_stop;
    bool closed;

    ft_kafka_dr raw; /* raw records' reports: written by the poll thread, then by the closing one */
    ft_kafka_codes_live client_errors; /* on_error, by code */
    struct dr_node *classes; /* ft_kafka_dr_new's, freed with k */

    pthread_mutex_t log_lock;
    ft_log_limiter log_lim; /* under log_lock */
};

/* ---- code tallies ------------------------------------------------------- */

void ft_kafka_codes_add(ft_kafka_codes *c, int code, uint64_t n)
{
    for (int i = 0; i < FT_KAFKA_CODES; i++) {
        if (c->code[i] == code || c->code[i] == 0) {
            c->code[i] = code;
            c->n[i] += n;
            return;
        }
    }
    c->other += n;
}

uint64_t ft_kafka_codes_total(const ft_kafka_codes *c)
{
    uint64_t t = c->other;
    for (int i = 0; i < FT_KAFKA_CODES; i++)
        t += c->n[i];
    return t;
}

void ft_kafka_codes_live_add(ft_kafka_codes_live *c, int code)
{
    ft_kafka_codes_live_add_n(c, code, 1);
}

void ft_kafka_codes_live_add_n(ft_kafka_codes_live *c, int code, uint64_t n)
{
    for (int i = 0; i < FT_KAFKA_CODES; i++) {
        int have = atomic_load_explicit(&c->code[i], memory_order_relaxed);
        if (have == 0) {
            atomic_store_explicit(&c->code[i], code, memory_order_release);
            have = code;
        }
        if (have == code) {
            ft_ctr_add(&c->n[i], n);
            return;
        }
    }
    ft_ctr_add(&c->other, n);
}

void ft_kafka_codes_live_read(const ft_kafka_codes_live *c, ft_kafka_codes *out)
{
    for (int i = 0; i < FT_KAFKA_CODES; i++) {
        int code = atomic_load_explicit((_Atomic int *)&c->code[i], memory_order_acquire);
        if (code)
            ft_kafka_codes_add(out, code, ft_ctr_get(&c->n[i]));
    }
    out->other += ft_ctr_get(&c->other);
}

const char *ft_kafka_err_name(int err)
{
    return rd_kafka_err2name((rd_kafka_resp_err_t)err);
}

/* ---- callbacks ---------------------------------------------------------- */

static uint64_t key_of(const char *s, int salt)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)salt;
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Raw records' messages carry their record count in the opaque pointer,
 * tagged with the low bit (class tallies are aligned pointers, so their low
 * bit is 0): (records << 1) | 1. */
static void *raw_opaque(uint32_t records)
{
    return (void *)(((uintptr_t)records << 1) | 1u);
}

/* Delivery report: one per produced message, on the poll (or closing)
 * thread. The message's opaque is its class's tallies (ft_kafka_produce_to),
 * a tagged record count for raw messages (raw_opaque; NULL = 1 record). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    ft_kafka *k = opaque;
    uintptr_t tag = (uintptr_t)m->_private;
    bool raw = tag == 0 || (tag & 1u);
    ft_kafka_dr *dr = raw ? &k->raw : m->_private;
    uint64_t n = raw && tag ? (uint64_t)(tag >> 1) : 1;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ft_ctr_add(&dr->delivered, n);
        ft_ctr_add(&dr->delivered_messages, 1);
        return;
    }
    ft_kafka_codes_live_add_n(&dr->failed, m->err, n);
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        ft_ctr_add(&dr->purged, n); /* only ft_kafka_close purges */
    pthread_mutex_lock(&k->log_lock);
    ft_log_limited(&k->log_lim, key_of(raw ? "dr" : "dr-class", m->err), FT_LOG_WARN, "kafka",
                   "%s not delivered to %s: %s (%s)", raw ? (n > 1 ? "record batch" : "record") : "message",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
    pthread_mutex_unlock(&k->log_lock);
}

/* Client-level errors: mostly informational (librdkafka retries: brokers
 * down, timeouts); fatal ones end the producer's usefulness. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    ft_kafka *k = opaque;
    ft_log_level lvl = err == RD_KAFKA_RESP_ERR__FATAL ? FT_LOG_ERROR : FT_LOG_WARN;
    /* Counted as well as logged: the log is rate-limited, and an outage
     * must be visible in /metrics and --stats (issue 8). */
    ft_kafka_codes_live_add(&k->client_errors, err);
    pthread_mutex_lock(&k->log_lock);
    ft_log_limited(&k->log_lim, key_of("error", err), lvl, "kafka", "%s: %s", rd_kafka_err2name(err), reason);
    pthread_mutex_unlock(&k->log_lock);
}

/* librdkafka's own log lines (syslog levels), limited per facility. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    ft_kafka *k = rd_kafka_opaque(rk);
    ft_log_level lvl = level <= 3 ? FT_LOG_ERROR : level == 4 ? FT_LOG_WARN : level <= 6 ? FT_LOG_INFO : FT_LOG_DEBUG;
    if (lvl > ft_log_threshold)
        return;
    if (!k) { /* before rd_kafka_new returned */
        ft_log(lvl, "kafka", "%s: %s", fac, buf);
        return;
    }
    pthread_mutex_lock(&k->log_lock);
    ft_log_limited(&k->log_lim, key_of(fac, level), lvl, "kafka", "%s: %s", fac, buf);
    pthread_mutex_unlock(&k->log_lock);
}

static void *poll_main(void *arg)
{
    ft_kafka *k = arg;
    while (!atomic_load_explicit(&k->poller_stop, memory_order_relaxed))
        rd_kafka_poll(k->rk, 100);
    return NULL;
}

/* ---- set-up --------------------------------------------------------------- */

/* Property names whose values are secrets: librdkafka's message for a bad
 * value may quote it, so for these only the name is reported. */
static bool secret_name(const char *name)
{
    static const char *const words[] = {"password", "secret", "key", "token", "jaas", "credential"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(name, words[i]))
            return true;
    return false;
}

static int set_prop(rd_kafka_conf_t *conf, const char *name, const char *value, const char *via, char *err,
                    size_t err_len)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    if (secret_name(name))
        snprintf(err, err_len, "%s%s: invalid property or value (not shown: it may be a secret)", via,
                 name);
    else
        snprintf(err, err_len, "%s%s: %s", via, name, why);
    return -1;
}

ft_kafka *ft_kafka_new(const ft_kafka_opts *o, char *err, size_t err_len)
{
    ft_kafka *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *conf = NULL;
    if (!k) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&k->log_lock, NULL);
    ft_log_limiter_init(&k->log_lim, 10);
    atomic_init(&k->poller_stop, false);
    k->block = o->block;
    k->flush_timeout_ms = o->flush_timeout_ms;

    conf = rd_kafka_conf_new();
    if (set_prop(conf, "client.id", "flowtally", "", err, err_len) != 0 ||
        set_prop(conf, "bootstrap.servers", o->brokers, "--kafka-brokers ", err, err_len) != 0 ||
        set_prop(conf, "compression.codec", o->compression, "--kafka-compression ", err, err_len) != 0 ||
        /* The idempotent producer: a batch retried after a lost
         * acknowledgement (broker restart, network cut) is recognised by the
         * broker from its producer id and sequence number and not appended
         * twice, and the order within a partition is kept; without it a
         * broker outage can duplicate records. It keeps librdkafka's default
         * acks=all and retries, caps in-flight requests at 5 per broker, and
         * needs Kafka >= 0.11 (and, before 2.8, the IdempotentWrite ACL):
         * -X enable.idempotence=false turns it off. */
        set_prop(conf, "enable.idempotence", "true", "", err, err_len) != 0 ||
        set_prop(conf, "linger.ms", "5", "", err, err_len) != 0)
        goto fail;
    for (size_t i = 0; i < o->n_props; i++) {
        const char *eq = strchr(o->props[i], '=');
        char name[256];
        size_t n = eq ? (size_t)(eq - o->props[i]) : 0;
        if (!eq || n == 0 || n >= sizeof name) {
            snprintf(err, err_len, "-X expects NAME=VALUE (property %zu)", i + 1);
            goto fail;
        }
        memcpy(name, o->props[i], n);
        name[n] = 0;
        if (set_prop(conf, name, eq + 1, "-X ", err, err_len) != 0)
            goto fail;
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);

    char why[512];
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!k->rk) {
        snprintf(err, err_len, "cannot create the producer: %s", why);
        goto fail;
    }
    conf = NULL; /* ownership passed to rk */
    k->rkt = rd_kafka_topic_new(k->rk, o->topic, NULL);
    if (!k->rkt) {
        snprintf(err, err_len, "topic '%s': %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    int rc = pthread_create(&k->poller, NULL, poll_main, k);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the poll thread: %s", strerror(rc));
        goto fail;
    }
    k->poller_started = true;
    return k;

fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    ft_kafka_free(k);
    return NULL;
}

void ft_kafka_watch_stop(ft_kafka *k, const atomic_bool *stop)
{
    k->stop = stop;
}

/* ---- the record path ---------------------------------------------------- */

static void sleep_1ms(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* One rd_kafka_produce. F_COPY: librdkafka copies payload and key into the
 * message it allocates, so the caller's buffers are free again on return.
 * Returns 0 or librdkafka's error. */
static rd_kafka_resp_err_t produce1(rd_kafka_topic_t *rkt, const void *payload, size_t len, const void *key,
                                    size_t keylen, void *opaque)
{
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)payload, len, key, keylen,
                         opaque) == 0)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    return rd_kafka_last_error();
}

/* Messages per rd_kafka_produce_batch call: its array lives on the stack. */
#define MANY_CHUNK 64

/* One rd_kafka_produce_batch over msgs[0..n) (n <= MANY_CHUNK); sets each
 * err; returns how many were queued. */
static size_t produce_chunk(rd_kafka_topic_t *rkt, ft_kafka_msg *msgs, size_t n)
{
    rd_kafka_message_t rm[MANY_CHUNK];
    memset(rm, 0, n * sizeof rm[0]);
    for (size_t i = 0; i < n; i++) {
        rm[i].payload = (void *)msgs[i].payload;
        rm[i].len = msgs[i].len;
        rm[i].key = (void *)msgs[i].key;
        rm[i].key_len = msgs[i].key ? msgs[i].keylen : 0;
        rm[i]._private = raw_opaque(msgs[i].records);
    }
    int good = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, rm, (int)n);
    for (size_t i = 0; i < n; i++)
        msgs[i].err = rm[i].err;
    return good > 0 ? (size_t)good : 0;
}

size_t ft_kafka_produce_many(ft_kafka *k, ft_kafka_msg *msgs, size_t n)
{
    size_t queued = 0;
    for (size_t at = 0; at < n; at += MANY_CHUNK) {
        size_t m = n - at < MANY_CHUNK ? n - at : MANY_CHUNK;
        queued += produce_chunk(k->rkt, msgs + at, m);
    }
    if (queued == n || !k->block)
        return queued;
    /* --kafka-block: retry the messages refused for a full queue, in their
     * order, until there is room (the poll thread frees it by serving
     * delivery reports) or the stop flag is set. */
    for (;;) {
        ft_kafka_msg retry[MANY_CHUNK];
        size_t idx[MANY_CHUNK], r = 0;
        for (size_t i = 0; i < n && r < MANY_CHUNK; i++)
            if (msgs[i].err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                idx[r] = i;
                retry[r++] = msgs[i];
            }
        if (r == 0 || (k->stop && atomic_load_explicit(k->stop, memory_order_relaxed)))
            return queued;
        sleep_1ms();
        queued += produce_chunk(k->rkt, retry, r);
        for (size_t j = 0; j < r; j++) {
            msgs[idx[j]].err = retry[j].err;
            msgs[idx[j]].waited = true;
        }
    }
}

ft_kafka_dr *ft_kafka_dr_new(ft_kafka *k)
{
    struct dr_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->next = k->classes;
    k->classes = n;
    return &n->dr;
}

struct ft_kafka_topic {
    rd_kafka_topic_t *rkt;
};

ft_kafka_topic *ft_kafka_topic_new(ft_kafka *k, const char *name, char *err, size_t err_len)
{
    ft_kafka_topic *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (!(t->rkt = rd_kafka_topic_new(k->rk, name, NULL))) {
        snprintf(err, err_len, "topic '%s': %s", name, rd_kafka_err2str(rd_kafka_last_error()));
        free(t);
        return NULL;
    }
    return t;
}

void ft_kafka_topic_free(ft_kafka_topic *t)
{
    if (!t)
        return;
    rd_kafka_topic_destroy(t->rkt);
    free(t);
}

ft_kafka_result ft_kafka_produce_to(ft_kafka *k, ft_kafka_topic *t, ft_kafka_dr *dr, const void *payload,
                                    size_t len, const void *key, size_t keylen, uint64_t wait_until_ns, int *err,
                                    bool *waited)
{
    (void)k; /* the handle's producer; kept for symmetry with ft_kafka_produce_many */
    *waited = false;
    for (;;) {
        rd_kafka_resp_err_t e = produce1(t->rkt, payload, len, key, keylen, dr);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return FT_KAFKA_QUEUED;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            *err = e;
            return FT_KAFKA_FAILED;
        }
        /* The poll thread drains delivery reports, which frees room. */
        if (!wait_until_ns || mono_ns() >= wait_until_ns)
            return FT_KAFKA_QUEUE_FULL;
        *waited = true;
        sleep_1ms();
    }
}

/* ---- shutdown ------------------------------------------------------------- */

void ft_kafka_close(ft_kafka *k)
{
    if (!k || k->closed || !k->rk)
        return;
    k->closed = true;
    if (k->poller_started) {
        atomic_store(&k->poller_stop, true);
        pthread_join(k->poller, NULL);
        k->poller_started = false;
    }
    /* From here this thread serves the callbacks (flush polls). */
    rd_kafka_resp_err_t e = rd_kafka_flush(k->rk, (int)k->flush_timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        int left = rd_kafka_outq_len(k->rk);
        ft_log(FT_LOG_WARN, "kafka", "%d messages not delivered within the %u ms flush timeout: purging them",
               left, k->flush_timeout_ms);
        /* Purged messages get a delivery report (_PURGE_QUEUE/_PURGE_INFLIGHT),
         * counted as failed and as flush_left of their class by on_delivery;
         * serve them briefly. */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(k->rk, 1000);
    }
    rd_kafka_poll(k->rk, 0);
}

void ft_kafka_stats_add(const ft_kafka *k, ft_kafka_stats *s)
{
    if (!k)
        return;
    ft_kafka_dr_stats_add(&k->raw, s);
    ft_kafka_codes_live_read(&k->client_errors, &s->client_errors);
}

void ft_kafka_dr_stats_add(const ft_kafka_dr *dr, ft_kafka_stats *s)
{
    s->delivered += ft_ctr_get(&dr->delivered);
    s->delivered_messages += ft_ctr_get(&dr->delivered_messages);
    ft_kafka_codes_live_read(&dr->failed, &s->delivery_failed);
    s->flush_left += ft_ctr_get(&dr->purged);
}

static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *codes_json(const ft_kafka_codes *c)
{
    json_t *o = json_object();
    for (int i = 0; o && i < FT_KAFKA_CODES; i++)
        if (c->code[i])
            json_object_set_new(o, rd_kafka_err2name((rd_kafka_resp_err_t)c->code[i]), json_u64(c->n[i]));
    if (o && c->other)
        json_object_set_new(o, "other", json_u64(c->other));
    return o ? o : json_null();
}

static void stats_members(json_t *o, const ft_kafka_stats *s)
{
    json_object_set_new(o, "produced", json_u64(s->produced));
    json_object_set_new(o, "produced_messages", json_u64(s->produced_messages));
    json_object_set_new(o, "produced_bytes", json_u64(s->produced_bytes));
    json_object_set_new(o, "dropped_queue_full", json_u64(s->dropped_queue_full));
    json_object_set_new(o, "queue_full_waits", json_u64(s->queue_full_waits));
    json_object_set_new(o, "produce_failed", codes_json(&s->produce_failed));
    json_object_set_new(o, "delivered", json_u64(s->delivered));
    json_object_set_new(o, "delivered_messages", json_u64(s->delivered_messages));
    json_object_set_new(o, "delivery_failed", codes_json(&s->delivery_failed));
    json_object_set_new(o, "flush_left", json_u64(s->flush_left));
}

size_t ft_kafka_stats_json(const ft_kafka_stats *s, const char *topic, const char *format,
                           const ft_kafka_stats_class *extra, char *buf, size_t cap)
{
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "kind", json_string("kafka_stats"));
        json_object_set_new(o, "topic", json_string(topic));
        json_object_set_new(o, "format", json_string(format));
        stats_members(o, s);
        json_object_set_new(o, "client_errors", codes_json(&s->client_errors));
        json_t *x = extra ? json_object() : NULL;
        if (x) {
            json_object_set_new(x, "topic", json_string(extra->topic));
            json_object_set_new(x, "format", json_string(extra->format));
            stats_members(x, extra->s);
            json_object_set_new(o, extra->name, x);
        }
    }
    size_t n = o ? json_dumpb(o, buf, cap, JSON_COMPACT) : 0;
    json_decref(o);
    if (n + 1 < cap) {
        buf[n] = '\n';
        buf[n + 1] = 0;
    } else if (cap) {
        buf[cap - 1] = 0;
    }
    return n + 1;
}

void ft_kafka_free(ft_kafka *k)
{
    if (!k)
        return;
    ft_kafka_close(k);
    if (k->poller_started) { /* close did not run: rk was never created */
        atomic_store(&k->poller_stop, true);
        pthread_join(k->poller, NULL);
    }
    if (k->rkt)
        rd_kafka_topic_destroy(k->rkt);
    if (k->rk)
        rd_kafka_destroy(k->rk);
    while (k->classes) {
        struct dr_node *n = k->classes;
        k->classes = n->next;
        free(n);
    }
    pthread_mutex_destroy(&k->log_lock);
    free(k);
}

long ft_kafka_queue_len(ft_kafka *k)
{
    return k ? rd_kafka_outq_len(k->rk) : 0;
}

int ft_kafka_check(ft_kafka *k, int timeout_ms, const char **why)
{
    /* A metadata request for our topic: answered only when a broker is
     * reachable (and authenticates us). Thread-safe in librdkafka. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, k->rkt, &md, timeout_ms);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        *why = rd_kafka_err2name(e);
        return -1;
    }
    return 0;
}
