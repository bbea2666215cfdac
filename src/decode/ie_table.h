/*
 * ie_table.h - NetFlow v9 field types (RFC 3954 §8) and IPFIX information
 * elements (RFC 7012 §5, IANA "IPFIX Information Elements" registry) that
 * flowtally maps into struct ft_flow, each with the operation that stores it.
 *
 * NetFlow v9 field types 1-127 share their numbers with the IPFIX IEs
 * (RFC 7012 §1 keeps them compatible), so one table serves both versions.
 * Unknown elements and all enterprise-specific ones compile to FT_OP_SKIP:
 * their bytes are skipped by length, never interpreted.
 */
#ifndef FT_IE_TABLE_H
#define FT_IE_TABLE_H

#include <stdint.h>

/* What a template field does with its value. */
typedef enum ft_op {
    FT_OP_SKIP = 0,
    FT_OP_IN_BYTES,        /* 1 IN_BYTES / octetDeltaCount */
    FT_OP_IN_PKTS,         /* 2 IN_PKTS / packetDeltaCount */
    FT_OP_PROTO,           /* 4 PROTOCOL / protocolIdentifier */
    FT_OP_TOS,             /* 5 SRC_TOS / ipClassOfService */
    FT_OP_TCP_FLAGS,       /* 6 TCP_FLAGS / tcpControlBits */
    FT_OP_SRC_PORT,        /* 7 L4_SRC_PORT / sourceTransportPort */
    FT_OP_SRC_ADDR,        /* 8 IPV4_SRC_ADDR, 27 IPV6_SRC_ADDR */
    FT_OP_SRC_MASK,        /* 9 SRC_MASK, 29 IPV6_SRC_MASK */
    FT_OP_IN_IF,           /* 10 INPUT_SNMP / ingressInterface */
    FT_OP_DST_PORT,        /* 11 L4_DST_PORT / destinationTransportPort */
    FT_OP_DST_ADDR,        /* 12 IPV4_DST_ADDR, 28 IPV6_DST_ADDR */
    FT_OP_DST_MASK,        /* 13 DST_MASK, 30 IPV6_DST_MASK */
    FT_OP_OUT_IF,          /* 14 OUTPUT_SNMP / egressInterface */
    FT_OP_NEXT_HOP,        /* 15 IPV4_NEXT_HOP, 62 IPV6_NEXT_HOP */
    FT_OP_SRC_AS,          /* 16 SRC_AS / bgpSourceAsNumber */
    FT_OP_DST_AS,          /* 17 DST_AS / bgpDestinationAsNumber */
    FT_OP_BGP_NEXT_HOP,    /* 18 BGP_IPV4_NEXT_HOP, 63 BGP_IPV6_NEXT_HOP */
    FT_OP_LAST_SWITCHED,   /* 21 LAST_SWITCHED / flowEndSysUpTime (ms) */
    FT_OP_FIRST_SWITCHED,  /* 22 FIRST_SWITCHED / flowStartSysUpTime (ms) */
    FT_OP_OUT_BYTES,       /* 23 OUT_BYTES / postOctetDeltaCount */
    FT_OP_OUT_PKTS,        /* 24 OUT_PKTS / postPacketDeltaCount */
    FT_OP_FLOW_LABEL,      /* 31 IPV6_FLOW_LABEL / flowLabelIPv6 */
    FT_OP_ICMP_TYPE_CODE,  /* 32 ICMP_TYPE / icmpTypeCodeIPv4, 139 icmpTypeCodeIPv6: type*256+code */
    FT_OP_SAMPLING_INTERVAL, /* 34 SAMPLING_INTERVAL / samplingInterval */
    FT_OP_SAMPLER_ID,      /* 48 FLOW_SAMPLER_ID / samplerId, 302 selectorId */
    FT_OP_SAMPLER_RANDOM_INTERVAL, /* 50 FLOW_SAMPLER_RANDOM_INTERVAL / samplerRandomInterval */
    FT_OP_MIN_TTL,         /* 52 MIN_TTL / minimumTTL, 192 ipTTL */
    FT_OP_FRAGMENT_ID,     /* 54 IPV4_IDENT / fragmentIdentification */
    FT_OP_SRC_MAC,         /* 56 IN_SRC_MAC / sourceMacAddress */
    FT_OP_DST_MAC,         /* 57 OUT_DST_MAC / postDestinationMacAddress */
    FT_OP_SRC_VLAN,        /* 58 SRC_VLAN / vlanId */
    FT_OP_DST_VLAN,        /* 59 DST_VLAN / postVlanId */
    FT_OP_IP_VERSION,      /* 60 IP_PROTOCOL_VERSION / ipVersion */
    FT_OP_DIRECTION,       /* 61 DIRECTION / flowDirection */
    FT_OP_MPLS_LABEL,      /* 70-79 MPLS_LABEL_1..10 / mplsTopLabelStackSection.. (3 bytes) */
    FT_OP_IN_DST_MAC,      /* 80 IN_DST_MAC / destinationMacAddress */
    FT_OP_FRAGMENT_OFFSET, /* 88 FRAGMENT_OFFSET / fragmentOffset */
    FT_OP_FORWARDING_STATUS, /* 89 FORWARDING_STATUS / forwardingStatus */
    FT_OP_OBSERVATION_POINT_ID, /* 138 observationPointId */
    FT_OP_START_SECONDS,   /* 150 flowStartSeconds */
    FT_OP_END_SECONDS,     /* 151 flowEndSeconds */
    FT_OP_START_MILLISECONDS, /* 152 flowStartMilliseconds */
    FT_OP_END_MILLISECONDS,   /* 153 flowEndMilliseconds */
    FT_OP_START_MICROSECONDS, /* 154 flowStartMicroseconds (NTP format) */
    FT_OP_END_MICROSECONDS,   /* 155 flowEndMicroseconds (NTP format) */
    FT_OP_START_NANOSECONDS,  /* 156 flowStartNanoseconds (NTP format) */
    FT_OP_END_NANOSECONDS,    /* 157 flowEndNanoseconds (NTP format) */
    FT_OP_START_DELTA_MICROSECONDS, /* 158 flowStartDeltaMicroseconds */
    FT_OP_END_DELTA_MICROSECONDS,   /* 159 flowEndDeltaMicroseconds */
    FT_OP_SYSTEM_INIT_TIME, /* 160 systemInitTimeMilliseconds */
    FT_OP_ICMP_TYPE,       /* 176 icmpTypeIPv4, 178 icmpTypeIPv6 */
    FT_OP_ICMP_CODE,       /* 177 icmpCodeIPv4, 179 icmpCodeIPv6 */
    FT_OP_FRAGMENT_FLAGS,  /* 197 fragmentFlags */
    FT_OP_INGRESS_VRF_ID,  /* 234 ingressVRFID */
    FT_OP_EGRESS_VRF_ID,   /* 235 egressVRFID */
    FT_OP_BIFLOW_DIRECTION, /* 239 biflowDirection */
    FT_OP_DOT1Q_VLAN,      /* 243 dot1qVlanId */
    FT_OP_ETHERNET_TYPE,   /* 256 ethernetType */
    FT_OP_SELECTOR_ALGORITHM,       /* 304 selectorAlgorithm */
    FT_OP_SAMPLING_PACKET_INTERVAL, /* 305 samplingPacketInterval */
    FT_OP_SAMPLING_PACKET_SPACE,    /* 306 samplingPacketSpace */
    FT_OP_SAMPLING_SIZE,       /* 309 samplingSize */
    FT_OP_SAMPLING_POPULATION, /* 310 samplingPopulation */
    FT_OP_DATALINK_FRAME_SIZE, /* 312 dataLinkFrameSize (RFC 7133 §4.1) */
    FT_OP_DATALINK_FRAME,  /* 315 dataLinkFrameSection (RFC 7133 §4.7) */
    FT_OP_COUNT
} ft_op;

