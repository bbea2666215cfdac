#!/usr/bin/python3
"""rollups_flood.py - memory per rollup key and flush time, measured.

Sends N NetFlow v5 records with distinct ports, AS numbers and interfaces
(so every dimension but proto/countries gets ~N keys) to a live flowtally
with --max-keys K, waits until they are printed, reads the process's peak
RSS (VmHWM), stops it (the open window is flushed partial to SQLite) and
reads the flush time from --stats. Run it for several N with K above N to
get bytes per key, and with a small K to see the bound:

  FLOWTALLY=build/flowtally /usr/bin/python3 bench/rollups_flood.py 0 20000 100000 200000
  FLOWTALLY=build/flowtally /usr/bin/python3 bench/rollups_flood.py --max-keys 500 200000

Not a test: numbers depend on the machine. Prints one line per run.
"""
import os
import random
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import ftlib  # noqa: E402
import test_rollups_live as tl  # noqa: E402


def run(binary, n, max_keys, workdir):
    db = os.path.join(workdir, "bench-%d.db" % n)
    ft = tl.Live(binary, workdir, "bench-%d" % n, db, extra=["--max-keys", str(max_keys), "--rcvbuf", "16m"])
    time.sleep(0.3)
    base = ft.vm_hwm_kib()
    rng = random.Random(n)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    secs = int(time.time())
    for seq in range(0, n, 30):
        recs = [{"src": "198.51.100.1", "dst": "203.0.113.1", "sport": rng.randrange(65536),
                 "dport": rng.randrange(65536), "proto": 6, "in_if": rng.randrange(65536),
                 "out_if": rng.randrange(65536), "src_as": rng.randrange(1 << 16), "dst_as": rng.randrange(1 << 16),
                 "packets": 1, "bytes": 100} for _ in range(30)]
        s.sendto(tl.v5_datagram(seq, recs, 500000, secs, 0), ("127.0.0.1", ft.port))
        if seq % 3000 == 0:
            time.sleep(0.01)
    ft.wait_stable(n * 9 // 10, timeout=120, quiet=1.5)
    hwm = ft.vm_hwm_kib()
    rc, recs, stats, err = ft.stop()
    w = tl.rollup_stats(stats).get("windows", {})
    sq = tl.rollup_stats(stats).get("sqlite", {})
    rows = sum(1 for _ in tl.ro.query(db, "SELECT 1 FROM rollup"))
    return base, hwm, len(recs), rows, w.get("flush_ns_max", 0) / 1e6, sq.get("flush_ns_max", 0) / 1e6


def main(argv):
    binary = os.environ.get("FLOWTALLY", "build/flowtally")
    args = argv[1:]
    max_keys = 1 << 24
    if args[:1] == ["--max-keys"]:
        max_keys, args = int(args[1]), args[2:]
    workdir = tempfile.mkdtemp(prefix="ft-bench-")
    try:
        first = None
        for n in map(int, args or ["0", "100000"]):
            base, hwm, recs, rows, merge_ms, sql_ms = run(binary, n, max_keys, workdir)
            if first is None:
                first = hwm
            per = (hwm - first) * 1024 / max(rows, 1) if rows else 0
            print("records %7d  rows %8d  VmHWM %7d KiB (start %d)  +%.0f bytes/row over the first run  "
                  "flush: %.1f ms (merge + sinks), SQLite transaction %.1f ms" %
                  (recs, rows, hwm, base, per, merge_ms, sql_ms))
    finally:
        ftlib.cleanup()


if __name__ == "__main__":
    main(sys.argv)
