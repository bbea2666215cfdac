/*
 * vec.h - byte-vector builder, capturing flow sink and decoder helpers for
 * the decoder unit tests, plus the hand-written vectors they share.
 *
 * A vector is written field by field in wire order (big-endian, as every
 * NetFlow/IPFIX field is), each group commented with the RFC section that
 * defines it. Every length field is a literal computed by hand; v_begin()/
 * v_end() then check that the bytes actually written between them match the
 * hand count, so a miscounted vector aborts the test binary instead of
 * silently testing something else.
 *
 * The vectors are built by scn_* functions (a scenario = one or more
 * datagrams from one exporter, in order). nfv5_test.c, nfv9_test.c and
 * ipfix_test.c decode them and check the values computed by hand in their
 * comments; malformed_test.c walks scn_all() and mutates every datagram.
 *
 * Everything here is static inline so that a test including this header
 * and using only part of it compiles warning-free under -Werror.
 *
 * Times used throughout (chosen so that every conversion is exact):
 *   export time (v5 unix_secs, v9 unix_secs, IPFIX Export Time) 1700000000 s
 *   = 0x6553F100; datagrams are "received" 1 s later (VEC_T_RECV_NS), so a
 *   time taken from the receive clock instead of the header shows up.
 */
#ifndef FT_TEST_VEC_H
#define FT_TEST_VEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/counters.h"
#include "core/err.h"
#include "decode/decoder.h"
#include "flow/flow.h"

#define VEC_EXPORT_S 1700000000u                          /* 0x6553F100 */
#define VEC_T_RECV_NS (1700000001ull * 1000000000ull)     /* export time + 1 s */
#define VEC_S2NS(s) ((uint64_t)(s) * 1000000000ull)
#define VEC_MS2NS(ms) ((uint64_t)(ms) * 1000000ull)

/* ------------------------------------------------------------------ */
/* Byte builder                                                        */
/* ------------------------------------------------------------------ */

#define VEC_CAP 2048
#define VEC_DEPTH 8

typedef struct vec {
    uint8_t b[VEC_CAP];
    size_t n;
    size_t start[VEC_DEPTH], decl[VEC_DEPTH];
    int depth;
} vec;

static inline void v_die(const char *what, size_t a, size_t b)
{
    fprintf(stderr, "vec.h: broken test vector: %s (%zu vs %zu)\n", what, a, b);
    abort();
}

static inline void v_uint(vec *v, uint64_t x, int bytes)
{
    if (v->n + (size_t)bytes > VEC_CAP)
        v_die("vector overflows VEC_CAP", v->n + (size_t)bytes, VEC_CAP);
    for (int i = bytes - 1; i >= 0; i--)
        v->b[v->n++] = (uint8_t)(x >> (8 * i));
}
static inline void v_u8(vec *v, uint64_t x) { v_uint(v, x, 1); }
static inline void v_u16(vec *v, uint64_t x) { v_uint(v, x, 2); }
static inline void v_u24(vec *v, uint64_t x) { v_uint(v, x, 3); }
static inline void v_u32(vec *v, uint64_t x) { v_uint(v, x, 4); }
static inline void v_u64(vec *v, uint64_t x) { v_uint(v, x, 8); }
static inline void v_ip4(vec *v, int a, int b, int c, int d)
{
    v_u8(v, (uint64_t)a), v_u8(v, (uint64_t)b), v_u8(v, (uint64_t)c), v_u8(v, (uint64_t)d);
}
/* Writes the bytes spelt by an even-length hex string ("20010db8..."). */
static inline void v_hex(vec *v, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2)
        v_die("odd hex string", n, 0);
    for (size_t i = 0; i < n; i += 2) {
        unsigned x;
        if (sscanf(hex + i, "%2x", &x) != 1)
            v_die("bad hex string", i, n);
        v_u8(v, x);
    }
}
/* n copies of byte c (padding, string contents). */
static inline void v_fill(vec *v, int c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v_u8(v, (uint64_t)c);
}
/* Opens a region (message, set, record) whose length was counted by hand. */
static inline void v_begin(vec *v, size_t declared)
{
    if (v->depth >= VEC_DEPTH)
        v_die("v_begin nesting", (size_t)v->depth, VEC_DEPTH);
    v->start[v->depth] = v->n;
    v->decl[v->depth] = declared;
    v->depth++;
}
/* Closes it: the bytes written since v_begin must equal the hand count. */
static inline void v_end(vec *v)
{
    if (v->depth <= 0)
        v_die("v_end without v_begin", 0, 0);
    v->depth--;
    size_t got = v->n - v->start[v->depth];
    if (got != v->decl[v->depth])
        v_die("length written != length counted by hand", got, v->decl[v->depth]);
}
/* Overwrites n bytes at off with x (big-endian): header time/sequence patches. */
static inline void v_patch(vec *v, size_t off, uint64_t x, int bytes)
{
    if (off + (size_t)bytes > v->n)
        v_die("patch past the end", off, v->n);
    for (int i = bytes - 1; i >= 0; i--)
        v->b[off++] = (uint8_t)(x >> (8 * i));
}

/* ------------------------------------------------------------------ */
/* Capturing sink                                                      */
/* ------------------------------------------------------------------ */

typedef struct cap {
    ft_flow *f;
    size_t n, cap;
} cap;

static inline void cap_emit(void *ctx, const ft_flow *f)
{
    cap *c = ctx;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        ft_flow *nf = realloc(c->f, nc * sizeof *nf);
        if (!nf)
            abort();
        c->f = nf, c->cap = nc;
    }
    c->f[c->n++] = *f; /* the record is only valid during the call: copy */
}
static inline ft_flow_sink cap_sink(cap *c)
{
    ft_flow_sink s = {cap_emit, c};
    return s;
}
static inline void cap_reset(cap *c) { c->n = 0; }
static inline void cap_free(cap *c)
{
    free(c->f);
    c->f = NULL, c->n = c->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Decoder helpers                                                     */
/* ------------------------------------------------------------------ */

static inline ft_addr vec_addr(const char *s)
{
    ft_addr a;
    if (ft_addr_parse(s, &a) != 0)
        v_die("bad address literal", 0, 0);
    return a;
}

/* Decodes bytes p[0..n) as sent by exporter at t_ns. */
static inline ft_err vec_decode(ft_decoder *d, const ft_addr *exporter, uint64_t t_ns, const uint8_t *p,
                                size_t n, cap *c)
{
    ft_datagram dg = {*exporter, 50000, t_ns, p, n};
    ft_flow_sink s = cap_sink(c);
    return ft_decoder_decode(d, &dg, &s);
}

#define VEC_MAX_EXPORTERS 64
typedef struct vec_stats {
    size_t n;
    ft_exporter_stats s[VEC_MAX_EXPORTERS];
    size_t total; /* exporters reported, even past VEC_MAX_EXPORTERS */
} vec_stats;

static inline void vec_stats_cb(void *arg, const ft_exporter_stats *s)
{
    vec_stats *vs = arg;
    if (vs->n < VEC_MAX_EXPORTERS)
        vs->s[vs->n++] = *s;
    vs->total++;
}
/* Snapshot of every exporter the decoder reports. */
static inline void vec_all_stats(ft_decoder *d, vec_stats *vs)
{
    memset(vs, 0, sizeof *vs);
    ft_decoder_foreach_exporter(d, vec_stats_cb, vs);
}
/* The counters of one exporter; false (and *out zeroed) when not reported. */
static inline bool vec_stats_of(ft_decoder *d, const ft_addr *a, ft_exporter_stats *out)
{
    vec_stats *vs = malloc(sizeof *vs);
    bool found = false;
    if (!vs)
        abort();
    vec_all_stats(d, vs);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < vs->n; i++)
        if (ft_addr_eq(&vs->s[i].addr, a)) {
            *out = vs->s[i];
            found = true;
        }
    free(vs);
    return found;
}
/* Sum of every error kind. */
static inline uint64_t vec_err_sum(const ft_exporter_stats *s)
{
    uint64_t t = 0;
    for (int e = 1; e < FT_ERR_COUNT; e++)
        t += s->errors[e];
    return t;
}
/* Sum of the error kinds that mean "these bytes are malformed": everything
 * but the bookkeeping kinds (no template yet, pending and table caps). */
static inline uint64_t vec_fault_sum(const ft_exporter_stats *s)
{
    uint64_t t = vec_err_sum(s);
    t -= s->errors[FT_ERR_NO_TEMPLATE] + s->errors[FT_ERR_TEMPLATE_CAP] + s->errors[FT_ERR_EXPORTER_CAP] +
         s->errors[FT_ERR_PENDING_CAP] + s->errors[FT_ERR_PENDING_EXPIRED];
    return t;
}

/* Expected IPv4/IPv6 flow address. */
static inline bool vec_addr_is(const ft_addr *a, const char *s)
{
    ft_addr b = vec_addr(s);
    return ft_addr_eq(a, &b);
}

/* ------------------------------------------------------------------ */
/* Per-test fixture                                                    */
/* ------------------------------------------------------------------ */

/* The state of the running test. A failed assert longjmps out of the test,
 * so the next fx_new() (or fx_done() at the end of main) frees what the
 * previous test left: nothing leaks under LeakSanitizer either way. */
typedef struct scn scn;
typedef struct fx {
    ft_decoder *d;
    cap c;
    ft_addr ex; /* 192.0.2.1, the exporter of every vector */
    scn *s;     /* scenario storage, malloc'd once */
} fx;

