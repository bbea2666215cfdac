#!/usr/bin/python3
"""test_softflowd.py - softflowd (a real NetFlow/IPFIX exporter) into flowtally.

Cases (each a fresh flowtally on an ephemeral port, tcpdump capturing the
export packets on loopback):
  softflowd_v5           softflowd -r traffic.pcap -v 5   (IPv4 only: v5 has no IPv6)
  softflowd_v9           softflowd -r traffic.pcap -v 9   (FIRST/LAST_SWITCHED sysUptime times)
  softflowd_ipfix        softflowd -r traffic.pcap -v 10  (sysUpTime 22/21 + systemInitTimeMilliseconds 160)
  softflowd_ipfix_milli  ... -v 10 -A milli               (flowStart/EndMilliseconds 152/153)
  softflowd_ipfix_nano   ... -v 10 -A nano                (flowStart/EndNanoseconds 156/157, NTP format)
  softflowd_v9_live      softflowd -i lo -v 9 on live loopback traffic (~1000 packets/s, 300 flows),
                         exporting while the traffic runs: no record may be lost.
traffic.pcap comes from make_traffic.py (fixed seed; TCP, UDP, ICMP, IPv6, VLAN).
-a makes softflowd take its clock from the pcap, so flow times are the traffic's.

Oracles (see ftlib.run_case): tshark's decode of the captured export packets
(every record, every field), softflowd's own statistics (records, datagrams,
per-protocol octets/packets, packets processed), and the ground truth of the
traffic (per-flow packets and bytes).

Usage: FLOWTALLY=build/flowtally /usr/bin/python3 tests/e2e/test_softflowd.py [--harness-only] [case...]
Exit: 0 all passed, 1 a case failed, 77 a required tool is missing.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import make_traffic  # noqa: E402


def parse_stats(text):
    """softflowd's statistics (printed on exit with -r, or by softflowctl):
    records/datagrams exported, failures, per-protocol octets and packets."""
    rep = ftlib.ExporterReport()
    m = re.search(r"Flows exported: (\d+) \((\d+) records\) in (\d+) packets \((\d+) failures\)", text)
    if not m:
        rep.errors.append("[harness] no 'Flows exported' line in softflowd's statistics:\n" + text[-2000:])
        return rep
    rep.records, rep.export_packets, rep.failures = int(m.group(2)), int(m.group(3)), int(m.group(4))
    per = {}
    tail = text.split("Per-protocol statistics:", 1)
    for line in (tail[1] if len(tail) > 1 else "").splitlines():
        pm = re.match(r"\s*\S+ \((\d+)\):\s+(\d+)\s+(\d+)\s", line)
        if pm:
            per[int(pm.group(1))] = [int(pm.group(2)), int(pm.group(3))]
    rep.per_proto = per
    pp = re.search(r"Packets processed: (\d+)", text)
    rep.processed = int(pp.group(1)) if pp else None
    return rep


def file_case(pcap, truth, workdir, version, extra=()):
    families = (4,) if version == 5 else (4, 6)

    def run(port):
        cmd = [ftlib.which("softflowd"), "-r", pcap, "-d", "-a", "-v", str(version),
               "-n", "127.0.0.1:%d" % port, "-p", os.path.join(workdir, "softflowd.pid")] + list(extra)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        text = p.stdout.decode("utf-8", "replace")
        rep = parse_stats(text)
        rep.rc, rep.log = p.returncode, text
        rep.notes.append(" ".join(cmd))
        # Exporter vs traffic: softflowd processed every packet of the families it exports.
        want = sum(t["packets"] for t in truth if t["family"] in families)
        if getattr(rep, "processed", None) is not None and rep.processed != want:
            rep.errors.append("[exporter vs traffic] softflowd processed %d packets, traffic has %d (IPv%s)"
                              % (rep.processed, want, "/".join(map(str, families))))
        return rep
    return run, families


def live_case(workdir, n_flows=300, pkts_per_flow=5, gap=0.005):
    """softflowd capturing loopback traffic it exports while the traffic runs."""

    def run(port):
        rep = ftlib.ExporterReport()
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        tport = rx.getsockname()[1]
        ctl = os.path.join(workdir, "softflowd.ctl")
        cmd = [ftlib.which("softflowd"), "-i", "lo", "-d", "-v", "9", "-n", "127.0.0.1:%d" % port,
               "-p", os.path.join(workdir, "softflowd-live.pid"), "-c", ctl,
               "-t", "udp=1", "-t", "expint=1", "udp and dst port %d" % tport]
        rep.notes.append(" ".join(cmd))
        sf = ftlib.start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = ftlib.LineReader(sf.stdout)
        socks = []
        try:
            if not out.wait_for(r"starting data collection", 10):
                rep.errors.append("[harness] softflowd did not start:\n" + out.text())
                return rep
            for _ in range(50):
                if os.path.exists(ctl):
                    break
                time.sleep(0.05)
            time.sleep(0.3)

            def ctlcmd(c):
                return subprocess.run([ftlib.which("softflowctl"), "-c", ctl, c], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=10).stdout.decode("utf-8", "replace")

            truth, n_pkts, t0, t1 = ftlib.send_udp_flows(tport, n_flows, pkts_per_flow, gap, socks)
            # softflowd opens its capture with no timeout, so libpcap (TPACKET_V3)
            # hands it packets only in full 256 KiB ring blocks: the last ones stay
            # in the ring. A filler flow pushes them out; it is excluded from the
            # ground truth (its own tail may stay behind) but not from the
            # tshark/self-report comparisons.
            filler = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            filler.bind(("127.0.0.1", 0))
            socks.append(filler)
            processed = 0
            for _ in range(100):
                for _k in range(200):
                    filler.sendto(bytes(64), ("127.0.0.1", tport))
                time.sleep(0.05)
                m = re.search(r"Packets processed: (\d+)", ctlcmd("statistics"))
                processed = int(m.group(1)) if m else 0
                if processed > n_pkts:
                    break
            if processed <= n_pkts:
                rep.errors.append("[harness] softflowd processed only %d of %d packets" % (processed, n_pkts))
            rep.exclude = {("127.0.0.1", "127.0.0.1", 17, filler.getsockname()[1], tport)}
            # Let the 1 s UDP timeout export the flows as it would in production,
            # then expire what is left and read softflowd's statistics.
            time.sleep(2.2)
            ctlcmd("expire-all")
            time.sleep(0.5)
            text = ctlcmd("statistics")
            r2 = parse_stats(text)
            rep.records, rep.export_packets, rep.failures, rep.per_proto = \
                r2.records, r2.export_packets, r2.failures, r2.per_proto
            rep.errors += r2.errors
            m = re.search(r"Packets dropped by libpcap: (\d+)", text)
            if not m or int(m.group(1)) != 0:
                rep.errors.append("[exporter] libpcap drops: %s" % (m.group(0) if m else "not reported"))
            ctlcmd("shutdown")
            # softflowd -d installs no SIGTERM handler: wait for the shutdown
            # asked above instead of signalling it.
            try:
                rep.rc = sf.wait(10)
                # softflowd 1.1.0 exits 1 after a graceful shutdown asked over
                # its control socket (its main loop ends with the poll result).
                if rep.rc == 1 and "Shutting down on user request" in out.text():
                    rep.rc = 0
            except subprocess.TimeoutExpired:
                rep.errors.append("[exporter] softflowd did not exit after 'softflowctl shutdown'")
            rep.log = out.text() + "\n" + text
            rep.truth = truth
            rep.span_ns = (int(t0 * 1e9), int(time.time() * 1e9))
            rep.notes.append("live traffic: %d flows, %d packets in %.2f s (%.0f packets/s)"
                             % (n_flows, n_pkts, t1 - t0, n_pkts / (t1 - t0)))
            return rep
        finally:
            for s in socks:
                s.close()
            rx.close()
            ftlib.stop(sf, timeout=5)
    return run


def main(argv):
    missing = ftlib.missing_tools(["softflowd", "softflowctl", "tshark", "tcpdump"])
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return ftlib.SKIP
    harness_only = "--harness-only" in argv
    only = [a for a in argv[1:] if not a.startswith("--")]
    binary = None if harness_only else os.environ.get("FLOWTALLY")
    res = ftlib.Results()
    if not harness_only and not (binary and os.access(binary, os.X_OK)):
        res.case("setup", ["FLOWTALLY must name the flowtally binary (got %r); --harness-only runs "
                           "the exporters without it" % binary])
        return res.finish()
    base = os.environ.get("FT_BUILD_DIR") or None
    workdir = tempfile.mkdtemp(prefix="ft-softflowd-", dir=base)
    pcap = os.path.join(workdir, "traffic.pcap")
    truth = make_traffic.write(pcap, os.path.join(workdir, "traffic.truth.json"))
    span = (int(min(t["first"] for t in truth) * 1e9), int(max(t["last"] for t in truth) * 1e9))
    print("traffic: %s, %d flows, %d packets, %d bytes; softflowd %s" % (
        pcap, len(truth), sum(t["packets"] for t in truth), sum(t["bytes"] for t in truth), version()))

    cases = [
        ("softflowd_v5", 5, (), "NETFLOW_V5"),
        ("softflowd_v9", 9, (), "NETFLOW_V9"),
        ("softflowd_ipfix", 10, (), "IPFIX"),
        ("softflowd_ipfix_milli", 10, ("-A", "milli"), "IPFIX"),
        ("softflowd_ipfix_nano", 10, ("-A", "nano"), "IPFIX"),
    ]
    for name, ver, extra, typ in cases:
        if only and name not in only:
            continue
        run, fams = file_case(pcap, truth, workdir, ver, extra)
        ftlib.run_case(res, name, workdir, binary, run, truth=truth, families=fams,
                       expect_type=typ, span_ns=span)
    if not only or "softflowd_v9_live" in only:
        ftlib.run_case(res, "softflowd_v9_live", workdir, binary, live_case(workdir), families=(4,),
                       expect_type="NETFLOW_V9")
    rc = res.finish()
    if rc == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("files kept in " + workdir)
    return rc


def version():
    p = subprocess.run([ftlib.which("softflowd"), "-h"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    m = re.search(r"softflowd version (\S+)", p.stdout.decode("utf-8", "replace"))
    return m.group(1).rstrip(".") if m else "?"


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
