/*
 * libFuzzer harness for the URI map (src/core/uri.c): lb_uri_resolve with
 * the default map, and lb_uri_map_parse, on the same input.
 *
 * Besides "no crash, no sanitizer report", every success is checked
 * against what the access check relies on, and abort()s when it does not
 * hold: the resolved path is a valid resource path without "." or ".."
 * segments, the tenant a valid tenant id, the workload a valid workload;
 * and resolution is idempotent: the target re-encoded as
 * "/content/<tenant>/<workload>/<path>", once with as few escapes as
 * possible and once with every byte but '/' and '.' escaped, resolves to
 * the same target.  A parsed map is checked for the shape its contract
 * promises and then used to resolve the input and a few fixed URIs.
 *
 * Build: make build-fuzz/fuzz_uri.  Run on a copy of the corpus:
 *   cp -r tests/fuzz/corpus/uri /tmp/uri-corpus
 *   ./build-fuzz/fuzz_uri -max_total_time=60 /tmp/uri-corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* No segment of `p` is "." or "..". */
static int
no_dot_segments(const char *p)
{
	const char *s = p;

	for (;;) {
		const char *e = strchr(s, '/');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		s = e + 1;
	}
}

static void
check_target(const struct lb_uri_target *t, int workload_required)
{
	check(t->kind == LB_URI_CONTENT || t->kind == LB_URI_METADATA);
	check(lb_resource_valid(t->path));
	check(no_dot_segments(t->path));
	check(lb_tenant_id_valid(t->tenant));
	if (workload_required || t->workload[0] != '\0')
		check(lb_workload_valid(t->workload));
}

/* Bytes that may be sent raw in a path without changing its meaning. */
static int
plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~' ||
	    c == '.' || c == '/' || c == '@';
}

/*
 * "/content/<tenant>/<workload>/<path>" (or /metadata/) with the path
 * escaped: `all` escapes every byte but '/' and '.', else only what must be.
 */
static void
rebuild(const struct lb_uri_target *t, int all, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(buf, size, "/%s/%s/%s/",
	    t->kind == LB_URI_CONTENT ? "content" : "metadata", t->tenant,
	    t->workload);
	size_t o;

	check(n > 0 && (size_t)n < size);
	o = (size_t)n;
	for (const char *p = t->path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		check(o + 4 < size);
		if (c == '/' || c == '.' || (!all && plain(c))) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
}

static void
check_idempotent(const struct lb_uri_map *m, const struct lb_uri_target *t)
{
	static char buf[LB_URI_MAX + 1];
	struct lb_uri_target again;

	for (int all = 0; all <= 1; all++) {
		rebuild(t, all, buf, sizeof(buf));
		check(lb_uri_resolve(m, buf, &again) == 0);
		check(again.kind == t->kind);
		check(strcmp(again.tenant, t->tenant) == 0);
		check(strcmp(again.workload, t->workload) == 0);
		check(strcmp(again.path, t->path) == 0);
	}
}

static void
fuzz_resolve(const char *s)
{
	struct lb_uri_map m;
	struct lb_uri_target t;
	int rc;

	lb_uri_map_default(&m);
	rc = lb_uri_resolve(&m, s, &t);
	check(rc == 0 || rc == LB_ERR_NOT_FOUND || rc == LB_ERR_INVALID_VALUE);
	if (rc != 0)
		return;
	check(s[0] == '/' && strlen(s) <= LB_URI_MAX);
	check_target(&t, 1);
	check_idempotent(&m, &t);
}

static void
fuzz_map(const char *s)
{
	static const char *const uris[] = {
		"/content/contoso/exchange/mailbox/a",
		"/metadata/contoso/exchange/mailbox/a",
		"/a/contoso/b/c/d/e/f",
		"/contoso/exchange/x",
	};
	struct lb_uri_map m;
	struct lb_uri_target t;
	char err[128];
	int rc;

	err[0] = '\0';
	rc = lb_uri_map_parse(s, &m, err, sizeof(err));
	if (rc != 0) {
		check(rc == LB_ERR_INVALID_VALUE && err[0] != '\0');
		return;
	}
	check(m.n >= 1 && m.n <= LB_URI_RULES_MAX);
	for (size_t i = 0; i < m.n; i++) {
		const char *p = m.rules[i].pattern;

		check(strnlen(p, LB_URI_PATTERN_MAX + 1) <= LB_URI_PATTERN_MAX);
		check(p[0] == '/' && strstr(p, "//") == NULL);
		check(strstr(p, "{tenant}") != NULL);
		check(strlen(p) >= 6 && strcmp(p + strlen(p) - 6, "{path}") == 0);
	}
	rc = lb_uri_resolve(&m, s, &t);
	check(rc == 0 || rc == LB_ERR_NOT_FOUND || rc == LB_ERR_INVALID_VALUE);
	if (rc == 0)
		check_target(&t, 0);
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		rc = lb_uri_resolve(&m, uris[i], &t);
		check(rc == 0 || rc == LB_ERR_NOT_FOUND || rc == LB_ERR_INVALID_VALUE);
		if (rc == 0)
			check_target(&t, 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 2 * LB_URI_MAX)
		return 0;       /* resolve refuses it unread; maps are line by line */
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_resolve(s);
	fuzz_map(s);
	free(s);
	return 0;
}
