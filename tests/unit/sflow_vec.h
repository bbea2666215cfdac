/*
 * sflow_vec.h - hand-written sFlow v5 datagrams for sflow_test.c and
 * malformed_test.c (include vec.h first).
 *
 * Oracle: sFlow.org, "sFlow Version 5" (July 2004), §5 "sFlow Datagram
 * Format": the XDR structures (RFC 4506: big-endian, every item a multiple
 * of 4 bytes, variable arrays and opaques as a 4-byte count followed by the
 * elements, opaques padded to 4) named in the comments below:
 *   sample_datagram_v5 { version = 5, address agent_address (type 1 IP_V4
 *     + 4 bytes, 2 IP_V6 + 16 bytes), sub_agent_id, sequence_number,
 *     uptime (ms), sample_record samples<> }
 *   sample_record / flow_record / counter_record { data_format (enterprise
 *     << 12 | format), opaque body<> (length + bytes) }
 *   flow_sample (0,1) { sequence_number, sflow_data_source source_id (type
 *     << 24 | index), sampling_rate, sample_pool, drops, interface input,
 *     interface output, flow_record flow_records<> }
 *   counters_sample (0,2) { sequence_number, source_id, counter_record
 *     counters<> }
 *   flow_sample_expanded (0,3) { sequence_number, sflow_data_source_expanded
 *     (source_id_type, source_id_index), sampling_rate, sample_pool, drops,
 *     interface_expanded input, output (format, value), flow_records<> }
 *   counters_sample_expanded (0,4) { sequence_number, sflow_data_source_expanded,
 *     counters<> }
 *   interface (compact): top 2 bits the format: 0 ifIndex (0x3FFFFFFF = the
 *     device itself), 1 packet discarded (value = reason code), 2 multiple
 *     output interfaces (value = count, 0 unknown).
 * Flow data: sampled_header (0,1) { header_protocol, frame_length, stripped,
 * opaque header<> }, sampled_ethernet (0,2) { length, mac src_mac, mac
 * dst_mac (opaque[6], XDR-padded to 8), type }, sampled_ipv4 (0,3) { length,
 * protocol, ip_v4 src_ip, dst_ip, src_port, dst_port, tcp_flags, tos },
 * sampled_ipv6 (0,4) { same with ip_v6 and priority }, extended_switch
 * (0,1001) { src_vlan, src_priority, dst_vlan, dst_priority },
 * extended_router (0,1002) { next_hop nexthop, src_mask_len, dst_mask_len },
 * extended_gateway (0,1003) { next_hop nexthop, as, src_as, src_peer_as,
 * as_path_type dst_as_path<> ({ AS_SET = 1 | AS_SEQUENCE = 2, unsigned
 * int as<> }), unsigned int communities<>, localpref }.
 * Counter data: if_counters (0,1) (RFC 2863 ifTable/ifXTable, 88 bytes) and
 * ethernet_counters (0,2) (RFC 3635 dot3StatsTable, 13 x 4 bytes).
 *
 * Every length is counted by hand in the comment beside it, and v_begin()/
 * v_end() abort when the bytes written disagree with that count.
 * Headers inside sampled_header records are hand-assembled frames whose
 * fields are spelt out next to their bytes (IEEE 802.3, 802.1Q, RFC 791,
 * RFC 8200, RFC 9293, RFC 768, RFC 4443).
 */
#ifndef FT_TEST_SFLOW_VEC_H
#define FT_TEST_SFLOW_VEC_H

#include "vec.h"

/* data_format: enterprise (20 bits) << 12 | format (12 bits). */
#define SF_FMT(ent, fmt) (((uint32_t)(ent) << 12) | (uint32_t)(fmt))

/* sample_datagram_v5 header with an IPv4 agent: 7 x 4 = 28 bytes. */
static inline void sf_header4(vec *v, int a, int b, int c, int d, uint32_t sub_agent, uint32_t seq,
                              uint32_t uptime_ms, uint32_t nsamples)
{
    v_u32(v, 5);          /* version 5 */
    v_u32(v, 1);          /* agent_address type IP_V4 */
    v_ip4(v, a, b, c, d); /* agent_address */
    v_u32(v, sub_agent);  /* sub_agent_id */
    v_u32(v, seq);        /* sequence_number: datagrams of this sub-agent */
    v_u32(v, uptime_ms);  /* uptime */
    v_u32(v, nsamples);   /* samples<> count */
}

