/*
 * flow_json.c - JSON lines for --print and --stats (flow_json.h).
 *
 * One table (FLOW_FIELDS) lists the record's keys in flow.h order with the
 * kind of value and where it lives; the formatter walks it, so a field added
 * to ft_flow is one row here, and the key order cannot drift from the table.
 */
#include "flow/flow_json.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* ---- a bounded text writer ------------------------------------------------ */

/* Appends into p[0..cap); len counts every byte asked for, so an output that
 * did not fit is detected (len >= cap) rather than silently cut. */
typedef struct jw {
    char *p;
    size_t cap, len;
} jw;

static void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->len < w->cap) {
        size_t room = w->cap - w->len;
        memcpy(w->p + w->len, s, n < room ? n : room);
    }
    w->len += n;
}

static void jw_lit(jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

static void jw_u64(jw *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_raw(w, tmp + i, sizeof tmp - i);
}

/* A JSON string (RFC 8259 §7): quote, backslash and control characters
 * escaped; bytes >= 0x80 that are not printable ASCII are escaped as \u00XX
 * too, so the output is valid UTF-8 whatever the input. */
static void jw_str(jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_raw(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            jw_raw(w, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            jw_raw(w, e, 6);
        } else {
            jw_raw(w, (const char *)&c, 1);
        }
    }
    jw_raw(w, "\"", 1);
}

static void jw_key(jw *w, const char *k, bool first)
{
    if (!first)
        jw_raw(w, ",", 1);
    jw_str(w, k, strlen(k));
    jw_raw(w, ":", 1);
}

static size_t jw_end(jw *w)
{
    if (w->cap)
        w->p[w->len < w->cap ? w->len : w->cap - 1] = 0;
    return w->len;
}

/* ---- the record --------------------------------------------------------- */

enum kind { K_TYPE, K_U32, K_U64, K_BOOL, K_ADDR, K_MAC, K_ASPATH, K_COUNTRY };

#define F(name, kind) {#name, kind, offsetof(ft_flow, name)}
static const struct field {
    const char *name;
    enum kind kind;
    size_t off;
} FLOW_FIELDS[] = {
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

size_t ft_flow_json(const ft_flow *f, char *buf, size_t cap)
{
    jw w = {buf, cap, 0};
    const char *base = (const char *)f;
    jw_raw(&w, "{", 1);
    for (size_t i = 0; i < sizeof FLOW_FIELDS / sizeof FLOW_FIELDS[0]; i++) {
        const struct field *d = &FLOW_FIELDS[i];
        const void *v = base + d->off;
        jw_key(&w, d->name, i == 0);
        switch (d->kind) {
        case K_TYPE:
            jw_str(&w, ft_flow_type_name(f->type), strlen(ft_flow_type_name(f->type)));
            break;
        case K_U32:
            jw_u64(&w, *(const uint32_t *)v);
            break;
        case K_U64:
            jw_u64(&w, *(const uint64_t *)v);
            break;
        case K_BOOL:
            jw_lit(&w, *(const bool *)v ? "true" : "false");
            break;
        case K_ADDR: {
            char a[FT_ADDR_STRLEN];
            ft_addr_format((const ft_addr *)v, a);
            jw_str(&w, a, strlen(a));
            break;
        }
        case K_MAC: {
            static const char hex[] = "0123456789abcdef";
            uint64_t m = *(const uint64_t *)v;
            char s[17];
            for (int k = 0; k < 6; k++) {
                uint8_t b = (uint8_t)(m >> (40 - 8 * k));
                s[3 * k] = hex[b >> 4];
                s[3 * k + 1] = hex[b & 15];
                if (k < 5)
                    s[3 * k + 2] = ':';
            }
            jw_str(&w, s, 17);
            break;
        }
        case K_ASPATH: {
            uint32_t n = f->as_path_len < FT_AS_PATH_MAX ? f->as_path_len : FT_AS_PATH_MAX;
            jw_raw(&w, "[", 1);
            for (uint32_t k = 0; k < n; k++) {
                if (k)
                    jw_raw(&w, ",", 1);
                jw_u64(&w, f->as_path[k]);
            }
            jw_raw(&w, "]", 1);
            break;
        }
        case K_COUNTRY: {
            const char *c = (const char *)v;
            jw_str(&w, c, strnlen(c, 2)); /* char[3]: never trust the NUL */
            break;
        }
        }
    }
    jw_raw(&w, "}\n", 2);
    return jw_end(&w);
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
    jw w = {buf, cap, 0};
    char a[FT_ADDR_STRLEN];
    jw_lit(&w, "{\"kind\":\"exporter_stats\"");
    jw_key(&w, "exporter", false);
    ft_addr_format(&s->addr, a);
    jw_str(&w, a, strlen(a));
    jw_key(&w, "protocols", false);
    jw_raw(&w, "[", 1);
    bool first = true;
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        if (!(s->protocols & protos[i].bit))
            continue;
        if (!first)
            jw_raw(&w, ",", 1);
        jw_str(&w, protos[i].name, strlen(protos[i].name));
        first = false;
    }
    jw_raw(&w, "]", 1);
    jw_key(&w, "last_seen_ns", false);
    jw_u64(&w, s->last_seen_ns);
    jw_key(&w, "templates", false);
    jw_u64(&w, s->templates);
    jw_key(&w, "pending", false);
    jw_u64(&w, s->pending);
    jw_key(&w, "sampling_rate", false);
    jw_u64(&w, s->sampling_rate);
    jw_key(&w, "counters", false);
    jw_raw(&w, "{", 1);
    for (int i = 0; i < FT_CTR_COUNT; i++) {
        jw_key(&w, ft_ctr_name((ft_ctr_id)i), i == 0);
        jw_u64(&w, s->ctr[i]);
    }
    jw_raw(&w, "}", 1);
    jw_key(&w, "errors", false);
    jw_raw(&w, "{", 1);
    for (int i = 1; i < FT_ERR_COUNT; i++) {
        jw_key(&w, ft_err_name((ft_err)i), i == 1);
        jw_u64(&w, s->errors[i]);
    }
    jw_raw(&w, "}}\n", 3);
    return jw_end(&w);
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
    size_t len;      /* bytes buffered */
    uint64_t nlines; /* lines buffered */
    char buf[SINK_BUF];
};

_Static_assert(SINK_BUF >= 2 * FT_FLOW_JSON_MAX, "a sink buffer holds at least two lines");

ft_json_sink *ft_json_sink_new(ft_json_out *o)
{
    ft_json_sink *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    s->out = o;
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
    size_t n = ft_flow_json(f, s->buf + s->len, SINK_BUF - s->len);
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
