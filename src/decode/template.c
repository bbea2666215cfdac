/*
 * template.c - template compilation, the data-record interpreter and the
 * template cache (see template.h). Workload: compile once per template
 * (re)definition, interpret once per data record: the interpreter is the
 * NetFlow v9/IPFIX hot path.
 */
#include "decode/template.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A template may carry both IPv4 and IPv6 address IEs (8/12 and 27/28), one
 * of them all zeros: Procera fills 27/28 with :: in IPv4 flows, Cisco
 * IOS-XR MPLS template 313 fills 8/12 with 0.0.0.0 in IPv6 flows. An
 * all-zero address never replaces one already set, so the record keeps the
 * address that was really seen, whatever the template order. */
static bool addr_is_zero(const ft_addr *a)
{
    size_t from = a->family == 4 ? 12 : 0; /* IPv4 sits in the last 4 bytes */
    for (size_t i = from; i < 16; i++)
        if (a->b[i])
            return false;
    return true;
}

static inline void keep_addr4(ft_addr *dst, const uint8_t *v)
{
    if (ft_be32(v) == 0 && dst->family)
        return;
    *dst = ft_addr_v4(v);
}

static inline void keep_addr6(ft_addr *dst, const uint8_t *v)
{
    if ((ft_be64(v) | ft_be64(v + 8)) == 0 && dst->family)
        return;
    *dst = ft_addr_v6(v);
}

/* ---- the field program ---------------------------------------------------- */

/* What a step does (ft_tstep.kind). "run" is the span the last TAKE claimed;
 * a store step writes the value at run + off (len bytes, big-endian, RFC 7011
 * §6.1 / RFC 3954 §8; integers may use reduced-size encoding, RFC 7011 §6.2)
 * into the member dst bytes into ft_flow (tgt 0) or ft_record_extra (tgt 1). */
typedef enum ft_step_kind {
    FT_STEP_TAKE,  /* claims the next len bytes (a run of fixed-length fields) from the reader */
    FT_STEP_VAR,   /* a variable-length field: length prefix and value through the reader, then op */
    FT_STEP_OP,    /* a fixed-length field whose op is more than a store: apply_op */
    FT_STEP_U32_1, /* uint32_t member = 1-byte value */
    FT_STEP_U32_2, /* uint32_t member = 2-byte value */
    FT_STEP_U32_4, /* uint32_t member = 4-byte value */
    FT_STEP_U32_N, /* uint32_t member = low 32 bits of a 3, 5, 6, 7 or 8-byte value */
    FT_STEP_U64_4, /* uint64_t member = 4-byte value */
    FT_STEP_U64_8, /* uint64_t member = 8-byte value */
    FT_STEP_U64_N, /* uint64_t member = 1..8-byte value */
    FT_STEP_ADDR4, /* ft_addr member = IPv4 address */
    FT_STEP_ADDR6, /* ft_addr member = IPv6 address */
    FT_STEP_KEEP_ADDR4, /* as ADDR4, but all zeros never replaces a set address (keep_addr4) */
    FT_STEP_KEEP_ADDR6,
    FT_STEP_MAC,   /* uint64_t member = 6-byte MAC (flow.h layout) */
} ft_step_kind;

/* How an op stores its value when that is all it does. */
enum { ST_NONE, ST_U32, ST_U64, ST_ADDR, ST_KEEP_ADDR, ST_MAC };

typedef struct op_store {
    uint8_t how;   /* ST_*; ST_NONE: apply_op handles the op */
    uint8_t tgt;   /* 0 ft_flow, 1 ft_record_extra */
    uint16_t dst;  /* offsetof the member */
    uint64_t have; /* FT_X_* bit the op sets, 0 none */
} op_store;

/* The destination member, with its size checked at compile time against
 * what the store writes (a negative array size stops the build). */
#define MEMBER(T, tgt, m, size) \
    tgt, (uint16_t)(offsetof(T, m) + 0 * sizeof(char[sizeof(((T *)0)->m) == (size) ? 1 : -1]))
#define F32(m) ST_U32, MEMBER(ft_flow, 0, m, 4)
#define F64(m) ST_U64, MEMBER(ft_flow, 0, m, 8)
#define X32(m) ST_U32, MEMBER(ft_record_extra, 1, m, 4)
#define X64(m) ST_U64, MEMBER(ft_record_extra, 1, m, 8)
#define FADDR(m) ST_ADDR, MEMBER(ft_flow, 0, m, sizeof(ft_addr))
#define FKEEP(m) ST_KEEP_ADDR, MEMBER(ft_flow, 0, m, sizeof(ft_addr))
#define FMAC(m) ST_MAC, MEMBER(ft_flow, 0, m, 8)
#define XMAC(m) ST_MAC, MEMBER(ft_record_extra, 1, m, 8)

/* The plain stores (ie_table.h names the IEs behind each op). Ops missing
 * here transform their value (masks, splits, conditions, the MPLS stack,
 * the data-link frame) and go through apply_op. */
