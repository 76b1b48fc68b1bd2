/*
 * The one table that maps an enum lb_err to its HTTP status, its wire code
 * and a message for people.  Both the daemon and the CLI link it, so the
 * daemon answers with and the CLI explains the same codes.
 */
#include <stddef.h>
#include <string.h>

#include "lockbox/err.h"

struct lb_err_row {
	int err;
	int status;
	const char *code;
	const char *message;
};

static const struct lb_err_row rows[] = {
	{ LB_OK, 200, "ok", "ok" },
	{ LB_ERR_MALFORMED, 400, "malformed_json", "the body is not valid JSON" },
	{ LB_ERR_INVALID_FIELD, 400, "invalid_field", "a field has the wrong type or an unknown value" },
	{ LB_ERR_MISSING_FIELD, 400, "missing_field", "a required field is missing" },
	{ LB_ERR_UNKNOWN_FIELD, 400, "unknown_field", "the body names a field this call does not take" },
	{ LB_ERR_BAD_PAGE_TOKEN, 400, "invalid_page_token", "page_token or page_size is not valid" },
	{ LB_ERR_UNAUTHENTICATED, 401, "unauthenticated", "missing or invalid credentials" },
	{ LB_ERR_FORBIDDEN, 403, "forbidden", "your role does not allow this" },
	{ LB_ERR_NOT_APPROVER, 403, "not_designated_approver", "you are not a designated approver for this stage" },
	{ LB_ERR_SELF_APPROVAL, 403, "self_approval", "nobody may approve their own request" },
	{ LB_ERR_NOT_FOUND, 404, "not_found", "no such object" },
	{ LB_ERR_ACCESS_DENIED, 403, "access_denied", "access refused by Lockbox" },
	{ LB_ERR_CSRF, 403, "csrf_required", "a state-changing call from the console needs its X-CSRF-Token" },
	{ LB_ERR_NO_ROUTE, 404, "no_route", "no such endpoint" },
	{ LB_ERR_METHOD, 405, "method_not_allowed", "this endpoint does not take that method" },
	{ LB_ERR_INVALID_STATE, 409, "invalid_state", "the object is not in a state that allows this" },
	{ LB_ERR_ALREADY_EXISTS, 409, "already_exists", "an object with this id already exists" },
	{ LB_ERR_ALREADY_APPROVED, 409, "already_approved", "you have already approved this request" },
	{ LB_ERR_CONFLICT, 409, "conflict", "the object changed meanwhile; read it again" },
	{ LB_ERR_TOO_LARGE, 413, "payload_too_large", "the request body is too large" },
	{ LB_ERR_LICENSE_REQUIRED, 422, "license_required", "the tenant's plan does not include Customer Lockbox" },
	{ LB_ERR_APPROVER_ROLE, 422, "approver_role_required", "approvers must hold global_admin or lockbox_approver in the tenant" },
	{ LB_ERR_TOO_MANY_APPROVERS, 422, "too_many_approvers", "at most 10 approvers may be designated" },
	{ LB_ERR_NO_APPROVERS, 422, "no_approvers", "Lockbox cannot be enabled without an approver" },
	{ LB_ERR_LAST_APPROVER, 422, "last_approver", "the last approver cannot be removed while Lockbox is enabled" },
	{ LB_ERR_INVALID_DURATION, 422, "invalid_duration", "duration must be 60 to 720 minutes and never longer than requested" },
	{ LB_ERR_CASE_NOT_ASSIGNED, 422, "case_not_assigned", "the support case is not assigned to you" },
	{ LB_ERR_INVALID_RETENTION, 422, "invalid_retention", "audit retention must be 90 to 3650 days and may not be shortened below 90" },
	{ LB_ERR_INVALID_STAGES, 422, "invalid_stages", "approval stages cannot be satisfied by the designated approvers" },
	{ LB_ERR_FIELD_TOO_LONG, 422, "field_too_long", "a field is longer than its limit" },
	{ LB_ERR_TOO_MANY_ITEMS, 422, "too_many_items", "a list has more items than its limit" },
	{ LB_ERR_INVALID_VALUE, 422, "invalid_value", "a field's value is not allowed" },
	{ LB_ERR_CASE_CLOSED, 422, "case_not_open", "the support case is not open" },
	{ LB_ERR_INVALID_ROLE, 422, "invalid_role", "a role does not belong to that realm" },
	{ LB_ERR_INCIDENT_NOT_CRITICAL, 422, "incident_not_critical", "emergency access needs a critical incident" },
	{ LB_ERR_TENANT_NOT_AFFECTED, 422, "tenant_not_affected", "the incident does not list this tenant" },
	{ LB_ERR_INCIDENT_CLOSED, 422, "incident_closed", "the incident is closed" },
	{ LB_ERR_EMERGENCY_CAP, 422, "emergency_cap_reached", "the tenant's emergency access cap for the window is reached" },
	{ LB_ERR_TENANT_DENIED_SCOPE, 422, "tenant_denied_scope", "the tenant denied access to this scope in the last 7 days" },
	{ LB_ERR_RATE_LIMITED, 429, "rate_limited", "too many requests; slow down" },
	{ LB_ERR_UNAVAILABLE, 503, "unavailable", "storage or audit log unavailable; nothing was changed" },
	{ LB_ERR_NOMEM, 500, "internal", "internal error" },
	{ LB_ERR_INTERNAL, 500, "internal", "internal error" },
};

static const struct lb_err_row *
find(int err)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].err == err)
			return &rows[i];
	return &rows[sizeof(rows) / sizeof(rows[0]) - 1];
}

const char *
lb_err_code(int err)
{
	return find(err)->code;
}

int
lb_err_http_status(int err)
{
	return find(err)->status;
}

const char *
lb_err_message(int err)
{
	return find(err)->message;
}

int
lb_err_from_code(const char *code)
{
	if (code == NULL)
		return LB_ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].code, code) == 0)
			return rows[i].err;
	return LB_ERR_INTERNAL;
}
