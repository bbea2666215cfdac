/*
 * flow_pb.c - ft_flow -> FlowMessage bytes (flow_pb.h).
 *
 * Two encoders that must agree byte for byte:
 *   - the reference: fills every member of a reused protobuf-c message
 *     struct generated from proto/ (so no value of the previous record can
 *     leak into the next) and packs it with protobuf_c_message_pack, which
 *     walks the generated descriptor in field number order and skips proto3
 *     zero values; byte fields point straight into the record's ft_addr
 *     bytes (IPv4: the last 4 of the mapped 16);
 *   - the record path: the same fields written by straight-line code.
 * flow_pb_test runs both on random records; nothing is allocated by either.
 */
#include "flow/flow_pb.h"

#include <stdlib.h>
#include <string.h>

#include "flow.pb-c.h"
#include "flow_goflow2.pb-c.h"

#define NS_PER_S 1000000000ull

/* A varint of a 32-bit length takes at most 5 bytes (protobuf encoding,
 * "Base 128 Varints"); the message is packed right after this much room and
 * the prefix written just before it. */
#define PREFIX_ROOM 5

/* Largest packed message: 70-odd scalar fields of at most 2 + 10 bytes, 7
 * addresses of 2 + 1 + 16, 2 x 16 uint32 packed arrays, 2 countries. Far
 * below this; flow_pb_test checks it with every field at its maximum. */
#define MSG_MAX (FT_FLOW_PB_MAX - PREFIX_ROOM)
_Static_assert(MSG_MAX < (1 << 14), "a message length must fit a 2-byte varint (ft_flow_pb_encode_into)");

struct ft_flow_pb {
    ft_pb_format format;
    bool delimited;
    union {
        Flowprotob__FlowMessage goflow;
        Flowpb__FlowMessage goflow2;
    } m;
    uint32_t as_path[FT_AS_PATH_MAX];
    uint32_t mpls_label[4], mpls_ttl[4];
    char src_country[3], dst_country[3];
    uint8_t out[PREFIX_ROOM + MSG_MAX];
};

const char *ft_pb_format_name(ft_pb_format f)
{
    return f == FT_PB_GOFLOW2 ? "goflow2" : "goflow";
}

const char *ft_pb_framing_name(ft_pb_framing f)
{
    return f == FT_PB_FRAMING_DELIMITED ? "delimited" : f == FT_PB_FRAMING_PLAIN ? "plain" : "default";
}

bool ft_pb_delimited(ft_pb_format f, ft_pb_framing fr)
{
    if (fr == FT_PB_FRAMING_DEFAULT)
        return f == FT_PB_GOFLOW2; /* goflow2 v2 prefixes each message with its length */
    return fr == FT_PB_FRAMING_DELIMITED;
}

ft_flow_pb *ft_flow_pb_new(ft_pb_format format, ft_pb_framing framing)
{
    ft_flow_pb *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->format = format;
    e->delimited = ft_pb_delimited(format, framing);
    if (format == FT_PB_GOFLOW2) {
        Flowpb__FlowMessage init = FLOWPB__FLOW_MESSAGE__INIT;
        e->m.goflow2 = init;
    } else {
        Flowprotob__FlowMessage init = FLOWPROTOB__FLOW_MESSAGE__INIT;
        e->m.goflow = init;
    }
    return e;
}

void ft_flow_pb_free(ft_flow_pb *e)
{
    free(e);
}

/* bytes field: 4 or 16 bytes of a, or empty (omitted) when a is absent. The
 * data pointer aliases the record, which outlives the pack call; protobuf-c
 * only reads it. */
static ProtobufCBinaryData addr_bytes(const ft_addr *a)
{
    ProtobufCBinaryData d = {0, NULL};
    if (a->family == 4) {
        d.len = 4;
        d.data = (uint8_t *)a->b + 12;
    } else if (a->family == 6) {
        d.len = 16;
        d.data = (uint8_t *)a->b;
    }
    return d;
}

/* ISO 3166 alpha-2 from enrichment: only leading ASCII letters are kept (as
 * --print does), so the string is always valid UTF-8, as proto3 requires. */
static char *country(char dst[3], const char src[3])
{
    int k = 0;
    for (; k < 2 && ((src[k] >= 'A' && src[k] <= 'Z') || (src[k] >= 'a' && src[k] <= 'z')); k++)
        dst[k] = src[k];
    dst[k] = 0;
    return dst;
}

