/*
 * pkt_header.c - L2-L4 header walk over a possibly cut span (pkt_header.h).
 *
 * Structure: one reader over the whole span and one function per layer,
 * each reading its fixed header through ft_rd_sub() (so a cut header sets
 * info->truncated and returns before touching ft_flow) and handing the
 * next protocol identifier to the next layer. Nothing recurses: a tunnel is
 * one more turn of the loop in walk_ip(), at most FT_PKT_MAX_TUNNELS times,
 * and every step consumes at least 4 bytes, so the walk ends on any input.
 *
 * w->info->tunnels is the walk's depth: 0 while in the outer (wire) IP
 * packet, whose header fills the main ft_flow fields; 1 in the first
 * tunnelled packet (*_encap fields); deeper packets only lead on to the
 * innermost transport header (pkt_header.h, encapsulation contract).
 */
#include "decode/pkt_header.h"

#include <string.h>

#include "core/rd.h"

/* EtherTypes (IEEE Registration Authority). */
#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_VLAN 0x8100    /* IEEE 802.1Q C-tag */
#define ET_QINQ 0x88a8    /* IEEE 802.1ad S-tag */
#define ET_QINQ_OLD 0x9100 /* pre-802.1ad vendor QinQ */
#define ET_MPLS 0x8847    /* RFC 3032 §5 unicast */
#define ET_MPLS_MC 0x8848 /* RFC 5332 multicast */
#define ET_PPPOE 0x8864   /* RFC 2516 session stage */
#define ET_TEB 0x6558     /* transparent Ethernet bridging (GRE protocol type) */
#define ET_PPP 0x880b     /* PPP (GRE protocol type, RFC 2637 §4.1) */

/* IP protocol numbers (IANA). */
#define IPP_HOPOPT 0
#define IPP_ICMP 1
#define IPP_IPIP 4
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_IPV6 41
#define IPP_ROUTING 43
#define IPP_FRAGMENT 44
#define IPP_GRE 47
#define IPP_AH 51
#define IPP_ICMPV6 58
#define IPP_DSTOPTS 60
#define IPP_MOBILITY 135
#define IPP_HIP 139
#define IPP_SCTP 132
#define IPP_SHIM6 140

typedef struct walk {
    ft_rd r;          /* over the whole span; r.off is the walk position */
    ft_flow *f;       /* never NULL here (a scratch record when the caller passed none) */
    ft_pkt_info *info;
    int vlan_seen;
    bool ip_cut; /* the span ends before the current IP packet's declared end
                    (or the enclosing packet's): a header missing inside it is
                    a truncation, not a malformed packet */
    size_t ip_decl_end; /* the current IP packet's end as its length field says,
                           unclipped (the clipped end when it has none) */
} walk;

static uint64_t mac48(const uint8_t *q)
{
    return ft_be_uint(q, 6);
}

/* A header that does not fit before the IP end: the capture was cut, or
 * the IP length field lies. */
static void cut_inside_ip(walk *w)
{
    if (w->ip_cut)
        w->info->truncated = true;
    else
        w->info->malformed = true;
}

/* Claims the next n bytes as a sub-reader. Short: before any IP header the
 * span was cut (truncated); inside an IP packet (w->r then ends with a
 * tunnel's enclosing packet) it depends on cut_inside_ip(). The caller
 * tests h.err. */
static ft_rd take_header(walk *w, size_t n)
{
    ft_rd h = ft_rd_sub(&w->r, n);
    if (h.err) {
        if (w->info->ip_version)
            cut_inside_ip(w);
        else
            w->info->truncated = true;
    }
    return h;
}

static void walk_ip(walk *w, int version);
static void walk_mpls(walk *w);