static inline fx *fx_get(void)
{
    static fx x;
    return &x;
}
static inline void fx_done(void)
{
    fx *x = fx_get();
    ft_decoder_free(x->d);
    x->d = NULL;
    cap_free(&x->c);
    free(x->s);
    x->s = NULL;
}
/* A fresh decoder with options o (NULL: defaults) and an empty capture. */
static inline fx *fx_new(const ft_decoder_opts *o)
{
    fx *x = fx_get();
    ft_decoder_free(x->d);
    x->d = ft_decoder_new(o, "unit.0");
    cap_reset(&x->c);
    x->ex = vec_addr("192.0.2.1");
    return x;
}
/* Snapshot of the exporter 192.0.2.1 (zeroed when the decoder has none). */
static inline ft_exporter_stats fx_stats(fx *x)
{
    ft_exporter_stats st;
    (void)vec_stats_of(x->d, &x->ex, &st);
    return st;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

#define SCN_MAX_PKT 4
#define SCN_MAX_MARK 8

struct scn {
    const char *name;
    int n;                          /* datagrams */
    vec pkt[SCN_MAX_PKT];
    uint64_t t_ns[SCN_MAX_PKT];     /* receive time of each */
    /* Offsets of IPFIX variable-length length prefixes (RFC 7011 §7), for
     * malformed_test's "varlen 255 + 0xFFFF" lie: (datagram, offset). */
    int n_varlen;
    int varlen_pkt[SCN_MAX_MARK];
    size_t varlen_off[SCN_MAX_MARK];
};

/* Builds scenario b into the fixture's storage. */
static inline scn *fx_scn(fx *x, void (*b)(scn *))
{
    if (!x->s && !(x->s = malloc(sizeof *x->s)))
        abort();
    b(x->s);
    return x->s;
}
/* Decodes datagram i of the fixture's scenario at its receive time. */
static inline ft_err fx_pkt(fx *x, int i)
{
    return vec_decode(x->d, &x->ex, x->s->t_ns[i], x->s->pkt[i].b, x->s->pkt[i].n, &x->c);
}
/* Decodes v at time t. */
static inline ft_err fx_vec(fx *x, const vec *v, uint64_t t)
{
    return vec_decode(x->d, &x->ex, t, v->b, v->n, &x->c);
}

static inline vec *scn_add(scn *s, uint64_t t_ns)
{
    if (s->n >= SCN_MAX_PKT)
        v_die("too many datagrams in scenario", (size_t)s->n, SCN_MAX_PKT);
    vec *v = &s->pkt[s->n];
    memset(v, 0, sizeof *v);
    s->t_ns[s->n] = t_ns;
    s->n++;
    return v;
}
static inline void scn_mark_varlen(scn *s, const vec *v)
{
    if (s->n_varlen >= SCN_MAX_MARK)
        v_die("too many varlen marks", (size_t)s->n_varlen, SCN_MAX_MARK);
    s->varlen_pkt[s->n_varlen] = s->n - 1;
    s->varlen_off[s->n_varlen] = v->n;
    s->n_varlen++;
}
static inline void scn_init(scn *s, const char *name)
{
    s->name = name;
    s->n = 0;
    s->n_varlen = 0;
}

/* ================================================================== */
/* NetFlow v5 (Cisco "NetFlow Export Datagram Format", version 5):     */
/*   header 24 bytes: version, count, SysUptime (ms), unix_secs,       */
/*   unix_nsecs, flow_sequence (flows seen), engine_type, engine_id,   */
/*   sampling_interval (top 2 bits mode, low 14 bits interval);        */
/*   record 48 bytes: srcaddr dstaddr nexthop input output dPkts       */
/*   dOctets First Last srcport dstport pad1 tcp_flags prot tos        */
/*   src_as dst_as src_mask dst_mask pad2.                             */
/* ================================================================== */

/* v5 header, every field commented at the call sites of the vectors. */
static inline void v5_header(vec *v, uint16_t count, uint32_t uptime, uint32_t secs, uint32_t nsecs, uint32_t seq,
                             uint16_t sampling)
{
    v_u16(v, 5);        /* version */
    v_u16(v, count);    /* count: records in this datagram (1..30) */
    v_u32(v, uptime);   /* SysUptime, ms since the device booted */
    v_u32(v, secs);     /* unix_secs */
    v_u32(v, nsecs);    /* unix_nsecs */
    v_u32(v, seq);      /* flow_sequence: total flows seen before this datagram */
    v_u8(v, 1);         /* engine_type */
    v_u8(v, 2);         /* engine_id */
    v_u16(v, sampling); /* sampling_interval: mode << 14 | interval */
}

/* A short v5 record used by the sequence vectors: 198.51.100.<host> ->
 * 203.0.113.<host>, 1 packet of 100 bytes, First = Last = uptime - 1000. */
static inline void v5_small_record(vec *v, int host, uint32_t uptime)
{
    v_begin(v, 48);
    v_ip4(v, 198, 51, 100, host); /* srcaddr */
    v_ip4(v, 203, 0, 113, host);  /* dstaddr */
    v_ip4(v, 0, 0, 0, 0);         /* nexthop */
    v_u16(v, 1);                  /* input */
    v_u16(v, 2);                  /* output */
    v_u32(v, 1);                  /* dPkts */
    v_u32(v, 100);                /* dOctets */
    v_u32(v, uptime - 1000);      /* First */
    v_u32(v, uptime - 1000);      /* Last */
    v_u16(v, 1024);               /* srcport */
    v_u16(v, 80);                 /* dstport */
    v_u8(v, 0);                   /* pad1 */
    v_u8(v, 0x02);                /* tcp_flags SYN */
    v_u8(v, 6);                   /* prot TCP */
    v_u8(v, 0);                   /* tos */
    v_u16(v, 0), v_u16(v, 0);     /* src_as, dst_as */
    v_u8(v, 0), v_u8(v, 0);       /* src_mask, dst_mask */
    v_u16(v, 0);                  /* pad2 */
    v_end(v);
}

/* Two fully specified records; values checked in nfv5_test.c t_v5_fields. */
static inline void scn_nfv5_basic(scn *s)
{
    scn_init(s, "nfv5_basic");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 24 + 2 * 48); /* 120 bytes */
    /* header */
    v_u16(v, 5);          /* version 5 */
    v_u16(v, 2);          /* count 2 */
    v_u32(v, 360000);     /* SysUptime 360 000 ms = 0x00057E40 */
    v_u32(v, 1700000000); /* unix_secs = 0x6553F100 */
    v_u32(v, 123456789);  /* unix_nsecs = 0x075BCD15 */
    v_u32(v, 1000);       /* flow_sequence 1000 */
    v_u8(v, 1);           /* engine_type 1 */
    v_u8(v, 2);           /* engine_id 2 */
    v_u16(v, 0x4064);     /* sampling: 01 (mode 1) | 00 0000 0110 0100 (interval 100) */
    /* record 1 */
    v_begin(v, 48);
    v_ip4(v, 198, 51, 100, 10); /* srcaddr */
    v_ip4(v, 203, 0, 113, 20);  /* dstaddr */
    v_ip4(v, 192, 0, 2, 254);   /* nexthop */
    v_u16(v, 3);                /* input ifIndex */
    v_u16(v, 7);                /* output ifIndex */
    v_u32(v, 12);               /* dPkts */
    v_u32(v, 9000);             /* dOctets */
    v_u32(v, 350000);           /* First: SysUptime at flow start = 0x00055730 */
    v_u32(v, 359500);           /* Last = 0x00057C4C */
    v_u16(v, 443);              /* srcport */
    v_u16(v, 51000);            /* dstport */
    v_u8(v, 0);                 /* pad1 */
    v_u8(v, 0x1b);              /* tcp_flags FIN|SYN|PSH|ACK */
    v_u8(v, 6);                 /* prot TCP */
    v_u8(v, 0xb8);              /* tos (DSCP EF) */
    v_u16(v, 64500);            /* src_as */
    v_u16(v, 64501);            /* dst_as */
    v_u8(v, 24);                /* src_mask */
    v_u8(v, 16);                /* dst_mask */
    v_u16(v, 0);                /* pad2 */
    v_end(v);
    /* record 2 */
    v_begin(v, 48);
    v_ip4(v, 198, 51, 100, 11); /* srcaddr */
    v_ip4(v, 203, 0, 113, 21);  /* dstaddr */
    v_ip4(v, 0, 0, 0, 0);       /* nexthop */
    v_u16(v, 4);                /* input */
    v_u16(v, 8);                /* output */
    v_u32(v, 1);                /* dPkts */
    v_u32(v, 76);               /* dOctets */
    v_u32(v, 359999);           /* First */
    v_u32(v, 359999);           /* Last */
    v_u16(v, 53);               /* srcport */
    v_u16(v, 33000);            /* dstport */
    v_u8(v, 0);                 /* pad1 */
    v_u8(v, 0);                 /* tcp_flags */
    v_u8(v, 17);                /* prot UDP */
    v_u8(v, 0);                 /* tos */
    v_u16(v, 0);                /* src_as */
    v_u16(v, 65535);            /* dst_as */
    v_u8(v, 32);                /* src_mask */
    v_u8(v, 0);                 /* dst_mask */
    v_u16(v, 0);                /* pad2 */
    v_end(v);
    v_end(v);
}

/* flow_sequence counts flows: 1000 (+2 records) -> next expected 1002; the
 * second datagram says 1005 (3 flows lost), the third 1006 (none lost). */
static inline void scn_nfv5_seq(scn *s)
{
    scn_init(s, "nfv5_seq");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 24 + 2 * 48);
    v5_header(v, 2, 360000, VEC_EXPORT_S, 0, 1000, 0); /* count 2, seq 1000, unsampled */
    v5_small_record(v, 1, 360000);
    v5_small_record(v, 2, 360000);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1));
    v_begin(v, 24 + 48);
    v5_header(v, 1, 361000, VEC_EXPORT_S + 1, 0, 1005, 0); /* count 1, seq 1005: 1002..1004 lost */
    v5_small_record(v, 3, 361000);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(2));
    v_begin(v, 24 + 48);
    v5_header(v, 1, 362000, VEC_EXPORT_S + 2, 0, 1006, 0); /* count 1, seq 1006: in order */
    v5_small_record(v, 4, 362000);
    v_end(v);
}

/* count says 3, but the datagram holds 24 + 2*48 bytes: 2 records fit. */
static inline void scn_nfv5_badcount(scn *s)
{
    scn_init(s, "nfv5_badcount");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 24 + 2 * 48);
    v5_header(v, 3, 360000, VEC_EXPORT_S, 0, 7, 0); /* count 3 (a lie), seq 7 */
    v5_small_record(v, 1, 360000);
    v5_small_record(v, 2, 360000);
    v_end(v);
}

/* ================================================================== */
/* NetFlow v9 (RFC 3954)                                              */
/* ================================================================== */

#define V9_UPTIME 1000000u /* sysUptime used by most vectors: 1000 s */
#define V9_SOURCE_ID 33u

/* RFC 3954 §5.1 packet header (20 bytes). */
static inline void v9_header(vec *v, uint16_t count, uint32_t uptime, uint32_t secs, uint32_t seq, uint32_t source_id)
{
    v_u16(v, 9);         /* Version 9 */
    v_u16(v, count);     /* Count: template + options + data records in the packet */
    v_u32(v, uptime);    /* sysUptime, ms */
    v_u32(v, secs);      /* UNIX Secs */
    v_u32(v, seq);       /* Sequence Number: export packets sent before, per Source ID */
    v_u32(v, source_id); /* Source ID */
}
/* RFC 3954 §5.2 field specifier. */
static inline void v9_field(vec *v, uint16_t type, uint16_t len)
{
    v_u16(v, type), v_u16(v, len);
}
/* Byte offsets inside a v9 header, for patches. */
#define V9_OFF_UPTIME 4
#define V9_OFF_SECS 8
#define V9_OFF_SEQ 12

