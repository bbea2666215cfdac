#!/usr/bin/python3
"""test_faults_kill.py - issue 8, "faults, nothing lost": flowtally SIGKILLed
in the middle of flushing large windows, several times at varied moments.

Input: bench's flowgen writes a capture (--pcap-out) of 100,000 NetFlow v5
records over 25,000 keys at 12,500 records/s of capture time; flowtally
replays it with --window 2s --lateness 0 --event-time received: three
windows of ~90,000 rows (10 dimensions) closed in turn, then one flushed
partial at the end; each flush is one SQLite transaction of ~1.2 s on the
2-vCPU VM, so most of a run (~5 s) is flushing.

Oracle: the rollups of flowtally's own --print records of an undisturbed
run of the capture, computed here (rollup_oracle.py, the issue's
definitions), and SQLite: PRAGMA integrity_check and the rollups view; the
WAL file read by its documented format (faultlib.wal_tail) tells whether the
kill found a transaction open (frames written after the last commit frame).

Each kill runs on a fresh database, the moments varied: at the first write
to the WAL after the store's start-up (first flush under way: a large
transaction spills pages to the WAL before its commit), the moment the
first window is logged closed (between two flushes), at the 2nd and the
6th WAL write after that (second flush; a moment not reached before
flowtally finishes is reported and skipped), at fixed delays of 2.1 s and
3.9 s, and at the first WAL write after the second window. After each:
  - integrity_check = ok;
  - every window logged "closed" before the kill is in the database;
  - every window in the database equals the oracle for every key of every
    dimension, and its windows-table row says 1 flush and the oracle's flow
    count: no window partly written (one transaction per flush);
  - loss: exactly the windows whose flush had not committed.
At least two kills must have found a flush transaction open (uncommitted WAL
frames), else the test did not test what it claims. Finally flowtally itself
reopens the last killed database and replays the whole capture: windows
already there are added again (doubled), the others equal the oracle.

Env: FLOWTALLY, FT_BUILD_DIR (flowgen). Exit 0 passed, 1 failed, 77 skipped.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
import ftlib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

WINDOW = 2
ARGS = ["--window", "2s", "--lateness", "0", "--event-time", "received", "--retention", "0", "--http", "off",
        "--log-level", "info"]
CLOSED = re.compile(r"\[window\] (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) closed: (\d+) rows")


def ts(text):
    return int(time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)


def by_window(mapping):
    out = {}
    for k, v in mapping.items():
        out.setdefault(k[0], {})[k] = v
    return out


class Run:
    """flowtally --pcap CAP --db DB, its stderr lines watched."""

    def __init__(self, binary, pcap, db):
        self.db, self.wal = db, db + "-wal"
        self.p = ftlib.start([binary, "--pcap", pcap, "--db", db] + ARGS, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        self.t0 = time.monotonic()

    def closed(self):
        return [ts(m.group(1)) for m in CLOSED.finditer(self.err.text())]

    def wal_size(self):
        try:
            return os.path.getsize(self.wal)
        except OSError:
            return 0

    def wait(self, pred, timeout=30.0):
        """Polls every 5 ms until pred() or the process ends."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            if pred():
                return True
            time.sleep(0.005)
        return False

    def wal_mtime(self):
        try:
            return os.stat(self.wal).st_mtime_ns
        except OSError:
            return 0

    def wal_writes(self, n):
        """A predicate true once the WAL was seen written (its mtime moved;
        its size does not grow once a checkpoint has reset it) n times
        since the first call."""
        state = {"t": None, "seen": 0}

        def pred():
            t = self.wal_mtime()
            if state["t"] is not None and t != state["t"]:
                state["seen"] += 1
            state["t"] = t
            return state["seen"] >= n
        return pred


def moments():
    """(description, function(run) -> None) for each kill."""
    def at_write(n, after_closed=0):
        def f(r):
            # Not the schema's own transactions: from the store's start-up line.
            r.wait(lambda: "WAL, retention" in r.err.text() and len(r.closed()) >= after_closed)
            r.wait(r.wal_writes(n))
        return f

    def at_closed(n):
        return lambda r: r.wait(lambda: len(r.closed()) >= n)

    def at_time(t):
        return lambda r: r.wait(lambda: time.monotonic() - r.t0 >= t)

    return [
        ("first WAL write", at_write(1)),
        ("window 1 logged closed", at_closed(1)),
        ("2nd WAL write after window 1", at_write(2, 1)),
        ("2.1 s", at_time(2.1)),
        ("6th WAL write after window 1", at_write(6, 1)),
        ("3.9 s", at_time(3.9)),
        ("first WAL write after window 2", at_write(1, 2)),
    ]


