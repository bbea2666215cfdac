/*
 * window.c - event-time windows, per-worker tables, merge and flush
 * (window.h).
 *
 * Workload: ft_window_add runs for every flow record on its receive worker
 * (ten table adds); ft_windows_advance runs about once a second and, once
 * per window length, detaches a window's tables from every worker, merges
 * them per dimension and hands the rows to the sinks.
 */
#include "window/window.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/counters.h"
#include "core/log.h"
#include "window/agg_table.h"

#define NS_PER_S 1000000000ull
/* Open windows per worker: (lateness 1 h + 1 min of future clamp) / 1 s
 * would be 3661; real settings need 2 or 3. A record for a window past this
 * many goes into the late table (counted late) rather than growing memory. */
#define MAX_SLOTS 64

typedef struct slot {
    uint64_t ws_ns; /* window start */
    ft_agg *dim[FT_DIM_COUNT];
    uint32_t owner; /* index of the worker whose tables these are */
} slot;

/* Records in flight: a record's ten table slots are prefetched when it is
 * added and summed PENDING records later, so the cache misses of a big
 * window (a 100k-key table is megabytes) overlap instead of queueing one
 * after the other. Four records are 40 loads in flight, about what a core
 * can track. Drained before the worker's lock is released. */
#define PENDING 4

typedef struct pending {
    ft_agg *t[FT_DIM_COUNT];
    ft_agg_pkey k[FT_DIM_COUNT];
    uint64_t bytes, packets;
} pending;

struct ft_window_worker {
    ft_windows *w;
    pthread_mutex_t lock;      /* the worker holds it from its first record of a batch to batch end */
    bool locked;               /* owner thread only */
    slot slots[MAX_SLOTS];     /* under lock */
    uint32_t n_slots;          /* under lock */
    uint32_t last;             /* index of the slot used last (owner thread) */
    ft_agg *late[FT_DIM_COUNT]; /* under lock; NULL until a late record comes */
    bool late_dirty;           /* under lock */
    uint64_t seed;
    ft_ctr ctr[FT_WIN_CTR_COUNT]; /* single writer: the owner */
    ft_agg *spare[FT_DIM_COUNT]; /* under lock: a flushed window's tables, emptied, for the next
                                  * window (NULL: none); see recycle() */
    pending pend[PENDING];     /* under lock, owner thread; a ring */
    uint32_t pend_head, pend_n;
};

struct ft_windows {
    ft_window_opts o;
    uint64_t window_ns, lateness_ns;
    ft_rollup_sink *sinks;
    size_t n_sinks;
    ft_window_worker *workers;
    _Atomic uint64_t closed_before; /* ns: every window starting before it is closed */
    _Atomic uint64_t next_tick_ns;  /* capture clock: advance once a record reaches this */

    pthread_mutex_t mu;            /* one advance/finish at a time */
    ft_agg *merged[FT_DIM_COUNT];  /* under mu: merge tables of multi-worker windows, reused */
    uint64_t clock_ns;             /* under mu */
    bool finished;                 /* under mu */
    ft_ctr ctr[FT_WIN_CTR_COUNT];  /* single writer: whoever holds mu */

    void (*on_tick)(void *ctx, uint64_t clock_ns);
    void *on_tick_ctx;

    pthread_mutex_t stop_mu;       /* clock thread */
    pthread_cond_t stop_cv;
    bool stop, clock_running;
    pthread_t clock_thread;
};

static const char *const win_ctr_names[FT_WIN_CTR_COUNT] = {
#define FT_WIN_CTR_NAME(name, help) #name,
    FT_WIN_CTR_MAP(FT_WIN_CTR_NAME)
#undef FT_WIN_CTR_NAME
};

const char *ft_win_ctr_name(ft_win_ctr c)
{
    return (unsigned)c < FT_WIN_CTR_COUNT ? win_ctr_names[c] : "unknown";
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

static uint64_t random_seed(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != sizeof s)
        s = now_ns(CLOCK_MONOTONIC) ^ (uint64_t)(uintptr_t)&s;
    return s;
}

