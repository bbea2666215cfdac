#!/usr/bin/python3
"""test_restarts.py - issue 8 fault test "Exporter restarts", with real exporters.

One flowtally stays up while an exporter runs, stops and runs again with
another configuration, as a restarted (or reconfigured and restarted) device
does: its sequence numbers start again, its sysUptime starts again from 0
(v5/v9: record times are sysUptime-relative), the same template IDs come back
with another layout (NetFlow v9 and IPFIX) and its options data announce
another sampling rate. Each run replays the traffic shifted by 10000 s more,
so the restarted exporter's clock moves on while its uptime starts over
(softflowd -a takes its clock from the pcap).

Cases:
  restart_v5     softflowd -v 5, then -v 5 again (flow_sequence and SysUptime restart)
  restart_v9     softflowd -v 9 -T full | -v 9 -T ether -s 4 | -v 9 -T full -s 2: templates
                 1024/1025/2048/2049 gain and lose the MAC/VLAN fields, options template
                 256's SAMPLING_INTERVAL goes 1 -> 4 -> 2
  restart_ipfix  softflowd -v 10 -T full | -v 10 -T ether -A milli | -v 10 -s 3: the same
                 IDs switch between sysUpTime (22/21 + systemInitTimeMilliseconds 160) and
                 flowStart/EndMilliseconds (152/153) layouts
  restart_v9_drop, restart_ipfix_drop
                 softflowd (400 flows: ~15 export packets a run) through a UDP relay that
                 drops the 2nd and 3rd datagram of the restarted run: loss counted exactly
  restart_pmacctd_v9
                 pmacctd nfprobe v9 with MACs/VLAN in its aggregate, then without: the
                 same template ID with another layout

Oracles:
  - tshark's decode of the export packets flowtally received (tcpdump on loopback):
    every record, every field (ftlib.compare), and the templates themselves (the
    harness fails when a template ID does not really come back with another layout);
  - the exporters' own statistics per run (records, datagrams, per-protocol
    octets/packets) and the ground truth of the traffic per run (unsampled runs);
  - the loss counters: the harness restarted the exporter R times and dropped
    what it dropped, so flowtally must say sequence_resets = R, nothing
    reordered, and lost_packets (v9: datagrams) / lost_records (IPFIX: data
    records, options included, RFC 7011 §3.1) equal to what the relay dropped
    as tshark decodes the exporter side -- never a restart read as ~2^32 lost.

Usage: FLOWTALLY=build/flowtally /usr/bin/python3 tests/e2e/test_restarts.py [case...]
Exit: 0 all passed, 1 a case failed, 77 a required tool is missing.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import make_traffic  # noqa: E402
import test_softflowd  # noqa: E402  (softflowd statistics parser)
import test_pmacctd  # noqa: E402  (pmacctd log parser, config writer)

SHIFT = 10000  # seconds between the replays of successive runs


def shift_pcap(src, dst, secs):
    """Copy of a libpcap file with every packet time moved by secs."""
    with open(src, "rb") as fh:
        data = bytearray(fh.read())
    magic = data[:4]
    bo = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        sec, _frac, incl, _orig = struct.unpack(bo + "IIII", data[off:off + 16])
        struct.pack_into(bo + "I", data, off, sec + secs)
        off += 16 + incl
    with open(dst, "wb") as fh:
        fh.write(data)


def many_flows_pcap(path, n=400):
    """n one-packet UDP flows 10.1.x.y:1000+i -> 192.0.2.200:53 over 40 s,
    and their ground truth (ftlib.compare_truth format)."""
    from scapy.all import IP, UDP, Ether, Raw, wrpcap
    pkts, truth = [], []
    for i in range(n):
        src = "10.1.%d.%d" % (i // 250, 1 + i % 250)
        size = 20 + (i * 7) % 300
        p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
            IP(src=src, dst="192.0.2.200", ttl=64) / UDP(sport=1000 + i, dport=53) / Raw(bytes(size))
        p = Ether(bytes(p))
        p.time = 1700000000 + i * 0.1
        pkts.append(p)
        truth.append({"family": 4, "src": src, "dst": "192.0.2.200", "proto": 17, "src_port": 1000 + i,
                      "dst_port": 53, "packets": 1, "bytes": 20 + 8 + size})
    wrpcap(path, pkts)
    return truth


class Relay:
    """UDP relay 127.0.0.1:port -> flowtally that drops chosen datagrams:
    drop = indices (0-based) within the current phase; new_phase() starts
    counting again (one phase per exporter run)."""

    def __init__(self, dst_port):
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.rx.bind(("127.0.0.1", 0))
        self.rx.settimeout(0.1)
        self.port = self.rx.getsockname()[1]
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dst = ("127.0.0.1", dst_port)
        self.drop, self.i, self.seen, self.dropped = set(), 0, 0, 0
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            try:
                b = self.rx.recv(65535)
            except socket.timeout:
                continue
            self.seen += 1
            if self.i in self.drop:
                self.dropped += 1
            else:
                self.tx.sendto(b, self.dst)
            self.i += 1

    def new_phase(self, drop=()):
        """A new run: counting starts again, and the relay sends from a new
        source port as a restarted exporter does (tshark 4.0 keys NetFlow
        v9/IPFIX templates by the UDP ports and does not apply a template
        redefined within one port pair to later data)."""
        self.drop, self.i = set(drop), 0
        old, self.tx = self.tx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        old.close()

    def wait_quiet(self, quiet=0.5, timeout=10.0):
        end, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < end:
            if self.seen != last:
                last, since = self.seen, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.t.join()
        self.rx.close()
        self.tx.close()


def softflowd_run(pcap, port, workdir, args):
    cmd = [ftlib.which("softflowd"), "-r", pcap, "-d", "-a", "-n", "127.0.0.1:%d" % port,
           "-p", os.path.join(workdir, "softflowd.pid")] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    text = p.stdout.decode("utf-8", "replace")
    rep = test_softflowd.parse_stats(text)
    rep.rc, rep.log = p.returncode, text
    rep.notes.append(" ".join(cmd))
    return rep


def pmacctd_run(pcap, port, workdir, name, aggregate):
    conf = os.path.join(workdir, name + ".conf")
    lines = test_pmacctd.write_conf(conf, port, 9, "pcap_savefile: " + pcap, [
        "pcap_savefile_delay: 1", "nfprobe_timeouts[x]: " + test_pmacctd.FILE_TIMEOUTS,
        "aggregate[x]: " + aggregate, "nfprobe_engine[x]: 9", "nfprobe_direction[x]: in",
        "nfprobe_ifindex[x]: 7"])
    p = subprocess.run([ftlib.which("pmacctd"), "-f", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    text = p.stdout.decode("utf-8", "replace")
    rep = test_pmacctd.parse_log(text)
    rep.rc, rep.log = ftlib.pmacctd_savefile_rc(p.returncode, text, rep.notes), text
    rep.notes.append("pmacctd -f %s: %s" % (conf, "; ".join(lines[2:])))
    return rep


def split_frames(dec, counts):
    """The capture's frames cut into runs of counts[i] datagrams each."""
    out, i = [], 0
    for c in counts:
        out.append(dec.frames[i:i + c])
        i += c
    return out


