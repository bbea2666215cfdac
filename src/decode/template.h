/*
 * template.h - NetFlow v9 / IPFIX templates compiled into field programs, the
 * data-record interpreter that runs them, and the template cache.
 *
 * A template is compiled once, when it arrives, into a field program
 * (ft_tstep): each run of fixed-length fields becomes one bounds check of
 * the run's whole length (RFC 7011 §3.4.3 / RFC 3954 §5.3: a record is its
 * fields back to back, so every fixed field sits at a fixed offset from the
 * run start) followed by one store step per field flowtally uses, with its
 * offset, load width and destination precomputed; unknown and
 * enterprise-specific fixed fields cost nothing at record time (the run
 * length covers them); a variable-length field (RFC 7011 §7) is a step of
 * its own that reads its length through the reader. A data record is then
 * one pass over the steps, with no lookup by element ID.
 *
 * The cache key is (exporter, version, source ID / observation domain ID,
 * template ID), RFC 3954 §5.1 ("Source ID") and RFC 7011 §3.1/§8. Templates
 * not refreshed within the timeout expire. Each exporter holds at most a
 * configured number of templates; a new one past that cap is refused and
 * counted (template_cap), so no exporter can grow memory without bound.
 */
#ifndef FT_TEMPLATE_H
#define FT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rd.h"
#include "decode/ie_table.h"
#include "flow/flow.h"

struct ft_exporter;

#define FT_VARLEN 0xFFFF /* field length meaning "variable length", RFC 7011 §7 */

/* Fields per template accepted. The wire allows 16382 (a 65535-byte set of
 * 4-byte field specifiers); real templates hold tens. The cap bounds what one
 * template can cost (ft_template_size: about 39 KiB with its program). */
#define FT_TEMPLATE_MAX_FIELDS 1024

typedef struct ft_tfield {
    uint32_t pen; /* enterprise number, 0 for IANA (RFC 7011 §3.2); kept so the
                     template can be exported as it came (ft_decoder_export) */
    uint16_t id;  /* element id without the enterprise bit */
    uint16_t len; /* bytes, or FT_VARLEN */
    uint8_t op;   /* ft_op */
    uint8_t index; /* MPLS label position 0..9 for FT_OP_MPLS_LABEL */
    uint8_t pad[2]; /* zero: fields are compared with memcmp */
} ft_tfield;

/* One step of a compiled field program (kinds and their meaning in
 * template.c). Fixed-length fields read run[off .. off+len), where run is
 * the span the last FT_STEP_TAKE claimed; compilation guarantees
 * off + len <= that TAKE's len. */
typedef struct ft_tstep {
    uint8_t kind;  /* ft_step_kind (template.c) */
    uint8_t op;    /* ft_op: what the slow path (FT_STEP_OP, FT_STEP_VAR) does */
    uint8_t index; /* MPLS label position 0..9 for FT_OP_MPLS_LABEL */
    uint8_t tgt;   /* store steps: 0 = into ft_flow, 1 = into ft_record_extra */
    uint16_t off;  /* byte offset of the value in its run */
    uint16_t len;  /* value bytes; TAKE: bytes of the run */
    uint16_t dst;  /* store steps: byte offset of the destination member */
} ft_tstep;

/* An integer field of a fixed-length template, extracted without a
 * dispatch (template.c, batch_ints): the value is the big-endian 8 bytes at
 * run[win .. win+8), shifted left by lsh (drops the bytes before the field)
 * then right by rsh (drops those after it). */
typedef struct ft_tint {
    uint16_t win; /* window offset in the record; win + 8 <= the record length */
    uint8_t lsh;  /* 8 x (field offset - win) */
    uint8_t rsh;  /* 64 - 8 x field length */
    uint16_t dst; /* byte offset of the destination member */
} ft_tint;

/* The four groups of ft_template.ints, by destination and width. */
enum { FT_INT_FLOW32, FT_INT_FLOW64, FT_INT_EXTRA32, FT_INT_EXTRA64, FT_INT_GROUPS };

