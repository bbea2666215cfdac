/*
 * ipfix_test.c - IPFIX decoding against hand-written byte vectors.
 *
 * Oracle: RFC 7011 (§3.1 message header, §3.2 field specifier and the
 * enterprise bit, §3.3 sets and §3.3.1 padding, §3.4.1 template, §3.4.2.2
 * options template, §6.1.7-§6.1.10 time encodings, §7 variable length, §8.1
 * withdrawal), RFC 7012 / IANA IE numbers, RFC 5477 sampling IEs. Vectors
 * are in vec.h (scn_ipfix_*) or built here; every expected value is computed
 * by hand in the comment next to it. Export Time E = 1700000000 s.
 */
#include "test.h"
#include "vec.h"

#define E_NS VEC_S2NS(VEC_EXPORT_S) /* 1700000000000000000 */

static const ft_flow *by_src(const cap *c, const char *src)
{
    for (size_t i = 0; i < c->n; i++)
        if (vec_addr_is(&c->f[i].src_addr, src))
            return &c->f[i];
    return NULL;
}

/* Enterprise fields skipped by their length (fixed and variable), variable
 * length in both encodings, padding at the end of the data set. */
static void t_ipfix_enterprise_varlen(void)
{
    fx *x = fx_new(NULL);
    ASSERT_TRUE(x->d != NULL);
    scn *s = fx_scn(x, scn_ipfix_basic);
    ASSERT_EQ(s->pkt[0].n, 500);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 2); /* 2 padding bytes are not a record */

    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->type, FT_FLOW_IPFIX);
    ASSERT_EQ(f->time_received_ns, VEC_T_RECV_NS);
    ASSERT_EQ(f->sequence_num, 0);
    ASSERT_EQ(f->observation_domain_id, IPFIX_DOMAIN);
    ASSERT_TRUE(vec_addr_is(&f->sampler_address, "192.0.2.1"));
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.20"));
    ASSERT_EQ(f->etype, FT_ETYPE_IPV4);
    ASSERT_EQ(f->bytes, 123456789012ull);
    ASSERT_EQ(f->packets, 1000000);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999990123ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999456ull));
    ASSERT_EQ(f->src_port, 443);
    ASSERT_EQ(f->dst_port, 51000);
    ASSERT_EQ(f->proto, 6);
    /* after the enterprise IE 100 (4 bytes), IE 200 (255,0,5 + 5 bytes) and
     * applicationName (5 + 5 bytes): */
    ASSERT_EQ(f->in_if, 10);
    ASSERT_EQ(f->out_if, 20);
    ASSERT_EQ(f->ip_tos, 0x28);
    ASSERT_EQ(f->tcp_flags, 0x18);

    f = &x->c.f[1];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.11"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.21"));
    ASSERT_EQ(f->bytes, 500);
    ASSERT_EQ(f->packets, 5);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999999000ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999999ull));
    ASSERT_EQ(f->src_port, 123);
    ASSERT_EQ(f->dst_port, 123);
    ASSERT_EQ(f->proto, 17);
    /* after IE 200 of length 0 (1 byte) and applicationName (255,1,4 + 260) */
    ASSERT_EQ(f->in_if, 11);
    ASSERT_EQ(f->out_if, 21);
    ASSERT_EQ(f->ip_tos, 0);

    ft_exporter_stats st = fx_stats(x);
    ASSERT_TRUE(st.protocols & FT_PROTO_IPFIX);
    ASSERT_EQ(st.last_seen_ns, VEC_T_RECV_NS);
    ASSERT_EQ(st.ctr[FT_CTR_packets], 1);
    ASSERT_EQ(st.ctr[FT_CTR_octets], 500);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 1);
    ASSERT_EQ(st.templates, 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Every flowStart/End encoding. */
static void t_ipfix_time_encodings(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_times);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 8); /* 8 data records, the options record is not emitted */
    const ft_flow *f;

    /* 150/151 Seconds: 1699999990 s, 1699999999 s */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.10")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, VEC_S2NS(1699999990ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_S2NS(1699999999ull));

    /* 152/153 Milliseconds */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.11")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999990123ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999456ull));

    /* 154/155 Microseconds, NTP (§6.1.9): seconds since 1900 - 2208988800;
     * fraction/2^32 s: 0x80800000 = 0.5 + 2^-9 = 0.501953125 s,
     * 0x40000000 = 0.25 s */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.12")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, 1699999990501953125ull);
    ASSERT_EQ(f->time_flow_end_ns, 1699999999250000000ull);

    /* 156/157 Nanoseconds, NTP (§6.1.10): 0x00800000 = 2^-9 = 1953125 ns,
     * 0xC0000000 = 0.75 s */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.13")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, 1699999991001953125ull);
    ASSERT_EQ(f->time_flow_end_ns, 1699999999750000000ull);

    /* 158/159 DeltaMicroseconds before Export Time E:
     * E - 10 000 000 us = 1699999990 s; E - 250 000 us = 1699999999.75 s */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.14")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, 1699999990000000000ull);
    ASSERT_EQ(f->time_flow_end_ns, 1699999999750000000ull);

    /* 22/21 SysUpTime + 160 in the record (after them): init 1699990000000 ms
     * + 9990000 = 1699999990000 ms; + 9999500 = 1699999999500 ms */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.15")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999990000ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999500ull));

    /* no time at all: start = end = Export Time (not the receive time E+1) */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.16")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, E_NS);
    ASSERT_EQ(f->time_flow_end_ns, E_NS);

    /* 22/21 with 160 from the options record (scope observationDomainId 7):
     * 1699980000000 + 19990000 = 1699999990000 ms; + 19999000 = 1699999999000 ms */
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.18")) != NULL);
    ASSERT_EQ(f->time_flow_start_ns, VEC_MS2NS(1699999990000ull));
    ASSERT_EQ(f->time_flow_end_ns, VEC_MS2NS(1699999999000ull));

    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 8);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 1);
    ASSERT_EQ(st.ctr[FT_CTR_templates_received], 9);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Sampling rates from options data: by selectorId 7 (305/306: (2+98)/2 =
 * 50), 8 (309/310: 400/2 = 200), 9 (50: 500); none named -> the domain's
 * (305/306: (1+1023)/1 = 1024). */
