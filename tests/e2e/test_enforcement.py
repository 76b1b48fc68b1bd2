"""Enforcement end to end: the real lockboxd behind the real nginx, configured
from examples/nginx/lockbox.conf.template (docs/api.md, "Enforcement: grants
and the access check").  Every access decision must leave exactly one
CustomerLockboxAccess audit record, durable before the answer; the tests
read the daemon's SQLite database (read-only) right after each answer."""

import base64
import json
import os
import subprocess
import sys
import time

import harness
import nginxctl
from harness import (MIN_MS, SLOW, Fail, check, expect, now_ms, poll, short,
                     start_world, ts_ms)
from nginxctl import audit_mark, audit_since, json_of, request

W = None
NX = None
GW = None

_tag = os.urandom(6).hex()


def _mail(who, tenant, n=1):
    return ("From: %s\r\nTo: %s@%s.example\r\nSubject: message %d\r\n\r\n"
            "secret-%s-%s-%s-%d\r\n" % (who, who, tenant, n, _tag, tenant,
                                         who, n)).encode()


ALICE_RES = "mailbox/alice@contoso.example"
CONTENT = {
    "contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml":
        _mail("alice", "contoso"),
    "contoso/exchange/mailbox/alice@contoso.example/inbox/2.eml":
        _mail("alice", "contoso", 2) + bytes(range(256)) * 64,
    "contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml":
        _mail("bob", "contoso"),
    "contoso/exchange/mailbox/alice@contoso.example.evil/inbox/1.eml":
        _mail("alice.evil", "contoso"),
    "contoso/sharepoint/mailbox/alice@contoso.example/inbox/1.eml":
        _mail("alice-sp", "contoso"),
    "fabrikam/exchange/mailbox/alice@contoso.example/inbox/1.eml":
        _mail("alice", "fabrikam"),
}
METADATA = {
    "contoso/exchange/mailbox/alice@contoso.example/stats.json":
        b'{"items": 2, "bytes": 16555}\n',
}
ALICE = "/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml"
ALICE_BYTES = CONTENT["contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml"]
ALICE_PATH = ALICE_RES + "/inbox/1.eml"
META = "/metadata/contoso/exchange/mailbox/alice@contoso.example/stats.json"
SECRETS = [b"secret-" + _tag.encode()]     # in every content file


def setup_module():
    global W, NX, GW
    check(nginxctl.available(), "nginx (%s) or examples/nginx/render.sh "
          "missing" % nginxctl.NGINX)
    W = start_world("enforcement")
    GW = W.tok("gw1")
    NX = nginxctl.Nginx(W.d.port, GW, name="nginx-enforcement")
    nginxctl.write_tree(NX.content_root, CONTENT)
    nginxctl.write_tree(NX.metadata_root, METADATA)
    NX.start()


def teardown_module():
    problems = []
    if NX is not None:
        NX.close()
    if W is not None:
        problems = W.d.close()
    check(not problems, "; ".join(problems))


# ------------------------------------------------------------- helpers


def approved(tenant="contoso", resources=None, workload="exchange",
             duration=None, approver=None):
    """A new request of eng1, approved; returns (request, grant answer)."""
    r = W.create_request(tenant=tenant, resources=resources or [ALICE_RES],
                         workload=workload)
    body = {"comment": "ok"}
    if duration is not None:
        body["duration_minutes"] = duration
    a = W.decide(tenant, r["id"], "approve", approver or "%s/ga1" % tenant,
                 body)
    check(a["status"] == "approved", "not approved: %s" % short(a))
    g = expect(W.call("GET", W.req_path(tenant, r["id"], "grant"), "eng1"), 200)
    for k in ("token", "request_id", "tenant", "workload", "resources",
              "not_before", "expires_at"):
        check(k in g, "grant answer lacks %s: %s" % (k, short(g)))
    check(isinstance(g["token"], str) and g["token"].count(".") == 2,
          "grant token is not a compact JWS: %s" % short(g))
    check(g["request_id"] == r["id"] and g["tenant"] == tenant
          and g["workload"] == workload
          and g["resources"] == (resources or [ALICE_RES]),
          "grant answer does not match the request: %s" % short(g))
    check(g["expires_at"] == a["access_expires_at"],
          "grant expires_at %s != access_expires_at %s"
          % (g["expires_at"], a["access_expires_at"]))
    return a, g


def audited(mark, result, kind="content", reason=None, request_id=None,
            resource=None, method=None, engineer=None, secrets=()):
    """Exactly one new CustomerLockboxAccess record since `mark`, there at
    once (durable before the answer); checks its fields; returns it."""
    recs = audit_since(W.d.db_path, mark)
    if not recs:
        try:
            poll(lambda: audit_since(W.d.db_path, mark), "a late record",
                 timeout=1.0 * SLOW)
            raise Fail("the CustomerLockboxAccess record appeared only after "
                       "the answer (not durable before the answer)")
        except Fail as e:
            if "late" not in str(e):
                raise
            raise Fail("no CustomerLockboxAccess record for this decision")
    check(len(recs) == 1, "expected one CustomerLockboxAccess record, found "
          "%d: %s" % (len(recs), short([(r["operation"], r["result"],
                                         r["details"]) for r in recs], 900)))
    rec = recs[0]
    check(rec["result"] == result, "audit result %r, expected %r: %s"
          % (rec["result"], result, short(rec["details"])))
    op = {"content": "AccessContent", "metadata": "AccessMetadata"}[kind]
    check(rec["operation"] == op, "audit operation %r, expected %r"
          % (rec["operation"], op))
    check(rec["workload"] == "CustomerLockbox", "audit workload %r"
          % rec["workload"])
    d = rec["details"]
    check(isinstance(d, dict), "details is not a JSON object: %r" % (d,))
    for k, want in (("reason", reason), ("request_id", request_id),
                    ("resource", resource), ("method", method),
                    ("engineer", engineer)):
        if want is None:
            continue
        ok = d.get(k) in want if isinstance(want, (set, tuple)) \
            else d.get(k) == want
        check(ok, "audit details.%s = %r, expected %r (details %s)"
              % (k, d.get(k), want, short(d)))
    if result == "allowed":
        check(d.get("kind") == kind, "details.kind %r, expected %r"
              % (d.get("kind"), kind))
    flat = json.dumps(rec, default=str)
    for s in secrets:
        if s:
            check(s not in flat, "a token appears in the audit record: %s"
                  % short(flat))
    check("lbt_" not in flat, "an API token appears in the audit record")
    return rec


