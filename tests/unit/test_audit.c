/*
 * Tests of the tamper-evident audit trail: the hash chain (audit.c), its
 * signed checkpoints (checkpoint.c), retention (retention.c), the store's
 * search, and the verifier (verify.c) that an auditor runs on an export.
 *
 * Each test gets a fresh SQLite store and key ring in a mkdtemp directory.
 * Chains are built with audit_append, exported to JSON Lines in memory
 * exactly as docs/audit-format.md lays them out, tampered with the way an
 * attacker would, and verified with nothing but the public keys of the
 * ring's JWKS.  Each tampering must be reported as the problem it is, at
 * the record where it lies.  Time is a fake clock: a retention of 90 days
 * takes a millisecond.  The last test verifies a clean chain of 1,000,000
 * records generated in memory (100,000 under AddressSanitizer, 20,000
 * under valgrind, or LB_TEST_AUDIT_RECORDS) and prints the rate.
 */
#define _XOPEN_SOURCE 700       /* nftw() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/verify.h"
#include "authz/authz.h"
#include "store/store.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
#define T0 1767225600000LL      /* 2026-01-01T00:00:00Z */

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

struct fx {
	char dir[64];
	struct lb_store *st;
	struct lb_keyring *kr;
	json_t *jwks;
};

/* ------------------------------------------------------------ helpers */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fmt(char *dst, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, cap, f, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char url[128];

	assert_non_null(fx);
	fmt(fx->dir, sizeof(fx->dir), "/tmp/lbaudit.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fmt(url, sizeof(url), "sqlite:%s/lockbox.db", fx->dir);
	assert_int_equal(store_open(url, &fx->st), 0);
	assert_int_equal(keys_open(fx->dir, T0, &fx->kr), 0);
	assert_non_null(fx->jwks = keys_jwks(fx->kr, T0));
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	json_decref(fx->jwks);
	keys_close(fx->kr);
	store_close(fx->st);
	nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* The verifier's key callback over a JWKS document ({"keys":[...]}). */
static int
jwks_key(void *ctx, const char *kid, unsigned char pk[32])
{
	json_t *keys = json_object_get(ctx, "keys"), *k;
	size_t i, n = 0;

	json_array_foreach(keys, i, k) {
		const char *x = json_string_value(json_object_get(k, "x"));
		const char *id = json_string_value(json_object_get(k, "kid"));

		if (id == NULL || x == NULL || strcmp(id, kid) != 0)
			continue;
		if (sodium_base642bin(pk, 32, x, strlen(x), NULL, &n, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32)
			return 0;
	}
	return -1;
}

static const struct lb_actor alice = { .id = "alice", .realm = "contoso",
	.type = LB_ACTOR_USER };

/* Appends `n` records to `chain` in one transaction, record i at t0 + i*step. */
static void
append_n(struct fx *fx, const char *chain, int n, int64_t t0, int64_t step)
{
	struct lb_tx *tx;

	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	for (int i = 0; i < n; i++) {
		json_t *d = json_pack("{s:i, s:s}", "i", i, "note", "line\nbreak \x01 \"q\" é");
		struct lb_audit_event ev = {
			.tenant = chain, .record_type = LB_RT_REQUEST, .operation = "CreateRequest",
			.actor = &alice, .object_id = "req_1", .client_ip = "192.0.2.7",
			.details = d, .time_ms = t0 + i * step,
		};
		assert_int_equal(audit_append(tx, &ev), 0);
		json_decref(d);
	}
	assert_int_equal(store_commit(tx), 0);
}

static void
checkpoint(struct fx *fx, const char *chain, int64_t now)
{
	struct lb_checkpoint cp;
	struct lb_tx *tx;

	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	assert_int_equal(audit_checkpoint_head(tx, fx->kr, chain, now, &cp), 0);
	assert_int_equal(store_commit(tx), 0);
}

/* A growing text buffer. */
struct buf {
	char *p;
	size_t n, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->n + n + 1 > cap)
			cap *= 2;
		assert_non_null(b->p = realloc(b->p, cap));
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
buf_line(struct buf *b, json_t *o)
{
	char *s = verify_canonical(o);

	assert_non_null(s);
	buf_add(b, s, strlen(s));
	buf_add(b, "\n", 1);
	free(s);
	json_decref(o);
}

static int
export_cp(void *ctx, const struct lb_checkpoint *cp)
{
	json_t *c = audit_checkpoint_json(cp);

	assert_non_null(c);
	buf_line(ctx, json_pack("{s:o}", "checkpoint", c));
	return 0;
}

static int
export_rec(void *ctx, const struct lb_audit_rec *rec)
{
	buf_line(ctx, audit_rec_json(rec));
	return 0;
}

/* The chain as docs/audit-format.md exports it: header, checkpoints, records. */
static char *
export_chain(struct fx *fx, const char *chain, int64_t now)
{
	struct buf b = { 0 };
	struct lb_tx *tx;
	int64_t first = 0, last = 0;
	char h[65], ts[32];

	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_first_seq(tx, chain, &first), 0);
	assert_int_equal(store_audit_head(tx, chain, &last, h), 0);
	assert_int_equal(lb_time_format(now, ts, sizeof(ts)), 0);
	buf_line(&b, json_pack("{s:{s:i, s:o, s:s, s:I, s:I}}", "export", "version", 1,
	    "tenant", chain[0] ? json_string(chain) : json_null(), "exported_at", ts,
	    "first_seq", (json_int_t)first, "last_seq", (json_int_t)last));
	assert_int_equal(store_checkpoint_list(tx, chain, first > 0 ? first - 1 : 0,
	    export_cp, &b), 0);
	assert_int_equal(store_audit_scan(tx, chain, first, 0, export_rec, &b), 0);
	store_rollback(tx);
	return b.p;
}

/* An export split into lines, to tamper with. */
struct doc {
	char *l[4096];
	size_t n;
};

static void
doc_split(struct doc *d, const char *text)
{
	const char *p = text, *e;

	d->n = 0;
	while ((e = strchr(p, '\n')) != NULL) {
		assert_true(d->n < 4096);
		assert_non_null(d->l[d->n] = strndup(p, (size_t)(e - p)));
		d->n++;
		p = e + 1;
	}
}

static char *
doc_join(const struct doc *d)
{
	struct buf b = { 0 };

	buf_add(&b, "", 0);
	for (size_t i = 0; i < d->n; i++) {
		buf_add(&b, d->l[i], strlen(d->l[i]));
		buf_add(&b, "\n", 1);
	}
	return b.p;
}

static void
doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->l[i]);
	d->n = 0;
}

static void
doc_del(struct doc *d, size_t i)
{
	free(d->l[i]);
	memmove(&d->l[i], &d->l[i + 1], (d->n - i - 1) * sizeof(d->l[0]));
	d->n--;
}