static void t_ipfix_sampling(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_sampling);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 4);
    const ft_flow *f;
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.7")) != NULL);
    ASSERT_EQ(f->bytes, 700);
    ASSERT_EQ(f->sampling_rate, 50);
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.8")) != NULL);
    ASSERT_EQ(f->sampling_rate, 200);
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.9")) != NULL);
    ASSERT_EQ(f->sampling_rate, 500);
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.99")) != NULL);
    ASSERT_EQ(f->bytes, 9900);
    ASSERT_EQ(f->sampling_rate, 1024);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_sampling_unknown], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* The same rates with the domain-wide options record FIRST and a
 * selector-scoped one after it: a record that names no selector keeps the
 * domain's rate (1024), the selector's rate (50) is for records naming
 * selector 7 only. Built here:
 *   header 16 | templates 324/325: 32 | options templates 320 + 323: 4 + 18 + 18 = 40
 *   | options data 323: 16 | options data 320: 20 | data 325: 16 | data 324: 24  = 164 */
static void t_ipfix_sampling_scope_order(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 164);
    ipfix_header(v, 164, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 32);
    v_u16(v, 2), v_u16(v, 32);  /* template set */
    v_u16(v, 324), v_u16(v, 3); /* Template 324 */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    ipfix_field(v, 302, 8);     /* selectorId -> 20 bytes */
    v_u16(v, 325), v_u16(v, 2); /* Template 325 */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount -> 12 bytes */
    v_end(v);
    v_begin(v, 40);
    v_u16(v, 3), v_u16(v, 40);               /* options template set */
    v_u16(v, 323), v_u16(v, 3), v_u16(v, 1); /* Template 323, scope observationDomainId */
    ipfix_field(v, 149, 4), ipfix_field(v, 305, 4), ipfix_field(v, 306, 4);
    v_u16(v, 320), v_u16(v, 3), v_u16(v, 1); /* Template 320, scope selectorId */
    ipfix_field(v, 302, 8), ipfix_field(v, 305, 4), ipfix_field(v, 306, 4);
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 323), v_u16(v, 16); /* domain 7: (1 + 1023) / 1 = 1024 */
    v_u32(v, IPFIX_DOMAIN), v_u32(v, 1), v_u32(v, 1023);
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 320), v_u16(v, 20); /* selector 7: (2 + 98) / 2 = 50 */
    v_u64(v, 7), v_u32(v, 2), v_u32(v, 98);
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 325), v_u16(v, 16); /* no selector named */
    v_ip4(v, 198, 51, 100, 99), v_u64(v, 9900);
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 324), v_u16(v, 24); /* selector 7 */
    v_ip4(v, 198, 51, 100, 7), v_u64(v, 700), v_u64(v, 7);
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS), FT_OK);
    free(v);
    ASSERT_EQ(x->c.n, 2);
    const ft_flow *f;
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.7")) != NULL);
    ASSERT_EQ(f->sampling_rate, 50);
    ASSERT_TRUE((f = by_src(&x->c, "198.51.100.99")) != NULL);
    ASSERT_EQ(f->sampling_rate, 1024);
    ASSERT_EQ(fx_stats(x).sampling_rate, 1024); /* the exporter's default stays the domain's */
}

/* Zero interval / zero size in options data must not divide by zero (UBSan)
 * nor give rate 0: the records still get a rate >= 1. */
