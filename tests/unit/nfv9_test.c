/*
 * nfv9_test.c - NetFlow v9 decoding against hand-written byte vectors.
 *
 * Oracle: RFC 3954 (§5.1 header, §5.2 template FlowSet, §5.3 data FlowSet
 * and its padding, §6.1/§6.2 options template and data, §8 field types).
 * The vectors are in vec.h (scn_nfv9_*) or built here; every expected value
 * is computed by hand in the comment next to it. Times: v9 absolute ms =
 * unix_secs*1000 - (int32)(sysUptime - SWITCHED) (signed: wrap-safe).
 */
#include "test.h"
#include "vec.h"

#define E_MS (VEC_EXPORT_S * 1000ull) /* 1700000000000 ms: the header's unix_secs in ms */

/* Template and data in one packet; padding after two records. */
static void t_v9_basic(void)
{
    fx *x = fx_new(NULL);
    ASSERT_TRUE(x->d != NULL);
    scn *s = fx_scn(x, scn_nfv9_basic);
    ASSERT_EQ(s->pkt[0].n, 208);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    /* 100-byte set = 4 + 2*47 + 2: the 2 padding bytes are not a record */
    ASSERT_EQ(x->c.n, 2);

    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->type, FT_FLOW_NETFLOW_V9);
    ASSERT_EQ(f->time_received_ns, VEC_T_RECV_NS);
    ASSERT_EQ(f->sequence_num, 1);
    ASSERT_EQ(f->observation_domain_id, V9_SOURCE_ID); /* Source ID 33 */
    ASSERT_TRUE(vec_addr_is(&f->sampler_address, "192.0.2.1"));
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.20"));
    ASSERT_EQ(f->etype, FT_ETYPE_IPV4);
    ASSERT_EQ(f->packets, 10);
    ASSERT_EQ(f->bytes, 15000);
    /* FIRST 990000: 1700000000000 - (1000000 - 990000) = 1699999990000 ms
     * LAST  999000: 1700000000000 - 1000                = 1699999999000 ms */
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999990000ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999000ull));
    ASSERT_EQ(f->src_port, 443);
    ASSERT_EQ(f->dst_port, 51000);
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->tcp_flags, 0x12);
    ASSERT_EQ(f->ip_tos, 0x20);
    ASSERT_EQ(f->in_if, 3);
    ASSERT_EQ(f->out_if, 7);
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.254"));
    ASSERT_EQ(f->src_as, 64500);
    ASSERT_EQ(f->dst_as, 64501);
    ASSERT_EQ(f->src_net, 24);
    ASSERT_EQ(f->dst_net, 16);
    ASSERT_EQ(f->flow_direction, 1);
    ASSERT_EQ(f->forwarding_status, 0x40);
    ASSERT_EQ(f->sampling_rate, 1); /* nothing says: unknown -> 1 */

    f = &x->c.f[1];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.21"));
    ASSERT_EQ(f->packets, 2);
    ASSERT_EQ(f->bytes, 152);
    /* FIRST 999900 -> 1699999999900 ms; LAST 1000000 = sysUptime -> 1700000000000 ms */
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999999900ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1700000000000ull));
    ASSERT_EQ(f->src_port, 53);
    ASSERT_EQ(f->dst_port, 33000);
    ASSERT_EQ(f->proto, 17);
    ASSERT_EQ(f->in_if, 4);
    ASSERT_EQ(f->out_if, 8);
    ASSERT_EQ(f->src_net, 32);
    ASSERT_EQ(f->dst_net, 32);
    ASSERT_EQ(f->flow_direction, 0);

    ft_exporter_stats st = fx_stats(x);
    ASSERT_TRUE(st.protocols & FT_PROTO_NETFLOW_V9);
    ASSERT_EQ(st.last_seen_ns, VEC_T_RECV_NS);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_octets], 208);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 1);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 2);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Template in packet 1 (seq 1), data in packet 2 (seq 2). */
