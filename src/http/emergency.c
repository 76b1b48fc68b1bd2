/*
 * /v1/incidents and /v1/emergency-access: break-glass (docs/break-glass.md,
 * docs/api.md "Emergency access").
 *
 * Handlers parse, check who may call, let the core decide
 * (src/core/emergency.c) and commit through src/app/emergency.c, like the
 * request handlers.  Two things are particular to break-glass:
 *  - a request refused by a guard rail (incident not critical, closed or
 *    not for the tenant, a scope the tenant denied, the cap) is answered
 *    422 with the rule's code and its attempt is recorded in the tenant's
 *    chain (RefuseEmergencyAccess): the transaction commits the record and
 *    nothing else;
 *  - closing an incident ends every access under it in the same
 *    transaction, and their live grants are removed before the answer.
 * Every answer shows an access's status as of now, and the tenant's notice:
 * when it is due, when it was delivered, whether it is overdue.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "http/http.h"

/* Provider roles that read incidents and every emergency access. */
#define EM_READERS (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER | \
	LB_ROLE_SUPPORT_ENGINEER | LB_ROLE_INCIDENT_MANAGER)
/* Denied requests are looked for this far back by creation time: a denial
 * within 7 days decided a request created at most 12 h before it. */
#define DENIED_CREATED_LOOKBACK_MS (LB_EMERGENCY_DENIED_LOOKBACK_MS + LB_PENDING_TTL_MS)
/* The most denied resource paths one check holds (a hard limit). */
#define DENIED_MAX 65536
/* The most accesses one incident's close ends in its transaction. */
#define CLOSE_MAX 10000

/* ------------------------------------------------------------------ JSON */

static json_t *
strings_json(const char *base, size_t stride, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_string(base + i * stride));
	return a;
}

static json_t *
json_incident(const struct lb_incident *inc)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}",
	    "id", inc->id, "title", inc->title, "severity", lb_severity_name(inc->severity),
	    "tenants", strings_json(&inc->tenants[0][0], sizeof(inc->tenants[0]), inc->ntenants),
	    "status", lb_incident_open(inc) ? "open" : "closed",
	    "declared_by", inc->declared_by,
	    "started_at", json_time(inc->started_ms),
	    "ended_at", json_time(inc->ended_ms),
	    "closed_by", inc->closed_by[0] ? json_string(inc->closed_by) : json_null());
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

/* An access as every answer shows it, with its notice's state. */
static json_t *
json_emergency(const struct lb_emergency *e, uint64_t notice_rows, int64_t delivered_ms,
    int64_t now_ms)
{
	const char *rs = lb_emergency_review_status(e);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:i, s:s, s:o, s:o,"
	    " s:o, s:o, s:o, s:o}",
	    "id", e->id, "incident", e->incident, "tenant", e->tenant,
	    "requester", e->requester, "approver", str_or_null(e->approver),
	    "workload", e->workload,
	    "resources", strings_json(&e->resources[0][0], sizeof(e->resources[0]), e->nresources),
	    "justification", e->justification, "duration_minutes", e->duration_minutes,
	    "status", lb_emergency_status_name(lb_emergency_status_at(e, now_ms)),
	    "created_at", json_time(e->created_ms),
	    "starts_at", json_time(e->starts_ms),
	    "expires_at", json_time(e->expires_ms),
	    "ended_at", json_time(lb_emergency_status_at(e, now_ms) == LB_EM_EXPIRED ?
	    e->expires_ms : e->ended_ms),
	    "ended_by", str_or_null(e->ended_by),
	    "end_reason", lb_emergency_status_at(e, now_ms) == LB_EM_EXPIRED ?
	    json_string(LB_EM_END_EXPIRED) : str_or_null(e->end_reason));

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "notification_due_at", json_time(lb_emergency_notice_due(e)));
	json_object_set_new(o, "notification_delivered_at", json_time(delivered_ms));
	json_object_set_new(o, "notice_overdue", json_boolean(
	    lb_emergency_notice_overdue(e, delivered_ms, now_ms)));
	json_object_set_new(o, "notification_count", json_integer((json_int_t)notice_rows));
	json_object_set_new(o, "objection", e->objection_by[0] == '\0' ? json_null() :
	    json_pack("{s:s, s:s, s:o}", "by", e->objection_by, "comment", e->objection_comment,
	    "at", json_time(e->objection_ms)));
	json_object_set_new(o, "review", e->review_by[0] == '\0' ? json_null() :
	    json_pack("{s:s, s:s, s:o}", "by", e->review_by, "response", e->review_response,
	    "at", json_time(e->review_ms)));
	json_object_set_new(o, "review_status", str_or_null(rs));
	return o;
}

