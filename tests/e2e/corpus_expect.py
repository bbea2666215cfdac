"""Shared helpers for the corpus comparison tests (test_corpus_netflow.py, test_corpus_sflow.py).

The oracle is ../shared/corpus: every capture has a CAPTURE.expected.jsonl made by
mkexpected.py from tshark 4.0.17's decode (see corpus/README.md for the line kinds).
This module
  - loads an expected.jsonl (Capture),
  - asks tshark for per-frame facts the jsonl does not hold (capture time, IP/UDP source),
    and for its whole dissection with repeated keys kept in wire order (tshark_pairs:
    the layer order of a tunnelled sampled header, fields mkexpected.py does not keep),
  - runs `flowtally --pcap FILE --print --stats` and splits records (stdout) from the
    per-exporter stats objects (stderr lines starting with '{'),
  - turns tshark's strings into our units (ns since the epoch, ints, addresses),
  - compares expected records with ours field by field (Exp), and
  - loads the table of documented differences (tests/data/corpus_overrides.json) and
    applies its generic entries (ignore, assert), and
  - drives a whole run (suite_main: capture selection, --only/--expect-only/--verbose,
    two captures at a time, PASS/FAIL lines, stale override entries).
Protocol-specific mapping (tshark field names -> --print keys) and the --stats checks
live in the test scripts.

Stdlib only: runs with Debian's /usr/bin/python3.
"""
import calendar
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys

SKIP = 77


# --------------------------------------------------------------------------- environment

def corpus_dir_or_skip():
    """FT_CORPUS, or exit 77 with a message when the corpus folder is absent."""
    d = os.environ.get('FT_CORPUS', '')
    if not d or not os.path.isdir(d):
        print('SKIP: corpus folder %r not found (set FT_CORPUS=<repo>/../shared/corpus)' % d)
        sys.exit(SKIP)
    return d


def overrides_path():
    base = os.environ.get('FT_TEST_DATA') or os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
    return os.path.join(base, 'corpus_overrides.json')


def load_overrides(section):
    """The table of documented differences for one test ('netflow' or 'sflow'):
    {relative capture path: entry}. Every entry must quote its reason."""
    with open(overrides_path()) as f:
        table = json.load(f)
    out = table.get(section, {})
    for k, v in out.items():
        if not v.get('reason'):
            raise ValueError('override %s has no reason' % k)
    return out


# --------------------------------------------------------------------------- expected.jsonl

class Capture:
    """One capture and its tshark expectation, lines kept in file order (= wire order)."""

    def __init__(self, corpus, rel):
        self.corpus = corpus
        self.rel = rel                               # 'captures/x.pcap'
        self.pcap = os.path.join(corpus, rel)
        self.lines = []
        with open(self.pcap + '.expected.jsonl') as f:
            for ln in f:
                ln = ln.strip()
                if ln:
                    self.lines.append(json.loads(ln))
        self.summary = self.lines[0]
        self.packets = {}                            # frame -> packet line
        self.templates = {}                          # (frame, template id) -> template line
        self.structures = {}                         # frame -> structure line
        self.records = []                            # NetFlow/IPFIX record lines (data + options)
        self.samples = []                            # sFlow sample lines
        for o in self.lines:
            k = o.get('kind')
            if k == 'packet':
                self.packets.setdefault(o['frame'], o)
            elif k == 'template':
                self.templates[(o['frame'], o.get('cflow.template_id'))] = o
            elif k == 'structure':
                self.structures[o['frame']] = o
            elif k == 'record':
                self.records.append(o)
            elif k == 'sample':
                self.samples.append(o)

    @property
    def protos(self):
        return set(p.get('proto') for p in self.packets.values())

    def is_netflow(self):
        return 'cflow' in self.protos

    def is_sflow(self):
        return 'sflow' in self.protos

    def version(self, frame):
        return int(self.packets[frame]['header'].get('cflow.version', '0'))

    def template_for(self, rec):
        """The template tshark used for a data/options record: the flowset's template_frame."""
        pkt = self.packets.get(rec['frame'])
        if not pkt:
            return None
        tframe = None
        for fs in pkt.get('flowsets', []):
            if fs.get('id') == rec.get('flowset_id') and 'template_frame' in fs:
                tframe = int(fs['template_frame'])
                break
        if tframe is None:
            return None
        return self.templates.get((tframe, rec.get('flowset_id')))


