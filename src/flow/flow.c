/* flow.c - names of the flow record's enumerations (flow.h). */
#include "flow/flow.h"

const char *ft_flow_type_name(ft_flow_type t)
{
    /* goflow's FlowMessage.FlowType names, as its JSON output spells them. */
    switch (t) {
    case FT_FLOW_SFLOW_5:
        return "SFLOW_5";
    case FT_FLOW_NETFLOW_V5:
        return "NETFLOW_V5";
    case FT_FLOW_NETFLOW_V9:
        return "NETFLOW_V9";
    case FT_FLOW_IPFIX:
        return "IPFIX";
    case FT_FLOW_UNKNOWN:
        break;
    }
    return "FLOWUNKNOWN";
}