static void t_v9_split(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_split);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 0);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.10"));
    ASSERT_EQ(x->c.f[0].bytes, 15000);
    ASSERT_EQ(x->c.f[0].sequence_num, 2);
    ASSERT_EQ(x->c.f[0].time_flow_start_ns, VEC_MS2NS(1699999990000ull));
    ASSERT_EQ(x->c.f[1].bytes, 152);
    ASSERT_EQ(x->c.f[1].dst_port, 33000);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 2);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0); /* 1 then 2 */
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Options data maps FLOW_SAMPLER_ID 5 -> 1000 and 6 -> 64 (RFC 3954 §6.2,
 * types 48/50); data records carrying sampler 5 / 6 get those rates. */
static void t_v9_sampler_options(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_sampler);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2); /* options data records are not emitted */
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.5"));
    ASSERT_EQ(x->c.f[0].bytes, 5000);
    ASSERT_EQ(x->c.f[0].packets, 5);
    ASSERT_EQ(x->c.f[0].sampling_rate, 1000);
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.6"));
    ASSERT_EQ(x->c.f[1].sampling_rate, 64);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 2);
    ASSERT_EQ(st.templates, 2);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* SAMPLING_INTERVAL (34) 512 from options data is the exporter's rate; a
 * data record with its own SAMPLING_INTERVAL 2000 uses 2000. */
static void t_v9_sampling_interval(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_interval);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.30"));
    ASSERT_EQ(x->c.f[0].bytes, 1500);
    ASSERT_EQ(x->c.f[0].sampling_rate, 512);
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.31"));
    ASSERT_EQ(x->c.f[1].bytes, 1600);
    ASSERT_EQ(x->c.f[1].sampling_rate, 2000);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.sampling_rate, 512);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 1);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 3);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* System-scoped SAMPLING_INTERVAL 512 (scn_nfv9_interval), THEN sampler
 * options 5 -> 1000 and 6 -> 64 (scn_nfv9_sampler, same source ID): a later
 * record of template 260, which names no sampler, keeps the system rate 512.
 * Data-only packet: header 20 + data 260 (4 + 12) = 36 bytes. */
static void t_v9_sampling_scope_order(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv9_interval);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    s = fx_scn(x, scn_nfv9_sampler);
    v_patch(&s->pkt[0], V9_OFF_SEQ, 2, 4);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 36);
    v9_header(v, 1, V9_UPTIME, VEC_EXPORT_S, 3, V9_SOURCE_ID); /* count 1, seq 3 */
    v_u16(v, 260), v_u16(v, 16);                               /* data 260: 4 + 12 */
    v_ip4(v, 198, 51, 100, 32), v_ip4(v, 203, 0, 113, 32), v_u32(v, 3200);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS), FT_OK);
    free(v);
    ASSERT_EQ(x->c.n, 2 + 2 + 1);
    const ft_flow *f = &x->c.f[4];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.32"));
    ASSERT_EQ(x->c.f[2].sampling_rate, 1000); /* sampler 5 */
    ASSERT_EQ(x->c.f[3].sampling_rate, 64);   /* sampler 6 */
    ASSERT_EQ(f->sampling_rate, 512);
}

