#!/usr/bin/env python3
# Regenerates the golden inputs of tests/golden/analyze.sh (committed; run by hand):
#   cd tests/golden/data && python3 gen.py
# - foreign.pcap        classic pcap, no comments (converted to pcapng with editcap
#                       by the test setup, as any dumpcap/tcpdump capture would be)
# - record.pcapng       pkt-record style: IDB names IFNAME@NETNS, hook comments,
#                       packet ids, direction flags, a drop, a NAT hop, ISB losses
# - record-be.pcapng    the same file written big-endian
import struct

T0 = 1700000000 * 10**9  # ns


def mac(n):
    return bytes([2, 0, 0, 0, 0, n])


def eth(dst, src, t):
    return dst + src + struct.pack('>H', t)


def ip4(proto, src, dst, payload, ident=1, ttl=64):
    s = bytes(map(int, src.split('.')))
    d = bytes(map(int, dst.split('.')))
    return struct.pack('>BBHHHBBH', 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0) + s + d + payload


def icmp_echo(t, ident, seq, data=b'abcdefgh'):
    return struct.pack('>BBHHH', t, 0, 0, ident, seq) + data


def tcp(sp, dp, seq, ack, flags, data=b''):
    return struct.pack('>HHIIBBHHH', sp, dp, seq, ack, 0x50, flags, 65535, 0, 0) + data


def udp(sp, dp, data):
    return struct.pack('>HHHH', sp, dp, 8 + len(data), 0) + data


def dns(ident, resp):
    return struct.pack('>HHHHHH', ident, 0x8180 if resp else 0x0100, 1, 1 if resp else 0, 0, 0) + b'\x07example\x03com\x00\x00\x01\x00\x01'


def arp(op, sha, spa, tha, tpa):
    ip = lambda a: bytes(map(int, a.split('.')))
    return struct.pack('>HHBBH', 1, 0x0800, 6, 4, op) + sha + ip(spa) + tha + ip(tpa)


A, B, C = '10.0.0.1', '10.0.0.2', '10.0.0.9'
MA, MB = mac(1), mac(2)
BCAST = b'\xff' * 6


def e4(src_mac, dst_mac, payload_ip):
    return eth(dst_mac, src_mac, 0x0800) + payload_ip


# ---------------------------------------------------------------- foreign
foreign = [
    (0, eth(BCAST, MA, 0x0806) + arp(1, MA, A, b'\0' * 6, B)),
    (150_000, eth(MA, MB, 0x0806) + arp(2, MB, B, MA, A)),
    (1_000_000, e4(MA, MB, ip4(1, A, B, icmp_echo(8, 77, 1), ident=100))),
    (1_250_000, e4(MB, MA, ip4(1, B, A, icmp_echo(0, 77, 1), ident=200))),
    (1_001_000_000, e4(MA, MB, ip4(1, A, B, icmp_echo(8, 77, 2), ident=101))),
    (1_001_300_000, e4(MB, MA, ip4(1, B, A, icmp_echo(0, 77, 2), ident=201))),
    (1_100_000_000, e4(MA, MB, ip4(6, A, B, tcp(41000, 80, 1000, 0, 0x02), ident=300))),
    (1_100_200_000, e4(MB, MA, ip4(6, B, A, tcp(80, 41000, 5000, 1001, 0x12), ident=0))),
    (1_100_300_000, e4(MA, MB, ip4(6, A, B, tcp(41000, 80, 1001, 5001, 0x10), ident=301))),
    (1_100_400_000, e4(MA, MB, ip4(6, A, B, tcp(41000, 80, 1001, 5001, 0x18, b'GET / HTTP/1.0\r\n\r\n'), ident=302))),
    (1_100_900_000, e4(MB, MA, ip4(6, B, A, tcp(80, 41000, 5001, 1019, 0x10), ident=1))),
    (1_200_000_000, e4(MA, MB, ip4(17, A, B, udp(5353, 53, dns(0x1234, False)), ident=400))),
    (1_203_000_000, e4(MB, MA, ip4(17, B, A, udp(53, 5353, dns(0x1234, True)), ident=401))),
    (1_300_000_000, e4(MA, MB, ip4(17, A, B, udp(40000, 7000, b'ping'), ident=500))),
    (1_300_500_000, e4(MB, MA, ip4(17, B, A, udp(7000, 40000, b'pong'), ident=501))),
    (2_000_000_000, e4(MA, MB, ip4(1, A, C, icmp_echo(8, 77, 3), ident=102))),
]

