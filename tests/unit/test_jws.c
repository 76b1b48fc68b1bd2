/*
 * Tests of the signing keys (src/authz/keys.c), grant tokens
 * (src/authz/jws.c) and grant claims (src/authz/grant.c).
 *
 * Each test gets its own key directory under /tmp (mkdtemp), removed after
 * it.  Time is passed in, never read: T0 is an arbitrary fixed instant.
 * The tampered-token table signs hostile headers and payloads with the
 * real key (through keys_sign_kid, private to src/authz), so each case is
 * refused for the reason it names and not merely for a bad signature.
 */
#define _XOPEN_SOURCE 700       /* nftw() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authz/authz.h"


#define T0 1767225600000LL      /* 2026-01-01T00:00:00Z */
#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct fx {
	char dir[64];
	char dir2[64];
	struct lb_keyring *kr;
	struct lb_keyring *kr2;
};

/* ---------------------------------------------------------------- helpers */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/lbjws.XXXXXX");
	snprintf(f->dir2, sizeof(f->dir2), "/tmp/lbjws2.XXXXXX");
	if (mkdtemp(f->dir) == NULL || mkdtemp(f->dir2) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	keys_close(f->kr);
	keys_close(f->kr2);
	rm_rf(f->dir);
	rm_rf(f->dir2);
	free(f);
	return 0;
}

static void
open_ring(struct fx *f)
{
	assert_int_equal(keys_open(f->dir, T0, &f->kr), 0);
}

static struct lb_grant_claims
good_claims(void)
{
	struct lb_grant_claims g;

	memset(&g, 0, sizeof(g));
	snprintf(g.rid, sizeof(g.rid), "req_abcdefghijklmnopqrstuvwxyz");
	snprintf(g.tenant, sizeof(g.tenant), "contoso");
	snprintf(g.sub, sizeof(g.sub), "eve@provider.example");
	snprintf(g.workload, sizeof(g.workload), "exchange");
	snprintf(g.resources[0], sizeof(g.resources[0]), "mailbox/alice");
	snprintf(g.resources[1], sizeof(g.resources[1]), "mailbox/bob/inbox");
	g.nresources = 2;
	g.nbf_s = T0 / 1000;
	g.iat_s = T0 / 1000;
	g.exp_s = T0 / 1000 + 4 * 3600;
	snprintf(g.jti, sizeof(g.jti), "gnt_abcdefghijklmnopqrstuvwxyz");
	return g;
}

static char *
sign_good(struct lb_keyring *kr)
{
	struct lb_grant_claims g = good_claims();
	json_t *c = grant_claims_json(&g);
	char *tok = NULL;

	assert_non_null(c);
	assert_int_equal(jws_sign(kr, c, &tok), 0);
	json_decref(c);
	return tok;
}

static int
verify(struct lb_keyring *kr, const char *tok, int64_t now_ms)
{
	json_t *c = NULL;
	int rc = jws_verify(kr, tok, strlen(tok), now_ms, &c);

	if (rc == 0)
		assert_non_null(c);
	json_decref(c);
	return rc;
}

/* How many entries of DATA_DIR/keys end with suffix. */
static size_t
count_files(const char *dir, const char *suffix)
{
	char path[128];
	size_t n = 0, sl = strlen(suffix);
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/keys", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* base64url of text, malloc'd. */
static char *
b64(const void *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64V);
	char *s = malloc(cap);

	assert_non_null(s);
	sodium_bin2base64(s, cap, bin, len, B64V);
	return s;
}

/*
 * A token with the raw header and payload texts given (duplicates and all),
 * signed by kr's key `kid`.  malloc'd.
 */
static char *
make_signed(struct lb_keyring *kr, const char *kid, const char *hdr, const char *pay)
{
	char *h = b64(hdr, strlen(hdr)), *p = b64(pay, strlen(pay)), *s, *tok;
	size_t n = strlen(h) + strlen(p) + 2 + 87;
	unsigned char sig[64];
	int k;

	tok = malloc(n);
	assert_non_null(tok);
	k = snprintf(tok, n, "%s.%s", h, p);
	assert_int_equal(keys_sign_kid(kr, kid, (unsigned char *)tok, (size_t)k, sig), 0);
	s = b64(sig, sizeof(sig));
	snprintf(tok + k, n - (size_t)k, ".%s", s);
	free(h);
	free(p);
	free(s);
	return tok;
}

