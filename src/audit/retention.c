/*
 * Audit retention: removing records past a tenant's retention period from
 * the start of its chain, in a way the remaining chain still proves.
 *
 * For each chain, in one write transaction: find L, the newest record
 * older than the retention period (audit_retention_days of the tenant,
 * LB_RETENTION_DEFAULT for the provider chain ""); sign an anchor
 * checkpoint at L over that record's hash; delete records 1..L; append a
 * PurgeAuditRecords record saying so (through_seq L, how many, the anchor
 * hash, the retention in force); sign a checkpoint of the new head.  The
 * first remaining record's prev_hash is the anchor's head_hash, so the
 * chain verifies from the anchor, and the purge record -- hash-chained and
 * covered by a signed checkpoint -- shows the start was cut on purpose.
 *
 * The head is never purged: L is at most head - 1.  A chain emptied
 * entirely would restart at seq 1 with a zero prev_hash and lose its link
 * to every checkpoint already signed, and the purge record itself needs a
 * record to follow.  So at least the newest record before the purge, and
 * the purge record, always remain.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/verify.h"
#include "authz/authz.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
#define PURGE_RECORD_TYPE "CustomerLockboxAudit"
#define PURGE_OPERATION "PurgeAuditRecords"

/* The retention in days for `chain`: its setting, bounded, or the default. */
static int
retention_days(struct lb_tx *tx, const char *chain, int *out)
{
	struct lb_settings s;
	int err, d = LB_RETENTION_DEFAULT;

	if (chain[0] != '\0') {
		err = store_settings_get(tx, chain, &s);
		if (err != 0 && err != LB_ERR_NOT_FOUND)
			return err;
		if (err == 0)
			d = s.retention_days;
	}
	/* A stored value out of bounds never shortens retention below the minimum. */
	if (d < LB_RETENTION_MIN)
		d = LB_RETENTION_MIN;
	if (d > LB_RETENTION_MAX)
		d = LB_RETENTION_MAX;
	*out = d;
	return 0;
}

static int
grab_record(void *ctx, const struct lb_audit_rec *rec)
{
	struct lb_audit_rec *out = ctx;

	*out = *rec;
	out->details = NULL;    /* valid only during the callback; not needed */
	return 0;
}

static int
grab_checkpoint(void *ctx, const struct lb_checkpoint *cp)
{
	*(struct lb_checkpoint *)ctx = *cp;
	return 1;               /* the first one is enough: stop the list */
}

/*
 * The anchor at (seq, hash): a checkpoint already there is reused when it
 * holds the same hash (the verifier needs any signed checkpoint at seq);
 * otherwise a new one is signed with the current key and stored.
 */
