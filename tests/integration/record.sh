#!/usr/bin/env bash
# Integration tests of pkt-record on a real kernel (root, BPF, netns).
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell
# in tests/out, builds its own topology (topo_create) and leaves the
# teardown to the runner's trap.

# tshark without its root warning
_tshark() { tshark "$@" 2>/dev/null; }

# frame lines "packet_id|ifname|direction|comment|extra..." for a display filter
_hops() { # FILE DISPLAYFILTER [extra fields...]
	local f=$1 df=$2
	shift 2
	local extra=() x
	for x in "$@"; do extra+=(-e "$x"); done
	_tshark -r "$f" -Y "$df" -T fields -E separator='|' -e frame.packet_id \
		-e frame.interface_name -e frame.packet_flags_direction -e frame.comment "${extra[@]}"
}

# interface path of one packet id, consecutive duplicates collapsed
_path() { # HOPS_TEXT PACKETID
	awk -F'|' -v id="$2" '$1 == id { if ($2 != last) { printf "%s ", $2; last = $2 } }' <<<"$1" | sed 's/ $//'
}

_hooks() { # HOPS_TEXT: the hooks of its lines, in order
	awk -F'|' '{ split($4, kv, " "); h = kv[1]; sub(/^hook=/, "", h); printf "%s ", h }' <<<"$1" | sed 's/ $//'
}

_rec_file() { echo "$PWD/rec-${RUN_ID:-$$}-$1.pcapng${2:-}"; }

# root netns inode (lib.sh's netns_inode root stats /proc/1, which a sandbox may hide)
_root_ns() { stat -L -c %i /proc/self/ns/net; }

_need_tools() {
	local t
	for t in tshark tcpdump nft nc; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] || { fail "$PKT_RECORD missing (make pkt-record)"; return 1; }
}

# pkt-record -v's two summary lines in $REC_ERR, into the caller's locals
# err rec lost bytes hits filt unw
_read_summary() {
	err=$(grep -v '^libbpf' "$REC_ERR")
	read -r rec lost bytes < <(sed -nE 's/^pkt-record: ([0-9]+) events recorded, ([0-9]+) lost, ([0-9]+) bytes written.*/\1 \2 \3/p' <<<"$err")
	read -r hits filt unw < <(sed -nE 's/^pkt-record: ([0-9]+) hits, ([0-9]+) filtered out, ([0-9]+) not written.*/\1 \2 \3/p' <<<"$err")
	[ -n "$rec" ] && [ -n "$hits" ] || { fail "no summary: $err"; return 1; }
}

# the nine leading keys of the comment grammar (docs/format.md)
GRAMMAR='^hook=(net|skb):[a-z_]+ netns=[0-9]+ if=[^ =]+ ifindex=[0-9]+ skb=0x[0-9a-f]+ track=0x[0-9a-f]+ cpu=[0-9]+ pid=[0-9]+ comm=[^ =]+( [a-z_0-9]+=[^ =]+)*$'

# ping A -> B: every hop of request and reply, in order, one id per packet
test_ping_hops_across_bridge() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_root ns_a ns_b hops req rep
	f=$(_rec_file ping)
	ns_root=$(_root_ns) ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	record_start "$f" --compress none || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null || { record_stop; fail "ping failed"; return 1; }
	sleep 0.2
	record_stop || return 1

	hops=$(_hops "$f" "icmp.type == 8 && ip.src == $IP_A" icmp.seq)
	req=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	[ -n "$req" ] || { fail "no echo request recorded"; return 1; }
	assert_eq "$(cut -d'|' -f1 <<<"$hops" | sort -u | wc -l)" 1 "one packet id on every hop of the request" || return 1
	assert_eq "$(_path "$hops" "$req")" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}b@$ns_root eth0@$ns_b" "request path" || return 1
	# directions: tx hooks outbound (2), rx hooks inbound (1)
	assert_eq "$(awk -F'|' '$4 ~ /^hook=net:net_dev_(queue|start_xmit) / && $3 != "0x00000002"' <<<"$hops" | wc -l)" 0 "tx hooks outbound" || return 1
	assert_eq "$(awk -F'|' '$4 ~ /^hook=net:(netif_rx|netif_receive_skb) / && $3 != "0x00000001"' <<<"$hops" | wc -l)" 0 "rx hooks inbound" || return 1
	# default hooks: once per device and direction, in order
	assert_eq "$(_hooks "$hops")" \
		"net:net_dev_start_xmit net:netif_receive_skb net:net_dev_start_xmit net:netif_receive_skb" \
		"request hits (transmit / receive on 4 interfaces)" || return 1

	hops=$(_hops "$f" "icmp.type == 0 && ip.src == $IP_B")
	rep=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	[ -n "$rep" ] || { fail "no echo reply recorded"; return 1; }
	[ "$rep" != "$req" ] || { fail "request and reply share packet id $req"; return 1; }
	assert_eq "$(_path "$hops" "$rep")" \
		"eth0@$ns_b pkv${RUN_ID}b@$ns_root pkv${RUN_ID}a@$ns_root eth0@$ns_a" "reply path" || return 1

	# the comment's track= is the EPB packet id, and every comment follows the grammar
	local bad
	bad=$(_hops "$f" "frame" | python3 -c '
import sys
for line in sys.stdin:
    f = line.rstrip("\n").split("|")
    track = f[3].split(" ")[5]
    if not track.startswith("track=") or int(track[6:], 16) != int(f[0], 0):
        print(line.strip())' | head -n3)
	[ -z "$bad" ] || { fail "track= differs from epb_packetid: $bad"; return 1; }
	bad=$(_tshark -r "$f" -T fields -e frame.comment | grep -Ev "$GRAMMAR" | head -n3)
	[ -z "$bad" ] || { fail "comment outside the grammar: $bad"; return 1; }
	# interface description and SHB
	assert_match "$(_tshark -r "$f" -T fields -e frame.interface_description | sort -u)" \
		"^netns $ns_b ifindex [0-9]+ netns_name=$NS_B netns_kind=netns kind=veth peer=[0-9]+@$ns_root host $(hostname)\$" \
		"if_description: the namespace's name and the veth's peer" || return 1
	assert_match "$(capinfos "$f" 2>/dev/null)" "pkt-record [0-9]" "shb_userappl" || return 1
	# standard tools read it
	assert_nomatch "$(_tshark -r "$f")" "[Mm]alformed" "no malformed frame" || return 1
	tcpdump -nr "$f" >/dev/null 2>&1 || { fail "tcpdump -r cannot read the plain file"; return 1; }
	assert_eq "$(tcpdump -nr "$f" 2>/dev/null | grep -c 'ICMP echo request')" "$(_hops "$f" "icmp.type == 8" | wc -l)" "tcpdump sees every request hop" || return 1
	return 0
}