/* Template 256 (20 fields, 47-byte records), shared by nfv9_basic and
 * nfv9_split. RFC 3954 §5.2: FlowSet ID 0, Length, Template ID, Field Count,
 * then (Field Type, Field Length) pairs; field types from §8. */
static inline void v9_tpl256(vec *v)
{
    v_begin(v, 88);
    v_u16(v, 0);          /* FlowSet ID 0 = template FlowSet */
    v_u16(v, 88);         /* Length: 4 + 4 + 20*4 */
    v_u16(v, 256);        /* Template ID */
    v_u16(v, 20);         /* Field Count */
    v9_field(v, 8, 4);    /* IPV4_SRC_ADDR        off 0 */
    v9_field(v, 12, 4);   /* IPV4_DST_ADDR        off 4 */
    v9_field(v, 2, 4);    /* IN_PKTS              off 8 */
    v9_field(v, 1, 4);    /* IN_BYTES             off 12 */
    v9_field(v, 22, 4);   /* FIRST_SWITCHED       off 16 */
    v9_field(v, 21, 4);   /* LAST_SWITCHED        off 20 */
    v9_field(v, 7, 2);    /* L4_SRC_PORT          off 24 */
    v9_field(v, 11, 2);   /* L4_DST_PORT          off 26 */
    v9_field(v, 4, 1);    /* PROTOCOL             off 28 */
    v9_field(v, 6, 1);    /* TCP_FLAGS            off 29 */
    v9_field(v, 5, 1);    /* SRC_TOS              off 30 */
    v9_field(v, 10, 2);   /* INPUT_SNMP           off 31 */
    v9_field(v, 14, 2);   /* OUTPUT_SNMP          off 33 */
    v9_field(v, 15, 4);   /* IPV4_NEXT_HOP        off 35 */
    v9_field(v, 16, 2);   /* SRC_AS               off 39 */
    v9_field(v, 17, 2);   /* DST_AS               off 41 */
    v9_field(v, 9, 1);    /* SRC_MASK             off 43 */
    v9_field(v, 13, 1);   /* DST_MASK             off 44 */
    v9_field(v, 61, 1);   /* DIRECTION            off 45 */
    v9_field(v, 89, 1);   /* FORWARDING_STATUS    off 46 -> record 47 bytes */
    v_end(v);
}
/* Data FlowSet 256: two 47-byte records + 2 bytes of padding (RFC 3954 §5.3
 * "Padding": the FlowSet is padded to a 4-byte boundary). */
static inline void v9_data256(vec *v)
{
    v_begin(v, 100);
    v_u16(v, 256); /* FlowSet ID = Template ID 256 */
    v_u16(v, 100); /* Length: 4 + 2*47 = 98, + 2 padding */
    /* record 1 */
    v_begin(v, 47);
    v_ip4(v, 198, 51, 100, 10); /* IPV4_SRC_ADDR */
    v_ip4(v, 203, 0, 113, 20);  /* IPV4_DST_ADDR */
    v_u32(v, 10);               /* IN_PKTS */
    v_u32(v, 15000);            /* IN_BYTES */
    v_u32(v, 990000);           /* FIRST_SWITCHED: sysUptime - 10 000 ms */
    v_u32(v, 999000);           /* LAST_SWITCHED: sysUptime - 1 000 ms */
    v_u16(v, 443);              /* L4_SRC_PORT */
    v_u16(v, 51000);            /* L4_DST_PORT */
    v_u8(v, 6);                 /* PROTOCOL TCP */
    v_u8(v, 0x12);              /* TCP_FLAGS SYN|ACK */
    v_u8(v, 0x20);              /* SRC_TOS */
    v_u16(v, 3);                /* INPUT_SNMP */
    v_u16(v, 7);                /* OUTPUT_SNMP */
    v_ip4(v, 192, 0, 2, 254);   /* IPV4_NEXT_HOP */
    v_u16(v, 64500);            /* SRC_AS */
    v_u16(v, 64501);            /* DST_AS */
    v_u8(v, 24);                /* SRC_MASK */
    v_u8(v, 16);                /* DST_MASK */
    v_u8(v, 1);                 /* DIRECTION egress */
    v_u8(v, 0x40);              /* FORWARDING_STATUS 64: forwarded */
    v_end(v);
    /* record 2 */
    v_begin(v, 47);
    v_ip4(v, 198, 51, 100, 11); /* IPV4_SRC_ADDR */
    v_ip4(v, 203, 0, 113, 21);  /* IPV4_DST_ADDR */
    v_u32(v, 2);                /* IN_PKTS */
    v_u32(v, 152);              /* IN_BYTES */
    v_u32(v, 999900);           /* FIRST_SWITCHED: sysUptime - 100 ms */
    v_u32(v, 1000000);          /* LAST_SWITCHED: = sysUptime */
    v_u16(v, 53);               /* L4_SRC_PORT */
    v_u16(v, 33000);            /* L4_DST_PORT */
    v_u8(v, 17);                /* PROTOCOL UDP */
    v_u8(v, 0);                 /* TCP_FLAGS */
    v_u8(v, 0);                 /* SRC_TOS */
    v_u16(v, 4);                /* INPUT_SNMP */
    v_u16(v, 8);                /* OUTPUT_SNMP */
    v_ip4(v, 0, 0, 0, 0);       /* IPV4_NEXT_HOP */
    v_u16(v, 0);                /* SRC_AS */
    v_u16(v, 0);                /* DST_AS */
    v_u8(v, 32);                /* SRC_MASK */
    v_u8(v, 32);                /* DST_MASK */
    v_u8(v, 0);                 /* DIRECTION ingress */
    v_u8(v, 0x40);              /* FORWARDING_STATUS */
    v_end(v);
    v_u16(v, 0); /* padding (§5.3) */
    v_end(v);
}

/* Template and data in one packet (RFC 3954 §5: a packet may mix FlowSets). */
static inline void scn_nfv9_basic(scn *s)
{
    scn_init(s, "nfv9_basic");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 88 + 100); /* 208 */
    v9_header(v, 3, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 3 = 1 template + 2 data; seq 1 */
    v9_tpl256(v);
    v9_data256(v);
    v_end(v);
}

/* The same template and data in two packets (sequence 1 then 2). */
static inline void scn_nfv9_split(scn *s)
{
    scn_init(s, "nfv9_split");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 88);
    v9_header(v, 1, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 1 template record, seq 1 */
    v9_tpl256(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 100);
    v9_header(v, 2, V9_UPTIME, VEC_EXPORT_S, 2, V9_SOURCE_ID); /* count 2 data records, seq 2 */
    v9_data256(v);
    v_end(v);
}

/* Options template with FLOW_SAMPLER_ID / MODE / RANDOM_INTERVAL (RFC 3954
 * §6.1, types 48/49/50), options data for samplers 5 and 6 (§6.2), then data
 * records that name their sampler with FLOW_SAMPLER_ID (48). */
static inline void scn_nfv9_sampler(scn *s)
{
    scn_init(s, "nfv9_sampler");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 28 + 24 + 28 + 40); /* 140 */
    v9_header(v, 6, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 6: 1 opt tpl + 2 opt data + 1 tpl + 2 data */
    /* §6.1 options template FlowSet */
    v_begin(v, 28);
    v_u16(v, 1);         /* FlowSet ID 1 = options template */
    v_u16(v, 28);        /* Length: 4 + 6 + 4 + 12 = 26, + 2 padding */
    v_u16(v, 257);       /* Template ID */
    v_u16(v, 4);         /* Option Scope Length: bytes of scope specifiers (1 field) */
    v_u16(v, 12);        /* Option Length: bytes of option specifiers (3 fields) */
    v9_field(v, 1, 4);   /* scope: System (1), 4 bytes */
    v9_field(v, 48, 1);  /* FLOW_SAMPLER_ID */
    v9_field(v, 49, 1);  /* FLOW_SAMPLER_MODE */
    v9_field(v, 50, 4);  /* FLOW_SAMPLER_RANDOM_INTERVAL */
    v_u16(v, 0);         /* padding */
    v_end(v);
    /* §6.2 options data FlowSet: 10-byte records */
    v_begin(v, 24);
    v_u16(v, 257);              /* FlowSet ID = options template 257 */
    v_u16(v, 24);               /* Length: 4 + 2*10 */
    v_ip4(v, 192, 0, 2, 1);     /* scope System value */
    v_u8(v, 5);                 /* sampler 5 */
    v_u8(v, 2);                 /* mode 2 = random */
    v_u32(v, 1000);             /* 1 in 1000 */
    v_ip4(v, 192, 0, 2, 1);     /* scope */
    v_u8(v, 6);                 /* sampler 6 */
    v_u8(v, 1);                 /* mode 1 = deterministic */
    v_u32(v, 64);               /* 1 in 64 */
    v_end(v);
    /* §5.2 template 258 */
    v_begin(v, 28);
    v_u16(v, 0);        /* template FlowSet */
    v_u16(v, 28);       /* Length: 4 + 4 + 5*4 */
    v_u16(v, 258);      /* Template ID */
    v_u16(v, 5);        /* Field Count */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4); /* IPV4_DST_ADDR */
    v9_field(v, 1, 4);  /* IN_BYTES */
    v9_field(v, 2, 4);  /* IN_PKTS */
    v9_field(v, 48, 1); /* FLOW_SAMPLER_ID -> record 17 bytes */
    v_end(v);
    /* §5.3 data FlowSet 258 */
    v_begin(v, 40);
    v_u16(v, 258);              /* FlowSet ID */
    v_u16(v, 40);               /* Length: 4 + 2*17 = 38, + 2 padding */
    v_ip4(v, 198, 51, 100, 5);  /* src */
    v_ip4(v, 203, 0, 113, 5);   /* dst */
    v_u32(v, 5000);             /* IN_BYTES */
    v_u32(v, 5);                /* IN_PKTS */
    v_u8(v, 5);                 /* FLOW_SAMPLER_ID 5 -> 1 in 1000 */
    v_ip4(v, 198, 51, 100, 6);  /* src */
    v_ip4(v, 203, 0, 113, 6);   /* dst */
    v_u32(v, 6000);             /* IN_BYTES */
    v_u32(v, 6);                /* IN_PKTS */
    v_u8(v, 6);                 /* FLOW_SAMPLER_ID 6 -> 1 in 64 */
    v_u16(v, 0);                /* padding */
    v_end(v);
    v_end(v);
}

/* SAMPLING_INTERVAL (34) in options data (exporter-wide rate 512) and in a
 * data record itself (2000, which wins for that record). */
