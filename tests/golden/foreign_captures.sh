# Golden tests against captures nobody here wrote (../shared/captures/foreign,
# SOURCES.tsv there names each origin): pkt-analyze must read what tcpdump,
# libpcap and Zeek wrote and agree with Wireshark on what it finds.
#
# Sourced by tests/run.sh after tests/lib.sh; each test_* runs in tests/out.

FC_DIR=$TOP_DIR/../shared/captures/foreign
FC_GOLDEN=$TESTS_DIR/golden/data

fc_need() {
	[ -x "$PKT_ANALYZE" ] || { fail "$PKT_ANALYZE not built"; return 1; }
	[ -d "$FC_DIR" ] || { skip "$FC_DIR not present"; return 77; }
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || { skip "$tool not installed"; return 77; }
	done
}

# events of FILE in pkt-analyze's JSON summary ("" when it wrote none)
fc_events() {
	"$PKT_ANALYZE" --stats --format json "$1" 2>/dev/null </dev/null |
		sed -n 's/^{"type":"summary".*"events":\([0-9]*\).*/\1/p'
}

# Every classic pcap Wireshark reads without error: the same packet count.
test_classic_pcap_counts_match_capinfos() {
	fc_need capinfos || return
	local table files n ours compared=0 bad=0
	mapfile -t files < <(find "$FC_DIR" -name '*.pcap' | sort)
	assert_ge "${#files[@]}" 100 "classic pcap files in $FC_DIR" || return 1
	# one capinfos for all: file<TAB>packets; files it refuses are left out
	table=$(capinfos -T -r -c "${files[@]}" 2>/dev/null)
	while IFS=$'\t' read -r f n; do
		[ -n "$f" ] && [[ "$n" =~ ^[0-9]+$ ]] || continue
		ours=$(fc_events "$f")
		compared=$((compared + 1))
		if [ "$ours" != "$n" ]; then
			echo "  ${f#"$FC_DIR"/}: capinfos $n packets, pkt-analyze '${ours}'" >&2
			bad=$((bad + 1))
		fi
	done <<<"$table"
	assert_ge "$compared" 150 "classic pcap files capinfos counted" || return 1
	assert_eq "$bad" 0 "files whose packet count differs" || return 1
}

# The committed classic pcap and its editcap'd pcapng read the same.
test_classic_pcap_same_analysis_as_pcapng() {
	[ -x "$PKT_ANALYZE" ] || { fail "$PKT_ANALYZE not built"; return 1; }
	local out
	out=$("$PKT_ANALYZE" "$FC_GOLDEN/foreign.pcap") || { fail "exit $?"; return 1; }
	assert_eq "$out" "$(cat "$FC_GOLDEN/foreign.expected.txt")" "text of foreign.pcap" || return 1
	# JSON: the same but for the file name and the byte offsets
	out=$(cd "$FC_GOLDEN" && "$PKT_ANALYZE" --format json foreign.pcap |
		sed -e 's/"file":"foreign.pcap"/"file":"F"/' -e 's/"offset":[0-9]*/"offset":0/')
	assert_eq "$out" "$(sed -e 's/"file":"foreign.pcapng"/"file":"F"/' \
		-e 's/"offset":[0-9]*/"offset":0/' "$FC_GOLDEN/foreign.expected.jsonl")" \
		"JSON of foreign.pcap" || return 1
	# zstd-compressed classic pcap reads the same
	if command -v zstd >/dev/null 2>&1; then
		zstd -qf -o foreign.pcap.zst "$FC_GOLDEN/foreign.pcap" || { fail "zstd"; return 1; }
		out=$("$PKT_ANALYZE" foreign.pcap.zst) || { fail "exit $? on zstd"; return 1; }
		rm -f foreign.pcap.zst
		assert_eq "$out" "$(cat "$FC_GOLDEN/foreign.expected.txt")" "text of foreign.pcap.zst" || return 1
	fi
}