/* IPv6 addresses, masks, flow label, 3 MPLS labels, MACs, VLANs. */
static void t_v9_ipv6_mpls_mac(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_v6mpls);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1); /* 96-byte set = 4 + 91 + 1 padding */
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "2001:db8::1"));
    ASSERT_EQ(f->src_addr.family, 6);
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "2001:db8:1::2"));
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "fe80::1"));
    ASSERT_EQ(f->etype, FT_ETYPE_IPV6);
    ASSERT_EQ(f->src_net, 48);
    ASSERT_EQ(f->dst_net, 64);
    ASSERT_EQ(f->ipv6_flow_label, 0xabcde); /* low 20 bits of 0x0ABCDE */
    /* MPLS_LABEL_n: 3 bytes = label(20) exp(3) S(1):
     * 0x03E850 >> 4 = 0x3E85 = 16005; 0x05DC2A >> 4 = 0x5DC2 = 24002 (exp 5);
     * 0x000641 >> 4 = 0x64 = 100 (S = 1: bottom of stack) */
    ASSERT_TRUE(f->has_mpls);
    ASSERT_EQ(f->mpls_count, 3);
    ASSERT_EQ(f->mpls_1_label, 16005);
    ASSERT_EQ(f->mpls_2_label, 24002);
    ASSERT_EQ(f->mpls_3_label, 100);
    ASSERT_EQ(f->mpls_last_label, 100);
    ASSERT_EQ(f->mpls_1_ttl, 0); /* v9 carries no label TTL */
    /* MACs: first wire byte most significant in the low 48 bits */
    ASSERT_EQ(f->src_mac, 0x001122334455ull);
    ASSERT_EQ(f->dst_mac, 0x66778899aabbull);
    ASSERT_EQ(f->src_vlan, 100);
    ASSERT_EQ(f->vlan_id, 100);
    ASSERT_EQ(f->dst_vlan, 200);
    ASSERT_EQ(f->bytes, 1280);
    ASSERT_EQ(f->packets, 10);
    ASSERT_EQ(f->proto, 17);
    ASSERT_EQ(f->src_port, 40000);
    ASSERT_EQ(f->dst_port, 443);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Bottom-of-stack on label 2 (0x05DC2B: 24002, exp 5, S 1) and an unused,
 * all-zero MPLS_LABEL_3: the stack has 2 labels (RFC 3032 §2.1). The data
 * set starts at 20 + 80 = 100, the record at 104; labels at +53/+56/+59. */
static void t_v9_mpls_bottom_of_stack(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv9_v6mpls);
    ASSERT_EQ(s->pkt[0].b[157] << 16 | s->pkt[0].b[158] << 8 | s->pkt[0].b[159], 0x03e850);
    v_patch(&s->pkt[0], 160, 0x05dc2b, 3);
    v_patch(&s->pkt[0], 163, 0, 3);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(f->has_mpls);
    ASSERT_EQ(f->mpls_count, 2);
    ASSERT_EQ(f->mpls_1_label, 16005);
    ASSERT_EQ(f->mpls_2_label, 24002);
    ASSERT_EQ(f->mpls_3_label, 0);
    ASSERT_EQ(f->mpls_last_label, 24002);
}

/* sysUptime 2000: FIRST 4294965000 was 4296 ms earlier, across the 2^32
 * wrap ((int32)(2000 - 4294965000) = 4296); LAST 2160 is 160 ms AFTER the
 * export ((int32)(2000 - 2160) = -160). */
static void t_v9_uptime_wrap(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_wrap);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    /* start = 1700000000000 - 4296 = 1699999995704 ms */
    ASSERT_EQ(x->c.f[0].time_flow_start_ns, VEC_MS2NS(1699999995704ull));
    /* end = 1700000000000 + 160 = 1700000000160 ms */
    ASSERT_EQ(x->c.f[0].time_flow_end_ns, VEC_MS2NS(1700000000160ull));
    ASSERT_EQ(x->c.f[0].bytes, 640);
}

/* Same template ID, new layout: data after the redefinition uses it. */
static void t_v9_template_redefinition(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_redefine);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.40"));
    ASSERT_EQ(x->c.f[0].bytes, 100);
    /* with the old layout the second record would read src 0.0.0.200 and
     * bytes 0xC6336429 */
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.41"));
    ASSERT_EQ(x->c.f[1].bytes, 200);
    ASSERT_EQ(x->c.f[1].dst_port, 8080);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 2);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Sequence counts export packets: 10, 11 (in order), 14 (12, 13 lost). */
static void t_v9_sequence_gap(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_seq);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(fx_pkt(x, 2), FT_OK);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 2);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 3);
    ASSERT_EQ(x->c.f[2].sequence_num, 14);
}

/* 10, 12 (11 missing: lost 1), then 11 arrives late: it was not lost after
 * all (lost back to 0) and counts as reordered. */
