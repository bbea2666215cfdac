#!/usr/bin/python3
"""test_rollups_pcap.py - GeoIP enrichment, windows and SQLite rollups over
every real capture of the corpus, replayed with --pcap.

Cases:
  merged      all corpus captures merged into one (mergecap) and replayed once
              with GeoIP databases: capture time drives the windows across
              years of timestamps (closes, late corrections, clamps, a final
              partial flush). The SQLite rows of every (window, dimension,
              key) equal the sums computed here from flowtally's own --print
              records with the issue's definitions (rollup_oracle.py).
  geoip       the countries and AS numbers of the --print records equal what
              the databases' ranges give (Python's ipaddress module decides
              special-purpose addresses), starting from the records of a run
              without GeoIP; the ip-location-db layout gives the same answers
              as the MaxMind layout.
  restarts    every capture replayed by its own flowtally into one database:
              each run adds to what the previous ones wrote (partial windows
              of the same start add up), nothing is counted twice.
  queries     sql/queries.sql runs in the sqlite3 shell; its top destination
              port is the one computed here.
  bad_geoip   a missing, truncated or wrong-type database stops flowtally at
              start (exit 1) with a message naming the file and what was
              expected.

The databases are written by MaxMind's perl writer (mkmmdb.pl), in both
layouts. Needs: $FLOWTALLY, $FT_CORPUS, mergecap (wireshark-common), perl
MaxMind::DB::Writer (libmaxmind-db-writer-perl), sqlite3. Exit 77 when one
is missing.
"""
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rollup_oracle as ro  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The test databases: network -> value. Broad ranges over the whole address
# space (remove_reserved_networks => 0 lets them cover reserved space too).
COUNTRY = [("0.0.0.0/2", "NL"), ("64.0.0.0/2", "US"), ("128.0.0.0/2", "DE"), ("192.0.0.0/3", "FR"),
           ("2000::/4", "JP"), ("fc00::/7", "ZZ")]
ASN = [("0.0.0.0/1", 64496), ("128.0.0.0/1", 65550), ("2000::/3", 4200000000)]

failures = []


def fail(case, msg):
    failures.append("%s: %s" % (case, msg))
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600, **kw)


def flowtally(binary, args):
    p = run([binary] + args)
    recs, stats = [], []
    for line in p.stdout.decode().splitlines():
        if line.strip():
            recs.append(json.loads(line))
    for line in p.stderr.decode().splitlines():
        if line.startswith("{"):
            stats.append(json.loads(line))
    return p.returncode, recs, stats, p.stderr.decode()


def linktype(path):
    """The link type of a classic pcap file's global header, or None."""
    with open(path, "rb") as f:
        h = f.read(24)
    if len(h) < 24:
        return None
    order = "little" if h[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big"
    return int.from_bytes(h[20:24], order)


def build_db(path, layout, entries):
    args = ["perl", os.path.join(HERE, "mkmmdb.pl"), path, layout, "6"] + ["%s=%s" % e for e in entries]
    subprocess.run(args, check=True, timeout=120)


def special(addr):
    """No lookup for these: not globally routable, or multicast (ipaddress's
    view of the IANA special-purpose registries)."""
    a = ipaddress.ip_address(addr)
    if a.version == 6 and a.ipv4_mapped:
        a = a.ipv4_mapped
    return (not a.is_global) or a.is_multicast


def lookup(table, addr):
    a = ipaddress.ip_address(addr)
    if a.version == 6 and a.ipv4_mapped:
        a = a.ipv4_mapped
    best = None
    for net, v in table:
        n = ipaddress.ip_network(net)
        if n.version == a.version and a in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, v)
    return best[1] if best else None


def geo_expect(raw):
    """The enriched record expected from a raw one (--asn-source prefer-flow)."""
    out = dict(raw)
    for side in ("src", "dst"):
        addr = raw[side + "_addr"]
        if not addr:
            continue
        if special(addr):
            cc, asn = "", None
        else:
            cc, asn = lookup(COUNTRY, addr) or "", lookup(ASN, addr)
        out[side + "_country"] = cc
        if raw[side + "_as"] == 0 and asn:
            out[side + "_as"] = asn
    return out


def stats_of(stats):
    for s in stats:
        if s.get("kind") == "rollup_stats":
            return s
    return {}


