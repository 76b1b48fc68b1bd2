/*
 * /v1/tenants/{t}/audit and /v1/provider/audit: reading the audit trail.
 *
 * Search (Search-UnifiedAuditLog's job) pages a chain newest first by seq,
 * so a page token is just the last seq seen and there is no cap on how far
 * a caller may page.  Verify runs src/audit/verify.c over the stored chain
 * with the daemon's public keys, the same code `lockbox audit verify
 * --file` runs offline.  Export lives in audit_export.c.
 *
 * Reading the trail is itself recorded (record type CustomerLockboxAudit):
 * a search or a verification writes its record through the group-commit
 * queue after the read and before the answer, and the answer is refused
 * (503) when the record cannot be written; an export writes its record and
 * signs a checkpoint of the head in one write transaction before the first
 * byte is sent, so every export ends on a signed checkpoint and contains
 * the record of its own making.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "audit/batch.h"
#include "audit/verify.h"
#include "http/audit_http.h"
#include "http/http.h"


/* ------------------------------------------------------------ the chain */

/*
 * The chain a route names, into chain[]: the provider's ("") for
 * /v1/provider/audit (provider_admin only), else tenant params[0] as the
 * caller may read it (another tenant's principal: 404; a role other than
 * global_admin or compliance_admin: 403).
 */
int
audit_open_chain(struct lb_ctx *c, struct lb_tx *tx, bool provider, char chain[LB_ID_MAX + 1])
{
	struct lb_tenant t;
	int rc;

	if (provider) {
		if (!auth_provider(c, AUDIT_PROVIDER_ROLES))
			return http_fail(c, LB_ERR_FORBIDDEN,
			    "only provider_admin may read the provider's audit log");
		chain[0] = '\0';
		return 0;
	}
	if ((rc = auth_load_tenant(c, tx, c->params[0], AUDIT_PROVIDER_ROLES,
	    AUDIT_TENANT_ROLES, &t)) != 0)
		return rc;
	memcpy(chain, t.id, LB_ID_MAX + 1);
	return 0;
}

/*
 * Writes the record of a read of `chain` (operation op, details borrowed)
 * before the answer goes out: through the group-commit queue when the
 * daemon runs one, else in a write transaction of its own.  A read that
 * cannot be recorded is refused (503).
 */
