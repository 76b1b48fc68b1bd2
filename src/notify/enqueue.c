/*
 * Writing outbox rows: who is told of an event, in the event's own
 * transaction.
 *
 * Email rows go to stored, validated addresses only (a designated
 * approver's user email, a tenant's notification_emails, a requester's
 * email); the address is never taken from user text.  Webhook rows go to
 * each endpoint of the tenant and each of the provider's (stored ones and
 * --webhook-url), with the JSON body fixed when the row is written, so
 * every retry sends the same bytes under the same webhook-id.  Provider
 * rows are stored with tenant "" so a tenant never sees the provider's
 * endpoints in its list.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "notify/notify.h"

static char provider_url[LB_RESOURCE_MAX + 1];

void
notify_set_provider_webhook(const char *url)
{
	size_t n = url ? strlen(url) : 0;

	if (n >= sizeof(provider_url))
		n = 0;
	memcpy(provider_url, url ? url : "", n);
	provider_url[n] = '\0';
}

/* Copies s into a fixed field; LB_ERR_FIELD_TOO_LONG when it does not fit. */
static int
put_field(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return LB_ERR_FIELD_TOO_LONG;
	memcpy(dst, s, n + 1);
	return 0;
}

/* A pending row with a new id; the caller fills channel, recipient, payload. */
static int
row_init(struct lb_outbox_row *row, const char *tenant, const char *topic, int64_t now_ms)
{
	int rc;

	memset(row, 0, sizeof(*row));
	ids_new("msg", row->id, sizeof(row->id));
	if ((rc = put_field(row->tenant, sizeof(row->tenant), tenant ? tenant : "")) != 0 ||
	    (rc = put_field(row->topic, sizeof(row->topic), topic)) != 0)
		return rc;
	memcpy(row->status, "pending", 8);
	row->created_ms = now_ms;
	row->next_attempt_ms = now_ms;
	return 0;
}

int
notify_enqueue_email(struct lb_tx *tx, const char *tenant, const char *to,
    const char *topic, const char *key, json_t *data, int64_t now_ms, int64_t deadline_ms)
{
	struct lb_outbox_row row;
	struct lb_outbox_extra x = { .endpoint = "", .deadline_ms = deadline_ms };
	json_t *p;
	int rc;

	/* Only stored addresses that are still valid; anything else is skipped. */
	if (to == NULL || !lb_email_valid(to) || strlen(to) >= sizeof(row.recipient))
		return 0;
	if ((rc = row_init(&row, tenant, topic, now_ms)) != 0)
		return rc;
	memcpy(row.channel, "email", 6);
	memcpy(row.recipient, to, strlen(to) + 1);
	p = json_pack("{s:s, s:s, s:O}", "id", row.id, "topic", topic, key, data);
	if (p == NULL)
		return LB_ERR_NOMEM;
	row.payload = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	if (row.payload == NULL)
		return LB_ERR_NOMEM;
	rc = store_outbox_put(tx, &row, &x);
	free(row.payload);
	return rc;
}

/* One webhook row for endpoint `ep` at `url`. */
static int
webhook_row(struct lb_tx *tx, const char *row_tenant, const char *ep, const char *url,
    const char *topic, json_t *data, int64_t now_ms, int64_t deadline_ms)
{
	struct lb_outbox_row row;
	struct lb_outbox_extra x = { .deadline_ms = deadline_ms };
	char ts[32];
	json_t *p;
	int rc;

	if ((rc = row_init(&row, row_tenant, topic, now_ms)) != 0 ||
	    (rc = put_field(row.recipient, sizeof(row.recipient), url)) != 0 ||
	    (rc = put_field(x.endpoint, sizeof(x.endpoint), ep)) != 0)
		return rc;
	memcpy(row.channel, "webhook", 8);
	if (lb_time_format(now_ms, ts, sizeof(ts)) != 0)
		return LB_ERR_INTERNAL;
	p = json_pack("{s:s, s:s, s:s, s:O}", "id", row.id, "type", topic, "timestamp", ts,
	    "data", data);
	if (p == NULL)
		return LB_ERR_NOMEM;
	row.payload = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	if (row.payload == NULL)
		return LB_ERR_NOMEM;
	rc = store_outbox_put(tx, &row, &x);
	free(row.payload);
	return rc;
}

