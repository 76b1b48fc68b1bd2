/*
 * Tests of the storage layer against a real SQLite database in a fresh
 * temporary directory per test.
 *
 * They read like the contract in src/store/store.h: every call, its error
 * codes (ALREADY_EXISTS, NOT_FOUND, CONFLICT, UNAVAILABLE), keyset paging
 * that visits each row exactly once, the "status as of now" filter, the
 * version guard under eight racing threads, readers beside a writer, and
 * faults: a database locked by another process, corrupt rows, a schema
 * from the future.  Nothing here needs the core's .c files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_impl.h"

struct fx {
	char dir[64];
	char path[128];
	struct lb_store *st;
};

static void
copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	assert_true(n < cap);
	memcpy(dst, src, n + 1);
}

static void
fmt(char *dst, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, cap, f, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	copy(fx->dir, sizeof(fx->dir), "/tmp/lbstore.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fmt(fx->path, sizeof(fx->path), "%s/lockbox.db", fx->dir);
	char url[160];
	fmt(url, sizeof(url), "sqlite:%s", fx->path);
	assert_int_equal(store_open(url, &fx->st), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char p[160];

	store_close(fx->st);
	fmt(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	fmt(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	unlink(fx->path);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

static struct lb_tx *
wbegin(struct fx *fx)
{
	struct lb_tx *tx = NULL;

	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	return tx;
}

static struct lb_tx *
rbegin(struct fx *fx)
{
	struct lb_tx *tx = NULL;

	assert_int_equal(store_begin(fx->st, false, &tx), 0);
	return tx;
}

static void
mk_tenant(struct lb_tenant *t, const char *id)
{
	memset(t, 0, sizeof(*t));
	copy(t->id, sizeof(t->id), id);
	copy(t->name, sizeof(t->name), "Contoso \"Ltd\" \xc3\xa9");
	copy(t->plan, sizeof(t->plan), "M365_E3");
	copy(t->addons[0], sizeof(t->addons[0]), "customer_lockbox");
	copy(t->addons[1], sizeof(t->addons[1]), "other");
	t->naddons = 2;
	t->cloud = LB_CLOUD_GCC_HIGH;
	t->created_ms = 1700000000000;
}

static void
add_tenant(struct fx *fx, const char *id)
{
	struct lb_tenant t;
	struct lb_tx *tx = wbegin(fx);

	mk_tenant(&t, id);
	assert_int_equal(store_tenant_insert(tx, &t), 0);
	assert_int_equal(store_commit(tx), 0);
}

static void
mk_request(struct lb_request *r, const char *id, const char *tenant, const char *requester,
    int64_t created_ms, enum lb_status status)
{
	memset(r, 0, sizeof(*r));
	copy(r->id, sizeof(r->id), id);
	copy(r->tenant, sizeof(r->tenant), tenant);
	copy(r->case_id, sizeof(r->case_id), "case1");
	copy(r->requester, sizeof(r->requester), requester);
	copy(r->workload, sizeof(r->workload), "exchange");
	copy(r->resources[0], sizeof(r->resources[0]), "mailbox/alice@contoso.example");
	copy(r->resources[1], sizeof(r->resources[1]), "site/finance");
	r->nresources = 2;
	copy(r->justification, sizeof(r->justification), "ticket 42; it's \"urgent\"");
	r->status = status;
	r->duration_minutes = 720;
	r->created_ms = created_ms;
	r->pending_expires_ms = created_ms + LB_PENDING_TTL_MS;
	r->version = 1;
}

static void
add_decision(struct lb_request *r, const char *by, const char *realm,
    enum lb_decision_kind kind, int64_t at)
{
	struct lb_decision *d = &r->decisions[r->ndecisions++];

	memset(d, 0, sizeof(*d));
	copy(d->by, sizeof(d->by), by);
	copy(d->realm, sizeof(d->realm), realm);
	d->stage = 1;
	d->kind = kind;
	copy(d->comment, sizeof(d->comment), "ok");
	d->at_ms = at;
	d->duration_minutes = kind == LB_DEC_APPROVE ? 240 : 0;
}

static void
insert_request(struct fx *fx, const struct lb_request *r)
{
	struct lb_tx *tx = wbegin(fx);

	assert_int_equal(store_request_insert(tx, r), 0);
	assert_int_equal(store_commit(tx), 0);
}

static struct lb_request *
get_request(struct fx *fx, const char *id)
{
	struct lb_request *r = malloc(sizeof(*r));
	struct lb_tx *tx = rbegin(fx);

	assert_non_null(r);
	assert_int_equal(store_request_get(tx, id, r), 0);
	assert_int_equal(store_commit(tx), 0);
	return r;
}

/* A raw connection to the same file, for faults and inspection. */
static sqlite3 *
raw_open(struct fx *fx)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ------------------------------------------------------------- lifecycle */

static void
test_open_migrate_reopen(void **state)
{
	struct fx *fx = *state;
	struct lb_tx *tx;
	struct lb_tenant t;
	char url[160], v[32];
	sqlite3 *db;

	assert_int_equal(store_schema_version(fx->st), lb_store_schema_latest());
	assert_true(lb_store_schema_latest() >= 1);
	assert_int_equal(store_ping(fx->st), 0);
	add_tenant(fx, "contoso");
	tx = wbegin(fx);
	assert_int_equal(store_meta_put(tx, "bootstrap_done", "1"), 0);
	assert_int_equal(store_commit(tx), 0);

	/* Reopen, by each accepted spelling: same version, same data. */
	const char *forms[] = { "sqlite:%s", "sqlite://%s", "%s" };
	for (size_t i = 0; i < 3; i++) {
		store_close(fx->st);
		fx->st = NULL;
		fmt(url, sizeof(url), forms[i], fx->path);
		assert_int_equal(store_open(url, &fx->st), 0);
		assert_int_equal(store_schema_version(fx->st), lb_store_schema_latest());
		tx = rbegin(fx);
		assert_int_equal(store_tenant_get(tx, "contoso", &t), 0);
		assert_int_equal(store_meta_get(tx, "bootstrap_done", v, sizeof(v)), 0);
		assert_string_equal(v, "1");
		store_rollback(tx);
	}

	db = raw_open(fx);
	assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM schema_migrations"),
	    (int64_t)lb_store_nmigrations);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
test_open_urls(void **state)
{
	struct fx *fx = *state;
	struct lb_store *st = (struct lb_store *)(uintptr_t)1;

	assert_int_equal(store_open("postgresql://db/lockbox", &st), LB_ERR_UNAVAILABLE);
	assert_int_equal(store_open("postgres://db/lockbox", &st), LB_ERR_UNAVAILABLE);
	assert_int_equal(store_open("mysql://db/lockbox", &st), LB_ERR_INVALID_VALUE);
	assert_int_equal(store_open("sqlite:", &st), LB_ERR_INVALID_VALUE);
	assert_int_equal(store_open(":memory:", &st), LB_ERR_INVALID_VALUE);
	assert_int_equal(store_open("/nonexistent-dir/x/y.db", &st), LB_ERR_UNAVAILABLE);
	assert_ptr_equal(st, (struct lb_store *)(uintptr_t)1);    /* untouched on failure */
	assert_int_equal(store_open(NULL, &st), LB_ERR_INTERNAL);
	store_close(NULL);
	store_rollback(NULL);
	(void)fx;
}

static void
test_newer_schema_refused(void **state)
{
	struct fx *fx = *state;
	struct lb_store *st = NULL;
	sqlite3 *db;

	store_close(fx->st);
	fx->st = NULL;
	db = raw_open(fx);
	raw_exec(db, "INSERT INTO schema_migrations VALUES (999, 'future', 0)");
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, &st), LB_ERR_UNAVAILABLE);
	assert_null(st);
	db = raw_open(fx);
	raw_exec(db, "DELETE FROM schema_migrations WHERE version = 999");
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, &fx->st), 0);
}

