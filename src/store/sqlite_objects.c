/*
 * SQLite rows for the slowly changing objects: metadata, tenants and their
 * settings, provider settings, users, API tokens and support cases.
 *
 * Each get reads one row by its primary key into a local copy and writes
 * the caller's struct only when every column decoded and fitted; each list
 * collects the keys of one page first (sq_keys_collect) and then loads and
 * hands out one item at a time.  Lookup keys are bound without a length
 * limit, so an overlong id from a URL simply finds nothing (NOT_FOUND);
 * fields of the structs being written must be NUL-terminated within their
 * arrays (LB_ERR_FIELD_TOO_LONG otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

/* Steps a single-row SELECT: 0 with a row, NOT_FOUND without, or an error. */
static int
one_row(struct sq_q *q)
{
	int rc = sq_step(q);

	if (rc == 1)
		return 0;
	return rc < 0 ? rc : LB_ERR_NOT_FOUND;
}

/* An UPDATE that must have touched one row. */
static int
exec_one(struct sq_q *q)
{
	int err = sq_exec(q);

	if (err == 0 && sq_changes(q) == 0)
		err = LB_ERR_NOT_FOUND;
	return err;
}

/* ---------------------------------------------------------------- meta */

int
sq_meta_get(struct lb_tx *base, const char *key, char *value, size_t len)
{
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT value FROM meta WHERE key = :key", &q));
	SQ_TRY(sq_bind_text(&q, ":key", key, LB_STORE_META_MAX + 1));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	err = sq_col_text(&q, 0, value, len);
out:
	sq_finish(&q);
	return err;
}

int
sq_meta_put(struct lb_tx *base, const char *key, const char *value)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO meta (key, value) VALUES (:key, :value)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value", &q));
	SQ_TRY(sq_bind_text(&q, ":key", key, LB_STORE_META_MAX + 1));
	SQ_TRY(sq_bind_text(&q, ":value", value, LB_STORE_META_MAX + 1));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

/* ------------------------------------------------------------- tenants */

int
sq_tenant_insert(struct lb_tx *base, const struct lb_tenant *t)
{
	struct sq_q q = { 0 };
	const char *cloud = lb_store_cloud_name((int)t->cloud);
	char *addons = NULL;
	int err;

	if (cloud == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	if (t->naddons > LB_ADDONS_MAX) {
		err = LB_ERR_TOO_MANY_ITEMS;
		goto out;
	}
	SQ_TRY(lb_store_strings_encode(&t->addons[0][0], sizeof(t->addons[0]), t->naddons,
	    &addons));
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO tenants (id, name, plan, addons, cloud,"
	    " created_ms) VALUES (:id, :name, :plan, :addons, :cloud, :created)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", t->id, sizeof(t->id)));
	SQ_TRY(sq_bind_text(&q, ":name", t->name, sizeof(t->name)));
	SQ_TRY(sq_bind_text(&q, ":plan", t->plan, sizeof(t->plan)));
	SQ_TRY(sq_bind_text(&q, ":addons", addons, 0));
	SQ_TRY(sq_bind_text(&q, ":cloud", cloud, 0));
	SQ_TRY(sq_bind_i64(&q, ":created", t->created_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	free(addons);
	return err;
}

int
sq_tenant_get(struct lb_tx *base, const char *id, struct lb_tenant *out)
{
	struct sq_q q = { 0 };
	struct lb_tenant t;
	int err;

	memset(&t, 0, sizeof(t));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id, name, plan, addons, cloud, created_ms"
	    " FROM tenants WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(sq_col_text(&q, 0, t.id, sizeof(t.id)));
	SQ_TRY(sq_col_text(&q, 1, t.name, sizeof(t.name)));
	SQ_TRY(sq_col_text(&q, 2, t.plan, sizeof(t.plan)));
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 3), &t.addons[0][0],
	    sizeof(t.addons[0]), LB_ADDONS_MAX, &t.naddons));
	SQ_TRY(lb_store_cloud_parse(sq_col_str(&q, 4), &t.cloud));
	t.created_ms = sq_col_i64(&q, 5);
	*out = t;
