#!/usr/bin/env python3
# Checks for tests/golden/anonymize.sh (pkt-analyze --anonymize). Each command
# prints what it found wrong and exits 1, or exits 0.
#
#   addresses IN...                 list every address of the inputs (kind value)
#   leaks OUT [--twin OUT2] REPORT... -- IN...
#                                   no address of IN, in binary or text form,
#                                   survives in OUT (pcapng, plain or zstd) or
#                                   in the REPORT files (text or JSON output).
#                                   OUT2: the same export with another key (see
#                                   cmd_leaks on 4-byte coincidences)
#   hosts OUT HOST... -- IN...      no host name survives (from the inputs' SHB
#                                   comments, IDB descriptions, and HOST...)
#   skb OUT -- IN...                no skb=0x... kernel address of the inputs
#                                   survives; pseudonyms are consistent
#   mapping OUT -- IN...            same address -> same pseudonym, different ->
#                                   different, prefixes preserved (IPv4, IPv6, MAC)
#   options FILE                    print every string option of a pcapng file
#
# Addresses come from two places: every field tshark dissects (-T json) whose
# value is an IPv4, IPv6 or MAC address, and every address written as text in
# the input's bytes (comments, descriptions, payloads). Addresses the
# anonymizer keeps on purpose (0.0.0.0, 127.0.0.1, broadcast, ::, ::1,
# multicast groups, the zero MAC, group MACs) are not host identities and are
# left out, except solicited-node groups (they hold a host's address).
import ipaddress
import json
import re
import struct
import subprocess
import sys

IP4_RE = re.compile(r'^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$')
MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
IP4_TEXT = re.compile(rb'(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])')
MAC_TEXT = re.compile(rb'(?<![0-9A-Fa-f:])[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}(?![0-9A-Fa-f:])')
IP6_TEXT = re.compile(rb'(?<![0-9A-Fa-f:])[0-9A-Fa-f:]*::?[0-9A-Fa-f:]+(?![0-9A-Fa-f:])')
ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'


