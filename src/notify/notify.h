/*
 * Notification delivery: the outbox, emptied.
 *
 * Every state change commits its outbox rows in the same transaction as
 * itself (src/app/app.c, enqueue.c here).  The notifier (worker.c) is one
 * thread that reads due rows, lets go of the database, delivers them by
 * SMTP (smtp.c) or as signed webhooks (webhook.c), and marks each one in a
 * short write transaction with its audit record.  A failed attempt is
 * retried with exponential backoff and jitter (policy.c) until the retry
 * horizon; then the row is a dead letter.  Each message carries the outbox
 * row id (Message-ID <id@lockbox>, webhook-id), so a receiver can drop the
 * one duplicate a crash between sending and marking can cause.
 *
 * Grouped by file; docs/internals/notify.md is the long version.
 */
#ifndef LOCKBOX_NOTIFY_H
#define LOCKBOX_NOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"
#include "sys/sys.h"

/* Audit names of notification records. */
#define LB_RT_NOTIFICATION      "CustomerLockboxNotification"
#define LB_OPN_DELIVERED        "NotificationDelivered"
#define LB_OPN_DEAD_LETTER      "NotificationDeadLetter"
#define LB_OPN_NOTICE_OVERDUE   "EmergencyNoticeOverdue"

/* The webhook endpoint id of the --webhook-url endpoint. */
#define LB_WEBHOOK_CONFIG_ID    "config"
/* Endpoints per tenant (and for the provider). */
#define LB_WEBHOOKS_MAX         10
/* The length of a request fingerprint. */
#define LB_FINGERPRINT_LEN      8

/* ---------------------------------------------------------------- policy.c */

/* Pure: no clock, no randomness of its own, no I/O. */
struct lb_notify_policy {
	int64_t base_ms;        /* the first retry delay */
	int64_t max_ms;         /* no delay is longer */
	int64_t horizon_ms;     /* no retry is later than created + horizon */
};

/*
 * The delay before retry number `attempts` (1 after the first failure):
 * d = min(max, base * 2^(attempts-1)), then "equal jitter": a delay in
 * [d/2, d] chosen by `rnd`.  Never above max; for a given rnd the delays
 * never shrink while d is not capped.
 */
int64_t notify_backoff_ms(const struct lb_notify_policy *p, int attempts, uint32_t rnd);

enum lb_notify_verdict { LB_NOTIFY_RETRY, LB_NOTIFY_DEAD };

/*
 * After a failed attempt at now_ms (attempts made so far, including this
 * one): RETRY with *next_ms (at most created + horizon, so the last try
 * happens at the horizon), or DEAD once now_ms >= created + horizon.
 * *next_ms is written only for RETRY.
 */
enum lb_notify_verdict notify_after_failure(const struct lb_notify_policy *p,
    int64_t created_ms, int attempts, int64_t now_ms, uint32_t rnd, int64_t *next_ms);

/*
 * SPEC 2, emergency access: a notice is overdue iff it was not delivered
 * before started + 48 h and now_ms >= started + 48 h.  delivered_ms is 0
 * while undelivered.
 */
bool notify_notice_overdue(int64_t started_ms, int64_t delivered_ms, int64_t now_ms);

/* True when a reminder for a pending request expiring at expires_ms is due. */
bool notify_reminder_due(int64_t expires_ms, int64_t lead_ms, int64_t now_ms);

/* ---------------------------------------------------------------- render.c */

/*
 * A short fingerprint of a request for people to compare with the console:
 * the first 8 characters of the base32 (RFC 4648, no padding) SHA-256 of
 * the request id followed by created_at (RFC 3339).  out: 9 bytes.
 */
void notify_fingerprint(const char *request_id, int64_t created_ms, char out[9]);

/*
 * A header value: control characters (CR, LF, ...) become spaces, so user
 * text can never end a header; when the result is not plain printable
 * ASCII it is written as RFC 2047 "B" encoded-words of UTF-8 (each at most
 * 75 characters, folded with CRLF SP).  *out is malloc'd.
 */
int notify_header_encode(const char *value, char **out);

/* Quoted-printable (RFC 2045) of text whose line breaks become CRLF. */
int notify_qp_encode(const char *text, char **out);

/* What one email says. */
struct lb_mail_in {
	const char *from;               /* a validated address */
	const char *to;                 /* a validated address */
	const char *msg_id;             /* the outbox row id */
	const char *topic;              /* request.pending, ... */
	const char *tenant_name;        /* the tenant's display name ("" if unknown) */
	const struct lb_request *req;   /* NULL for notices not about a request */
	json_t *payload;                /* the outbox payload (borrowed) */
	const struct lb_receipt *receipts;  /* request.completed: what was accessed */
	size_t nreceipts;
	const char *console_url;        /* "" or NULL: none */
	int64_t now_ms;                 /* the Date header and "time left" */
};

/*
 * The whole message (RFC 5322 + MIME, CRLF lines): fixed headers (From,
 * To, Subject, Date, Message-ID, MIME-Version, Content-Type,
 * Auto-Submitted), then multipart/alternative with a text/plain and a
 * text/html part, both UTF-8 quoted-printable.  *out is malloc'd.
 */
int notify_render_email(const struct lb_mail_in *in, char **out);

/* ----------------------------------------------------------------- smtp.c */