static void
test_meta(void **state)
{
	struct fx *fx = *state;
	struct lb_tx *tx = wbegin(fx);
	char v[8], big[LB_STORE_META_MAX + 2];

	assert_int_equal(store_meta_get(tx, "k", v, sizeof(v)), LB_ERR_NOT_FOUND);
	assert_int_equal(store_meta_put(tx, "k", "one"), 0);
	assert_int_equal(store_meta_put(tx, "k", "two"), 0);
	assert_int_equal(store_meta_get(tx, "k", v, sizeof(v)), 0);
	assert_string_equal(v, "two");
	assert_int_equal(store_meta_put(tx, "long", "12345678"), 0);
	memcpy(v, "xxxxxxx", 8);
	/* Does not fit the buffer: an error, never a truncated value. */
	assert_int_equal(store_meta_get(tx, "long", v, sizeof(v)), LB_ERR_UNAVAILABLE);
	assert_string_equal(v, "xxxxxxx");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_meta_put(tx, "big", big), LB_ERR_FIELD_TOO_LONG);
	assert_int_equal(store_commit(tx), 0);

	tx = rbegin(fx);
	assert_int_equal(store_meta_put(tx, "k", "three"), LB_ERR_INTERNAL);
	assert_int_equal(store_meta_get(tx, "k", v, sizeof(v)), 0);
	assert_string_equal(v, "two");
	store_rollback(tx);

	/* A rolled back write leaves nothing. */
	tx = wbegin(fx);
	assert_int_equal(store_meta_put(tx, "gone", "1"), 0);
	store_rollback(tx);
	tx = rbegin(fx);
	assert_int_equal(store_meta_get(tx, "gone", v, sizeof(v)), LB_ERR_NOT_FOUND);
	assert_int_equal(store_commit(tx), 0);
}

/* -------------------------------------------------------------- tenants */

struct ids {
	char v[400][LB_ID_MAX + 1];
	int64_t ms[400];
	size_t n;
	int stop_at;            /* callback returns 7 at this count, if > 0 */
};

static int
tenant_cb(void *ctx, const struct lb_tenant *t)
{
	struct ids *ids = ctx;

	copy(ids->v[ids->n], sizeof(ids->v[0]), t->id);
	ids->ms[ids->n] = t->created_ms;
	ids->n++;
	return ids->stop_at > 0 && (int)ids->n == ids->stop_at ? 7 : 0;
}

static void
test_tenants(void **state)
{
	struct fx *fx = *state;
	struct lb_tenant t, got;
	struct lb_tx *tx = wbegin(fx);
	struct lb_page pg = { .limit = 3 };
	struct ids *ids = calloc(1, sizeof(*ids));
	bool more = false;
	char id[16];

	assert_non_null(ids);
	for (int i = 9; i >= 0; i--) {
		fmt(id, sizeof(id), "t%02d", i);
		mk_tenant(&t, id);
		assert_int_equal(store_tenant_insert(tx, &t), 0);
	}
	assert_int_equal(store_tenant_insert(tx, &t), LB_ERR_ALREADY_EXISTS);
	assert_int_equal(store_tenant_get(tx, "t00", &got), 0);
	assert_memory_equal(&got, &t, sizeof(t));
	assert_int_equal(store_tenant_get(tx, "nope", &got), LB_ERR_NOT_FOUND);
	/* An unterminated field is refused, not truncated. */
	mk_tenant(&t, "t99");
	memset(t.name, 'x', sizeof(t.name));
	assert_int_equal(store_tenant_insert(tx, &t), LB_ERR_FIELD_TOO_LONG);
	assert_int_equal(store_commit(tx), 0);

	tx = rbegin(fx);
	do {
		size_t before = ids->n;
		assert_int_equal(store_tenant_list(tx, &pg, tenant_cb, ids, &more), 0);
		assert_true(ids->n - before <= 3);
		copy(pg.after_id, sizeof(pg.after_id), ids->v[ids->n - 1]);
	} while (more);
	assert_int_equal(ids->n, 10);
	for (size_t i = 0; i < 10; i++) {
		fmt(id, sizeof(id), "t%02zu", i);
		assert_string_equal(ids->v[i], id);
	}
	/* A callback's nonzero answer stops the list and is returned. */
	ids->n = 0;
	ids->stop_at = 2;
	assert_int_equal(store_tenant_list(tx, NULL, tenant_cb, ids, &more), 7);
	assert_int_equal(ids->n, 2);
	store_rollback(tx);
	free(ids);
}

static void
test_settings(void **state)
{
	struct fx *fx = *state;
	struct lb_settings s, got;
	struct lb_provider_settings ps;
	struct lb_tx *tx;

	add_tenant(fx, "contoso");
	tx = wbegin(fx);
	assert_int_equal(store_settings_get(tx, "contoso", &got), LB_ERR_NOT_FOUND);
	memset(&s, 0, sizeof(s));
	s.enabled = true;
	copy(s.approvers[0], sizeof(s.approvers[0]), "ga1");
	copy(s.approvers[1], sizeof(s.approvers[1]), "ap1");
	s.napprovers = 2;
	copy(s.notification_emails[0], sizeof(s.notification_emails[0]), "lb@contoso.example");
	s.nemails = 1;
	s.stages[0].required = 1;
	s.stages[1].required = 2;
	copy(s.stages[1].approvers[0], sizeof(s.stages[1].approvers[0]), "ap1");
	s.stages[1].napprovers = 1;
	s.nstages = 2;
	s.retention_days = 365;
	assert_int_equal(store_settings_put(tx, "contoso", &s), 0);
	assert_int_equal(store_settings_get(tx, "contoso", &got), 0);
	assert_memory_equal(&got, &s, sizeof(s));
	s.enabled = false;
	s.napprovers = 1;
	s.nstages = 0;
	memset(s.stages, 0, sizeof(s.stages));
	memset(s.approvers[1], 0, sizeof(s.approvers[1]));
	assert_int_equal(store_settings_put(tx, "contoso", &s), 0);
	assert_int_equal(store_settings_get(tx, "contoso", &got), 0);
	assert_memory_equal(&got, &s, sizeof(s));
	/* Settings of a tenant that does not exist: the parent is missing. */
	assert_int_equal(store_settings_put(tx, "ghost", &s), LB_ERR_NOT_FOUND);
	s.napprovers = LB_APPROVERS_MAX + 1;
	assert_int_equal(store_settings_put(tx, "contoso", &s), LB_ERR_TOO_MANY_ITEMS);

	assert_int_equal(store_provider_settings_get(tx, &ps), 0);
	assert_false(ps.require_internal_approval);
	ps.require_internal_approval = true;
	assert_int_equal(store_provider_settings_put(tx, &ps), 0);
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_provider_settings_get(tx, &ps), 0);
	assert_true(ps.require_internal_approval);
	assert_int_equal(store_commit(tx), 0);
}

/* ------------------------------------------------------ users and tokens */

static void
mk_user(struct lb_user *u, const char *realm, const char *id)
{
	memset(u, 0, sizeof(*u));
	copy(u->realm, sizeof(u->realm), realm);
	copy(u->id, sizeof(u->id), id);
	u->roles = LB_ROLE_GLOBAL_ADMIN | LB_ROLE_LOCKBOX_APPROVER;
	u->type = LB_ACTOR_USER;
	fmt(u->email, sizeof(u->email), "%s@%s.example", id, realm);
	copy(u->display_name, sizeof(u->display_name), "Ann O'Neil");
	u->created_ms = 1700000000123;
}