static void t_ipfix_sampling_zero(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_ipfix_sampling);
    /* options data 320 starts at 16 + 32 + 72 = 120: set header 4, selectorId
     * 8 -> samplingPacketInterval at 132; options data 321 at 140 ->
     * samplingSize at 152 */
    ASSERT_EQ(s->pkt[0].b[120] << 8 | s->pkt[0].b[121], 320); /* set 320 */
    ASSERT_EQ(s->pkt[0].b[140] << 8 | s->pkt[0].b[141], 321); /* set 321 */
    v_patch(&s->pkt[0], 132, 0, 4);
    v_patch(&s->pkt[0], 152, 0, 4);
    fx_pkt(x, 0);
    ASSERT_EQ(x->c.n, 4);
    for (size_t i = 0; i < x->c.n; i++)
        ASSERT_TRUE(x->c.f[i].sampling_rate >= 1);
}

/* PSAMP parameters and mixed-family templates, hand-built (346 bytes):
 *   header 16 (RFC 7011 §3.1)
 *   | template set 36: Template 326 = sourceIPv4Address 4, destinationIPv4Address 4,
 *     sourceIPv6Address 16, destinationIPv6Address 16, ethernetType 2,
 *     octetDeltaCount 8, selectorId 8 -> records of 58 bytes (RFC 7011 §3.4.1)
 *   | options template set 60 (RFC 7011 §3.4.2.2): 327 = scope selectorId 8;
 *     selectorAlgorithm 2, samplingPacketInterval 4, samplingSize 4,
 *     samplingPopulation 4 (22-byte records); 328 = scope selectorId 8;
 *     selectorAlgorithm 2, samplingPacketInterval 4, samplingPacketSpace 4,
 *     samplingSize 4, samplingPopulation 4 (26-byte records)
 *   | options data 327: 4 + 22 = 26 | options data 328: 4 + 26 = 30
 *   | data 326: 4 + 3 * 58 = 178.                16+36+60+26+30+178 = 346
 * selectorAlgorithm values (IANA PSAMP registry, RFC 5477 §8.2.1): 3 = random
 * n-out-of-N, so selector 7 samples samplingSize 1 of samplingPopulation 256:
 * rate 256, whatever samplingPacketInterval (1) says (Cisco IOS-XR sends
 * exactly this). 1 = systematic count-based, so selector 9 samples
 * interval 1 of every interval + space = 100: rate 100, the n/N pair unused.
 * Records: one IPv4 flow whose IPv6 fields are ::, one IPv6 flow whose IPv4
 * fields are 0.0.0.0 (either order of zero and real must keep the real
 * address), and an ARP-like record with no address at all; ethernetType 254
 * in the IPv4 flow is ignored (the address family says 0x0800), 0x0806 in
 * the address-less record is kept. */
static void t_ipfix_psamp_and_mixed_families(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    static const char zero16[] = "00000000000000000000000000000000";
    v_begin(v, 346);
    ipfix_header(v, 346, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 36);
    v_u16(v, 2), v_u16(v, 36);
    v_u16(v, 326), v_u16(v, 7);
    ipfix_field(v, 8, 4), ipfix_field(v, 12, 4), ipfix_field(v, 27, 16), ipfix_field(v, 28, 16);
    ipfix_field(v, 256, 2), ipfix_field(v, 1, 8), ipfix_field(v, 302, 8);
    v_end(v);
    v_begin(v, 60);
    v_u16(v, 3), v_u16(v, 60);
    v_u16(v, 327), v_u16(v, 5), v_u16(v, 1);
    ipfix_field(v, 302, 8), ipfix_field(v, 304, 2), ipfix_field(v, 305, 4);
    ipfix_field(v, 309, 4), ipfix_field(v, 310, 4);
    v_u16(v, 328), v_u16(v, 6), v_u16(v, 1);
    ipfix_field(v, 302, 8), ipfix_field(v, 304, 2), ipfix_field(v, 305, 4);
    ipfix_field(v, 306, 4), ipfix_field(v, 309, 4), ipfix_field(v, 310, 4);
    v_end(v);
    v_begin(v, 26);
    v_u16(v, 327), v_u16(v, 26);
    v_u64(v, 7), v_u16(v, 3), v_u32(v, 1), v_u32(v, 1), v_u32(v, 256);
    v_end(v);
    v_begin(v, 30);
    v_u16(v, 328), v_u16(v, 30);
    v_u64(v, 9), v_u16(v, 1), v_u32(v, 1), v_u32(v, 99), v_u32(v, 1), v_u32(v, 256);
    v_end(v);
    v_begin(v, 178);
    v_u16(v, 326), v_u16(v, 178);
    v_ip4(v, 192, 0, 2, 1), v_ip4(v, 198, 51, 100, 1), v_hex(v, zero16), v_hex(v, zero16);
    v_u16(v, 254), v_u64(v, 1000), v_u64(v, 7);
    v_ip4(v, 0, 0, 0, 0), v_ip4(v, 0, 0, 0, 0);
    v_hex(v, "20010db8000000000000000000000001"), v_hex(v, "20010db8000000000000000000000002");
    v_u16(v, 0), v_u64(v, 2000), v_u64(v, 9);
    v_ip4(v, 0, 0, 0, 0), v_ip4(v, 0, 0, 0, 0), v_hex(v, zero16), v_hex(v, zero16);
    v_u16(v, 0x0806), v_u64(v, 60), v_u64(v, 7);
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS), FT_OK);
    free(v);
    ASSERT_EQ(x->c.n, 3);
    const ft_flow *f = &x->c.f[0];
    char buf[FT_ADDR_STRLEN];
    ASSERT_STR(ft_addr_format(&f->src_addr, buf), "192.0.2.1");
    ASSERT_STR(ft_addr_format(&f->dst_addr, buf), "198.51.100.1");
    ASSERT_EQ(f->etype, 0x0800);
    ASSERT_EQ(f->sampling_rate, 256);
    f = &x->c.f[1];
    ASSERT_STR(ft_addr_format(&f->src_addr, buf), "2001:db8::1");
    ASSERT_STR(ft_addr_format(&f->dst_addr, buf), "2001:db8::2");
    ASSERT_EQ(f->etype, 0x86dd);
    ASSERT_EQ(f->sampling_rate, 100);
    f = &x->c.f[2];
    ASSERT_EQ(f->etype, 0x0806);
    ASSERT_EQ(f->bytes, 60);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 2);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* Sequence Number = Data Records before this message: 100 + 2 = 102 (ok),
 * 102 + 1 = 103 but 106 comes: 3 lost. */
