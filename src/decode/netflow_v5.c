/*
 * netflow_v5.c - NetFlow v5 export datagrams (Cisco "NetFlow Export Datagram
 * Format", version 5): a 24-byte header and up to 30 fixed 48-byte records.
 *
 * Header: version(2) count(2) sysUptime(4, ms) unix_secs(4) unix_nsecs(4)
 * flow_sequence(4, flows seen before this datagram) engine_type(1)
 * engine_id(1) sampling_interval(2: mode in the top 2 bits, interval in the
 * low 14).
 * Record: srcaddr dstaddr nexthop(4 each) input output(2 each) dPkts
 * dOctets first last(4 each, first/last in sysUptime ms) srcport dstport(2)
 * pad1(1) tcp_flags prot tos(1 each) src_as dst_as(2 each) src_mask
 * dst_mask(1 each) pad2(2).
 */
#include "decode/decoder_int.h"

#define V5_HEADER_LEN 24
#define V5_RECORD_LEN 48
#define NS_PER_MS 1000000ULL

ft_err ft_netflow_v5_decode(ft_decoder *d, ft_exporter *x, const ft_datagram *dg,
                            const ft_flow_sink *sink)
{
    ft_rd r = ft_rd_init(dg->data, dg->len);
    ft_rd_skip(&r, 2); /* version */
    uint16_t count = ft_rd_u16(&r);
    uint32_t uptime = ft_rd_u32(&r);
    uint32_t secs = ft_rd_u32(&r);
    uint32_t nsecs = ft_rd_u32(&r);
    uint32_t seq = ft_rd_u32(&r);
    uint8_t engine_type = ft_rd_u8(&r);
    uint8_t engine_id = ft_rd_u8(&r);
    uint16_t sampling = ft_rd_u16(&r);
    if (r.err)
        return ft_fault(d, x, FT_ERR_TRUNCATED, "NetFlow v5 header needs %d bytes, have %zu",
                        V5_HEADER_LEN, dg->len);

    ft_err rc = FT_OK;
    size_t fit = ft_rd_left(&r) / V5_RECORD_LEN;
    size_t n = count;
    if (count == 0 || count > fit) {
        /* Decode what is really there: a lying count must not make us read
         * past the datagram, nor hide the records that are present. */
        rc = ft_fault(d, x, FT_ERR_BAD_COUNT, "count %u needs %u bytes, have %zu", count,
                      V5_HEADER_LEN + count * V5_RECORD_LEN, dg->len);
        n = count < fit ? count : fit;
    }

    uint32_t domain = (uint32_t)engine_type << 8 | engine_id;
    ft_domain *dom = ft_exporter_domain(x, 5, domain, dg->time_received_ns);
    int64_t boot_ms = (int64_t)secs * 1000 + nsecs / 1000000 - (int64_t)uptime;
    ft_domain_sequence(x, dom, seq, count, true, 0, boot_ms, uptime, FT_CTR_lost_records);

    /* Sampling: mode (top 2 bits) 1 = deterministic, 2 = random; the
     * interval is N in "1 out of N". 0 means unsampled or not told. */
    uint64_t rate = x->override_rate ? x->override_rate : (sampling & 0x3fff);
    if (rate) {
        dom->rate = rate;
        x->default_rate = rate;
    }
    uint64_t export_ns = (uint64_t)secs * 1000000000ULL + nsecs;

    /* One ft_flow for the datagram: the header members are the same for
     * all its records, and every other member below is written by every
     * record (a v5 record has all its fields, §"flow record") except the
     * ICMP pair, cleared per record. So no clearing of the whole record
     * per record. */
    ft_flow f;
    ft_flow_zero(&f);
    f.type = FT_FLOW_NETFLOW_V5;
    f.time_received_ns = dg->time_received_ns;
    f.sequence_num = seq;
    f.sampler_address = x->addr;
    f.observation_domain_id = domain;
    f.etype = FT_ETYPE_IPV4;
    f.sampling_rate = rate ? rate : 1;
    uint64_t emitted = 0;
    for (size_t i = 0; i < n; i++) {
        /* One bounds check per record: the 48 bytes are claimed whole,
         * then read at the record format's fixed offsets, all < 48. */
        const uint8_t *p = ft_rd_take(&r, V5_RECORD_LEN);
        if (!p) { /* cannot happen: n records fit */
            rc = ft_fault(d, x, FT_ERR_TRUNCATED, "record %zu", i + 1);
            break;
        }
        f.src_addr = ft_addr_v4(p);
        f.dst_addr = ft_addr_v4(p + 4);
        f.next_hop = ft_addr_v4(p + 8);
        f.in_if = ft_be16(p + 12);
        f.out_if = ft_be16(p + 14);
        f.packets = ft_be32(p + 16);
        f.bytes = ft_be32(p + 20);
        uint32_t first = ft_be32(p + 24);
        uint32_t last = ft_be32(p + 28);
        f.src_port = ft_be16(p + 32);
        f.dst_port = ft_be16(p + 34);
        /* 36: pad1 */
        f.tcp_flags = p[37];
        f.proto = p[38];
        f.ip_tos = p[39];
        f.src_as = ft_be16(p + 40);
        f.dst_as = ft_be16(p + 42);
        f.src_net = p[44];
        f.dst_net = p[45];
        /* 46-47: pad2 */
        /* The signed 32-bit difference absorbs the uptime wrap. */
        f.time_flow_start_ns =
            (uint64_t)((int64_t)export_ns - (int64_t)(int32_t)(uptime - first) * (int64_t)NS_PER_MS);
        f.time_flow_end_ns =
            (uint64_t)((int64_t)export_ns - (int64_t)(int32_t)(uptime - last) * (int64_t)NS_PER_MS);
        f.icmp_type = f.proto == 1 ? (f.dst_port >> 8) & 0xff : 0;
        f.icmp_code = f.proto == 1 ? f.dst_port & 0xff : 0;
        emitted++;
        if (sink)
            sink->emit(sink->ctx, &f);
    }
    if (!rate)
        ft_ctr_add(&x->ctr[FT_CTR_sampling_unknown], emitted);
    ft_ctr_add(&x->ctr[FT_CTR_records], emitted);
    return rc;
}
