#!/usr/bin/python3
"""test_kafka_golden.py - flowtally's FlowMessage bytes against `protoc --encode`.

For every capture of the corpus (NetFlow v5/v9, IPFIX, sFlow; captures/,
derived/ and bugs/), flowtally --pcap X runs three times:
  --print                                       JSON records (the values)
  --print --print-format pb --format goflow     delimited FlowMessages, goflow layout
  --print --print-format pb --format goflow2    delimited FlowMessages, goflow2 v2 layout
Each JSON record is written as a text-format FlowMessage (kafkalib.expected:
the field names and units of proto/README.md) and encoded by Google's
protoc (Debian protobuf-compiler) with our proto/*.proto files; flowtally's
message for the same record must be byte for byte what protoc produced.
So the layout is the standard one: field order, varints, packed repeated
fields, omitted defaults, 4/16-byte addresses, seconds vs nanoseconds.

Fields no capture fills (encapsulation, PPP, countries, deep MPLS stacks,
biflow direction...) are covered by hand-written records with every field
set, put through the same encoder by the flow_pb_encode helper
(FT_PB_ENCODE) and compared with protoc the same way.

Env: FLOWTALLY, FT_CORPUS (exit 77 when absent), FT_PROTO_DIR, FT_TEST_DATA.
Exit: 0 passed, 1 failed, 77 skipped (corpus, protoc or kcat missing).
"""
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import kafkalib  # noqa: E402


