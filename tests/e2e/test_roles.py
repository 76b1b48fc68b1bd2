"""The role matrix: every route of docs/api.md, every role, own tenant and
another tenant, no token and a bad token; the exact status each must get.

Subjects: provider principals admin (provider_admin), eng1 (support_engineer,
the requester and assignee), eng2 (support_engineer, neither), mgr1, im1,
gw1; contoso's ga1 ap1 ca1 sa1 rd1 ("own tenant"); fabrikam's principals of
the same roles ("x:ga1"...: another tenant); "anon" (no token) and "bad" (a
well-formed unknown token).  Objects are contoso's.

Defaults: anon/bad -> 401; x:* on a route under /v1/tenants/contoso or naming
a contoso object in its path -> 404; everyone else not listed as allowed ->
403.  Where docs/api.md does not say whether a caller who may not even see
the object gets 403 or 404 the table accepts both (marked EITHER).
"""

from harness import (check, expect, error_code, new_token,
                     short, start_world)

W = None
SHARED = {}
EITHER = (403, 404)

PROV = ["admin", "eng1", "eng2", "mgr1", "im1", "gw1"]
OWN = ["ga1", "ap1", "ca1", "sa1", "rd1"]
OTHER = ["x:" + u for u in OWN]
ANON = ["anon", "bad"]
SUBJECTS = PROV + OWN + OTHER + ANON
TENANT5 = set(OWN)


def setup_module():
    global W
    W = start_world("roles")
    W.create_user("contoso", "tk", ["reader"])
    SHARED["pending"] = W.create_request()["id"]
    SHARED["bad"] = new_token()


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def token_of(subj):
    if subj == "anon":
        return None
    if subj == "bad":
        return SHARED["bad"]
    if subj.startswith("x:"):
        return W.tok(subj[2:], "fabrikam")
    return W.tok(subj)


# ---------------------------------------------------------- fresh objects


def fresh_pending():
    return W.create_request()["id"]


def fresh_approved():
    rid = W.create_request()["id"]
    W.decide("contoso", rid, "approve", "ga1")
    return rid


def fresh_case(assign=None):
    cs = expect(W.call("POST", "/v1/tenants/contoso/cases", "admin",
                       {"title": "matrix"}), 201)
    if assign:
        W.assign_case("contoso", cs["id"], assign)
    return cs["id"]


def fresh_token():
    t = expect(W.call("POST", "/v1/users/contoso/tk/tokens", "admin",
                      {"label": "matrix"}), 201)
    return t["id"]


def uniq_tenant():
    return {"id": W.uniq("mx"), "name": "Matrix", "plan": "M365_E5"}


def uniq_user(realm, roles):
    return {"id": W.uniq("mu"), "realm": realm, "roles": roles}


RQ = "/v1/tenants/contoso/requests/"
# A tenant principal naming the provider realm: docs/api.md does not say
# whether that is "forbidden (role or realm)" or an object of another realm.
TENANT_ON_PROVIDER = {s: EITHER for s in OWN + OTHER}

