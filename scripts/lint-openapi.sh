#!/bin/sh
# Lints docs/openapi.yaml with the pinned @redocly/cli (tools/openapi/),
# then checks with scripts/check-routes.py that it describes exactly the
# routes of src/http/server.c and every error code of src/core/err.c.
#
#   sh scripts/lint-openapi.sh
#
# Installs the linter into tools/openapi/node_modules from the committed
# package-lock.json when it is absent or not the pinned version (the npm
# registry is the only network access; the linter's telemetry and update
# check are switched off).  Fails on any error *or* warning, or on any route
# or error code the spec and the daemon disagree on; prints one summary line
# for each check.  Called by `make test`; see docs/internals/openapi.md.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tool=tools/openapi
spec=docs/openapi.yaml
cli=$tool/node_modules/@redocly/cli/bin/cli.js

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "lint-openapi: node and npm are needed (sh scripts/deps.sh test)" >&2
	exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "lint-openapi: python3 is needed for scripts/check-routes.py" >&2
	exit 1
fi

# The version package.json pins, and the one installed (empty if none).
want=$(node -e 'process.stdout.write(require(process.argv[1]).devDependencies["@redocly/cli"])' \
	"$root/$tool/package.json")
have=$(node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
	"$root/$tool/node_modules/@redocly/cli/package.json")

if [ ! -f "$cli" ] || [ "$have" != "$want" ]; then
	log=$(mktemp)
	# --ignore-scripts: nothing in the tree needs an install script (the
	# only one, core-js's, prints a banner).
	if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
		--prefix "$tool" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "lint-openapi: npm ci in $tool failed" >&2
		exit 1
	fi
	rm -f "$log"
fi

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1

# One machine-readable run decides; on failure a second, readable run shows
# where the problems are.
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
rc=0
node "$cli" lint --config "$tool/redocly.yaml" --format=json "$spec" \
	>"$out" 2>/dev/null || rc=$?

# shellcheck disable=SC2016 # JavaScript, not shell
summary=$(node -e '
const fs = require("fs");
let r;
try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) { process.exit(2); }
const t = r.totals;
// js-yaml as @redocly/openapi-core itself resolves it.
const yaml = require(require.resolve("js-yaml", { paths: [process.argv[3]] }));
const doc = yaml.load(fs.readFileSync(process.argv[2], "utf8"));
let ops = 0;
for (const item of Object.values(doc.paths || {}))
	for (const m of ["get", "put", "post", "delete", "options", "head", "patch", "trace"])
		if (item[m]) ops++;
console.log(`${t.errors} ${t.warnings} ${ops} ${r.version}`);
' "$out" "$spec" "$root/$tool/node_modules/@redocly/openapi-core") || {
	echo "lint-openapi: the linter gave no result (exit $rc):" >&2
	node "$cli" lint --config "$tool/redocly.yaml" "$spec" >&2 || true
	exit 1
}

# shellcheck disable=SC2086 # four words, split on purpose
set -- $summary
errors=$1 warnings=$2 ops=$3 version=$4
line="lint-openapi: $spec: $ops operations, $errors errors, $warnings warnings (@redocly/cli $version)"

if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$warnings" -ne 0 ]; then
	node "$cli" lint --config "$tool/redocly.yaml" "$spec" >&2 || true
	echo "$line: FAIL" >&2
	exit 1
fi
echo "$line: ok"

# The spec against the daemon: routes[] and the error table (its own
# summary line; the differences, if any, on stderr).
python3 scripts/check-routes.py --root "$root" || {
	echo "lint-openapi: $spec and src/http/server.c or src/core/err.c disagree" >&2
	exit 1
}
