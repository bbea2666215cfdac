#!/usr/bin/python3
"""Corpus comparison, sFlow v5: `flowtally --pcap X --print --stats` against tshark's decode
of every sFlow capture in ../shared/corpus (X.expected.jsonl, kind=sample lines).

For each capture holding sFlow (a `packet` line with proto sflow), in wire order:
  - every flow sample tshark decoded (sample types 1 and 3, enterprise 0) is turned into
    the one --print record flowtally must emit for it (mapping below) and compared with
    ours for EVERY field of the record (a field the sample does not carry must be 0 / ""),
    except the GeoIP enrichment (src_country, dst_country);
  - the sampled header is mapped from tshark's own dissection of the same capture
    (corpus_expect.tshark_pairs), because the jsonl's decoded_header groups values by
    field name and so loses the order of the layers of a tunnel; every value that
    decoded_header holds must agree with that dissection (else TEST MAPPING failure);
  - the --stats objects: one exporter per agent address, counters packets / records /
    flow_samples / counter_samples / samples_skipped / records_skipped / sampling_unknown
    against the counts of tshark's samples and of the corpus' own length walk (structure
    lines), an error of a plausible kind for every structural problem, none on a clean
    capture.
Known, documented differences (where corpus/README.md says tshark is wrong, or where the
bad input rules of issue 3 apply) are in ONE table: tests/data/corpus_overrides.json,
section "sflow", each entry quoting its reason.

Mapping, per flow sample (sFlow.org "sFlow Version 5" §5; FIELDS.md; goflow's sFlow fields):
  type SFLOW_5; sequence_num = datagram sequence_number; sampler_address = agent address;
  observation_domain_id = sub_agent_id; time_received_ns = time_flow_start_ns =
  time_flow_end_ns = capture time; sampling_rate = sampling_rate (0: 1, counted as
  sampling_unknown); packets = 1; bytes = frame length (sampled header frame_length, else
  sampled Ethernet length, else sampled IPv4/IPv6 length);
  in_if = input ifIndex when its format is 0; out_if = output ifIndex when its format is 0
  (1 discarded, 2 multiple: 0), forwarding_status = 0x80 (RFC 7270 §4.12 Dropped) when
  discarded;
  sampled header (the one L2-L4 parser, contract in COMMON.md): src/dst MAC of the first
  Ethernet header, vlan_id = VID of the outermost 802.1Q tag, etype = EtherType of the
  outer IP header (0x0800/0x86dd behind MPLS; the last one of the link layer without IP),
  MPLS labels/TTLs up to the bottom of stack; src/dst addr, proto (after IPv6 extension
  headers), ip_tos, ip_ttl, ip_flags, ipv6_flow_label, fragment_id, fragment_offset of the
  OUTER IP header; has_encap and *_encap from the FIRST inner IP header (IP-in-IP, 6in4,
  GRE), has_ppp / ppp_address_control from PPP in GRE; ports, tcp_flags, icmp_type/code
  from the INNERMOST transport header (the encap contract: fields marked [encap] in a
  mismatch depend on branch encap);
  sampled Ethernet / IPv4 / IPv6 records: the same fields when no header gives them;
  extended switch: src_vlan, dst_vlan; extended router: next_hop, src_net, dst_net;
  extended gateway: bgp_next_hop (and next_hop without a router record, flow.h), src_as
  (the router's AS when src_as is 0, as goflow), dst_as = last AS of the path (the
  router's AS for an empty path), next_hop_as = first AS of the path, as_path (tshark
  lists the communities after the path under the same field name: they are cut off).

Env: FLOWTALLY (binary), FT_CORPUS (corpus folder; exit 77 when absent), FT_TEST_DATA.
Usage: test_corpus_sflow.py [--expect-only] [--only SUBSTRING] [--verbose]
Last line: "N passed, M failed" (files).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_expect as ce  # noqa: E402
from corpus_expect import Exp, pget, pdeep  # noqa: E402

# Sample kinds (enterprise 0), sFlow v5 §5.2-§5.4.
FLOW_SAMPLES = {1, 3}      # flow_sample, flow_sample_expanded: one record each
COUNTER_SAMPLES = {2, 4}   # counters_sample, counters_sample_expanded: no record
# Record formats flowtally decodes (issue 3); every other one is skipped by its length and
# counted in records_skipped. Counter records (issue 3 §4): generic interface counters (1)
# and Ethernet counters (2) are kept per (agent, ifIndex); Ethernet counters carry no
# ifIndex of their own, so only a sample whose source is an interface (source_id type 0)
# has somewhere to keep them.
FLOW_RECORDS = {1, 2, 3, 4, 1001, 1002, 1003}
COUNTER_RECORDS = {1, 2}
# sampled_header header_protocol (§5.5) -> EtherType implied by the link (None: Ethernet).
HEADER_LINK = {1: None, 11: 0x0800, 12: 0x86dd, 13: 0x8847}
AS_PATH_MAX = 16           # flow.h FT_AS_PATH_MAX: first 15 ASes and the last one
DISCARDED = 0x80           # RFC 7270 §4.12 forwardingStatus: status 2 (Dropped), reason 0
ENCAP = ' [encap]'         # marks expectations that follow the encap contract (COMMON.md)

# The decoded_header keys of mkexpected.py (HDR_KEEP) checked against tshark_pairs.
HDR_KEEP = ('eth.src', 'eth.dst', 'eth.type', 'vlan.id', 'vlan.etype', 'mpls.label', 'mpls.bottom',
            'ip.src', 'ip.dst', 'ip.proto', 'ip.len', 'ip.ttl', 'ip.dsfield', 'ip.flags', 'ip.frag_offset',
            'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.flow', 'ipv6.plen', 'ipv6.hlim', 'ipv6.tclass',
            'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'udp.srcport', 'udp.dstport',
            'icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code', 'gre.proto', 'gre.key', 'vxlan.vni',
            'arp.opcode', 'pw.cw', 'ipv6.routing.type', 'ipv6.routing.segments_left')

# Every --print key and its "not carried" value; all are compared (countries excepted).
ZERO = {
    'flow_direction': 0, 'observation_point_id': 0, 'bytes': 0, 'src_addr': '', 'dst_addr': '',
    'etype': 0, 'proto': 0, 'src_port': 0, 'dst_port': 0, 'in_if': 0, 'out_if': 0,
    'src_mac': '00:00:00:00:00:00', 'dst_mac': '00:00:00:00:00:00', 'src_vlan': 0, 'dst_vlan': 0,
    'vlan_id': 0, 'ingress_vrf_id': 0, 'egress_vrf_id': 0, 'ip_tos': 0, 'forwarding_status': 0,
    'ip_ttl': 0, 'ip_flags': 0, 'tcp_flags': 0, 'icmp_type': 0, 'icmp_code': 0, 'ipv6_flow_label': 0,
    'fragment_id': 0, 'fragment_offset': 0, 'bi_flow_direction': 0, 'src_as': 0, 'dst_as': 0,
    'next_hop': '', 'bgp_next_hop': '', 'next_hop_as': 0, 'src_net': 0, 'dst_net': 0, 'as_path': [],
    'has_mpls': False, 'mpls_count': 0, 'mpls_1_ttl': 0, 'mpls_1_label': 0, 'mpls_2_ttl': 0,
    'mpls_2_label': 0, 'mpls_3_ttl': 0, 'mpls_3_label': 0, 'mpls_last_ttl': 0, 'mpls_last_label': 0,
    'has_encap': False, 'src_addr_encap': '', 'dst_addr_encap': '', 'proto_encap': 0, 'etype_encap': 0,
    'ip_tos_encap': 0, 'ip_ttl_encap': 0, 'ipv6_flow_label_encap': 0, 'fragment_id_encap': 0,
    'fragment_offset_encap': 0, 'has_ppp': False, 'ppp_address_control': 0,
}
ADDR_KEYS = {'sampler_address', 'src_addr', 'dst_addr', 'next_hop', 'bgp_next_hop', 'src_addr_encap', 'dst_addr_encap'}
MAC_KEYS = {'src_mac', 'dst_mac'}


class MappingError(Exception):
    """tshark's views disagree or a value cannot be mapped: a test bug, reported as such."""