/* The line index of record `seq` (or checkpoint `seq` when cp). */
static size_t
doc_find(const struct doc *d, int64_t seq, bool cp)
{
	for (size_t i = 1; i < d->n; i++) {
		json_t *o = json_loads(d->l[i], 0, NULL), *c;
		bool is_cp;

		assert_non_null(o);
		c = json_object_get(o, "checkpoint");
		is_cp = c != NULL;
		if (is_cp == cp && json_integer_value(json_object_get(is_cp ? c : o, "seq")) == seq) {
			json_decref(o);
			return i;
		}
		json_decref(o);
	}
	fail_msg("seq %lld not found", (long long)seq);
	return 0;
}

/* Runs the verifier over JSONL text; the callback reads `jwks`. */
static void
verify_text(const char *text, json_t *jwks, struct lb_verify_result *r)
{
	struct lb_verify *v;
	const char *p = text, *e;

	assert_int_equal(verify_new(jwks_key, jwks, &v), 0);
	while ((e = strchr(p, '\n')) != NULL) {
		assert_int_equal(verify_line(v, p, (size_t)(e - p)), 0);
		p = e + 1;
	}
	assert_int_equal(verify_line(v, p, strlen(p)), 0);
	verify_finish(v, r);
	verify_free(v);
}

static void
verify_doc(const struct doc *d, json_t *jwks, struct lb_verify_result *r)
{
	char *t = doc_join(d);

	verify_text(t, jwks, r);
	free(t);
}

static void
expect(const struct lb_verify_result *r, enum lb_verify_problem p, int64_t seq)
{
	if (r->problem != p || r->bad_seq != seq)
		print_error("got %s at seq %lld (%s), want %s at seq %lld\n",
		    lb_verify_problem_name(r->problem), (long long)r->bad_seq, r->reason,
		    lb_verify_problem_name(p), (long long)seq);
	assert_int_equal(r->problem, p);
	assert_int_equal(r->bad_seq, seq);
	assert_int_equal(r->ok, p == LB_VERIFY_OK);
	assert_true(r->reason[0] != '\0');
}

/* Re-hashes a record object (in place) as a forger without the key can. */
static void
rehash(json_t *o)
{
	unsigned char dg[32];
	char hex[65], *c;

	json_object_del(o, "hash");
	assert_non_null(c = verify_canonical(o));
	crypto_hash_sha256(dg, (const unsigned char *)c, strlen(c));
	sodium_bin2hex(hex, sizeof(hex), dg, sizeof(dg));
	json_object_set_new(o, "hash", json_string(hex));
	free(c);
}

static void
doc_set(struct doc *d, size_t i, json_t *o)
{
	free(d->l[i]);
	assert_non_null(d->l[i] = verify_canonical(o));
	json_decref(o);
}

/* A chain of 50 records in "contoso" with checkpoints at 20 and 50. */
static struct doc *
standard_doc(struct fx *fx)
{
	struct doc *d = calloc(1, sizeof(*d));
	char *t;

	assert_non_null(d);
	append_n(fx, "contoso", 20, T0, 1000);
	checkpoint(fx, "contoso", T0 + 20000);
	append_n(fx, "contoso", 30, T0 + 20000, 1000);
	checkpoint(fx, "contoso", T0 + 60000);
	t = export_chain(fx, "contoso", T0 + 60000);
	doc_split(d, t);
	free(t);
	return d;
}

static void
doc_destroy(struct doc *d)
{
	doc_free(d);
	free(d);
}

/* -------------------------------------------------------------- tests */

static void
test_canonical(void **state)
{
	json_t *o = json_pack("{s:s, s:i, s:[b, n], s:{s:s}}", "b", "\x1f\t\xc3\xa9/",
	    "a", -5, "c", 1, "z", "y", "</");
	char *s = verify_canonical(o), *m;

	(void)state;
	assert_string_equal(s, "{\"a\":-5,\"b\":\"\\u001f\\t\xc3\xa9/\",\"c\":[true,null],"
	    "\"z\":{\"y\":\"</\"}}");
	free(s);
	json_object_set_new(o, "r", json_real(1.5));
	assert_null(verify_canonical(o));       /* reals have no canonical form here */
	json_decref(o);
	m = verify_checkpoint_message("contoso", 7, "ab", T0);
	assert_string_equal(m, "{\"head_hash\":\"ab\",\"seq\":7,\"tenant\":\"contoso\","
	    "\"time\":\"2026-01-01T00:00:00.000Z\",\"type\":\"lockbox.checkpoint.v1\"}");
	free(m);
	m = verify_checkpoint_message("", 1, "ab", T0);
	assert_non_null(strstr(m, "\"tenant\":null"));
	free(m);
	for (int p = LB_VERIFY_OK; p <= LB_VERIFY_WRONG_CHAIN; p++)
		assert_string_not_equal(lb_verify_problem_name(p), "unknown");
}

static void
test_clean(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	char *t;

	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.records, 50);
	assert_int_equal(r.checkpoints, 2);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 50);
	doc_destroy(d);

	/* The provider chain "" (tenant null) verifies the same way. */
	append_n(fx, "", 3, T0, 1);
	checkpoint(fx, "", T0 + 10);
	t = export_chain(fx, "", T0 + 10);
	assert_non_null(strstr(t, "\"tenant\":null"));
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.records, 3);
	free(t);
}

static void
test_edited(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	size_t i = doc_find(d, 10, false);
	char *p = strstr(d->l[i], "CreateRequest");

	assert_non_null(p);
	p[0] = 'D';                     /* one byte */
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_EDITED, 10);
	assert_int_equal(r.bad_line, (int64_t)i + 1);
	doc_destroy(d);
}

static void
test_broken_link(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	size_t i = doc_find(d, 10, false);
	json_t *o = json_loads(d->l[i], 0, NULL);

	json_object_set_new(o, "result", json_string("failure"));
	rehash(o);
	doc_set(d, i, o);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_BROKEN_LINK, 11);
	assert_int_equal(r.bad_line, (int64_t)i + 2);
	doc_destroy(d);
}

