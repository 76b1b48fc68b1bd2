/*
 * Notifications and webhook endpoints over the API.
 *
 * GET /v1/tenants/{t}/notifications (tenant admins) and GET
 * /v1/notifications (provider_admin) list outbox rows: what was sent to
 * whom, when, how many attempts, and why a failed one failed.  Payloads
 * are never shown, nor a webhook URL's path or query (they may hold a
 * receiver's token).
 *
 * Webhook endpoints belong to a tenant (global_admin manages them) or to
 * the provider (provider_admin).  The signing secret is made here, shown
 * once in the answer that creates the endpoint, and stored sealed; it is
 * never listed, logged or audited.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "http/http.h"
#include "notify/notify.h"

#define NOTIF_READERS_TENANT (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_COMPLIANCE_ADMIN | \
	LB_ROLE_SECURITY_ADMIN)

/* ---------------------------------------------------------- notifications */

static json_t *
json_notification(const struct lb_outbox_row *r, const struct lb_outbox_extra *x)
{
	char shown[LB_RESOURCE_MAX + 1];
	json_t *o;
	bool email = strcmp(r->channel, "email") == 0;

	if (email)
		memcpy(shown, r->recipient, sizeof(shown));
	else
		notify_url_redact(r->recipient, shown, sizeof(shown));
	o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o}",
	    "id", r->id,
	    "tenant", r->tenant[0] ? json_string(r->tenant) : json_null(),
	    "channel", r->channel, "recipient", shown, "topic", r->topic,
	    "status", r->status, "attempts", r->attempts,
	    "created_at", json_time(r->created_ms),
	    "next_attempt_at", strcmp(r->status, "pending") == 0 ?
	    json_time(r->next_attempt_ms) : json_null(),
	    "delivered_at", json_time(r->delivered_ms),
	    "last_error", r->last_error[0] ? json_string(r->last_error) : json_null());
	if (o == NULL)
		return NULL;
	if (!email)
		json_object_set_new(o, "endpoint", json_string(x->endpoint));
	if (x->deadline_ms != 0) {
		json_object_set_new(o, "deadline", json_time(x->deadline_ms));
		json_object_set_new(o, "overdue_at", json_time(x->overdue_ms));
	}
	return o;
}

struct nlist {
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_notification(void *ctx, const struct lb_outbox_row *r, const struct lb_outbox_extra *x)
{
	struct nlist *l = ctx;
	json_t *o = json_notification(r, x);

	if (o == NULL)
		return LB_ERR_NOMEM;
	json_array_append_new(l->items, o);
	l->last_ms = r->created_ms;
	memcpy(l->last_id, r->id, sizeof(l->last_id));
	return 0;
}

/* ?status=pending|delivered|dead into buf; 1 when given. */
static int
status_query(struct lb_ctx *c, char *buf, size_t cap)
{
	int has = http_query(c, "status", buf, cap);

	if (has <= 0)
		return has;
	if (strcmp(buf, "pending") != 0 && strcmp(buf, "delivered") != 0 &&
	    strcmp(buf, "dead") != 0)
		return http_fail(c, LB_ERR_INVALID_FIELD,
		    "unknown status '%s' (pending, delivered or dead)", buf);
	return 1;
}

/* Lists the rows of `tenant` (NULL: every row) in the open read tx. */
static int
list_rows(struct lb_ctx *c, struct lb_tx *tx, const char *tenant)
{
	char status[16];
	struct nlist l = { 0 };
	struct lb_page pg;
	bool more = false;
	int has, rc;

	if ((has = status_query(c, status, sizeof(status))) < 0)
		return has;
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if ((l.items = json_array()) == NULL)
		return LB_ERR_NOMEM;
	rc = store_outbox_find(tx, tenant, has ? status : NULL, &pg, each_notification, &l,
	    &more);
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

int
h_notification_list_tenant(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	if ((rc = auth_load_tenant(c, tx, c->params[0], LB_ROLE_PROVIDER_ADMIN,
	    NOTIF_READERS_TENANT, &t)) == 0)
		rc = list_rows(c, tx, t.id);
	store_rollback(tx);
	return rc;
}

int
h_notification_list_all(struct lb_ctx *c)
{
	char tenant[LB_ID_MAX + 1];
	struct lb_tx *tx = NULL;
	int has, rc;

	if (!auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return http_fail(c, LB_ERR_FORBIDDEN, "listing every notification needs "
		    "provider_admin");
	if ((has = http_query(c, "tenant", tenant, sizeof(tenant))) < 0)
		return has;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = list_rows(c, tx, has ? tenant : NULL);
	store_rollback(tx);
	return rc;
}

/* --------------------------------------------------------------- webhooks */

static json_t *
json_webhook(const struct lb_webhook *w, const char *secret)
{
	json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o}", "id", w->id,
	    "tenant", w->tenant[0] ? json_string(w->tenant) : json_null(),
	    "url", w->url, "created_by", w->created_by, "created_at", json_time(w->created_ms));

	if (o != NULL && secret != NULL)
		json_object_set_new(o, "secret", json_string(secret));
	return o;
}

static int
webhook_audit(struct lb_ctx *c, struct lb_tx *tx, const struct lb_webhook *w, const char *op)
{
	char host[LB_RESOURCE_MAX + 1];
	json_t *d;
	int rc;

	/* The record names the receiving host, never the path or the secret. */
	notify_url_redact(w->url, host, sizeof(host));
	if ((d = json_pack("{s:s, s:s}", "webhook_id", w->id, "url", host)) == NULL)
		return LB_ERR_NOMEM;
	rc = http_audit(c, tx, w->tenant, LB_RT_SETTINGS, op, w->id, d);
	json_decref(d);
	return rc;
}

/* Creates an endpoint of `owner` ("" for the provider); tx is a write tx. */
static int
webhook_create(struct lb_ctx *c, struct lb_tx **txp, const char *owner)
{
	static const char *const keys[] = { "url", NULL };
	char secret[LB_WEBHOOK_SECRET_MAX];
	struct lb_webhook w;
	uint64_t n = 0;
	json_t *o = NULL;
	int rc;

	memset(&w, 0, sizeof(w));
	secret[0] = '\0';
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "url", true, w.url, sizeof(w.url))) != 0)
		goto out;
	if (!notify_url_valid(w.url)) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "field 'url' must be an http:// or "
		    "https:// URL without spaces");
		goto out;
	}
	if ((rc = store_webhook_count(*txp, owner, &n)) != 0)
		goto out;
	if (n >= LB_WEBHOOKS_MAX) {
		rc = http_fail(c, LB_ERR_TOO_MANY_ITEMS, "at most %d webhook endpoints",
		    LB_WEBHOOKS_MAX);
		goto out;
	}
	ids_new("whk", w.id, sizeof(w.id));
	memcpy(w.tenant, owner, strlen(owner) + 1);
	memcpy(w.created_by, c->actor.id, sizeof(w.created_by));
	w.created_ms = c->now_ms;
	notify_webhook_secret_new(secret, sizeof(secret));
	if ((rc = notify_secret_seal(secret, w.secret, sizeof(w.secret))) != 0) {
		rc = http_fail(c, LB_ERR_UNAVAILABLE, "webhook secrets cannot be sealed");
		goto out;
	}
	if ((rc = store_webhook_insert(*txp, &w)) != 0 ||
	    (rc = webhook_audit(c, *txp, &w, "AddWebhook")) != 0)
		goto out;
	rc = store_commit(*txp);
	*txp = NULL;
	if (rc == 0)
		rc = http_reply(c, 201, json_webhook(&w, secret));
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(w.secret, sizeof(w.secret));
	json_decref(o);
	return rc;
}

