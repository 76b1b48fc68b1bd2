/*
 * Verifying a chain: the same code checks the trail on the server
 * (GET .../audit/verify) and an export offline (lockbox audit verify
 * --file), with nothing but the public keys.  It depends on jansson and
 * libsodium only, never on storage, so the CLI links it as it is.
 *
 * The export format (docs/audit-format.md) is JSON Lines:
 *   {"export": {...}}                      one header line first
 *   {"checkpoint": {...}}                  every checkpoint, ascending seq
 *   {...record with "hash"...}             every record, ascending seq
 */
#ifndef LOCKBOX_AUDIT_VERIFY_H
#define LOCKBOX_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Longest line an export may hold (a record's details are bounded). */
#define LB_VERIFY_LINE_MAX (1024 * 1024 + 4096)

/* What went wrong first. */
enum lb_verify_problem {
	LB_VERIFY_OK = 0,
	LB_VERIFY_MALFORMED,            /* a line is not a record, checkpoint or header */
	LB_VERIFY_EDITED,               /* a record's hash does not match its content */
	LB_VERIFY_BROKEN_LINK,          /* prev_hash is not the previous record's hash */
	LB_VERIFY_MISSING,              /* a gap in seq */
	LB_VERIFY_REORDERED,            /* seq goes back or repeats */
	LB_VERIFY_BAD_SIGNATURE,        /* a checkpoint's signature does not verify */
	LB_VERIFY_UNKNOWN_KEY,          /* a checkpoint names a key we do not have */
	LB_VERIFY_CHECKPOINT_MISMATCH,  /* a record's hash differs from its checkpoint's */
	LB_VERIFY_TRUNCATED,            /* a checkpoint covers records that are absent */
	LB_VERIFY_UNANCHORED,           /* the chain starts after seq 1 with no anchor,
	                                   or its last record has no checkpoint */
	LB_VERIFY_WRONG_CHAIN,          /* a record or checkpoint of another chain */
};
const char *lb_verify_problem_name(enum lb_verify_problem p);

struct lb_verify_result {
	bool ok;
	int64_t records;
	int64_t checkpoints;
	int64_t first_seq, last_seq;
	enum lb_verify_problem problem;
	int64_t bad_seq;                /* seq of the first bad record, or -1 */
	int64_t bad_line;               /* 1-based line of the export, or -1 */
	char reason[256];               /* one sentence for people */
};

/* Finds the Ed25519 public key of `kid`; 0 when found. */
typedef int (*lb_verify_key_fn)(void *ctx, const char *kid, unsigned char pk[32]);

struct lb_verify;

int verify_new(lb_verify_key_fn key, void *key_ctx, struct lb_verify **out);
void verify_free(struct lb_verify *v);          /* NULL is fine */
/* Feeds one JSONL line (without its newline); stops at the first problem. */
int verify_line(struct lb_verify *v, const char *line, size_t len);
/* Feeds already-parsed objects (the server's path). */
int verify_checkpoint(struct lb_verify *v, json_t *cp);
int verify_record(struct lb_verify *v, json_t *rec);
/* Ends the stream and reports. */
void verify_finish(struct lb_verify *v, struct lb_verify_result *out);

/*
 * The bytes a checkpoint's signature covers: the RFC 8785 canonical JSON
 * of {"type":"lockbox.checkpoint.v1","tenant":T-or-null,"seq":N,
 * "head_hash":H,"time":RFC3339}.  malloc'd.
 */
char *verify_checkpoint_message(const char *chain, int64_t seq, const char *head_hash,
    int64_t time_ms);

/*
 * RFC 8785 (JCS) text of a JSON value holding no reals: compact, keys
 * sorted, UTF-8, minimal escapes with lowercase hex.  malloc'd.
 */
char *verify_canonical(json_t *v);

#endif
