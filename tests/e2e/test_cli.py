"""The lifecycle driven through build/lockbox: --json output, tables for
people, and the exit statuses (0 ok, 1 usage, 2 transport, 3 401, 4 403,
5 404, 6 409, 7 400/413/422, 8 5xx)."""

import json
import re

from harness import (MIN_MS, Daemon, check, cli, free_port, new_token, short,
                     ts_ms)

D = None
TOK = {}
IDS = {}


def setup_module():
    global D
    D = Daemon("cli")
    D.start()
    TOK["admin"] = D.token


def teardown_module():
    if D is not None:
        problems = D.close()
        check(not problems, "; ".join(problems))


def run(args, who="admin", tenant=None, want=0, token=None, url=None):
    rc, out, err = cli(args, token=token or TOK.get(who),
                       url=url or D.url, tenant=tenant)
    check(rc == want, "lockbox %s (as %s): exit %d, expected %d; stdout %s; "
          "stderr %s" % (" ".join(args), who, rc, want, short(out, 300),
                         short(err, 300)))
    return out, err


def js(args, who="admin", tenant=None):
    out, _ = run(list(args) + ["--json"], who=who, tenant=tenant)
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError("lockbox %s --json printed no JSON: %s"
                             % (" ".join(args), short(out)))


def items(v):
    if isinstance(v, dict) and "items" in v:
        return v["items"]
    check(isinstance(v, list), "not a list: %s" % short(v))
    return v


ERR_RE = r"^lockbox: %s: .+ \(HTTP %d\)$"


def check_err(err, code, status):
    lines = [x for x in err.splitlines() if x.startswith("lockbox: ")]
    check(any(re.match(ERR_RE % (code, status), x) for x in lines),
          "stderr does not say `lockbox: %s: ... (HTTP %d)`: %s"
          % (code, status, short(err)))


def test_me():
    me = js(["me"])
    check(me["id"] == "admin" and me["realm"] == "provider"
          and me["roles"] == ["provider_admin"], "me %s" % short(me))
    out, _ = run(["me"])
    check("admin" in out and "provider_admin" in out, "me table: %s"
          % short(out))


def test_build_world():
    t = js(["tenants", "create", "--id", "contoso", "--name", "Contoso",
            "--plan", "M365_E5"])
    check(t["id"] == "contoso" and t["cloud"] == "commercial"
          and t["addons"] == [], "tenant %s" % short(t))
    t = js(["tenants", "create", "--id", "tailspin", "--name", "Tailspin",
            "--plan", "M365_E3", "--addon", "customer_lockbox", "--cloud",
            "gcc"])
    check(t["addons"] == ["customer_lockbox"] and t["cloud"] == "gcc",
          "tenant %s" % short(t))
    for uid, realm, roles, extra in (
            ("eng1", "provider", ["support_engineer"], []),
            ("mgr1", "provider", ["support_manager"], []),
            ("gw1", "provider", ["gateway"], ["--service"]),
            ("ga1", "contoso", ["global_admin"], []),
            ("ap1", "contoso", ["lockbox_approver"], []),
            ("rd1", "contoso", ["reader"], [])):
        args = ["users", "create", "--id", uid, "--realm", realm,
                "--email", "%s@%s.example" % (uid, realm),
                "--display-name", "User " + uid] + extra
        for r in roles:
            args += ["--role", r]
        u = js(args)
        check(u["id"] == uid and u["realm"] == realm and u["roles"] == roles,
              "user %s" % short(u))
        check(u["token"].startswith("lbt_"), "no token in %s" % short(u))
        check(u["type"] == ("service" if extra else "user"), "type %r"
              % u["type"])
        TOK[uid] = u["token"]
    lst = js(["tenants", "list"])
    check({"contoso", "tailspin"} <= {x["id"] for x in items(lst)},
          "tenants list %s" % short(lst))
    out, _ = run(["tenants", "list"])
    check("contoso" in out and "tailspin" in out, "table: %s" % short(out))


