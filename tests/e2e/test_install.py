#!/usr/bin/python3
"""test_install.py - `cmake --install` into a fresh prefix, and the installed
flowtally at work (issue 8, packaging).

Steps and what each asserts:
  1. `cmake --install $FT_BUILD_DIR --prefix TMP/inst` succeeds and puts the
     binary in bin/, every file of web/ in share/flowtally/web, schema.sql
     and queries.sql in share/flowtally/sql (each byte-identical to the
     source tree), the example configuration in etc/flowtally/flowtally.conf
     and the unit in lib/systemd/system/flowtally.service.
  2. The installed unit's ExecStart runs TMP/inst/bin/flowtally with
     --config TMP/inst/etc/flowtally/flowtally.conf (the install prefix, not
     the configure-time one); the installed configuration parses (flowtally
     --config FILE --help exits 0); `systemd-analyze verify` accepts the
     unit when systemd-analyze is there.
  3. The installed binary, run from another directory, serves the page:
     GET / equals the installed share/flowtally/web/index.html (the binary
     embeds what it serves: it needs no path to find it),
     /static/app.js equals the installed app.js, and /api/v1/dimensions
     answers 200 with the ten dimensions; flowgen's NetFlow v5 records
     reach /api/v1/top (total bytes = flowgen's bytes_scaled).
  4. A second install keeps an edited configuration file.

Needs: $FLOWTALLY (for its build directory), $FT_BUILD_DIR, cmake,
$FT_BUILD_DIR/flowgen. Exit 77 without them.
"""
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL install: %s" % msg)


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def install(build, prefix):
    r = subprocess.run(["cmake", "--install", build, "--prefix", prefix], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("cmake --install: rc %d: %s" % (r.returncode, r.stdout.decode()[-2000:]))
    return r.stdout.decode()


def main():
    build = os.environ.get("FT_BUILD_DIR", "")
    flowgen = os.path.join(build, "flowgen")
    if not build or not shutil.which("cmake") or not os.path.exists(flowgen):
        print("SKIP: needs FT_BUILD_DIR, cmake and flowgen")
        return ftlib.SKIP
    tmp = tempfile.mkdtemp(prefix="ft-install-", dir=build)
    prefix = os.path.join(tmp, "inst")
    try:
        install(build, prefix)
        # 1. the files
        binary = os.path.join(prefix, "bin", "flowtally")
        if not os.access(binary, os.X_OK):
            fail("no executable %s" % binary)
            return 1
        web = os.path.join(prefix, "share", "flowtally", "web")
        for d, _dirs, files in os.walk(os.path.join(ROOT, "web")):
            for f in files:
                src = os.path.join(d, f)
                dst = os.path.join(web, os.path.relpath(src, os.path.join(ROOT, "web")))
                if not os.path.exists(dst) or not same(src, dst):
                    fail("web file %s missing or different" % dst)
        for f in ("schema.sql", "queries.sql"):
            dst = os.path.join(prefix, "share", "flowtally", "sql", f)
            if not os.path.exists(dst) or not same(os.path.join(ROOT, "sql", f), dst):
                fail("sql file %s missing or different" % dst)
        conf = os.path.join(prefix, "etc", "flowtally", "flowtally.conf")
        unit = os.path.join(prefix, "lib", "systemd", "system", "flowtally.service")
        if not os.path.exists(conf) or not same(conf, os.path.join(ROOT, "packaging", "flowtally.conf")):
            fail("configuration %s missing or different" % conf)
        # 2. the unit names the installed paths
        text = open(unit).read()
        m = re.search(r"^ExecStart=(.*)$", text, re.M)
        cmd = shlex.split(m.group(1)) if m else []
        if cmd[:3] != [binary, "--config", conf]:
            fail("ExecStart %r, want %s --config %s ..." % (cmd, binary, conf))
        r = subprocess.run([binary, "--config", conf, "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=30)
        if r.returncode != 0:
            fail("the installed configuration does not parse: %s" % r.stderr.decode())
        sa = shutil.which("systemd-analyze")
        if sa:
            r = subprocess.run([sa, "verify", unit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if r.returncode != 0 or r.stdout.strip():
                fail("systemd-analyze verify %s: %s" % (unit, r.stdout.decode()[:1000]))
        else:
            print("note: systemd-analyze missing, the installed unit is not verified")
        # 3. the installed binary at work, from another directory
        run = os.path.join(tmp, "run")
        os.mkdir(run)
        p = ftlib.start([binary, "--listen", "netflow://127.0.0.1:0", "--http", "127.0.0.1:0", "--db",
                         os.path.join(run, "f.db")], cwd=run, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
        err = ftlib.LineReader(p.stderr)
        mh = err.wait_for(r"serving on http://127\.0\.0\.1:(\d+)", 15)
        ml = err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 15)
        if not mh or not ml:
            fail("the installed binary did not start:\n%s" % err.text())
            return 1
        port = int(mh.group(1))
        st, body = get(port, "/")
        if st != 200 or body != open(os.path.join(web, "index.html"), "rb").read():
            fail("GET / from the installed binary: %d, %d bytes, not the installed index.html" % (st, len(body)))
        st, body = get(port, "/static/app.js")
        if st != 200 or body != open(os.path.join(web, "app.js"), "rb").read():
            fail("GET /static/app.js: %d, not the installed app.js" % st)
        st, body = get(port, "/api/v1/dimensions")
        dims = json.loads(body).get("dimensions", []) if st == 200 else []
        if st != 200 or len(dims) != 10:
            fail("/api/v1/dimensions: %d, %d dimensions" % (st, len(dims)))
        r = subprocess.run([flowgen, "--target", "127.0.0.1:%s" % ml.group(1), "--proto", "v5", "--count", "200",
                            "--rate", "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
        sent = json.loads(r.stdout.decode().strip().splitlines()[-1])
        total = None
        end = time.monotonic() + 10
        while time.monotonic() < end and total != sent["bytes_scaled"]:
            st, body = get(port, "/api/v1/top?dimension=dst_port")
            total = json.loads(body).get("total", {}).get("bytes") if st == 200 else None
            time.sleep(0.2)
        if total != sent["bytes_scaled"]:
            fail("/api/v1/top total bytes %r, flowgen sent %d" % (total, sent["bytes_scaled"]))
        rc = ftlib.stop(p, signal.SIGTERM, 30.0)
        if rc != 0:
            fail("the installed binary exited %d" % rc)
        # 4. a reinstall keeps the operator's configuration
        with open(conf, "a") as f:
            f.write("workers = 2\n")
        out = install(build, prefix)
        if "workers = 2" not in open(conf).read() or "Keeping: %s" % conf not in out:
            fail("a second install replaced the edited %s" % conf)
    except Exception as e:  # a harness error is a failure, with its trace
        import traceback
        traceback.print_exc()
        fail("harness: %r" % e)
    finally:
        ftlib.cleanup()
    if failures:
        print("%d failure(s); files in %s" % (len(failures), tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok install: files in place and byte-identical, the unit names %s, the installed binary serves the "
          "page, the API and flowgen's bytes; an edited configuration survives a reinstall" % prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
