#!/usr/bin/python3
"""test_kafka.py - flow records through flowtally into a Kafka cluster on loopback.

The cluster is librdkafka's mock cluster (tests/kafka_mock.c): real Kafka
protocol over TCP, so flowtally's producer and the consumer (Debian's kcat)
talk to it as to any broker. Every message is decoded by Google's protoc
(`protoc --decode` with proto/*.proto); the oracle for the values is
flowtally's own --print JSON of the same run, mapped to FlowMessage fields
as proto/README.md specifies (kafkalib.expected), and the record counts come
from the input (corpus tshark summaries, the exporter's own statistics, the
datagrams sent).

Cases:
  corpus_goflow / corpus_goflow2   corpus captures (--pcap) into a 4-partition topic:
        every record arrives exactly once with the --print values; framing
        plain (goflow) / varint-delimited (goflow2); no key; kafka_stats
        produced = delivered = records, nothing failed or dropped.
  corpus_key         --kafka-key sampler_address,src_port: each message's key is
        the documented bytes of its record, and equal keys share a partition.
  softflowd_v9_goflow / softflowd_ipfix_goflow2   softflowd exports a generated
        traffic capture to a live flowtally: the Kafka topic holds exactly the
        records softflowd says it exported, with the --print values.
  broker_outage      live flowtally; NetFlow v5 datagrams sent before, during and
        after a 10 s outage of every broker (rd_kafka_mock_broker_set_down/up):
        every record arrives exactly once, the counters say so, the producer
        logged the outage, and the records spread over several partitions.
  queue_full_counted broker down, a 10-message local queue: the records beyond it
        are counted as dropped, the queued ones as not delivered at exit
        (flush timeout), produced + dropped = records, never silent.
  kafka_block        the same with --kafka-block: the replay waits while the broker
        is down, then everything is delivered and nothing dropped.
  batch_goflow / batch_goflow2   --kafka-batch 7 on the corpus captures: every
        Kafka message is split into its varint-delimited FlowMessages by the
        harness's own parser (kafkalib.split_batch, written from the protobuf
        encoding spec), each decoded by protoc: every record arrives exactly
        once with the --print values, no message holds more than 7, the
        messages hold several records each, and kafka_stats counts records
        (produced = delivered = --print count) and Kafka messages
        (produced_messages = delivered_messages = messages consumed).
  batch_key          --kafka-batch 16 --kafka-key src_port on two captures: a key
        change closes the batch, so each message's key is the documented key
        (4 bytes, big-endian) of every record in it; equal keys share a
        partition; kafka_stats message counts add up to the topic's.
  batch_not_held     live flowtally with --kafka-batch 1000: one datagram of 10
        records reaches the topic while flowtally keeps running (a quiet
        exporter's records are not held for a full batch).
  batch_queue_full   broker down, --kafka-batch 3, a 2-message local queue: the
        records of the two queued messages are counted as not delivered at
        exit, every other record as dropped: produced + dropped = records,
        flush_left = delivery_failed = produced, produced_messages = 2.
  batch_framing      --kafka-batch 2 --framing plain is refused (exit 2) with the reason.
  bad_property       an unknown -X property: exit 1 naming it; a secret-looking
        one is refused without echoing its value; a SASL password never
        appears in the log.

Env: FLOWTALLY, FT_CORPUS, FT_KAFKA_MOCK, FT_PROTO_DIR, FT_TEST_DATA, FT_BUILD_DIR.
Exit: 0 passed, 1 failed, 77 skipped (kcat, protoc, kafka_mock or corpus missing).
Usage: test_kafka.py [case...]
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import kafkalib  # noqa: E402

CAPTURES = [  # varied: v5, v9 with VRFs, IPFIX with MPLS and IPv6, sFlow with VLAN/MPLS/AS path
    "captures/goflow2-nfv5.pcap",
    "captures/logstash-nfv5-mikrotik.pcap",
    "captures/goflow2-nfv9-template-data.pcap",
    "captures/akvorado-ipfix-mpls-labels.pcap",
    "captures/pmacct-ipfix-cisco-xr7101-ipv6-transport-mpls.pcap",
    "captures/akvorado-sflow-1140.pcap",
    "captures/goflow2-sflow-expanded-samples.pcap",
    "derived/sflow-mpls-ipv4.pcap",
]
PASSWORD = "NOT-IN-LOGS-pw0"


def run_pcap(binary, pcap, extra, timeout=120):
    p = subprocess.run([binary, "--pcap", pcap, "--print", "--stats"] + extra, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    return p.returncode, recs, p.stderr.decode()


def check_topic(mock, topic, recs, fmt, delimited, who):
    """Consumes topic and compares it with the --print records. Returns
    (errors, messages)."""
    msgs = kafkalib.consume(mock.bootstrap, topic)
    bodies, errs = kafkalib.unframe([m.value for m in msgs], delimited)
    if bodies:
        errs += kafkalib.exactly_once(recs, kafkalib.decode(bodies, fmt), fmt, who)
    elif recs:
        errs.append("%s: no message at all, --print shows %d records" % (who, len(recs)))
    return errs, msgs


def check_stats(stderr, n, who, dropped=0):
    """kafka_stats: n produced and delivered, nothing failed/refused/dropped."""
    s = kafkalib.stats_line(stderr, "kafka_stats")
    if not s:
        return ["%s: no kafka_stats line in --stats" % who]
    errs = []
    for k, v in (("produced", n), ("delivered", n), ("dropped_queue_full", dropped), ("flush_left", 0)):
        if s.get(k) != v:
            errs.append("%s: kafka_stats %s = %r, want %r" % (who, k, s.get(k), v))
    for k in ("produce_failed", "delivery_failed"):
        if s.get(k):
            errs.append("%s: kafka_stats %s = %r, want {}" % (who, k, s.get(k)))
    return errs


def kafka_args(mock, topic, fmt, *more):
    return ["--kafka-brokers", mock.bootstrap, "--kafka-topic", topic, "--format", fmt,
            "--kafka-flush-timeout", "30000"] + list(more)


# --------------------------------------------------------------------------

def case_corpus(ctx, fmt):
    errs, notes, total = [], [], 0
    for i, rel in enumerate(CAPTURES):
        pcap = os.path.join(ctx["corpus"], rel)
        if not os.path.exists(pcap):
            errs.append("corpus file %s missing" % rel)
            continue
        topic = "corpus-%s-%d" % (fmt, i)
        ctx["mock"].topic(topic, 4)
        rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(ctx["mock"], topic, fmt))
        if rc != 0:
            errs.append("%s: exit %d: %s" % (rel, rc, err[-1500:]))
            continue
        # The record count of the input itself: tshark's summary of the capture.
        want_n = expected_count(pcap)
        if want_n is not None and want_n != len(recs):
            errs.append("%s: --print shows %d records, the corpus summary %d" % (rel, len(recs), want_n))
        e, msgs = check_topic(ctx["mock"], topic, recs, fmt, fmt == "goflow2", rel)
        errs += e
        errs += check_stats(err, len(recs), rel)
        if any(m.key is not None for m in msgs):
            errs.append("%s: messages carry a key, none was asked for" % rel)
        total += len(msgs)
    notes.append("%d messages consumed from the topics of %d captures" % (total, len(CAPTURES)))
    return errs, notes


def expected_count(pcap):
    """Data records (NetFlow/IPFIX) or flow samples (sFlow) in the capture per
    the corpus's tshark summary line, or None."""
    path = pcap + ".expected.jsonl"
    try:
        with open(path) as fh:
            first = json.loads(fh.readline())
    except (OSError, ValueError):
        return None
    flow_samples = sum(n for t, n in (first.get("sample_types") or {}).items() if t.lower().endswith("flow sample"))
    if flow_samples:
        return flow_samples  # sFlow: one record per (expanded) flow sample
    if first.get("records"):
        return first["records"] - first.get("options_data_records", 0)  # NetFlow/IPFIX data records
    return None


