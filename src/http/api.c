/*
 * api.c - the JSON endpoints of /api/v1, /metrics, /healthz and /readyz
 * (server.h; the contract is in API.md and the README). Each handler
 * validates its parameters, asks the backend, and answers through
 * ft_req_json / ft_req_error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/params.h"

/* jansson integers are signed 64-bit: sums past 2^63 - 1 (never reached by
 * real traffic) are shown at that value. */
static json_t *ju64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static void set_time(json_t *o, const char *name, uint64_t t)
{
    char key[48], text[40];
    json_object_set_new(o, name, ju64(t));
    snprintf(key, sizeof key, "%s_rfc3339", name);
    json_object_set_new(o, key, json_string(ft_rfc3339(t, text, sizeof text)));
}

static const char *dim_list(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int d = 0; d < FT_DIM_COUNT && o < len; d++) {
        int n = snprintf(buf + o, len - o, "%s%s", d ? ", " : "", ft_dim_name((ft_dim)d));
        o += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

/* The parameters /top and /series share: dimension, metric, from, to,
 * exporter. from/to are aligned to `align` (down / up). */
static bool common(ft_req *r, ft_query_req *q, ft_addr *ex, uint64_t align)
{
    memset(q, 0, sizeof *q);
    char err[256], list[256];
    if (!r->be->query)
        return ft_req_error(r, 503, "no rollups: flowtally runs with --db off");
    const char *dim = ft_req_param(r, "dimension");
    if (!dim)
        return ft_req_error(r, 400, "missing parameter 'dimension' (one of %s)", dim_list(list, sizeof list));
    int d = ft_dim_parse(dim);
    if (d < 0)
        return ft_req_error(r, 400, "unknown dimension '%.64s' (one of %s)", dim, dim_list(list, sizeof list));
    q->dim = (ft_dim)d;
    const char *m = ft_req_param(r, "metric");
    int mi = m ? ft_metric_parse(m) : FT_METRIC_BYTES;
    if (mi < 0)
        return ft_req_error(r, 400, "unknown metric '%.64s' (bytes, packets or flows)", m);
    q->metric = (ft_metric)mi;
    const char *from = ft_req_param(r, "from"), *to = ft_req_param(r, "to");
    uint64_t f, t;
    if (ft_param_time(from ? from : "-1h", r->now_s, &f, err, sizeof err) != 0)
        return ft_req_error(r, 400, "from: %s", err);
    if (ft_param_time(to ? to : "now", r->now_s, &t, err, sizeof err) != 0)
        return ft_req_error(r, 400, "to: %s", err);
    if (f >= t)
        return ft_req_error(r, 400, "from (%llu) must be before to (%llu)", (unsigned long long)f,
                            (unsigned long long)t);
    if (r->be->retention_s && t - f > r->be->retention_s)
        return ft_req_error(r, 400, "the range (%llu s) is longer than the retention (--retention %u s)",
                            (unsigned long long)(t - f), (unsigned)r->be->retention_s);
    q->from_s = f - f % align;
    q->to_s = t % align ? t - t % align + align : t;
    const char *e = ft_req_param(r, "exporter");
    if (e) {
        if (ft_addr_parse(e, ex) != 0)
            return ft_req_error(r, 400, "exporter: '%.64s' is not an IPv4 or IPv6 address", e);
        q->exporter = ex;
    }
    return true;
}

/* Query engine errors to HTTP. */
static void query_error(ft_req *r, int rc, const char *err)
{
    unsigned status = rc == FT_QUERY_BAD ? 400 : rc == FT_QUERY_OFF ? 503 : 500;
    ft_req_error(r, status, "%s", err);
}

static json_t *header(const ft_query_req *q, uint32_t window_s, const char *exporter)
{
    json_t *o = json_object();
    json_object_set_new(o, "dimension", json_string(ft_dim_name(q->dim)));
    json_object_set_new(o, "metric", json_string(ft_metric_name(q->metric)));
    set_time(o, "from", q->from_s);
    set_time(o, "to", q->to_s);
    json_object_set_new(o, "window_s", ju64(window_s));
    if (exporter)
        json_object_set_new(o, "exporter", json_string(exporter));
    return o;
}

static json_t *sums(const uint64_t *v)
{
    json_t *o = json_object();
    for (int k = 0; k < FT_METRIC_COUNT; k++)
        json_object_set_new(o, ft_metric_name((ft_metric)k), ju64(v[k]));
    return o;
}

void ft_api_top(ft_req *r)
{
    ft_query_req q;
    ft_addr ex;
    uint64_t w = r->be->window_s ? r->be->window_s : 1;
    if (!common(r, &q, &ex, w))
        return;
    char err[512];
    uint64_t limit = 10;
    const char *l = ft_req_param(r, "limit");
    if (l && ft_param_uint(l, 1, 1000, &limit, err, sizeof err) != 0) {
        ft_req_error(r, 400, "limit: %s", err);
        return;
    }
    q.limit = (uint32_t)limit;
    ft_top_result t;
    int rc = ft_query_top(r->be->query, &q, &t, err, sizeof err);
    if (rc != FT_QUERY_OK) {
        query_error(r, rc, err);
        return;
    }
    json_t *o = header(&q, r->be->window_s, ft_req_param(r, "exporter"));
    json_object_set_new(o, "limit", ju64(limit));
    json_object_set_new(o, "keys", ju64(t.n_keys));
    json_object_set_new(o, "total", sums(t.total));
    json_t *rows = json_array();
    uint64_t whole = t.total[q.metric];
    for (size_t i = 0; i < t.n; i++) {
        json_t *x = sums(t.rows[i].v);
        json_object_set_new(x, "key", json_string(t.rows[i].key));
        json_object_set_new(x, "share", json_real(whole ? (double)t.rows[i].v[q.metric] / (double)whole : 0.0));
        json_array_append_new(rows, x);
    }
    json_object_set_new(o, "rows", rows);
    /* Where the rows came from: windows still open in memory, SQLite. */
    json_t *src = json_object();
    json_object_set_new(src, "open_rows", ju64(t.open_rows));
    json_object_set_new(src, "stored_rows", ju64(t.stored_rows));
    json_object_set_new(o, "sources", src);
    ft_query_top_free(&t);
    ft_req_json(r, 200, o);
}

void ft_api_series(ft_req *r)
{
    char err[512];
    uint64_t w = r->be->window_s ? r->be->window_s : 1, step = w, top = 10;
    const char *st = ft_req_param(r, "step"), *key = ft_req_param(r, "key"), *tp = ft_req_param(r, "top");
    if (st && ft_param_duration(st, &step, err, sizeof err) != 0) {
        ft_req_error(r, 400, "step: %s", err);
        return;
    }
    if (step % w) {
        ft_req_error(r, 400, "step: %llu s is not a multiple of the window (%llu s)", (unsigned long long)step,
                     (unsigned long long)w);
        return;
    }
    if (key && tp) {
        ft_req_error(r, 400, "give either key or top, not both");
        return;
    }
    if (tp && ft_param_uint(tp, 1, FT_QUERY_MAX_SERIES, &top, err, sizeof err) != 0) {
        ft_req_error(r, 400, "top: %s", err);
        return;
    }
    bool printable = true;
    for (const char *c = key; c && *c; c++)
        printable = printable && *c > 0x20 && *c < 0x7f;
    if (key && (!*key || strlen(key) >= FT_RKEY_TEXT_MAX || !printable)) {
        ft_req_error(r, 400, "key: empty, longer than %d bytes or not printable ASCII (keys look like "
                     "6/443, AS64500, NL)", FT_RKEY_TEXT_MAX - 1);
        return;
    }
    ft_query_req q;
    ft_addr ex;
    if (!common(r, &q, &ex, step))
        return;
    if ((q.to_s - q.from_s) / step > FT_QUERY_MAX_BUCKETS) {
        ft_req_error(r, 400, "%llu buckets of %llu s: at most %d (use a longer step)",
                     (unsigned long long)((q.to_s - q.from_s) / step), (unsigned long long)step, FT_QUERY_MAX_BUCKETS);
        return;
    }
    q.step_s = (uint32_t)step;
    q.key = key;
    q.limit = (uint32_t)top;
    ft_series_result s;
    int rc = ft_query_series(r->be->query, &q, &s, err, sizeof err);
    if (rc != FT_QUERY_OK) {
        query_error(r, rc, err);
        return;
    }
    json_t *o = header(&q, r->be->window_s, ft_req_param(r, "exporter"));
    json_object_set_new(o, "step_s", ju64(step));
    json_t *times = json_array(), *series = json_array(), *total = json_array();
    for (size_t i = 0; i < s.n_times; i++) {
        json_array_append_new(times, ju64(s.start_s + i * s.step_s));
        json_array_append_new(total, ju64(s.total[i]));
    }
    for (size_t k = 0; k < s.n_keys; k++) {
        json_t *x = json_object(), *v = json_array();
        json_object_set_new(x, "key", json_string(s.keys[k]));
        for (size_t i = 0; i < s.n_times; i++)
            json_array_append_new(v, ju64(s.values[k * s.n_times + i]));
        json_object_set_new(x, "values", v);
        json_array_append_new(series, x);
    }
    json_object_set_new(o, "times", times);
    json_object_set_new(o, "series", series);
    json_object_set_new(o, "total", total);
    ft_query_series_free(&s);
    ft_req_json(r, 200, o);
}

void ft_api_dimensions(ft_req *r)
{
    /* The key fields and an example of each dimension's key text (rollup.h). */
    static const struct {
        const char *fields[2];
        const char *example;
    } k[FT_DIM_COUNT] = {
        [FT_DIM_SRC_AS] = {{"as", NULL}, "AS64500"},
        [FT_DIM_DST_AS] = {{"as", NULL}, "AS64500"},
        [FT_DIM_AS_PAIR] = {{"src_as", "dst_as"}, "AS64500-AS64501"},
        [FT_DIM_SRC_PORT] = {{"proto", "port"}, "6/443"},
        [FT_DIM_DST_PORT] = {{"proto", "port"}, "6/443"},
        [FT_DIM_PROTO] = {{"proto", NULL}, "17"},
        [FT_DIM_SRC_COUNTRY] = {{"country", NULL}, "NL"},
        [FT_DIM_DST_COUNTRY] = {{"country", NULL}, "NL"},
        [FT_DIM_IN_IF] = {{"exporter", "ifindex"}, "192.0.2.1:3"},
        [FT_DIM_OUT_IF] = {{"exporter", "ifindex"}, "192.0.2.1:3"},
    };
    json_t *a = json_array();
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        json_t *o = json_object(), *f = json_array();
        json_object_set_new(o, "name", json_string(ft_dim_name((ft_dim)d)));
        json_object_set_new(o, "help", json_string(ft_dim_help((ft_dim)d)));
        for (int i = 0; i < 2 && k[d].fields[i]; i++)
            json_array_append_new(f, json_string(k[d].fields[i]));
        json_object_set_new(o, "key_fields", f);
        json_object_set_new(o, "key_example", json_string(k[d].example));
        json_array_append_new(a, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "dimensions", a);
    json_object_set_new(o, "window_s", ju64(r->be->window_s));
    json_object_set_new(o, "by_exporter", json_boolean(r->be->by_exporter));
    json_object_set_new(o, "retention_s", ju64(r->be->retention_s));
    json_t *m = json_array();
    for (int i = 0; i < FT_METRIC_COUNT; i++)
        json_array_append_new(m, json_string(ft_metric_name((ft_metric)i)));
    json_object_set_new(o, "metrics", m);
    ft_req_json(r, 200, o);
}

void ft_api_exporters(ft_req *r)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } protos[] = {{FT_PROTO_NETFLOW_V5, "NETFLOW_V5"},
                  {FT_PROTO_NETFLOW_V9, "NETFLOW_V9"},
                  {FT_PROTO_IPFIX, "IPFIX"},
                  {FT_PROTO_SFLOW_5, "SFLOW_5"}};
    ft_stats_set set = {0};
    r->be->exporters(r->be->ctx, &set);
    json_t *a = json_array();
    char addr[FT_ADDR_STRLEN];
    for (size_t i = 0; i < set.n; i++) {
        const ft_exporter_stats *s = &set.v[i];
        json_t *o = json_object(), *p = json_array(), *e = json_object(), *c = json_object();
        json_object_set_new(o, "address", json_string(ft_addr_format(&s->addr, addr)));
        for (size_t k = 0; k < sizeof protos / sizeof protos[0]; k++)
            if (s->protocols & protos[k].bit)
                json_array_append_new(p, json_string(protos[k].name));
        json_object_set_new(o, "protocols", p);
        set_time(o, "last_seen", s->last_seen_ns / 1000000000ull);
        json_object_set_new(o, "packets", ju64(s->ctr[FT_CTR_packets]));
        json_object_set_new(o, "records", ju64(s->ctr[FT_CTR_records]));
        /* Sequence gaps: export packets (NetFlow v9, sFlow) and flow
         * records (NetFlow v5, IPFIX) never received; the estimate is the
         * larger of the two missing fractions. */
        uint64_t lp = s->ctr[FT_CTR_lost_packets], lr = s->ctr[FT_CTR_lost_records];
        uint64_t seen_r = s->ctr[FT_CTR_records] + s->ctr[FT_CTR_options_records];
        double fp = lp ? (double)lp / (double)(lp + s->ctr[FT_CTR_packets]) : 0.0;
        double fr = lr ? (double)lr / (double)(lr + seen_r) : 0.0;
        json_object_set_new(o, "sequence_lost", ju64(lp + lr));
        json_object_set_new(o, "lost_packets", ju64(lp));
        json_object_set_new(o, "lost_records", ju64(lr));
        json_object_set_new(o, "loss_estimate", json_real(fp > fr ? fp : fr));
        json_object_set_new(o, "templates", ju64(s->templates));
        json_object_set_new(o, "sampling_rate", ju64(s->sampling_rate));
        for (int k = 1; k < FT_ERR_COUNT; k++)
            json_object_set_new(e, ft_err_name((ft_err)k), ju64(s->errors[k]));
        json_object_set_new(o, "errors", e);
        for (int k = 0; k < FT_CTR_COUNT; k++)
            json_object_set_new(c, ft_ctr_name((ft_ctr_id)k), ju64(s->ctr[k]));
        json_object_set_new(o, "counters", c);
        json_array_append_new(a, o);
    }
    ft_stats_set_free(&set);
    json_t *o = json_object();
    json_object_set_new(o, "exporters", a);
    ft_req_json(r, 200, o);
}

