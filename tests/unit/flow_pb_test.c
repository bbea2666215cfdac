/*
 * flow_pb_test.c - flow records as FlowMessage bytes (flow/flow_pb.h).
 *
 * Oracles:
 *   - byte vectors written here from the protobuf wire-format rules
 *     (protobuf.dev/programming-guides/encoding: tag = number << 3 | wire
 *     type, base-128 varints least significant group first, wire type 2 =
 *     length + bytes, proto3 packed repeated scalars, zero values omitted)
 *     and the field numbers of goflow / goflow2 v2 (proto/README.md), each
 *     field's bytes worked out in the comment beside it;
 *   - protobuf-c's parser (generated from proto/flow*.proto by protoc-c) reading
 *     our bytes back, field by field, against values set here;
 *   - protobuf-c's packer (protobuf_c_message_pack of the generated message,
 *     ft_flow_pb_encode_reference) on 100k random records per layout and
 *     framing: the hand-written encoder must give the same bytes;
 *   - the e2e test test_kafka_golden.py compares with `protoc --encode`.
 */
#include "flow/flow_pb.h"

#include "flow.pb-c.h"
#include "flow_goflow2.pb-c.h"
#include "test.h"

/* ---- counting allocations (not under ASan, which owns malloc) ----------- */

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long n_allocs;
void *malloc(size_t n)
{
    n_allocs++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    n_allocs++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    n_allocs++;
    return __libc_realloc(p, n);
}
#endif

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    if (n != wn) {
        fprintf(stderr, "  got %zu bytes:", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", got[i]);
        fprintf(stderr, "\n");
        FT_FAIL("length %zu, want %zu", n, wn);
    }
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            FT_FAIL("byte %zu: 0x%02x, want 0x%02x", i, got[i], want[i]);
}

/* Record A: a small NetFlow v5-like record with a few of each kind of field. */
static ft_flow record_a(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.type = FT_FLOW_NETFLOW_V5;
    f.time_received_ns = 1700000000500000000ull;
    f.sampling_rate = 1;
    f.sequence_num = 7;
    f.time_flow_end_ns = 1699999999000000000ull;
    f.time_flow_start_ns = 1699999998250000000ull;
    ft_addr_parse("192.0.2.1", &f.src_addr);
    ft_addr_parse("2001:db8::1", &f.dst_addr);
    f.bytes = 300;
    f.packets = 2;
    f.proto = 6;
    f.src_port = 443;
    f.etype = 0x0800;
    f.has_mpls = true;
    f.mpls_count = 1;
    f.mpls_1_label = 16;
    f.mpls_last_label = 16;
    f.as_path[0] = 65000;
    f.as_path[1] = 3356;
    f.as_path_len = 2;
    memcpy(f.src_country, "NL", 3);
    f.ip_flags = 2;
    return f;
}

