# One path across hosts (pkt-analyze FILE... of several machines).
#
# Two "hosts", each a root-like namespace with a "container" behind a veth,
# joined by a link through a third namespace (the wire: a bridge, captured
# by tcpdump on one of its ports):
#
#   host1: $H1A eth0 $P.$M.2 -- veth -- $H1 va $P.$M.1 | $H1 eth0 $P.$L.1 --+
#                                                                          wire ($W, br0 + tcpdump)
#   host2: $H2B eth0 $P.$K.2 -- veth -- $H2 vb $P.$K.1 | $H2 eth0 $P.$L.2 --+
#   and a VXLAN (VNI 42, UDP 4789) between $H1 and $H2 over eth0: vx0 $P.$V.1/.2
#
# One pkt-record per host, each limited to its host's namespaces (--netns
# twice), each its own file; host2's file is shifted by +3.25 s with editcap
# (its clock is "wrong"); tcpdump's classic pcap of the link is a capture
# point of its own. Traffic: pings both ways at once, a TCP transfer, a ping
# across the VXLAN. pkt-analyze merges the three files.
# Sourced by tests/run.sh after tests/lib.sh.

SHIFT_S=3.25
SHIFT_NS=3250000000

setup() {
	need_root || return $?
	for t in editcap tcpdump python3; do
		command -v $t >/dev/null || { skip "$t not installed (tests/install-deps.sh)"; return 77; }
	done
	[ -x "$PKT_RECORD" ] && [ -x "$PKT_ANALYZE" ] || { fail "pkt-record/pkt-analyze not built"; return 1; }
	HS=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
	H1=pkh1-$HS H1A=pkh1a-$HS H2=pkh2-$HS H2B=pkh2b-$HS W=pkhw-$HS
	local base=$(( (RANDOM % 50) * 4 + 20 ))
	P=198.19 M=$base K=$((base + 1)) L=$((base + 2)) V=$((base + 3))
	D=$(mktemp -d /tmp/pkt-hosts.XXXXXX) || return 1
	PIDS=()
	local ns
	for ns in $H1 $H1A $H2 $H2B $W; do
		ip netns add $ns || return 1
		ip -n $ns link set lo up
		no_dad $ns
	done
	# host1: container a behind va; host2: container b behind vb
	ip -n $H1A link add eth0 type veth peer name va netns $H1 || return 1
	ip -n $H2B link add eth0 type veth peer name vb netns $H2 || return 1
	ip -n $H1A addr add $P.$M.2/24 dev eth0 && ip -n $H1 addr add $P.$M.1/24 dev va
	ip -n $H2B addr add $P.$K.2/24 dev eth0 && ip -n $H2 addr add $P.$K.1/24 dev vb
	# the wire: a bridge with a port toward each host's eth0
	ip -n $W link add br0 type bridge && ip -n $W link set br0 up
	ip -n $H1 link add eth0 type veth peer name w1 netns $W || return 1
	ip -n $H2 link add eth0 type veth peer name w2 netns $W || return 1
	ip -n $W link set w1 master br0 up && ip -n $W link set w2 master br0 up
	ip -n $H1 addr add $P.$L.1/24 dev eth0 && ip -n $H2 addr add $P.$L.2/24 dev eth0
	for ns in $H1A $H1 $H2 $H2B; do
		ip -n $ns link set eth0 up
	done
	ip -n $H1 link set va up && ip -n $H2 link set vb up
	ip netns exec $H1 sysctl -qw net.ipv4.ip_forward=1
	ip netns exec $H2 sysctl -qw net.ipv4.ip_forward=1
	ip -n $H1A route add default via $P.$M.1
	ip -n $H2B route add default via $P.$K.1
	ip -n $H1 route add $P.$K.0/24 via $P.$L.2
	ip -n $H2 route add $P.$M.0/24 via $P.$L.1
	# the overlay
	ip -n $H1 link add vx0 type vxlan id 42 local $P.$L.1 remote $P.$L.2 dstport 4789 dev eth0 || return 1
	ip -n $H2 link add vx0 type vxlan id 42 local $P.$L.2 remote $P.$L.1 dstport 4789 dev eth0 || return 1
	ip -n $H1 addr add $P.$V.1/24 dev vx0 && ip -n $H1 link set vx0 up
	ip -n $H2 addr add $P.$V.2/24 dev vx0 && ip -n $H2 link set vx0 up
	local i
	for i in $(seq 1 50); do
		ip netns exec $H1A ping -c1 -W1 -q $P.$K.2 >/dev/null 2>&1 &&
			ip netns exec $H1 ping -c1 -W1 -q $P.$V.2 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "the two hosts do not reach each other"
}