static int
anchor_at(struct lb_tx *tx, struct lb_keyring *kr, const char *chain, int64_t seq,
    const char hash[65], int64_t now_ms)
{
	struct lb_checkpoint cp;
	unsigned char sig[crypto_sign_BYTES];
	char *msg = NULL;
	int err;

	memset(&cp, 0, sizeof(cp));
	err = store_checkpoint_list(tx, chain, seq, grab_checkpoint, &cp);
	if (err < 0)
		return err;
	if (err == 1 && cp.seq == seq)
		return strcmp(cp.head_hash, hash) == 0 ? 0 : LB_ERR_UNAVAILABLE;
	memset(&cp, 0, sizeof(cp));
	memcpy(cp.chain, chain, strlen(chain) + 1);
	cp.seq = seq;
	memcpy(cp.head_hash, hash, sizeof(cp.head_hash));
	cp.time_ms = now_ms;
	cp.anchor = true;
	if ((err = keys_current_kid(kr, cp.kid)) != 0)
		goto out;
	if ((msg = verify_checkpoint_message(chain, seq, hash, now_ms)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if ((err = keys_sign_kid(kr, cp.kid, (const unsigned char *)msg, strlen(msg), sig)) != 0)
		goto out;
	sodium_bin2base64(cp.sig, sizeof(cp.sig), sig, sizeof(sig),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	err = store_checkpoint_insert(tx, &cp);
out:
	free(msg);
	return err;
}

/* Appends the PurgeAuditRecords record. */
static int
record_purge(struct lb_tx *tx, const char *chain, int64_t through, int64_t purged,
    const char *anchor_hash, int days, int64_t now_ms)
{
	struct lb_actor system = { .id = "lockboxd", .realm = LB_PROVIDER_REALM,
		.type = LB_ACTOR_SYSTEM };
	struct lb_audit_event ev = { 0 };
	json_t *d;
	int err;

	d = json_pack("{s:I, s:I, s:s, s:i}", "through_seq", (json_int_t)through,
	    "purged", (json_int_t)purged, "anchor_hash", anchor_hash, "retention_days", days);
	if (d == NULL)
		return LB_ERR_NOMEM;
	ev.tenant = chain;
	ev.record_type = PURGE_RECORD_TYPE;
	ev.operation = PURGE_OPERATION;
	ev.actor = &system;
	ev.object_id = "";
	ev.result = "success";
	ev.details = d;
	ev.time_ms = now_ms;
	err = audit_append(tx, &ev);
	json_decref(d);
	return err;
}

/* Purges one chain in one write transaction; *purged counts the records. */
static int
purge_chain(struct lb_store *st, struct lb_keyring *kr, const char *chain, int64_t now_ms,
    int64_t *purged)
{
	struct lb_audit_rec rec;
	struct lb_checkpoint head;
	struct lb_tx *tx = NULL;
	char head_hash[65];
	int64_t last = 0, head_seq = 0, first = 0, n = 0, cutoff;
	int days, err;

	memset(&rec, 0, sizeof(rec));
	if ((err = store_begin(st, true, &tx)) != 0)
		goto out;
	if ((err = retention_days(tx, chain, &days)) != 0)
		goto out;
	cutoff = now_ms - days * DAY_MS;
	if (cutoff <= 0)
		goto done;
	if ((err = store_audit_last_before(tx, chain, cutoff, &last)) != 0 ||
	    (err = store_audit_head(tx, chain, &head_seq, head_hash)) != 0 ||
	    (err = store_audit_first_seq(tx, chain, &first)) != 0)
		goto out;
	if (last >= head_seq)
		last = head_seq - 1;    /* never the head: see the file comment */
	if (last <= 0 || last < first)
		goto done;              /* nothing old enough, or purged already */
	if ((err = store_audit_scan(tx, chain, last, 1, grab_record, &rec)) != 0)
		goto out;
	if (rec.seq != last) {
		err = LB_ERR_UNAVAILABLE;       /* a hole in the stored chain */
		goto out;
	}
	if ((err = anchor_at(tx, kr, chain, last, rec.hash, now_ms)) != 0 ||
	    (err = store_audit_purge(tx, chain, last, &n)) != 0 ||
	    (err = record_purge(tx, chain, last, n, rec.hash, days, now_ms)) != 0 ||
	    (err = audit_checkpoint_head(tx, kr, chain, now_ms, &head)) != 0)
		goto out;
done:
	err = store_commit(tx);
	tx = NULL;
	if (err == 0)
		*purged = n;
out:
	store_rollback(tx);
	return err;
}

int
audit_retention_run(struct lb_store *st, struct lb_keyring *kr, int64_t now_ms)
{
	struct lb_audit_chains c = { 0 };
	int64_t total = 0, n;
	int err;

	if (st == NULL || kr == NULL || now_ms <= 0)
		return LB_ERR_INTERNAL;
	if ((err = audit_chains_collect(st, &c)) != 0)
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		n = 0;
		if ((err = purge_chain(st, kr, c.v[i], now_ms, &n)) != 0)
			goto out;
		total += n;
	}
	err = total > INT_MAX ? INT_MAX : (int)total;
out:
	free(c.v);
	return err;
}