def kind_of(key):
    if key in ADDR_KEYS:
        return 'addr'
    if key in MAC_KEYS:
        return 'mac'
    if isinstance(ZERO.get(key), bool):
        return 'bool'
    if key == 'as_path':
        return 'str'      # list equality
    return 'int'


def hexint(s):
    return ce.hexint(s) if s not in (None, '') else None


def one(v):
    """A tshark value that may have been repeated: the first."""
    return v[0] if isinstance(v, list) else v


# --------------------------------------------------------------------------- tshark's trees

def sflow_trees(cap):
    """{frame: [[(record label, record pairs)] per sample]} from tshark's full dissection;
    samples and records picked exactly as mkexpected.py's do_sflow picks them, so the
    indexes line up with the jsonl."""
    out = {}
    for fp in ce.tshark_pairs(cap.pcap, cap.summary.get('tshark_args', [])):
        num, layers = ce.frame_layers(fp)
        node = pget(layers, 'sflow')
        if not isinstance(node, list):
            continue
        samples = []
        for k, v in node:
            if not isinstance(v, list) or k.endswith('_tree'):
                continue
            samples.append([(a, b) for a, b in v if isinstance(b, list) and not a.endswith('_tree')])
        out[num] = samples
    return out


def check_tree(s, tree_recs, trailing):
    """The jsonl sample s and tshark_pairs' sample must be the same dissection. trailing:
    the packet line lists layers tshark put after the sflow layer (mkexpected.py appends
    their header fields to the one sampled header of the datagram)."""
    if len(tree_recs) != len(s['records']):
        raise MappingError('%d records in the jsonl, %d in tshark -T json' % (len(s['records']), len(tree_recs)))
    for r, (lbl, pairs) in zip(s['records'], tree_recs):
        dh = r.get('decoded_header')
        if dh is None:
            continue
        layers = pget(pairs, 'sflow_245.header_tree') or []
        for k, v in dh.items():
            mine = pdeep(layers, k)
            want = v if isinstance(v, list) else [v]
            if mine != want and not (trailing and want[:len(mine)] == mine):
                raise MappingError('decoded_header %s = %r but tshark -T json gives %r' % (k, want, mine))


