/*
 * SQLite rows for notification delivery (src/notify/): the outbox columns
 * of migration 4 (webhook endpoint, emergency-notice deadline, overdue
 * mark), the due queries the notifier polls, the one-reminder-per-request
 * table and the webhook endpoints.
 *
 * Like the other list queries, each one collects the keys of its page
 * first (sq_keys_collect) and only then loads and hands out the rows, so a
 * callback may use the transaction freely.  Webhook secrets are stored in
 * the sealed form the notifier gives; nothing here can unseal them.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

#define OUTBOX_COLS "id, tenant, channel, recipient, topic, payload, status," \
	" attempts, created_ms, next_attempt_ms, delivered_ms, last_error," \
	" endpoint, deadline_ms, overdue_ms"

#define WEBHOOK_COLS "id, tenant, url, secret, created_by, created_ms"

/* Steps a single-row SELECT: 0 with a row, NOT_FOUND without, or an error. */
static int
one_row(struct sq_q *q)
{
	int rc = sq_step(q);

	if (rc == 1)
		return 0;
	return rc < 0 ? rc : LB_ERR_NOT_FOUND;
}

/* ---------------------------------------------------------------- outbox */

int
sq_outbox_put(struct lb_tx *base, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x)
{
	static const struct lb_outbox_extra none = { .endpoint = "" };
	struct sq_q q = { 0 };
	int err;

	if (x == NULL)
		x = &none;
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO outbox (" OUTBOX_COLS ") VALUES (:id,"
	    " :tenant, :channel, :recipient, :topic, :payload, :status, :attempts, :created,"
	    " :next, :delivered, :last_error, :endpoint, :deadline, :overdue)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", row->id, sizeof(row->id)));
	SQ_TRY(sq_bind_text(&q, ":tenant", row->tenant, sizeof(row->tenant)));
	SQ_TRY(sq_bind_text(&q, ":channel", row->channel, sizeof(row->channel)));
	SQ_TRY(sq_bind_text(&q, ":recipient", row->recipient, sizeof(row->recipient)));
	SQ_TRY(sq_bind_text(&q, ":topic", row->topic, sizeof(row->topic)));
	SQ_TRY(sq_bind_text(&q, ":payload", row->payload ? row->payload : "", 0));
	SQ_TRY(sq_bind_text(&q, ":status", row->status, sizeof(row->status)));
	SQ_TRY(sq_bind_i64(&q, ":attempts", row->attempts));
	SQ_TRY(sq_bind_i64(&q, ":created", row->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":next", row->next_attempt_ms));
	SQ_TRY(sq_bind_i64(&q, ":delivered", row->delivered_ms));
	SQ_TRY(sq_bind_text(&q, ":last_error", row->last_error, sizeof(row->last_error)));
	SQ_TRY(sq_bind_text(&q, ":endpoint", x->endpoint, sizeof(x->endpoint)));
	SQ_TRY(sq_bind_i64(&q, ":deadline", x->deadline_ms));
	SQ_TRY(sq_bind_i64(&q, ":overdue", x->overdue_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

/* Reads the columns of OUTBOX_COLS; the payload only when `payload`. */
static int
row_outbox(struct sq_q *q, bool payload, struct lb_outbox_row *r, struct lb_outbox_extra *x)
{
	int err;

	memset(r, 0, sizeof(*r));
	memset(x, 0, sizeof(*x));
	SQ_TRY(sq_col_text(q, 0, r->id, sizeof(r->id)));
	SQ_TRY(sq_col_text(q, 1, r->tenant, sizeof(r->tenant)));
	SQ_TRY(sq_col_text(q, 2, r->channel, sizeof(r->channel)));
	SQ_TRY(sq_col_text(q, 3, r->recipient, sizeof(r->recipient)));
	SQ_TRY(sq_col_text(q, 4, r->topic, sizeof(r->topic)));
	SQ_TRY(sq_col_text(q, 6, r->status, sizeof(r->status)));
	SQ_TRY(sq_col_int(q, 7, &r->attempts));
	r->created_ms = sq_col_i64(q, 8);
	r->next_attempt_ms = sq_col_i64(q, 9);
	r->delivered_ms = sq_col_i64(q, 10);
	SQ_TRY(sq_col_text(q, 11, r->last_error, sizeof(r->last_error)));
	SQ_TRY(sq_col_text(q, 12, x->endpoint, sizeof(x->endpoint)));
	x->deadline_ms = sq_col_i64(q, 13);
	x->overdue_ms = sq_col_i64(q, 14);
	/* Last, so a row is either whole or owns no memory. */
	if (payload)
		err = sq_col_dup(q, 5, &r->payload);
out:
	return err;
}

static int
outbox_load(struct sq_tx *tx, const char *id, bool payload, struct lb_outbox_row *out,
    struct lb_outbox_extra *xout)
{
	struct sq_q q = { 0 };
	struct lb_outbox_row r;
	struct lb_outbox_extra x;
	int err;

	SQ_TRY(sq_prepare(tx, "SELECT " OUTBOX_COLS " FROM outbox WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(row_outbox(&q, payload, &r, &x));
	*out = r;
	if (xout != NULL)
		*xout = x;
out:
	sq_finish(&q);
	return err;
}

int
sq_outbox_get(struct lb_tx *base, const char *id, struct lb_outbox_row *out,
    struct lb_outbox_extra *x)
{
	return outbox_load(sq_tx(base), id, true, out, x);
}

int
sq_outbox_due_channel(struct lb_tx *base, const char *channel, int64_t now_ms,
    size_t limit, int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct lb_outbox_row r;
	bool more = false;
	int err;

	if (channel != NULL)
		SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM outbox WHERE status = 'pending'"
		    " AND channel = :channel AND next_attempt_ms <= :now"
		    " ORDER BY next_attempt_ms, created_ms, id LIMIT :lim", &q));
	else
		SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM outbox WHERE status = 'pending'"
		    " AND next_attempt_ms <= :now"
		    " ORDER BY next_attempt_ms, created_ms, id LIMIT :lim", &q));
	if (channel != NULL)
		SQ_TRY(sq_bind_text(&q, ":channel", channel, 0));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit));
	SQ_TRY(sq_keys_collect(&q, limit, &k, &more));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = outbox_load(sq_tx(base), k.v[i], true, &r, NULL)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0)
			goto out;
		err = each(ctx, &r);
		free(r.payload);
		if (err != 0)
			goto out;
	}
	err = 0;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

