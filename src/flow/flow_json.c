/*
 * flow_json.c - JSON lines for --print and --stats (flow_json.h), built and
 * serialised with jansson.
 *
 * One table (FLOW_FIELDS) lists the record's keys in flow.h order with the
 * kind of value and where it lives; the formatter walks it, so a field added
 * to ft_flow is one row here, and the key order cannot drift from the table
 * (jansson keeps object keys in insertion order).
 */
#include "flow/flow_json.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* ---- jansson values ---------------------------------------------------- */

/* jansson integers are signed 64-bit (json_int_t): a uint64 above INT64_MAX
 * can only come from a hostile or broken exporter; it is printed as
 * INT64_MAX rather than wrapped to a negative number. */
static json_t *json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Serialises o compactly plus '\n' into buf[0..cap), NUL terminated when it
 * fits; returns the line length (>= cap when cut, like snprintf). Takes the
 * reference to o. */
static size_t dump_line(json_t *o, char *buf, size_t cap)
{
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

/* ---- the record --------------------------------------------------------- */

/* Short names of ft_field_kind (flow_json.h) for the table. */
#define K_TYPE FT_FIELD_TYPE
#define K_U32 FT_FIELD_U32
#define K_U64 FT_FIELD_U64
#define K_BOOL FT_FIELD_BOOL
#define K_ADDR FT_FIELD_ADDR
#define K_MAC FT_FIELD_MAC
#define K_ASPATH FT_FIELD_ASPATH
#define K_COUNTRY FT_FIELD_COUNTRY

#define F(name, kind) {#name, kind, offsetof(ft_flow, name)}
static const ft_flow_field FLOW_FIELDS[] = {
    F(type, K_TYPE),
    F(time_received_ns, K_U64),
    F(sequence_num, K_U32),
    F(sampling_rate, K_U64),
    F(flow_direction, K_U32),
    F(sampler_address, K_ADDR),
    F(observation_domain_id, K_U32),
    F(observation_point_id, K_U32),
    F(time_flow_start_ns, K_U64),
    F(time_flow_end_ns, K_U64),
    F(bytes, K_U64),
    F(packets, K_U64),
    F(src_addr, K_ADDR),
    F(dst_addr, K_ADDR),
    F(etype, K_U32),
    F(proto, K_U32),
    F(src_port, K_U32),
    F(dst_port, K_U32),
    F(in_if, K_U32),
    F(out_if, K_U32),
    F(src_mac, K_MAC),
    F(dst_mac, K_MAC),
    F(src_vlan, K_U32),
    F(dst_vlan, K_U32),
    F(vlan_id, K_U32),
    F(ingress_vrf_id, K_U32),
    F(egress_vrf_id, K_U32),
    F(ip_tos, K_U32),
    F(forwarding_status, K_U32),
    F(ip_ttl, K_U32),
    F(ip_flags, K_U32),
    F(tcp_flags, K_U32),
    F(icmp_type, K_U32),
    F(icmp_code, K_U32),
    F(ipv6_flow_label, K_U32),
    F(fragment_id, K_U32),
    F(fragment_offset, K_U32),
    F(bi_flow_direction, K_U32),
    F(src_as, K_U32),
    F(dst_as, K_U32),
    F(next_hop, K_ADDR),
    F(bgp_next_hop, K_ADDR),
    F(next_hop_as, K_U32),
    F(src_net, K_U32),
    F(dst_net, K_U32),
    F(as_path, K_ASPATH),
    F(has_mpls, K_BOOL),
    F(mpls_count, K_U32),
    F(mpls_1_ttl, K_U32),
    F(mpls_1_label, K_U32),
    F(mpls_2_ttl, K_U32),
    F(mpls_2_label, K_U32),
    F(mpls_3_ttl, K_U32),
    F(mpls_3_label, K_U32),
    F(mpls_last_ttl, K_U32),
    F(mpls_last_label, K_U32),
    F(has_encap, K_BOOL),
    F(src_addr_encap, K_ADDR),
    F(dst_addr_encap, K_ADDR),
    F(proto_encap, K_U32),
    F(etype_encap, K_U32),
    F(ip_tos_encap, K_U32),
    F(ip_ttl_encap, K_U32),
    F(ipv6_flow_label_encap, K_U32),
    F(fragment_id_encap, K_U32),
    F(fragment_offset_encap, K_U32),
    F(has_ppp, K_BOOL),
    F(ppp_address_control, K_U32),
    F(src_country, K_COUNTRY),
    F(dst_country, K_COUNTRY),
};
#undef F

const ft_flow_field *ft_flow_field_find(const char *name)
{
    for (size_t i = 0; i < sizeof FLOW_FIELDS / sizeof FLOW_FIELDS[0]; i++)
        if (strcmp(FLOW_FIELDS[i].name, name) == 0)
            return &FLOW_FIELDS[i];
    return NULL;
}

size_t ft_flow_json(const ft_flow *f, char *buf, size_t cap)
{
    json_t *o = json_object();
    const char *base = (const char *)f;
    for (size_t i = 0; o && i < sizeof FLOW_FIELDS / sizeof FLOW_FIELDS[0]; i++) {
        const ft_flow_field *d = &FLOW_FIELDS[i];
        const void *v = base + d->off;
        json_t *j = NULL;
        switch (d->kind) {
        case K_TYPE:
            j = json_string(ft_flow_type_name(f->type));
            break;
        case K_U32:
            j = json_integer(*(const uint32_t *)v);
            break;
        case K_U64:
            j = json_u64(*(const uint64_t *)v);
            break;
        case K_BOOL:
            j = json_boolean(*(const bool *)v);
            break;
        case K_ADDR: {
            char a[FT_ADDR_STRLEN];
            j = json_string(ft_addr_format((const ft_addr *)v, a));
            break;
        }
        case K_MAC: {
            uint64_t m = *(const uint64_t *)v;
            char s[18];
            snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(m >> 40) & 0xff,
                     (unsigned)(m >> 32) & 0xff, (unsigned)(m >> 24) & 0xff,
                     (unsigned)(m >> 16) & 0xff, (unsigned)(m >> 8) & 0xff, (unsigned)m & 0xff);
            j = json_string(s);
            break;
        }
        case K_ASPATH: {
            uint32_t n = f->as_path_len < FT_AS_PATH_MAX ? f->as_path_len : FT_AS_PATH_MAX;
            j = json_array();
            for (uint32_t k = 0; j && k < n; k++)
                json_array_append_new(j, json_integer(f->as_path[k]));
            break;
        }
        case K_COUNTRY: {
            const char *c = (const char *)v;
            /* char[3] from enrichment: only ASCII letters are a country. */
            char cc[3] = {0};
            for (int k = 0; k < 2 && ((c[k] >= 'A' && c[k] <= 'Z') || (c[k] >= 'a' && c[k] <= 'z')); k++)
                cc[k] = c[k];
            j = json_string(cc);
            break;
        }
        }
        json_object_set_new(o, d->name, j ? j : json_null());
    }
    return dump_line(o, buf, cap);
}

