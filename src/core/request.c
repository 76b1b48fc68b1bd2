/*
 * The request state machine of SPEC section 3: creating a request, the
 * passage of time (pending expiry, end of access), the decisions people
 * take on it, the approval stages, and who may see it.
 *
 * Everything here is a function of its arguments.  Time is `now_ms`; the
 * settings, tenant and case are looked up by the caller.  A decision works
 * on a copy of the request and assigns it back only when every check has
 * passed, so a refused decision leaves the caller's request exactly as it
 * was.  The checks of lb_request_decide run in a fixed order documented
 * there and in docs/internals/core.md; the HTTP layer relies on it for the
 * error a caller sees when several things are wrong at once.
 */
#include <string.h>

#include "core/core.h"

#define MS_PER_MINUTE 60000LL

static const char *const status_names[LB_ST_COUNT] = {
	[LB_ST_PENDING_INTERNAL] = "pending_internal",
	[LB_ST_PENDING] = "pending",
	[LB_ST_APPROVED] = "approved",
	[LB_ST_DENIED] = "denied",
	[LB_ST_EXPIRED] = "expired",
	[LB_ST_REVOKED] = "revoked",
	[LB_ST_CANCELLED] = "cancelled",
	[LB_ST_COMPLETED] = "completed",
};

static const char *const decision_names[] = {
	[LB_DEC_APPROVE] = "approve",
	[LB_DEC_DENY] = "deny",
	[LB_DEC_REVOKE] = "revoke",
	[LB_DEC_CANCEL] = "cancel",
};

