#!/bin/sh
# `make bench`: what the access check costs, measured through nginx.
#
#   (a) nginx serving a tenant file, no check at all
#   (b) nginx + auth_request -> bench/noop_authz (libmicrohttpd, 204 to all)
#  (b2) the same, the noop answering 200 with a JSON body like Lockbox's
#   (c) nginx + auth_request -> lockboxd with a valid approved grant: every
#       access allowed, each with its durable audit record
#   and POST /v1/authz straight at noop_authz vs lockboxd.
#
# Everything runs on 127.0.0.1, one load at a time, with wrk
# (-t2 -c32, BENCH_SECONDS per run, 10 by default, after a 2 s warm-up).
# Afterwards the 2xx answers of (c) and of the POST run are counted against
# the allowed CustomerLockboxAccess records in the daemon's database: none
# may be missing.  The markdown table goes to stdout and bench/out/results.md.
#
# Knobs (environment): BENCH_SECONDS, BENCH_WARMUP_SECONDS,
# BENCH_WRK_THREADS, BENCH_WRK_CONNECTIONS, BENCH_LOCKBOXD_ARGS (extra
# lockboxd flags, e.g. "--log-level warn"), LOCKBOX_BUILD, BENCH_NGINX.
#
# Exit status: 0 when the runs completed and no allowed record is missing
# (the throughput target is reported, not enforced: it depends on the
# machine); 1 otherwise.
set -eu
cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-10}
WARM=${BENCH_WARMUP_SECONDS:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNECTIONS:-32}
BUILD=${LOCKBOX_BUILD:-build}
NGINX=${BENCH_NGINX:-/usr/sbin/nginx}
OUT=bench/out
BB=$BUILD/bench

die() { echo "bench: $*" >&2; exit 1; }
for t in wrk curl python3 cc pkg-config; do
	command -v $t >/dev/null 2>&1 || die "$t is missing (Debian: apt-get install wrk curl python3 gcc pkg-config)"
done
[ -x "$NGINX" ] || die "$NGINX is missing (Debian: apt-get install nginx-light)"
[ -x "$BUILD/lockboxd" ] || die "$BUILD/lockboxd is missing: make $BUILD/lockboxd"
pkg-config --exists libmicrohttpd || die "libmicrohttpd development files missing"

mkdir -p "$OUT" "$BB"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)   # other work on the machine skews every figure
cc -O2 -pthread bench/noop_authz.c $(pkg-config --cflags --libs libmicrohttpd) \
	-o "$BB/noop_authz"

W=$(mktemp -d /tmp/lockbox-bench.XXXXXX)
chmod 755 "$W"              # nginx's workers (nobody, under root) read below it
PIDS=""
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() {   # URL: until it answers (any status), at most 10 s
	i=0
	until curl -s -o /dev/null "$1"; do
		i=$((i + 1)); [ $i -le 100 ] || die "no answer from $1"
		sleep 0.1
	done
}
rand_token() {
	printf 'lbt_%s' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
}

# ------------------------------------------------------------ lockboxd
LB_PORT=$(free_port)
URL=http://127.0.0.1:$LB_PORT
ADMIN=$(rand_token)
mkdir -m 700 "$W/data"
# shellcheck disable=SC2086 # BENCH_LOCKBOXD_ARGS: extra flags, split on spaces
LOCKBOX_BOOTSTRAP_TOKEN=$ADMIN "$BUILD/lockboxd" --listen "127.0.0.1:$LB_PORT" \
	--data-dir "$W/data" ${BENCH_LOCKBOXD_ARGS:-} >"$W/lockboxd.log" 2>&1 &
LB_PID=$!
PIDS="$PIDS $LB_PID"
wait_http "$URL/readyz"