/* The same with an IPv6 agent: 4 + 4 + 16 + 4 * 4 = 40 bytes. */
static inline void sf_header6(vec *v, const char *agent_hex, uint32_t sub_agent, uint32_t seq,
                              uint32_t uptime_ms, uint32_t nsamples)
{
    v_u32(v, 5);         /* version 5 */
    v_u32(v, 2);         /* agent_address type IP_V6 */
    v_hex(v, agent_hex); /* 16 bytes */
    v_u32(v, sub_agent);
    v_u32(v, seq);
    v_u32(v, uptime_ms);
    v_u32(v, nsamples);
}

/* flow_sample body up to and including the flow_records<> count: 8 x 4 = 32 bytes. */
static inline void sf_flow_head(vec *v, uint32_t sseq, uint32_t source_id, uint32_t rate, uint32_t pool,
                                uint32_t drops, uint32_t input, uint32_t output, uint32_t nrec)
{
    v_u32(v, sseq);      /* sequence_number of this source's samples */
    v_u32(v, source_id); /* sflow_data_source: type << 24 | index */
    v_u32(v, rate);      /* sampling_rate */
    v_u32(v, pool);      /* sample_pool */
    v_u32(v, drops);     /* drops */
    v_u32(v, input);     /* interface input */
    v_u32(v, output);    /* interface output */
    v_u32(v, nrec);      /* flow_records<> count */
}

/* flow_sample_expanded body up to the flow_records<> count: 11 x 4 = 44 bytes. */
static inline void sf_flowx_head(vec *v, uint32_t sseq, uint32_t src_type, uint32_t src_index, uint32_t rate,
                                 uint32_t pool, uint32_t drops, uint32_t in_fmt, uint32_t in_val,
                                 uint32_t out_fmt, uint32_t out_val, uint32_t nrec)
{
    v_u32(v, sseq);
    v_u32(v, src_type), v_u32(v, src_index); /* sflow_data_source_expanded */
    v_u32(v, rate), v_u32(v, pool), v_u32(v, drops);
    v_u32(v, in_fmt), v_u32(v, in_val);   /* interface_expanded input */
    v_u32(v, out_fmt), v_u32(v, out_val); /* interface_expanded output */
    v_u32(v, nrec);
}

/* Frame A (54 bytes): Ethernet II, IPv4, TCP.
 *   dst MAC 00:1b:21:3c:4d:5e, src MAC 00:25:90:ab:cd:ef, EtherType 0x0800
 *   IPv4: IHL 5, TOS 0xb8, total length 1500, ID 0x1a2b, DF (flags 2),
 *         offset 0, TTL 64, protocol 6, 198.51.100.10 -> 203.0.113.20
 *   TCP: 443 -> 51000, data offset 5, flags 0x18 (PSH|ACK)
 * The sampled frame was 1518 bytes on the wire (1500 + 14 + 4 FCS). */
static inline void sf_frame_a(vec *v)
{
    v_begin(v, 54);
    v_hex(v, "001b213c4d5e" "002590abcdef" "0800");
    v_hex(v, "45b805dc" "1a2b4000" "40060000" "c633640a" "cb007114");
    v_hex(v, "01bbc738" "00000001" "00000000" "50187210" "00000000");
    v_end(v);
}

/* sampled_header record with frame A: 8 + 16 + 54 + 2 padding = 80 bytes. */
static inline void sf_rec_header_a(vec *v)
{
    v_begin(v, 80);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 72); /* sampled_header, 16 + 56 */
    v_u32(v, 1);                          /* header_protocol 1 ETHERNET-ISO88023 */
    v_u32(v, 1518);                       /* frame_length */
    v_u32(v, 4);                          /* stripped: the FCS */
    v_u32(v, 54);                         /* header<> length */
    sf_frame_a(v);
    v_u16(v, 0); /* XDR padding to 56 */
    v_end(v);
}

