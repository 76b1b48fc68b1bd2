-- wrk script: POST /v1/authz as a programmatic gateway would
-- (docs/api.md, "POST /v1/authz").  bench/run.sh passes the tokens in the
-- environment, never on a command line:
--   BENCH_GATEWAY_TOKEN  the gateway principal's API token
--   BENCH_GRANT          the engineer's grant
--   BENCH_RESOURCE       the resource path (default the demo mailbox message)
local gw = os.getenv("BENCH_GATEWAY_TOKEN") or ""
local grant = os.getenv("BENCH_GRANT") or ""
local res = os.getenv("BENCH_RESOURCE") or
    "mailbox/alice@contoso.example/inbox/1.eml"

wrk.method = "POST"
wrk.body = '{"token":"' .. grant .. '","tenant":"contoso","resource":"' ..
    res .. '","action":"read","workload":"exchange"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. gw
