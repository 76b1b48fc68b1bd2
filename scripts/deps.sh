#!/bin/sh
# Installs the Debian packages Lockbox needs, and nothing else.
#   scripts/deps.sh build   compiler, libraries (for make)
#   scripts/deps.sh run     build + what `make run` uses
#   scripts/deps.sh test    run + what `make test` uses (nginx, valgrind,
#                           python3, an SMTP sink, clang for libFuzzer,
#                           Chromium for the browser tests, Node.js for the
#                           OpenAPI lint and the browser tests)
# Idempotent and quiet when everything is present: it asks dpkg first and
# calls apt-get only for what is missing.
set -eu

what=${1:-build}
pkgs="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsodium-dev
      libsqlite3-dev libcurl4-openssl-dev ca-certificates"
case "$what" in
build) ;;
run) pkgs="$pkgs sqlite3 curl nginx-light" ;;
test) pkgs="$pkgs sqlite3 curl nginx-light libcmocka-dev python3 valgrind
            wrk python3-aiosmtpd clang libclang-rt-14-dev chromium" ;;
*) echo "usage: $0 build|run|test" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# Node.js may come from Debian (nodejs + npm) or be present already.
if [ "$what" = test ] && ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
	echo "deps: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
