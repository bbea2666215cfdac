#!/usr/bin/python3
"""test_kafka_rollups.py - rollup rows on Kafka (--kafka-rollup-topic) against
the SQLite rollups of the same run and against sums computed here.

The cluster is librdkafka's mock cluster (tests/kafka_mock.c) on loopback;
messages are read back with Debian's kcat and decoded by Google's protoc
(`protoc --decode` with proto/rollup.proto), or parsed as JSON. Three views
of one run must agree:
  Kafka   every message summed by (window start, dimension, key text,
          exporter): what a downstream consumer adding up the topic gets;
  SQLite  the `rollups` view of --db (sqlite3 through Python's module);
  oracle  sums computed from flowtally's own --print records with the issue's
          definitions (rollup_oracle.py), not with flowtally's code.

Cases:
  corpus_protobuf   every Ethernet capture of the corpus merged (mergecap) and
        replayed with --pcap and GeoIP databases (both layouts' writer:
        mkmmdb.pl) into the default topic flow-rollups (4 partitions):
        the three views agree; every message's typed key fields are the
        record's values (rollup_oracle.typed_key), its Kafka key is
        "DIMENSION KEY_TEXT", equal keys share a partition; the capture clock
        applied to the --print order says which records were late: the
        is_correction messages sum exactly to those, the others to the rest,
        and is_partial is set exactly on the windows still open at the end;
        kafka_stats counts the rows apart from the raw records (whose topic
        holds exactly the --print records).
  dimension_topics_json   the same capture, --kafka-rollup-topic ftr-{dimension}
        --kafka-rollup-encoding json --rollup-by-exporter: ten topics, each
        holding only its dimension's rows, as JSON objects with the
        documented fields (typed key fields present even when 0, exporter
        address as text, the exporter column filled) and keys
        "DIMENSION KEY_TEXT EXPORTER"; the three views agree.
  softflowd_live    softflowd exports live loopback traffic (flow times = now)
        to a listening flowtally, stopped with SIGTERM mid-window: the open
        window reaches Kafka as is_partial before the producer closes, and
        the three views agree.
  queue_full        every broker down, a 10-message local queue: raw records and
        rollup rows share it (their produced counts add up to 10), the rows
        that found no room are counted as dropped after a bounded wait, the
        queued ones as flush_left, and SQLite still has every row.

Env: FLOWTALLY, FT_CORPUS, FT_KAFKA_MOCK, FT_PROTO_DIR, FT_TEST_DATA, FT_BUILD_DIR.
Exit: 0 passed, 1 failed, 77 skipped (kcat, protoc, kafka_mock, corpus or
mergecap missing).
Usage: test_kafka_rollups.py [case...]
"""
import collections
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import kafkalib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

WINDOW, LATENESS = 300, 120  # flowtally's defaults (--window 5m, --lateness 2m)
STRINGS = ("dimension", "key_text", "exporter", "country")
TYPED = ("src_as", "dst_as", "proto", "port", "country", "exporter_address", "if_index")


