#include "decode/ie_table.h"

#include <stddef.h>

/* Sorted by id (binary search; lookups happen once per template field, when a
 * template is compiled, never per record). */
static const ft_ie ie_rows[] = {
    {1, FT_OP_IN_BYTES, FT_IE_UINT, "octetDeltaCount"},
    {2, FT_OP_IN_PKTS, FT_IE_UINT, "packetDeltaCount"},
    {4, FT_OP_PROTO, FT_IE_UINT, "protocolIdentifier"},
    {5, FT_OP_TOS, FT_IE_UINT, "ipClassOfService"},
    {6, FT_OP_TCP_FLAGS, FT_IE_UINT, "tcpControlBits"},
    {7, FT_OP_SRC_PORT, FT_IE_UINT, "sourceTransportPort"},
    {8, FT_OP_SRC_ADDR, FT_IE_ADDR4, "sourceIPv4Address"},
    {9, FT_OP_SRC_MASK, FT_IE_UINT, "sourceIPv4PrefixLength"},
    {10, FT_OP_IN_IF, FT_IE_UINT, "ingressInterface"},
    {11, FT_OP_DST_PORT, FT_IE_UINT, "destinationTransportPort"},
    {12, FT_OP_DST_ADDR, FT_IE_ADDR4, "destinationIPv4Address"},
    {13, FT_OP_DST_MASK, FT_IE_UINT, "destinationIPv4PrefixLength"},
    {14, FT_OP_OUT_IF, FT_IE_UINT, "egressInterface"},
    {15, FT_OP_NEXT_HOP, FT_IE_ADDR4, "ipNextHopIPv4Address"},
    {16, FT_OP_SRC_AS, FT_IE_UINT, "bgpSourceAsNumber"},
    {17, FT_OP_DST_AS, FT_IE_UINT, "bgpDestinationAsNumber"},
    {18, FT_OP_BGP_NEXT_HOP, FT_IE_ADDR4, "bgpNextHopIPv4Address"},
    {21, FT_OP_LAST_SWITCHED, FT_IE_UINT, "flowEndSysUpTime"},
    {22, FT_OP_FIRST_SWITCHED, FT_IE_UINT, "flowStartSysUpTime"},
    {23, FT_OP_OUT_BYTES, FT_IE_UINT, "postOctetDeltaCount"},
    {24, FT_OP_OUT_PKTS, FT_IE_UINT, "postPacketDeltaCount"},
    {27, FT_OP_SRC_ADDR, FT_IE_ADDR6, "sourceIPv6Address"},
    {28, FT_OP_DST_ADDR, FT_IE_ADDR6, "destinationIPv6Address"},
    {29, FT_OP_SRC_MASK, FT_IE_UINT, "sourceIPv6PrefixLength"},
    {30, FT_OP_DST_MASK, FT_IE_UINT, "destinationIPv6PrefixLength"},
    {31, FT_OP_FLOW_LABEL, FT_IE_UINT, "flowLabelIPv6"},
    {32, FT_OP_ICMP_TYPE_CODE, FT_IE_UINT, "icmpTypeCodeIPv4"},
    {34, FT_OP_SAMPLING_INTERVAL, FT_IE_UINT, "samplingInterval"},
    {48, FT_OP_SAMPLER_ID, FT_IE_UINT, "samplerId"},
    {50, FT_OP_SAMPLER_RANDOM_INTERVAL, FT_IE_UINT, "samplerRandomInterval"},
    {52, FT_OP_MIN_TTL, FT_IE_UINT, "minimumTTL"},
    {54, FT_OP_FRAGMENT_ID, FT_IE_UINT, "fragmentIdentification"},
    {56, FT_OP_SRC_MAC, FT_IE_MAC, "sourceMacAddress"},
    {57, FT_OP_DST_MAC, FT_IE_MAC, "postDestinationMacAddress"},
    {58, FT_OP_SRC_VLAN, FT_IE_UINT, "vlanId"},
    {59, FT_OP_DST_VLAN, FT_IE_UINT, "postVlanId"},
    {60, FT_OP_IP_VERSION, FT_IE_UINT, "ipVersion"},
    {61, FT_OP_DIRECTION, FT_IE_UINT, "flowDirection"},
    {62, FT_OP_NEXT_HOP, FT_IE_ADDR6, "ipNextHopIPv6Address"},
    {63, FT_OP_BGP_NEXT_HOP, FT_IE_ADDR6, "bgpNextHopIPv6Address"},
    {70, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsTopLabelStackSection"},
    {71, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection2"},
    {72, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection3"},
    {73, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection4"},
    {74, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection5"},
    {75, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection6"},
    {76, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection7"},
    {77, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection8"},
    {78, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection9"},
    {79, FT_OP_MPLS_LABEL, FT_IE_UINT, "mplsLabelStackSection10"},
    {80, FT_OP_IN_DST_MAC, FT_IE_MAC, "destinationMacAddress"},
    {88, FT_OP_FRAGMENT_OFFSET, FT_IE_UINT, "fragmentOffset"},
    {89, FT_OP_FORWARDING_STATUS, FT_IE_UINT, "forwardingStatus"},
    {138, FT_OP_OBSERVATION_POINT_ID, FT_IE_UINT, "observationPointId"},
    {139, FT_OP_ICMP_TYPE_CODE, FT_IE_UINT, "icmpTypeCodeIPv6"},
    {150, FT_OP_START_SECONDS, FT_IE_UINT, "flowStartSeconds"},
    {151, FT_OP_END_SECONDS, FT_IE_UINT, "flowEndSeconds"},
    {152, FT_OP_START_MILLISECONDS, FT_IE_UINT, "flowStartMilliseconds"},
    {153, FT_OP_END_MILLISECONDS, FT_IE_UINT, "flowEndMilliseconds"},
    {154, FT_OP_START_MICROSECONDS, FT_IE_UINT, "flowStartMicroseconds"},
    {155, FT_OP_END_MICROSECONDS, FT_IE_UINT, "flowEndMicroseconds"},
    {156, FT_OP_START_NANOSECONDS, FT_IE_UINT, "flowStartNanoseconds"},
    {157, FT_OP_END_NANOSECONDS, FT_IE_UINT, "flowEndNanoseconds"},
    {158, FT_OP_START_DELTA_MICROSECONDS, FT_IE_UINT, "flowStartDeltaMicroseconds"},
    {159, FT_OP_END_DELTA_MICROSECONDS, FT_IE_UINT, "flowEndDeltaMicroseconds"},
    {160, FT_OP_SYSTEM_INIT_TIME, FT_IE_UINT, "systemInitTimeMilliseconds"},
    {176, FT_OP_ICMP_TYPE, FT_IE_UINT, "icmpTypeIPv4"},
    {177, FT_OP_ICMP_CODE, FT_IE_UINT, "icmpCodeIPv4"},
    {178, FT_OP_ICMP_TYPE, FT_IE_UINT, "icmpTypeIPv6"},
    {179, FT_OP_ICMP_CODE, FT_IE_UINT, "icmpCodeIPv6"},
    {192, FT_OP_MIN_TTL, FT_IE_UINT, "ipTTL"},
    {197, FT_OP_FRAGMENT_FLAGS, FT_IE_UINT, "fragmentFlags"},
    {234, FT_OP_INGRESS_VRF_ID, FT_IE_UINT, "ingressVRFID"},
    {235, FT_OP_EGRESS_VRF_ID, FT_IE_UINT, "egressVRFID"},
    {239, FT_OP_BIFLOW_DIRECTION, FT_IE_UINT, "biflowDirection"},
    {243, FT_OP_DOT1Q_VLAN, FT_IE_UINT, "dot1qVlanId"},
    {256, FT_OP_ETHERNET_TYPE, FT_IE_UINT, "ethernetType"},
    {302, FT_OP_SAMPLER_ID, FT_IE_UINT, "selectorId"},
    {304, FT_OP_SELECTOR_ALGORITHM, FT_IE_UINT, "selectorAlgorithm"},
    {305, FT_OP_SAMPLING_PACKET_INTERVAL, FT_IE_UINT, "samplingPacketInterval"},
    {306, FT_OP_SAMPLING_PACKET_SPACE, FT_IE_UINT, "samplingPacketSpace"},
    {309, FT_OP_SAMPLING_SIZE, FT_IE_UINT, "samplingSize"},
    {310, FT_OP_SAMPLING_POPULATION, FT_IE_UINT, "samplingPopulation"},
    {312, FT_OP_DATALINK_FRAME_SIZE, FT_IE_UINT, "dataLinkFrameSize"},
    {315, FT_OP_DATALINK_FRAME, FT_IE_OCTETS, "dataLinkFrameSection"},
};

const ft_ie *ft_ie_lookup(uint16_t id)
{
    size_t lo = 0, hi = sizeof ie_rows / sizeof ie_rows[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ie_rows[mid].id == id)
            return &ie_rows[mid];
        if (ie_rows[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

ft_op ft_ie_compile(uint16_t id, uint32_t pen, uint16_t len)
{
    if (pen != 0)
        return FT_OP_SKIP;
    const ft_ie *ie = ft_ie_lookup(id);
    if (!ie)
        return FT_OP_SKIP;
    switch (ie->kind) {
    case FT_IE_UINT:
        return len >= 1 && len <= 8 ? ie->op : FT_OP_SKIP;
    case FT_IE_ADDR4:
        return len == 4 ? ie->op : FT_OP_SKIP;
    case FT_IE_ADDR6:
        return len == 16 ? ie->op : FT_OP_SKIP;
    case FT_IE_ADDR:
        return len == 4 || len == 16 ? ie->op : FT_OP_SKIP;
    case FT_IE_MAC:
        return len == 6 ? ie->op : FT_OP_SKIP;
    case FT_IE_OCTETS:
        return ie->op;
    }
    return FT_OP_SKIP;
}