# ICMPv6, TCP and UDP, through the bridge and through the routed hop (zstd file)
test_protocols_and_routed_hop() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_a ns_b ns_r ns_c ns_root hops id
	f=$(_rec_file proto .zst)
	ns_root=$(_root_ns) ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	ns_r=$(netns_inode "$NS_R") ns_c=$(netns_inode "$NS_C")
	ip netns exec "$NS_B" timeout 5 nc -l -p 8080 >/dev/null 2>&1 &
	ip netns exec "$NS_C" timeout 5 nc -u -l -p 40404 >/dev/null 2>&1 &
	record_start "$f" || return 1
	ip netns exec "$NS_A" ping -6 -c1 -W2 "$IP6_B" >/dev/null || { record_stop; fail "ping -6 failed"; return 1; }
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_C" >/dev/null || { record_stop; fail "ping via router failed"; return 1; }
	ip netns exec "$NS_A" bash -c "head -c 100000 /dev/zero | nc -q0 -w2 $IP_B 8080" || { record_stop; fail "tcp failed"; return 1; }
	ip netns exec "$NS_A" bash -c "echo query > /dev/udp/$IP_C/40404"
	sleep 0.3
	record_stop || return 1
	assert_match "$(head -c4 "$f" | od -An -tx1 | tr -d ' ')" "^28b52ffd$" "zstd magic" || return 1

	# ICMPv6 echo request A -> B
	hops=$(_hops "$f" "icmpv6.type == 128 && ipv6.src == $IP6_A")
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_eq "$(_path "$hops" "$id")" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}b@$ns_root eth0@$ns_b" "ICMPv6 request path" || return 1

	# ICMP A -> C: bridge, router (forwarded: same skb), C
	hops=$(_hops "$f" "icmp.type == 8 && ip.dst == $IP_C")
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_eq "$(_path "$hops" "$id")" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}r@$ns_root eth0@$ns_r eth1@$ns_r eth0@$ns_c" "routed ICMP request path" || return 1
	hops=$(_hops "$f" "icmp.type == 0 && ip.src == $IP_C")
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_eq "$(_path "$hops" "$id")" \
		"eth0@$ns_c eth1@$ns_r eth0@$ns_r pkv${RUN_ID}r@$ns_root pkv${RUN_ID}a@$ns_root eth0@$ns_a" "routed ICMP reply path" || return 1

	# UDP A -> C
	hops=$(_hops "$f" "udp.dstport == 40404")
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_eq "$(_path "$hops" "$id")" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}r@$ns_root eth0@$ns_r eth1@$ns_r eth0@$ns_c" "UDP path" || return 1

	# TCP: every segment crosses 4 interfaces under one id, and no id covers two segments
	local seg ids merged
	seg=$(_tshark -r "$f" -Y "tcp.port == 8080 && !(tcp.flags.reset == 1)" -T fields -E separator=, \
		-e frame.packet_id -e ip.src -e ip.id -e tcp.seq_raw -e tcp.ack_raw -e tcp.flags)
	ids=$(cut -d, -f1 <<<"$seg" | sort -u | wc -l)
	assert_ge "$ids" 6 "TCP segments recorded" || return 1
	merged=$(sort -u <<<"$seg" | awk -F, '{ n[$1]++ } END { m = 0; for (k in n) if (n[k] > 1) m++; print m }')
	assert_eq "$merged" 0 "packet ids shared by different TCP segments" || return 1
	hops=$(_hops "$f" "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 8080")
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_eq "$(_path "$hops" "$id")" \
		"eth0@$ns_a pkv${RUN_ID}a@$ns_root pkv${RUN_ID}b@$ns_root eth0@$ns_b" "TCP SYN path" || return 1
	assert_nomatch "$(_tshark -r "$f")" "[Mm]alformed" "no malformed frame" || return 1
	return 0
}