def key_bytes(rec):
    """--kafka-key sampler_address,src_port per raw_sink.h: 16-byte address
    (IPv4-mapped), then the port as 4 bytes big-endian."""
    import ipaddress
    a = ipaddress.ip_address(rec["sampler_address"])
    if a.version == 4:
        a = ipaddress.IPv6Address("::ffff:" + str(a))
    return a.packed + struct.pack(">I", rec["src_port"])


def case_key(ctx):
    errs = []
    pcap = os.path.join(ctx["corpus"], "captures/logstash-nfv5-mikrotik.pcap")
    topic = "keyed"
    ctx["mock"].topic(topic, 4)
    rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(ctx["mock"], topic, "goflow", "--kafka-key",
                                                            "sampler_address,src_port"))
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-1500:])], []
    e, msgs = check_topic(ctx["mock"], topic, recs, "goflow", False, "keyed")
    errs += e
    want = sorted(key_bytes(r) for r in recs)
    got = sorted(m.key or b"" for m in msgs)
    if want != got:
        errs.append("keys differ from the documented layout: want %s..., got %s..." %
                    ([k.hex() for k in want[:2]], [k.hex() for k in got[:2]]))
    part = {}
    for m in msgs:
        part.setdefault(m.key, set()).add(m.partition)
    split = [k.hex() for k, p in part.items() if len(p) > 1]
    if split:
        errs.append("records with the same key went to several partitions: %s" % split[:3])
    return errs, ["%d records, %d distinct keys over %d partitions" %
                  (len(msgs), len(part), len({m.partition for m in msgs}))]


