/*
 * /healthz, /readyz and /metrics: what an SRE's probes and Prometheus read.
 *
 * /healthz says the process answers; /readyz says storage answers too (a
 * load balancer should stop sending decisions to a node that cannot write
 * its audit trail); /metrics is the Prometheus text format, version 0.0.4.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "notify/notify.h"

int
h_healthz(struct lb_ctx *c)
{
	return http_reply(c, 200, json_pack("{s:s}", "status", "ok"));
}

int
h_readyz(struct lb_ctx *c)
{
	if (store_ping(c->app->store) != 0)
		return http_fail(c, LB_ERR_UNAVAILABLE, "storage is not answering");
	return http_reply(c, 200, json_pack("{s:s}", "status", "ready"));
}

/* A growing text buffer; on overflow the answer is an error, never cut. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void
put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t ncap = t->cap * 2 + (size_t)n;
		if (ncap > 1024 * 1024) {
			t->failed = true;
			return;
		}
		char *nb = realloc(t->buf, ncap);
		if (nb == NULL) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

int
h_metrics(struct lb_ctx *c)
{
	static const char *const le[] = { "0.0005", "0.001", "0.0025", "0.005", "0.01",
		"0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf" };
	static const char *const cls[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
	struct lb_metrics *m = &c->app->metrics;
	struct text t = { .cap = 8192 };
	uint64_t counts[LB_ST_COUNT];
	struct lb_tx *tx = NULL;
	int rc;

	if ((t.buf = malloc(t.cap)) == NULL)
		return LB_ERR_NOMEM;
	t.buf[0] = '\0';
	put(&t, "# HELP lockbox_up Whether the daemon is serving.\n"
	    "# TYPE lockbox_up gauge\nlockbox_up 1\n");
	put(&t, "# HELP lockbox_http_requests_total HTTP answers by status class.\n"
	    "# TYPE lockbox_http_requests_total counter\n");
	for (int i = 0; i < 6; i++)
		put(&t, "lockbox_http_requests_total{class=\"%s\"} %llu\n", cls[i],
		    (unsigned long long)atomic_load(&m->http_requests[i]));
	put(&t, "# HELP lockbox_http_request_duration_seconds Time to answer an HTTP call.\n"
	    "# TYPE lockbox_http_request_duration_seconds histogram\n");
	unsigned long long cum = 0;
	for (int i = 0; i < 12; i++) {
		cum += atomic_load(&m->http_duration_bucket[i]);
		put(&t, "lockbox_http_request_duration_seconds_bucket{le=\"%s\"} %llu\n", le[i], cum);
	}
	put(&t, "lockbox_http_request_duration_seconds_sum %.6f\n"
	    "lockbox_http_request_duration_seconds_count %llu\n",
	    (double)atomic_load(&m->http_duration_sum_us) / 1e6, cum);
	put(&t, "# HELP lockbox_request_operations_total Request lifecycle operations committed.\n"
	    "# TYPE lockbox_request_operations_total counter\n");
	for (int op = LB_OP_CREATE; op <= LB_OP_COMPLETE; op++)
		put(&t, "lockbox_request_operations_total{operation=\"%s\"} %llu\n", lb_op_name(op),
		    (unsigned long long)atomic_load(&m->decisions[op]));
	put(&t, "# HELP lockbox_audit_write_failures_total Audit records that could not be written "
	    "(the change was refused).\n# TYPE lockbox_audit_write_failures_total counter\n"
	    "lockbox_audit_write_failures_total %llu\n",
	    (unsigned long long)atomic_load(&m->audit_failures));
	put(&t, "# HELP lockbox_sweeper_transitions_total Expiries and window ends written.\n"
	    "# TYPE lockbox_sweeper_transitions_total counter\n"
	    "lockbox_sweeper_transitions_total %llu\n",
	    (unsigned long long)atomic_load(&m->sweeper_transitions));
	put(&t, "# HELP lockbox_authz_decisions_total Access check decisions by result and reason.\n"
	    "# TYPE lockbox_authz_decisions_total counter\n");
	for (int a = 0; a < 2; a++)
		for (int r = 0; r < LB_REF_COUNT; r++) {
			unsigned long long v = atomic_load(&m->authz[a][r]);
			if (v != 0 || (a == 1 && r == 0) || (a == 0 && r == LB_REF_AUDIT))
				put(&t, "lockbox_authz_decisions_total{result=\"%s\",reason=\"%s\"} %llu\n",
				    a ? "allowed" : "denied", r ? lb_refusal_name((enum lb_refusal)r) : "none", v);
		}
	static const char *const ale[] = { "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
		"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "+Inf" };
	put(&t, "# HELP lockbox_authz_duration_seconds Time to decide and durably record an access.\n"
	    "# TYPE lockbox_authz_duration_seconds histogram\n");
	cum = 0;
	for (int i = 0; i < 12; i++) {
		cum += atomic_load(&m->authz_duration_bucket[i]);
		put(&t, "lockbox_authz_duration_seconds_bucket{le=\"%s\"} %llu\n", ale[i], cum);
	}
	put(&t, "lockbox_authz_duration_seconds_sum %.6f\nlockbox_authz_duration_seconds_count %llu\n",
	    (double)atomic_load(&m->authz_duration_sum_us) / 1e6, cum);
	if (c->app->auditq != NULL) {
		static const char *const ble[LB_AUDITQ_BUCKETS] = { "1", "4", "16", "64", "256", "+Inf" };
		const struct lb_auditq_stats *qs = auditq_stats(c->app->auditq);
		put(&t, "# HELP lockbox_audit_batch_size Access records per group commit.\n"
		    "# TYPE lockbox_audit_batch_size histogram\n");
		cum = 0;
		for (int i = 0; i < LB_AUDITQ_BUCKETS; i++) {
			cum += atomic_load(&qs->size_bucket[i]);
			put(&t, "lockbox_audit_batch_size_bucket{le=\"%s\"} %llu\n", ble[i], cum);
		}
		put(&t, "lockbox_audit_batch_size_sum %llu\nlockbox_audit_batch_size_count %llu\n",
		    (unsigned long long)atomic_load(&qs->records), cum);
		put(&t, "# HELP lockbox_audit_batch_failures_total Group commits that failed "
		    "(their accesses were refused).\n# TYPE lockbox_audit_batch_failures_total counter\n"
		    "lockbox_audit_batch_failures_total %llu\n",
		    (unsigned long long)atomic_load(&qs->failed_batches));
	}
	if (c->app->live != NULL)
		put(&t, "# HELP lockbox_live_grants Approved access windows open now.\n"
		    "# TYPE lockbox_live_grants gauge\nlockbox_live_grants %zu\n",
		    live_count(c->app->live, c->now_ms));
	if ((rc = store_begin(c->app->store, false, &tx)) == 0) {
		rc = store_request_count(tx, c->now_ms, counts);
		store_rollback(tx);
	}
	if (rc == 0) {
		put(&t, "# HELP lockbox_requests Requests by status as of now.\n"
		    "# TYPE lockbox_requests gauge\n");
		for (int s = 0; s < LB_ST_COUNT; s++)
			put(&t, "lockbox_requests{status=\"%s\"} %llu\n",
			    lb_status_name((enum lb_status)s), (unsigned long long)counts[s]);
	}
	{
		/* Notification delivery (src/notify/): this process's counters ... */
		static const char *const chn[2] = { "email", "webhook" };
		const struct lb_notify_stats *ns = notify_stats();
		uint64_t npending = 0, ndead = 0, noverdue = 0;
		int nrc;
		put(&t, "# HELP lockbox_notifications_total Notification delivery attempts by "
		    "channel and result (failed: will be retried; dead: gave up).\n"
		    "# TYPE lockbox_notifications_total counter\n");
		for (int i = 0; i < 2; i++)
			put(&t, "lockbox_notifications_total{channel=\"%s\",result=\"delivered\"} %llu\n"
			    "lockbox_notifications_total{channel=\"%s\",result=\"failed\"} %llu\n"
			    "lockbox_notifications_total{channel=\"%s\",result=\"dead\"} %llu\n",
			    chn[i], (unsigned long long)atomic_load(&ns->delivered[i]),
			    chn[i], (unsigned long long)atomic_load(&ns->failed[i]),
			    chn[i], (unsigned long long)atomic_load(&ns->dead[i]));
		/* ... and what the outbox holds, which survives restarts. */
		if ((nrc = store_begin(c->app->store, false, &tx)) == 0) {
			nrc = store_outbox_counts(tx, &npending, &ndead, &noverdue);
			store_rollback(tx);
			tx = NULL;
		}
		if (nrc == 0)
			put(&t, "# HELP lockbox_notification_queue_depth Notifications waiting to be "
			    "delivered.\n# TYPE lockbox_notification_queue_depth gauge\n"
			    "lockbox_notification_queue_depth %llu\n"
			    "# HELP lockbox_notification_dead_letters Notifications given up after the "
			    "retry horizon.\n# TYPE lockbox_notification_dead_letters gauge\n"
			    "lockbox_notification_dead_letters %llu\n"
			    "# HELP lockbox_emergency_notices_overdue Emergency notices not delivered "
			    "within 48 hours.\n# TYPE lockbox_emergency_notices_overdue gauge\n"
			    "lockbox_emergency_notices_overdue %llu\n",
			    (unsigned long long)npending, (unsigned long long)ndead,
			    (unsigned long long)noverdue);
	}
	put(&t, "# HELP lockbox_storage_up Whether storage answered this scrape.\n"
	    "# TYPE lockbox_storage_up gauge\nlockbox_storage_up %d\n", rc == 0 ? 1 : 0);
	if (t.failed) {
		free(t.buf);
		return LB_ERR_NOMEM;
	}
	c->status = 200;
	c->resp_text = t.buf;
	c->resp_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
