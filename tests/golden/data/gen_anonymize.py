#!/usr/bin/env python3
# Regenerates anonymize-foreign.pcapng, an input of tests/golden/anonymize.sh
# (committed; run by hand):  cd tests/golden/data && python3 gen_anonymize.py
#
# A capture "from another writer" that puts addresses and a host name in every
# place pcapng allows, so the test can check that none of them survives
# pkt-analyze --write OUT --anonymize:
#  - SHB: shb_hardware, shb_os, shb_userappl and opt_comment name the host
#    (HOST) and an address
#  - IDBs with if_description, if_IPv4addr, if_IPv6addr, if_MACaddr,
#    if_hardware, opt_comment holding the host name and addresses
#  - link types the anonymizer knows (Ethernet, raw IP 101, Linux SLL 113,
#    LINKTYPE_IPV4 228 since it walks raw IPv4) and one it does not (USER0
#    147): the frames on the latter must be left out (UNVETTED of them)
#  - an NRB (name resolution), a custom block and a DSB, all with addresses
#  - frames: ARP, ICMP echo with a payload pattern, a TCP handshake and data,
#    DNS (names and an A record in the payload), IPv6 ICMPv6 echo, neighbour
#    solicitation/advertisement (solicited-node group, link-layer options),
#    an ICMP error quoting an IP header, an ICMP redirect, IPv4 record-route
#    option, VLAN, VXLAN and GRE tunnels; free-text frame comments; one
#    pkt-record-style comment with an extra unknown key naming the host
#  - an ISB with a comment
# Every frame has its own timestamp (the test lines frames up by time).
import struct

HOST = b'build-host-7.corp.example'
UNVETTED = 3
T0 = 1710000000 * 10**9  # ns; apart from the other golden inputs
PAYLOAD = b'SECRET-PAYLOAD-0123456789abcdef'


def ip4b(a):
    return bytes(map(int, a.split('.')))


def ip6b(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def macb(m):
    return bytes(int(x, 16) for x in m.split(':'))


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(dst, src, t):
    return macb(dst) + macb(src) + struct.pack('>H', t)


def ip4(proto, src, dst, payload, ident=1, ttl=64, opts=b''):
    hl = (20 + len(opts)) // 4
    h = struct.pack('>BBHHHBBH', 0x40 | hl, 0, 20 + len(opts) + len(payload), ident, 0x4000, ttl,
                    proto, 0) + ip4b(src) + ip4b(dst) + opts
    h = h[:10] + struct.pack('>H', csum(h)) + h[12:]
    return h + payload


def l4sum4(proto, src, dst, seg):
    return csum(ip4b(src) + ip4b(dst) + struct.pack('>BBH', 0, proto, len(seg)) + seg)


def l4sum6(proto, src, dst, seg):
    return csum(ip6b(src) + ip6b(dst) + struct.pack('>IxxxB', len(seg), proto) + seg)


def ip6(nh, src, dst, payload, hlim=64):
    return struct.pack('>IHBB', 0x60000000, len(payload), nh, hlim) + ip6b(src) + ip6b(dst) + payload


def icmp(t, code, rest, body):
    m = struct.pack('>BBH', t, code, 0) + rest + body
    return m[:2] + struct.pack('>H', csum(m)) + m[4:]


def tcp4(src, dst, sp, dp, seq, ack, flags, data=b'', opts=b''):
    off = (20 + len(opts)) // 4
    seg = struct.pack('>HHIIBBHHH', sp, dp, seq, ack, off << 4, flags, 64240, 0, 0) + opts + data
    c = l4sum4(6, src, dst, seg)
    return seg[:16] + struct.pack('>H', c) + seg[18:]


def udp4(src, dst, sp, dp, data):
    seg = struct.pack('>HHHH', sp, dp, 8 + len(data), 0) + data
    c = l4sum4(17, src, dst, seg) or 0xffff
    return seg[:6] + struct.pack('>H', c) + seg[8:]


def icmp6(src, dst, t, code, body):
    m = struct.pack('>BBH', t, code, 0) + body
    c = l4sum6(58, src, dst, m)
    return m[:2] + struct.pack('>H', c) + m[4:]


def dns_name(n):
    return b''.join(bytes([len(p)]) + p for p in n.split(b'.')) + b'\0'


def dns(ident, resp, name, addr=None):
    h = struct.pack('>HHHHHH', ident, 0x8180 if resp else 0x0100, 1, 1 if resp else 0, 0, 0)
    q = dns_name(name) + struct.pack('>HH', 1, 1)
    a = b''
    if resp:
        a = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 300, 4) + ip4b(addr)
    return h + q + a


