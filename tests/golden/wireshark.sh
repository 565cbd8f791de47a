# Golden tests for the Wireshark Lua plugin wireshark/pktrec.lua.
# Sourced by tests/run.sh after tests/lib.sh; each test_* runs in a subshell
# with cwd tests/out. The input is built at run time with text2pcap and
# editcap (no pkt-record needed): 7 Ethernet/IPv4/ICMP echo frames,
#
#   1 request  hook=net:net_dev_queue docker0@4026531993 track=0x2a
#   2 request  hook=net:netif_rx      eth0@4026532328    track=0x2a (+250 us)
#   3 reply    hook=net:net_dev_queue eth0@4026532328    track=0x2b comm=Web%20Content foo=a%3Db
#   4 reply    hook=skb:kfree_skb     docker0@4026531993 track=0x2b drop=NETFILTER_DROP l2=synth
#                                     loc=nf_hook_slow+0x9c head=0xffff888001239000
#   5 request  no comment
#   6 request  a foreign comment ("hello world, not ours")
#   7 request  hook=x netns=notanumber if=eth0 (ours, malformed)

PKTREC_LUA=$TOP_DIR/wireshark/pktrec.lua
WS_INPUT=lua-hops.pcapng

ws_need() {
	local t
	for t in tshark text2pcap editcap; do
		command -v "$t" >/dev/null 2>&1 || { skip "$t not installed"; return 77; }
	done
	[ -f "$PKTREC_LUA" ] || { fail "$PKTREC_LUA missing"; return 1; }
	return 0
}

# Build $WS_INPUT in the cwd (tests/out), once per test (tests run in parallel-safe subshells).
ws_make_input() {
	local req rep txt=lua-hops.$$.txt raw=lua-hops.$$.raw.pcapng
	req="02 42 ac 11 00 02 02 42 ac 11 00 01 08 00 45 00 00 2c 00 01 40 00 40 01 e2 aa ac 11 00 01 ac 11 00 02 08 00 ad 8a 12 34 00 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
	rep="02 42 ac 11 00 01 02 42 ac 11 00 02 08 00 45 00 00 2c 00 01 40 00 40 01 e2 aa ac 11 00 02 ac 11 00 01 00 00 b5 8a 12 34 00 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"
	local i=0 f
	: >"$txt"
	for f in "$req" "$req" "$rep" "$rep" "$req" "$req" "$req"; do
		printf '10:00:00.%06d 000000 %s\n\n' $((i * 250)) "$f" >>"$txt"
		i=$((i + 1))
	done
	WS_INPUT=lua-hops.$$.pcapng
	text2pcap -q -t '%H:%M:%S.%f' "$txt" "$raw" >/dev/null 2>&1 || { fail "text2pcap failed"; return 1; }
	editcap \
		-a '1:hook=net:net_dev_queue netns=4026531993 if=docker0 ifindex=3 skb=0xffff888001234500 track=0x2a cpu=1 pid=2570 comm=ping' \
		-a '2:hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff888001234500 track=0x2a cpu=1 pid=2570 comm=ping' \
		-a '3:hook=net:net_dev_queue netns=4026532328 if=eth0 ifindex=7 skb=0xffff888001239a00 track=0x2b cpu=3 pid=4242 comm=Web%20Content foo=a%3Db' \
		-a '4:hook=skb:kfree_skb netns=4026531993 if=docker0 ifindex=3 skb=0xffff888001239a00 track=0x2b cpu=3 pid=0 comm=swapper%2F3 drop=NETFILTER_DROP l2=synth loc=nf_hook_slow+0x9c head=0xffff888001239000' \
		-a '6:hello world, not ours' \
		-a '7:hook=x netns=notanumber if=eth0' \
		"$raw" "$WS_INPUT" >/dev/null 2>&1 || { fail "editcap -a failed"; return 1; }
	rm -f "$txt" "$raw"
	local n
	n=$(tshark -r "$WS_INPUT" -T fields -e frame.comment 2>/dev/null | grep -c .)
	assert_eq "$n" 6 "frames with a comment in the generated input" || return 1
	return 0
}

setup() {
	ws_need || return $?
	# a clean profile: no personal plugins (an installed pktrec.lua would
	# clash with -X lua_script) and no user preferences
	export HOME=$PWD/lua-home-clean.$$ XDG_CONFIG_HOME=$PWD/lua-home-clean.$$/.config
	mkdir -p "$XDG_CONFIG_HOME"
	ws_make_input
}