/* Frame B (28 bytes): raw IPv4 + UDP (header_protocol 11).
 *   IPv4: TOS 0, total length 100, ID 0x0102, no flags, TTL 63, protocol 17,
 *         198.51.100.11 -> 203.0.113.21
 *   UDP: 53 -> 33000, length 80 */
static inline void sf_rec_header_b(vec *v)
{
    v_begin(v, 52);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 44); /* sampled_header, 16 + 28 */
    v_u32(v, 11);                         /* header_protocol 11 IPv4 */
    v_u32(v, 100);                        /* frame_length: the IP packet */
    v_u32(v, 0);                          /* stripped */
    v_u32(v, 28);                         /* header<> length */
    v_hex(v, "45000064" "01020000" "3f110000" "c633640b" "cb007115");
    v_hex(v, "003580e8" "00500000");
    v_end(v);
}

/* Frame C (66 bytes): Ethernet II, 802.1Q VID 100, IPv6, ICMPv6 echo request.
 *   dst MAC 02:00:00:00:00:02, src MAC 02:00:00:00:00:01, TPID 0x8100,
 *   TCI 0x0064 (PCP 0, VID 100), EtherType 0x86dd
 *   IPv6: version 6, traffic class 0xb8, flow label 0x12345 (0x6b812345),
 *         payload length 8, next header 58, hop limit 64,
 *         2001:db8::1 -> 2001:db8::2
 *   ICMPv6: type 128 (echo request), code 0, id 0x1234, seq 1
 * On the wire 70 bytes (66 + 4 FCS). Record: 8 + 16 + 66 + 2 = 92 bytes. */
static inline void sf_rec_header_c(vec *v)
{
    v_begin(v, 92);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 84); /* sampled_header, 16 + 68 */
    v_u32(v, 1);                          /* ETHERNET-ISO88023 */
    v_u32(v, 70);                         /* frame_length */
    v_u32(v, 4);                          /* stripped */
    v_u32(v, 66);                         /* header<> length */
    v_hex(v, "020000000002" "020000000001" "8100" "0064" "86dd");
    v_hex(v, "6b812345" "0008" "3a" "40");
    v_hex(v, "20010db8000000000000000000000001");
    v_hex(v, "20010db8000000000000000000000002");
    v_hex(v, "80000000" "12340001");
    v_u16(v, 0); /* padding */
    v_end(v);
}

/* One compact flow sample with frame B only: 8 + 32 + 52 = 92 bytes. */
static inline void sf_small_flow(vec *v, uint32_t sseq, uint32_t rate, uint32_t in, uint32_t out)
{
    v_begin(v, 92);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 84); /* flow_sample, 32 + 52 */
    sf_flow_head(v, sseq, in, rate, rate * sseq, 0, in, out, 1);
    sf_rec_header_b(v);
    v_end(v);
}

/* if_counters values (RFC 2863 names). */
typedef struct sf_ifc {
    uint32_t index, type;
    uint64_t speed;
    uint32_t direction, status;
    uint64_t in_octets;
    uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown;
    uint64_t out_octets;
    uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors, promisc;
} sf_ifc;

