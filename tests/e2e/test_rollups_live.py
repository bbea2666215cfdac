#!/usr/bin/python3
"""test_rollups_live.py - windows and SQLite rollups of a live flowtally fed
over UDP, stopped with SIGTERM and restarted.

Cases (each flowtally listens on 127.0.0.1 and writes its own database):
  softflowd        softflowd (a real exporter) exports traffic.pcap
                   (make_traffic.py) as NetFlow v9 and then as IPFIX; the flow
                   times are the capture's (2023), so every record is clamped to
                   arrival - 1 h and lands in a window already closed: the late
                   path. SQLite rows equal the sums computed from --print
                   (rollup_oracle.py).
  restart          softflowd exports live loopback traffic (flow times = now) to
                   flowtally #1; SIGTERM mid-window flushes the open window as
                   partial; flowtally #2 on the same port and database gets a
                   second export; SIGTERM again. SQLite equals the sums of both
                   runs' --print records: nothing lost, nothing counted twice,
                   and the window's bookkeeping shows two partial flushes.
  templates        NetFlow v9 built here (RFC 3954 §5-§6): run #1 gets an options
                   template + options data (SAMPLING_INTERVAL 100) + a template +
                   data, saves them (--state-save 1s) and is SIGKILLed; runs #2
                   and #3 (same database) get data only and decode it at once with
                   the saved template and rate (#3 from #2's save at SIGTERM); a
                   run with a fresh database holds the data and prints nothing.
  key_flood        100000 NetFlow v5 records with distinct ports, AS numbers and
                   interfaces, --max-keys 500: every (window, dimension) has at
                   most 501 rows ('other' included), the totals equal the --print
                   sums, and peak memory (VmHWM) stays far below what 100000 keys
                   x 10 dimensions would take.

Needs: $FLOWTALLY, softflowd + softflowctl, python3-scapy (traffic.pcap).
Exit 77 when one is missing.
"""
import os
import random
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
import rollup_oracle as ro  # noqa: E402

failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Live:
    """flowtally --listen netflow://127.0.0.1:PORT --print --stats --db DB ..."""

    def __init__(self, binary, workdir, name, db, port=0, extra=()):
        self.out_path = os.path.join(workdir, name + ".jsonl")
        self.out = open(self.out_path, "wb")
        self.cmd = [binary, "--listen", "netflow://127.0.0.1:%d" % port, "--print", "--stats", "--db", db,
                    "--http", "off"] + list(extra)
        self.p = ftlib.start(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        m = self.err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 15)
        if not m:
            ftlib.stop(self.p, signal.SIGKILL)
            raise RuntimeError("flowtally did not start: %s" % self.err.text())
        self.port = int(m.group(1))

    def count(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().count(b"\n")

    def wait_stable(self, at_least, timeout=20.0, quiet=1.0):
        end, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < end:
            c = self.count()
            if c != last:
                last, since = c, time.monotonic()
            elif c >= at_least and time.monotonic() - since >= quiet:
                break
            time.sleep(0.1)
        return self.count()

    def sanitized(self):
        """True under AddressSanitizer: its quarantine and shadow memory make
        peak RSS say nothing about flowtally's own bounds."""
        with open("/proc/%d/maps" % self.p.pid) as fh:
            return "libasan" in fh.read()

    def vm_hwm_kib(self):
        with open("/proc/%d/status" % self.p.pid) as fh:
            m = re.search(r"VmHWM:\s+(\d+) kB", fh.read())
        return int(m.group(1)) if m else -1

    def stop(self):
        rc = ftlib.stop(self.p, signal.SIGTERM, 30.0)
        self.err.join()
        self.out.close()
        with open(self.out_path.replace(".jsonl", ".stderr"), "w") as fh:
            fh.write(self.err.text())
        recs = [ro_json(l) for l in open(self.out_path, encoding="utf-8") if l.strip()]
        stats = [ro_json(l) for l in self.err.text().splitlines() if l.startswith("{")]
        return rc, recs, stats, self.err.text()


def ro_json(line):
    import json
    return json.loads(line)


def rollup_stats(stats):
    return next((s for s in stats if s.get("kind") == "rollup_stats"), {})


def exporter_stats(stats, addr="127.0.0.1"):
    return next((s for s in stats if s.get("kind") == "exporter_stats" and s.get("exporter") == addr), {})


def compare(case, db, recs, **kw):
    d = ro.diff(ro.expected(recs, 300, **kw), ro.from_sqlite(db))
    if d:
        fail(case, "SQLite differs from the --print sums:\n  " + "\n  ".join(d))
        return False
    return True


# ---- softflowd ------------------------------------------------------------------------

def case_softflowd(binary, workdir):
    import make_traffic
    pcap = os.path.join(workdir, "traffic.pcap")
    make_traffic.write(pcap, os.path.join(workdir, "traffic.truth.json"))
    db = os.path.join(workdir, "softflowd.db")
    ft = Live(binary, workdir, "softflowd", db, extra=["--workers", "2"])
    n = 0
    for ver in (9, 10):
        p = subprocess.run([ftlib.which("softflowd"), "-r", pcap, "-d", "-a", "-v", str(ver), "-n",
                            "127.0.0.1:%d" % ft.port, "-p", os.path.join(workdir, "sf.pid")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        m = re.search(r"Flows exported: \d+ \((\d+) records\)", p.stdout.decode())
        n += int(m.group(1)) if m else 0
    ft.wait_stable(n)
    time.sleep(1.5)  # one clock tick: the late corrections go out before the stop
    rc, recs, stats, err = ft.stop()
    if rc != 0 or len(recs) != n:
        fail("softflowd", "exit %d, %d records printed, softflowd exported %d" % (rc, len(recs), n))
        return
    w = rollup_stats(stats).get("windows", {})
    if compare("softflowd", db, recs):
        ok("softflowd", "%d records (v9 + IPFIX) from softflowd: SQLite equals the --print sums; %d late records "
           "(2023 flow times clamped to arrival - 1 h) in %d corrections" %
           (len(recs), w.get("late_records", -1), w.get("corrections_flushed", -1)))
    if w.get("late_records") != len(recs) or w.get("clamped_past") != len(recs):
        fail("softflowd", "every record should be clamped and late: %r" % w)


# ---- restart ------------------------------------------------------------------------------

def case_restart(binary, workdir):
    import test_softflowd
    db = os.path.join(workdir, "restart.db")
    port = free_port()
    all_recs = []
    for run in (1, 2):
        ft = Live(binary, workdir, "restart%d" % run, db, port=port)
        rep = test_softflowd.live_case(workdir)(ft.port)
        if rep.errors:
            fail("restart", "run %d: exporter: %s" % (run, "; ".join(rep.errors)))
        ft.wait_stable(rep.records or 1)
        rc, recs, stats, err = ft.stop()
        if rc != 0 or len(recs) != rep.records:
            fail("restart", "run %d: exit %d, %d records printed, softflowd exported %r" % (run, rc, len(recs),
                                                                                            rep.records))
        w = rollup_stats(stats).get("windows", {})
        if w.get("partial_flushes", 0) < 1 or w.get("late_records", 1) != 0:
            fail("restart", "run %d: expected an on-time window flushed partial at SIGTERM: %r" % (run, w))
        if run == 2 and "decode state of 1 exporters loaded" not in err:
            fail("restart", "run 2 did not load the exporter's saved decode state:\n" + err[-1500:])
        all_recs += recs
    if compare("restart", db, all_recs):
        win = ro.query(db, "SELECT window_start, state, flushes, flows FROM windows ORDER BY window_start")
        flushes = sum(r[2] for r in win)
        if flushes < 2 or not any(r[1] == "partial" for r in win):
            fail("restart", "windows table: %r" % win)
        else:
            ok("restart", "two runs, %d records, SIGTERM mid-window each time: SQLite equals the --print sums of "
               "both; windows %r" % (len(all_recs), win))


# ---- templates -------------------------------------------------------------------------------

SOURCE_ID = 7


def v9_header(count, seq, uptime_ms, secs):
    # RFC 3954 §5.1: version, count, sysUptime (ms), unix_secs, sequence, source ID
    return struct.pack("!HHIIII", 9, count, uptime_ms, secs, seq, SOURCE_ID)


def flowset(fid, body):
    pad = (-(len(body) + 4)) % 4
    return struct.pack("!HH", fid, len(body) + 4 + pad) + body + b"\0" * pad


# Template 257 (§5.2): IPV4_SRC_ADDR 8/4, IPV4_DST_ADDR 12/4, L4_SRC_PORT 7/2, L4_DST_PORT 11/2,
# PROTOCOL 4/1, IN_BYTES 1/4, IN_PKTS 2/4, INPUT_SNMP 10/2, OUTPUT_SNMP 14/2,
# LAST_SWITCHED 21/4, FIRST_SWITCHED 22/4: 33 bytes per record.
TEMPLATE = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (10, 2), (14, 2), (21, 4), (22, 4)]
RECORDS = [("198.51.100.1", "203.0.113.1", 40000, 443, 6, 150000, 100, 3, 4),
           ("198.51.100.2", "203.0.113.2", 53, 40001, 17, 900, 3, 5, 6)]


def v9_data(uptime):
    body = b""
    for src, dst, sp, dp, proto, octets, pkts, i_if, o_if in RECORDS:
        body += (socket.inet_aton(src) + socket.inet_aton(dst) +
                 struct.pack("!HHBIIHHII", sp, dp, proto, octets, pkts, i_if, o_if, uptime - 500, uptime - 900))
    return flowset(257, body)


def v9_full(seq, uptime, secs):
    # Options template FlowSet (§6.1): template 256, scope length 4 (System, type 1, 4 bytes),
    # option length 4 (SAMPLING_INTERVAL 34, 4 bytes); its data: scope 0, rate 100.
    opt_t = flowset(1, struct.pack("!HHHHHHH", 256, 4, 4, 1, 4, 34, 4))
    opt_d = flowset(256, struct.pack("!II", 0, 100))
    tmpl = flowset(0, struct.pack("!HH", 257, len(TEMPLATE)) + b"".join(struct.pack("!HH", t, l) for t, l in TEMPLATE))
    return v9_header(5, seq, uptime, secs) + opt_t + opt_d + tmpl + v9_data(uptime)


def check_records(recs, who):
    errs = []
    if len(recs) != len(RECORDS):
        return ["%s: %d records, want %d" % (who, len(recs), len(RECORDS))]
    for r, (src, dst, sp, dp, proto, octets, pkts, i_if, o_if) in zip(recs, RECORDS):
        want = {"src_addr": src, "dst_addr": dst, "src_port": sp, "dst_port": dp, "proto": proto, "bytes": octets,
                "packets": pkts, "in_if": i_if, "out_if": o_if, "sampling_rate": 100, "type": "NETFLOW_V9",
                "observation_domain_id": SOURCE_ID}
        for k, v in want.items():
            if r.get(k) != v:
                errs.append("%s: %s = %r, want %r" % (who, k, r.get(k), v))
    return errs


def case_templates(binary, workdir):
    db = os.path.join(workdir, "templates.db")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    secs = int(time.time())
    data_only = v9_header(2, 2, 101000, secs + 1) + v9_data(101000)
    errs = []
    # Run 1 learns the templates and the rate, saves them within a second
    # (--state-save 1s) and is killed: no shutdown, only the periodic save.
    ft = Live(binary, workdir, "templates1", db, extra=["--state-save", "1s"])
    s.sendto(v9_full(1, 100000, secs), ("127.0.0.1", ft.port))
    ft.wait_stable(2, timeout=5, quiet=0.3)
    time.sleep(3.0)
    ft.p.kill()
    rc1, r1, st1, _ = ft.stop()
    errs += check_records(r1, "run 1")
    # Runs 2 and 3 get data only: run 2 from the periodic save, run 3 from
    # run 2's save at SIGTERM (--state-save 0: at exit only).
    runs = []
    for name, extra in (("templates2", ["--state-save", "0"]), ("templates3", [])):
        ft = Live(binary, workdir, name, db, extra=extra)
        s.sendto(data_only, ("127.0.0.1", ft.port))
        ft.wait_stable(2, timeout=5, quiet=0.3)
        rc, r, st, err = ft.stop()
        runs.append(err)
        errs += check_records(r, name + " (data only, state loaded)")
        e = exporter_stats(st)
        if rc or e.get("errors", {}).get("no_template") != 0 or e.get("counters", {}).get("pending_held") != 0:
            errs.append("%s: exit %d, held data for a template: %r" % (name, rc, e))
    fresh = Live(binary, workdir, "templates4", os.path.join(workdir, "fresh.db"))
    s.sendto(data_only, ("127.0.0.1", fresh.port))
    time.sleep(1.0)
    rc4, r4, st4, _ = fresh.stop()
    s.close()
    e4 = exporter_stats(st4)
    if rc4 or r4 or e4.get("errors", {}).get("no_template") != 1:
        errs.append("fresh database: %d records printed, no_template %r (want 0 and 1)" %
                    (len(r4), e4.get("errors", {}).get("no_template")))
    if errs:
        fail("templates", "\n  ".join(errs) + "\n" + runs[-1][-1500:] if runs else "")
    else:
        ok("templates", "data without its template decodes at once with the saved template and sampling rate "
           "100, after a SIGKILL (periodic save) and after a SIGTERM (save at exit); a fresh database holds it "
           "(no_template 1) and prints nothing")


# ---- key_flood -------------------------------------------------------------------------------

def v5_datagram(seq, recs, uptime, secs, sampling):
    # Cisco NetFlow v5: 24-byte header, 48-byte records.
    hdr = struct.pack("!HHIIIIBBH", 5, len(recs), uptime, secs, 0, seq, 0, 0, sampling)
    body = b""
    for r in recs:
        body += (socket.inet_aton(r["src"]) + socket.inet_aton(r["dst"]) + socket.inet_aton("0.0.0.0") +
                 struct.pack("!HHIIIIHHBBBBHHBBH", r["in_if"], r["out_if"], r["packets"], r["bytes"],
                             uptime - 2000, uptime - 1000, r["sport"], r["dport"], 0, 0x10, r["proto"], 0,
                             r["src_as"], r["dst_as"], 24, 24, 0))
    return hdr + body


def case_key_flood(binary, workdir, n=100000, max_keys=500):
    db = os.path.join(workdir, "flood.db")
    ft = Live(binary, workdir, "flood", db, extra=["--max-keys", str(max_keys), "--rcvbuf", "8m"])
    rng = random.Random(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    secs = int(time.time())
    sent = 0
    for seq in range(0, n, 30):
        recs = [{"src": "198.51.100.%d" % rng.randrange(1, 255), "dst": "203.0.113.%d" % rng.randrange(1, 255),
                 "sport": rng.randrange(65536), "dport": rng.randrange(65536), "proto": rng.choice((6, 17)),
                 "in_if": rng.randrange(65536), "out_if": rng.randrange(65536), "src_as": rng.randrange(65536),
                 "dst_as": rng.randrange(65536), "packets": rng.randrange(1, 1000),
                 "bytes": rng.randrange(40, 1500000)} for _ in range(30)]
        # header sampling_interval: mode 01 (packet interval), interval 10
        s.sendto(v5_datagram(seq, recs, 500000, secs, (1 << 14) | 10), ("127.0.0.1", ft.port))
        sent += 30
        if seq % 3000 == 0:
            time.sleep(0.01)
    s.close()
    got = ft.wait_stable(sent * 9 // 10, timeout=60, quiet=1.5)
    hwm = ft.vm_hwm_kib()
    asan = ft.sanitized()
    rc, recs, stats, err = ft.stop()
    if rc != 0 or len(recs) < sent // 2:
        fail("key_flood", "exit %d, %d of %d records printed (%d before stop)" % (rc, len(recs), sent, got))
        return
    want_t, rows = ro.totals(ro.expected(recs, 300)), ro.from_sqlite(db)
    got_t = ro.totals(rows)
    errs = []
    if want_t != got_t:
        errs.append("totals differ: expected %r, SQLite %r" % (sorted(want_t.items())[:4], sorted(got_t.items())[:4]))
    per = {}
    for (ws, dim, key, _e) in rows:
        per[(ws, dim)] = per.get((ws, dim), 0) + 1
    worst = max(per.values())
    if worst > max_keys + 1:
        errs.append("%d rows in one (window, dimension), more than --max-keys %d + 'other'" % (worst, max_keys))
    others = sum(1 for k in rows if k[2] == "other")
    w = rollup_stats(stats).get("windows", {})
    if not others or not w.get("folded_keys"):
        errs.append("no 'other' rows (%d) or folded keys (%r)" % (others, w.get("folded_keys")))
    if any(r["sampling_rate"] != 10 for r in recs):
        errs.append("sampling rate from the v5 header is not 10 in every record")
    # Unbounded, 100000 keys x 10 dimensions would need ~100 MB of tables.
    if hwm > 60 * 1024 and not asan:
        errs.append("peak memory %d KiB: not bounded by --max-keys" % hwm)
    if errs:
        fail("key_flood", "\n  ".join(errs))
    else:
        ok("key_flood", "%d records, %d distinct keys per dimension: at most %d rows per window and dimension, "
           "%d 'other' rows, %d keys folded, totals exact (bytes x 10); peak memory %d KiB%s" %
           (len(recs), len(recs), worst, others, w["folded_keys"], hwm,
            " (AddressSanitizer build: not checked)" if asan else ""))


def main(argv):
    binary = os.environ.get("FLOWTALLY")
    missing = ftlib.missing_tools(["softflowd", "softflowctl"])
    if not binary or not os.access(binary, os.X_OK):
        missing.append("FLOWTALLY (the binary)")
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return 77
    only = argv[1:]
    workdir = tempfile.mkdtemp(prefix="ft-rollups-live-", dir=os.environ.get("FT_BUILD_DIR"))
    try:
        for name, fn in (("softflowd", case_softflowd), ("restart", case_restart), ("templates", case_templates),
                         ("key_flood", case_key_flood)):
            if only and name not in only:
                continue
            try:
                fn(binary, workdir)
            except Exception as e:  # a harness failure is a failure, with its reason
                fail(name, "%s: %s" % (type(e).__name__, e))
    finally:
        ftlib.cleanup()
    if failures:
        print("%d failure(s); files kept in %s" % (len(failures), workdir))
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
