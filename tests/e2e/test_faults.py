"""The access check fails closed when its audit record cannot be written
(docs/api.md, "Enforcement": "If it cannot be written, the answer is 403
(reason: audit_unavailable), never an allow and never a 5xx").

How the audit storage is made unwritable here: the tests run as root
(`id -u` is 0), and root ignores file modes, so chmod-ing the data directory
or the database read-only makes nothing fail; a full tmpfs needs mount
privileges.  What does fail every write of the daemon, for as long as we
like, is SQLite's own lock: a second connection to the daemon's database
holding `BEGIN EXCLUSIVE`.  The database is in WAL mode, so this blocks
every writer and no reader.  The daemon waits out its busy timeout (5 s)
and must then refuse; we hold the lock 7 s, so the calls that start in its
first 2 s meet a failed write, and the later ones wait and commit after the
release.

The load is bounded: 8 threads straight at the daemon (GET /v1/authz as
nginx sends it, and POST /v1/authz) plus one thread through nginx, for at
most 15 s or 3000 calls in all.
"""

import http.client
import sqlite3
import sys
import threading
import time

import nginxctl
from harness import SLOW, check, expect, short, start_world
from nginxctl import count_access, json_of

TEST_TIMEOUT = 90

W = None
NX = None
GW = None

ALICE_RES = "mailbox/alice@contoso.example"
ALICE_PATH = ALICE_RES + "/inbox/1.eml"
ALICE = "/content/contoso/exchange/" + ALICE_PATH
ALICE_BYTES = b"From: alice\r\n\r\nthe fault test's message\r\n"

THREADS = 8
MAX_CALLS = 3000
MAX_SECONDS = 15.0
LOCK_AFTER = 2.0          # seconds of normal load before the lock
LOCK_HOLD = 7.0           # > the daemon's 5 s busy timeout
CALL_TIMEOUT = 20.0       # one call: busy timeout + group commit + margin
GRACE = 0.5               # an answer this soon after locking may predate it
PHASE_CALLS = {"before": 1000, "locked": 400, "after": 1500}


def setup_module():
    global W, NX, GW
    check(nginxctl.available(), "nginx or examples/nginx/render.sh missing")
    W = start_world("faults")
    GW = W.tok("gw1")
    NX = nginxctl.Nginx(W.d.port, GW, name="nginx-faults", access_log=False)
    nginxctl.write_tree(NX.content_root,
                        {"contoso/exchange/" + ALICE_PATH: ALICE_BYTES})
    NX.start()


def teardown_module():
    problems = []
    if NX is not None:
        NX.close()
    if W is not None:
        problems = W.d.close()
    check(not problems, "; ".join(problems))


def approved_grant():
    r = W.create_request(resources=[ALICE_RES])
    W.decide("contoso", r["id"], "approve", "ga1", {"comment": "ok"})
    g = expect(W.call("GET", W.req_path("contoso", r["id"], "grant"), "eng1"),
               200)
    return r["id"], g["token"]


