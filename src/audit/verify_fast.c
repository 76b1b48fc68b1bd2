/*
 * The verifier's fast path: a strict left-to-right reader for the record
 * lines an export holds, which hashes a line where it lies instead of
 * parsing it and dumping it back to canonical text.  Why that is sound is
 * the comment below; anything it does not accept goes to verify.c's full
 * parse unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "audit/verify.h"
#include "audit/verify_impl.h"

/* --------------------------------------------------- record fast path */

/*
 * The fast path for a record line (verify_line only; verify_record has no
 * text).  The slow path parses the line with jansson, checks its shape,
 * copies it without "hash", dumps that canonically and hashes the dump:
 * most of the time goes there.  A line the exporter wrote is already that
 * dump with the hash member spliced in, so for such a line the dump can be
 * hashed where it lies.
 *
 * Why not just find `,"hash":"` (its last occurrence), cut it out and hash
 * the rest?  That finds the top-level member only if the line has one and
 * is JSON: a line whose details hold a "hash" key, but which lacks the
 * top-level member, or a line that is not JSON at all, would be hashed
 * just the same.  If such bytes hash to their claimed hash, accepting them
 * would still be caught later (the hash is bound to the next record's
 * prev_hash and, through the chain, to a signed checkpoint), but as a
 * BROKEN_LINK or CHECKPOINT_MISMATCH one record on, not as the MALFORMED
 * line the slow path reports.  So the fast path does not search: it reads
 * the line from left to right with a strict grammar and accepts only a
 * subset of JSON whose text is, byte for byte, jansson's canonical dump of
 * what it parses to (verify_canonical), and whose record passes every
 * check of record_shape_ok:
 *
 *   {"actor":{"id":S,"realm":S,"type":"user"|"service"|"system"},
 *    "client_ip":S,"details":O,["hash":H,]"id":S,"object_id":S,
 *    "operation":S,"prev_hash":H,"record_type":S,"result":S,"seq":N,
 *    "tenant":null|S,"time":T,"workload":S[,"hash":H]}
 *
 * with the hash member either in its sorted place (as the exporter writes
 * it) or last, exactly once, and nothing before or after the braces.  S is
 * a string as jansson dumps it: valid UTF-8, no raw control character, '"'
 * or '\\', escapes only \" \\ \b \f \n \r \t and \u00xx (lowercase) for
 * the other controls but NUL.  O is an object of such strings, integers of
 * at most 18 digits without leading zeros or "-0", true, false, null,
 * arrays and objects (at most FAST_DEPTH_MAX deep) whose keys carry no
 * escape and ascend strictly by bytes (so none repeats, and the order is
 * jansson's sort).  No reals, no whitespace.  H is 64 lowercase hex, T the
 * time shape is_time accepts, N a seq in 1..SEQ_MAX.  The tenant carries
 * no escape (its length is then its byte count); the operation carries no
 * escape and is not PurgeAuditRecords (so is_purge_of would be false).
 *
 * Such a line is valid JSON, jansson parses it (JSON_REJECT_DUPLICATES
 * included) to a record that record_shape_ok accepts with the same seq,
 * tenant, prev_hash and hash the fast path read, and the line with the
 * hash member taken out is verify_canonical of that record without "hash".
 * So the SHA-256 of those bytes equals the hash iff the slow path's digest
 * does, and every later check sees the same values: the outcome, problem,
 * seq and line are the slow path's.  A line outside the subset, or whose
 * digest differs, goes to the slow path untouched (the fast path changes
 * no state before it accepts), which reports what it always reported.
 */
#define FAST_DEPTH_MAX 64
#define FAST_INT_DIGITS 18
#define HASH_MEMBER_LEN 74      /* ,"hash":"<64 hex>" */

struct scan {
	const char *p, *e;
};

static bool
lit(struct scan *s, const char *t, size_t n)
{
	if ((size_t)(s->e - s->p) < n || memcmp(s->p, t, n) != 0)
		return false;
	s->p += n;
	return true;
}
#define LIT(s, t) lit((s), (t), sizeof(t) - 1)

