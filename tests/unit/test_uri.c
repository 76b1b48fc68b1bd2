/*
 * Unit tests of the URI map (src/core/uri.c): how a raw request URI from
 * nginx becomes (kind, tenant, workload, resource path), and every trick
 * that must not reach outside a grant's resources.
 *
 * The tests are tables: hostile URIs with the refusal each must get, good
 * URIs with what each must resolve to, good and bad maps, and one grant
 * checked end to end against URIs through lb_uri_resolve and
 * lb_resource_covers.  Like test_core, this program links the core objects
 * and cmocka only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define INVALID LB_ERR_INVALID_VALUE
#define UNMAPPED LB_ERR_NOT_FOUND

/* ------------------------------------------------------- hostile URIs */

struct bad_uri {
	const char *uri;
	int rc;                 /* INVALID (refused) or UNMAPPED */
	const char *why;
};

static const struct bad_uri bad_uris[] = {
	/* dot segments: refused, never resolved */
	{ "/content/contoso/exchange/mailbox/a/../b", INVALID, "dot-dot" },
	{ "/content/contoso/exchange/mailbox/a/./b", INVALID, "dot" },
	{ "/content/contoso/exchange/mailbox/..", INVALID, "trailing dot-dot" },
	{ "/content/contoso/exchange/../exchange/mailbox/a", INVALID, "dot-dot in prefix" },
	{ "/content/contoso/../fabrikam/exchange/mailbox/a", INVALID, "tenant escape" },
	{ "/content/contoso/exchange/mailbox/...", INVALID, "dots only" },
	{ "/content/contoso/exchange/mailbox/.. ", INVALID, "raw space (must be encoded)" },
	{ "/content/contoso/exchange/mailbox/..%20", INVALID, "dots and space" },
	{ "/content/contoso/exchange/mailbox/%20", INVALID, "space-only segment" },
	/* empty segments */
	{ "/content/contoso/exchange/mailbox//a", INVALID, "double slash" },
	{ "//content/contoso/exchange/mailbox/a", INVALID, "leading double slash" },
	{ "/content//contoso/exchange/mailbox/a", INVALID, "empty tenant" },
	{ "/content/contoso/exchange/mailbox/a/", INVALID, "trailing slash" },
	{ "/content/contoso/exchange/", INVALID, "no path, trailing slash" },
	/* encoded separators, dots and percent */
	{ "/content/contoso/exchange/mailbox/%2e%2e/x", INVALID, "encoded dot-dot" },
	{ "/content/contoso/exchange/mailbox/%2E%2E/x", INVALID, "encoded dot-dot, upper" },
	{ "/content/contoso/exchange/mailbox/.%2e/x", INVALID, "half-encoded dot-dot" },
	{ "/content/contoso/exchange/mailbox/%2e", INVALID, "encoded dot" },
	{ "/content/contoso/exchange/mailbox/alice%2ecom", INVALID, "encoded dot in a name" },
	{ "/content/contoso/exchange/mailbox/a%2f..%2fb", INVALID, "encoded slash" },
	{ "/content/contoso/exchange/mailbox/a%2F..%2Fb", INVALID, "encoded slash, upper" },
	{ "/content/contoso/exchange/mailbox/..%2fbob", INVALID, "dot-dot encoded slash" },
	{ "/content/contoso/exchange/mailbox/a%5c..%5cb", INVALID, "encoded backslash" },
	{ "/content/contoso/exchange/mailbox/a%5C..%5Cb", INVALID, "encoded backslash, upper" },
	{ "/content/contoso/exchange/mailbox/%252e%252e/x", INVALID, "double encoding" },
	{ "/content/contoso/exchange/mailbox/%25", INVALID, "encoded percent" },
	/* encoded NUL and control characters */
	{ "/content/contoso/exchange/mailbox/a%00.txt", INVALID, "encoded NUL" },
	{ "/content/contoso/exchange/mailbox/a%0a", INVALID, "encoded LF" },
	{ "/content/contoso/exchange/mailbox/a%0D%0A", INVALID, "encoded CRLF" },
	{ "/content/contoso/exchange/mailbox/a%09b", INVALID, "encoded tab" },
	{ "/content/contoso/exchange/mailbox/a%7f", INVALID, "encoded DEL" },
	/* malformed escapes */
	{ "/content/contoso/exchange/mailbox/a%", INVALID, "lone percent" },
	{ "/content/contoso/exchange/mailbox/a%4", INVALID, "short escape" },
	{ "/content/contoso/exchange/mailbox/a%zz", INVALID, "non-hex escape" },
	{ "/content/contoso/exchange/mailbox/a%4g", INVALID, "half-hex escape" },
	{ "/content/contoso/exchange/mailbox/a%%41", INVALID, "percent before escape" },
	{ "/content/contoso/exchange/mailbox/a%?x", INVALID, "escape cut by the query" },
	/* raw bytes a client must encode */
	{ "/content/contoso/exchange/mailbox\\..\\b", INVALID, "raw backslash" },
	{ "/content/contoso/exchange/mailbox/a\\b", INVALID, "raw backslash in a name" },
	{ "/content/contoso/exchange/mailbox/a#frag", INVALID, "fragment" },
	{ "/content/contoso/exchange/mailbox/a?q=1#frag", INVALID, "fragment after query" },
	{ "/content/contoso/exchange/mailbox/a?q=\\", INVALID, "backslash in query" },
	{ "/content/contoso/exchange/mailbox/a\tb", INVALID, "raw tab" },
	{ "/content/contoso/exchange/mailbox/a\r\nX-Injected: 1", INVALID, "raw CRLF" },
	{ "/content/contoso/exchange/mailbox/a\x7f", INVALID, "raw DEL" },
	{ "/content/contoso/exchange/mailbox/a b", INVALID, "raw space" },
	{ "/content/contoso/exchange/mailbox/caf\xc3\xa9", INVALID, "raw UTF-8" },
	{ "/content/contoso/exchange/mailbox/a?q=caf\xc3\xa9", INVALID, "raw UTF-8 in query" },
	{ "/content/contoso/exchange/mailbox/a|b", INVALID, "raw pipe" },
	{ "/content/contoso/exchange/mailbox/<script>", INVALID, "raw angle brackets" },
	{ "/content/contoso/exchange/mailbox/{a}", INVALID, "raw braces" },
	{ "/content/contoso/exchange/mailbox/\"a\"", INVALID, "raw quote" },
	/* bad UTF-8 after decoding */
	{ "/content/contoso/exchange/mailbox/%c0%ae%c0%ae/x", INVALID, "overlong dot" },
	{ "/content/contoso/exchange/mailbox/%c0%af", INVALID, "overlong slash" },
	{ "/content/contoso/exchange/mailbox/%e0%80%ae", INVALID, "3-byte overlong dot" },
	{ "/content/contoso/exchange/mailbox/%f0%80%80%ae", INVALID, "4-byte overlong dot" },
	{ "/content/contoso/exchange/mailbox/%c3", INVALID, "truncated UTF-8" },
	{ "/content/contoso/exchange/mailbox/%c3a", INVALID, "truncated UTF-8 then ASCII" },
	{ "/content/contoso/exchange/mailbox/%a9", INVALID, "lone continuation byte" },
	{ "/content/contoso/exchange/mailbox/%ed%a0%80", INVALID, "UTF-16 surrogate" },
	{ "/content/contoso/exchange/mailbox/%f4%90%80%80", INVALID, "above U+10FFFF" },
	{ "/content/contoso/exchange/mailbox/%ff", INVALID, "byte 0xff" },
	{ "/content/contoso/exchange/mailbox/a%c2%85", INVALID, "C1 control NEL" },
	/* path parameters that Tomcat/Jetty/Spring strip */
	{ "/content/contoso/exchange/mailbox/alice/..;/bob", INVALID, "dot-dot with params" },
	{ "/content/contoso/exchange/mailbox/alice/..;x=1/bob", INVALID, "dot-dot with value" },
	{ "/content/contoso/exchange/mailbox/alice/.;/bob", INVALID, "dot with params" },
	{ "/content/contoso/exchange/mailbox/alice/;x/bob", INVALID, "params-only segment" },
	{ "/content/contoso/exchange/mailbox/alice/..%3b/bob", INVALID, "encoded ';' after dot-dot" },
	/* placeholders that fail their own syntax */
	{ "/content/Contoso/exchange/mailbox/a", INVALID, "tenant uppercase" },
	{ "/content/CONTOSO/exchange/mailbox/a", INVALID, "tenant all caps" },
	{ "/content/provider/exchange/mailbox/a", INVALID, "tenant 'provider'" },
	{ "/content/con_toso/exchange/mailbox/a", INVALID, "tenant underscore" },
	{ "/content/contoso/Exchange/mailbox/a", INVALID, "workload uppercase" },
	{ "/content/contoso/exch%40nge/mailbox/a", INVALID, "workload '@'" },
	{ "/content/contoso/exchange/mailbox/a%3fb", INVALID, "encoded '?' in path" },
	{ "/content/contoso/exchange/mailbox/a%23b", INVALID, "encoded '#' in path" },
	/* whole-URI shape */
	{ "", INVALID, "empty" },
	{ "content/contoso/exchange/mailbox/a", INVALID, "relative" },
	{ "http://evil/content/contoso/exchange/mailbox/a", INVALID, "absolute form" },
	{ "?/content/contoso/exchange/mailbox/a", INVALID, "query only" },
	/* hostile wins over unmapped */
	{ "/elsewhere/a/../b", INVALID, "hostile and unmapped" },
	{ "/elsewhere/%2e%2e", INVALID, "encoded dot, unmapped" },
	/* well-formed but unmapped: literals are case-sensitive */
	{ "/CONTENT/contoso/exchange/mailbox/a", UNMAPPED, "literal upper" },
	{ "/Content/contoso/exchange/mailbox/a", UNMAPPED, "literal mixed" },
	{ "/content/contoso/exchange", UNMAPPED, "no path segment" },
	{ "/content/contoso", UNMAPPED, "no workload" },
	{ "/content", UNMAPPED, "prefix only" },
	{ "/", UNMAPPED, "root" },
	{ "/?x=1", UNMAPPED, "root with query" },
	{ "/contents/contoso/exchange/mailbox/a", UNMAPPED, "other literal" },
	{ "/content%3b/contoso/exchange/mailbox/a", UNMAPPED, "literal with ';'" },
	{ "/static/app.js", UNMAPPED, "static file" },
};

