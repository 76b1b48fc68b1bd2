/*
 * The SQLite backend's private structures and helpers, shared by its files:
 * sqlite.c (connections, transactions, statements, migrations),
 * sqlite_objects.c (metadata, tenants, settings, users, tokens, cases),
 * sqlite_requests.c (requests and decisions), sqlite_log.c (audit and
 * outbox) and sqlite_audit.c (audit search, retention, checkpoints).
 * Nothing outside src/store/sqlite*.c includes it.
 *
 * Every statement goes through struct sq_q: prepared once per connection
 * and cached (SQLITE_PREPARE_PERSISTENT), values bound by name, never
 * spliced into the SQL.  Every helper returns 0 or a negative enum lb_err;
 * an error that leaves the transaction in doubt (I/O, busy, no memory)
 * marks it failed, after which every call on it and its commit return
 * LB_ERR_UNAVAILABLE, so a caller that ignores one error cannot commit
 * half a change.
 */
#ifndef LOCKBOX_SQLITE_IMPL_H
#define LOCKBOX_SQLITE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store_impl.h"

#define SQ_READERS      LB_SQLITE_READERS
#define SQ_BUSY_MS      5000    /* sqlite busy_timeout and pool wait */
#define SQ_CACHE_MAX    48      /* cached statements per connection */
#define SQ_KEY_MAX      (LB_ID_MAX + 1)

struct sq_store;
struct sq_conn;

struct sq_tx {
	struct lb_tx base;              /* first: callers hold &base */
	struct sq_conn *conn;
	bool failed;                    /* an error left the tx in doubt */
};

struct sq_cached {
	char *sql;                      /* owned copy: the cache key */
	sqlite3_stmt *stmt;
	bool busy;                      /* handed out by sq_prepare */
};

/* One connection; holds at most one transaction at a time. */
struct sq_conn {
	sqlite3 *db;
	struct sq_store *st;
	bool in_use;                    /* readers: taken from the pool */
	struct sq_cached cache[SQ_CACHE_MAX];
	size_t ncache;
	struct sq_tx tx;
};

struct sq_store {
	struct lb_store base;           /* first: callers hold &base */
	pthread_mutex_t mu;             /* guards the flags below */
	pthread_cond_t writer_cv;       /* signalled when the writer frees */
	pthread_cond_t reader_cv;       /* signalled when a reader frees */
	bool writer_busy;
	pthread_t writer_owner;
	int busy_ms;
	atomic_int fault_in;            /* lb_sqlite_inject_fault countdown */
	struct sq_conn writer;
	struct sq_conn readers[SQ_READERS];
	/* The checkpointer: moves the WAL into the database off the commit path. */
	sqlite3 *ckpt_db;
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_stop;
	pthread_cond_t ckpt_cv;
};

/* A statement in use. */
struct sq_q {
	struct sq_tx *tx;
	sqlite3_stmt *stmt;
	int slot;                       /* cache slot, or -1 when not cached */
};

/* Keys collected by a list query before the callbacks run. */
struct sq_keys {
	char (*v)[SQ_KEY_MAX];
	size_t n, cap;
};

#define SQ_TRY(expr) do { if ((err = (expr)) != 0) goto out; } while (0)

struct sq_tx *sq_tx(struct lb_tx *tx);
/* Maps a SQLite result code to an enum lb_err (0 for OK/ROW/DONE). */
int sq_map(int rc);

int sq_prepare(struct sq_tx *tx, const char *sql, struct sq_q *q);
/* Resets the statement and returns it to the cache; NULL stmt is fine. */
void sq_finish(struct sq_q *q);
/* 1: a row; 0: done; < 0: error (the tx is marked failed when in doubt). */
int sq_step(struct sq_q *q);
/* Steps a statement that returns no row. */
int sq_exec(struct sq_q *q);
/* Prepares, runs and finishes a statement without parameters. */
int sq_exec_sql(struct sq_tx *tx, const char *sql);
int sq_changes(const struct sq_q *q);