def run_pcap(binary, pcap, args, timeout=300):
    p = subprocess.run([binary, "--pcap", pcap, "--print", "--stats"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    err = p.stderr.decode()
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    stats = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
    return p.returncode, recs, stats, err


def stat(stats, kind):
    return next((s for s in stats if s.get("kind") == kind), {})


def decode_pb(msgs):
    """Rollup messages -> dicts as protoc shows them (strings as str)."""
    out = []
    for f in kafkalib.decode([m.value for m in msgs], "rollup"):
        for k in STRINGS:
            if isinstance(f.get(k), bytes):
                f[k] = f[k].decode("utf-8")
        out.append(f)
    return out


def decode_json(msgs):
    return [json.loads(m.value) for m in msgs]


def kafka_sums(rows, correction=None):
    """{(window_start, dimension, key, exporter): [bytes, packets, flows]},
    optionally only the rows whose is_correction equals `correction`."""
    out = {}
    for r in rows:
        if correction is not None and bool(r.get("is_correction")) != correction:
            continue
        k = (r.get("window_start_ns", 0) // 10**9, r["dimension"], r["key_text"], r.get("exporter", ""))
        v = out.setdefault(k, [0, 0, 0])
        v[0] += r.get("bytes", 0)
        v[1] += r.get("packets", 0)
        v[2] += r.get("flows", 0)
    return out


def diff(a_name, a, b_name, b, limit=12):
    errs = []
    for k in sorted(set(a) | set(b), key=repr):
        if a.get(k) != b.get(k):
            errs.append("%r: %s %r, %s %r" % (k, a_name, a.get(k), b_name, b.get(k)))
    if len(errs) > limit:
        errs = errs[:limit] + ["... %d differences in all" % len(errs)]
    return errs


def typed_expect(recs, by_exporter):
    """{(dimension, key_text, exporter): typed key fields} from the records."""
    out = {}
    for rec in recs:
        ex = rec["sampler_address"] if by_exporter else ""
        for dim in ro.DIMENSIONS:
            out.setdefault((dim, ro.key_of(rec, dim), ex), []).append(ro.typed_key(rec, dim, by_exporter))
    return out


def check_typed(rows, recs, by_exporter, encoding):
    """Each row's typed key fields against those of the records of its key.
    protobuf: zero values are not on the wire (proto3), the address is bytes;
    JSON: every field of the dimension is there, the address as text."""
    want_all = typed_expect(recs, by_exporter)
    errs, seen = [], 0
    for r in rows:
        k = (r["dimension"], r["key_text"], r.get("exporter", ""))
        if r.get("is_other"):
            errs.append("%r: an 'other' row, yet no table was full" % (k,))
            continue
        wants = want_all.get(k)
        if not wants:
            errs.append("%r: no --print record has this key" % (k,))
            continue
        want = dict(wants[0])
        if any(w != wants[0] for w in wants):
            errs.append("%r: records of one key with different typed fields: %r" % (k, wants[:3]))
        got = {f: r[f] for f in TYPED if f in r}
        if encoding == "protobuf":
            if "exporter_address" in want:
                want["exporter_address"] = ipaddress.ip_address(want["exporter_address"]).packed
            want = {f: v for f, v in want.items() if v not in (0, "", b"")}
        if got != want:
            errs.append("%r: typed key %r, want %r" % (k, got, want))
        seen += 1
        if len(errs) > 10:
            break
    return errs, seen


def check_keys(msgs, rows):
    """Kafka key = "DIMENSION KEY_TEXT[ EXPORTER]"; equal keys, one partition."""
    errs, parts = [], collections.defaultdict(set)
    for m, r in zip(msgs, rows):
        want = " ".join(x for x in (r["dimension"], r["key_text"], r.get("exporter", "")) if x).encode()
        if m.key != want:
            errs.append("message key %r, want %r" % (m.key, want))
            if len(errs) > 5:
                break
        parts[m.key].add(m.partition)
    split = [k for k, p in parts.items() if len(p) > 1]
    if split:
        errs.append("keys spread over several partitions: %r" % split[:3])
    return errs, len({p for s in parts.values() for p in s})


def check_stats(stats, n_rows, n_recs, topic, fmt, who):
    """kafka_stats: the raw records and the rollup rows counted apart, each
    produced = delivered, nothing failed, dropped or left."""
    ks, rs = stat(stats, "kafka_stats"), stat(stats, "rollup_stats")
    roll = ks.get("rollups") or {}
    errs = []
    rows_flushed = rs.get("windows", {}).get("rows_flushed")
    if rows_flushed != n_rows:
        errs.append("%s: rollup_stats rows_flushed %r, the topic holds %d rows" % (who, rows_flushed, n_rows))
    for name, s, n in (("raw", ks, n_recs), ("rollups", roll, n_rows)):
        for k, v in (("produced", n), ("delivered", n), ("dropped_queue_full", 0), ("flush_left", 0)):
            if s.get(k) != v:
                errs.append("%s: kafka_stats %s %s = %r, want %r" % (who, name, k, s.get(k), v))
        for k in ("produce_failed", "delivery_failed"):
            if s.get(k):
                errs.append("%s: kafka_stats %s %s = %r" % (who, name, k, s.get(k)))
    if roll.get("topic") != topic or roll.get("format") != fmt:
        errs.append("%s: kafka_stats rollups topic/format %r/%r, want %r/%r" %
                    (who, roll.get("topic"), roll.get("format"), topic, fmt))
    if rs.get("windows", {}).get("sink_errors"):
        errs.append("%s: sink_errors %r" % (who, rs["windows"]["sink_errors"]))
    return errs


def three_views(rows, db, recs, by_exporter, who):
    """Kafka sums = SQLite rows = oracle sums."""
    k, s, o = kafka_sums(rows), ro.from_sqlite(db), ro.expected(recs, WINDOW, by_exporter=by_exporter)
    return diff("Kafka", k, "SQLite", s) + diff("SQLite", s, "oracle", o), k


# --------------------------------------------------------------------------

def case_corpus_protobuf(ctx):
    mock, wd = ctx["mock"], ctx["workdir"]
    mock.topic("flow-rollups", 4)
    mock.topic("corpus-raw", 2)
    db = os.path.join(wd, "corpus.db")
    args = ["--kafka-brokers", mock.bootstrap, "--kafka-topic", "corpus-raw", "--kafka-flush-timeout", "30000",
            "--db", db, "--retention", "0"] + ctx["geo"]
    rc, recs, stats, err = run_pcap(ctx["bin"], ctx["merged"], args)
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-2000:])], []
    msgs = kafkalib.consume(mock.bootstrap, "flow-rollups")
    rows = decode_pb(msgs)
    errs, notes = [], []
    e, _ = three_views(rows, db, recs, False, "corpus")
    errs += e
    # The capture clock over the --print order: late records are exactly the
    # corrections, and the windows open at the end exactly the partial ones.
    on_time, late, open_from = ro.split_late(recs, WINDOW, LATENESS)
    errs += diff("Kafka corrections", kafka_sums(rows, True), "late records", late)
    errs += diff("Kafka window flushes", kafka_sums(rows, False), "on-time records", on_time)
    flags = collections.Counter()
    for r in rows:
        ws = r.get("window_start_ns", 0) // 10**9
        if r.get("window_end_ns", 0) - r.get("window_start_ns", 0) != WINDOW * 10**9:
            errs.append("window %d: end %r" % (ws, r.get("window_end_ns")))
        corr, part = bool(r.get("is_correction")), bool(r.get("is_partial"))
        flags["correction" if corr else "partial" if part else "closed"] += 1
        if corr and part:
            errs.append("window %d: a row both correction and partial" % ws)
        elif not corr and part != (ws >= open_from):
            errs.append("window %d: is_partial %s, but the window %s at the end of the capture (oldest open: %d)"
                        % (ws, part, "was still open" if ws >= open_from else "had closed", open_from))
    if not flags["correction"] or not flags["partial"] or not flags["closed"]:
        errs.append("the capture should give closed windows, corrections and partial windows: %r" % dict(flags))
    e, n_typed = check_typed(rows, recs, False, "protobuf")
    errs += e
    e, n_parts = check_keys(msgs, rows)
    errs += e
    countries = {r["key_text"] for r in rows if r["dimension"] == "dst_country"}
    if ctx["geo"] and len(countries - {"unknown"}) < 2:
        errs.append("GeoIP gave no countries: %r" % countries)
    errs += check_stats(stats, len(rows), len(recs), "flow-rollups", "protobuf", "corpus")
    n_raw = len(kafkalib.consume(mock.bootstrap, "corpus-raw"))
    if n_raw != len(recs):
        errs.append("the raw topic holds %d messages, --print shows %d records" % (n_raw, len(recs)))
    notes.append("%d records -> %d rollup messages on flow-rollups (%s) over %d partitions, %d windows; "
                 "%d late records; Kafka = SQLite = --print sums; %d typed keys checked" %
                 (len(recs), len(rows), dict(flags), n_parts, len({k[0] for k in kafka_sums(rows)}),
                  sum(v[2] for (ws, d, k, x), v in late.items() if d == "proto"), n_typed))
    return errs, notes


