#!/bin/sh
# `make run`: runs lockboxd on SQLite in ./var.  On a new data dir it first
# creates the provider's `admin` from a fresh bootstrap token, loads a demo
# (tenant contoso, its approvers, a support engineer with an assigned case)
# through the CLI, writes every demo token to ./var/demo.env (mode 0600)
# and prints the next commands to try.  Ctrl-C stops the daemon cleanly.
set -eu
cd "$(dirname "$0")/.."

DATA=${LOCKBOX_DATA_DIR:-./var}
LISTEN=${LOCKBOX_LISTEN:-127.0.0.1:8420}
URL="http://$LISTEN"
D=build/lockboxd
C=build/lockbox

umask 077
mkdir -p "$DATA"

if [ -f "$DATA/lockbox.db" ]; then
	echo "lockbox: using the existing data in $DATA (demo tokens: $DATA/demo.env)"
	echo "lockbox: serving on $URL; Ctrl-C stops"
	exec "$D" --listen "$LISTEN" --data-dir "$DATA"
fi

rand_token() {
	printf 'lbt_%s' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
}
ADMIN_TOKEN=$(rand_token)
LOCKBOX_BOOTSTRAP_TOKEN=$ADMIN_TOKEN "$D" --listen "$LISTEN" --data-dir "$DATA" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' INT TERM

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
ENV

cat <<MSG

Lockbox is running at $URL with a demo loaded (data in $DATA).

  realm     user   role               token
  provider  admin  provider_admin     $ADMIN_TOKEN
  provider  eng1   support_engineer   $ENG1_TOKEN
  provider  mgr1   support_manager    $MGR1_TOKEN
  provider  gw1    gateway            $GW1_TOKEN
  contoso   ga1    global_admin       $GA1_TOKEN
  contoso   ap1    lockbox_approver   $AP1_TOKEN
  contoso   ca1    compliance_admin   $CA1_TOKEN

Support case $CASE_ID is open and assigned to eng1.
The tokens are also in $DATA/demo.env. In another terminal, try:

  . $DATA/demo.env
  LOCKBOX_TOKEN=\$ENG1_TOKEN build/lockbox --tenant contoso requests create --case \$CASE_ID \\
      --workload exchange --resource mailbox/alice@contoso.example \\
      --justification "Read the stuck message to find the bad header" --duration 4h
  LOCKBOX_TOKEN=\$AP1_TOKEN build/lockbox requests list --status pending
  LOCKBOX_TOKEN=\$AP1_TOKEN build/lockbox requests approve <request id> --duration 2h --comment "ok"
  LOCKBOX_TOKEN=\$ENG1_TOKEN build/lockbox --tenant contoso requests get <request id>

Ctrl-C stops the daemon; \`make run\` again resumes with the same data.
MSG
wait $pid