static const op_store OP_STORE[FT_OP_COUNT] = {
    [FT_OP_IN_BYTES] = {F64(bytes), FT_X_IN_BYTES},
    [FT_OP_IN_PKTS] = {F64(packets), FT_X_IN_PKTS},
    [FT_OP_PROTO] = {F32(proto), 0},
    [FT_OP_TOS] = {F32(ip_tos), 0},
    [FT_OP_TCP_FLAGS] = {F32(tcp_flags), 0},
    [FT_OP_SRC_PORT] = {F32(src_port), 0},
    [FT_OP_SRC_ADDR] = {FKEEP(src_addr), 0},
    [FT_OP_SRC_MASK] = {F32(src_net), 0},
    [FT_OP_IN_IF] = {F32(in_if), 0},
    [FT_OP_DST_PORT] = {F32(dst_port), 0},
    [FT_OP_DST_ADDR] = {FKEEP(dst_addr), 0},
    [FT_OP_DST_MASK] = {F32(dst_net), 0},
    [FT_OP_OUT_IF] = {F32(out_if), 0},
    [FT_OP_NEXT_HOP] = {FADDR(next_hop), FT_X_NEXT_HOP},
    [FT_OP_SRC_AS] = {F32(src_as), 0},
    [FT_OP_DST_AS] = {F32(dst_as), 0},
    [FT_OP_BGP_NEXT_HOP] = {FADDR(bgp_next_hop), 0},
    [FT_OP_LAST_SWITCHED] = {X32(last_switched), FT_X_LAST_SWITCHED},
    [FT_OP_FIRST_SWITCHED] = {X32(first_switched), FT_X_FIRST_SWITCHED},
    [FT_OP_OUT_BYTES] = {X64(out_bytes), FT_X_OUT_BYTES},
    [FT_OP_OUT_PKTS] = {X64(out_pkts), FT_X_OUT_PKTS},
    [FT_OP_SAMPLING_INTERVAL] = {X64(sampling_interval), FT_X_SAMPLING_INTERVAL},
    [FT_OP_SAMPLER_ID] = {X64(sampler_id), FT_X_SAMPLER_ID},
    [FT_OP_SAMPLER_RANDOM_INTERVAL] = {X64(sampler_random_interval), FT_X_RANDOM_INTERVAL},
    [FT_OP_MIN_TTL] = {F32(ip_ttl), 0},
    [FT_OP_FRAGMENT_ID] = {F32(fragment_id), 0},
    [FT_OP_SRC_MAC] = {FMAC(src_mac), 0},
    [FT_OP_DST_MAC] = {FMAC(dst_mac), FT_X_DST_MAC},
    [FT_OP_DIRECTION] = {F32(flow_direction), 0},
    [FT_OP_IN_DST_MAC] = {XMAC(in_dst_mac), FT_X_IN_DST_MAC},
    [FT_OP_FRAGMENT_OFFSET] = {F32(fragment_offset), 0},
    [FT_OP_FORWARDING_STATUS] = {F32(forwarding_status), 0},
    [FT_OP_OBSERVATION_POINT_ID] = {F32(observation_point_id), 0},
    [FT_OP_START_SECONDS] = {X64(start_s), FT_X_START_S},
    [FT_OP_END_SECONDS] = {X64(end_s), FT_X_END_S},
    [FT_OP_START_MILLISECONDS] = {X64(start_ms), FT_X_START_MS},
    [FT_OP_END_MILLISECONDS] = {X64(end_ms), FT_X_END_MS},
    [FT_OP_START_MICROSECONDS] = {X64(start_ntp_us), FT_X_START_US},
    [FT_OP_END_MICROSECONDS] = {X64(end_ntp_us), FT_X_END_US},
    [FT_OP_START_NANOSECONDS] = {X64(start_ntp_ns), FT_X_START_NS},
    [FT_OP_END_NANOSECONDS] = {X64(end_ntp_ns), FT_X_END_NS},
    [FT_OP_START_DELTA_MICROSECONDS] = {X64(start_delta_us), FT_X_START_DELTA},
    [FT_OP_END_DELTA_MICROSECONDS] = {X64(end_delta_us), FT_X_END_DELTA},
    [FT_OP_SYSTEM_INIT_TIME] = {X64(system_init_ms), FT_X_SYSTEM_INIT},
    [FT_OP_ICMP_TYPE] = {F32(icmp_type), FT_X_ICMP},
    [FT_OP_ICMP_CODE] = {F32(icmp_code), FT_X_ICMP},
    [FT_OP_FRAGMENT_FLAGS] = {F32(ip_flags), 0},
    [FT_OP_INGRESS_VRF_ID] = {F32(ingress_vrf_id), 0},
    [FT_OP_EGRESS_VRF_ID] = {F32(egress_vrf_id), 0},
    [FT_OP_BIFLOW_DIRECTION] = {F32(bi_flow_direction), 0},
    [FT_OP_ETHERNET_TYPE] = {F32(etype), FT_X_ETYPE},
    [FT_OP_SELECTOR_ALGORITHM] = {X32(selector_algorithm), FT_X_SELECTOR_ALGORITHM},
    [FT_OP_SAMPLING_PACKET_INTERVAL] = {X64(packet_interval), FT_X_PACKET_INTERVAL},
    [FT_OP_SAMPLING_PACKET_SPACE] = {X64(packet_space), FT_X_PACKET_SPACE},
    [FT_OP_SAMPLING_SIZE] = {X64(sampling_size), FT_X_SAMPLING_SIZE},
    [FT_OP_SAMPLING_POPULATION] = {X64(sampling_population), FT_X_SAMPLING_POPULATION},
    [FT_OP_DATALINK_FRAME_SIZE] = {X64(datalink_frame_size), FT_X_FRAME_SIZE},
};

