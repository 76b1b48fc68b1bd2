/*
 * The SQLite backend: connections, transactions, statements and migrations.
 *
 * SQLite allows one writer at a time per database, and in WAL mode any
 * number of readers beside it, each on its own snapshot.  The backend
 * mirrors that inside the process: one writer connection, taken by at most
 * one write transaction at a time (BEGIN IMMEDIATE, so the database write
 * lock is held from the start and a write transaction never fails half way
 * for lack of it), and a small pool of reader connections for read
 * transactions.  A thread that finds the writer or every reader taken
 * waits, at most the busy timeout, then gets LB_ERR_UNAVAILABLE: the
 * daemon fails closed instead of hanging.  Another process holding the
 * database lock is waited on by SQLite's own busy timeout, with the same
 * outcome.
 *
 * The rows themselves are read and written in sqlite_objects.c,
 * sqlite_requests.c and sqlite_log.c, through the helpers defined here.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_impl.h"

/* ------------------------------------------------------------ helpers */

struct sq_tx *
sq_tx(struct lb_tx *tx)
{
	return (struct sq_tx *)(void *)tx;
}

static struct sq_store *
sq_store(struct lb_store *st)
{
	return (struct sq_store *)(void *)st;
}

int
sq_map(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return LB_ERR_ALREADY_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* The row names a parent (tenant, user, request) that is absent. */
		return LB_ERR_NOT_FOUND;
	default:
		if ((rc & 0xff) == SQLITE_NOMEM)
			return LB_ERR_NOMEM;
		return LB_ERR_UNAVAILABLE;
	}
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
deadline_after(int ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---------------------------------------------------------- statements */

int
sq_prepare(struct sq_tx *tx, const char *sql, struct sq_q *q)
{
	struct sq_conn *c = tx->conn;
	sqlite3_stmt *stmt = NULL;
	char *key = NULL;
	int err = 0;

	q->tx = tx;
	q->stmt = NULL;
	q->slot = -1;
	if (sql == NULL) {
		err = LB_ERR_INTERNAL;
		goto out;
	}
	/* A statement error may have rolled the transaction back already. */
	if (tx->failed || sqlite3_get_autocommit(c->db)) {
		tx->failed = true;
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	for (size_t i = 0; i < c->ncache; i++) {
		if (!c->cache[i].busy && strcmp(c->cache[i].sql, sql) == 0) {
			c->cache[i].busy = true;
			q->stmt = c->cache[i].stmt;
			q->slot = (int)i;
			goto out;
		}
	}
	if (c->ncache < SQ_CACHE_MAX && (key = strdup(sql)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, key ? SQLITE_PREPARE_PERSISTENT : 0,
	    &stmt, NULL) != SQLITE_OK) {
		err = sq_map(sqlite3_extended_errcode(c->db));
		goto out;
	}
	if (key != NULL) {
		c->cache[c->ncache].sql = key;
		c->cache[c->ncache].stmt = stmt;
		c->cache[c->ncache].busy = true;
		q->slot = (int)c->ncache++;
		key = NULL;
	}
	q->stmt = stmt;
	stmt = NULL;
out:
	sqlite3_finalize(stmt);
	free(key);
	return err;
}

void
sq_finish(struct sq_q *q)
{
	if (q == NULL || q->stmt == NULL)
		return;
	sqlite3_reset(q->stmt);
	sqlite3_clear_bindings(q->stmt);
	if (q->slot >= 0)
		q->tx->conn->cache[q->slot].busy = false;
	else
		sqlite3_finalize(q->stmt);
	q->stmt = NULL;
}

int
sq_step(struct sq_q *q)
{
	atomic_int *fault = &q->tx->conn->st->fault_in;
	int rc, err;

	if (atomic_load(fault) > 0 && atomic_fetch_sub(fault, 1) == 1)
		rc = SQLITE_IOERR;      /* injected: see lb_sqlite_inject_fault */
	else
		rc = sqlite3_step(q->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	err = sq_map(rc);
	/* Constraint errors undo only the statement; anything else is in doubt. */
	if (err == LB_ERR_UNAVAILABLE || err == LB_ERR_NOMEM)
		q->tx->failed = true;
	return err;
}

int
sq_exec(struct sq_q *q)
{
	int rc = sq_step(q);

	return rc == 1 ? 0 : rc;
}

int
sq_exec_sql(struct sq_tx *tx, const char *sql)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(tx, sql, &q));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_changes(const struct sq_q *q)
{
	return sqlite3_changes(sqlite3_db_handle(q->stmt));
}

static int
param(struct sq_q *q, const char *name)
{
	return sqlite3_bind_parameter_index(q->stmt, name);
}

int
sq_bind_text(struct sq_q *q, const char *name, const char *s, size_t cap)
{
	size_t len, max = cap ? cap : LB_STORE_TEXT_MAX + 1;
	int idx = param(q, name);

	if (idx == 0 || s == NULL)
		return LB_ERR_INTERNAL;
	if ((len = strnlen(s, max)) == max)
		return LB_ERR_FIELD_TOO_LONG;
	return sq_map(sqlite3_bind_text(q->stmt, idx, s, (int)len, SQLITE_STATIC));
}

int
sq_bind_i64(struct sq_q *q, const char *name, int64_t v)
{
	int idx = param(q, name);

	if (idx == 0)
		return LB_ERR_INTERNAL;
	return sq_map(sqlite3_bind_int64(q->stmt, idx, v));
}

const char *
sq_col_str(struct sq_q *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q->stmt, col);

	if (t == NULL && sqlite3_column_type(q->stmt, col) == SQLITE_NULL)
		return "";
	return (const char *)t;
}

int
sq_col_text(struct sq_q *q, int col, char *dst, size_t cap)
{
	const char *t = sq_col_str(q, col);
	size_t len;

	if (t == NULL)
		return LB_ERR_NOMEM;
	len = (size_t)sqlite3_column_bytes(q->stmt, col);
	/* Too long for the field, or an embedded NUL: the row is corrupt. */
	if (len >= cap || strlen(t) != len)
		return LB_ERR_UNAVAILABLE;
	memcpy(dst, t, len + 1);
	return 0;
}

int
sq_col_dup(struct sq_q *q, int col, char **out)
{
	const char *t = sq_col_str(q, col);
	size_t len;
	char *copy;

	if (t == NULL)
		return LB_ERR_NOMEM;
	len = (size_t)sqlite3_column_bytes(q->stmt, col);
	if (len > LB_STORE_TEXT_MAX || strlen(t) != len)
		return LB_ERR_UNAVAILABLE;
	if ((copy = malloc(len + 1)) == NULL)
		return LB_ERR_NOMEM;
	memcpy(copy, t, len + 1);
	*out = copy;
	return 0;
}

int64_t
sq_col_i64(struct sq_q *q, int col)
{
	return sqlite3_column_int64(q->stmt, col);
}

int
sq_col_int(struct sq_q *q, int col, int *out)
{
	int64_t v = sqlite3_column_int64(q->stmt, col);

	if (v < INT_MIN || v > INT_MAX)
		return LB_ERR_UNAVAILABLE;
	*out = (int)v;
	return 0;
}

int
sq_keys_collect(struct sq_q *q, size_t limit, struct sq_keys *k, bool *more)
{
	bool extra = false;
	int err = 0, rc;

	while ((rc = sq_step(q)) == 1) {
		if (k->n == limit) {
			extra = true;
			break;
		}
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 16;
			void *v = realloc(k->v, cap * sizeof(k->v[0]));

			if (v == NULL) {
				err = LB_ERR_NOMEM;
				goto out;
			}
			k->v = v;
			k->cap = cap;
		}
		SQ_TRY(sq_col_text(q, 0, k->v[k->n], sizeof(k->v[0])));
		k->n++;
	}
	if (rc < 0) {
		err = rc;
		goto out;
	}
	*more = extra;
out:
	sq_finish(q);
	return err;
}

