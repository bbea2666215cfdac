/*
 * pkt_header.h - the one L2-L4 packet header parser of flowtally.
 *
 * Used for whole captured frames (--pcap: where does the UDP payload start?)
 * and for the packet headers an sFlow agent samples (sFlow v5 §5.5
 * sampled_header: which addresses, ports, VLAN, MPLS labels?). Both cases
 * hand it a span that may be cut anywhere: a capture snap length, or the
 * 128 bytes an agent keeps of each sampled frame. So every header is read
 * through ft_rd, a header is used only once its fixed part is complete, and
 * a cut gives a partial result (info->truncated), never a fault.
 *
 * The walk, outer to inner:
 *   link header   Ethernet II / IEEE 802.3 + LLC/SNAP (IEEE 802.3 §3.2),
 *                 Linux cooked SLL (16 bytes) and SLL2 (20 bytes),
 *                 BSD loopback DLT_NULL (address family, host byte order of
 *                 the capturing machine) and DLT_LOOP (network byte order),
 *                 or none (raw IPv4/IPv6, or an MPLS stack first);
 *   VLAN tags     IEEE 802.1Q C-tag 0x8100, 802.1ad S-tag 0x88a8 and the
 *                 pre-standard QinQ 0x9100, any depth (IEEE 802.1Q §9.6);
 *   PPPoE session 0x8864 carrying PPP IPv4 (0x0021) / IPv6 (0x0057) (RFC 2516 §4);
 *   MPLS          0x8847/0x8848 label stack up to the bottom-of-stack bit
 *                 (RFC 3032 §2.1); the payload is IPv4 or IPv6 when its first
 *                 nibble is 4 or 6 (RFC 3032 §2.2 leaves it to the label, so
 *                 we guess as routers' sampling does); anything else (a
 *                 pseudowire control word, RFC 4385) ends the walk;
 *   IPv4          RFC 791 §3.1, options skipped by IHL; AH (RFC 4302 §2)
 *                 skipped to reach the transport header;
 *   IPv6          RFC 8200 §3, extension headers hop-by-hop (0), routing
 *                 (43), fragment (44), destination options (60) (RFC 8200
 *                 §4), AH (51, RFC 4302 §2.2), mobility (135), HIP (139),
 *                 shim6 (140) (all "Hdr Ext Len" formats, RFC 6564);
 *   transport     TCP (RFC 9293 §3.1: ports, flags incl. NS), UDP (RFC 768),
 *                 SCTP (RFC 9260 §3.1 common header: ports),
 *                 ICMP (RFC 792) / ICMPv6 (RFC 4443 §2.1: type, code);
 *   tunnels       followed behind an IPv4 or IPv6 header (see below):
 *                 IPv4 in IP, protocol 4 (RFC 2003 §3; in IPv6, RFC 2473);
 *                 IPv6 in IP, protocol 41 (6in4, RFC 4213 §3.5; IPv6 in
 *                 IPv6, RFC 2473 §3);
 *                 GRE, protocol 47: version 0 (RFC 2784 §2.1, with the key
 *                 and sequence number bits of RFC 2890 §2: 4 bytes + 4 for
 *                 each of C, K, S) and version 1, the enhanced GRE of PPTP
 *                 (RFC 2637 §4.1: key mandatory, 8 bytes + 4 for each of
 *                 S, A); protocol type 0x0800 / 0x86dd (IP), 0x6558
 *                 (transparent Ethernet bridging: inner Ethernet header,
 *                 802.1Q/802.1ad tags, then IPv4/IPv6) and 0x880b (PPP:
 *                 address/control 0xff03 unless compressed, RFC 1661 §6.6 /
 *                 RFC 1662 §3.1; protocol 0x0021 IPv4 / 0x0057 IPv6, two
 *                 bytes or one when compressed, RFC 1661 §6.5).
 *                 GRE with the RFC 1701 routing, strict source route or
 *                 recursion bits (RFC 2784 §2.3 bits 1, 4, 5), other GRE
 *                 versions, a version 1 header without its key, and other
 *                 protocol types (MPLS over GRE, ERSPAN, NSH...) end the walk
 *                 at the tunnel header: the outer fields are the result.
 *
 * Encapsulation contract (goflow's default, DecodeGRE off):
 *   - the MAIN ft_flow fields (src_addr, dst_addr, proto = 47/4/41, ip_tos,
 *     ip_ttl, ip_flags, etype, ipv6_flow_label, fragment_id,
 *     fragment_offset) describe the OUTER (wire) IP header;
 *   - has_encap and the *_encap fields (src_addr_encap, dst_addr_encap,
 *     proto_encap, etype_encap, ip_tos_encap, ip_ttl_encap,
 *     ipv6_flow_label_encap, fragment_id_encap, fragment_offset_encap)
 *     describe the FIRST inner IP header, set together once its fixed part
 *     is complete;
 *   - the transport fields (src_port, dst_port, tcp_flags, icmp_type,
 *     icmp_code) come from the INNERMOST transport header reached: the
 *     tunnelled conversation. A tunnel inside a tunnel is walked on for
 *     them only, at most FT_PKT_MAX_TUNNELS tunnels deep
 *     (info->tunnel_limit when a further one is met);
 *   - has_ppp and ppp_address_control come from the first PPP header met
 *     in a GRE tunnel.
 * Every tunnel consumes its header plus a 20- or 40-byte IP header, and the
 * inner packet is read only inside the outer one's length, so hostile
 * nesting ends; a cut anywhere gives a partial record, never a fault.
 *
 * Thread-safety: pure function of its input; no state.
 */
