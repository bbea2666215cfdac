/*
 * query.c - top keys and series over SQLite plus the open windows
 * (query.h). Workload: a few queries a second at most, each reading one
 * dimension's rows of a range: up to millions from SQLite, up to
 * (open windows + 1) x max_keys x workers from memory.
 */
#include "query.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "store/sqlite_reader.h"

static const char *const metric_names[FT_METRIC_COUNT] = {"bytes", "packets", "flows"};

const char *ft_metric_name(ft_metric m)
{
    return (unsigned)m < FT_METRIC_COUNT ? metric_names[m] : "?";
}

int ft_metric_parse(const char *name)
{
    for (int i = 0; i < FT_METRIC_COUNT; i++)
        if (strcmp(name, metric_names[i]) == 0)
            return i;
    return -1;
}

struct ft_query {
    ft_query_opts o;
    char *db_path;
    uint64_t seed; /* of the key hash: keys come from exporters */
    pthread_mutex_t mu;
    ft_store_reader **idle; /* under mu; o.readers slots */
    size_t n_idle;
};

ft_query *ft_query_new(const ft_query_opts *o)
{
    ft_query *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->o = *o;
    if (!q->o.readers)
        q->o.readers = 1;
    if (getrandom(&q->seed, sizeof q->seed, GRND_NONBLOCK) != sizeof q->seed)
        q->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)q;
    pthread_mutex_init(&q->mu, NULL);
    q->idle = calloc(q->o.readers, sizeof *q->idle);
    if (!q->idle || (o->db_path && !(q->db_path = strdup(o->db_path)))) {
        ft_query_free(q);
        return NULL;
    }
    q->o.db_path = q->db_path;
    return q;
}

void ft_query_free(ft_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n_idle; i++)
        ft_store_reader_close(q->idle[i]);
    free(q->idle);
    pthread_mutex_destroy(&q->mu);
    free(q->db_path);
    free(q);
}

/* A connection from the pool, or a new one; NULL (logged) when it cannot
 * be opened. */
static ft_store_reader *take_reader(ft_query *q)
{
    pthread_mutex_lock(&q->mu);
    ft_store_reader *r = q->n_idle ? q->idle[--q->n_idle] : NULL;
    pthread_mutex_unlock(&q->mu);
    if (r)
        return r;
    char err[512];
    if (!(r = ft_store_reader_open(q->db_path, err, sizeof err)))
        ft_log(FT_LOG_WARN, "http", "%s", err);
    return r;
}

