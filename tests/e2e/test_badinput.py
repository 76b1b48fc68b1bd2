"""Bad input: every refusal has the documented status and code, an error
body of exactly {"error": {"code", "message"}}, and changes nothing."""

from harness import (check, expect, raw_http, short, start_world)

W = None


def setup_module():
    global W
    W = start_world("badinput")
    W.pending = W.create_request()["id"]


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def state():
    s = {"tenants": W.list_all("/v1/tenants", page_size=1000),
         "users": W.list_all("/v1/users?realm=contoso", page_size=1000),
         "provider": W.list_all("/v1/users?realm=provider", page_size=1000),
         "settings": expect(W.call("GET", "/v1/tenants/contoso/lockbox/settings",
                                   "ga1"), 200),
         "cases": W.list_all("/v1/tenants/contoso/cases", page_size=1000),
         "requests": W.list_all("/v1/tenants/contoso/requests",
                                page_size=1000)}
    return s


def refused(cases):
    """cases: (method, path, who, body-or-raw, status, code).  A str or bytes
    body is sent raw; a code may be a tuple of acceptable codes."""
    before = state()
    bad = []
    for method, path, who, body, status, code in cases:
        if isinstance(body, (str, bytes)):
            r = W.call(method, path, who, raw=body)
        else:
            r = W.call(method, path, who, body)
        try:
            expect(r, status, code)
        except AssertionError as e:
            bad.append(str(e))
    after = state()
    for k in before:
        if before[k] != after[k]:
            bad.append("refused calls changed %s: %s -> %s"
                       % (k, short(before[k], 200), short(after[k], 200)))
    check(not bad, "%d problems: %s" % (len(bad), " ;; ".join(bad)))


T = "/v1/tenants"
U = "/v1/users"
S = "/v1/tenants/contoso/lockbox/settings"
C = "/v1/tenants/contoso/cases"
R = "/v1/tenants/contoso/requests"


def tenant(**kw):
    b = {"id": "newco", "name": "New Co", "plan": "M365_E5"}
    b.update(kw)
    return {k: v for k, v in b.items() if v is not None}


def user(**kw):
    b = {"id": "newuser", "realm": "contoso", "roles": ["reader"]}
    b.update(kw)
    return {k: v for k, v in b.items() if v is not None}


def req(**kw):
    b = W.request_body(W.cases["contoso"])
    b.update(kw)
    return {k: v for k, v in b.items() if v is not None}


def test_malformed_json():
    good = '{"id":"newco","name":"New Co","plan":"M365_E5"}'
    refused([
        ("POST", T, "admin", '{"id": "newco",', 400, "malformed_json"),
        ("POST", T, "admin", "not json", 400, "malformed_json"),
        ("POST", T, "admin", good + " trailing", 400, "malformed_json"),
        ("POST", T, "admin", good + good, 400, "malformed_json"),
        ("POST", T, "admin", b'{"id":"newco","name":"\xff\xfe","plan":"M365_E5"}',
         400, "malformed_json"),
        ("POST", T, "admin", "", 400, "malformed_json"),
        ("POST", T, "admin", "[]", 400, ("malformed_json", "invalid_field")),
        ("POST", T, "admin", '"newco"', 400, ("malformed_json", "invalid_field")),
        ("PATCH", S, "ga1", '{"enabled": tru}', 400, "malformed_json"),
        ("POST", C, "ga1", "{'title': 'x'}", 400, "malformed_json"),
        ("POST", R, "eng1", '{"case_id": ', 400, "malformed_json"),
        ("POST", R + "/" + W.pending + "/approve", "ga1", '{"comment":', 400,
         "malformed_json"),
    ])
    check(W.get_request("contoso", W.pending)["decisions"] == [],
          "the pending request got a decision")