static inline void scn_nfv9_interval(scn *s)
{
    scn_init(s, "nfv9_interval");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 24 + 16 + 40 + 16 + 20); /* 136 */
    v9_header(v, 6, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 6: 1 opt tpl, 1 opt data, 2 tpl, 2 data */
    /* §6.1 options template 259 */
    v_begin(v, 24);
    v_u16(v, 1);        /* options template FlowSet */
    v_u16(v, 24);       /* Length: 4 + 6 + 4 + 8 = 22, + 2 padding */
    v_u16(v, 259);      /* Template ID */
    v_u16(v, 4);        /* Option Scope Length */
    v_u16(v, 8);        /* Option Length */
    v9_field(v, 1, 4);  /* scope System */
    v9_field(v, 34, 4); /* SAMPLING_INTERVAL */
    v9_field(v, 35, 1); /* SAMPLING_ALGORITHM */
    v_u16(v, 0);        /* padding */
    v_end(v);
    /* §6.2 options data 259: one 9-byte record */
    v_begin(v, 16);
    v_u16(v, 259);          /* FlowSet ID */
    v_u16(v, 16);           /* Length: 4 + 9 = 13, + 3 padding */
    v_ip4(v, 192, 0, 2, 1); /* scope System */
    v_u32(v, 512);          /* SAMPLING_INTERVAL 512 */
    v_u8(v, 1);             /* SAMPLING_ALGORITHM 1 = deterministic */
    v_fill(v, 0, 3);        /* padding */
    v_end(v);
    /* §5.2 templates 260 and 261 in one FlowSet */
    v_begin(v, 40);
    v_u16(v, 0);        /* template FlowSet */
    v_u16(v, 40);       /* Length: 4 + (4 + 3*4) + (4 + 4*4) */
    v_u16(v, 260);      /* Template ID 260 */
    v_u16(v, 3);        /* Field Count */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4); /* IPV4_DST_ADDR */
    v9_field(v, 1, 4);  /* IN_BYTES -> 12-byte records */
    v_u16(v, 261);      /* Template ID 261 */
    v_u16(v, 4);        /* Field Count */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4); /* IPV4_DST_ADDR */
    v9_field(v, 1, 4);  /* IN_BYTES */
    v9_field(v, 34, 4); /* SAMPLING_INTERVAL -> 16-byte records */
    v_end(v);
    /* data 260 */
    v_begin(v, 16);
    v_u16(v, 260);              /* FlowSet ID */
    v_u16(v, 16);               /* Length: 4 + 12 */
    v_ip4(v, 198, 51, 100, 30); /* src */
    v_ip4(v, 203, 0, 113, 30);  /* dst */
    v_u32(v, 1500);             /* IN_BYTES */
    v_end(v);
    /* data 261 */
    v_begin(v, 20);
    v_u16(v, 261);              /* FlowSet ID */
    v_u16(v, 20);               /* Length: 4 + 16 */
    v_ip4(v, 198, 51, 100, 31); /* src */
    v_ip4(v, 203, 0, 113, 31);  /* dst */
    v_u32(v, 1600);             /* IN_BYTES */
    v_u32(v, 2000);             /* SAMPLING_INTERVAL 2000 in the record */
    v_end(v);
    v_end(v);
}

/* IPv6 (27, 28, 62, 29, 30, 31), MPLS_LABEL_1..3 (70-72), MACs (56/57) and
 * VLANs (58/59) in one record. RFC 3954 §8. */
static inline void scn_nfv9_v6mpls(scn *s)
{
    scn_init(s, "nfv9_v6mpls");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 80 + 96); /* 196 */
    v9_header(v, 2, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 2 */
    v_begin(v, 80);
    v_u16(v, 0);         /* template FlowSet */
    v_u16(v, 80);        /* Length: 4 + 4 + 18*4 */
    v_u16(v, 262);       /* Template ID */
    v_u16(v, 18);        /* Field Count */
    v9_field(v, 27, 16); /* IPV6_SRC_ADDR     off 0 */
    v9_field(v, 28, 16); /* IPV6_DST_ADDR     off 16 */
    v9_field(v, 62, 16); /* IPV6_NEXT_HOP     off 32 */
    v9_field(v, 29, 1);  /* IPV6_SRC_MASK     off 48 */
    v9_field(v, 30, 1);  /* IPV6_DST_MASK     off 49 */
    v9_field(v, 31, 3);  /* IPV6_FLOW_LABEL   off 50 */
    v9_field(v, 70, 3);  /* MPLS_LABEL_1      off 53 */
    v9_field(v, 71, 3);  /* MPLS_LABEL_2      off 56 */
    v9_field(v, 72, 3);  /* MPLS_LABEL_3      off 59 */
    v9_field(v, 56, 6);  /* IN_SRC_MAC        off 62 */
    v9_field(v, 57, 6);  /* OUT_DST_MAC       off 68 */
    v9_field(v, 58, 2);  /* SRC_VLAN          off 74 */
    v9_field(v, 59, 2);  /* DST_VLAN          off 76 */
    v9_field(v, 1, 4);   /* IN_BYTES          off 78 */
    v9_field(v, 2, 4);   /* IN_PKTS           off 82 */
    v9_field(v, 4, 1);   /* PROTOCOL          off 86 */
    v9_field(v, 7, 2);   /* L4_SRC_PORT       off 87 */
    v9_field(v, 11, 2);  /* L4_DST_PORT       off 89 -> record 91 bytes */
    v_end(v);
    v_begin(v, 96);
    v_u16(v, 262); /* FlowSet ID */
    v_u16(v, 96);  /* Length: 4 + 91 = 95, + 1 padding */
    v_hex(v, "20010db8000000000000000000000001"); /* IPV6_SRC_ADDR 2001:db8::1 */
    v_hex(v, "20010db8000100000000000000000002"); /* IPV6_DST_ADDR 2001:db8:1::2 */
    v_hex(v, "fe800000000000000000000000000001"); /* IPV6_NEXT_HOP fe80::1 */
    v_u8(v, 48);                                  /* IPV6_SRC_MASK */
    v_u8(v, 64);                                  /* IPV6_DST_MASK */
    v_u24(v, 0x0abcde);  /* IPV6_FLOW_LABEL: 20-bit label 0xABCDE */
    v_u24(v, 0x03e850);  /* MPLS 1: label 16005 << 4 | exp 0 << 1 | S 0 */
    v_u24(v, 0x05dc2a);  /* MPLS 2: label 24002 << 4 | exp 5 << 1 | S 0 */
    v_u24(v, 0x000641);  /* MPLS 3: label 100 << 4 | exp 0 | S 1 (bottom) */
    v_hex(v, "001122334455"); /* IN_SRC_MAC */
    v_hex(v, "66778899aabb"); /* OUT_DST_MAC */
    v_u16(v, 100);       /* SRC_VLAN */
    v_u16(v, 200);       /* DST_VLAN */
    v_u32(v, 1280);      /* IN_BYTES */
    v_u32(v, 10);        /* IN_PKTS */
    v_u8(v, 17);         /* PROTOCOL UDP */
    v_u16(v, 40000);     /* L4_SRC_PORT */
    v_u16(v, 443);       /* L4_DST_PORT */
    v_u8(v, 0);          /* padding */
    v_end(v);
    v_end(v);
}

/* sysUptime 2000 ms; FIRST_SWITCHED 4294965000 (set before the 32-bit
 * uptime wrapped) and LAST_SWITCHED 2160 (160 ms AFTER sysUptime). */
static inline void scn_nfv9_wrap(scn *s)
{
    scn_init(s, "nfv9_wrap");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 28 + 24); /* 72 */
    v9_header(v, 2, 2000, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 2, sysUptime 2000 ms */
    v_begin(v, 28);
    v_u16(v, 0);        /* template FlowSet */
    v_u16(v, 28);       /* Length: 4 + 4 + 5*4 */
    v_u16(v, 263);      /* Template ID */
    v_u16(v, 5);        /* Field Count */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4); /* IPV4_DST_ADDR */
    v9_field(v, 1, 4);  /* IN_BYTES */
    v9_field(v, 22, 4); /* FIRST_SWITCHED */
    v9_field(v, 21, 4); /* LAST_SWITCHED -> 20 bytes */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 263);              /* FlowSet ID */
    v_u16(v, 24);               /* Length: 4 + 20 */
    v_ip4(v, 198, 51, 100, 63); /* src */
    v_ip4(v, 203, 0, 113, 63);  /* dst */
    v_u32(v, 640);              /* IN_BYTES */
    v_u32(v, 4294965000u);      /* FIRST_SWITCHED = 0xFFFFF708 */
    v_u32(v, 2160);             /* LAST_SWITCHED = 0x00000870 */
    v_end(v);
    v_end(v);
}

/* Template 264 redefined with a new layout in the second packet. */
static inline void scn_nfv9_redefine(scn *s)
{
    scn_init(s, "nfv9_redefine");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 16 + 12); /* 48 */
    v9_header(v, 2, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 2, seq 1 */
    v_begin(v, 16);
    v_u16(v, 0);       /* template FlowSet */
    v_u16(v, 16);      /* Length: 4 + 4 + 2*4 */
    v_u16(v, 264);     /* Template ID */
    v_u16(v, 2);       /* Field Count */
    v9_field(v, 8, 4); /* IPV4_SRC_ADDR */
    v9_field(v, 1, 4); /* IN_BYTES -> 8 bytes */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 264);              /* FlowSet ID */
    v_u16(v, 12);               /* Length: 4 + 8 */
    v_ip4(v, 198, 51, 100, 40); /* IPV4_SRC_ADDR */
    v_u32(v, 100);              /* IN_BYTES */
    v_end(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1));
    v_begin(v, 20 + 20 + 16); /* 56 */
    v9_header(v, 2, V9_UPTIME + 1000, VEC_EXPORT_S + 1, 2, V9_SOURCE_ID); /* count 2, seq 2 */
    v_begin(v, 20);
    v_u16(v, 0);        /* template FlowSet */
    v_u16(v, 20);       /* Length: 4 + 4 + 3*4 */
    v_u16(v, 264);      /* same Template ID, new layout */
    v_u16(v, 3);        /* Field Count */
    v9_field(v, 1, 4);  /* IN_BYTES first now */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 11, 2); /* L4_DST_PORT -> 10 bytes */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 264);              /* FlowSet ID */
    v_u16(v, 16);               /* Length: 4 + 10 = 14, + 2 padding */
    v_u32(v, 200);              /* IN_BYTES */
    v_ip4(v, 198, 51, 100, 41); /* IPV4_SRC_ADDR */
    v_u16(v, 8080);             /* L4_DST_PORT */
    v_u16(v, 0);                /* padding */
    v_end(v);
    v_end(v);
}

