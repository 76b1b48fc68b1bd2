/*
 * The public face of the store: picks a backend from the database URL and
 * forwards every store_* call through that backend's table of function
 * pointers (struct lb_store_ops, store_impl.h).
 *
 * The checks every backend would otherwise repeat live here, once:
 * required pointers are present, a mutating call runs inside a write
 * transaction, and a page is normalised (a missing page or a limit of 0
 * means the first page of LB_PAGE_SIZE_DEFAULT items).  A caller's
 * programming error is LB_ERR_INTERNAL, never a crash.
 */
#include <stddef.h>
#include <string.h>

#include "store/store_impl.h"

struct backend {
	const char *prefix;
	const struct lb_store_ops *ops;         /* NULL: not built yet */
};

static const struct backend backends[] = {
	{ "sqlite:", &lb_sqlite_ops },
	/*
	 * PostgreSQL (SPEC 4, for several nodes) arrives in a later change as
	 * src/store/pg.c filling in the same struct lb_store_ops and running
	 * the same migrations (schema.c).  Until then such a URL is refused
	 * with LB_ERR_UNAVAILABLE rather than silently served by SQLite.
	 */
	{ "postgresql://", NULL },
	{ "postgres://", NULL },
};

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
store_open(const char *url, struct lb_store **out)
{
	const struct lb_store_ops *ops = &lb_sqlite_ops;
	const char *target = url;

	if (url == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (has_prefix(url, backends[i].prefix)) {
			if ((ops = backends[i].ops) == NULL)
				return LB_ERR_UNAVAILABLE;
			target = url + strlen(backends[i].prefix);
			/* "sqlite:///abs/path" is accepted as well as "sqlite:/abs/path". */
			if (ops == &lb_sqlite_ops && has_prefix(target, "//"))
				target += 2;
			break;
		}
	}
	/* Any other scheme is a mistake, not a file name. */
	if (target == url && strstr(url, "://") != NULL)
		return LB_ERR_INVALID_VALUE;
	if (target[0] == '\0')
		return LB_ERR_INVALID_VALUE;
	return ops->open(target, out);
}