/* The access's JSON with its notice state read in `tx`. */
static json_t *
emergency_answer(struct lb_tx *tx, const struct lb_emergency *e, int64_t now_ms, int *rc)
{
	uint64_t rows = 0;
	int64_t delivered = 0;
	json_t *o;

	if ((*rc = store_emergency_notice_state(tx, e->id, &rows, &delivered)) != 0)
		return NULL;
	if ((o = json_emergency(e, rows, delivered, now_ms)) == NULL)
		*rc = LB_ERR_NOMEM;
	return o;
}

/* ------------------------------------------------------------- incidents */

int
h_incident_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "title", "severity", "tenants", NULL };
	char title[LB_NAME_MAX + 1] = "", sev[16] = "";
	char (*tenants)[LB_ID_MAX + 1] = NULL;
	struct lb_incident *inc = NULL;
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	enum lb_severity severity;
	size_t ntenants = 0;
	char id[LB_REQID_MAX + 1];
	json_t *o = NULL, *d = NULL;
	int rc;

	if (!auth_provider(c, LB_ROLE_INCIDENT_MANAGER))
		return LB_ERR_FORBIDDEN;
	if ((tenants = calloc(LB_INCIDENT_TENANTS_MAX, sizeof(*tenants))) == NULL ||
	    (inc = calloc(1, sizeof(*inc))) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "title", true, title, sizeof(title))) != 0 ||
	    (rc = json_str(c, o, "severity", true, sev, sizeof(sev))) != 0 ||
	    (rc = json_strs(c, o, "tenants", true, &tenants[0][0], sizeof(tenants[0]),
	    LB_INCIDENT_TENANTS_MAX, &ntenants, LB_ERR_TOO_MANY_ITEMS)) != 0)
		goto out;
	if (lb_severity_parse(sev, &severity) != 0) {
		rc = http_fail(c, LB_ERR_INVALID_FIELD,
		    "field 'severity' must be low, medium, high or critical");
		goto out;
	}
	ids_new(LB_INCIDENT_ID_PREFIX, id, sizeof(id));
	if ((rc = lb_incident_declare(id, title, severity, (const char (*)[LB_ID_MAX + 1])tenants,
	    ntenants, &c->actor, c->now_ms, inc)) != 0) {
		if (rc == LB_ERR_INVALID_VALUE)
			rc = http_fail(c, rc, "field 'tenants' must name distinct tenant ids");
		else if (rc == LB_ERR_MISSING_FIELD)
			rc = http_fail(c, rc, "title and at least one tenant are required");
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		goto out;
	for (size_t i = 0; i < ntenants; i++) {
		rc = store_tenant_get(tx, tenants[i], &t);
		if (rc == LB_ERR_NOT_FOUND)
			rc = http_fail(c, LB_ERR_INVALID_VALUE, "no tenant '%s'", tenants[i]);
		if (rc != 0)
			goto out;
	}
	if ((rc = store_incident_insert(tx, inc)) != 0)
		goto out;
	if ((d = json_incident(inc)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = http_audit(c, tx, "", LB_RT_EMERGENCY, "DeclareIncident", inc->id, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		log_info("incident", "id=%s severity=%s by=%s", inc->id,
		    lb_severity_name(inc->severity), c->actor.id);
		rc = http_reply(c, 201, json_incref(d));
	}
out:
	store_rollback(tx);
	json_decref(o);
	json_decref(d);
	free(tenants);
	free(inc);
	return rc;
}

struct inc_list {
	json_t *items;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_incident(void *ctx, const struct lb_incident *inc)
{
	struct inc_list *l = ctx;

	json_array_append_new(l->items, json_incident(inc));
	l->last_ms = inc->started_ms;
	memcpy(l->last_id, inc->id, sizeof(l->last_id));
	return 0;
}

int
h_incident_list(struct lb_ctx *c)
{
	struct inc_list l = { .items = NULL };
	struct lb_page pg;
	struct lb_tx *tx = NULL;
	char status[16];
	bool more = false, open_only = false;
	int rc;

	if (!auth_provider(c, EM_READERS))
		return LB_ERR_FORBIDDEN;
	if ((rc = http_query(c, "status", status, sizeof(status))) < 0)
		return rc;
	if (rc == 1) {
		if (strcmp(status, "open") != 0)
			return http_fail(c, LB_ERR_INVALID_FIELD, "status may only be 'open'");
		open_only = true;
	}
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if ((l.items = json_array()) == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(c->app->store, false, &tx)) == 0) {
		rc = store_incident_list(tx, open_only, &pg, each_incident, &l, &more);
		store_rollback(tx);
	}
	if (rc != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

/* Ids of the accesses of one incident (collected before any is changed). */
struct id_list {
	char (*ids)[LB_REQID_MAX + 1];
	size_t n, cap;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_id(void *ctx, const struct lb_emergency *e)
{
	struct id_list *l = ctx;

	l->last_ms = e->created_ms;
	memcpy(l->last_id, e->id, sizeof(l->last_id));
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p;
		if (cap > CLOSE_MAX)
			return LB_ERR_TOO_MANY_ITEMS;
		if ((p = realloc(l->ids, cap * sizeof(l->ids[0]))) == NULL)
			return LB_ERR_NOMEM;
		l->ids = p;
		l->cap = cap;
	}
	memcpy(l->ids[l->n++], e->id, sizeof(l->ids[0]));
	return 0;
}

static int
incident_accesses(struct lb_tx *tx, const char *incident, int64_t now_ms, struct id_list *l)
{
	struct lb_emergency_filter f = { .incident = incident, .status = -1, .now_ms = now_ms };
	struct lb_page pg = { .limit = 1000 };
	bool more = true;
	int rc = 0;

	for (int pages = 0; more && rc == 0 && pages < 1000; pages++) {
		rc = store_emergency_list(tx, &f, &pg, each_id, l, &more);
		pg.after_ms = l->last_ms;
		memcpy(pg.after_id, l->last_id, sizeof(l->last_id));
	}
	return rc;
}

int
h_incident_get(struct lb_ctx *c)
{
	struct lb_incident *inc = calloc(1, sizeof(*inc));
	struct id_list l = { .ids = NULL };
	struct lb_tx *tx = NULL;
	json_t *o = NULL;
	int rc;

	if (inc == NULL)
		return LB_ERR_NOMEM;
	if (!auth_provider(c, EM_READERS)) {
		rc = LB_ERR_FORBIDDEN;
		goto out;
	}
	if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
	    (rc = store_incident_get(tx, c->params[0], inc)) != 0 ||
	    (rc = incident_accesses(tx, inc->id, c->now_ms, &l)) != 0)
		goto out;
	if ((o = json_incident(inc)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	json_object_set_new(o, "emergency_access", strings_json(l.ids ? &l.ids[0][0] : "",
	    sizeof(l.ids[0]), l.n));
	rc = http_reply(c, 200, o);
	o = NULL;
out:
	store_rollback(tx);
	json_decref(o);
	free(l.ids);
	free(inc);
	return rc;
}

int
h_incident_close(struct lb_ctx *c)
{
	struct lb_incident *inc = calloc(1, sizeof(*inc));
	struct lb_emergency *e = malloc(sizeof(*e));
	struct id_list l = { .ids = NULL };
	char (*ended)[LB_REQID_MAX + 1] = NULL;
	size_t nended = 0;
	struct lb_tx *tx = NULL;
	json_t *d = NULL, *o = NULL;
	int rc;

	if (inc == NULL || e == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if (!auth_provider(c, LB_ROLE_INCIDENT_MANAGER)) {
		rc = LB_ERR_FORBIDDEN;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = store_incident_get(tx, c->params[0], inc)) != 0)
		goto out;
	int64_t version = inc->version;
	if ((rc = lb_incident_close(inc, &c->actor, c->now_ms)) != 0) {
		if (rc == LB_ERR_INVALID_STATE)
			rc = http_fail(c, rc, "the incident is already closed");
		goto out;
	}
	if ((rc = store_incident_update(tx, inc, version)) != 0 ||
	    (rc = incident_accesses(tx, inc->id, c->now_ms, &l)) != 0)
		goto out;
	if (l.n > 0 && (ended = calloc(l.n, sizeof(*ended))) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	/* Every access still pending or active ends now, in this transaction. */
	for (size_t i = 0; i < l.n; i++) {
		if ((rc = store_emergency_get(tx, l.ids[i], e)) != 0)
			goto out;
		int64_t ev = e->version;
		enum lb_emergency_status st = lb_emergency_status_at(e, c->now_ms);
		if (st != LB_EM_ACTIVE && st != LB_EM_PENDING_APPROVAL)
			continue;
		if ((rc = lb_emergency_end(e, &c->actor, LB_EM_END_INCIDENT, c->now_ms)) != 0 ||
		    (rc = app_emergency_commit(tx, e, LB_EM_OP_END, ev, &c->actor, c->client_ip,
		    c->now_ms)) != 0)
			goto out;
		memcpy(ended[nended++], e->id, sizeof(ended[0]));
	}
	if ((d = json_incident(inc)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	json_object_set_new(d, "ended_emergency_access",
	    strings_json(ended ? &ended[0][0] : "", sizeof(ended[0]), nended));
	if ((rc = http_audit(c, tx, "", LB_RT_EMERGENCY, "CloseIncident", inc->id, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc != 0)
		goto out;
	/* The live grants go before the answer: the next access check refuses. */
	for (size_t i = 0; i < nended; i++)
		if (c->app->live != NULL)
			live_remove(c->app->live, ended[i]);
	log_info("incident", "id=%s closed by=%s ended=%zu", inc->id, c->actor.id, nended);
	o = json_incref(d);
	rc = http_reply(c, 200, o);
out:
	if (rc == LB_ERR_CONFLICT)
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the incident changed meanwhile");
	store_rollback(tx);
	json_decref(d);
	free(l.ids);
	free(ended);
	free(inc);
	free(e);
	return rc;
}

/* ------------------------------------------------------- emergency access */

/* Resource paths of the tenant's requests denied in the last 7 days. */
struct denied {
	char **paths;
	size_t n, cap;
	int64_t now_ms;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
	bool done;                      /* reached requests too old to matter */
};

static int
each_denied(void *ctx, const struct lb_request *r)
{
	struct denied *d = ctx;

	d->last_ms = r->created_ms;
	memcpy(d->last_id, r->id, sizeof(d->last_id));
	if (r->created_ms <= d->now_ms - DENIED_CREATED_LOOKBACK_MS) {
		d->done = true;
		return 0;
	}
	if (!lb_request_denied_recently(r, d->now_ms))
		return 0;
	for (size_t i = 0; i < r->nresources; i++) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 32;
			void *p;
			if (cap > DENIED_MAX)
				return LB_ERR_TOO_MANY_ITEMS;
			if ((p = realloc(d->paths, cap * sizeof(d->paths[0]))) == NULL)
				return LB_ERR_NOMEM;
			d->paths = p;
			d->cap = cap;
		}
		if ((d->paths[d->n] = strdup(r->resources[i])) == NULL)
			return LB_ERR_NOMEM;
		d->n++;
	}
	return 0;
}

static void
denied_free(struct denied *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->paths[i]);
	free(d->paths);
}

static int
denied_load(struct lb_tx *tx, const char *tenant, int64_t now_ms, struct denied *d)
{
	struct lb_request_filter f = { .tenant = tenant, .status = LB_ST_DENIED, .now_ms = now_ms };
	struct lb_page pg = { .limit = 200 };
	bool more = true;
	int rc = 0;

	d->now_ms = now_ms;
	for (int pages = 0; more && !d->done && rc == 0 && pages < 10000; pages++) {
		rc = store_request_list(tx, &f, &pg, each_denied, d, &more);
		pg.after_ms = d->last_ms;
		memcpy(pg.after_id, d->last_id, sizeof(d->last_id));
	}
	return rc;
}

int
h_emergency_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "incident", "tenant", "workload", "resources",
		"justification", "duration_minutes", NULL };
	struct lb_emergency_input *in = calloc(1, sizeof(*in));
	struct lb_emergency *e = calloc(1, sizeof(*e));
	struct lb_incident *inc = calloc(1, sizeof(*inc));
	struct denied dn = { .paths = NULL };
	struct lb_provider_settings ps;
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	uint64_t count = 0;
	char id[LB_REQID_MAX + 1];
	json_t *o = NULL, *ans = NULL;
	int rc;

	if (in == NULL || e == NULL || inc == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if (!auth_provider(c, LB_ROLE_INCIDENT_MANAGER | LB_ROLE_SUPPORT_ENGINEER)) {
		rc = LB_ERR_FORBIDDEN;
		goto out;
	}
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = json_str(c, o, "incident", true, in->incident, sizeof(in->incident))) != 0 ||
	    (rc = json_str(c, o, "tenant", true, in->tenant, sizeof(in->tenant))) != 0 ||
	    (rc = json_str(c, o, "workload", true, in->workload, sizeof(in->workload))) != 0 ||
	    (rc = json_strs(c, o, "resources", true, &in->resources[0][0],
	    sizeof(in->resources[0]), LB_RESOURCES_MAX, &in->nresources,
	    LB_ERR_TOO_MANY_ITEMS)) != 0 ||
	    (rc = json_str(c, o, "justification", true, in->justification,
	    sizeof(in->justification))) != 0 ||
	    (rc = json_int(c, o, "duration_minutes", false, &in->duration_minutes)) != 0)
		goto out;
	if (json_object_get(o, "duration_minutes") != NULL && in->duration_minutes == 0) {
		rc = LB_ERR_INVALID_DURATION;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		goto out;
	if ((rc = store_tenant_get(tx, in->tenant, &t)) == LB_ERR_NOT_FOUND) {
		rc = http_fail(c, LB_ERR_NOT_FOUND, "no tenant '%s'", in->tenant);
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = store_incident_get(tx, in->incident, inc)) == LB_ERR_NOT_FOUND) {
		rc = http_fail(c, LB_ERR_NOT_FOUND, "no incident '%s'", in->incident);
		goto out;
	}
	if (rc != 0 || (rc = app_provider_settings_load(tx, &ps)) != 0 ||
	    (rc = denied_load(tx, t.id, c->now_ms, &dn)) != 0 ||
	    (rc = store_emergency_count_since(tx, t.id,
	    c->now_ms - lb_emergency_window_ms(&ps), &count)) != 0)
		goto out;
	ids_new(LB_EMERGENCY_ID_PREFIX, id, sizeof(id));
	rc = lb_emergency_create(id, in, &c->actor, inc, &ps, (const char *const *)dn.paths, dn.n,
	    count > (uint64_t)LB_EMERGENCY_CAP_MAX ? LB_EMERGENCY_CAP_MAX + 1 : (int)count,
	    c->now_ms, e);
	if (lb_emergency_guard_error(rc)) {
		/* Refused by a guard rail: the attempt is on the tenant's record. */
		int refused = rc;
		if ((rc = app_emergency_refused(tx, in, &c->actor, refused, c->client_ip,
		    c->now_ms)) != 0) {
			atomic_fetch_add(&c->app->metrics.audit_failures, 1);
			goto out;
		}
		rc = store_commit(tx);
		tx = NULL;
		if (rc != 0)
			goto out;
		log_warn("emergency", "msg=\"emergency access refused\" tenant=%s incident=%s by=%s "
		    "reason=%s", in->tenant, in->incident, c->actor.id, lb_err_code(refused));
		rc = http_fail(c, refused, "%s", lb_err_message(refused));
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = app_emergency_commit(tx, e, LB_EM_OP_REQUEST, 0, &c->actor, c->client_ip,
	    c->now_ms)) != 0 ||
	    (ans = emergency_answer(tx, e, c->now_ms, &rc)) == NULL)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		log_info("emergency", "id=%s tenant=%s incident=%s requested by=%s", e->id, e->tenant,
		    e->incident, c->actor.id);
		rc = http_reply(c, 201, ans);
		ans = NULL;
	}
out:
	store_rollback(tx);
	json_decref(o);
	json_decref(ans);
	denied_free(&dn);
	free(in);
	free(e);
	free(inc);
	return rc;
}

struct em_list {
	struct lb_tx *tx;
	json_t *items;
	int64_t now_ms;
	int64_t last_ms;
	char last_id[LB_REQID_MAX + 1];
};

static int
each_emergency(void *ctx, const struct lb_emergency *e)
{
	struct em_list *l = ctx;
	int rc = 0;
	json_t *o = emergency_answer(l->tx, e, l->now_ms, &rc);

	if (o == NULL)
		return rc;
	json_array_append_new(l->items, o);
	l->last_ms = e->created_ms;
	memcpy(l->last_id, e->id, sizeof(l->last_id));
	return 0;
}

static bool
engineer_only(const struct lb_ctx *c)
{
	return auth_provider(c, LB_ROLE_SUPPORT_ENGINEER) &&
	    !auth_provider(c, LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER |
	    LB_ROLE_INCIDENT_MANAGER);
}

/* Lists with `f` (tenant already checked), reading ?status=, ?incident=. */
static int
list_emergency(struct lb_ctx *c, struct lb_tx *tx, struct lb_emergency_filter *f)
{
	char status[32], incident[LB_REQID_MAX + 1];
	struct em_list l = { .tx = tx, .now_ms = c->now_ms };
	struct lb_page pg;
	bool more = false;
	int rc;

	if ((rc = http_query(c, "status", status, sizeof(status))) < 0)
		return rc;
	if (rc == 1) {
		enum lb_emergency_status st;
		if (lb_emergency_status_parse(status, &st) != 0)
			return http_fail(c, LB_ERR_INVALID_FIELD, "unknown status '%s'", status);
		f->status = (int)st;
	}
	if ((rc = http_query(c, "incident", incident, sizeof(incident))) < 0)
		return rc;
	if (rc == 1)
		f->incident = incident;
	if ((rc = http_page(c, &pg)) != 0)
		return rc;
	if (engineer_only(c))
		f->requester = c->actor.id;
	f->now_ms = c->now_ms;
	if ((l.items = json_array()) == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_emergency_list(tx, f, &pg, each_emergency, &l, &more)) != 0) {
		json_decref(l.items);
		return rc;
	}
	return http_reply(c, 200, http_list(l.items, more, l.last_ms, l.last_id));
}

int
h_emergency_list_all(struct lb_ctx *c)
{
	struct lb_emergency_filter f = { .status = -1 };
	char tenant[LB_ID_MAX + 1];
	struct lb_tx *tx = NULL;
	int rc;

	if (!auth_provider(c, EM_READERS))
		return LB_ERR_FORBIDDEN;
	if ((rc = http_query(c, "tenant", tenant, sizeof(tenant))) < 0)
		return rc;
	if (rc == 1)
		f.tenant = tenant;
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = list_emergency(c, tx, &f);
	store_rollback(tx);
	return rc;
}

int
h_emergency_list_tenant(struct lb_ctx *c)
{
	struct lb_emergency_filter f = { .status = -1 };
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	if ((rc = auth_load_tenant(c, tx, c->params[0], EM_READERS, LB_ROLES_TENANT, &t)) == 0) {
		f.tenant = t.id;
		rc = list_emergency(c, tx, &f);
	}
	store_rollback(tx);
	return rc;
}

/*
 * Loads access `id` as the caller may see it: with `tenant` (the tenant
 * path) it must belong to that tenant, which the caller may read.
 */
static int
load_emergency(struct lb_ctx *c, struct lb_tx *tx, const char *tenant, const char *id,
    struct lb_emergency *e)
{
	struct lb_tenant t;
	int rc;

	if (tenant != NULL) {
		if ((rc = auth_load_tenant(c, tx, tenant, EM_READERS, LB_ROLES_TENANT, &t)) != 0)
			return rc;
	} else if (!auth_provider(c, EM_READERS)) {
		return LB_ERR_FORBIDDEN;
	}
	if ((rc = store_emergency_get(tx, id, e)) != 0)
		return rc;
	if ((tenant != NULL && strcmp(e->tenant, tenant) != 0) || !lb_emergency_visible(e, &c->actor))
		return LB_ERR_NOT_FOUND;
	return 0;
}

static int
get_emergency(struct lb_ctx *c, const char *tenant, const char *id)
{
	struct lb_emergency *e = malloc(sizeof(*e));
	struct lb_tx *tx = NULL;
	json_t *o = NULL;
	int rc;

	if (e == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(c->app->store, false, &tx)) == 0 &&
	    (rc = load_emergency(c, tx, tenant, id, e)) == 0 &&
	    (o = emergency_answer(tx, e, c->now_ms, &rc)) != NULL)
		rc = http_reply(c, 200, o);
	store_rollback(tx);
	free(e);
	return rc;
}

