"""Break-glass end to end (docs/break-glass.md, docs/api.md "Emergency
access"): incidents, emergency access under a critical incident, the access
check honouring the emergency grant and recording each access as
CustomerLockboxEmergencyAccess, the tenant's view and its 48-hour notice
(email through the SMTP sink of test_notify, webhooks to a loopback
receiver), the window's end on the test clock, every guard rail refusing
with its code and leaving the refused attempt on the tenant's audit trail,
the incident's close ending its accesses at once, the tenant's objection and
the provider's answer, and the notice flagged overdue when delivery keeps
failing (SMTP pointing at a closed port)."""

import json
import os
import shutil
import sqlite3
import tempfile

import harness
import test_notify
from harness import HOUR_MS, MIN_MS, SLOW, check, expect, poll, short, ts_ms

W = None
SMTP = None
HOOK = None
STATE = {}

ALICE = "mailbox/alice@contoso.example"
ALICE_URI = "/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml"
BOB_URI = "/content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml"
RT = "CustomerLockboxEmergencyAccess"
NOTICE_MS = 48 * HOUR_MS


# ------------------------------------------------------------- helpers


def audit(db_path, chain, where="1=1", args=()):
    """The audit records of a chain (read-only), oldest first."""
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=5.0 * SLOW)
    try:
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute(
            "SELECT seq, record_type, operation, actor_id, object_id, result, details"
            " FROM audit WHERE chain = ? AND " + where + " ORDER BY seq",
            (chain,) + tuple(args))]
    finally:
        con.close()
    for r in rows:
        r["details"] = json.loads(r["details"])
    return rows


def records(w, chain, op, obj=None):
    where, args = "operation = ?", [op]
    if obj is not None:
        where += " AND object_id = ?"
        args.append(obj)
    return audit(w.d.db_path, chain, where, args)


def setup_world(w):
    for uid in ("im2", "im3"):
        w.create_user("provider", uid, ["incident_manager"])


def declare(w, tenants, severity="critical", who="im1", status=201, code=None):
    return expect(w.call("POST", "/v1/incidents", who,
                         {"title": "Mail flow outage", "severity": severity,
                          "tenants": list(tenants)}), status, code)


def request(w, incident, tenant="contoso", resources=(ALICE,), who="im1",
            status=201, code=None, **more):
    b = {"incident": incident, "tenant": tenant, "workload": "exchange",
         "resources": list(resources),
         "justification": "Mail flow down for the whole tenant; need the queue"}
    b.update(more)
    return expect(w.call("POST", "/v1/emergency-access", who, b), status, code)


def act(w, eid, action, who, body=None, status=200, code=None):
    return expect(w.call("POST", "/v1/emergency-access/%s/%s" % (eid, action), who,
                         body if body is not None else {}), status, code)


def started(w, incident, **kw):
    """An emergency access requested by im1 and approved by im2."""
    e = request(w, incident, **kw)
    return act(w, e["id"], "approve", "im2")


def grant(w, eid, who="im1"):
    g = expect(w.call("GET", "/v1/emergency-access/%s/grant" % eid, who), 200)
    check(isinstance(g.get("token"), str) and g["token"].count(".") == 2,
          "grant is not a compact JWS: %s" % short(g))
    check(g["emergency_access_id"] == eid and g["emergency"] is True,
          "grant answer: %s" % short(g))
    return g["token"]


def authz(w, token, uri=ALICE_URI):
    return w.c.call("GET", "/v1/authz", headers={
        "X-Lockbox-Gateway-Token": w.tok("gw1"), "X-Original-URI": uri,
        "X-Original-Method": "GET", "Authorization": "Bearer " + token})


def access_records(w, eid):
    return [r for r in audit(w.d.db_path, "contoso", "operation = 'AccessContent'")
            if r["details"].get("request_id") == eid]


def refused_record(w, tenant, reason, since_seq):
    recs = [r for r in records(w, tenant, "RefuseEmergencyAccess")
            if r["seq"] > since_seq]
    check(len(recs) == 1, "expected one RefuseEmergencyAccess record for %s, got %s"
          % (reason, short(recs)))
    r = recs[0]
    check(r["record_type"] == RT and r["result"] == "failure"
          and r["details"].get("reason") == reason,
          "refused attempt record: %s" % short(r))
    return r