class Load:
    """Bounded load; every answer is kept as
    (t_sent, t_answered, via, status, reason)."""

    def __init__(self, grant, port, nginx_port):
        self.grant = grant
        self.port = port
        self.nginx_port = nginx_port
        self.mu = threading.Lock()
        self.results = []
        self.errors = []
        self.calls = 0
        self.stop = threading.Event()
        self.deadline = time.monotonic() + MAX_SECONDS * SLOW
        self.phase = "before"
        self.per_phase = {k: 0 for k in PHASE_CALLS}

    def set_phase(self, phase):
        with self.mu:
            self.phase = phase

    def _take(self):
        """True: make a call; False: stop; None: this phase's calls are
        spent, wait for the next phase (so that a fast machine cannot use
        up every call before the outage starts)."""
        with self.mu:
            if self.calls >= MAX_CALLS or self.stop.is_set() \
                    or time.monotonic() >= self.deadline:
                return False
            if self.per_phase[self.phase] >= PHASE_CALLS[self.phase]:
                return None
            self.per_phase[self.phase] += 1
            self.calls += 1
            return True

    def _one(self, conn, kind):
        if kind == "get":
            conn.request("GET", "/v1/authz", headers={
                "Authorization": "Bearer " + self.grant,
                "X-Lockbox-Gateway-Token": GW,
                "X-Original-URI": ALICE, "X-Original-Method": "GET"})
        elif kind == "post":
            body = ('{"token":"%s","tenant":"contoso","resource":"%s",'
                    '"action":"read","workload":"exchange"}'
                    % (self.grant, ALICE_PATH))
            conn.request("POST", "/v1/authz", body=body, headers={
                "Authorization": "Bearer " + GW,
                "Content-Type": "application/json"})
        else:
            conn.request("GET", ALICE,
                         headers={"Authorization": "Bearer " + self.grant})
        r = conn.getresponse()
        data = r.read()
        reason = r.getheader("X-Lockbox-Reason")
        if kind != "nginx" and r.status != 200:
            b = json_of(data)
            if isinstance(b, dict) and isinstance(b.get("error"), dict):
                reason = b["error"].get("reason", reason)
        if kind == "nginx" and r.status == 200 and data != ALICE_BYTES:
            reason = "wrong bytes"
        return r.status, reason

    def worker(self, kind):
        port = self.nginx_port if kind == "nginx" else self.port
        conn = None
        for _ in range(1000000):
            go = self._take()
            if go is False:
                break
            if go is None:
                time.sleep(0.01)
                continue
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=CALL_TIMEOUT * SLOW)
            t0 = time.monotonic()
            try:
                st, reason = self._one(conn, kind)
            except (OSError, http.client.HTTPException) as e:
                with self.mu:
                    self.errors.append((t0, time.monotonic(), kind, repr(e)))
                conn.close()
                conn = None
                continue
            with self.mu:
                self.results.append((t0, time.monotonic(), kind, st, reason))
        if conn is not None:
            conn.close()

    def run_threads(self):
        kinds = ["get" if i % 2 == 0 else "post" for i in range(THREADS)]
        kinds.append("nginx")
        self.threads = [threading.Thread(target=self.worker, args=(k,),
                                         daemon=True) for k in kinds]
        for t in self.threads:
            t.start()

    def join(self):
        for t in self.threads:
            t.join(CALL_TIMEOUT * SLOW + 5)
        check(not any(t.is_alive() for t in self.threads),
              "load threads did not finish")


