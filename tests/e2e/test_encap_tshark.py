#!/usr/bin/python3
"""Tunnels in sampled headers: flowtally's packet-header parser against tshark.

Frames with tunnels (GRE v0 with and without checksum/key/sequence, enhanced GRE of
PPTP carrying PPP with and without the RFC 1661 §6.5/§6.6 compressions, transparent
Ethernet bridging with inner VLAN tags, IPv4 in IP, 6in4, IPv6 in IPv6, IPv4 in IPv6,
SCTP, nesting up to and past the tunnel limit, MPLS over GRE, an inner later fragment,
payloads cut by the sampling snap length) are built with scapy from fixed-seed random
addresses, ports, TTLs, TOS and IDs, and each is wrapped in an sFlow v5 datagram (one
flow sample, one sampled-header record, header protocol 1 = Ethernet; sFlow v5 spec
§5.4/§5.5) inside Ethernet/IPv4/UDP to port 6343, written to a pcap.

The oracle is tshark's decode of that pcap (`-T fields -E occurrence=a`, with
frame.protocols giving the order of the layers). The expected record is derived from
tshark's layers by the encapsulation contract of src/decode/pkt_header.h:
  - main fields from the first IP header behind the sFlow record (outer, wire);
  - has_encap + *_encap from the second one (first tunnelled);
  - ports/flags/ICMP from the innermost transport header reached;
  - the walk ends at a GRE payload that is not IP/PPP/Ethernet (MPLS over GRE), and
    after FT_PKT_MAX_TUNNELS (4) tunnels.
flowtally reads the same pcap (`--pcap X --print`); records are matched by datagram
sequence number and compared field by field.

Then the same comparison runs on ../shared/corpus/derived/*.pcap: real GRE, 6in4, MPLS,
EoMPLS and VLAN frames in sFlow envelopes (values listed in corpus/README.md, section
"Derived sFlow envelopes").

Env: FLOWTALLY (binary), FT_CORPUS (corpus folder; that part is skipped when absent).
Exit 77 when tshark or scapy is missing. Last line: "N passed, M failed" (frames).
"""
import glob
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
MAX_TUNNELS = 4  # FT_PKT_MAX_TUNNELS
SNAP = 256       # bytes of each frame the "agent" keeps

try:
    from scapy.all import Ether, IP, IPv6, UDP, TCP, ICMP, Raw, Dot1Q, Dot1AD, wrpcap
    from scapy.layers.inet6 import ICMPv6EchoRequest
    from scapy.layers.sctp import SCTP
    from scapy.layers.l2 import GRE, GRE_PPTP
    from scapy.layers.ppp import PPP, HDLC
    from scapy.contrib.mpls import MPLS
except ImportError as e:
    print("SKIP: python3 scapy missing (apt-get install python3-scapy): %s" % e)
    sys.exit(SKIP)

if shutil.which("tshark") is None:
    print("SKIP: tshark missing (apt-get install tshark)")
    sys.exit(SKIP)

FLOWTALLY = os.environ.get("FLOWTALLY", "build/flowtally")

# ---------------------------------------------------------------------------
# Frames

rnd = random.Random(20240917)


def a4():
    return "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))


def a6():
    return "2001:db8:%x::%x" % (rnd.randrange(1, 0xffff), rnd.randrange(1, 0xffff))


def port():
    # Clear of ports tshark would decode as a tunnel or as sFlow (4789, 6081, 2152, 1701, 6343).
    return rnd.randrange(20000, 30000)


def ip4(**kw):
    d = dict(src=a4(), dst=a4(), ttl=rnd.randrange(1, 256), tos=rnd.randrange(256),
             id=rnd.randrange(65536), flags=rnd.choice([0, 2]))
    d.update(kw)
    return IP(**d)


def ip6(**kw):
    d = dict(src=a6(), dst=a6(), hlim=rnd.randrange(1, 256), tc=rnd.randrange(256),
             fl=rnd.randrange(1 << 20))
    d.update(kw)
    return IPv6(**d)


