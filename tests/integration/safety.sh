#!/usr/bin/env bash
# Integration tests of pkt-record's safety features on a real kernel (root,
# BPF, netns): -Z (privilege drop, with rotation), --headers-only (no payload
# in the file), and the output file (mode 0600 whatever the umask, no
# overwrite without --force, never through a symbolic link).
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell
# in tests/out, builds its own topology (topo_create) and leaves the
# teardown to the runner's trap (topo_destroy, then teardown below).

_tshark() { tshark "$@" 2>/dev/null; }

_need() {
	local t
	for t in tshark nc python3 "$@"; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
	[ -x "$PKT_RECORD" ] || { fail "$PKT_RECORD missing (make pkt-record)"; return 1; }
}

_sfile() { echo "$PWD/safety-${RUN_ID:-$$}-$1.pcapng${2:-}"; }

# A throwaway system user for -Z, removed by teardown. Sets ZUSER, ZUID, ZGID.
_make_user() {
	ZUSER=pktrec-${RUN_ID:-$$}
	if command -v useradd >/dev/null && useradd -r -M -U -d /nonexistent -s /usr/sbin/nologin "$ZUSER" 2>/dev/null; then
		ZUSER_MADE=$ZUSER
	else
		ZUSER=nobody # no useradd: nobody's gid may be shared, still not root's
	fi
	ZUID=$(id -u "$ZUSER") ZGID=$(id -g "$ZUSER")
	[ -n "$ZUID" ] && [ "$ZUID" -ne 0 ] || { fail "no unprivileged user for -Z"; return 1; }
}

# A directory only ZUSER (and root) can write, for rotation. Removed by teardown.
_user_dir() {
	ZDIR=$(mktemp -d /tmp/pktrec-z.XXXXXX) || return 1
	chown "$ZUSER:$ZGID" "$ZDIR" && chmod 0700 "$ZDIR"
}

teardown() {
	[ -n "${ZDIR:-}" ] && rm -rf "$ZDIR"
	# files kept in tests/out go back to root before their owner is deleted
	[ -n "${ZFILE:-}" ] && chown 0:0 "$ZFILE" 2>/dev/null
	if [ -n "${ZUSER_MADE:-}" ]; then
		userdel "$ZUSER_MADE" 2>/dev/null
		getent group "$ZUSER_MADE" >/dev/null && groupdel "$ZUSER_MADE" 2>/dev/null
	fi
	return 0
}

# "Uid:" or "Gid:" line of /proc/PID/status -> its four ids (real, effective, saved, fs)
_ids() { awk -v k="$2:" '$1 == k { print $2, $3, $4, $5 }' "/proc/$1/status"; }

# bulk TCP from A to B, enough for a few -C 1 rotations
_bulk_tcp() { # BYTES PORT
	ip netns exec "$NS_B" timeout 8 nc -l -p "$2" >/dev/null 2>&1 &
	sleep 0.2
	ip netns exec "$NS_A" bash -c "head -c $1 /dev/zero | timeout 5 nc -q0 -w2 $IP_B $2"
}

# -Z USER: ids and capabilities of the running recorder, the file given to
# USER and complete at the end
test_drop_privileges() {
	need_root || return $?
	_need tcpdump || return $?
	topo_create || return 1
	_make_user || return 1
	local f st n epb recv drop isb shb
	f=$(_sfile z)
	ZFILE=$f
	record_start "$f" --compress none -Z "$ZUSER" icmp || return 1
	assert_eq "$(_ids "$REC_PID" Uid)" "$ZUID $ZUID $ZUID $ZUID" "real/effective/saved/fs uid" || { record_stop; return 1; }
	assert_eq "$(_ids "$REC_PID" Gid)" "$ZGID $ZGID $ZGID $ZGID" "real/effective/saved/fs gid" || { record_stop; return 1; }
	assert_eq "$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$REC_PID/status" | tr -s ' ' | sed 's/^ //; s/ $//')" \
		"$(id -G "$ZUSER" | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')" "supplementary groups are the user's" || { record_stop; return 1; }
	assert_eq "$(awk '$1 == "CapEff:" || $1 == "CapPrm:" || $1 == "CapAmb:" { print $2 }' "/proc/$REC_PID/status" | sort -u)" \
		"0000000000000000" "no capability left" || { record_stop; return 1; }
	ip netns exec "$NS_A" ping -c3 -i 0.2 -W2 "$IP_B" >/dev/null || { record_stop; fail "ping failed"; return 1; }
	sleep 0.3
	record_stop || return 1
	st=$(stat -c '%u:%g %a' "$f")
	assert_eq "$st" "$ZUID:$ZGID 600" "the file is the user's, mode 0600" || return 1
	n=$(_tshark -r "$f" -Y "icmp.type == 8" | wc -l)
	assert_ge "$n" 12 "echo requests (3 x 4 hops)" || return 1
	tcpdump -nr "$f" >/dev/null 2>&1 || { fail "tcpdump cannot read the file"; return 1; }
	read -r epb recv drop isb shb < <(pcapng_sums <"$f")
	assert_eq "$recv" "$epb" "complete file: ISBs count every EPB" || return 1
	assert_ge "$isb" 4 "ISBs written as the user at the end" || return 1
	assert_match "$(cat "$REC_ERR")" "events recorded, 0 lost" "summary" || return 1
	return 0
}

