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

/* The staging area of one worker: Kafka messages waiting for the next
 * ft_kafka_produce_many call, their payloads back to back in `arena` and
 * their keys in `keys`. STAGE_MSGS messages go in one call; the arena holds
 * them whatever their size (a message closes before it passes
 * FT_KAFKA_BATCH_BYTES_MAX, and the arena is twice that). */
#define STAGE_MSGS 256
#define ARENA_BYTES (2 * FT_KAFKA_BATCH_BYTES_MAX)
#define KEYS_BYTES (64 * 1024)
_Static_assert(KEYS_BYTES >= 2 * FT_KAFKA_KEY_MAX, "room for a key in an empty key arena");
_Static_assert(FT_KAFKA_BATCH_MAX <= FT_KAFKA_MSG_RECORDS_MAX, "a batch's record count fits its delivery report");
_Static_assert(FT_KAFKA_BATCH_BYTES_MAX + FT_FLOW_PB_MAX <= ARENA_BYTES, "a full batch fits the arena");

struct ft_kafka_raw {
    ft_kafka *producer;
    ft_flow_pb *enc;
    ft_kafka_key key;
    uint32_t batch; /* records per Kafka message at most */
    ft_ctr produced, produced_messages, produced_bytes, dropped, waits;
    ft_kafka_codes_live refused; /* by rd_kafka_produce, by code */
    ft_log_limiter lim;

    ft_kafka_msg msgs[STAGE_MSGS]; /* [0, n_msgs) closed; msgs[n_msgs] filling when open */
    size_t n_msgs;
    bool open;
    size_t used, keys_used; /* bytes of arena and keys taken */
    uint8_t keybuf[FT_KAFKA_KEY_MAX];
    uint8_t keys[KEYS_BYTES];
    uint8_t arena[ARENA_BYTES];
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
    r->batch = o->batch ? o->batch : 1;
    ft_log_limiter_init(&r->lim, 10);
    if (o->key_fields && *o->key_fields) {
        char err[256];
        if (ft_kafka_key_parse(o->key_fields, &r->key, err, sizeof err) != 0) {
            ft_log(FT_LOG_ERROR, "kafka", "%s", err);
            goto fail;
        }
    }
    /* A batch of several records is always delimited (ft_kafka_raw_opts). */
    if (!(r->enc = ft_flow_pb_new(o->format, r->batch > 1 ? FT_PB_FRAMING_DELIMITED : o->framing)))
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

/* Hands every staged message to the producer (one ft_kafka_produce_many)
 * and counts what became of their records; empties the staging area. */
static void send_staged(ft_kafka_raw *r)
{
    if (r->open) {
        r->open = false;
        r->n_msgs++;
    }
    if (!r->n_msgs)
        return;
    ft_kafka_produce_many(r->producer, r->msgs, r->n_msgs);
    uint64_t produced = 0, bytes = 0, msgs = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        const ft_kafka_msg *m = &r->msgs[i];
        if (m->waited)
            ft_ctr_add(&r->waits, m->records);
        if (m->err == 0) {
            produced += m->records;
            bytes += m->len;
            msgs++;
        } else if (m->err == FT_KAFKA_ERR_QUEUE_FULL) {
            ft_ctr_add(&r->dropped, m->records);
            ft_log_limited(&r->lim, 1, FT_LOG_WARN, "kafka",
                           "local queue full (broker slow or unreachable): flow records dropped; "
                           "raise queue.buffering.max.messages with -X, or use --kafka-block");
        } else {
            ft_kafka_codes_live_add_n(&r->refused, m->err, m->records);
            ft_log_limited(&r->lim, 2 + (uint64_t)(unsigned)m->err, FT_LOG_WARN, "kafka",
                           "%u flow record(s) refused: %s", (unsigned)m->records, ft_kafka_err_name(m->err));
        }
    }
    ft_ctr_add(&r->produced, produced);
    ft_ctr_add(&r->produced_messages, msgs);
    ft_ctr_add(&r->produced_bytes, bytes);
    r->n_msgs = 0;
    r->used = r->keys_used = 0;
}

/* The filling message is complete: stage it (sending the stage when full). */
static void close_msg(ft_kafka_raw *r)
{
    r->open = false;
    if (++r->n_msgs == STAGE_MSGS)
        send_staged(r);
}

/* Encodes f into the filling Kafka message, first closing that message when
 * it holds --kafka-batch records, would pass FT_KAFKA_BATCH_BYTES_MAX, or has
 * another key than f's. */
static void raw_emit(void *ctx, const ft_flow *f)
{
    ft_kafka_raw *r = ctx;
    size_t keylen = r->key.n ? ft_kafka_key_build(&r->key, f, r->keybuf) : 0;
    ft_kafka_msg *m = &r->msgs[r->n_msgs];
    if (r->open && (m->len + FT_FLOW_PB_MAX > FT_KAFKA_BATCH_BYTES_MAX || r->used + FT_FLOW_PB_MAX > ARENA_BYTES ||
                    (r->key.n && (keylen != m->keylen || memcmp(m->key, r->keybuf, keylen) != 0))))
        close_msg(r);
    if (!r->open) {
        if (r->used + FT_FLOW_PB_MAX > ARENA_BYTES || r->keys_used + keylen > KEYS_BYTES)
            send_staged(r);
        m = &r->msgs[r->n_msgs];
        memset(m, 0, sizeof *m);
        m->payload = r->arena + r->used;
        if (r->key.n) {
            memcpy(r->keys + r->keys_used, r->keybuf, keylen);
            m->key = r->keys + r->keys_used;
            m->keylen = keylen;
            r->keys_used += keylen;
        }
        r->open = true;
    }
    size_t n = ft_flow_pb_encode_into(r->enc, f, r->arena + r->used);
    r->used += n;
    m->len += n;
    if (++m->records >= r->batch)
        close_msg(r);
}

void ft_kafka_raw_flush(ft_kafka_raw *r)
{
    if (r)
        send_staged(r);
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
    s->produced_messages += ft_ctr_get(&r->produced_messages);
    s->produced_bytes += ft_ctr_get(&r->produced_bytes);
    s->dropped_queue_full += ft_ctr_get(&r->dropped);
    s->queue_full_waits += ft_ctr_get(&r->waits);
    ft_kafka_codes_live_read(&r->refused, &s->produce_failed);
}