#undef MEMBER
#undef F32
#undef F64
#undef X32
#undef X64
#undef FADDR
#undef FKEEP
#undef FMAC
#undef XMAC

/* Ops whose effect depends on the value (IP_VERSION stores only 4 or 6) or
 * on other fields of the record (the MPLS stack, the data-link frame
 * parsed into many members). Every other op writes the same members and the
 * same FT_X_* bits on every record: what ft_record_reset relies on. */
static bool op_conditional(ft_op op)
{
    return op == FT_OP_IP_VERSION || op == FT_OP_MPLS_LABEL || op == FT_OP_DATALINK_FRAME;
}

/* ---- compilation ------------------------------------------------------- */

/* Steps per template at most: one per field, plus one TAKE per run of
 * fixed-length fields (at most one more than the variable-length ones). */
static size_t max_steps(uint16_t n_fields)
{
    return 2 * (size_t)n_fields + 1;
}

size_t ft_template_size(uint16_t n_fields)
{
    return sizeof(ft_template) + (size_t)n_fields * sizeof(ft_tfield) + max_steps(n_fields) * sizeof(ft_tstep) +
           (size_t)n_fields * sizeof(ft_tint);
}

/* The store step of a fixed-length field of op at offset off of its run.
 * ft_ie_compile guarantees the lengths each op accepts: 1..8 for integers,
 * 4 or 16 for addresses (by IE), 6 for MACs. */
static void compile_fixed(ft_tstep *s, ft_op op, uint8_t index, uint16_t off, uint16_t len, uint64_t *have)
{
    const op_store *st = &OP_STORE[op];
    s->op = (uint8_t)op;
    s->index = index;
    s->off = off;
    s->len = len;
    s->tgt = st->tgt;
    s->dst = st->dst;
    *have |= st->have;
    switch (st->how) {
    case ST_U32:
        s->kind = len == 1 ? FT_STEP_U32_1 : len == 2 ? FT_STEP_U32_2 : len == 4 ? FT_STEP_U32_4 : FT_STEP_U32_N;
        return;
    case ST_U64:
        s->kind = len == 4 ? FT_STEP_U64_4 : len == 8 ? FT_STEP_U64_8 : FT_STEP_U64_N;
        return;
    case ST_ADDR:
        s->kind = len == 4 ? FT_STEP_ADDR4 : FT_STEP_ADDR6;
        return;
    case ST_KEEP_ADDR:
        s->kind = len == 4 ? FT_STEP_KEEP_ADDR4 : FT_STEP_KEEP_ADDR6;
        return;
    case ST_MAC:
        s->kind = FT_STEP_MAC;
        return;
    }
    s->kind = FT_STEP_OP;
}

static bool is_int_step(const ft_tstep *s)
{
    return s->kind >= FT_STEP_U32_1 && s->kind <= FT_STEP_U64_N;
}

static bool is_u64_step(const ft_tstep *s)
{
    return s->kind >= FT_STEP_U64_4 && s->kind <= FT_STEP_U64_N;
}

/*
 * A fixed-length template (one run, at least 8 bytes) gets its integer
 * fields, most of any template, out of the step loop: each becomes an
 * ft_tint that reads the 8-byte window holding it, shifts and masks, with
 * no branch on its kind. A dispatch per field (an indirect jump whose target
 * changes from field to field) was most of the record cost in the profile.
 *
 * The window is the 8 bytes ending at the field's last byte, or the first 8
 * bytes of the record for a field that ends before byte 8; both lie inside
 * the record (record length >= 8, field inside the record), which the one
 * TAKE of the record checked.
 *
 * The integers then run before the remaining steps. That changes nothing
 * unless a remaining step writes a member an integer step writes too:
 * ICMP_TYPE_CODE (icmp_type/icmp_code) with ICMP_TYPE/ICMP_CODE, and
 * IP_VERSION (etype) with ETHERNET_TYPE; such templates keep the plain
 * program. The integers are grouped by destination struct and width (one
 * loop each, no per-field choice), keeping their order within a group; a
 * member is only ever stored with one width, so two fields for one member
 * keep their template order (the last one wins).
 */