# Addresses (TEST-NET and documentation ranges; never sent anywhere).
H4, GW4, PEER4, DNS4 = '203.0.113.77', '203.0.113.1', '198.51.100.23', '198.51.100.53'
H6, PEER6, GW6 = '2001:db8:5ee:1::77', '2001:db8:5ee:2::9', 'fe80::5054:ff:fe11:2233'
HMAC, GWMAC, PEERMAC = '52:54:00:a7:3c:19', '52:54:00:11:22:33', '52:54:00:44:55:66'
BCAST = 'ff:ff:ff:ff:ff:ff'


def e4(src_mac, dst_mac, pkt, vlan=None):
    if vlan is None:
        return eth(dst_mac, src_mac, 0x0800) + pkt
    return eth(dst_mac, src_mac, 0x8100) + struct.pack('>HH', vlan, 0x0800) + pkt


def e6(src_mac, dst_mac, pkt):
    return eth(dst_mac, src_mac, 0x86dd) + pkt


def arp(op, sha, spa, tha, tpa):
    return struct.pack('>HHBBH', 1, 0x0800, 6, 4, op) + macb(sha) + ip4b(spa) + macb(tha) + ip4b(tpa)


def frames_eth():
    f = []
    f.append((eth(BCAST, HMAC, 0x0806) + arp(1, HMAC, H4, '00:00:00:00:00:00', GW4), 'who-has ' + GW4))
    f.append((eth(HMAC, GWMAC, 0x0806) + arp(2, GWMAC, GW4, HMAC, H4), None))
    ping = icmp(8, 0, struct.pack('>HH', 0x1234, 1), PAYLOAD)
    pong = icmp(0, 0, struct.pack('>HH', 0x1234, 1), PAYLOAD)
    f.append((e4(HMAC, GWMAC, ip4(1, H4, PEER4, ping, ident=11)), 'ping to %s from %s' % (PEER4, HOST.decode())))
    f.append((e4(GWMAC, HMAC, ip4(1, PEER4, H4, pong, ident=12)), None))
    mss = struct.pack('>BBH', 2, 4, 1460) + b'\x01\x01\x04\x02'
    f.append((e4(HMAC, GWMAC, ip4(6, H4, PEER4, tcp4(H4, PEER4, 50000, 80, 1000, 0, 0x02, opts=mss), ident=20)), None))
    f.append((e4(GWMAC, HMAC, ip4(6, PEER4, H4, tcp4(PEER4, H4, 80, 50000, 9000, 1001, 0x12, opts=mss), ident=21)), None))
    f.append((e4(HMAC, GWMAC, ip4(6, H4, PEER4, tcp4(H4, PEER4, 50000, 80, 1001, 9001, 0x10), ident=22)), None))
    get = b'GET /secret HTTP/1.1\r\nHost: ' + HOST + b'\r\nX-Real-IP: ' + H4.encode() + b'\r\n\r\n'
    f.append((e4(HMAC, GWMAC, ip4(6, H4, PEER4, tcp4(H4, PEER4, 50000, 80, 1001, 9001, 0x18, get), ident=23)), None))
    f.append((e4(GWMAC, HMAC, ip4(6, PEER4, H4, tcp4(PEER4, H4, 80, 50000, 9001, 1001 + len(get), 0x10), ident=24)), None))
    f.append((e4(HMAC, GWMAC, ip4(17, H4, DNS4, udp4(H4, DNS4, 40053, 53, dns(0x4242, False, HOST)), ident=30)), None))
    f.append((e4(GWMAC, HMAC, ip4(17, DNS4, H4, udp4(DNS4, H4, 53, 40053, dns(0x4242, True, HOST, H4)), ident=31)), None))
    # ICMP port unreachable from PEER4 quoting a UDP datagram H4 -> PEER4
    quoted = ip4(17, H4, PEER4, udp4(H4, PEER4, 40999, 9999, b'quoted-payload'), ident=40)
    f.append((e4(GWMAC, HMAC, ip4(1, PEER4, H4, icmp(3, 3, b'\0\0\0\0', quoted[:28 + 8]), ident=41)), None))
    # ICMP redirect: use gateway 203.0.113.254 for PEER4
    redir = ip4(1, H4, PEER4, icmp(8, 0, struct.pack('>HH', 0x1234, 9), b''), ident=42)
    f.append((e4(GWMAC, HMAC, ip4(1, GW4, H4, icmp(5, 1, ip4b('203.0.113.254'), redir[:28]), ident=43)), None))
    # IPv4 record route option holding an address
    rr = bytes([7, 11, 8]) + ip4b('198.51.100.201') + ip4b('198.51.100.202') + b'\0'
    f.append((e4(HMAC, GWMAC, ip4(1, H4, PEER4, icmp(8, 0, struct.pack('>HH', 0x1234, 2), PAYLOAD), ident=44, opts=rr)), None))
    f.append((e4(GWMAC, HMAC, ip4(1, PEER4, H4, icmp(0, 0, struct.pack('>HH', 0x1234, 2), PAYLOAD), ident=45)), None))
    # VLAN 77
    f.append((e4(HMAC, GWMAC, ip4(17, '192.168.77.5', '192.168.77.200', udp4('192.168.77.5', '192.168.77.200', 5000, 6000, PAYLOAD)), vlan=77), None))
    # IPv6: neighbour solicitation to the solicited-node group, advertisement, echo
    snode, snmac = 'ff02::1:ff00:9', '33:33:ff:00:00:09'
    ns = struct.pack('>I', 0) + ip6b(PEER6) + bytes([1, 1]) + macb(HMAC)
    f.append((e6(HMAC, snmac, ip6(58, H6, snode, icmp6(H6, snode, 135, 0, ns), hlim=255)), None))
    na = struct.pack('>I', 0x60000000) + ip6b(PEER6) + bytes([2, 1]) + macb(PEERMAC)
    f.append((e6(PEERMAC, HMAC, ip6(58, PEER6, H6, icmp6(PEER6, H6, 136, 0, na), hlim=255)), None))
    e6req = struct.pack('>HH', 0x77, 1) + PAYLOAD
    f.append((e6(HMAC, PEERMAC, ip6(58, H6, PEER6, icmp6(H6, PEER6, 128, 0, e6req))), None))
    f.append((e6(PEERMAC, HMAC, ip6(58, PEER6, H6, icmp6(PEER6, H6, 129, 0, e6req))), None))
    # router solicitation from the link-local address to all-routers
    rs = struct.pack('>I', 0) + bytes([1, 1]) + macb(HMAC)
    f.append((e6(HMAC, '33:33:00:00:00:02', ip6(58, GW6, 'ff02::2', icmp6(GW6, 'ff02::2', 133, 0, rs), hlim=255)), None))
    # VXLAN: outer 10.20.30.40 -> 10.20.30.41, inner Ethernet + ICMP 172.16.5.5 -> 172.16.5.6
    inner = eth('52:54:00:de:ad:02', '52:54:00:de:ad:01', 0x0800) + \
        ip4(1, '172.16.5.5', '172.16.5.6', icmp(8, 0, struct.pack('>HH', 5, 5), PAYLOAD), ident=50)
    vx = struct.pack('>II', 0x08000000, 4242 << 8) + inner
    f.append((e4(HMAC, GWMAC, ip4(17, '10.20.30.40', '10.20.30.41', udp4('10.20.30.40', '10.20.30.41', 33333, 4789, vx), ident=51)), None))
    # GRE (IPv4 in GRE): outer 100.64.1.1 -> 100.64.1.2, inner TCP SYN 10.99.1.1 -> 10.99.1.2
    syn = ip4(6, '10.99.1.1', '10.99.1.2', tcp4('10.99.1.1', '10.99.1.2', 40000, 22, 5, 0, 0x02), ident=60)
    f.append((e4(HMAC, GWMAC, ip4(47, '100.64.1.1', '100.64.1.2', struct.pack('>HH', 0, 0x0800) + syn, ident=61)), None))
    return f


