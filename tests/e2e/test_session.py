"""Console sign-in (docs/api.md "Console sign-in (sessions)") and the web
console's static files: passwords, the session cookie and its flags, CSRF on
state-changing calls, sign-out, idle and absolute expiry (test clock), the
limit on failed sign-ins, /ui/ and its headers, path tricks under /ui/, the
access check refusing cookies, and the audit records (never a password).

The daemon serves a fixture web directory made here (--web-dir), never the
repository's web/.  The failure limiter counts per client address too (20 in
15 minutes), and every call comes from 127.0.0.1: tests that fail sign-ins
on purpose first move the test clock past the window (fresh_window).
"""

import http.client
import http.cookies
import json
import os
import time

from harness import (Daemon, HOUR_MS, MIN_MS, SLOW, Resp, World, check, expect,
                     short, ts_ms)

W = None
D = None
WEB = None
OUTSIDE = None
PW = {}                 # (realm, user) -> current password
SECRETS = set()         # every password and session id used: never stored or logged
RT = "CustomerLockboxSignIn"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
INDEX = b"<!doctype html><title>Lockbox</title><script src=\"app.js\"></script>\n"


def make_web(root):
    """A fixture console: index.html, app.js, a css below sub/, a hidden
    file, an unknown extension, and symbolic links leading out of it."""
    web = os.path.join(root, "web")
    out = os.path.join(root, "outside")
    os.makedirs(os.path.join(web, "sub"))
    os.makedirs(out)
    files = {
        "index.html": INDEX,
        "app.js": b"console.log('lockbox');\n",
        "sub/x.css": b"body { color: black; }\n",
        ".hidden.js": b"secret\n",
        "tool.exe": b"MZ\n",
    }
    for name, data in files.items():
        with open(os.path.join(web, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "secret.js"), "wb") as f:
        f.write(b"outside\n")
    os.symlink(os.path.join(out, "secret.js"), os.path.join(web, "link.js"))
    os.symlink(out, os.path.join(web, "dirlink"))
    return web, out


def new_password():
    p = "pw-" + os.urandom(12).hex()
    SECRETS.add(p)
    return p


def create_person(realm, uid, roles, password=True, type_=None):
    b = {"id": uid, "realm": realm, "roles": roles,
         "email": "%s@%s.example" % (uid, realm)}
    if type_:
        b["type"] = type_
    if password:
        b["password"] = new_password()
    u = expect(W.call("POST", "/v1/users", "admin", b), 201)
    check("password" not in u, "POST /v1/users echoed the password: %s" % short(u))
    W.tokens[(realm, uid)] = u["token"]
    if password:
        PW[(realm, uid)] = b["password"]
    return u


def setup_module():
    global W, D, WEB, OUTSIDE
    D = Daemon("session")
    WEB, OUTSIDE = make_web(D.dir)
    D.start(extra=["--web-dir", WEB])
    W = World(D)
    W.create_tenant("contoso")
    W.create_tenant("fabrikam")
    create_person("contoso", "ga1", ["global_admin"])
    create_person("contoso", "rd1", ["reader"])
    create_person("contoso", "np1", ["reader"], password=False)
    create_person("fabrikam", "ga1", ["global_admin"])
    create_person("provider", "eng1", ["support_engineer"])
    create_person("provider", "gw1", ["gateway"], password=False, type_="service")


def teardown_module():
    problems = []
    if W is not None:
        problems = W.d.close()
    check(not problems, "; ".join(problems))


# ------------------------------------------------------------- helpers


def raw_call(method, path, body=None, cookie=None, csrf=None, token=None,
             ctype="application/json", headers=None):
    """One call with an optional session cookie, CSRF token, bearer token and
    Content-Type (the harness's Client always sends application/json)."""
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = "lockbox_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if ctype:
            h["Content-Type"] = ctype
    conn = http.client.HTTPConnection("127.0.0.1", D.port, timeout=10 * SLOW)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read()
        status, rh = r.status, r.getheaders()
    finally:
        conn.close()
    parsed = text.decode("utf-8", "replace")
    if text[:1] == b"{":
        try:
            parsed = json.loads(parsed)
        except ValueError:
            pass
    return Resp(status, parsed, method, path, rh, text)