def head_seq(w, chain):
    recs = audit(w.d.db_path, chain)
    return recs[-1]["seq"] if recs else 0


# -------------------------------------------------------------- module


def setup_module():
    global W, SMTP, HOOK
    HOOK = test_notify.Hook()
    STATE["dir"] = tempfile.mkdtemp(prefix="lockbox-e2e-emergency-")
    SMTP = test_notify.Sink(harness.free_port(), os.path.join(STATE["dir"], "mail"))
    SMTP.start()
    d = harness.Daemon("emergency")
    try:
        d.start(extra=["--smtp-url", "smtp://127.0.0.1:%d" % SMTP.port,
                       "--mail-from", "lockbox@provider.example",
                       "--notify-poll-ms", "100",
                       "--notify-backoff-base-ms", "200",
                       "--notify-backoff-max-ms", "1000"])
        W = harness.standard_world(d)
        setup_world(W)
        expect(W.call("POST", "/v1/tenants/contoso/webhooks", "contoso/ga1",
                      {"url": HOOK.url("/contoso")}), 201)
    except BaseException:
        d.close()
        raise


def teardown_module():
    problems = []
    if W is not None:
        problems = W.d.close()
    if SMTP is not None:
        SMTP.stop()
    if HOOK is not None:
        HOOK.close()
    if not harness.KEEP and STATE.get("dir"):
        shutil.rmtree(STATE["dir"], ignore_errors=True)
    check(not problems, "; ".join(problems))


# --------------------------------------------------------------- tests


def test_incident_declare_list_get():
    inc = declare(W, ["contoso", "fabrikam"])
    check(inc["status"] == "open" and inc["severity"] == "critical"
          and inc["tenants"] == ["contoso", "fabrikam"] and inc["declared_by"] == "im1"
          and inc["ended_at"] is None, "incident: %s" % short(inc))
    ts_ms(inc["started_at"], "started_at")
    declare(W, ["contoso"], who="eng1", status=403, code="forbidden")
    declare(W, ["contoso"], who="admin", status=403, code="forbidden")
    declare(W, ["contoso"], severity="sev1", status=400, code="invalid_field")
    declare(W, ["nope"], status=422, code="invalid_value")
    declare(W, [], status=(400, 422))
    got = expect(W.call("GET", "/v1/incidents/%s" % inc["id"], "eng1"), 200)
    check(got["id"] == inc["id"] and got["emergency_access"] == [], "get: %s" % short(got))
    items = W.list_all("/v1/incidents?status=open", "mgr1")
    check(inc["id"] in [i["id"] for i in items], "list lacks the incident")
    expect(W.call("GET", "/v1/incidents", "contoso/ga1"), 403, "forbidden")
    rec = records(W, "", "DeclareIncident", inc["id"])
    check(len(rec) == 1 and rec[0]["record_type"] == RT, "DeclareIncident record: %s"
          % short(rec))