static size_t as_path_n(const ft_flow *f)
{
    return f->as_path_len < FT_AS_PATH_MAX ? f->as_path_len : FT_AS_PATH_MAX;
}

static size_t as_path(ft_flow_pb *e, const ft_flow *f)
{
    size_t n = as_path_n(f);
    memcpy(e->as_path, f->as_path, n * sizeof e->as_path[0]);
    return n;
}

static void fill_goflow(ft_flow_pb *e, const ft_flow *f)
{
    Flowprotob__FlowMessage *m = &e->m.goflow;
    m->type = (Flowprotob__FlowMessage__FlowType)f->type;
    m->timereceived = f->time_received_ns / NS_PER_S;
    m->samplingrate = f->sampling_rate;
    m->sequencenum = f->sequence_num;
    m->timeflowend = f->time_flow_end_ns / NS_PER_S;
    m->srcaddr = addr_bytes(&f->src_addr);
    m->dstaddr = addr_bytes(&f->dst_addr);
    m->bytes = f->bytes;
    m->packets = f->packets;
    m->sampleraddress = addr_bytes(&f->sampler_address);
    m->nexthop = addr_bytes(&f->next_hop);
    m->nexthopas = f->next_hop_as;
    m->srcas = f->src_as;
    m->dstas = f->dst_as;
    m->srcnet = f->src_net;
    m->dstnet = f->dst_net;
    m->inif = f->in_if;
    m->outif = f->out_if;
    m->proto = f->proto;
    m->srcport = f->src_port;
    m->dstport = f->dst_port;
    m->iptos = f->ip_tos;
    m->forwardingstatus = f->forwarding_status;
    m->ipttl = f->ip_ttl;
    m->tcpflags = f->tcp_flags;
    m->srcmac = f->src_mac;
    m->dstmac = f->dst_mac;
    m->vlanid = f->vlan_id;
    m->etype = f->etype;
    m->icmptype = f->icmp_type;
    m->icmpcode = f->icmp_code;
    m->srcvlan = f->src_vlan;
    m->dstvlan = f->dst_vlan;
    m->fragmentid = f->fragment_id;
    m->fragmentoffset = f->fragment_offset;
    m->ipv6flowlabel = f->ipv6_flow_label;
    m->timeflowstart = f->time_flow_start_ns / NS_PER_S;
    m->ingressvrfid = f->ingress_vrf_id;
    m->egressvrfid = f->egress_vrf_id;
    m->biflowdirection = f->bi_flow_direction;
    m->flowdirection = f->flow_direction;
    m->hasencap = f->has_encap;
    m->srcaddrencap = addr_bytes(&f->src_addr_encap);
    m->dstaddrencap = addr_bytes(&f->dst_addr_encap);
    m->protoencap = f->proto_encap;
    m->etypeencap = f->etype_encap;
    m->iptosencap = f->ip_tos_encap;
    m->ipttlencap = f->ip_ttl_encap;
    m->ipv6flowlabelencap = f->ipv6_flow_label_encap;
    m->fragmentidencap = f->fragment_id_encap;
    m->fragmentoffsetencap = f->fragment_offset_encap;
    m->hasmpls = f->has_mpls;
    m->mplscount = f->mpls_count;
    m->mpls1ttl = f->mpls_1_ttl;
    m->mpls1label = f->mpls_1_label;
    m->mpls2ttl = f->mpls_2_ttl;
    m->mpls2label = f->mpls_2_label;
    m->mpls3ttl = f->mpls_3_ttl;
    m->mpls3label = f->mpls_3_label;
    m->mplslastttl = f->mpls_last_ttl;
    m->mplslastlabel = f->mpls_last_label;
    m->hasppp = f->has_ppp;
    m->pppaddresscontrol = f->ppp_address_control;
    m->observation_domain_id = f->observation_domain_id;
    m->observation_point_id = f->observation_point_id;
    m->bgp_next_hop = addr_bytes(&f->bgp_next_hop);
    m->n_bgp_communities = 0; /* ft_flow carries none yet */
    m->bgp_communities = NULL;
    m->n_as_path = as_path(e, f);
    m->as_path = e->as_path;
    m->time_received_ns = f->time_received_ns;
    m->time_flow_start_ns = f->time_flow_start_ns;
    m->time_flow_end_ns = f->time_flow_end_ns;
    m->src_country = country(e->src_country, f->src_country);
    m->dst_country = country(e->dst_country, f->dst_country);
    m->ip_flags = f->ip_flags;
}