class Session:
    def __init__(self, resp):
        self.resp = resp
        self.body = resp.body
        self.set_cookie = resp.header("Set-Cookie") or ""
        jar = http.cookies.SimpleCookie()
        jar.load(self.set_cookie)
        check("lockbox_session" in jar, "no lockbox_session cookie: %r" % self.set_cookie)
        self.id = jar["lockbox_session"].value
        self.csrf = self.body["csrf_token"]
        SECRETS.add(self.id)

    def call(self, method, path, body=None, csrf=True, **kw):
        return raw_call(method, path, body, cookie=self.id,
                        csrf=self.csrf if csrf else None, **kw)


def signin_resp(realm, user, password, **kw):
    return raw_call("POST", "/v1/session",
                    {"realm": realm, "user": user, "password": password}, **kw)


def signin(realm, user, password=None):
    r = signin_resp(realm, user, password or PW[(realm, user)])
    expect(r, 200)
    return Session(r)


def fresh_window():
    """Past the 15-minute failure window (and every idle session)."""
    D.advance_clock(16 * MIN_MS)


def records(chain, operation=None):
    path = ("/v1/tenants/%s/audit" % chain) if chain else "/v1/provider/audit"
    q = "?record_type=%s&page_size=1000" % RT
    if operation:
        q += "&operation=" + operation
    return expect(W.call("GET", path + q, "admin"), 200)["items"]


def cookie_attrs(set_cookie):
    return [p.strip().lower() for p in set_cookie.split(";")[1:]]


# ------------------------------------------------------------- sign-in


def test_signin_answer_and_cookie_flags():
    fresh_window()
    t0 = D.clock_ms()
    s = signin("contoso", "ga1")
    b = s.body
    check(set(b) == {"user", "csrf_token", "idle_expires_at", "expires_at"},
          "session answer keys: %s" % sorted(b))
    check(b["user"]["id"] == "ga1" and b["user"]["realm"] == "contoso" and
          b["user"]["roles"] == ["global_admin"], "user: %s" % short(b["user"]))
    check(isinstance(b["csrf_token"], str) and len(b["csrf_token"]) == 43,
          "csrf_token %r" % b["csrf_token"])
    idle = ts_ms(b["idle_expires_at"]) - t0
    total = ts_ms(b["expires_at"]) - t0
    check(abs(idle - 30 * MIN_MS) < 60000, "idle_expires_at is %d ms away" % idle)
    check(abs(total - 12 * HOUR_MS) < 60000, "expires_at is %d ms away" % total)
    check(len(s.id) == 43, "session id %r" % s.id)
    attrs = cookie_attrs(s.set_cookie)
    for want in ("httponly", "samesite=strict", "path=/"):
        check(want in attrs, "Set-Cookie %r lacks %s" % (s.set_cookie, want))
    check("secure" not in attrs, "Secure without --secure-cookies: %r" % s.set_cookie)
    check(s.resp.header("Cache-Control") == "no-store", "sign-in answer is cacheable")


def test_signin_failures_are_one_answer():
    fresh_window()
    cases = [
        ("contoso", "ga1", "wrong-password-123"),        # wrong password
        ("contoso", "nosuch", "wrong-password-123"),     # unknown user
        ("nosuchrealm", "ga1", "wrong-password-123"),    # unknown realm
        ("contoso", "np1", "wrong-password-123"),        # user without a password
        ("provider", "gw1", "wrong-password-123"),       # a service principal
        ("contoso", "ga1", ""),                          # empty password
        ("contoso", "ga1", "x" * 2000),                  # longer than any password
        ("contoso", "../../etc", "wrong-password-123"),  # not an id at all
    ]
    bodies = set()
    times = {}
    for realm, user, pw in cases:
        t = time.monotonic()
        r = signin_resp(realm, user, pw)
        times[(realm, user, len(pw))] = time.monotonic() - t
        expect(r, 401, "unauthenticated")
        check(r.header("Set-Cookie") is None, "%s set a cookie" % (r,))
        bodies.add(r.raw)
    check(len(bodies) == 1, "the 401 answers differ: %s" % bodies)
    # Same time: the unknown user is verified against a dummy hash.  Only a
    # loose bound (a missing verification would be 100x faster).
    wrong = times[("contoso", "ga1", 18)]
    unknown = times[("contoso", "nosuch", 18)]
    check(unknown > wrong * 0.25, "unknown user answered in %.3fs, wrong password "
          "in %.3fs: no dummy verification?" % (unknown, wrong))


