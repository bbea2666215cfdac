/*
 * decoder.c - the decode stage (see decoder.h): exporter table, protocol
 * dispatch, template installation, data sets and the records held until
 * their template arrives, sampling rates, expiry.
 */
#include "decode/decoder_int.h"
#include "decode/pkt_header.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ULL

void ft_decoder_opts_default(ft_decoder_opts *o)
{
    memset(o, 0, sizeof *o);
    o->template_timeout_s = 1800;
    o->max_exporters = 4096;
    o->max_interfaces = 65536;
    o->max_templates_per_exporter = 2048;
    o->max_template_bytes = 64u << 20;
    o->pending_max_sets = 64;
    o->pending_max_bytes = 256u << 10;
    o->pending_max_age_s = 60;
}

ft_decoder *ft_decoder_new(const ft_decoder_opts *o, const char *name)
{
    ft_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (o)
        d->o = *o;
    else
        ft_decoder_opts_default(&d->o);
    snprintf(d->name, sizeof d->name, "%s", name ? name : "decode");
    pthread_mutex_init(&d->pub_mu, NULL);
    d->n_buckets = 64;
    d->buckets = calloc(d->n_buckets, sizeof *d->buckets);
    d->tc = ft_template_cache_new(d->o.max_template_bytes);
    if (!d->buckets || !d->tc)
        goto fail;
    ft_log_limiter_init(&d->lim, 10);
    ft_histo_init(&d->decode_time, ft_histo_decode_le_ns, ft_histo_decode_n);
    return d;
fail:
    ft_decoder_free(d);
    return NULL;
}

void ft_decoder_free(ft_decoder *d)
{
    if (!d)
        return;
    if (d->buckets) {
        for (size_t i = 0; i < d->n_buckets; i++) {
            ft_exporter *x = d->buckets[i];
            while (x) {
                ft_exporter *n = x->next;
                ft_exporter_drop_pending(x);
                free(x->ifs);
                free(x);
                x = n;
            }
        }
        free(d->buckets);
    }
    ft_template_cache_free(d->tc);
    free(d->pub_x);
    free(d->pub_if);
    pthread_mutex_destroy(&d->pub_mu);
    free(d);
}

/* ---- faults -------------------------------------------------------------- */

ft_err ft_fault(ft_decoder *d, ft_exporter *x, ft_err e, const char *fmt, ...)
{
    ft_ctr_add(&x->err[e], 1);
    if (FT_LOG_WARN > ft_log_threshold)
        return e;
    char detail[256], addr[FT_ADDR_STRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ft_addr_format(&x->addr, addr);
    ft_log_limited(&d->lim, ft_addr_hash(&x->addr) * 31 + (uint64_t)e, FT_LOG_WARN, d->name,
                   "exporter %s: %s: %s (%s)", addr[0] ? addr : "(over exporter cap)", ft_err_name(e),
                   detail, ft_err_reason(e));
    return e;
}

bool ft_all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- exporters ------------------------------------------------------------- */

static void grow_exporters(ft_decoder *d)
{
    size_t n = d->n_buckets * 2;
    ft_exporter **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < d->n_buckets; i++) {
        ft_exporter *x = d->buckets[i];
        while (x) {
            ft_exporter *next = x->next;
            size_t j = ft_addr_hash(&x->addr) & (n - 1);
            x->next = b[j];
            b[j] = x;
            x = next;
        }
    }
    free(d->buckets);
    d->buckets = b;
    d->n_buckets = n;
}

/* --sampling-rate for addr: the first matching prefix's rate, 0 = none. */
static uint64_t override_for(const ft_decoder *d, const ft_addr *addr)
{
    for (size_t i = 0; i < d->o.n_overrides; i++)
        if (ft_cidr_match(&d->o.overrides[i].prefix, addr))
            return d->o.overrides[i].rate;
    return 0;
}

void ft_decoder_set_overrides(ft_decoder *d, const ft_sampling_override *v, size_t n)
{
    d->o.overrides = v;
    d->o.n_overrides = n;
    for (size_t i = 0; i < d->n_buckets; i++)
        for (ft_exporter *x = d->buckets[i]; x; x = x->next)
            x->override_rate = override_for(d, &x->addr);
}

