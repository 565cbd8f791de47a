#!/usr/bin/env bash
# Names travel in the file: pkt-record names each namespace (ip netns name,
# or the process holding an unnamed one) and says how interfaces connect;
# pkt-analyze shows names (inodes with -n), --topology and --graph, even
# after the namespaces are gone.
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell.

_names_need() {
	need_root || return $?
	[ -x "$PKT_RECORD" ] && [ -x "$PKT_ANALYZE" ] || { fail "build pkt-record and pkt-analyze first"; return 1; }
	command -v dot >/dev/null || { skip "Graphviz's dot not installed"; return 77; }
}

test_names_topology_graph_after_namespaces_are_gone() {
	_names_need || return $?
	topo_create || return 1
	local f=$PWD/names-$RUN_ID.pcapng ns_a ns_b holder ns_u out json
	ns_a=$(netns_inode "$NS_A")
	ns_b=$(netns_inode "$NS_B")
	# an unnamed namespace, held only by a process: named after it
	unshare -n sleep 30 &
	holder=$!
	sleep 0.2
	ns_u=$(stat -L -c %i "/proc/$holder/ns/net")
	ip link add "pku$RUN_ID" type veth peer name "pkup$RUN_ID" netns "/proc/$holder/ns/net"
	ip link set "pku$RUN_ID" up
	nsenter -t "$holder" -n ip link set "pkup$RUN_ID" up
	record_start "$f" --compress none -e default "icmp or arp" || { kill $holder; return 1; }
	ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 1 "$IP_B" >/dev/null
	# a frame out of the unnamed namespace (no address needed: an ARP probe)
	nsenter -t "$holder" -n ip addr add 198.18.$N1.77/32 dev "pkup$RUN_ID"
	nsenter -t "$holder" -n arping -c 1 -w 1 -I "pkup$RUN_ID" 198.18.$N1.78 >/dev/null 2>&1 ||
		nsenter -t "$holder" -n ping -c 1 -W 1 -I "pkup$RUN_ID" 198.18.$N1.78 >/dev/null 2>&1
	sleep 0.3
	record_stop || { kill $holder; return 1; }
	kill $holder 2>/dev/null
	ip link del "pku$RUN_ID" 2>/dev/null
	topo_destroy # the names must now come from the file

	out=$("$PKT_ANALYZE" "$f") || { fail "pkt-analyze exit $?"; return 1; }
	assert_match "$out" "$NS_A +eth0 +net_dev_start_xmit" "the request leaves $NS_A, by name" || return 1
	assert_match "$out" "$NS_B +eth0 +netif_receive_skb" "and reaches $NS_B, by name" || return 1
	assert_match "$out" "host +pkv${RUN_ID}a" "the root namespace is host" || return 1
	out=$("$PKT_ANALYZE" -n "$f") || { fail "pkt-analyze -n exit $?"; return 1; }
	assert_nomatch "$out" "$NS_A" "-n shows no names" || return 1
	assert_match "$out" "$ns_a +eth0" "-n shows the inode" || return 1

	json=$("$PKT_ANALYZE" --format json "$f")
	assert_eq "$(python3 -c '
import json, sys
names = {}
for l in sys.stdin:
    o = json.loads(l)
    for h in o.get("hops", []) if o["type"] == "packet" else []:
        names[h["netns"]] = h["netns_name"]
    if o["type"] == "event":
        names[o["netns"]] = o["netns_name"]
print(names.get(int(sys.argv[1])), names.get(int(sys.argv[2])))' "$ns_a" "$ns_b" <<<"$json")" \
		"$NS_A $NS_B" "netns_name in JSON events and hops" || return 1

	out=$("$PKT_ANALYZE" --topology "$f") || { fail "--topology exit $?"; return 1; }
	assert_match "$out" "^netns $NS_A \\($ns_a\\)" "--topology lists $NS_A" || return 1
	assert_match "$out" "pkv${RUN_ID}a \\(ifindex [0-9]+\\) veth, port of ifindex [0-9]+, peer eth0@$NS_A" \
		"the host side of A's veth: a bridge port, its peer in $NS_A" || return 1
	assert_match "$out" "^  eth0 \\(ifindex 2\\) veth, peer pkv${RUN_ID}a@host" "and back" || return 1
	if grep -q "pkup$RUN_ID" <<<"$out"; then
		assert_match "$out" "^netns sleep\\[$holder\\] \\($ns_u\\)" "an unnamed namespace by its process" || return 1
	else
		echo "  note: nothing left the unnamed namespace (no arping/ping frame recorded)" >&2
	fi

	"$PKT_ANALYZE" --graph "$PWD/names-$RUN_ID.svg" --stats -q "$f" || { fail "--graph exit $?"; return 1; }
	out=$(sed -e 's/&#45;/-/g' -e 's/&#160;/ /g' "$PWD/names-$RUN_ID.svg") # SVG escapes dashes
	assert_match "$out" "<svg" "an SVG" || return 1
	for want in "$NS_A" "$NS_B" "pkv${RUN_ID}a" "pkv${RUN_ID}b" "request 3 " "reply 3 "; do
		assert_match "$out" "$want" "the graph shows $want" || return 1
	done
	"$PKT_ANALYZE" --graph "$PWD/names-$RUN_ID.png" --stats -q "$f" 2>"$PWD/names-$RUN_ID.err"
	assert_eq "$?" 1 "--graph FILE.png is refused" || return 1
	assert_match "$(cat "$PWD/names-$RUN_ID.err")" "svg or FILE.dot" "and says why" || return 1

	# --anonymize: names are host data
	"$PKT_ANALYZE" --anonymize --write "$PWD/names-$RUN_ID.anon.pcapng" --stats -q "$f" || { fail "--anonymize exit $?"; return 1; }
	out=$(tshark -r "$PWD/names-$RUN_ID.anon.pcapng" -T fields -e frame.interface_description 2>/dev/null | sort -u)
	assert_nomatch "$out" "$NS_A|$NS_B|netns_name=host" "no namespace name survives --anonymize" || return 1
	assert_match "$out" "netns_name=ns[0-9]+ netns_kind=netns kind=veth peer=" "pseudonyms, the structure kept" || return 1
	out=$("$PKT_ANALYZE" --anonymize "$f")
	assert_nomatch "$out" "$NS_A|$NS_B" "nor in the anonymized report" || return 1
	assert_match "$out" "ns[0-9]+ +eth0 +net_dev_start_xmit" "which shows the pseudonyms" || return 1
	rm -f "$f" "$PWD/names-$RUN_ID".*
}
