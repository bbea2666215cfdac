/*
 * flow.h - the flow record every decoder fills and every consumer reads.
 *
 * One struct ft_flow per flow (NetFlow/IPFIX data record) or per sample
 * (sFlow flow sample). Field names are goflow's FlowMessage names in
 * snake_case (the JSON names of --print and ../shared/FIELDS.md); the proto
 * field numbers are in proto/flow.proto. Units:
 *   - times: nanoseconds since the Unix epoch (UTC), uint64;
 *   - bytes/packets: as counted by the exporter, NOT multiplied by
 *     sampling_rate (consumers scale);
 *   - addresses: ft_addr, network byte order (IPv4 as ::ffff:a.b.c.d);
 *   - MACs: the 6 bytes in the low 48 bits of a uint64, first wire byte most
 *     significant (goflow's SrcMac/DstMac layout);
 *   - every other integer: host byte order.
 * A zero means "not carried by the exporter" unless stated otherwise.
 */
#ifndef FT_FLOW_H
#define FT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

/* goflow FlowMessage.FlowType values. */
typedef enum ft_flow_type {
    FT_FLOW_UNKNOWN = 0,
    FT_FLOW_SFLOW_5 = 1,
    FT_FLOW_NETFLOW_V5 = 2,
    FT_FLOW_NETFLOW_V9 = 3,
    FT_FLOW_IPFIX = 4,
} ft_flow_type;

/* Ethernet types set from the address family when the exporter gives none. */
#define FT_ETYPE_IPV4 0x0800
#define FT_ETYPE_IPV6 0x86dd

/* The longest BGP AS path kept (sFlow extended gateway); longer paths keep
 * their first FT_AS_PATH_MAX - 1 ASes and their last one. */
#define FT_AS_PATH_MAX 16

typedef struct ft_flow {
    ft_flow_type type;
    uint64_t time_received_ns;  /* ns since the Unix epoch: datagram arrival or capture time */
    uint32_t sequence_num;      /* export packet/datagram sequence from the header */
    uint64_t sampling_rate;     /* 1 in N packets; 1 when unsampled or unknown */
    uint32_t flow_direction;    /* 0 ingress, 1 egress: DIRECTION (61), RFC 3954 §8 / RFC 7012 flowDirection */
    ft_addr sampler_address;    /* exporter: datagram source or sFlow agent address */
    uint32_t observation_domain_id; /* v9 source ID / IPFIX observation domain ID / sFlow sub-agent ID */
    uint32_t observation_point_id;  /* IPFIX observationPointId (138) */

    uint64_t time_flow_start_ns; /* ns since the Unix epoch */
    uint64_t time_flow_end_ns;   /* ns since the Unix epoch; may precede start if the exporter says so */

    uint64_t bytes;   /* octets in the flow (sampled) */
    uint64_t packets; /* packets in the flow (sampled) */

    ft_addr src_addr, dst_addr;
    uint32_t etype;    /* Ethernet type: 0x0800, 0x86dd, ... */
    uint32_t proto;    /* IP protocol number */
    uint32_t src_port; /* L4 ports, host order */
    uint32_t dst_port;
    uint32_t in_if;    /* SNMP ifIndex */
    uint32_t out_if;
    uint64_t src_mac; /* low 48 bits */
    uint64_t dst_mac;
    uint32_t src_vlan, dst_vlan, vlan_id;
    uint32_t ingress_vrf_id, egress_vrf_id;
    uint32_t ip_tos;            /* full TOS / traffic class byte */
    uint32_t forwarding_status; /* RFC 7270 §4.12 forwardingStatus byte */
    uint32_t ip_ttl;            /* TTL / hop limit (minimum TTL for NetFlow/IPFIX) */
    uint32_t ip_flags;          /* IPv4 flags (3 bits), fragmentFlags (197) */
    uint32_t tcp_flags;         /* OR of TCP flags seen (low 8 bits; 9 with NS) */
    uint32_t icmp_type, icmp_code;
    uint32_t ipv6_flow_label; /* 20 bits */
    uint32_t fragment_id;
    uint32_t fragment_offset; /* the 13-bit Fragment Offset field value (8-octet units), RFC 7012 fragmentOffset (88) */
    uint32_t bi_flow_direction; /* RFC 5103 biflowDirection (239) */

    uint32_t src_as, dst_as;
    ft_addr next_hop;     /* IP next hop (IPV4/IPV6_NEXT_HOP) or the BGP one when only that is sent */
    ft_addr bgp_next_hop; /* BGP next hop (18, 63) */
    uint32_t next_hop_as;
    uint32_t src_net, dst_net; /* prefix lengths in bits */
    uint32_t as_path[FT_AS_PATH_MAX];
    uint32_t as_path_len;

    bool has_mpls;
    uint32_t mpls_count; /* labels in the stack, top first */
    uint32_t mpls_1_ttl, mpls_1_label;
    uint32_t mpls_2_ttl, mpls_2_label;
    uint32_t mpls_3_ttl, mpls_3_label;
    uint32_t mpls_last_ttl, mpls_last_label;

    bool has_encap; /* a tunnelled header was seen (GRE, IP-in-IP); see pkt_header.h for which one the *_encap fields hold */
    ft_addr src_addr_encap, dst_addr_encap;
    uint32_t proto_encap, etype_encap, ip_tos_encap, ip_ttl_encap;
    uint32_t ipv6_flow_label_encap, fragment_id_encap, fragment_offset_encap;

    bool has_ppp;
    uint32_t ppp_address_control;

    char src_country[3]; /* ISO 3166 alpha-2, NUL-terminated; "" unknown (enrichment) */
    char dst_country[3];
} ft_flow;

/* Short name of a flow type as in goflow's JSON ("NETFLOW_V9"...). */
const char *ft_flow_type_name(ft_flow_type t);

/* Sets every byte of *f to zero, as memset(f, 0, sizeof *f) would, but
 * faster where a decoder starts a fresh record per sample or packet
 * (flow.c says why). */
void ft_flow_zero(ft_flow *f);

/*
 * Where decoders put records. emit() is called once per record, on the
 * decoding thread; the record is only valid during the call (copy what you
 * keep). ctx is the sink's own state.
 */
typedef struct ft_flow_sink {
    void (*emit)(void *ctx, const ft_flow *f);
    void *ctx;
} ft_flow_sink;

#endif
