/*
 * /v1/tenants and /v1/provider/settings: the provider's view of who its
 * tenants are, and the provider-wide switch that puts its own internal
 * approval before every tenant's.
 */
#include <string.h>

#include "audit/audit.h"
#include "http/http.h"

int
h_tenant_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "id", "name", "plan", "addons", "cloud", NULL };
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *d = NULL;
	char cloud[16] = "commercial";
	int rc;

	if (!auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return LB_ERR_FORBIDDEN;
	memset(&t, 0, sizeof(t));
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "id", true, t.id, sizeof(t.id))) != 0 ||
	    (rc = json_str(c, o, "name", true, t.name, sizeof(t.name))) != 0 ||
	    (rc = json_str(c, o, "plan", true, t.plan, sizeof(t.plan))) != 0 ||
	    (rc = json_strs(c, o, "addons", false, &t.addons[0][0], sizeof(t.addons[0]),
	    LB_ADDONS_MAX, &t.naddons, LB_ERR_TOO_MANY_ITEMS)) != 0 ||
	    (rc = json_str(c, o, "cloud", false, cloud, sizeof(cloud))) != 0)
		goto out;
	if (lb_cloud_parse(cloud, &t.cloud) != 0) {
		rc = http_fail(c, LB_ERR_INVALID_FIELD,
		    "field 'cloud' must be commercial, gcc, gcc_high or dod");
		goto out;
	}
	if ((rc = lb_tenant_validate(&t)) != 0) {
		http_fail(c, rc, "tenant id must be lowercase letters, digits and '-' (not 'provider'); "
		    "name and plan must be non-empty");
		goto out;
	}
	t.created_ms = c->now_ms;
	lb_settings_init(&s);
	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		goto out;
	if ((rc = store_tenant_insert(tx, &t)) != 0 ||
	    (rc = store_settings_put(tx, t.id, &s)) != 0)
		goto out;
	d = json_tenant(&t);
	if ((rc = http_audit(c, tx, t.id, LB_RT_ADMIN, "CreateTenant", t.id, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 201, json_tenant(&t));
out:
	store_rollback(tx);
	json_decref(o);
	json_decref(d);
	return rc;
}

struct list_ctx {
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + LB_ID_MAX + 2];
};

static int
each_tenant(void *ctx, const struct lb_tenant *t)
{
	struct list_ctx *l = ctx;

	json_array_append_new(l->items, json_tenant(t));
	memcpy(l->last_id, t->id, strlen(t->id) + 1);
	return 0;
}

int
h_tenant_list(struct lb_ctx *c)
{
	struct list_ctx l = { 0 };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	bool more = false;
	int rc;

	if (!auth_provider(c, LB_ROLES_PROVIDER_READ))
		return LB_ERR_FORBIDDEN;
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	l.items = json_array();
	rc = store_tenant_list(tx, &pg, each_tenant, &l, &more);
	store_rollback(tx);
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, 0, l.last_id));
}

int
h_tenant_get(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = auth_load_tenant(c, tx, c->params[0], LB_ROLES_PROVIDER_READ, LB_ROLES_TENANT, &t);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_tenant(&t));
}

int
h_provider_settings_get(struct lb_ctx *c)
{
	struct lb_provider_settings ps;
	struct lb_tx *tx = NULL;
	int rc;

	if (!auth_provider(c, LB_ROLES_PROVIDER_READ))
		return LB_ERR_FORBIDDEN;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = app_provider_settings_load(tx, &ps);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_pack("{s:b, s:i, s:i}", "require_internal_approval",
	    ps.require_internal_approval,
	    "emergency_cap", lb_emergency_cap(&ps),
	    "emergency_window_hours", (int)(lb_emergency_window_ms(&ps) / 3600000)));
}

int
h_provider_settings_patch(struct lb_ctx *c)
{
	static const char *const keys[] = { "require_internal_approval", "emergency_cap",
		"emergency_window_hours", NULL };
	struct lb_provider_settings ps;
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *d = NULL;
	int rc;

	if (!auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return LB_ERR_FORBIDDEN;
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0)
		goto out;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = app_provider_settings_load(tx, &ps)) != 0 ||
	    (rc = json_bool(c, o, "require_internal_approval", false,
	    &ps.require_internal_approval)) != 0 ||
	    (rc = json_int(c, o, "emergency_cap", false, &ps.emergency_cap)) != 0 ||
	    (rc = json_int(c, o, "emergency_window_hours", false,
	    &ps.emergency_window_hours)) != 0)
		goto out;
	/* Break-glass guard rail: a named value must be in range (0 is not a value). */
	if ((json_object_get(o, "emergency_cap") != NULL && ps.emergency_cap == 0) ||
	    (json_object_get(o, "emergency_window_hours") != NULL &&
	    ps.emergency_window_hours == 0) || lb_provider_settings_check(&ps) != 0) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "emergency_cap must be 1 to %d and "
		    "emergency_window_hours 1 to %d", LB_EMERGENCY_CAP_MAX, LB_EMERGENCY_WINDOW_MAX);
		goto out;
	}
	if ((rc = store_provider_settings_put(tx, &ps)) != 0)
		goto out;
	d = json_pack("{s:b, s:i, s:i}", "require_internal_approval", ps.require_internal_approval,
	    "emergency_cap", lb_emergency_cap(&ps),
	    "emergency_window_hours", (int)(lb_emergency_window_ms(&ps) / 3600000));
	if ((rc = http_audit(c, tx, "", LB_RT_SETTINGS, "SetProviderSetting", "provider", d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, json_incref(d));
out:
	store_rollback(tx);
	json_decref(o);
	json_decref(d);
	return rc;
}