static bool
lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* One UTF-8 sequence at s->p (its first byte >= 0x80): the strict form. */
static bool
utf8_seq(struct scan *s)
{
	const unsigned char *u = (const unsigned char *)s->p;
	size_t avail = (size_t)(s->e - s->p), n;
	uint32_t cp;

	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		cp = u[0] & 0x1fu;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		cp = u[0] & 0x0fu;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		cp = u[0] & 0x07u;
	} else {
		return false;
	}
	if (avail < n)
		return false;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0u) != 0x80u)
			return false;
		cp = (cp << 6) | (u[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	s->p += n;
	return true;
}

/*
 * A string in jansson's dump form; its content (between the quotes) in
 * *c / *n, and whether it holds an escape in *esc.
 */
static bool
fast_str(struct scan *s, const char **c, size_t *n, bool *esc)
{
	const char *start;

	*esc = false;
	if (s->p >= s->e || *s->p != '"')
		return false;
	start = ++s->p;
	while (s->p < s->e) {
		unsigned char ch = (unsigned char)*s->p;

		if (ch == '"') {
			*c = start;
			*n = (size_t)(s->p - start);
			s->p++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch >= 0x80) {
			if (!utf8_seq(s))
				return false;
			continue;
		}
		if (ch != '\\') {
			s->p++;
			continue;
		}
		*esc = true;
		if (s->e - s->p < 2)
			return false;
		switch (s->p[1]) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
			s->p += 2;
			continue;
		case 'u':
			break;
		default:
			return false;
		}
		/* \u00xx, lowercase, a control other than NUL and the short ones. */
		if (s->e - s->p < 6 || s->p[2] != '0' || s->p[3] != '0' ||
		    (s->p[4] != '0' && s->p[4] != '1') || !lower_hex(s->p[5]))
			return false;
		{
			int v = (s->p[4] - '0') * 16 +
			    (s->p[5] <= '9' ? s->p[5] - '0' : s->p[5] - 'a' + 10);

			if (v == 0 || v == '\b' || v == '\t' || v == '\n' || v == '\f' ||
			    v == '\r')
				return false;
		}
		s->p += 6;
	}
	return false;
}

/* A string without escapes, its content in *c / *n. */
static bool
fast_plain(struct scan *s, const char **c, size_t *n)
{
	bool esc;

	return fast_str(s, c, n, &esc) && !esc;
}

static bool
fast_any_str(struct scan *s)
{
	const char *c;
	size_t n;
	bool esc;

	return fast_str(s, &c, &n, &esc);
}

