#!/usr/bin/env bash
# Installs what is missing, builds, and starts the collector with its
# embedded defaults (NetFlow/IPFIX on UDP 2055, sFlow on UDP 6343).
# Extra arguments go to flowtally, e.g. `scripts/run.sh --print`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/flowtally "$@"
