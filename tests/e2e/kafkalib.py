"""kafkalib.py - shared harness of the Kafka tests (test_kafka*.py).

  MockCluster   tests/kafka_mock.c (librdkafka's mock cluster on loopback):
                bootstrap address, topics, broker down/up.
  consume()     every message of a topic with Debian's kcat: partition,
                offset, key and payload bytes.
  decode()      FlowMessages (or Rollups) -> fields, by `protoc --decode` (Debian
                protobuf-compiler) with our proto/ files: the bytes are
                wrapped as one batch message (tests/data/kafka_batch.proto)
                so one protoc run decodes them all.
  encode()      the reverse, `protoc --encode`, for the golden byte test.
  expected()    the FlowMessage fields a --print JSON record must become in
                each layout, written from proto/README.md (field names,
                seconds vs nanoseconds, 4/16-byte addresses, goflow2's MPLS
                lists), as protoc's text format shows them.

Only the standard library; runs with Debian's /usr/bin/python3.
"""
import codecs
import collections
import ipaddress
import os
import re
import shutil
import subprocess
import threading

import ftlib

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.environ.get("FT_PROTO_DIR") or os.path.join(HERE, "..", "..", "proto")
DATA_DIR = os.environ.get("FT_TEST_DATA") or os.path.join(HERE, "..", "data")
BATCH = {"goflow": "fttest.GoflowBatch", "goflow2": "fttest.Goflow2Batch", "rollup": "fttest.RollupBatch"}
MESSAGE = {"goflow": "flowprotob.FlowMessage", "goflow2": "flowpb.FlowMessage", "rollup": "flowtally.Rollup"}

ftlib.TOOLS.update({"kcat": "kcat", "protoc": "protobuf-compiler"})


def missing():
    """What the Kafka tests need and is absent, as skip reasons."""
    out = []
    for t in ("kcat", "protoc"):
        if shutil.which(t) is None:
            out.append("%s (apt-get install %s)" % (t, ftlib.TOOLS[t]))
    mock = os.environ.get("FT_KAFKA_MOCK")
    if not mock or not os.access(mock, os.X_OK):
        out.append("FT_KAFKA_MOCK (the kafka_mock test helper; run through ctest)")
    return out


# --------------------------------------------------------------------------
# The mock cluster

