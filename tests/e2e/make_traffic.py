#!/usr/bin/python3
"""make_traffic.py - build a deterministic pcap of ordinary traffic for the
real-exporter tests (softflowd, pmacctd), and the ground truth of that
traffic per unidirectional 5-tuple.

Usage: /usr/bin/python3 make_traffic.py OUT.pcap [OUT_truth.json] [--seed N] [--extras] [--tail N]

The traffic (Ethernet, DLT_EN10MB) spreads over about 90 s starting at a fixed
epoch and holds, all with a fixed random seed so every run writes the same
bytes:
  - IPv4 TCP conversations (SYN, SYN/ACK, ACK, request/response data in
    MSS-sized segments with ACKs, FIN/FIN/ACK or a RST) on ports 80, 443, 22,
    25, 8080 and one bulk transfer, some with a DSCP in the TOS byte;
  - IPv4 UDP DNS-like query/response pairs and NTP-like packets;
  - ICMP echo request/reply and one ICMP port unreachable;
  - IPv6 TCP (port 443), UDP (DNS) and ICMPv6 echo request/reply;
  - a few 802.1Q-tagged (VLAN 100) UDP syslog frames.
With extras=True (--extras; the sFlow test, whose exporter samples frames
rather than keeping flows) it also holds, from a second fixed seed so the
frames above stay byte for byte the same:
  - MPLS: an IPv4 TCP conversation under one label (RFC 3032), IPv6 DNS under
    a two-label stack, an ICMP echo under three labels;
  - VLAN-tagged IPv6 (VLAN 200, priority 5): ICMPv6 echo and UDP (with a
    flow label);
  - double 802.1Q tags (outer 300, inner 10; 0x8100 twice, as pmacctd only
    follows 0x8100) carrying IPv4 UDP with DF set;
  - ICMPv6 neighbour solicitation/advertisement and a port unreachable;
    ICMP time exceeded answering a UDP traceroute probe;
  - IPv6 with a destination options header before UDP (traffic class and
    flow label set); IPv4 with the Router Alert option (RFC 2113) before UDP.
tail=N (--tail N) appends N small UDP frames (10.0.0.99 -> 10.0.0.98, port 9)
one second after the traffic: a flush tail for exporters that keep the last
export datagram until more packets come (pmacctd's sfprobe).

Ground truth: one entry per unidirectional flow (what NetFlow exporters
account), keyed like softflowd and pmacctd key flows: family, src, dst, proto,
src_port, dst_port, where ICMP/ICMPv6 flows have src_port 0 and dst_port
type*256+code (softflowd's convention; pmacctd's is checked in the test).
bytes is the sum of the IP total lengths (IPv4 total length, IPv6 40 +
payload length), packets the count, tcp_flags the OR of the TCP flags, tos the
TOS/traffic class of the first packet, first/last the capture times (s),
frame_bytes the sum of the Ethernet frame lengths (FCS excluded, as in the
pcap), vlan the outermost 802.1Q VID, mpls the label stack (top first) of the
first packet. The protocol and ports are those of the upper-layer header
after any IPv6 extension headers; MPLS and VLAN tags do not enter the key.

Runs with Debian's /usr/bin/python3 and python3-scapy only.
"""
import json
import random
import sys

from scapy.all import (  # noqa: F401  (scapy re-exports)
    DNS, DNSQR, Dot1Q, Ether, ICMP, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest,
    ICMPv6ND_NA, ICMPv6ND_NS, IP, IPOption_Router_Alert, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, TCP, UDP, wrpcap)
from scapy.contrib.mpls import MPLS  # binds EtherType 0x8847 for dissection too

IPV6_EXT = (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment)

BASE_TIME = 1700000000.0  # 2023-11-14 22:13:20 UTC: fixed, so the pcap is reproducible
SPAN = 90.0               # seconds the traffic spreads over
MSS = 1448

CLIENT_MAC = "02:00:00:00:00:01"
ROUTER_MAC = "02:00:00:00:00:fe"


