/*
 * The pure core of Lockbox: the rules of SPEC section 2 and the request
 * state machine of section 3.
 *
 * Nothing in src/core/ reads the clock, the disk, the network or the logs,
 * and nothing links a library but libc.  Time comes in as `now_ms`
 * (milliseconds since the Unix epoch, UTC); facts the core cannot know (the
 * roles a named approver holds, the support case) are looked up by the
 * caller and passed in.  Decisions come out as a changed struct and an
 * enum lb_op naming what happened, which the adapters turn into a stored
 * row, an audit record and outbox rows in one transaction.
 *
 * All structs hold fixed-size arrays sized by include/lockbox/wire.h, so a
 * value can be copied with `=` and owns no memory.  Strings are NUL
 * terminated.  Functions return 0 or a negative enum lb_err and write their
 * output parameters only on success.
 */
#ifndef LOCKBOX_CORE_H
#define LOCKBOX_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockbox/err.h"
#include "lockbox/wire.h"

/* ------------------------------------------------------------------ roles */

enum lb_role {
	LB_ROLE_PROVIDER_ADMIN   = 1u << 0,
	LB_ROLE_SUPPORT_ENGINEER = 1u << 1,
	LB_ROLE_SUPPORT_MANAGER  = 1u << 2,
	LB_ROLE_INCIDENT_MANAGER = 1u << 3,
	LB_ROLE_GATEWAY          = 1u << 4,
	LB_ROLE_GLOBAL_ADMIN     = 1u << 5,
	LB_ROLE_LOCKBOX_APPROVER = 1u << 6,
	LB_ROLE_COMPLIANCE_ADMIN = 1u << 7,
	LB_ROLE_SECURITY_ADMIN   = 1u << 8,
	LB_ROLE_READER           = 1u << 9,
};
#define LB_ROLES_PROVIDER (LB_ROLE_PROVIDER_ADMIN | LB_ROLE_SUPPORT_ENGINEER | \
	LB_ROLE_SUPPORT_MANAGER | LB_ROLE_INCIDENT_MANAGER | LB_ROLE_GATEWAY)
#define LB_ROLES_TENANT (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_LOCKBOX_APPROVER | \
	LB_ROLE_COMPLIANCE_ADMIN | LB_ROLE_SECURITY_ADMIN | LB_ROLE_READER)
/* Roles whose holders may be designated approvers. */
#define LB_ROLES_APPROVER (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_LOCKBOX_APPROVER)
/* Tenant roles that may read the tenant's requests. */
#define LB_ROLES_TENANT_READ LB_ROLES_TENANT

/* "global_admin" -> LB_ROLE_GLOBAL_ADMIN; 0 if unknown. */
unsigned lb_role_parse(const char *name);
/* LB_ROLE_GLOBAL_ADMIN -> "global_admin"; NULL unless exactly one known bit. */
const char *lb_role_name(unsigned role);

/* ------------------------------------------------------------ identifiers */

/*
 * An id is 1..LB_ID_MAX characters of [A-Za-z0-9._@-], starting with a
 * letter or digit.  Tenant ids are further restricted to lowercase
 * [a-z0-9-] and may not be "provider".
 */
bool lb_id_valid(const char *s);
bool lb_tenant_id_valid(const char *s);
/* A plausible address: one '@', no spaces or control characters, <= max. */
bool lb_email_valid(const char *s);
/*
 * A workload is a lowercase word [a-z0-9_-]{1,40}; exchange, sharepoint and
 * teams are built in, anything else is provider-defined.
 */
bool lb_workload_valid(const char *s);
/*
 * A resource path: 1..LB_RESOURCE_MAX bytes, segments separated by single
 * '/', no empty, "." or ".." segment, no leading or trailing '/', no control
 * characters, no '%', '\\' or '?' or '#'.  Case is significant.
 */
bool lb_resource_valid(const char *s);
/* True when `path` equals `grant` or lies below it at a '/' boundary. */
bool lb_resource_covers(const char *grant, const char *path);

/*
 * Copies the string `src` (NULL: "") into dst of `cap` bytes, never
 * truncating: LB_ERR_FIELD_TOO_LONG (dst untouched) when it does not fit.
 * Reads at most `cap` bytes of src.
 */
