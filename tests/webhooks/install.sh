#!/bin/sh
# Installs the pinned `standardwebhooks` library for tests/webhooks/verify.mjs from
# package-lock.json, once: does nothing when tests/webhooks/node_modules is
# already there.  No install scripts run, nothing is audited or printed
# unless it fails.
set -eu
cd "$(dirname "$0")/../.."

if [ -d tests/webhooks/node_modules ]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "tests/webhooks/install.sh: npm not found (apt-get install npm)" >&2
	exit 1
fi
log=$(mktemp "${TMPDIR:-/tmp}/webhooks-install.XXXXXX")
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
    --prefix tests/webhooks >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
