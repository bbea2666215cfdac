/*
 * sflow_v5.c - sFlow version 5 datagrams (sFlow.org, "sFlow Version 5",
 * July 2004; XDR encoding, RFC 4506: every item a multiple of 4 bytes).
 *
 * Datagram (sFlow Version 5 §5 "sFlow Datagram Format", struct sample_datagram_v5): version(4) = 5, agent_address
 * (type(4): 1 IPv4, 2 IPv6; 4 or 16 bytes), sub_agent_id(4),
 * sequence_number(4, datagrams), uptime(4, ms), samples<>: count(4) and
 * sample_records {data_format(4) = enterprise(20 bits) << 12 | format(12),
 * length(4), body}.
 * Sample kinds (enterprise 0): 1 flow_sample, 2 counters_sample,
 * 3 flow_sample_expanded, 4 counters_sample_expanded (struct sample_record). Flow
 * records: 1 sampled_header, 2 sampled_ethernet, 3 sampled_ipv4,
 * 4 sampled_ipv6, 1001 extended_switch, 1002 extended_router,
 * 1003 extended_gateway (struct flow_record). Counter records: 1 if_counters,
 * 2 ethernet_counters (struct counter_record).
 *
 * Every sample and record is located by its declared length, never by what
 * its contents used: agents pad samples (Brocade) and leave gaps between
 * them. A record that claims more than its sample holds ends the sample; a
 * sample that claims more than the datagram holds ends the datagram. Unknown
 * kinds and enterprise formats are skipped by length and counted.
 */
#include "decode/decoder_int.h"
#include "decode/pkt_header.h"

/* Domain "version" tag for sFlow sub-agents in the exporter's domain table. */
#define SFLOW_DOMAIN 0x53

/* sFlow v5 §5, struct flow_sample "output" (interface type): the top 2 bits of a compact interface value. */
#define IF_FORMAT(v) ((v) >> 30)
#define IF_VALUE(v) ((v) & 0x3fffffffu)
/* RFC 7270 §4.12 forwardingStatus: status 2 (Dropped) in the top 2 bits. */
#define FORWARDING_DROPPED 0x80

typedef struct sflow_ctx {
    ft_decoder *d;
    ft_exporter *x;
    const ft_datagram *dg;
    ft_addr agent;
    uint32_t sub_agent;
    uint32_t sequence;
    const ft_flow_sink *sink;
    ft_err rc; /* the first fault met, returned by ft_sflow_v5_decode */
} sflow_ctx;

/* Interface counters that cannot be kept (per-agent or per-worker slot cap
 * reached, or out of memory): counted as a skipped record and logged at a
 * limited rate, never dropped silently. */
static void if_refused(sflow_ctx *c, uint32_t if_index)
{
    ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
    if (FT_LOG_WARN > ft_log_threshold)
        return;
    char addr[FT_ADDR_STRLEN];
    ft_addr_format(&c->agent, addr);
    ft_log_limited(&c->d->lim, ft_addr_hash(&c->agent) * 31 + 0x1f5, FT_LOG_WARN, c->d->name,
                   "agent %s: counters of ifIndex %u not kept: %u interfaces per agent or %u per "
                   "worker reached (records_skipped)",
                   addr, if_index, (unsigned)FT_MAX_INTERFACES, c->d->o.max_interfaces);
}

/* Counts a fault on the exporter (ft_fault) and keeps the first one for
 * the return value: decoder.h returns FT_OK or the first fault met, also
 * when the datagram goes on after it. */
static void sf_first(sflow_ctx *c, ft_err e)
{
    if (c->rc == FT_OK)
        c->rc = e;
}
#define SF_FAULT(c, e, ...) sf_first((c), ft_fault((c)->d, (c)->x, (e), __VA_ARGS__))

/* An XDR address (sFlow v5 §5 struct address): type 1 IPv4, 2 IPv6, 0
 * unknown (no bytes); all zeros when unknown or cut. Written straight into
 * *out: building it in a local and returning it by value made the copy
 * read 16 bytes just written by narrower stores, a store-forwarding stall
 * that was 7% of sFlow decoding in the profile. */
