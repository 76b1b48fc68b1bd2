/*
 * /v1/me, /v1/users and tokens: principals of the provider realm and of each
 * tenant, and their API tokens.
 *
 * A token is shown once, in the answer that creates it; only its hash is
 * stored, and it never enters a log line or an audit record (the record
 * names the token's id).  A tenant's global_admin manages its own realm;
 * the provider_admin manages every realm.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "http/http.h"

/* May the caller manage principal (realm, user)?  user NULL: anyone there. */
static int
may_manage(const struct lb_ctx *c, const char *realm, const char *user)
{
	bool is_provider = strcmp(c->actor.realm, LB_PROVIDER_REALM) == 0;

	if (auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return 0;
	if (user != NULL && strcmp(c->actor.realm, realm) == 0 && strcmp(c->actor.id, user) == 0)
		return 0;
	if (!is_provider && strcmp(c->actor.realm, realm) != 0)
		return LB_ERR_NOT_FOUND;
	if (!is_provider && (c->actor.roles & LB_ROLE_GLOBAL_ADMIN))
		return 0;
	return LB_ERR_FORBIDDEN;
}

static const char *
chain_of(const char *realm)
{
	return strcmp(realm, LB_PROVIDER_REALM) == 0 ? "" : realm;
}

int
h_me(struct lb_ctx *c)
{
	struct lb_tx *tx = NULL;
	struct lb_user u;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = store_user_get(tx, c->actor.realm, c->actor.id, &u);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_user(&u));
}

/* Creates a token for (realm, user) in tx; writes its text to `text`. */
static int
token_new(struct lb_ctx *c, struct lb_tx *tx, const char *realm, const char *user,
    const char *label, struct lb_token *tok, char *text, size_t len)
{
	uint8_t hash[32];
	int rc;

	memset(tok, 0, sizeof(*tok));
	ids_new("tok", tok->id, sizeof(tok->id));
	memcpy(tok->realm, realm, strlen(realm) + 1);
	memcpy(tok->user_id, user, strlen(user) + 1);
	memcpy(tok->label, label, strlen(label) + 1);
	tok->created_ms = c->now_ms;
	token_generate(text, len);
	token_hash(text, hash);
	rc = store_token_insert(tx, tok, hash);
	sodium_memzero(hash, sizeof(hash));
	if (rc != 0)
		return rc;
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "token_id", tok->id, "realm", realm,
	    "user", user, "label", label);
	char obj[LB_ID_MAX * 2 + 2];
	snprintf(obj, sizeof(obj), "%s/%s", realm, user);
	rc = http_audit(c, tx, chain_of(realm), LB_RT_ADMIN, "CreateToken", obj, d);
	json_decref(d);
	return rc;
}

int
h_user_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "id", "realm", "email", "display_name", "roles",
		"password",     /* optional: a person who signs in to the console at once */
		"type", NULL };
	char roles[LB_ROLES_MAX][32], type[16] = "user", text[LB_TOKEN_TEXT_MAX + 1];
	char pwhash[LB_PWHASH_MAX] = "";
	bool has_password = false;
	size_t nroles = 0;
	struct lb_user u;
	struct lb_token tok;
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *d = NULL, *out = NULL;
	int rc;

	memset(&u, 0, sizeof(u));
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "id", true, u.id, sizeof(u.id))) != 0 ||
	    (rc = json_str(c, o, "realm", true, u.realm, sizeof(u.realm))) != 0 ||
	    (rc = json_str(c, o, "email", false, u.email, sizeof(u.email))) != 0 ||
	    (rc = json_str(c, o, "display_name", false, u.display_name, sizeof(u.display_name))) != 0 ||
	    (rc = json_strs(c, o, "roles", true, &roles[0][0], sizeof(roles[0]), LB_ROLES_MAX,
	    &nroles, LB_ERR_TOO_MANY_ITEMS)) != 0 ||
	    (rc = json_str(c, o, "type", false, type, sizeof(type))) != 0)
		goto out;
	if ((rc = may_manage(c, u.realm, NULL)) != 0)
		goto out;
	for (size_t i = 0; i < nroles; i++) {
		unsigned r = lb_role_parse(roles[i]);
		if (r == 0) {
			rc = http_fail(c, LB_ERR_INVALID_FIELD, "unknown role '%s'", roles[i]);
			goto out;
		}
		u.roles |= r;
	}
	if (nroles == 0) {
		rc = http_fail(c, LB_ERR_MISSING_FIELD, "field 'roles' needs at least one role");
		goto out;
	}
	if (strcmp(type, "user") == 0) {
		u.type = LB_ACTOR_USER;
	} else if (strcmp(type, "service") == 0) {
		u.type = LB_ACTOR_SERVICE;
	} else {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "field 'type' must be user or service");
		goto out;
	}
	if (!lb_id_valid(u.id)) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "field 'id' must be 1-64 of A-Z a-z 0-9 . _ @ -");
		goto out;
	}
	if (u.email[0] != '\0' && !lb_email_valid(u.email)) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "field 'email' is not an address");
		goto out;
	}
	if (!lb_roles_valid_for_realm(u.roles, u.realm)) {
		rc = http_fail(c, LB_ERR_INVALID_ROLE, "these roles do not belong to realm '%s'", u.realm);
		goto out;
	}
	if (u.type != LB_ACTOR_USER && json_object_get(o, "password") != NULL) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "service principals sign in with tokens only");
		goto out;
	}
	/* Hashed before the write transaction: Argon2id takes its time. */
	if ((rc = session_password_field(c, o, "password", &has_password, pwhash)) != 0)
		goto out;
	u.created_ms = c->now_ms;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		goto out;
	if (strcmp(u.realm, LB_PROVIDER_REALM) != 0 &&
	    (rc = store_tenant_get(tx, u.realm, &t)) != 0) {
		if (rc == LB_ERR_NOT_FOUND)
			http_fail(c, rc, "no tenant '%s'", u.realm);
		goto out;
	}
	if ((rc = store_user_insert(tx, &u)) != 0)
		goto out;
	d = json_user(&u);
	char obj[LB_ID_MAX * 2 + 2];
	snprintf(obj, sizeof(obj), "%s/%s", u.realm, u.id);
	if ((rc = http_audit(c, tx, chain_of(u.realm), LB_RT_ADMIN, "CreateUser", obj, d)) != 0 ||
	    (rc = token_new(c, tx, u.realm, u.id, "initial", &tok, text, sizeof(text))) != 0)
		goto out;
	if (has_password && ((rc = store_password_put(tx, u.realm, u.id, pwhash, c->now_ms)) != 0 ||
	    (rc = http_audit(c, tx, chain_of(u.realm), LB_RT_SIGNIN, "SetPassword", obj, NULL)) != 0))
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		out = json_user(&u);
		json_object_set_new(out, "token", json_string(text));
		json_object_set_new(out, "token_id", json_string(tok.id));
		rc = http_reply(c, 201, out);
	}
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(pwhash, sizeof(pwhash));
	session_wipe(c, o);
	store_rollback(tx);
	json_decref(o);
	json_decref(d);
	return rc;
}