def sys_note(text):
    sys.stderr.write("note: %s\n" % text)


def nx(path, token=None, method="GET", headers=None):
    return NX.get(path, token=token, method=method, headers=headers)


def no_secret(body, what):
    for s in SECRETS:
        check(s not in body, "%s: the answer carries content bytes: %r"
              % (what, body[:200]))


def authz_get(uri, bearer=None, method="GET", gateway=None, extra=None):
    """GET /v1/authz straight at the daemon, as nginx would."""
    h = {"X-Original-URI": uri, "X-Original-Method": method}
    gw = GW if gateway is None else gateway
    if gw:
        h["X-Lockbox-Gateway-Token"] = gw
    if extra:
        h.update(extra)
    st, hd, body = request(W.d.port, "GET", "/v1/authz", token=bearer,
                           headers=h)
    return st, json_of(body), hd


def authz_post(body, gateway=None):
    st, hd, raw = request(W.d.port, "POST", "/v1/authz",
                          token=GW if gateway is None else gateway, body=body)
    return st, json_of(raw), hd


def denial(st, body, status, reasons=None, what=""):
    """A refusal of the access check: status and, for 403, the body
    {"error": {"code": "access_denied", "message", "reason"}}."""
    check(st == status, "%s: status %s, expected %s; body %s"
          % (what, st, status, short(body)))
    check(isinstance(body, dict) and isinstance(body.get("error"), dict)
          and isinstance(body["error"].get("code"), str)
          and body["error"].get("message"),
          "%s: not an error body: %s" % (what, short(body)))
    e = body["error"]
    if status == 403 and reasons != "forbidden":
        check(e["code"] == "access_denied", "%s: code %r, expected "
              "access_denied" % (what, e["code"]))
    if reasons is not None and reasons != "forbidden":
        rs = {reasons} if isinstance(reasons, str) else set(reasons)
        check(e.get("reason") in rs, "%s: reason %r, expected %s (%s)"
              % (what, e.get("reason"), sorted(rs), short(body)))
    return e


def allow(st, body, what, request_id=None, resource=None):
    check(st == 200, "%s: status %s, expected 200; body %s"
          % (what, st, short(body)))
    check(isinstance(body, dict) and body.get("decision") == "allow",
          "%s: body %s, expected decision allow" % (what, short(body)))
    for k in ("request_id", "engineer", "tenant", "resource"):
        check(k in body, "%s: allow body lacks %s: %s" % (what, k, short(body)))
    if request_id is not None:
        check(body["request_id"] == request_id, "%s: request_id %r != %r"
              % (what, body["request_id"], request_id))
    if resource is not None:
        check(body["resource"] == resource, "%s: resource %r != %r"
              % (what, body["resource"], resource))
    return body


# --------------------------------------------------------- nginx itself


def test_nginx_serves_nothing_but_the_two_prefixes():
    mark = audit_mark(W.d.db_path)
    for p in ("/", "/etc/passwd", "/_lockbox", "/v1/authz", "/v1/me",
              "/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml",
              "/CONTENT/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml"):
        st, _, body = nx(p, token=W.tok("eng1"))
        check(st == 404, "GET %s through nginx -> %s, expected 404" % (p, st))
        no_secret(body, p)
    check(audit_since(W.d.db_path, mark) == [],
          "a 404 of nginx wrote an access record")


# ----------------------------------------------------------- no grant


def test_content_without_a_token_is_401():
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE)
    check(st == 401, "no token: %s, expected 401" % st)
    no_secret(body, "no token")
    audited(mark, "denied", resource=(ALICE_PATH, None))


def test_content_with_an_unusable_token_is_refused():
    for tok in ("garbage", "lbt_" + "A" * 43, "a.b.c"):
        mark = audit_mark(W.d.db_path)
        st, _, body = nx(ALICE, token=tok)
        check(st in (401, 403), "Bearer %s: %s, expected 401 (or 403 "
              "invalid_grant)" % (tok, st))
        no_secret(body, "bad token")
        audited(mark, "denied")
        st, b, _ = authz_get(ALICE, bearer=tok)
        if st == 403:
            denial(st, b, 403, "invalid_grant", "GET /v1/authz Bearer %s" % tok)
        else:
            check(st == 401, "GET /v1/authz Bearer %s: %s %s"
                  % (tok, st, short(b)))


