/*
 * The HTTP adapter: libmicrohttpd glue, routing, authentication, JSON in
 * and out, and one file per API resource.  Handlers parse and check input,
 * call the core, and commit through src/app/; they hold no rules of their
 * own beyond who may call them.
 */
#ifndef LOCKBOX_HTTP_H
#define LOCKBOX_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "app/app.h"
#include "core/core.h"
#include "store/store.h"
#include "sys/sys.h"

struct MHD_Connection;
struct MHD_Daemon;
struct MHD_Response;

#define LB_PARAMS_MAX 4

/* Everything one API call needs, built by server.c. */
struct lb_ctx {
	struct lb_app *app;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const char *body;
	size_t body_len;
	char params[LB_PARAMS_MAX][LB_ID_MAX * 2 + 1];  /* decoded path segments */
	size_t nparams;
	struct lb_actor actor;          /* valid when authed */
	bool authed;
	char client_ip[64];
	int64_t now_ms;
	/* The answer. */
	int status;
	json_t *resp;                   /* owned; sent as JSON */
	char *resp_text;                /* owned; sent as text (e.g. /metrics) */
	const char *resp_type;
	const char *resp_reason;        /* X-Lockbox-Reason on access checks */
	/*
	 * A deferred answer (the access check waits for its group commit
	 * without holding a thread): the handler returns 0 with defer_submit
	 * set; server.c suspends the connection, then calls defer_submit,
	 * which must arrange for MHD_resume_connection() exactly once; on
	 * resumption server.c calls defer_finish to build the answer.
	 */
	void (*defer_submit)(struct lb_ctx *c);
	int (*defer_finish)(struct lb_ctx *c);
	void *defer;
	char errmsg[256];               /* detail for the error answer */
	struct MHD_Response *resp_stream; /* owned; a streamed answer (audit export) */
	/* Set by session_auth when the console's session cookie authenticated. */
	bool via_session;
	struct lb_session session;
};

/* ---------------------------------------------------------------- server.c */

struct MHD_Daemon *http_start(struct lb_app *app, const char *listen, long threads);
/*
 * Stops accepting, lets every deferred access check get its answer (at
 * most ~10 s; new checks are then answered without deferring), then stops.
 */
void http_stop(struct lb_app *app, struct MHD_Daemon *d);

/* ----------------------------------------------------------------- json.c */

/* Parses ctx->body as a JSON object into *out (owned). */
int json_body(struct lb_ctx *c, json_t **out);
/* Refuses keys not in the NULL-terminated list (unknown_field). */
int json_only(struct lb_ctx *c, json_t *o, const char *const *allowed);
/*
 * Typed field readers.  Absent and not `required`: 0 and the output is
 * left alone.  Errors name the field in c->errmsg: missing_field,
 * invalid_field (wrong type), field_too_long, too_many_items.
 */
int json_str(struct lb_ctx *c, json_t *o, const char *key, bool required,
    char *dst, size_t cap);
int json_int(struct lb_ctx *c, json_t *o, const char *key, bool required, int *out);
int json_bool(struct lb_ctx *c, json_t *o, const char *key, bool required, bool *out);
/* An array of strings into dst[n][cap]; `max` items at most. */
int json_strs(struct lb_ctx *c, json_t *o, const char *key, bool required,
    char *dst, size_t cap, size_t max, size_t *n, int too_many_err);
