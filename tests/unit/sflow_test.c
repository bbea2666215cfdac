/*
 * sflow_test.c - sFlow v5 decoding against hand-written byte vectors.
 *
 * Oracle: sFlow.org "sFlow Version 5" §5 (the XDR structures listed in
 * sflow_vec.h) and the frames spelt out there (IEEE 802.3/802.1Q, RFC 791,
 * RFC 8200, RFC 9293, RFC 768, RFC 4443). Where the specification leaves a
 * mapping open, the ft_flow field follows goflow2's FlowMessage for sFlow
 * (producer_sf.go): bytes = frame_length, packets = 1, sequence_num = the
 * datagram's sequence_number, sampler_address = agent_address, dst_as = the
 * last AS of dst_as_path (the router's own `as` when the path is empty),
 * next_hop_as = the first, src_as = src_as (the router's `as` when 0), and
 * bgp_next_hop from extended_gateway, next_hop from extended_router. Times:
 * sFlow carries no flow times, so start = end = time received (FIELDS.md).
 * Interface format bits (§5 "interface"): 0 ifIndex, 1 discarded (reason in
 * the value; forwardingStatus 0x80 = "dropped", RFC 7270 §4.12), 2 several
 * output interfaces (out_if 0).
 */
#include "decode/exporter.h"
#include "test.h"
#include "vec.h"
#include "sflow_vec.h"

/* Counters of the exporter named by its agent address. */
static ft_exporter_stats sf_stats(fx *x, const char *agent)
{
    ft_exporter_stats st;
    ft_addr a = vec_addr(agent);
    if (!vec_stats_of(x->d, &a, &st))
        FT_FAIL("no exporter %s", agent);
    return st;
}

static bool has_exporter(fx *x, const char *addr)
{
    ft_exporter_stats st;
    ft_addr a = vec_addr(addr);
    return vec_stats_of(x->d, &a, &st);
}

/* Interfaces reported by ft_decoder_foreach_interface. */
typedef struct ifs {
    ft_if_counters c[16];
    size_t n, total;
} ifs;
static void ifs_cb(void *arg, const ft_if_counters *c)
{
    ifs *l = arg;
    if (l->n < 16)
        l->c[l->n++] = *c;
    l->total++;
}
static const ft_if_counters *if_of(const ifs *l, const char *agent, uint32_t idx)
{
    ft_addr a = vec_addr(agent);
    for (size_t i = 0; i < l->n; i++)
        if (l->c[i].if_index == idx && ft_addr_eq(&l->c[i].agent, &a))
            return &l->c[i];
    return NULL;
}

/* What every sFlow flow record carries from its datagram and sample. */
static void common(const ft_flow *f, const char *agent, uint32_t seq, uint32_t sub, uint64_t rate, uint64_t t)
{
    ASSERT_EQ(f->type, FT_FLOW_SFLOW_5);
    ASSERT_TRUE(vec_addr_is(&f->sampler_address, agent));
    ASSERT_EQ(f->sequence_num, seq);
    ASSERT_EQ(f->observation_domain_id, sub);
    ASSERT_EQ(f->sampling_rate, rate);
    ASSERT_EQ(f->packets, 1);
    ASSERT_EQ(f->time_received_ns, t);
    ASSERT_EQ(f->time_flow_start_ns, t);
    ASSERT_EQ(f->time_flow_end_ns, t);
    ASSERT_EQ(f->flow_direction, 0);
    ASSERT_TRUE(!f->has_mpls);
    ASSERT_TRUE(!f->has_encap);
}

/* Two compact flow samples from an IPv4 agent: sampled_header (Ethernet),
 * extended_switch, extended_router, extended_gateway; then a raw IPv4
 * header with a discarded output. */