# a UDP datagram dropped by nftables in B: kfree_skb with drop=NETFILTER_DROP in B's netns;
# one dropped in A's output path has no MAC header yet: synthetic L2
test_netfilter_drop_reason() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_a ns_b line
	f=$(_rec_file drop)
	ns_a=$(netns_inode "$NS_A") ns_b=$(netns_inode "$NS_B")
	ip netns exec "$NS_B" nft add table inet t || return 1
	ip netns exec "$NS_B" nft add chain inet t input '{ type filter hook input priority 0; policy accept; }' || return 1
	ip netns exec "$NS_B" nft add rule inet t input udp dport 9999 drop || return 1
	ip netns exec "$NS_A" nft add table inet t || return 1
	ip netns exec "$NS_A" nft add chain inet t output '{ type filter hook output priority 0; policy accept; }' || return 1
	ip netns exec "$NS_A" nft add rule inet t output udp dport 9998 drop || return 1
	record_start "$f" --compress none udp || return 1
	ip netns exec "$NS_A" bash -c "echo dropme > /dev/udp/$IP_B/9999"
	ip netns exec "$NS_A" bash -c "echo dropme > /dev/udp/$IP_B/9998" 2>/dev/null
	sleep 0.3
	record_stop || return 1

	line=$(_hops "$f" "udp.dstport == 9999 && frame.comment contains \"kfree_skb\"")
	assert_match "$line" "hook=skb:kfree_skb netns=$ns_b if=eth0 .* drop=NETFILTER_DROP" "kfree_skb in B with NETFILTER_DROP" || return 1
	assert_match "$(cut -d'|' -f2 <<<"$line")" "^eth0@$ns_b\$" "drop's interface" || return 1
	assert_match "$(cut -d'|' -f3 <<<"$line")" "^0x00000000\$" "no direction on kfree_skb" || return 1
	# every earlier hop of that datagram carries the same id
	local id
	id=$(cut -d'|' -f1 <<<"$line" | head -n1)
	assert_eq "$(_hops "$f" "udp.dstport == 9999" | awk -F'|' -v id="$id" '$1 != id' | wc -l)" 0 "one id up to the drop" || return 1

	line=$(_hops "$f" "udp.dstport == 9998" eth.src eth.type)
	assert_match "$line" "hook=skb:kfree_skb netns=$ns_a .*drop=NETFILTER_DROP.* l2=synth" "output drop in A, synthetic L2" || return 1
	assert_match "$line" "00:00:00:00:00:00\|0x0800\$" "synthetic Ethernet header: zero MACs, IPv4 ethertype" || return 1
	assert_nomatch "$(_tshark -r "$f")" "[Mm]alformed" "no malformed frame" || return 1
	return 0
}

# filter: all hops of matching packets, nothing else; a packet that matched
# stays tracked after NAT changed its addresses
test_filter_tracks_after_nat() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_r ns_c all bad hops id
	f=$(_rec_file filter)
	ns_r=$(netns_inode "$NS_R") ns_c=$(netns_inode "$NS_C")
	ip netns exec "$NS_R" nft add table ip nat || return 1
	ip netns exec "$NS_R" nft add chain ip nat post '{ type nat hook postrouting priority 100; }' || return 1
	ip netns exec "$NS_R" nft add rule ip nat post oifname eth1 masquerade || return 1
	record_start "$f" --compress none "icmp and host $IP_A" || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null
	ip netns exec "$NS_B" ping -c1 -W2 "$IP_C" >/dev/null  # not matching
	ip netns exec "$NS_A" bash -c "echo x > /dev/udp/$IP_B/7777"  # not matching
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_C" >/dev/null  # NATed at R
	sleep 0.3
	record_stop || return 1

	all=$(_tshark -r "$f" -T fields -E separator='|' -e ip.src -e ip.dst -e _ws.col.Protocol)
	assert_ge "$(wc -l <<<"$all")" 16 "frames recorded" || return 1
	bad=$(grep -v '^[^|]*|[^|]*|ICMP$' <<<"$all" | head -n3)
	[ -z "$bad" ] || { fail "non-ICMP frame recorded: $bad"; return 1; }
	bad=$(grep "$IP_B|$IP_C|" <<<"$all" | head -n3)
	[ -z "$bad" ] || { fail "B -> C ping recorded: $bad"; return 1; }
	assert_ge "$(_hops "$f" "icmp.type == 8 && ip.dst == $IP_B" | wc -l)" 4 "A -> B request hops" || return 1
	assert_ge "$(_hops "$f" "icmp.type == 0 && ip.src == $IP_B" | wc -l)" 4 "B -> A reply hops" || return 1
	# the NATed request keeps being recorded after R rewrote its source
	hops=$(_hops "$f" "icmp.type == 8 && ip.dst == $IP_C" ip.src)
	id=$(head -n1 <<<"$hops" | cut -d'|' -f1)
	assert_match "$(_path "$hops" "$id")" "eth1@$ns_r eth0@$ns_c\$" "NATed request tracked to C" || return 1
	assert_match "$(grep "eth0@$ns_c" <<<"$hops")" "\|$IP_R1\$" "source rewritten by NAT at C" || return 1
	return 0
}

