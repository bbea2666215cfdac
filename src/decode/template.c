/*
 * template.c - template compilation, the data-record interpreter and the
 * template cache (see template.h). Workload: compile once per template
 * (re)definition, interpret once per data record: the interpreter is the
 * NetFlow v9/IPFIX hot path.
 */
#include "decode/template.h"

#include <stdlib.h>
#include <string.h>

/* A template may carry both IPv4 and IPv6 address IEs (8/12 and 27/28), one
 * of them all zeros: Procera fills 27/28 with :: in IPv4 flows, Cisco
 * IOS-XR MPLS template 313 fills 8/12 with 0.0.0.0 in IPv6 flows. An
 * all-zero address never replaces one already set, so the record keeps the
 * address that was really seen, whatever the template order. */
static bool addr_is_zero(const ft_addr *a)
{
    size_t from = a->family == 4 ? 12 : 0; /* IPv4 sits in the last 4 bytes */
    for (size_t i = from; i < 16; i++)
        if (a->b[i])
            return false;
    return true;
}

static void set_addr(ft_addr *dst, const uint8_t *v, size_t len)
{
    bool zero = true;
    for (size_t i = 0; i < len; i++)
        zero = zero && v[i] == 0;
    if (zero && dst->family)
        return;
    *dst = len == 4 ? ft_addr_v4(v) : ft_addr_v6(v);
}

/* ---- compilation ------------------------------------------------------- */

size_t ft_template_size(uint16_t n_fields)
{
    return sizeof(ft_template) + (size_t)n_fields * sizeof(ft_tfield);
}

ft_template *ft_template_compile(uint8_t version, uint32_t domain, uint16_t id, bool options,
                                 uint16_t scope_count, uint16_t n_fields, const uint16_t *ids,
                                 const uint16_t *lens, const uint32_t *pens, size_t max_record_len)
{
    ft_template *t = malloc(ft_template_size(n_fields));
    if (!t)
        return NULL;
    memset(t, 0, ft_template_size(n_fields)); /* padding too: same_layout compares with memcmp */
    t->version = version;
    t->domain = domain;
    t->id = id;
    t->options = options;
    t->scope_count = scope_count;
    t->n_fields = n_fields;
    uint32_t min_len = 0;
    for (uint16_t i = 0; i < n_fields; i++) {
        ft_tfield *f = &t->fields[i];
        f->id = ids[i];
        f->len = lens[i];
        f->pen = pens[i];
        f->index = 0;
        /* Scope fields of options templates describe what the options apply
         * to (the exporter, an interface...), not a flow: skip them, except a
         * sampler/selector ID scope, which keys sampling rates. */
        ft_op op = ft_ie_compile(ids[i], pens[i], lens[i]);
        if (options && i < scope_count && op != FT_OP_SAMPLER_ID)
            op = FT_OP_SKIP;
        f->op = (uint8_t)op;
        if (op == FT_OP_MPLS_LABEL)
            f->index = (uint8_t)(ids[i] - 70);
        if (lens[i] == FT_VARLEN) {
            t->varlen = true;
            min_len += 1;
        } else {
            min_len += lens[i];
        }
    }
    t->min_len = min_len;
    if (min_len == 0 || min_len > max_record_len) {
        free(t);
        return NULL;
    }
    return t;
}

/* ---- data records ------------------------------------------------------ */

static uint64_t mac48(const uint8_t *v)
{
    return ft_be_uint(v, 6);
}

