/*
 * /v1/tenants/{t}/requests and /v1/requests: the Lockbox requests.
 *
 * Every answer shows a request's status as of now (an undecided request past
 * its 12 hours reads "expired" before the sweeper writes it).  A decision
 * runs in one write transaction: load, let the core decide, store the row
 * guarded by the version that was read, append the audit record, queue the
 * notifications.  Concurrent decisions therefore serialise, and the loser
 * sees a final state and gets 409.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/http.h"

#define REQ_READERS_PROVIDER (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER | \
	LB_ROLE_SUPPORT_ENGINEER | LB_ROLE_INCIDENT_MANAGER)

static bool
engineer_only(const struct lb_ctx *c)
{
	return auth_provider(c, LB_ROLE_SUPPORT_ENGINEER) &&
	    !auth_provider(c, LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER |
	    LB_ROLE_INCIDENT_MANAGER);
}

int
h_request_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "case_id", "workload", "resources", "justification",
		"duration_minutes", NULL };
	struct lb_request_input in;
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_provider_settings ps;
	struct lb_case k;
	struct lb_request *r = NULL;
	struct lb_tx *tx = NULL;
	char id[LB_REQID_MAX + 1];
	json_t *o = NULL;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "case_id", true, in.case_id, sizeof(in.case_id))) != 0 ||
	    (rc = json_str(c, o, "workload", true, in.workload, sizeof(in.workload))) != 0 ||
	    (rc = json_strs(c, o, "resources", true, &in.resources[0][0], sizeof(in.resources[0]),
	    LB_RESOURCES_MAX, &in.nresources, LB_ERR_TOO_MANY_ITEMS)) != 0 ||
	    (rc = json_str(c, o, "justification", true, in.justification,
	    sizeof(in.justification))) != 0 ||
	    (rc = json_int(c, o, "duration_minutes", false, &in.duration_minutes)) != 0)
		goto out;
	if (json_object_get(o, "duration_minutes") != NULL && in.duration_minutes == 0) {
		rc = LB_ERR_INVALID_DURATION;
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = auth_load_tenant(c, tx, c->params[0], LB_ROLE_SUPPORT_ENGINEER, 0, &t)) != 0 ||
	    (rc = app_settings_load(tx, t.id, &s)) != 0 ||
	    (rc = app_provider_settings_load(tx, &ps)) != 0)
		goto out;
	rc = store_case_get(tx, t.id, in.case_id, &k);
	if (rc == LB_ERR_NOT_FOUND) {
		rc = http_fail(c, LB_ERR_CASE_NOT_ASSIGNED, "no case '%s' assigned to you in this tenant",
		    in.case_id);
		goto out;
	}
	if (rc != 0)
		goto out;
	ids_new("req", id, sizeof(id));
	if ((rc = lb_request_create(id, &in, &c->actor, &t, &s, &ps, &k, c->now_ms, r)) != 0)
		goto out;
	if ((rc = app_request_commit(tx, r, LB_OP_CREATE, 0, &c->actor, c->client_ip,
	    c->now_ms)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		atomic_fetch_add(&c->app->metrics.decisions[LB_OP_CREATE], 1);
		rc = http_reply(c, 201, json_request(r, &s, t.cloud, c->now_ms));
	}
out:
	store_rollback(tx);
	json_decref(o);
	free(r);
	return rc;
}

struct list_ctx {
	struct lb_ctx *c;
	struct lb_tx *tx;
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
	/* Settings of the last tenant seen, for current_stage. */
	char tenant[LB_ID_MAX + 1];
	struct lb_tenant t;
	struct lb_settings s;
};

static int
each_request(void *ctx, const struct lb_request *r)
{
	struct list_ctx *l = ctx;
	int rc;

	if (strcmp(l->tenant, r->tenant) != 0) {
		if ((rc = store_tenant_get(l->tx, r->tenant, &l->t)) != 0 ||
		    (rc = app_settings_load(l->tx, r->tenant, &l->s)) != 0)
			return rc;
		memcpy(l->tenant, r->tenant, sizeof(l->tenant));
	}
	json_array_append_new(l->items, json_request(r, &l->s, l->t.cloud, l->c->now_ms));
	l->last_ms = r->created_ms;
	memcpy(l->last_id, r->id, sizeof(l->last_id));
	return 0;
}

