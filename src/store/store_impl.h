/*
 * What a storage backend implements, and the helpers every backend shares.
 *
 * store.c owns the public store_* functions: it checks their arguments once
 * (NULL pointers, writes inside a read transaction, page limits) and then
 * calls through the backend's table of function pointers, the way smtpd
 * picks its queue backend.  A backend embeds `struct lb_store` and
 * `struct lb_tx` as the first member of its own structs, so the pointers
 * handed to callers are the backend's objects seen through the common
 * header.  SQLite (sqlite*.c) is the only backend today; a PostgreSQL
 * backend (pg.c) fills in the same table and reuses the portable
 * migrations (schema.c) and encodings (codec.c) declared here.
 *
 * Nothing in this header is for callers outside src/store/ except the few
 * test hooks at the end, which say so.
 */
#ifndef LOCKBOX_STORE_IMPL_H
#define LOCKBOX_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The longest audit `details` or outbox `payload` the store accepts. */
#define LB_STORE_TEXT_MAX       (1024 * 1024)
/* The longest metadata value (store.h: "value: up to 1024 bytes"). */
#define LB_STORE_META_MAX       1024
/* The largest page a list call may ask for. */
#define LB_STORE_LIMIT_MAX      100000

struct lb_store_ops;

/* The common head of every backend's store object. */
struct lb_store {
	const struct lb_store_ops *ops;
};

/* The common head of every backend's transaction object. */
struct lb_tx {
	const struct lb_store_ops *ops;
	bool write;
};

/*
 * One function per public call, same contract as store.h.  store.c has
 * already checked that pointers the contract requires are non-NULL, that
 * mutating calls run in a write transaction, and normalised `pg` (never
 * NULL here; limit 1..LB_STORE_LIMIT_MAX).  `more` is never NULL here.
 */
struct lb_store_ops {
	const char *name;
	/* `target` is the URL with the scheme removed (a path for SQLite). */
	int (*open)(const char *target, struct lb_store **out);
	void (*close)(struct lb_store *st);
	int (*ping)(struct lb_store *st);
	int (*schema_version)(struct lb_store *st);
	int (*begin)(struct lb_store *st, bool write, struct lb_tx **out);
	int (*commit)(struct lb_tx *tx);
	void (*rollback)(struct lb_tx *tx);

	int (*meta_get)(struct lb_tx *tx, const char *key, char *value, size_t len);
	int (*meta_put)(struct lb_tx *tx, const char *key, const char *value);

	int (*tenant_insert)(struct lb_tx *tx, const struct lb_tenant *t);
	int (*tenant_get)(struct lb_tx *tx, const char *id, struct lb_tenant *out);
	int (*tenant_list)(struct lb_tx *tx, const struct lb_page *pg,
	    int (*each)(void *ctx, const struct lb_tenant *t), void *ctx, bool *more);
	int (*settings_get)(struct lb_tx *tx, const char *tenant, struct lb_settings *out);
	int (*settings_put)(struct lb_tx *tx, const char *tenant, const struct lb_settings *s);
	int (*provider_settings_get)(struct lb_tx *tx, struct lb_provider_settings *out);
	int (*provider_settings_put)(struct lb_tx *tx, const struct lb_provider_settings *ps);

