/*
 * What the two halves of the verifier share: verify.c (the checks and the
 * full parse) and verify_fast.c (the strict reader that hashes a canonical
 * record line where it lies).  Private to src/audit/verify*.c.
 */
#ifndef LOCKBOX_AUDIT_VERIFY_IMPL_H
#define LOCKBOX_AUDIT_VERIFY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define PURGE_OPERATION "PurgeAuditRecords"
#define SEQ_MAX (INT64_MAX - 1)

/* What the fast reader read from a record line it accepted. */
struct fast_rec {
	int64_t seq;
	char chain[LB_ID_MAX + 1];
	unsigned char prev[32], hash[32];
};

/*
 * Reads a record line with the strict grammar of verify_fast.c and checks
 * its hash over the bytes as they stand.  true, with *f, only for a line
 * the full parse would accept with the same values and hash; false (and *f
 * untouched) sends the line to the full parse.
 */
bool verify_fast_record(const char *line, size_t len, struct fast_rec *f);
/* The first occurrence of needle (m > 0 bytes) in hay, or NULL. */
const char *verify_find(const char *hay, size_t n, const char *needle, size_t m);

#endif