/* The exporter for addr, created on first sight; NULL past the cap. */
static ft_exporter *exporter_get(ft_decoder *d, const ft_addr *addr)
{
    if (d->last && ft_addr_eq(&d->last->addr, addr))
        return d->last;
    size_t h = ft_addr_hash(addr) & (d->n_buckets - 1);
    for (ft_exporter *x = d->buckets[h]; x; x = x->next) {
        if (ft_addr_eq(&x->addr, addr)) {
            d->last = x;
            return x;
        }
    }
    if (d->n_exporters >= d->o.max_exporters)
        return NULL;
    ft_exporter *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->addr = *addr;
    x->override_rate = override_for(d, addr);
    x->next = d->buckets[h];
    d->buckets[h] = x;
    d->n_exporters++;
    d->last = x;
    if (d->n_exporters > d->n_buckets)
        grow_exporters(d);
    return x;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* sFlow identifies its agent inside the datagram (sFlow v5 §5.2
 * sample_datagram_v5.agent_address): that, not the datagram's source
 * (a relay, a NAT), is the exporter. Falls back to the source when the
 * header is too short to say. */
static ft_addr sflow_agent(const ft_datagram *dg)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    ft_rd_skip(&r, 4);
    uint32_t type = ft_rd_u32(&r);
    const uint8_t *a = ft_rd_take(&r, type == 2 ? 16 : 4);
    if (!a || (type != 1 && type != 2))
        return dg->exporter;
    return type == 1 ? ft_addr_v4(a) : ft_addr_v6(a);
}

static ft_err decode(ft_decoder *d, const ft_datagram *dg, const ft_flow_sink *sink);

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * NS_PER_S + (uint64_t)t.tv_nsec;
}

ft_err ft_decoder_decode(ft_decoder *d, const ft_datagram *dg, const ft_flow_sink *sink)
{
    /* Two vDSO clock reads per datagram (~20 ns each), against microseconds
     * of decoding: cheap enough to time every one. */
    uint64_t t0 = mono_ns();
    ft_err e = decode(d, dg, sink);
    ft_histo_add(&d->decode_time, mono_ns() - t0);
    return e;
}

void ft_decoder_decode_time(const ft_decoder *d, ft_histo_snap *s)
{
    ft_histo_read(&d->decode_time, s);
}

static ft_err decode(ft_decoder *d, const ft_datagram *dg, const ft_flow_sink *sink)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    uint32_t word = ft_rd_u32(&r);
    bool sflow = !r.err && word == 5;
    ft_addr who = sflow ? sflow_agent(dg) : dg->exporter;
    ft_exporter *x = exporter_get(d, &who);
    d->n_withdrawn = 0;
    if (!x) {
        char addr[FT_ADDR_STRLEN];
        ft_addr_format(&who, addr);
        d->overflow.last_seen_ns = dg->time_received_ns;
        ft_ctr_add(&d->overflow.ctr[FT_CTR_packets], 1);
        return ft_fault(d, &d->overflow, FT_ERR_EXPORTER_CAP, "datagram from %s dropped (cap %u)",
                        addr, d->o.max_exporters);
    }
    x->last_seen_ns = dg->time_received_ns;
    ft_ctr_add(&x->ctr[FT_CTR_packets], 1);
    ft_ctr_add(&x->ctr[FT_CTR_octets], dg->len);
    if (r.err)
        return ft_fault(d, x, FT_ERR_TRUNCATED, "%zu-byte datagram", dg->len);
    if (sflow) {
        /* sFlow v5 (sFlow.org "sFlow Version 5" §5, datagram version 5). */
        x->protocols |= FT_PROTO_SFLOW_5;
        return ft_sflow_v5_decode(d, x, dg, sink);
    }
    switch (word >> 16) {
    case 5:
        x->protocols |= FT_PROTO_NETFLOW_V5;
        return ft_netflow_v5_decode(d, x, dg, sink);
    case 9:
        x->protocols |= FT_PROTO_NETFLOW_V9;
        return ft_netflow_v9_decode(d, x, dg, sink);
    case 10:
        x->protocols |= FT_PROTO_IPFIX;
        return ft_ipfix_decode(d, x, dg, sink);
    default:
        return ft_fault(d, x, FT_ERR_BAD_VERSION,
                        "first word 0x%08x is not NetFlow v5/v9, IPFIX or sFlow v5", word);
    }
}

/* ---- templates ----------------------------------------------------------------- */

static bool same_layout(const ft_template *a, const ft_template *b)
{
    return a->options == b->options && a->scope_count == b->scope_count &&
           a->n_fields == b->n_fields &&
           memcmp(a->fields, b->fields, (size_t)a->n_fields * sizeof a->fields[0]) == 0;
}

static void decode_pending(ft_decoder *d, ft_exporter *x, const ft_template *t,
                           const ft_flow_sink *sink);