static int
user_cb(void *ctx, const struct lb_user *u)
{
	struct ids *ids = ctx;

	copy(ids->v[ids->n++], sizeof(ids->v[0]), u->id);
	return 0;
}

static int
token_cb(void *ctx, const struct lb_token *t)
{
	struct ids *ids = ctx;

	copy(ids->v[ids->n++], sizeof(ids->v[0]), t->id);
	return 0;
}

static void
test_users_tokens(void **state)
{
	struct fx *fx = *state;
	struct lb_user u, got;
	struct lb_token t, tg;
	struct lb_tx *tx = wbegin(fx);
	struct ids *ids = calloc(1, sizeof(*ids));
	uint8_t h[32], h2[32], stored[32];
	bool more = true;

	assert_non_null(ids);
	mk_user(&u, "contoso", "ga1");
	assert_int_equal(store_user_insert(tx, &u), 0);
	assert_int_equal(store_user_insert(tx, &u), LB_ERR_ALREADY_EXISTS);
	assert_int_equal(store_user_get(tx, "contoso", "ga1", &got), 0);
	assert_memory_equal(&got, &u, sizeof(u));
	/* The same id in another realm is another user. */
	mk_user(&u, "provider", "ga1");
	u.roles = LB_ROLE_GATEWAY;
	u.type = LB_ACTOR_SERVICE;
	assert_int_equal(store_user_insert(tx, &u), 0);
	assert_int_equal(store_user_get(tx, "fabrikam", "ga1", &got), LB_ERR_NOT_FOUND);
	mk_user(&u, "contoso", "ap1");
	assert_int_equal(store_user_insert(tx, &u), 0);
	assert_int_equal(store_user_list(tx, "contoso", NULL, user_cb, ids, &more), 0);
	assert_false(more);
	assert_int_equal(ids->n, 2);
	assert_string_equal(ids->v[0], "ap1");
	assert_string_equal(ids->v[1], "ga1");

	memset(&t, 0, sizeof(t));
	copy(t.id, sizeof(t.id), "tok1");
	copy(t.realm, sizeof(t.realm), "contoso");
	copy(t.user_id, sizeof(t.user_id), "ga1");
	copy(t.label, sizeof(t.label), "first");
	t.created_ms = 1700000000999;
	for (int i = 0; i < 32; i++) {
		h[i] = (uint8_t)(i * 7 + 1);
		h2[i] = (uint8_t)(255 - i);
	}
	assert_int_equal(store_token_insert(tx, &t, h), 0);
	assert_int_equal(store_token_insert(tx, &t, h2), LB_ERR_ALREADY_EXISTS);
	copy(t.id, sizeof(t.id), "tok2");
	assert_int_equal(store_token_insert(tx, &t, h), LB_ERR_ALREADY_EXISTS);
	copy(t.user_id, sizeof(t.user_id), "nobody");
	assert_int_equal(store_token_insert(tx, &t, h2), LB_ERR_NOT_FOUND);
	copy(t.user_id, sizeof(t.user_id), "ap1");
	assert_int_equal(store_token_insert(tx, &t, h2), 0);

	assert_int_equal(store_token_find(tx, h, &tg, stored, &got), 0);
	assert_string_equal(tg.id, "tok1");
	assert_string_equal(tg.label, "first");
	assert_int_equal(tg.revoked_ms, 0);
	assert_memory_equal(stored, h, 32);
	assert_string_equal(got.id, "ga1");
	assert_string_equal(got.realm, "contoso");
	assert_int_equal(got.roles, LB_ROLE_GLOBAL_ADMIN | LB_ROLE_LOCKBOX_APPROVER);
	h[0] ^= 1;
	assert_int_equal(store_token_find(tx, h, &tg, stored, &got), LB_ERR_NOT_FOUND);
	h[0] ^= 1;

	assert_int_equal(store_token_revoke(tx, "tok1", 1700000005000), 0);
	assert_int_equal(store_token_revoke(tx, "tok1", 1700000009000), 0);
	assert_int_equal(store_token_revoke(tx, "nope", 1700000009000), LB_ERR_NOT_FOUND);
	assert_int_equal(store_token_get(tx, "tok1", &tg), 0);
	assert_int_equal(tg.revoked_ms, 1700000005000);  /* the first revocation */
	/* Revoked tokens are still found; the caller refuses them. */
	assert_int_equal(store_token_find(tx, h, &tg, stored, &got), 0);
	assert_int_equal(tg.revoked_ms, 1700000005000);
	assert_int_equal(store_token_get(tx, "nope", &tg), LB_ERR_NOT_FOUND);

	ids->n = 0;
	assert_int_equal(store_token_list(tx, "contoso", NULL, NULL, token_cb, ids, &more), 0);
	assert_int_equal(ids->n, 2);
	assert_string_equal(ids->v[0], "tok1");
	assert_string_equal(ids->v[1], "tok2");
	ids->n = 0;
	assert_int_equal(store_token_list(tx, "contoso", "ap1", NULL, token_cb, ids, &more), 0);
	assert_int_equal(ids->n, 1);
	assert_string_equal(ids->v[0], "tok2");
	assert_int_equal(store_commit(tx), 0);
	free(ids);
}

/* ---------------------------------------------------------------- cases */

static int
case_cb(void *ctx, const struct lb_case *c)
{
	struct ids *ids = ctx;

	copy(ids->v[ids->n], sizeof(ids->v[0]), c->id);
	ids->ms[ids->n++] = c->created_ms;
	return 0;
}

static void
test_cases(void **state)
{
	struct fx *fx = *state;
	struct lb_case c, got;
	struct lb_tx *tx;
	struct ids *ids = calloc(1, sizeof(*ids));
	struct lb_page pg = { .limit = 4 };
	bool more = false;

	assert_non_null(ids);
	add_tenant(fx, "contoso");
	tx = wbegin(fx);
	for (int i = 0; i < 20; i++) {
		memset(&c, 0, sizeof(c));
		fmt(c.id, sizeof(c.id), "case%02d", i);
		copy(c.tenant, sizeof(c.tenant), "contoso");
		copy(c.title, sizeof(c.title), "Mail flow broken");
		c.status = LB_CASE_OPEN;
		copy(c.assigned_to, sizeof(c.assigned_to), i % 2 ? "eng1" : "");
		copy(c.opened_by, sizeof(c.opened_by), "ga1");
		c.created_ms = 1000 + i / 4;            /* groups share a time */
		assert_int_equal(store_case_insert(tx, &c), 0);
	}
	assert_int_equal(store_case_insert(tx, &c), LB_ERR_ALREADY_EXISTS);
	copy(c.tenant, sizeof(c.tenant), "ghost");
	assert_int_equal(store_case_insert(tx, &c), LB_ERR_NOT_FOUND);
	assert_int_equal(store_case_get(tx, "contoso", "case05", &got), 0);
	assert_string_equal(got.assigned_to, "eng1");
	assert_int_equal(got.status, LB_CASE_OPEN);
	got.status = LB_CASE_CLOSED;
	copy(got.assigned_to, sizeof(got.assigned_to), "eng2");
	assert_int_equal(store_case_update(tx, &got), 0);
	assert_int_equal(store_case_get(tx, "contoso", "case05", &got), 0);
	assert_int_equal(got.status, LB_CASE_CLOSED);
	assert_string_equal(got.assigned_to, "eng2");
	assert_int_equal(store_case_get(tx, "fabrikam", "case05", &got), LB_ERR_NOT_FOUND);
	copy(got.id, sizeof(got.id), "nope");
	assert_int_equal(store_case_update(tx, &got), LB_ERR_NOT_FOUND);
	assert_int_equal(store_commit(tx), 0);

	tx = rbegin(fx);
	do {
		assert_int_equal(store_case_list(tx, "contoso", NULL, &pg, case_cb, ids, &more), 0);
		copy(pg.after_id, sizeof(pg.after_id), ids->v[ids->n - 1]);
		pg.after_ms = ids->ms[ids->n - 1];
	} while (more);
	assert_int_equal(ids->n, 20);
	for (size_t i = 0; i < 20; i++) {
		char id[16];
		fmt(id, sizeof(id), "case%02zu", 19 - i);
		assert_string_equal(ids->v[i], id);
	}
	ids->n = 0;
	assert_int_equal(store_case_list(tx, "contoso", "eng1", NULL, case_cb, ids, &more), 0);
	assert_int_equal(ids->n, 9);            /* 10 odd cases, one reassigned */
	store_rollback(tx);
	free(ids);
}

