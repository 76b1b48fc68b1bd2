/*
 * SQLite rows for break-glass: incidents, emergency accesses, the outbox
 * rows that carry each access's notice to the tenant, and the provider's
 * cap on emergency accesses (migration 5, schema.c).
 *
 * The patterns are those of sqlite_requests.c: a get reads one row into a
 * heap copy and writes the caller's struct only when every column decoded;
 * an update is guarded by the version the caller read (UPDATE ... WHERE
 * version = ?, then changes()), so two incident managers racing to approve
 * or end one access end with one change and one LB_ERR_CONFLICT; a list
 * collects the keys of one page first and loads each row afterwards.  The
 * status filter is applied "as of now" the way lb_emergency_status_at
 * decides it: a row stored active past its expiry counts as expired.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

#define INCIDENT_COLS "id, title, severity, tenants, declared_by, started_ms, ended_ms," \
	" closed_by, version"

#define EMERGENCY_COLS "id, incident_id, tenant, requester, approver, workload, resources," \
	" justification, duration_minutes, status, created_ms, starts_ms, expires_ms," \
	" ended_ms, ended_by, end_reason, objection_by, objection_comment, objection_ms," \
	" review_by, review_response, review_ms, notice_overdue_ms, version"

/* A row of `id` in `table` exists: 1, 0, or an error. */
static int
row_exists(struct sq_tx *tx, const char *sql, const char *id)
{
	struct sq_q q = { 0 };
	int err, rc = 0;

	SQ_TRY(sq_prepare(tx, sql, &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	rc = sq_step(&q);
	err = rc < 0 ? rc : 0;
out:
	sq_finish(&q);
	return err != 0 ? err : rc;
}

/* ------------------------------------------------------------- incidents */

int
sq_incident_insert(struct lb_tx *base, const struct lb_incident *inc)
{
	struct sq_q q = { 0 };
	const char *sev = lb_severity_name(inc->severity);
	char *tenants = NULL;
	int err;

	if (strcmp(sev, "unknown") == 0) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(lb_store_strings_encode(&inc->tenants[0][0], sizeof(inc->tenants[0]),
	    inc->ntenants, &tenants));
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO incidents (" INCIDENT_COLS ") VALUES (:id,"
	    " :title, :sev, :tenants, :by, :started, :ended, :closed_by, :version)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", inc->id, sizeof(inc->id)));
	SQ_TRY(sq_bind_text(&q, ":title", inc->title, sizeof(inc->title)));
	SQ_TRY(sq_bind_text(&q, ":sev", sev, 0));
	SQ_TRY(sq_bind_text(&q, ":tenants", tenants, 0));
	SQ_TRY(sq_bind_text(&q, ":by", inc->declared_by, sizeof(inc->declared_by)));
	SQ_TRY(sq_bind_i64(&q, ":started", inc->started_ms));
	SQ_TRY(sq_bind_i64(&q, ":ended", inc->ended_ms));
	SQ_TRY(sq_bind_text(&q, ":closed_by", inc->closed_by, sizeof(inc->closed_by)));
	SQ_TRY(sq_bind_i64(&q, ":version", inc->version));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	free(tenants);
	return err;
}

int
sq_incident_get(struct lb_tx *base, const char *id, struct lb_incident *out)
{
	struct sq_q q = { 0 };
	struct lb_incident *inc;
	int err, rc;

	if ((inc = calloc(1, sizeof(*inc))) == NULL)
		return LB_ERR_NOMEM;
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " INCIDENT_COLS " FROM incidents WHERE id = :id",
	    &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_text(&q, 0, inc->id, sizeof(inc->id)));
	SQ_TRY(sq_col_text(&q, 1, inc->title, sizeof(inc->title)));
	if (lb_severity_parse(sq_col_str(&q, 2), &inc->severity) != 0) {
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 3), &inc->tenants[0][0],
	    sizeof(inc->tenants[0]), LB_INCIDENT_TENANTS_MAX, &inc->ntenants));
	SQ_TRY(sq_col_text(&q, 4, inc->declared_by, sizeof(inc->declared_by)));
	inc->started_ms = sq_col_i64(&q, 5);
	inc->ended_ms = sq_col_i64(&q, 6);
	SQ_TRY(sq_col_text(&q, 7, inc->closed_by, sizeof(inc->closed_by)));
	inc->version = sq_col_i64(&q, 8);
	*out = *inc;