ft_err ft_install_template(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid,
                           bool options, uint16_t scope_count, uint16_t n_fields,
                           const uint16_t *ids, const uint16_t *lens, const uint32_t *pens,
                           const ft_flow_sink *sink)
{
    ft_ctr_add(&x->ctr[FT_CTR_templates_received], 1);
    ft_template *t = ft_template_compile(m->version, m->domain, tid, options, scope_count, n_fields,
                                         ids, lens, pens, 65535);
    if (!t)
        return ft_fault(d, x, FT_ERR_BAD_TEMPLATE,
                        "template %u (domain %u): %u fields, no usable record length", tid,
                        m->domain, n_fields);
    t->exp = x;
    t->refreshed_ns = m->time_received_ns;
    ft_template *old = ft_template_find(d->tc, x, m->version, m->domain, tid);
    if (old && same_layout(old, t)) {
        /* A refresh, the common case (exporters resend templates every few
         * seconds): keep the compiled one. */
        old->refreshed_ns = m->time_received_ns;
        free(t);
        return FT_OK;
    }
    if (!old && x->n_templates >= d->o.max_templates_per_exporter) {
        free(t);
        return ft_fault(d, x, FT_ERR_TEMPLATE_CAP, "template %u (domain %u) refused: %u held", tid,
                        m->domain, x->n_templates);
    }
    int rc = ft_template_insert(d->tc, t);
    if (rc < 0)
        return ft_fault(d, x, FT_ERR_TEMPLATE_CAP,
                        "template %u (domain %u) refused: template memory budget spent", tid,
                        m->domain);
    if (rc == 0)
        x->n_templates++;
    if (x->n_pending)
        decode_pending(d, x, ft_template_find(d->tc, x, m->version, m->domain, tid), sink);
    return FT_OK;
}

static void note_withdrawn(ft_decoder *d, uint32_t domain, uint16_t tid)
{
    if (d->n_withdrawn < sizeof d->withdrawn / sizeof d->withdrawn[0]) {
        d->withdrawn[d->n_withdrawn].domain = domain;
        d->withdrawn[d->n_withdrawn].tid = tid;
        d->n_withdrawn++;
    } else {
        /* More withdrawals in one message than we note: treat the domain as
         * withdrawn wholesale (only held-set decisions depend on it). */
        d->withdrawn[d->n_withdrawn - 1].domain = domain;
        d->withdrawn[d->n_withdrawn - 1].tid = 0;
    }
}

static bool was_withdrawn(const ft_decoder *d, uint32_t domain, uint16_t tid)
{
    for (uint32_t i = 0; i < d->n_withdrawn; i++)
        if (d->withdrawn[i].domain == domain && (d->withdrawn[i].tid == tid || !d->withdrawn[i].tid))
            return true;
    return false;
}

void ft_withdraw_template(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid)
{
    ft_ctr_add(&x->ctr[FT_CTR_template_withdrawals], 1);
    note_withdrawn(d, m->domain, tid);
    if (ft_template_remove(d->tc, x, m->version, m->domain, tid))
        x->n_templates--;
}

void ft_withdraw_all(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, bool options)
{
    ft_ctr_add(&x->ctr[FT_CTR_template_withdrawals], 1);
    if (!options)
        note_withdrawn(d, m->domain, 0);
    size_t n = ft_template_remove_all(d->tc, x, m->version, m->domain, options);
    x->n_templates -= (uint32_t)n;
}

/* ---- records ------------------------------------------------------------------- */

/* A sampling rate from what an (options) record carried, 0 when none:
 * samplingInterval (34) / FLOW_SAMPLER_RANDOM_INTERVAL (50) give N directly.
 * PSAMP parameters (RFC 5476 §6.5.2, selectorAlgorithm values of the IANA
 * registry, RFC 5477 §8.2.1): systematic count-based (1) selects
 * samplingPacketInterval packets out of every interval + samplingPacketSpace;
 * random n-out-of-N (3) selects samplingSize out of samplingPopulation.
 * Cisco IOS-XR sends algorithm 3 with interval 1, size 1, population 256
 * (corpus pmacct-ipfix-cisco-ipv6-sampling-option): the algorithm says
 * which pair counts. Without the algorithm, a size/population pair wins
 * over an interval, as it cannot be read any other way. */
static uint64_t rate_of(const ft_record_extra *xr)
{
    if ((xr->have & FT_X_SAMPLING_INTERVAL) && xr->sampling_interval)
        return xr->sampling_interval;
    if ((xr->have & FT_X_RANDOM_INTERVAL) && xr->sampler_random_interval)
        return xr->sampler_random_interval;
    bool have_nN = (xr->have & FT_X_SAMPLING_POPULATION) && (xr->have & FT_X_SAMPLING_SIZE) &&
                   xr->sampling_size;
    bool have_interval = (xr->have & FT_X_PACKET_INTERVAL) && xr->packet_interval;
    bool systematic =
        (xr->have & FT_X_SELECTOR_ALGORITHM) && xr->selector_algorithm == 1 /* count-based */;
    if (have_nN && !(systematic && have_interval))
        return xr->sampling_population / xr->sampling_size;
    if (have_interval)
        return (xr->packet_interval + ((xr->have & FT_X_PACKET_SPACE) ? xr->packet_space : 0)) /
               xr->packet_interval;
    return 0;
}

