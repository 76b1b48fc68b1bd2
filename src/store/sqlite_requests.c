/*
 * SQLite rows for access requests and their decisions.
 *
 * This is where the store's one hard promise lives: a decision can never
 * be recorded twice, even by two threads or two processes racing.
 * store_request_update changes a request only if its version is still the
 * one the caller read (one UPDATE ... WHERE version = ?, then changes()),
 * and the decisions it appends are unique per (request, index) and, for
 * approvals, per (request, approver); the whole update runs under a
 * savepoint so a refusal leaves nothing behind.
 *
 * The status filter of store_request_list is applied "as of now" in SQL,
 * the same way lb_request_status_at decides it in the core: a stored
 * pending row past its pending expiry counts as expired, a stored approved
 * row past its access window as completed.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

#define REQUEST_COLS "id, tenant, case_id, requester, workload, resources," \
	" justification, status, duration_minutes, created_ms, pending_expires_ms," \
	" access_starts_ms, access_expires_ms, internal_required, version"

/* ------------------------------------------------------------ decisions */

static int
decision_insert(struct sq_tx *tx, const char *request_id, size_t idx,
    const struct lb_decision *d)
{
	struct sq_q q = { 0 };
	const char *kind = lb_store_decision_name((int)d->kind);
	int err;

	if (kind == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(sq_prepare(tx, "INSERT INTO decisions (request_id, idx, by_id, realm, stage,"
	    " kind, comment, at_ms, duration_minutes) VALUES (:req, :idx, :by, :realm,"
	    " :stage, :kind, :comment, :at, :dur)", &q));
	SQ_TRY(sq_bind_text(&q, ":req", request_id, LB_REQID_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":idx", (int64_t)idx));
	SQ_TRY(sq_bind_text(&q, ":by", d->by, sizeof(d->by)));
	SQ_TRY(sq_bind_text(&q, ":realm", d->realm, sizeof(d->realm)));
	SQ_TRY(sq_bind_i64(&q, ":stage", d->stage));
	SQ_TRY(sq_bind_text(&q, ":kind", kind, 0));
	SQ_TRY(sq_bind_text(&q, ":comment", d->comment, sizeof(d->comment)));
	SQ_TRY(sq_bind_i64(&q, ":at", d->at_ms));
	SQ_TRY(sq_bind_i64(&q, ":dur", d->duration_minutes));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

/* Loads the decisions of request `id` into r (r->ndecisions set). */
static int
decisions_load(struct sq_tx *tx, const char *id, struct lb_request *r)
{
	struct sq_q q = { 0 };
	size_t n = 0;
	int err = 0, rc;

	SQ_TRY(sq_prepare(tx, "SELECT by_id, realm, stage, kind, comment, at_ms,"
	    " duration_minutes FROM decisions WHERE request_id = :id ORDER BY idx", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	while ((rc = sq_step(&q)) == 1) {
		struct lb_decision *d;

		if (n == LB_DECISIONS_MAX) {
			err = LB_ERR_UNAVAILABLE;       /* more than a request can hold */
			goto out;
		}
		d = &r->decisions[n];
		SQ_TRY(sq_col_text(&q, 0, d->by, sizeof(d->by)));
		SQ_TRY(sq_col_text(&q, 1, d->realm, sizeof(d->realm)));
		SQ_TRY(sq_col_int(&q, 2, &d->stage));
		SQ_TRY(lb_store_decision_parse(sq_col_str(&q, 3), &d->kind));
		SQ_TRY(sq_col_text(&q, 4, d->comment, sizeof(d->comment)));
		d->at_ms = sq_col_i64(&q, 5);
		SQ_TRY(sq_col_int(&q, 6, &d->duration_minutes));
		n++;
	}
	if (rc < 0) {
		err = rc;
		goto out;
	}
	r->ndecisions = n;
out:
	sq_finish(&q);
	return err;
}

/* ------------------------------------------------------------- requests */

int
sq_request_insert(struct lb_tx *base, const struct lb_request *r)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_q q = { 0 };
	const char *status = lb_store_status_name((int)r->status);
	char *resources = NULL;
	int err;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	if (r->nresources > LB_RESOURCES_MAX || r->ndecisions > LB_DECISIONS_MAX) {
		err = LB_ERR_TOO_MANY_ITEMS;
		goto out;
	}
	SQ_TRY(lb_store_strings_encode(&r->resources[0][0], sizeof(r->resources[0]),
	    r->nresources, &resources));
	SQ_TRY(sq_prepare(tx, "INSERT INTO requests (" REQUEST_COLS ") VALUES (:id, :tenant,"
	    " :case_id, :requester, :workload, :resources, :justification, :status,"
	    " :duration, :created, :pexp, :astart, :aexp, :internal, :version)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", r->id, sizeof(r->id)));
	SQ_TRY(sq_bind_text(&q, ":tenant", r->tenant, sizeof(r->tenant)));
	SQ_TRY(sq_bind_text(&q, ":case_id", r->case_id, sizeof(r->case_id)));
	SQ_TRY(sq_bind_text(&q, ":requester", r->requester, sizeof(r->requester)));
	SQ_TRY(sq_bind_text(&q, ":workload", r->workload, sizeof(r->workload)));
	SQ_TRY(sq_bind_text(&q, ":resources", resources, 0));
	SQ_TRY(sq_bind_text(&q, ":justification", r->justification, sizeof(r->justification)));
	SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_i64(&q, ":duration", r->duration_minutes));
	SQ_TRY(sq_bind_i64(&q, ":created", r->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":pexp", r->pending_expires_ms));
	SQ_TRY(sq_bind_i64(&q, ":astart", r->access_starts_ms));
	SQ_TRY(sq_bind_i64(&q, ":aexp", r->access_expires_ms));
	SQ_TRY(sq_bind_i64(&q, ":internal", r->internal_required ? 1 : 0));
	SQ_TRY(sq_bind_i64(&q, ":version", r->version));
	SQ_TRY(sq_exec(&q));
	for (size_t i = 0; i < r->ndecisions; i++)
		SQ_TRY(decision_insert(tx, r->id, i, &r->decisions[i]));
out:
	sq_finish(&q);
	free(resources);
	return err;
}

int
sq_request_get(struct lb_tx *base, const char *id, struct lb_request *out)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_q q = { 0 };
	struct lb_request *r;
	int err, rc;

	/* About 47 KiB: too big for the stacks of some thread pools. */
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return LB_ERR_NOMEM;
	SQ_TRY(sq_prepare(tx, "SELECT " REQUEST_COLS " FROM requests WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_text(&q, 0, r->id, sizeof(r->id)));
	SQ_TRY(sq_col_text(&q, 1, r->tenant, sizeof(r->tenant)));
	SQ_TRY(sq_col_text(&q, 2, r->case_id, sizeof(r->case_id)));
	SQ_TRY(sq_col_text(&q, 3, r->requester, sizeof(r->requester)));
	SQ_TRY(sq_col_text(&q, 4, r->workload, sizeof(r->workload)));
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 5), &r->resources[0][0],
	    sizeof(r->resources[0]), LB_RESOURCES_MAX, &r->nresources));
	SQ_TRY(sq_col_text(&q, 6, r->justification, sizeof(r->justification)));
	SQ_TRY(lb_store_status_parse(sq_col_str(&q, 7), &r->status));
	SQ_TRY(sq_col_int(&q, 8, &r->duration_minutes));
	r->created_ms = sq_col_i64(&q, 9);
	r->pending_expires_ms = sq_col_i64(&q, 10);
	r->access_starts_ms = sq_col_i64(&q, 11);
	r->access_expires_ms = sq_col_i64(&q, 12);
	r->internal_required = sq_col_i64(&q, 13) != 0;
	r->version = sq_col_i64(&q, 14);
	sq_finish(&q);
	SQ_TRY(decisions_load(tx, r->id, r));
	*out = *r;
out:
	sq_finish(&q);
	free(r);
	return err;
}