int ft_record_decode(const ft_template *t, ft_rd *r, ft_flow *f, ft_record_extra *x)
{
    x->have = 0;
    for (uint16_t i = 0; i < t->n_fields; i++) {
        const ft_tfield *fd = &t->fields[i];
        size_t len = fd->len;
        if (len == FT_VARLEN) {
            /* RFC 7011 §7: a 1-byte length, or 255 then a 2-byte length. */
            len = ft_rd_u8(r);
            if (len == 255)
                len = ft_rd_u16(r);
        }
        const uint8_t *v = ft_rd_take(r, len);
        if (!v)
            return -1;
        if (fd->op == FT_OP_SKIP)
            continue;
        /* Compilation guarantees 1..8 bytes for every integer op. */
        uint64_t u = len <= 8 ? ft_be_uint(v, len) : 0;
        switch ((ft_op)fd->op) {
        case FT_OP_SKIP:
        case FT_OP_COUNT:
            break;
        case FT_OP_IN_BYTES:
            f->bytes = u;
            x->have |= FT_X_IN_BYTES;
            break;
        case FT_OP_IN_PKTS:
            f->packets = u;
            x->have |= FT_X_IN_PKTS;
            break;
        case FT_OP_OUT_BYTES:
            x->out_bytes = u;
            x->have |= FT_X_OUT_BYTES;
            break;
        case FT_OP_OUT_PKTS:
            x->out_pkts = u;
            x->have |= FT_X_OUT_PKTS;
            break;
        case FT_OP_PROTO:
            f->proto = (uint32_t)u;
            break;
        case FT_OP_TOS:
            f->ip_tos = (uint32_t)u;
            break;
        case FT_OP_TCP_FLAGS:
            f->tcp_flags = (uint32_t)u;
            break;
        case FT_OP_SRC_PORT:
            f->src_port = (uint32_t)u;
            break;
        case FT_OP_DST_PORT:
            f->dst_port = (uint32_t)u;
            break;
        case FT_OP_SRC_ADDR:
            set_addr(&f->src_addr, v, len);
            break;
        case FT_OP_DST_ADDR:
            set_addr(&f->dst_addr, v, len);
            break;
        case FT_OP_SRC_MASK:
            f->src_net = (uint32_t)u;
            break;
        case FT_OP_DST_MASK:
            f->dst_net = (uint32_t)u;
            break;
        case FT_OP_IN_IF:
            f->in_if = (uint32_t)u;
            break;
        case FT_OP_OUT_IF:
            f->out_if = (uint32_t)u;
            break;
        case FT_OP_NEXT_HOP:
            f->next_hop = len == 4 ? ft_addr_v4(v) : ft_addr_v6(v);
            x->have |= FT_X_NEXT_HOP;
            break;
        case FT_OP_BGP_NEXT_HOP:
            f->bgp_next_hop = len == 4 ? ft_addr_v4(v) : ft_addr_v6(v);
            break;
        case FT_OP_SRC_AS:
            f->src_as = (uint32_t)u;
            break;
        case FT_OP_DST_AS:
            f->dst_as = (uint32_t)u;
            break;
        case FT_OP_LAST_SWITCHED:
            x->last_switched = (uint32_t)u;
            x->have |= FT_X_LAST_SWITCHED;
            break;
        case FT_OP_FIRST_SWITCHED:
            x->first_switched = (uint32_t)u;
            x->have |= FT_X_FIRST_SWITCHED;
            break;
        case FT_OP_FLOW_LABEL:
            f->ipv6_flow_label = (uint32_t)u & 0xfffff;
            break;
        case FT_OP_ICMP_TYPE_CODE:
            f->icmp_type = (uint32_t)(u >> 8) & 0xff;
            f->icmp_code = (uint32_t)u & 0xff;
            x->have |= FT_X_ICMP;
            break;
        case FT_OP_ICMP_TYPE:
            f->icmp_type = (uint32_t)u;
            x->have |= FT_X_ICMP;
            break;
        case FT_OP_ICMP_CODE:
            f->icmp_code = (uint32_t)u;
            x->have |= FT_X_ICMP;
            break;
        case FT_OP_SAMPLING_INTERVAL:
            x->sampling_interval = u;
            x->have |= FT_X_SAMPLING_INTERVAL;
            break;
        case FT_OP_SAMPLER_ID:
            x->sampler_id = u;
            x->have |= FT_X_SAMPLER_ID;
            break;
        case FT_OP_SAMPLER_RANDOM_INTERVAL:
            x->sampler_random_interval = u;
            x->have |= FT_X_RANDOM_INTERVAL;
            break;
        case FT_OP_MIN_TTL:
            f->ip_ttl = (uint32_t)u;
            break;
        case FT_OP_FRAGMENT_ID:
            f->fragment_id = (uint32_t)u;
            break;
        case FT_OP_SRC_MAC:
            f->src_mac = mac48(v);
            break;
        case FT_OP_DST_MAC:
            f->dst_mac = mac48(v);
            x->have |= FT_X_DST_MAC;
            break;
        case FT_OP_IN_DST_MAC:
            x->in_dst_mac = mac48(v);
            x->have |= FT_X_IN_DST_MAC;
            break;
        case FT_OP_SRC_VLAN:
            f->src_vlan = (uint32_t)u & 0xfff;
            x->have |= FT_X_SRC_VLAN;
            break;
        case FT_OP_DST_VLAN:
            f->dst_vlan = (uint32_t)u & 0xfff;
            break;
        case FT_OP_DOT1Q_VLAN:
            x->dot1q_vlan = (uint32_t)u & 0xfff;
            x->have |= FT_X_DOT1Q;
            break;
        case FT_OP_IP_VERSION:
            if (u == 4 || u == 6) {
                f->etype = u == 4 ? FT_ETYPE_IPV4 : FT_ETYPE_IPV6;
                x->have |= FT_X_ETYPE;
            }
            break;
        case FT_OP_ETHERNET_TYPE:
            f->etype = (uint32_t)u;
            x->have |= FT_X_ETYPE;
            break;
        case FT_OP_SELECTOR_ALGORITHM:
            x->selector_algorithm = (uint32_t)u;
            x->have |= FT_X_SELECTOR_ALGORITHM;
            break;
        case FT_OP_DIRECTION:
            f->flow_direction = (uint32_t)u;
            break;
        case FT_OP_MPLS_LABEL:
            if (!(x->have & FT_X_MPLS)) {
                memset(x->mpls, 0, sizeof x->mpls);
                x->have |= FT_X_MPLS;
            }
            /* RFC 7012 mplsTopLabelStackSection: the 3 bytes of a label
             * stack entry without its TTL (label 20 bits, TC 3, S 1). */
            x->mpls[fd->index] = len == 3 ? (uint32_t)u : (uint32_t)(u << 4);
            break;
        case FT_OP_FRAGMENT_OFFSET:
            f->fragment_offset = (uint32_t)u;
            break;
        case FT_OP_FORWARDING_STATUS:
            f->forwarding_status = (uint32_t)u;
            break;
        case FT_OP_OBSERVATION_POINT_ID:
            f->observation_point_id = (uint32_t)u;
            break;
        case FT_OP_START_SECONDS:
            x->start_s = u;
            x->have |= FT_X_START_S;
            break;
        case FT_OP_END_SECONDS:
            x->end_s = u;
            x->have |= FT_X_END_S;
            break;
        case FT_OP_START_MILLISECONDS:
            x->start_ms = u;
            x->have |= FT_X_START_MS;
            break;
        case FT_OP_END_MILLISECONDS:
            x->end_ms = u;
            x->have |= FT_X_END_MS;
            break;
        case FT_OP_START_MICROSECONDS:
            x->start_ntp_us = u;
            x->have |= FT_X_START_US;
            break;
        case FT_OP_END_MICROSECONDS:
            x->end_ntp_us = u;
            x->have |= FT_X_END_US;
            break;
        case FT_OP_START_NANOSECONDS:
            x->start_ntp_ns = u;
            x->have |= FT_X_START_NS;
            break;
        case FT_OP_END_NANOSECONDS:
            x->end_ntp_ns = u;
            x->have |= FT_X_END_NS;
            break;
        case FT_OP_START_DELTA_MICROSECONDS:
            x->start_delta_us = u;
            x->have |= FT_X_START_DELTA;
            break;
        case FT_OP_END_DELTA_MICROSECONDS:
            x->end_delta_us = u;
            x->have |= FT_X_END_DELTA;
            break;
        case FT_OP_SYSTEM_INIT_TIME:
            x->system_init_ms = u;
            x->have |= FT_X_SYSTEM_INIT;
            break;
        case FT_OP_FRAGMENT_FLAGS:
            f->ip_flags = (uint32_t)u;
            break;
        case FT_OP_INGRESS_VRF_ID:
            f->ingress_vrf_id = (uint32_t)u;
            break;
        case FT_OP_EGRESS_VRF_ID:
            f->egress_vrf_id = (uint32_t)u;
            break;
        case FT_OP_BIFLOW_DIRECTION:
            f->bi_flow_direction = (uint32_t)u;
            break;
        case FT_OP_SAMPLING_PACKET_INTERVAL:
            x->packet_interval = u;
            x->have |= FT_X_PACKET_INTERVAL;
            break;
        case FT_OP_SAMPLING_PACKET_SPACE:
            x->packet_space = u;
            x->have |= FT_X_PACKET_SPACE;
            break;
        case FT_OP_SAMPLING_SIZE:
            x->sampling_size = u;
            x->have |= FT_X_SAMPLING_SIZE;
            break;
        case FT_OP_SAMPLING_POPULATION:
            x->sampling_population = u;
            x->have |= FT_X_SAMPLING_POPULATION;
            break;
        case FT_OP_DATALINK_FRAME_SIZE:
            x->datalink_frame_size = u;
            x->have |= FT_X_FRAME_SIZE;
            break;
        case FT_OP_DATALINK_FRAME:
            x->datalink = v;
            x->datalink_len = (uint32_t)len;
            x->have |= FT_X_DATALINK;
            break;
        }
    }
    return 0;
}