def eth():
    return Ether(src="02:00:5e:%02x:%02x:%02x" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)),
                 dst="02:00:5e:00:53:%02x" % rnd.randrange(256))


def tcp():
    return TCP(sport=port(), dport=port(), flags=rnd.choice(["S", "SA", "A", "PA", "FA", "R"]))


def udp():
    return UDP(sport=port(), dport=port())


def sctp():
    return SCTP(sport=port(), dport=port(), tag=rnd.randrange(1 << 32))


def pay(n=None):
    return Raw(b"\x00" * (rnd.randrange(0, 40) if n is None else n))


def pptp(**kw):
    return GRE_PPTP(call_id=rnd.randrange(65536), sequence_number=rnd.randrange(1 << 32),
                    ack_number=rnd.randrange(1 << 32), **kw)


def nest(depth, inner):
    """IPv4 outer, `depth` tunnels alternating GRE (even levels) and IP in IP (odd)."""
    p = None
    for level in range(depth):
        hdr = ip4() / GRE() if level % 2 == 0 else ip4()
        p = hdr if p is None else p / hdr
    return p / ip4() / inner


def frames():
    out = []
    for _ in range(3):
        out += [
            ("gre_v4_tcp", eth() / ip4() / GRE() / ip4() / tcp() / pay()),
            ("gre_cks_key_seq_v6_udp", eth() / ip4() / GRE(chksum_present=1, key_present=1, seqnum_present=1,
                                                           key=rnd.randrange(1 << 32),
                                                           sequence_number=rnd.randrange(1 << 32))
             / ip6() / udp() / pay()),
            ("gre_key_v6outer_v4_icmp", eth() / ip6() / GRE(key_present=1, key=7) / ip4()
             / ICMP(type=8, code=0) / pay()),
            ("gre_v6_v6_sctp", eth() / ip6() / GRE() / ip6() / sctp()),
            ("pptp_full_udp", eth() / ip4() / pptp(seqnum_present=1, acknum_present=1) / HDLC() / PPP(proto=0x21)
             / ip4() / udp() / pay()),
            ("pptp_acfc_pfc_tcp", eth() / ip4() / pptp(seqnum_present=0) / Raw(b"\x21") / ip4() / tcp()),
            ("pptp_acfc_ack_v6_icmp6", eth() / ip6() / pptp(seqnum_present=0, acknum_present=1)
             / Raw(b"\x00\x57") / ip6() / ICMPv6EchoRequest(id=rnd.randrange(65536))),
            ("pptp_pfc_udp", eth() / ip4() / pptp(seqnum_present=1) / Raw(b"\xff\x03\x21") / ip4() / udp()),
            ("gre_teb_vlan_udp", eth() / Dot1Q(vlan=rnd.randrange(1, 4095)) / ip4()
             / GRE(proto=0x6558, key_present=1, key=rnd.randrange(1 << 24) << 8)
             / eth() / Dot1Q(vlan=rnd.randrange(1, 4095)) / ip4() / udp() / pay()),
            ("gre_teb_v6", eth() / ip4() / GRE(proto=0x6558) / eth() / ip6() / tcp()),
            ("ipip_sctp", eth() / ip4() / ip4() / sctp() / pay(4)),
            ("6in4_tcp", eth() / ip4() / ip6() / tcp() / pay()),
            ("6in6_udp", eth() / ip6() / ip6() / udp() / pay()),
            ("4in6_tcp", eth() / ip6() / ip4() / tcp()),
            ("qinq_6in4_udp", eth() / Dot1AD(vlan=rnd.randrange(1, 4095)) / Dot1Q(vlan=rnd.randrange(1, 4095))
             / ip4() / ip6() / udp()),
            ("sctp_v4", eth() / ip4() / sctp() / pay(8)),
            ("sctp_v6", eth() / ip6() / sctp()),
            ("6in4_gre_pptp_udp", eth() / ip6() / ip4() / GRE_PPTP(seqnum_present=1, acknum_present=1)
             / HDLC() / PPP(proto=0x21) / ip4() / udp()),
            ("mpls_over_gre", eth() / ip4() / GRE(proto=0x8847) / MPLS(label=rnd.randrange(16, 1 << 20), s=1)
             / ip4() / udp()),
            ("mpls_ip_gre_v6", eth() / MPLS(label=rnd.randrange(16, 1 << 20), s=1) / ip4() / GRE() / ip6()
             / tcp()),
            ("gre_inner_later_fragment", eth() / ip4() / GRE() / ip4(frag=rnd.randrange(1, 8000), flags=0, proto=6)
             / pay(24)),
            ("gre_snap_cut_tcp", eth() / ip4() / GRE() / ip4() / tcp() / pay(600)),
        ]
    for depth in range(2, MAX_TUNNELS + 3):
        out.append(("nest_%d_udp" % depth, eth() / nest(depth, udp() / pay(4))))
    return out