def case_dimension_topics_json(ctx):
    mock, wd = ctx["mock"], ctx["workdir"]
    for d in ro.DIMENSIONS:
        mock.topic("ftr-" + d, 2)
    db = os.path.join(wd, "dims.db")
    args = ["--kafka-brokers", mock.bootstrap, "--kafka-topic", "dims-raw", "--kafka-flush-timeout", "30000",
            "--kafka-rollup-topic", "ftr-{dimension}", "--kafka-rollup-encoding", "json", "--rollup-by-exporter",
            "--db", db, "--retention", "0"] + ctx["geo"]
    rc, recs, stats, err = run_pcap(ctx["bin"], ctx["merged"], args)
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-2000:])], []
    errs, rows, msgs, per_topic = [], [], [], {}
    for d in ro.DIMENSIONS:
        got = kafkalib.consume(mock.bootstrap, "ftr-" + d)
        rs = decode_json(got)
        per_topic[d] = len(rs)
        wrong = [r["dimension"] for r in rs if r["dimension"] != d]
        if wrong or not rs:
            errs.append("topic ftr-%s: %d rows, %d of other dimensions (%r)" % (d, len(rs), len(wrong), wrong[:3]))
        for r in rs:
            common = ["window_start_ns", "window_end_ns", "dimension", "key_text", "exporter", "bytes", "packets",
                      "flows", "is_correction", "is_partial", "is_other"]
            if list(r)[:len(common)] != common:
                errs.append("ftr-%s: JSON fields %r" % (d, list(r)))
                break
            if not r["exporter"]:
                errs.append("ftr-%s: --rollup-by-exporter but the exporter column is empty: %r" % (d, r))
                break
        rows += rs
        msgs += got
    e, _ = three_views(rows, db, recs, True, "dims")
    errs += e
    e, n_typed = check_typed(rows, recs, True, "json")
    errs += e
    e, _ = check_keys(msgs, rows)
    errs += e
    errs += check_stats(stats, len(rows), len(recs), "ftr-{dimension}", "json", "dims")
    return errs, ["%d records -> JSON rows per topic %r; Kafka = SQLite = --print sums (by exporter); %d typed "
                  "keys checked" % (len(recs), per_topic, n_typed)]