/* One small packet: template 265 (src, IN_BYTES) + one record, sequence seq. */
static inline void v9_small_packet(vec *v, uint32_t seq, int host)
{
    v_begin(v, 20 + 16 + 12); /* 48 */
    v9_header(v, 2, V9_UPTIME + seq * 1000, VEC_EXPORT_S + seq, seq, V9_SOURCE_ID); /* count 2 */
    v_begin(v, 16);
    v_u16(v, 0);       /* template FlowSet */
    v_u16(v, 16);      /* Length: 4 + 4 + 2*4 */
    v_u16(v, 265);     /* Template ID */
    v_u16(v, 2);       /* Field Count */
    v9_field(v, 8, 4); /* IPV4_SRC_ADDR */
    v9_field(v, 1, 4); /* IN_BYTES */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 265);                /* FlowSet ID */
    v_u16(v, 12);                 /* Length: 4 + 8 */
    v_ip4(v, 198, 51, 100, host); /* IPV4_SRC_ADDR */
    v_u32(v, 1000);               /* IN_BYTES */
    v_end(v);
    v_end(v);
}

/* v9 Sequence Number counts export packets (RFC 3954 §5.1): 10, 11, 14. */
static inline void scn_nfv9_seq(scn *s)
{
    scn_init(s, "nfv9_seq");
    v9_small_packet(scn_add(s, VEC_T_RECV_NS), 10, 1);
    v9_small_packet(scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1)), 11, 2);
    v9_small_packet(scn_add(s, VEC_T_RECV_NS + VEC_S2NS(2)), 14, 3); /* 12 and 13 lost */
}

/* Reduced-size encoding: IN_BYTES in 2 bytes and in 8 bytes, IN_PKTS in 1 and 8. */
static inline void scn_nfv9_reduced(scn *s)
{
    scn_init(s, "nfv9_reduced");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 36 + 12 + 24); /* 92 */
    v9_header(v, 4, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 4 */
    v_begin(v, 36);
    v_u16(v, 0);       /* template FlowSet */
    v_u16(v, 36);      /* Length: 4 + (4 + 12) + (4 + 12) */
    v_u16(v, 266);     /* Template ID */
    v_u16(v, 3);       /* Field Count */
    v9_field(v, 8, 4); /* IPV4_SRC_ADDR */
    v9_field(v, 1, 2); /* IN_BYTES in 2 bytes */
    v9_field(v, 2, 1); /* IN_PKTS in 1 byte -> 7 bytes */
    v_u16(v, 267);     /* Template ID */
    v_u16(v, 3);       /* Field Count */
    v9_field(v, 8, 4); /* IPV4_SRC_ADDR */
    v9_field(v, 1, 8); /* IN_BYTES in 8 bytes */
    v9_field(v, 2, 8); /* IN_PKTS in 8 bytes -> 20 bytes */
    v_end(v);
    v_begin(v, 12);
    v_u16(v, 266);              /* FlowSet ID */
    v_u16(v, 12);               /* Length: 4 + 7 = 11, + 1 padding */
    v_ip4(v, 198, 51, 100, 50); /* src */
    v_u16(v, 0x1234);           /* IN_BYTES 4660 */
    v_u8(v, 7);                 /* IN_PKTS */
    v_u8(v, 0);                 /* padding */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 267);                  /* FlowSet ID */
    v_u16(v, 24);                   /* Length: 4 + 20 */
    v_ip4(v, 198, 51, 100, 51);     /* src */
    v_u64(v, 0x0000000123456789ull); /* IN_BYTES 4886718345 */
    v_u64(v, 0x0000000100000000ull); /* IN_PKTS 4294967296 */
    v_end(v);
    v_end(v);
}

/* Template 268: src, dst, IN_BYTES, IN_PKTS, FIRST/LAST_SWITCHED (24 bytes). */
static inline void v9_tpl268(vec *v)
{
    v_begin(v, 32);
    v_u16(v, 0);        /* template FlowSet */
    v_u16(v, 32);       /* Length: 4 + 4 + 6*4 */
    v_u16(v, 268);      /* Template ID */
    v_u16(v, 6);        /* Field Count */
    v9_field(v, 8, 4);  /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4); /* IPV4_DST_ADDR */
    v9_field(v, 1, 4);  /* IN_BYTES */
    v9_field(v, 2, 4);  /* IN_PKTS */
    v9_field(v, 22, 4); /* FIRST_SWITCHED */
    v9_field(v, 21, 4); /* LAST_SWITCHED -> 24 bytes */
    v_end(v);
}
static inline void v9_data268(vec *v)
{
    v_begin(v, 52);
    v_u16(v, 268);              /* FlowSet ID */
    v_u16(v, 52);               /* Length: 4 + 2*24 */
    v_ip4(v, 198, 51, 100, 68); /* src */
    v_ip4(v, 203, 0, 113, 68);  /* dst */
    v_u32(v, 6800);             /* IN_BYTES */
    v_u32(v, 68);               /* IN_PKTS */
    v_u32(v, 995000);           /* FIRST_SWITCHED: packet-1 sysUptime - 5000 */
    v_u32(v, 999000);           /* LAST_SWITCHED: packet-1 sysUptime - 1000 */
    v_ip4(v, 198, 51, 100, 69); /* src */
    v_ip4(v, 203, 0, 113, 69);  /* dst */
    v_u32(v, 6900);             /* IN_BYTES */
    v_u32(v, 69);               /* IN_PKTS */
    v_u32(v, 999500);           /* FIRST_SWITCHED */
    v_u32(v, 1000000);          /* LAST_SWITCHED */
    v_end(v);
}

/* Data first (packet 1), template 60 s later (packet 2, whose header clock
 * pair differs from packet 1's by 500 ms, so decoding the held records with
 * the wrong header shows). */
static inline void scn_nfv9_late_template(scn *s)
{
    scn_init(s, "nfv9_late_template");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 52); /* 72 */
    v9_header(v, 2, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 2, seq 1 */
    v9_data268(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(60));
    v_begin(v, 20 + 32); /* 52 */
    v9_header(v, 1, V9_UPTIME + 60500, VEC_EXPORT_S + 60, 2, V9_SOURCE_ID); /* count 1, seq 2 */
    v9_tpl268(v);
    v_end(v);
}


/* Fallbacks (docs/COMMON "Decoder facts"): OUT_BYTES/OUT_PKTS (23/24) when
 * IN_* are absent, BGP_IPV4_NEXT_HOP (18) as next_hop when 15 is absent, ICMP
 * type/code from the destination port (proto 1, no ICMP field) or from
 * ICMP_TYPE (32, type*256+code). */
static inline void scn_nfv9_fallbacks(scn *s)
{
    scn_init(s, "nfv9_fallbacks");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 20 + 80 + 28 + 40); /* 168 */
    v9_header(v, 4, V9_UPTIME, VEC_EXPORT_S, 1, V9_SOURCE_ID); /* count 4: 2 templates + 2 data */
    v_begin(v, 80);
    v_u16(v, 0), v_u16(v, 80); /* template FlowSet: 4 + (4 + 7*4) + (4 + 10*4) */
    v_u16(v, 270), v_u16(v, 7); /* Template 270, 7 fields */
    v9_field(v, 8, 4);          /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4);         /* IPV4_DST_ADDR */
    v9_field(v, 4, 1);          /* PROTOCOL */
    v9_field(v, 11, 2);         /* L4_DST_PORT */
    v9_field(v, 23, 4);         /* OUT_BYTES */
    v9_field(v, 24, 4);         /* OUT_PKTS */
    v9_field(v, 18, 4);         /* BGP_IPV4_NEXT_HOP -> 23 bytes */
    v_u16(v, 271), v_u16(v, 10); /* Template 271, 10 fields */
    v9_field(v, 8, 4);          /* IPV4_SRC_ADDR */
    v9_field(v, 12, 4);         /* IPV4_DST_ADDR */
    v9_field(v, 4, 1);          /* PROTOCOL */
    v9_field(v, 32, 2);         /* ICMP_TYPE: type*256 + code */
    v9_field(v, 1, 4);          /* IN_BYTES */
    v9_field(v, 23, 4);         /* OUT_BYTES */
    v9_field(v, 2, 4);          /* IN_PKTS */
    v9_field(v, 24, 4);         /* OUT_PKTS */
    v9_field(v, 15, 4);         /* IPV4_NEXT_HOP */
    v9_field(v, 18, 4);         /* BGP_IPV4_NEXT_HOP -> 35 bytes */
    v_end(v);
    v_begin(v, 28);
    v_u16(v, 270), v_u16(v, 28); /* data 270: 4 + 23 = 27, + 1 padding */
    v_ip4(v, 198, 51, 100, 70);  /* src */
    v_ip4(v, 203, 0, 113, 70);   /* dst */
    v_u8(v, 1);                  /* PROTOCOL ICMP */
    v_u16(v, 0x0303);            /* L4_DST_PORT 771 = type 3 (unreachable) * 256 + code 3 (port) */
    v_u32(v, 840);               /* OUT_BYTES */
    v_u32(v, 10);                /* OUT_PKTS */
    v_ip4(v, 192, 0, 2, 70);     /* BGP_IPV4_NEXT_HOP */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_begin(v, 40);
    v_u16(v, 271), v_u16(v, 40); /* data 271: 4 + 35 = 39, + 1 padding */
    v_ip4(v, 198, 51, 100, 71);  /* src */
    v_ip4(v, 203, 0, 113, 71);   /* dst */
    v_u8(v, 1);                  /* PROTOCOL ICMP */
    v_u16(v, 0x0800);            /* ICMP_TYPE: type 8 (echo request), code 0 */
    v_u32(v, 100);               /* IN_BYTES */
    v_u32(v, 999);               /* OUT_BYTES (IN wins) */
    v_u32(v, 1);                 /* IN_PKTS */
    v_u32(v, 9);                 /* OUT_PKTS (IN wins) */
    v_ip4(v, 192, 0, 2, 71);     /* IPV4_NEXT_HOP */
    v_ip4(v, 192, 0, 2, 171);    /* BGP_IPV4_NEXT_HOP */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_end(v);
}

/* ================================================================== */
/* IPFIX (RFC 7011)                                                   */
/* ================================================================== */

#define IPFIX_DOMAIN 7u
#define IPFIX_OFF_LEN 2
#define IPFIX_OFF_TIME 4
#define IPFIX_OFF_SEQ 8
#define NTP_EPOCH_OFFSET 2208988800u /* seconds from 1900-01-01 to 1970-01-01 */

/* RFC 7011 §3.1 message header (16 bytes). */
static inline void ipfix_header(vec *v, uint16_t len, uint32_t export_s, uint32_t seq, uint32_t domain)
{
    v_u16(v, 10);       /* Version Number 10 */
    v_u16(v, len);      /* Length: whole message in bytes, header included */
    v_u32(v, export_s); /* Export Time, s since the Unix epoch */
    v_u32(v, seq);      /* Sequence Number: Data Records sent before this message */
    v_u32(v, domain);   /* Observation Domain ID */
}
/* RFC 7011 §3.2 field specifier, enterprise bit clear. */
static inline void ipfix_field(vec *v, uint16_t ie, uint16_t len)
{
    v_u16(v, ie), v_u16(v, len);
}
/* §3.2 field specifier with the enterprise bit (0x8000) and the PEN. */
static inline void ipfix_efield(vec *v, uint16_t ie, uint16_t len, uint32_t pen)
{
    v_u16(v, 0x8000u | ie), v_u16(v, len), v_u32(v, pen);
}

