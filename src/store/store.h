/*
 * Storage behind one interface.
 *
 * Callers see domain operations (insert a request, update it guarded by its
 * version, append an audit record) inside a transaction, never SQL.  The
 * SQLite backend (sqlite.c) is the embedded default; a PostgreSQL backend
 * implements the same table of function pointers (struct lb_store_ops in
 * store_impl.h), chosen by the URL given to store_open().  SQL stays
 * portable: no SQLite-only logic is needed by any caller.
 *
 * Every state change commits in one transaction with its audit record and
 * its outbox rows (CONVENTIONS habit 6).  A double decision is impossible
 * even under a race: updates are guarded by the row's version, and decision
 * rows are unique per (request, index).
 *
 * Errors: LB_ERR_NOT_FOUND, LB_ERR_ALREADY_EXISTS (unique key),
 * LB_ERR_CONFLICT (version guard lost), LB_ERR_UNAVAILABLE (any I/O, busy
 * or database error: callers fail closed), LB_ERR_NOMEM.
 */
#ifndef LOCKBOX_STORE_H
#define LOCKBOX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct lb_store;
struct lb_tx;

/* ------------------------------------------------------------- lifecycle */

/*
 * Opens `url`: "sqlite:PATH" (or a bare path) or "postgresql://...".
 * Creates the database if needed and runs the versioned migrations.
 * SQLite runs in WAL mode with synchronous=FULL and foreign keys on.
 */
int store_open(const char *url, struct lb_store **out);
void store_close(struct lb_store *st);          /* NULL is fine */
/* Cheap liveness check for /readyz: 0 when a read succeeds. */
int store_ping(struct lb_store *st);
/* The schema version the database is at. */
int store_schema_version(struct lb_store *st);

/*
 * Begins a transaction.  A write transaction excludes other writers for
 * its duration (SQLite: BEGIN IMMEDIATE on the one writer connection); a
 * read transaction sees one consistent snapshot and runs beside writers.
 * The tx is freed by store_commit() or store_rollback(), whatever they
 * return.  store_rollback(NULL) is a no-op.
 */
int store_begin(struct lb_store *st, bool write, struct lb_tx **out);
int store_commit(struct lb_tx *tx);
void store_rollback(struct lb_tx *tx);

/* Key/value metadata (e.g. "bootstrap_done"). value: up to 1024 bytes. */
int store_meta_get(struct lb_tx *tx, const char *key, char *value, size_t len);
int store_meta_put(struct lb_tx *tx, const char *key, const char *value);

/* ----------------------------------------------------------------- paging */

/*
 * Keyset paging.  A list returns at most `limit` items ordered by its key
 * and sets *more when another page exists.  `after_id` ("" for the first
 * page) and, for time-ordered lists, `after_ms` are the key of the last
 * item of the previous page.
 */
struct lb_page {
	size_t limit;
	char after_id[LB_REQID_MAX + LB_ID_MAX + 2];
	int64_t after_ms;
};

/* --------------------------------------------------------------- tenants */

int store_tenant_insert(struct lb_tx *tx, const struct lb_tenant *t);
int store_tenant_get(struct lb_tx *tx, const char *id, struct lb_tenant *out);
/* Ordered by id. */
int store_tenant_list(struct lb_tx *tx, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_tenant *t), void *ctx, bool *more);

/* Tenant settings.  NOT_FOUND when never written (callers use defaults). */
int store_settings_get(struct lb_tx *tx, const char *tenant, struct lb_settings *out);
int store_settings_put(struct lb_tx *tx, const char *tenant, const struct lb_settings *s);

int store_provider_settings_get(struct lb_tx *tx, struct lb_provider_settings *out);
int store_provider_settings_put(struct lb_tx *tx, const struct lb_provider_settings *ps);

/* ----------------------------------------------------- users and tokens */

struct lb_user {
	char id[LB_ID_MAX + 1];
	char realm[LB_ID_MAX + 1];
	unsigned roles;
	enum lb_actor_type type;        /* USER for people, SERVICE for gateways */
	char email[LB_EMAIL_MAX + 1];
	char display_name[LB_NAME_MAX + 1];
	int64_t created_ms;
};

/* (realm, id) is unique. */
int store_user_insert(struct lb_tx *tx, const struct lb_user *u);
int store_user_get(struct lb_tx *tx, const char *realm, const char *id, struct lb_user *out);
/* Ordered by id. */
int store_user_list(struct lb_tx *tx, const char *realm, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_user *u), void *ctx, bool *more);