def test_wrong_types():
    refused([
        ("POST", T, "admin", tenant(id=5), 400, "invalid_field"),
        ("POST", T, "admin", tenant(name=["x"]), 400, "invalid_field"),
        ("POST", T, "admin", tenant(addons="customer_lockbox"), 400,
         "invalid_field"),
        ("POST", T, "admin", tenant(addons=[1]), 400, "invalid_field"),
        ("POST", U, "admin", user(roles="reader"), 400, "invalid_field"),
        ("POST", U, "admin", user(email=7), 400, "invalid_field"),
        ("PATCH", S, "ga1", {"enabled": "yes"}, 400, "invalid_field"),
        ("PATCH", S, "ga1", {"enabled": 1}, 400, "invalid_field"),
        ("PATCH", S, "ga1", {"approvers": "ga1"}, 400, "invalid_field"),
        ("PATCH", S, "ga1", {"audit_retention_days": "365"}, 400,
         "invalid_field"),
        ("PATCH", S, "ga1", {"audit_retention_days": 365.5}, 400,
         "invalid_field"),
        ("PATCH", "/v1/provider/settings", "admin",
         {"require_internal_approval": "true"}, 400, "invalid_field"),
        ("POST", C, "ga1", {"title": 5}, 400, "invalid_field"),
        ("POST", R, "eng1", req(resources="mailbox/a"), 400, "invalid_field"),
        ("POST", R, "eng1", req(duration_minutes="240"), 400, "invalid_field"),
        ("POST", R, "eng1", req(duration_minutes=240.5), 400, "invalid_field"),
        ("POST", R, "eng1", req(duration_minutes=True), 400, "invalid_field"),
        ("POST", R, "eng1", req(justification={"a": 1}), 400, "invalid_field"),
        ("POST", R + "/" + W.pending + "/approve", "ga1",
         {"duration_minutes": "60"}, 400, "invalid_field"),
        ("POST", R + "/" + W.pending + "/deny", "ga1", {"comment": 5}, 400,
         "invalid_field"),
    ])


def test_unknown_fields():
    refused([
        ("POST", T, "admin", tenant(colour="red"), 400, "unknown_field"),
        ("POST", U, "admin", user(passwd="x"), 400, "unknown_field"),
        ("POST", U, "admin", user(password="short"), 422, "invalid_value"),
        ("PATCH", S, "ga1", {"enable": True}, 400, "unknown_field"),
        ("PATCH", "/v1/provider/settings", "admin",
         {"require_internal_approval": False, "x": 1}, 400, "unknown_field"),
        ("POST", C, "ga1", {"title": "x", "priority": 1}, 400,
         "unknown_field"),
        ("POST", R, "eng1", req(priority="high"), 400, "unknown_field"),
        ("POST", R + "/" + W.pending + "/approve", "ga1", {"reason": "x"}, 400,
         "unknown_field"),
        ("POST", R + "/" + W.pending + "/cancel", "eng1", {"why": "x"}, 400,
         "unknown_field"),
    ])


def test_missing_fields():
    refused([
        ("POST", T, "admin", tenant(plan=None), 400, "missing_field"),
        ("POST", T, "admin", tenant(id=None), 400, "missing_field"),
        ("POST", T, "admin", {}, 400, "missing_field"),
        ("POST", U, "admin", user(roles=None), 400, "missing_field"),
        ("POST", U, "admin", user(realm=None), 400, "missing_field"),
        ("POST", C, "ga1", {}, 400, "missing_field"),
        ("POST", R, "eng1", req(justification=None), 400, "missing_field"),
        ("POST", R, "eng1", req(case_id=None), 400, "missing_field"),
        ("POST", R, "eng1", req(workload=None), 400, "missing_field"),
        ("POST", R, "eng1", req(resources=None), 400, "missing_field"),
        ("POST", "/v1/tenants/contoso/cases/%s/assign" % W.cases["contoso"],
         "mgr1", {}, 400, "missing_field"),
    ])


def test_unknown_enum_values():
    refused([
        ("POST", T, "admin", tenant(cloud="azure"), 400, "invalid_field"),
        ("POST", T, "admin", tenant(cloud="GCC_HIGH"), 400, "invalid_field"),
        ("POST", U, "admin", user(roles=["wizard"]), 400, "invalid_field"),
        ("POST", U, "admin", user(roles=["reader", "Reader"]), 400,
         "invalid_field"),
        ("POST", U, "admin", user(type="robot"), 400, "invalid_field"),
        ("GET", R + "?status=bogus", "admin", None, 400, "invalid_field"),
        ("GET", R + "?status=PENDING", "admin", None, 400, "invalid_field"),
        ("GET", "/v1/requests?status=open", "admin", None, 400,
         "invalid_field"),
    ])