def frames_raw():  # link type 101: raw IP
    return [
        ip4(1, '192.0.2.10', '192.0.2.20', icmp(8, 0, struct.pack('>HH', 7, 1), PAYLOAD), ident=70),
        ip4(1, '192.0.2.20', '192.0.2.10', icmp(0, 0, struct.pack('>HH', 7, 1), PAYLOAD), ident=71),
    ]


def frames_sll():  # link type 113: Linux cooked
    def sll(pkttype, mac, proto, pkt):
        return struct.pack('>HHH', pkttype, 1, 6) + macb(mac) + b'\0\0' + struct.pack('>H', proto) + pkt
    return [
        sll(4, HMAC, 0x0800, ip4(17, H4, '198.51.100.99', udp4(H4, '198.51.100.99', 7000, 7001, PAYLOAD), ident=80)),
        sll(0, '52:54:00:77:88:99', 0x0800, ip4(17, '198.51.100.99', H4, udp4('198.51.100.99', H4, 7001, 7000, PAYLOAD), ident=81)),
    ]


def frames_unvetted():  # link types 147 (USER0) and 228 (IPv4): left out
    p = ip4(1, '198.51.100.150', '198.51.100.151', icmp(8, 0, struct.pack('>HH', 8, 1), PAYLOAD), ident=90)
    return [(3, macb(HMAC) + ip4b(H4) + ip6b(H6) + HOST), (4, p),
            (4, ip4(1, '198.51.100.151', '198.51.100.150', icmp(0, 0, struct.pack('>HH', 8, 1), PAYLOAD)))]


