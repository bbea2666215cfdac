#!/usr/bin/env bash
# Installs what is missing, builds, and starts the collector with its
# embedded defaults (NetFlow/IPFIX on UDP 2055, sFlow on UDP 6343, rollups
# into ./flowtally.db). Extra arguments go to flowtally, e.g.
# `scripts/run.sh --print`; they come last, so they win over the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

# GeoIP databases in geo/ (geo/README.md; geo/fetch.sh gets the free one):
# the first file present of each list is used; none: no GeoIP.
geo=()
for f in geo/GeoLite2-Country.mmdb geo/dbip-country-lite.mmdb geo/iptoasn-country.mmdb; do
    if [ -f "$f" ]; then geo+=(--geoip-country "$f"); break; fi
done
for f in geo/GeoLite2-ASN.mmdb geo/dbip-asn-lite.mmdb; do
    if [ -f "$f" ]; then geo+=(--geoip-asn "$f"); break; fi
done
[ ${#geo[@]} -gt 0 ] || echo "run.sh: no GeoIP database in geo/ (geo/fetch.sh fetches a free one): no countries" >&2
exec build/flowtally "${geo[@]}" "$@"