typedef struct ft_template {
    struct ft_template *next; /* cache hash chain */
    struct ft_exporter *exp;  /* owner; not owned */
    uint32_t domain;          /* v9 source ID / IPFIX observation domain ID */
    uint16_t id;              /* template ID >= 256 */
    uint8_t version;          /* 9 or 10 */
    bool options;             /* options template: records feed sampling state */
    uint16_t scope_count;     /* options templates: leading scope fields */
    uint16_t n_fields;
    uint32_t min_len;         /* bytes of the shortest possible record (varlen fields count 1) */
    bool varlen;              /* has variable-length fields */
    uint64_t refreshed_ns;    /* time received of the last (re)definition */
    uint64_t have;            /* FT_X_* bits every record of this template sets (its store steps') */
    bool fast_reset;          /* ft_record_reset may clear only what records can leave behind */
    uint16_t n_steps;
    ft_tstep *steps;          /* the field program; in the same allocation, after fields[] */
    bool batched;             /* fixed length: ints[] run first, then steps[] (which has no TAKE) */
    uint16_t rec_len;         /* batched: the record length */
    uint16_t n_int[FT_INT_GROUPS]; /* batched: ints[] holds the groups one after the other */
    ft_tint *ints;            /* batched: after steps[] in the same allocation */
    ft_tfield fields[];       /* the template as it came (export, refresh comparison) */
} ft_template;

/* Everything a record needs from its message header. */
typedef struct ft_msg_ctx {
    uint8_t version;           /* 9 or 10 */
    uint32_t domain;           /* source ID / observation domain ID */
    uint32_t sequence;         /* header sequence number */
    uint32_t export_secs;      /* header unix_secs / Export Time, s since the Unix epoch */
    uint32_t sys_uptime_ms;    /* v9 header sysUptime, ms; unused for IPFIX */
    uint64_t time_received_ns; /* ns since the Unix epoch */
} ft_msg_ctx;

/*
 * What a record carried besides ft_flow fields: raw times (resolved by
 * ft_record_finish), sampling information and the things options records
 * teach. Reset per record by ft_record_decode.
 */
typedef struct ft_record_extra {
    uint64_t have; /* FT_X_* bits */
    uint32_t first_switched, last_switched; /* ms of uptime (21/22) */
    uint64_t start_s, end_s, start_ms, end_ms; /* 150-153 */
    uint64_t start_ntp_us, end_ntp_us, start_ntp_ns, end_ntp_ns; /* 154-157, NTP format */
    uint64_t start_delta_us, end_delta_us; /* 158/159 */
    uint64_t system_init_ms;               /* 160 */
    uint64_t sampling_interval;            /* 34 */
    uint64_t sampler_id;                   /* 48 / 302 */
    uint64_t sampler_random_interval;      /* 50 */
    uint64_t packet_interval, packet_space; /* 305/306 */
    uint64_t sampling_size, sampling_population; /* 309/310 */
    uint32_t selector_algorithm;           /* 304, RFC 5477 §8.2.1 */
    uint64_t out_bytes, out_pkts;           /* 23/24, used when 1/2 are absent */
    uint64_t in_dst_mac;                    /* 80, used when 57 is absent */
    uint32_t dot1q_vlan;                    /* 243, used when 58 is absent */
    uint32_t mpls[10];                      /* raw 3-byte label stack entries (70-79) */
    uint64_t datalink_frame_size;           /* 312 */
    const uint8_t *datalink;                /* 315 dataLinkFrameSection, points into the datagram */
    uint32_t datalink_len;
} ft_record_extra;

#define FT_X_FIRST_SWITCHED (1ULL << 0)
#define FT_X_LAST_SWITCHED (1ULL << 1)
#define FT_X_START_S (1ULL << 2)
#define FT_X_END_S (1ULL << 3)
#define FT_X_START_MS (1ULL << 4)
#define FT_X_END_MS (1ULL << 5)
#define FT_X_START_US (1ULL << 6)
#define FT_X_END_US (1ULL << 7)
#define FT_X_START_NS (1ULL << 8)
#define FT_X_END_NS (1ULL << 9)
#define FT_X_START_DELTA (1ULL << 10)
#define FT_X_END_DELTA (1ULL << 11)
#define FT_X_SYSTEM_INIT (1ULL << 12)
#define FT_X_SAMPLING_INTERVAL (1ULL << 13)
#define FT_X_SAMPLER_ID (1ULL << 14)
#define FT_X_RANDOM_INTERVAL (1ULL << 15)
#define FT_X_PACKET_INTERVAL (1ULL << 16)
#define FT_X_PACKET_SPACE (1ULL << 17)
#define FT_X_SAMPLING_SIZE (1ULL << 18)
#define FT_X_SAMPLING_POPULATION (1ULL << 19)
#define FT_X_MPLS (1ULL << 20)
#define FT_X_IN_BYTES (1ULL << 21)
#define FT_X_IN_PKTS (1ULL << 22)
#define FT_X_DST_MAC (1ULL << 23)
#define FT_X_ICMP (1ULL << 24)
#define FT_X_SRC_VLAN (1ULL << 25) /* 58 seen; FT_X_DOT1Q is 243 */
#define FT_X_NEXT_HOP (1ULL << 26)
#define FT_X_ETYPE (1ULL << 27)
#define FT_X_DATALINK (1ULL << 28)
#define FT_X_OUT_BYTES (1ULL << 29)
#define FT_X_OUT_PKTS (1ULL << 30)
#define FT_X_IN_DST_MAC (1ULL << 31)
#define FT_X_DOT1Q (1ULL << 32) /* 243 seen */
#define FT_X_FRAME_SIZE (1ULL << 33)
#define FT_X_SELECTOR_ALGORITHM (1ULL << 34)