/* Follows an EtherType chain: VLAN tags, PPPoE, MPLS, then IP. */
static void walk_ethertype(walk *w, uint16_t type)
{
    for (;;) {
        if (type >= 0x0600)
            w->f->etype = type;
        switch (type) {
        case ET_VLAN:
        case ET_QINQ:
        case ET_QINQ_OLD: {
            /* IEEE 802.1Q §9.6: TCI = PCP(3) DEI(1) VID(12), then the next type. */
            ft_rd h = take_header(w, 4);
            uint16_t tci = ft_rd_u16(&h);
            uint16_t next = ft_rd_u16(&h);
            if (h.err)
                return;
            if (!w->vlan_seen)
                w->f->vlan_id = tci & 0x0fff;
            w->vlan_seen = 1;
            w->info->layers |= FT_PKT_VLAN;
            type = next;
            continue;
        }
        case ET_PPPOE: {
            /* RFC 2516 §4: ver/type, code, session id, length, then the
             * 2-byte PPP protocol (RFC 1661 §2). */
            ft_rd h = take_header(w, 8);
            ft_rd_skip(&h, 6);
            uint16_t ppp = ft_rd_u16(&h);
            if (h.err)
                return;
            if (ppp == 0x0021)
                type = ET_IPV4;
            else if (ppp == 0x0057)
                type = ET_IPV6;
            else
                return;
            continue;
        }
        case ET_MPLS:
        case ET_MPLS_MC:
            walk_mpls(w);
            return;
        case ET_IPV4:
            walk_ip(w, 4);
            return;
        case ET_IPV6:
            walk_ip(w, 6);
            return;
        default:
            if (type < 0x0600) {
                /* IEEE 802.3 length field: an LLC header follows. Only
                 * SNAP (AA AA 03, OUI, EtherType; RFC 1042) names a protocol. */
                ft_rd h = take_header(w, 8);
                const uint8_t *llc = ft_rd_take(&h, 3);
                ft_rd_skip(&h, 3);
                uint16_t next = ft_rd_u16(&h);
                if (h.err || llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || next < 0x0600)
                    return;
                type = next;
                continue;
            }
            return; /* ARP, LLDP, ...: not IP, nothing more to read */
        }
    }
}

/* RFC 3032 §2.1: label(20) TC(3) S(1) TTL(8) per entry, top first. */
static void walk_mpls(walk *w)
{
    ft_flow *f = w->f;
    for (;;) {
        ft_rd h = take_header(w, 4);
        uint32_t e = ft_rd_u32(&h);
        if (h.err)
            return;
        uint32_t label = e >> 12, ttl = e & 0xff;
        f->has_mpls = true;
        w->info->layers |= FT_PKT_MPLS;
        f->mpls_count++;
        if (f->mpls_count == 1) {
            f->mpls_1_label = label;
            f->mpls_1_ttl = ttl;
        } else if (f->mpls_count == 2) {
            f->mpls_2_label = label;
            f->mpls_2_ttl = ttl;
        } else if (f->mpls_count == 3) {
            f->mpls_3_label = label;
            f->mpls_3_ttl = ttl;
        }
        f->mpls_last_label = label;
        f->mpls_last_ttl = ttl;
        if (e & 0x100)
            break; /* bottom of stack */
    }
    /* The stack does not say what it carries (RFC 3032 §2.2): guess from the
     * first nibble. 0 is a pseudowire control word (RFC 4385 §3): an
     * Ethernet-over-MPLS payload we do not follow. */
    ft_rd peek = w->r;
    uint8_t first = ft_rd_u8(&peek);
    if (peek.err) {
        w->info->truncated = true;
        return;
    }
    if (first >> 4 == 4) {
        f->etype = ET_IPV4;
        walk_ip(w, 4);
    } else if (first >> 4 == 6) {
        f->etype = ET_IPV6;
        walk_ip(w, 6);
    }
}

/* ---- tunnels ------------------------------------------------------------ */

/* RFC 1661 §2 / RFC 1662 §3.1: [address 0xff, control 0x03] protocol. Both
 * compressions are accepted: Address-and-Control-Field-Compression (§6.6)
 * drops the first two bytes, Protocol-Field-Compression (§6.5) sends a
 * protocol below 0x100 as one byte. A protocol's high byte is even and its
 * low byte odd (§2), so an odd first byte is a one-byte protocol. Returns
 * the IP version carried (0x0021 IPv4, 0x0057 IPv6), else 0. */
static int walk_ppp(walk *w)
{
    ft_rd p = w->r;
    uint8_t a = ft_rd_u8(&p), c = ft_rd_u8(&p);
    if (p.err) {
        cut_inside_ip(w);
        return 0;
    }
    uint32_t addr_ctl = 0;
    p = w->r;
    if (a == 0xff && c == 0x03) {
        addr_ctl = 0xff03;
        ft_rd_skip(&p, 2);
    }
    uint16_t proto = ft_rd_u8(&p);
    if (!(proto & 1))
        proto = (uint16_t)(proto << 8 | ft_rd_u8(&p));
    if (p.err) {
        cut_inside_ip(w);
        return 0;
    }
    w->r = p;
    if (!w->f->has_ppp) {
        w->f->has_ppp = true;
        w->f->ppp_address_control = addr_ctl;
    }
    return proto == 0x0021 ? 4 : proto == 0x0057 ? 6 : 0;
}