/* What an options data record teaches (RFC 3954 §6.2, RFC 7011 §3.4.2.2):
 * sampler rates, the domain's default rate and its system init time. */
static void learn_options(ft_exporter *x, ft_domain *dom, const ft_msg_ctx *m,
                          const ft_record_extra *xr)
{
    uint64_t rate = rate_of(xr);
    if (rate) {
        /* A rate that names its sampler (48 / 302) belongs to that sampler;
         * one that names none is the domain's own and wins as its default. */
        if (xr->have & FT_X_SAMPLER_ID) {
            ft_exporter_set_sampler(x, m->version, m->domain, xr->sampler_id, rate,
                                    m->time_received_ns);
            dom->keyed_rate = rate;
        } else {
            dom->rate = rate;
        }
        x->default_rate = dom->rate ? dom->rate : dom->keyed_rate;
    }
    if (xr->have & FT_X_SYSTEM_INIT)
        dom->system_init_ms = xr->system_init_ms;
}

/* The sampling rate of a flow record: the operator's override, else what
 * the record itself says (34/50), else its sampler's rate, else the
 * domain's own rate, else the latest rate of any of its samplers (an
 * exporter with one sampler that does not name it in data records).
 * 0 when unknown. */
static uint64_t record_rate(const ft_exporter *x, const ft_domain *dom, const ft_msg_ctx *m,
                            const ft_record_extra *xr)
{
    if (x->override_rate)
        return x->override_rate;
    if ((xr->have & FT_X_SAMPLING_INTERVAL) && xr->sampling_interval)
        return xr->sampling_interval;
    if ((xr->have & FT_X_RANDOM_INTERVAL) && xr->sampler_random_interval)
        return xr->sampler_random_interval;
    if (xr->have & FT_X_SAMPLER_ID) {
        uint64_t r = ft_exporter_sampler_rate(x, m->version, m->domain, xr->sampler_id);
        if (r)
            return r;
    }
    return dom->rate ? dom->rate : dom->keyed_rate;
}

/* RFC 7133 §4.7 dataLinkFrameSection: the start of the sampled frame
 * (Juniper inline monitoring sends only this and interfaces). Its L2-L4
 * fields go through the one packet parser and fill what the record's own
 * fields left unset; the record's fields win where both exist. */
static void apply_datalink(ft_flow *f, const ft_record_extra *xr)
{
    ft_flow h;
    ft_pkt_info info;
    memset(&h, 0, sizeof h);
    ft_pkt_parse(xr->datalink, xr->datalink_len, FT_LINK_ETHERNET, &h, &info);
#define FILL(field)                                                                                \
    do {                                                                                           \
        if (!f->field)                                                                             \
            f->field = h.field;                                                                    \
    } while (0)
#define FILL_ADDR(field)                                                                           \
    do {                                                                                           \
        if (!f->field.family)                                                                      \
            f->field = h.field;                                                                    \
    } while (0)
    FILL_ADDR(src_addr);
    FILL_ADDR(dst_addr);
    FILL(src_mac);
    FILL(dst_mac);
    FILL(vlan_id);
    FILL(src_vlan);
    FILL(proto);
    FILL(src_port);
    FILL(dst_port);
    FILL(ip_tos);
    FILL(ip_ttl);
    FILL(ip_flags);
    FILL(tcp_flags);
    FILL(icmp_type);
    FILL(icmp_code);
    FILL(ipv6_flow_label);
    FILL(fragment_id);
    FILL(fragment_offset);
    if (!f->has_mpls && h.has_mpls) {
        f->has_mpls = true;
        f->mpls_count = h.mpls_count;
        f->mpls_1_label = h.mpls_1_label;
        f->mpls_1_ttl = h.mpls_1_ttl;
        f->mpls_2_label = h.mpls_2_label;
        f->mpls_2_ttl = h.mpls_2_ttl;
        f->mpls_3_label = h.mpls_3_label;
        f->mpls_3_ttl = h.mpls_3_ttl;
        f->mpls_last_label = h.mpls_last_label;
        f->mpls_last_ttl = h.mpls_last_ttl;
    }
    /* A tunnelled frame (pkt_header.h encapsulation contract): the inner
     * header's fields, unless the record already has them. */
    if (!f->has_encap && h.has_encap) {
        f->has_encap = true;
        f->src_addr_encap = h.src_addr_encap;
        f->dst_addr_encap = h.dst_addr_encap;
        f->proto_encap = h.proto_encap;
        f->etype_encap = h.etype_encap;
        f->ip_tos_encap = h.ip_tos_encap;
        f->ip_ttl_encap = h.ip_ttl_encap;
        f->ipv6_flow_label_encap = h.ipv6_flow_label_encap;
        f->fragment_id_encap = h.fragment_id_encap;
        f->fragment_offset_encap = h.fragment_offset_encap;
    }
    if (!f->has_ppp && h.has_ppp) {
        f->has_ppp = true;
        f->ppp_address_control = h.ppp_address_control;
    }
#undef FILL
#undef FILL_ADDR
    if (h.etype && (!f->etype || !(xr->have & FT_X_ETYPE)))
        f->etype = h.etype;
    if (!f->src_vlan)
        f->src_vlan = f->vlan_id;
}