# --------------------------------------------------------------------------- sampled header

def ip_fields(name, p):
    """The fields of one IPv4/IPv6 layer, or None when tshark did not get its fixed part
    (pkt_header uses a header only once it is complete)."""
    if name == 'ip':
        need = ('ip.src', 'ip.dst', 'ip.proto', 'ip.ttl', 'ip.dsfield', 'ip.id', 'ip.flags', 'ip.frag_offset')
        if any(pget(p, k) is None for k in need):
            return None
        return {'v': 4, 'src': pget(p, 'ip.src'), 'dst': pget(p, 'ip.dst'), 'proto': int(pget(p, 'ip.proto')),
                'tos': hexint(pget(p, 'ip.dsfield')), 'ttl': int(pget(p, 'ip.ttl')),
                'id': hexint(pget(p, 'ip.id')), 'flags': hexint(pget(p, 'ip.flags')),
                # tshark 4.0 shows the 13-bit field itself (8-octet units), as we do
                'frag_off': int(pget(p, 'ip.frag_offset')), 'flow': 0, 'etype': 0x0800}
    need = ('ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.hlim', 'ipv6.tclass', 'ipv6.flow')
    if any(pget(p, k) is None for k in need):
        return None
    # the upper layer: the last Next Header of the extension header chain (RFC 8200 §4)
    nxt = [v for k, v in _flat(p) if k == 'ipv6.nxt' or (k.startswith('ipv6.') and k.endswith('.nxt'))]
    f = {'v': 6, 'src': pget(p, 'ipv6.src'), 'dst': pget(p, 'ipv6.dst'), 'proto': int(nxt[-1]),
         'tos': hexint(pget(p, 'ipv6.tclass')), 'ttl': int(pget(p, 'ipv6.hlim')),
         'flow': hexint(pget(p, 'ipv6.flow')), 'id': 0, 'flags': 0, 'frag_off': 0, 'etype': 0x86dd}
    ident = pdeep(p, 'ipv6.fraghdr.ident')
    if ident:
        # RFC 8200 §4.5: offset (8-octet units), res (2 bits), M; goflow's ip_flags = low 3 bits
        f['id'] = hexint(ident[0])
        f['frag_off'] = int(one(pdeep(p, 'ipv6.fraghdr.offset') or ['0']))
        f['flags'] = int(one(pdeep(p, 'ipv6.fraghdr.more') or ['0']))
    return f


def _flat(pairs):
    for k, v in pairs:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield k, v


def walk_header(layers, hp):
    """What the sampled header holds under the COMMON.md contract, from tshark's layers in
    wire order. Layers after the outer IP header are followed only through tunnels (IP in
    IP, GRE, PPP or Ethernet in GRE) to the first transport header."""
    h = {'etype': HEADER_LINK[hp], 'macs': None, 'vlan': None, 'mpls': [], 'outer': None,
         'inner': None, 'l4': None, 'ppp': None, 'tunnel': False}
    i, n = 0, len(layers)
    while i < n:
        name, p = layers[i]
        if name in ('ip', 'ipv6'):
            break
        if name == 'eth' and h['macs'] is None and not h['mpls'] and hp == 1:
            h['macs'] = (pget(p, 'eth.src'), pget(p, 'eth.dst'))
            h['etype'] = hexint(pget(p, 'eth.type'))
        elif name == 'vlan' and not h['mpls']:
            if h['vlan'] is None and pget(p, 'vlan.id') is not None:
                h['vlan'] = int(pget(p, 'vlan.id'))
            if pget(p, 'vlan.etype') is not None:
                h['etype'] = hexint(pget(p, 'vlan.etype'))
        elif name == 'pppoes' and not h['mpls']:
            pass
        elif name == 'ppp' and not h['mpls'] and h['etype'] == 0x8864:
            proto = hexint(pget(p, 'ppp.protocol'))
            h['etype'] = {0x0021: 0x0800, 0x0057: 0x86dd}.get(proto, h['etype'])
        elif name == 'mpls':
            h['mpls'].append((int(pget(p, 'mpls.label')), int(pget(p, 'mpls.ttl')), int(pget(p, 'mpls.bottom'))))
            if h['mpls'][-1][2]:
                # bottom of stack: only IPv4/IPv6 (first nibble) is followed
                nxt = layers[i + 1][0] if i + 1 < n else None
                if nxt not in ('ip', 'ipv6'):
                    return h
        else:
            return h            # ARP, LLC, a pseudowire...: nothing more of ours
        i += 1
    if i >= n:
        return h
    outer = ip_fields(*layers[i])
    if outer is None:
        return h
    if h['mpls'] or h['etype'] is None:
        h['etype'] = outer['etype']
    h['outer'] = outer
    in_gre = False
    for name, p in layers[i + 1:]:
        if name in ('ip', 'ipv6'):
            x = ip_fields(name, p)
            if x is None:
                break
            h['tunnel'] = True
            if h['inner'] is None:
                h['inner'] = x
        elif name == 'gre':
            h['tunnel'] = in_gre = True
        elif name == 'ppp' and in_gre:
            if h['ppp'] is None:
                a, c = hexint(pget(p, 'ppp.address')), hexint(pget(p, 'ppp.control'))
                h['ppp'] = (a << 8 | c) if a is not None and c is not None else 0
        elif name in ('eth', 'vlan') and in_gre:
            pass                # transparent Ethernet bridging (0x6558)
        elif name in ('tcp', 'udp', 'sctp', 'icmp', 'icmpv6'):
            h['l4'] = (name, p)
            break
        else:
            break
    return h


