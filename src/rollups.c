/*
 * rollups.c - builds and runs the enrich -> window -> sinks branch
 * (rollups.h).
 */
#include "rollups.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/sqlite_store.h"
#include "window/agg_table.h"

#define NS_PER_S 1000000000ull

/* One exporter's decode state, exported by a worker, waiting to be saved. */
typedef struct state_item {
    ft_addr addr;
    size_t len;
    uint8_t *blob;
} state_item;

/* Worker i's latest export (ft_rollups_tick), handed to the clock thread. */
typedef struct state_slot {
    pthread_mutex_t mu;
    state_item *v; /* under mu */
    size_t n;      /* under mu */
    uint64_t last_ns; /* the worker's thread only */
} state_slot;

struct ft_rollups {
    const ft_config *c;
    uint32_t n;
    state_slot *slots; /* n entries with a database in live mode, else NULL */
    ft_geo *geo;
    ft_enricher **enr; /* n entries, or NULL without GeoIP */
    ft_store *store;
    ft_windows *win;
    bool started, finished;
    uint64_t states_loaded, templates_loaded, states_saved;
};

static uint64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

/* Bytes of one full table (agg_table.h). */
static uint64_t table_bytes(uint32_t max_keys)
{
    return ft_agg_full_bytes(max_keys);
}

static void free_items(state_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].blob);
    free(v);
}

/* On the window clock thread (the store's only writer while it runs):
 * retries the flushes the store kept (its own backoff decides when), then
 * writes what the workers exported since the last tick. */
static void save_pending(void *ctx, uint64_t clock_ns)
{
    ft_rollups *r = ctx;
    (void)clock_ns;
    ft_store_tick(r->store);
    for (uint32_t i = 0; i < r->n; i++) {
        state_slot *s = &r->slots[i];
        pthread_mutex_lock(&s->mu);
        state_item *v = s->v;
        size_t n = s->n;
        s->v = NULL;
        s->n = 0;
        pthread_mutex_unlock(&s->mu);
        for (size_t k = 0; k < n; k++)
            if (ft_store_save_state(r->store, &v[k].addr, v[k].blob, v[k].len) == 0)
                r->states_saved++;
        free_items(v, n);
    }
}

struct export_list {
    state_item *v;
    size_t n, cap;
    bool oom;
};

static void export_one(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len)
{
    struct export_list *l = arg;
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        state_item *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    uint8_t *b = malloc(len);
    if (!b) {
        l->oom = true;
        return;
    }
    memcpy(b, state, len);
    l->v[l->n++] = (state_item){*exporter, len, b};
}

void ft_rollups_tick(ft_rollups *r, uint32_t i, ft_decoder *d, uint64_t now_ns)
{
    if (!r || !r->slots || i >= r->n)
        return;
    state_slot *s = &r->slots[i];
    if (!s->last_ns)
        s->last_ns = now_ns; /* the first export a full period after start */
    if (!r->c->state_save_s || now_ns - s->last_ns < (uint64_t)r->c->state_save_s * NS_PER_S)
        return;
    s->last_ns = now_ns;
    struct export_list l = {0};
    ft_decoder_export(d, export_one, &l);
    pthread_mutex_lock(&s->mu);
    free_items(s->v, s->n); /* not saved yet: this one is newer */
    s->v = l.v;
    s->n = l.n;
    pthread_mutex_unlock(&s->mu);
}