ft_windows *ft_windows_new(const ft_window_opts *o, const ft_rollup_sink *sinks, size_t n_sinks)
{
    ft_windows *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->o = *o;
    if (!w->o.workers)
        w->o.workers = 1;
    if (!w->o.window_s)
        w->o.window_s = 300;
    w->window_ns = (uint64_t)w->o.window_s * NS_PER_S;
    w->lateness_ns = (uint64_t)w->o.lateness_s * NS_PER_S;
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->stop_mu, NULL);
    pthread_cond_init(&w->stop_cv, NULL);
    atomic_init(&w->closed_before, 0);
    atomic_init(&w->next_tick_ns, 0);
    w->sinks = calloc(n_sinks ? n_sinks : 1, sizeof *w->sinks);
    w->workers = calloc(w->o.workers, sizeof *w->workers);
    if (!w->sinks || !w->workers) {
        free(w->sinks);
        free(w->workers);
        free(w);
        return NULL;
    }
    if (n_sinks)
        memcpy(w->sinks, sinks, n_sinks * sizeof *sinks);
    w->n_sinks = n_sinks;
    uint64_t seed = random_seed();
    for (uint32_t i = 0; i < w->o.workers; i++) {
        ft_window_worker *ww = &w->workers[i];
        ww->w = w;
        ww->seed = seed + i * 0x9E3779B97F4A7C15ull;
        pthread_mutex_init(&ww->lock, NULL);
    }
    return w;
}

ft_window_worker *ft_windows_worker(ft_windows *w, uint32_t i)
{
    return i < w->o.workers ? &w->workers[i] : NULL;
}

uint64_t ft_windows_closed_before(const ft_windows *w)
{
    return atomic_load(&((ft_windows *)w)->closed_before);
}

/* ---- hot path ------------------------------------------------------------------ */

static void free_tables(ft_agg **t)
{
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        ft_agg_free(t[d]);
        t[d] = NULL;
    }
}

static int new_tables(ft_window_worker *ww, ft_agg **t)
{
    if (ww->spare[0]) {
        memcpy(t, ww->spare, sizeof ww->spare);
        memset(ww->spare, 0, sizeof ww->spare);
        return 0;
    }
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        t[d] = ft_agg_new(ww->w->o.max_keys, ww->w->o.by_exporter, ww->seed + (uint64_t)d);
        if (!t[d]) {
            free_tables(t);
            return -1;
        }
    }
    return 0;
}

/* The open window starting at ws of this worker, created when new; NULL
 * when MAX_SLOTS windows are open or memory runs out. */
static slot *get_slot(ft_window_worker *ww, uint64_t ws)
{
    if (ww->last < ww->n_slots && ww->slots[ww->last].ws_ns == ws)
        return &ww->slots[ww->last];
    for (uint32_t i = 0; i < ww->n_slots; i++) {
        if (ww->slots[i].ws_ns == ws) {
            ww->last = i;
            return &ww->slots[i];
        }
    }
    if (ww->n_slots == MAX_SLOTS)
        return NULL;
    slot *s = &ww->slots[ww->n_slots];
    if (new_tables(ww, s->dim) != 0)
        return NULL;
    s->ws_ns = ws;
    s->owner = (uint32_t)(ww - ww->w->workers);
    ww->last = ww->n_slots++;
    return s;
}

static uint64_t scaled(uint64_t v, uint64_t rate, uint64_t max, bool *capped)
{
    uint64_t p;
    if (__builtin_mul_overflow(v, rate, &p) || p > max) {
        *capped = true;
        return max;
    }
    return p;
}

/* Sums the oldest record in flight. */
static void pend_pop(ft_window_worker *ww)
{
    pending *p = &ww->pend[ww->pend_head];
    for (int d = 0; d < FT_DIM_COUNT; d++)
        ft_agg_add_prepared(p->t[d], &p->k[d], p->bytes, p->packets);
    ww->pend_head = (ww->pend_head + 1) % PENDING;
    ww->pend_n--;
}

static void pend_drain(ft_window_worker *ww)
{
    while (ww->pend_n)
        pend_pop(ww);
}

