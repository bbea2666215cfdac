/* flow.c - names of the flow record's enumerations, and clearing a record (flow.h). */
#include "flow/flow.h"

#include <string.h>

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

void ft_flow_zero(ft_flow *f)
{
    /* For memset with the constant 488 bytes of an ft_flow, GCC emits an
     * inline `rep stosq`, whose start-up cost made it one of the largest
     * items of the sFlow decode profile (a record per flow sample).
     * explicit_bzero is never expanded inline (it exists so that a
     * compiler cannot drop it), so the C library's memset runs, which
     * clears 488 bytes with a few vector stores: sFlow decoding took 10%
     * less CPU (bench/RESULTS.md, "Optimisations (decode)"). */
    explicit_bzero(f, sizeof *f);
}
