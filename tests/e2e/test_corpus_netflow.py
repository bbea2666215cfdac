#!/usr/bin/python3
"""Corpus comparison, NetFlow v5 / v9 / IPFIX: `flowtally --pcap X --print --stats` against
tshark's decode of every NetFlow/IPFIX capture in ../shared/corpus (X.expected.jsonl).

For each capture holding NetFlow/IPFIX (a `packet` line with proto cflow), in wire order:
  - the data records tshark decoded (kind=record, no options_data) are turned into the
    --print vocabulary (mapping below) and compared with ours, record by record, for every
    field tshark shows; plus fields tshark does not show but that follow from what it shows
    (absolute times from uptimes, sampling rate from options records, ICMP type/code from
    the destination port, etype from the address family) and per-datagram facts
    (type, sequence_num, observation_domain_id, sampler_address = IP source,
    time_received_ns = capture time);
  - the --stats objects: records counter == records printed, datagrams == UDP frames,
    and an error of a plausible kind for every structural problem the summary lists
    (and no error at all on a clean capture).
Known, documented differences (where corpus/README.md says tshark is wrong, or gives the
right value itself) are in ONE table: tests/data/corpus_overrides.json, section "netflow",
each entry quoting its reason.

Env: FLOWTALLY (binary), FT_CORPUS (corpus folder; exit 77 when absent), FT_TEST_DATA.
Usage: test_corpus_netflow.py [--expect-only] [--only SUBSTRING] [--verbose]
  --expect-only  print the expected records in our vocabulary; do not run flowtally.
Last line: "N passed, M failed" (files).
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_expect as ce  # noqa: E402
from corpus_expect import Exp  # noqa: E402

TYPE_NAME = {5: 'NETFLOW_V5', 9: 'NETFLOW_V9', 10: 'IPFIX'}

# tshark field name -> the IEs (RFC 3954 types / IANA IPFIX IDs) tshark shows under that
# name. When a record carries the name more than once (RFC 5103 reverse IEs, PEN 29305;
# or an IE repeated in the template), the template order tells which value is which.
IES = {
    'cflow.octets': {1}, 'cflow.packets': {2}, 'cflow.protocol': {4}, 'cflow.tos': {5},
    'cflow.tcpflags': {6}, 'cflow.srcport': {7}, 'cflow.srcaddr': {8}, 'cflow.srcmask': {9},
    'cflow.inputint': {10}, 'cflow.dstport': {11}, 'cflow.dstaddr': {12}, 'cflow.dstmask': {13},
    'cflow.outputint': {14}, 'cflow.nexthop': {15}, 'cflow.srcas': {16}, 'cflow.dstas': {17},
    'cflow.bgpnexthop': {18}, 'cflow.timeend': {21}, 'cflow.timestart': {22},
    'cflow.post_octets': {23}, 'cflow.post_packets': {24}, 'cflow.srcaddrv6': {27},
    'cflow.dstaddrv6': {28}, 'cflow.srcmaskv6': {29}, 'cflow.dstmaskv6': {30},
    'cflow.ipv6flowlabel': {31}, 'cflow.icmp_type_code_ipv4': {32}, 'cflow.sampling_interval': {34},
    'cflow.sampler_id': {48}, 'cflow.ttl_min': {52}, 'cflow.frag_ident': {54}, 'cflow.srcmac': {56},
    'cflow.post_dstmac': {57}, 'cflow.vlanid': {58}, 'cflow.post_vlanid': {59}, 'cflow.direction': {61},
    'cflow.nexthopv6': {62}, 'cflow.bgpnexthopv6': {63}, 'cflow.dstmac': {80},
    'cflow.forwarding_status': {89}, 'cflow.observation_point_id': {138},
    'cflow.icmp_ipv4_type': {176}, 'cflow.icmp_ipv4_code': {177},
    'cflow.icmp_ipv6_type': {139, 178}, 'cflow.icmp_ipv6_code': {139, 179},
    'cflow.ingress_vrfid': {234}, 'cflow.egress_vrfid': {235}, 'cflow.selector_id': {302},
    'cflow.abstimestart': {150, 152, 154, 156, 158}, 'cflow.abstimeend': {151, 153, 155, 157, 159},
    'cflow.sys_init_time': {160},
    'cflow.mpls_label': set(range(70, 80)), 'cflow.mpls_bos': set(range(70, 80)),
}

# Plain one-to-one mappings: --print key, tshark name, kind, parser.
SIMPLE = [
    ('src_port', 'cflow.srcport', 'int', int),
    ('dst_port', 'cflow.dstport', 'int', int),
    ('proto', 'cflow.protocol', 'int', int),
    ('in_if', 'cflow.inputint', 'int', int),
    ('out_if', 'cflow.outputint', 'int', int),
    ('src_as', 'cflow.srcas', 'int', int),
    ('dst_as', 'cflow.dstas', 'int', int),
    ('ip_tos', 'cflow.tos', 'int', ce.hexint),
    ('tcp_flags', 'cflow.tcpflags', 'int', ce.hexint),
    ('flow_direction', 'cflow.direction', 'int', int),
    ('src_mac', 'cflow.srcmac', 'mac', str),
    ('ingress_vrf_id', 'cflow.ingress_vrfid', 'int', int),
    ('egress_vrf_id', 'cflow.egress_vrfid', 'int', int),
    ('ipv6_flow_label', 'cflow.ipv6flowlabel', 'int', int),
    ('fragment_id', 'cflow.frag_ident', 'int', int),
    ('ip_ttl', 'cflow.ttl_min', 'int', int),
    ('vlan_id', 'cflow.vlanid', 'int', int),
    ('src_vlan', 'cflow.vlanid', 'int', int),
    ('dst_vlan', 'cflow.post_vlanid', 'int', int),
    ('observation_point_id', 'cflow.observation_point_id', 'int', int),
]

US = 1000  # ns: NTP-fraction times (RFC 7011 §6.1.10) round differently per decoder


class MappingError(Exception):
    """The test cannot tell which of tshark's repeated values is which: a test bug."""


