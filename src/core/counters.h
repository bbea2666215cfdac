/*
 * counters.h - per-exporter counters, from one X-macro table.
 *
 * Each decoder worker owns its counters and is their only writer; readers
 * (--stats, /metrics) on other threads load them concurrently. ft_ctr is a
 * relaxed atomic so that read is defined behaviour, while an increment stays
 * a plain load + add + store on the hot path (one writer, no lock prefix).
 * Workers' snapshots are summed by exporter address on read.
 */
#ifndef FT_COUNTERS_H
#define FT_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"

typedef _Atomic uint64_t ft_ctr;

static inline void ft_ctr_add(ft_ctr *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t ft_ctr_get(const ft_ctr *c)
{
    return atomic_load_explicit((ft_ctr *)c, memory_order_relaxed);
}

/* X(name, "help"): monotonic counters kept per exporter. */
#define FT_CTR_MAP(X)                                                                             \
    X(packets, "export datagrams received")                                                       \
    X(octets, "export datagram payload bytes received")                                           \
    X(records, "flow records decoded and emitted")                                                \
    X(options_records, "options data records decoded (sampling, interface tables...)")            \
    X(templates_received, "template and options template records received")                      \
    X(template_withdrawals, "template withdrawals received (RFC 7011 §8.1)")                      \
    X(templates_expired, "templates expired: not refreshed within the template timeout")          \
    X(lost_packets, "export packets missing by sequence number (NetFlow v9, sFlow)")              \
    X(lost_records, "flow records missing by sequence number (NetFlow v5, IPFIX)")                \
    X(sequence_resets, "sequence number jumps read as an exporter restart, not as loss")          \
    X(sequence_reordered, "datagrams that arrived with an older sequence number")                 \
    X(sampling_unknown, "records with no known sampling rate (rate 1 used)")                      \
    X(pending_held, "data sets held because their template had not arrived yet")                  \
    X(pending_records, "records decoded from held data sets once their template arrived")       \
    X(flow_samples, "sFlow flow samples decoded (one flow record each)")                          \
    X(counter_samples, "sFlow counter samples decoded")                                           \
    X(samples_skipped, "sFlow samples of an unknown kind or enterprise, skipped by length")       \
    X(records_skipped, "sFlow flow/counter records of an unknown format, skipped by length")

typedef enum ft_ctr_id {
#define FT_CTR_ENUM(name, help) FT_CTR_##name,
    FT_CTR_MAP(FT_CTR_ENUM)
#undef FT_CTR_ENUM
        FT_CTR_COUNT
} ft_ctr_id;

/* Stable name ("packets", "lost_records"...) and help text of a counter. */
const char *ft_ctr_name(ft_ctr_id id);
const char *ft_ctr_help(ft_ctr_id id);

/* Protocol bits for ft_exporter_stats.protocols. */
#define FT_PROTO_NETFLOW_V5 (1u << 0)
#define FT_PROTO_NETFLOW_V9 (1u << 1)
#define FT_PROTO_IPFIX (1u << 2)
#define FT_PROTO_SFLOW_5 (1u << 3)

/* A plain-value snapshot of one exporter's counters, as handed to readers. */
typedef struct ft_exporter_stats {
    ft_addr addr;           /* datagram source (NetFlow/IPFIX) or agent (sFlow) */
    uint32_t protocols;     /* FT_PROTO_* bits seen */
    uint64_t last_seen_ns;  /* ns since the Unix epoch of the last datagram */
    uint64_t templates;     /* templates held now (gauge) */
    uint64_t pending;       /* data sets held now (gauge) */
    uint64_t sampling_rate; /* the exporter's default rate, 0 when unknown */
    uint64_t ctr[FT_CTR_COUNT];
    uint64_t errors[FT_ERR_COUNT]; /* decode faults and drops by kind; [FT_OK] unused */
} ft_exporter_stats;

/* Ethernet counters of one interface (sFlow v5 ethernet_counters, counter
 * format 2): the RFC 3635 dot3StatsTable counters, in the record's order,
 * as the agent's own monotonic 32-bit counters. */
typedef struct ft_eth_counters {
    uint32_t alignment_errors;             /* dot3StatsAlignmentErrors */
    uint32_t fcs_errors;                   /* dot3StatsFCSErrors */
    uint32_t single_collision_frames;      /* dot3StatsSingleCollisionFrames */
    uint32_t multiple_collision_frames;    /* dot3StatsMultipleCollisionFrames */
    uint32_t sqe_test_errors;              /* dot3StatsSQETestErrors */
    uint32_t deferred_transmissions;       /* dot3StatsDeferredTransmissions */
    uint32_t late_collisions;              /* dot3StatsLateCollisions */
    uint32_t excessive_collisions;         /* dot3StatsExcessiveCollisions */
    uint32_t internal_mac_transmit_errors; /* dot3StatsInternalMacTransmitErrors */
    uint32_t carrier_sense_errors;         /* dot3StatsCarrierSenseErrors */
    uint32_t frame_too_longs;              /* dot3StatsFrameTooLongs */
    uint32_t internal_mac_receive_errors;  /* dot3StatsInternalMacReceiveErrors */
    uint32_t symbol_errors;                /* dot3StatsSymbolErrors */
} ft_eth_counters;

/* Interface counters an sFlow agent reports in counter samples (sFlow v5
 * generic interface counters, format 1, and Ethernet counters, format 2),
 * the latest values per (agent, ifIndex). Octet and packet counts are the
 * agent's own monotonic counters (ifInOctets...), not deltas. */
typedef struct ft_if_counters {
    ft_addr agent;
    uint32_t if_index;
    uint32_t if_type;         /* IANAifType */
    uint64_t if_speed;        /* bits per second */
    uint32_t if_direction;    /* 0 unknown, 1 full duplex, 2 half, 3 in, 4 out */
    uint32_t if_status;       /* bit 0 admin up, bit 1 oper up */
    uint64_t in_octets, out_octets;
    uint64_t in_packets, out_packets; /* unicast + multicast + broadcast */
    uint64_t in_errors, out_errors;
    uint64_t in_discards, out_discards;
    bool has_ethernet;   /* eth holds an ethernet_counters record */
    ft_eth_counters eth; /* of the interface the counter sample's source_id names */
    uint64_t updated_ns; /* time received of the latest sample, ns since the Unix epoch */
} ft_if_counters;

/* Adds b's counters and gauges into a (same exporter, another worker). */
void ft_exporter_stats_add(ft_exporter_stats *a, const ft_exporter_stats *b);

#endif