def test_engineer_api_token_is_no_grant_for_content():
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE, token=W.tok("eng1"))
    check(st == 403, "engineer API token on content: %s, expected 403" % st)
    no_secret(body, "engineer token")
    audited(mark, "denied", reason="no_grant", engineer=("eng1", None))
    st, b, _ = authz_get(ALICE, bearer=W.tok("eng1"))
    denial(st, b, 403, "no_grant", "GET /v1/authz with eng1's API token")


# -------------------------------------------------------------- allow


def test_approved_grant_reads_the_exact_bytes():
    r, g = approved()
    for path, rel in ((ALICE, ALICE_PATH),
                      ("/content/contoso/exchange/" + ALICE_RES + "/inbox/2.eml",
                       ALICE_RES + "/inbox/2.eml")):
        mark = audit_mark(W.d.db_path)
        st, hd, body = nx(path, token=g["token"])
        want = CONTENT["contoso/exchange/" + rel]
        check(st == 200, "GET %s with the grant: %s, expected 200 (%s)"
              % (path, st, body[:200]))
        check(body == want, "GET %s: %d bytes, not the file's %d bytes"
              % (path, len(body), len(want)))
        audited(mark, "allowed", request_id=r["id"], resource=rel,
                method="GET", engineer="eng1", secrets=[g["token"]])
    mark = audit_mark(W.d.db_path)
    st, hd, _ = nx(ALICE, token=g["token"], method="HEAD")
    check(st == 200, "HEAD with the grant: %s" % st)
    check(hd.get("content-length") == str(len(ALICE_BYTES)),
          "HEAD content-length %r" % hd.get("content-length"))
    audited(mark, "allowed", request_id=r["id"], method="HEAD")


def test_direct_access_check_answers_allow():
    r, g = approved()
    mark = audit_mark(W.d.db_path)
    st, b, _ = authz_get(ALICE, bearer=g["token"])
    body = allow(st, b, "GET /v1/authz", request_id=r["id"],
                 resource=ALICE_PATH)
    check(body["engineer"] == "eng1" and body["tenant"] == "contoso",
          "allow body %s" % short(body))
    audited(mark, "allowed", request_id=r["id"], resource=ALICE_PATH)
    # the query string is not part of the resource
    mark = audit_mark(W.d.db_path)
    st, _, data = nx(ALICE + "?download=1&x=../../bob", token=g["token"])
    check(st == 200 and data == ALICE_BYTES, "with a query string: %s" % st)
    audited(mark, "allowed", request_id=r["id"], resource=ALICE_PATH)


def test_benign_escapes_resolve_to_the_same_file():
    """Escapes other than / \\ . % are decoded once, as nginx does, so the
    resource Lockbox checked is the file nginx serves."""
    r, g = approved()
    for p in ("/content/contoso/exchange/mailbox/alice%40contoso.example/inbox/1.eml",
              "/content/contoso/exchange/mailbox/alice@contoso.example/inbox/%31.eml"):
        mark = audit_mark(W.d.db_path)
        st, _, data = nx(p, token=g["token"])
        check(st == 200 and data == ALICE_BYTES,
              "GET %s: %s, expected 200 and alice's bytes" % (p, st))
        audited(mark, "allowed", request_id=r["id"], resource=ALICE_PATH)


# -------------------------------------------------------------- scope


SCOPE_CASES = [
    # (what, path, reason)
    ("another tenant's path",
     "/content/fabrikam/exchange/mailbox/alice@contoso.example/inbox/1.eml",
     "wrong_tenant"),
    ("another resource",
     "/content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml",
     "resource_not_granted"),
    ("a sibling sharing the prefix (not at a / boundary)",
     "/content/contoso/exchange/mailbox/alice@contoso.example.evil/inbox/1.eml",
     "resource_not_granted"),
    ("another workload",
     "/content/contoso/sharepoint/mailbox/alice@contoso.example/inbox/1.eml",
     "wrong_workload"),
]


def test_out_of_scope_paths_are_403():
    r, g = approved()
    for what, path, reason in SCOPE_CASES:
        mark = audit_mark(W.d.db_path)
        st, hd, body = nx(path, token=g["token"])
        check(st == 403, "%s (%s): %s, expected 403" % (what, path, st))
        no_secret(body, what)
        # the example passes Lockbox's X-Lockbox-Reason back for debugging
        check(hd.get("x-lockbox-reason") == reason,
              "%s: X-Lockbox-Reason through nginx %r, expected %r"
              % (what, hd.get("x-lockbox-reason"), reason))
        audited(mark, "denied", reason=reason, request_id=(r["id"], None))
        st, b, _ = authz_get(path, bearer=g["token"])
        denial(st, b, 403, reason, "GET /v1/authz: " + what)


def test_write_methods_are_403():
    r, g = approved()
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        mark = audit_mark(W.d.db_path)
        st, _, body = nx(ALICE, token=g["token"], method=m)
        check(st == 403, "%s with a grant: %s, expected 403" % (m, st))
        audited(mark, "denied", reason="method_not_granted", method=m)
    st, b, _ = authz_get(ALICE, bearer=g["token"], method="POST")
    denial(st, b, 403, "method_not_granted", "GET /v1/authz method POST")
    check(open(os.path.join(NX.content_root, "contoso/exchange", ALICE_PATH),
               "rb").read() == ALICE_BYTES, "the file changed")