static void t_v9_sequence_reordered(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    const uint32_t seq[] = {10, 12, 11};
    uint64_t lost[3];
    for (int i = 0; i < 3; i++) {
        memset(v, 0, sizeof *v);
        v9_small_packet(v, seq[i], 1 + i);
        fx_vec(x, v, VEC_T_RECV_NS + VEC_S2NS(i));
        lost[i] = fx_stats(x).ctr[FT_CTR_lost_packets];
    }
    free(v);
    ASSERT_EQ(lost[0], 0);
    ASSERT_EQ(lost[1], 1);
    ASSERT_EQ(lost[2], 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 3);
}

/* Sequence numbers are per Source ID (RFC 3954 §5.1 "from the current
 * Observation Domain"): two interleaved source IDs lose nothing. */
static void t_v9_sequence_per_source(void)
{
    fx *x = fx_new(NULL);
    vec *v = malloc(sizeof *v);
    ASSERT_TRUE(v != NULL);
    /* (seq, source) = (10, 33), (500, 34), (11, 33), (501, 34) */
    const uint32_t seq[] = {10, 500, 11, 501}, src[] = {33, 34, 33, 34};
    for (int i = 0; i < 4; i++) {
        memset(v, 0, sizeof *v);
        v9_small_packet(v, seq[i], 1 + i);
        v_patch(v, 16, src[i], 4); /* Source ID: header bytes 16-19 */
        ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS + VEC_S2NS(i)), FT_OK);
    }
    free(v);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(x->c.f[1].observation_domain_id, 34);
}

/* Templates are per Source ID: template 256 from source 33 does not decode
 * data sent under source 34 (held instead). */
static void t_v9_template_per_source(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv9_split);
    v_patch(&s->pkt[1], 16, 34, 4); /* data packet: Source ID 34 */
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    fx_pkt(x, 1);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(st.pending, 1);
}

/* Reduced-size encoding (RFC 3954 §8 lengths are maxima; IN_BYTES "N x 8
 * bits", default 4): 2-byte and 8-byte IN_BYTES, 1-byte and 8-byte IN_PKTS. */
static void t_v9_reduced_size(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_reduced);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.50"));
    ASSERT_EQ(x->c.f[0].bytes, 0x1234);  /* 4660 */
    ASSERT_EQ(x->c.f[0].packets, 7);
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.51"));
    ASSERT_EQ(x->c.f[1].bytes, 4886718345ull); /* 0x0000000123456789 */
    ASSERT_EQ(x->c.f[1].packets, 4294967296ull); /* 0x0000000100000000 */
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* OUT_BYTES/OUT_PKTS when IN_* are absent; IN_* win when both are there;
 * BGP next hop as next_hop when IPV4_NEXT_HOP is absent; ICMP type/code from
 * the destination port 0x0303 (type 3, code 3) or from ICMP_TYPE 0x0800. */
static void t_v9_fallbacks(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_fallbacks);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.70"));
    ASSERT_EQ(f->bytes, 840);
    ASSERT_EQ(f->packets, 10);
    ASSERT_EQ(f->proto, 1);
    ASSERT_EQ(f->dst_port, 771); /* the wire value is kept */
    ASSERT_EQ(f->icmp_type, 3);
    ASSERT_EQ(f->icmp_code, 3);
    ASSERT_TRUE(vec_addr_is(&f->bgp_next_hop, "192.0.2.70"));
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.70"));
    f = &x->c.f[1];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.71"));
    ASSERT_EQ(f->bytes, 100);
    ASSERT_EQ(f->packets, 1);
    ASSERT_EQ(f->icmp_type, 8);
    ASSERT_EQ(f->icmp_code, 0);
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.71"));
    ASSERT_TRUE(vec_addr_is(&f->bgp_next_hop, "192.0.2.171"));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Templates belong to their exporter and protocol version: exporter
 * 192.0.2.2 sending data 256 does not use 192.0.2.1's template 256, nor does
 * an IPFIX data set 256 in the same domain (33) from 192.0.2.1. */