/* Everything one SMTP send needs; credentials never reach a log. */
struct lb_smtp_cfg {
	const char *url;                /* smtp://host:port or smtps://... */
	const char *user;               /* "" or NULL: from the URL or none */
	const char *password;
	bool starttls;
	long timeout_ms;
	const atomic_bool *abort;       /* set: give up at once (shutdown) */
};

/*
 * Sends `message` from `from` to the one recipient `to`.  0 when the
 * server accepted it; else a negative error with a short reason (no
 * secret, no URL) in err.
 */
int notify_smtp_send(const struct lb_smtp_cfg *cfg, const char *from, const char *to,
    const char *message, char *err, size_t errlen);

/* -------------------------------------------------------------- webhook.c */

#define LB_WEBHOOK_SECRET_MAX   128

/*
 * The Standard Webhooks signature "v1,<base64 HMAC-SHA256>" of
 * "{msg_id}.{timestamp}.{body}" keyed with the base64 part of `secret`
 * (after "whsec_").  out: at least 64 bytes.
 */
int notify_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp_s,
    const char *body, size_t body_len, char *out, size_t outlen);

/* A new secret "whsec_" + base64 of 24 random bytes. */
void notify_webhook_secret_new(char *out, size_t len);

/*
 * Seals a secret for storage with the daemon's key (XSalsa20-Poly1305,
 * "sb1:" + base64(nonce | box)), and opens a sealed one.  Without a key
 * (notify_key_load not called) both fail with LB_ERR_UNAVAILABLE.
 */
int notify_secret_seal(const char *secret, char *out, size_t outlen);
int notify_secret_open(const char *sealed, char *out, size_t outlen);
/* Loads DIR/notify.key, creating it (0600, 32 random bytes) when absent. */
int notify_key_load(const char *data_dir);
/* For tests: uses `key` (32 bytes) as the sealing key. */
void notify_key_set(const uint8_t key[32]);

/* A URL usable as an endpoint: http(s)://, printable, no spaces. */
bool notify_url_valid(const char *url);
/* scheme://host[:port] of a URL, for lists: path, query and userinfo may be secret. */
void notify_url_redact(const char *url, char *out, size_t len);

/*
 * POSTs `body` to `url` with webhook-id, webhook-timestamp and, when a
 * secret is given, webhook-signature.  0 on any 2xx; else a negative
 * error with a short reason in err (the HTTP status or transport error).
 */
int notify_webhook_post(const char *url, const char *secret, const char *msg_id,
    int64_t timestamp_s, const char *body, long timeout_ms, const atomic_bool *abort,
    char *err, size_t errlen);

/* -------------------------------------------------------------- enqueue.c */

/*
 * Process-wide settings of the writers below, set once before any thread
 * starts: the --webhook-url endpoint.  NULL or "" for none.
 */
void notify_set_provider_webhook(const char *url);

/*
 * Writes, in the caller's transaction, one webhook row per endpoint of
 * `tenant` (none when tenant is "" or NULL) and per provider endpoint
 * (including --webhook-url).  The body is {"type": topic, "timestamp":
 * now, "data": data}; deadline_ms (0: none) marks emergency notices.
 * Tenant rows carry the tenant; provider rows carry "".
 */
int notify_enqueue_webhooks(struct lb_tx *tx, const char *tenant, const char *topic,
    json_t *data, int64_t now_ms, int64_t deadline_ms);

/* One email row to `to` with payload {"id", "topic", key: data}. */
int notify_enqueue_email(struct lb_tx *tx, const char *tenant, const char *to,
    const char *topic, const char *key, json_t *data, int64_t now_ms, int64_t deadline_ms);

/*
 * Emails (and webhook rows) for `topic` to the tenant's designated
 * approvers and notification_emails.
 */
int notify_enqueue_tenant(struct lb_tx *tx, const char *tenant, const char *topic,
    const char *key, json_t *data, int64_t now_ms, int64_t deadline_ms);

/*
 * For the emergency-access feature: tells the tenant that emergency access
 * started at started_ms — email to the approvers and notification_emails
 * and every webhook, topic "emergency.started", payload
 * {"emergency": details} — with the 48-hour deadline (started + 48 h)
 * tracked on each row.  Call in the transaction that starts the access.
 */
int notify_enqueue_emergency(struct lb_tx *tx, const char *tenant, const char *emergency_id,
    json_t *details, int64_t started_ms, int64_t now_ms);

/* ---------------------------------------------------------------- worker.c */

/* Counters for /metrics (relaxed atomics), by channel [0] email [1] webhook. */
struct lb_notify_stats {
	atomic_ullong delivered[2];
	atomic_ullong failed[2];        /* failed attempts that will be retried */
	atomic_ullong dead[2];
	atomic_ullong reminders;
	atomic_ullong overdue;          /* notices recorded overdue by this process */
};

const struct lb_notify_stats *notify_stats(void);

struct lb_notify;

/*
 * Starts the notifier over `st` with the options of `cfg` (both must
 * outlive it): loads the sealing key from cfg->data_dir, checks mail_from
 * and the webhook settings, then starts the thread.
 */
int notify_start(struct lb_store *st, const struct lb_config *cfg, struct lb_notify **out);
/* Stops the thread (an attempt in flight is abandoned, not marked). NULL ok. */
void notify_stop(struct lb_notify *n);
/*
 * One round at now_ms, as the thread does it: overdue notices, reminders,
 * then due rows.  Returns the number of rows delivered, or an error.
 * Exposed for tests.
 */
int notify_run_once(struct lb_notify *n, int64_t now_ms);

#endif