static void unlock_worker(ft_window_worker *ww)
{
    if (ww->locked) {
        pend_drain(ww);
        pthread_mutex_unlock(&ww->lock);
        ww->locked = false;
    }
}

void ft_window_add(ft_window_worker *ww, const ft_flow *f)
{
    ft_windows *w = ww->w;
    uint64_t recv = f->time_received_ns;
    if (w->o.capture_clock && recv >= atomic_load_explicit(&w->next_tick_ns, memory_order_relaxed)) {
        /* --pcap: this record moves the clock; close what it passed before
         * adding it, exactly as the live clock thread would have. */
        unlock_worker(ww);
        ft_windows_advance(w, recv);
    }
    if (!ww->locked) {
        pthread_mutex_lock(&ww->lock);
        ww->locked = true;
    }
    ft_ctr_add(&ww->ctr[FT_WIN_CTR_records], 1);

    uint64_t ev = recv;
    if (!w->o.event_time_received) {
        ev = f->time_flow_end_ns;
        uint64_t lo = recv > FT_EVENT_CLAMP_PAST_NS ? recv - FT_EVENT_CLAMP_PAST_NS : 0;
        uint64_t hi = recv + FT_EVENT_CLAMP_FUTURE_NS;
        if (ev < lo) {
            ev = lo;
            ft_ctr_add(&ww->ctr[FT_WIN_CTR_clamped_past], 1);
        } else if (ev > hi) {
            ev = hi;
            ft_ctr_add(&ww->ctr[FT_WIN_CTR_clamped_future], 1);
        }
    }
    uint64_t ws = ev - ev % w->window_ns;

    uint64_t rate = f->sampling_rate;
    if (rate == 0 || rate > FT_SAMPLING_RATE_MAX) {
        ft_ctr_add(&ww->ctr[FT_WIN_CTR_bad_sampling], 1);
        rate = 1;
    }
    bool capped = false;
    uint64_t bytes = scaled(f->bytes, rate, FT_RECORD_BYTES_MAX, &capped);
    uint64_t packets = scaled(f->packets, rate, FT_RECORD_PACKETS_MAX, &capped);
    if (capped)
        ft_ctr_add(&ww->ctr[FT_WIN_CTR_absurd_counters], 1);

    /* Read under the worker's mutex: the flusher moves the boundary before it
     * takes this mutex to detach the closed window, so a record is either in
     * that window's tables when they are detached, or late. */
    ft_agg **tables = NULL;
    if (ws >= atomic_load_explicit(&w->closed_before, memory_order_acquire)) {
        slot *s = get_slot(ww, ws);
        if (s)
            tables = s->dim;
    }
    if (!tables) {
        if (!ww->late[0] && new_tables(ww, ww->late) != 0) {
            ft_ctr_add(&ww->ctr[FT_WIN_CTR_dropped], 1);
            return;
        }
        tables = ww->late;
        ww->late_dirty = true;
        ft_ctr_add(&ww->ctr[FT_WIN_CTR_late_records], 1);
    }
    uint64_t window_s = ws / NS_PER_S;
    uint32_t a[FT_DIM_COUNT], b[FT_DIM_COUNT];
    ft_rkey_fields(f, a, b);
    if (ww->pend_n == PENDING)
        pend_pop(ww);
    pending *p = &ww->pend[(ww->pend_head + ww->pend_n) % PENDING];
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        const ft_addr *exp = ft_dim_has_exporter((ft_dim)d, w->o.by_exporter) ? &f->sampler_address : NULL;
        p->t[d] = tables[d];
        if (!ft_agg_prepare(tables[d], window_s, a[d], b[d], exp, &p->k[d])) {
            /* The exporter cannot be named in this table: ft_agg_add
             * folds the key into 'other' (counted there). Keep the
             * order of adds: sum what is in flight first. */
            pend_drain(ww);
            for (int e = 0; e < d; e++)
                ft_agg_add_prepared(p->t[e], &p->k[e], bytes, packets);
            for (int e = d; e < FT_DIM_COUNT; e++) {
                ft_rkey k;
                ft_rkey_of(&k, (ft_dim)e, f, window_s, w->o.by_exporter);
                ft_agg_add(tables[e], &k, bytes, packets, 1);
            }
            return;
        }
    }
    p->bytes = bytes;
    p->packets = packets;
    ww->pend_n++;
}