static void t_v9_template_isolation(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv9_split);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK); /* template 256 from 192.0.2.1 */
    ft_addr other = vec_addr("192.0.2.2");
    vec_decode(x->d, &other, VEC_T_RECV_NS, s->pkt[1].b, s->pkt[1].n, &x->c);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st;
    ASSERT_TRUE(vec_stats_of(x->d, &other, &st));
    ASSERT_EQ(st.pending, 1);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);

    /* IPFIX message, domain 33, data set 256 with one 47-byte record (the v9
     * template's record length): 16 + 4 + 47 + 1 padding = 68 bytes */
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 68);
    ipfix_header(v, 68, VEC_EXPORT_S, 0, V9_SOURCE_ID);
    v_u16(v, 256), v_u16(v, 52); /* data set 256: 4 + 47 + 1 */
    v_fill(v, 0x11, 47);
    v_u8(v, 0);
    v_end(v);
    fx_vec(x, v, VEC_T_RECV_NS);
    free(v);
    ASSERT_EQ(x->c.n, 0);
    st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(st.pending, 1);
}

/* Data before its template: held (packet 1), decoded when the template
 * arrives (packet 2) with packet 1's header. Packet 1: sysUptime 1000000,
 * unix_secs E. Packet 2: sysUptime 1060500, unix_secs E + 60 (a clock pair
 * 500 ms off packet 1's, so using it would shift the times). */
static void t_v9_template_after_data(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_late_template);
    ft_err e = fx_pkt(x, 0);
    ASSERT_TRUE(e == FT_OK || e == FT_ERR_NO_TEMPLATE);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 1);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 1);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 0);

    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.68"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.68"));
    ASSERT_EQ(f->bytes, 6800);
    ASSERT_EQ(f->packets, 68);
    /* packet 1 header: start = 1700000000000 - (1000000 - 995000) = 1699999995000 ms
     * (packet 2's header would give 1700000060000 - 65500 = 1699999994500) */
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999995000ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999000ull));
    ASSERT_EQ(f->sequence_num, 1);                  /* the packet it came in */
    ASSERT_EQ(f->time_received_ns, VEC_T_RECV_NS);  /* idem */
    f = &x->c.f[1];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.69"));
    ASSERT_EQ(f->bytes, 6900);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999999500ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1700000000000ull));

    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.ctr[FT_CTR_pending_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_EXPIRED], 0);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
}

/* A held set older than pending_max_age_s (default 60) is dropped by
 * ft_decoder_expire (pending_expired); ft_decoder_finish drops the rest. */
static void t_v9_pending_expiry_and_finish(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv9_late_template);
    fx_pkt(x, 0); /* held at T = VEC_T_RECV_NS */
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(59));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 1); /* 59 s old: kept */
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(61));
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0); /* 61 s old: dropped */
    ASSERT_EQ(st.errors[FT_ERR_PENDING_EXPIRED], 1);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK); /* the template, too late */
    ASSERT_EQ(x->c.n, 0);

    x = fx_new(NULL);
    fx_scn(x, scn_nfv9_late_template);
    fx_pkt(x, 0);
    ft_decoder_finish(x->d);
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_EXPIRED], 1);
    fx_pkt(x, 1);
    ASSERT_EQ(x->c.n, 0);
}

/* pending_max_sets 2: a third held set is dropped (pending_cap); the two
 * kept are decoded when the template comes. */
static void t_v9_pending_cap(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.pending_max_sets = 2;
    fx *x = fx_new(&o);
    scn *s = fx_scn(x, scn_nfv9_late_template);
    for (uint32_t i = 0; i < 3; i++) {
        v_patch(&s->pkt[0], V9_OFF_SEQ, 1 + i, 4);
        fx_pkt(x, 0);
    }
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 2);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_CAP], 1);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 2);
    v_patch(&s->pkt[1], V9_OFF_SEQ, 4, 4);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 4); /* 2 sets x 2 records */
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.ctr[FT_CTR_pending_records], 4);

    /* pending_max_bytes 1: no set fits at all */
    ft_decoder_opts_default(&o);
    o.pending_max_bytes = 1;
    x = fx_new(&o);
    fx_scn(x, scn_nfv9_late_template);
    fx_pkt(x, 0);
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_CAP], 1);
}

/* template_timeout_s 60: a template not refreshed for 61 s is gone after
 * ft_decoder_expire; later data is held as no_template. */