static void
test_uri_hostile_table(void **state)
{
	struct lb_uri_map m;

	(void)state;
	lb_uri_map_default(&m);
	for (size_t i = 0; i < NELEM(bad_uris); i++) {
		struct lb_uri_target t;
		int rc;

		memset(&t, 0x5a, sizeof(t));
		rc = lb_uri_resolve(&m, bad_uris[i].uri, &t);
		if (rc != bad_uris[i].rc)
			fail_msg("row %zu (%s) \"%s\": got %d, want %d", i,
			    bad_uris[i].why, bad_uris[i].uri, rc, bad_uris[i].rc);
		/* Output written only on success. */
		assert_int_equal(((unsigned char *)&t)[0], 0x5a);
		assert_int_equal(t.path[0], 0x5a);
	}
}

/* A URI of exactly `len` bytes under a good prefix. */
static void
long_uri(char *buf, size_t size, size_t len)
{
	const char *prefix = "/content/contoso/exchange/mailbox/";
	size_t plen = strlen(prefix);

	assert_true(len + 1 <= size && len > plen);
	memcpy(buf, prefix, plen);
	for (size_t i = plen; i < len; i++)
		buf[i] = (i % 64 == 0) ? '/' : 'a';
	buf[len] = '\0';
}

static void
test_uri_limits(void **state)
{
	static char buf[LB_URI_MAX + 64];
	struct lb_uri_map m;
	struct lb_uri_target t;
	char small[128];

	(void)state;
	lb_uri_map_default(&m);

	/* Longer than LB_URI_MAX: refused before anything else. */
	long_uri(buf, sizeof(buf), LB_URI_MAX + 1);
	assert_int_equal(lb_uri_resolve(&m, buf, &t), INVALID);
	long_uri(buf, sizeof(buf), LB_URI_MAX + 50);
	assert_int_equal(lb_uri_resolve(&m, buf, &t), INVALID);
	/* Within LB_URI_MAX but the path is longer than LB_RESOURCE_MAX. */
	long_uri(buf, sizeof(buf), LB_URI_MAX);
	assert_int_equal(lb_uri_resolve(&m, buf, &t), INVALID);

	/* The longest resource path that fits: LB_RESOURCE_MAX bytes. */
	memcpy(buf, "/content/contoso/exchange/", 26);
	memset(buf + 26, 'p', LB_RESOURCE_MAX);
	buf[26 + LB_RESOURCE_MAX] = '\0';
	assert_int_equal(lb_uri_resolve(&m, buf, &t), 0);
	assert_int_equal(strlen(t.path), LB_RESOURCE_MAX);
	buf[26 + LB_RESOURCE_MAX] = 'p';
	buf[27 + LB_RESOURCE_MAX] = '\0';
	assert_int_equal(lb_uri_resolve(&m, buf, &t), INVALID);

	/* A long query is fine as long as the whole URI fits. */
	memcpy(buf, "/content/contoso/exchange/mailbox/a?", 36);
	memset(buf + 36, 'q', LB_URI_MAX - 36);
	buf[LB_URI_MAX] = '\0';
	assert_int_equal(lb_uri_resolve(&m, buf, &t), 0);
	assert_string_equal(t.path, "mailbox/a");
	buf[LB_URI_MAX] = 'q';
	buf[LB_URI_MAX + 1] = '\0';
	assert_int_equal(lb_uri_resolve(&m, buf, &t), INVALID);

	/* Tenant longer than LB_ID_MAX. */
	memcpy(small, "/content/", 9);
	memset(small + 9, 't', LB_ID_MAX + 1);
	snprintf(small + 9 + LB_ID_MAX + 1, sizeof(small) - 10 - LB_ID_MAX,
	    "/exchange/a");
	assert_int_equal(lb_uri_resolve(&m, small, &t), INVALID);
	small[9 + LB_ID_MAX] = '/';             /* exactly LB_ID_MAX: fine */
	memmove(small + 9 + LB_ID_MAX, small + 9 + LB_ID_MAX + 1,
	    strlen(small + 9 + LB_ID_MAX + 1) + 1);
	assert_int_equal(lb_uri_resolve(&m, small, &t), 0);
	assert_int_equal(strlen(t.tenant), LB_ID_MAX);

	/* NULL arguments. */
	assert_int_equal(lb_uri_resolve(NULL, "/content/a/b/c", &t), INVALID);
	assert_int_equal(lb_uri_resolve(&m, NULL, &t), INVALID);
	assert_int_equal(lb_uri_resolve(&m, "/content/a/b/c", NULL), INVALID);
}

