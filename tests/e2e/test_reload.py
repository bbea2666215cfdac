#!/usr/bin/python3
"""test_reload.py - a --config file and SIGHUP reloads of a running flowtally
(issue 8: configuration file, reload without dropping packets).

Cases:
  allow_sampling  flowtally --config FILE (allow-exporter 127.0.0.1 and
             127.0.0.2, no sampling override), one worker. flowgen (NetFlow
             v5, 10 records per datagram) sends from 127.0.0.1 and 127.0.0.2
             before the reload (phase A), during it (phase B: both at 2000
             records/s for 2 s; the file is rewritten - allow-exporter
             127.0.0.1 only, sampling-rate 127.0.0.1/32=7, workers = 2 - and
             SIGHUP sent 0.7 s in) and after it (phase C). Oracles: flowgen's
             own totals per run and the RFC-free arithmetic of its fixed 10
             records per datagram. Asserted: the listener received every
             datagram flowgen sent (listener_stats datagrams = the sum, no
             kernel drop), so none was lost during the reload; for 127.0.0.2,
             datagrams decoded (--stats packets) + not_allowed = all it sent,
             at least its phase A was decoded and at least its phase C was
             dropped; 127.0.0.1 lost nothing (packets and records = sent);
             records printed = 10 x datagrams decoded per exporter; the
             sampling_rate of 127.0.0.1's printed records is flowgen's 1000
             for all of phase A, 7 for all of phase C, and switches once and
             for all (never back); --stats says 7; the log says "configuration
             reloaded" and "--workers changed: needs a restart";
             /metrics flowtally_config_reloads_total{result="ok"} = 1. Then a
             bad line ("workers = many") and a SIGHUP: the log names
             FILE:LINE, {result="failed"} = 1, and 127.0.0.2 stays refused
             (the previous configuration is still in force).
  geoip      --geoip-country from the config file (databases written by
             MaxMind's own writer, mkmmdb.pl), NetFlow v5 records between
             public addresses built here: countries as database 1 says; the
             file replaced in place (rename, as geoipupdate does) + SIGHUP:
             the same addresses (cached by the worker before) now get
             database 2's countries; the config file pointed at a third
             database in another layout (ip-location-db country_code) +
             SIGHUP: its countries; the config pointed at a file that is not
             a MaxMind DB + SIGHUP: reload failed (logged with the file's
             name, counted) and database 3's countries stay.
  cli_wins   --config FILE with workers and allow-exporter, and the same
             options on the command line: the command line wins (one worker
             logged; allow-exporter replaced, so 127.0.0.2, refused by the
             file, is decoded).

Needs: $FLOWTALLY, $FT_BUILD_DIR/flowgen; geoip also perl's
MaxMind::DB::Writer (skipped alone when missing). Exit 77 without flowgen.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import test_http as th  # noqa: E402  (Ft: flowtally with HTTP; the /metrics parser)

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    if case not in failures:
        print("ok %s: %s" % (case, msg))


def fg_cmd(port, source, extra):
    return [os.path.join(os.environ["FT_BUILD_DIR"], "flowgen"), "--target", "127.0.0.1:%d" % port, "--proto",
            "v5", "--records-per-datagram", "10", "--source", source] + extra


def flowgen(port, source, extra):
    r = subprocess.run(fg_cmd(port, source, extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("flowgen: rc %d: %s" % (r.returncode, r.stderr.decode()[:2000]))
    t = json.loads(r.stdout.decode().strip().splitlines()[-1])
    if t.get("sources") != [source]:
        raise RuntimeError("flowgen did not bind %s: %r" % (source, t.get("sources")))
    return t


def flowgen_bg(port, source, extra):
    return ftlib.start(fg_cmd(port, source, extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def flowgen_wait(p):
    out, err = p.communicate(timeout=60)
    if p.returncode != 0:
        raise RuntimeError("flowgen: rc %d: %s" % (p.returncode, err.decode()[:2000]))
    return json.loads(out.decode().strip().splitlines()[-1])


def count_lines(ft, regex):
    rx = re.compile(regex)
    return sum(1 for ln in ft.err.text().splitlines() if rx.search(ln))


def wait_lines(ft, regex, n, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if count_lines(ft, regex) >= n:
            return True
        time.sleep(0.05)
    return False


def reloads(port):
    fams = th.metrics("reload", port)
    return (th.sample(fams, "flowtally_config_reloads_total", result="ok"),
            th.sample(fams, "flowtally_config_reloads_total", result="failed"))


def write(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def kinds(stats, kind):
    return [s for s in stats if s.get("kind") == kind]


def case_allow_sampling(binary, tmp):
    case = "allow_sampling"
    conf = os.path.join(tmp, "as.conf")
    write(conf, "# phase A\ndb = off\nallow-exporter = 127.0.0.1\nallow-exporter = 127.0.0.2\n")
    ft = th.Ft(binary, tmp, "as", ["--config", conf])
    sent = {"127.0.0.1": [], "127.0.0.2": []}
    # A: before the reload.
    for src, seed in (("127.0.0.1", 1), ("127.0.0.2", 2)):
        sent[src].append(flowgen(ft.port, src, ["--count", "200", "--rate", "20000", "--seed", str(seed)]))
    ft.wait_lines(400)
    # B: the reload while both send.
    bg = [(src, flowgen_bg(ft.port, src, ["--rate", "2000", "--duration", "2", "--seed", str(seed)]))
          for src, seed in (("127.0.0.1", 3), ("127.0.0.2", 4))]
    time.sleep(0.7)
    write(conf, "# phase C\ndb = off\nallow-exporter = 127.0.0.1\nsampling-rate = 127.0.0.1/32=7\nworkers = 2\n")
    ft.p.send_signal(signal.SIGHUP)
    for src, p in bg:
        sent[src].append(flowgen_wait(p))
    if not wait_lines(ft, r"configuration reloaded \(generation 1\), in effect on every worker", 1):
        fail(case, "no 'configuration reloaded' line:\n%s" % ft.err.text()[-3000:])
    # C: after it.
    for src, seed in (("127.0.0.1", 5), ("127.0.0.2", 6)):
        sent[src].append(flowgen(ft.port, src, ["--count", "200", "--rate", "20000", "--seed", str(seed)]))
    ok_n, failed_n = reloads(ft.http)
    if (ok_n, failed_n) != (1, 0):
        fail(case, "/metrics reloads ok %r failed %r, want 1 0" % (ok_n, failed_n))
    # A bad file: refused, counted, the previous configuration stays.
    write(conf, "db = off\nallow-exporter = 127.0.0.1\nsampling-rate = 127.0.0.1/32=7\nworkers = many\n")
    ft.p.send_signal(signal.SIGHUP)
    if not wait_lines(ft, r"configuration not reloaded, the running one stays: %s:4: --workers: 'many' is not a "
                      r"number" % re.escape(conf), 1):
        fail(case, "no 'not reloaded' line naming %s:4:\n%s" % (conf, ft.err.text()[-2000:]))
    sent["127.0.0.2"].append(flowgen(ft.port, "127.0.0.2", ["--count", "100", "--rate", "20000", "--seed", "7"]))
    ok_n, failed_n = reloads(ft.http)
    if (ok_n, failed_n) != (1, 1):
        fail(case, "/metrics reloads ok %r failed %r after the bad file, want 1 1" % (ok_n, failed_n))
    total_dg = sum(t["datagrams"] for v in sent.values() for t in v)
    th.wait_metric(ft.http, "flowtally_udp_datagrams_total", total_dg)
    time.sleep(0.3)
    rc, recs, stats = ft.stop()
    if rc != 0:
        fail(case, "exit status %d" % rc)

    ls = kinds(stats, "listener_stats")
    ex = dict((e["exporter"], e) for e in kinds(stats, "exporter_stats"))
    if len(ls) != 1 or ls[0]["datagrams"] != total_dg or ls[0]["kernel_drops"] != 0:
        fail(case, "listener_stats %r, flowgen sent %d datagrams: some were lost" % (ls, total_dg))
        return
    not_allowed = ls[0]["not_allowed"]
    one, two = sent["127.0.0.1"], sent["127.0.0.2"]
    e1, e2 = ex.get("127.0.0.1"), ex.get("127.0.0.2")
    if not e1 or not e2:
        fail(case, "--stats exporters %r" % sorted(ex))
        return
    dg1 = sum(t["datagrams"] for t in one)
    rec1 = sum(t["records"] for t in one)
    if e1["counters"]["packets"] != dg1 or e1["counters"]["records"] != rec1:
        fail(case, "127.0.0.1 decoded %d datagrams %d records, sent %d %d" %
             (e1["counters"]["packets"], e1["counters"]["records"], dg1, rec1))
    dg2 = sum(t["datagrams"] for t in two)
    dec2 = e2["counters"]["packets"]
    if dec2 + not_allowed != dg2:
        fail(case, "127.0.0.2: %d decoded + %d not allowed != %d sent" % (dec2, not_allowed, dg2))
    if dec2 < two[0]["datagrams"] or not_allowed < two[2]["datagrams"] + two[3]["datagrams"]:
        fail(case, "127.0.0.2: %d decoded (phase A sent %d), %d refused (phases C and after the bad file sent %d)" %
             (dec2, two[0]["datagrams"], not_allowed, two[2]["datagrams"] + two[3]["datagrams"]))
    for a, e in (("127.0.0.1", e1), ("127.0.0.2", e2)):
        n = sum(1 for r in recs if r.get("sampler_address") == a)
        if n != 10 * e["counters"]["packets"] or n != e["counters"]["records"]:
            fail(case, "%s: %d records printed, %d datagrams decoded" % (a, n, e["counters"]["packets"]))
    rates = [r.get("sampling_rate") for r in recs if r.get("sampler_address") == "127.0.0.1"]
    switch = rates.index(7) if 7 in rates else len(rates)
    if set(rates[:switch]) != {1000} or set(rates[switch:]) != {7} or \
            switch < one[0]["records"] or len(rates) - switch < one[2]["records"]:
        fail(case, "127.0.0.1 sampling rates: %d x 1000 then %d x 7 (%r); phase A %d records, phase C %d" %
             (switch, len(rates) - switch, sorted(set(rates)), one[0]["records"], one[2]["records"]))
    if e1.get("sampling_rate") != 7:
        fail(case, "--stats sampling_rate of 127.0.0.1: %r, want 7" % e1.get("sampling_rate"))
    err = ft.err.text()
    if "--workers changed: needs a restart" not in err:
        fail(case, "no 'needs a restart' line for --workers")
    if "netflow://127.0.0.1:%d (1 worker)" % ft.port not in err or "2 workers" in err:
        fail(case, "the worker count changed without a restart")
    ok(case, "%d datagrams sent, all received; 127.0.0.2: %d decoded, %d refused after the reload; 127.0.0.1: "
       "%d records at rate 1000 then %d at 7; a bad file refused (file:line), the old settings kept" %
       (total_dg, dec2, not_allowed, switch, len(rates) - switch))


def v5_datagram(seq, pairs):
    """NetFlow v5 (Cisco's header of 24 bytes, records of 48), one record per
    (src, dst) pair, sampling interval 0."""
    now = time.time()
    uptime = 3600000
    hdr = struct.pack("!HHIIIIBBH", 5, len(pairs), uptime, int(now), 0, seq, 0, 0, 0)
    body = b""
    for src, dst in pairs:
        body += (socket.inet_aton(src) + socket.inet_aton(dst) + socket.inet_aton("0.0.0.0") +
                 struct.pack("!HHIIIIHHBBBBHHBBH", 1, 2, 10, 1000, uptime - 2000, uptime - 1000, 40000, 443, 0,
                             0x10, 6, 0, 0, 0, 24, 24, 0))
    return hdr + body


PAIRS = [("8.8.8.8", "1.1.1.1"), ("9.9.9.9", "8.8.4.4")]


def send_and_read(ft, sock, seq, already):
    sock.sendto(v5_datagram(seq, PAIRS), ("127.0.0.1", ft.port))
    ft.wait_lines(already + len(PAIRS))
    with open(ft.out_path, encoding="utf-8") as f:
        recs = [json.loads(l) for l in f if l.strip()]
    return [(r.get("src_country"), r.get("dst_country")) for r in recs[already:]]


def build_db(path, layout, entries):
    tmp = path + ".new"
    subprocess.run(["perl", os.path.join(HERE, "mkmmdb.pl"), tmp, layout, "6"] + ["%s=%s" % e for e in entries],
                   check=True, timeout=120)
    os.rename(tmp, path)


def case_geoip(binary, tmp):
    case = "geoip"
    if subprocess.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"], stderr=subprocess.DEVNULL).returncode:
        print("SKIP %s: perl MaxMind::DB::Writer missing (apt-get install libmaxmind-db-writer-perl)" % case)
        return
    db1 = os.path.join(tmp, "country.mmdb")
    db3 = os.path.join(tmp, "other.mmdb")
    bad = os.path.join(tmp, "not-a-db.mmdb")
    nets = ["8.8.8.0/24", "1.1.1.0/24", "9.9.9.0/24", "8.8.4.0/24"]
    build_db(db1, "maxmind-country", list(zip(nets, ["US", "AU", "CH", "SE"])))
    build_db(db3, "iplocation", list(zip(nets, ["JP", "BR", "IN", "ZA"])))
    with open(bad, "w") as f:
        f.write("not a MaxMind DB\n")
    conf = os.path.join(tmp, "geo.conf")
    write(conf, "db = off\ngeoip-country = %s\n" % db1)
    ft = th.Ft(binary, tmp, "geo", ["--config", conf])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    steps = []
    got = send_and_read(ft, sock, 0, 0)
    steps.append(("database 1", got, [("US", "AU"), ("CH", "SE")]))
    # The same file name, new contents (renamed over it): reopened on SIGHUP.
    build_db(db1, "maxmind-country", list(zip(nets, ["DE", "FR", "IT", "ES"])))
    ft.p.send_signal(signal.SIGHUP)
    wait_lines(ft, r"configuration reloaded \(generation 1\), in effect", 1)
    got = send_and_read(ft, sock, 2, 2)
    steps.append(("database 1 replaced", got, [("DE", "FR"), ("IT", "ES")]))
    # Another file, another layout.
    write(conf, "db = off\ngeoip-country = %s\n" % db3)
    ft.p.send_signal(signal.SIGHUP)
    wait_lines(ft, r"configuration reloaded \(generation 2\), in effect", 1)
    got = send_and_read(ft, sock, 4, 4)
    steps.append(("database 3", got, [("JP", "BR"), ("IN", "ZA")]))
    # Not a database: refused, database 3 stays.
    write(conf, "db = off\ngeoip-country = %s\n" % bad)
    ft.p.send_signal(signal.SIGHUP)
    if not wait_lines(ft, r"configuration not reloaded, the running one stays: .*%s" % re.escape(bad), 1):
        fail(case, "no 'not reloaded' line naming %s:\n%s" % (bad, ft.err.text()[-2000:]))
    got = send_and_read(ft, sock, 6, 6)
    steps.append(("bad database refused", got, [("JP", "BR"), ("IN", "ZA")]))
    ok_n, failed_n = reloads(ft.http)
    rc, recs, stats = ft.stop()
    for name, g, want in steps:
        if g != want:
            fail(case, "%s: countries %r, want %r" % (name, g, want))
    if (ok_n, failed_n) != (2, 1):
        fail(case, "/metrics reloads ok %r failed %r, want 2 1" % (ok_n, failed_n))
    if rc != 0:
        fail(case, "exit status %d" % rc)
    ok(case, "countries follow the database replaced in place, then the one the file names; a bad database "
       "is refused and the running one kept")


def case_cli_wins(binary, tmp):
    case = "cli_wins"
    conf = os.path.join(tmp, "cli.conf")
    write(conf, "db = off\nworkers = 2\nallow-exporter = 127.0.0.1\n")
    ft = th.Ft(binary, tmp, "cli", ["--config", conf, "--workers", "1", "--allow-exporter", "127.0.0.2"])
    t = flowgen(ft.port, "127.0.0.2", ["--count", "100", "--rate", "20000"])
    ft.wait_lines(t["records"])
    rc, recs, stats = ft.stop()
    err = open(os.path.join(tmp, "cli.stderr")).read()
    if "(1 worker)" not in err:
        fail(case, "--workers 1 on the command line did not win over the file's 2")
    if len(recs) != t["records"]:
        fail(case, "%d records from 127.0.0.2 printed, %d sent: the command line's --allow-exporter should "
             "replace the file's" % (len(recs), t["records"]))
    if rc != 0:
        fail(case, "exit status %d" % rc)
    ok(case, "command-line --workers and --allow-exporter override the file's")


CASES = [("allow_sampling", case_allow_sampling), ("geoip", case_geoip), ("cli_wins", case_cli_wins)]


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    if not os.path.exists(os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")):
        print("SKIP: flowgen not built (FT_BUILD_DIR)")
        return ftlib.SKIP
    only = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="ft-reload-", dir=os.environ.get("FT_BUILD_DIR"))
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
    print("all reload cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