/* ---- --stats ------------------------------------------------------------- */

size_t ft_exporter_stats_json(const ft_exporter_stats *s, char *buf, size_t cap)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } protos[] = {{FT_PROTO_NETFLOW_V5, "netflow_v5"},
                  {FT_PROTO_NETFLOW_V9, "netflow_v9"},
                  {FT_PROTO_IPFIX, "ipfix"},
                  {FT_PROTO_SFLOW_5, "sflow_5"}};
    char a[FT_ADDR_STRLEN];
    json_t *o = json_object(), *p = json_array(), *c = json_object(), *e = json_object();
    for (size_t i = 0; p && i < sizeof protos / sizeof protos[0]; i++)
        if (s->protocols & protos[i].bit)
            json_array_append_new(p, json_string(protos[i].name));
    for (int i = 0; c && i < FT_CTR_COUNT; i++)
        json_object_set_new(c, ft_ctr_name((ft_ctr_id)i), json_u64(s->ctr[i]));
    for (int i = 1; e && i < FT_ERR_COUNT; i++)
        json_object_set_new(e, ft_err_name((ft_err)i), json_u64(s->errors[i]));
    if (o) {
        json_object_set_new(o, "kind", json_string("exporter_stats"));
        json_object_set_new(o, "exporter", json_string(ft_addr_format(&s->addr, a)));
        json_object_set_new(o, "protocols", p ? p : json_null());
        json_object_set_new(o, "last_seen_ns", json_u64(s->last_seen_ns));
        json_object_set_new(o, "templates", json_u64(s->templates));
        json_object_set_new(o, "pending", json_u64(s->pending));
        json_object_set_new(o, "sampling_rate", json_u64(s->sampling_rate));
        json_object_set_new(o, "counters", c ? c : json_null());
        json_object_set_new(o, "errors", e ? e : json_null());
    } else {
        json_decref(p);
        json_decref(c);
        json_decref(e);
    }
    return dump_line(o, buf, cap);
}

/* ---- output and per-worker sinks ----------------------------------------- */

struct ft_json_out {
    FILE *fp;
    pthread_mutex_t lock;
    _Atomic uint64_t lines, dropped;
    ft_log_limiter lim; /* under lock */
};

ft_json_out *ft_json_out_new(FILE *fp)
{
    ft_json_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->fp = fp;
    pthread_mutex_init(&o->lock, NULL);
    ft_log_limiter_init(&o->lim, 10);
    return o;
}

void ft_json_out_free(ft_json_out *o)
{
    if (!o)
        return;
    pthread_mutex_destroy(&o->lock);
    free(o);
}