int ft_rollups_new(const ft_config *c, uint32_t n_workers, const ft_rollup_sink *extra_sinks, size_t n_extra,
                   ft_rollups **out)
{
    *out = NULL;
    bool want_geo = c->geoip_country || c->geoip_asn;
    const char *db = ft_config_db_path(c);
    if (!want_geo && !db && !n_extra)
        return 0;
    ft_rollups *r = calloc(1, sizeof *r);
    ft_rollup_sink *sinks = calloc(n_extra + 1, sizeof *sinks);
    if (!r || !sinks)
        goto oom;
    r->c = c;
    r->n = n_workers ? n_workers : 1;
    char err[1024];

    if (want_geo) {
        ft_geo_opts go = {c->geoip_country, c->geoip_asn, c->geoip_country_key, c->geoip_asn_key,
                          (ft_asn_source)c->asn_source};
        if (!(r->geo = ft_geo_open(&go, err, sizeof err))) {
            ft_log(FT_LOG_ERROR, "geo", "%s", err);
            goto fail;
        }
        char desc[1024];
        ft_geo_describe(r->geo, desc, sizeof desc);
        ft_log(FT_LOG_INFO, "geo", "%s", desc);
        if (c->geoip_asn && c->asn_source == FT_ASN_FLOW)
            ft_log(FT_LOG_WARN, "geo", "--geoip-asn %s is not used: --asn-source flow", c->geoip_asn);
        if (!(r->enr = calloc(r->n, sizeof *r->enr)))
            goto oom;
        for (uint32_t i = 0; i < r->n; i++)
            if (!(r->enr[i] = ft_enricher_new(r->geo)))
                goto oom;
    }

    size_t n_sinks = 0;
    if (db) {
        ft_store_opts so = {db, c->retention_s, c->db_retry_rows};
        if (!(r->store = ft_store_open(&so, err, sizeof err))) {
            ft_log(FT_LOG_ERROR, "sqlite", "%s", err);
            goto fail;
        }
        sinks[n_sinks++] = ft_store_sink(r->store);
    }
    for (size_t i = 0; i < n_extra; i++)
        sinks[n_sinks++] = extra_sinks[i];
    if (n_sinks) {
        ft_window_opts wo = {c->window_s, c->lateness_s, c->event_time == FT_EVENT_TIME_RECEIVED,
                             c->rollup_by_exporter, c->max_keys, r->n, c->pcap != NULL};
        if (!(r->win = ft_windows_new(&wo, sinks, n_sinks)))
            goto oom;
        /* Open windows: the current one and the previous one during its
         * lateness, a third when lateness or the 1 min future clamp reach
         * over a window boundary; plus the late tables and the emptied set
         * a worker keeps for its next window. */
        uint64_t open = 3 + ((uint64_t)c->lateness_s + 60 + c->window_s - 1) / c->window_s;
        uint64_t worst = open * FT_DIM_COUNT * table_bytes(c->max_keys) * r->n;
        ft_log(FT_LOG_INFO, "window", "%u s windows aligned to the epoch, lateness %u s, event time %s%s; at most %u "
               "keys per window and dimension (tables of %llu KiB when full; worst case %llu MiB for %llu windows "
               "x %d dimensions x %u worker%s); clock: %s", c->window_s, c->lateness_s,
               c->event_time == FT_EVENT_TIME_RECEIVED ? "= arrival" : "= flow end",
               c->rollup_by_exporter ? ", split by exporter" : "", c->max_keys,
               (unsigned long long)(table_bytes(c->max_keys) >> 10), (unsigned long long)(worst >> 20),
               (unsigned long long)open, FT_DIM_COUNT, r->n, r->n > 1 ? "s" : "",
               c->pcap ? "capture timestamps" : "wall clock");
    }
    if (r->store && !c->pcap) {
        if (!(r->slots = calloc(r->n, sizeof *r->slots)))
            goto oom;
        for (uint32_t i = 0; i < r->n; i++)
            pthread_mutex_init(&r->slots[i].mu, NULL);
        if (r->win)
            ft_windows_on_tick(r->win, save_pending, r);
    }
    free(sinks);
    *out = r;
    return 0;
oom:
    ft_log(FT_LOG_ERROR, "main", "out of memory building enrichment and windows");
fail:
    free(sinks);
    ft_rollups_free(r);
    return -1;
}

ft_enricher *ft_rollups_enricher(ft_rollups *r, uint32_t i)
{
    return r && r->enr && i < r->n ? r->enr[i] : NULL;
}