static void t_ipfix_sequence(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_seq);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(fx_pkt(x, 2), FT_OK);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 3);
    ASSERT_EQ(st.ctr[FT_CTR_lost_packets], 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(x->c.n, 4);
    ASSERT_EQ(x->c.f[3].sequence_num, 106);
    /* Export Time of message 3 is E + 106 and the record has no time */
    ASSERT_EQ(x->c.f[3].time_flow_start_ns, VEC_S2NS(VEC_EXPORT_S + 106));
}

/* Options data records count in the Sequence Number (they are Data Records,
 * RFC 7011 §2): message 1 (seq 0) = 1 options + 1 data record, message 2
 * says 2 -> nothing lost. */
static void t_ipfix_sequence_counts_options(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_seq_options);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_options_records], 1);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* The Sequence Number wraps modulo 2^32 (§3.1): 0xFFFFFFFF + 2 records ->
 * 1 expected; and it is kept per Observation Domain: domain 8 at 5000 in
 * between does not disturb domain 7. */
static void t_ipfix_sequence_wrap_and_domains(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_ipfix_seq);
    v_patch(&s->pkt[0], IPFIX_OFF_SEQ, 0xFFFFFFFFu, 4); /* 2 records */
    v_patch(&s->pkt[1], IPFIX_OFF_SEQ, 1, 4);           /* 1 record */
    v_patch(&s->pkt[2], IPFIX_OFF_SEQ, 2, 4);
    fx_pkt(x, 0), fx_pkt(x, 1), fx_pkt(x, 2);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);

    x = fx_new(NULL);
    s = fx_scn(x, scn_ipfix_seq);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    ipfix_small_msg(v, 5000, 1, true, 90);
    v_patch(v, 12, 8, 4); /* Observation Domain ID 8 */
    fx_pkt(x, 0);         /* domain 7, seq 100, 2 records */
    fx_vec(x, v, VEC_T_RECV_NS);
    fx_pkt(x, 1); /* domain 7, seq 102 */
    free(v);
    st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_records], 4);
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
    ASSERT_EQ(st.ctr[FT_CTR_sequence_resets], 0);
    ASSERT_EQ(x->c.f[2].observation_domain_id, 8);
}

/* ICMP from 178/179, 176/177 and 139. */
static void t_ipfix_icmp(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_icmp);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 3);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "2001:db8::72"));
    ASSERT_EQ(x->c.f[0].proto, 58);
    ASSERT_EQ(x->c.f[0].etype, FT_ETYPE_IPV6);
    ASSERT_EQ(x->c.f[0].icmp_type, 128);
    ASSERT_EQ(x->c.f[0].icmp_code, 0);
    ASSERT_EQ(x->c.f[1].proto, 1);
    ASSERT_EQ(x->c.f[1].icmp_type, 3);
    ASSERT_EQ(x->c.f[1].icmp_code, 1);
    ASSERT_EQ(x->c.f[2].icmp_type, 1); /* 0x0101 */
    ASSERT_EQ(x->c.f[2].icmp_code, 1);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* VRFs, biflowDirection, flowDirection, forwardingStatus, observationPointId. */