# kill -9: the zstd file is readable up to the last flush
test_kill9_leaves_readable_zstd() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f n out
	f=$(_rec_file kill9 .zst)
	record_start "$f" icmp || return 1
	timeout 2.5 ip netns exec "$NS_A" ping -i 0.2 "$IP_B" >/dev/null
	sleep 1.5
	kill -9 "$REC_PID"
	wait "$REC_PID" 2>/dev/null
	out=$(tshark -r "$f" 2>&1) || { fail "tshark failed: $(tail -n2 <<<"$out")"; return 1; }
	assert_nomatch "$out" "cut short|appears to be damaged|[Mm]alformed" "clean read" || return 1
	n=$(_tshark -r "$f" | wc -l)
	assert_ge "$n" 40 "packets readable after kill -9 (12 pings x 8 hops, request + reply)" || return 1
	return 0
}

# error paths: one line on stderr, documented exit status
test_errors_and_exit_status() {
	need_root || return $?
	_need_tools || return $?
	local f err rc
	f=$(_rec_file err)
	rm -f "$f"
	err=$("$PKT_RECORD" -e net:no_such_hook -o "$f" 2>&1); rc=$?
	assert_eq "$rc" 1 "unknown hook exit status" || return 1
	assert_eq "$(wc -l <<<"$err")" 1 "unknown hook: one line" || return 1
	assert_match "$err" "unknown hook 'net:no_such_hook'" "unknown hook message" || return 1
	[ ! -e "$f" ] || { fail "file created on error"; return 1; }

	err=$("$PKT_RECORD" -o "$f" "icmp and and" 2>&1); rc=$?
	assert_eq "$rc" 1 "bad filter exit status" || return 1
	assert_eq "$(wc -l <<<"$err")" 1 "bad filter: one line" || return 1
	assert_match "$err" "bad filter expression.*syntax error" "libpcap's message" || return 1

	echo keep >"$f"
	err=$("$PKT_RECORD" -o "$f" -c 1 2>&1); rc=$?
	assert_eq "$rc" 1 "existing output exit status" || return 1
	assert_match "$err" "exists \(use --force\)" "existing output message" || return 1
	assert_eq "$(cat "$f")" keep "existing file untouched" || return 1

	err=$("$PKT_RECORD" -o /nonexistent-dir/x.pcapng -c 1 2>&1); rc=$?
	assert_eq "$rc" 1 "unwritable output exit status" || return 1
	assert_match "$err" "No such file or directory" "unwritable output message" || return 1

	"$PKT_RECORD" --bogus >/dev/null 2>&1; rc=$?
	assert_eq "$rc" 2 "usage error exit status" || return 1
	err=$("$PKT_RECORD" --nice 20 -c 1 2>&1); rc=$?
	assert_eq "$rc" 2 "--nice out of range: usage error" || return 1
	assert_match "$err" "--nice: expected -20..19, got '20'" "--nice range message" || return 1
	"$PKT_RECORD" --help | grep -q "Exit status" || { fail "--help documents exit status"; return 1; }
	assert_match "$("$PKT_RECORD" --version)" "^pkt-record [0-9]" "--version" || return 1
	assert_match "$("$PKT_RECORD" --list-events)" "skb:kfree_skb +yes +available" "--list-events" || return 1

	# without privileges: one line naming the capabilities
	if command -v setpriv >/dev/null; then
		err=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$PKT_RECORD" -c 1 2>&1); rc=$?
		assert_eq "$rc" 1 "unprivileged exit status" || return 1
		assert_match "$err" "^pkt-record: missing CAP_BPF and CAP_PERFMON" "unprivileged message" || return 1
		assert_eq "$(wc -l <<<"$err")" 1 "unprivileged: one line, no libbpf noise" || return 1
	fi
	return 0
}

