#!/usr/bin/python3
"""corpus_seeds.py - fuzz seeds from the shared corpus captures.

    corpus_seeds.py CORPUS OUTDIR

For every classic pcap under CORPUS (captures/, derived/, bugs/), writes
  OUTDIR/<nfv5|nfv9|ipfix|sflow>/corpus-<file>-<frame>   each UDP payload,
      filed by its version (decoder.h's sniffing rule);
  OUTDIR/stateful/corpus-<file>   all UDP payloads of the file in the
      stateful target's chunk format (fuzz/harness.h): the clock stepped by
      the capture-time gaps (capped at 31 s) and ft_decoder_expire called
      when the capture second changes, as --pcap replay does;
  OUTDIR/pkt_header/corpus-<file>-<frame>   the whole frame, byte 0 = its
      link type in ft_link order (DLT_EN10MB, LINUX_SLL, RAW...), and
  OUTDIR/pkt_header/corpus-<file>-<frame>-h<i>   every sFlow sampled_header,
      byte 0 = the link its header_protocol maps to (sflow_v5.c).
The UDP payloads and sampled headers are what tshark finds (it reassembles
IP fragments and knows every link type of the corpus); the frames and
their times come from the pcap records, read here. Identical seeds are
written once. Exits 0 with a message on stderr (and writes nothing) when
the corpus folder or tshark is absent: the seeds from the test vectors
still exist then.
"""
import hashlib
import os
import shutil
import struct
import subprocess
import sys

# ft_link values (src/decode/pkt_header.h) of the pcap link types we know.
FT_LINK = {1: 0, 101: 1, 228: 2, 229: 3, 113: 5, 276: 6, 0: 7, 108: 8, 12: 1, 14: 1}
# sFlow v5 header_protocol -> ft_link, as sflow_v5.c maps them.
SFLOW_LINK = {1: 0, 11: 2, 12: 3, 13: 4}
CTL_EXPIRE, CTL_STEP = 0x80, 0x1F


def read_pcap(path):
    """(linktype, [(time_ns, frame bytes)]) of a classic pcap, or None."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        return None  # pcapng: not in the corpus today
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    linktype = struct.unpack(end + 'I', data[20:24])[0] & 0x0FFFFFFF
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + 'IIII', data[off:off + 16])
        off += 16
        frames.append((sec * 10**9 + (frac if nano else frac * 1000), data[off:off + incl]))
        off += incl
    return linktype, frames


def tshark_fields(path):
    """{frame number: (udp payload, [(header_protocol, header)])}."""
    out = subprocess.run(
        ['tshark', '-n', '-r', path, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
         '-e', 'frame.number', '-e', 'udp.payload', '-e', 'sflow_245.header_protocol',
         '-e', 'sflow_245.header'],
        check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        cols = (line.split('\t') + ['', '', '', ''])[:4]
        if not cols[0]:
            continue
        payload = bytes.fromhex(cols[1].split(',')[0]) if cols[1] else b''
        protos = [int(x) for x in cols[2].split(',') if x]
        headers = [bytes.fromhex(x) for x in cols[3].split(',') if x]
        res[int(cols[0])] = (payload, list(zip(protos, headers)))
    return res


def target_of(p):
    if len(p) < 4:
        return None
    w = struct.unpack('>I', p[:4])[0]
    if w == 5:
        return 'sflow'
    return {5: 'nfv5', 9: 'nfv9', 10: 'ipfix'}.get(w >> 16)


class Writer:
    def __init__(self, out):
        self.out, self.seen, self.count = out, set(), 0
        for t in ('nfv5', 'nfv9', 'ipfix', 'sflow', 'pkt_header', 'stateful'):
            os.makedirs(os.path.join(out, t), exist_ok=True)

    def put(self, target, name, data):
        key = (target, hashlib.sha1(data).digest())
        if key in self.seen:
            return
        self.seen.add(key)
        with open(os.path.join(self.out, target, name), 'wb') as f:
            f.write(data)
        self.count += 1


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: corpus_seeds.py CORPUS OUTDIR')
    corpus, out = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print(f'corpus_seeds: {corpus} absent: no corpus seeds', file=sys.stderr)
        return
    if not shutil.which('tshark'):
        print('corpus_seeds: tshark not installed: no corpus seeds', file=sys.stderr)
        return
    w = Writer(out)
    files = 0
    for sub in ('captures', 'derived', 'bugs'):
        d = os.path.join(corpus, sub)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            if not fn.endswith('.pcap'):
                continue
            path = os.path.join(d, fn)
            pc = read_pcap(path)
            if pc is None:
                continue
            files += 1
            base = fn[:-5]
            linktype, frames = pc
            fields = tshark_fields(path)
            chain, prev = bytearray(), None
            for i, (t_ns, frame) in enumerate(frames, 1):
                if linktype in FT_LINK:
                    w.put('pkt_header', f'corpus-{base}-{i}', bytes([FT_LINK[linktype]]) + frame)
                payload, headers = fields.get(i, (b'', []))
                for k, (proto, h) in enumerate(headers):
                    if proto in SFLOW_LINK:
                        w.put('pkt_header', f'corpus-{base}-{i}-h{k}', bytes([SFLOW_LINK[proto]]) + h)
                if not payload:
                    continue
                t = target_of(payload)
                if t:
                    w.put(t, f'corpus-{base}-{i}', payload)
                ctl = 0
                if prev is not None:
                    gap = abs(t_ns - prev) // 10**9
                    ctl = min(gap, CTL_STEP) | (0x40 if t_ns < prev else 0)
                    if t_ns // 10**9 != prev // 10**9:
                        ctl |= CTL_EXPIRE
                prev = t_ns
                chain += bytes([ctl]) + struct.pack('>H', min(len(payload), 0xFFFF)) + payload[:0xFFFF]
            if chain:
                w.put('stateful', f'corpus-{base}', bytes(chain))
    print(f'corpus_seeds: {w.count} seeds from {files} captures in {out}')


if __name__ == '__main__':
    main()
