"""
End-to-end harness for Lockbox: starts build/lockboxd on a free port with a
fresh data directory, talks HTTP to it, and builds the standard world of
tenants, users, settings and cases the tests share.

Python 3 standard library only.  Every HTTP call has a timeout, every loop a
count and a time bound, and every daemon is stopped by its PID.

Environment:
  LOCKBOX_BUILD        build directory holding lockboxd and lockbox ("build")
  LOCKBOX_E2E_SLOW     multiplier for every timeout (default 1, 4 under ASan)
  LOCKBOX_E2E_KEEP=1   keep the temporary data directories (for debugging)
"""

import base64
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("LOCKBOX_BUILD", "build")
BUILD_DIR = BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD)
LOCKBOXD = os.path.join(BUILD_DIR, "lockboxd")
LOCKBOX = os.path.join(BUILD_DIR, "lockbox")


def _default_slow():
    if "asan" in os.path.basename(os.path.normpath(BUILD_DIR)):
        return 4.0
    return 1.0


try:
    SLOW = float(os.environ.get("LOCKBOX_E2E_SLOW", "") or _default_slow())
except ValueError:
    SLOW = _default_slow()
HTTP_TIMEOUT = 10.0 * SLOW
READY_TIMEOUT = 10.0 * SLOW
STOP_TIMEOUT = 10.0 * SLOW
KEEP = os.environ.get("LOCKBOX_E2E_KEEP") == "1"

HOUR_MS = 3600 * 1000
MIN_MS = 60 * 1000

STATUSES = ["pending_internal", "pending", "approved", "denied", "expired",
            "revoked", "cancelled", "completed"]
PROVIDER_ROLES = ["provider_admin", "support_engineer", "support_manager",
                  "incident_manager", "gateway"]
TENANT_ROLES = ["global_admin", "lockbox_approver", "compliance_admin",
                "security_admin", "reader"]