/* The MPLS stack as goflow2's parallel repeated fields, top first: labels
 * 1..3 of ft_flow, then the last one when the stack is deeper than three. */
static size_t mpls_stack(ft_flow_pb *e, const ft_flow *f)
{
    if (!f->has_mpls || f->mpls_count == 0)
        return 0;
    const uint32_t label[3] = {f->mpls_1_label, f->mpls_2_label, f->mpls_3_label};
    const uint32_t ttl[3] = {f->mpls_1_ttl, f->mpls_2_ttl, f->mpls_3_ttl};
    size_t n = 0;
    for (; n < 3 && n < f->mpls_count; n++) {
        e->mpls_label[n] = label[n];
        e->mpls_ttl[n] = ttl[n];
    }
    if (f->mpls_count > 3) {
        e->mpls_label[n] = f->mpls_last_label;
        e->mpls_ttl[n] = f->mpls_last_ttl;
        n++;
    }
    return n;
}

static void fill_goflow2(ft_flow_pb *e, const ft_flow *f)
{
    Flowpb__FlowMessage *m = &e->m.goflow2;
    m->type = (Flowpb__FlowMessage__FlowType)f->type;
    m->sampling_rate = f->sampling_rate;
    m->sequence_num = f->sequence_num;
    m->src_addr = addr_bytes(&f->src_addr);
    m->dst_addr = addr_bytes(&f->dst_addr);
    m->bytes = f->bytes;
    m->packets = f->packets;
    m->sampler_address = addr_bytes(&f->sampler_address);
    m->next_hop = addr_bytes(&f->next_hop);
    m->next_hop_as = f->next_hop_as;
    m->src_as = f->src_as;
    m->dst_as = f->dst_as;
    m->src_net = f->src_net;
    m->dst_net = f->dst_net;
    m->in_if = f->in_if;
    m->out_if = f->out_if;
    m->proto = f->proto;
    m->src_port = f->src_port;
    m->dst_port = f->dst_port;
    m->ip_tos = f->ip_tos;
    m->forwarding_status = f->forwarding_status;
    m->ip_ttl = f->ip_ttl;
    m->tcp_flags = f->tcp_flags;
    m->src_mac = f->src_mac;
    m->dst_mac = f->dst_mac;
    m->vlan_id = f->vlan_id;
    m->etype = f->etype;
    m->icmp_type = f->icmp_type;
    m->icmp_code = f->icmp_code;
    m->src_vlan = f->src_vlan;
    m->dst_vlan = f->dst_vlan;
    m->fragment_id = f->fragment_id;
    m->fragment_offset = f->fragment_offset;
    m->ipv6_flow_label = f->ipv6_flow_label;
    m->ip_flags = f->ip_flags;
    m->observation_domain_id = f->observation_domain_id;
    m->observation_point_id = f->observation_point_id;
    size_t n = mpls_stack(e, f);
    m->n_mpls_ttl = n;
    m->mpls_ttl = e->mpls_ttl;
    m->n_mpls_label = n;
    m->mpls_label = e->mpls_label;
    m->n_mpls_ip = 0;
    m->mpls_ip = NULL;
    m->bgp_next_hop = addr_bytes(&f->bgp_next_hop);
    m->n_bgp_communities = 0;
    m->bgp_communities = NULL;
    m->n_as_path = as_path(e, f);
    m->as_path = e->as_path;
    m->time_received_ns = f->time_received_ns;
    m->time_flow_start_ns = f->time_flow_start_ns;
    m->time_flow_end_ns = f->time_flow_end_ns;
    m->ingress_vrf_id = f->ingress_vrf_id;
    m->egress_vrf_id = f->egress_vrf_id;
    m->bi_flow_direction = f->bi_flow_direction;
    m->flow_direction = f->flow_direction;
    m->has_encap = f->has_encap;
    m->src_addr_encap = addr_bytes(&f->src_addr_encap);
    m->dst_addr_encap = addr_bytes(&f->dst_addr_encap);
    m->proto_encap = f->proto_encap;
    m->etype_encap = f->etype_encap;
    m->ip_tos_encap = f->ip_tos_encap;
    m->ip_ttl_encap = f->ip_ttl_encap;
    m->ipv6_flow_label_encap = f->ipv6_flow_label_encap;
    m->fragment_id_encap = f->fragment_id_encap;
    m->fragment_offset_encap = f->fragment_offset_encap;
    m->has_ppp = f->has_ppp;
    m->ppp_address_control = f->ppp_address_control;
    m->src_country = country(e->src_country, f->src_country);
    m->dst_country = country(e->dst_country, f->dst_country);
}

