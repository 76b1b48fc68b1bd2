/*
 * The notifier: one thread that empties the outbox.
 *
 * Each round reads up to a batch of due rows in a read transaction,
 * renders them (the email text comes from the stored request, its tenant
 * and, for a window's end, its access receipts) and lets go of the
 * database.  Only then does it talk to the network, one row at a time, and
 * after each attempt it marks the row in a short write transaction with its
 * audit record: NotificationDelivered, or a retry time from the backoff
 * policy, or after the retry horizon NotificationDeadLetter.  Nothing waits
 * on the network inside a transaction, and nothing is marked before it was
 * sent, so a crash between sending and marking sends that one message again
 * (with the same id, for receivers to deduplicate) but never loses one.
 *
 * The same thread writes the passage of time for notifications: one
 * reminder per pending request before it expires (notify_reminders makes it
 * once, across restarts) and the overdue record of an emergency notice not
 * delivered within 48 hours (with the provider's alert webhook).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "app/app.h"
#include "audit/audit.h"
#include "notify/notify.h"

#define BATCH           16
#define ROUNDS_MAX      8       /* batches per round before looking at time again */
#define RECEIPTS_MAX    100
#define TIME_BATCH      50      /* reminders and overdue notices per round */

struct lb_notify {
	struct lb_store *st;
	const struct lb_config *cfg;
	struct lb_notify_policy pol;
	pthread_t th;
	bool started;
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct lb_notify_stats stats;

static const struct lb_actor notifier_actor = {
	.id = "lockboxd", .realm = LB_PROVIDER_REALM, .roles = 0, .type = LB_ACTOR_SYSTEM,
};

const struct lb_notify_stats *
notify_stats(void)
{
	return &stats;
}

/* One row on its way: everything the send needs, copied out of the tx. */
struct job {
	struct lb_outbox_row row;       /* payload owned */
	struct lb_outbox_extra x;
	char *message;                  /* email: the rendered message (owned) */
	char secret[LB_WEBHOOK_SECRET_MAX];
	bool unusable;                  /* cannot ever be sent: dead at once */
	char reason[256];
};

struct ids {
	char v[BATCH > TIME_BATCH ? BATCH : TIME_BATCH][LB_REQID_MAX + 1];
	size_t n, cap;
};

static int
collect_row(void *ctx, const struct lb_outbox_row *row)
{
	struct ids *l = ctx;

	if (l->n < l->cap)
		memcpy(l->v[l->n++], row->id, sizeof(l->v[0]));
	return 0;
}

static int
collect_id(void *ctx, const char *id)
{
	struct ids *l = ctx;

	if (l->n < l->cap && strlen(id) < sizeof(l->v[0]))
		memcpy(l->v[l->n++], id, strlen(id) + 1);
	return 0;
}

static int
channel_index(const char *ch)
{
	return strcmp(ch, "webhook") == 0 ? 1 : 0;
}

/* The request a payload is about ("" when none). */
static const char *
payload_request_id(json_t *p)
{
	json_t *o = json_object_get(p, "request");
	const char *s;

	if (!json_is_object(o))
		o = json_object_get(p, "data");
	s = json_string_value(json_object_get(o, "request_id"));
	return s ? s : "";
}

struct receipts {
	struct lb_receipt v[RECEIPTS_MAX];
	size_t n;
};

static int
collect_receipt(void *ctx, const struct lb_receipt *r)
{
	struct receipts *rs = ctx;

	if (rs->n < RECEIPTS_MAX)
		rs->v[rs->n++] = *r;
	return 0;
}

/* Renders an email job in the read transaction. */
static int
prepare_email(struct lb_notify *nf, struct lb_tx *tx, struct job *j, int64_t now_ms)
{
	struct lb_request *req = NULL;
	struct receipts *rs = NULL;
	struct lb_tenant t;
	json_t *p = NULL;
	int rc = 0;

	if ((p = json_loads(j->row.payload, 0, NULL)) == NULL) {
		j->unusable = true;
		snprintf(j->reason, sizeof(j->reason), "payload is not JSON");
		goto out;
	}
	memset(&t, 0, sizeof(t));
	if (j->row.tenant[0] != '\0' && (rc = store_tenant_get(tx, j->row.tenant, &t)) != 0 &&
	    rc != LB_ERR_NOT_FOUND)
		goto out;
	const char *rid = payload_request_id(p);
	if (rid[0] != '\0') {
		if ((req = malloc(sizeof(*req))) == NULL || (rs = calloc(1, sizeof(*rs))) == NULL) {
			rc = LB_ERR_NOMEM;
			goto out;
		}
		rc = store_request_get(tx, rid, req);
		if (rc == LB_ERR_NOT_FOUND) {
			free(req);
			req = NULL;
		} else if (rc != 0) {
			goto out;
		} else if (strcmp(j->row.topic, "request.completed") == 0 &&
		    (rc = store_receipt_list(tx, rid, RECEIPTS_MAX, collect_receipt, rs)) != 0) {
			goto out;
		}
	}
	struct lb_mail_in in = {
		.from = nf->cfg->mail_from, .to = j->row.recipient, .msg_id = j->row.id,
		.topic = j->row.topic, .tenant_name = t.name, .req = req, .payload = p,
		.receipts = rs ? rs->v : NULL, .nreceipts = rs ? rs->n : 0,
		.console_url = nf->cfg->console_url, .now_ms = now_ms,
	};
	rc = notify_render_email(&in, &j->message);
	if (rc == LB_ERR_INVALID_VALUE || rc == LB_ERR_TOO_LARGE) {
		j->unusable = true;
		snprintf(j->reason, sizeof(j->reason), "message cannot be rendered: %s",
		    lb_err_code(rc));
		rc = 0;
	}
out:
	json_decref(p);
	free(req);
	free(rs);
	return rc;
}

/* Finds the endpoint's secret in the read transaction. */
static int
prepare_webhook(struct lb_notify *nf, struct lb_tx *tx, struct job *j)
{
	struct lb_webhook w;
	int rc;

	if (strcmp(j->x.endpoint, LB_WEBHOOK_CONFIG_ID) == 0) {
		size_t n = strlen(nf->cfg->webhook_secret);
		memcpy(j->secret, nf->cfg->webhook_secret, n + 1);
		return 0;
	}
	rc = store_webhook_get(tx, j->row.tenant, j->x.endpoint, &w);
	if (rc == LB_ERR_NOT_FOUND) {
		j->unusable = true;
		snprintf(j->reason, sizeof(j->reason), "webhook endpoint %s was removed",
		    j->x.endpoint);
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = notify_secret_open(w.secret, j->secret, sizeof(j->secret));
	sodium_memzero(&w, sizeof(w));
	if (rc != 0) {
		j->unusable = true;
		snprintf(j->reason, sizeof(j->reason), "the endpoint's secret cannot be opened "
		    "(notify.key changed?)");
	}
	return 0;
}

static void
job_clear(struct job *j)
{
	free(j->row.payload);
	free(j->message);
	sodium_memzero(j, sizeof(*j));
}

/* Reads up to BATCH due rows into jobs; *n set.  Lets go of the tx. */
static int
load_jobs(struct lb_notify *nf, int64_t now_ms, struct job *jobs, size_t *n)
{
	struct ids *l = calloc(1, sizeof(*l));
	struct lb_tx *tx = NULL;
	size_t got = 0;
	int rc;

	if (l == NULL)
		return LB_ERR_NOMEM;
	l->cap = BATCH;
	if ((rc = store_begin(nf->st, false, &tx)) != 0)
		goto out;
	/* Without an SMTP server, email rows wait (visible as queue depth). */
	rc = store_outbox_due_channel(tx, nf->cfg->smtp_url[0] ? NULL : "webhook", now_ms,
	    BATCH, collect_row, l);
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		struct job *j = &jobs[got];
		memset(j, 0, sizeof(*j));
		if ((rc = store_outbox_get(tx, l->v[i], &j->row, &j->x)) == LB_ERR_NOT_FOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		got++;
		if (strcmp(j->row.channel, "email") == 0) {
			rc = prepare_email(nf, tx, j, now_ms);
		} else if (strcmp(j->row.channel, "webhook") == 0) {
			rc = prepare_webhook(nf, tx, j);
		} else {
			j->unusable = true;
			snprintf(j->reason, sizeof(j->reason), "unknown channel");
		}
	}
out:
	store_rollback(tx);
	free(l);
	if (rc != 0) {
		for (size_t i = 0; i < got; i++)
			job_clear(&jobs[i]);
		return rc;
	}
	*n = got;
	return 0;
}

/* The audit record of a delivery or a dead letter, in tx. */
static int
audit_outcome(struct lb_tx *tx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x, const char *op)
{
	json_t *d = NULL, *p = json_loads(row->payload ? row->payload : "", 0, NULL);
	char ts[32];
	int rc;

	d = json_pack("{s:s, s:s, s:s, s:i}", "notification_id", row->id, "channel",
	    row->channel, "topic", row->topic, "attempts", row->attempts);
	if (d == NULL) {
		json_decref(p);
		return LB_ERR_NOMEM;
	}
	/* Never a webhook URL: its path or query may be a secret. */
	if (strcmp(row->channel, "email") == 0)
		json_object_set_new(d, "recipient", json_string(row->recipient));
	else
		json_object_set_new(d, "endpoint", json_string(x->endpoint));
	if (p != NULL && payload_request_id(p)[0] != '\0')
		json_object_set_new(d, "request_id", json_string(payload_request_id(p)));
	if (row->delivered_ms != 0 && lb_time_format(row->delivered_ms, ts, sizeof(ts)) == 0)
		json_object_set_new(d, "delivered_at", json_string(ts));
	if (row->last_error[0] != '\0')
		json_object_set_new(d, "last_error", json_string(row->last_error));
	struct lb_audit_event ev = {
		.tenant = row->tenant, .record_type = LB_RT_NOTIFICATION, .operation = op,
		.actor = &notifier_actor, .object_id = row->id,
		.result = strcmp(op, LB_OPN_DELIVERED) == 0 ? "success" : "failure",
		.client_ip = "", .details = d, .time_ms = clock_now_ms(),
	};
	rc = audit_append(tx, &ev);
	json_decref(d);
	json_decref(p);
	return rc;
}

/* Marks one job after its attempt: ok (0) or failed with err. */
static int
mark(struct lb_notify *nf, struct job *j, int send_rc, const char *err)
{
	struct lb_outbox_row row;
	struct lb_outbox_extra x;
	struct lb_tx *tx = NULL;
	int64_t now = clock_now_ms(), next = 0;
	int ch = channel_index(j->row.channel), rc;
	const char *op = NULL;

	memset(&row, 0, sizeof(row));
	if ((rc = store_begin(nf->st, true, &tx)) != 0)
		return rc;
	if ((rc = store_outbox_get(tx, j->row.id, &row, &x)) != 0)
		goto out;
	if (strcmp(row.status, "pending") != 0)
		goto out;               /* someone else finished it */
	row.attempts++;
	if (send_rc == 0) {
		memcpy(row.status, "delivered", 10);
		row.delivered_ms = now;
		row.last_error[0] = '\0';
		op = LB_OPN_DELIVERED;
	} else {
		snprintf(row.last_error, sizeof(row.last_error), "%s", err);
		if (j->unusable || notify_after_failure(&nf->pol, row.created_ms, row.attempts,
		    now, randombytes_random(), &next) == LB_NOTIFY_DEAD) {
			memcpy(row.status, "dead", 5);
			op = LB_OPN_DEAD_LETTER;
		} else {
			row.next_attempt_ms = next;
		}
	}
	if ((rc = store_outbox_update(tx, &row)) != 0)
		goto out;
	if (op != NULL && (rc = audit_outcome(tx, &row, &x, op)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc != 0)
		goto out;
	if (send_rc == 0)
		atomic_fetch_add(&stats.delivered[ch], 1);
	else if (op != NULL)
		atomic_fetch_add(&stats.dead[ch], 1);
	else
		atomic_fetch_add(&stats.failed[ch], 1);
	if (send_rc == 0)
		log_info("notify", "id=%s channel=%s topic=%s tenant=%s attempts=%d result=delivered",
		    row.id, row.channel, row.topic, row.tenant, row.attempts);
	else
		log_warn("notify", "id=%s channel=%s topic=%s tenant=%s attempts=%d result=%s "
		    "error=\"%s\"", row.id, row.channel, row.topic, row.tenant, row.attempts,
		    op ? "dead" : "retry", row.last_error);
out:
	store_rollback(tx);
	free(row.payload);
	return rc;
}

/* Sends one job; 0 on delivery. */
static int
send_job(struct lb_notify *nf, struct job *j, char *err, size_t errlen)
{
	if (j->unusable) {
		snprintf(err, errlen, "%s", j->reason);
		return LB_ERR_INVALID_VALUE;
	}
	if (strcmp(j->row.channel, "email") == 0) {
		struct lb_smtp_cfg sc = {
			.url = nf->cfg->smtp_url, .user = nf->cfg->smtp_user,
			.password = nf->cfg->smtp_password, .starttls = nf->cfg->smtp_starttls,
			.timeout_ms = nf->cfg->notify_timeout_ms, .abort = &nf->stop,
		};
		return notify_smtp_send(&sc, nf->cfg->mail_from, j->row.recipient, j->message,
		    err, errlen);
	}
	return notify_webhook_post(j->row.recipient, j->secret, j->row.id,
	    clock_now_ms() / 1000, j->row.payload ? j->row.payload : "{}",
	    nf->cfg->notify_timeout_ms, &nf->stop, err, errlen);
}

/* One batch: returns how many were delivered, or an error; *more if full. */
static int
deliver_batch(struct lb_notify *nf, int64_t now_ms, bool *more)
{
	struct job *jobs = calloc(BATCH, sizeof(*jobs));
	size_t n = 0;
	int delivered = 0, rc;

	*more = false;
	if (jobs == NULL)
		return LB_ERR_NOMEM;
	if ((rc = load_jobs(nf, now_ms, jobs, &n)) != 0)
		goto out;
	*more = n == BATCH;
	for (size_t i = 0; i < n; i++) {
		char err[256] = "";
		if (atomic_load(&nf->stop)) {
			*more = false;
			break;          /* not marked: it is sent after the restart */
		}
		int s = send_job(nf, &jobs[i], err, sizeof(err));
		if (s != 0 && atomic_load(&nf->stop) && !jobs[i].unusable)
			continue;       /* aborted by shutdown: not an attempt */
		if ((rc = mark(nf, &jobs[i], s, err)) != 0) {
			log_error("notify", "id=%s msg=\"cannot mark the notification\" error=%s",
			    jobs[i].row.id, lb_err_code(rc));
			continue;
		}
		if (s == 0)
			delivered++;
	}
	rc = delivered;
out:
	for (size_t i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
	return rc;
}

/* ------------------------------------------------------ the passage of time */

/* Records one overdue emergency notice, with the provider's alert. */
static int
overdue_one(struct lb_notify *nf, const char *id, int64_t now_ms)
{
	struct lb_outbox_row row;
	struct lb_outbox_extra x;
	struct lb_tx *tx = NULL;
	json_t *d = NULL, *p = NULL;
	char started[32], deadline[32];
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = store_begin(nf->st, true, &tx)) != 0)
		return rc;
	if ((rc = store_outbox_get(tx, id, &row, &x)) != 0)
		goto out;
	int64_t started_ms = x.deadline_ms - LB_EMERGENCY_NOTICE_MS;
	if (x.overdue_ms != 0 || x.deadline_ms == 0 ||
	    !notify_notice_overdue(started_ms, row.delivered_ms, now_ms)) {
		rc = 0;
		goto out;
	}
	if ((rc = store_outbox_mark_overdue(tx, id, now_ms)) != 0)
		goto out;
	if (lb_time_format(started_ms, started, sizeof(started)) != 0 ||
	    lb_time_format(x.deadline_ms, deadline, sizeof(deadline)) != 0) {
		rc = LB_ERR_INTERNAL;
		goto out;
	}
	p = json_loads(row.payload, 0, NULL);
	json_t *em = json_object_get(json_object_get(p, "emergency"), "emergency_id");
	if (em == NULL)
		em = json_object_get(json_object_get(p, "data"), "emergency_id");
	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "notification_id", row.id,
	    "tenant", row.tenant, "channel", row.channel, "status", row.status,
	    "started_at", started, "deadline", deadline,
	    "emergency_id", json_is_string(em) ? em : json_null());
	if (d == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	struct lb_audit_event ev = {
		.tenant = row.tenant, .record_type = LB_RT_NOTIFICATION,
		.operation = LB_OPN_NOTICE_OVERDUE, .actor = &notifier_actor, .object_id = row.id,
		.result = "failure", .client_ip = "", .details = d, .time_ms = now_ms,
	};
	if ((rc = audit_append(tx, &ev)) != 0 ||
	    (rc = notify_enqueue_webhooks(tx, NULL, "alert.emergency_notice_overdue", d,
	    now_ms, 0)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		atomic_fetch_add(&stats.overdue, 1);
		log_error("notify", "id=%s tenant=%s msg=\"emergency notice not delivered within "
		    "48 h\"", row.id, row.tenant);
	}
out:
	store_rollback(tx);
	json_decref(d);
	json_decref(p);
	free(row.payload);
	return rc;
}

/* Sends the one reminder of a pending request, if still due. */
static int
remind_one(struct lb_notify *nf, const char *rid, int64_t now_ms)
{
	struct lb_request *r = malloc(sizeof(*r));
	struct lb_tx *tx = NULL;
	json_t *d = NULL;
	int rc;

	if (r == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(nf->st, true, &tx)) != 0)
		goto out;
	if ((rc = store_request_get(tx, rid, r)) != 0)
		goto out;
	if (lb_request_status_at(r, now_ms) != LB_ST_PENDING ||
	    !notify_reminder_due(r->pending_expires_ms, nf->cfg->notify_reminder_ms, now_ms))
		goto out;
	if ((rc = store_reminder_put(tx, rid, now_ms)) != 0)
		goto out;       /* ALREADY_EXISTS: it was sent already */
	if ((d = app_request_details(r, LB_OP_CREATE)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = notify_enqueue_tenant(tx, r->tenant, "request.reminder", "request", d, now_ms,
	    0)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		atomic_fetch_add(&stats.reminders, 1);
		log_info("notify", "request=%s tenant=%s msg=\"reminder queued\"", rid, r->tenant);
	}
out:
	store_rollback(tx);
	json_decref(d);
	free(r);
	return rc == LB_ERR_ALREADY_EXISTS ? 0 : rc;
}

/* Runs `fn` over the ids a read query finds. */
static int
time_pass(struct lb_notify *nf, int64_t now_ms, bool reminders)
{
	struct ids *l = calloc(1, sizeof(*l));
	struct lb_tx *tx = NULL;
	int rc;

	if (l == NULL)
		return LB_ERR_NOMEM;
	l->cap = TIME_BATCH;
	if ((rc = store_begin(nf->st, false, &tx)) != 0)
		goto out;
	if (reminders)
		rc = store_reminder_due(tx, now_ms, nf->cfg->notify_reminder_ms, TIME_BATCH,
		    collect_id, l);
	else
		rc = store_outbox_overdue_due(tx, now_ms, TIME_BATCH, collect_id, l);
	store_rollback(tx);
	tx = NULL;
	for (size_t i = 0; rc == 0 && i < l->n && !atomic_load(&nf->stop); i++)
		rc = reminders ? remind_one(nf, l->v[i], now_ms) : overdue_one(nf, l->v[i], now_ms);
out:
	store_rollback(tx);
	free(l);
	return rc;
}

int
notify_run_once(struct lb_notify *nf, int64_t now_ms)
{
	int total = 0, rc;
	bool more = true;

	if ((rc = time_pass(nf, now_ms, false)) != 0)
		log_warn("notify", "msg=\"overdue check failed\" error=%s", lb_err_code(rc));
	if (nf->cfg->notify_reminder_ms > 0 && (rc = time_pass(nf, now_ms, true)) != 0)
		log_warn("notify", "msg=\"reminders failed\" error=%s", lb_err_code(rc));
	for (int i = 0; more && i < ROUNDS_MAX && !atomic_load(&nf->stop); i++) {
		if ((rc = deliver_batch(nf, now_ms, &more)) < 0)
			return rc;
		total += rc;
	}
	return total;
}

static void *
worker_main(void *arg)
{
	struct lb_notify *nf = arg;

	while (!atomic_load(&nf->stop)) {
		int rc = notify_run_once(nf, clock_now_ms());
		if (rc < 0)
			log_warn("notify", "error=%s", lb_err_code(rc));
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long ms = nf->cfg->notify_poll_ms;
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&nf->mu);
		if (!atomic_load(&nf->stop))
			pthread_cond_timedwait(&nf->cv, &nf->mu, &ts);
		pthread_mutex_unlock(&nf->mu);
	}
	return NULL;
}

/* Checks the options a delivery depends on; logs what is wrong. */
static int
check_config(const struct lb_config *cfg)
{
	if (!lb_email_valid(cfg->mail_from)) {
		log_error("start", "msg=\"--mail-from is not an email address\"");
		return LB_ERR_INVALID_VALUE;
	}
	if (cfg->smtp_url[0] != '\0' && strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(cfg->smtp_url, "smtps://", 8) != 0) {
		log_error("start", "msg=\"--smtp-url must start with smtp:// or smtps://\"");
		return LB_ERR_INVALID_VALUE;
	}
	if (cfg->webhook_url[0] != '\0' && !notify_url_valid(cfg->webhook_url)) {
		log_error("start", "msg=\"--webhook-url must be an http:// or https:// URL\"");
		return LB_ERR_INVALID_VALUE;
	}
	if (cfg->webhook_secret[0] != '\0') {
		char sig[128];
		if (notify_webhook_sign(cfg->webhook_secret, "x", 0, "", 0, sig, sizeof(sig)) != 0) {
			log_error("start", "msg=\"--webhook-secret must be whsec_ and base64\"");
			return LB_ERR_INVALID_VALUE;
		}
	} else if (cfg->webhook_url[0] != '\0') {
		log_warn("start", "msg=\"--webhook-url without --webhook-secret: deliveries are "
		    "not signed\"");
	}
	return 0;
}

int
notify_start(struct lb_store *st, const struct lb_config *cfg, struct lb_notify **out)
{
	struct lb_notify *nf;
	int rc;

	if ((rc = check_config(cfg)) != 0)
		return rc;
	if ((rc = notify_key_load(cfg->data_dir)) != 0) {
		log_error("start", "msg=\"cannot read or create %s/notify.key\"", cfg->data_dir);
		return rc;
	}
	notify_set_provider_webhook(cfg->webhook_url);
	/* Before any thread uses libcurl. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return LB_ERR_INTERNAL;
	if ((nf = calloc(1, sizeof(*nf))) == NULL)
		return LB_ERR_NOMEM;
	nf->st = st;
	nf->cfg = cfg;
	nf->pol.base_ms = cfg->notify_backoff_base_ms;
	nf->pol.max_ms = cfg->notify_backoff_max_ms;
	nf->pol.horizon_ms = cfg->notify_retry_horizon_ms;
	atomic_init(&nf->stop, false);
	pthread_mutex_init(&nf->mu, NULL);
	pthread_cond_init(&nf->cv, NULL);
	if (pthread_create(&nf->th, NULL, worker_main, nf) != 0) {
		pthread_cond_destroy(&nf->cv);
		pthread_mutex_destroy(&nf->mu);
		free(nf);
		return LB_ERR_INTERNAL;
	}
	nf->started = true;
	log_info("start", "msg=\"notifier started\" email=%s webhook_url=%s",
	    cfg->smtp_url[0] ? "on" : "off", cfg->webhook_url[0] ? "on" : "off");
	*out = nf;
	return 0;
}

void
notify_stop(struct lb_notify *nf)
{
	if (nf == NULL)
		return;
	pthread_mutex_lock(&nf->mu);
	atomic_store(&nf->stop, true);
	pthread_cond_signal(&nf->cv);
	pthread_mutex_unlock(&nf->mu);
	if (nf->started)
		pthread_join(nf->th, NULL);
	pthread_cond_destroy(&nf->cv);
	pthread_mutex_destroy(&nf->mu);
	free(nf);
}