/*
 * Binds by parameter name (":id").  bind_text: `s` must be NUL-terminated
 * within `cap` bytes (LB_ERR_FIELD_TOO_LONG otherwise); cap 0 means up to
 * LB_STORE_TEXT_MAX.
 */
int sq_bind_text(struct sq_q *q, const char *name, const char *s, size_t cap);
int sq_bind_i64(struct sq_q *q, const char *name, int64_t v);

/* Copies a TEXT column; LB_ERR_UNAVAILABLE when it does not fit `cap`. */
int sq_col_text(struct sq_q *q, int col, char *dst, size_t cap);
/* A malloc'd copy of a TEXT column of at most LB_STORE_TEXT_MAX bytes. */
int sq_col_dup(struct sq_q *q, int col, char **out);
/* The column as text, valid until the next step; NULL only on no memory. */
const char *sq_col_str(struct sq_q *q, int col);
int64_t sq_col_i64(struct sq_q *q, int col);
/* An INTEGER column that must fit an int; LB_ERR_UNAVAILABLE otherwise. */
int sq_col_int(struct sq_q *q, int col, int *out);

/*
 * Steps `q` (which selects one key in column 0) and keeps up to `limit`
 * keys; *more tells whether a further row existed.  Finishes `q`.  Lists
 * collect keys first and load each item afterwards, so a callback may use
 * the same transaction freely (even write through it) without disturbing
 * a statement still being stepped.
 */
int sq_keys_collect(struct sq_q *q, size_t limit, struct sq_keys *k, bool *more);
void sq_keys_free(struct sq_keys *k);

/*
 * SQL assembled from constant fragments only (never from values), for the
 * lists whose filters are optional.  An overflow makes sq_sql_text NULL.
 */
struct sq_sql {
	char buf[1024];
	size_t len;
	bool overflow;
};
void sq_sql_add(struct sq_sql *s, const char *frag);
const char *sq_sql_text(const struct sq_sql *s);

/* Keyset paging, newest first, on (created_ms, id). */
#define SQ_AFTER_DESC \
	" AND (created_ms < :after_ms OR (created_ms = :after_ms AND id < :after_id))"
#define SQ_ORDER_DESC " ORDER BY created_ms DESC, id DESC LIMIT :lim"
/* Binds :after_ms/:after_id (when the page has a key) and :lim = limit + 1. */
int sq_bind_page(struct sq_q *q, const struct lb_page *pg, bool keyed);

/* The operations, by file. */
int sq_meta_get(struct lb_tx *tx, const char *key, char *value, size_t len);
int sq_meta_put(struct lb_tx *tx, const char *key, const char *value);

int sq_tenant_insert(struct lb_tx *tx, const struct lb_tenant *t);
int sq_tenant_get(struct lb_tx *tx, const char *id, struct lb_tenant *out);
int sq_tenant_list(struct lb_tx *tx, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_tenant *t), void *ctx, bool *more);
int sq_settings_get(struct lb_tx *tx, const char *tenant, struct lb_settings *out);
int sq_settings_put(struct lb_tx *tx, const char *tenant, const struct lb_settings *s);
int sq_provider_settings_get(struct lb_tx *tx, struct lb_provider_settings *out);
int sq_provider_settings_put(struct lb_tx *tx, const struct lb_provider_settings *ps);
int sq_user_insert(struct lb_tx *tx, const struct lb_user *u);
int sq_user_get(struct lb_tx *tx, const char *realm, const char *id, struct lb_user *out);
int sq_user_list(struct lb_tx *tx, const char *realm, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_user *u), void *ctx, bool *more);
int sq_token_insert(struct lb_tx *tx, const struct lb_token *t, const uint8_t hash[32]);
int sq_token_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_token *tok,
    uint8_t stored_hash[32], struct lb_user *user);
