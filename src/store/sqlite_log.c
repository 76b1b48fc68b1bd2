/*
 * SQLite rows for the two append-mostly logs: the audit hash chains and
 * the notification outbox.
 *
 * Audit records are keyed by (chain, seq), so the head of a chain is one
 * probe at the end of the primary key and a scan is a range of it.  Scans
 * read a batch of records into memory, release the statement, and only
 * then call back, so an export may run for as long as it likes (and the
 * callback may use the transaction) without holding a statement open.
 * Outbox rows are found by the notifier through (status, next_attempt_ms).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

#define AUDIT_BATCH 64

#define AUDIT_COLS SQ_AUDIT_COLS

#define OUTBOX_COLS "id, tenant, channel, recipient, topic, payload, status," \
	" attempts, created_ms, next_attempt_ms, delivered_ms, last_error"

static const char zero_hash[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* ---------------------------------------------------------------- audit */

int
sq_audit_head(struct lb_tx *base, const char *chain, int64_t *seq, char prev_hash[65])
{
	struct sq_q q = { 0 };
	char hash[65];
	int64_t s = 0;
	int err, rc;

	memcpy(hash, zero_hash, sizeof(hash));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT seq, hash FROM audit WHERE chain = :chain"
	    " ORDER BY seq DESC LIMIT 1", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	if ((rc = sq_step(&q)) < 0) {
		err = rc;
		goto out;
	}
	if (rc == 1) {
		s = sq_col_i64(&q, 0);
		SQ_TRY(sq_col_text(&q, 1, hash, sizeof(hash)));
	}
	*seq = s;
	memcpy(prev_hash, hash, sizeof(hash));
out:
	sq_finish(&q);
	return err;
}

int
sq_audit_insert(struct lb_tx *base, const struct lb_audit_rec *rec)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO audit (" AUDIT_COLS ") VALUES (:chain,"
	    " :seq, :id, :time, :workload, :record_type, :operation, :actor_id, :actor_realm,"
	    " :actor_type, :object_id, :result, :client_ip, :details, :prev_hash, :hash)", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", rec->chain, sizeof(rec->chain)));
	SQ_TRY(sq_bind_i64(&q, ":seq", rec->seq));
	SQ_TRY(sq_bind_text(&q, ":id", rec->id, sizeof(rec->id)));
	SQ_TRY(sq_bind_i64(&q, ":time", rec->time_ms));
	SQ_TRY(sq_bind_text(&q, ":workload", rec->workload, sizeof(rec->workload)));
	SQ_TRY(sq_bind_text(&q, ":record_type", rec->record_type, sizeof(rec->record_type)));
	SQ_TRY(sq_bind_text(&q, ":operation", rec->operation, sizeof(rec->operation)));
	SQ_TRY(sq_bind_text(&q, ":actor_id", rec->actor_id, sizeof(rec->actor_id)));
	SQ_TRY(sq_bind_text(&q, ":actor_realm", rec->actor_realm, sizeof(rec->actor_realm)));
	SQ_TRY(sq_bind_text(&q, ":actor_type", rec->actor_type, sizeof(rec->actor_type)));
	SQ_TRY(sq_bind_text(&q, ":object_id", rec->object_id, sizeof(rec->object_id)));
	SQ_TRY(sq_bind_text(&q, ":result", rec->result, sizeof(rec->result)));
	SQ_TRY(sq_bind_text(&q, ":client_ip", rec->client_ip, sizeof(rec->client_ip)));
	/* NULL details are stored as the empty text (and read back so). */
	SQ_TRY(sq_bind_text(&q, ":details", rec->details ? rec->details : "", 0));
	SQ_TRY(sq_bind_text(&q, ":prev_hash", rec->prev_hash, sizeof(rec->prev_hash)));
	SQ_TRY(sq_bind_text(&q, ":hash", rec->hash, sizeof(rec->hash)));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_row_audit(struct sq_q *q, struct lb_audit_rec *r)
{
	int err;

	SQ_TRY(sq_col_text(q, 0, r->chain, sizeof(r->chain)));
	r->seq = sq_col_i64(q, 1);
	SQ_TRY(sq_col_text(q, 2, r->id, sizeof(r->id)));
	r->time_ms = sq_col_i64(q, 3);
	SQ_TRY(sq_col_text(q, 4, r->workload, sizeof(r->workload)));
	SQ_TRY(sq_col_text(q, 5, r->record_type, sizeof(r->record_type)));
	SQ_TRY(sq_col_text(q, 6, r->operation, sizeof(r->operation)));
	SQ_TRY(sq_col_text(q, 7, r->actor_id, sizeof(r->actor_id)));
	SQ_TRY(sq_col_text(q, 8, r->actor_realm, sizeof(r->actor_realm)));
	SQ_TRY(sq_col_text(q, 9, r->actor_type, sizeof(r->actor_type)));
	SQ_TRY(sq_col_text(q, 10, r->object_id, sizeof(r->object_id)));
	SQ_TRY(sq_col_text(q, 11, r->result, sizeof(r->result)));
	SQ_TRY(sq_col_text(q, 12, r->client_ip, sizeof(r->client_ip)));
	SQ_TRY(sq_col_text(q, 14, r->prev_hash, sizeof(r->prev_hash)));
	SQ_TRY(sq_col_text(q, 15, r->hash, sizeof(r->hash)));
	/* Last, so a record is either whole or owns no memory. */
	err = sq_col_dup(q, 13, &r->details);
out:
	return err;
}

static void
batch_clear(struct lb_audit_rec *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].details);
		b[i].details = NULL;
	}
}