/* Sets c->errmsg (printf-style) and returns err. */
int http_fail(struct lb_ctx *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Answer `status` with `body` (owned). Returns 0. */
int http_reply(struct lb_ctx *c, int status, json_t *body);
/* "2026-...Z" or null for 0. */
json_t *json_time(int64_t ms);

/* Paging: reads page_size and page_token from the query into *pg. */
int http_page(struct lb_ctx *c, struct lb_page *pg);
/* The token for the page after the item with key (ms, id); NULL on error. */
char *http_page_token(int64_t ms, const char *id);
/* {"items": items, "next_page_token": token or null}; takes ownership. */
json_t *http_list(json_t *items, bool more, int64_t last_ms, const char *last_id);
/* A query argument, percent-decoded into buf; 1 if present, 0 if absent,
 * negative error if malformed or too long. */
int http_query(struct lb_ctx *c, const char *key, char *buf, size_t cap);

/* ----------------------------------------------------------------- auth.c */

/*
 * The principal an API token belongs to: shape check, SHA-256, a cache of
 * recent answers, else a lookup by hash compared again in constant time.
 * unauthenticated for unknown, revoked or malformed tokens.
 */
int auth_token(struct lb_app *app, const char *text, struct lb_actor *out);
/* Authenticates the bearer token into c->actor. */
int auth_bearer(struct lb_ctx *c);
/* True when the caller holds any of `roles` in the provider realm. */
bool auth_provider(const struct lb_ctx *c, unsigned roles);
/* True when the caller is a principal of `tenant` holding any of `roles`. */
bool auth_tenant(const struct lb_ctx *c, const char *tenant, unsigned roles);
/*
 * Loads tenant `id` for the caller: another tenant's principal, or an
 * absent tenant, is not_found.  Provider principals need `provider_roles`
 * (else forbidden); tenant principals need `tenant_roles`.
 */
int auth_load_tenant(struct lb_ctx *c, struct lb_tx *tx, const char *id,
    unsigned provider_roles, unsigned tenant_roles, struct lb_tenant *out);

/*
 * Appends an audit record of the caller's action to `tenant`'s chain ("" for
 * the provider's) in `tx`.  details is borrowed.
 */
int http_audit(struct lb_ctx *c, struct lb_tx *tx, const char *tenant,
    const char *record_type, const char *operation, const char *object_id,
    json_t *details);
/* Provider roles that may read across tenants (all but gateway). */
#define LB_ROLES_PROVIDER_READ (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_ENGINEER | \
	LB_ROLE_SUPPORT_MANAGER | LB_ROLE_INCIDENT_MANAGER)

/* --------------------------------------------------------- resource files */

/* JSON forms of objects (json.c). */
json_t *json_tenant(const struct lb_tenant *t);
json_t *json_user(const struct lb_user *u);
json_t *json_token(const struct lb_token *t);
json_t *json_case(const struct lb_case *c);
json_t *json_settings(const struct lb_settings *s, enum lb_cloud cloud);
json_t *json_request(const struct lb_request *r, const struct lb_settings *s,
    enum lb_cloud cloud, int64_t now_ms);

int h_tenant_create(struct lb_ctx *c);
int h_tenant_list(struct lb_ctx *c);
int h_tenant_get(struct lb_ctx *c);
int h_provider_settings_get(struct lb_ctx *c);
int h_provider_settings_patch(struct lb_ctx *c);

int h_me(struct lb_ctx *c);
int h_user_create(struct lb_ctx *c);
int h_user_list(struct lb_ctx *c);
int h_user_get(struct lb_ctx *c);
int h_token_create(struct lb_ctx *c);
int h_token_list(struct lb_ctx *c);
int h_token_revoke(struct lb_ctx *c);

int h_settings_get(struct lb_ctx *c);
int h_settings_patch(struct lb_ctx *c);

int h_case_create(struct lb_ctx *c);
int h_case_list(struct lb_ctx *c);
int h_case_get(struct lb_ctx *c);
int h_case_assign(struct lb_ctx *c);
int h_case_close(struct lb_ctx *c);

int h_request_create(struct lb_ctx *c);
int h_request_list_tenant(struct lb_ctx *c);
int h_request_list_all(struct lb_ctx *c);
int h_request_get(struct lb_ctx *c);
int h_request_approve(struct lb_ctx *c);
int h_request_deny(struct lb_ctx *c);
int h_request_revoke(struct lb_ctx *c);
int h_request_cancel(struct lb_ctx *c);

int h_request_grant(struct lb_ctx *c);
int h_authz_get(struct lb_ctx *c);
int h_authz_post(struct lb_ctx *c);
int h_jwks(struct lb_ctx *c);
int h_audit_keys(struct lb_ctx *c);
int h_keys_rotate(struct lb_ctx *c);