	int (*user_insert)(struct lb_tx *tx, const struct lb_user *u);
	int (*user_get)(struct lb_tx *tx, const char *realm, const char *id, struct lb_user *out);
	int (*user_list)(struct lb_tx *tx, const char *realm, const struct lb_page *pg,
	    int (*each)(void *ctx, const struct lb_user *u), void *ctx, bool *more);
	int (*token_insert)(struct lb_tx *tx, const struct lb_token *t, const uint8_t hash[32]);
	int (*token_find)(struct lb_tx *tx, const uint8_t hash[32], struct lb_token *tok,
	    uint8_t stored_hash[32], struct lb_user *user);
	int (*token_get)(struct lb_tx *tx, const char *id, struct lb_token *out);
	int (*token_revoke)(struct lb_tx *tx, const char *id, int64_t now_ms);
	int (*token_list)(struct lb_tx *tx, const char *realm, const char *user_id,
	    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_token *t),
	    void *ctx, bool *more);

	int (*case_insert)(struct lb_tx *tx, const struct lb_case *c);
	int (*case_get)(struct lb_tx *tx, const char *tenant, const char *id, struct lb_case *out);
	int (*case_update)(struct lb_tx *tx, const struct lb_case *c);
	int (*case_list)(struct lb_tx *tx, const char *tenant, const char *assigned_to,
	    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_case *c),
	    void *ctx, bool *more);

	int (*request_insert)(struct lb_tx *tx, const struct lb_request *r);
	int (*request_get)(struct lb_tx *tx, const char *id, struct lb_request *out);
	int (*request_update)(struct lb_tx *tx, const struct lb_request *r,
	    int64_t expected_version);
	int (*request_list)(struct lb_tx *tx, const struct lb_request_filter *f,
	    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_request *r),
	    void *ctx, bool *more);
	int (*request_count)(struct lb_tx *tx, int64_t now_ms, uint64_t counts[LB_ST_COUNT]);

	int (*audit_head)(struct lb_tx *tx, const char *chain, int64_t *seq, char prev_hash[65]);
	int (*audit_insert)(struct lb_tx *tx, const struct lb_audit_rec *rec);
	int (*audit_scan)(struct lb_tx *tx, const char *chain, int64_t from_seq, size_t limit,
	    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx);
	int (*audit_search)(struct lb_tx *tx, const struct lb_audit_filter *f, size_t limit,
	    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx, bool *more);
	int (*audit_count)(struct lb_tx *tx, const struct lb_audit_filter *f, uint64_t *out);
	int (*audit_chains)(struct lb_tx *tx, int (*each)(void *ctx, const char *chain),
	    void *ctx);
	int (*audit_first_seq)(struct lb_tx *tx, const char *chain, int64_t *seq);
	int (*audit_last_before)(struct lb_tx *tx, const char *chain, int64_t before_ms,
	    int64_t *seq);
	int (*audit_purge)(struct lb_tx *tx, const char *chain, int64_t through_seq,
	    int64_t *deleted);
	int (*checkpoint_insert)(struct lb_tx *tx, const struct lb_checkpoint *cp);
	int (*checkpoint_list)(struct lb_tx *tx, const char *chain, int64_t from_seq,
	    int (*each)(void *ctx, const struct lb_checkpoint *cp), void *ctx);
	int (*checkpoint_latest)(struct lb_tx *tx, const char *chain, struct lb_checkpoint *out);

	int (*receipt_add)(struct lb_tx *tx, const char *request_id, const char *resource,
	    bool allowed, int64_t at_ms);
	int (*receipt_list)(struct lb_tx *tx, const char *request_id, size_t limit,
	    int (*each)(void *ctx, const struct lb_receipt *r), void *ctx);

	int (*outbox_insert)(struct lb_tx *tx, const struct lb_outbox_row *row);
	int (*outbox_due)(struct lb_tx *tx, int64_t now_ms, size_t limit,
	    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
	int (*outbox_update)(struct lb_tx *tx, const struct lb_outbox_row *row);
	int (*outbox_list)(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
	    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx, bool *more);

	/* Notification delivery (sqlite_notify.c). */
	int (*outbox_put)(struct lb_tx *tx, const struct lb_outbox_row *row,
	    const struct lb_outbox_extra *x);
	int (*outbox_get)(struct lb_tx *tx, const char *id, struct lb_outbox_row *out,
	    struct lb_outbox_extra *x);
	int (*outbox_due_channel)(struct lb_tx *tx, const char *channel, int64_t now_ms,
	    size_t limit, int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx);
	int (*outbox_find)(struct lb_tx *tx, const char *tenant, const char *status,
	    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_outbox_row *row,
	    const struct lb_outbox_extra *x), void *ctx, bool *more);
	int (*outbox_counts)(struct lb_tx *tx, uint64_t *pending, uint64_t *dead,
	    uint64_t *overdue);
	int (*outbox_overdue_due)(struct lb_tx *tx, int64_t now_ms, size_t limit,
	    int (*each)(void *ctx, const char *id), void *ctx);
	int (*outbox_mark_overdue)(struct lb_tx *tx, const char *id, int64_t now_ms);
	int (*reminder_due)(struct lb_tx *tx, int64_t now_ms, int64_t lead_ms, size_t limit,
	    int (*each)(void *ctx, const char *request_id), void *ctx);
	int (*reminder_put)(struct lb_tx *tx, const char *request_id, int64_t now_ms);
	int (*webhook_insert)(struct lb_tx *tx, const struct lb_webhook *w);
	int (*webhook_get)(struct lb_tx *tx, const char *tenant, const char *id,
	    struct lb_webhook *out);
	int (*webhook_delete)(struct lb_tx *tx, const char *tenant, const char *id);
	int (*webhook_list)(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
	    int (*each)(void *ctx, const struct lb_webhook *w), void *ctx, bool *more);
	int (*webhook_count)(struct lb_tx *tx, const char *tenant, uint64_t *out);

	/* Break-glass (sqlite_emergency.c). */
	int (*incident_insert)(struct lb_tx *tx, const struct lb_incident *inc);
	int (*incident_get)(struct lb_tx *tx, const char *id, struct lb_incident *out);
	int (*incident_update)(struct lb_tx *tx, const struct lb_incident *inc,
	    int64_t expected_version);
	int (*incident_list)(struct lb_tx *tx, bool open_only, const struct lb_page *pg,
	    int (*each)(void *ctx, const struct lb_incident *inc), void *ctx, bool *more);
	int (*emergency_insert)(struct lb_tx *tx, const struct lb_emergency *e);
	int (*emergency_get)(struct lb_tx *tx, const char *id, struct lb_emergency *out);
	int (*emergency_update)(struct lb_tx *tx, const struct lb_emergency *e,
	    int64_t expected_version);
	int (*emergency_list)(struct lb_tx *tx, const struct lb_emergency_filter *f,
	    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_emergency *e),
	    void *ctx, bool *more);
	int (*emergency_count_since)(struct lb_tx *tx, const char *tenant, int64_t since_ms,
	    uint64_t *out);
	int (*emergency_notice_link)(struct lb_tx *tx, const char *emergency_id,
	    const char *tenant, int64_t deadline_ms, uint64_t *linked);
	int (*emergency_notice_state)(struct lb_tx *tx, const char *emergency_id,
	    uint64_t *rows, int64_t *delivered_ms);

	/* Console sign-in (sqlite_session.c). */
	int (*session_insert)(struct lb_tx *tx, const struct lb_session *s);
	int (*session_find)(struct lb_tx *tx, const uint8_t hash[32], struct lb_session *out,
	    struct lb_user *user);
	int (*session_touch)(struct lb_tx *tx, const uint8_t hash[32], int64_t idle_expires_ms);
	int (*session_end)(struct lb_tx *tx, const uint8_t hash[32], int64_t now_ms);
	int (*session_end_user)(struct lb_tx *tx, const char *realm, const char *user_id,
	    const uint8_t *keep, int64_t now_ms, int64_t *ended);
	int (*session_prune)(struct lb_tx *tx, int64_t now_ms, int64_t *deleted);
	int (*password_put)(struct lb_tx *tx, const char *realm, const char *user_id,
	    const char *hash, int64_t now_ms);
	int (*password_get)(struct lb_tx *tx, const char *realm, const char *user_id,
	    char *hash, size_t len);
};

