/*
 * The URI map: from the raw URI nginx is about to serve to (kind, tenant,
 * workload, resource path), so the access check can ask whether a grant
 * covers it.
 *
 * This is the one place where outside text becomes a resource path that
 * lb_resource_covers() compares with a grant, so it is where a path
 * traversal would have to succeed.  The URI is therefore normalised once
 * and strictly: nothing is resolved, anything that a web server, an
 * application server or a file system could read in two ways is refused.
 * Percent-escapes are decoded exactly once, and an escape that decodes to
 * a separator, a dot, a '%' or a control character is refused, so the
 * decoded path has the same segments as the raw one and a second decoding
 * by someone else changes nothing.  The reasons for each refusal are in
 * docs/internals/uri.md.
 *
 * Pure: libc only, no I/O, no state.  Every loop is bounded by LB_URI_MAX,
 * LB_URI_PATTERN_MAX or the length of the map text, and all work is done
 * in fixed buffers on the stack.  Character classes are ASCII, never
 * <ctype.h>.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* ------------------------------------------------------ character classes */

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * A byte that may stand for itself in the path of a request URI: RFC 3986
 * pchar (unreserved, sub-delims, ':' and '@') and the separator '/'.
 * '%' starts an escape and is handled by the decoder.  Everything else
 * (space, '"', '<', '>', '\\', '^', '`', '{', '|', '}', '[', ']', '#',
 * control characters, bytes >= 0x80) must be percent-encoded by the client.
 */
static bool
is_path_char(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/*
 * The query is ignored, but a URI that carries a control character, a
 * space, a '\\', a fragment or raw non-ASCII bytes anywhere is not one a
 * well-behaved client sends.
 */
static bool
is_query_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '\\' && c != '#';
}

/*
 * A byte an escape may not produce: a separator ('/', '\\'), a dot (so no
 * encoded "." or ".." segment and no dot a second decoding could reveal),
 * '%' (no double encoding), NUL and the other control characters.
 */
static bool
is_refused_decoded(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '.' ||
	    c == '%';
}

/* ---------------------------------------------------------------- UTF-8 */

/*
 * True when s[0..n) is well-formed UTF-8 (Unicode 15, table 3-7): no
 * overlong form (so "%c0%ae" is not a dot in disguise), no surrogate,
 * nothing above U+10FFFF, no truncated sequence.  C1 controls
 * (U+0080..U+009F) are refused like the C0 ones.
 */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;              /* overlong */
			else if (c == 0xed)
				hi = 0x9f;              /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;              /* overlong */
			else if (c == 0xf4)
				hi = 0x8f;              /* > U+10FFFF */
		} else {
			return false;   /* continuation, C0/C1 lead, F5..FF */
		}
		if (n - i - 1 < more)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		if (c == 0xc2 && s[i + 1] <= 0x9f)
			return false;           /* U+0080..U+009F: C1 controls */
		i += more + 1;
	}
	return true;
}

/* ------------------------------------------------------- decoded segments */

/*
 * A decoded segment s[0..n) that no server may see as anything but a name.
 * Refused: the empty segment ("//", a trailing '/'), "." and "..", and more
 * generally any segment made only of dots and spaces ("...", ".. "), which
 * some file systems (Windows strips trailing dots and spaces) read as "."
 * or "..".  The part before a ';' is checked the same way, because Tomcat,
 * Jetty and Spring strip ";params" from a segment before they resolve it,
 * so "..;x" or ";x" would become ".." or an empty segment behind us.
 */
static bool
segment_ok(const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n);
	size_t head = semi != NULL ? (size_t)(semi - s) : n;

	for (size_t i = 0; i < head; i++)
		if (s[i] != '.' && s[i] != ' ')
			return true;
	return false;
}

/*
 * Decodes the path part uri[0..n) (n <= LB_URI_MAX, uri[0] == '/') into
 * `buf` without its leading '/': every '/' left in `buf` is a raw separator,
 * because an escape of '/' is refused.  Checks every raw byte, every
 * escape, UTF-8 and every segment.  Writes the decoded length to *outlen.
 * `buf` must hold LB_URI_MAX + 1 bytes.
 */
static int
decode_path(const char *uri, size_t n, char *buf, size_t *outlen)
{
	size_t len = 0;
	size_t seg = 0;

	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return LB_ERR_INVALID_VALUE;    /* "%", "%4" */
			hi = lb_hex_digit((unsigned char)uri[i + 1]);
			lo = lb_hex_digit((unsigned char)uri[i + 2]);
			if (hi < 0 || lo < 0)
				return LB_ERR_INVALID_VALUE;    /* "%zz" */
			c = (unsigned char)(hi * 16 + lo);
			if (is_refused_decoded(c))
				return LB_ERR_INVALID_VALUE;
			i += 2;
		} else if (!is_path_char(c)) {
			return LB_ERR_INVALID_VALUE;
		}
		buf[len++] = (char)c;
	}
	buf[len] = '\0';

	/* "/" alone has no segment: well-formed, mapped by no rule. */
	if (len == 0) {
		*outlen = 0;
		return 0;
	}
	if (!utf8_valid((const unsigned char *)buf, len))
		return LB_ERR_INVALID_VALUE;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || buf[i] == '/') {
			if (!segment_ok(buf + seg, i - seg))
				return LB_ERR_INVALID_VALUE;
			seg = i + 1;
		}
	}
	*outlen = len;
	return 0;
}