static void
test_missing_and_reordered(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	size_t i = doc_find(d, 10, false);
	char *tmp;

	doc_del(d, i);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_MISSING, 10);
	assert_int_equal(r.bad_line, (int64_t)i + 1);
	doc_destroy(d);

	/* Fresh store content is not needed: rebuild the lines from a new export. */
	d = calloc(1, sizeof(*d));
	tmp = export_chain(fx, "contoso", T0 + 60000);
	doc_split(d, tmp);
	free(tmp);
	i = doc_find(d, 10, false);
	tmp = d->l[i];
	d->l[i] = d->l[i + 1];
	d->l[i + 1] = tmp;
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_REORDERED, 11);
	assert_int_equal(r.bad_line, (int64_t)i + 1);
	/* A record repeated: 9, 10, 10. */
	free(d->l[i]);
	d->l[i] = strdup(d->l[i + 1]);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_REORDERED, 10);
	assert_int_equal(r.bad_line, (int64_t)i + 2);
	doc_destroy(d);

	/* The first record removed: the chain no longer starts at seq 1. */
	d = calloc(1, sizeof(*d));
	tmp = export_chain(fx, "contoso", T0 + 60000);
	doc_split(d, tmp);
	free(tmp);
	doc_del(d, doc_find(d, 1, false));
	free(d->l[0]);
	d->l[0] = strdup("{\"export\":{\"version\":1,\"tenant\":\"contoso\",\"exported_at\":"
	    "\"2026-01-01T00:01:00.000Z\",\"first_seq\":2,\"last_seq\":50}}");
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNANCHORED, 2);
	doc_destroy(d);
}

static void
test_truncated(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	size_t i = doc_find(d, 41, false);

	/* The newest ten records cut, the header adjusted, the checkpoint kept. */
	while (d->n > i)
		doc_del(d, d->n - 1);
	free(d->l[0]);
	d->l[0] = strdup("{\"export\":{\"version\":1,\"tenant\":\"contoso\",\"exported_at\":"
	    "\"2026-01-01T00:01:00.000Z\",\"first_seq\":1,\"last_seq\":40}}");
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_TRUNCATED, 41);
	assert_int_equal(r.bad_line, (int64_t)doc_find(d, 50, true) + 1);

	/* ... and its checkpoint too: the new last record has none. */
	doc_del(d, doc_find(d, 50, true));
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNANCHORED, 40);

	/* Cut exactly at the older checkpoint: undetectable without the newer one. */
	for (size_t cut = doc_find(d, 21, false); d->n > cut;)
		doc_del(d, d->n - 1);
	free(d->l[0]);
	d->l[0] = strdup("{\"export\":{\"version\":1,\"tenant\":\"contoso\",\"exported_at\":"
	    "\"2026-01-01T00:01:00.000Z\",\"first_seq\":1,\"last_seq\":20}}");
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	doc_destroy(d);

	/* Records appended after the last checkpoint are not yet covered. */
	append_n(fx, "contoso", 1, T0 + 90000, 1);
	char *t = export_chain(fx, "contoso", T0 + 90000);
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNANCHORED, 51);
	free(t);
	checkpoint(fx, "contoso", T0 + 90001);
	t = export_chain(fx, "contoso", T0 + 90001);
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	free(t);
}

/* Re-signs every checkpoint line with `sk` under `kid`, after re-hashing. */
static void
forge(struct doc *d, const unsigned char sk[64], const char *kid, bool resign)
{
	char prev[65], hashes[64][65];
	int64_t seqs[64];
	size_t nh = 0;

	memset(prev, '0', 64);
	prev[64] = '\0';
	/* Records: change record 5's result and re-link everything after it. */
	for (size_t i = 1; i < d->n; i++) {
		json_t *o = json_loads(d->l[i], 0, NULL);

		if (json_object_get(o, "checkpoint") != NULL) {
			json_decref(o);
			continue;
		}
		if (json_integer_value(json_object_get(o, "seq")) == 5)
			json_object_set_new(o, "result", json_string("failure"));
		json_object_set_new(o, "prev_hash", json_string(prev));
		rehash(o);
		memcpy(prev, json_string_value(json_object_get(o, "hash")), 65);
		assert_true(nh < 64);
		seqs[nh] = json_integer_value(json_object_get(o, "seq"));
		memcpy(hashes[nh++], prev, 65);
		doc_set(d, i, o);
	}
	/* Checkpoints: point them at the forged hashes, sign with what we have. */
	for (size_t i = 1; i < d->n; i++) {
		json_t *o = json_loads(d->l[i], 0, NULL), *c = json_object_get(o, "checkpoint");
		unsigned char sig[64];
		char b64[100], *m;
		int64_t seq, t;

		if (c == NULL) {
			json_decref(o);
			continue;
		}
		seq = json_integer_value(json_object_get(c, "seq"));
		for (size_t k = 0; k < nh; k++)
			if (seqs[k] == seq)
				json_object_set_new(c, "head_hash", json_string(hashes[k]));
		if (resign) {
			assert_int_equal(lb_time_parse(json_string_value(json_object_get(c, "time")),
			    &t), 0);
			m = verify_checkpoint_message(json_string_value(json_object_get(c, "tenant")),
			    seq, json_string_value(json_object_get(c, "head_hash")), t);
			crypto_sign_detached(sig, NULL, (const unsigned char *)m, strlen(m), sk);
			free(m);
			sodium_bin2base64(b64, sizeof(b64), sig, 64,
			    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			json_object_set_new(c, "sig", json_string(b64));
			if (kid != NULL)
				json_object_set_new(c, "kid", json_string(kid));
		}
		doc_set(d, i, o);
	}
}

static void
test_forgery(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	unsigned char pk[32], sk[64];
	struct doc *d;

	crypto_sign_keypair(pk, sk);
	/* Re-hashed chain, checkpoints left as signed: their signatures break. */
	d = standard_doc(fx);
	forge(d, sk, NULL, false);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_BAD_SIGNATURE, 20);
	doc_destroy(d);

	/* Re-signed with the forger's key under the real kid. */
	d = calloc(1, sizeof(*d));
	char *t = export_chain(fx, "contoso", T0 + 60000);
	doc_split(d, t);
	free(t);
	forge(d, sk, NULL, true);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_BAD_SIGNATURE, 20);
	doc_free(d);

	/* Re-signed under the forger's own kid. */
	t = export_chain(fx, "contoso", T0 + 60000);
	doc_split(d, t);
	free(t);
	forge(d, sk, "forgerkey0000000", true);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNKNOWN_KEY, 20);
	doc_destroy(d);
	sodium_memzero(sk, sizeof(sk));
}

static void
test_other_keyring(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct lb_keyring *other = NULL;
	char dir[64], kid[LB_KID_MAX + 1], okid[LB_KID_MAX + 1], *t, *p;
	struct lb_checkpoint cp;
	struct lb_tx *tx;

	fmt(dir, sizeof(dir), "/tmp/lbaudit2.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(keys_open(dir, T0, &other), 0);
	append_n(fx, "contoso", 5, T0, 1);
	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	assert_int_equal(audit_checkpoint_head(tx, other, "contoso", T0 + 10, &cp), 0);
	assert_int_equal(store_commit(tx), 0);
	t = export_chain(fx, "contoso", T0 + 10);
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNKNOWN_KEY, 5);
	/* The other ring's signature under our kid: the signature is wrong. */
	assert_int_equal(keys_current_kid(fx->kr, kid), 0);
	assert_int_equal(keys_current_kid(other, okid), 0);
	assert_int_equal(strlen(kid), strlen(okid));
	assert_non_null(p = strstr(t, okid));
	memcpy(p, kid, strlen(kid));
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_BAD_SIGNATURE, 5);
	free(t);
	keys_close(other);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void