/* if_counters record: 8 + 88 = 96 bytes (4+4+8+4+4+8 + 6*4 + 8 + 6*4 = 88). */
static inline void sf_rec_if_counters(vec *v, const sf_ifc *c)
{
    v_begin(v, 96);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 88); /* if_counters */
    v_u32(v, c->index);                   /* ifIndex */
    v_u32(v, c->type);                    /* ifType */
    v_u64(v, c->speed);                   /* ifSpeed */
    v_u32(v, c->direction);               /* ifDirection */
    v_u32(v, c->status);                  /* ifStatus */
    v_u64(v, c->in_octets);               /* ifInOctets */
    v_u32(v, c->in_ucast);                /* ifInUcastPkts */
    v_u32(v, c->in_mcast);                /* ifInMulticastPkts */
    v_u32(v, c->in_bcast);                /* ifInBroadcastPkts */
    v_u32(v, c->in_discards);             /* ifInDiscards */
    v_u32(v, c->in_errors);               /* ifInErrors */
    v_u32(v, c->in_unknown);              /* ifInUnknownProtos */
    v_u64(v, c->out_octets);              /* ifOutOctets */
    v_u32(v, c->out_ucast);               /* ifOutUcastPkts */
    v_u32(v, c->out_mcast);               /* ifOutMulticastPkts */
    v_u32(v, c->out_bcast);               /* ifOutBroadcastPkts */
    v_u32(v, c->out_discards);            /* ifOutDiscards */
    v_u32(v, c->out_errors);              /* ifOutErrors */
    v_u32(v, c->promisc);                 /* ifPromiscuousMode */
    v_end(v);
}

/* ethernet_counters record: 8 + 13 * 4 = 60 bytes, the 13 dot3Stats
 * counters in their order (AlignmentErrors, FCSErrors, SingleCollisionFrames,
 * MultipleCollisionFrames, SQETestErrors, DeferredTransmissions,
 * LateCollisions, ExcessiveCollisions, InternalMacTransmitErrors,
 * CarrierSenseErrors, FrameTooLongs, InternalMacReceiveErrors,
 * SymbolErrors) set to base, base + 1, ... base + 12. */
static inline void sf_rec_ethernet_counters(vec *v, uint32_t base)
{
    v_begin(v, 60);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 52); /* ethernet_counters */
    for (uint32_t i = 0; i < 13; i++)
        v_u32(v, base + i);
    v_end(v);
}

/* Interface counters of scn_sflow_counters (ifIndex 3, then 1000005). */
static inline sf_ifc sf_ifc3(int round)
{
    sf_ifc c = {
        3, 6 /* ethernetCsmacd */, 10000000000ull /* 10 Gbit/s */, 1 /* full duplex */,
        3 /* admin up | oper up */,
        0x0000001234567890ull + (uint64_t)round * 1000000, /* ifInOctets */
        1000u + (uint32_t)round, 20, 3, 4, 5, 6,
        0x000000e8d4a51000ull + (uint64_t)round * 2000000, /* ifOutOctets = 1e12 + ... */
        2000u + (uint32_t)round, 30, 7, 8, 9, 0,
    };
    return c;
}
static inline sf_ifc sf_ifc1000005(void)
{
    sf_ifc c = {1000005, 6, 100000000000ull /* 100 Gbit/s */, 1, 1 /* admin up, oper down */,
                5000000000ull, 11, 12, 13, 14, 15, 16,
                6000000000ull, 21, 22, 23, 24, 25, 1};
    return c;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

/* IPv4 agent 192.0.2.50, sub-agent 7, sequence 1000, two compact flow samples:
 *  1. frame A + extended_switch + extended_router (IPv4) + extended_gateway
 *     (IPv4, AS path AS_SEQUENCE {64499 64500} then AS_SET {64511},
 *     2 communities, localpref 100); input 3, output 7, rate 2048.
 *  2. frame B (raw IPv4); input 4, output 0x40000102 = format 1 (discarded),
 *     reason 258.
 * 28 + 244 + 92 = 364 bytes. */
static inline void scn_sflow_v4_flow(scn *s)
{
    scn_init(s, "sflow_v4_flow");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 364);
    sf_header4(v, 192, 0, 2, 50, 7, 1000, 3600000, 2);
    /* sample 1 */
    v_begin(v, 244);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 236); /* flow_sample, 32 + 80 + 24 + 24 + 76 */
    sf_flow_head(v, 501, 0x00000003 /* ifIndex 3 */, 2048, 4096000, 0, 3, 7, 4);
    sf_rec_header_a(v);
    v_begin(v, 24);
    v_u32(v, SF_FMT(0, 1001)), v_u32(v, 16); /* extended_switch */
    v_u32(v, 10);                            /* src_vlan */
    v_u32(v, 0);                             /* src_priority */
    v_u32(v, 20);                            /* dst_vlan */
    v_u32(v, 3);                             /* dst_priority */
    v_end(v);
    v_begin(v, 24);
    v_u32(v, SF_FMT(0, 1002)), v_u32(v, 16); /* extended_router */
    v_u32(v, 1), v_ip4(v, 192, 0, 2, 254);   /* nexthop IP_V4 192.0.2.254 */
    v_u32(v, 24);                            /* src_mask_len */
    v_u32(v, 16);                            /* dst_mask_len */
    v_end(v);
    v_begin(v, 76);
    v_u32(v, SF_FMT(0, 1003)), v_u32(v, 68); /* extended_gateway: 8+4+4+4+4+16+12+12+4 */
    v_u32(v, 1), v_ip4(v, 192, 0, 2, 253);   /* nexthop IP_V4 192.0.2.253 */
    v_u32(v, 64496);                         /* as: the router's own */
    v_u32(v, 64497);                         /* src_as */
    v_u32(v, 64498);                         /* src_peer_as */
    v_u32(v, 2);                             /* dst_as_path<>: 2 segments */
    v_u32(v, 2), v_u32(v, 2);                /* AS_SEQUENCE, 2 ASes */
    v_u32(v, 64499), v_u32(v, 64500);
    v_u32(v, 1), v_u32(v, 1); /* AS_SET, 1 AS */
    v_u32(v, 64511);
    v_u32(v, 2);                                   /* communities<>: 2 */
    v_u32(v, 0xfde8000a), v_u32(v, 0xfde80014);    /* 65000:10, 65000:20 */
    v_u32(v, 100);                                 /* localpref */
    v_end(v);
    v_end(v);
    /* sample 2 */
    v_begin(v, 92);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 84); /* flow_sample, 32 + 52 */
    sf_flow_head(v, 502, 0x00000003, 2048, 4098048, 5, 4, 0x40000102, 1);
    sf_rec_header_b(v);
    v_end(v);
    v_end(v);
}