def case_softflowd(ctx, version, fmt):
    import make_traffic
    import test_softflowd
    if ftlib.missing_tools(["softflowd"]):
        return None, ["softflowd missing"]
    errs, notes = [], []
    wd = ctx["workdir"]
    pcap = os.path.join(wd, "traffic.pcap")
    if "truth" not in ctx:
        ctx["truth"] = make_traffic.write(pcap, os.path.join(wd, "traffic.truth.json"))
    topic = "softflowd-%s" % fmt
    ctx["mock"].topic(topic, 4)
    ft = ftlib.Flowtally(ctx["bin"], wd, "softflowd-%d-%s" % (version, fmt),
                         kafka_args(ctx["mock"], topic, fmt))
    try:
        run, _ = test_softflowd.file_case(pcap, ctx["truth"], wd, version)
        rep = run(ft.port)
        errs += rep.errors
        if rep.records is None:
            return errs + ["softflowd reported no record count"], notes
        ft.wait_records(rep.records, timeout=15.0)
    finally:
        recs, stats, stderr, rc, bad = ft.stop()
    errs += bad
    if rc != 0:
        errs.append("flowtally exited %s: %s" % (rc, stderr[-1500:]))
    # The exporter's own count is the oracle for "every record".
    if len(recs) != rep.records:
        errs.append("softflowd exported %d records, flowtally printed %d" % (rep.records, len(recs)))
    e, msgs = check_topic(ctx["mock"], topic, recs, fmt, fmt == "goflow2", "softflowd")
    errs += e
    if len(msgs) != rep.records:
        errs.append("softflowd exported %d records, the topic holds %d" % (rep.records, len(msgs)))
    errs += check_stats(stderr, rep.records, "softflowd")
    notes.append("softflowd v%d: %d records exported, %d messages in the topic" % (version, rep.records, len(msgs)))
    return errs, notes


def v5_datagram(seq, n, base_port):
    """A NetFlow v5 export datagram (Cisco NetFlow Export Datagram Format,
    version 5: 24-byte header, 48-byte records) with n records whose source
    ports base_port..base_port+n-1 make every record distinct."""
    now = time.time()
    hdr = struct.pack(">HHIIIIBBH", 5, n, 100000, int(now), int((now % 1) * 1e9), seq, 0, 0, 0)
    recs = b""
    for i in range(n):
        recs += struct.pack(">4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton("192.0.2.%d" % (1 + i % 200)),
                            socket.inet_aton("198.51.100.7"), socket.inet_aton("0.0.0.0"), 1, 2, 3 + i, 1500 + i,
                            99000, 99900, base_port + i, 443, 0, 0x18, 6, 0, 64500, 64501, 24, 24, 0)
    return hdr + recs


def wait_topic(mock, topic, n, timeout):
    end = time.monotonic() + timeout
    got = 0
    while time.monotonic() < end:
        got = len(kafkalib.consume(mock.bootstrap, topic))
        if got >= n:
            return got
        time.sleep(0.5)
    return got