/* ---- framing ------------------------------------------------------------ */

/* The message is at body[0..n); when delimited, writes the varint of n
 * just before it and returns where the bytes start. */
static const uint8_t *frame(const ft_flow_pb *e, uint8_t *body, size_t n, size_t *len)
{
    if (!e->delimited) {
        *len = n;
        return body;
    }
    /* Base-128 varint of n, least significant group first, written so that
     * it ends right where the message starts. */
    uint8_t v[PREFIX_ROOM];
    size_t k = 0;
    size_t x = n;
    do {
        v[k] = (uint8_t)(x & 0x7f);
        x >>= 7;
        if (x)
            v[k] |= 0x80;
        k++;
    } while (x && k < PREFIX_ROOM);
    uint8_t *start = body - k;
    memcpy(start, v, k);
    *len = n + k;
    return start;
}

const uint8_t *ft_flow_pb_encode_reference(ft_flow_pb *e, const ft_flow *f, size_t *len)
{
    const ProtobufCMessage *msg;
    if (e->format == FT_PB_GOFLOW2) {
        fill_goflow2(e, f);
        msg = &e->m.goflow2.base;
    } else {
        fill_goflow(e, f);
        msg = &e->m.goflow.base;
    }
    uint8_t *body = e->out + PREFIX_ROOM;
    return frame(e, body, protobuf_c_message_pack(msg, body), len);
}

/* ---- the hand-written encoder ---------------------------------------------
 *
 * Straight-line code per layout, fields in number order, each written only
 * when non-zero (proto3), exactly as protobuf_c_message_pack writes the
 * generated descriptors above: wire type 0 (varint) for integers, enums and
 * booleans, 2 (length-delimited) for bytes, strings and packed repeated
 * scalars. flow_pb_test compares the two on random records, and
 * test_kafka_golden.py both with protoc. About 3x faster than the
 * descriptor walk, which visits all 70-odd fields of every record.
 */

enum { WT_VARINT = 0, WT_LEN = 2 };

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* A field's key (tag): (number << 3) | wire type as a varint. Every caller
 * passes constants, so after inlining only the branch of the key's size
 * (1 byte below field 16, 2 below 2048, 3 above) is left: no loop. */
static inline uint8_t *put_key(uint8_t *p, uint32_t num, uint32_t wt)
{
    uint32_t k = (num << 3) | wt;
    if (k < 0x80) {
        p[0] = (uint8_t)k;
        return p + 1;
    }
    if (k < 0x4000) {
        p[0] = (uint8_t)(k | 0x80);
        p[1] = (uint8_t)(k >> 7);
        return p + 2;
    }
    p[0] = (uint8_t)(k | 0x80);
    p[1] = (uint8_t)((k >> 7) | 0x80);
    p[2] = (uint8_t)(k >> 14);
    return p + 3;
}

/* An integer, enum or bool field: written when non-zero. */
static inline uint8_t *put_u(uint8_t *p, uint32_t num, uint64_t v)
{
    if (v) {
        p = put_key(p, num, WT_VARINT);
        if (v < 0x80) { /* most fields: one byte */
            *p++ = (uint8_t)v;
            return p;
        }
        p = put_varint(p, v);
    }
    return p;
}

/* A bytes/string field shorter than 128 bytes (its length is one byte). */
static inline uint8_t *put_bytes(uint8_t *p, uint32_t num, const uint8_t *b, size_t n)
{
    if (n) {
        p = put_key(p, num, WT_LEN);
        *p++ = (uint8_t)n;
        memcpy(p, b, n);
        p += n;
    }
    return p;
}

/* An address: 4 or 16 bytes, each with a fixed-size copy. */
static inline uint8_t *put_addr(uint8_t *p, uint32_t num, const ft_addr *a)
{
    if (a->family == 4) {
        p = put_key(p, num, WT_LEN);
        *p++ = 4;
        memcpy(p, a->b + 12, 4);
        return p + 4;
    }
    if (a->family == 6) {
        p = put_key(p, num, WT_LEN);
        *p++ = 16;
        memcpy(p, a->b, 16);
        return p + 16;
    }
    return p;
}