int
audit_record_read(struct lb_ctx *c, const char *chain, const char *op, json_t *details)
{
	struct lb_audit_event ev = {
		.tenant = chain, .record_type = RT_AUDIT_READ, .operation = op,
		.actor = &c->actor, .object_id = chain, .result = "success",
		.client_ip = c->client_ip, .details = details, .time_ms = c->now_ms,
	};
	struct lb_tx *tx = NULL;
	char *text = NULL;
	int rc;

	if (c->app->auditq != NULL) {
		if ((text = audit_json_canonical(details)) == NULL) {
			rc = LB_ERR_NOMEM;
			goto out;
		}
		rc = auditq_append(c->app->auditq, &ev, text, NULL, NULL, false);
		if (rc != 0)
			atomic_fetch_add(&c->app->metrics.audit_failures, 1);
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = http_audit(c, tx, chain, RT_AUDIT_READ, op, chain, details)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
out:
	store_rollback(tx);
	free(text);
	if (rc != 0 && rc != LB_ERR_NOMEM)
		rc = http_fail(c, LB_ERR_UNAVAILABLE,
		    "the audit log cannot record this read, so it is refused");
	return rc;
}

/* ---------------------------------------------------------------- search */


/* Reads RFC 3339 query parameter `key` into *ms (absent: 0). */
static int
query_time(struct lb_ctx *c, const char *key, int64_t *ms, json_t *echo)
{
	char buf[64];
	int rc = http_query(c, key, buf, sizeof(buf));

	if (rc < 0)
		return http_fail(c, LB_ERR_INVALID_FIELD,
		    "'%s' must be an RFC 3339 time such as 2026-11-22T06:31:50Z", key);
	if (rc == 0)
		return 0;
	if (lb_time_parse(buf, ms) != 0 || *ms <= 0)
		return http_fail(c, LB_ERR_INVALID_FIELD,
		    "'%s' must be an RFC 3339 time such as 2026-11-22T06:31:50Z", key);
	json_object_set_new(echo, key, json_string(buf));
	return 0;
}

/* Reads exact-match filter `key` into buf; *out points at it when given. */
static int
query_match(struct lb_ctx *c, const char *key, char *buf, size_t cap, const char **out,
    json_t *echo)
{
	int rc = http_query(c, key, buf, cap);

	if (rc < 0)
		return rc;
	if (rc == 1) {
		*out = buf;
		json_object_set_new(echo, key, json_string(buf));
	}
	return 0;
}

/* start and end only (exports to CSV). */
int
audit_parse_range(struct lb_ctx *c, struct filters *fl)
{
	int rc;

	if ((rc = query_time(c, "start", &fl->f.start_ms, fl->echo)) != 0 ||
	    (rc = query_time(c, "end", &fl->f.end_ms, fl->echo)) != 0)
		return rc;
	if (fl->f.start_ms != 0 && fl->f.end_ms != 0 && fl->f.start_ms >= fl->f.end_ms)
		return http_fail(c, LB_ERR_INVALID_FIELD, "'start' must be before 'end'");
	return 0;
}

static int
parse_filters(struct lb_ctx *c, struct filters *fl)
{
	int rc;

	if ((rc = audit_parse_range(c, fl)) != 0 ||
	    (rc = query_match(c, "record_type", fl->record_type, sizeof(fl->record_type),
	    &fl->f.record_type, fl->echo)) != 0 ||
	    (rc = query_match(c, "operation", fl->operation, sizeof(fl->operation),
	    &fl->f.operation, fl->echo)) != 0 ||
	    (rc = query_match(c, "actor", fl->actor, sizeof(fl->actor), &fl->f.actor,
	    fl->echo)) != 0 ||
	    (rc = query_match(c, "object", fl->object, sizeof(fl->object), &fl->f.object,
	    fl->echo)) != 0 ||
	    (rc = query_match(c, "result", fl->result, sizeof(fl->result), &fl->f.result,
	    fl->echo)) != 0)
		return rc;
	return 0;
}

struct search_ctx {
	json_t *items;
	int64_t last_seq;
};

static int
each_found(void *ctx, const struct lb_audit_rec *rec)
{
	struct search_ctx *s = ctx;
	json_t *o = audit_rec_json(rec);

	if (o == NULL || json_array_append_new(s->items, o) != 0)
		return LB_ERR_NOMEM;
	s->last_seq = rec->seq;
	return 0;
}

/* Reads query `key` as a boolean switch: absent or "false" false, "true" true. */
static int
query_flag(struct lb_ctx *c, const char *key, bool *out)
{
	char buf[8];
	int rc = http_query(c, key, buf, sizeof(buf));

	*out = false;
	if (rc == 0)
		return 0;
	if (rc < 0 || (strcmp(buf, "true") != 0 && strcmp(buf, "false") != 0))
		return http_fail(c, LB_ERR_INVALID_FIELD, "'%s' must be true or false", key);
	*out = strcmp(buf, "true") == 0;
	return 0;
}

static int
search(struct lb_ctx *c, bool provider)
{
	struct filters fl;
	struct search_ctx s = { NULL, 0 };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	char chain[LB_ID_MAX + 1];
	json_t *answer = NULL, *details = NULL;
	uint64_t count = 0;
	bool more = false, want_count = false;
	int rc;

	memset(&fl, 0, sizeof(fl));
	if ((fl.echo = json_object()) == NULL || (s.items = json_array()) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
	    (rc = audit_open_chain(c, tx, provider, chain)) != 0 ||
	    (rc = parse_filters(c, &fl)) != 0 ||
	    (rc = query_flag(c, "count", &want_count)) != 0 ||
	    (rc = http_page(c, &pg)) != 0)
		goto out;
	fl.f.chain = chain;
	if (pg.after_id[0] != '\0') {
		if (strcmp(pg.after_id, SEQ_TOKEN_ID) != 0 || pg.after_ms < 1) {
			rc = http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
			goto out;
		}
		fl.f.before_seq = pg.after_ms;
	}
	/*
	 * A bound on seq, even one that excludes nothing, lets SQLite walk the
	 * (chain, seq) key newest first and stop after one page, rather than
	 * sort every record of a time range.  Only a range closed on both
	 * ends is left to the time index, whose scan it bounds.
	 */
	if (fl.f.before_seq == 0 && !(fl.f.start_ms != 0 && fl.f.end_ms != 0))
		fl.f.before_seq = INT64_MAX;
	if (want_count) {
		rc = store_audit_count(tx, &fl.f, &count);
	} else {
		rc = store_audit_search(tx, &fl.f, pg.limit, each_found, &s, &more);
	}
	if (rc != 0)
		goto out;
	store_rollback(tx);
	tx = NULL;
	details = json_pack("{s:O, s:b, s:b, s:I}", "filter", fl.echo,
	    "page_token", pg.after_id[0] != '\0', "count", want_count,
	    "returned", (json_int_t)(want_count ? 0 : json_array_size(s.items)));
	if (details == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = audit_record_read(c, chain, "SearchAuditLog", details)) != 0)
		goto out;
	if (want_count) {
		answer = json_pack("{s:I}", "count", (json_int_t)count);
	} else {
		answer = http_list(s.items, more, s.last_seq, SEQ_TOKEN_ID);
		s.items = NULL;
	}
	rc = http_reply(c, 200, answer);
out:
	store_rollback(tx);
	json_decref(s.items);
	json_decref(fl.echo);
	json_decref(details);
	return rc;
}