/* GRE at w->r.off (w->r already bounded by the enclosing IP packet).
 * Returns the IP version of the tunnelled packet now at w->r.off, or 0 when
 * the walk ends here. */
static int walk_gre(walk *w)
{
    /* RFC 2784 §2.1 / RFC 2890 §2 / RFC 2637 §4.1, first word:
     * C R K S s Recur(3) | A Flags(4) Ver(3) | Protocol Type(16). */
    ft_rd h = take_header(w, 4);
    uint8_t b0 = ft_rd_u8(&h), b1 = ft_rd_u8(&h);
    uint16_t ptype = ft_rd_u16(&h);
    if (h.err)
        return 0;
    bool c = b0 & 0x80, k = b0 & 0x20, s = b0 & 0x10, a = b1 & 0x80;
    size_t opt;
    switch (b1 & 0x07) {
    case 0:
        /* RFC 2784 §2.3: bits 1-5 non-zero are RFC 1701 fields (routing,
         * strict source route, recursion) except K and S (bits 2, 3),
         * which RFC 2890 §2 defines. A routing field is a variable list of
         * SREs: not followed. */
        if (b0 & 0x4c)
            return 0;
        opt = 4u * ((size_t)c + (size_t)k + (size_t)s); /* checksum+reserved1, key, sequence */
        break;
    case 1:
        /* RFC 2637 §4.1: C = R = 0 and K = 1 (payload length + call ID);
         * sequence number if S, acknowledgment number if A. */
        if (c || (b0 & 0x40) || !k)
            return 0;
        opt = 4u + 4u * ((size_t)s + (size_t)a);
        break;
    default:
        return 0;
    }
    ft_rd o = take_header(w, opt);
    if (o.err)
        return 0;
    w->info->layers |= FT_PKT_TUNNEL;

    switch (ptype) {
    case ET_IPV4:
        return 4;
    case ET_IPV6:
        return 6;
    case ET_PPP:
        return walk_ppp(w);
    case ET_TEB: {
        /* Transparent Ethernet bridging: a whole Ethernet frame (RFC 1701
         * protocol type table; used by NVGRE, RFC 7637 §3.2): MACs, then
         * tags as on the wire (IEEE 802.1Q §9.6), then IP. The inner MACs
         * and VLANs are not record fields: the outer ones are. */
        ft_rd e = take_header(w, 14);
        ft_rd_skip(&e, 12);
        uint16_t type = ft_rd_u16(&e);
        if (e.err)
            return 0;
        while (type == ET_VLAN || type == ET_QINQ || type == ET_QINQ_OLD) {
            ft_rd t = take_header(w, 4);
            ft_rd_skip(&t, 2);
            type = ft_rd_u16(&t);
            if (t.err)
                return 0;
        }
        return type == ET_IPV4 ? 4 : type == ET_IPV6 ? 6 : 0;
    }
    default:
        return 0; /* MPLS over GRE (0x8847), ERSPAN (0x88be, 0x22eb), NSH...: not followed */
    }
}

/* Tunnel protocol `proto` at w->r.off inside the IP packet ending at ip_end.
 * Returns the IP version of the tunnelled header now at w->r.off, or 0. */
static int enter_tunnel(walk *w, uint8_t proto, size_t ip_end)
{
    if (w->info->tunnels >= FT_PKT_MAX_TUNNELS) {
        w->info->tunnel_limit = true;
        return 0;
    }
    /* From here on every byte belongs to the enclosing packet: its length
     * bounds the reads (Ethernet padding and trailers stay outside). */
    w->r.len = ip_end;
    int version;
    if (proto == IPP_IPIP) {
        version = 4;
    } else if (proto == IPP_IPV6) {
        version = 6;
    } else {
        version = walk_gre(w);
    }
    if (version) {
        w->info->tunnels++;
        w->info->layers |= FT_PKT_TUNNEL;
    }
    return version;
}

/* ---- transport -------------------------------------------------------------- */

/* Transport header at w->r.off, bounded by the IP packet end. Returns the IP
 * version of a tunnelled packet to walk next, else 0. */