def test_signin_needs_json_content_type():
    fresh_window()
    r = signin_resp("contoso", "ga1", PW[("contoso", "ga1")], ctype="text/plain")
    expect(r, 400, "malformed_json")
    check(r.header("Set-Cookie") is None, "text/plain sign-in set a cookie")
    r = signin_resp("contoso", "ga1", PW[("contoso", "ga1")],
                    ctype="application/json; charset=utf-8")
    expect(r, 200)
    expect(raw_call("POST", "/v1/session", {"realm": "contoso", "user": "ga1"}),
           400, "missing_field")
    expect(raw_call("POST", "/v1/session", {"realm": "contoso", "user": "ga1",
                                            "password": "x" * 12, "remember": True}),
           400, "unknown_field")


def test_rate_limit_per_user():
    fresh_window()
    for i in range(5):
        expect(signin_resp("contoso", "rd1", "bad-password-%d" % i), 401,
               "unauthenticated")
    # The sixth, even with the right password, is refused.
    r = signin_resp("contoso", "rd1", PW[("contoso", "rd1")])
    expect(r, 429, "rate_limited")
    check(r.header("Set-Cookie") is None, "429 set a cookie")
    # Another user from the same address is not affected.
    signin("contoso", "ga1")
    fresh_window()
    signin("contoso", "rd1")


def test_rate_limit_per_address():
    fresh_window()
    for i in range(20):
        expect(signin_resp("contoso", "ghost%d" % i, "bad-password-x"), 401)
    expect(signin_resp("contoso", "ga1", PW[("contoso", "ga1")]), 429, "rate_limited")
    fresh_window()
    signin("contoso", "ga1")


# ------------------------------------------------------ using the cookie


def test_cookie_authenticates_reads():
    fresh_window()
    s = signin("contoso", "ga1")
    me = expect(s.call("GET", "/v1/me", csrf=False), 200)
    check(me["id"] == "ga1" and me["realm"] == "contoso", "me: %s" % short(me))
    again = expect(s.call("GET", "/v1/session", csrf=False), 200)
    check(again["csrf_token"] == s.csrf and again["user"]["id"] == "ga1",
          "GET /v1/session: %s" % short(again))
    expect(s.call("GET", "/v1/tenants/contoso/lockbox/settings", csrf=False), 200)
    # Tenant isolation holds for cookies exactly as for tokens.
    expect(s.call("GET", "/v1/tenants/fabrikam/lockbox/settings", csrf=False), 404)
    # A forged or unknown cookie is a 401.
    expect(raw_call("GET", "/v1/me", cookie="A" * 43), 401, "unauthenticated")
    expect(raw_call("GET", "/v1/me", cookie="not-a-session"), 401, "unauthenticated")
    # GET /v1/session is about the cookie: a bearer token has no session.
    expect(W.call("GET", "/v1/session", "contoso/ga1"), 401, "unauthenticated")


def test_csrf_required_on_state_changes():
    fresh_window()
    s = signin("contoso", "ga1")
    path = "/v1/tenants/contoso/lockbox/settings"
    before = expect(s.call("GET", path, csrf=False), 200)
    change = {"notification_emails": ["csrf@contoso.example"]}
    expect(s.call("PATCH", path, change, csrf=False), 403, "csrf_required")
    r = raw_call("PATCH", path, change, cookie=s.id, csrf="B" * 43)
    expect(r, 403, "csrf_required")
    check(expect(s.call("GET", path, csrf=False), 200) == before,
          "a refused PATCH changed the settings")
    # POST without the token creates nothing.
    body = {"id": "csrfuser", "realm": "contoso", "roles": ["reader"]}
    expect(s.call("POST", "/v1/users", body, csrf=False), 403, "csrf_required")
    expect(W.call("GET", "/v1/users/contoso/csrfuser", "admin"), 404)
    # With the token, both work.
    after = expect(s.call("PATCH", path, change), 200)
    check(after["notification_emails"] == ["csrf@contoso.example"], short(after))
    expect(s.call("POST", "/v1/users", body), 201)


