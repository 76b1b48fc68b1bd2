/*
 * Appending to the hash chain.
 *
 * Each tenant's records (and the provider's, in the chain named "") carry
 * a sequence number and the previous record's hash; a record's hash is the
 * SHA-256 of its canonical form.  Editing, removing or reordering a record
 * therefore breaks every later hash.  Appending runs inside the caller's
 * write transaction, which already excludes other writers, so reading the
 * head and inserting the next record cannot interleave.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "audit/verify.h"
#include "sys/sys.h"

static const char *
actor_type_name(enum lb_actor_type t)
{
	switch (t) {
	case LB_ACTOR_USER: return "user";
	case LB_ACTOR_SERVICE: return "service";
	case LB_ACTOR_SYSTEM: return "system";
	}
	return "system";
}

static json_t *
rec_object(const struct lb_audit_rec *rec, bool with_hash)
{
	char ts[32];
	json_t *details = NULL, *o;

	if (lb_time_format(rec->time_ms, ts, sizeof(ts)) != 0)
		return NULL;
	if (rec->details != NULL && rec->details[0] != '\0') {
		details = json_loads(rec->details, JSON_REJECT_DUPLICATES, NULL);
		if (details == NULL)
			return NULL;
	} else {
		details = json_object();
	}
	o = json_pack("{s:s, s:I, s:s, s:o, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:o, s:s}",
	    "id", rec->id,
	    "seq", (json_int_t)rec->seq,
	    "time", ts,
	    "tenant", rec->chain[0] ? json_string(rec->chain) : json_null(),
	    "workload", rec->workload,
	    "record_type", rec->record_type,
	    "operation", rec->operation,
	    "actor", "id", rec->actor_id, "realm", rec->actor_realm, "type", rec->actor_type,
	    "object_id", rec->object_id,
	    "result", rec->result,
	    "client_ip", rec->client_ip,
	    "details", details,
	    "prev_hash", rec->prev_hash);
	if (o != NULL && with_hash)
		json_object_set_new(o, "hash", json_string(rec->hash));
	return o;
}

/* The JCS text lives with the verifier, so both sides hash the same bytes. */
char *
audit_json_canonical(json_t *o)
{
	return verify_canonical(o);
}

char *
audit_canonical(const struct lb_audit_rec *rec)
{
	json_t *o = rec_object(rec, false);
	char *s;

	if (o == NULL)
		return NULL;
	s = audit_json_canonical(o);
	json_decref(o);
	return s;
}

json_t *
audit_rec_json(const struct lb_audit_rec *rec)
{
	return rec_object(rec, true);
}

int
audit_append(struct lb_tx *tx, const struct lb_audit_event *ev)
{
	json_t *empty = ev->details ? NULL : json_object();
	char *details = audit_json_canonical(ev->details ? ev->details : empty);
	int rc;

	json_decref(empty);
	if (details == NULL)
		return LB_ERR_NOMEM;
	rc = audit_append_text(tx, ev, details, NULL);
	free(details);
	return rc;
}

int
audit_append_text(struct lb_tx *tx, const struct lb_audit_event *ev, const char *details,
    struct lb_audit_head *head)
{
	struct lb_audit_rec rec;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char *canon = NULL;
	int rc;

	memset(&rec, 0, sizeof(rec));
	ids_new("aud", rec.id, sizeof(rec.id));
	if ((rc = lb_copy(rec.chain, sizeof(rec.chain), ev->tenant)) != 0 ||
	    (rc = lb_copy(rec.workload, sizeof(rec.workload), LB_WORKLOAD_NAME)) != 0 ||
	    (rc = lb_copy(rec.record_type, sizeof(rec.record_type), ev->record_type)) != 0 ||
	    (rc = lb_copy(rec.operation, sizeof(rec.operation), ev->operation)) != 0 ||
	    (rc = lb_copy(rec.actor_id, sizeof(rec.actor_id), ev->actor->id)) != 0 ||
	    (rc = lb_copy(rec.actor_realm, sizeof(rec.actor_realm), ev->actor->realm)) != 0 ||
	    (rc = lb_copy(rec.actor_type, sizeof(rec.actor_type), actor_type_name(ev->actor->type))) != 0 ||
	    (rc = lb_copy(rec.object_id, sizeof(rec.object_id), ev->object_id)) != 0 ||
	    (rc = lb_copy(rec.result, sizeof(rec.result), ev->result ? ev->result : "success")) != 0 ||
	    (rc = lb_copy(rec.client_ip, sizeof(rec.client_ip), ev->client_ip)) != 0)
		goto out;
	rec.time_ms = ev->time_ms;
	rec.details = (char *)(uintptr_t)details;
	if (head != NULL && head->valid && strcmp(head->chain, rec.chain) == 0) {
		rec.seq = head->seq;
		memcpy(rec.prev_hash, head->hash, sizeof(rec.prev_hash));
	} else if ((rc = store_audit_head(tx, rec.chain, &rec.seq, rec.prev_hash)) != 0) {
		goto out;
	}
	rec.seq++;
	if ((canon = audit_canonical(&rec)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	crypto_hash_sha256(digest, (const unsigned char *)canon, strlen(canon));
	sodium_bin2hex(rec.hash, sizeof(rec.hash), digest, sizeof(digest));
	rc = store_audit_insert(tx, &rec);
	if (rc == 0 && head != NULL) {
		memcpy(head->chain, rec.chain, sizeof(head->chain));
		head->seq = rec.seq;
		memcpy(head->hash, rec.hash, sizeof(head->hash));
		head->valid = true;
	}
out:
	free(canon);
	return rc;
}
