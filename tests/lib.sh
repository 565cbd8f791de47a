#!/usr/bin/env bash
# Shared shell helpers for integration tests (sourced).
#
# Tests are shell functions named test_* in tests/integration/*.sh. Each runs
# in its own subshell; it reports by returning 0 (pass), 77 (skip, with a
# reason from skip()) or anything else (fail, with a reason from fail()).
# Each prints exactly one "PASS|FAIL|SKIP integration/<file>/<name>" line.
#
# Topology (topo_create): names unique per run, removed by topo_destroy.
#
#   root netns:  bridge $BR 198.18.$N.1/24 fd00:$N:1::1/64   (like docker0)
#     +- veth -> $NS_A  eth0 198.18.$N.2  fd00:$N:1::2   ("container" a)
#     +- veth -> $NS_B  eth0 198.18.$N.3  fd00:$N:1::3   ("container" b)
#     +- veth -> $NS_R  eth0 198.18.$N.254 fd00:$N:1::fe (router, forwarding on)
#                  $NS_R eth1 198.18.($N+1).1 fd00:$N:2::1
#                    +- veth -> $NS_C eth0 198.18.($N+1).2 fd00:$N:2::2 (behind the routed hop)
#
# Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range) and a ULA
# prefix; traffic goes only to these namespaces.

TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
TOP_DIR=$(cd "$TESTS_DIR/.." && pwd)
PKT_RECORD=${PKT_RECORD:-$TOP_DIR/pkt-record}
PKT_ANALYZE=${PKT_ANALYZE:-$TOP_DIR/pkt-analyze}

fail() { echo "  reason: $*" >&2; return 1; }
skip() { echo "  skipped: $*" >&2; return 77; }

# assert helpers: print what failed, return non-zero
assert_eq() { # actual expected what
	[ "$1" = "$2" ] || { echo "  assert_eq failed: $3: got '$1', expected '$2'" >&2; return 1; }
}
assert_ge() { # actual min what
	[ "$1" -ge "$2" ] 2>/dev/null || { echo "  assert_ge failed: $3: got '$1', expected >= $2" >&2; return 1; }
}
assert_match() { # text regex what
	grep -Eq -- "$2" <<<"$1" || { echo "  assert_match failed: $3: no match for /$2/" >&2; return 1; }
}
assert_nomatch() { # text regex what
	! grep -Eq -- "$2" <<<"$1" || { echo "  assert_nomatch failed: $3: unexpected /$2/" >&2; return 1; }
}

# Integration tests need root (CAP_BPF, netns). On CI they must run.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = "true" ]; then
			echo "  CI=true but not root: integration tests cannot run" >&2
			return 1
		fi
		skip "needs root"
		return 77
	fi
	return 0
}

# New interfaces in namespace $1 skip IPv6 duplicate address detection, so
# link-local addresses (needed for neighbour discovery) work at once.
no_dad() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
}

topo_create() {
	local id=$(( ($$ + RANDOM) % 200 ))
	RUN_ID=${RUN_ID:-$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))}
	N=$(( id / 2 * 2 + 20 ))   # even, 20..218; N+1 is the routed subnet
	N1=$(( N + 1 ))
	BR=pkbr$RUN_ID
	NS_A=pkt-a-$RUN_ID NS_B=pkt-b-$RUN_ID NS_R=pkt-r-$RUN_ID NS_C=pkt-c-$RUN_ID
	IP_BR=198.18.$N.1 IP_A=198.18.$N.2 IP_B=198.18.$N.3 IP_R=198.18.$N.254
	IP_R1=198.18.$N1.1 IP_C=198.18.$N1.2
	IP6_BR=fd00:$N:1::1 IP6_A=fd00:$N:1::2 IP6_B=fd00:$N:1::3 IP6_R=fd00:$N:1::fe
	IP6_R1=fd00:$N:2::1 IP6_C=fd00:$N:2::2
	export RUN_ID N N1 BR NS_A NS_B NS_R NS_C IP_BR IP_A IP_B IP_R IP_R1 IP_C \
		IP6_BR IP6_A IP6_B IP6_R IP6_R1 IP6_C

	ip link add "$BR" type bridge || return 1
	sysctl -qw "net.ipv6.conf.$BR.accept_dad=0"
	ip link set "$BR" up
	ip addr add "$IP_BR/24" dev "$BR"
	ip -6 addr add "$IP6_BR/64" dev "$BR" nodad
	local ns suffix ip ip6
	for spec in "a $NS_A $IP_A $IP6_A" "b $NS_B $IP_B $IP6_B" "r $NS_R $IP_R $IP6_R"; do
		set -- $spec
		suffix=$1 ns=$2 ip=$3 ip6=$4
		ip netns add "$ns" || return 1
		no_dad "$ns"
		ip link add "pkv$RUN_ID$suffix" type veth peer name eth0 netns "$ns" || return 1
		ip link set "pkv$RUN_ID$suffix" master "$BR" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$ip/24" dev eth0
		ip -n "$ns" -6 addr add "$ip6/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
	done
	ip netns add "$NS_C" || return 1
	no_dad "$NS_C"
	ip -n "$NS_R" link add eth1 type veth peer name eth0 netns "$NS_C" || return 1
	ip -n "$NS_R" addr add "$IP_R1/24" dev eth1
	ip -n "$NS_R" -6 addr add "$IP6_R1/64" dev eth1 nodad
	ip -n "$NS_R" link set eth1 up
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$NS_C" link set lo up
	ip -n "$NS_C" addr add "$IP_C/24" dev eth0
	ip -n "$NS_C" -6 addr add "$IP6_C/64" dev eth0 nodad
	ip -n "$NS_C" link set eth0 up
	ip -n "$NS_C" route add default via "$IP_R1"
	ip -n "$NS_C" -6 route add default via "$IP6_R1"
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" route add "198.18.$N1.0/24" via "$IP_R"
		ip -n "$ns" -6 route add "fd00:$N:2::/64" via "$IP6_R"
	done
	ip route add "198.18.$N1.0/24" via "$IP_R"
	ip -6 route add "fd00:$N:2::/64" via "$IP6_R"
	# Wait until every path answers (carrier and neighbour tables take a moment).
	local i dst
	for dst in "$IP_B" "$IP_C" "$IP6_B" "$IP6_C"; do
		for i in $(seq 1 50); do
			ip netns exec "$NS_A" ping -c1 -W1 -q "$dst" >/dev/null 2>&1 && break
			sleep 0.1
		done
	done
	return 0
}