/* ---------------------------------------------------------- good URIs */

struct good_uri {
	const char *uri;
	enum lb_uri_kind kind;
	const char *tenant, *workload, *path;
};

#define C LB_URI_CONTENT
#define M LB_URI_METADATA

static const struct good_uri good_uris[] = {
	{ "/content/contoso/exchange/mailbox/alice", C, "contoso", "exchange", "mailbox/alice" },
	{ "/content/contoso/exchange/mailbox/alice%40contoso.example", C,
	  "contoso", "exchange", "mailbox/alice@contoso.example" },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1", C,
	  "contoso", "exchange", "mailbox/alice@contoso.example/inbox/1" },
	{ "/content/contoso/sharepoint/sites/finance/q3.xlsx", C,
	  "contoso", "sharepoint", "sites/finance/q3.xlsx" },
	{ "/content/contoso/exchange/mailbox/alice?download=1&x=%2e%2e/..", C,
	  "contoso", "exchange", "mailbox/alice" },
	{ "/content/contoso/exchange/mailbox/alice?", C, "contoso", "exchange", "mailbox/alice" },
	{ "/content/contoso/exchange/a?q=a?b/c|{d}", C, "contoso", "exchange", "a" },
	{ "/content/contoso/exchange/x", C, "contoso", "exchange", "x" },
	{ "/content/t-1/custom_wl-2/a/b/c/d", C, "t-1", "custom_wl-2", "a/b/c/d" },
	{ "/content/0contoso/exchange/a", C, "0contoso", "exchange", "a" },
	/* unreserved escapes decode to the same thing as their raw form */
	{ "/%63ontent/contoso/exchange/mailbox/a", C, "contoso", "exchange", "mailbox/a" },
	{ "/content/%63ontoso/exchange/mailbox/a", C, "contoso", "exchange", "mailbox/a" },
	{ "/content/contoso/exchange/mailbox/%41lice", C, "contoso", "exchange", "mailbox/Alice" },
	{ "/content/contoso/exchange/mailbox/%4a%4A", C, "contoso", "exchange", "mailbox/JJ" },
	/* ordinary characters, raw or encoded */
	{ "/content/contoso/exchange/mailbox/q3%20report", C,
	  "contoso", "exchange", "mailbox/q3 report" },
	{ "/content/contoso/exchange/a;b/c", C, "contoso", "exchange", "a;b/c" },
	{ "/content/contoso/exchange/a%3bb", C, "contoso", "exchange", "a;b" },
	{ "/content/contoso/exchange/a.;b", C, "contoso", "exchange", "a.;b" },
	{ "/content/contoso/exchange/.hidden/..x/x..", C, "contoso", "exchange", ".hidden/..x/x.." },
	{ "/content/contoso/exchange/~a-b_c!$&'()*+,=:@", C,
	  "contoso", "exchange", "~a-b_c!$&'()*+,=:@" },
	{ "/content/contoso/exchange/%7b%7c%7d%22%3c%3e", C,
	  "contoso", "exchange", "{|}\"<>" },
	{ "/content/contoso/exchange/%20a", C, "contoso", "exchange", " a" },
	/* percent-encoded UTF-8 */
	{ "/content/contoso/exchange/caf%c3%a9", C, "contoso", "exchange", "caf\xc3\xa9" },
	{ "/content/contoso/exchange/%E2%82%AC/%f0%9f%94%92", C,
	  "contoso", "exchange", "\xe2\x82\xac/\xf0\x9f\x94\x92" },
	{ "/content/contoso/exchange/%c2%a0", C, "contoso", "exchange", "\xc2\xa0" },
	/* a fullwidth dot is a character, not a dot */
	{ "/content/contoso/exchange/mailbox/%ef%bc%8e%ef%bc%8e", C,
	  "contoso", "exchange", "mailbox/\xef\xbc\x8e\xef\xbc\x8e" },
	/* metadata */
	{ "/metadata/contoso/exchange/mailbox/alice", M, "contoso", "exchange", "mailbox/alice" },
	{ "/metadata/fabrikam/teams/channels/general?x", M, "fabrikam", "teams", "channels/general" },
};