out:
	sq_finish(&q);
	free(inc);
	return err;
}

int
sq_incident_update(struct lb_tx *base, const struct lb_incident *inc, int64_t expected_version)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_prepare(tx, "UPDATE incidents SET ended_ms = :ended, closed_by = :closed_by,"
	    " version = version + 1 WHERE id = :id AND version = :version", &q));
	SQ_TRY(sq_bind_i64(&q, ":ended", inc->ended_ms));
	SQ_TRY(sq_bind_text(&q, ":closed_by", inc->closed_by, sizeof(inc->closed_by)));
	SQ_TRY(sq_bind_text(&q, ":id", inc->id, sizeof(inc->id)));
	SQ_TRY(sq_bind_i64(&q, ":version", expected_version));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0) {
		sq_finish(&q);
		rc = row_exists(tx, "SELECT 1 FROM incidents WHERE id = :id", inc->id);
		err = rc < 0 ? rc : rc == 1 ? LB_ERR_CONFLICT : LB_ERR_NOT_FOUND;
	}
out:
	sq_finish(&q);
	return err;
}

int
sq_incident_list(struct lb_tx *base, bool open_only, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_incident *inc), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct lb_incident *inc = NULL;
	bool m = false, keyed = pg->after_id[0] != '\0';
	int err;

	sq_sql_add(&sql, "SELECT id FROM incidents WHERE 1 = 1");
	if (open_only)
		sq_sql_add(&sql, " AND ended_ms = 0");
	if (keyed)
		sq_sql_add(&sql, " AND (started_ms < :after_ms OR (started_ms = :after_ms"
		    " AND id < :after_id))");
	sq_sql_add(&sql, " ORDER BY started_ms DESC, id DESC LIMIT :lim");
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	if (k.n > 0 && (inc = malloc(sizeof(*inc))) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_incident_get(base, k.v[i], inc)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, inc)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	free(inc);
	return err;
}

/* ------------------------------------------------------- emergency access */

/* Binds every column of EMERGENCY_COLS but id and version. */
static int
bind_emergency(struct sq_q *q, const struct lb_emergency *e, const char *status)
{
	int err;

	SQ_TRY(sq_bind_text(q, ":approver", e->approver, sizeof(e->approver)));
	SQ_TRY(sq_bind_text(q, ":status", status, 0));
	SQ_TRY(sq_bind_i64(q, ":starts", e->starts_ms));
	SQ_TRY(sq_bind_i64(q, ":expires", e->expires_ms));
	SQ_TRY(sq_bind_i64(q, ":ended", e->ended_ms));
	SQ_TRY(sq_bind_text(q, ":ended_by", e->ended_by, sizeof(e->ended_by)));
	SQ_TRY(sq_bind_text(q, ":end_reason", e->end_reason, sizeof(e->end_reason)));
	SQ_TRY(sq_bind_text(q, ":obj_by", e->objection_by, sizeof(e->objection_by)));
	SQ_TRY(sq_bind_text(q, ":obj_comment", e->objection_comment,
	    sizeof(e->objection_comment)));
	SQ_TRY(sq_bind_i64(q, ":obj_ms", e->objection_ms));
	SQ_TRY(sq_bind_text(q, ":rev_by", e->review_by, sizeof(e->review_by)));
	SQ_TRY(sq_bind_text(q, ":rev_response", e->review_response,
	    sizeof(e->review_response)));
	SQ_TRY(sq_bind_i64(q, ":rev_ms", e->review_ms));
	SQ_TRY(sq_bind_i64(q, ":overdue", e->notice_overdue_ms));
out:
	return err;
}