# --------------------------------------------------------------------------- one flow sample

class Want:
    """The expected record being built: key -> Exp, starting from ZERO."""

    def __init__(self):
        self.e = {k: Exp(v, kind_of(k), 'not carried by the sample') for k, v in ZERO.items()}

    def set(self, key, value, src, alts=(), note=None):
        self.e[key] = Exp(value, kind_of(key), src, alts=alts, note=note)


def rec_fields(s, fmt):
    """[(index, fields)] of the sample's records of one format (enterprise 0)."""
    out = []
    for i, r in enumerate(s['records']):
        f = r['fields']
        if int(f.get('sflow.enterprise', '0')) == 0 and f.get('sflow_245.flow_record_format') == str(fmt):
            out.append((i, f))
    return out


def map_sample(cap, frame, sidx, s, tree_recs, m, dropped, report, label):
    """{key: Exp} for one flow sample. dropped: record indexes (0-based) the decoder must
    not use (override drop_records: the record and every one after it in the sample)."""
    f = s['fields']
    hdr = cap.packets[frame]['header']
    w = Want()
    w.set('type', 'SFLOW_5', 'sFlow sample type %s' % f['sflow_245.sampletype'])
    w.e['type'].kind = 'str'
    w.set('sequence_num', int(hdr['sflow_245.sequence_number']), 'datagram sflow_245.sequence_number')
    agent = hdr.get('sflow_245.agent', hdr.get('sflow_245.agent.v6'))
    w.set('sampler_address', agent, 'datagram agent address')
    w.set('observation_domain_id', int(hdr['sflow_245.sub_agent_id']), 'datagram sub_agent_id')
    for k in ('time_received_ns', 'time_flow_start_ns', 'time_flow_end_ns'):
        w.e[k] = Exp(m['time_ns'], 'ns', 'frame.time_epoch (FIELDS.md: sFlow times = arrival)')
    rate = int(f['sflow.flow_sample.sampling_rate'])
    w.set('sampling_rate', rate or 1, 'sflow.flow_sample.sampling_rate' + ('' if rate else ' 0: unknown, 1 (flow.h)'))
    w.set('packets', 1, 'sFlow: one sampled packet')

    # interfaces (§5.4): compact = format in the top 2 bits; expanded = format/value pairs
    if f['sflow_245.sampletype'] == '3':
        in_fmt = int(f['sflow.flow_sample.input_interface_format'])
        in_val = int(f['sflow.flow_sample.input_interface_value'])
        out_fmt = int(f['sflow.flow_sample.output_interface.format'])
    else:
        raw = int(f['sflow.flow_sample.input_interface'])
        in_fmt, in_val = raw >> 30, raw & 0x3fffffff
        out_fmt = int(f['sflow.flow_sample.output_interface_format'])
    out_val = int(f['sflow.flow_sample.output_interface_value'])
    w.set('in_if', in_val if in_fmt == 0 else 0, 'input interface (format %d)' % in_fmt)
    w.set('out_if', out_val if out_fmt == 0 else 0,
          'output interface format %d value %d (1 discarded, 2 multiple: no ifIndex)' % (out_fmt, out_val))
    if out_fmt == 1:
        w.set('forwarding_status', DISCARDED, 'output format 1 = discarded: RFC 7270 Dropped (2<<6)')

    def live(lst):
        return [(i, x) for i, x in lst if i not in dropped]

    headers = live(rec_fields(s, 1))
    eths = live(rec_fields(s, 2))
    ips = live(rec_fields(s, 3)) + live(rec_fields(s, 4))
    switch = live(rec_fields(s, 1001))
    router = live(rec_fields(s, 1002))
    gateway = live(rec_fields(s, 1003))
    for name, lst in (('sampled header', headers), ('extended switch', switch),
                      ('extended router', router), ('extended gateway', gateway)):
        if len(lst) > 1:
            raise MappingError('%d %s records in one sample' % (len(lst), name))

    h = None
    if headers:
        i, hf = headers[0]
        w.set('bytes', int(hf['sflow_245.header.frame_length']), 'sflow_245.header.frame_length')
        hp = int(hf['sflow_245.header_protocol'])
        if hp in HEADER_LINK:
            layers = pget(tree_recs[i][1], 'sflow_245.header_tree') or []
            h = walk_header(layers, hp)
        else:
            report.note_count('hp', '%s: header_protocol %d not parsed (records_skipped)' % (cap.rel, hp))
    if eths:
        ef = eths[0][1]
        if not headers:
            w.set('bytes', int(ef['sflow_245.ethernet.length']), 'sflow_245.ethernet.length')
    if ips and not headers and not eths:
        w.set('bytes', int(ips[0][1]['sflow_245.ip.length']), 'sflow_245.ip.length')

    header_fields(w, h, eths, ips)

    if switch:
        sf = switch[0][1]
        if 'sflow_245.vlan.in' in sf:
            w.set('src_vlan', int(sf['sflow_245.vlan.in']), 'sflow_245.vlan.in')
            w.set('dst_vlan', int(sf['sflow_245.vlan.out']), 'sflow_245.vlan.out')
    if router:
        rf = router[0][1]
        nh = rf.get('sflow_245.nexthop', rf.get('sflow_245.nexthop.v6'))
        w.set('next_hop', nh, 'extended router next hop')
        w.set('src_net', int(rf['sflow_245.nexthop.src_mask']), 'sflow_245.nexthop.src_mask')
        w.set('dst_net', int(rf['sflow_245.nexthop.dst_mask']), 'sflow_245.nexthop.dst_mask')
    if gateway:
        gf = gateway[0][1]
        bgp = gf.get('sflow_245.nexthop', gf.get('sflow_245.nexthop.v6'))
        w.set('bgp_next_hop', bgp, 'extended gateway next hop')
        if not router:
            w.set('next_hop', bgp, 'extended gateway next hop (no extended router record; flow.h)')
        router_as = int(gf['sflow_245.as'])
        src_as = int(gf['sflow_245.srcAS'])
        w.set('src_as', src_as or router_as, 'sflow_245.srcAS' + ('' if src_as else ' 0: router AS sflow_245.as (goflow)'))
        ases = [int(x) for x in (gf.get('sflow_245.dstAS') or [])] if isinstance(gf.get('sflow_245.dstAS'), list) \
            else ([int(gf['sflow_245.dstAS'])] if 'sflow_245.dstAS' in gf else [])
        ncomm = int(gf.get('sflow_245.communityEntries', '0'))
        # tshark shows the communities under the AS field name too, after the path
        path = ases[:len(ases) - ncomm] if ncomm else ases
        if len(ases) < ncomm:
            raise MappingError('gateway: %d AS values, %d communities' % (len(ases), ncomm))
        if path:
            w.set('dst_as', path[-1], 'last AS of the path (sflow_245.dstAS)')
            w.set('next_hop_as', path[0], 'first AS of the path (sflow_245.dstAS)')
        else:
            w.set('dst_as', router_as, 'empty AS path: router AS sflow_245.as')
        kept = path if len(path) <= AS_PATH_MAX else path[:AS_PATH_MAX - 1] + path[-1:]
        w.set('as_path', kept, 'sflow_245.dstAS without the %d communities' % ncomm)
    return w.e