# --------------------------------------------------------------------------- record access

class Rec:
    """A tshark record with template-aware access to repeated fields."""

    def __init__(self, cap, o):
        self.cap = cap
        self.o = o
        self.f = o['fields']
        self.tpl = cap.template_for(o) if o.get('flowset_id') is not None else None
        self.tfields = []
        if self.tpl:
            for t in self.tpl.get('fields', []):
                self.tfields.append((int(t['type']) if t.get('type') not in (None, '') else None, t.get('pen')))

    def has(self, name):
        return name in self.f

    def pos(self, name):
        """Index in the template of the first IE shown as `name` (for ordering v4/v6 pairs)."""
        ies = IES.get(name, set())
        for i, (t, pen) in enumerate(self.tfields):
            if t in ies and pen is None:
                return i
        return 1 << 30

    def get(self, name):
        """(forward value, alternative or None). A list is resolved by template order:
        RFC 5103 reverse IEs (PEN 29305) are skipped; an IE repeated in the template gives
        (first occurrence, last occurrence): RFC 7011 §8 says repeated IEs follow the
        order of their treatment by the Metering Process, and our contract names none."""
        v = self.f.get(name)
        if v is None or not isinstance(v, list):
            return v, None
        ies = IES.get(name)
        if not ies or not self.tfields:
            raise MappingError('%s is a list %r and no template/IE map resolves it' % (name, v))
        ent = [(t, pen) for (t, pen) in self.tfields if t in ies and pen in (None, '29305')]
        if len(ent) != len(v):
            raise MappingError('%s has %d values but the template has %d matching IEs' % (name, len(v), len(ent)))
        fwd = [i for i, (t, pen) in enumerate(ent) if pen is None]
        if not fwd:
            raise MappingError('%s: only reverse IEs' % name)
        if len(fwd) == 1 or v[fwd[0]] == v[fwd[-1]]:
            return v[fwd[0]], None
        return v[fwd[0]], v[fwd[-1]]

    def all(self, name):
        v = self.f.get(name)
        if v is None:
            return []
        return v if isinstance(v, list) else [v]