static void batch_ints(ft_template *t, size_t n_steps)
{
    bool icmp_split = false, icmp_int = false, ipver = false, ethtype = false;
    for (size_t i = 0; i < n_steps; i++) {
        const ft_tstep *s = &t->steps[i];
        icmp_split |= s->op == FT_OP_ICMP_TYPE_CODE;
        icmp_int |= s->op == FT_OP_ICMP_TYPE || s->op == FT_OP_ICMP_CODE;
        ipver |= s->op == FT_OP_IP_VERSION;
        ethtype |= s->op == FT_OP_ETHERNET_TYPE;
        if (s->kind == FT_STEP_VAR || (s->kind == FT_STEP_TAKE && i != 0))
            return; /* more than one run */
    }
    if (n_steps == 0 || t->steps[0].kind != FT_STEP_TAKE || t->steps[0].len < 8 || (icmp_split && icmp_int) ||
        (ipver && ethtype))
        return;
    t->rec_len = t->steps[0].len;
    t->ints = (ft_tint *)(t->steps + max_steps(t->n_fields));
    size_t ni = 0, nrest = 0;
    for (int g = 0; g < FT_INT_GROUPS; g++) {
        for (size_t i = 1; i < n_steps; i++) {
            const ft_tstep *s = &t->steps[i];
            if (!is_int_step(s) || (s->tgt ? 2 : 0) + (is_u64_step(s) ? 1 : 0) != g)
                continue;
            uint32_t end = (uint32_t)s->off + s->len; /* 1 <= len <= 8, end <= rec_len */
            uint32_t win = end >= 8 ? end - 8 : 0;
            ft_tint *in = &t->ints[ni++];
            in->win = (uint16_t)win;
            in->lsh = (uint8_t)(8 * (s->off - win));
            in->rsh = (uint8_t)(64 - 8 * s->len);
            in->dst = s->dst;
            t->n_int[g]++;
        }
    }
    for (size_t i = 1; i < n_steps; i++)
        if (!is_int_step(&t->steps[i]))
            t->steps[nrest++] = t->steps[i];
    t->n_steps = (uint16_t)nrest;
    t->batched = true;
}

ft_template *ft_template_compile(uint8_t version, uint32_t domain, uint16_t id, bool options,
                                 uint16_t scope_count, uint16_t n_fields, const uint16_t *ids,
                                 const uint16_t *lens, const uint32_t *pens, size_t max_record_len)
{
    ft_template *t = malloc(ft_template_size(n_fields));
    if (!t)
        return NULL;
    memset(t, 0, ft_template_size(n_fields)); /* padding too: same_layout compares with memcmp */
    t->version = version;
    t->domain = domain;
    t->id = id;
    t->options = options;
    t->scope_count = scope_count;
    t->n_fields = n_fields;
    t->steps = (ft_tstep *)(t->fields + n_fields);
    t->fast_reset = true;
    uint32_t min_len = 0;
    size_t n_steps = 0, take = SIZE_MAX; /* take: index of the open run's TAKE step */
    uint32_t run = 0;                    /* bytes of the open run so far */
    for (uint16_t i = 0; i < n_fields; i++) {
        ft_tfield *f = &t->fields[i];
        f->id = ids[i];
        f->len = lens[i];
        f->pen = pens[i];
        f->index = 0;
        /* Scope fields of options templates describe what the options apply
         * to (the exporter, an interface...), not a flow: skip them, except a
         * sampler/selector ID scope, which keys sampling rates. */
        ft_op op = ft_ie_compile(ids[i], pens[i], lens[i]);
        if (options && i < scope_count && op != FT_OP_SAMPLER_ID)
            op = FT_OP_SKIP;
        f->op = (uint8_t)op;
        if (op == FT_OP_MPLS_LABEL)
            f->index = (uint8_t)(ids[i] - 70);
        if (op_conditional(op))
            t->fast_reset = false;
        if (lens[i] == FT_VARLEN) {
            /* RFC 7011 §7: the value's length is on the wire; the run of
             * fixed fields before it ends here. */
            if (take != SIZE_MAX)
                t->steps[take].len = (uint16_t)run;
            take = SIZE_MAX;
            ft_tstep *s = &t->steps[n_steps++];
            s->kind = FT_STEP_VAR;
            s->op = (uint8_t)op;
            s->index = f->index;
            min_len += 1;
            continue;
        }
        min_len += lens[i];
        if (run + lens[i] > UINT16_MAX) {
            free(t); /* no record can be that long (a set is at most 65535 bytes) */
            return NULL;
        }
        if (take == SIZE_MAX) {
            take = n_steps++;
            t->steps[take].kind = FT_STEP_TAKE;
            run = 0;
        }
        if (op != FT_OP_SKIP)
            compile_fixed(&t->steps[n_steps++], op, f->index, (uint16_t)run, lens[i], &t->have);
        run += lens[i];
    }
    if (take != SIZE_MAX)
        t->steps[take].len = (uint16_t)run;
    t->n_steps = (uint16_t)n_steps;
    t->min_len = min_len;
    if (min_len == 0 || min_len > max_record_len) {
        free(t);
        return NULL;
    }
    batch_ints(t, n_steps);
    return t;
}