def test_emergency_access_end_to_end():
    inc = declare(W, ["contoso"])
    e = request(W, inc["id"])
    check(e["status"] == "pending_approval" and e["duration_minutes"] == 240
          and e["requester"] == "im1" and e["approver"] is None
          and e["starts_at"] is None and e["notification_due_at"] is None,
          "new emergency access: %s" % short(e))
    eid = e["id"]
    check(len(records(W, "contoso", "RequestEmergencyAccess", eid)) == 1,
          "no RequestEmergencyAccess record")
    # Nobody approves their own; an engineer never approves.
    act(W, eid, "approve", "im1", status=403, code="self_approval")
    # (An engineer sees only their own accesses: another's answers 404.)
    act(W, eid, "approve", "eng1", status=404, code="not_found")
    act(W, eid, "approve", "mgr1", status=403, code="forbidden")
    expect(W.call("GET", "/v1/emergency-access/%s/grant" % eid, "im1"), 409,
           "invalid_state")
    a = act(W, eid, "approve", "im2")
    check(a["status"] == "active" and a["approver"] == "im2", "approve: %s" % short(a))
    s, x = ts_ms(a["starts_at"]), ts_ms(a["expires_at"])
    check(x - s == 240 * MIN_MS, "window %d ms, expected 4 h" % (x - s))
    check(ts_ms(a["notification_due_at"]) == s + NOTICE_MS,
          "notification_due_at %s is not start + 48 h" % a["notification_due_at"])
    check(a["notice_overdue"] is False, "overdue at once: %s" % short(a))
    act(W, eid, "approve", "im3", status=409, code="invalid_state")
    check(len(records(W, "contoso", "ApproveEmergencyAccess", eid)) == 1,
          "no ApproveEmergencyAccess record")

    # The grant, honoured by the access check and recorded as emergency access.
    expect(W.call("GET", "/v1/emergency-access/%s/grant" % eid, "im2"), 403, "forbidden")
    tok = grant(W, eid)
    r = authz(W, tok)
    check(r.status == 200 and r.body.get("decision") == "allow", "authz: %s" % (r,))
    recs = access_records(W, eid)
    check(len(recs) == 1 and recs[0]["record_type"] == RT
          and recs[0]["result"] == "allowed", "access record: %s" % short(recs))
    r = authz(W, tok, BOB_URI)
    check(r.status == 403, "bob's mailbox under alice's grant: %s" % (r,))
    recs = access_records(W, eid)
    check(len(recs) == 2 and recs[1]["record_type"] == RT
          and recs[1]["result"] == "denied", "refused access record: %s" % short(recs))

    # The tenant sees it, with its notice; another tenant does not.
    for who in ("contoso/ga1", "contoso/ca1", "contoso/rd1"):
        items = W.list_all("/v1/tenants/contoso/emergency-access", who)
        mine = [i for i in items if i["id"] == eid]
        check(len(mine) == 1, "%s does not see the access" % who)
        got = mine[0]
        for k in ("incident", "requester", "approver", "resources", "justification",
                  "starts_at", "expires_at", "status", "notification_due_at",
                  "notification_delivered_at", "notice_overdue"):
            check(k in got, "tenant view lacks %s: %s" % (k, short(got)))
        check(got["incident"] == inc["id"] and got["approver"] == "im2"
              and got["status"] == "active", "tenant view: %s" % short(got))
    expect(W.call("GET", "/v1/tenants/contoso/emergency-access/%s" % eid, "fabrikam/ga1"),
           404, "not_found")
    expect(W.call("GET", "/v1/tenants/fabrikam/emergency-access/%s" % eid, "admin"),
           404, "not_found")
    expect(W.call("GET", "/v1/emergency-access/%s" % eid, "eng1"), 404, "not_found")

    # The notice: email to the approvers and the shared mailbox, a webhook.
    def mails():
        got = {}
        for env, msg, raw in SMTP.messages():
            if "emergency" in str(msg["Subject"]).lower():
                for rcpt in env.get("rcpt_tos", env.get("to", [])):
                    got[rcpt] = msg
        return got if {"ga1@contoso.example", "ap1@contoso.example",
                       "lockbox@contoso.example"} <= set(got) else None
    poll(mails, "the emergency notice emails", timeout=20 * SLOW)

    def hooks():
        for h in HOOK.deliveries("/contoso"):
            b = json.loads(h["body"])
            if b.get("type") == "emergency.started" and \
                    json.dumps(b).find(eid) >= 0:
                return b
        return None
    poll(hooks, "the emergency.started webhook", timeout=20 * SLOW)

    def delivered():
        g = expect(W.call("GET", "/v1/tenants/contoso/emergency-access/%s" % eid,
                          "contoso/ga1"), 200)
        return g if g["notification_delivered_at"] else None
    g = poll(delivered, "notification_delivered_at", timeout=20 * SLOW)
    check(ts_ms(g["notification_delivered_at"]) >= s, "delivered before the start")

    # The window ends: every access refused, the expiry recorded.
    W.d.set_clock(W.d.offset_ms + 240 * MIN_MS + 1000)
    r = authz(W, tok)
    check(r.status == 403, "access after the window: %s" % (r,))
    g = expect(W.call("GET", "/v1/emergency-access/%s" % eid, "im2"), 200)
    check(g["status"] == "expired" and g["end_reason"] == "expired", "after: %s" % short(g))
    poll(lambda: records(W, "contoso", "ExpireEmergencyAccess", eid),
         "the ExpireEmergencyAccess record")
    expect(W.call("GET", "/v1/emergency-access/%s/grant" % eid, "im1"), 409,
           "invalid_state")
    act(W, eid, "end", "im1", status=409, code="invalid_state")
    STATE["expired"] = eid


