/*
 * exporter.h - per-exporter decode state, owned by one decoder (one worker).
 *
 * An exporter is identified by the datagram's source address (NetFlow/IPFIX)
 * as in RFC 7011 §8 (Template Management is per Transport Session and
 * Observation Domain). Below it live its observation domains (v9 source ID,
 * IPFIX observation domain ID, v5 engine type/id): sequence tracking and
 * systemInitTimeMilliseconds; its samplers (rates learnt from options data);
 * its counters; and the data sets held until their template arrives.
 * Every collection is bounded; the bounds are in exporter.c and ft_decoder_opts.
 */
#ifndef FT_EXPORTER_H
#define FT_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/counters.h"
#include "decode/template.h"

/* Observation domains tracked per exporter; the least recently used one is
 * recycled past this (its sequence tracking restarts, counted as a reset). */
#define FT_MAX_DOMAINS 64
/* Samplers tracked per exporter (recycled the same way). */
#define FT_MAX_SAMPLERS 64
/* sFlow interfaces (ifIndex) whose counters are kept per agent; counter
 * samples for more are dropped and counted (records_skipped). */
#define FT_MAX_INTERFACES 4096

/* Sequence gaps (counted as lost) remembered per domain, so that a late
 * message can be told from a restarted exporter: only a message that falls
 * into one of them is reordering. */
#define FT_SEQ_GAPS 4
/* ft_domain_sequence's boot_ms when the protocol carries no sysUptime. */
#define FT_BOOT_UNKNOWN INT64_MIN

typedef struct ft_domain {
    uint8_t version;         /* 5, 9 or 10 */
    uint32_t id;             /* source ID / observation domain ID / v5 engine type<<8|id */
    bool seq_valid;          /* next_seq is known */
    uint32_t next_seq;       /* sequence number the next message should carry */
    uint32_t last_seq;       /* sequence number of the latest in-order message */
    uint8_t fit_before, fit_after; /* messages that fitted either numbering only (see below) */
    uint8_t n_gaps;          /* open gaps held in gap_lo/gap_hi, newest first */
    uint32_t gap_lo[FT_SEQ_GAPS], gap_hi[FT_SEQ_GAPS]; /* [lo, hi) counted as lost, not yet filled */
    bool boot_valid;         /* boot_ms and uptime_ms are known */
    int64_t boot_ms;         /* v5/v9: export time - sysUptime of the latest in-order message, ms */
    uint32_t uptime_ms;      /* v5/v9: its sysUptime */
    uint64_t system_init_ms; /* IPFIX systemInitTimeMilliseconds (160) from options data, 0 unknown */
    uint64_t rate;           /* rate from options data naming no sampler (the domain's own), 0 unknown */
    uint64_t keyed_rate;     /* latest rate of any named sampler, the fallback when rate is 0 */
    uint64_t used_ns;        /* last use, for recycling */
} ft_domain;

typedef struct ft_sampler {
    uint8_t version;
    uint32_t domain;
    uint64_t id;   /* FLOW_SAMPLER_ID (48) / selectorId (302) */
    uint64_t rate; /* 1 in N */
    uint64_t used_ns;
} ft_sampler;

/* A data set held until its template arrives; data[] is a copy of the set
 * body (after the 4-byte set header). */
typedef struct ft_pending {
    struct ft_pending *next;
    ft_msg_ctx m;     /* the header of the message it came in */
    uint16_t tid;     /* template ID = set ID */
    uint64_t held_ns; /* time received of its message */
    uint32_t len;
    uint8_t data[];
} ft_pending;

typedef struct ft_exporter {
    struct ft_exporter *next; /* table hash chain */
    ft_addr addr;
    uint32_t protocols;    /* FT_PROTO_* bits */
    uint64_t last_seen_ns; /* ns since the Unix epoch */
    uint64_t override_rate; /* --sampling-rate for this address, 0 none */
    uint64_t default_rate;  /* the latest rate learnt from any source, for stats */
    uint32_t n_templates;
    ft_ctr ctr[FT_CTR_COUNT];
    ft_ctr err[FT_ERR_COUNT];
    ft_domain domains[FT_MAX_DOMAINS];
    uint32_t n_domains;
    ft_sampler samplers[FT_MAX_SAMPLERS];
    uint32_t n_samplers;
    ft_pending *pending_head, *pending_tail;
    uint32_t n_pending;
    uint32_t pending_bytes;
    ft_if_counters *ifs; /* sFlow interface counters, sorted by if_index */
    uint32_t n_ifs, cap_ifs;
} ft_exporter;