int lb_copy(char *dst, size_t cap, const char *src);
/* The value of a hex digit (either case), or -1. */
int lb_hex_digit(int c);

/* ---------------------------------------------------------------- tenants */

enum lb_cloud { LB_CLOUD_COMMERCIAL, LB_CLOUD_GCC, LB_CLOUD_GCC_HIGH, LB_CLOUD_DOD };
int lb_cloud_parse(const char *s, enum lb_cloud *out);
const char *lb_cloud_name(enum lb_cloud c);

struct lb_tenant {
	char id[LB_ID_MAX + 1];
	char name[LB_NAME_MAX + 1];
	char plan[LB_PLAN_MAX + 1];
	char addons[LB_ADDONS_MAX][LB_PLAN_MAX + 1];
	size_t naddons;
	enum lb_cloud cloud;
	int64_t created_ms;
};

/* Checks id, name, plan and addon syntax (not licensing). */
int lb_tenant_validate(const struct lb_tenant *t);
/* SPEC 2 "Licence": plan in the E5 family or addon customer_lockbox. */
bool lb_tenant_licensed(const struct lb_tenant *t);

/* --------------------------------------------------------------- settings */

struct lb_stage_cfg {
	int required;                                   /* >= 1 */
	char approvers[LB_APPROVERS_MAX][LB_ID_MAX + 1]; /* empty: all designated */
	size_t napprovers;
};

struct lb_settings {
	bool enabled;
	char approvers[LB_APPROVERS_MAX][LB_ID_MAX + 1];
	size_t napprovers;
	char notification_emails[LB_NOTIFY_EMAILS_MAX][LB_EMAIL_MAX + 1];
	size_t nemails;
	/* As configured; nstages == 0 means "the default for the cloud". */
	struct lb_stage_cfg stages[LB_STAGES_MAX];
	size_t nstages;
	int retention_days;
};

/* Defaults for a new tenant: disabled, no approvers, retention 90. */
void lb_settings_init(struct lb_settings *s);
/*
 * The stages in force: the configured ones, or by default one stage needing
 * one approval (commercial, gcc) or two stages of one approval each by two
 * different approvers (gcc_high, dod).  Returns the number written to out.
 */
size_t lb_settings_effective_stages(const struct lb_settings *s,
    enum lb_cloud cloud, struct lb_stage_cfg out[LB_STAGES_MAX]);
/* True when `user` is in s->approvers. */
bool lb_settings_is_approver(const struct lb_settings *s, const char *user);

/*
 * Validates a change from `prev` to `next` for tenant `t` (SPEC 2):
 * license_required, approver_role_required, too_many_approvers,
 * no_approvers, last_approver, invalid_retention, invalid_stages,
 * invalid_value (bad email, duplicate approver).
 * approver_roles[i] holds the roles user next->approvers[i] has in the
 * tenant, or 0 when there is no such user.
 */
int lb_settings_check(const struct lb_tenant *t, const struct lb_settings *prev,
    const struct lb_settings *next, const unsigned *approver_roles);

/* Provider-wide settings. */
struct lb_provider_settings {
	bool require_internal_approval;
	/*
	 * Break-glass guard rail: at most emergency_cap emergency accesses per
	 * tenant created within any emergency_window_hours.  0 means the
	 * default (3 per 24 h): see lb_emergency_cap() and lb_emergency_window_ms().
	 */
	int emergency_cap;
	int emergency_window_hours;
};

/* ------------------------------------------------------------------ cases */

enum lb_case_status { LB_CASE_OPEN, LB_CASE_CLOSED };

