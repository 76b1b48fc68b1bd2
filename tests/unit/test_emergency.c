/*
 * Unit tests of the break-glass rules (src/core/emergency.c): incidents,
 * every guard rail that refuses an emergency access, the approval by a
 * different incident_manager, the window's end, the tenant's objection and
 * the provider's answer, and the 48-hour notice deadline.
 *
 * The clock is fake: every "now" is a plain int64, so the boundaries
 * (duration 59/60/720/721, the cap at exactly N, the edges of the window,
 * 47:59:59.999 and 48:00:00.000 after the start) are tested exactly.  This
 * program links the core objects and cmocka only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define T0      1767225600000LL         /* 2026-01-01T00:00:00Z */
#define MINUTE  60000LL
#define HOUR    (60 * MINUTE)
#define DAY     (24 * HOUR)

static void
set(char *dst, size_t size, const char *src)
{
	int n = snprintf(dst, size, "%s", src);

	assert_true(n >= 0 && (size_t)n < size);
}
#define SET(dst, src) set((dst), sizeof(dst), (src))

static struct lb_actor
mk_actor(const char *id, const char *realm, unsigned roles)
{
	struct lb_actor a;

	memset(&a, 0, sizeof(a));
	SET(a.id, id);
	SET(a.realm, realm);
	a.roles = roles;
	a.type = LB_ACTOR_USER;
	return a;
}

static struct lb_actor
im(const char *id)
{
	return mk_actor(id, "provider", LB_ROLE_INCIDENT_MANAGER);
}

static struct lb_incident
mk_incident(enum lb_severity sev)
{
	struct lb_incident inc;
	char tenants[2][LB_ID_MAX + 1] = { "contoso", "fabrikam" };
	struct lb_actor a = im("im1");

	assert_int_equal(lb_incident_declare("inc_1", "Mail outage", sev,
	    (const char (*)[LB_ID_MAX + 1])tenants, 2, &a, T0, &inc), 0);
	return inc;
}

static struct lb_emergency_input
mk_input(void)
{
	struct lb_emergency_input in;

	memset(&in, 0, sizeof(in));
	SET(in.incident, "inc_1");
	SET(in.tenant, "contoso");
	SET(in.workload, "exchange");
	SET(in.resources[0], "mailbox/alice@contoso.example");
	in.nresources = 1;
	SET(in.justification, "Mail flow down for the whole tenant");
	return in;
}

static struct lb_provider_settings
mk_ps(int cap, int hours)
{
	struct lb_provider_settings ps;

	memset(&ps, 0, sizeof(ps));
	ps.emergency_cap = cap;
	ps.emergency_window_hours = hours;
	return ps;
}

static int
create(const struct lb_emergency_input *in, const struct lb_actor *a,
    const struct lb_incident *inc, const char *const *denied, size_t nd, int count,
    struct lb_emergency *out)
{
	struct lb_provider_settings ps = mk_ps(0, 0);

	return lb_emergency_create("emg_1", in, a, inc, &ps, denied, nd, count, T0 + HOUR, out);
}