static void
check_good(const struct lb_uri_map *m, const struct good_uri *g, size_t row)
{
	struct lb_uri_target t;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = lb_uri_resolve(m, g->uri, &t);
	if (rc != 0)
		fail_msg("row %zu \"%s\": got %d, want 0", row, g->uri, rc);
	assert_int_equal(t.kind, g->kind);
	assert_string_equal(t.tenant, g->tenant);
	assert_string_equal(t.workload, g->workload);
	assert_string_equal(t.path, g->path);
	assert_true(lb_resource_valid(t.path));
}

static void
test_uri_good_table(void **state)
{
	struct lb_uri_map m;

	(void)state;
	lb_uri_map_default(&m);
	assert_int_equal(m.n, 2);
	for (size_t i = 0; i < NELEM(good_uris); i++)
		check_good(&m, &good_uris[i], i);
}

/* ------------------------------------------------------------- maps */

/* Comments, blank lines, CRLF, tabs and blanks around the fields. */
static const char custom_map[] =
    "# The provider's content service\n"
    "\n"
    "metadata /api/v2/{tenant}/meta/{path}\r\n"
    "  content\t/api/v2/{tenant}/{workload}/files/{path}   \n"
    "   # indented comment\n"
    "content /sp/{tenant}/{path}\n";