# name, method, path (str or fn), body (None, dict or fn), allowed roles,
# success status, scoped (x:* -> 404), overrides {subject: status}
ROUTES = [
    ("me", "GET", "/v1/me", None, set(PROV + OWN), 200, False, {}),
    ("tenants_create", "POST", "/v1/tenants", uniq_tenant, {"admin"}, 201,
     False, {}),
    ("tenants_list", "GET", "/v1/tenants", None,
     {"admin", "eng1", "eng2", "mgr1", "im1"}, 200, False, {}),
    ("tenant_get", "GET", "/v1/tenants/contoso", None,
     {"admin", "eng1", "eng2", "mgr1", "im1"} | TENANT5, 200, True, {}),
    ("provider_settings_get", "GET", "/v1/provider/settings", None,
     {"admin", "eng1", "eng2", "mgr1", "im1"}, 200, False, {}),
    ("provider_settings_patch", "PATCH", "/v1/provider/settings",
     {"require_internal_approval": False}, {"admin"}, 200, False, {}),
    ("users_create_tenant", "POST", "/v1/users",
     lambda: uniq_user("contoso", ["reader"]), {"admin", "ga1"}, 201, False,
     {s: EITHER for s in OTHER}),
    ("users_create_provider", "POST", "/v1/users",
     lambda: uniq_user("provider", ["support_engineer"]), {"admin"}, 201,
     False, TENANT_ON_PROVIDER),
    ("users_list", "GET", "/v1/users?realm=contoso", None, {"admin", "ga1"},
     200, False, {s: EITHER for s in OTHER}),
    ("user_get", "GET", "/v1/users/contoso/tk", None, {"admin", "ga1"}, 200,
     True, {}),
    ("user_get_provider", "GET", "/v1/users/provider/mgr2", None, {"admin"},
     200, False, TENANT_ON_PROVIDER),
    ("token_create", "POST", "/v1/users/contoso/tk/tokens", {"label": "m"},
     {"admin", "ga1"}, 201, True, {}),
    ("token_list", "GET", "/v1/users/contoso/tk/tokens", None,
     {"admin", "ga1"}, 200, True, {}),
    ("token_revoke", "DELETE", lambda: "/v1/tokens/" + fresh_token(), None,
     {"admin", "ga1"}, 200, True, {}),
    ("settings_get", "GET", "/v1/tenants/contoso/lockbox/settings", None,
     TENANT5 | {"admin", "mgr1"}, 200, True, {}),
    ("settings_patch", "PATCH", "/v1/tenants/contoso/lockbox/settings",
     {"notification_emails": ["lockbox@contoso.example"]}, {"ga1"}, 200,
     True, {}),
    ("cases_create", "POST", "/v1/tenants/contoso/cases", {"title": "m"},
     {"ga1", "sa1", "ca1", "admin", "mgr1"}, 201, True, {}),
    ("cases_list", "GET", "/v1/tenants/contoso/cases", None,
     TENANT5 | {"admin", "mgr1", "eng1", "eng2"}, 200, True, {}),
    ("case_get", "GET", lambda: "/v1/tenants/contoso/cases/"
     + W.cases["contoso"], None, TENANT5 | {"admin", "mgr1", "eng1"}, 200,
     True, {"eng2": 404}),
    ("case_assign", "POST", lambda: "/v1/tenants/contoso/cases/%s/assign"
     % fresh_case(), {"engineer": "eng1"}, {"mgr1", "admin"}, 200, True,
     {"eng2": EITHER}),
    ("case_close", "POST", lambda: "/v1/tenants/contoso/cases/%s/close"
     % fresh_case("eng1"), {}, {"ga1", "sa1", "ca1", "admin", "mgr1"}, 200,
     True, {"eng2": EITHER}),
    ("requests_create", "POST", "/v1/tenants/contoso/requests",
     lambda: W.request_body(W.cases["contoso"]), {"eng1"}, 201, True,
     {"eng2": 422}),
    ("requests_list", "GET", "/v1/tenants/contoso/requests", None,
     TENANT5 | {"admin", "mgr1", "im1", "eng1", "eng2"}, 200, True, {}),
    ("request_get", "GET", lambda: RQ + SHARED["pending"], None,
     TENANT5 | {"admin", "mgr1", "im1", "eng1"}, 200, True, {"eng2": 404}),
    ("requests_all", "GET", "/v1/requests", None,
     {"admin", "eng1", "eng2", "mgr1", "im1"}, 200, False, {}),
    ("request_approve", "POST", lambda: RQ + fresh_pending() + "/approve",
     {}, {"ga1", "ap1"}, 200, True, {"eng2": EITHER}),
    ("request_deny", "POST", lambda: RQ + fresh_pending() + "/deny",
     {"comment": "no"}, {"ga1", "ap1"}, 200, True, {"eng2": EITHER}),
    ("request_revoke", "POST", lambda: RQ + fresh_approved() + "/revoke",
     {"comment": "done"}, {"ga1", "ap1"}, 200, True, {"eng2": EITHER}),
    ("request_cancel", "POST", lambda: RQ + fresh_pending() + "/cancel",
     {}, {"eng1"}, 200, True, {"eng2": EITHER}),
    # docs/api.md "Enforcement: grants and the access check"
    ("request_grant", "GET", lambda: RQ + fresh_approved() + "/grant", None,
     {"eng1"}, 200, True, {"eng2": EITHER}),
    ("keys_rotate", "POST", "/v1/keys/rotate", {}, {"admin"}, (200, 201),
     False, {}),
]