struct lb_case {
	char id[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char title[LB_NAME_MAX + 1];
	enum lb_case_status status;
	char assigned_to[LB_ID_MAX + 1];    /* "" when unassigned */
	char opened_by[LB_ID_MAX + 1];
	int64_t created_ms;
};

/* ------------------------------------------------------------- principals */

enum lb_actor_type { LB_ACTOR_USER, LB_ACTOR_SERVICE, LB_ACTOR_SYSTEM };

/* Who is acting.  For the sweeper: id "lockboxd", realm "provider", SYSTEM. */
struct lb_actor {
	char id[LB_ID_MAX + 1];
	char realm[LB_ID_MAX + 1];
	unsigned roles;
	enum lb_actor_type type;
};

/* Roles valid for a realm: provider roles in "provider", tenant roles else. */
bool lb_roles_valid_for_realm(unsigned roles, const char *realm);
bool lb_actor_is_provider(const struct lb_actor *a);

/* --------------------------------------------------------------- requests */

enum lb_status {
	LB_ST_PENDING_INTERNAL,
	LB_ST_PENDING,
	LB_ST_APPROVED,
	LB_ST_DENIED,
	LB_ST_EXPIRED,
	LB_ST_REVOKED,
	LB_ST_CANCELLED,
	LB_ST_COMPLETED,
};
#define LB_ST_COUNT 8
const char *lb_status_name(enum lb_status s);
int lb_status_parse(const char *s, enum lb_status *out);
bool lb_status_final(enum lb_status s);

enum lb_decision_kind { LB_DEC_APPROVE, LB_DEC_DENY, LB_DEC_REVOKE, LB_DEC_CANCEL };
const char *lb_decision_name(enum lb_decision_kind k);

#define LB_DECISIONS_MAX 24

struct lb_decision {
	char by[LB_ID_MAX + 1];
	char realm[LB_ID_MAX + 1];
	int stage;                  /* 0: internal stage; 1..n tenant stages */
	enum lb_decision_kind kind;
	char comment[LB_COMMENT_MAX + 1];
	int64_t at_ms;
	int duration_minutes;       /* approvals: the duration granted; else 0 */
};

struct lb_request {
	char id[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char case_id[LB_REQID_MAX + 1];
	char requester[LB_ID_MAX + 1];
	char workload[LB_WORKLOAD_MAX + 1];
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1];
	size_t nresources;
	char justification[LB_JUSTIFICATION_MAX + 1];
	enum lb_status status;          /* as stored; see lb_request_status_at */
	int duration_minutes;           /* requested */
	int64_t created_ms;
	int64_t pending_expires_ms;     /* created + 12 h */
	int64_t access_starts_ms;       /* 0 until approved */
	int64_t access_expires_ms;      /* 0 until approved */
	bool internal_required;         /* has a provider-side stage */
	struct lb_decision decisions[LB_DECISIONS_MAX];
	size_t ndecisions;
	int64_t version;                /* bumped on every stored change */
};

/* What the engineer asks for (already parsed from JSON). */
struct lb_request_input {
	char case_id[LB_REQID_MAX + 1];
	char workload[LB_WORKLOAD_MAX + 1];
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1];
	size_t nresources;
	char justification[LB_JUSTIFICATION_MAX + 1];
	int duration_minutes;           /* 0: default 720 */
};

/*
 * Builds a new request `out` with id `id` (made by the caller from random
 * bytes) for `requester` at `now_ms`.  Checks: requester holds
 * support_engineer (forbidden); case belongs to the tenant (not_found; the
 * HTTP layer answers a missing case as case_not_assigned, 422),
 * is open (case_not_open) and assigned to the requester
 * (case_not_assigned); workload and resources valid (invalid_value),
 * 1..32 resources (too_many_items), duration 60..720 (invalid_duration),
 * non-empty justification (missing_field).  The status is pending_internal
 * when the tenant has Lockbox off or `ps->require_internal_approval`, else
 * pending.
 */
int lb_request_create(const char *id, const struct lb_request_input *in,
    const struct lb_actor *requester, const struct lb_tenant *t,
    const struct lb_settings *s, const struct lb_provider_settings *ps,
    const struct lb_case *c, int64_t now_ms, struct lb_request *out);

/*
 * The status a request has at `now_ms`: a pending request at or past its
 * pending_expires_ms is expired; an approved one at or past
 * access_expires_ms is completed.  Every read and every action uses this.
 */
enum lb_status lb_request_status_at(const struct lb_request *r, int64_t now_ms);

/*
 * Applies the passage of time: when lb_request_status_at differs from the
 * stored status, sets it, bumps nothing else, and returns 1 with *op set to
 * LB_OP_EXPIRE or LB_OP_COMPLETE.  Returns 0 when nothing changed.
 */
int lb_request_tick(struct lb_request *r, int64_t now_ms, int *op);