void
sq_keys_free(struct sq_keys *k)
{
	if (k == NULL)
		return;
	free(k->v);
	k->v = NULL;
	k->n = k->cap = 0;
}

void
sq_sql_add(struct sq_sql *s, const char *frag)
{
	size_t n = strlen(frag);

	if (s->overflow || n >= sizeof(s->buf) - s->len) {
		s->overflow = true;
		return;
	}
	memcpy(s->buf + s->len, frag, n + 1);
	s->len += n;
}

const char *
sq_sql_text(const struct sq_sql *s)
{
	return s->overflow || s->len == 0 ? NULL : s->buf;
}

int
sq_bind_page(struct sq_q *q, const struct lb_page *pg, bool keyed)
{
	int err = 0;

	if (keyed) {
		SQ_TRY(sq_bind_i64(q, ":after_ms", pg->after_ms));
		SQ_TRY(sq_bind_text(q, ":after_id", pg->after_id, sizeof(pg->after_id)));
	}
	/* One more than asked for: its presence is what sets *more. */
	err = sq_bind_i64(q, ":lim", (int64_t)pg->limit + 1);
out:
	return err;
}

/* --------------------------------------------------------- connections */

static void
conn_close(struct sq_conn *c)
{
	for (size_t i = 0; i < c->ncache; i++) {
		sqlite3_finalize(c->cache[i].stmt);
		free(c->cache[i].sql);
	}
	c->ncache = 0;
	sqlite3_close_v2(c->db);
	c->db = NULL;
}

