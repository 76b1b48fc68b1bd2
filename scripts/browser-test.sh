#!/bin/sh
# Browser tests of the web console (tests/browser, docs/internals/browser-tests.md):
# node's built-in test runner, playwright-core driving Debian's chromium,
# axe-core.  Each test starts its own lockboxd from $LOCKBOX_BUILD (default
# build; this script builds nothing) on a free 127.0.0.1 port.  Installs the
# pinned npm packages when tests/browser/node_modules is absent.  Ends with
# the line "N passed, N failed"; exits non-zero if anything failed.
#   scripts/browser-test.sh                 every test file
#   scripts/browser-test.sh FILE...         only these (tests/browser/*.test.mjs)
set -u
cd "$(dirname "$0")/.."

LOGDIR=${LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
# A file of this run only (several runs may share LOGDIR); kept as browser.tap.
TAP=$(mktemp "$LOGDIR/browser.XXXXXX") || exit 1
trap 'rm -f "$TAP"' EXIT
BUILD=${LOCKBOX_BUILD:-build}

fail_setup() { echo "browser tests: $1" >&2; echo "0 passed, 1 failed"; exit 1; }

command -v node >/dev/null 2>&1 || fail_setup "node is missing (scripts/deps.sh test)"
CHROMIUM=${LOCKBOX_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail_setup "$CHROMIUM is missing (apt-get install chromium)"
[ -x "$BUILD/lockboxd" ] || fail_setup "$BUILD/lockboxd is missing (make $BUILD/lockboxd)"

if [ ! -d tests/browser/node_modules ]; then
	npm ci --no-audit --no-fund --ignore-scripts --prefix tests/browser >"$LOGDIR/browser-npm.log" 2>&1 ||
		{ cat "$LOGDIR/browser-npm.log" >&2; fail_setup "npm ci failed"; }
fi

if [ $# -gt 0 ]; then files="$*"; else files=$(ls tests/browser/*.test.mjs); fi

# Spec output for people on stdout, TAP into the log for the counts
# (build/test-logs/browser.tap once the run ends).
# shellcheck disable=SC2086
LOCKBOX_BUILD=$BUILD node --test \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=tap --test-reporter-destination="$TAP" \
	$files
rc=$?

p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$TAP" | tail -n 1); p=${p:-0}
f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$TAP" | tail -n 1); f=${f:-0}
c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$TAP" | tail -n 1); c=${c:-0}
f=$((f + c))
if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
mv -f "$TAP" "$LOGDIR/browser.tap"
echo "$p passed, $f failed"
[ $rc -eq 0 ] && [ "$f" -eq 0 ]