def test_audit_outage_under_load_fails_closed():
    rid, grant = approved_grant()
    check(count_access(W.d.db_path, rid) == 0, "records before the load")
    load = Load(grant, W.d.port, NX.port)
    t_start = time.monotonic()
    load.run_threads()
    time.sleep(LOCK_AFTER)

    con = sqlite3.connect(W.d.db_path, timeout=5.0 * SLOW, isolation_level=None)
    t_locked = t_release = t_released = None
    try:
        con.execute("BEGIN EXCLUSIVE")
        t_locked = time.monotonic()
        load.set_phase("locked")
        time.sleep(LOCK_HOLD)
        t_release = time.monotonic()
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
        t_released = time.monotonic()
        load.set_phase("after")
    # let the allows resume for a while, within the bounds
    time.sleep(max(0.0, min(3.0, load.deadline - time.monotonic() - 0.5)))
    load.stop.set()
    load.join()

    res = load.results
    by_status = {}
    for _, _, kind, st, reason in res:
        by_status.setdefault((kind, st, reason), 0)
        by_status[(kind, st, reason)] += 1
    summary = ", ".join("%s %s %s: %d" % (k, s, r or "", n)
                        for (k, s, r), n in sorted(by_status.items(),
                                                   key=str))
    sys.stderr.write("note: faults load %d calls in %.1fs (lock %.1f..%.1f s): "
                     "%s; transport errors %d\n"
                     % (len(res), time.monotonic() - t_start,
                        t_locked - t_start, t_release - t_start, summary,
                        len(load.errors)))

    check(not load.errors, "transport errors (connection reset, timeout): %s"
          % short([e[2:] for e in load.errors[:5]]))
    bad = [x for x in res if x[3] not in (200, 403)]
    check(not bad, "answers other than 200/403 (a 5xx reaches nginx as a "
          "500): %s" % short([(k, s, r) for _, _, k, s, r in bad[:10]]))
    wrong = [x for x in res if x[3] == 403 and x[4] != "audit_unavailable"]
    check(not wrong, "refusals with another reason than audit_unavailable: %s"
          % short([(k, s, r) for _, _, k, s, r in wrong[:10]]))
    bytes_bad = [x for x in res if x[4] == "wrong bytes"]
    check(not bytes_bad, "nginx served other bytes than the file")

    refused = [x for x in res if x[3] == 403]
    check(refused, "no call was refused while the database was locked for "
          "%.0f s: the outage did not reach the audit writes" % LOCK_HOLD)
    check(all(t_locked <= x[1] for x in refused),
          "a refusal before the lock was taken")
    allowed_in_lock = [x for x in res if x[3] == 200
                       and t_locked + GRACE < x[1] < t_release]
    check(not allowed_in_lock, "%d allows answered while the database was "
          "locked (their records cannot have been durable): first at +%.2fs "
          "into the lock" % (len(allowed_in_lock),
                             allowed_in_lock[0][1] - t_locked
                             if allowed_in_lock else 0))
    before = [x for x in res if x[3] == 200 and x[1] < t_locked]
    after = [x for x in res if x[3] == 200 and x[0] > t_released]
    check(before, "no allow before the lock")
    check(after, "allows did not resume after the lock was released")

    # every 200 the clients got has its durable record, and no more
    n200 = sum(1 for x in res if x[3] == 200)
    n_rec = count_access(W.d.db_path, rid, "allowed")
    check(n_rec == n200, "%d allowed records for %d answers 200 (%s)"
          % (n_rec, n200, "missing records" if n_rec < n200
             else "records of allows the client never got"))

    expect(W.call("GET", "/readyz"), 200)
    st, _, data = NX.get(ALICE, token=grant)
    check(st == 200 and data == ALICE_BYTES, "after the outage: %s" % st)
    check(count_access(W.d.db_path, rid, "allowed") == n200 + 1,
          "the allow after the outage has no record")


def test_short_lock_within_the_busy_timeout_only_delays():
    """A lock shorter than the busy timeout: the check waits and allows,
    with its record; nothing is refused."""
    rid, grant = approved_grant()
    con = sqlite3.connect(W.d.db_path, timeout=5.0 * SLOW, isolation_level=None)
    out = {}

    def call():
        try:
            out["r"] = NX.get(ALICE, token=grant)
        except Exception as e:   # noqa: B902 - reported below
            out["e"] = e

    try:
        con.execute("BEGIN EXCLUSIVE")
        t = threading.Thread(target=call, daemon=True)
        t0 = time.monotonic()
        t.start()
        time.sleep(1.5)
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
    t.join(CALL_TIMEOUT * SLOW)
    dt = time.monotonic() - t0
    check("e" not in out and "r" in out, "call failed: %r" % out.get("e"))
    st, _, data = out["r"]
    check(st == 200 and data == ALICE_BYTES, "after a 1.5 s lock: %s" % st)
    check(dt >= 1.4, "the allow did not wait for the lock (%.2fs)" % dt)
    check(count_access(W.d.db_path, rid, "allowed") == 1,
          "the delayed allow has no record")


