/*
 * Committing break-glass: an emergency access change, its audit record in
 * the tenant's chain and what the tenant must be told, in one transaction;
 * the live grants kept in step; and the sweeper's two duties, the end of
 * each window and the 48-hour notice deadline.
 *
 * The core (src/core/emergency.c) decides; this file stores what it
 * decided, the same way app.c does for requests.  The tenant's notice is
 * written by the notifier's own writer (notify_enqueue_emergency: emails to
 * the approvers and shared mailboxes, the tenant's webhooks, each row with
 * its deadline), and the rows it wrote are linked to the access so the API
 * can show when the notice was delivered.  The notifier records an
 * undelivered row overdue at its deadline; the sweeper here covers the one
 * case the notifier cannot see, an access whose tenant had nobody to tell
 * (no outbox row at all), and remembers per access that its deadline was
 * checked.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notify/notify.h"

#define SWEEP_BATCH 200

static json_t *
time_or_null(int64_t ms)
{
	char ts[32];

	if (ms == 0 || lb_time_format(ms, ts, sizeof(ts)) != 0)
		return json_null();
	return json_string(ts);
}

static json_t *
resources_json(const char (*res)[LB_RESOURCE_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(res[i]));
	return a;
}

json_t *
app_emergency_details(const struct lb_emergency *e, int op)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:s}",
	    "emergency_id", e->id, "incident", e->incident, "tenant", e->tenant,
	    "requester", e->requester, "workload", e->workload,
	    "resources", resources_json((const char (*)[LB_RESOURCE_MAX + 1])e->resources,
	    e->nresources),
	    "duration_minutes", e->duration_minutes,
	    "status", lb_emergency_status_name(e->status));

	if (d == NULL)
		return NULL;
	/* The tenant's notice (APPROVE) says why, as the request did. */
	if (op == LB_EM_OP_REQUEST || op == LB_EM_OP_APPROVE)
		json_object_set_new(d, "justification", json_string(e->justification));
	if (e->approver[0] != '\0')
		json_object_set_new(d, "approver", json_string(e->approver));
	if (e->starts_ms != 0) {
		json_object_set_new(d, "starts_at", time_or_null(e->starts_ms));
		json_object_set_new(d, "expires_at", time_or_null(e->expires_ms));
		json_object_set_new(d, "notification_due_at",
		    time_or_null(lb_emergency_notice_due(e)));
	}
	if (op == LB_EM_OP_END || op == LB_EM_OP_EXPIRE) {
		json_object_set_new(d, "ended_at", time_or_null(e->ended_ms));
		json_object_set_new(d, "ended_by", e->ended_by[0] ? json_string(e->ended_by) :
		    json_null());
		json_object_set_new(d, "end_reason", json_string(e->end_reason));
	}
	if (op == LB_EM_OP_OBJECT || op == LB_EM_OP_REVIEW)
		json_object_set_new(d, "objection", json_pack("{s:s, s:s, s:o}",
		    "by", e->objection_by, "comment", e->objection_comment,
		    "at", time_or_null(e->objection_ms)));
	if (op == LB_EM_OP_REVIEW)
		json_object_set_new(d, "review", json_pack("{s:s, s:s, s:o}",
		    "by", e->review_by, "response", e->review_response,
		    "at", time_or_null(e->review_ms)));
	return d;
}

/* What is sent, besides the record, for `op`. */
static int
outbox_for(struct lb_tx *tx, const struct lb_emergency *e, int op, json_t *details,
    int64_t now_ms)
{
	int64_t due = lb_emergency_notice_due(e);
	uint64_t linked = 0;
	int rc;

	switch (op) {
	case LB_EM_OP_APPROVE:
		/* SPEC 2: the tenant is told at once, and within 48 h at the latest. */
		if ((rc = notify_enqueue_emergency(tx, e->tenant, e->id, details, e->starts_ms,
		    now_ms)) != 0)
			return rc;
		return store_emergency_notice_link(tx, e->id, e->tenant, due, &linked);
	case LB_EM_OP_END:
	case LB_EM_OP_EXPIRE:
		return notify_enqueue_webhooks(tx, e->tenant, "emergency.ended", details, now_ms, 0);
	case LB_EM_OP_OBJECT:
		/* The provider must answer: its endpoints are told. */
		return notify_enqueue_webhooks(tx, NULL, "emergency.objection", details, now_ms, 0);
	case LB_EM_OP_REVIEW:
		return notify_enqueue_webhooks(tx, e->tenant, "emergency.review_answered", details,
		    now_ms, 0);
	default:
		return 0;
	}
}