ft_geo *ft_rollups_take_geo(ft_rollups *r)
{
    ft_geo *g = r ? r->geo : NULL;
    if (r)
        r->geo = NULL;
    return g;
}

ft_windows *ft_rollups_windows(ft_rollups *r)
{
    return r ? r->win : NULL;
}

struct ft_store *ft_rollups_store(ft_rollups *r)
{
    return r ? r->store : NULL;
}

bool ft_rollups_geo_counters(ft_rollups *r, uint64_t *out)
{
    if (!r || !r->enr)
        return false;
    for (uint32_t i = 0; i < r->n; i++)
        ft_enricher_counters(r->enr[i], out);
    return true;
}

ft_window_worker *ft_rollups_window(ft_rollups *r, uint32_t i)
{
    return r && r->win ? ft_windows_worker(r->win, i) : NULL;
}

struct load_ctx {
    ft_rollups *r;
    ft_decoder *d;
    uint64_t now;
};

static void load_one(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len, uint64_t saved_s)
{
    struct load_ctx *l = arg;
    int n = ft_decoder_import(l->d, exporter, state, len, l->now);
    char a[FT_ADDR_STRLEN];
    if (n < 0) {
        ft_log(FT_LOG_WARN, "sqlite", "saved state of exporter %s (%llu s old) is damaged: loaded what preceded the "
               "damage", ft_addr_format(exporter, a), (unsigned long long)(l->now / NS_PER_S - saved_s));
        return;
    }
    l->r->states_loaded++;
    l->r->templates_loaded += (uint64_t)n;
}

void ft_rollups_load_state(ft_rollups *r, ft_decoder *d)
{
    if (!r || !r->store)
        return;
    struct load_ctx l = {r, d, wall_ns()};
    uint64_t before = r->templates_loaded, states = r->states_loaded;
    if (ft_store_load_states(r->store, load_one, &l) > 0)
        ft_log(FT_LOG_DEBUG, "sqlite", "decode state loaded: %llu exporters, %llu templates still fresh",
               (unsigned long long)(r->states_loaded - states), (unsigned long long)(r->templates_loaded - before));
}

int ft_rollups_start(ft_rollups *r)
{
    if (!r)
        return 0;
    if (r->store && r->states_loaded)
        ft_log(FT_LOG_INFO, "sqlite", "decode state of %llu exporters loaded (%llu templates, per worker): their "
               "data decodes before they resend templates", (unsigned long long)r->states_loaded,
               (unsigned long long)r->templates_loaded);
    if (!r->win || r->c->pcap)
        return 0;
    if (ft_windows_start_clock(r->win) != 0) {
        ft_log(FT_LOG_ERROR, "window", "cannot start the window clock thread");
        return -1;
    }
    r->started = true;
    return 0;
}

void ft_rollups_finish(ft_rollups *r)
{
    if (!r || r->finished)
        return;
    r->finished = true;
    if (r->win)
        ft_windows_finish(r->win, r->c->pcap ? 0 : wall_ns());
    /* The store's last attempt for kept flushes now, not at close: --stats
     * is printed in between and must show the final counters. */
    ft_store_finish(r->store);
}

static void save_one(void *arg, const ft_addr *exporter, const uint8_t *state, size_t len)
{
    ft_rollups *r = arg;
    if (ft_store_save_state(r->store, exporter, state, len) == 0)
        r->states_saved++;
}

void ft_rollups_save_state(ft_rollups *r, ft_decoder *d)
{
    if (!r || !r->store || !d)
        return;
    ft_decoder_export(d, save_one, r);
}

