#!/usr/bin/python3
"""hand_seeds.py - the small hand-made seeds committed in fuzz/seeds/.

    fuzz/hand_seeds.py [OUTDIR]      (default: fuzz/seeds beside this file)

They cover what neither the unit-test vectors nor the corpus captures
hold: link types and header chains for pkt_header (byte 0 = ft_link
value, pkt_header.h order), sFlow v5 datagrams (vec.h has none), an IPFIX
message whose templates outgrow the template cache's first table, and
exporter sessions for the stateful target (harness.h chunk format) that
reach its caps (templates, template memory, held sets, exporters), more
withdrawals than a message notes, template expiry and resending.
Every length below is counted by hand; the files are rewritten
identically on each run.
"""
import os
import struct
import sys

ETHERNET, RAW_IP, IPV4, IPV6, MPLS, SLL, SLL2, NULL, LOOP = range(9)
MAC_D, MAC_S = bytes.fromhex('020000000001'), bytes.fromhex('020000000002')
A4, B4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 7])
A6 = bytes.fromhex('20010db8000000000000000000000001')
B6 = bytes.fromhex('20010db8000000000000000000000002')


def ipv4(proto, payload, opts=b'', flags_frag=0):
    ihl = 5 + len(opts) // 4
    return struct.pack('>BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(opts) + len(payload), 0x1234,
                       flags_frag, 64, proto, 0, A4, B4) + opts + payload


def ipv6(nh, payload):
    return struct.pack('>IHBB16s16s', 0x6000_0000 | 0x12345, len(payload), nh, 64, A6, B6) + payload


def udp(data=b'abcd'):
    return struct.pack('>HHHH', 50000, 2055, 8 + len(data), 0) + data


def tcp(flags=0x12):
    return struct.pack('>HHIIBBHHH', 443, 51000, 1, 2, 5 << 4, flags, 1024, 0, 0)


def icmp(t, c):
    return struct.pack('>BBHI', t, c, 0, 0)


def eth(etype, payload):
    return MAC_D + MAC_S + struct.pack('>H', etype) + payload


def pkt_header_seeds():
    s = {}
    # 802.1ad S-tag, 802.1Q C-tag, IPv4, UDP.
    s['qinq-ipv4-udp'] = bytes([ETHERNET]) + eth(0x88a8, struct.pack('>HH', 100, 0x8100) +
                                                 struct.pack('>HH', 200, 0x0800) + ipv4(17, udp()))
    # PPPoE session, PPP IPv6, hop-by-hop options (8 bytes), fragment header (first), TCP.
    v6 = ipv6(0, bytes([44, 0]) + bytes(6) + bytes([6, 0]) + struct.pack('>HI', 1, 0xabcd) + tcp())
    s['pppoe-ipv6-hbh-frag-tcp'] = bytes([ETHERNET]) + eth(0x8864, struct.pack('>BBHH', 0x11, 0, 1, len(v6) + 2) +
                                                          struct.pack('>H', 0x0057) + v6)
    # IEEE 802.3 length, LLC SNAP, IPv4 with 4 bytes of options, ICMP echo.
    ip = ipv4(1, icmp(8, 0), opts=bytes([1, 1, 1, 0]))
    s['llc-snap-ipv4opts-icmp'] = bytes([ETHERNET]) + eth(len(ip) + 8, bytes([0xaa, 0xaa, 3, 0, 0, 0]) +
                                                          struct.pack('>H', 0x0800) + ip)
    # Linux cooked v2, IPv6, UDP.
    s['sll2-ipv6-udp'] = bytes([SLL2]) + struct.pack('>HHIHBB8s', 0x86dd, 0, 3, 1, 0, 6, MAC_S + bytes(2)) + \
        ipv6(17, udp())
    # Linux cooked v1, IPv4, TCP.
    s['sll-ipv4-tcp'] = bytes([SLL]) + struct.pack('>HHH8sH', 0, 1, 6, MAC_S + bytes(2), 0x0800) + ipv4(6, tcp())
    # DLT_NULL little-endian AF_INET; DLT_LOOP AF 24 (OpenBSD AF_INET6), ICMPv6.
    s['null-le-ipv4-udp'] = bytes([NULL]) + struct.pack('<I', 2) + ipv4(17, udp())
    s['loop-ipv6-icmpv6'] = bytes([LOOP]) + struct.pack('>I', 24) + ipv6(58, icmp(128, 0))
    # Two MPLS labels (bottom of stack on the second), IPv4, AH (12 + 4 bytes ICV), UDP.
    ah = bytes([17, 2]) + bytes(2) + struct.pack('>II', 0x100, 1) + bytes(4)
    s['mpls2-ipv4-ah-udp'] = bytes([MPLS]) + struct.pack('>II', (16 << 12) | 64, (17 << 12) | 0x100 | 64) + \
        ipv4(51, ah + udp())
    # Raw IP: IPv4 later fragment; IPv6 routing header then UDP.
    s['raw-ipv4-later-fragment'] = bytes([RAW_IP]) + ipv4(17, udp(), flags_frag=0x2000 | 185)
    s['raw-ipv6-routing-udp'] = bytes([RAW_IP]) + ipv6(43, bytes([17, 0, 4, 0]) + bytes(4) + udp())
    # Tunnels: IPv4 in IPv4, IPv6 in IPv4, GRE (key present) carrying IPv4, over Ethernet.
    s['ipip-tcp'] = bytes([IPV4]) + ipv4(4, ipv4(6, tcp()))
    s['6in4-udp'] = bytes([IPV4]) + ipv4(41, ipv6(17, udp()))
    gre = struct.pack('>HHI', 0x2000, 0x0800, 42) + ipv4(17, udp())
    s['eth-gre-key-ipv4-udp'] = bytes([ETHERNET]) + eth(0x0800, ipv4(47, gre))
    # EoMPLS with a pseudowire control word (RFC 4385): the walk stops there.
    s['mpls-pw-cw-eth'] = bytes([MPLS]) + struct.pack('>I', (299 << 12) | 0x100 | 255) + bytes(4) + \
        eth(0x0800, ipv4(17, udp()))
    return s