static const char *
status_name(enum lb_emergency_status s)
{
	const char *n = lb_emergency_status_name(s);

	return strcmp(n, "unknown") == 0 ? NULL : n;
}

int
sq_emergency_insert(struct lb_tx *base, const struct lb_emergency *e)
{
	struct sq_q q = { 0 };
	const char *status = status_name(e->status);
	char *resources = NULL;
	int err;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(lb_store_strings_encode(&e->resources[0][0], sizeof(e->resources[0]),
	    e->nresources, &resources));
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO emergency_access (" EMERGENCY_COLS ")"
	    " VALUES (:id, :incident, :tenant, :requester, :approver, :workload, :resources,"
	    " :justification, :duration, :status, :created, :starts, :expires, :ended,"
	    " :ended_by, :end_reason, :obj_by, :obj_comment, :obj_ms, :rev_by, :rev_response,"
	    " :rev_ms, :overdue, :version)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", e->id, sizeof(e->id)));
	SQ_TRY(sq_bind_text(&q, ":incident", e->incident, sizeof(e->incident)));
	SQ_TRY(sq_bind_text(&q, ":tenant", e->tenant, sizeof(e->tenant)));
	SQ_TRY(sq_bind_text(&q, ":requester", e->requester, sizeof(e->requester)));
	SQ_TRY(sq_bind_text(&q, ":workload", e->workload, sizeof(e->workload)));
	SQ_TRY(sq_bind_text(&q, ":resources", resources, 0));
	SQ_TRY(sq_bind_text(&q, ":justification", e->justification, sizeof(e->justification)));
	SQ_TRY(sq_bind_i64(&q, ":duration", e->duration_minutes));
	SQ_TRY(sq_bind_i64(&q, ":created", e->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":version", e->version));
	SQ_TRY(bind_emergency(&q, e, status));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	free(resources);
	return err;
}

int
sq_emergency_get(struct lb_tx *base, const char *id, struct lb_emergency *out)
{
	struct sq_q q = { 0 };
	struct lb_emergency *e;
	int err, rc;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return LB_ERR_NOMEM;
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " EMERGENCY_COLS " FROM emergency_access"
	    " WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_text(&q, 0, e->id, sizeof(e->id)));
	SQ_TRY(sq_col_text(&q, 1, e->incident, sizeof(e->incident)));
	SQ_TRY(sq_col_text(&q, 2, e->tenant, sizeof(e->tenant)));
	SQ_TRY(sq_col_text(&q, 3, e->requester, sizeof(e->requester)));
	SQ_TRY(sq_col_text(&q, 4, e->approver, sizeof(e->approver)));
	SQ_TRY(sq_col_text(&q, 5, e->workload, sizeof(e->workload)));
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 6), &e->resources[0][0],
	    sizeof(e->resources[0]), LB_RESOURCES_MAX, &e->nresources));
	SQ_TRY(sq_col_text(&q, 7, e->justification, sizeof(e->justification)));
	SQ_TRY(sq_col_int(&q, 8, &e->duration_minutes));
	if (lb_emergency_status_parse(sq_col_str(&q, 9), &e->status) != 0) {
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	e->created_ms = sq_col_i64(&q, 10);
	e->starts_ms = sq_col_i64(&q, 11);
	e->expires_ms = sq_col_i64(&q, 12);
	e->ended_ms = sq_col_i64(&q, 13);
	SQ_TRY(sq_col_text(&q, 14, e->ended_by, sizeof(e->ended_by)));
	SQ_TRY(sq_col_text(&q, 15, e->end_reason, sizeof(e->end_reason)));
	SQ_TRY(sq_col_text(&q, 16, e->objection_by, sizeof(e->objection_by)));
	SQ_TRY(sq_col_text(&q, 17, e->objection_comment, sizeof(e->objection_comment)));
	e->objection_ms = sq_col_i64(&q, 18);
	SQ_TRY(sq_col_text(&q, 19, e->review_by, sizeof(e->review_by)));
	SQ_TRY(sq_col_text(&q, 20, e->review_response, sizeof(e->review_response)));
	e->review_ms = sq_col_i64(&q, 21);
	e->notice_overdue_ms = sq_col_i64(&q, 22);
	e->version = sq_col_i64(&q, 23);
	*out = *e;
out:
	sq_finish(&q);
	free(e);
	return err;
}

