#!/usr/bin/python3
"""test_faults_kafka.py - issue 8, "faults, nothing lost": the Kafka broker
down for 30 s, then back, under a live flowtally producing raw records AND
rollup rows.

The cluster is librdkafka's mock cluster (tests/kafka_mock.c, one broker):
real Kafka protocol over TCP; "down -1" is rd_kafka_mock_broker_set_down
(connections closed, new ones refused), "up -1" rd_kafka_mock_broker_set_up.
flowtally runs with --kafka-topic fk-raw (4 partitions), --kafka-rollup-topic
fk-rollups (4 partitions), --db (the same rows in SQLite), --window 1s
--lateness 1s --event-time received, -X queue.buffering.max.messages=50000;
bench's flowgen sends NetFlow v5 at 150 records/s with 40 keys for 40 s:
~5 s before the outage, 30 s during it, ~5 s after.

Oracles: flowgen's exact totals (records, bytes_scaled, packets_scaled),
flowtally's own --print records (mapped to FlowMessage fields as
proto/README.md says, kafkalib.expected; summed into rollups with the
issue's definitions, rollup_oracle.py), Google's protoc decoding every
message, kcat consuming them, /proc for the RSS.

Asserts:
  - raw topic: every --print record exactly once (multiset equality of the
    decoded FlowMessages), as many as flowgen sent;
  - rollup topic: every row flushed exactly once (rows_flushed messages), and
    summed per (window, dimension, key) equal to the --print sums and to
    SQLite; summed per dimension equal to flowgen's totals;
  - while the broker is down: delivered_total does not move, the local queue
    (flowtally_kafka_queue_messages) holds what was produced since, below
    queue.buffering.max.messages; the peak RSS grows by less than
    16 MiB + 2 KiB per queued message (no unbounded growth); the producer's
    client errors (_TRANSPORT / _ALL_BROKERS_DOWN ...) are counted by code;
  - after: produced = delivered for both classes, nothing dropped, failed or
    left (kafka_stats; /metrics flowtally_kafka_* and flowtally_kafka_rollup_*).
Semantics: exactly once here, because flowtally enables librdkafka's
idempotent producer by default (enable.idempotence=true: the broker drops a
retried batch it already appended, by producer id and sequence number), and
the test asserts no duplicate. Without idempotence a retry after a lost
acknowledgement would duplicate a batch: at least once.

Env: FLOWTALLY, FT_KAFKA_MOCK, FT_PROTO_DIR, FT_TEST_DATA, FT_BUILD_DIR.
Exit: 0 passed, 1 failed, 77 skipped (kcat, protoc, kafka_mock, flowgen missing).
"""
import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
import ftlib  # noqa: E402
import kafkalib  # noqa: E402
import rollup_oracle as ro  # noqa: E402

OUTAGE_S = 30
BEFORE_S, AFTER_S = 5, 5
RATE, KEYS = 150, 40
QUEUE_MAX = 50000
STRINGS = ("dimension", "key_text", "exporter", "country")


