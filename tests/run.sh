#!/usr/bin/env bash
# Run every test: unit tests (ASan+UBSan), fuzz corpus replay, golden tests
# and integration tests on a real kernel. Ends with one line
#   N passed, N failed, N skipped
# and exits non-zero on any failure.
#   tests/run.sh [PATTERN]   only tests whose name contains PATTERN
set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOP_DIR=$(cd "$TESTS_DIR/.." && pwd)
BUILD=$TOP_DIR/build
PATTERN=${1:-}
export TESTS_DIR TOP_DIR
OUT=$TOP_DIR/tests/out
mkdir -p "$OUT"

passed=0 failed=0 skipped=0
failed_names=()

tally() { # reads PASS/FAIL/SKIP lines from stdin, echoes everything
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		PASS\ *) passed=$((passed + 1)) ;;
		FAIL\ *) failed=$((failed + 1)); failed_names+=("${line#FAIL }") ;;
		SKIP\ *) skipped=$((skipped + 1)) ;;
		esac
	done
}

# 1. unit tests
if [ -x "$BUILD/unit-tests" ]; then
	# ASan's exit status on a leak is 1, the harness's for a failed test:
	# give leaks one of their own, or a leak would pass unseen
	tally < <(ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86} "$BUILD/unit-tests" $PATTERN 2>&1; rc=$?
		[ $rc -gt 1 ] && echo "FAIL unit/harness: exit status $rc (86: a leak or sanitizer report above)")
elif [ -n "${PKT_CHECK_PARTIAL:-}" ]; then
	tally <<<"SKIP unit/build: $BUILD/unit-tests not built (missing packages)"
else
	tally <<<"FAIL unit/build: $BUILD/unit-tests missing (run make check)"
fi

# 2. fuzz corpus replay (no libFuzzer needed)
for replay in "$BUILD"/replay_fuzz_*; do
	[ -x "$replay" ] || continue
	name=${replay##*/replay_}
	[ -n "$PATTERN" ] && [[ "fuzz/$name" != *"$PATTERN"* ]] && continue
	corpus=$TESTS_DIR/fuzz/corpus/${name#fuzz_}
	if out=$("$replay" "$corpus" 2>&1); then
		tally <<<"PASS fuzz/$name-corpus ($(tail -n1 <<<"$out"))"
	else
		printf '%s\n' "$out" | tail -n 30
		tally <<<"FAIL fuzz/$name-corpus"
	fi
done

# 3. shell test files: tests/golden/*.sh and tests/integration/*.sh
run_file() {
	local file=$1 kind=$2 base fn rc log tool bin missing_tool
	base=$(basename "$file" .sh)
	# without every package a tool may not have been built: its tests are skipped
	missing_tool=
	if [ -n "${PKT_CHECK_PARTIAL:-}" ]; then
		for tool in ANALYZE RECORD; do
			bin=$TOP_DIR/pkt-$(tr A-Z a-z <<<"$tool")
			grep -q "PKT_$tool" "$file" && [ ! -x "$bin" ] && missing_tool=${bin##*/}
		done
	fi
	for fn in $(bash -c "source '$TESTS_DIR/lib.sh'; source '$file'; declare -F" | awk '{print $3}' | grep '^test_'); do
		local name="$kind/$base/${fn#test_}"
		[ -n "$PATTERN" ] && [[ "$name" != *"$PATTERN"* ]] && continue
		if [ -n "$missing_tool" ]; then
			tally <<<"SKIP $name: $missing_tool not built (missing packages)"
			continue
		fi
		log=$OUT/${kind}_${base}_${fn}.log
		(
			source "$TESTS_DIR/lib.sh"
			source "$file"
			cd "$OUT" || exit 1
			if declare -F setup >/dev/null; then setup || exit 1; fi
			trap 'declare -F teardown >/dev/null && teardown; topo_destroy' EXIT
			"$fn"
		) >"$log" 2>&1 </dev/null
		rc=$?
		case $rc in
		0) tally <<<"PASS $name" ;;
		77) tally <<<"SKIP $name: $(grep -m1 'skipped:' "$log" | sed 's/^ *skipped: //')" ;;
		*)
			tally <<<"FAIL $name (exit $rc, log $log)"
			sed 's/^/    | /' "$log" | tail -n 25
			;;
		esac
	done
}
for file in "$TESTS_DIR"/golden/*.sh "$TESTS_DIR"/integration/*.sh; do
	[ -f "$file" ] || continue
	case $file in */golden/*) kind=golden ;; *) kind=integration ;; esac
	run_file "$file" "$kind"
done

if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped test(s) skipped; on CI every test must run" >&2
	failed=$((failed + skipped))
	skipped=0
fi
if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran" >&2
	failed=1
fi
[ ${#failed_names[@]} -gt 0 ] && printf 'failed: %s\n' "${failed_names[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
