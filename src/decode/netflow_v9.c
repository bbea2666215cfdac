/*
 * netflow_v9.c - NetFlow v9 export packets (RFC 3954).
 *
 * Packet header (§5.1): version(2) count(2) sysUptime(4, ms) unix_secs(4)
 * sequence(4, export packets) source_id(4). Then FlowSets (§5.2-§5.3, §6):
 * flowset_id(2) length(2, header included) and a body: ID 0 template
 * FlowSet, ID 1 options template FlowSet, 2-255 reserved, >= 256 data
 * FlowSet for that template. Each FlowSet may end in padding to a 32-bit
 * boundary. The header's count (records of all kinds) is not relied upon:
 * exporters disagree on it, and FlowSet lengths already delimit everything.
 */
#include "decode/decoder_int.h"

#define V9_HEADER_LEN 20

/* Template FlowSet (§5.2): records {template_id, field_count, field_count x
 * {type, length}}, then padding. */
static ft_err template_flowset(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, ft_rd *s,
                               const ft_flow_sink *sink)
{
    static const uint32_t no_pens[FT_TEMPLATE_MAX_FIELDS];
    uint16_t ids[FT_TEMPLATE_MAX_FIELDS], lens[FT_TEMPLATE_MAX_FIELDS];
    ft_err rc = FT_OK;
    while (ft_rd_left(s) >= 4) {
        const uint8_t *rest = s->p + s->off;
        uint16_t tid = ft_rd_u16(s);
        uint16_t n = ft_rd_u16(s);
        if (tid == 0 && n == 0 && ft_all_zero(rest, ft_rd_left(s) + 4))
            break; /* padding */
        if (tid < 256)
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE_ID, "template ID %u", tid);
        if (n == 0 || n > FT_TEMPLATE_MAX_FIELDS || (size_t)n * 4 > ft_rd_left(s))
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE, "template %u: %u fields in %zu bytes", tid, n,
                            ft_rd_left(s));
        for (uint16_t i = 0; i < n; i++) {
            ids[i] = ft_rd_u16(s);
            lens[i] = ft_rd_u16(s);
        }
        ft_err e = ft_install_template(d, x, m, tid, false, 0, n, ids, lens, no_pens, sink);
        if (e != FT_OK && rc == FT_OK)
            rc = e;
    }
    return rc;
}

/* Options template FlowSet (§6.1): {template_id, option_scope_length (bytes),
 * option_length (bytes), scope fields, option fields}, then padding. */
static ft_err options_flowset(ft_decoder *d, ft_exporter *x, const ft_msg_ctx *m, ft_rd *s,
                              const ft_flow_sink *sink)
{
    static const uint32_t no_pens[FT_TEMPLATE_MAX_FIELDS];
    uint16_t ids[FT_TEMPLATE_MAX_FIELDS], lens[FT_TEMPLATE_MAX_FIELDS];
    ft_err rc = FT_OK;
    while (ft_rd_left(s) >= 6) {
        const uint8_t *rest = s->p + s->off;
        uint16_t tid = ft_rd_u16(s);
        uint16_t scope_len = ft_rd_u16(s);
        uint16_t opt_len = ft_rd_u16(s);
        if (tid == 0 && ft_all_zero(rest, ft_rd_left(s) + 6))
            break; /* padding */
        if (tid < 256)
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE_ID, "options template ID %u", tid);
        size_t n = (size_t)scope_len / 4 + opt_len / 4;
        if (scope_len % 4 || opt_len % 4 || n == 0 || n > FT_TEMPLATE_MAX_FIELDS ||
            (size_t)scope_len + opt_len > ft_rd_left(s))
            return ft_fault(d, x, FT_ERR_BAD_TEMPLATE,
                            "options template %u: scope %u + options %u bytes in %zu", tid,
                            scope_len, opt_len, ft_rd_left(s));
        for (size_t i = 0; i < n; i++) {
            ids[i] = ft_rd_u16(s);
            lens[i] = ft_rd_u16(s);
        }
        ft_err e = ft_install_template(d, x, m, tid, true, (uint16_t)(scope_len / 4), (uint16_t)n,
                                       ids, lens, no_pens, sink);
        if (e != FT_OK && rc == FT_OK)
            rc = e;
    }
    return rc;
}

