#!/bin/sh
# `make test`: builds and runs every test, then again under AddressSanitizer
# + UndefinedBehaviorSanitizer, then the unit tests under valgrind, and the
# OpenAPI lint.  Ends with one line "N passed, N failed" counting every test
# case of every suite (cmocka cases, end-to-end cases, and one each for the
# lint and each valgrind run).  Exits non-zero if anything failed.
#   scripts/test.sh            everything
#   scripts/test.sh unit DIR   only the unit tests of build dir DIR
set -u
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
PASSED=0
FAILED=0
FAILURES=""
LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"

note_fail() { FAILURES="$FAILURES
  $1"; }

# Adds a cmocka program's counts from its output file $2 (name $1).
count_cmocka() {
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -n 1)
	p=${p:-0}; f=${f:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
	[ "$f" -eq 0 ] || note_fail "$1 ($f failed; see $2)"
}

run_unit() {
	dir=$1; tag=$2
	for src in tests/unit/test_*.c; do
		name=$(basename "$src" .c)
		log="$LOGDIR/$tag-$name.log"
		"$dir/tests/$name" >"$log" 2>&1
		rc=$?
		count_cmocka "$tag $name" "$log" $rc
		tail -n 3 "$log" | sed "s/^/  [$tag $name] /"
	done
}

# Adds a "N passed, N failed" suite's counts from its log $2 (name $1).
count_plain() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); p=${p:-0}
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p'); f=${f:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
	echo "  [$1] ${line:-no summary (rc=$3)}"
	[ "$f" -eq 0 ] || note_fail "$1 ($f failed; see $2)"
}

run_e2e() {
	dir=$1; tag=$2
	log="$LOGDIR/$tag-e2e.log"
	LOCKBOX_BUILD=$dir python3 tests/e2e/run.py >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); p=${p:-0}
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p'); f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
	grep -E '^(FAIL|ERROR)' "$log" | head -n 30 | sed "s/^/  [$tag e2e] /"
	echo "  [$tag e2e] ${line:-no summary (rc=$rc)}"
	[ "$f" -eq 0 ] || note_fail "$tag e2e ($f failed; see $log)"
}

check() {
	name=$1; shift
	log="$LOGDIR/$(echo "$name" | tr ' /' '__').log"
	if "$@" >"$log" 2>&1; then
		PASSED=$((PASSED + 1)); echo "  ok   $name"
	else
		FAILED=$((FAILED + 1)); echo "  FAIL $name (see $log)"; tail -n 20 "$log" | sed 's/^/       /'
		note_fail "$name (see $log)"
	fi
}

units() { for s in tests/unit/test_*.c; do echo "$1/tests/$(basename "$s" .c)"; done; }

if [ "${1:-}" = unit ]; then
	run_unit "${2:-build}" unit
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
fi

echo "== build"
if ! make -s -j"$JOBS" all $(units build) >"$LOGDIR/build.log" 2>&1; then
	cat "$LOGDIR/build.log"; echo "0 passed, 1 failed"; exit 1
fi
echo "== unit tests"
run_unit build unit
echo "== end-to-end tests"
run_e2e build e2e
echo "== browser tests (Chromium, Playwright, axe-core)"
LOCKBOX_BUILD=build sh scripts/browser-test.sh >"$LOGDIR/browser.log" 2>&1
count_plain browser "$LOGDIR/browser.log" $?
grep -E '^(not ok|✖)' "$LOGDIR/browser.log" | head -n 20 | sed 's/^/  [browser] /'
echo "== OpenAPI lint"
check "openapi lint" sh scripts/lint-openapi.sh
echo "== valgrind (unit tests)"
for b in $(units build); do
	check "valgrind $(basename "$b")" valgrind -q --error-exitcode=1 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$b"
done
echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-20} s per harness)"
if make -s -j"$JOBS" $(for f in tests/fuzz/fuzz_*.c; do echo "build-fuzz/$(basename "$f" .c)"; done) \
	>"$LOGDIR/build-fuzz.log" 2>&1; then
	check "fuzz" sh scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
	grep '^fuzz ' "$LOGDIR/fuzz.log" | sed 's/^/  /'
else
	FAILED=$((FAILED + 1)); note_fail "fuzz build (see $LOGDIR/build-fuzz.log)"
	tail -n 20 "$LOGDIR/build-fuzz.log"
fi
echo "== build with ASan + UBSan"
if ! make -s -j"$JOBS" SANITIZER=asan all $(units build-asan) >"$LOGDIR/build-asan.log" 2>&1; then
	cat "$LOGDIR/build-asan.log"; FAILED=$((FAILED + 1)); note_fail "asan build"
else
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	echo "== unit tests (ASan + UBSan)"
	run_unit build-asan asan
	echo "== end-to-end tests (ASan + UBSan)"
	run_e2e build-asan asan-e2e
fi

if [ -n "$FAILURES" ]; then
	echo "Failures:$FAILURES"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