def case_outage(ctx):
    errs, notes = [], []
    topic = "outage"
    mock = ctx["mock"]
    mock.topic(topic, 4)
    # Quick reconnects once the broker is back; a SASL password that must
    # never be logged (security.protocol stays plaintext: it is unused).
    ft = ftlib.Flowtally(ctx["bin"], ctx["workdir"], "outage",
                         kafka_args(mock, topic, "goflow", "-X", "reconnect.backoff.max.ms=500",
                                    "-X", "sasl.password=" + PASSWORD))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, seq = 0, 0
    down_at = up_at = None
    try:
        def send(k):
            nonlocal sent, seq
            for _ in range(k):
                s.sendto(v5_datagram(seq, 10, 1000 + seq * 10), ("127.0.0.1", ft.port))
                seq += 10
                sent += 10
                time.sleep(0.05)

        send(5)
        if ft.wait_records(sent, timeout=10) < sent:
            errs.append("[harness] flowtally printed %d of %d records before the outage" % (ft.count(), sent))
        mock.cmd("down -1")
        down_at = time.monotonic()
        # During the 10 s outage: a datagram every 0.5 s.
        while time.monotonic() - down_at < 10:
            send(1)
            time.sleep(0.45)
        during = sent
        mock.cmd("up -1")
        up_at = time.monotonic()
        send(5)
        if ft.wait_records(sent, timeout=10) < sent:
            errs.append("[harness] flowtally printed %d of %d records" % (ft.count(), sent))
        got = wait_topic(mock, topic, sent, 40)
        notes.append("%d records sent (%d while the brokers were down for %.1f s); %d in the topic %.1f s "
                     "after the brokers came back" % (sent, during - 50, up_at - down_at, got,
                                                     time.monotonic() - up_at))
    finally:
        recs, stats, stderr, rc, bad = ft.stop()
        s.close()
    errs += bad
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    if len(recs) != sent:
        errs.append("sent %d records, flowtally printed %d" % (sent, len(recs)))
    e, msgs = check_topic(mock, topic, recs, "goflow", False, "outage")
    errs += e
    errs += check_stats(stderr, sent, "outage")
    if not any(w in stderr for w in ("_TRANSPORT", "ALL_BROKERS_DOWN", "Connection refused", "Disconnected")):
        errs.append("the producer logged nothing about the outage: was the broker really down?\n" + stderr[-2000:])
    if PASSWORD in stderr:
        errs.append("the SASL password appears in flowtally's log")
    parts = {m.partition for m in msgs}
    if len(parts) < 2:
        errs.append("without a key every record went to partition(s) %s: librdkafka should spread them" % parts)
    notes.append("partitions used: %s" % sorted(parts))
    return errs, notes


def case_queue_full(ctx):
    errs = []
    mock = ctx["mock"]
    topic = "queuefull"
    mock.topic(topic, 1)
    pcap = os.path.join(ctx["corpus"], "captures/logstash-nfv5-generic-12pkts.pcap")
    mock.cmd("down -1")
    try:
        # Raw records alone: rollup rows share the local queue and would take
        # some of its 10 places (test_kafka_rollups.py counts both classes).
        rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(mock, topic, "goflow") + [
            "-X", "queue.buffering.max.messages=10", "--kafka-flush-timeout", "1000", "--kafka-rollup-topic", "off"])
    finally:
        mock.cmd("up -1")
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-1500:])], []
    s = kafkalib.stats_line(err, "kafka_stats") or {}
    n = len(recs)
    failed = sum((s.get("delivery_failed") or {}).values())
    if n <= 10:
        errs.append("[harness] the capture has only %d records" % n)
    want = {"produced": 10, "dropped_queue_full": n - 10, "delivered": 0, "flush_left": 10}
    for k, v in want.items():
        if s.get(k) != v:
            errs.append("kafka_stats %s = %r, want %r (%d records)" % (k, s.get(k), v, n))
    if failed != 10:
        errs.append("kafka_stats delivery_failed %r: want 10 records in all" % s.get("delivery_failed"))
    if "dropped" not in err or "not delivered within" not in err:
        errs.append("the drops and the undelivered records were not logged:\n" + err[-2000:])
    return errs, ["%d records: %s" % (n, json.dumps(s))]


def case_block(ctx):
    errs = []
    mock = ctx["mock"]
    topic = "blocking"
    mock.topic(topic, 2)
    pcap = os.path.join(ctx["corpus"], "captures/logstash-nfv5-generic-12pkts.pcap")
    mock.cmd("down -1")
    cmd = [ctx["bin"], "--pcap", pcap, "--print", "--stats"] + kafka_args(mock, topic, "goflow") + [
        "--kafka-block", "-X", "queue.buffering.max.messages=5", "-X", "reconnect.backoff.max.ms=500"]
    p = ftlib.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    blocked = p.poll() is None
    mock.cmd("up -1")
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        ftlib.stop(p, signal.SIGKILL)
        return ["flowtally --kafka-block did not finish after the broker came back"], []
    err = err.decode()
    recs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    if not blocked:
        errs.append("the replay finished while the broker was down: --kafka-block did not wait")
    if p.returncode != 0:
        errs.append("exit %d" % p.returncode)
    errs += check_stats(err, len(recs), "block")
    s = kafkalib.stats_line(err, "kafka_stats") or {}
    if not s.get("queue_full_waits"):
        errs.append("kafka_stats queue_full_waits = %r: nothing waited" % s.get("queue_full_waits"))
    e, _ = check_topic(mock, topic, recs, "goflow", False, "block")
    errs += e
    return errs, ["%d records, %s waited for room" % (len(recs), s.get("queue_full_waits"))]


