#!/usr/bin/env bash
# make bench: recording cost and analysis speed against peers, in one run.
#
# Topology: tests/lib.sh (bridge + veth + routed namespace). Traffic: a
# 64-byte UDP flood with iperf3 from "container" a to c behind the router,
# BENCH_SECONDS each, BENCH_REPS times per condition; medians are reported.
# Ratios, not absolute numbers, are what matter: the machine is shared.
#
# Results: printed as a table and written to docs/performance.md.
set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$TESTS_DIR/lib.sh"
SECS=${BENCH_SECONDS:-4}
REPS=${BENCH_REPS:-3}
WORK=$(mktemp -d /tmp/pkt-bench.XXXXXX)
REPORT=${BENCH_REPORT:-$TOP_DIR/docs/performance.md}
PERF_EVENTS=net:net_dev_queue,net:net_dev_start_xmit,net:netif_rx,net:netif_receive_skb,net:napi_gro_receive_entry,net:netif_receive_skb_entry,skb:kfree_skb

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in iperf3 perf tshark capinfos python3; do
	command -v $t >/dev/null || { echo "bench: $t missing (make deps)" >&2; exit 1; }
done

cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	topo_destroy
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
topo_create || exit 1

# One flood; prints received packets per second.
flood() {
	local json=$WORK/iperf.json
	ip netns exec "$NS_C" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	SRV=$!
	sleep 0.3
	ip netns exec "$NS_A" iperf3 -c "$IP_C" -p 5201 -u -b 0 -l 64 -t "$SECS" -J >"$json" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=
	python3 - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["end"]["sum"]
print(int((s["packets"] - s["lost_packets"]) / s["seconds"]))
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

proc_cpu() { # utime+stime seconds of pid
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat"
}
proc_hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # kB

declare -A RATE
run_condition() { # name, then how to start/stop the recorder is in $1
	local name=$1 r rates=()
	for r in $(seq 1 "$REPS"); do
		case $name in
		baseline) rates+=("$(flood)") ;;
		perf-stat)
			# counting only, in the kernel: the floor any tracepoint user pays
			perf stat -a -e "$PERF_EVENTS" -x, -o "$WORK/perf-stat.txt" >/dev/null 2>&1 &
			local ps=$!
			sleep 1
			rates+=("$(flood)")
			kill -INT $ps
			wait $ps 2>/dev/null
			;;
		perf)
			perf record -q -e "$PERF_EVENTS" -a -o "$WORK/perf.data" >/dev/null 2>&1 &
			local pp=$!
			sleep 1.5
			rates+=("$(flood)")
			kill -INT $pp
			wait $pp 2>/dev/null
			PERF_BYTES=$(stat -c %s "$WORK/perf.data")
			PERF_EVENTS_N=$(perf report -i "$WORK/perf.data" --stats 2>/dev/null | awk '/SAMPLE events/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) {print $i; exit}}')
			;;
		pkt-record | pkt-record-filtered)
			local filter=()
			[ $name = pkt-record-filtered ] && filter=(icmp)
			rm -f "$WORK/rec.pcapng.zst"
			record_start "$WORK/rec.pcapng.zst" --force "${filter[@]}" || exit 1
			rates+=("$(flood)")
			if [ $name = pkt-record ]; then
				REC_CPU=$(proc_cpu "$REC_PID")
				REC_HWM=$(proc_hwm "$REC_PID")
			fi
			record_stop || exit 1
			if [ $name = pkt-record ]; then
				REC_SUMMARY=$(grep -E 'events recorded' "$REC_ERR" | tail -n1)
				REC_BYTES=$(stat -c %s "$WORK/rec.pcapng.zst")
				cp "$WORK/rec.pcapng.zst" "$WORK/last.pcapng.zst"
			fi
			;;
		esac
	done
	RATE[$name]=$(printf '%s\n' "${rates[@]}" | median)
	echo "  $name: ${rates[*]} -> median ${RATE[$name]} pkt/s" >&2
}

echo "bench: $REPS x ${SECS}s 64-byte UDP floods across bridge + veth + router" >&2
for c in baseline perf-stat perf pkt-record pkt-record-filtered; do
	run_condition $c
done

# Recorder figures from its own summary line: "N events recorded, N lost, N bytes ..."
REC_EVENTS=$(sed -E 's/.* ([0-9]+) events recorded.*/\1/' <<<"$REC_SUMMARY")
REC_LOST=$(sed -E 's/.* ([0-9]+) lost.*/\1/' <<<"$REC_SUMMARY")
FILE_EVENTS=$(capinfos -c -M "$WORK/last.pcapng.zst" | awk '/Number of packets/ {print $NF}')
ANALYZE_LOST=$("$PKT_ANALYZE" --stats --format json "$WORK/last.pcapng.zst" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["lost"])')