def expected(route, subj):
    _, _, _, _, ok, status, scoped, over = route
    if subj in over:
        return over[subj]
    if subj in ANON:
        return 401
    if subj.startswith("x:"):
        if scoped:
            return 404
        subj = subj[2:]
    return status if subj in ok else 403


def run_route(route):
    name, method, path, body, ok, status, scoped, over = route
    bad = []
    for subj in SUBJECTS:
        want = expected(route, subj)
        p = path() if callable(path) else path
        b = body() if callable(body) else body
        r = W.c.call(method, p, token=token_of(subj), body=b)
        good = r.status in want if isinstance(want, tuple) else r.status == want
        if good and r.status >= 400:
            code = error_code(r)
            if code is None:
                good = False
            elif r.status == 401:
                good = code == "unauthenticated"
            elif r.status == 404:
                good = code == "not_found"
            elif r.status == 403:
                good = code in ("forbidden", "not_designated_approver",
                                "self_approval")
        if not good:
            bad.append("%s: %s %s -> %s %s (expected %s)"
                       % (subj, method, p, r.status,
                          error_code(r) or short(r.body, 80), want))
    check(not bad, "%d of %d wrong: %s" % (len(bad), len(SUBJECTS),
                                            "; ".join(bad)))


def _make(route):
    def t():
        run_route(route)
    t.__name__ = "test_route_" + route[0]
    return t


for _r in ROUTES:
    globals()["test_route_" + _r[0]] = _make(_r)
del _r


# ------------------------------------------------- beyond the plain table


def test_public_endpoints_need_no_token():
    for p in ("/healthz", "/readyz", "/metrics"):
        for tok in (None, SHARED["bad"], W.tok("admin")):
            r = W.c.call("GET", p, token=tok)
            check(r.status == 200, "%s with token %s: %s"
                  % (p, "none" if tok is None else "set", r))


def test_malformed_credentials_are_401():
    tok = W.tok("admin")
    for hdr in ("Bearer", "Bearer ", "Bearer garbage", "Basic YWRtaW46eA==",
                tok, "Bearer " + tok + "x", "Bearer " + tok[:-1],
                "Bearer lbt_", "Token " + tok):
        r = W.c.call("GET", "/v1/me", headers={"Authorization": hdr})
        expect(r, 401, "unauthenticated")


def test_revoked_token_is_401():
    t = expect(W.call("POST", "/v1/users/contoso/tk/tokens", "admin",
                      {"label": "to revoke"}), 201)
    me = expect(W.c.call("GET", "/v1/me", token=t["token"]), 200)
    check(me["id"] == "tk" and me["realm"] == "contoso", "me %s" % short(me))
    rv = expect(W.call("DELETE", "/v1/tokens/" + t["id"], "ga1"), 200)
    check(rv.get("revoked_at") is not None, "revoked_at %s" % short(rv))
    check("token" not in rv, "the revoke answer shows the secret")
    expect(W.c.call("GET", "/v1/me", token=t["token"]), 401, "unauthenticated")