/* The body of sq_request_update, run under its savepoint. */
static int
update_guarded(struct sq_tx *tx, const struct lb_request *r, const char *status,
    int64_t expected_version)
{
	struct sq_q q = { 0 };
	int64_t stored;
	int err, rc;

	SQ_TRY(sq_prepare(tx, "UPDATE requests SET status = :status, access_starts_ms = :astart,"
	    " access_expires_ms = :aexp, version = version + 1"
	    " WHERE id = :id AND version = :version", &q));
	SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_i64(&q, ":astart", r->access_starts_ms));
	SQ_TRY(sq_bind_i64(&q, ":aexp", r->access_expires_ms));
	SQ_TRY(sq_bind_text(&q, ":id", r->id, sizeof(r->id)));
	SQ_TRY(sq_bind_i64(&q, ":version", expected_version));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0) {
		/* Lost the race, unless there is no such request at all. */
		sq_finish(&q);
		SQ_TRY(sq_prepare(tx, "SELECT 1 FROM requests WHERE id = :id", &q));
		SQ_TRY(sq_bind_text(&q, ":id", r->id, sizeof(r->id)));
		rc = sq_step(&q);
		err = rc < 0 ? rc : rc == 1 ? LB_ERR_CONFLICT : LB_ERR_NOT_FOUND;
		goto out;
	}
	sq_finish(&q);
	SQ_TRY(sq_prepare(tx, "SELECT COUNT(*) FROM decisions WHERE request_id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", r->id, sizeof(r->id)));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_UNAVAILABLE;
		goto out;
	}
	stored = sq_col_i64(&q, 0);
	sq_finish(&q);
	/* The caller's copy lacks stored decisions: it is stale. */
	if (stored < 0 || (uint64_t)stored > r->ndecisions) {
		err = LB_ERR_CONFLICT;
		goto out;
	}
	for (size_t i = (size_t)stored; i < r->ndecisions; i++) {
		err = decision_insert(tx, r->id, i, &r->decisions[i]);
		/* A second decision at one index, or a second approval by one person. */
		if (err == LB_ERR_ALREADY_EXISTS)
			err = LB_ERR_CONFLICT;
		if (err != 0)
			goto out;
	}
