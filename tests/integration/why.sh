#!/usr/bin/env bash
# Verdicts on a real kernel: one topology (tests/lib.sh: A and B on a bridge,
# router R between the bridge and C), every way a packet dies or a request
# goes unanswered that the default hooks can tell, at once beside a ping that
# must stay delivered, recorded with pkt-record's default hooks; each
# packet's why/cause (pkt-analyze --format json) and the --why groups are
# checked exactly.
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell.

_need_why_tools() {
	local t
	for t in python3 ping nft; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] && [ -x "$PKT_ANALYZE" ] || { fail "build pkt-record and pkt-analyze first"; return 1; }
}

# One UDP datagram (DF set when $4 is "df"): python3 -c, from the calling netns.
_udp_send() { # dst port size [df]
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
if len(sys.argv) > 4 and sys.argv[4] == "df":
    s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
try:
    s.sendto(b"x" * int(sys.argv[3]), (sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print("send:", e, file=sys.stderr)' "$@"
}

# The checker: pkt-analyze's JSON lines on stdin, the expected verdicts in
# argv[1] as JSON: {"cases": {NAME: {"match": {...}, "cause": {...}}}, "ping": {...}}.
# A case's packets are those whose keys equal "match"; each must carry
# exactly "cause" (a key whose value is a list: one of those; "answer" checked
# key by key). Prints one line per case, fails on any difference.
_check_why() {
	python3 -c "$(cat <<'EOF'
import json, re, sys

want = json.loads(sys.argv[1])
packets = []
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "packet":
        packets.append(o)
byid = {p["id"]: p for p in packets}
bad = []

def matches(p, m):
    return all(same(p.get(k), v) for k, v in m.items())

def same(got, exp):
    if isinstance(exp, dict):  # the keys given, exactly (others, e.g. times, not checked)
        return isinstance(got, dict) and all(same(got.get(k), v) for k, v in exp.items())
    if isinstance(exp, list):
        return got in exp
    if isinstance(exp, str) and exp.startswith("~"):
        return got is not None and re.search(exp[1:], got) is not None
    return got == exp

for name, c in want["cases"].items():
    mine = [p for p in packets if matches(p, c["match"])]
    if len(mine) < c.get("min", 1):
        bad.append("%s: %d packets match %s" % (name, len(mine), c["match"]))
        continue
    for p in mine:
        cause = p.get("cause")
        if not cause:
            bad.append("%s: #%d %s: no cause (fate %s: %s)" % (name, p["id"], p["summary"],
                                                              p["fate"], p["fate_detail"]))
            continue
        for k, v in c["cause"].items():
            if k == "answer" and v is None:
                if cause.get("answer") is not None:
                    bad.append("%s: answered by %s (%s)" % (name, cause["answer"], p["why"]))
            elif k == "answer":
                a = cause.get("answer") or {}
                for ak, av in v.items():
                    if not same(a.get(ak), av):
                        bad.append("%s: answer %s = %r, expected %r (%s)" % (name, ak, a.get(ak), av, p["why"]))
                if a.get("packet") in byid and byid[a["packet"]].get("answers") != p["id"]:
                    bad.append("%s: answer packet #%d does not say it answers #%d" % (name, a["packet"], p["id"]))
            elif not same(cause.get(k), v):
                bad.append("%s: %s = %r, expected %r (%s)" % (name, k, cause.get(k), v, p["why"]))
        if "why" in c and not same(p["why"], c["why"]):
            bad.append("%s: why %r, expected /%s/" % (name, p["why"], c["why"][1:]))
    print("%s: %d packets, e.g. %s" % (name, len(mine), mine[0].get("why")))

# the ping beside them: every request and reply delivered, no verdict
ping = [p for p in packets if any(matches(p, m) for m in want["ping"])]
if len(ping) != want["ping_count"]:
    bad.append("ping: %d packets, expected %d" % (len(ping), want["ping_count"]))
for p in ping:
    if p["fate"] != "delivered" or "why" in p or "cause" in p:
        bad.append("ping: #%d %s: %s %s" % (p["id"], p["summary"], p["fate"], p.get("why")))
print("ping: %d packets delivered" % len(ping))
for b in bad[:20]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
)" "$@"
}

test_every_verdict_exact() {
	need_root || return $?
	_need_why_tools || return $?
	topo_create || return 1
	local f out ns_a ns_b ns_r want rcv noroute=198.19.$N.9 lost=198.18.$N.99 spoof=198.18.$N.77
	f="$PWD/why-$RUN_ID.pcapng"
	ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B") ns_r=$(netns_inode "$NS_R")
	# errors are not rate-limited: one per offending packet, every run
	local unrouted=198.20.$N.4
	for ns in "$NS_A" "$NS_B" "$NS_R"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	done
	# B drops UDP to 7777 in an nftables input chain
	ip netns exec "$NS_B" nft -f - <<-EOT || { fail "nft"; return 1; }
		table inet why$RUN_ID {
			chain input { type filter hook input priority 0; udp dport 7777 drop; }
		}
	EOT
	# A sends 198.19.N.0/24 to R, which has no route for it
	ip -n "$NS_A" route add "198.19.$N.0/24" via "$IP_R" || return 1
	# A gives up on a neighbour after one ARP probe of 100 ms
	ip netns exec "$NS_A" sysctl -qw net.ipv4.neigh.eth0.mcast_solicit=1 \
		net.ipv4.neigh.eth0.retrans_time_ms=100 net.ipv4.neigh.eth0.app_solicit=0
	# R checks sources strictly; C's extra address is routed by R toward the bridge
	ip netns exec "$NS_R" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth1.rp_filter=1
	ip -n "$NS_C" addr add "$spoof/32" dev lo || return 1
	# R's link to C is narrower than the bridge
	ip -n "$NS_R" link set eth1 mtu 1280 || return 1
	# B holds a UDP socket with the smallest receive buffer and never reads it
	rcv="$PWD/why-$RUN_ID.ready"
	ip netns exec "$NS_B" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.bind((sys.argv[1], 6666))
open(sys.argv[2], "w").close()
time.sleep(60)' "$IP_B" "$rcv" &
	local srv=$!
	# the default hooks and the route lookups (not default: they fire on every routed packet)
	record_start "$f" --compress none -e default,fib:fib_table_lookup \
		"net 198.18.$N.0/24 or net 198.18.$N1.0/24 or net 198.19.$N.0/24 or net fd00:$N:1::/64" ||
		{ kill "$srv"; return 1; }
	ip netns exec "$NS_A" ping -c 10 -i 0.1 -W 2 "$IP_B" >/dev/null 2>&1 &
	local png=$!
	ip netns exec "$NS_A" bash -c "$(declare -f _udp_send); _udp_send $IP_B 9999 10"
	ip netns exec "$NS_A" bash -c "$(declare -f _udp_send); _udp_send $IP6_B 9997 10"
	ip netns exec "$NS_A" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9998), timeout=2)