static void t_sf_v4_flow(void)
{
    fx *x = fx_new(NULL);
    ASSERT_TRUE(x->d != NULL);
    scn *s = fx_scn(x, scn_sflow_v4_flow);
    ASSERT_EQ(s->pkt[0].n, 364);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK); /* sent from 192.0.2.1, agent 192.0.2.50 */
    ASSERT_EQ(x->c.n, 2);

    const ft_flow *f = &x->c.f[0];
    common(f, "192.0.2.50", 1000, 7, 2048, VEC_T_RECV_NS);
    ASSERT_EQ(f->bytes, 1518);    /* frame_length */
    ASSERT_EQ(f->in_if, 3);       /* input, format 0 */
    ASSERT_EQ(f->out_if, 7);      /* output, format 0 */
    ASSERT_EQ(f->forwarding_status, 0);
    /* frame A */
    ASSERT_EQ(f->dst_mac, 0x001b213c4d5eull);
    ASSERT_EQ(f->src_mac, 0x002590abcdefull);
    ASSERT_EQ(f->etype, 0x0800);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.20"));
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->ip_tos, 0xb8);
    ASSERT_EQ(f->ip_ttl, 64);
    ASSERT_EQ(f->ip_flags, 2); /* DF */
    ASSERT_EQ(f->fragment_id, 0x1a2b);
    ASSERT_EQ(f->fragment_offset, 0);
    ASSERT_EQ(f->src_port, 443);
    ASSERT_EQ(f->dst_port, 51000);
    ASSERT_EQ(f->tcp_flags, 0x18);
    /* extended_switch */
    ASSERT_EQ(f->src_vlan, 10);
    ASSERT_EQ(f->dst_vlan, 20);
    /* extended_router */
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.254"));
    ASSERT_EQ(f->src_net, 24);
    ASSERT_EQ(f->dst_net, 16);
    /* extended_gateway: path {64499 64500} {64511} */
    ASSERT_TRUE(vec_addr_is(&f->bgp_next_hop, "192.0.2.253"));
    ASSERT_EQ(f->src_as, 64497);
    ASSERT_EQ(f->dst_as, 64511);      /* last AS of the path */
    ASSERT_EQ(f->next_hop_as, 64499); /* first AS of the path */
    ASSERT_EQ(f->as_path_len, 3);
    ASSERT_EQ(f->as_path[0], 64499);
    ASSERT_EQ(f->as_path[1], 64500);
    ASSERT_EQ(f->as_path[2], 64511);

    f = &x->c.f[1];
    common(f, "192.0.2.50", 1000, 7, 2048, VEC_T_RECV_NS);
    ASSERT_EQ(f->bytes, 100);
    ASSERT_EQ(f->in_if, 4);
    ASSERT_EQ(f->out_if, 0);               /* format 1: no output interface */
    ASSERT_EQ(f->forwarding_status, 0x80); /* dropped */
    ASSERT_EQ(f->etype, 0x0800);           /* header_protocol 11: no MACs */
    ASSERT_EQ(f->src_mac, 0);
    ASSERT_EQ(f->dst_mac, 0);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.21"));
    ASSERT_EQ(f->proto, 17);
    ASSERT_EQ(f->ip_tos, 0);
    ASSERT_EQ(f->ip_ttl, 63);
    ASSERT_EQ(f->ip_flags, 0);
    ASSERT_EQ(f->fragment_id, 0x0102);
    ASSERT_EQ(f->src_port, 53);
    ASSERT_EQ(f->dst_port, 33000);
    ASSERT_EQ(f->tcp_flags, 0);
    ASSERT_EQ(f->src_vlan, 0); /* nothing from the first sample leaks */
    ASSERT_EQ(f->next_hop.family, 0);
    ASSERT_EQ(f->src_as, 0);
    ASSERT_EQ(f->as_path_len, 0);

    /* The exporter is the agent, not the datagram's source (§5
     * sample_datagram_v5.agent_address). */
    ASSERT_TRUE(!has_exporter(x, "192.0.2.1"));
    ft_exporter_stats st = sf_stats(x, "192.0.2.50");
    ASSERT_TRUE(st.protocols & FT_PROTO_SFLOW_5);
    ASSERT_EQ(st.last_seen_ns, VEC_T_RECV_NS);
    ASSERT_EQ(st.sampling_rate, 2048);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_octets], 364);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_flow_samples], 2);
    ASSERT_EQ(st.ctr[FT_CTR_counter_samples], 0);
    ASSERT_EQ(st.ctr[FT_CTR_samples_skipped], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records_skipped], 0);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Expanded flow samples from an IPv6 agent: 32-bit ifIndex values, the
 * multiple-interfaces and discarded output formats, IPv6 next hops, an
 * empty AS path, sampled_ipv6. */