void ft_window_batch_end(ft_window_worker *ww)
{
    unlock_worker(ww);
}

/* ---- flush ------------------------------------------------------------------------ */

/* Tables detached from the workers for one flush. */
typedef struct stolen {
    slot *v;
    size_t n, cap;
} stolen;

static int stolen_push(stolen *s, const slot *x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        slot *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *x;
    return 0;
}

/*
 * Gives a flushed window's tables back to the worker that filled them,
 * emptied, for its next window (one set per worker; more are freed). Why:
 * tables grown to a window's keys were freed at every close and grown
 * again by doubling in the next window; the allocator then kept the freed
 * blocks in its heap, and the resident set rose in steps for minutes
 * (bench/soak). Reused, a worker's tables stay at the size its busiest
 * window needed: the memory is that of the open windows plus one set.
 */
static void recycle(ft_windows *w, stolen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        slot *x = &s->v[i];
        if (x->owner >= w->o.workers || !x->dim[0])
            continue;
        for (int d = 0; d < FT_DIM_COUNT; d++)
            ft_agg_clear(x->dim[d]);
        ft_window_worker *ww = &w->workers[x->owner];
        pthread_mutex_lock(&ww->lock);
        if (!ww->spare[0]) {
            memcpy(ww->spare, x->dim, sizeof ww->spare);
            memset(x->dim, 0, sizeof x->dim);
        }
        pthread_mutex_unlock(&ww->lock);
    }
}

