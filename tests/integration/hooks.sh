#!/usr/bin/env bash
# Integration tests of the optional hooks (bpf/hooks.def after
# skb_copy_datagram_iovec): each triggered by real traffic in this run's own
# namespaces, its keys asserted exactly. Sourced by tests/run.sh with
# tests/lib.sh; each test_* runs in a subshell in tests/out and leaves the
# teardown to the runner's trap.

_hk_file() { echo "$PWD/hooks-${RUN_ID:-$$}-$1.pcapng"; }

_hk_need() {
	local t
	for t in tshark capinfos tcpdump nft nc tc python3; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] || { fail "$PKT_RECORD missing (make pkt-record)"; return 1; }
	[ -x "$PKT_ANALYZE" ] || { fail "$PKT_ANALYZE missing (make pkt-analyze)"; return 1; }
}

# Every block of a plain pcapng file, read here without our reader: one line
# per packet ("P PACKETID COMMENT") or pkt-record event block ("E TEXT").
_hk_blocks() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 0
while off + 12 <= len(d):
    bt, bl = struct.unpack_from('<II', d, off)
    if bl < 12 or off + bl > len(d):
        sys.exit('bad block at %d' % off)
    def opts(o, end):
        out = {}
        while o + 4 <= end:
            code, ln = struct.unpack_from('<HH', d, o)
            if code == 0:
                break
            out.setdefault(code, d[o + 4:o + 4 + ln])
            o += 4 + (ln + 3) // 4 * 4
        return out
    if bt == 6:
        cap = struct.unpack_from('<I', d, off + 20)[0]
        o = opts(off + 28 + (cap + 3) // 4 * 4, off + bl - 4)
        pid = struct.unpack('<Q', o[5])[0] if 5 in o else 0
        print('P 0x%x %s' % (pid, o.get(1, b'').decode()))
    elif bt == 0xBAD:
        pen, what = struct.unpack_from('<II', d, off + 8)
        if pen == 32473 and what == 1:
            o = opts(off + 24, off + bl - 4)
            print('E %s' % o.get(1, b'').decode())
    off += bl
EOF
}

# tshark and capinfos read the file cleanly; capinfos' packets = our events
_hk_readers_agree() { # FILE
	local f=$1 out n sum
	out=$(tshark -r "$f" 2>&1 >/dev/null | grep -v 'Running as user')
	assert_eq "$out" "" "tshark -r reports nothing" || return 1
	assert_nomatch "$(tshark -r "$f" 2>/dev/null)" "[Mm]alformed" "no malformed frame" || return 1
	tcpdump -r "$f" >/dev/null 2>&1 || { fail "tcpdump -r failed"; return 1; }
	n=$(capinfos -M -c "$f" | sed -nE 's/^Number of packets: *([0-9]+).*/\1/p')
	sum=$("$PKT_ANALYZE" --format json --stats "$f")
	assert_eq "$n" "$(sed -nE 's/.*"events":([0-9]+).*/\1/p' <<<"$sum")" "capinfos packets = our events" || return 1
	n=$(_hk_blocks "$f" | grep -c '^E ')
	[ "$n" -gt 0 ] || n= # no event block: no cause_events key
	assert_eq "$(sed -nE 's/.*"cause_events":([0-9]+).*/\1/p' <<<"$sum")" "$n" "event blocks = our cause_events" || return 1
}

# track of the first packet whose comment matches, e.g. its hook and netns
_hk_track() { # BLOCKS REGEX
	grep -E "^P .*$2" <<<"$1" | head -n1 | sed -nE 's/.* track=(0x[0-9a-f]+).*/\1/p'
}

# UDP to a closed port: icmp_send on the datagram's own track with
# icmp=3/3; a SYN to a closed port: tcp_send_reset on the SYN's track, no
# socket; the client's tcp_receive_reset in SYN_SENT. Neither changes the
# datagram's or the SYN's path or fate.
test_hooks_icmp_send_and_resets() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f b ns_a ns_b tu line
	f=$(_hk_file icmp)
	ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	record_start "$f" --compress none -e default,icmp_send,tcp_send_reset,tcp_receive_reset || return 1
	ip netns exec "$NS_A" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$IP_A', 40111)); s.sendto(b'closed', ('$IP_B', 7777))"
	ip netns exec "$NS_A" python3 -c "