/* Reads up to `want` records from `from`; *got set. */
static int
audit_batch(struct sq_tx *tx, const char *chain, int64_t from, size_t want,
    struct lb_audit_rec *b, size_t *got)
{
	struct sq_q q = { 0 };
	size_t n = 0;
	int err = 0, rc = 0;

	SQ_TRY(sq_prepare(tx, "SELECT " AUDIT_COLS " FROM audit WHERE chain = :chain"
	    " AND seq >= :from ORDER BY seq LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	SQ_TRY(sq_bind_i64(&q, ":from", from));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)want));
	while (n < want && (rc = sq_step(&q)) == 1) {
		if ((err = sq_row_audit(&q, &b[n])) != 0)
			goto out;
		n++;
	}
	if (n < want && rc < 0) {
		err = rc;
		goto out;
	}
	*got = n;
out:
	if (err != 0)
		batch_clear(b, n);
	sq_finish(&q);
	return err;
}

int
sq_audit_scan(struct lb_tx *base, const char *chain, int64_t from_seq, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx)
{
	struct lb_audit_rec *b;
	size_t left = limit ? limit : SIZE_MAX, got = 0;
	int64_t from = from_seq;
	int err = 0;

	if ((b = calloc(AUDIT_BATCH, sizeof(*b))) == NULL)
		return LB_ERR_NOMEM;
	while (left > 0) {
		size_t want = left < AUDIT_BATCH ? left : AUDIT_BATCH;

		got = 0;
		SQ_TRY(audit_batch(sq_tx(base), chain, from, want, b, &got));
		for (size_t i = 0; i < got; i++)
			if ((err = each(ctx, &b[i])) != 0)
				goto out;
		if (got < want)
			break;
		from = b[got - 1].seq + 1;
		left -= got;
		batch_clear(b, got);
		got = 0;
	}
out:
	batch_clear(b, got);
	free(b);
	return err;
}

/* --------------------------------------------------------------- outbox */

int
sq_outbox_insert(struct lb_tx *base, const struct lb_outbox_row *row)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO outbox (" OUTBOX_COLS ") VALUES (:id,"
	    " :tenant, :channel, :recipient, :topic, :payload, :status, :attempts, :created,"
	    " :next, :delivered, :last_error)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", row->id, sizeof(row->id)));
	SQ_TRY(sq_bind_text(&q, ":tenant", row->tenant, sizeof(row->tenant)));
	SQ_TRY(sq_bind_text(&q, ":channel", row->channel, sizeof(row->channel)));
	SQ_TRY(sq_bind_text(&q, ":recipient", row->recipient, sizeof(row->recipient)));
	SQ_TRY(sq_bind_text(&q, ":topic", row->topic, sizeof(row->topic)));
	/* NULL payloads are stored as the empty text (and read back so). */
	SQ_TRY(sq_bind_text(&q, ":payload", row->payload ? row->payload : "", 0));
	SQ_TRY(sq_bind_text(&q, ":status", row->status, sizeof(row->status)));
	SQ_TRY(sq_bind_i64(&q, ":attempts", row->attempts));
	SQ_TRY(sq_bind_i64(&q, ":created", row->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":next", row->next_attempt_ms));
	SQ_TRY(sq_bind_i64(&q, ":delivered", row->delivered_ms));
	SQ_TRY(sq_bind_text(&q, ":last_error", row->last_error, sizeof(row->last_error)));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

/* Loads one row; on success out->payload is malloc'd and the caller's. */
static int
outbox_get(struct sq_tx *tx, const char *id, struct lb_outbox_row *out)
{
	struct sq_q q = { 0 };
	struct lb_outbox_row r;
	int err, rc;

	memset(&r, 0, sizeof(r));
	SQ_TRY(sq_prepare(tx, "SELECT " OUTBOX_COLS " FROM outbox WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_text(&q, 0, r.id, sizeof(r.id)));
	SQ_TRY(sq_col_text(&q, 1, r.tenant, sizeof(r.tenant)));
	SQ_TRY(sq_col_text(&q, 2, r.channel, sizeof(r.channel)));
	SQ_TRY(sq_col_text(&q, 3, r.recipient, sizeof(r.recipient)));
	SQ_TRY(sq_col_text(&q, 4, r.topic, sizeof(r.topic)));
	SQ_TRY(sq_col_text(&q, 6, r.status, sizeof(r.status)));
	SQ_TRY(sq_col_int(&q, 7, &r.attempts));
	r.created_ms = sq_col_i64(&q, 8);
	r.next_attempt_ms = sq_col_i64(&q, 9);
	r.delivered_ms = sq_col_i64(&q, 10);
	SQ_TRY(sq_col_text(&q, 11, r.last_error, sizeof(r.last_error)));
	SQ_TRY(sq_col_dup(&q, 5, &r.payload));
	*out = r;
out:
	sq_finish(&q);
	return err;
}

/* Loads each keyed row and hands it to `each`; the payload lives for the call. */
static int
outbox_visit(struct sq_tx *tx, const struct sq_keys *k,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx)
{
	struct lb_outbox_row r;
	int err = 0;

	for (size_t i = 0; i < k->n; i++) {
		if ((err = outbox_get(tx, k->v[i], &r)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0)
			goto out;
		err = each(ctx, &r);
		free(r.payload);
		if (err != 0)
			goto out;
	}
out:
	return err;
}

int
sq_outbox_due(struct lb_tx *base, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	bool more = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM outbox WHERE status = 'pending'"
	    " AND next_attempt_ms <= :now ORDER BY created_ms, id LIMIT :lim", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit));
	SQ_TRY(sq_keys_collect(&q, limit, &k, &more));
	err = outbox_visit(sq_tx(base), &k, each, ctx);
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

int
sq_outbox_update(struct lb_tx *base, const struct lb_outbox_row *row)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE outbox SET status = :status,"
	    " attempts = :attempts, next_attempt_ms = :next, delivered_ms = :delivered,"
	    " last_error = :last_error WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":status", row->status, sizeof(row->status)));
	SQ_TRY(sq_bind_i64(&q, ":attempts", row->attempts));
	SQ_TRY(sq_bind_i64(&q, ":next", row->next_attempt_ms));
	SQ_TRY(sq_bind_i64(&q, ":delivered", row->delivered_ms));
	SQ_TRY(sq_bind_text(&q, ":last_error", row->last_error, sizeof(row->last_error)));
	SQ_TRY(sq_bind_text(&q, ":id", row->id, sizeof(row->id)));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0)
		err = LB_ERR_NOT_FOUND;
out:
	sq_finish(&q);
	return err;
}

int
sq_outbox_list(struct lb_tx *base, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	bool m = false, keyed = pg->after_id[0] != '\0';
	int err;

	sq_sql_add(&sql, "SELECT id FROM outbox WHERE 1 = 1");
	if (tenant != NULL)
		sq_sql_add(&sql, " AND tenant = :tenant");
	if (keyed)
		sq_sql_add(&sql, SQ_AFTER_DESC);
	sq_sql_add(&sql, SQ_ORDER_DESC);
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	if (tenant != NULL)
		SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	SQ_TRY(outbox_visit(sq_tx(base), &k, each, ctx));
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

/* ------------------------------------------------------- access receipts */

int
sq_receipt_add(struct lb_tx *base, const char *request_id, const char *resource,
    bool allowed, int64_t at_ms)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO access_receipts (request_id, resource,"
	    " allowed, refused, first_ms, last_ms) VALUES (:rid, :res, :a, :r, :at, :at)"
	    " ON CONFLICT (request_id, resource) DO UPDATE SET"
	    " allowed = access_receipts.allowed + excluded.allowed,"
	    " refused = access_receipts.refused + excluded.refused,"
	    " last_ms = excluded.last_ms", &q));
	SQ_TRY(sq_bind_text(&q, ":rid", request_id, LB_REQID_MAX + 1));
	SQ_TRY(sq_bind_text(&q, ":res", resource, LB_RESOURCE_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":a", allowed ? 1 : 0));
	SQ_TRY(sq_bind_i64(&q, ":r", allowed ? 0 : 1));
	SQ_TRY(sq_bind_i64(&q, ":at", at_ms));
	SQ_TRY(sq_exec(&q));
out:
	sq_finish(&q);
	return err;
}