static void t_ipfix_misc_fields(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_misc);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.34"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.34"));
    ASSERT_EQ(f->ingress_vrf_id, 10);
    ASSERT_EQ(f->egress_vrf_id, 20);
    ASSERT_EQ(f->bi_flow_direction, 1);
    ASSERT_EQ(f->flow_direction, 1);
    ASSERT_EQ(f->forwarding_status, 0x42);
    ASSERT_EQ(f->observation_point_id, 77);
    ASSERT_EQ(f->bytes, 3000);
    ASSERT_EQ(f->packets, 3);
    ASSERT_EQ(f->time_flow_start_ns, E_NS);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
}

/* §6.2 reduced-size encoding at every position of a fixed-length record
 * (3 bytes at the start, 5 in the middle, 2 at the very end), in a record
 * of 19 bytes and one of 6 (shorter than 8); and a record after another in
 * the same set inherits nothing from it: its 0.0.0.0 source stays 0.0.0.0,
 * and ICMP type/code from the destination port (no ICMP IE) belong only to
 * the ICMP record. */
static void t_ipfix_reduced_size_positions(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 16 + 52 + 42 + 10); /* 120 */
    ipfix_header(v, 120, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 52);
    v_u16(v, 2), v_u16(v, 52);  /* template set: 4 + (4 + 7*4) + (4 + 3*4) */
    v_u16(v, 360), v_u16(v, 7); /* Template 360 */
    ipfix_field(v, 1, 3);       /* octetDeltaCount, 3 bytes, offset 0 */
    ipfix_field(v, 4, 1);       /* protocolIdentifier, offset 3 */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address, offset 4 */
    ipfix_field(v, 2, 5);       /* packetDeltaCount, 5 bytes, offset 8 */
    ipfix_field(v, 7, 2);       /* sourceTransportPort, offset 13 */
    ipfix_field(v, 11, 2);      /* destinationTransportPort, offset 15 */
    ipfix_field(v, 10, 2);      /* ingressInterface, 2 bytes, offset 17 -> 19 bytes */
    v_u16(v, 361), v_u16(v, 3); /* Template 361 */
    ipfix_field(v, 4, 1);       /* protocolIdentifier */
    ipfix_field(v, 7, 2);       /* sourceTransportPort */
    ipfix_field(v, 1, 3);       /* octetDeltaCount, 3 bytes -> 6 bytes */
    v_end(v);
    v_begin(v, 42);
    v_u16(v, 360), v_u16(v, 42);                 /* 4 + 2 * 19 */
    v_u24(v, 100000);                            /* 0x0186a0 */
    v_u8(v, 1);                                  /* ICMP */
    v_ip4(v, 198, 51, 100, 60);
    v_uint(v, 4294967296ull, 5);                 /* 0x01 00000000 */
    v_u16(v, 0), v_u16(v, 0x0303), v_u16(v, 258); /* dst port = type 3 code 3 */
    v_u24(v, 1);
    v_u8(v, 17);                                 /* UDP */
    v_ip4(v, 0, 0, 0, 0);
    v_uint(v, 2, 5);
    v_u16(v, 5353), v_u16(v, 53), v_u16(v, 65535);
    v_end(v);
    v_begin(v, 10);
    v_u16(v, 361), v_u16(v, 10); /* 4 + 6 */
    v_u8(v, 6), v_u16(v, 443), v_u24(v, 0xfffffe);
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS), FT_OK);
    free(v);
    ASSERT_EQ(x->c.n, 3);
    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->bytes, 100000);
    ASSERT_EQ(f->proto, 1);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.60"));
    ASSERT_EQ(f->packets, 4294967296ull);
    ASSERT_EQ(f->src_port, 0);
    ASSERT_EQ(f->dst_port, 0x0303);
    ASSERT_EQ(f->in_if, 258);
    ASSERT_EQ(f->icmp_type, 3);
    ASSERT_EQ(f->icmp_code, 3);
    ASSERT_EQ(f->etype, FT_ETYPE_IPV4);
    f = &x->c.f[1];
    ASSERT_EQ(f->bytes, 1);
    ASSERT_EQ(f->proto, 17);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "0.0.0.0"));
    ASSERT_EQ(f->packets, 2);
    ASSERT_EQ(f->src_port, 5353);
    ASSERT_EQ(f->dst_port, 53);
    ASSERT_EQ(f->in_if, 65535);
    ASSERT_EQ(f->icmp_type, 0);
    ASSERT_EQ(f->icmp_code, 0);
    f = &x->c.f[2];
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->src_port, 443);
    ASSERT_EQ(f->bytes, 0xfffffe);
    ASSERT_EQ(f->packets, 0);
    ASSERT_EQ(f->src_addr.family, 0);
    ASSERT_EQ(f->time_flow_end_ns, E_NS); /* no time IE: the Export Time */
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(vec_err_sum(&st), 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 3);
}

