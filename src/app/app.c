/*
 * Committing requests: the row, its audit record and its outbox rows.
 *
 * The core decides; this file stores what it decided.  Everything happens
 * in the caller's write transaction, so either the change, its record and
 * the notifications it owes are all durable, or none is (fail closed: an
 * audit record that cannot be written undoes the change).
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notify/notify.h"

const struct lb_actor app_system_actor = {
	.id = "lockboxd", .realm = LB_PROVIDER_REALM, .roles = 0, .type = LB_ACTOR_SYSTEM,
};

int
app_settings_load(struct lb_tx *tx, const char *tenant, struct lb_settings *out)
{
	struct lb_settings s;
	int rc = store_settings_get(tx, tenant, &s);

	if (rc == LB_ERR_NOT_FOUND) {
		lb_settings_init(&s);
		rc = 0;
	}
	if (rc == 0)
		*out = s;
	return rc;
}

int
app_provider_settings_load(struct lb_tx *tx, struct lb_provider_settings *out)
{
	struct lb_provider_settings ps;
	int rc = store_provider_settings_get(tx, &ps);

	if (rc == LB_ERR_NOT_FOUND) {
		memset(&ps, 0, sizeof(ps));
		rc = 0;
	}
	if (rc == 0)
		*out = ps;
	return rc;
}

static json_t *
time_or_null(int64_t ms)
{
	char ts[32];

	if (ms == 0 || lb_time_format(ms, ts, sizeof(ts)) != 0)
		return json_null();
	return json_string(ts);
}

json_t *
app_request_details(const struct lb_request *r, int op)
{
	json_t *d = json_object(), *res = json_array();

	for (size_t i = 0; i < r->nresources; i++)
		json_array_append_new(res, json_string(r->resources[i]));
	json_object_set_new(d, "request_id", json_string(r->id));
	json_object_set_new(d, "case_id", json_string(r->case_id));
	json_object_set_new(d, "requester", json_string(r->requester));
	json_object_set_new(d, "workload", json_string(r->workload));
	json_object_set_new(d, "resources", res);
	json_object_set_new(d, "status", json_string(lb_status_name(r->status)));
	json_object_set_new(d, "duration_minutes", json_integer(r->duration_minutes));
	if (op == LB_OP_CREATE)
		json_object_set_new(d, "justification", json_string(r->justification));
	if (op == LB_OP_CREATE || op == LB_OP_EXPIRE)
		json_object_set_new(d, "pending_expires_at", time_or_null(r->pending_expires_ms));
	if (r->ndecisions > 0 && op != LB_OP_CREATE && op != LB_OP_EXPIRE && op != LB_OP_COMPLETE) {
		const struct lb_decision *dec = &r->decisions[r->ndecisions - 1];
		json_t *jd = json_pack("{s:s, s:s, s:o, s:s, s:s}", "by", dec->by,
		    "realm", dec->realm,
		    "stage", dec->stage >= 0 ? json_integer(dec->stage) : json_null(),
		    "decision", lb_decision_name(dec->kind), "comment", dec->comment);
		if (jd != NULL && dec->kind == LB_DEC_APPROVE)
			json_object_set_new(jd, "duration_minutes", json_integer(dec->duration_minutes));
		json_object_set_new(d, "decision", jd ? jd : json_null());
	}
	if (r->access_starts_ms != 0) {
		json_object_set_new(d, "access_starts_at", time_or_null(r->access_starts_ms));
		json_object_set_new(d, "access_expires_at", time_or_null(r->access_expires_ms));
	}
	return d;
}

/* One outbox row: an email to `to` about request `r`. */
static int
outbox_email(struct lb_tx *tx, const struct lb_request *r, const char *topic,
    const char *to, json_t *details, int64_t now_ms)
{
	struct lb_outbox_row row;
	json_t *p;
	int rc;

	if (to == NULL || to[0] == '\0' || strlen(to) >= sizeof(row.recipient))
		return 0;
	memset(&row, 0, sizeof(row));
	ids_new("msg", row.id, sizeof(row.id));
	memcpy(row.tenant, r->tenant, strlen(r->tenant) + 1);
	memcpy(row.channel, "email", 6);
	memcpy(row.recipient, to, strlen(to) + 1);
	if (strlen(topic) >= sizeof(row.topic))
		return LB_ERR_INTERNAL;
	memcpy(row.topic, topic, strlen(topic) + 1);
	memcpy(row.status, "pending", 8);
	row.created_ms = now_ms;
	row.next_attempt_ms = now_ms;
	p = json_pack("{s:s, s:s, s:O}", "id", row.id, "topic", topic, "request", details);
	if (p == NULL)
		return LB_ERR_NOMEM;
	row.payload = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	if (row.payload == NULL)
		return LB_ERR_NOMEM;
	rc = store_outbox_insert(tx, &row);
	free(row.payload);
	return rc;
}

