"""
nginx for the enforcement tests: renders examples/nginx/lockbox.conf.template
with examples/nginx/render.sh, runs the real /usr/sbin/nginx in the
foreground on a free 127.0.0.1 port with its own temporary prefix, and stops
it by its PID.  Also: a tenant content tree, raw HTTP calls that send the
path byte for byte, and read-only looks at the daemon's audit table.

Python 3 standard library only; every wait is bounded.
"""

import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import harness
from harness import Fail, SLOW, check, free_port

NGINX = os.environ.get("LOCKBOX_NGINX", "/usr/sbin/nginx")
RENDER = os.path.join(harness.ROOT, "examples", "nginx", "render.sh")
TEMPLATE = os.path.join(harness.ROOT, "examples", "nginx",
                        "lockbox.conf.template")


def available():
    return os.access(NGINX, os.X_OK) and os.path.exists(RENDER)


def write_tree(root, files):
    """files: {relative path: bytes}.  Directories 0755, files 0644 so that
    nginx's unprivileged workers can read them."""
    for rel, data in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o644)
    for d, _, _ in os.walk(root):
        os.chmod(d, 0o755)


class Nginx:
    """One nginx master (daemon off) with its workers, from the template."""

    def __init__(self, lockbox_port, gateway_token, content_root=None,
                 metadata_root=None, name="nginx", access_log=True):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="lockbox-e2e-%s-" % name)
        # The workers run as nobody when the tests run as root: they must be
        # able to reach the content below this directory.
        os.chmod(self.dir, 0o755)
        self.content_root = content_root or os.path.join(self.dir, "content")
        self.metadata_root = metadata_root or os.path.join(self.dir, "metadata")
        for d in (self.content_root, self.metadata_root):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        self.conf = os.path.join(self.dir, "lockbox.conf")
        self.log_path = os.path.join(self.dir, "nginx.log")
        self.pid_path = os.path.join(self.dir, "nginx.pid")
        self.access_log = os.path.join(self.dir, "access.log") \
            if access_log else "off"
        self.lockbox_port = lockbox_port
        self.gateway_token = gateway_token
        self.port = None
        self.proc = None

    def render(self, port):
        args = ["sh", RENDER,
                "LISTEN=127.0.0.1:%d" % port,
                "LOCKBOX=127.0.0.1:%d" % self.lockbox_port,
                "GATEWAY_TOKEN=" + self.gateway_token,
                "CONTENT_ROOT=" + self.content_root,
                "METADATA_ROOT=" + self.metadata_root,
                "PREFIX=" + self.dir,
                "ACCESS_LOG=" + self.access_log]
        p = subprocess.run(args, capture_output=True, timeout=20 * SLOW)
        check(p.returncode == 0, "render.sh failed (%d): %s"
              % (p.returncode, p.stderr.decode("utf-8", "replace")))
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(p.stdout)

    def start(self):
        check(self.proc is None, "nginx already running")
        last = None
        for _ in range(3):
            self.port = free_port()
            self.render(self.port)
            g = "daemon off; pid %s; error_log stderr;" % self.pid_path
            logf = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    [NGINX, "-p", self.dir + "/", "-c", self.conf, "-g", g],
                    stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                    cwd=self.dir)
            finally:
                logf.close()
            try:
                self.wait_ready()
                return self
            except Fail as e:
                last = e
                gone = self.proc.poll() is not None
                if gone and "in use" in self.log_tail(5):
                    self.proc = None
                    continue
                self.stop()
                raise
        raise last

    def wait_ready(self):
        deadline = time.monotonic() + 10.0 * SLOW
        last = "no answer"
        for _ in range(10000):
            rc = self.proc.poll()
            if rc is not None:
                raise Fail("nginx exited with %s; log:\n%s"
                           % (rc, self.log_tail(20)))
            try:
                st, _, _ = request(self.port, "GET", "/", timeout=1.0 * SLOW)
                if st == 404:
                    return
                last = "GET / -> %s" % st
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        raise Fail("nginx not ready (%s); log:\n%s" % (last, self.log_tail(20)))

    def stop(self):
        """SIGQUIT (graceful), then SIGTERM, then SIGKILL; by the PID of the
        master we started (its workers leave with it)."""
        p = self.proc
        if p is None:
            return None
        rc = p.poll()
        for sig, wait in ((signal.SIGQUIT, 5.0), (signal.SIGTERM, 5.0),
                          (signal.SIGKILL, 5.0)):
            if rc is not None:
                break
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                rc = p.wait(timeout=wait * SLOW)
            except subprocess.TimeoutExpired:
                rc = None
        self.proc = None
        return rc

    def close(self):
        rc = self.stop()
        if not harness.KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            sys.stderr.write("kept %s\n" % self.dir)
        return rc

    def log_tail(self, n=20):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def get(self, path, token=None, method="GET", headers=None):
        return request(self.port, method, path, token=token, headers=headers)