/* Record A in the goflow layout, fields in number order. */
static const uint8_t A_GOFLOW[] = {
    0x08, 0x02,                               /* 1 Type: tag 1<<3|0, NETFLOW_V5 = 2 */
    0x10, 0x80, 0xe2, 0xcf, 0xaa, 0x06,       /* 2 TimeReceived: 1700000000 s (ns / 10^9, floor) */
    0x18, 0x01,                               /* 3 SamplingRate 1 */
    0x20, 0x07,                               /* 4 SequenceNum 7 */
    0x28, 0xff, 0xe1, 0xcf, 0xaa, 0x06,       /* 5 TimeFlowEnd 1699999999 s */
    0x32, 0x04, 0xc0, 0x00, 0x02, 0x01,       /* 6 SrcAddr: tag 6<<3|2, 4 bytes 192.0.2.1 */
    0x3a, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* 7 DstAddr: 16 bytes 2001:db8::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x48, 0xac, 0x02,                         /* 9 Bytes 300 = 0b10_0101100 -> ac 02 */
    0x50, 0x02,                               /* 10 Packets 2 */
    0xa0, 0x01, 0x06,                         /* 20 Proto: tag 160 -> a0 01; 6 */
    0xa8, 0x01, 0xbb, 0x03,                   /* 21 SrcPort: tag 168; 443 -> bb 03 */
    0xf0, 0x01, 0x80, 0x10,                   /* 30 Etype: tag 240; 2048 -> 80 10 */
    0xb0, 0x02, 0xfe, 0xe1, 0xcf, 0xaa, 0x06, /* 38 TimeFlowStart: tag 304 -> b0 02; 1699999998 s */
    0xa8, 0x03, 0x01,                         /* 53 HasMPLS: tag 424 -> a8 03; true */
    0xb0, 0x03, 0x01,                         /* 54 MPLSCount 1 */
    0xc0, 0x03, 0x10,                         /* 56 MPLS1Label 16 (55 MPLS1TTL 0: omitted) */
    0xf0, 0x03, 0x10,                         /* 62 MPLSLastLabel 16 */
    0xb2, 0x06, 0x05, 0xe8, 0xfb, 0x03, 0x9c, 0x1a, /* 102 as_path packed: tag 818|2; 5 bytes: 65000, 3356 */
    0xf0, 0x06, 0x80, 0xca, 0xdd, 0x9f, 0xe5, 0x9f, 0xe7, 0xcb, 0x17, /* 110 time_received_ns */
    0xf8, 0x06, 0x80, 0xbd, 0xec, 0xee, 0xdc, 0x9f, 0xe7, 0xcb, 0x17, /* 111 time_flow_start_ns */
    0x80, 0x07, 0x80, 0xec, 0xbc, 0xd4, 0xdf, 0x9f, 0xe7, 0xcb, 0x17, /* 112 time_flow_end_ns */
    0xc2, 0x3e, 0x02, 0x4e, 0x4c,             /* 1000 src_country: tag 8002 -> c2 3e; "NL" */
    0xe0, 0x44, 0x02,                         /* 1100 ip_flags: tag 8800 -> e0 44; 2 */
};

/* Record A in the goflow2 v2 layout: no 2/5/38-as-time, 38 = ip_flags,
 * MPLS as packed 80 (TTLs) and 81 (labels), no 53-62, no 1100. */
static const uint8_t A_GOFLOW2[] = {
    0x08, 0x02,                         /* 1 type */
    0x18, 0x01,                         /* 3 sampling_rate */
    0x20, 0x07,                         /* 4 sequence_num */
    0x32, 0x04, 0xc0, 0x00, 0x02, 0x01, /* 6 src_addr */
    0x3a, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, /* 7 dst_addr */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x48, 0xac, 0x02,       /* 9 bytes */
    0x50, 0x02,             /* 10 packets */
    0xa0, 0x01, 0x06,       /* 20 proto */
    0xa8, 0x01, 0xbb, 0x03, /* 21 src_port */
    0xf0, 0x01, 0x80, 0x10, /* 30 etype */
    0xb0, 0x02, 0x02,       /* 38 ip_flags 2 */
    0x82, 0x05, 0x01, 0x00, /* 80 mpls_ttl packed: tag 642 -> 82 05; [0] (a repeated zero is written) */
    0x8a, 0x05, 0x01, 0x10, /* 81 mpls_label packed: [16] */
    0xb2, 0x06, 0x05, 0xe8, 0xfb, 0x03, 0x9c, 0x1a, /* 102 as_path */
    0xf0, 0x06, 0x80, 0xca, 0xdd, 0x9f, 0xe5, 0x9f, 0xe7, 0xcb, 0x17, /* 110 */
    0xf8, 0x06, 0x80, 0xbd, 0xec, 0xee, 0xdc, 0x9f, 0xe7, 0xcb, 0x17, /* 111 */
    0x80, 0x07, 0x80, 0xec, 0xbc, 0xd4, 0xdf, 0x9f, 0xe7, 0xcb, 0x17, /* 112 */
    0xc2, 0x3e, 0x02, 0x4e, 0x4c, /* 1000 src_country */
};

static void t_vector_goflow(void)
{
    ft_flow f = record_a();
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW, FT_PB_FRAMING_DEFAULT);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    assert_bytes(p, n, A_GOFLOW, sizeof A_GOFLOW);
    ft_flow_pb_free(e);
}