/* An access approved at T0 + 2 h by im2. */
static struct lb_emergency
mk_active(void)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor req = im("im1"), ap = im("im2");
	struct lb_emergency e;

	assert_int_equal(create(&in, &req, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(lb_emergency_approve(&e, &ap, &inc, T0 + 2 * HOUR), 0);
	return e;
}

/* -------------------------------------------------------------- incidents */

static void
test_names(void **state)
{
	enum lb_severity s;
	enum lb_emergency_status st;

	(void)state;
	assert_int_equal(lb_severity_parse("critical", &s), 0);
	assert_int_equal(s, LB_SEV_CRITICAL);
	assert_int_equal(lb_severity_parse("Critical", &s), LB_ERR_INVALID_FIELD);
	assert_int_equal(lb_severity_parse("sev1", &s), LB_ERR_INVALID_FIELD);
	assert_string_equal(lb_severity_name(LB_SEV_LOW), "low");
	assert_string_equal(lb_severity_name(LB_SEV_MEDIUM), "medium");
	assert_string_equal(lb_severity_name(LB_SEV_HIGH), "high");
	assert_int_equal(lb_emergency_status_parse("pending_approval", &st), 0);
	assert_int_equal(st, LB_EM_PENDING_APPROVAL);
	assert_int_equal(lb_emergency_status_parse("refused", &st), LB_ERR_INVALID_FIELD);
	assert_string_equal(lb_emergency_status_name(LB_EM_EXPIRED), "expired");
	assert_string_equal(lb_em_op_name(LB_EM_OP_REQUEST), "RequestEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_APPROVE), "ApproveEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_END), "EndEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_EXPIRE), "ExpireEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_OBJECT), "ObjectEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_REVIEW), "AnswerEmergencyReview");
	assert_string_equal(lb_em_op_name(LB_EM_OP_REFUSE), "RefuseEmergencyAccess");
	assert_string_equal(lb_em_op_name(LB_EM_OP_NOTICE_OVERDUE), "EmergencyNoticeOverdue");
	assert_string_equal(lb_em_op_name(999), "");
	assert_string_equal(lb_err_code(LB_ERR_INCIDENT_NOT_CRITICAL), "incident_not_critical");
	assert_string_equal(lb_err_code(LB_ERR_TENANT_NOT_AFFECTED), "tenant_not_affected");
	assert_string_equal(lb_err_code(LB_ERR_INCIDENT_CLOSED), "incident_closed");
	assert_string_equal(lb_err_code(LB_ERR_EMERGENCY_CAP), "emergency_cap_reached");
	assert_string_equal(lb_err_code(LB_ERR_TENANT_DENIED_SCOPE), "tenant_denied_scope");
	assert_int_equal(lb_err_http_status(LB_ERR_TENANT_DENIED_SCOPE), 422);
	assert_int_equal(lb_err_from_code("emergency_cap_reached"), LB_ERR_EMERGENCY_CAP);
}

static void
test_incident_declare(void **state)
{
	struct lb_incident inc, before;
	char t[3][LB_ID_MAX + 1] = { "contoso", "fabrikam", "contoso" };
	char bad[1][LB_ID_MAX + 1] = { "Contoso" };
	const char (*ct)[LB_ID_MAX + 1] = (const char (*)[LB_ID_MAX + 1])t;
	struct lb_actor a = im("im1");
	struct lb_actor eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_actor ga = mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN);
	struct lb_actor adm = mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN);

	(void)state;
	memset(&inc, 0x5a, sizeof(inc));
	before = inc;
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 2, &eng, T0, &inc),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 2, &ga, T0, &inc),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 2, &adm, T0, &inc),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(lb_incident_declare("inc_1", "", LB_SEV_HIGH, ct, 2, &a, T0, &inc),
	    LB_ERR_MISSING_FIELD);
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 0, &a, T0, &inc),
	    LB_ERR_MISSING_FIELD);
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 3, &a, T0, &inc),
	    LB_ERR_INVALID_VALUE);     /* contoso twice */
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH,
	    (const char (*)[LB_ID_MAX + 1])bad, 1, &a, T0, &inc), LB_ERR_INVALID_VALUE);
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct,
	    LB_INCIDENT_TENANTS_MAX + 1, &a, T0, &inc), LB_ERR_TOO_MANY_ITEMS);
	assert_memory_equal(&inc, &before, sizeof(inc));   /* untouched on failure */
	assert_int_equal(lb_incident_declare("inc_1", "T", LB_SEV_HIGH, ct, 2, &a, T0, &inc), 0);
	assert_string_equal(inc.declared_by, "im1");
	assert_int_equal(inc.started_ms, T0);
	assert_int_equal(inc.ended_ms, 0);
	assert_true(lb_incident_open(&inc));
	assert_true(lb_incident_affects(&inc, "fabrikam"));
	assert_false(lb_incident_affects(&inc, "northwind"));
}