def kafka_sums(rows):
    out = {}
    for r in rows:
        k = (r.get("window_start_ns", 0) // 10**9, r["dimension"], r["key_text"], r.get("exporter", ""))
        v = out.setdefault(k, [0, 0, 0])
        v[0] += r.get("bytes", 0)
        v[1] += r.get("packets", 0)
        v[2] += r.get("flows", 0)
    return out


def diff(a_name, a, b_name, b, limit=10):
    errs = []
    for k in sorted(set(a) | set(b), key=repr):
        if a.get(k) != b.get(k):
            errs.append("%r: %s %r, %s %r" % (k, a_name, a.get(k), b_name, b.get(k)))
    return errs[:limit] + (["... %d differences" % len(errs)] if len(errs) > limit else [])


def class_errors(s, n, who):
    errs = []
    for k, v in (("produced", n), ("delivered", n), ("dropped_queue_full", 0), ("flush_left", 0)):
        if s.get(k) != v:
            errs.append("%s: kafka_stats %s = %r, want %r" % (who, k, s.get(k), v))
    for k in ("produce_failed", "delivery_failed"):
        if s.get(k):
            errs.append("%s: kafka_stats %s = %r" % (who, k, s.get(k)))
    return errs


def run(ctx):
    mock, wd = ctx["mock"], ctx["workdir"]
    mock.topic("fk-raw", 4)
    mock.topic("fk-rollups", 4)
    db = os.path.join(wd, "kafka.db")
    ft = faultlib.Live(ctx["bin"], wd, "kafka", [
        "--db", db, "--window", "1s", "--lateness", "1s", "--event-time", "received", "--retention", "0",
        "--kafka-brokers", mock.bootstrap, "--kafka-topic", "fk-raw", "--kafka-rollup-topic", "fk-rollups",
        "--kafka-flush-timeout", "30000", "-X", "queue.buffering.max.messages=%d" % QUEUE_MAX,
        "-X", "reconnect.backoff.max.ms=1000"])
    errs, notes = [], []
    asan = ft.sanitized()
    try:
        gen = faultlib.Flowgen(ft.port, ["--proto", "v5", "--rate", str(RATE), "--keys", str(KEYS), "--duration",
                                         str(BEFORE_S + OUTAGE_S + AFTER_S)])
        time.sleep(BEFORE_S)
        m_before = ft.metrics()
        rss_before = ft.rss_kib()
        mock.cmd("down -1")
        t_down = time.monotonic()
        peak_q, peak_rss, m_last = 0, rss_before, m_before
        time.sleep(2)  # in-flight requests fail over to the local queue
        m_down = ft.metrics()
        while time.monotonic() - t_down < OUTAGE_S:
            m_last = ft.metrics()
            peak_q = max(peak_q, m_last["flowtally_kafka_queue_messages"])
            peak_rss = max(peak_rss, ft.rss_kib())
            time.sleep(1)
        mock.cmd("up -1")
        t_up = time.monotonic()
        moved = m_last["flowtally_kafka_delivered_total"] - m_down["flowtally_kafka_delivered_total"]
        if moved:
            errs.append("%d records acknowledged while the broker was down" % moved)
        produced_during = m_last["flowtally_kafka_produced_total"] - m_down["flowtally_kafka_produced_total"]
        if peak_q < produced_during:
            errs.append("the local queue held %d messages at most, %d raw records were produced during the outage"
                        % (peak_q, produced_during))
        if peak_q > QUEUE_MAX:
            errs.append("the local queue held %d messages, above queue.buffering.max.messages %d" % (peak_q,
                                                                                                  QUEUE_MAX))
        bound_kib = 16 * 1024 + 2 * peak_q
        if not asan and peak_rss - rss_before > bound_kib:
            errs.append("RSS grew by %d KiB during the outage (%d messages queued): above %d KiB" %
                        (peak_rss - rss_before, peak_q, bound_kib))
        client_errs = {k: v for k, v in m_last.items()
                       if k.startswith("flowtally_kafka_client_errors_total") and v and 'code="other"' not in k}
        if not client_errs:
            errs.append("/metrics counted no client error during the outage")
        g = gen.wait()
        ft.wait_records(g["records"])
        m, ok = ft.wait_metric(lambda x: x["flowtally_kafka_queue_messages"] == 0, 30)
        if not ok:
            errs.append("the local queue still holds %r messages 30 s after the broker came back" %
                        m["flowtally_kafka_queue_messages"])
        t_drained = time.monotonic() - t_up
        time.sleep(2.5)  # the last window closes
        m_end = ft.metrics()
        notes.append("outage %.1f s: %d raw records produced meanwhile, local queue peak %d messages (limit %d), "
                     "RSS %d -> %d KiB peak%s; queue drained %.1f s after the broker came back; client errors %r" %
                     (t_up - t_down, produced_during, peak_q, QUEUE_MAX, rss_before, peak_rss,
                      " (ASan: not asserted)" if asan else "", t_drained,
                      {k.split("{")[-1].rstrip("}"): v for k, v in client_errs.items()}))
    finally:
        rc, recs, stats, err = ft.stop()
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    if len(recs) != g["records"]:
        errs.append("flowgen sent %d records, --print shows %d" % (g["records"], len(recs)))
    ks = faultlib.stat(stats, "kafka_stats")
    roll = ks.get("rollups") or {}
    w = faultlib.stat(stats, "rollup_stats").get("windows", {})
    errs += class_errors(ks, len(recs), "raw")
    errs += class_errors(roll, w.get("rows_flushed"), "rollups")
    # /metrics read before the stop: rows of a window flushed partial at the
    # stop (none expected: traffic ended first) are not in it yet.
    n_rows = w.get("rows_flushed", 0) if not w.get("partial_flushes") else m_end.get(
        "flowtally_kafka_rollup_produced_total")
    for fam, n in (("flowtally_kafka_produced_total", len(recs)), ("flowtally_kafka_delivered_total", len(recs)),
                   ("flowtally_kafka_rollup_produced_total", n_rows),
                   ("flowtally_kafka_rollup_delivered_total", n_rows),
                   ("flowtally_kafka_dropped_queue_full_total", 0),
                   ("flowtally_kafka_rollup_dropped_queue_full_total", 0)):
        if m_end.get(fam) != n:
            errs.append("/metrics %s = %r, want %r" % (fam, m_end.get(fam), n))
    # Raw topic: exactly once.
    msgs = kafkalib.consume(mock.bootstrap, "fk-raw")
    errs += kafkalib.exactly_once(recs, kafkalib.decode([x.value for x in msgs], "goflow"), "goflow", "raw")
    # Rollup topic: every row once, sums = --print = SQLite = flowgen.
    rmsgs = kafkalib.consume(mock.bootstrap, "fk-rollups")
    rows = []
    for f in kafkalib.decode([x.value for x in rmsgs], "rollup"):
        for k in STRINGS:
            if isinstance(f.get(k), bytes):
                f[k] = f[k].decode("utf-8")
        rows.append(f)
    if len(rows) != w.get("rows_flushed"):
        errs.append("the rollup topic holds %d messages, %r rows were flushed" % (len(rows), w.get("rows_flushed")))
    ident = collections.Counter((r.get("window_start_ns"), r["dimension"], r["key_text"], r.get("is_correction"),
                                 r.get("is_partial")) for r in rows)
    dups = [k for k, n in ident.items() if n > 1]
    if dups:
        errs.append("%d rollup rows arrived more than once: %r" % (len(dups), dups[:3]))
    ksum = kafka_sums(rows)
    errs += diff("Kafka", ksum, "--print", ro.expected(recs, 1, received=True))
    errs += diff("Kafka", ksum, "SQLite", ro.from_sqlite(db))
    per_dim = {}
    for (_ws, dim, _k, _e), v in ksum.items():
        t = per_dim.setdefault(dim, [0, 0, 0])
        for i in range(3):
            t[i] += v[i]
    want = [g["bytes_scaled"], g["packets_scaled"], g["records"]]
    for d in ro.DIMENSIONS:
        if per_dim.get(d) != want:
            errs.append("Kafka rollups, dimension %s: %r, flowgen totals %r" % (d, per_dim.get(d), want))
    during = {r.get("window_start_ns") for r in rows}
    notes.append("flowgen %d records: %d raw messages, %d rollup messages over %d windows; exactly once; loss 0; "
                 "raw %s, rollups %s" % (g["records"], len(msgs), len(rows), len(during),
                                         {k: ks.get(k) for k in ("produced", "delivered")},
                                         {k: roll.get(k) for k in ("produced", "delivered")}))
    return errs, notes


def main(argv):
    miss = kafkalib.missing()
    if not faultlib.flowgen_path():
        miss.append("flowgen in FT_BUILD_DIR")
    if miss:
        print("SKIP: missing " + ", ".join(miss))
        return ftlib.SKIP
    binary = os.environ.get("FLOWTALLY")
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    workdir = tempfile.mkdtemp(prefix="ft-faults-kafka-", dir=os.environ.get("FT_BUILD_DIR") or None)
    mock = kafkalib.MockCluster(1)
    ctx = {"bin": binary, "mock": mock, "workdir": workdir}
    return kafkalib.run_cases([("broker_down_30s", lambda: run(ctx))], argv[1:], mock, ftlib.Results(), workdir)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