def request(port, method, path, token=None, headers=None, body=None,
            timeout=None):
    """One call on a new connection; the path goes out exactly as given.
    Returns (status, {lowercased header: value}, body bytes)."""
    hdrs = {}
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if headers:
        hdrs.update(headers)
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port,
                                      timeout=timeout or harness.HTTP_TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read() if method != "HEAD" else b""
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def json_of(data):
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


# ------------------------------------------------------------ the audit


def _ro(db_path):
    return sqlite3.connect("file:%s?mode=ro" % db_path, uri=True,
                           timeout=10.0 * SLOW)


def audit_mark(db_path):
    """The largest rowid of the audit table now (records after it are new)."""
    con = _ro(db_path)
    try:
        return con.execute("SELECT coalesce(max(rowid), 0) FROM audit"
                           ).fetchone()[0]
    finally:
        con.close()


def audit_since(db_path, mark, record_type="CustomerLockboxAccess"):
    """Records with rowid > mark, as dicts with `details` parsed."""
    con = _ro(db_path)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT rowid AS rowid_, * FROM audit WHERE rowid > ?"
                           " AND record_type = ? ORDER BY rowid",
                           (mark, record_type)).fetchall()
    finally:
        con.close()
    out = []
    for r in rows:
        d = dict(r)
        try:
            d["details"] = json.loads(d["details"])
        except (ValueError, TypeError):
            pass
        out.append(d)
    return out


def count_access(db_path, request_id, result="allowed"):
    """How many CustomerLockboxAccess records of `result` name request_id."""
    con = _ro(db_path)
    try:
        return con.execute(
            "SELECT count(*) FROM audit WHERE record_type ="
            " 'CustomerLockboxAccess' AND result = ? AND"
            " json_extract(details, '$.request_id') = ?",
            (result, request_id)).fetchone()[0]
    finally:
        con.close()


# ------------------------------------------------- JWS, checked by hand
#
# An independent check of the grant's signature that needs nothing but the
# standard library: Ed25519 verification as in RFC 8032 section 6 (slow and
# not constant time; fine for checking a handful of tokens in a test).

import base64 as _b64
import hashlib as _hashlib

_P = 2 ** 255 - 19
_Q = 2 ** 252 + 27742317777372353535851937790883648493


def _inv(x):
    return pow(x, _P - 2, _P)


_D = -121665 * _inv(121666) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % _P
    B = (y1 + x1) * (y2 + x2) % _P
    C = 2 * t1 * t2 * _D % _P
    D = 2 * z1 * z2 % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _eq(a, b):
    return ((a[0] * b[2] - b[0] * a[2]) % _P == 0
            and (a[1] * b[2] - b[1] * a[2]) % _P == 0)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * _inv(5) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    A = _decompress(public)
    R = _decompress(sig[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= _Q:
        return False
    h = int.from_bytes(_hashlib.sha512(sig[:32] + public + msg).digest(),
                       "little") % _Q
    return _eq(_mul(s, _G), _add(R, _mul(h, A)))


def b64url_decode(s):
    check(isinstance(s, str) and all(c.isalnum() or c in "-_" for c in s),
          "not base64url without padding: %r" % (s[:80],))
    return _b64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jws_parts(token):
    """(header dict, claims dict, signing input bytes, signature bytes)."""
    parts = token.split(".")
    check(len(parts) == 3, "grant is not a compact JWS (3 parts): %r"
          % token[:80])
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    return (header, claims, (parts[0] + "." + parts[1]).encode("ascii"),
            b64url_decode(parts[2]))


def jws_verify_with_jwks(token, jwks):
    """True when the token's EdDSA signature verifies with the JWKS key that
    its header's kid names."""
    header, _, signing_input, sig = jws_parts(token)
    if header.get("alg") != "EdDSA":
        return False
    for k in jwks.get("keys", []):
        if k.get("kid") == header.get("kid") and k.get("kty") == "OKP" \
                and k.get("crv") == "Ed25519":
            return ed25519_verify(b64url_decode(k["x"]), signing_input, sig)
    return False