# -c N stops after N events; -G stops after the duration; --force overwrites
test_count_duration_force() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f start rc n
	f=$(_rec_file count)
	echo old >"$f"
	ip netns exec "$NS_A" ping -i 0.1 -c 30 "$IP_B" >/dev/null &
	timeout 10 "$PKT_RECORD" --force -q -c 5 -o "$f" --compress none icmp; rc=$?
	assert_eq "$rc" 0 "-c exit status" || return 1
	n=$(_tshark -r "$f" | wc -l)
	assert_eq "$n" 5 "-c 5 events in the file" || return 1
	start=$(date +%s%N)
	timeout 10 "$PKT_RECORD" --force -q -G 1 -o "$f"; rc=$?
	assert_eq "$rc" 0 "-G exit status" || return 1
	n=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$n" -lt 4000 ] || { fail "-G 1 took ${n} ms"; return 1; }
	_tshark -r "$f" >/dev/null || { fail "-G file unreadable"; return 1; }
	wait
	return 0
}

# -i and --netns filter in the kernel
test_interface_and_netns_filters() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_b names
	f=$(_rec_file ifns)
	ns_b=$(netns_inode "$NS_B")
	record_start "$f" -i eth0 --netns "$NS_B" || return 1
	ip netns exec "$NS_A" ping -c2 -i 0.2 -W2 "$IP_B" >/dev/null
	sleep 0.2
	record_stop || return 1
	names=$(_tshark -r "$f" -T fields -e frame.interface_name | sort -u)
	assert_eq "$names" "eth0@$ns_b" "only eth0 in B" || return 1
	assert_ge "$(_tshark -r "$f" -Y icmp | wc -l)" 4 "ICMP hits in B (2 requests received, 2 replies sent)" || return 1
	return 0
}

# live print: tracepkt's columns, the interface as IFNAME@NETNS-NAME; -n: the inode column
test_live_print() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local out ns_a ping
	ns_a=$(netns_inode "$NS_A")
	# pings for both recordings (each takes a moment to attach), stopped after
	ip netns exec "$NS_A" ping -i 0.1 -c 200 "$IP_B" >/dev/null &
	ping=$!
	out=$(timeout 10 "$PKT_RECORD" -q -c 4 -i eth0 --netns "$NS_A" icmp)
	assert_match "$(head -n1 <<<"$out")" "^TIME +PID +INTERFACE +HOOK +PACKET$" "header" || return 1
	assert_eq "$(tail -n +2 <<<"$out" | wc -l)" 4 "4 event lines" || return 1
	assert_match "$out" " [0-9]+ eth0@$NS_A +net:net_dev_start_xmit +$IP_A -> $IP_B ICMP echo-request" "request line, by name" || return 1
	assert_nomatch "$out" "$ns_a" "no inode without -n" || return 1
	out=$(timeout 10 "$PKT_RECORD" -q -n -c 4 -i eth0 --netns "$NS_A" icmp)
	kill "$ping" 2>/dev/null
	wait
	assert_match "$(head -n1 <<<"$out")" "NETWORK NS +PID +INTERFACE +HOOK" "-n: header" || return 1
	assert_match "$out" "\[$ns_a\] +[0-9]+ eth0 +net:net_dev_start_xmit +$IP_A -> $IP_B ICMP echo-request" "-n: request line, by inode" || return 1
	assert_nomatch "$out" "@$NS_A" "-n: no name" || return 1
	return 0
}

# counters: recorded + lost (+ filtered + unwritten) == hits, under a flood with a small ring buffer
test_counters_under_load() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f err rec lost bytes hits filt unw secs
	f=$(_rec_file load .zst)
	ip netns exec "$NS_B" timeout 8 nc -l -p 8080 >/dev/null 2>&1 &
	sleep 0.2
	record_start "$f" -v --buffer-size 1 || return 1
	secs=$(date +%s%N)
	ip netns exec "$NS_A" bash -c "head -c 300000000 /dev/zero | timeout 5 nc -q0 -w2 $IP_B 8080"
	secs=$(( $(date +%s%N) - secs ))
	record_stop || return 1
	_read_summary || return 1
	echo "  $rec recorded, $lost lost, $hits hits in $((secs / 1000000)) ms ($(( (rec + lost) * 1000000000 / secs )) events/s), $bytes bytes"
	assert_eq "$((rec + lost + filt + unw))" "$hits" "recorded + lost + filtered + unwritten == hits" || return 1
	assert_ge "$rec" 1000 "events recorded" || return 1
	# (tshark 4.0 misreads large multi-frame zstd files: count on the decompressed stream)
	assert_eq "$(zstd -dc "$f" | _tshark -r - | wc -l)" "$rec" "file holds every recorded event" || return 1
	if command -v python3 >/dev/null; then
		local epb recv drop isb shb
		read -r epb recv drop isb shb < <(zstd -dc "$f" | _isb_sums)
		assert_eq "$epb" "$rec" "EPBs" || return 1
		assert_eq "$recv" "$rec" "sum of isb_ifrecv" || return 1
		assert_eq "$drop" "$lost" "sum of isb_ifdrop" || return 1
		assert_ge "$isb" 4 "ISBs (one per interface)" || return 1
	fi
	if [ -x "$PKT_ANALYZE" ] && "$PKT_ANALYZE" --stats --format json "$f" >/dev/null 2>&1; then
		assert_match "$("$PKT_ANALYZE" --stats --format json "$f")" "\"lost\": ?$lost[,}]" "ISB ifdrop total == lost" || return 1
	fi
	return 0
}