/* --------------------------------------------------------------- patterns */

enum seg_type { SEG_LITERAL, SEG_TENANT, SEG_WORKLOAD, SEG_PATH };

static enum seg_type
seg_classify(const char *s, size_t n)
{
	if (n == 8 && memcmp(s, "{tenant}", 8) == 0)
		return SEG_TENANT;
	if (n == 10 && memcmp(s, "{workload}", 10) == 0)
		return SEG_WORKLOAD;
	if (n == 6 && memcmp(s, "{path}", 6) == 0)
		return SEG_PATH;
	return SEG_LITERAL;
}

/*
 * Checks a pattern of length n: '/' then non-empty segments; literals of
 * [A-Za-z0-9._-] that are not only dots; {tenant} once and required;
 * {workload} at most once; {path} once, required and last.  Returns NULL
 * when valid, else the reason.
 */
static const char *
pattern_check(const char *p, size_t n)
{
	bool tenant = false, workload = false, path = false;
	size_t seg;

	if (n == 0)
		return "missing pattern";
	if (n > LB_URI_PATTERN_MAX)
		return "pattern too long";
	if (p[0] != '/')
		return "pattern must start with '/'";
	seg = 1;
	for (size_t i = 1; i <= n; i++) {
		const char *s = p + seg;
		size_t len = i - seg;

		if (i < n && p[i] != '/')
			continue;
		if (len == 0)
			return "empty segment in pattern";
		if (path)
			return "{path} must be the last segment";
		switch (seg_classify(s, len)) {
		case SEG_TENANT:
			if (tenant)
				return "{tenant} appears twice";
			tenant = true;
			break;
		case SEG_WORKLOAD:
			if (workload)
				return "{workload} appears twice";
			workload = true;
			break;
		case SEG_PATH:
			path = true;
			break;
		case SEG_LITERAL: {
			bool dots_only = true;

			for (size_t k = 0; k < len; k++) {
				unsigned char c = (unsigned char)s[k];
				if (s[k] == '{' || s[k] == '}')
					return "unknown placeholder (want {tenant}, {workload} or {path})";
				if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
					return "literal segments may hold only [A-Za-z0-9._-]";
				if (c != '.')
					dots_only = false;
			}
			if (dots_only)
				return "literal segment of dots only";
			break;
		}
		}
		seg = i + 1;
	}
	if (!tenant)
		return "pattern needs {tenant}";
	if (!path)
		return "pattern needs {path} as its last segment";
	return NULL;
}

/*
 * Copies s[0..n) into dst of size `size` when it fits.  Returns false when
 * it does not.
 */
