#!/usr/bin/python3
"""test_flowgen.py - the benchmark's traffic generator (bench/flowgen) sends
exactly what it says it sent.

For each protocol (NetFlow v5, NetFlow v9, IPFIX, sFlow v5) flowgen writes a
small pcap: 3 exporters with different sampling rates, templates re-sent every
5 datagrams, an sFlow counters sample in every 4th datagram, 600 records over
150 keys. It prints its totals as one JSON line. Then:

 (a) tshark (the oracle) decodes the pcap. Every frame, template, options
     record, data record / flow sample and counters sample is counted; each
     record's bytes and packets are multiplied by the sampling rate tshark
     decodes for it (v5: header; v9: the record's FLOW_SAMPLER_ID -> the
     options record's FLOW_SAMPLER_RANDOM_INTERVAL; IPFIX: selectorId ->
     samplingPopulation / samplingSize; sFlow: the sample's sampling_rate).
     The sums must equal flowgen's totals exactly. Sequence numbers must run
     gapless per exporter, frame timestamps must follow --rate, flow times
     must lie where flowgen's documentation puts them, the sFlow sampled
     headers must decode as Ethernet/IPv4/TCP|UDP of the sample's frame
     length, and the distinct flow keys tshark sees (addresses, ports,
     protocol, ASes, interfaces, next hop, masks, TOS) must number
     keys_sent and be the same set in all four protocols (same seed): each
     key is decoded from four independent encodings.
 (b) flowtally --pcap FILE --print --stats gives the same totals, the same
     key set and counters with no loss, no error and no unknown sampling rate.
 (c) live: flowgen sends all four protocols from 3 exporters (their own
     127.0.0.x addresses) on 2 threads to a flowtally listening on loopback at
     a small rate; flowtally's counters and records equal flowgen's totals.

Exit 77 (skip) when tshark or the flowgen binary is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
RATE = 50000
START = 1700000000
COUNT = 600
KEYS = 150
SEED = 7
RATES = {"v5": "64,128,512", "v9": "100,1000,4096", "ipfix": "100,1000,4096", "sflow": "256,1024,2048"}
PORTS = {"v5": 2055, "v9": 2055, "ipfix": 4739, "sflow": 6343}
NAMES = {"v5": "netflow_v5", "v9": "netflow_v9", "ipfix": "ipfix", "sflow": "sflow_5"}
TOTAL_KEYS = ("datagrams", "octets", "records", "options_records", "template_records", "counter_samples",
              "bytes", "packets", "bytes_scaled", "packets_scaled")

errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL: " + msg)


def check_eq(what, got, want):
    if got != want:
        fail("%s: %r, expected %r" % (what, got, want))


def dec_ns(s):
    """'146650.338000000' (tshark seconds) -> ns, exactly."""
    whole, _, frac = s.partition(".")
    return int(whole) * 10**9 + int((frac + "000000000")[:9])


# --------------------------------------------------------------------------
# tshark JSON as lists of (key, value) pairs: tshark repeats keys (several
# "Flow 1" objects, several dstAS entries), which a dict would lose.

def pairs(p):
    return p


def get(node, key, default=None):
    for k, v in node:
        if k == key:
            return v
    return default


def get_all(node, key):
    return [v for k, v in node if k == key]


def find(node, key):
    """First value of key anywhere below node (depth first)."""
    for k, v in node:
        if k == key:
            return v
        if isinstance(v, list):
            r = find(v, key)
            if r is not None:
                return r
    return None


def find_all(node, key, out=None):
    out = [] if out is None else out
    for k, v in node:
        if k == key:
            out.append(v)
        elif isinstance(v, list):
            find_all(v, key, out)
    return out


def tshark(pcap, port, proto):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "json", "-o", "cflow.max_template_fields:1024",
           "-d", "udp.port==%d,%s" % (port, proto)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("tshark failed: %s" % p.stderr.decode()[-2000:])
    return json.loads(p.stdout.decode() or "[]", object_pairs_hook=pairs)


def experts(node, path, out):
    """tshark's warnings and errors (expert info of severity >= warning) and malformed marks."""
    for k, v in node:
        if k == "_ws.expert" and isinstance(v, list):
            sev = int(get(v, "_ws.expert.severity", "0"))
            if sev >= 0x600000:
                out.append("%s: %s" % (path, get(v, "_ws.expert.message")))
        elif k == "_ws.malformed":
            out.append("%s: malformed" % path)
        elif isinstance(v, list):
            experts(v, path + "/" + k, out)