int sq_token_get(struct lb_tx *tx, const char *id, struct lb_token *out);
int sq_token_revoke(struct lb_tx *tx, const char *id, int64_t now_ms);
int sq_token_list(struct lb_tx *tx, const char *realm, const char *user_id,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_token *t),
    void *ctx, bool *more);
int sq_case_insert(struct lb_tx *tx, const struct lb_case *c);
int sq_case_get(struct lb_tx *tx, const char *tenant, const char *id, struct lb_case *out);
int sq_case_update(struct lb_tx *tx, const struct lb_case *c);
int sq_case_list(struct lb_tx *tx, const char *tenant, const char *assigned_to,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_case *c),
    void *ctx, bool *more);

int sq_request_insert(struct lb_tx *tx, const struct lb_request *r);
int sq_request_get(struct lb_tx *tx, const char *id, struct lb_request *out);
int sq_request_update(struct lb_tx *tx, const struct lb_request *r, int64_t expected_version);
int sq_request_list(struct lb_tx *tx, const struct lb_request_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_request *r),
    void *ctx, bool *more);
int sq_request_count(struct lb_tx *tx, int64_t now_ms, uint64_t counts[LB_ST_COUNT]);

/* The audit table's columns in the order sq_row_audit reads them. */
#define SQ_AUDIT_COLS "chain, seq, id, time_ms, workload, record_type, operation," \
	" actor_id, actor_realm, actor_type, object_id, result, client_ip, details," \
	" prev_hash, hash"
/* Reads a row of SQ_AUDIT_COLS; on success r->details is malloc'd. */
int sq_row_audit(struct sq_q *q, struct lb_audit_rec *r);
int sq_audit_head(struct lb_tx *tx, const char *chain, int64_t *seq, char prev_hash[65]);
int sq_audit_insert(struct lb_tx *tx, const struct lb_audit_rec *rec);
int sq_audit_scan(struct lb_tx *tx, const char *chain, int64_t from_seq, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx);
/* sqlite_audit.c: audit search, retention and checkpoints. */
int sq_audit_search(struct lb_tx *tx, const struct lb_audit_filter *f, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx, bool *more);
int sq_audit_count(struct lb_tx *tx, const struct lb_audit_filter *f, uint64_t *out);
int sq_audit_chains(struct lb_tx *tx, int (*each)(void *ctx, const char *chain), void *ctx);
int sq_audit_first_seq(struct lb_tx *tx, const char *chain, int64_t *seq);
int sq_audit_last_before(struct lb_tx *tx, const char *chain, int64_t before_ms,
    int64_t *seq);
int sq_audit_purge(struct lb_tx *tx, const char *chain, int64_t through_seq,
    int64_t *deleted);
int sq_checkpoint_insert(struct lb_tx *tx, const struct lb_checkpoint *cp);
int sq_checkpoint_list(struct lb_tx *tx, const char *chain, int64_t from_seq,
    int (*each)(void *ctx, const struct lb_checkpoint *cp), void *ctx);
int sq_checkpoint_latest(struct lb_tx *tx, const char *chain, struct lb_checkpoint *out);
int sq_outbox_insert(struct lb_tx *tx, const struct lb_outbox_row *row);
int sq_outbox_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
int sq_outbox_update(struct lb_tx *tx, const struct lb_outbox_row *row);
int sq_receipt_add(struct lb_tx *tx, const char *request_id, const char *resource,
    bool allowed, int64_t at_ms);
int sq_receipt_list(struct lb_tx *tx, const char *request_id, size_t limit,
    int (*each)(void *ctx, const struct lb_receipt *r), void *ctx);
int sq_outbox_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx, bool *more);

/* sqlite_notify.c: notification delivery, reminders and webhook endpoints. */
int sq_outbox_put(struct lb_tx *tx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x);
int sq_outbox_get(struct lb_tx *tx, const char *id, struct lb_outbox_row *out,
    struct lb_outbox_extra *x);