long ft_data_set(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, uint16_t tid,
                 const uint8_t *body, size_t len, const ft_flow_sink *sink)
{
    ft_template *t = ft_template_find(d->tc, x, m->version, m->domain, tid);
    if (!t && was_withdrawn(d, m->domain, tid)) {
        ft_fault(d, x, FT_ERR_NO_TEMPLATE,
                 "data set %u (domain %u) after its template was withdrawn in the same message", tid,
                 m->domain);
        return -1;
    }
    if (!t) {
        ft_fault(d, x, FT_ERR_NO_TEMPLATE, "data set %u (domain %u, %zu bytes) before its template",
                 tid, m->domain, len);
        if (x->n_pending >= d->o.pending_max_sets ||
            x->pending_bytes + len > d->o.pending_max_bytes) {
            ft_fault(d, x, FT_ERR_PENDING_CAP, "data set %u not held: %u sets, %u bytes held", tid,
                     x->n_pending, x->pending_bytes);
            return -1;
        }
        ft_pending *p = malloc(sizeof *p + len);
        if (!p) {
            ft_fault(d, x, FT_ERR_PENDING_CAP, "data set %u not held: out of memory", tid);
            return -1;
        }
        p->next = NULL;
        p->m = *m;
        p->tid = tid;
        p->held_ns = m->time_received_ns;
        p->len = (uint32_t)len;
        memcpy(p->data, body, len);
        if (x->pending_tail)
            x->pending_tail->next = p;
        else
            x->pending_head = p;
        x->pending_tail = p;
        x->n_pending++;
        x->pending_bytes += (uint32_t)len;
        ft_ctr_add(&x->ctr[FT_CTR_pending_held], 1);
        return -1;
    }

    ft_domain *dom = ft_exporter_domain(x, m->version, m->domain, m->time_received_ns);
    ft_rd r = ft_rd_init(body, len);
    long n = 0;
    /* RFC 7011 §3.3.1 / RFC 3954 §5.3: what is left after the last record
     * that fits is padding, shorter than the shortest record. */
    while (ft_rd_left(&r) >= t->min_len) {
        ft_flow f;
        ft_record_extra xr;
        memset(&f, 0, sizeof f);
        if (ft_record_decode(t, &r, &f, &xr) != 0) {
            ft_fault(d, x, FT_ERR_BAD_RECORD, "set %u record %ld runs past its set", tid, n + 1);
            break;
        }
        n++;
        if (t->options) {
            learn_options(x, dom, m, &xr);
            ft_ctr_add(&x->ctr[FT_CTR_options_records], 1);
            continue;
        }
        f.type = m->version == 9 ? FT_FLOW_NETFLOW_V9 : FT_FLOW_IPFIX;
        f.time_received_ns = m->time_received_ns;
        f.sequence_num = m->sequence;
        f.sampler_address = x->addr;
        f.observation_domain_id = m->domain;
        ft_record_finish(&f, &xr, m, dom->system_init_ms);
        if (xr.have & FT_X_DATALINK)
            apply_datalink(&f, &xr);
        uint64_t rate = record_rate(x, dom, m, &xr);
        if (!rate) {
            ft_ctr_add(&x->ctr[FT_CTR_sampling_unknown], 1);
            rate = 1;
        }
        f.sampling_rate = rate;
        ft_ctr_add(&x->ctr[FT_CTR_records], 1);
        if (sink)
            sink->emit(sink->ctx, &f);
    }
    return n;
}