void ft_rollups_print_stats(ft_rollups *r, FILE *out)
{
    if (!r)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("rollup_stats"));
    if (r->win) {
        uint64_t v[FT_WIN_CTR_COUNT] = {0};
        ft_windows_counters(r->win, v);
        json_t *w = json_object();
        for (int i = 0; i < FT_WIN_CTR_COUNT; i++)
            json_object_set_new(w, ft_win_ctr_name((ft_win_ctr)i), json_integer((json_int_t)v[i]));
        json_object_set_new(o, "windows", w);
    }
    if (r->enr) {
        uint64_t v[FT_GEO_CTR_COUNT] = {0};
        for (uint32_t i = 0; i < r->n; i++)
            ft_enricher_counters(r->enr[i], v);
        json_t *g = json_object();
        for (int i = 0; i < FT_GEO_CTR_COUNT; i++)
            json_object_set_new(g, ft_geo_ctr_name((ft_geo_ctr)i), json_integer((json_int_t)v[i]));
        json_object_set_new(o, "geo", g);
    }
    if (r->store) {
        uint64_t v[FT_STORE_CTR_COUNT] = {0};
        ft_store_counters(r->store, v);
        json_t *s = json_object();
        for (int i = 0; i < FT_STORE_CTR_COUNT; i++)
            json_object_set_new(s, ft_store_ctr_name((ft_store_ctr)i), json_integer((json_int_t)v[i]));
        uint64_t pb, pr;
        ft_store_pending(r->store, &pb, &pr);
        json_object_set_new(s, "pending_batches", json_integer((json_int_t)pb));
        json_object_set_new(s, "pending_rows", json_integer((json_int_t)pr));
        json_object_set_new(s, "states_loaded", json_integer((json_int_t)r->states_loaded));
        json_object_set_new(s, "templates_loaded", json_integer((json_int_t)r->templates_loaded));
        json_object_set_new(s, "states_saved", json_integer((json_int_t)r->states_saved));
        json_object_set_new(o, "sqlite", s);
    }
    char *text = json_dumps(o, JSON_COMPACT);
    if (text) {
        fprintf(out, "%s\n", text);
        fflush(out);
    }
    free(text);
    json_decref(o);
}

void ft_rollups_free(ft_rollups *r)
{
    if (!r)
        return;
    if (r->win) {
        uint64_t v[FT_WIN_CTR_COUNT] = {0};
        ft_windows_counters(r->win, v);
        ft_log(FT_LOG_INFO, "window", "%llu records in windows: %llu windows closed, %llu flushed partial, %llu late "
               "records in %llu corrections, %llu keys folded into 'other', %llu clamped event times, %llu bad "
               "sampling rates; flushes took %.1f ms at most",
               (unsigned long long)v[FT_WIN_CTR_records], (unsigned long long)v[FT_WIN_CTR_windows_flushed],
               (unsigned long long)v[FT_WIN_CTR_partial_flushes], (unsigned long long)v[FT_WIN_CTR_late_records],
               (unsigned long long)v[FT_WIN_CTR_corrections_flushed], (unsigned long long)v[FT_WIN_CTR_folded_keys],
               (unsigned long long)(v[FT_WIN_CTR_clamped_past] + v[FT_WIN_CTR_clamped_future]),
               (unsigned long long)v[FT_WIN_CTR_bad_sampling], v[FT_WIN_CTR_flush_ns_max] / 1e6);
        if (!r->finished && v[FT_WIN_CTR_records])
            ft_log(FT_LOG_WARN, "window", "freed before its final flush: open windows are lost");
    }
    ft_windows_free(r->win);
    if (r->slots) {
        for (uint32_t i = 0; i < r->n; i++) {
            free_items(r->slots[i].v, r->slots[i].n);
            pthread_mutex_destroy(&r->slots[i].mu);
        }
        free(r->slots);
    }
    if (r->enr)
        for (uint32_t i = 0; i < r->n; i++)
            ft_enricher_free(r->enr[i]);
    free(r->enr);
    ft_geo_close(r->geo);
    if (r->store && r->states_saved)
        ft_log(FT_LOG_INFO, "sqlite", "decode state of %llu exporters saved", (unsigned long long)r->states_saved);
    ft_store_close(r->store);
    free(r);
}
