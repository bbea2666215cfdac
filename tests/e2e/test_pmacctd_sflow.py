#!/usr/bin/python3
"""test_pmacctd_sflow.py - pmacctd's sfprobe plugin (a real sFlow v5 agent)
into flowtally.

pmacctd reads traffic.pcap (pcap_savefile) and its sfprobe plugin samples
the frames and exports sFlow v5 datagrams (flow samples: a sampled Ethernet
header + extended switch, and extended router/gateway with a networks_file)
to a live flowtally (--listen sflow://127.0.0.1:PORT --print --stats) while
tcpdump captures them on loopback.

traffic.pcap: make_traffic.py with extras (fixed seeds): IPv4/IPv6 TCP, UDP,
ICMP/ICMPv6 (echo, unreachable, time exceeded, neighbour discovery), VLAN
tags (IPv4 and IPv6, two stacked tags), MPLS stacks of 1-3 labels, an IPv6
destination options header, an IPv4 option; no tunnels (GRE is parsed on
another branch). Then a flush tail of TAIL small frames: sfprobe sends a
datagram when the next sample does not fit or on its once-a-second tick,
which runs only when pmacctd's core hands it more packets (or after 60 s
idle), and at the end of a savefile the core stops the plugin with SIGINT
2 s after the last packet, so the last, partly filled datagram (at most 9
samples of 60-byte frames) is never sent. pcap_savefile_wait does not help:
the plugin then flushes only on its 60 s poll timeout, and the SIGINT that
ends it makes it re-read a stale pipe buffer ("Missing data detected") and
export samples of frames that are not in the traffic. pcap_savefile_delay
only replaces the 2 s sleep before reading (we use 1 s: the plugin reads
the core's buffers whenever it is up). So the tail absorbs the unsent
datagram and every traffic frame before it reaches the wire.

Cases (each a fresh flowtally on an ephemeral port):
  sfprobe_rate1      sampling_rate 1 (every frame sampled), sfprobe_agentip
                     192.0.2.200, sfprobe_agentsubid 7, sfprobe_ifindex 5,
                     direction in: totals must equal the traffic.
  sfprobe_rate4_out  sampling_rate 4 (random 1 in 4), direction out,
                     sfprobe_ifindex 9, pmacctd's default agent address and
                     sub-agent id (whatever it puts on the wire), and a
                     networks_file giving prefix lengths, ASNs and a BGP next
                     hop (extended router + gateway records).

Oracles:
  - tshark's decode of the captured datagrams (sflow_245.* / sflow.* fields,
    the sampled header dissected by tshark): every flow sample, every field,
    against flowtally's --print (ftlib.SflowDecode, ftlib.compare);
  - the traffic pcap: the n-th sample_pool packet is the n-th frame, whose
    first bytes are the sampled header and whose length + FCS is
    frame_length; per flow, flowtally's packets and bytes equal those of the
    sampled frames (rate 1: of the whole traffic);
  - pmacctd's own log (debug: true): one line per sampled packet with its
    length, in order, and "Sampling at: 1/N";
  - flowtally's --stats against the capture (datagrams, octets, flow and
    counter samples, sequence gaps computed from the wire, no errors).

Usage: FLOWTALLY=build/flowtally /usr/bin/python3 tests/e2e/test_pmacctd_sflow.py [--harness-only] [case...]
Exit: 0 all passed, 1 a case failed, 77 a required tool is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

TAIL = 24  # flush-tail frames: more than one datagram of 60-byte samples
SAMPLED = re.compile(r"DEBUG \( \S+/sfprobe \): ([0-9a-f]{12}) -> ([0-9a-f]{12}) \(len = (\d+), captured = (\d+)\)")

# networks_file (pmacct's examples/networks.lst.example format):
# [next hop,][peer AS_]origin AS,prefix/len.
NETWORKS = """\
64512_65001,10.0.0.0/24
198.51.100.1,65002,192.0.2.0/24
65003,198.51.100.0/25
65004,203.0.113.0/24
65010,2001:db8:1::/48
65020,2001:db8:2::/48
"""


def parse_log(text):
    """pmacctd's report about itself (debug: true): a line per packet the
    sfprobe sampler took, in order, with its length and captured bytes;
    the sampling rate; warnings."""
    out = {"sampled": [(int(m.group(3)), int(m.group(4))) for m in SAMPLED.finditer(text)],
           "errors": []}
    m = re.search(r"Sampling at: 1/(\d+)", text)
    out["rate"] = int(m.group(1)) if m else None
    if out["rate"] is None:
        out["errors"].append("[harness] pmacctd logged no 'Sampling at: 1/N' line:\n" + text[-2000:])
    for line in text.splitlines():
        if "Missing data detected" in line or line.startswith("ERROR"):
            out["errors"].append("[exporter] pmacctd: " + line)
    return out


def check_log(log, dec, rate, most_per_datagram):
    """pmacctd's sample log vs the samples on the wire: the wire holds the
    first ones in order (frame lengths + FCS, header lengths), missing at most
    the one datagram the plugin keeps at exit."""
    errs = []
    if log["rate"] is not None and log["rate"] != rate:
        errs.append("[exporter] pmacctd says 'Sampling at: 1/%d', configured %d" % (log["rate"], rate))
    sampled = log["sampled"]
    for k, x in enumerate(dec.samples):
        if k >= len(sampled):
            errs.append("[exporter vs log] %s: sample %d on the wire, pmacctd logged %d" % (x["where"], k + 1, len(sampled)))
            break
        ln, cap = sampled[k]
        if x.get("frame_length") is None or x["frame_length"] - x["stripped"] != ln or x["header_length"] > cap:
            errs.append("[exporter vs log] %s: frame_length %s stripped %s header %s, pmacctd logged len %d captured %d"
                        % (x["where"], x.get("frame_length"), x.get("stripped"), x.get("header_length"), ln, cap))
    unsent = len(sampled) - len(dec.samples)
    if unsent < 0 or unsent > most_per_datagram:
        errs.append("[exporter] pmacctd sampled %d packets, %d reached the wire (more than the one datagram of at "
                    "most %d samples it keeps at exit)" % (len(sampled), len(dec.samples), most_per_datagram))
    return errs


def sfprobe_case(pcap, workdir, name, rate, settings, n_frames):
    def run(port):
        conf = os.path.join(workdir, name + ".conf")
        lines = ["daemonize: false", "debug: true", "pcap_savefile: " + pcap, "plugins: sfprobe[x]",
                 "sfprobe_receiver[x]: 127.0.0.1:%d" % port, "sampling_rate[x]: %d" % rate,
                 "pcap_savefile_delay: 1"] + list(settings)
        with open(conf, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        rep = ftlib.ExporterReport()
        rep.notes.append("pmacctd -f %s: %s" % (conf, "; ".join(lines[3:])))
        try:
            p = subprocess.run([ftlib.which("pmacctd"), "-f", conf], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        except subprocess.TimeoutExpired as e:
            rep.errors.append("[exporter] pmacctd did not finish the savefile within 60 s")
            rep.log = (e.stdout or b"").decode("utf-8", "replace")
            return rep
        rep.log = p.stdout.decode("utf-8", "replace")
        rep.rc = ftlib.pmacctd_savefile_rc(p.returncode, rep.log, rep.notes)
        log = parse_log(rep.log)
        rep.errors += log["errors"]
        if rate == 1 and len(log["sampled"]) != n_frames:
            rep.errors.append("[exporter] sampling 1/1, pmacctd logged %d samples for %d frames"
                              % (len(log["sampled"]), n_frames))

        def check(dec):
            per = max((f["flow_samples"] for f in dec.frames), default=0)
            unsent = len(log["sampled"]) - len(dec.samples)
            note = ("pmacctd sampled %d of %d frames, %d reached the wire%s; at most %d samples per datagram"
                    % (len(log["sampled"]), n_frames, len(dec.samples),
                       " (%d in the datagram left unsent at exit)" % unsent if unsent > 0 else "", per))
            return check_log(log, dec, rate, per), [note]
        rep.check = check
        return rep
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
    import make_traffic
    from scapy.all import rdpcap
    harness_only = "--harness-only" in argv
    only = [a for a in argv[1:] if not a.startswith("--")]
    binary = None if harness_only else os.environ.get("FLOWTALLY")
    res = ftlib.Results()
    if not harness_only and not (binary and os.access(binary, os.X_OK)):
        res.case("setup", ["FLOWTALLY must name the flowtally binary (got %r); --harness-only runs "
                           "the exporter without it" % binary])
        return res.finish()
    workdir = tempfile.mkdtemp(prefix="ft-sfprobe-", dir=os.environ.get("FT_BUILD_DIR") or None)
    pcap = os.path.join(workdir, "traffic.pcap")
    truth = make_traffic.write(pcap, os.path.join(workdir, "traffic.truth.json"), extras=True, tail=TAIL)
    frames = [b for _, b in ftlib.pcap_frames(pcap)]
    keys = [make_traffic.classify(p)[0] for p in rdpcap(pcap)]
    if len(keys) != len(frames):
        res.case("setup", ["scapy reads %d frames, the pcap reader %d" % (len(keys), len(frames))])
        return res.finish()
    tail = range(len(frames) - TAIL, len(frames))
    print("traffic: %s, %d flows, %d frames (%d of them the flush tail), %d frame bytes; pmacctd %s" % (
        pcap, len(truth), len(frames), TAIL, sum(len(f) for f in frames), version()))
    nets = os.path.join(workdir, "networks.lst")
    with open(nets, "w") as fh:
        fh.write(NETWORKS)
    cases = [
        ("sfprobe_rate1", 1, ["sfprobe_agentip[x]: 192.0.2.200", "sfprobe_agentsubid[x]: 7",
                              "sfprobe_ifindex[x]: 5", "sfprobe_direction[x]: in"]),
        ("sfprobe_rate4_out", 4, ["sfprobe_ifindex[x]: 9", "sfprobe_direction[x]: out",
                                  "networks_file: " + nets, "pmacctd_as: file", "pmacctd_net: file",
                                  "aggregate[x]: src_as, dst_as, peer_dst_ip, vlan"]),
    ]
    for name, rate, settings in cases:
        if only and name not in only:
            continue
        profile = ftlib.SflowProfile(frames, keys, tail, expect_rate=rate)
        ftlib.run_case(res, name, workdir, binary, sfprobe_case(pcap, workdir, name, rate, settings, len(frames)),
                       truth=truth, expect_type="SFLOW_5", ft_extra=("--rcvbuf", "4m"), profile=profile)
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