topo_destroy() {
	# every step may find its object gone already (a netns takes its veths
	# along): never fail, also under set -e (samples/record-samples.sh)
	[ -n "${RUN_ID:-}" ] || return 0
	local ns
	for ns in "$NS_A" "$NS_B" "$NS_R" "$NS_C"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	# Namespaces are torn down asynchronously: remove the root-side veths now.
	ip link del "pkv${RUN_ID}a" 2>/dev/null || true
	ip link del "pkv${RUN_ID}b" 2>/dev/null || true
	ip link del "pkv${RUN_ID}r" 2>/dev/null || true
	ip link del "$BR" 2>/dev/null || true
	ip route del "198.18.$N1.0/24" 2>/dev/null || true
	ip -6 route del "fd00:$N:2::/64" 2>/dev/null || true
	return 0
}

# netns inode of a named namespace (as the kernel reports in dev->nd_net)
netns_inode() {
	if [ "$1" = root ]; then
		stat -L -c %i /proc/self/ns/net # the tests run in the root netns
	else
		stat -L -c %i "/run/netns/$1"
	fi
}

# Run pkt-record in the background, wait until it is attached.
# usage: record_start OUTFILE [pkt-record args...]; sets REC_PID, REC_ERR
record_start() {
	local out=$1
	shift
	REC_ERR=$(mktemp)
	"$PKT_RECORD" -o "$out" "$@" 2>"$REC_ERR" &
	REC_PID=$!
	local i
	# 20 s: loading and verifying the programs takes seconds on a loaded machine
	for i in $(seq 1 400); do
		grep -q 'recording' "$REC_ERR" 2>/dev/null && return 0
		kill -0 "$REC_PID" 2>/dev/null || { cat "$REC_ERR" >&2; return 1; }
		sleep 0.05
	done
	echo "  pkt-record did not start within 20 s:" >&2
	cat "$REC_ERR" >&2
	# not left running (and recording) past the test that gave up on it
	kill -INT "$REC_PID" 2>/dev/null
	wait "$REC_PID" 2>/dev/null
	return 1
}

record_stop() {
	kill -INT "$REC_PID" 2>/dev/null
	wait "$REC_PID"
	local rc=$?
	[ "$rc" -eq 0 ] || { echo "  pkt-record exited $rc:" >&2; cat "$REC_ERR" >&2; }
	return $rc
}

# Sums over a plain pcapng stream on stdin: "EPBS IFRECV IFDROP ISBS SECTIONS"
# (EPB count, sums of isb_ifrecv and isb_ifdrop, ISB and SHB counts).
pcapng_sums() {
	python3 -c '
import struct, sys
d = sys.stdin.buffer.read()
off = epb = recv = drop = isb = shb = 0
while off + 12 <= len(d):
    bt, bl = struct.unpack_from("<II", d, off)
    if bl < 12: break
    if bt == 0x0A0D0D0A: shb += 1
    elif bt == 6: epb += 1
    elif bt == 5:
        isb += 1
        o = off + 20
        while o + 4 <= off + bl - 4:
            code, ln = struct.unpack_from("<HH", d, o)
            if code == 0: break
            if code == 4: recv += struct.unpack_from("<Q", d, o + 4)[0]
            if code == 5: drop += struct.unpack_from("<Q", d, o + 4)[0]
            o += 4 + (ln + 3) // 4 * 4
    off += bl
print(epb, recv, drop, isb, shb)'
}