def test_roles_of_the_wrong_realm():
    refused([
        ("POST", U, "admin", user(roles=["support_engineer"]), 422,
         "invalid_role"),
        ("POST", U, "admin", user(realm="provider", roles=["global_admin"]),
         422, "invalid_role"),
    ])


def test_too_long_fields():
    refused([
        ("POST", T, "admin", tenant(name="n" * 201), 422, "field_too_long"),
        ("POST", T, "admin", tenant(plan="P" * 41), 422, "field_too_long"),
        ("POST", T, "admin", tenant(addons=["a" * 41]), 422, "field_too_long"),
        ("POST", T, "admin", tenant(id="a" * 65), 422, "field_too_long"),
        ("POST", U, "admin", user(display_name="d" * 201), 422,
         "field_too_long"),
        ("POST", U, "admin", user(email="e" * 243 + "@contoso.example"), 422,
         "field_too_long"),
        ("POST", C, "ga1", {"title": "t" * 201}, 422, "field_too_long"),
        ("POST", R, "eng1", req(justification="j" * 2001), 422,
         "field_too_long"),
        ("POST", R, "eng1", req(resources=["mailbox/" + "r" * 505]), 422,
         "field_too_long"),
        ("POST", R, "eng1", req(workload="w" * 41), 422, "field_too_long"),
        ("POST", R + "/" + W.pending + "/approve", "ga1",
         {"comment": "c" * 1001}, 422, "field_too_long"),
        ("POST", R + "/" + W.pending + "/deny", "ga1",
         {"comment": "c" * 1001}, 422, "field_too_long"),
    ])


def test_limits_are_inclusive():
    n = W.create_request(justification="j" * 2000,
                         resources=["mailbox/" + "r" * 504] +
                         ["site/s%d" % i for i in range(31)])
    check(len(n["resources"]) == 32 and len(n["justification"]) == 2000,
          "request at the limits: %s" % short(n))
    a = W.decide("contoso", n["id"], "approve", "ga1", {"comment": "c" * 1000})
    check(a["decisions"][0]["comment"] == "c" * 1000, "comment cut")
    t = W.create_tenant("edge-" + "e" * 59, name="n" * 200, plan="P" * 40,
                        addons=["a%d" % i for i in range(16)])
    check(len(t["id"]) == 64 and len(t["addons"]) == 16,
          "tenant at the limits: %s" % short(t))


def test_too_many_items():
    refused([
        ("POST", R, "eng1", req(resources=["site/s%d" % i for i in range(33)]),
         422, "too_many_items"),
        ("POST", T, "admin", tenant(addons=["a%d" % i for i in range(17)]),
         422, "too_many_items"),
        ("PATCH", S, "ga1",
         {"notification_emails": ["n%d@contoso.example" % i
                                  for i in range(11)]}, 422, "too_many_items"),
    ])


def test_invalid_values():
    refused([
        ("POST", T, "admin", tenant(id="Newco"), 422, "invalid_value"),
        ("POST", T, "admin", tenant(id="provider"), 422, "invalid_value"),
        ("POST", T, "admin", tenant(id="-newco"), 422, "invalid_value"),
        ("POST", T, "admin", tenant(id="new co"), 422, "invalid_value"),
        ("POST", T, "admin", tenant(id="new_co"), 422, "invalid_value"),
        ("POST", U, "admin", user(id="bad id"), 422, "invalid_value"),
        ("POST", U, "admin", user(id=".dot"), 422, "invalid_value"),
        ("POST", U, "admin", user(email="no-at-sign"), 422, "invalid_value"),
        ("POST", U, "admin", user(email="a@b@c"), 422, "invalid_value"),
        ("PATCH", S, "ga1", {"notification_emails": ["not an email"]}, 422,
         "invalid_value"),
        ("POST", R, "eng1", req(workload="Exchange"), 422, "invalid_value"),
        ("POST", R, "eng1", req(workload="ex change"), 422, "invalid_value"),
        ("POST", R, "eng1", req(workload=""), (400, 422), None),
    ])


