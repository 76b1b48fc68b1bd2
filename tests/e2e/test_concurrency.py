"""Concurrent decisions on one request: exactly one wins, the others get 409,
and exactly the winner's decision is stored (docs/api.md: "when several
people decide at once, exactly one wins and the others get 409")."""

import http.client
import json
import threading

from harness import (HTTP_TIMEOUT, Daemon, World, check, expect, short)

W = None
N_CALLS = 24
APPROVERS = ["a%d" % i for i in range(10)]


def setup_module():
    global W
    d = Daemon("concurrency")
    try:
        d.start()
        W = World(d)
        W.create_user("provider", "eng1", ["support_engineer"])
        for tid, cloud in (("conc", None), ("concgov", "gcc_high")):
            W.create_tenant(tid, plan="M365_E5", cloud=cloud)
            for i, uid in enumerate(APPROVERS):
                W.create_user(tid, uid, ["global_admin" if i == 0
                                         else "lockbox_approver"])
            W.set_settings(tid, who="%s/a0" % tid, enabled=True,
                           approvers=APPROVERS)
            cs = W.open_case(tid, assign="eng1", opener="%s/a0" % tid)
            W.cases[tid] = cs["id"]
    except BaseException:
        d.close()
        raise


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def storm(tenant, rid, calls):
    """calls: list of (token, action).  All connect first, then send at
    once behind a barrier.  Returns [(status, body)] in order."""
    n = len(calls)
    barrier = threading.Barrier(n, timeout=HTTP_TIMEOUT)
    results = [None] * n

    def one(i, token, action):
        conn = http.client.HTTPConnection("127.0.0.1", W.d.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.connect()
            body = json.dumps({"comment": "storm %d" % i}).encode()
            barrier.wait()
            conn.request("POST", "/v1/tenants/%s/requests/%s/%s"
                         % (tenant, rid, action), body=body,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            text = r.read()
            try:
                results[i] = (r.status, json.loads(text))
            except ValueError:
                results[i] = (r.status, text.decode("utf-8", "replace"))
        except Exception as e:  # reported as a failed call
            results[i] = (None, repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i, t, a), daemon=True)
               for i, (t, a) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HTTP_TIMEOUT * 3)
    check(not any(t.is_alive() for t in threads), "a call did not finish")
    return results


def check_losers(results, ok_count):
    wins = [i for i, (s, _) in enumerate(results) if s == 200]
    check(len(wins) == ok_count, "%d calls got 200, expected %d; statuses %s"
          % (len(wins), ok_count, [s for s, _ in results]))
    for i, (s, b) in enumerate(results):
        if s == 200:
            continue
        check(s == 409, "call %d got %s %s, expected 409" % (i, s, short(b)))
        check(isinstance(b, dict) and b.get("error", {}).get("code") in
              ("invalid_state", "already_approved", "conflict"),
              "call %d: 409 body %s" % (i, short(b)))
    return wins


def test_one_decision_wins():
    for rnd in range(5):
        rid = W.create_request("conc")["id"]
        calls = []
        for i in range(N_CALLS):
            who = APPROVERS[(i + rnd) % len(APPROVERS)]
            action = "approve" if (i * 7 + rnd) % 3 else "deny"
            calls.append((W.tok(who, "conc"), action, who))
        res = storm("conc", rid, [(t, a) for t, a, _ in calls])
        (win,) = check_losers(res, 1)
        _, action, who = calls[win]
        r = W.get_request("conc", rid)
        check(len(r["decisions"]) == 1, "round %d: %d decisions stored: %s"
              % (rnd, len(r["decisions"]), short(r["decisions"])))
        d = r["decisions"][0]
        check(d["by"] == who and d["decision"] == action,
              "round %d: stored decision %s, the 200 went to %s %s"
              % (rnd, short(d), who, action))
        want = "approved" if action == "approve" else "denied"
        check(r["status"] == want, "round %d: status %r, expected %r"
              % (rnd, r["status"], want))
        check(res[win][1].get("status") == want, "winner's answer %s"
              % short(res[win][1]))


def test_cancel_races_decisions():
    for rnd in range(3):
        rid = W.create_request("conc")["id"]
        calls = [(W.tok("eng1"), "cancel", "eng1")]
        for i in range(N_CALLS - 1):
            who = APPROVERS[i % len(APPROVERS)]
            calls.append((W.tok(who, "conc"),
                          "approve" if i % 2 else "deny", who))
        if rnd % 2:
            calls.reverse()
        res = storm("conc", rid, [(t, a) for t, a, _ in calls])
        (win,) = check_losers(res, 1)
        _, action, who = calls[win]
        r = W.get_request("conc", rid)
        check(len(r["decisions"]) == 1 and r["decisions"][0]["by"] == who,
              "decisions %s; winner %s" % (short(r["decisions"]), who))
        want = {"approve": "approved", "deny": "denied",
                "cancel": "cancelled"}[action]
        check(r["status"] == want, "status %r, expected %r"
              % (r["status"], want))


def test_two_stages_two_winners():
    for rnd in range(3):
        rid = W.create_request("concgov")["id"]
        calls = [(W.tok(APPROVERS[(i + rnd) % 10], "concgov"), "approve")
                 for i in range(N_CALLS)]
        res = storm("concgov", rid, calls)
        wins = check_losers(res, 2)
        r = W.get_request("concgov", rid)
        check(r["status"] == "approved", "status %r" % r["status"])
        ds = r["decisions"]
        check(len(ds) == 2, "%d decisions: %s" % (len(ds), short(ds)))
        check(ds[0]["by"] != ds[1]["by"], "one approver filled both stages: %s"
              % short(ds))
        check(sorted(d["stage"] for d in ds) == [1, 2], "stages %s"
              % short(ds))
        winners = {APPROVERS[(i + rnd) % 10] for i in wins}
        check(winners == {d["by"] for d in ds},
              "200s went to %s, stored decisions by %s"
              % (sorted(winners), sorted(d["by"] for d in ds)))


def test_concurrent_creates():
    n = N_CALLS
    barrier = threading.Barrier(n, timeout=HTTP_TIMEOUT)
    res = [None] * n
    body = json.dumps(W.request_body(W.cases["conc"])).encode()

    def one(i):
        conn = http.client.HTTPConnection("127.0.0.1", W.d.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.connect()
            barrier.wait()
            conn.request("POST", "/v1/tenants/conc/requests", body=body,
                         headers={"Authorization": "Bearer " + W.tok("eng1"),
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            res[i] = (r.status, json.loads(r.read()))
        except Exception as e:
            res[i] = (None, repr(e))
        finally:
            conn.close()

    ts = [threading.Thread(target=one, args=(i,), daemon=True)
          for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(HTTP_TIMEOUT * 3)
    check(all(s == 201 for s, _ in res), "statuses %s"
          % [(s, short(b, 80)) for s, b in res if s != 201][:3])
    ids = [b["id"] for _, b in res]
    check(len(set(ids)) == n, "duplicate ids among concurrent creates")
    listed = {x["id"] for x in W.list_all("/v1/tenants/conc/requests",
                                          page_size=1000)}
    check(set(ids) <= listed, "created requests missing from the list")