import socket
s = socket.socket(); s.bind(('$IP_A', 40222)); s.settimeout(2)
try: s.connect(('$IP_B', 7778))
except OSError: pass"
	sleep 0.3
	record_stop || return 1
	b=$(_hk_blocks "$f") || { fail "unreadable: $b"; return 1; }

	line=$(grep -E "^P .*hook=icmp:icmp_send netns=$ns_b if=eth0 " <<<"$b")
	assert_eq "$(wc -l <<<"$line")" 1 "one icmp_send in B" || return 1
	assert_match "$line" " icmp=3/3$" "port unreachable" || return 1
	# on the track of a packet B received on eth0 (the datagram: below)
	tu=$(sed -nE 's/.* track=(0x[0-9a-f]+).*/\1/p' <<<"$line")
	assert_match "$(grep -E "^P .*hook=net:netif_receive_skb netns=$ns_b if=eth0 .*track=$tu " <<<"$b")" . \
		"icmp_send on a received packet's track" || return 1
	local json
	json=$("$PKT_ANALYZE" --format json "$f")
	# the event's packet is the UDP datagram to 7777, whose fate is still the drop at the socket
	line=$(grep -F '"hook":"icmp:icmp_send"' <<<"$json")
	assert_match "$line" '"dport":7777' "icmp_send hit the datagram" || return 1
	assert_match "$line" '"icmp":"3/3"' "JSON key icmp" || return 1
	local pid
	pid=$(sed -nE 's/.*"packet":([0-9]+).*/\1/p' <<<"$line")
	[ -n "$pid" ] || { fail "icmp_send names no packet"; return 1; }
	line=$(grep -E "^\{\"type\":\"packet\",\"id\":$pid," <<<"$json")
	assert_match "$line" '"fate":"dropped"' "the datagram is still dropped (no socket)" || return 1
	assert_nomatch "$line" 'icmp_send' "icmp_send is no hop of its path" || return 1

	line=$(grep -E "^P .*hook=tcp:tcp_send_reset netns=$ns_b if=eth0 " <<<"$b")
	assert_eq "$(wc -l <<<"$line")" 1 "one reset sent in B" || return 1
	assert_match "$line" " tcp_state=-$" "no socket for port 7778" || return 1
	line=$(grep -F '"hook":"tcp:tcp_send_reset"' <<<"$json")
	assert_match "$line" '"sport":40222,"dport":7778' "the reset answers the SYN" || return 1
	line=$(grep -E "^E hook=tcp:tcp_receive_reset netns=$ns_a " <<<"$b")
	assert_match "$line" "^E hook=tcp:tcp_receive_reset netns=$ns_a cpu=[0-9]+ pid=[0-9]+ comm=[^ ]+ saddr=$IP_A daddr=$IP_B sport=40222 dport=7778 tcp_state=TCP_SYN_SENT$" \
		"the client saw the reset" || return 1
	_hk_readers_agree "$f"
}

# a ping routed through R: R's route lookup for C in the main table (254),
# out through eth1; A's neighbour entry for B learnt from the ARP reply; a
# ping to an absent neighbour dropped NEIGH_FAILED, its entry then deleted:
# neigh_update to NUD_FAILED
test_hooks_fib_and_neigh() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f b ns_a ns_r oif line absent
	f=$(_hk_file fib)
	ns_a=$(netns_inode "$NS_A") ns_r=$(netns_inode "$NS_R")
	oif=$(ip netns exec "$NS_R" cat /sys/class/net/eth1/ifindex)
	absent=198.18.$N.77
	ip -n "$NS_A" neigh flush dev eth0
	record_start "$f" --compress none -e default,fib_table_lookup,neigh_update,neigh_event_send_dead || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null || { record_stop; fail "ping B failed"; return 1; }
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_C" >/dev/null || { record_stop; fail "routed ping failed"; return 1; }
	ip netns exec "$NS_A" ping -c1 -W1 "$absent" >/dev/null && { record_stop; fail "absent answered"; return 1; }
	sleep 3.5 # the ARP probes give up: the queued request is dropped NEIGH_FAILED
	ip -n "$NS_A" neigh del "$absent" dev eth0 || { record_stop; fail "no neighbour entry for $absent"; return 1; }
	sleep 0.2
	record_stop || return 1
	b=$(_hk_blocks "$f") || { fail "unreadable"; return 1; }

	line=$(grep -E "^E hook=fib:fib_table_lookup netns=$ns_r .* fib_table=254 .*daddr=$IP_C( |$)" <<<"$b" | head -n1)
	assert_match "$line" "^E hook=fib:fib_table_lookup netns=$ns_r if=eth1 ifindex=$oif cpu=[0-9]+ pid=[0-9]+ comm=[^ ]+ fib_table=254 fib_err=0 fib_oif=$oif saddr=$IP_A daddr=$IP_C$" \
		"R's lookup for C: main table, out eth1 (forwarding: no protocol in the key)" || return 1
	line=$(grep -E "^E hook=neigh:neigh_update netns=$ns_a .* neigh=$IP_B " <<<"$b" | head -n1)
	assert_match "$line" "^E hook=neigh:neigh_update netns=$ns_a if=eth0 ifindex=[0-9]+ cpu=[0-9]+ pid=[0-9]+ comm=[^ ]+ neigh=$IP_B neigh_state=NUD_REACHABLE$" \
		"A learnt B from the ARP reply" || return 1
	assert_match "$(grep -E "^P .*hook=skb:kfree_skb netns=$ns_a " <<<"$b")" "drop=NEIGH_FAILED" \
		"the ping to the absent neighbour" || return 1
	line=$(grep -E "^E hook=neigh:neigh_update netns=$ns_a .* neigh=$absent " <<<"$b" | tail -n1)
	assert_match "$line" " neigh=$absent neigh_state=NUD_FAILED$" "the absent neighbour's entry" || return 1
	# pkt-analyze: events with their keys, none of them a packet
	local json
	json=$("$PKT_ANALYZE" --format json "$f")
	line=$(grep -F '"hook":"fib:fib_table_lookup"' <<<"$json" | grep -F "\"daddr\":\"$IP_C\"" | grep -F "\"netns\":$ns_r," | head -n1)
	assert_match "$line" "\"no_packet\":true.*\"fib_table\":254,\"fib_err\":0,\"fib_oif\":$oif" "JSON event keys" || return 1
	assert_match "$("$PKT_ANALYZE" --events "$f")" "neigh_update +neigh=$absent neigh_state=NUD_FAILED" "--events" || return 1
	_hk_readers_agree "$f"
}