def test_resource_path_tricks():
    tricks = ["mailbox/../admin", "mailbox/..", "..", ".", "./mailbox",
              "mailbox/./x", "mailbox//x", "//mailbox", "/mailbox/x",
              "mailbox/x/", "/", "mailbox/%2e%2e/x", "%2e%2e", "mailbox/%2F",
              "mailbox\\x", "mailbox/x?y=1", "mailbox/x#f", "mailbox/\u0001x",
              "mailbox/x\n", "mailbox/\tx", ""]
    refused([("POST", R, "eng1", req(resources=[t]), 422, "invalid_value")
             for t in tricks] +
            [("POST", R, "eng1", req(resources=["mailbox/ok", "a//b"]), 422,
              "invalid_value"),
             ("POST", R, "eng1", req(resources=["mailbox/x\u0000y"]),
              (400, 422), ("malformed_json", "invalid_value"))])


def test_settings_rules_are_not_partial():
    refused([
        ("PATCH", S, "ga1", {"approvers": ["ga1", "sa1"],
                             "audit_retention_days": 400}, 422,
         "approver_role_required"),
        ("PATCH", S, "ga1", {"notification_emails": ["x@contoso.example"],
                             "audit_retention_days": 89}, 422,
         "invalid_retention"),
        ("PATCH", S, "ga1", {"approval_stages": [{"required": 3}]}, 422,
         "invalid_stages"),
        ("PATCH", S, "ga1", {"approval_stages": [{"required": 1,
                                                  "approvers": ["sa1"]}]},
         422, ("invalid_stages", "approver_role_required")),
    ])


def test_paging_parameters():
    for path in (R, "/v1/requests", T, "/v1/users?realm=contoso", C):
        sep = "&" if "?" in path else "?"
        cases = [("GET", path + sep + q, "admin", None, 400,
                  "invalid_page_token")
                 for q in ("page_token=garbage", "page_token=AAAA",
                           "page_size=0", "page_size=1001", "page_size=-1",
                           "page_size=abc", "page_size=10x")]
        refused(cases)
        for q in ("page_size=1", "page_size=1000"):
            b = expect(W.call("GET", path + sep + q, "admin"), 200)
            check(len(b["items"]) <= int(q.split("=")[1]),
                  "%s%s%s: %d items" % (path, sep, q, len(b["items"])))


def test_body_size_limit():
    before = len(W.list_all(C, page_size=1000))
    head = b'{"title": "exactly 64 KiB"'
    body = head + b" " * (65536 - len(head) - 1) + b"}"
    check(len(body) == 65536, "test bug: %d" % len(body))
    expect(W.call("POST", C, "ga1", raw=body), 201)
    over = head + b" " * (65537 - len(head) - 1) + b"}"
    expect(W.call("POST", C, "ga1", raw=over), 413, "payload_too_large")
    big = b'{"title": "' + b"x" * 200000 + b'"}'
    expect(W.call("POST", C, "ga1", raw=big), 413, "payload_too_large")
    check(len(W.list_all(C, page_size=1000)) == before + 1,
          "case count: only the 64 KiB body may create one")
    # 4 MiB that the daemon may stop reading: a 413 or a closed connection,
    # never a success, and the daemon stays healthy.
    huge = b'{"title": "' + b"x" * (4 << 20) + b'"}'
    req = (b"POST " + C.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + W.tok("ga1").encode() + b"\r\n"
           b"Content-Type: application/json\r\nContent-Length: "
           + str(len(huge)).encode() + b"\r\nConnection: close\r\n\r\n" + huge)
    st, _, _ = raw_http(W.d.port, req)
    check(st in (413, None), "4 MiB body answered %s" % st)
    expect(W.call("GET", "/healthz"), 200)
    check(len(W.list_all(C, page_size=1000)) == before + 1,
          "the 4 MiB body created a case")


def test_unknown_route_and_method():
    expect(W.call("GET", "/v1/nosuch", "admin"), 404, "no_route")
    expect(W.call("GET", "/v1/tenants/contoso/nosuch", "admin"), 404,
           ("no_route", "not_found"))
    expect(W.call("PUT", "/v1/tenants", "admin", {}), 405,
           "method_not_allowed")
    expect(W.call("DELETE", R, "admin"), 405, "method_not_allowed")
    expect(W.call("GET", R + "/" + W.pending + "/approve", "ga1"), 405,
           "method_not_allowed")
    expect(W.call("GET", R + "/req_doesnotexist", "admin"), 404, "not_found")
    expect(W.call("POST", R + "/req_doesnotexist/approve", "ga1", {}), 404,
           "not_found")


