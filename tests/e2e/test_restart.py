"""Durability: SIGTERM and restart keeps everything; SIGKILL keeps every
committed request; the sweeper catches up on expiries that fell due while
the daemon was down."""

import threading
import time

from harness import (HOUR_MS, SLOW, Client, as_answered, check, expect,
                     new_token, poll, short, start_world)

W = None


def setup_module():
    global W
    W = start_world("restart")


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def snapshot():
    s = {}
    s["tenants"] = W.list_all("/v1/tenants", page_size=1000)
    s["provider_settings"] = expect(W.call("GET", "/v1/provider/settings",
                                           "admin"), 200)
    for realm in ("provider", "contoso", "fabrikam"):
        s["users/" + realm] = W.list_all("/v1/users?realm=" + realm,
                                         page_size=1000)
    for t in ("contoso", "fabrikam"):
        s["settings/" + t] = expect(W.call(
            "GET", "/v1/tenants/%s/lockbox/settings" % t, "admin"), 200)
        s["cases/" + t] = W.list_all("/v1/tenants/%s/cases" % t,
                                     page_size=1000)
        reqs = W.list_all("/v1/tenants/%s/requests" % t, page_size=1000)
        s["requests/" + t] = reqs
        for r in reqs:
            s["request/" + r["id"]] = W.get_request(t, r["id"])
    s["tokens/contoso/ga1"] = W.list_all("/v1/users/contoso/ga1/tokens",
                                         page_size=1000)
    s["all"] = W.list_all("/v1/requests", page_size=1000)
    return s


def diff(a, b, path=""):
    if type(a) != type(b):
        return "%s: %s != %s" % (path or "/", short(a, 120), short(b, 120))
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s/%s: only on one side" % (path, k)
            d = diff(a[k], b[k], "%s/%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items != %d items" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %s != %s" % (path, short(a, 120),
                                                 short(b, 120))


def test_sigterm_restart_keeps_everything():
    p = W.create_request()
    a = W.create_request(duration=240)
    W.decide("contoso", a["id"], "approve", "ga1", {"comment": "ok"})
    dn = W.create_request()
    W.decide("contoso", dn["id"], "deny", "ap1", {"comment": "no"})
    cn = W.create_request()
    W.decide("contoso", cn["id"], "cancel", "eng1")
    W.create_request("fabrikam")
    W.set_settings("contoso", audit_retention_days=365,
                   notification_emails=["a@contoso.example",
                                        "b@contoso.example"])
    expect(W.call("POST", "/v1/users/contoso/ga1/tokens", "ga1",
                  {"label": "second"}), 201)
    closed = W.open_case("contoso", assign="eng2")
    expect(W.call("POST", "/v1/tenants/contoso/cases/%s/close"
                  % closed["id"], "ga1", {}), 200)
    before = snapshot()
    check(p["id"] in {r["id"] for r in before["requests/contoso"]},
          "created request not listed before the restart")
    rc = W.d.stop()
    check(rc == 0, "exit status on SIGTERM: %s, expected 0; log:\n%s"
          % (rc, W.d.log_tail(20)))
    W.d.start()
    after = snapshot()
    d = diff(before, after)
    check(d is None, "state differs after the restart: %s" % d)
    for (realm, uid), tok in list(W.tokens.items()):
        me = expect(W.c.call("GET", "/v1/me", token=tok), 200)
        check(me["id"] == uid and me["realm"] == realm,
              "token of %s/%s answers %s" % (realm, uid, short(me)))
    r = W.create_request()
    x = W.decide("contoso", r["id"], "approve", "ap1")
    check(x["status"] == "approved", "no writes after the restart: %s"
          % short(x))


def test_bootstrap_token_only_on_a_new_database():
    other = new_token()
    rc = W.d.stop()
    check(rc == 0, "exit status on SIGTERM: %s" % rc)
    W.d.start(token=other)
    expect(W.c.call("GET", "/v1/me", token=W.tok("admin")), 200)
    expect(W.c.call("GET", "/v1/me", token=other), 401, "unauthenticated")
    rc = W.d.stop()
    check(rc == 0, "exit status on SIGTERM: %s" % rc)
    W.d.start()


def test_sigkill_keeps_committed_requests():
    created = []
    stop = threading.Event()
    errors = []

    def writer():
        c = Client(W.d.port)
        body = W.request_body(W.cases["contoso"])
        tok = W.tok("eng1")
        for _ in range(2000):
            if stop.is_set():
                return
            try:
                r = c.call("POST", "/v1/tenants/contoso/requests", token=tok,
                           body=body, timeout=5.0 * SLOW)
            except Exception as e:
                errors.append(repr(e))
                return
            if r.status != 201:
                errors.append(str(r))
                return
            created.append(r.body)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    poll(lambda: len(created) >= 20 or not t.is_alive(),
         "20 requests to be created", timeout=20.0 * SLOW)
    check(len(created) >= 20, "writer stopped early: %s" % errors[:1])
    rc = W.d.kill9()
    stop.set()
    t.join(10.0 * SLOW)
    check(not t.is_alive(), "writer thread did not stop")
    check(rc == -9, "exit status after SIGKILL: %s" % rc)
    W.d.start()
    listed = {r["id"]: r for r in W.list_all("/v1/tenants/contoso/requests",
                                             page_size=1000)}
    missing = [r["id"] for r in created if r["id"] not in listed]
    check(not missing, "%d of %d committed requests lost after SIGKILL: %s"
          % (len(missing), len(created), missing[:5]))
    for r in created[-5:]:
        g = W.get_request("contoso", r["id"])
        check(as_answered(g) == as_answered(r),
              "request changed across SIGKILL:\n%s\n%s"
              % (short(r), short(g)))


def test_sweeper_catches_up_after_downtime():
    # Runs last: moves the clock 13 h forward.
    p = W.create_request()
    a = W.create_request(duration=60)
    W.decide("contoso", a["id"], "approve", "ga1")
    rc = W.d.stop()
    check(rc == 0, "exit status on SIGTERM: %s" % rc)
    check(W.d.stored_status("request", p["id"]) == "pending",
          "stored status before the downtime: %r"
          % W.d.stored_status("request", p["id"]))
    W.d.advance_clock(13 * HOUR_MS, wait=False)
    t0 = time.monotonic()
    W.d.start(sweep_ms=200)
    poll(lambda: W.d.stored_status("request", p["id"]) == "expired",
         "the sweeper to store the expiry", timeout=10.0 * SLOW)
    poll(lambda: W.d.stored_status("request", a["id"]) == "completed",
         "the sweeper to store the window's end", timeout=10.0 * SLOW)
    import sys
    sys.stderr.write("(catch-up stored %.2fs after start)\n"
                     % (time.monotonic() - t0))
    g = W.get_request("contoso", p["id"])
    check(g["status"] == "expired" and g["decisions"] == [],
          "after the catch-up: %s" % short(g))
    check(W.get_request("contoso", a["id"])["status"] == "completed",
          "approved request does not read completed")