uint64_t ft_json_out_lines(const ft_json_out *o)
{
    return o ? atomic_load(&((ft_json_out *)o)->lines) : 0;
}

uint64_t ft_json_out_dropped(const ft_json_out *o)
{
    return o ? atomic_load(&((ft_json_out *)o)->dropped) : 0;
}

/* 64 KiB per worker: ~25 worst-case lines, several hundred typical ones
 * per write. */
#define SINK_BUF (64 * 1024)

struct ft_json_sink {
    ft_json_out *out;
    ft_record_fmt fmt; /* NULL: ft_flow_json */
    void *fmt_ctx;
    size_t len;      /* bytes buffered */
    uint64_t nlines; /* lines buffered */
    char buf[SINK_BUF];
};

_Static_assert(SINK_BUF >= 2 * FT_FLOW_JSON_MAX, "a sink buffer holds at least two lines");

ft_json_sink *ft_json_sink_new(ft_json_out *o)
{
    return ft_json_sink_new_fmt(o, NULL, NULL);
}

ft_json_sink *ft_json_sink_new_fmt(ft_json_out *o, ft_record_fmt fmt, void *ctx)
{
    ft_json_sink *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->out = o;
    s->fmt = fmt;
    s->fmt_ctx = ctx;
    s->len = 0;
    s->nlines = 0;
    return s;
}

void ft_json_sink_flush(ft_json_sink *s)
{
    if (!s || !s->len)
        return;
    ft_json_out *o = s->out;
    pthread_mutex_lock(&o->lock);
    size_t put = fwrite(s->buf, 1, s->len, o->fp);
    int bad = put != s->len || fflush(o->fp) != 0;
    if (bad) {
        int e = errno;
        clearerr(o->fp);
        atomic_fetch_add(&o->dropped, s->nlines);
        ft_log_limited(&o->lim, 1, FT_LOG_WARN, "print", "cannot write flow records: %s (%llu lines lost)",
                       strerror(e), (unsigned long long)s->nlines);
    } else {
        atomic_fetch_add(&o->lines, s->nlines);
    }
    pthread_mutex_unlock(&o->lock);
    s->len = 0;
    s->nlines = 0;
}

static void sink_emit(void *ctx, const ft_flow *f)
{
    ft_json_sink *s = ctx;
    if (SINK_BUF - s->len < FT_FLOW_JSON_MAX)
        ft_json_sink_flush(s);
    size_t n = s->fmt ? s->fmt(s->fmt_ctx, f, s->buf + s->len, SINK_BUF - s->len)
                      : ft_flow_json(f, s->buf + s->len, SINK_BUF - s->len);
    if (n >= SINK_BUF - s->len) {
        /* Cannot happen while FT_FLOW_JSON_MAX bounds a line (flow_json_test
         * checks it); if it ever does, say so rather than print half a line. */
        atomic_fetch_add(&s->out->dropped, 1);
        ft_log(FT_LOG_ERROR, "print", "flow record line longer than %d bytes dropped", FT_FLOW_JSON_MAX);
        return;
    }
    s->len += n;
    s->nlines++;
}

ft_flow_sink ft_json_sink_flow_sink(ft_json_sink *s)
{
    ft_flow_sink k = {sink_emit, s};
    return k;
}

void ft_json_sink_free(ft_json_sink *s)
{
    if (!s)
        return;
    ft_json_sink_flush(s);
    free(s);
}

/* ---- summing exporters across workers ------------------------------------- */

void ft_stats_set_collect(void *set, const ft_exporter_stats *e)
{
    ft_stats_set *s = set;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        ft_exporter_stats *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            abort();
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *e;
}

static int cmp_exporter(const void *a, const void *b)
{
    const ft_exporter_stats *x = a, *y = b;
    if (x->addr.family != y->addr.family)
        return x->addr.family < y->addr.family ? -1 : 1;
    return memcmp(x->addr.b, y->addr.b, 16);
}

void ft_stats_set_merge(ft_stats_set *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_exporter);
    size_t out = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (ft_addr_eq(&s->v[out].addr, &s->v[i].addr))
            ft_exporter_stats_add(&s->v[out], &s->v[i]);
        else
            s->v[++out] = s->v[i];
    }
    s->n = out + 1;
}

void ft_stats_set_print(const ft_stats_set *s, FILE *out)
{
    char line[8192];
    for (size_t i = 0; i < s->n; i++) {
        size_t n = ft_exporter_stats_json(&s->v[i], line, sizeof line);
        if (n < sizeof line)
            fwrite(line, 1, n, out);
        else
            ft_log(FT_LOG_ERROR, "stats", "exporter stats line longer than %zu bytes not printed", sizeof line);
    }
    fflush(out);
}

void ft_stats_set_free(ft_stats_set *s)
{
    if (!s)
        return;
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