def template_layouts(pcap, port):
    """[(frame, (src, version, domain, template id), field types incl. scope)] in capture order."""
    cmd = [ftlib.which("tshark"), "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "json",
           "-J", "frame ip cflow"]
    data = json.loads(subprocess.run(cmd, stdout=subprocess.PIPE, timeout=120).stdout.decode() or "[]",
                      object_pairs_hook=ftlib._pairs)
    out = []
    for pkt in data:
        L = pkt["_source"]["layers"]
        cf = L.get("cflow", {})
        ver = int(cf.get("cflow.version", 0))
        dom = int(cf.get("cflow.source_id", cf.get("cflow.od_id", 0)))
        for sk, sv in cf.items():
            if not (sk.startswith("FlowSet ") or sk.startswith("Set ")) or not isinstance(sv, dict):
                continue
            for tk, tv in sv.items():
                if not isinstance(tv, dict) or "cflow.template_id" not in tv:
                    continue
                types = []
                for fk, fv in tv.items():
                    if isinstance(fv, dict) and fk.startswith("Field "):
                        t = fv.get("cflow.template_field_type", fv.get("cflow.template_ipfix_field_type",
                                                                        fv.get("cflow.template_scope_field_type")))
                        types.append(("[Scope]" in fk, t))
                out.append((int(L["frame"]["frame.number"]),
                            (L["ip"]["ip.src"], ver, dom, int(tv["cflow.template_id"])), tuple(types)))
    return out


