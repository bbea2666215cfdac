"""faultlib.py - shared harness of the fault tests (test_faults_*.py, issue 8).

  Live        a live flowtally (--listen netflow://127.0.0.1:0 --print --stats
              --http 127.0.0.1:0 ...), stdout to a file, stderr collected;
              metrics() reads /metrics into {series: value}.
  flowgen()   bench's generator towards a port, in the background: its exact
              totals JSON (records, bytes_scaled, packets_scaled) is the
              oracle of what was sent.
  sums_by_dimension()  SQLite's rollups view summed per dimension over every
              window: each dimension covers every record once.
  wal_tail()  the frames of a SQLite WAL file after its last commit frame,
              read with the file format's rules (sqlite.org/fileformat.html
              section 4.1), not with SQLite: frames of a transaction that
              never committed.

Standard library only (Debian's /usr/bin/python3).
"""
import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import time
import urllib.request

import ftlib


def build_dir():
    return os.environ.get("FT_BUILD_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                          "build")


def flowgen_path():
    p = os.path.join(build_dir(), "flowgen")
    return p if os.access(p, os.X_OK) else None


class Live:
    """flowtally listening on loopback with /metrics; stop() -> (rc, records,
    stats lines, stderr text)."""

    def __init__(self, binary, workdir, name, extra=(), http=True):
        self.out_path = os.path.join(workdir, name + ".jsonl")
        self.err_path = os.path.join(workdir, name + ".stderr")
        self.out = open(self.out_path, "wb")
        self.cmd = [binary, "--listen", "netflow://127.0.0.1:0", "--print", "--stats", "--log-level", "info",
                    "--http", "127.0.0.1:0" if http else "off"] + list(extra)
        self.p = ftlib.start(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        m = self.err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 20)
        if not m:
            ftlib.stop(self.p, signal.SIGKILL)
            raise RuntimeError("flowtally did not start (%s):\n%s" % (" ".join(self.cmd), self.err.text()))
        self.port = int(m.group(1))
        self.http = None
        if http:
            m = self.err.wait_for(r"serving on http://127\.0\.0\.1:(\d+)", 10)
            if not m:
                raise RuntimeError("no HTTP server:\n" + self.err.text())
            self.http = int(m.group(1))

    def count(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().count(b"\n")

    def wait_records(self, n, timeout=20.0, quiet=1.0):
        end, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < end and self.p.poll() is None:
            c = self.count()
            if c != last:
                last, since = c, time.monotonic()
            elif c >= n and time.monotonic() - since >= quiet:
                break
            time.sleep(0.1)
        return self.count()

    def metrics(self):
        """{series name with labels as Prometheus writes it: value}."""
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, v = line.rpartition(" ")
                out[name] = float(v)
        return out

    def wait_metric(self, pred, timeout):
        """Polls /metrics until pred(metrics) is true; returns the last
        metrics and whether it became true."""
        end = time.monotonic() + timeout
        m = {}
        while time.monotonic() < end:
            m = self.metrics()
            if pred(m):
                return m, True
            time.sleep(0.25)
        return m, False

    def rss_kib(self):
        with open("/proc/%d/status" % self.p.pid) as fh:
            m = re.search(r"VmRSS:\s+(\d+) kB", fh.read())
        return int(m.group(1)) if m else -1

    def sanitized(self):
        with open("/proc/%d/maps" % self.p.pid) as fh:
            return "libasan" in fh.read()

    def stop(self, timeout=40.0):
        rc = ftlib.stop(self.p, signal.SIGTERM, timeout)
        self.err.join()
        self.out.close()
        text = self.err.text()
        with open(self.err_path, "w") as fh:
            fh.write(text)
        recs = [json.loads(l) for l in open(self.out_path, encoding="utf-8") if l.strip()]
        stats = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
        return rc, recs, stats, text


def stat(stats, kind):
    return next((s for s in stats if s.get("kind") == kind), {})


class Flowgen:
    """flowgen --target 127.0.0.1:PORT in the background; wait() -> totals."""

    def __init__(self, port, args):
        self.cmd = [flowgen_path(), "--target", "127.0.0.1:%d" % port] + list(args)
        self.p = ftlib.start(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait(self, timeout=120):
        out, err = self.p.communicate(timeout=timeout)
        if self.p.returncode != 0:
            raise RuntimeError("flowgen exit %d: %s" % (self.p.returncode, err.decode()[-1000:]))
        return json.loads(out.decode().strip().splitlines()[-1])


def sums_by_dimension(db):
    """{dimension: [bytes, packets, flows]} over every window of the
    rollups view."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return {d: [b, p, f] for d, b, p, f in c.execute(
            "SELECT dimension, sum(bytes), sum(packets), sum(flows) FROM rollups GROUP BY dimension")}
    finally:
        c.close()


def integrity(db):
    """PRAGMA integrity_check's answer ("ok" when the file is sound)."""
    c = sqlite3.connect(db, timeout=30)
    try:
        return "; ".join(r[0] for r in c.execute("PRAGMA integrity_check"))
    finally:
        c.close()


def wal_tail(path):
    """(frames after the last commit frame, committed frames) of the WAL at
    path, by its format: a 32-byte header (magic 0x377f0682/3, version,
    page size, checkpoint seq, salt-1, salt-2, checksums), then frames of a
    24-byte header (page number, size of the database after commit - nonzero
    only on a transaction's last frame -, salt-1, salt-2, checksums) and one
    page. Frames whose salts differ from the header's are left over from an
    earlier use of the file and end the log. Checksums are not verified: a
    torn last frame counts as uncommitted, which it is."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return 0, 0
    if len(data) < 32:
        return 0, 0
    magic, _ver, page, _seq, s1, s2 = struct.unpack(">IIIIII", data[:24])
    if magic not in (0x377F0682, 0x377F0683) or page < 512:
        return 0, 0
    i, frames, committed = 32, 0, 0
    while i + 24 <= len(data):
        _pg, commit, f1, f2 = struct.unpack(">IIII", data[i:i + 16])
        if (f1, f2) != (s1, s2):
            break
        frames += 1
        if commit:
            committed = frames
        i += 24 + page
    return frames - committed, committed