def plain(path):
    data = open(path, 'rb').read()
    if data[:4] == ZSTD_MAGIC:
        data = subprocess.run(['zstd', '-dcq'], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    return data


def classify(v):
    """('ip4'|'ip6'|'mac', normalized text, packed bytes) or None."""
    if not isinstance(v, str):
        return None
    v = v.strip().lower()
    if IP4_RE.match(v):
        return ('ip4', v, ipaddress.IPv4Address(v).packed)
    if MAC_RE.match(v):
        return ('mac', v, bytes(int(x, 16) for x in v.split(':')))
    if ':' in v and re.match(r'^[0-9a-f:.]+$', v):
        try:
            a = ipaddress.IPv6Address(v)
        except ValueError:
            return None
        return ('ip6', a.compressed, a.packed)
    return None


def kept_on_purpose(kind, packed):
    """The anonymizer keeps these as they are: no host identity."""
    if kind == 'ip4':
        return packed in (b'\0\0\0\0', b'\x7f\0\0\1', b'\xff\xff\xff\xff') or packed[0] >> 4 == 14
    if kind == 'ip6':
        if packed == bytes(16) or packed == bytes(15) + b'\1':
            return True
        snode = packed[:13] == bytes.fromhex('ff02' + '00' * 9 + '01ff')  # ff02::1:ffXX:XXXX
        return packed[0] == 0xff and not snode and not packed[1] & 0x60  # no P or R flag
    if kind == 'mac':
        return packed == bytes(6) or (packed[0] & 1 and packed[:3] != b'\x33\x33\xff')
    return False


_ADDRESS_FIELDS = None


def address_fields():
    """Names of the tshark fields whose type is an IPv4, IPv6 or MAC address."""
    global _ADDRESS_FIELDS
    if _ADDRESS_FIELDS is None:
        out = subprocess.run(['tshark', '-G', 'fields'], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True).stdout.decode()
        _ADDRESS_FIELDS = {c[2] for c in (l.split('\t') for l in out.splitlines())
                           if len(c) > 3 and c[0] == 'F' and c[3] in ('FT_IPv4', 'FT_IPv6', 'FT_ETHER')}
    return _ADDRESS_FIELDS


def tshark_frames(path):
    out = subprocess.run(['tshark', '-n', '-r', path, '-T', 'json', '--no-duplicate-keys'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    frames, names = [], address_fields()
    for f in json.loads(out or b'[]'):
        layers = f['_source']['layers']
        if 'frame' not in layers or 'frame.time_epoch' not in layers['frame']:
            continue  # a custom block shown as a record
        fields = []

        def walk(k, v):
            if isinstance(v, dict):
                for kk, vv in v.items():
                    walk(kk, vv)
            elif isinstance(v, list):
                for vv in v:
                    walk(k, vv)
            elif k in names:
                c = classify(v)
                if c:
                    fields.append((k, c))
        walk('', layers)
        frames.append((layers['frame']['frame.time_epoch'], fields))
    return frames


def text_addresses(data):
    found = set()
    for rx in (IP4_TEXT, MAC_TEXT, IP6_TEXT):
        for m in rx.finditer(data):
            c = classify(m.group().decode('ascii', 'replace'))
            if c:
                found.add(c)
    return found


def input_addresses(inputs):
    addrs = set()
    for path in inputs:
        for _, fields in tshark_frames(path):
            addrs.update(c for _, c in fields)
        addrs |= text_addresses(plain(path))
    return sorted(a for a in addrs if not kept_on_purpose(a[0], a[2]))


def text_forms(kind, text):
    if kind == 'ip4':
        return [re.compile(rb'(?<![\d.])' + re.escape(text.encode()) + rb'(?![\d])')]
    if kind == 'ip6':
        a = ipaddress.IPv6Address(text)
        forms = {a.compressed, a.exploded}
        return [re.compile(rb'(?i)(?<![0-9a-f:])' + re.escape(f.encode()) + rb'(?![0-9a-f:])')
                for f in forms]
    return [re.compile(rb'(?i)' + re.escape(text.encode())),
            re.compile(rb'(?i)' + re.escape(text.replace(':', '-').encode())),
            re.compile(rb'(?i)' + re.escape(text.replace(':', '').encode()))]


# ---------------------------------------------------------------- pcapng blocks

SHB, IDB, ISB, EPB = 0x0A0D0D0A, 1, 5, 6


def pcapng_blocks(data):
    """(block type, offset, packet data or None, [(option code, value)], problems) per
    block. problems: non-zero padding, a block cut short. Unknown blocks keep their
    whole body as 'packet data' so that it is searched too."""
    pos, e = 0, '<'
    while pos + 12 <= len(data):
        if data[pos:pos + 4] == b'\x0a\x0d\x0d\x0a':
            e = '<' if data[pos + 8:pos + 12] == b'\x4d\x3c\x2b\x1a' else '>'
        btype, blen = struct.unpack(e + 'II', data[pos:pos + 8])
        problems = []
        if blen < 12 or pos + blen > len(data):
            yield btype, pos, data[pos:], [], ['block cut short']
            return
        body = data[pos + 8:pos + blen - 4]
        start = {SHB: 16, IDB: 8, ISB: 12}.get(btype)
        pkt = None
        if btype == EPB:
            caplen = struct.unpack(e + 'I', body[12:16])[0]
            pkt = body[20:20 + caplen]
            start = 20 + (caplen + 3) // 4 * 4
            if any(body[20 + caplen:start]):
                problems.append('non-zero packet padding')
        elif start is None:
            pkt = body
        opts = []
        if start is not None:
            o = start
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + 'HH', body[o:o + 4])
                if code == 0:
                    break
                opts.append((code, body[o + 4:o + 4 + olen]))
                if any(body[o + 4 + olen:o + 4 + (olen + 3) // 4 * 4]):
                    problems.append(f'non-zero padding of option {code}')
                o += 4 + (olen + 3) // 4 * 4
        yield btype, pos, pkt, opts, problems
        pos += blen


def pcapng_strings(data):
    """(block type, option code, text) of the options of SHB, IDB, EPB, ISB that are text."""
    out = []
    for btype, _, _, opts, _ in pcapng_blocks(data):
        for code, val in opts:
            if btype == SHB or code == 1 or (btype == IDB and code in (2, 3, 12, 15)):
                out.append((btype, code, val.decode('utf-8', 'replace')))
    return out


def unescape(s):
    return re.sub(r'%([0-9A-Fa-f]{2})', lambda m: chr(int(m.group(1), 16)), s)


# ---------------------------------------------------------------- commands

def split_args(args):
    i = args.index('--')
    return args[:i], args[i + 1:]


def cmd_addresses(inputs):
    for kind, text, _ in input_addresses(inputs):
        print(kind, text)
    return 0


def packet_hits(data, addrs):
    """{(block index, offset in the packet, address)} of IPv4 addresses in packets."""
    hits = set()
    for i, (_, _, pkt, _, _) in enumerate(pcapng_blocks(data)):
        for kind, text, packed in addrs:
            at = pkt.find(packed) if kind == 'ip4' and pkt is not None else -1
            while at >= 0:
                hits.add((i, at, text))
                at = pkt.find(packed, at + 1)
    return hits


def cmd_leaks(args):
    outs, inputs = split_args(args)
    twin = None
    if '--twin' in outs:
        i = outs.index('--twin')
        twin = outs[i + 1]
        del outs[i:i + 2]
    addrs = input_addresses(inputs)
    # The search must be able to find them: check it on the inputs first.
    every_input = b''.join(plain(p) for p in inputs)
    missing = [t for k, t, b in addrs if b not in every_input and
               not any(rx.search(every_input) for rx in text_forms(k, t))]
    if missing:
        print('search finds nothing in the input for', missing)
        return 1
    kinds = {k for k, _, _ in addrs}
    if len(addrs) < 20 or kinds != {'ip4', 'ip6', 'mac'}:
        print('too few input addresses to prove anything:', len(addrs), kinds)
        return 1
    bad = 0
    for path in outs:
        data = plain(path) if path == outs[0] else open(path, 'rb').read()
        if path == outs[0]:
            # Binary forms: in every packet and every option value, i.e. every byte
            # of the file that is not block structure (types, lengths, timestamps,
            # option codes: numbers pkt-analyze writes; padding: checked zero).
            # Searching each region apart keeps a 4-byte pattern that straddles
            # two fields (e.g. "0a 00 00 01" = TCP wscale 10, padding, option
            # code 1) from counting as 10.0.0.1.
            # A 4-byte pattern also turns up by chance where the bytes depend on
            # the key: a checksum recomputed over pseudonyms (e.g. a TCP checksum
            # ending in 0a, urgent pointer 00 00, a NOP option 01 = 10.0.0.1).
            # Bytes copied from the input do not depend on the key: an IPv4 hit
            # in a packet is a leak when the twin export (another key) has it
            # at the same place too.
            twin_hits = packet_hits(plain(twin), addrs) if twin else None
            for bi, (btype, off, pkt, opts, problems) in enumerate(pcapng_blocks(data)):
                if btype not in (SHB, IDB, EPB, ISB):
                    print(f'{path}: block of type {btype:#x} at offset {off}')
                    bad += 1
                for p in problems:
                    print(f'{path}: block at offset {off}: {p}')
                    bad += 1
                regions = [('packet', pkt)] if pkt is not None else []
                regions += [(f'option {code}', val) for code, val in opts]
                for where, region in regions:
                    for kind, text, packed in addrs:
                        if packed in region and twin_hits is not None and where == 'packet' \
                                and kind == 'ip4' and not any(
                                    (bi, at, text) in twin_hits for at in
                                    (m.start() for m in re.finditer(re.escape(packed), region))):
                            print(f'{path}: {kind} {text} in the packet of the block at offset '
                                  f'{off}: by chance (not in the twin)')
                        elif packed in region:
                            print(f'{path}: {kind} {text} in binary form in the {where} '
                                  f'of the block at offset {off}')
                            bad += 1
            # 6 and 16 bytes: no coincidence, anywhere in the file
            for kind, text, packed in addrs:
                if kind != 'ip4' and packed in data:
                    print(f'{path}: {kind} {text} in binary form at offset {data.find(packed)}')
                    bad += 1
        for kind, text, packed in addrs:
            for rx in text_forms(kind, text):
                m = rx.search(data)
                if m:
                    print(f'{path}: {kind} {text} as text at offset {m.start()}: {m.group()!r}')
                    bad += 1
    print(f'{len(addrs)} input addresses checked in {len(outs)} file(s), {bad} found')
    return 1 if bad else 0


def input_hosts(inputs):
    hosts = set()
    for path in inputs:
        for btype, code, text in pcapng_strings(plain(path)):
            if btype == 0x0A0D0D0A and code == 1:
                hosts.update(unescape(m) for m in re.findall(r'(?:^| )host=(\S+)', text))
            if btype == 1 and code == 3:
                hosts.update(re.findall(r'\bhost (\S+)', text))
    return hosts


def cmd_hosts(args):
    rest, inputs = split_args(args)
    out, extra = rest[0], rest[1:]
    hosts = input_hosts(inputs) | set(extra)
    if not hosts:
        print('no host name in the inputs')
        return 1
    data = plain(out)
    strings = [t for _, _, t in pcapng_strings(data)]
    bad = 0
    for h in sorted(hosts):
        hb = h.encode()
        for needle in (b'host ' + hb, b'host=' + hb) + ((hb,) if len(hb) >= 6 else ()):
            if needle in data:
                print(f'{out}: host name {needle!r} at offset {data.find(needle)}')
                bad += 1
        for s in strings:
            if re.search(r'(?<![\w.-])' + re.escape(h) + r'(?![\w-])', s):
                print(f'{out}: host name {h!r} in option {s!r}')
                bad += 1
    print(f'host names {sorted(hosts)}: {bad} found')
    return 1 if bad else 0


def skbs(data):
    return [int(m, 16) for _, code, t in pcapng_strings(data) if code == 1
            for m in re.findall(r'(?:^| )skb=0x([0-9a-fA-F]+)', t)]


def cmd_skb(args):
    (out,), inputs = split_args(args)
    orig = set()
    for p in inputs:
        orig.update(skbs(plain(p)))
    if len(orig) < 5:
        print('too few skb addresses in the inputs:', len(orig))
        return 1
    data = plain(out)
    bad = 0
    for s in sorted(orig):
        for needle in (b'%x' % s, b'%x' % (s & (1 << 48) - 1), struct.pack('<Q', s), struct.pack('>Q', s)):
            if needle in data:
                print(f'{out}: skb 0x{s:x} survives as {needle!r}')
                bad += 1
    print(f'{len(orig)} skb addresses checked, {bad} found')
    return 1 if bad else 0


def cpl(a, b):
    x = int.from_bytes(a, 'big') ^ int.from_bytes(b, 'big')
    return len(a) * 8 - x.bit_length()


def domain(kind, packed):
    if kind == 'ip6' and packed[0] == 0xff:
        return 'ip6-multicast'
    if kind == 'mac' and packed[0] & 1:
        return 'mac-group'
    return kind


def cmd_mapping(args):
    (out,), inputs = split_args(args)
    before = {}
    for p in inputs:
        for ts, fields in tshark_frames(p):
            if ts in before:
                print('two input frames at', ts, ': cannot line them up')
                return 1
            before[ts] = fields
    after = dict(tshark_frames(out))
    fwd, bad, lined = {}, 0, 0
    for ts, fields_after in after.items():
        if ts not in before:
            print('output frame at', ts, 'has no input frame')
            return 1
        fields_before = before[ts]
        # the same field, the same occurrence: the same place in the packet
        for i, (name, (kind, text, packed)) in enumerate(fields_before):
            if i >= len(fields_after) or fields_after[i][0] != name:
                break
            if kept_on_purpose(kind, packed):
                continue
            new = fields_after[i][1]
            if new[0] != kind:
                break
            lined += 1
            if fwd.setdefault((kind, packed), new[2]) != new[2]:
                print(f'{kind} {text} maps to two values: {fwd[(kind, packed)].hex()} and {new[1]}')
                bad += 1
    rev = {}
    for (kind, packed), new in fwd.items():
        if new == packed:
            print(f'{kind} {packed.hex()} kept as it is')
            bad += 1
        if rev.setdefault((kind, new), packed) != packed:
            print(f'{kind} {rev[(kind, new)].hex()} and {packed.hex()} map to the same {new.hex()}')
            bad += 1
    # prefix preservation: every pair of addresses of one kind shares exactly as many
    # leading bits before and after (the anonymizer keeps the U/L and I/G bits of MACs)
    pairs = same24 = 0
    items = sorted(fwd.items())
    for i, ((k1, a1), n1) in enumerate(items):
        for (k2, a2), n2 in items[i + 1:]:
            if domain(k1, a1) != domain(k2, a2):
                continue  # multicast, solicited-node: other mapping rules
            pairs += 1
            if k1 == 'ip4' and a1[:3] == a2[:3]:
                same24 += 1
                if n1[:3] != n2[:3]:
                    print(f'{a1.hex()} and {a2.hex()} share a /24, not their pseudonyms')
                    bad += 1
            if cpl(a1, a2) != cpl(n1, n2):
                print(f'{k1} {a1.hex()}/{a2.hex()} share {cpl(a1, a2)} bits, '
                      f'pseudonyms {n1.hex()}/{n2.hex()} share {cpl(n1, n2)}')
                bad += 1
    kinds = {k for k, _ in fwd}
    print(f'{len(after)} frames, {lined} addresses lined up, {len(fwd)} distinct, '
          f'{pairs} pairs ({same24} IPv4 pairs in one /24), {bad} problems')
    if kinds != {'ip4', 'ip6', 'mac'} or same24 < 3 or len(fwd) < 20:
        print('too little lined up to prove anything:', kinds)
        return 1
    return 1 if bad else 0


def cmd_options(args):
    for btype, code, text in pcapng_strings(plain(args[0])):
        print(f'{btype:#x} {code} {text}')
    return 0


if __name__ == '__main__':
    cmds = {'addresses': lambda a: cmd_addresses(a), 'leaks': cmd_leaks, 'hosts': cmd_hosts,
            'skb': cmd_skb, 'mapping': cmd_mapping, 'options': cmd_options}
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