/* audit.c: search, export, verify and checkpoints of the audit trail. */
int h_audit_search(struct lb_ctx *c);
int h_audit_export(struct lb_ctx *c);
int h_audit_verify(struct lb_ctx *c);
int h_audit_checkpoints_list(struct lb_ctx *c);
int h_audit_checkpoints_create(struct lb_ctx *c);
int h_provider_audit_search(struct lb_ctx *c);
int h_provider_audit_export(struct lb_ctx *c);
int h_provider_audit_verify(struct lb_ctx *c);
int h_provider_audit_checkpoints_list(struct lb_ctx *c);
int h_provider_audit_checkpoints_create(struct lb_ctx *c);

/* notifications.c: delivered and failed notifications, webhook endpoints. */
int h_notification_list_tenant(struct lb_ctx *c);
int h_notification_list_all(struct lb_ctx *c);
int h_webhook_create_tenant(struct lb_ctx *c);
int h_webhook_list_tenant(struct lb_ctx *c);
int h_webhook_delete_tenant(struct lb_ctx *c);
int h_webhook_create_provider(struct lb_ctx *c);
int h_webhook_list_provider(struct lb_ctx *c);
int h_webhook_delete_provider(struct lb_ctx *c);

int h_healthz(struct lb_ctx *c);
int h_readyz(struct lb_ctx *c);
int h_metrics(struct lb_ctx *c);

/* Break-glass: incidents and emergency access (emergency.c). */
int h_incident_create(struct lb_ctx *c);
int h_incident_list(struct lb_ctx *c);
int h_incident_get(struct lb_ctx *c);
int h_incident_close(struct lb_ctx *c);
int h_emergency_create(struct lb_ctx *c);
int h_emergency_list_all(struct lb_ctx *c);
int h_emergency_list_tenant(struct lb_ctx *c);
int h_emergency_get(struct lb_ctx *c);
int h_emergency_get_tenant(struct lb_ctx *c);
int h_emergency_approve(struct lb_ctx *c);
int h_emergency_end(struct lb_ctx *c);
int h_emergency_grant(struct lb_ctx *c);
int h_emergency_review(struct lb_ctx *c);
int h_emergency_object(struct lb_ctx *c);

/* ---------------------------------------------------------------- session.c */

/* Console sign-in (docs/api.md "Console sign-in", docs/internals/session.md). */
#define LB_SESSION_COOKIE "lockbox_session"

/* True when the request carries the session cookie (valid or not). */
bool session_cookie_present(const struct lb_ctx *c);
/*
 * Authenticates by the session cookie: the session must be live (else
 * unauthenticated); POST, PATCH, PUT and DELETE need X-CSRF-Token equal to
 * the session's (else csrf_required).  Sets c->actor, c->authed,
 * c->session and c->via_session, and moves the idle expiry forward (written
 * at most once a minute).
 */
int session_auth(struct lb_ctx *c);
/*
 * Starts a session for `u`, a principal already authenticated by `method`
 * ("password"; a single sign-on callback would pass its own): stores it,
 * records SignIn, and answers 200 with the session object and its cookie.
 */
int session_start(struct lb_ctx *c, const struct lb_user *u, const char *method);
/*
 * The optional password field `key` of `o`: absent or null leaves *given
 * false; else 12..1024 bytes (invalid_value / field_too_long), hashed with
 * Argon2id into out (LB_PWHASH_MAX bytes) and *given set.
 */
int session_password_field(struct lb_ctx *c, json_t *o, const char *key, bool *given,
    char *out);
/* Wipes the password fields of `o` (may be NULL) and the request body. */
void session_wipe(struct lb_ctx *c, json_t *o);
int h_session_create(struct lb_ctx *c);
int h_session_get(struct lb_ctx *c);
int h_session_delete(struct lb_ctx *c);
int h_password_set(struct lb_ctx *c);

/* ---------------------------------------------------------------- console.c */

/* True for "/", "/ui" and "/ui/...": answered by h_console, not the route table. */
bool console_path(const char *path);
/* The web console's static files under --web-dir, with strict headers. */
int h_console(struct lb_ctx *c, const char *path);

#endif
