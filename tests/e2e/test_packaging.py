#!/usr/bin/python3
"""test_packaging.py - packaging/flowtally.service, Dockerfile, docker-compose.yml.

No image can be pulled or run here, so each file is checked by the tools
that read it, and its flowtally command line by flowtally itself:

  unit      `systemd-analyze verify` accepts the unit (binary path pointed at
            the build) with no message at all; `systemd-analyze security
            --offline=yes` rates its exposure at most 2.0 ("OK"); the
            hardening the issue asks for is set (NoNewPrivileges,
            ProtectSystem=strict, an empty CapabilityBoundingSet ...); the
            ExecStart options (with FLOWTALLY_OPTS expanded) parse, with
            its --config /etc/flowtally/flowtally.conf read from
            packaging/flowtally.conf (which must parse too); ExecReload
            sends SIGHUP.
            Skipped with a message without systemd-analyze.
  compose   the YAML parses (python3-yaml), it has kafka (KRaft: process
            roles broker,controller) and flowtally, the issue's ports
            published (2055/udp, 4739/udp, 6343/udp, 8080), the database and
            GeoIP in volumes; flowtally's command parses; and, when Debian's
            docker-compose is installed, `docker-compose config -q` accepts
            the file (no Docker engine needed).
  docker    Dockerfile: two Debian 12 slim stages, the run stage ends as a
            non-root USER, every apt package exists in Debian 12's index
            (apt-cache show), the build packages equal scripts/deps.sh's run
            set, and the CMD's options parse.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
failures = []


def fail(case, msg):
    failures.append(case)
    print("FAIL %s: %s" % (case, msg))


def ok(case, msg):
    print("ok %s: %s" % (case, msg))


def options_parse(case, binary, args, what):
    """flowtally parses and checks every option (ft_config_finish) before it
    acts on --help: exit 0 means the command line is valid."""
    r = subprocess.run([binary] + list(args) + ["--help"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=30)
    if r.returncode != 0:
        fail(case, "%s: flowtally rejects %r: %s" % (what, args, r.stderr.decode()[-500:]))
        return False
    return True


def case_unit(binary):
    case = "unit"
    path = os.path.join(ROOT, "packaging", "flowtally.service")
    text = open(path).read()
    keys = {}
    for ln in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", ln)
        if m:
            keys.setdefault(m.group(1), []).append(m.group(2))
    want = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
            "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes", "RestrictNamespaces": "yes",
            "SystemCallFilter": "@system-service", "StateDirectory": "flowtally",
            "ReadWritePaths": "/var/lib/flowtally"}
    for k, v in want.items():
        if v not in keys.get(k, []):
            fail(case, "%s=%s missing (has %r)" % (k, v, keys.get(k)))
    fams = keys.get("RestrictAddressFamilies", [""])[0].split()
    if not fams or "AF_PACKET" in fams or not {"AF_INET", "AF_INET6"} <= set(fams):
        fail(case, "RestrictAddressFamilies %r" % fams)
    # The command line: ExecStart with FLOWTALLY_OPTS expanded.
    env = re.search(r'^Environment="FLOWTALLY_OPTS=(.*)"$', text, re.M)
    cmd = shlex.split(keys["ExecStart"][0].replace("$FLOWTALLY_OPTS", env.group(1) if env else ""))
    if cmd[0] != "/usr/local/bin/flowtally":
        fail(case, "ExecStart runs %s" % cmd[0])
    conf = "/etc/flowtally/flowtally.conf"
    if cmd[1:3] != ["--config", conf]:
        fail(case, "ExecStart does not read %s: %r" % (conf, cmd[1:3]))
    cmd = [os.path.join(ROOT, "packaging", "flowtally.conf") if a == conf else a for a in cmd]
    if keys.get("ExecReload") != ["/bin/kill -HUP $MAINPID"]:
        fail(case, "ExecReload %r, want /bin/kill -HUP $MAINPID" % keys.get("ExecReload"))
    if options_parse(case, binary, cmd[1:], "ExecStart"):
        ok(case, "ExecStart options parse: %s" % " ".join(cmd[1:]))
    sa = shutil.which("systemd-analyze")
    if not sa:
        print("SKIP %s verify: systemd-analyze missing (apt-get install systemd)" % case)
        return
    tmp = tempfile.mkdtemp(prefix="ft-unit-")
    try:
        unit = os.path.join(tmp, "flowtally.service")
        with open(unit, "w") as fh:
            fh.write(text.replace("/usr/local/bin/flowtally", os.path.abspath(binary)))
        r = subprocess.run([sa, "verify", unit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        msg = r.stdout.decode().strip()
        if r.returncode != 0 or msg:
            fail(case, "systemd-analyze verify: rc %d: %s" % (r.returncode, msg[:2000]))
        else:
            ok(case, "systemd-analyze verify: clean")
        r = subprocess.run([sa, "security", "--offline=yes", unit], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        m = re.search(r"Overall exposure level for flowtally.service: ([0-9.]+)", r.stdout.decode())
        if not m:
            print("note %s: systemd-analyze security --offline unavailable: %s" % (case, r.stdout.decode()[-300:]))
        elif float(m.group(1)) > 2.0:
            fail(case, "exposure %s > 2.0:\n%s" % (m.group(1), r.stdout.decode()[-3000:]))
        else:
            ok(case, "systemd-analyze security: exposure %s" % m.group(1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_compose(binary):
    case = "compose"
    path = os.path.join(ROOT, "docker-compose.yml")
    try:
        import yaml
    except ImportError:
        yaml = None
        print("note %s: python3-yaml missing: structure not checked" % case)
    if yaml:
        with open(path) as fh:
            doc = yaml.safe_load(fh)
        svc = doc.get("services", {})
        if sorted(svc) != ["flowtally", "kafka"]:
            fail(case, "services %r" % sorted(svc))
            return
        env = svc["kafka"].get("environment", {})
        if env.get("KAFKA_PROCESS_ROLES") != "broker,controller" or "KAFKA_CONTROLLER_QUORUM_VOTERS" not in env:
            fail(case, "kafka is not a single KRaft node: %r" % env)
        ft = svc["flowtally"]
        ports = [str(p) for p in ft.get("ports", [])]
        for want in ("2055:2055/udp", "4739:4739/udp", "6343:6343/udp"):
            if want not in ports:
                fail(case, "port %s not published (%r)" % (want, ports))
        if not any(p.endswith("8080:8080") for p in ports):
            fail(case, "HTTP 8080 not published (%r)" % ports)
        vols = ft.get("volumes", [])
        if not any(v.endswith(":/var/lib/flowtally") for v in vols) or not any(":/geoip" in v for v in vols):
            fail(case, "volumes %r: want the database and GeoIP" % vols)
        cmd = ft.get("command", [])
        if "--kafka-brokers" not in cmd or cmd[cmd.index("--kafka-brokers") + 1] != "kafka:9092":
            fail(case, "flowtally is not wired to kafka:9092: %r" % cmd)
        if options_parse(case, binary, cmd, "compose command"):
            ok(case, "YAML structure as the issue asks; flowtally's command parses")
    dc = shutil.which("docker-compose")
    if not dc:
        print("SKIP %s config: docker-compose missing (apt-get install docker-compose)" % case)
        return
    r = subprocess.run([dc, "-f", path, "config", "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120, cwd=ROOT)
    if r.returncode != 0:
        fail(case, "docker-compose config -q: rc %d: %s" % (r.returncode, r.stdout.decode()[-2000:]))
    else:
        ok(case, "docker-compose config -q: valid")


def dockerfile_stages(text):
    """[(base, [lines])] of a Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages = []
    for ln in joined.splitlines():
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        if s.upper().startswith("FROM "):
            stages.append((s.split()[1], []))
        elif stages:
            stages[-1][1].append(s)
    return stages