/* Lists requests with filter `f` (tenant already checked). */
static int
list_requests(struct lb_ctx *c, struct lb_tx *tx, struct lb_request_filter *f)
{
	char status[32];
	struct list_ctx l;
	struct lb_page pg;
	bool more = false;
	int rc;

	memset(&l, 0, sizeof(l));
	if ((rc = http_query(c, "status", status, sizeof(status))) < 0)
		return rc;
	if (rc == 1) {
		enum lb_status st;
		if (lb_status_parse(status, &st) != 0)
			return http_fail(c, LB_ERR_INVALID_FIELD, "unknown status '%s'", status);
		f->status = (int)st;
	}
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if (engineer_only(c))
		f->requester = c->actor.id;
	f->now_ms = c->now_ms;
	l.c = c;
	l.tx = tx;
	l.items = json_array();
	if ((rc = store_request_list(tx, f, &pg, each_request, &l, &more)) != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

int
h_request_list_tenant(struct lb_ctx *c)
{
	struct lb_request_filter f = { .status = -1 };
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	if ((rc = auth_load_tenant(c, tx, c->params[0], REQ_READERS_PROVIDER,
	    LB_ROLES_TENANT, &t)) == 0) {
		f.tenant = t.id;
		rc = list_requests(c, tx, &f);
	}
	store_rollback(tx);
	return rc;
}

int
h_request_list_all(struct lb_ctx *c)
{
	struct lb_request_filter f = { .status = -1 };
	char tenant[LB_ID_MAX + 1];
	struct lb_tx *tx = NULL;
	int rc;

	if (!auth_provider(c, REQ_READERS_PROVIDER))
		return LB_ERR_FORBIDDEN;
	if ((rc = http_query(c, "tenant", tenant, sizeof(tenant))) < 0)
		return rc;
	if (rc == 1)
		f.tenant = tenant;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = list_requests(c, tx, &f);
	store_rollback(tx);
	return rc;
}

/* Loads request params[1] of tenant params[0], as the caller may see it. */
static int
load_request(struct lb_ctx *c, struct lb_tx *tx, struct lb_tenant *t,
    struct lb_settings *s, struct lb_request *r)
{
	int rc;

	if ((rc = auth_load_tenant(c, tx, c->params[0], REQ_READERS_PROVIDER,
	    LB_ROLES_TENANT, t)) != 0 ||
	    (rc = store_request_get(tx, c->params[1], r)) != 0)
		return rc;
	if (strcmp(r->tenant, t->id) != 0 || !lb_request_visible(r, &c->actor))
		return LB_ERR_NOT_FOUND;
	return app_settings_load(tx, t->id, s);
}

struct receipt_ctx {
	json_t *resources;
	int64_t allowed, refused;
};

static int
each_receipt(void *ctx, const struct lb_receipt *rc)
{
	struct receipt_ctx *x = ctx;

	x->allowed += rc->allowed;
	x->refused += rc->refused;
	json_array_append_new(x->resources, json_pack("{s:s, s:I, s:I, s:o, s:o}",
	    "resource", rc->resource, "allowed", (json_int_t)rc->allowed,
	    "refused", (json_int_t)rc->refused, "first_at", json_time(rc->first_ms),
	    "last_at", json_time(rc->last_ms)));
	return 0;
}

int
h_request_get(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct receipt_ctx x = { .resources = json_array() };
	struct lb_tx *tx = NULL;
	int rc;

	if (r == NULL) {
		json_decref(x.resources);
		return LB_ERR_NOMEM;
	}
	if ((rc = store_begin(c->app->store, false, &tx)) == 0) {
		rc = load_request(c, tx, &t, &s, r);
		if (rc == 0)
			rc = store_receipt_list(tx, r->id, 0, each_receipt, &x);
		store_rollback(tx);
	}
	if (rc == 0) {
		json_t *o = json_request(r, &s, t.cloud, c->now_ms);
		if (o != NULL)
			json_object_set_new(o, "access_receipt", json_pack("{s:I, s:I, s:O}",
			    "allowed", (json_int_t)x.allowed, "refused", (json_int_t)x.refused,
			    "resources", x.resources));
		rc = http_reply(c, 200, o);
	}
	json_decref(x.resources);
	free(r);
	return rc;
}

/* A decision of `kind` with the body's duration (approve only) and comment. */
static int
decide(struct lb_ctx *c, enum lb_decision_kind kind)
{
	static const char *const approve_keys[] = { "duration_minutes", "comment", NULL };
	static const char *const other_keys[] = { "comment", NULL };
	char comment[LB_COMMENT_MAX + 1] = "";
	int duration = 0, op = LB_OP_NONE, rc;
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_request *r = NULL;
	struct lb_tx *tx = NULL;
	json_t *o = NULL;

	if (c->body_len > 0) {
		if ((rc = json_body(c, &o)) != 0 ||
		    (rc = json_only(c, o, kind == LB_DEC_APPROVE ? approve_keys : other_keys)) != 0 ||
		    (rc = json_str(c, o, "comment", false, comment, sizeof(comment))) != 0 ||
		    (kind == LB_DEC_APPROVE &&
		    (rc = json_int(c, o, "duration_minutes", false, &duration)) != 0))
			goto out;
		if (kind == LB_DEC_APPROVE && json_object_get(o, "duration_minutes") != NULL &&
		    duration == 0) {
			rc = LB_ERR_INVALID_DURATION;
			goto out;
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_request(c, tx, &t, &s, r)) != 0)
		goto out;
	int64_t version = r->version;
	if ((rc = lb_request_decide(r, &c->actor, kind, duration, comment, &t, &s, c->now_ms,
	    &op)) != 0)
		goto out;
	if ((rc = app_request_commit(tx, r, op, version, &c->actor, c->client_ip, c->now_ms)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		app_request_committed(c->app, r);
		atomic_fetch_add(&c->app->metrics.decisions[op], 1);
		rc = http_reply(c, 200, json_request(r, &s, t.cloud, c->now_ms));
	}
out:
	if (rc == LB_ERR_CONFLICT || rc == LB_ERR_ALREADY_EXISTS)
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the request was decided meanwhile");
	store_rollback(tx);
	json_decref(o);
	free(r);
	return rc;
}

int
h_request_approve(struct lb_ctx *c)
{
	return decide(c, LB_DEC_APPROVE);
}

int
h_request_deny(struct lb_ctx *c)
{
	return decide(c, LB_DEC_DENY);
}

int
h_request_revoke(struct lb_ctx *c)
{
	return decide(c, LB_DEC_REVOKE);
}

int
h_request_cancel(struct lb_ctx *c)
{
	return decide(c, LB_DEC_CANCEL);
}

int
h_request_grant(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct lb_grant_claims *g = calloc(1, sizeof(*g));
	struct lb_tx *tx = NULL;
	json_t *claims = NULL, *d = NULL, *res = NULL;
	char *token = NULL, kid[LB_KID_MAX + 1] = "";
	int rc;

	if (r == NULL || g == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_request(c, tx, &t, &s, r)) != 0)
		goto out;
	if (!auth_provider(c, LB_ROLE_SUPPORT_ENGINEER) || strcmp(r->requester, c->actor.id) != 0) {
		rc = http_fail(c, LB_ERR_FORBIDDEN, "only the requester may fetch the grant");
		goto out;
	}
	if (lb_request_status_at(r, c->now_ms) != LB_ST_APPROVED) {
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the request is not approved (status %s)",
		    lb_status_name(lb_request_status_at(r, c->now_ms)));
		goto out;
	}
	memcpy(g->rid, r->id, sizeof(g->rid));
	memcpy(g->tenant, r->tenant, sizeof(g->tenant));
	memcpy(g->sub, r->requester, sizeof(g->sub));
	memcpy(g->workload, r->workload, sizeof(g->workload));
	memcpy(g->resources, r->resources, sizeof(g->resources));
	g->nresources = r->nresources;
	g->nbf_s = r->access_starts_ms / 1000;
	g->exp_s = (r->access_expires_ms + 999) / 1000;
	g->iat_s = c->now_ms / 1000;
	ids_new("gnt", g->jti, sizeof(g->jti));
	if ((claims = grant_claims_json(g)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = jws_sign(c->app->keys, claims, &token)) != 0 ||
	    (rc = keys_current_kid(c->app->keys, kid)) != 0)
		goto out;
	/* The record names the grant by its jti; the token itself is never stored. */
	d = json_pack("{s:s, s:s, s:s, s:o}", "request_id", r->id, "jti", g->jti, "kid", kid,
	    "expires_at", json_time(r->access_expires_ms));
	if ((rc = http_audit(c, tx, r->tenant, "CustomerLockboxAccess", "IssueGrant", r->id, d)) != 0)
		goto out;
	if ((rc = store_commit(tx)) != 0) {
		tx = NULL;
		goto out;
	}
	tx = NULL;
	res = json_array();
	for (size_t i = 0; i < r->nresources; i++)
		json_array_append_new(res, json_string(r->resources[i]));
	rc = http_reply(c, 200, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "token", token,
	    "request_id", r->id, "tenant", r->tenant, "workload", r->workload, "resources", res,
	    "not_before", json_time(r->access_starts_ms),
	    "expires_at", json_time(r->access_expires_ms)));
out:
	store_rollback(tx);
	if (token != NULL) {
		sodium_memzero(token, strlen(token));
		free(token);
	}
	json_decref(claims);
	json_decref(d);
	free(r);
	free(g);
	return rc;
}