int
h_audit_search(struct lb_ctx *c)
{
	return search(c, false);
}

int
h_provider_audit_search(struct lb_ctx *c)
{
	return search(c, true);
}

/* ---------------------------------------------------------------- verify */

/* The daemon's public keys, as the JWKS publishes them. */
static int
jwks_key(void *ctx, const char *kid, unsigned char pk[32])
{
	json_t *keys = json_object_get((json_t *)ctx, "keys"), *k;
	size_t i, len = 0;

	json_array_foreach(keys, i, k) {
		const char *id = json_string_value(json_object_get(k, "kid"));
		const char *x = json_string_value(json_object_get(k, "x"));
		if (id == NULL || x == NULL || strcmp(id, kid) != 0)
			continue;
		if (sodium_base642bin(pk, 32, x, strlen(x), NULL, &len, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || len != 32)
			return LB_ERR_NOT_FOUND;
		return 0;
	}
	return LB_ERR_NOT_FOUND;
}

static int
each_verify_cp(void *ctx, const struct lb_checkpoint *cp)
{
	struct lb_verify *v = ctx;
	json_t *o = audit_checkpoint_json(cp);
	int rc;

	if (o == NULL)
		return LB_ERR_NOMEM;
	rc = verify_checkpoint(v, o);
	json_decref(o);
	(void)rc;               /* a problem is kept by the verifier; go on */
	return 0;
}

static int
each_verify_rec(void *ctx, const struct lb_audit_rec *rec)
{
	struct lb_verify *v = ctx;
	json_t *o = audit_rec_json(rec);
	int rc;

	if (o == NULL)
		return LB_ERR_NOMEM;
	rc = verify_record(v, o);
	json_decref(o);
	(void)rc;
	return 0;
}

/* The verifier's last checkpoint seq bound: stop past the snapshot. */
struct cp_bound {
	struct lb_verify *v;
	int64_t last_seq;
};

static int
each_verify_cp_bounded(void *ctx, const struct lb_checkpoint *cp)
{
	struct cp_bound *b = ctx;

	if (cp->seq > b->last_seq)
		return 1;
	return each_verify_cp(b->v, cp);
}

static int
verify_chain(struct lb_ctx *c, bool provider)
{
	struct lb_verify_result res;
	struct lb_checkpoint cp;
	struct lb_verify *v = NULL;
	struct lb_tx *tx = NULL;
	char chain[LB_ID_MAX + 1];
	json_t *jwks = NULL, *answer = NULL, *details = NULL;
	int64_t first = 0, last = 0;
	int rc;

	memset(&res, 0, sizeof(res));
	/* Sign the head first, so the tail is covered like an export's. */
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = audit_open_chain(c, tx, provider, chain)) != 0)
		goto out;
	rc = audit_checkpoint_head(tx, c->app->keys, chain, c->now_ms, &cp);
	if (rc == 0)
		last = cp.seq;
	else if (rc != LB_ERR_NOT_FOUND)
		goto out;
	if ((rc = store_commit(tx)) != 0) {
		tx = NULL;
		goto out;
	}
	tx = NULL;
	if ((jwks = keys_audit_jwks(c->app->keys)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = verify_new(jwks_key, jwks, &v)) != 0)
		goto out;
	if (last > 0) {
		struct cp_bound b = { v, last };
		if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
		    (rc = store_audit_first_seq(tx, chain, &first)) != 0)
			goto out;
		rc = store_checkpoint_list(tx, chain, first > 1 ? first - 1 : 0,
		    each_verify_cp_bounded, &b);
		if (rc != 0 && rc != 1)
			goto out;
		if ((rc = store_audit_scan(tx, chain, first, (size_t)(last - first + 1),
		    each_verify_rec, v)) != 0)
			goto out;
		store_rollback(tx);
		tx = NULL;
	}
	verify_finish(v, &res);
	details = json_pack("{s:b, s:I, s:I, s:s?}", "ok", res.ok,
	    "records", (json_int_t)res.records, "last_seq", (json_int_t)res.last_seq,
	    "problem", res.ok ? NULL : lb_verify_problem_name(res.problem));
	if (details == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = audit_record_read(c, chain, "VerifyAuditLog", details)) != 0)
		goto out;
	answer = json_pack("{s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "ok", res.ok,
	    "records", (json_int_t)res.records, "checkpoints", (json_int_t)res.checkpoints,
	    "first_seq", (json_int_t)res.first_seq, "last_seq", (json_int_t)res.last_seq,
	    "problem", res.ok ? json_null() : json_string(lb_verify_problem_name(res.problem)),
	    "bad_seq", res.bad_seq >= 0 && !res.ok ? json_integer(res.bad_seq) : json_null(),
	    "reason", res.ok ? json_null() : json_string(res.reason));
	rc = http_reply(c, 200, answer);