int
sq_outbox_find(struct lb_tx *base, const char *tenant, const char *status,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct lb_outbox_row r;
	struct lb_outbox_extra x;
	bool m = false, keyed = pg->after_id[0] != '\0';
	int err;

	sq_sql_add(&sql, "SELECT id FROM outbox WHERE 1 = 1");
	if (tenant != NULL)
		sq_sql_add(&sql, " AND tenant = :tenant");
	if (status != NULL)
		sq_sql_add(&sql, " AND status = :status");
	if (keyed)
		sq_sql_add(&sql, SQ_AFTER_DESC);
	sq_sql_add(&sql, SQ_ORDER_DESC);
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	if (tenant != NULL)
		SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	if (status != NULL)
		SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = outbox_load(sq_tx(base), k.v[i], false, &r, &x)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &r, &x)) != 0)
			goto out;
	}
	err = 0;
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

static int
count_sql(struct sq_tx *tx, const char *sql, uint64_t *out)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(tx, sql, &q));
	SQ_TRY(one_row(&q));
	int64_t v = sq_col_i64(&q, 0);
	*out = v > 0 ? (uint64_t)v : 0;
out:
	sq_finish(&q);
	return err;
}

int
sq_outbox_counts(struct lb_tx *base, uint64_t *pending, uint64_t *dead, uint64_t *overdue)
{
	uint64_t p, d, o;
	int err;

	SQ_TRY(count_sql(sq_tx(base), "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", &p));
	SQ_TRY(count_sql(sq_tx(base), "SELECT COUNT(*) FROM outbox WHERE status = 'dead'", &d));
	SQ_TRY(count_sql(sq_tx(base), "SELECT COUNT(*) FROM outbox WHERE overdue_ms > 0", &o));
	*pending = p;
	*dead = d;
	*overdue = o;
out:
	return err;
}

/* Hands out each key of `k`; finishes nothing. */
static int
visit_ids(const struct sq_keys *k, int (*each)(void *ctx, const char *id), void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < k->n && err == 0; i++)
		err = each(ctx, k->v[i]);
	return err;
}

int
sq_outbox_overdue_due(struct lb_tx *base, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const char *id), void *ctx)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	bool more = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM outbox WHERE overdue_ms = 0"
	    " AND deadline_ms > 0 AND deadline_ms <= :now"
	    " AND (delivered_ms = 0 OR delivered_ms >= deadline_ms)"
	    " ORDER BY deadline_ms, id LIMIT :lim", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit));
	SQ_TRY(sq_keys_collect(&q, limit, &k, &more));
	err = visit_ids(&k, each, ctx);
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