# sums over a plain pcapng stream on stdin: "EPBS IFRECV IFDROP ISBS SECTIONS" (tests/lib.sh)
_isb_sums() { pcapng_sums; }

# exact loss accounting: a ring buffer far too small for a ping flood across
# the routed hop and a slow writer (zstd level 19), so most events are lost:
# still every hit the BPF side counted is either in the file or reported
# lost, and the ISBs of the file say the same
test_loss_accounting_exact() {
	need_root || return $?
	_need_tools || return $?
	command -v python3 >/dev/null || { skip "python3 not installed"; return 77; }
	topo_create || return 1
	local f err rec lost bytes hits filt unw epb recv drop isb shb
	f=$(_rec_file loss .zst)
	# --nice 0: at the ordinary priority, the loss this test needs comes sooner
	record_start "$f" -v --buffer-size 1 --compress zstd:19 -s 0 --nice 0 || return 1
	ip netns exec "$NS_A" ping -f -c 20000 -s 1000 -w 5 "$IP_C" >/dev/null
	record_stop || return 1
	_read_summary || return 1
	echo "  $rec recorded + $lost lost = $((rec + lost)), BPF hits $hits, $bytes bytes"
	assert_ge "$lost" 1 "events lost (the ring buffer must overflow for this test)" || return 1
	assert_ge "$rec" 1 "events recorded" || return 1
	assert_eq "$filt $unw" "0 0" "nothing filtered or left unwritten" || return 1
	assert_eq "$((rec + lost))" "$hits" "recorded + lost == hits counted by the BPF programs" || return 1
	read -r epb recv drop isb shb < <(zstd -dc "$f" | pcapng_sums)
	echo "  file: $epb EPBs, ISB ifrecv sum $recv, ifdrop sum $drop, $isb ISBs"
	assert_eq "$epb" "$rec" "EPBs in the file == recorded" || return 1
	assert_eq "$recv" "$rec" "sum of isb_ifrecv == recorded" || return 1
	assert_eq "$drop" "$lost" "sum of isb_ifdrop == lost" || return 1
	assert_eq "$((recv + drop))" "$hits" "ISB ifrecv + ifdrop == BPF hits" || return 1
	return 0
}

# --nice: every thread of the recorder (reader, libzstd's worker) runs at the
# nice value asked, -10 by default; 0 leaves the caller's
_thread_nices() { # PID: the distinct nice values of its threads
	ps -L -o ni= -p "$1" | tr -d ' ' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
test_recorder_priority() {
	need_root || return $?
	_need_tools || return $?
	local f threads
	f=$(_rec_file nice .zst)
	if [ "$(nice -n -10 nice 2>/dev/null)" -ge "$(nice)" ]; then
		# no CAP_SYS_NICE here: recording goes on at the caller's nice, said with -v
		record_start "$f" --force -v || return 1
		assert_eq "$(_thread_nices "$REC_PID")" "$(nice)" "nice unchanged without CAP_SYS_NICE" || { record_stop; return 1; }
		record_stop || return 1
		assert_match "$(cat "$REC_ERR")" "cannot run at nice -10" "-v says the priority was not raised" || return 1
		return 0
	fi
	record_start "$f" --force || return 1
	ping -c 3 -i 0.2 127.0.0.1 >/dev/null
	sleep 1.2 # past the first timed flush: libzstd has made its worker
	threads=$(ps -L -o tid= -p "$REC_PID" | wc -l)
	if [ "$(nproc)" -gt 1 ]; then
		assert_ge "$threads" 2 "threads of the recorder (reader and zstd worker)" || { record_stop; return 1; }
	fi
	assert_eq "$(_thread_nices "$REC_PID")" "-10" "default nice of all $threads threads" || { record_stop; return 1; }
	record_stop || return 1
	record_start "$f" --force --nice 5 || return 1
	ping -c 3 -i 0.2 127.0.0.1 >/dev/null
	assert_eq "$(_thread_nices "$REC_PID")" "5" "--nice 5 on all threads" || { record_stop; return 1; }
	record_stop || return 1
	record_start "$f" --force --nice 0 || return 1
	assert_eq "$(_thread_nices "$REC_PID")" "$(nice)" "--nice 0 keeps the caller's" || { record_stop; return 1; }
	record_stop || return 1
	return 0
}

# -C/-W rotation: complete files FILE, FILE.1, ... each with its own SHB and IDBs
test_rotation() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f i n
	f=$(_rec_file rot)
	ip netns exec "$NS_B" timeout 8 nc -l -p 8080 >/dev/null 2>&1 &
	sleep 0.2
	record_start "$f" -C 1 -W 3 --compress none || return 1
	ip netns exec "$NS_A" bash -c "head -c 30000000 /dev/zero | timeout 5 nc -q0 -w2 $IP_B 8080"
	record_stop || return 1
	for i in "" .1 .2; do
		[ -s "$f$i" ] || { fail "$f$i missing"; return 1; }
		n=$(_tshark -r "$f$i" | wc -l)
		assert_ge "$n" 100 "packets in $f$i" || return 1
		tcpdump -nr "$f$i" >/dev/null 2>&1 || { fail "tcpdump cannot read $f$i"; return 1; }
	done
	[ ! -e "$f.3" ] || { fail "-W 3 wrote a fourth file"; return 1; }
	if command -v python3 >/dev/null; then
		local epb recv drop isb shb
		for i in "" .1 .2; do
			read -r epb recv drop isb shb < <(_isb_sums <"$f$i")
			assert_eq "$shb" 1 "one section in $f$i" || return 1
			assert_eq "$recv" "$epb" "isb_ifrecv sum == EPBs in $f$i" || return 1
			assert_ge "$isb" 1 "ISBs in $f$i" || return 1
		done
	fi
	return 0
}