/* Template 300 with enterprise fields (fixed and variable length) and
 * variable-length fields in both length encodings (RFC 7011 §7). */
static inline void scn_ipfix_basic(scn *s)
{
    scn_init(s, "ipfix_basic");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 80 + 404); /* 500 */
    ipfix_header(v, 500, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    /* §3.3.2 set header + §3.4.1 template record */
    v_begin(v, 80);
    v_u16(v, 2);                       /* Set ID 2 = template set */
    v_u16(v, 80);                      /* Length: 4 + 4 + 16*4 + 2 PENs*4 */
    v_u16(v, 300);                     /* Template ID */
    v_u16(v, 16);                      /* Field Count */
    ipfix_field(v, 8, 4);              /* sourceIPv4Address */
    ipfix_field(v, 12, 4);             /* destinationIPv4Address */
    ipfix_field(v, 1, 8);              /* octetDeltaCount */
    ipfix_field(v, 2, 8);              /* packetDeltaCount */
    ipfix_field(v, 152, 8);            /* flowStartMilliseconds */
    ipfix_field(v, 153, 8);            /* flowEndMilliseconds */
    ipfix_field(v, 7, 2);              /* sourceTransportPort */
    ipfix_field(v, 11, 2);             /* destinationTransportPort */
    ipfix_field(v, 4, 1);              /* protocolIdentifier -> 49 fixed bytes so far */
    ipfix_efield(v, 100, 4, 9);        /* enterprise IE 100 (PEN 9), 4 bytes: skipped */
    ipfix_efield(v, 200, 65535, 29305); /* enterprise IE 200 (PEN 29305), variable length: skipped */
    ipfix_field(v, 96, 65535);         /* applicationName, variable length */
    ipfix_field(v, 10, 4);             /* ingressInterface */
    ipfix_field(v, 14, 4);             /* egressInterface */
    ipfix_field(v, 5, 1);              /* ipClassOfService */
    ipfix_field(v, 6, 2);              /* tcpControlBits (RFC 7125: 2 bytes) */
    v_end(v);
    /* §3.3.2 data set 300 */
    v_begin(v, 404);
    v_u16(v, 300); /* Set ID = Template ID */
    v_u16(v, 404); /* Length: 4 + 74 + 324 = 402, + 2 padding (§3.3.1) */
    /* record 1: 49 + (3+5) + (1+5) + 11 = 74 bytes */
    v_begin(v, 74);
    v_ip4(v, 198, 51, 100, 10);       /* sourceIPv4Address */
    v_ip4(v, 203, 0, 113, 20);        /* destinationIPv4Address */
    v_u64(v, 123456789012ull);        /* octetDeltaCount = 0x0000001CBE991A14 */
    v_u64(v, 1000000);                /* packetDeltaCount */
    v_u64(v, 1699999990123ull);       /* flowStartMilliseconds */
    v_u64(v, 1699999999456ull);       /* flowEndMilliseconds */
    v_u16(v, 443);                    /* sourceTransportPort */
    v_u16(v, 51000);                  /* destinationTransportPort */
    v_u8(v, 6);                       /* protocolIdentifier TCP */
    v_u32(v, 0xdeadbeef);             /* enterprise IE 100 */
    scn_mark_varlen(s, v);
    v_u8(v, 255), v_u16(v, 5);        /* §7 3-byte length form (255, 5) for a short value */
    v_hex(v, "4142434445");           /* enterprise IE 200 value "ABCDE" */
    scn_mark_varlen(s, v);
    v_u8(v, 5);                       /* §7 1-byte length 5 */
    v_hex(v, "6874747073");           /* applicationName "https" */
    v_u32(v, 10);                     /* ingressInterface */
    v_u32(v, 20);                     /* egressInterface */
    v_u8(v, 0x28);                    /* ipClassOfService */
    v_u16(v, 0x0018);                 /* tcpControlBits PSH|ACK */
    v_end(v);
    /* record 2: 49 + 1 + (3+260) + 11 = 324 bytes */
    v_begin(v, 324);
    v_ip4(v, 198, 51, 100, 11);       /* sourceIPv4Address */
    v_ip4(v, 203, 0, 113, 21);        /* destinationIPv4Address */
    v_u64(v, 500);                    /* octetDeltaCount */
    v_u64(v, 5);                      /* packetDeltaCount */
    v_u64(v, 1699999999000ull);       /* flowStartMilliseconds */
    v_u64(v, 1699999999999ull);       /* flowEndMilliseconds */
    v_u16(v, 123);                    /* sourceTransportPort */
    v_u16(v, 123);                    /* destinationTransportPort */
    v_u8(v, 17);                      /* protocolIdentifier UDP */
    v_u32(v, 0);                      /* enterprise IE 100 */
    scn_mark_varlen(s, v);
    v_u8(v, 0);                       /* §7 1-byte length 0: empty enterprise IE 200 */
    scn_mark_varlen(s, v);
    v_u8(v, 255), v_u16(v, 260);      /* §7 3-byte length form: 255, 0x0104 */
    v_fill(v, 'x', 260);              /* applicationName, 260 x */
    v_u32(v, 11);                     /* ingressInterface */
    v_u32(v, 21);                     /* egressInterface */
    v_u8(v, 0);                       /* ipClassOfService */
    v_u16(v, 0);                      /* tcpControlBits */
    v_end(v);
    v_u16(v, 0); /* set padding (§3.3.1) */
    v_end(v);
    v_end(v);
}

/* All flowStart/End encodings in one message (RFC 7011 §6.1.7-§6.1.10,
 * RFC 7012 IEs 21/22, 150-160). One template per encoding, one record each,
 * told apart by their sourceIPv4Address 198.51.100.<template - 300>. */
static inline void scn_ipfix_times(scn *s)
{
    scn_init(s, "ipfix_times");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 128 + 20 + 16 + 152); /* 332 */
    ipfix_header(v, 332, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    /* §3.4.1 template set: 8 templates */
    v_begin(v, 128);
    v_u16(v, 2);            /* template set */
    v_u16(v, 128);          /* Length: 4 + 6*16 + 20 + 8 */
    v_u16(v, 310), v_u16(v, 3); /* Template 310, 3 fields (16 bytes) */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 150, 4); /* flowStartSeconds */
    ipfix_field(v, 151, 4); /* flowEndSeconds */
    v_u16(v, 311), v_u16(v, 3); /* Template 311 */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 152, 8); /* flowStartMilliseconds */
    ipfix_field(v, 153, 8); /* flowEndMilliseconds */
    v_u16(v, 312), v_u16(v, 3); /* Template 312 */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 154, 8); /* flowStartMicroseconds (NTP format, §6.1.9) */
    ipfix_field(v, 155, 8); /* flowEndMicroseconds */
    v_u16(v, 313), v_u16(v, 3); /* Template 313 */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 156, 8); /* flowStartNanoseconds (NTP format, §6.1.10) */
    ipfix_field(v, 157, 8); /* flowEndNanoseconds */
    v_u16(v, 314), v_u16(v, 3); /* Template 314 */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 158, 4); /* flowStartDeltaMicroseconds (before Export Time) */
    ipfix_field(v, 159, 4); /* flowEndDeltaMicroseconds */
    v_u16(v, 315), v_u16(v, 4); /* Template 315, 4 fields (20 bytes) */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 22, 4);  /* flowStartSysUpTime (ms) */
    ipfix_field(v, 21, 4);  /* flowEndSysUpTime (ms) */
    ipfix_field(v, 160, 8); /* systemInitTimeMilliseconds, AFTER the uptimes */
    v_u16(v, 316), v_u16(v, 1); /* Template 316, 1 field (8 bytes): no time at all */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    v_u16(v, 318), v_u16(v, 3); /* Template 318: uptimes, init time from options data */
    ipfix_field(v, 8, 4);   /* sourceIPv4Address */
    ipfix_field(v, 22, 4);  /* flowStartSysUpTime */
    ipfix_field(v, 21, 4);  /* flowEndSysUpTime */
    v_end(v);
    /* §3.4.2.2 options template set */
    v_begin(v, 20);
    v_u16(v, 3);            /* Set ID 3 = options template set */
    v_u16(v, 20);           /* Length: 4 + 6 + 2*4 = 18, + 2 padding */
    v_u16(v, 317);          /* Template ID */
    v_u16(v, 2);            /* Field Count (scope included) */
    v_u16(v, 1);            /* Scope Field Count */
    ipfix_field(v, 149, 4); /* scope: observationDomainId */
    ipfix_field(v, 160, 8); /* systemInitTimeMilliseconds */
    v_u16(v, 0);            /* padding */
    v_end(v);
    /* options data 317 */
    v_begin(v, 16);
    v_u16(v, 317);              /* Set ID */
    v_u16(v, 16);               /* Length: 4 + 12 */
    v_u32(v, IPFIX_DOMAIN);     /* observationDomainId 7 */
    v_u64(v, 1699980000000ull); /* systemInitTimeMilliseconds */
    v_end(v);
    /* data sets, one record each */
    v_begin(v, 16);
    v_u16(v, 310), v_u16(v, 16); /* Set 310, 4 + 12 */
    v_ip4(v, 198, 51, 100, 10);
    v_u32(v, 1699999990);        /* flowStartSeconds = 0x6553F0F6 */
    v_u32(v, 1699999999);        /* flowEndSeconds = 0x6553F0FF */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 311), v_u16(v, 24); /* Set 311, 4 + 20 */
    v_ip4(v, 198, 51, 100, 11);
    v_u64(v, 1699999990123ull);  /* flowStartMilliseconds */
    v_u64(v, 1699999999456ull);  /* flowEndMilliseconds */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 312), v_u16(v, 24); /* Set 312 */
    v_ip4(v, 198, 51, 100, 12);
    v_u32(v, 1699999990u + NTP_EPOCH_OFFSET); /* start: NTP seconds 3908988790 */
    v_u32(v, 0x80800000u);                    /* fraction 0.5 + 2^-9 = 0.501953125 s */
    v_u32(v, 1699999999u + NTP_EPOCH_OFFSET); /* end: NTP seconds */
    v_u32(v, 0x40000000u);                    /* fraction 0.25 s */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 313), v_u16(v, 24); /* Set 313 */
    v_ip4(v, 198, 51, 100, 13);
    v_u32(v, 1699999991u + NTP_EPOCH_OFFSET); /* start: NTP seconds */
    v_u32(v, 0x00800000u);                    /* fraction 2^-9 = 0.001953125 s */
    v_u32(v, 1699999999u + NTP_EPOCH_OFFSET); /* end: NTP seconds */
    v_u32(v, 0xc0000000u);                    /* fraction 0.75 s */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 314), v_u16(v, 16); /* Set 314 */
    v_ip4(v, 198, 51, 100, 14);
    v_u32(v, 10000000);          /* flowStartDeltaMicroseconds: 10 s before Export Time */
    v_u32(v, 250000);            /* flowEndDeltaMicroseconds: 0.25 s before */
    v_end(v);
    v_begin(v, 24);
    v_u16(v, 315), v_u16(v, 24); /* Set 315 */
    v_ip4(v, 198, 51, 100, 15);
    v_u32(v, 9990000);           /* flowStartSysUpTime, ms */
    v_u32(v, 9999500);           /* flowEndSysUpTime, ms */
    v_u64(v, 1699990000000ull);  /* systemInitTimeMilliseconds in the record */
    v_end(v);
    v_begin(v, 8);
    v_u16(v, 316), v_u16(v, 8);  /* Set 316 */
    v_ip4(v, 198, 51, 100, 16);
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 318), v_u16(v, 16); /* Set 318 */
    v_ip4(v, 198, 51, 100, 18);
    v_u32(v, 19990000);          /* flowStartSysUpTime, ms since the options' init time */
    v_u32(v, 19999000);          /* flowEndSysUpTime */
    v_end(v);
    v_end(v);
}