out:
	sq_finish(&q);
	return err;
}

int
sq_tenant_list(struct lb_tx *base, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_tenant *t), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct lb_tenant t;
	bool m = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM tenants WHERE id > :after_id"
	    " ORDER BY id LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":after_id", pg->after_id, sizeof(pg->after_id)));
	SQ_TRY(sq_bind_page(&q, pg, false));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_tenant_get(base, k.v[i], &t)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &t)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

/* ------------------------------------------------------------ settings */

int
sq_settings_get(struct lb_tx *base, const char *tenant, struct lb_settings *out)
{
	struct sq_q q = { 0 };
	struct lb_settings s;
	int err;

	memset(&s, 0, sizeof(s));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT enabled, approvers, notification_emails,"
	    " stages, retention_days FROM settings WHERE tenant = :tenant", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(one_row(&q));
	s.enabled = sq_col_i64(&q, 0) != 0;
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 1), &s.approvers[0][0],
	    sizeof(s.approvers[0]), LB_APPROVERS_MAX, &s.napprovers));
	SQ_TRY(lb_store_strings_decode(sq_col_str(&q, 2), &s.notification_emails[0][0],
	    sizeof(s.notification_emails[0]), LB_NOTIFY_EMAILS_MAX, &s.nemails));
	SQ_TRY(lb_store_stages_decode(sq_col_str(&q, 3), s.stages, LB_STAGES_MAX, &s.nstages));
	SQ_TRY(sq_col_int(&q, 4, &s.retention_days));
	*out = s;
out:
	sq_finish(&q);
	return err;
}

int
sq_settings_put(struct lb_tx *base, const char *tenant, const struct lb_settings *s)
{
	struct sq_q q = { 0 };
	char *approvers = NULL, *emails = NULL, *stages = NULL;
	int err;

	if (s->napprovers > LB_APPROVERS_MAX || s->nemails > LB_NOTIFY_EMAILS_MAX ||
	    s->nstages > LB_STAGES_MAX) {
		err = LB_ERR_TOO_MANY_ITEMS;
		goto out;
	}
	SQ_TRY(lb_store_strings_encode(&s->approvers[0][0], sizeof(s->approvers[0]),
	    s->napprovers, &approvers));
	SQ_TRY(lb_store_strings_encode(&s->notification_emails[0][0],
	    sizeof(s->notification_emails[0]), s->nemails, &emails));
	SQ_TRY(lb_store_stages_encode(s->stages, s->nstages, &stages));
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO settings (tenant, enabled, approvers,"
	    " notification_emails, stages, retention_days) VALUES (:tenant, :enabled,"
	    " :approvers, :emails, :stages, :retention) ON CONFLICT (tenant) DO UPDATE SET"
	    " enabled = excluded.enabled, approvers = excluded.approvers,"
	    " notification_emails = excluded.notification_emails, stages = excluded.stages,"
	    " retention_days = excluded.retention_days", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, LB_ID_MAX + 1));
	SQ_TRY(sq_bind_i64(&q, ":enabled", s->enabled ? 1 : 0));
	SQ_TRY(sq_bind_text(&q, ":approvers", approvers, 0));
	SQ_TRY(sq_bind_text(&q, ":emails", emails, 0));
	SQ_TRY(sq_bind_text(&q, ":stages", stages, 0));
	SQ_TRY(sq_bind_i64(&q, ":retention", s->retention_days));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	free(approvers);
	free(emails);
	free(stages);
	return err;
}

int
sq_provider_settings_get(struct lb_tx *base, struct lb_provider_settings *out)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT require_internal_approval"
	    " FROM provider_settings WHERE id = 'provider'", &q));
	SQ_TRY(one_row(&q));
	out->require_internal_approval = sq_col_i64(&q, 0) != 0;
	/* Break-glass columns (migration 5), read beside this row. */
	SQ_TRY(sq_emergency_settings_get(base, out));
out:
	sq_finish(&q);
	return err;
}