static void read_address(ft_rd *r, ft_addr *out)
{
    uint32_t type = ft_rd_u32(r);
    const uint8_t *b = NULL;
    if (type == 1)
        b = ft_rd_take(r, 4);
    else if (type == 2)
        b = ft_rd_take(r, 16);
    else if (type != 0)
        r->err = 1;
    if (!b)
        memset(out, 0, sizeof *out);
    else if (type == 1)
        *out = ft_addr_v4(b);
    else
        *out = ft_addr_v6(b);
}

/* Output interface of a flow sample (struct flow_sample "interface" and the expanded
 * format/value pair): 0 a single ifIndex, 1 the packet was discarded (value
 * = reason), 2 several interfaces (value = count, 0 unknown). Only a single
 * interface names an out_if; a discard also sets forwarding_status. */
static void set_output(ft_flow *f, uint32_t format, uint32_t value)
{
    if (format == 0) {
        f->out_if = value;
    } else {
        f->out_if = 0;
        if (format == 1)
            f->forwarding_status = FORWARDING_DROPPED;
    }
}

/* sampled_header (struct sampled_header, flow format 1): header_protocol, frame_length, stripped,
 * header<>. The header bytes go through the one L2-L4 parser. */
static int sampled_header(sflow_ctx *c, ft_rd *r, ft_flow *f)
{
    uint32_t proto = ft_rd_u32(r);
    uint32_t frame_length = ft_rd_u32(r);
    ft_rd_skip(r, 4); /* stripped */
    uint32_t hlen = ft_rd_u32(r);
    const uint8_t *h = ft_rd_take(r, hlen);
    if (!h)
        return -1;
    f->bytes = frame_length;
    ft_link link;
    switch (proto) {
    case 1: /* ETHERNET-ISO88023 */
        link = FT_LINK_ETHERNET;
        break;
    case 11: /* IPv4 */
        link = FT_LINK_IPV4;
        break;
    case 12: /* IPv6 */
        link = FT_LINK_IPV6;
        break;
    case 13: /* MPLS */
        link = FT_LINK_MPLS;
        break;
    default:
        ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
        return 0;
    }
    ft_pkt_info info;
    ft_pkt_parse(h, hlen, link, f, &info);
    return 0;
}