static void t_vector_goflow2_delimited(void)
{
    ft_flow f = record_a();
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW2, FT_PB_FRAMING_DEFAULT);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    /* goflow2's default framing: varint length (103 = 0x67) first. */
    ASSERT_EQ(sizeof A_GOFLOW2, 103);
    ASSERT_EQ(n, 1 + sizeof A_GOFLOW2);
    ASSERT_EQ(p[0], 0x67);
    assert_bytes(p + 1, n - 1, A_GOFLOW2, sizeof A_GOFLOW2);
    ft_flow_pb_free(e);
    /* --framing plain drops it, --framing delimited adds it to goflow. */
    e = ft_flow_pb_new(FT_PB_GOFLOW2, FT_PB_FRAMING_PLAIN);
    p = ft_flow_pb_encode(e, &f, &n);
    assert_bytes(p, n, A_GOFLOW2, sizeof A_GOFLOW2);
    ft_flow_pb_free(e);
    e = ft_flow_pb_new(FT_PB_GOFLOW, FT_PB_FRAMING_DELIMITED);
    p = ft_flow_pb_encode(e, &f, &n);
    ASSERT_EQ(p[0], sizeof A_GOFLOW); /* 126 < 128: one byte */
    assert_bytes(p + 1, n - 1, A_GOFLOW, sizeof A_GOFLOW);
    ft_flow_pb_free(e);
}

/* Every field at a distinct value, so a field written to the wrong number
 * or from the wrong member shows up. */
static ft_flow record_full(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.type = FT_FLOW_IPFIX;
    f.time_received_ns = 1700000001999999999ull;
    f.sequence_num = 101;
    f.sampling_rate = 102;
    f.flow_direction = 1;
    ft_addr_parse("198.51.100.7", &f.sampler_address);
    f.observation_domain_id = 103;
    f.observation_point_id = 104;
    f.time_flow_start_ns = 1700000000000000001ull;
    f.time_flow_end_ns = 1700000001000000002ull;
    f.bytes = 105;
    f.packets = 106;
    ft_addr_parse("2001:db8::a", &f.src_addr);
    ft_addr_parse("2001:db8::b", &f.dst_addr);
    f.etype = 0x86dd;
    f.proto = 17;
    f.src_port = 107;
    f.dst_port = 108;
    f.in_if = 109;
    f.out_if = 110;
    f.src_mac = 0x0200000000a1ull;
    f.dst_mac = 0x0200000000a2ull;
    f.src_vlan = 111;
    f.dst_vlan = 112;
    f.vlan_id = 113;
    f.ingress_vrf_id = 114;
    f.egress_vrf_id = 115;
    f.ip_tos = 116;
    f.forwarding_status = 117;
    f.ip_ttl = 118;
    f.ip_flags = 4;
    f.tcp_flags = 119;
    f.icmp_type = 120;
    f.icmp_code = 121;
    f.ipv6_flow_label = 122;
    f.fragment_id = 123;
    f.fragment_offset = 124;
    f.bi_flow_direction = 2;
    f.src_as = 125;
    f.dst_as = 126;
    ft_addr_parse("2001:db8::c", &f.next_hop);
    ft_addr_parse("192.0.2.99", &f.bgp_next_hop);
    f.next_hop_as = 127;
    f.src_net = 48;
    f.dst_net = 64;
    for (uint32_t i = 0; i < 5; i++)
        f.as_path[i] = 64500 + i;
    f.as_path_len = 5;
    f.has_mpls = true;
    f.mpls_count = 6; /* a stack of six: ft_flow keeps 1-3 and the last */
    f.mpls_1_ttl = 131, f.mpls_1_label = 1001;
    f.mpls_2_ttl = 132, f.mpls_2_label = 1002;
    f.mpls_3_ttl = 133, f.mpls_3_label = 1003;
    f.mpls_last_ttl = 136, f.mpls_last_label = 1006;
    f.has_encap = true;
    ft_addr_parse("10.0.0.1", &f.src_addr_encap);
    ft_addr_parse("10.0.0.2", &f.dst_addr_encap);
    f.proto_encap = 47;
    f.etype_encap = 0x0800;
    f.ip_tos_encap = 141;
    f.ip_ttl_encap = 142;
    f.ipv6_flow_label_encap = 143;
    f.fragment_id_encap = 144;
    f.fragment_offset_encap = 145;
    f.has_ppp = true;
    f.ppp_address_control = 0xff03;
    memcpy(f.src_country, "DE", 3);
    memcpy(f.dst_country, "jp", 3);
    return f;
}