int
sq_outbox_mark_overdue(struct lb_tx *base, const char *id, int64_t now_ms)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE outbox SET overdue_ms = :now"
	    " WHERE id = :id AND overdue_ms = 0", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms > 0 ? now_ms : 1));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0)
		err = LB_ERR_NOT_FOUND;
out:
	sq_finish(&q);
	return err;
}

/* ------------------------------------------------------------- reminders */

int
sq_reminder_due(struct lb_tx *base, int64_t now_ms, int64_t lead_ms, size_t limit,
    int (*each)(void *ctx, const char *request_id), void *ctx)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	bool more = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM requests WHERE status = 'pending'"
	    " AND pending_expires_ms > :now AND pending_expires_ms <= :until"
	    " AND NOT EXISTS (SELECT 1 FROM notify_reminders m WHERE m.request_id = requests.id)"
	    " ORDER BY pending_expires_ms, id LIMIT :lim", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_i64(&q, ":until", now_ms + lead_ms));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit));
	SQ_TRY(sq_keys_collect(&q, limit, &k, &more));
	err = visit_ids(&k, each, ctx);
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

int
sq_reminder_put(struct lb_tx *base, const char *request_id, int64_t now_ms)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO notify_reminders (request_id, created_ms)"
	    " VALUES (:rid, :now)", &q));
	SQ_TRY(sq_bind_text(&q, ":rid", request_id, LB_REQID_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

/* -------------------------------------------------------------- webhooks */

int
sq_webhook_insert(struct lb_tx *base, const struct lb_webhook *w)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO webhooks (" WEBHOOK_COLS ") VALUES (:id,"
	    " :tenant, :url, :secret, :by, :created)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", w->id, sizeof(w->id)));
	SQ_TRY(sq_bind_text(&q, ":tenant", w->tenant, sizeof(w->tenant)));
	SQ_TRY(sq_bind_text(&q, ":url", w->url, sizeof(w->url)));
	SQ_TRY(sq_bind_text(&q, ":secret", w->secret, sizeof(w->secret)));
	SQ_TRY(sq_bind_text(&q, ":by", w->created_by, sizeof(w->created_by)));
	SQ_TRY(sq_bind_i64(&q, ":created", w->created_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_webhook_get(struct lb_tx *base, const char *tenant, const char *id, struct lb_webhook *out)
{
	struct sq_q q = { 0 };
	struct lb_webhook w;
	int err;

	memset(&w, 0, sizeof(w));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " WEBHOOK_COLS " FROM webhooks"
	    " WHERE tenant = :tenant AND id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(sq_col_text(&q, 0, w.id, sizeof(w.id)));
	SQ_TRY(sq_col_text(&q, 1, w.tenant, sizeof(w.tenant)));
	SQ_TRY(sq_col_text(&q, 2, w.url, sizeof(w.url)));
	SQ_TRY(sq_col_text(&q, 3, w.secret, sizeof(w.secret)));
	SQ_TRY(sq_col_text(&q, 4, w.created_by, sizeof(w.created_by)));
	w.created_ms = sq_col_i64(&q, 5);
	*out = w;
out:
	sq_finish(&q);
	return err;
}

int
sq_webhook_delete(struct lb_tx *base, const char *tenant, const char *id)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "DELETE FROM webhooks WHERE tenant = :tenant AND id = :id",
	    &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0)
		err = LB_ERR_NOT_FOUND;
out:
	sq_finish(&q);
	return err;
}

int
sq_webhook_list(struct lb_tx *base, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_webhook *w), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct lb_webhook w;
	bool m = false, keyed = pg->after_id[0] != '\0';
	int err;

	if (keyed)
		SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM webhooks WHERE tenant = :tenant"
		    SQ_AFTER_DESC SQ_ORDER_DESC, &q));
	else
		SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM webhooks WHERE tenant = :tenant"
		    SQ_ORDER_DESC, &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_webhook_get(base, tenant, k.v[i], &w)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &w)) != 0)
			goto out;
	}
	err = 0;
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

int
sq_webhook_count(struct lb_tx *base, const char *tenant, uint64_t *out)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT COUNT(*) FROM webhooks WHERE tenant = :tenant", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(one_row(&q));
	int64_t v = sq_col_i64(&q, 0);
	*out = v > 0 ? (uint64_t)v : 0;
out:
	sq_finish(&q);
	return err;
}
