/*
 * raw_sink.c - one worker's end of the raw Kafka topic (raw_sink.h).
 */
#include "kafka/raw_sink.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/log.h"

struct ft_kafka_raw {
    ft_kafka *producer;
    ft_flow_pb *enc;
    ft_kafka_key key;
    ft_ctr produced, produced_bytes, dropped, waits;
    ft_kafka_codes_live refused; /* by rd_kafka_produce, by code */
    ft_log_limiter lim;
    uint8_t keybuf[FT_KAFKA_KEY_MAX];
};

int ft_kafka_key_parse(const char *list, ft_kafka_key *k, char *err, size_t err_len)
{
    size_t n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[64];
        if (len == 0 || len >= sizeof name) {
            snprintf(err, err_len, "--kafka-key '%s': empty or overlong field name", list);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        const ft_flow_field *f = ft_flow_field_find(name);
        if (!f) {
            snprintf(err, err_len, "--kafka-key '%s': '%s' is not a flow record field (use the --print names, "
                     "e.g. src_addr,dst_addr)", list, name);
            return -1;
        }
        if (n == FT_KAFKA_KEY_MAX_FIELDS) {
            snprintf(err, err_len, "--kafka-key '%s': at most %d fields", list, FT_KAFKA_KEY_MAX_FIELDS);
            return -1;
        }
        k->f[n++] = f;
        if (!p[len]) {
            k->n = n;
            return 0;
        }
        p += len + 1;
    }
}

ft_kafka_raw *ft_kafka_raw_new(const ft_kafka_raw_opts *o)
{
    ft_kafka_raw *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->producer = o->producer;
    ft_log_limiter_init(&r->lim, 10);
    if (o->key_fields && *o->key_fields) {
        char err[256];
        if (ft_kafka_key_parse(o->key_fields, &r->key, err, sizeof err) != 0) {
            ft_log(FT_LOG_ERROR, "kafka", "%s", err);
            goto fail;
        }
    }
    if (!(r->enc = ft_flow_pb_new(o->format, o->framing)))
        goto fail;
    return r;
fail:
    ft_kafka_raw_free(r);
    return NULL;
}

void ft_kafka_raw_free(ft_kafka_raw *r)
{
    if (!r)
        return;
    ft_flow_pb_free(r->enc);
    free(r);
}

static uint8_t *put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

size_t ft_kafka_key_build(const ft_kafka_key *k, const ft_flow *f, uint8_t *out)
{
    uint8_t *p = out;
    const char *base = (const char *)f;
    for (size_t i = 0; i < k->n; i++) {
        const void *v = base + k->f[i]->off;
        switch (k->f[i]->kind) {
        case FT_FIELD_TYPE:
            p = put_be(p, (uint64_t)*(const ft_flow_type *)v, 1);
            break;
        case FT_FIELD_BOOL:
            *p++ = *(const bool *)v ? 1 : 0;
            break;
        case FT_FIELD_U32:
            p = put_be(p, *(const uint32_t *)v, 4);
            break;
        case FT_FIELD_U64:
            p = put_be(p, *(const uint64_t *)v, 8);
            break;
        case FT_FIELD_MAC:
            p = put_be(p, *(const uint64_t *)v, 6);
            break;
        case FT_FIELD_ADDR: {
            const ft_addr *a = v;
            if (a->family)
                memcpy(p, a->b, 16);
            else
                memset(p, 0, 16);
            p += 16;
            break;
        }
        case FT_FIELD_COUNTRY:
            memcpy(p, v, 2);
            p += 2;
            break;
        case FT_FIELD_ASPATH: {
            uint32_t n = f->as_path_len < FT_AS_PATH_MAX ? f->as_path_len : FT_AS_PATH_MAX;
            for (uint32_t j = 0; j < n; j++)
                p = put_be(p, f->as_path[j], 4);
            break;
        }
        }
    }
    return (size_t)(p - out);
}

static void raw_emit(void *ctx, const ft_flow *f)
{
    ft_kafka_raw *r = ctx;
    size_t len, keylen = 0;
    const uint8_t *msg = ft_flow_pb_encode(r->enc, f, &len);
    if (r->key.n)
        keylen = ft_kafka_key_build(&r->key, f, r->keybuf);
    int err = 0;
    bool waited;
    ft_kafka_result res = ft_kafka_produce(r->producer, msg, len, r->key.n ? r->keybuf : NULL, keylen, &err, &waited);
    if (waited)
        ft_ctr_add(&r->waits, 1);
    switch (res) {
    case FT_KAFKA_QUEUED:
        ft_ctr_add(&r->produced, 1);
        ft_ctr_add(&r->produced_bytes, len);
        return;
    case FT_KAFKA_QUEUE_FULL:
        ft_ctr_add(&r->dropped, 1);
        ft_log_limited(&r->lim, 1, FT_LOG_WARN, "kafka",
                       "local queue full (broker slow or unreachable): flow record dropped; "
                       "raise queue.buffering.max.messages with -X, or use --kafka-block");
        return;
    case FT_KAFKA_FAILED:
        ft_kafka_codes_live_add(&r->refused, err);
        ft_log_limited(&r->lim, 2 + (uint64_t)(unsigned)err, FT_LOG_WARN, "kafka", "flow record refused: %s",
                       ft_kafka_err_name(err));
        return;
    }
}

ft_flow_sink ft_kafka_raw_flow_sink(ft_kafka_raw *r)
{
    ft_flow_sink s = {raw_emit, r};
    return s;
}

void ft_kafka_raw_stats_add(const ft_kafka_raw *r, ft_kafka_stats *s)
{
    if (!r)
        return;
    s->produced += ft_ctr_get(&r->produced);
    s->produced_bytes += ft_ctr_get(&r->produced_bytes);
    s->dropped_queue_full += ft_ctr_get(&r->dropped);
    s->queue_full_waits += ft_ctr_get(&r->waits);
    ft_kafka_codes_live_read(&r->refused, &s->produce_failed);
}