teardown() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in ${H1:-} ${H1A:-} ${H2:-} ${H2B:-} ${W:-}; do
		ip netns del $ns 2>/dev/null
	done
	[ -n "${D:-}" ] && rm -rf "$D"
	return 0
}

# start_rec OUT NS... [-- FILTER]: one host's recorder; waits until it is attached
start_rec() {
	local out=$1 args=() ns
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=(--netns "$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	"$PKT_RECORD" -o "$out" --compress none "${args[@]}" "$@" 2>"$out.err" &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		grep -q recording "$out.err" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$out.err" >&2
	return 1
}

# Record the traffic: both hosts, the wire; host2's clock shifted.
record_all() {
	start_rec "$D/h1.pcapng" $H1 $H1A || return 1
	start_rec "$D/h2.pcapng" $H2 $H2B || return 1
	ip netns exec $W tcpdump -i w1 -n -U --immediate-mode --time-stamp-precision=nano -s 256 -w "$D/wire.pcap" 2>"$D/tcpdump.err" &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		grep -q listening "$D/tcpdump.err" && break
		sleep 0.05
	done
	sleep 0.3
	# pings both ways at once (distinct echo ids: ping's own), a TCP transfer, the overlay
	ip netns exec $H1A ping -c 4 -i 0.2 -q $P.$K.2 >/dev/null &
	local p1=$!
	ip netns exec $H2B ping -c 4 -i 0.2 -q $P.$M.2 >/dev/null &
	local p2=$!
	ip netns exec $H2B python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1); c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
c.sendall(b"%d" % n); c.close()' $P.$K.2 &
	local srv=$!
	sleep 0.3
	TCP_GOT=$(ip netns exec $H1A python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 5001), timeout=5)
c.sendall(b"x" * 20000); c.shutdown(socket.SHUT_WR)
print(c.recv(100).decode())' $P.$K.2)
	wait $p1 $p2 $srv
	ip netns exec $H1 ping -c 2 -i 0.2 -q $P.$V.2 >/dev/null
	sleep 0.5
	local pid
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid"; done
	PIDS=()
	assert_eq "$TCP_GOT" 20000 "bytes the TCP server got" || return 1
	# host2's clock runs $SHIFT_S s ahead
	editcap -t $SHIFT_S "$D/h2.pcapng" "$D/h2s.pcapng" || return 1
	ANALYZE=("$PKT_ANALYZE" --host host1="$D/h1.pcapng" --host host2="$D/h2s.pcapng"
		--host wire="$D/wire.pcap" "$D/h1.pcapng" "$D/h2s.pcapng" "$D/wire.pcap")
}

# The analysis, checked in python: paths, pairs, offsets.
check() { # what.py-snippet
	"${ANALYZE[@]}" --format json >"$D/out.jsonl" 2>"$D/analyze.err" ||
		{ cat "$D/analyze.err" >&2; fail "pkt-analyze failed"; return 1; }
	python3 -c "$1" "$D/out.jsonl" "$P" "$M" "$K" "$L" "$V" "$H1" "$H1A" "$H2" "$H2B" "$SHIFT_NS"
}

PY_COMMON='
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
P, M, K, L, V = sys.argv[2:7]
H1, H1A, H2, H2B = sys.argv[7:11]
SHIFT = int(sys.argv[11])
A, B = "%s.%s.2" % (P, M), "%s.%s.2" % (P, K)
packets = [l for l in lines if l["type"] == "packet"]
pairs = [l for l in lines if l["type"] == "pair"]
summary = [l for l in lines if l["type"] == "summary"][0]
byid = {p["id"]: p for p in packets}
def places(p):
    out = []
    for h in p["hops"]:
        where = (h["host"], h.get("netns_name") or "-", h["ifname"])
        if not out or out[-1] != where:
            out.append(where)
    return out
def ordered(p):
    ts = [h["ts_ns"] for h in p["hops"]]
    return ts == sorted(ts)
def fail(msg):
    print("  " + msg); sys.exit(1)
'