/* ---- times --------------------------------------------------------------- */

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL
/* Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
#define NTP_UNIX_OFFSET 2208988800ULL

/* RFC 7011 §6.1.9/§6.1.10: dateTimeMicroseconds/Nanoseconds are NTP
 * timestamps, 32-bit seconds since 1900 and a 32-bit binary fraction.
 * Seconds below the 1970 offset belong to NTP era 1 (from 2036-02-07). */
static uint64_t ntp_to_ns(uint64_t ntp)
{
    uint64_t sec = ntp >> 32, frac = ntp & 0xffffffffULL;
    if (sec < NTP_UNIX_OFFSET)
        sec += 1ULL << 32;
    return (sec - NTP_UNIX_OFFSET) * NS_PER_S + ((frac * NS_PER_S) >> 32);
}

/* NetFlow v9 (RFC 3954 §8 FIRST/LAST_SWITCHED): a switched time is sysUptime
 * ms at that moment. The signed 32-bit difference from the header's
 * sysUptime absorbs the 49.7-day wrap and times a little after sysUptime. */
static uint64_t uptime_to_ns(uint64_t export_ns, uint32_t sys_uptime_ms, uint32_t switched_ms)
{
    int64_t ago_ms = (int32_t)(sys_uptime_ms - switched_ms);
    return (uint64_t)((int64_t)export_ns - ago_ms * (int64_t)NS_PER_MS);
}

