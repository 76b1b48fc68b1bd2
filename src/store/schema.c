/*
 * The database schema, as an ordered list of versioned migrations.
 *
 * A database records in schema_migrations every version applied to it;
 * store_open() applies the missing ones, each in its own transaction, and
 * refuses a database whose version is newer than this binary knows.  A
 * migration, once released, is never edited: a change is a new migration
 * appended at the end.
 *
 * The DDL is kept to what SQLite and PostgreSQL both accept, so a
 * PostgreSQL backend runs this same array: TEXT, INTEGER (32-bit values)
 * and BIGINT (64-bit values: milliseconds, versions, sequence numbers);
 * byte strings are stored as lowercase hex TEXT rather than BLOB/BYTEA;
 * enums are stored by their wire names; arrays are compact JSON text.
 * docs/internals/store.md explains each table and each index.
 */
#include <stddef.h>

#include "store/store_impl.h"

const char lb_store_migrations_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY,"
	" description TEXT NOT NULL,"
	" applied_ms BIGINT NOT NULL)";

static const char *const v1[] = {
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL)",

	"CREATE TABLE tenants ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" plan TEXT NOT NULL,"
	" addons TEXT NOT NULL,"                /* JSON array of plan names */
	" cloud TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL)",

	"CREATE TABLE settings ("
	" tenant TEXT PRIMARY KEY REFERENCES tenants (id),"
	" enabled INTEGER NOT NULL,"
	" approvers TEXT NOT NULL,"             /* JSON array of user ids */
	" notification_emails TEXT NOT NULL,"   /* JSON array */
	" stages TEXT NOT NULL,"                /* JSON array of stage objects */
	" retention_days INTEGER NOT NULL)",

	"CREATE TABLE provider_settings ("
	" id TEXT PRIMARY KEY,"
	" require_internal_approval INTEGER NOT NULL)",

	"INSERT INTO provider_settings (id, require_internal_approval)"
	" VALUES ('provider', 0)",

	"CREATE TABLE users ("
	" realm TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" roles BIGINT NOT NULL,"               /* enum lb_role bitmask */
	" type TEXT NOT NULL,"
	" email TEXT NOT NULL,"
	" display_name TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL,"
	" PRIMARY KEY (realm, id))",

	"CREATE TABLE tokens ("
	" id TEXT PRIMARY KEY,"
	" realm TEXT NOT NULL,"
	" user_id TEXT NOT NULL,"
	" label TEXT NOT NULL,"
	" hash TEXT NOT NULL UNIQUE,"           /* hex SHA-256 of the token */
	" created_ms BIGINT NOT NULL,"
	" revoked_ms BIGINT NOT NULL,"
	" FOREIGN KEY (realm, user_id) REFERENCES users (realm, id))",
	/* A user's tokens, and a realm's, in id order (store_token_list). */
	"CREATE INDEX tokens_user ON tokens (realm, user_id, id)",
	"CREATE INDEX tokens_realm ON tokens (realm, id)",

	"CREATE TABLE cases ("
	" tenant TEXT NOT NULL REFERENCES tenants (id),"
	" id TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" assigned_to TEXT NOT NULL,"
	" opened_by TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL,"
	" PRIMARY KEY (tenant, id))",
	/* store_case_list, newest first, all or one engineer's. */
	"CREATE INDEX cases_created ON cases (tenant, created_ms DESC, id DESC)",
	"CREATE INDEX cases_assigned ON cases"
	" (tenant, assigned_to, created_ms DESC, id DESC)",

	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY,"
	" tenant TEXT NOT NULL REFERENCES tenants (id),"
	" case_id TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" workload TEXT NOT NULL,"
	" resources TEXT NOT NULL,"             /* JSON array of paths */
	" justification TEXT NOT NULL,"
	" status TEXT NOT NULL,"                /* as stored, not as of now */
	" duration_minutes INTEGER NOT NULL,"
	" created_ms BIGINT NOT NULL,"
	" pending_expires_ms BIGINT NOT NULL,"
	" access_starts_ms BIGINT NOT NULL,"
	" access_expires_ms BIGINT NOT NULL,"
	" internal_required INTEGER NOT NULL,"
	" version BIGINT NOT NULL)",
	/* A tenant's requests, newest first (the tenant console). */
	"CREATE INDEX requests_tenant ON requests (tenant, created_ms DESC, id DESC)",
	/* A tenant's requests of one status (?status=pending, the hot view). */
	"CREATE INDEX requests_tenant_status ON requests"
	" (tenant, status, created_ms DESC, id DESC)",
	/* An engineer's own requests. */
	"CREATE INDEX requests_requester ON requests"
	" (requester, created_ms DESC, id DESC)",
	/* Provider-wide list. */
	"CREATE INDEX requests_created ON requests (created_ms DESC, id DESC)",
	/* The sweeper: pending rows past expiry, approved rows past access. */
	"CREATE INDEX requests_pending_due ON requests (status, pending_expires_ms)",
	"CREATE INDEX requests_access_due ON requests (status, access_expires_ms)",

	"CREATE TABLE decisions ("
	" request_id TEXT NOT NULL REFERENCES requests (id),"
	" idx INTEGER NOT NULL,"
	" by_id TEXT NOT NULL,"
	" realm TEXT NOT NULL,"
	" stage INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" comment TEXT NOT NULL,"
	" at_ms BIGINT NOT NULL,"
	" duration_minutes INTEGER NOT NULL,"
	" PRIMARY KEY (request_id, idx))",
	/* SPEC 3: one person approves at most once per request, even in a race. */
	"CREATE UNIQUE INDEX decisions_one_approval ON decisions"
	" (request_id, realm, by_id) WHERE kind = 'approve'",

	"CREATE TABLE audit ("
	" chain TEXT NOT NULL,"
	" seq BIGINT NOT NULL,"
	" id TEXT NOT NULL UNIQUE,"
	" time_ms BIGINT NOT NULL,"
	" workload TEXT NOT NULL,"
	" record_type TEXT NOT NULL,"
	" operation TEXT NOT NULL,"
	" actor_id TEXT NOT NULL,"
	" actor_realm TEXT NOT NULL,"
	" actor_type TEXT NOT NULL,"
	" object_id TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" client_ip TEXT NOT NULL,"
	" details TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL,"
	" PRIMARY KEY (chain, seq))",
	/* Time-ranged search and retention within one chain. */
	"CREATE INDEX audit_time ON audit (chain, time_ms)",

	"CREATE TABLE outbox ("
	" id TEXT PRIMARY KEY,"
	" tenant TEXT NOT NULL,"
	" channel TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" topic TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL,"
	" created_ms BIGINT NOT NULL,"
	" next_attempt_ms BIGINT NOT NULL,"
	" delivered_ms BIGINT NOT NULL,"
	" last_error TEXT NOT NULL)",
	/* The notifier: pending rows whose next attempt is due. */
	"CREATE INDEX outbox_due ON outbox (status, next_attempt_ms)",
	/* store_outbox_list, newest first, one tenant or all. */
	"CREATE INDEX outbox_tenant ON outbox (tenant, created_ms DESC, id DESC)",
	"CREATE INDEX outbox_created ON outbox (created_ms DESC, id DESC)",
	NULL,
};