/* The flow records of one flow sample, then the record out. */
static void flow_records(sflow_ctx *c, ft_rd *s, ft_flow *f)
{
    uint32_t n = ft_rd_u32(s);
    for (uint32_t i = 0; i < n && !s->err; i++) {
        uint32_t fmt = ft_rd_u32(s);
        uint32_t len = ft_rd_u32(s);
        if (s->err) { /* no room left for another record header */
            SF_FAULT(c, FT_ERR_BAD_COUNT, "flow record count %u, the sample holds %u", n, i);
            break;
        }
        if (len > ft_rd_left(s)) {
            SF_FAULT(c, FT_ERR_BAD_SAMPLE,
                     "flow record %u of %u (format %u) claims %u bytes, sample has %zu", i + 1, n,
                     fmt, len, ft_rd_left(s));
            break;
        }
        ft_rd r = ft_rd_sub(s, len);
        if (fmt >> 12) {
            ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
            continue;
        }
        int rc = 0;
        switch (fmt) {
        case 1:
            rc = sampled_header(c, &r, f);
            break;
        case 2: { /* sampled_ethernet: length, src_mac<6>+2, dst_mac<6>+2, type */
            uint32_t length = ft_rd_u32(&r);
            const uint8_t *src = ft_rd_take(&r, 8), *dst = ft_rd_take(&r, 8);
            uint32_t type = ft_rd_u32(&r);
            if (r.err)
                break;
            if (!f->bytes)
                f->bytes = length;
            f->src_mac = ft_be_uint(src, 6);
            f->dst_mac = ft_be_uint(dst, 6);
            if (!f->etype)
                f->etype = type;
            break;
        }
        case 3: { /* sampled_ipv4: length, protocol, src, dst, ports, tcp_flags, tos */
            uint32_t length = ft_rd_u32(&r);
            uint32_t proto = ft_rd_u32(&r);
            const uint8_t *src = ft_rd_take(&r, 4), *dst = ft_rd_take(&r, 4);
            uint32_t sport = ft_rd_u32(&r), dport = ft_rd_u32(&r);
            uint32_t flags = ft_rd_u32(&r), tos = ft_rd_u32(&r);
            if (r.err)
                break;
            if (!f->bytes)
                f->bytes = length;
            f->proto = proto;
            f->src_addr = ft_addr_v4(src);
            f->dst_addr = ft_addr_v4(dst);
            f->src_port = sport;
            f->dst_port = dport;
            f->tcp_flags = flags;
            f->ip_tos = tos;
            f->etype = FT_ETYPE_IPV4;
            break;
        }
        case 4: { /* sampled_ipv6: length, protocol, src, dst, ports, tcp_flags, priority */
            uint32_t length = ft_rd_u32(&r);
            uint32_t proto = ft_rd_u32(&r);
            const uint8_t *src = ft_rd_take(&r, 16), *dst = ft_rd_take(&r, 16);
            uint32_t sport = ft_rd_u32(&r), dport = ft_rd_u32(&r);
            uint32_t flags = ft_rd_u32(&r), prio = ft_rd_u32(&r);
            if (r.err)
                break;
            if (!f->bytes)
                f->bytes = length;
            f->proto = proto;
            f->src_addr = ft_addr_v6(src);
            f->dst_addr = ft_addr_v6(dst);
            f->src_port = sport;
            f->dst_port = dport;
            f->tcp_flags = flags;
            f->ip_tos = prio;
            f->etype = FT_ETYPE_IPV6;
            break;
        }
        case 1001: { /* extended_switch: src_vlan, src_priority, dst_vlan, dst_priority */
            /* Only src_vlan/dst_vlan: vlan_id is the 802.1Q tag of the sampled
             * header (FIELDS.md, as goflow), which the record order must not
             * change; agents also send values no tag can hold (0xffffffff). */
            uint32_t src_vlan = ft_rd_u32(&r);
            ft_rd_skip(&r, 4);
            uint32_t dst_vlan = ft_rd_u32(&r);
            ft_rd_skip(&r, 4);
            if (r.err) /* cut: none of it is used */
                break;
            f->src_vlan = src_vlan;
            f->dst_vlan = dst_vlan;
            break;
        }
        case 1002: { /* extended_router: nexthop, src_mask_len, dst_mask_len */
            ft_addr nh;
            read_address(&r, &nh);
            uint32_t sm = ft_rd_u32(&r), dm = ft_rd_u32(&r);
            if (r.err)
                break;
            f->next_hop = nh;
            f->src_net = sm;
            f->dst_net = dm;
            break;
        }
        case 1003: { /* extended_gateway: nexthop, as, src_as, src_peer_as,
                        dst_as_path<>, communities<>, localpref */
            ft_addr nh;
            read_address(&r, &nh);
            uint32_t as = ft_rd_u32(&r), src_as = ft_rd_u32(&r);
            ft_rd_skip(&r, 4); /* src_peer_as */
            uint32_t segs = ft_rd_u32(&r);
            uint32_t path[FT_AS_PATH_MAX], plen = 0, first = 0, last = 0;
            bool any = false;
            for (uint32_t g = 0; g < segs && !r.err; g++) {
                ft_rd_skip(&r, 4); /* type: AS_SET or AS_SEQUENCE */
                uint32_t cnt = ft_rd_u32(&r);
                /* An absurd count cannot loop long: it must fit the record. */
                if (cnt > ft_rd_left(&r) / 4) {
                    r.err = 1;
                    break;
                }
                for (uint32_t k = 0; k < cnt; k++) {
                    uint32_t a = ft_rd_u32(&r);
                    if (!any)
                        first = a;
                    any = true;
                    last = a;
                    if (plen < FT_AS_PATH_MAX - 1)
                        path[plen++] = a;
                    else
                        path[FT_AS_PATH_MAX - 1] = a, plen = FT_AS_PATH_MAX;
                }
            }
            /* communities<> and localpref are not kept, but read: a count or
             * a record length that disagrees with them is a malformed record. */
            uint32_t ncomm = ft_rd_u32(&r);
            if (ncomm > ft_rd_left(&r) / 4)
                r.err = 1;
            else
                ft_rd_skip(&r, (size_t)ncomm * 4);
            ft_rd_skip(&r, 4); /* localpref */
            if (r.err) /* counted once, below */
                break;
            /* The BGP next hop; the IP one comes from extended_router. */
            f->bgp_next_hop = nh;
            if (!f->next_hop.family)
                f->next_hop = nh;
            f->src_as = src_as ? src_as : as;
            /* An empty path: the destination is in the router's own AS. */
            f->dst_as = any ? last : as;
            if (any)
                f->next_hop_as = first;
            memcpy(f->as_path, path, plen * sizeof path[0]);
            f->as_path_len = plen;
            break;
        }
        default:
            ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
            break;
        }
        if (rc != 0 || r.err)
            SF_FAULT(c, FT_ERR_BAD_SAMPLE, "flow record format %u shorter than its contents", fmt);
    }
    if (!f->etype) {
        int fam = f->src_addr.family;
        f->etype = fam == 4 ? FT_ETYPE_IPV4 : fam == 6 ? FT_ETYPE_IPV6 : 0;
    }
    ft_ctr_add(&c->x->ctr[FT_CTR_flow_samples], 1);
    ft_ctr_add(&c->x->ctr[FT_CTR_records], 1);
    if (c->sink)
        c->sink->emit(c->sink->ctx, f);
}

