/*
 * GET/PATCH /v1/tenants/{t}/lockbox/settings: Get-/Set-CustomerLockboxSetting.
 *
 * A PATCH replaces only the fields it names (approvers as a whole list),
 * then the core checks the result against the rules of SPEC 2 with the
 * roles each named approver holds right now.  The audit record keeps the
 * settings before and after, so a compliance officer can see who turned
 * Lockbox off, or removed which approver, and when.
 */
#include <string.h>

#include "audit/audit.h"
#include "http/http.h"

#define SETTINGS_READERS_PROVIDER (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER)

int
h_settings_get(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	if ((rc = auth_load_tenant(c, tx, c->params[0], SETTINGS_READERS_PROVIDER,
	    LB_ROLES_TENANT, &t)) == 0)
		rc = app_settings_load(tx, t.id, &s);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_settings(&s, t.cloud));
}

static int
parse_stages(struct lb_ctx *c, json_t *o, struct lb_settings *s)
{
	static const char *const keys[] = { "required", "approvers", NULL };
	json_t *a = json_object_get(o, "approval_stages"), *e;
	size_t i;
	int rc;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field 'approval_stages' must be an array");
	if (json_array_size(a) > LB_STAGES_MAX)
		return http_fail(c, LB_ERR_TOO_MANY_ITEMS, "at most %d approval stages", LB_STAGES_MAX);
	s->nstages = 0;
	json_array_foreach(a, i, e) {
		struct lb_stage_cfg *st = &s->stages[i];
		memset(st, 0, sizeof(*st));
		if (!json_is_object(e))
			return http_fail(c, LB_ERR_INVALID_FIELD, "each approval stage must be an object");
		if ((rc = json_only(c, e, keys)) != 0 ||
		    (rc = json_int(c, e, "required", true, &st->required)) != 0 ||
		    (rc = json_strs(c, e, "approvers", false, &st->approvers[0][0],
		    sizeof(st->approvers[0]), LB_APPROVERS_MAX, &st->napprovers,
		    LB_ERR_TOO_MANY_APPROVERS)) != 0)
			return rc;
		s->nstages = i + 1;
	}
	return 0;
}

int
h_settings_patch(struct lb_ctx *c)
{
	static const char *const keys[] = { "enabled", "approvers", "notification_emails",
		"approval_stages", "audit_retention_days", NULL };
	struct lb_tenant t;
	struct lb_settings prev, next;
	unsigned roles[LB_APPROVERS_MAX];
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *d = NULL;
	int rc;

	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0)
		goto out;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = auth_load_tenant(c, tx, c->params[0], 0, LB_ROLE_GLOBAL_ADMIN, &t)) != 0 ||
	    (rc = app_settings_load(tx, t.id, &prev)) != 0)
		goto out;
	next = prev;
	if ((rc = json_bool(c, o, "enabled", false, &next.enabled)) != 0 ||
	    (rc = json_strs(c, o, "approvers", false, &next.approvers[0][0],
	    sizeof(next.approvers[0]), LB_APPROVERS_MAX, &next.napprovers,
	    LB_ERR_TOO_MANY_APPROVERS)) != 0 ||
	    (rc = json_strs(c, o, "notification_emails", false, &next.notification_emails[0][0],
	    sizeof(next.notification_emails[0]), LB_NOTIFY_EMAILS_MAX, &next.nemails,
	    LB_ERR_TOO_MANY_ITEMS)) != 0 ||
	    (rc = parse_stages(c, o, &next)) != 0 ||
	    (rc = json_int(c, o, "audit_retention_days", false, &next.retention_days)) != 0)
		goto out;
	for (size_t i = 0; i < next.napprovers; i++) {
		struct lb_user u;
		rc = store_user_get(tx, t.id, next.approvers[i], &u);
		if (rc == LB_ERR_NOT_FOUND)
			roles[i] = 0;
		else if (rc != 0)
			goto out;
		else
			roles[i] = u.roles;
	}
	if ((rc = lb_settings_check(&t, &prev, &next, roles)) != 0)
		goto out;
	if ((rc = store_settings_put(tx, t.id, &next)) != 0)
		goto out;
	d = json_pack("{s:o, s:o}", "before", json_settings(&prev, t.cloud),
	    "after", json_settings(&next, t.cloud));
	if ((rc = http_audit(c, tx, t.id, LB_RT_SETTINGS, "SetCustomerLockboxSetting", t.id, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, json_settings(&next, t.cloud));
out:
	store_rollback(tx);
	json_decref(o);
	json_decref(d);
	return rc;
}