static void t_v9_template_expiry(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.template_timeout_s = 60;
    fx *x = fx_new(&o);
    scn *s = fx_scn(x, scn_nfv9_split);
    const uint64_t T = VEC_T_RECV_NS;
    ASSERT_EQ(vec_decode(x->d, &x->ex, T, s->pkt[0].b, s->pkt[0].n, &x->c), FT_OK);
    ft_decoder_expire(x->d, T + VEC_S2NS(30));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(st.ctr[FT_CTR_templates_expired], 0);
    ASSERT_EQ(vec_decode(x->d, &x->ex, T + VEC_S2NS(31), s->pkt[1].b, s->pkt[1].n, &x->c), FT_OK);
    ASSERT_EQ(x->c.n, 2);

    ft_decoder_expire(x->d, T + VEC_S2NS(61));
    st = fx_stats(x);
    ASSERT_EQ(st.templates, 0);
    ASSERT_EQ(st.ctr[FT_CTR_templates_expired], 1);
    v_patch(&s->pkt[1], V9_OFF_SEQ, 3, 4);
    vec_decode(x->d, &x->ex, T + VEC_S2NS(62), s->pkt[1].b, s->pkt[1].n, &x->c);
    ASSERT_EQ(x->c.n, 2); /* nothing new */
    st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 1);
}

/* A template re-sent at T+40 (header time patched too) survives expire at
 * T+61 and is gone at T+101. */
static void t_v9_template_refresh(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.template_timeout_s = 60;
    fx *x = fx_new(&o);
    scn *s = fx_scn(x, scn_nfv9_split);
    const uint64_t T = VEC_T_RECV_NS;
    fx_pkt(x, 0);
    v_patch(&s->pkt[0], V9_OFF_SECS, VEC_EXPORT_S + 40, 4);
    v_patch(&s->pkt[0], V9_OFF_UPTIME, V9_UPTIME + 40000, 4);
    v_patch(&s->pkt[0], V9_OFF_SEQ, 2, 4);
    ASSERT_EQ(vec_decode(x->d, &x->ex, T + VEC_S2NS(40), s->pkt[0].b, s->pkt[0].n, &x->c), FT_OK);
    ft_decoder_expire(x->d, T + VEC_S2NS(61));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 2);
    ft_decoder_expire(x->d, T + VEC_S2NS(101));
    st = fx_stats(x);
    ASSERT_EQ(st.templates, 0);
    ASSERT_EQ(st.ctr[FT_CTR_templates_expired], 1);
}

/* max_templates_per_exporter 2: the third template of one packet is refused
 * (template_cap); its data is held, the first template's data decodes. */
static void t_v9_template_cap(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.max_templates_per_exporter = 2;
    fx *x = fx_new(&o);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 20 + 40 + 12 + 12); /* 84 */
    v9_header(v, 5, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 5: 3 templates + 2 data */
    v_begin(v, 40);
    v_u16(v, 0), v_u16(v, 40);  /* template FlowSet: 4 + 3*(4 + 2*4) */
    for (int t = 256; t <= 258; t++) {
        v_u16(v, (uint64_t)t), v_u16(v, 2); /* Template t, 2 fields */
        v9_field(v, 8, 4);                  /* IPV4_SRC_ADDR */
        v9_field(v, 1, 4);                  /* IN_BYTES -> 8 bytes */
    }
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 256), v_u16(v, 12); /* data 256: 4 + 8 */
    v_ip4(v, 198, 51, 100, 1), v_u32(v, 100);
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 258), v_u16(v, 12); /* data 258: its template was refused */
    v_ip4(v, 198, 51, 100, 3), v_u32(v, 300);
    v_end(v);
    v_end(v);
    fx_vec(x, v, VEC_T_RECV_NS);
    ASSERT_EQ(x->c.n, 1);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.1"));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.templates, 2);
    ASSERT_EQ(st.errors[FT_ERR_TEMPLATE_CAP], 1);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);

    /* 1000 more distinct template IDs: the table stays at 2 */
    for (uint32_t i = 0; i < 1000; i++) {
        memset(v, 0, sizeof *v);
        v_begin(v, 20 + 16);
        v9_header(v, 1, V9_UPTIME, VEC_EXPORT_S, 2 + i, V9_SOURCE_ID);
        v_u16(v, 0), v_u16(v, 16);                 /* template FlowSet */
        v_u16(v, 1000 + i), v_u16(v, 2);           /* Template 1000+i */
        v9_field(v, 8, 4), v9_field(v, 1, 4);
        v_end(v);
        fx_vec(x, v, VEC_T_RECV_NS);
    }
    free(v);
    st = fx_stats(x);
    ASSERT_EQ(st.templates, 2);
    ASSERT_EQ(st.errors[FT_ERR_TEMPLATE_CAP], 1001);
}