/* Sampling from options data (RFC 7011 §3.4.2; RFC 5477 IEs 302, 305, 306,
 * 309, 310; RFC 7012 IE 50): three selectors keyed by selectorId, and an
 * observation-domain-wide rate for records that name no selector. */
static inline void scn_ipfix_sampling(scn *s)
{
    scn_init(s, "ipfix_sampling");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 32 + 72 + 20 + 20 + 16 + 16 + 64 + 16); /* 272 */
    ipfix_header(v, 272, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    /* templates 324 (with selectorId) and 325 (without) */
    v_begin(v, 32);
    v_u16(v, 2), v_u16(v, 32);  /* template set, 4 + 16 + 12 */
    v_u16(v, 324), v_u16(v, 3); /* Template 324, 3 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    ipfix_field(v, 302, 8);     /* selectorId -> 20 bytes */
    v_u16(v, 325), v_u16(v, 2); /* Template 325, 2 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount -> 12 bytes */
    v_end(v);
    /* §3.4.2.2 options templates 320-323 */
    v_begin(v, 72);
    v_u16(v, 3), v_u16(v, 72);              /* options template set, 4 + 18 + 18 + 14 + 18 */
    v_u16(v, 320), v_u16(v, 3), v_u16(v, 1); /* Template 320, 3 fields, 1 scope */
    ipfix_field(v, 302, 8);                 /* scope selectorId */
    ipfix_field(v, 305, 4);                 /* samplingPacketInterval */
    ipfix_field(v, 306, 4);                 /* samplingPacketSpace -> 16 bytes */
    v_u16(v, 321), v_u16(v, 3), v_u16(v, 1); /* Template 321 */
    ipfix_field(v, 302, 8);                 /* scope selectorId */
    ipfix_field(v, 309, 4);                 /* samplingSize */
    ipfix_field(v, 310, 4);                 /* samplingPopulation -> 16 bytes */
    v_u16(v, 322), v_u16(v, 2), v_u16(v, 1); /* Template 322, 2 fields */
    ipfix_field(v, 302, 8);                 /* scope selectorId */
    ipfix_field(v, 50, 4);                  /* samplerRandomInterval -> 12 bytes */
    v_u16(v, 323), v_u16(v, 3), v_u16(v, 1); /* Template 323 */
    ipfix_field(v, 149, 4);                 /* scope observationDomainId */
    ipfix_field(v, 305, 4);                 /* samplingPacketInterval */
    ipfix_field(v, 306, 4);                 /* samplingPacketSpace -> 12 bytes */
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 320), v_u16(v, 20); /* options data 320, 4 + 16 */
    v_u64(v, 7);                 /* selectorId 7 */
    v_u32(v, 2);                 /* samplingPacketInterval: 2 packets taken */
    v_u32(v, 98);                /* samplingPacketSpace: 98 skipped -> (2+98)/2 = 1 in 50 */
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 321), v_u16(v, 20); /* options data 321 */
    v_u64(v, 8);                 /* selectorId 8 */
    v_u32(v, 2);                 /* samplingSize 2 */
    v_u32(v, 400);               /* samplingPopulation 400 -> 400/2 = 1 in 200 */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 322), v_u16(v, 16); /* options data 322, 4 + 12 */
    v_u64(v, 9);                 /* selectorId 9 */
    v_u32(v, 500);               /* samplerRandomInterval -> 1 in 500 */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 323), v_u16(v, 16); /* options data 323 */
    v_u32(v, IPFIX_DOMAIN);      /* observationDomainId 7 */
    v_u32(v, 1);                 /* samplingPacketInterval 1 */
    v_u32(v, 1023);              /* samplingPacketSpace 1023 -> 1 in 1024 */
    v_end(v);
    v_begin(v, 64);
    v_u16(v, 324), v_u16(v, 64); /* data 324, 4 + 3*20 */
    v_ip4(v, 198, 51, 100, 7), v_u64(v, 700), v_u64(v, 7); /* selector 7 */
    v_ip4(v, 198, 51, 100, 8), v_u64(v, 800), v_u64(v, 8); /* selector 8 */
    v_ip4(v, 198, 51, 100, 9), v_u64(v, 900), v_u64(v, 9); /* selector 9 */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 325), v_u16(v, 16); /* data 325, 4 + 12 */
    v_ip4(v, 198, 51, 100, 99), v_u64(v, 9900); /* no selector: domain rate */
    v_end(v);
    v_end(v);
}

/* One message: template 330 (src, octets; 12-byte records) if with_tpl, then
 * n records. Sequence seq; Export Time VEC_EXPORT_S + k. */
static inline void ipfix_small_msg(vec *v, uint32_t seq, int nrec, bool with_tpl, int host)
{
    size_t len = 16 + (with_tpl ? 16 : 0) + 4 + 12 * (size_t)nrec;
    v_begin(v, len);
    ipfix_header(v, (uint16_t)len, VEC_EXPORT_S + seq, seq, IPFIX_DOMAIN);
    if (with_tpl) {
        v_begin(v, 16);
        v_u16(v, 2), v_u16(v, 16);  /* template set, 4 + 4 + 2*4 */
        v_u16(v, 330), v_u16(v, 2); /* Template 330, 2 fields */
        ipfix_field(v, 8, 4);       /* sourceIPv4Address */
        ipfix_field(v, 1, 8);       /* octetDeltaCount */
        v_end(v);
    }
    v_begin(v, 4 + 12 * (size_t)nrec);
    v_u16(v, 330), v_u16(v, 4 + 12 * (uint64_t)nrec); /* data set 330 */
    for (int i = 0; i < nrec; i++)
        v_ip4(v, 198, 51, 100, host + i), v_u64(v, 1000);
    v_end(v);
    v_end(v);
}

/* RFC 7011 §3.1: Sequence Number = Data Records sent before this message.
 * 100 (+2) -> 102 (+1) -> 106: records 103..105 lost (3). */
static inline void scn_ipfix_seq(scn *s)
{
    scn_init(s, "ipfix_seq");
    ipfix_small_msg(scn_add(s, VEC_T_RECV_NS), 100, 2, true, 1);
    ipfix_small_msg(scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1)), 102, 1, false, 3);
    ipfix_small_msg(scn_add(s, VEC_T_RECV_NS + VEC_S2NS(2)), 106, 1, false, 4);
}

/* Options data records are Data Records too (RFC 7011 §2 "Data Record"), so
 * they count in the Sequence Number: message 1 (seq 0) carries 1 options data
 * record and 1 data record, message 2 says 2: nothing lost. */
static inline void scn_ipfix_seq_options(scn *s)
{
    scn_init(s, "ipfix_seq_options");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 16 + 20 + 16 + 16); /* 84 */
    ipfix_header(v, 84, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 16);
    v_u16(v, 2), v_u16(v, 16);  /* template set: 4 + 4 + 2*4 */
    v_u16(v, 330), v_u16(v, 2); /* Template 330, 2 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 3), v_u16(v, 20);               /* options template set: 4 + 6 + 2*4 = 18, + 2 padding */
    v_u16(v, 331), v_u16(v, 2), v_u16(v, 1); /* Template 331, 2 fields, 1 scope */
    ipfix_field(v, 149, 4);                  /* scope observationDomainId */
    ipfix_field(v, 160, 8);                  /* systemInitTimeMilliseconds -> 12 bytes */
    v_u16(v, 0);                             /* padding */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 331), v_u16(v, 16); /* options data 331: 4 + 12 */
    v_u32(v, IPFIX_DOMAIN);      /* observationDomainId */
    v_u64(v, 1699990000000ull);  /* systemInitTimeMilliseconds */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 330), v_u16(v, 16); /* data 330: 4 + 12 */
    v_ip4(v, 198, 51, 100, 1), v_u64(v, 1000);
    v_end(v);
    v_end(v);
    ipfix_small_msg(scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1)), 2, 1, false, 2); /* seq 2 */
}

/* ingressVRFID/egressVRFID (234/235, RFC 7012), biflowDirection (239, RFC
 * 5103), flowDirection (61), forwardingStatus (89, RFC 7270 §4.12),
 * observationPointId (138). */
static inline void scn_ipfix_misc(scn *s)
{
    scn_init(s, "ipfix_misc");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 48 + 44); /* 108 */
    ipfix_header(v, 108, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 48);
    v_u16(v, 2), v_u16(v, 48);   /* template set: 4 + 4 + 10*4 */
    v_u16(v, 340), v_u16(v, 10); /* Template 340, 10 fields */
    ipfix_field(v, 8, 4);        /* sourceIPv4Address */
    ipfix_field(v, 12, 4);       /* destinationIPv4Address */
    ipfix_field(v, 234, 4);      /* ingressVRFID */
    ipfix_field(v, 235, 4);      /* egressVRFID */
    ipfix_field(v, 239, 1);      /* biflowDirection */
    ipfix_field(v, 61, 1);       /* flowDirection */
    ipfix_field(v, 89, 1);       /* forwardingStatus */
    ipfix_field(v, 138, 4);      /* observationPointId */
    ipfix_field(v, 1, 8);        /* octetDeltaCount */
    ipfix_field(v, 2, 8);        /* packetDeltaCount -> 39 bytes */
    v_end(v);
    v_begin(v, 44);
    v_u16(v, 340), v_u16(v, 44); /* data 340: 4 + 39 = 43, + 1 padding */
    v_ip4(v, 198, 51, 100, 34);  /* src */
    v_ip4(v, 203, 0, 113, 34);   /* dst */
    v_u32(v, 10);                /* ingressVRFID */
    v_u32(v, 20);                /* egressVRFID */
    v_u8(v, 1);                  /* biflowDirection 1 = initiator */
    v_u8(v, 1);                  /* flowDirection 1 = egress */
    v_u8(v, 0x42);               /* forwardingStatus 66: forwarded, fragmented */
    v_u32(v, 77);                /* observationPointId */
    v_u64(v, 3000);              /* octetDeltaCount */
    v_u64(v, 3);                 /* packetDeltaCount */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_end(v);
}