void
store_close(struct lb_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_ping(struct lb_store *st)
{
	if (st == NULL)
		return LB_ERR_INTERNAL;
	return st->ops->ping(st);
}

int
store_schema_version(struct lb_store *st)
{
	if (st == NULL)
		return LB_ERR_INTERNAL;
	return st->ops->schema_version(st);
}

int
store_begin(struct lb_store *st, bool write, struct lb_tx **out)
{
	if (st == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return st->ops->begin(st, write, out);
}

int
store_commit(struct lb_tx *tx)
{
	if (tx == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->commit(tx);
}

void
store_rollback(struct lb_tx *tx)
{
	if (tx != NULL)
		tx->ops->rollback(tx);
}

/* ------------------------------------------------------------- checks */

/* 0 when tx may read. */
static int
rd(const struct lb_tx *tx)
{
	return tx != NULL ? 0 : LB_ERR_INTERNAL;
}

/* 0 when tx may write: writing in a read transaction is a caller's bug. */
static int
wr(const struct lb_tx *tx)
{
	return tx != NULL && tx->write ? 0 : LB_ERR_INTERNAL;
}

/* Copies `in` (NULL: first page) into `out` with a usable limit. */
static int
page(const struct lb_page *in, struct lb_page *out)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL) {
		out->limit = LB_PAGE_SIZE_DEFAULT;
		return 0;
	}
	if (in->limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	if (!lb_store_terminated(in->after_id, sizeof(in->after_id)))
		return LB_ERR_FIELD_TOO_LONG;
	*out = *in;
	if (out->limit == 0)
		out->limit = LB_PAGE_SIZE_DEFAULT;
	return 0;
}

/* ---------------------------------------------------------------- meta */

int
store_meta_get(struct lb_tx *tx, const char *key, char *value, size_t len)
{
	if (rd(tx) != 0 || key == NULL || value == NULL || len == 0)
		return LB_ERR_INTERNAL;
	return tx->ops->meta_get(tx, key, value, len);
}

int
store_meta_put(struct lb_tx *tx, const char *key, const char *value)
{
	if (wr(tx) != 0 || key == NULL || value == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->meta_put(tx, key, value);
}

/* -------------------------------------------------------------- tenants */

int
store_tenant_insert(struct lb_tx *tx, const struct lb_tenant *t)
{
	if (wr(tx) != 0 || t == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->tenant_insert(tx, t);
}

int
store_tenant_get(struct lb_tx *tx, const char *id, struct lb_tenant *out)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->tenant_get(tx, id, out);
}

int
store_tenant_list(struct lb_tx *tx, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_tenant *t), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->tenant_list(tx, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_settings_get(struct lb_tx *tx, const char *tenant, struct lb_settings *out)
{
	if (rd(tx) != 0 || tenant == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->settings_get(tx, tenant, out);
}

int
store_settings_put(struct lb_tx *tx, const char *tenant, const struct lb_settings *s)
{
	if (wr(tx) != 0 || tenant == NULL || s == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->settings_put(tx, tenant, s);
}

int
store_provider_settings_get(struct lb_tx *tx, struct lb_provider_settings *out)
{
	if (rd(tx) != 0 || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->provider_settings_get(tx, out);
}

int
store_provider_settings_put(struct lb_tx *tx, const struct lb_provider_settings *ps)
{
	if (wr(tx) != 0 || ps == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->provider_settings_put(tx, ps);
}

/* ------------------------------------------------------ users and tokens */

int
store_user_insert(struct lb_tx *tx, const struct lb_user *u)
{
	if (wr(tx) != 0 || u == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->user_insert(tx, u);
}

int
store_user_get(struct lb_tx *tx, const char *realm, const char *id, struct lb_user *out)
{
	if (rd(tx) != 0 || realm == NULL || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->user_get(tx, realm, id, out);
}

int
store_user_list(struct lb_tx *tx, const char *realm, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_user *u), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || realm == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->user_list(tx, realm, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_token_insert(struct lb_tx *tx, const struct lb_token *t, const uint8_t hash[32])
{
	if (wr(tx) != 0 || t == NULL || hash == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->token_insert(tx, t, hash);
}

int
store_token_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_token *tok,
    uint8_t stored_hash[32], struct lb_user *user)
{
	if (rd(tx) != 0 || hash == NULL || tok == NULL || stored_hash == NULL || user == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->token_find(tx, hash, tok, stored_hash, user);
}

int
store_token_get(struct lb_tx *tx, const char *id, struct lb_token *out)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->token_get(tx, id, out);
}

int
store_token_revoke(struct lb_tx *tx, const char *id, int64_t now_ms)
{
	if (wr(tx) != 0 || id == NULL || now_ms <= 0)
		return LB_ERR_INTERNAL;
	return tx->ops->token_revoke(tx, id, now_ms);
}

int
store_token_list(struct lb_tx *tx, const char *realm, const char *user_id,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_token *t),
    void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || realm == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->token_list(tx, realm, user_id, &p, each, ctx, &m)) == 0 &&
	    more != NULL)
		*more = m;
	return err;
}

/* ---------------------------------------------------------------- cases */

int
store_case_insert(struct lb_tx *tx, const struct lb_case *c)
{
	if (wr(tx) != 0 || c == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->case_insert(tx, c);
}

int
store_case_get(struct lb_tx *tx, const char *tenant, const char *id, struct lb_case *out)
{
	if (rd(tx) != 0 || tenant == NULL || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->case_get(tx, tenant, id, out);
}

int
store_case_update(struct lb_tx *tx, const struct lb_case *c)
{
	if (wr(tx) != 0 || c == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->case_update(tx, c);
}

int
store_case_list(struct lb_tx *tx, const char *tenant, const char *assigned_to,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_case *c),
    void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || tenant == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->case_list(tx, tenant, assigned_to, &p, each, ctx, &m)) == 0 &&
	    more != NULL)
		*more = m;
	return err;
}

/* ------------------------------------------------------------- requests */

int
store_request_insert(struct lb_tx *tx, const struct lb_request *r)
{
	if (wr(tx) != 0 || r == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->request_insert(tx, r);
}

int
store_request_get(struct lb_tx *tx, const char *id, struct lb_request *out)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->request_get(tx, id, out);
}

int
store_request_update(struct lb_tx *tx, const struct lb_request *r, int64_t expected_version)
{
	if (wr(tx) != 0 || r == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->request_update(tx, r, expected_version);
}

int
store_request_list(struct lb_tx *tx, const struct lb_request_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_request *r),
    void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || f == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if (f->status < -1 || f->status >= LB_ST_COUNT)
		return LB_ERR_INVALID_VALUE;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->request_list(tx, f, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_request_count(struct lb_tx *tx, int64_t now_ms, uint64_t counts[LB_ST_COUNT])
{
	if (rd(tx) != 0 || counts == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->request_count(tx, now_ms, counts);
}

/* ---------------------------------------------------------------- audit */

int
store_audit_head(struct lb_tx *tx, const char *chain, int64_t *seq, char prev_hash[65])
{
	if (rd(tx) != 0 || chain == NULL || seq == NULL || prev_hash == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_head(tx, chain, seq, prev_hash);
}

int
store_audit_insert(struct lb_tx *tx, const struct lb_audit_rec *rec)
{
	if (wr(tx) != 0 || rec == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_insert(tx, rec);
}

int
store_audit_scan(struct lb_tx *tx, const char *chain, int64_t from_seq, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx)
{
	if (rd(tx) != 0 || chain == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_scan(tx, chain, from_seq, limit, each, ctx);
}

/* A filter the backends may trust: a chain, no negative bound or key. */
static int
audit_filter_ok(const struct lb_audit_filter *f)
{
	if (f == NULL || f->chain == NULL)
		return LB_ERR_INTERNAL;
	if (f->start_ms < 0 || f->end_ms < 0 || f->before_seq < 0)
		return LB_ERR_INVALID_VALUE;
	return 0;
}

int
store_audit_search(struct lb_tx *tx, const struct lb_audit_filter *f, size_t limit,
    int (*each)(void *ctx, const struct lb_audit_rec *rec), void *ctx, bool *more)
{
	bool m = false;
	int err;

	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = audit_filter_ok(f)) != 0)
		return err;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	if ((err = tx->ops->audit_search(tx, f, limit ? limit : LB_PAGE_SIZE_DEFAULT, each,
	    ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_audit_count(struct lb_tx *tx, const struct lb_audit_filter *f, uint64_t *out)
{
	int err;

	if (rd(tx) != 0 || out == NULL)
		return LB_ERR_INTERNAL;
	if ((err = audit_filter_ok(f)) != 0)
		return err;
	return tx->ops->audit_count(tx, f, out);
}

int
store_audit_chains(struct lb_tx *tx, int (*each)(void *ctx, const char *chain), void *ctx)
{
	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_chains(tx, each, ctx);
}

int
store_audit_first_seq(struct lb_tx *tx, const char *chain, int64_t *seq)
{
	if (rd(tx) != 0 || chain == NULL || seq == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_first_seq(tx, chain, seq);
}

int
store_audit_last_before(struct lb_tx *tx, const char *chain, int64_t before_ms, int64_t *seq)
{
	if (rd(tx) != 0 || chain == NULL || seq == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->audit_last_before(tx, chain, before_ms, seq);
}

int
store_audit_purge(struct lb_tx *tx, const char *chain, int64_t through_seq, int64_t *deleted)
{
	int64_t n = 0;
	int err;

	if (wr(tx) != 0 || chain == NULL)
		return LB_ERR_INTERNAL;
	if (through_seq < 0)
		return LB_ERR_INVALID_VALUE;
	if ((err = tx->ops->audit_purge(tx, chain, through_seq, &n)) == 0 && deleted != NULL)
		*deleted = n;
	return err;
}

int
store_checkpoint_insert(struct lb_tx *tx, const struct lb_checkpoint *cp)
{
	if (wr(tx) != 0 || cp == NULL)
		return LB_ERR_INTERNAL;
	if (cp->seq < 1 || cp->time_ms < 0)
		return LB_ERR_INVALID_VALUE;
	if (!lb_store_terminated(cp->chain, sizeof(cp->chain)) ||
	    !lb_store_terminated(cp->head_hash, sizeof(cp->head_hash)) ||
	    !lb_store_terminated(cp->kid, sizeof(cp->kid)) ||
	    !lb_store_terminated(cp->sig, sizeof(cp->sig)))
		return LB_ERR_FIELD_TOO_LONG;
	return tx->ops->checkpoint_insert(tx, cp);
}

int
store_checkpoint_list(struct lb_tx *tx, const char *chain, int64_t from_seq,
    int (*each)(void *ctx, const struct lb_checkpoint *cp), void *ctx)
{
	if (rd(tx) != 0 || chain == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->checkpoint_list(tx, chain, from_seq, each, ctx);
}

int
store_checkpoint_latest(struct lb_tx *tx, const char *chain, struct lb_checkpoint *out)
{
	if (rd(tx) != 0 || chain == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->checkpoint_latest(tx, chain, out);
}

/* ------------------------------------------------------- access receipts */

int
store_receipt_add(struct lb_tx *tx, const char *request_id, const char *resource,
    bool allowed, int64_t at_ms)
{
	if (wr(tx) != 0 || request_id == NULL || resource == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->receipt_add(tx, request_id, resource, allowed, at_ms);
}

int
store_receipt_list(struct lb_tx *tx, const char *request_id, size_t limit,
    int (*each)(void *ctx, const struct lb_receipt *r), void *ctx)
{
	if (rd(tx) != 0 || request_id == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	return tx->ops->receipt_list(tx, request_id, limit ? limit : 1000, each, ctx);
}

/* --------------------------------------------------------------- outbox */

int
store_outbox_insert(struct lb_tx *tx, const struct lb_outbox_row *row)
{
	if (wr(tx) != 0 || row == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_insert(tx, row);
}

int
store_outbox_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx)
{
	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	return tx->ops->outbox_due(tx, now_ms, limit ? limit : LB_PAGE_SIZE_DEFAULT, each, ctx);
}

int
store_outbox_update(struct lb_tx *tx, const struct lb_outbox_row *row)
{
	if (wr(tx) != 0 || row == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_update(tx, row);
}

int
store_outbox_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->outbox_list(tx, tenant, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

/* ------------------------------------------------- notification delivery */

int
store_outbox_put(struct lb_tx *tx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x)
{
	if (wr(tx) != 0 || row == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_put(tx, row, x);
}

int
store_outbox_get(struct lb_tx *tx, const char *id, struct lb_outbox_row *out,
    struct lb_outbox_extra *x)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_get(tx, id, out, x);
}

int
store_outbox_due_channel(struct lb_tx *tx, const char *channel, int64_t now_ms,
    size_t limit, int (*each)(void *ctx, const struct lb_outbox_row *row), void *ctx)
{
	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	return tx->ops->outbox_due_channel(tx, channel, now_ms,
	    limit ? limit : LB_PAGE_SIZE_DEFAULT, each, ctx);
}

int
store_outbox_find(struct lb_tx *tx, const char *tenant, const char *status,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_outbox_row *row,
    const struct lb_outbox_extra *x), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->outbox_find(tx, tenant, status, &p, each, ctx, &m)) == 0 &&
	    more != NULL)
		*more = m;
	return err;
}

int
store_outbox_counts(struct lb_tx *tx, uint64_t *pending, uint64_t *dead, uint64_t *overdue)
{
	if (rd(tx) != 0 || pending == NULL || dead == NULL || overdue == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_counts(tx, pending, dead, overdue);
}

int
store_outbox_overdue_due(struct lb_tx *tx, int64_t now_ms, size_t limit,
    int (*each)(void *ctx, const char *id), void *ctx)
{
	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	return tx->ops->outbox_overdue_due(tx, now_ms, limit ? limit : LB_PAGE_SIZE_DEFAULT,
	    each, ctx);
}

int
store_outbox_mark_overdue(struct lb_tx *tx, const char *id, int64_t now_ms)
{
	if (wr(tx) != 0 || id == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->outbox_mark_overdue(tx, id, now_ms);
}

int
store_reminder_due(struct lb_tx *tx, int64_t now_ms, int64_t lead_ms, size_t limit,
    int (*each)(void *ctx, const char *request_id), void *ctx)
{
	if (rd(tx) != 0 || each == NULL || lead_ms < 0)
		return LB_ERR_INTERNAL;
	if (limit > LB_STORE_LIMIT_MAX)
		return LB_ERR_INVALID_VALUE;
	return tx->ops->reminder_due(tx, now_ms, lead_ms, limit ? limit : LB_PAGE_SIZE_DEFAULT,
	    each, ctx);
}

int
store_reminder_put(struct lb_tx *tx, const char *request_id, int64_t now_ms)
{
	if (wr(tx) != 0 || request_id == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->reminder_put(tx, request_id, now_ms);
}

int
store_webhook_insert(struct lb_tx *tx, const struct lb_webhook *w)
{
	if (wr(tx) != 0 || w == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->webhook_insert(tx, w);
}

int
store_webhook_get(struct lb_tx *tx, const char *tenant, const char *id,
    struct lb_webhook *out)
{
	if (rd(tx) != 0 || tenant == NULL || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->webhook_get(tx, tenant, id, out);
}

int
store_webhook_delete(struct lb_tx *tx, const char *tenant, const char *id)
{
	if (wr(tx) != 0 || tenant == NULL || id == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->webhook_delete(tx, tenant, id);
}

int
store_webhook_list(struct lb_tx *tx, const char *tenant, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_webhook *w), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || tenant == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->webhook_list(tx, tenant, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_webhook_count(struct lb_tx *tx, const char *tenant, uint64_t *out)
{
	if (rd(tx) != 0 || tenant == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->webhook_count(tx, tenant, out);
}

/* ------------------------------------------------------------ break-glass */

int
store_incident_insert(struct lb_tx *tx, const struct lb_incident *inc)
{
	if (wr(tx) != 0 || inc == NULL)
		return LB_ERR_INTERNAL;
	if (inc->ntenants > LB_INCIDENT_TENANTS_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	return tx->ops->incident_insert(tx, inc);
}

int
store_incident_get(struct lb_tx *tx, const char *id, struct lb_incident *out)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->incident_get(tx, id, out);
}

int
store_incident_update(struct lb_tx *tx, const struct lb_incident *inc,
    int64_t expected_version)
{
	if (wr(tx) != 0 || inc == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->incident_update(tx, inc, expected_version);
}

int
store_incident_list(struct lb_tx *tx, bool open_only, const struct lb_page *pg,
    int (*each)(void *ctx, const struct lb_incident *inc), void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->incident_list(tx, open_only, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_emergency_insert(struct lb_tx *tx, const struct lb_emergency *e)
{
	if (wr(tx) != 0 || e == NULL)
		return LB_ERR_INTERNAL;
	if (e->nresources > LB_RESOURCES_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	return tx->ops->emergency_insert(tx, e);
}

int
store_emergency_get(struct lb_tx *tx, const char *id, struct lb_emergency *out)
{
	if (rd(tx) != 0 || id == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->emergency_get(tx, id, out);
}

int
store_emergency_update(struct lb_tx *tx, const struct lb_emergency *e,
    int64_t expected_version)
{
	if (wr(tx) != 0 || e == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->emergency_update(tx, e, expected_version);
}

int
store_emergency_list(struct lb_tx *tx, const struct lb_emergency_filter *f,
    const struct lb_page *pg, int (*each)(void *ctx, const struct lb_emergency *e),
    void *ctx, bool *more)
{
	struct lb_page p;
	bool m = false;
	int err;

	if (rd(tx) != 0 || f == NULL || each == NULL)
		return LB_ERR_INTERNAL;
	if ((err = page(pg, &p)) != 0)
		return err;
	if ((err = tx->ops->emergency_list(tx, f, &p, each, ctx, &m)) == 0 && more != NULL)
		*more = m;
	return err;
}

int
store_emergency_count_since(struct lb_tx *tx, const char *tenant, int64_t since_ms,
    uint64_t *out)
{
	if (rd(tx) != 0 || tenant == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->emergency_count_since(tx, tenant, since_ms, out);
}

int
store_emergency_notice_link(struct lb_tx *tx, const char *emergency_id, const char *tenant,
    int64_t deadline_ms, uint64_t *linked)
{
	uint64_t n = 0;
	int err;

	if (wr(tx) != 0 || emergency_id == NULL || tenant == NULL)
		return LB_ERR_INTERNAL;
	err = tx->ops->emergency_notice_link(tx, emergency_id, tenant, deadline_ms, &n);
	if (err == 0 && linked != NULL)
		*linked = n;
	return err;
}

int
store_emergency_notice_state(struct lb_tx *tx, const char *emergency_id, uint64_t *rows,
    int64_t *delivered_ms)
{
	if (rd(tx) != 0 || emergency_id == NULL || rows == NULL || delivered_ms == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->emergency_notice_state(tx, emergency_id, rows, delivered_ms);
}

/* ------------------------------------------------------- console sign-in */

int
store_session_insert(struct lb_tx *tx, const struct lb_session *s)
{
	if (wr(tx) != 0 || s == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->session_insert(tx, s);
}

int
store_session_find(struct lb_tx *tx, const uint8_t hash[32], struct lb_session *out,
    struct lb_user *user)
{
	if (rd(tx) != 0 || hash == NULL || out == NULL || user == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->session_find(tx, hash, out, user);
}

int
store_session_touch(struct lb_tx *tx, const uint8_t hash[32], int64_t idle_expires_ms)
{
	if (wr(tx) != 0 || hash == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->session_touch(tx, hash, idle_expires_ms);
}

int
store_session_end(struct lb_tx *tx, const uint8_t hash[32], int64_t now_ms)
{
	if (wr(tx) != 0 || hash == NULL)
		return LB_ERR_INTERNAL;
	return tx->ops->session_end(tx, hash, now_ms);
}

int
store_session_end_user(struct lb_tx *tx, const char *realm, const char *user_id,
    const uint8_t *keep, int64_t now_ms, int64_t *ended)
{
	int64_t n = 0;
	int err;

	if (wr(tx) != 0 || realm == NULL || user_id == NULL)
		return LB_ERR_INTERNAL;
	err = tx->ops->session_end_user(tx, realm, user_id, keep, now_ms, &n);
	if (err == 0 && ended != NULL)
		*ended = n;
	return err;
}

int
store_session_prune(struct lb_tx *tx, int64_t now_ms, int64_t *deleted)
{
	int64_t n = 0;
	int err;

	if (wr(tx) != 0)
		return LB_ERR_INTERNAL;
	err = tx->ops->session_prune(tx, now_ms, &n);
	if (err == 0 && deleted != NULL)
		*deleted = n;
	return err;
}

int
store_password_put(struct lb_tx *tx, const char *realm, const char *user_id,
    const char *hash, int64_t now_ms)
{
	if (wr(tx) != 0 || realm == NULL || user_id == NULL || hash == NULL)
		return LB_ERR_INTERNAL;
	if (!lb_store_terminated(hash, LB_PWHASH_MAX))
		return LB_ERR_FIELD_TOO_LONG;
	return tx->ops->password_put(tx, realm, user_id, hash, now_ms);
}

int
store_password_get(struct lb_tx *tx, const char *realm, const char *user_id,
    char *hash, size_t len)
{
	if (rd(tx) != 0 || realm == NULL || user_id == NULL || hash == NULL || len == 0)
		return LB_ERR_INTERNAL;
	return tx->ops->password_get(tx, realm, user_id, hash, len);
}