/* Value shape an op accepts, checked against the template's field length. */
typedef enum ft_ie_kind {
    FT_IE_UINT,  /* unsigned, any length 1..8 (reduced-size encoding, RFC 7011 §6.2) */
    FT_IE_ADDR4, /* exactly 4 bytes */
    FT_IE_ADDR6, /* exactly 16 bytes */
    FT_IE_ADDR,  /* 4 or 16 bytes */
    FT_IE_MAC,   /* exactly 6 bytes */
    FT_IE_OCTETS /* any length, variable-length allowed */
} ft_ie_kind;

typedef struct ft_ie {
    uint16_t id;
    ft_op op;
    ft_ie_kind kind;
    const char *name; /* RFC 7012 / IANA name (RFC 3954 name in the comment of ft_op) */
} ft_ie;

/* The entry for a non-enterprise element id, or NULL when flowtally does not
 * use it. Static storage. */
const ft_ie *ft_ie_lookup(uint16_t id);

/* The op a template field compiles to: FT_OP_SKIP for enterprise-specific
 * elements (pen != 0), unknown ids, and lengths the element cannot have
 * (len 0xFFFF means variable length, RFC 7011 §7). */
ft_op ft_ie_compile(uint16_t id, uint32_t pen, uint16_t len);

#endif
