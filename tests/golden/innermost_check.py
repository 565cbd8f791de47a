#!/usr/bin/env python3
"""Compare pkt-analyze's innermost addresses, ports and DNS id with tshark's.

usage: innermost_check.py PKT_ANALYZE CAPTURE...

For every frame, Wireshark's innermost IPv4/IPv6 layer (the last one in
frame.protocols, not counting what an ICMP error quotes) and the TCP/UDP
and DNS layers above it must match the event pkt-analyze reports for that
frame. IPv4 fragments are left out: Wireshark shows them reassembled. Prints one line per capture ("FILE frames=N ip=N ports=N dns=N
mismatches=N") and the first mismatches; exits 1 if any.
"""
import json
import re
import subprocess
import sys

FIELDS = ["frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "arp.src.proto_ipv4",
          "arp.dst.proto_ipv4", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "dns.id", "ip.flags.mf", "ip.frag_offset"]
# where each innermost layer's addresses are
ADDR = {"ip": ("ip.src", "ip.dst"), "ipv6": ("ipv6.src", "ipv6.dst"),
        "arp": ("arp.src.proto_ipv4", "arp.dst.proto_ipv4")}


def tshark_frames(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E",
           "aggregator=,", "-E", "separator=\t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        yield {f: (cols[i].split(",") if cols[i] else []) for i, f in enumerate(FIELDS)}


def expected(fr):
    """Innermost (family, src, dst, sport, dport, dns_id) as Wireshark sees it."""
    if "1" in fr["ip.flags.mf"] or any(v not in ("", "0") for v in fr["ip.frag_offset"]):
        return None  # Wireshark reassembles IPv4 fragments, we report each as it is
    layers = fr["frame.protocols"][0].split(":") if fr["frame.protocols"] else []
    seen = {"ip": 0, "ipv6": 0, "arp": 0, "tcp": 0, "udp": 0, "dns": 0}
    inner = l4 = dns = None
    for name in layers:
        if name in ("icmp", "icmpv6"):
            break  # what an ICMP error quotes is not the packet
        if name in ADDR:
            inner = (name, seen[name])
            l4 = dns = None
        elif name in ("tcp", "udp") and inner:
            l4 = (name, seen[name])
        elif name == "dns" and l4:
            dns = seen[name]
        if name in seen:
            seen[name] += 1
    if not inner:
        return None
    fam, i = inner

    def pick(field, idx):
        vals = fr[field]
        return vals[idx] if idx < len(vals) else None

    want = {"src": pick(ADDR[fam][0], i), "dst": pick(ADDR[fam][1], i)}
    if l4:
        want["sport"] = pick(l4[0] + ".srcport", l4[1])
        want["dport"] = pick(l4[0] + ".dstport", l4[1])
    if dns is not None and pick("dns.id", dns):
        want["dns"] = int(pick("dns.id", dns), 16)
    return want


def our_events(analyze, path):
    out = subprocess.run([analyze, "--format", "json", path], capture_output=True, text=True).stdout
    return [o for o in map(json.loads, out.splitlines()) if o.get("type") == "event"]


def main():
    analyze, files = sys.argv[1], sys.argv[2:]
    bad_total = 0
    for path in files:
        frames = list(tshark_frames(path))
        events = our_events(analyze, path)
        n_ip = n_ports = n_dns = 0
        bad = []
        if len(frames) != len(events):
            bad.append(f"{len(frames)} frames in tshark, {len(events)} events")
        for num, (fr, ev) in enumerate(zip(frames, events), 1):
            want = expected(fr)
            if not want or want["src"] is None:
                continue
            got = {"src": ev.get("src"), "dst": ev.get("dst")}
            n_ip += 1
            if "sport" in want and want["sport"] is not None:
                n_ports += 1
                got["sport"] = str(ev.get("sport"))
                got["dport"] = str(ev.get("dport"))
            if "dns" in want:
                n_dns += 1
                m = re.search(r"DNS \w+ id=0x([0-9a-f]+)", ev.get("summary", ""))
                got["dns"] = int(m.group(1), 16) if m else None
            for k, v in got.items():
                if str(want[k]) != str(v):
                    bad.append(f"frame {num}: {k} tshark={want[k]} ours={v} ({ev.get('summary')})")
        print(f"{path} frames={len(frames)} ip={n_ip} ports={n_ports} dns={n_dns} "
              f"mismatches={len(bad)}")
        for b in bad[:5]:
            print("  " + b)
        bad_total += len(bad)
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