#define ASSERT_ADDR(bin, text)                                                                     \
    do {                                                                                           \
        ft_addr a_;                                                                                \
        ft_addr_parse(text, &a_);                                                                  \
        size_t l_ = a_.family == 4 ? 4 : 16;                                                       \
        ASSERT_EQ((bin).len, l_);                                                                  \
        ASSERT_TRUE(memcmp((bin).data, a_.b + (16 - l_), l_) == 0);                                \
    } while (0)

static void t_roundtrip_goflow(void)
{
    ft_flow f = record_full();
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW, FT_PB_FRAMING_PLAIN);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    Flowprotob__FlowMessage *m = flowprotob__flow_message__unpack(NULL, n, p);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, FLOWPROTOB__FLOW_MESSAGE__FLOW_TYPE__IPFIX);
    ASSERT_EQ(m->timereceived, 1700000001); /* seconds, floor */
    ASSERT_EQ(m->time_received_ns, 1700000001999999999ull);
    ASSERT_EQ(m->sequencenum, 101);
    ASSERT_EQ(m->samplingrate, 102);
    ASSERT_EQ(m->flowdirection, 1);
    ASSERT_ADDR(m->sampleraddress, "198.51.100.7");
    ASSERT_EQ(m->observation_domain_id, 103);
    ASSERT_EQ(m->observation_point_id, 104);
    ASSERT_EQ(m->timeflowstart, 1700000000);
    ASSERT_EQ(m->timeflowend, 1700000001);
    ASSERT_EQ(m->time_flow_start_ns, 1700000000000000001ull);
    ASSERT_EQ(m->time_flow_end_ns, 1700000001000000002ull);
    ASSERT_EQ(m->bytes, 105);
    ASSERT_EQ(m->packets, 106);
    ASSERT_ADDR(m->srcaddr, "2001:db8::a");
    ASSERT_ADDR(m->dstaddr, "2001:db8::b");
    ASSERT_EQ(m->etype, 0x86dd);
    ASSERT_EQ(m->proto, 17);
    ASSERT_EQ(m->srcport, 107);
    ASSERT_EQ(m->dstport, 108);
    ASSERT_EQ(m->inif, 109);
    ASSERT_EQ(m->outif, 110);
    ASSERT_EQ(m->srcmac, 0x0200000000a1ull);
    ASSERT_EQ(m->dstmac, 0x0200000000a2ull);
    ASSERT_EQ(m->srcvlan, 111);
    ASSERT_EQ(m->dstvlan, 112);
    ASSERT_EQ(m->vlanid, 113);
    ASSERT_EQ(m->ingressvrfid, 114);
    ASSERT_EQ(m->egressvrfid, 115);
    ASSERT_EQ(m->iptos, 116);
    ASSERT_EQ(m->forwardingstatus, 117);
    ASSERT_EQ(m->ipttl, 118);
    ASSERT_EQ(m->ip_flags, 4);
    ASSERT_EQ(m->tcpflags, 119);
    ASSERT_EQ(m->icmptype, 120);
    ASSERT_EQ(m->icmpcode, 121);
    ASSERT_EQ(m->ipv6flowlabel, 122);
    ASSERT_EQ(m->fragmentid, 123);
    ASSERT_EQ(m->fragmentoffset, 124);
    ASSERT_EQ(m->biflowdirection, 2);
    ASSERT_EQ(m->srcas, 125);
    ASSERT_EQ(m->dstas, 126);
    ASSERT_ADDR(m->nexthop, "2001:db8::c");
    ASSERT_ADDR(m->bgp_next_hop, "192.0.2.99");
    ASSERT_EQ(m->nexthopas, 127);
    ASSERT_EQ(m->srcnet, 48);
    ASSERT_EQ(m->dstnet, 64);
    ASSERT_EQ(m->n_as_path, 5);
    ASSERT_EQ(m->as_path[0], 64500);
    ASSERT_EQ(m->as_path[4], 64504);
    ASSERT_EQ(m->n_bgp_communities, 0);
    ASSERT_EQ(m->hasmpls, 1);
    ASSERT_EQ(m->mplscount, 6);
    ASSERT_EQ(m->mpls1ttl, 131);
    ASSERT_EQ(m->mpls1label, 1001);
    ASSERT_EQ(m->mpls2ttl, 132);
    ASSERT_EQ(m->mpls2label, 1002);
    ASSERT_EQ(m->mpls3ttl, 133);
    ASSERT_EQ(m->mpls3label, 1003);
    ASSERT_EQ(m->mplslastttl, 136);
    ASSERT_EQ(m->mplslastlabel, 1006);
    ASSERT_EQ(m->hasencap, 1);
    ASSERT_ADDR(m->srcaddrencap, "10.0.0.1");
    ASSERT_ADDR(m->dstaddrencap, "10.0.0.2");
    ASSERT_EQ(m->protoencap, 47);
    ASSERT_EQ(m->etypeencap, 0x0800);
    ASSERT_EQ(m->iptosencap, 141);
    ASSERT_EQ(m->ipttlencap, 142);
    ASSERT_EQ(m->ipv6flowlabelencap, 143);
    ASSERT_EQ(m->fragmentidencap, 144);
    ASSERT_EQ(m->fragmentoffsetencap, 145);
    ASSERT_EQ(m->hasppp, 1);
    ASSERT_EQ(m->pppaddresscontrol, 0xff03);
    ASSERT_STR(m->src_country, "DE");
    ASSERT_STR(m->dst_country, "jp");
    flowprotob__flow_message__free_unpacked(m, NULL);
    ft_flow_pb_free(e);
}