# a qdisc on A's eth0 (tbf: never bypassed) and the veth's return code: both
# name the ping request's track (known from net_dev_queue on: the qdisc
# comes before net_dev_start_xmit); neither is a hop of its path
test_hooks_xmit_and_qdisc() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f b ns_a t line hops
	f=$(_hk_file xmit)
	ns_a=$(netns_inode "$NS_A")
	tc -n "$NS_A" qdisc replace dev eth0 root tbf rate 100mbit burst 64kb latency 50ms || { fail "tc tbf"; return 1; }
	record_start "$f" --compress none -e default,net_dev_queue,net_dev_xmit,qdisc_enqueue,qdisc_dequeue icmp || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null || { record_stop; fail "ping failed"; return 1; }
	sleep 0.2
	record_stop || return 1
	b=$(_hk_blocks "$f") || { fail "unreadable"; return 1; }
	t=$(_hk_track "$b" "hook=net:net_dev_queue netns=$ns_a if=eth0 ")
	[ -n "$t" ] || { fail "no request sent by A"; return 1; }
	line=$(grep -E "^E hook=qdisc:qdisc_enqueue netns=$ns_a " <<<"$b")
	assert_match "$line" "^E hook=qdisc:qdisc_enqueue netns=$ns_a if=eth0 ifindex=[0-9]+ track=$t cpu=[0-9]+ pid=[0-9]+ comm=[^ ]+ qdisc=tbf$" "enqueue" || return 1
	line=$(grep -E "^E hook=qdisc:qdisc_dequeue netns=$ns_a .*track=$t " <<<"$b")
	assert_match "$line" " qdisc=tbf$" "dequeue" || return 1
	line=$(grep -E "^E hook=net:net_dev_xmit netns=$ns_a if=eth0 .*track=$t " <<<"$b")
	assert_match "$line" " rc=0$" "the veth took it" || return 1
	# the request's path: its packet blocks, and no hop of a cause
	hops=$("$PKT_ANALYZE" --format json "$f" | grep -E "^\{\"type\":\"packet\",\"id\":[0-9]+,\"track\":$((t))," | head -n1)
	[ -n "$hops" ] || { fail "no packet with track $t"; return 1; }
	assert_nomatch "$hops" 'qdisc|net_dev_xmit' "no hop of a cause" || return 1
	assert_eq "$(grep -o '"hook":' <<<"$hops" | wc -l)" "$(grep -cE "^P .* track=$t " <<<"$b")" \
		"one hop per packet block of the request" || return 1
	_hk_readers_agree "$f"
}