/* ------------------------------------------------------------- requests */

static void
test_request_crud(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r)), *got;
	struct lb_tx *tx;

	assert_non_null(r);
	add_tenant(fx, "contoso");
	mk_request(r, "req1", "contoso", "eng1", 5000, LB_ST_PENDING);
	r->internal_required = true;
	add_decision(r, "mgr1", "provider", LB_DEC_APPROVE, 5001);
	r->decisions[0].stage = 0;
	insert_request(fx, r);
	got = get_request(fx, "req1");
	assert_memory_equal(got, r, sizeof(*r));
	free(got);

	tx = wbegin(fx);
	assert_int_equal(store_request_insert(tx, r), LB_ERR_ALREADY_EXISTS);
	assert_int_equal(store_request_get(tx, "nope", r), LB_ERR_NOT_FOUND);
	mk_request(r, "req2", "ghost", "eng1", 5000, LB_ST_PENDING);
	assert_int_equal(store_request_insert(tx, r), LB_ERR_NOT_FOUND);
	/* The failed statements did not spoil the transaction. */
	mk_request(r, "req3", "contoso", "eng1", 5000, LB_ST_PENDING);
	r->nresources = LB_RESOURCES_MAX + 1;
	assert_int_equal(store_request_insert(tx, r), LB_ERR_TOO_MANY_ITEMS);
	r->nresources = LB_RESOURCES_MAX;
	for (size_t i = 0; i < LB_RESOURCES_MAX; i++)
		fmt(r->resources[i], sizeof(r->resources[i]), "site/s%zu", i);
	assert_int_equal(store_request_insert(tx, r), 0);
	assert_int_equal(store_commit(tx), 0);
	got = get_request(fx, "req3");
	assert_int_equal(got->nresources, LB_RESOURCES_MAX);
	assert_string_equal(got->resources[31], "site/s31");
	free(got);
	free(r);
}

static void
test_request_update_conflict(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r)), *got;
	struct lb_tx *tx;

	assert_non_null(r);
	add_tenant(fx, "contoso");
	mk_request(r, "req1", "contoso", "eng1", 5000, LB_ST_PENDING);
	insert_request(fx, r);

	/* Approve: version 1 -> 2, one decision, access window set. */
	add_decision(r, "ga1", "contoso", LB_DEC_APPROVE, 6000);
	r->status = LB_ST_APPROVED;
	r->access_starts_ms = 6000;
	r->access_expires_ms = 6000 + 240 * 60000;
	r->version = 99;                        /* ignored */
	tx = wbegin(fx);
	assert_int_equal(store_request_update(tx, r, 1), 0);
	/* The same version again lost the race: nothing is written. */
	r->status = LB_ST_DENIED;
	add_decision(r, "ap1", "contoso", LB_DEC_DENY, 6001);
	assert_int_equal(store_request_update(tx, r, 1), LB_ERR_CONFLICT);
	assert_int_equal(store_commit(tx), 0);
	got = get_request(fx, "req1");
	assert_int_equal(got->version, 2);
	assert_int_equal(got->status, LB_ST_APPROVED);
	assert_int_equal(got->ndecisions, 1);
	assert_string_equal(got->decisions[0].by, "ga1");
	assert_int_equal(got->access_expires_ms, 6000 + 240 * 60000);

	/* A copy missing a stored decision is stale, whatever its version. */
	tx = wbegin(fx);
	got->ndecisions = 0;
	got->status = LB_ST_REVOKED;
	assert_int_equal(store_request_update(tx, got, 2), LB_ERR_CONFLICT);
	copy(got->id, sizeof(got->id), "nope");
	assert_int_equal(store_request_update(tx, got, 2), LB_ERR_NOT_FOUND);
	/* The correct version appends only the new decisions. */
	assert_int_equal(store_request_update(tx, r, 2), 0);
	assert_int_equal(store_commit(tx), 0);
	free(got);
	got = get_request(fx, "req1");
	assert_int_equal(got->version, 3);
	assert_int_equal(got->status, LB_ST_DENIED);
	assert_int_equal(got->ndecisions, 2);
	assert_string_equal(got->decisions[1].by, "ap1");
	assert_int_equal(got->decisions[1].kind, LB_DEC_DENY);
	free(got);
	free(r);
}

static void
test_one_approval_per_person(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r)), *got;
	struct lb_tx *tx;

	assert_non_null(r);
	add_tenant(fx, "contoso");
	mk_request(r, "req1", "contoso", "eng1", 5000, LB_ST_PENDING);
	add_decision(r, "ga1", "contoso", LB_DEC_APPROVE, 6000);
	insert_request(fx, r);

	/* ga1 approving again (a caller bug the index still stops). */
	add_decision(r, "ga1", "contoso", LB_DEC_APPROVE, 6001);
	tx = wbegin(fx);
	assert_int_equal(store_request_update(tx, r, 1), LB_ERR_CONFLICT);
	assert_int_equal(store_commit(tx), 0);
	got = get_request(fx, "req1");
	assert_int_equal(got->version, 1);     /* the UPDATE was undone too */
	assert_int_equal(got->ndecisions, 1);
	free(got);

	/* Other kinds by ga1, and the same id in another realm, are fine. */
	r->ndecisions = 1;
	add_decision(r, "ga1", "provider", LB_DEC_APPROVE, 6002);
	add_decision(r, "ga1", "contoso", LB_DEC_REVOKE, 6003);
	r->status = LB_ST_REVOKED;
	tx = wbegin(fx);
	assert_int_equal(store_request_update(tx, r, 1), 0);
	assert_int_equal(store_commit(tx), 0);
	got = get_request(fx, "req1");
	assert_int_equal(got->version, 2);
	assert_int_equal(got->ndecisions, 3);
	free(got);

	/* Inserting a request with a double approval is refused outright. */
	mk_request(r, "req2", "contoso", "eng1", 5000, LB_ST_PENDING);
	add_decision(r, "ap1", "contoso", LB_DEC_APPROVE, 6000);
	add_decision(r, "ap1", "contoso", LB_DEC_APPROVE, 6001);
	tx = wbegin(fx);
	assert_int_equal(store_request_insert(tx, r), LB_ERR_ALREADY_EXISTS);
	store_rollback(tx);
	free(r);
}

struct seen {
	char ids[300][LB_REQID_MAX + 1];
	int64_t ms[300];
	int status[300];
	size_t n;
};

static int
req_cb(void *ctx, const struct lb_request *r)
{
	struct seen *s = ctx;

	assert_true(s->n < 300);
	copy(s->ids[s->n], sizeof(s->ids[0]), r->id);
	s->ms[s->n] = r->created_ms;
	s->status[s->n] = (int)r->status;
	s->n++;
	return 0;
}

