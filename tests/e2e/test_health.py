"""/healthz, /readyz, /metrics (Prometheus text format 0.0.4), /v1/me."""

import re

from harness import check, expect, short, start_world, ts_ms

W = None

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = r'\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,|(?=\})))*\}'
VALUE = r"(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Inf|NaN)"
SAMPLE_RE = re.compile(r"^(%s)(%s)? (%s)(?: -?\d+)?$" % (NAME, LABELS, VALUE))
TYPE_RE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$"
                     % NAME)
HELP_RE = re.compile(r"^# HELP (%s) .*$" % NAME)
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def setup_module():
    global W
    W = start_world("health")
    W.create_request()
    r = W.create_request()
    W.decide("contoso", r["id"], "approve", "ga1")


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def test_healthz():
    r = W.call("GET", "/healthz")
    check(r.status == 200 and r.body == {"status": "ok"}, str(r))
    check("application/json" in (r.header("Content-Type") or ""),
          "Content-Type %r" % r.header("Content-Type"))


def test_readyz():
    r = W.call("GET", "/readyz")
    check(r.status == 200 and r.body == {"status": "ready"}, str(r))


def parse_metrics(text):
    """-> ({family: type}, [(name, {labels}, value)]); checks the format."""
    types, samples, helps = {}, [], set()
    for n, line in enumerate(text.split("\n"), 1):
        if line == "":
            continue
        if line.startswith("# TYPE "):
            m = TYPE_RE.match(line)
            check(m, "line %d: bad TYPE line %r" % (n, line))
            check(m.group(1) not in types, "line %d: second TYPE for %s"
                  % (n, m.group(1)))
            types[m.group(1)] = m.group(2)
            continue
        if line.startswith("# HELP "):
            check(HELP_RE.match(line), "line %d: bad HELP line %r" % (n, line))
            helps.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        check(m, "line %d: not a sample line: %r" % (n, line))
        name = m.group(1)
        fam = family_of(name, types)
        check(fam is not None, "line %d: sample %s has no # TYPE before it"
              % (n, name))
        labels = dict(LABEL_RE.findall(m.group(2) or ""))
        v = m.group(3)
        val = float(v.replace("Inf", "inf"))
        samples.append((name, labels, val, fam))
    return types, samples


def family_of(name, types):
    if name in types:
        return name
    for suf in ("_bucket", "_sum", "_count", "_total", "_created"):
        if name.endswith(suf) and name[:-len(suf)] in types:
            return name[:-len(suf)]
    return None


def test_metrics_text_format():
    r = W.call("GET", "/metrics")
    check(r.status == 200, str(r))
    ct = r.header("Content-Type") or ""
    check(ct.startswith("text/plain"), "Content-Type %r" % ct)
    text = r.raw.decode("utf-8")
    check(text.endswith("\n"), "metrics text does not end with a newline")
    types, samples = parse_metrics(text)
    check(types and samples, "no metrics")
    check(all(n.startswith("lockbox_") or n.startswith("process_")
              for n in types), "families outside lockbox_: %s"
          % sorted(n for n in types if not n.startswith("lockbox_")))
    fams = [n for n in types if n.startswith("lockbox_request")]
    check(fams, "no lockbox_requests* family among %s" % sorted(types))
    for name, labels, val, fam in samples:
        if types[fam] == "counter":
            check(val >= 0, "counter %s%s is negative" % (name, labels))
    # histograms: cumulative buckets ending in +Inf == _count
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for name, labels, val, f in samples:
            if f != fam:
                continue
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            s = series.setdefault(key, {"b": [], "count": None})
            if name == fam + "_bucket":
                s["b"].append((float(labels["le"].replace("Inf", "inf")), val))
            elif name == fam + "_count":
                s["count"] = val
        for key, s in series.items():
            b = s["b"]
            check(b and b[-1][0] == float("inf"),
                  "%s%s: no le=\"+Inf\" bucket last" % (fam, dict(key)))
            check([x for x, _ in b] == sorted(x for x, _ in b),
                  "%s: le not increasing" % fam)
            check(all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)),
                  "%s%s: buckets are not cumulative: %s"
                  % (fam, dict(key), b))
            check(s["count"] == b[-1][1], "%s: _count %s != +Inf bucket %s"
                  % (fam, s["count"], b[-1][1]))


def test_metrics_count_requests_by_status():
    _, samples = parse_metrics(W.call("GET", "/metrics").raw.decode())
    by = {}
    for name, labels, val, fam in samples:
        if fam.startswith("lockbox_request") and "status" in labels:
            by.setdefault(name, {})[labels["status"]] = val
    if not by:
        return  # a family without a status label: nothing more to check
    name = sorted(by)[0]
    before = by[name].get("pending", 0)
    W.create_request()
    _, samples = parse_metrics(W.call("GET", "/metrics").raw.decode())
    after = [v for n, lb, v, f in samples
             if n == name and lb.get("status") == "pending"]
    check(after and after[0] >= before + 1,
          "%s{status=\"pending\"}: %s before, %s after creating a request"
          % (name, before, after))


def test_me():
    me = expect(W.call("GET", "/v1/me", "admin"), 200)
    check(me["id"] == "admin" and me["realm"] == "provider"
          and me["roles"] == ["provider_admin"] and me["type"] == "user",
          "me %s" % short(me))
    check("token" not in me, "GET /v1/me shows a token")
    ts_ms(me["created_at"], "created_at")
    gw = expect(W.call("GET", "/v1/me", "gw1"), 200)
    check(gw["type"] == "service" and gw["roles"] == ["gateway"],
          "gw1 %s" % short(gw))
    ga = expect(W.call("GET", "/v1/me", "ga1"), 200)
    check(ga["realm"] == "contoso" and ga["email"] == "ga1@contoso.example",
          "ga1 %s" % short(ga))


def test_writes_fail_closed_while_the_database_is_locked():
    """Another process holding SQLite's write lock: writes answer 503
    unavailable after the busy timeout and change nothing (fail closed)."""
    import sqlite3
    import threading
    from harness import SLOW
    r = W.create_request()
    before = W.list_all("/v1/tenants/contoso/requests", page_size=1000)
    results = {}

    def go(name, method, path, who, body):
        try:
            results[name] = W.c.call(method, path, token=W.tok(who), body=body,
                                     timeout=30.0 * SLOW)
        except Exception as e:
            results[name] = e

    con = sqlite3.connect(W.d.db_path, timeout=5.0, isolation_level=None)
    try:
        con.execute("BEGIN EXCLUSIVE")
        ts = [threading.Thread(target=go, daemon=True, args=a) for a in (
            ("approve", "POST", W.req_path("contoso", r["id"], "approve"),
             "ga1", {}),
            ("create", "POST", "/v1/tenants/contoso/requests", "eng1",
             W.request_body(W.cases["contoso"])))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(40.0 * SLOW)
    finally:
        con.execute("ROLLBACK")
        con.close()
    for name in ("approve", "create"):
        got = results.get(name)
        check(got is not None and not isinstance(got, Exception),
              "%s while locked: %r" % (name, got))
        expect(got, 503, "unavailable")
    g = W.get_request("contoso", r["id"])
    check(g["status"] == "pending" and g["decisions"] == [],
          "a refused write changed the request: %s" % short(g))
    after = W.list_all("/v1/tenants/contoso/requests", page_size=1000)
    check(after == before, "a refused create stored a request")
    expect(W.call("GET", "/readyz"), 200)
    a = W.decide("contoso", r["id"], "approve", "ga1")
    check(a["status"] == "approved", "after the lock: %s" % short(a))