test_offset_estimate() {
	record_all || return 1
	check "$PY_COMMON"'
co = summary.get("clock_offsets")
if not co or set(co) != {"host1", "host2", "wire"}:
    fail("clock_offsets: %r" % co)
if co["host1"] != {"offset_ns": 0, "uncertainty_ns": 0, "reference": True}:
    fail("host1 is the reference: %r" % co["host1"])
for h, want in (("host2", SHIFT), ("wire", 0)):
    c = co[h]
    if c["uncertainty_ns"] is None:
        fail("%s: one-way only: %r" % (h, c))
    # within its stated uncertainty of the shift applied; plausible: not 0, not above the round trip
    if abs(c["offset_ns"] - want) > c["uncertainty_ns"]:
        fail("%s: offset %d +- %d, applied %d" % (h, c["offset_ns"], c["uncertainty_ns"], want))
    if not (0 < c["uncertainty_ns"] <= c["round_trip_ns"]) or c["round_trip_ns"] > 50000000:
        fail("%s: uncertainty %d, round trip %d" % (h, c["uncertainty_ns"], c["round_trip_ns"]))
    if c["samples_sent"] < 4 or c["samples_received"] < 4:
        fail("%s: few samples: %r" % (h, c))
print("  offsets:", json.dumps(co))
' || return 1
	# the text summary prints them
	local text
	text=$("${ANALYZE[@]}" --stats) || return 1
	assert_match "$text" "clock of host2: \+3\.2[45][0-9]*s \+- " "text summary: host2's offset" || return 1
	assert_match "$text" "clock of host1: the reference" "text summary: reference" || return 1
}

test_ping_paths() {
	record_all || return 1
	check "$PY_COMMON"'
def echo(p, src, dst, typ):
    return p["proto"] == "ICMP" and p["src"] == src and p["dst"] == dst and "echo-" + typ in p["summary"]
w = ("wire", "-", "if0")
ab = [("host1", H1A, "eth0"), ("host1", H1, "va"), ("host1", H1, "eth0"), w,
      ("host2", H2, "eth0"), ("host2", H2, "vb"), ("host2", H2B, "eth0")]
ba = list(reversed(ab))
n = 0
for src, dst, fwd in ((A, B, ab), (B, A, ba)):
    reqs = [p for p in packets if echo(p, src, dst, "request")]
    reps = [p for p in packets if echo(p, dst, src, "reply")]
    if len(reqs) != 4 or len(reps) != 4:
        fail("%s -> %s: %d requests, %d replies: one packet each across hosts" % (src, dst, len(reqs), len(reps)))
    for p in reqs:
        if places(p) != fwd or not ordered(p):
            fail("request %s path %r" % (p["summary"], places(p)))
        if p["fate"] != "delivered":
            fail("request %s: %s %s" % (p["summary"], p["fate"], p["fate_detail"]))
    for p in reps:
        if places(p) != list(reversed(fwd)) or not ordered(p):
            fail("reply %s path %r" % (p["summary"], places(p)))
    mine = [pr for pr in pairs if pr["kind"] == "icmp-echo" and byid[pr["request_packet"]]["src"] == src
            and byid[pr["request_packet"]]["dst"] == dst]
    if len(mine) != 4:
        fail("%s -> %s: %d echo pairs, expected 4 (one per exchange)" % (src, dst, len(mine)))
    n += len(mine)
print("  %d echo pairs, paths across 3 files in time order" % n)
' || return 1
	# the text view names the host of each hop
	local text
	text=$("${ANALYZE[@]}") || return 1
	sed -n 1,14p <<<"$text"
	assert_match "$text" "host1:$H1A +eth0 +net_dev_start_xmit +out" "text: host1's container" || return 1
	assert_match "$text" "wire:- +if0 +wire" "text: the tcpdump capture point" || return 1
	assert_match "$text" "host2:$H2B +eth0 +netif_receive_skb +in" "text: host2's container"
}