/* Lists every page of `f` with page size `limit` into s. */
static void
list_all(struct fx *fx, const struct lb_request_filter *f, size_t limit, struct seen *s)
{
	struct lb_page pg = { .limit = limit };
	struct lb_tx *tx = rbegin(fx);
	bool more = true;
	int pages = 0;

	s->n = 0;
	while (more) {
		size_t before = s->n;

		assert_int_equal(store_request_list(tx, f, &pg, req_cb, s, &more), 0);
		assert_true(s->n - before <= limit);
		if (more)
			assert_int_equal(s->n - before, limit);
		if (s->n > 0) {
			copy(pg.after_id, sizeof(pg.after_id), s->ids[s->n - 1]);
			pg.after_ms = s->ms[s->n - 1];
		}
		assert_true(++pages < 1000);
	}
	store_rollback(tx);
}

static void
test_list_paging(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct seen *s = calloc(1, sizeof(*s));
	struct lb_request_filter f = { .status = -1, .now_ms = 0 };
	struct lb_tx *tx;
	char id[32];

	assert_non_null(r);
	assert_non_null(s);
	add_tenant(fx, "contoso");
	add_tenant(fx, "fabrikam");
	tx = wbegin(fx);
	for (int i = 0; i < 250; i++) {
		/* Ids not in time order; three or so rows share each time. */
		fmt(id, sizeof(id), "r%03d", (i * 37) % 250);
		mk_request(r, id, i % 5 == 0 ? "fabrikam" : "contoso", i % 2 ? "eng1" : "eng2",
		    100000 + i / 3, LB_ST_PENDING);
		assert_int_equal(store_request_insert(tx, r), 0);
	}
	assert_int_equal(store_commit(tx), 0);

	list_all(fx, &f, 7, s);
	assert_int_equal(s->n, 250);
	for (size_t i = 1; i < s->n; i++) {
		/* Strictly newest first by (created_ms, id): no repeats, no gaps. */
		assert_true(s->ms[i - 1] > s->ms[i] ||
		    (s->ms[i - 1] == s->ms[i] && strcmp(s->ids[i - 1], s->ids[i]) > 0));
	}
	f.tenant = "fabrikam";
	list_all(fx, &f, 7, s);
	assert_int_equal(s->n, 50);
	f.tenant = "contoso";
	f.requester = "eng1";
	list_all(fx, &f, 1, s);
	assert_int_equal(s->n, 100);
	f.tenant = NULL;
	list_all(fx, &f, 1000, s);
	assert_int_equal(s->n, 125);
	free(r);
	free(s);
}

static size_t
count_status(struct fx *fx, int status, int64_t now)
{
	struct lb_request_filter f = { .status = status, .now_ms = now };
	struct seen *s = calloc(1, sizeof(*s));
	size_t n;

	assert_non_null(s);
	list_all(fx, &f, 3, s);
	n = s->n;
	free(s);
	return n;
}

static void
test_status_as_of_now(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r));
	const int64_t now = 100 * 3600000LL;
	uint64_t counts[LB_ST_COUNT];
	struct lb_tx *tx;

	assert_non_null(r);
	add_tenant(fx, "contoso");
	/* a: pending, fresh */
	mk_request(r, "a", "contoso", "eng1", now - 1000, LB_ST_PENDING);
	insert_request(fx, r);
	/* b: pending, exactly at its expiry (expired: "at or past") */
	mk_request(r, "b", "contoso", "eng1", now - LB_PENDING_TTL_MS, LB_ST_PENDING);
	insert_request(fx, r);
	/* c: pending_internal, long past */
	mk_request(r, "c", "contoso", "eng1", now - 2 * LB_PENDING_TTL_MS, LB_ST_PENDING_INTERNAL);
	insert_request(fx, r);
	/* d: approved, access still running */
	mk_request(r, "d", "contoso", "eng1", now - 3600000, LB_ST_APPROVED);
	r->access_starts_ms = now - 1800000;
	r->access_expires_ms = now + 1;
	insert_request(fx, r);
	/* e: approved, access over */
	mk_request(r, "e", "contoso", "eng1", now - 7200000, LB_ST_APPROVED);
	r->access_starts_ms = now - 7000000;
	r->access_expires_ms = now;
	insert_request(fx, r);
	/* f: stored completed; g: denied; h: stored expired; i: pending_internal fresh */
	mk_request(r, "f", "contoso", "eng1", now - 9000000, LB_ST_COMPLETED);
	insert_request(fx, r);
	mk_request(r, "g", "contoso", "eng1", now - 9000000, LB_ST_DENIED);
	insert_request(fx, r);
	mk_request(r, "h", "contoso", "eng1", now - 90000000, LB_ST_EXPIRED);
	insert_request(fx, r);
	mk_request(r, "i", "contoso", "eng1", now - 10, LB_ST_PENDING_INTERNAL);
	insert_request(fx, r);

	assert_int_equal(count_status(fx, LB_ST_PENDING, now), 1);             /* a */
	assert_int_equal(count_status(fx, LB_ST_PENDING_INTERNAL, now), 1);    /* i */
	assert_int_equal(count_status(fx, LB_ST_EXPIRED, now), 3);             /* b c h */
	assert_int_equal(count_status(fx, LB_ST_APPROVED, now), 1);            /* d */
	assert_int_equal(count_status(fx, LB_ST_COMPLETED, now), 2);           /* e f */
	assert_int_equal(count_status(fx, LB_ST_DENIED, now), 1);              /* g */
	assert_int_equal(count_status(fx, LB_ST_REVOKED, now), 0);
	assert_int_equal(count_status(fx, -1, now), 9);
	/* Earlier, b was still pending and e still approved. */
	assert_int_equal(count_status(fx, LB_ST_PENDING, now - 1), 2);
	assert_int_equal(count_status(fx, LB_ST_APPROVED, now - 1), 2);

	tx = rbegin(fx);
	assert_int_equal(store_request_count(tx, now, counts), 0);
	assert_int_equal(counts[LB_ST_PENDING], 1);
	assert_int_equal(counts[LB_ST_PENDING_INTERNAL], 1);
	assert_int_equal(counts[LB_ST_EXPIRED], 3);
	assert_int_equal(counts[LB_ST_APPROVED], 1);
	assert_int_equal(counts[LB_ST_COMPLETED], 2);
	assert_int_equal(counts[LB_ST_DENIED], 1);
	assert_int_equal(counts[LB_ST_REVOKED], 0);
	assert_int_equal(counts[LB_ST_CANCELLED], 0);
	struct lb_request_filter bad = { .status = LB_ST_COUNT };
	bool more;
	assert_int_equal(store_request_list(tx, &bad, NULL, req_cb, NULL, &more),
	    LB_ERR_INVALID_VALUE);
	store_rollback(tx);
	free(r);
}

static void
test_due_only(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct seen *s = calloc(1, sizeof(*s));
	const int64_t now = 100 * 3600000LL;
	struct lb_request_filter f = { .status = LB_ST_DENIED, .now_ms = now, .due_only = true };
	struct lb_page pg = { .limit = 2 };
	struct lb_tx *tx;
	bool more = false;

	assert_non_null(r);
	assert_non_null(s);
	add_tenant(fx, "contoso");
	mk_request(r, "fresh", "contoso", "eng1", now - 1000, LB_ST_PENDING);
	insert_request(fx, r);
	mk_request(r, "old-pending", "contoso", "eng1", now - 2 * LB_PENDING_TTL_MS, LB_ST_PENDING);
	insert_request(fx, r);
	mk_request(r, "old-internal", "contoso", "eng1", now - 3 * LB_PENDING_TTL_MS,
	    LB_ST_PENDING_INTERNAL);
	insert_request(fx, r);
	mk_request(r, "done-access", "contoso", "eng1", now - LB_PENDING_TTL_MS - 5,
	    LB_ST_APPROVED);
	r->access_expires_ms = now - 1;
	insert_request(fx, r);
	mk_request(r, "live-access", "contoso", "eng1", now - 50, LB_ST_APPROVED);
	r->access_expires_ms = now + 1000;
	insert_request(fx, r);
	mk_request(r, "stored-expired", "contoso", "eng1", now - 9 * LB_PENDING_TTL_MS,
	    LB_ST_EXPIRED);
	insert_request(fx, r);

	/* Oldest first, paging keys and status ignored, limited. */
	memcpy(pg.after_id, "zzz", 4);
	tx = rbegin(fx);
	assert_int_equal(store_request_list(tx, &f, &pg, req_cb, s, &more), 0);
	assert_true(more);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->ids[0], "old-internal");
	assert_string_equal(s->ids[1], "old-pending");
	s->n = 0;
	pg.limit = 10;
	assert_int_equal(store_request_list(tx, &f, &pg, req_cb, s, &more), 0);
	assert_false(more);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->ids[2], "done-access");
	store_rollback(tx);
	free(r);
	free(s);
}