static void t_roundtrip_goflow2(void)
{
    ft_flow f = record_full();
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW2, FT_PB_FRAMING_DEFAULT);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    /* A two-byte length prefix: the message is 128..16383 bytes. */
    ASSERT_TRUE(p[0] & 0x80);
    ASSERT_TRUE(!(p[1] & 0x80));
    size_t len = (size_t)(p[0] & 0x7f) | (size_t)p[1] << 7;
    ASSERT_EQ(len, n - 2);
    Flowpb__FlowMessage *m = flowpb__flow_message__unpack(NULL, len, p + 2);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->type, FLOWPB__FLOW_MESSAGE__FLOW_TYPE__IPFIX);
    ASSERT_EQ(m->time_received_ns, 1700000001999999999ull);
    ASSERT_EQ(m->time_flow_start_ns, 1700000000000000001ull);
    ASSERT_EQ(m->time_flow_end_ns, 1700000001000000002ull);
    ASSERT_EQ(m->ip_flags, 4); /* 38 */
    ASSERT_EQ(m->flow_direction, 1);
    ASSERT_EQ(m->sequence_num, 101);
    ASSERT_EQ(m->sampling_rate, 102);
    ASSERT_ADDR(m->sampler_address, "198.51.100.7");
    ASSERT_ADDR(m->src_addr, "2001:db8::a");
    ASSERT_ADDR(m->dst_addr, "2001:db8::b");
    ASSERT_ADDR(m->next_hop, "2001:db8::c");
    ASSERT_ADDR(m->bgp_next_hop, "192.0.2.99");
    ASSERT_EQ(m->src_port, 107);
    ASSERT_EQ(m->dst_port, 108);
    ASSERT_EQ(m->src_mac, 0x0200000000a1ull);
    ASSERT_EQ(m->dst_mac, 0x0200000000a2ull);
    ASSERT_EQ(m->ingress_vrf_id, 114);
    ASSERT_EQ(m->egress_vrf_id, 115);
    ASSERT_EQ(m->bi_flow_direction, 2);
    ASSERT_EQ(m->observation_domain_id, 103);
    ASSERT_EQ(m->observation_point_id, 104);
    /* Six labels: 1, 2, 3 and the last one; TTLs in step. */
    ASSERT_EQ(m->n_mpls_label, 4);
    ASSERT_EQ(m->n_mpls_ttl, 4);
    ASSERT_EQ(m->mpls_label[0], 1001);
    ASSERT_EQ(m->mpls_label[1], 1002);
    ASSERT_EQ(m->mpls_label[2], 1003);
    ASSERT_EQ(m->mpls_label[3], 1006);
    ASSERT_EQ(m->mpls_ttl[0], 131);
    ASSERT_EQ(m->mpls_ttl[3], 136);
    ASSERT_EQ(m->n_mpls_ip, 0);
    ASSERT_EQ(m->has_encap, 1);
    ASSERT_ADDR(m->src_addr_encap, "10.0.0.1");
    ASSERT_EQ(m->fragment_offset_encap, 145);
    ASSERT_EQ(m->has_ppp, 1);
    ASSERT_EQ(m->ppp_address_control, 0xff03);
    ASSERT_EQ(m->n_as_path, 5);
    ASSERT_STR(m->src_country, "DE");
    /* goflow-only numbers must be absent: nothing unknown to this schema. */
    ASSERT_TRUE(m->base.n_unknown_fields == 0);
    flowpb__flow_message__free_unpacked(m, NULL);

    /* Stacks of 1..3 labels come out whole, with no made-up last entry. */
    for (uint32_t depth = 1; depth <= 4; depth++) {
        ft_flow g;
        memset(&g, 0, sizeof g);
        g.has_mpls = true;
        g.mpls_count = depth;
        g.mpls_1_label = 11, g.mpls_2_label = 12, g.mpls_3_label = 13;
        g.mpls_last_label = 10 + depth;
        p = ft_flow_pb_encode(e, &g, &n);
        m = flowpb__flow_message__unpack(NULL, n - 1, p + 1);
        ASSERT_TRUE(m != NULL);
        ASSERT_EQ(m->n_mpls_label, depth);
        for (uint32_t i = 0; i < depth; i++)
            ASSERT_EQ(m->mpls_label[i], 11 + i);
        flowpb__flow_message__free_unpacked(m, NULL);
    }
    ft_flow_pb_free(e);
}