api() {         # METHOD TOKEN PATH [BODY] -> the answer's JSON on stdout
	if [ $# -ge 4 ]; then
		curl -fsS -X "$1" -H "Authorization: Bearer $2" \
			-H 'Content-Type: application/json' -d "$4" "$URL$3"
	else
		curl -fsS -X "$1" -H "Authorization: Bearer $2" "$URL$3"
	fi
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

api POST "$ADMIN" /v1/tenants '{"id":"contoso","name":"Contoso","plan":"M365_E5"}' >/dev/null
ENG=$(api POST "$ADMIN" /v1/users '{"id":"eng1","realm":"provider","roles":["support_engineer"]}' | field token)
GA=$(api POST "$ADMIN" /v1/users '{"id":"ga1","realm":"contoso","roles":["global_admin"],"email":"ga1@contoso.example"}' | field token)
GW=$(api POST "$ADMIN" /v1/users '{"id":"gw1","realm":"provider","roles":["gateway"],"type":"service"}' | field token)
api PATCH "$GA" /v1/tenants/contoso/lockbox/settings '{"enabled":true,"approvers":["ga1"]}' >/dev/null
CASE=$(api POST "$GA" /v1/tenants/contoso/cases '{"title":"bench"}' | field id)
api POST "$ADMIN" "/v1/tenants/contoso/cases/$CASE/assign" '{"engineer":"eng1"}' >/dev/null
RID=$(api POST "$ENG" /v1/tenants/contoso/requests "{\"case_id\":\"$CASE\",\"workload\":\"exchange\",\"resources\":[\"mailbox/alice@contoso.example\"],\"justification\":\"benchmark\"}" | field id)
api POST "$GA" "/v1/tenants/contoso/requests/$RID/approve" '{}' >/dev/null
GRANT=$(api GET "$ENG" "/v1/tenants/contoso/requests/$RID/grant" | field token)

# -------------------------------------------------------- content, noop
REL=contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml
mkdir -p "$W/content/$(dirname $REL)" "$W/metadata"
head -c 4096 /dev/urandom | base64 > "$W/content/$REL"        # a ~5.4 KiB message
chmod -R a+rX "$W/content" "$W/metadata"
PATH_URI=/content/$REL

NOOP_PORT=$(free_port)
"$BB/noop_authz" "$NOOP_PORT" 8 &
NOOP_PID=$!
PIDS="$PIDS $NOOP_PID"
wait_http "http://127.0.0.1:$NOOP_PORT/"
# the same with a 200 and a JSON body like Lockbox's allow (see noop_authz.c)
NOOPB_PORT=$(free_port)
"$BB/noop_authz" "$NOOPB_PORT" 8 body &
NOOPB_PID=$!
PIDS="$PIDS $NOOPB_PID"
wait_http "http://127.0.0.1:$NOOPB_PORT/"

# ---------------------------------------------------------------- nginx
start_nginx() {     # NAME UPSTREAM_PORT [noauth] -> sets NGINX_PORT
	P=$W/nginx-$1
	mkdir -p "$P/tmp"
	NGINX_PORT=$(free_port)
	(umask 077; sh examples/nginx/render.sh LISTEN=127.0.0.1:$NGINX_PORT \
		LOCKBOX=127.0.0.1:$2 GATEWAY_TOKEN=$GW CONTENT_ROOT=$W/content \
		METADATA_ROOT=$W/metadata PREFIX=$P > "$P/conf.tmp")
	if [ "${3:-}" = noauth ]; then
		# (a): the same server without the check
		grep -v -e auth_request -e lockbox_reason "$P/conf.tmp" > "$P/lockbox.conf"
	else
		cp "$P/conf.tmp" "$P/lockbox.conf"
	fi
	rm -f "$P/conf.tmp"
	chmod 600 "$P/lockbox.conf"
	"$NGINX" -p "$P/" -c "$P/lockbox.conf" \
		-g "daemon off; pid $P/nginx.pid; error_log stderr;" 2>"$P/error.log" &
	PIDS="$PIDS $!"
	wait_http "http://127.0.0.1:$NGINX_PORT/"
}
start_nginx a "$NOOP_PORT" noauth; PORT_A=$NGINX_PORT
start_nginx b "$NOOP_PORT";        PORT_B=$NGINX_PORT
start_nginx b2 "$NOOPB_PORT";      PORT_B2=$NGINX_PORT
start_nginx c "$LB_PORT";          PORT_C=$NGINX_PORT

for p in $PORT_A $PORT_B $PORT_B2 $PORT_C; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GRANT" \
		"http://127.0.0.1:$p$PATH_URI")
	[ "$code" = 200 ] || die "nginx on $p answers $code for the file, not 200"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_C$PATH_URI")
[ "$code" = 401 ] || die "(c) without a grant answers $code, not 401"

count_allowed() {
	python3 - "$W/data/lockbox.db" "$RID" <<'PY'
import sqlite3, sys
con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(con.execute("SELECT count(*) FROM audit WHERE record_type = "
                  "'CustomerLockboxAccess' AND result = 'allowed' AND "
                  "json_extract(details, '$.request_id') = ?",
                  (sys.argv[2],)).fetchone()[0])
PY
}

# --------------------------------------------------------------- the runs
export BENCH_GRANT=$GRANT BENCH_GATEWAY_TOKEN=$GW
run() {             # NAME URL [wrk args...]: warm-up, then the measured run
	name=$1; url=$2; shift 2
	echo "bench: $name: ${WARM}s warm-up, ${SECS}s measured ($url)" >&2
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WARM}s" "$@" "$url" >/dev/null
	before=$(count_allowed)
	batches "$W/batch0-$name.txt"
	cpu > "$W/cpu0-$name.txt"
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${SECS}s" --timeout 10s --latency "$@" "$url" \
		> "$W/wrk-$name.txt"
	cpu > "$W/cpu1-$name.txt"
	batches "$W/batch1-$name.txt"
	sleep 0.5
	after=$(count_allowed)
	echo "$((after - before))" > "$W/records-$name.txt"
}
cpu() {             # CPU ticks used so far: machine busy/total, lockboxd, noop
	awk '/^cpu /{ t=0; for (i = 2; i <= NF; i++) t += $i; print "machine_busy", t - $5 - $6; print "machine_total", t }' /proc/stat
	for x in "lockboxd:$LB_PID" "noop:$NOOP_PID" "noopb:$NOOPB_PID"; do
		set -- $(sed 's/^.*) //' "/proc/${x#*:}/stat")
		echo "${x%%:*} $((${12} + ${13}))"
	done
}
batches() {         # FILE: the daemon's group-commit counters now
	curl -fsS "$URL/metrics" | grep -e '^lockbox_audit_batch_size_sum' \
		-e '^lockbox_audit_batch_size_count' -e '^lockbox_audit_batch_failures_total' \
		> "$1" || true
}
AUTH="Authorization: Bearer $GRANT"
run a "http://127.0.0.1:$PORT_A$PATH_URI" -H "$AUTH"
run b "http://127.0.0.1:$PORT_B$PATH_URI" -H "$AUTH"
run b2 "http://127.0.0.1:$PORT_B2$PATH_URI" -H "$AUTH"
run c "http://127.0.0.1:$PORT_C$PATH_URI" -H "$AUTH"
run post_noop "http://127.0.0.1:$NOOP_PORT/v1/authz" -s bench/post_authz.lua
run post_lockbox "http://127.0.0.1:$LB_PORT/v1/authz" -s bench/post_authz.lua

# ----------------------------------------------------------------- report
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
NGV=$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')
python3 - "$W" "$OUT/results.md" "$(nproc)" "$CPU" "$NGV" "$SECS" \
	"$WRK_THREADS" "$WRK_CONNS" "$(wc -c < "$W/content/$REL")" \
	"${BENCH_LOCKBOXD_ARGS:-}" "$LOAD0" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import datetime, os, re, sys

w, out, nproc, cpu, ngv, secs, wt, wc, size, lbargs, load0, load1 = sys.argv[1:13]

def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)$", v)
    f = float(m.group(1))
    return f / 1000 if m.group(2) == "us" else f * 1000 if m.group(2) == "s" else f