/* Decodes, in arrival order, every held set that waited for t. */
static void decode_pending(ft_decoder *d, ft_exporter *x, const ft_template *t,
                           const ft_flow_sink *sink)
{
    ft_pending **pp = &x->pending_head, *prev = NULL;
    while (*pp) {
        ft_pending *p = *pp;
        if (p->tid == t->id && p->m.version == t->version && p->m.domain == t->domain) {
            *pp = p->next;
            if (x->pending_tail == p)
                x->pending_tail = prev;
            x->n_pending--;
            x->pending_bytes -= p->len;
            long n = ft_data_set(d, x, &p->m, p->tid, p->data, p->len, sink);
            if (n > 0)
                ft_ctr_add(&x->ctr[FT_CTR_pending_records], (uint64_t)n);
            free(p);
        } else {
            prev = p;
            pp = &p->next;
        }
    }
}

/* ---- expiry -------------------------------------------------------------------- */

static void on_expired(void *arg, const ft_template *t)
{
    (void)arg;
    ft_exporter *x = t->exp;
    x->n_templates--;
    ft_ctr_add(&x->ctr[FT_CTR_templates_expired], 1);
}

static void expire_pending(ft_decoder *d, ft_exporter *x, uint64_t older_than_ns, bool all)
{
    ft_pending **pp = &x->pending_head, *prev = NULL;
    while (*pp) {
        ft_pending *p = *pp;
        if (all || p->held_ns < older_than_ns) {
            *pp = p->next;
            if (x->pending_tail == p)
                x->pending_tail = prev;
            x->n_pending--;
            x->pending_bytes -= p->len;
            ft_fault(d, x, FT_ERR_PENDING_EXPIRED, "data set %u (domain %u) never got its template",
                     p->tid, p->m.domain);
            free(p);
        } else {
            prev = p;
            pp = &p->next;
        }
    }
}

void ft_decoder_expire(ft_decoder *d, uint64_t now_ns)
{
    uint64_t tmo = (uint64_t)d->o.template_timeout_s * NS_PER_S;
    if (now_ns > tmo)
        ft_template_expire(d->tc, now_ns - tmo, on_expired, NULL);
    uint64_t age = (uint64_t)d->o.pending_max_age_s * NS_PER_S;
    for (size_t i = 0; i < d->n_buckets; i++)
        for (ft_exporter *x = d->buckets[i]; x; x = x->next)
            if (x->n_pending && now_ns > age)
                expire_pending(d, x, now_ns - age, false);
}

void ft_decoder_finish(ft_decoder *d)
{
    for (size_t i = 0; i < d->n_buckets; i++)
        for (ft_exporter *x = d->buckets[i]; x; x = x->next)
            if (x->n_pending)
                expire_pending(d, x, 0, true);
}

void ft_decoder_foreach_interface(ft_decoder *d, void (*cb)(void *arg, const ft_if_counters *c),
                                  void *arg)
{
    for (size_t i = 0; i < d->n_buckets; i++)
        for (ft_exporter *x = d->buckets[i]; x; x = x->next)
            for (uint32_t j = 0; j < x->n_ifs; j++)
                cb(arg, &x->ifs[j]);
}

void ft_decoder_foreach_exporter(ft_decoder *d, void (*cb)(void *arg, const ft_exporter_stats *s),
                                 void *arg)
{
    ft_exporter_stats s;
    for (size_t i = 0; i < d->n_buckets; i++) {
        for (ft_exporter *x = d->buckets[i]; x; x = x->next) {
            if (!x->last_seen_ns)
                continue; /* only known from ft_decoder_import: not seen in this run */
            ft_exporter_snapshot(x, &s);
            cb(arg, &s);
        }
    }
    if (ft_ctr_get(&d->overflow.ctr[FT_CTR_packets])) {
        ft_exporter_snapshot(&d->overflow, &s);
        cb(arg, &s);
    }
}

struct pub_build {
    ft_exporter_stats *x;
    size_t nx, capx;
    ft_if_counters *ifs;
    size_t nif, capif;
    bool oom;
};

/* Room for one more element of size `size` in *v (n used, *cap allocated),
 * doubling from 16; false on ENOMEM (*v untouched). */
static bool pub_grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, c * size);
    if (!nv)
        return false;
    *v = nv;
    *cap = c;
    return true;
}

static void pub_exporter(void *arg, const ft_exporter_stats *s)
{
    struct pub_build *b = arg;
    if (b->oom || (b->oom = !pub_grow((void **)&b->x, b->nx, &b->capx, sizeof *b->x)))
        return;
    b->x[b->nx++] = *s;
}

static void pub_interface(void *arg, const ft_if_counters *c)
{
    struct pub_build *b = arg;
    if (b->oom || (b->oom = !pub_grow((void **)&b->ifs, b->nif, &b->capif, sizeof *b->ifs)))
        return;
    b->ifs[b->nif++] = *c;
}

