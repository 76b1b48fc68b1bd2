/*
 * Random identifiers and API tokens, from libsodium's CSPRNG.
 *
 * An API token is 32 random bytes shown once to its owner as "lbt_" and 43
 * base64url characters; only its SHA-256 is stored.  A lookup finds the row
 * by that hash and compares it again with sodium_memcmp, so no comparison
 * of secret material depends on where bytes first differ.
 */
#include <string.h>

#include <sodium.h>

#include "sys/sys.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void
ids_new(const char *prefix, char *buf, size_t len)
{
	unsigned char raw[16];
	size_t o, plen = strlen(prefix);

	randombytes_buf(raw, sizeof(raw));
	if (len < plen + 2 + 26 + 1) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, prefix, plen);
	buf[plen] = '_';
	o = plen + 1;
	/* 128 bits in 26 base32 digits (the last carries 3 bits). */
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			buf[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		buf[o++] = b32[(acc << (5 - bits)) & 31];
	buf[o] = '\0';
	sodium_memzero(raw, sizeof(raw));
}

void
token_generate(char *out, size_t len)
{
	unsigned char raw[LB_TOKEN_BYTES];
	size_t plen = strlen(LB_TOKEN_PREFIX);

	if (len < LB_TOKEN_TEXT_MAX + 1) {
		if (len > 0)
			out[0] = '\0';
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, LB_TOKEN_PREFIX, plen);
	sodium_bin2base64(out + plen, len - plen, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

bool
token_well_formed(const char *s)
{
	size_t plen = strlen(LB_TOKEN_PREFIX);

	if (strncmp(s, LB_TOKEN_PREFIX, plen) != 0)
		return false;
	s += plen;
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (n > 43)
			return false;
	}
	return n == 43;
}

void
token_hash(const char *token, uint8_t out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}