static void
test_incident_close(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_actor a = im("im2");
	struct lb_actor eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);

	(void)state;
	assert_int_equal(lb_incident_close(&inc, &eng, T0 + HOUR), LB_ERR_FORBIDDEN);
	assert_true(lb_incident_open(&inc));
	assert_int_equal(lb_incident_close(&inc, &a, T0 + HOUR), 0);
	assert_false(lb_incident_open(&inc));
	assert_int_equal(inc.ended_ms, T0 + HOUR);
	assert_string_equal(inc.closed_by, "im2");
	assert_int_equal(lb_incident_close(&inc, &a, T0 + 2 * HOUR), LB_ERR_INVALID_STATE);
	assert_int_equal(inc.ended_ms, T0 + HOUR);
}

/* ------------------------------------------------------------ guard rails */

static void
test_create_ok(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor a = im("im1");
	struct lb_actor eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_emergency e;

	(void)state;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(e.status, LB_EM_PENDING_APPROVAL);
	assert_int_equal(e.duration_minutes, 240);       /* default 4 h */
	assert_string_equal(e.requester, "im1");
	assert_string_equal(e.approver, "");
	assert_int_equal(e.created_ms, T0 + HOUR);
	assert_int_equal(e.starts_ms, 0);
	assert_int_equal(lb_emergency_notice_due(&e), 0);
	assert_int_equal(create(&in, &eng, &inc, NULL, 0, 0, &e), 0);
	assert_string_equal(e.requester, "eng1");
}

static void
test_create_roles(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor who[] = {
		mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN),
		mk_actor("mgr1", "provider", LB_ROLE_SUPPORT_MANAGER),
		mk_actor("gw1", "provider", LB_ROLE_GATEWAY),
		mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN),
		/* A tenant principal that somehow holds a provider bit. */
		mk_actor("x", "contoso", LB_ROLE_INCIDENT_MANAGER),
	};
	struct lb_emergency e;

	(void)state;
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++)
		assert_int_equal(create(&in, &who[i], &inc, NULL, 0, 0, &e), LB_ERR_FORBIDDEN);
}

static void
test_create_duration(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor a = im("im1");
	struct lb_emergency e;

	(void)state;
	in.duration_minutes = 59;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INVALID_DURATION);
	in.duration_minutes = 60;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(e.duration_minutes, 60);
	in.duration_minutes = 720;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(e.duration_minutes, 720);
	in.duration_minutes = 721;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INVALID_DURATION);
	in.duration_minutes = -1;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INVALID_DURATION);
}

static void
test_create_input(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in;
	struct lb_actor a = im("im1");
	struct lb_emergency e;

	(void)state;
	in = mk_input();
	in.justification[0] = '\0';
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_MISSING_FIELD);
	in = mk_input();
	in.nresources = 0;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_MISSING_FIELD);
	in = mk_input();
	SET(in.resources[0], "mailbox/../etc");
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INVALID_VALUE);
	in = mk_input();
	SET(in.workload, "Exchange");
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INVALID_VALUE);
	in = mk_input();
	in.nresources = LB_RESOURCES_MAX + 1;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_TOO_MANY_ITEMS);
}

static void
test_create_incident_rails(void **state)
{
	struct lb_incident inc;
	struct lb_emergency_input in = mk_input();
	struct lb_actor a = im("im1"), b = im("im2");
	struct lb_emergency e;

	(void)state;
	for (int s = LB_SEV_LOW; s <= LB_SEV_HIGH; s++) {
		inc = mk_incident((enum lb_severity)s);
		assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INCIDENT_NOT_CRITICAL);
		assert_true(lb_emergency_guard_error(LB_ERR_INCIDENT_NOT_CRITICAL));
	}
	inc = mk_incident(LB_SEV_CRITICAL);
	SET(in.tenant, "northwind");
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_TENANT_NOT_AFFECTED);
	in = mk_input();
	assert_int_equal(lb_incident_close(&inc, &b, T0 + 30 * MINUTE), 0);
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INCIDENT_CLOSED);
	/* Closed wins over not critical: the first rail that fails is named. */
	inc = mk_incident(LB_SEV_LOW);
	assert_int_equal(lb_incident_close(&inc, &b, T0 + 30 * MINUTE), 0);
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 0, &e), LB_ERR_INCIDENT_CLOSED);
	assert_true(lb_emergency_guard_error(LB_ERR_TENANT_NOT_AFFECTED));
	assert_true(lb_emergency_guard_error(LB_ERR_INCIDENT_CLOSED));
	assert_false(lb_emergency_guard_error(LB_ERR_INVALID_DURATION));
	assert_false(lb_emergency_guard_error(LB_ERR_FORBIDDEN));
}

