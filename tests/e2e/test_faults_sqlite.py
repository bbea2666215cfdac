#!/usr/bin/python3
"""test_faults_sqlite.py - issue 8, "faults, nothing lost": the SQLite
database locked by another process (this script), and its disk full
(test_faults_disk_full.py runs those cases, defined here, so that it can
exit 77 alone when tmpfs cannot be mounted), while a live flowtally closes
a window every second.

Set-up of both cases: flowtally --listen ... --window 1s --lateness 1s
--event-time received (a window per second of arrival, none late), bench's
flowgen sending NetFlow v5 at 300 records/s with 50 keys for ~16 s. Oracles:
flowgen's exact totals (records, bytes_scaled, packets_scaled: what the
kernel accepted), the sums of flowtally's own --print records computed here
(rollup_oracle.py), and SQLite itself (the rollups view, PRAGMA
integrity_check).

Cases (locked here; disk_full and full_at_exit in test_faults_disk_full.py):
  locked   a reader holds a read transaction for 3 s (WAL: no flush may fail
        meanwhile), then another connection holds BEGIN EXCLUSIVE for 9 s:
        flushes fail after the 5 s busy timeout (counted in
        flowtally_sqlite_failed_total, logged rate-limited), the windows are
        kept in memory (flowtally_sqlite_pending_* gauges > 0, write_ok 0) and
        retried with a backoff; once the lock is released every kept window
        lands. Loss: none - the view equals the --print sums key by key and
        flowgen's totals per dimension; dropped_* = 0.
  disk_full   the database on a 16 MiB tmpfs (mount -t tmpfs; skipped, exit 77,
        when mounting is not permitted), filled with a file up to ENOSPC for
        ~8 s with --db-retry-rows 1200 (about 4 windows of ~285 rows): flushes
        fail with SQLITE_FULL, the backlog keeps the newest windows up to the
        bound and drops the oldest; when the file is deleted the kept ones
        land. Loss: exactly what the counters say - every window is either in
        the view with the --print sums of all its keys or wholly absent, and
        the absent ones add up to dropped_batches / dropped_rows /
        dropped_flows; PRAGMA integrity_check = ok.

  full_at_exit   the same tmpfs filled 2 s into a 6 s send and flowtally stopped
        (SIGTERM) while it is still full: the exit's last attempt fails, the
        kept windows are counted dropped before --stats is printed (pending
        0), and the windows absent from the view are exactly those counters.

Env: FLOWTALLY, FT_BUILD_DIR (flowgen). Exit 0 passed, 1 failed, 77 skipped.
Usage: test_faults_sqlite.py [locked]; test_faults_disk_full.py [disk_full|full_at_exit...]
"""
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
import ftlib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

WINDOW = 1
FT_ARGS = ["--window", "1s", "--lateness", "1s", "--event-time", "received", "--retention", "0"]
GEN_ARGS = ["--proto", "v5", "--rate", "300", "--keys", "50"]


def by_window(mapping):
    out = {}
    for k, v in mapping.items():
        out.setdefault(k[0], {})[k] = v
    return out


def totals_errors(recs, gen, sums, lost_flows=0, lost=None):
    """--print count = flowgen's; SQLite per dimension = flowgen's totals
    (minus what was counted lost)."""
    errs = []
    if len(recs) != gen["records"]:
        errs.append("flowgen sent %d records, --print shows %d" % (gen["records"], len(recs)))
    lost = lost or {}
    for d in ro.DIMENSIONS:
        lb, lp, lf = lost.get(d, [0, 0, 0])
        want = [gen["bytes_scaled"] - lb, gen["packets_scaled"] - lp, gen["records"] - lf]
        if sums.get(d) != want:
            errs.append("dimension %s: SQLite sums %r, flowgen totals minus the counted loss %r" % (d, sums.get(d),
                                                                                                     want))
    return errs


def sqlite_stats(stats):
    return faultlib.stat(stats, "rollup_stats").get("sqlite", {})


