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