/*
 * Version 2: access receipts, what was done under each request.  One row
 * per (request, resource) counts allowed and refused decisions, updated in
 * the same transaction as the decisions' audit records.  The upsert syntax
 * (ON CONFLICT ... DO UPDATE) is shared by SQLite >= 3.24 and PostgreSQL.
 */
static const char *const v2[] = {
	"CREATE TABLE access_receipts ("
	" request_id TEXT NOT NULL,"
	" resource TEXT NOT NULL,"
	" allowed BIGINT NOT NULL,"
	" refused BIGINT NOT NULL,"
	" first_ms BIGINT NOT NULL,"
	" last_ms BIGINT NOT NULL,"
	" PRIMARY KEY (request_id, resource))",
	NULL,
};

/*
 * Version 3: signed checkpoints of the audit chains, and the indexes the
 * audit search and retention read through.  Every search is within one
 * chain, newest first (seq DESC) with keyset paging on seq, so each
 * equality filter gets an index (chain, column, seq): the matching records
 * come out already in order and a page stops after `limit` of them, with
 * no sort and no visit of records that do not match.  Counting one record
 * type over a time window (the dashboard's "last 30 days") is a range of
 * (chain, record_type, time_ms) read from the index alone.  Time-only
 * ranges and retention keep using audit_time (chain, time_ms).
 * docs/internals/store.md shows the plan of each query.
 */