A = "/content/contoso/exchange/mailbox/alice@contoso.example"
# Each of these would have been served by nginx (alice's or bob's bytes, as
# measured with an allow-all check) or asks to be resolved: Lockbox must
# refuse the raw URI (403) and never let the bytes out.
PATH_TRICKS = [
    A + "/../bob@contoso.example/inbox/1.eml",
    A + "/%2e%2e/bob@contoso.example/inbox/1.eml",
    A + "/%2E%2E/bob@contoso.example/inbox/1.eml",
    A + "/.%2e/bob@contoso.example/inbox/1.eml",
    A + "%2f..%2fbob@contoso.example/inbox/1.eml",
    A + "%2F..%2Fbob@contoso.example/inbox/1.eml",
    A + "/%252e%252e/bob@contoso.example/inbox/1.eml",
    A + "/%25/inbox/1.eml",
    "/content/contoso//exchange/mailbox/alice@contoso.example/inbox/1.eml",
    "/content/contoso/exchange/mailbox//alice@contoso.example/inbox/1.eml",
    A + "/inbox//1.eml",
    A + "/%2e/inbox/1.eml",
    A + "/./inbox/1.eml",
    "/content/Contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml",
    "/content/contoso/Exchange/mailbox/alice@contoso.example/inbox/1.eml",
    A + "/inbox/1.eml/",
    A + "/inbox/",
    A + "/",
    A + "%5c..%5cbob@contoso.example/inbox/1.eml",
    A + "\\..\\bob@contoso.example/inbox/1.eml",
    A + "/inbox/1.eml#frag",
    "/content/../content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml",
    "/metadata/../content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml",
    "/metadata/contoso/exchange/../../../content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml",
]
# nginx itself refuses these before asking Lockbox (400): still never the bytes.
NGINX_REFUSES = [
    A + "/inbox/1.eml%00",
    "/content/../../etc/passwd",
]
TRICK_REASONS = {"hostile_uri", "unmapped_uri"}


def test_path_tricks_are_403_and_never_the_bytes():
    # bob's inbox is granted too: a check that resolved the trick instead of
    # refusing it would allow, and nginx would hand out bob's bytes.
    r, g = approved(resources=[ALICE_RES, "mailbox/bob@contoso.example/inbox"])
    fails = []
    for p in PATH_TRICKS:
        mark = audit_mark(W.d.db_path)
        st, _, body = nx(p, token=g["token"])
        if st != 403 or any(s in body for s in SECRETS):
            fails.append("%s -> %s %r" % (p, st, body[:60]))
            continue
        try:
            audited(mark, "denied", reason=TRICK_REASONS)
        except Fail as e:
            fails.append("%s: %s" % (p, e))
        st, b, _ = authz_get(p, bearer=g["token"])
        try:
            denial(st, b, 403, TRICK_REASONS, "GET /v1/authz " + p)
        except Fail as e:
            fails.append(str(e))
    for p in NGINX_REFUSES:
        st, _, body = nx(p, token=g["token"])
        if st not in (400, 403) or any(s in body for s in SECRETS):
            fails.append("%s -> %s %r" % (p, st, body[:60]))
    check(not fails, "%d path tricks not refused as expected:\n  %s"
          % (len(fails), "\n  ".join(fails)))
    # and the grant itself still works
    st, _, body = nx(ALICE, token=g["token"])
    check(st == 200 and body == ALICE_BYTES, "plain path after tricks: %s" % st)


def test_access_receipt_counts_what_was_done():
    """GET .../requests/{id} carries access_receipt: what was done under
    the request, per resource."""
    r, g = approved()
    for _ in range(2):
        st, _, _ = nx(ALICE, token=g["token"])
        check(st == 200, "read: %s" % st)
    bob = "mailbox/bob@contoso.example/inbox/1.eml"
    st, _, _ = nx("/content/contoso/exchange/" + bob, token=g["token"])
    check(st == 403, "bob: %s" % st)
    q = W.get_request("contoso", r["id"], who="ga1")
    rc = q.get("access_receipt")
    check(isinstance(rc, dict) and rc.get("allowed") == 2
          and rc.get("refused") == 1 and isinstance(rc.get("resources"), list),
          "access_receipt %s, expected allowed 2, refused 1" % short(rc))
    by = {x.get("resource"): x for x in rc["resources"]}
    a = by.get(ALICE_PATH)
    check(a is not None and a.get("allowed") == 2 and a.get("refused") == 0,
          "receipt for %s: %s" % (ALICE_PATH, short(rc)))
    ts_ms(a.get("last_at"), "access_receipt last_at")
    b = by.get(bob)
    check(b is not None and b.get("allowed") == 0 and b.get("refused") == 1,
          "receipt for %s: %s" % (bob, short(rc)))
    e = W.get_request("contoso", r["id"], who="eng1")
    check(e.get("access_receipt") == rc, "the requester sees another receipt")


# ----------------------------------------------------------- revoke


def test_revoke_refuses_at_once():
    r, g = approved()
    st, _, body = nx(ALICE, token=g["token"])
    check(st == 200 and body == ALICE_BYTES, "before revoke: %s" % st)
    W.decide("contoso", r["id"], "revoke", "ap1", {"comment": "done"})
    t_revoked = time.monotonic()
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE, token=g["token"])
    dt = time.monotonic() - t_revoked
    check(st == 403, "right after revoke: %s, expected 403" % st)
    no_secret(body, "after revoke")
    check(dt < 1.0, "the refusal after revoke took %.3fs" % dt)
    audited(mark, "denied", reason="grant_not_live", request_id=(r["id"], None))
    sys_note("revoke -> 403 through nginx in %.1f ms" % (dt * 1000))
    st, b, _ = authz_post({"token": g["token"], "tenant": "contoso",
                           "resource": ALICE_PATH, "action": "read"})
    denial(st, b, 403, "grant_not_live", "POST /v1/authz after revoke")
    expect(W.call("GET", W.req_path("contoso", r["id"], "grant"), "eng1"),
           409, "invalid_state")