static void
test_create_denied_scope(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor a = im("im1");
	struct lb_emergency e;
	const char *above[] = { "mailbox" };
	const char *same[] = { "site/x", "mailbox/alice@contoso.example" };
	const char *below[] = { "mailbox/alice@contoso.example/inbox" };
	const char *sibling[] = { "mailbox/alice@contoso.example.evil", "mailbox/bob@contoso.example",
		"mail" };

	(void)state;
	assert_int_equal(create(&in, &a, &inc, above, 1, 0, &e), LB_ERR_TENANT_DENIED_SCOPE);
	assert_int_equal(create(&in, &a, &inc, same, 2, 0, &e), LB_ERR_TENANT_DENIED_SCOPE);
	assert_int_equal(create(&in, &a, &inc, below, 1, 0, &e), LB_ERR_TENANT_DENIED_SCOPE);
	assert_int_equal(create(&in, &a, &inc, sibling, 3, 0, &e), 0);
	assert_true(lb_emergency_guard_error(LB_ERR_TENANT_DENIED_SCOPE));
	/* Denied scope is checked before the cap. */
	assert_int_equal(create(&in, &a, &inc, same, 2, 99, &e), LB_ERR_TENANT_DENIED_SCOPE);
}

static void
test_denied_recently(void **state)
{
	struct lb_request r;
	int64_t now = T0 + 30 * DAY;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.status = LB_ST_DENIED;
	r.ndecisions = 1;
	r.decisions[0].kind = LB_DEC_DENY;
	r.decisions[0].at_ms = now - 7 * DAY;           /* exactly 7 days: outside */
	assert_false(lb_request_denied_recently(&r, now));
	r.decisions[0].at_ms = now - 7 * DAY + 1;
	assert_true(lb_request_denied_recently(&r, now));
	r.decisions[0].at_ms = now;
	assert_true(lb_request_denied_recently(&r, now));
	r.decisions[0].at_ms = now + 1;                 /* in the future: not yet */
	assert_false(lb_request_denied_recently(&r, now));
	r.decisions[0].at_ms = now - DAY;
	r.status = LB_ST_EXPIRED;                       /* expired is not a deny decision */
	assert_false(lb_request_denied_recently(&r, now));
	r.status = LB_ST_DENIED;
	r.decisions[0].kind = LB_DEC_APPROVE;
	assert_false(lb_request_denied_recently(&r, now));
}

static void
test_create_cap(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor a = im("im1");
	struct lb_provider_settings ps = mk_ps(5, 48);
	struct lb_emergency e;

	(void)state;
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 2, &e), 0);
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 3, &e), LB_ERR_EMERGENCY_CAP);
	assert_int_equal(create(&in, &a, &inc, NULL, 0, 4, &e), LB_ERR_EMERGENCY_CAP);
	assert_true(lb_emergency_guard_error(LB_ERR_EMERGENCY_CAP));
	assert_int_equal(lb_emergency_create("emg_2", &in, &a, &inc, &ps, NULL, 0, 4, T0, &e), 0);
	assert_int_equal(lb_emergency_create("emg_2", &in, &a, &inc, &ps, NULL, 0, 5, T0, &e),
	    LB_ERR_EMERGENCY_CAP);
	assert_int_equal(lb_emergency_cap(NULL), 3);
	assert_int_equal(lb_emergency_cap(&ps), 5);
	assert_int_equal(lb_emergency_window_ms(&ps), 48 * HOUR);
	ps = mk_ps(0, 0);
	assert_int_equal(lb_emergency_cap(&ps), 3);
	assert_int_equal(lb_emergency_window_ms(&ps), 24 * HOUR);
}