def case_locked(ctx):
    wd = ctx["workdir"]
    db = os.path.join(wd, "locked.db")
    ft = faultlib.Live(ctx["bin"], wd, "locked", ["--db", db] + FT_ARGS)
    errs, notes, seen = [], [], {}
    try:
        gen = faultlib.Flowgen(ft.port, GEN_ARGS + ["--duration", "16"])
        time.sleep(2.5)
        # A long read transaction: WAL readers never block the writer.
        m0 = ft.metrics()
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        n_before = reader.execute("SELECT count(*) FROM rollup").fetchone()[0]
        time.sleep(3)
        n_snapshot = reader.execute("SELECT count(*) FROM rollup").fetchone()[0]
        reader.execute("COMMIT")
        reader.close()
        m1 = ft.metrics()
        if n_before != n_snapshot:
            errs.append("[harness] the read transaction's snapshot moved: %d then %d rows" % (n_before, n_snapshot))
        if m1["flowtally_sqlite_failed_total"] != m0["flowtally_sqlite_failed_total"]:
            errs.append("flushes failed while only a reader held a transaction: %r -> %r" %
                        (m0["flowtally_sqlite_failed_total"], m1["flowtally_sqlite_failed_total"]))
        if m1["flowtally_sqlite_flushes_total"] < m0["flowtally_sqlite_flushes_total"] + 2:
            errs.append("fewer than 2 flushes during the 3 s read transaction: %r -> %r" %
                        (m0["flowtally_sqlite_flushes_total"], m1["flowtally_sqlite_flushes_total"]))
        # The write lock.
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        t_lock = time.monotonic()
        rows_locked = locker.execute("SELECT count(*) FROM rollup").fetchone()[0]
        m, ok = ft.wait_metric(lambda x: x["flowtally_sqlite_failed_total"] >= 1 and
                               x["flowtally_sqlite_pending_rows"] > 0, 8.5)
        seen["during"] = m
        if not ok:
            errs.append("no failed flush kept in memory while the database was locked: %r" %
                        {k: v for k, v in m.items() if "sqlite" in k})
        if m.get("flowtally_sqlite_write_ok") != 0:
            errs.append("flowtally_sqlite_write_ok %r while locked" % m.get("flowtally_sqlite_write_ok"))
        time.sleep(max(0.0, 9 - (time.monotonic() - t_lock)))
        if locker.execute("SELECT count(*) FROM rollup").fetchone()[0] != rows_locked:
            errs.append("rows were written while another connection held the exclusive lock")
        locker.execute("COMMIT")
        locker.close()
        t_free = time.monotonic()
        m, ok = ft.wait_metric(lambda x: x["flowtally_sqlite_pending_rows"] == 0 and
                               x["flowtally_sqlite_retried_total"] >= 1, 20)
        if not ok:
            errs.append("the kept windows were not written within 20 s of the release: %r" %
                        {k: v for k, v in m.items() if "sqlite" in k})
        notes.append("lock held %.1f s; first seen kept: %d windows (%d rows); all written %.1f s after "
                     "the release" % (t_free - t_lock, seen["during"].get("flowtally_sqlite_pending_batches", 0),
                                      seen["during"].get("flowtally_sqlite_pending_rows", 0),
                                      time.monotonic() - t_free))
        g = gen.wait()
        ft.wait_records(g["records"])
        time.sleep(2.5)  # the last window closes (1 s + 1 s lateness)
        m_end = ft.metrics()
    finally:
        rc, recs, stats, err = ft.stop()
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    s = sqlite_stats(stats)
    w = faultlib.stat(stats, "rollup_stats").get("windows", {})
    errs += totals_errors(recs, g, faultlib.sums_by_dimension(db))
    d = ro.diff(ro.expected(recs, WINDOW, received=True), ro.from_sqlite(db))
    if d:
        errs.append("SQLite differs from the --print sums:\n  " + "\n  ".join(d))
    for k in ("dropped_batches", "dropped_rows", "dropped_flows", "pending_rows", "pending_batches"):
        if s.get(k) != 0:
            errs.append("sqlite %s = %r, want 0" % (k, s.get(k)))
    if not s.get("failed") or s.get("retried", 0) < 1:
        errs.append("sqlite stats %r: the lock caused no counted failure and retry" % s)
    if s.get("flushes") != w.get("windows_flushed") or s.get("rows") != w.get("rows_flushed"):
        errs.append("SQLite wrote %r batches / %r rows, the windows stage flushed %r / %r" %
                    (s.get("flushes"), s.get("rows"), w.get("windows_flushed"), w.get("rows_flushed")))
    for k in ("failed", "retried", "flushes", "rows"):
        if m_end.get("flowtally_sqlite_%s_total" % k) is None:
            errs.append("/metrics lacks flowtally_sqlite_%s_total" % k)
    n_fail_lines = err.count("(kept for retry)")
    if not n_fail_lines or "kept batches" not in err:
        errs.append("the failure or the recovery was not logged")
    elif n_fail_lines > 2:
        errs.append("%d 'kept for retry' lines: the log is not rate-limited" % n_fail_lines)
    if faultlib.integrity(db) != "ok":
        errs.append("integrity_check: " + faultlib.integrity(db))
    notes.append("flowgen %d records; sqlite %s; loss 0 (view = --print sums key by key = flowgen totals)" %
                 (g["records"], {k: s.get(k) for k in ("flushes", "failed", "retried", "dropped_rows")}))
    return errs, notes