def simple_exp(rec, name, kind, parse, src=None):
    v, alt = rec.get(name)
    if v is None:
        return None
    x = Exp(parse(v), kind, src or name, alts=[parse(alt)] if alt is not None else (),
            note='IE repeated in the template (first vs last occurrence)' if alt is not None else None)
    if alt is not None:
        x.grp = 'repeat'
    return x


def pair_exp(rec, names, kind, is_zero, parse=lambda x: x):
    """One --print key fed by an IPv4 and an IPv6 IE (8/27, 9/29, 15/62, 18/63...).
    One present: it. Both: the non-zero one; both zero or both set: the one first in the
    template, the other accepted (noted)."""
    vals = []
    for n in names:
        v, alt = rec.get(n)
        if v is not None:
            vals.append((rec.pos(n), n, v, alt))
    if not vals:
        return None
    vals.sort()
    nz = [x for x in vals if not is_zero(x[2])]
    if len(vals) > 1 and len(nz) == 1:
        vals = nz
    _, n, v, alt = vals[0]
    alts = [alt] if alt is not None else []
    for _, _, v2, alt2 in vals[1:]:
        alts.append(v2)
        if alt2 is not None:
            alts.append(alt2)
    note = None
    if alts:
        note = ('%s: IPv4 and IPv6 elements both carried' % '/'.join(x[1] for x in vals)
                if len(vals) > 1 else 'IE repeated in the template (first vs last occurrence)')
    x = Exp(parse(v), kind, '/'.join(x[1] for x in vals), alts=[parse(a) for a in alts], note=note)
    if alts and not all(is_zero(a) for a in alts):
        x.grp = 'repeat'   # two real values: outer/first vs inner/last header
    return x


def int_zero(v):
    return int(v) == 0


# --------------------------------------------------------------------------- per-capture state

class Sampling:
    """Sampling rates learnt from options records tshark decoded, per (exporter, domain), in
    wire order. RFC 3954 §8 (34 SAMPLING_INTERVAL, 48/50 sampler id / random interval),
    RFC 5475 / IANA (302 selectorId, 305/306 samplingPacketInterval/Space: count-based
    systematic = 1 in (interval+space)/interval; 309/310 samplingSize/Population: n-out-of-N
    = 1 in population/size)."""

    def __init__(self):
        self.by_id = {}      # (exporter, domain) -> {sampler/selector id: rate}
        self.glob = {}       # (exporter, domain) -> rate
        self.sysinit = {}    # (exporter, domain) -> ns (systemInitTimeMilliseconds, IE 160)

    @staticmethod
    def rate_of(f):
        def g(n):
            v = f.get(n)
            if isinstance(v, list):
                v = v[0]
            return int(v) if v not in (None, '') else None
        pi, ps = g('cflow.sampling_packet_interval'), g('cflow.sampling_packet_space')
        sz, pop = g('cflow.sampling_size'), g('cflow.sampling_population')
        if pi and ps is not None:
            return (pi + ps) // pi
        if sz and pop:
            return pop // sz
        for n in ('cflow.sampler_random_interval', 'cflow.sampling_interval'):
            if g(n):
                return g(n)
        return None

    def learn(self, key, f):
        if 'cflow.sys_init_time' in f:
            self.sysinit[key] = ce.parse_abstime(f['cflow.sys_init_time'])
        r = self.rate_of(f)
        if r is None:
            return
        sid = f.get('cflow.sampler_id', f.get('cflow.selector_id'))
        if sid is not None:
            self.by_id.setdefault(key, {})[int(sid)] = r
        else:
            self.glob[key] = r

    def rate_for(self, key, rec):
        """(rate, why)."""
        si, _ = rec.get('cflow.sampling_interval')
        if si is not None and int(si) > 0:
            return int(si), 'cflow.sampling_interval in the record'
        for n in ('cflow.sampler_id', 'cflow.selector_id'):
            sid, _ = rec.get(n)
            if sid is not None and int(sid) in self.by_id.get(key, {}):
                return self.by_id[key][int(sid)], 'options record for %s %s' % (n, sid)
        if key in self.glob:
            return self.glob[key], 'options record without sampler id'
        return None, None