def test_settings():
    s = js(["settings", "set", "--enable", "--approver", "ga1", "--approver",
            "ap1", "--notification-email", "lockbox@contoso.example",
            "--retention-days", "120"], who="ga1")
    check(s["enabled"] is True and s["approvers"] == ["ga1", "ap1"]
          and s["notification_emails"] == ["lockbox@contoso.example"]
          and s["audit_retention_days"] == 120, "settings %s" % short(s))
    g = js(["settings", "get"], who="ga1")
    check(g == s, "settings get %s != set %s" % (short(g), short(s)))
    g = js(["settings", "get"], who="admin", tenant="contoso")
    check(g == s, "settings get as admin %s" % short(g))
    out, _ = run(["settings", "get"], who="rd1")
    check("ga1" in out and "ap1" in out, "settings table: %s" % short(out))
    _, err = run(["settings", "set", "--retention-days", "89"], who="ga1",
                 want=7)
    check_err(err, "invalid_retention", 422)
    _, err = run(["settings", "set", "--approver", "rd1"], who="ga1", want=7)
    check_err(err, "approver_role_required", 422)
    _, err = run(["settings", "set", "--retention-days", "200"], who="rd1",
                 want=4)
    check_err(err, "forbidden", 403)
    check(js(["settings", "get"], who="ga1") == s, "refused sets changed it")


def test_cases():
    c = js(["cases", "open", "--title", "Mailbox does not sync"], who="ga1")
    check(c["status"] == "open" and c["assigned_to"] is None
          and c["tenant"] == "contoso", "case %s" % short(c))
    a = js(["cases", "assign", c["id"], "--engineer", "eng1"], who="mgr1",
           tenant="contoso")
    check(a["assigned_to"] == "eng1", "assign %s" % short(a))
    g = js(["cases", "get", c["id"]], who="ga1")
    check(g["assigned_to"] == "eng1", "get %s" % short(g))
    out, _ = run(["cases", "list"], who="ga1")
    check(c["id"] in out, "cases table lacks the id: %s" % short(out))
    IDS["case"] = c["id"]


def create(duration=None, want=0):
    args = ["requests", "create", "--case", IDS["case"], "--workload",
            "exchange", "--resource", "mailbox/alice@contoso.example",
            "--resource", "site/finance", "--justification",
            "Customer ticket 4711: mailbox does not sync"]
    if duration:
        args += ["--duration", duration]
    if want:
        return run(args, who="eng1", tenant="contoso", want=want)
    return js(args, who="eng1", tenant="contoso")


def test_request_lifecycle():
    r = create("4h")
    check(r["status"] == "pending" and r["duration_minutes"] == 240
          and r["resources"] == ["mailbox/alice@contoso.example",
                                 "site/finance"]
          and r["requester"] == "eng1", "request %s" % short(r))
    out, _ = run(["requests", "list", "--status", "pending"], who="ga1")
    line = [x for x in out.splitlines() if r["id"] in x]
    check(line and "pending" in line[0], "pending table lacks %s: %s"
          % (r["id"], short(out)))
    a = js(["requests", "approve", r["id"], "--duration", "2h", "--comment",
            "ok for two hours"], who="ga1")
    check(a["status"] == "approved", "approve %s" % short(a))
    d = a["decisions"][0]
    check(d["duration_minutes"] == 120 and d["comment"] == "ok for two hours",
          "decision %s" % short(d))
    check(ts_ms(a["access_expires_at"]) - ts_ms(a["access_starts_at"])
          == 120 * MIN_MS, "window %s" % short(a))
    out, _ = run(["requests", "get", r["id"]], who="ap1")
    check(r["id"] in out and "approved" in out, "request block: %s"
          % short(out))
    out, err = run(["requests", "approve", r["id"]], who="ap1", want=6)
    check_err(err, "invalid_state", 409)
    check(out.strip() == "", "stdout on error: %s" % short(out))
    v = js(["requests", "revoke", r["id"], "--comment", "done"], who="ap1")
    check(v["status"] == "revoked", "revoke %s" % short(v))
    IDS["revoked"] = r["id"]