# Analysis speed on the recorded file.
timeit() { # prints seconds; peak RSS kB in HWM
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null 2>"$WORK/timeit.err" &
	local pid=$! hwm=0 h
	while kill -0 $pid 2>/dev/null; do
		h=$(proc_hwm $pid 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.02
	done
	wait $pid
	end=$(date +%s.%N)
	echo "$hwm" >"$WORK/hwm" # this runs in $(...): the caller reads the file
	python3 -c "print(round($end - $start, 3))"
}
T_ANALYZE=$(timeit "$PKT_ANALYZE" --stats "$WORK/last.pcapng.zst"); M_ANALYZE=$(cat "$WORK/hwm")
T_TSHARK=$(timeit tshark -r "$WORK/last.pcapng.zst" -T fields -e frame.number); M_TSHARK=$(cat "$WORK/hwm")
T_CAPINFOS=$(timeit capinfos "$WORK/last.pcapng.zst"); M_CAPINFOS=$(cat "$WORK/hwm")

python3 - "$REPORT" <<PY
import sys, platform, os, datetime
rate = {"baseline": ${RATE[baseline]}, "pstat": ${RATE[perf-stat]}, "perf": ${RATE[perf]}, "rec": ${RATE[pkt-record]}, "filt": ${RATE[pkt-record-filtered]}}
ev, lost, fev = int("${REC_EVENTS:-0}"), int("${REC_LOST:-0}"), int("${FILE_EVENTS:-0}")
rbytes, pbytes, pev = int("${REC_BYTES:-0}"), int("${PERF_BYTES:-0}"), int("${PERF_EVENTS_N:-0}" or 0)
ta, tt, tc = float("$T_ANALYZE"), float("$T_TSHARK"), float("$T_CAPINFOS")
secs = $SECS
rows = [
 ("flood rate, no recording (pkt/s)", f"{rate['baseline']:,}", ""),
 ("with perf stat counting the same hooks (floor)", f"{rate['pstat']:,}", f"{rate['pstat']/rate['baseline']:.2f} of baseline"),
 ("with perf record on the same hooks", f"{rate['perf']:,}", f"{rate['perf']/rate['baseline']:.2f} of baseline"),
 ("with pkt-record, default hooks, zstd", f"{rate['rec']:,}", f"{rate['rec']/rate['baseline']:.2f} of baseline, {rate['rec']/max(rate['perf'],1):.2f}x perf"),
 ("with pkt-record, filter 'icmp' (matches nothing)", f"{rate['filt']:,}", f"{rate['filt']/rate['baseline']:.2f} of baseline"),
 ("pkt-record events recorded (last run)", f"{ev:,}", f"{ev/secs:,.0f} events/s"),
 ("pkt-record events lost (reported)", f"{lost:,}", f"{100*lost/max(ev+lost,1):.3f}% ; file ISBs say {int('${ANALYZE_LOST:-0}'):,}"),
 ("events in the file (capinfos)", f"{fev:,}", "equal to recorded" if fev == ev else "DIFFERS from recorded"),
 ("bytes per event on disk (zstd, 128-byte snapshots)", f"{rbytes/max(fev,1):.1f}", f"perf: {pbytes/max(pev,1):.1f} bytes/event without packet bytes" if pev else ""),
 ("pkt-record CPU seconds / peak RSS", f"${REC_CPU:-?} s", f"${REC_HWM:-?} kB"),
 ("pkt-analyze --stats on the file", f"{ta:.2f} s", f"{fev/max(ta,1e-9):,.0f} events/s, peak {int('$M_ANALYZE'):,} kB"),
 ("tshark -T fields -e frame.number", f"{tt:.2f} s", f"pkt-analyze is {tt/max(ta,1e-9):.1f}x faster; tshark peak {int('$M_TSHARK'):,} kB"),
 ("capinfos", f"{tc:.2f} s", f"pkt-analyze takes {ta/max(tc,1e-9):.2f}x capinfos's time; peak {int('$M_CAPINFOS'):,} kB"),
]
w = max(len(r[0]) for r in rows)
table = "\n".join(f"{a:<{w}}  {b:>14}  {c}" for a, b, c in rows)
print(table)
# keep the hand-written analysis that follows the table from one run to the next
notes = ""
try:
    old = open(sys.argv[1]).read()
    i = old.find("\n## Where the time goes")
    notes = old[i:] if i >= 0 else ""
except OSError:
    pass
with open(sys.argv[1], "w") as f:
    f.write("# Performance\n\nLatest \`make bench\` run (medians of $REPS floods of ${SECS}s each).\n\n")
    f.write(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}\n")
    f.write(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, kernel {platform.release()}\n")
    f.write("- command: \`sudo make bench\` (BENCH_SECONDS=$SECS BENCH_REPS=$REPS)\n")
    f.write("- traffic: iperf3 64-byte UDP flood from netns a across the bridge and a routed netns to c\n\n")
    f.write("\`\`\`\n" + table + "\n\`\`\`\n")
    f.write(notes)
PY