# full disk: stop, exit 1 with the cause, and the file stays readable up to the last flush
test_disk_full_keeps_valid_file() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local dir f rc err n
	dir=$(mktemp -d)
	mount -t tmpfs -o size=2m tmpfs "$dir" || { rmdir "$dir"; skip "cannot mount tmpfs"; return 77; }
	f=$dir/full.pcapng
	ip netns exec "$NS_B" timeout 10 nc -l -p 8080 >/dev/null 2>&1 &
	ip netns exec "$NS_A" ping -c 15 -i 0.1 "$IP_B" >/dev/null &
	"$PKT_RECORD" -o "$f" --compress none 2>"$dir.err" &
	local pid=$!
	# the disk fills before the first flush on time (1 s): what is kept is
	# what the flush on size (every MiB of plain pcapng) made good
	sleep 0.5
	ip netns exec "$NS_A" bash -c "head -c 100000000 /dev/zero | timeout 5 nc -q0 -w2 $IP_B 8080"
	for n in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -INT "$pid" 2>/dev/null
	wait "$pid"; rc=$?
	err=$(cat "$dir.err"); rm -f "$dir.err"
	n=$(tcpdump -nr "$f" 2>/dev/null | wc -l)
	local tcpdump_rc
	tcpdump -nr "$f" >/dev/null 2>&1; tcpdump_rc=$?
	umount "$dir"; rmdir "$dir"
	assert_eq "$rc" 1 "exit status on a full disk" || return 1
	assert_match "$err" "No space left on device" "message names the cause" || return 1
	assert_eq "$tcpdump_rc" 0 "tcpdump reads the file cut at the last flush" || return 1
	assert_ge "$n" 20 "packets kept" || return 1
	return 0
}

# -e selects the hooks; skb:consume_skb is recorded only when asked for
test_event_selection() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f hooks
	f=$(_rec_file events)
	record_start "$f" -e net:netif_rx,skb:consume_skb "icmp and host $IP_A" || return 1
	ip netns exec "$NS_A" ping -c2 -i 0.2 -W2 "$IP_B" >/dev/null
	sleep 0.2
	record_stop || return 1
	hooks=$(_tshark -r "$f" -T fields -e frame.comment | sed -E 's/^hook=([^ ]+) .*/\1/' | sort -u | tr '\n' ' ')
	assert_eq "$hooks" "net:netif_rx skb:consume_skb " "recorded hooks" || return 1
	assert_match "$(grep -c . "$REC_ERR")" "^[0-9]+$" "stderr" || return 1
	assert_match "$(cat "$REC_ERR")" "recording on 2 hooks \(net:netif_rx skb:consume_skb\)" "start message" || return 1

	# 'default' plus the qdisc and backlog enqueues: two hits per device and direction
	local hops
	f=$(_rec_file events2)
	record_start "$f" --compress none -e default,net_dev_queue,netif_rx "icmp and host $IP_A" || return 1
	ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null
	sleep 0.2
	record_stop || return 1
	assert_match "$(cat "$REC_ERR")" "recording on 9 hooks \(net:net_dev_queue net:net_dev_start_xmit net:netif_rx net:netif_receive_skb skb:kfree_skb icmp:icmp_send tcp:tcp_send_reset udp:udp_fail_queue_rcv_skb sock:sock_rcvqueue_full\)" "start message, -e default,..." || return 1
	hops=$(_hops "$f" "icmp.type == 8")
	assert_eq "$(_hooks "$hops")" \
		"net:net_dev_queue net:net_dev_start_xmit net:netif_rx net:netif_receive_skb net:net_dev_queue net:net_dev_start_xmit net:netif_rx net:netif_receive_skb" \
		"request: queue, transmit, backlog, receive at each device" || return 1
	assert_eq "$(cut -d'|' -f1 <<<"$hops" | sort -u | wc -l)" 1 "one packet id on the 8 hits" || return 1
	return 0
}