struct lb_token {
	char id[LB_REQID_MAX + 1];
	char realm[LB_ID_MAX + 1];
	char user_id[LB_ID_MAX + 1];
	char label[LB_TOKEN_LABEL_MAX + 1];
	int64_t created_ms;
	int64_t revoked_ms;             /* 0 while valid */
};

/* Stores only the SHA-256 of the token text, never the token. */
int store_token_insert(struct lb_tx *tx, const struct lb_token *t, const uint8_t hash[32]);
/*
 * Finds the token whose stored hash equals `hash` (the caller compares the
 * returned hash again in constant time) and its user.  Revoked tokens are
 * returned too; the caller refuses them.
 */
int store_token_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_token *tok,
    uint8_t stored_hash[32], struct lb_user *user);
int store_token_get(struct lb_tx *tx, const char *id, struct lb_token *out);
int store_token_revoke(struct lb_tx *tx, const char *id, int64_t now_ms);
/* Ordered by id; user_id NULL lists the whole realm. */
int store_token_list(struct lb_tx *tx, const char *realm, const char *user_id,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_token *t),
    void *ctx, bool *more);

/* ------------------------------------------------------------------ cases */

int store_case_insert(struct lb_tx *tx, const struct lb_case *c);
int store_case_get(struct lb_tx *tx, const char *tenant, const char *id, struct lb_case *out);
/* Rewrites status and assigned_to. */
int store_case_update(struct lb_tx *tx, const struct lb_case *c);
/* Newest first (created_ms, id); assigned_to NULL lists all. */
int store_case_list(struct lb_tx *tx, const char *tenant, const char *assigned_to,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_case *c),
    void *ctx, bool *more);

/* --------------------------------------------------------------- requests */

int store_request_insert(struct lb_tx *tx, const struct lb_request *r);
/* Loads the request and its decisions. */
int store_request_get(struct lb_tx *tx, const char *id, struct lb_request *out);
/*
 * Writes status, access window and the decisions beyond those already
 * stored, and sets version = expected_version + 1, only if the stored
 * version is still `expected_version` (else LB_ERR_CONFLICT, nothing
 * written).  r->version is ignored.
 */
int store_request_update(struct lb_tx *tx, const struct lb_request *r, int64_t expected_version);

struct lb_request_filter {
	const char *tenant;             /* NULL: any */
	const char *requester;          /* NULL: any */
	int status;                     /* -1: any; else enum lb_status */
	int64_t now_ms;                 /* status is matched as of this time */
	bool due_only;                  /* only rows whose stored status is stale */
};
/*
 * Newest first (created_ms DESC, id DESC).  The status filter matches the
 * status at now_ms (lb_request_status_at): "pending" excludes pending rows
 * past their expiry, "expired" includes them, likewise approved/completed.
 * With due_only, returns the rows the sweeper must transition, oldest
 * first, ignoring status and paging keys.
 */
int store_request_list(struct lb_tx *tx, const struct lb_request_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_request *r),
    void *ctx, bool *more);
/* Counts by status as of now_ms, for /metrics. */
int store_request_count(struct lb_tx *tx, int64_t now_ms, uint64_t counts[LB_ST_COUNT]);

/* ------------------------------------------------------------------ audit */

/* One audit record as stored (SPEC 5). */
struct lb_audit_rec {
	char id[LB_REQID_MAX + 1];
	char chain[LB_ID_MAX + 1];      /* tenant id, or "" for the provider chain */
	int64_t seq;                    /* 1, 2, ... per chain */
	int64_t time_ms;
	char workload[LB_WORKLOAD_MAX + 1];
	char record_type[48];
	char operation[48];
	char actor_id[LB_ID_MAX + 1];
	char actor_realm[LB_ID_MAX + 1];
	char actor_type[16];            /* user, service, system */
	char object_id[LB_REQID_MAX + LB_ID_MAX + 2];
	char result[16];                /* success, failure, allowed, denied */
	char client_ip[64];
	char *details;                  /* canonical JSON object text; owned by the caller */
	char prev_hash[65];             /* hex SHA-256; 64 zeros for the first */
	char hash[65];
};

/* Head of a chain: seq 0 and 64 '0' when empty. */
int store_audit_head(struct lb_tx *tx, const char *chain, int64_t *seq, char prev_hash[65]);
/* (chain, seq) is unique. */
int store_audit_insert(struct lb_tx *tx, const struct lb_audit_rec *rec);
/*
 * Records of a chain in seq order from `from_seq` (inclusive), at most
 * `limit` (0: no limit).  rec->details points into storage valid only
 * during the callback.
 */
int store_audit_scan(struct lb_tx *tx, const char *chain, int64_t from_seq, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx);