struct list_ctx {
	json_t *items;
	char last_id[LB_REQID_MAX + LB_ID_MAX + 2];
};

static int
each_user(void *ctx, const struct lb_user *u)
{
	struct list_ctx *l = ctx;

	json_array_append_new(l->items, json_user(u));
	memcpy(l->last_id, u->id, strlen(u->id) + 1);
	return 0;
}

static int
each_token(void *ctx, const struct lb_token *t)
{
	struct list_ctx *l = ctx;

	json_array_append_new(l->items, json_token(t));
	memcpy(l->last_id, t->id, strlen(t->id) + 1);
	return 0;
}

int
h_user_list(struct lb_ctx *c)
{
	char realm[LB_ID_MAX + 1];
	struct list_ctx l = { 0 };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	bool more = false;
	int rc;

	if ((rc = http_query(c, "realm", realm, sizeof(realm))) < 0)
		return rc;
	if (rc == 0)
		memcpy(realm, c->actor.realm, sizeof(realm));
	if ((rc = may_manage(c, realm, NULL)) != 0 || (rc = http_page(c, &pg)) != 0)
		return rc;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	l.items = json_array();
	rc = store_user_list(tx, realm, &pg, each_user, &l, &more);
	store_rollback(tx);
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, 0, l.last_id));
}

int
h_user_get(struct lb_ctx *c)
{
	struct lb_tx *tx = NULL;
	struct lb_user u;
	int rc;

	if ((rc = may_manage(c, c->params[0], c->params[1])) != 0)
		return rc;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = store_user_get(tx, c->params[0], c->params[1], &u);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, json_user(&u));
}

int
h_token_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "label", NULL };
	char label[LB_TOKEN_LABEL_MAX + 1] = "", text[LB_TOKEN_TEXT_MAX + 1];
	struct lb_token tok;
	struct lb_user u;
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *out;
	int rc;

	if ((rc = may_manage(c, c->params[0], c->params[1])) != 0)
		return rc;
	if (c->body_len > 0 && ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "label", false, label, sizeof(label))) != 0))
		goto out;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = store_user_get(tx, c->params[0], c->params[1], &u)) != 0 ||
	    (rc = token_new(c, tx, u.realm, u.id, label, &tok, text, sizeof(text))) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		out = json_token(&tok);
		json_object_set_new(out, "token", json_string(text));
		rc = http_reply(c, 201, out);
	}
out:
	sodium_memzero(text, sizeof(text));
	store_rollback(tx);
	json_decref(o);
	return rc;
}

int
h_token_list(struct lb_ctx *c)
{
	struct list_ctx l = { 0 };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	bool more = false;
	int rc;

	if ((rc = may_manage(c, c->params[0], c->params[1])) != 0 || (rc = http_page(c, &pg)) != 0)
		return rc;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	l.items = json_array();
	rc = store_token_list(tx, c->params[0], c->params[1], &pg, each_token, &l, &more);
	store_rollback(tx);
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, 0, l.last_id));
}

int
h_token_revoke(struct lb_ctx *c)
{
	struct lb_token tok;
	struct lb_tx *tx = NULL;
	json_t *d = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		return rc;
	if ((rc = store_token_get(tx, c->params[0], &tok)) != 0 ||
	    (rc = may_manage(c, tok.realm, tok.user_id)) != 0)
		goto out;
	if (tok.revoked_ms != 0) {
		rc = http_fail(c, LB_ERR_INVALID_STATE, "token already revoked");
		goto out;
	}
	if ((rc = store_token_revoke(tx, tok.id, c->now_ms)) != 0)
		goto out;
	tok.revoked_ms = c->now_ms;
	d = json_token(&tok);
	if ((rc = http_audit(c, tx, chain_of(tok.realm), LB_RT_ADMIN, "RevokeToken", tok.id, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	/* After the commit, before the answer: no cached sign-in outlives it. */
	if (rc == 0 && c->app->token_cache != NULL)
		cache_clear(c->app->token_cache);
	if (rc == 0)
		rc = http_reply(c, 200, json_incref(d));
out:
	store_rollback(tx);
	json_decref(d);
	return rc;
}