/* The SQLite backend (sqlite.c). */
extern const struct lb_store_ops lb_sqlite_ops;

/* ------------------------------------------------------ schema.c */

/*
 * One versioned migration: its statements run in order inside one
 * transaction, which also records the version in schema_migrations.  The
 * DDL is portable (TEXT, INTEGER, BIGINT; no AUTOINCREMENT, no
 * SQLite-only syntax) so a PostgreSQL backend runs the same array.
 */
struct lb_store_migration {
	int version;
	const char *description;
	const char *const *stmts;       /* NULL-terminated */
};

/* Created before any migration runs, with IF NOT EXISTS. */
extern const char lb_store_migrations_table_sql[];
extern const struct lb_store_migration lb_store_migrations[];
extern const size_t lb_store_nmigrations;
/* The version the newest migration brings the schema to. */
int lb_store_schema_latest(void);

/* ------------------------------------------------------- codec.c */

/*
 * Enums are stored by their wire names, so a database stays readable with
 * the sqlite3 shell and survives a reordering of the C enums.  *_name
 * returns NULL for a value out of range; *_parse returns
 * LB_ERR_UNAVAILABLE for an unknown name (the row is corrupt).
 */
const char *lb_store_status_name(int s);
int lb_store_status_parse(const char *s, enum lb_status *out);
const char *lb_store_decision_name(int k);
int lb_store_decision_parse(const char *s, enum lb_decision_kind *out);
const char *lb_store_actor_type_name(int t);
int lb_store_actor_type_parse(const char *s, enum lb_actor_type *out);
const char *lb_store_case_status_name(int s);
int lb_store_case_status_parse(const char *s, enum lb_case_status *out);
const char *lb_store_cloud_name(int c);
int lb_store_cloud_parse(const char *s, enum lb_cloud *out);

