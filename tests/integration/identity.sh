#!/usr/bin/env bash
# Packet identity and fate on a real kernel: concurrent pings (whose raw
# sockets each get a clone of every echo reply, and refuse the others' with
# their socket filter) and a TCP bulk transfer (veth GSO/GRO on), recorded
# with pkt-record and checked with pkt-analyze --format json.
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell.

_need_identity_tools() {
	local t
	for t in nc python3 ping; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] && [ -x "$PKT_ANALYZE" ] || { fail "build pkt-record and pkt-analyze first"; return 1; }
}

_id_file() { echo "$PWD/identity-${RUN_ID:-$$}-$1.pcapng"; }

# The checker: reads pkt-analyze's JSON lines on stdin.
#   PINGS: "pid:expected_received:src:dst ..." (addresses of the request)
#   PATH_AB / PATH_BA: the request's interfaces (IFNAME@NETNS, space-separated)
#   from A to B and from B to A; a reply's path is the other one.
#   WANT_DROPPED: unicast drops expected on those interfaces; A's address.
# Prints "pairs EXACT TOTAL ..." and fails on any wrong pair, fate or drop.
_check_identity() {
	python3 -c "$(cat <<'EOF'
import json, sys

pings = [p.split(":") for p in sys.argv[1].split()]
path_ab, path_ba = sys.argv[2].split(), sys.argv[3].split()
want_dropped = int(sys.argv[4])
packets, pairs, summary = {}, [], None
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "packet":
        packets[o["id"]] = o
    elif o["type"] == "pair":
        pairs.append(o)
    elif o["type"] == "summary":
        summary = o

def path(p):
    out = []
    for h in p["hops"]:
        name = "%s@%d" % (h["ifname"], h["netns"])
        if h["hook"] and h["hook"].startswith("net:") and (not out or out[-1] != name):
            out.append(name)
    return out

bad = []
exact = total = 0
for pid, received, src, dst in pings:
    pid, received = int(pid), int(received)
    mine = [pr for pr in pairs if pr["kind"] == "icmp-echo" and pr["src"] == src
            and pr["dst"] == dst and packets[pr["request_packet"]]["hops"][0].get("pid") == pid]
    total += received
    fwd = path_ab if src == sys.argv[5] else path_ba
    back = path_ba if fwd is path_ab else path_ab
    if len(mine) != received:
        bad.append("ping %d: %d pairs, ping saw %d replies" % (pid, len(mine), received))
    for pr in mine:
        req, rep = packets[pr["request_packet"]], packets[pr["reply_packet"]]
        ok = True
        if path(req) != fwd:
            bad.append("ping %d %s: request path %s" % (pid, req["summary"], path(req))); ok = False
        if path(rep) != back:
            bad.append("ping %d %s: reply path %s" % (pid, rep["summary"], path(rep))); ok = False
        if rep["fate"] != "delivered" or rep.get("delivered_pid") != pid:
            bad.append("ping %d %s: reply fate %s (%s)" % (pid, rep["summary"], rep["fate"],
                                                          rep["fate_detail"])); ok = False
        if pr["rtt_ns"] < 0:
            bad.append("ping %d: negative rtt" % pid); ok = False
        exact += ok

# TCP: one path per segment, never two merged (a merged one would cross a
# device twice); the data's path is A->B or B->A exactly.
tcp_bad = 0
for p in packets.values():
    if p.get("proto") != "TCP":
        continue
    pa = path(p)
    if pa and pa != path_ab[:len(pa)] and pa != path_ba[:len(pa)]:
        tcp_bad += 1
        if tcp_bad <= 3:
            bad.append("TCP %s: path %s" % (p["summary"], pa))
# A retransmitted segment whose data had already arrived, discarded by the
# receiver as old: a real drop, rightly reported, of a copy of data that got
# there (a loaded machine retransmits now and then).
def duplicate(p):
    return p["fate"] == "dropped" and p.get("drop") in ("TCP_OLD_DATA", "TCP_OLD_SEQUENCE")

# The bulk transfer (TCP port argv[6], if given): no segment dropped but old
# duplicates, every one delivered or forwarded; in flight only within the
# recording's last 100 ms.
if len(sys.argv) > 6:
    port = int(sys.argv[6])
    end = max(p["last_ts_ns"] for p in packets.values())
    bulk = [p for p in packets.values() if p.get("proto") == "TCP"
            and port in (p.get("sport"), p.get("dport"))]
    fates = {}
    for p in bulk:
        fates[p["fate"]] = fates.get(p["fate"], 0) + 1
    wrong = [p for p in bulk if p["fate"] not in ("delivered", "forwarded")
             and not (p["fate"] == "in-flight" and p["last_ts_ns"] >= end - 100000000)
             and not duplicate(p)]
    if not bulk:
        bad.append("no TCP segment of the bulk transfer")
    if wrong:
        bad.append("bulk TCP: %d of %d not delivered/forwarded (%s): %s" % (
            len(wrong), len(bulk), fates,
            "; ".join("%s: %s" % (p["summary"], p["fate_detail"]) for p in wrong[:3])))
    print("bulk tcp %d %s" % (len(bulk), " ".join("%s=%d" % kv for kv in sorted(fates.items()))),
          file=sys.stderr)
# Drops of unicast packets on this test's interfaces (the recording is
# host-wide; a host dropping multicast it does not want, MLD, is real).
ours = set(path_ab)
dropped = [p for p in packets.values() if p["fate"] == "dropped"]
if summary["dropped"] != len(dropped):
    bad.append("summary dropped %d, packets dropped %d" % (summary["dropped"], len(dropped)))
dropped = [p for p in dropped if "%s@%d" % (p["cause"]["ifname"], p["cause"]["netns"]) in ours
           and not p.get("dst", "").startswith("ff") and not p.get("dst", "").startswith("224.")
           and not duplicate(p)]
if len(dropped) != want_dropped:
    bad.append("dropped %d, expected %d: %s" % (len(dropped), want_dropped,
        "; ".join("%s: %s" % (p["summary"], p["fate_detail"]) for p in dropped[:3])))
print("pairs %d %d tcp_segments %d tcp_bad %d" % (
    exact, total, sum(1 for p in packets.values() if p.get("proto") == "TCP"), tcp_bad))
for b in bad[:12]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
)" "$@"
}

