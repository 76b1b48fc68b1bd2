#!/bin/sh
# `make run`: runs lockboxd on SQLite in ./var, with nginx in front of demo
# tenant content on 127.0.0.1:8080 (examples/nginx).  On a new data dir it
# first creates the provider's `admin` from a fresh bootstrap token, loads
# a demo (tenant contoso, its approvers, a support engineer with an
# assigned case, a gateway principal for nginx) through the CLI, writes
# every demo token to ./var/demo.env (mode 0600) and prints the next
# commands to try.  Ctrl-C stops both cleanly.
set -eu
cd "$(dirname "$0")/.."

DATA=${LOCKBOX_DATA_DIR:-./var}
LISTEN=${LOCKBOX_LISTEN:-127.0.0.1:8420}
NGINX_LISTEN=${LOCKBOX_NGINX_LISTEN:-127.0.0.1:8080}
URL="http://$LISTEN"
D=build/lockboxd
C=build/lockbox
NGINX=/usr/sbin/nginx

umask 077
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
nginx_pid=""

# nginx in front of the demo content, asking Lockbox before every read.
start_nginx() {
	[ -x "$NGINX" ] && [ -f "$DATA/nginx/lockbox.conf" ] || return 0
	"$NGINX" -p "$DATA/nginx/" -c "$DATA/nginx/lockbox.conf" \
		-g "daemon off; pid $DATA/nginx/nginx.pid; error_log $DATA/nginx/error.log;" &
	nginx_pid=$!
}

stop_all() {
	[ -z "$nginx_pid" ] || kill -TERM "$nginx_pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -z "$nginx_pid" ] || wait "$nginx_pid" 2>/dev/null || true
	exit 0
}

if [ -f "$DATA/lockbox.db" ]; then
	echo "lockbox: using the existing data in $DATA (demo tokens: $DATA/demo.env)"
	"$D" --listen "$LISTEN" --data-dir "$DATA" &
	pid=$!
	trap stop_all INT TERM
	start_nginx
	echo "lockbox: API on $URL, nginx on http://$NGINX_LISTEN; Ctrl-C stops"
	echo "lockbox: web console on $URL/ui/ (demo passwords: $DATA/demo.env)"
	wait "$pid"
	exit $?
fi

rand_token() {
	printf 'lbt_%s' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
}
# A console password: 18 base64url characters (108 random bits).
rand_password() {
	head -c 14 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c 1-18
}
ADMIN_TOKEN=$(rand_token)
LOCKBOX_BOOTSTRAP_TOKEN=$ADMIN_TOKEN "$D" --listen "$LISTEN" --data-dir "$DATA" &
pid=$!
trap stop_all INT TERM

i=0
until curl -fsS "$URL/readyz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "lockbox: the daemon did not start; see the messages above" >&2
		kill -TERM $pid 2>/dev/null || true
		exit 1
	fi
	sleep 0.1
done

export LOCKBOX_URL="$URL"
lb() { LOCKBOX_TOKEN=$1; shift; LOCKBOX_TOKEN=$LOCKBOX_TOKEN "$C" --json "$@"; }
field() { sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" | head -n 1; }

lb "$ADMIN_TOKEN" tenants create --id contoso --name Contoso --plan M365_E5 >/dev/null
GA1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id ga1 --realm contoso --role global_admin \
	--email ga1@contoso.example --display-name "Contoso Global Admin" | field token)
AP1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id ap1 --realm contoso --role lockbox_approver \
	--email ap1@contoso.example --display-name "Contoso Lockbox Approver" | field token)
CA1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id ca1 --realm contoso --role compliance_admin \
	--email ca1@contoso.example --display-name "Contoso Compliance Officer" | field token)
ENG1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id eng1 --realm provider --role support_engineer \
	--email eng1@provider.example --display-name "Support Engineer" | field token)
MGR1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id mgr1 --realm provider --role support_manager \
	--email mgr1@provider.example --display-name "Support Manager" | field token)
GW1_TOKEN=$(lb "$ADMIN_TOKEN" users create --id gw1 --realm provider --role gateway --service \
	--display-name "Content gateway" | field token)
lb "$GA1_TOKEN" --tenant contoso settings set --enable --approver ga1 --approver ap1 \
	--notification-email lockbox@contoso.example >/dev/null
CASE_ID=$(lb "$GA1_TOKEN" --tenant contoso cases open --title "Mail flow stops for alice" | field id)
lb "$MGR1_TOKEN" --tenant contoso cases assign "$CASE_ID" --engineer eng1 >/dev/null

# Console passwords for the demo people (POST /v1/users/{realm}/{id}/password),
# fed to curl on stdin so neither the token nor the password shows in ps.
set_password() {
	printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"password\\": \\"%s\\"}"\n' \
		"$ADMIN_TOKEN" "$3" | curl -fsS -K - -X POST "$URL/v1/users/$1/$2/password" >/dev/null
}
ADMIN_PASSWORD=$(rand_password); set_password provider admin "$ADMIN_PASSWORD"
GA1_PASSWORD=$(rand_password); set_password contoso ga1 "$GA1_PASSWORD"
AP1_PASSWORD=$(rand_password); set_password contoso ap1 "$AP1_PASSWORD"
CA1_PASSWORD=$(rand_password); set_password contoso ca1 "$CA1_PASSWORD"
ENG1_PASSWORD=$(rand_password); set_password provider eng1 "$ENG1_PASSWORD"
MGR1_PASSWORD=$(rand_password); set_password provider mgr1 "$MGR1_PASSWORD"