# -Z USER with -C/-W: the rotated files are created by USER in a directory it
# can write; the first file, given to USER, is reopened when -W wraps around
test_drop_privileges_rotation() {
	need_root || return $?
	_need tcpdump || return $?
	topo_create || return 1
	_make_user || return 1
	_user_dir || return 1
	local f i epb recv drop isb shb
	f=$ZDIR/rot.pcapng
	record_start "$f" --compress none -C 1 -W 3 -Z "$ZUSER" tcp || return 1
	_bulk_tcp 30000000 8081
	record_stop || return 1
	for i in "" .1 .2; do
		[ -s "$f$i" ] || { fail "$f$i missing"; return 1; }
		assert_eq "$(stat -c '%u:%g %a' "$f$i")" "$ZUID:$ZGID 600" "owner and mode of $f$i" || return 1
		tcpdump -nr "$f$i" >/dev/null 2>&1 || { fail "tcpdump cannot read $f$i"; return 1; }
		read -r epb recv drop isb shb < <(pcapng_sums <"$f$i")
		assert_eq "$shb" 1 "one section in $f$i" || return 1
		assert_eq "$recv" "$epb" "isb_ifrecv sum == EPBs in $f$i" || return 1
		assert_ge "$epb" 100 "packets in $f$i" || return 1
	done
	[ ! -e "$f.3" ] || { fail "-W 3 wrote a fourth file"; return 1; }
	return 0
}

# -Z errors: one line, exit 1, nothing left behind
test_drop_privileges_errors() {
	need_root || return $?
	_need || return $?
	_make_user || return 1
	local f err rc dir
	f=$(_sfile zerr)
	rm -f "$f"
	err=$("$PKT_RECORD" -o "$f" -Z "no-such-user-$$" -c 1 2>&1); rc=$?
	assert_eq "$rc" 1 "unknown user exit status" || return 1
	assert_eq "$(wc -l <<<"$err")" 1 "unknown user: one line" || return 1
	assert_match "$err" "^pkt-record: -Z no-such-user-$$: no such user\$" "unknown user message" || return 1
	[ ! -e "$f" ] || { fail "file created for an unknown user"; return 1; }

	"$PKT_RECORD" -Z >/dev/null 2>&1; rc=$?
	assert_eq "$rc" 2 "-Z without a user: usage error" || return 1

	# rotation into a directory the user cannot write: refused before recording
	dir=$(mktemp -d /tmp/pktrec-root.XXXXXX) && chmod 0755 "$dir"
	err=$("$PKT_RECORD" -o "$dir/x.pcapng" -C 1 -Z "$ZUSER" -G 5 2>&1); rc=$?
	local left
	left=$(ls -A "$dir")
	rm -rf "$dir"
	assert_eq "$rc" 1 "-Z with -C, unwritable directory: exit status" || return 1
	assert_eq "$(wc -l <<<"$err")" 1 "-Z with -C, unwritable directory: one line" || return 1
	assert_match "$err" "^pkt-record: -Z $ZUSER with -C: user $ZUSER cannot create files in $dir, where the rotated files go: Permission denied\$" "message" || return 1
	assert_eq "$left" "" "no file left behind" || return 1
	return 0
}