class MockCluster:
    """kafka_mock on loopback; cmd() sends one command and waits for its reply."""

    def __init__(self, brokers=1):
        self.p = ftlib.start([os.environ["FT_KAFKA_MOCK"], str(brokers)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.p.stdout.readline().decode()
        m = re.match(r"bootstrap (\S+)", line)
        if not m:
            raise RuntimeError("kafka_mock did not start: %r %s" % (line, self.p.stderr.read(2000)))
        self.bootstrap = m.group(1)
        self.lock = threading.Lock()

    def cmd(self, text):
        with self.lock:
            self.p.stdin.write((text + "\n").encode())
            self.p.stdin.flush()
            reply = self.p.stdout.readline().decode().strip()
        if not reply.startswith("ok"):
            raise RuntimeError("kafka_mock %r: %r" % (text, reply))
        return reply

    def topic(self, name, partitions):
        return self.cmd("topic %s %d" % (name, partitions))

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                ftlib.stop(self.p)


Message = collections.namedtuple("Message", "partition offset key value")


def consume(bootstrap, topic, timeout=60):
    """Every message of `topic` from the beginning of each partition, as
    Message tuples (key None when the message has none)."""
    cmd = ["kcat", "-C", "-q", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
           "-f", "%p %o %K %S\n%k%s"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("kcat failed (%d): %s" % (p.returncode, p.stderr.decode()[:2000]))
    out, i, msgs = p.stdout, 0, []
    while i < len(out):
        nl = out.index(b"\n", i)
        part, off, klen, vlen = (int(x) for x in out[i:nl].split())
        i = nl + 1
        key = None
        if klen >= 0:
            key, i = out[i:i + klen], i + klen
        value, i = out[i:i + max(vlen, 0)], i + max(vlen, 0)
        msgs.append(Message(part, off, key, value))
    return msgs


# --------------------------------------------------------------------------
# protoc: text format <-> bytes

def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(b, i=0):
    """(value, next index) of the base-128 varint at b[i:]."""
    v = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise ValueError("bad varint")
        v |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not b[i - 1] & 0x80:
            return v, i


def split_delimited(b):
    """A stream of varint-length-prefixed messages -> list of messages."""
    out, i = [], 0
    while i < len(b):
        n, i = read_varint(b, i)
        if i + n > len(b):
            raise ValueError("a delimited message runs past the end")
        out.append(b[i:i + n])
        i += n
    return out


def split_batch(value):
    """One --kafka-batch Kafka message -> its FlowMessages. The layout is the
    protobuf "delimited" stream (each message after its length as a base-128
    varint, protobuf.dev encoding spec), read here byte by byte. Errors: an
    empty Kafka message, a length running past the end, a zero length (every
    record has a non-zero Type, so none encodes to nothing)."""
    out, i = [], 0
    if not value:
        raise ValueError("empty Kafka message")
    while i < len(value):
        n, j = read_varint(value, i)
        if j + n > len(value):
            raise ValueError("record %d: length %d runs past the message's end (%d bytes)" % (len(out), n, len(value)))
        if n == 0:
            raise ValueError("record %d: zero length" % len(out))
        out.append(value[j:j + n])
        i = j + n
    return out


def _protoc(args, data, timeout=120):
    cmd = ["protoc", "-I", PROTO_DIR, "-I", DATA_DIR] + args + ["kafka_batch.proto"]
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.decode()[:2000]))
    return p.stdout


def decode(messages, fmt):
    """protoc --decode of each FlowMessage (bytes, no prefix) -> list of
    {field: value or [values]} as protoc's text format shows them."""
    batch = b"".join(b"\x0a" + varint(len(m)) + m for m in messages)  # field 1, wire type 2
    text = _protoc(["--decode=" + BATCH[fmt]], batch).decode("ascii")
    recs = parse_text(text)
    if len(recs) != len(messages):
        raise RuntimeError("protoc decoded %d messages of %d" % (len(recs), len(messages)))
    return recs


def encode(records, fmt):
    """protoc --encode of text-format messages (dicts as expected() makes
    them) -> list of FlowMessage bytes."""
    text = "".join("m {\n%s}\n" % render(r) for r in records)
    out = _protoc(["--encode=" + BATCH[fmt]], text.encode("ascii"))
    msgs, i = [], 0
    while i < len(out):
        if out[i] != 0x0A:
            raise RuntimeError("unexpected tag %#x in protoc's batch" % out[i])
        n, i = read_varint(out, i + 1)
        msgs.append(out[i:i + n])
        i += n
    return msgs


def _escape(b):
    return "".join("\\%03o" % x for x in b)


def render(rec):
    lines = []
    for k, v in rec.items():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, bytes):
                lines.append('  %s: "%s"\n' % (k, _escape(x)))
            elif isinstance(x, bool):
                lines.append("  %s: %s\n" % (k, "true" if x else "false"))
            elif isinstance(x, str) and k in ("Type", "type"):
                lines.append("  %s: %s\n" % (k, x))
            elif isinstance(x, str):
                lines.append('  %s: "%s"\n' % (k, x))
            else:
                lines.append("  %s: %d\n" % (k, x))
    return "".join(lines)


_LINE = re.compile(r'^\s*(\w+)(?::\s*(.*?))?\s*(\{)?$')


def parse_text(text):
    """protoc's text output of a batch (m { ... } m { ... }) -> list of dicts;
    a field seen more than once becomes a list."""
    recs, cur = [], None
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s == "m {":
            cur = {}
            continue
        if s == "}":
            recs.append(cur)
            cur = None
            continue
        name, _, value = s.partition(": ")
        if value.startswith('"'):
            v = codecs.escape_decode(value[1:-1].encode("latin-1"))[0]
        elif value in ("true", "false"):
            v = value == "true"
        elif re.match(r"^-?\d+$", value):
            v = int(value)
        else:
            v = value  # enum name
        if name in cur:
            cur[name] = (cur[name] if isinstance(cur[name], list) else [cur[name]]) + [v]
        else:
            cur[name] = v
    return recs


# --------------------------------------------------------------------------
# --print JSON record -> FlowMessage fields