def test_deeply_nested_json():
    deep = "[" * 30000 + "]" * 30000
    refused([
        ("POST", C, "ga1", deep, 400, ("malformed_json", "invalid_field")),
        ("POST", C, "ga1", '{"title": %s}' % deep, 400,
         ("malformed_json", "invalid_field")),
        ("POST", C, "ga1", '{"title": "x", "a": ' + "{\"a\":" * 10000 + "1"
         + "}" * 10000 + "}", 400, ("malformed_json", "unknown_field")),
    ])
    expect(W.call("GET", "/healthz"), 200)


def test_url_path_tricks():
    """Paths that try to step from fabrikam into contoso, or to smuggle a
    second segment, never show contoso's data to fabrikam."""
    tok = W.tok("fabrikam/ga1").encode()
    secret = W.pending.encode()
    paths = [b"/v1/tenants/fabrikam/../contoso/requests",
             b"/v1/tenants/fabrikam/%2e%2e/contoso/requests",
             b"/v1/tenants/contoso%2Frequests",
             b"/v1/tenants/fabrikam%2F..%2Fcontoso/requests",
             b"/v1/tenants//contoso/requests",
             b"/v1/tenants/contoso/requests/",
             b"/v1/tenants/CONTOSO/requests",
             b"/v1/tenants/contoso%00/requests",
             b"/v1/tenants/contoso/requests/" + secret + b"%2Fapprove",
             b"//v1/tenants/contoso/requests",
             b"/v1/tenants/contoso/requests?x=/../../fabrikam"]
    bad = []
    for p in paths:
        st, body, err = raw_http(W.d.port, b"GET " + p + b" HTTP/1.1\r\n"
                                 b"Host: 127.0.0.1\r\nAuthorization: Bearer "
                                 + tok + b"\r\nConnection: close\r\n\r\n")
        if st is None or st < 400 or secret in body:
            bad.append("%s -> %s %s" % (p.decode(), st, body[-200:]))
    check(not bad, "; ".join(bad))
    expect(W.call("GET", "/healthz"), 200)


def test_duplicate_ids():
    refused([
        ("POST", T, "admin", tenant(id="contoso"), 409, "already_exists"),
        ("POST", U, "admin", user(id="ga1"), 409, "already_exists"),
        ("POST", U, "admin", user(id="eng1", realm="provider",
                                  roles=["support_engineer"]), 409,
         "already_exists"),
    ])
    # the same id in another realm is another user
    u = W.create_user("fabrikam", "tk", ["reader"])
    check(u["realm"] == "fabrikam", "user %s" % short(u))
    W.create_user("contoso", "tk", ["reader"])


def test_keep_alive_connection():
    """Answers on one persistent connection stay in step with the calls,
    errors included."""
    import http.client
    import json as _json
    ids = [W.create_request()["id"] for _ in range(3)]
    conn = http.client.HTTPConnection("127.0.0.1", W.d.port, timeout=10)
    auth = {"Authorization": "Bearer " + W.tok("ga1"),
            "Content-Type": "application/json"}
    seq = []
    for rid in ids:
        seq += [("GET", R + "/" + rid, None, 200, rid),
                ("POST", R + "/" + rid + "/approve", b'{"comment":', 400,
                 "malformed_json"),
                ("GET", R + "/req_nosuch", None, 404, "not_found"),
                ("POST", R + "/" + rid + "/deny", b'{"comment":"no"}', 200,
                 rid),
                ("POST", R + "/" + rid + "/deny", b'{}', 409, "invalid_state")]
    try:
        for method, path, body, status, mark in seq:
            try:
                conn.request(method, path, body=body, headers=auth)
                r = conn.getresponse()
                text = r.read()
            except (http.client.HTTPException, OSError) as e:
                raise AssertionError("%s %s on a kept-alive connection: %r"
                                     % (method, path, e))
            check(r.status == status and mark in text.decode(),
                  "%s %s -> %s %s, expected %s with %s"
                  % (method, path, r.status, text[:200], status, mark))
            if (r.getheader("Connection") or "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", W.d.port,
                                                  timeout=10)
            _json.loads(text)
    finally:
        conn.close()