static int walk_transport(walk *w, uint8_t proto, size_t ip_end)
{
    ft_flow *f = w->f;
    ft_pkt_info *info = w->info;
    size_t off = w->r.off;
    /* The IP length excludes Ethernet padding: read only inside the packet. */
    ft_rd t = ft_rd_init(w->r.p + off, ip_end - off);
    size_t avail = ip_end - off;
    size_t decl = w->ip_decl_end - off; /* >= avail: what the IP length declares */

    switch (proto) {
    case IPP_TCP: {
        /* RFC 9293 §3.1: ports at 0, data offset (4 bits) + reserved + NS at
         * 12, CWR..FIN at 13. Ports and flags are kept as soon as present. */
        uint16_t sp = ft_rd_u16(&t), dp = ft_rd_u16(&t);
        if (t.err)
            break;
        f->src_port = sp;
        f->dst_port = dp;
        ft_rd_skip(&t, 8);
        uint8_t doff = ft_rd_u8(&t), fl = ft_rd_u8(&t);
        if (t.err)
            break;
        f->tcp_flags = ((uint32_t)(doff & 0x01) << 8) | fl;
        size_t hlen = (size_t)(doff >> 4) * 4;
        if (hlen < 20) {
            info->malformed = true;
            return 0;
        }
        if (hlen > avail)
            break;
        info->layers |= FT_PKT_L4;
        info->payload_off = off + hlen;
        info->payload_len = avail - hlen;
        info->payload_declared = decl - hlen;
        return 0;
    }
    case IPP_UDP: {
        /* RFC 768: ports, length (header included), checksum. */
        uint16_t sp = ft_rd_u16(&t), dp = ft_rd_u16(&t);
        if (t.err)
            break;
        f->src_port = sp;
        f->dst_port = dp;
        uint16_t ulen = ft_rd_u16(&t);
        ft_rd_skip(&t, 2);
        if (t.err)
            break;
        size_t have = avail - 8;
        size_t declared;
        if (ulen == 0) {
            declared = have; /* RFC 2675 §4: jumbogram, length from the IPv6 packet */
        } else if (ulen < 8) {
            info->malformed = true;
            return 0;
        } else {
            declared = (size_t)ulen - 8;
        }
        info->layers |= FT_PKT_L4;
        info->payload_off = off + 8;
        info->payload_len = declared < have ? declared : have;
        info->payload_declared = declared;
        return 0;
    }
    case IPP_SCTP: {
        /* RFC 9260 §3.1 common header: source port, destination port,
         * verification tag, checksum (12 bytes); chunks follow. */
        uint16_t sp = ft_rd_u16(&t), dp = ft_rd_u16(&t);
        if (t.err)
            break;
        f->src_port = sp;
        f->dst_port = dp;
        ft_rd_skip(&t, 8);
        if (t.err)
            break;
        info->layers |= FT_PKT_L4;
        info->payload_off = off + 12;
        info->payload_len = avail - 12;
        info->payload_declared = decl - 12;
        return 0;
    }
    case IPP_ICMP:
    case IPP_ICMPV6: {
        /* RFC 792 / RFC 4443 §2.1: type, code, checksum, 4 bytes of body. */
        uint8_t type = ft_rd_u8(&t), code = ft_rd_u8(&t);
        if (t.err)
            break;
        f->icmp_type = type;
        f->icmp_code = code;
        ft_rd_skip(&t, 6);
        if (t.err)
            break;
        info->layers |= FT_PKT_L4;
        info->payload_off = off + 8;
        info->payload_len = avail - 8;
        info->payload_declared = decl - 8;
        return 0;
    }
    case IPP_GRE:
    case IPP_IPIP:
    case IPP_IPV6:
        return enter_tunnel(w, proto, ip_end);
    default:
        return 0; /* ESP, OSPF, PIM...: no fields of ours */
    }
    cut_inside_ip(w);
    return 0;
}

/* ---- IP -------------------------------------------------------------------- */

/* The fields of one IP header (RFC 791 §3.1 / RFC 8200 §3). */
typedef struct ip_hdr {
    ft_addr src, dst;
    uint32_t tos, ttl, proto, flags, frag_id, frag_off, flow_label;
} ip_hdr;

/* Stores an IP header's fields where the encapsulation contract says:
 * the outer header in the main fields, the first tunnelled one in the
 * *_encap fields, deeper ones nowhere. */
