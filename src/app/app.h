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

#include "audit/batch.h"
#include "authz/authz.h"
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
	atomic_ullong authz[2][LB_REF_COUNT];   /* [allowed?][reason] */
	atomic_ullong authz_duration_bucket[12];
	atomic_ullong authz_duration_sum_us;
};

/* A verified grant, as remembered by the grant cache. */
struct lb_grant_seen {
	char rid[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char sub[LB_ID_MAX + 1];
	int64_t exp_s;
};

struct lb_app {
	struct lb_store *store;
	const struct lb_config *cfg;
	struct lb_metrics metrics;
	struct lb_keyring *keys;
	struct lb_live *live;
	struct lb_auditq *auditq;
	struct lb_uri_map uri_map;
	struct lb_cache *grant_cache;   /* sha256(grant) -> struct lb_grant_seen */
	struct lb_cache *token_cache;   /* sha256(API token) -> struct lb_actor */
	atomic_bool stopping;
	/*
	 * Access checks waiting on a suspended connection for their record,
	 * and the flag that stops new ones being deferred while the HTTP
	 * server drains before it stops (libmicrohttpd must not be stopped
	 * with a connection suspended).
	 */
	atomic_int deferred_inflight;
	atomic_bool http_draining;
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

/*
 * After a request change has committed: keeps the live grants in step
 * (approved: added; anything else: removed).
 */
void app_request_committed(struct lb_app *app, const struct lb_request *r);
/* Loads every request approved as of now_ms into the live grants. */
int app_live_load(struct lb_app *app, int64_t now_ms);

/* On a new database with LOCKBOX_BOOTSTRAP_TOKEN set, creates `admin`. */
int app_bootstrap(struct lb_app *app, const char *token);

/* ----------------------------------------------------------- sweeper.c */

/* Writes every due expiry and window end as of now; returns how many. */
int app_sweep_once(struct lb_app *app, int64_t now_ms);
int app_sweeper_start(struct lb_app *app);
void app_sweeper_stop(struct lb_app *app);

/* --------------------------------------------------------- emergency.c */

/*
 * Break-glass (docs/break-glass.md).  Like app_request_commit: stores an
 * emergency access change made by the core (`op` an enum lb_em_op; insert
 * for REQUEST, else an update guarded by `expected_version`), appends its
 * record to the tenant's chain (record type CustomerLockboxEmergencyAccess)
 * and queues what the tenant must be told (APPROVE: the 48-hour notice via
 * notify_enqueue_emergency, linked to the access), in the caller's write
 * transaction.
 */
int app_emergency_commit(struct lb_tx *tx, const struct lb_emergency *e, int op,
    int64_t expected_version, const struct lb_actor *actor, const char *client_ip,
    int64_t now_ms);
/* The JSON details the audit record of an emergency access change carries. */
json_t *app_emergency_details(const struct lb_emergency *e, int op);
/*
 * Records a refused attempt (RefuseEmergencyAccess, result "failure") in the
 * tenant's chain, with the rule that refused it (`err`).
 */
int app_emergency_refused(struct lb_tx *tx, const struct lb_emergency_input *in,
    const struct lb_actor *actor, int err, const char *client_ip, int64_t now_ms);
/* After a change has committed: active accesses are live grants, others not. */
void app_emergency_committed(struct lb_app *app, const struct lb_emergency *e);
/* Loads every emergency access active as of now_ms into the live grants. */
int app_emergency_live_load(struct lb_app *app, int64_t now_ms);
/*
 * The sweeper's part: expires active accesses at their end
 * (ExpireEmergencyAccess) and checks each started access's notice at its
 * 48-hour deadline.  Returns how many accesses changed, or an error.
 */
int app_emergency_sweep(struct lb_app *app, int64_t now_ms);

#endif
