/*
 * SQLite rows for reading the audit chains back: search and count with
 * optional filters, the list of chains, the bounds retention needs, the
 * purge itself, and the signed checkpoints of each chain.
 *
 * A search is one chain, newest first (seq DESC), keyset-paged on seq.
 * Its SQL is assembled from constant fragments chosen by which filters are
 * present; every value is bound.  Like every list here it collects the
 * keys of one page first (seqs, limit + 1 of them, to learn whether
 * another page exists), releases the statement, then loads each record by
 * its primary key and calls back, so a callback may use the transaction
 * freely.  Checkpoint lists read batches in the same way.  Which index
 * serves which query is in docs/internals/store.md.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_impl.h"

#define CHECKPOINT_BATCH 256
#define CHECKPOINT_COLS "chain, seq, head_hash, time_ms, kid, sig, anchor"

/* Seqs collected by a search before its records are loaded. */
struct seqs {
	int64_t *v;
	size_t n, cap;
};

/*
 * Appends the WHERE fragments of the filters present in `f`.  A search
 * (paged) writes its time bounds on "+time_ms", which keeps the planner
 * off the time indexes: read through them, every record of the window
 * would be sorted by seq before the first page came out (a month of a busy
 * tenant is millions), whereas walking a (chain, ..., seq) index newest
 * first stops after one page of matches.  A count wants the time indexes.
 */
static void
filter_sql(struct sq_sql *sql, const struct lb_audit_filter *f, bool paged)
{
	sq_sql_add(sql, " WHERE chain = :chain");
	if (f->start_ms > 0)
		sq_sql_add(sql, paged ? " AND +time_ms >= :start" : " AND time_ms >= :start");
	if (f->end_ms > 0)
		sq_sql_add(sql, paged ? " AND +time_ms < :end" : " AND time_ms < :end");
	if (f->record_type != NULL)
		sq_sql_add(sql, " AND record_type = :record_type");
	if (f->operation != NULL)
		sq_sql_add(sql, " AND operation = :operation");
	if (f->actor != NULL)
		sq_sql_add(sql, " AND actor_id = :actor");
	if (f->object != NULL)
		sq_sql_add(sql, " AND object_id = :object");
	if (f->result != NULL)
		sq_sql_add(sql, " AND result = :result");
	if (paged && f->before_seq > 0)
		sq_sql_add(sql, " AND seq < :before");
}

/* Binds the values of the fragments filter_sql chose. */
static int
filter_bind(struct sq_q *q, const struct lb_audit_filter *f, bool paged)
{
	int err;

	SQ_TRY(sq_bind_text(q, ":chain", f->chain, 0));
	if (f->start_ms > 0)
		SQ_TRY(sq_bind_i64(q, ":start", f->start_ms));
	if (f->end_ms > 0)
		SQ_TRY(sq_bind_i64(q, ":end", f->end_ms));
	if (f->record_type != NULL)
		SQ_TRY(sq_bind_text(q, ":record_type", f->record_type, 0));
	if (f->operation != NULL)
		SQ_TRY(sq_bind_text(q, ":operation", f->operation, 0));
	if (f->actor != NULL)
		SQ_TRY(sq_bind_text(q, ":actor", f->actor, 0));
	if (f->object != NULL)
		SQ_TRY(sq_bind_text(q, ":object", f->object, 0));
	if (f->result != NULL)
		SQ_TRY(sq_bind_text(q, ":result", f->result, 0));
	if (paged && f->before_seq > 0)
		SQ_TRY(sq_bind_i64(q, ":before", f->before_seq));
out:
	return err;
}