/* IPv6 agent 2001:db8::50, sub-agent 0, sequence 77, two expanded flow samples:
 *  1. source (0, 1000100), rate 4096, input (0, 1000100), output (2, 5):
 *     several interfaces; frame C + extended_router (IPv6 next hop
 *     2001:db8::fe, /48, /64) + extended_gateway (IPv6 next hop 2001:db8::fd,
 *     as 65000, src_as 0, empty path, no communities);
 *  2. source (0, 1000101), input (0, 0xFFFFFFFF): the device itself,
 *     output (1, 262): discarded; sampled_ipv6 only.
 * 40 + 232 + 116 = 388 bytes. */
static inline void scn_sflow_v6_expanded(scn *s)
{
    scn_init(s, "sflow_v6_expanded");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 388);
    sf_header6(v, "20010db8000000000000000000000050", 0, 77, 1000, 2);
    v_begin(v, 232);
    v_u32(v, SF_FMT(0, 3)), v_u32(v, 224); /* flow_sample_expanded, 44 + 92 + 36 + 52 */
    sf_flowx_head(v, 9, 0, 1000100, 4096, 8192000, 1, 0, 1000100, 2, 5, 3);
    sf_rec_header_c(v);
    v_begin(v, 36);
    v_u32(v, SF_FMT(0, 1002)), v_u32(v, 28); /* extended_router, 4 + 16 + 4 + 4 */
    v_u32(v, 2), v_hex(v, "20010db80000000000000000000000fe");
    v_u32(v, 48), v_u32(v, 64);
    v_end(v);
    v_begin(v, 52);
    v_u32(v, SF_FMT(0, 1003)), v_u32(v, 44); /* extended_gateway, 20 + 12 + 4 + 4 + 4 */
    v_u32(v, 2), v_hex(v, "20010db80000000000000000000000fd");
    v_u32(v, 65000); /* as */
    v_u32(v, 0);     /* src_as: unknown */
    v_u32(v, 0);     /* src_peer_as */
    v_u32(v, 0);     /* dst_as_path<>: empty */
    v_u32(v, 0);     /* communities<>: none */
    v_u32(v, 0);     /* localpref */
    v_end(v);
    v_end(v);
    v_begin(v, 116);
    v_u32(v, SF_FMT(0, 3)), v_u32(v, 108); /* flow_sample_expanded, 44 + 64 */
    sf_flowx_head(v, 10, 0, 1000101, 4096, 8196096, 0, 0, 0xffffffff, 1, 262, 1);
    v_begin(v, 64);
    v_u32(v, SF_FMT(0, 4)), v_u32(v, 56); /* sampled_ipv6: 4+4+16+16+4+4+4+4 */
    v_u32(v, 1280);                       /* length */
    v_u32(v, 17);                         /* protocol UDP */
    v_hex(v, "20010db8000a00000000000000000001"); /* src_ip 2001:db8:a::1 */
    v_hex(v, "20010db8000b00000000000000000002"); /* dst_ip 2001:db8:b::2 */
    v_u32(v, 5353);                       /* src_port */
    v_u32(v, 53);                         /* dst_port */
    v_u32(v, 0);                          /* tcp_flags */
    v_u32(v, 0xb8);                       /* priority (traffic class) */
    v_end(v);
    v_end(v);
    v_end(v);
}