def run(binary, pcap, extra):
    p = subprocess.run([binary, "--pcap", pcap, "--print", "--log-level", "warn"] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("flowtally %s exited %d: %s" % (" ".join(extra), p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout


# Every --print key set to a value of its own (no zero), in both families.
FULL = [
    {"type": "IPFIX", "time_received_ns": 1700000001999999999, "sequence_num": 4294967295,
     "sampling_rate": 9223372036854775807, "flow_direction": 1, "sampler_address": "2001:db8::53",
     "observation_domain_id": 70, "observation_point_id": 71, "time_flow_start_ns": 1700000000000000001,
     "time_flow_end_ns": 1700000001000000002, "bytes": 1 << 40, "packets": 123456789012,
     "src_addr": "2001:db8::a", "dst_addr": "2001:db8:ffff::b", "etype": 34525, "proto": 17, "src_port": 65535,
     "dst_port": 1, "in_if": 4294967295, "out_if": 2, "src_mac": "02:00:00:00:00:a1",
     "dst_mac": "ff:ff:ff:ff:ff:fe", "src_vlan": 4094, "dst_vlan": 3, "vlan_id": 4095, "ingress_vrf_id": 1610612738,
     "egress_vrf_id": 5, "ip_tos": 255, "forwarding_status": 66, "ip_ttl": 255, "ip_flags": 7, "tcp_flags": 511,
     "icmp_type": 128, "icmp_code": 9, "ipv6_flow_label": 1048575, "fragment_id": 4294967295,
     "fragment_offset": 8191, "bi_flow_direction": 2, "src_as": 4200000000, "dst_as": 64512,
     "next_hop": "2001:db8::1", "bgp_next_hop": "192.0.2.254", "next_hop_as": 3356, "src_net": 48,
     "dst_net": 128, "as_path": [64512, 3356, 174, 4200000000, 1], "has_mpls": True, "mpls_count": 5,
     "mpls_1_ttl": 64, "mpls_1_label": 1048575, "mpls_2_ttl": 63, "mpls_2_label": 16, "mpls_3_ttl": 62,
     "mpls_3_label": 17, "mpls_last_ttl": 1, "mpls_last_label": 3, "has_encap": True,
     "src_addr_encap": "10.1.2.3", "dst_addr_encap": "2001:db8::e", "proto_encap": 6, "etype_encap": 2048,
     "ip_tos_encap": 184, "ip_ttl_encap": 12, "ipv6_flow_label_encap": 13, "fragment_id_encap": 14,
     "fragment_offset_encap": 15, "has_ppp": True, "ppp_address_control": 65283, "src_country": "NL",
     "dst_country": "br"},
    {"type": "SFLOW_5", "time_received_ns": 999999999, "sequence_num": 1, "sampling_rate": 1024,
     "sampler_address": "192.0.2.1", "time_flow_start_ns": 999999999, "time_flow_end_ns": 999999999,
     "bytes": 1518, "packets": 1, "src_addr": "198.51.100.1", "dst_addr": "203.0.113.9", "etype": 2048,
     "proto": 1, "has_mpls": True, "mpls_count": 2, "mpls_1_ttl": 255, "mpls_1_label": 100,
     "mpls_2_ttl": 254, "mpls_2_label": 200, "mpls_last_ttl": 254, "mpls_last_label": 200, "as_path": [65001]},
    {"type": "NETFLOW_V5"},
]


def full_records(errs, nonzero):
    """FULL through flow_pb_encode, against protoc."""
    helper = os.environ.get("FT_PB_ENCODE")
    if not helper or not os.access(helper, os.X_OK):
        errs.append("FT_PB_ENCODE must name the flow_pb_encode helper (run through ctest)")
        return
    # The helper fills a zeroed record: complete each with --print's blanks.
    recs = []
    for r in FULL:
        b = ftlib.blank_record()
        b.update(r)
        recs.append(b)
    lines = "".join(json.dumps(r) + "\n" for r in recs).encode()
    for fmt in ("goflow", "goflow2"):
        p = subprocess.run([helper, fmt], input=lines, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            errs.append("flow_pb_encode %s: %s" % (fmt, p.stderr.decode()))
            continue
        ours = kafkalib.split_delimited(p.stdout)
        want = [kafkalib.expected(r, fmt) for r in recs]
        theirs = kafkalib.encode(want, fmt)
        if len(ours) != len(recs):
            errs.append("%s: %d messages for %d records" % (fmt, len(ours), len(recs)))
            continue
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if a != b:
                errs.append("%s full record %d: ours %s\n      protoc %s\n      %s" % (
                    fmt, i + 1, a.hex(), b.hex(), "; ".join(kafkalib.diff(want[i], kafkalib.decode([a], fmt)[0]))))
            nonzero[fmt].update(want[i])
        # The empty record (type NETFLOW_V5 only) is two bytes: 08 02.
        if ours[-1] != b"\x08\x02":
            errs.append("%s: the record with only type NETFLOW_V5 encodes as %s, want 0802" % (fmt, ours[-1].hex()))


def main():
    binary = os.environ.get("FLOWTALLY")
    corpus = os.environ.get("FT_CORPUS")
    if not corpus or not os.path.isdir(corpus):
        print("SKIP: FT_CORPUS (the shared corpus folder) is absent")
        return ftlib.SKIP
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    import shutil
    if shutil.which("protoc") is None:
        print("SKIP: protoc missing (apt-get install protobuf-compiler)")
        return ftlib.SKIP
    res = ftlib.Results()
    files = sorted(glob.glob(os.path.join(corpus, "*", "*.pcap")))
    nonzero = {"goflow": set(), "goflow2": set()}
    total = {"goflow": 0, "goflow2": 0}
    for pcap in files:
        name = os.path.relpath(pcap, corpus)
        errs = []
        try:
            recs = [json.loads(l) for l in run(binary, pcap, []).decode().splitlines() if l.strip()]
            if not recs:
                continue
            for fmt in ("goflow", "goflow2"):
                stream = run(binary, pcap, ["--print-format", "pb", "--format", fmt])
                ours = kafkalib.split_delimited(stream)
                if len(ours) != len(recs):
                    errs.append("%s: %d messages, %d JSON records" % (fmt, len(ours), len(recs)))
                    continue
                want_fields = [kafkalib.expected(r, fmt) for r in recs]
                theirs = kafkalib.encode(want_fields, fmt)
                for i, (a, b) in enumerate(zip(ours, theirs)):
                    if a != b:
                        got = kafkalib.decode([a], fmt)[0]
                        errs.append("%s record %d: %d bytes, protoc %d; fields: %s" % (
                            fmt, i + 1, len(a), len(b), "; ".join(kafkalib.diff(want_fields[i], got)) or
                            "same values, different bytes: ours %s protoc %s" % (a.hex(), b.hex())))
                        if len(errs) > 10:
                            break
                    for k in want_fields[i]:
                        nonzero[fmt].add(k)
                total[fmt] += len(ours)
        except Exception as e:  # a harness failure fails the file, with the reason
            errs.append("exception: %s" % e)
        res.case(name, errs)
    errs = []
    full_records(errs, nonzero)
    res.case("every field set (flow_pb_encode)", errs)
    for fmt in ("goflow", "goflow2"):
        print("  %s: %d records byte-identical to protoc; fields exercised (%d): %s" % (
            fmt, total[fmt], len(nonzero[fmt]), " ".join(sorted(nonzero[fmt]))))
    if total["goflow"] == 0:
        res.case("corpus", ["no record at all: the corpus looks empty"])
    return res.finish()


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        ftlib.cleanup()
