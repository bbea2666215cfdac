/*
 * rollup_sink.c - rollup rows to Kafka (rollup_sink.h).
 */
#include "kafka/rollup_sink.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/counters.h"
#include "core/log.h"

#define PLACEHOLDER "{dimension}"

struct ft_kafka_rollup {
    ft_kafka *producer;
    ft_rollup_encoding encoding;
    uint64_t wait_ns;
    ft_kafka_topic *topic[FT_DIM_COUNT]; /* per dimension; all the same handle without {dimension} */
    bool per_dimension;
    char topic_text[FT_KAFKA_TOPIC_MAX + 1]; /* the template, for logs */
    ft_kafka_dr *dr;                          /* delivery reports, owned by the producer */
    bool stalled;                             /* the last batch waited in vain: do not wait again
                                                 until a row gets in (flushing thread only) */
    ft_ctr produced, produced_bytes, dropped, waits;
    ft_kafka_codes_live refused; /* by rd_kafka_produce (and encoding failures), by code */
    ft_log_limiter lim;          /* flushing thread only */
    uint8_t buf[FT_ROLLUP_MSG_MAX];
};

size_t ft_kafka_rollup_topic_name(const char *topic, ft_dim d, char *out)
{
    const char *dim = ft_dim_name(d);
    size_t n = 0, pl = strlen(PLACEHOLDER);
    for (const char *p = topic; *p;) {
        const char *add = p;
        size_t len = 1;
        if (strncmp(p, PLACEHOLDER, pl) == 0) {
            add = dim;
            len = strlen(dim);
            p += pl;
        } else {
            p++;
        }
        for (size_t i = 0; i < len && n < FT_KAFKA_TOPIC_MAX; i++)
            out[n++] = add[i];
    }
    out[n] = 0;
    return n;
}

int ft_kafka_rollup_topic_check(const char *topic, char *err, size_t err_len)
{
    /* Kafka's Topic.validate: 1..249 of [a-zA-Z0-9._-], not "." or "..".
     * The longest dimension name decides the length. */
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        char name[FT_KAFKA_TOPIC_MAX + 2];
        /* One byte more than the bound: a cut name is too long. */
        size_t n = 0, pl = strlen(PLACEHOLDER);
        for (const char *p = topic; *p && n <= FT_KAFKA_TOPIC_MAX;) {
            if (strncmp(p, PLACEHOLDER, pl) == 0) {
                for (const char *q = ft_dim_name((ft_dim)d); *q && n <= FT_KAFKA_TOPIC_MAX; q++)
                    name[n++] = *q;
                p += pl;
            } else {
                name[n++] = *p++;
            }
        }
        name[n] = 0;
        if (n == 0 || n > FT_KAFKA_TOPIC_MAX) {
            snprintf(err, err_len, "--kafka-rollup-topic '%s': a topic name has 1 to %d characters", topic,
                     FT_KAFKA_TOPIC_MAX);
            return -1;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            snprintf(err, err_len, "--kafka-rollup-topic '%s': '.' and '..' are not topic names", topic);
            return -1;
        }
        size_t bad = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
        if (name[bad]) {
            snprintf(err, err_len, "--kafka-rollup-topic '%s': '%c' cannot be in a topic name (letters, digits, "
                     "'.', '_' and '-'; " PLACEHOLDER " is replaced by the dimension)", topic, name[bad]);
            return -1;
        }
    }
    return 0;
}

ft_kafka_rollup *ft_kafka_rollup_new(const ft_kafka_rollup_opts *o, char *err, size_t err_len)
{
    if (ft_kafka_rollup_topic_check(o->topic, err, err_len) != 0)
        return NULL;
    ft_kafka_rollup *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    r->producer = o->producer;
    r->encoding = o->encoding;
    r->wait_ns = (uint64_t)(o->wait_ms ? o->wait_ms : FT_KAFKA_ROLLUP_WAIT_MS) * 1000000ull;
    r->per_dimension = strstr(o->topic, PLACEHOLDER) != NULL;
    snprintf(r->topic_text, sizeof r->topic_text, "%s", o->topic);
    ft_log_limiter_init(&r->lim, 10);
    if (!(r->dr = ft_kafka_dr_new(o->producer))) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        if (!r->per_dimension && d > 0) {
            r->topic[d] = r->topic[0];
            continue;
        }
        char name[FT_KAFKA_TOPIC_MAX + 1];
        ft_kafka_rollup_topic_name(o->topic, (ft_dim)d, name);
        if (!(r->topic[d] = ft_kafka_topic_new(o->producer, name, err, err_len)))
            goto fail;
    }
    return r;