struct wlist {
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_webhook(void *ctx, const struct lb_webhook *w)
{
	struct wlist *l = ctx;
	json_t *o = json_webhook(w, NULL);

	if (o == NULL)
		return LB_ERR_NOMEM;
	json_array_append_new(l->items, o);
	l->last_ms = w->created_ms;
	memcpy(l->last_id, w->id, sizeof(l->last_id));
	return 0;
}

static int
webhook_list(struct lb_ctx *c, struct lb_tx *tx, const char *owner)
{
	struct wlist l = { 0 };
	struct lb_page pg;
	bool more = false;
	int rc;

	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if ((l.items = json_array()) == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_webhook_list(tx, owner, &pg, each_webhook, &l, &more)) != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

static int
webhook_delete(struct lb_ctx *c, struct lb_tx **txp, const char *owner, const char *id)
{
	struct lb_webhook w;
	int rc;

	if ((rc = store_webhook_get(*txp, owner, id, &w)) != 0 ||
	    (rc = store_webhook_delete(*txp, owner, id)) != 0 ||
	    (rc = webhook_audit(c, *txp, &w, "RemoveWebhook")) != 0)
		goto out;
	rc = store_commit(*txp);
	*txp = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, json_webhook(&w, NULL));
out:
	sodium_memzero(w.secret, sizeof(w.secret));
	return rc;
}

/* Opens a tx and checks the caller may manage tenant params[0]'s endpoints. */
static int
tenant_begin(struct lb_ctx *c, bool write, struct lb_tx **tx, struct lb_tenant *t)
{
	int rc;

	if ((rc = store_begin(c->app->store, write, tx)) != 0)
		return rc;
	return auth_load_tenant(c, *tx, c->params[0], 0, LB_ROLE_GLOBAL_ADMIN, t);
}

int
h_webhook_create_tenant(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = tenant_begin(c, true, &tx, &t)) == 0)
		rc = webhook_create(c, &tx, t.id);
	store_rollback(tx);
	return rc;
}

int
h_webhook_list_tenant(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = tenant_begin(c, false, &tx, &t)) == 0)
		rc = webhook_list(c, tx, t.id);
	store_rollback(tx);
	return rc;
}

int
h_webhook_delete_tenant(struct lb_ctx *c)
{
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = tenant_begin(c, true, &tx, &t)) == 0)
		rc = webhook_delete(c, &tx, t.id, c->params[1]);
	store_rollback(tx);
	return rc;
}

static int
provider_begin(struct lb_ctx *c, bool write, struct lb_tx **tx)
{
	if (!auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return http_fail(c, LB_ERR_FORBIDDEN, "provider webhooks need provider_admin");
	return store_begin(c->app->store, write, tx);
}

int
h_webhook_create_provider(struct lb_ctx *c)
{
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = provider_begin(c, true, &tx)) == 0)
		rc = webhook_create(c, &tx, "");
	store_rollback(tx);
	return rc;
}

int
h_webhook_list_provider(struct lb_ctx *c)
{
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = provider_begin(c, false, &tx)) == 0)
		rc = webhook_list(c, tx, "");
	store_rollback(tx);
	return rc;
}

int
h_webhook_delete_provider(struct lb_ctx *c)
{
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = provider_begin(c, true, &tx)) == 0)
		rc = webhook_delete(c, &tx, "", c->params[0]);
	store_rollback(tx);
	return rc;
}