def test_bearer_wins_over_cookie():
    fresh_window()
    s = signin("contoso", "ga1")
    me = expect(raw_call("GET", "/v1/me", cookie=s.id,
                         token=W.tok("contoso/rd1")), 200)
    check(me["id"] == "rd1", "bearer did not win: %s" % short(me))
    # A bearer call needs no CSRF token even with a cookie beside it.
    expect(raw_call("POST", "/v1/users/contoso/rd1/tokens", {"label": "x"},
                    cookie=s.id, token=W.tok("admin")), 201)


def test_signout_ends_the_session():
    fresh_window()
    s = signin("contoso", "ga1")
    other = signin("contoso", "ga1")
    expect(s.call("DELETE", "/v1/session", csrf=False), 403, "csrf_required")
    r = s.call("DELETE", "/v1/session")
    check(r.status == 204 and r.raw == b"", "sign-out: %s" % (r,))
    sc = r.header("Set-Cookie") or ""
    check(sc.startswith("lockbox_session=;") and "max-age=0" in cookie_attrs(sc),
          "sign-out did not clear the cookie: %r" % sc)
    # The old cookie is refused by the server, whatever the browser keeps.
    expect(s.call("GET", "/v1/me", csrf=False), 401, "unauthenticated")
    expect(s.call("DELETE", "/v1/session"), 401, "unauthenticated")
    # Another session of the same person lives on.
    expect(other.call("GET", "/v1/me", csrf=False), 200)


def test_idle_expiry():
    fresh_window()
    s = signin("contoso", "ga1")
    D.advance_clock(20 * MIN_MS)
    expect(s.call("GET", "/v1/me", csrf=False), 200)      # moves the idle expiry
    D.advance_clock(20 * MIN_MS)
    expect(s.call("GET", "/v1/me", csrf=False), 200)      # 40 min in, used 20 ago
    got = expect(s.call("GET", "/v1/session", csrf=False), 200)
    left = ts_ms(got["idle_expires_at"]) - D.clock_ms()
    check(29 * MIN_MS < left <= 30 * MIN_MS + 5000,
          "GET /v1/session idle_expires_at %d ms away" % left)
    D.advance_clock(31 * MIN_MS)
    expect(s.call("GET", "/v1/me", csrf=False), 401, "unauthenticated")


def test_absolute_expiry():
    fresh_window()
    s = signin("contoso", "ga1")
    end = ts_ms(s.body["expires_at"])
    step = 25 * MIN_MS
    for _ in range(40):
        D.advance_clock(step)
        r = s.call("GET", "/v1/me", csrf=False)
        if D.clock_ms() < end - 5000:
            expect(r, 200)
        elif D.clock_ms() > end + 5000:
            expect(r, 401, "unauthenticated")
            return
    check(False, "the session outlived its 12 hours")


# ------------------------------------------------------------ passwords


def test_set_own_password():
    fresh_window()
    a = signin("contoso", "rd1")
    b = signin("contoso", "rd1")
    path = "/v1/users/contoso/rd1/password"
    new = new_password()
    expect(a.call("POST", path, {"password": new}), 400, "missing_field")
    expect(a.call("POST", path, {"password": new, "current_password": "nope-nope-nope"}),
           403, "forbidden")
    expect(a.call("POST", path, {"password": new}, csrf=False), 403, "csrf_required")
    expect(a.call("POST", path, {"password": "short", "current_password":
                                 PW[("contoso", "rd1")]}), 422, "invalid_value")
    r = a.call("POST", path, {"password": new, "current_password": PW[("contoso", "rd1")]})
    check(r.status == 204, "set own password: %s" % (r,))
    old = PW[("contoso", "rd1")]
    PW[("contoso", "rd1")] = new
    # The session that changed it lives on; the other one ended.
    expect(a.call("GET", "/v1/me", csrf=False), 200)
    expect(b.call("GET", "/v1/me", csrf=False), 401, "unauthenticated")
    expect(signin_resp("contoso", "rd1", old), 401)
    signin("contoso", "rd1")