out:
	sq_finish(&q);
	return err;
}

int
sq_request_update(struct lb_tx *base, const struct lb_request *r, int64_t expected_version)
{
	struct sq_tx *tx = sq_tx(base);
	const char *status = lb_store_status_name((int)r->status);
	int err;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	if (r->ndecisions > LB_DECISIONS_MAX) {
		err = LB_ERR_TOO_MANY_ITEMS;
		goto out;
	}
	SQ_TRY(sq_exec_sql(tx, "SAVEPOINT request_update"));
	if ((err = update_guarded(tx, r, status, expected_version)) != 0) {
		/* Nothing written: undo the UPDATE if the decisions were refused. */
		if (!tx->failed) {
			sq_exec_sql(tx, "ROLLBACK TO request_update");
			sq_exec_sql(tx, "RELEASE request_update");
		}
		goto out;
	}
	err = sq_exec_sql(tx, "RELEASE request_update");
out:
	return err;
}

/* The WHERE fragment for "status as of :now" (lb_request_status_at). */
static const char *
status_clause(int status)
{
	switch (status) {
	case LB_ST_PENDING:
		return " AND status = 'pending' AND pending_expires_ms > :now";
	case LB_ST_PENDING_INTERNAL:
		return " AND status = 'pending_internal' AND pending_expires_ms > :now";
	case LB_ST_EXPIRED:
		return " AND (status = 'expired' OR (status IN ('pending', 'pending_internal')"
		    " AND pending_expires_ms <= :now))";
	case LB_ST_APPROVED:
		return " AND status = 'approved' AND access_expires_ms > :now";
	case LB_ST_COMPLETED:
		return " AND (status = 'completed' OR (status = 'approved'"
		    " AND access_expires_ms <= :now))";
	default:
		return " AND status = :status";
	}
}

/* Rows whose stored status the passage of time has made stale. */
#define DUE_CLAUSE " AND ((status IN ('pending', 'pending_internal')" \
	" AND pending_expires_ms <= :now) OR (status = 'approved'" \
	" AND access_expires_ms <= :now))"