/* ---- data records ------------------------------------------------------ */

static inline void put32(uint8_t *d, uint32_t v)
{
    memcpy(d, &v, sizeof v);
}

static inline void put64(uint8_t *d, uint64_t v)
{
    memcpy(d, &v, sizeof v);
}

/* The ops that are more than a store (OP_STORE has none for them), for a
 * value v of len bytes already claimed from the reader. */
static void apply_op(const ft_tstep *s, const uint8_t *v, size_t len, ft_flow *f, ft_record_extra *x)
{
    /* Compilation guarantees 1..8 bytes for every integer op. */
    uint64_t u = len <= 8 ? ft_be_uint(v, len) : 0;
    switch ((ft_op)s->op) {
    case FT_OP_FLOW_LABEL:
        f->ipv6_flow_label = (uint32_t)u & 0xfffff;
        break;
    case FT_OP_ICMP_TYPE_CODE:
        f->icmp_type = (uint32_t)(u >> 8) & 0xff;
        f->icmp_code = (uint32_t)u & 0xff;
        x->have |= FT_X_ICMP;
        break;
    case FT_OP_SRC_VLAN:
        f->src_vlan = (uint32_t)u & 0xfff;
        x->have |= FT_X_SRC_VLAN;
        break;
    case FT_OP_DST_VLAN:
        f->dst_vlan = (uint32_t)u & 0xfff;
        break;
    case FT_OP_DOT1Q_VLAN:
        x->dot1q_vlan = (uint32_t)u & 0xfff;
        x->have |= FT_X_DOT1Q;
        break;
    case FT_OP_IP_VERSION:
        if (u == 4 || u == 6) {
            f->etype = u == 4 ? FT_ETYPE_IPV4 : FT_ETYPE_IPV6;
            x->have |= FT_X_ETYPE;
        }
        break;
    case FT_OP_MPLS_LABEL:
        if (!(x->have & FT_X_MPLS)) {
            memset(x->mpls, 0, sizeof x->mpls);
            x->have |= FT_X_MPLS;
        }
        /* RFC 7012 mplsTopLabelStackSection: the 3 bytes of a label
         * stack entry without its TTL (label 20 bits, TC 3, S 1). */
        x->mpls[s->index] = len == 3 ? (uint32_t)u : (uint32_t)(u << 4);
        break;
    case FT_OP_DATALINK_FRAME:
        x->datalink = v;
        x->datalink_len = (uint32_t)len;
        x->have |= FT_X_DATALINK;
        break;
    default:
        /* Plain stores are compiled into store steps (compile_fixed); a
         * variable-length field only ever gets an octets op
         * (ft_ie_compile), so nothing else reaches here. */
        break;
    }
}

int ft_record_decode(const ft_template *t, ft_rd *r, ft_flow *f, ft_record_extra *x)
{
    /* The store steps' bits are the same for every record (compile_fixed);
     * apply_op adds the value-dependent ones. */
    x->have = t->have;
    uint8_t *const base[2] = {(uint8_t *)f, (uint8_t *)x};
    const uint8_t *run = NULL;
    if (t->batched) {
        /* One check for the whole record; every window below lies inside
         * it (batch_ints). */
        run = ft_rd_take(r, t->rec_len);
        if (!run)
            return -1;
        const ft_tint *in = t->ints, *e;
        for (e = in + t->n_int[FT_INT_FLOW32]; in < e; in++)
            put32(base[0] + in->dst, (uint32_t)((ft_be64(run + in->win) << in->lsh) >> in->rsh));
        for (e = in + t->n_int[FT_INT_FLOW64]; in < e; in++)
            put64(base[0] + in->dst, (ft_be64(run + in->win) << in->lsh) >> in->rsh);
        for (e = in + t->n_int[FT_INT_EXTRA32]; in < e; in++)
            put32(base[1] + in->dst, (uint32_t)((ft_be64(run + in->win) << in->lsh) >> in->rsh));
        for (e = in + t->n_int[FT_INT_EXTRA64]; in < e; in++)
            put64(base[1] + in->dst, (ft_be64(run + in->win) << in->lsh) >> in->rsh);
    }
    for (const ft_tstep *s = t->steps, *end = s + t->n_steps; s < end; s++) {
        /* Every step after a TAKE reads run[off .. off+len) with off + len
         * <= the TAKE's len (ft_template_compile sums the run's fixed
         * lengths into it), and a run's steps follow its TAKE (batched:
         * the record's TAKE above): so each read below lies inside the
         * span ft_rd_take checked. */
        const uint8_t *v = s->kind > FT_STEP_VAR ? run + s->off : NULL;
        uint8_t *d = base[s->tgt] + s->dst;
        switch ((ft_step_kind)s->kind) {
        case FT_STEP_TAKE:
            run = ft_rd_take(r, s->len);
            if (!run)
                return -1;
            break;
        case FT_STEP_VAR: {
            /* RFC 7011 §7: a 1-byte length, or 255 then a 2-byte length. */
            size_t len = ft_rd_u8(r);
            if (len == 255)
                len = ft_rd_u16(r);
            v = ft_rd_take(r, len);
            if (!v)
                return -1;
            if (s->op != FT_OP_SKIP)
                apply_op(s, v, len, f, x);
            break;
        }
        case FT_STEP_OP:
            apply_op(s, v, s->len, f, x);
            break;
        case FT_STEP_U32_1:
            put32(d, v[0]);
            break;
        case FT_STEP_U32_2:
            put32(d, ft_be16(v));
            break;
        case FT_STEP_U32_4:
            put32(d, ft_be32(v));
            break;
        case FT_STEP_U32_N:
            put32(d, (uint32_t)ft_be_uint(v, s->len));
            break;
        case FT_STEP_U64_4:
            put64(d, ft_be32(v));
            break;
        case FT_STEP_U64_8:
            put64(d, ft_be64(v));
            break;
        case FT_STEP_U64_N:
            put64(d, ft_be_uint(v, s->len));
            break;
        case FT_STEP_ADDR4:
            *(ft_addr *)d = ft_addr_v4(v);
            break;
        case FT_STEP_ADDR6:
            *(ft_addr *)d = ft_addr_v6(v);
            break;
        case FT_STEP_KEEP_ADDR4:
            keep_addr4((ft_addr *)d, v);
            break;
        case FT_STEP_KEEP_ADDR6:
            keep_addr6((ft_addr *)d, v);
            break;
        case FT_STEP_MAC:
            put64(d, ((uint64_t)ft_be16(v) << 32) | ft_be32(v + 2));
            break;
        }
    }
    return 0;
}