def sflow_datagram(samples, agent=A4):
    h = struct.pack('>II4sIII', 5, 1, agent, 0, 7, 123456) + struct.pack('>I', len(samples))
    return h + b''.join(struct.pack('>II', fmt, len(body)) + body for fmt, body in samples)


def sflow_seeds():
    s = {}
    frame = eth(0x8100, struct.pack('>HH', 10, 0x0800) + ipv4(6, tcp()))
    hdr = struct.pack('>IIII', 1, 1514, 4, len(frame)) + frame + bytes(-len(frame) % 4)
    switch = struct.pack('>IIII', 10, 0, 20, 0)
    router = struct.pack('>I4sII', 1, B4, 24, 16)
    # extended_gateway: nexthop, as, src_as, src_peer_as, one AS_SEQUENCE of 3, no communities, localpref.
    gw = struct.pack('>I4sIIII', 1, B4, 64500, 64501, 64502, 1) + struct.pack('>II', 2, 3) + \
        struct.pack('>III', 64502, 64510, 64511) + struct.pack('>II', 0, 100)
    recs = [(1, hdr), (1001, switch), (1002, router), (1003, gw)]
    body = b''.join(struct.pack('>II', f, len(b)) + b for f, b in recs)
    flow = struct.pack('>IIIIIII', 1, 3, 1024, 5000, 0, 3, 4) + struct.pack('>I', len(recs)) + body
    s['flow-header-switch-router-gateway'] = sflow_datagram([(1, flow)])
    # Expanded flow sample: sampled_ipv6 record only, output discarded (format 1).
    v6rec = struct.pack('>II16s16sIIII', 1200, 6, A6, B6, 443, 5000, 0x18, 0)
    xflow = struct.pack('>IIIIIIIIII', 2, 0, 7, 512, 9000, 0, 0, 300000, 1, 12) + struct.pack('>I', 1) + \
        struct.pack('>II', 4, len(v6rec)) + v6rec
    s['expanded-ipv6-discarded'] = sflow_datagram([(3, xflow)], agent=A4)
    # Counters sample: if_counters and an ethernet_counters record, over an IPv6 agent.
    ifc = struct.pack('>IIQII', 3, 6, 10**9, 1, 3) + struct.pack('>QIIIIII', 10**6, 1000, 2, 3, 0, 0, 0) + \
        struct.pack('>QIIIIII', 2 * 10**6, 2000, 4, 5, 0, 0, 1)
    eth_c = bytes(52)
    cs = struct.pack('>III', 9, 3, 2) + struct.pack('>II', 1, len(ifc)) + ifc + struct.pack('>II', 2, len(eth_c)) + eth_c
    dg = struct.pack('>II16sIII', 5, 2, A6, 0, 8, 123457) + struct.pack('>I', 1) + struct.pack('>II', 2, len(cs)) + cs
    s['counters-ipv6-agent'] = dg
    return s


def ipfix_msg(seq, sets, t=1700000000, domain=7):
    body = b''.join(struct.pack('>HH', sid, 4 + len(b)) + b for sid, b in sets)
    return struct.pack('>HHIII', 10, 16 + len(body), t, seq, domain) + body


def chunk(ctl, data):
    return bytes([ctl]) + struct.pack('>H', len(data)) + data


