/*
 * The audit trail: one record per request, decision, expiry, setting
 * change, sign-in and notification (SPEC 5), appended to a per-tenant hash
 * chain inside the same transaction as the change it records.
 */
#ifndef LOCKBOX_AUDIT_H
#define LOCKBOX_AUDIT_H

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"

#define LB_RT_REQUEST   "CustomerLockboxRequest"
#define LB_RT_SETTINGS  "CustomerLockboxSettings"
#define LB_RT_ADMIN     "CustomerLockboxAdmin"
#define LB_RT_ACCESS    "CustomerLockboxAccess"
#define LB_RT_SIGNIN    "CustomerLockboxSignIn"

/* What happened; audit_append() makes the record. */
struct lb_audit_event {
	const char *tenant;             /* "" or NULL: the provider chain */
	const char *record_type;
	const char *operation;
	const struct lb_actor *actor;
	const char *object_id;
	const char *result;             /* NULL: "success" */
	const char *client_ip;          /* NULL: "" */
	json_t *details;                /* borrowed; NULL: {} */
	int64_t time_ms;
};

/*
 * Appends the event to its chain in `tx`: next seq, prev_hash = head,
 * hash = SHA-256 of the canonical form.  Any failure is returned and the
 * caller rolls back the change it was recording (fail closed).
 */
int audit_append(struct lb_tx *tx, const struct lb_audit_event *ev);

/*
 * The head of one chain as a batch writer last left it, so appending many
 * records to the same chain in one transaction reads the head once.
 */
struct lb_audit_head {
	bool valid;
	char chain[LB_ID_MAX + 1];
	int64_t seq;
	char hash[65];
};

/*
 * As audit_append, with the details already as canonical JSON text (compact,
 * sorted keys, ASCII).  `head`, when not NULL, caches the chain's head
 * across calls in the same transaction; a record of another chain
 * replaces it.  On failure the caller must roll back (the cache is then
 * stale and must be reset).
 */
int audit_append_text(struct lb_tx *tx, const struct lb_audit_event *ev, const char *details,
    struct lb_audit_head *head);

/*
 * The canonical form of a record (every field but `hash`) as RFC 8785
 * (JCS): the bytes the hash covers.
 * Returns a malloc'd string or NULL.  docs/audit-format.md has the layout.
 */
char *audit_canonical(const struct lb_audit_rec *rec);
/*
 * The canonical text of a JSON value: RFC 8785 (JCS) for the values Lockbox
 * records hold (objects, arrays, strings, integers, booleans, null): compact,
 * keys sorted, UTF-8, minimal escapes.  malloc'd, or NULL.
 */
char *audit_json_canonical(json_t *o);
/* The record as the API shows it (with hash). */
json_t *audit_rec_json(const struct lb_audit_rec *rec);

/* ------------------------------------------------------------ checkpoint.c */

struct lb_keyring;

/* The names of every chain that has records, read in one snapshot. */
struct lb_audit_chains {
	char (*v)[LB_ID_MAX + 1];
	size_t n, cap;
};
/* Fills *c (free c->v afterwards, even on error). */
int audit_chains_collect(struct lb_store *st, struct lb_audit_chains *c);

/*
 * Signs a checkpoint of `chain` at its current head in `tx` (a write
 * transaction) and stores it; when the head already has one, returns that
 * one.  LB_ERR_NOT_FOUND for an empty chain.  *out written on success.
 */
int audit_checkpoint_head(struct lb_tx *tx, struct lb_keyring *kr, const char *chain,
    int64_t now_ms, struct lb_checkpoint *out);
/* Checkpoints every chain whose head has none yet; returns how many. */
int audit_checkpoint_all(struct lb_store *st, struct lb_keyring *kr, int64_t now_ms);
/* {"tenant", "seq", "head_hash", "time", "kid", "sig", "anchor"} */
json_t *audit_checkpoint_json(const struct lb_checkpoint *cp);

/* ------------------------------------------------------------- retention.c */

/*
 * Purges, for every tenant, records older than its audit_retention_days
 * (90 by default, up to 3650) and, for the provider chain, older than
 * LB_RETENTION_DEFAULT days: first an anchor checkpoint at the last record
 * purged, then the delete, then a PurgeAuditRecords record, all in one
 * transaction per chain.  Returns the number of records purged.
 */
int audit_retention_run(struct lb_store *st, struct lb_keyring *kr, int64_t now_ms);

#endif
