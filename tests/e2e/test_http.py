#!/usr/bin/python3
"""test_http.py - the HTTP API, /metrics and the web page of a real flowtally.

Oracles: the records flowtally printed (--print), summed per window and key
by rollup_oracle.py from the issue's definitions; the SQLite view `rollups`
read with Python's sqlite3; --stats (the exporters' counters) and flowgen's
own totals; Prometheus' promtool ("check metrics") and a strict parser of
the text format 0.0.4 written here from the format's description.

Cases:
  live       flowgen (build/flowgen) sends NetFlow v5/v9, IPFIX and sFlow with
             flow times = now to a live flowtally: /api/v1/top of every
             dimension equals the --print sums while SQLite holds nothing of
             those windows (they are open: shown from memory); /series is
             zero-filled and equals the sums per bucket; /exporters and /metrics
             equal --stats and flowgen's totals; after SIGTERM the partial flush
             in SQLite equals what /top said.
  restart    a second flowtally on the same database gets more traffic for the
             same window: /top = run 1 (SQLite, flushed partial) + run 2
             (memory), each record once.
  pcap       --pcap FLOWGEN.pcap --serve: replayed, flushed, then served;
             /top equals --print and the SQLite view; /metrics equals --stats
             (exporters, windows, SQLite), flowgen's totals and, for the decode
             histogram, the datagrams decoded.
  errors     400 for bad parameters (unknown dimension, limit, metric, times,
             step, exporter, unknown or repeated parameter, range beyond the
             retention), 404, 405 with Allow, 413 for a body, 414 for a 16 KB
             URI and for 1 MB (no crash), every error a JSON {"error"}; HEAD;
             /healthz, /readyz; the embedded page at / and /static/.
  limits     --http-max-connections 4 --http-timeout 2s: while four idle
             connections are held, a fifth is closed at once (not left
             waiting; counted in /metrics as refused, reason limit); after
             the idle timeout the server has closed the four and answers a
             new connection at once. --http-max-connections-per-ip 2: a
             third connection from 127.0.0.1 is closed at once (reason
             per_ip) while one from 127.0.0.2 is served. A 70 KB header is
             431 (libmicrohttpd's), counted under code 431. /readyz is 503
             naming Kafka when its broker is down.

Needs: $FLOWTALLY, $FT_BUILD_DIR/flowgen, promtool (Debian prometheus; the
strict parser runs without it). Exit 77 when flowgen is missing.
"""
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

W = 300  # --window (default)
failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


# ---- HTTP ------------------------------------------------------------------------