def test_admins_set_passwords():
    fresh_window()
    ga = signin("contoso", "ga1")
    # The tenant's global_admin, through the console.
    pw = new_password()
    r = ga.call("POST", "/v1/users/contoso/np1/password", {"password": pw})
    check(r.status == 204, "global_admin set np1's password: %s" % (r,))
    PW[("contoso", "np1")] = pw
    signin("contoso", "np1")
    # The provider_admin, with a token, for any realm.
    pw = new_password()
    r = W.call("POST", "/v1/users/provider/eng1/password", "admin", {"password": pw})
    check(r.status == 204, "provider_admin set eng1's password: %s" % (r,))
    PW[("provider", "eng1")] = pw
    signin("provider", "eng1")
    # Not allowed: a reader for someone else; another tenant's admin; services.
    rd = signin("contoso", "rd1")
    expect(rd.call("POST", "/v1/users/contoso/ga1/password", {"password": new_password()}),
           403, "forbidden")
    expect(W.call("POST", "/v1/users/contoso/ga1/password", "fabrikam/ga1",
                  {"password": new_password()}), 404)
    expect(W.call("POST", "/v1/users/provider/gw1/password", "admin",
                  {"password": new_password()}), 422, "invalid_value")
    expect(W.call("POST", "/v1/users/contoso/nosuch/password", "admin",
                  {"password": new_password()}), 404)
    expect(W.call("POST", "/v1/users/contoso/np1/password", "admin",
                  {"password": "y" * 1025}), 422, "field_too_long")


def test_create_user_with_password():
    fresh_window()
    b = {"id": "pw2", "realm": "contoso", "roles": ["reader"], "password": "short"}
    expect(W.call("POST", "/v1/users", "admin", b), 422, "invalid_value")
    expect(W.call("GET", "/v1/users/contoso/pw2", "admin"), 404)
    b["password"] = 5
    expect(W.call("POST", "/v1/users", "admin", b), 400, "invalid_field")
    b = {"id": "gw2", "realm": "provider", "roles": ["gateway"], "type": "service",
         "password": new_password()}
    expect(W.call("POST", "/v1/users", "admin", b), 422, "invalid_value")
    create_person("contoso", "pw2", ["reader"])
    signin("contoso", "pw2")


# ------------------------------------------------------ the access check


def test_authz_refuses_cookies():
    fresh_window()
    s = signin("contoso", "ga1")
    body = {"token": W.tok("provider/eng1"), "tenant": "contoso",
            "resource": "mailbox/a", "action": "read"}
    # With a bearer token ga1 is a known non-gateway (403); with the cookie
    # nobody is authenticated at all (401).
    expect(W.call("POST", "/v1/authz", "contoso/ga1", body), 403)
    expect(s.call("POST", "/v1/authz", body), 401, "unauthenticated")
    r = raw_call("GET", "/v1/authz", cookie=s.id,
                 headers={"X-Original-URI": "/content/contoso/exchange/mailbox/a",
                          "X-Original-Method": "GET"})
    check(r.status == 401, "GET /v1/authz with a cookie: %s" % (r,))


# ------------------------------------------------------------ the console


def check_console_headers(r):
    want = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
    for k, v in want.items():
        check(r.header(k) == v, "%s %s: %s is %r, expected %r"
              % (r.method, r.path, k, r.header(k), v))
    check(r.header("Cache-Control") in ("no-cache", "no-store") or
          (r.header("Cache-Control") or "").startswith("max-age"),
          "%s: Cache-Control %r" % (r.path, r.header("Cache-Control")))


def test_ui_serves_index_and_assets():
    r = D.client().call("GET", "/ui/")
    check(r.status == 200 and r.raw == INDEX, "GET /ui/: %s" % (r,))
    check((r.header("Content-Type") or "").startswith("text/html"),
          "index Content-Type %r" % r.header("Content-Type"))
    check_console_headers(r)
    r = D.client().call("GET", "/ui/index.html")
    check(r.status == 200 and r.raw == INDEX, "GET /ui/index.html: %s" % (r,))
    for path, ctype in (("/ui/app.js", "text/javascript"),
                        ("/ui/sub/x.css", "text/css")):
        r = D.client().call("GET", path)
        check(r.status == 200 and (r.header("Content-Type") or "").startswith(ctype),
              "GET %s: %s %r" % (path, r.status, r.header("Content-Type")))
        check_console_headers(r)
    for path in ("/ui", "/"):
        r = D.client().call("GET", path)
        check(r.status == 302 and r.header("Location") == "/ui/",
              "GET %s: %s Location %r" % (path, r.status, r.header("Location")))
    r = D.client().call("HEAD", "/ui/app.js")
    check(r.status == 200 and r.raw == b"", "HEAD /ui/app.js: %s" % (r,))
    expect(D.client().call("POST", "/ui/", body={}), 405, "method_not_allowed")


