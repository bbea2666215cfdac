/*
 * ipfix.c - IPFIX messages (RFC 7011).
 *
 * Message header (§3.1): version(2) = 10, length(2, whole message), export
 * time(4, s), sequence(4, data records sent before this message in this
 * observation domain), observation domain ID(4). Sets (§3.3): set ID(2),
 * length(2, header included): 2 template set, 3 options template set,
 * >= 256 data set, others reserved (§3.3.2). Field specifiers (§3.2):
 * element ID(2, top bit = enterprise), length(2, 65535 = variable), and an
 * enterprise number(4) when the bit is set.
 */
#include "decode/decoder_int.h"

#define IPFIX_HEADER_LEN 16

/* Template (set 2) and options template (set 3) records, §3.4.1/§3.4.2.
 * Field count 0 withdraws a template (§8.1); template ID = set ID with
 * count 0 withdraws all of that kind. */
static ft_err template_set(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, ft_rd *s,
                           bool options, const ft_flow_sink *sink)
{
    uint16_t ids[FT_TEMPLATE_MAX_FIELDS], lens[FT_TEMPLATE_MAX_FIELDS];
    uint32_t pens[FT_TEMPLATE_MAX_FIELDS];
    uint16_t set_id = options ? 3 : 2;
    ft_err rc = FT_OK;
    while (ft_rd_left(s) >= 4) {
        const uint8_t *rest = s->p + s->off;
        size_t left = ft_rd_left(s);
        uint16_t tid = ft_rd_u16(s);
        uint16_t n = ft_rd_u16(s);
        if (tid == 0 && ft_all_zero(rest, left))
            break; /* padding (§3.3.1) */
        if (n == 0) {
            if (tid == set_id)
                ft_withdraw_all(d, x, m, options);
            else if (tid >= 256)
                ft_withdraw_template(d, x, m, tid);
            else
                return ft_fault(d, x, FT_ERR_BAD_TEMPLATE_ID, "withdrawal of template ID %u", tid);
            continue;
        }
        if (tid < 256)
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE_ID, "template ID %u", tid);
        uint16_t scope = 0;
        if (options) {
            scope = ft_rd_u16(s);
            /* §3.4.2.1: the scope field count MUST NOT be zero. */
            if (s->err || scope == 0 || scope > n)
                return ft_fault(d, x, FT_ERR_BAD_TEMPLATE,
                                "options template %u: scope count %u of %u fields", tid, scope, n);
        }
        if (n > FT_TEMPLATE_MAX_FIELDS || (size_t)n * 4 > ft_rd_left(s))
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE, "template %u: %u fields in %zu bytes", tid, n,
                            ft_rd_left(s));
        for (uint16_t i = 0; i < n; i++) {
            uint16_t id = ft_rd_u16(s);
            lens[i] = ft_rd_u16(s);
            ids[i] = id & 0x7fff;
            pens[i] = (id & 0x8000) ? ft_rd_u32(s) : 0;
            /* A zero PEN with the bit set is not IANA's: keep it apart. */
            if ((id & 0x8000) && pens[i] == 0)
                pens[i] = UINT32_MAX;
        }
        if (s->err)
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE, "template %u runs past its set", tid);
        ft_err e = ft_install_template(d, x, m, tid, options, scope, n, ids, lens, pens, sink);
        if (e != FT_OK && rc == FT_OK)
            rc = e;
    }
    return rc;
}

ft_err ft_ipfix_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                       const ft_flow_sink *sink)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    ft_msg_ctx m;
    m.version = 10;
    m.sys_uptime_ms = 0;
    ft_rd_skip(&r, 2);
    uint16_t length = ft_rd_u16(&r);
    m.export_secs = ft_rd_u32(&r);
    m.sequence = ft_rd_u32(&r);
    m.domain = ft_rd_u32(&r);
    m.time_received_ns = dg->time_received_ns;
    if (r.err)
        return ft_fault(d, x, FT_ERR_TRUNCATED, "IPFIX header needs %d bytes, have %zu",
                        IPFIX_HEADER_LEN, dg->len);
    ft_err rc = FT_OK;
    if (length < IPFIX_HEADER_LEN)
        return ft_fault(d, x, FT_ERR_BAD_LENGTH, "message length %u", length);
    if (length != dg->len) {
        /* §3.1: the message is `length` bytes. Shorter datagram: decode the
         * sets that arrived whole. Longer: the trailing bytes are not part
         * of the message. */
        rc = ft_fault(d, x, FT_ERR_BAD_LENGTH, "message length %u, datagram %zu bytes", length,
                      dg->len);
        if (length < dg->len)
            r.len = length;
    }

    ft_domain *dom = ft_exporter_domain(x, 10, m.domain, m.time_received_ns);
    uint32_t records = 0, options = 0;
    bool counted = true;
    while (ft_rd_left(&r) >= 4) {
        const uint8_t *at = r.p + r.off;
        size_t left = ft_rd_left(&r);
        uint16_t id = ft_rd_u16(&r);
        uint16_t len = ft_rd_u16(&r);
        if (len < 4 && ft_all_zero(at, left))
            break; /* zero padding after the last set */
        if (len < 4) {
            ft_err e = ft_fault(d, x, FT_ERR_BAD_SET_LENGTH, "set %u length %u", id, len);
            if (rc == FT_OK)
                rc = e;
            break;
        }
        /* A set that runs past the message end: only the records that lie
         * wholly inside the message are decoded; no byte beyond it is read. */
        bool cut = len > left;
        if (cut) {
            ft_err e = ft_fault(d, x, FT_ERR_BAD_SET_LENGTH, "set %u length %u with %zu bytes left",
                                id, len, left);
            if (rc == FT_OK)
                rc = e;
        }
        ft_rd s = ft_rd_sub(&r, (cut ? left : len) - 4u);
        ft_err e = FT_OK;
        if (id == 2 || id == 3) {
            e = template_set(d, x, &m, &s, id == 3, sink);
        } else if (id < 256) {
            e = ft_fault(d, x, FT_ERR_BAD_SET_ID, "set ID %u is reserved", id);
        } else {
            uint64_t opt0 = ft_ctr_get(&x->ctr[FT_CTR_options_records]);
            long n = ft_data_set(d, x, &m, id, s.p, s.len, sink);
            options += (uint32_t)(ft_ctr_get(&x->ctr[FT_CTR_options_records]) - opt0);
            if (n < 0)
                counted = false;
            else
                records += (uint32_t)n;
        }
        if (e != FT_OK && rc == FT_OK)
            rc = e;
        if (cut)
            break;
    }
    /* §3.1: the sequence counts data records (options data included) sent
     * before this message; it advances by this message's records. Some
     * exporters count this message's data records too: records - options. */
    ft_domain_sequence(x, dom, m.sequence, records, counted, records - options, FT_BOOT_UNKNOWN, 0,
                       FT_CTR_lost_records);
    return rc;
}