/* The goflow layout carries no goflow2-only number either. */
static void t_goflow_no_unknown(void)
{
    ft_flow f = record_full();
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW, FT_PB_FRAMING_PLAIN);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    Flowprotob__FlowMessage *m = flowprotob__flow_message__unpack(NULL, n, p);
    ASSERT_TRUE(m != NULL);
    ASSERT_EQ(m->base.n_unknown_fields, 0);
    flowprotob__flow_message__free_unpacked(m, NULL);
    ft_flow_pb_free(e);
}

/* Nothing of one record survives into the next one encoded by the same
 * encoder; an empty record is an empty message (proto3: all defaults). */
static void t_reuse(void)
{
    ft_flow f = record_full(), zero;
    memset(&zero, 0, sizeof zero);
    for (int fmt = 0; fmt < 2; fmt++) {
        ft_flow_pb *e = ft_flow_pb_new((ft_pb_format)fmt, FT_PB_FRAMING_PLAIN);
        size_t n;
        ft_flow_pb_encode(e, &f, &n);
        ASSERT_TRUE(n > 100);
        ft_flow_pb_encode(e, &zero, &n);
        ASSERT_EQ(n, 0);
        ft_flow_pb_free(e);
    }
}

/* Countries: only leading ASCII letters (proto3 strings must be UTF-8). */
static void t_country_sanitised(void)
{
    ft_flow f;
    memset(&f, 0, sizeof f);
    f.src_country[0] = 'F', f.src_country[1] = (char)0xff;
    f.dst_country[0] = (char)0xc3, f.dst_country[1] = 'A';
    ft_flow_pb *e = ft_flow_pb_new(FT_PB_GOFLOW, FT_PB_FRAMING_PLAIN);
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(e, &f, &n);
    static const uint8_t want[] = {0xc2, 0x3e, 0x01, 'F'}; /* 1000: "F"; 1001 empty: omitted */
    assert_bytes(p, n, want, sizeof want);
    ft_flow_pb_free(e);
}

/* Every field at its widest value stays within FT_FLOW_PB_MAX, prefix
 * included, and the packed size agrees with protobuf-c's own count. */