def header_fields(w, h, eths, ips):
    """Packet fields from the sampled header (h) and the sampled Ethernet / IPv4 / IPv6
    records. A header wins; a record that disagrees with it is an accepted alternative."""
    ef = eths[0][1] if eths else None
    ipf = ips[0][1] if ips else None
    ipfam = None
    if ipf is not None:
        ipfam = 4 if 'sflow_245.ipv4_src' in ipf else 6

    # MACs
    rmac = (ef['sflow_245.ethernet.source_mac_address'], ef['sflow_245.ethernet.destination_mac_address']) if ef else None
    if h and h['macs']:
        alts = rmac if rmac and tuple(x.lower() for x in rmac) != tuple(x.lower() for x in h['macs']) else (None, None)
        w.set('src_mac', h['macs'][0], 'eth.src', alts=[alts[0]] if alts[0] else (), note='sampled Ethernet record')
        w.set('dst_mac', h['macs'][1], 'eth.dst', alts=[alts[1]] if alts[1] else (), note='sampled Ethernet record')
    elif rmac:
        w.set('src_mac', rmac[0], 'sflow_245.ethernet.source_mac_address')
        w.set('dst_mac', rmac[1], 'sflow_245.ethernet.destination_mac_address')

    # IP level
    rec_ip = None
    if ipf is not None:
        if ipfam == 4:
            tos = (int(ipf.get('sflow_245.ipv4_precedence_type', '0')) << 5 | int(ipf.get('sflow_245.ipv4_delay', '0')) << 4
                   | int(ipf.get('sflow_245.ipv4_throughput', '0')) << 3 | int(ipf.get('sflow_245.ipv4_reliability', '0')) << 2
                   | int(ipf.get('sflow_245.ipv4_cost', '0')) << 1)
            src, dst = ipf['sflow_245.ipv4_src'], ipf['sflow_245.ipv4_dst']
        else:
            tos = int(ipf.get('sflow_245.ipv6_priority', '0'))
            src, dst = ipf['sflow_245.ipv6_src'], ipf['sflow_245.ipv6_dst']
        flags = 0
        for bit, n in ((0x80, 'cwr'), (0x40, 'ece'), (0x20, 'urg'), (0x10, 'ack'), (0x08, 'psh'),
                       (0x04, 'rst'), (0x02, 'syn'), (0x01, 'fin')):
            if ipf.get('sflow_245.ip.tcp_flag.' + n) == '1':
                flags |= bit
        rec_ip = {'src': src, 'dst': dst, 'proto': int(ipf['sflow.ip_protocol']), 'tos': tos,
                  'sport': int(ipf['sflow_245.ip.source_port']), 'dport': int(ipf['sflow.ip.destination_port']),
                  'tcp_flags': flags, 'etype': 0x0800 if ipfam == 4 else 0x86dd}

    def put(key, hv, hsrc, rv, rsrc, enc=''):
        """Header value hv wins; the IP record's rv is used without one, accepted when it differs."""
        if hv is not None:
            alts = [rv] if rv is not None and Exp(hv, kind_of(key)).check(rv) == 'bad' else []
            w.set(key, hv, hsrc + enc, alts=alts, note='sampled IPv4/IPv6 record (%s)' % rsrc if alts else None)
        elif rv is not None:
            w.set(key, rv, rsrc)

    o = h['outer'] if h else None
    ri = rec_ip or {}
    etype = h['etype'] if h and h['etype'] is not None else None
    esrc = 'EtherType of the outer IP header / last of the link layer'
    if etype is None and ef is not None:
        etype, esrc = int(ef['sflow_245.ethernet.packet_type']), 'sflow_245.ethernet.packet_type'
    put('etype', etype, esrc, ri.get('etype'), 'record family')
    put('src_addr', o and o['src'], 'outer IP source', ri.get('src'), 'record src')
    put('dst_addr', o and o['dst'], 'outer IP destination', ri.get('dst'), 'record dst')
    put('proto', o and o['proto'], 'outer IP protocol (after IPv6 extension headers)', ri.get('proto'), 'record protocol')
    put('ip_tos', o and o['tos'], 'outer ip.dsfield / ipv6.tclass', ri.get('tos'), 'record tos/priority')
    if o:
        w.set('ip_ttl', o['ttl'], 'outer ip.ttl / ipv6.hlim')
        w.set('ip_flags', o['flags'], 'outer ip.flags (3 bits) / IPv6 fragment M')
        w.set('ipv6_flow_label', o['flow'], 'outer ipv6.flow')
        w.set('fragment_id', o['id'], 'outer ip.id / ipv6.fraghdr.ident')
        w.set('fragment_offset', o['frag_off'], 'outer ip.frag_offset / ipv6.fraghdr.offset (8-octet units)')

    # transport: the innermost header reached (encap contract when a tunnel was crossed)
    enc = ENCAP if h and h['tunnel'] else ''
    sport = dport = flags = itype = icode = None
    lsrc = ''
    if h and h['l4']:
        name, p = h['l4']
        lsrc = name
        if name in ('tcp', 'udp', 'sctp'):
            sport, dport = pget(p, name + '.srcport'), pget(p, name + '.dstport')
            sport = int(sport) if sport is not None else None
            dport = int(dport) if dport is not None else None
            if name == 'tcp' and pget(p, 'tcp.flags') is not None:
                flags = hexint(pget(p, 'tcp.flags')) & 0x1ff   # the 9 flag bits (NS = 0x100)
        else:
            t, c = pget(p, name + '.type'), pget(p, name + '.code')
            itype = int(t) if t is not None else None
            icode = int(c) if c is not None else None
    header_l4 = bool(h and h['outer'])
    if header_l4:
        # the header decides; a header without transport fields gives 0, not the record's
        for key, v, n in (('src_port', sport, 'srcport'), ('dst_port', dport, 'dstport'), ('tcp_flags', flags, 'flags'),
                          ('icmp_type', itype, 'type'), ('icmp_code', icode, 'code')):
            rv = ri.get({'src_port': 'sport', 'dst_port': 'dport', 'tcp_flags': 'tcp_flags'}.get(key, ''), None)
            put(key, v if v is not None else 0, '%s.%s' % (lsrc or 'no transport header', n), rv, 'record ' + key, enc)
    elif rec_ip:
        w.set('src_port', ri['sport'], 'record source port')
        w.set('dst_port', ri['dport'], 'record destination port')
        w.set('tcp_flags', ri['tcp_flags'], 'record tcp flags')

    if h:
        if h['vlan'] is not None:
            w.set('vlan_id', h['vlan'], 'vlan.id of the outermost tag')
        if h['mpls']:
            ms = h['mpls']
            w.set('has_mpls', True, 'mpls layers')
            w.set('mpls_count', len(ms), 'mpls labels up to the bottom of stack')
            for j in range(min(3, len(ms))):
                w.set('mpls_%d_label' % (j + 1), ms[j][0], 'mpls.label[%d]' % j)
                w.set('mpls_%d_ttl' % (j + 1), ms[j][1], 'mpls.ttl[%d]' % j)
            w.set('mpls_last_label', ms[-1][0], 'mpls.label at the bottom')
            w.set('mpls_last_ttl', ms[-1][1], 'mpls.ttl at the bottom')
        x = h['inner']
        if x:
            w.set('has_encap', True, 'inner IP header' + ENCAP)
            for key, v, n in (('src_addr_encap', x['src'], 'source'), ('dst_addr_encap', x['dst'], 'destination'),
                              ('proto_encap', x['proto'], 'protocol'), ('etype_encap', x['etype'], 'family'),
                              ('ip_tos_encap', x['tos'], 'tos'), ('ip_ttl_encap', x['ttl'], 'ttl'),
                              ('ipv6_flow_label_encap', x['flow'], 'flow label'),
                              ('fragment_id_encap', x['id'], 'fragment id'),
                              ('fragment_offset_encap', x['frag_off'], 'fragment offset')):
                w.set(key, v, 'first inner IP header %s%s' % (n, ENCAP))
        if h['ppp'] is not None:
            w.set('has_ppp', True, 'PPP in GRE' + ENCAP)
            w.set('ppp_address_control', h['ppp'], 'ppp.address<<8 | ppp.control' + ENCAP)
    if not w.e['etype'].value and w.e['src_addr'].value:
        fam = ':' in w.e['src_addr'].value
        w.set('etype', 0x86dd if fam else 0x0800, 'family of the source address')