class Fail(AssertionError):
    """A test's expectation did not hold."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def new_token():
    """A bootstrap token: lbt_ + 43 base64url characters (32 random bytes)."""
    return "lbt_" + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def short(v, n=300):
    s = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + "..."


# ---------------------------------------------------------------- time


TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def ts_ms(s, what="timestamp"):
    """RFC 3339 UTC with milliseconds -> ms since the epoch (checks format)."""
    check(isinstance(s, str) and TS_RE.match(s),
          "%s %r is not RFC 3339 UTC with milliseconds" % (what, s))
    d = datetime.datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + int(s[20:23])


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- HTTP


class Resp(tuple):
    """(status, body) with the call it answers, for messages."""

    def __new__(cls, status, body, method, path, headers, raw):
        self = tuple.__new__(cls, (status, body))
        self.method = method
        self.path = path
        self.headers = headers
        self.raw = raw
        return self

    @property
    def status(self):
        return self[0]

    @property
    def body(self):
        return self[1]

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __str__(self):
        return "%s %s -> %s %s" % (self.method, self.path, self.status,
                                   short(self.body))


class Client:
    def __init__(self, port, host="127.0.0.1"):
        self.host = host
        self.port = port

    def call(self, method, path, token=None, body=None, raw=None,
             headers=None, timeout=None):
        """One HTTP call on a new connection -> Resp(status, json_or_text)."""
        hdrs = {}
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        conn = http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout or HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            text = r.read()
            status = r.status
            rh = r.getheaders()
        finally:
            conn.close()
        ctype = ""
        for k, v in rh:
            if k.lower() == "content-type":
                ctype = v
        parsed = text.decode("utf-8", "replace")
        if "json" in ctype or text[:1] in (b"{", b"["):
            try:
                parsed = json.loads(text.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                pass
        return Resp(status, parsed, method, path, rh, text)


def raw_http(port, data, timeout=None):
    """Sends raw bytes; returns (status or None, response bytes, error)."""
    timeout = timeout or HTTP_TIMEOUT
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    err = None
    out = b""
    try:
        try:
            s.sendall(data)
        except OSError as e:
            err = e
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except OSError as e:
                err = err or e
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out, err


def is_error_body(body):
    return (isinstance(body, dict) and set(body) == {"error"}
            and isinstance(body["error"], dict)
            and set(body["error"]) == {"code", "message"}
            and isinstance(body["error"]["code"], str)
            and isinstance(body["error"]["message"], str)
            and body["error"]["message"] != "")


def expect(resp, status, code=None):
    """Checks the status (an int or a collection) and, for errors, that the
    body is exactly {"error": {"code", "message"}} with `code` (a str or a
    collection).  Returns the body."""
    ok = resp.status in status if isinstance(status, (set, tuple, list)) \
        else resp.status == status
    if not ok:
        raise Fail("%s; expected %s%s" % (resp, status,
                                          (" " + str(code)) if code else ""))
    if resp.status >= 400:
        check(is_error_body(resp.body),
              "%s: error body is not exactly {\"error\":{\"code\",\"message\"}}"
              % (resp,))
        if code is not None:
            c = resp.body["error"]["code"]
            good = c in code if isinstance(code, (set, tuple, list)) else c == code
            check(good, "%s; expected code %s" % (resp, code))
    return resp.body


def as_answered(req):
    """A request as every answer shows it: GET .../requests/{id} also
    carries "access_receipt" (docs/api.md, Enforcement), other answers need
    not, so comparisons between answers leave it out."""
    if isinstance(req, dict):
        return {k: v for k, v in req.items() if k != "access_receipt"}
    return req


def error_code(resp):
    if is_error_body(resp.body):
        return resp.body["error"]["code"]
    return None


def poll(fn, what, timeout=None, interval=0.05):
    """Calls fn() until it returns a true value; bounded in time and count."""
    timeout = timeout or 5.0 * SLOW
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(100000):
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise Fail("timed out after %.1fs waiting for %s" % (timeout, what))


# -------------------------------------------------------------- daemon

_live = {}
_live_mu = threading.Lock()

SANITIZER_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                          r"runtime error:|WARNING: ThreadSanitizer|"
                          r"ERROR: UndefinedBehaviorSanitizer)")


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKBOX_")}
    return env


class Daemon:
    """One lockboxd with its own temporary data directory and test clock."""

    def __init__(self, name="lockboxd", clock=True, sweep_ms=200, token=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="lockbox-e2e-%s-" % name)
        self.data_dir = os.path.join(self.dir, "data")
        os.mkdir(self.data_dir)
        self.db_path = os.path.join(self.data_dir, "lockbox.db")
        self.log_path = os.path.join(self.dir, "lockboxd.log")
        self.clock_path = os.path.join(self.dir, "clock") if clock else None
        self.offset_ms = 0
        if clock:
            self.set_clock(0, wait=False)
        self.sweep_ms = sweep_ms
        self.token = token or new_token()
        self.port = None
        self.proc = None
        self.problems = []
        self.starts = 0

    # -- clock

    def set_clock(self, offset_ms, wait=True):
        """Writes the offset atomically; waits until the daemon re-read it."""
        check(self.clock_path is not None, "daemon has no test clock")
        self.offset_ms = int(offset_ms)
        tmp = self.clock_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.offset_ms)
        os.replace(tmp, self.clock_path)
        if wait:
            time.sleep(0.15 * SLOW)   # the daemon re-reads it every 50 ms

    def advance_clock(self, ms, wait=True):
        self.set_clock(self.offset_ms + ms, wait=wait)

    def clock_ms(self):
        """What the daemon's clock should read now."""
        return now_ms() + self.offset_ms

    # -- process

    def start(self, sweep_ms=None, token=None, extra=None):
        check(self.proc is None, "daemon %s already running" % self.name)
        if sweep_ms is not None:
            self.sweep_ms = sweep_ms
        last_err = None
        for attempt in range(3):
            self.port = free_port()
            args = [LOCKBOXD, "--listen", "127.0.0.1:%d" % self.port,
                    "--data-dir", self.data_dir,
                    "--database", "sqlite:" + self.db_path,
                    "--sweep-interval-ms", str(self.sweep_ms)]
            if self.clock_path:
                args += ["--test-clock", self.clock_path]
            if extra:
                args += list(extra)
            env = _clean_env()
            env["LOCKBOX_BOOTSTRAP_TOKEN"] = token or self.token
            if self.clock_path:
                env["LOCKBOX_ALLOW_TEST_CLOCK"] = "1"
            self.log_mark("start #%d: %s" % (self.starts + 1, " ".join(args)))
            logf = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                             stdout=logf, stderr=logf,
                                             env=env, cwd=self.dir)
            finally:
                logf.close()
            with _live_mu:
                _live[self.proc.pid] = self
            self.starts += 1
            try:
                self.wait_ready()
                return self
            except Fail as e:
                last_err = e
                if self.proc is not None and self.proc.poll() is not None \
                        and "in use" in self.log_tail(5):
                    self._forget()
                    continue          # lost the port race: try another port
                raise
        raise last_err

    def wait_ready(self):
        c = self.client()
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer"
        for _ in range(100000):
            rc = self.proc.poll()
            if rc is not None:
                raise Fail("lockboxd exited with %s before it was ready; log:\n%s"
                           % (rc, self.log_tail(30)))
            try:
                r = c.call("GET", "/readyz", timeout=1.0 * SLOW)
                if r.status == 200:
                    return
                last = str(r)
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise Fail("lockboxd not ready after %.0fs (%s); log:\n%s"
                   % (READY_TIMEOUT, last, self.log_tail(30)))

    def _forget(self):
        if self.proc is not None:
            with _live_mu:
                _live.pop(self.proc.pid, None)
        self.proc = None

    def stop(self, timeout=None):
        """SIGTERM, wait, SIGKILL on timeout.  Returns the exit status
        (negative: killed by that signal; 'timeout' when it had to be
        killed)."""
        if self.proc is None:
            return None
        p = self.proc
        rc = p.poll()
        if rc is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                rc = p.wait(timeout=timeout or STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=STOP_TIMEOUT)
                rc = "timeout"
        self._forget()
        self.log_mark("stopped: %s" % rc)
        return rc

    def kill9(self):
        if self.proc is None:
            return None
        p = self.proc
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = p.wait(timeout=STOP_TIMEOUT)
        self._forget()
        self.log_mark("killed: %s" % rc)
        return rc

    def restart(self, **kw):
        rc = self.stop()
        check(rc == 0, "lockboxd exit status on SIGTERM: %s, expected 0; log:\n%s"
              % (rc, self.log_tail(20)))
        self.start(**kw)

    def close(self):
        """Stops the daemon; returns a list of problems: a non-zero exit on
        SIGTERM, sanitizer reports in the log."""
        problems = list(self.problems)
        if self.proc is not None:
            rc = self.stop()
            if rc != 0:
                problems.append("lockboxd exit status on SIGTERM: %s, expected 0"
                                % rc)
        problems += self.sanitizer_reports()
        if problems:
            sys.stderr.write("---- %s log (last 40 lines) ----\n%s\n"
                             % (self.name, self.log_tail(40)))
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write("kept %s\n" % self.dir)
        return problems

    def sanitizer_reports(self):
        out = []
        try:
            with open(self.log_path, "r", errors="replace") as f:
                for line in f:
                    if SANITIZER_RE.search(line):
                        out.append("sanitizer: " + line.strip()[:300])
        except OSError:
            pass
        return out[:5]

    def log_mark(self, text):
        with open(self.log_path, "a") as f:
            f.write("==== e2e: %s\n" % text)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return "(no log)"
        return "".join(lines[-n:])

    def client(self):
        return Client(self.port)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    # -- peeking at the database (read only) for "stored" statuses

    def stored_status(self, table_hint, obj_id):
        return stored_status(self.db_path, table_hint, obj_id)