# (JSON key, goflow name, goflow2 name, kind). Kinds: u = unsigned integer,
# a = address (4/16 bytes), mac, b = bool, t = FlowType, c = country string.
# Times, MPLS, as_path and ip_flags are handled in expected().
FIELDS = [
    ("type", "Type", "type", "t"),
    ("sampling_rate", "SamplingRate", "sampling_rate", "u"),
    ("sequence_num", "SequenceNum", "sequence_num", "u"),
    ("src_addr", "SrcAddr", "src_addr", "a"),
    ("dst_addr", "DstAddr", "dst_addr", "a"),
    ("bytes", "Bytes", "bytes", "u"),
    ("packets", "Packets", "packets", "u"),
    ("sampler_address", "SamplerAddress", "sampler_address", "a"),
    ("next_hop", "NextHop", "next_hop", "a"),
    ("next_hop_as", "NextHopAS", "next_hop_as", "u"),
    ("src_as", "SrcAS", "src_as", "u"),
    ("dst_as", "DstAS", "dst_as", "u"),
    ("src_net", "SrcNet", "src_net", "u"),
    ("dst_net", "DstNet", "dst_net", "u"),
    ("in_if", "InIf", "in_if", "u"),
    ("out_if", "OutIf", "out_if", "u"),
    ("proto", "Proto", "proto", "u"),
    ("src_port", "SrcPort", "src_port", "u"),
    ("dst_port", "DstPort", "dst_port", "u"),
    ("ip_tos", "IPTos", "ip_tos", "u"),
    ("forwarding_status", "ForwardingStatus", "forwarding_status", "u"),
    ("ip_ttl", "IPTTL", "ip_ttl", "u"),
    ("tcp_flags", "TCPFlags", "tcp_flags", "u"),
    ("src_mac", "SrcMac", "src_mac", "mac"),
    ("dst_mac", "DstMac", "dst_mac", "mac"),
    ("vlan_id", "VlanId", "vlan_id", "u"),
    ("etype", "Etype", "etype", "u"),
    ("icmp_type", "IcmpType", "icmp_type", "u"),
    ("icmp_code", "IcmpCode", "icmp_code", "u"),
    ("src_vlan", "SrcVlan", "src_vlan", "u"),
    ("dst_vlan", "DstVlan", "dst_vlan", "u"),
    ("fragment_id", "FragmentId", "fragment_id", "u"),
    ("fragment_offset", "FragmentOffset", "fragment_offset", "u"),
    ("ipv6_flow_label", "IPv6FlowLabel", "ipv6_flow_label", "u"),
    ("ip_flags", "ip_flags", "ip_flags", "u"),
    ("ingress_vrf_id", "IngressVrfID", "ingress_vrf_id", "u"),
    ("egress_vrf_id", "EgressVrfID", "egress_vrf_id", "u"),
    ("bi_flow_direction", "BiFlowDirection", "bi_flow_direction", "u"),
    ("flow_direction", "FlowDirection", "flow_direction", "u"),
    ("has_encap", "HasEncap", "has_encap", "b"),
    ("src_addr_encap", "SrcAddrEncap", "src_addr_encap", "a"),
    ("dst_addr_encap", "DstAddrEncap", "dst_addr_encap", "a"),
    ("proto_encap", "ProtoEncap", "proto_encap", "u"),
    ("etype_encap", "EtypeEncap", "etype_encap", "u"),
    ("ip_tos_encap", "IPTosEncap", "ip_tos_encap", "u"),
    ("ip_ttl_encap", "IPTTLEncap", "ip_ttl_encap", "u"),
    ("ipv6_flow_label_encap", "IPv6FlowLabelEncap", "ipv6_flow_label_encap", "u"),
    ("fragment_id_encap", "FragmentIdEncap", "fragment_id_encap", "u"),
    ("fragment_offset_encap", "FragmentOffsetEncap", "fragment_offset_encap", "u"),
    ("has_ppp", "HasPPP", "has_ppp", "b"),
    ("ppp_address_control", "PPPAddressControl", "ppp_address_control", "u"),
    ("observation_domain_id", "observation_domain_id", "observation_domain_id", "u"),
    ("observation_point_id", "observation_point_id", "observation_point_id", "u"),
    ("bgp_next_hop", "bgp_next_hop", "bgp_next_hop", "a"),
    ("time_received_ns", "time_received_ns", "time_received_ns", "u"),
    ("time_flow_start_ns", "time_flow_start_ns", "time_flow_start_ns", "u"),
    ("time_flow_end_ns", "time_flow_end_ns", "time_flow_end_ns", "u"),
    ("src_country", "src_country", "src_country", "c"),
    ("dst_country", "dst_country", "dst_country", "c"),
]

# goflow-only fields (53-62 and the seconds 2, 5, 38).
GOFLOW_MPLS = [("has_mpls", "HasMPLS", "b"), ("mpls_count", "MPLSCount", "u"),
               ("mpls_1_ttl", "MPLS1TTL", "u"), ("mpls_1_label", "MPLS1Label", "u"),
               ("mpls_2_ttl", "MPLS2TTL", "u"), ("mpls_2_label", "MPLS2Label", "u"),
               ("mpls_3_ttl", "MPLS3TTL", "u"), ("mpls_3_label", "MPLS3Label", "u"),
               ("mpls_last_ttl", "MPLSLastTTL", "u"), ("mpls_last_label", "MPLSLastLabel", "u")]


def _addr(text):
    return ipaddress.ip_address(text).packed if text else b""


def _mac(text):
    return int(text.replace(":", ""), 16)