BATCH = 7


def check_batch_topic(mock, topic, recs, fmt, batch, who):
    """Consumes a --kafka-batch topic: every message split into FlowMessages,
    compared with the --print records. Returns (errors, messages, records per
    message)."""
    msgs = kafkalib.consume(mock.bootstrap, topic)
    errs, bodies, sizes = [], [], []
    for m in msgs:
        try:
            parts = kafkalib.split_batch(m.value)
        except ValueError as e:
            errs.append("%s: partition %d offset %d: %s" % (who, m.partition, m.offset, e))
            continue
        if not 1 <= len(parts) <= batch:
            errs.append("%s: a message holds %d records, --kafka-batch %d" % (who, len(parts), batch))
        sizes.append(len(parts))
        bodies += parts
    if bodies:
        errs += kafkalib.exactly_once(recs, kafkalib.decode(bodies, fmt), fmt, who)
    elif recs:
        errs.append("%s: no message at all, --print shows %d records" % (who, len(recs)))
    return errs, msgs, sizes


def check_batch_stats(stderr, n, n_msgs, who):
    """kafka_stats of a batched run: records and Kafka messages both counted."""
    errs = check_stats(stderr, n, who)
    s = kafkalib.stats_line(stderr, "kafka_stats") or {}
    for k in ("produced_messages", "delivered_messages"):
        if s.get(k) != n_msgs:
            errs.append("%s: kafka_stats %s = %r, %d Kafka messages consumed" % (who, k, s.get(k), n_msgs))
    return errs


def case_batch(ctx, fmt):
    errs, total_recs, total_msgs, multi = [], 0, 0, 0
    for i, rel in enumerate(CAPTURES):
        pcap = os.path.join(ctx["corpus"], rel)
        if not os.path.exists(pcap):
            errs.append("corpus file %s missing" % rel)
            continue
        topic = "batch-%s-%d" % (fmt, i)
        ctx["mock"].topic(topic, 4)
        rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(ctx["mock"], topic, fmt, "--kafka-batch", str(BATCH)))
        if rc != 0:
            errs.append("%s: exit %d: %s" % (rel, rc, err[-1500:]))
            continue
        e, msgs, sizes = check_batch_topic(ctx["mock"], topic, recs, fmt, BATCH, rel)
        errs += e
        errs += check_batch_stats(err, len(recs), len(msgs), rel)
        if any(m.key is not None for m in msgs):
            errs.append("%s: messages carry a key, none was asked for" % rel)
        total_recs += len(recs)
        total_msgs += len(msgs)
        multi += sum(1 for n in sizes if n > 1)
    if total_recs > 2 * len(CAPTURES) and multi == 0:
        errs.append("no Kafka message holds more than one record: --kafka-batch did not batch")
    return errs, ["%d records in %d Kafka messages (%d with several records) over %d captures"
                  % (total_recs, total_msgs, multi, len(CAPTURES))]


def src_port_key(fields, fmt):
    """--kafka-key src_port of a decoded record: the port as 4 bytes,
    big-endian (raw_sink.h); absent (proto3 zero) = 0."""
    return struct.pack(">I", fields.get("SrcPort" if fmt == "goflow" else "src_port", 0))