with open('foreign.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap
    for ts, pkt in foreign:
        t = T0 + ts
        f.write(struct.pack('<IIII', t // 10**9, t % 10**9, len(pkt), len(pkt)) + pkt)

# ---------------------------------------------------------------- pkt-record style


class PcapngWriter:
    def __init__(self, endian):
        self.e = endian
        self.out = b''

    def opt(self, code, val):
        pad = (4 - len(val) % 4) % 4
        return struct.pack(self.e + 'HH', code, len(val)) + val + b'\0' * pad

    def block(self, btype, body):
        n = 12 + len(body)
        self.out += struct.pack(self.e + 'II', btype, n) + body + struct.pack(self.e + 'I', n)

    def shb(self):
        opts = self.opt(4, b'pkt-record 0.1.0') + self.opt(3, b'Linux 6.1.0') + self.opt(0, b'')
        self.block(0x0A0D0D0A, struct.pack(self.e + 'IHHq', 0x1A2B3C4D, 1, 0, -1) + opts)

    def idb(self, name, desc):
        opts = self.opt(2, name.encode()) + self.opt(3, desc.encode()) + self.opt(9, b'\x09') + self.opt(0, b'')
        self.block(1, struct.pack(self.e + 'HHI', 1, 0, 256) + opts)

    def epb(self, if_id, ts, data, comment, flags, packetid, origlen=None):
        pad = (4 - len(data) % 4) % 4
        opts = self.opt(1, comment.encode()) + self.opt(2, struct.pack(self.e + 'I', flags)) + \
            self.opt(5, struct.pack(self.e + 'Q', packetid)) + self.opt(0, b'')
        body = struct.pack(self.e + 'IIIII', if_id, ts >> 32, ts & 0xffffffff, len(data),
                           origlen or len(data)) + data + b'\0' * pad + opts
        self.block(6, body)

    def isb(self, if_id, ts, recv, drop):
        opts = self.opt(4, struct.pack(self.e + 'Q', recv)) + self.opt(5, struct.pack(self.e + 'Q', drop)) + self.opt(0, b'')
        self.block(5, struct.pack(self.e + 'III', if_id, ts >> 32, ts & 0xffffffff) + opts)


NS_A, NS_ROOT, NS_B, NS_C = 4026532328, 4026531840, 4026532400, 4026532500
ifaces = [
    ('eth0', NS_A, 2),      # 0 container a
    ('veth-a', NS_ROOT, 5),  # 1 host side of a
    ('br0', NS_ROOT, 4),    # 2 bridge
    ('veth-b', NS_ROOT, 6),  # 3 host side of b
    ('eth0', NS_B, 2),      # 4 container b
    ('eth1', NS_ROOT, 3),   # 5 uplink with SNAT
]
TX, RX, NONE = 2, 1, 0


def comment(hook, iface, skb, track, cpu=0, pid=0, comm='-', extra=''):
    name, ns, ifindex = ifaces[iface]
    c = f'hook={hook} netns={ns} if={name} ifindex={ifindex} skb=0x{skb:x} track=0x{track:x} cpu={cpu} pid={pid} comm={comm}'
    return c + (' ' + extra if extra else '')


def record_events():
    ev = []
    req = e4(MA, MB, ip4(1, A, B, icmp_echo(8, 42, 1), ident=0x1111))
    rep = e4(MB, MA, ip4(1, B, A, icmp_echo(0, 42, 1), ident=0x2222))
    t = 0
    # request: a -> bridge -> b
    path_req = [('net:net_dev_queue', 0, TX, 2570, 'ping'), ('net:netif_rx', 1, RX, 2570, 'ping'),
                ('net:net_dev_queue', 2, TX, 2570, 'ping'), ('net:net_dev_queue', 3, TX, 2570, 'ping'),
                ('net:netif_rx', 4, RX, 2570, 'ping'), ('net:netif_receive_skb', 4, RX, 0, 'swapper/1')]
    for i, (hook, itf, d, pid, comm) in enumerate(path_req):
        ev.append((t + i * 12_000, itf, req, comment(hook, itf, 0xffff888003a4b500, 0x2a, 1, pid, comm.replace('/', '%2F')), d, 0x2a))
    # reply: b -> bridge -> a (the bridge clones: new track id, same content)
    t = 200_000
    path_rep = [('net:net_dev_queue', 4, TX, 0x2b), ('net:netif_rx', 3, RX, 0x2b),
                ('net:net_dev_queue', 2, TX, 0x2b), ('net:net_dev_queue', 1, TX, 0x2c),
                ('net:netif_rx', 0, RX, 0x2c), ('net:netif_receive_skb', 0, RX, 0x2c)]
    for i, (hook, itf, d, track) in enumerate(path_rep):
        ev.append((t + i * 9_000, itf, rep, comment(hook, itf, 0xffff888003a4c000 + (track - 0x2b) * 0x100, track), d, track))
    # a ping to C leaves through eth1 with SNAT (source rewritten), never answered
    t = 1_000_000_000
    out = e4(MA, MB, ip4(1, A, C, icmp_echo(8, 42, 2), ident=0x3333))
    nat = e4(MA, MB, ip4(1, '192.0.2.1', C, icmp_echo(8, 42, 2), ident=0x3333, ttl=63))
    ev.append((t, 0, out, comment('net:net_dev_queue', 0, 0xffff888003a4d000, 0x2d, 0, 2570, 'ping'), TX, 0x2d))
    ev.append((t + 10_000, 1, out, comment('net:netif_rx', 1, 0xffff888003a4d000, 0x2d), RX, 0x2d))
    ev.append((t + 30_000, 5, nat, comment('net:net_dev_queue', 5, 0xffff888003a4d000, 0x2d), TX, 0x2d))
    # a TCP SYN to b dropped by netfilter in the root namespace
    t = 1_500_000_000
    syn = e4(MA, MB, ip4(6, A, B, tcp(41000, 22, 7000, 0, 0x02), ident=0x4444))
    ev.append((t, 0, syn, comment('net:net_dev_queue', 0, 0xffff888003a4e000, 0x2e, 0, 2600, 'ssh'), TX, 0x2e))
    ev.append((t + 8_000, 1, syn, comment('net:netif_rx', 1, 0xffff888003a4e000, 0x2e), RX, 0x2e))
    ev.append((t + 20_000, 1, syn, comment('skb:kfree_skb', 1, 0xffff888003a4e000, 0x2e, extra='drop=NETFILTER_DROP'), NONE, 0x2e))
    return ev


def write_record(path, endian):
    w = PcapngWriter(endian)
    w.shb()
    for name, ns, ifindex in ifaces:
        w.idb(f'{name}@{ns}', f'netns {ns} ifindex {ifindex} host golden')
    for ts, itf, data, com, flags, track in record_events():
        w.epb(itf, T0 + ts, data, com, flags, track)
    for i in range(len(ifaces)):
        w.isb(i, T0 + 2_000_000_000, 3, 3 if i == 0 else 0)
    open(path, 'wb').write(w.out)


write_record('record.pcapng', '<')
write_record('record-be.pcapng', '>')