def test_user_manages_own_tokens():
    me = expect(W.call("GET", "/v1/users/contoso/rd1", "rd1"), 200)
    check(me["id"] == "rd1" and "token" not in me, "user %s" % short(me))
    t = expect(W.call("POST", "/v1/users/contoso/rd1/tokens", "rd1",
                      {"label": "laptop"}), 201)
    check(t["token"].startswith("lbt_") and len(t["token"]) == 47,
          "token %r" % t["token"])
    lst = expect(W.call("GET", "/v1/users/contoso/rd1/tokens", "rd1"), 200)
    check(t["id"] in [x["id"] for x in lst["items"]], "own token not listed")
    check(all("token" not in x for x in lst["items"]),
          "token list shows secrets")
    expect(W.call("DELETE", "/v1/tokens/" + t["id"], "rd1"), 200)
    expect(W.call("POST", "/v1/users/contoso/ap1/tokens", "rd1", {}), 403)
    expect(W.call("GET", "/v1/users/contoso/ap1", "rd1"), 403)
    expect(W.call("GET", "/v1/users/provider/eng1", "eng1"), 200)


def test_global_admin_creates_only_tenant_roles():
    u = expect(W.call("POST", "/v1/users", "ga1",
                      {"id": "newap", "realm": "contoso",
                       "roles": ["lockbox_approver"]}), 201)
    check(u["realm"] == "contoso" and u["roles"] == ["lockbox_approver"],
          "user %s" % short(u))
    expect(W.call("POST", "/v1/users", "ga1",
                  {"id": "newpa", "realm": "contoso",
                   "roles": ["provider_admin"]}), 422, "invalid_role")


def test_engineer_sees_only_own():
    mine = W.create_request()["id"]
    for who, sees in (("eng1", True), ("eng2", False)):
        ids = {x["id"] for x in W.list_all("/v1/tenants/contoso/requests",
                                           who=who, page_size=1000)}
        check((mine in ids) == sees, "%s listing contoso: sees eng1's "
              "request: %s" % (who, mine in ids))
        ids = {x["id"] for x in W.list_all("/v1/requests", who=who,
                                           page_size=1000)}
        check((mine in ids) == sees, "%s listing /v1/requests: sees eng1's "
              "request: %s" % (who, mine in ids))
        cases = {x["id"] for x in W.list_all("/v1/tenants/contoso/cases",
                                             who=who, page_size=1000)}
        check((W.cases["contoso"] in cases) == sees,
              "%s listing cases: sees eng1's case: %s"
              % (who, W.cases["contoso"] in cases))


def test_tenants_see_only_their_own_requests():
    c = W.create_request("contoso")["id"]
    f = W.create_request("fabrikam")["id"]
    ids = {x["id"] for x in W.list_all("/v1/tenants/fabrikam/requests",
                                       who="fabrikam/rd1", page_size=1000)}
    check(f in ids and c not in ids, "fabrikam's list: %s" % sorted(ids))
    expect(W.call("GET", RQ + f, "ga1"), 404, "not_found")
    expect(W.call("GET", "/v1/tenants/fabrikam/requests/" + c, "ga1"), 404,
           "not_found")
    expect(W.call("GET", "/v1/tenants/fabrikam/requests/" + c, "admin"), 404,
           "not_found")
    expect(W.call("GET", "/v1/tenants/nosuch/requests", "admin"), 404,
           "not_found")
    t = expect(W.call("GET", "/v1/tenants?page_size=1000", "admin"), 200)
    check({"contoso", "fabrikam"} <= {x["id"] for x in t["items"]},
          "tenant list %s" % short(t))


def test_same_id_in_another_realm_is_another_principal():
    # A provider user and a fabrikam user share the id of a contoso approver.
    W.create_user("contoso", "ga7", ["global_admin"])
    W.create_user("provider", "ga7", ["support_manager", "provider_admin"])
    W.create_user("fabrikam", "ga7", ["global_admin"])
    W.set_settings("contoso", approvers=["ga1", "ap1", "ga7"])
    try:
        rid = W.create_request()["id"]
        expect(W.call("POST", RQ + rid + "/approve", "provider/ga7", {}), 403)
        expect(W.call("POST", RQ + rid + "/approve", "fabrikam/ga7", {}), 404,
               "not_found")
        g = W.get_request("contoso", rid)
        check(g["status"] == "pending" and g["decisions"] == [],
              "a namesake decided: %s" % short(g))
        a = expect(W.call("POST", RQ + rid + "/approve", "contoso/ga7", {}),
                   200)
        check(a["decisions"][0]["realm"] == "contoso",
              "decision %s" % short(a["decisions"]))
    finally:
        W.set_settings("contoso", approvers=["ga1", "ap1"])