static const char *const op_names[] = {
	[LB_OP_NONE] = "None",
	[LB_OP_CREATE] = "CreateRequest",
	[LB_OP_APPROVE_INTERNAL] = "ApproveRequestInternal",
	[LB_OP_APPROVE_PARTIAL] = "ApproveRequestPartial",
	[LB_OP_APPROVE] = "ApproveRequest",
	[LB_OP_DENY] = "DenyRequest",
	[LB_OP_REVOKE] = "RevokeRequest",
	[LB_OP_CANCEL] = "CancelRequest",
	[LB_OP_EXPIRE] = "ExpireRequest",
	[LB_OP_COMPLETE] = "CompleteRequest",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* "pending" etc.; "unknown" outside the enum, never NULL. */
const char *
lb_status_name(enum lb_status s)
{
	if ((unsigned)s >= LB_ST_COUNT)
		return "unknown";
	return status_names[s];
}

/* An unknown name is a bad enum value: invalid_field. */
int
lb_status_parse(const char *s, enum lb_status *out)
{
	if (s == NULL || out == NULL)
		return LB_ERR_INVALID_FIELD;
	for (size_t i = 0; i < LB_ST_COUNT; i++) {
		if (strcmp(status_names[i], s) == 0) {
			*out = (enum lb_status)i;
			return 0;
		}
	}
	return LB_ERR_INVALID_FIELD;
}

/* SPEC 3 "Binding decision": no call leaves these. */
bool
lb_status_final(enum lb_status s)
{
	return s == LB_ST_DENIED || s == LB_ST_EXPIRED || s == LB_ST_REVOKED ||
	    s == LB_ST_CANCELLED || s == LB_ST_COMPLETED;
}

/* "approve" etc.; "unknown" outside the enum, never NULL. */
const char *
lb_decision_name(enum lb_decision_kind k)
{
	if ((unsigned)k >= NELEM(decision_names))
		return "unknown";
	return decision_names[k];
}

/* "ApproveRequest" etc.; "None" for LB_OP_NONE, "unknown" outside. */
const char *
lb_op_name(int op)
{
	if (op < 0 || (size_t)op >= NELEM(op_names))
		return "unknown";
	return op_names[op];
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/*
 * See core.h.  The checks run in this order; the first failure answers:
 *   requester is a provider support_engineer          forbidden
 *   case is the tenant's and the one asked for        not_found
 *   case is open                                      case_not_open
 *   case is assigned to the requester                 case_not_assigned
 *   1..LB_RESOURCES_MAX resources                     missing_field,
 *                                                     too_many_items
 *   each resource valid and distinct                  invalid_value
 *   workload valid                                    invalid_value
 *   justification not blank                           missing_field
 *   duration 0 (= 720) or 60..720                     invalid_duration
 *   id valid, now_ms in range                         invalid_value
 * A string that fills its array without a NUL is field_too_long.  `ps` may
 * be NULL (no provider-wide requirement).
 */
int
lb_request_create(const char *id, const struct lb_request_input *in,
    const struct lb_actor *requester, const struct lb_tenant *t,
    const struct lb_settings *s, const struct lb_provider_settings *ps,
    const struct lb_case *c, int64_t now_ms, struct lb_request *out)
{
	struct lb_request r;
	size_t n;
	int duration, rc;

	if (id == NULL || in == NULL || requester == NULL || t == NULL ||
	    s == NULL || c == NULL || out == NULL)
		return LB_ERR_INTERNAL;

	if (!lb_actor_is_provider(requester) ||
	    (requester->roles & LB_ROLE_SUPPORT_ENGINEER) == 0)
		return LB_ERR_FORBIDDEN;

	if (strncmp(c->tenant, t->id, sizeof(c->tenant)) != 0 ||
	    strncmp(c->id, in->case_id, sizeof(c->id)) != 0)
		return LB_ERR_NOT_FOUND;
	if (c->status != LB_CASE_OPEN)
		return LB_ERR_CASE_CLOSED;
	if (c->assigned_to[0] == '\0' ||
	    strncmp(c->assigned_to, requester->id, sizeof(c->assigned_to)) != 0)
		return LB_ERR_CASE_NOT_ASSIGNED;

	if (in->nresources == 0)
		return LB_ERR_MISSING_FIELD;
	if (in->nresources > LB_RESOURCES_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	for (size_t i = 0; i < in->nresources; i++) {
		if (strnlen(in->resources[i], sizeof(in->resources[i])) ==
		    sizeof(in->resources[i]))
			return LB_ERR_FIELD_TOO_LONG;
		if (!lb_resource_valid(in->resources[i]))
			return LB_ERR_INVALID_VALUE;
		for (size_t j = 0; j < i; j++)
			if (strcmp(in->resources[i], in->resources[j]) == 0)
				return LB_ERR_INVALID_VALUE;
	}

	if (strnlen(in->workload, sizeof(in->workload)) == sizeof(in->workload))
		return LB_ERR_FIELD_TOO_LONG;
	if (!lb_workload_valid(in->workload))
		return LB_ERR_INVALID_VALUE;

	n = strnlen(in->justification, sizeof(in->justification));
	if (n == sizeof(in->justification))
		return LB_ERR_FIELD_TOO_LONG;
	{
		bool blank = true;
		for (size_t i = 0; i < n && blank; i++)
			blank = is_space(in->justification[i]);
		if (blank)
			return LB_ERR_MISSING_FIELD;
	}

	duration = in->duration_minutes == 0 ? LB_DURATION_DEFAULT :
	    in->duration_minutes;
	if (duration < LB_DURATION_MIN || duration > LB_DURATION_MAX)
		return LB_ERR_INVALID_DURATION;

	if (!lb_id_valid(id) || strlen(id) > LB_REQID_MAX)
		return LB_ERR_INVALID_VALUE;
	if (now_ms < 0 || now_ms > INT64_MAX - LB_PENDING_TTL_MS)
		return LB_ERR_INVALID_VALUE;

	memset(&r, 0, sizeof(r));
	if ((rc = lb_copy(r.id, sizeof(r.id), id)) != 0 ||
	    (rc = lb_copy(r.tenant, sizeof(r.tenant), t->id)) != 0 ||
	    (rc = lb_copy(r.case_id, sizeof(r.case_id), in->case_id)) != 0 ||
	    (rc = lb_copy(r.requester, sizeof(r.requester), requester->id)) != 0 ||
	    (rc = lb_copy(r.workload, sizeof(r.workload), in->workload)) != 0 ||
	    (rc = lb_copy(r.justification, sizeof(r.justification),
	    in->justification)) != 0)
		return rc;
	for (size_t i = 0; i < in->nresources; i++)
		if ((rc = lb_copy(r.resources[i], sizeof(r.resources[i]),
		    in->resources[i])) != 0)
			return rc;
	r.nresources = in->nresources;
	r.internal_required = !s->enabled ||
	    (ps != NULL && ps->require_internal_approval);
	r.status = r.internal_required ? LB_ST_PENDING_INTERNAL : LB_ST_PENDING;
	r.duration_minutes = duration;
	r.created_ms = now_ms;
	r.pending_expires_ms = now_ms + LB_PENDING_TTL_MS;
	r.access_starts_ms = 0;
	r.access_expires_ms = 0;
	r.ndecisions = 0;
	r.version = 1;
	*out = r;
	return 0;
}

enum lb_status
lb_request_status_at(const struct lb_request *r, int64_t now_ms)
{
	switch (r->status) {
	case LB_ST_PENDING_INTERNAL:
	case LB_ST_PENDING:
		return now_ms >= r->pending_expires_ms ? LB_ST_EXPIRED : r->status;
	case LB_ST_APPROVED:
		return now_ms >= r->access_expires_ms ? LB_ST_COMPLETED : r->status;
	case LB_ST_DENIED:
	case LB_ST_EXPIRED:
	case LB_ST_REVOKED:
	case LB_ST_CANCELLED:
	case LB_ST_COMPLETED:
		break;
	}
	return r->status;
}

/*
 * See core.h.  Changes only r->status (not the version: the store sets
 * the version when it writes the row).  `op` may be NULL.
 */
int
lb_request_tick(struct lb_request *r, int64_t now_ms, int *op)
{
	enum lb_status st = lb_request_status_at(r, now_ms);

	if (st == r->status)
		return 0;
	r->status = st;
	if (op != NULL)
		*op = st == LB_ST_EXPIRED ? LB_OP_EXPIRE : LB_OP_COMPLETE;
	return 1;
}

/* The smallest of the requested duration and every approval's. */
int
lb_request_granted_minutes(const struct lb_request *r)
{
	int g = r->duration_minutes;
	size_t n = r->ndecisions < LB_DECISIONS_MAX ? r->ndecisions : LB_DECISIONS_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct lb_decision *d = &r->decisions[i];
		if (d->kind == LB_DEC_APPROVE && d->duration_minutes > 0 &&
		    d->duration_minutes < g)
			g = d->duration_minutes;
	}
	return g;
}

/* Number of approvals recorded for `stage`. */
static int
stage_approvals(const struct lb_request *r, int stage)
{
	int count = 0;

	for (size_t i = 0; i < r->ndecisions && i < LB_DECISIONS_MAX; i++)
		if (r->decisions[i].kind == LB_DEC_APPROVE &&
		    r->decisions[i].stage == stage)
			count++;
	return count;
}

/*
 * The first of `nstages` stages (numbered from 1) with fewer approvals than
 * it requires, or -1 when all are complete.
 */
static int
first_open_stage(const struct lb_request *r, const struct lb_stage_cfg *stages,
    size_t nstages)
{
	for (size_t i = 0; i < nstages; i++)
		if (stage_approvals(r, (int)i + 1) < stages[i].required)
			return (int)i + 1;
	return -1;
}

/*
 * See core.h.  Reads the stored status (call lb_request_tick first to see
 * it as of now): 0 while pending_internal; while pending the first tenant
 * stage still short of approvals; -1 otherwise, and -1 for a pending
 * request whose stages are all complete (possible only when the settings
 * changed under it; the next approval then completes it).
 */
int
lb_request_current_stage(const struct lb_request *r,
    const struct lb_settings *s, enum lb_cloud cloud)
{
	struct lb_stage_cfg stages[LB_STAGES_MAX];
	size_t n;

	if (r == NULL)
		return -1;
	if (r->status == LB_ST_PENDING_INTERNAL)
		return 0;
	if (r->status != LB_ST_PENDING || s == NULL)
		return -1;
	n = lb_settings_effective_stages(s, cloud, stages);
	return first_open_stage(r, stages, n);
}

/* The actor is a principal of the request's tenant holding an approver role. */
static bool
is_tenant_approver_role(const struct lb_request *r, const struct lb_actor *a)
{
	return strncmp(a->realm, r->tenant, sizeof(a->realm)) == 0 &&
	    (a->roles & LB_ROLES_APPROVER) != 0;
}

static bool
is_support_manager(const struct lb_actor *a)
{
	return lb_actor_is_provider(a) && (a->roles & LB_ROLE_SUPPORT_MANAGER) != 0;
}

static bool
is_requester(const struct lb_request *r, const struct lb_actor *a)
{
	return lb_actor_is_provider(a) &&
	    strncmp(a->id, r->requester, sizeof(a->id)) == 0;
}

/* Whether `a` approved `r` at any stage before. */
static bool
has_approved(const struct lb_request *r, const struct lb_actor *a)
{
	for (size_t i = 0; i < r->ndecisions && i < LB_DECISIONS_MAX; i++) {
		const struct lb_decision *d = &r->decisions[i];
		if (d->kind == LB_DEC_APPROVE &&
		    strncmp(d->by, a->id, sizeof(d->by)) == 0 &&
		    strncmp(d->realm, a->realm, sizeof(d->realm)) == 0)
			return true;
	}
	return false;
}

static bool
in_list(const char (*list)[LB_ID_MAX + 1], size_t n, const char *id)
{
	for (size_t i = 0; i < n && i < LB_APPROVERS_MAX; i++)
		if (strncmp(list[i], id, LB_ID_MAX + 1) == 0)
			return true;
	return false;
}

/*
 * Step 2 of lb_request_decide: whether `a` could ever take decision `kind`
 * on `r`, whatever its state.
 */
static bool
may_take_kind(const struct lb_request *r, const struct lb_actor *a,
    enum lb_decision_kind kind)
{
	switch (kind) {
	case LB_DEC_APPROVE:
	case LB_DEC_DENY:
		return is_support_manager(a) || is_tenant_approver_role(r, a);
	case LB_DEC_REVOKE:
		return is_tenant_approver_role(r, a);
	case LB_DEC_CANCEL:
		return is_requester(r, a);
	}
	return false;
}

/*
 * Step 3 of lb_request_decide: whether the status `st` (already ticked)
 * admits decision `kind`.
 */
static bool
state_admits(enum lb_status st, enum lb_decision_kind kind)
{
	switch (kind) {
	case LB_DEC_APPROVE:
	case LB_DEC_DENY:
	case LB_DEC_CANCEL:
		return st == LB_ST_PENDING_INTERNAL || st == LB_ST_PENDING;
	case LB_DEC_REVOKE:
		return st == LB_ST_APPROVED;
	}
	return false;
}

/*
 * Sets the access window of `w` from `now_ms` for the duration granted.
 * LB_ERR_INVALID_VALUE when the end would not fit in an int64.
 */
static int
open_access(struct lb_request *w, int64_t now_ms)
{
	int64_t span = lb_request_granted_minutes(w) * MS_PER_MINUTE;

	if (now_ms < 0 || now_ms > INT64_MAX - span)
		return LB_ERR_INVALID_VALUE;
	w->status = LB_ST_APPROVED;
	w->access_starts_ms = now_ms;
	w->access_expires_ms = now_ms + span;
	return 0;
}

/*
 * See core.h.  The checks run in this order; the first failure answers and
 * leaves `r` unchanged:
 *   0. arguments: an unknown kind                       invalid_value
 *   1. time: the request is ticked to its status at now_ms (on a copy)
 *   2. the actor could never take this kind of decision on this request
 *      (approve/deny: neither a provider support_manager nor an approver
 *      role of the tenant; revoke: no approver role of the tenant; cancel:
 *      not the requester)                              forbidden
 *   3. the status does not admit it (final, expired by time, approved for
 *      approve/deny/cancel, pending for revoke), or the decision list is
 *      full                                            invalid_state
 *   4. the stage: at pending_internal a provider support_manager
 *      (forbidden) who is not the requester (self_approval); at pending
 *      an approver role of the tenant (forbidden), designated
 *      (not_designated_approver), named by the current stage when it names
 *      anyone (not_designated_approver), and for an approval not an
 *      approver before (already_approved); revoke: designated
 *      (not_designated_approver)
 *   5. inputs: duration 0 or 60..granted for an approval, 0 for anything
 *      else (invalid_duration); comment within LB_COMMENT_MAX
 *      (field_too_long)
 * The decision records the stage the request waited on (0 internal,
 * 1..n), or -1 for a revocation.  r->version is not changed: the store
 * sets it when it writes the row.
 */
int
lb_request_decide(struct lb_request *r, const struct lb_actor *actor,
    enum lb_decision_kind kind, int duration_minutes, const char *comment,
    const struct lb_tenant *t, const struct lb_settings *s, int64_t now_ms,
    int *op)
{
	struct lb_request w;
	struct lb_stage_cfg stages[LB_STAGES_MAX];
	struct lb_decision *d;
	size_t nstages = 0;
	int stage = -1, granted, result_op = LB_OP_NONE, rc;

	if (r == NULL || actor == NULL || t == NULL || s == NULL || op == NULL)
		return LB_ERR_INTERNAL;
	if (kind != LB_DEC_APPROVE && kind != LB_DEC_DENY &&
	    kind != LB_DEC_REVOKE && kind != LB_DEC_CANCEL)
		return LB_ERR_INVALID_VALUE;
	if (comment == NULL)
		comment = "";

	/* 1. time */
	w = *r;
	(void)lb_request_tick(&w, now_ms, NULL);

	/* 2. could this actor ever do this? */
	if (!may_take_kind(&w, actor, kind))
		return LB_ERR_FORBIDDEN;

	/* 3. state */
	if (!state_admits(w.status, kind) || w.ndecisions >= LB_DECISIONS_MAX)
		return LB_ERR_INVALID_STATE;

	/* 4. the stage and the actor's place in it */
	if (w.status == LB_ST_PENDING_INTERNAL) {
		stage = 0;
		if (kind != LB_DEC_CANCEL) {
			if (!is_support_manager(actor))
				return LB_ERR_FORBIDDEN;
			if (is_requester(&w, actor))
				return LB_ERR_SELF_APPROVAL;
		}
	} else if (w.status == LB_ST_PENDING) {
		nstages = lb_settings_effective_stages(s, t->cloud, stages);
		stage = first_open_stage(&w, stages, nstages);
		if (stage < 0)          /* settings changed: stages already met */
			stage = (int)nstages;
		if (kind != LB_DEC_CANCEL) {
			const struct lb_stage_cfg *cur = &stages[stage - 1];
			if (!is_tenant_approver_role(&w, actor))
				return LB_ERR_FORBIDDEN;
			if (!lb_settings_is_approver(s, actor->id))
				return LB_ERR_NOT_APPROVER;
			if (cur->napprovers > 0 &&
			    !in_list(cur->approvers, cur->napprovers, actor->id))
				return LB_ERR_NOT_APPROVER;
			if (kind == LB_DEC_APPROVE && has_approved(&w, actor))
				return LB_ERR_ALREADY_APPROVED;
		}
	} else {                        /* approved: revoke */
		stage = -1;
		if (!lb_settings_is_approver(s, actor->id))
			return LB_ERR_NOT_APPROVER;
	}

	/* 5. inputs */
	granted = lb_request_granted_minutes(&w);
	if (kind == LB_DEC_APPROVE) {
		if (duration_minutes != 0 &&
		    (duration_minutes < LB_DURATION_MIN || duration_minutes > granted))
			return LB_ERR_INVALID_DURATION;
		if (duration_minutes != 0)
			granted = duration_minutes;
	} else if (duration_minutes != 0) {
		return LB_ERR_INVALID_DURATION;
	}

	/* Record the decision. */
	d = &w.decisions[w.ndecisions];
	memset(d, 0, sizeof(*d));
	if ((rc = lb_copy(d->by, sizeof(d->by), actor->id)) != 0 ||
	    (rc = lb_copy(d->realm, sizeof(d->realm), actor->realm)) != 0 ||
	    (rc = lb_copy(d->comment, sizeof(d->comment), comment)) != 0)
		return rc;
	d->stage = stage;
	d->kind = kind;
	d->at_ms = now_ms;
	d->duration_minutes = kind == LB_DEC_APPROVE ? granted : 0;
	w.ndecisions++;

	/* Apply it. */
	switch (kind) {
	case LB_DEC_APPROVE:
		if (w.status == LB_ST_PENDING_INTERNAL && s->enabled) {
			w.status = LB_ST_PENDING;
			result_op = LB_OP_APPROVE_INTERNAL;
		} else if (w.status == LB_ST_PENDING_INTERNAL ||
		    first_open_stage(&w, stages, nstages) < 0) {
			if ((rc = open_access(&w, now_ms)) != 0)
				return rc;
			result_op = LB_OP_APPROVE;
		} else {
			result_op = LB_OP_APPROVE_PARTIAL;
		}
		break;
	case LB_DEC_DENY:
		w.status = LB_ST_DENIED;
		result_op = LB_OP_DENY;
		break;
	case LB_DEC_REVOKE:
		w.status = LB_ST_REVOKED;
		result_op = LB_OP_REVOKE;
		break;
	case LB_DEC_CANCEL:
		w.status = LB_ST_CANCELLED;
		result_op = LB_OP_CANCEL;
		break;
	}

	*r = w;
	*op = result_op;
	return 0;
}

/*
 * See core.h.  Provider principals: provider_admin, support_manager and
 * incident_manager see all; a support_engineer the requests they made; a
 * gateway none.  Tenant principals: their own tenant's.
 */
bool
lb_request_visible(const struct lb_request *r, const struct lb_actor *actor)
{
	if (r == NULL || actor == NULL)
		return false;
	if (lb_actor_is_provider(actor)) {
		if (actor->roles & (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_MANAGER |
		    LB_ROLE_INCIDENT_MANAGER))
			return true;
		if (actor->roles & LB_ROLE_SUPPORT_ENGINEER)
			return strncmp(actor->id, r->requester, sizeof(actor->id)) == 0;
		return false;
	}
	return (actor->roles & LB_ROLES_TENANT_READ) != 0 &&
	    strncmp(actor->realm, r->tenant, sizeof(actor->realm)) == 0;
}