static bool
copy_bounded(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/*
 * Matches the decoded path d[0..len) (no leading '/', every segment
 * checked) against rule `r`.  The shape matches when every literal segment
 * is equal byte for byte (case-sensitive) and the path has one segment for
 * each of {tenant} and {workload} and at least one for {path}.  Returns 0
 * when the shape does not match; 1 with *t filled when it matches and
 * every placeholder's value is valid; LB_ERR_INVALID_VALUE when it matches
 * but a value is not, so a later, looser rule never gets a second try at a
 * URI the first rule claims.  Values are checked only once the whole shape
 * matched ({path} is last, so every literal has been compared by then):
 * "/other/Contoso/x" is unmapped, not refused under a rule it is not of.
 * A rule whose pattern or kind is invalid matches nothing.
 */
static int
rule_match(const struct lb_uri_rule *r, const char *d, size_t len,
    struct lb_uri_target *t)
{
	const char *p = r->pattern;
	size_t plen = strnlen(p, LB_URI_PATTERN_MAX + 1);
	size_t pseg = 1, useg = 0;
	bool fits = true, has_workload = false;
	struct lb_uri_target res;

	if (pattern_check(p, plen) != NULL)
		return 0;
	if (r->kind != LB_URI_CONTENT && r->kind != LB_URI_METADATA)
		return 0;
	memset(&res, 0, sizeof(res));
	res.kind = r->kind;

	while (pseg < plen && useg < len) {
		const char *pend = memchr(p + pseg, '/', plen - pseg);
		size_t pn = pend != NULL ? (size_t)(pend - (p + pseg)) : plen - pseg;
		const char *uend = memchr(d + useg, '/', len - useg);
		size_t un = uend != NULL ? (size_t)(uend - (d + useg)) : len - useg;

		switch (seg_classify(p + pseg, pn)) {
		case SEG_LITERAL:
			if (un != pn || memcmp(d + useg, p + pseg, pn) != 0)
				return 0;
			break;
		case SEG_TENANT:
			fits = fits && copy_bounded(res.tenant, sizeof(res.tenant),
			    d + useg, un);
			break;
		case SEG_WORKLOAD:
			has_workload = true;
			fits = fits && copy_bounded(res.workload,
			    sizeof(res.workload), d + useg, un);
			break;
		case SEG_PATH:
			if (!fits || !lb_tenant_id_valid(res.tenant) ||
			    (has_workload && !lb_workload_valid(res.workload)))
				return LB_ERR_INVALID_VALUE;
			if (!copy_bounded(res.path, sizeof(res.path), d + useg,
			    len - useg) || !lb_resource_valid(res.path))
				return LB_ERR_INVALID_VALUE;
			*t = res;
			return 1;
		}
		pseg += pn + 1;
		useg += un + 1;
	}
	return 0;       /* the URI ran out before {path} */
}

/* ------------------------------------------------------------------ API */

void
lb_uri_map_default(struct lb_uri_map *out)
{
	static const struct lb_uri_rule rules[] = {
		{ LB_URI_CONTENT, "/content/{tenant}/{workload}/{path}" },
		{ LB_URI_METADATA, "/metadata/{tenant}/{workload}/{path}" },
	};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		out->rules[i] = rules[i];
	out->n = sizeof(rules) / sizeof(rules[0]);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
map_error(char *err, size_t errlen, size_t line, const char *why)
{
	if (err != NULL && errlen > 0) {
		if (line > 0)
			(void)snprintf(err, errlen, "line %zu: %s", line, why);
		else
			(void)snprintf(err, errlen, "%s", why);
	}
	return LB_ERR_INVALID_VALUE;
}

/*
 * See core.h.  A line is: blanks, a kind word, blanks, a pattern, blanks.
 * A line whose first non-blank is '#' is a comment; a '\r' before the
 * '\n' is ignored.  Nothing may follow the pattern.  A map without any
 * rule is refused (it would leave every URI unmapped, which is surely a
 * mistake).
 */
int
lb_uri_map_parse(const char *text, struct lb_uri_map *out, char *err, size_t errlen)
{
	struct lb_uri_map map;
	size_t line = 0;
	const char *p = text;

	if (text == NULL || out == NULL)
		return map_error(err, errlen, 0, "no map");
	memset(&map, 0, sizeof(map));
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *end = eol != NULL ? eol : p + strlen(p);
		const char *kw, *pat;
		size_t kwlen, patlen;
		enum lb_uri_kind kind;
		const char *why;

		line++;
		if (end > p && end[-1] == '\r')
			end--;
		while (p < end && is_blank(*p))
			p++;
		while (end > p && is_blank(end[-1]))
			end--;
		if (p == end || *p == '#')
			goto next;

		kw = p;
		while (p < end && !is_blank(*p))
			p++;
		kwlen = (size_t)(p - kw);
		if (kwlen == 7 && memcmp(kw, "content", 7) == 0)
			kind = LB_URI_CONTENT;
		else if (kwlen == 8 && memcmp(kw, "metadata", 8) == 0)
			kind = LB_URI_METADATA;
		else
			return map_error(err, errlen, line,
			    "unknown kind (want content or metadata)");
		while (p < end && is_blank(*p))
			p++;
		pat = p;
		while (p < end && !is_blank(*p))
			p++;
		patlen = (size_t)(p - pat);
		if (p != end)
			return map_error(err, errlen, line, "text after the pattern");
		if ((why = pattern_check(pat, patlen)) != NULL)
			return map_error(err, errlen, line, why);
		if (map.n >= LB_URI_RULES_MAX)
			return map_error(err, errlen, line, "too many rules (at most 16)");
		map.rules[map.n].kind = kind;
		memcpy(map.rules[map.n].pattern, pat, patlen);
		map.rules[map.n].pattern[patlen] = '\0';
		map.n++;
next:
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	if (map.n == 0)
		return map_error(err, errlen, 0, "the map has no rules");
	*out = map;
	return 0;
}

/*
 * See core.h.  Hostility is checked first, over the whole URI, before any
 * rule is tried: a hostile URI is refused even when no rule would map it,
 * so the audit log names it for what it is.
 */
int
lb_uri_resolve(const struct lb_uri_map *m, const char *uri, struct lb_uri_target *out)
{
	char buf[LB_URI_MAX + 1];
	size_t n, pathlen, len, nrules;
	const char *q;
	int rc;

	if (m == NULL || uri == NULL || out == NULL)
		return LB_ERR_INVALID_VALUE;
	n = strnlen(uri, LB_URI_MAX + 1);
	if (n == 0 || n > LB_URI_MAX || uri[0] != '/')
		return LB_ERR_INVALID_VALUE;
	q = memchr(uri, '?', n);
	pathlen = q != NULL ? (size_t)(q - uri) : n;
	for (size_t i = pathlen + 1; i < n; i++)
		if (!is_query_char((unsigned char)uri[i]))
			return LB_ERR_INVALID_VALUE;
	if ((rc = decode_path(uri, pathlen, buf, &len)) != 0)
		return rc;

	nrules = m->n < LB_URI_RULES_MAX ? m->n : LB_URI_RULES_MAX;
	for (size_t i = 0; i < nrules; i++) {
		struct lb_uri_target t;

		rc = rule_match(&m->rules[i], buf, len, &t);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*out = t;
			return 0;
		}
	}
	return LB_ERR_NOT_FOUND;
}
