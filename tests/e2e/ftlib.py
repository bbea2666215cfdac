"""ftlib.py - shared harness for the real-exporter tests (test_softflowd.py,
test_pmacctd.py, test_pmacctd_sflow.py): start flowtally and wait for its
listener, capture export packets on loopback with tcpdump, decode them with
tshark (the oracle: TsharkDecode for NetFlow/IPFIX, SflowDecode for sFlow v5),
turn tshark's decode into the records flowtally must print (--print JSON, see
../../notes COMMON.md) and compare both field by field; run_case does one
exporter end to end, with the protocol's own checks in NetflowProfile or
SflowProfile.

Only the standard library; runs with Debian's /usr/bin/python3.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

# Tool -> Debian package that installs it (for the skip message).
TOOLS = {
    "tshark": "tshark",
    "tcpdump": "tcpdump",
    "softflowd": "softflowd",
    "softflowctl": "softflowd",
    "pmacctd": "pmacct",
}

SKIP = 77


def missing_tools(names):
    """Returns 'tool (apt package)' strings for the tools not on PATH (or /usr/sbin)."""
    out = []
    for n in names:
        if shutil.which(n) is None and shutil.which(n, path="/usr/sbin:/sbin") is None:
            out.append("%s (apt-get install %s)" % (n, TOOLS.get(n, n)))
    try:
        import scapy  # noqa: F401
    except ImportError:
        out.append("python3 scapy (apt-get install python3-scapy)")
    return out


def which(n):
    return shutil.which(n) or shutil.which(n, path="/usr/sbin:/sbin") or n


def pmacctd_savefile_rc(rc, log, notes):
    """pmacctd's exit status after a pcap_savefile run. At the end of the file
    its core flushes the pipe, sleeps 2 s, signals the plugins and waits for
    them; when its SIGCHLD handler runs first it logs "connection lost to
    ..." and "no more plugins active. Shutting down." and exits 1 (a race in
    pmacct 1.7.7's own shutdown, seen with nfprobe and sfprobe). That is the
    normal end of the run: 0 then (with a note); any other status as is.
    What the plugin exported is checked against the capture anyway."""
    if rc == 1 and re.search(r"WARN \( \S+/core \): no more plugins active\. Shutting down\.", log) \
            and not re.search(r"^ERROR", log, re.M):
        notes.append("pmacctd exited 1 after 'no more plugins active' (its plugin ended first at the end of the "
                     "savefile)")
        return 0
    return rc


# --------------------------------------------------------------------------
# Processes: every process we start is registered and ended (by its pid) in
# cleanup(), so a failing case never leaves anything behind.

_procs = []


def start(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10.0):
    """Signals p (if still running) and waits; SIGKILL after timeout. Returns rc."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def cleanup():
    for p in _procs:
        if p.poll() is None:
            stop(p, signal.SIGTERM, 3.0)
    del _procs[:]


class LineReader:
    """Collects a pipe's lines on a thread; wait_for(regex) blocks until one matches."""

    def __init__(self, pipe, echo_prefix=None):
        self.lines = []
        self.cv = threading.Condition()
        self.eof = False
        self.t = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self.t.start()

    def _run(self, pipe):
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def wait_for(self, regex, timeout):
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        with self.cv:
            i = 0
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = end - time.monotonic()
                if self.eof or left <= 0:
                    return None
                self.cv.wait(left)

    def join(self, timeout=5.0):
        """Waits for end of file: every process holding the pipe has exited."""
        self.t.join(timeout)
        return self.eof

    def text(self):
        with self.cv:
            return "\n".join(self.lines)


# --------------------------------------------------------------------------
# Capture of the export packets on loopback.

