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

	# the pair drawn is the first one: of A and B (pkt-record sees every ping on the machine)
	"$PKT_ANALYZE" -Y "icmp and host $IP_A and host $IP_B" --graph "$PWD/names-$RUN_ID.svg" --stats -q "$f" || { fail "--graph exit $?"; return 1; }
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

# The cgroup v2 hierarchy (/sys/fs/cgroup, or .../unified on a hybrid system).
_cgroup2_root() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# Namespaces named every way, relations of every kind, read from the file
# after all is gone: an unnamed namespace held by a process (comm[pid]),
# another whose holder sits in a cgroup named like a docker scope
# (docker:ID12), a VXLAN between two named namespaces (vni, underlay);
# --graph as DOT that Graphviz renders with every hop of the path; nothing
# of any original name left after --anonymize.
test_names_every_kind_after_they_are_gone() {
	_names_need || return $?
	command -v python3 >/dev/null || { skip "python3 not installed"; return 77; }
	local cg2 hex f ns_h ns_d ns_a ns_b out json i
	# held, dk, scope: globals, for the trap
	cg2=$(_cgroup2_root)
	[ -n "$cg2" ] || { fail "no cgroup2 hierarchy mounted"; return 1; }
	topo_create || return 1
	f=$PWD/kinds-$RUN_ID.pcapng
	ns_a=$(netns_inode "$NS_A")
	ns_b=$(netns_inode "$NS_B")
	hex=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	scope=$cg2/pkt-$RUN_ID.slice/docker-$hex.scope
	# two unnamed namespaces, each held by a process only
	unshare -n sleep 60 &
	held=$!
	unshare -n sleep 60 &
	dk=$!
	trap 'kill $held $dk 2>/dev/null; wait $held $dk 2>/dev/null; rmdir "$scope" "${scope%/*}" 2>/dev/null; topo_destroy' EXIT
	mkdir -p "$scope" || { fail "mkdir $scope"; return 1; }
	echo "$dk" >"$scope/cgroup.procs" || { fail "moving $dk into $scope"; return 1; }
	sleep 0.2
	ns_h=$(stat -L -c %i "/proc/$held/ns/net")
	ns_d=$(stat -L -c %i "/proc/$dk/ns/net")
	# a veth from the host into each, addresses from 198.19.N.0/28
	for i in 1 2; do
		local pid=$held
		[ $i = 2 ] && pid=$dk
		ip link add "pkh$RUN_ID$i" type veth peer name "in$i" netns "/proc/$pid/ns/net" || return 1
		ip addr add "198.19.$N.$((i * 4 + 1))/30" dev "pkh$RUN_ID$i"
		ip link set "pkh$RUN_ID$i" up
		nsenter -t "$pid" -n ip addr add "198.19.$N.$((i * 4 + 2))/30" dev "in$i"
		nsenter -t "$pid" -n ip link set "in$i" up
	done
	# a VXLAN between A and B over their eth0, 198.19.N.65/.66 inside
	ip -n "$NS_A" link add vx0 type vxlan id 4242 dev eth0 remote "$IP_B" dstport 4789 || return 1
	ip -n "$NS_B" link add vx0 type vxlan id 4242 dev eth0 remote "$IP_A" dstport 4789 || return 1
	ip -n "$NS_A" addr add "198.19.$N.65/28" dev vx0
	ip -n "$NS_B" addr add "198.19.$N.66/28" dev vx0
	ip -n "$NS_A" link set vx0 up
	ip -n "$NS_B" link set vx0 up
	for i in $(seq 1 30); do
		ping -c1 -W1 -q "198.19.$N.6" >/dev/null 2>&1 && ping -c1 -W1 -q "198.19.$N.10" >/dev/null 2>&1 &&
			ip netns exec "$NS_A" ping -c1 -W1 -q "198.19.$N.66" >/dev/null 2>&1 && break
		sleep 0.1
	done

	record_start "$f" --compress none "icmp or udp port 4789" || return 1
	ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 1 "198.19.$N.66" >/dev/null || { record_stop; fail "ping over the VXLAN"; return 1; }
	ping -c 2 -i 0.2 -W 1 "198.19.$N.6" >/dev/null || { record_stop; fail "ping the process's namespace"; return 1; }
	ping -c 2 -i 0.2 -W 1 "198.19.$N.10" >/dev/null || { record_stop; fail "ping the docker-scoped namespace"; return 1; }
	sleep 0.3
	record_stop || return 1
	kill $held $dk 2>/dev/null
	wait $held $dk 2>/dev/null
	rmdir "$scope" "${scope%/*}" || { fail "removing the test's cgroup"; return 1; }
	ip link del "pkh${RUN_ID}1" 2>/dev/null
	ip link del "pkh${RUN_ID}2" 2>/dev/null
	topo_destroy # the names must now come from the file
	for i in "$NS_A" "$NS_B"; do [ ! -e "/run/netns/$i" ] || { fail "$i still there"; return 1; }; done

	out=$("$PKT_ANALYZE" --topology "$f") || { fail "--topology exit $?"; return 1; }
	assert_match "$out" "^netns sleep\\[$held\\] \\($ns_h\\)" "an unnamed namespace by its process" || return 1
	assert_match "$out" "^  in1 \\(ifindex [0-9]+\\) veth, peer pkh${RUN_ID}1@host" "its veth's peer on the host" || return 1
	assert_match "$out" "^netns docker:${hex:0:12} \\($ns_d\\)" "a namespace in a docker scope by the container id" || return 1
	assert_match "$out" "^  vx0 \\(ifindex [0-9]+\\) vxlan, over eth0@$NS_A, vni 4242$" "A's VXLAN: vni and underlay" || return 1
	assert_match "$out" "^  vx0 \\(ifindex [0-9]+\\) vxlan, over eth0@$NS_B, vni 4242$" "B's VXLAN" || return 1
	out=$("$PKT_ANALYZE" "$f") || { fail "pkt-analyze exit $?"; return 1; }
	assert_match "$out" "sleep\\[$held\\] +in1 +netif_receive_skb" "the report names the process's namespace" || return 1
	assert_match "$out" "docker:${hex:0:12} +in2 +netif_receive_skb" "and the docker-scoped one" || return 1
	assert_match "$out" "$NS_B +vx0 +netif_receive_skb" "and the VXLAN's far end" || return 1
	# the decapsulation at the far end continues the path (not a clone branch of the
	# inner packet before encapsulation): the echo pairs and ends at vx0 both ways
	assert_match "$out" "=> delivered to netns [^ ]+ \\(vx0\\), answered by the echo reply" \
		"the VXLAN request delivered at B's vx0" || return 1
	assert_match "$out" "=> delivered to netns [^ ]+ \\(vx0\\), where the echo request came from" \
		"the VXLAN reply delivered at A's vx0" || return 1

	# --graph as DOT: Graphviz renders it, and every place and step of the drawn
	# pair (the first one of the process's namespace) is in it
	"$PKT_ANALYZE" -Y "icmp and host 198.19.$N.6" --graph "$PWD/kinds-$RUN_ID.dot" --stats -q "$f" ||
		{ fail "--graph exit $?"; return 1; }
	dot -Tsvg "$PWD/kinds-$RUN_ID.dot" >"$PWD/kinds-$RUN_ID.svg" || { fail "dot -Tsvg refused the graph"; return 1; }
	assert_match "$(cat "$PWD/kinds-$RUN_ID.svg")" "<svg" "an SVG" || return 1
	json=$("$PKT_ANALYZE" -Y "icmp and host 198.19.$N.6" --format json "$f")
	local script
	script=$(cat <<'EOF'
import json, re, sys
dot = open(sys.argv[1]).read()
# clusters: label "NAME (INODE)", nodes inside; edges n1 -> n2
nodes, box = {}, None
for line in dot.splitlines():
    m = re.match(r'\s*label="(?:netns )?(.*?)(?: \((\d+)\))?";', line)
    if m and box is not None and box[0] is None:
        box = (m.group(1), line)
    if line.strip().startswith("subgraph cluster"):
        box = (None, None)
    m = re.match(r'\s*(n\d+) \[label="(.*?)"\];', line)
    if m and box:
        nodes[m.group(1)] = "%s@%s" % (m.group(2), box[0])
edges = {(nodes[a], nodes[b]) for a, b in re.findall(r'(n\d+) -> (n\d+)', dot)}
pk, pair = {}, None
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "packet": pk[o["id"]] = o
    if o["type"] == "pair" and pair is None: pair = o
missing = []
for p in (pk[pair["request_packet"]], pk[pair["reply_packet"]]):
    places = []
    for h in p["hops"]:
        w = "%s@%s" % (h["ifname"], h["netns_name"])
        if not places or places[-1] != w: places.append(w)
    missing += [w for w in places if w not in nodes.values()]
    missing += ["%s->%s" % e for e in zip(places, places[1:]) if e not in edges]
title = re.search(r'^  label="(.*)";$', dot, re.M).group(1)
print("missing:", " ".join(missing) or "none", "places:", len(set(nodes.values())),
      "drawn:", title == "%s: %s" % (pair["kind"], pair["request_summary"]), title)
EOF
)
	out=$(python3 -c "$script" "$PWD/kinds-$RUN_ID.dot" <<<"$json" 2>&1)
	assert_match "$out" "^missing: none places: 2 drawn: True icmp-echo: 198.19.$N.5 -> 198.19.$N.6 ICMP echo-request" "every hop and step of the pair is drawn ($out)" || return 1

	# --anonymize: no original name anywhere, neither in the export nor in what is read from it
	"$PKT_ANALYZE" --anonymize --write "$PWD/kinds-$RUN_ID.anon.pcapng" --stats -q "$f" || { fail "--anonymize exit $?"; return 1; }
	local shown host
	shown="$("$PKT_ANALYZE" --topology "$PWD/kinds-$RUN_ID.anon.pcapng")
$("$PKT_ANALYZE" "$PWD/kinds-$RUN_ID.anon.pcapng")
$("$PKT_ANALYZE" --anonymize "$f")
$("$PKT_ANALYZE" --anonymize --topology "$f")
$(capinfos "$PWD/kinds-$RUN_ID.anon.pcapng" 2>&1)
$(tshark -r "$PWD/kinds-$RUN_ID.anon.pcapng" -T fields -e frame.comment -e frame.interface_name 2>/dev/null)"
	out="$(strings -n 3 "$PWD/kinds-$RUN_ID.anon.pcapng")
$shown"
	for i in "$NS_A" "$NS_B" "sleep\\[$held\\]" "docker:" "${hex:0:12}" "netns_name=host"; do
		assert_nomatch "$out" "$i" "--anonymize leaves no '$i'" || return 1
	done
	# The host name, as a word, in all the tools show; in the file's raw
	# strings only when it is long: anonymized packet bytes can spell a
	# short one ('vm') by chance
	host=$(hostname)
	assert_nomatch "$shown" "(^|[^[:alnum:]_-])$host([^[:alnum:]_-]|\$)" "--anonymize shows no host name '$host'" || return 1
	if [ ${#host} -ge 6 ]; then
		assert_nomatch "$out" "$host" "--anonymize leaves no host name '$host' in the file" || return 1
	fi
	assert_match "$out" "netns_name=ns[0-9]+ netns_kind=container" "the container's kind stays" || return 1
	assert_match "$out" "vx0 \\(ifindex [0-9]+\\) vxlan, over eth0@ns[0-9]+, vni 4242" "and the relations" || return 1
	rm -f "$f" "$PWD/kinds-$RUN_ID".*
}