# --------------------------------------------------------------------------- a capture

def keyed(lst):
    """Override entries [{frame, sample[, record]}] (1-based) -> set of tuples."""
    return {tuple(int(d[k]) for k in ('frame', 'sample', 'record') if k in d) for d in lst}


def build(cap, ovs, corpus, report):
    """(override entry with the facts check_stats needs, [(label, {key: Exp})])."""
    ov = dict(ovs.get(cap.rel, {}))
    meta = ce.frame_meta(cap.pcap)
    trees = sflow_trees(cap) if cap.samples else {}
    drop_s = keyed(ov.get('drop_samples', []))
    drop_r = keyed(ov.get('drop_records', []))
    structs = {s['frame']: s for s in cap.lines if s.get('kind') == 'structure'}
    facts = {'flow_samples': 0, 'counter_samples': 0, 'samples_skipped': 0, 'records_skipped': 0,
             'sampling_unknown': 0, 'skipped_samples': set(), 'agents': set()}
    for fr, pkt in cap.packets.items():
        if pkt.get('proto') == 'sflow':
            h = pkt['header']
            facts['agents'].add(str(ce.addr_norm(h.get('sflow_245.agent', h.get('sflow_245.agent.v6')))))
    for fr, mm in meta.items():
        if fr not in cap.packets and mm.get('src'):
            facts['agents'].add(str(ce.addr_norm(mm['src'])))    # not sFlow: the datagram source
    out = []
    per_frame = {}
    for s in cap.samples:
        fr = s['frame']
        idx = per_frame[fr] = per_frame.get(fr, 0) + 1
        label = ' (frame %d sample %d: %s)' % (fr, idx, s['label'])
        if (fr, idx) in drop_s:
            continue
        f = s['fields']
        ent, fmt = int(f.get('sflow.enterprise', '0')), int(f.get('sflow_245.sampletype', '-1'))
        st = structs.get(fr, {}).get('samples', [])
        srecs = st[idx - 1]['records'] if idx - 1 < len(st) else []
        if ent != 0 or (fmt not in FLOW_SAMPLES and fmt not in COUNTER_SAMPLES):
            facts['samples_skipped'] += 1
            facts['skipped_samples'].add((fr, idx))
            continue
        dropped = set()
        for (a, b, c) in drop_r:
            if (a, b) == (fr, idx):
                dropped |= set(range(c - 1, max(len(srecs), len(s['records']))))
        allowed = COUNTER_RECORDS if fmt in COUNTER_SAMPLES else FLOW_RECORDS
        if_source = f.get('sflow.counters_sample.source_id_type', '0') == '0'
        for j, r in enumerate(srecs):
            if j in dropped:
                break
            if r['enterprise'] != 0 or r['format'] not in allowed \
                    or (fmt in COUNTER_SAMPLES and r['format'] == 2 and not if_source):
                facts['records_skipped'] += 1
        if fmt in COUNTER_SAMPLES:
            facts['counter_samples'] += 1
            continue
        facts['flow_samples'] += 1
        if int(f['sflow.flow_sample.sampling_rate']) == 0:
            facts['sampling_unknown'] += 1
        try:
            trs = trees.get(fr, [])
            if idx - 1 >= len(trs):
                raise MappingError('sample %d missing from tshark -T json' % idx)
            check_tree(s, trs[idx - 1], bool(cap.packets[fr].get('trailing_layers')))
            for j, r in enumerate(s['records']):
                rf = r['fields']
                if j not in dropped and rf.get('sflow_245.flow_record_format') == '1' \
                        and int(rf.get('sflow_245.header_protocol', '1')) not in HEADER_LINK:
                    facts['records_skipped'] += 1
            e = map_sample(cap, fr, idx, s, trs[idx - 1], meta[fr], dropped, report, label)
        except (MappingError, KeyError, ValueError, TypeError) as ex:
            report.fail('%s%s: TEST MAPPING: %r' % (cap.rel, label, ex))
            e = {}
        out.append((label, e))
    ce.apply_overrides(cap, ov, out, report)
    if 'expect_count' in ov and ov['expect_count'] != len(out):
        report.fail('%s: override expects %d records, the table yields %d' % (cap.rel, ov['expect_count'], len(out)))
    ov['_facts'] = facts
    return ov, out