static const char *good_payload =
    "{\"exp\":1767240000,\"iss\":\"lockbox\",\"nbf\":1767225600}";

/* ------------------------------------------------------------------- keys */

static void
test_keys_created_with_modes(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1], path[256];
	struct stat st;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	assert_int_equal(strlen(kid), 16);
	snprintf(path, sizeof(path), "%s/keys", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/keys/%s.key", f->dir, kid);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_files(f->dir, ".key"), 1);
	assert_int_equal(count_files(f->dir, ".tmp"), 0);
}

static void
test_keys_reopen_same_kid(void **state)
{
	struct fx *f = *state;
	char kid1[LB_KID_MAX + 1], kid2[LB_KID_MAX + 1];
	char *tok;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid1), 0);
	tok = sign_good(f->kr);
	keys_close(f->kr);
	f->kr = NULL;
	assert_int_equal(keys_open(f->dir, T0 + 5000, &f->kr), 0);
	assert_int_equal(keys_current_kid(f->kr, kid2), 0);
	assert_string_equal(kid1, kid2);
	assert_int_equal(count_files(f->dir, ".key"), 1);
	assert_int_equal(verify(f->kr, tok, T0 + 5000), 0);
	free(tok);
}

static void
test_keys_rotate_and_grace(void **state)
{
	struct fx *f = *state;
	char kid1[LB_KID_MAX + 1], kid2[LB_KID_MAX + 1], cur[LB_KID_MAX + 1];
	int64_t tr = T0 + 60000;
	char *old, *new;
	json_t *jwks;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid1), 0);
	old = sign_good(f->kr);
	assert_int_equal(keys_rotate(f->kr, tr, kid2), 0);
	assert_string_not_equal(kid1, kid2);
	assert_int_equal(keys_current_kid(f->kr, cur), 0);
	assert_string_equal(cur, kid2);
	new = sign_good(f->kr);
	assert_non_null(strstr(new, "."));

	/* The old key verifies through its grace, not a millisecond after. */
	assert_int_equal(verify(f->kr, old, tr), 0);
	assert_int_equal(verify(f->kr, old, tr + LB_KEY_GRACE_MS - 1), 0);
	assert_int_equal(verify(f->kr, old, tr + LB_KEY_GRACE_MS), LB_ERR_UNAUTHENTICATED);
	assert_int_equal(verify(f->kr, new, tr + LB_KEY_GRACE_MS), 0);

	/* The JWKS follows the same rule. */
	jwks = keys_jwks(f->kr, tr + LB_KEY_GRACE_MS - 1);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(jwks, "keys"), 0), "kid")), kid2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(jwks, "keys"), 1), "kid")), kid1);
	json_decref(jwks);
	jwks = keys_jwks(f->kr, tr + LB_KEY_GRACE_MS);
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 1);
	json_decref(jwks);

	/* Reopened within the grace: kid2 current, old token still good. */
	keys_close(f->kr);
	f->kr = NULL;
	assert_int_equal(keys_open(f->dir, tr + 1000, &f->kr), 0);
	assert_int_equal(keys_current_kid(f->kr, cur), 0);
	assert_string_equal(cur, kid2);
	assert_int_equal(verify(f->kr, old, tr + 1000), 0);
	assert_int_equal(count_files(f->dir, ".key"), 2);

	/* Reopened after it: the old key's file is gone. */
	keys_close(f->kr);
	f->kr = NULL;
	assert_int_equal(keys_open(f->dir, tr + LB_KEY_GRACE_MS, &f->kr), 0);
	assert_int_equal(count_files(f->dir, ".key"), 1);
	assert_int_equal(verify(f->kr, old, tr), LB_ERR_UNAUTHENTICATED);
	assert_int_equal(verify(f->kr, new, tr), 0);
	free(old);
	free(new);
}

static void
test_keys_rotate_prunes_and_limits(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1];
	int rc = 0, i;

	open_ring(f);
	for (i = 0; i < 40 && (rc = keys_rotate(f->kr, T0 + i, kid)) == 0; i++)
		;
	assert_int_equal(rc, LB_ERR_RATE_LIMITED);
	assert_int_equal(i, 31);        /* 32 live keys at most */
	assert_int_equal(count_files(f->dir, ".key"), 32);
	/* Past the grace the retired keys are pruned and rotation works again. */
	assert_int_equal(keys_rotate(f->kr, T0 + 100 + LB_KEY_GRACE_MS, kid), 0);
	assert_int_equal(count_files(f->dir, ".key"), 2);
}

