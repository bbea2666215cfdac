/*
 * exporter.c - observation domains, samplers, sequence tracking and
 * snapshots of one exporter (see exporter.h).
 */
#include "decode/exporter.h"

#include <stdlib.h>
#include <string.h>

/* A sequence jump larger than this either way is read as a restart of the
 * exporter (or a new stream), not as loss: a real gap of a million export
 * packets or records with no datagram in between does not happen, while a
 * restarted exporter's counter lands anywhere. */
#define SEQ_RESET_JUMP (1u << 20)
/* How far the boot time (export time - sysUptime) may move between two
 * messages of a running exporter: v9 export time has 1 s resolution, so the
 * estimate jitters by up to 1 s; a restarted exporter's moves by its
 * lifetime and the restart's duration. */
#define BOOT_SLACK_MS 2000

static void restart_sequence(ft_exporter *e, ft_domain *dom)
{
    ft_ctr_add(&e->ctr[FT_CTR_sequence_resets], 1);
    dom->n_gaps = 0;
}

/* A message behind the expectation: when [seq, seq + advance) overlaps a
 * remembered gap, that part is taken back from `lost`, the gap shrinks (or
 * goes when filled) and true is returned. */
static bool fill_gap(ft_exporter *e, ft_domain *dom, uint32_t seq, uint32_t advance,
                     bool advance_known, ft_ctr_id lost)
{
    for (uint32_t i = 0; i < dom->n_gaps; i++) {
        uint32_t lo = dom->gap_lo[i], hi = dom->gap_hi[i];
        uint32_t width = hi - lo, at = seq - lo; /* modulo 2^32 */
        if (at >= width)
            continue;
        uint32_t fill = advance_known ? (advance < width - at ? advance : width - at) : 0;
        if (fill && at == 0)
            dom->gap_lo[i] = lo + fill;
        else if (fill && at + fill == width)
            dom->gap_hi[i] = seq;
        if (dom->gap_lo[i] == dom->gap_hi[i]) {
            memmove(&dom->gap_lo[i], &dom->gap_lo[i + 1], (dom->n_gaps - i - 1) * sizeof dom->gap_lo[0]);
            memmove(&dom->gap_hi[i], &dom->gap_hi[i + 1], (dom->n_gaps - i - 1) * sizeof dom->gap_hi[0]);
            dom->n_gaps--;
        }
        uint64_t cur = ft_ctr_get(&e->ctr[lost]);
        atomic_store_explicit(&e->ctr[lost], cur >= fill ? cur - fill : 0, memory_order_relaxed);
        return true;
    }
    return false;
}

static void note_gap(ft_domain *dom, uint32_t lo, uint32_t hi)
{
    uint32_t keep = dom->n_gaps < FT_SEQ_GAPS ? dom->n_gaps : FT_SEQ_GAPS - 1;
    memmove(&dom->gap_lo[1], &dom->gap_lo[0], keep * sizeof dom->gap_lo[0]);
    memmove(&dom->gap_hi[1], &dom->gap_hi[0], keep * sizeof dom->gap_hi[0]);
    dom->gap_lo[0] = lo;
    dom->gap_hi[0] = hi;
    dom->n_gaps = (uint8_t)(keep + 1);
}

bool ft_domain_sequence(ft_exporter *e, ft_domain *dom, uint32_t seq, uint32_t advance,
                        bool advance_known, uint32_t own, int64_t boot_ms, uint32_t uptime_ms,
                        ft_ctr_id lost)
{
    bool rebooted = false, restarted = false;
    if (boot_ms != FT_BOOT_UNKNOWN && dom->boot_valid) {
        /* Modulo 2^32 ms: sysUptime wrapping after 49.7 days moves the
         * estimate by exactly 2^32 ms, which is no restart. */
        int64_t moved = (int32_t)(uint32_t)((uint64_t)boot_ms - (uint64_t)dom->boot_ms);
        rebooted = moved > BOOT_SLACK_MS && uptime_ms < dom->uptime_ms;
    }
    if (dom->seq_valid) {
        uint32_t before = dom->next_seq, after = dom->last_seq + own;
        if (own && !rebooted && before != after && (seq == before || seq == after)) {
            uint8_t *fit = seq == before ? &dom->fit_before : &dom->fit_after;
            if (*fit == UINT8_MAX) { /* saturated: halve both, keep the ratio */
                dom->fit_before /= 2;
                dom->fit_after /= 2;
            }
            (*fit)++;
        }
        bool numbered_after = dom->fit_after > dom->fit_before;
        uint32_t expect = numbered_after ? after : before;
        int64_t delta = (int32_t)(seq - expect);
        /* The records this message numbers, [first, first + span), and
         * where the ones expected next start. */
        uint32_t shift = numbered_after ? own : 0;
        uint32_t first = seq - shift, span = numbered_after ? own : advance;
        if (delta == 0) {
            /* in order */
        } else if (delta >= SEQ_RESET_JUMP || delta <= -(int64_t)SEQ_RESET_JUMP) {
            restart_sequence(e, dom);
        } else if (delta > 0) {
            /* Ahead: loss, even when sysUptime went back (captures of one
             * exporter stitched together do that; a restarted exporter
             * starts its count again). */
            ft_ctr_add(&e->ctr[lost], (uint64_t)delta);
            note_gap(dom, expect - shift, first);
        } else if (rebooted) {
            restart_sequence(e, dom);
            restarted = true;
        } else if (fill_gap(e, dom, first, span, advance_known, lost)) {
            /* An older message arrived late: the gap it fills was counted as
             * lost when it opened; keep the expectation (and the boot time). */
            ft_ctr_add(&e->ctr[FT_CTR_sequence_reordered], 1);
            return false;
        } else {
            restart_sequence(e, dom);
        }
    }
    if (boot_ms != FT_BOOT_UNKNOWN) {
        dom->boot_ms = boot_ms;
        dom->uptime_ms = uptime_ms;
        dom->boot_valid = true;
    }
    dom->last_seq = seq;
    dom->next_seq = seq + advance;
    dom->seq_valid = advance_known;
    return restarted;
}

