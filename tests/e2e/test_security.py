#!/usr/bin/python3
"""test_security.py - access control of a real flowtally (issue 8, Security).

Cases:
  allow_live   --allow-exporter 127.0.0.1/32 on a loopback listener; flowgen
               sends NetFlow v5 from 127.0.0.1 and, separately, from a socket
               bound to 127.0.0.2. Oracle: flowgen's own totals per run. Only
               127.0.0.1's records are printed (every one of them), --stats has
               one exporter (127.0.0.1), the listener_stats line counts
               datagrams = both runs and not_allowed = exactly the second run's
               datagrams, /metrics flowtally_udp_not_allowed_total says the
               same, and the drop is logged once (rate-limited), not per
               datagram.
  allow_pcap   a flowgen capture of two exporters (192.0.2.1, 192.0.2.2),
               replayed with --pcap --allow-exporter 192.0.2.1. Oracle: tshark's
               decode of the capture (ip.src, cflow.count per datagram): the
               records printed = tshark's v5 record count of 192.0.2.1 and
               not_allowed = tshark's datagram count of 192.0.2.2.
  allow_bad    --allow-exporter with a bad prefix is a usage error (exit 2)
               naming the option.
  token        --http-token-file (mode 0644, so the warning must show): curl
               (a client we did not write) without a token, with a wrong one,
               with one a byte short and with a wrong scheme gets 401 with
               WWW-Authenticate: Bearer and a JSON error on every endpoint,
               the web page and an unknown path; /healthz answers 200 without
               it; the right token gets 200 (scheme in any case). The token's
               bytes appear nowhere in stderr, nor in any answer; /metrics
               (with the token) counts the 401s. A token file that is
               missing or empty stops the start (exit 1) without the token in
               the message.
  user         as root: --user nobody with a privileged listen port (< 1024,
               so binding needs root) and --db in a directory owned by nobody.
               The kernel's view (/proc/PID/status: Uid, Gid, Groups) is
               nobody's, all four IDs; flows sent after the drop are printed,
               /api/v1/top reads the database (opened again after the drop),
               and at stop the windows are written to SQLite as nobody through
               the connection opened before the drop (the rows are there; the
               sum equals the printed records'). No error or warning logged.
               An unknown user is exit 1.
               Skipped when not root.

Needs: $FLOWTALLY, $FT_BUILD_DIR/flowgen, tshark (allow_pcap). Exit 77
when flowgen is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import test_http as th  # noqa: E402  (HTTP client and the strict /metrics parser)

failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def flowgen(args):
    fg = os.path.join(os.environ["FT_BUILD_DIR"], "flowgen")
    r = subprocess.run([fg] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("flowgen %s: rc %d: %s" % (args, r.returncode, r.stderr.decode()[:2000]))
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def kinds(stats, kind):
    return [s for s in stats if s.get("kind") == kind]


def case_allow_live(binary, tmp):
    case = "allow_live"
    ft = th.Ft(binary, tmp, "allow", ["--db", "off", "--allow-exporter", "127.0.0.1/32"])
    a = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v5", "--count", "600", "--rate", "20000",
                 "--source", "127.0.0.1", "--seed", "1"])
    b = flowgen(["--target", "127.0.0.1:%d" % ft.port, "--proto", "v5", "--count", "450", "--rate", "20000",
                 "--source", "127.0.0.2", "--seed", "2"])
    if b.get("sources") != ["127.0.0.2"] or a.get("sources") != ["127.0.0.1"]:
        fail(case, "flowgen did not bind the sources: %r %r" % (a.get("sources"), b.get("sources")))
    got = ft.wait_lines(a["records"])
    want_dg = a["datagrams"] + b["datagrams"]
    m = th.wait_metric(ft.http, "flowtally_udp_not_allowed_total", b["datagrams"])
    if m != b["datagrams"]:
        fail(case, "/metrics flowtally_udp_not_allowed_total %r, want %d" % (m, b["datagrams"]))
    dg = th.wait_metric(ft.http, "flowtally_udp_datagrams_total", want_dg)
    if dg != want_dg:
        fail(case, "/metrics flowtally_udp_datagrams_total %r, want %d" % (dg, want_dg))
    time.sleep(0.3)
    rc, recs, stats = ft.stop()
    if rc != 0:
        fail(case, "exit status %d" % rc)
    if got != a["records"] or len(recs) != a["records"]:
        fail(case, "%d records printed, 127.0.0.1 sent %d" % (len(recs), a["records"]))
    srcs = sorted(set(r.get("sampler_address") for r in recs))
    if srcs != ["127.0.0.1"]:
        fail(case, "records from %r, want 127.0.0.1 only" % srcs)
    ex = kinds(stats, "exporter_stats")
    if [e.get("exporter") for e in ex] != ["127.0.0.1"]:
        fail(case, "--stats exporters %r, want 127.0.0.1 only" % [e.get("exporter") for e in ex])
    elif ex[0]["counters"].get("packets") != a["datagrams"] or ex[0]["counters"].get("records") != a["records"]:
        fail(case, "--stats 127.0.0.1: %r, flowgen sent %d datagrams %d records" %
             (ex[0]["counters"], a["datagrams"], a["records"]))
    ls = kinds(stats, "listener_stats")
    if len(ls) != 1:
        fail(case, "--stats listener_stats lines: %r" % ls)
    else:
        l0 = ls[0]
        want = {"datagrams": want_dg, "bytes": a["octets"] + b["octets"], "not_allowed": b["datagrams"],
                "kernel_drops": 0}
        bad = {k: (l0.get(k), v) for k, v in want.items() if l0.get(k) != v}
        if bad:
            fail(case, "listener_stats (got, want): %r" % bad)
    err = open(os.path.join(tmp, "allow.stderr")).read()
    logs = [ln for ln in err.splitlines() if "not in --allow-exporter" in ln]
    if len(logs) != 1 or "127.0.0.2" not in logs[0]:
        fail(case, "expected one rate-limited drop line naming 127.0.0.2, got %d: %r" % (len(logs), logs[:3]))
    ok(case, "127.0.0.1: %d records decoded; 127.0.0.2: %d datagrams dropped and counted (stats, metrics, "
       "1 log line)" % (a["records"], b["datagrams"]))


def case_allow_pcap(binary, tmp):
    case = "allow_pcap"
    if not shutil.which("tshark"):
        print("SKIP %s: tshark missing" % case)
        return
    cap = os.path.join(tmp, "two.pcap")
    flowgen(["--pcap-out", cap, "--proto", "v5", "--count", "700", "--exporters", "2", "--seed", "3"])
    r = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "ip.src", "-e", "cflow.count"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    per = {}
    for ln in r.stdout.decode().splitlines():
        src, cnt = ln.split("\t")
        d = per.setdefault(src, [0, 0])
        d[0] += 1
        d[1] += int(cnt)
    if sorted(per) != ["192.0.2.1", "192.0.2.2"]:
        fail(case, "tshark sources %r" % sorted(per))
        return
    p = subprocess.run([binary, "--pcap", cap, "--print", "--stats", "--db", "off", "--allow-exporter",
                        "192.0.2.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    stats = [json.loads(l) for l in p.stderr.decode().splitlines() if l.startswith("{")]
    if p.returncode != 0:
        fail(case, "exit status %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    if len(recs) != per["192.0.2.1"][1] or set(r["sampler_address"] for r in recs) != {"192.0.2.1"}:
        fail(case, "%d records from %r; tshark: 192.0.2.1 has %d" %
             (len(recs), sorted(set(r["sampler_address"] for r in recs)), per["192.0.2.1"][1]))
    ls = [s for s in kinds(stats, "listener_stats") if s.get("listener") == "pcap"]
    want = {"datagrams": per["192.0.2.1"][0], "not_allowed": per["192.0.2.2"][0]}
    if len(ls) != 1 or any(ls[0].get(k) != v for k, v in want.items()):
        fail(case, "pcap listener_stats %r, want %r" % (ls, want))
    if [e["exporter"] for e in kinds(stats, "exporter_stats")] != ["192.0.2.1"]:
        fail(case, "exporters %r" % [e["exporter"] for e in kinds(stats, "exporter_stats")])
    ok(case, "capture: %d records of 192.0.2.1 decoded, %d datagrams of 192.0.2.2 not allowed (tshark)" %
       (per["192.0.2.1"][1], per["192.0.2.2"][0]))


def case_allow_bad(binary, tmp):
    case = "allow_bad"
    p = subprocess.run([binary, "--allow-exporter", "10.0.0.0/33", "--pcap", "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 2 or b"--allow-exporter" not in p.stderr:
        fail(case, "rc %d, stderr %r" % (p.returncode, p.stderr[:300]))
    else:
        ok(case, "a bad prefix is a usage error naming the option")


def curl(port, path, token=None, header=None):
    """(status, headers lower-cased, body) as curl (not our client) sees them."""
    cmd = ["curl", "-s", "-i", "--max-time", "20", "http://127.0.0.1:%d%s" % (port, path)]
    if token is not None:
        cmd[1:1] = ["-H", "Authorization: Bearer " + token]
    if header is not None:
        cmd[1:1] = ["-H", header]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    raw = r.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    hdr = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdr[k.strip().lower()] = v.strip()
    return status, hdr, body


def case_token(binary, tmp):
    case = "token"
    if not shutil.which("curl"):
        print("SKIP %s: curl missing" % case)
        return
    token = "s3cr3t-Tok.en_" + os.urandom(12).hex()
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as fh:
        fh.write(token + "\n")
    os.chmod(tf, 0o644)
    ft = th.Ft(binary, tmp, "token", ["--db", os.path.join(tmp, "token.db"), "--http-token-file", tf])
    paths = ["/api/v1/top?dimension=proto", "/api/v1/series?dimension=proto", "/api/v1/dimensions",
             "/api/v1/exporters", "/metrics", "/readyz", "/", "/static/app.js", "/no/such/path"]
    n401 = 0
    for path in paths:
        for label, kw in (("no token", {}), ("wrong token", {"token": "x" + token[1:]}),
                          ("short token", {"token": token[:-1]}), ("long token", {"token": token + "x"}),
                          ("Basic scheme", {"header": "Authorization: Basic " + token})):
            st, h, body = curl(ft.http, path, **kw)
            n401 += 1
            try:
                j = json.loads(body.decode())
            except ValueError:
                j = None
            if st != 401 or not h.get("www-authenticate", "").startswith("Bearer") or not (j and "error" in j):
                fail(case, "%s %s: %d %r %r" % (path, label, st, h.get("www-authenticate"), body[:200]))
            if token.encode() in body:
                fail(case, "%s: the answer holds the token" % path)
    st, _h, body = curl(ft.http, "/healthz")
    if st != 200:
        fail(case, "/healthz without a token: %d %r" % (st, body[:200]))
    for path in paths[:-1]:
        st, _h, body = curl(ft.http, path, token=token)
        if st != 200:
            fail(case, "%s with the token: %d %r" % (path, st, body[:200]))
    st, _h, _b = curl(ft.http, "/no/such/path", token=token)
    if st != 404:
        fail(case, "unknown path with the token: %d, want 404" % st)
    st, _h, _b = curl(ft.http, "/api/v1/dimensions", header="Authorization: bearer " + token)
    if st != 200:
        fail(case, "scheme 'bearer' (case-insensitive, RFC 7235 2.1): %d" % st)
    st, _h, body = curl(ft.http, "/metrics", token=token)
    try:
        got = th.sample(th.parse_prometheus(body.decode()), "flowtally_http_requests_total", None, code="401")
    except ValueError as e:
        got = "unparsable: %s" % e
    if got != n401:
        fail(case, "/metrics 401 count %r, want %d" % (got, n401))
    rc, _r, _s = ft.stop()
    err = open(os.path.join(tmp, "token.stderr")).read()
    if rc != 0:
        fail(case, "exit status %d; stderr tail: %s" % (rc, err[-1500:]))
    if token in err or token[:12] in err:
        fail(case, "stderr holds the token")
    if not any("can be read by every user" in ln and tf in ln for ln in err.splitlines()):
        fail(case, "no warning about the world-readable token file")
    ok(case, "%d unauthorized requests -> 401 + WWW-Authenticate (curl); /healthz open; token never echoed" % n401)

    for what, content in (("missing", None), ("empty", "\n")):
        path = os.path.join(tmp, "token-" + what)
        if content is not None:
            with open(path, "w") as fh:
                fh.write(content)
            os.chmod(path, 0o600)
        p = subprocess.run([binary, "--listen", "netflow://127.0.0.1:0", "--http", "127.0.0.1:0", "--db", "off",
                            "--http-token-file", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 1 or b"--http-token-file" not in p.stderr:
            fail(case, "%s token file: rc %d, %r" % (what, p.returncode, p.stderr[-300:]))
    ok(case, "a missing or empty token file stops the start")


def free_low_port():
    """A free UDP port below 1024 on 127.0.0.1 (binding it needs root)."""
    import socket
    for port in range(1000, 1024):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return None


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as fh:
        for ln in fh:
            k, _, v = ln.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                ids[k] = [int(x) for x in v.split()]
    return ids


def case_user(binary, tmp):
    case = "user"
    import pwd
    import sqlite3
    if os.geteuid() != 0:
        print("SKIP %s: not root (--user needs root to switch)" % case)
        return
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        print("SKIP %s: no user nobody" % case)
        return
    port = free_low_port()
    # Its own directory under /tmp: the build tree may not be traversable by nobody.
    base = tempfile.mkdtemp(prefix="ft-user-")
    os.chmod(base, 0o755)
    dbdir = os.path.join(base, "db")
    os.mkdir(dbdir, 0o750)
    os.chown(dbdir, pw.pw_uid, pw.pw_gid)
    db = os.path.join(dbdir, "flows.db")
    out_path = os.path.join(tmp, "user.jsonl")
    out = open(out_path, "wb")
    cmd = [binary, "--user", "nobody", "--listen", "netflow://127.0.0.1:%d" % port, "--http", "127.0.0.1:0",
           "--db", db, "--print", "--stats"]
    p = ftlib.start(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
    err = ftlib.LineReader(p.stderr)
    m = err.wait_for(r"serving on http://127\.0\.0\.1:(\d+)", 15)
    if not m or not err.wait_for(r"running as user nobody", 15):
        ftlib.stop(p, signal.SIGKILL)
        fail(case, "did not start or drop: %s" % err.text()[-2000:])
        shutil.rmtree(base, ignore_errors=True)
        return
    http = int(m.group(1))
    ids = proc_ids(p.pid)
    want = {"Uid": [pw.pw_uid] * 4, "Gid": [pw.pw_gid] * 4, "Groups": [pw.pw_gid]}
    if ids != want:
        fail(case, "/proc status IDs %r, want %r" % (ids, want))
    fg = flowgen(["--target", "127.0.0.1:%d" % port, "--proto", "v5,v9", "--count", "400", "--rate", "20000"])
    end = time.monotonic() + 30
    while time.monotonic() < end and open(out_path, "rb").read().count(b"\n") < fg["records"]:
        time.sleep(0.1)
    st, _h, body = th.request(http, "/api/v1/top?dimension=proto")
    if st != 200:
        fail(case, "/api/v1/top after the drop: %d %r" % (st, body[:300]))
    rc = ftlib.stop(p, signal.SIGTERM, 30.0)
    err.join()
    out.close()
    recs = [json.loads(l) for l in open(out_path) if l.strip()]
    if rc != 0:
        fail(case, "exit status %d: %s" % (rc, err.text()[-2000:]))
    if len(recs) != fg["records"]:
        fail(case, "%d records printed, flowgen sent %d" % (len(recs), fg["records"]))
    try:
        st_db = os.stat(db)
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        total = c.execute("SELECT coalesce(sum(bytes), 0) FROM rollups WHERE dimension = 'proto'").fetchone()[0]
        c.close()
        want_bytes = sum(r["bytes"] * max(r.get("sampling_rate") or 1, 1) for r in recs)
        # Created (opened) before the drop, as root; written after it.
        if st_db.st_size == 0:
            fail(case, "the database is empty")
        if total == 0:
            fail(case, "no rollup rows written after the drop")
        else:
            if total != want_bytes:
                fail(case, "rollups hold %d bytes over proto, the printed records %d" % (total, want_bytes))
            ok(case, "rollups written as nobody: %d bytes over proto = the printed records'" % total)
    except (OSError, sqlite3.Error) as e:
        fail(case, "database %s: %s" % (db, e))
    errs = [l for l in err.text().splitlines() if " error [" in l or " warn [" in l]
    if errs:
        fail(case, "errors or warnings logged: %s" % errs[:5])
    ok(case, "bound 127.0.0.1:%d as root, ran as nobody (/proc: %r), %d records" % (port, ids, len(recs)))
    shutil.rmtree(base, ignore_errors=True)

    r = subprocess.run([binary, "--user", "no-such-user-ft", "--listen", "netflow://127.0.0.1:0", "--http", "off",
                        "--db", "off"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 1 or b"no such user" not in r.stderr:
        fail(case, "unknown user: rc %d %r" % (r.returncode, r.stderr[-300:]))
    else:
        ok(case, "an unknown user stops the start (exit 1)")


CASES = [("allow_live", case_allow_live), ("allow_pcap", case_allow_pcap), ("allow_bad", case_allow_bad),
         ("token", case_token), ("user", case_user)]


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    if not os.path.exists(os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")):
        print("SKIP: flowgen not built (FT_BUILD_DIR)")
        return ftlib.SKIP
    only = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="ft-sec-", dir=os.environ.get("FT_BUILD_DIR"))
    try:
        for name, fn in CASES:
            if not only or name in only:
                fn(binary, tmp)
    except Exception as e:  # a harness error is a failure, with its trace
        import traceback
        traceback.print_exc()
        fail("harness", repr(e))
    finally:
        ftlib.cleanup()
    if failures:
        print("%d failure(s) in %s; files in %s" % (len(failures), sorted(set(failures)), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("all security cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