def case_batch_key(ctx):
    errs, n_batch = [], 16
    fmt = "goflow2"
    topic = "batch-keyed"
    ctx["mock"].topic(topic, 4)
    parts = 0
    recs_all, msgs_all = [], []
    for rel in ("captures/logstash-nfv5-mikrotik.pcap", "captures/akvorado-sflow-1140.pcap"):
        pcap = os.path.join(ctx["corpus"], rel)
        rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(ctx["mock"], topic, fmt, "--kafka-batch", str(n_batch),
                                                                "--kafka-key", "src_port"))
        if rc != 0:
            return ["%s: exit %d: %s" % (rel, rc, err[-1500:])], []
        recs_all += recs
        s = kafkalib.stats_line(err, "kafka_stats") or {}
        parts += s.get("produced_messages") or 0
    e, msgs, sizes = check_batch_topic(ctx["mock"], topic, recs_all, fmt, n_batch, "keyed batches")
    errs += e
    if len(msgs) != parts:
        errs.append("kafka_stats produced_messages add up to %d, the topic holds %d" % (parts, len(msgs)))
    part = {}
    for m in msgs:
        keys = {src_port_key(f, fmt) for f in kafkalib.decode(kafkalib.split_batch(m.value), fmt)}
        if keys != {m.key}:
            errs.append("message key %r, its records' keys %r" % (m.key and m.key.hex(), [k.hex() for k in keys]))
        part.setdefault(m.key, set()).add(m.partition)
    split = [k.hex() for k, p in part.items() if len(p) > 1]
    if split:
        errs.append("records with the same key went to several partitions: %s" % split[:3])
    if len(part) < 2:
        errs.append("[harness] the captures give %d distinct src_port keys: no key change tested" % len(part))
    return errs, ["%d records in %d keyed messages, %d distinct keys, %d messages with several records"
                  % (len(recs_all), len(msgs), len(part), sum(1 for n in sizes if n > 1))]


def case_batch_not_held(ctx):
    errs, notes = [], []
    mock = ctx["mock"]
    topic = "batch-quiet"
    mock.topic(topic, 1)
    ft = ftlib.Flowtally(ctx["bin"], ctx["workdir"], "batch-quiet",
                         kafka_args(mock, topic, "goflow", "--kafka-batch", "1000"))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got = []
    try:
        s.sendto(v5_datagram(1, 10, 3000), ("127.0.0.1", ft.port))
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15 and len(got) < 10:
            got = [r for m in kafkalib.consume(mock.bootstrap, topic) for r in kafkalib.split_batch(m.value)]
            time.sleep(0.2)
        if len(got) < 10:
            errs.append("10 records sent, %d in the topic after %.1f s while flowtally runs: held for a full batch?"
                        % (len(got), time.monotonic() - t0))
        else:
            notes.append("10 records of one datagram in the topic %.1f s after sending, flowtally still running"
                         % (time.monotonic() - t0))
    finally:
        recs, stats, stderr, rc, bad = ft.stop()
        s.close()
    errs += bad
    if rc != 0:
        errs.append("flowtally exited %s" % rc)
    e, msgs, _ = check_batch_topic(mock, topic, recs, "goflow", 1000, "quiet exporter")
    errs += e
    errs += check_batch_stats(stderr, 10, len(msgs), "quiet exporter")
    return errs, notes


def case_batch_queue_full(ctx):
    errs = []
    mock = ctx["mock"]
    topic = "batch-queuefull"
    mock.topic(topic, 1)
    pcap = os.path.join(ctx["corpus"], "captures/logstash-nfv5-generic-12pkts.pcap")
    mock.cmd("down -1")
    try:
        rc, recs, err = run_pcap(ctx["bin"], pcap, kafka_args(mock, topic, "goflow") + [
            "--kafka-batch", "3", "-X", "queue.buffering.max.messages=2", "--kafka-flush-timeout", "1000",
            "--kafka-rollup-topic", "off"])
    finally:
        mock.cmd("up -1")
    if rc != 0:
        return ["exit %d: %s" % (rc, err[-1500:])], []
    s = kafkalib.stats_line(err, "kafka_stats") or {}
    n = len(recs)
    produced, failed = s.get("produced", -1), sum((s.get("delivery_failed") or {}).values())
    if n <= 6:
        errs.append("[harness] the capture has only %d records" % n)
    if s.get("produced_messages") != 2 or not 2 <= produced <= 6:
        errs.append("kafka_stats produced_messages %r, produced %r: want 2 messages of 1-3 records"
                    % (s.get("produced_messages"), produced))
    if produced + s.get("dropped_queue_full", -1) != n:
        errs.append("produced %r + dropped %r != %d records" % (produced, s.get("dropped_queue_full"), n))
    if s.get("delivered") != 0 or s.get("flush_left") != produced or failed != produced:
        errs.append("delivered %r, flush_left %r, delivery_failed %r: want 0, %r, %r records"
                    % (s.get("delivered"), s.get("flush_left"), s.get("delivery_failed"), produced, produced))
    return errs, ["%d records: %s" % (n, json.dumps(s))]


