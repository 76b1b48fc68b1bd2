#!/bin/sh
# `make fuzz`: runs every libFuzzer harness build-fuzz/fuzz_* for $1
# seconds (default 30) each, on a temporary copy of its seed corpus
# tests/fuzz/corpus/<name without the fuzz_ prefix>/, so the committed
# corpus is never written to.  Prints one line per harness:
#   fuzz NAME: N executions in S s, 0 crashes
# with N from libFuzzer's final stat::number_of_executed_units.  A crash
# (or any failed run) is kept under build-fuzz/crashes/fuzz_NAME/ with the log,
# and the script exits non-zero after running the others.
set -u
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-30}
case $SECONDS_EACH in
''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac

FAILED=0
RAN=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lockbox-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT INT TERM

for bin in build-fuzz/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=$(basename "$bin")
	short=${name#fuzz_}
	seeds=tests/fuzz/corpus/$short
	corpus=$WORK/$short
	crashes=build-fuzz/crashes/$name
	found=$WORK/$short.artifacts
	log=$WORK/$short.log
	mkdir -p "$corpus" "$found"
	if [ -d "$seeds" ]; then
		cp -R "$seeds/." "$corpus/"
	fi
	RAN=$((RAN + 1))
	# The run writes only to the temporary corpus and artifact folder.
	t0=$(date +%s)
	"$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
	    -artifact_prefix="$found/" "$corpus" >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - t0 ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	ncrash=$(find "$found" -type f | wc -l | tr -d ' ')
	if [ $rc -ne 0 ] && [ "$ncrash" -eq 0 ]; then
		ncrash=1        # failed without leaving an artifact: still a failure
	fi
	echo "fuzz $short: ${execs:-0} executions in $took s, $ncrash crashes"
	if [ $rc -ne 0 ] || [ "$ncrash" -ne 0 ]; then
		FAILED=1
		mkdir -p "$crashes"
		cp "$found"/* "$crashes/" 2>/dev/null
		cp "$log" "$crashes/$short.log"
		grep -E 'ERROR|SUMMARY' "$log" | head -n 20 | sed "s/^/  [$short] /"
		echo "  [$short] crash input and log kept in $crashes/"
	fi
done

if [ $RAN -eq 0 ]; then
	echo "fuzz: no harness in build-fuzz/ (make build-fuzz/fuzz_NAME first)" >&2
	exit 2
fi
exit $FAILED