static void t_sf_v6_expanded(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_v6_expanded);
    ASSERT_EQ(s->pkt[0].n, 388);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);

    const ft_flow *f = &x->c.f[0];
    common(f, "2001:db8::50", 77, 0, 4096, VEC_T_RECV_NS);
    ASSERT_EQ(f->in_if, 1000100); /* above the compact 30 bits' reach */
    ASSERT_EQ(f->out_if, 0);      /* format 2: 5 interfaces */
    ASSERT_EQ(f->forwarding_status, 0);
    ASSERT_EQ(f->bytes, 70);
    /* frame C */
    ASSERT_EQ(f->dst_mac, 0x020000000002ull);
    ASSERT_EQ(f->src_mac, 0x020000000001ull);
    ASSERT_EQ(f->vlan_id, 100);
    ASSERT_EQ(f->etype, 0x86dd);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "2001:db8::1"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "2001:db8::2"));
    ASSERT_EQ(f->proto, 58);
    ASSERT_EQ(f->ip_tos, 0xb8);
    ASSERT_EQ(f->ip_ttl, 64);
    ASSERT_EQ(f->ipv6_flow_label, 0x12345);
    ASSERT_EQ(f->icmp_type, 128);
    ASSERT_EQ(f->icmp_code, 0);
    ASSERT_EQ(f->src_port, 0);
    ASSERT_EQ(f->dst_port, 0);
    /* extended_router, IPv6 */
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "2001:db8::fe"));
    ASSERT_EQ(f->src_net, 48);
    ASSERT_EQ(f->dst_net, 64);
    /* extended_gateway: empty path, src_as 0 */
    ASSERT_TRUE(vec_addr_is(&f->bgp_next_hop, "2001:db8::fd"));
    ASSERT_EQ(f->dst_as, 65000);
    ASSERT_EQ(f->src_as, 65000);
    ASSERT_EQ(f->next_hop_as, 0);
    ASSERT_EQ(f->as_path_len, 0);

    f = &x->c.f[1];
    common(f, "2001:db8::50", 77, 0, 4096, VEC_T_RECV_NS);
    ASSERT_EQ(f->in_if, 0xffffffffu); /* the device itself (expanded encoding) */
    ASSERT_EQ(f->out_if, 0);
    ASSERT_EQ(f->forwarding_status, 0x80);
    /* sampled_ipv6 */
    ASSERT_EQ(f->bytes, 1280);
    ASSERT_EQ(f->etype, 0x86dd);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "2001:db8:a::1"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "2001:db8:b::2"));
    ASSERT_EQ(f->proto, 17);
    ASSERT_EQ(f->src_port, 5353);
    ASSERT_EQ(f->dst_port, 53);
    ASSERT_EQ(f->tcp_flags, 0);
    ASSERT_EQ(f->ip_tos, 0xb8);
    ASSERT_EQ(f->next_hop.family, 0);
    ASSERT_EQ(f->bgp_next_hop.family, 0);

    ft_exporter_stats st = sf_stats(x, "2001:db8::50");
    ASSERT_EQ(st.ctr[FT_CTR_octets], 388);
    ASSERT_EQ(st.ctr[FT_CTR_flow_samples], 2);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* sampled_ethernet + sampled_ipv4 instead of a header. */
static void t_sf_sampled_records(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_sampled_records);
    ASSERT_EQ(s->pkt[0].n, 140);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    const ft_flow *f = &x->c.f[0];
    common(f, "192.0.2.51", 5, 0, 512, VEC_T_RECV_NS);
    ASSERT_EQ(f->in_if, 1);
    ASSERT_EQ(f->out_if, 2);
    /* sampled_ethernet: its length is the MAC packet's, like frame_length */
    ASSERT_EQ(f->bytes, 1522);
    ASSERT_EQ(f->src_mac, 0x002590000001ull);
    ASSERT_EQ(f->dst_mac, 0x001b21000002ull);
    ASSERT_EQ(f->etype, 0x0800);
    /* sampled_ipv4 */
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.30"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.40"));
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->src_port, 22);
    ASSERT_EQ(f->dst_port, 60000);
    ASSERT_EQ(f->tcp_flags, 0x10);
    ASSERT_EQ(f->ip_tos, 0x10);
    ft_exporter_stats st = sf_stats(x, "192.0.2.51");
    ASSERT_EQ(st.ctr[FT_CTR_flow_samples], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records_skipped], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