/* An integer as jansson dumps it, at most FAST_INT_DIGITS digits; its value. */
static bool
fast_int(struct scan *s, int64_t *out)
{
	bool neg = false;
	int64_t v = 0;
	size_t d = 0;

	if (s->p < s->e && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->e || *s->p < '0' || *s->p > '9')
		return false;
	if (*s->p == '0') {
		s->p++;
		if (neg)
			return false;   /* "-0" dumps as "0" */
	} else {
		while (s->p < s->e && *s->p >= '0' && *s->p <= '9') {
			if (++d > FAST_INT_DIGITS)
				return false;
			v = v * 10 + (*s->p - '0');
			s->p++;
		}
	}
	/* A fraction or exponent would make a real. */
	if (s->p < s->e && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool fast_obj(struct scan *s, int depth);

static bool
fast_value(struct scan *s, int depth)
{
	int64_t n;

	if (s->p >= s->e)
		return false;
	switch (*s->p) {
	case '"':
		return fast_any_str(s);
	case '{':
		return fast_obj(s, depth + 1);
	case '[':
		if (depth + 1 > FAST_DEPTH_MAX)
			return false;
		s->p++;
		if (LIT(s, "]"))
			return true;
		for (;;) {
			if (!fast_value(s, depth + 1))
				return false;
			if (LIT(s, "]"))
				return true;
			if (!LIT(s, ","))
				return false;
		}
	case 't':
		return LIT(s, "true");
	case 'f':
		return LIT(s, "false");
	case 'n':
		return LIT(s, "null");
	default:
		return fast_int(s, &n);
	}
}

/* An object: keys without escapes, strictly ascending by bytes. */
static bool
fast_obj(struct scan *s, int depth)
{
	const char *pk = NULL, *k;
	size_t pn = 0, kn;

	if (depth > FAST_DEPTH_MAX || !LIT(s, "{"))
		return false;
	if (LIT(s, "}"))
		return true;
	for (;;) {
		if (!fast_plain(s, &k, &kn))
			return false;
		if (pk != NULL) {
			int c = memcmp(pk, k, pn < kn ? pn : kn);

			if (c > 0 || (c == 0 && pn >= kn))
				return false;
		}
		pk = k;
		pn = kn;
		if (!LIT(s, ":") || !fast_value(s, depth))
			return false;
		if (LIT(s, "}"))
			return true;
		if (!LIT(s, ","))
			return false;
	}
}

static bool
fast_hex(struct scan *s, unsigned char out[32])
{
	if (s->e - s->p < 66 || s->p[0] != '"' || s->p[65] != '"')
		return false;
	for (size_t i = 0; i < 32; i++) {
		char h = s->p[1 + 2 * i], l = s->p[2 + 2 * i];

		if (!lower_hex(h) || !lower_hex(l))
			return false;
		out[i] = (unsigned char)(((h <= '9' ? h - '0' : h - 'a' + 10) << 4) |
		    (l <= '9' ? l - '0' : l - 'a' + 10));
	}
	s->p += 66;
	return true;
}

/* The hash member at s->p, its start in *at. */
static bool
fast_hash_member(struct scan *s, const char **at, unsigned char hash[32])
{
	*at = s->p;
	return LIT(s, ",\"hash\":") && fast_hex(s, hash);
}

static bool
fast_time(struct scan *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	char t[25];
	int64_t ms;

	if (s->e - s->p < 26 || s->p[0] != '"' || s->p[25] != '"')
		return false;
	for (size_t i = 0; i < 24; i++) {
		char c = s->p[1 + i];

		if (shape[i] == 'd' ? c < '0' || c > '9' : c != shape[i])
			return false;
	}
	memcpy(t, s->p + 1, 24);
	t[24] = '\0';
	if (lb_time_parse(t, &ms) != 0)
		return false;
	s->p += 26;
	return true;
}

/*
 * Reads a record line of the subset above into *f and checks its hash.
 * False (and nothing learnt) for any other line: the slow path decides.
 */
bool
verify_fast_record(const char *line, size_t len, struct fast_rec *f)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	struct scan s = { line, line + len };
	const char *at = NULL, *c;
	size_t n;
	int64_t seq;

	if (len > LB_VERIFY_LINE_MAX ||
	    !LIT(&s, "{\"actor\":{\"id\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"realm\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"type\":") || !fast_plain(&s, &c, &n) ||
	    !((n == 4 && memcmp(c, "user", 4) == 0) ||
	    (n == 7 && memcmp(c, "service", 7) == 0) ||
	    (n == 6 && memcmp(c, "system", 6) == 0)) ||
	    !LIT(&s, "},\"client_ip\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"details\":") || !fast_obj(&s, 1))
		return false;
	/* The hash member in its sorted place, or else last. */
	if (s.e - s.p >= 8 && memcmp(s.p, ",\"hash\":", 8) == 0 &&
	    !fast_hash_member(&s, &at, f->hash))
		return false;
	if (!LIT(&s, ",\"id\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"object_id\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"operation\":") || !fast_plain(&s, &c, &n) ||
	    (n == sizeof(PURGE_OPERATION) - 1 && memcmp(c, PURGE_OPERATION, n) == 0) ||
	    !LIT(&s, ",\"prev_hash\":") || !fast_hex(&s, f->prev) ||
	    !LIT(&s, ",\"record_type\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"result\":") || !fast_any_str(&s) ||
	    !LIT(&s, ",\"seq\":") || !fast_int(&s, &seq) || seq < 1 || seq > SEQ_MAX)
		return false;
	if (!LIT(&s, ",\"tenant\":"))
		return false;
	if (LIT(&s, "null")) {
		f->chain[0] = '\0';
	} else {
		if (!fast_plain(&s, &c, &n) || n == 0 || n > LB_ID_MAX)
			return false;
		memcpy(f->chain, c, n);
		f->chain[n] = '\0';
	}
	if (!LIT(&s, ",\"time\":") || !fast_time(&s) ||
	    !LIT(&s, ",\"workload\":") || !fast_any_str(&s))
		return false;
	if (at == NULL && !fast_hash_member(&s, &at, f->hash))
		return false;
	if (!LIT(&s, "}") || s.p != s.e)
		return false;
	f->seq = seq;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)line, (size_t)(at - line));
	crypto_hash_sha256_update(&st, (const unsigned char *)at + HASH_MEMBER_LEN,
	    len - (size_t)(at - line) - HASH_MEMBER_LEN);
	crypto_hash_sha256_final(&st, digest);
	return sodium_memcmp(digest, f->hash, 32) == 0;
}