/* flow_sample (sFlow v5 §5, compact) and flow_sample_expanded. */
static void flow_sample(sflow_ctx *c, ft_rd *s, bool expanded)
{
    ft_flow f;
    ft_flow_zero(&f);
    ft_rd_skip(s, 4); /* sample sequence_number */
    ft_rd_skip(s, expanded ? 8 : 4); /* source_id */
    uint32_t rate = ft_rd_u32(s);
    ft_rd_skip(s, 8); /* sample_pool, drops */
    if (expanded) {
        uint32_t in_fmt = ft_rd_u32(s), in_val = ft_rd_u32(s);
        uint32_t out_fmt = ft_rd_u32(s), out_val = ft_rd_u32(s);
        f.in_if = in_fmt == 0 ? in_val : 0;
        set_output(&f, out_fmt, out_val);
    } else {
        uint32_t in = ft_rd_u32(s), out = ft_rd_u32(s);
        f.in_if = IF_FORMAT(in) == 0 ? IF_VALUE(in) : 0;
        set_output(&f, IF_FORMAT(out), IF_VALUE(out));
    }
    if (s->err) {
        SF_FAULT(c, FT_ERR_BAD_SAMPLE, "flow sample shorter than its header");
        return;
    }
    f.type = FT_FLOW_SFLOW_5;
    f.time_received_ns = c->dg->time_received_ns;
    f.time_flow_start_ns = f.time_flow_end_ns = c->dg->time_received_ns;
    f.sequence_num = c->sequence;
    f.sampler_address = c->agent;
    f.observation_domain_id = c->sub_agent;
    f.packets = 1;
    if (c->x->override_rate) {
        f.sampling_rate = c->x->override_rate;
    } else if (rate) {
        f.sampling_rate = rate;
        c->x->default_rate = rate;
    } else {
        f.sampling_rate = 1;
        ft_ctr_add(&c->x->ctr[FT_CTR_sampling_unknown], 1);
    }
    flow_records(c, s, &f);
}

/* counters_sample (sFlow v5 §5) and counters_sample_expanded: the generic
 * interface and Ethernet counter records are kept per ifIndex. */
