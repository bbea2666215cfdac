#!/bin/bash
# test_cli.sh - the command line and live UDP reception, end to end.
#
# Oracles: the CLI contract of the project notes (options, exit codes 0/1/2,
# the "listening on netflow://ADDR:PORT" line, one JSON object per record on
# stdout, --stats lines starting with '{' on stderr); and NetFlow v5
# datagrams built here field by field (Cisco "NetFlow Export Datagram Format",
# version 5 header and record), whose values must come back in the JSON.
#
# Needs: $FLOWTALLY (the binary), /usr/bin/python3 (sender and JSON checks).
# Uses only loopback and kernel-chosen ports.
set -u

FT=${FLOWTALLY:-}
PY=/usr/bin/python3
if [ -z "$FT" ] || [ ! -x "$FT" ]; then
    echo "SKIP: FLOWTALLY not set or not executable"
    exit 77
fi

TMP=$(mktemp -d /tmp/ft_cli.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# ---- usage errors: exit 2 and a message naming the problem ---------------------

expect_usage_error() { # want-substring args...
    local want=$1; shift
    "$FT" "$@" >"$TMP/o" 2>"$TMP/e"
    local rc=$?
    if [ $rc -ne 2 ]; then fail "flowtally $* exited $rc, want 2"; return; fi
    if ! grep -qF -- "$want" "$TMP/e"; then fail "flowtally $*: stderr lacks '$want': $(cat "$TMP/e")"; return; fi
    if [ -s "$TMP/o" ]; then fail "flowtally $*: wrote to stdout"; return; fi
    pass "flowtally $* -> exit 2, '$want'"
}

expect_usage_error "unknown option '--bogus'" --bogus
expect_usage_error "unexpected argument 'extra'" --print extra
expect_usage_error "option '--workers' needs a value" --workers
expect_usage_error "--workers: 0 is out of range 1..64" --workers 0
expect_usage_error "--workers: 65 is out of range 1..64" --workers 65
expect_usage_error "--listen 'udp://127.0.0.1:2055'" --listen udp://127.0.0.1:2055
expect_usage_error "bad port" --listen netflow://127.0.0.1:65536
expect_usage_error "in brackets" --listen netflow://::1:2055
expect_usage_error "--sampling-rate '10.0.0.0/8=0'" --sampling-rate 10.0.0.0/8=0
expect_usage_error "from 1 to 2147483648" --sampling-rate 10.0.0.0/8=2147483649
expect_usage_error "is not an address prefix" --sampling-rate 10.0.0.0/40=100
expect_usage_error "--log-level: 'loud'" --log-level loud
expect_usage_error "--pcap and --listen cannot be combined" --pcap x.pcap --listen netflow://127.0.0.1:0
expect_usage_error "option '--print' takes no value" --print=1

# ---- --help and --version ----------------------------------------------------

"$FT" --help >"$TMP/help" 2>"$TMP/e"
rc=$?
[ $rc -eq 0 ] || fail "--help exited $rc"
for opt in listen workers rcvbuf pcap print stats sampling-rate template-timeout max-exporters \
           max-templates pending-max-sets pending-max-bytes pending-max-age log-level help version \
           geoip-country geoip-asn geoip-country-key geoip-asn-key asn-source window lateness event-time \
           rollup-by-exporter max-keys db retention db-retry-rows state-save; do
    grep -q -- "--$opt\b" "$TMP/help" || fail "--help does not list --$opt"
done
pass "--help lists every option"
v=$("$FT" --version)
[ "$v" = "flowtally 0.1.0" ] && pass "--version" || fail "--version printed '$v'"

# ---- live reception -------------------------------------------------------------

# start_ft NAME args... : starts flowtally in the background, waits for its
# "listening on" line; sets FT_PID and FT_PORT.
start_ft() {
    local name=$1; shift
    "$FT" --http off "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    FT_PID=$!
    PIDS+=("$FT_PID")
    FT_PORT=
    for _ in $(seq 50); do
        FT_PORT=$(sed -n 's/.*listening on [a-z]*:\/\/.*:\([0-9][0-9]*\) .*/\1/p' "$TMP/$name.err" | head -1)
        [ -n "$FT_PORT" ] && return 0
        kill -0 "$FT_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "$name: no 'listening on' line: $(cat "$TMP/$name.err")"
    return 1
}

# stop_ft NAME: SIGTERM, expect exit 0 within 3 s.
stop_ft() {
    local name=$1
    kill -TERM "$FT_PID"
    for _ in $(seq 30); do
        kill -0 "$FT_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$FT_PID" 2>/dev/null; then
        fail "$name: still running 3 s after SIGTERM"
        kill -KILL "$FT_PID"
    fi
    wait "$FT_PID"
    local rc=$?
    [ $rc -eq 0 ] && pass "$name: SIGTERM -> exit 0" || fail "$name: exit $rc after SIGTERM: $(tail -3 "$TMP/$name.err")"
}

# wait_lines FILE N: until FILE has N lines (5 s).
wait_lines() {
    for _ in $(seq 50); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# send_v5 HOST PORT [SRC_ADDRS...]: one NetFlow v5 datagram with one record
# per source address (default: the kernel's choice), 3 source ports each.
send_v5() {
    "$PY" - "$@" <<'EOF'
import socket, struct, sys
host, port, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:] or [None]
fam = socket.AF_INET6 if ':' in host else socket.AF_INET
# v5 header: version 5, count 1, sysUptime 100000 ms, unix_secs 1700000000,
# unix_nsecs 0, flow_sequence 77, engine type/id 0, sampling interval 0.
hdr = struct.pack('!HHIIIIBBH', 5, 1, 100000, 1700000000, 0, 77, 0, 0, 0)
# record: 10.0.0.1 -> 10.0.0.2, nexthop 0, in 3, out 4, 10 packets, 1500 octets,
# first 99000 ms, last 99500 ms, ports 1234 -> 80, tcp flags 0x12, proto 6,
# tos 0, src AS 64500, dst AS 64501, masks 24/16.
rec = (socket.inet_aton('10.0.0.1') + socket.inet_aton('10.0.0.2') + socket.inet_aton('0.0.0.0') +
       struct.pack('!HHIIIIHHBBBBHHBBH', 3, 4, 10, 1500, 99000, 99500, 1234, 80, 0, 0x12, 6, 0,
                   64500, 64501, 24, 16, 0))
for src in srcs:
    for _ in range(3):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if src:
            s.bind((src, 0))
        s.sendto(hdr + rec, (host, port))
        s.close()
EOF
}

# check_record FILE EXPORTER RATE: every line is the record sent, from
# EXPORTER, with sampling rate RATE (the v5 header says 0 = unknown -> 1,
# unless --sampling-rate overrides it).
check_record() {
    "$PY" - "$1" "$2" "$3" <<'EOF'
import json, sys
want_exporter, want_rate = sys.argv[2], int(sys.argv[3])
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no JSON line"
for line in lines:
    r = json.loads(line)
    exp = {"type": "NETFLOW_V5", "sampler_address": want_exporter, "src_addr": "10.0.0.1",
           "dst_addr": "10.0.0.2", "sequence_num": 77, "bytes": 1500, "packets": 10, "proto": 6,
           "src_port": 1234, "dst_port": 80, "in_if": 3, "out_if": 4, "tcp_flags": 0x12,
           "src_as": 64500, "dst_as": 64501, "src_net": 24, "dst_net": 16,
           # export time 1700000000 s; first/last are 1000 ms / 500 ms before sysUptime 100000
           "time_flow_start_ns": 1699999999000000000, "time_flow_end_ns": 1699999999500000000,
           "sampling_rate": want_rate}
    for k, v in exp.items():
        assert r.get(k) == v, "%s: got %r, want %r" % (k, r.get(k), v)
    assert r["time_received_ns"] > 1600000000 * 10**9, r["time_received_ns"]
print("%d record(s) as sent" % len(lines))
EOF
}

run_live() { # name url host exporter rate [more flowtally args]
    local name=$1 url=$2 host=$3 exporter=$4 rate=$5
    shift 5
    start_ft "$name" --listen "$url" --print --stats --db off "$@" || return
    send_v5 "$host" "$FT_PORT"
    if wait_lines "$TMP/$name.out" 3; then
        if out=$(check_record "$TMP/$name.out" "$exporter" "$rate" 2>&1); then pass "$name: $out"; else fail "$name: $out"; fi
    else
        fail "$name: $(wc -l <"$TMP/$name.out") JSON lines, want 3; stderr: $(cat "$TMP/$name.err")"
    fi
    stop_ft "$name"
    # --stats at exit: one exporter line, its counters those of 3 datagrams,
    # and one listener line whose receive counters say the same.
    if "$PY" - "$TMP/$name.err" "$exporter" <<'EOF'
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
ls = [s for s in stats if s.get("kind") == "listener_stats"]
assert len(ls) == 1 and ls[0]["datagrams"] == 3 and ls[0]["bytes"] == 3 * 72 and ls[0]["not_allowed"] == 0, ls
stats = [s for s in stats if s.get("kind") != "listener_stats"]
assert len(stats) == 1, stats
s = stats[0]
assert s["kind"] == "exporter_stats" and s["exporter"] == sys.argv[2], s
assert s["protocols"] == ["netflow_v5"], s["protocols"]
assert s["counters"]["packets"] == 3 and s["counters"]["records"] == 3, s["counters"]
assert s["counters"]["octets"] == 3 * 72, s["counters"]
assert all(v == 0 for v in s["errors"].values()), s["errors"]
EOF
    then pass "$name: --stats"; else fail "$name: --stats: $(grep '^{' "$TMP/$name.err")"; fi
}

run_live v4 'netflow://127.0.0.1:0' 127.0.0.1 127.0.0.1 1
run_live v6 'netflow://[::1]:0' ::1 ::1 1
# --sampling-rate reaches the decoder: the first matching prefix wins.
run_live override 'netflow://127.0.0.1:0' 127.0.0.1 127.0.0.1 100 \
    --sampling-rate 192.0.2.0/24=7 --sampling-rate 127.0.0.0/8=100 --sampling-rate 127.0.0.1/32=5

# ---- --workers 2: each exporter stays on one worker -----------------------------
# 16 exporters (127.0.0.1-16, loopback), 3 datagrams each from 3 different
# source ports. With source-address steering each exporter's datagrams reach
# one worker whatever their port; the kernel's default 4-tuple hash would
# spread them. Both workers must get some exporters (16 addresses all on one
# of 2 workers has probability 2^-15 for a working hash).
name=workers
if start_ft "$name" --listen 'netflow://127.0.0.1:0' --workers 2 --print --log-level debug; then
    send_v5 127.0.0.1 "$FT_PORT" $(for i in $(seq 16); do echo 127.0.0.$i; done)
    wait_lines "$TMP/$name.out" 48 || fail "$name: $(wc -l <"$TMP/$name.out") JSON lines, want 48"
    stop_ft "$name"
    if out=$("$PY" - "$TMP/$name.err" <<'EOF' 2>&1
import re, sys
where = {}
for line in open(sys.argv[1]):
    m = re.search(r'worker (\d+) exporters \(\d+\): (.*)$', line)
    if m:
        for a in m.group(2).split():
            where.setdefault(a, []).append(int(m.group(1)))
want = {"127.0.0.%d" % i for i in range(1, 17)}
assert set(where) == want, sorted(where)
split = {a: w for a, w in where.items() if len(w) != 1}
assert not split, "exporters seen by several workers: %r" % split
used = {w[0] for w in where.values()}
assert used == {0, 1}, "workers used: %r" % used
print("16 exporters, each on one worker, both workers used")
EOF
    ); then pass "$name: $out"; else fail "$name: $out"; fi
    dgrams=$(sed -n 's/.*worker [01]: \([0-9]*\) datagrams.*/\1/p' "$TMP/$name.err" | awk '{s += $1} END {print s}')
    [ "$dgrams" = 48 ] && pass "$name: 48 datagrams received" || fail "$name: $dgrams datagrams received, want 48"
fi

# ---- runtime failure: the port is taken -> exit 1, address and errno named ------
if start_ft holder --listen 'netflow://127.0.0.1:0'; then
    taken=$FT_PORT
    holder_pid=$FT_PID
    "$FT" --http off --listen "netflow://127.0.0.1:$taken" >"$TMP/o" 2>"$TMP/e"
    rc=$?
    if [ $rc -eq 1 ] && grep -qF "cannot bind netflow://127.0.0.1:$taken: Address already in use" "$TMP/e"; then
        pass "bind conflict -> exit 1 with the address and errno text"
    else
        fail "bind conflict: exit $rc, stderr: $(cat "$TMP/e")"
    fi
    FT_PID=$holder_pid
    stop_ft holder
fi

# ---- --pcap: a capture decoded then exit 0 ------------------------------------
CAP=${FT_CORPUS:-}/captures/goflow2-nfv5.pcap
if [ -n "${FT_CORPUS:-}" ] && [ -r "$CAP" ]; then
    "$FT" --pcap "$CAP" --print >"$TMP/pcap.out" 2>"$TMP/pcap.err"
    rc=$?
    # tshark's record count for the same file (the corpus's expected decode).
    want=$(grep -c '"kind": "record"' "$CAP.expected.jsonl")
    got=$(wc -l <"$TMP/pcap.out")
    if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then pass "--pcap: $got records, as tshark"; else
        fail "--pcap: exit $rc, $got records (tshark $want): $(cat "$TMP/pcap.err")"; fi
    grep -q "1 packets read, 1 UDP datagrams decoded" "$TMP/pcap.err" && pass "--pcap summary line" ||
        fail "--pcap summary: $(cat "$TMP/pcap.err")"
else
    echo "note: FT_CORPUS absent, --pcap part skipped"
fi
"$FT" --pcap "$TMP/missing.pcap" >"$TMP/o" 2>"$TMP/e"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot open capture" "$TMP/e" && pass "--pcap missing file -> exit 1" ||
    fail "--pcap missing file: exit $rc: $(cat "$TMP/e")"

if [ $FAILS -ne 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all passed"
