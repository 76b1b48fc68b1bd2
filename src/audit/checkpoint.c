/*
 * Signed checkpoints of the audit chains.
 *
 * A hash chain alone shows an edit in the middle, but not the loss of its
 * newest records: whoever deletes the tail leaves a shorter chain that is
 * still consistent.  A checkpoint is the daemon's Ed25519 signature over
 * (chain, seq, hash of record seq, time) -- the bytes of
 * verify_checkpoint_message() -- so an export carrying the newest
 * checkpoint proves how far the chain reached, and a forger without the
 * signing key cannot re-hash a chain and sign its new head.  Checkpoints
 * are made at intervals for every chain that grew (audit_checkpoint_all)
 * and on demand, before an export or a verification
 * (audit_checkpoint_head).  The ring signs; no secret key leaves it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/verify.h"
#include "authz/authz.h"

/* Chains checkpointed per write transaction by audit_checkpoint_all. */
#define CHAINS_PER_TX 64

/*
 * Signs the checkpoint of `chain` at (seq, hash) with the current key,
 * without storing it.  *out written on success.
 */
static int
sign(struct lb_keyring *kr, const char *chain, int64_t seq, const char hash[65],
    int64_t now_ms, struct lb_checkpoint *out)
{
	struct lb_checkpoint cp;
	unsigned char sig[crypto_sign_BYTES];
	char kid[LB_KID_MAX + 1];
	char *msg = NULL;
	size_t n = strlen(chain);
	int err;

	memset(&cp, 0, sizeof(cp));
	if (n >= sizeof(cp.chain) || strlen(hash) != 64)
		return LB_ERR_INTERNAL;
	memcpy(cp.chain, chain, n + 1);
	cp.seq = seq;
	memcpy(cp.head_hash, hash, 65);
	cp.time_ms = now_ms;
	if ((err = keys_current_kid(kr, kid)) != 0)
		goto out;
	if (strlen(kid) >= sizeof(cp.kid)) {
		err = LB_ERR_INTERNAL;
		goto out;
	}
	memcpy(cp.kid, kid, strlen(kid) + 1);
	if ((msg = verify_checkpoint_message(chain, seq, hash, now_ms)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if ((err = keys_sign_kid(kr, kid, (const unsigned char *)msg, strlen(msg), sig)) != 0)
		goto out;
	sodium_bin2base64(cp.sig, sizeof(cp.sig), sig, sizeof(sig),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out = cp;
out:
	free(msg);
	return err;
}

/* As audit_checkpoint_head; *created tells whether a new one was stored. */
static int
head_checkpoint(struct lb_tx *tx, struct lb_keyring *kr, const char *chain, int64_t now_ms,
    struct lb_checkpoint *out, bool *created)
{
	struct lb_checkpoint cp;
	char hash[65];
	int64_t seq = 0;
	int err;

	if ((err = store_audit_head(tx, chain, &seq, hash)) != 0)
		return err;
	if (seq == 0)
		return LB_ERR_NOT_FOUND;
	err = store_checkpoint_latest(tx, chain, &cp);
	if (err == 0 && cp.seq == seq) {
		*out = cp;
		*created = false;
		return 0;
	}
	if (err != 0 && err != LB_ERR_NOT_FOUND)
		return err;
	if ((err = sign(kr, chain, seq, hash, now_ms, &cp)) != 0 ||
	    (err = store_checkpoint_insert(tx, &cp)) != 0)
		return err;
	*out = cp;
	*created = true;
	return 0;
}

int
audit_checkpoint_head(struct lb_tx *tx, struct lb_keyring *kr, const char *chain,
    int64_t now_ms, struct lb_checkpoint *out)
{
	bool created;

	if (tx == NULL || kr == NULL || chain == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return head_checkpoint(tx, kr, chain, now_ms, out, &created);
}

static int
collect_chain(void *ctx, const char *chain)
{
	struct lb_audit_chains *c = ctx;
	size_t len = strlen(chain);

	if (len > LB_ID_MAX)
		return LB_ERR_UNAVAILABLE;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *v = realloc(c->v, cap * sizeof(c->v[0]));

		if (v == NULL)
			return LB_ERR_NOMEM;
		c->v = v;
		c->cap = cap;
	}
	memcpy(c->v[c->n++], chain, len + 1);
	return 0;
}

/*
 * The chain names are collected in a read transaction before any is
 * signed or purged, so no long transaction spans the work on each chain.
 */
int
audit_chains_collect(struct lb_store *st, struct lb_audit_chains *c)
{
	struct lb_tx *tx = NULL;
	int err;

	if ((err = store_begin(st, false, &tx)) != 0)
		return err;
	err = store_audit_chains(tx, collect_chain, c);
	store_rollback(tx);
	return err;
}

int
audit_checkpoint_all(struct lb_store *st, struct lb_keyring *kr, int64_t now_ms)
{
	struct lb_audit_chains c = { 0 };
	struct lb_checkpoint cp;
	struct lb_tx *tx = NULL;
	bool created;
	int err, made = 0, batch = 0;

	if (st == NULL || kr == NULL)
		return LB_ERR_INTERNAL;
	if ((err = audit_chains_collect(st, &c)) != 0)
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		if (tx == NULL && (err = store_begin(st, true, &tx)) != 0)
			goto out;
		err = head_checkpoint(tx, kr, c.v[i], now_ms, &cp, &created);
		if (err == LB_ERR_NOT_FOUND)
			continue;       /* emptied meanwhile: nothing to sign */
		if (err != 0)
			goto out;
		batch += created ? 1 : 0;
		if (i + 1 == c.n || (i + 1) % CHAINS_PER_TX == 0) {
			err = store_commit(tx);
			tx = NULL;
			if (err != 0)
				goto out;
			made += batch;
			batch = 0;
		}
	}
	if (tx != NULL) {
		err = store_commit(tx);
		tx = NULL;
		if (err != 0)
			goto out;
		made += batch;
	}
	err = made;
out:
	store_rollback(tx);
	free(c.v);
	return err;
}

json_t *
audit_checkpoint_json(const struct lb_checkpoint *cp)
{
	char ts[32];

	if (cp == NULL || lb_time_format(cp->time_ms, ts, sizeof(ts)) != 0)
		return NULL;
	return json_pack("{s:o, s:I, s:s, s:s, s:s, s:s, s:b}",
	    "tenant", cp->chain[0] ? json_string(cp->chain) : json_null(),
	    "seq", (json_int_t)cp->seq,
	    "head_hash", cp->head_hash,
	    "time", ts,
	    "kid", cp->kid,
	    "sig", cp->sig,
	    "anchor", cp->anchor ? 1 : 0);
}