static void counters_sample(sflow_ctx *c, ft_rd *s, bool expanded)
{
    ft_rd_skip(s, 4); /* sequence_number */
    /* source_id: sflow_data_source (type << 24 | 24-bit index) or the
     * expanded (type, index) pair; type 0 = ifIndex. ethernet_counters has
     * no ifIndex of its own: it belongs to this data source. */
    uint32_t src_type, src_index;
    if (expanded) {
        src_type = ft_rd_u32(s);
        src_index = ft_rd_u32(s);
    } else {
        uint32_t v = ft_rd_u32(s);
        src_type = v >> 24;
        src_index = v & 0xffffffu;
    }
    uint32_t n = ft_rd_u32(s);
    if (s->err) { /* not decoded: not counted as a counter sample */
        SF_FAULT(c, FT_ERR_BAD_SAMPLE, "counters sample shorter than its header");
        return;
    }
    for (uint32_t i = 0; i < n && !s->err; i++) {
        uint32_t fmt = ft_rd_u32(s);
        uint32_t len = ft_rd_u32(s);
        if (s->err) { /* no room left for another record header */
            SF_FAULT(c, FT_ERR_BAD_COUNT, "counter record count %u, the sample holds %u", n, i);
            break;
        }
        if (len > ft_rd_left(s)) {
            SF_FAULT(c, FT_ERR_BAD_SAMPLE,
                     "counter record %u of %u (format %u) claims %u bytes, sample has %zu", i + 1, n,
                     fmt, len, ft_rd_left(s));
            break;
        }
        ft_rd r = ft_rd_sub(s, len);
        if (fmt == 1) {
            /* if_counters: ifIndex, ifType, ifSpeed(8), ifDirection,
             * ifStatus, ifInOctets(8), ifInUcastPkts, ifInMulticastPkts,
             * ifInBroadcastPkts, ifInDiscards, ifInErrors,
             * ifInUnknownProtos, ifOutOctets(8), ifOutUcastPkts,
             * ifOutMulticastPkts, ifOutBroadcastPkts, ifOutDiscards,
             * ifOutErrors, ifPromiscuousMode. */
            ft_if_counters v;
            memset(&v, 0, sizeof v);
            v.if_index = ft_rd_u32(&r);
            v.if_type = ft_rd_u32(&r);
            v.if_speed = ft_rd_u64(&r);
            v.if_direction = ft_rd_u32(&r);
            v.if_status = ft_rd_u32(&r);
            v.in_octets = ft_rd_u64(&r);
            v.in_packets = (uint64_t)ft_rd_u32(&r) + ft_rd_u32(&r) + ft_rd_u32(&r);
            v.in_discards = ft_rd_u32(&r);
            v.in_errors = ft_rd_u32(&r);
            ft_rd_skip(&r, 4);
            v.out_octets = ft_rd_u64(&r);
            v.out_packets = (uint64_t)ft_rd_u32(&r) + ft_rd_u32(&r) + ft_rd_u32(&r);
            v.out_discards = ft_rd_u32(&r);
            v.out_errors = ft_rd_u32(&r);
            ft_rd_skip(&r, 4); /* ifPromiscuousMode: read so a cut record is seen */
            if (r.err) {
                SF_FAULT(c, FT_ERR_BAD_SAMPLE, "if_counters record of %u bytes", len);
                continue;
            }
            ft_if_counters *slot = ft_exporter_interface(c->x, v.if_index, &c->d->n_interfaces, c->d->o.max_interfaces);
            if (!slot) {
                if_refused(c, v.if_index);
                continue;
            }
            v.agent = c->agent;
            v.updated_ns = c->dg->time_received_ns;
            /* An ethernet_counters record may come first: keep it. */
            v.has_ethernet = slot->has_ethernet;
            v.eth = slot->eth;
            *slot = v;
        } else if (fmt == 2) {
            /* ethernet_counters: the 13 dot3Stats counters (RFC 3635), in order. */
            ft_eth_counters e;
            e.alignment_errors = ft_rd_u32(&r);
            e.fcs_errors = ft_rd_u32(&r);
            e.single_collision_frames = ft_rd_u32(&r);
            e.multiple_collision_frames = ft_rd_u32(&r);
            e.sqe_test_errors = ft_rd_u32(&r);
            e.deferred_transmissions = ft_rd_u32(&r);
            e.late_collisions = ft_rd_u32(&r);
            e.excessive_collisions = ft_rd_u32(&r);
            e.internal_mac_transmit_errors = ft_rd_u32(&r);
            e.carrier_sense_errors = ft_rd_u32(&r);
            e.frame_too_longs = ft_rd_u32(&r);
            e.internal_mac_receive_errors = ft_rd_u32(&r);
            e.symbol_errors = ft_rd_u32(&r);
            if (r.err) {
                SF_FAULT(c, FT_ERR_BAD_SAMPLE, "ethernet_counters record of %u bytes", len);
                continue;
            }
            ft_if_counters *slot = src_type == 0 ? ft_exporter_interface(c->x, src_index, &c->d->n_interfaces,
                                                                      c->d->o.max_interfaces) : NULL;
            if (!slot) { /* not an interface's sample, or past the cap */
                if (src_type == 0)
                    if_refused(c, src_index);
                else
                    ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
                continue;
            }
            slot->eth = e;
            slot->has_ethernet = true;
            slot->updated_ns = c->dg->time_received_ns;
        } else {
            /* processor (1001), VLAN (5)...: not kept. */
            ft_ctr_add(&c->x->ctr[FT_CTR_records_skipped], 1);
        }
    }
    /* Decoded, like a flow sample whose record walk faulted: the records
     * before the fault are kept. */
    ft_ctr_add(&c->x->ctr[FT_CTR_counter_samples], 1);
}

