/*
 * rollup_msg.c - rollup rows as flowtally.Rollup protobuf or JSON, and
 * their Kafka keys (rollup_msg.h).
 */
#include "kafka/rollup_msg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/addr.h"
#include "rollup.pb-c.h"

const char *ft_rollup_encoding_name(ft_rollup_encoding e)
{
    return e == FT_ROLLUP_JSON ? "json" : "protobuf";
}

/* The typed key of one row (rollup_msg.h: which dimension fills what). */
typedef struct typed_key {
    bool has_src_as, has_dst_as, has_proto, has_port, has_country, has_if_index;
    uint32_t src_as, dst_as, proto, port, if_index;
    char country[3];        /* "" = unknown */
    uint8_t exporter[16];   /* exporter_address: n_exporter bytes */
    size_t n_exporter;      /* 0, 4 or 16 */
    char exporter_text[FT_ADDR_STRLEN];
} typed_key;

static void typed_of(const ft_rollup_row *r, typed_key *t)
{
    const ft_rkey *k = &r->key;
    memset(t, 0, sizeof *t);
    if (k->exporter_family == 4 || k->exporter_family == 6) {
        ft_addr a;
        memcpy(a.b, k->exporter, 16);
        a.family = k->exporter_family;
        /* IPv4 is kept IPv4-mapped (addr.h): its 4 bytes are the last ones. */
        t->n_exporter = k->exporter_family == 4 ? 4 : 16;
        memcpy(t->exporter, k->exporter + 16 - t->n_exporter, t->n_exporter);
        ft_addr_format(&a, t->exporter_text);
    }
    if (k->other)
        return; /* 'other' has no key of its own, only (maybe) the exporter */
    switch (r->dim) {
    case FT_DIM_SRC_AS:
        t->has_src_as = true;
        t->src_as = k->a;
        break;
    case FT_DIM_DST_AS:
        t->has_dst_as = true;
        t->dst_as = k->a;
        break;
    case FT_DIM_AS_PAIR:
        t->has_src_as = t->has_dst_as = true;
        t->src_as = k->a;
        t->dst_as = k->b;
        break;
    case FT_DIM_SRC_PORT:
    case FT_DIM_DST_PORT:
        t->has_proto = t->has_port = true;
        t->proto = k->a;
        t->port = k->b;
        break;
    case FT_DIM_PROTO:
        t->has_proto = true;
        t->proto = k->a;
        break;
    case FT_DIM_SRC_COUNTRY:
    case FT_DIM_DST_COUNTRY:
        t->has_country = true;
        if (k->a) { /* two upper-case ASCII letters (rollup.c cc_of), 0 = unknown */
            t->country[0] = (char)(k->a >> 8);
            t->country[1] = (char)(k->a & 0xff);
        }
        break;
    case FT_DIM_IN_IF:
    case FT_DIM_OUT_IF:
        t->has_if_index = true;
        t->if_index = k->a;
        break;
    case FT_DIM_COUNT:
        break;
    }
}

static size_t encode_pb(const ft_rollup_batch *b, const ft_rollup_row *r, uint8_t *buf, size_t cap)
{
    typed_key t;
    char key[FT_RKEY_TEXT_MAX], ex[FT_RKEY_TEXT_MAX];
    typed_of(r, &t);
    Flowtally__Rollup m = FLOWTALLY__ROLLUP__INIT;
    m.window_start_ns = b->window_start_ns;
    m.window_end_ns = b->window_end_ns;
    /* protobuf-c only reads these strings: the casts drop a const it does
     * not declare. */
    m.dimension = (char *)ft_dim_name(r->dim);
    m.key_text = ft_rkey_text(r->dim, &r->key, key);
    m.exporter = ft_rkey_exporter_text(&r->key, b->by_exporter, ex);
    m.bytes = r->bytes;
    m.packets = r->packets;
    m.flows = r->flows;
    m.is_correction = b->is_correction;
    m.is_partial = b->is_partial;
    m.is_other = r->key.other != 0;
    m.src_as = t.src_as;
    m.dst_as = t.dst_as;
    m.proto = t.proto;
    m.port = t.port;
    m.country = t.country;
    m.exporter_address.len = t.n_exporter;
    m.exporter_address.data = t.n_exporter ? t.exporter : NULL;
    m.if_index = t.if_index;
    size_t n = protobuf_c_message_get_packed_size(&m.base);
    if (n > cap)
        return 0;
    return protobuf_c_message_pack(&m.base, buf);
}