int
h_emergency_get(struct lb_ctx *c)
{
	return get_emergency(c, NULL, c->params[0]);
}

int
h_emergency_get_tenant(struct lb_ctx *c)
{
	return get_emergency(c, c->params[0], c->params[1]);
}

enum em_action { EM_APPROVE, EM_END, EM_OBJECT, EM_REVIEW };

/* One change to an access by the caller, committed with its record. */
static int
change(struct lb_ctx *c, enum em_action act, const char *tenant, const char *id)
{
	static const char *const no_keys[] = { NULL };
	static const char *const comment_keys[] = { "comment", NULL };
	static const char *const response_keys[] = { "response", NULL };
	struct lb_emergency *e = malloc(sizeof(*e));
	struct lb_incident *inc = malloc(sizeof(*inc));
	char text[LB_COMMENT_MAX + 1] = "";
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *ans = NULL;
	int op = LB_EM_OP_NONE, rc;

	if (e == NULL || inc == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if (act == EM_OBJECT || act == EM_REVIEW || c->body_len > 0) {
		const char *field = act == EM_OBJECT ? "comment" : "response";
		if ((rc = json_body(c, &o)) != 0 ||
		    (rc = json_only(c, o, act == EM_OBJECT ? comment_keys :
		    act == EM_REVIEW ? response_keys : no_keys)) != 0 ||
		    ((act == EM_OBJECT || act == EM_REVIEW) &&
		    (rc = json_str(c, o, field, true, text, sizeof(text))) != 0))
			goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_emergency(c, tx, tenant, id, e)) != 0)
		goto out;
	int64_t version = e->version;
	switch (act) {
	case EM_APPROVE:
		if ((rc = store_incident_get(tx, e->incident, inc)) != 0 ||
		    (rc = lb_emergency_approve(e, &c->actor, inc, c->now_ms)) != 0)
			goto out;
		op = LB_EM_OP_APPROVE;
		break;
	case EM_END:
		if ((rc = lb_emergency_end(e, &c->actor, LB_EM_END_PROVIDER, c->now_ms)) != 0)
			goto out;
		op = LB_EM_OP_END;
		break;
	case EM_OBJECT:
		if ((rc = lb_emergency_object(e, &c->actor, text, c->now_ms)) != 0)
			goto out;
		op = LB_EM_OP_OBJECT;
		break;
	case EM_REVIEW:
		if ((rc = lb_emergency_review(e, &c->actor, text, c->now_ms)) != 0)
			goto out;
		op = LB_EM_OP_REVIEW;
		break;
	}
	if ((rc = app_emergency_commit(tx, e, op, version, &c->actor, c->client_ip,
	    c->now_ms)) != 0 || (ans = emergency_answer(tx, e, c->now_ms, &rc)) == NULL)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		app_emergency_committed(c->app, e);
		log_info("emergency", "id=%s tenant=%s op=%s by=%s", e->id, e->tenant,
		    lb_em_op_name(op), c->actor.id);
		rc = http_reply(c, 200, ans);
		ans = NULL;
	}