def apt_packages(lines):
    pk = []
    for ln in lines:
        m = re.search(r"apt-get install (.*?)(?:&&|$)", ln)
        if m:
            pk += [w for w in m.group(1).split() if not w.startswith("-")]
    return pk


def case_docker(binary):
    case = "docker"
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    stages = dockerfile_stages(text)
    if len(stages) != 2 or any(b != "debian:12-slim" for b, _ in stages):
        fail(case, "stages %r: want two debian:12-slim" % [b for b, _ in stages])
        return
    users = [ln.split()[1] for ln in stages[1][1] if ln.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        fail(case, "the run stage does not end as a non-root user: %r" % users)
    build_pk, run_pk = apt_packages(stages[0][1]), apt_packages(stages[1][1])
    deps = open(os.path.join(ROOT, "scripts", "deps.sh")).read()
    run_set = []
    for m in re.finditer(r"^run_pkgs\+?=\((.*)\)", deps, re.M):
        run_set += m.group(1).split()
    if sorted(build_pk) != sorted(run_set):
        fail(case, "build stage packages %r != scripts/deps.sh run set %r" % (sorted(build_pk), sorted(run_set)))
    if shutil.which("apt-cache"):
        missing = [p for p in build_pk + run_pk
                   if subprocess.run(["apt-cache", "show", p], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL).returncode != 0]
        if missing:
            fail(case, "not in this system's (Debian 12) package index: %r" % missing)
    else:
        print("note %s: apt-cache missing: package names not checked" % case)
    cmd = [ln for ln in stages[1][1] if ln.upper().startswith("CMD ")]
    if cmd and options_parse(case, binary, json.loads(cmd[-1][4:]), "Dockerfile CMD"):
        ok(case, "2 Debian 12 slim stages, runs as %s, %d + %d packages known, CMD parses" %
           (users[-1], len(build_pk), len(run_pk)))


def main():
    binary = os.environ.get("FLOWTALLY")
    if not binary:
        print("FLOWTALLY must name the flowtally binary")
        return 1
    for fn in (case_unit, case_compose, case_docker):
        try:
            fn(binary)
        except Exception as e:  # a harness error is a failure, with its trace
            import traceback
            traceback.print_exc()
            fail(fn.__name__, repr(e))
    if failures:
        print("%d failure(s): %s" % (len(failures), sorted(set(failures))))
        return 1
    print("all packaging checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