def main():
    binary = os.environ.get("FLOWTALLY")
    corpus = os.environ.get("FT_CORPUS", "")
    caps = sorted(glob.glob(os.path.join(corpus, "captures", "*.pcap")))
    missing = []
    if not binary or not os.access(binary, os.X_OK):
        missing.append("FLOWTALLY (the binary)")
    if not caps:
        missing.append("the corpus captures ($FT_CORPUS/captures)")
    for tool, pkg in (("mergecap", "wireshark-common"), ("sqlite3", "sqlite3"), ("perl", "perl")):
        if not shutil.which(tool):
            missing.append("%s (apt-get install %s)" % (tool, pkg))
    if subprocess.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"], stderr=subprocess.DEVNULL).returncode:
        missing.append("perl MaxMind::DB::Writer (apt-get install libmaxmind-db-writer-perl)")
    if missing:
        print("SKIP: missing " + ", ".join(missing))
        return 77

    tmp = tempfile.mkdtemp(prefix="ft-rollups-pcap-", dir=os.environ.get("FT_BUILD_DIR"))
    merged = os.path.join(tmp, "all.pcap")
    # One classic pcap needs one link type: the Ethernet captures (all but one).
    eth = [c for c in caps if linktype(c) == 1]
    subprocess.run(["mergecap", "-F", "pcap", "-w", merged] + eth, check=True, timeout=120)
    c_mm, c_il, asn = (os.path.join(tmp, n) for n in ("country-mm.mmdb", "country-il.mmdb", "asn.mmdb"))
    build_db(c_mm, "maxmind-country", COUNTRY)
    build_db(c_il, "iplocation", COUNTRY)
    build_db(asn, "asn", ASN)

    # ---- merged -------------------------------------------------------------------
    db1 = os.path.join(tmp, "merged.db")
    rc, recs, stats, err = flowtally(binary, ["--pcap", merged, "--print", "--stats", "--db", db1, "--retention", "0",
                                              "--geoip-country", c_mm, "--geoip-asn", asn])
    if rc != 0:
        fail("merged", "exit %d: %s" % (rc, err[-2000:]))
        return 1
    want, got = ro.expected(recs, 300), ro.from_sqlite(db1)
    d = ro.diff(want, got)
    if d:
        fail("merged", "SQLite differs from the --print sums:\n  " + "\n  ".join(d))
    else:
        ok("merged", "%d records, %d rows in %d windows equal the --print sums" %
           (len(recs), len(got), len({k[0] for k in got})))
    for (ws, dim), t in ro.totals(got).items():
        t0 = ro.totals(got)[(ws, "proto")]
        if t != t0:
            fail("merged", "window %d: %s sums to %r, proto to %r" % (ws, dim, t, t0))
    rs = stats_of(stats)
    w = rs.get("windows", {})
    states = dict(ro.query(db1, "SELECT state, count(*) FROM windows GROUP BY state"))
    if w.get("records") != len(recs) or w.get("windows_flushed", 0) < 1 or w.get("partial_flushes", 0) < 1 \
            or w.get("late_records", 0) < 1 or w.get("clamped_past", 0) < 1:
        fail("merged", "window counters do not show closes, partial flushes, late records and clamps: %r" % w)
    elif states.get("closed", 0) < 1 or states.get("partial", 0) < 1:
        fail("merged", "windows table states %r" % states)
    else:
        ok("merged", "%d windows closed on capture time, %d partial at the end, %d late records, %d clamped; "
           "windows table %r" % (w["windows_flushed"], w["partial_flushes"], w["late_records"],
                                 w["clamped_past"] + w["clamped_future"], states))
    g = rs.get("geo", {})
    if not g.get("special") or not g.get("lookups"):
        fail("merged", "geo counters %r" % g)

    # ---- geoip ---------------------------------------------------------------------
    rc, raw, _s, err = flowtally(binary, ["--pcap", merged, "--print", "--db", "off"])
    if rc != 0 or len(raw) != len(recs):
        fail("geoip", "run without GeoIP: exit %d, %d records vs %d" % (rc, len(raw), len(recs)))
    else:
        bad = []
        n_cc = n_as = n_special = 0
        for i, (r, e) in enumerate(zip(raw, recs)):
            x = geo_expect(r)
            for f in ("src_country", "dst_country", "src_as", "dst_as"):
                if x[f] != e[f]:
                    bad.append("record %d %s %s -> %s: %s %r, expected %r" %
                               (i, r["src_addr"], r["dst_addr"], f, "flowtally", e[f], x[f]))
            n_cc += bool(e["src_country"]) + bool(e["dst_country"])
            n_as += (e["src_as"] != r["src_as"]) + (e["dst_as"] != r["dst_as"])
            n_special += sum(1 for s in ("src", "dst") if r[s + "_addr"] and special(r[s + "_addr"]))
        if bad:
            fail("geoip", "%d fields differ:\n  %s" % (len(bad), "\n  ".join(bad[:15])))
        elif not n_cc or not n_as or not n_special:
            fail("geoip", "nothing exercised: %d countries, %d AS from the database, %d special" %
                 (n_cc, n_as, n_special))
        else:
            ok("geoip", "%d countries set, %d AS numbers from the database (router said 0), %d special "
               "addresses left without country" % (n_cc, n_as, n_special))
        if g.get("special") != n_special:
            fail("geoip", "flowtally counted %r special addresses, %d expected" % (g.get("special"), n_special))
    rc, il, _s, err = flowtally(binary, ["--pcap", merged, "--print", "--db", "off", "--geoip-country", c_il,
                                         "--geoip-asn", asn])
    if rc != 0 or [(r["src_country"], r["dst_country"]) for r in il] != \
            [(r["src_country"], r["dst_country"]) for r in recs]:
        fail("geoip", "the ip-location-db layout gives other countries (exit %d)" % rc)
    else:
        ok("geoip", "ip-location-db layout (country_code) gives the same countries as the MaxMind layout")
    if "country_code (ip-location-db layout)" not in err or "country.iso_code" in err:
        fail("geoip", "start-up log does not name the detected layout:\n" + err[:1500])

    # ---- restarts ----------------------------------------------------------------------
    db2 = os.path.join(tmp, "restarts.db")
    every = []
    for cap in caps:
        rc, r, _s, err = flowtally(binary, ["--pcap", cap, "--print", "--db", db2, "--retention", "0",
                                             "--log-level", "warn"])
        if rc != 0:
            fail("restarts", "%s: exit %d: %s" % (cap, rc, err[-500:]))
        every += r
    d = ro.diff(ro.expected(every, 300), ro.from_sqlite(db2))
    if d:
        fail("restarts", "SQLite differs from the --print sums of %d runs:\n  %s" % (len(caps), "\n  ".join(d)))
    else:
        ok("restarts", "%d runs into one database: %d records, rows equal the --print sums" % (len(caps), len(every)))

    # ---- queries -------------------------------------------------------------------------
    p = run(["sqlite3", db1], stdin=open(os.path.join(ROOT, "sql", "queries.sql"), "rb"))
    text = p.stdout.decode()
    last = max(ws for (ws, _d, _k, _e) in want)
    span_end = last + 300
    top = {}
    for (ws, dim, key, _e), v in want.items():
        if dim == "dst_port" and ws >= span_end - 3600:
            top[key] = top.get(key, 0) + v[0]
    best = max(top.items(), key=lambda kv: kv[1])
    lines = text.splitlines()
    hdr = [i for i, l in enumerate(lines) if l.split()[:2] == ["dst_port", "bytes"]]
    if p.returncode != 0 or p.stderr:
        fail("queries", "sqlite3 < sql/queries.sql: exit %d: %s" % (p.returncode, p.stderr.decode()[:500]))
    elif not hdr or not lines[hdr[0] + 2].startswith(best[0] + " ") or str(best[1]) not in lines[hdr[0] + 2]:
        fail("queries", "top destination port should be %s with %d bytes:\n%s" % (best[0], best[1], text[:3000]))
    else:
        ok("queries", "sql/queries.sql runs; top destination port %s, %d bytes in the last hour of data" % best)

    # ---- bad_geoip ---------------------------------------------------------------------------
    trunc = os.path.join(tmp, "truncated.mmdb")
    with open(c_mm, "rb") as f, open(trunc, "wb") as t:
        t.write(f.read()[: os.path.getsize(c_mm) // 2])
    cases = [
        (["--geoip-country", os.path.join(tmp, "missing.mmdb")], "missing.mmdb: cannot open: No such file"),
        (["--geoip-country", trunc], "truncated.mmdb: not a MaxMind DB file, or truncated"),
        (["--geoip-country", asn], "asn.mmdb (database type 'GeoLite2-ASN'): none of its records holds a country code"),
        (["--geoip-asn", c_il], "country-il.mmdb (database type 'iplocation-country'): none of its records holds an AS"),
        (["--geoip-country", merged], "all.pcap: not a MaxMind DB file"),
    ]
    for args, want_msg in cases:
        rc, r, _s, err = flowtally(binary, ["--pcap", caps[0], "--print", "--db", "off"] + args)
        if rc != 1 or r or want_msg not in err or "expected" not in err and "right database" not in err:
            fail("bad_geoip", "%s: exit %d, %d records, stderr: %s" % (" ".join(args), rc, len(r), err[-600:]))
        else:
            line = [x for x in err.splitlines() if want_msg in x][0]
            ok("bad_geoip", "exit 1: " + line[line.find("--geoip"):][:200])

    if failures:
        print("%d failure(s); files kept in %s" % (len(failures), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