# ---------------------------------------------------------------------------
# sFlow v5 envelope (sFlow.org "sFlow Version 5", XDR, big-endian)

def sflow_datagram(seq, frame):
    hdr = frame[:SNAP]
    padded = hdr + b"\x00" * ((-len(hdr)) % 4)
    # §5.5 sampled_header: header_protocol 1 (ETHERNET-ISO88023), frame_length
    # (FCS included), stripped (the 4 FCS bytes), header length, header.
    rec_body = struct.pack("!IIII", 1, len(frame) + 4, 4, len(hdr)) + padded
    record = struct.pack("!II", 1, len(rec_body)) + rec_body          # enterprise 0, format 1
    # §5.4 flow_sample: sequence, source id (class 0, index 7), rate, pool, drops,
    # input 7, output 8, record count.
    sample_body = struct.pack("!IIIIIIII", seq, 7, 1000, 1000 * seq, 0, 7, 8, 1) + record
    sample = struct.pack("!II", 1, len(sample_body)) + sample_body   # enterprise 0, format 1
    # §5.3 datagram: version 5, agent IPv4 192.0.2.200, sub-agent 0, sequence, uptime, 1 sample.
    return struct.pack("!II4sIIII", 5, 1, bytes([192, 0, 2, 200]), 0, seq, 100000 + seq, 1) + sample


def envelope(seq, frame):
    return (Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src="192.0.2.200", dst="192.0.2.10")
            / UDP(sport=50000, dport=6343) / Raw(sflow_datagram(seq, frame)))


# ---------------------------------------------------------------------------
# tshark -> expected record (pkt_header.h contract)

PROTO_FIELDS = {
    "eth": ["eth.src", "eth.dst"],
    "vlan": ["vlan.id"],
    "ieee8021ad": ["ieee8021ad.id"],
    "ip": ["ip.src", "ip.dst", "ip.proto", "ip.ttl", "ip.dsfield", "ip.id", "ip.frag_offset"],
    "ipv6": ["ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hlim", "ipv6.tclass", "ipv6.flow"],
    "tcp": ["tcp.srcport", "tcp.dstport", "tcp.flags"],
    "udp": ["udp.srcport", "udp.dstport"],
    "sctp": ["sctp.srcport", "sctp.dstport"],
    "icmp": ["icmp.type", "icmp.code"],
    "icmpv6": ["icmpv6.type", "icmpv6.code"],
    "ppp": ["ppp.protocol"],
}
EXTRA_FIELDS = ["frame.protocols", "ppp.address", "mpls.label", "mpls.bottom", "sflow_245.sequence_number", "sflow_245.header.frame_length"]
FIELDS = EXTRA_FIELDS + [f for v in PROTO_FIELDS.values() for f in v]


def tshark_rows(pcap):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                          "-E", "separator=\t"] + sum([["-e", f] for f in FIELDS], []),
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        rows.append({f: (c.split(",") if c else []) for f, c in zip(FIELDS, cols)})
    return rows


def num(s):
    return int(s, 0)