/* Search: records of one chain matching every given filter, newest first. */
struct lb_audit_filter {
	const char *chain;              /* required: tenant id or "" */
	int64_t start_ms;               /* time_ms >= start_ms; 0: no bound */
	int64_t end_ms;                 /* time_ms < end_ms; 0: no bound */
	const char *record_type;        /* NULL: any (each an exact match) */
	const char *operation;
	const char *actor;              /* actor_id */
	const char *object;             /* object_id */
	const char *result;
	int64_t before_seq;             /* keyset paging: seq < before_seq; 0: newest */
};

/*
 * Newest first (seq DESC), at most `limit` records, *more when another
 * page exists.  No cap on the total: page with before_seq = the last seq
 * seen.  rec->details is valid only during the callback.
 */
int store_audit_search(struct lb_tx *tx, const struct lb_audit_filter *f, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx, bool *more);
/* How many records match (before_seq ignored). */
int store_audit_count(struct lb_tx *tx, const struct lb_audit_filter *f, uint64_t *out);
/* Each chain that has records ("" for the provider's), in order. */
int store_audit_chains(struct lb_tx *tx, int (*each)(void *ctx, const char *chain), void *ctx);
/* The lowest seq still stored in a chain (0 when empty). */
int store_audit_first_seq(struct lb_tx *tx, const char *chain, int64_t *seq);
/* The highest seq whose time_ms < before_ms (0 when none). */
int store_audit_last_before(struct lb_tx *tx, const char *chain, int64_t before_ms,
    int64_t *seq);
/* Deletes a chain's records with seq <= through_seq; *deleted counts them. */
int store_audit_purge(struct lb_tx *tx, const char *chain, int64_t through_seq,
    int64_t *deleted);

/*
 * A signed checkpoint of a chain: the daemon's Ed25519 signature over the
 * chain, a sequence number and the hash of the record at that seq (the
 * head then).  An anchor checkpoint is made before a retention purge, at
 * the last purged record, so what remains still verifies from it.
 */
struct lb_checkpoint {
	char chain[LB_ID_MAX + 1];
	int64_t seq;
	char head_hash[65];
	int64_t time_ms;
	char kid[33];
	char sig[96];                   /* base64url, no padding (86 chars) */
	bool anchor;
};

/* (chain, seq) is unique: ALREADY_EXISTS for a second checkpoint there. */
int store_checkpoint_insert(struct lb_tx *tx, const struct lb_checkpoint *cp);
/* A chain's checkpoints with seq >= from_seq, ascending. */
int store_checkpoint_list(struct lb_tx *tx, const char *chain, int64_t from_seq,
    int (*each)(void *ctx, const struct lb_checkpoint *cp), void *ctx);
/* The chain's newest checkpoint; NOT_FOUND when none. */
int store_checkpoint_latest(struct lb_tx *tx, const char *chain, struct lb_checkpoint *out);

/* --------------------------------------------------------- access receipts */

/* What was done under one request, per resource path (SPEC: access receipt). */
struct lb_receipt {
	char request_id[LB_REQID_MAX + 1];
	char resource[LB_RESOURCE_MAX + 1];
	int64_t allowed;
	int64_t refused;
	int64_t first_ms;
	int64_t last_ms;
};

/* Counts one access decision (allowed or refused) at at_ms. */
int store_receipt_add(struct lb_tx *tx, const char *request_id, const char *resource,
    bool allowed, int64_t at_ms);
/* The request's receipts ordered by resource; at most `limit` (0: 1000). */
int store_receipt_list(struct lb_tx *tx, const char *request_id, size_t limit,
    int (*each)(void *ctx, const struct lb_receipt *r), void *ctx);

/* ----------------------------------------------------------------- outbox */

struct lb_outbox_row {
	char id[LB_REQID_MAX + 1];      /* stable: receivers deduplicate on it */
	char tenant[LB_ID_MAX + 1];     /* "" for provider-wide */
	char channel[16];               /* "email" or "webhook" */
	char recipient[LB_RESOURCE_MAX + 1]; /* address or URL */
	char topic[48];                 /* e.g. "request.created" */
	char *payload;                  /* JSON object text; owned by the caller */
	char status[16];                /* pending, delivered, dead */
	int attempts;
	int64_t created_ms;
	int64_t next_attempt_ms;
	int64_t delivered_ms;           /* 0 until delivered */
	char last_error[256];
};