/* A pragma whose answer must be `want` (e.g. journal_mode). */
static int
pragma_expect(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *v;
	int err = LB_ERR_UNAVAILABLE;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	v = sqlite3_column_text(stmt, 0);
	if (v != NULL && strcmp((const char *)v, want) == 0)
		err = 0;
out:
	sqlite3_finalize(stmt);
	return err;
}

static int
conn_open(struct sq_store *st, struct sq_conn *c, const char *path, bool writer)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int err = LB_ERR_UNAVAILABLE;

	c->st = st;
	c->tx.conn = c;
	c->tx.base.ops = &lb_sqlite_ops;
	if (writer)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
		goto out;
	sqlite3_extended_result_codes(c->db, 1);
	if (sqlite3_busy_timeout(c->db, st->busy_ms) != SQLITE_OK)
		goto out;
	/* journal_mode is a property of the database file; the writer sets it. */
	if (writer && pragma_expect(c->db, "PRAGMA journal_mode=WAL", "wal") != 0)
		goto out;
	if (sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA trusted_schema=OFF", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	/*
	 * The writer never checkpoints inside a commit: a checkpoint copies
	 * the WAL into the database and syncs it, which would stall every
	 * decision waiting on that commit.  The checkpointer thread does it.
	 */
	if (writer && sqlite3_exec(c->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto out;
	/* Readers refuse writes outright; store.c already refuses them. */
	if (!writer && sqlite3_exec(c->db, "PRAGMA query_only=ON", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	err = 0;
out:
	return err;
}

/* ----------------------------------------------------------- migrations */

static int
schema_version_of(sqlite3 *db, int *out)
{
	sqlite3_stmt *stmt = NULL;
	int err = LB_ERR_UNAVAILABLE;
	int64_t v;

	if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
	    -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	v = sqlite3_column_int64(stmt, 0);
	if (v < 0 || v > INT_MAX)
		goto out;
	*out = (int)v;
	err = 0;
out:
	sqlite3_finalize(stmt);
	return err;
}

static int
record_migration(sqlite3 *db, const struct lb_store_migration *m)
{
	sqlite3_stmt *stmt = NULL;
	int err = LB_ERR_UNAVAILABLE;

	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (version, description,"
	    " applied_ms) VALUES (?1, ?2, ?3)", -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_bind_int(stmt, 1, m->version) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, m->description, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, wall_ms()) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_DONE)
		goto out;
	err = 0;
out:
	sqlite3_finalize(stmt);
	return err;
}

/*
 * Applies one migration unless the database has it.  The version is read
 * again under the write lock, so two processes opening a new database at
 * once apply each migration exactly once.
 */
static int
migrate_one(sqlite3 *db, const struct lb_store_migration *m)
{
	int cur = 0, err = LB_ERR_UNAVAILABLE;
	bool open = false;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	open = true;
	if ((err = schema_version_of(db, &cur)) != 0)
		goto out;
	if (cur > lb_store_schema_latest()) {
		/* Written by a newer lockboxd: refuse rather than guess. */
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	if (cur < m->version) {
		err = LB_ERR_UNAVAILABLE;
		for (const char *const *s = m->stmts; *s != NULL; s++)
			if (sqlite3_exec(db, *s, NULL, NULL, NULL) != SQLITE_OK)
				goto out;
		if ((err = record_migration(db, m)) != 0)
			goto out;
	}
	err = LB_ERR_UNAVAILABLE;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	open = false;
	err = 0;
out:
	if (open)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static int
migrate(sqlite3 *db)
{
	int err = LB_ERR_UNAVAILABLE;

	if (sqlite3_exec(db, lb_store_migrations_table_sql, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < lb_store_nmigrations; i++)
		SQ_TRY(migrate_one(db, &lb_store_migrations[i]));
	err = 0;
out:
	return err;
}

/* ------------------------------------------------------------ lifecycle */

#define CKPT_INTERVAL_MS 250

/*
 * Checkpoints the WAL every CKPT_INTERVAL_MS on its own connection,
 * PASSIVE: it never waits for readers or the writer, and copies what it
 * can.  SQLite restarts the WAL from the start once a checkpoint has
 * copied everything and no reader needs the old frames.
 */
static void *
ckpt_main(void *arg)
{
	struct sq_store *st = arg;

	pthread_mutex_lock(&st->mu);
	while (!st->ckpt_stop) {
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += CKPT_INTERVAL_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&st->ckpt_cv, &st->mu, &dl);
		if (st->ckpt_stop)
			break;
		pthread_mutex_unlock(&st->mu);
		sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

static int
ckpt_start(struct sq_store *st, const char *path)
{
	pthread_condattr_t attr;

	if (sqlite3_open_v2(path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK)
		return LB_ERR_UNAVAILABLE;
	sqlite3_busy_timeout(st->ckpt_db, 100);
	if (pthread_condattr_init(&attr) != 0)
		return LB_ERR_NOMEM;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&st->ckpt_cv, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return LB_ERR_NOMEM;
	if (pthread_create(&st->ckpt_thread, NULL, ckpt_main, st) != 0) {
		pthread_cond_destroy(&st->ckpt_cv);
		return LB_ERR_INTERNAL;
	}
	st->ckpt_running = true;
	return 0;
}

static void
ckpt_stop(struct sq_store *st)
{
	if (st->ckpt_running) {
		pthread_mutex_lock(&st->mu);
		st->ckpt_stop = true;
		pthread_cond_signal(&st->ckpt_cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->ckpt_thread, NULL);
		pthread_cond_destroy(&st->ckpt_cv);
		st->ckpt_running = false;
	}
	if (st->ckpt_db != NULL) {
		/* A last checkpoint, so the database file holds what it can. */
		sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		sqlite3_close_v2(st->ckpt_db);
		st->ckpt_db = NULL;
	}
}

static void
sq_close(struct lb_store *base)
{
	struct sq_store *st = sq_store(base);

	if (st == NULL)
		return;
	ckpt_stop(st);
	for (size_t i = 0; i < SQ_READERS; i++)
		conn_close(&st->readers[i]);
	conn_close(&st->writer);
	pthread_cond_destroy(&st->reader_cv);
	pthread_cond_destroy(&st->writer_cv);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

static int
sync_init(struct sq_store *st)
{
	pthread_condattr_t attr;
	int err = LB_ERR_UNAVAILABLE;

	if (pthread_condattr_init(&attr) != 0)
		return LB_ERR_NOMEM;
	/* Waits are timed against the monotonic clock, immune to clock steps. */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0)
		goto out;
	if (pthread_mutex_init(&st->mu, NULL) != 0)
		goto out;
	if (pthread_cond_init(&st->writer_cv, &attr) != 0) {
		pthread_mutex_destroy(&st->mu);
		goto out;
	}
	if (pthread_cond_init(&st->reader_cv, &attr) != 0) {
		pthread_cond_destroy(&st->writer_cv);
		pthread_mutex_destroy(&st->mu);
		goto out;
	}
	err = 0;
out:
	pthread_condattr_destroy(&attr);
	return err;
}

static int
sq_open(const char *path, struct lb_store **out)
{
	struct sq_store *st = NULL;
	int err = LB_ERR_UNAVAILABLE;

	/* The pool hands connections between threads: SQLite must allow it. */
	if (sqlite3_threadsafe() == 0)
		goto out;
	/* Every connection to ":memory:" would be a different database. */
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0) {
		err = LB_ERR_INVALID_VALUE;
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if ((err = sync_init(st)) != 0) {
		free(st);
		st = NULL;
		goto out;
	}
	st->base.ops = &lb_sqlite_ops;
	st->busy_ms = SQ_BUSY_MS;
	SQ_TRY(conn_open(st, &st->writer, path, true));
	st->writer.tx.base.write = true;
	SQ_TRY(migrate(st->writer.db));
	for (size_t i = 0; i < SQ_READERS; i++)
		SQ_TRY(conn_open(st, &st->readers[i], path, false));
	SQ_TRY(ckpt_start(st, path));
	*out = &st->base;
	st = NULL;
out:
	if (st != NULL)
		sq_close(&st->base);
	return err;
}

void
lb_sqlite_set_busy_timeout(struct lb_store *base, int ms)
{
	struct sq_store *st;

	if (base == NULL || base->ops != &lb_sqlite_ops || ms < 0)
		return;
	st = sq_store(base);
	pthread_mutex_lock(&st->mu);
	st->busy_ms = ms;
	sqlite3_busy_timeout(st->writer.db, ms);
	for (size_t i = 0; i < SQ_READERS; i++)
		sqlite3_busy_timeout(st->readers[i].db, ms);
	pthread_mutex_unlock(&st->mu);
}

void
lb_sqlite_inject_fault(struct lb_store *base, int nth)
{
	if (base == NULL || base->ops != &lb_sqlite_ops)
		return;
	atomic_store(&sq_store(base)->fault_in, nth > 0 ? nth : 0);
}

/* --------------------------------------------------------- transactions */

/* Takes the writer connection, waiting at most busy_ms for it. */
static int
take_writer(struct sq_store *st, struct sq_conn **out)
{
	struct timespec dl;
	int err = 0;

	pthread_mutex_lock(&st->mu);
	/* A second write transaction on this thread would wait for itself. */
	if (st->writer_busy && pthread_equal(st->writer_owner, pthread_self())) {
		err = LB_ERR_INTERNAL;
		goto out;
	}
	deadline_after(st->busy_ms, &dl);
	while (st->writer_busy) {
		if (pthread_cond_timedwait(&st->writer_cv, &st->mu, &dl) == ETIMEDOUT &&
		    st->writer_busy) {
			err = LB_ERR_UNAVAILABLE;
			goto out;
		}
	}
	st->writer_busy = true;
	st->writer_owner = pthread_self();
	*out = &st->writer;
out:
	pthread_mutex_unlock(&st->mu);
	return err;
}

/* Takes a free reader connection, waiting at most busy_ms for one. */
static int
take_reader(struct sq_store *st, struct sq_conn **out)
{
	struct timespec dl;
	int err = 0;

	pthread_mutex_lock(&st->mu);
	deadline_after(st->busy_ms, &dl);
	for (;;) {
		for (size_t i = 0; i < SQ_READERS; i++) {
			if (!st->readers[i].in_use) {
				st->readers[i].in_use = true;
				*out = &st->readers[i];
				goto out;
			}
		}
		if (pthread_cond_timedwait(&st->reader_cv, &st->mu, &dl) == ETIMEDOUT) {
			err = LB_ERR_UNAVAILABLE;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&st->mu);
	return err;
}

static void
give_back(struct sq_conn *c)
{
	struct sq_store *st = c->st;

	pthread_mutex_lock(&st->mu);
	if (c == &st->writer) {
		st->writer_busy = false;
		pthread_cond_signal(&st->writer_cv);
	} else {
		c->in_use = false;
		pthread_cond_signal(&st->reader_cv);
	}
	pthread_mutex_unlock(&st->mu);
}

static int
sq_begin(struct lb_store *base, bool write, struct lb_tx **out)
{
	struct sq_store *st = sq_store(base);
	struct sq_conn *c = NULL;
	int err;

	SQ_TRY(write ? take_writer(st, &c) : take_reader(st, &c));
	/*
	 * BEGIN IMMEDIATE takes the database write lock now (waiting up to the
	 * busy timeout for another process).  A reader's BEGIN is deferred: its
	 * snapshot is fixed by its first read and kept until it ends.
	 */
	if (sqlite3_exec(c->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL,
	    NULL) != SQLITE_OK) {
		err = sq_map(sqlite3_extended_errcode(c->db));
		if (err == 0 || err == LB_ERR_ALREADY_EXISTS || err == LB_ERR_NOT_FOUND)
			err = LB_ERR_UNAVAILABLE;
		give_back(c);
		goto out;
	}
	c->tx.failed = false;
	c->tx.base.write = write;
	*out = &c->tx.base;
out:
	return err;
}

/* Ends whatever transaction the connection still has open. */
static void
end_quietly(struct sq_conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
sq_commit(struct lb_tx *base)
{
	struct sq_tx *tx = sq_tx(base);
	struct sq_conn *c = tx->conn;
	int err = LB_ERR_UNAVAILABLE;

	/* A failed or already rolled back transaction never commits. */
	if (tx->failed || sqlite3_get_autocommit(c->db))
		goto out;
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	err = 0;
out:
	end_quietly(c);
	give_back(c);
	return err;
}

static void
sq_rollback(struct lb_tx *base)
{
	struct sq_conn *c = sq_tx(base)->conn;

	end_quietly(c);
	give_back(c);
}

/* One integer from `sql` in its own read transaction (ping, version). */
static int
one_read(struct lb_store *base, const char *sql, int64_t *out)
{
	struct lb_tx *tx = NULL;
	struct sq_q q = { 0 };
	int err, rc;

	SQ_TRY(sq_begin(base, false, &tx));
	SQ_TRY(sq_prepare(sq_tx(tx), sql, &q));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_UNAVAILABLE;
		goto out;
	}
	*out = sq_col_i64(&q, 0);
out:
	sq_finish(&q);
	if (tx != NULL) {
		int cerr = sq_commit(tx);

		if (err == 0)
			err = cerr;
	}
	return err;
}

static int
sq_ping(struct lb_store *base)
{
	int64_t v;

	return one_read(base, "SELECT COUNT(*) FROM schema_migrations", &v);
}

static int
sq_schema_version(struct lb_store *base)
{
	int64_t v = 0;
	int err = one_read(base, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &v);

	if (err != 0)
		return err;
	if (v < 0 || v > INT_MAX)
		return LB_ERR_UNAVAILABLE;
	return (int)v;
}

/* ------------------------------------------------------------ the table */

const struct lb_store_ops lb_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.ping = sq_ping,
	.schema_version = sq_schema_version,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.meta_get = sq_meta_get,
	.meta_put = sq_meta_put,
	.tenant_insert = sq_tenant_insert,
	.tenant_get = sq_tenant_get,
	.tenant_list = sq_tenant_list,
	.settings_get = sq_settings_get,
	.settings_put = sq_settings_put,
	.provider_settings_get = sq_provider_settings_get,
	.provider_settings_put = sq_provider_settings_put,
	.user_insert = sq_user_insert,
	.user_get = sq_user_get,
	.user_list = sq_user_list,
	.token_insert = sq_token_insert,
	.token_find = sq_token_find,
	.token_get = sq_token_get,
	.token_revoke = sq_token_revoke,
	.token_list = sq_token_list,
	.case_insert = sq_case_insert,
	.case_get = sq_case_get,
	.case_update = sq_case_update,
	.case_list = sq_case_list,
	.request_insert = sq_request_insert,
	.request_get = sq_request_get,
	.request_update = sq_request_update,
	.request_list = sq_request_list,
	.request_count = sq_request_count,
	.audit_head = sq_audit_head,
	.audit_insert = sq_audit_insert,
	.audit_scan = sq_audit_scan,
	.audit_search = sq_audit_search,
	.audit_count = sq_audit_count,
	.audit_chains = sq_audit_chains,
	.audit_first_seq = sq_audit_first_seq,
	.audit_last_before = sq_audit_last_before,
	.audit_purge = sq_audit_purge,
	.checkpoint_insert = sq_checkpoint_insert,
	.checkpoint_list = sq_checkpoint_list,
	.checkpoint_latest = sq_checkpoint_latest,
	.outbox_insert = sq_outbox_insert,
	.outbox_due = sq_outbox_due,
	.outbox_update = sq_outbox_update,
	.outbox_list = sq_outbox_list,
	.receipt_add = sq_receipt_add,
	.receipt_list = sq_receipt_list,
	.outbox_put = sq_outbox_put,
	.outbox_get = sq_outbox_get,
	.outbox_due_channel = sq_outbox_due_channel,
	.outbox_find = sq_outbox_find,
	.outbox_counts = sq_outbox_counts,
	.outbox_overdue_due = sq_outbox_overdue_due,
	.outbox_mark_overdue = sq_outbox_mark_overdue,
	.reminder_due = sq_reminder_due,
	.reminder_put = sq_reminder_put,
	.webhook_insert = sq_webhook_insert,
	.webhook_get = sq_webhook_get,
	.webhook_delete = sq_webhook_delete,
	.webhook_list = sq_webhook_list,
	.webhook_count = sq_webhook_count,
	.incident_insert = sq_incident_insert,
	.incident_get = sq_incident_get,
	.incident_update = sq_incident_update,
	.incident_list = sq_incident_list,
	.emergency_insert = sq_emergency_insert,
	.emergency_get = sq_emergency_get,
	.emergency_update = sq_emergency_update,
	.emergency_list = sq_emergency_list,
	.emergency_count_since = sq_emergency_count_since,
	.emergency_notice_link = sq_emergency_notice_link,
	.emergency_notice_state = sq_emergency_notice_state,
	.session_insert = sq_session_insert,
	.session_find = sq_session_find,
	.session_touch = sq_session_touch,
	.session_end = sq_session_end,
	.session_end_user = sq_session_end_user,
	.session_prune = sq_session_prune,
	.password_put = sq_password_put,
	.password_get = sq_password_get,
};