static void stolen_free(stolen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free_tables(s->v[i].dim);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Detaches from every worker the windows starting before `before` (all of
 * them with UINT64_MAX) into open, and the late tables into late. */
static void steal(ft_windows *w, uint64_t before, stolen *open, stolen *late)
{
    for (uint32_t i = 0; i < w->o.workers; i++) {
        ft_window_worker *ww = &w->workers[i];
        pthread_mutex_lock(&ww->lock);
        uint32_t keep = 0;
        for (uint32_t j = 0; j < ww->n_slots; j++) {
            slot *s = &ww->slots[j];
            if (s->ws_ns < before && stolen_push(open, s) == 0)
                continue;
            ww->slots[keep++] = *s;
        }
        ww->n_slots = keep;
        ww->last = 0;
        if (ww->late_dirty) {
            slot s = {0, {0}, 0};
            memcpy(s.dim, ww->late, sizeof s.dim);
            if (stolen_push(late, &s) == 0) {
                memset(ww->late, 0, sizeof ww->late);
                ww->late_dirty = false;
            }
        }
        pthread_mutex_unlock(&ww->lock);
    }
}

typedef struct rowvec {
    ft_rollup_row *v;
    size_t n, cap;
    ft_dim dim;
    bool oom;
} rowvec;

static void collect(void *arg, const ft_agg_entry *e)
{
    rowvec *r = arg;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        ft_rollup_row *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    ft_rollup_row *x = &r->v[r->n++];
    x->dim = r->dim;
    x->key = e->key;
    x->bytes = e->bytes;
    x->packets = e->packets;
    x->flows = e->flows;
}

static int cmp_row(const void *pa, const void *pb)
{
    const ft_rollup_row *a = pa, *b = pb;
    if (a->key.window_s != b->key.window_s)
        return a->key.window_s < b->key.window_s ? -1 : 1;
    if (a->dim != b->dim)
        return a->dim < b->dim ? -1 : 1;
    if (a->key.other != b->key.other)
        return a->key.other < b->key.other ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return memcmp(&a->key, &b->key, sizeof a->key);
}

/* Hands one window's rows (rows[0..n), all of window ws) to every sink. */
static void deliver(ft_windows *w, uint64_t ws, const ft_rollup_row *rows, size_t n, bool correction, bool partial)
{
    ft_rollup_batch b;
    memset(&b, 0, sizeof b);
    b.window_start_ns = ws;
    b.window_end_ns = ws + w->window_ns;
    b.is_correction = correction;
    b.is_partial = partial;
    b.by_exporter = w->o.by_exporter;
    b.rows = rows;
    b.n_rows = n;
    for (size_t i = 0; i < n && rows[i].dim == rows[0].dim; i++)
        b.flows += rows[i].flows;
    for (size_t i = 0; i < w->n_sinks; i++)
        if (w->sinks[i].flush(w->sinks[i].ctx, &b) != 0)
            ft_ctr_add(&w->ctr[FT_WIN_CTR_sink_errors], 1);
    ft_ctr_add(&w->ctr[FT_WIN_CTR_rows_flushed], n);
    char when[32];
    time_t t = (time_t)(ws / NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ft_log(correction ? FT_LOG_DEBUG : FT_LOG_INFO, "window", "%s %s: %zu rows, %llu flow records%s", when,
           correction ? "late correction" : partial ? "flushed while open (partial)" : "closed", n,
           (unsigned long long)b.flows, w->n_sinks ? "" : " (no sink)");
}

static void note_flush_time(ft_windows *w, uint64_t t0)
{
    uint64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
    ft_ctr_add(&w->ctr[FT_WIN_CTR_flush_ns_total], dt);
    if (dt > ft_ctr_get(&w->ctr[FT_WIN_CTR_flush_ns_max]))
        atomic_store_explicit(&w->ctr[FT_WIN_CTR_flush_ns_max], dt, memory_order_relaxed);
}

static int cmp_slot(const void *pa, const void *pb)
{
    const slot *a = pa, *b = pb;
    return a->ws_ns < b->ws_ns ? -1 : a->ws_ns > b->ws_ns;
}

/* Merges the tables of s[0..n) (one window, one per worker that saw it)
 * per dimension and appends the rows to r. */
static void merge_rows(ft_windows *w, slot *s, size_t n, rowvec *r)
{
    for (int d = 0; d < FT_DIM_COUNT; d++) {
        ft_agg *m = s[0].dim[d];
        if (n > 1) {
            /* Several workers saw this window: one merged table, itself
             * bounded by max_keys (the per-worker tables already were),
             * kept from one flush to the next (see recycle()). */
            if (!w->merged[d])
                w->merged[d] = ft_agg_new(w->o.max_keys, w->o.by_exporter, random_seed());
            else
                ft_agg_clear(w->merged[d]);
            m = w->merged[d];
            if (!m) {
                r->oom = true;
                return;
            }
            for (size_t i = 0; i < n; i++)
                ft_agg_merge(m, s[i].dim[d]);
        }
        ft_ctr_add(&w->ctr[FT_WIN_CTR_folded_keys], ft_agg_folded(m));
        r->dim = (ft_dim)d;
        ft_agg_foreach(m, collect, r);
    }
}

static void log_oom(ft_windows *w, uint64_t ws)
{
    ft_ctr_add(&w->ctr[FT_WIN_CTR_sink_errors], 1);
    ft_log(FT_LOG_ERROR, "window", "out of memory merging the window starting %llu s: its rows are lost",
           (unsigned long long)(ws / NS_PER_S));
}

/* Flushes detached open windows (grouped by start, in time order). */
static void flush_windows(ft_windows *w, stolen *s, bool partial)
{
    if (!s->n)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_slot);
    for (size_t i = 0; i < s->n;) {
        size_t j = i;
        while (j < s->n && s->v[j].ws_ns == s->v[i].ws_ns)
            j++;
        uint64_t t0 = now_ns(CLOCK_MONOTONIC);
        rowvec r = {0};
        merge_rows(w, &s->v[i], j - i, &r);
        if (r.oom) {
            log_oom(w, s->v[i].ws_ns);
        } else if (r.n) {
            qsort(r.v, r.n, sizeof *r.v, cmp_row);
            deliver(w, s->v[i].ws_ns, r.v, r.n, false, partial);
            ft_ctr_add(&w->ctr[partial ? FT_WIN_CTR_partial_flushes : FT_WIN_CTR_windows_flushed], 1);
        }
        free(r.v);
        note_flush_time(w, t0);
        i = j;
    }
}

/* Flushes the late tables: merged across workers, one correction batch per
 * window they hold. */
static void flush_late(ft_windows *w, stolen *s)
{
    if (!s->n)
        return;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    rowvec r = {0};
    merge_rows(w, s->v, s->n, &r);
    if (r.oom) {
        log_oom(w, 0);
    } else if (r.n) {
        qsort(r.v, r.n, sizeof *r.v, cmp_row);
        for (size_t i = 0; i < r.n;) {
            size_t j = i;
            while (j < r.n && r.v[j].key.window_s == r.v[i].key.window_s)
                j++;
            deliver(w, r.v[i].key.window_s * NS_PER_S, &r.v[i], j - i, true, false);
            ft_ctr_add(&w->ctr[FT_WIN_CTR_corrections_flushed], 1);
            i = j;
        }
    }
    free(r.v);
    note_flush_time(w, t0);
}

/* Under mu: moves the clock and the open/closed boundary. */
static uint64_t move_clock(ft_windows *w, uint64_t now)
{
    if (now > w->clock_ns)
        w->clock_ns = now;
    uint64_t c = w->clock_ns > w->lateness_ns ? w->clock_ns - w->lateness_ns : 0;
    uint64_t cb = c - c % w->window_ns;
    /* The boundary moves before any worker's mutex is taken (see
     * ft_window_add). */
    if (cb > atomic_load(&w->closed_before))
        atomic_store_explicit(&w->closed_before, cb, memory_order_release);
    else
        cb = atomic_load(&w->closed_before);
    /* Capture clock: next advance when the oldest open window closes, or
     * one capture second on (late corrections), whichever is first. */
    uint64_t deadline = cb + w->window_ns + w->lateness_ns;
    uint64_t tick = w->clock_ns + NS_PER_S;
    atomic_store_explicit(&w->next_tick_ns, deadline < tick ? deadline : tick, memory_order_relaxed);
    return cb;
}

void ft_windows_advance(ft_windows *w, uint64_t now)
{
    pthread_mutex_lock(&w->mu);
    if (!w->finished) {
        uint64_t cb = move_clock(w, now);
        stolen open = {0}, late = {0};
        steal(w, cb, &open, &late);
        flush_windows(w, &open, false);
        flush_late(w, &late);
        recycle(w, &open);
        stolen_free(&open);
        stolen_free(&late);
        if (w->on_tick)
            w->on_tick(w->on_tick_ctx, w->clock_ns);
    }
    pthread_mutex_unlock(&w->mu);
}

/* Appends the rows of table t whose window start is in [from_s, to_s). */
struct read_filter {
    rowvec *r;
    uint64_t from_s, to_s;
};

static void collect_range(void *arg, const ft_agg_entry *e)
{
    struct read_filter *f = arg;
    if (e->key.window_s >= f->from_s && e->key.window_s < f->to_s)
        collect(f->r, e);
}

int ft_windows_read_open(ft_windows *w, ft_dim dim, uint64_t from_s, uint64_t to_s, void (*pin)(void *ctx),
                         void (*row)(void *ctx, const ft_rollup_row *r), void *ctx)
{
    if ((unsigned)dim >= FT_DIM_COUNT)
        return -1;
    rowvec r = {0};
    r.dim = dim;
    struct read_filter f = {&r, from_s, to_s};
    /* The flush mutex first: no window is between a worker's tables and
     * the sinks while it is held, so what pin() sees of the sinks and what
     * is copied below add up to every record exactly once. */
    pthread_mutex_lock(&w->mu);
    if (pin)
        pin(ctx);
    for (uint32_t i = 0; i < w->o.workers; i++) {
        ft_window_worker *ww = &w->workers[i];
        /* Held for one dimension's tables of this worker: a copy of at most
         * (open windows + 1) x max_keys entries. */
        pthread_mutex_lock(&ww->lock);
        for (uint32_t j = 0; j < ww->n_slots; j++) {
            uint64_t ws = ww->slots[j].ws_ns / NS_PER_S;
            if (ws >= from_s && ws < to_s)
                ft_agg_foreach(ww->slots[j].dim[dim], collect_range, &f);
        }
        if (ww->late_dirty && ww->late[dim])
            ft_agg_foreach(ww->late[dim], collect_range, &f);
        pthread_mutex_unlock(&ww->lock);
    }
    pthread_mutex_unlock(&w->mu);
    int rc = r.oom ? -1 : 0;
    for (size_t i = 0; !r.oom && i < r.n; i++)
        row(ctx, &r.v[i]);
    free(r.v);
    return rc;
}

uint32_t ft_windows_window_s(const ft_windows *w)
{
    return w->o.window_s;
}

void ft_windows_on_tick(ft_windows *w, void (*cb)(void *ctx, uint64_t clock_ns), void *ctx)
{
    w->on_tick = cb;
    w->on_tick_ctx = ctx;
}

static void *clock_main(void *arg)
{
    ft_windows *w = arg;
    pthread_mutex_lock(&w->stop_mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->stop_mu);
        ft_windows_advance(w, now_ns(CLOCK_REALTIME));
        pthread_mutex_lock(&w->stop_mu);
        /* Sleep to the next whole wall-clock second (windows end on them). */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += 1;
        t.tv_nsec = 0;
        while (!w->stop && pthread_cond_timedwait(&w->stop_cv, &w->stop_mu, &t) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->stop_mu);
    return NULL;
}

int ft_windows_start_clock(ft_windows *w)
{
    /* Close what the wall clock already passed before any record lands. */
    ft_windows_advance(w, now_ns(CLOCK_REALTIME));
    int e = pthread_create(&w->clock_thread, NULL, clock_main, w);
    if (e != 0) {
        errno = e;
        return -1;
    }
    w->clock_running = true;
    return 0;
}

void ft_windows_finish(ft_windows *w, uint64_t now)
{
    if (w->clock_running) {
        pthread_mutex_lock(&w->stop_mu);
        w->stop = true;
        pthread_cond_broadcast(&w->stop_cv);
        pthread_mutex_unlock(&w->stop_mu);
        pthread_join(w->clock_thread, NULL);
        w->clock_running = false;
    }
    ft_windows_advance(w, now);
    pthread_mutex_lock(&w->mu);
    if (!w->finished) {
        stolen open = {0}, late = {0};
        steal(w, UINT64_MAX, &open, &late);
        flush_windows(w, &open, true);
        flush_late(w, &late);
        stolen_free(&open);
        stolen_free(&late);
        w->finished = true;
    }
    pthread_mutex_unlock(&w->mu);
}

void ft_windows_free(ft_windows *w)
{
    if (!w)
        return;
    if (w->clock_running) {
        pthread_mutex_lock(&w->stop_mu);
        w->stop = true;
        pthread_cond_broadcast(&w->stop_cv);
        pthread_mutex_unlock(&w->stop_mu);
        pthread_join(w->clock_thread, NULL);
    }
    for (uint32_t i = 0; i < w->o.workers; i++) {
        ft_window_worker *ww = &w->workers[i];
        for (uint32_t j = 0; j < ww->n_slots; j++)
            free_tables(ww->slots[j].dim);
        free_tables(ww->late);
        free_tables(ww->spare);
        pthread_mutex_destroy(&ww->lock);
    }
    free_tables(w->merged);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->stop_mu);
    pthread_cond_destroy(&w->stop_cv);
    free(w->workers);
    free(w->sinks);
    free(w);
}

void ft_windows_counters(ft_windows *w, uint64_t *out)
{
    for (int c = 0; c < FT_WIN_CTR_COUNT; c++) {
        uint64_t v = ft_ctr_get(&w->ctr[c]);
        for (uint32_t i = 0; i < w->o.workers; i++)
            v += ft_ctr_get(&w->workers[i].ctr[c]);
        if (c == FT_WIN_CTR_flush_ns_max)
            out[c] = v > out[c] ? v : out[c];
        else
            out[c] += v;
    }
}