def test_a_grant_is_only_for_its_requester():
    """The grant endpoint answers only the requester while approved."""
    r, g = approved()
    for who in ("eng2", "ga1", "admin"):
        st = W.call("GET", W.req_path("contoso", r["id"], "grant"), who).status
        check(st in (403, 404), "GET grant as %s: %s, expected 403/404"
              % (who, st))
    p = W.create_request()
    expect(W.call("GET", W.req_path("contoso", p["id"], "grant"), "eng1"),
           409, "invalid_state")


# --------------------------------------------------------- metadata


def test_metadata_needs_an_engineer_not_a_grant():
    want = METADATA["contoso/exchange/mailbox/alice@contoso.example/stats.json"]
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(META, token=W.tok("eng1"))
    check(st == 200 and body == want, "metadata with eng1's token: %s %r"
          % (st, body[:100]))
    audited(mark, "allowed", kind="metadata", engineer="eng1",
            resource="mailbox/alice@contoso.example/stats.json")
    _, g = approved()
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(META, token=g["token"])
    check(st == 200 and body == want, "metadata with a grant: %s" % st)
    audited(mark, "allowed", kind="metadata", secrets=[g["token"]])

    mark = audit_mark(W.d.db_path)
    st, _, body = nx(META)
    check(st == 401, "metadata without a token: %s, expected 401" % st)
    audited(mark, "denied", kind="metadata")

    for who in ("ga1", "admin", "mgr1"):
        mark = audit_mark(W.d.db_path)
        st, _, body = nx(META, token=W.tok(who))
        check(st == 403, "metadata with %s's token: %s, expected 403"
              % (who, st))
        audited(mark, "denied", kind="metadata", reason="not_support_engineer")
    st, b, _ = authz_get(META, bearer=W.tok("ga1"))
    denial(st, b, 403, "not_support_engineer", "GET /v1/authz metadata as ga1")
    # metadata of a tenant never leaks content, and tricks still refused
    st, _, body = nx("/metadata/contoso/exchange/mailbox/alice@contoso.example"
                     "/../../../../content/contoso/exchange/" + ALICE_PATH,
                     token=W.tok("eng1"))
    check(st in (400, 403) and not any(s in body for s in SECRETS),
          "metadata traversal into content: %s" % st)


# ------------------------------------------------------------ gateway


def test_only_a_gateway_may_ask():
    _, g = approved()
    st, b, _ = authz_get(ALICE, bearer=g["token"], gateway="")
    e = denial(st, b, 401, None, "GET /v1/authz without gateway token")
    check(e.get("reason", "gateway_unauthenticated") == "gateway_unauthenticated",
          "reason %r" % e.get("reason"))
    st, b, _ = authz_get(ALICE, bearer=g["token"],
                         gateway="lbt_" + "B" * 43)
    denial(st, b, 401, None, "GET /v1/authz with an unknown gateway token")
    for who in ("eng1", "admin", "ga1"):
        st, b, _ = authz_get(ALICE, bearer=g["token"], gateway=W.tok(who))
        check(st == 403 and isinstance(b, dict)
              and b.get("error", {}).get("code") == "forbidden",
              "GET /v1/authz with %s's token as gateway: %s %s, expected "
              "403 forbidden" % (who, st, short(b)))
        st, b, _ = authz_post({"token": g["token"], "tenant": "contoso",
                               "resource": ALICE_PATH, "action": "read"},
                              gateway=W.tok(who))
        check(st == 403 and isinstance(b, dict)
              and b.get("error", {}).get("code") == "forbidden",
              "POST /v1/authz as %s: %s %s, expected 403 forbidden"
              % (who, st, short(b)))
    st, b, _ = authz_post({"token": g["token"], "tenant": "contoso",
                           "resource": ALICE_PATH, "action": "read"},
                          gateway="")
    check(st == 401, "POST /v1/authz without a token: %s %s" % (st, short(b)))
    # the engineer cannot smuggle a gateway token or an original URI past nginx
    st, _, body = nx(ALICE, token=g["token"],
                     headers={"X-Original-URI": "/content/contoso/exchange/"
                              "mailbox/bob@contoso.example/inbox/1.eml",
                              "X-Lockbox-Gateway-Token": W.tok("admin")})
    check(st == 200 and body == ALICE_BYTES, "client headers interfered: %s"
          % st)


def test_direct_get_reasons():
    r, g = approved()
    st, b, _ = authz_get("/elsewhere/contoso/exchange/" + ALICE_PATH,
                         bearer=g["token"])
    denial(st, b, 403, "unmapped_uri", "unmapped URI")
    st, b, _ = authz_get(ALICE, bearer=None)
    check(st == 401 and isinstance(b, dict)
          and b.get("error", {}).get("code") == "unauthenticated",
          "no engineer token: %s %s, expected 401 unauthenticated"
          % (st, short(b)))
    st, b, _ = authz_get(ALICE, bearer=g["token"], extra={"X-Original-URI": ""})
    check(st in (400, 403), "empty X-Original-URI: %s %s" % (st, short(b)))


# ---------------------------------------------------------- POST /v1/authz