# What Wireshark refuses, we refuse with one line naming the byte offset.
test_classic_pcap_bad_headers() {
	fc_need || return
	local f out rc
	for f in libpcap/pcap-invalid-version-1.pcap libpcap/linktype-reserved-field-not-zero.pcap; do
		[ -f "$FC_DIR/$f" ] || { skip "$f missing"; return 77; }
		out=$("$PKT_ANALYZE" --stats "$FC_DIR/$f" 2>&1 >/dev/null)
		rc=$?
		assert_eq "$rc" 1 "exit status on $f" || return 1
		assert_eq "$(grep -c . <<<"$out")" 1 "lines of error on $f" || return 1
		assert_match "$out" '^pkt-analyze: .*: file header at offset (4|20): ' "error on $f" || return 1
	done
}

# innermost addresses, ports and DNS ids of every frame of FILE... equal
# tshark's (tests/golden/innermost_check.py); each file must have IP frames
fc_innermost() {
	local out rc
	out=$(cd "$FC_DIR" && python3 "$TESTS_DIR/golden/innermost_check.py" "$PKT_ANALYZE" "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  /' >&2
	[ "$rc" = 0 ] || { fail "innermost layers differ from tshark's"; return 1; }
	assert_eq "$(grep -c ' mismatches=0$' <<<"$out")" $# "files compared without mismatch" || return 1
	assert_nomatch "$out" ' ip=0 ' "every file has IP frames" || return 1
}

test_innermost_raw_ip_ppp_hdlc_ipnet_arcnet_link_types() {
	fc_need tshark python3 || return
	fc_innermost tcpdump/LINKTYPE_IPV4.pcap zeek/tcp_timeout-with-pings.pcap \
		zeek/dns_dns_extended_rcode.pcap tcpdump/ipv6_mobility_1.pcap \
		zeek/icmp_icmp6-mld-query.pcap zeek/rotation.pcap zeek/ppp_quic-interop-retry.pcap \
		tcpdump/HDLC.pcap tcpdump/e1000g.pcap tcpdump/arcnet-rfc1051-arp-icmp-http.pcap \
		tcpdump/arcnet-rfc1201-arp-icmp-http.pcap
}

test_innermost_geneve() {
	fc_need tshark python3 || return
	fc_innermost tcpdump/geneve.pcap libpcap/geneve.pcap tcpdump/geneve-gcp.pcap \
		zeek/tunnels_geneve.pcap zeek/tunnels_geneve-arp.pcap
}

test_innermost_gre_within_gre_and_erspan() {
	fc_need tshark python3 || return
	fc_innermost zeek/tunnels_gre-within-gre.pcap zeek/tunnels_gre-sample.pcap \
		zeek/erspan.pcap zeek/erspanII.pcap zeek/erspanIII.pcap \
		tcpdump/erspan-type-i-1.pcap tcpdump/erspan-type-ii-3.pcap \
		tcpdump/erspan-type-iii-pb-1.pcap zeek/tunnels_gre-erspan3-dot1q.pcap \
		tcpdump/various_gre.pcap
}

test_innermost_mpls() {
	fc_need tshark python3 || return
	fc_innermost zeek/mpls-in-vlan.pcap zeek/mixed-vlan-mpls.pcap tcpdump/mpls-over-udp.pcap \
		tcpdump/mpls-traceroute.pcap tcpdump/lspping-fec-ldp.pcap
}

test_innermost_pppoe() {
	fc_need tshark python3 || return
	fc_innermost zeek/pppoe.pcap zeek/pppoe-over-qinq.pcap
}

test_innermost_dns_over_tcp() {
	fc_need tshark python3 || return
	fc_innermost zeek/dns-edns-ecs.pcap || return 1
	# the DNS ids of its 9 TCP frames (1 query, 8 responses) are among those compared
	assert_eq "$("$PKT_ANALYZE" --format json "$FC_DIR/zeek/dns-edns-ecs.pcap" |
		grep '^{"type":"event"' | grep -c '"summary":"[^"]*TCP[^"]* DNS \(query\|response\) id=0x')" 9 \
		"DNS over TCP frames with their id" || return 1
}