class Traffic:
    """Collects (time, frame) pairs; written sorted by time."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.frames = []

    def add(self, t, frame):
        # Round to microseconds: the pcap stores µs, the truth must agree with it.
        self.frames.append((round(BASE_TIME + t, 6), frame))

    def eth(self, to_server, vlan=None, mpls=None, prio=0):
        """Ethernet header, then 802.1Q tags (vlan: a VID or a tuple of VIDs,
        outer first) and an MPLS label stack (mpls: (label, ttl) pairs, top
        first)."""
        src, dst = (CLIENT_MAC, ROUTER_MAC) if to_server else (ROUTER_MAC, CLIENT_MAC)
        e = Ether(src=src, dst=dst)
        for v in ((vlan,) if isinstance(vlan, int) else vlan or ()):
            e = e / Dot1Q(vlan=v, prio=prio)
        for i, (label, ttl) in enumerate(mpls or ()):
            e = e / MPLS(label=label, ttl=ttl, s=1 if i == len(mpls) - 1 else 0)
        return e

    def ip(self, src, dst, tos, ttl):
        if ":" in src:
            return IPv6(src=src, dst=dst, tc=tos, hlim=ttl)
        return IP(src=src, dst=dst, tos=tos, ttl=ttl, id=self.rng.randrange(1, 65536))

    def tcp_conversation(self, t, cli, srv, sport, dport, exchanges, tos=0, close="fin", rtt=0.02, l2=None):
        """A TCP connection from cli:sport to srv:dport. exchanges is a list of
        (request_bytes, response_bytes); close 'fin' or 'rst'; l2: eth()
        keyword arguments (VLAN, MPLS). Returns the end time."""
        l2 = l2 or {}
        rng = self.rng
        cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)

        def c2s(flags, payload=b"", dt=0.0):
            nonlocal t, cseq
            t += dt
            self.add(t, self.eth(True, **l2) / self.ip(cli, srv, tos, 64) /
                     TCP(sport=sport, dport=dport, flags=flags, seq=cseq, ack=sseq if "A" in flags else 0,
                         window=64240) / (Raw(payload) if payload else b""))
            cseq = (cseq + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) & 0xFFFFFFFF

        def s2c(flags, payload=b"", dt=0.0):
            nonlocal t, sseq
            t += dt
            self.add(t, self.eth(False, **l2) / self.ip(srv, cli, tos, 57) /
                     TCP(sport=dport, dport=sport, flags=flags, seq=sseq, ack=cseq, window=65160) /
                     (Raw(payload) if payload else b""))
            sseq = (sseq + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) & 0xFFFFFFFF

        half = rtt / 2
        c2s("S")
        s2c("SA", dt=half + rng.uniform(0, 0.002))
        c2s("A", dt=half)
        for req, resp in exchanges:
            c2s("PA", bytes(rng.randrange(256) for _ in range(req)), dt=rng.uniform(0.001, 0.3))
            sent, nseg = 0, 0
            first = True
            while sent < resp:
                n = min(MSS, resp - sent)
                sent += n
                nseg += 1
                last = sent >= resp
                s2c("PA" if last else "A", bytes(rng.randrange(256) for _ in range(n)),
                    dt=(half + rng.uniform(0.001, 0.05)) if first else rng.uniform(0.0001, 0.002))
                first = False
                if nseg % 2 == 0 or last:
                    c2s("A", dt=half)
        if close == "rst":
            c2s("RA", dt=rng.uniform(0.01, 0.5))
        else:
            c2s("FA", dt=rng.uniform(0.01, 0.5))
            s2c("FA", dt=half)
            c2s("A", dt=half)
        return t

    def dns(self, t, cli, srv, sport, qname, tos=0, l2=None):
        l2 = l2 or {}
        q = DNS(id=self.rng.randrange(65536), rd=1, qd=DNSQR(qname=qname))
        self.add(t, self.eth(True, **l2) / self.ip(cli, srv, tos, 64) / UDP(sport=sport, dport=53) / q)
        r = DNS(id=q.id, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname))
        pad = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(16, 200)))
        self.add(t + self.rng.uniform(0.005, 0.04),
                 self.eth(False, **l2) / self.ip(srv, cli, tos, 58) / UDP(sport=53, dport=sport) / r / Raw(pad))

    def ping(self, t, cli, srv, count, size=56, interval=1.0, l2=None):
        l2 = l2 or {}
        ident = self.rng.randrange(65536)
        for i in range(count):
            data = bytes((j * 7 + i) % 256 for j in range(size))
            rtt = self.rng.uniform(0.001, 0.03)
            if ":" in cli:
                self.add(t, self.eth(True, **l2) / self.ip(cli, srv, 0, 64) / ICMPv6EchoRequest(id=ident, seq=i, data=data))
                self.add(t + rtt, self.eth(False, **l2) / self.ip(srv, cli, 0, 60) / ICMPv6EchoReply(id=ident, seq=i, data=data))
            else:
                self.add(t, self.eth(True, **l2) / self.ip(cli, srv, 0, 64) / ICMP(type=8, id=ident, seq=i) / Raw(data))
                self.add(t + rtt, self.eth(False, **l2) / self.ip(srv, cli, 0, 60) / ICMP(type=0, id=ident, seq=i) / Raw(data))
            t += interval


def build(seed=1, extras=False, tail=0):
    """Returns the list of (time, frame) sorted by time (see the module
    comment for extras and tail)."""
    tr = Traffic(seed)
    rng = tr.rng
    cli4, cli6 = "10.0.0.10", "2001:db8:1::10"
    # Web, TLS, SSH, mail, proxy: ordinary TCP conversations at random starts.
    tcp4 = [
        ("192.0.2.80", 80, [(320, 5200), (280, 14000)], 0, "fin"),
        ("192.0.2.43", 443, [(517, 4100), (90, 1200), (640, 23000)], 0, "fin"),
        ("198.51.100.22", 22, [(40, 600), (96, 96), (96, 96), (48, 1800)], 0x10, "fin"),  # DSCP AF? low delay TOS
        ("198.51.100.25", 25, [(60, 180), (1400, 40)], 0, "rst"),
        ("203.0.113.8", 8080, [(410, 900)], 0x28, "fin"),  # DSCP AF11
        ("192.0.2.43", 443, [(517, 3900), (120, 240)], 0, "fin"),
    ]
    for srv, dport, ex, tos, close in tcp4:
        tr.tcp_conversation(rng.uniform(0, SPAN - 15), cli4, srv, rng.randrange(32768, 61000), dport, ex,
                            tos=tos, close=close, rtt=rng.uniform(0.005, 0.08))
    # One bulk download (~200 segments) from a second client.
    tr.tcp_conversation(rng.uniform(5, 30), "10.0.0.11", "192.0.2.80", 41000, 80, [(350, 290000)], rtt=0.03)
    # DNS-like UDP (each query uses a fresh source port: one flow pair each).
    for i in range(6):
        tr.dns(rng.uniform(0, SPAN), cli4, "192.0.2.53", rng.randrange(1024, 65535), "host%d.example.com" % i)
    # NTP-like UDP, same 5-tuple repeated: one flow of several packets each way.
    t = rng.uniform(0, 20)
    for i in range(4):
        tr.add(t, tr.eth(True) / tr.ip(cli4, "198.51.100.123", 0xb8, 64) / UDP(sport=123, dport=123) / Raw(bytes(48)))
        tr.add(t + 0.02, tr.eth(False) / tr.ip("198.51.100.123", cli4, 0xb8, 55) / UDP(sport=123, dport=123) / Raw(bytes(48)))
        t += 16.0
    # ICMP echo and a port unreachable (quoting the offending UDP header).
    tr.ping(rng.uniform(0, 40), cli4, "192.0.2.1", 5)
    t = rng.uniform(10, 60)
    tr.add(t, tr.eth(True) / tr.ip(cli4, "203.0.113.9", 0, 64) / UDP(sport=50000, dport=33434) / Raw(bytes(32)))
    tr.add(t + 0.01, tr.eth(False) / tr.ip("203.0.113.9", cli4, 0xc0, 250) / ICMP(type=3, code=3) /
           IP(src=cli4, dst="203.0.113.9", ttl=1) / UDP(sport=50000, dport=33434) / Raw(bytes(32)))
    # IPv6: TLS conversation, DNS, ping.
    tr.tcp_conversation(rng.uniform(0, SPAN - 10), cli6, "2001:db8:2::443", 50443, 443, [(517, 6000), (200, 800)],
                        tos=0x20, rtt=0.04)
    tr.tcp_conversation(rng.uniform(0, SPAN - 10), cli6, "2001:db8:2::80", 50080, 80, [(300, 2000)], close="rst")
    for i in range(3):
        tr.dns(rng.uniform(0, SPAN), cli6, "2001:db8:2::53", rng.randrange(1024, 65535), "v6host%d.example.net" % i)
    tr.ping(rng.uniform(0, 60), cli6, "2001:db8:2::1", 4)
    # 802.1Q-tagged syslog on VLAN 100.
    t = rng.uniform(0, 50)
    for i in range(3):
        tr.add(t, tr.eth(True, vlan=100) / tr.ip("10.0.100.5", "10.0.100.1", 0, 64) /
               UDP(sport=514, dport=514) / Raw(b"<13>Nov 14 22:13:20 host test: message %d" % i))
        t += rng.uniform(1, 10)
    if extras:
        add_extras(tr, seed)
    tr.frames.sort(key=lambda x: x[0])
    if tail:
        t = tr.frames[-1][0] - BASE_TIME + 1.0
        for i in range(tail):
            tr.add(t + i * 0.001, tr.eth(True) / IP(src="10.0.0.99", dst="10.0.0.98", ttl=64, id=i + 1) /
                   UDP(sport=9, dport=9) / Raw(b"flush %02d" % i))
    return tr.frames


def add_extras(tr, seed):
    """The extra frames of build(extras=True), from their own random stream so
    that the base frames keep their bytes."""
    tr.rng = rng = random.Random(seed * 7919 + 104729)
    cli4, cli6 = "10.0.0.10", "2001:db8:1::10"
    # MPLS (RFC 3032): label stacks as a provider edge hands them to the core.
    tr.tcp_conversation(rng.uniform(0, SPAN - 10), cli4, "203.0.113.50", 50500, 443, [(400, 3000)],
                        rtt=0.03, l2={"mpls": [(16001, 63)]})
    for i in range(2):
        tr.dns(rng.uniform(0, SPAN), cli6, "2001:db8:2::53", rng.randrange(1024, 65535), "mpls%d.example.org" % i,
               l2={"mpls": [(24005, 254), (16002, 62)]})
    tr.ping(rng.uniform(0, SPAN - 5), cli4, "198.51.100.1", 2, size=32,
            l2={"mpls": [(100, 255), (200, 254), (300, 253)]})
    # VLAN-tagged IPv6 with a priority (PCP 5).
    tr.ping(rng.uniform(0, SPAN - 5), cli6, "2001:db8:200::1", 3, l2={"vlan": 200, "prio": 5})
    t = rng.uniform(0, SPAN)
    for i in range(2):
        tr.add(t + i * 0.5, tr.eth(True, vlan=200, prio=5) / IPv6(src=cli6, dst="2001:db8:200::514", hlim=64,
                                                                   fl=0x5A5A5) /
               UDP(sport=40514, dport=514) / Raw(b"<14>v6 syslog %d" % i))
    # Two 802.1Q tags (outer 300, inner 10).
    t = rng.uniform(0, SPAN)
    for i in range(3):
        tr.add(t + i * 0.2, tr.eth(True, vlan=(300, 10)) /
               IP(src="10.0.10.5", dst="10.0.10.1", ttl=64, flags="DF", id=rng.randrange(1, 65536)) /
               UDP(sport=5060, dport=5060) / Raw(bytes(rng.randrange(256) for _ in range(60 + 40 * i))))
    # ICMPv6 neighbour discovery and a port unreachable quoting the probe.
    t = rng.uniform(0, SPAN)
    tr.add(t, Ether(src=CLIENT_MAC, dst="33:33:ff:00:00:01") /
           IPv6(src="2001:db8:1::10", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt="2001:db8:1::1"))
    tr.add(t + 0.001, tr.eth(False) / IPv6(src="2001:db8:1::1", dst="2001:db8:1::10", hlim=255) /
           ICMPv6ND_NA(tgt="2001:db8:1::1", R=1, S=1, O=1))
    t = rng.uniform(0, SPAN)
    probe = IPv6(src=cli6, dst="2001:db8:2::9", hlim=64) / UDP(sport=50001, dport=33435) / Raw(bytes(24))
    tr.add(t, tr.eth(True) / probe)
    tr.add(t + 0.01, tr.eth(False) / IPv6(src="2001:db8:2::9", dst=cli6, hlim=61) /
           ICMPv6DestUnreach(code=4) / probe)
    # ICMP time exceeded for a UDP traceroute probe with TTL 1.
    t = rng.uniform(0, SPAN)
    probe = IP(src=cli4, dst="198.51.100.99", ttl=1, id=rng.randrange(1, 65536)) / UDP(sport=50002, dport=33436) / \
        Raw(bytes(32))
    tr.add(t, tr.eth(True) / probe)
    tr.add(t + 0.005, tr.eth(False) / IP(src="192.0.2.254", dst=cli4, ttl=255, id=rng.randrange(1, 65536)) /
           ICMP(type=11, code=0) / probe)
    # IPv6 destination options before UDP; IPv4 Router Alert option before UDP.
    t = rng.uniform(0, SPAN)
    tr.add(t, tr.eth(True) / IPv6(src=cli6, dst="2001:db8:2::60", tc=0xB8, fl=0x12345, hlim=64) / IPv6ExtHdrDestOpt() /
           UDP(sport=40060, dport=6060) / Raw(b"destination options"))
    t = rng.uniform(0, SPAN)
    tr.add(t, tr.eth(True) / IP(src=cli4, dst="192.0.2.60", ttl=1, id=rng.randrange(1, 65536),
                               options=[IPOption_Router_Alert()]) / UDP(sport=40061, dport=6061) / Raw(b"router alert"))


def classify(fr):
    """A frame's flow key (family, src, dst, proto, src_port, dst_port; ICMP:
    0, type*256+code, see the module comment) and its IP length, TOS and TCP
    flags."""
    if IP in fr:
        ip = fr[IP]
        fam, iplen, tos = 4, ip.len, ip.tos
        proto = ip.proto
        l4 = ip.payload
    else:
        ip = fr[IPv6]
        fam, iplen, tos = 6, 40 + ip.plen, ip.tc
        proto = ip.nh
        l4 = ip.payload
        while isinstance(l4, IPV6_EXT):  # RFC 8200 §4: the upper layer follows the chain
            proto, l4 = l4.nh, l4.payload
    sport = dport = 0
    flags = 0
    if proto == 6:
        sport, dport, flags = l4.sport, l4.dport, int(l4.flags)
    elif proto == 17:
        sport, dport = l4.sport, l4.dport
    elif proto in (1, 58):
        dport = l4.type * 256 + l4.code
    return (fam, ip.src, ip.dst, proto, sport, dport), iplen, tos, flags


def ground_truth(frames):
    """One dict per unidirectional flow, sorted by key (see module comment)."""
    flows = {}
    for ts, fr in frames:
        key, iplen, tos, flags = classify(fr)
        fam, src, dst, proto, sport, dport = key
        f = flows.get(key)
        if f is None:
            mpls, m = [], fr.getlayer(MPLS)
            while isinstance(m, MPLS):
                mpls.append(m.label)
                m = m.payload
            f = flows[key] = {"family": fam, "src": src, "dst": dst, "proto": proto,
                              "src_port": sport, "dst_port": dport, "packets": 0, "bytes": 0,
                              "tcp_flags": 0, "tos": tos, "first": float(ts), "last": float(ts),
                              "vlan": fr[Dot1Q].vlan if Dot1Q in fr else 0, "mpls": mpls,
                              "frame_bytes": 0}
        f["packets"] += 1
        f["bytes"] += iplen
        f["frame_bytes"] += len(fr)
        f["tcp_flags"] |= flags
        f["last"] = float(ts)
    return [flows[k] for k in sorted(flows, key=lambda k: tuple(str(x) for x in k))]


def write(pcap_path, truth_path=None, seed=1, extras=False, tail=0):
    frames = build(seed, extras, tail)
    pkts = []
    for ts, fr in frames:
        p = Ether(bytes(fr))  # freeze: checksums/lengths computed once
        p.time = ts
        pkts.append(p)
    wrpcap(pcap_path, pkts)
    truth = ground_truth([(p.time, p) for p in pkts])
    if truth_path:
        with open(truth_path, "w") as fh:
            json.dump(truth, fh, indent=1)
    return truth


def main(argv):
    args, opts, i = [], {"--seed": 1, "--tail": 0}, 1
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]] = int(argv[i + 1])
            i += 2
            continue
        if not argv[i].startswith("--"):
            args.append(argv[i])
        i += 1
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    truth = write(args[0], args[1] if len(args) > 1 else None, opts["--seed"], "--extras" in argv,
                  opts["--tail"])
    print("%s: %d flows, %d packets, %d bytes" % (args[0], len(truth), sum(f["packets"] for f in truth),
                                                   sum(f["bytes"] for f in truth)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
