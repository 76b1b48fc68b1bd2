#!/bin/sh
# Renders examples/nginx/lockbox.conf.template to stdout.
#
#   sh examples/nginx/render.sh NAME=VALUE... > lockbox.conf
#
# Required: LISTEN         where nginx listens (127.0.0.1:8080)
#           LOCKBOX        lockboxd's host:port (127.0.0.1:8420)
#           GATEWAY_TOKEN  the API token of a `gateway` principal (lbt_...)
#           CONTENT_ROOT   absolute path: CONTENT_ROOT/<tenant>/<workload>/<path>
#           METADATA_ROOT  absolute path, not the content root
#           PREFIX         absolute path of nginx's prefix (-p); PREFIX/tmp is
#                          created for nginx's temporary files
# Optional: WORKER_PROCESSES (default 1), ACCESS_LOG (default off; or a path)
#           TEMPLATE       another template with the same placeholders
#
# Values are checked before they go into the file: only the characters
# [A-Za-z0-9._/:-] (so nothing can end a directive or start a new one), the
# token must look like a Lockbox token, and paths must be absolute.
# The output holds the gateway token: keep it private (mode 0600).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TEMPLATE=$HERE/lockbox.conf.template
LISTEN= LOCKBOX= GATEWAY_TOKEN= CONTENT_ROOT= METADATA_ROOT= PREFIX=
WORKER_PROCESSES=1
ACCESS_LOG=off

die() { echo "render.sh: $*" >&2; exit 1; }

for arg in "$@"; do
	name=${arg%%=*}
	value=${arg#*=}
	[ "$name" != "$arg" ] || die "argument '$arg' is not NAME=VALUE"
	case $value in
	*[!A-Za-z0-9._/:-]*) die "$name: only [A-Za-z0-9._/:-] allowed in '$value'" ;;
	esac
	case $name in
	LISTEN) LISTEN=$value ;;
	LOCKBOX) LOCKBOX=$value ;;
	GATEWAY_TOKEN) GATEWAY_TOKEN=$value ;;
	CONTENT_ROOT) CONTENT_ROOT=$value ;;
	METADATA_ROOT) METADATA_ROOT=$value ;;
	PREFIX) PREFIX=$value ;;
	WORKER_PROCESSES) WORKER_PROCESSES=$value ;;
	ACCESS_LOG) ACCESS_LOG=$value ;;
	TEMPLATE) TEMPLATE=$value ;;
	*) die "unknown name '$name'" ;;
	esac
done

for v in LISTEN LOCKBOX GATEWAY_TOKEN CONTENT_ROOT METADATA_ROOT PREFIX; do
	eval "[ -n \"\$$v\" ]" || die "$v=... is required"
done
for v in CONTENT_ROOT METADATA_ROOT PREFIX; do
	eval "p=\$$v"
	case $p in /*) ;; *) die "$v must be an absolute path" ;; esac
done
CONTENT_ROOT=${CONTENT_ROOT%/}
METADATA_ROOT=${METADATA_ROOT%/}
[ -n "$CONTENT_ROOT" ] && [ -n "$METADATA_ROOT" ] || die "a root cannot be /"
[ "$CONTENT_ROOT" != "$METADATA_ROOT" ] ||
	die "METADATA_ROOT must not be the content root (metadata needs no grant)"
case $ACCESS_LOG in off | /*) ;; *) die "ACCESS_LOG is off or an absolute path" ;; esac
case $WORKER_PROCESSES in auto | [1-9] | [1-9][0-9]) ;; *) die "WORKER_PROCESSES" ;; esac
case $GATEWAY_TOKEN in
lbt_*) t=${GATEWAY_TOKEN#lbt_}
	[ ${#t} -eq 43 ] || die "GATEWAY_TOKEN is not lbt_ + 43 base64url characters" ;;
*) die "GATEWAY_TOKEN is not a Lockbox token (lbt_...)" ;;
esac
[ -r "$TEMPLATE" ] || die "cannot read $TEMPLATE"

mkdir -p "$PREFIX/tmp"

out=$(sed -e "s|@LISTEN@|$LISTEN|g" \
	-e "s|@LOCKBOX@|$LOCKBOX|g" \
	-e "s|@GATEWAY_TOKEN@|$GATEWAY_TOKEN|g" \
	-e "s|@CONTENT_ROOT@|$CONTENT_ROOT|g" \
	-e "s|@METADATA_ROOT@|$METADATA_ROOT|g" \
	-e "s|@PREFIX@|$PREFIX|g" \
	-e "s|@WORKER_PROCESSES@|$WORKER_PROCESSES|g" \
	-e "s|@ACCESS_LOG@|$ACCESS_LOG|g" "$TEMPLATE")
left=$(printf '%s\n' "$out" | grep -v '^ *#' | grep -o '@[A-Z_]*@' | head -n 1 || true)
[ -z "$left" ] || die "placeholder $left left in the output"
printf '%s\n' "$out"
