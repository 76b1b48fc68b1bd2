/*
 * Who is calling, and may they see this tenant.
 *
 * A bearer token is checked for shape, hashed, looked up by its hash and
 * compared again in constant time; an unknown, revoked or malformed token
 * is the same 401 to the caller, so the answer tells nothing about which.
 * Tenant isolation lives here too: a principal of one tenant asking about
 * another gets 404, exactly as if the tenant did not exist.
 *
 * A browser signed in to the console sends no Authorization header but the
 * session cookie; auth_bearer hands it to session_auth (session.c), which
 * also enforces the CSRF token on state-changing calls.
 */
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "http/http.h"

/*
 * How long an authenticated token is remembered.  A revoke in this daemon
 * clears the cache at once; the age limit bounds how long another node's
 * revoke could go unseen.
 */
#define TOKEN_CACHE_MS 30000

int
auth_token(struct lb_app *app, const char *text, struct lb_actor *out)
{
	struct lb_tx *tx = NULL;
	struct lb_token tok;
	struct lb_user u;
	struct lb_actor a;
	uint8_t hash[32], stored[32];
	int64_t mono = clock_mono_ms();
	int rc;

	if (!token_well_formed(text))
		return LB_ERR_UNAUTHENTICATED;
	token_hash(text, hash);
	if (app->token_cache != NULL && cache_get(app->token_cache, hash, &a, mono,
	    TOKEN_CACHE_MS)) {
		*out = a;
		return 0;
	}
	if ((rc = store_begin(app->store, false, &tx)) != 0)
		return rc;
	rc = store_token_find(tx, hash, &tok, stored, &u);
	store_rollback(tx);
	if (rc == LB_ERR_NOT_FOUND)
		return LB_ERR_UNAUTHENTICATED;
	if (rc != 0)
		return rc;
	if (sodium_memcmp(hash, stored, sizeof(hash)) != 0 || tok.revoked_ms != 0)
		return LB_ERR_UNAUTHENTICATED;
	memset(&a, 0, sizeof(a));
	memcpy(a.id, u.id, sizeof(u.id));
	memcpy(a.realm, u.realm, sizeof(u.realm));
	a.roles = u.roles;
	a.type = u.type;
	if (app->token_cache != NULL)
		cache_put(app->token_cache, hash, &a, mono);
	*out = a;
	return 0;
}

/* Every route takes the session cookie but the access check (/v1/authz). */
static bool
cookie_allowed(const struct lb_ctx *c)
{
	static const char authz[] = "/v1/authz";
	size_t n = sizeof(authz) - 1;

	return !(strncmp(c->url, authz, n) == 0 && (c->url[n] == '\0' || c->url[n] == '?' ||
	    c->url[n] == '/'));
}

int
auth_bearer(struct lb_ctx *c)
{
	const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	int rc;

	/*
	 * No Authorization header: the console's session cookie may stand in
	 * (session.c checks it and the CSRF token).  Never on the access
	 * check, whose callers are gateways with their own token.
	 */
	if (h == NULL && session_cookie_present(c) && cookie_allowed(c))
		return session_auth(c);
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return http_fail(c, LB_ERR_UNAUTHENTICATED, "send Authorization: Bearer <token>");
	if ((rc = auth_token(c->app, h + 7, &c->actor)) != 0)
		return rc;
	c->authed = true;
	return 0;
}

bool
auth_provider(const struct lb_ctx *c, unsigned roles)
{
	return c->authed && strcmp(c->actor.realm, LB_PROVIDER_REALM) == 0 &&
	    (c->actor.roles & roles) != 0;
}

bool
auth_tenant(const struct lb_ctx *c, const char *tenant, unsigned roles)
{
	return c->authed && strcmp(c->actor.realm, tenant) == 0 && (c->actor.roles & roles) != 0;
}

int
auth_load_tenant(struct lb_ctx *c, struct lb_tx *tx, const char *id,
    unsigned provider_roles, unsigned tenant_roles, struct lb_tenant *out)
{
	bool provider = strcmp(c->actor.realm, LB_PROVIDER_REALM) == 0;
	int rc;

	if (!provider && strcmp(c->actor.realm, id) != 0)
		return LB_ERR_NOT_FOUND;
	if ((rc = store_tenant_get(tx, id, out)) != 0)
		return rc;
	if (provider ? !(c->actor.roles & provider_roles) : !(c->actor.roles & tenant_roles))
		return LB_ERR_FORBIDDEN;
	return 0;
}

int
http_audit(struct lb_ctx *c, struct lb_tx *tx, const char *tenant,
    const char *record_type, const char *operation, const char *object_id,
    json_t *details)
{
	struct lb_audit_event ev = {
		.tenant = tenant, .record_type = record_type, .operation = operation,
		.actor = &c->actor, .object_id = object_id, .result = "success",
		.client_ip = c->client_ip, .details = details, .time_ms = c->now_ms,
	};
	int rc = audit_append(tx, &ev);

	if (rc != 0)
		atomic_fetch_add(&c->app->metrics.audit_failures, 1);
	return rc;
}