def case_batch_framing(ctx):
    pcap = os.path.join(ctx["corpus"], "captures/goflow2-nfv5.pcap")
    rc, recs, err = run_pcap(ctx["bin"], pcap, ["--kafka-brokers", ctx["mock"].bootstrap, "--kafka-batch", "2",
                                                "--framing", "plain"])
    if rc != 2 or "--framing plain cannot carry them" not in err or recs:
        return ["--kafka-batch 2 --framing plain: exit %d, %d records, stderr %r" % (rc, len(recs), err[-400:])], []
    return [], []


def case_bad_property(ctx):
    errs = []
    pcap = os.path.join(ctx["corpus"], "captures/goflow2-nfv5.pcap")
    b = ctx["mock"].bootstrap
    rc, recs, err = run_pcap(ctx["bin"], pcap, ["--kafka-brokers", b, "-X", "no.such.property=1"])
    if rc != 1 or "no.such.property" not in err:
        errs.append("unknown -X property: exit %d, stderr %r" % (rc, err[-500:]))
    if recs:
        errs.append("records printed although Kafka could not be set up")
    rc, _, err = run_pcap(ctx["bin"], pcap, ["--kafka-brokers", b, "-X", "ssl.key.password.typo=" + PASSWORD])
    if rc != 1 or PASSWORD in err or "ssl.key.password.typo" not in err:
        errs.append("secret-looking -X property: exit %d, stderr %r" % (rc, err[-500:]))
    rc, _, err = run_pcap(ctx["bin"], pcap, ["-X", "sasl.password"])
    if rc != 2 or "NAME=VALUE" not in err:
        errs.append("-X without '=': exit %d, stderr %r" % (rc, err[-300:]))
    # Kafka off: the binary works as before, no kafka_stats.
    rc, recs, err = run_pcap(ctx["bin"], pcap, [])
    if rc != 0 or len(recs) != 6 or kafkalib.stats_line(err, "kafka_stats") or "[kafka]" in err:
        errs.append("without --kafka-brokers: exit %d, %d records, kafka lines present" % (rc, len(recs)))
    return errs, []


def main(argv):
    miss = kafkalib.missing()
    corpus = os.environ.get("FT_CORPUS")
    if not corpus or not os.path.isdir(corpus):
        miss.append("FT_CORPUS (the shared corpus folder)")
    if miss:
        print("SKIP: missing " + ", ".join(miss))
        return ftlib.SKIP
    binary = os.environ.get("FLOWTALLY")
    if not binary or not os.access(binary, os.X_OK):
        print("FLOWTALLY must name the flowtally binary")
        return 1
    only = argv[1:]
    res = ftlib.Results()
    workdir = tempfile.mkdtemp(prefix="ft-kafka-", dir=os.environ.get("FT_BUILD_DIR") or None)
    mock = kafkalib.MockCluster(1)
    ctx = {"bin": binary, "corpus": corpus, "mock": mock, "workdir": workdir}
    cases = [
        ("corpus_goflow", lambda: case_corpus(ctx, "goflow")),
        ("corpus_goflow2", lambda: case_corpus(ctx, "goflow2")),
        ("corpus_key", lambda: case_key(ctx)),
        ("softflowd_v9_goflow", lambda: case_softflowd(ctx, 9, "goflow")),
        ("softflowd_ipfix_goflow2", lambda: case_softflowd(ctx, 10, "goflow2")),
        ("broker_outage", lambda: case_outage(ctx)),
        ("queue_full_counted", lambda: case_queue_full(ctx)),
        ("kafka_block", lambda: case_block(ctx)),
        ("batch_goflow", lambda: case_batch(ctx, "goflow")),
        ("batch_goflow2", lambda: case_batch(ctx, "goflow2")),
        ("batch_key", lambda: case_batch_key(ctx)),
        ("batch_not_held", lambda: case_batch_not_held(ctx)),
        ("batch_queue_full", lambda: case_batch_queue_full(ctx)),
        ("batch_framing", lambda: case_batch_framing(ctx)),
        ("bad_property", lambda: case_bad_property(ctx)),
    ]
    return kafkalib.run_cases(cases, only, mock, res, workdir)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        ftlib.cleanup()