/* Operations: what happened, for audit records and notifications. */
enum lb_op {
	LB_OP_NONE = 0,
	LB_OP_CREATE,           /* request created */
	LB_OP_APPROVE_INTERNAL, /* internal stage approved */
	LB_OP_APPROVE_PARTIAL,  /* an approval recorded, a stage still short */
	LB_OP_APPROVE,          /* last stage complete: access granted */
	LB_OP_DENY,
	LB_OP_REVOKE,
	LB_OP_CANCEL,
	LB_OP_EXPIRE,
	LB_OP_COMPLETE,
};
/* "ApproveRequest" etc.: the audit operation name. */
const char *lb_op_name(int op);

/* The stage a pending request waits on: 0 internal, 1..n, -1 none. */
int lb_request_current_stage(const struct lb_request *r,
    const struct lb_settings *s, enum lb_cloud cloud);

/*
 * A decision by `actor` on `r` at `now_ms`.  First applies lb_request_tick
 * (so a request past its time is final), then:
 *  - approve / deny at pending_internal: actor is a provider
 *    support_manager (forbidden) and not the requester (self_approval);
 *    approval moves to pending when `s->enabled`, else to approved;
 *  - approve / deny at pending: actor is of the tenant's realm, holds
 *    global_admin or lockbox_approver (forbidden), is a designated approver
 *    and, where the current stage names approvers, one of them
 *    (not_designated_approver); has not approved this request before
 *    (already_approved); the last stage's completion approves;
 *  - revoke at approved: a designated approver of the tenant;
 *  - cancel at pending_internal or pending: only the requester (forbidden).
 * A final or otherwise wrong status gives invalid_state.
 * `duration_minutes` (approve only, 0 = keep) must be 60..current granted
 * duration (invalid_duration).  On success the decision is appended, status
 * and access window set, and *op names what happened.  On failure `r` is
 * unchanged.
 */
int lb_request_decide(struct lb_request *r, const struct lb_actor *actor,
    enum lb_decision_kind kind, int duration_minutes, const char *comment,
    const struct lb_tenant *t, const struct lb_settings *s, int64_t now_ms,
    int *op);

/* The duration that approval would grant now: the smallest granted so far. */
int lb_request_granted_minutes(const struct lb_request *r);

/*
 * Whether `actor` may see request `r` at all (else the caller answers 404):
 * provider_admin and support_manager and incident_manager see every
 * request; a support_engineer sees their own; tenant principals see their
 * own tenant's.
 */
bool lb_request_visible(const struct lb_request *r, const struct lb_actor *actor);

/* --------------------------------------------------------------- time */

/* Formats ms since the epoch as "2026-11-22T06:31:50.123Z"; buf >= 25. */
int lb_time_format(int64_t ms, char *buf, size_t len);
/*
 * Parses RFC 3339 ("2026-11-22T06:31:50Z", fractional seconds of 1-9
 * digits, "Z" or "+hh:mm"/"-hh:mm").  invalid_value on anything else.
 */
int lb_time_parse(const char *s, int64_t *out_ms);
/*
 * Parses a duration for people: "90" or "90m" (minutes), "4h", "1h30m".
 * Writes minutes.  invalid_value when malformed or not positive.
 */
int lb_duration_parse(const char *s, int *out_minutes);

/* ------------------------------------------------------ the access check */

/*
 * The URI map: which URIs of the provider's content service are content
 * (need a grant) and which are metadata (readable without one, still
 * logged), and where in the URI the tenant, workload and resource path
 * are.  A rule is a kind and a pattern of '/'-separated segments: literal
 * segments, and the placeholders {tenant}, {workload} and {path}; {path}
 * must be last and takes the rest (one or more segments).  A rule without
 * {workload} has workload "" (any).  Example (the default map):
 *   content  /content/{tenant}/{workload}/{path}
 *   metadata /metadata/{tenant}/{workload}/{path}
 */
enum lb_uri_kind { LB_URI_CONTENT, LB_URI_METADATA };

#define LB_URI_RULES_MAX   16
#define LB_URI_PATTERN_MAX 200
#define LB_URI_MAX         4096

struct lb_uri_rule {
	enum lb_uri_kind kind;
	char pattern[LB_URI_PATTERN_MAX + 1];
};

struct lb_uri_map {
	struct lb_uri_rule rules[LB_URI_RULES_MAX];
	size_t n;
};