static const char *const v3[] = {
	"CREATE TABLE audit_checkpoints ("
	" chain TEXT NOT NULL,"
	" seq BIGINT NOT NULL,"
	" head_hash TEXT NOT NULL,"             /* hex SHA-256 of record `seq` */
	" time_ms BIGINT NOT NULL,"
	" kid TEXT NOT NULL,"
	" sig TEXT NOT NULL,"                   /* base64url Ed25519, no padding */
	" anchor INTEGER NOT NULL,"             /* 1: made before a retention purge */
	" PRIMARY KEY (chain, seq))",
	"CREATE INDEX audit_type ON audit (chain, record_type, seq)",
	"CREATE INDEX audit_type_time ON audit (chain, record_type, time_ms)",
	"CREATE INDEX audit_operation ON audit (chain, operation, seq)",
	"CREATE INDEX audit_actor ON audit (chain, actor_id, seq)",
	"CREATE INDEX audit_object ON audit (chain, object_id, seq)",
	"CREATE INDEX audit_result ON audit (chain, result, seq)",
	NULL,
};

/*
 * Version 4: notification delivery (src/notify/, docs/internals/notify.md).
 * Three columns on the outbox: the webhook endpoint a webhook row is signed
 * for, and for emergency notices the 48-hour deadline and when the notice
 * was recorded overdue (so that happens once).  Webhook endpoints per
 * tenant ("" for the provider's), their secrets sealed by the daemon.  One
 * reminder per pending request, ever: the row is written in the same
 * transaction as the reminder's outbox rows, so a restart cannot send a
 * second one.
 */
static const char *const v4[] = {
	"ALTER TABLE outbox ADD COLUMN endpoint TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE outbox ADD COLUMN deadline_ms BIGINT NOT NULL DEFAULT 0",
	"ALTER TABLE outbox ADD COLUMN overdue_ms BIGINT NOT NULL DEFAULT 0",
	/* The overdue check: notices whose deadline has come. */
	"CREATE INDEX outbox_deadline ON outbox (overdue_ms, deadline_ms)",
	/* The notifier, one channel at a time; lists by status. */
	"CREATE INDEX outbox_channel_due ON outbox (status, channel, next_attempt_ms)",
	"CREATE INDEX outbox_status ON outbox (status, created_ms DESC, id DESC)",

	"CREATE TABLE webhooks ("
	" id TEXT PRIMARY KEY,"
	" tenant TEXT NOT NULL,"                /* "" for the provider's */
	" url TEXT NOT NULL,"
	" secret TEXT NOT NULL,"                /* sealed; see notify.md */
	" created_by TEXT NOT NULL,"
	" created_ms BIGINT NOT NULL)",
	"CREATE INDEX webhooks_tenant ON webhooks (tenant, created_ms DESC, id DESC)",

	"CREATE TABLE notify_reminders ("
	" request_id TEXT PRIMARY KEY,"
	" created_ms BIGINT NOT NULL)",
	NULL,
};

/*
 * Version 5: break-glass (docs/break-glass.md, src/core/emergency.c).
 * Incidents with their affected tenants (a JSON array: the list is read
 * whole and never searched by SQL), emergency accesses, the outbox rows
 * that carry each access's 48-hour notice to the tenant (so the notice's
 * delivery can be shown and its deadline checked), and the provider's cap
 * on emergency accesses per tenant and window.
 */