def test_deny_and_cancel():
    r = create()
    check(r["duration_minutes"] == 720, "default duration %r"
          % r["duration_minutes"])
    d = js(["requests", "deny", r["id"], "--comment", "not now"], who="ap1")
    check(d["status"] == "denied", "deny %s" % short(d))
    r2 = create("90m")
    check(r2["duration_minutes"] == 90, "90m -> %r" % r2["duration_minutes"])
    c = js(["requests", "cancel", r2["id"]], who="eng1", tenant="contoso")
    check(c["status"] == "cancelled", "cancel %s" % short(c))
    _, err = run(["requests", "cancel", r2["id"]], who="eng1",
                 tenant="contoso", want=6)
    check_err(err, "invalid_state", 409)
    IDS["denied"], IDS["cancelled"] = r["id"], r2["id"]


def test_lists():
    lst = items(js(["requests", "list"], who="ga1"))
    got = {x["id"]: x["status"] for x in lst}
    for k in ("revoked", "denied", "cancelled"):
        check(got.get(IDS[k]) == k, "list: %s is %r, expected %s"
              % (IDS[k], got.get(IDS[k]), k))
    den = items(js(["requests", "list", "--status", "denied"], who="ga1"))
    check([x["id"] for x in den] == [IDS["denied"]], "denied list %s"
          % short(den))
    for who, args in (("admin", ["requests", "list", "--all-tenants"]),
                      ("mgr1", ["requests", "list"]),
                      ("eng1", ["requests", "list"])):
        ids = {x["id"] for x in items(js(args, who=who))}
        check(IDS["denied"] in ids, "%s %s lacks the request"
              % (who, " ".join(args)))
    out, _ = run(["requests", "list"], who="admin", tenant="contoso")
    for k in ("revoked", "denied", "cancelled"):
        line = [x for x in out.splitlines() if IDS[k] in x]
        check(line and k in line[0], "table row of %s lacks %s: %s"
              % (IDS[k], k, short(out)))


def test_exit_codes():
    _, err = run(["me"], token=new_token(), want=3)
    check_err(err, "unauthenticated", 401)
    r = create()
    _, err = run(["requests", "approve", r["id"]], who="rd1", want=4)
    check_err(err, "forbidden", 403)
    _, err = run(["requests", "get", "req_doesnotexist"], who="ga1", want=5)
    check_err(err, "not_found", 404)
    _, err = run(["tenants", "create", "--id", "contoso", "--name", "C",
                  "--plan", "M365_E5"], want=6)
    check_err(err, "already_exists", 409)
    for dur in ("30m", "13h", "59"):
        _, err = create(dur, want=7)
        check_err(err, "invalid_duration", 422)
    _, err = run(["requests", "approve", r["id"], "--duration", "13h"],
                 who="ga1", want=7)
    check_err(err, "invalid_duration", 422)
    _, err = run(["tenants", "create", "--id", "Bad", "--name", "B", "--plan",
                  "M365_E5"], want=7)
    check_err(err, "invalid_value", 422)
    run(["frobnicate"], want=1)
    run(["cases", "open"], who="ga1", want=1)
    run(["requests", "approve"], who="ga1", want=1)
    run(["requests", "approve", r["id"], "--duration", "soon"], who="ga1",
        want=1)
    run(["me"], url="http://127.0.0.1:%d" % free_port(), want=2)
    g = js(["requests", "get", r["id"]], who="ga1")
    check(g["status"] == "pending" and g["decisions"] == [],
          "refused CLI calls changed the request: %s" % short(g))


def test_health_commands():
    out, _ = run(["health"], token="")
    check("ok" in out, "health: %s" % short(out))
    out, _ = run(["ready"])
    check("ready" in out, "ready: %s" % short(out))
    out, _ = run(["metrics"])
    check("# TYPE" in out, "metrics: %s" % short(out))