/* The default map above. */
void lb_uri_map_default(struct lb_uri_map *out);
/*
 * Parses a map: one rule per line, "content PATTERN" or "metadata
 * PATTERN", '#' comments and blank lines ignored.  invalid_value with a
 * line number and reason in `err` on any malformed line or pattern.
 */
int lb_uri_map_parse(const char *text, struct lb_uri_map *out, char *err, size_t errlen);

/* Where a URI points. */
struct lb_uri_target {
	enum lb_uri_kind kind;
	char tenant[LB_ID_MAX + 1];
	char workload[LB_WORKLOAD_MAX + 1];
	char path[LB_RESOURCE_MAX + 1];         /* a valid resource path */
};

/*
 * Resolves the raw request URI (as sent on the wire, query allowed and
 * ignored) against the map, normalising once and strictly:
 *  - the URI must start with '/', be at most LB_URI_MAX bytes, and hold no
 *    control characters, no '\', no '#';
 *  - percent-escapes are decoded once; an escape of '/', '\', '.', '%',
 *    NUL or a control character, or a malformed escape, is refused
 *    (so no encoded separator, dot or double encoding survives);
 *  - empty segments ("//"), "." and ".." are refused, not resolved;
 *  - literal segments match case-sensitively; the tenant must be a valid
 *    tenant id (lowercase), the workload a valid workload, and the path a
 *    valid resource path (lb_resource_valid).
 * The first rule that matches wins.  Returns 0, LB_ERR_NOT_FOUND when no
 * rule matches, LB_ERR_INVALID_VALUE for a refused (hostile or malformed)
 * URI.  Output written only on success.
 */
int lb_uri_resolve(const struct lb_uri_map *m, const char *uri, struct lb_uri_target *out);

/* ------------------------------------------- break-glass (emergency.c) */

/*
 * Incidents and emergency access (SPEC 2 "Emergency access",
 * docs/break-glass.md).  An incident_manager declares an incident with a
 * severity and the tenants it affects; only an open critical incident that
 * lists a tenant allows emergency access to that tenant.  A provider
 * principal asks; a different incident_manager approves, which starts the
 * window; it ends at its expiry, when ended by the provider, or when the
 * incident closes.  The tenant must have been told within 48 h of the start.
 */
#define LB_INCIDENT_TENANTS_MAX         64
#define LB_EMERGENCY_DURATION_DEFAULT   240     /* minutes: 4 h */
#define LB_EMERGENCY_DURATION_MIN       60
#define LB_EMERGENCY_DURATION_MAX       720     /* 12 h */
#define LB_EMERGENCY_CAP_DEFAULT        3
#define LB_EMERGENCY_CAP_MAX            1000
#define LB_EMERGENCY_WINDOW_DEFAULT     24      /* hours */
#define LB_EMERGENCY_WINDOW_MAX         8760    /* hours: one year */
#define LB_EMERGENCY_DENIED_LOOKBACK_MS (7LL * 24 * 60 * 60 * 1000)
/* Every break-glass record, and every access under an emergency grant. */
#define LB_RT_EMERGENCY                 "CustomerLockboxEmergencyAccess"
/* Emergency access ids are "emg_" + 26 base32 digits; incidents "inc_...". */
#define LB_EMERGENCY_ID_PREFIX          "emg"
#define LB_INCIDENT_ID_PREFIX           "inc"

enum lb_severity { LB_SEV_LOW, LB_SEV_MEDIUM, LB_SEV_HIGH, LB_SEV_CRITICAL };
const char *lb_severity_name(enum lb_severity s);
int lb_severity_parse(const char *s, enum lb_severity *out);

struct lb_incident {
	char id[LB_REQID_MAX + 1];
	char title[LB_NAME_MAX + 1];
	enum lb_severity severity;
	char tenants[LB_INCIDENT_TENANTS_MAX][LB_ID_MAX + 1];
	size_t ntenants;
	char declared_by[LB_ID_MAX + 1];
	int64_t started_ms;
	int64_t ended_ms;               /* 0 while open */
	char closed_by[LB_ID_MAX + 1];  /* "" while open */
	int64_t version;
};