static uint64_t resolve_time(const ft_record_extra *x, const ft_msg_ctx *m, uint64_t system_init_ms,
                             bool start, uint64_t fallback_ns)
{
    uint64_t export_ns = (uint64_t)m->export_secs * NS_PER_S;
    uint64_t h = x->have;
    if (h & (start ? FT_X_START_NS : FT_X_END_NS))
        return ntp_to_ns(start ? x->start_ntp_ns : x->end_ntp_ns);
    if (h & (start ? FT_X_START_US : FT_X_END_US))
        return ntp_to_ns(start ? x->start_ntp_us : x->end_ntp_us);
    if (h & (start ? FT_X_START_MS : FT_X_END_MS))
        return (start ? x->start_ms : x->end_ms) * NS_PER_MS;
    if (h & (start ? FT_X_START_S : FT_X_END_S))
        return (start ? x->start_s : x->end_s) * NS_PER_S;
    if (h & (start ? FT_X_START_DELTA : FT_X_END_DELTA)) {
        /* RFC 7011 §6.1: delta microseconds before the message's Export Time. */
        uint64_t d = (start ? x->start_delta_us : x->end_delta_us) * 1000ULL;
        return d < export_ns ? export_ns - d : 0;
    }
    if (h & (start ? FT_X_FIRST_SWITCHED : FT_X_LAST_SWITCHED)) {
        uint32_t sw = start ? x->first_switched : x->last_switched;
        if (m->version == 9)
            return uptime_to_ns(export_ns, m->sys_uptime_ms, sw);
        /* IPFIX flowStart/EndSysUpTime count from systemInitTimeMilliseconds
         * (RFC 7012 IE 160), in the record or learnt from options data. */
        uint64_t init = (h & FT_X_SYSTEM_INIT) ? x->system_init_ms : system_init_ms;
        if (init)
            return (init + sw) * NS_PER_MS;
    }
    return fallback_ns;
}