static const char *const v5[] = {
	"CREATE TABLE incidents ("
	" id TEXT PRIMARY KEY,"
	" title TEXT NOT NULL,"
	" severity TEXT NOT NULL,"              /* low, medium, high, critical */
	" tenants TEXT NOT NULL,"               /* JSON array of tenant ids */
	" declared_by TEXT NOT NULL,"
	" started_ms BIGINT NOT NULL,"
	" ended_ms BIGINT NOT NULL,"            /* 0 while open */
	" closed_by TEXT NOT NULL,"
	" version BIGINT NOT NULL)",
	/* store_incident_list, newest first. */
	"CREATE INDEX incidents_started ON incidents (started_ms DESC, id DESC)",

	"CREATE TABLE emergency_access ("
	" id TEXT PRIMARY KEY,"
	" incident_id TEXT NOT NULL REFERENCES incidents (id),"
	" tenant TEXT NOT NULL REFERENCES tenants (id),"
	" requester TEXT NOT NULL,"
	" approver TEXT NOT NULL,"
	" workload TEXT NOT NULL,"
	" resources TEXT NOT NULL,"             /* JSON array of paths */
	" justification TEXT NOT NULL,"
	" duration_minutes INTEGER NOT NULL,"
	" status TEXT NOT NULL,"                /* as stored, not as of now */
	" created_ms BIGINT NOT NULL,"
	" starts_ms BIGINT NOT NULL,"
	" expires_ms BIGINT NOT NULL,"
	" ended_ms BIGINT NOT NULL,"
	" ended_by TEXT NOT NULL,"
	" end_reason TEXT NOT NULL,"
	" objection_by TEXT NOT NULL,"
	" objection_comment TEXT NOT NULL,"
	" objection_ms BIGINT NOT NULL,"
	" review_by TEXT NOT NULL,"
	" review_response TEXT NOT NULL,"
	" review_ms BIGINT NOT NULL,"
	" notice_overdue_ms BIGINT NOT NULL,"   /* 0 until recorded overdue */
	" version BIGINT NOT NULL)",
	/* A tenant's accesses newest first, and the cap's count in a window. */
	"CREATE INDEX emergency_tenant ON emergency_access (tenant, created_ms DESC, id DESC)",
	"CREATE INDEX emergency_created ON emergency_access (created_ms DESC, id DESC)",
	/* Closing an incident ends its accesses. */
	"CREATE INDEX emergency_incident ON emergency_access (incident_id, created_ms DESC, id DESC)",
	/* The sweeper: active rows past their end; notices whose deadline came. */
	"CREATE INDEX emergency_due ON emergency_access (status, expires_ms)",
	"CREATE INDEX emergency_notice ON emergency_access (notice_overdue_ms, starts_ms)",

	"CREATE TABLE emergency_notices ("
	" emergency_id TEXT NOT NULL REFERENCES emergency_access (id),"
	" outbox_id TEXT NOT NULL,"
	" PRIMARY KEY (emergency_id, outbox_id))",

	"ALTER TABLE provider_settings ADD COLUMN emergency_cap INTEGER NOT NULL DEFAULT 3",
	"ALTER TABLE provider_settings ADD COLUMN emergency_window_hours INTEGER"
	" NOT NULL DEFAULT 24",
	NULL,
};

/*
 * Version 6: console sign-in (src/http/session.c, docs/internals/session.md).
 * A person's password as the Argon2id string of libsodium's
 * crypto_pwhash_str (algorithm, limits and salt inside it), one per user;
 * and console sessions, keyed by the SHA-256 of the session id the cookie
 * carries (the id itself is never stored).  A session ends at sign-out
 * (ended_ms), when idle (idle_expires_ms, moved forward on use) or at
 * expires_ms (created + the absolute limit); rows past any of them are
 * deleted by the prune that runs on sign-in.
 */
static const char *const v6[] = {
	"CREATE TABLE passwords ("
	" realm TEXT NOT NULL,"
	" user_id TEXT NOT NULL,"
	" hash TEXT NOT NULL,"                  /* $argon2id$v=19$m=...,t=...,p=...$salt$hash */
	" set_ms BIGINT NOT NULL,"
	" PRIMARY KEY (realm, user_id),"
	" FOREIGN KEY (realm, user_id) REFERENCES users (realm, id))",

	"CREATE TABLE sessions ("
	" id_hash TEXT PRIMARY KEY,"            /* hex SHA-256 of the session id */
	" realm TEXT NOT NULL,"
	" user_id TEXT NOT NULL,"
	" csrf TEXT NOT NULL,"                  /* base64url of 32 random bytes */
	" created_ms BIGINT NOT NULL,"
	" idle_expires_ms BIGINT NOT NULL,"
	" expires_ms BIGINT NOT NULL,"
	" ended_ms BIGINT NOT NULL,"            /* 0 until sign-out */
	" FOREIGN KEY (realm, user_id) REFERENCES users (realm, id))",
	/* Ending a user's sessions when their password is set. */
	"CREATE INDEX sessions_user ON sessions (realm, user_id)",
	NULL,
};

const struct lb_store_migration lb_store_migrations[] = {
	{ 1, "initial schema", v1 },
	{ 2, "access receipts", v2 },
	{ 3, "audit checkpoints and search indexes", v3 },
	{ 4, "notification delivery: webhooks, reminders, notice deadlines", v4 },
	{ 5, "break-glass: incidents, emergency access, notices", v5 },
	{ 6, "console sign-in: passwords and sessions", v6 },
};

const size_t lb_store_nmigrations =
    sizeof(lb_store_migrations) / sizeof(lb_store_migrations[0]);

int
lb_store_schema_latest(void)
{
	return lb_store_migrations[lb_store_nmigrations - 1].version;
}