void ft_api_metrics(ft_req *r)
{
    ft_prom p = {0};
    r->be->metrics(r->be->ctx, &p);
    ft_http_metrics(r->server, &p);
    const char *text = ft_prom_text(&p);
    if (!text) {
        ft_prom_free(&p);
        ft_req_error(r, 500, "out of memory");
        return;
    }
    /* The buffer becomes the body (free()d by libmicrohttpd). */
    r->body = p.buf ? p.buf : strdup("");
    r->body_len = p.len;
    r->status = r->body ? 200 : 500;
    r->ctype = "text/plain; version=0.0.4; charset=utf-8";
}

void ft_api_healthz(ft_req *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("ok"));
    ft_req_json(r, 200, o);
}

struct ready {
    json_t *checks, *reasons;
};

static void on_check(void *arg, const char *name, const char *state, bool ok)
{
    struct ready *x = arg;
    json_object_set_new(x->checks, name, json_string(state));
    if (!ok) {
        char text[512];
        snprintf(text, sizeof text, "%s: %s", name, state);
        json_array_append_new(x->reasons, json_string(text));
    }
}

void ft_api_readyz(ft_req *r)
{
    struct ready x = {json_object(), json_array()};
    r->be->ready(r->be->ctx, on_check, &x);
    bool ok = json_array_size(x.reasons) == 0;
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ok ? "ready" : "not ready"));
    json_object_set_new(o, "checks", x.checks);
    if (ok)
        json_decref(x.reasons);
    else
        json_object_set_new(o, "reasons", x.reasons);
    ft_req_json(r, ok ? 200 : 503, o);
}