static void store_ip(walk *w, const ip_hdr *h, int version)
{
    ft_flow *f = w->f;
    if (w->info->tunnels == 0) {
        f->src_addr = h->src;
        f->dst_addr = h->dst;
        f->ip_tos = h->tos;
        f->ip_ttl = h->ttl;
        f->proto = h->proto;
        f->ip_flags = h->flags;
        f->fragment_id = h->frag_id;
        f->fragment_offset = h->frag_off;
        f->ipv6_flow_label = h->flow_label;
    } else if (w->info->tunnels == 1) {
        f->has_encap = true;
        f->src_addr_encap = h->src;
        f->dst_addr_encap = h->dst;
        f->etype_encap = version == 4 ? ET_IPV4 : ET_IPV6;
        f->ip_tos_encap = h->tos;
        f->ip_ttl_encap = h->ttl;
        f->proto_encap = h->proto;
        f->fragment_id_encap = h->frag_id;
        f->fragment_offset_encap = h->frag_off;
        f->ipv6_flow_label_encap = h->flow_label;
    }
}

/* The upper-layer protocol changed along the extension headers. */
static void store_proto(walk *w, uint8_t proto)
{
    if (w->info->tunnels == 0)
        w->f->proto = proto;
    else if (w->info->tunnels == 1)
        w->f->proto_encap = proto;
    w->info->l4_proto = proto;
}

/* One IPv4 (RFC 791 §3.1) or IPv6 (RFC 8200 §3) packet at w->r.off, its
 * extension headers and transport header. Returns the IP version of the
 * tunnelled packet to walk next (w->r.off is then its header), else 0. */