def header_times(cap, frame):
    """(export time ns, sysUptime ms or None) from the packet header tshark decoded."""
    h = cap.packets[frame]['header']
    ver = int(h.get('cflow.version'))
    if ver == 10:
        return int(h['cflow.exporttime']) * 1000000000, None
    secs = int(h['cflow.unix_secs']) * 1000000000
    if ver == 5:
        secs += int(h.get('cflow.unix_nsecs', '0'))
    return secs, ce.dec_ms(h['cflow.sysuptime'])


def uptime_abs(ver, export_ns, sysup_ms, switched_ms):
    """RFC 3954 §5.2 / Cisco v5: absolute = export time - (sysUptime - switched), the
    difference taken as signed 32 bits (uptime wraps; LAST may follow sysUptime slightly)."""
    if ver == 5:
        return export_ns - ce.s32(sysup_ms - switched_ms) * 1000000
    return (export_ns // 1000000 - ce.s32(sysup_ms - switched_ms)) * 1000000


# --------------------------------------------------------------------------- expected records

def expected_records(cap, meta, ov, report, source_cap=None):
    """[(label, {key: Exp})] in wire order. source_cap: take records from another capture's
    expectation (same payloads, see overrides 'records_from'); per-frame facts stay ours."""
    src = source_cap or cap
    drops = {(d['frame'], str(d['set'])) for d in ov.get('drop_sets', [])}
    st = Sampling()
    out = []
    for o in src.lines:
        if o.get('kind') != 'record':
            continue
        frame = o['frame']
        hdr = src.packets[frame]['header']
        ver = int(hdr['cflow.version'])
        m = meta.get(frame, {})
        dom = hdr.get('cflow.source_id', hdr.get('cflow.od_id'))
        key = (m.get('src'), dom)
        if o.get('options_data'):
            st.learn(key, o['fields'])
            continue
        if (frame, str(o.get('flowset_id'))) in drops:
            continue
        rec = Rec(src, o)
        label = ' (frame %d set %s #%d)' % (frame, o.get('flowset_id'), o.get('index'))
        try:
            e = map_record(src, rec, ver, hdr, m, key, st, report, label)
        except MappingError as ex:
            report.fail('%s%s: TEST MAPPING: %s' % (cap.rel, label, ex))
            e = {}
        out.append((label, e))
    return out


def map_record(cap, rec, ver, hdr, m, key, st, report, label):
    e = {}
    e['type'] = Exp(TYPE_NAME[ver], 'str', 'cflow.version %d' % ver)
    e['sequence_num'] = Exp(int(hdr['cflow.sequence']), 'int', 'header cflow.sequence')
    if ver in (9, 10):
        dom = hdr.get('cflow.source_id', hdr.get('cflow.od_id'))
        e['observation_domain_id'] = Exp(int(dom), 'int', 'header source_id/od_id')
    if m.get('src'):
        e['sampler_address'] = Exp(m['src'], 'addr', 'IP source of the frame (tshark ip.src/ipv6.src)')
    if m.get('time_ns') is not None:
        e['time_received_ns'] = Exp(m['time_ns'], 'ns', 'frame.time_epoch')

    for k, name, kind, parse in SIMPLE:
        x = simple_exp(rec, name, kind, parse)
        if x:
            e[k] = x

    # addresses and prefix lengths: IPv4 or IPv6 element
    x = pair_exp(rec, ('cflow.srcaddr', 'cflow.srcaddrv6'), 'addr', ce.addr_is_zero)
    if x:
        e['src_addr'] = x
        if not x.alts:
            e['etype'] = Exp(0x0800 if ':' not in x.value else 0x86dd, 'int', 'family of ' + x.src)
    x = pair_exp(rec, ('cflow.dstaddr', 'cflow.dstaddrv6'), 'addr', ce.addr_is_zero)
    if x:
        e['dst_addr'] = x
    x = pair_exp(rec, ('cflow.srcmask', 'cflow.srcmaskv6'), 'int', int_zero, int)
    if x:
        e['src_net'] = x
    x = pair_exp(rec, ('cflow.dstmask', 'cflow.dstmaskv6'), 'int', int_zero, int)
    if x:
        e['dst_net'] = x
    bgp = pair_exp(rec, ('cflow.bgpnexthop', 'cflow.bgpnexthopv6'), 'addr', ce.addr_is_zero)
    if bgp:
        e['bgp_next_hop'] = bgp
    nh = pair_exp(rec, ('cflow.nexthop', 'cflow.nexthopv6'), 'addr', ce.addr_is_zero)
    if nh:
        e['next_hop'] = nh
    elif bgp:
        # flow.h: next_hop is the IP next hop, or the BGP one when only that is sent
        e['next_hop'] = Exp(bgp.value, 'addr', bgp.src + ' (no IP next hop)', alts=bgp.alts, note=bgp.note)

    # counters: IN (1) else OUT (23)
    for k, n1, n2 in (('bytes', 'cflow.octets', 'cflow.post_octets'), ('packets', 'cflow.packets', 'cflow.post_packets')):
        x = simple_exp(rec, n1, 'int', int) or simple_exp(rec, n2, 'int', int)
        if x:
            e[k] = x

    # dst_mac: postDestinationMacAddress (57), else destinationMacAddress (80)
    x = simple_exp(rec, 'cflow.post_dstmac', 'mac', str) or simple_exp(rec, 'cflow.dstmac', 'mac', str)
    if x:
        e['dst_mac'] = x

    # forwardingStatus (RFC 7270 §4.12): tshark splits status (2 bits) and reason code (6)
    fs, _ = rec.get('cflow.forwarding_status')
    if fs is not None:
        code = 0
        for n in rec.f:
            if n.startswith('cflow.forwarding_status_') and n.endswith('_code'):
                c = rec.f[n]
                code = int(c[0] if isinstance(c, list) else c)
        e['forwarding_status'] = Exp((int(fs) << 6) | code, 'int', 'cflow.forwarding_status<<6 | reason code')

    icmp_exp(rec, e)
    mpls_exp(rec, e)
    time_exp(cap, rec, ver, hdr, key, st, e, report, label)

    rate, why = st.rate_for(key, rec)
    if rate is None and ver == 5:
        r = int(hdr.get('cflow.samplerate', '0')) & 0x3fff
        rate, why = (r if r else 1), 'v5 header sampling interval (low 14 bits; 0 = 1)'
    if rate is None:
        rate, why = 1, 'no sampling information in the capture'
    e['sampling_rate'] = Exp(rate, 'int', why)
    return e


def icmp_exp(rec, e):
    tc, _ = rec.get('cflow.icmp_type_code_ipv4')
    if tc is not None:
        v = ce.hexint(tc)
        e['icmp_type'] = Exp(v >> 8, 'int', 'cflow.icmp_type_code_ipv4 >> 8')
        e['icmp_code'] = Exp(v & 0xff, 'int', 'cflow.icmp_type_code_ipv4 & 0xff')
        return
    for fam in ('ipv4', 'ipv6'):
        t, _ = rec.get('cflow.icmp_%s_type' % fam)
        c, _ = rec.get('cflow.icmp_%s_code' % fam)
        if t is not None:
            e['icmp_type'] = Exp(int(t), 'int', 'cflow.icmp_%s_type' % fam)
            if c is not None:
                e['icmp_code'] = Exp(int(c), 'int', 'cflow.icmp_%s_code' % fam)
            return
    p = e.get('proto')
    dp = e.get('dst_port')
    if p is not None and dp is not None and not p.alts and not dp.alts and p.value in (1, 58):
        e['icmp_type'] = Exp(dp.value >> 8, 'int', 'ICMP without type field: dst_port >> 8 (COMMON.md)')
        e['icmp_code'] = Exp(dp.value & 0xff, 'int', 'ICMP without type field: dst_port & 0xff (COMMON.md)')


def mpls_exp(rec, e):
    labels = rec.all('cflow.mpls_label')
    if not labels:
        return
    labels = [int(x) for x in labels]
    bos = [int(x) for x in rec.all('cflow.mpls_bos')]
    for i, k in enumerate(('mpls_1_label', 'mpls_2_label', 'mpls_3_label')):
        if i < len(labels):
            e[k] = Exp(labels[i], 'int', 'cflow.mpls_label[%d]' % i)
    if 1 in bos:
        n = bos.index(1) + 1
        e['mpls_count'] = Exp(n, 'int', 'labels up to the bottom-of-stack bit (cflow.mpls_bos)')
        e['mpls_last_label'] = Exp(labels[n - 1], 'int', 'cflow.mpls_label at bottom of stack')
        e['has_mpls'] = Exp(True, 'bool', 'cflow.mpls_label present with bottom of stack')


def time_exp(cap, rec, ver, hdr, key, st, e, report, label):
    export_ns, sysup = header_times(cap, rec.o['frame'])
    got_any = False
    for k, absn, upn in (('time_flow_start_ns', 'cflow.abstimestart', 'cflow.timestart'),
                         ('time_flow_end_ns', 'cflow.abstimeend', 'cflow.timeend')):
        a, _ = rec.get(absn)
        u, _ = rec.get(upn)
        up_ie = 22 if k == 'time_flow_start_ns' else 21
        tie = set(t for t, pen in rec.tfields if pen is None)
        if a is not None and ver == 9 and up_ie in tie and not tie & set(range(150, 160)):
            # tshark 4.0 quirk: a FIRST/LAST_SWITCHED of 0 is shown as the absolute
            # time 'Jan  1, 1970 00:00:00' (logstash-nfv9-nprobe: FIRST_SWITCHED bytes
            # are 00 00 00 00). It is an uptime: apply the RFC 3954 rule to it.
            got_any = True
            ms = ce.parse_abstime(a) // 1000000
            e[k] = Exp(uptime_abs(ver, export_ns, sysup, ms), 'ns',
                       '%s shown as %r: uptime %d ms with header sysUptime/unix_secs' % (absn, a, ms))
        elif a is not None:
            got_any = True
            e[k] = Exp(ce.parse_abstime(a), 'ns', absn, tol=US)
        elif u is not None:
            got_any = True
            if ver in (5, 9):
                e[k] = Exp(uptime_abs(ver, export_ns, sysup, ce.dec_ms(u)), 'ns',
                           '%s uptime %s with header sysUptime/unix_secs, signed 32-bit difference' % (upn, u))
            else:
                si, _ = rec.get('cflow.sys_init_time')
                init = ce.parse_abstime(si) if si is not None else st.sysinit.get(key)
                if init is None:
                    report.note_count('sysup', '%s: times from IPFIX flowStart/EndSysUpTime (22/21) not compared: '
                                      'no systemInitTimeMilliseconds (160) in the record or in options data' % cap.rel)
                else:
                    e[k] = Exp(init + ce.dec_ms(u) * 1000000, 'ns',
                               'systemInitTimeMilliseconds + %s %s' % (upn, u))
    if not got_any:
        e['time_flow_start_ns'] = Exp(export_ns, 'ns', 'no time in the record: export time (COMMON.md)')
        e['time_flow_end_ns'] = Exp(export_ns, 'ns', 'no time in the record: export time (COMMON.md)')


# --------------------------------------------------------------------------- stats

# structure problem (mkexpected.py walk_structure) -> error kinds that fit it
PROBLEM_KINDS = [
    ('IPFIX message length', ('bad_length', 'bad_set_length', 'truncated')),
    ('needs', ('bad_count', 'truncated')),
    ('set id', ('bad_set_length', 'truncated')),
    ('runs past the payload', ('bad_set_length', 'truncated')),
]


def check_stats(cap, ov, run, report):
    st = [s for s in run.stats if s.get('kind') == 'exporter_stats']
    if not st:
        report.fail('%s: no exporter_stats object on stderr' % cap.rel)
        return
    n = ce.sum_stat(st, 'counters', 'records')
    if n != len(run.records):
        report.fail('%s: stats counters.records %d != %d records printed' % (cap.rel, n, len(run.records)))
    udp = cap.summary.get('udp_packets')
    pk = ce.sum_stat(st, 'counters', 'packets')
    if udp is not None and pk != udp and 'packets' not in ov.get('stats_skip', []):
        report.fail('%s: stats counters.packets %d != %d UDP datagrams in the capture' % (cap.rel, pk, udp))
    want_opt = ov.get('options_records', cap.summary.get('options_data_records'))
    got_opt = ce.sum_stat(st, 'counters', 'options_records')
    if want_opt is not None and got_opt != want_opt:
        report.fail('%s: stats counters.options_records %d != %d options records (tshark%s)'
                    % (cap.rel, got_opt, want_opt, ', override' if 'options_records' in ov else ''))
    errs = ce.error_totals(st)
    wanted = []
    for p in cap.summary.get('structure_problems', []):
        for pat, kinds in PROBLEM_KINDS:
            if pat in p:
                wanted.append((p, kinds))
                break
        else:
            wanted.append((p, tuple(errs)))
    if cap.summary.get('no_template_sets'):
        held = ce.sum_stat(st, 'counters', 'pending_held')
        if not held and not errs.get('no_template'):
            report.fail('%s: %d sets without template (tshark) but counters.pending_held and errors.no_template are 0'
                        % (cap.rel, cap.summary['no_template_sets']))
    for kinds in ov.get('errors_any', []):
        wanted.append(('override: ' + ov['reason'][:50], tuple(kinds)))
    for p, kinds in wanted:
        if not any(errs.get(k) for k in kinds):
            report.fail('%s: "%s" but none of errors %s is non-zero (errors: %s)'
                        % (cap.rel, p, '/'.join(kinds), {k: v for k, v in errs.items() if v} or 'all 0'))
    clean = not wanted and not cap.summary.get('no_template_sets') and not cap.summary.get('malformed_frames')
    allowed = set(ov.get('errors_allowed', []))
    if clean:
        bad = {k: v for k, v in errs.items() if v and k not in allowed}
        if bad:
            report.fail('%s: clean capture (no structural problem, no set without template) but errors %s'
                        % (cap.rel, bad))
    for k, v in ov.get('counters_min', {}).items():
        got = ce.sum_stat(st, 'counters', k)
        if got < v:
            report.fail('%s: counters.%s %d < %d (override)' % (cap.rel, k, got, v))


# --------------------------------------------------------------------------- driver

def build(cap, ovs, corpus, report):
    ov = ovs.get(cap.rel, {})
    meta = ce.frame_meta(cap.pcap)
    srccap = ce.Capture(corpus, ov['records_from']) if ov.get('records_from') else None
    if ov.get('patch'):
        tmp = tempfile.mkdtemp(prefix='ft-corpus-')
        try:
            srccap = ce.patched_capture(cap, ov['patch'], tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if srccap is not None:
        # the same payloads: frame numbers must line up one to one
        if sorted(srccap.packets) != sorted(meta):
            report.fail('%s: records_from %s has frames %s, capture has %s'
                        % (cap.rel, ov['records_from'], sorted(srccap.packets), sorted(meta)))
    exp = expected_records(cap, meta, ov, report, srccap)
    ce.apply_overrides(cap, ov, exp, report)
    if 'expect_count' in ov and ov['expect_count'] != len(exp):
        report.fail('%s: override expects %d records, the table yields %d' % (cap.rel, ov['expect_count'], len(exp)))
    ov = dict(ov)
    if srccap is not None and 'options_records' not in ov:
        ov['options_records'] = srccap.summary.get('options_data_records')
    return ov, exp


def wanted(cap, ov):
    return cap.is_netflow() or bool(ov.get('records_from'))


def main(argv):
    return ce.suite_main(argv, 'netflow', 'NetFlow/IPFIX', wanted, build, check_stats)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
