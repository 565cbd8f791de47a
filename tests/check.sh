#!/usr/bin/env bash
# make check: install what is missing (as root), build, run every test.
# As a user without every package: build what can be built, run what can
# run, and report the rest as skipped (on CI, CI=true, that is a failure).
set -u
TOP_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP_DIR" || exit 1
MAKE=${MAKE:-make}

partial=
if ! bash tests/install-deps.sh; then
	if [ "$(id -u)" -eq 0 ] || [ "${CI:-}" = "true" ]; then
		echo "check: could not install the packages the tests need" >&2
		exit 1
	fi
	echo "check: running what can run without them; the rest is reported as skipped" >&2
	partial=1
fi
if ! "$MAKE" -k all build/unit-tests fuzz-replay; then
	if [ -z "$partial" ]; then
		echo "check: the build failed" >&2
		exit 1
	fi
	echo "check: some parts did not build (missing packages); their tests are skipped" >&2
fi
PKT_CHECK_PARTIAL=$partial exec bash tests/run.sh "$@"