def stateful_seeds():
    s = {}
    tpl = struct.pack('>HH', 256, 3) + struct.pack('>HHHHHH', 8, 4, 12, 4, 1, 8)         # src, dst, octets
    tpl2 = struct.pack('>HH', 256, 2) + struct.pack('>HHHH', 27, 16, 2, 4)               # redefined: src6, packets
    opt = struct.pack('>HHH', 257, 2, 1) + struct.pack('>HHHH', 149, 4, 34, 4)           # scope domain, samplingInterval
    rec = A4 + B4 + struct.pack('>Q', 1500)
    rec2 = A6 + struct.pack('>I', 3)
    msgs = [
        (0x00, ipfix_msg(0, [(2, tpl), (3, opt + bytes(2)), (257, struct.pack('>II', 7, 100)), (256, rec)])),
        (0x81, ipfix_msg(2, [(256, rec + rec)])),                     # 1 s later, expiry first
        (0x85, ipfix_msg(4, [(2, tpl2), (256, rec2)])),               # redefinition, same ID
        (0x0c, ipfix_msg(5, [(256, rec2)])),                          # held? no: template known
        (0x9f, b''),                                                  # 31 s, expiry only
        (0x01, ipfix_msg(6, [(2, struct.pack('>HH', 256, 0)), (256, rec2)])),  # withdrawal, then data
        (0x3f, ipfix_msg(0, [(2, tpl), (256, rec)])),                 # the other exporter, 31 s later
        (0xc5, ipfix_msg(7, [(256, rec2), (2, tpl2)])),               # clock back 5 s; data before template
    ]
    s['ipfix-session'] = b''.join(chunk(c, m) for c, m in msgs)

    def small_tpl(tid):  # 8 bytes: one field, sourceIPv4Address
        return struct.pack('>HHHH', tid, 1, 8, 4)

    # Caps: 40 templates in one message (cap 32); 10 data sets before their
    # templates (8 held at most), released by the next message, expired after.
    s['template-cap'] = chunk(0, ipfix_msg(0, [(2, b''.join(small_tpl(300 + i) for i in range(40))),
                                               (339, A4)]))
    s['pending-cap'] = chunk(0, ipfix_msg(0, [(400 + i, A4) for i in range(10)])) + \
        chunk(0x01, ipfix_msg(0, [(2, small_tpl(400) + small_tpl(401))])) + chunk(0x8b, b'')
    # Template memory: three 1000-field templates (about 6 KiB each) exceed 16 KiB.
    big = b''.join(struct.pack('>HH', 500 + i, 1000) + struct.pack('>HH', 1, 8) * 1000 for i in range(3))
    s['template-budget'] = chunk(0, ipfix_msg(0, [(2, big)]))
    # 20 templates, then 17 withdrawals (more than the decoder notes per message)
    # and data for a withdrawn one in the same message.
    s['withdraw-17'] = chunk(0, ipfix_msg(0, [(2, b''.join(small_tpl(600 + i) for i in range(20)))])) + \
        chunk(0x01, ipfix_msg(0, [(2, b''.join(struct.pack('>HH', 600 + i, 0) for i in range(17))), (605, A4)]))
    # NetFlow v9: template and options template with FLOW_SAMPLER_ID 48 + SAMPLING_INTERVAL 34,
    # data naming sampler 1; 61 s later (expiry) the data comes back without its template
    # and is held until the template is resent.
    v9tpl = struct.pack('>HH', 260, 3) + struct.pack('>HHHHHH', 8, 4, 1, 4, 48, 1)
    v9opt = struct.pack('>HHH', 261, 4, 8) + struct.pack('>HHHHHH', 1, 4, 48, 1, 34, 4)

    def v9(seq, sets, up=100000):
        body = b''.join(struct.pack('>HH', sid, 4 + len(b)) + b for sid, b in sets)
        return struct.pack('>HHIIII', 9, 2, up, 1700000000, seq, 3) + body
    data = A4 + struct.pack('>IB', 1500, 1) + bytes(3)  # 9-byte record + 3 padding
    s['nfv9-expire-resend'] = chunk(0, v9(0, [(0, v9tpl), (1, v9opt),
                                              (261, struct.pack('>IBI', 0, 1, 512) + bytes(3)),
                                              (260, data)])) + \
        chunk(0x9f, v9(1, [(260, data)])) + chunk(0x9f, b'') + chunk(0x81, v9(2, [(260, data)])) + \
        chunk(0x02, v9(3, [(0, v9tpl)]))
    # sFlow agents: 90 datagrams naming 90 agents, past the table's 64 buckets and the
    # 80-exporter cap.
    s['sflow-agents'] = b''.join(
        chunk(0, struct.pack('>II4sIIII', 5, 1, bytes([10, 0, i // 256, i % 256]), 0, 1, 1, 0)) for i in range(90))
    return s


def ipfix_seeds():
    # 300 one-field templates, then data for the last: the template cache
    # (256 buckets) grows.
    tpls = b''.join(struct.pack('>HHHH', 1000 + i, 1, 8, 4) for i in range(300))
    return {'many-templates': ipfix_msg(0, [(2, tpls), (1299, A4 + B4)])}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')
    for target, seeds in (('pkt_header', pkt_header_seeds()), ('sflow', sflow_seeds()),
                          ('ipfix', ipfix_seeds()), ('stateful', stateful_seeds())):
        os.makedirs(os.path.join(out, target), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, target, 'hand-' + name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