fail:
    ft_kafka_rollup_free(r);
    return NULL;
}

void ft_kafka_rollup_free(ft_kafka_rollup *r)
{
    if (!r)
        return;
    for (int d = 0; d < (r->per_dimension ? FT_DIM_COUNT : 1); d++)
        ft_kafka_topic_free(r->topic[d]);
    free(r);
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* One row: encode, key, produce. Returns true when queued. */
static bool produce_row(ft_kafka_rollup *r, const ft_rollup_batch *b, const ft_rollup_row *row, uint64_t deadline)
{
    size_t len = ft_rollup_encode(r->encoding, b, row, r->buf, sizeof r->buf);
    if (!len) { /* only JSON without memory: rollup_msg_test bounds every row */
        ft_kafka_codes_live_add(&r->refused, RD_KAFKA_RESP_ERR__BAD_MSG);
        ft_log_limited(&r->lim, 1, FT_LOG_WARN, "kafka", "a rollup row could not be encoded (%s): not produced",
                       ft_rollup_encoding_name(r->encoding));
        return false;
    }
    char key[FT_ROLLUP_KEY_MAX];
    size_t keylen = ft_rollup_msg_key(b, row, key);
    int err = 0;
    bool waited;
    ft_kafka_result res = ft_kafka_produce_to(r->producer, r->topic[row->dim], r->dr, r->buf, len, key, keylen,
                                              r->stalled ? 0 : deadline, &err, &waited);
    if (waited)
        ft_ctr_add(&r->waits, 1);
    switch (res) {
    case FT_KAFKA_QUEUED:
        r->stalled = false;
        ft_ctr_add(&r->produced, 1);
        ft_ctr_add(&r->produced_bytes, len);
        return true;
    case FT_KAFKA_QUEUE_FULL:
        r->stalled = true;
        ft_ctr_add(&r->dropped, 1);
        ft_log_limited(&r->lim, 2, FT_LOG_WARN, "kafka",
                       "local queue still full after waiting %llu ms (broker slow or unreachable): rollup rows "
                       "dropped; raise queue.buffering.max.messages with -X",
                       (unsigned long long)(r->wait_ns / 1000000));
        return false;
    case FT_KAFKA_FAILED:
        ft_kafka_codes_live_add(&r->refused, err);
        ft_log_limited(&r->lim, 3 + (uint64_t)(unsigned)err, FT_LOG_WARN, "kafka", "rollup row refused: %s",
                       ft_kafka_err_name(err));
        return false;
    }
    return false;
}

/* ft_rollup_sink.flush: every row of the batch, in the batch's order (by
 * dimension, then bytes descending). */
static int rollup_flush(void *ctx, const ft_rollup_batch *b)
{
    ft_kafka_rollup *r = ctx;
    uint64_t deadline = mono_ns() + r->wait_ns;
    size_t lost = 0;
    for (size_t i = 0; i < b->n_rows; i++)
        if (!produce_row(r, b, &b->rows[i], deadline))
            lost++;
    return lost ? -1 : 0;
}

ft_rollup_sink ft_kafka_rollup_sink(ft_kafka_rollup *r)
{
    ft_rollup_sink s = {"kafka", rollup_flush, r};
    return s;
}

void ft_kafka_rollup_stats_add(const ft_kafka_rollup *r, ft_kafka_stats *s)
{
    if (!r)
        return;
    s->produced += ft_ctr_get(&r->produced);
    s->produced_messages += ft_ctr_get(&r->produced); /* one row per message */
    s->produced_bytes += ft_ctr_get(&r->produced_bytes);
    s->dropped_queue_full += ft_ctr_get(&r->dropped);
    s->queue_full_waits += ft_ctr_get(&r->waits);
    ft_kafka_codes_live_read(&r->refused, &s->produce_failed);
    ft_kafka_dr_stats_add(r->dr, s);
}
