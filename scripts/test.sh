#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: once in a normal
# build and once under AddressSanitizer + UndefinedBehaviorSanitizer; then
# runs each libFuzzer target for a short fixed time (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
for variant in build-test:OFF build-asan:ON; do
    dir=${variant%%:*}
    san=${variant##*:}
    echo "== $dir (FLOWTALLY_SANITIZE=$san)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DFLOWTALLY_SANITIZE="$san" >/dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure -j"$jobs")
done
scripts/fuzz.sh
