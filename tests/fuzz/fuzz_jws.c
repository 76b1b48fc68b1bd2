/*
 * libFuzzer harness for grant tokens: jws_verify and grant_claims_parse
 * (src/authz/jws.c, src/authz/grant.c), the parsers that read what an
 * engineer's client sends to the access check.
 *
 * The first input byte picks the mode:
 *   0x01  build a grant's claims from the rest of the input, sign them and
 *         verify them back: must succeed and give the same claims;
 *   0x02  parse the rest as JSON; if it is an object that fits, sign it and
 *         verify it back: must succeed and give an equal object;
 *   else  the whole input is a token: jws_verify, and grant_claims_parse
 *         on what it accepts.
 * A broken round trip abort()s, so libFuzzer reports it as a crash.
 * The key ring is made on the first call in a mkdtemp directory, removed
 * at exit.
 */
#define _XOPEN_SOURCE 700       /* nftw() */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz/authz.h"

#define NOW_MS 1767225600000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lb_keyring *ring;
static char dir[64];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	keys_close(ring);
	ring = NULL;
	if (dir[0] != '\0')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void
init_once(void)
{
	if (ring != NULL)
		return;
	snprintf(dir, sizeof(dir), "/tmp/fuzz_jws.XXXXXX");
	if (mkdtemp(dir) == NULL || keys_open(dir, NOW_MS, &ring) != 0)
		abort();
	atexit(cleanup);
}

/* Input bytes, consumed from the front. */
struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t
byte(struct in *in)
{
	uint8_t b = 0;

	if (in->n > 0) {
		b = *in->p++;
		in->n--;
	}
	return b;
}

/* A string of up to max characters drawn from alpha (NUL-terminated). */
static void
word(struct in *in, const char *alpha, size_t max, char *dst)
{
	size_t len = byte(in) % (max + 1), na = strlen(alpha);

	for (size_t i = 0; i < len; i++)
		dst[i] = alpha[byte(in) % na];
	dst[len] = '\0';
}

static void
claims_round_trip(struct in *in)
{
	static const char id[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-";
	static const char ten[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	static const char wl[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
	static const char res[] = "abcdefgh/ .-_~XYZ019/";
	struct lb_grant_claims g, back;
	json_t *c = NULL, *got = NULL;
	char *tok = NULL;

	memset(&g, 0, sizeof(g));
	word(in, id, LB_ID_MAX, g.sub);
	word(in, ten, 70, g.tenant);
	word(in, id, LB_REQID_MAX, g.rid);
	word(in, wl, LB_WORKLOAD_MAX, g.workload);
	g.nresources = byte(in) % (LB_RESOURCES_MAX + 1);
	for (size_t i = 0; i < g.nresources; i++)
		word(in, res, 200, g.resources[i]);
	g.nbf_s = (int64_t)byte(in) << 24;
	g.nbf_s |= (int64_t)byte(in) << 8;
	g.iat_s = g.nbf_s;
	g.exp_s = g.nbf_s + (int64_t)byte(in) * 60;
	word(in, id, LB_REQID_MAX, g.jti);
	if ((c = grant_claims_json(&g)) == NULL)
		return;         /* not a valid grant: nothing to sign */
	if (jws_sign(ring, c, &tok) != 0)
		abort();
	if (jws_verify(ring, tok, strlen(tok), NOW_MS, &got) != 0 || !json_equal(got, c))
		abort();
	if (grant_claims_parse(got, &back) != 0)
		abort();
	if (strcmp(back.sub, g.sub) != 0 || strcmp(back.tenant, g.tenant) != 0 ||
	    strcmp(back.rid, g.rid) != 0 || strcmp(back.workload, g.workload) != 0 ||
	    strcmp(back.jti, g.jti) != 0 || back.nresources != g.nresources ||
	    back.nbf_s != g.nbf_s || back.exp_s != g.exp_s || back.iat_s != g.iat_s)
		abort();
	for (size_t i = 0; i < g.nresources; i++)
		if (strcmp(back.resources[i], g.resources[i]) != 0)
			abort();
	json_decref(c);
	json_decref(got);
	free(tok);
}

static void
json_round_trip(struct in *in)
{
	json_t *c = json_loadb((const char *)in->p, in->n, JSON_REJECT_DUPLICATES, NULL);
	json_t *got = NULL;
	char *tok = NULL;
	int rc;

	if (c == NULL)
		return;
	if (!json_is_object(c)) {
		if (jws_sign(ring, c, &tok) == 0)
			abort();
		json_decref(c);
		return;
	}
	rc = jws_sign(ring, c, &tok);
	if (rc == LB_ERR_TOO_LARGE) {
		json_decref(c);
		return;
	}
	if (rc != 0)
		abort();
	if (strlen(tok) > LB_JWS_MAX)
		abort();
	if (jws_verify(ring, tok, strlen(tok), NOW_MS, &got) != 0 || !json_equal(got, c))
		abort();
	json_decref(c);
	json_decref(got);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data + 1, size > 0 ? size - 1 : 0 };
	struct lb_grant_claims g;
	json_t *c = NULL;

	init_once();
	if (size > 0 && data[0] == 0x01) {
		claims_round_trip(&in);
		return 0;
	}
	if (size > 0 && data[0] == 0x02) {
		json_round_trip(&in);
		return 0;
	}
	if (jws_verify(ring, (const char *)data, size, NOW_MS, &c) == 0) {
		if (c == NULL)
			abort();
		grant_claims_parse(c, &g);
		json_decref(c);
	} else if (c != NULL) {
		abort();
	}
	return 0;
}
