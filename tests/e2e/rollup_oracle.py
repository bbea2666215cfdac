"""rollup_oracle.py - the rollups a set of --print records must produce,
computed here from the issue's definitions (not from flowtally's code), and
the rows flowtally wrote to SQLite, read back through the `rollups` view.

Definitions (issue 5, README "Rollups"):
  event time = time_flow_end_ns clamped to [time_received_ns - 1 h,
               time_received_ns + 1 min]  (or time_received_ns with
               --event-time received);
  window     = floor(event time / W) * W, in Unix seconds;
  each record adds bytes x r, packets x r, 1 flow to one key of every
  dimension, r = sampling_rate, or 1 when it is 0 or above 2^24; a product
  above 2^50 bytes / 2^40 packets counts as that cap;
  keys: src_as/dst_as "AS<n>", as_pair "AS<a>-AS<b>", ports "<proto>/<port>",
  proto "<proto>", countries the ISO code or "unknown", in_if/out_if
  "<exporter>:<ifIndex>" ("[<v6>]:<ifIndex>").

Standard library only (Debian's /usr/bin/python3).
"""
import sqlite3

DIMENSIONS = ("src_as", "dst_as", "as_pair", "src_port", "dst_port", "proto", "src_country",
              "dst_country", "in_if", "out_if")
NS = 10**9
BYTES_MAX = 1 << 50    # per record, after the sampling rate
PACKETS_MAX = 1 << 40


def window_of(rec, window_s, received=False):
    recv = rec["time_received_ns"]
    ev = recv if received else rec["time_flow_end_ns"]
    ev = max(ev, recv - 3600 * NS)
    ev = min(ev, recv + 60 * NS)
    return ev // NS // window_s * window_s


def rate_of(rec):
    r = rec["sampling_rate"]
    return 1 if r == 0 or r > 1 << 24 else r


def _iface(rec, field):
    ex = rec["sampler_address"]
    return ("[%s]:%d" if ":" in ex else "%s:%d") % (ex, rec[field])


def key_of(rec, dim):
    if dim == "src_as":
        return "AS%d" % rec["src_as"]
    if dim == "dst_as":
        return "AS%d" % rec["dst_as"]
    if dim == "as_pair":
        return "AS%d-AS%d" % (rec["src_as"], rec["dst_as"])
    if dim == "src_port":
        return "%d/%d" % (rec["proto"], rec["src_port"])
    if dim == "dst_port":
        return "%d/%d" % (rec["proto"], rec["dst_port"])
    if dim == "proto":
        return "%d" % rec["proto"]
    if dim == "src_country":
        return rec["src_country"].upper() or "unknown"
    if dim == "dst_country":
        return rec["dst_country"].upper() or "unknown"
    if dim == "in_if":
        return _iface(rec, "in_if")
    if dim == "out_if":
        return _iface(rec, "out_if")
    raise ValueError(dim)


def expected(records, window_s, received=False, by_exporter=False):
    """{(window_start, dimension, key, exporter): [bytes, packets, flows]}"""
    out = {}
    for rec in records:
        ws = window_of(rec, window_s, received)
        r = rate_of(rec)
        ex = rec["sampler_address"] if by_exporter else ""
        for dim in DIMENSIONS:
            k = (ws, dim, key_of(rec, dim), ex)
            v = out.setdefault(k, [0, 0, 0])
            v[0] += min(rec["bytes"] * r, BYTES_MAX)
            v[1] += min(rec["packets"] * r, PACKETS_MAX)
            v[2] += 1
    return out


def split_late(records, window_s, lateness_s, received=False, by_exporter=False):
    """The capture clock of --pcap (issue 5: the latest capture timestamp
    seen, this record's included; a window closes once that clock reaches
    its end + lateness), applied to the records in the order --print shows
    them. Returns (on_time, late, open_from): the expected() mappings of the
    records whose window was still open on arrival and of those whose window
    had closed (flushed as corrections), and the start (s) of the oldest
    window still open at the end (flushed partial)."""
    on_time, late = [], []
    clock = 0
    for rec in records:
        clock = max(clock, rec["time_received_ns"])
        end = (window_of(rec, window_s, received) + window_s + lateness_s) * NS
        (late if clock >= end else on_time).append(rec)
    # The oldest window whose end + lateness the final clock has not reached.
    open_from = (clock // NS - lateness_s) // window_s * window_s if clock else 0
    return (expected(on_time, window_s, received, by_exporter), expected(late, window_s, received, by_exporter),
            open_from)


def typed_key(rec, dim, by_exporter=False):
    """The typed key fields of proto/rollup.proto a record's row of dim
    carries (proto/README.md): {field: value}, zeros included; addresses as
    text."""
    t = {}
    if dim in ("src_as", "as_pair"):
        t["src_as"] = rec["src_as"]
    if dim in ("dst_as", "as_pair"):
        t["dst_as"] = rec["dst_as"]
    if dim in ("src_port", "dst_port", "proto"):
        t["proto"] = rec["proto"]
    if dim in ("src_port", "dst_port"):
        t["port"] = rec[dim]
    if dim in ("src_country", "dst_country"):
        t["country"] = rec[dim].upper()
    if dim in ("in_if", "out_if"):
        t["if_index"] = rec[dim]
    if dim in ("in_if", "out_if") or by_exporter:
        t["exporter_address"] = rec["sampler_address"]
    return t


def from_sqlite(path):
    """The same mapping read from the rollups view."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        out = {}
        for ws, we, dim, key, ex, b, p, f in db.execute(
                "SELECT window_start, window_end, dimension, key, exporter, bytes, packets, flows FROM rollups"):
            k = (ws, dim, key, ex)
            if k in out:
                raise AssertionError("duplicate row %r" % (k,))
            out[k] = [b, p, f]
        return out
    finally:
        db.close()


def totals(rows):
    """{(window_start, dimension): [bytes, packets, flows]} - what folding keeps."""
    out = {}
    for (ws, dim, _key, _ex), v in rows.items():
        t = out.setdefault((ws, dim), [0, 0, 0])
        for i in range(3):
            t[i] += v[i]
    return out


def diff(want, got, limit=15):
    """Human-readable differences between two mappings (empty: equal)."""
    errs = []
    for k in sorted(set(want) | set(got), key=repr):
        if want.get(k) != got.get(k):
            errs.append("%r: expected %r, SQLite has %r" % (k, want.get(k), got.get(k)))
    if len(errs) > limit:
        errs = errs[:limit] + ["... %d differences in all" % len(errs)]
    return errs


def query(path, sql, args=()):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()