/* Steps `q` (one seq in column 0), keeping up to `limit`; finishes `q`. */
static int
seqs_collect(struct sq_q *q, size_t limit, struct seqs *s, bool *more)
{
	bool extra = false;
	int err = 0, rc;

	while ((rc = sq_step(q)) == 1) {
		if (s->n == limit) {
			extra = true;
			break;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			int64_t *v = realloc(s->v, cap * sizeof(*v));

			if (v == NULL) {
				err = LB_ERR_NOMEM;
				goto out;
			}
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = sq_col_i64(q, 0);
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

/* Loads record (chain, seq); on success r->details is malloc'd. */
static int
audit_get(struct sq_tx *tx, const char *chain, int64_t seq, struct lb_audit_rec *out)
{
	struct sq_q q = { 0 };
	struct lb_audit_rec r;
	int err, rc;

	memset(&r, 0, sizeof(r));
	SQ_TRY(sq_prepare(tx, "SELECT " SQ_AUDIT_COLS " FROM audit WHERE chain = :chain"
	    " AND seq = :seq", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	SQ_TRY(sq_bind_i64(&q, ":seq", seq));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_row_audit(&q, &r));
	*out = r;
out:
	sq_finish(&q);
	return err;
}

int
sq_audit_search(struct lb_tx *base, const struct lb_audit_filter *f, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx, bool *more)
{
	struct sq_q q = { 0 };
	struct sq_sql sql = { .len = 0 };
	struct seqs s = { 0 };
	struct lb_audit_rec r;
	bool m = false;
	int err;

	sq_sql_add(&sql, "SELECT seq FROM audit");
	filter_sql(&sql, f, true);
	sq_sql_add(&sql, " ORDER BY seq DESC LIMIT :lim");
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	SQ_TRY(filter_bind(&q, f, true));
	SQ_TRY(sq_bind_i64(&q, ":lim", (int64_t)limit + 1));
	SQ_TRY(seqs_collect(&q, limit, &s, &m));
	for (size_t i = 0; i < s.n; i++) {
		/* Purged meanwhile by this same transaction's callback: skip it. */
		if ((err = audit_get(sq_tx(base), f->chain, s.v[i], &r)) == LB_ERR_NOT_FOUND)
			continue;
		if (err != 0)
			goto out;
		err = each(ctx, &r);
		free(r.details);
		if (err != 0)
			goto out;
	}
	*more = m;
	err = 0;
out:
	sq_finish(&q);
	free(s.v);
	return err;
}

int
sq_audit_count(struct lb_tx *base, const struct lb_audit_filter *f, uint64_t *out)
{
	struct sq_q q = { 0 };
	struct sq_sql sql = { .len = 0 };
	int64_t n;
	int err, rc;

	sq_sql_add(&sql, "SELECT COUNT(*) FROM audit");
	filter_sql(&sql, f, false);
	SQ_TRY(sq_prepare(sq_tx(base), sq_sql_text(&sql), &q));
	SQ_TRY(filter_bind(&q, f, false));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_UNAVAILABLE;
		goto out;
	}
	if ((n = sq_col_i64(&q, 0)) < 0) {
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	*out = (uint64_t)n;
out:
	sq_finish(&q);
	return err;
}

/*
 * Each chain is found by one probe of the (chain, seq) key for the next
 * chain name above the previous one, so listing the chains costs one
 * probe per chain rather than a scan of every record (which a DISTINCT
 * would be).  The names are collected first, then called back.
 */
int
sq_audit_chains(struct lb_tx *base, int (*each)(void *ctx, const char *chain), void *ctx)
{
	struct sq_q q = { 0 };
	struct sq_keys k = { 0 };
	int err = 0, rc;

	for (;;) {
		if (k.n == 0) {
			SQ_TRY(sq_prepare(sq_tx(base), "SELECT chain FROM audit"
			    " ORDER BY chain LIMIT 1", &q));
		} else {
			SQ_TRY(sq_prepare(sq_tx(base), "SELECT chain FROM audit"
			    " WHERE chain > :prev ORDER BY chain LIMIT 1", &q));
			SQ_TRY(sq_bind_text(&q, ":prev", k.v[k.n - 1], 0));
		}
		if ((rc = sq_step(&q)) < 0) {
			err = rc;
			goto out;
		}
		if (rc == 0)
			break;
		if (k.n == k.cap) {
			size_t cap = k.cap ? k.cap * 2 : 16;
			void *v = realloc(k.v, cap * sizeof(k.v[0]));

			if (v == NULL) {
				err = LB_ERR_NOMEM;
				goto out;
			}
			k.v = v;
			k.cap = cap;
		}
		SQ_TRY(sq_col_text(&q, 0, k.v[k.n], sizeof(k.v[0])));
		k.n++;
		sq_finish(&q);
	}
	sq_finish(&q);
	for (size_t i = 0; i < k.n; i++)
		if ((err = each(ctx, k.v[i])) != 0)
			goto out;
out:
	sq_finish(&q);
	sq_keys_free(&k);
	return err;
}

/* One optional integer from a query on `chain` and one more i64 parameter. */
static int
one_i64(struct sq_tx *tx, const char *sql, const char *chain, const char *pname,
    int64_t pval, int64_t *out)
{
	struct sq_q q = { 0 };
	int64_t v = 0;
	int err, rc;

	SQ_TRY(sq_prepare(tx, sql, &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	if (pname != NULL)
		SQ_TRY(sq_bind_i64(&q, pname, pval));
	if ((rc = sq_step(&q)) < 0) {
		err = rc;
		goto out;
	}
	/* No row, or MAX() over no row (NULL, read as 0): none. */
	if (rc == 1)
		v = sq_col_i64(&q, 0);
	*out = v;
out:
	sq_finish(&q);
	return err;
}

int
sq_audit_first_seq(struct lb_tx *base, const char *chain, int64_t *seq)
{
	return one_i64(sq_tx(base), "SELECT seq FROM audit WHERE chain = :chain"
	    " ORDER BY seq LIMIT 1", chain, NULL, 0, seq);
}

int
sq_audit_last_before(struct lb_tx *base, const char *chain, int64_t before_ms, int64_t *seq)
{
	/*
	 * MAX(seq + 0), not MAX(seq): the min/max shortcut would walk the
	 * (chain, seq) key down from the newest record, through every record
	 * retention keeps, to reach the old ones; audit_time finds them at once.
	 */
	return one_i64(sq_tx(base), "SELECT MAX(seq + 0) FROM audit WHERE chain = :chain"
	    " AND time_ms < :before", chain, ":before", before_ms, seq);
}

int
sq_audit_purge(struct lb_tx *base, const char *chain, int64_t through_seq, int64_t *deleted)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "DELETE FROM audit WHERE chain = :chain"
	    " AND seq <= :through", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	SQ_TRY(sq_bind_i64(&q, ":through", through_seq));
	SQ_TRY(sq_exec(&q));
	*deleted = sq_changes(&q);
out:
	sq_finish(&q);
	return err;
}

/* ---------------------------------------------------------- checkpoints */

int
sq_checkpoint_insert(struct lb_tx *base, const struct lb_checkpoint *cp)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO audit_checkpoints (" CHECKPOINT_COLS
	    ") VALUES (:chain, :seq, :head_hash, :time, :kid, :sig, :anchor)", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", cp->chain, sizeof(cp->chain)));
	SQ_TRY(sq_bind_i64(&q, ":seq", cp->seq));
	SQ_TRY(sq_bind_text(&q, ":head_hash", cp->head_hash, sizeof(cp->head_hash)));
	SQ_TRY(sq_bind_i64(&q, ":time", cp->time_ms));
	SQ_TRY(sq_bind_text(&q, ":kid", cp->kid, sizeof(cp->kid)));
	SQ_TRY(sq_bind_text(&q, ":sig", cp->sig, sizeof(cp->sig)));
	SQ_TRY(sq_bind_i64(&q, ":anchor", cp->anchor ? 1 : 0));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

static int
row_checkpoint(struct sq_q *q, struct lb_checkpoint *cp)
{
	int err;

	memset(cp, 0, sizeof(*cp));
	SQ_TRY(sq_col_text(q, 0, cp->chain, sizeof(cp->chain)));
	cp->seq = sq_col_i64(q, 1);
	SQ_TRY(sq_col_text(q, 2, cp->head_hash, sizeof(cp->head_hash)));
	cp->time_ms = sq_col_i64(q, 3);
	SQ_TRY(sq_col_text(q, 4, cp->kid, sizeof(cp->kid)));
	SQ_TRY(sq_col_text(q, 5, cp->sig, sizeof(cp->sig)));
	cp->anchor = sq_col_i64(q, 6) != 0;
out:
	return err;
}

/* Reads up to CHECKPOINT_BATCH checkpoints from seq `from`; *got set. */
static int
checkpoint_batch(struct sq_tx *tx, const char *chain, int64_t from, struct lb_checkpoint *b,
    size_t *got)
{
	struct sq_q q = { 0 };
	size_t n = 0;
	int err = 0, rc = 0;

	SQ_TRY(sq_prepare(tx, "SELECT " CHECKPOINT_COLS " FROM audit_checkpoints"
	    " WHERE chain = :chain AND seq >= :from ORDER BY seq LIMIT :lim", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	SQ_TRY(sq_bind_i64(&q, ":from", from));
	SQ_TRY(sq_bind_i64(&q, ":lim", CHECKPOINT_BATCH));
	while (n < CHECKPOINT_BATCH && (rc = sq_step(&q)) == 1) {
		SQ_TRY(row_checkpoint(&q, &b[n]));
		n++;
	}
	if (rc < 0) {
		err = rc;
		goto out;
	}
	*got = n;
out:
	sq_finish(&q);
	return err;
}

int
sq_checkpoint_list(struct lb_tx *base, const char *chain, int64_t from_seq,
    int (*each)(void *ctx, const struct lb_checkpoint *cp), void *ctx)
{
	struct lb_checkpoint *b;
	int64_t from = from_seq;
	size_t got;
	int err = 0;

	if ((b = calloc(CHECKPOINT_BATCH, sizeof(*b))) == NULL)
		return LB_ERR_NOMEM;
	for (;;) {
		got = 0;
		SQ_TRY(checkpoint_batch(sq_tx(base), chain, from, b, &got));
		for (size_t i = 0; i < got; i++)
			if ((err = each(ctx, &b[i])) != 0)
				goto out;
		if (got < CHECKPOINT_BATCH)
			break;
		from = b[got - 1].seq + 1;
	}
out:
	free(b);
	return err;
}

int
sq_checkpoint_latest(struct lb_tx *base, const char *chain, struct lb_checkpoint *out)
{
	struct sq_q q = { 0 };
	struct lb_checkpoint cp;
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " CHECKPOINT_COLS " FROM audit_checkpoints"
	    " WHERE chain = :chain ORDER BY seq DESC LIMIT 1", &q));
	SQ_TRY(sq_bind_text(&q, ":chain", chain, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(row_checkpoint(&q, &cp));
	*out = cp;
out:
	sq_finish(&q);
	return err;
}