static void assert_ifc(const ft_if_counters *c, const sf_ifc *w, const char *agent, uint64_t t)
{
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(vec_addr_is(&c->agent, agent));
    ASSERT_EQ(c->if_index, w->index);
    ASSERT_EQ(c->if_type, w->type);
    ASSERT_EQ(c->if_speed, w->speed);
    ASSERT_EQ(c->if_direction, w->direction);
    ASSERT_EQ(c->if_status, w->status);
    ASSERT_EQ(c->in_octets, w->in_octets);
    ASSERT_EQ(c->out_octets, w->out_octets);
    ASSERT_EQ(c->in_packets, (uint64_t)w->in_ucast + w->in_mcast + w->in_bcast);
    ASSERT_EQ(c->out_packets, (uint64_t)w->out_ucast + w->out_mcast + w->out_bcast);
    ASSERT_EQ(c->in_errors, w->in_errors);
    ASSERT_EQ(c->out_errors, w->out_errors);
    ASSERT_EQ(c->in_discards, w->in_discards);
    ASSERT_EQ(c->out_discards, w->out_discards);
    ASSERT_EQ(c->updated_ns, t);
}

/* The 13 dot3Stats counters of sf_rec_ethernet_counters(base). */
static void assert_eth(const ft_if_counters *c, uint32_t base)
{
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(c->has_ethernet);
    const ft_eth_counters *e = &c->eth;
    ASSERT_EQ(e->alignment_errors, base + 0);
    ASSERT_EQ(e->fcs_errors, base + 1);
    ASSERT_EQ(e->single_collision_frames, base + 2);
    ASSERT_EQ(e->multiple_collision_frames, base + 3);
    ASSERT_EQ(e->sqe_test_errors, base + 4);
    ASSERT_EQ(e->deferred_transmissions, base + 5);
    ASSERT_EQ(e->late_collisions, base + 6);
    ASSERT_EQ(e->excessive_collisions, base + 7);
    ASSERT_EQ(e->internal_mac_transmit_errors, base + 8);
    ASSERT_EQ(e->carrier_sense_errors, base + 9);
    ASSERT_EQ(e->frame_too_longs, base + 10);
    ASSERT_EQ(e->internal_mac_receive_errors, base + 11);
    ASSERT_EQ(e->symbol_errors, base + 12);
}

/* if_counters and ethernet_counters kept per (agent, ifIndex), compact and
 * expanded counter samples; the latest values win and the two records of
 * one interface do not clobber each other whatever their order. */