int store_outbox_insert(struct lb_tx *tx, const struct lb_outbox_row *row);
/* Rows with status pending and next_attempt_ms <= now, oldest first. */
int store_outbox_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
/* Rewrites status, attempts, next_attempt_ms, delivered_ms, last_error. */
int store_outbox_update(struct lb_tx *tx, const struct lb_outbox_row *row);
/* Newest first; tenant NULL lists all. */
int store_outbox_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx, bool *more);

/* ------------------------------------------- notification delivery (notify) */

/*
 * What the notifier keeps beside an outbox row (migration 4): the webhook
 * endpoint a webhook row is for ("" for email, "config" for --webhook-url),
 * and for an emergency notice the time it must have been delivered by
 * (started + 48 h; 0 for other rows) and when it was found overdue.
 */
struct lb_outbox_extra {
	char endpoint[LB_REQID_MAX + 1];
	int64_t deadline_ms;
	int64_t overdue_ms;             /* 0 until recorded overdue */
};

/* Inserts the row and its extra columns (x NULL: none). */
int store_outbox_put(struct lb_tx *tx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x);
/* One row by id; on success out->payload is malloc'd and the caller's. */
int store_outbox_get(struct lb_tx *tx, const char *id, struct lb_outbox_row *out,
    struct lb_outbox_extra *x);
/*
 * Pending rows of one channel ("email" or "webhook"; NULL: any) whose next
 * attempt is due at now_ms, oldest first, at most `limit`.
 */
int store_outbox_due_channel(struct lb_tx *tx, const char *channel, int64_t now_ms,
    size_t limit, int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
/*
 * Newest first; tenant NULL lists all, "" the provider-wide rows; status
 * NULL any.  The payload is not loaded (row->payload is NULL).
 */
int store_outbox_find(struct lb_tx *tx, const char *tenant, const char *status,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x), void *ctx, bool *more);
/* Counts for /metrics: pending rows, dead rows, notices recorded overdue. */
int store_outbox_counts(struct lb_tx *tx, uint64_t *pending, uint64_t *dead,
    uint64_t *overdue);
/*
 * Ids of notices (deadline_ms > 0) not yet recorded overdue whose deadline
 * is <= now_ms and that were not delivered before it; at most `limit`.
 */
int store_outbox_overdue_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const char *id), void *ctx);
/* Records the row as overdue at now_ms; NOT_FOUND if already or absent. */
int store_outbox_mark_overdue(struct lb_tx *tx, const char *id, int64_t now_ms);

/*
 * Reminders: one per request, ever.  Ids of requests stored `pending` whose
 * pending expiry lies in (now_ms, now_ms + lead_ms] and that have no
 * reminder yet, soonest first.  store_reminder_put records the reminder;
 * ALREADY_EXISTS when it was already sent (so it commits at most once).
 */
int store_reminder_due(struct lb_tx *tx, int64_t now_ms, int64_t lead_ms, size_t limit,
    int (*each)(void *ctx, const char *request_id), void *ctx);
int store_reminder_put(struct lb_tx *tx, const char *request_id, int64_t now_ms);

/*
 * Webhook endpoints, per tenant ("" for the provider's).  `secret` is the
 * sealed form the notifier made (never the plain secret: see
 * docs/internals/notify.md); it never leaves the store except to sign.
 */
struct lb_webhook {
	char id[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char url[LB_RESOURCE_MAX + 1];
	char secret[256];
	char created_by[LB_ID_MAX + 1];
	int64_t created_ms;
};

int store_webhook_insert(struct lb_tx *tx, const struct lb_webhook *w);
int store_webhook_get(struct lb_tx *tx, const char *tenant, const char *id,
    struct lb_webhook *out);
int store_webhook_delete(struct lb_tx *tx, const char *tenant, const char *id);
/* Newest first. */
int store_webhook_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_webhook *w), void *ctx, bool *more);
/* How many endpoints the tenant has. */
int store_webhook_count(struct lb_tx *tx, const char *tenant, uint64_t *out);

/* ------------------------------------------- break-glass (migration 5) */

/*
 * Incidents and emergency accesses (src/core/emergency.c).  Updates are
 * guarded by the row's version like requests: LB_ERR_CONFLICT when the
 * stored version is no longer `expected_version`, nothing written.
 */
int store_incident_insert(struct lb_tx *tx, const struct lb_incident *inc);
int store_incident_get(struct lb_tx *tx, const char *id, struct lb_incident *out);
/* Writes ended_ms and closed_by; version = expected_version + 1. */
int store_incident_update(struct lb_tx *tx, const struct lb_incident *inc,
    int64_t expected_version);
/* Newest first (started_ms, id); open_only skips closed incidents. */
int store_incident_list(struct lb_tx *tx, bool open_only, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_incident *inc), void *ctx, bool *more);