/*
 * Declares incident `id` for `actor` at now_ms: actor holds
 * incident_manager in the provider realm (forbidden); title non-empty
 * (missing_field); 1..LB_INCIDENT_TENANTS_MAX valid, distinct tenant ids
 * (too_many_items, invalid_value).  Existence of the tenants is the
 * caller's to check.
 */
int lb_incident_declare(const char *id, const char *title, enum lb_severity sev,
    const char (*tenants)[LB_ID_MAX + 1], size_t ntenants, const struct lb_actor *actor,
    int64_t now_ms, struct lb_incident *out);
/* Closes an open incident (invalid_state if closed; forbidden unless an
 * incident_manager).  On failure `inc` is unchanged. */
int lb_incident_close(struct lb_incident *inc, const struct lb_actor *actor, int64_t now_ms);
bool lb_incident_open(const struct lb_incident *inc);
bool lb_incident_affects(const struct lb_incident *inc, const char *tenant);

enum lb_emergency_status {
	LB_EM_PENDING_APPROVAL,
	LB_EM_ACTIVE,
	LB_EM_ENDED,
	LB_EM_EXPIRED,
};
const char *lb_emergency_status_name(enum lb_emergency_status s);
int lb_emergency_status_parse(const char *s, enum lb_emergency_status *out);

/* What ended an emergency access (stored, shown as end_reason). */
#define LB_EM_END_PROVIDER  "ended_by_provider"
#define LB_EM_END_INCIDENT  "incident_closed"
#define LB_EM_END_EXPIRED   "expired"

struct lb_emergency {
	char id[LB_REQID_MAX + 1];
	char incident[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char requester[LB_ID_MAX + 1];
	char approver[LB_ID_MAX + 1];           /* "" until approved */
	char workload[LB_WORKLOAD_MAX + 1];
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1];
	size_t nresources;
	char justification[LB_JUSTIFICATION_MAX + 1];
	int duration_minutes;
	enum lb_emergency_status status;        /* as stored: see lb_emergency_status_at */
	int64_t created_ms;
	int64_t starts_ms;                      /* 0 until approved */
	int64_t expires_ms;                     /* 0 until approved */
	int64_t ended_ms;                       /* 0 until ended or expired */
	char ended_by[LB_ID_MAX + 1];
	char end_reason[24];                    /* LB_EM_END_*, "" while not ended */
	char objection_by[LB_ID_MAX + 1];       /* "" when no objection */
	char objection_comment[LB_COMMENT_MAX + 1];
	int64_t objection_ms;
	char review_by[LB_ID_MAX + 1];          /* "" until answered */
	char review_response[LB_COMMENT_MAX + 1];
	int64_t review_ms;
	int64_t notice_overdue_ms;              /* 0 until recorded overdue */
	int64_t version;
};

/* What the provider principal asks for (already parsed from JSON). */
struct lb_emergency_input {
	char incident[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char workload[LB_WORKLOAD_MAX + 1];
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1];
	size_t nresources;
	char justification[LB_JUSTIFICATION_MAX + 1];
	int duration_minutes;                   /* 0: default 240 */
};

/* The provider's guard rail, defaults applied. */
int lb_emergency_cap(const struct lb_provider_settings *ps);
int64_t lb_emergency_window_ms(const struct lb_provider_settings *ps);
/*
 * Whether an emergency access created at created_ms counts toward the cap
 * at now_ms: the window is (now - window, now], so one created exactly one
 * window ago no longer counts.
 */
bool lb_emergency_in_window(int64_t created_ms, int64_t now_ms, int64_t window_ms);
/* Checks emergency_cap 1..1000 and emergency_window_hours 1..8760 (0 =
 * default is allowed): invalid_value. */
int lb_provider_settings_check(const struct lb_provider_settings *ps);
/*
 * Whether request `r` is a denial by the tenant within the lookback: its
 * status is denied and its deny decision was made in (now - 7 d, now].
 */
bool lb_request_denied_recently(const struct lb_request *r, int64_t now_ms);

