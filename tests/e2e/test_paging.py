"""Paging: 250 requests through pages of 7, every item exactly once, newest
first; the status filter; keyset paging stays right while rows are added."""

from harness import check, expect, short, start_world, ts_ms

W = None
N = 250
IDS = []
DENIED = set()
CANCELLED = set()


def setup_module():
    global W
    W = start_world("paging")
    for i in range(N):
        r = W.create_request(justification="paging %d" % i)
        IDS.append(r["id"])
        if i % 10 == 3:
            W.decide("contoso", r["id"], "deny", "ga1")
            DENIED.add(r["id"])
        elif i % 25 == 7:
            W.decide("contoso", r["id"], "cancel", "eng1")
            CANCELLED.add(r["id"])


def teardown_module():
    if W is not None:
        problems = W.d.close()
        check(not problems, "; ".join(problems))


def pages(path, who="admin", size=7, max_pages=200):
    out = []
    token = None
    sep = "&" if "?" in path else "?"
    for _ in range(max_pages):
        p = "%s%spage_size=%d" % (path, sep, size)
        if token:
            p += "&page_token=" + token
        b = expect(W.call("GET", p, who), 200)
        check(set(b) == {"items", "next_page_token"}, "list answer keys %s"
              % sorted(b))
        out.append(b["items"])
        token = b["next_page_token"]
        if token is None:
            return out
        check(isinstance(token, str) and token, "next_page_token %r" % token)
    raise AssertionError("more than %d pages" % max_pages)


def check_listing(pgs, want_ids, size=7):
    items = [x for p in pgs for x in p]
    ids = [x["id"] for x in items]
    dups = {i for i in ids if ids.count(i) > 1} if len(set(ids)) != len(ids) \
        else set()
    check(not dups, "items listed twice: %s" % sorted(dups)[:5])
    check(set(ids) == set(want_ids), "missing %s, extra %s"
          % (sorted(set(want_ids) - set(ids))[:5],
             sorted(set(ids) - set(want_ids))[:5]))
    for p in pgs[:-1]:
        check(len(p) == size, "a page that is not the last has %d items"
              % len(p))
    check(len(pgs[-1]) <= size and (len(pgs[-1]) > 0 or len(pgs) == 1),
          "last page has %d items" % len(pgs[-1]))
    keys = [(ts_ms(x["created_at"]), x["id"]) for x in items]
    check(keys == sorted(keys, reverse=True),
          "not newest first (created_at, id descending)")
    return ids


def test_pages_of_seven_newest_first():
    pgs = pages("/v1/tenants/contoso/requests")
    check(len(pgs) == (N + 6) // 7, "%d pages, expected %d"
          % (len(pgs), (N + 6) // 7))
    ids = check_listing(pgs, IDS)
    # created_at follows creation order, so newest first is reverse order
    # (up to requests created in the same millisecond, ordered by id)
    pos = {rid: i for i, rid in enumerate(IDS)}
    created = {x["id"]: ts_ms(x["created_at"]) for p in pgs for x in p}
    for a, b in zip(ids, ids[1:]):
        check(pos[a] > pos[b] or created[a] == created[b],
              "%s (created #%d) listed before %s (created #%d)"
              % (a, pos[a], b, pos[b]))


def test_every_reader_pages_the_same():
    for who, path in (("ga1", "/v1/tenants/contoso/requests"),
                      ("rd1", "/v1/tenants/contoso/requests"),
                      ("eng1", "/v1/tenants/contoso/requests"),
                      ("mgr1", "/v1/requests"),
                      ("admin", "/v1/requests?tenant=contoso")):
        check_listing(pages(path, who=who), IDS)


def test_status_filter():
    pending = set(IDS) - DENIED - CANCELLED
    for status, want in (("denied", DENIED), ("cancelled", CANCELLED),
                         ("pending", pending), ("approved", set()),
                         ("expired", set())):
        check_listing(pages("/v1/tenants/contoso/requests?status=" + status),
                      want)
        check_listing(pages("/v1/requests?tenant=contoso&status=" + status,
                            who="mgr1"), want)


def test_page_sizes():
    b = expect(W.call("GET", "/v1/tenants/contoso/requests?page_size=1000",
                      "admin"), 200)
    check(len(b["items"]) == N and b["next_page_token"] is None,
          "page_size=1000: %d items, next %r" % (len(b["items"]),
                                                 b["next_page_token"]))
    b = expect(W.call("GET", "/v1/tenants/contoso/requests", "admin"), 200)
    check(len(b["items"]) == 100 and b["next_page_token"],
          "default page: %d items, next %r" % (len(b["items"]),
                                               b["next_page_token"]))
    pgs = pages("/v1/tenants/contoso/requests", size=N)
    check(len(pgs) == 1 and len(pgs[0]) == N, "page_size=%d: %d pages"
          % (N, len(pgs)))
    pgs = pages("/v1/tenants/contoso/requests", size=1, max_pages=N + 5)
    check_listing(pgs, IDS, size=1)


def test_new_rows_do_not_disturb_paging():
    first = expect(W.call("GET", "/v1/tenants/contoso/requests?page_size=7",
                          "admin"), 200)
    token = first["next_page_token"]
    newer = [W.create_request(justification="late %d" % i)["id"]
             for i in range(3)]
    seen = [x["id"] for x in first["items"]]
    for _ in range(100):
        b = expect(W.call("GET", "/v1/tenants/contoso/requests?page_size=7"
                          "&page_token=" + token, "admin"), 200)
        seen += [x["id"] for x in b["items"]]
        token = b["next_page_token"]
        if token is None:
            break
    check(token is None, "did not reach the last page")
    check(len(seen) == len(set(seen)), "duplicates across pages")
    check(set(seen) == set(IDS), "paging while rows were added: missing %s, "
          "extra %s" % (sorted(set(IDS) - set(seen))[:3],
                        sorted(set(seen) - set(IDS))[:3]))
    top = expect(W.call("GET", "/v1/tenants/contoso/requests?page_size=3",
                        "admin"), 200)
    check({x["id"] for x in top["items"]} == set(newer),
          "the newest requests are not first: %s"
          % short([x["id"] for x in top["items"]]))
    for rid in newer:
        W.decide("contoso", rid, "cancel", "eng1")
    CANCELLED.update(newer)
    IDS.extend(newer)


def test_other_tenant_lists_none_of_them():
    b = expect(W.call("GET", "/v1/tenants/fabrikam/requests?page_size=1000",
                      "fabrikam/ga1"), 200)
    check(not set(x["id"] for x in b["items"]) & set(IDS),
          "fabrikam lists contoso's requests")


def test_other_lists_page_too():
    for i in range(17):
        W.create_tenant("pg%02d" % i)
        W.create_user("contoso", "pu%02d" % i, ["reader"])
        W.open_case("contoso", assign=None, opener="admin")
    for path, size in (("/v1/tenants", 4), ("/v1/users?realm=contoso", 5),
                       ("/v1/tenants/contoso/cases", 3),
                       ("/v1/users/contoso/ga1/tokens", 1)):
        whole = expect(W.call("GET", path + ("&" if "?" in path else "?")
                              + "page_size=1000", "admin"), 200)["items"]
        check(whole, "%s is empty" % path)
        got = [x["id"] for p in pages(path, size=size) for x in p]
        check(len(got) == len(set(got)), "%s: duplicates across pages" % path)
        check(got == [x["id"] for x in whole],
              "%s in pages of %d differs from one page" % (path, size))