int store_emergency_insert(struct lb_tx *tx, const struct lb_emergency *e);
int store_emergency_get(struct lb_tx *tx, const char *id, struct lb_emergency *out);
/* Rewrites every mutable column; version = expected_version + 1. */
int store_emergency_update(struct lb_tx *tx, const struct lb_emergency *e,
    int64_t expected_version);

struct lb_emergency_filter {
	const char *tenant;             /* NULL: any */
	const char *incident;           /* NULL: any */
	const char *requester;          /* NULL: any */
	int status;                     /* -1: any; else enum lb_emergency_status as of now_ms */
	int64_t now_ms;
	/*
	 * Sweeper modes (ignore status and paging keys, oldest first):
	 * due_only: rows stored active whose expires_ms <= now_ms;
	 * notice_due: rows that started, not yet recorded overdue, whose
	 * start + 48 h <= now_ms.
	 */
	bool due_only;
	bool notice_due;
};
/* Newest first (created_ms DESC, id DESC) unless a sweeper mode is set. */
int store_emergency_list(struct lb_tx *tx, const struct lb_emergency_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_emergency *e),
    void *ctx, bool *more);
/* How many of the tenant's emergency accesses have created_ms > since_ms. */
int store_emergency_count_since(struct lb_tx *tx, const char *tenant, int64_t since_ms,
    uint64_t *out);
/*
 * Links to the access the tenant's notice rows just written in this
 * transaction (notify_enqueue_emergency): the outbox rows of `tenant` with
 * topic "emergency.started" and deadline `deadline_ms` not yet linked to
 * any access.  *linked counts them.
 */
int store_emergency_notice_link(struct lb_tx *tx, const char *emergency_id,
    const char *tenant, int64_t deadline_ms, uint64_t *linked);
/*
 * The notice's state: *rows = how many outbox rows carry it, *delivered_ms
 * = the earliest delivered_ms among them (0 when none was delivered).
 */
int store_emergency_notice_state(struct lb_tx *tx, const char *emergency_id,
    uint64_t *rows, int64_t *delivered_ms);

/* ------------------------------------- console sign-in (migration 6) */

/* The longest password hash string (libsodium crypto_pwhash_STRBYTES). */
#define LB_PWHASH_MAX           128
/* A CSRF token's text: base64url of 32 random bytes, no padding. */
#define LB_CSRF_TEXT_MAX        43

/*
 * A console session (src/http/session.c).  Only the SHA-256 of the session
 * id is stored; the CSRF token is stored as issued (it is no secret from
 * the browser that holds it).  A session is live while ended_ms is 0 and
 * now is before both idle_expires_ms and expires_ms.
 */
struct lb_session {
	uint8_t id_hash[32];
	char realm[LB_ID_MAX + 1];
	char user_id[LB_ID_MAX + 1];
	char csrf[LB_CSRF_TEXT_MAX + 1];
	int64_t created_ms;
	int64_t idle_expires_ms;
	int64_t expires_ms;
	int64_t ended_ms;               /* 0 until sign-out */
};

int store_session_insert(struct lb_tx *tx, const struct lb_session *s);
/*
 * The session whose stored hash equals `hash` (the caller compares
 * out->id_hash again in constant time) and its user.  Ended and expired
 * sessions are returned too; the caller refuses them.
 */
int store_session_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_session *out,
    struct lb_user *user);
/* Sets idle_expires_ms of a session not ended; NOT_FOUND when none. */
int store_session_touch(struct lb_tx *tx, const uint8_t hash[32], int64_t idle_expires_ms);
/* Ends a session at now_ms; NOT_FOUND when absent or already ended. */
int store_session_end(struct lb_tx *tx, const uint8_t hash[32], int64_t now_ms);
/*
 * Ends every session of (realm, user_id) not ended yet, except the one
 * whose hash is `keep` (NULL: none); *ended (may be NULL) counts them.
 */
int store_session_end_user(struct lb_tx *tx, const char *realm, const char *user_id,
    const uint8_t *keep, int64_t now_ms, int64_t *ended);
/* Deletes sessions ended, idle or expired at now_ms; *deleted may be NULL. */
int store_session_prune(struct lb_tx *tx, int64_t now_ms, int64_t *deleted);

/*
 * A person's password, as the string crypto_pwhash_str made (never the
 * password).  put inserts or replaces; get is NOT_FOUND when none is set.
 */
int store_password_put(struct lb_tx *tx, const char *realm, const char *user_id,
    const char *hash, int64_t now_ms);
int store_password_get(struct lb_tx *tx, const char *realm, const char *user_id,
    char *hash, size_t len);

#endif