#ifndef FT_PKT_HEADER_H
#define FT_PKT_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

/* Where the span starts: the link-layer header in front of the packet. */
typedef enum ft_link {
    FT_LINK_ETHERNET = 0, /* Ethernet II / 802.3 frame from the destination MAC: DLT_EN10MB,
                             sFlow header_protocol 1 (ETHERNET-ISO88023) */
    FT_LINK_IP,           /* raw IP, version from the first nibble: DLT_RAW */
    FT_LINK_IPV4,         /* raw IPv4: DLT_IPV4, sFlow header_protocol 11 */
    FT_LINK_IPV6,         /* raw IPv6: DLT_IPV6, sFlow header_protocol 12 */
    FT_LINK_MPLS,         /* an MPLS label stack first: sFlow header_protocol 13 */
    FT_LINK_LINUX_SLL,    /* Linux cooked capture v1 (16-byte header): DLT_LINUX_SLL */
    FT_LINK_LINUX_SLL2,   /* Linux cooked capture v2 (20-byte header): DLT_LINUX_SLL2 */
    FT_LINK_NULL,         /* BSD loopback, 4-byte AF in the capturer's byte order: DLT_NULL */
    FT_LINK_LOOP,         /* OpenBSD loopback, 4-byte AF in network byte order: DLT_LOOP */
} ft_link;

/* ft_pkt_info.layers: headers whose fixed part was read in full. */
#define FT_PKT_LINK (1u << 0) /* link header (Ethernet, SLL, SLL2, NULL/LOOP) */
#define FT_PKT_VLAN (1u << 1) /* at least one 802.1Q/802.1ad tag */
#define FT_PKT_MPLS (1u << 2) /* at least one MPLS label stack entry */
#define FT_PKT_IPV4 (1u << 3) /* IPv4 header, options included */
#define FT_PKT_IPV6 (1u << 4) /* IPv6 header and the extension headers walked */
#define FT_PKT_L4 (1u << 5)   /* TCP (with options), UDP (8 bytes), SCTP (12 bytes) or ICMP/ICMPv6
                               (8 bytes) header */
#define FT_PKT_TUNNEL (1u << 6) /* a tunnel header was passed (IP in IP, or a complete GRE header
                                   even when its payload is not followed) */

/* Tunnels followed inside one another; the walk stops at the next one
 * (info->tunnel_limit). Four covers real stacks (6in4 carrying GRE carrying
 * PPP...) with room to spare. */
#define FT_PKT_MAX_TUNNELS 4

/* What the walk found besides the ft_flow fields. Offsets are in bytes from
 * the start of the span. The IP fields (ip_version, l3_off, src/dst_addr,
 * l4_proto, l4_off, ip_end) and the payload fields describe the INNERMOST IP
 * packet whose header was read in full: without a tunnel the one packet. */