static void
test_uri_map_custom(void **state)
{
	static const struct good_uri rows[] = {
		{ "/api/v2/contoso/meta/a/b", M, "contoso", "", "a/b" },
		{ "/api/v2/contoso/exchange/files/mailbox/a", C, "contoso", "exchange", "mailbox/a" },
		{ "/sp/contoso/sites/fin", C, "contoso", "", "sites/fin" },
		/* first rule wins: "meta" is not taken as a workload */
		{ "/api/v2/contoso/meta/files/x", M, "contoso", "", "files/x" },
	};
	struct lb_uri_map m;
	struct lb_uri_target t;
	char err[128] = "";

	(void)state;
	assert_int_equal(lb_uri_map_parse(custom_map, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.rules[0].kind, LB_URI_METADATA);
	assert_string_equal(m.rules[0].pattern, "/api/v2/{tenant}/meta/{path}");
	assert_int_equal(m.rules[1].kind, LB_URI_CONTENT);
	assert_string_equal(m.rules[1].pattern, "/api/v2/{tenant}/{workload}/files/{path}");
	assert_string_equal(m.rules[2].pattern, "/sp/{tenant}/{path}");
	for (size_t i = 0; i < NELEM(rows); i++)
		check_good(&m, &rows[i], i);

	assert_int_equal(lb_uri_resolve(&m, "/sp/contoso/sites/fin/", &t), INVALID);
	/* The first rule whose shape matches decides, even if its values fail. */
	assert_int_equal(lb_uri_resolve(&m, "/api/v2/Contoso/meta/a", &t), INVALID);
	/* A literal after a placeholder that does not match: unmapped. */
	assert_int_equal(lb_uri_resolve(&m, "/api/v2/contoso/exchange/other/x", &t), UNMAPPED);
	assert_int_equal(lb_uri_resolve(&m, "/api/v2/Contoso/exchange/other/x", &t), UNMAPPED);
	/* The default map's URIs are not in this one. */
	assert_int_equal(lb_uri_resolve(&m, "/content/contoso/exchange/a", &t), UNMAPPED);
}

static void
test_uri_map_default_text(void **state)
{
	struct lb_uri_map d, p;

	(void)state;
	lb_uri_map_default(&d);
	assert_int_equal(lb_uri_map_parse(
	    "content  /content/{tenant}/{workload}/{path}\n"
	    "metadata /metadata/{tenant}/{workload}/{path}\n", &p, NULL, 0), 0);
	assert_int_equal(p.n, d.n);
	for (size_t i = 0; i < d.n; i++) {
		assert_int_equal(p.rules[i].kind, d.rules[i].kind);
		assert_string_equal(p.rules[i].pattern, d.rules[i].pattern);
	}
	/* No trailing newline, only comments around. */
	assert_int_equal(lb_uri_map_parse("#a\n#b\ncontent /{tenant}/{path}", &p, NULL, 0), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.rules[0].pattern, "/{tenant}/{path}");
}

struct bad_map {
	const char *text;
	const char *err;        /* a substring the message must hold */
};

static const struct bad_map bad_maps[] = {
	{ "", "no rules" },
	{ "# only a comment\n\n", "no rules" },
	{ "contnt /content/{tenant}/{path}\n", "line 1: unknown kind" },
	{ "Content /content/{tenant}/{path}\n", "line 1: unknown kind" },
	{ "content\n", "line 1: missing pattern" },
	{ "\n\ncontent content/{tenant}/{path}\n", "line 3: pattern must start with '/'" },
	{ "content /content/{tenant}/{path} extra\n", "line 1: text after the pattern" },
	{ "content /content/{tenant}/{path} # comment\n", "line 1: text after the pattern" },
	{ "content /content//{tenant}/{path}\n", "line 1: empty segment" },
	{ "content /content/{tenant}/{path}/\n", "line 1: empty segment" },
	{ "content /\n", "line 1: empty segment" },
	{ "content /content/{workload}/{path}\n", "line 1: pattern needs {tenant}" },
	{ "content /content/{tenant}/{workload}\n", "line 1: pattern needs {path}" },
	{ "content /content/{tenant}/{path}/x\n", "line 1: {path} must be the last" },
	{ "content /content/{tenant}/{path}/{workload}\n", "line 1: {path} must be the last" },
	{ "content /content/{tenant}/{path}/{path}\n", "line 1: {path} must be the last" },
	{ "content /{tenant}/{tenant}/{path}\n", "line 1: {tenant} appears twice" },
	{ "content /{tenant}/{workload}/{workload}/{path}\n", "line 1: {workload} appears twice" },
	{ "content /{tenant}/{user}/{path}\n", "line 1: unknown placeholder" },
	{ "content /{Tenant}/{path}\n", "line 1: unknown placeholder" },
	{ "content /a{tenant}/{path}\n", "line 1: unknown placeholder" },
	{ "content /c/../{tenant}/{path}\n", "line 1: literal segment of dots only" },
	{ "content /c/./{tenant}/{path}\n", "line 1: literal segment of dots only" },
	{ "content /c%2f/{tenant}/{path}\n", "line 1: literal segments may hold only" },
	{ "content /c:d/{tenant}/{path}\n", "line 1: literal segments may hold only" },
	{ "content /c\\d/{tenant}/{path}\n", "line 1: literal segments may hold only" },
	{ "metadata /m/{tenant}/{path}\ncontent /c/{tenant}/{path}\nbogus\n", "line 3: unknown kind" },
};

static void
test_uri_map_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(bad_maps); i++) {
		struct lb_uri_map m;
		char err[160];

		memset(&m, 0x5a, sizeof(m));
		err[0] = '\0';
		if (lb_uri_map_parse(bad_maps[i].text, &m, err, sizeof(err)) != INVALID)
			fail_msg("map row %zu accepted", i);
		if (strstr(err, bad_maps[i].err) == NULL)
			fail_msg("map row %zu: \"%s\" lacks \"%s\"", i, err, bad_maps[i].err);
		assert_int_equal(((unsigned char *)&m)[0], 0x5a);  /* untouched */
	}
}