def undissected_frames(pcap, port):
    """{frame: sequence} of the export packets tshark stopped dissecting
    before their end: tshark 4.0 stops a NetFlow v9 packet after the
    header's Count records, and softflowd 1.1.0's Count leaves out its
    template and options records, so the last FlowSets of a packet that
    carries templates go undecoded. Their records are checked against the
    exporter's own statistics instead (see run_restarts)."""
    cmd = [ftlib.which("tshark"), "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "fields",
           "-E", "separator=;", "-e", "frame.number", "-e", "udp.length", "-e", "cflow.version",
           "-e", "cflow.sequence", "-e", "cflow.flowset_length"]
    out = {}
    for line in subprocess.run(cmd, stdout=subprocess.PIPE, timeout=120).stdout.decode().splitlines():
        frame, ulen, ver, seq, lens = (line.split(";") + [""] * 5)[:5]
        hdr = 20 if ver == "9" else 16 if ver == "10" else None
        if hdr is None:
            continue
        done = hdr + sum(int(x) for x in lens.split(",") if x)
        if done < int(ulen) - 8:
            out[int(frame)] = int(seq)
    return out


def run_restarts(res, name, binary, workdir, pcaps, runs, expect_type, families, drop=None,
                 kind="softflowd"):
    """runs: [(args, sampled)]: one exporter run each, run i replaying pcaps[i]
    (a traffic pcap shifted by i*SHIFT s, with its truth). drop: datagram
    indices of the second run the relay drops (None: no relay)."""
    errs, notes = [], []
    ft = cap = capx = relay = None
    try:
        ft = ftlib.Flowtally(binary, workdir, name)
        cap = ftlib.Capture(os.path.join(workdir, name + ".export.pcap"), ft.port)
        port = ft.port
        if drop is not None:
            relay = Relay(ft.port)
            capx = ftlib.Capture(os.path.join(workdir, name + ".exporter-side.pcap"), relay.port)
            port = relay.port
        reps = []
        for i, (args, _sampled) in enumerate(runs):
            pcap, truth = pcaps[i]
            if relay:
                relay.new_phase(drop if i == 1 else ())
            if kind == "softflowd":
                rep = softflowd_run(pcap, port, workdir, args)
            else:
                rep = pmacctd_run(pcap, port, workdir, "%s.run%d" % (name, i + 1), args)
            reps.append(rep)
            errs += ["[run %d] %s" % (i + 1, e) for e in rep.errors]
            notes += ["run %d: %s" % (i + 1, n) for n in rep.notes]
            if rep.rc not in (0, None):
                errs.append("[exporter] run %d exited with %s:\n%s" % (i + 1, rep.rc, rep.log[-2000:]))
            if rep.failures:
                errs.append("[exporter] run %d reports %d send failures" % (i + 1, rep.failures))
            # everything of this run sent and relayed before the next starts
            (capx or cap).wait_count(sum(r.export_packets or 0 for r in reps), 10.0)
            if relay:
                relay.wait_quiet()
            cap.wait_quiet(0.5, 10.0)
        sent = sum(r.export_packets or 0 for r in reps)
        expected_frames = sent - (relay.dropped if relay else 0)
        cap.wait_count(expected_frames, 10.0)
        cap.wait_quiet(0.5, 10.0)
        captured, kdrop = cap.stop()
        dec = ftlib.TsharkDecode(cap.path, ft.port)
        errs += ["[harness] " + e for e in dec.errors]
        if kdrop != 0:
            errs.append("[harness] tcpdump reports %d packets dropped by the kernel" % kdrop)
        if captured != len(dec.frames) or len(dec.frames) != expected_frames:
            errs.append("[harness] exporters sent %d datagrams (relay dropped %s), tcpdump captured %d, "
                        "tshark decoded %d" % (sent, relay.dropped if relay else 0, captured, len(dec.frames)))
        xdec = None
        if relay:
            capx.wait_quiet(0.5, 10.0)
            xcaptured, xdrop = capx.stop()
            xdec = ftlib.TsharkDecode(capx.path, relay.port)
            if xdrop != 0 or xcaptured != sent or len(xdec.frames) != sent:
                errs.append("[harness] exporter side: sent %d, captured %d (kernel dropped %d), tshark %d"
                            % (sent, xcaptured, xdrop, len(xdec.frames)))
            if relay.dropped != len(drop):
                errs.append("[harness] relay dropped %d datagrams, %d wanted" % (relay.dropped, len(drop)))
        # The configuration change must really bring template IDs back with
        # another layout (v9/IPFIX): otherwise this case tests nothing.
        if expect_type != "NETFLOW_V5":
            lay = template_layouts(capx.path if capx else cap.path, relay.port if relay else ft.port)
            seen, changed = {}, set()
            for _frame, key, types in lay:
                if key in seen and seen[key] != types:
                    changed.add(key[3])
                seen[key] = types
            if not changed:
                errs.append("[harness] no template ID came back with another layout")
            notes.append("template IDs redefined with another layout: %s" % sorted(changed))

        ft_port = ft.port
        ft.wait_records(len(dec.records), timeout=10.0)
        recs, stats, ft_err, rc, bad = ft.stop()
        ft = None
        errs += bad
        if rc != 0:
            errs.append("flowtally exited with %s; stderr tail:\n%s" % (rc, ft_err[-2000:]))
        # A. tshark oracle, every record, every field; records of packets
        # tshark did not dissect to their end are accepted when the
        # exporter's own totals account for them (C below).
        cut = undissected_frames(cap.path, ft_port)
        cut_seqs = set(cut.values())
        extra = 0
        for e in ftlib.compare(dec.records, recs):
            head = "flowtally printed a record tshark does not have: "
            if e.startswith(head) and json.loads(e[len(head):]).get("sequence_num") in cut_seqs:
                extra += 1
                continue
            errs.append(e)
        if cut:
            notes.append("tshark stopped early in frames %s (v9 Count): %d records checked against the "
                         "exporter's statistics only" % (sorted(cut), extra))
        if len(recs) != len(dec.records) + extra:
            errs.append("flowtally printed %d records, tshark decodes %d (+%d in undissected FlowSets)"
                        % (len(recs), len(dec.records), extra))
        exported = sum(r.records for r in reps) if all(r.records is not None for r in reps) else None
        if exported is not None and xdec is None and exported != len(recs):
            errs.append("the exporter runs report %d records, flowtally printed %d" % (exported, len(recs)))
        # B. --stats vs the capture, and the loss counters vs what the harness did.
        serr, _snotes = ftlib.check_stats(stats, dec, recs, expect_type)
        errs += [e for e in serr if "lost_" not in e and "sequence_" not in e and
                 not (extra and e.startswith("--stats records:"))]
        mine = [s for s in stats if s.get("kind") == "exporter_stats"]
        c = mine[0].get("counters", {}) if mine else {}
        want = {"sequence_resets": len(runs) - 1, "sequence_reordered": 0, "lost_packets": 0, "lost_records": 0}
        if xdec is not None:
            if expect_type == "NETFLOW_V9":
                want["lost_packets"] = len(xdec.frames) - len(dec.frames)
            else:
                want["lost_records"] = sum(f["records"] + f["option_records"] for f in xdec.frames) - \
                    sum(f["records"] + f["option_records"] for f in dec.frames)
            gone = [f for f in xdec.frames if f["templates"]]
            if len(gone) != sum(1 for f in dec.frames if f["templates"]):
                errs.append("[harness] the relay dropped a datagram carrying templates")
        for k, v in sorted(want.items()):
            if c.get(k) != v:
                errs.append("--stats %s: %r, expected %r (%d runs = %d restarts, relay dropped %s)"
                            % (k, c.get(k), v, len(runs), len(runs) - 1, relay.dropped if relay else 0))
        notes.append("loss counters: " + ", ".join("%s=%s" % (k, c.get(k)) for k in sorted(want)))
        # C. each run: the exporter's own report and the traffic's truth vs flowtally.
        if xdec is None:
            for i, (rep, fr) in enumerate(zip(reps, split_frames(dec, [r.export_packets for r in reps]))):
                # this run's records: by the sequence numbers of its packets
                # and its (shifted) traffic span
                seqs = {f["sequence"] for f in fr}
                t = pcaps[i][1]
                tlo = int(min(x["first"] for x in t) * 1e9) - 1500 * 10**6
                thi = int(max(x["last"] for x in t) * 1e9) + 1500 * 10**6
                got = [g for g in recs if g["sequence_num"] in seqs and tlo <= g["time_flow_end_ns"] <= thi]
                if rep.records is not None and rep.records != len(got):
                    errs.append("run %d: exporter reports %d records, flowtally has %d of that run"
                                % (i + 1, rep.records, len(got)))
                if rep.per_proto is not None and ftlib._proto_totals(got) != rep.per_proto:
                    errs.append("run %d: per-protocol [octets, packets]: exporter %s, flowtally %s"
                                % (i + 1, sorted(rep.per_proto.items()), sorted(ftlib._proto_totals(got).items())))
                sampled = runs[i][1]
                if not sampled:
                    errs += ["[run %d flowtally vs traffic] %s" % (i + 1, e) for e in
                             ftlib.compare_truth(pcaps[i][1], got, families, "flowtally")]
                else:
                    bad_rate = [g for g in got if g["sampling_rate"] != sampled]
                    if bad_rate:
                        errs.append("run %d (1 in %d): %d records with another sampling_rate, e.g. %s"
                                    % (i + 1, sampled, len(bad_rate), json.dumps(ftlib._short(bad_rate[0]))))
                # flow times: inside this run's (shifted) traffic span
                for g in got:
                    if not tlo <= g["time_flow_start_ns"] <= g["time_flow_end_ns"] <= thi:
                        errs.append("run %d: flow times %d..%d outside the run's traffic span" %
                                    (i + 1, g["time_flow_start_ns"], g["time_flow_end_ns"]))
                        break

                notes.append("run %d: %s datagrams, %d records" % (i + 1, rep.export_packets, len(got)))
    except Exception as e:  # a harness failure is a failed case, with the reason
        import traceback
        errs.append("exception: %s\n%s" % (e, traceback.format_exc()))
    finally:
        if ft:
            ft.stop()
        for c_ in (cap, capx):
            if c_ and c_.p.poll() is None:
                c_.stop()
        if relay:
            relay.stop()
        ftlib.cleanup()
    res.case(name, errs, notes)