static json_t *ju(uint64_t v)
{
    /* Every value here is below 2^63 (window.h caps a window's sums far
     * lower); clamp anyway rather than wrap. */
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static size_t encode_json(const ft_rollup_batch *b, const ft_rollup_row *r, uint8_t *buf, size_t cap)
{
    typed_key t;
    char key[FT_RKEY_TEXT_MAX], ex[FT_RKEY_TEXT_MAX];
    typed_of(r, &t);
    json_t *o = json_object();
    if (!o)
        return 0;
    json_object_set_new(o, "window_start_ns", ju(b->window_start_ns));
    json_object_set_new(o, "window_end_ns", ju(b->window_end_ns));
    json_object_set_new(o, "dimension", json_string(ft_dim_name(r->dim)));
    json_object_set_new(o, "key_text", json_string(ft_rkey_text(r->dim, &r->key, key)));
    json_object_set_new(o, "exporter", json_string(ft_rkey_exporter_text(&r->key, b->by_exporter, ex)));
    json_object_set_new(o, "bytes", ju(r->bytes));
    json_object_set_new(o, "packets", ju(r->packets));
    json_object_set_new(o, "flows", ju(r->flows));
    json_object_set_new(o, "is_correction", json_boolean(b->is_correction));
    json_object_set_new(o, "is_partial", json_boolean(b->is_partial));
    json_object_set_new(o, "is_other", json_boolean(r->key.other != 0));
    if (t.has_src_as)
        json_object_set_new(o, "src_as", ju(t.src_as));
    if (t.has_dst_as)
        json_object_set_new(o, "dst_as", ju(t.dst_as));
    if (t.has_proto)
        json_object_set_new(o, "proto", ju(t.proto));
    if (t.has_port)
        json_object_set_new(o, "port", ju(t.port));
    if (t.has_country)
        json_object_set_new(o, "country", json_string(t.country));
    if (t.n_exporter)
        json_object_set_new(o, "exporter_address", json_string(t.exporter_text));
    if (t.has_if_index)
        json_object_set_new(o, "if_index", ju(t.if_index));
    size_t n = json_dumpb(o, (char *)buf, cap, JSON_COMPACT);
    json_decref(o);
    return n <= cap ? n : 0; /* json_dumpb returns the full length even when cut */
}

size_t ft_rollup_encode(ft_rollup_encoding e, const ft_rollup_batch *b, const ft_rollup_row *r, uint8_t *buf,
                        size_t cap)
{
    return e == FT_ROLLUP_JSON ? encode_json(b, r, buf, cap) : encode_pb(b, r, buf, cap);
}

size_t ft_rollup_msg_key(const ft_rollup_batch *b, const ft_rollup_row *r, char *buf)
{
    char key[FT_RKEY_TEXT_MAX], ex[FT_RKEY_TEXT_MAX];
    ft_rkey_text(r->dim, &r->key, key);
    ft_rkey_exporter_text(&r->key, b->by_exporter, ex);
    int n = snprintf(buf, FT_ROLLUP_KEY_MAX, ex[0] ? "%s %s %s" : "%s %s", ft_dim_name(r->dim), key, ex);
    return n < 0 ? 0 : (size_t)n < FT_ROLLUP_KEY_MAX ? (size_t)n : FT_ROLLUP_KEY_MAX - 1;
}