typedef struct ft_pkt_info {
    uint32_t layers;     /* FT_PKT_* bits */
    bool truncated;      /* the span ended inside a header: that header's fields and
                            everything after it are unset */
    bool malformed;      /* a header contradicts itself (IPv4 IHL < 5, total length
                            shorter than the header, UDP length < 8, TCP data offset < 5);
                            the walk stopped there */
    bool fragment;       /* an IP packet on the walk (outer or tunnelled) is a fragment (first
                            or later), IPv4 MF/offset or an IPv6 fragment header */
    bool later_fragment; /* the walk stopped at a non-first fragment (offset != 0): it holds
                            no further header, so ports, flags and ICMP type stay unset */
    bool tunnel_limit;   /* a tunnel was met after FT_PKT_MAX_TUNNELS: not followed */
    uint8_t tunnels;     /* tunnels entered: tunnel headers passed with an IP header
                            behind them (0..FT_PKT_MAX_TUNNELS) */
    uint8_t ip_version;  /* 4 or 6 once an IP header was read in full, else 0 */
    uint8_t l4_proto;    /* upper-layer protocol after IPv6/AH extension headers (= f->proto
                            without a tunnel; 47/4/41 when the tunnel's inner header is cut) */
    size_t l3_off;       /* the IP header (valid when ip_version != 0) */
    ft_addr src_addr;    /* its addresses (= f->src_addr, f->dst_addr without a tunnel) */
    ft_addr dst_addr;
    size_t l4_off;       /* the transport header, after IPv4 options and extension
                            headers (valid with FT_PKT_IPV4 / FT_PKT_IPV6) */
    size_t ip_end;       /* end of the IP packet as its length field says, clipped to the
                            span and to the enclosing packet (Ethernet padding excluded); a
                            length of 0 (TSO capture, IPv6 jumbogram) means "to the end of
                            the span" (of the enclosing packet) */
    size_t payload_off;  /* first byte after the transport header (valid with FT_PKT_L4) */
    size_t payload_len;  /* payload bytes present in the span: for UDP bounded by the UDP
                            length (RFC 768), for others by ip_end (valid with FT_PKT_L4) */
    size_t payload_declared; /* payload bytes the headers declare (UDP length - 8, or the IP
                                length for TCP/ICMP); > payload_len when the span was cut */
} ft_pkt_info;

/*
 * Walks the headers of the packet in p[0..n) (n may be 0; p may then be
 * NULL), starting with the link header `link`.
 *
 * Fills in f only the fields it finds, and never clears one, so the caller
 * zeroes f first or keeps values from elsewhere (an sFlow decoder may already
 * hold in_if, sampling_rate...). Fields set, each from the outermost header
 * that carries it, except the *_encap fields (first tunnelled IP header) and
 * the transport fields (innermost), see the encapsulation contract above:
 *   src_mac, dst_mac   Ethernet addresses (SLL/SLL2: src_mac from the link-layer
 *                      address when it is 6 bytes of ARPHRD_ETHER);
 *   vlan_id            VID (12 bits) of the OUTERMOST tag: the one the sampling
 *                      switch forwarded on (the S-tag of a QinQ frame);
 *   etype              EtherType of the outer IP header: the innermost of the link layer
 *                      (0x0800 behind VLAN tags; 0x0800/0x86dd guessed behind MPLS;
 *                      0x8847 when the MPLS payload is not IP);
 *   has_mpls, mpls_count, mpls_1..3_label/ttl, mpls_last_label/ttl
 *                      the label stack, top first (RFC 3032 §2.1);
 *   src_addr, dst_addr, proto, ip_tos (TOS / traffic class byte), ip_ttl (TTL / hop limit),
 *   ip_flags           IPv4: the 3 flag bits (4 reserved, 2 DF, 1 MF);
 *                      IPv6 fragment header: its low 3 bits (1 = M), as goflow does;
 *   fragment_id        IPv4 Identification (16 bits) / IPv6 fragment Identification (32);
 *   fragment_offset    the 13-bit Fragment Offset field (8-octet units);
 *   ipv6_flow_label    20 bits;
 *   src_port, dst_port TCP/UDP/SCTP ports, host order (set once 4 bytes of the header exist);
 *   tcp_flags          the 9 flag bits, NS = 0x100 (set once 14 bytes exist);
 *   icmp_type, icmp_code  ICMP (proto 1) / ICMPv6 (58) (set once 2 bytes exist);
 *   has_encap, src_addr_encap, dst_addr_encap, proto_encap (upper layer after
 *                      the inner extension headers), etype_encap (0x0800 / 0x86dd),
 *                      ip_tos_encap, ip_ttl_encap, ipv6_flow_label_encap,
 *                      fragment_id_encap, fragment_offset_encap
 *                      the first tunnelled IP header (no flags field: ip_flags is outer);
 *   has_ppp, ppp_address_control
 *                      PPP in GRE: the address/control bytes as one 16-bit value,
 *                      0xff03, or 0 when they were compressed away (RFC 1661 §6.6).
 * f may be NULL (only info is wanted). info is always fully written.
 */
void ft_pkt_parse(const uint8_t *p, size_t n, ft_link link, ft_flow *f, ft_pkt_info *info);

/* Short name of a link type ("ethernet", "linux_sll"...), for logs. */
const char *ft_link_name(ft_link link);

#endif