def shifted(base_pcap, base_truth, workdir, tag, n):
    """[(pcap, truth)] for n runs: the base traffic shifted by i*SHIFT s."""
    out = []
    for i in range(n):
        p = os.path.join(workdir, "%s.run%d.pcap" % (tag, i + 1))
        shift_pcap(base_pcap, p, i * SHIFT)
        t = [dict(x) for x in base_truth]
        for x in t:
            if "first" in x:
                x["first"] += i * SHIFT
                x["last"] += i * SHIFT
        out.append((p, t))
    return out


def main(argv):
    missing = ftlib.missing_tools(["softflowd", "pmacctd", "tshark", "tcpdump"])
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return ftlib.SKIP
    only = [a for a in argv[1:] if not a.startswith("--")]
    binary = os.environ.get("FLOWTALLY")
    res = ftlib.Results()
    if not (binary and os.access(binary, os.X_OK)):
        res.case("setup", ["FLOWTALLY must name the flowtally binary (got %r)" % binary])
        return res.finish()
    workdir = tempfile.mkdtemp(prefix="ft-restarts-", dir=os.environ.get("FT_BUILD_DIR") or None)
    base = os.path.join(workdir, "traffic.pcap")
    truth = make_traffic.write(base, os.path.join(workdir, "traffic.truth.json"))
    many = os.path.join(workdir, "many.pcap")
    many_truth = many_flows_pcap(many)
    for t in many_truth:
        t["first"] = 1700000000
        t["last"] = 1700000040

    def want(n):
        return not only or n in only

    if want("restart_v5"):
        run_restarts(res, "restart_v5", binary, workdir, shifted(base, truth, workdir, "v5", 2),
                     [(["-v", "5"], 0), (["-v", "5"], 0)], "NETFLOW_V5", (4,))
    if want("restart_v9"):
        run_restarts(res, "restart_v9", binary, workdir, shifted(base, truth, workdir, "v9", 3),
                     [(["-v", "9", "-T", "full"], 0), (["-v", "9", "-T", "ether", "-s", "4"], 4),
                      (["-v", "9", "-T", "full", "-s", "2"], 2)], "NETFLOW_V9", (4, 6))
    if want("restart_ipfix"):
        run_restarts(res, "restart_ipfix", binary, workdir, shifted(base, truth, workdir, "ipfix", 3),
                     [(["-v", "10", "-T", "full"], 0), (["-v", "10", "-T", "ether", "-A", "milli"], 0),
                      (["-v", "10", "-T", "full", "-s", "3"], 3)], "IPFIX", (4, 6))
    if want("restart_v9_drop"):
        run_restarts(res, "restart_v9_drop", binary, workdir, shifted(many, many_truth, workdir, "v9d", 2),
                     [(["-v", "9", "-T", "full"], 0), (["-v", "9", "-T", "ether"], 0)], "NETFLOW_V9", (4,),
                     drop=(1, 2))
    if want("restart_ipfix_drop"):
        run_restarts(res, "restart_ipfix_drop", binary, workdir, shifted(many, many_truth, workdir, "ipfixd", 2),
                     [(["-v", "10", "-T", "full"], 0), (["-v", "10", "-T", "ether", "-A", "milli"], 0)],
                     "IPFIX", (4,), drop=(1, 2))
    if want("restart_pmacctd_v9"):
        run_restarts(res, "restart_pmacctd_v9", binary, workdir, shifted(base, truth, workdir, "pm", 2),
                     [(test_pmacctd.AGGREGATE, 0),
                      ("src_host, dst_host, src_port, dst_port, proto, tos, tcpflags", 0)],
                     "NETFLOW_V9", (4, 6), kind="pmacctd")
    rc = res.finish()
    if rc == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("files kept in " + workdir)
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