# --headers-only: payload bytes never reach the file (a control recorder
# without it sees them), headers do, and the original length stays
test_headers_only() {
	need_root || return $?
	_need tcpdump || return $?
	topo_create || return 1
	local f ctl pid_ctl err_ctl lines bad pat=deadbeefcafef00d secret=PKTRECSECRETPAYLOAD
	f=$(_sfile hdrs)
	ctl=$(_sfile hdrs-ctl)
	err_ctl=$(mktemp)
	"$PKT_RECORD" -o "$ctl" --compress none -s 0 "host $IP_A" 2>"$err_ctl" &
	pid_ctl=$!
	record_start "$f" --compress none -s 0 --headers-only "host $IP_A" || { kill "$pid_ctl"; return 1; }
	for i in $(seq 1 50); do grep -q recording "$err_ctl" && break; sleep 0.05; done
	ip netns exec "$NS_B" timeout 5 nc -l -p 8082 >/dev/null 2>&1 &
	ip netns exec "$NS_C" timeout 5 nc -u -l -p 40405 >/dev/null 2>&1 &
	sleep 0.2
	ip netns exec "$NS_A" ping -c2 -i 0.2 -W2 -s 100 -p "$pat" "$IP_B" >/dev/null || { record_stop; kill "$pid_ctl"; fail "ping failed"; return 1; }
	ip netns exec "$NS_A" bash -c "for i in \$(seq 1 20); do echo $secret; done | nc -q0 -w2 $IP_B 8082" || { record_stop; kill "$pid_ctl"; fail "tcp failed"; return 1; }
	ip netns exec "$NS_A" bash -c "echo $secret > /dev/udp/$IP_C/40405"
	ip netns exec "$NS_A" bash -c "echo $secret > /dev/udp/$IP_B/40406" # closed: port unreachable
	sleep 0.3
	record_stop || { kill "$pid_ctl"; return 1; }
	kill -INT "$pid_ctl"
	wait "$pid_ctl" || { cat "$err_ctl" >&2; rm -f "$err_ctl"; fail "control recorder failed"; return 1; }
	rm -f "$err_ctl"

	# the control file has the payloads: the search below can find them
	xxd -p "$ctl" | tr -d '\n' | grep -q "$pat" || { fail "control: ping pattern not recorded"; return 1; }
	grep -q "$secret" "$ctl" || { fail "control: TCP/UDP payload not recorded"; return 1; }
	! xxd -p "$f" | tr -d '\n' | grep -q "$pat" || { fail "ping pattern in the --headers-only file"; return 1; }
	! grep -q "$secret" "$f" || { fail "TCP/UDP payload in the --headers-only file"; return 1; }

	# ICMP: id and seq survive; cut after the 8-byte ICMP header; the real length stays
	lines=$(_tshark -r "$f" -Y "icmp.type == 8 && !(frame.comment contains \"l2=synth\")" -T fields -E separator='|' \
		-e icmp.ident -e icmp.seq -e frame.cap_len -e frame.len)
	assert_ge "$(wc -l <<<"$lines")" 8 "echo request hops (2 x 4)" || return 1
	assert_eq "$(cut -d'|' -f2 <<<"$lines" | sort -u | tr '\n' ' ')" "1 2 " "echo seq 1 and 2" || return 1
	assert_match "$(cut -d'|' -f1 <<<"$lines" | sort -u)" "^[0-9]+$" "echo id" || return 1
	assert_eq "$(cut -d'|' -f3,4 <<<"$lines" | sort -u)" "42|142" "cap_len 14+20+8, len 14+20+8+100" || return 1

	# TCP: every frame cut right after its header (options included), data segments shortened
	lines=$(_tshark -r "$f" -Y "tcp.port == 8082" -T fields -E separator='|' \
		-e frame.cap_len -e ip.hdr_len -e tcp.hdr_len -e frame.len -e tcp.len -e tcp.options.mss_val)
	assert_ge "$(wc -l <<<"$lines")" 12 "TCP hops" || return 1
	bad=$(awk -F'|' '$1 != 14 + $2 + $3' <<<"$lines" | head -n3)
	[ -z "$bad" ] || { fail "TCP frame not cut after its header: $bad"; return 1; }
	assert_match "$lines" "\|[0-9]+$" "SYN options (MSS) kept" || return 1
	assert_match "$(awk -F'|' '$5 > 0 && $4 > $1' <<<"$lines" | wc -l)" "^[1-9]" "data segments keep their real length" || return 1

	# UDP: 8-byte header
	assert_eq "$(_tshark -r "$f" -Y "udp.port == 40405 && !icmp && !(frame.comment contains \"l2=synth\")" -T fields -e frame.cap_len | sort -u)" \
		"42" "UDP cut after 8 bytes" || return 1
	# ICMP error: its header, the quoted IP header and 8 bytes of the quoted UDP header
	assert_eq "$(_tshark -r "$f" -Y "icmp.type == 3 && udp.dstport == 40406 && !(frame.comment contains \"l2=synth\")" -T fields -e frame.cap_len | sort -u)" \
		"70" "ICMP error cut after the quoted IP + 8 bytes" || return 1
	tcpdump -nr "$f" >/dev/null 2>&1 || { fail "tcpdump cannot read the file"; return 1; }
	return 0
}

