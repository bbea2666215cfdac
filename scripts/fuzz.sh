#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) and runs each
# for a fixed short time; exits 1 when any target finds something (crash,
# sanitizer report, leak, timeout, out-of-memory, broken harness contract).
#
#   scripts/fuzz.sh                 every target
#   scripts/fuzz.sh nfv9 stateful   only these
#
# Environment:
#   FT_FUZZ_SECONDS  run time per target (default 50)
#   FT_FUZZ_JOBS     targets run at once (default 2, at most nproc)
#   FT_FUZZ_BUILD    build folder (default build-fuzz)
#   FT_CORPUS        shared capture corpus for seeds (default ../shared/corpus)
# With the defaults the six targets take 3 rounds of 50 s: 150 s of the
# 3 minutes CI allows, plus the build.
#
# Seeds are made fresh each run from the unit tests' byte vectors and the
# corpus captures (fuzz/README.md); each target also replays its hand seeds
# (fuzz/seeds/) and saved findings (tests/data/fuzz-regress/). What a target
# discovers is kept in $FT_FUZZ_BUILD/fuzz/corpus/<target>/ for the next run;
# a finding is written to $FT_FUZZ_BUILD/fuzz/findings/ and its log printed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FT_FUZZ_SECONDS:-50}
jobs=${FT_FUZZ_JOBS:-2}
ncpu=$(nproc)
[ "$jobs" -gt "$ncpu" ] && jobs=$ncpu
B=${FT_FUZZ_BUILD:-build-fuzz}
corpus=${FT_CORPUS:-$PWD/../shared/corpus}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(nfv5 nfv9 ipfix sflow pkt_header stateful)

command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/deps.sh test)" >&2; exit 1; }

echo "== $B (libFuzzer, ASan + UBSan)"
CC=clang cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWTALLY_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$B" -j"$ncpu" --target fuzz_seed_dump $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

F=$B/fuzz
rm -rf "$F/seeds" "$F/findings" "$F/logs"
mkdir -p "$F/seeds" "$F/findings" "$F/logs"
"$F/fuzz_seed_dump" "$F/seeds"
/usr/bin/python3 fuzz/corpus_seeds.py "$corpus" "$F/seeds"

# Longest input per target: a UDP datagram as exporters send them (jumbo
# frames included), a captured frame, a handful of datagrams.
max_len() {
    case $1 in
    pkt_header) echo 4096 ;;
    stateful) echo 32768 ;;
    *) echo 9216 ;;
    esac
}

run_one() {
    local t=$1
    local dirs=("$F/corpus/$t" "$F/seeds/$t")
    mkdir -p "$F/corpus/$t"
    [ -d "fuzz/seeds/$t" ] && dirs+=("fuzz/seeds/$t")
    [ -d "tests/data/fuzz-regress/$t" ] && dirs+=("tests/data/fuzz-regress/$t")
    "$F/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$F/findings/$t-" "${dirs[@]}" >"$F/logs/$t.log" 2>&1
}

report() {
    local t=$1 rc=$2 log=$F/logs/$1.log
    local execs rate cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
    if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$F/findings" | grep "^$t-" || true)" ]; then
        printf 'fuzz_%-10s %3s s  %9s execs  %6s/s  %s  ok\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$cov"
        return 0
    fi
    echo "fuzz_$t: FINDING (exit $rc); input saved as:" >&2
    ls "$F/findings" | grep "^$t-" | sed "s|^|  $F/findings/|" >&2 || true
    echo "---- last lines of $log" >&2
    grep -vE '^#[0-9]+ +(NEW|REDUCE|pulse|RELOAD)' "$log" | tail -60 >&2
    return 1
}

fail=0
i=0
while [ $i -lt ${#targets[@]} ]; do
    batch=("${targets[@]:$i:$jobs}")
    pids=()
    for t in "${batch[@]}"; do
        run_one "$t" &
        pids+=($!)
    done
    for k in "${!batch[@]}"; do
        rc=0
        wait "${pids[$k]}" || rc=$?
        report "${batch[$k]}" "$rc" || fail=1
    done
    i=$((i + jobs))
done
[ $fail -eq 0 ] || { echo "fuzz: findings above; reproduce with $F/fuzz_<target> <input>" >&2; exit 1; }
echo "fuzz: no findings"
