/*
 * The application layer: where a decision of the core is committed, in one
 * transaction, with its audit record and its outbox rows.  The HTTP
 * handlers and the sweeper both go through here, so a state change cannot
 * be stored without its record (CONVENTIONS habit 6).
 */
#ifndef LOCKBOX_APP_H
#define LOCKBOX_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "store/store.h"
#include "sys/sys.h"

/* Counters for /metrics; all relaxed atomics. */
struct lb_metrics {
	atomic_ullong http_requests[6];         /* by status class 1xx..5xx, [0] other */
	atomic_ullong http_duration_bucket[12]; /* cumulative-free counts per bucket */
	atomic_ullong http_duration_sum_us;
	atomic_ullong decisions[LB_OP_COMPLETE + 1];
	atomic_ullong audit_failures;
	atomic_ullong sweeper_runs;
	atomic_ullong sweeper_transitions;
};

struct lb_app {
	struct lb_store *store;
	const struct lb_config *cfg;
	struct lb_metrics metrics;
	atomic_bool stopping;
	pthread_t sweeper;
	bool sweeper_started;
	pthread_mutex_t sweep_mu;
	pthread_cond_t sweep_cv;
};

/* The sweeper's actor. */
extern const struct lb_actor app_system_actor;

/* ------------------------------------------------------------- app.c */

/*
 * Stores a request change made by the core (`op` from lb_request_create,
 * lb_request_decide or lb_request_tick): the row (insert for CREATE, else
 * an update guarded by `expected_version`), its audit record and its
 * outbox rows, in the caller's write transaction.
 */
int app_request_commit(struct lb_tx *tx, const struct lb_request *r, int op,
    int64_t expected_version, const struct lb_actor *actor, const char *client_ip,
    int64_t now_ms);

/* Settings of a tenant, or the defaults when never written. */
int app_settings_load(struct lb_tx *tx, const char *tenant, struct lb_settings *out);
int app_provider_settings_load(struct lb_tx *tx, struct lb_provider_settings *out);

/* The JSON details an audit record of a request carries. */
json_t *app_request_details(const struct lb_request *r, int op);

/* On a new database with LOCKBOX_BOOTSTRAP_TOKEN set, creates `admin`. */
int app_bootstrap(struct lb_app *app, const char *token);

/* ----------------------------------------------------------- sweeper.c */

/* Writes every due expiry and window end as of now; returns how many. */
int app_sweep_once(struct lb_app *app, int64_t now_ms);
int app_sweeper_start(struct lb_app *app);
void app_sweeper_stop(struct lb_app *app);

#endif