def expected(rec, fmt):
    """The FlowMessage a --print JSON record must become in layout fmt
    ("goflow"/"goflow2"), as protoc's text format shows it: field names in
    field-number order is not needed (dict), proto3 defaults left out."""
    out = {}

    def put(name, kind, v):
        if kind == "a":
            v = _addr(v)
        elif kind == "mac":
            v = _mac(v)
        elif kind == "c":
            v = v.encode("ascii")
        if kind == "t":
            if v != "FLOWUNKNOWN":
                out[name] = v
        elif v:  # zero, false, empty: not on the wire
            out[name] = v

    for key, gname, g2name, kind in FIELDS:
        put(gname if fmt == "goflow" else g2name, kind, rec[key])
    if rec["as_path"]:
        out["as_path"] = list(rec["as_path"]) if len(rec["as_path"]) > 1 else rec["as_path"][0]
    if fmt == "goflow":
        put("TimeReceived", "u", rec["time_received_ns"] // 10**9)
        put("TimeFlowStart", "u", rec["time_flow_start_ns"] // 10**9)
        put("TimeFlowEnd", "u", rec["time_flow_end_ns"] // 10**9)
        for key, name, kind in GOFLOW_MPLS:
            put(name, kind, rec[key])
    elif rec["has_mpls"] and rec["mpls_count"]:
        # goflow2: the stack top first; ft_flow keeps labels 1-3 and the last.
        n = rec["mpls_count"]
        labels = [rec["mpls_1_label"], rec["mpls_2_label"], rec["mpls_3_label"]][:min(n, 3)]
        ttls = [rec["mpls_1_ttl"], rec["mpls_2_ttl"], rec["mpls_3_ttl"]][:min(n, 3)]
        if n > 3:
            labels.append(rec["mpls_last_label"])
            ttls.append(rec["mpls_last_ttl"])
        out["mpls_ttl"] = ttls if len(ttls) > 1 else ttls[0]
        out["mpls_label"] = labels if len(labels) > 1 else labels[0]
    return out


def canon(fields):
    """A hashable form of a decoded/expected record (for exactly-once counts)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in fields.items()))


def diff(want, got):
    """Field-by-field differences between two records' fields."""
    out = []
    for k in sorted(set(want) | set(got)):
        if want.get(k) != got.get(k):
            out.append("%s: want %r, got %r" % (k, want.get(k), got.get(k)))
    return out


def exactly_once(want_recs, got_recs, fmt, who):
    """Compares the multiset of expected records with the decoded ones.
    Returns errors: records missing, duplicated or altered."""
    want = collections.Counter(canon(expected(r, fmt)) for r in want_recs)
    got = collections.Counter(canon(g) for g in got_recs)
    errs = []
    if sum(got.values()) != sum(want.values()):
        errs.append("%s: %d messages, --print shows %d records" % (who, sum(got.values()), sum(want.values())))
    missing = want - got
    extra = got - want
    for k, n in list(missing.items())[:5]:
        # Show the closest received record for a readable diff.
        w = dict(k)
        best = min(extra or got, key=lambda g: len(diff(w, dict(g))), default=None)
        errs.append("%s: record missing %d time(s): %s" % (who, n, "; ".join(diff(w, dict(best)) if best else [])))
    for k, n in list(extra.items())[:5]:
        errs.append("%s: unexpected or duplicated message (%d): %s" % (who, n, dict(k)))
    if len(missing) > 5 or len(extra) > 5:
        errs.append("%s: ... %d missing, %d unexpected in all" % (who, sum(missing.values()), sum(extra.values())))
    return errs


def unframe(values, delimited):
    """Kafka payloads -> messages, checking the varint prefix when delimited.
    Returns (messages, errors)."""
    out, errs = [], []
    for v in values:
        if not delimited:
            out.append(v)
            continue
        try:
            n, i = read_varint(v)
        except ValueError:
            errs.append("payload without a valid length prefix: %r" % v[:16])
            continue
        if n != len(v) - i:
            errs.append("length prefix says %d, message has %d bytes" % (n, len(v) - i))
        out.append(v[i:])
    return out, errs


def stats_line(stderr_text, kind):
    import json
    for line in stderr_text.splitlines():
        if line.startswith("{") and '"kind":"%s"' % kind in line:
            return json.loads(line)
    return None


def run_cases(cases, only, mock, res, workdir):
    """Runs the (name, fn) cases named in only (all when empty) against the
    mock cluster, each fn returning (errors, notes) or (None, [reason]) to
    skip; closes the cluster; removes workdir when all passed. Returns the
    exit status (ftlib.Results.finish)."""
    print("mock cluster at %s" % mock.bootstrap)
    try:
        for name, fn in cases:
            if only and name not in only:
                continue
            try:
                errs, notes = fn()
            except Exception as e:  # a harness failure fails the case, with the reason
                import traceback
                errs, notes = ["exception: %s\n%s" % (e, traceback.format_exc())], []
            if errs is None:
                print("SKIP %s: %s" % (name, "; ".join(notes)))
                continue
            res.case(name, errs, notes)
    finally:
        mock.close()
    rc = res.finish()
    if rc == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("files kept in " + workdir)
    return rc
