/*
 * Break-glass: the rules of incidents and emergency access (SPEC 2
 * "Emergency access", docs/break-glass.md).
 *
 * Like the rest of the core this file reads no clock and no storage: the
 * incident, the tenant's recent denials and the count of emergency accesses
 * in the window are looked up by the caller and passed in with `now_ms`, so
 * every guard rail, the 12-hour limit and the 48-hour notice deadline are
 * tested to the millisecond without waiting (tests/unit/test_emergency.c).
 * Functions return 0 or a negative enum lb_err and change their object only
 * on success.
 */
#include <string.h>

#include "core/core.h"

#define MINUTE_MS 60000LL
#define HOUR_MS   (60 * MINUTE_MS)

static const char *const severity_names[] = {
	[LB_SEV_LOW] = "low",
	[LB_SEV_MEDIUM] = "medium",
	[LB_SEV_HIGH] = "high",
	[LB_SEV_CRITICAL] = "critical",
};

static const char *const em_status_names[] = {
	[LB_EM_PENDING_APPROVAL] = "pending_approval",
	[LB_EM_ACTIVE] = "active",
	[LB_EM_ENDED] = "ended",
	[LB_EM_EXPIRED] = "expired",
};

static const char *const em_op_names[] = {
	[LB_EM_OP_NONE] = "",
	[LB_EM_OP_REQUEST] = "RequestEmergencyAccess",
	[LB_EM_OP_APPROVE] = "ApproveEmergencyAccess",
	[LB_EM_OP_END] = "EndEmergencyAccess",
	[LB_EM_OP_EXPIRE] = "ExpireEmergencyAccess",
	[LB_EM_OP_OBJECT] = "ObjectEmergencyAccess",
	[LB_EM_OP_REVIEW] = "AnswerEmergencyReview",
	[LB_EM_OP_REFUSE] = "RefuseEmergencyAccess",
	[LB_EM_OP_NOTICE_OVERDUE] = "EmergencyNoticeOverdue",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
lb_severity_name(enum lb_severity s)
{
	if ((unsigned)s >= NELEM(severity_names))
		return "unknown";
	return severity_names[s];
}

int
lb_severity_parse(const char *s, enum lb_severity *out)
{
	if (s == NULL || out == NULL)
		return LB_ERR_INVALID_FIELD;
	for (size_t i = 0; i < NELEM(severity_names); i++) {
		if (strcmp(severity_names[i], s) == 0) {
			*out = (enum lb_severity)i;
			return 0;
		}
	}
	return LB_ERR_INVALID_FIELD;
}

const char *
lb_emergency_status_name(enum lb_emergency_status s)
{
	if ((unsigned)s >= NELEM(em_status_names))
		return "unknown";
	return em_status_names[s];
}

int
lb_emergency_status_parse(const char *s, enum lb_emergency_status *out)
{
	if (s == NULL || out == NULL)
		return LB_ERR_INVALID_FIELD;
	for (size_t i = 0; i < NELEM(em_status_names); i++) {
		if (strcmp(em_status_names[i], s) == 0) {
			*out = (enum lb_emergency_status)i;
			return 0;
		}
	}
	return LB_ERR_INVALID_FIELD;
}

const char *
lb_em_op_name(int op)
{
	if (op <= 0 || (size_t)op >= NELEM(em_op_names))
		return "";
	return em_op_names[op];
}

/* Copies a NUL-terminated string known to fit (checked by the caller). */
static void
copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool
is_provider_with(const struct lb_actor *a, unsigned roles)
{
	return a != NULL && lb_actor_is_provider(a) && (a->roles & roles) != 0;
}

/* ------------------------------------------------------------- incidents */

int
lb_incident_declare(const char *id, const char *title, enum lb_severity sev,
    const char (*tenants)[LB_ID_MAX + 1], size_t ntenants, const struct lb_actor *actor,
    int64_t now_ms, struct lb_incident *out)
{
	struct lb_incident inc;

	if (id == NULL || title == NULL || out == NULL || (ntenants > 0 && tenants == NULL))
		return LB_ERR_INTERNAL;
	if (!is_provider_with(actor, LB_ROLE_INCIDENT_MANAGER))
		return LB_ERR_FORBIDDEN;
	if (title[0] == '\0')
		return LB_ERR_MISSING_FIELD;
	if (strnlen(title, LB_NAME_MAX + 1) > LB_NAME_MAX)
		return LB_ERR_FIELD_TOO_LONG;
	if ((unsigned)sev >= NELEM(severity_names))
		return LB_ERR_INVALID_FIELD;
	if (ntenants == 0)
		return LB_ERR_MISSING_FIELD;
	if (ntenants > LB_INCIDENT_TENANTS_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	memset(&inc, 0, sizeof(inc));
	for (size_t i = 0; i < ntenants; i++) {
		if (!lb_tenant_id_valid(tenants[i]))
			return LB_ERR_INVALID_VALUE;
		for (size_t j = 0; j < i; j++)
			if (strcmp(tenants[i], tenants[j]) == 0)
				return LB_ERR_INVALID_VALUE;
		copy(inc.tenants[i], sizeof(inc.tenants[i]), tenants[i]);
	}
	inc.ntenants = ntenants;
	copy(inc.id, sizeof(inc.id), id);
	copy(inc.title, sizeof(inc.title), title);
	inc.severity = sev;
	copy(inc.declared_by, sizeof(inc.declared_by), actor->id);
	inc.started_ms = now_ms;
	*out = inc;
	return 0;
}

bool
lb_incident_open(const struct lb_incident *inc)
{
	return inc != NULL && inc->ended_ms == 0;
}

bool
lb_incident_affects(const struct lb_incident *inc, const char *tenant)
{
	if (inc == NULL || tenant == NULL)
		return false;
	for (size_t i = 0; i < inc->ntenants && i < LB_INCIDENT_TENANTS_MAX; i++)
		if (strcmp(inc->tenants[i], tenant) == 0)
			return true;
	return false;
}

int
lb_incident_close(struct lb_incident *inc, const struct lb_actor *actor, int64_t now_ms)
{
	if (inc == NULL)
		return LB_ERR_INTERNAL;
	if (!is_provider_with(actor, LB_ROLE_INCIDENT_MANAGER))
		return LB_ERR_FORBIDDEN;
	if (!lb_incident_open(inc))
		return LB_ERR_INVALID_STATE;
	inc->ended_ms = now_ms;
	copy(inc->closed_by, sizeof(inc->closed_by), actor->id);
	return 0;
}

/* The incident allows emergency access to `tenant` (the three guard rails). */
static int
incident_allows(const struct lb_incident *inc, const char *tenant)
{
	if (!lb_incident_open(inc))
		return LB_ERR_INCIDENT_CLOSED;
	if (inc->severity != LB_SEV_CRITICAL)
		return LB_ERR_INCIDENT_NOT_CRITICAL;
	if (!lb_incident_affects(inc, tenant))
		return LB_ERR_TENANT_NOT_AFFECTED;
	return 0;
}

/* ------------------------------------------------------------ guard rails */

int
lb_emergency_cap(const struct lb_provider_settings *ps)
{
	if (ps == NULL || ps->emergency_cap <= 0)
		return LB_EMERGENCY_CAP_DEFAULT;
	return ps->emergency_cap;
}

int64_t
lb_emergency_window_ms(const struct lb_provider_settings *ps)
{
	if (ps == NULL || ps->emergency_window_hours <= 0)
		return LB_EMERGENCY_WINDOW_DEFAULT * HOUR_MS;
	return (int64_t)ps->emergency_window_hours * HOUR_MS;
}

bool
lb_emergency_in_window(int64_t created_ms, int64_t now_ms, int64_t window_ms)
{
	return created_ms > now_ms - window_ms && created_ms <= now_ms;
}

int
lb_provider_settings_check(const struct lb_provider_settings *ps)
{
	if (ps == NULL)
		return LB_ERR_INTERNAL;
	if (ps->emergency_cap < 0 || ps->emergency_cap > LB_EMERGENCY_CAP_MAX ||
	    ps->emergency_window_hours < 0 ||
	    ps->emergency_window_hours > LB_EMERGENCY_WINDOW_MAX)
		return LB_ERR_INVALID_VALUE;
	return 0;
}

bool
lb_request_denied_recently(const struct lb_request *r, int64_t now_ms)
{
	if (r == NULL || r->status != LB_ST_DENIED)
		return false;
	for (size_t i = 0; i < r->ndecisions && i < LB_DECISIONS_MAX; i++) {
		const struct lb_decision *d = &r->decisions[i];
		if (d->kind == LB_DEC_DENY && d->at_ms > now_ms - LB_EMERGENCY_DENIED_LOOKBACK_MS &&
		    d->at_ms <= now_ms)
			return true;
	}
	return false;
}

bool
lb_emergency_guard_error(int err)
{
	return err == LB_ERR_INCIDENT_NOT_CRITICAL || err == LB_ERR_TENANT_NOT_AFFECTED ||
	    err == LB_ERR_INCIDENT_CLOSED || err == LB_ERR_EMERGENCY_CAP ||
	    err == LB_ERR_TENANT_DENIED_SCOPE;
}

/* Shape of the input: the same limits as a request, duration 60..720. */
static int
input_check(const struct lb_emergency_input *in, int *duration)
{
	int d = in->duration_minutes == 0 ? LB_EMERGENCY_DURATION_DEFAULT : in->duration_minutes;

	if (!lb_tenant_id_valid(in->tenant) || !lb_workload_valid(in->workload))
		return LB_ERR_INVALID_VALUE;
	if (in->nresources == 0)
		return LB_ERR_MISSING_FIELD;
	if (in->nresources > LB_RESOURCES_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	for (size_t i = 0; i < in->nresources; i++)
		if (!lb_resource_valid(in->resources[i]))
			return LB_ERR_INVALID_VALUE;
	if (in->justification[0] == '\0')
		return LB_ERR_MISSING_FIELD;
	if (d < LB_EMERGENCY_DURATION_MIN || d > LB_EMERGENCY_DURATION_MAX)
		return LB_ERR_INVALID_DURATION;
	*duration = d;
	return 0;
}

/* A requested resource overlaps a denied one, in either direction. */
static bool
scope_denied(const struct lb_emergency_input *in, const char *const *denied, size_t ndenied)
{
	for (size_t i = 0; i < in->nresources; i++)
		for (size_t j = 0; j < ndenied; j++)
			if (denied[j] != NULL && (lb_resource_covers(in->resources[i], denied[j]) ||
			    lb_resource_covers(denied[j], in->resources[i])))
				return true;
	return false;
}

int
lb_emergency_create(const char *id, const struct lb_emergency_input *in,
    const struct lb_actor *actor, const struct lb_incident *inc,
    const struct lb_provider_settings *ps, const char *const *denied, size_t ndenied,
    int count_in_window, int64_t now_ms, struct lb_emergency *out)
{
	struct lb_emergency e;
	int duration = 0, rc;

	if (id == NULL || in == NULL || inc == NULL || out == NULL ||
	    (ndenied > 0 && denied == NULL))
		return LB_ERR_INTERNAL;
	if (!is_provider_with(actor, LB_ROLE_INCIDENT_MANAGER | LB_ROLE_SUPPORT_ENGINEER))
		return LB_ERR_FORBIDDEN;
	if ((rc = input_check(in, &duration)) != 0)
		return rc;
	if (strcmp(inc->id, in->incident) != 0)
		return LB_ERR_INTERNAL;
	if ((rc = incident_allows(inc, in->tenant)) != 0)
		return rc;
	if (scope_denied(in, denied, ndenied))
		return LB_ERR_TENANT_DENIED_SCOPE;
	if (count_in_window >= lb_emergency_cap(ps))
		return LB_ERR_EMERGENCY_CAP;
	memset(&e, 0, sizeof(e));
	copy(e.id, sizeof(e.id), id);
	copy(e.incident, sizeof(e.incident), in->incident);
	copy(e.tenant, sizeof(e.tenant), in->tenant);
	copy(e.requester, sizeof(e.requester), actor->id);
	copy(e.workload, sizeof(e.workload), in->workload);
	memcpy(e.resources, in->resources, sizeof(e.resources));
	e.nresources = in->nresources;
	copy(e.justification, sizeof(e.justification), in->justification);
	e.duration_minutes = duration;
	e.status = LB_EM_PENDING_APPROVAL;
	e.created_ms = now_ms;
	*out = e;
	return 0;
}

/* -------------------------------------------------------------- lifecycle */

enum lb_emergency_status
lb_emergency_status_at(const struct lb_emergency *e, int64_t now_ms)
{
	if (e->status == LB_EM_ACTIVE && now_ms >= e->expires_ms)
		return LB_EM_EXPIRED;
	return e->status;
}

int
lb_emergency_approve(struct lb_emergency *e, const struct lb_actor *actor,
    const struct lb_incident *inc, int64_t now_ms)
{
	int rc;

	if (e == NULL || inc == NULL)
		return LB_ERR_INTERNAL;
	if (!is_provider_with(actor, LB_ROLE_INCIDENT_MANAGER))
		return LB_ERR_FORBIDDEN;
	if (strcmp(actor->id, e->requester) == 0)
		return LB_ERR_SELF_APPROVAL;
	if (lb_emergency_status_at(e, now_ms) != LB_EM_PENDING_APPROVAL)
		return LB_ERR_INVALID_STATE;
	if (strcmp(inc->id, e->incident) != 0)
		return LB_ERR_INTERNAL;
	if ((rc = incident_allows(inc, e->tenant)) != 0)
		return rc;
	copy(e->approver, sizeof(e->approver), actor->id);
	e->status = LB_EM_ACTIVE;
	e->starts_ms = now_ms;
	e->expires_ms = now_ms + (int64_t)e->duration_minutes * MINUTE_MS;
	return 0;
}

int
lb_emergency_end(struct lb_emergency *e, const struct lb_actor *actor,
    const char *reason, int64_t now_ms)
{
	enum lb_emergency_status st;

	if (e == NULL || actor == NULL || reason == NULL ||
	    strlen(reason) >= sizeof(e->end_reason))
		return LB_ERR_INTERNAL;
	if (strcmp(reason, LB_EM_END_PROVIDER) == 0 &&
	    !(is_provider_with(actor, LB_ROLE_INCIDENT_MANAGER) ||
	    (lb_actor_is_provider(actor) && strcmp(actor->id, e->requester) == 0)))
		return LB_ERR_FORBIDDEN;
	st = lb_emergency_status_at(e, now_ms);
	if (st != LB_EM_PENDING_APPROVAL && st != LB_EM_ACTIVE)
		return LB_ERR_INVALID_STATE;
	e->status = LB_EM_ENDED;
	e->ended_ms = now_ms;
	copy(e->ended_by, sizeof(e->ended_by), actor->id);
	copy(e->end_reason, sizeof(e->end_reason), reason);
	return 0;
}

int
lb_emergency_tick(struct lb_emergency *e, int64_t now_ms, int *op)
{
	if (e == NULL || op == NULL)
		return LB_ERR_INTERNAL;
	if (e->status != LB_EM_ACTIVE || lb_emergency_status_at(e, now_ms) != LB_EM_EXPIRED)
		return 0;
	e->status = LB_EM_EXPIRED;
	e->ended_ms = e->expires_ms;
	copy(e->end_reason, sizeof(e->end_reason), LB_EM_END_EXPIRED);
	*op = LB_EM_OP_EXPIRE;
	return 1;
}

int
lb_emergency_object(struct lb_emergency *e, const struct lb_actor *actor,
    const char *comment, int64_t now_ms)
{
	if (e == NULL || actor == NULL || comment == NULL)
		return LB_ERR_INTERNAL;
	if (lb_actor_is_provider(actor) || strcmp(actor->realm, e->tenant) != 0 ||
	    !(actor->roles & (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_COMPLIANCE_ADMIN)))
		return LB_ERR_FORBIDDEN;
	if (comment[0] == '\0')
		return LB_ERR_MISSING_FIELD;
	if (strnlen(comment, LB_COMMENT_MAX + 1) > LB_COMMENT_MAX)
		return LB_ERR_FIELD_TOO_LONG;
	if (e->starts_ms == 0 || e->objection_by[0] != '\0')
		return LB_ERR_INVALID_STATE;
	copy(e->objection_by, sizeof(e->objection_by), actor->id);
	copy(e->objection_comment, sizeof(e->objection_comment), comment);
	e->objection_ms = now_ms;
	return 0;
}

int
lb_emergency_review(struct lb_emergency *e, const struct lb_actor *actor,
    const char *response, int64_t now_ms)
{
	if (e == NULL || actor == NULL || response == NULL)
		return LB_ERR_INTERNAL;
	if (!is_provider_with(actor, LB_ROLE_PROVIDER_ADMIN | LB_ROLE_INCIDENT_MANAGER))
		return LB_ERR_FORBIDDEN;
	if (response[0] == '\0')
		return LB_ERR_MISSING_FIELD;
	if (strnlen(response, LB_COMMENT_MAX + 1) > LB_COMMENT_MAX)
		return LB_ERR_FIELD_TOO_LONG;
	if (e->objection_by[0] == '\0' || e->review_by[0] != '\0')
		return LB_ERR_INVALID_STATE;
	copy(e->review_by, sizeof(e->review_by), actor->id);
	copy(e->review_response, sizeof(e->review_response), response);
	e->review_ms = now_ms;
	return 0;
}

const char *
lb_emergency_review_status(const struct lb_emergency *e)
{
	if (e == NULL || e->objection_by[0] == '\0')
		return NULL;
	return e->review_by[0] != '\0' ? "answered" : "open";
}

/* ------------------------------------------------------ the 48-hour notice */

int64_t
lb_emergency_notice_due(const struct lb_emergency *e)
{
	if (e == NULL || e->starts_ms == 0)
		return 0;
	return e->starts_ms + LB_EMERGENCY_NOTICE_MS;
}

bool
lb_emergency_notice_overdue(const struct lb_emergency *e, int64_t delivered_ms,
    int64_t now_ms)
{
	int64_t due = lb_emergency_notice_due(e);

	if (due == 0 || now_ms < due)
		return false;
	return delivered_ms == 0 || delivered_ms >= due;
}

bool
lb_emergency_visible(const struct lb_emergency *e, const struct lb_actor *actor)
{
	if (e == NULL || actor == NULL)
		return false;
	if (lb_actor_is_provider(actor)) {
		if (actor->roles & (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER |
		    LB_ROLE_INCIDENT_MANAGER))
			return true;
		if (actor->roles & LB_ROLE_SUPPORT_ENGINEER)
			return strcmp(actor->id, e->requester) == 0;
		return false;
	}
	return (actor->roles & LB_ROLES_TENANT_READ) != 0 && strcmp(actor->realm, e->tenant) == 0;
}