static void t_sf_counters(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_counters);
    ASSERT_EQ(s->pkt[0].n, 324);
    ASSERT_EQ(s->pkt[1].n, 204);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 0); /* counter samples make no flow records */

    ifs lst, *l = &lst; /* on the stack: a failed assert longjmps out */
    memset(l, 0, sizeof *l);
    ft_decoder_foreach_interface(x->d, ifs_cb, l);
    ASSERT_EQ(l->total, 2);
    sf_ifc w3 = sf_ifc3(0), wx = sf_ifc1000005();
    const ft_if_counters *c = if_of(l, "192.0.2.52", 3);
    assert_ifc(c, &w3, "192.0.2.52", VEC_T_RECV_NS);
    assert_eth(c, 11);
    c = if_of(l, "192.0.2.52", 1000005);
    assert_ifc(c, &wx, "192.0.2.52", VEC_T_RECV_NS);
    ASSERT_TRUE(!c->has_ethernet);

    ft_exporter_stats st = sf_stats(x, "192.0.2.52");
    ASSERT_EQ(st.ctr[FT_CTR_counter_samples], 2);
    ASSERT_EQ(st.ctr[FT_CTR_flow_samples], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records_skipped], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);

    /* 30 s later: Ethernet record first, then if_counters */
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    memset(l, 0, sizeof *l);
    ft_decoder_foreach_interface(x->d, ifs_cb, l);
    ASSERT_EQ(l->total, 2);
    w3 = sf_ifc3(1);
    c = if_of(l, "192.0.2.52", 3);
    assert_ifc(c, &w3, "192.0.2.52", VEC_T_RECV_NS + VEC_S2NS(30));
    ASSERT_EQ(c->in_octets, 0x0000001234567890ull + 1000000);
    assert_eth(c, 111);
    c = if_of(l, "192.0.2.52", 1000005);
    assert_ifc(c, &wx, "192.0.2.52", VEC_T_RECV_NS); /* untouched */
    st = sf_stats(x, "192.0.2.52");
    ASSERT_EQ(st.ctr[FT_CTR_counter_samples], 3);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Unknown sample kinds, enterprise samples, unknown and enterprise records,
 * a counter record we do not keep, a header protocol we do not parse and
 * padding inside a sample: all skipped by their length and counted. */
static void t_sf_skip(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_skip);
    ASSERT_EQ(s->pkt[0].n, 512);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    const ft_flow *f = &x->c.f[0]; /* frame B after two skipped records */
    common(f, "192.0.2.53", 1, 0, 100, VEC_T_RECV_NS);
    ASSERT_EQ(f->in_if, 2);
    ASSERT_EQ(f->out_if, 3);
    ASSERT_EQ(f->bytes, 100);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.21"));
    ASSERT_EQ(f->src_port, 53);
    ASSERT_EQ(f->dst_port, 33000);
    f = &x->c.f[1]; /* header_protocol 5: frame_length only */
    common(f, "192.0.2.53", 1, 0, 100, VEC_T_RECV_NS);
    ASSERT_EQ(f->bytes, 200);
    ASSERT_EQ(f->src_addr.family, 0);
    ASSERT_EQ(f->etype, 0);
    ASSERT_EQ(f->proto, 0);

    ifs l;
    memset(&l, 0, sizeof l);
    ft_decoder_foreach_interface(x->d, ifs_cb, &l);
    ASSERT_EQ(l.total, 1); /* not 77: that record was enterprise 4413's */
    ASSERT_EQ(l.c[0].if_index, 9);
    ASSERT_EQ(l.c[0].in_octets, 900);
    ASSERT_EQ(l.c[0].out_packets, 19);

    ft_exporter_stats st = sf_stats(x, "192.0.2.53");
    ASSERT_EQ(st.ctr[FT_CTR_samples_skipped], 2); /* (0,5) and (4413,1) */
    /* (0,2000), (8800,7), processor, (4413,1), header_protocol 5 */
    ASSERT_EQ(st.ctr[FT_CTR_records_skipped], 5);
    ASSERT_EQ(st.ctr[FT_CTR_flow_samples], 2);
    ASSERT_EQ(st.ctr[FT_CTR_counter_samples], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* §5 sample_datagram_v5.sequence_number counts datagrams per sub-agent:
 * 10, 11, 14 from sub-agent 1 lose 2; sub-agent 2's 500 is its own
 * sequence. sampling_rate 0 is unknown: rate 1, counted. */
static void t_sf_sequence(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_seq);
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(s->pkt[i].n, 120);
        ASSERT_EQ(fx_pkt(x, i), FT_OK);
    }
    ASSERT_EQ(x->c.n, 4);
    static const uint32_t seq[4] = {10, 500, 11, 14}, sub[4] = {1, 2, 1, 1};
    for (int i = 0; i < 4; i++) {
        common(&x->c.f[i], "192.0.2.54", seq[i], sub[i], i == 1 ? 1 : 1000, VEC_T_RECV_NS + VEC_S2NS(i));
        ASSERT_EQ(x->c.f[i].in_if, 5);
        ASSERT_EQ(x->c.f[i].out_if, 6);
    }
    ft_exporter_stats st = sf_stats(x, "192.0.2.54");
    ASSERT_EQ(st.ctr[FT_CTR_packets], 4);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 2);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 1);
    ASSERT_EQ(st.sampling_rate, 1000);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* 20 ASes: the first FT_AS_PATH_MAX - 1 (15) and the last are kept;
 * dst_as and next_hop_as still come from the whole path. */