test_tcp_and_vxlan() {
	record_all || return 1
	check "$PY_COMMON"'
w = ("wire", "-", "if0")
syn = [p for p in packets if p["proto"] == "TCP" and p["src"] == A and p["dst"] == B and "[S]" in p["summary"]]
if len(syn) != 1:
    fail("%d SYNs from a to b" % len(syn))
want = [("host1", H1A, "eth0"), ("host1", H1, "va"), ("host1", H1, "eth0"), w,
        ("host2", H2, "eth0"), ("host2", H2, "vb"), ("host2", H2B, "eth0")]
if places(syn[0]) != want or not ordered(syn[0]):
    fail("SYN path %r" % places(syn[0]))
# every segment of the transfer, each way, is one packet from one container to the other
for src, dst, first, last in ((A, B, ("host1", H1A), ("host2", H2B)), (B, A, ("host2", H2B), ("host1", H1A))):
    segs = [p for p in packets if p["proto"] == "TCP" and p["src"] == src and p["dst"] == dst]
    bad = [(p["summary"], places(p)) for p in segs
           if places(p)[0][:2] != first or places(p)[-1][:2] != last or not ordered(p)]
    if not segs or bad:
        fail("%d TCP segments %s -> %s, not across: %r" % (len(segs), src, dst, bad[:3]))
hs = [pr for pr in pairs if pr["kind"] == "tcp-handshake"]
if len(hs) != 1:
    fail("%d tcp-handshake pairs, expected 1" % len(hs))
# the overlay: host1 vx0 -> host1 eth0 (encapsulated) -> wire -> host2 eth0 -> host2 vx0
X, Y = "%s.%s.1" % (P, V), "%s.%s.2" % (P, V)
vreq = [p for p in packets if p["proto"] == "ICMP" and p["src"] == X and p["dst"] == Y]
if len(vreq) != 2:
    fail("%d overlay echo requests, expected 2" % len(vreq))
for p in vreq:
    got = places(p)
    if got != [("host1", H1, "vx0"), ("host1", H1, "eth0"), w, ("host2", H2, "eth0"), ("host2", H2, "vx0")] or not ordered(p):
        fail("overlay path %r" % got)
vp = [pr for pr in pairs if pr["kind"] == "icmp-echo" and byid[pr["request_packet"]]["src"] == X]
if len(vp) != 2:
    fail("%d overlay echo pairs, expected 2" % len(vp))
print("  TCP handshake and VXLAN pings stitched across hosts")
'
}

# Datagrams one way only: no round trip, so the offset is only bounded (the
# delays are not negative): the summary says so and gives the bound. Only
# those datagrams are recorded (the hosts' IGMP reports would go both ways).
test_one_way_bound() {
	start_rec "$D/h1.pcapng" $H1 $H1A -- udp port 5002 || return 1
	start_rec "$D/h2.pcapng" $H2 $H2B -- udp port 5002 || return 1
	ip netns exec $H2B python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 5002)); s.settimeout(3)
try:
    for _ in range(10): s.recv(100)
except socket.timeout:
    pass' $P.$K.2 &
	local srv=$!
	sleep 0.3
	ip netns exec $H1A python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(b"one way %d" % i, (sys.argv[1], 5002)); time.sleep(0.02)' $P.$K.2
	wait $srv
	sleep 0.3
	local pid
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid"; done
	PIDS=()
	editcap -t $SHIFT_S "$D/h2.pcapng" "$D/h2s.pcapng" || return 1
	ANALYZE=("$PKT_ANALYZE" --host host1="$D/h1.pcapng" --host host2="$D/h2s.pcapng"
		"$D/h1.pcapng" "$D/h2s.pcapng")
	check "$PY_COMMON"'
c = summary["clock_offsets"]["host2"]
if c.get("one_way") is not True or c["uncertainty_ns"] is not None or "offset_min_ns" in c:
    fail("one way: %r" % c)
# sent by host1 only: the offset is at most the smallest delay as the clocks say
if not (SHIFT <= c["offset_max_ns"] < SHIFT + 50000000) or c["offset_ns"] != c["offset_max_ns"]:
    fail("bound %r, shift %d" % (c, SHIFT))
if c["samples_sent"] != 10 or c["samples_received"] != 0:
    fail("samples %r" % c)
udp = [p for p in packets if p["proto"] == "UDP" and p["dst"] == B]
if len(udp) != 10 or any(places(p)[0][0] != "host1" or places(p)[-1][0] != "host2" or not ordered(p) for p in udp):
    fail("datagrams: %r" % [places(p) for p in udp])
print("  one way:", json.dumps(c))
' || return 1
	local text
	text=$("${ANALYZE[@]}" --stats) || return 1
	assert_match "$text" "clock of host2: at most \+?3\.2[5-9][0-9]*s \(one-way traffic only: 10 packets" "text: a bound"
}