int
app_emergency_commit(struct lb_tx *tx, const struct lb_emergency *e, int op,
    int64_t expected_version, const struct lb_actor *actor, const char *client_ip,
    int64_t now_ms)
{
	json_t *details = NULL;
	int rc;

	if (op == LB_EM_OP_REQUEST)
		rc = store_emergency_insert(tx, e);
	else
		rc = store_emergency_update(tx, e, expected_version);
	if (rc != 0)
		return rc;
	if ((details = app_emergency_details(e, op)) == NULL)
		return LB_ERR_NOMEM;
	struct lb_audit_event ev = {
		.tenant = e->tenant,
		.record_type = LB_RT_EMERGENCY,
		.operation = lb_em_op_name(op),
		.actor = actor,
		.object_id = e->id,
		.result = "success",
		.client_ip = client_ip,
		.details = details,
		.time_ms = now_ms,
	};
	rc = audit_append(tx, &ev);
	if (rc == 0)
		rc = outbox_for(tx, e, op, details, now_ms);
	json_decref(details);
	return rc;
}

int
app_emergency_refused(struct lb_tx *tx, const struct lb_emergency_input *in,
    const struct lb_actor *actor, int err, const char *client_ip, int64_t now_ms)
{
	json_t *d;
	int rc;

	d = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:i, s:s, s:s}",
	    "incident", in->incident, "tenant", in->tenant, "requester", actor->id,
	    "workload", in->workload,
	    "resources", resources_json((const char (*)[LB_RESOURCE_MAX + 1])in->resources,
	    in->nresources),
	    "justification", in->justification,
	    "duration_minutes", in->duration_minutes == 0 ? LB_EMERGENCY_DURATION_DEFAULT :
	    in->duration_minutes,
	    "reason", lb_err_code(err), "message", lb_err_message(err));
	if (d == NULL)
		return LB_ERR_NOMEM;
	struct lb_audit_event ev = {
		.tenant = in->tenant,
		.record_type = LB_RT_EMERGENCY,
		.operation = lb_em_op_name(LB_EM_OP_REFUSE),
		.actor = actor,
		.object_id = in->incident,
		.result = "failure",
		.client_ip = client_ip,
		.details = d,
		.time_ms = now_ms,
	};
	rc = audit_append(tx, &ev);
	json_decref(d);
	return rc;
}

void
app_emergency_committed(struct lb_app *app, const struct lb_emergency *e)
{
	struct lb_live_grant *g;

	if (app->live == NULL)
		return;
	if (e->status != LB_EM_ACTIVE) {
		live_remove(app->live, e->id);
		return;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		/* Fail closed: without the entry, the grant is refused. */
		log_error("live", "msg=\"out of memory: emergency grant not live\" id=%s", e->id);
		return;
	}
	memcpy(g->rid, e->id, sizeof(g->rid));
	memcpy(g->tenant, e->tenant, sizeof(g->tenant));
	memcpy(g->requester, e->requester, sizeof(g->requester));
	memcpy(g->workload, e->workload, sizeof(g->workload));
	memcpy(g->resources, e->resources, sizeof(g->resources));
	g->nresources = e->nresources;
	g->starts_ms = e->starts_ms;
	g->expires_ms = e->expires_ms;
	g->emergency = true;
	if (live_put(app->live, g) != 0)
		log_error("live", "msg=\"out of memory: emergency grant not live\" id=%s", e->id);
	free(g);
}

/* Keys of up to SWEEP_BATCH accesses, collected before any is changed. */
struct batch {
	char ids[SWEEP_BATCH][LB_REQID_MAX + 1];
	size_t n;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
	struct lb_app *app;             /* live load: put each one at once */
};

static int
collect(void *ctx, const struct lb_emergency *e)
{
	struct batch *b = ctx;

	if (b->app != NULL)
		app_emergency_committed(b->app, e);
	else if (b->n < SWEEP_BATCH)
		memcpy(b->ids[b->n++], e->id, sizeof(b->ids[0]));
	b->last_ms = e->created_ms;
	memcpy(b->last_id, e->id, sizeof(b->last_id));
	return 0;
}

int
app_emergency_live_load(struct lb_app *app, int64_t now_ms)
{
	struct lb_emergency_filter f = { .status = LB_EM_ACTIVE, .now_ms = now_ms };
	struct lb_page pg = { .limit = 1000 };
	struct batch *b = calloc(1, sizeof(*b));
	struct lb_tx *tx = NULL;
	bool more = true;
	int rc = 0;

	if (b == NULL)
		return LB_ERR_NOMEM;
	b->app = app;
	for (int pages = 0; more && pages < 100000; pages++) {
		if ((rc = store_begin(app->store, false, &tx)) != 0)
			break;
		rc = store_emergency_list(tx, &f, &pg, collect, b, &more);
		store_rollback(tx);
		if (rc != 0)
			break;
		pg.after_ms = b->last_ms;
		memcpy(pg.after_id, b->last_id, sizeof(b->last_id));
	}
	free(b);
	return rc;
}