def expect(row):
    """The record the contract derives from tshark's layers, or None when tshark saw no sFlow."""
    protos = row["frame.protocols"][0].split(":") if row["frame.protocols"] else []
    if "sflow" not in protos:
        return None, "tshark found no sFlow"
    seen = {}   # protocol -> occurrences consumed so far

    def take(p):
        if p == "mpls":
            # One "mpls" in frame.protocols per label stack; one mpls.label per entry.
            k = seen.get("mpls.label", 0)
            labels = []
            while k < len(row["mpls.label"]):
                labels.append(num(row["mpls.label"][k]))
                k += 1
                if row["mpls.bottom"][k - 1] == "1":
                    break
            seen["mpls.label"] = k
            return labels
        k = seen.get(p, 0)
        seen[p] = k + 1
        return {f: (row[f][k] if k < len(row[f]) else None) for f in PROTO_FIELDS.get(p, [])}

    start = protos.index("sflow")
    for p in protos[:start + 1]:
        take(p)   # the envelope's own eth/ip/udp
    rest = protos[start + 1:]

    e = {"has_encap": False, "has_ppp": False, "ppp_address_control": 0, "vlan_id": 0,
         "src_port": 0, "dst_port": 0, "tcp_flags": 0, "icmp_type": 0, "icmp_code": 0,
         "has_mpls": False, "mpls_count": 0}
    ips = []
    first_eth = True
    stopped = False
    for idx, p in enumerate(rest):
        nxt = rest[idx + 1] if idx + 1 < len(rest) else None
        v = take(p)
        if p == "eth" and first_eth:
            first_eth = False
            e["src_mac"], e["dst_mac"] = v["eth.src"], v["eth.dst"]
        elif p in ("vlan", "ieee8021ad") and not ips and e["vlan_id"] == 0:
            e["vlan_id"] = num(v[p + ".id"])   # the outermost tag (pkt_header.h)
        elif p == "mpls" and not ips:
            e["has_mpls"] = True
            e["mpls_count"] = len(v)
            e["mpls_1_label"] = v[0]
            e["mpls_last_label"] = v[-1]
            if nxt not in ("ip", "ipv6"):
                stopped = True   # RFC 4385 control word / pseudowire: not followed
                break
        elif p in ("ip", "ipv6"):
            if len(ips) == MAX_TUNNELS + 1:
                stopped = True   # one tunnel too many: the walk ends at its header
                break
            ips.append((p, v))
        elif p == "gre":
            if nxt not in ("ip", "ipv6", "eth", "ppp"):
                stopped = True   # MPLS over GRE, ERSPAN...: not followed
                break
        elif p == "ppp":
            if not e["has_ppp"]:
                e["has_ppp"] = True
                k = seen["ppp"] - 1
                e["ppp_address_control"] = 0xff03 if k < len(row["ppp.address"]) else 0
        elif p in ("tcp", "udp", "sctp", "icmp", "icmpv6"):
            if p == "tcp":
                e["src_port"], e["dst_port"] = num(v["tcp.srcport"]), num(v["tcp.dstport"])
                e["tcp_flags"] = num(v["tcp.flags"])
            elif p in ("udp", "sctp"):
                e["src_port"], e["dst_port"] = num(v[p + ".srcport"]), num(v[p + ".dstport"])
            else:
                e["icmp_type"], e["icmp_code"] = num(v[p + ".type"]), num(v[p + ".code"])
            break   # the innermost transport header: nothing behind it is a header of ours
    _ = stopped

    def ip_fields(p, v, sfx):
        d = {}
        if p == "ip":
            d["src_addr"], d["dst_addr"] = v["ip.src"], v["ip.dst"]
            d["proto"], d["ip_ttl"], d["ip_tos"] = num(v["ip.proto"]), num(v["ip.ttl"]), num(v["ip.dsfield"])
            d["fragment_id"], d["fragment_offset"] = num(v["ip.id"]), num(v["ip.frag_offset"])
            d["ipv6_flow_label"], d["etype"] = 0, 0x0800
        else:
            d["src_addr"], d["dst_addr"] = v["ipv6.src"], v["ipv6.dst"]
            d["proto"], d["ip_ttl"], d["ip_tos"] = num(v["ipv6.nxt"]), num(v["ipv6.hlim"]), num(v["ipv6.tclass"])
            d["fragment_id"], d["fragment_offset"] = 0, 0
            d["ipv6_flow_label"], d["etype"] = num(v["ipv6.flow"]), 0x86dd
        return {k + sfx: x for k, x in d.items()}

    if ips:
        e.update(ip_fields(*ips[0], ""))
    if len(ips) >= 2:
        e["has_encap"] = True
        e.update(ip_fields(*ips[1], "_encap"))
    e["sequence_num"] = num(row["sflow_245.sequence_number"][0])
    e["bytes"] = num(row["sflow_245.header.frame_length"][0])
    return e, None