# a device without a link-layer header (tun): synthetic Ethernet header on
# transmit; with no reader attached the packet dies in the qdisc (QDISC_DROP)
test_l3_device_synthetic_l2() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f ns_a lines
	f=$(_rec_file tun)
	ns_a=$(netns_inode "$NS_A")
	ip netns exec "$NS_A" ip tuntap add pkt9 mode tun 2>/dev/null || { skip "no tun device"; return 77; }
	ip -n "$NS_A" addr add 10.98.0.1/24 dev pkt9
	ip -n "$NS_A" link set pkt9 up
	# the packet never reaches the driver: only the qdisc enqueue sees it whole
	record_start "$f" --compress none -i pkt9 -e default,net_dev_queue || return 1
	ip netns exec "$NS_A" ping -c1 -W1 10.98.0.2 >/dev/null
	sleep 0.2
	record_stop || return 1
	lines=$(_hops "$f" "icmp.type == 8" eth.src eth.type ip.dst frame.len)
	assert_match "$lines" "pkt9@$ns_a\|0x00000002\|hook=net:net_dev_queue .* l2=synth[^|]*\|00:00:00:00:00:00\|0x0800\|10.98.0.2\|98\$" "synthetic L2 on transmit" || return 1
	assert_match "$lines" "hook=skb:kfree_skb netns=$ns_a if=pkt9 .*drop=QDISC_DROP" "dropped in the qdisc" || return 1
	assert_eq "$(cut -d'|' -f1 <<<"$lines" | sort -u | wc -l)" 1 "one packet id" || return 1
	return 0
}

# The filter runs in the kernel (non-matching hits never reach user space);
# a filter too long for the kernel side runs in user space with the same result.
test_filter_in_kernel_and_user_space_fallback() {
	need_root || return $?
	_need_tools || return $?
	topo_create || return 1
	local f1 f2 long i err1 err2 k1 k2 hops1 hops2 bad
	f1=$(_rec_file kfilter) f2=$(_rec_file ufilter)
	# > 256 classic BPF instructions: 300 'len ==' tests libpcap cannot merge
	long="icmp and host $IP_A"
	for i in $(seq 1 300); do long="$long or len == $((5000 + i))"; done
	_traffic() {
		ip netns exec "$NS_A" ping -c2 -i0.2 -W2 "$IP_B" >/dev/null
		ip netns exec "$NS_B" ping -c2 -i0.2 -W2 "$IP_C" >/dev/null # no A: not matching
		ip netns exec "$NS_A" bash -c "echo x > /dev/udp/$IP_B/7777" # not ICMP
		sleep 0.3
	}
	record_start "$f1" -v "icmp and host $IP_A" || return 1
	_traffic
	record_stop || return 1
	err1=$(grep -v '^libbpf' "$REC_ERR")
	record_start "$f2" -v "$long" || return 1
	_traffic
	record_stop || return 1
	err2=$(grep -v '^libbpf' "$REC_ERR")

	assert_match "$err1" 'the filter runs in the kernel' "short filter placement" || return 1
	assert_match "$err2" 'the filter runs in user space' "long filter placement" || return 1
	k1=$(sed -nE 's/.*\(([0-9]+) filtered in the kernel\).*/\1/p' <<<"$err1")
	k2=$(sed -nE 's/.*\(([0-9]+) filtered in the kernel\).*/\1/p' <<<"$err2")
	assert_ge "${k1:-0}" 8 "hits the kernel filtered out (B -> C pings, UDP)" || return 1
	assert_eq "${k2:-x}" 0 "nothing filtered in the kernel by the user-space fallback" || return 1
	for f in "$f1" "$f2"; do
		bad=$(_tshark -r "$f" -Y "not icmp or not ip.addr == $IP_A" -T fields -e frame.number | head -n3)
		[ -z "$bad" ] || { fail "$f: frames that do not match: $bad"; return 1; }
	done
	# same hops either way: (echo type, interface) of every frame
	hops1=$(_tshark -r "$f1" -T fields -e icmp.type -e frame.interface_name | sort | uniq -c)
	hops2=$(_tshark -r "$f2" -T fields -e icmp.type -e frame.interface_name | sort | uniq -c)
	assert_ge "$(_tshark -r "$f1" -Y 'icmp.type == 8' | wc -l)" 8 "request hops (2 pings x 4)" || return 1
	assert_eq "$hops2" "$hops1" "hops per interface, kernel vs user-space filter" || return 1
	return 0
}