/* Template 350 + data; then a withdrawal (§8.1: Field Count 0) and a data
 * set 350 in the next message: that data has no template. */
static inline void scn_ipfix_withdraw(scn *s)
{
    scn_init(s, "ipfix_withdraw");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 16 + 16); /* 48 */
    ipfix_header(v, 48, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 16);
    v_u16(v, 2), v_u16(v, 16);  /* template set */
    v_u16(v, 350), v_u16(v, 2); /* Template 350, 2 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 350), v_u16(v, 16); /* data 350, 4 + 12 */
    v_ip4(v, 198, 51, 100, 50), v_u64(v, 5000);
    v_end(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1));
    v_begin(v, 16 + 8 + 16); /* 40 */
    ipfix_header(v, 40, VEC_EXPORT_S + 1, 1, IPFIX_DOMAIN);
    v_begin(v, 8);
    v_u16(v, 2), v_u16(v, 8);   /* template set, 4 + 4 */
    v_u16(v, 350), v_u16(v, 0); /* Template 350, Field Count 0 = withdrawal (§8.1) */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 350), v_u16(v, 16); /* data 350 again */
    v_ip4(v, 198, 51, 100, 51), v_u64(v, 5100);
    v_end(v);
    v_end(v);
}

/* Template 360 uses flowStart/EndDeltaMicroseconds: the held records' times
 * depend on THEIR message's Export Time. */
static inline void ipfix_tpl360(vec *v)
{
    v_begin(v, 24);
    v_u16(v, 2), v_u16(v, 24);  /* template set: 4 + 4 + 4*4 */
    v_u16(v, 360), v_u16(v, 4); /* Template 360, 4 fields */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    ipfix_field(v, 158, 4);     /* flowStartDeltaMicroseconds */
    ipfix_field(v, 159, 4);     /* flowEndDeltaMicroseconds -> 20 bytes */
    v_end(v);
}
static inline void ipfix_data360(vec *v, int host)
{
    v_begin(v, 44);
    v_u16(v, 360), v_u16(v, 44); /* data 360, 4 + 2*20 */
    v_ip4(v, 198, 51, 100, host), v_u64(v, 3600);
    v_u32(v, 1000000), v_u32(v, 0);   /* start 1 s before Export Time, end at it */
    v_ip4(v, 198, 51, 100, host + 1), v_u64(v, 3610);
    v_u32(v, 2000000), v_u32(v, 500000); /* start 2 s before, end 0.5 s before */
    v_end(v);
}
/* Message 1 (Export Time E, seq 0): data 360 only. Message 2 (E + 60): the template. */
static inline void scn_ipfix_late_template(scn *s)
{
    scn_init(s, "ipfix_late_template");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 44);
    ipfix_header(v, 60, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    ipfix_data360(v, 60);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(60));
    v_begin(v, 16 + 24);
    ipfix_header(v, 40, VEC_EXPORT_S + 60, 2, IPFIX_DOMAIN);
    ipfix_tpl360(v);
    v_end(v);
}
/* Data 360 then template 360 later in the SAME message. */
static inline void scn_ipfix_late_same_msg(scn *s)
{
    scn_init(s, "ipfix_late_same_msg");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 44 + 24);
    ipfix_header(v, 84, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    ipfix_data360(v, 70);
    ipfix_tpl360(v);
    v_end(v);
}


/* ICMP in IPFIX: icmpTypeIPv6/icmpCodeIPv6 (178/179), icmpTypeIPv4/
 * icmpCodeIPv4 (176/177), icmpTypeCodeIPv6 (139: type*256 + code). */
static inline void scn_ipfix_icmp(scn *s)
{
    scn_init(s, "ipfix_icmp");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 72 + 40 + 16 + 40); /* 184 */
    ipfix_header(v, 184, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 72);
    v_u16(v, 2), v_u16(v, 72);  /* template set: 4 + 24 + 24 + 20 */
    v_u16(v, 372), v_u16(v, 5); /* Template 372 */
    ipfix_field(v, 27, 16);     /* sourceIPv6Address */
    ipfix_field(v, 28, 16);     /* destinationIPv6Address */
    ipfix_field(v, 4, 1);       /* protocolIdentifier */
    ipfix_field(v, 178, 1);     /* icmpTypeIPv6 */
    ipfix_field(v, 179, 1);     /* icmpCodeIPv6 -> 35 bytes */
    v_u16(v, 373), v_u16(v, 5); /* Template 373 */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 12, 4);      /* destinationIPv4Address */
    ipfix_field(v, 4, 1);       /* protocolIdentifier */
    ipfix_field(v, 176, 1);     /* icmpTypeIPv4 */
    ipfix_field(v, 177, 1);     /* icmpCodeIPv4 -> 11 bytes */
    v_u16(v, 374), v_u16(v, 4); /* Template 374 */
    ipfix_field(v, 27, 16);     /* sourceIPv6Address */
    ipfix_field(v, 28, 16);     /* destinationIPv6Address */
    ipfix_field(v, 4, 1);       /* protocolIdentifier */
    ipfix_field(v, 139, 2);     /* icmpTypeCodeIPv6 -> 35 bytes */
    v_end(v);
    v_begin(v, 40);
    v_u16(v, 372), v_u16(v, 40); /* data 372: 4 + 35, + 1 padding */
    v_hex(v, "20010db8000000000000000000000072");
    v_hex(v, "20010db8000000000000000000000172");
    v_u8(v, 58);                 /* IPv6-ICMP */
    v_u8(v, 128), v_u8(v, 0);    /* echo request */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 373), v_u16(v, 16); /* data 373: 4 + 11, + 1 padding */
    v_ip4(v, 198, 51, 100, 73), v_ip4(v, 203, 0, 113, 73);
    v_u8(v, 1);                  /* ICMP */
    v_u8(v, 3), v_u8(v, 1);      /* unreachable, host */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_begin(v, 40);
    v_u16(v, 374), v_u16(v, 40); /* data 374 */
    v_hex(v, "20010db8000000000000000000000074");
    v_hex(v, "20010db8000000000000000000000174");
    v_u8(v, 58);                 /* IPv6-ICMP */
    v_u16(v, 0x0101);            /* type 1 (unreachable), code 1 */
    v_u8(v, 0);                  /* padding */
    v_end(v);
    v_end(v);
}

/* §8.1: Template ID 2 with Field Count 0 in a template set withdraws every
 * template of the domain; Template ID 3 in an options template set every
 * options template. Message 1 defines 380 and options 381. */
static inline void scn_ipfix_withdraw_all(scn *s)
{
    scn_init(s, "ipfix_withdraw_all");
    vec *v = scn_add(s, VEC_T_RECV_NS);
    v_begin(v, 16 + 16 + 20); /* 52 */
    ipfix_header(v, 52, VEC_EXPORT_S, 0, IPFIX_DOMAIN);
    v_begin(v, 16);
    v_u16(v, 2), v_u16(v, 16);  /* template set */
    v_u16(v, 380), v_u16(v, 2); /* Template 380 */
    ipfix_field(v, 8, 4);       /* sourceIPv4Address */
    ipfix_field(v, 1, 8);       /* octetDeltaCount */
    v_end(v);
    v_begin(v, 20);
    v_u16(v, 3), v_u16(v, 20);               /* options template set, 4 + 6 + 8, + 2 padding */
    v_u16(v, 381), v_u16(v, 2), v_u16(v, 1); /* Template 381, 2 fields, 1 scope */
    ipfix_field(v, 149, 4);                  /* scope observationDomainId */
    ipfix_field(v, 160, 8);                  /* systemInitTimeMilliseconds */
    v_u16(v, 0);                             /* padding */
    v_end(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(1));
    v_begin(v, 16 + 8 + 16); /* 40 */
    ipfix_header(v, 40, VEC_EXPORT_S + 1, 0, IPFIX_DOMAIN);
    v_begin(v, 8);
    v_u16(v, 2), v_u16(v, 8); /* template set */
    v_u16(v, 2), v_u16(v, 0); /* Template ID 2, Field Count 0: withdraw all templates */
    v_end(v);
    v_begin(v, 16);
    v_u16(v, 380), v_u16(v, 16); /* data 380: no template any more */
    v_ip4(v, 198, 51, 100, 80), v_u64(v, 8000);
    v_end(v);
    v_end(v);
    v = scn_add(s, VEC_T_RECV_NS + VEC_S2NS(2));
    v_begin(v, 16 + 8); /* 24 */
    ipfix_header(v, 24, VEC_EXPORT_S + 2, 1, IPFIX_DOMAIN); /* seq 1: message 2 sent 1 data record */
    v_begin(v, 8);
    v_u16(v, 3), v_u16(v, 8); /* options template set */
    v_u16(v, 3), v_u16(v, 0); /* Template ID 3, Field Count 0: withdraw all options templates */
    v_end(v);
    v_end(v);
}

/* Every scenario, for malformed_test.c. */
typedef void (*scn_builder)(scn *);
static inline size_t scn_all(const scn_builder **out)
{
    static const scn_builder all[] = {
        scn_nfv5_basic,      scn_nfv5_seq,          scn_nfv5_badcount,      scn_nfv9_basic,
        scn_nfv9_split,      scn_nfv9_sampler,      scn_nfv9_interval,      scn_nfv9_v6mpls,
        scn_nfv9_wrap,       scn_nfv9_redefine,     scn_nfv9_seq,           scn_nfv9_reduced,
        scn_nfv9_late_template, scn_ipfix_basic,    scn_ipfix_times,        scn_ipfix_sampling,
        scn_ipfix_seq,       scn_ipfix_seq_options, scn_ipfix_misc,         scn_ipfix_withdraw,
        scn_ipfix_late_template, scn_ipfix_late_same_msg, scn_nfv9_fallbacks, scn_ipfix_icmp,
        scn_ipfix_withdraw_all,
    };
    *out = all;
    return sizeof all / sizeof all[0];
}

#endif
