/*
 * Verifying an audit chain from what an export (or the server) hands over:
 * a header, the chain's signed checkpoints, then its records in seq order.
 *
 * The same code runs in the daemon (GET .../audit/verify) and offline in
 * the CLI, so it depends on nothing but jansson, libsodium, libc and the
 * core's time format; the caller supplies public keys through a callback.
 * It is a parser of outside input: every line is bounded, every field's
 * type and shape is checked, unknown fields in records and checkpoints are
 * refused (a field the hash does not cover must not be shown as if it
 * were), and nothing it is fed can crash it.
 *
 * It streams: records are checked one at a time against the previous
 * record's hash and the checkpoints, so memory is O(checkpoints), never
 * O(records).  It stops at the first problem and reports that one, with
 * the seq and line where it lies.  docs/audit-format.md is the contract.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/verify.h"
#include "audit/verify_impl.h"
#include "core/core.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define CHECKPOINT_TYPE "lockbox.checkpoint.v1"
#define PURGE_RECORD_TYPE "CustomerLockboxAudit"
/* Bounds on what an export may hold (a checkpoint entry is 56 bytes). */
#define CHECKPOINTS_MAX (1 << 22)
#define KID_MAX 32
#define CANON_DEPTH_MAX 2048

struct cp_entry {
	int64_t seq;
	int64_t line;
	unsigned char hash[32];
};

struct lb_verify {
	lb_verify_key_fn key;
	void *key_ctx;
	int64_t line;                   /* lines fed to verify_line so far */
	bool lines;                     /* fed by verify_line (a header is due) */
	bool header_seen;
	bool chain_known;
	char chain[LB_ID_MAX + 1];      /* "" for the provider chain */
	int64_t hdr_first, hdr_last;

	struct cp_entry *cps;           /* ascending seq */
	size_t ncp, capcp, cpi;         /* cpi: next checkpoint to meet a record */
	bool cp_done;                   /* a record came: no more checkpoints */

	int64_t records, first_seq, first_line, last_seq, last_line;
	unsigned char last_hash[32];
	bool last_covered;              /* a checkpoint sits at last_seq */
	/* A forward jump of seq, told apart from a reordering by the next record. */
	bool gap;
	int64_t gap_seq, gap_line, gap_expected;
	bool purge_seen;                /* the record accounting for a purged start */

	bool done;                      /* a problem was found */
	bool finished;
	int err;                        /* an error that stopped verification */
	struct lb_verify_result res;
};

const char *
lb_verify_problem_name(enum lb_verify_problem p)
{
	switch (p) {
	case LB_VERIFY_OK: return "ok";
	case LB_VERIFY_MALFORMED: return "malformed";
	case LB_VERIFY_EDITED: return "edited";
	case LB_VERIFY_BROKEN_LINK: return "broken_link";
	case LB_VERIFY_MISSING: return "missing";
	case LB_VERIFY_REORDERED: return "reordered";
	case LB_VERIFY_BAD_SIGNATURE: return "bad_signature";
	case LB_VERIFY_UNKNOWN_KEY: return "unknown_key";
	case LB_VERIFY_CHECKPOINT_MISMATCH: return "checkpoint_mismatch";
	case LB_VERIFY_TRUNCATED: return "truncated";
	case LB_VERIFY_UNANCHORED: return "unanchored";
	case LB_VERIFY_WRONG_CHAIN: return "wrong_chain";
	}
	return "unknown";
}