class W:
    def __init__(self):
        self.out = b''

    def opt(self, code, val):
        pad = (4 - len(val) % 4) % 4
        return struct.pack('<HH', code, len(val)) + val + b'\0' * pad

    def end(self):
        return self.opt(0, b'')

    def block(self, btype, body):
        n = 12 + len(body)
        self.out += struct.pack('<II', btype, n) + body + struct.pack('<I', n)

    def shb(self):
        opts = self.opt(2, b'x86_64 on ' + HOST) + self.opt(3, b'Linux 6.1.0-18-amd64 (' + HOST + b')') + \
            self.opt(4, b'Dumpcap (Wireshark) 4.0.17') + \
            self.opt(1, b'captured on ' + HOST + b' ' + H4.encode()) + self.end()
        self.block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + opts)

    def idb(self, linktype, name, desc=None, extra=b''):
        opts = self.opt(2, name) + (self.opt(3, desc) if desc else b'') + self.opt(9, b'\x09') + extra + self.end()
        self.block(1, struct.pack('<HHI', linktype, 0, 262144) + opts)

    def epb(self, if_id, ts, data, comment=None):
        pad = (4 - len(data) % 4) % 4
        opts = (self.opt(1, comment.encode()) if comment else b'')
        opts = opts + self.end() if opts else b''
        self.block(6, struct.pack('<IIIII', if_id, ts >> 32, ts & 0xffffffff, len(data), len(data)) +
                   data + b'\0' * pad + opts)

    def nrb(self):
        rec = lambda t, v: struct.pack('<HH', t, len(v)) + v + b'\0' * ((4 - len(v) % 4) % 4)
        body = rec(1, ip4b(H4) + HOST + b'\0') + rec(1, ip4b(PEER4) + b'peer.corp.example\0') + \
            rec(2, ip6b(H6) + HOST + b'\0') + rec(0, b'')
        body += self.opt(2, b'ns1.corp.example') + self.opt(3, ip4b(DNS4)) + self.end()
        self.block(4, body)

    def custom(self):
        data = b'custom data: ' + HOST + b' ' + H4.encode() + b' ' + ip4b(H4) + macb(HMAC)
        data += b'\0' * ((4 - len(data) % 4) % 4)
        self.block(0x00000BAD, struct.pack('<I', 32473) + data)

    def dsb(self):
        secret = b'CLIENT_RANDOM 00 11 # ' + HOST + b' ' + H4.encode() + b'\n'
        secret += b'\0' * ((4 - len(secret) % 4) % 4)
        self.block(0x0A, struct.pack('<II', 0x544c534b, len(secret)) + secret)

    def isb(self, if_id, ts):
        opts = self.opt(1, b'stats of ' + HOST + b' ' + H4.encode()) + \
            self.opt(4, struct.pack('<Q', 1)) + self.opt(5, struct.pack('<Q', 0)) + self.end()
        self.block(5, struct.pack('<III', if_id, ts >> 32, ts & 0xffffffff) + opts)


w = W()
w.shb()
w.idb(1, b'enp3s0', b'Intel Ethernet of ' + HOST + b', ' + H4.encode(),
      w.opt(4, ip4b(H4) + ip4b('255.255.255.0')) + w.opt(5, ip6b(H6) + b'\x40') + w.opt(6, macb(HMAC)) +
      w.opt(15, b'NIC in ' + HOST) + w.opt(1, b'uplink of ' + PEER4.encode()))
w.idb(101, b'tun0', b'tunnel to 192.0.2.20')
w.idb(113, b'any')
w.idb(147, b'usr0', b'host ' + HOST)
w.idb(228, b'ipv4raw')
w.nrb()
w.custom()
w.dsb()
t = T0
for data, com in frames_eth():
    w.epb(0, t, data, com)
    t += 1_000_000
# a pkt-record-style comment with an extra key that is not in the grammar
w.epb(0, t, e4(HMAC, GWMAC, ip4(1, H4, PEER4, icmp(8, 0, struct.pack('>HH', 0x1234, 3), PAYLOAD), ident=46)),
      'hook=net:net_dev_queue netns=4026531840 if=enp3s0 ifindex=2 skb=0xffff88810badc0de track=0x99 '
      'cpu=0 pid=4242 comm=ping origin=' + HOST.decode() + '/' + H4)
t += 1_000_000
for data in frames_raw():
    w.epb(1, t, data)
    t += 1_000_000
for data in frames_sll():
    w.epb(2, t, data)
    t += 1_000_000
for if_id, data in frames_unvetted():
    w.epb(if_id, t, data)
    t += 1_000_000
assert len(frames_unvetted()) == UNVETTED
for i in range(5):
    w.isb(i, t)
open('anonymize-foreign.pcapng', 'wb').write(w.out)