def test_nginx_passes_the_refusal_as_403_not_500():
    """One call through nginx and one POST /v1/authz made while the lock is
    held: both are refused with 403 audit_unavailable (nginx maps only
    401/403 from auth_request; a 5xx would reach the client as 500).  The
    lock is held 11 s, over two busy timeouts: the daemon's group commit may
    put the two calls in two successive batches, and the second batch's
    write starts only when the first one has failed (5 s)."""
    rid, grant = approved_grant()
    out = {}

    def via_nginx():
        try:
            out["nginx"] = NX.get(ALICE, token=grant)
        except Exception as e:   # noqa: B902 - reported below
            out["nginx"] = e

    def via_post():
        try:
            out["post"] = nginxctl.request(
                W.d.port, "POST", "/v1/authz", token=GW,
                body={"token": grant, "tenant": "contoso",
                      "resource": ALICE_PATH, "action": "read"},
                timeout=CALL_TIMEOUT * SLOW)
        except Exception as e:   # noqa: B902 - reported below
            out["post"] = e

    con = sqlite3.connect(W.d.db_path, timeout=5.0 * SLOW, isolation_level=None)
    ts = [threading.Thread(target=f, daemon=True) for f in (via_nginx, via_post)]
    try:
        con.execute("BEGIN EXCLUSIVE")
        for t in ts:
            t.start()
            time.sleep(0.2)
        time.sleep(11.0)               # > 2 x the 5 s busy timeout
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
    for t in ts:
        t.join(CALL_TIMEOUT * SLOW)
    for k in ("nginx", "post"):
        got = out.get(k)
        check(got is not None and not isinstance(got, Exception),
              "%s during the outage: %r" % (k, got))
    st, hd, body = out["nginx"]
    check(st == 403, "through nginx during the outage: %s, expected 403" % st)
    check(ALICE_BYTES not in body, "content served during the outage")
    check(hd.get("x-lockbox-reason") == "audit_unavailable",
          "X-Lockbox-Reason %r" % hd.get("x-lockbox-reason"))
    st, _, raw = out["post"]
    b = json_of(raw)
    check(st == 403 and isinstance(b, dict)
          and b.get("error", {}).get("code") == "access_denied"
          and b["error"].get("reason") == "audit_unavailable",
          "POST /v1/authz during the outage: %s %s, expected 403 "
          "access_denied audit_unavailable" % (st, short(b)))
    check(count_access(W.d.db_path, rid, "allowed") == 0,
          "an allowed record for a refused call")
    st, _, data = NX.get(ALICE, token=grant)
    check(st == 200 and data == ALICE_BYTES, "after the outage: %s" % st)


def test_sigterm_under_load_exits_cleanly_with_every_allow_recorded():
    """SIGTERM while access checks are in flight (each waiting, with its
    connection suspended, for its group commit): the daemon drains them and
    exits 0, and every allow a client received has its record."""
    w = start_world("sigterm-load")
    try:
        r = w.create_request(resources=[ALICE_RES])
        w.decide("contoso", r["id"], "approve", "ga1", {"comment": "ok"})
        g = expect(w.call("GET", w.req_path("contoso", r["id"], "grant"), "eng1"), 200)
        gw = w.tok("gw1")
        mu = threading.Lock()
        allowed = [0]
        stop = threading.Event()
        deadline = time.monotonic() + 20.0 * SLOW

        def worker():
            conn = None
            for _ in range(5000):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", w.d.port,
                                                          timeout=CALL_TIMEOUT)
                    conn.request("GET", "/v1/authz", headers={
                        "X-Lockbox-Gateway-Token": gw, "X-Original-URI": ALICE,
                        "X-Original-Method": "GET",
                        "Authorization": "Bearer " + g["token"]})
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status == 200:
                        with mu:
                            allowed[0] += 1
                except (OSError, http.client.HTTPException):
                    conn = None
                    time.sleep(0.01)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        rc = w.d.stop()
        stop.set()
        for t in threads:
            t.join(timeout=CALL_TIMEOUT)
        check(rc == 0, "lockboxd exit status on SIGTERM under load: %s" % rc)
        n = count_access(w.d.db_path, r["id"], "allowed")
        check(allowed[0] > 0, "no allow was answered before the stop")
        check(n >= allowed[0], "%d allows answered, only %d allowed records"
              % (allowed[0], n))
    finally:
        problems = w.d.close()
    check(not problems, "; ".join(problems))