teardown() {
	rm -rf "lua-hops.$$".* "lua-home-clean.$$" 2>/dev/null
	return 0
}

# tshark with the plugin; stderr goes to ws.err (minus the root warning)
ws_tshark() {
	tshark -X "lua_script:$PKTREC_LUA" -r "$WS_INPUT" "$@" 2>ws.$$.err
	local rc=$?
	grep -v 'Running as user' ws.$$.err >&2
	rm -f ws.$$.err
	return $rc
}

# frame numbers matching a display filter, space-separated
ws_frames() {
	ws_tshark -Y "$1" -T fields -e frame.number | tr '\n' ' ' | sed 's/ $//'
}

# Lua errors go to stderr (load time) or into the tree as "Lua Error" (per packet).
ws_no_lua_error() { # file
	local err out
	err=$(tshark -X "lua_script:$PKTREC_LUA" -r "$1" -V 2>&1 >ws.$$.out | grep -v 'Running as user')
	out=$(grep -a -i 'lua' ws.$$.out)
	rm -f ws.$$.out
	assert_nomatch "$err" 'Lua|[Ee]rror' "tshark stderr" || { echo "$err" >&2; return 1; }
	assert_eq "$out" "" "Lua mentioned in the dissection" || return 1
}

test_lua_loads_without_error() {
	ws_no_lua_error "$WS_INPUT" || return 1
	# the protocol and its fields are registered
	local fields
	fields=$(tshark -G fields -X "lua_script:$PKTREC_LUA" 2>/dev/null | awk -F'\t' '$5 == "pktrec" {print $3}' | sort | tr '\n' ' ')
	local f
	for f in pktrec.hook pktrec.netns pktrec.netns_name pktrec.ifname pktrec.ifindex pktrec.skb \
		pktrec.track pktrec.cpu pktrec.pid pktrec.comm pktrec.drop pktrec.loc pktrec.head \
		pktrec.l2_synth pktrec.hop; do
		assert_match "$fields" "(^| )$f " "registered fields" || return 1
	done
}

test_netns_filter_selects_hops() {
	local out
	out=$(ws_tshark -Y 'pktrec.netns == 4026532328' -T fields -e frame.number -e pktrec.track -e pktrec.ifname -e pktrec.hook | tr '\t' ,)
	assert_eq "$out" "2,0x000000000000002a,eth0,net:netif_rx
3,0x000000000000002b,eth0,net:net_dev_queue" "pktrec.netns == 4026532328" || return 1
	assert_eq "$(ws_frames 'pktrec.netns == 4026531993')" "1 4" "root netns frames"
}

test_fields_have_values() {
	local out
	out=$(ws_tshark -Y 'frame.number == 1' -T fields -E separator=, -e pktrec.hook -e pktrec.netns \
		-e pktrec.ifname -e pktrec.ifindex -e pktrec.skb -e pktrec.track -e pktrec.cpu \
		-e pktrec.pid -e pktrec.comm -e pktrec.drop -e pktrec.l2_synth)
	assert_eq "$out" "net:net_dev_queue,4026531993,docker0,3,0xffff888001234500,0x000000000000002a,1,2570,ping,," \
		"frame 1 fields" || return 1
	# numeric comparisons work on the typed fields
	assert_eq "$(ws_frames 'pktrec.skb == 0xffff888001239a00')" "3 4" "pktrec.skb filter" || return 1
	assert_eq "$(ws_frames 'pktrec.ifindex == 7 && pktrec.cpu == 1')" "2" "ifindex and cpu filter" || return 1
	assert_eq "$(ws_frames 'pktrec.pid == 4242')" "3" "pid filter"
}

test_escaped_values_are_unescaped() {
	assert_eq "$(ws_tshark -Y 'frame.number == 3' -T fields -e pktrec.comm)" "Web Content" "comm=Web%20Content" || return 1
	assert_eq "$(ws_frames 'pktrec.comm == "Web Content"')" "3" "filter on unescaped comm" || return 1
	assert_eq "$(ws_tshark -Y 'frame.number == 4' -T fields -e pktrec.comm)" "swapper/3" "comm=swapper%2F3" || return 1
	assert_eq "$(ws_tshark -Y 'frame.number == 3' -T fields -e pktrec.opt)" "foo=a=b" "extra pair foo=a%3Db"
}