def find_captures(corpus, folders=('captures', 'bugs', 'derived')):
    out = []
    for d in folders:
        p = os.path.join(corpus, d)
        if not os.path.isdir(p):
            continue
        for n in sorted(os.listdir(p)):
            if n.endswith('.pcap') and os.path.exists(os.path.join(p, n + '.expected.jsonl')):
                out.append(d + '/' + n)
    return out


# --------------------------------------------------------------------------- tshark facts

def frame_meta(pcap):
    """{frame: {'time_ns', 'src', 'sport'}} from tshark (capture time exactly, in ns; IP source)."""
    cmd = ['tshark', '-n', '-r', pcap, '-T', 'fields', '-E', 'separator=\t',
           '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src',
           '-e', 'udp.srcport']
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError('tshark failed on %s: %s' % (pcap, r.stderr.decode(errors='replace')[:300]))
    out = {}
    for ln in r.stdout.decode().splitlines():
        c = ln.split('\t')
        c += [''] * (5 - len(c))
        src = c[2].split(',')[0] or c[3].split(',')[0]
        out[int(c[0])] = {'time_ns': dec_ns(c[1]), 'src': src,
                          'sport': int(c[4].split(',')[0]) if c[4] else None}
    return out


def tshark_pairs(pcap, args=()):
    """tshark's whole dissection (-T json) with every JSON object kept as a list of
    (key, value) pairs: repeated keys (the two 'ip' layers of a tunnel, one 'mpls' layer
    per label) survive in wire order, which a dict would lose. One list per frame."""
    cmd = ['tshark', '-n', '-r', pcap, '-T', 'json'] + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError('tshark failed on %s: %s' % (pcap, r.stderr.decode(errors='replace')[:300]))
    return json.loads(r.stdout.decode(errors='replace').strip() or '[]', object_pairs_hook=list)


def pget(pairs, key, default=None):
    """First value of key among pairs (one level), or default."""
    for k, v in pairs:
        if k == key:
            return v
    return default


def pdeep(pairs, key):
    """Every value of key anywhere under pairs (subtrees included), in document order."""
    out = []
    for k, v in pairs:
        if k == key:
            out.append(v)
        if isinstance(v, list):
            out.extend(pdeep(v, key))
    return out


def frame_layers(frame_pairs):
    """(frame number, [(layer name, pairs)]) of one element of tshark_pairs()."""
    layers = pget(pget(frame_pairs, '_source', []), 'layers', [])
    num = int(pget(pget(layers, 'frame', []), 'frame.number', '0'))
    return num, layers


def _pcap_frames(data):
    """Classic pcap (any byte order, us or ns): (global header, [(record header, frame bytes)])."""
    import struct
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise ValueError('not a classic pcap file')
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + 'I', data[off + 8:off + 12])[0]
        out.append((data[off:off + 16], bytearray(data[off + 16:off + 16 + incl])))
        off += 16 + incl
    return data[:24], out


