#!/bin/sh
# The audit benchmark, one command:  sh bench/audit/run.sh
#
#   1. gen_audit (bench/audit/gen_audit.c, linked with liblockbox.a) builds
#      a database of AUDIT_RECORDS real records (hash chain, signed
#      checkpoints) across AUDIT_TENANTS tenants over AUDIT_DAYS days, and
#      reports the append rate;
#   2. lockboxd is started on that data directory and measure.py times,
#      through the HTTP API: the first page of a 7-day search (sequential,
#      keep-alive), a per-record-type count over 30 days for the busy
#      tenant, a JSONL export of the busy tenant's chain, and `lockbox audit
#      verify --file` on that export; then the same search and count in the
#      sqlite3 shell (.timer on) on the same database, for comparison.
#   3. The results replace the "## Audit" section of BENCHMARKS.md (created
#      if absent; other sections are left alone) and go to bench/out/audit.md.
#
# Knobs (environment): AUDIT_RECORDS (5000000), AUDIT_TENANTS (1000),
# AUDIT_DAYS (60), AUDIT_SEARCHES (200), LOCKBOX_BUILD (build),
# AUDIT_KEEP=1 keeps the temporary directory.
# Needs: cc, pkg-config, python3, sqlite3, curl; build/lockboxd, build/lockbox
# and build/liblockbox.a (make build/lockboxd build/lockbox).
# Exit status 0 when every step ran; the targets are reported, not enforced.
set -eu
cd "$(dirname "$0")/../.."

RECORDS=${AUDIT_RECORDS:-5000000}
TENANTS=${AUDIT_TENANTS:-1000}
DAYS=${AUDIT_DAYS:-60}
SEARCHES=${AUDIT_SEARCHES:-200}
BUILD=${LOCKBOX_BUILD:-build}
OUT=bench/out
BB=$BUILD/bench

die() { echo "bench/audit: $*" >&2; exit 1; }
for t in cc pkg-config python3 sqlite3 curl; do
	command -v $t >/dev/null 2>&1 || die "$t is missing"
done
for f in lockboxd lockbox liblockbox.a; do
	[ -e "$BUILD/$f" ] || die "$BUILD/$f is missing: make $BUILD/lockboxd $BUILD/lockbox"
done

PKGS="libmicrohttpd jansson libsodium sqlite3 libcurl libpq"
mkdir -p "$OUT" "$BB"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O2 -pthread -Wall -Wextra \
	-Werror -Iinclude -Isrc $(pkg-config --cflags $PKGS) bench/audit/gen_audit.c \
	"$BUILD/liblockbox.a" $(pkg-config --libs $PKGS) -lm -o "$BB/gen_audit"

W=$(mktemp -d /tmp/lockbox-audit-bench.XXXXXX)
PID=""
cleanup() {
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	if [ "${AUDIT_KEEP:-0}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -m 700 "$W/data"

echo "bench/audit: generating $RECORDS records across $TENANTS tenants over $DAYS days" >&2
START=$(date +%s)
"$BB/gen_audit" "$W/data" "$RECORDS" "$TENANTS" "$DAYS" >"$W/gen.txt"
echo "bench/audit: generated in $(( $(date +%s) - START )) s" >&2
cat "$W/gen.txt" >&2

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
TOKEN=$(printf 'lbt_%s' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')")
LOCKBOX_BOOTSTRAP_TOKEN=$TOKEN "$BUILD/lockboxd" --listen "127.0.0.1:$PORT" \
	--data-dir "$W/data" --database "sqlite:$W/data/lockbox.db" \
	>"$W/lockboxd.log" 2>&1 &
PID=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/readyz"; do
	i=$((i + 1)); [ $i -le 200 ] || die "lockboxd did not start; $(tail -5 "$W/lockboxd.log")"
	sleep 0.1
done

BENCH_TOKEN=$TOKEN python3 bench/audit/measure.py --url "http://127.0.0.1:$PORT" \
	--db "$W/data/lockbox.db" --work "$W" --lockbox "$BUILD/lockbox" \
	--gen "$W/gen.txt" --searches "$SEARCHES" --records "$RECORDS" \
	--tenants "$TENANTS" --days "$DAYS" --out "$OUT/audit.md" --benchmarks BENCHMARKS.md