def test_post_authz_decides_the_same():
    r, g = approved()
    base = {"token": g["token"], "tenant": "contoso", "resource": ALICE_PATH,
            "action": "read"}
    mark = audit_mark(W.d.db_path)
    allow(*authz_post(dict(base, workload="exchange"))[:2], "POST allow",
          request_id=r["id"], resource=ALICE_PATH)
    audited(mark, "allowed", request_id=r["id"], resource=ALICE_PATH,
            secrets=[g["token"]])
    allow(*authz_post(base)[:2], "POST allow without workload",
          request_id=r["id"])
    allow(*authz_post(dict(base, resource=ALICE_RES))[:2],
          "POST allow on the granted resource itself")
    cases = [
        ("other tenant", dict(base, tenant="fabrikam"), "wrong_tenant"),
        ("other resource", dict(base, resource="mailbox/bob@contoso.example"),
         "resource_not_granted"),
        ("prefix sibling", dict(base, resource=ALICE_RES + ".evil/x"),
         "resource_not_granted"),
        ("parent of the grant", dict(base, resource="mailbox"),
         "resource_not_granted"),
        ("other workload", dict(base, workload="sharepoint"), "wrong_workload"),
        ("write", dict(base, action="write"), "method_not_granted"),
        ("engineer token for content", dict(base, token=W.tok("eng1")),
         "no_grant"),
    ]
    for what, body, reason in cases:
        mark = audit_mark(W.d.db_path)
        st, b, _ = authz_post(body)
        denial(st, b, 403, reason, "POST /v1/authz " + what)
        audited(mark, "denied", reason=reason)
    for what, body in (("garbage token", dict(base, token="garbage")),):
        mark = audit_mark(W.d.db_path)
        st, b, _ = authz_post(body)
        check(st in (401, 403), "POST %s: %s %s" % (what, st, short(b)))
        if st == 403:
            denial(st, b, 403, "invalid_grant", "POST " + what)
        audited(mark, "denied")
    for what, body in (
            ("hostile resource", dict(base, resource=ALICE_RES + "/../bob")),
            ("encoded resource", dict(base, resource=ALICE_RES + "%2f..")),
            ("no token", {k: v for k, v in base.items() if k != "token"}),
            ("bad action", dict(base, action="delete"))):
        # Not access decisions but malformed calls: docs/api.md lists only
        # 200/401/403 for the check, the conventions 400/422 for bad bodies.
        st, b, _ = authz_post(body)
        check(st in (400, 401, 403, 422), "POST %s: %s %s, expected a refusal"
              % (what, st, short(b)))
        if st not in (401, 403):
            sys_note("POST /v1/authz %s -> %s %s" % (what, st,
                                                     b["error"]["code"]
                                                     if isinstance(b, dict)
                                                     and "error" in b else b))
    # metadata by POST
    mark = audit_mark(W.d.db_path)
    meta = {"token": W.tok("eng1"), "tenant": "contoso", "kind": "metadata",
            "resource": "mailbox/alice@contoso.example/stats.json",
            "action": "read", "workload": "exchange"}
    st, b, _ = authz_post(meta)
    check(st == 200 and isinstance(b, dict) and b.get("decision") == "allow",
          "POST metadata as eng1: %s %s" % (st, short(b)))
    audited(mark, "allowed", kind="metadata")
    st, b, _ = authz_post(dict(meta, token=W.tok("ga1")))
    denial(st, b, 403, "not_support_engineer", "POST metadata as ga1")


# ------------------------------------------------------- JWS and keys


JOSE_DIR = os.path.join(harness.ROOT, "tests", "jose")
VERIFY = os.path.join(JOSE_DIR, "verify.mjs")


def jwks():
    st, _, body = request(W.d.port, "GET", "/.well-known/jwks.json")
    check(st == 200, "GET /.well-known/jwks.json: %s" % st)
    k = json_of(body)
    check(isinstance(k, dict) and isinstance(k.get("keys"), list) and k["keys"],
          "JWKS %s" % short(body.decode("utf-8", "replace")))
    for key in k["keys"]:
        check(key.get("kty") == "OKP" and key.get("crv") == "Ed25519"
              and isinstance(key.get("kid"), str) and key.get("x"),
              "JWKS key %s" % short(key))
        check("d" not in key, "the JWKS publishes a private key!")
    return k


def tamper(token):
    h, p, s = token.split(".")
    claims = json.loads(nginxctl.b64url_decode(p))
    claims["res"] = ["mailbox"]
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()
                                  ).rstrip(b"=").decode()
    sig = bytearray(nginxctl.b64url_decode(s))
    sig[5] ^= 1
    s2 = base64.urlsafe_b64encode(bytes(sig)).rstrip(b"=").decode()
    none_h = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}'
                                      ).rstrip(b"=").decode()
    return {"claims changed": "%s.%s.%s" % (h, p2, s),
            "signature flipped": "%s.%s.%s" % (h, p, s2),
            "alg none": "%s.%s." % (none_h, p2),
            "no signature": "%s.%s" % (h, p)}


_node_ready = None