# mode 0600 whatever the umask, rotated files included; --force makes an old file private too
test_file_mode_ignores_umask() {
	need_root || return $?
	_need || return $?
	topo_create || return 1
	local f g i
	f=$(_sfile umask0)
	g=$(_sfile umask777)
	rm -f "$f"* "$g"*
	(umask 000; exec "$PKT_RECORD" -o "$f" --compress none -C 1 tcp 2>"$f.err") &
	local pid=$!
	for i in $(seq 1 100); do grep -q recording "$f.err" 2>/dev/null && break; sleep 0.05; done
	_bulk_tcp 12000000 8083
	kill -INT "$pid"; wait "$pid" || { cat "$f.err" >&2; fail "recorder failed"; return 1; }
	rm -f "$f.err"
	[ -e "$f.1" ] || { fail "no rotated file"; return 1; }
	for i in "$f" "$f".*; do
		assert_eq "$(stat -c %a "$i")" 600 "mode of $(basename "$i") under umask 000" || return 1
	done
	(umask 777; exec "$PKT_RECORD" -q -o "$g" -G 0.3) || { fail "recorder failed under umask 777"; return 1; }
	assert_eq "$(stat -c %a "$g")" 600 "mode under umask 777" || return 1
	echo old >"$g" && chmod 0644 "$g"
	"$PKT_RECORD" -q --force -o "$g" -G 0.3 || { fail "--force failed"; return 1; }
	assert_eq "$(stat -c %a "$g")" 600 "mode of a file replaced with --force" || return 1
	return 0
}

# an existing file is kept without --force; a symbolic link is never written through
test_existing_file_and_symlink() {
	need_root || return $?
	_need || return $?
	local f target err rc
	f=$(_sfile exist)
	target=$(_sfile target)
	rm -f "$f" "$target"
	echo keep >"$f"
	err=$("$PKT_RECORD" -o "$f" -c 1 2>&1); rc=$?
	assert_eq "$rc" 1 "existing file: exit status" || return 1
	assert_match "$err" "^pkt-record: .*exist\.pcapng exists \(use --force\)\$" "existing file: message" || return 1
	assert_eq "$(cat "$f")" keep "existing file untouched" || return 1

	rm -f "$f"
	echo precious >"$target"
	ln -s "$target" "$f"
	for force in "" --force; do
		err=$("$PKT_RECORD" -o "$f" $force -c 1 2>&1); rc=$?
		assert_eq "$rc" 1 "symlink $force: exit status" || return 1
		assert_eq "$(wc -l <<<"$err")" 1 "symlink $force: one line" || return 1
		assert_match "$err" "^pkt-record: .*exist\.pcapng is a symbolic link: refusing to write through it \(even with --force\)\$" "symlink $force: message" || return 1
		assert_eq "$(cat "$target")" precious "symlink $force: target untouched" || return 1
		[ -L "$f" ] || { fail "symlink $force: the link was replaced"; return 1; }
	done
	# a dangling link: its target is not created
	rm -f "$target"
	for force in "" --force; do
		err=$("$PKT_RECORD" -o "$f" $force -c 1 2>&1); rc=$?
		assert_eq "$rc" 1 "dangling symlink $force: exit status" || return 1
		assert_match "$err" "is a symbolic link" "dangling symlink $force: message" || return 1
		[ ! -e "$target" ] || { fail "dangling symlink $force: target created"; return 1; }
	done
	rm -f "$f"
	return 0
}

# a symbolic link where a rotated file goes: recording stops there with the
# cause, exit 1, the files written so far stay valid, the target is untouched
test_symlink_at_rotated_name() {
	need_root || return $?
	_need tcpdump || return $?
	topo_create || return 1
	local f target rc
	f=$(_sfile rotlink)
	target=$(_sfile rotlink-target)
	rm -f "$f" "$f".* "$target"
	echo precious >"$target"
	ln -s "$target" "$f.1"
	"$PKT_RECORD" -o "$f" --compress none -C 1 tcp 2>"$f.err" &
	local pid=$! i
	for i in $(seq 1 100); do grep -q recording "$f.err" 2>/dev/null && break; sleep 0.05; done
	_bulk_tcp 12000000 8084
	for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -INT "$pid" 2>/dev/null
	wait "$pid"; rc=$?
	local err
	err=$(cat "$f.err"); rm -f "$f.err"
	assert_eq "$rc" 1 "exit status" || return 1
	assert_match "$err" "rotlink\.pcapng\.1 is a symbolic link: refusing to write through it" "message" || return 1
	assert_eq "$(cat "$target")" precious "target untouched" || return 1
	tcpdump -nr "$f" >/dev/null 2>&1 || { fail "the first file is not readable"; return 1; }
	rm -f "$f.1" "$target"
	return 0
}