def case_softflowd_live(ctx):
    import test_rollups_live
    import test_softflowd
    if ftlib.missing_tools(["softflowd"]):
        return None, ["softflowd missing"]
    mock, wd = ctx["mock"], ctx["workdir"]
    mock.topic("live-rollups", 4)
    db = os.path.join(wd, "live.db")
    ft = test_rollups_live.Live(ctx["bin"], wd, "live", db, extra=[
        "--kafka-brokers", mock.bootstrap, "--kafka-topic", "live-raw", "--kafka-rollup-topic", "live-rollups",
        "--kafka-flush-timeout", "30000"])
    rep = test_softflowd.live_case(wd)(ft.port)
    ft.wait_stable(rep.records or 1)
    rc, recs, stats, err = ft.stop()
    errs = ["exporter: " + e for e in rep.errors]
    if rc != 0 or len(recs) != rep.records:
        errs.append("exit %d, %d records printed, softflowd exported %r" % (rc, len(recs), rep.records))
    rows = decode_pb(kafkalib.consume(mock.bootstrap, "live-rollups"))
    e, sums = three_views(rows, db, recs, False, "live")
    errs += e
    w = stat(stats, "rollup_stats").get("windows", {})
    partial = {r.get("window_start_ns", 0) // 10**9 for r in rows if r.get("is_partial")}
    if w.get("partial_flushes", 0) < 1 or not partial:
        errs.append("no window flushed partial at SIGTERM reached Kafka: windows %r, partial rows of %r" %
                    (w, sorted(partial)))
    errs += check_stats(stats, len(rows), len(recs), "live-rollups", "protobuf", "live")
    return errs, ["softflowd: %d records, SIGTERM mid-window: %d rollup messages, windows %r partial; Kafka = "
                  "SQLite = --print sums" % (len(recs), len(rows), sorted(partial))]


def case_queue_full(ctx):
    mock, wd = ctx["mock"], ctx["workdir"]
    mock.topic("qf-raw", 1)
    mock.topic("qf-rollups", 1)
    pcap = os.path.join(ctx["corpus"], "captures/logstash-nfv5-generic-12pkts.pcap")
    db = os.path.join(wd, "qf.db")
    mock.cmd("down -1")
    try:
        rc, recs, stats, err = run_pcap(ctx["bin"], pcap, [
            "--kafka-brokers", mock.bootstrap, "--kafka-topic", "qf-raw", "--kafka-rollup-topic", "qf-rollups",
            "-X", "queue.buffering.max.messages=10", "--kafka-flush-timeout", "1000", "--db", db])
    finally:
        mock.cmd("up -1")
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-1500:])], []
    ks, rs = stat(stats, "kafka_stats"), stat(stats, "rollup_stats")
    roll, w = ks.get("rollups") or {}, rs.get("windows", {})
    errs = []
    n_rows = w.get("rows_flushed", 0)
    if ks.get("produced", 0) + roll.get("produced", 0) != 10:
        errs.append("raw %r + rollup %r produced: the 10 places of the queue" % (ks.get("produced"),
                                                                                 roll.get("produced")))
    if roll.get("produced", 0) + roll.get("dropped_queue_full", 0) != n_rows or not roll.get("dropped_queue_full"):
        errs.append("rollups: %r produced + %r dropped, %d rows flushed" %
                    (roll.get("produced"), roll.get("dropped_queue_full"), n_rows))
    if ks.get("produced", 0) + ks.get("dropped_queue_full", 0) != len(recs):
        errs.append("raw: %r produced + %r dropped, %d records" % (ks.get("produced"), ks.get("dropped_queue_full"),
                                                                  len(recs)))
    for name, s in (("raw", ks), ("rollups", roll)):
        failed = sum((s.get("delivery_failed") or {}).values())
        if s.get("delivered") != 0 or s.get("flush_left") != s.get("produced") or failed != s.get("produced"):
            errs.append("%s: delivered %r, flush_left %r, delivery_failed %r for %r queued" %
                        (name, s.get("delivered"), s.get("flush_left"), s.get("delivery_failed"), s.get("produced")))
    if not roll.get("queue_full_waits"):
        errs.append("no rollup row waited for room before being dropped")
    if not w.get("sink_errors"):
        errs.append("the window stage counted no sink error for the dropped rows: %r" % w)
    if "rollup rows dropped" not in err:
        errs.append("the dropped rows were not logged:\n" + err[-2000:])
    d = ro.diff(ro.expected(recs, WINDOW), ro.from_sqlite(db))
    if d:
        errs.append("SQLite lost rows with Kafka down:\n  " + "\n  ".join(d))
    return errs, ["%d records, %d rows: raw %d queued / %d dropped, rollups %d queued / %d dropped after waiting" %
                  (len(recs), n_rows, ks.get("produced", 0), ks.get("dropped_queue_full", 0),
                   roll.get("produced", 0), roll.get("dropped_queue_full", 0))]