def test_query_parameters_do_not_cross_tenants():
    f = W.create_request("fabrikam")["id"]
    for path in ("/v1/tenants/contoso/requests?tenant=fabrikam",
                 "/v1/tenants/contoso/requests?tenant=fabrikam&status=pending"):
        r = W.call("GET", path, "ga1")
        if r.status == 200:
            check(f not in {x["id"] for x in r.body["items"]},
                  "%s lists fabrikam's request" % path)
        else:
            expect(r, 400)
    expect(W.call("GET", "/v1/requests?tenant=fabrikam", "ga1"), 403)
    ids = {x["id"] for x in W.list_all("/v1/requests?tenant=contoso",
                                       who="mgr1", page_size=1000)}
    check(f not in ids, "/v1/requests?tenant=contoso lists fabrikam's")


AUTHZ_RESOURCE = "mailbox/alice@contoso.example"   # harness.DEFAULT_RESOURCES


def test_route_jwks():
    for tok in (None, SHARED["bad"], W.tok("admin"),
                W.tok("rd1", "fabrikam")):
        r = W.c.call("GET", "/.well-known/jwks.json", token=tok)
        check(r.status == 200 and isinstance(r.body, dict)
              and isinstance(r.body.get("keys"), list) and r.body["keys"],
              "GET /.well-known/jwks.json (token %s): %s"
              % ("none" if tok is None else "set", r))
        for k in r.body["keys"]:
            check(k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
                  and k.get("kid") and k.get("x") and "d" not in k,
                  "jwks key %s" % short(k))


def _grant():
    rid = fresh_approved()
    g = expect(W.call("GET", RQ + rid + "/grant", "eng1"), 200)
    check(isinstance(g.get("token"), str) and g["token"].count(".") == 2,
          "grant %s is not a compact JWS" % short(g))
    return g["token"]


def _authz_expected(subj):
    if subj in ANON:
        return 401
    return 200 if subj == "gw1" else 403


def test_route_authz_post():
    grant = _grant()
    bad = []
    for subj in SUBJECTS:
        want = _authz_expected(subj)
        r = W.c.call("POST", "/v1/authz", token=token_of(subj),
                     body={"token": grant, "tenant": "contoso",
                           "resource": AUTHZ_RESOURCE, "action": "read"})
        good = r.status == want
        if good and want == 200:
            good = isinstance(r.body, dict) and r.body.get("decision") == "allow"
        elif good and want == 403:
            good = error_code(r) == "forbidden"
        if not good:
            bad.append("%s: -> %s %s (expected %s)" % (subj, r.status,
                                                      short(r.body, 100), want))
    check(not bad, "%d of %d wrong: %s" % (len(bad), len(SUBJECTS),
                                            "; ".join(bad)))


def test_route_authz_get():
    grant = _grant()
    bad = []
    for subj in SUBJECTS:
        want = _authz_expected(subj)
        hdrs = {"Authorization": "Bearer " + grant,
                "X-Original-URI": "/content/contoso/exchange/"
                + AUTHZ_RESOURCE,
                "X-Original-Method": "GET"}
        if token_of(subj) is not None:
            hdrs["X-Lockbox-Gateway-Token"] = token_of(subj)
        r = W.c.call("GET", "/v1/authz", headers=hdrs)
        good = r.status == want
        if good and want == 200:
            good = isinstance(r.body, dict) and r.body.get("decision") == "allow"
        if not good:
            bad.append("%s: -> %s %s (expected %s)" % (subj, r.status,
                                                      short(r.body, 100), want))
    check(not bad, "%d of %d wrong: %s" % (len(bad), len(SUBJECTS),
                                            "; ".join(bad)))