def live_daemons():
    with _live_mu:
        return list(_live.values())


def kill_all():
    """Last resort for the runner: SIGKILL every daemon still running."""
    for d in live_daemons():
        try:
            d.kill9()
        except Exception:
            pass
        if not KEEP:
            shutil.rmtree(d.dir, ignore_errors=True)


def stored_status(db_path, table_hint, obj_id):
    """The status column of the row `obj_id` as stored in SQLite, read
    through a read-only connection; a name from STATUSES, or None when no
    table with (id, status) holds that id."""
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True,
                          timeout=5.0 * SLOW)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables.sort(key=lambda t: (table_hint not in t, t))
        for t in tables:
            cols = [r[1] for r in con.execute('PRAGMA table_info("%s")' % t)]
            if "id" not in cols or "status" not in cols:
                continue
            row = con.execute('SELECT status FROM "%s" WHERE id = ?' % t,
                              (obj_id,)).fetchone()
            if row is None:
                continue
            v = row[0]
            if isinstance(v, int) and 0 <= v < len(STATUSES):
                return STATUSES[v]
            return v
        return None
    finally:
        con.close()


# --------------------------------------------------------------- world

PROVIDER_USERS = {
    "eng1": ["support_engineer"],
    "eng2": ["support_engineer"],
    "mgr1": ["support_manager"],
    "mgr2": ["support_manager"],
    "im1": ["incident_manager"],
    "gw1": ["gateway"],
}
TENANT_USERS = {
    "ga1": ["global_admin"],
    "ap1": ["lockbox_approver"],
    "ca1": ["compliance_admin"],
    "sa1": ["security_admin"],
    "rd1": ["reader"],
}