def test_objection_and_review():
    eid = STATE.get("expired")
    check(eid is not None, "needs test_emergency_access_end_to_end")
    base = "/v1/tenants/contoso/emergency-access/%s/object" % eid
    expect(W.call("POST", base, "contoso/rd1", {"comment": "no"}), 403, "forbidden")
    expect(W.call("POST", base, "contoso/ap1", {"comment": "no"}), 403, "forbidden")
    expect(W.call("POST", base, "admin", {"comment": "no"}), 403, "forbidden")
    expect(W.call("POST", "/v1/tenants/fabrikam/emergency-access/%s/object" % eid,
                  "fabrikam/ga1", {"comment": "no"}), 404, "not_found")
    act(W, eid, "review", "im2", {"response": "early"}, status=409, code="invalid_state")
    o = expect(W.call("POST", base, "contoso/ca1",
                      {"comment": "Why was Alice's mailbox opened?"}), 200)
    check(o["review_status"] == "open" and o["objection"]["by"] == "ca1"
          and o["objection"]["comment"] == "Why was Alice's mailbox opened?"
          and o["review"] is None, "objection: %s" % short(o))
    expect(W.call("POST", base, "contoso/ga1", {"comment": "again"}), 409, "invalid_state")
    act(W, eid, "review", "eng1", {"response": "x"}, status=404, code="not_found")
    act(W, eid, "review", "mgr1", {"response": "x"}, status=403, code="forbidden")
    rv = act(W, eid, "review", "im2", {"response": "Queue was stuck on her mailbox."})
    check(rv["review_status"] == "answered" and rv["review"]["by"] == "im2",
          "review: %s" % short(rv))
    g = expect(W.call("GET", "/v1/tenants/contoso/emergency-access/%s" % eid,
                      "contoso/ga1"), 200)
    check(g["objection"]["comment"] == o["objection"]["comment"]
          and g["review"]["response"] == "Queue was stuck on her mailbox.",
          "tenant view: %s" % short(g))
    for op in ("ObjectEmergencyAccess", "AnswerEmergencyReview"):
        recs = records(W, "contoso", op, eid)
        check(len(recs) == 1 and recs[0]["record_type"] == RT, "%s record: %s"
              % (op, short(recs)))


def test_refusals_guard_rails():
    high = declare(W, ["contoso"], severity="high")
    other = declare(W, ["fabrikam"])
    closed = declare(W, ["contoso"])
    expect(W.call("POST", "/v1/incidents/%s/close" % closed["id"], "im2", {}), 200)
    cases = [
        (high["id"], "contoso", [ALICE], "incident_not_critical"),
        (other["id"], "contoso", [ALICE], "tenant_not_affected"),
        (closed["id"], "contoso", [ALICE], "incident_closed"),
    ]
    for inc, tenant, res, code in cases:
        seq = head_seq(W, tenant)
        request(W, inc, tenant=tenant, resources=res, status=422, code=code)
        refused_record(W, tenant, code, seq)

    # A scope the tenant denied within 7 days, either way of covering.
    crit = declare(W, ["contoso"])
    rq = W.create_request(tenant="contoso", resources=["mailbox/bob@contoso.example"])
    W.decide("contoso", rq["id"], "deny", "contoso/ga1", {"comment": "not Bob"})
    for res in (["mailbox/bob@contoso.example"], ["mailbox/bob@contoso.example/inbox"],
                ["mailbox"]):
        seq = head_seq(W, "contoso")
        request(W, crit["id"], resources=res, status=422, code="tenant_denied_scope")
        refused_record(W, "contoso", "tenant_denied_scope", seq)
    request(W, crit["id"], resources=["mailbox/bobby@contoso.example"])

    # Durations.
    request(W, crit["id"], duration_minutes=59, status=422, code="invalid_duration")
    request(W, crit["id"], duration_minutes=721, status=422, code="invalid_duration")
    e = request(W, crit["id"], duration_minutes=720)
    check(e["duration_minutes"] == 720, "720 minutes: %s" % short(e))
    request(W, crit["id"], who="mgr1", status=403, code="forbidden")
    request(W, crit["id"], who="contoso/ga1", status=403, code="forbidden")
    request(W, "inc_nope", status=404, code="not_found")

    # The cap: exactly N in the window, then refused; refusals do not count.
    expect(W.call("PATCH", "/v1/provider/settings", "admin",
                  {"emergency_cap": 2, "emergency_window_hours": 24}), 200)
    ps = expect(W.call("GET", "/v1/provider/settings", "admin"), 200)
    check(ps["emergency_cap"] == 2 and ps["emergency_window_hours"] == 24,
          "provider settings: %s" % short(ps))
    expect(W.call("PATCH", "/v1/provider/settings", "admin", {"emergency_cap": 0}), 422,
           "invalid_value")
    fab = declare(W, ["fabrikam"])
    fab_res = ["mailbox/carol@fabrikam.example"]
    request(W, fab["id"], tenant="fabrikam", resources=fab_res, who="eng1")
    request(W, fab["id"], tenant="fabrikam", resources=fab_res)
    seq = head_seq(W, "fabrikam")
    request(W, fab["id"], tenant="fabrikam", resources=fab_res, status=422,
            code="emergency_cap_reached")
    refused_record(W, "fabrikam", "emergency_cap_reached", seq)
    # After the window, the cap allows again.
    W.d.set_clock(W.d.offset_ms + 24 * HOUR_MS + 1000)
    request(W, fab["id"], tenant="fabrikam", resources=fab_res)
    expect(W.call("PATCH", "/v1/provider/settings", "admin", {"emergency_cap": 10}), 200)
    # Nothing refused was stored as an access.
    items = W.list_all("/v1/emergency-access?tenant=fabrikam", "admin")
    check(len(items) == 3 and all(i["status"] == "pending_approval" for i in items),
          "fabrikam accesses: %s" % short(items))