ft_err ft_netflow_v9_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                            const ft_flow_sink *sink)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    ft_msg_ctx m;
    m.version = 9;
    ft_rd_skip(&r, 4); /* version, count */
    m.sys_uptime_ms = ft_rd_u32(&r);
    m.export_secs = ft_rd_u32(&r);
    m.sequence = ft_rd_u32(&r);
    m.domain = ft_rd_u32(&r);
    m.time_received_ns = dg->time_received_ns;
    if (r.err)
        return ft_fault(d, x, FT_ERR_TRUNCATED, "NetFlow v9 header needs %d bytes, have %zu",
                        V9_HEADER_LEN, dg->len);

    ft_domain *dom = ft_exporter_domain(x, 9, m.domain, m.time_received_ns);
    /* §5.1: the sequence counts export packets of this source ID; sysUptime
     * (ms since the device booted) going back while the boot time it gives
     * moves on marks a restart. */
    int64_t boot_ms = (int64_t)m.export_secs * 1000 - (int64_t)m.sys_uptime_ms;
    if (ft_domain_sequence(x, dom, m.sequence, 1, true, 0, boot_ms, m.sys_uptime_ms,
                           FT_CTR_lost_packets)) {
        /* The exporter restarted: its template IDs may come back with other
         * layouts (§5.2 templates live as long as the exporter keeps them),
         * so data must not be read with the old ones. The new templates
         * follow in this packet or a later one; data before them is held. */
        size_t n = ft_template_remove_all(d->tc, x, 9, m.domain, false) +
                   ft_template_remove_all(d->tc, x, 9, m.domain, true);
        x->n_templates -= (uint32_t)n;
    }

    ft_err rc = FT_OK;
    while (ft_rd_left(&r) >= 4) {
        const uint8_t *at = r.p + r.off;
        size_t left = ft_rd_left(&r);
        uint16_t id = ft_rd_u16(&r);
        uint16_t len = ft_rd_u16(&r);
        if (len < 4 && ft_all_zero(at, left))
            break; /* zero padding after the last FlowSet (Cisco ACI) */
        if (len < 4) {
            rc = ft_fault(d, x, FT_ERR_BAD_SET_LENGTH, "FlowSet %u length %u", id, len);
            break;
        }
        /* A FlowSet cut short by the end of the datagram: decode the records
         * that arrived whole, count the fault. */
        bool cut = len > left;
        if (cut)
            rc = ft_fault(d, x, FT_ERR_BAD_SET_LENGTH, "FlowSet %u length %u with %zu bytes left", id,
                          len, left);
        ft_rd s = ft_rd_sub(&r, (cut ? left : len) - 4u);
        ft_err e = FT_OK;
        if (id == 0)
            e = template_flowset(d, x, &m, &s, sink);
        else if (id == 1)
            e = options_flowset(d, x, &m, &s, sink);
        else if (id < 256)
            e = ft_fault(d, x, FT_ERR_BAD_SET_ID, "FlowSet ID %u is reserved", id);
        else
            ft_data_set(d, x, &m, id, s.p, s.len, sink);
        if (e != FT_OK && rc == FT_OK)
            rc = e;
        if (cut)
            break;
    }
    if (ft_rd_left(&r) && !ft_all_zero(r.p + r.off, ft_rd_left(&r)) && rc == FT_OK)
        rc = ft_fault(d, x, FT_ERR_BAD_SET_LENGTH, "%zu stray bytes after the last FlowSet",
                      ft_rd_left(&r));
    return rc;
}