out:
	if (rc == LB_ERR_SELF_APPROVAL)
		rc = http_fail(c, rc, "nobody approves their own emergency access: a different "
		    "incident_manager must");
	else if (rc == LB_ERR_INVALID_STATE && e != NULL && act != EM_OBJECT && act != EM_REVIEW)
		rc = http_fail(c, rc, "the emergency access is %s",
		    lb_emergency_status_name(lb_emergency_status_at(e, c->now_ms)));
	else if (rc == LB_ERR_CONFLICT)
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the emergency access changed meanwhile");
	store_rollback(tx);
	json_decref(o);
	json_decref(ans);
	free(e);
	free(inc);
	return rc;
}

int
h_emergency_approve(struct lb_ctx *c)
{
	return change(c, EM_APPROVE, NULL, c->params[0]);
}

int
h_emergency_end(struct lb_ctx *c)
{
	return change(c, EM_END, NULL, c->params[0]);
}

int
h_emergency_review(struct lb_ctx *c)
{
	return change(c, EM_REVIEW, NULL, c->params[0]);
}

int
h_emergency_object(struct lb_ctx *c)
{
	return change(c, EM_OBJECT, c->params[0], c->params[1]);
}

int
h_emergency_grant(struct lb_ctx *c)
{
	struct lb_emergency *e = malloc(sizeof(*e));
	struct lb_grant_claims *g = calloc(1, sizeof(*g));
	struct lb_tx *tx = NULL;
	json_t *claims = NULL, *d = NULL;
	char *token = NULL, kid[LB_KID_MAX + 1] = "";
	int rc;

	if (e == NULL || g == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = load_emergency(c, tx, NULL, c->params[0], e)) != 0)
		goto out;
	if (strcmp(e->requester, c->actor.id) != 0) {
		rc = http_fail(c, LB_ERR_FORBIDDEN, "only the requester may fetch the grant");
		goto out;
	}
	if (lb_emergency_status_at(e, c->now_ms) != LB_EM_ACTIVE) {
		rc = http_fail(c, LB_ERR_INVALID_STATE, "the emergency access is not active "
		    "(status %s)", lb_emergency_status_name(lb_emergency_status_at(e, c->now_ms)));
		goto out;
	}
	memcpy(g->rid, e->id, sizeof(g->rid));
	memcpy(g->tenant, e->tenant, sizeof(g->tenant));
	memcpy(g->sub, e->requester, sizeof(g->sub));
	memcpy(g->workload, e->workload, sizeof(g->workload));
	memcpy(g->resources, e->resources, sizeof(g->resources));
	g->nresources = e->nresources;
	g->nbf_s = e->starts_ms / 1000;
	g->exp_s = (e->expires_ms + 999) / 1000;
	g->iat_s = c->now_ms / 1000;
	g->emergency = true;
	ids_new("gnt", g->jti, sizeof(g->jti));
	if ((claims = grant_claims_json(g)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = jws_sign(c->app->keys, claims, &token)) != 0 ||
	    (rc = keys_current_kid(c->app->keys, kid)) != 0)
		goto out;
	/* The record names the grant by its jti; the token itself is never stored. */
	d = json_pack("{s:s, s:s, s:s, s:o}", "emergency_id", e->id, "jti", g->jti, "kid", kid,
	    "expires_at", json_time(e->expires_ms));
	if (d == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = http_audit(c, tx, e->tenant, LB_RT_EMERGENCY, "IssueEmergencyGrant", e->id,
	    d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc != 0)
		goto out;
	rc = http_reply(c, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o}",
	    "token", token, "emergency_access_id", e->id, "request_id", e->id,
	    "tenant", e->tenant, "workload", e->workload,
	    "resources", strings_json(&e->resources[0][0], sizeof(e->resources[0]), e->nresources),
	    "emergency", 1, "not_before", json_time(e->starts_ms),
	    "expires_at", json_time(e->expires_ms)));
out:
	store_rollback(tx);
	if (token != NULL) {
		sodium_memzero(token, strlen(token));
		free(token);
	}
	json_decref(claims);
	json_decref(d);
	free(e);
	free(g);
	return rc;
}