ft_err ft_sflow_v5_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                          const ft_flow_sink *sink)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    sflow_ctx c = {d, x, dg, {{0}, 0}, 0, 0, sink, FT_OK};
    ft_rd_skip(&r, 4); /* version */
    read_address(&r, &c.agent);
    c.sub_agent = ft_rd_u32(&r);
    c.sequence = ft_rd_u32(&r);
    ft_rd_skip(&r, 4); /* uptime */
    uint32_t n = ft_rd_u32(&r);
    if (r.err || !c.agent.family)
        return ft_fault(d, x, FT_ERR_TRUNCATED, "sFlow v5 header (%zu bytes)", dg->len);

    ft_domain *dom = ft_exporter_domain(x, SFLOW_DOMAIN, c.sub_agent, dg->time_received_ns);
    /* sample_datagram_v5: sequence_number counts datagrams of this sub-agent. */
    ft_domain_sequence(x, dom, c.sequence, 1, true, 0, FT_BOOT_UNKNOWN, 0, FT_CTR_lost_packets);

    for (uint32_t i = 0; i < n; i++) {
        uint32_t fmt = ft_rd_u32(&r);
        uint32_t len = ft_rd_u32(&r);
        if (r.err) { /* no room left for another sample header */
            SF_FAULT(&c, FT_ERR_BAD_COUNT, "sample count %u, the datagram holds %u", n, i);
            break;
        }
        if (len > ft_rd_left(&r)) {
            SF_FAULT(&c, FT_ERR_BAD_SAMPLE, "sample %u of %u claims %u bytes, %zu left", i + 1, n,
                     len, ft_rd_left(&r));
            break;
        }
        ft_rd s = ft_rd_sub(&r, len);
        if (fmt >> 12) {
            ft_ctr_add(&x->ctr[FT_CTR_samples_skipped], 1);
            continue;
        }
        switch (fmt) {
        case 1:
        case 3:
            flow_sample(&c, &s, fmt == 3);
            break;
        case 2:
        case 4:
            counters_sample(&c, &s, fmt == 4);
            break;
        default:
            ft_ctr_add(&x->ctr[FT_CTR_samples_skipped], 1);
            break;
        }
    }
    return c.rc;
}