def test_users_and_tokens():
    lst = items(js(["users", "list", "--realm", "contoso"]))
    check({"ga1", "ap1", "rd1"} <= {u["id"] for u in lst}, "users list %s"
          % short(lst))
    check(all("token" not in u for u in lst), "users list shows tokens")
    u = js(["users", "get", "contoso", "ga1"], who="ga1")
    check(u["id"] == "ga1" and "token" not in u, "users get %s" % short(u))
    t = js(["tokens", "create", "contoso", "rd1", "--label", "laptop"],
           who="rd1")
    check(t["token"].startswith("lbt_") and t["label"] == "laptop",
          "token %s" % short(t))
    rc, out, _ = cli(["me", "--json"], token=t["token"], url=D.url)
    check(rc == 0 and json.loads(out)["id"] == "rd1", "the new token: %d %s"
          % (rc, short(out)))
    lst = items(js(["tokens", "list", "contoso", "rd1"], who="rd1"))
    check(t["id"] in {x["id"] for x in lst} and
          all("token" not in x for x in lst), "tokens list %s" % short(lst))
    v = js(["tokens", "revoke", t["id"]], who="rd1")
    check(v["revoked_at"] is not None, "revoke %s" % short(v))
    rc, _, err = cli(["me"], token=t["token"], url=D.url)
    check(rc == 3, "revoked token: exit %d" % rc)
    check_err(err, "unauthenticated", 401)


def test_provider_settings():
    run(["provider-settings", "set"], want=1)
    p = js(["provider-settings", "set", "--require-internal-approval",
            "true"])
    try:
        check(p == {"require_internal_approval": True, "emergency_cap": 3,
                    "emergency_window_hours": 24}, "set %s" % short(p))
        check(js(["provider-settings", "get"], who="mgr1") == p, "get")
        r = create()
        check(r["status"] == "pending_internal", "status %r" % r["status"])
        run(["requests", "approve", r["id"]], who="ga1", want=4)
        a = js(["requests", "approve", r["id"], "--comment", "internal ok"],
               who="mgr1", tenant="contoso")
        check(a["status"] == "pending", "after mgr1: %r" % a["status"])
        b = js(["requests", "approve", r["id"]], who="ga1")
        check(b["status"] == "approved", "after ga1: %r" % b["status"])
    finally:
        run(["provider-settings", "set", "--require-internal-approval",
             "false"])


def test_tables_are_terminal_safe():
    # The daemon refuses C0 controls but \t \n \r in free text (422); the
    # C1 CSI (U+009B) and \r \n pass, so the CLI must defuse them.
    evil = "\u009b31mRED\u009b0m\nInjected: line\rback\ttab"
    args = ["requests", "create", "--case", IDS["case"], "--workload",
            "exchange", "--resource", "mailbox/alice@contoso.example",
            "--justification", evil]
    r = js(args, who="eng1", tenant="contoso")
    check(r["justification"] == evil, "justification %r" % r["justification"])
    g = js(["requests", "get", r["id"]], who="ga1")
    check(g["justification"] == evil, "--json changed the text")
    for cmd in (["requests", "get", r["id"]], ["requests", "list"]):
        out, _ = run(cmd, who="ga1")
        check(not any(c in out for c in "\u009b\x1b\r"),
              "%s prints control characters: %r" % (" ".join(cmd), out[:300]))
        check(not any(x.startswith("Injected") for x in out.splitlines()),
              "%s lets the text start a new line: %r" % (" ".join(cmd),
                                                        out[:300]))


def test_exit_8_when_storage_is_unavailable():
    import sqlite3
    con = sqlite3.connect(D.db_path, timeout=5.0, isolation_level=None)
    try:
        con.execute("BEGIN EXCLUSIVE")
        _, err = run(["cases", "open", "--title", "during the lock"],
                     who="ga1", want=8)
    finally:
        con.execute("ROLLBACK")
        con.close()
    check_err(err, "unavailable", 503)
    titles = [c["title"] for c in items(js(["cases", "list"], who="ga1"))]
    check("during the lock" not in titles, "the refused case was stored")