test_checkpoints(void **state)
{
	struct fx *fx = *state;
	struct lb_checkpoint cp, again;
	struct lb_tx *tx;
	json_t *j;

	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	assert_int_equal(audit_checkpoint_head(tx, fx->kr, "contoso", T0, &cp),
	    LB_ERR_NOT_FOUND);
	store_rollback(tx);
	assert_int_equal(audit_checkpoint_all(fx->st, fx->kr, T0), 0);
	append_n(fx, "contoso", 3, T0, 1);
	append_n(fx, "", 2, T0, 1);
	append_n(fx, "fabrikam", 1, T0, 1);
	assert_int_equal(audit_checkpoint_all(fx->st, fx->kr, T0 + 5), 3);
	assert_int_equal(audit_checkpoint_all(fx->st, fx->kr, T0 + 6), 0);
	append_n(fx, "contoso", 1, T0 + 7, 1);
	assert_int_equal(audit_checkpoint_all(fx->st, fx->kr, T0 + 8), 1);

	/* On demand at a head that has one: the same checkpoint back. */
	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	assert_int_equal(audit_checkpoint_head(tx, fx->kr, "contoso", T0 + 9, &cp), 0);
	assert_int_equal(audit_checkpoint_head(tx, fx->kr, "contoso", T0 + 10, &again), 0);
	assert_int_equal(store_commit(tx), 0);
	assert_int_equal(cp.seq, 4);
	assert_int_equal(cp.time_ms, T0 + 8);
	assert_memory_equal(&cp, &again, sizeof(cp));
	assert_int_equal(strlen(cp.sig), 86);
	assert_false(cp.anchor);
	j = audit_checkpoint_json(&cp);
	assert_int_equal(json_object_size(j), 7);
	assert_string_equal(json_string_value(json_object_get(j, "tenant")), "contoso");
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 4);
	assert_string_equal(json_string_value(json_object_get(j, "time")),
	    "2026-01-01T00:00:00.008Z");
	assert_true(json_is_false(json_object_get(j, "anchor")));
	json_decref(j);
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_checkpoint_latest(tx, "", &cp), 0);
	assert_int_equal(cp.seq, 2);
	assert_int_equal(store_checkpoint_latest(tx, "nobody", &cp), LB_ERR_NOT_FOUND);
	store_rollback(tx);
	j = audit_checkpoint_json(&cp);
	assert_true(json_is_null(json_object_get(j, "tenant")));
	json_decref(j);
}

/* Server path: parsed objects, no header. */
static int
feed_cp(void *ctx, const struct lb_checkpoint *cp)
{
	json_t *j = audit_checkpoint_json(cp);

	assert_int_equal(verify_checkpoint(ctx, j), 0);
	json_decref(j);
	return 0;
}

static int
feed_rec(void *ctx, const struct lb_audit_rec *rec)
{
	json_t *j = audit_rec_json(rec);

	assert_int_equal(verify_record(ctx, j), 0);
	json_decref(j);
	return 0;
}

static void
test_object_path(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct lb_verify *v;
	struct lb_tx *tx;

	append_n(fx, "contoso", 30, T0, 1);
	checkpoint(fx, "contoso", T0 + 100);
	assert_int_equal(verify_new(jwks_key, fx->jwks, &v), 0);
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_checkpoint_list(tx, "contoso", 0, feed_cp, v), 0);
	assert_int_equal(store_audit_scan(tx, "contoso", 1, 0, feed_rec, v), 0);
	store_rollback(tx);
	verify_finish(v, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.bad_line, -1);
	assert_int_equal(r.records, 30);
	verify_finish(v, &r);           /* again: same answer */
	expect(&r, LB_VERIFY_OK, -1);
	verify_free(v);
	verify_free(NULL);
	verify_finish(NULL, &r);
	assert_false(r.ok);
}