DEFAULT_RESOURCES = ["mailbox/alice@contoso.example"]


class World:
    """A daemon, a client and the tokens of every user created through it.

    Users are named "eng1" (provider), "ga1" (contoso) or "fabrikam/ga1"."""

    def __init__(self, daemon):
        self.d = daemon
        self.tokens = {("provider", "admin"): daemon.token}
        self.cases = {}
        self.seq = 0

    @property
    def c(self):
        return self.d.client()

    def uniq(self, prefix):
        self.seq += 1
        return "%s%d" % (prefix, self.seq)

    def tok(self, who, realm=None):
        if who is None:
            return None
        if isinstance(who, str) and who.startswith("lbt_"):
            return who
        if realm is None and "/" in who:
            realm, who = who.split("/", 1)
        if realm is None:
            realm = "provider" if ("provider", who) in self.tokens else "contoso"
        key = (realm, who)
        check(key in self.tokens, "no token for %s/%s" % key)
        return self.tokens[key]

    def call(self, method, path, who=None, body=None, **kw):
        return self.c.call(method, path, token=self.tok(who), body=body, **kw)

    # -- objects

    def create_tenant(self, tid, plan="M365_E5", addons=None, cloud=None,
                      name=None):
        b = {"id": tid, "name": name or tid.capitalize(), "plan": plan}
        if addons is not None:
            b["addons"] = addons
        if cloud is not None:
            b["cloud"] = cloud
        return expect(self.call("POST", "/v1/tenants", "admin", b), 201)

    def create_user(self, realm, uid, roles, type_=None, email=None,
                    who="admin"):
        b = {"id": uid, "realm": realm, "roles": list(roles),
             "email": email or "%s@%s.example" % (uid, realm),
             "display_name": "User %s" % uid}
        if type_:
            b["type"] = type_
        u = expect(self.call("POST", "/v1/users", who, b), 201)
        check(isinstance(u.get("token"), str) and u["token"].startswith("lbt_"),
              "POST /v1/users answer has no token: %s" % short(u))
        self.tokens[(realm, uid)] = u["token"]
        return u

    def tenant_users(self, tid, users=None):
        for uid, roles in (users or TENANT_USERS).items():
            self.create_user(tid, uid, roles)

    def set_settings(self, tenant, who=None, **fields):
        who = who or "%s/ga1" % tenant
        return expect(self.call("PATCH", "/v1/tenants/%s/lockbox/settings"
                                % tenant, who, fields), 200)

    def enable(self, tenant, approvers=("ga1", "ap1"), **more):
        return self.set_settings(tenant, enabled=True, approvers=list(approvers),
                                 **more)

    def open_case(self, tenant, assign="eng1", opener=None, title=None):
        opener = opener or ("%s/ga1" % tenant
                            if (tenant, "ga1") in self.tokens else "admin")
        cs = expect(self.call("POST", "/v1/tenants/%s/cases" % tenant, opener,
                              {"title": title or "Support case"}), 201)
        if assign:
            cs = self.assign_case(tenant, cs["id"], assign)
        return cs

    def assign_case(self, tenant, case_id, engineer, who="admin"):
        return expect(self.call("POST", "/v1/tenants/%s/cases/%s/assign"
                                % (tenant, case_id), who,
                                {"engineer": engineer}), 200)

    def request_body(self, case_id, resources=None, duration=None,
                     justification="Customer ticket: mailbox does not sync",
                     workload="exchange"):
        b = {"case_id": case_id, "workload": workload,
             "resources": list(resources or DEFAULT_RESOURCES),
             "justification": justification}
        if duration is not None:
            b["duration_minutes"] = duration
        return b

    def create_request(self, tenant="contoso", case_id=None, who="eng1",
                       status=201, code=None, **kw):
        case_id = case_id or self.cases[tenant]
        r = self.call("POST", "/v1/tenants/%s/requests" % tenant, who,
                      self.request_body(case_id, **kw))
        return expect(r, status, code)

    def req_path(self, tenant, rid, action=None):
        p = "/v1/tenants/%s/requests/%s" % (tenant, rid)
        return p + "/" + action if action else p

    def get_request(self, tenant, rid, who="admin"):
        return expect(self.call("GET", self.req_path(tenant, rid), who), 200)

    def decide(self, tenant, rid, action, who, body=None, status=200,
               code=None):
        r = self.call("POST", self.req_path(tenant, rid, action), who,
                      body if body is not None else {})
        return expect(r, status, code)

    def list_all(self, path, who="admin", page_size=None, max_pages=200):
        """Every item of a paged list, following next_page_token."""
        items = []
        token = None
        sep = "&" if "?" in path else "?"
        for _ in range(max_pages):
            q = []
            if page_size:
                q.append("page_size=%d" % page_size)
            if token:
                q.append("page_token=" + token)
            p = path + (sep + "&".join(q) if q else "")
            b = expect(self.call("GET", p, who), 200)
            check(isinstance(b, dict) and isinstance(b.get("items"), list)
                  and "next_page_token" in b,
                  "GET %s: not a list answer: %s" % (p, short(b)))
            items += b["items"]
            token = b["next_page_token"]
            if token is None:
                return items
        raise Fail("GET %s: more than %d pages" % (path, max_pages))