class Decode:
    """What tshark decodes from one flowgen pcap: totals like flowgen's, the
    set of flow keys, and every problem found on the way (self.problems)."""

    def __init__(self, proto, pcap):
        self.proto = proto
        self.t = dict.fromkeys(TOTAL_KEYS, 0)
        self.keys = set()
        self.problems = []
        self.frames = []   # (time_ns, records in the frame)
        self.exporters = set()
        self.seq = {}      # sequence continuity state
        self.rates = {}    # (src, domain, sampler/selector id) -> rate from options data
        self.opt_tmpl = {}  # (src, domain) -> options template ids
        data = tshark(pcap, PORTS[proto], "sflow" if proto == "sflow" else "cflow")
        for pkt in data:
            layers = get(get(pkt, "_source"), "layers")
            self.frame(layers)

    def problem(self, msg):
        if len(self.problems) < 30:
            self.problems.append(msg)

    def next_seq(self, key, seq, adv, what):
        if key in self.seq and self.seq[key] != seq:
            self.problem("%s: sequence %d, expected %d (gap or reorder)" % (what, seq, self.seq[key]))
        self.seq[key] = (seq + adv) & 0xFFFFFFFF

    def record(self, key, octets, packets, rate):
        self.t["records"] += 1
        self.t["bytes"] += octets
        self.t["packets"] += packets
        self.t["bytes_scaled"] += octets * rate
        self.t["packets_scaled"] += packets * rate
        self.keys.add(key)

    def frame(self, L):
        fr = get(L, "frame")
        num = int(get(fr, "frame.number"))
        t_ns = dec_ns(get(fr, "frame.time_epoch"))
        src = get(get(L, "ip"), "ip.src")
        udp = get(L, "udp")
        self.exporters.add(src)
        self.t["datagrams"] += 1
        self.t["octets"] += int(get(udp, "udp.length")) - 8
        where = "frame %d" % num
        exp = []
        experts(L, where, exp)
        for e in exp:
            self.problem("tshark: " + e)
        before = self.t["records"]
        if self.proto == "sflow":
            self.sflow(get(L, "sflow"), where)
        else:
            cf = get(L, "cflow")
            if cf is None:
                self.problem("%s: not decoded as NetFlow/IPFIX" % where)
                return
            self.cflow(cf, src, where)
        self.frames.append((t_ns, self.t["records"] - before))

    # ---- NetFlow v5 / v9 / IPFIX ---------------------------------------

    def cflow(self, cf, src, where):
        ver = int(get(cf, "cflow.version"))
        ts = get(cf, "cflow.timestamp_tree")
        if ver == 5:
            export_ms = int(get(ts, "cflow.unix_secs")) * 1000 + int(get(ts, "cflow.unix_nsecs")) // 10**6
            up_ms = dec_ns(get(cf, "cflow.sysuptime")) // 10**6
            rate = int(get(cf, "cflow.samplerate"))
            if get(cf, "cflow.samplingmode") != "1" or not rate:
                self.problem("%s: v5 sampling mode %s rate %s" % (where, get(cf, "cflow.samplingmode"), rate))
            pdus = [v for k, v in cf if k.startswith("pdu ")]
            check = int(get(cf, "cflow.count"))
            if check != len(pdus):
                self.problem("%s: v5 count %d, %d records" % (where, check, len(pdus)))
            self.next_seq((src, 5, get(cf, "cflow.engine_id")), int(get(cf, "cflow.sequence")), len(pdus),
                          where + " v5 flow_sequence")
            for i, r in enumerate(pdus):
                self.nf_record(r, rate, export_ms, up_ms, "%s record %d" % (where, i + 1), 5)
            return
        if ver == 9:
            dom = int(get(cf, "cflow.source_id"))
            export_ms = int(get(ts, "cflow.unix_secs")) * 1000
            up_ms = dec_ns(get(cf, "cflow.sysuptime")) // 10**6
            sets = [v for k, v in cf if k.startswith("FlowSet ")]
            tmpl_sets, opt_sets = (0,), (1,)
        elif ver == 10:
            dom = int(get(cf, "cflow.od_id"))
            export_ms = int(get(ts, "cflow.exporttime")) * 1000
            up_ms = None
            sets = [v for k, v in cf if k.startswith("Set ")]
            tmpl_sets, opt_sets = (2,), (3,)
        else:
            self.problem("%s: version %d" % (where, ver))
            return
        key = (src, dom)
        n_data = n_opt = n_all = 0
        for s in sets:
            sid = int(get(s, "cflow.flowset_id"))
            if sid in tmpl_sets or sid in opt_sets:
                for k, v in s:
                    if isinstance(v, list) and get(v, "cflow.template_id") is not None:
                        self.t["template_records"] += 1
                        n_all += 1
                        if sid in opt_sets:
                            self.opt_tmpl.setdefault(key, set()).add(int(get(v, "cflow.template_id")))
                continue
            flows = [v for k, v in s if k.startswith("Flow ")]
            if sid in self.opt_tmpl.get(key, ()):
                for f in flows:
                    self.options(key, f, ver, where)
                    self.t["options_records"] += 1
                    n_opt += 1
                continue
            for i, f in enumerate(flows):
                sel = "cflow.sampler_id" if ver == 9 else "cflow.selector_id"
                rate = self.rates.get(key + (get(f, sel),))
                if rate is None:
                    self.problem("%s: record before the rate of its sampler %s" % (where, get(f, sel)))
                    rate = 0
                self.nf_record(f, rate, export_ms, up_ms, "%s set %d record %d" % (where, sid, i + 1), ver)
                n_data += 1
        n_all += n_data + n_opt
        if ver == 9:
            check_count = int(get(cf, "cflow.count"))
            if check_count != n_all:
                self.problem("%s: v9 count %d, %d records" % (where, check_count, n_all))
            self.next_seq((src, 9, dom), int(get(cf, "cflow.sequence")), 1, where + " v9 sequence")
        else:
            if int(get(cf, "cflow.len")) != self.frame_len_hint(cf):
                self.problem("%s: IPFIX length %s" % (where, get(cf, "cflow.len")))
            self.next_seq((src, 10, dom), int(get(cf, "cflow.sequence")), n_data + n_opt, where + " IPFIX sequence")

    @staticmethod
    def frame_len_hint(cf):
        # IPFIX message length = 16 + the set lengths (RFC 7011 §3.1).
        return 16 + sum(int(get(v, "cflow.flowset_length")) for k, v in cf if k.startswith("Set "))

    def options(self, key, f, ver, where):
        if ver == 9:
            sid = get(f, "cflow.sampler_id")
            interval = int(get(f, "cflow.sampler_random_interval", "0"))
            if get(f, "cflow.sampling_interval") != str(interval) or get(f, "cflow.sampler_mode") != "2":
                self.problem("%s: v9 sampler options disagree: %s" % (where, f))
            self.rates[key + (sid,)] = interval
        else:
            sid = get(f, "cflow.selector_id")
            if get(f, "cflow.selector_algorithm") != "3":
                self.problem("%s: selectorAlgorithm %s" % (where, get(f, "cflow.selector_algorithm")))
            size, pop = int(get(f, "cflow.sampling_size", "0")), int(get(f, "cflow.sampling_population", "0"))
            self.rates[key + (sid,)] = pop // size if size else 0

    def nf_record(self, f, rate, export_ms, up_ms, where, ver):
        flat = {}
        for k, v in f:
            if isinstance(v, list):
                for k2, v2 in v:
                    if not isinstance(v2, list):
                        flat.setdefault(k2, v2)
            else:
                flat.setdefault(k, v)
        try:
            octets, packets = int(flat["cflow.octets"]), int(flat["cflow.packets"])
            nh = flat.get("cflow.nexthop", flat.get("cflow.bgpnexthop"))
            key = (flat["cflow.srcaddr"], flat["cflow.dstaddr"], int(flat["cflow.srcport"]),
                   int(flat["cflow.dstport"]), int(flat["cflow.protocol"]), int(flat["cflow.srcas"]),
                   int(flat["cflow.dstas"]), int(flat["cflow.inputint"]), int(flat["cflow.outputint"]), nh,
                   int(flat["cflow.srcmask"]), int(flat["cflow.dstmask"]), int(flat["cflow.tos"], 16))
        except KeyError as e:
            self.problem("%s: tshark shows no %s" % (where, e))
            return
        # Flow times (flowgen: ended 0-2 s before the export, lasted < 60 s).
        if ver == 10:
            start = find(f, "cflow.abstimestart")
            end = find(f, "cflow.abstimeend")
            s_ms, e_ms = abs_ms(start), abs_ms(end)
            lo = -1000  # the export time has whole seconds
        else:
            s_ms = export_ms - (up_ms - dec_ns(flat["cflow.timestart"]) // 10**6)
            e_ms = export_ms - (up_ms - dec_ns(flat["cflow.timeend"]) // 10**6)
            lo = 0
        if not (lo <= export_ms - e_ms < 2000 and 0 <= e_ms - s_ms < 60000):
            self.problem("%s: flow times start %d end %d ms, export %d ms" % (where, s_ms, e_ms, export_ms))
        if packets < 1 or octets < 40 * packets or octets > 1500 * packets:
            self.problem("%s: %d bytes in %d packets" % (where, octets, packets))
        self.record(key, octets, packets, rate)

    # ---- sFlow v5 -------------------------------------------------------

    def sflow(self, sf, where):
        if sf is None:
            self.problem("%s: not decoded as sFlow" % where)
            return
        agent, sub = get(sf, "sflow_245.agent"), int(get(sf, "sflow_245.sub_agent_id"))
        self.next_seq(("sflow", agent, sub), int(get(sf, "sflow_245.sequence_number")), 1, where + " datagram")
        samples = [(k, v) for k, v in sf if isinstance(v, list) and k.split(",")[0] in
                   ("Flow sample", "Counters sample", "Expanded flow sample", "Expanded counters sample")]
        if int(get(sf, "sflow_245.numsamples")) != len(samples):
            self.problem("%s: numsamples %s, tshark shows %d" % (where, get(sf, "sflow_245.numsamples"),
                                                                  len(samples)))
        for label, s in samples:
            w = "%s %s" % (where, label)
            if label.startswith("Counters sample"):
                self.t["counter_samples"] += 1
                self.next_seq(("counters", agent, sub), int(get(s, "sflow.counters_sample.sequence_number")), 1, w)
                if get(s, "Generic interface counters") is None:
                    self.problem("%s: no generic interface counters" % w)
                continue
            if label != "Flow sample, seq %s" % get(s, "sflow.flow_sample.sequence_number"):
                self.problem("%s: unexpected kind" % w)
                continue
            idx = get(s, "sflow.flow_sample.index")
            self.next_seq(("flow", agent, sub, idx), int(get(s, "sflow.flow_sample.sequence_number")), 1, w)
            self.flow_sample(s, w)

    def flow_sample(self, s, w):
        rate = int(get(s, "sflow.flow_sample.sampling_rate"))
        in_if = int(get(s, "sflow.flow_sample.input_interface"))
        out = get(s, "sflow.flow_sample.output_interface_tree")
        if get(out, "sflow.flow_sample.output_interface_format") != "0":
            self.problem("%s: output interface format" % w)
        out_if = int(get(out, "sflow.flow_sample.output_interface_value"))
        hdr, router, gw = get(s, "Raw packet header"), get(s, "Extended router data"), get(s, "Extended gateway data")
        if hdr is None or router is None or gw is None or get(s, "Extended switch data") is None:
            self.problem("%s: records %s" % (w, [k for k, v in s if isinstance(v, list)]))
            return
        frame_len = int(get(hdr, "sflow_245.header.frame_length"))
        hlen = int(get(hdr, "sflow_245.header.sampled_header_length"))
        if get(hdr, "sflow_245.header_protocol") != "1" or get(hdr, "sflow_245.header.payload_stripped") != "4" \
                or hlen != min(128, frame_len - 4):
            self.problem("%s: sampled header protocol/stripped/length %s/%s/%d of frame %d" % (
                w, get(hdr, "sflow_245.header_protocol"), get(hdr, "sflow_245.header.payload_stripped"), hlen,
                frame_len))
        tree = get(hdr, "sflow_245.header_tree")
        eth, ip = get(tree, "eth"), get(tree, "ip")
        if eth is None or ip is None or get(eth, "eth.type") != "0x0800":
            self.problem("%s: sampled header is not Ethernet/IPv4" % w)
            return
        proto = int(get(ip, "ip.proto"))
        l4 = get(tree, "tcp" if proto == 6 else "udp")
        pfx = "tcp" if proto == 6 else "udp"
        if l4 is None or int(get(ip, "ip.len")) != frame_len - 18:
            self.problem("%s: transport %s missing or ip.len %s for frame_length %d" % (w, proto, get(ip, "ip.len"),
                                                                                       frame_len))
            return
        path = [int(a) for a in find_all(gw, "sflow_245.dstAS")]
        if not path:
            self.problem("%s: empty AS path" % w)
            return
        key = (get(ip, "ip.src"), get(ip, "ip.dst"), int(get(l4, pfx + ".srcport")), int(get(l4, pfx + ".dstport")),
               proto, int(get(gw, "sflow_245.srcAS")), path[-1], in_if, out_if, get(router, "sflow_245.nexthop"),
               int(get(router, "sflow_245.nexthop.src_mask")), int(get(router, "sflow_245.nexthop.dst_mask")),
               int(get(ip, "ip.dsfield"), 16))
        # One sampled packet of frame_length bytes (FCS included, sFlow §5.5).
        self.record(key, frame_len, 1, rate)


def abs_ms(s):
    import calendar
    import re
    m = re.match(r"(\w{3})\s+(\d+), (\d+) (\d+):(\d+):(\d+)\.(\d+) UTC$", s.strip())
    mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].index(m.group(1)) + 1
    secs = calendar.timegm((int(m.group(3)), mon, int(m.group(2)), int(m.group(4)), int(m.group(5)),
                            int(m.group(6)), 0, 0, 0))
    return secs * 1000 + int((m.group(7) + "000")[:3])


# --------------------------------------------------------------------------
# flowtally

def flowtally_pcap(flowtally, pcap):
    p = subprocess.run([flowtally, "--pcap", pcap, "--print", "--stats"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    stats = [json.loads(l) for l in p.stderr.decode().splitlines() if l.startswith("{")]
    return p.returncode, recs, [s for s in stats if s.get("kind") == "exporter_stats"], p.stderr.decode()


def ft_totals(recs, stats):
    """flowtally's view in flowgen's terms: records from --print, the rest from --stats."""
    c = {}
    for s in stats:
        for k, v in s.get("counters", {}).items():
            c[k] = c.get(k, 0) + v
    return {
        "datagrams": c.get("packets", 0), "octets": c.get("octets", 0), "records": len(recs),
        "options_records": c.get("options_records", 0), "template_records": c.get("templates_received", 0),
        "counter_samples": c.get("counter_samples", 0),
        "bytes": sum(r["bytes"] for r in recs), "packets": sum(r["packets"] for r in recs),
        "bytes_scaled": sum(r["bytes"] * r["sampling_rate"] for r in recs),
        "packets_scaled": sum(r["packets"] * r["sampling_rate"] for r in recs),
    }, c


def check_ft_stats(what, c, stats, want_records):
    if c.get("records", 0) != want_records:
        fail("%s: --stats records %s, --print printed %d" % (what, c.get("records"), want_records))
    for k in ("lost_packets", "lost_records", "sequence_resets", "sequence_reordered", "sampling_unknown",
              "pending_held", "samples_skipped"):
        if c.get(k, 0):
            fail("%s: --stats %s = %d, expected 0" % (what, k, c[k]))
    for s in stats:
        for k, v in s.get("errors", {}).items():
            if v:
                fail("%s: exporter %s errors.%s = %d" % (what, s.get("exporter"), k, v))


def compare_totals(what, got, want):
    for k in TOTAL_KEYS:
        if got.get(k) != want.get(k):
            fail("%s %s: %r, flowgen says %r" % (what, k, got.get(k), want.get(k)))


def ft_keys(recs):
    return {(r["src_addr"], r["dst_addr"], r["src_port"], r["dst_port"], r["proto"], r["src_as"], r["dst_as"])
            for r in recs}


# --------------------------------------------------------------------------

def run_flowgen(flowgen, args, timeout=120):
    p = subprocess.run([flowgen] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("flowgen %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    lines = [l for l in p.stdout.decode().splitlines() if l.strip()]
    if len(lines) != 1:
        raise RuntimeError("flowgen printed %d lines, expected one JSON line" % len(lines))
    return json.loads(lines[0])


def case_pcap(flowgen, flowtally, work, proto, all_keys):
    print("== %s: pcap" % proto)
    pcap = os.path.join(work, proto + ".pcap")
    tot = run_flowgen(flowgen, ["--proto", proto, "--pcap-out", pcap, "--count", str(COUNT), "--keys", str(KEYS),
                                "--seed", str(SEED), "--exporters", "3", "--sampling-rate", RATES[proto],
                                "--rate", str(RATE), "--start-time", str(START), "--template-packets", "5",
                                "--counter-every", "4"])
    per = tot["protocols"].get(NAMES[proto])
    if per is None or list(tot["protocols"]) != [NAMES[proto]]:
        fail("%s: flowgen's protocols %s" % (proto, list(tot["protocols"])))
        return
    compare_totals("%s: flowgen overall vs per protocol," % proto, {k: tot[k] for k in TOTAL_KEYS}, per)
    check_eq("%s: flowgen records" % proto, tot["records"], COUNT)
    check_eq("%s: flowgen keys_sent" % proto, tot["keys_sent"], KEYS)
    check_eq("%s: flowgen sources" % proto, tot["sources"], ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    # Something of each kind was sent, so the checks below mean something.
    need = ["template_records", "options_records"] if proto in ("v9", "ipfix") else \
        ["counter_samples"] if proto == "sflow" else []
    for k in need:
        if tot[k] < 6:
            fail("%s: flowgen sent only %d %s; the case needs re-sends" % (proto, tot[k], k))

    # (a) tshark
    d = Decode(proto, pcap)
    for pr in d.problems:
        fail("%s: tshark decode: %s" % (proto, pr))
    compare_totals("%s: tshark" % proto, d.t, tot)
    check_eq("%s: exporters tshark sees" % proto, sorted(d.exporters), tot["sources"])
    check_eq("%s: distinct keys tshark decodes" % proto, len(d.keys), tot["keys_sent"])
    all_keys[proto] = d.keys
    before = 0
    for i, (t_ns, n) in enumerate(d.frames):
        want = START * 10**9 + int(before * 1e9 / RATE)
        if t_ns != want:
            fail("%s: frame %d timestamp %d ns, expected %d (records before it at %d/s)" % (proto, i + 1, t_ns, want,
                                                                                           RATE))
            break
        before += n

    # (b) flowtally --pcap
    rc, recs, stats, err = flowtally_pcap(flowtally, pcap)
    if rc != 0:
        fail("%s: flowtally --pcap exited %d: %s" % (proto, rc, err[-2000:]))
        return
    got, c = ft_totals(recs, stats)
    compare_totals("%s: flowtally" % proto, got, tot)
    check_ft_stats("%s: flowtally" % proto, c, stats, len(recs))
    check_eq("%s: flowtally exporters" % proto, sorted(s.get("exporter") for s in stats), tot["sources"])
    proj = {k[:7] for k in d.keys}
    if ft_keys(recs) != proj:
        fail("%s: flowtally's keys differ from tshark's: %d only in flowtally, %d only in tshark" % (
            proto, len(ft_keys(recs) - proj), len(proj - ft_keys(recs))))


def case_public_addrs(flowgen, work):
    """--public-addrs: tshark decodes the same records, sources moved to
    11.0.0.0/8 and destinations to 30.0.0.0/15 with their low bits kept."""
    print("== v9: --public-addrs")
    import ipaddress
    got = {}
    for tag, extra in (("plain", []), ("public", ["--public-addrs"])):
        pcap = os.path.join(work, "addrs_%s.pcap" % tag)
        run_flowgen(flowgen, ["--proto", "v9", "--pcap-out", pcap, "--count", "300", "--keys", "60", "--seed",
                              str(SEED), "--rate", "1000", "--start-time", str(START)] + extra)
        out = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==2055,cflow", "-T", "fields", "-E",
                              "occurrence=a", "-E", "aggregator=,", "-e", "cflow.srcaddr", "-e", "cflow.dstaddr"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120).stdout.decode()
        pairs_ = []
        for line in out.splitlines():
            if not line.strip():
                continue
            src, dst = line.split("\t")
            pairs_ += zip(src.split(","), dst.split(","))
        got[tag] = [(int(ipaddress.IPv4Address(a)), int(ipaddress.IPv4Address(b))) for a, b in pairs_ if a and b]
    check_eq("public-addrs: records tshark decodes", len(got["public"]), 300)
    check_eq("public-addrs: same number of records as without", len(got["plain"]), len(got["public"]))
    for (ps, pd), (qs, qd) in zip(got["plain"], got["public"]):
        if qs >> 24 != 11 or qd >> 17 != (30 << 7) or qs & 0xffffff != ps & 0xffffff or qd & 0x1ffff != pd & 0x1ffff:
            fail("public-addrs: %s -> %s became %s -> %s" % (ipaddress.IPv4Address(ps), ipaddress.IPv4Address(pd),
                                                             ipaddress.IPv4Address(qs), ipaddress.IPv4Address(qd)))
            break


def case_live(flowgen, flowtally, work):
    print("== live: v5,v9,ipfix,sflow from 3 exporters on 2 threads to flowtally on loopback")
    out_path = os.path.join(work, "live.jsonl")
    with open(out_path, "wb") as out:
        ft = subprocess.Popen([flowtally, "--listen", "netflow://127.0.0.1:0", "--print", "--stats", "--db", "off", "--http", "off",
                               "--rcvbuf", "8388608"], stdout=out, stderr=subprocess.PIPE)
        try:
            port, err_lines = None, []
            t_end = time.monotonic() + 15
            while port is None and time.monotonic() < t_end:
                line = ft.stderr.readline().decode()
                if not line:
                    break
                err_lines.append(line)
                if "listening on netflow://127.0.0.1:" in line:
                    port = int(line.rsplit(":", 1)[1].split()[0])
            if port is None:
                fail("live: flowtally did not report its port: %s" % "".join(err_lines))
                return
            tot = run_flowgen(flowgen, ["--target", "127.0.0.1:%d" % port, "--proto", "v5,v9,ipfix,sflow",
                                        "--exporters", "3", "--threads", "2", "--rate", "5000", "--count", "5000",
                                        "--keys", "500",
                                        "--seed", str(SEED), "--sampling-rate", "100,1000,4000",
                                        "--template-packets", "10"])
            t_end = time.monotonic() + 15
            while time.monotonic() < t_end:
                with open(out_path, "rb") as fh:
                    if fh.read().count(b"\n") >= tot["records"]:
                        break
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            ft.send_signal(signal.SIGTERM)
            try:
                _, err = ft.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                ft.kill()
                _, err = ft.communicate()
    err = "".join(err_lines) + err.decode()
    if ft.returncode != 0:
        fail("live: flowtally exited %s: %s" % (ft.returncode, err[-2000:]))
    recs = [json.loads(l) for l in open(out_path) if l.strip()]
    stats = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
    stats = [s for s in stats if s.get("kind") == "exporter_stats"]
    print("flowgen: %s" % json.dumps({k: tot[k] for k in ("sources", "send_errors") + TOTAL_KEYS}))
    check_eq("live: flowgen records", tot["records"], 5000)
    if len(tot["sources"]) != 3:
        print("note: the exporter addresses could not be bound; one source for all (%s)" % tot["sources"])
    check_eq("live: flowtally exporters", sorted(s.get("exporter") for s in stats), sorted(tot["sources"]))
    got, c = ft_totals(recs, stats)
    compare_totals("live: flowtally", got, tot)
    check_ft_stats("live: flowtally", c, stats, len(recs))
    want_types = {"NETFLOW_V5": "netflow_v5", "NETFLOW_V9": "netflow_v9", "IPFIX": "ipfix", "SFLOW_5": "sflow_5"}
    for typ, name in want_types.items():
        n = sum(1 for r in recs if r["type"] == typ)
        check_eq("live: flowtally %s records" % typ, n, tot["protocols"][name]["records"])


def case_usage(flowgen):
    print("== usage errors")
    for args in (["--pcap-out", "/dev/null"], ["--target", "127.0.0.1:9", "--proto", "v5", "--sampling-rate", "20000"],
                 ["--target", "127.0.0.1:9", "--proto", "v7"], ["--target", "127.0.0.1:9", "--keys", "0"],
                 ["--target", "127.0.0.1:9", "--rate", "-1"]):
        p = subprocess.run([flowgen] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 2 or p.stdout:
            fail("flowgen %s: exit %d (expected 2, nothing on stdout)" % (" ".join(args), p.returncode))
    p = subprocess.run([flowgen, "--help"], stdout=subprocess.PIPE, timeout=30)
    if p.returncode != 0 or b"--pcap-out" not in p.stdout:
        fail("flowgen --help: exit %d" % p.returncode)


def main():
    build = os.environ.get("FT_BUILD_DIR", "build")
    flowgen = os.environ.get("FLOWGEN") or os.path.join(build, "flowgen")
    flowtally = os.environ.get("FLOWTALLY") or os.path.join(build, "flowtally")
    if not shutil.which("tshark"):
        print("SKIP: tshark not installed (apt-get install tshark)")
        return SKIP
    for b in (flowgen, flowtally):
        if not os.access(b, os.X_OK):
            print("SKIP: %s not built" % b)
            return SKIP
    work = tempfile.mkdtemp(prefix="ft-flowgen-")
    all_keys = {}
    case_usage(flowgen)
    for proto in ("v5", "v9", "ipfix", "sflow"):
        try:
            case_pcap(flowgen, flowtally, work, proto, all_keys)
        except Exception as e:  # a harness failure is a failed case
            import traceback
            fail("%s: %s\n%s" % (proto, e, traceback.format_exc()))
    if len(all_keys) == 4:
        ref = all_keys["v5"]
        for proto, keys in all_keys.items():
            if keys != ref:
                fail("key set of %s differs from NetFlow v5's (%d vs %d keys, %d in common)" % (
                    proto, len(keys), len(ref), len(keys & ref)))
        print("the %d keys decode identically from all four protocols" % len(ref))
    try:
        case_public_addrs(flowgen, work)
    except Exception as e:
        import traceback
        fail("public-addrs: %s\n%s" % (e, traceback.format_exc()))
    try:
        case_live(flowgen, flowtally, work)
    except Exception as e:
        import traceback
        fail("live: %s\n%s" % (e, traceback.format_exc()))
    if errors:
        print("%d failure(s); files in %s" % (len(errors), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