struct hooks {
	struct lb_webhook w[LB_WEBHOOKS_MAX];
	size_t n;
};

static int
collect_hook(void *ctx, const struct lb_webhook *w)
{
	struct hooks *h = ctx;

	if (h->n < LB_WEBHOOKS_MAX)
		h->w[h->n++] = *w;
	return 0;
}

/* Rows for every endpoint of `owner` ("" = provider), stored as row_tenant. */
static int
endpoint_rows(struct lb_tx *tx, const char *owner, const char *topic, json_t *data,
    int64_t now_ms, int64_t deadline_ms)
{
	struct lb_page pg = { .limit = LB_WEBHOOKS_MAX };
	struct hooks *h = calloc(1, sizeof(*h));
	int rc;

	if (h == NULL)
		return LB_ERR_NOMEM;
	rc = store_webhook_list(tx, owner, &pg, collect_hook, h, NULL);
	for (size_t i = 0; rc == 0 && i < h->n; i++)
		rc = webhook_row(tx, owner, h->w[i].id, h->w[i].url, topic, data, now_ms,
		    deadline_ms);
	sodium_memzero(h, sizeof(*h));  /* the sealed secrets too */
	free(h);
	return rc;
}

int
notify_enqueue_webhooks(struct lb_tx *tx, const char *tenant, const char *topic,
    json_t *data, int64_t now_ms, int64_t deadline_ms)
{
	int rc;

	if (tenant != NULL && tenant[0] != '\0' &&
	    (rc = endpoint_rows(tx, tenant, topic, data, now_ms, deadline_ms)) != 0)
		return rc;
	/* The provider's copies are not the tenant's notice: no deadline. */
	if ((rc = endpoint_rows(tx, "", topic, data, now_ms, 0)) != 0)
		return rc;
	if (provider_url[0] != '\0')
		return webhook_row(tx, "", LB_WEBHOOK_CONFIG_ID, provider_url, topic, data,
		    now_ms, 0);
	return 0;
}

int
notify_enqueue_tenant(struct lb_tx *tx, const char *tenant, const char *topic,
    const char *key, json_t *data, int64_t now_ms, int64_t deadline_ms)
{
	struct lb_settings s;
	struct lb_user u;
	int rc;

	rc = store_settings_get(tx, tenant, &s);
	if (rc == LB_ERR_NOT_FOUND) {
		lb_settings_init(&s);
		rc = 0;
	}
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < s.napprovers; i++) {
		rc = store_user_get(tx, tenant, s.approvers[i], &u);
		if (rc == LB_ERR_NOT_FOUND)
			continue;
		if (rc != 0 || (rc = notify_enqueue_email(tx, tenant, u.email, topic, key, data,
		    now_ms, deadline_ms)) != 0)
			return rc;
	}
	for (size_t i = 0; i < s.nemails; i++)
		if ((rc = notify_enqueue_email(tx, tenant, s.notification_emails[i], topic, key,
		    data, now_ms, deadline_ms)) != 0)
			return rc;
	return notify_enqueue_webhooks(tx, tenant, topic, data, now_ms, deadline_ms);
}

int
notify_enqueue_emergency(struct lb_tx *tx, const char *tenant, const char *emergency_id,
    json_t *details, int64_t started_ms, int64_t now_ms)
{
	json_t *d;
	char ts[32];
	int rc;

	if (tenant == NULL || tenant[0] == '\0' || emergency_id == NULL || details == NULL)
		return LB_ERR_INTERNAL;
	if (lb_time_format(started_ms, ts, sizeof(ts)) != 0)
		return LB_ERR_INTERNAL;
	if ((d = json_deep_copy(details)) == NULL)
		return LB_ERR_NOMEM;
	if (json_object_set_new(d, "emergency_id", json_string(emergency_id)) != 0 ||
	    json_object_set_new(d, "tenant", json_string(tenant)) != 0 ||
	    json_object_set_new(d, "started_at", json_string(ts)) != 0) {
		json_decref(d);
		return LB_ERR_NOMEM;
	}
	rc = notify_enqueue_tenant(tx, tenant, "emergency.started", "emergency", d, now_ms,
	    started_ms + LB_EMERGENCY_NOTICE_MS);
	json_decref(d);
	return rc;
}