/* ---- times --------------------------------------------------------------- */

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL
/* Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
#define NTP_UNIX_OFFSET 2208988800ULL

/* RFC 7011 §6.1.9/§6.1.10: dateTimeMicroseconds/Nanoseconds are NTP
 * timestamps, 32-bit seconds since 1900 and a 32-bit binary fraction.
 * Seconds below the 1970 offset belong to NTP era 1 (from 2036-02-07). */
static uint64_t ntp_to_ns(uint64_t ntp)
{
    uint64_t sec = ntp >> 32, frac = ntp & 0xffffffffULL;
    if (sec < NTP_UNIX_OFFSET)
        sec += 1ULL << 32;
    return (sec - NTP_UNIX_OFFSET) * NS_PER_S + ((frac * NS_PER_S) >> 32);
}

/* NetFlow v9 (RFC 3954 §8 FIRST/LAST_SWITCHED): a switched time is sysUptime
 * ms at that moment. The signed 32-bit difference from the header's
 * sysUptime absorbs the 49.7-day wrap and times a little after sysUptime. */
static uint64_t uptime_to_ns(uint64_t export_ns, uint32_t sys_uptime_ms, uint32_t switched_ms)
{
    int64_t ago_ms = (int32_t)(sys_uptime_ms - switched_ms);
    return (uint64_t)((int64_t)export_ns - ago_ms * (int64_t)NS_PER_MS);
}

static uint64_t resolve_time(const ft_record_extra *x, const ft_msg_ctx *m, uint64_t system_init_ms,
                             bool start, uint64_t fallback_ns)
{
    uint64_t export_ns = (uint64_t)m->export_secs * NS_PER_S;
    uint64_t h = x->have;
    if (h & (start ? FT_X_START_NS : FT_X_END_NS))
        return ntp_to_ns(start ? x->start_ntp_ns : x->end_ntp_ns);
    if (h & (start ? FT_X_START_US : FT_X_END_US))
        return ntp_to_ns(start ? x->start_ntp_us : x->end_ntp_us);
    if (h & (start ? FT_X_START_MS : FT_X_END_MS))
        return (start ? x->start_ms : x->end_ms) * NS_PER_MS;
    if (h & (start ? FT_X_START_S : FT_X_END_S))
        return (start ? x->start_s : x->end_s) * NS_PER_S;
    if (h & (start ? FT_X_START_DELTA : FT_X_END_DELTA)) {
        /* RFC 7011 §6.1: delta microseconds before the message's Export Time. */
        uint64_t d = (start ? x->start_delta_us : x->end_delta_us) * 1000ULL;
        return d < export_ns ? export_ns - d : 0;
    }
    if (h & (start ? FT_X_FIRST_SWITCHED : FT_X_LAST_SWITCHED)) {
        uint32_t sw = start ? x->first_switched : x->last_switched;
        if (m->version == 9)
            return uptime_to_ns(export_ns, m->sys_uptime_ms, sw);
        /* IPFIX flowStart/EndSysUpTime count from systemInitTimeMilliseconds
         * (RFC 7012 IE 160), in the record or learnt from options data. */
        uint64_t init = (h & FT_X_SYSTEM_INIT) ? x->system_init_ms : system_init_ms;
        if (init)
            return (init + sw) * NS_PER_MS;
    }
    return fallback_ns;
}