def node_verify(token, tenant=None):
    """Exit status of `node tests/jose/verify.mjs JWKS_URL TOKEN [TENANT]`,
    or None when verify.mjs is absent."""
    global _node_ready
    if not os.path.exists(VERIFY):
        return None
    if _node_ready is None:
        _node_ready = True
        inst = os.path.join(JOSE_DIR, "install.sh")
        if not os.path.isdir(os.path.join(JOSE_DIR, "node_modules")) \
                and os.path.exists(inst):
            p = subprocess.run(["sh", inst], capture_output=True,
                               timeout=300, cwd=harness.ROOT)
            if p.returncode != 0:
                _node_ready = False
                raise Fail("sh tests/jose/install.sh failed: %s"
                           % p.stderr.decode("utf-8", "replace")[-500:])
    args = ["node", VERIFY, W.d.url + "/.well-known/jwks.json", token]
    if tenant:
        args.append(tenant)
    p = subprocess.run(args, capture_output=True, timeout=60 * SLOW,
                       cwd=harness.ROOT)
    if p.returncode not in (0, 1):
        raise Fail("verify.mjs exit %d: %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-300:]))
    return p.returncode


def test_grant_is_a_jws_that_verifies_against_the_jwks():
    r, g = approved()
    header, claims, _, _ = nginxctl.jws_parts(g["token"])
    check(header.get("alg") == "EdDSA" and header.get("typ") == "JWT"
          and isinstance(header.get("kid"), str), "JWS header %s" % header)
    for k in ("iss", "sub", "tenant", "rid", "wl", "res", "nbf", "iat", "exp",
              "jti"):
        check(k in claims, "claims lack %s: %s" % (k, short(claims)))
    check(claims["iss"] == "lockbox" and claims["sub"] == "eng1"
          and claims["tenant"] == "contoso" and claims["rid"] == r["id"]
          and claims["wl"] == "exchange" and claims["res"] == [ALICE_RES],
          "claims %s" % short(claims))
    exp_ms = ts_ms(r["access_expires_at"])
    check(abs(claims["exp"] * 1000 - exp_ms) < 1000,
          "exp %s vs access_expires_at %s" % (claims["exp"],
                                              r["access_expires_at"]))
    keys = jwks()
    check(nginxctl.jws_verify_with_jwks(g["token"], keys),
          "the grant's EdDSA signature does not verify with the JWKS key %s"
          % header.get("kid"))
    for what, t in tamper(g["token"]).items():
        if t.count(".") == 2 and t.split(".")[2]:
            check(not nginxctl.jws_verify_with_jwks(t, keys),
                  "the built-in check accepted a tampered grant (%s)" % what)
        mark = audit_mark(W.d.db_path)
        st, _, body = nx(ALICE, token=t)
        check(st in (401, 403), "tampered grant (%s) through nginx: %s"
              % (what, st))
        no_secret(body, "tampered grant")
        audited(mark, "denied")
    rc = node_verify(g["token"])
    if rc is None:
        sys_note("tests/jose/verify.mjs absent: JOSE library check skipped "
                 "(the grant was verified with the built-in Ed25519 check)")
        return
    check(rc == 0, "verify.mjs refused the real grant (exit %s)" % rc)
    check(node_verify(g["token"], "contoso") == 0,
          "verify.mjs refused the grant for tenant contoso")
    check(node_verify(g["token"], "fabrikam") != 0,
          "verify.mjs accepted the grant as fabrikam's")
    for what in ("claims changed", "signature flipped", "alg none"):
        rc = node_verify(tamper(g["token"])[what])
        check(rc != 0, "verify.mjs accepted a tampered grant (%s)" % what)
    sys_note("jose (tests/jose/verify.mjs) verified the grant against the "
             "JWKS and refused 3 tampered forms")


def test_the_grant_is_never_stored_or_logged():
    _, g = approved()
    st, _, _ = nx(ALICE, token=g["token"])
    check(st == 200, "grant: %s" % st)
    sig = g["token"].split(".")[2].encode()
    for f in ("lockbox.db", "lockbox.db-wal"):
        p = os.path.join(W.d.data_dir, f)
        if os.path.exists(p):
            with open(p, "rb") as fh:
                check(sig not in fh.read(), "the grant token is stored in %s" % f)
    with open(W.d.log_path, "rb") as fh:
        check(sig not in fh.read(), "the grant token is in the daemon's log")


def test_key_rotation_keeps_old_grants_and_signs_new_ones():
    r1, g1 = approved()
    old_kid = nginxctl.jws_parts(g1["token"])[0]["kid"]
    expect(W.call("POST", "/v1/keys/rotate", "eng1"), 403)
    rot = expect(W.call("POST", "/v1/keys/rotate", "admin"), (200, 201))
    check(isinstance(rot, dict) and isinstance(rot.get("kid"), str)
          and rot["kid"] != old_kid and "created_at" in rot,
          "rotate answer %s (old kid %s)" % (short(rot), old_kid))
    keys = jwks()
    kids = {k["kid"] for k in keys["keys"]}
    check({old_kid, rot["kid"]} <= kids, "JWKS kids %s lack old %s or new %s"
          % (sorted(kids), old_kid, rot["kid"]))
    check(nginxctl.jws_verify_with_jwks(g1["token"], keys),
          "the old grant no longer verifies after rotation")
    st, _, body = nx(ALICE, token=g1["token"])
    check(st == 200 and body == ALICE_BYTES,
          "the old grant no longer allows after rotation: %s" % st)
    r2, g2 = approved()
    new_kid = nginxctl.jws_parts(g2["token"])[0]["kid"]
    check(new_kid == rot["kid"], "a new grant is signed with kid %s, "
          "expected the new %s" % (new_kid, rot["kid"]))
    check(nginxctl.jws_verify_with_jwks(g2["token"], keys),
          "the new grant does not verify")
    st, _, body = nx(ALICE, token=g2["token"])
    check(st == 200 and body == ALICE_BYTES, "new grant: %s" % st)
    for t in (g1["token"], g2["token"]):
        rc = node_verify(t)
        if rc is None:
            break
        check(rc == 0, "verify.mjs refused a grant after rotation (exit %s)"
              % rc)


def test_restart_keeps_live_grants_revocations_and_keys():
    """The live grants are in memory: after a restart an approved request's
    grant still allows, a revoked one is still refused, and the signing
    keys (so the JWKS and every issued grant) are the same."""
    r1, g1 = approved()
    r2, g2 = approved()
    W.decide("contoso", r2["id"], "revoke", "ap1", {"comment": "done"})
    kids = {k["kid"] for k in jwks()["keys"]}
    W.d.restart()
    NX.stop()
    NX.lockbox_port = W.d.port
    NX.start()
    keys = jwks()
    after = {k["kid"] for k in keys["keys"]}
    check(kids <= after, "kids before the restart %s, after %s"
          % (sorted(kids), sorted(after)))
    check(nginxctl.jws_verify_with_jwks(g1["token"], keys),
          "a grant issued before the restart no longer verifies")
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE, token=g1["token"])
    check(st == 200 and body == ALICE_BYTES,
          "an approved grant after a restart: %s, expected 200" % st)
    audited(mark, "allowed", request_id=r1["id"])
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE, token=g2["token"])
    check(st == 403, "a revoked grant after a restart: %s, expected 403" % st)
    audited(mark, "denied", reason="grant_not_live")