def loss(recs, db, s):
    """Every window of the --print oracle is in the view whole or absent;
    the absent ones must be what the counters say was dropped. Returns
    (errors, absent windows, their rows, their flow records, their sums per
    dimension)."""
    errs = []
    want = ro.expected(recs, WINDOW, received=True)
    got = ro.from_sqlite(db)
    ww, gw = by_window(want), by_window(got)
    absent, lost = [], {}
    for ws in sorted(ww):
        if ws not in gw:
            absent.append(ws)
            for (_, dim, _k, _e), v in ww[ws].items():
                t = lost.setdefault(dim, [0, 0, 0])
                for i in range(3):
                    t[i] += v[i]
        elif gw[ws] != ww[ws]:
            errs.append("window %d partly in the database:\n  %s" % (ws, "\n  ".join(ro.diff(ww[ws], gw[ws], 6))))
    for ws in set(gw) - set(ww):
        errs.append("window %d in the database, no --print record has it" % ws)
    lost_rows = sum(len(ww[ws]) for ws in absent)
    lost_flows = lost.get("proto", [0, 0, 0])[2]
    if (len(absent), lost_rows, lost_flows) != (s.get("dropped_batches"), s.get("dropped_rows"),
                                                s.get("dropped_flows")):
        errs.append("windows absent from the database: %d (%d rows, %d flow records); counters say dropped %r "
                    "batches, %r rows, %r flows" % (len(absent), lost_rows, lost_flows, s.get("dropped_batches"),
                                                     s.get("dropped_rows"), s.get("dropped_flows")))
    return errs, absent, lost_rows, lost_flows, lost


