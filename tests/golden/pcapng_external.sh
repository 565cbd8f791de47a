# Golden tests: the files our pcapng writer produces (written by the unit
# test writer_sample_files / writer_sample_frames into tests/out/) must open
# cleanly in the reference tools: tshark (plain and zstd), capinfos, and
# tcpdump (plain only: libpcap does not read zstd).
#
# Sourced by tests/run.sh after tests/lib.sh; each test_* runs in tests/out.

GW_PLAIN=$TOP_DIR/tests/out/unit-writer.pcapng
GW_ZSTD=$TOP_DIR/tests/out/unit-writer.pcapng.zst
GW_FRAMES=$TOP_DIR/tests/out/unit-writer-frames.pcapng.zst
GW_CUT=$TOP_DIR/tests/out/unit-writer-cut.pcapng.zst
GW_BIG=$TOP_DIR/tests/out/unit-writer-big.pcapng.zst

# Make sure the sample files exist (run.sh runs the unit tests first, but a
# pattern may have skipped them).
gw_need_files() {
	local f
	for f in "$GW_PLAIN" "$GW_ZSTD" "$GW_FRAMES" "$GW_CUT" "$GW_BIG"; do
		[ -s "$f" ] && continue
		[ -x "$TOP_DIR/build/unit-tests" ] || { fail "build/unit-tests missing (make build/unit-tests)"; return 1; }
		TOP_DIR=$TOP_DIR "$TOP_DIR/build/unit-tests" writer_sample >/dev/null ||
			{ fail "unit-tests writer_sample failed"; return 1; }
		break
	done
	for f in "$GW_PLAIN" "$GW_ZSTD" "$GW_FRAMES" "$GW_CUT" "$GW_BIG"; do
		[ -s "$f" ] || { fail "$f was not written"; return 1; }
	done
}

gw_need_tool() {
	command -v "$1" >/dev/null 2>&1 || { skip "$1 not installed"; return 77; }
}

# tshark with stderr in a file (command substitution runs in a subshell, so
# a variable set there would not come back); gw_err prints it without the
# "running as root" notice.
GW_ERRF=${TMPDIR:-/tmp}/pcapng_external.$$.err
gw_tshark() {
	tshark "$@" 2>"$GW_ERRF"
}
gw_err() {
	grep -v 'Running as user "root"' "$GW_ERRF" 2>/dev/null
	return 0
}
teardown() {
	rm -f "$GW_ERRF"
}

# Reads FILE with tshark and checks packets, comments, names, ids, directions.
gw_check_tshark() {
	local file=$1 out n
	out=$(gw_tshark -r "$file") || { fail "tshark -r $file failed: $(gw_err)"; return 1; }
	assert_eq "$(gw_err)" "" "tshark stderr for $file" || return 1
	n=$(grep -c . <<<"$out")
	assert_eq "$n" 10 "packet count of $file" || return 1
	assert_nomatch "$out" 'Malformed|malformed|Bogus|[Ee]rror' "tshark summary of $file" || return 1
	assert_match "$out" 'ICMP 98 Echo \(ping\) request' "ICMP dissected in $file" || return 1

	out=$(gw_tshark -r "$file" -T fields -E separator='|' -e frame.comment \
		-e frame.interface_name -e frame.packet_flags_direction -e frame.packet_id) ||
		{ fail "tshark -T fields failed: $(gw_err)"; return 1; }
	assert_eq "$(gw_err)" "" "tshark -T fields stderr" || return 1
	# first packet: docker0 in the root netns, outbound, id 42
	assert_match "$(sed -n 1p <<<"$out")" \
		'^hook=net:net_dev_queue netns=4026531993 if=docker0 ifindex=3 skb=0xffff[0-9a-f]+ track=0x2a cpu=1 pid=2570 comm=ping\|docker0@4026531993\|0x0*2\|42$' \
		"packet 1 comment/interface/direction/id" || return 1
	# 4th: netif_rx inside the container netns, inbound
	assert_match "$(sed -n 4p <<<"$out")" \
		'^hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 .*\|eth0@4026532328\|0x0*1\|42$' \
		"packet 4" || return 1
	# the reply has its own packet id, the last one carries a drop reason
	assert_match "$(sed -n 6p <<<"$out")" '\|43$' "reply packet id" || return 1
	assert_match "$(sed -n 10p <<<"$out")" 'drop=NETFILTER_DROP' "drop key in comment" || return 1
	n=$(grep -c 'comm=ping' <<<"$out")
	assert_eq "$n" 10 "comments on every packet" || return 1
	n=$(cut -d'|' -f3 <<<"$out" | grep -c '0x0*1$')
	assert_eq "$n" 6 "inbound packets" || return 1
	n=$(cut -d'|' -f3 <<<"$out" | grep -c '0x0*2$')
	assert_eq "$n" 4 "outbound packets" || return 1
}

test_tshark_reads_plain() {
	gw_need_tool tshark || return
	gw_need_files || return 1
	gw_check_tshark "$GW_PLAIN"
}

test_tshark_reads_zstd() {
	gw_need_tool tshark || return
	gw_need_files || return 1
	gw_check_tshark "$GW_ZSTD"
}

test_tshark_reads_flushed_zstd() {
	gw_need_tool tshark || return
	gw_need_files || return 1
	local frames
	if command -v zstd >/dev/null 2>&1; then
		# a flush point per block, one frame (see common/zio.c)
		frames=$(zstd -lv "$GW_FRAMES" 2>/dev/null | awk -F: '/^# Zstandard Frames/ {gsub(/ /,"",$2); print $2}')
		assert_eq "$frames" 1 "zstd frames in $GW_FRAMES" || return 1
		zstd -tq "$GW_FRAMES" || { fail "zstd -t rejects $GW_FRAMES"; return 1; }
	fi
	gw_check_tshark "$GW_FRAMES"
}