int
sq_emergency_update(struct lb_tx *base, const struct lb_emergency *e, int64_t expected_version)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_q q = { 0 };
	const char *status = status_name(e->status);
	int err, rc;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(sq_prepare(tx, "UPDATE emergency_access SET approver = :approver,"
	    " status = :status, starts_ms = :starts, expires_ms = :expires, ended_ms = :ended,"
	    " ended_by = :ended_by, end_reason = :end_reason, objection_by = :obj_by,"
	    " objection_comment = :obj_comment, objection_ms = :obj_ms, review_by = :rev_by,"
	    " review_response = :rev_response, review_ms = :rev_ms,"
	    " notice_overdue_ms = :overdue, version = version + 1"
	    " WHERE id = :id AND version = :version", &q));
	SQ_TRY(bind_emergency(&q, e, status));
	SQ_TRY(sq_bind_text(&q, ":id", e->id, sizeof(e->id)));
	SQ_TRY(sq_bind_i64(&q, ":version", expected_version));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0) {
		sq_finish(&q);
		rc = row_exists(tx, "SELECT 1 FROM emergency_access WHERE id = :id", e->id);
		err = rc < 0 ? rc : rc == 1 ? LB_ERR_CONFLICT : LB_ERR_NOT_FOUND;
	}
out:
	sq_finish(&q);
	return err;
}

/* The WHERE fragment for "status as of :now" (lb_emergency_status_at). */
static const char *
status_clause(int status)
{
	switch (status) {
	case LB_EM_ACTIVE:
		return " AND status = 'active' AND expires_ms > :now";
	case LB_EM_EXPIRED:
		return " AND (status = 'expired' OR (status = 'active' AND expires_ms <= :now))";
	case LB_EM_PENDING_APPROVAL:
		return " AND status = 'pending_approval'";
	case LB_EM_ENDED:
		return " AND status = 'ended'";
	default:
		return NULL;
	}
}

int
sq_emergency_list(struct lb_tx *base, const struct lb_emergency_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_emergency *e),
    void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct lb_emergency *e = NULL;
	const char *clause = NULL;
	bool m = false, keyed = false, sweep = f->due_only || f->notice_due;
	int err;

	sq_sql_add(&sql, "SELECT id FROM emergency_access WHERE 1 = 1");
	if (f->tenant != NULL)
		sq_sql_add(&sql, " AND tenant = :tenant");
	if (f->incident != NULL)
		sq_sql_add(&sql, " AND incident_id = :incident");
	if (f->requester != NULL)
		sq_sql_add(&sql, " AND requester = :requester");
	if (f->due_only) {
		sq_sql_add(&sql, " AND status = 'active' AND expires_ms <= :now"
		    " ORDER BY expires_ms ASC, id ASC LIMIT :lim");
	} else if (f->notice_due) {
		sq_sql_add(&sql, " AND notice_overdue_ms = 0 AND starts_ms > 0"
		    " AND starts_ms <= :cut ORDER BY starts_ms ASC, id ASC LIMIT :lim");
	} else {
		if (f->status >= 0) {
			if ((clause = status_clause(f->status)) == NULL) {
				err = LB_ERR_INVALID_VALUE;
				goto out;
			}
			sq_sql_add(&sql, clause);
		}
		keyed = pg->after_id[0] != '\0';
		if (keyed)
			sq_sql_add(&sql, SQ_AFTER_DESC);
		sq_sql_add(&sql, SQ_ORDER_DESC);
	}
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	if (f->tenant != NULL)
		SQ_TRY(sq_bind_text(&q, ":tenant", f->tenant, 0));
	if (f->incident != NULL)
		SQ_TRY(sq_bind_text(&q, ":incident", f->incident, 0));
	if (f->requester != NULL)
		SQ_TRY(sq_bind_text(&q, ":requester", f->requester, 0));
	if (f->due_only || (clause != NULL && strstr(clause, ":now") != NULL))
		SQ_TRY(sq_bind_i64(&q, ":now", f->now_ms));
	if (!f->due_only && f->notice_due)
		SQ_TRY(sq_bind_i64(&q, ":cut", f->now_ms - LB_EMERGENCY_NOTICE_MS));
	SQ_TRY(sq_bind_page(&q, pg, keyed && !sweep));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	if (k.n > 0 && (e = malloc(sizeof(*e))) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_emergency_get(base, k.v[i], e)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, e)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	free(e);
	return err;
}