/* Keep ft_record_reset in step with what this writes: a member written here
 * only for some values of a record must be cleared there. */
void ft_record_finish(ft_flow *f, const ft_record_extra *x, const ft_msg_ctx *m,
                      uint64_t system_init_ms)
{
    uint64_t export_ns = (uint64_t)m->export_secs * NS_PER_S;
    f->time_flow_end_ns = resolve_time(x, m, system_init_ms, false, export_ns);
    f->time_flow_start_ns = resolve_time(x, m, system_init_ms, true, f->time_flow_end_ns);

    if (!(x->have & FT_X_IN_BYTES) && (x->have & FT_X_OUT_BYTES))
        f->bytes = x->out_bytes;
    if (!(x->have & FT_X_IN_PKTS) && (x->have & FT_X_OUT_PKTS))
        f->packets = x->out_pkts;
    /* RFC 7133 packet sampling (Juniper inline monitoring): a record per
     * sampled frame, its size in dataLinkFrameSize and no counters. */
    if (!(x->have & (FT_X_IN_BYTES | FT_X_OUT_BYTES)) && (x->have & FT_X_FRAME_SIZE)) {
        f->bytes = x->datalink_frame_size;
        if (!(x->have & (FT_X_IN_PKTS | FT_X_OUT_PKTS)))
            f->packets = 1;
    }
    if (!(x->have & FT_X_DST_MAC) && (x->have & FT_X_IN_DST_MAC))
        f->dst_mac = x->in_dst_mac;
    if (!(x->have & FT_X_SRC_VLAN) && (x->have & FT_X_DOT1Q))
        f->src_vlan = x->dot1q_vlan;
    f->vlan_id = f->src_vlan;
    if (!(x->have & FT_X_NEXT_HOP) && f->bgp_next_hop.family)
        f->next_hop = f->bgp_next_hop;
    /* The addresses' family decides etype: it is what the flow's IP header
     * was. ethernetType (256) / ipVersion (60) count only for a record with
     * no address or only all-zero ones (an L2 flow): Cisco IOS-XR 7.10 fills ethernetType with
     * values like 254 in IPv4 flows (corpus pmacct-ipfix-cisco-xr7101-*). */
    int fam = f->src_addr.family ? f->src_addr.family : f->dst_addr.family;
    bool seen = !addr_is_zero(&f->src_addr) || !addr_is_zero(&f->dst_addr);
    if ((fam == 4 || fam == 6) && (seen || !(x->have & FT_X_ETYPE)))
        f->etype = fam == 4 ? FT_ETYPE_IPV4 : FT_ETYPE_IPV6;
    else if (!(x->have & FT_X_ETYPE))
        f->etype = 0;
    /* Cisco IOS and softflowd put ICMP type*256+code in the destination port
     * when the template has no ICMP field. */
    if (!(x->have & FT_X_ICMP) && (f->proto == 1 || f->proto == 58)) {
        f->icmp_type = (f->dst_port >> 8) & 0xff;
        f->icmp_code = f->dst_port & 0xff;
    }
    if (x->have & FT_X_MPLS) {
        /* Walk the stack top down; an all-zero entry ends it, and so does the
         * bottom-of-stack bit (RFC 3032 §2.1). */
        uint32_t n = 0, last = 0;
        for (int i = 0; i < 10; i++) {
            uint32_t e = x->mpls[i];
            if (e == 0)
                break;
            last = e >> 4;
            n++;
            if (n == 1)
                f->mpls_1_label = last;
            else if (n == 2)
                f->mpls_2_label = last;
            else if (n == 3)
                f->mpls_3_label = last;
            if (e & 1)
                break;
        }
        if (n) {
            f->has_mpls = true;
            f->mpls_count = n;
            f->mpls_last_label = last;
        }
    }
}

void ft_record_reset(const ft_template *t, ft_flow *f)
{
    if (!t->fast_reset) {
        ft_flow_zero(f);
        return;
    }
    /* Zeroing all of f (488 bytes) was the largest single cost per record
     * after the field loop. For a fast_reset template it is not needed:
     * each of its steps writes the same members on every record (no
     * op_conditional op), so x->have is the same for every record, so
     * every choice ft_record_finish makes on x->have alone repeats and
     * rewrites the same members; ft_data_set sets sampling_rate on every
     * record, and the header members (type, time received, sequence,
     * exporter, domain), which nothing else writes, once per set. What a
     * record can leave behind is then only:
     * - src_addr/dst_addr: keep_addr4/6 do not let zeros replace a set
     *   address, so the next record must start with them unset;
     * - icmp_type/icmp_code: ft_record_finish derives them from the
     *   destination port for ICMP records only;
     * - next_hop: copied from bgp_next_hop when that is set (the same for
     *   every record today, cleared anyway so that this holds if not). */
    memset(&f->src_addr, 0, sizeof f->src_addr);
    memset(&f->dst_addr, 0, sizeof f->dst_addr);
    memset(&f->next_hop, 0, sizeof f->next_hop);
    f->icmp_type = 0;
    f->icmp_code = 0;
}