/* ---------------------------------------------------------------- audit */

static void
mk_audit(struct lb_audit_rec *a, const char *chain, int64_t seq, const char *prev)
{
	memset(a, 0, sizeof(*a));
	fmt(a->id, sizeof(a->id), "aud-%s-%lld", chain, (long long)seq);
	copy(a->chain, sizeof(a->chain), chain);
	a->seq = seq;
	a->time_ms = 1700000000000 + seq;
	copy(a->workload, sizeof(a->workload), "CustomerLockbox");
	copy(a->record_type, sizeof(a->record_type), "CustomerLockboxRequest");
	copy(a->operation, sizeof(a->operation), "ApproveRequest");
	copy(a->actor_id, sizeof(a->actor_id), "ga1");
	copy(a->actor_realm, sizeof(a->actor_realm), "contoso");
	copy(a->actor_type, sizeof(a->actor_type), "user");
	copy(a->object_id, sizeof(a->object_id), "req1");
	copy(a->result, sizeof(a->result), "success");
	copy(a->client_ip, sizeof(a->client_ip), "2001:db8::1");
	a->details = NULL;
	copy(a->prev_hash, sizeof(a->prev_hash), prev);
	for (int i = 0; i < 64; i++)
		a->hash[i] = "0123456789abcdef"[(seq * 7 + i) % 16];
	a->hash[64] = '\0';
}

struct scan {
	int64_t seqs[300];
	size_t n;
	char last_details[64];
	size_t stop_at;
};

static int
audit_cb(void *ctx, const struct lb_audit_rec *a)
{
	struct scan *s = ctx;

	assert_true(s->n < 300);
	s->seqs[s->n++] = a->seq;
	assert_non_null(a->details);
	copy(s->last_details, sizeof(s->last_details), a->details);
	return s->stop_at && s->n == s->stop_at ? -99 : 0;
}

static void
test_audit(void **state)
{
	struct fx *fx = *state;
	struct lb_audit_rec a;
	struct lb_tx *tx = wbegin(fx);
	struct scan *s = calloc(1, sizeof(*s));
	char prev[65], zeros[65], details[64];
	int64_t seq = -1;

	assert_non_null(s);
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	assert_int_equal(store_audit_head(tx, "contoso", &seq, prev), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(prev, zeros);
	for (int64_t i = 1; i <= 150; i++) {
		assert_int_equal(store_audit_head(tx, "contoso", &seq, prev), 0);
		assert_int_equal(seq, i - 1);
		mk_audit(&a, "contoso", i, prev);
		fmt(details, sizeof(details), "{\"n\":%lld}", (long long)i);
		a.details = details;
		assert_int_equal(store_audit_insert(tx, &a), 0);
	}
	/* (chain, seq) and id are unique. */
	assert_int_equal(store_audit_insert(tx, &a), LB_ERR_ALREADY_EXISTS);
	mk_audit(&a, "contoso", 150, zeros);
	copy(a.id, sizeof(a.id), "fresh-id");
	assert_int_equal(store_audit_insert(tx, &a), LB_ERR_ALREADY_EXISTS);
	mk_audit(&a, "contoso", 151, zeros);
	copy(a.id, sizeof(a.id), "aud-contoso-3");
	assert_int_equal(store_audit_insert(tx, &a), LB_ERR_ALREADY_EXISTS);
	/* The provider chain ("") is separate. */
	mk_audit(&a, "", 1, zeros);
	assert_int_equal(store_audit_insert(tx, &a), 0);
	assert_int_equal(store_audit_head(tx, "", &seq, prev), 0);
	assert_int_equal(seq, 1);
	assert_string_equal(prev, a.hash);
	assert_int_equal(store_commit(tx), 0);

	tx = rbegin(fx);
	assert_int_equal(store_audit_head(tx, "contoso", &seq, prev), 0);
	assert_int_equal(seq, 150);
	mk_audit(&a, "contoso", 150, zeros);
	assert_string_equal(prev, a.hash);
	assert_int_equal(store_audit_scan(tx, "contoso", 1, 0, audit_cb, s), 0);
	assert_int_equal(s->n, 150);
	for (size_t i = 0; i < s->n; i++)
		assert_int_equal(s->seqs[i], (int64_t)i + 1);
	assert_string_equal(s->last_details, "{\"n\":150}");
	s->n = 0;
	assert_int_equal(store_audit_scan(tx, "contoso", 60, 70, audit_cb, s), 0);
	assert_int_equal(s->n, 70);
	assert_int_equal(s->seqs[0], 60);
	assert_int_equal(s->seqs[69], 129);
	s->n = 0;
	s->stop_at = 3;
	assert_int_equal(store_audit_scan(tx, "contoso", 0, 0, audit_cb, s), -99);
	assert_int_equal(s->n, 3);
	s->n = 0;
	s->stop_at = 0;
	assert_int_equal(store_audit_scan(tx, "", 1, 0, audit_cb, s), 0);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->last_details, "");       /* NULL stored as "" */
	assert_int_equal(store_audit_scan(tx, "nobody", 1, 0, audit_cb, s), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(store_audit_insert(tx, &a), LB_ERR_INTERNAL);  /* read tx */
	store_rollback(tx);
	free(s);
}

/* --------------------------------------------------------------- outbox */

struct orows {
	char ids[16][LB_REQID_MAX + 1];
	char payload[16][64];
	size_t n;
};

static int
outbox_cb(void *ctx, const struct lb_outbox_row *row)
{
	struct orows *o = ctx;

	assert_true(o->n < 16);
	copy(o->ids[o->n], sizeof(o->ids[0]), row->id);
	copy(o->payload[o->n], sizeof(o->payload[0]), row->payload);
	o->n++;
	return 0;
}

static void
mk_outbox(struct lb_outbox_row *o, const char *id, const char *tenant, int64_t created,
    int64_t next)
{
	memset(o, 0, sizeof(*o));
	copy(o->id, sizeof(o->id), id);
	copy(o->tenant, sizeof(o->tenant), tenant);
	copy(o->channel, sizeof(o->channel), "email");
	copy(o->recipient, sizeof(o->recipient), "lb@contoso.example");
	copy(o->topic, sizeof(o->topic), "request.created");
	o->payload = (char *)(uintptr_t)"{\"id\":\"req1\"}";
	copy(o->status, sizeof(o->status), "pending");
	o->created_ms = created;
	o->next_attempt_ms = next;
}

static void
test_outbox(void **state)
{
	struct fx *fx = *state;
	struct lb_outbox_row o;
	struct orows rows;
	struct lb_tx *tx = wbegin(fx);
	bool more = true;

	mk_outbox(&o, "ob3", "contoso", 300, 300);
	assert_int_equal(store_outbox_insert(tx, &o), 0);
	mk_outbox(&o, "ob1", "contoso", 100, 100);
	assert_int_equal(store_outbox_insert(tx, &o), 0);
	assert_int_equal(store_outbox_insert(tx, &o), LB_ERR_ALREADY_EXISTS);
	mk_outbox(&o, "ob2", "", 200, 5000);
	assert_int_equal(store_outbox_insert(tx, &o), 0);
	mk_outbox(&o, "ob4", "fabrikam", 400, 400);
	assert_int_equal(store_outbox_insert(tx, &o), 0);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_due(tx, 1000, 10, outbox_cb, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.ids[0], "ob1");
	assert_string_equal(rows.ids[1], "ob3");
	assert_string_equal(rows.ids[2], "ob4");
	assert_string_equal(rows.payload[0], "{\"id\":\"req1\"}");
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_due(tx, 1000, 1, outbox_cb, &rows), 0);
	assert_int_equal(rows.n, 1);

	/* Delivered and retried rows leave the due set. */
	mk_outbox(&o, "ob1", "contoso", 100, 100);
	copy(o.status, sizeof(o.status), "delivered");
	o.attempts = 1;
	o.delivered_ms = 150;
	assert_int_equal(store_outbox_update(tx, &o), 0);
	mk_outbox(&o, "ob3", "contoso", 300, 2000);
	o.attempts = 1;
	copy(o.last_error, sizeof(o.last_error), "connection refused");
	assert_int_equal(store_outbox_update(tx, &o), 0);
	mk_outbox(&o, "nope", "contoso", 300, 2000);
	assert_int_equal(store_outbox_update(tx, &o), LB_ERR_NOT_FOUND);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_due(tx, 1000, 10, outbox_cb, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.ids[0], "ob4");
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_due(tx, 6000, 10, outbox_cb, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_int_equal(store_commit(tx), 0);

	tx = rbegin(fx);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_list(tx, NULL, NULL, outbox_cb, &rows, &more), 0);
	assert_false(more);
	assert_int_equal(rows.n, 4);
	assert_string_equal(rows.ids[0], "ob4");
	assert_string_equal(rows.ids[3], "ob1");
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_list(tx, "contoso", NULL, outbox_cb, &rows, &more), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.ids[0], "ob3");
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_list(tx, "", NULL, outbox_cb, &rows, &more), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.ids[0], "ob2");
	struct lb_page pg = { .limit = 1 };
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_outbox_list(tx, NULL, &pg, outbox_cb, &rows, &more), 0);
	assert_true(more);
	store_rollback(tx);
}