static void give_reader(ft_query *q, ft_store_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&q->mu);
    if (q->n_idle < q->o.readers) {
        q->idle[q->n_idle++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    ft_store_reader_close(r);
}

int ft_query_check(ft_query *q, const char **why)
{
    if (!q->db_path)
        return 0;
    ft_store_reader *r = take_reader(q);
    if (!r) {
        *why = "cannot open the database for reading";
        return -1;
    }
    int rc = ft_store_reader_check(r, why);
    give_reader(q, r);
    return rc;
}

/* ---- sums per key ------------------------------------------------------------- */

static void add_sat(uint64_t *a, uint64_t b)
{
    *a = *a > UINT64_MAX - b ? UINT64_MAX : *a + b;
}

/* Keys and their sums: entries in insertion order, an open-addressing
 * index over them. */
typedef struct kmap {
    ft_query_row *e;
    size_t n, ecap;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t cap;     /* power of two, kept at most half full */
    uint64_t seed;
    bool oom;
} kmap;

static uint64_t hash_key(const char *s, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int kmap_grow(kmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 256;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = hash_key(m->e[i].key, m->seed) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(m->slot);
    m->slot = slot;
    m->cap = cap;
    return 0;
}

/* The entry of key, created (zeroed) when new; -1 on ENOMEM (m->oom set). */
static long kmap_get(kmap *m, const char *key, bool create)
{
    if (m->oom)
        return -1;
    if (m->cap) {
        size_t j = hash_key(key, m->seed) & (m->cap - 1);
        for (; m->slot[j]; j = (j + 1) & (m->cap - 1))
            if (strcmp(m->e[m->slot[j] - 1].key, key) == 0)
                return (long)m->slot[j] - 1;
    }
    if (!create)
        return -1;
    if (m->n >= UINT32_MAX - 1 || ((m->n + 1) * 2 > m->cap && kmap_grow(m) != 0))
        goto oom;
    if (m->n == m->ecap) {
        size_t ecap = m->ecap ? m->ecap * 2 : 256;
        ft_query_row *e = realloc(m->e, ecap * sizeof *e);
        if (!e)
            goto oom;
        m->e = e;
        m->ecap = ecap;
    }
    ft_query_row *x = &m->e[m->n];
    memset(x, 0, sizeof *x);
    snprintf(x->key, sizeof x->key, "%s", key);
    size_t j = hash_key(x->key, m->seed) & (m->cap - 1);
    while (m->slot[j])
        j = (j + 1) & (m->cap - 1);
    m->slot[j] = (uint32_t)m->n + 1;
    return (long)m->n++;
oom:
    m->oom = true;
    return -1;
}

static void kmap_free(kmap *m)
{
    free(m->e);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ---- one request's rows ---------------------------------------------------------- */

/* A row of the open windows, after the exporter filter, as text. */
typedef struct mrow {
    uint64_t ws;
    char key[FT_RKEY_TEXT_MAX];
    uint64_t v[FT_METRIC_COUNT];
} mrow;

typedef struct job {
    ft_query *q;
    const ft_query_req *req;
    ft_store_reader *rd; /* NULL without a database */
    bool pinned, pin_failed;
    /* memory rows */
    mrow *m;
    size_t nm, capm;
    bool oom;
    /* SQLite filter */
    ft_store_filter filt;
    char ex_text[FT_ADDR_STRLEN], prefix[FT_ADDR_STRLEN + 4];
    /* what a pass does with each row */
    void (*add)(struct job *j, uint64_t ws, const char *key, const uint64_t *v);
    kmap keys;
    /* series */
    ft_series_result *s;
    kmap top; /* series: the chosen keys, e[i] = series i */
    uint64_t stored_rows;
} job;

static void pin(void *ctx)
{
    job *j = ctx;
    if (j->rd && ft_store_reader_begin(j->rd) != 0)
        j->pin_failed = true;
    else
        j->pinned = j->rd != NULL;
}

static bool exporter_matches(const ft_rkey *k, const ft_addr *a)
{
    return k->exporter_family == a->family && memcmp(k->exporter, a->b, 16) == 0;
}

static void mem_row(void *ctx, const ft_rollup_row *r)
{
    job *j = ctx;
    if (j->oom)
        return;
    if (j->req->exporter && !exporter_matches(&r->key, j->req->exporter))
        return;
    if (j->nm == j->capm) {
        size_t cap = j->capm ? j->capm * 2 : 256;
        mrow *m = realloc(j->m, cap * sizeof *m);
        if (!m) {
            j->oom = true;
            return;
        }
        j->m = m;
        j->capm = cap;
    }
    mrow *x = &j->m[j->nm++];
    x->ws = r->key.window_s;
    ft_rkey_text(r->dim, &r->key, x->key);
    x->v[FT_METRIC_BYTES] = r->bytes;
    x->v[FT_METRIC_PACKETS] = r->packets;
    x->v[FT_METRIC_FLOWS] = r->flows;
}

static void sql_row(void *ctx, const ft_store_row *r)
{
    job *j = ctx;
    uint64_t v[FT_METRIC_COUNT] = {r->bytes, r->packets, r->flows};
    j->add(j, r->window_start, r->key, v);
}

/* Checks the request, sets the SQLite filter. FT_QUERY_OK or BAD. */
static int prepare(ft_query *q, const ft_query_req *req, job *j, char *err, size_t err_len)
{
    memset(j, 0, sizeof *j);
    j->q = q;
    j->req = req;
    j->keys.seed = j->top.seed = q->seed;
    if ((unsigned)req->dim >= FT_DIM_COUNT || (unsigned)req->metric >= FT_METRIC_COUNT || req->from_s >= req->to_s) {
        snprintf(err, err_len, "bad query");
        return FT_QUERY_BAD;
    }
    if (req->exporter) {
        bool iface = req->dim == FT_DIM_IN_IF || req->dim == FT_DIM_OUT_IF;
        ft_addr_format(req->exporter, j->ex_text);
        if (q->o.by_exporter) {
            j->filt.exporter = j->ex_text;
        } else if (iface) {
            /* The key names the exporter: "192.0.2.1:3", "[2001:db8::1]:3". */
            snprintf(j->prefix, sizeof j->prefix, req->exporter->family == 6 ? "[%s]:" : "%s:", j->ex_text);
            j->filt.key_prefix = j->prefix;
        } else {
            snprintf(err, err_len, "rows of dimension %s are not kept per exporter: the exporter filter needs "
                     "flowtally --rollup-by-exporter (or dimension in_if/out_if)", ft_dim_name(req->dim));
            return FT_QUERY_BAD;
        }
    }
    return FT_QUERY_OK;
}

/* Step 1: pin SQLite and copy the open windows. */
static int gather(job *j, char *err, size_t err_len)
{
    ft_query *q = j->q;
    if (!q->o.windows && !q->db_path) {
        snprintf(err, err_len, "no rollups: flowtally runs with --db off");
        return FT_QUERY_OFF;
    }
    if (q->db_path && !(j->rd = take_reader(q))) {
        snprintf(err, err_len, "cannot open the rollups database for reading");
        return FT_QUERY_FAIL;
    }
    if (q->o.windows) {
        if (ft_windows_read_open(q->o.windows, j->req->dim, j->req->from_s, j->req->to_s, pin, mem_row, j) != 0)
            j->oom = true;
    } else {
        pin(j);
    }
    if (j->pin_failed) {
        snprintf(err, err_len, "cannot read the rollups database");
        return FT_QUERY_FAIL;
    }
    if (j->oom) {
        snprintf(err, err_len, "out of memory");
        return FT_QUERY_FAIL;
    }
    return FT_QUERY_OK;
}

/* One pass over every row: memory first, then SQLite (in the pinned
 * snapshot; a second pass sees the same rows). */
static int pass(job *j, char *err, size_t err_len)
{
    for (size_t i = 0; i < j->nm; i++)
        j->add(j, j->m[i].ws, j->m[i].key, j->m[i].v);
    if (!j->pinned)
        return FT_QUERY_OK;
    const char *why = "?";
    long n = ft_store_reader_rows(j->rd, j->req->dim, j->req->from_s, j->req->to_s, &j->filt, sql_row, j, &why);
    if (n < 0) {
        snprintf(err, err_len, "rollups database: %s", why);
        return FT_QUERY_FAIL;
    }
    j->stored_rows += (uint64_t)n;
    return FT_QUERY_OK;
}

static void finish(job *j)
{
    if (j->rd) {
        if (j->pinned)
            ft_store_reader_end(j->rd);
        give_reader(j->q, j->rd);
    }
    free(j->m);
    kmap_free(&j->keys);
    kmap_free(&j->top);
}

static void add_key(job *j, uint64_t ws, const char *key, const uint64_t *v)
{
    (void)ws;
    long i = kmap_get(&j->keys, key, true);
    if (i < 0)
        return;
    for (int k = 0; k < FT_METRIC_COUNT; k++)
        add_sat(&j->keys.e[i].v[k], v[k]);
}

static int cmp_rows_m(const ft_query_row *a, const ft_query_row *b, ft_metric m)
{
    if (a->v[m] != b->v[m])
        return a->v[m] > b->v[m] ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int cmp_bytes(const void *a, const void *b)
{
    return cmp_rows_m(a, b, FT_METRIC_BYTES);
}
static int cmp_packets(const void *a, const void *b)
{
    return cmp_rows_m(a, b, FT_METRIC_PACKETS);
}
static int cmp_flows(const void *a, const void *b)
{
    return cmp_rows_m(a, b, FT_METRIC_FLOWS);
}

static void sort_rows(ft_query_row *v, size_t n, ft_metric m)
{
    if (n < 2)
        return;
    qsort(v, n, sizeof *v, m == FT_METRIC_PACKETS ? cmp_packets : m == FT_METRIC_FLOWS ? cmp_flows : cmp_bytes);
}

/* Sums per key over the range: j->keys. */
static int rank_keys(job *j, char *err, size_t err_len)
{
    j->add = add_key;
    int rc = pass(j, err, err_len);
    if (rc == FT_QUERY_OK && j->keys.oom) {
        snprintf(err, err_len, "out of memory");
        rc = FT_QUERY_FAIL;
    }
    if (rc == FT_QUERY_OK)
        sort_rows(j->keys.e, j->keys.n, j->req->metric);
    return rc;
}

int ft_query_top(ft_query *q, const ft_query_req *req, ft_top_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    job j;
    int rc = prepare(q, req, &j, err, err_len);
    if (rc == FT_QUERY_OK)
        rc = gather(&j, err, err_len);
    if (rc == FT_QUERY_OK)
        rc = rank_keys(&j, err, err_len);
    if (rc == FT_QUERY_OK) {
        out->open_rows = j.nm;
        out->stored_rows = j.stored_rows;
        out->n_keys = j.keys.n;
        for (size_t i = 0; i < j.keys.n; i++)
            for (int k = 0; k < FT_METRIC_COUNT; k++)
                add_sat(&out->total[k], j.keys.e[i].v[k]);
        out->n = j.keys.n < req->limit ? j.keys.n : req->limit;
        /* The sorted entries are the result: hand the array over. */
        out->rows = j.keys.e;
        j.keys.e = NULL;
    }
    finish(&j);
    return rc;
}

void ft_query_top_free(ft_top_result *t)
{
    if (!t)
        return;
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- series --------------------------------------------------------------------- */

static void add_bucket(job *j, uint64_t ws, const char *key, const uint64_t *v)
{
    ft_series_result *s = j->s;
    if (ws < s->start_s)
        return;
    uint64_t b = (ws - s->start_s) / s->step_s;
    if (b >= s->n_times)
        return;
    uint64_t x = v[j->req->metric];
    add_sat(&s->total[b], x);
    long i = j->req->key ? (strcmp(key, j->req->key) == 0 ? 0 : -1) : kmap_get(&j->top, key, false);
    if (i >= 0)
        add_sat(&s->values[(size_t)i * s->n_times + b], x);
}

int ft_query_series(ft_query *q, const ft_query_req *req, ft_series_result *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    job j;
    int rc = prepare(q, req, &j, err, err_len);
    if (rc != FT_QUERY_OK) {
        finish(&j);
        return rc;
    }
    if (!req->step_s || req->step_s % (q->o.window_s ? q->o.window_s : 1) || req->from_s % req->step_s) {
        snprintf(err, err_len, "the step must be a multiple of the window (%u s)", (unsigned)q->o.window_s);
        finish(&j);
        return FT_QUERY_BAD;
    }
    uint64_t n_times = (req->to_s - req->from_s + req->step_s - 1) / req->step_s;
    if (n_times > FT_QUERY_MAX_BUCKETS || (!req->key && req->limit > FT_QUERY_MAX_SERIES)) {
        snprintf(err, err_len, "%llu buckets (at most %d) or %u keys (at most %d): use a longer step or fewer keys",
                 (unsigned long long)n_times, FT_QUERY_MAX_BUCKETS, (unsigned)req->limit, FT_QUERY_MAX_SERIES);
        finish(&j);
        return FT_QUERY_BAD;
    }
    out->start_s = req->from_s;
    out->step_s = req->step_s;
    out->n_times = (size_t)n_times;
    if ((rc = gather(&j, err, err_len)) != FT_QUERY_OK)
        goto done;
    if (req->key) {
        out->n_keys = 1;
    } else {
        /* The top keys first, ranked over the whole range. */
        if ((rc = rank_keys(&j, err, err_len)) != FT_QUERY_OK)
            goto done;
        out->n_keys = j.keys.n < req->limit ? j.keys.n : req->limit;
        for (size_t i = 0; i < out->n_keys; i++)
            kmap_get(&j.top, j.keys.e[i].key, true);
        if (j.top.oom)
            goto oom;
    }
    out->keys = calloc(out->n_keys ? out->n_keys : 1, sizeof *out->keys);
    out->values = calloc(out->n_keys * out->n_times + 1, sizeof *out->values);
    out->total = calloc(out->n_times + 1, sizeof *out->total);
    if (!out->keys || !out->values || !out->total)
        goto oom;
    for (size_t i = 0; i < out->n_keys; i++)
        snprintf(out->keys[i], sizeof out->keys[i], "%s", req->key ? req->key : j.keys.e[i].key);
    j.s = out;
    j.add = add_bucket;
    j.stored_rows = 0;
    rc = pass(&j, err, err_len);
    goto done;
oom:
    snprintf(err, err_len, "out of memory");
    rc = FT_QUERY_FAIL;
done:
    finish(&j);
    if (rc != FT_QUERY_OK)
        ft_query_series_free(out);
    return rc;
}

void ft_query_series_free(ft_series_result *s)
{
    if (!s)
        return;
    free(s->keys);
    free(s->values);
    free(s->total);
    memset(s, 0, sizeof *s);
}
