#!/usr/bin/python3
"""make_traffic.py - build a deterministic pcap of ordinary traffic for the
real-exporter tests (softflowd, pmacctd), and the ground truth of that
traffic per unidirectional 5-tuple.

Usage: /usr/bin/python3 make_traffic.py OUT.pcap [OUT_truth.json] [--seed N]

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

Ground truth: one entry per unidirectional flow (what NetFlow exporters
account), keyed like softflowd and pmacctd key flows: family, src, dst, proto,
src_port, dst_port, where ICMP/ICMPv6 flows have src_port 0 and dst_port
type*256+code (softflowd's convention; pmacctd's is checked in the test).
bytes is the sum of the IP total lengths (IPv4 total length, IPv6 40 +
payload length), packets the count, tcp_flags the OR of the TCP flags, tos the
TOS/traffic class of the first packet, first/last the capture times (s).

Runs with Debian's /usr/bin/python3 and python3-scapy only.
"""
import json
import random
import sys

from scapy.all import (  # noqa: F401  (scapy re-exports)
    DNS, DNSQR, Dot1Q, Ether, ICMP, ICMPv6EchoReply, ICMPv6EchoRequest, IP,
    IPv6, Raw, TCP, UDP, wrpcap)

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

    def eth(self, to_server, vlan=None):
        src, dst = (CLIENT_MAC, ROUTER_MAC) if to_server else (ROUTER_MAC, CLIENT_MAC)
        e = Ether(src=src, dst=dst)
        return e / Dot1Q(vlan=vlan) if vlan is not None else e

    def ip(self, src, dst, tos, ttl):
        if ":" in src:
            return IPv6(src=src, dst=dst, tc=tos, hlim=ttl)
        return IP(src=src, dst=dst, tos=tos, ttl=ttl, id=self.rng.randrange(1, 65536))

    def tcp_conversation(self, t, cli, srv, sport, dport, exchanges, tos=0, close="fin", rtt=0.02):
        """A TCP connection from cli:sport to srv:dport. exchanges is a list of
        (request_bytes, response_bytes); close 'fin' or 'rst'. Returns the end time."""
        rng = self.rng
        cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)

        def c2s(flags, payload=b"", dt=0.0):
            nonlocal t, cseq
            t += dt
            self.add(t, self.eth(True) / self.ip(cli, srv, tos, 64) /
                     TCP(sport=sport, dport=dport, flags=flags, seq=cseq, ack=sseq if "A" in flags else 0,
                         window=64240) / (Raw(payload) if payload else b""))
            cseq = (cseq + len(payload) + (1 if ("S" in flags or "F" in flags) else 0)) & 0xFFFFFFFF

        def s2c(flags, payload=b"", dt=0.0):
            nonlocal t, sseq
            t += dt
            self.add(t, self.eth(False) / self.ip(srv, cli, tos, 57) /
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

    def dns(self, t, cli, srv, sport, qname, tos=0):
        q = DNS(id=self.rng.randrange(65536), rd=1, qd=DNSQR(qname=qname))
        self.add(t, self.eth(True) / self.ip(cli, srv, tos, 64) / UDP(sport=sport, dport=53) / q)
        r = DNS(id=q.id, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname))
        pad = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(16, 200)))
        self.add(t + self.rng.uniform(0.005, 0.04),
                 self.eth(False) / self.ip(srv, cli, tos, 58) / UDP(sport=53, dport=sport) / r / Raw(pad))

    def ping(self, t, cli, srv, count, size=56, interval=1.0):
        ident = self.rng.randrange(65536)
        for i in range(count):
            data = bytes((j * 7 + i) % 256 for j in range(size))
            rtt = self.rng.uniform(0.001, 0.03)
            if ":" in cli:
                self.add(t, self.eth(True) / self.ip(cli, srv, 0, 64) / ICMPv6EchoRequest(id=ident, seq=i, data=data))
                self.add(t + rtt, self.eth(False) / self.ip(srv, cli, 0, 60) / ICMPv6EchoReply(id=ident, seq=i, data=data))
            else:
                self.add(t, self.eth(True) / self.ip(cli, srv, 0, 64) / ICMP(type=8, id=ident, seq=i) / Raw(data))
                self.add(t + rtt, self.eth(False) / self.ip(srv, cli, 0, 60) / ICMP(type=0, id=ident, seq=i) / Raw(data))
            t += interval


def build(seed=1):
    """Returns the list of (time, frame) sorted by time."""
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
    tr.frames.sort(key=lambda x: x[0])
    return tr.frames


def ground_truth(frames):
    """One dict per unidirectional flow, sorted by key (see module comment)."""
    flows = {}
    for ts, fr in frames:
        if IP in fr:
            ip = fr[IP]
            fam, iplen, tos = 4, ip.len, ip.tos
            proto = ip.proto
        else:
            ip = fr[IPv6]
            fam, iplen, tos = 6, 40 + ip.plen, ip.tc
            proto = ip.nh
        sport = dport = 0
        flags = 0
        if proto == 6:
            sport, dport, flags = ip[TCP].sport, ip[TCP].dport, int(ip[TCP].flags)
        elif proto == 17:
            sport, dport = ip[UDP].sport, ip[UDP].dport
        elif proto == 1:
            icmp = ip[ICMP]
            dport = icmp.type * 256 + icmp.code
        elif proto == 58:
            l4 = ip.payload
            dport = l4.type * 256 + l4.code
        key = (fam, ip.src, ip.dst, proto, sport, dport)
        f = flows.get(key)
        if f is None:
            f = flows[key] = {"family": fam, "src": ip.src, "dst": ip.dst, "proto": proto,
                              "src_port": sport, "dst_port": dport, "packets": 0, "bytes": 0,
                              "tcp_flags": 0, "tos": tos, "first": float(ts), "last": float(ts),
                              "vlan": fr[Dot1Q].vlan if Dot1Q in fr else 0}
        f["packets"] += 1
        f["bytes"] += iplen
        f["tcp_flags"] |= flags
        f["last"] = float(ts)
    return [flows[k] for k in sorted(flows, key=lambda k: tuple(str(x) for x in k))]


def write(pcap_path, truth_path=None, seed=1):
    frames = build(seed)
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
    args = [a for a in argv[1:] if not a.startswith("--")]
    seed = 1
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
        args = [a for a in args if a != str(seed)]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    truth = write(args[0], args[1] if len(args) > 1 else None, seed)
    print("%s: %d flows, %d packets, %d bytes" % (args[0], len(truth), sum(f["packets"] for f in truth),
                                                   sum(f["bytes"] for f in truth)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