int
sq_emergency_count_since(struct lb_tx *base, const char *tenant, int64_t since_ms,
    uint64_t *out)
{
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT COUNT(*) FROM emergency_access"
	    " WHERE tenant = :tenant AND created_ms > :since", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_i64(&q, ":since", since_ms));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_UNAVAILABLE;
		goto out;
	}
	*out = (uint64_t)sq_col_i64(&q, 0);
out:
	sq_finish(&q);
	return err;
}

int
sq_emergency_notice_link(struct lb_tx *base, const char *emergency_id, const char *tenant,
    int64_t deadline_ms, uint64_t *linked)
{
	struct sq_q q = { 0 };
	int err;

	/*
	 * The writer is serialised, so the unlinked rows with this tenant,
	 * topic and deadline are exactly those the caller's transaction wrote.
	 */
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO emergency_notices (emergency_id, outbox_id)"
	    " SELECT :eid, o.id FROM outbox o WHERE o.tenant = :tenant"
	    " AND o.topic = 'emergency.started' AND o.deadline_ms = :deadline"
	    " AND NOT EXISTS (SELECT 1 FROM emergency_notices n WHERE n.outbox_id = o.id)", &q));
	SQ_TRY(sq_bind_text(&q, ":eid", emergency_id, LB_REQID_MAX + 1));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, LB_ID_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":deadline", deadline_ms));
	SQ_TRY(sq_exec(&q));
	*linked = (uint64_t)sq_changes(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_emergency_notice_state(struct lb_tx *base, const char *emergency_id, uint64_t *rows,
    int64_t *delivered_ms)
{
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT COUNT(*), COALESCE(MIN(CASE WHEN"
	    " o.delivered_ms > 0 THEN o.delivered_ms END), 0) FROM emergency_notices n"
	    " JOIN outbox o ON o.id = n.outbox_id WHERE n.emergency_id = :eid", &q));
	SQ_TRY(sq_bind_text(&q, ":eid", emergency_id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_UNAVAILABLE;
		goto out;
	}
	*rows = (uint64_t)sq_col_i64(&q, 0);
	*delivered_ms = sq_col_i64(&q, 1);
out:
	sq_finish(&q);
	return err;
}

/* ----------------------------------------------------- provider settings */

int
sq_emergency_settings_get(struct lb_tx *base, struct lb_provider_settings *out)
{
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT emergency_cap, emergency_window_hours"
	    " FROM provider_settings WHERE id = 'provider'", &q));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_int(&q, 0, &out->emergency_cap));
	SQ_TRY(sq_col_int(&q, 1, &out->emergency_window_hours));
out:
	sq_finish(&q);
	return err;
}

int
sq_emergency_settings_put(struct lb_tx *base, const struct lb_provider_settings *ps)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE provider_settings SET emergency_cap = :cap,"
	    " emergency_window_hours = :hours WHERE id = 'provider'", &q));
	SQ_TRY(sq_bind_i64(&q, ":cap", lb_emergency_cap(ps)));
	SQ_TRY(sq_bind_i64(&q, ":hours", lb_emergency_window_ms(ps) / (60LL * 60 * 1000)));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}