test_track_filter_follows_one_packet() {
	assert_eq "$(ws_frames 'pktrec.track == 0x2a')" "1 2" "pktrec.track == 0x2a" || return 1
	assert_eq "$(ws_frames 'pktrec.track == 0x2b')" "3 4" "pktrec.track == 0x2b" || return 1
	local out
	out=$(ws_tshark -Y pktrec.track -T fields -E separator=, -e frame.number -e pktrec.hop -e pktrec.prev_frame -e pktrec.hop_delta)
	assert_eq "$out" "1,1,,
2,2,1,0.000250000
3,1,,
4,2,3,0.000250000" "hop numbering" || return 1
	# next hop is known on a second pass
	out=$(tshark -2 -R pktrec -X "lua_script:$PKTREC_LUA" -r "$WS_INPUT" -T fields -E separator=, -e frame.number -e pktrec.next_frame 2>/dev/null)
	assert_eq "$out" "1,2
2,
3,4
4,
5," "next hop (two-pass; -R renumbers frame 7 as 5)"
}

test_drop_reason_and_expert_info() {
	assert_eq "$(ws_frames 'pktrec.drop == "NETFILTER_DROP"')" "4" 'pktrec.drop == "NETFILTER_DROP"' || return 1
	assert_eq "$(ws_frames 'pktrec.drop')" "4" "pktrec.drop" || return 1
	assert_eq "$(ws_frames '_ws.expert.message == "dropped: NETFILTER_DROP" && _ws.expert.severity == "Warning"')" "4" \
		"expert info dropped: NETFILTER_DROP" || return 1
	assert_eq "$(ws_frames 'pktrec.l2_synth')" "4" "pktrec.l2_synth" || return 1
	assert_eq "$(ws_tshark -Y 'frame.number == 4' -T fields -E separator=, -e pktrec.loc -e pktrec.head -e pktrec.opt)" \
		"nf_hook_slow+0x9c,0xffff888001239000," "loc= and head= are fields, not other pairs" || return 1
	assert_eq "$(ws_frames 'pktrec.head == 0xffff888001239000 && pktrec.loc contains "nf_hook"')" "4" \
		"filters on loc and head" || return 1
	assert_match "$(ws_tshark -Y 'frame.number == 4' -V)" \
		"pkt-record: skb:kfree_skb docker0@4026531993 track=0x2b DROP NETFILTER_DROP at nf_hook_slow\+0x9c" \
		"the tree's summary says where" || return 1
	assert_eq "$(ws_frames '!pktrec.l2_synth && pktrec')" "1 2 3 7" "!pktrec.l2_synth"
}

test_foreign_frames_get_no_tree() {
	assert_eq "$(ws_frames 'pktrec')" "1 2 3 4 7" "frames with a pktrec tree" || return 1
	assert_eq "$(ws_frames '!pktrec')" "5 6" "frames without" || return 1
	local v
	v=$(ws_tshark -Y 'frame.number == 6' -V)
	assert_match "$v" 'hello world, not ours' "frame 6 keeps its comment" || return 1
	assert_nomatch "$v" 'pkt-record' "frame 6 has no pkt-record tree"
}

test_malformed_comment_flagged() {
	assert_eq "$(ws_frames 'pktrec.malformed')" "7" "pktrec.malformed" || return 1
	assert_eq "$(ws_tshark -Y 'frame.number == 7' -T fields -e pktrec.hook -e pktrec.ifname | tr '\t' ,)" "x,eth0" \
		"fields that parsed are still shown"
}

test_hostile_comments_no_lua_error() {
	local in=lua-hostile.$$.pcapng err
	editcap -a '1:hook=%FF%00x netns=99999999999999999999999 if=a%zz ifindex=4294967296 skb=0x track=0x1ffffffffffffffff cpu=-1 pid=1 comm=% = == x drop= l2=' \
		-a '2:hook=' -a '3:hook=net:netif_rx netns=18446744073709551615 if=eth0 ifindex=4294967295 skb=0x0000000000000000000000001 track=0xFFFFFFFFFFFFFFFF cpu=0 pid=0 comm=-' \
		"$WS_INPUT" "$in" >/dev/null 2>&1 || { fail "editcap failed"; return 1; }
	ws_no_lua_error "$in" || return 1
	local out
	out=$(tshark -X "lua_script:$PKTREC_LUA" -r "$in" -Y 'frame.number == 3' -T fields -E separator=, \
		-e pktrec.netns -e pktrec.track -e pktrec.skb -e pktrec.ifindex 2>/dev/null)
	# frame 3 carries two comments: ours from the base input and the extreme one
	assert_match "$out" '18446744073709551615' "max netns" || return 1
	assert_match "$out" '0xffffffffffffffff' "max track" || return 1
	assert_match "$out" '4294967295' "max ifindex" || return 1
	rm -f "$in"
}