# ---------------------------------------------------------- the window
# Last: it moves the daemon's test clock past windows for good.


def test_access_ends_with_the_window():
    r, g = approved(duration=60)
    end_ms = ts_ms(r["access_expires_at"])
    check(end_ms - ts_ms(r["access_starts_at"]) == 60 * MIN_MS,
          "window %s" % short(r))
    st, _, body = nx(ALICE, token=g["token"])
    check(st == 200 and body == ALICE_BYTES, "inside the window: %s" % st)
    # 3 s before the end: still allowed
    W.d.set_clock(end_ms - 3000 - now_ms())
    st, _, _ = nx(ALICE, token=g["token"])
    check(st == 200, "3 s before access_expires_at: %s, expected 200" % st)
    # past the end: refused, whatever the token's exp says
    W.d.set_clock(end_ms + 1000 - now_ms())
    mark = audit_mark(W.d.db_path)
    st, _, body = nx(ALICE, token=g["token"])
    check(st == 403, "1 s after access_expires_at: %s, expected 403" % st)
    no_secret(body, "after the window")
    audited(mark, "denied", reason="grant_not_live",
            request_id=(r["id"], None))
    st, b, _ = authz_post({"token": g["token"], "tenant": "contoso",
                           "resource": ALICE_PATH, "action": "read"})
    denial(st, b, 403, "grant_not_live", "POST /v1/authz after the window")
    poll(lambda: W.get_request("contoso", r["id"])["status"] == "completed",
         "the request to read completed")
    # a request approved now starts a new window at the moved clock
    _, g2 = approved()
    st, _, body = nx(ALICE, token=g2["token"])
    check(st == 200 and body == ALICE_BYTES, "a new grant after the move: %s"
          % st)


def test_metadata_is_read_only():
    """Metadata is readable without a grant, but only readable: a write
    method is refused and recorded, directly and through POST."""
    for method in ("DELETE", "PUT", "POST"):
        mark = audit_mark(W.d.db_path)
        st, b, _ = authz_get(META, bearer=W.tok("eng1"), method=method)
        denial(st, b, 403, "method_not_granted", "metadata %s" % method)
        audited(mark, "denied", kind="metadata", reason="method_not_granted")
    st, b, _ = authz_post({"token": W.tok("eng1"), "tenant": "contoso",
                           "workload": "exchange", "kind": "metadata",
                           "resource": "mailbox/alice@contoso.example/stats.json",
                           "action": "write"})
    denial(st, b, 403, "method_not_granted", "POST metadata write")


def test_brief_answers_and_the_engineers_address():
    """X-Lockbox-Brief: 1 answers without a body (the reason in a header);
    X-Real-IP from the gateway becomes the record's client_ip and the
    gateway's own address goes to the details."""
    _, g = approved()
    mark = audit_mark(W.d.db_path)
    st, hd, body = request(W.d.port, "GET", "/v1/authz", token=g["token"], headers={
        "X-Original-URI": "/content/contoso/exchange/" + ALICE_PATH,
        "X-Original-Method": "GET",
        "X-Lockbox-Gateway-Token": GW, "X-Lockbox-Brief": "1",
        "X-Real-IP": "192.0.2.7"})
    check(st == 200 and body == b"", "brief allow: %s %r" % (st, body[:80]))
    rec = audited(mark, "allowed", request_id=g["request_id"])
    check(rec["client_ip"] == "192.0.2.7", "client_ip %r" % rec["client_ip"])
    check(rec["details"].get("gateway_ip") == "127.0.0.1",
          "gateway_ip %r" % rec["details"].get("gateway_ip"))
    st, hd, body = request(W.d.port, "GET", "/v1/authz", token=g["token"], headers={
        "X-Original-URI":
        "/content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml",
        "X-Original-Method": "GET", "X-Lockbox-Gateway-Token": GW,
        "X-Lockbox-Brief": "1", "X-Real-IP": "not an address"})
    check(st == 403 and body == b"" and
          hd.get("x-lockbox-reason") == "resource_not_granted",
          "brief refusal: %s %r %r" % (st, body[:80], hd.get("x-lockbox-reason")))
