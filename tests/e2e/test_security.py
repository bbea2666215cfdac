#!/usr/bin/python3
"""test_security.py - access control of a real flowtally (issue 8, Security).

Cases:
  allow_live   --allow-exporter 127.0.0.1/32 on a loopback listener; flowgen
               sends NetFlow v5 from 127.0.0.1 and, separately, from a socket
               bound to 127.0.0.2. Oracle: flowgen's own totals per run. Only
               127.0.0.1's records are printed (every one of them), --stats has
               one exporter (127.0.0.1), the listener_stats line counts
               datagrams = both runs and not_allowed = exactly the second run's
               datagrams, /metrics flowtally_udp_not_allowed_total says the
               same, and the drop is logged once (rate-limited), not per
               datagram.
  allow_pcap   a flowgen capture of two exporters (192.0.2.1, 192.0.2.2),
               replayed with --pcap --allow-exporter 192.0.2.1. Oracle: tshark's
               decode of the capture (ip.src, cflow.count per datagram): the
               records printed = tshark's v5 record count of 192.0.2.1 and
               not_allowed = tshark's datagram count of 192.0.2.2.
  allow_bad    --allow-exporter with a bad prefix is a usage error (exit 2)
               naming the option.

Needs: $FLOWTALLY, $FT_BUILD_DIR/flowgen, tshark (allow_pcap). Exit 77
when flowgen is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import test_http as th  # noqa: E402  (HTTP client and the strict /metrics parser)

failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def flowgen(args):
    fg = os.path.join(os.environ["FT_BUILD_DIR"], "flowgen")
    r = subprocess.run([fg] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("flowgen %s: rc %d: %s" % (args, r.returncode, r.stderr.decode()[:2000]))
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def kinds(stats, kind):
    return [s for s in stats if s.get("kind") == kind]


def case_allow_live(binary, tmp):
    case = "allow_live"
    ft = th.Ft(binary, tmp, "allow", ["--db", "off", "--allow-exporter", "127.0.0.1/32"])
    a = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v5", "--count", "600", "--rate", "20000",
                 "--source", "127.0.0.1", "--seed", "1"])
    b = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v5", "--count", "450", "--rate", "20000",
                 "--source", "127.0.0.2", "--seed", "2"])
    if b.get("sources") != ["127.0.0.2"] or a.get("sources") != ["127.0.0.1"]:
        fail(case, "flowgen did not bind the sources: %r %r" % (a.get("sources"), b.get("sources")))
    got = ft.wait_lines(a["records"])
    want_dg = a["datagrams"] + b["datagrams"]
    m = th.wait_metric(ft.http, "flowtally_udp_not_allowed_total", b["datagrams"])
    if m != b["datagrams"]:
        fail(case, "/metrics flowtally_udp_not_allowed_total %r, want %d" % (m, b["datagrams"]))
    dg = th.wait_metric(ft.http, "flowtally_udp_datagrams_total", want_dg)
    if dg != want_dg:
        fail(case, "/metrics flowtally_udp_datagrams_total %r, want %d" % (dg, want_dg))
    time.sleep(0.3)
    rc, recs, stats = ft.stop()
    if rc != 0:
        fail(case, "exit status %d" % rc)
    if got != a["records"] or len(recs) != a["records"]:
        fail(case, "%d records printed, 127.0.0.1 sent %d" % (len(recs), a["records"]))
    srcs = sorted(set(r.get("sampler_address") for r in recs))
    if srcs != ["127.0.0.1"]:
        fail(case, "records from %r, want 127.0.0.1 only" % srcs)
    ex = kinds(stats, "exporter_stats")
    if [e.get("exporter") for e in ex] != ["127.0.0.1"]:
        fail(case, "--stats exporters %r, want 127.0.0.1 only" % [e.get("exporter") for e in ex])
    elif ex[0]["counters"].get("packets") != a["datagrams"] or ex[0]["counters"].get("records") != a["records"]:
        fail(case, "--stats 127.0.0.1: %r, flowgen sent %d datagrams %d records" %
             (ex[0]["counters"], a["datagrams"], a["records"]))
    ls = kinds(stats, "listener_stats")
    if len(ls) != 1:
        fail(case, "--stats listener_stats lines: %r" % ls)
    else:
        l0 = ls[0]
        want = {"datagrams": want_dg, "bytes": a["octets"] + b["octets"], "not_allowed": b["datagrams"],
                "kernel_drops": 0}
        bad = {k: (l0.get(k), v) for k, v in want.items() if l0.get(k) != v}
        if bad:
            fail(case, "listener_stats (got, want): %r" % bad)
    err = open(os.path.join(tmp, "allow.stderr")).read()
    logs = [ln for ln in err.splitlines() if "not in --allow-exporter" in ln]
    if len(logs) != 1 or "127.0.0.2" not in logs[0]:
        fail(case, "expected one rate-limited drop line naming 127.0.0.2, got %d: %r" % (len(logs), logs[:3]))
    ok(case, "127.0.0.1: %d records decoded; 127.0.0.2: %d datagrams dropped and counted (stats, metrics, "
       "1 log line)" % (a["records"], b["datagrams"]))


def case_allow_pcap(binary, tmp):
    case = "allow_pcap"
    if not shutil.which("tshark"):
        print("SKIP %s: tshark missing" % case)
        return
    cap = os.path.join(tmp, "two.pcap")
    flowgen(["--pcap-out", cap, "--proto", "v5", "--count", "700", "--exporters", "2", "--seed", "3"])
    r = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "ip.src", "-e", "cflow.count"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    per = {}
    for ln in r.stdout.decode().splitlines():
        src, cnt = ln.split("\t")
        d = per.setdefault(src, [0, 0])
        d[0] += 1
        d[1] += int(cnt)
    if sorted(per) != ["192.0.2.1", "192.0.2.2"]:
        fail(case, "tshark sources %r" % sorted(per))
        return
    p = subprocess.run([binary, "--pcap", cap, "--print", "--stats", "--db", "off", "--allow-exporter",
                        "192.0.2.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    stats = [json.loads(l) for l in p.stderr.decode().splitlines() if l.startswith("{")]
    if p.returncode != 0:
        fail(case, "exit status %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    if len(recs) != per["192.0.2.1"][1] or set(r["sampler_address"] for r in recs) != {"192.0.2.1"}:
        fail(case, "%d records from %r; tshark: 192.0.2.1 has %d" %
             (len(recs), sorted(set(r["sampler_address"] for r in recs)), per["192.0.2.1"][1]))
    ls = [s for s in kinds(stats, "listener_stats") if s.get("listener") == "pcap"]
    want = {"datagrams": per["192.0.2.1"][0], "not_allowed": per["192.0.2.2"][0]}
    if len(ls) != 1 or any(ls[0].get(k) != v for k, v in want.items()):
        fail(case, "pcap listener_stats %r, want %r" % (ls, want))
    if [e["exporter"] for e in kinds(stats, "exporter_stats")] != ["192.0.2.1"]:
        fail(case, "exporters %r" % [e["exporter"] for e in kinds(stats, "exporter_stats")])
    ok(case, "capture: %d records of 192.0.2.1 decoded, %d datagrams of 192.0.2.2 not allowed (tshark)" %
       (per["192.0.2.1"][1], per["192.0.2.2"][0]))


def case_allow_bad(binary, tmp):
    case = "allow_bad"
    p = subprocess.run([binary, "--allow-exporter", "10.0.0.0/33", "--pcap", "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 2 or b"--allow-exporter" not in p.stderr:
        fail(case, "rc %d, stderr %r" % (p.returncode, p.stderr[:300]))
    else:
        ok(case, "a bad prefix is a usage error naming the option")


CASES = [("allow_live", case_allow_live), ("allow_pcap", case_allow_pcap), ("allow_bad", case_allow_bad)]


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    if not os.path.exists(os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")):
        print("SKIP: flowgen not built (FT_BUILD_DIR)")
        return ftlib.SKIP
    only = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="ft-sec-", dir=os.environ.get("FT_BUILD_DIR"))
    try:
        for name, fn in CASES:
            if not only or name in only:
                fn(binary, tmp)
    except Exception as e:  # a harness error is a failure, with its trace
        import traceback
        traceback.print_exc()
        fail("harness", repr(e))
    finally:
        ftlib.cleanup()
    if failures:
        print("%d failure(s) in %s; files in %s" % (len(failures), sorted(set(failures)), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("all security cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