def test_close_incident_ends_access_at_once():
    inc = declare(W, ["contoso"])
    a = started(W, inc["id"])
    pending = request(W, inc["id"], who="eng1")
    tok = grant(W, a["id"])
    check(authz(W, tok).status == 200, "access before the close")
    expect(W.call("POST", "/v1/incidents/%s/close" % inc["id"], "eng1", {}), 403,
           "forbidden")
    c = expect(W.call("POST", "/v1/incidents/%s/close" % inc["id"], "im3", {}), 200)
    check(c["status"] == "closed" and c["closed_by"] == "im3"
          and set(c["ended_emergency_access"]) == {a["id"], pending["id"]},
          "close: %s" % short(c))
    r = authz(W, tok)
    check(r.status == 403, "access right after the close: %s" % (r,))
    for eid in (a["id"], pending["id"]):
        g = expect(W.call("GET", "/v1/emergency-access/%s" % eid, "admin"), 200)
        check(g["status"] == "ended" and g["end_reason"] == "incident_closed",
              "after close: %s" % short(g))
        check(len(records(W, "contoso", "EndEmergencyAccess", eid)) == 1,
              "no EndEmergencyAccess record for %s" % eid)
    check(len(records(W, "", "CloseIncident", inc["id"])) == 1, "no CloseIncident record")
    expect(W.call("POST", "/v1/incidents/%s/close" % inc["id"], "im3", {}), 409,
           "invalid_state")
    act(W, pending["id"], "approve", "im2", status=409, code="invalid_state")


def test_end_by_requester():
    inc = declare(W, ["contoso"])
    a = started(W, inc["id"])
    tok = grant(W, a["id"])
    # Live grants are reloaded at start: the active access survives a restart.
    W.d.restart()
    r = authz(W, tok)
    check(r.status == 200, "emergency grant after a restart: %s" % (r,))
    check(access_records(W, a["id"])[-1]["record_type"] == RT, "record type after restart")
    act(W, a["id"], "end", "eng2", status=404, code="not_found")
    act(W, a["id"], "end", "mgr1", status=403, code="forbidden")
    e = act(W, a["id"], "end", "im1")
    check(e["status"] == "ended" and e["ended_by"] == "im1"
          and e["end_reason"] == "ended_by_provider", "end: %s" % short(e))
    check(authz(W, tok).status == 403, "access after the end")