static int walk_ip_packet(walk *w, int version)
{
    ft_pkt_info *info = w->info;
    size_t l3 = w->r.off;
    /* The bytes this packet may use: the span, or the enclosing packet. A
     * length running past them is a cut only when the span (not the
     * enclosing packet's own length) ended first. */
    size_t avail = w->r.len;
    bool enclosing_cut = info->tunnels == 0 || w->ip_cut;
    ip_hdr ih;
    memset(&ih, 0, sizeof ih);
    size_t declared_end; /* 0: no length ("to the end") */
    size_t ihl = 0;      /* IPv4 header length with options */

    if (version == 4) {
        ft_rd h = take_header(w, 20);
        uint8_t vihl = ft_rd_u8(&h), tos = ft_rd_u8(&h);
        uint16_t total = ft_rd_u16(&h), id = ft_rd_u16(&h), frag = ft_rd_u16(&h);
        uint8_t ttl = ft_rd_u8(&h), proto = ft_rd_u8(&h);
        ft_rd_skip(&h, 2);
        const uint8_t *src = ft_rd_take(&h, 4), *dst = ft_rd_take(&h, 4);
        if (h.err)
            return 0;
        ihl = (size_t)(vihl & 0x0f) * 4;
        if (vihl >> 4 != 4 || ihl < 20 || (total != 0 && total < ihl)) {
            info->malformed = true;
            return 0;
        }
        ih.src = ft_addr_v4(src);
        ih.dst = ft_addr_v4(dst);
        ih.tos = tos;
        ih.ttl = ttl;
        ih.proto = proto;
        ih.flags = frag >> 13;
        ih.frag_id = id;
        ih.frag_off = frag & 0x1fff;
        /* Total length 0: a TSO/GSO capture (Linux hands libpcap the
         * unsegmented packet): the span is the packet. */
        declared_end = total ? l3 + total : 0;
        store_ip(w, &ih, 4);
        info->fragment |= (frag & 0x2000) || (frag & 0x1fff);
        info->later_fragment = (frag & 0x1fff) != 0;
    } else {
        ft_rd h = take_header(w, 40);
        uint32_t vtf = ft_rd_u32(&h);
        uint16_t plen = ft_rd_u16(&h);
        uint8_t proto = ft_rd_u8(&h), hop = ft_rd_u8(&h);
        const uint8_t *src = ft_rd_take(&h, 16), *dst = ft_rd_take(&h, 16);
        if (h.err)
            return 0;
        if (vtf >> 28 != 6) {
            info->malformed = true;
            return 0;
        }
        ih.src = ft_addr_v6(src);
        ih.dst = ft_addr_v6(dst);
        ih.tos = (vtf >> 20) & 0xff;
        ih.flow_label = vtf & 0xfffff;
        ih.ttl = hop;
        ih.proto = proto;
        /* Payload length 0: jumbogram (RFC 2675) or TSO capture. */
        declared_end = plen ? l3 + 40 + plen : 0;
        store_ip(w, &ih, 6);
    }
    size_t ip_end;
    w->ip_decl_end = declared_end ? declared_end : avail;
    if (declared_end == 0) {
        ip_end = avail;
        w->ip_cut = enclosing_cut;
    } else if (declared_end > avail) {
        ip_end = avail;
        w->ip_cut = enclosing_cut;
    } else {
        ip_end = declared_end;
        w->ip_cut = false;
    }
    uint8_t proto = (uint8_t)ih.proto;
    info->ip_version = (uint8_t)version;
    info->l3_off = l3;
    info->src_addr = ih.src;
    info->dst_addr = ih.dst;
    info->l4_proto = proto;
    if (version == 4) {
        ft_rd opts = take_header(w, ihl - 20);
        if (opts.err)
            return 0;
        info->layers |= FT_PKT_IPV4;
    }
    info->l4_off = w->r.off;
    info->ip_end = ip_end;
    /* Payload fields describe the innermost packet: forget an outer one's. */
    info->payload_off = info->payload_len = info->payload_declared = 0;

    /* Extension headers (IPv6, RFC 8200 §4) and AH (both families,
     * RFC 4302 §2). A non-first fragment holds no further headers. Each step
     * consumes >= 8 bytes, so the loop ends. */
    while (!info->later_fragment) {
        bool v6 = version == 6;
        if (proto == IPP_AH || (v6 && (proto == IPP_HOPOPT || proto == IPP_ROUTING || proto == IPP_DSTOPTS ||
                                       proto == IPP_MOBILITY || proto == IPP_HIP || proto == IPP_SHIM6))) {
            ft_rd peek = ft_rd_init(w->r.p + w->r.off, ip_end > w->r.off ? ip_end - w->r.off : 0);
            uint8_t next = ft_rd_u8(&peek), hlen = ft_rd_u8(&peek);
            size_t size = proto == IPP_AH ? ((size_t)hlen + 2) * 4 : ((size_t)hlen + 1) * 8;
            ft_rd_skip(&peek, size - 2);
            if (peek.err) {
                cut_inside_ip(w);
                return 0;
            }
            ft_rd_skip(&w->r, size);
            proto = next;
        } else if (v6 && proto == IPP_FRAGMENT) {
            /* RFC 8200 §4.5: next, reserved, offset(13) res(2) M(1), id(32). */
            ft_rd peek = ft_rd_init(w->r.p + w->r.off, ip_end > w->r.off ? ip_end - w->r.off : 0);
            uint8_t next = ft_rd_u8(&peek);
            ft_rd_skip(&peek, 1);
            uint16_t offm = ft_rd_u16(&peek);
            uint32_t id = ft_rd_u32(&peek);
            if (peek.err) {
                cut_inside_ip(w);
                return 0;
            }
            ft_rd_skip(&w->r, 8);
            if (info->tunnels == 0) {
                w->f->fragment_id = id;
                w->f->fragment_offset = offm >> 3;
                w->f->ip_flags = offm & 0x7; /* goflow: the low 3 bits, M = 1 */
            } else if (info->tunnels == 1) {
                w->f->fragment_id_encap = id;
                w->f->fragment_offset_encap = offm >> 3;
            }
            info->fragment = true;
            info->later_fragment = (offm >> 3) != 0;
            proto = next;
        } else {
            break;
        }
        store_proto(w, proto);
        info->l4_off = w->r.off;
    }
    if (version == 6)
        info->layers |= FT_PKT_IPV6;
    if (info->later_fragment)
        return 0;
    return walk_transport(w, proto, ip_end);
}

/* IP at w->r.off (version 0: from the first nibble), then every tunnel
 * behind it. Iterative: a tunnel is one more turn of the loop, at most
 * FT_PKT_MAX_TUNNELS of them. */
static void walk_ip(walk *w, int version)
{
    if (version == 0) {
        ft_rd peek = w->r;
        uint8_t first = ft_rd_u8(&peek);
        if (peek.err) {
            w->info->truncated = true;
            return;
        }
        version = first >> 4;
        if (version != 4 && version != 6) {
            w->info->malformed = true;
            return;
        }
        w->f->etype = version == 4 ? ET_IPV4 : ET_IPV6;
    }
    while (version)
        version = walk_ip_packet(w, version);
}