/* §8.1: Field Count 0 withdraws template 350; the data set 350 after it (next
 * message) gets no record and counts no_template. */
static void t_ipfix_withdrawal(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_withdraw);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ASSERT_EQ(x->c.n, 1);
    ASSERT_EQ(x->c.f[0].bytes, 5000);
    fx_pkt(x, 1);
    ASSERT_EQ(x->c.n, 1);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_template_withdrawals], 1);
    ASSERT_EQ(st.templates, 0);
    ASSERT_TRUE(st.errors[FT_ERR_NO_TEMPLATE] >= 1);
    ASSERT_EQ(st.ctr[FT_CTR_records], 1);
}

/* Defined then withdrawn in the same template set, then data: no record
 * (the withdrawn template must not be used). Built here:
 *   header 16 | template set 4 + (4 + 2*4) + 4 = 20 | data set 4 + 12 = 16 */
static void t_ipfix_withdrawal_same_message(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    ASSERT_TRUE(v != NULL);
    v_begin(v, 52);
    ipfix_header(v, 52, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 20);
    v_u16(v, 2), v_u16(v, 20);  /* template set */
    v_u16(v, 351), v_u16(v, 2); /* Template 351, 2 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    v_u16(v, 351), v_u16(v, 0); /* withdrawal of 351 (§8.1) */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 351), v_u16(v, 16); /* data 351 */
    v_ip4(v, 198, 51, 100, 51), v_u64(v, 5100);
    v_end(v);
    v_end(v);
    fx_vec(x, v, VEC_T_RECV_NS);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.ctr[FT_CTR_template_withdrawals], 1);
    ASSERT_EQ(st.templates, 0);
    ASSERT_TRUE(st.errors[FT_ERR_NO_TEMPLATE] >= 1);

    /* The exporter announces 351 again in the next message (seq 1: the data
     * record above was sent): the set that followed the withdrawal must
     * still get no record (COMMON.md "Decoder facts": "a set whose template
     * was withdrawn earlier in the same message gets no records"), so it
     * must not have been held for a later template.
     *   header 16 | template set 4 + 4 + 2*4 = 16  -> 32 bytes */
    memset(v, 0, sizeof *v);
    v_begin(v, 32);
    ipfix_header(v, 32, VEC_EXPORT_S + 1, 1, IPFIX_DOMAIN);
    v_u16(v, 2), v_u16(v, 16);  /* template set */
    v_u16(v, 351), v_u16(v, 2); /* Template 351 again */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    v_end(v);
    fx_vec(x, v, VEC_T_RECV_NS + VEC_S2NS(1));
    free(v);
    ASSERT_EQ(x->c.n, 0);
    ASSERT_EQ(fx_stats(x).pending, 0);
}

/* Withdraw all templates (Template ID 2) then all options templates
 * (Template ID 3), RFC 7011 §8.1. */
static void t_ipfix_withdraw_all(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_withdraw_all);
    ASSERT_EQ(fx_pkt(x, 0), FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.templates, 2);
    fx_pkt(x, 1);
    ASSERT_EQ(x->c.n, 0); /* data 380 after "withdraw all" */
    st = fx_stats(x);
    ASSERT_EQ(st.templates, 1); /* the options template stays */
    ASSERT_TRUE(st.ctr[FT_CTR_template_withdrawals] >= 1);
    ASSERT_TRUE(st.errors[FT_ERR_NO_TEMPLATE] >= 1);
    fx_pkt(x, 2);
    st = fx_stats(x);
    ASSERT_EQ(st.templates, 0);
    ASSERT_EQ(st.errors[FT_ERR_BAD_TEMPLATE_ID], 0); /* IDs 2 and 3 are legal here */
}

/* Data (message 1, Export Time E) before its template (message 2, E + 60):
 * held, then decoded with message 1's Export Time (delta times). */