static void t_max_size(void)
{
    ft_flow f;
    memset(&f, 0xff, sizeof f);
    f.type = FT_FLOW_IPFIX;
    f.sampler_address.family = f.src_addr.family = f.dst_addr.family = 6;
    f.next_hop.family = f.bgp_next_hop.family = f.src_addr_encap.family = f.dst_addr_encap.family = 6;
    f.has_mpls = f.has_encap = f.has_ppp = true;
    memcpy(f.src_country, "ZZ", 3);
    memcpy(f.dst_country, "ZZ", 3);
    for (int fmt = 0; fmt < 2; fmt++) {
        ft_flow_pb *e = ft_flow_pb_new((ft_pb_format)fmt, FT_PB_FRAMING_DELIMITED);
        size_t n, ref;
        ft_flow_pb_encode_reference(e, &f, &ref);
        ft_flow_pb_encode(e, &f, &n);
        ASSERT_EQ(n, ref);
        fprintf(stderr, "  %s: widest record %zu bytes (bound %d)\n", ft_pb_format_name((ft_pb_format)fmt), n,
                FT_FLOW_PB_MAX);
        ASSERT_TRUE(n <= FT_FLOW_PB_MAX);
        ASSERT_TRUE(n > 600);
        ft_flow_pb_free(e);
    }
}

/* ---- the fast encoder against protobuf-c ---------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Zero half of the time, else a value of random width: every varint length
 * from 1 to 10 bytes, and the all-ones maxima, come up. */
static uint64_t rnd_val(int bits)
{
    if (rnd() & 1)
        return 0;
    int w = (int)(rnd() % (uint64_t)bits) + 1;
    uint64_t v = rnd();
    return w >= 64 ? v : v & ((1ull << w) - 1);
}

static void rnd_addr(ft_addr *a)
{
    memset(a, 0, sizeof *a);
    uint64_t k = rnd() % 3;
    if (k == 0)
        return;
    a->family = k == 1 ? 4 : 6;
    for (int i = 0; i < 16; i++)
        a->b[i] = (uint8_t)rnd();
    if (a->family == 4) {
        memset(a->b, 0, 10);
        a->b[10] = a->b[11] = 0xff;
    }
}

static void rnd_flow(ft_flow *f)
{
    memset(f, 0, sizeof *f);
    f->type = (ft_flow_type)(rnd() % 5);
    uint32_t *u32[] = {&f->sequence_num, &f->flow_direction, &f->observation_domain_id, &f->observation_point_id,
                       &f->etype, &f->proto, &f->src_port, &f->dst_port, &f->in_if, &f->out_if, &f->src_vlan,
                       &f->dst_vlan, &f->vlan_id, &f->ingress_vrf_id, &f->egress_vrf_id, &f->ip_tos,
                       &f->forwarding_status, &f->ip_ttl, &f->ip_flags, &f->tcp_flags, &f->icmp_type, &f->icmp_code,
                       &f->ipv6_flow_label, &f->fragment_id, &f->fragment_offset, &f->bi_flow_direction, &f->src_as,
                       &f->dst_as, &f->next_hop_as, &f->src_net, &f->dst_net, &f->mpls_count, &f->mpls_1_ttl,
                       &f->mpls_1_label, &f->mpls_2_ttl, &f->mpls_2_label, &f->mpls_3_ttl, &f->mpls_3_label,
                       &f->mpls_last_ttl, &f->mpls_last_label, &f->proto_encap, &f->etype_encap, &f->ip_tos_encap,
                       &f->ip_ttl_encap, &f->ipv6_flow_label_encap, &f->fragment_id_encap,
                       &f->fragment_offset_encap, &f->ppp_address_control};
    for (size_t i = 0; i < sizeof u32 / sizeof u32[0]; i++)
        *u32[i] = (uint32_t)rnd_val(32);
    f->mpls_count %= 12;
    uint64_t *u64[] = {&f->time_received_ns, &f->sampling_rate, &f->time_flow_start_ns, &f->time_flow_end_ns,
                       &f->bytes, &f->packets};
    for (size_t i = 0; i < sizeof u64 / sizeof u64[0]; i++)
        *u64[i] = rnd_val(64);
    f->src_mac = rnd_val(48);
    f->dst_mac = rnd_val(48);
    ft_addr *a[] = {&f->sampler_address, &f->src_addr, &f->dst_addr, &f->next_hop, &f->bgp_next_hop,
                    &f->src_addr_encap, &f->dst_addr_encap};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        rnd_addr(a[i]);
    f->has_mpls = rnd() & 1;
    f->has_encap = rnd() & 1;
    f->has_ppp = rnd() & 1;
    f->as_path_len = (uint32_t)(rnd() % (FT_AS_PATH_MAX + 3)); /* past the array too: clamped */
    for (int i = 0; i < FT_AS_PATH_MAX; i++)
        f->as_path[i] = (uint32_t)rnd_val(32);
    for (int i = 0; i < 3; i++) {
        f->src_country[i] = (char)(rnd() % 4 ? 'A' + rnd() % 26 : rnd());
        f->dst_country[i] = (char)(rnd() % 4 ? 'a' + rnd() % 26 : rnd());
    }
}