/* Records the first problem; later ones are ignored. */
__attribute__((format(printf, 5, 6)))
static void
fail(struct lb_verify *v, enum lb_verify_problem p, int64_t seq, int64_t line,
    const char *fmt, ...)
{
	va_list ap;

	if (v->done)
		return;
	v->done = true;
	v->res.problem = p;
	v->res.bad_seq = seq;
	v->res.bad_line = line;
	va_start(ap, fmt);
	vsnprintf(v->res.reason, sizeof(v->res.reason), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ canonical */

/* True when `j` holds no real number and nests at most CANON_DEPTH_MAX. */
static bool
canon_ok(json_t *j, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	if (depth > CANON_DEPTH_MAX || json_is_real(j))
		return false;
	if (json_is_object(j)) {
		json_object_foreach(j, k, x)
			if (!canon_ok(x, depth + 1))
				return false;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, x)
			if (!canon_ok(x, depth + 1))
				return false;
	}
	return true;
}

/*
 * jansson writes the \u escapes of control characters with uppercase hex;
 * RFC 8785 (and JSON.stringify, and Python's json) use lowercase.  Walks
 * the escapes of a dumped JSON text and lowercases their hex digits, so
 * the text is exactly the JCS form.  Backslashes occur in JSON text only
 * as escapes, so the walk cannot misread data.
 */
static void
jcs_lower_escapes(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (int i = 1; i <= 4 && s[i] != '\0'; i++)
				if (s[i] >= 'A' && s[i] <= 'F')
					s[i] = (char)(s[i] - 'A' + 'a');
		} else if (*s == '\0') {
			return;
		}
	}
}

/*
 * jansson's compact dump with sorted keys and raw UTF-8 is JCS for these
 * values: keys sort by bytes, which equals JCS's UTF-16 order for the
 * ASCII keys Lockbox writes; strings escape only '"', '\\' and controls
 * (\b \f \n \r \t, else \u00xx); integers print in decimal.  Reals have no
 * such guarantee, so a value holding one has no canonical text here.
 */
char *
verify_canonical(json_t *v)
{
	char *s;

	if (v == NULL || !canon_ok(v, 0))
		return NULL;
	if ((s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)) != NULL)
		jcs_lower_escapes(s);
	return s;
}

char *
verify_checkpoint_message(const char *chain, int64_t seq, const char *head_hash,
    int64_t time_ms)
{
	char ts[32];
	json_t *o;
	char *s;

	if (head_hash == NULL || lb_time_format(time_ms, ts, sizeof(ts)) != 0)
		return NULL;
	o = json_pack("{s:s, s:o, s:I, s:s, s:s}",
	    "type", CHECKPOINT_TYPE,
	    "tenant", chain != NULL && chain[0] != '\0' ? json_string(chain) : json_null(),
	    "seq", (json_int_t)seq,
	    "head_hash", head_hash,
	    "time", ts);
	if (o == NULL)
		return NULL;
	s = verify_canonical(o);
	json_decref(o);
	return s;
}

/* ------------------------------------------------------- field checks */