static void
test_uri_map_limits(void **state)
{
	static char text[64 * (LB_URI_RULES_MAX + 2) + LB_URI_PATTERN_MAX + 64];
	struct lb_uri_map m;
	char err[128];
	size_t off = 0;

	(void)state;
	/* Exactly LB_URI_RULES_MAX rules: fine; one more: refused, named. */
	for (int i = 0; i < LB_URI_RULES_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "content /r%d/{tenant}/{path}\n", i);
	assert_int_equal(lb_uri_map_parse(text, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n, LB_URI_RULES_MAX);
	snprintf(text + off, sizeof(text) - off, "content /extra/{tenant}/{path}\n");
	assert_int_equal(lb_uri_map_parse(text, &m, err, sizeof(err)), INVALID);
	assert_non_null(strstr(err, "line 17: too many rules"));

	/* A pattern of exactly LB_URI_PATTERN_MAX bytes: fine; one more: no. */
	memcpy(text, "content /", 9);
	off = 9;
	while (off < 9 + LB_URI_PATTERN_MAX - 17)
		text[off++] = 'x';
	memcpy(text + off, "/{tenant}/{path}", 17);     /* with the NUL */
	assert_int_equal(strlen(text) - 8, LB_URI_PATTERN_MAX);
	assert_int_equal(lb_uri_map_parse(text, &m, err, sizeof(err)), 0);
	memmove(text + 10, text + 9, strlen(text + 9) + 1);
	text[9] = 'x';
	assert_int_equal(lb_uri_map_parse(text, &m, err, sizeof(err)), INVALID);
	assert_non_null(strstr(err, "line 1: pattern too long"));

	/* A tiny or absent error buffer is never overrun. */
	assert_int_equal(lb_uri_map_parse("bogus", &m, err, 4), INVALID);
	assert_string_equal(err, "lin");
	assert_int_equal(lb_uri_map_parse("bogus", &m, NULL, 0), INVALID);
	assert_int_equal(lb_uri_map_parse(NULL, &m, NULL, 0), INVALID);
	assert_int_equal(lb_uri_map_parse("content /{tenant}/{path}", NULL, NULL, 0), INVALID);
}

/* ------------------------------------------------------- end to end */

struct e2e_row {
	const char *uri;
	bool covered;
};

/* A grant for "mailbox/alice@contoso.example" of tenant contoso, exchange. */
static const struct e2e_row e2e_rows[] = {
	{ "/content/contoso/exchange/mailbox/alice@contoso.example", true },
	{ "/content/contoso/exchange/mailbox/alice%40contoso.example", true },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1", true },
	{ "/content/contoso/exchange/mailbox/alice%40contoso%2Eexample", false },
	{ "/content/contoso/exchange/mailbox/%61lice@contoso.example?x=1", true },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example.evil", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.examplex", false },
	{ "/content/contoso/exchange/mailbox/Alice@contoso.example", false },
	{ "/content/contoso/exchange/mailbox/ALICE@CONTOSO.EXAMPLE", false },
	{ "/content/contoso/exchange/mailbox/bob@contoso.example", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/../bob", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/%2e%2e/bob", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example%2f..%2fbob", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/..;/bob", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/", false },
	{ "/content/contoso/exchange/mailbox//alice@contoso.example", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example%00", false },
	{ "/content/contoso/exchange/mailbox", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example/%ef%bc%8e%ef%bc%8e", true },
	{ "/content/contoso/exchange/Mailbox/alice@contoso.example", false },
	{ "/content/contoso/exchange/mailbox/alice@contoso.example;x", false },
};

static void
test_uri_grant_end_to_end(void **state)
{
	const char *grant = "mailbox/alice@contoso.example";
	struct lb_uri_map m;
	size_t covered = 0;

	(void)state;
	lb_uri_map_default(&m);
	assert_true(NELEM(e2e_rows) >= 20);
	for (size_t i = 0; i < NELEM(e2e_rows); i++) {
		struct lb_uri_target t;
		bool ok;

		ok = lb_uri_resolve(&m, e2e_rows[i].uri, &t) == 0 &&
		    t.kind == LB_URI_CONTENT && strcmp(t.tenant, "contoso") == 0 &&
		    strcmp(t.workload, "exchange") == 0 &&
		    lb_resource_covers(grant, t.path);
		if (ok != e2e_rows[i].covered)
			fail_msg("e2e row %zu \"%s\": covered=%d", i, e2e_rows[i].uri, ok);
		covered += ok;
	}
	assert_int_equal(covered, 5);
	/* The same path under another tenant or workload is not this grant's. */
	{
		struct lb_uri_target t;

		assert_int_equal(lb_uri_resolve(&m,
		    "/content/fabrikam/exchange/mailbox/alice@contoso.example", &t), 0);
		assert_string_not_equal(t.tenant, "contoso");
		assert_int_equal(lb_uri_resolve(&m,
		    "/metadata/contoso/exchange/mailbox/alice@contoso.example", &t), 0);
		assert_int_equal(t.kind, LB_URI_METADATA);
	}
}

/* An invalid rule (built by hand, not parsed) matches nothing. */
static void
test_uri_map_hand_built(void **state)
{
	struct lb_uri_map m;
	struct lb_uri_target t;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.n = 2;
	m.rules[0].kind = LB_URI_CONTENT;
	memcpy(m.rules[0].pattern, "/content/{path}", 16);      /* no {tenant} */
	m.rules[1].kind = LB_URI_METADATA;
	memcpy(m.rules[1].pattern, "/content/{tenant}/{path}", 25);
	assert_int_equal(lb_uri_resolve(&m, "/content/contoso/a", &t), 0);
	assert_int_equal(t.kind, LB_URI_METADATA);
	assert_string_equal(t.workload, "");

	/* An unterminated pattern or an absurd count is not read past. */
	memset(m.rules[0].pattern, 'x', sizeof(m.rules[0].pattern));
	m.n = 1000;
	assert_int_equal(lb_uri_resolve(&m, "/content/contoso/a", &t), 0);
	m.n = 0;
	assert_int_equal(lb_uri_resolve(&m, "/content/contoso/a", &t), UNMAPPED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_hostile_table),
		cmocka_unit_test(test_uri_limits),
		cmocka_unit_test(test_uri_good_table),
		cmocka_unit_test(test_uri_map_custom),
		cmocka_unit_test(test_uri_map_default_text),
		cmocka_unit_test(test_uri_map_bad_table),
		cmocka_unit_test(test_uri_map_limits),
		cmocka_unit_test(test_uri_grant_end_to_end),
		cmocka_unit_test(test_uri_map_hand_built),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