static void
test_malformed(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct doc *d = standard_doc(fx);
	size_t i = doc_find(d, 3, false);
	char *orig = strdup(d->l[i]), *t;
	json_t *o;
	static const char *const bad[] = {
		"{\"seq\":3}",
		"[1,2]",
		"not json",
		"{\"export\":{\"version\":1}}",
		"{\"checkpoint\":{}}",
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		free(d->l[i]);
		d->l[i] = strdup(bad[k]);
		verify_doc(d, fx->jwks, &r);
		assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
		assert_int_equal(r.bad_line, (int64_t)i + 1);
	}
	/* A field the hash does not cover: refused, not shown. */
	o = json_loads(orig, 0, NULL);
	json_object_set_new(o, "approved_by", json_string("ceo"));
	doc_set(d, i, o);
	verify_doc(d, fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	/* A duplicate key. */
	free(d->l[i]);
	assert_non_null(d->l[i] = malloc(strlen(orig) + 32));
	memcpy(d->l[i], "{\"seq\":3,", 9);
	memcpy(d->l[i] + 9, orig + 1, strlen(orig));
	verify_doc(d, fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	/* A record of another chain. */
	o = json_loads(orig, 0, NULL);
	json_object_set_new(o, "tenant", json_string("fabrikam"));
	rehash(o);
	doc_set(d, i, o);
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_WRONG_CHAIN, 3);
	/* A checkpoint after the records. */
	free(d->l[i]);
	d->l[i] = orig;
	t = strdup(d->l[doc_find(d, 20, true)]);
	d->l[d->n++] = t;
	verify_doc(d, fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	assert_int_equal(r.bad_line, (int64_t)d->n);
	doc_destroy(d);

	/* No header; empty input; an over-long line; a NUL. */
	verify_text("", fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	verify_text("{\"checkpoint\":{}}\n", fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	t = malloc(LB_VERIFY_LINE_MAX + 2);
	memset(t, ' ', LB_VERIFY_LINE_MAX + 1);
	t[LB_VERIFY_LINE_MAX + 1] = '\0';
	verify_text(t, fx->jwks, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	free(t);
	struct lb_verify *v;
	assert_int_equal(verify_new(jwks_key, fx->jwks, &v), 0);
	assert_int_equal(verify_line(v, "{\"a\":\0}", 7), 0);
	verify_finish(v, &r);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	verify_free(v);
	/* An empty chain exported: a header alone verifies. */
	verify_text("{\"export\":{\"version\":1,\"tenant\":null,\"exported_at\":"
	    "\"2026-01-01T00:00:00.000Z\",\"first_seq\":0,\"last_seq\":0}}\n", fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.records, 0);
}

/* ---------------------------------------------------------- retention */

static void
tenant_with_retention(struct fx *fx, const char *id, int days)
{
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_tx *tx;

	memset(&t, 0, sizeof(t));
	memcpy(t.id, id, strlen(id) + 1);
	memcpy(t.name, id, strlen(id) + 1);
	memcpy(t.plan, "E5", 3);
	t.created_ms = T0;
	lb_settings_init(&s);
	s.retention_days = days;
	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	assert_int_equal(store_tenant_insert(tx, &t), 0);
	assert_int_equal(store_settings_put(tx, id, &s), 0);
	assert_int_equal(store_commit(tx), 0);
}

struct purge_seen {
	int n;
	int64_t through, purged;
};

static int
find_purge(void *ctx, const struct lb_audit_rec *rec)
{
	struct purge_seen *p = ctx;
	json_t *d = json_loads(rec->details, 0, NULL);

	assert_string_equal(rec->operation, "PurgeAuditRecords");
	assert_string_equal(rec->record_type, "CustomerLockboxAudit");
	assert_string_equal(rec->actor_id, "lockboxd");
	assert_string_equal(rec->actor_realm, "provider");
	assert_string_equal(rec->actor_type, "system");
	p->n++;
	p->through = json_integer_value(json_object_get(d, "through_seq"));
	p->purged = json_integer_value(json_object_get(d, "purged"));
	assert_int_equal(json_string_length(json_object_get(d, "anchor_hash")), 64);
	assert_true(json_integer_value(json_object_get(d, "retention_days")) >= 90);
	json_decref(d);
	return 0;
}

static void
test_retention(void **state)
{
	struct fx *fx = *state;
	struct lb_verify_result r;
	struct lb_audit_filter f = { .chain = "fabrikam", .operation = "PurgeAuditRecords" };
	struct purge_seen ps = { 0 };
	struct lb_tx *tx;
	int64_t first = 0;
	uint64_t n = 0;
	char *t;

	tenant_with_retention(fx, "fabrikam", 90);
	tenant_with_retention(fx, "northwind", 365);
	/* One record a day, days 0..100; a checkpoint on day 50. */
	append_n(fx, "fabrikam", 51, T0, DAY_MS);
	append_n(fx, "northwind", 101, T0, DAY_MS);
	checkpoint(fx, "fabrikam", T0 + 50 * DAY_MS);
	append_n(fx, "fabrikam", 50, T0 + 51 * DAY_MS, DAY_MS);
	/* Day 100: records older than 90 days are days 0..9 (seq 1..10). */
	assert_int_equal(audit_retention_run(fx->st, fx->kr, T0 + 100 * DAY_MS), 10);
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_first_seq(tx, "fabrikam", &first), 0);
	assert_int_equal(first, 11);
	assert_int_equal(store_audit_first_seq(tx, "northwind", &first), 0);
	assert_int_equal(first, 1);     /* 365 days keep them all */
	assert_int_equal(store_audit_search(tx, &f, 10, find_purge, &ps, NULL), 0);
	assert_int_equal(ps.n, 1);
	assert_int_equal(ps.through, 10);
	assert_int_equal(ps.purged, 10);
	f.chain = "northwind";
	assert_int_equal(store_audit_count(tx, &f, &n), 0);
	assert_int_equal(n, 0);
	store_rollback(tx);

	/* What remains verifies from the anchor, purge record included. */
	t = export_chain(fx, "fabrikam", T0 + 100 * DAY_MS);
	assert_non_null(strstr(t, "\"anchor\":true"));
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.first_seq, 11);
	assert_int_equal(r.last_seq, 102);
	free(t);

	/* Again the same day: nothing more. A day later: one more record. */
	assert_int_equal(audit_retention_run(fx->st, fx->kr, T0 + 100 * DAY_MS), 0);
	assert_int_equal(audit_retention_run(fx->st, fx->kr, T0 + 101 * DAY_MS), 1);
	t = export_chain(fx, "fabrikam", T0 + 101 * DAY_MS);
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.first_seq, 12);
	free(t);

	/*
	 * Records silently cut from the start at a signed checkpoint (51): the
	 * rest still links to that checkpoint, but no purge record explains it.
	 */
	struct doc *d = calloc(1, sizeof(*d));
	t = export_chain(fx, "fabrikam", T0 + 101 * DAY_MS);
	doc_split(d, t);
	free(t);
	while (doc_find(d, 52, false) != doc_find(d, 102, true) + 1)
		doc_del(d, doc_find(d, 102, true) + 1);
	free(d->l[0]);
	d->l[0] = strdup("{\"export\":{\"version\":1,\"tenant\":\"fabrikam\",\"exported_at\":"
	    "\"2026-04-12T00:00:00.000Z\",\"first_seq\":52,\"last_seq\":103}}");
	verify_doc(d, fx->jwks, &r);
	expect(&r, LB_VERIFY_UNANCHORED, 52);
	doc_destroy(d);

	/* Never the head: a chain whose every record is old keeps its newest. */
	append_n(fx, "", 3, T0, 1);
	/* provider 1..2, fabrikam 12..102, northwind 1..100 */
	assert_int_equal(audit_retention_run(fx->st, fx->kr, T0 + 1000 * DAY_MS), 2 + 91 + 100);
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_first_seq(tx, "", &first), 0);
	assert_int_equal(first, 3);
	store_rollback(tx);
	t = export_chain(fx, "", T0 + 1000 * DAY_MS);
	verify_text(t, fx->jwks, &r);
	expect(&r, LB_VERIFY_OK, -1);
	assert_int_equal(r.records, 2);  /* the old head and the purge record */
	free(t);
}

/* ------------------------------------------------------------- search */

#define NSEARCH 1000
static const char *const types[] = { LB_RT_REQUEST, LB_RT_ACCESS, LB_RT_ADMIN };
static const char *const ops[] = { "op0", "op1", "op2", "op3", "op4" };
static const char *const results[] = { "success", "denied" };

struct visit {
	bool seen[NSEARCH + 1];
	int64_t last;
	int n;
};

static int
visit(void *ctx, const struct lb_audit_rec *rec)
{
	struct visit *v = ctx;

	assert_true(rec->seq >= 1 && rec->seq <= NSEARCH);
	assert_false(v->seen[rec->seq]);
	assert_true(v->last == 0 || rec->seq < v->last);        /* newest first */
	v->seen[rec->seq] = true;
	v->last = rec->seq;
	v->n++;
	return 0;
}

static bool
matches(const struct lb_audit_filter *f, int i)
{
	char actor[16], object[16];
	int64_t t = T0 + (int64_t)i * 1000;

	snprintf(actor, sizeof(actor), "user%d", i % 7);
	snprintf(object, sizeof(object), "obj%d", i % 11);
	return (f->start_ms == 0 || t >= f->start_ms) && (f->end_ms == 0 || t < f->end_ms) &&
	    (f->record_type == NULL || strcmp(f->record_type, types[i % 3]) == 0) &&
	    (f->operation == NULL || strcmp(f->operation, ops[i % 5]) == 0) &&
	    (f->actor == NULL || strcmp(f->actor, actor) == 0) &&
	    (f->object == NULL || strcmp(f->object, object) == 0) &&
	    (f->result == NULL || strcmp(f->result, results[i % 2]) == 0);
}

/* Pages through `f` 37 at a time and checks every match comes exactly once. */
static void
page_all(struct fx *fx, struct lb_audit_filter f)
{
	struct visit *v = calloc(1, sizeof(*v));
	struct lb_tx *tx;
	uint64_t count = 0;
	bool more = true;
	int want = 0, pages = 0;

	assert_non_null(v);
	for (int i = 0; i < NSEARCH; i++)
		want += matches(&f, i) ? 1 : 0;
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_count(tx, &f, &count), 0);
	assert_int_equal(count, (uint64_t)want);
	f.before_seq = 0;
	while (more) {
		int before = v->n;

		assert_int_equal(store_audit_search(tx, &f, 37, visit, v, &more), 0);
		assert_true(v->n - before <= 37);
		assert_true(!more || v->n - before == 37);
		f.before_seq = v->last;
		pages++;
		assert_true(pages <= NSEARCH / 37 + 2);
	}
	store_rollback(tx);
	assert_int_equal(v->n, want);
	for (int i = 0; i < NSEARCH; i++)
		assert_int_equal(v->seen[i + 1], matches(&f, i));
	free(v);
}