static bool
is_hex64(json_t *j, unsigned char out[32])
{
	const char *s = json_string_value(j);

	if (s == NULL || json_string_length(j) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return sodium_hex2bin(out, 32, s, 64, NULL, NULL, NULL) == 0;
}

/*
 * An RFC 3339 time exactly as Lockbox writes it, "2026-11-22T06:31:50.123Z":
 * that shape, which lb_time_parse then reads to a valid instant, is the
 * one text lb_time_format gives for that instant.
 */
static bool
is_time(json_t *j, int64_t *ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	const char *s = json_string_value(j);
	int64_t t;

	if (s == NULL || json_string_length(j) != 24)
		return false;
	for (size_t i = 0; i < 24; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	if (lb_time_parse(s, &t) != 0)
		return false;
	*ms = t;
	return true;
}

static bool
is_seq(json_t *j, int64_t min, int64_t *out)
{
	json_int_t n;

	if (!json_is_integer(j))
		return false;
	n = json_integer_value(j);
	if (n < min || n > SEQ_MAX)
		return false;
	*out = (int64_t)n;
	return true;
}

/* tenant: null (the provider chain "") or a non-empty id. */
static bool
is_chain(json_t *j, char out[LB_ID_MAX + 1])
{
	size_t n;

	if (json_is_null(j)) {
		out[0] = '\0';
		return true;
	}
	if (!json_is_string(j) || (n = json_string_length(j)) == 0 || n > LB_ID_MAX ||
	    strlen(json_string_value(j)) != n)
		return false;
	memcpy(out, json_string_value(j), n + 1);
	return true;
}

static bool
is_kid(json_t *j)
{
	const char *s = json_string_value(j);
	size_t n;

	if (s == NULL || (n = json_string_length(j)) == 0 || n > KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool
is_sig(json_t *j, unsigned char sig[64])
{
	const char *s = json_string_value(j), *end = NULL;
	size_t n = 0;

	if (s == NULL || json_string_length(j) != 86)
		return false;
	if (sodium_base642bin(sig, 64, s, 86, NULL, &n, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	return n == 64 && end == s + 86;
}

static bool
same_chain(struct lb_verify *v, const char *chain)
{
	if (!v->chain_known) {
		memcpy(v->chain, chain, strlen(chain) + 1);
		v->chain_known = true;
	}
	return strcmp(v->chain, chain) == 0;
}

/* ------------------------------------------------------------- header */

static void
do_header(struct lb_verify *v, json_t *h, int64_t line)
{
	char chain[LB_ID_MAX + 1];
	int64_t at, first, last;

	if (!json_is_object(h) ||
	    !json_is_integer(json_object_get(h, "version")) ||
	    json_integer_value(json_object_get(h, "version")) != 1 ||
	    !is_chain(json_object_get(h, "tenant"), chain) ||
	    !is_time(json_object_get(h, "exported_at"), &at) ||
	    !is_seq(json_object_get(h, "first_seq"), 0, &first) ||
	    !is_seq(json_object_get(h, "last_seq"), 0, &last) ||
	    first > last || (first == 0) != (last == 0)) {
		fail(v, LB_VERIFY_MALFORMED, -1, line,
		    "The export header on line %lld is not a version 1 header.",
		    (long long)line);
		return;
	}
	v->header_seen = true;
	memcpy(v->chain, chain, sizeof(chain));
	v->chain_known = true;
	v->hdr_first = first;
	v->hdr_last = last;
}

/* --------------------------------------------------------- checkpoints */

static int
cp_push(struct lb_verify *v, int64_t seq, int64_t line, const unsigned char hash[32])
{
	if (v->ncp == v->capcp) {
		size_t cap = v->capcp ? v->capcp * 2 : 64;
		struct cp_entry *n = realloc(v->cps, cap * sizeof(*n));

		if (n == NULL)
			return LB_ERR_NOMEM;
		v->cps = n;
		v->capcp = cap;
	}
	v->cps[v->ncp].seq = seq;
	v->cps[v->ncp].line = line;
	memcpy(v->cps[v->ncp].hash, hash, 32);
	v->ncp++;
	return 0;
}

static int
do_checkpoint(struct lb_verify *v, json_t *cp, int64_t line)
{
	static const char *const keys[] = { "tenant", "seq", "head_hash", "time", "kid",
		"sig", "anchor" };
	char chain[LB_ID_MAX + 1];
	unsigned char hash[32], sig[64], pk[32];
	int64_t seq, t;
	char *msg = NULL;
	int err = 0;

	if (!json_is_object(cp) || json_object_size(cp) != 7 ||
	    !is_chain(json_object_get(cp, keys[0]), chain) ||
	    !is_seq(json_object_get(cp, keys[1]), 1, &seq) ||
	    !is_hex64(json_object_get(cp, keys[2]), hash) ||
	    !is_time(json_object_get(cp, keys[3]), &t) ||
	    !is_kid(json_object_get(cp, keys[4])) ||
	    !is_sig(json_object_get(cp, keys[5]), sig) ||
	    !json_is_boolean(json_object_get(cp, keys[6]))) {
		fail(v, LB_VERIFY_MALFORMED, -1, line, "A checkpoint (line %lld) is not of"
		    " the form {tenant, seq, head_hash, time, kid, sig, anchor}.",
		    (long long)line);
		goto out;
	}
	if (v->cp_done) {
		fail(v, LB_VERIFY_MALFORMED, seq, line, "The checkpoint at seq %lld comes"
		    " after records; checkpoints must precede them.", (long long)seq);
		goto out;
	}
	if (!same_chain(v, chain)) {
		fail(v, LB_VERIFY_WRONG_CHAIN, seq, line, "The checkpoint at seq %lld belongs"
		    " to another chain.", (long long)seq);
		goto out;
	}
	if (v->ncp > 0 && seq <= v->cps[v->ncp - 1].seq) {
		fail(v, LB_VERIFY_REORDERED, seq, line, "The checkpoint at seq %lld is not in"
		    " ascending order after the one at seq %lld.", (long long)seq,
		    (long long)v->cps[v->ncp - 1].seq);
		goto out;
	}
	if (v->ncp >= CHECKPOINTS_MAX) {
		fail(v, LB_VERIFY_MALFORMED, seq, line, "The export holds more than %d"
		    " checkpoints.", CHECKPOINTS_MAX);
		goto out;
	}
	if (v->key == NULL ||
	    v->key(v->key_ctx, json_string_value(json_object_get(cp, "kid")), pk) != 0) {
		fail(v, LB_VERIFY_UNKNOWN_KEY, seq, line, "The checkpoint at seq %lld is"
		    " signed by key \"%s\", which is not among the known public keys.",
		    (long long)seq, json_string_value(json_object_get(cp, "kid")));
		goto out;
	}
	msg = verify_checkpoint_message(chain, seq,
	    json_string_value(json_object_get(cp, "head_hash")), t);
	if (msg == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk) != 0) {
		fail(v, LB_VERIFY_BAD_SIGNATURE, seq, line, "The signature of the checkpoint"
		    " at seq %lld does not verify with its key.", (long long)seq);
		goto out;
	}
	err = cp_push(v, seq, line, hash);
	if (err == 0)
		v->res.checkpoints++;
out:
	free(msg);
	sodium_memzero(pk, sizeof(pk));
	return err;
}

/* The checkpoint at exactly `seq`, or NULL (binary search). */
static const struct cp_entry *
cp_find(const struct lb_verify *v, int64_t seq)
{
	size_t lo = 0, hi = v->ncp;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->cps[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->ncp && v->cps[lo].seq == seq ? &v->cps[lo] : NULL;
}

/* ------------------------------------------------------------- records */

/* Decides a pending forward jump: `next` < the jump target is a reordering. */
static void
resolve_gap(struct lb_verify *v, bool have_next, int64_t next)
{
	if (!v->gap)
		return;
	v->gap = false;
	if (have_next && next < v->gap_seq)
		fail(v, LB_VERIFY_REORDERED, v->gap_seq, v->gap_line, "The records are out of"
		    " order: seq %lld comes before seq %lld.", (long long)v->gap_seq,
		    (long long)next);
	else
		fail(v, LB_VERIFY_MISSING, v->gap_expected, v->gap_line, "Record seq %lld is"
		    " missing: seq %lld follows seq %lld.", (long long)v->gap_expected,
		    (long long)v->gap_seq, (long long)(v->gap_expected - 1));
}

static bool
record_shape_ok(json_t *r, char chain[LB_ID_MAX + 1], int64_t *seq, unsigned char prev[32],
    unsigned char hash[32])
{
	static const char *const strs[] = { "id", "workload", "record_type", "operation",
		"object_id", "result", "client_ip" };
	json_t *a = json_object_get(r, "actor");
	const char *at;
	int64_t t;

	if (!json_is_object(r) || json_object_size(r) != 14)
		return false;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!json_is_string(json_object_get(r, strs[i])))
			return false;
	if (!json_is_object(a) || json_object_size(a) != 3 ||
	    !json_is_string(json_object_get(a, "id")) ||
	    !json_is_string(json_object_get(a, "realm")) ||
	    (at = json_string_value(json_object_get(a, "type"))) == NULL ||
	    (strcmp(at, "user") != 0 && strcmp(at, "service") != 0 &&
	    strcmp(at, "system") != 0))
		return false;
	return is_seq(json_object_get(r, "seq"), 1, seq) &&
	    is_time(json_object_get(r, "time"), &t) &&
	    is_chain(json_object_get(r, "tenant"), chain) &&
	    json_is_object(json_object_get(r, "details")) &&
	    canon_ok(json_object_get(r, "details"), 0) &&
	    is_hex64(json_object_get(r, "prev_hash"), prev) &&
	    is_hex64(json_object_get(r, "hash"), hash);
}

/* Whether `r` is the purge record accounting for seqs 1..through. */
static bool
is_purge_of(json_t *r, int64_t through)
{
	const char *op = json_string_value(json_object_get(r, "operation"));
	const char *rt = json_string_value(json_object_get(r, "record_type"));
	json_t *d = json_object_get(json_object_get(r, "details"), "through_seq");

	return op != NULL && strcmp(op, PURGE_OPERATION) == 0 && rt != NULL &&
	    strcmp(rt, PURGE_RECORD_TYPE) == 0 && json_is_integer(d) &&
	    json_integer_value(d) == through;
}

/* The first record: from seq 1, or from a signed checkpoint just before it. */
static bool
first_record(struct lb_verify *v, int64_t seq, int64_t line, const unsigned char prev[32])
{
	static const unsigned char zero[32];
	const struct cp_entry *cp;

	if (v->header_seen && v->hdr_last == 0) {
		fail(v, LB_VERIFY_MALFORMED, seq, line, "The header says the export holds no"
		    " records, yet line %lld is one.", (long long)line);
		return false;
	}
	if (v->header_seen && seq > v->hdr_first) {
		fail(v, LB_VERIFY_MISSING, v->hdr_first, line, "Record seq %lld is missing:"
		    " the header says the export starts there, the first record is seq %lld.",
		    (long long)v->hdr_first, (long long)seq);
		return false;
	}
	if (v->header_seen && seq < v->hdr_first) {
		fail(v, LB_VERIFY_MALFORMED, seq, line, "The first record, seq %lld, lies"
		    " before the header's first_seq %lld.", (long long)seq,
		    (long long)v->hdr_first);
		return false;
	}
	if (seq == 1) {
		if (sodium_memcmp(prev, zero, 32) != 0) {
			fail(v, LB_VERIFY_BROKEN_LINK, seq, line, "Record seq 1 does not have"
			    " 64 zeros as its prev_hash.");
			return false;
		}
		return true;
	}
	if ((cp = cp_find(v, seq - 1)) == NULL || sodium_memcmp(cp->hash, prev, 32) != 0) {
		fail(v, LB_VERIFY_UNANCHORED, seq, line, "The chain starts at seq %lld but no"
		    " signed checkpoint at seq %lld holds its prev_hash.", (long long)seq,
		    (long long)(seq - 1));
		return false;
	}
	return true;
}

/*
 * Within the full parse (the line fast path below declined the line), a
 * shortcut for a record line written in canonical form: the bytes the hash
 * covers are the line without its "hash" member, so they are hashed
 * as they stand instead of parsed back into text.  Sound because the
 * member can only be cut out between tokens: if what remains hashes to the
 * record's hash, it is the canonical text that was hashed, and the parsed
 * line is that record.  Any other layout takes the slow path.
 */
const char *
verify_find(const char *hay, size_t n, const char *needle, size_t m)
{
	const char *p = hay, *end = hay + n;

	while ((size_t)(end - p) >= m && (p = memchr(p, needle[0], (size_t)(end - p) - m + 1))
	    != NULL) {
		if (memcmp(p, needle, m) == 0)
			return p;
		p++;
	}
	return NULL;
}

static bool
line_hash_matches(const char *line, size_t len, const char *hex,
    const unsigned char hash[32])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char member[80];
	const char *at;
	size_t mlen;

	if (line == NULL || len < 76)
		return false;
	/* Sorted position, followed by "id": "hash":"H", */
	memcpy(member, "\"hash\":\"", 8);
	memcpy(member + 8, hex, 64);
	memcpy(member + 72, "\",", 3);
	mlen = 74;
	if ((at = verify_find(line, len, member, mlen)) == NULL) {
		/* Last: ,"hash":"H"} */
		member[0] = ',';
		memcpy(member + 1, "\"hash\":\"", 8);
		memcpy(member + 9, hex, 64);
		memcpy(member + 73, "\"}", 3);
		mlen = 75;
		if (len < mlen || memcmp(line + len - mlen, member, mlen) != 0)
			return false;
		at = line + len - mlen;
		mlen--;         /* keep the closing brace */
	}
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)line, (size_t)(at - line));
	crypto_hash_sha256_update(&st, (const unsigned char *)at + mlen,
	    len - (size_t)(at - line) - mlen);
	crypto_hash_sha256_final(&st, digest);
	return sodium_memcmp(digest, hash, 32) == 0;
}

/*
 * Whether `r` (its line `text`, or NULL) hashes to `hash`: the SHA-256 of
 * the canonical text of every field but "hash" itself.
 */
static int
record_hash_ok(json_t *r, const char *text, size_t tlen, const unsigned char hash[32],
    bool *same)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	json_t *body = NULL;
	char *canon = NULL;
	int err = 0;

	if (line_hash_matches(text, tlen, json_string_value(json_object_get(r, "hash")), hash)) {
		*same = true;
		goto out;
	}
	if ((body = json_copy(r)) == NULL || json_object_del(body, "hash") != 0 ||
	    (canon = verify_canonical(body)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	crypto_hash_sha256(digest, (const unsigned char *)canon, strlen(canon));
	*same = sodium_memcmp(digest, hash, 32) == 0;
out:
	free(canon);
	json_decref(body);
	return err;
}

/*
 * The checks of a record whose shape and hash are right, against the ones
 * before it and the checkpoints.  `r` is the parsed record, or NULL from
 * the fast path (which takes no record that could be the purge record).
 */
static void
record_link(struct lb_verify *v, json_t *r, int64_t seq, const unsigned char prev[32],
    const unsigned char hash[32], int64_t line)
{
	if (v->records == 0) {
		if (!first_record(v, seq, line, prev))
			return;
		v->first_seq = seq;
		v->first_line = line;
		while (v->cpi < v->ncp && v->cps[v->cpi].seq < seq)
			v->cpi++;
	} else if (seq > v->last_seq + 1) {
		v->gap = true;
		v->gap_seq = seq;
		v->gap_line = line;
		v->gap_expected = v->last_seq + 1;
		return;
	} else if (seq <= v->last_seq) {
		fail(v, LB_VERIFY_REORDERED, seq, line, "The records are out of order:"
		    " seq %lld follows seq %lld.", (long long)seq, (long long)v->last_seq);
		return;
	} else if (sodium_memcmp(prev, v->last_hash, 32) != 0) {
		fail(v, LB_VERIFY_BROKEN_LINK, seq, line, "Record seq %lld does not link to"
		    " record seq %lld: its prev_hash differs from that record's hash.",
		    (long long)seq, (long long)v->last_seq);
		return;
	}
	v->last_covered = false;
	if (v->cpi < v->ncp && v->cps[v->cpi].seq == seq) {
		if (sodium_memcmp(v->cps[v->cpi].hash, hash, 32) != 0) {
			fail(v, LB_VERIFY_CHECKPOINT_MISMATCH, seq, line, "Record seq %lld"
			    " differs from the signed checkpoint at its seq.", (long long)seq);
			return;
		}
		v->cpi++;
		v->last_covered = true;
	}
	if (r != NULL && v->first_seq > 1 && !v->purge_seen &&
	    is_purge_of(r, v->first_seq - 1))
		v->purge_seen = true;
	v->last_seq = seq;
	v->last_line = line;
	memcpy(v->last_hash, hash, 32);
	v->records++;
}

static int
do_record(struct lb_verify *v, json_t *r, const char *text, size_t tlen, int64_t line)
{
	unsigned char prev[32], hash[32];
	char chain[LB_ID_MAX + 1];
	bool same = false;
	int64_t seq;
	int err = 0;

	v->cp_done = true;
	if (!record_shape_ok(r, chain, &seq, prev, hash)) {
		resolve_gap(v, false, 0);
		fail(v, LB_VERIFY_MALFORMED, -1, line, "Line %lld is not a record of the"
		    " documented form (fields, types, time format, hex hashes).",
		    (long long)line);
		goto out;
	}
	resolve_gap(v, true, seq);
	if (v->done)
		goto out;
	if (!same_chain(v, chain)) {
		fail(v, LB_VERIFY_WRONG_CHAIN, seq, line, "Record seq %lld belongs to"
		    " another chain.", (long long)seq);
		goto out;
	}
	if ((err = record_hash_ok(r, text, tlen, hash, &same)) != 0)
		goto out;
	if (!same) {
		fail(v, LB_VERIFY_EDITED, seq, line, "Record seq %lld does not match its"
		    " hash: its content was changed.", (long long)seq);
		goto out;
	}
	record_link(v, r, seq, prev, hash, line);
out:
	return err;
}

/* A record line the fast path read and hashed: do_record's steps after those. */
static void
fast_do_record(struct lb_verify *v, const struct fast_rec *f, int64_t line)
{
	v->cp_done = true;
	resolve_gap(v, true, f->seq);
	if (v->done)
		return;
	if (!same_chain(v, f->chain)) {
		fail(v, LB_VERIFY_WRONG_CHAIN, f->seq, line, "Record seq %lld belongs to"
		    " another chain.", (long long)f->seq);
		return;
	}
	record_link(v, NULL, f->seq, f->prev, f->hash, line);
}

/* ---------------------------------------------------------------- API */

int
verify_new(lb_verify_key_fn key, void *key_ctx, struct lb_verify **out)
{
	struct lb_verify *v;

	if (out == NULL)
		return LB_ERR_INTERNAL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return LB_ERR_NOMEM;
	v->key = key;
	v->key_ctx = key_ctx;
	v->res.bad_seq = -1;
	v->res.bad_line = -1;
	*out = v;
	return 0;
}

void
verify_free(struct lb_verify *v)
{
	if (v == NULL)
		return;
	free(v->cps);
	free(v);
}

/* Whether verification should go on with another input. */
static bool
open_for_input(const struct lb_verify *v)
{
	return !v->done && !v->finished && v->err == 0;
}

int
verify_line(struct lb_verify *v, const char *line, size_t len)
{
	struct fast_rec f;
	json_t *o = NULL, *inner;
	int64_t no;
	int err = 0;

	if (v == NULL || (line == NULL && len > 0))
		return LB_ERR_INTERNAL;
	v->lines = true;
	no = ++v->line;
	if (!open_for_input(v))
		return 0;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;               /* blank lines (a final newline) carry nothing */
	if (v->header_seen && verify_fast_record(line, len, &f)) {
		fast_do_record(v, &f, no);
		return 0;
	}
	if (len > LB_VERIFY_LINE_MAX || memchr(line, '\0', len) != NULL ||
	    (o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o)) {
		resolve_gap(v, false, 0);
		fail(v, LB_VERIFY_MALFORMED, -1, no, "Line %lld is not a JSON object of at"
		    " most %d bytes.", (long long)no, LB_VERIFY_LINE_MAX);
		goto out;
	}
	inner = json_object_size(o) == 1 ? json_object_get(o, "export") : NULL;
	if (!v->header_seen) {
		if (inner == NULL)
			fail(v, LB_VERIFY_MALFORMED, -1, no, "The export does not begin with"
			    " its header line.");
		else
			do_header(v, inner, no);
		goto out;
	}
	if (inner != NULL || json_object_get(o, "export") != NULL) {
		resolve_gap(v, false, 0);
		fail(v, LB_VERIFY_MALFORMED, -1, no, "Line %lld is a second header.",
		    (long long)no);
		goto out;
	}
	if ((inner = json_object_get(o, "checkpoint")) != NULL) {
		resolve_gap(v, false, 0);
		if (json_object_size(o) != 1)
			fail(v, LB_VERIFY_MALFORMED, -1, no, "Line %lld mixes a checkpoint"
			    " with other fields.", (long long)no);
		else
			err = do_checkpoint(v, inner, no);
		goto out;
	}
	err = do_record(v, o, line, len, no);
out:
	json_decref(o);
	if (err != 0)
		v->err = err;
	return err;
}

int
verify_checkpoint(struct lb_verify *v, json_t *cp)
{
	int err;

	if (v == NULL || cp == NULL)
		return LB_ERR_INTERNAL;
	if (!open_for_input(v))
		return 0;
	resolve_gap(v, false, 0);
	if ((err = do_checkpoint(v, cp, -1)) != 0)
		v->err = err;
	return err;
}

int
verify_record(struct lb_verify *v, json_t *rec)
{
	int err;

	if (v == NULL || rec == NULL)
		return LB_ERR_INTERNAL;
	if (!open_for_input(v))
		return 0;
	if ((err = do_record(v, rec, NULL, 0, -1)) != 0)
		v->err = err;
	return err;
}

/* The checks only the end of the stream can make. */
static void
finish_checks(struct lb_verify *v)
{
	resolve_gap(v, false, 0);
	if (v->done)
		return;
	if (v->lines && !v->header_seen) {
		fail(v, LB_VERIFY_MALFORMED, -1, -1, "The export is empty: it has no header.");
		return;
	}
	if (v->records > 0 && v->first_seq > 1 && !v->purge_seen) {
		fail(v, LB_VERIFY_UNANCHORED, v->first_seq, v->first_line, "The chain starts"
		    " at seq %lld but no PurgeAuditRecords record with through_seq %lld"
		    " accounts for the records before it.", (long long)v->first_seq,
		    (long long)(v->first_seq - 1));
		return;
	}
	if (v->cpi < v->ncp) {
		fail(v, LB_VERIFY_TRUNCATED, v->last_seq + 1, v->cps[v->cpi].line,
		    "A signed checkpoint at seq %lld covers records that are absent; the"
		    " last record is seq %lld.", (long long)v->cps[v->cpi].seq,
		    (long long)v->last_seq);
		return;
	}
	if (v->header_seen && v->hdr_last > v->last_seq) {
		fail(v, LB_VERIFY_TRUNCATED, v->last_seq + 1, -1, "The header says the"
		    " export ends at seq %lld but the last record is seq %lld.",
		    (long long)v->hdr_last, (long long)v->last_seq);
		return;
	}
	if (v->header_seen && v->hdr_last < v->last_seq) {
		fail(v, LB_VERIFY_MALFORMED, v->last_seq, v->last_line, "The records go on"
		    " past the header's last_seq %lld.", (long long)v->hdr_last);
		return;
	}
	if (v->records > 0 && !v->last_covered)
		fail(v, LB_VERIFY_UNANCHORED, v->last_seq, v->last_line, "The newest records"
		    " are not covered by a signed checkpoint: none sits at seq %lld.",
		    (long long)v->last_seq);
}

void
verify_finish(struct lb_verify *v, struct lb_verify_result *out)
{
	struct lb_verify_result r;

	if (out == NULL)
		return;
	if (v == NULL) {
		memset(&r, 0, sizeof(r));
		r.problem = LB_VERIFY_MALFORMED;
		r.bad_seq = r.bad_line = -1;
		snprintf(r.reason, sizeof(r.reason), "Nothing was verified.");
		*out = r;
		return;
	}
	if (!v->finished) {
		v->finished = true;
		if (v->err != 0)
			fail(v, LB_VERIFY_MALFORMED, -1, -1, "Verification stopped: %s.",
			    v->err == LB_ERR_NOMEM ? "out of memory" : "internal error");
		else
			finish_checks(v);
		v->res.ok = !v->done;
		v->res.records = v->records;
		v->res.first_seq = v->records ? v->first_seq : 0;
		v->res.last_seq = v->records ? v->last_seq : 0;
		if (v->res.ok) {
			v->res.problem = LB_VERIFY_OK;
			v->res.bad_seq = v->res.bad_line = -1;
			snprintf(v->res.reason, sizeof(v->res.reason), "The chain verifies.");
		}
	}
	*out = v->res;
}