void ft_decoder_publish(ft_decoder *d)
{
    struct pub_build b = {0};
    ft_decoder_foreach_exporter(d, pub_exporter, &b);
    ft_decoder_foreach_interface(d, pub_interface, &b);
    if (b.oom) {
        free(b.x);
        free(b.ifs);
        ft_log_limited(&d->lim, 0x7075626c, FT_LOG_WARN, d->name, "out of memory publishing counters: readers "
                       "see older ones");
        return;
    }
    pthread_mutex_lock(&d->pub_mu);
    ft_exporter_stats *ox = d->pub_x;
    ft_if_counters *oif = d->pub_if;
    d->pub_x = b.x;
    d->pub_nx = b.nx;
    d->pub_if = b.ifs;
    d->pub_nif = b.nif;
    pthread_mutex_unlock(&d->pub_mu);
    free(ox);
    free(oif);
}

void ft_decoder_read_published(ft_decoder *d, void (*xcb)(void *arg, const ft_exporter_stats *s),
                               void (*icb)(void *arg, const ft_if_counters *c), void *arg)
{
    pthread_mutex_lock(&d->pub_mu);
    for (size_t i = 0; xcb && i < d->pub_nx; i++)
        xcb(arg, &d->pub_x[i]);
    for (size_t i = 0; icb && i < d->pub_nif; i++)
        icb(arg, &d->pub_if[i]);
    pthread_mutex_unlock(&d->pub_mu);
}

/* ---- state export / import (decoder.h) ------------------------------------------ */

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} wbuf;

static void put(wbuf *b, uint64_t v, int bytes)
{
    if (b->n + (size_t)bytes > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->n + (size_t)bytes)
            cap *= 2;
        uint8_t *p = b->oom ? NULL : realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    for (int i = 0; i < bytes; i++)
        b->p[b->n++] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

typedef struct tlist {
    const ft_template **v;
    size_t n, cap;
    bool oom;
} tlist;

static void collect_template(void *arg, const ft_template *t)
{
    tlist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        const ft_template **v = l->oom ? NULL : realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = t;
}

static int cmp_template_exp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)(*(const ft_template *const *)a)->exp, y = (uintptr_t)(*(const ft_template *const *)b)->exp;
    return x < y ? -1 : x > y;
}

static bool domain_worth(const ft_domain *dom)
{
    return (dom->version == 9 || dom->version == 10) && (dom->rate || dom->keyed_rate || dom->system_init_ms);
}