static void t_ipfix_template_after_data(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_late_template);
    fx_pkt(x, 0);
    ASSERT_EQ(x->c.n, 0);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 1);
    ASSERT_EQ(st.ctr[FT_CTR_pending_held], 1);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);

    ASSERT_EQ(fx_pkt(x, 1), FT_OK);
    ASSERT_EQ(x->c.n, 2);
    const ft_flow *f = &x->c.f[0];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.60"));
    ASSERT_EQ(f->bytes, 3600);
    /* E - 1 000 000 us = 1699999999 s; end delta 0 = E (message 2 would
     * give 60 s more) */
    ASSERT_EQ(f->time_flow_start_ns, 1699999999000000000ull);
    ASSERT_EQ(f->time_flow_end_ns, E_NS);
    ASSERT_EQ(f->sequence_num, 0);
    ASSERT_EQ(f->time_received_ns, VEC_T_RECV_NS);
    ASSERT_EQ(f->observation_domain_id, IPFIX_DOMAIN);
    f = &x->c.f[1];
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.61"));
    ASSERT_EQ(f->bytes, 3610);
    /* E - 2 s; E - 0.5 s */
    ASSERT_EQ(f->time_flow_start_ns, 1699999998000000000ull);
    ASSERT_EQ(f->time_flow_end_ns, 1699999999500000000ull);
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.ctr[FT_CTR_pending_records], 2);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
    /* message 2 says seq 2 = message 1's 2 records: nothing was lost (a
     * decoder that could not count the held set must not invent a loss) */
    ASSERT_EQ(st.ctr[FT_CTR_lost_records], 0);
}

/* Data set before its template in the same message: both records come out
 * of that one decode call (decoder.h: "even later in the same datagram"). */
static void t_ipfix_template_after_data_same_message(void)
{
    fx *x = fx_new(NULL);
    fx_scn(x, scn_ipfix_late_same_msg);
    fx_pkt(x, 0);
    ASSERT_EQ(x->c.n, 2);
    ASSERT_TRUE(vec_addr_is(&x->c.f[0].src_addr, "198.51.100.70"));
    ASSERT_EQ(x->c.f[0].time_flow_start_ns, 1699999999000000000ull);
    ASSERT_TRUE(vec_addr_is(&x->c.f[1].src_addr, "198.51.100.71"));
    ASSERT_EQ(x->c.f[1].time_flow_end_ns, 1699999999500000000ull);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.ctr[FT_CTR_records], 2);
}

/* Held set expiry (pending_max_age_s 10 here) and finish. */
static void t_ipfix_pending_expiry(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.pending_max_age_s = 10;
    fx *x = fx_new(&o);
    fx_scn(x, scn_ipfix_late_template);
    fx_pkt(x, 0);
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(9));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.pending, 1);
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(11));
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_EXPIRED], 1);
    fx_pkt(x, 1);
    ASSERT_EQ(x->c.n, 0);

    /* two held sets, finish counts both */
    x = fx_new(NULL);
    scn *s = fx_scn(x, scn_ipfix_late_template);
    fx_pkt(x, 0);
    v_patch(&s->pkt[0], IPFIX_OFF_SEQ, 2, 4);
    fx_pkt(x, 0);
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 2);
    ft_decoder_finish(x->d);
    st = fx_stats(x);
    ASSERT_EQ(st.pending, 0);
    ASSERT_EQ(st.errors[FT_ERR_PENDING_EXPIRED], 2);
}

/* IPFIX templates expire too (template_timeout_s 100 here). */
static void t_ipfix_template_expiry(void)
{
    ft_decoder_opts o;
    ft_decoder_opts_default(&o);
    o.template_timeout_s = 100;
    fx *x = fx_new(&o);
    scn *s = fx_scn(x, scn_ipfix_seq);
    fx_pkt(x, 0); /* template 330 + 2 records at T */
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(99));
    ASSERT_EQ(fx_stats(x).templates, 1);
    ft_decoder_expire(x->d, VEC_T_RECV_NS + VEC_S2NS(101));
    ft_exporter_stats st = fx_stats(x);
    ASSERT_EQ(st.templates, 0);
    ASSERT_EQ(st.ctr[FT_CTR_templates_expired], 1);
    vec_decode(x->d, &x->ex, VEC_T_RECV_NS + VEC_S2NS(102), s->pkt[1].b, s->pkt[1].n, &x->c);
    ASSERT_EQ(x->c.n, 2); /* only message 1's */
    st = fx_stats(x);
    ASSERT_EQ(st.errors[FT_ERR_NO_TEMPLATE], 1);
    ASSERT_EQ(st.pending, 1);
}

/* The message Length field disagrees with the datagram: RFC 7011 §3.1
 * Length is the message's; a message claiming more bytes than were
 * received is bad_length/truncated, and nothing past the datagram is read. */
static void t_ipfix_length_field(void)
{
    fx *x = fx_new(NULL);
    scn *s = fx_scn(x, scn_ipfix_misc);
    v_patch(&s->pkt[0], IPFIX_OFF_LEN, 109, 2); /* says 109, datagram 108 */
    ft_err e = fx_pkt(x, 0);
    ASSERT_TRUE(e != FT_OK);
    ft_exporter_stats st = fx_stats(x);
    ASSERT_TRUE(st.errors[FT_ERR_BAD_LENGTH] + st.errors[FT_ERR_TRUNCATED] >= 1);

    x = fx_new(NULL);
    s = fx_scn(x, scn_ipfix_misc);
    v_patch(&s->pkt[0], IPFIX_OFF_LEN, 15, 2); /* shorter than the header */
    ASSERT_TRUE(fx_pkt(x, 0) != FT_OK);
    ASSERT_EQ(x->c.n, 0);
    st = fx_stats(x);
    ASSERT_TRUE(vec_fault_sum(&st) >= 1);
}

