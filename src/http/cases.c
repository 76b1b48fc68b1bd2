/*
 * /v1/tenants/{t}/cases: support cases, the reason a request may exist.
 *
 * A tenant's admins open a case; a provider support_manager assigns it to
 * an engineer; only the engineer a case is assigned to may ask for access
 * under it (the core checks that when the request is made).
 */
#include <string.h>

#include "audit/audit.h"
#include "http/http.h"

#define CASE_OPENERS_TENANT (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_SECURITY_ADMIN | \
	LB_ROLE_COMPLIANCE_ADMIN)
#define CASE_OPENERS_PROVIDER (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER)
#define CASE_READERS_PROVIDER (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER | \
	LB_ROLE_SUPPORT_ENGINEER)

/* A support engineer who is not a manager or admin sees only their cases. */
static bool
engineer_only(const struct lb_ctx *c)
{
	return auth_provider(c, LB_ROLE_SUPPORT_ENGINEER) &&
	    !auth_provider(c, LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER);
}

static int
case_audit(struct lb_ctx *c, struct lb_tx *tx, const struct lb_case *k, const char *op)
{
	json_t *d = json_case(k);
	int rc = http_audit(c, tx, k->tenant, LB_RT_ADMIN, op, k->id, d);

	json_decref(d);
	return rc;
}

int
h_case_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "title", NULL };
	struct lb_tenant t;
	struct lb_case k;
	struct lb_tx *tx = NULL;
	json_t *o = NULL;
	int rc;

	memset(&k, 0, sizeof(k));
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "title", true, k.title, sizeof(k.title))) != 0)
		goto out;
	if (k.title[0] == '\0') {
		rc = http_fail(c, LB_ERR_MISSING_FIELD, "field 'title' must not be empty");
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = auth_load_tenant(c, tx, c->params[0], CASE_OPENERS_PROVIDER,
	    CASE_OPENERS_TENANT, &t)) != 0)
		goto out;
	ids_new("case", k.id, sizeof(k.id));
	memcpy(k.tenant, t.id, sizeof(k.tenant));
	memcpy(k.opened_by, c->actor.id, sizeof(k.opened_by));
	k.status = LB_CASE_OPEN;
	k.created_ms = c->now_ms;
	if ((rc = store_case_insert(tx, &k)) != 0 || (rc = case_audit(c, tx, &k, "OpenCase")) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 201, json_case(&k));
out:
	store_rollback(tx);
	json_decref(o);
	return rc;
}

struct list_ctx {
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_case(void *ctx, const struct lb_case *k)
{
	struct list_ctx *l = ctx;

	json_array_append_new(l->items, json_case(k));
	l->last_ms = k->created_ms;
	memcpy(l->last_id, k->id, sizeof(l->last_id));
	return 0;
}

int
h_case_list(struct lb_ctx *c)
{
	char assigned[LB_ID_MAX + 1];
	struct list_ctx l = { 0 };
	struct lb_tenant t;
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	bool more = false;
	int rc, has;

	if ((has = http_query(c, "assigned_to", assigned, sizeof(assigned))) < 0)
		return has;
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if (engineer_only(c)) {
		memcpy(assigned, c->actor.id, sizeof(assigned));
		has = 1;
	}
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	if ((rc = auth_load_tenant(c, tx, c->params[0], CASE_READERS_PROVIDER,
	    LB_ROLES_TENANT, &t)) != 0)
		goto out;
	l.items = json_array();
	rc = store_case_list(tx, t.id, has ? assigned : NULL, &pg, each_case, &l, &more);
out:
	store_rollback(tx);
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

/* Loads case params[1] of tenant params[0] for a reader. */
static int
load_case(struct lb_ctx *c, struct lb_tx *tx, unsigned prov_roles, unsigned ten_roles,
    struct lb_case *k)
{
	struct lb_tenant t;
	int rc;

	if ((rc = auth_load_tenant(c, tx, c->params[0], prov_roles, ten_roles, &t)) != 0)
		return rc;
	if ((rc = store_case_get(tx, t.id, c->params[1], k)) != 0)
		return rc;
	if (engineer_only(c) && strcmp(k->assigned_to, c->actor.id) != 0)
		return LB_ERR_NOT_FOUND;
	return 0;
}

int
h_case_get(struct lb_ctx *c)
{
	struct lb_case k;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = load_case(c, tx, CASE_READERS_PROVIDER, LB_ROLES_TENANT, &k);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_case(&k));
}

int
h_case_assign(struct lb_ctx *c)
{
	static const char *const keys[] = { "engineer", NULL };
	char eng[LB_ID_MAX + 1];
	struct lb_case k;
	struct lb_user u;
	struct lb_tx *tx = NULL;
	json_t *o = NULL;
	int rc;

	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "engineer", true, eng, sizeof(eng))) != 0)
		goto out;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_case(c, tx, LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER, 0, &k)) != 0)
		goto out;
	if (k.status != LB_CASE_OPEN) {
		rc = LB_ERR_CASE_CLOSED;
		goto out;
	}
	rc = store_user_get(tx, LB_PROVIDER_REALM, eng, &u);
	if (rc == LB_ERR_NOT_FOUND || (rc == 0 && !(u.roles & LB_ROLE_SUPPORT_ENGINEER))) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE,
		    "'%s' is not a provider user with role support_engineer", eng);
		goto out;
	}
	if (rc != 0)
		goto out;
	memcpy(k.assigned_to, eng, sizeof(k.assigned_to));
	if ((rc = store_case_update(tx, &k)) != 0 || (rc = case_audit(c, tx, &k, "AssignCase")) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, json_case(&k));
out:
	store_rollback(tx);
	json_decref(o);
	return rc;
}

int
h_case_close(struct lb_ctx *c)
{
	struct lb_case k;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_case(c, tx, CASE_OPENERS_PROVIDER, CASE_OPENERS_TENANT, &k)) != 0)
		goto out;
	if (k.status != LB_CASE_OPEN) {
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the case is already closed");
		goto out;
	}
	k.status = LB_CASE_CLOSED;
	if ((rc = store_case_update(tx, &k)) != 0 || (rc = case_audit(c, tx, &k, "CloseCase")) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, json_case(&k));
out:
	store_rollback(tx);
	return rc;
}