static void
test_window_edges(void **state)
{
	int64_t now = T0 + 10 * DAY, w = 24 * HOUR;

	(void)state;
	assert_false(lb_emergency_in_window(now - w, now, w));      /* one window ago: out */
	assert_true(lb_emergency_in_window(now - w + 1, now, w));
	assert_true(lb_emergency_in_window(now, now, w));
	assert_false(lb_emergency_in_window(now + 1, now, w));
}

static void
test_provider_settings_check(void **state)
{
	struct lb_provider_settings ps;

	(void)state;
	ps = mk_ps(0, 0);
	assert_int_equal(lb_provider_settings_check(&ps), 0);
	ps = mk_ps(1, 1);
	assert_int_equal(lb_provider_settings_check(&ps), 0);
	ps = mk_ps(LB_EMERGENCY_CAP_MAX, LB_EMERGENCY_WINDOW_MAX);
	assert_int_equal(lb_provider_settings_check(&ps), 0);
	ps = mk_ps(LB_EMERGENCY_CAP_MAX + 1, 24);
	assert_int_equal(lb_provider_settings_check(&ps), LB_ERR_INVALID_VALUE);
	ps = mk_ps(3, LB_EMERGENCY_WINDOW_MAX + 1);
	assert_int_equal(lb_provider_settings_check(&ps), LB_ERR_INVALID_VALUE);
	ps = mk_ps(-1, 24);
	assert_int_equal(lb_provider_settings_check(&ps), LB_ERR_INVALID_VALUE);
}

/* -------------------------------------------------------------- lifecycle */