/* RFC 7133 §4.7 dataLinkFrameSection (315, variable length, RFC 7011 §7)
 * holding a tunnelled frame: the record takes the outer header's fields,
 * the *_encap fields from the inner one and the ports from the innermost
 * transport header (pkt_header.h encapsulation contract). Message: 16 +
 * template set 16 + data set 4 + (4 + 1 + 62) = 103 bytes. */
static void t_ipfix_datalink_tunnel(void)
{
    fx *x = fx_new(NULL);
    vec *v = calloc(1, sizeof *v);
    if (!v)
        abort();
    v_begin(v, 103);
    ipfix_header(v, 103, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 16);
    v_u16(v, 2), v_u16(v, 16);  /* template set */
    v_u16(v, 390), v_u16(v, 2); /* Template 390, 2 fields */
    ipfix_field(v, 10, 4);      /* ingressInterface */
    ipfix_field(v, 315, 0xffff); /* dataLinkFrameSection, variable length */
    v_end(v);
    v_begin(v, 71);
    v_u16(v, 390), v_u16(v, 71);
    v_u32(v, 5);                 /* ingressInterface 5 */
    v_u8(v, 62);                 /* §7: one-byte length 62 */
    v_hex(v, "00005e0053a1" "00005e0053a2" "0800");  /* IEEE 802.3: MACs, IPv4 */
    v_hex(v, "45000030" "00090000" "40040000");      /* RFC 791: total 48, ID 9, TTL 64, proto 4 */
    v_ip4(v, 198, 51, 100, 10), v_ip4(v, 203, 0, 113, 10);
    v_hex(v, "4500001c" "000a0000" "3f110000");      /* RFC 2003 §3 inner: total 28, ID 10, TTL 63, UDP */
    v_ip4(v, 10, 0, 0, 1), v_ip4(v, 10, 0, 0, 2);
    v_hex(v, "27100035" "00080000");                 /* RFC 768: 10000 -> 53, length 8 */
    v_end(v);
    v_end(v);
    ASSERT_EQ(fx_vec(x, v, VEC_T_RECV_NS), FT_OK);
    free(v);
    ASSERT_EQ(x->c.n, 1);
    const ft_flow *f = &x->c.f[0];
    ASSERT_EQ(f->in_if, 5);
    ASSERT_TRUE(vec_addr_is(&f->src_addr, "198.51.100.10"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr, "203.0.113.10"));
    ASSERT_EQ(f->proto, 4);
    ASSERT_EQ(f->ip_ttl, 64);
    ASSERT_EQ(f->fragment_id, 9);
    ASSERT_EQ(f->has_encap, 1);
    ASSERT_TRUE(vec_addr_is(&f->src_addr_encap, "10.0.0.1"));
    ASSERT_TRUE(vec_addr_is(&f->dst_addr_encap, "10.0.0.2"));
    ASSERT_EQ(f->proto_encap, 17);
    ASSERT_EQ(f->etype_encap, 0x0800);
    ASSERT_EQ(f->ip_ttl_encap, 63);
    ASSERT_EQ(f->fragment_id_encap, 10);
    ASSERT_EQ(f->src_port, 10000);
    ASSERT_EQ(f->dst_port, 53);
}

int main(void)
{
    FT_RUN(t_ipfix_enterprise_varlen);
    FT_RUN(t_ipfix_time_encodings);
    FT_RUN(t_ipfix_sampling);
    FT_RUN(t_ipfix_sampling_scope_order);
    FT_RUN(t_ipfix_sampling_zero);
    FT_RUN(t_ipfix_sequence);
    FT_RUN(t_ipfix_sequence_counts_options);
    FT_RUN(t_ipfix_sequence_wrap_and_domains);
    FT_RUN(t_ipfix_icmp);
    FT_RUN(t_ipfix_misc_fields);
    FT_RUN(t_ipfix_reduced_size_positions);
    FT_RUN(t_ipfix_withdrawal);
    FT_RUN(t_ipfix_withdrawal_same_message);
    FT_RUN(t_ipfix_withdraw_all);
    FT_RUN(t_ipfix_template_after_data);
    FT_RUN(t_ipfix_template_after_data_same_message);
    FT_RUN(t_ipfix_pending_expiry);
    FT_RUN(t_ipfix_template_expiry);
    FT_RUN(t_ipfix_length_field);
    FT_RUN(t_ipfix_psamp_and_mixed_families);
    FT_RUN(t_ipfix_datalink_tunnel);
    fx_done();
    return FT_DONE();
}