void ft_record_finish(ft_flow *f, const ft_record_extra *x, const ft_msg_ctx *m,
                      uint64_t system_init_ms)
{
    uint64_t export_ns = (uint64_t)m->export_secs * NS_PER_S;
    f->time_flow_end_ns = resolve_time(x, m, system_init_ms, false, export_ns);
    f->time_flow_start_ns = resolve_time(x, m, system_init_ms, true, f->time_flow_end_ns);

    if (!(x->have & FT_X_IN_BYTES) && (x->have & FT_X_OUT_BYTES))
        f->bytes = x->out_bytes;
    if (!(x->have & FT_X_IN_PKTS) && (x->have & FT_X_OUT_PKTS))
        f->packets = x->out_pkts;
    /* RFC 7133 packet sampling (Juniper inline monitoring): a record per
     * sampled frame, its size in dataLinkFrameSize and no counters. */
    if (!(x->have & (FT_X_IN_BYTES | FT_X_OUT_BYTES)) && (x->have & FT_X_FRAME_SIZE)) {
        f->bytes = x->datalink_frame_size;
        if (!(x->have & (FT_X_IN_PKTS | FT_X_OUT_PKTS)))
            f->packets = 1;
    }
    if (!(x->have & FT_X_DST_MAC) && (x->have & FT_X_IN_DST_MAC))
        f->dst_mac = x->in_dst_mac;
    if (!(x->have & FT_X_SRC_VLAN) && (x->have & FT_X_DOT1Q))
        f->src_vlan = x->dot1q_vlan;
    f->vlan_id = f->src_vlan;
    if (!(x->have & FT_X_NEXT_HOP) && f->bgp_next_hop.family)
        f->next_hop = f->bgp_next_hop;
    /* The addresses' family decides etype: it is what the flow's IP header
     * was. ethernetType (256) / ipVersion (60) count only for a record with
     * no address or only all-zero ones (an L2 flow): Cisco IOS-XR 7.10 fills ethernetType with
     * values like 254 in IPv4 flows (corpus pmacct-ipfix-cisco-xr7101-*). */
    int fam = f->src_addr.family ? f->src_addr.family : f->dst_addr.family;
    bool seen = !addr_is_zero(&f->src_addr) || !addr_is_zero(&f->dst_addr);
    if ((fam == 4 || fam == 6) && (seen || !(x->have & FT_X_ETYPE)))
        f->etype = fam == 4 ? FT_ETYPE_IPV4 : FT_ETYPE_IPV6;
    else if (!(x->have & FT_X_ETYPE))
        f->etype = 0;
    /* Cisco IOS and softflowd put ICMP type*256+code in the destination port
     * when the template has no ICMP field. */
    if (!(x->have & FT_X_ICMP) && (f->proto == 1 || f->proto == 58)) {
        f->icmp_type = (f->dst_port >> 8) & 0xff;
        f->icmp_code = f->dst_port & 0xff;
    }
    if (x->have & FT_X_MPLS) {
        /* Walk the stack top down; an all-zero entry ends it, and so does the
         * bottom-of-stack bit (RFC 3032 §2.1). */
        uint32_t n = 0, last = 0;
        for (int i = 0; i < 10; i++) {
            uint32_t e = x->mpls[i];
            if (e == 0)
                break;
            last = e >> 4;
            n++;
            if (n == 1)
                f->mpls_1_label = last;
            else if (n == 2)
                f->mpls_2_label = last;
            else if (n == 3)
                f->mpls_3_label = last;
            if (e & 1)
                break;
        }
        if (n) {
            f->has_mpls = true;
            f->mpls_count = n;
            f->mpls_last_label = last;
        }
    }
}

/* ---- cache ----------------------------------------------------------------- */

struct ft_template_cache {
    ft_template **buckets;
    size_t n_buckets; /* power of two */
    size_t count;
    size_t bytes;
    size_t max_bytes;
};

static uint64_t key_hash(const struct ft_exporter *exp, uint8_t version, uint32_t domain, uint16_t id)
{
    uint64_t h = (uint64_t)(uintptr_t)exp;
    h ^= ((uint64_t)domain << 24) ^ ((uint64_t)id << 8) ^ version;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 32);
}