int
sq_receipt_list(struct lb_tx *base, const char *request_id, size_t limit,
    int (*each)(void *ctx, const struct lb_receipt *r), void *ctx)
{
	struct sq_q q = { 0 };
	struct lb_receipt *rows = NULL;
	size_t n = 0;
	int err, rc;

	if ((rows = calloc(limit, sizeof(*rows))) == NULL)
		return LB_ERR_NOMEM;
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT resource, allowed, refused, first_ms, last_ms"
	    " FROM access_receipts WHERE request_id = :rid ORDER BY resource LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":rid", request_id, LB_REQID_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit));
	while (n < limit && (rc = sq_step(&q)) == 1) {
		struct lb_receipt *r = &rows[n];
		memcpy(r->request_id, request_id, strlen(request_id) + 1);
		SQ_TRY(sq_col_text(&q, 0, r->resource, sizeof(r->resource)));
		r->allowed = sq_col_i64(&q, 1);
		r->refused = sq_col_i64(&q, 2);
		r->first_ms = sq_col_i64(&q, 3);
		r->last_ms = sq_col_i64(&q, 4);
		n++;
	}
	if (n < limit && rc < 0) {
		err = rc;
		goto out;
	}
	sq_finish(&q);
	/* Call back only after the statement is released (see the file comment). */
	for (size_t i = 0; i < n; i++)
		if ((err = each(ctx, &rows[i])) != 0)
			goto out;
out:
	sq_finish(&q);
	free(rows);
	return err;
}