except OSError as e:
    print("connect:", e, file=sys.stderr)' "$IP_B"
	ip netns exec "$NS_A" bash -c "$(declare -f _udp_send); _udp_send $IP_B 7777 10"
	ip netns exec "$NS_A" ping -c 1 -W 1 "$noroute" >/dev/null 2>&1
	# A has no route at all to $unrouted: sendto fails (ENETUNREACH), no packet exists
	ip netns exec "$NS_A" bash -c "$(declare -f _udp_send); _udp_send $unrouted 4444 10" 2>/dev/null
	ip netns exec "$NS_A" ping -c 1 -W 1 "$lost" >/dev/null 2>&1
	ip netns exec "$NS_C" ping -c 1 -W 1 -I "$spoof" "$IP_B" >/dev/null 2>&1
	ip netns exec "$NS_A" ping -c 1 -W 1 -t 1 "$IP_C" >/dev/null 2>&1
	ip netns exec "$NS_A" bash -c "$(declare -f _udp_send); _udp_send $IP_C 5555 1400 df"
	local i
	for i in $(seq 1 50); do [ -e "$rcv" ] && break; sleep 0.1; done
	ip netns exec "$NS_A" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40):
    s.sendto(b"y" * 1000, (sys.argv[1], 6666))' "$IP_B"
	wait "$png"
	sleep 0.5
	record_stop || { kill "$srv" 2>/dev/null; return 1; }
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	rm -f "$rcv"

	want=$(python3 -c '
import json, sys
a, b, r, ns_a, ns_b, ns_r, ip_a, ip_b, ip_c, noroute, lost, spoof, ns_c, ip6_b = sys.argv[1:15]
ns_a, ns_b, ns_r = int(ns_a), int(ns_b), int(ns_r)
rx = "net:netif_receive_skb"
# what the cause hooks add (docs/format.md "cause"): none unless given
quiet = {"route": None, "neighbour": None, "icmp_sent": None, "reset_sent": False, "rmem": None,
         "rcvbuf": None, "rc": None}
def sent(name, t, c, ns, nsname):  # icmp:icmp_send: the error the kernel generated, where
    return {"name": name, "icmp_type": t, "icmp_code": c, "netns": ns, "netns_name": nsname,
            "ifname": "eth0"}
def cause(d, **note):
    return dict(d, **dict(quiet, **note))
print(json.dumps({"cases": {
  "udp-no-listener": {"match": {"proto": "UDP", "dst": ip_b, "dport": 9999},
    "cause": cause({"kind": "icmp-error", "reason": "NO_SOCKET", "function": "~udp", "netns": ns_b,
              "netns_name": b, "ifname": "eth0", "hook": rx,
              "answer": {"type": "icmp", "name": "port unreachable", "icmp_type": 3,
                         "icmp_code": 3, "netns": ns_b, "netns_name": b, "ifname": "eth0"}}, icmp_sent=sent("port unreachable", 3, 3, ns_b, b)),
    "why": "~^no listener on UDP %s:9999: %s answered ICMP port unreachable" % (ip_b, b)},
  "udp6-no-listener": {"match": {"proto": "UDP", "dst": ip6_b, "dport": 9997},
    "cause": cause({"kind": "icmp-error", "reason": "NO_SOCKET", "function": "~udp", "netns": ns_b,
              "netns_name": b, "ifname": "eth0", "hook": rx,
              "answer": {"type": "icmpv6", "name": "port unreachable", "icmp_type": 1,
                         "icmp_code": 4, "netns": ns_b, "netns_name": b, "ifname": "eth0"}}),
    "why": "~^no listener on UDP \\[%s\\]:9997: %s answered ICMPv6 port unreachable" % (ip6_b, b)},
  "tcp-refused": {"match": {"proto": "TCP", "dst": ip_b, "dport": 9998},
    "cause": cause({"kind": "reset", "reason": "NO_SOCKET", "function": "~tcp", "netns": ns_b,
              "netns_name": b, "ifname": "eth0", "hook": rx,
              "answer": {"type": "tcp-rst", "name": "RST", "icmp_type": None, "netns": ns_b,
                         "ifname": "eth0"}}, reset_sent=True),
    "why": "~^connection refused: %s answered RST" % b},
  "nft-drop": {"match": {"proto": "UDP", "dst": ip_b, "dport": 7777},
    "cause": cause({"kind": "drop", "reason": "NETFILTER_DROP", "function": "~^(nft_do_chain|nf_hook_slow)$",
              "netns": ns_b, "netns_name": b, "ifname": "eth0", "hook": rx, "answer": None}),
    "why": "~^dropped by netfilter \\(NETFILTER_DROP\\) in \\w+ at eth0@%s \\(%s\\)$" % (b, rx)},
  "no-route": {"match": {"proto": "ICMP", "src": ip_a, "dst": noroute},
    "cause": cause({"kind": "icmp-error", "reason": ["IP_INNOROUTES", "IP_OUTNOROUTES"], "netns": ns_r,
              "netns_name": r, "ifname": "eth0", "hook": rx,
              "answer": {"type": "icmp", "name": "net unreachable", "icmp_type": 3, "icmp_code": 0,
                         "netns": ns_r, "netns_name": r}}, icmp_sent=sent("net unreachable", 3, 0, ns_r, r), route={"table": 254, "table_name": "main", "fib_err": -11, "error": "ENETUNREACH", "saddr": ip_a, "daddr": noroute, "netns": ns_r, "netns_name": r, "hook": "fib:fib_table_lookup"}),
    "why": "~^no route to %s: %s answered ICMP net unreachable .*; no route to %s in table main of %s: ENETUNREACH$" % (noroute, r, noroute, r)},
  "neighbour": {"match": {"proto": "ICMP", "src": ip_a, "dst": lost},
    "cause": {"kind": "icmp-error", "reason": ["NEIGH_FAILED", "NEIGH_QUEUEFULL"], "function": "~neigh",
              "netns": ns_a, "netns_name": a,
              "answer": {"type": "icmp", "name": "host unreachable", "icmp_type": 3, "icmp_code": 1,
                         "netns": ns_a}},
    "why": "~^the next hop toward %s never answered ARP/NDP: %s answered ICMP host unreachable" % (lost, a)},
  "rp-filter": {"match": {"proto": "ICMP", "src": spoof, "dst": ip_b},
    "cause": cause({"kind": "drop", "reason": "IP_RPFILTER", "netns": ns_r, "netns_name": r,
              "ifname": "eth1", "hook": rx, "answer": None}),
    "why": "~^reverse-path filter: %s is not routed back this way \\(IP_RPFILTER\\)" % spoof},
  "ttl": {"match": {"proto": "ICMP", "src": ip_a, "dst": ip_c},
    "cause": cause({"kind": "icmp-error", "reason": "IP_INHDR", "function": "~forward", "netns": ns_r,
              "netns_name": r, "ifname": "eth0", "hook": rx,
              "answer": {"type": "icmp", "name": "time exceeded", "icmp_type": 11, "icmp_code": 0,
                         "netns": ns_r, "netns_name": r}}, icmp_sent=sent("time exceeded", 11, 0, ns_r, r)),
    "why": "~^TTL expired on the way to %s: %s answered ICMP time exceeded" % (ip_c, r)},
  "mtu": {"match": {"proto": "UDP", "dst": ip_c, "dport": 5555},
    "cause": cause({"kind": "icmp-error", "reason": "PKT_TOO_BIG", "function": "~forward", "netns": ns_r,
              "netns_name": r, "ifname": "eth0", "hook": rx,
              "answer": {"type": "icmp", "name": "fragmentation needed", "icmp_type": 3,
                         "icmp_code": 4, "netns": ns_r}}, icmp_sent=sent("fragmentation needed", 3, 4, ns_r, r)),
    "why": "~^too big for the path MTU toward %s: %s answered ICMP fragmentation needed" % (ip_c, r)},
  "rcvbuf": {"match": {"proto": "UDP", "dst": ip_b, "dport": 6666, "fate": "dropped"}, "min": 10,
    "cause": cause({"kind": "drop", "reason": "SOCKET_RCVBUFF", "function": "~udp", "netns": ns_b,
              "netns_name": b, "ifname": "eth0", "hook": rx, "answer": None}, rc=-12),
    "why": "~^receive buffer full on UDP %s:6666 \\(SOCKET_RCVBUFF\\).*; queueing returned -12 \\(-ENOMEM\\)$" % ip_b},
}, "ping": [{"proto": "ICMP", "src": ip_a, "dst": ip_b, "summary": "~ echo-request "},
           {"proto": "ICMP", "src": ip_b, "dst": ip_a, "summary": "~ echo-reply "}],
  "ping_count": 20}))
' "$NS_A" "$NS_B" "$NS_R" "$ns_a" "$ns_b" "$ns_r" "$IP_A" "$IP_B" "$IP_C" "$noroute" "$lost" "$spoof" "$NS_C" "$IP6_B")
	out=$("$PKT_ANALYZE" --format json "$f" | _check_why "$want" 2>&1) || {
		echo "$out" >&2
		fail "verdicts wrong"
		return 1
	}
	echo "$out" | sed 's/^/  /' >&2

	# --why: the same verdicts grouped; the SOCKET_RCVBUFF drops are one group
	out=$("$PKT_ANALYZE" --why --format json "$f" | python3 -c '
import json, sys
groups = [json.loads(l) for l in sys.stdin]
g = [x for x in groups if x["type"] == "why" and x["reason"] == "SOCKET_RCVBUFF" and x["netns"] == int(sys.argv[1])]
print(len(g), g[0]["count"] >= 10 if g else None, g[0]["kind"] if g else None,
      all(x["first_ts_ns"] <= x["last_ts_ns"] for x in groups if x["type"] == "why"),
      groups[-1]["type"])' "$ns_b")
	assert_eq "$out" "1 True drop True summary" "--why: one group of receive-buffer drops, then the summary" || return 1
	# --why: A's sendto to $unrouted made no packet; its failed route lookup is the verdict
	# (exactly one such group in A or R: the ICMP error's own lookups at R are not sockets')
	out=$("$PKT_ANALYZE" --why --format json "$f" | python3 -c '
import json, sys
ns = {int(sys.argv[1]), int(sys.argv[2])}
g = [x for x in map(json.loads, sys.stdin) if x["type"] == "why" and x["kind"] == "no-route" and x["netns"] in ns]
for x in g:
    r = x["route"]
    print(x["count"], x["netns"], x["netns_name"], x["hook"], x["reason"], x["example_packet"],
          r["table"], r["table_name"], r["fib_err"], r["error"], r["daddr"], r["netns"])
print(g[0]["example"] if g else "")' "$ns_a" "$ns_r")
	assert_eq "$(head -n -1 <<<"$out")" \
		"1 $ns_a $NS_A fib:fib_table_lookup None None 254 main -11 ENETUNREACH $unrouted $ns_a" \
		"--why: the socket's failed route lookup, one group" || return 1
	[[ "$(tail -n1 <<<"$out")" == "no route to $unrouted in table main of $NS_A: ENETUNREACH (a socket's lookup: no packet was sent; UDP 0.0.0.0:"*" -> $unrouted:4444)" ]] ||
		{ fail "--why no-route example: $(tail -n1 <<<"$out")"; return 1; }
	# (the text view wraps lines at 80 columns: read it as one)
	"$PKT_ANALYZE" --why "$f" | tr -s '\n ' '  ' | grep -q "answered ICMP time exceeded" ||
		{ fail "--why text: no TTL verdict"; return 1; }
	"$PKT_ANALYZE" "$f" | grep -q "^    why: connection refused: $NS_B answered RST" || { fail "text view: no why line"; return 1; }
}