/* A packed repeated uint32 field (proto3's default for repeated scalars):
 * one key, the payload length, the varints; nothing when empty. */
static inline uint8_t *put_packed(uint8_t *p, uint32_t num, const uint32_t *v, size_t n)
{
    if (!n)
        return p;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += varint_size(v[i]);
    p = put_key(p, num, WT_LEN);
    p = put_varint(p, len);
    for (size_t i = 0; i < n; i++)
        p = put_varint(p, v[i]);
    return p;
}

static inline uint8_t *put_country(uint8_t *p, uint32_t num, char buf[3], const char src[3])
{
    if (!src[0]) /* no enrichment: the common case */
        return p;
    country(buf, src);
    return put_bytes(p, num, (const uint8_t *)buf, buf[0] ? (buf[1] ? 2 : 1) : 0);
}

/* Fields 6-37, 39-52 and 100-1001 have the same numbers and meaning in
 * both layouts; each encoder writes them in field-number order around its
 * own fields, as protobuf_c_message_pack does. */
static uint8_t *put_6_to_37(uint8_t *p, const ft_flow *f)
{
    p = put_addr(p, 6, &f->src_addr);
    p = put_addr(p, 7, &f->dst_addr);
    p = put_u(p, 9, f->bytes);
    p = put_u(p, 10, f->packets);
    p = put_addr(p, 11, &f->sampler_address);
    p = put_addr(p, 12, &f->next_hop);
    p = put_u(p, 13, f->next_hop_as);
    p = put_u(p, 14, f->src_as);
    p = put_u(p, 15, f->dst_as);
    p = put_u(p, 16, f->src_net);
    p = put_u(p, 17, f->dst_net);
    p = put_u(p, 18, f->in_if);
    p = put_u(p, 19, f->out_if);
    p = put_u(p, 20, f->proto);
    p = put_u(p, 21, f->src_port);
    p = put_u(p, 22, f->dst_port);
    p = put_u(p, 23, f->ip_tos);
    p = put_u(p, 24, f->forwarding_status);
    p = put_u(p, 25, f->ip_ttl);
    p = put_u(p, 26, f->tcp_flags);
    p = put_u(p, 27, f->src_mac);
    p = put_u(p, 28, f->dst_mac);
    p = put_u(p, 29, f->vlan_id);
    p = put_u(p, 30, f->etype);
    p = put_u(p, 31, f->icmp_type);
    p = put_u(p, 32, f->icmp_code);
    p = put_u(p, 33, f->src_vlan);
    p = put_u(p, 34, f->dst_vlan);
    p = put_u(p, 35, f->fragment_id);
    p = put_u(p, 36, f->fragment_offset);
    p = put_u(p, 37, f->ipv6_flow_label);
    return p;
}

static uint8_t *put_39_to_52(uint8_t *p, const ft_flow *f)
{
    p = put_u(p, 39, f->ingress_vrf_id);
    p = put_u(p, 40, f->egress_vrf_id);
    p = put_u(p, 41, f->bi_flow_direction);
    p = put_u(p, 42, f->flow_direction);
    p = put_u(p, 43, f->has_encap);
    p = put_addr(p, 44, &f->src_addr_encap);
    p = put_addr(p, 45, &f->dst_addr_encap);
    p = put_u(p, 46, f->proto_encap);
    p = put_u(p, 47, f->etype_encap);
    p = put_u(p, 48, f->ip_tos_encap);
    p = put_u(p, 49, f->ip_ttl_encap);
    p = put_u(p, 50, f->ipv6_flow_label_encap);
    p = put_u(p, 51, f->fragment_id_encap);
    p = put_u(p, 52, f->fragment_offset_encap);
    return p;
}

static uint8_t *put_100_to_1001(ft_flow_pb *e, uint8_t *p, const ft_flow *f)
{
    p = put_addr(p, 100, &f->bgp_next_hop);
    /* 101 bgp_communities: ft_flow carries none yet */
    p = put_packed(p, 102, f->as_path, as_path_n(f));
    p = put_u(p, 110, f->time_received_ns);
    p = put_u(p, 111, f->time_flow_start_ns);
    p = put_u(p, 112, f->time_flow_end_ns);
    p = put_country(p, 1000, e->src_country, f->src_country);
    p = put_country(p, 1001, e->dst_country, f->dst_country);
    return p;
}