static void
test_keys_refuse_insecure(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1], path[256];
	static char sentinel;
	struct lb_keyring *kr = (struct lb_keyring *)(void *)&sentinel;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	keys_close(f->kr);
	f->kr = NULL;

	snprintf(path, sizeof(path), "%s/keys", f->dir);
	assert_int_equal(chmod(path, 0750), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_ptr_equal(kr, (void *)&sentinel);    /* untouched */
	assert_int_equal(chmod(path, 0700), 0);

	snprintf(path, sizeof(path), "%s/keys/%s.key", f->dir, kid);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keys_open(f->dir, T0, &f->kr), 0);
}

static void
test_keys_refuse_corrupt(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1], path[256], other[256];
	struct lb_keyring *kr = NULL;
	FILE *fp;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	keys_close(f->kr);
	f->kr = NULL;

	/* A key filed under another key's name. */
	snprintf(path, sizeof(path), "%s/keys/%s.key", f->dir, kid);
	snprintf(other, sizeof(other), "%s/keys/AAAAAAAAAAAAAAAA.key", f->dir);
	assert_int_equal(rename(path, other), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_null(kr);
	assert_int_equal(rename(other, path), 0);

	/* A truncated file. */
	assert_int_equal(truncate(path, 60), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_null(kr);

	/* A symlink is not followed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_null(kr);
	assert_int_equal(unlink(path), 0);

	/* A file whose public half does not match its seed. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "lockbox-ed25519-key 1\ncreated_ms 1\nretired_ms 0\nsecret ");
	for (int i = 0; i < 128; i++)
		fputc('a', fp);
	fputc('\n', fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keys_open(f->dir, T0, &kr), LB_ERR_UNAVAILABLE);
	assert_null(kr);

	/* Unrelated files are left alone; stale temp files are removed. */
	assert_int_equal(unlink(path), 0);
	snprintf(other, sizeof(other), "%s/keys/README", f->dir);
	fp = fopen(other, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(other, sizeof(other), "%s/keys/BBBBBBBBBBBBBBBB.key.tmp", f->dir);
	fp = fopen(other, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(keys_open(f->dir, T0, &f->kr), 0);
	assert_int_equal(count_files(f->dir, ".tmp"), 0);
	assert_int_equal(count_files(f->dir, "README"), 1);
}

static void
test_keys_jwks_shape(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1];
	unsigned char pk[64];
	size_t n = 0;
	json_t *jwks, *keys, *k;
	char *txt;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	jwks = keys_jwks(f->kr, T0);
	assert_non_null(jwks);
	assert_int_equal(json_object_size(jwks), 1);
	keys = json_object_get(jwks, "keys");
	assert_true(json_is_array(keys));
	assert_int_equal(json_array_size(keys), 1);
	k = json_array_get(keys, 0);
	assert_int_equal(json_object_size(k), 6);
	assert_string_equal(json_string_value(json_object_get(k, "kty")), "OKP");
	assert_string_equal(json_string_value(json_object_get(k, "crv")), "Ed25519");
	assert_string_equal(json_string_value(json_object_get(k, "alg")), "EdDSA");
	assert_string_equal(json_string_value(json_object_get(k, "use")), "sig");
	assert_string_equal(json_string_value(json_object_get(k, "kid")), kid);
	const char *x = json_string_value(json_object_get(k, "x"));
	assert_non_null(x);
	assert_int_equal(strlen(x), 43);
	assert_int_equal(sodium_base642bin(pk, sizeof(pk), x, strlen(x), NULL, &n, NULL, B64V), 0);
	assert_int_equal(n, 32);
	/* The kid is derived from the public key. */
	unsigned char h[32];
	char want[17];
	crypto_hash_sha256(h, pk, 32);
	sodium_bin2base64(want, sizeof(want), h, 12, B64V);
	assert_string_equal(want, kid);
	/* No secret material anywhere in it. */
	txt = json_dumps(jwks, JSON_COMPACT);
	assert_null(strstr(txt, "\"d\""));
	free(txt);
	json_decref(jwks);
	assert_null(keys_jwks(NULL, T0));
}

struct race {
	struct lb_keyring *kr;
	const char *tok;
	int failures;
};

static void *
race_verify(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 300; i++) {
		json_t *c = NULL;
		if (jws_verify(r->kr, r->tok, strlen(r->tok), T0, &c) != 0)
			r->failures++;
		json_decref(c);
	}
	return NULL;
}

static void
test_keys_verify_while_rotating(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1];
	pthread_t th[3];
	struct race r;
	char *tok;

	open_ring(f);
	tok = sign_good(f->kr);
	r.kr = f->kr;
	r.tok = tok;
	r.failures = 0;
	struct race rs[3] = { r, r, r };
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_verify, &rs[i]), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(keys_rotate(f->kr, T0, kid), 0);
		char *t2 = sign_good(f->kr);
		assert_int_equal(verify(f->kr, t2, T0), 0);
		free(t2);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rs[i].failures, 0);
	}
	free(tok);
}