/* Emails to every designated approver and the tenant's shared mailboxes. */
static int
notify_approvers(struct lb_tx *tx, const struct lb_request *r, const char *topic,
    json_t *details, int64_t now_ms)
{
	struct lb_settings s;
	struct lb_user u;
	int rc;

	if ((rc = app_settings_load(tx, r->tenant, &s)) != 0)
		return rc;
	for (size_t i = 0; i < s.napprovers; i++) {
		rc = store_user_get(tx, r->tenant, s.approvers[i], &u);
		if (rc == LB_ERR_NOT_FOUND)
			continue;
		if (rc != 0 || (rc = outbox_email(tx, r, topic, u.email, details, now_ms)) != 0)
			return rc;
	}
	for (size_t i = 0; i < s.nemails; i++)
		if ((rc = outbox_email(tx, r, topic, s.notification_emails[i], details, now_ms)) != 0)
			return rc;
	return 0;
}

static int
notify_requester(struct lb_tx *tx, const struct lb_request *r, const char *topic,
    json_t *details, int64_t now_ms)
{
	struct lb_user u;
	int rc = store_user_get(tx, LB_PROVIDER_REALM, r->requester, &u);

	if (rc == LB_ERR_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	return outbox_email(tx, r, topic, u.email, details, now_ms);
}

/* The emails a request change owes (the approvers' or the requester's). */
static int
outbox_email_for(struct lb_tx *tx, const struct lb_request *r, int op, json_t *details,
    int64_t now_ms)
{
	switch (op) {
	case LB_OP_CREATE:
		if (r->status == LB_ST_PENDING)
			return notify_approvers(tx, r, "request.pending", details, now_ms);
		return 0;
	case LB_OP_APPROVE_INTERNAL:
		return notify_approvers(tx, r, "request.pending", details, now_ms);
	case LB_OP_APPROVE:
		return notify_requester(tx, r, "request.approved", details, now_ms);
	case LB_OP_DENY:
		return notify_requester(tx, r, "request.denied", details, now_ms);
	case LB_OP_EXPIRE:
		return notify_requester(tx, r, "request.expired", details, now_ms);
	case LB_OP_REVOKE:
		return notify_requester(tx, r, "request.revoked", details, now_ms);
	case LB_OP_COMPLETE:
		return notify_approvers(tx, r, "request.completed", details, now_ms);
	default:
		return 0;
	}
}

/* The webhook event type of a request change; NULL for none. */
static const char *
webhook_topic(const struct lb_request *r, int op)
{
	switch (op) {
	case LB_OP_CREATE:
		return r->status == LB_ST_PENDING ? "request.pending" : "request.pending_internal";
	case LB_OP_APPROVE_INTERNAL: return "request.pending";
	case LB_OP_APPROVE_PARTIAL: return "request.approval_recorded";
	case LB_OP_APPROVE: return "request.approved";
	case LB_OP_DENY: return "request.denied";
	case LB_OP_EXPIRE: return "request.expired";
	case LB_OP_REVOKE: return "request.revoked";
	case LB_OP_CANCEL: return "request.cancelled";
	case LB_OP_COMPLETE: return "request.completed";
	default: return NULL;
	}
}

/*
 * Emails, then one webhook row per endpoint of the tenant and of the
 * provider (src/notify/enqueue.c), all in the caller's transaction.
 */
static int
outbox_for(struct lb_tx *tx, const struct lb_request *r, int op, json_t *details,
    int64_t now_ms)
{
	const char *topic = webhook_topic(r, op);
	int rc = outbox_email_for(tx, r, op, details, now_ms);

	if (rc != 0 || topic == NULL)
		return rc;
	return notify_enqueue_webhooks(tx, r->tenant, topic, details, now_ms, 0);
}

int
app_request_commit(struct lb_tx *tx, const struct lb_request *r, int op,
    int64_t expected_version, const struct lb_actor *actor, const char *client_ip,
    int64_t now_ms)
{
	json_t *details = NULL;
	int rc;

	if (op == LB_OP_CREATE)
		rc = store_request_insert(tx, r);
	else
		rc = store_request_update(tx, r, expected_version);
	if (rc != 0)
		return rc;
	details = app_request_details(r, op);
	if (details == NULL)
		return LB_ERR_NOMEM;
	struct lb_audit_event ev = {
		.tenant = r->tenant,
		.record_type = "CustomerLockboxRequest",
		.operation = lb_op_name(op),
		.actor = actor,
		.object_id = r->id,
		.result = "success",
		.client_ip = client_ip,
		.details = details,
		.time_ms = now_ms,
	};
	rc = audit_append(tx, &ev);
	if (rc == 0)
		rc = outbox_for(tx, r, op, details, now_ms);
	json_decref(details);
	return rc;
}

void
app_request_committed(struct lb_app *app, const struct lb_request *r)
{
	struct lb_live_grant *g;

	if (app->live == NULL)
		return;
	if (r->status != LB_ST_APPROVED) {
		live_remove(app->live, r->id);
		return;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		/* Fail closed: without the entry, the grant is refused. */
		log_error("live", "msg=\"out of memory: grant not live\" request=%s", r->id);
		return;
	}
	memcpy(g->rid, r->id, sizeof(g->rid));
	memcpy(g->tenant, r->tenant, sizeof(g->tenant));
	memcpy(g->requester, r->requester, sizeof(g->requester));
	memcpy(g->workload, r->workload, sizeof(g->workload));
	memcpy(g->resources, r->resources, sizeof(g->resources));
	g->nresources = r->nresources;
	g->starts_ms = r->access_starts_ms;
	g->expires_ms = r->access_expires_ms;
	if (live_put(app->live, g) != 0)
		log_error("live", "msg=\"out of memory: grant not live\" request=%s", r->id);
	free(g);
}

struct load_ctx {
	struct lb_app *app;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
load_one(void *ctx, const struct lb_request *r)
{
	struct load_ctx *l = ctx;
	struct lb_request view = *r;

	view.status = LB_ST_APPROVED;
	app_request_committed(l->app, &view);
	l->last_ms = r->created_ms;
	memcpy(l->last_id, r->id, sizeof(l->last_id));
	return 0;
}

int
app_live_load(struct lb_app *app, int64_t now_ms)
{
	struct lb_request_filter f = { .status = LB_ST_APPROVED, .now_ms = now_ms };
	struct lb_page pg = { .limit = 1000 };
	struct load_ctx l = { .app = app };
	struct lb_tx *tx = NULL;
	bool more = true;
	int rc = 0;

	/* Every request approved as of now, a page at a time, newest first. */
	for (int pages = 0; more && pages < 100000; pages++) {
		if ((rc = store_begin(app->store, false, &tx)) != 0)
			return rc;
		rc = store_request_list(tx, &f, &pg, load_one, &l, &more);
		store_rollback(tx);
		if (rc != 0)
			return rc;
		pg.after_ms = l.last_ms;
		memcpy(pg.after_id, l.last_id, sizeof(l.last_id));
	}
	/* And every emergency access active as of now (emergency.c). */
	if ((rc = app_emergency_live_load(app, now_ms)) != 0)
		return rc;
	return 0;
}
