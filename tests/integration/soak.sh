#!/usr/bin/env bash
# Soak test of pkt-record on a real kernel (root, BPF, netns): steady traffic
# for ~45 s through every path of the recorder (ring buffer, filter with
# tracked ids, output with rotation and zstd flushes) while its resident
# memory is sampled; after the warm-up half it must stay flat.
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell
# in tests/out. PKT_SOAK_SECS changes the length (default 44).

_kb_rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

test_soak_rss_steady() {
	need_root || return $?
	local t
	for t in iperf3 ping zstd; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] || { fail "$PKT_RECORD missing (make pkt-record)"; return 1; }
	topo_create || return 1
	local secs=${PKT_SOAK_SECS:-44} f i rss warm=0 peak=0 series="" bound rec lost
	local half=$((secs / 2))
	f=$PWD/soak-$RUN_ID.pcapng.zst
	rm -f "$f" "$f".*
	ip netns exec "$NS_C" timeout $((secs + 15)) iperf3 -s -p 5202 -1 >/dev/null 2>&1 &
	sleep 0.3
	# ICMP is recorded (tracked ids, rotated files); a UDP stream across the
	# routed hop (~2500 packets/s, ~30000 events/s) goes through the
	# user-space filter and is left out
	record_start "$f" -v --buffer-size 2 -C 1 -W 3 "icmp or icmp6" || return 1
	ip netns exec "$NS_A" timeout $((secs + 5)) iperf3 -c "$IP_C" -p 5202 -u -b 8M -l 400 -t "$secs" >/dev/null 2>&1 &
	ip netns exec "$NS_A" ping -q -i 0.02 -w "$secs" "$IP_C" >/dev/null 2>&1 &
	ip netns exec "$NS_A" ping -6 -q -i 0.05 -w "$secs" "$IP6_B" >/dev/null 2>&1 &
	for i in $(seq 1 "$secs"); do
		sleep 1
		rss=$(_kb_rss "$REC_PID")
		[ -n "$rss" ] || { fail "pkt-record exited during the soak"; cat "$REC_ERR" >&2; return 1; }
		series+="$rss "
		[ "$i" -eq "$half" ] && warm=$rss
		[ "$i" -gt "$half" ] && [ "$rss" -gt "$peak" ] && peak=$rss
	done
	wait_traffic() { local j; for j in $(seq 1 30); do pgrep -f "iperf3 -c $IP_C -p 5202" >/dev/null || return 0; sleep 0.2; done; }
	wait_traffic
	record_stop || return 1
	read -r rec lost < <(sed -nE 's/^pkt-record: ([0-9]+) events recorded, ([0-9]+) lost.*/\1 \2/p' "$REC_ERR")
	bound=$((warm / 10 > 2048 ? warm / 10 : 2048))
	echo "  VmRSS kB each second: $series"
	echo "  after ${half} s: $warm kB; peak after: $peak kB; growth $((peak - warm)) kB (bound $bound kB)"
	echo "  $rec events recorded, $lost lost, files: $(ls "$f"* | wc -l); $(grep -E '^pkt-record: [0-9]+ hits' "$REC_ERR")"
	assert_ge "$warm" 1 "RSS sampled" || return 1
	[ $((peak - warm)) -le "$bound" ] || { fail "RSS grew by $((peak - warm)) kB after the warm-up (bound $bound kB)"; return 1; }
	assert_ge "$rec" 1000 "events recorded" || return 1
	[ -e "$f.1" ] || { fail "no rotation during the soak"; return 1; }
	for i in "$f" "$f".*; do
		zstd -qt "$i" || { fail "$i: not a valid zstd file"; return 1; }
	done
	return 0
}