def standard_world(daemon):
    """contoso and fabrikam (M365_E5, Lockbox on, approvers ga1 and ap1),
    provider users eng1 eng2 mgr1 mgr2 im1 gw1, tenant users ga1 ap1 ca1 sa1
    rd1 in each tenant, and in each tenant a case assigned to eng1."""
    w = World(daemon)
    for t in ("contoso", "fabrikam"):
        w.create_tenant(t, plan="M365_E5")
    for uid, roles in PROVIDER_USERS.items():
        w.create_user("provider", uid, roles,
                      type_="service" if uid == "gw1" else None)
    for t in ("contoso", "fabrikam"):
        w.tenant_users(t)
        w.enable(t, notification_emails=["lockbox@%s.example" % t])
        cs = expect(w.call("POST", "/v1/tenants/%s/cases" % t, "%s/ga1" % t,
                           {"title": "Mailbox does not sync"}), 201)
        cs = w.assign_case(t, cs["id"], "eng1", who="mgr1")
        w.cases[t] = cs["id"]
    return w


def start_world(name, **kw):
    d = Daemon(name, **kw)
    try:
        d.start()
        return standard_world(d)
    except BaseException:
        d.close()
        raise


# ----------------------------------------------------------------- CLI


def cli(args, token=None, url=None, tenant=None, timeout=None, env_extra=None):
    """Runs build/lockbox; returns (exit status, stdout, stderr)."""
    env = _clean_env()
    if url:
        env["LOCKBOX_URL"] = url
    if token:
        env["LOCKBOX_TOKEN"] = token
    if tenant:
        env["LOCKBOX_TENANT"] = tenant
    if env_extra:
        env.update(env_extra)
    try:
        p = subprocess.run([LOCKBOX] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, env=env,
                           timeout=timeout or 20.0 * SLOW)
    except subprocess.TimeoutExpired:
        raise Fail("lockbox %s: timed out" % " ".join(args))
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))
