/*
 * nfv5_test.c - NetFlow v5 decoding against hand-written byte vectors.
 *
 * Oracle: Cisco's NetFlow v5 export format (24-byte header, 48-byte flow
 * records, header sampling_interval = 2-bit mode + 14-bit interval,
 * flow_sequence = flows seen before this datagram). The vectors are in
 * vec.h (scn_nfv5_*); every expected value below is computed by hand from
 * those bytes, in the comment next to it.
 */
#include "test.h"
#include "vec.h"

/* Every field of both records of scn_nfv5_basic. */
static void t_v5_fields(void)
{
    fx *x = fx_new(NULL);
    ASSERT_TRUE(x->d != NULL);
    scn *s = fx_scn(x, scn_nfv5_basic);
    ASSERT_EQ(s->pkt[0].n, 120); /* 24 + 2*48 */
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);

    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->type, FT_FLOW_NETFLOW_V5);
    ASSERT_EQ(f->time_received_ns, VEC_T_RECV_NS);
    ASSERT_EQ(f->sequence_num, 1000);
    /* sampling_interval 0x4064: top 2 bits 01 = mode 1, low 14 bits 0x0064 = 100 */
    ASSERT_EQ(f->sampling_rate, 100);
    ASSERT_TRUE(vec_addr_is(&f->sampler_address, "192.0.2.1"));
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.20"));
    ASSERT_TRUE(vec_addr_is(&f->next_hop, "192.0.2.254"));
    ASSERT_EQ(f->etype, FT_ETYPE_IPV4);
    ASSERT_EQ(f->in_if, 3);
    ASSERT_EQ(f->out_if, 7);
    ASSERT_EQ(f->packets, 12);
    ASSERT_EQ(f->bytes, 9000);
    /* header time = unix_secs*1e9 + unix_nsecs = 1700000000123456789 ns;
     * start = that - (SysUptime 360000 - First 350000) ms = - 10 000 000 000 ns
     *       = 1699999990123456789;
     * end   = that - (360000 - 359500) ms = - 500 000 000 ns = 1699999999623456789 */
    ASSERT_EQ(f->time_flow_start_ns, 1699999990123456789ull);
    ASSERT_EQ(f->time_flow_end_ns, 1699999999623456789ull);
    ASSERT_EQ(f->src_port, 443);
    ASSERT_EQ(f->dst_port, 51000);
    ASSERT_EQ(f->tcp_flags, 0x1b);
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->ip_tos, 0xb8);
    ASSERT_EQ(f->src_as, 64500);
    ASSERT_EQ(f->dst_as, 64501);
    ASSERT_EQ(f->src_net, 24);
    ASSERT_EQ(f->dst_net, 16);

    f = &x->c.f[1];
    ASSERT_EQ(f->type, FT_FLOW_NETFLOW_V5);
    ASSERT_EQ(f->sequence_num, 1000); /* same datagram */
    ASSERT_EQ(f->sampling_rate, 100);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.21"));
    ASSERT_EQ(f->in_if, 4);
    ASSERT_EQ(f->out_if, 8);
    ASSERT_EQ(f->packets, 1);
    ASSERT_EQ(f->bytes, 76);
    /* First = Last = 359999: 1 ms before the header time: 1700000000122456789 */
    ASSERT_EQ(f->time_flow_start_ns, 1700000000122456789ull);
    ASSERT_EQ(f->time_flow_end_ns, 1700000000122456789ull);
    ASSERT_EQ(f->src_port, 53);
    ASSERT_EQ(f->dst_port, 33000);
    ASSERT_EQ(f->tcp_flags, 0);
    ASSERT_EQ(f->proto, 17);
    ASSERT_EQ(f->ip_tos, 0);
    ASSERT_EQ(f->src_as, 0);
    ASSERT_EQ(f->dst_as, 65535);
    ASSERT_EQ(f->src_net, 32);
    ASSERT_EQ(f->dst_net, 0);

    ft_exporter_stats st = fx_stats(x);
    ASSERT_TRUE(vec_addr_is(&st.addr, "192.0.2.1"));
    ASSERT_TRUE(st.protocols & FT_PROTO_NETFLOW_V5);
    ASSERT_EQ(st.last_seen_ns, VEC_T_RECV_NS);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_octets], 120);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 0); /* the header gave a rate */
    ASSERT_EQ(st.sampling_rate, 100);              /* the exporter's default rate */
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* The mode bits must be masked off: 0xC3E8 = mode 3, interval 0x03E8 = 1000;
 * 0x0000 = unsampled -> rate 1 (flow.h: "1 when unsampled or unknown"). */
static void t_v5_sampling_bits(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv5_basic);
    v_patch(&s->pkt[0], 22, 0xC3E8, 2); /* sampling_interval is header bytes 22-23 */
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_EQ(x->c.f[0].sampling_rate, 1000);
    ASSERT_EQ(x->c.f[1].sampling_rate, 1000);

    x = fx_new(NULL);
    s = fx_scn(x, scn_nfv5_basic);
    v_patch(&s->pkt[0], 22, 0x0000, 2);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_EQ(x->c.f[0].sampling_rate, 1);
}

/* --sampling-rate replaced while the decoder runs (SIGHUP): the exporter
 * 192.0.2.1 is known already; the header says interval 100. The new
 * overrides apply to the next datagram, the first matching prefix wins, and
 * without a matching one the header's rate is back. */