test_tshark_reads_zstd_cut_after_flush() {
	gw_need_tool tshark || return
	gw_need_files || return 1
	local out n
	if command -v zstd >/dev/null 2>&1; then
		# zstd itself decodes every byte up to the cut, then says the frame is cut
		n=$(zstd -dc "$GW_CUT" 2>/dev/null | wc -c)
		assert_ge "$n" 500 "bytes zstd -d decodes before the cut" || return 1
	fi
	out=$(gw_tshark -r "$GW_CUT") || { fail "tshark -r $GW_CUT failed: $(gw_err)"; return 1; }
	# no "cut short in the middle of a packet": the file ends on a flush point
	assert_eq "$(gw_err)" "" "tshark stderr for the cut file" || return 1
	n=$(grep -c . <<<"$out")
	assert_eq "$n" 6 "packets before the cut" || return 1
	assert_nomatch "$out" 'Malformed' "cut file summary" || return 1
}

# 3 MB of zstd with 60 flushes: Wireshark reads it in 128 KiB pieces, and
# used to call such a file damaged when it was written as one frame a flush.
test_big_flushed_zstd_whole_and_cut() {
	gw_need_tool capinfos || return
	gw_need_files || return 1
	local big=$TOP_DIR/tests/out/unit-writer-big.pcapng.zst
	local cut=$TOP_DIR/tests/out/unit-writer-big-cut.pcapng.zst out n
	[ -s "$big" ] && [ -s "$cut" ] || { fail "big samples not written by unit-tests writer_sample_big"; return 1; }
	out=$(capinfos -c -M "$big" 2>&1) || { fail "capinfos $big: $out"; return 1; }
	assert_match "$out" 'Number of packets:[[:space:]]+3000$' "capinfos count of the big file" || return 1
	out=$(capinfos -c -M "$cut" 2>&1) || { fail "capinfos $cut: $out"; return 1; }
	assert_match "$out" 'Number of packets:[[:space:]]+2000$' "capinfos count of the big file cut after flush 40" || return 1
	n=$(gw_tshark -r "$big" -T fields -e frame.number | tail -n1)
	assert_eq "$n" 3000 "tshark's last frame number" || return 1
	assert_eq "$(gw_err)" "" "tshark stderr for the big file" || return 1
	n=$("$PKT_ANALYZE" --stats --format json "$cut" 2>/dev/null | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["events"])')
	assert_eq "$n" 2000 "pkt-analyze events in the cut file" || return 1
}

test_capinfos() {
	gw_need_tool capinfos || return
	gw_need_files || return 1
	local f out
	for f in "$GW_PLAIN" "$GW_ZSTD"; do
		out=$(capinfos "$f" 2>&1) || { fail "capinfos $f: $out"; return 1; }
		assert_match "$out" 'Number of packets:[[:space:]]+10$' "capinfos packets ($f)" || return 1
		assert_match "$out" 'Number of interfaces in file: 3' "capinfos interfaces ($f)" || return 1
		assert_match "$out" 'Name = docker0@4026531993' "interface 0 name" || return 1
		assert_match "$out" 'Name = veth1a054e5@4026531993' "interface 1 name" || return 1
		assert_match "$out" 'Name = eth0@4026532328' "interface 2 name" || return 1
		assert_match "$out" 'Description = netns=4026532328 ifindex=7' "if_description" || return 1
		assert_match "$out" 'Time precision = nanoseconds \(9\)' "if_tsresol 9" || return 1
		assert_match "$out" 'Capture application: pkt-record ' "shb_userappl" || return 1
		assert_match "$out" 'Capture oper-sys:[[:space:]]+Linux' "shb_os" || return 1
		assert_match "$out" 'Capture hardware:[[:space:]]+unit-test-host' "shb_hardware" || return 1
		# ISB counters are shown per interface
		assert_match "$out" 'Number of stat entries = 1' "ISB per interface" || return 1
		assert_nomatch "$out" '[Ee]rror|damaged|corrupt' "capinfos output ($f)" || return 1
	done
}

test_tcpdump_reads_plain() {
	gw_need_tool tcpdump || return
	gw_need_files || return 1
	local out err n
	err=$(mktemp)
	out=$(tcpdump -nr "$GW_PLAIN" 2>"$err") || { fail "tcpdump -r: $(cat "$err")"; rm -f "$err"; return 1; }
	assert_nomatch "$(cat "$err")" '[Ee]rror|truncated|bad' "tcpdump stderr" || { rm -f "$err"; return 1; }
	rm -f "$err"
	n=$(grep -c . <<<"$out")
	assert_eq "$n" 10 "tcpdump packet count" || return 1
	assert_match "$out" 'IP 172\.17\.0\.1 > 172\.17\.0\.2: ICMP echo request, id 2570, seq 1, length 64' \
		"tcpdump dissects the ICMP request" || return 1
	assert_match "$out" 'ICMP echo reply' "tcpdump sees the reply" || return 1
	# -e shows the Ethernet header libpcap parsed: every IDB is ETHERNET
	out=$(tcpdump -enr "$GW_PLAIN" 2>/dev/null | head -1)
	assert_match "$out" 'ethertype IPv4' "link type ethernet" || return 1
}