ft_domain *ft_exporter_domain(ft_exporter *e, uint8_t version, uint32_t id, uint64_t now_ns)
{
    ft_domain *lru = NULL;
    for (uint32_t i = 0; i < e->n_domains; i++) {
        ft_domain *d = &e->domains[i];
        if (d->version == version && d->id == id) {
            d->used_ns = now_ns;
            return d;
        }
        if (!lru || d->used_ns < lru->used_ns)
            lru = d;
    }
    ft_domain *d = e->n_domains < FT_MAX_DOMAINS ? &e->domains[e->n_domains++] : lru;
    memset(d, 0, sizeof *d);
    d->version = version;
    d->id = id;
    d->used_ns = now_ns;
    return d;
}

void ft_exporter_set_sampler(ft_exporter *e, uint8_t version, uint32_t domain, uint64_t id,
                             uint64_t rate, uint64_t now_ns)
{
    ft_sampler *lru = NULL;
    for (uint32_t i = 0; i < e->n_samplers; i++) {
        ft_sampler *s = &e->samplers[i];
        if (s->version == version && s->domain == domain && s->id == id) {
            s->rate = rate;
            s->used_ns = now_ns;
            return;
        }
        if (!lru || s->used_ns < lru->used_ns)
            lru = s;
    }
    ft_sampler *s = e->n_samplers < FT_MAX_SAMPLERS ? &e->samplers[e->n_samplers++] : lru;
    s->version = version;
    s->domain = domain;
    s->id = id;
    s->rate = rate;
    s->used_ns = now_ns;
}

uint64_t ft_exporter_sampler_rate(const ft_exporter *e, uint8_t version, uint32_t domain,
                                  uint64_t id)
{
    for (uint32_t i = 0; i < e->n_samplers; i++) {
        const ft_sampler *s = &e->samplers[i];
        if (s->version == version && s->domain == domain && s->id == id)
            return s->rate;
    }
    return 0;
}

void ft_exporter_drop_pending(ft_exporter *e)
{
    ft_pending *p = e->pending_head;
    while (p) {
        ft_pending *n = p->next;
        free(p);
        p = n;
    }
    e->pending_head = e->pending_tail = NULL;
    e->n_pending = 0;
    e->pending_bytes = 0;
}

ft_if_counters *ft_exporter_interface(ft_exporter *e, uint32_t idx, uint32_t *n_total, uint32_t max_total)
{
    uint32_t lo = 0, hi = e->n_ifs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (e->ifs[mid].if_index == idx)
            return &e->ifs[mid];
        if (e->ifs[mid].if_index < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (e->n_ifs >= FT_MAX_INTERFACES || *n_total >= max_total)
        return NULL;
    if (e->n_ifs == e->cap_ifs) {
        uint32_t cap = e->cap_ifs ? e->cap_ifs * 2 : 16;
        ft_if_counters *n = realloc(e->ifs, cap * sizeof *n);
        if (!n)
            return NULL;
        e->ifs = n;
        e->cap_ifs = cap;
    }
    memmove(&e->ifs[lo + 1], &e->ifs[lo], (e->n_ifs - lo) * sizeof e->ifs[0]);
    e->n_ifs++;
    (*n_total)++;
    ft_if_counters *c = &e->ifs[lo];
    memset(c, 0, sizeof *c);
    c->agent = e->addr;
    c->if_index = idx;
    return c;
}

void ft_exporter_snapshot(const ft_exporter *e, ft_exporter_stats *s)
{
    memset(s, 0, sizeof *s);
    s->addr = e->addr;
    s->protocols = e->protocols;
    s->last_seen_ns = e->last_seen_ns;
    s->templates = e->n_templates;
    s->pending = e->n_pending;
    s->sampling_rate = e->override_rate ? e->override_rate : e->default_rate;
    for (int i = 0; i < FT_CTR_COUNT; i++)
        s->ctr[i] = ft_ctr_get(&e->ctr[i]);
    for (int i = 0; i < FT_ERR_COUNT; i++)
        s->errors[i] = ft_ctr_get(&e->err[i]);
}