def fill(path):
    """Writes zeros to path until the file system is full; returns bytes."""
    n = 0
    buf = b"\0" * 65536
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            try:
                n += os.write(fd, buf)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(buf) == 1:
                    return n
                buf = buf[:len(buf) // 16 or 1]
    finally:
        os.close(fd)


def case_disk_full(ctx):
    wd = ctx["workdir"]
    mnt, why = mount_tmpfs(ctx, "tmpfs")
    if not mnt:
        return None, [why]
    db = os.path.join(mnt, "full.db")
    bound = 1200
    ft = faultlib.Live(ctx["bin"], wd, "full", ["--db", db, "--db-retry-rows", str(bound)] + FT_ARGS)
    errs, notes = [], []
    filler = os.path.join(mnt, "filler")
    try:
        gen = faultlib.Flowgen(ft.port, GEN_ARGS + ["--duration", "16"])
        time.sleep(3)
        filled = fill(filler)
        t_full = time.monotonic()
        m, ok = ft.wait_metric(lambda x: x["flowtally_sqlite_dropped_batches_total"] >= 1, 10)
        if not ok:
            errs.append("no batch dropped beyond --db-retry-rows %d within 10 s of a full disk: %r" %
                        (bound, {k: v for k, v in m.items() if "sqlite" in k}))
        if m.get("flowtally_sqlite_pending_rows", 0) > bound:
            errs.append("%r rows pending, above the bound %d" % (m.get("flowtally_sqlite_pending_rows"), bound))
        if m.get("flowtally_sqlite_write_ok") != 0:
            errs.append("flowtally_sqlite_write_ok %r with the disk full" % m.get("flowtally_sqlite_write_ok"))
        time.sleep(max(0.0, 8 - (time.monotonic() - t_full)))
        if ft.p.poll() is not None:
            errs.append("flowtally died with the disk full")
        pending_full = ft.metrics()
        os.unlink(filler)
        t_free = time.monotonic()
        m, ok = ft.wait_metric(lambda x: x["flowtally_sqlite_pending_rows"] == 0, 20)
        if not ok:
            errs.append("the kept windows were not written within 20 s of freeing the disk")
        notes.append("tmpfs filled with %d bytes for %.1f s; %d batches / %d rows pending at most %d; written %.1f s "
                     "after freeing" % (filled, t_free - t_full, pending_full["flowtally_sqlite_pending_batches"],
                                       pending_full["flowtally_sqlite_pending_rows"], bound,
                                       time.monotonic() - t_free))
        g = gen.wait()
        ft.wait_records(g["records"])
        time.sleep(2.5)
    finally:
        rc, recs, stats, err = ft.stop()
        if os.path.exists(filler):
            os.unlink(filler)
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    s = sqlite_stats(stats)
    e, absent, lost_rows, lost_flows, lost = loss(recs, db, s)
    errs += e
    errs += totals_errors(recs, g, faultlib.sums_by_dimension(db), lost=lost)
    if not s.get("failed") or not s.get("retried"):
        errs.append("sqlite stats %r: no counted failure and retry" % s)
    if s.get("pending_rows") != 0:
        errs.append("rows still pending at exit: %r" % s.get("pending_rows"))
    if "retry backlog full" not in err or "database or disk is full" not in err:
        errs.append("the drops or SQLITE_FULL were not logged")
    ic = faultlib.integrity(db)
    if ic != "ok":
        errs.append("integrity_check: " + ic)
    notes.append("flowgen %d records; loss = %d windows (%d rows, %d flow records, %.1f%%) = the counters; "
                 "integrity_check ok; sqlite %s" % (g["records"], len(absent), lost_rows, lost_flows,
                                                    100.0 * lost_flows / max(1, g["records"]),
                                                    {k: s.get(k) for k in ("flushes", "failed", "retried")}))
    return errs, notes


def mount_tmpfs(ctx, name):
    """A 16 MiB tmpfs at workdir/name, or None (with the reason) when
    mounting is not permitted."""
    mnt = os.path.join(ctx["workdir"], name)
    os.makedirs(mnt, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", mnt], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0:
        return None, "cannot mount a tmpfs (%s): run as root" % r.stdout.decode().strip()
    ctx["mounted"].append(mnt)
    return mnt, None


def case_full_at_exit(ctx):
    mnt, why = mount_tmpfs(ctx, "tmpfs-exit")
    if not mnt:
        return None, [why]
    wd = ctx["workdir"]
    db = os.path.join(mnt, "exit.db")
    ft = faultlib.Live(ctx["bin"], wd, "exit", ["--db", db] + FT_ARGS)
    errs, notes = [], []
    filler = os.path.join(mnt, "filler")
    try:
        gen = faultlib.Flowgen(ft.port, GEN_ARGS + ["--duration", "6"])
        time.sleep(2)
        fill(filler)
        g = gen.wait()
        ft.wait_records(g["records"])
        m, ok = ft.wait_metric(lambda x: x["flowtally_sqlite_pending_batches"] >= 2, 10)
        if not ok:
            errs.append("fewer than 2 windows kept with the disk full: %r" %
                        {k: v for k, v in m.items() if "sqlite" in k})
    finally:
        rc, recs, stats, err = ft.stop()  # still full
        if os.path.exists(filler):
            os.unlink(filler)
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    s = sqlite_stats(stats)
    e, absent, lost_rows, lost_flows, lost = loss(recs, db, s)
    errs += e
    errs += totals_errors(recs, g, faultlib.sums_by_dimension(db), lost=lost)
    if s.get("pending_rows") != 0 or s.get("pending_batches") != 0:
        errs.append("--stats shows a backlog after the exit's last attempt: %r" % s)
    if not absent:
        errs.append("nothing lost although the disk was still full at exit")
    if "could not be written before exit" not in err:
        errs.append("the exit's loss was not logged")
    ic = faultlib.integrity(db)
    if ic != "ok":
        errs.append("integrity_check: " + ic)
    notes.append("flowgen %d records; stopped with the disk full: loss = %d windows (%d rows, %d flow records) = "
                 "--stats dropped_*; the rest whole; integrity_check ok" % (g["records"], len(absent), lost_rows,
                                                                            lost_flows))
    return errs, notes


CASES = (("locked", case_locked),)
DISK_CASES = (("disk_full", case_disk_full), ("full_at_exit", case_full_at_exit))


def main(argv, cases=CASES):
    binary = os.environ.get("FLOWTALLY")
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    if not faultlib.flowgen_path():
        print("SKIP: no flowgen in FT_BUILD_DIR (bench/flowgen; run through ctest)")
        return ftlib.SKIP
    only = argv[1:]
    workdir = tempfile.mkdtemp(prefix="ft-faults-%s-" % ("disk" if cases is DISK_CASES else "sqlite"),
                               dir=os.environ.get("FT_BUILD_DIR") or None)
    ctx = {"bin": binary, "workdir": workdir, "mounted": []}
    res = ftlib.Results()
    ran = 0
    try:
        for name, fn in cases:
            if only and name not in only:
                continue
            try:
                errs, notes = fn(ctx)
            except Exception as e:
                import traceback
                errs, notes = ["exception: %s\n%s" % (e, traceback.format_exc())], []
            if errs is None:
                print("SKIP %s: %s" % (name, "; ".join(notes)))
                continue
            ran += 1
            res.case(name, errs, notes)
    finally:
        for m in ctx["mounted"]:
            subprocess.run(["umount", m])
    if not ran:
        print("SKIP: no case could run")
        return ftlib.SKIP
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