static void t_sf_as_path_long(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_sflow_as_path_long);
    ASSERT_EQ(s->pkt[0].n, 212);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->as_path_len, FT_AS_PATH_MAX);
    static const uint32_t want[16] = {65001, 65002, 65003, 65004, 65005, 65006, 65007, 65008,
                                      65009, 65010, 65101, 65102, 65201, 65202, 65203, 65208};
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(f->as_path[i], want[i]);
    ASSERT_EQ(f->dst_as, 65208);
    ASSERT_EQ(f->next_hop_as, 65001);
    ASSERT_EQ(f->src_as, 64497);
    ASSERT_TRUE(vec_addr_is(&f->bgp_next_hop, "192.0.2.1"));
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.1")); /* no extended_router: the BGP one */
    ft_exporter_stats st = sf_stats(x, "192.0.2.55");
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* --sampling-rate PREFIX=N applies to the agent address (the exporter),
 * not to the datagram's source, and wins over the sample's rate. */
static void t_sf_override(void)
{
    ft_sampling_override ov[1];
    ASSERT_EQ(ft_cidr_parse("192.0.2.48/28", &ov[0].prefix), 0);
    ov[0].rate = 100;
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.overrides = ov;
    o.n_overrides = 1;
    fx *x = fx_new(&o);
    fx_scn(x, scn_sflow_v4_flow); /* agent 192.0.2.50, sent from 192.0.2.1 */
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_EQ(x->c.f[0].sampling_rate, 100);
    ASSERT_EQ(x->c.f[1].sampling_rate, 100);
    ft_exporter_stats st = sf_stats(x, "192.0.2.50");
    ASSERT_EQ(st.sampling_rate, 100);
}

/* Counter samples for 5000 distinct ifIndex values from one agent: memory
 * stays bounded at FT_MAX_INTERFACES slots, the rest are counted. */