void ft_pkt_parse(const uint8_t *p, size_t n, ft_link link, ft_flow *f, ft_pkt_info *info)
{
    ft_flow scratch;
    if (!f) {
        memset(&scratch, 0, sizeof scratch);
        f = &scratch;
    }
    memset(info, 0, sizeof *info);
    walk w = {ft_rd_init(p, n), f, info, 0, false, 0};

    switch (link) {
    case FT_LINK_ETHERNET: {
        ft_rd h = take_header(&w, 14);
        const uint8_t *dst = ft_rd_take(&h, 6), *src = ft_rd_take(&h, 6);
        uint16_t type = ft_rd_u16(&h);
        if (h.err)
            return;
        f->dst_mac = mac48(dst);
        f->src_mac = mac48(src);
        info->layers |= FT_PKT_LINK;
        walk_ethertype(&w, type);
        return;
    }
    case FT_LINK_LINUX_SLL:
    case FT_LINK_LINUX_SLL2: {
        /* SLL: packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2).
         * SLL2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1)
         * addr len(1) addr(8). (tcpdump.org linktypes LINKTYPE_LINUX_SLL/SLL2.) */
        uint16_t type, hatype, halen;
        const uint8_t *addr;
        ft_rd h = take_header(&w, link == FT_LINK_LINUX_SLL ? 16 : 20);
        if (link == FT_LINK_LINUX_SLL) {
            ft_rd_skip(&h, 2);
            hatype = ft_rd_u16(&h);
            halen = ft_rd_u16(&h);
            addr = ft_rd_take(&h, 8);
            type = ft_rd_u16(&h);
        } else {
            type = ft_rd_u16(&h);
            ft_rd_skip(&h, 6);
            hatype = ft_rd_u16(&h);
            ft_rd_skip(&h, 1);
            halen = ft_rd_u8(&h);
            addr = ft_rd_take(&h, 8);
        }
        if (h.err)
            return;
        info->layers |= FT_PKT_LINK;
        if (hatype == 1 && halen == 6) /* ARPHRD_ETHER: the sender's MAC */
            f->src_mac = mac48(addr);
        /* Protocol values below 0x0600 are Linux pseudo-types (802.3 raw,
         * 802.2 LLC, CAN...), not EtherTypes: nothing we follow. */
        if (type >= 0x0600)
            walk_ethertype(&w, type);
        return;
    }
    case FT_LINK_NULL:
    case FT_LINK_LOOP: {
        ft_rd h = take_header(&w, 4);
        uint32_t af = ft_rd_u32(&h);
        if (h.err)
            return;
        info->layers |= FT_PKT_LINK;
        /* DLT_NULL stores the family in the capturing host's byte order:
         * families are small, so a value with high bits set is swapped. */
        if (link == FT_LINK_NULL && (af & 0xffff0000u))
            af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
        if (af == 2) {
            f->etype = ET_IPV4;
            walk_ip(&w, 4);
        } else if (af == 10 || af == 24 || af == 28 || af == 30) {
            /* AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD,
             * 30 on macOS: a capture file keeps the writer's value. */
            f->etype = ET_IPV6;
            walk_ip(&w, 6);
        }
        return;
    }
    case FT_LINK_IP:
        walk_ip(&w, 0);
        return;
    case FT_LINK_IPV4:
        f->etype = ET_IPV4;
        walk_ip(&w, 4);
        return;
    case FT_LINK_IPV6:
        f->etype = ET_IPV6;
        walk_ip(&w, 6);
        return;
    case FT_LINK_MPLS:
        f->etype = ET_MPLS;
        walk_mpls(&w);
        return;
    }
}

const char *ft_link_name(ft_link link)
{
    switch (link) {
    case FT_LINK_ETHERNET:
        return "ethernet";
    case FT_LINK_IP:
        return "raw_ip";
    case FT_LINK_IPV4:
        return "ipv4";
    case FT_LINK_IPV6:
        return "ipv6";
    case FT_LINK_MPLS:
        return "mpls";
    case FT_LINK_LINUX_SLL:
        return "linux_sll";
    case FT_LINK_LINUX_SLL2:
        return "linux_sll2";
    case FT_LINK_NULL:
        return "null";
    case FT_LINK_LOOP:
        return "loop";
    }
    return "unknown";
}