int
sq_provider_settings_put(struct lb_tx *base, const struct lb_provider_settings *ps)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO provider_settings (id,"
	    " require_internal_approval) VALUES ('provider', :req) ON CONFLICT (id)"
	    " DO UPDATE SET require_internal_approval = excluded.require_internal_approval",
	    &q));
	SQ_TRY(sq_bind_i64(&q, ":req", ps->require_internal_approval ? 1 : 0));
	err = sq_exec(&q);
	if (err == 0)
		err = sq_emergency_settings_put(base, ps);
out:
	sq_finish(&q);
	return err;
}

/* --------------------------------------------------------------- users */

#define USER_COLS "realm, id, roles, type, email, display_name, created_ms"

/* Reads the user columns starting at column c0. */
static int
row_user(struct sq_q *q, int c0, struct lb_user *u)
{
	int64_t roles;
	int err;

	SQ_TRY(sq_col_text(q, c0, u->realm, sizeof(u->realm)));
	SQ_TRY(sq_col_text(q, c0 + 1, u->id, sizeof(u->id)));
	roles = sq_col_i64(q, c0 + 2);
	if (roles < 0 || roles > (int64_t)UINT32_MAX) {
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	u->roles = (unsigned)roles;
	SQ_TRY(lb_store_actor_type_parse(sq_col_str(q, c0 + 3), &u->type));
	SQ_TRY(sq_col_text(q, c0 + 4, u->email, sizeof(u->email)));
	SQ_TRY(sq_col_text(q, c0 + 5, u->display_name, sizeof(u->display_name)));
	u->created_ms = sq_col_i64(q, c0 + 6);
out:
	return err;
}

int
sq_user_insert(struct lb_tx *base, const struct lb_user *u)
{
	struct sq_q q = { 0 };
	const char *type = lb_store_actor_type_name((int)u->type);
	int err;

	if (type == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO users (" USER_COLS ") VALUES (:realm,"
	    " :id, :roles, :type, :email, :name, :created)", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", u->realm, sizeof(u->realm)));
	SQ_TRY(sq_bind_text(&q, ":id", u->id, sizeof(u->id)));
	SQ_TRY(sq_bind_i64(&q, ":roles", (int64_t)u->roles));
	SQ_TRY(sq_bind_text(&q, ":type", type, 0));
	SQ_TRY(sq_bind_text(&q, ":email", u->email, sizeof(u->email)));
	SQ_TRY(sq_bind_text(&q, ":name", u->display_name, sizeof(u->display_name)));
	SQ_TRY(sq_bind_i64(&q, ":created", u->created_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_user_get(struct lb_tx *base, const char *realm, const char *id, struct lb_user *out)
{
	struct sq_q q = { 0 };
	struct lb_user u;
	int err;

	memset(&u, 0, sizeof(u));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " USER_COLS " FROM users"
	    " WHERE realm = :realm AND id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(row_user(&q, 0, &u));
	*out = u;
out:
	sq_finish(&q);
	return err;
}

int
sq_user_list(struct lb_tx *base, const char *realm, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_user *u), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct lb_user u;
	bool m = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT id FROM users WHERE realm = :realm"
	    " AND id > :after_id ORDER BY id LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	SQ_TRY(sq_bind_text(&q, ":after_id", pg->after_id, sizeof(pg->after_id)));
	SQ_TRY(sq_bind_page(&q, pg, false));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_user_get(base, realm, k.v[i], &u)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &u)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

/* -------------------------------------------------------------- tokens */

#define TOKEN_COLS "id, realm, user_id, label, hash, created_ms, revoked_ms"

static int
row_token(struct sq_q *q, int c0, struct lb_token *t, uint8_t hash[32])
{
	int err;

	SQ_TRY(sq_col_text(q, c0, t->id, sizeof(t->id)));
	SQ_TRY(sq_col_text(q, c0 + 1, t->realm, sizeof(t->realm)));
	SQ_TRY(sq_col_text(q, c0 + 2, t->user_id, sizeof(t->user_id)));
	SQ_TRY(sq_col_text(q, c0 + 3, t->label, sizeof(t->label)));
	SQ_TRY(lb_store_hex_decode(sq_col_str(q, c0 + 4), hash, 32));
	t->created_ms = sq_col_i64(q, c0 + 5);
	t->revoked_ms = sq_col_i64(q, c0 + 6);
out:
	return err;
}

int
sq_token_insert(struct lb_tx *base, const struct lb_token *t, const uint8_t hash[32])
{
	struct sq_q q = { 0 };
	char hex[65];
	int err;

	lb_store_hex_encode(hash, 32, hex);
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO tokens (" TOKEN_COLS ") VALUES (:id,"
	    " :realm, :user, :label, :hash, :created, :revoked)", &q));
	SQ_TRY(sq_bind_text(&q, ":id", t->id, sizeof(t->id)));
	SQ_TRY(sq_bind_text(&q, ":realm", t->realm, sizeof(t->realm)));
	SQ_TRY(sq_bind_text(&q, ":user", t->user_id, sizeof(t->user_id)));
	SQ_TRY(sq_bind_text(&q, ":label", t->label, sizeof(t->label)));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	SQ_TRY(sq_bind_i64(&q, ":created", t->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":revoked", t->revoked_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_token_find(struct lb_tx *base, const uint8_t hash[32], struct lb_token *tok,
    uint8_t stored_hash[32], struct lb_user *user)
{
	struct sq_q q = { 0 };
	struct lb_token t;
	struct lb_user u;
	uint8_t h[32];
	char hex[65];
	int err;

	memset(&t, 0, sizeof(t));
	memset(&u, 0, sizeof(u));
	lb_store_hex_encode(hash, 32, hex);
	/* The UNIQUE index on tokens.hash makes this one index probe. */
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT t.id, t.realm, t.user_id, t.label, t.hash,"
	    " t.created_ms, t.revoked_ms, u.realm, u.id, u.roles, u.type, u.email,"
	    " u.display_name, u.created_ms FROM tokens t JOIN users u"
	    " ON u.realm = t.realm AND u.id = t.user_id WHERE t.hash = :hash", &q));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	SQ_TRY(one_row(&q));
	SQ_TRY(row_token(&q, 0, &t, h));
	SQ_TRY(row_user(&q, 7, &u));
	*tok = t;
	memcpy(stored_hash, h, sizeof(h));
	*user = u;
out:
	sq_finish(&q);
	return err;
}

int
sq_token_get(struct lb_tx *base, const char *id, struct lb_token *out)
{
	struct sq_q q = { 0 };
	struct lb_token t;
	uint8_t h[32];
	int err;

	memset(&t, 0, sizeof(t));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " TOKEN_COLS " FROM tokens WHERE id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(row_token(&q, 0, &t, h));
	*out = t;
out:
	sq_finish(&q);
	return err;
}

int
sq_token_revoke(struct lb_tx *base, const char *id, int64_t now_ms)
{
	struct lb_token t;
	struct sq_q q = { 0 };
	int err;

	/* Revoking twice keeps the first time; an unknown id is NOT_FOUND. */
	SQ_TRY(sq_token_get(base, id, &t));
	if (t.revoked_ms != 0)
		goto out;
	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE tokens SET revoked_ms = :now"
	    " WHERE id = :id AND revoked_ms = 0", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_token_list(struct lb_tx *base, const char *realm, const char *user_id,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_token *t),
    void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct lb_token t;
	bool m = false;
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), user_id != NULL ?
	    "SELECT id FROM tokens WHERE realm = :realm AND user_id = :user"
	    " AND id > :after_id ORDER BY id LIMIT :lim" :
	    "SELECT id FROM tokens WHERE realm = :realm AND id > :after_id"
	    " ORDER BY id LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	if (user_id != NULL)
		SQ_TRY(sq_bind_text(&q, ":user", user_id, 0));
	SQ_TRY(sq_bind_text(&q, ":after_id", pg->after_id, sizeof(pg->after_id)));
	SQ_TRY(sq_bind_page(&q, pg, false));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_token_get(base, k.v[i], &t)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &t)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

/* --------------------------------------------------------------- cases */

int
sq_case_insert(struct lb_tx *base, const struct lb_case *c)
{
	struct sq_q q = { 0 };
	const char *status = lb_store_case_status_name((int)c->status);
	int err;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO cases (tenant, id, title, status,"
	    " assigned_to, opened_by, created_ms) VALUES (:tenant, :id, :title, :status,"
	    " :assigned, :opened, :created)", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", c->tenant, sizeof(c->tenant)));
	SQ_TRY(sq_bind_text(&q, ":id", c->id, sizeof(c->id)));
	SQ_TRY(sq_bind_text(&q, ":title", c->title, sizeof(c->title)));
	SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_text(&q, ":assigned", c->assigned_to, sizeof(c->assigned_to)));
	SQ_TRY(sq_bind_text(&q, ":opened", c->opened_by, sizeof(c->opened_by)));
	SQ_TRY(sq_bind_i64(&q, ":created", c->created_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_case_get(struct lb_tx *base, const char *tenant, const char *id, struct lb_case *out)
{
	struct sq_q q = { 0 };
	struct lb_case c;
	int err;

	memset(&c, 0, sizeof(c));
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT tenant, id, title, status, assigned_to,"
	    " opened_by, created_ms FROM cases WHERE tenant = :tenant AND id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	SQ_TRY(sq_bind_text(&q, ":id", id, 0));
	SQ_TRY(one_row(&q));
	SQ_TRY(sq_col_text(&q, 0, c.tenant, sizeof(c.tenant)));
	SQ_TRY(sq_col_text(&q, 1, c.id, sizeof(c.id)));
	SQ_TRY(sq_col_text(&q, 2, c.title, sizeof(c.title)));
	SQ_TRY(lb_store_case_status_parse(sq_col_str(&q, 3), &c.status));
	SQ_TRY(sq_col_text(&q, 4, c.assigned_to, sizeof(c.assigned_to)));
	SQ_TRY(sq_col_text(&q, 5, c.opened_by, sizeof(c.opened_by)));
	c.created_ms = sq_col_i64(&q, 6);
	*out = c;
out:
	sq_finish(&q);
	return err;
}

int
sq_case_update(struct lb_tx *base, const struct lb_case *c)
{
	struct sq_q q = { 0 };
	const char *status = lb_store_case_status_name((int)c->status);
	int err;

	if (status == NULL) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE cases SET status = :status,"
	    " assigned_to = :assigned WHERE tenant = :tenant AND id = :id", &q));
	SQ_TRY(sq_bind_text(&q, ":status", status, 0));
	SQ_TRY(sq_bind_text(&q, ":assigned", c->assigned_to, sizeof(c->assigned_to)));
	SQ_TRY(sq_bind_text(&q, ":tenant", c->tenant, sizeof(c->tenant)));
	SQ_TRY(sq_bind_text(&q, ":id", c->id, sizeof(c->id)));
	err = exec_one(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_case_list(struct lb_tx *base, const char *tenant, const char *assigned_to,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_case *c),
    void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct lb_case c;
	bool m = false, keyed = pg->after_id[0] != '\0';
	int err;

	sq_sql_add(&sql, "SELECT id FROM cases WHERE tenant = :tenant");
	if (assigned_to != NULL)
		sq_sql_add(&sql, " AND assigned_to = :assigned");
	if (keyed)
		sq_sql_add(&sql, SQ_AFTER_DESC);
	sq_sql_add(&sql, SQ_ORDER_DESC);
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	SQ_TRY(sq_bind_text(&q, ":tenant", tenant, 0));
	if (assigned_to != NULL)
		SQ_TRY(sq_bind_text(&q, ":assigned", assigned_to, 0));
	SQ_TRY(sq_bind_page(&q, pg, keyed));
	SQ_TRY(sq_keys_collect(&q, pg->limit, &k, &m));
	for (size_t i = 0; i < k.n; i++) {
		if ((err = sq_case_get(base, tenant, k.v[i], &c)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0 || (err = each(ctx, &c)) != 0)
			goto out;
	}
	*more = m;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}