/*
 * Decodes one data record of template t from r into f (fields set, others
 * untouched: the caller zeroes f, or prepares it with ft_record_reset) and
 * x (reset here). Returns 0, or -1 when the record runs past the reader (a
 * record or variable-length field longer than what is left of the set):
 * then f and x are partial and must be discarded.
 */
int ft_record_decode(const ft_template *t, ft_rd *r, ft_flow *f, ft_record_extra *x);

/*
 * Makes f, which holds the previous record decoded by t (ft_record_decode +
 * ft_record_finish + what ft_data_set sets) or is all zeros, ready for the
 * next record of t as an all-zero ft_flow would be, except for the message
 * header members, which it keeps: clears only the members such a record
 * could leave behind when the template allows it (fast_reset), else all of
 * f (then the caller sets the header members again).
 */
void ft_record_reset(const ft_template *t, ft_flow *f);

/*
 * Resolves what the record's fields left raw: flow start/end times from
 * whichever variant it carried (RFC 7011 §6.1, RFC 3954 §8 with the signed
 * 32-bit uptime difference so that wrap and LAST_SWITCHED after sysUptime
 * both come out right), bytes/packets from post counters when the pre ones
 * are absent, etype from the address family, the MPLS stack, ICMP type/code
 * from the destination port when the exporter put them there.
 * system_init_ms is the domain's systemInitTimeMilliseconds learnt from
 * options data (0 when unknown), used for 21/22 in IPFIX.
 */
void ft_record_finish(ft_flow *f, const ft_record_extra *x, const ft_msg_ctx *m,
                      uint64_t system_init_ms);

/*
 * Builds a template from wire fields. fields[i] = {id, len} with pen[i] the
 * enterprise number (0 for IANA). Returns a malloc'ed template (owned by the
 * caller until inserted in a cache), or NULL on ENOMEM or when the record
 * would be longer than max_record_len (then *why is set).
 */
ft_template *ft_template_compile(uint8_t version, uint32_t domain, uint16_t id, bool options,
                                 uint16_t scope_count, uint16_t n_fields, const uint16_t *ids,
                                 const uint16_t *lens, const uint32_t *pens, size_t max_record_len);

/* The cache; one per decoder (per worker). */
typedef struct ft_template_cache ft_template_cache;

/* A cache holding at most max_bytes of compiled templates in all (0: no
 * limit). NULL on ENOMEM. */
ft_template_cache *ft_template_cache_new(size_t max_bytes);
/* Frees every template. NULL is a no-op. */
void ft_template_cache_free(ft_template_cache *c);

/* The template for the key, or NULL. */
ft_template *ft_template_find(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, uint16_t id);

/* Inserts t (ownership passes to the cache), replacing and freeing any
 * template with the same key. The caller has checked the exporter's cap.
 * Returns 1 when it replaced one, 0 when new, -1 when the cache's byte budget
 * is spent (t is freed, nothing changes). */
int ft_template_insert(ft_template_cache *c, ft_template *t);

/* Bytes a compiled template of n_fields costs (for budgets). */
size_t ft_template_size(uint16_t n_fields);

/* Removes and frees the template with this key; returns 1 if there was one. */
int ft_template_remove(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                       uint32_t domain, uint16_t id);

/* Removes and frees every template of (exp, version, domain) whose options
 * flag equals `options` (IPFIX "withdraw all", RFC 7011 §8.1). Returns how many. */
size_t ft_template_remove_all(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, bool options);

/* Calls cb for every template in the cache (any order). */
void ft_template_foreach(const ft_template_cache *c, void (*cb)(void *arg, const ft_template *t), void *arg);

/* Calls cb for every template refreshed before `older_than_ns`, then removes
 * and frees it. Returns how many expired. */
size_t ft_template_expire(ft_template_cache *c, uint64_t older_than_ns,
                          void (*cb)(void *arg, const ft_template *t), void *arg);

#endif