def select(cap, ov, run, report):
    """Our SFLOW_5 records are compared; any other must be announced by the override."""
    sf = [r for r in run.records if r.get('type') == 'SFLOW_5']
    other = {}
    for r in run.records:
        if r.get('type') != 'SFLOW_5':
            other[r.get('type')] = other.get(r.get('type'), 0) + 1
    want = ov.get('other_records', {})
    if other != want:
        report.fail('%s: non-sFlow records printed %s, expected %s' % (cap.rel, other or 'none', want or 'none'))
    return sf


# structure problem (mkexpected.py walk_structure, sFlow) -> error kinds that fit it
PROBLEM_KINDS = [
    ('runs past the datagram', ('bad_sample', 'truncated')),
    ('records run', ('bad_sample',)),
    ('beyond end', ('bad_sample', 'truncated')),
    ('not a multiple of 4', ('bad_sample',)),
    ('agent address type', ('truncated', 'bad_sample')),
]


def check_stats(cap, ov, run, report):
    facts = ov['_facts']
    st = [s for s in run.stats if s.get('kind') == 'exporter_stats']
    if not st:
        report.fail('%s: no exporter_stats object on stderr' % cap.rel)
        return
    names = set(str(ce.addr_norm(s.get('exporter'))) for s in st)
    if names != facts['agents']:
        report.fail('%s: exporters %s, expected the agents %s' % (cap.rel, sorted(names), sorted(facts['agents'])))
    for s in st:
        is_agent = any(p.get('proto') == 'sflow' and str(ce.addr_norm(p['header'].get('sflow_245.agent', p['header'].get('sflow_245.agent.v6')))) == str(ce.addr_norm(s.get('exporter')))
                       for p in cap.packets.values())
        if is_agent and 'sflow_5' not in (s.get('protocols') or []):
            report.fail('%s: exporter %s protocols %s lack sflow_5' % (cap.rel, s.get('exporter'), s.get('protocols')))
        if not is_agent and 'sflow_5' in (s.get('protocols') or []):
            report.fail('%s: exporter %s is no sFlow agent of the capture but has sflow_5' % (cap.rel, s.get('exporter')))
    n = ce.sum_stat(st, 'counters', 'records')
    if n != len(run.records):
        report.fail('%s: stats counters.records %d != %d records printed' % (cap.rel, n, len(run.records)))
    udp = cap.summary.get('udp_packets')
    pk = ce.sum_stat(st, 'counters', 'packets')
    if udp is not None and pk != udp:
        report.fail('%s: stats counters.packets %d != %d UDP datagrams in the capture' % (cap.rel, pk, udp))
    want = dict((k, facts[k]) for k in ('flow_samples', 'counter_samples', 'samples_skipped', 'records_skipped',
                                        'sampling_unknown'))
    if ov.get('other_records'):
        # sampling_unknown counts the other protocols' records too (test_corpus_netflow.py's)
        del want['sampling_unknown']
    want.update(ov.get('counters', {}))
    for k, v in sorted(want.items()):
        got = ce.sum_stat(st, 'counters', k)
        if got != v:
            report.fail('%s: stats counters.%s %d != %d (%s)' % (cap.rel, k, got, v,
                        'override' if k in ov.get('counters', {}) else "tshark's samples / the corpus length walk"))
    errs = ce.error_totals(st)
    wanted = []
    for p in cap.summary.get('structure_problems', []):
        # a problem inside a sample of a kind we skip by its length is never looked at
        inside = [x for x in facts['skipped_samples'] if p.startswith('frame %d: sample %d ' % x)]
        if inside:
            report.note('%s: "%s" is inside a sample skipped by its length: no error expected' % (cap.rel, p))
            continue
        for pat, kinds in PROBLEM_KINDS:
            if pat in p:
                wanted.append((p, kinds))
                break
        else:
            wanted.append((p, tuple(errs)))
    for kinds in ov.get('errors_any', []):
        wanted.append(('override: ' + ov['reason'][:50], tuple(kinds)))
    for p, kinds in wanted:
        if not any(errs.get(k) for k in kinds):
            report.fail('%s: "%s" but none of errors %s is non-zero (errors: %s)'
                        % (cap.rel, p, '/'.join(kinds), {k: v for k, v in errs.items() if v} or 'all 0'))
    if not wanted:
        bad = {k: v for k, v in errs.items() if v and k not in set(ov.get('errors_allowed', []))}
        if bad:
            report.fail('%s: clean capture (no structural problem) but errors %s' % (cap.rel, bad))
    for k, v in ov.get('counters_min', {}).items():
        got = ce.sum_stat(st, 'counters', k)
        if got < v:
            report.fail('%s: counters.%s %d < %d (override)' % (cap.rel, k, got, v))


def wanted(cap, ov):
    return cap.is_sflow() or bool(ov)


def main(argv):
    return ce.suite_main(argv, 'sflow', 'sFlow', wanted, build, check_stats, select)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