def patched_capture(cap, patches, tmpdir):
    """tshark's decode of a copy of cap.pcap whose UDP payloads are patched:
    patches = [{frame, offset (in the UDP payload), hex}] or
    [{frames: [n...], udp_srcport: port, ipv6_dst: addr}] (one exporter socket and one
    collector address, as tshark keys templates by both). The copy is dissected by the
    corpus' own mkexpected.py with the capture's tshark arguments, so the records come
    from tshark exactly like the originals. Returns a Capture of the copy."""
    with open(cap.pcap, 'rb') as f:
        data = f.read()
    ghdr, frames = _pcap_frames(data)
    for p in patches:
        for n in ([int(p['frame'])] if 'frame' in p else [int(x) for x in p['frames']]):
            r = subprocess.run(['tshark', '-n', '-r', cap.pcap, '-Y', 'frame.number==%d' % n, '-T', 'fields',
                                '-e', 'udp.payload'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            payload = bytes.fromhex(r.stdout.decode().strip().split(',')[0].replace(':', ''))
            fb = frames[n - 1][1]
            at = bytes(fb).find(payload)
            if not payload or at < 8:
                raise ValueError('frame %d: UDP payload not found' % n)
            edits = []
            if 'udp_srcport' in p:
                # the UDP header's source port, 8 bytes before the payload (RFC 768);
                # the checksum is left stale: tshark does not verify it by default
                edits.append((at - 8, int(p['udp_srcport']).to_bytes(2, 'big')))
            if 'ipv6_dst' in p:
                # an IPv6 header right before the UDP header (Next Header 17 at
                # offset 6, destination at 24..40: RFC 8200 §3)
                ip6 = at - 8 - 40
                if ip6 < 0 or fb[ip6] >> 4 != 6 or fb[ip6 + 6] != 17:
                    raise ValueError('frame %d: no IPv6 header right before UDP' % n)
                edits.append((ip6 + 24, socket.inet_pton(socket.AF_INET6, p['ipv6_dst'])))
            if 'hex' in p:
                edits.append((at + int(p['offset']), bytes.fromhex(p['hex'])))
            for o, new in edits:
                fb[o:o + len(new)] = new
    name = os.path.basename(cap.pcap)
    out = os.path.join(tmpdir, name)
    with open(out, 'wb') as f:
        f.write(ghdr)
        for h, fb in frames:
            f.write(h)
            f.write(bytes(fb))
    mk = os.path.join(cap.corpus, 'mkexpected.py')
    r = subprocess.run([sys.executable, mk, out] + list(cap.summary.get('tshark_args', [])),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError('mkexpected.py failed: %s' % r.stderr.decode(errors='replace')[-300:])
    return Capture(tmpdir, name)


# --------------------------------------------------------------------------- running flowtally

class Run:
    def __init__(self, rc, records, stats, stderr, bad_lines):
        self.rc = rc
        self.records = records
        self.stats = stats
        self.stderr = stderr
        self.bad_lines = bad_lines          # stdout lines that are not JSON objects


def run_flowtally(binary, pcap, extra=(), timeout=60):
    cmd = [binary, '--pcap', pcap, '--print', '--stats', '--db', 'off'] + list(extra)  # no rollup database
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    records, bad = [], []
    for ln in r.stdout.decode(errors='replace').splitlines():
        if not ln.strip():
            continue
        try:
            o = json.loads(ln)
            if not isinstance(o, dict):
                raise ValueError
            records.append(o)
        except ValueError:
            bad.append(ln)
    err = r.stderr.decode(errors='replace')
    stats = []
    for ln in err.splitlines():
        if ln.startswith('{'):
            try:
                stats.append(json.loads(ln))
            except ValueError:
                bad.append(ln)
    return Run(r.returncode, records, stats, err, bad)


def sum_stat(stats, group, name):
    return sum(int(s.get(group, {}).get(name, 0)) for s in stats if s.get('kind') == 'exporter_stats')


# --------------------------------------------------------------------------- units

def dec_ns(s):
    """'1673044465.123456789' (seconds, decimal) -> int ns, exactly (no float)."""
    s = str(s).strip()
    neg = s.startswith('-')
    if neg:
        s = s[1:]
    whole, _, frac = s.partition('.')
    ns = int(whole or '0') * 1000000000 + int((frac + '000000000')[:9])
    return -ns if neg else ns


def dec_ms(s):
    """'944951.608000000' (seconds) -> int ms (tshark shows uptimes with ms precision)."""
    ns = dec_ns(s)
    if ns % 1000000:
        raise ValueError('uptime %r is not whole ms' % s)
    return ns // 1000000


_MONTHS = {m: i for i, m in enumerate(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug',
                                       'Sep', 'Oct', 'Nov', 'Dec'], 1)}
_ABSTIME = re.compile(r'^([A-Z][a-z]{2})\s+(\d{1,2}),\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s+UTC$')


def parse_abstime(s):
    """tshark's absolute time 'Oct  5, 2009 06:06:07.492059999 UTC' -> int ns since the epoch."""
    m = _ABSTIME.match(s.strip())
    if not m:
        raise ValueError('unparsed tshark time %r' % s)
    mon, day, year, hh, mm, ss, frac = m.groups()
    secs = calendar.timegm((int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), 0, 0, 0))
    return secs * 1000000000 + int(((frac or '') + '000000000')[:9])


def s32(x):
    """Two's complement of a 32-bit difference (RFC 3954 uptimes wrap at 2^32 ms)."""
    x &= 0xffffffff
    return x - (1 << 32) if x & 0x80000000 else x


def hexint(s):
    return int(s, 16) if str(s).lower().startswith('0x') else int(s)


def addr_norm(s):
    """Text address -> ipaddress object (None for '', 'absent')."""
    if s is None or s == '':
        return None
    a = ipaddress.ip_address(s)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None and '.' in s:
        return a.ipv4_mapped
    return a


def addr_is_zero(s):
    a = addr_norm(s)
    return a is None or int(a) == 0


def fmt_ns(ns):
    if not isinstance(ns, int):
        return repr(ns)
    sign = '-' if ns < 0 else ''
    ns = abs(ns)
    return '%s%d.%09d' % (sign, ns // 1000000000, ns % 1000000000)


# --------------------------------------------------------------------------- expectations

class Exp:
    """One expected value for one --print key.

    kind: 'int' | 'str' | 'addr' | 'mac' | 'bool' | 'ns' (ns allows tol ns either way)
    alts: other values accepted because the contract leaves the choice open (a
          match on an alternative is reported as a NOTE, never silently).
    src:  where the value came from (tshark field, rule, README row) for the report."""

    __slots__ = ('value', 'kind', 'alts', 'note', 'tol', 'src', 'grp')

    def __init__(self, value, kind='int', src='', alts=(), note=None, tol=0, grp=None):
        self.grp = grp      # Exps of one group must all match the value or all an alternative
        self.value = value
        self.kind = kind
        self.alts = tuple(a for a in alts if a is not None)
        self.note = note
        self.tol = tol
        self.src = src

    def _eq(self, want, got):
        k = self.kind
        try:
            if k == 'int':
                return isinstance(got, int) and not isinstance(got, bool) and int(want) == got
            if k == 'ns':
                return isinstance(got, int) and not isinstance(got, bool) and abs(int(want) - got) <= self.tol
            if k == 'bool':
                return got is bool(want)
            if k == 'addr':
                if not isinstance(got, str):
                    return False
                return addr_norm(want) == addr_norm(got)
            if k == 'mac':
                return isinstance(got, str) and want.lower() == got.lower()
            return want == got
        except (ValueError, TypeError):
            return False

    def check(self, got):
        """'ok', 'alt' (matched an accepted alternative) or 'bad'."""
        if self._eq(self.value, got):
            return 'ok'
        for a in self.alts:
            if self._eq(a, got):
                return 'alt'
        return 'bad'

    def show(self, v=None):
        v = self.value if v is None else v
        return fmt_ns(v) if self.kind == 'ns' else json.dumps(v)

    def describe(self):
        s = self.show()
        if self.alts:
            s += ' (or ' + ', '.join(self.show(a) for a in self.alts) + ')'
        if self.kind == 'ns' and self.tol:
            s += ' +-%dns' % self.tol
        return s


class Report:
    """Collects mismatches and notes for one capture."""

    def __init__(self, rel):
        self.rel = rel
        self.fails = []
        self.notes = []

    def fail(self, msg):
        self.fails.append(msg)

    def note(self, msg):
        self.notes.append(msg)

    def note_count(self, key, msg):
        """One note per key, with how many times it applied (for per-record notes)."""
        if not hasattr(self, '_counts'):
            self._counts = {}
        if key not in self._counts:
            self._counts[key] = [0, len(self.notes)]
            self.notes.append(msg)
        c = self._counts[key]
        c[0] += 1
        self.notes[c[1]] = '%s (x%d)' % (msg, c[0])


def compare_record(report, idx, exp, got, label=''):
    """exp: {key: Exp}; got: our JSON object. Every key of exp is checked."""
    groups = {}
    for key in sorted(exp):
        e = exp[key]
        if key not in got:
            report.fail('%s rec %d%s field %s: expected %s [%s], key missing from our output'
                        % (report.rel, idx, label, key, e.describe(), e.src))
            continue
        r = e.check(got[key])
        if r == 'bad':
            report.fail('%s rec %d%s field %s: expected %s [%s], got %s'
                        % (report.rel, idx, label, key, e.describe(), e.src,
                           fmt_ns(got[key]) if e.kind == 'ns' else json.dumps(got[key])))
        if e.grp and r in ('ok', 'alt'):
            groups.setdefault(e.grp, {}).setdefault(r, []).append(key)
        if r == 'alt':
            report.note('%s rec %d%s field %s: got %s, an accepted alternative to %s [%s]: %s'
                        % (report.rel, idx, label, key, json.dumps(got[key]), e.show(), e.src,
                           e.note or 'contract leaves the choice open'))
    for g, res in sorted(groups.items()):
        if 'ok' in res and 'alt' in res:
            report.fail('%s rec %d%s: inconsistent choice among %s values: %s took the first/outer value, '
                        '%s the last/inner one' % (report.rel, idx, label, g, ','.join(res['ok']), ','.join(res['alt'])))


# --------------------------------------------------------------------------- overrides

def apply_overrides(cap, ov, exp, report):
    """The generic entries of one override: ignore [{field, records}] drops a field from the
    expectation, assert [{record, field, value, kind, src, tol}] puts the README's value in
    (reported when it differs from what the tshark mapping gave). exp: [(label, {key: Exp})]."""
    for ig in ov.get('ignore', []):
        recs = range(len(exp)) if ig.get('records', '*') == '*' else ig['records']
        for i in recs:
            if i < len(exp):
                exp[i][1].pop(ig['field'], None)
    for a in ov.get('assert', []):
        i = a['record']
        if i >= len(exp):
            report.fail('%s: override asserts record %d but only %d expected' % (cap.rel, i, len(exp)))
            continue
        kind = a.get('kind', 'int')
        v = a['value']
        if kind == 'ns' and isinstance(v, str):
            v = dec_ns(v)
        new = Exp(v, kind, 'README: ' + a.get('src', ov['reason'][:60]), tol=a.get('tol', 0))
        old = exp[i][1].get(a['field'])
        if old is not None and new.check(old.value) == 'bad':
            # README wins; say so, the derivation from tshark's fields differs
            report.note('%s rec %d field %s: README value %s replaces %s [%s]'
                        % (cap.rel, i, a['field'], new.show(), old.show(), old.src))
        exp[i][1][a['field']] = new


def error_totals(stats):
    """{error kind: count} summed over the exporter_stats objects."""
    errs = {}
    for s in stats:
        if s.get('kind') != 'exporter_stats':
            continue
        for k, v in (s.get('errors') or {}).items():
            errs[k] = errs.get(k, 0) + int(v)
    return errs


# --------------------------------------------------------------------------- driver

def check_capture(cap, ovs, corpus, binary, build, check_stats, select=None):
    """Runs flowtally on one capture and compares: build(cap, ovs, corpus, report) -> (ov,
    [(label, {key: Exp})]); select(cap, ov, run, report) -> the printed records to compare
    (default: all); check_stats(cap, ov, run, report). Returns (report, expected, printed)."""
    report = Report(cap.rel)
    try:
        ov, exp = build(cap, ovs, corpus, report)
        run = run_flowtally(binary, cap.pcap)
    except Exception as ex:  # a crash of the test itself is a failure of this file
        report.fail('%s: test error: %r' % (cap.rel, ex))
        return report, 0, 0
    if run.rc != 0:
        report.fail('%s: flowtally exit status %d; stderr tail: %s' % (cap.rel, run.rc, run.stderr[-400:].strip()))
    for ln in run.bad_lines[:3]:
        report.fail('%s: output line is not a JSON object: %r' % (cap.rel, ln[:200]))
    got = run.records if select is None else select(cap, ov, run, report)
    if len(got) != len(exp):
        report.fail('%s: %d records expected, %d printed' % (cap.rel, len(exp), len(got)))
    for i, ((label, e), g) in enumerate(zip(exp, got)):
        compare_record(report, i, e, g, label)
    check_stats(cap, ov, run, report)
    return report, len(exp), len(got)


def dump_expected(caps, ovs, corpus, build):
    for cap in caps:
        report = Report(cap.rel)
        ov, exp = build(cap, ovs, corpus, report)
        print('== %s: %d expected records' % (cap.rel, len(exp)))
        for i, (label, e) in enumerate(exp):
            print('  [%d]%s ' % (i, label) + ', '.join('%s=%s' % (k, e[k].describe()) for k in sorted(e)))
        for m in report.notes + report.fails:
            print('  ! ' + m)


def suite_main(argv, section, what, wanted, build, check_stats, select=None):
    """The command line of a corpus test. wanted(cap, override entry) picks the captures;
    the other callables as in check_capture. Options: --expect-only (print the expected
    records, do not run flowtally), --only SUBSTRING, --verbose (notes too).
    Last line: "N passed, M failed" (files). Exit 0, 1, or 77 without corpus/captures."""
    only = None
    expect_only = '--expect-only' in argv
    verbose = '--verbose' in argv
    if '--only' in argv:
        only = argv[argv.index('--only') + 1]
    corpus = corpus_dir_or_skip()
    ovs = load_overrides(section)
    caps = []
    for rel in find_captures(corpus):
        if only and only not in rel:
            continue
        cap = Capture(corpus, rel)
        if wanted(cap, ovs.get(rel, {})):
            caps.append(cap)
    if not caps:
        print('SKIP: no %s capture in %s' % (what, corpus))
        return SKIP
    stale = [k for k in ovs if not any(c.rel == k for c in caps)]
    if expect_only:
        dump_expected(caps, ovs, corpus, build)
        return 0
    binary = os.environ.get('FLOWTALLY', '')
    if not binary or not os.access(binary, os.X_OK):
        print('FAIL: FLOWTALLY=%r is not an executable' % binary)
        print('0 passed, %d failed' % len(caps))
        return 1
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: check_capture(c, ovs, corpus, binary, build, check_stats, select), caps))
    passed = failed = 0
    for cap, (report, n_exp, n_got) in zip(caps, results):
        for m in report.fails[:40]:
            print('  MISMATCH ' + m)
        if len(report.fails) > 40:
            print('  ... %d more mismatches in %s' % (len(report.fails) - 40, cap.rel))
        if verbose:
            for m in report.notes:
                print('  NOTE ' + m)
        status = 'FAIL' if report.fails else 'PASS'
        print('%s %s: %d records expected, %d printed, %d mismatches, %d notes'
              % (status, cap.rel, n_exp, n_got, len(report.fails), len(report.notes)))
        if report.fails:
            failed += 1
        else:
            passed += 1
    if not only:
        for k in stale:
            print('FAIL overrides entry %s matches no %s capture' % (k, what))
            failed += 1
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0
