/*
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): the form of
 * Lockbox's grants.
 *
 * Signing writes one header only, {"alg":"EdDSA","kid":KID,"typ":"JWT"}.
 * Verifying accepts that shape and nothing looser, because every freedom a
 * verifier allows is one an attacker gets to try: exactly three non-empty
 * parts of base64url without padding (canonical: no stray bits), a header
 * that is a JSON object with no duplicate member and only the members
 * alg ("EdDSA", nothing else: not "none", not an HMAC), kid (a key of the
 * ring, live at now_ms) and typ ("JWT" if present) — so "crit", "jku",
 * "jwk", "x5u", "x5c", "b64" and the rest are refused, and no key is ever
 * fetched or taken from the token itself.  The signature must be 64 bytes
 * and is checked over the bytes "header.payload" as received, before the
 * payload is parsed at all; the payload must then be a JSON object without
 * duplicate members.  Every failure is LB_ERR_UNAUTHENTICATED, with no
 * reason given to the caller: a forger learns nothing from the answer.
 * The token is never read past `len` and never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "authz/authz.h"


#define B64V    sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define SIG_LEN crypto_sign_BYTES
#define SIG_B64 86      /* base64url characters of 64 bytes, no padding */

static bool
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Decodes the base64url text s[0..len) into a malloc'd buffer, refusing
 * anything but canonical unpadded base64url.  libsodium also refuses a
 * last character with non-zero unused bits, so each byte string has one
 * encoding only.
 */
static int
b64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
	unsigned char *buf = NULL;
	const char *end = NULL;
	size_t n = 0;
	int rc = LB_ERR_UNAUTHENTICATED;

	if (len == 0 || len % 4 == 1)
		goto out;
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if (sodium_base642bin(buf, len / 4 * 3 + 3, s, len, NULL, &n, &end, B64V) != 0 ||
	    end != s + len)
		goto out;
	*out = buf;
	*out_len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* base64url (no padding) of bin, written at dst; returns characters written. */
static size_t
b64_encode(char *dst, size_t cap, const void *bin, size_t len)
{
	sodium_bin2base64(dst, cap, bin, len, B64V);
	return strlen(dst);
}

/* Checks the decoded header and copies its kid. */
static int
header_check(const unsigned char *buf, size_t len, char kid[LB_KID_MAX + 1])
{
	json_t *h = NULL;
	const char *k, *name;
	json_t *v;
	int rc = LB_ERR_UNAUTHENTICATED;
	bool have_alg = false, have_kid = false;

	if ((h = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(h))
		goto out;
	json_object_foreach(h, name, v) {
		if (strcmp(name, "alg") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "EdDSA") != 0 ||
			    json_string_length(v) != 5)
				goto out;
			have_alg = true;
		} else if (strcmp(name, "kid") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > LB_KID_MAX)
				goto out;
			k = json_string_value(v);
			if (strlen(k) != json_string_length(v))
				goto out;
			memcpy(kid, k, json_string_length(v) + 1);
			have_kid = true;
		} else if (strcmp(name, "typ") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0 ||
			    json_string_length(v) != 3)
				goto out;
		} else {
			goto out;       /* crit, jku, jwk, x5u, x5c, b64, ...: refused */
		}
	}
	if (have_alg && have_kid)
		rc = 0;
out:
	json_decref(h);
	return rc;
}

int
jws_sign(struct lb_keyring *kr, json_t *claims, char **out)
{
	char kid[LB_KID_MAX + 1];
	char *hdr = NULL, *pay = NULL, *tok = NULL;
	json_t *h = NULL;
	unsigned char sig[SIG_LEN];
	size_t hlen, plen, cap, o;
	int rc;

	if (kr == NULL || out == NULL || !json_is_object(claims))
		return LB_ERR_INVALID_VALUE;
	if ((rc = keys_current_kid(kr, kid)) != 0)
		goto out;
	rc = LB_ERR_NOMEM;
	if ((h = json_pack("{s:s, s:s, s:s}", "alg", "EdDSA", "kid", kid, "typ", "JWT")) == NULL ||
	    (hdr = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (pay = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	hlen = strlen(hdr);
	plen = strlen(pay);
	if (hlen > LB_JWS_MAX || plen > LB_JWS_MAX) {
		rc = LB_ERR_TOO_LARGE;
		goto out;
	}
	cap = sodium_base64_ENCODED_LEN(hlen, B64V) + sodium_base64_ENCODED_LEN(plen, B64V) +
	    sodium_base64_ENCODED_LEN(SIG_LEN, B64V) + 2;
	if ((tok = malloc(cap)) == NULL)
		goto out;
	o = b64_encode(tok, cap, hdr, hlen);
	tok[o++] = '.';
	o += b64_encode(tok + o, cap - o, pay, plen);
	if ((rc = keys_sign_kid(kr, kid, (const unsigned char *)tok, o, sig)) != 0)
		goto out;
	tok[o++] = '.';
	o += b64_encode(tok + o, cap - o, sig, SIG_LEN);
	if (o > LB_JWS_MAX) {
		rc = LB_ERR_TOO_LARGE;
		goto out;
	}
	*out = tok;
	tok = NULL;
	rc = 0;
out:
	json_decref(h);
	free(hdr);
	free(pay);
	free(tok);
	return rc;
}

int
jws_verify(struct lb_keyring *kr, const char *token, size_t len, int64_t now_ms,
    json_t **claims)
{
	char kid[LB_KID_MAX + 1];
	size_t dots[2], ndots = 0, n = 0;
	unsigned char *hdr = NULL, *pay = NULL, *sig = NULL;
	json_t *c = NULL;
	int rc = LB_ERR_UNAUTHENTICATED;

	if (kr == NULL || token == NULL || claims == NULL || len == 0 || len > LB_JWS_MAX)
		goto out;
	/* Shape first: three non-empty parts of the base64url alphabet. */
	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2)
				goto out;
			dots[ndots++] = i;
		} else if (!b64url_char(token[i])) {
			goto out;
		}
	}
	if (ndots != 2 || dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == len)
		goto out;
	if (len - dots[1] - 1 != SIG_B64)
		goto out;
	if ((rc = b64_decode(token, dots[0], &hdr, &n)) != 0)
		goto out;
	if ((rc = header_check(hdr, n, kid)) != 0)
		goto out;
	if ((rc = b64_decode(token + dots[1] + 1, SIG_B64, &sig, &n)) != 0)
		goto out;
	rc = LB_ERR_UNAUTHENTICATED;
	if (n != SIG_LEN)
		goto out;
	if ((rc = keys_verify_kid(kr, kid, now_ms, (const unsigned char *)token,
	    dots[1], sig)) != 0)
		goto out;
	/* Only a signed payload is parsed. */
	if ((rc = b64_decode(token + dots[0] + 1, dots[1] - dots[0] - 1, &pay, &n)) != 0)
		goto out;
	rc = LB_ERR_UNAUTHENTICATED;
	if ((c = json_loadb((const char *)pay, n, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(c))
		goto out;
	*claims = c;
	c = NULL;
	rc = 0;
out:
	json_decref(c);
	free(hdr);
	free(pay);
	free(sig);
	/* Whatever went wrong (out of memory too), the token is not accepted. */
	return rc == 0 ? 0 : LB_ERR_UNAUTHENTICATED;
}