# --------------------------------------------------------------------------

def main(argv):
    miss = kafkalib.missing()
    corpus = os.environ.get("FT_CORPUS", "")
    caps = sorted(glob.glob(os.path.join(corpus, "captures", "*.pcap")))
    if not caps:
        miss.append("the corpus captures ($FT_CORPUS/captures)")
    if not shutil.which("mergecap"):
        miss.append("mergecap (apt-get install wireshark-common)")
    if miss:
        print("SKIP: missing " + ", ".join(miss))
        return ftlib.SKIP
    binary = os.environ.get("FLOWTALLY")
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    import test_rollups_pcap as trp
    only = argv[1:]
    workdir = tempfile.mkdtemp(prefix="ft-kafka-rollups-", dir=os.environ.get("FT_BUILD_DIR") or None)
    merged = os.path.join(workdir, "all.pcap")
    eth = [c for c in caps if trp.linktype(c) == 1]  # one classic pcap, one link type
    subprocess.run(["mergecap", "-F", "pcap", "-w", merged] + eth, check=True, timeout=120)
    geo = []
    if subprocess.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"], stderr=subprocess.DEVNULL).returncode == 0:
        c_mm, asn = os.path.join(workdir, "country.mmdb"), os.path.join(workdir, "asn.mmdb")
        trp.build_db(c_mm, "maxmind-country", trp.COUNTRY)
        trp.build_db(asn, "asn", trp.ASN)
        geo = ["--geoip-country", c_mm, "--geoip-asn", asn]
    else:
        print("note: no perl MaxMind::DB::Writer (libmaxmind-db-writer-perl): runs without GeoIP")
    res = ftlib.Results()
    mock = kafkalib.MockCluster(1)
    ctx = {"bin": binary, "corpus": corpus, "mock": mock, "workdir": workdir, "merged": merged, "geo": geo}
    cases = [
        ("corpus_protobuf", lambda: case_corpus_protobuf(ctx)),
        ("dimension_topics_json", lambda: case_dimension_topics_json(ctx)),
        ("softflowd_live", lambda: case_softflowd_live(ctx)),
        ("queue_full", lambda: case_queue_full(ctx)),
    ]
    return kafkalib.run_cases(cases, only, mock, res, workdir)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