int sq_outbox_due_channel(struct lb_tx *tx, const char *channel, int64_t now_ms,
    size_t limit, int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
int sq_outbox_find(struct lb_tx *tx, const char *tenant, const char *status,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x), void *ctx, bool *more);
int sq_outbox_counts(struct lb_tx *tx, uint64_t *pending, uint64_t *dead, uint64_t *overdue);
int sq_outbox_overdue_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const char *id), void *ctx);
int sq_outbox_mark_overdue(struct lb_tx *tx, const char *id, int64_t now_ms);
int sq_reminder_due(struct lb_tx *tx, int64_t now_ms, int64_t lead_ms, size_t limit,
    int (*each)(void *ctx, const char *request_id), void *ctx);
int sq_reminder_put(struct lb_tx *tx, const char *request_id, int64_t now_ms);
int sq_webhook_insert(struct lb_tx *tx, const struct lb_webhook *w);
int sq_webhook_get(struct lb_tx *tx, const char *tenant, const char *id,
    struct lb_webhook *out);
int sq_webhook_delete(struct lb_tx *tx, const char *tenant, const char *id);
int sq_webhook_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_webhook *w), void *ctx, bool *more);
int sq_webhook_count(struct lb_tx *tx, const char *tenant, uint64_t *out);

/* sqlite_emergency.c: break-glass (migration 5). */
int sq_incident_insert(struct lb_tx *tx, const struct lb_incident *inc);
int sq_incident_get(struct lb_tx *tx, const char *id, struct lb_incident *out);
int sq_incident_update(struct lb_tx *tx, const struct lb_incident *inc,
    int64_t expected_version);
int sq_incident_list(struct lb_tx *tx, bool open_only, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_incident *inc), void *ctx, bool *more);
int sq_emergency_insert(struct lb_tx *tx, const struct lb_emergency *e);
int sq_emergency_get(struct lb_tx *tx, const char *id, struct lb_emergency *out);
int sq_emergency_update(struct lb_tx *tx, const struct lb_emergency *e,
    int64_t expected_version);
int sq_emergency_list(struct lb_tx *tx, const struct lb_emergency_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_emergency *e),
    void *ctx, bool *more);
int sq_emergency_count_since(struct lb_tx *tx, const char *tenant, int64_t since_ms,
    uint64_t *out);
int sq_emergency_notice_link(struct lb_tx *tx, const char *emergency_id,
    const char *tenant, int64_t deadline_ms, uint64_t *linked);
int sq_emergency_notice_state(struct lb_tx *tx, const char *emergency_id,
    uint64_t *rows, int64_t *delivered_ms);
/* The provider settings' break-glass columns, read and written beside the
 * row of sq_provider_settings_get/put. */
int sq_emergency_settings_get(struct lb_tx *tx, struct lb_provider_settings *out);
int sq_emergency_settings_put(struct lb_tx *tx, const struct lb_provider_settings *ps);

/* sqlite_session.c: console sign-in, passwords and sessions (migration 6). */
int sq_session_insert(struct lb_tx *tx, const struct lb_session *s);
int sq_session_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_session *out,
    struct lb_user *user);
int sq_session_touch(struct lb_tx *tx, const uint8_t hash[32], int64_t idle_expires_ms);
int sq_session_end(struct lb_tx *tx, const uint8_t hash[32], int64_t now_ms);
int sq_session_end_user(struct lb_tx *tx, const char *realm, const char *user_id,
    const uint8_t *keep, int64_t now_ms, int64_t *ended);
int sq_session_prune(struct lb_tx *tx, int64_t now_ms, int64_t *deleted);
int sq_password_put(struct lb_tx *tx, const char *realm, const char *user_id,
    const char *hash, int64_t now_ms);
int sq_password_get(struct lb_tx *tx, const char *realm, const char *user_id,
    char *hash, size_t len);

#endif