out:
	store_rollback(tx);
	verify_free(v);
	json_decref(jwks);
	json_decref(details);
	return rc;
}

int
h_audit_verify(struct lb_ctx *c)
{
	return verify_chain(c, false);
}

int
h_provider_audit_verify(struct lb_ctx *c)
{
	return verify_chain(c, true);
}

/* ----------------------------------------------------------- checkpoints */

struct cp_list {
	json_t *items;
	size_t limit;
	bool more;
	int64_t last_seq;
};

static int
each_listed(void *ctx, const struct lb_checkpoint *cp)
{
	struct cp_list *l = ctx;

	if (json_array_size(l->items) == l->limit) {
		l->more = true;
		return 1;
	}
	if (json_array_append_new(l->items, audit_checkpoint_json(cp)) != 0)
		return LB_ERR_NOMEM;
	l->last_seq = cp->seq;
	return 0;
}

static int
checkpoints_list(struct lb_ctx *c, bool provider)
{
	struct cp_list l = { NULL, 0, false, 0 };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	char chain[LB_ID_MAX + 1];
	int64_t from = 0;
	int rc;

	if ((l.items = json_array()) == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
	    (rc = audit_open_chain(c, tx, provider, chain)) != 0 ||
	    (rc = http_page(c, &pg)) != 0)
		goto out;
	if (pg.after_id[0] != '\0') {
		if (strcmp(pg.after_id, CP_TOKEN_ID) != 0) {
			rc = http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
			goto out;
		}
		from = pg.after_ms + 1;
	}
	l.limit = pg.limit;
	rc = store_checkpoint_list(tx, chain, from, each_listed, &l);
	if (rc != 0 && rc != 1)
		goto out;
	rc = http_reply(c, 200, http_list(l.items, l.more, l.last_seq, CP_TOKEN_ID));
	l.items = NULL;
out:
	store_rollback(tx);
	json_decref(l.items);
	return rc;
}

static int
checkpoint_create(struct lb_ctx *c, bool provider)
{
	struct lb_checkpoint cp;
	struct lb_tx *tx = NULL;
	char chain[LB_ID_MAX + 1];
	int rc;

	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = audit_open_chain(c, tx, provider, chain)) != 0)
		goto out;
	rc = audit_checkpoint_head(tx, c->app->keys, chain, c->now_ms, &cp);
	if (rc == LB_ERR_NOT_FOUND) {
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the audit log has no records to sign yet");
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = http_reply(c, 200, audit_checkpoint_json(&cp));
out:
	store_rollback(tx);
	return rc;
}

int
h_audit_checkpoints_list(struct lb_ctx *c)
{
	return checkpoints_list(c, false);
}

int
h_audit_checkpoints_create(struct lb_ctx *c)
{
	return checkpoint_create(c, false);
}

int
h_provider_audit_checkpoints_list(struct lb_ctx *c)
{
	return checkpoints_list(c, true);
}

int
h_provider_audit_checkpoints_create(struct lb_ctx *c)
{
	return checkpoint_create(c, true);
}