size_t ft_decoder_export(ft_decoder *d, void (*cb)(void *arg, const ft_addr *exporter, const uint8_t *state,
                                                   size_t len),
                         void *arg)
{
    tlist all = {0};
    ft_template_foreach(d->tc, collect_template, &all);
    if (all.n)
        qsort(all.v, all.n, sizeof *all.v, cmp_template_exp);
    wbuf b = {0};
    size_t count = 0;
    for (size_t i = 0; i < d->n_buckets; i++) {
        for (ft_exporter *x = d->buckets[i]; x; x = x->next) {
            /* This exporter's templates: a run of the sorted list. */
            size_t lo = 0, hi = all.n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if ((uintptr_t)all.v[mid]->exp < (uintptr_t)x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            size_t end = lo;
            while (end < all.n && all.v[end]->exp == x && end - lo < 65535)
                end++;
            if (!x->last_seen_ns)
                continue;
            uint32_t nd = 0;
            for (uint32_t j = 0; j < x->n_domains; j++)
                nd += domain_worth(&x->domains[j]);
            uint32_t ns = 0;
            for (uint32_t j = 0; j < x->n_samplers; j++)
                ns += x->samplers[j].rate != 0;
            if (!nd && !ns && end == lo)
                continue;
            b.n = 0;
            for (int k = 0; k < 4; k++)
                put(&b, (uint8_t)FT_DECODER_STATE_MAGIC[k], 1);
            put(&b, nd, 2);
            for (uint32_t j = 0; j < x->n_domains; j++) {
                const ft_domain *dom = &x->domains[j];
                if (!domain_worth(dom))
                    continue;
                put(&b, dom->version, 1);
                put(&b, dom->id, 4);
                put(&b, dom->rate, 8);
                put(&b, dom->keyed_rate, 8);
                put(&b, dom->system_init_ms, 8);
            }
            put(&b, ns, 2);
            for (uint32_t j = 0; j < x->n_samplers; j++) {
                const ft_sampler *sm = &x->samplers[j];
                if (!sm->rate)
                    continue;
                put(&b, sm->version, 1);
                put(&b, sm->domain, 4);
                put(&b, sm->id, 8);
                put(&b, sm->rate, 8);
            }
            put(&b, end - lo, 2);
            for (size_t j = lo; j < end; j++) {
                const ft_template *t = all.v[j];
                put(&b, t->version, 1);
                put(&b, t->domain, 4);
                put(&b, t->id, 2);
                put(&b, t->options, 1);
                put(&b, t->scope_count, 2);
                put(&b, t->refreshed_ns, 8);
                put(&b, t->n_fields, 2);
                for (uint16_t k = 0; k < t->n_fields; k++) {
                    put(&b, t->fields[k].id, 2);
                    put(&b, t->fields[k].len, 2);
                    put(&b, t->fields[k].pen, 4);
                }
            }
            if (b.oom)
                break;
            cb(arg, &x->addr, b.p, b.n);
            count++;
        }
    }
    if (b.oom || all.oom)
        ft_log(FT_LOG_WARN, d->name, "out of memory exporting the decode state: some exporters not saved");
    free(b.p);
    free(all.v);
    return count;
}

int ft_decoder_import(ft_decoder *d, const ft_addr *exporter, const uint8_t *state, size_t len, uint64_t now_ns)
{
    ft_rd r = ft_rd_init(state, len);
    const uint8_t *magic = ft_rd_take(&r, 4);
    if (!magic || memcmp(magic, FT_DECODER_STATE_MAGIC, 4) != 0)
        return -1;
    ft_exporter *x = exporter_get(d, exporter);
    if (!x)
        return 0; /* exporter cap: nothing to load it into */
    uint16_t nd = ft_rd_u16(&r);
    for (uint16_t i = 0; i < nd && !r.err; i++) {
        uint8_t version = ft_rd_u8(&r);
        uint32_t id = ft_rd_u32(&r);
        uint64_t rate = ft_rd_u64(&r), keyed = ft_rd_u64(&r), init = ft_rd_u64(&r);
        if (r.err || (version != 9 && version != 10))
            continue;
        ft_domain *dom = ft_exporter_domain(x, version, id, now_ns);
        dom->rate = rate;
        dom->keyed_rate = keyed;
        dom->system_init_ms = init;
        if (rate || keyed)
            x->default_rate = rate ? rate : keyed;
    }
    uint16_t ns = ft_rd_u16(&r);
    for (uint16_t i = 0; i < ns && !r.err; i++) {
        uint8_t version = ft_rd_u8(&r);
        uint32_t domain = ft_rd_u32(&r);
        uint64_t id = ft_rd_u64(&r), rate = ft_rd_u64(&r);
        if (!r.err && rate)
            ft_exporter_set_sampler(x, version, domain, id, rate, now_ns);
    }
    uint16_t nt = ft_rd_u16(&r);
    uint16_t ids[FT_TEMPLATE_MAX_FIELDS], lens[FT_TEMPLATE_MAX_FIELDS];
    uint32_t pens[FT_TEMPLATE_MAX_FIELDS];
    uint64_t tmo = (uint64_t)d->o.template_timeout_s * NS_PER_S;
    int installed = 0;
    for (uint16_t i = 0; i < nt && !r.err; i++) {
        uint8_t version = ft_rd_u8(&r);
        uint32_t domain = ft_rd_u32(&r);
        uint16_t tid = ft_rd_u16(&r);
        uint8_t options = ft_rd_u8(&r);
        uint16_t scope = ft_rd_u16(&r);
        uint64_t refreshed = ft_rd_u64(&r);
        uint16_t n = ft_rd_u16(&r);
        if (r.err || n == 0 || n > FT_TEMPLATE_MAX_FIELDS || (size_t)n * 8 > ft_rd_left(&r)) {
            r.err = true;
            break;
        }
        for (uint16_t k = 0; k < n; k++) {
            ids[k] = ft_rd_u16(&r);
            lens[k] = ft_rd_u16(&r);
            pens[k] = ft_rd_u32(&r);
        }
        if ((version != 9 && version != 10) || tid < 256 || options > 1 || scope > n || (options && !scope))
            continue;
        if (refreshed > now_ns)
            refreshed = now_ns;
        if (now_ns > tmo && refreshed < now_ns - tmo)
            continue; /* would have expired by now */
        ft_template *t = ft_template_compile(version, domain, tid, options, scope, n, ids, lens, pens, 65535);
        if (!t)
            continue;
        t->exp = x;
        t->refreshed_ns = refreshed;
        ft_template *old = ft_template_find(d->tc, x, version, domain, tid);
        if (!old && x->n_templates >= d->o.max_templates_per_exporter) {
            free(t);
            continue;
        }
        int rc = ft_template_insert(d->tc, t);
        if (rc == 0)
            x->n_templates++;
        if (rc >= 0)
            installed++;
    }
    return r.err ? -1 : installed;
}