int
sq_request_list(struct lb_tx *base, const struct lb_request_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_request *r),
    void *ctx, bool *more)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct lb_request *r = NULL;
	const char *status = NULL, *clause = NULL;
	bool m = false, keyed = false;
	int err;

	sq_sql_add(&sql, "SELECT id FROM requests WHERE 1 = 1");
	if (f->tenant != NULL)
		sq_sql_add(&sql, " AND tenant = :tenant");
	if (f->requester != NULL)
		sq_sql_add(&sql, " AND requester = :requester");
	if (f->due_only) {
		sq_sql_add(&sql, DUE_CLAUSE " ORDER BY created_ms ASC, id ASC LIMIT :lim");
	} else {
		if (f->status >= 0) {
			if ((status = lb_store_status_name(f->status)) == NULL) {
				err = LB_ERR_INVALID_VALUE;
				goto out;
			}
			clause = status_clause(f->status);
			sq_sql_add(&sql, clause);
		}
		keyed = pg->after_id[0] != '\0';
		if (keyed)
			sq_sql_add(&sql, SQ_AFTER_DESC);
		sq_sql_add(&sql, SQ_ORDER_DESC);
	}
	SQ_TRY(sq_prepare(tx, sq_sql_text(&sql), &q));
	if (f->tenant != NULL)
		SQ_TRY(sq_bind_text(&q, ":tenant", f->tenant, 0));
	if (f->requester != NULL)
		SQ_TRY(sq_bind_text(&q, ":requester", f->requester, 0));
	if (f->due_only || (clause != NULL && strstr(clause, ":now") != NULL))
		SQ_TRY(sq_bind_i64(&q, ":now", f->now_ms));
	if (clause != NULL && strstr(clause, ":status") != NULL)
		SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	if (k.n > 0 && (r = malloc(sizeof(*r))) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_request_get(base, k.v[i], r)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, r)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	free(r);
	return err;
}

/* Adds the (status, count) rows of `sql` into c. */
static int
count_into(struct sq_tx *tx, const char *sql, int64_t now_ms, int64_t c[LB_ST_COUNT])
{
	struct sq_q q = { 0 };
	enum lb_status st;
	int err = 0, rc;

	SQ_TRY(sq_prepare(tx, sql, &q));
	if (sqlite3_bind_parameter_index(q.stmt, ":now") != 0)
		SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	while ((rc = sq_step(&q)) == 1) {
		SQ_TRY(lb_store_status_parse(sq_col_str(&q, 0), &st));
		c[st] += sq_col_i64(&q, 1);
	}
	if (rc < 0)
		err = rc;
out:
	sq_finish(&q);
	return err;
}

int
sq_request_count(struct lb_tx *base, int64_t now_ms, uint64_t counts[LB_ST_COUNT])
{
	struct sq_tx *tx = sq_tx(base);
	int64_t stored[LB_ST_COUNT] = { 0 }, stale[LB_ST_COUNT] = { 0 };
	int err;

	/*
	 * Three index-only queries instead of a scan with CASE: counts by
	 * stored status, then the stale rows, which move from pending* to
	 * expired and from approved to completed.
	 */
	SQ_TRY(count_into(tx, "SELECT status, COUNT(*) FROM requests GROUP BY status",
	    now_ms, stored));
	SQ_TRY(count_into(tx, "SELECT status, COUNT(*) FROM requests WHERE status IN"
	    " ('pending', 'pending_internal') AND pending_expires_ms <= :now GROUP BY status",
	    now_ms, stale));
	SQ_TRY(count_into(tx, "SELECT status, COUNT(*) FROM requests WHERE status = 'approved'"
	    " AND access_expires_ms <= :now GROUP BY status", now_ms, stale));
	stored[LB_ST_EXPIRED] += stale[LB_ST_PENDING] + stale[LB_ST_PENDING_INTERNAL];
	stored[LB_ST_COMPLETED] += stale[LB_ST_APPROVED];
	for (int i = 0; i < LB_ST_COUNT; i++) {
		stored[i] -= stale[i];
		if (stored[i] < 0) {
			err = LB_ERR_UNAVAILABLE;
			goto out;
		}
	}
	for (int i = 0; i < LB_ST_COUNT; i++)
		counts[i] = (uint64_t)stored[i];
out:
	return err;
}
