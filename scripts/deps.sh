#!/usr/bin/env bash
# Installs the Debian 12 packages flowtally needs, and only those missing:
# a no-op (no apt-get at all) when everything is present.
#   scripts/deps.sh run    build + runtime packages
#   scripts/deps.sh test   the above + what the tests drive (real exporters, tshark, clang
#                          for the fuzz targets...)
set -euo pipefail

run_pkgs=(build-essential cmake pkg-config libpcap-dev libjansson-dev)
test_pkgs=(tshark tcpdump softflowd pmacct python3 python3-scapy jq)
# clang + libclang-rt-14-dev (libFuzzer, sanitizer runtimes): scripts/fuzz.sh
test_pkgs+=(clang libclang-rt-14-dev)
# Kafka output: producer, protobuf-c runtime and code generator; the tests
# consume with kcat and decode with Google's protoc.
run_pkgs+=(librdkafka-dev libprotobuf-c-dev protobuf-c-compiler)
test_pkgs+=(kcat protobuf-compiler)
# enrichment and rollups: GeoIP (libmaxminddb), SQLite; the tests write their
# own .mmdb files (MaxMind's perl writer), read them back with mmdblookup and
# query the rollups with the sqlite3 shell.
run_pkgs+=(libmaxminddb-dev libsqlite3-dev)
test_pkgs+=(sqlite3 libmaxmind-db-writer-perl mmdb-bin)
# HTTP API and /metrics (libmicrohttpd); the tests fetch with curl and check
# the exposition with promtool (Debian's prometheus package).
run_pkgs+=(libmicrohttpd-dev)
test_pkgs+=(curl prometheus)
# issue 8: packaging checks (systemd-analyze verify, docker-compose config -q, YAML)
test_pkgs+=(systemd docker-compose python3-yaml)
# issue 8: HTTPS test certificates (openssl req -x509)
test_pkgs+=(openssl)

# the web page's test drives Debian's headless chromium over the DevTools protocol
test_pkgs+=(chromium)

want=("${run_pkgs[@]}")
[ "${1:-run}" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