static void t_fast_equals_protobuf_c(void)
{
    enum { N = 100000 };
    for (int fmt = 0; fmt < 2; fmt++) {
        for (int fr = FT_PB_FRAMING_PLAIN; fr <= FT_PB_FRAMING_DELIMITED; fr++) {
            ft_flow_pb *fast = ft_flow_pb_new((ft_pb_format)fmt, (ft_pb_framing)fr);
            ft_flow_pb *ref = ft_flow_pb_new((ft_pb_format)fmt, (ft_pb_framing)fr);
            size_t longest = 0;
            for (int i = 0; i < N; i++) {
                ft_flow f;
                rnd_flow(&f);
                size_t a, b;
                const uint8_t *pa = ft_flow_pb_encode(fast, &f, &a);
                const uint8_t *pb = ft_flow_pb_encode_reference(ref, &f, &b);
                if (a != b || memcmp(pa, pb, a) != 0) {
                    size_t k = 0;
                    while (k < a && k < b && pa[k] == pb[k])
                        k++;
                    FT_FAIL("%s %s record %d: %zu bytes, protobuf-c %zu; first difference at byte %zu",
                            ft_pb_format_name((ft_pb_format)fmt), ft_pb_framing_name((ft_pb_framing)fr), i, a, b,
                            k);
                }
                if (a > longest)
                    longest = a;
            }
            ASSERT_TRUE(longest <= FT_FLOW_PB_MAX);
            ASSERT_TRUE(longest > 300); /* the random records do reach wide ones */
            ft_flow_pb_free(fast);
            ft_flow_pb_free(ref);
        }
    }
}

/* The record path allocates nothing: encoding reuses the encoder. */
static void t_no_allocation(void)
{
#if COUNT_ALLOCS
    ft_flow f = record_full();
    for (int fmt = 0; fmt < 2; fmt++) {
        unsigned long at_new = n_allocs;
        ft_flow_pb *e = ft_flow_pb_new((ft_pb_format)fmt, FT_PB_FRAMING_DEFAULT);
        ASSERT_TRUE(n_allocs > at_new); /* the counter sees allocations */
        unsigned long before = n_allocs;
        size_t n, total = 0;
        for (int i = 0; i < 1000; i++) {
            f.src_port = (uint32_t)i;
            ft_flow_pb_encode(e, &f, &n);
            total += n;
        }
        ASSERT_EQ(n_allocs - before, 0);
        ASSERT_TRUE(total > 0);
        ft_flow_pb_free(e);
    }
#else
    FT_SKIP("ASan owns malloc: allocation counting runs in the plain build");
#endif
}

int main(void)
{
    FT_RUN(t_vector_goflow);
    FT_RUN(t_vector_goflow2_delimited);
    FT_RUN(t_roundtrip_goflow);
    FT_RUN(t_roundtrip_goflow2);
    FT_RUN(t_goflow_no_unknown);
    FT_RUN(t_reuse);
    FT_RUN(t_country_sanitised);
    FT_RUN(t_max_size);
    FT_RUN(t_fast_equals_protobuf_c);
    FT_RUN(t_no_allocation);
    return FT_DONE();
}
