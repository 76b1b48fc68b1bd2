/*
 * Error codes shared by the daemon, the CLI and the tests.
 *
 * Every function that can fail returns 0 or a negative enum lb_err.  One
 * table (src/core/err.c) maps each code to the HTTP status and the stable
 * wire code that clients match on, so the mapping cannot drift between
 * routes.  The wire codes of the rules in SPEC section 2 are spelled exactly
 * as the spec spells them.
 */
#ifndef LOCKBOX_ERR_H
#define LOCKBOX_ERR_H

enum lb_err {
	LB_OK = 0,
	/* 400: the request itself is malformed. */
	LB_ERR_MALFORMED = -1,          /* malformed_json */
	LB_ERR_INVALID_FIELD = -2,      /* invalid_field: wrong type, bad enum */
	LB_ERR_MISSING_FIELD = -3,      /* missing_field */
	LB_ERR_UNKNOWN_FIELD = -4,      /* unknown_field */
	LB_ERR_BAD_PAGE_TOKEN = -5,     /* invalid_page_token */
	/* 401 / 403 / 404 */
	LB_ERR_UNAUTHENTICATED = -10,   /* unauthenticated */
	LB_ERR_FORBIDDEN = -11,         /* forbidden: role or realm */
	LB_ERR_NOT_APPROVER = -12,      /* not_designated_approver */
	LB_ERR_SELF_APPROVAL = -13,     /* self_approval */
	LB_ERR_NOT_FOUND = -14,         /* not_found */
	LB_ERR_ACCESS_DENIED = -17,     /* access_denied: the access check refused */
	LB_ERR_CSRF = -18,              /* csrf_required: cookie call without X-CSRF-Token */
	LB_ERR_NO_ROUTE = -15,          /* no_route (404) */
	LB_ERR_METHOD = -16,            /* method_not_allowed (405) */
	/* 409: state conflict */
	LB_ERR_INVALID_STATE = -20,     /* invalid_state */
	LB_ERR_ALREADY_EXISTS = -21,    /* already_exists */
	LB_ERR_ALREADY_APPROVED = -22,  /* already_approved */
	LB_ERR_CONFLICT = -23,          /* conflict: lost a race, retry */
	/* 413 */
	LB_ERR_TOO_LARGE = -30,         /* payload_too_large */
	/* 422: the rules of SPEC section 2, with their codes */
	LB_ERR_LICENSE_REQUIRED = -40,  /* license_required */
	LB_ERR_APPROVER_ROLE = -41,     /* approver_role_required */
	LB_ERR_TOO_MANY_APPROVERS = -42,/* too_many_approvers */
	LB_ERR_NO_APPROVERS = -43,      /* no_approvers */
	LB_ERR_LAST_APPROVER = -44,     /* last_approver */
	LB_ERR_INVALID_DURATION = -45,  /* invalid_duration */
	LB_ERR_CASE_NOT_ASSIGNED = -46, /* case_not_assigned */
	LB_ERR_INVALID_RETENTION = -47, /* invalid_retention */
	LB_ERR_INVALID_STAGES = -48,    /* invalid_stages */
	LB_ERR_FIELD_TOO_LONG = -49,    /* field_too_long */
	LB_ERR_TOO_MANY_ITEMS = -50,    /* too_many_items */
	LB_ERR_INVALID_VALUE = -51,     /* invalid_value: well-typed but not allowed */
	LB_ERR_CASE_CLOSED = -52,       /* case_not_open */
	LB_ERR_INVALID_ROLE = -53,      /* invalid_role: role not of that realm */
	/* 422: break-glass guard rails (SPEC 2 "Emergency access") */
	LB_ERR_INCIDENT_NOT_CRITICAL = -55,     /* incident_not_critical */
	LB_ERR_TENANT_NOT_AFFECTED = -56,       /* tenant_not_affected */
	LB_ERR_INCIDENT_CLOSED = -57,           /* incident_closed */
	LB_ERR_EMERGENCY_CAP = -58,             /* emergency_cap_reached */
	LB_ERR_TENANT_DENIED_SCOPE = -59,       /* tenant_denied_scope */
	/* 429 / 5xx */
	LB_ERR_RATE_LIMITED = -60,      /* rate_limited */
	LB_ERR_UNAVAILABLE = -70,       /* unavailable: storage or audit, fail closed */
	LB_ERR_NOMEM = -71,             /* internal */
	LB_ERR_INTERNAL = -72,          /* internal */
};

/* Stable wire code, e.g. "license_required".  Never NULL. */
const char *lb_err_code(int err);
/* HTTP status for the error (500 for unknown codes). */
int lb_err_http_status(int err);
/* A one-line English message suitable for a person.  Never NULL. */
const char *lb_err_message(int err);
/* Reverse lookup of a wire code (used by the CLI); LB_ERR_INTERNAL if none. */
int lb_err_from_code(const char *code);

#endif