/* proto/flow.proto, flowprotob.FlowMessage. */
static size_t encode_goflow(ft_flow_pb *e, const ft_flow *f, uint8_t *out)
{
    uint8_t *p = out;
    p = put_u(p, 1, (uint32_t)f->type);
    p = put_u(p, 2, f->time_received_ns / NS_PER_S);
    p = put_u(p, 3, f->sampling_rate);
    p = put_u(p, 4, f->sequence_num);
    p = put_u(p, 5, f->time_flow_end_ns / NS_PER_S);
    p = put_6_to_37(p, f);
    p = put_u(p, 38, f->time_flow_start_ns / NS_PER_S);
    p = put_39_to_52(p, f);
    p = put_u(p, 53, f->has_mpls);
    p = put_u(p, 54, f->mpls_count);
    p = put_u(p, 55, f->mpls_1_ttl);
    p = put_u(p, 56, f->mpls_1_label);
    p = put_u(p, 57, f->mpls_2_ttl);
    p = put_u(p, 58, f->mpls_2_label);
    p = put_u(p, 59, f->mpls_3_ttl);
    p = put_u(p, 60, f->mpls_3_label);
    p = put_u(p, 61, f->mpls_last_ttl);
    p = put_u(p, 62, f->mpls_last_label);
    p = put_u(p, 63, f->has_ppp);
    p = put_u(p, 64, f->ppp_address_control);
    p = put_u(p, 70, f->observation_domain_id);
    p = put_u(p, 71, f->observation_point_id);
    p = put_100_to_1001(e, p, f);
    p = put_u(p, 1100, f->ip_flags);
    return (size_t)(p - out);
}

/* proto/flow_goflow2.proto, flowpb.FlowMessage. */
static size_t encode_goflow2(ft_flow_pb *e, const ft_flow *f, uint8_t *out)
{
    uint8_t *p = out;
    p = put_u(p, 1, (uint32_t)f->type);
    p = put_u(p, 3, f->sampling_rate);
    p = put_u(p, 4, f->sequence_num);
    p = put_6_to_37(p, f);
    p = put_u(p, 38, f->ip_flags);
    p = put_39_to_52(p, f);
    p = put_u(p, 63, f->has_ppp);
    p = put_u(p, 64, f->ppp_address_control);
    p = put_u(p, 70, f->observation_domain_id);
    p = put_u(p, 71, f->observation_point_id);
    size_t n = mpls_stack(e, f);
    p = put_packed(p, 80, e->mpls_ttl, n);
    p = put_packed(p, 81, e->mpls_label, n);
    /* 82 mpls_ip: not known */
    p = put_100_to_1001(e, p, f);
    return (size_t)(p - out);
}

const uint8_t *ft_flow_pb_encode(ft_flow_pb *e, const ft_flow *f, size_t *len)
{
    uint8_t *body = e->out + PREFIX_ROOM;
    size_t n = e->format == FT_PB_GOFLOW2 ? encode_goflow2(e, f, body) : encode_goflow(e, f, body);
    return frame(e, body, n, len);
}

size_t ft_flow_pb_encode_into(ft_flow_pb *e, const ft_flow *f, uint8_t *out)
{
    if (!e->delimited)
        return e->format == FT_PB_GOFLOW2 ? encode_goflow2(e, f, out) : encode_goflow(e, f, out);
    /* A message is shorter than MSG_MAX < 2^14, so its varint length takes
     * 1 byte (< 128) or 2: encode after 2, then close the gap when 1. */
    size_t n = e->format == FT_PB_GOFLOW2 ? encode_goflow2(e, f, out + 2) : encode_goflow(e, f, out + 2);
    if (n < 0x80) {
        out[0] = (uint8_t)n;
        memmove(out + 1, out + 2, n);
        return n + 1;
    }
    out[0] = (uint8_t)(n | 0x80);
    out[1] = (uint8_t)(n >> 7);
    return n + 2;
}

size_t ft_flow_pb_format(void *ctx, const ft_flow *f, char *buf, size_t cap)
{
    size_t n;
    const uint8_t *p = ft_flow_pb_encode(ctx, f, &n);
    if (n < cap)
        memcpy(buf, p, n);
    return n;
}