def parse(name):
    t = open(os.path.join(w, "wrk-%s.txt" % name)).read()
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
         "total": int(re.search(r"(\d+) requests in", t).group(1)),
         "non2xx": 0, "errors": 0}
    for q in ("50", "99"):
        r["p" + q] = ms(re.search(r"^\s+%s%%\s+(\S+)" % q, t, re.M).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    if m:
        r["errors"] = sum(int(x) for x in m.groups())
    r["ok"] = r["total"] - r["non2xx"]
    r["records"] = int(open(os.path.join(w, "records-%s.txt" % name)).read())
    return r

R = {n: parse(n) for n in ("a", "b", "b2", "c", "post_noop", "post_lockbox")}
rows = [
    ("a", "(a) nginx static file, no check"),
    ("b", "(b) nginx + auth_request → noop 204"),
    ("b2", "(b2) nginx + auth_request → noop 200 + JSON body"),
    ("c", "(c) nginx + auth_request → Lockbox"),
    ("post_noop", "POST /v1/authz → noop 204"),
    ("post_lockbox", "POST /v1/authz → Lockbox"),
]
L = []
L.append("| run | requests/s | p50 ms | p99 ms | non-2xx | socket errors |")
L.append("|---|---:|---:|---:|---:|---:|")
for k, label in rows:
    r = R[k]
    L.append("| %s | %.0f | %.2f | %.2f | %d | %d |"
             % (label, r["rps"], r["p50"], r["p99"], r["non2xx"], r["errors"]))
cb = R["c"]["rps"] / R["b"]["rps"]
ca = R["c"]["rps"] / R["a"]["rps"]
pp = R["post_lockbox"]["rps"] / R["post_noop"]["rps"]
L.append("")
L.append("| ratio | value | target |")
L.append("|---|---:|---|")
L.append("| c/b (Lockbox vs a do-nothing check) | %.2f | ≥ 0.80: %s |"
         % (cb, "met" if cb >= 0.80 else "**missed**"))
L.append("| c/a (Lockbox vs no check) | %.2f | |" % ca)
L.append("| c/b2 (Lockbox vs a do-nothing check with a body) | %.2f | |"
         % (R["c"]["rps"] / R["b2"]["rps"]))
L.append("| b2/b (cost of a body: no upstream keep-alive) | %.2f | |"
         % (R["b2"]["rps"] / R["b"]["rps"]))
L.append("| POST Lockbox/noop | %.2f | |" % pp)
L.append("")
missing_total = 0
L.append("| run | 2xx answers | allowed records written | missing |")
L.append("|---|---:|---:|---:|")
for k in ("c", "post_lockbox"):
    r = R[k]
    miss = max(0, r["ok"] - r["records"])
    missing_total += miss
    L.append("| %s | %d | %d | %d |" % (dict(rows)[k], r["ok"], r["records"], miss))
L.append("")
def metric(name, f):
    try:
        for line in open(os.path.join(w, f)):
            k, v = line.split()
            if k == name:
                return float(v)
    except (OSError, ValueError):
        pass
    return None

def cpu_use(k):
    a, b = {}, {}
    for f, d in (("cpu0-%s.txt" % k, a), ("cpu1-%s.txt" % k, b)):
        for line in open(os.path.join(w, f)):
            n, v = line.split()
            d[n] = int(v)
    tot = b["machine_total"] - a["machine_total"]
    busy = (b["machine_busy"] - a["machine_busy"]) / tot if tot else 0
    hz = os.sysconf("SC_CLK_TCK")
    return (busy, (b["lockboxd"] - a["lockboxd"]) / hz,
            (b["noop"] - a["noop"]) / hz, (b["noopb"] - a["noopb"]) / hz)

L.append("| run | machine CPU busy | check server CPU s | check server CPU µs per request |")
L.append("|---|---:|---:|---:|")
for k, label in rows:
    busy, lb, noop, noopb = cpu_use(k)
    srv = {"c": lb, "post_lockbox": lb, "b": noop, "post_noop": noop,
           "b2": noopb}.get(k)
    per = "" if srv is None or not R[k]["total"] else "%.0f" % (srv * 1e6 / R[k]["total"])
    L.append("| %s | %.0f%% | %s | %s |" % (label, busy * 100,
             "" if srv is None else "%.2f" % srv, per))
L.append("")
L.append("| run | group commits/s | records per commit | failed commits |")
L.append("|---|---:|---:|---:|")
for k in ("c", "post_lockbox"):
    vals = {}
    for m in ("lockbox_audit_batch_size_sum", "lockbox_audit_batch_size_count",
              "lockbox_audit_batch_failures_total"):
        a, b = metric(m, "batch0-%s.txt" % k), metric(m, "batch1-%s.txt" % k)
        vals[m] = None if a is None or b is None else b - a
    n = vals["lockbox_audit_batch_size_count"]
    recs = vals["lockbox_audit_batch_size_sum"]
    if n:
        L.append("| %s | %.0f | %.1f | %d |" % (dict(rows)[k], n / float(secs),
                 recs / n, vals["lockbox_audit_batch_failures_total"] or 0))
    else:
        L.append("| %s | (no metrics) | | |" % dict(rows)[k])
L.append("")
L.append("Target: zero allows without their record: %s. (Records may exceed "
         "the 2xx count by the calls in flight when wrk stopped: allowed and "
         "recorded, but not counted by wrk.)" % ("met" if missing_total == 0 else "**missed**"))
L.append("")
L.append("Machine: %s CPU(s), %s; nginx %s (1 worker), lockboxd %s, "
         "noop_authz 8 threads; wrk -t%s -c%s -d%ss --latency after a warm-up; "
         "file %s bytes; %s UTC." % (nproc, cpu, ngv,
                                      lbargs or "defaults (8 threads, log level info)",
                                      wt, wc, secs, size,
                                      datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")))
L.append("")
L.append("Load average before the runs: %s; after: %s (anything well above 0 "
         "before means other work shared the CPUs)." % (load0, load1))
text = "\n".join(L) + "\n"
open(out, "w").write(text)
sys.stdout.write(text)
bad = missing_total > 0 or R["c"]["non2xx"] > 0 or R["post_lockbox"]["non2xx"] > 0
sys.exit(1 if bad else 0)
PY