/* max_exporters 2: a third exporter's datagram is dropped (exporter_cap),
 * counted, and the table does not grow. */
static void t_v9_exporter_cap(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.max_exporters = 2;
    fx *x = fx_new(&o);
    scn *s = fx_scn(x, scn_nfv9_basic);
    ft_addr a1 = vec_addr("192.0.2.1"), a2 = vec_addr("192.0.2.2"), a3 = vec_addr("192.0.2.3");
    ASSERT_EQ(vec_decode(x->d, &a1, VEC_T_RECV_NS, s->pkt[0].b, s->pkt[0].n, &x->c), FT_OK);
    ASSERT_EQ(vec_decode(x->d, &a2, VEC_T_RECV_NS, s->pkt[0].b, s->pkt[0].n, &x->c), FT_OK);
    ASSERT_EQ(x->c.n, 4);
    ASSERT_EQ(vec_decode(x->d, &a3, VEC_T_RECV_NS, s->pkt[0].b, s->pkt[0].n, &x->c), FT_ERR_EXPORTER_CAP);
    ASSERT_EQ(x->c.n, 4);
    for (uint32_t i = 0; i < 2000; i++) {
        ft_addr a = ft_addr_v4u(0x0a000000u + i); /* 10.0.0.0 + i */
        vec_decode(x->d, &a, VEC_T_RECV_NS, s->pkt[0].b, s->pkt[0].n, &x->c);
    }
    ASSERT_EQ(x->c.n, 4);
    vec_stats vs;
    vec_all_stats(x->d, &vs);
    uint64_t capped = 0;
    size_t real = 0;
    for (size_t i = 0; i < vs.n; i++) {
        capped += vs.s[i].errors[FT_ERR_EXPORTER_CAP];
        if (vs.s[i].addr.family != 0)
            real++;
    }
    ASSERT_TRUE(vs.total <= 3); /* 2 exporters (+ at most one overflow bucket) */
    ASSERT_EQ(real, 2);
    ASSERT_EQ(capped, 2001); /* every refused datagram is counted somewhere */
}

int main(void)
{
    FT_RUN(t_v9_basic);
    FT_RUN(t_v9_split);
    FT_RUN(t_v9_sampler_options);
    FT_RUN(t_v9_sampling_interval);
    FT_RUN(t_v9_sampling_scope_order);
    FT_RUN(t_v9_ipv6_mpls_mac);
    FT_RUN(t_v9_mpls_bottom_of_stack);
    FT_RUN(t_v9_uptime_wrap);
    FT_RUN(t_v9_template_redefinition);
    FT_RUN(t_v9_sequence_gap);
    FT_RUN(t_v9_sequence_reordered);
    FT_RUN(t_v9_sequence_per_source);
    FT_RUN(t_v9_template_per_source);
    FT_RUN(t_v9_reduced_size);
    FT_RUN(t_v9_fallbacks);
    FT_RUN(t_v9_template_isolation);
    FT_RUN(t_v9_template_after_data);
    FT_RUN(t_v9_pending_expiry_and_finish);
    FT_RUN(t_v9_pending_cap);
    FT_RUN(t_v9_template_expiry);
    FT_RUN(t_v9_template_refresh);
    FT_RUN(t_v9_template_cap);
    FT_RUN(t_v9_exporter_cap);
    fx_done();
    return FT_DONE();
}