/* ----------------------------------------------------------- concurrency */

#define NTHREADS 8
#define ROUNDS 25

struct race {
	struct fx *fx;
	pthread_mutex_t mu;
	int64_t won[NTHREADS * ROUNDS * 2];
	size_t nwon;
	int conflicts;
	int failures;
};

static void *
racer(void *arg)
{
	struct race *rc = arg;
	struct lb_request *r = malloc(sizeof(*r));
	struct lb_tx *tx;
	int err;

	if (r == NULL)
		return NULL;
	for (int i = 0; i < ROUNDS; i++) {
		/* Read the version in one transaction, write in another. */
		if (store_begin(rc->fx->st, false, &tx) != 0 ||
		    store_request_get(tx, "hot", r) != 0) {
			store_rollback(tx);
			goto fail;
		}
		store_rollback(tx);
		int64_t v = r->version;
		r->access_starts_ms = v;
		if (store_begin(rc->fx->st, true, &tx) != 0)
			goto fail;
		err = store_request_update(tx, r, v);
		if (err == 0)
			err = store_commit(tx);
		else
			store_rollback(tx);
		pthread_mutex_lock(&rc->mu);
		if (err == 0)
			rc->won[rc->nwon++] = v;
		else if (err == LB_ERR_CONFLICT)
			rc->conflicts++;
		else
			rc->failures++;
		pthread_mutex_unlock(&rc->mu);

		/* Read and write in one write transaction: never a conflict. */
		if (store_begin(rc->fx->st, true, &tx) != 0)
			goto fail;
		if (store_request_get(tx, "hot", r) != 0 ||
		    store_request_update(tx, r, r->version) != 0) {
			store_rollback(tx);
			goto fail;
		}
		v = r->version;
		err = store_commit(tx);
		pthread_mutex_lock(&rc->mu);
		if (err == 0)
			rc->won[rc->nwon++] = v;
		else
			rc->failures++;
		pthread_mutex_unlock(&rc->mu);
	}
	free(r);
	return NULL;
fail:
	pthread_mutex_lock(&rc->mu);
	rc->failures++;
	pthread_mutex_unlock(&rc->mu);
	free(r);
	return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
test_concurrent_updates(void **state)
{
	struct fx *fx = *state;
	struct race *rc = calloc(1, sizeof(*rc));
	struct lb_request *r = calloc(1, sizeof(*r)), *got;
	pthread_t th[NTHREADS];

	assert_non_null(rc);
	assert_non_null(r);
	rc->fx = fx;
	pthread_mutex_init(&rc->mu, NULL);
	add_tenant(fx, "contoso");
	mk_request(r, "hot", "contoso", "eng1", 1000, LB_ST_PENDING);
	insert_request(fx, r);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, rc), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(rc->failures, 0);
	assert_int_equal(rc->nwon + (size_t)rc->conflicts, NTHREADS * ROUNDS * 2);
	assert_true(rc->nwon >= NTHREADS * ROUNDS);
	/* Exactly one winner per version: the winning versions are 1..n. */
	qsort(rc->won, rc->nwon, sizeof(rc->won[0]), cmp_i64);
	for (size_t i = 0; i < rc->nwon; i++)
		assert_int_equal(rc->won[i], (int64_t)i + 1);
	got = get_request(fx, "hot");
	assert_int_equal(got->version, (int64_t)rc->nwon + 1);
	free(got);
	free(r);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
}

struct reader_arg {
	struct fx *fx;
	int ok;
};

static void *
reader(void *arg)
{
	struct reader_arg *ra = arg;
	struct lb_tx *tx = NULL;
	char v[16];

	for (int i = 0; i < 20; i++) {
		if (store_begin(ra->fx->st, false, &tx) != 0)
			return NULL;
		/* The writer's uncommitted row is invisible; the old one is there. */
		if (store_meta_get(tx, "pending", v, sizeof(v)) == LB_ERR_NOT_FOUND &&
		    store_meta_get(tx, "old", v, sizeof(v)) == 0)
			ra->ok++;
		store_rollback(tx);
	}
	return NULL;
}