static void t_v5_override_reload(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv5_basic);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.f[0].sampling_rate, 100);
    ft_sampling_override o[2];
    ASSERT_EQ(ft_cidr_parse("192.0.2.1/32", &o[0].prefix), 0);
    o[0].rate = 3;
    ASSERT_EQ(ft_cidr_parse("192.0.2.0/24", &o[1].prefix), 0);
    o[1].rate = 7;
    ft_decoder_set_overrides(x->d, &o[1], 1);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 4);
    ASSERT_EQ(x->c.f[2].sampling_rate, 7);
    ASSERT_EQ(x->c.f[3].sampling_rate, 7);
    ASSERT_EQ(fx_stats(x).sampling_rate, 7);
    ft_decoder_set_overrides(x->d, o, 2);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.f[4].sampling_rate, 3);
    ASSERT_EQ(ft_cidr_parse("198.51.100.0/24", &o[1].prefix), 0);
    ft_decoder_set_overrides(x->d, &o[1], 1);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.f[6].sampling_rate, 100);
    ft_decoder_set_overrides(x->d, NULL, 0);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.f[8].sampling_rate, 100);
    ASSERT_EQ(fx_stats(x).sampling_rate, 100);
}

/* First/Last are uptimes modulo 2^32: record 2 patched to First 4294967000
 * (0xFFFFFED8, before the wrap) and Last 360100 (100 ms after SysUptime
 * 360000): (int32)(360000 - 4294967000) = 360296 ms before the header time,
 * (int32)(360000 - 360100) = -100 ms, i.e. after it. */
static void t_v5_uptime_wrap(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv5_basic);
    v_patch(&s->pkt[0], 72 + 24, 4294967000u, 4); /* record 2 (offset 72): First at +24 */
    v_patch(&s->pkt[0], 72 + 28, 360100, 4);      /* Last at +28 */
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    /* 1700000000123456789 - 360296 * 1e6 = 1699999639827456789 */
    ASSERT_EQ(x->c.f[1].time_flow_start_ns, 1699999639827456789ull);
    /* 1700000000123456789 + 100 * 1e6 = 1700000000223456789 */
    ASSERT_EQ(x->c.f[1].time_flow_end_ns, 1700000000223456789ull);
}

/* flow_sequence wraps modulo 2^32: 0xFFFFFFFF + 2 records -> 1 expected. */
static void t_v5_sequence_wrap(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv5_seq);
    v_patch(&s->pkt[0], 16, 0xFFFFFFFFu, 4); /* flow_sequence: header bytes 16-19 */
    v_patch(&s->pkt[1], 16, 1, 4);
    v_patch(&s->pkt[2], 16, 2, 4);
    fx_pkt(x, 0), fx_pkt(x, 1), fx_pkt(x, 2);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
}

/* flow_sequence counts flows: 1000 + 2 records -> 1002 expected; 1005 comes:
 * 1002, 1003, 1004 lost = 3 lost_records; then 1006 = 1005 + 1: none more. */
static void t_v5_sequence_gap(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv5_seq);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 3);
    ASSERT_EQ(fx_pkt(x, 2), FT_OK);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 3);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_reordered], 0);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 3);
    ASSERT_EQ(st.ctr[FT_CTR_octets], 120 + 72 + 72);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(vec_err_sum(&st), 0);
    ASSERT_EQ(x->c.n, 4);
    ASSERT_EQ(x->c.f[0].sequence_num, 1000);
    ASSERT_EQ(x->c.f[2].sequence_num, 1005);
    ASSERT_EQ(x->c.f[3].sequence_num, 1006);
    ASSERT_TRUE(vec_addr_is(&x->c.f[3].src_addr, "198.51.100.4"));
    /* v5_small_record: First = Last = uptime - 1000 -> 1 s before unix_secs (+0 ns) */
    ASSERT_EQ(x->c.f[3].time_flow_start_ns, VEC_S2NS(VEC_EXPORT_S + 2) - VEC_S2NS(1));
}

/* count 3 but only 2 records fit: the 2 are emitted, bad_count is counted
 * and returned. */
static void t_v5_bad_count(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_nfv5_badcount);
    ft_err e = fx_pkt(x, 0);
    ASSERT_EQ(e, FT_ERR_BAD_COUNT);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.2"));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_BAD_COUNT], 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 1);
}

/* A datagram cut inside record 2 (24 + 48 + 20 bytes, count 2): record 1 is
 * emitted, the cut one is not, and a fault is counted. */
static void t_v5_cut_record(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv5_basic);
    ft_err e = vec_decode(x->d, &x->ex, VEC_T_RECV_NS, s->pkt[0].b, 24 + 48 + 20, &x->c);
    ASSERT_TRUE(e != FT_OK);
    ASSERT_EQ(x->c.n, 1);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.10"));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_TRUE(vec_fault_sum(&st) >= 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 1);
}

/* Shorter than the 24-byte header: truncated, nothing emitted. */
static void t_v5_short_header(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_nfv5_basic);
    ft_err e = vec_decode(x->d, &x->ex, VEC_T_RECV_NS, s->pkt[0].b, 23, &x->c);
    ASSERT_EQ(e, FT_ERR_TRUNCATED);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_TRUNCATED], 1);
}

int main(void)
{
    FT_RUN(t_v5_fields);
    FT_RUN(t_v5_sampling_bits);
    FT_RUN(t_v5_override_reload);
    FT_RUN(t_v5_uptime_wrap);
    FT_RUN(t_v5_sequence_gap);
    FT_RUN(t_v5_sequence_wrap);
    FT_RUN(t_v5_bad_count);
    FT_RUN(t_v5_cut_record);
    FT_RUN(t_v5_short_header);
    fx_done();
    return FT_DONE();
}