# a UDP socket with the smallest receive buffer that never reads: the
# datagrams it cannot take fail with -ENOMEM on their own tracks
test_hooks_socket_queue_full() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f b ns_b line n srv
	f=$(_hk_file rcvq)
	ns_b=$(netns_inode "$NS_B")
	ip netns exec "$NS_B" timeout 8 python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.bind(('$IP_B', 7000)); print('ready', flush=True); time.sleep(8)" >"$PWD/rcvq-$RUN_ID.out" &
	srv=$!
	for n in $(seq 1 50); do grep -q ready "$PWD/rcvq-$RUN_ID.out" 2>/dev/null && break; sleep 0.1; done
	record_start "$f" --compress none -e default,udp_fail_queue_rcv_skb,sock_rcvqueue_full udp port 7000 || return 1
	ip netns exec "$NS_A" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(40): s.sendto(b'y' * 1000, ('$IP_B', 7000))"
	sleep 0.3
	record_stop || return 1
	kill "$srv" 2>/dev/null
	b=$(_hk_blocks "$f") || { fail "unreadable"; return 1; }
	line=$(grep -E "^P .*hook=(udp:udp_fail_queue_rcv_skb|sock:sock_rcvqueue_full) netns=$ns_b " <<<"$b")
	n=$(grep -c . <<<"$line")
	assert_ge "$n" 30 "most of the 40 datagrams refused" || return 1
	assert_eq "$(grep -Ecv " (rc=-12|rmem=[0-9]+ rcvbuf=[0-9]+)$" <<<"$line")" 0 "rc=-12 (ENOMEM), or rmem/rcvbuf" || return 1
	# each on the track of a datagram B received, and each then freed as a drop
	local t
	t=$(sed -nE '1s/.* track=(0x[0-9a-f]+).*/\1/p' <<<"$line")
	assert_match "$(grep -E "^P .*hook=net:netif_receive_skb netns=$ns_b .*track=$t " <<<"$b")" . "received first" || return 1
	assert_match "$(grep -E "^P .*hook=skb:kfree_skb netns=$ns_b .*track=$t " <<<"$b")" "drop=SOCKET_RCVBUFF" "then dropped" || return 1
	_hk_readers_agree "$f"
}

# data segments dropped by nftables in B: A retransmits, in ESTABLISHED
test_hooks_tcp_retransmit() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f b ns_a line
	f=$(_hk_file retrans)
	ns_a=$(netns_inode "$NS_A")
	ip netns exec "$NS_B" nft add table inet hk || return 1
	ip netns exec "$NS_B" nft add chain inet hk input '{ type filter hook input priority 0; policy accept; }' || return 1
	ip netns exec "$NS_B" nft add rule inet hk input tcp dport 8081 meta length gt 200 drop || return 1
	ip netns exec "$NS_B" timeout 6 nc -l -p 8081 >/dev/null 2>&1 &
	sleep 0.2
	record_start "$f" --compress none -e default,tcp_retransmit_skb || return 1
	ip netns exec "$NS_A" python3 -c "
import socket, time
s = socket.create_connection(('$IP_B', 8081)); s.send(b'z' * 600); time.sleep(1.2)"
	record_stop || return 1
	b=$(_hk_blocks "$f") || { fail "unreadable"; return 1; }
	line=$(grep -E "^E hook=tcp:tcp_retransmit_skb netns=$ns_a " <<<"$b")
	assert_ge "$(grep -c . <<<"$line")" 1 "a retransmission" || return 1
	assert_eq "$(grep -Ecv "^E hook=tcp:tcp_retransmit_skb netns=$ns_a cpu=[0-9]+ pid=[0-9]+ comm=[^ ]+ saddr=$IP_A daddr=$IP_B sport=[0-9]+ dport=8081 tcp_state=TCP_ESTABLISHED$" <<<"$line")" 0 \
		"the connection's addresses, ports and state" || return 1
	_hk_readers_agree "$f"
}

# --write keeps event blocks byte for byte; --stats counts them;
# --list-events lists the new hooks, none of them a default
test_hooks_write_stats_and_errors() {
	need_root || return $?
	_hk_need || return $?
	topo_create || return 1
	local f w out
	f=$(_hk_file write)
	w=$(_hk_file written)
	record_start "$f" --compress none -e default,fib_table_lookup,net_dev_xmit || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_C" >/dev/null || { record_stop; fail "ping failed"; return 1; }
	sleep 0.2
	record_stop || return 1
	"$PKT_ANALYZE" --write "$w" --compress none "$f" >/dev/null || { fail "--write"; return 1; }
	assert_eq "$(_hk_blocks "$w" | grep '^E ')" "$(_hk_blocks "$f" | grep '^E ')" "event blocks kept" || return 1
	assert_ge "$(_hk_blocks "$w" | grep -c '^E ')" 2 "some events" || return 1
	out=$("$PKT_ANALYZE" --stats "$f")
	assert_match "$out" ", $(_hk_blocks "$f" | grep -c '^E ') events with no packet" "--stats counts them" || return 1
	_hk_readers_agree "$w" || return 1
	out=$("$PKT_RECORD" --list-events)
	assert_match "$out" "fib:fib_table_lookup +no +available" "listed, not default" || return 1
	assert_match "$out" "qdisc:qdisc_dequeue +no +available" "listed" || return 1
}
