#!/usr/bin/python3
"""test_pmacctd.py - pmacctd's nfprobe plugin (a real NetFlow v9/IPFIX
exporter) into flowtally.

Cases (each a fresh flowtally on an ephemeral port, tcpdump capturing the
export packets on loopback):
  pmacctd_v9          pcap_savefile traffic.pcap, nfprobe_version 9, source ID 4242
  pmacctd_ipfix       pcap_savefile traffic.pcap, nfprobe_version 10, observation domain 77
  pmacctd_ipfix_live  pcap_interface lo on live loopback traffic (~1000 packets/s, 300
                      flows), exporting while the traffic runs: no record may be lost.
Both file cases export flowStart/EndMilliseconds (152/153), MACs (56, 80),
VLAN (58), ifIndex 7 (nfprobe_ifindex) and direction; traffic.pcap comes from
make_traffic.py (fixed seed; TCP, UDP, ICMP, IPv6, VLAN).

Oracles (see ftlib.run_case): tshark's decode of the captured export packets
(every record, every field), pmacctd's own report (debug log: one EXPIRED line
per flow with octets/packets per direction, "Sent N netflow packets", capture
drops), and the ground truth of the traffic (per-flow packets and bytes).

Usage: FLOWTALLY=build/flowtally /usr/bin/python3 tests/e2e/test_pmacctd.py [--harness-only] [case...]
Exit: 0 all passed, 1 a case failed, 77 a required tool is missing.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import make_traffic  # noqa: E402

# Long enough that, reading a pcap, flows end when pmacctd flushes everything
# at the end of the file (one record per direction), short enough (udp=1) for
# the live case to export while its traffic runs.
FILE_TIMEOUTS = "tcp=120:tcp.rst=10:tcp.fin=10:udp=30:icmp=30:general=60:maxlife=600:expint=1"
LIVE_TIMEOUTS = "tcp=5:udp=1:icmp=1:general=5:maxlife=60:expint=1"
AGGREGATE = "src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, src_mac, dst_mac, vlan"

EXPIRED = re.compile(r"EXPIRED: seq:\d+ \[(.*?)\]:(\d+) <> \[(.*?)\]:(\d+) proto:(\d+) "
                     r"octets>:(\d+) packets>:(\d+) octets<:(\d+) packets<:(\d+)")


def parse_log(text):
    """pmacctd's report about itself (debug: true): an EXPIRED line per
    bidirectional flow with each direction's octets and packets (a direction
    with packets is one exported record), and 'Sent N netflow packets' per
    export burst."""
    rep = ftlib.ExporterReport()
    per, nrec = {}, 0
    for m in EXPIRED.finditer(text):
        proto = int(m.group(5))
        for octets, packets in ((int(m.group(6)), int(m.group(7))), (int(m.group(8)), int(m.group(9)))):
            if packets:
                nrec += 1
                a = per.setdefault(proto, [0, 0])
                a[0] += octets
                a[1] += packets
    sent = [int(x) for x in re.findall(r"Sent (\d+) netflow packets", text)]
    if not sent:
        rep.errors.append("[harness] pmacctd logged no 'Sent N netflow packets' line:\n" + text[-2000:])
    rep.records, rep.export_packets, rep.per_proto = nrec, sum(sent), per
    for m in re.finditer(r"received_packets=(\d+) dropped_packets=(\d+)", text):
        if int(m.group(2)):
            rep.errors.append("[exporter] pmacctd capture dropped packets: " + m.group(0))
    return rep


def write_conf(path, port, version, source, extra):
    lines = ["daemonize: false", "debug: true", source, "plugins: nfprobe[x]",
             "nfprobe_receiver[x]: 127.0.0.1:%d" % port, "nfprobe_version[x]: %d" % version] + list(extra)
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines


def file_case(pcap, workdir, name, version, engine):
    def run(port):
        conf = os.path.join(workdir, name + ".conf")
        # pcap_savefile_delay (CONFIG-KEYS): the core sleeps before playing the
        # file, so the nfprobe plugin process is up and attached to the core's
        # queue first; without it a loaded machine loses the first flows.
        lines = write_conf(conf, port, version, "pcap_savefile: " + pcap, [
            "pcap_savefile_delay: 1", "nfprobe_timeouts[x]: " + FILE_TIMEOUTS, "aggregate[x]: " + AGGREGATE,
            "nfprobe_engine[x]: %d" % engine, "nfprobe_direction[x]: in", "nfprobe_ifindex[x]: 7"])
        p = subprocess.run([ftlib.which("pmacctd"), "-f", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        text = p.stdout.decode("utf-8", "replace")
        rep = parse_log(text)
        rep.rc, rep.log = ftlib.pmacctd_savefile_rc(p.returncode, text, rep.notes), text
        rep.notes.append("pmacctd -f %s: %s" % (conf, "; ".join(lines[2:])))
        return rep
    return run


def live_case(workdir, n_flows=300, pkts_per_flow=5, gap=0.005):
    def run(port):
        rep = ftlib.ExporterReport()
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        tport = rx.getsockname()[1]
        conf = os.path.join(workdir, "pmacctd_live.conf")
        lines = write_conf(conf, port, 10, "pcap_interface: lo", [
            "pcap_filter: udp and dst port %d" % tport, "nfprobe_timeouts[x]: " + LIVE_TIMEOUTS,
            "nfprobe_engine[x]: 5"])
        rep.notes.append("pmacctd -f %s: %s" % (conf, "; ".join(lines[2:])))
        pm = ftlib.start([ftlib.which("pmacctd"), "-f", conf], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = ftlib.LineReader(pm.stdout)
        socks = []
        try:
            if not out.wait_for(r"Exporting flows to", 15):
                rep.errors.append("[harness] pmacctd did not start:\n" + out.text())
                return rep
            time.sleep(0.5)
            truth, n_pkts, t0, t1 = ftlib.send_udp_flows(tport, n_flows, pkts_per_flow, gap, socks)
            # Let the 1 s UDP timeout export flows while pmacctd runs, then stop it
            # (it flushes what is left and logs its capture statistics).
            time.sleep(3.0)
            pm.send_signal(signal.SIGINT)
            try:
                rep.rc = pm.wait(15)
            except subprocess.TimeoutExpired:
                rep.errors.append("[exporter] pmacctd did not exit on SIGINT")
            # The nfprobe plugin is a child process that flushes its flows
            # after the core exits: wait for it to close the shared log pipe.
            if not out.join(20.0):
                rep.errors.append("[exporter] pmacctd's plugin did not exit within 20 s of SIGINT")
            text = out.text()
            r2 = parse_log(text)
            rep.records, rep.export_packets, rep.per_proto = r2.records, r2.export_packets, r2.per_proto
            rep.errors += r2.errors
            m = re.search(r"received_packets=(\d+) dropped_packets=(\d+)", text)
            if not m:
                rep.errors.append("[harness] pmacctd did not log its capture statistics")
            rep.log, rep.truth = text, truth
            rep.span_ns = (int(t0 * 1e9), int(time.time() * 1e9))
            rep.notes.append("live traffic: %d flows, %d packets in %.2f s (%.0f packets/s)"
                             % (n_flows, n_pkts, t1 - t0, n_pkts / (t1 - t0)))
            return rep
        finally:
            for s in socks:
                s.close()
            rx.close()
            ftlib.stop(pm, signal.SIGINT, 10)
    return run


def version():
    p = subprocess.run([ftlib.which("pmacctd"), "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    m = re.search(r"pmacctd (\S+)", p.stdout.decode("utf-8", "replace"))
    return m.group(1) if m else "?"


def main(argv):
    missing = ftlib.missing_tools(["pmacctd", "tshark", "tcpdump"])
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
    workdir = tempfile.mkdtemp(prefix="ft-pmacctd-", dir=os.environ.get("FT_BUILD_DIR") or None)
    pcap = os.path.join(workdir, "traffic.pcap")
    truth = make_traffic.write(pcap, os.path.join(workdir, "traffic.truth.json"))
    span = (int(min(t["first"] for t in truth) * 1e9), int(max(t["last"] for t in truth) * 1e9))
    print("traffic: %s, %d flows, %d packets, %d bytes; pmacctd %s" % (
        pcap, len(truth), sum(t["packets"] for t in truth), sum(t["bytes"] for t in truth), version()))
    for name, ver, engine, typ in (("pmacctd_v9", 9, 4242, "NETFLOW_V9"), ("pmacctd_ipfix", 10, 77, "IPFIX")):
        if only and name not in only:
            continue
        ftlib.run_case(res, name, workdir, binary, file_case(pcap, workdir, name, ver, engine), truth=truth,
                       families=(4, 6), expect_type=typ, span_ns=span)
    if not only or "pmacctd_ipfix_live" in only:
        ftlib.run_case(res, "pmacctd_ipfix_live", workdir, binary, live_case(workdir), families=(4,),
                       expect_type="IPFIX")
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