# Demo content behind nginx: one mailbox message (content, needs a grant)
# and its mailbox statistics (metadata, readable with the engineer's token).
# nginx's workers run as another user (www-data when started as root): they
# may traverse the data dir (not list it) and read the demo content; the
# database and the keys stay private (files 0600, keys/ 0700).
chmod 711 "$DATA"
umask 022
mkdir -p "$DATA/content/contoso/exchange/mailbox/alice@contoso.example/inbox" \
	"$DATA/metadata/contoso/exchange/mailbox/alice@contoso.example" "$DATA/nginx/tmp"
cat > "$DATA/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml" <<'EML'
From: bob@fabrikam.example
To: alice@contoso.example
Subject: Quarterly figures

The stuck message: its header says X-Broken: yes.
EML
printf '{"messages": 1, "size_bytes": 143, "errors_24h": 3}\n' \
	> "$DATA/metadata/contoso/exchange/mailbox/alice@contoso.example/stats.json"
umask 077
if [ -x "$NGINX" ]; then
	sh examples/nginx/render.sh LISTEN="$NGINX_LISTEN" LOCKBOX="$LISTEN" \
		GATEWAY_TOKEN="$GW1_TOKEN" CONTENT_ROOT="$DATA/content" \
		METADATA_ROOT="$DATA/metadata" PREFIX="$DATA/nginx" > "$DATA/nginx/lockbox.conf"
	start_nginx
fi

cat > "$DATA/demo.env" <<ENV
# Demo principals of this Lockbox (created by make run). Keep private.
export LOCKBOX_URL=$URL
export ADMIN_TOKEN=$ADMIN_TOKEN
export GA1_TOKEN=$GA1_TOKEN
export AP1_TOKEN=$AP1_TOKEN
export CA1_TOKEN=$CA1_TOKEN
export ENG1_TOKEN=$ENG1_TOKEN
export MGR1_TOKEN=$MGR1_TOKEN
export GW1_TOKEN=$GW1_TOKEN
export CASE_ID=$CASE_ID
# Console passwords (sign in at $URL/ui/ with realm, user and password).
export CONSOLE_URL=$URL/ui/
export ADMIN_PASSWORD=$ADMIN_PASSWORD
export GA1_PASSWORD=$GA1_PASSWORD
export AP1_PASSWORD=$AP1_PASSWORD
export CA1_PASSWORD=$CA1_PASSWORD
export ENG1_PASSWORD=$ENG1_PASSWORD
export MGR1_PASSWORD=$MGR1_PASSWORD
export NGINX_URL=http://$NGINX_LISTEN
ENV

cat <<MSG

Lockbox is running at $URL with a demo loaded (data in $DATA);
nginx serves the demo tenant content through it at http://$NGINX_LISTEN.

  realm     user   role               token
  provider  admin  provider_admin     $ADMIN_TOKEN
  provider  eng1   support_engineer   $ENG1_TOKEN
  provider  mgr1   support_manager    $MGR1_TOKEN
  provider  gw1    gateway            $GW1_TOKEN
  contoso   ga1    global_admin       $GA1_TOKEN
  contoso   ap1    lockbox_approver   $AP1_TOKEN
  contoso   ca1    compliance_admin   $CA1_TOKEN

Web console: $URL/ui/ (sign in with realm, user and password):

  realm     user   console password
  provider  admin  $ADMIN_PASSWORD
  provider  eng1   $ENG1_PASSWORD
  provider  mgr1   $MGR1_PASSWORD
  contoso   ga1    $GA1_PASSWORD
  contoso   ap1    $AP1_PASSWORD
  contoso   ca1    $CA1_PASSWORD

Support case $CASE_ID is open and assigned to eng1.
The tokens and passwords are also in $DATA/demo.env. In another terminal, try:

  . $DATA/demo.env
  LOCKBOX_TOKEN=\$ENG1_TOKEN build/lockbox --tenant contoso requests create --case \$CASE_ID \\
      --workload exchange --resource mailbox/alice@contoso.example \\
      --justification "Read the stuck message to find the bad header" --duration 4h
  LOCKBOX_TOKEN=\$AP1_TOKEN build/lockbox requests list --status pending
  LOCKBOX_TOKEN=\$AP1_TOKEN build/lockbox requests approve <request id> --duration 2h --comment "ok"
  LOCKBOX_TOKEN=\$ENG1_TOKEN build/lockbox --tenant contoso requests grant <request id>
  curl -H "Authorization: Bearer <grant token>" \\
      \$NGINX_URL/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml

README.md walks through it step by step.
Ctrl-C stops both; \`make run\` again resumes with the same data.
MSG
wait $pid
[ -z "$nginx_pid" ] || kill -TERM "$nginx_pid" 2>/dev/null || true
