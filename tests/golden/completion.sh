# Golden tests for docs/pkt-record.bash-completion and docs/pkt-analyze.bash-completion.
# Sourced by tests/run.sh after tests/lib.sh; each test_* runs in a subshell
# with cwd tests/out.

# complete_line FILE 'command line' -> the completions, one per line (sorted).
# Simulates bash: the cursor is at the end of the line; words split at
# blanks and at COMP_WORDBREAKS ':' and '=' (which become words of their own).
complete_line() {
	local file=$1 line=$2
	bash --norc --noprofile -c '
		source "$1" || exit 1
		line=$2
		COMP_LINE=$line COMP_POINT=${#line}
		COMP_WORDS=()
		for w in $line; do
			while [[ "$w" == *[:=]* ]]; do
				pre=${w%%[:=]*}
				[ -n "$pre" ] && COMP_WORDS+=("$pre")
				w=${w#"$pre"}
				COMP_WORDS+=("${w:0:1}")
				w=${w:1}
			done
			[ -n "$w" ] && COMP_WORDS+=("$w")
		done
		case $line in *" ") COMP_WORDS+=("") ;; esac
		case $line in *[:=]) COMP_WORDS+=("") ;; esac
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		func=$(complete -p "${COMP_WORDS[0]}" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$func" ] || { echo "no completion registered for ${COMP_WORDS[0]}" >&2; exit 1; }
		"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort
	' complete_line "$file" "$line"
}

REC_COMP=$TOP_DIR/docs/pkt-record.bash-completion
ANA_COMP=$TOP_DIR/docs/pkt-analyze.bash-completion

# A PATH where pkt-record is a fake that fails (default event list) or
# prints a given --list-events output.
fake_pkt_record() { # [list-events output]
	local dir=$PWD/comp-bin.$$
	mkdir -p "$dir"
	if [ $# -gt 0 ]; then
		printf '#!/bin/sh\n[ "$1" = --list-events ] && cat <<"EOF"\n%s\nEOF\n' "$1" >"$dir/pkt-record"
	else
		printf '#!/bin/sh\nexit 1\n' >"$dir/pkt-record"
	fi
	chmod +x "$dir/pkt-record"
	export PATH=$dir:/usr/local/bin:/usr/bin:/bin
}

teardown() {
	rm -rf "comp-bin.$$" "comp-files.$$"
	return 0
}

lines() { tr '\n' ' ' | sed 's/ $//'; }

test_record_options() {
	fake_pkt_record
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --comp' | lines)" "--compress" "--comp" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --l' | lines)" "--list-events" "--l" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -' | wc -l)" 28 "all options" || return 1
	# every long option --help documents is offered
	local all o
	all=$(complete_line "$REC_COMP" 'pkt-record -' | lines)
	for o in $("$TOP_DIR/pkt-record" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		assert_match " $all " " $o " "completion offers $o" || return 1
	done
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -c ' | lines)" "" "-c takes a number"
}

test_record_compress_levels() {
	fake_pkt_record
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --compress ' | head -2 | lines)" "none zstd" "--compress" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --compress ' | wc -l)" 21 "--compress count" || return 1
	# bash replaces only what follows the ':'
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --compress zstd:1' | lines)" \
		"1 10 11 12 13 14 15 16 17 18 19" "--compress zstd:1" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --compress=n' | lines)" "none" "--compress=n"
}

test_record_interfaces() {
	fake_pkt_record
	[ -d /sys/class/net/lo ] || { skip "no /sys/class/net/lo"; return 77; }
	assert_match "$(complete_line "$REC_COMP" 'pkt-record -i l')" '^lo$' "-i l" || return 1
	local n
	n=$(ls /sys/class/net | wc -l)
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -o x.pcapng -i ' | wc -l)" "$n" "-i: every interface"
}

test_record_events_default_list() {
	fake_pkt_record
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -e net:netif_r' | lines)" \
		"netif_receive_skb netif_receive_skb_entry netif_rx" "-e net:netif_r" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -e ' | wc -l)" 10 "-e: default list, 'default' and 'all'" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -e de' | lines)" "default" "-e de" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --events=net:net_dev_q' | lines)" \
		"net_dev_queue" "--events=net:net_dev_q" || return 1
	# a comma-separated list: the last element, without repeating the others
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -e net:netif_rx,skb:' | lines)" \
		"consume_skb kfree_skb" "-e net:netif_rx,skb:" || return 1
	local out
	out=$(complete_line "$REC_COMP" 'pkt-record -e skb:kfree_skb,')
	assert_eq "$(wc -l <<<"$out")" 9 "-e skb:kfree_skb,: the 7 others, 'default' and 'all'" || return 1
	assert_match "$out" '^kfree_skb,net:netif_rx$' "-e skb:kfree_skb,: bash replaces after the colon" || return 1
	assert_nomatch "$out" 'kfree_skb,skb:kfree_skb' "already listed event not offered again"
}

test_record_events_from_list_events() {
	# the format of pkt-record --list-events
	fake_pkt_record "$(printf 'HOOK                           DEFAULT  THIS KERNEL\nnet:netif_rx                   yes      available\nskb:kfree_skb                  yes      available\nnet:napi_gro_frags_entry       no       missing\n')"
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -e ' | lines)" \
		"all default net:netif_rx skb:kfree_skb" "-e from --list-events, without the missing hook"
}

test_record_filter_words() {
	fake_pkt_record
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record -o x.pcapng icmp an' | lines)" "and" "pcap-filter word"
}

test_analyze_options() {
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --format ' | lines)" "json text" "--format" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --format=j' | lines)" "json" "--format=j" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --st' | lines)" "--stats" "--st" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze -' | wc -l)" 21 "all options" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --thr' | lines)" "--threads" "--thr" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --ho' | lines)" "--host" "--ho" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --format json --only ' | lines)" "events packets pairs" "--only" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --only=pa' | lines)" "packets pairs" "--only=pa" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --anon' | lines)" "--anonymize --anonymize-key" "--anon" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --compress zstd:' | wc -l)" 19 "--compress zstd:"
}

test_analyze_files() {
	mkdir -p "comp-files.$$/sub" && cd "comp-files.$$" || return 1
	touch a.pcapng b.pcapng.zst c.zst notes.txt d.pcap
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze ' | lines)" "a.pcapng b.pcapng.zst c.zst sub" "capture files (bash adds the / to sub)" || return 1
	assert_eq "$(complete_line "$ANA_COMP" 'pkt-analyze --stats b' | lines)" "b.pcapng.zst" "b prefix" || return 1
	# --write takes any file name, and so does --anonymize-key
	assert_match "$(complete_line "$ANA_COMP" 'pkt-analyze x.pcapng --write n')" '^notes.txt$' "--write" || return 1
	assert_match "$(complete_line "$ANA_COMP" 'pkt-analyze --anonymize --anonymize-key n')" '^notes.txt$' "--anonymize-key"
}

test_record_drop_user_and_headers_only() {
	fake_pkt_record
	getent passwd root >/dev/null || { skip "no root in passwd"; return 77; }
	assert_match "$(complete_line "$REC_COMP" 'pkt-record -Z roo')" '^root$' "-Z completes user names" || return 1
	assert_eq "$(complete_line "$REC_COMP" 'pkt-record --head' | lines)" "--headers-only" "--head"
}