# received count from ping's summary line
_received() { sed -nE 's/.* ([0-9]+) received.*/\1/p' "$1"; }

# Three pings A -> B at once, one B -> A, and a TCP bulk transfer A -> B.
test_concurrent_pings_and_tcp_exact_pairs_and_fates() {
	need_root || return $?
	_need_identity_tools || return $?
	topo_create || return 1
	local f ns_root ns_a ns_b out pids=() i spec
	f=$(_id_file concurrent)
	ns_root=$(stat -L -c %i /proc/self/ns/net)
	ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	ip netns exec "$NS_B" nc -l 5201 >/dev/null 2>&1 &
	local srv=$!
	sleep 0.2
	record_start "$f" --compress none -e default,skb_copy_datagram_iovec || { kill "$srv"; return 1; }
	head -c 40000000 /dev/zero | ip netns exec "$NS_A" nc -N "$IP_B" 5201 &
	local cli=$!
	for i in 1 2 3; do
		ip netns exec "$NS_A" ping -c 20 -i 0.05 -W 2 "$IP_B" >"ping-$RUN_ID-$i.out" 2>&1 &
		pids+=($!)
	done
	ip netns exec "$NS_B" ping -c 20 -i 0.05 -W 2 "$IP_A" >"ping-$RUN_ID-4.out" 2>&1 &
	pids+=($!)
	for i in "${pids[@]}"; do wait "$i"; done
	wait "$cli"
	sleep 0.3
	record_stop || { kill "$srv" 2>/dev/null; return 1; }
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null

	spec=""
	for i in 1 2 3; do
		spec+="${pids[$((i - 1))]}:$(_received "ping-$RUN_ID-$i.out"):$IP_A:$IP_B "
	done
	spec+="${pids[3]}:$(_received "ping-$RUN_ID-4.out"):$IP_B:$IP_A"
	out=$("$PKT_ANALYZE" --format json "$f" | _check_identity "$spec" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}b@$ns_root eth0@$ns_b" \
		"eth0@$ns_b pkv${RUN_ID}b@$ns_root pkv${RUN_ID}a@$ns_root eth0@$ns_a" 0 "$IP_A" 5201) || {
		echo "  $out" >&2
		fail "pairs or fates wrong"
		return 1
	}
	echo "  $out" >&2
	assert_match "$out" '^pairs ([0-9]+) \1 ' "every echo pair exact" || return 1
}

# One ping: its reply is delivered to it (a read of its raw socket's copy),
# not dropped; without the read hook it is not a drop either.
test_single_ping_reply_delivered() {
	need_root || return $?
	_need_identity_tools || return $?
	topo_create || return 1
	local f g ns_root ns_a ns_b out pid
	f=$(_id_file single) g=$(_id_file single-default)
	ns_root=$(stat -L -c %i /proc/self/ns/net)
	ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	record_start "$f" --compress none -e default,skb_copy_datagram_iovec || return 1
	ip netns exec "$NS_A" ping -c 1 -W 2 "$IP_B" >"ping-$RUN_ID.out" 2>&1 &
	pid=$!
	wait "$pid" || { record_stop; fail "ping failed"; return 1; }
	sleep 0.2
	record_stop || return 1
	out=$("$PKT_ANALYZE" --format json "$f" | _check_identity "$pid:1:$IP_A:$IP_B" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}b@$ns_root eth0@$ns_b" \
		"eth0@$ns_b pkv${RUN_ID}b@$ns_root pkv${RUN_ID}a@$ns_root eth0@$ns_a" 0 "$IP_A") || {
		echo "  $out" >&2
		fail "single ping"
		return 1
	}
	assert_eq "$out" "pairs 1 1 tcp_segments 0 tcp_bad 0" "one exact pair" || return 1
	"$PKT_ANALYZE" "$f" | grep -q "=> delivered to ping $pid" || { fail "text view: no fate line"; return 1; }

	# default hooks: no read is recorded; the reply is not counted as dropped,
	# it is delivered to A's namespace (where the request came from), no reader named
	record_start "$g" --compress none || return 1
	ip netns exec "$NS_A" ping -c 1 -W 2 "$IP_B" >/dev/null 2>&1 || { record_stop; fail "ping failed"; return 1; }
	sleep 0.2
	record_stop || return 1
	out=$("$PKT_ANALYZE" --format json "$g" | python3 -c '
import json, sys
src, dst = sys.argv[1:3]
packets = {}
pairs = []
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "packet":
        packets[o["id"]] = o
    elif o["type"] == "pair" and o["kind"] == "icmp-echo" and o["src"] == src and o["dst"] == dst:
        pairs.append(o)
def fate(p):
    return "%s %s %s %s" % (p["fate"], p["fate_detail"].split(",")[0], p.get("delivered_pid"),
                            p["dropped"])
print(len(pairs), " ".join(fate(packets[p[k]]) for p in pairs for k in ("request_packet", "reply_packet")))' "$IP_A" "$IP_B")
	assert_eq "$out" "1 delivered delivered to netns $ns_b (eth0) None False delivered delivered to netns $ns_a (eth0) None False" \
		"default hooks: paired, both delivered to their namespaces, no reader named, not dropped" || return 1
}