ft_template_cache *ft_template_cache_new(size_t max_bytes)
{
    ft_template_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_buckets = 256;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

void ft_template_cache_free(ft_template_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template *t = c->buckets[i];
        while (t) {
            ft_template *n = t->next;
            free(t);
            t = n;
        }
    }
    free(c->buckets);
    free(c);
}

static ft_template **slot_of(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                             uint32_t domain, uint16_t id)
{
    ft_template **p = &c->buckets[key_hash(exp, version, domain, id) & (c->n_buckets - 1)];
    while (*p && !((*p)->exp == exp && (*p)->version == version && (*p)->domain == domain &&
                   (*p)->id == id))
        p = &(*p)->next;
    return p;
}

ft_template *ft_template_find(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, uint16_t id)
{
    return *slot_of(c, exp, version, domain, id);
}

static void grow(ft_template_cache *c)
{
    size_t n = c->n_buckets * 2;
    ft_template **b = calloc(n, sizeof *b);
    if (!b)
        return; /* keep the longer chains: correct, only slower */
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template *t = c->buckets[i];
        while (t) {
            ft_template *next = t->next;
            size_t j = key_hash(t->exp, t->version, t->domain, t->id) & (n - 1);
            t->next = b[j];
            b[j] = t;
            t = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
}

int ft_template_insert(ft_template_cache *c, ft_template *t)
{
    ft_template **p = slot_of(c, t->exp, t->version, t->domain, t->id);
    ft_template *old = *p;
    size_t add = ft_template_size(t->n_fields);
    size_t sub = old ? ft_template_size(old->n_fields) : 0;
    if (c->max_bytes && c->bytes - sub + add > c->max_bytes) {
        free(t);
        return -1;
    }
    c->bytes = c->bytes - sub + add;
    if (old) {
        t->next = old->next;
        *p = t;
        free(old);
        return 1;
    }
    t->next = NULL;
    *p = t;
    c->count++;
    if (c->count > c->n_buckets)
        grow(c);
    return 0;
}

int ft_template_remove(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                       uint32_t domain, uint16_t id)
{
    ft_template **p = slot_of(c, exp, version, domain, id);
    ft_template *t = *p;
    if (!t)
        return 0;
    *p = t->next;
    c->bytes -= ft_template_size(t->n_fields);
    c->count--;
    free(t);
    return 1;
}

/* Removes every template for which match() holds, calling cb first. */
static size_t remove_if(ft_template_cache *c, int (*match)(const ft_template *t, const void *arg),
                        const void *marg, void (*cb)(void *arg, const ft_template *t), void *cbarg)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template **p = &c->buckets[i];
        while (*p) {
            ft_template *t = *p;
            if (match(t, marg)) {
                if (cb)
                    cb(cbarg, t);
                *p = t->next;
                c->bytes -= ft_template_size(t->n_fields);
                c->count--;
                free(t);
                n++;
            } else {
                p = &t->next;
            }
        }
    }
    return n;
}

struct withdraw_key {
    const struct ft_exporter *exp;
    uint8_t version;
    uint32_t domain;
    bool options;
};

static int match_withdraw(const ft_template *t, const void *arg)
{
    const struct withdraw_key *k = arg;
    return t->exp == k->exp && t->version == k->version && t->domain == k->domain &&
           t->options == k->options;
}

size_t ft_template_remove_all(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, bool options)
{
    struct withdraw_key k = {exp, version, domain, options};
    return remove_if(c, match_withdraw, &k, NULL, NULL);
}

void ft_template_foreach(const ft_template_cache *c, void (*cb)(void *arg, const ft_template *t), void *arg)
{
    for (size_t i = 0; i < c->n_buckets; i++)
        for (const ft_template *t = c->buckets[i]; t; t = t->next)
            cb(arg, t);
}

static int match_older(const ft_template *t, const void *arg)
{
    return t->refreshed_ns < *(const uint64_t *)arg;
}

size_t ft_template_expire(ft_template_cache *c, uint64_t older_than_ns,
                          void (*cb)(void *arg, const ft_template *t), void *arg)
{
    return remove_if(c, match_older, &older_than_ns, cb, arg);
}