test_plugin_loads_from_personal_dir() {
	# the install path documented in docs/wireshark.md
	local home=$PWD/lua-home.$$ out
	mkdir -p "$home/.local/lib/wireshark/plugins" "$home/.config"
	cp "$PKTREC_LUA" "$home/.local/lib/wireshark/plugins/"
	out=$(HOME=$home XDG_CONFIG_HOME=$home/.config tshark -r "$WS_INPUT" -Y 'pktrec.track == 0x2a' -T fields -e frame.number 2>/dev/null | tr '\n' ' ')
	rm -rf "$home"
	assert_eq "$out" "1 2 " "personal plugin dir"
}

test_info_column_preference() {
	local out
	out=$(ws_tshark -o pktrec.info:TRUE -Y 'frame.number == 2' -T fields -e _ws.col.Info)
	assert_match "$out" '^\[4026532328 eth0 net:netif_rx\] Echo \(ping\) request' "Info with pktrec.info on" || return 1
	out=$(ws_tshark -Y 'frame.number == 2' -T fields -e _ws.col.Info)
	assert_match "$out" '^Echo \(ping\) request' "Info untouched by default"
}

# pkt-record names namespaces in the IDB description (netns_name=, escaped
# like comment values): the plugin shows it as pktrec.netns_name. editcap
# cannot write descriptions, so python3 writes the two-frame file.
test_netns_name_from_interface_description() {
	local f=lua-nsname.$$.pcapng out
	python3 - "$f" <<'PY' || { fail "python3 could not write the input"; return 1; }
import struct, sys
def opt(code, data):
    return struct.pack('<HH', code, len(data)) + data + b'\0' * ((4 - len(data) % 4) % 4)
def block(t, body):
    return struct.pack('<II', t, 12 + len(body)) + body + struct.pack('<I', 12 + len(body))
def idb(name, desc):
    return block(1, struct.pack('<HHI', 1, 0, 256) + opt(2, name) + opt(3, desc) + opt(9, b'\x09') + opt(0, b''))
def epb(ifid, comment):
    pkt = bytes.fromhex('0242ac1100020242ac110001080045000014000100004001e2aaac110001ac110002')
    return block(6, struct.pack('<IIIII', ifid, 0, 1000 + ifid, len(pkt), len(pkt)) + pkt
                 + b'\0' * ((4 - len(pkt) % 4) % 4) + opt(1, comment) + opt(0, b''))
out = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + opt(0, b''))
out += idb(b'eth0@4026532328', b'netns 4026532328 ifindex 7 host h netns_name=pkt-a-12%20x netns_kind=netns')
out += idb(b'eth0@4026532999', b'netns 4026532999 ifindex 2 host h')
out += epb(0, b'hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff888001234500 track=0x2a cpu=1 pid=1 comm=ping')
out += epb(1, b'hook=net:netif_rx netns=4026532999 if=eth0 ifindex=2 skb=0xffff888001234600 track=0x2b cpu=1 pid=1 comm=ping')
open(sys.argv[1], 'wb').write(out)
PY
	out=$(WS_INPUT=$f ws_tshark -T fields -E separator=, -e pktrec.netns -e pktrec.netns_name | tr '\n' ' ')
	assert_eq "$out" "4026532328,pkt-a-12 x 4026532999, " "names from the description, none where absent" || return 1
	# shown beside the inode, and in the hop's summary line
	out=$(WS_INPUT=$f ws_tshark -Y 'frame.number == 1' -V)
	rm -f "$f"
	assert_match "$out" "Network namespace: 4026532328 \\(pkt-a-12 x\\)" "the name beside the inode" || return 1
	assert_match "$out" "pkt-record: net:netif_rx eth0@pkt-a-12 x track=0x2a" "the summary by name"
}