def request(port, path, method="GET", body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def getj(port, path):
    st, h, b = request(port, path)
    try:
        return st, json.loads(b.decode("utf-8")), h
    except ValueError:
        return st, None, h


class Ft:
    """flowtally with --http 127.0.0.1:0 (and a listener unless --pcap)."""

    def __init__(self, binary, workdir, name, args, live=True):
        self.name = name
        self.out_path = os.path.join(workdir, name + ".jsonl")
        self.out = open(self.out_path, "wb")
        cmd = [binary, "--http", "127.0.0.1:0", "--print", "--stats"] + list(args)
        if live:
            cmd += ["--listen", "netflow://127.0.0.1:0", "--rcvbuf", "8388608"]
        self.p = ftlib.start(cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        m = self.err.wait_for(r"serving on http://127\.0\.0\.1:(\d+)", 15)
        if not m:
            ftlib.stop(self.p, signal.SIGKILL)
            raise RuntimeError("%s: no 'serving on' line:\n%s" % (name, self.err.text()))
        self.http = int(m.group(1))
        self.port = None
        if live:
            m = self.err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 15)
            self.port = int(m.group(1))

    def lines(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().count(b"\n")

    def wait_lines(self, n, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.lines() < n:
            time.sleep(0.1)
        return self.lines()

    def stop(self):
        rc = ftlib.stop(self.p, signal.SIGTERM, 30.0)
        self.err.join()
        self.out.close()
        recs = [json.loads(l) for l in open(self.out_path, encoding="utf-8") if l.strip()]
        stats = [json.loads(l) for l in self.err.text().splitlines() if l.startswith("{")]
        with open(self.out_path.replace(".jsonl", ".stderr"), "w") as fh:
            fh.write(self.err.text())
        return rc, recs, stats


def flowgen(args):
    fg = os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")
    r = subprocess.run([fg] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("flowgen %s: %s" % (args, r.stderr.decode()))
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def read_records(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


# ---- the oracle: sums per key over a range ------------------------------------------

def sums(records, dim, frm, to):
    """{key: [bytes, packets, flows]} over windows starting in [frm, to)."""
    out = {}
    for (ws, d, key, _ex), v in ro.expected(records, W).items():
        if d == dim and frm <= ws < to:
            t = out.setdefault(key, [0, 0, 0])
            for i in range(3):
                t[i] += v[i]
    return out


def windows_of(records):
    return sorted({ro.window_of(r, W) for r in records})


METRICS = ("bytes", "packets", "flows")


def check_top(case, port, records, dim, frm, to, metric="bytes", want=None):
    """/top of dim over [frm, to) against the oracle (or `want`); returns the JSON."""
    st, j, _h = getj(port, "/api/v1/top?dimension=%s&from=%d&to=%d&limit=1000&metric=%s" % (dim, frm, to, metric))
    if st != 200 or not j:
        fail(case, "top %s: status %d %r" % (dim, st, j))
        return None
    exp = want if want is not None else sums(records, dim, frm, to)
    total = [sum(v[i] for v in exp.values()) for i in range(3)]
    got_total = [j["total"][m] for m in METRICS]
    if got_total != total:
        fail(case, "top %s total %r, --print sums %r" % (dim, got_total, total))
    rows = {r["key"]: [r[m] for m in METRICS] for r in j["rows"]}
    if len(exp) <= 1000 and rows != exp:
        diff = [(k, exp.get(k), rows.get(k)) for k in sorted(set(exp) | set(rows)) if exp.get(k) != rows.get(k)]
        fail(case, "top %s rows differ (key, want, got): %r" % (dim, diff[:8]))
    mi = METRICS.index(metric)
    order = sorted(j["rows"], key=lambda r: (-r[metric], r["key"]))
    if [r["key"] for r in order] != [r["key"] for r in j["rows"]]:
        fail(case, "top %s not sorted by %s then key" % (dim, metric))
    for r in j["rows"]:
        want_share = r[metric] / total[mi] if total[mi] else 0.0
        if abs(r["share"] - want_share) > 1e-9:
            fail(case, "top %s share of %s: %r, want %r" % (dim, r["key"], r["share"], want_share))
            break
    if j["keys"] != len(exp) or j["dimension"] != dim or j["metric"] != metric or j["from"] != frm or j["to"] != to:
        fail(case, "top %s header: %r" % (dim, {k: j[k] for k in ("keys", "dimension", "metric", "from", "to")}))
    return j


# ---- a strict Prometheus text format 0.0.4 parser ------------------------------------

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError("bad value %r" % s)
    return float(s)


def parse_labels(s, lineno):
    """'a="x",b="y"' -> tuple of pairs; escapes \\\\ \\" \\n only."""
    out, i = [], 0
    while i < len(s):
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", s[i:])
        if not m:
            raise ValueError("line %d: bad label at %r" % (lineno, s[i:]))
        name, i = m.group(1), i + m.end()
        val = []
        while True:
            if i >= len(s):
                raise ValueError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError("line %d: bad escape \\%s" % (lineno, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("line %d: newline in a label value" % lineno)
            else:
                val.append(c)
                i += 1
        if name in [k for k, _ in out]:
            raise ValueError("line %d: label %s twice" % (lineno, name))
        out.append((name, "".join(val)))
        if i < len(s):
            if s[i] != ",":
                raise ValueError("line %d: expected ',' at %r" % (lineno, s[i:]))
            i += 1
    return tuple(out)


def parse_prometheus(text):
    """{family: {"type", "help", "samples": {(name, labels): value}}}; raises
    ValueError on anything the format forbids."""
    if not text.endswith("\n"):
        raise ValueError("the text must end with a line feed")
    fams, order, current, seen = {}, [], None, set()

    def family_of(sample):
        for suffix in ("_bucket", "_sum", "_count"):
            base = sample[:-len(suffix)] if sample.endswith(suffix) else None
            if base and base in fams and fams[base]["type"] == "histogram":
                return base
        return sample

    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line:
            raise ValueError("line %d: empty line" % n)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    raise ValueError("line %d: bad name %r" % (n, name))
                f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
                if f["samples"]:
                    raise ValueError("line %d: %s after samples of %s" % (n, parts[1], name))
                key = parts[1].lower()
                if f[key] is not None:
                    raise ValueError("line %d: second %s for %s" % (n, parts[1], name))
                arg = parts[3] if len(parts) > 3 else ""
                if key == "type" and arg not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    raise ValueError("line %d: bad type %r" % (n, arg))
                if key == "help" and re.search(r"\\[^\\n]", arg.replace("\\\\", "")):
                    raise ValueError("line %d: bad escape in help" % n)
                f[key] = arg
                if name != current:
                    if name in seen:
                        raise ValueError("line %d: family %s interleaved" % (n, name))
                    seen.add(name)
                    current = name
                    order.append(name)
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?", line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name, labels, value = m.group(1), parse_labels(m.group(3) or "", n), parse_value(m.group(4))
        fam = family_of(name)
        if fam != current:
            if fam in seen:
                raise ValueError("line %d: samples of %s interleaved with another family" % (n, fam))
            seen.add(fam)
            current = fam
            order.append(fam)
        f = fams.setdefault(fam, {"type": None, "help": None, "samples": {}})
        key = (name, labels)
        if key in f["samples"]:
            raise ValueError("line %d: duplicate series %r" % (n, key))
        if f["type"] == "counter" and (value < 0 or not name.endswith("_total")):
            raise ValueError("line %d: counter %s negative or not *_total" % (n, name))
        f["samples"][key] = value
    for name, f in fams.items():
        if f["type"] == "histogram":
            check_histogram(name, f)
    return fams


def check_histogram(name, f):
    groups = {}
    for (sname, labels), v in f["samples"].items():
        rest = tuple(kv for kv in labels if kv[0] != "le")
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise ValueError("%s: bucket without le" % name)
            g["buckets"].append((parse_value(le), v))
        elif sname == name + "_sum":
            g["sum"] = v
        elif sname == name + "_count":
            g["count"] = v
        else:
            raise ValueError("%s: stray sample %s" % (name, sname))
    for rest, g in groups.items():
        b = sorted(g["buckets"])
        if not b or b[-1][0] != math.inf or g["count"] is None or g["sum"] is None:
            raise ValueError("%s%r: needs +Inf, _sum and _count" % (name, rest))
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise ValueError("%s%r: buckets not cumulative" % (name, rest))
        if b[-1][1] != g["count"]:
            raise ValueError("%s%r: +Inf bucket %r != count %r" % (name, rest, b[-1][1], g["count"]))


def metrics(case, port, promtool=True):
    st, h, body = request(port, "/metrics")
    text = body.decode("utf-8")
    if st != 200 or not h.get("content-type", "").startswith("text/plain; version=0.0.4"):
        fail(case, "/metrics: status %d, content type %r" % (st, h.get("content-type")))
    try:
        fams = parse_prometheus(text)
    except ValueError as e:
        fail(case, "/metrics does not parse: %s" % e)
        return {}
    if promtool and shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=body, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            fail(case, "promtool check metrics: %s" % r.stdout.decode()[:2000])
    bad = [f for f in fams if not f.startswith("flowtally_")]
    if bad:
        fail(case, "families without the flowtally_ prefix: %r" % bad)
    return fams


def sample(fams, fam, name=None, **labels):
    f = fams.get(fam)
    if not f:
        return None
    return f["samples"].get((name or fam, tuple(sorted(labels.items()))))


def family_total(fams, fam):
    f = fams.get(fam)
    return sum(f["samples"].values()) if f else None


def ctr_family(name):
    return "flowtally_exporter_%s_total" % ("sflow_stats_samples" if name == "counter_samples" else name)


def compare_stats(case, fams, stats, rollup_keys=None):
    """Every exporter's counters and errors in /metrics equal --stats; so do
    the window and SQLite counters named in rollup_keys."""
    n = 0
    for s in (x for x in stats if x.get("kind") == "exporter_stats"):
        ex = s["exporter"]
        for k, v in s["counters"].items():
            got = sample(fams, ctr_family(k), exporter=ex)
            n += 1
            if got != v:
                fail(case, "%s %s: /metrics %r, --stats %r" % (ex, k, got, v))
        for k, v in s["errors"].items():
            got = sample(fams, "flowtally_exporter_errors_total", exporter=ex, kind=k)
            n += 1
            if got != v:
                fail(case, "%s error %s: /metrics %r, --stats %r" % (ex, k, got, v))
        for fam, k in (("flowtally_exporter_templates", "templates"), ("flowtally_exporter_sampling_rate",
                                                                          "sampling_rate")):
            if sample(fams, fam, exporter=ex) != s[k]:
                fail(case, "%s %s: /metrics %r, --stats %r" % (ex, k, sample(fams, fam, exporter=ex), s[k]))
    roll = next((x for x in stats if x.get("kind") == "rollup_stats"), {})
    for part, prefix in (("windows", "flowtally_window"), ("sqlite", "flowtally_sqlite")):
        for k, v in roll.get(part, {}).items():
            if rollup_keys is not None and k not in rollup_keys:
                continue
            if k.endswith("_ns_total") or k.endswith("_ns_max"):
                fam = "%s_%s_seconds_%s" % (prefix, k[:k.rindex("_ns_")], "total" if k.endswith("total") else "max")
                got = sample(fams, fam)
                if got is None or abs(got - v / 1e9) > 1e-6 * max(1.0, v / 1e9):
                    fail(case, "%s %s: /metrics %r s, --stats %r ns" % (part, k, got, v))
            elif k in ("states_loaded", "templates_loaded", "states_saved"):
                continue
            elif k in ("pending_batches", "pending_rows"):  # gauges: the retry backlog now
                got = sample(fams, "%s_%s" % (prefix, k))
                if got != v:
                    fail(case, "%s %s: /metrics %r, --stats %r" % (part, k, got, v))
            else:
                got = sample(fams, "%s_%s_total" % (prefix, k))
                if got != v:
                    fail(case, "%s %s: /metrics %r, --stats %r" % (part, k, got, v))
            n += 1
    return n


# ---- cases ---------------------------------------------------------------------------

def sqlite_rows(db, where="1"):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return c.execute("SELECT count(*) FROM rollups WHERE " + where).fetchone()[0]
    finally:
        c.close()


def wait_metric(port, fam, want, timeout=10.0):
    """Polls /metrics until the family's samples add up to want (counters
    are published about once a second)."""
    end, got = time.monotonic() + timeout, None
    while time.monotonic() < end:
        _st, _h, body = request(port, "/metrics")
        try:
            got = family_total(parse_prometheus(body.decode()), fam)
        except ValueError:
            got = None
        if got == want:
            return got
        time.sleep(0.2)
    return got


def case_live(binary, tmp):
    case = "live"
    db = os.path.join(tmp, "live.db")
    ft = Ft(binary, tmp, "live1", ["--db", db])
    fg = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v5,v9,ipfix,sflow", "--count", "20000",
                  "--rate", "40000", "--exporters", "3", "--sampling-rate", "1,100,1000", "--keys", "300",
                  "--counter-every", "4"])
    got_lines = ft.wait_lines(fg["records"])
    if got_lines != fg["records"]:
        fail(case, "%d records printed, flowgen sent %d" % (got_lines, fg["records"]))
    time.sleep(0.3)
    recs = read_records(ft.out_path)
    wins = windows_of(recs)
    frm, to = wins[0], wins[-1] + W
    # Open windows: nothing in SQLite yet, all of it in /top.
    if sqlite_rows(db) != 0:
        fail(case, "SQLite already has %d rows: the windows were not open" % sqlite_rows(db))
    for dim in ro.DIMENSIONS:
        j = check_top(case, ft.http, recs, dim, frm, to)
        if j and (j["sources"]["open_rows"] == 0 or j["sources"]["stored_rows"] != 0):
            fail(case, "top %s sources %r: expected open windows only" % (dim, j["sources"]))
    for metric in ("packets", "flows"):
        check_top(case, ft.http, recs, "dst_port", frm, to, metric=metric)
    # limit and default range (the last hour includes now)
    st, j, _h = getj(ft.http, "/api/v1/top?dimension=proto&limit=1")
    exp = sums(recs, "proto", frm, to)
    best = min(exp.items(), key=lambda kv: (-kv[1][0], kv[0]))
    if st != 200 or len(j["rows"]) != 1 or j["rows"][0]["key"] != best[0] or j["rows"][0]["bytes"] != best[1][0]:
        fail(case, "top proto limit=1 default range: %d %r, want %r" % (st, j and j["rows"], best))
    ok(case, "%d records in %d open window(s): /top of %d dimensions = --print sums, SQLite empty" %
       (len(recs), len(wins), len(ro.DIMENSIONS)))

    # Series: 30 min in 10-min buckets, zero-filled; top 3 and one key.
    sfrom = (frm // 600) * 600 - 1800
    sto = (to + 599) // 600 * 600
    st, j, _h = getj(ft.http, "/api/v1/series?dimension=dst_port&top=3&from=%d&to=%d&step=10m" % (sfrom, sto))
    n_buckets = (sto - sfrom) // 600
    if st != 200 or j["times"] != [sfrom + 600 * i for i in range(n_buckets)] or j["step_s"] != 600:
        fail(case, "series times: %d %r" % (st, j and j.get("times")))
    else:
        exp = ro.expected(recs, W)
        per = {}
        for (ws, d, key, _e), v in exp.items():
            if d == "dst_port":
                per.setdefault(key, [0] * n_buckets)[(ws - sfrom) // 600] += v[0]
        top3 = sorted(per, key=lambda k: (-sum(per[k]), k))[:3]
        got = {s["key"]: s["values"] for s in j["series"]}
        if [s["key"] for s in j["series"]] != top3 or any(got[k] != per[k] for k in top3):
            fail(case, "series top 3: %r, want %r" % (got, {k: per[k] for k in top3}))
        total = [sum(per[k][i] for k in per) for i in range(n_buckets)]
        if j["total"] != total or total[0] != 0:
            fail(case, "series total %r, want %r (first bucket empty)" % (j["total"], total))
        k0 = top3[0]
        st, j1, _h = getj(ft.http, "/api/v1/series?dimension=dst_port&key=%s&from=%d&to=%d&step=10m" %
                          (k0, sfrom, sto))
        if st != 200 or j1["series"] != [{"key": k0, "values": per[k0]}]:
            fail(case, "series key %s: %r, want %r" % (k0, j1 and j1["series"], per[k0]))
        ok(case, "series of %d zero-filled 10-min buckets = --print sums per bucket (top 3 and one key)" % n_buckets)

    # /exporters and /metrics: equal flowgen's totals, then --stats.
    want_dgrams = fg["datagrams"]
    if wait_metric(ft.http, "flowtally_exporter_packets_total", want_dgrams) != want_dgrams:
        fail(case, "/metrics never showed %d datagrams" % want_dgrams)
    fams = metrics(case, ft.http)
    st, ex, _h = getj(ft.http, "/api/v1/exporters")
    checks = {"flowtally_exporter_records_total": fg["records"],
              "flowtally_exporter_options_records_total": fg["options_records"],
              "flowtally_exporter_templates_received_total": fg["template_records"],
              "flowtally_exporter_sflow_stats_samples_total": fg["counter_samples"],
              "flowtally_exporter_octets_total": fg["octets"],
              "flowtally_decode_duration_seconds": None}
    for fam, want in checks.items():
        if fam == "flowtally_decode_duration_seconds":
            got, want = sample(fams, fam, fam + "_count"), want_dgrams
        else:
            got = family_total(fams, fam)
        if got != want:
            fail(case, "%s = %r, flowgen sent %r" % (fam, got, want))
    if family_total(fams, "flowtally_window_records_total") != len(recs):
        fail(case, "window records %r, printed %d" % (family_total(fams, "flowtally_window_records_total"), len(recs)))
    ifs = [k for k in fams.get("flowtally_sflow_if_in_octets_total", {"samples": {}})["samples"]]
    if len(ifs) == 0:
        fail(case, "no sFlow interface counters in /metrics")
    exps = {e["address"]: e for e in (ex or {}).get("exporters", [])}
    if st != 200 or sorted(exps) != sorted(fg["sources"]):
        fail(case, "/exporters %d: %r, flowgen sources %r" % (st, sorted(exps), fg["sources"]))
    rc, recs_all, stats = ft.stop()
    n = compare_stats(case, fams, stats, rollup_keys={"records", "late_records", "clamped_past", "clamped_future",
                                                       "bad_sampling", "dropped", "absurd_counters"})
    for s in (x for x in stats if x.get("kind") == "exporter_stats"):
        e = exps.get(s["exporter"], {})
        want = {"packets": s["counters"]["packets"], "records": s["counters"]["records"],
                "templates": s["templates"], "sampling_rate": s["sampling_rate"], "errors": s["errors"],
                "sequence_lost": s["counters"]["lost_packets"] + s["counters"]["lost_records"]}
        have = {k: e.get(k) for k in want}
        if have != want:
            fail(case, "/exporters %s: %r, --stats %r" % (s["exporter"], have, want))
        protos = sorted(p.upper() for p in s["protocols"])
        if sorted(e.get("protocols", [])) != protos:
            fail(case, "/exporters %s protocols %r, --stats %r" % (s["exporter"], e.get("protocols"), protos))
    ok(case, "/metrics passes the strict parser%s; %d values equal --stats, totals equal flowgen's; /exporters "
       "equals --stats" % (" and promtool" if shutil.which("promtool") else "", n))
    if rc != 0 or len(recs_all) != len(recs):
        fail(case, "exit %r, %d records" % (rc, len(recs_all)))
    # SIGTERM flushed the open windows as partial: SQLite = the same sums.
    got = ro.from_sqlite(db)
    want = ro.expected(recs, W)
    errs = ro.diff(want, got)
    if errs:
        fail(case, "SQLite after the partial flush: %s" % errs[:5])
    return recs, frm, to


def case_restart(binary, tmp, recs1, frm, to):
    case = "restart"
    db = os.path.join(tmp, "live.db")
    ft = Ft(binary, tmp, "live2", ["--db", db])
    fg = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v9,ipfix", "--count", "3000", "--rate",
                  "20000", "--exporters", "2", "--keys", "100", "--seed", "7"])
    ft.wait_lines(fg["records"])
    time.sleep(0.3)
    recs2 = read_records(ft.out_path)
    wins = windows_of(recs1 + recs2)
    frm, to = min(frm, wins[0]), max(to, wins[-1] + W)
    n = 0
    for dim in ("dst_port", "src_as", "in_if"):
        j = check_top(case, ft.http, recs1 + recs2, dim, frm, to)
        if j and (j["sources"]["open_rows"] == 0 or j["sources"]["stored_rows"] == 0):
            fail(case, "top %s sources %r: expected both SQLite and open windows" % (dim, j["sources"]))
        n += 1
    st, j, _h = getj(ft.http, "/api/v1/exporters")
    if st != 200 or sorted(e["address"] for e in j["exporters"]) != sorted(fg["sources"]):
        fail(case, "/exporters after a restart: %r" % (j,))
    ft.stop()
    ok(case, "%d records flushed partial by run 1 + %d open in run 2: /top of %d dimensions = the sum of both, "
       "each once" % (len(recs1), len(recs2), n))


def case_pcap(binary, tmp):
    case = "pcap"
    pcap = os.path.join(tmp, "flowgen.pcap")
    fg = flowgen(["--pcap-out", pcap, "--proto", "v5,v9,ipfix,sflow", "--count", "30000", "--rate", "2000",
                  "--exporters", "3", "--sampling-rate", "1,10,1000", "--keys", "500", "--counter-every", "3"])
    db = os.path.join(tmp, "pcap.db")
    ft = Ft(binary, tmp, "pcap", ["--pcap", pcap, "--serve", "--db", db, "--retention", "0"], live=False)
    if not ft.err.wait_for(r"capture replayed: serving HTTP", 60):
        fail(case, "no 'capture replayed' line:\n%s" % ft.err.text())
        ft.stop()
        return
    st, j, _h = getj(ft.http, "/readyz")
    if st != 200 or j.get("checks", {}).get("listeners") != "ok: capture replayed":
        fail(case, "/readyz after the replay: %d %r" % (st, j))
    recs = read_records(ft.out_path)
    wins = windows_of(recs)
    frm, to = wins[0], wins[-1] + W
    view = ro.from_sqlite(db)
    for dim in ro.DIMENSIONS:
        j = check_top(case, ft.http, recs, dim, frm, to)
        stored = {}
        for (ws, d, key, _e), v in view.items():
            if d == dim:
                t = stored.setdefault(key, [0, 0, 0])
                for i in range(3):
                    t[i] += v[i]
        if j and {r["key"]: [r[m] for m in METRICS] for r in j["rows"]} != stored:
            fail(case, "top %s differs from the SQLite view's sums" % dim)
    fams = metrics(case, ft.http)
    rc, _recs, stats = ft.stop()
    n = compare_stats(case, fams, stats)
    dg = sample(fams, "flowtally_decode_duration_seconds", "flowtally_decode_duration_seconds_count")
    if dg != fg["datagrams"] or family_total(fams, "flowtally_exporter_records_total") != fg["records"]:
        fail(case, "decode count %r / records %r, flowgen %r / %r" % (
            dg, family_total(fams, "flowtally_exporter_records_total"), fg["datagrams"], fg["records"]))
    if rc != 0:
        fail(case, "exit %r" % rc)
    ok(case, "%d records over %d windows replayed and served: /top of %d dimensions = --print = SQLite view; "
       "%d /metrics values = --stats (windows and SQLite included)" % (len(recs), len(wins), len(ro.DIMENSIONS), n))


def expect_error(case, port, path, status, method="GET", body=None, headers=None, contains=None):
    st, h, b = request(port, path, method=method, body=body, headers=headers)
    try:
        j = json.loads(b.decode())
    except ValueError:
        j = None
    good = st == status and isinstance(j, dict) and isinstance(j.get("error"), str) and j["error"] \
        and h.get("content-type") == "application/json" and (not contains or contains in j["error"])
    if not good:
        fail(case, "%s %s: %d %r, want %d with a JSON error%s" % (method, path[:80], st, b[:200], status,
                                                                  " naming " + contains if contains else ""))
    return h


def case_errors(binary, tmp):
    case = "errors"
    # 1-minute windows: 29 days are 41760 of them, more than a series may have.
    ft = Ft(binary, tmp, "errors", ["--db", os.path.join(tmp, "errors.db"), "--window", "1m"])
    p = ft.http
    bad = [
        ("/api/v1/top", "dimension"),
        ("/api/v1/top?dimension=nope", "unknown dimension"),
        ("/api/v1/top?dimension=dst_port&limit=0", "limit"),
        ("/api/v1/top?dimension=dst_port&limit=1001", "limit"),
        ("/api/v1/top?dimension=dst_port&limit=ten", "limit"),
        ("/api/v1/top?dimension=dst_port&metric=octets", "metric"),
        ("/api/v1/top?dimension=dst_port&from=yesterday", "from"),
        ("/api/v1/top?dimension=dst_port&to=2026-02-30T00:00:00Z", "to"),
        ("/api/v1/top?dimension=dst_port&from=-1h&to=-2h", "before"),
        ("/api/v1/top?dimension=dst_port&from=-40d", "retention"),
        ("/api/v1/top?dimension=dst_port&exporter=not-an-ip", "exporter"),
        ("/api/v1/top?dimension=dst_port&exporter=192.0.2.1", "--rollup-by-exporter"),
        ("/api/v1/top?dimension=dst_port&dimension=src_port", "twice"),
        ("/api/v1/top?dimension=dst_port&lmit=5", "unknown parameter"),
        ("/api/v1/series?dimension=dst_port&step=90s", "multiple of the window"),
        ("/api/v1/series?dimension=dst_port&key=6/443&top=3", "either"),
        ("/api/v1/series?dimension=dst_port&top=101", "top"),
        ("/api/v1/series?dimension=dst_port&from=-29d", "buckets"),
        ("/api/v1/dimensions?x=1", "unknown parameter"),
        ("/api/v1/top?dimension=%FF%FE", "unknown dimension '??'"),  # not UTF-8: echoed as '?'
        ("/api/v1/series?dimension=dst_port&key=%C3%A9", "printable ASCII"),
        ("/api/v1/top?dimension=dst_port%00x", "NUL"),  # not read as dst_port
        ("/api/v1/top?dimension=dst_port&limit=5%00zz", "NUL"),
        ("/api/v1/top?dimension=dst_port&lim%00it=5", "NUL"),
    ]
    for path, word in bad:
        expect_error(case, p, path, 400, contains=word)
    expect_error(case, p, "/api/v2/top", 404)
    expect_error(case, p, "/nope", 404)
    expect_error(case, p, "/static/nope.js", 404)
    h = expect_error(case, p, "/api/v1/top?dimension=dst_port", 405, method="POST", body=b"x=1")
    if h.get("allow") != "GET, HEAD":
        fail(case, "405 Allow header %r" % h.get("allow"))
    expect_error(case, p, "/api/v1/top?dimension=dst_port", 405, method="DELETE")
    expect_error(case, p, "/api/v1/top?dimension=dst_port", 413, body=b"x" * 100,
                 headers={"Content-Type": "text/plain"})
    expect_error(case, p, "/api/v1/top?dimension=dst_port&from=" + "9" * 16000, 414)
    ok(case, "%d bad requests -> 400 with a JSON error naming the problem; 404, 405 (Allow: GET, HEAD), 413, 414"
       % len(bad))
    # 1 MB of query string: libmicrohttpd's own refusal (414, its buffer is
    # 64 KiB), or a closed connection; never a crash.
    s = socket.create_connection(("127.0.0.1", p), timeout=10)
    status = None
    try:
        s.sendall(b"GET /api/v1/top?dimension=dst_port&from=" + b"1" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        head = s.recv(200)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        status = int(m.group(1)) if m else None
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    if status not in (None, 413, 414, 431):
        fail(case, "1 MB URI: status %r" % status)
    st, j, _h = getj(p, "/healthz")
    if st != 200 or j != {"status": "ok"} or ft.p.poll() is not None:
        fail(case, "after a 1 MB URI: /healthz %d %r, process %r" % (st, j, ft.p.poll()))
    else:
        ok(case, "1 MB URI refused (%s), the server still answers" % (status or "connection closed"))
    st, j, _h = getj(p, "/readyz")
    if st != 200 or j.get("status") != "ready" or j["checks"].get("database") != "ok":
        fail(case, "/readyz: %d %r" % (st, j))
    st, h, b = request(p, "/api/v1/dimensions")
    names = [d["name"] for d in json.loads(b)["dimensions"]] if st == 200 else []
    if names != list(ro.DIMENSIONS):
        fail(case, "/dimensions: %r" % names)
    st, h, b = request(p, "/api/v1/top?dimension=dst_port", method="HEAD")
    if st != 200 or b != b"" or h.get("content-type") != "application/json":
        fail(case, "HEAD: %d %r %r" % (st, h, b[:50]))
    page = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web", "index.html"),
                "rb").read()
    for path in ("/", "/static/index.html"):
        st, h, b = request(p, path)
        if st != 200 or b != page or not h.get("content-type", "").startswith("text/html"):
            fail(case, "%s: %d %r, not web/index.html" % (path, st, h.get("content-type")))
    # Keep-alive: two requests over one connection.
    c = http.client.HTTPConnection("127.0.0.1", p, timeout=10)
    statuses = []
    for path in ("/healthz", "/api/v1/dimensions"):
        c.request("GET", path)
        resp = c.getresponse()
        resp.read()
        statuses.append((resp.status, resp.getheader("Connection")))
    c.close()
    if statuses != [(200, None), (200, None)]:
        fail(case, "keep-alive: %r" % statuses)
    ok(case, "/healthz, /readyz, /dimensions, HEAD, keep-alive, and / = /static/index.html = web/index.html")
    ft.stop()


def closed_at_once(sock, within=1.5):
    """True when the server closes sock (EOF or reset) without answering
    within `within` seconds; False when it answers or says nothing."""
    sock.settimeout(within)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        return sock.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def connect_from(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def case_limits(binary, tmp):
    case = "limits"
    ft = Ft(binary, tmp, "limits", ["--db", "off", "--http-threads", "1", "--http-max-connections", "4",
                                    "--http-max-connections-per-ip", "0", "--http-timeout", "2s"])
    p = ft.http
    idle = [socket.create_connection(("127.0.0.1", p), timeout=5) for _ in range(4)]
    time.sleep(0.3)
    t0 = time.monotonic()
    extra = socket.create_connection(("127.0.0.1", p), timeout=5)
    if not closed_at_once(extra):
        fail(case, "a fifth connection was not closed at once beyond --http-max-connections 4")
    extra.close()
    # The held ones are idle: the server closes them after 2 s.
    for s in idle:
        s.settimeout(5)
        try:
            gone = s.recv(10) == b""
        except (ConnectionResetError, socket.timeout):
            gone = False
        if not gone:
            fail(case, "an idle connection was not closed by the server after --http-timeout 2s")
    waited = time.monotonic() - t0
    t1 = time.monotonic()
    st, j, _h = getj(p, "/healthz")
    took = time.monotonic() - t1
    if st != 200 or took > 1.0:
        fail(case, "/healthz once the idle ones were closed: %d after %.2f s" % (st, took))
    fams = metrics(case, p, promtool=False)
    refused = sample(fams, "flowtally_http_connections_refused_total", reason="limit")
    open_now = sample(fams, "flowtally_http_connections")
    if refused != 1 or open_now != 1:
        fail(case, "/metrics refused{limit} %r (want 1), connections %r (want 1: this one)" % (refused, open_now))
    # Headers past the 64 KiB request memory: libmicrohttpd's 431, counted.
    st = None
    try:
        st, _h, _b = request(p, "/healthz", headers={"X-Filler": "a" * 70000})
    except (http.client.HTTPException, ConnectionError):
        pass
    fams = metrics(case, p, promtool=False)
    c431 = sample(fams, "flowtally_http_requests_total", code="431")
    if st != 431 or c431 != 1:
        fail(case, "70 KB header: status %r, /metrics code 431 %r" % (st, c431))
    st, j, _h = getj(p, "/api/v1/top?dimension=dst_port")
    if st != 503 or "--db off" not in (j or {}).get("error", ""):
        fail(case, "/top with --db off: %d %r" % (st, j))
    for s in idle:
        s.close()
    ft.stop()
    ok(case, "a 5th connection closed at once (counted), the 4 idle ones closed by the server after %.1f s, then "
       "answered in %.2f s; a 70 KB header -> 431, counted; --db off -> 503" % (waited, took))
    # One client may hold 2 connections, others still get theirs.
    ft = Ft(binary, tmp, "per_ip", ["--db", "off", "--http-max-connections", "8", "--http-max-connections-per-ip",
                                    "2"])
    p = ft.http
    held = [connect_from("127.0.0.1", p) for _ in range(2)]
    time.sleep(0.3)
    third = connect_from("127.0.0.1", p)
    if not closed_at_once(third):
        fail(case, "a third connection from 127.0.0.1 was not closed beyond --http-max-connections-per-ip 2")
    third.close()
    other = connect_from("127.0.0.2", p)
    other.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = b""
    while True:
        chunk = other.recv(65536)
        if not chunk:
            break
        body += chunk
    other.close()
    head, _, text = body.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        fail(case, "127.0.0.2 beside a client at its limit: %r" % head[:40])
    else:
        fams = parse_prometheus(text.decode())
        if sample(fams, "flowtally_http_connections_refused_total", reason="per_ip") != 1:
            fail(case, "/metrics refused{per_ip}: %r, want 1" %
                 sample(fams, "flowtally_http_connections_refused_total", reason="per_ip"))
    for s in held:
        s.close()
    ft.stop()
    ok(case, "a 3rd connection from one client closed at once (counted per_ip), another client served")
    # Readiness with a Kafka broker nobody runs (the discard port of
    # loopback, closed): 503, the reason named; liveness unaffected.
    ft = Ft(binary, tmp, "kafka_down", ["--db", "off", "--kafka-brokers", "127.0.0.1:9", "-X",
                                        "reconnect.backoff.max.ms=200"])
    st, j, _h = getj(ft.http, "/readyz")
    reasons = (j or {}).get("reasons", [])
    if st != 503 or j.get("status") != "not ready" or not any(r.startswith("kafka: unreachable") for r in reasons):
        fail(case, "/readyz with Kafka down: %d %r" % (st, j))
    st2, _j, _h = getj(ft.http, "/healthz")
    if st2 != 200:
        fail(case, "/healthz with Kafka down: %d" % st2)
    ft.stop()
    ok(case, "Kafka unreachable -> /readyz 503 (%s), /healthz 200" % (reasons[:1],))


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    if not os.path.exists(os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")):
        print("SKIP: flowgen not built (FT_BUILD_DIR)")
        return ftlib.SKIP
    if not shutil.which("promtool"):
        print("note: promtool missing (apt-get install prometheus): only the strict parser checks /metrics")
    tmp = tempfile.mkdtemp(prefix="ft-http-", dir=os.environ.get("FT_BUILD_DIR"))
    try:
        recs, frm, to = case_live(binary, tmp)
        case_restart(binary, tmp, recs, frm, to)
        case_pcap(binary, tmp)
        case_errors(binary, tmp)
        case_limits(binary, tmp)
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
    print("all HTTP cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