def norm(k, v):
    if k.endswith("_mac") and isinstance(v, str):
        return v.lower()
    return v


def compare(name, exp, got):
    errs = []
    for k, v in sorted(exp.items()):
        if k not in got:
            errs.append("%s: field %s missing from --print" % (name, k))
        elif norm(k, got[k]) != norm(k, v):
            errs.append("%s: %s = %r, tshark says %r" % (name, k, got[k], v))
    # Without a tunnel the encap fields must stay empty.
    if not exp.get("has_encap"):
        for k in ("src_addr_encap", "proto_encap", "etype_encap"):
            if got.get(k) not in ("", 0, None):
                errs.append("%s: %s = %r but tshark shows no tunnelled IP header" % (name, k, got.get(k)))
    return errs


def run_flowtally(pcap):
    p = subprocess.run([FLOWTALLY, "--pcap", pcap, "--print"], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise SystemExit("flowtally failed (%d): %s" % (p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def check_pcap(label, pcap, names):
    """Compares every sFlow record of pcap; names: sequence number -> frame name."""
    rows = tshark_rows(pcap)
    recs = run_flowtally(pcap)
    by_seq = {}
    for r in recs:
        by_seq.setdefault(r["sequence_num"], []).append(r)
    passed = failed = 0
    for i, row in enumerate(rows):
        exp, why = expect(row)
        if exp is None:
            print("FAIL %s frame %d: %s" % (label, i + 1, why))
            failed += 1
            continue
        seq = exp["sequence_num"]
        name = "%s #%d %s" % (label, seq, names.get(seq, ""))
        got = by_seq.get(seq, [])
        if len(got) != 1:
            print("FAIL %s: %d records from flowtally, want 1" % (name, len(got)))
            failed += 1
            continue
        errs = compare(name, exp, got[0])
        if errs:
            failed += 1
            for err in errs:
                print("FAIL " + err)
        else:
            passed += 1
            if os.environ.get("VERBOSE"):
                print("ok   %s" % name)
    if len(recs) != len(rows):
        print("FAIL %s: flowtally printed %d records for %d sFlow datagrams" % (label, len(recs), len(rows)))
        failed += 1
    return passed, failed


def main():
    work = tempfile.mkdtemp(prefix="ft_encap_")
    try:
        fl = frames()
        names = {}
        pkts = []
        for i, (name, f) in enumerate(fl):
            seq = i + 1
            names[seq] = name
            pkts.append(envelope(seq, bytes(f)))
        pcap = os.path.join(work, "encap_sflow.pcap")
        wrpcap(pcap, pkts)
        passed, failed = check_pcap("generated", pcap, names)

        corpus = os.environ.get("FT_CORPUS", "")
        derived = sorted(glob.glob(os.path.join(corpus, "derived", "*.pcap"))) if corpus else []
        if not derived:
            print("note: %s/derived absent: real-frame part skipped" % (corpus or "FT_CORPUS"))
        for d in derived:
            p, f = check_pcap(os.path.basename(d), d, {})
            passed += p
            failed += f
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
