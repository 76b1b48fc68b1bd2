/*
 * The sweeper: writes the passage of time.
 *
 * Every read already treats a request past its pending expiry as expired
 * and one past its access window as completed (lb_request_status_at), so
 * nothing waits on this thread for correctness.  It makes the transition
 * durable with its audit record and notifications.  After downtime it
 * catches up on start: every due row is found by an index, not by a timer
 * that was lost.  The moment the transition became due, which may be
 * earlier than the moment it was written, is kept in the record's details (pending_expires_at or
 * access_expires_at); the record's own time is when it was written, so each
 * chain stays in time order.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "app/app.h"

#define SWEEP_BATCH 200

struct due {
	char ids[SWEEP_BATCH][LB_REQID_MAX + 1];
	size_t n;
};

static int
collect(void *ctx, const struct lb_request *r)
{
	struct due *d = ctx;

	if (d->n < SWEEP_BATCH) {
		memcpy(d->ids[d->n], r->id, sizeof(d->ids[0]));
		d->n++;
	}
	return 0;
}

/* Transitions one request if it is still due; 1 if it did. */
static int
sweep_one(struct lb_app *app, const char *id, int64_t now_ms)
{
	struct lb_tx *tx = NULL;
	struct lb_request r;
	int op = LB_OP_NONE, rc;

	if ((rc = store_begin(app->store, true, &tx)) != 0)
		return rc;
	if ((rc = store_request_get(tx, id, &r)) != 0)
		goto out;
	int64_t version = r.version;
	if (lb_request_tick(&r, now_ms, &op) != 1) {
		rc = 0;
		goto out;
	}
	if ((rc = app_request_commit(tx, &r, op, version, &app_system_actor, "", now_ms)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		app_request_committed(app, &r);
		atomic_fetch_add(&app->metrics.decisions[op], 1);
		log_info("sweep", "request=%s tenant=%s op=%s", r.id, r.tenant, lb_op_name(op));
		return 1;
	}
out:
	store_rollback(tx);
	return rc;
}

int
app_sweep_once(struct lb_app *app, int64_t now_ms)
{
	struct lb_request_filter f = { .status = -1, .now_ms = now_ms, .due_only = true };
	struct lb_page pg = { .limit = SWEEP_BATCH };
	struct lb_tx *tx = NULL;
	static struct due d;    /* only the sweeper thread calls this */
	int total = 0, rc;
	bool more = true;

	for (int rounds = 0; more && rounds < 1000; rounds++) {
		d.n = 0;
		if ((rc = store_begin(app->store, false, &tx)) != 0)
			return rc;
		rc = store_request_list(tx, &f, &pg, collect, &d, &more);
		store_rollback(tx);
		if (rc != 0)
			return rc;
		for (size_t i = 0; i < d.n; i++) {
			rc = sweep_one(app, d.ids[i], now_ms);
			if (rc < 0 && rc != LB_ERR_CONFLICT)
				return rc;
			if (rc == 1)
				total++;
		}
		if (d.n == 0)
			break;
	}
	/* Break-glass: windows that ended, notices whose deadline came (emergency.c). */
	if ((rc = app_emergency_sweep(app, now_ms)) < 0)
		return rc;
	total += rc;
	atomic_fetch_add(&app->metrics.sweeper_runs, 1);
	atomic_fetch_add(&app->metrics.sweeper_transitions, (unsigned long long)total);
	return total;
}

static void *
sweeper_main(void *arg)
{
	struct lb_app *app = arg;

	while (!atomic_load(&app->stopping)) {
		int rc = app_sweep_once(app, clock_now_ms());
		if (rc < 0)
			log_warn("sweep", "error=%s", lb_err_code(rc));
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		long ms = app->cfg->sweep_interval_ms;
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&app->sweep_mu);
		if (!atomic_load(&app->stopping))
			pthread_cond_timedwait(&app->sweep_cv, &app->sweep_mu, &ts);
		pthread_mutex_unlock(&app->sweep_mu);
	}
	return NULL;
}

int
app_sweeper_start(struct lb_app *app)
{
	pthread_mutex_init(&app->sweep_mu, NULL);
	pthread_cond_init(&app->sweep_cv, NULL);
	if (pthread_create(&app->sweeper, NULL, sweeper_main, app) != 0)
		return LB_ERR_INTERNAL;
	app->sweeper_started = true;
	return 0;
}

void
app_sweeper_stop(struct lb_app *app)
{
	if (!app->sweeper_started)
		return;
	pthread_mutex_lock(&app->sweep_mu);
	atomic_store(&app->stopping, true);
	pthread_cond_signal(&app->sweep_cv);
	pthread_mutex_unlock(&app->sweep_mu);
	pthread_join(app->sweeper, NULL);
	pthread_cond_destroy(&app->sweep_cv);
	pthread_mutex_destroy(&app->sweep_mu);
	app->sweeper_started = false;
}