static void t_sf_interface_cap(void)
{
    fx *x = fx_new(NULL);
    vec *v = malloc(sizeof *v);
    ASSERT_TRUE(v != NULL);
    uint32_t next = 1, seq = 1;
    while (next <= 5000) {
        uint32_t k = 5001 - next < 16 ? 5001 - next : 16;
        memset(v, 0, sizeof *v);
        v_begin(v, 28 + 116 * (size_t)k);
        sf_header4(v, 192, 0, 2, 56, 0, seq++, 1000, k);
        for (uint32_t i = 0; i < k; i++, next++) {
            sf_ifc c = {next, 6, 1000000000ull, 1, 3, next, 1, 0, 0, 0, 0, 0, next, 1, 0, 0, 0, 0, 0};
            v_begin(v, 116);
            v_u32(v, SF_FMT(0, 2)), v_u32(v, 108); /* 12 + 96 */
            v_u32(v, next), v_u32(v, next), v_u32(v, 1);
            sf_rec_if_counters(v, &c);
            v_end(v);
        }
        v_end(v);
        ft_err e = fx_vec(x, v, VEC_T_RECV_NS);
        if (e != FT_OK) {
            free(v);
            ASSERT_EQ(e, FT_OK);
        }
    }
    free(v);
    ifs l;
    memset(&l, 0, sizeof l);
    ft_decoder_foreach_interface(x->d, ifs_cb, &l);
    ASSERT_EQ(l.total, FT_MAX_INTERFACES);
    ft_exporter_stats st = sf_stats(x, "192.0.2.56");
    ASSERT_EQ(st.ctr[FT_CTR_counter_samples], 5000);
    ASSERT_EQ(st.ctr[FT_CTR_records_skipped], 5000 - FT_MAX_INTERFACES);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* The interface budget is per decoder, not only per agent: three agents of
 * 10 ifIndex values each against max_interfaces 25 keep 25 slots (the first
 * two agents whole, 5 of the third), and the 5 refused counter records are
 * counted on the third agent. */
static void t_sf_interface_budget(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.max_interfaces = 25;
    fx *x = fx_new(&o);
    vec *v = malloc(sizeof *v);
    ASSERT_TRUE(v != NULL);
    for (int a = 0; a < 3; a++) {
        memset(v, 0, sizeof *v);
        v_begin(v, 28 + 116 * 10);
        sf_header4(v, 192, 0, 2, 60 + a, 0, 1, 1000, 10);
        for (uint32_t i = 1; i <= 10; i++) {
            sf_ifc c = {i, 6, 1000000000ull, 1, 3, i, 1, 0, 0, 0, 0, 0, i, 1, 0, 0, 0, 0, 0};
            v_begin(v, 116);
            v_u32(v, SF_FMT(0, 2)), v_u32(v, 108); /* 12 + 96 */
            v_u32(v, i), v_u32(v, i), v_u32(v, 1);
            sf_rec_if_counters(v, &c);
            v_end(v);
        }
        v_end(v);
        ft_err e = fx_vec(x, v, VEC_T_RECV_NS);
        if (e != FT_OK) {
            free(v);
            ASSERT_EQ(e, FT_OK);
        }
    }
    free(v);
    ifs l;
    memset(&l, 0, sizeof l);
    ft_decoder_foreach_interface(x->d, ifs_cb, &l);
    ASSERT_EQ(l.total, 25);
    ASSERT_EQ(sf_stats(x, "192.0.2.60").ctr[FT_CTR_records_skipped], 0);
    ASSERT_EQ(sf_stats(x, "192.0.2.61").ctr[FT_CTR_records_skipped], 0);
    ASSERT_EQ(sf_stats(x, "192.0.2.62").ctr[FT_CTR_records_skipped], 5);
}

/* One source claiming a new agent address in every datagram: the exporter
 * table (keyed by agent for sFlow) stops at max_exporters, and every refused
 * datagram is counted (exporter_cap) and yields nothing. */
static void t_sf_agent_cap(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.max_exporters = 2;
    fx *x = fx_new(&o);
    vec *v = malloc(sizeof *v);
    ASSERT_TRUE(v != NULL);
    ft_err last = FT_OK;
    for (int i = 0; i < 500; i++) {
        memset(v, 0, sizeof *v);
        v_begin(v, 120);
        sf_header4(v, 10, 1, i / 256, i % 256, 0, 1, 1000, 1); /* agent 10.1.x.y */
        sf_small_flow(v, 1, 100, 1, 2);
        v_end(v);
        last = fx_vec(x, v, VEC_T_RECV_NS);
    }
    free(v);
    ASSERT_EQ(last, FT_ERR_EXPORTER_CAP);
    ASSERT_EQ(x->c.n, 2); /* the first two agents' samples only */
    vec_stats vs;
    vec_all_stats(x->d, &vs);
    uint64_t capped = 0;
    size_t real = 0;
    for (size_t i = 0; i < vs.n; i++) {
        capped += vs.s[i].errors[FT_ERR_EXPORTER_CAP];
        if (vs.s[i].addr.family != 0)
            real++;
    }
    ASSERT_TRUE(vs.total <= 3);
    ASSERT_EQ(real, 2);
    ASSERT_EQ(capped, 498);
    ASSERT_TRUE(has_exporter(x, "10.1.0.0"));
    ASSERT_TRUE(has_exporter(x, "10.1.0.1"));
    ASSERT_TRUE(!has_exporter(x, "192.0.2.1"));
}

int main(void)
{
    FT_RUN(t_sf_v4_flow);
    FT_RUN(t_sf_v6_expanded);
    FT_RUN(t_sf_sampled_records);
    FT_RUN(t_sf_counters);
    FT_RUN(t_sf_skip);
    FT_RUN(t_sf_sequence);
    FT_RUN(t_sf_as_path_long);
    FT_RUN(t_sf_override);
    FT_RUN(t_sf_interface_cap);
    FT_RUN(t_sf_interface_budget);
    FT_RUN(t_sf_agent_cap);
    fx_done();
    return FT_DONE();
}