/* Expires one access if it is still due; 1 if it did. */
static int
expire_one(struct lb_app *app, const char *id, int64_t now_ms)
{
	struct lb_emergency *e = malloc(sizeof(*e));
	struct lb_tx *tx = NULL;
	int op = LB_EM_OP_NONE, rc;

	if (e == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(app->store, true, &tx)) != 0)
		goto out;
	if ((rc = store_emergency_get(tx, id, e)) != 0)
		goto out;
	int64_t version = e->version;
	if ((rc = lb_emergency_tick(e, now_ms, &op)) != 1)
		goto out;
	if ((rc = app_emergency_commit(tx, e, op, version, &app_system_actor, "", now_ms)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		app_emergency_committed(app, e);
		log_info("sweep", "emergency=%s tenant=%s op=%s", e->id, e->tenant,
		    lb_em_op_name(op));
		rc = 1;
	}
out:
	store_rollback(tx);
	free(e);
	return rc;
}

/*
 * The deadline of one access's notice has come: remembers that it was
 * checked (notice_overdue_ms: the time it was found overdue, or -1 when it
 * was delivered in time) and, when the tenant had nobody to tell, records
 * the overdue notice itself (the notifier records each undelivered row).
 */
static int
notice_one(struct lb_app *app, const char *id, int64_t now_ms)
{
	struct lb_emergency *e = malloc(sizeof(*e));
	struct lb_tx *tx = NULL;
	json_t *d = NULL;
	uint64_t rows = 0;
	int64_t delivered = 0;
	int rc;

	if (e == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(app->store, true, &tx)) != 0)
		goto out;
	if ((rc = store_emergency_get(tx, id, e)) != 0 ||
	    (rc = store_emergency_notice_state(tx, id, &rows, &delivered)) != 0)
		goto out;
	int64_t due = lb_emergency_notice_due(e);
	if (e->notice_overdue_ms != 0 || due == 0 || now_ms < due)
		goto out;
	int64_t version = e->version;
	bool overdue = lb_emergency_notice_overdue(e, delivered, now_ms);
	e->notice_overdue_ms = overdue ? now_ms : -1;
	if ((rc = store_emergency_update(tx, e, version)) != 0)
		goto out;
	if (overdue && rows == 0) {
		d = json_pack("{s:s, s:s, s:o, s:o, s:s}", "emergency_id", e->id,
		    "tenant", e->tenant, "started_at", time_or_null(e->starts_ms),
		    "deadline", time_or_null(due), "reason", "no recipient: the tenant has no "
		    "approver email, notification email or webhook");
		if (d == NULL) {
			rc = LB_ERR_NOMEM;
			goto out;
		}
		struct lb_audit_event ev = {
			.tenant = e->tenant, .record_type = LB_RT_EMERGENCY,
			.operation = lb_em_op_name(LB_EM_OP_NOTICE_OVERDUE),
			.actor = &app_system_actor, .object_id = e->id, .result = "failure",
			.client_ip = "", .details = d, .time_ms = now_ms,
		};
		if ((rc = audit_append(tx, &ev)) != 0 ||
		    (rc = notify_enqueue_webhooks(tx, NULL, "alert.emergency_notice_overdue", d,
		    now_ms, 0)) != 0)
			goto out;
	}
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0 && overdue) {
		log_error("sweep", "emergency=%s tenant=%s msg=\"emergency notice not delivered "
		    "within 48 h\"", e->id, e->tenant);
		rc = 1;
	}
out:
	store_rollback(tx);
	json_decref(d);
	free(e);
	return rc;
}

/* One sweeper duty over the rows `f` selects. */
static int
sweep_rows(struct lb_app *app, struct lb_emergency_filter *f, int64_t now_ms,
    int (*one)(struct lb_app *app, const char *id, int64_t now_ms))
{
	struct lb_page pg = { .limit = SWEEP_BATCH };
	struct batch *b = calloc(1, sizeof(*b));
	struct lb_tx *tx = NULL;
	bool more = true;
	int total = 0, rc = 0;

	if (b == NULL)
		return LB_ERR_NOMEM;
	for (int rounds = 0; more && rounds < 1000; rounds++) {
		b->n = 0;
		if ((rc = store_begin(app->store, false, &tx)) != 0)
			break;
		rc = store_emergency_list(tx, f, &pg, collect, b, &more);
		store_rollback(tx);
		if (rc != 0 || b->n == 0)
			break;
		size_t done = 0;
		for (size_t i = 0; i < b->n; i++) {
			rc = one(app, b->ids[i], now_ms);
			if (rc < 0 && rc != LB_ERR_CONFLICT)
				goto out;
			if (rc == 1)
				total++;
			done++;
		}
		rc = 0;
		if (done == 0)
			break;
	}
out:
	free(b);
	return rc < 0 ? rc : total;
}

int
app_emergency_sweep(struct lb_app *app, int64_t now_ms)
{
	struct lb_emergency_filter due = { .status = -1, .now_ms = now_ms, .due_only = true };
	struct lb_emergency_filter notice = { .status = -1, .now_ms = now_ms, .notice_due = true };
	int a, b;

	if ((a = sweep_rows(app, &due, now_ms, expire_one)) < 0)
		return a;
	if ((b = sweep_rows(app, &notice, now_ms, notice_one)) < 0)
		return b;
	return a + b;
}