static void
test_search(void **state)
{
	struct fx *fx = *state;
	struct lb_tx *tx;

	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	for (int i = 0; i < NSEARCH; i++) {
		char actor[16], object[16];
		struct lb_actor a = { .type = LB_ACTOR_USER };
		struct lb_audit_event ev = {
			.tenant = "contoso", .record_type = types[i % 3], .operation = ops[i % 5],
			.actor = &a, .object_id = object, .result = results[i % 2],
			.time_ms = T0 + (int64_t)i * 1000,
		};

		snprintf(actor, sizeof(actor), "user%d", i % 7);
		snprintf(object, sizeof(object), "obj%d", i % 11);
		memcpy(a.id, actor, strlen(actor) + 1);
		memcpy(a.realm, "contoso", 8);
		assert_int_equal(audit_append(tx, &ev), 0);
	}
	assert_int_equal(store_commit(tx), 0);
	append_n(fx, "other", 5, T0, 1);

	page_all(fx, (struct lb_audit_filter){ .chain = "contoso" });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .record_type = LB_RT_ACCESS });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .operation = "op3" });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .actor = "user4" });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .object = "obj10" });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .result = "denied" });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .start_ms = T0 + 100000,
	    .end_ms = T0 + 500000 });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .record_type = LB_RT_ADMIN,
	    .actor = "user1", .result = "success", .start_ms = T0 + 1000 });
	page_all(fx, (struct lb_audit_filter){ .chain = "contoso", .object = "none" });

	/* The other reads: chains, bounds, and refusals of bad arguments. */
	struct lb_audit_filter bad = { .chain = "contoso", .before_seq = -1 };
	int64_t s = -1;
	uint64_t n;

	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_last_before(tx, "contoso", T0 + 10500, &s), 0);
	assert_int_equal(s, 11);
	assert_int_equal(store_audit_last_before(tx, "contoso", T0, &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(store_audit_first_seq(tx, "nobody", &s), 0);
	assert_int_equal(s, 0);
	assert_int_equal(store_audit_count(tx, &bad, &n), LB_ERR_INVALID_VALUE);
	assert_int_equal(store_audit_search(tx, NULL, 1, visit, NULL, NULL), LB_ERR_INTERNAL);
	bad.before_seq = 0;
	assert_int_equal(store_audit_search(tx, &bad, 100001, visit, NULL, NULL),
	    LB_ERR_INVALID_VALUE);
	assert_int_equal(store_audit_purge(tx, "contoso", 5, NULL), LB_ERR_INTERNAL);
	store_rollback(tx);
}

static int
chain_name(void *ctx, const char *chain)
{
	struct buf *b = ctx;

	buf_add(b, "[", 1);
	buf_add(b, chain, strlen(chain));
	buf_add(b, "]", 1);
	return 0;
}

static void
test_chains(void **state)
{
	struct fx *fx = *state;
	struct buf b = { 0 };
	struct lb_tx *tx;

	append_n(fx, "zeta", 2, T0, 1);
	append_n(fx, "", 2, T0, 1);
	append_n(fx, "alpha", 3, T0, 1);
	buf_add(&b, "", 0);
	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	assert_int_equal(store_audit_chains(tx, chain_name, &b), 0);
	store_rollback(tx);
	assert_string_equal(b.p, "[][alpha][zeta]");
	free(b.p);
}

/* ------------------------------------------------------- one million */

static void
rec_canon(struct buf *b, int64_t seq, const char *prev)
{
	char ts[32], line[768];
	int n;

	assert_int_equal(lb_time_format(T0 + seq * 10, ts, sizeof(ts)), 0);
	n = snprintf(line, sizeof(line), "{\"actor\":{\"id\":\"gw-1\",\"realm\":\"provider\","
	    "\"type\":\"service\"},\"client_ip\":\"10.0.0.7\",\"details\":{\"method\":\"GET\","
	    "\"reason\":\"\",\"uri\":\"/exchange/mbx/%lld\"},\"id\":\"aud_%lld\",\"object_id\":"
	    "\"req_42\",\"operation\":\"AccessContent\",\"prev_hash\":\"%s\",\"record_type\":"
	    "\"CustomerLockboxAccess\",\"result\":\"allowed\",\"seq\":%lld,\"tenant\":\"contoso\","
	    "\"time\":\"%s\",\"workload\":\"CustomerLockbox\"}", (long long)(seq % 977),
	    (long long)seq, prev, (long long)seq, ts);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	b->n = 0;
	buf_add(b, line, (size_t)n);
}

struct fixed_key {
	unsigned char pk[32];
};

static int
fixed_key(void *ctx, const char *kid, unsigned char pk[32])
{
	if (strcmp(kid, "test-key") != 0)
		return -1;
	memcpy(pk, ((struct fixed_key *)ctx)->pk, 32);
	return 0;
}

static void
test_million(void **state)
{
	const char *env = getenv("LB_TEST_AUDIT_RECORDS");
	int64_t n = SANITIZED ? 100000 : 1000000;
	struct fixed_key key;
	unsigned char sk[64], dg[32], sig[64];
	char prev[65], head[65], b64[100], ts[32], *msg;
	struct buf rec = { 0 }, chunk = { 0 };
	struct lb_verify_result r;
	struct lb_verify *v;
	struct timespec a, z;
	double secs = 0;

	(void)state;
	const char *pre = getenv("LD_PRELOAD");

	/* Under valgrind (its preload library is in LD_PRELOAD), 20,000 will do. */
	if (pre != NULL && strstr(pre, "vgpreload") != NULL)
		n = 20000;
	if (env != NULL && strtoll(env, NULL, 10) > 0)
		n = strtoll(env, NULL, 10);
	crypto_sign_keypair(key.pk, sk);
	/* Pass 1: the head hash, for the checkpoint that must precede the records. */
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (int64_t s = 1; s <= n; s++) {
		rec_canon(&rec, s, prev);
		crypto_hash_sha256(dg, (const unsigned char *)rec.p, rec.n);
		sodium_bin2hex(prev, sizeof(prev), dg, 32);
	}
	memcpy(head, prev, 65);
	assert_int_equal(lb_time_format(T0 + n * 10, ts, sizeof(ts)), 0);
	msg = verify_checkpoint_message("contoso", n, head, T0 + n * 10);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
	free(msg);
	sodium_bin2base64(b64, sizeof(b64), sig, 64, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	assert_int_equal(verify_new(fixed_key, &key, &v), 0);
	char line[1024];
	snprintf(line, sizeof(line), "{\"export\":{\"version\":1,\"tenant\":\"contoso\","
	    "\"exported_at\":\"%s\",\"first_seq\":1,\"last_seq\":%lld}}", ts, (long long)n);
	assert_int_equal(verify_line(v, line, strlen(line)), 0);
	snprintf(line, sizeof(line), "{\"checkpoint\":{\"anchor\":false,\"head_hash\":\"%s\","
	    "\"kid\":\"test-key\",\"seq\":%lld,\"sig\":\"%s\",\"tenant\":\"contoso\","
	    "\"time\":\"%s\"}}", head, (long long)n, b64, ts);
	assert_int_equal(verify_line(v, line, strlen(line)), 0);

	/* Pass 2: JSONL in chunks of 10,000 lines; only verify_line is timed. */
	memset(prev, '0', 64);
	for (int64_t s = 1; s <= n;) {
		chunk.n = 0;
		for (int k = 0; k < 10000 && s <= n; k++, s++) {
			rec_canon(&rec, s, prev);
			crypto_hash_sha256(dg, (const unsigned char *)rec.p, rec.n);
			sodium_bin2hex(prev, sizeof(prev), dg, 32);
			rec.p[rec.n - 1] = ',';
			buf_add(&chunk, rec.p, rec.n);
			buf_add(&chunk, "\"hash\":\"", 8);
			buf_add(&chunk, prev, 64);
			buf_add(&chunk, "\"}\n", 3);
		}
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (const char *p = chunk.p, *e; (e = strchr(p, '\n')) != NULL; p = e + 1)
			verify_line(v, p, (size_t)(e - p));
		clock_gettime(CLOCK_MONOTONIC, &z);
		secs += (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
	}
	verify_finish(v, &r);
	verify_free(v);
	if (!r.ok)
		print_error("%s at %lld: %s\n", lb_verify_problem_name(r.problem),
		    (long long)r.bad_seq, r.reason);
	assert_true(r.ok);
	assert_int_equal(r.records, n);
	assert_int_equal(r.last_seq, n);
	print_message("verified %lld records in %.2f s: %.0f records/s\n", (long long)n, secs,
	    (double)n / secs);
	if (!SANITIZED && n >= 1000000)
		assert_true(secs < 30.0);
	free(rec.p);
	free(chunk.p);
	sodium_memzero(sk, sizeof(sk));
}

/* ------------------------------------------------ the line fast path */

/*
 * verify_line reads a record line the exporter wrote without jansson (see
 * verify.c); any other line must get the full parse and the same verdict
 * as before.  Three records, seq 2 (line 4) built from `details` and laid
 * out by `lay`, its hash computed over its canonical text; a checkpoint
 * signs seq 3.
 */
enum layout {
	LAY_SORTED,             /* as the exporter writes it */
	LAY_LAST,               /* "hash" last */
	LAY_FIRST,              /* "hash" first: not canonical */
	LAY_AFTER_TENANT,       /* "hash" between tenant and time */
	LAY_IN_DETAILS,         /* the member moved into details */
	LAY_TRAIL_GARBAGE,      /* the exporter's line, then "x" */
	LAY_TRAIL_SPACE,        /* the exporter's line, then a space */
	LAY_EXTRA_FIELD,        /* an unknown top-level field, hashed along */
};

static void
rec_body(struct buf *b, int64_t seq, const char *prev, const char *details)
{
	char ts[32], line[2048];
	int n;

	assert_int_equal(lb_time_format(T0 + seq * 10, ts, sizeof(ts)), 0);
	n = snprintf(line, sizeof(line), "{\"actor\":{\"id\":\"gw-1\",\"realm\":\"provider\","
	    "\"type\":\"service\"},\"client_ip\":\"10.0.0.7\",\"details\":%s,\"id\":\"aud_%lld\","
	    "\"object_id\":\"req_42\",\"operation\":\"AccessContent\",\"prev_hash\":\"%s\","
	    "\"record_type\":\"CustomerLockboxAccess\",\"result\":\"allowed\",\"seq\":%lld,"
	    "\"tenant\":\"contoso\",\"time\":\"%s\",\"workload\":\"CustomerLockbox\"}", details,
	    (long long)seq, prev, (long long)seq, ts);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	b->n = 0;
	buf_add(b, line, (size_t)n);
}

/* The record line of `body` (hash `h`) laid out as `lay`, in `out`. */
static void
rec_lay(struct buf *out, const struct buf *body, const char *h, enum layout lay)
{
	const char *id = strstr(body->p, ",\"id\":\"aud_"), *tn = strstr(body->p, ",\"time\":");
	char member[80];
	size_t at;

	assert_non_null(id);
	assert_non_null(tn);
	snprintf(member, sizeof(member), ",\"hash\":\"%s\"", h);
	switch (lay) {
	case LAY_LAST:
		at = body->n - 1;
		break;
	case LAY_FIRST:
		at = 0;
		break;
	case LAY_AFTER_TENANT:
		at = (size_t)(tn - body->p);
		break;
	case LAY_IN_DETAILS:
		at = (size_t)(id - body->p) - 1;        /* before details' closing brace */
		break;
	case LAY_EXTRA_FIELD:
		at = body->n - 1;
		break;
	default:
		at = (size_t)(id - body->p);
		break;
	}
	out->n = 0;
	buf_add(out, "", 0);
	if (lay == LAY_FIRST) {
		buf_add(out, "{", 1);
		buf_add(out, member + 1, strlen(member) - 1);
		buf_add(out, ",", 1);
		buf_add(out, body->p + 1, body->n - 1);
	} else {
		buf_add(out, body->p, at);
		buf_add(out, member, strlen(member));
		buf_add(out, body->p + at, body->n - at);
	}
	if (lay == LAY_TRAIL_GARBAGE)
		buf_add(out, "x", 1);
	if (lay == LAY_TRAIL_SPACE)
		buf_add(out, " ", 1);
}

static void
run_laid(const char *details, enum layout lay, struct lb_verify_result *r)
{
	struct fixed_key key;
	unsigned char sk[64], dg[32], sig[64];
	char prev[65], b64[100], ts[32], line[1024], *msg;
	struct buf body = { 0 }, out = { 0 };
	struct lb_verify *v;

	crypto_sign_keypair(key.pk, sk);
	assert_int_equal(verify_new(fixed_key, &key, &v), 0);
	assert_int_equal(lb_time_format(T0 + 100, ts, sizeof(ts)), 0);
	snprintf(line, sizeof(line), "{\"export\":{\"first_seq\":1,\"last_seq\":3,\"tenant\":"
	    "\"contoso\",\"exported_at\":\"%s\",\"version\":1}}", ts);
	assert_int_equal(verify_line(v, line, strlen(line)), 0);
	/* The head hash first, for the checkpoint that precedes the records. */
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (int64_t s = 1; s <= 3; s++) {
		rec_body(&body, s, prev, s == 2 ? details : "{\"n\":1}");
		if (s == 2 && lay == LAY_EXTRA_FIELD) {
			body.n--;
			buf_add(&body, ",\"zz\":1}", 8);
		}
		crypto_hash_sha256(dg, (const unsigned char *)body.p, body.n);
		sodium_bin2hex(prev, sizeof(prev), dg, 32);
	}
	msg = verify_checkpoint_message("contoso", 3, prev, T0 + 100);
	assert_non_null(msg);
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
	free(msg);
	sodium_bin2base64(b64, sizeof(b64), sig, 64, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(line, sizeof(line), "{\"checkpoint\":{\"anchor\":false,\"head_hash\":\"%s\","
	    "\"kid\":\"test-key\",\"seq\":3,\"sig\":\"%s\",\"tenant\":\"contoso\","
	    "\"time\":\"%s\"}}", prev, b64, ts);
	assert_int_equal(verify_line(v, line, strlen(line)), 0);
	memset(prev, '0', 64);
	for (int64_t s = 1; s <= 3; s++) {
		rec_body(&body, s, prev, s == 2 ? details : "{\"n\":1}");
		if (s == 2 && lay == LAY_EXTRA_FIELD) {
			body.n--;
			buf_add(&body, ",\"zz\":1}", 8);
		}
		crypto_hash_sha256(dg, (const unsigned char *)body.p, body.n);
		sodium_bin2hex(prev, sizeof(prev), dg, 32);
		rec_lay(&out, &body, prev, s == 2 ? lay : LAY_SORTED);
		assert_int_equal(verify_line(v, out.p, out.n), 0);
	}
	verify_finish(v, r);
	verify_free(v);
	free(body.p);
	free(out.p);
	sodium_memzero(sk, sizeof(sk));
}

static void
expect_ok(const char *details, enum layout lay)
{
	struct lb_verify_result r;

	run_laid(details, lay, &r);
	if (!r.ok)
		print_error("layout %d, details %s: %s\n", (int)lay, details, r.reason);
	assert_true(r.ok);
	assert_int_equal(r.records, 3);
	assert_int_equal(r.last_seq, 3);
}

static void
expect_malformed(const char *details, enum layout lay)
{
	struct lb_verify_result r;

	run_laid(details, lay, &r);
	assert_false(r.ok);
	assert_int_equal(r.problem, LB_VERIFY_MALFORMED);
	assert_int_equal(r.bad_line, 4);
}

static void
test_fast_path(void **state)
{
	static const char *const fine[] = {
		"{}",
		"{\"method\":\"GET\",\"reason\":\"\",\"uri\":\"/x\"}",
		/* Escapes, controls, UTF-8, nesting, integers, literals. */
		"{\"a\":[1,-2,0,true,false,null,[],{}],\"b\":{\"c\":{\"d\":\"e\"}},"
		    "\"n\":\"line\\nbreak \\u0001 \\\"q\\\" \\\\ \xc3\xa9 \xf0\x9f\x94\x92\"}",
		/* A "hash" key of details' own, before or after the top-level one. */
		"{\"hash\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
		"{\"a\":{\"hash\":\"x\"},\"hash\":\"y\",\"z\":\",\\\"hash\\\":\\\"\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		expect_ok(fine[i], LAY_SORTED);
		expect_ok(fine[i], LAY_LAST);
	}
	/* Not the exporter's layout: the full parse, which takes it as ever. */
	expect_ok("{\"n\":2}", LAY_FIRST);
	expect_ok("{\"n\":2}", LAY_AFTER_TENANT);
	expect_ok("{\"hash\":\"x\"}", LAY_FIRST);
	expect_ok("{\"n\":2}", LAY_TRAIL_SPACE);
	/*
	 * Details whose text is not jansson's dump (unsorted keys, an uppercase
	 * escape, an escaped slash), hashed as written: outside the fast path's
	 * subset, so the full parse decides, as it did before (it accepts them).
	 */
	expect_ok("{\"b\":1,\"a\":2}", LAY_SORTED);
	expect_ok("{\"a\":\"\\u001F\"}", LAY_SORTED);
	expect_ok("{\"a\":\"\\/\"}", LAY_SORTED);
	/*
	 * Lines whose bytes, less the hash member, hash to that hash, yet that
	 * are not records of the documented form: each is MALFORMED, on its
	 * own line, as the full parse finds.
	 */
	expect_malformed("{\"n\":2}", LAY_IN_DETAILS);
	expect_malformed("{\"hash\":\"x\",\"n\":2}", LAY_IN_DETAILS);
	expect_malformed("{\"n\":2}", LAY_TRAIL_GARBAGE);
	expect_malformed("{\"n\":2}", LAY_EXTRA_FIELD);
	expect_malformed("{\"n\":1.5}", LAY_SORTED);
	expect_malformed("{\"n\":1e3}", LAY_SORTED);
	expect_malformed("{\"n\":2,\"n\":3}", LAY_SORTED);
	expect_malformed("{\"n\":\"\\u0000\"}", LAY_SORTED);
	expect_malformed("{\"n\":\"\xc3\"}", LAY_SORTED);
	expect_malformed("{\"n\":\"\xed\xa0\x80\"}", LAY_SORTED);
	expect_malformed("{\"n\":99999999999999999999}", LAY_SORTED);
	expect_malformed("{\"n\":[1,]}", LAY_SORTED);
	expect_malformed("[1]", LAY_SORTED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forgery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_keyring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_object_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains, setup, teardown),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_million),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
