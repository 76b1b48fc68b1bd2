/*
 * libFuzzer harness for the audit verifier (src/audit/verify.c), the
 * parser that reads an export an auditor was handed: anything may be in
 * it.  The input is split on '\n' and fed to verify_line line by line,
 * then verify_finish; the key callback knows one fixed test key, "fuzz-key"
 * (its secret seed is all 0x42, so seeds can carry valid signatures).
 *
 * Beyond "no crash, no leak", the result must be consistent: ok exactly
 * when the problem is LB_VERIFY_OK, a known problem name, a non-empty
 * terminated reason, no bad seq or line when ok, sane counts.
 * Inconsistent results abort(), so libFuzzer reports them.
 *
 * Linked with src/audit/verify.c in addition to the usual core, authz and
 * sys sources (FUZZ_LIBSRC in the Makefile).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char pk[crypto_sign_PUBLICKEYBYTES];
static int ready;

static int
key(void *ctx, const char *kid, unsigned char out[32])
{
	(void)ctx;
	if (strcmp(kid, "fuzz-key") != 0)
		return -1;
	memcpy(out, pk, 32);
	return 0;
}

static void
init_once(void)
{
	unsigned char seed[crypto_sign_SEEDBYTES], sk[crypto_sign_SECRETKEYBYTES];

	if (ready)
		return;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct lb_verify_result r;
	struct lb_verify *v = NULL;

	init_once();
	if (verify_new(key, NULL, &v) != 0)
		return 0;
	while (p <= end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (verify_line(v, p, (size_t)(nl - p)) != 0)
			break;
		p = nl + 1;
	}
	verify_finish(v, &r);
	if (r.ok != (r.problem == LB_VERIFY_OK))
		abort();
	if (strcmp(lb_verify_problem_name(r.problem), "unknown") == 0)
		abort();
	if (memchr(r.reason, '\0', sizeof(r.reason)) == NULL || r.reason[0] == '\0')
		abort();
	if (r.ok && (r.bad_seq != -1 || r.bad_line != -1))
		abort();
	if (r.records < 0 || r.checkpoints < 0 || r.first_seq > r.last_seq)
		abort();
	verify_free(v);
	return 0;
}