def test_cli_break_glass():
    env = {"url": W.d.url}
    rc, out, err = harness.cli(["--json", "incidents", "declare", "--title", "CLI outage",
                                "--severity", "critical", "--tenant", "contoso",
                                "--tenant", "fabrikam"], token=W.tok("im1"), **env)
    check(rc == 0, "incidents declare: %s %s" % (out, err))
    inc = json.loads(out)
    check(inc["tenants"] == ["contoso", "fabrikam"], "declared: %s" % short(inc))
    rc, out, err = harness.cli(["--json", "emergency", "request", "--incident", inc["id"],
                                "--tenant", "contoso", "--workload", "exchange",
                                "--resource", ALICE, "--justification", "cli",
                                "--duration", "2h"], token=W.tok("im1"), **env)
    check(rc == 0, "emergency request: %s %s" % (out, err))
    e = json.loads(out)
    check(e["duration_minutes"] == 120, "requested: %s" % short(e))
    rc, out, err = harness.cli(["emergency", "approve", e["id"]], token=W.tok("im1"), **env)
    check(rc == 4, "self-approval via the CLI: exit %d %s" % (rc, err))
    rc, out, err = harness.cli(["emergency", "approve", e["id"]], token=W.tok("im2"), **env)
    check(rc == 0 and "active" in out, "approve: %s %s" % (out, err))
    rc, out, err = harness.cli(["--json", "emergency", "list"],
                               token=W.tok("contoso/ga1"), **env)
    check(rc == 0 and e["id"] in out, "tenant list: %s %s" % (out, err))
    rc, out, err = harness.cli(["emergency", "get", e["id"]], token=W.tok("admin"), **env)
    check(rc == 0 and "NOTICE DUE" in out, "get: %s %s" % (out, err))
    rc, out, err = harness.cli(["emergency", "end", e["id"]], token=W.tok("im1"), **env)
    check(rc == 0 and "ended" in out, "end: %s %s" % (out, err))
    rc, out, err = harness.cli(["incidents", "close", inc["id"]], token=W.tok("im2"), **env)
    check(rc == 0 and "closed" in out, "close: %s %s" % (out, err))


def test_notice_overdue_when_delivery_fails():
    """SMTP points at a closed port: the notice is never delivered.  At
    start + 48 h minus a margin it is not overdue; past start + 48 h it is,
    and an EmergencyNoticeOverdue record is written.  (The exact
    millisecond, 47:59:59.999 vs 48:00:00.000, is tested on the pure rule
    in tests/unit/test_emergency.c: the test clock is an offset from a
    running clock.)"""
    d = harness.Daemon("emergency-overdue")
    try:
        d.start(extra=["--smtp-url", "smtp://127.0.0.1:%d" % harness.free_port(),
                       "--mail-from", "lockbox@provider.example",
                       "--notify-poll-ms", "100",
                       "--notify-backoff-base-ms", "200",
                       "--notify-backoff-max-ms", "1000"])
        w = harness.standard_world(d)
        setup_world(w)
        inc = declare(w, ["contoso"])
        a = started(w, inc["id"])
        eid, s = a["id"], ts_ms(a["starts_at"])
        due = s + NOTICE_MS
        check(ts_ms(a["notification_due_at"]) == due, "due: %s" % short(a))

        def view():
            return expect(w.call("GET", "/v1/tenants/contoso/emergency-access/%s" % eid,
                                 "contoso/ga1"), 200)

        def overdue_recs():
            return [r for r in audit(d.db_path, "contoso",
                                     "operation = 'EmergencyNoticeOverdue'")
                    if json.dumps(r["details"]).find(eid) >= 0 or r["object_id"] == eid]

        # Just before the deadline (daemon clock = due - 20 s): not overdue.
        d.set_clock(due - 20000 - harness.now_ms())
        g = view()
        check(g["notice_overdue"] is False and g["notification_delivered_at"] is None,
              "before the deadline: %s" % short(g))
        check(not overdue_recs(), "overdue recorded before the deadline")
        # Just past it: overdue, and on the record.
        d.set_clock(due + 2000 - harness.now_ms())
        g = view()
        check(g["notice_overdue"] is True and g["notification_delivered_at"] is None,
              "after the deadline: %s" % short(g))
        recs = poll(overdue_recs, "an EmergencyNoticeOverdue record", timeout=15 * SLOW)
        check(all(r["result"] == "failure" for r in recs), "overdue records: %s"
              % short(recs))
    finally:
        problems = d.close()
    check(not problems, "; ".join(problems))