/* ---- cache ----------------------------------------------------------------- */

struct ft_template_cache {
    ft_template **buckets;
    size_t n_buckets; /* power of two */
    size_t count;
    size_t bytes;
    size_t max_bytes;
};

static uint64_t key_hash(const struct ft_exporter *exp, uint8_t version, uint32_t domain, uint16_t id)
{
    uint64_t h = (uint64_t)(uintptr_t)exp;
    h ^= ((uint64_t)domain << 24) ^ ((uint64_t)id << 8) ^ version;
    h *= 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 32);
}

ft_template_cache *ft_template_cache_new(size_t max_bytes)
{
    ft_template_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_buckets = 256;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    return c;
}

void ft_template_cache_free(ft_template_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template *t = c->buckets[i];
        while (t) {
            ft_template *n = t->next;
            free(t);
            t = n;
        }
    }
    free(c->buckets);
    free(c);
}

static ft_template **slot_of(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                             uint32_t domain, uint16_t id)
{
    ft_template **p = &c->buckets[key_hash(exp, version, domain, id) & (c->n_buckets - 1)];
    while (*p && !((*p)->exp == exp && (*p)->version == version && (*p)->domain == domain &&
                   (*p)->id == id))
        p = &(*p)->next;
    return p;
}

ft_template *ft_template_find(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, uint16_t id)
{
    return *slot_of(c, exp, version, domain, id);
}

static void grow(ft_template_cache *c)
{
    size_t n = c->n_buckets * 2;
    ft_template **b = calloc(n, sizeof *b);
    if (!b)
        return; /* keep the longer chains: correct, only slower */
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template *t = c->buckets[i];
        while (t) {
            ft_template *next = t->next;
            size_t j = key_hash(t->exp, t->version, t->domain, t->id) & (n - 1);
            t->next = b[j];
            b[j] = t;
            t = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
}

int ft_template_insert(ft_template_cache *c, ft_template *t)
{
    ft_template **p = slot_of(c, t->exp, t->version, t->domain, t->id);
    ft_template *old = *p;
    size_t add = ft_template_size(t->n_fields);
    size_t sub = old ? ft_template_size(old->n_fields) : 0;
    if (c->max_bytes && c->bytes - sub + add > c->max_bytes) {
        free(t);
        return -1;
    }
    c->bytes = c->bytes - sub + add;
    if (old) {
        t->next = old->next;
        *p = t;
        free(old);
        return 1;
    }
    t->next = NULL;
    *p = t;
    c->count++;
    if (c->count > c->n_buckets)
        grow(c);
    return 0;
}

int ft_template_remove(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                       uint32_t domain, uint16_t id)
{
    ft_template **p = slot_of(c, exp, version, domain, id);
    ft_template *t = *p;
    if (!t)
        return 0;
    *p = t->next;
    c->bytes -= ft_template_size(t->n_fields);
    c->count--;
    free(t);
    return 1;
}

/* Removes every template for which match() holds, calling cb first. */
static size_t remove_if(ft_template_cache *c, int (*match)(const ft_template *t, const void *arg),
                        const void *marg, void (*cb)(void *arg, const ft_template *t), void *cbarg)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_buckets; i++) {
        ft_template **p = &c->buckets[i];
        while (*p) {
            ft_template *t = *p;
            if (match(t, marg)) {
                if (cb)
                    cb(cbarg, t);
                *p = t->next;
                c->bytes -= ft_template_size(t->n_fields);
                c->count--;
                free(t);
                n++;
            } else {
                p = &t->next;
            }
        }
    }
    return n;
}

struct withdraw_key {
    const struct ft_exporter *exp;
    uint8_t version;
    uint32_t domain;
    bool options;
};

static int match_withdraw(const ft_template *t, const void *arg)
{
    const struct withdraw_key *k = arg;
    return t->exp == k->exp && t->version == k->version && t->domain == k->domain &&
           t->options == k->options;
}

size_t ft_template_remove_all(ft_template_cache *c, const struct ft_exporter *exp, uint8_t version,
                              uint32_t domain, bool options)
{
    struct withdraw_key k = {exp, version, domain, options};
    return remove_if(c, match_withdraw, &k, NULL, NULL);
}

void ft_template_foreach(const ft_template_cache *c, void (*cb)(void *arg, const ft_template *t), void *arg)
{
    for (size_t i = 0; i < c->n_buckets; i++)
        for (const ft_template *t = c->buckets[i]; t; t = t->next)
            cb(arg, t);
}

static int match_older(const ft_template *t, const void *arg)
{
    return t->refreshed_ns < *(const uint64_t *)arg;
}

size_t ft_template_expire(ft_template_cache *c, uint64_t older_than_ns,
                          void (*cb)(void *arg, const ft_template *t), void *arg)
{
    return remove_if(c, match_older, &older_than_ns, cb, arg);
}