def check_db(db, want_w, logged, who):
    """Returns (errors, windows in the database)."""
    errs = []
    ic = faultlib.integrity(db)
    if ic != "ok":
        errs.append("%s: integrity_check: %s" % (who, ic))
    got_w = by_window(ro.from_sqlite(db))
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    wrows = {ws: (flows, flushes, state) for ws, flows, flushes, state in
             c.execute("SELECT window_start, flows, flushes, state FROM windows")}
    c.close()
    for ws in logged:
        if ws not in got_w:
            errs.append("%s: window %d was logged closed before the kill but is not in the database" % (who, ws))
    for ws, rows in got_w.items():
        if ws not in want_w:
            errs.append("%s: window %d in the database, not in the oracle" % (who, ws))
        elif rows != want_w[ws]:
            d = ro.diff(want_w[ws], rows, 5)
            errs.append("%s: window %d partly written (%d of %d rows):\n  %s" % (who, ws, len(rows), len(want_w[ws]),
                                                                             "\n  ".join(d)))
        flows = sum(v[2] for (w, dim, _k, _e), v in want_w.get(ws, {}).items() if dim == "proto")
        if wrows.get(ws) != (flows, 1, "closed"):
            errs.append("%s: windows row of %d is %r, want (%d flows, 1 flush, closed)" % (who, ws, wrows.get(ws),
                                                                                        flows))
    if set(wrows) != set(got_w):
        errs.append("%s: windows table %r, rollup rows of %r" % (who, sorted(wrows), sorted(got_w)))
    return errs, sorted(got_w)


def main(argv):
    binary = os.environ.get("FLOWTALLY")
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    fg = faultlib.flowgen_path()
    if not fg:
        print("SKIP: no flowgen in FT_BUILD_DIR (bench/flowgen; run through ctest)")
        return ftlib.SKIP
    wd = tempfile.mkdtemp(prefix="ft-faults-kill-", dir=os.environ.get("FT_BUILD_DIR") or None)
    res = ftlib.Results()
    errs, notes = [], []
    pcap = os.path.join(wd, "big.pcap")
    t0 = time.monotonic()
    gen = json.loads(subprocess.run([fg, "--pcap-out", pcap, "--proto", "v5", "--count", "100000", "--rate", "12500",
                                     "--keys", "25000", "--start-time", "1700000000"], stdout=subprocess.PIPE,
                                    check=True, timeout=120).stdout)
    # The oracle run: --print, no database.
    p = subprocess.run([binary, "--pcap", pcap, "--print", "--db", "off", "--http", "off"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    if p.returncode != 0 or len(recs) != gen["records"]:
        print("FAIL: the --print run: exit %d, %d records, flowgen wrote %d" % (p.returncode, len(recs),
                                                                              gen["records"]))
        return 1
    want_w = by_window(ro.expected(recs, WINDOW, received=True))
    del recs
    print("capture and oracle ready in %.1f s" % (time.monotonic() - t0), flush=True)
    mid, last_db, last_in = 0, None, []
    for i, (what, wait) in enumerate(moments()):
        db = os.path.join(wd, "kill%d.db" % i)
        r = Run(binary, pcap, db)
        wait(r)
        logged = r.closed()
        if r.p.poll() is not None:
            # A moment defined by WAL writes may never come: how many times
            # a flush writes the WAL depends on SQLite's page cache (pages
            # spill before the commit only when it is full). Not a fault of
            # the run; the kills that found a transaction open are counted
            # below and at least two are required.
            if r.p.returncode != 0:
                errs.append("kill %d (%s): flowtally exited %s before it" % (i, what, r.p.returncode))
            else:
                print("kill %d (%s): not reached, flowtally had finished" % (i, what), flush=True)
            continue
        r.p.send_signal(signal.SIGKILL)
        t = time.monotonic() - r.t0
        r.p.wait()
        r.err.join()
        uncommitted, committed = faultlib.wal_tail(r.wal)  # before SQLite opens (and recovers) it
        mid += uncommitted > 0
        e, inside = check_db(db, want_w, logged, "kill %d (%s)" % (i, what))
        errs += e
        notes.append("kill %d at %.2f s (%s): %d windows logged closed, %d in the database; WAL: %d committed "
                     "frames, %d uncommitted (%s); lost: %d windows not committed" %
                     (i, t, what, len(logged), len(inside), committed, uncommitted,
                      "a flush transaction was open" if uncommitted else "no transaction open",
                      len(want_w) - len(inside)))
        last_db, last_in = db, inside
    if mid < 2:
        errs.append("only %d kills found a flush transaction open (uncommitted WAL frames): the moments missed the "
                    "flushes" % mid)
    # flowtally reopens a killed database and adds the whole capture to it.
    if last_db:
        p = subprocess.run([binary, "--pcap", pcap, "--db", last_db] + ARGS, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=300)
        if p.returncode != 0:
            errs.append("flowtally on the killed database: exit %d: %s" % (p.returncode, p.stderr.decode()[-1000:]))
        else:
            got_w = by_window(ro.from_sqlite(last_db))
            for ws, rows in want_w.items():
                want = {k: [x * (2 if ws in last_in else 1) for x in v] for k, v in rows.items()}
                if got_w.get(ws) != want:
                    errs.append("after the replay on the killed database, window %d: %s" %
                                (ws, "; ".join(ro.diff(want, got_w.get(ws, {}), 3))))
            if faultlib.integrity(last_db) != "ok":
                errs.append("integrity_check after the replay: " + faultlib.integrity(last_db))
            notes.append("replayed on the last killed database: %d windows doubled, the rest as the oracle" %
                         len(last_in))
    res.case("kill9_mid_flush", errs, notes + ["%d of %d kills found a flush transaction open" %
                                               (mid, len(moments()))])
    rc = res.finish()
    if rc == 0:
        shutil.rmtree(wd, ignore_errors=True)
    else:
        print("files kept in " + wd)
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