def test_ui_path_tricks():
    tricks = ["/ui/../lockbox.db", "/ui/%2e%2e/lockbox.db", "/ui/%2E%2E/web/index.html",
              "/ui/sub/../app.js", "/ui/./app.js", "/ui//app.js", "/ui/sub//x.css",
              "/ui/.hidden.js", "/ui/link.js", "/ui/dirlink/secret.js", "/ui/nosuch.js",
              "/ui/sub", "/ui/sub/", "/ui/tool.exe", "/ui/app.js%00.html",
              "/ui/app%2ejs", "/ui/%61pp.js", "/ui/..%2f..%2fetc/passwd",
              "/ui/\\app.js", "/ui/" + "a/" * 20 + "x.js", "/ui/" + "a" * 300 + ".js"]
    for p in tricks:
        r = D.client().call("GET", p)
        check(r.status == 404, "GET %s: %s, expected 404" % (p, r.status))
        check(b"outside" not in r.raw and b"secret" not in r.raw,
              "GET %s leaked a file" % p)
        check_console_headers(r)


# ------------------------------------------------------------- records


def test_records_and_no_secrets():
    t = records("contoso")
    ops = {}
    for rec in t:
        ops.setdefault((rec["operation"], rec["result"]), []).append(rec)
    for want in (("SignIn", "success"), ("SignIn", "failure"), ("SignOut", "success"),
                 ("SetPassword", "success")):
        check(want in ops, "no %s/%s record in contoso's chain; have %s"
              % (want[0], want[1], sorted(ops)))
    reasons = {r["details"].get("reason") for r in ops[("SignIn", "failure")]}
    check({"bad_credentials", "rate_limited"} <= reasons,
          "failure reasons: %s" % reasons)
    ok = ops[("SignIn", "success")][0]
    check(ok["actor"]["realm"] == "contoso" and ok["object_id"].startswith("contoso/"),
          "SignIn record: %s" % short(ok))
    setpw = [r for r in ops[("SetPassword", "success")] if r["object_id"] == "contoso/np1"]
    check(setpw and setpw[0]["actor"]["id"] == "ga1",
          "SetPassword of np1 by ga1 not recorded: %s" % short(ops[("SetPassword", "success")]))
    # The provider's chain has eng1's and the unknown realm's failures.
    prov = records("", "SignIn")
    check(any(r["object_id"] == "provider/eng1" and r["result"] == "success"
              for r in prov), "no provider SignIn of eng1")
    check(any(r["object_id"] == "nosuchrealm/ga1" and r["result"] == "failure"
              for r in prov), "an unknown realm's failure is not in the provider chain")
    # No password and no session id anywhere: the exports, the database, the log.
    blobs = []
    for path in ("/v1/tenants/contoso/audit/export", "/v1/provider/audit/export"):
        r = W.call("GET", path, "admin")
        check(r.status == 200, "export %s: %s" % (path, r.status))
        blobs.append(("export " + path, r.raw))
    for name in os.listdir(D.data_dir):
        if name.startswith("lockbox.db"):
            with open(os.path.join(D.data_dir, name), "rb") as f:
                blobs.append((name, f.read()))
    with open(D.log_path, "rb") as f:
        blobs.append(("log", f.read()))
    for where, blob in blobs:
        for sec in SECRETS:
            check(sec.encode() not in blob, "a secret appears in %s" % where)


def test_secure_cookies_flag():
    d = Daemon("session-secure")
    try:
        d.start(extra=["--secure-cookies", "true", "--web-dir", WEB])
        w = World(d)
        pw = new_password()
        expect(w.call("POST", "/v1/users", "admin",
                      {"id": "p1", "realm": "provider", "roles": ["support_engineer"],
                       "password": pw}), 201)
        c = d.client()
        r = c.call("POST", "/v1/session", body={"realm": "provider", "user": "p1",
                                                 "password": pw})
        expect(r, 200)
        attrs = cookie_attrs(r.header("Set-Cookie") or "")
        check("secure" in attrs and "httponly" in attrs and "samesite=strict" in attrs,
              "Set-Cookie with --secure-cookies: %r" % r.header("Set-Cookie"))
    finally:
        problems = d.close()
    check(not problems, "; ".join(problems))