/* IPv4 agent 192.0.2.51, one compact flow sample with sampled_ethernet and
 * sampled_ipv4 and no header: 28 + 112 = 140 bytes. */
static inline void scn_sflow_sampled_records(scn *s)
{
    scn_init(s, "sflow_sampled_records");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 140);
    sf_header4(v, 192, 0, 2, 51, 0, 5, 60000, 1);
    v_begin(v, 112);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 104); /* flow_sample, 32 + 32 + 40 */
    sf_flow_head(v, 1, 1, 512, 51200, 0, 1, 2, 2);
    v_begin(v, 32);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 24); /* sampled_ethernet: 4 + 8 + 8 + 4 */
    v_u32(v, 1522);                       /* length: the MAC packet, FCS included */
    v_hex(v, "002590000001" "0000");      /* src_mac + XDR padding */
    v_hex(v, "001b21000002" "0000");      /* dst_mac + XDR padding */
    v_u32(v, 0x0800);                     /* type */
    v_end(v);
    v_begin(v, 40);
    v_u32(v, SF_FMT(0, 3)), v_u32(v, 32); /* sampled_ipv4: 8 x 4 */
    v_u32(v, 1500);                       /* length: the IP packet */
    v_u32(v, 6);                          /* protocol TCP */
    v_ip4(v, 198, 51, 100, 30);           /* src_ip */
    v_ip4(v, 203, 0, 113, 40);            /* dst_ip */
    v_u32(v, 22);                         /* src_port */
    v_u32(v, 60000);                      /* dst_port */
    v_u32(v, 0x10);                       /* tcp_flags ACK */
    v_u32(v, 0x10);                       /* tos */
    v_end(v);
    v_end(v);
    v_end(v);
}

/* IPv4 agent 192.0.2.52. Datagram 1 (sequence 1): counters_sample for
 * ifIndex 3 (if_counters, then ethernet_counters 11..23) and
 * counters_sample_expanded for ifIndex 1000005 (if_counters): 28 + 176 +
 * 120 = 324 bytes. Datagram 2 (sequence 2, 30 s later): ifIndex 3 again,
 * ethernet_counters (111..123) FIRST, then if_counters round 1: 28 + 176 =
 * 204 bytes. */