class Capture:
    """tcpdump -i lo of UDP packets to one port, written unbuffered (-U) to path."""

    def __init__(self, path, port):
        self.path = path
        self.port = port
        # --immediate-mode: without it libpcap (TPACKET_V3) hands tcpdump
        # packets in ring blocks, and packets of a block not yet handed over
        # when tcpdump is stopped are never written. -B 32 MiB: the live cases
        # put ~1000 packets/s on lo, and a loaded CI machine must not make
        # the kernel drop export packets before tcpdump reads them.
        self.p = start([which("tcpdump"), "-i", "lo", "-n", "--immediate-mode", "-U", "-B", "32768", "-s", "0", "-w", path,
                        "udp and dst port %d" % port],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.err = LineReader(self.p.stderr)
        if not self.err.wait_for(r"listening on lo", 10):
            raise RuntimeError("tcpdump did not start: %s" % self.err.text())
        # tcpdump prints "listening" just before its capture loop; give the
        # kernel a moment to attach the socket filter before traffic starts.
        time.sleep(0.2)

    def packets_so_far(self):
        """Number of packets in the (unbuffered) capture file so far."""
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except OSError:
            return 0
        n, off = 0, 24
        while off + 16 <= len(data):
            incl = int.from_bytes(data[off + 8:off + 12], "little")
            if off + 16 + incl > len(data):
                break
            off += 16 + incl
            n += 1
        return n

    def wait_quiet(self, quiet=0.5, timeout=10.0):
        """Waits until no packet was added for `quiet` seconds."""
        end = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < end:
            n = self.packets_so_far()
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
            time.sleep(0.1)
        return last

    def wait_count(self, n, timeout=10.0):
        """Waits until the capture file holds at least n packets."""
        end = time.monotonic() + timeout
        while self.packets_so_far() < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.packets_so_far()

    def stop(self):
        """Stops tcpdump; returns (captured, dropped_by_kernel)."""
        stop(self.p, signal.SIGINT)
        self.err.join()
        txt = self.err.text()
        cap = re.search(r"(\d+) packets? captured", txt)
        drop = re.search(r"(\d+) packets? dropped by kernel", txt)
        return (int(cap.group(1)) if cap else -1, int(drop.group(1)) if drop else -1)



def send_udp_flows(tport, n_flows, pkts_per_flow, gap, socks):
    """Live traffic on loopback: n_flows UDP flows to 127.0.0.1:tport, one
    source socket each (appended to socks, which the caller closes), of
    pkts_per_flow datagrams with payloads of 10..509 bytes, gap seconds
    between flows. Returns (truth, packets sent, t0, t1): truth is the ground
    truth per 5-tuple (IPv4 total lengths = 20 + 8 + payload)."""
    truth, n_pkts = [], 0
    t0 = time.time()
    for i in range(n_flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        nbytes = 0
        for k in range(pkts_per_flow):
            size = 10 + (i * 37 + k * 101) % 500
            s.sendto(bytes(size), ("127.0.0.1", tport))
            nbytes += 20 + 8 + size
        truth.append({"family": 4, "src": "127.0.0.1", "dst": "127.0.0.1", "proto": 17,
                      "src_port": s.getsockname()[1], "dst_port": tport,
                      "packets": pkts_per_flow, "bytes": nbytes})
        n_pkts += pkts_per_flow
        time.sleep(gap)
    return truth, n_pkts, t0, time.time()

# --------------------------------------------------------------------------
# flowtally

class Flowtally:
    """flowtally --listen SCHEME://127.0.0.1:0 --print --stats, stdout to a
    file; scheme "netflow" or "sflow" (any listener decodes any protocol; the
    scheme only names it)."""

    def __init__(self, binary, workdir, name, extra=(), scheme="netflow"):
        self.out_path = os.path.join(workdir, name + ".flowtally.jsonl")
        self.out = open(self.out_path, "wb")
        # --db off: decode tests stay hermetic (no flowtally.db in the working
        # directory shared with other tests, no decode state loaded from it).
        self.cmd = [binary, "--listen", scheme + "://127.0.0.1:0", "--print", "--stats", "--db", "off", "--http", "off",
                    "--log-level", "info"] + list(extra)
        self.p = start(self.cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = LineReader(self.p.stderr)
        m = self.err.wait_for(r"listening on " + scheme + r"://127\.0\.0\.1:(\d+)", 15)
        if not m:
            stop(self.p, signal.SIGKILL)
            raise RuntimeError("flowtally did not report its listener (%s):\n%s" %
                               (" ".join(self.cmd), self.err.text()))
        self.port = int(m.group(1))
        self.rc = None

    def count(self):
        with open(self.out_path, "rb") as fh:
            return fh.read().count(b"\n")

    def wait_records(self, n, timeout=10.0, quiet=0.3):
        """Waits until at least n records were printed and the count is stable
        for `quiet` s (or timeout; flowtally may buffer stdout until exit)."""
        end = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < end and self.p.poll() is None:
            c = self.count()
            if c != last:
                last, since = c, time.monotonic()
            elif c >= n and time.monotonic() - since >= quiet:
                return c
            time.sleep(0.05)
        return self.count()

    def stop(self):
        """SIGTERM; returns (records, stats, stderr text, rc)."""
        self.rc = stop(self.p, signal.SIGTERM, 15.0)
        self.err.join()
        self.out.close()
        with open(self.out_path.replace(".jsonl", ".stderr"), "w") as fh:
            fh.write(self.err.text())
        recs, bad = [], []
        with open(self.out_path, "r", encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh):
                line = line.strip()
                if not line:
                    continue
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    bad.append("stdout line %d is not JSON: %r" % (i + 1, line[:200]))
        stats = []
        for line in self.err.text().splitlines():
            if line.startswith("{"):
                try:
                    stats.append(json.loads(line))
                except ValueError:
                    bad.append("stats line is not JSON: %r" % line[:200])
        return recs, stats, self.err.text(), self.rc, bad


class UdpSink:
    """Stands in for flowtally when none is given: binds an ephemeral
    127.0.0.1 port and counts datagrams (so exporters get no ICMP errors)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]
        self.n = 0
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            try:
                self.s.recv(65535)
                self.n += 1
            except socket.timeout:
                pass

    def stop(self):
        self.running = False
        self.t.join()
        self.s.close()
        return self.n


# --------------------------------------------------------------------------
# tshark decode -> expected flowtally records

# Every key of flowtally's --print JSON (COMMON.md) and its "absent" value.
ADDR_KEYS = ("sampler_address", "src_addr", "dst_addr", "next_hop", "bgp_next_hop",
             "src_addr_encap", "dst_addr_encap")
MAC_KEYS = ("src_mac", "dst_mac")
BOOL_KEYS = ("has_mpls", "has_encap", "has_ppp")
STR_KEYS = ("type", "src_country", "dst_country")
INT_KEYS = (
    "time_received_ns", "sequence_num", "sampling_rate", "flow_direction", "observation_domain_id",
    "observation_point_id", "time_flow_start_ns", "time_flow_end_ns", "bytes", "packets", "etype",
    "proto", "src_port", "dst_port", "in_if", "out_if", "src_vlan", "dst_vlan", "vlan_id",
    "ingress_vrf_id", "egress_vrf_id", "ip_tos", "forwarding_status", "ip_ttl", "ip_flags",
    "tcp_flags", "icmp_type", "icmp_code", "ipv6_flow_label", "fragment_id", "fragment_offset",
    "bi_flow_direction", "src_as", "dst_as", "next_hop_as", "src_net", "dst_net", "mpls_count",
    "mpls_1_ttl", "mpls_1_label", "mpls_2_ttl", "mpls_2_label", "mpls_3_ttl", "mpls_3_label",
    "mpls_last_ttl", "mpls_last_label", "proto_encap", "etype_encap", "ip_tos_encap",
    "ip_ttl_encap", "ipv6_flow_label_encap", "fragment_id_encap", "fragment_offset_encap",
    "ppp_address_control")
ALL_KEYS = ADDR_KEYS + MAC_KEYS + BOOL_KEYS + STR_KEYS + INT_KEYS + ("as_path",)

# Keys compared loosely (see compare()): time_received_ns against the capture.
LOOSE_KEYS = ("time_received_ns",)


def blank_record():
    r = {}
    for k in ADDR_KEYS:
        r[k] = ""
    for k in MAC_KEYS:
        r[k] = "00:00:00:00:00:00"
    for k in BOOL_KEYS:
        r[k] = False
    for k in STR_KEYS:
        r[k] = ""
    for k in INT_KEYS:
        r[k] = 0
    r["as_path"] = []
    return r


def dec_ns(s):
    """'88.463000000' (tshark seconds) -> 88463000000 ns, exactly."""
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    whole, _, frac = s.partition(".")
    v = int(whole or "0") * 10**9 + int((frac + "000000000")[:9])
    return -v if neg else v


_MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"], 1)}


def abs_ns(s):
    """tshark absolute time 'Nov 14, 2023 22:13:42.685000000 UTC' -> ns since the epoch."""
    m = re.match(r"(\w{3})\s+(\d+), (\d+) (\d+):(\d+):(\d+)(?:\.(\d+))? UTC$", s.strip())
    if not m:
        raise ValueError("unparsed tshark time %r" % s)
    mon, day, year, hh, mm, ss, frac = m.groups()
    secs = calendar.timegm((int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    return secs * 10**9 + int(((frac or "") + "000000000")[:9])


def _pairs(pairs):
    """JSON object hook keeping repeated keys (tshark repeats a key when a
    field occurs twice): the value becomes a list tagged _DUP."""
    d = {}
    for k, v in pairs:
        if k in d:
            prev = d[k]
            d[k] = _Dup(prev + [v]) if isinstance(prev, _Dup) else _Dup([prev, v])
        else:
            d[k] = v
    return d


class _Dup(list):
    pass


def _int(v):
    return int(v, 16) if isinstance(v, str) and v.startswith("0x") else int(v)


def _mac(v):
    return v.split(" ")[0].lower()


def _flat(rec):
    """Flattens a tshark 'Flow N' object (subtrees like timedelta_tree) into field -> value."""
    out = {}
    for k, v in rec.items():
        if isinstance(v, dict):
            if k.endswith("_tree"):
                if k == "cflow.tcpflags_tree":
                    continue
                out.update(_flat(v))
            else:
                out.update(_flat(v))
        else:
            out[k] = v
    return out


# tshark fields with no flowtally counterpart, or handled separately.
_IGNORED = {"cflow.timedelta", "cflow.flow_end_reason", "cflow.padding", "cflow.timestart",
            "cflow.timeend", "cflow.abstimestart", "cflow.abstimeend", "cflow.ip_version",
            "cflow.icmp_type_code_ipv4", "cflow.icmp_ipv6_type", "cflow.icmp_ipv6_code",
            "cflow.icmp_ipv4_type", "cflow.icmp_ipv4_code", "cflow.srcmac", "cflow.dstmac",
            "cflow.post_dstmac", "cflow.post_srcmac", "cflow.vlanid", "cflow.post_vlanid",
            "cflow.octets", "cflow.packets", "cflow.post_octets", "cflow.post_packets"}

# tshark field -> (flowtally key, converter) for the simple one-to-one fields.
_SIMPLE = {
    "cflow.srcaddr": ("src_addr", str), "cflow.srcaddrv6": ("src_addr", str),
    "cflow.dstaddr": ("dst_addr", str), "cflow.dstaddrv6": ("dst_addr", str),
    "cflow.srcport": ("src_port", int), "cflow.dstport": ("dst_port", int),
    "cflow.protocol": ("proto", int), "cflow.tcpflags": ("tcp_flags", _int),
    "cflow.tos": ("ip_tos", _int), "cflow.inputint": ("in_if", int),
    "cflow.outputint": ("out_if", int), "cflow.direction": ("flow_direction", int),
    "cflow.nexthop": ("next_hop", str), "cflow.srcas": ("src_as", int),
    "cflow.dstas": ("dst_as", int), "cflow.srcmask": ("src_net", int),
    "cflow.dstmask": ("dst_net", int), "cflow.ipv6flowlabel": ("ipv6_flow_label", int),
}


class TsharkDecode:
    """The records of a capture of NetFlow v5/v9/IPFIX export packets, as
    decoded by tshark, converted to the records flowtally must print.

    .records: list of expected records (dicts with every --print key; the
              extra key '_where' says 'frame F record R').
    .frames:  list of per-packet dicts: frame, time_ns, version, count,
              sequence, records (data records), option_records.
    .errors:  harness-side problems (unknown tshark fields...).
    """

    def __init__(self, pcap, port):
        cmd = [which("tshark"), "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "json",
               "-J", "frame ip ipv6 udp cflow"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("tshark failed: %s" % p.stderr.decode()[:2000])
        data = json.loads(p.stdout.decode("utf-8", "replace") or "[]", object_pairs_hook=_pairs)
        self.records, self.frames, self.errors = [], [], []
        # Per (exporter, observation domain): IPFIX systemInitTimeMilliseconds
        # and the sampling rate announced in options data; and which template
        # ids are options templates (their data records are not flows).
        self.init_ns, self.rate, self.opt_tmpl, self.tmpl = {}, {}, {}, {}
        for pkt in data:
            self._packet(pkt["_source"]["layers"])

    def _packet(self, L):
        frame = int(L["frame"]["frame.number"])
        t_ns = dec_ns(L["frame"]["frame.time_epoch"])
        src = L["ip"]["ip.src"] if "ip" in L else L["ipv6"]["ipv6.src"]
        cf = L.get("cflow")
        if cf is None:
            self.errors.append("frame %d: tshark found no cflow layer" % frame)
            return
        ver = int(cf["cflow.version"])
        hdr = blank_record()
        hdr["sampler_address"] = src
        hdr["sequence_num"] = int(cf["cflow.sequence"])
        hdr["time_received_ns"] = t_ns
        fi = {"frame": frame, "time_ns": t_ns, "version": ver, "sequence": int(cf["cflow.sequence"]),
              "records": 0, "option_records": 0, "templates": 0, "src": src, "domain": 0,
              "udp_payload": int(L["udp"]["udp.length"]) - 8,
              "count": int(cf["cflow.count"]) if "cflow.count" in cf else None}
        self.frames.append(fi)
        if ver == 5:
            hdr["type"] = "NETFLOW_V5"
            up_ns = dec_ns(cf["cflow.sysuptime"])
            exp_ns = int(cf["cflow.timestamp_tree"]["cflow.unix_secs"]) * 10**9 + \
                int(cf["cflow.timestamp_tree"]["cflow.unix_nsecs"])
            # v5 header: sampling interval in the low 14 bits; 0 = unsampled/unknown -> 1.
            rate = int(cf.get("cflow.samplerate", "0")) & 0x3FFF
            hdr["sampling_rate"] = rate if rate else 1
            fi["boot_ms"] = exp_ns // 10**6 - up_ns // 10**6
            fi["uptime_ms"] = up_ns // 10**6
            n = 0
            for k, v in cf.items():
                if not k.startswith("pdu "):
                    continue
                n += 1
                f = _flat(v)
                r = dict(hdr)
                self._fields(r, f, frame, n)
                # v5 times: export time - (sysUptime - First/Last) ms (RFC-less Cisco format).
                r["time_flow_start_ns"] = exp_ns - self._s32(up_ns - dec_ns(f["cflow.timestart"]))
                r["time_flow_end_ns"] = exp_ns - self._s32(up_ns - dec_ns(f["cflow.timeend"]))
                self._finish(r, f, None, frame, n)
            fi["records"] = n
            return
        if ver == 9:
            hdr["type"] = "NETFLOW_V9"
            dom = int(cf["cflow.source_id"])
            up_ns = dec_ns(cf["cflow.sysuptime"])
            exp_ns = int(cf["cflow.timestamp_tree"]["cflow.unix_secs"]) * 10**9
            fi["boot_ms"] = exp_ns // 10**6 - up_ns // 10**6
            fi["uptime_ms"] = up_ns // 10**6
            sets = [(k, v) for k, v in cf.items() if k.startswith("FlowSet ")]
        elif ver == 10:
            hdr["type"] = "IPFIX"
            dom = int(cf["cflow.od_id"])
            up_ns = None
            exp_ns = int(cf["cflow.timestamp_tree"]["cflow.exporttime"]) * 10**9
            sets = [(k, v) for k, v in cf.items() if k.startswith("Set ")]
        else:
            self.errors.append("frame %d: unexpected version %d" % (frame, ver))
            return
        hdr["observation_domain_id"] = dom
        fi["domain"] = dom
        key = (src, ver, dom)
        n = 0
        for sk, sv in sets:
            fsid = int(sv["cflow.flowset_id"])
            if fsid < 256:
                # Template / options template set: remember each template's
                # field types, and which ids are options templates.
                for tk, tv in sv.items():
                    if not isinstance(tv, dict) or "cflow.template_id" not in tv:
                        continue
                    tid = int(tv["cflow.template_id"])
                    types = []
                    for fk, fv in tv.items():
                        if isinstance(fv, dict) and fk.startswith("Field ") and "[Scope]" not in fk:
                            t = fv.get("cflow.template_field_type", fv.get("cflow.template_ipfix_field_type"))
                            if t is not None:
                                types.append(int(t))
                    self.tmpl[key + (tid,)] = types
                    fi["templates"] += 1
                    if tk.startswith("Options Template"):
                        self.opt_tmpl.setdefault(key, set()).add(tid)
                continue
            for rk, rv in sv.items():
                if not rk.startswith("Flow "):
                    continue
                f = _flat(rv)
                if fsid in self.opt_tmpl.get(key, ()):
                    fi["option_records"] += 1
                    self._options(key, f)
                    continue
                n += 1
                r = dict(hdr)
                r["sampling_rate"] = self.rate.get(key, 1)
                self._fields(r, f, frame, n)
                self._times(r, f, ver, key, self.tmpl.get(key + (fsid,), []), up_ns, exp_ns, frame, n)
                self._finish(r, f, None, frame, n)
        fi["records"] = n

    @staticmethod
    def _s32(d_ns):
        """Signed 32-bit millisecond difference (uptime wrap), in ns."""
        ms = d_ns // 10**6
        ms &= 0xFFFFFFFF
        if ms >= 1 << 31:
            ms -= 1 << 32
        return ms * 10**6

    def _options(self, key, f):
        if "cflow.sys_init_time" in f:
            self.init_ns[key] = abs_ns(f["cflow.sys_init_time"])
        if "cflow.sampling_interval" in f:
            v = int(f["cflow.sampling_interval"])
            self.rate[key] = v if v else 1
        if "cflow.sampling_packet_interval" in f:
            i = int(f["cflow.sampling_packet_interval"])
            s = int(f.get("cflow.sampling_packet_space", "0"))
            # RFC 7014 §... samplingPacketInterval/Space: 1 in (interval+space)/interval.
            self.rate[key] = (i + s) // i if i else 1

    def _times(self, r, f, ver, key, types, up_ns, exp_ns, frame, n):
        if not types:
            self.errors.append("frame %d record %d: template not seen before its data" % (frame, n))
            return
        if 22 in types or 21 in types:
            # sysUptime-relative FIRST/LAST_SWITCHED (v9 and IPFIX 22/21). tshark
            # shows a value of 0 as the absolute time 1970-01-01 00:00:00,
            # which abs_ns() turns back into the relative 0.
            def rel(name):
                v = f.get("cflow." + name, f.get("cflow.abs" + name))
                return dec_ns(v) if not v.endswith("UTC") else abs_ns(v)
            s_ns, e_ns = rel("timestart"), rel("timeend")
            if ver == 9:
                # RFC 3954: absolute = unix_secs*1000 - (int32)(sysUptime - SWITCHED) (COMMON.md).
                r["time_flow_start_ns"] = exp_ns - self._s32(up_ns - s_ns)
                r["time_flow_end_ns"] = exp_ns - self._s32(up_ns - e_ns)
            else:
                # IPFIX: relative to systemInitTimeMilliseconds (160) from options data.
                if key not in self.init_ns:
                    self.errors.append("frame %d record %d: IPFIX sysUpTime times but no systemInitTime seen"
                                       % (frame, n))
                    return
                r["time_flow_start_ns"] = self.init_ns[key] + s_ns
                r["time_flow_end_ns"] = self.init_ns[key] + e_ns
        elif set(types) & set(range(150, 158)):
            # Absolute flowStart/End {Seconds,Milli,Micro,Nano}seconds: tshark's value.
            r["time_flow_start_ns"] = abs_ns(f["cflow.abstimestart"])
            r["time_flow_end_ns"] = abs_ns(f["cflow.abstimeend"])
        elif set(types) & {158, 159}:
            self.errors.append("frame %d record %d: delta-microsecond times not handled by the harness"
                               % (frame, n))
        else:
            # No time at all: start = end = export time (COMMON.md).
            r["time_flow_start_ns"] = r["time_flow_end_ns"] = exp_ns

    def _fields(self, r, f, frame, n):
        for k, v in f.items():
            if isinstance(v, _Dup) and k not in _IGNORED:
                self.errors.append("frame %d record %d: field %s occurs %d times (harness can't map it)"
                                   % (frame, n, k, len(v)))
                continue
            if k in _SIMPLE:
                name, conv = _SIMPLE[k]
                r[name] = conv(v)
            elif k not in _IGNORED:
                self.errors.append("frame %d record %d: tshark field %s=%s not mapped by the harness"
                                   % (frame, n, k, v))

    def _finish(self, r, f, _unused, frame, n):
        # bytes/packets: IN_BYTES/octetDeltaCount else OUT_BYTES/postOctetDeltaCount (COMMON.md).
        r["bytes"] = int(f.get("cflow.octets", f.get("cflow.post_octets", "0")))
        r["packets"] = int(f.get("cflow.packets", f.get("cflow.post_packets", "0")))
        ver = f.get("cflow.ip_version")
        if ver is not None:
            r["etype"] = 0x0800 if ver == "4" else 0x86DD if ver == "6" else 0
        else:
            r["etype"] = 0x86DD if ":" in r["src_addr"] else 0x0800
        # ICMP type/code: 32 (type*256+code), 176/177, 178/179 (139 is shown as 178/179 by tshark).
        if "cflow.icmp_type_code_ipv4" in f:
            v = _int(f["cflow.icmp_type_code_ipv4"])
            r["icmp_type"], r["icmp_code"] = v >> 8, v & 0xFF
        elif "cflow.icmp_ipv4_type" in f:
            r["icmp_type"] = int(f["cflow.icmp_ipv4_type"])
            r["icmp_code"] = int(f.get("cflow.icmp_ipv4_code", "0"))
        elif "cflow.icmp_ipv6_type" in f:
            r["icmp_type"] = int(f["cflow.icmp_ipv6_type"])
            r["icmp_code"] = int(f.get("cflow.icmp_ipv6_code", "0"))
        elif r["proto"] in (1, 58):
            # No ICMP field: derived from the destination port (COMMON.md).
            r["icmp_type"], r["icmp_code"] = r["dst_port"] >> 8, r["dst_port"] & 0xFF
        # MACs: src = 56; dst = 57 (post) else 80. VLAN: 58 -> vlan_id and src_vlan, 59 -> dst_vlan.
        if "cflow.srcmac" in f:
            r["src_mac"] = _mac(f["cflow.srcmac"])
        elif "cflow.post_srcmac" in f:
            r["src_mac"] = None  # 81 alone: not specified by the contract; not compared
        if "cflow.post_dstmac" in f:
            r["dst_mac"] = _mac(f["cflow.post_dstmac"])
        elif "cflow.dstmac" in f:
            r["dst_mac"] = _mac(f["cflow.dstmac"])
        if "cflow.vlanid" in f:
            r["vlan_id"] = r["src_vlan"] = int(f["cflow.vlanid"])
        if "cflow.post_vlanid" in f:
            r["dst_vlan"] = int(f["cflow.post_vlanid"])
        r["_where"] = "frame %d record %d" % (frame, n)
        self.records.append(r)


# --------------------------------------------------------------------------
# Comparison

def _norm(k, v):
    if k in ADDR_KEYS:
        v = v or ""
        if v in ("0.0.0.0", "::", "::ffff:0.0.0.0"):
            return ""
        return v.lower()
    if k in MAC_KEYS:
        return (v or "00:00:00:00:00:00").lower()
    return v


IDENT = ("type", "sequence_num", "src_addr", "dst_addr", "proto", "src_port", "dst_port")


def _ident(r):
    return tuple(_norm(k, r.get(k)) for k in IDENT)


def _order(r):
    return tuple(str(_norm(k, r.get(k))) for k in ("time_flow_start_ns", "time_flow_end_ns", "bytes",
                                                   "packets", "tcp_flags", "ip_tos", "flow_direction"))


def compare(expected, got, recv_slack_ns=5 * 10**9):
    """Matches records one to one (by type, sequence, 5-tuple; ties by times
    and counters) and compares every --print key. Returns a list of errors."""
    errs = []
    for i, g in enumerate(got):
        miss = [k for k in ALL_KEYS if k not in g]
        if miss:
            errs.append("flowtally record %d lacks keys %s" % (i + 1, ",".join(miss)))
    groups = {}
    for r in expected:
        groups.setdefault(_ident(r), [[], []])[0].append(r)
    for g in got:
        groups.setdefault(_ident(g), [[], []])[1].append(g)
    for ident, (exp, gg) in sorted(groups.items(), key=lambda x: str(x[0])):
        exp = sorted(exp, key=_order)
        gg = sorted(gg, key=_order)
        for e, g in zip(exp, gg):
            diffs = []
            for k in ALL_KEYS:
                ev = e.get(k)
                if ev is None or k not in g:
                    continue
                gv = g[k]
                if k == "time_received_ns":
                    if not isinstance(gv, int) or abs(gv - ev) > recv_slack_ns:
                        diffs.append("%s: capture %s, flowtally %s" % (k, ev, gv))
                    continue
                if _norm(k, ev) != _norm(k, gv):
                    diffs.append("%s: tshark %r, flowtally %r" % (k, ev, gv))
            if diffs:
                errs.append("record %s (%s): %s" % (e["_where"], _fmt_ident(ident), "; ".join(diffs)))
        for e in exp[len(gg):]:
            errs.append("record %s (%s) missing from flowtally's output" % (e["_where"], _fmt_ident(ident)))
        for g in gg[len(exp):]:
            errs.append("flowtally printed a record tshark does not have: %s" % json.dumps(_short(g)))
    return errs


def _fmt_ident(i):
    return "%s seq %s %s:%s > %s:%s proto %s" % (i[0], i[1], i[2], i[5], i[3], i[6], i[4])


def _short(g):
    return {k: g.get(k) for k in IDENT + ("bytes", "packets", "time_flow_start_ns")}


def icmp_key(proto, sport, dport, icmp_type, icmp_code):
    """Flow key ports as the ground truth stores them (ICMP: 0, type*256+code)."""
    if proto in (1, 58):
        return 0, icmp_type * 256 + icmp_code
    return sport, dport


def aggregate(records):
    """Sums records per unidirectional flow key -> {key: [packets, bytes, n_records]}."""
    out = {}
    for r in records:
        sp, dp = icmp_key(r["proto"], r["src_port"], r["dst_port"], r["icmp_type"], r["icmp_code"])
        k = (_norm("src_addr", r["src_addr"]), _norm("dst_addr", r["dst_addr"]), r["proto"], sp, dp)
        a = out.setdefault(k, [0, 0, 0])
        a[0] += r["packets"]
        a[1] += r["bytes"]
        a[2] += 1
    return out


def compare_truth(truth, records, families, who):
    """Per-flow packets/bytes of `records` (summed over split records) against
    the ground truth of the traffic pcap, restricted to the IP families the
    exporter carries. Returns errors."""
    errs = []
    want = {}
    for t in truth:
        if t["family"] in families:
            want[(t["src"], t["dst"], t["proto"], t["src_port"], t["dst_port"])] = [t["packets"], t["bytes"]]
    have = aggregate(records)
    for k in sorted(set(want) | set(have), key=str):
        w, h = want.get(k), have.get(k)
        if w is None:
            errs.append("%s has a flow the traffic lacks: %s %s" % (who, k, h))
        elif h is None:
            errs.append("%s lacks the flow %s (truth packets %d bytes %d)" % (who, k, w[0], w[1]))
        elif w != h[:2]:
            errs.append("%s flow %s: packets/bytes %s, truth %s" % (who, k, h[:2], w))
    return errs


class Results:
    """Per-case pass/fail bookkeeping and the final 'N passed, N failed' line."""

    def __init__(self):
        self.passed, self.failed, self.skipped = 0, 0, 0

    def case(self, name, errors, notes=()):
        for n in notes:
            print("  %s: %s" % (name, n))
        if errors:
            self.failed += 1
            print("FAIL %s (%d problems)" % (name, len(errors)))
            for e in errors[:60]:
                print("    - " + e)
            if len(errors) > 60:
                print("    ... %d more" % (len(errors) - 60))
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


# --------------------------------------------------------------------------
# One exporter case, end to end.

class ExporterReport:
    """What an exporter run says about itself (its own counters), for the
    totals checks. None = the exporter does not report it."""

    def __init__(self):
        self.rc = None
        self.log = ""
        self.records = None        # flow records exported
        self.export_packets = None  # export datagrams sent
        self.failures = None       # send failures
        self.per_proto = None      # {proto: [octets, packets]} over exported flows
        self.truth = None          # ground truth made by the run (live cases)
        self.exclude = set()       # truth keys not compared (live filler flow)
        self.span_ns = None        # (first, last) traffic time, for a sanity check of flow times
        self.check = None          # callable(decode) -> (errors, notes): the exporter's log vs the capture
        self.notes = []
        self.errors = []


def _proto_totals(records):
    out = {}
    for r in records:
        a = out.setdefault(r["proto"], [0, 0])
        a[0] += r["bytes"]
        a[1] += r["packets"]
    return out


class NetflowProfile:
    """What run_case checks for a NetFlow v5/v9/IPFIX exporter: the capture
    decoded by TsharkDecode, truth compared per flow by IP bytes, --stats by
    check_stats, flow times inside the traffic's span."""

    scheme = "netflow"

    def __init__(self, families=(4, 6), expect_type=None):
        self.families, self.expect_type = families, expect_type

    def decode(self, path, port):
        return TsharkDecode(path, port)

    def capture_note(self, rep, dec):
        nopt = sum(f["option_records"] for f in dec.frames)
        return ("exporter sent %s datagrams; capture %d packets, tshark %d data + %d options records"
                % (rep.export_packets, len(dec.frames), len(dec.records), nopt))

    def exporter_errors(self, rep, dec, truth):
        """Ground truth vs the exporter's records as tshark decodes them
        (validates exporter + harness; flowtally's own check is below)."""
        if truth is None or not dec.records:
            return []
        return ["[exporter vs traffic] " + e for e in
                compare_truth(truth, _excl(dec.records, rep.exclude), self.families, "tshark")]

    def stats_errors(self, stats, dec, recs):
        return check_stats(stats, dec, recs, self.expect_type)

    def flowtally_errors(self, rep, dec, recs, truth, span_ns):
        errs = []
        if truth is not None:
            errs += ["[flowtally vs traffic] " + e for e in
                     compare_truth(truth, _excl(recs, rep.exclude), self.families, "flowtally")]
        if span_ns:
            lo, hi = span_ns[0] - 1500 * 10**6, span_ns[1] + 1500 * 10**6
            for r in recs:
                for k in ("time_flow_start_ns", "time_flow_end_ns"):
                    v = r.get(k)
                    if not isinstance(v, int) or not lo <= v <= hi:
                        errs.append("flowtally %s %s outside the traffic's time span [%d, %d] (record %s)"
                                    % (k, v, lo, hi, json.dumps(_short(r))))
                        break
        return errs


def run_case(results, name, workdir, flowtally, run_exporter, truth=None, families=(4, 6),
             expect_type=None, span_ns=None, ft_extra=(), profile=None):
    """_run_case_once, and once more when the first attempt's capture oracle
    itself failed ("[harness]" problems: tcpdump or tshark missed export
    packets on a loaded machine): then nothing can be concluded about
    flowtally from that attempt. The first attempt's problems are printed as
    notes, so a retry is never silent; any other failure is final."""
    errs, notes = _run_case_once(name, workdir, flowtally, run_exporter, truth, families, expect_type,
                                 span_ns, ft_extra, profile)
    if errs and any(e.startswith("[harness]") for e in errs):
        notes = notes + ["attempt 1 discarded, its capture oracle failed: " + e.splitlines()[0]
                         for e in errs[:10]]
        errs, notes2 = _run_case_once(name, workdir, flowtally, run_exporter, truth, families, expect_type,
                                      span_ns, ft_extra, profile)
        notes += ["attempt 2: " + n for n in notes2]
    results.case(name, errs, notes)


def _run_case_once(name, workdir, flowtally, run_exporter, truth, families, expect_type, span_ns, ft_extra,
                   profile):
    """Runs one exporter against flowtally (or a plain UDP sink when
    flowtally is None) with tcpdump capturing the export packets, then checks:
      A. tshark's decode of the capture vs flowtally's --print, record by record;
      B. flowtally's --stats vs the capture (packets, octets, records, templates
         or samples) and vs itself (no loss, no errors);
      C. totals vs what the exporter reports about itself;
      D. flowtally's records vs the ground truth of the source traffic.
    run_exporter(port) -> ExporterReport; it must return once the exporter has
    sent everything. profile: what the protocol needs (NetflowProfile by
    default, built from families and expect_type; SflowProfile for sFlow)."""
    profile = profile or NetflowProfile(families, expect_type)
    errs, notes = [], []
    ft = sink = cap = None
    try:
        if flowtally:
            ft = Flowtally(flowtally, workdir, name, ft_extra, profile.scheme)
            port = ft.port
        else:
            sink = UdpSink()
            port = sink.port
        cap = Capture(os.path.join(workdir, name + ".export.pcap"), port)
        rep = run_exporter(port)
        errs += rep.errors
        notes += rep.notes
        truth = rep.truth if rep.truth is not None else truth
        span_ns = rep.span_ns or span_ns
        if rep.export_packets:
            cap.wait_count(rep.export_packets, 10.0)
        cap.wait_quiet(0.5, 15.0)
        captured, dropped = cap.stop()
        dec = profile.decode(cap.path, port)
        errs += ["[harness] " + e for e in dec.errors]
        ndata = len(dec.records)
        notes.append(profile.capture_note(rep, dec))
        # Capture oracle: the kernel dropped nothing and tshark saw every packet.
        if dropped != 0:
            errs.append("[harness] tcpdump reports %d packets dropped by the kernel" % dropped)
        if captured != len(dec.frames):
            errs.append("[harness] tcpdump captured %d packets, tshark decoded %d" % (captured, len(dec.frames)))
        if ndata == 0:
            errs.append("[harness] the capture holds no flow record at all")
        # Exporter's own report vs the capture (proves the capture is complete).
        if rep.rc not in (0, None):
            errs.append("[exporter] exited with %s:\n%s" % (rep.rc, rep.log[-3000:]))
        if rep.export_packets is not None and rep.export_packets != len(dec.frames):
            errs.append("[harness] exporter says it sent %d datagrams, capture has %d"
                        % (rep.export_packets, len(dec.frames)))
        if rep.records is not None and rep.records != ndata:
            errs.append("[harness] exporter says %d records, tshark decodes %d" % (rep.records, ndata))
        if rep.failures:
            errs.append("[exporter] reports %d send failures" % rep.failures)
        if rep.check:
            cerrs, cnotes = rep.check(dec)
            errs += cerrs
            notes += cnotes
        if expect_type and any(r["type"] != expect_type for r in dec.records):
            errs.append("[harness] tshark shows records of another type than %s" % expect_type)
        errs += profile.exporter_errors(rep, dec, truth)

        if not ft:
            n = sink.stop()
            if n != len(dec.frames):
                errs.append("[harness] sink received %d datagrams, capture has %d" % (n, len(dec.frames)))
            notes.append("no flowtally: harness-only run")
            return errs, notes

        ft.wait_records(ndata, timeout=10.0)
        recs, stats, ft_err, rc, bad = ft.stop()
        ft = None
        errs += bad
        if rc != 0:
            errs.append("flowtally exited with %s on SIGTERM; stderr tail:\n%s" % (rc, ft_err[-2000:]))
        # A. tshark oracle, record by record, every field.
        errs += compare(dec.records, recs)
        if len(recs) != ndata:
            errs.append("flowtally printed %d records, tshark decodes %d" % (len(recs), ndata))
        # B. flowtally's --stats vs the capture and vs its own output.
        serr, snotes = profile.stats_errors(stats, dec, recs)
        errs += serr
        notes += ["[exporter] sequence not gapless: " + n for n in snotes]
        # C. exporter's self-report vs flowtally's totals.
        if rep.records is not None and rep.records != len(recs):
            errs.append("exporter reports %d records exported, flowtally printed %d" % (rep.records, len(recs)))
        if rep.per_proto is not None:
            got = _proto_totals(recs)
            if got != rep.per_proto:
                errs.append("per-protocol [octets, packets]: exporter reports %s, flowtally's records sum to %s"
                            % (sorted(rep.per_proto.items()), sorted(got.items())))
        # D. ground truth of the traffic vs flowtally's records.
        errs += profile.flowtally_errors(rep, dec, recs, truth, span_ns)
        notes.append("flowtally printed %d records, %d bytes, %d packets"
                     % (len(recs), sum(r.get("bytes", 0) for r in recs), sum(r.get("packets", 0) for r in recs)))
    except Exception as e:  # a harness failure is a failed case, with the reason
        import traceback
        errs.append("exception: %s\n%s" % (e, traceback.format_exc()))
    finally:
        if ft:
            ft.stop()
        if sink and sink.running:
            sink.stop()
        if cap and cap.p.poll() is None:
            cap.stop()
        cleanup()
    return errs, notes


def _excl(records, exclude):
    if not exclude:
        return records
    out = []
    for r in records:
        sp, dp = icmp_key(r["proto"], r["src_port"], r["dst_port"], r["icmp_type"], r["icmp_code"])
        if (_norm("src_addr", r["src_addr"]), _norm("dst_addr", r["dst_addr"]), r["proto"], sp, dp) not in exclude:
            out.append(r)
    return out


_PROTO_NAME = {"NETFLOW_V5": "netflow_v5", "NETFLOW_V9": "netflow_v9", "IPFIX": "ipfix"}


def check_stats(stats, dec, recs, expect_type):
    """flowtally --stats (one exporter_stats line per exporter) against the
    capture as tshark decodes it (oracle) and against the printed records.
    Returns (errors, notes on the exporter's sequence numbering)."""
    errs = []
    mine = [s for s in stats if s.get("kind") == "exporter_stats"]
    if len(mine) != 1 or mine[0].get("exporter") != "127.0.0.1":
        return ["--stats: expected one exporter_stats line for 127.0.0.1, got %s" % json.dumps(stats)[:2000]], []
    s = mine[0]
    c, e = s.get("counters", {}), s.get("errors", {})

    def want(where, key, value):
        if where.get(key) != value:
            errs.append("--stats %s: %r, expected %r" % (key, where.get(key), value))

    if expect_type:
        want(s, "protocols", [_PROTO_NAME[expect_type]])
    want(c, "packets", len(dec.frames))                               # capture
    want(c, "octets", sum(f["udp_payload"] for f in dec.frames))      # capture (UDP payload bytes)
    want(c, "records", len(recs))                                     # --print output
    want(c, "records", len(dec.records))                              # tshark
    want(c, "options_records", sum(f["option_records"] for f in dec.frames))
    want(c, "templates_received", sum(f["templates"] for f in dec.frames))
    want(s, "templates", len(dec.tmpl))                               # distinct templates held
    seq, seq_notes = expected_sequence_counters(dec.frames)
    for k, v in sorted(seq.items()):
        want(c, k, v)
    for k in ("pending_held", "pending_records", "template_withdrawals", "templates_expired"):
        want(c, k, 0)
    want(s, "pending", 0)
    for k, v in sorted(e.items()):
        if v != 0:
            errs.append("--stats errors.%s = %s, expected 0" % (k, v))
    if not e:
        errs.append("--stats has no errors object")
    return errs, seq_notes


SEQ_RESET_JUMP = 1 << 20


BOOT_SLACK_MS = 2000
SEQ_GAPS = 4


class SequenceModel:
    """What a collector must count from the sequence numbers on the wire, in
    capture (= arrival) order, per exporter/version/domain. The expectation
    is the previous message's sequence + advance:
      NetFlow v9 (RFC 3954 §5.1): advance 1 per export packet;
      NetFlow v5 (Cisco header): the header's record count;
      IPFIX (RFC 7011 §3.1): the data records of the message, options data
      records included (it counts those sent *before* the message);
      sFlow v5 (§5.2): 1 per datagram.
    Another value is, in this order: a restart (sequence_resets) when the
    jump is 2^20 or more either way; loss when ahead (the gap is
    remembered, the 4 newest); a restart when behind and sysUptime went back
    while the boot time (v5/v9 export time - sysUptime, ms; modulo 2^32 ms)
    moved on by more than 2 s; reordering when behind and inside
    a remembered gap (the part it fills is taken back, the expectation
    stays); a restart otherwise (a counter that started again).
    own (IPFIX: the message's data records without options): exporters that
    number a message after its own records (softflowd 1.1.0): each domain
    counts the messages that fit exactly one numbering and follows the one
    more messages fitted (the RFC's on a tie)."""

    def __init__(self):
        self.out = {"lost_packets": 0, "lost_records": 0, "sequence_reordered": 0, "sequence_resets": 0}
        self.notes = []
        self.st = {}

    def add(self, key, frame, seq, adv, lost, boot_ms=None, own=0, uptime_ms=None):
        st = self.st.setdefault(key, {"next": None, "last": None, "fit": [0, 0], "gaps": [], "boot": None})
        rebooted = False
        if boot_ms is not None and st["boot"] is not None:
            moved = (boot_ms - st["boot"]) & 0xFFFFFFFF
            if moved >= 1 << 31:
                moved -= 1 << 32
            rebooted = moved > BOOT_SLACK_MS and uptime_ms < st["uptime"]
        if st["next"] is not None:
            before, after = st["next"], (st["last"] + own) & 0xFFFFFFFF
            fit = st["fit"]
            if own and not rebooted and before != after and seq in (before, after):
                i = 0 if seq == before else 1
                if fit[i] == 255:
                    fit[0], fit[1] = fit[0] // 2, fit[1] // 2
                fit[i] += 1
            numbered_after = fit[1] > fit[0]
            expect = after if numbered_after else before
            d = (seq - expect) & 0xFFFFFFFF
            if d >= 1 << 31:
                d -= 1 << 32
            shift = own if numbered_after else 0
            first, span = (seq - shift) & 0xFFFFFFFF, (own if numbered_after else adv)
            if d:
                self.notes.append("frame %d: sequence %d, %d expected from the previous message (%+d)"
                                  % (frame, seq, expect, d))
            if d == 0:
                pass
            elif abs(d) >= SEQ_RESET_JUMP:
                self.out["sequence_resets"] += 1
                st["gaps"] = []
            elif d > 0:
                self.out[lost] += d
                st["gaps"] = ([[(expect - shift) & 0xFFFFFFFF, first]] + st["gaps"])[:SEQ_GAPS]
            elif rebooted:
                self.out["sequence_resets"] += 1
                st["gaps"] = []
            else:
                for g in st["gaps"]:
                    width, at = (g[1] - g[0]) & 0xFFFFFFFF, (first - g[0]) & 0xFFFFFFFF
                    if at < width:
                        fill = min(span, width - at)
                        if at == 0:
                            g[0] = (g[0] + fill) & 0xFFFFFFFF
                        elif at + fill == width:
                            g[1] = first
                        if g[0] == g[1]:
                            st["gaps"].remove(g)
                        self.out[lost] = max(0, self.out[lost] - fill)
                        self.out["sequence_reordered"] += 1
                        return
                self.out["sequence_resets"] += 1
                st["gaps"] = []
        if boot_ms is not None:
            st["boot"], st["uptime"] = boot_ms, uptime_ms
        st["last"] = seq
        st["next"] = (seq + adv) & 0xFFFFFFFF


def expected_sequence_counters(frames):
    """SequenceModel over NetFlow v5/v9/IPFIX frames of TsharkDecode.
    Returns (counters, notes about non-gapless exporters)."""
    m = SequenceModel()
    for f in frames:
        key = (f["src"], f["version"], f["domain"])
        if f["version"] == 9:
            adv, lost = 1, "lost_packets"
        elif f["version"] == 5:
            adv, lost = f["count"], "lost_records"
        else:
            adv, lost = f["records"] + f["option_records"], "lost_records"
        m.add(key, f["frame"], f["sequence"], adv, lost, f.get("boot_ms"),
              f["records"] if f["version"] == 10 else 0, f.get("uptime_ms"))
    return m.out, m.notes


# --------------------------------------------------------------------------
# sFlow v5: tshark's decode of the datagrams -> expected records, and what
# run_case checks for an sFlow agent (SflowProfile).

# Flow record formats flowtally reads (sFlow v5 §5.5, enterprise 0); any
# other is skipped by its length and counted in records_skipped.
SFLOW_FLOW_RECORDS = (1, 2, 3, 4, 1001, 1002, 1003)
# RFC 7270 §4.12 forwardingStatus "Dropped" (status 2 in the top 2 bits):
# flowtally's value for an sFlow output interface of format 1 (discarded).
FORWARDING_DROPPED = 0x80


def _first(v):
    """A tshark value that may occur several times (_Dup list): the first."""
    return v[0] if isinstance(v, list) else v


def _layers(v):
    """A tshark item that may occur several times: always a list, in wire order."""
    return list(v) if isinstance(v, _Dup) else [v]


def _subtrees(d):
    """The (label, subtree) pairs of a tshark object in wire order; a label
    that occurs several times (two samples with the same sequence number,
    two records of one format) gives each of its subtrees."""
    for k, v in d.items():
        for x in _layers(v):
            if isinstance(x, dict):
                yield k, x


def _nexthop(rec, where, errors):
    """The next hop of an extended router/gateway record (IPv4 or IPv6)."""
    for k in ("sflow_245.nexthop", "sflow_245.nexthop.v6", "sflow_245.nexthop_v6"):
        if k in rec:
            return _first(rec[k])
    errors.append("%s: next hop of record %s not found in tshark's tree" % (where, rec.get("sflow_245.flow_record_format")))
    return ""


class SflowDecode:
    """The sFlow v5 datagrams of a capture, as decoded by tshark
    (`tshark -T json -d udp.port==PORT,sflow`), converted to the records
    flowtally must print (FIELDS.md, sFlow column):

    .records: one expected record per flow sample (dicts with every --print
              key; '_where' says 'frame F sample S'). time_flow_start_ns/end
              are None here: for sFlow they are the arrival time, checked by
              SflowProfile against flowtally's own time_received_ns.
    .frames:  per datagram: frame, time_ns, src, udp_payload, agent,
              sub_agent, sequence, samples, flow_samples, counter_samples,
              other_samples, records_skipped (records flowtally skips).
    .samples: per flow sample, tshark's raw values: frame, seq, source
              (class, index), rate, pool, drops, header_protocol,
              frame_length, stripped, header (bytes), formats (record
              formats in wire order).
    .errors:  harness-side problems (a record format the harness does not map...).
    """

    def __init__(self, pcap, port):
        cmd = [which("tshark"), "-n", "-r", pcap, "-d", "udp.port==%d,sflow" % port, "-T", "json",
               "-J", "frame ip ipv6 udp sflow"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("tshark failed: %s" % p.stderr.decode()[:2000])
        data = json.loads(p.stdout.decode("utf-8", "replace") or "[]", object_pairs_hook=_pairs)
        self.records, self.frames, self.samples, self.errors = [], [], [], []
        for pkt in data:
            self._datagram(pkt["_source"]["layers"])

    def _datagram(self, L):
        frame = int(L["frame"]["frame.number"])
        t_ns = dec_ns(L["frame"]["frame.time_epoch"])
        src = L["ip"]["ip.src"] if "ip" in L else L["ipv6"]["ipv6.src"]
        sf = L.get("sflow")
        if sf is None:
            self.errors.append("frame %d: tshark found no sflow layer" % frame)
            return
        if sf.get("sflow_245.version") != "5":
            self.errors.append("frame %d: sFlow version %s" % (frame, sf.get("sflow_245.version")))
            return
        fi = {"frame": frame, "time_ns": t_ns, "src": src, "udp_payload": int(L["udp"]["udp.length"]) - 8,
              "agent": sf["sflow_245.agent"] if "sflow_245.agent" in sf else sf.get("sflow_245.agent.v6"),
              "sub_agent": int(sf["sflow_245.sub_agent_id"]), "sequence": int(sf["sflow_245.sequence_number"]),
              "samples": int(sf["sflow_245.numsamples"]), "flow_samples": 0, "counter_samples": 0,
              "other_samples": 0, "records_skipped": 0}
        self.frames.append(fi)
        hdr = blank_record()
        hdr.update(type="SFLOW_5", sampler_address=fi["agent"], observation_domain_id=fi["sub_agent"],
                   sequence_num=fi["sequence"], time_received_ns=t_ns, time_flow_start_ns=None,
                   time_flow_end_ns=None, packets=1)
        seen = 0
        for k, v in _subtrees(sf):
            if "sflow_245.sampletype" not in v:
                continue
            seen += 1
            stype, ent = int(v["sflow_245.sampletype"]), int(v.get("sflow.enterprise", "0"))
            if ent == 0 and stype in (1, 3):
                fi["flow_samples"] += 1
                self._flow_sample(fi, hdr, v, stype == 3, fi["flow_samples"])
            elif ent == 0 and stype in (2, 4):
                fi["counter_samples"] += 1
                for rk, rv in _subtrees(v):
                    if "sflow_245.counters_record_format" in rv:
                        if int(rv["sflow_245.counters_record_format"]) != 1 or int(rv.get("sflow.enterprise", "0")):
                            fi["records_skipped"] += 1
            else:
                fi["other_samples"] += 1
        if seen != fi["samples"]:
            self.errors.append("frame %d: header says %d samples, tshark shows %d" % (frame, fi["samples"], seen))

    def _flow_sample(self, fi, hdr, v, expanded, n):
        where = "frame %d sample %d" % (fi["frame"], n)
        r = dict(hdr)
        r["_where"] = where
        rate = int(v["sflow.flow_sample.sampling_rate"])
        r["sampling_rate"] = rate if rate else 1
        s = {"frame": fi["frame"], "seq": int(v["sflow.flow_sample.sequence_number"]), "rate": rate,
             "pool": int(v["sflow.flow_sample.sample_pool"]), "drops": int(v["sflow.flow_sample.dropped_packets"]),
             "source": (int(v.get("sflow.flow_sample.source_id_class", v.get("sflow.flow_sample.source_id_type", "0"))),
                        int(v.get("sflow.flow_sample.index", "0"))),
             "header": None, "formats": [], "where": where}
        # Interfaces (§5.4): compact = 2 format bits + 30 value bits; expanded
        # = separate format and value words. Only format 0 names an ifIndex.
        if expanded:
            in_fmt = int(v.get("sflow.flow_sample.input_interface_format", "0"))
            in_val = int(v.get("sflow.flow_sample.input_interface_value", "0"))
        else:
            raw = _int(v["sflow.flow_sample.input_interface"])
            in_fmt, in_val = raw >> 30, raw & 0x3FFFFFFF
        r["in_if"] = in_val if in_fmt == 0 else 0
        t = v.get("sflow.flow_sample.output_interface_tree", v)
        out_fmt = int(t.get("sflow.flow_sample.output_interface_format", "0"))
        out_val = int(t.get("sflow.flow_sample.output_interface_value", "0"))
        r["out_if"] = out_val if out_fmt == 0 else 0
        if out_fmt == 1:
            r["forwarding_status"] = FORWARDING_DROPPED
        s["in_if"], s["out_format"], s["out_value"] = in_val, out_fmt, out_val
        router_nh = gateway = None
        for rk, rv in _subtrees(v):
            if "sflow_245.flow_record_format" not in rv:
                continue
            fmt, ent = int(rv["sflow_245.flow_record_format"]), int(rv.get("sflow.enterprise", "0"))
            s["formats"].append(fmt if ent == 0 else (ent, fmt))
            if ent != 0 or fmt not in SFLOW_FLOW_RECORDS:
                fi["records_skipped"] += 1
            elif fmt == 1:
                self._sampled_header(r, s, rv, where)
            elif fmt == 1001:
                r["src_vlan"] = int(rv["sflow_245.vlan.in"])
                r["dst_vlan"] = int(rv["sflow_245.vlan.out"])
                s["switch"] = (r["src_vlan"], int(rv["sflow_245.pri.in"]), r["dst_vlan"], int(rv["sflow_245.pri.out"]))
            elif fmt == 1002:
                router_nh = _nexthop(rv, where, self.errors)
                r["src_net"] = int(rv["sflow_245.nexthop.src_mask"])
                r["dst_net"] = int(rv["sflow_245.nexthop.dst_mask"])
            elif fmt == 1003:
                gateway = rv
            else:
                self.errors.append("%s: flow record format %d not mapped by the harness" % (where, fmt))
        if gateway is not None:
            self._gateway(r, gateway, where)
        # The IP next hop comes from extended_router; the gateway's BGP next hop
        # fills it only when there is no router record (FIELDS.md next_hop).
        if router_nh is not None:
            r["next_hop"] = router_nh
        # vlan_id: the sampled header's outer tag, else the switch's incoming VLAN.
        if not r["vlan_id"]:
            r["vlan_id"] = r["src_vlan"]
        if not r["etype"]:
            r["etype"] = 0x0800 if "." in r["src_addr"] else 0x86DD if ":" in r["src_addr"] else 0
        self.records.append(r)
        self.samples.append(s)

    def _gateway(self, r, g, where):
        """extended_gateway (§5.5 format 1003): src_as (the router's own AS when
        0), dst_as = last AS of the path (the router's AS for an empty path),
        next_hop_as = first AS, as_path = the path, bgp_next_hop."""
        nh = _nexthop(g, where, self.errors)
        r["bgp_next_hop"] = nh
        r["next_hop"] = nh
        my_as = int(g["sflow_245.as"])
        src_as = int(g["sflow_245.srcAS"])
        # dst_as_path: one sflow.as_type (+ _tree holding its ASes) per segment.
        path, nseg = [], len(_layers(g["sflow.as_type"])) if "sflow.as_type" in g else 0
        if "sflow.as_type_tree" in g:
            for seg in _layers(g["sflow.as_type_tree"]):
                if "sflow_245.dstAS" in seg:
                    path += [int(x) for x in _layers(seg["sflow_245.dstAS"])]
        if nseg != int(g.get("sflow_245.dstASentries", "0")):
            self.errors.append("%s: extended gateway has %s path segments, tshark's tree %d"
                               % (where, g.get("sflow_245.dstASentries"), nseg))
        r["src_as"] = src_as if src_as else my_as
        r["dst_as"] = path[-1] if path else my_as
        r["next_hop_as"] = path[0] if path else 0
        r["as_path"] = path[:15] + path[-1:] if len(path) > 16 else path

    def _sampled_header(self, r, s, rv, where):
        """sampled_header (§5.5 format 1): bytes = frame_length; the header's
        fields from tshark's dissection of it (header_tree), outer first."""
        s["header_protocol"] = int(rv["sflow_245.header_protocol"])
        s["frame_length"] = int(rv["sflow_245.header.frame_length"])
        s["stripped"] = int(rv["sflow_245.header.payload_stripped"])
        s["header_length"] = int(rv["sflow_245.header.sampled_header_length"])
        hexs = rv.get("sflow_245.header", "")
        raw = bytes.fromhex(hexs.replace(":", "")) if hexs else b""
        # tshark shows the XDR opaque with its padding to 4 bytes (RFC 4506 §4.10).
        if not s["header_length"] <= len(raw) < s["header_length"] + 4:
            self.errors.append("%s: sampled_header_length %d, tshark shows %d header bytes"
                               % (where, s["header_length"], len(raw)))
        s["header"] = raw[:s["header_length"]]
        r["bytes"] = s["frame_length"]
        # Header protocols 1 (Ethernet), 11 (IPv4), 12 (IPv6). The walk takes
        # the first (outer) occurrence of each layer: no tunnels here.
        ht = rv.get("sflow_245.header_tree", {})
        if s["header_protocol"] not in (1, 11, 12):
            self.errors.append("%s: header protocol %d not mapped by the harness" % (where, s["header_protocol"]))
            return
        if s["header_protocol"] == 1:
            if "eth" not in ht:
                self.errors.append("%s: tshark did not dissect the sampled header" % where)
                return
            eth = _layers(ht["eth"])[0]
            r["src_mac"], r["dst_mac"] = _mac(eth["eth.src"]), _mac(eth["eth.dst"])
            r["etype"] = _int(eth["eth.type"])
        if "vlan" in ht:
            tags = _layers(ht["vlan"])
            r["vlan_id"] = int(tags[0]["vlan.id"])  # the outermost tag (pkt_header.h)
            r["etype"] = _int(tags[-1]["vlan.etype"])
        if "mpls" in ht:
            stack = _layers(ht["mpls"])
            r["has_mpls"], r["mpls_count"] = True, len(stack)
            for i, e in enumerate(stack[:3], 1):
                r["mpls_%d_label" % i], r["mpls_%d_ttl" % i] = int(e["mpls.label"]), int(e["mpls.ttl"])
            r["mpls_last_label"], r["mpls_last_ttl"] = int(stack[-1]["mpls.label"]), int(stack[-1]["mpls.ttl"])
            r["etype"] = 0x8847  # the payload type is a guess from its first nibble: set below
        if "ip" in ht:
            ip = _layers(ht["ip"])[0]
            r["etype"] = 0x0800
            r["src_addr"], r["dst_addr"] = ip["ip.src"], ip["ip.dst"]
            r["proto"], r["ip_ttl"] = int(ip["ip.proto"]), int(ip["ip.ttl"])
            r["ip_tos"] = _int(ip["ip.dsfield"])
            # tshark 4.0's JSON gives the 3 flag bits and the 13-bit offset
            # field (8-octet units) as values, as flowtally keeps them.
            r["ip_flags"] = _int(ip["ip.flags"])
            r["fragment_id"] = _int(ip["ip.id"])
            r["fragment_offset"] = int(ip["ip.frag_offset"])
        elif "ipv6" in ht:
            ip6 = _layers(ht["ipv6"])[0]
            r["etype"] = 0x86DD
            r["src_addr"], r["dst_addr"] = ip6["ipv6.src"], ip6["ipv6.dst"]
            r["ip_ttl"] = int(ip6["ipv6.hlim"])
            r["ip_tos"] = _int(ip6["ipv6.tclass"])
            r["ipv6_flow_label"] = _int(ip6["ipv6.flow"])
            proto = int(ip6["ipv6.nxt"])
            for k, ext in ip6.items():  # extension headers: the upper layer follows the chain
                if isinstance(ext, dict) and k + ".nxt" in ext:
                    proto = int(ext[k + ".nxt"])
                    if k == "ipv6.fraghdr":
                        self.errors.append("%s: IPv6 fragment header not mapped by the harness" % where)
            r["proto"] = proto
        if "tcp" in ht:
            tcp = _layers(ht["tcp"])[0]
            r["src_port"], r["dst_port"] = int(tcp["tcp.srcport"]), int(tcp["tcp.dstport"])
            r["tcp_flags"] = _int(tcp["tcp.flags"]) & 0x1FF  # NS + CWR..FIN (pkt_header.h)
        elif "udp" in ht:
            udp = _layers(ht["udp"])[0]
            r["src_port"], r["dst_port"] = int(udp["udp.srcport"]), int(udp["udp.dstport"])
        elif "icmp" in ht:
            icmp = _layers(ht["icmp"])[0]
            r["icmp_type"], r["icmp_code"] = int(icmp["icmp.type"]), int(icmp["icmp.code"])
        elif "icmpv6" in ht:
            icmp = _layers(ht["icmpv6"])[0]
            r["icmp_type"], r["icmp_code"] = int(icmp["icmpv6.type"]), int(icmp["icmpv6.code"])


def pcap_frames(path):
    """The frames of a classic pcap file (either byte order, µs or ns): list
    of (time_ns, bytes). The traffic the exporter read, as the oracle of what
    it sampled."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
    if magic not in order:
        raise ValueError("%s: not a classic pcap file" % path)
    bo, nano = order[magic], magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    import struct
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(bo + "IIII", data[off:off + 16])
        if incl != orig:
            raise ValueError("%s: frame %d cut by the snap length" % (path, len(out) + 1))
        out.append((sec * 10**9 + (frac if nano else frac * 1000), data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def sflow_sequence_counters(frames):
    """What a collector must count from the datagram sequence numbers on the
    wire (sFlow v5 §5.2: one per datagram of an agent/sub-agent), in capture
    (= arrival) order, with the rules of SequenceModel (a gap is
    lost_packets; no boot time)."""
    m = SequenceModel()
    for f in frames:
        m.add((f["agent"], f["sub_agent"]), f["frame"], f["sequence"], 1, "lost_packets")
    return m.out, m.notes


def check_sflow_stats(stats, dec, recs):
    """flowtally --stats (one exporter_stats line per agent: sFlow names its
    exporter by the agent address in the datagram) against the capture as
    tshark decodes it and against the printed records. Returns (errors,
    notes on the agent's sequence numbering)."""
    errs = []
    agents = sorted({f["agent"] for f in dec.frames})
    mine = [s for s in stats if s.get("kind") == "exporter_stats"]
    if sorted(s.get("exporter") for s in mine) != agents:
        return ["--stats: expected one exporter_stats line per agent %s, got %s"
                % (agents, json.dumps(stats)[:2000])], []
    if len(agents) != 1:
        return ["[harness] check_sflow_stats handles one agent, the capture has %s" % agents], []
    s = mine[0]
    c, e = s.get("counters", {}), s.get("errors", {})

    def want(where, key, value, why):
        if where.get(key) != value:
            errs.append("--stats %s: %r, expected %r (%s)" % (key, where.get(key), value, why))

    want(s, "protocols", ["sflow_5"], "sFlow only")
    want(c, "packets", len(dec.frames), "datagrams in the capture")
    want(c, "octets", sum(f["udp_payload"] for f in dec.frames), "UDP payload bytes in the capture")
    want(c, "records", len(recs), "records printed")
    want(c, "records", len(dec.records), "tshark's flow samples")
    want(c, "flow_samples", sum(f["flow_samples"] for f in dec.frames), "tshark's flow samples")
    want(c, "counter_samples", sum(f["counter_samples"] for f in dec.frames), "tshark's counter samples")
    want(c, "samples_skipped", sum(f["other_samples"] for f in dec.frames), "tshark's other samples")
    want(c, "records_skipped", sum(f["records_skipped"] for f in dec.frames), "records of other formats")
    want(c, "sampling_unknown", sum(1 for x in dec.samples if x["rate"] == 0), "flow samples with rate 0")
    if dec.samples:
        last = dec.samples[-1]["rate"]
        want(s, "sampling_rate", last if last else 1, "the last sample's rate")
    seq, seq_notes = sflow_sequence_counters(dec.frames)
    for k, v in sorted(seq.items()):
        want(c, k, v, "from the datagram sequence numbers")
    for k in ("options_records", "templates_received", "template_withdrawals", "templates_expired",
              "pending_held", "pending_records"):
        want(c, k, 0, "not NetFlow")
    for k, v in sorted(e.items()):
        if v != 0:
            errs.append("--stats errors.%s = %s, expected 0" % (k, v))
    if not e:
        errs.append("--stats has no errors object")
    return errs, seq_notes


class SflowProfile:
    """What run_case checks for an sFlow agent that sampled a known traffic
    capture:
      - every flow sample against the traffic (sample_pool n = the n-th
        packet the sampler saw: the header is that frame's first bytes and
        frame_length its length plus the stripped FCS);
      - with sampling rate 1 every packet but those of the flush tail is
        sampled (tail: frames at the end of the traffic the agent may keep
        unsent at exit);
      - flowtally's records summed per flow against those sampled frames
        (packets, bytes = frame length + FCS, flow key from the traffic);
      - --stats via check_sflow_stats; flow start = end = arrival.
    frames: list of raw frames (pcap_frames()); keys: per frame its flow key
    (family, src, dst, proto, src_port, dst_port; ICMP: 0, type*256+code);
    tail: indices of the flush-tail frames."""

    scheme = "sflow"
    FCS = 4  # sFlow v5 §5.5: frame_length counts the FCS a pcap does not hold

    def __init__(self, frames, keys, tail=(), expect_rate=None):
        self.frames, self.keys, self.tail = frames, keys, set(tail)
        self.expect_rate = expect_rate

    def decode(self, path, port):
        return SflowDecode(path, port)

    def capture_note(self, rep, dec):
        rates = sorted({x["rate"] for x in dec.samples})
        return ("capture %d datagrams, tshark %d flow samples (rates %s), %d counter samples"
                % (len(dec.frames), len(dec.samples), rates, sum(f["counter_samples"] for f in dec.frames)))

    def exporter_errors(self, rep, dec, truth):
        # Datagram sequence numbers (§5.2) consecutive per agent/sub-agent:
        # the agent lost nothing on the way to the capture.
        errs = ["[exporter vs capture] datagram sequence not consecutive: " + n
                for n in sflow_sequence_counters(dec.frames)[1]]
        pools, last = set(), {}
        for x in dec.samples:
            w = "[exporter vs traffic] %s (sample seq %d, pool %d)" % (x["where"], x["seq"], x["pool"])
            if self.expect_rate is not None and x["rate"] != self.expect_rate:
                errs.append("%s: sampling rate %d, configured %d" % (w, x["rate"], self.expect_rate))
            if x["drops"]:
                errs.append("%s: %d drops" % (w, x["drops"]))
            prev = last.get(x["source"])
            if prev and (x["seq"] != prev[0] + 1 or x["pool"] <= prev[1]):
                errs.append("%s: follows sample seq %d pool %d" % (w, prev[0], prev[1]))
            last[x["source"]] = (x["seq"], x["pool"])
            if not 1 <= x["pool"] <= len(self.frames):
                errs.append("%s: pool outside the %d frames of the traffic" % (w, len(self.frames)))
                continue
            fr = self.frames[x["pool"] - 1]
            pools.add(x["pool"] - 1)
            if x["header"] is None:
                errs.append("%s: no sampled header" % w)
                continue
            if x["header_length"] != len(x["header"]) or not 0 < len(x["header"]) <= len(fr) \
                    or fr[:len(x["header"])] != x["header"]:
                errs.append("%s: header (%d bytes) is not the start of traffic frame %d (%d bytes)"
                            % (w, len(x["header"]), x["pool"], len(fr)))
            if x["frame_length"] != len(fr) + x["stripped"] or x["stripped"] != self.FCS:
                errs.append("%s: frame_length %d stripped %d, traffic frame %d has %d bytes + %d FCS"
                            % (w, x["frame_length"], x["stripped"], x["pool"], len(fr), self.FCS))
        if self.expect_rate == 1:
            missing = [i + 1 for i in range(len(self.frames)) if i not in pools and i not in self.tail]
            if missing:
                errs.append("[exporter vs traffic] rate 1 but %d traffic frames were not sampled: %s"
                            % (len(missing), missing[:20]))
        return errs

    def expected_flows(self, dec):
        """{flow key: [packets, bytes]} over the sampled frames (FCS included)."""
        out = {}
        for x in dec.samples:
            if 1 <= x["pool"] <= len(self.frames):
                k = self.keys[x["pool"] - 1]
                a = out.setdefault(k[1:], [0, 0])
                a[0] += 1
                a[1] += len(self.frames[x["pool"] - 1]) + self.FCS
        return out

    def stats_errors(self, stats, dec, recs):
        return check_sflow_stats(stats, dec, recs)

    def flowtally_errors(self, rep, dec, recs, truth, span_ns):
        errs = []
        want = self.expected_flows(dec)
        have = {k: v[:2] for k, v in aggregate(recs).items()}
        for k in sorted(set(want) | set(have), key=str):
            w, h = want.get(k), have.get(k)
            if w is None:
                errs.append("[flowtally vs traffic] flowtally has a flow no sampled frame holds: %s %s" % (k, h))
            elif h is None:
                errs.append("[flowtally vs traffic] flowtally lacks the flow %s (sampled frames: packets %d bytes %d)"
                            % (k, w[0], w[1]))
            elif w != h:
                errs.append("[flowtally vs traffic] flow %s: packets/bytes %s, sampled frames %s" % (k, h, w))
        if truth is not None and self.expect_rate == 1:
            # Every packet sampled: the flows are the traffic's, frame bytes + FCS.
            tail_keys = {self.keys[i][1:] for i in self.tail}
            for t in truth:
                k = (t["src"], t["dst"], t["proto"], t["src_port"], t["dst_port"])
                if k in tail_keys:
                    continue
                h = have.get(k)
                exp = [t["packets"], t["frame_bytes"] + self.FCS * t["packets"]]
                if h != exp:
                    errs.append("[flowtally vs traffic] flow %s: packets/bytes %s, traffic %s" % (k, h, exp))
        for r in recs:
            if not (r.get("time_flow_start_ns") == r.get("time_flow_end_ns") == r.get("time_received_ns")):
                errs.append("flowtally record %s: sFlow flow start/end must be the arrival time"
                            % json.dumps(_short(r)))
                break
        return errs