/*
 * The guard rails, in this order, for a new emergency access `id` asked by
 * `actor` at now_ms:
 *  - actor is a provider incident_manager or support_engineer (forbidden);
 *  - workload and resources valid (invalid_value), 1..32 resources
 *    (too_many_items), justification non-empty (missing_field), duration
 *    60..720, 0 meaning 240 (invalid_duration);
 *  - `inc` is the incident named (the caller answers a missing one);
 *    closed: incident_closed; not critical: incident_not_critical; not
 *    listing the tenant: tenant_not_affected;
 *  - no requested resource covers or is covered by (lb_resource_covers
 *    either way) any of `denied[0..ndenied)`, the resources of requests the
 *    tenant denied in the last 7 days (lb_request_denied_recently):
 *    tenant_denied_scope;
 *  - count_in_window (the tenant's emergency accesses created in the
 *    window, lb_emergency_in_window) < the cap: emergency_cap_reached.
 * On success *out is a new access, pending_approval.
 */
int lb_emergency_create(const char *id, const struct lb_emergency_input *in,
    const struct lb_actor *actor, const struct lb_incident *inc,
    const struct lb_provider_settings *ps, const char *const *denied, size_t ndenied,
    int count_in_window, int64_t now_ms, struct lb_emergency *out);
/* True for the codes whose refusal is recorded (RefuseEmergencyAccess). */
bool lb_emergency_guard_error(int err);

/* The status at now_ms: an active access at or past expires_ms is expired. */
enum lb_emergency_status lb_emergency_status_at(const struct lb_emergency *e, int64_t now_ms);

/* What happened to an emergency access, for records and notifications. */
enum lb_em_op {
	LB_EM_OP_NONE = 0,
	LB_EM_OP_REQUEST,
	LB_EM_OP_APPROVE,
	LB_EM_OP_END,
	LB_EM_OP_EXPIRE,
	LB_EM_OP_OBJECT,
	LB_EM_OP_REVIEW,
	LB_EM_OP_REFUSE,
	LB_EM_OP_NOTICE_OVERDUE,
};
/* "RequestEmergencyAccess", ..., "EmergencyNoticeOverdue". */
const char *lb_em_op_name(int op);

/*
 * Approval by `actor` at now_ms: a provider incident_manager (forbidden)
 * who is not the requester (self_approval); the access is pending_approval
 * (invalid_state); the incident is still open (incident_closed), critical
 * and affecting the tenant.  Starts the window: starts = now, expires =
 * now + duration.
 */
int lb_emergency_approve(struct lb_emergency *e, const struct lb_actor *actor,
    const struct lb_incident *inc, int64_t now_ms);
/*
 * Ends a pending or active access (invalid_state otherwise).  With `actor`
 * (reason LB_EM_END_PROVIDER) it must be an incident_manager or the
 * requester (forbidden); the incident's close passes its closer and
 * LB_EM_END_INCIDENT.
 */
int lb_emergency_end(struct lb_emergency *e, const struct lb_actor *actor,
    const char *reason, int64_t now_ms);
/* The passage of time: 1 when an active access past its expiry became
 * expired (*op = LB_EM_OP_EXPIRE), 0 when nothing changed. */
int lb_emergency_tick(struct lb_emergency *e, int64_t now_ms, int *op);
/*
 * The tenant's objection: `actor` is global_admin or compliance_admin of
 * the access's tenant (forbidden); the access has started (invalid_state);
 * no objection yet (invalid_state); comment non-empty (missing_field).
 */
int lb_emergency_object(struct lb_emergency *e, const struct lb_actor *actor,
    const char *comment, int64_t now_ms);
/* The provider's answer: provider_admin or incident_manager (forbidden);
 * an objection is open (invalid_state); response non-empty (missing_field). */
int lb_emergency_review(struct lb_emergency *e, const struct lb_actor *actor,
    const char *response, int64_t now_ms);
/* "open", "answered" or NULL when there is no objection. */
const char *lb_emergency_review_status(const struct lb_emergency *e);

/* The 48-hour notice: due at start + 48 h (0 before the start). */
int64_t lb_emergency_notice_due(const struct lb_emergency *e);
/*
 * Overdue iff the access has started, now >= due, and the notice was not
 * delivered before due (delivered_ms 0 = not delivered).
 */
bool lb_emergency_notice_overdue(const struct lb_emergency *e, int64_t delivered_ms,
    int64_t now_ms);
/* Who may see the access (else 404): provider_admin, support_manager and
 * incident_manager all; a support_engineer their own; the tenant's
 * principals their tenant's. */
bool lb_emergency_visible(const struct lb_emergency *e, const struct lb_actor *actor);

#endif