static void
test_readers_beside_writer(void **state)
{
	struct fx *fx = *state;
	struct lb_tx *w, *snap, *tx;
	struct reader_arg ra[NTHREADS];
	pthread_t th[NTHREADS];
	char v[16];

	tx = wbegin(fx);
	assert_int_equal(store_meta_put(tx, "old", "1"), 0);
	assert_int_equal(store_commit(tx), 0);

	/* A snapshot taken before the write keeps seeing the old state. */
	snap = rbegin(fx);
	assert_int_equal(store_meta_get(snap, "old", v, sizeof(v)), 0);

	w = wbegin(fx);
	assert_int_equal(store_meta_put(w, "pending", "1"), 0);
	/* More reader threads than pooled connections: they take turns. */
	for (int i = 0; i < NTHREADS; i++) {
		ra[i].fx = fx;
		ra[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(ra[i].ok, 20);
	}
	assert_int_equal(store_commit(w), 0);

	assert_int_equal(store_meta_get(snap, "pending", v, sizeof(v)), LB_ERR_NOT_FOUND);
	assert_int_equal(store_commit(snap), 0);
	tx = rbegin(fx);
	assert_int_equal(store_meta_get(tx, "pending", v, sizeof(v)), 0);
	store_rollback(tx);
}

/* ------------------------------------------------------------------ faults */

static void *
try_write(void *arg)
{
	struct fx *fx = arg;
	struct lb_tx *tx = NULL;
	int err = store_begin(fx->st, true, &tx);

	if (err == 0)
		store_rollback(tx);
	return (void *)(intptr_t)err;
}

static void
test_fault_locked(void **state)
{
	struct fx *fx = *state;
	struct lb_tx *tx = NULL, *r[LB_SQLITE_READERS];
	sqlite3 *db;
	pthread_t th;
	void *res;
	char v[16];

	lb_sqlite_set_busy_timeout(fx->st, 100);

	/* Another process holds the write lock: fail closed, then recover. */
	db = raw_open(fx);
	raw_exec(db, "BEGIN IMMEDIATE");
	raw_exec(db, "INSERT INTO meta (key, value) VALUES ('raw', '1')");
	tx = (struct lb_tx *)(uintptr_t)1;
	assert_int_equal(store_begin(fx->st, true, &tx), LB_ERR_UNAVAILABLE);
	assert_ptr_equal(tx, (struct lb_tx *)(uintptr_t)1);
	/* Readers are not blocked by it. */
	tx = rbegin(fx);
	assert_int_equal(store_meta_get(tx, "raw", v, sizeof(v)), LB_ERR_NOT_FOUND);
	assert_int_equal(store_ping(fx->st), 0);
	store_rollback(tx);
	raw_exec(db, "COMMIT");
	tx = wbegin(fx);
	assert_int_equal(store_meta_put(tx, "after", "1"), 0);
	assert_int_equal(store_commit(tx), 0);

	/* The same process's writer is busy too long: UNAVAILABLE, not a hang. */
	tx = wbegin(fx);
	assert_int_equal(pthread_create(&th, NULL, try_write, fx), 0);
	pthread_join(th, &res);
	assert_int_equal((int)(intptr_t)res, LB_ERR_UNAVAILABLE);
	/* A second write transaction on one thread would deadlock: refused. */
	struct lb_tx *tx2 = NULL;
	assert_int_equal(store_begin(fx->st, true, &tx2), LB_ERR_INTERNAL);
	assert_int_equal(store_commit(tx), 0);
	assert_int_equal(pthread_create(&th, NULL, try_write, fx), 0);
	pthread_join(th, &res);
	assert_int_equal((int)(intptr_t)res, 0);

	/* Every reader taken: the next one waits, then gives up. */
	for (int i = 0; i < LB_SQLITE_READERS; i++)
		r[i] = rbegin(fx);
	tx = (struct lb_tx *)(uintptr_t)1;
	assert_int_equal(store_begin(fx->st, false, &tx), LB_ERR_UNAVAILABLE);
	store_rollback(r[0]);
	tx = rbegin(fx);
	store_rollback(tx);
	for (int i = 1; i < LB_SQLITE_READERS; i++)
		store_rollback(r[i]);

	sqlite3_close(db);
}

/*
 * One state change as the daemon makes it: the request, its audit record
 * and its notification.  Errors are deliberately ignored until the commit,
 * as a careless caller would: the commit must still refuse.
 */
static int
composite(struct fx *fx, const char *id, int *first_err)
{
	struct lb_request *r = calloc(1, sizeof(*r));
	struct lb_audit_rec a;
	struct lb_outbox_row o;
	struct lb_tx *tx = NULL;
	char prev[65];
	int64_t seq = 0;
	int err;

	assert_non_null(r);
	*first_err = 0;
	/* Left as is when the head cannot be read (outputs only on success). */
	memset(prev, '0', 64);
	prev[64] = '\0';
	assert_int_equal(store_begin(fx->st, true, &tx), 0);
	mk_request(r, id, "contoso", "eng1", 1000, LB_ST_PENDING);
	add_decision(r, "mgr1", "provider", LB_DEC_APPROVE, 1001);
	add_decision(r, "ga1", "contoso", LB_DEC_APPROVE, 1002);
	err = store_request_insert(tx, r);
	*first_err = err;
	err = store_audit_head(tx, "contoso", &seq, prev);
	if (*first_err == 0)
		*first_err = err;
	mk_audit(&a, "contoso", seq + 1, prev);
	copy(a.id, sizeof(a.id), id);
	err = store_audit_insert(tx, &a);
	if (*first_err == 0)
		*first_err = err;
	mk_outbox(&o, id, "contoso", 1000, 1000);
	err = store_outbox_insert(tx, &o);
	if (*first_err == 0)
		*first_err = err;
	free(r);
	return store_commit(tx);
}

static void
test_fault_torture(void **state)
{
	struct fx *fx = *state;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct lb_tx *tx;
	char id[32], prev[65];
	int64_t seq = 0, expect_seq = 0;
	int failed = 0, first_err, err;

	assert_non_null(r);
	add_tenant(fx, "contoso");
	/* Fail the 1st, 2nd, ... statement step until the change gets through. */
	for (int n = 1; n < 100; n++) {
		fmt(id, sizeof(id), "torture%d", n);
		lb_sqlite_inject_fault(fx->st, n);
		err = composite(fx, id, &first_err);
		lb_sqlite_inject_fault(fx->st, 0);
		tx = rbegin(fx);
		assert_int_equal(store_audit_head(tx, "contoso", &seq, prev), 0);
		if (err == 0) {
			/* Nothing was injected: the whole change is there. */
			assert_int_equal(first_err, 0);
			assert_int_equal(store_request_get(tx, id, r), 0);
			assert_int_equal(r->ndecisions, 2);
			assert_int_equal(seq, expect_seq + 1);
			store_rollback(tx);
			break;
		}
		/* Fail closed, and nothing of the change was kept. */
		assert_int_equal(err, LB_ERR_UNAVAILABLE);
		assert_int_equal(first_err, LB_ERR_UNAVAILABLE);
		assert_int_equal(store_request_get(tx, id, r), LB_ERR_NOT_FOUND);
		assert_int_equal(seq, expect_seq);
		store_rollback(tx);
		failed++;
	}
	assert_true(failed >= 6);       /* request, 2 decisions, head, audit, outbox */
	free(r);
}

static void
test_corrupt_rows(void **state)
{
	struct fx *fx = *state;
	struct lb_tenant t;
	struct lb_request *r = calloc(1, sizeof(*r));
	struct lb_tx *tx;
	sqlite3 *db;
	char name[400];

	assert_non_null(r);
	add_tenant(fx, "contoso");
	mk_request(r, "req1", "contoso", "eng1", 1000, LB_ST_PENDING);
	insert_request(fx, r);
	mk_request(r, "req2", "contoso", "eng1", 1000, LB_ST_PENDING);
	insert_request(fx, r);
	mk_request(r, "req3", "contoso", "eng1", 1000, LB_ST_PENDING);
	insert_request(fx, r);

	db = raw_open(fx);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE tenants SET name = ?1", -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	raw_exec(db, "UPDATE requests SET status = 'bogus' WHERE id = 'req1'");
	raw_exec(db, "UPDATE requests SET resources = '[1,2' WHERE id = 'req2'");
	raw_exec(db, "UPDATE requests SET resources = '[\"a\\u0000b\"]' WHERE id = 'req3'");
	sqlite3_close(db);

	tx = rbegin(fx);
	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(store_tenant_get(tx, "contoso", &t), LB_ERR_UNAVAILABLE);
	assert_int_equal((unsigned char)t.id[0], 0x5a);        /* untouched */
	assert_int_equal(store_request_get(tx, "req1", r), LB_ERR_UNAVAILABLE);
	assert_int_equal(store_request_get(tx, "req2", r), LB_ERR_UNAVAILABLE);
	assert_int_equal(store_request_get(tx, "req3", r), LB_ERR_UNAVAILABLE);
	store_rollback(tx);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_crud, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_update_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_approval_per_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_as_of_now, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_beside_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_torture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_rows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
