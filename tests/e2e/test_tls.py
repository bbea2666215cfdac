#!/usr/bin/python3
"""test_tls.py - HTTPS (--http-cert, --http-key) of a real flowtally (issue 8).

The certificates are made by OpenSSL (`openssl req -x509`, a tool we did not
write), the clients are Python's ssl module (OpenSSL, certificate and host
name verified against that certificate) and curl --cacert (GnuTLS or OpenSSL,
its own verification).

Cases:
  serve      flowgen sends NetFlow v5 to a flowtally serving HTTPS only:
             /healthz and /api/v1/top?dimension=dst_port answer 200 over TLS
             (Python, verifying against the certificate, host 127.0.0.1
             from its subjectAltName) with /top's total bytes = flowgen's
             bytes_scaled; curl --cacert fetches /healthz and the page; a
             client trusting another certificate refuses the server
             (the server really presents ours); plain HTTP to the TLS port
             gets no HTTP answer; the log says https://; neither /metrics
             nor the log holds a byte of the key's PEM body.
  token      --http-token-file with TLS: /api/v1/top without the token is
             401 (WWW-Authenticate: Bearer), with it 200, /healthz 200
             without; curl with the header 200; the token is in no answer
             and no log line.
  refused    --http-cert without --http-key: exit 2 naming the missing
             option; a missing certificate file, a certificate given as the
             key, a key that does not match the certificate (GnuTLS'
             check) and a truncated certificate: exit 1 with a message
             naming the option (and the file where it is ours to tell);
             a key readable by all is warned about (the server starts).

Needs: $FLOWTALLY, $FT_BUILD_DIR/flowgen, openssl, curl. Exit 77 without them.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402

failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    if case not in failures:
        print("ok %s: %s" % (case, msg))


def make_cert(tmp, name):
    key, cert = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=flowtally test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


class Ft:
    def __init__(self, binary, tmp, name, args):
        self.out = open(os.path.join(tmp, name + ".out"), "wb")
        cmd = [binary, "--listen", "netflow://127.0.0.1:0", "--http", "127.0.0.1:0"] + list(args)
        self.p = ftlib.start(cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = ftlib.LineReader(self.p.stderr)
        m = self.err.wait_for(r"serving on https://127\.0\.0\.1:(\d+)", 15)
        if not m:
            ftlib.stop(self.p, signal.SIGKILL)
            raise RuntimeError("%s: no 'serving on https://' line:\n%s" % (name, self.err.text()))
        self.http = int(m.group(1))
        self.port = int(self.err.wait_for(r"listening on netflow://127\.0\.0\.1:(\d+)", 15).group(1))

    def stop(self):
        rc = ftlib.stop(self.p, signal.SIGTERM, 30.0)
        self.err.join()
        self.out.close()
        return rc, self.err.text()


def https(port, path, cafile, headers=None):
    ctx = ssl.create_default_context(cafile=cafile)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def curl(args):
    r = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}"] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    body, _, code = r.stdout.decode("utf-8", "replace").rpartition("\n")
    return r.returncode, code, body, r.stderr.decode()


def pem_body_lines(path):
    return [ln for ln in open(path).read().splitlines() if ln and not ln.startswith("-----")]


def case_serve(binary, tmp):
    case = "serve"
    cert, key = make_cert(tmp, "server")
    other, _ = make_cert(tmp, "other")
    ft = Ft(binary, tmp, "serve", ["--db", os.path.join(tmp, "serve.db"), "--http-cert", cert, "--http-key", key])
    fg = subprocess.run([os.path.join(os.environ["FT_BUILD_DIR"], "flowgen"), "--target",
                         "127.0.0.1:%d" % ft.port, "--proto", "v5", "--count", "300", "--rate", "20000"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
    sent = json.loads(fg.stdout.decode().strip().splitlines()[-1])
    st, _h, body = https(ft.http, "/healthz", cert)
    if st != 200 or json.loads(body) != {"status": "ok"}:
        fail(case, "/healthz over TLS: %d %r" % (st, body[:200]))
    total = None
    end = time.monotonic() + 10
    while time.monotonic() < end:
        st, _h, body = https(ft.http, "/api/v1/top?dimension=dst_port", cert)
        total = json.loads(body).get("total", {}).get("bytes") if st == 200 else None
        if total == sent["bytes_scaled"]:
            break
        time.sleep(0.2)
    if total != sent["bytes_scaled"]:
        fail(case, "/api/v1/top over TLS: status %d, total bytes %r, flowgen sent %d" %
             (st, total, sent["bytes_scaled"]))
    rc, code, body, err = curl(["--cacert", cert, "https://127.0.0.1:%d/healthz" % ft.http])
    if rc != 0 or code != "200":
        fail(case, "curl --cacert /healthz: rc %d code %s %s" % (rc, code, err))
    rc, code, body, err = curl(["--cacert", cert, "https://localhost:%d/" % ft.http])
    if rc != 0 or code != "200" or "<html" not in body.lower():
        fail(case, "curl --cacert the page: rc %d code %s %s" % (rc, code, err))
    # A client that trusts another certificate refuses the server.
    try:
        https(ft.http, "/healthz", other)
        fail(case, "a client trusting another certificate accepted the server")
    except ssl.SSLCertVerificationError:
        pass
    rc, code, body, err = curl(["--cacert", other, "https://127.0.0.1:%d/healthz" % ft.http])
    if rc == 0:
        fail(case, "curl trusting another certificate got %s" % code)
    # Plain HTTP to the TLS port: no HTTP answer.
    plain = None
    try:
        c = http.client.HTTPConnection("127.0.0.1", ft.http, timeout=5)
        c.request("GET", "/healthz")
        plain = c.getresponse().status
    except (http.client.HTTPException, ConnectionError, socket.timeout, OSError):
        pass
    if plain is not None:
        fail(case, "plain HTTP to the TLS port got status %r" % plain)
    st, _h, metrics = https(ft.http, "/metrics", cert)
    rc, log = ft.stop()
    secret = pem_body_lines(key)
    leaks = [s for s in secret if s.encode() in metrics or s in log]
    if st != 200 or leaks:
        fail(case, "/metrics %d; key PEM lines in /metrics or the log: %d" % (st, len(leaks)))
    if rc != 0:
        fail(case, "exit status %d" % rc)
    ok(case, "HTTPS only: /healthz, /top (= flowgen's %d bytes), the page via Python ssl and curl --cacert; "
       "another CA refused; plain HTTP unanswered; no key bytes in /metrics or the log" % sent["bytes_scaled"])


def case_token(binary, tmp):
    case = "token"
    cert, key = make_cert(tmp, "tok")
    token = "s3cr3t-" + os.urandom(12).hex()
    tf = os.path.join(tmp, "token")
    with open(tf, "w") as f:
        f.write(token + "\n")
    os.chmod(tf, 0o600)
    ft = Ft(binary, tmp, "token", ["--db", "off", "--http-cert", cert, "--http-key", key, "--http-token-file", tf])
    answers = []
    st, h, body = https(ft.http, "/api/v1/exporters", cert)
    answers.append(body)
    if st != 401 or not h.get("www-authenticate", "").startswith("Bearer"):
        fail(case, "no token over TLS: %d %r" % (st, h.get("www-authenticate")))
    st, h, body = https(ft.http, "/api/v1/exporters", cert, {"Authorization": "Bearer " + token})
    answers.append(body)
    if st != 200:
        fail(case, "the right token over TLS: %d %r" % (st, body[:200]))
    st, h, body = https(ft.http, "/healthz", cert)
    if st != 200:
        fail(case, "/healthz without the token: %d" % st)
    rc, code, body, err = curl(["--cacert", cert, "-H", "Authorization: Bearer " + token,
                                "https://127.0.0.1:%d/metrics" % ft.http])
    answers.append(body.encode())
    if rc != 0 or code != "200":
        fail(case, "curl with the token: rc %d code %s %s" % (rc, code, err))
    rc, code, body, err = curl(["--cacert", cert, "https://127.0.0.1:%d/metrics" % ft.http])
    if code != "401":
        fail(case, "curl without the token: %s" % code)
    rc, log = ft.stop()
    if any(token.encode() in a for a in answers) or token in log:
        fail(case, "the token appears in an answer or the log")
    ok(case, "over TLS: 401 without the bearer token, 200 with it, /healthz open; the token never echoed")


def run_fail(binary, args):
    r = subprocess.run([binary, "--listen", "netflow://127.0.0.1:0", "--db", "off", "--http", "127.0.0.1:0"] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stderr.decode()


def case_refused(binary, tmp):
    case = "refused"
    cert, key = make_cert(tmp, "a")
    _cert2, key2 = make_cert(tmp, "b")
    checks = [
        (["--http-cert", cert], 2, r"--http-cert needs --http-key"),
        (["--http-key", key], 2, r"--http-key needs --http-cert"),
        (["--http-cert", os.path.join(tmp, "nope.crt"), "--http-key", key], 1,
         r"--http-cert %s: No such file or directory" % re.escape(os.path.join(tmp, "nope.crt"))),
        (["--http-cert", cert, "--http-key", cert], 1,
         r"--http-key %s: no PEM private key in it" % re.escape(cert)),
        (["--http-cert", key, "--http-key", key], 1, r"--http-cert %s: no PEM certificate in it" % re.escape(key)),
        (["--http-cert", cert, "--http-key", key2], 1,
         r"cannot start the HTTPS server on https://127\.0\.0\.1:\d+: the certificate \(--http-cert\) or the key "
         r"\(--http-key\) was refused: \S"),
    ]
    trunc = os.path.join(tmp, "trunc.crt")
    lines = open(cert).read().splitlines()
    with open(trunc, "w") as f:
        f.write("\n".join(lines[:3] + lines[-1:]) + "\n")
    checks.append((["--http-cert", trunc, "--http-key", key], 1, r"the certificate \(--http-cert\) or the key "
                   r"\(--http-key\) was refused"))
    for args, want_rc, rx in checks:
        rc, err = run_fail(binary, args)
        if rc != want_rc or not re.search(rx, err):
            fail(case, "%r: exit %d (want %d), stderr %r lacks %r" % (args, rc, want_rc, err[-400:], rx))
        for s in pem_body_lines(key) + pem_body_lines(key2):
            if s in err:
                fail(case, "%r: key bytes in the message" % args)
    os.chmod(key, 0o644)
    ft = Ft(binary, tmp, "open_key", ["--db", "off", "--http-cert", cert, "--http-key", key])
    rc, log = ft.stop()
    if not re.search(r"--http-key %s can be read by every user \(mode 0644\)" % re.escape(key), log):
        fail(case, "no warning for a key readable by all:\n%s" % log[-1000:])
    ok(case, "missing option (exit 2), missing file, certificate as key, key as certificate, mismatched key, "
       "truncated certificate (exit 1, named); a key readable by all is warned about")


CASES = [("serve", case_serve), ("token", case_token), ("refused", case_refused)]


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    missing = [t for t in ("openssl", "curl") if not shutil.which(t)]
    if not os.path.exists(os.path.join(os.environ.get("FT_BUILD_DIR", ""), "flowgen")):
        missing.append("flowgen (FT_BUILD_DIR)")
    if missing:
        print("SKIP: missing %s (apt-get install openssl curl)" % ", ".join(missing))
        return ftlib.SKIP
    only = sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="ft-tls-", dir=os.environ.get("FT_BUILD_DIR"))
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
    print("all TLS cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