static inline void scn_sflow_counters(scn *s)
{
    scn_init(s, "sflow_counters");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    sf_ifc c3 = sf_ifc3(0), cx = sf_ifc1000005();
    v_begin(v, 324);
    sf_header4(v, 192, 0, 2, 52, 0, 1, 7200000, 2);
    v_begin(v, 176);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 168); /* counters_sample, 12 + 96 + 60 */
    v_u32(v, 40);                          /* sequence_number */
    v_u32(v, 0x00000003);                  /* source_id: ifIndex 3 */
    v_u32(v, 2);                           /* counters<> */
    sf_rec_if_counters(v, &c3);
    sf_rec_ethernet_counters(v, 11);
    v_end(v);
    v_begin(v, 120);
    v_u32(v, SF_FMT(0, 4)), v_u32(v, 112); /* counters_sample_expanded, 16 + 96 */
    v_u32(v, 41);                          /* sequence_number */
    v_u32(v, 0), v_u32(v, 1000005);        /* source_id_type 0 (ifIndex), source_id_index */
    v_u32(v, 1);                           /* counters<> */
    sf_rec_if_counters(v, &cx);
    v_end(v);
    v_end(v);

    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(30));
    c3 = sf_ifc3(1);
    v_begin(v, 204);
    sf_header4(v, 192, 0, 2, 52, 0, 2, 7230000, 1);
    v_begin(v, 176);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 168);
    v_u32(v, 42), v_u32(v, 0x00000003), v_u32(v, 2);
    sf_rec_ethernet_counters(v, 111);
    sf_rec_if_counters(v, &c3);
    v_end(v);
    v_end(v);
}

/* IPv4 agent 192.0.2.53, sequence 1, 5 samples:
 *  1. (0,5) 16 bytes: a sample kind this decoder does not know (24);
 *  2. (4413,1) 8 bytes: an enterprise sample (16);
 *  3. flow_sample with (0,2000) 12 bytes, (8800,7) 4 bytes, frame B, and 4
 *     trailing zero bytes inside the sample length (128);
 *  4. counters_sample, ifIndex 9: processor (0,1001) 28 bytes, an enterprise
 *     record (4413,1) shaped like if_counters for ifIndex 77, if_counters (248);
 *  5. flow_sample with a sampled_header of header_protocol 5 (FRAME-RELAY,
 *     not parsed), frame_length 200, 4 header bytes (68).
 * 28 + 24 + 16 + 128 + 248 + 68 = 512 bytes. */
static inline void scn_sflow_skip(scn *s)
{
    scn_init(s, "sflow_skip");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 512);
    sf_header4(v, 192, 0, 2, 53, 0, 1, 1000, 5);
    v_begin(v, 24);
    v_u32(v, SF_FMT(0, 5)), v_u32(v, 16);
    v_u32(v, 1), v_u32(v, 2), v_u32(v, 3), v_u32(v, 4);
    v_end(v);
    v_begin(v, 16);
    v_u32(v, SF_FMT(4413, 1)), v_u32(v, 8); /* 0x0113D001 */
    v_u32(v, 0xdeadbeef), v_u32(v, 0x01020304);
    v_end(v);
    v_begin(v, 128);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 120); /* flow_sample, 32 + 20 + 12 + 52 + 4 */
    sf_flow_head(v, 1, 2, 100, 100, 0, 2, 3, 3);
    v_begin(v, 20);
    v_u32(v, SF_FMT(0, 2000)), v_u32(v, 12);
    v_u32(v, 0xffffffff), v_u32(v, 0xffffffff), v_u32(v, 0xffffffff);
    v_end(v);
    v_begin(v, 12);
    v_u32(v, SF_FMT(8800, 7)), v_u32(v, 4); /* 0x02260007 */
    v_u32(v, 0x00000001);
    v_end(v);
    sf_rec_header_b(v);
    v_u32(v, 0); /* padding inside the sample length */
    v_end(v);
    v_begin(v, 248);
    v_u32(v, SF_FMT(0, 2)), v_u32(v, 240); /* counters_sample, 12 + 36 + 96 + 96 */
    v_u32(v, 7), v_u32(v, 9), v_u32(v, 3);
    v_begin(v, 36);
    v_u32(v, SF_FMT(0, 1001)), v_u32(v, 28); /* processor: 3 percentages + 2 hypers */
    v_u32(v, 5), v_u32(v, 6), v_u32(v, 7), v_u64(v, 1ull << 33), v_u64(v, 1ull << 32);
    v_end(v);
    {
        sf_ifc c77 = {77, 6, 1000000000ull, 1, 3, 7700, 77, 0, 0, 0, 0, 0, 7700, 77, 0, 0, 0, 0, 0};
        size_t at = v->n;
        sf_rec_if_counters(v, &c77);
        v_patch(v, at, SF_FMT(4413, 1), 4); /* the same bytes under enterprise 4413 */
        sf_ifc c9 = {9, 6, 1000000000ull, 1, 3, 900, 9, 0, 0, 0, 0, 0, 1900, 19, 0, 0, 0, 0, 0};
        sf_rec_if_counters(v, &c9);
    }
    v_end(v);
    v_begin(v, 68);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 60); /* flow_sample, 32 + 28 */
    sf_flow_head(v, 2, 2, 100, 200, 0, 2, 3, 1);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 20); /* sampled_header, 16 + 4 */
    v_u32(v, 5);                          /* header_protocol 5 FRAME-RELAY */
    v_u32(v, 200);                        /* frame_length */
    v_u32(v, 0);                          /* stripped */
    v_u32(v, 4), v_hex(v, "18e10300");    /* 4 header bytes */
    v_end(v);
    v_end(v);
}