/* -------------------------------------------------------------------- JWS */

static void
test_jws_round_trip(void **state)
{
	struct fx *f = *state;
	struct lb_grant_claims g = good_claims(), back;
	char kid[LB_KID_MAX + 1], want[128], hdr[256];
	json_t *c = grant_claims_json(&g), *got = NULL;
	char *tok = NULL, *dot;
	size_t n = 0;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	assert_int_equal(jws_sign(f->kr, c, &tok), 0);
	assert_true(strlen(tok) <= LB_JWS_MAX);
	assert_null(strchr(tok, '='));
	/* The header is exactly the one documented. */
	dot = strchr(tok, '.');
	assert_non_null(dot);
	assert_int_equal(sodium_base642bin((unsigned char *)hdr, sizeof(hdr) - 1, tok,
	    (size_t)(dot - tok), NULL, &n, NULL, B64V), 0);
	hdr[n] = '\0';
	snprintf(want, sizeof(want), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	assert_string_equal(hdr, want);
	assert_non_null(strchr(dot + 1, '.'));
	assert_null(strchr(strchr(dot + 1, '.') + 1, '.'));

	assert_int_equal(jws_verify(f->kr, tok, strlen(tok), T0, &got), 0);
	assert_true(json_equal(got, c));
	assert_int_equal(grant_claims_parse(got, &back), 0);
	assert_string_equal(back.rid, g.rid);
	assert_string_equal(back.tenant, g.tenant);
	assert_string_equal(back.sub, g.sub);
	assert_string_equal(back.workload, g.workload);
	assert_int_equal(back.nresources, 2);
	assert_string_equal(back.resources[1], g.resources[1]);
	assert_int_equal(back.nbf_s, g.nbf_s);
	assert_int_equal(back.exp_s, g.exp_s);
	assert_int_equal(back.iat_s, g.iat_s);
	assert_string_equal(back.jti, g.jti);
	json_decref(got);

	/* Never reads past len: a valid token inside a longer buffer. */
	size_t tl = strlen(tok);
	char *buf = malloc(tl + 20);
	assert_non_null(buf);
	memcpy(buf, tok, tl);
	memcpy(buf + tl, "AAAA.BBBB.CCCCCCCCC", 20);
	got = NULL;
	assert_int_equal(jws_verify(f->kr, buf, tl, T0, &got), 0);
	json_decref(got);
	got = NULL;
	assert_int_equal(jws_verify(f->kr, buf, tl - 1, T0, &got), LB_ERR_UNAUTHENTICATED);
	assert_null(got);
	free(buf);

	/* Signing refuses what is not an object; claims stay the caller's. */
	json_t *arr = json_array();
	char *none = NULL;
	assert_int_not_equal(jws_sign(f->kr, arr, &none), 0);
	assert_null(none);
	json_decref(arr);
	json_decref(c);
	free(tok);
}

enum mutation { M_NONE, M_FLIP_SIG, M_FLIP_PAY, M_TWO, M_FOUR, M_PAD, M_SP_LEAD,
	M_SP_IN, M_NL_TRAIL, M_NONCANON, M_EMPTY_SIG, M_EMPTY_HDR, M_PLUS, M_NUL,
	M_SHORT_SIG, M_EMPTY };

struct bad {
	const char *name;
	const char *hdr;        /* "%s" is the kid; NULL: the good header */
	const char *pay;        /* NULL: the good payload */
	enum mutation m;
	bool other_ring;        /* sign with the second ring's key */
};

static void
mutate(char **tokp, enum mutation m)
{
	char *t = *tokp, *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
	size_t n = strlen(t);
	char *r = malloc(n + 200);

	assert_non_null(r);
	memcpy(r, t, n + 1);
	switch (m) {
	case M_NONE:
		break;
	case M_FLIP_SIG:        /* a middle character of the signature */
		r[(d2 - t) + 20] = r[(d2 - t) + 20] == 'A' ? 'B' : 'A';
		break;
	case M_FLIP_PAY:
		r[(d1 - t) + 5] = r[(d1 - t) + 5] == 'A' ? 'B' : 'A';
		break;
	case M_TWO:
		r[d2 - t] = '\0';
		break;
	case M_FOUR:
		snprintf(r + n, 200, ".%s", d2 + 1);
		break;
	case M_PAD:
		snprintf(r + n, 200, "==");
		break;
	case M_SP_LEAD:
		r[0] = ' ';
		memcpy(r + 1, t, n + 1);
		break;
	case M_SP_IN:
		memcpy(r + (d1 - t) + 1, " ", 1);
		memcpy(r + (d1 - t) + 2, d1 + 1, strlen(d1 + 1) + 1);
		break;
	case M_NL_TRAIL:
		snprintf(r + n, 200, "\n");
		break;
	case M_NONCANON: {      /* the last character's 4 unused bits set */
		static const char a[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int v = (int)(strchr(a, r[n - 1]) - a);
		r[n - 1] = a[v | 1];
		break;
	}
	case M_EMPTY_SIG:
		r[(d2 - t) + 1] = '\0';
		break;
	case M_EMPTY_HDR:
		memcpy(r, d1, strlen(d1) + 1);
		break;
	case M_PLUS:
		r[(d1 - t) + 3] = '+';
		break;
	case M_NUL:
		r[(d1 - t) + 3] = '\0';
		break;
	case M_SHORT_SIG:       /* 63 bytes: 84 characters */
		r[(d2 - t) + 1 + 84] = '\0';
		break;
	case M_EMPTY:
		r[0] = '\0';
		break;
	}
	free(t);
	*tokp = r;
}

static const struct bad bad_tokens[] = {
	{ "good control", NULL, NULL, M_NONE, false },
	{ "flipped signature byte", NULL, NULL, M_FLIP_SIG, false },
	{ "flipped payload byte", NULL, NULL, M_FLIP_PAY, false },
	{ "alg none", "{\"alg\":\"none\",\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "alg none, empty signature", "{\"alg\":\"none\",\"kid\":\"%s\"}", NULL, M_EMPTY_SIG, false },
	{ "alg HS256", "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", NULL, M_NONE, false },
	{ "alg Ed25519", "{\"alg\":\"Ed25519\",\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "alg eddsa", "{\"alg\":\"eddsa\",\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "alg not a string", "{\"alg\":1,\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "alg missing", "{\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "kid missing", "{\"alg\":\"EdDSA\"}", NULL, M_NONE, false },
	{ "kid unknown", "{\"alg\":\"EdDSA\",\"kid\":\"AAAAAAAAAAAAAAAA%.0s\"}", NULL, M_NONE, false },
	{ "kid not a string", "{\"alg\":\"EdDSA\",\"kid\":7%.0s}", NULL, M_NONE, false },
	{ "kid too long", "{\"alg\":\"EdDSA\",\"kid\":\"%s%s%s\"}", NULL, M_NONE, false },
	{ "crit", "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "jwk embedded", "{\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "jku", "{\"alg\":\"EdDSA\",\"jku\":\"https://evil.example/jwks\",\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "x5u", "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"x5u\":\"https://evil.example/c\"}", NULL, M_NONE, false },
	{ "x5c", "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"x5c\":[\"MIIB\"]}", NULL, M_NONE, false },
	{ "b64 false", "{\"alg\":\"EdDSA\",\"b64\":false,\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "typ not JWT", "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JOSE\"}", NULL, M_NONE, false },
	{ "duplicate alg", "{\"alg\":\"EdDSA\",\"alg\":\"none\",\"kid\":\"%s\"}", NULL, M_NONE, false },
	{ "header array", "[\"EdDSA\",\"%s\"]", NULL, M_NONE, false },
	{ "header not JSON", "{\"alg\":\"EdDSA\",\"kid\":\"%s\"", NULL, M_NONE, false },
	{ "header trailing data", "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}x", NULL, M_NONE, false },
	{ "payload array", NULL, "[1,2,3]", M_NONE, false },
	{ "payload string", NULL, "\"lockbox\"", M_NONE, false },
	{ "payload not JSON", NULL, "{\"iss\":", M_NONE, false },
	{ "payload duplicate key", NULL, "{\"tenant\":\"a\",\"tenant\":\"b\"}", M_NONE, false },
	{ "payload NUL escape", NULL, "{\"sub\":\"a\\u0000b\"}", M_NONE, false },
	{ "two parts", NULL, NULL, M_TWO, false },
	{ "four parts", NULL, NULL, M_FOUR, false },
	{ "padding", NULL, NULL, M_PAD, false },
	{ "leading space", NULL, NULL, M_SP_LEAD, false },
	{ "space inside", NULL, NULL, M_SP_IN, false },
	{ "trailing newline", NULL, NULL, M_NL_TRAIL, false },
	{ "non-canonical base64", NULL, NULL, M_NONCANON, false },
	{ "empty signature", NULL, NULL, M_EMPTY_SIG, false },
	{ "empty header", NULL, NULL, M_EMPTY_HDR, false },
	{ "standard base64 '+'", NULL, NULL, M_PLUS, false },
	{ "NUL byte inside", NULL, NULL, M_NUL, false },
	{ "63-byte signature", NULL, NULL, M_SHORT_SIG, false },
	{ "empty token", NULL, NULL, M_EMPTY, false },
	{ "signed by another keyring", NULL, NULL, M_NONE, true },
	{ "another keyring, our kid", "{\"alg\":\"EdDSA\",\"kid\":\"%1$s\",\"typ\":\"JWT\"}", NULL, M_NONE, true },
};

static void
test_jws_refuses_tampered(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1], kid2[LB_KID_MAX + 1], hdr[512];

	open_ring(f);
	assert_int_equal(keys_open(f->dir2, T0, &f->kr2), 0);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	assert_int_equal(keys_current_kid(f->kr2, kid2), 0);
	for (size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++) {
		const struct bad *b = &bad_tokens[i];
		struct lb_keyring *signer = b->other_ring ? f->kr2 : f->kr;
		const char *signer_kid = b->other_ring ? kid2 : kid;
		json_t *c = NULL;
		char *tok;
		int rc;

		if (b->hdr == NULL) {
			snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
			    signer_kid);
		} else {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
			snprintf(hdr, sizeof(hdr), b->hdr, kid, kid, kid);
#pragma GCC diagnostic pop
		}
		tok = make_signed(signer, signer_kid, hdr, b->pay ? b->pay : good_payload);
		mutate(&tok, b->m);
		/* NUL-inside passes the full length, past the NUL. */
		size_t len = b->m == M_NUL ? strlen(tok) + 1 + strlen(tok + strlen(tok) + 1)
		    : strlen(tok);
		rc = jws_verify(f->kr, tok, len, T0, &c);
		if (i == 0) {
			assert_int_equal(rc, 0);
			json_decref(c);
		} else {
			if (rc != LB_ERR_UNAUTHENTICATED)
				fail_msg("accepted: %s", b->name);
			assert_null(c);
		}
		free(tok);
	}
}

static void
test_jws_refuses_long_and_null(void **state)
{
	struct fx *f = *state;
	char kid[LB_KID_MAX + 1], hdr[128];
	char *pay, *tok;
	json_t *c = NULL;
	size_t n = LB_JWS_MAX;

	open_ring(f);
	assert_int_equal(keys_current_kid(f->kr, kid), 0);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	pay = malloc(n + 16);
	assert_non_null(pay);
	memcpy(pay, "{\"x\":\"", 6);
	memset(pay + 6, 'a', n - 6);
	memcpy(pay + n, "\"}", 3);
	tok = make_signed(f->kr, kid, hdr, pay);
	assert_true(strlen(tok) > LB_JWS_MAX);
	assert_int_equal(jws_verify(f->kr, tok, strlen(tok), T0, &c), LB_ERR_UNAUTHENTICATED);
	assert_null(c);
	free(tok);

	/* Just under the limit is fine: shrink the payload until it fits. */
	size_t plen = n;
	for (;;) {
		memcpy(pay + plen - 2, "\"}", 3);
		tok = make_signed(f->kr, kid, hdr, pay);
		if (strlen(tok) <= LB_JWS_MAX)
			break;
		free(tok);
		plen--;
	}
	assert_int_equal(jws_verify(f->kr, tok, strlen(tok), T0, &c), 0);
	json_decref(c);
	c = NULL;
	/* jws_sign refuses to make a token over the limit. */
	pay[7000] = '\0';
	json_t *big = json_pack("{s:s}", "x", pay + 6);
	char *out = NULL;
	assert_non_null(big);
	assert_int_equal(jws_sign(f->kr, big, &out), LB_ERR_TOO_LARGE);
	assert_null(out);
	json_decref(big);
	free(tok);
	free(pay);

	assert_int_equal(jws_verify(f->kr, NULL, 10, T0, &c), LB_ERR_UNAUTHENTICATED);
	assert_int_equal(jws_verify(f->kr, "a.b.c", 0, T0, &c), LB_ERR_UNAUTHENTICATED);
	assert_null(c);
}

/* ----------------------------------------------------------------- claims */

static void
test_claims_good(void **state)
{
	struct lb_grant_claims g = good_claims(), back;
	json_t *c = grant_claims_json(&g);
	const char *names[] = { "iss", "sub", "tenant", "rid", "wl", "res", "nbf",
		"iat", "exp", "jti" };

	(void)state;
	assert_non_null(c);
	assert_int_equal(json_object_size(c), 10);
	for (size_t i = 0; i < 10; i++)
		assert_non_null(json_object_get(c, names[i]));
	assert_string_equal(json_string_value(json_object_get(c, "iss")), "lockbox");
	assert_true(json_is_integer(json_object_get(c, "exp")));
	memset(&back, 0x55, sizeof(back));
	assert_int_equal(grant_claims_parse(c, &back), 0);
	assert_string_equal(back.sub, g.sub);
	assert_int_equal(back.nresources, 2);
	json_decref(c);

	/* nbf == exp is allowed (an empty window is still well formed). */
	g.nbf_s = g.exp_s;
	c = grant_claims_json(&g);
	assert_non_null(c);
	assert_int_equal(grant_claims_parse(c, &back), 0);
	json_decref(c);

	/* Invalid structs are not turned into claims. */
	g = good_claims();
	g.nresources = 0;
	assert_null(grant_claims_json(&g));
	g = good_claims();
	snprintf(g.tenant, sizeof(g.tenant), "Contoso");
	assert_null(grant_claims_json(&g));
	g = good_claims();
	g.nbf_s = g.exp_s + 1;
	assert_null(grant_claims_json(&g));
	assert_null(grant_claims_json(NULL));
}

struct bad_claim {
	const char *name;
	const char *key;        /* the claim to change (or delete) */
	const char *json;       /* its new value as JSON text; NULL deletes */
	int rc;
};

static const struct bad_claim bad_claims[] = {
	{ "iss missing", "iss", NULL, LB_ERR_MISSING_FIELD },
	{ "sub missing", "sub", NULL, LB_ERR_MISSING_FIELD },
	{ "tenant missing", "tenant", NULL, LB_ERR_MISSING_FIELD },
	{ "rid missing", "rid", NULL, LB_ERR_MISSING_FIELD },
	{ "wl missing", "wl", NULL, LB_ERR_MISSING_FIELD },
	{ "res missing", "res", NULL, LB_ERR_MISSING_FIELD },
	{ "nbf missing", "nbf", NULL, LB_ERR_MISSING_FIELD },
	{ "iat missing", "iat", NULL, LB_ERR_MISSING_FIELD },
	{ "exp missing", "exp", NULL, LB_ERR_MISSING_FIELD },
	{ "jti missing", "jti", NULL, LB_ERR_MISSING_FIELD },
	{ "iss other", "iss", "\"lockbox2\"", LB_ERR_INVALID_VALUE },
	{ "iss other short", "iss", "\"lock\"", LB_ERR_INVALID_VALUE },
	{ "iss number", "iss", "1", LB_ERR_INVALID_FIELD },
	{ "sub number", "sub", "42", LB_ERR_INVALID_FIELD },
	{ "sub invalid", "sub", "\"eve smith\"", LB_ERR_INVALID_VALUE },
	{ "sub empty", "sub", "\"\"", LB_ERR_INVALID_VALUE },
	{ "sub too long", "sub", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    LB_ERR_FIELD_TOO_LONG },
	{ "tenant uppercase", "tenant", "\"Contoso\"", LB_ERR_INVALID_VALUE },
	{ "tenant provider", "tenant", "\"provider\"", LB_ERR_INVALID_VALUE },
	{ "tenant null", "tenant", "null", LB_ERR_INVALID_FIELD },
	{ "rid too long", "rid", "\"req_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", LB_ERR_FIELD_TOO_LONG },
	{ "rid invalid", "rid", "\"req/1\"", LB_ERR_INVALID_VALUE },
	{ "wl invalid", "wl", "\"Exchange\"", LB_ERR_INVALID_VALUE },
	{ "wl array", "wl", "[\"exchange\"]", LB_ERR_INVALID_FIELD },
	{ "res string", "res", "\"mailbox/alice\"", LB_ERR_INVALID_FIELD },
	{ "res empty", "res", "[]", LB_ERR_TOO_MANY_ITEMS },
	{ "res element number", "res", "[\"a\",1]", LB_ERR_INVALID_FIELD },
	{ "res element dotdot", "res", "[\"mailbox/../admin\"]", LB_ERR_INVALID_VALUE },
	{ "res element leading slash", "res", "[\"/mailbox\"]", LB_ERR_INVALID_VALUE },
	{ "res element empty", "res", "[\"\"]", LB_ERR_INVALID_VALUE },
	{ "res 33 elements", "res", "[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
	    "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
	    "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]", LB_ERR_TOO_MANY_ITEMS },
	{ "nbf real", "nbf", "1767225600.0", LB_ERR_INVALID_FIELD },
	{ "nbf string", "nbf", "\"1767225600\"", LB_ERR_INVALID_FIELD },
	{ "nbf negative", "nbf", "-1", LB_ERR_INVALID_VALUE },
	{ "nbf after exp", "nbf", "1767240001", LB_ERR_INVALID_VALUE },
	{ "exp before nbf", "exp", "1767225599", LB_ERR_INVALID_VALUE },
	{ "exp too far", "exp", "253402300800", LB_ERR_INVALID_VALUE },
	{ "iat bool", "iat", "true", LB_ERR_INVALID_FIELD },
	{ "jti invalid", "jti", "\"-x\"", LB_ERR_INVALID_VALUE },
	{ "unknown claim", "admin", "true", LB_ERR_UNKNOWN_FIELD },
	{ "aud claim", "aud", "\"lockbox\"", LB_ERR_UNKNOWN_FIELD },
};

static void
test_claims_bad(void **state)
{
	struct lb_grant_claims g = good_claims(), out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_claims) / sizeof(bad_claims[0]); i++) {
		const struct bad_claim *b = &bad_claims[i];
		json_t *c = grant_claims_json(&g);

		assert_non_null(c);
		if (b->json == NULL) {
			assert_int_equal(json_object_del(c, b->key), 0);
		} else {
			json_t *v = json_loads(b->json, JSON_DECODE_ANY, NULL);
			assert_non_null(v);
			assert_int_equal(json_object_set_new(c, b->key, v), 0);
		}
		memset(&out, 0x5a, sizeof(out));
		int rc = grant_claims_parse(c, &out);
		if (rc != b->rc)
			fail_msg("%s: got %d, want %d", b->name, rc, b->rc);
		/* Output untouched on failure. */
		assert_int_equal(((unsigned char *)&out)[0], 0x5a);
		assert_int_equal(((unsigned char *)&out)[sizeof(out) - 1], 0x5a);
		json_decref(c);
	}
	json_t *arr = json_array();
	assert_int_not_equal(grant_claims_parse(arr, &out), 0);
	assert_int_not_equal(grant_claims_parse(NULL, &out), 0);
	json_decref(arr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keys_created_with_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_reopen_same_kid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_rotate_and_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_rotate_prunes_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_refuse_insecure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_refuse_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_jwks_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_verify_while_rotating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jws_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jws_refuses_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jws_refuses_long_and_null, setup, teardown),
		cmocka_unit_test(test_claims_good),
		cmocka_unit_test(test_claims_bad),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