/* The counters slot of ifIndex idx, created (zeroed, agent and index set)
 * when new. *n_total counts the slots of every exporter of one decoder and
 * grows with each new one; NULL past FT_MAX_INTERFACES for this exporter,
 * once *n_total reached max_total (so agents spoofed per datagram cannot
 * hold 4096 x 4096 slots), or on ENOMEM. */
ft_if_counters *ft_exporter_interface(ft_exporter *e, uint32_t idx, uint32_t *n_total, uint32_t max_total);

/*
 * Sequence check of RFC 3954 §5.1 / RFC 7011 §3.1 and the v5 header: seq is
 * the message's sequence number and advance what it adds to the counter (1
 * per packet for v9, records for v5/IPFIX); advance_known false leaves the
 * next expected value unknown (a held data set whose record count we could
 * not see). boot_ms is the exporter's boot time as the message tells it,
 * export time (ms since the Unix epoch) - sysUptime (ms) for v5/v9, or
 * FT_BOOT_UNKNOWN (IPFIX, sFlow); uptime_ms its sysUptime (v5/v9).
 *
 * The next expected value is the previous message's seq + advance. A
 * message that carries another value is, in this order:
 *  - a restart (FT_CTR_sequence_resets, expectation restarts from seq) when
 *    the jump is 2^20 or more either way;
 *  - loss when it is ahead: the gap is added to `lost` (FT_CTR_lost_packets
 *    or FT_CTR_lost_records) and remembered;
 *  - a restart when it is behind and sysUptime went back while the boot
 *    time moved on by more than 2 s (RFC 3954 §5.1 sysUptime is "time in
 *    milliseconds since this device was first booted": it started again; a
 *    late datagram has an older sysUptime but the same boot time, an
 *    exporter whose sysUptime stands still a moving boot time but no step
 *    back); only this case returns true;
 *  - reordering (FT_CTR_sequence_reordered) when it is behind and falls
 *    into a remembered gap: the part of the gap it fills is taken back from
 *    `lost`; the expectation stays;
 *  - a restart otherwise: a message behind the expectation that fills no
 *    gap was not missed, so the exporter's counter started again (RFC 7011
 *    §3.1 counts "in the current stream": a restarted Exporting Process
 *    starts a new one, typically from 0). A duplicate of a message is read
 *    the same way; when it duplicates the previous message the next one
 *    finds the expectation unchanged, so nothing is counted lost.
 * own (IPFIX; 0 elsewhere) is the message's data records without options
 * records: some exporters (softflowd 1.1.0) number a message after its own
 * data records instead of before them (RFC 7011 §3.1), so consecutive
 * messages differ by the second one's records. Each domain counts the
 * messages that fit exactly one of the two numberings and follows the one
 * that more messages fitted (RFC 7011's on a tie), so one loss that happens
 * to fit the other numbering does not switch it.
 * Returns true when the sequence restarted and the boot time says why (the
 * exporter rebooted or restarted: its templates are gone with it).
 */
bool ft_domain_sequence(ft_exporter *e, ft_domain *dom, uint32_t seq, uint32_t advance,
                        bool advance_known, uint32_t own, int64_t boot_ms, uint32_t uptime_ms,
                        ft_ctr_id lost);

/* The domain (version, id) of e, created or recycled as needed. Never NULL. */
ft_domain *ft_exporter_domain(ft_exporter *e, uint8_t version, uint32_t id, uint64_t now_ns);

/* Records a sampler's rate (id 0 allowed). */
void ft_exporter_set_sampler(ft_exporter *e, uint8_t version, uint32_t domain, uint64_t id,
                             uint64_t rate, uint64_t now_ns);

/* The rate of a sampler, 0 when unknown. */
uint64_t ft_exporter_sampler_rate(const ft_exporter *e, uint8_t version, uint32_t domain,
                                  uint64_t id);

/* Frees every held data set of e. */
void ft_exporter_drop_pending(ft_exporter *e);

/* Fills a plain snapshot of e. */
void ft_exporter_snapshot(const ft_exporter *e, ft_exporter_stats *s);

#endif