static void
test_approve(void **state)
{
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor req = im("im1"), ap = im("im2");
	struct lb_actor eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_actor adm = mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN);
	struct lb_emergency e, before;

	(void)state;
	assert_int_equal(create(&in, &req, &inc, NULL, 0, 0, &e), 0);
	before = e;
	assert_int_equal(lb_emergency_approve(&e, &req, &inc, T0 + 2 * HOUR), LB_ERR_SELF_APPROVAL);
	assert_int_equal(lb_emergency_approve(&e, &eng, &inc, T0 + 2 * HOUR), LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_approve(&e, &adm, &inc, T0 + 2 * HOUR), LB_ERR_FORBIDDEN);
	assert_memory_equal(&e, &before, sizeof(e));
	assert_int_equal(lb_emergency_approve(&e, &ap, &inc, T0 + 2 * HOUR), 0);
	assert_int_equal(e.status, LB_EM_ACTIVE);
	assert_string_equal(e.approver, "im2");
	assert_int_equal(e.starts_ms, T0 + 2 * HOUR);
	assert_int_equal(e.expires_ms, T0 + 6 * HOUR);
	/* Twice: not pending any more. */
	assert_int_equal(lb_emergency_approve(&e, &ap, &inc, T0 + 2 * HOUR), LB_ERR_INVALID_STATE);

	/* The engineer's request, approved by an incident_manager. */
	assert_int_equal(create(&in, &eng, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(lb_emergency_approve(&e, &req, &inc, T0 + 2 * HOUR), 0);

	/* The incident closed meanwhile. */
	assert_int_equal(create(&in, &req, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(lb_incident_close(&inc, &ap, T0 + 90 * MINUTE), 0);
	assert_int_equal(lb_emergency_approve(&e, &ap, &inc, T0 + 2 * HOUR), LB_ERR_INCIDENT_CLOSED);
	assert_int_equal(e.status, LB_EM_PENDING_APPROVAL);
}

static void
test_window_end(void **state)
{
	struct lb_emergency e = mk_active();
	int op = 0;

	(void)state;
	assert_int_equal(lb_emergency_status_at(&e, e.expires_ms - 1), LB_EM_ACTIVE);
	assert_int_equal(lb_emergency_tick(&e, e.expires_ms - 1, &op), 0);
	assert_int_equal(lb_emergency_status_at(&e, e.expires_ms), LB_EM_EXPIRED);
	assert_int_equal(e.status, LB_EM_ACTIVE);       /* as stored, until the tick */
	assert_int_equal(lb_emergency_tick(&e, e.expires_ms, &op), 1);
	assert_int_equal(op, LB_EM_OP_EXPIRE);
	assert_int_equal(e.status, LB_EM_EXPIRED);
	assert_int_equal(e.ended_ms, e.expires_ms);
	assert_string_equal(e.end_reason, "expired");
	assert_int_equal(lb_emergency_tick(&e, e.expires_ms + 1, &op), 0);
}

static void
test_end(void **state)
{
	struct lb_emergency e = mk_active(), before;
	struct lb_actor req = im("im1"), other = im("im3");
	struct lb_actor eng = mk_actor("eng2", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_actor ga = mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN);

	(void)state;
	before = e;
	assert_int_equal(lb_emergency_end(&e, &eng, LB_EM_END_PROVIDER, T0 + 3 * HOUR),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_end(&e, &ga, LB_EM_END_PROVIDER, T0 + 3 * HOUR),
	    LB_ERR_FORBIDDEN);
	assert_memory_equal(&e, &before, sizeof(e));
	assert_int_equal(lb_emergency_end(&e, &other, LB_EM_END_PROVIDER, T0 + 3 * HOUR), 0);
	assert_int_equal(e.status, LB_EM_ENDED);
	assert_int_equal(e.ended_ms, T0 + 3 * HOUR);
	assert_string_equal(e.ended_by, "im3");
	assert_int_equal(lb_emergency_status_at(&e, e.expires_ms + 1), LB_EM_ENDED);
	assert_int_equal(lb_emergency_end(&e, &req, LB_EM_END_PROVIDER, T0 + 3 * HOUR),
	    LB_ERR_INVALID_STATE);

	/* The requester (an engineer) may end their own; after expiry nobody can. */
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor me = mk_actor("eng2", "provider", LB_ROLE_SUPPORT_ENGINEER);
	assert_int_equal(create(&in, &me, &inc, NULL, 0, 0, &e), 0);
	assert_int_equal(lb_emergency_end(&e, &me, LB_EM_END_PROVIDER, T0 + 3 * HOUR), 0);
	assert_int_equal(e.status, LB_EM_ENDED);            /* pending ones too */
	e = mk_active();
	assert_int_equal(lb_emergency_end(&e, &req, LB_EM_END_PROVIDER, e.expires_ms),
	    LB_ERR_INVALID_STATE);
	/* The incident's close ends it with its own reason. */
	e = mk_active();
	assert_int_equal(lb_emergency_end(&e, &other, LB_EM_END_INCIDENT, T0 + 3 * HOUR), 0);
	assert_string_equal(e.end_reason, "incident_closed");
}

static void
test_objection_review(void **state)
{
	struct lb_emergency e = mk_active();
	struct lb_actor ga = mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN);
	struct lb_actor ca = mk_actor("ca1", "contoso", LB_ROLE_COMPLIANCE_ADMIN);
	struct lb_actor ap = mk_actor("ap1", "contoso", LB_ROLE_LOCKBOX_APPROVER);
	struct lb_actor other = mk_actor("ga1", "fabrikam", LB_ROLE_GLOBAL_ADMIN);
	struct lb_actor adm = mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN);
	struct lb_actor eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_actor m = im("im2");
	struct lb_emergency pending;

	(void)state;
	assert_null(lb_emergency_review_status(&e));
	assert_int_equal(lb_emergency_review(&e, &adm, "x", T0 + 4 * HOUR), LB_ERR_INVALID_STATE);
	assert_int_equal(lb_emergency_object(&e, &ap, "no", T0 + 3 * HOUR), LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_object(&e, &other, "no", T0 + 3 * HOUR), LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_object(&e, &adm, "no", T0 + 3 * HOUR), LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_object(&e, &ga, "", T0 + 3 * HOUR), LB_ERR_MISSING_FIELD);
	assert_int_equal(lb_emergency_object(&e, &ca, "Why my mailbox?", T0 + 3 * HOUR), 0);
	assert_string_equal(lb_emergency_review_status(&e), "open");
	assert_string_equal(e.objection_by, "ca1");
	assert_int_equal(e.objection_ms, T0 + 3 * HOUR);
	assert_int_equal(lb_emergency_object(&e, &ga, "again", T0 + 3 * HOUR), LB_ERR_INVALID_STATE);
	assert_int_equal(lb_emergency_review(&e, &eng, "x", T0 + 4 * HOUR), LB_ERR_FORBIDDEN);
	assert_int_equal(lb_emergency_review(&e, &m, "", T0 + 4 * HOUR), LB_ERR_MISSING_FIELD);
	assert_int_equal(lb_emergency_review(&e, &m, "Needed for the outage", T0 + 4 * HOUR), 0);
	assert_string_equal(lb_emergency_review_status(&e), "answered");
	assert_string_equal(e.review_by, "im2");
	assert_int_equal(lb_emergency_review(&e, &adm, "again", T0 + 5 * HOUR),
	    LB_ERR_INVALID_STATE);

	/* Nothing to object to before the access started. */
	struct lb_incident inc = mk_incident(LB_SEV_CRITICAL);
	struct lb_emergency_input in = mk_input();
	struct lb_actor req = im("im1");
	assert_int_equal(create(&in, &req, &inc, NULL, 0, 0, &pending), 0);
	assert_int_equal(lb_emergency_object(&pending, &ga, "no", T0 + 3 * HOUR),
	    LB_ERR_INVALID_STATE);
}

static void
test_notice_deadline(void **state)
{
	struct lb_emergency e = mk_active();
	int64_t due = e.starts_ms + 48 * HOUR;

	(void)state;
	assert_int_equal(lb_emergency_notice_due(&e), due);
	/* Never delivered: not overdue at 47:59:59.999, overdue at 48:00:00.000. */
	assert_false(lb_emergency_notice_overdue(&e, 0, due - 1));
	assert_true(lb_emergency_notice_overdue(&e, 0, due));
	assert_true(lb_emergency_notice_overdue(&e, 0, due + DAY));
	/* Delivered in time: never overdue. */
	assert_false(lb_emergency_notice_overdue(&e, e.starts_ms + 1000, due));
	assert_false(lb_emergency_notice_overdue(&e, due - 1, due + DAY));
	/* Delivered late (at or after the deadline): overdue. */
	assert_true(lb_emergency_notice_overdue(&e, due, due));
	assert_true(lb_emergency_notice_overdue(&e, due + HOUR, due + DAY));
	/* Not started: no deadline. */
	e.starts_ms = 0;
	assert_false(lb_emergency_notice_overdue(&e, 0, due + DAY));
}

static void
test_visible(void **state)
{
	struct lb_emergency e = mk_active();
	struct lb_actor yes[] = {
		mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN),
		mk_actor("mgr1", "provider", LB_ROLE_SUPPORT_MANAGER),
		im("im9"),
		mk_actor("rd1", "contoso", LB_ROLE_READER),
		mk_actor("ca1", "contoso", LB_ROLE_COMPLIANCE_ADMIN),
	};
	struct lb_actor no[] = {
		mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER),
		mk_actor("gw1", "provider", LB_ROLE_GATEWAY),
		mk_actor("ga1", "fabrikam", LB_ROLE_GLOBAL_ADMIN),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(lb_emergency_visible(&e, &yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(lb_emergency_visible(&e, &no[i]));
	SET(e.requester, "eng1");
	assert_true(lb_emergency_visible(&e, &no[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_incident_declare),
		cmocka_unit_test(test_incident_close),
		cmocka_unit_test(test_create_ok),
		cmocka_unit_test(test_create_roles),
		cmocka_unit_test(test_create_duration),
		cmocka_unit_test(test_create_input),
		cmocka_unit_test(test_create_incident_rails),
		cmocka_unit_test(test_create_denied_scope),
		cmocka_unit_test(test_denied_recently),
		cmocka_unit_test(test_create_cap),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_provider_settings_check),
		cmocka_unit_test(test_approve),
		cmocka_unit_test(test_window_end),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_objection_review),
		cmocka_unit_test(test_notice_deadline),
		cmocka_unit_test(test_visible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