/*
 * Arrays of fixed-size strings (rows of `stride` bytes starting at `base`)
 * as a compact JSON array in one TEXT column.  encode: *out is malloc'd;
 * a row not NUL-terminated within `stride` is LB_ERR_FIELD_TOO_LONG.
 * decode: more than `max` items or an item that does not fit its row is
 * LB_ERR_UNAVAILABLE (corrupt); rows are written only on success.
 */
int lb_store_strings_encode(const char *base, size_t stride, size_t n, char **out);
int lb_store_strings_decode(const char *text, char *base, size_t stride, size_t max,
    size_t *n);
/* Approval stages as [{"required":n,"approvers":[...]}, ...]. */
int lb_store_stages_encode(const struct lb_stage_cfg *stages, size_t n, char **out);
int lb_store_stages_decode(const char *text, struct lb_stage_cfg *stages, size_t max,
    size_t *n);

/* Lowercase hex; `out` holds 2 * n + 1 bytes. */
void lb_store_hex_encode(const uint8_t *in, size_t n, char *out);
/* Exactly 2 * n hex digits; LB_ERR_UNAVAILABLE otherwise. */
int lb_store_hex_decode(const char *hex, uint8_t *out, size_t n);

/* Non-zero when `s` has a NUL within its `cap` bytes (a well-formed field). */
bool lb_store_terminated(const char *s, size_t cap);

/* ------------------------------------------------------- test hooks */

/* The SQLite backend's reader pool size (see docs/internals/store.md). */
#define LB_SQLITE_READERS       4

/*
 * SQLite only, for tests: sets the busy timeout (ms) of every connection
 * and the longest wait for the writer or a free reader.  Call only while
 * no transaction is open.  Does nothing for other backends.
 */
void lb_sqlite_set_busy_timeout(struct lb_store *st, int ms);
/*
 * SQLite only, for fault-injection tests: the nth statement step from now
 * (1 = the next) fails as an I/O error would; 0 disables.
 */
void lb_sqlite_inject_fault(struct lb_store *st, int nth);

#endif