/* IPv4 agent 192.0.2.54: sub-agent 1 sends sequence 10, 11 and 14 (12 and 13
 * lost); sub-agent 2 sends 500 in between with sampling_rate 0. Each
 * datagram 28 + 92 = 120 bytes, 1 s apart. */
static inline void scn_sflow_seq(scn *s)
{
    static const uint32_t sub[4] = {1, 2, 1, 1}, seq[4] = {10, 500, 11, 14}, rate[4] = {1000, 0, 1000, 1000};
    scn_init(s, "sflow_seq");
    for (int i = 0; i < 4; i++) {
        vec *v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(i));
        v_begin(v, 120);
        sf_header4(v, 192, 0, 2, 54, sub[i], seq[i], 1000u * (uint32_t)(i + 1), 1);
        sf_small_flow(v, (uint32_t)i + 1, rate[i], 5, 6);
        v_end(v);
    }
}

/* IPv4 agent 192.0.2.55: an extended_gateway with 20 ASes in 3 segments,
 * AS_SEQUENCE 65001..65010, AS_SET {65101 65102}, AS_SEQUENCE 65201..65208.
 * Gateway body 8 + 12 + 4 + (8 + 40) + (8 + 8) + (8 + 32) + 4 + 4 = 136.
 * 28 + 8 + 32 + 144 = 212 bytes. */
static inline void scn_sflow_as_path_long(scn *s)
{
    scn_init(s, "sflow_as_path_long");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 212);
    sf_header4(v, 192, 0, 2, 55, 0, 1, 1000, 1);
    v_begin(v, 184);
    v_u32(v, SF_FMT(0, 1)), v_u32(v, 176); /* flow_sample, 32 + 144 */
    sf_flow_head(v, 1, 1, 10, 10, 0, 1, 2, 1);
    v_begin(v, 144);
    v_u32(v, SF_FMT(0, 1003)), v_u32(v, 136);
    v_u32(v, 1), v_ip4(v, 192, 0, 2, 1);
    v_u32(v, 64496), v_u32(v, 64497), v_u32(v, 64498);
    v_u32(v, 3);
    v_u32(v, 2), v_u32(v, 10);
    for (uint32_t a = 65001; a <= 65010; a++)
        v_u32(v, a);
    v_u32(v, 1), v_u32(v, 2);
    v_u32(v, 65101), v_u32(v, 65102);
    v_u32(v, 2), v_u32(v, 8);
    for (uint32_t a = 65201; a <= 65208; a++)
        v_u32(v, a);
    v_u32(v, 0);   /* communities<> */
    v_u32(v, 200); /* localpref */
    v_end(v);
    v_end(v);
    v_end(v);
}

/* Every sFlow scenario, for malformed_test.c. */
static inline size_t scn_sflow_all(const scn_builder **out)
{
    static const scn_builder all[] = {
        scn_sflow_v4_flow, scn_sflow_v6_expanded, scn_sflow_sampled_records, scn_sflow_counters,
        scn_sflow_skip,    scn_sflow_seq,         scn_sflow_as_path_long,
    };
    *out = all;
    return sizeof all / sizeof all[0];
}

#endif
