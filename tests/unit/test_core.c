/*
 * Unit tests of the pure core (src/core/): the rules of SPEC section 2, the
 * request state machine of section 3, names, resource paths and time text.
 *
 * The clock is fake: every "now" is a plain int64 handed to the core, so the
 * exact millisecond of a 12-hour expiry is tested without waiting.  This
 * program links the core objects and cmocka only, which proves the core
 * needs no other library.
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

/* ------------------------------------------------------------- fixtures */

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

static struct lb_tenant
mk_tenant(const char *id, const char *plan, enum lb_cloud cloud)
{
	struct lb_tenant t;

	memset(&t, 0, sizeof(t));
	SET(t.id, id);
	SET(t.name, "Contoso Ltd");
	SET(t.plan, plan);
	t.cloud = cloud;
	t.created_ms = T0 - 1000;
	return t;
}

static void
add_approver(struct lb_settings *s, const char *id)
{
	assert_true(s->napprovers < LB_APPROVERS_MAX);
	SET(s->approvers[s->napprovers], id);
	s->napprovers++;
}

/* A tenant, its settings, a case and the cast of SPEC section 1. */
struct world {
	struct lb_tenant t;
	struct lb_settings s;
	struct lb_provider_settings ps;
	struct lb_case c;
	struct lb_request_input in;
	struct lb_actor eng, eng2, mgr, mgr2, padmin, incident, gateway;
	struct lb_actor ga1, ap1, ap2, ga_nd, reader, comp, sec, other;
};

static void
world_init(struct world *w, enum lb_cloud cloud, bool enabled)
{
	memset(w, 0, sizeof(*w));
	w->t = mk_tenant("contoso", "M365_E5", cloud);
	lb_settings_init(&w->s);
	w->s.enabled = enabled;
	add_approver(&w->s, "ga1");
	add_approver(&w->s, "ap1");
	add_approver(&w->s, "ap2");
	w->ps.require_internal_approval = false;

	SET(w->c.id, "case_1");
	SET(w->c.tenant, "contoso");
	SET(w->c.title, "Mail flow broken");
	w->c.status = LB_CASE_OPEN;
	SET(w->c.assigned_to, "eng1");
	SET(w->c.opened_by, "ga1");
	w->c.created_ms = T0 - 500;

	SET(w->in.case_id, "case_1");
	SET(w->in.workload, "exchange");
	SET(w->in.resources[0], "mailbox/alice@contoso.example");
	w->in.nresources = 1;
	SET(w->in.justification, "Customer reports lost mail; need to inspect");
	w->in.duration_minutes = 0;

	w->eng = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	w->eng2 = mk_actor("eng2", "provider", LB_ROLE_SUPPORT_ENGINEER);
	w->mgr = mk_actor("mgr1", "provider", LB_ROLE_SUPPORT_MANAGER);
	w->mgr2 = mk_actor("mgr2", "provider", LB_ROLE_SUPPORT_MANAGER);
	w->padmin = mk_actor("admin", "provider", LB_ROLE_PROVIDER_ADMIN);
	w->incident = mk_actor("inc1", "provider", LB_ROLE_INCIDENT_MANAGER);
	w->gateway = mk_actor("gw", "provider", LB_ROLE_GATEWAY);
	w->gateway.type = LB_ACTOR_SERVICE;
	w->ga1 = mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN);
	w->ap1 = mk_actor("ap1", "contoso", LB_ROLE_LOCKBOX_APPROVER);
	w->ap2 = mk_actor("ap2", "contoso", LB_ROLE_LOCKBOX_APPROVER);
	w->ga_nd = mk_actor("ga9", "contoso", LB_ROLE_GLOBAL_ADMIN);
	w->reader = mk_actor("rd1", "contoso", LB_ROLE_READER);
	w->comp = mk_actor("ca1", "contoso", LB_ROLE_COMPLIANCE_ADMIN);
	w->sec = mk_actor("sa1", "contoso", LB_ROLE_SECURITY_ADMIN);
	w->other = mk_actor("ga1", "fabrikam", LB_ROLE_GLOBAL_ADMIN);
}

static int
create_at(struct world *w, int64_t now, struct lb_request *out)
{
	return lb_request_create("req_1", &w->in, &w->eng, &w->t, &w->s, &w->ps,
	    &w->c, now, out);
}

static struct lb_request
new_request(struct world *w)
{
	struct lb_request r;

	assert_int_equal(create_at(w, T0, &r), 0);
	return r;
}

static int
decide(struct world *w, struct lb_request *r, const struct lb_actor *a,
    enum lb_decision_kind k, int minutes, int64_t now, int *op)
{
	*op = -1;
	return lb_request_decide(r, a, k, minutes, "ok", &w->t, &w->s, now, op);
}

/* An approved commercial request, approved by ga1 at T0 + 1 h. */
static struct lb_request
approved_request(struct world *w)
{
	struct lb_request r = new_request(w);
	int op;

	assert_int_equal(decide(w, &r, &w->ga1, LB_DEC_APPROVE, 0, T0 + HOUR, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.status, LB_ST_APPROVED);
	return r;
}

/* ---------------------------------------------------------- identifiers */

static void
test_id_valid(void **state)
{
	char long_id[LB_ID_MAX + 2];

	(void)state;
	assert_true(lb_id_valid("ga1"));
	assert_true(lb_id_valid("a"));
	assert_true(lb_id_valid("alice@contoso.example"));
	assert_true(lb_id_valid("A.b_c-d"));
	assert_false(lb_id_valid(""));
	assert_false(lb_id_valid(NULL));
	assert_false(lb_id_valid("-lead"));
	assert_false(lb_id_valid(".hidden"));
	assert_false(lb_id_valid("a b"));
	assert_false(lb_id_valid("a/b"));
	assert_false(lb_id_valid("caf\xc3\xa9"));
	memset(long_id, 'a', sizeof(long_id));
	long_id[LB_ID_MAX] = '\0';
	assert_true(lb_id_valid(long_id));          /* exactly 64 */
	long_id[LB_ID_MAX] = 'a';
	long_id[LB_ID_MAX + 1] = '\0';
	assert_false(lb_id_valid(long_id));         /* 65 */
}

static void
test_tenant_id_valid(void **state)
{
	(void)state;
	assert_true(lb_tenant_id_valid("contoso"));
	assert_true(lb_tenant_id_valid("fab-rikam-2"));
	assert_true(lb_tenant_id_valid("9lives"));
	assert_false(lb_tenant_id_valid("Contoso"));
	assert_false(lb_tenant_id_valid("con_toso"));
	assert_false(lb_tenant_id_valid("con.toso"));
	assert_false(lb_tenant_id_valid("-contoso"));
	assert_false(lb_tenant_id_valid("provider"));
	assert_true(lb_tenant_id_valid("providers"));
	assert_false(lb_tenant_id_valid(""));
	assert_false(lb_tenant_id_valid(NULL));
}

static void
test_email_valid(void **state)
{
	char long_mail[LB_EMAIL_MAX + 2];

	(void)state;
	assert_true(lb_email_valid("lockbox@contoso.example"));
	assert_true(lb_email_valid("a+tag@x"));
	assert_false(lb_email_valid("no-at.example"));
	assert_false(lb_email_valid("two@@contoso.example"));
	assert_false(lb_email_valid("a@b@c"));
	assert_false(lb_email_valid("@contoso.example"));
	assert_false(lb_email_valid("alice@"));
	assert_false(lb_email_valid("alice@.example"));
	assert_false(lb_email_valid("alice@example."));
	assert_false(lb_email_valid("alice@ex..ample"));
	assert_false(lb_email_valid("ali ce@contoso.example"));
	assert_false(lb_email_valid("alice@contoso.example\r\nBcc: x@y"));
	assert_false(lb_email_valid("<alice@contoso.example>"));
	assert_false(lb_email_valid("a@b,c@d"));
	assert_false(lb_email_valid(""));
	memset(long_mail, 'a', sizeof(long_mail));
	memcpy(long_mail + LB_EMAIL_MAX - 4, "@b.c", 4);
	long_mail[LB_EMAIL_MAX] = '\0';
	assert_true(lb_email_valid(long_mail));     /* exactly 254 */
	memcpy(long_mail + LB_EMAIL_MAX - 4, "a@b.c", 5);
	long_mail[LB_EMAIL_MAX + 1] = '\0';
	assert_false(lb_email_valid(long_mail));    /* 255 */
}

static void
test_workload_valid(void **state)
{
	char w41[42];

	(void)state;
	assert_true(lb_workload_valid("exchange"));
	assert_true(lb_workload_valid("sharepoint"));
	assert_true(lb_workload_valid("teams"));
	assert_true(lb_workload_valid("my_crm-2"));
	assert_false(lb_workload_valid("Exchange"));
	assert_false(lb_workload_valid("ex change"));
	assert_false(lb_workload_valid("ex/change"));
	assert_false(lb_workload_valid(""));
	memset(w41, 'w', sizeof(w41));
	w41[40] = '\0';
	assert_true(lb_workload_valid(w41));
	w41[40] = 'w';
	w41[41] = '\0';
	assert_false(lb_workload_valid(w41));
}

static void
test_resource_valid(void **state)
{
	char big[LB_RESOURCE_MAX + 2];

	(void)state;
	assert_true(lb_resource_valid("mailbox/alice@contoso.example"));
	assert_true(lb_resource_valid("site/finance"));
	assert_true(lb_resource_valid("site"));
	assert_true(lb_resource_valid("site/Q3 report.xlsx"));
	assert_true(lb_resource_valid("site/a.b/..c/c.."));
	assert_false(lb_resource_valid(""));
	assert_false(lb_resource_valid(NULL));
	assert_false(lb_resource_valid("/site"));
	assert_false(lb_resource_valid("site/"));
	assert_false(lb_resource_valid("site//finance"));
	assert_false(lb_resource_valid("site/./finance"));
	assert_false(lb_resource_valid("site/../hr"));
	assert_false(lb_resource_valid(".."));
	assert_false(lb_resource_valid("."));
	assert_false(lb_resource_valid("site/fin%2fance"));
	assert_false(lb_resource_valid("site\\finance"));
	assert_false(lb_resource_valid("site/finance?x=1"));
	assert_false(lb_resource_valid("site/finance#top"));
	assert_false(lb_resource_valid("site/fin\nance"));
	assert_false(lb_resource_valid("site/fin\x7f"));
	memset(big, 'r', sizeof(big));
	big[LB_RESOURCE_MAX] = '\0';
	assert_true(lb_resource_valid(big));
	big[LB_RESOURCE_MAX] = 'r';
	big[LB_RESOURCE_MAX + 1] = '\0';
	assert_false(lb_resource_valid(big));
}

static void
test_resource_covers_table(void **state)
{
	static const struct {
		const char *grant, *path;
		bool covers;
	} rows[] = {
		{ "site/finance", "site/finance", true },
		{ "site/finance", "site/finance/q3.xlsx", true },
		{ "site/finance", "site/finance/2026/q3", true },
		{ "site/fin", "site/finance", false },
		{ "site/fin", "site/fin", true },
		{ "site/fin", "site/fin/x", true },
		{ "site/finance", "site/fin", false },
		{ "site/finance", "site", false },
		{ "site", "site/finance", true },
		{ "site/finance", "site/finance/", false },   /* trailing slash */
		{ "site/finance/", "site/finance/x", false },  /* bad grant */
		{ "site/finance", "site/finance/../hr", false },
		{ "site/finance", "site/finance/./x", false },
		{ "site/finance", "Site/Finance", false },    /* case matters */
		{ "mailbox/alice@contoso.example", "mailbox/alice@contoso.example/inbox", true },
		{ "mailbox/alice@contoso.example", "mailbox/alice@contoso.example.evil", false },
		{ "mailbox/alice", "mailbox/alice2", false },
		{ "", "site", false },
		{ "site", "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (lb_resource_covers(rows[i].grant, rows[i].path) != rows[i].covers)
			fail_msg("covers(\"%s\", \"%s\") should be %d", rows[i].grant,
			    rows[i].path, rows[i].covers);
	}
	assert_false(lb_resource_covers(NULL, "site"));
	assert_false(lb_resource_covers("site", NULL));
}

/* ---------------------------------------------------------------- roles */

static void
test_role_parse_and_name(void **state)
{
	static const char *const names[] = {
		"provider_admin", "support_engineer", "support_manager",
		"incident_manager", "gateway", "global_admin", "lockbox_approver",
		"compliance_admin", "security_admin", "reader",
	};
	unsigned seen = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned r = lb_role_parse(names[i]);
		assert_int_not_equal(r, 0);
		assert_int_equal(r & seen, 0);          /* distinct bits */
		seen |= r;
		assert_string_equal(lb_role_name(r), names[i]);
	}
	assert_int_equal(seen, LB_ROLES_PROVIDER | LB_ROLES_TENANT);
	assert_int_equal(lb_role_parse("global_admin"), LB_ROLE_GLOBAL_ADMIN);
	assert_int_equal(lb_role_parse("Global_Admin"), 0);
	assert_int_equal(lb_role_parse("root"), 0);
	assert_int_equal(lb_role_parse(""), 0);
	assert_int_equal(lb_role_parse(NULL), 0);
	assert_null(lb_role_name(0));
	assert_null(lb_role_name(LB_ROLE_GLOBAL_ADMIN | LB_ROLE_READER));
	assert_null(lb_role_name(1u << 20));
}

static void
test_roles_valid_for_realm(void **state)
{
	(void)state;
	assert_true(lb_roles_valid_for_realm(LB_ROLE_SUPPORT_ENGINEER, "provider"));
	assert_true(lb_roles_valid_for_realm(LB_ROLES_PROVIDER, "provider"));
	assert_false(lb_roles_valid_for_realm(LB_ROLE_GLOBAL_ADMIN, "provider"));
	assert_true(lb_roles_valid_for_realm(LB_ROLE_GLOBAL_ADMIN | LB_ROLE_READER, "contoso"));
	assert_false(lb_roles_valid_for_realm(LB_ROLE_SUPPORT_MANAGER, "contoso"));
	assert_false(lb_roles_valid_for_realm(LB_ROLE_GLOBAL_ADMIN | LB_ROLE_GATEWAY, "contoso"));
	assert_false(lb_roles_valid_for_realm(0, "contoso"));
	assert_false(lb_roles_valid_for_realm(1u << 20, "provider"));
	assert_false(lb_roles_valid_for_realm(LB_ROLE_READER, "Not A Tenant"));
	assert_false(lb_roles_valid_for_realm(LB_ROLE_READER, NULL));
}

static void
test_actor_is_provider(void **state)
{
	struct lb_actor p = mk_actor("eng1", "provider", LB_ROLE_SUPPORT_ENGINEER);
	struct lb_actor t = mk_actor("ga1", "contoso", LB_ROLE_GLOBAL_ADMIN);
	struct lb_actor u = mk_actor("x", "providers", LB_ROLE_READER);

	(void)state;
	assert_true(lb_actor_is_provider(&p));
	assert_false(lb_actor_is_provider(&t));
	assert_false(lb_actor_is_provider(&u));
	assert_false(lb_actor_is_provider(NULL));
}

/* -------------------------------------------------------------- tenants */

static void
test_cloud_parse_and_name(void **state)
{
	static const char *const names[] = { "commercial", "gcc", "gcc_high", "dod" };
	enum lb_cloud c = LB_CLOUD_DOD;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(lb_cloud_parse(names[i], &c), 0);
		assert_int_equal(c, (enum lb_cloud)i);
		assert_string_equal(lb_cloud_name(c), names[i]);
	}
	c = LB_CLOUD_GCC;
	assert_int_equal(lb_cloud_parse("GCC", &c), LB_ERR_INVALID_FIELD);
	assert_int_equal(lb_cloud_parse("", &c), LB_ERR_INVALID_FIELD);
	assert_int_equal(c, LB_CLOUD_GCC);          /* untouched on error */
	assert_string_equal(lb_cloud_name((enum lb_cloud)7), "unknown");
}

static void
test_licence_each_plan(void **state)
{
	static const char *const plans[] = {
		"M365_E5", "M365_E5_COMPLIANCE", "M365_E5_IPG", "O365_E5",
		"M365_A5", "M365_G5",
	};
	static const char *const unlicensed[] = {
		"M365_E3", "O365_E3", "M365_E5X", "m365_e5", "M365_E", "BUSINESS_PREMIUM",
	};
	struct lb_tenant t;

	(void)state;
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		t = mk_tenant("contoso", plans[i], LB_CLOUD_COMMERCIAL);
		assert_true(lb_tenant_licensed(&t));
	}
	for (size_t i = 0; i < sizeof(unlicensed) / sizeof(unlicensed[0]); i++) {
		t = mk_tenant("contoso", unlicensed[i], LB_CLOUD_COMMERCIAL);
		assert_false(lb_tenant_licensed(&t));
	}
}

static void
test_licence_e3_addon(void **state)
{
	struct lb_tenant t = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);

	(void)state;
	assert_false(lb_tenant_licensed(&t));
	SET(t.addons[0], "teams_premium");
	t.naddons = 1;
	assert_false(lb_tenant_licensed(&t));
	SET(t.addons[1], "customer_lockbox");
	assert_false(lb_tenant_licensed(&t));       /* naddons still 1 */
	t.naddons = 2;
	assert_true(lb_tenant_licensed(&t));
	SET(t.addons[1], "Customer_Lockbox");
	assert_false(lb_tenant_licensed(&t));
}

static void
test_tenant_validate(void **state)
{
	struct lb_tenant t = mk_tenant("contoso", "M365_E3", LB_CLOUD_GCC_HIGH);

	(void)state;
	assert_int_equal(lb_tenant_validate(&t), 0);
	SET(t.id, "Contoso");
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
	SET(t.id, "provider");
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
	SET(t.id, "");
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_MISSING_FIELD);
	t = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);
	SET(t.name, "");
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_MISSING_FIELD);
	SET(t.name, "Bad\nName");
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
	memset(t.name, 'n', sizeof(t.name));       /* unterminated */
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_FIELD_TOO_LONG);
	t = mk_tenant("contoso", "M365 E3", LB_CLOUD_COMMERCIAL);
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
	t = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);
	SET(t.addons[0], "customer_lockbox");
	SET(t.addons[1], "customer_lockbox");
	t.naddons = 2;
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
	t.naddons = LB_ADDONS_MAX + 1;
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_TOO_MANY_ITEMS);
	t.naddons = 1;
	t.cloud = (enum lb_cloud)9;
	assert_int_equal(lb_tenant_validate(&t), LB_ERR_INVALID_VALUE);
}

/* ------------------------------------------------------------- settings */

/* A settings check where every approver has `roles`. */
static int
check_all(const struct lb_tenant *t, const struct lb_settings *prev,
    const struct lb_settings *next, unsigned roles)
{
	unsigned r[LB_APPROVERS_MAX + 1];

	for (size_t i = 0; i < LB_APPROVERS_MAX + 1; i++)
		r[i] = roles;
	return lb_settings_check(t, prev, next, r);
}

static void
test_settings_init(void **state)
{
	struct lb_settings s;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	lb_settings_init(&s);
	assert_false(s.enabled);
	assert_int_equal(s.napprovers, 0);
	assert_int_equal(s.nemails, 0);
	assert_int_equal(s.nstages, 0);
	assert_int_equal(s.retention_days, 90);
}

static void
test_effective_stages_defaults(void **state)
{
	struct lb_settings s;
	struct lb_stage_cfg out[LB_STAGES_MAX];
	size_t n;

	(void)state;
	lb_settings_init(&s);
	n = lb_settings_effective_stages(&s, LB_CLOUD_COMMERCIAL, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].required, 1);
	assert_int_equal(out[0].napprovers, 0);
	assert_int_equal(lb_settings_effective_stages(&s, LB_CLOUD_GCC, out), 1);
	n = lb_settings_effective_stages(&s, LB_CLOUD_GCC_HIGH, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].required, 1);
	assert_int_equal(out[1].required, 1);
	assert_int_equal(out[1].napprovers, 0);
	assert_int_equal(lb_settings_effective_stages(&s, LB_CLOUD_DOD, out), 2);
}

static void
test_effective_stages_configured(void **state)
{
	struct lb_settings s;
	struct lb_stage_cfg out[LB_STAGES_MAX];

	(void)state;
	lb_settings_init(&s);
	s.nstages = 1;
	s.stages[0].required = 2;
	/* Configured stages replace the cloud default, even for gcc_high. */
	assert_int_equal(lb_settings_effective_stages(&s, LB_CLOUD_GCC_HIGH, out), 1);
	assert_int_equal(out[0].required, 2);
	s.nstages = 3;
	s.stages[1].required = 1;
	s.stages[2].required = 1;
	SET(s.stages[2].approvers[0], "ap1");
	s.stages[2].napprovers = 1;
	assert_int_equal(lb_settings_effective_stages(&s, LB_CLOUD_COMMERCIAL, out), 3);
	assert_string_equal(out[2].approvers[0], "ap1");
}

static void
test_settings_is_approver(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	assert_true(lb_settings_is_approver(&w.s, "ga1"));
	assert_true(lb_settings_is_approver(&w.s, "ap2"));
	assert_false(lb_settings_is_approver(&w.s, "ga9"));
	assert_false(lb_settings_is_approver(&w.s, "ga"));
	assert_false(lb_settings_is_approver(&w.s, NULL));
}

static void
test_settings_retention_bounds(void **state)
{
	struct world w;
	struct lb_settings prev;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	prev = w.s;
	w.s.retention_days = 89;
	assert_int_equal(check_all(&w.t, &prev, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_RETENTION);
	w.s.retention_days = 90;
	assert_int_equal(check_all(&w.t, &prev, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	w.s.retention_days = 3650;
	assert_int_equal(check_all(&w.t, &prev, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	w.s.retention_days = 3651;
	assert_int_equal(check_all(&w.t, &prev, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_RETENTION);
	w.s.retention_days = 0;
	assert_int_equal(check_all(&w.t, &prev, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_RETENTION);
}

static void
test_settings_ten_and_eleven_approvers(void **state)
{
	struct world w;
	char id[16];

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.napprovers = 0;
	for (int i = 0; i < LB_APPROVERS_MAX; i++) {
		snprintf(id, sizeof(id), "ap%d", i);
		add_approver(&w.s, id);
	}
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_LOCKBOX_APPROVER), 0);
	w.s.napprovers = LB_APPROVERS_MAX + 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_LOCKBOX_APPROVER),
	    LB_ERR_TOO_MANY_APPROVERS);
	/* Also refused while disabled. */
	w.s.enabled = false;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_LOCKBOX_APPROVER),
	    LB_ERR_TOO_MANY_APPROVERS);
}

static void
test_settings_duplicates_and_bad_values(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	add_approver(&w.s, "ga1");
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_VALUE);
	w.s.napprovers = 3;
	add_approver(&w.s, "bad id");
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_VALUE);
	w.s.napprovers = 3;
	SET(w.s.notification_emails[0], "lockbox@contoso.example");
	w.s.nemails = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	SET(w.s.notification_emails[1], "LockBox@Contoso.example");
	w.s.nemails = 2;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_VALUE);
	SET(w.s.notification_emails[1], "not-an-address");
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_VALUE);
	w.s.nemails = LB_NOTIFY_EMAILS_MAX + 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_TOO_MANY_ITEMS);
}

static void
test_settings_approver_role_required(void **state)
{
	struct world w;
	unsigned roles[3] = { LB_ROLE_GLOBAL_ADMIN, LB_ROLE_LOCKBOX_APPROVER, 0 };

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	roles[2] = LB_ROLE_SECURITY_ADMIN;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), LB_ERR_APPROVER_ROLE);
	roles[2] = LB_ROLE_COMPLIANCE_ADMIN;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), LB_ERR_APPROVER_ROLE);
	roles[2] = LB_ROLE_COMPLIANCE_ADMIN | LB_ROLE_SECURITY_ADMIN | LB_ROLE_READER;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), LB_ERR_APPROVER_ROLE);
	roles[2] = 0;                               /* no such user */
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), LB_ERR_APPROVER_ROLE);
	roles[2] = LB_ROLE_LOCKBOX_APPROVER;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), 0);
	roles[2] = LB_ROLE_GLOBAL_ADMIN | LB_ROLE_COMPLIANCE_ADMIN;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), 0);
	/* Checked even while disabled: the list must always be approvers. */
	w.s.enabled = false;
	roles[2] = LB_ROLE_SECURITY_ADMIN;
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, roles), LB_ERR_APPROVER_ROLE);
	/* No roles array at all: every approver is unknown. */
	assert_int_equal(lb_settings_check(&w.t, NULL, &w.s, NULL), LB_ERR_APPROVER_ROLE);
}

static void
test_settings_licence_required(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.t = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_LICENSE_REQUIRED);
	w.s.enabled = false;                        /* disabled: no licence needed */
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	w.s.enabled = true;
	SET(w.t.addons[0], "customer_lockbox");
	w.t.naddons = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	/* Licence is checked before the approver count. */
	w.t.naddons = 0;
	w.s.napprovers = 0;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_LICENSE_REQUIRED);
}

static void
test_settings_no_approvers_vs_last_approver(void **state)
{
	struct world w;
	struct lb_settings prev, next;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	/* Enabling with nobody: no_approvers. */
	lb_settings_init(&prev);
	next = prev;
	next.enabled = true;
	assert_int_equal(check_all(&w.t, &prev, &next, LB_ROLE_GLOBAL_ADMIN), LB_ERR_NO_APPROVERS);
	assert_int_equal(check_all(&w.t, NULL, &next, LB_ROLE_GLOBAL_ADMIN), LB_ERR_NO_APPROVERS);
	/* Enabled with approvers, PATCH removes the last one: last_approver. */
	prev = w.s;
	next = w.s;
	next.napprovers = 0;
	assert_int_equal(check_all(&w.t, &prev, &next, LB_ROLE_GLOBAL_ADMIN), LB_ERR_LAST_APPROVER);
	/* Removing all while disabling at once is allowed. */
	next.enabled = false;
	assert_int_equal(check_all(&w.t, &prev, &next, LB_ROLE_GLOBAL_ADMIN), 0);
	/* Disabled before, had approvers, enabling with none: no_approvers. */
	prev.enabled = false;
	next.enabled = true;
	assert_int_equal(check_all(&w.t, &prev, &next, LB_ROLE_GLOBAL_ADMIN), LB_ERR_NO_APPROVERS);
	/* Keeping one approver of three is fine. */
	prev.enabled = true;
	next.napprovers = 1;
	assert_int_equal(check_all(&w.t, &prev, &next, LB_ROLE_GLOBAL_ADMIN), 0);
}

static void
test_settings_disabled_empty_valid(void **state)
{
	struct world w;
	struct lb_settings s;

	(void)state;
	world_init(&w, LB_CLOUD_GCC_HIGH, false);
	lb_settings_init(&s);
	assert_int_equal(lb_settings_check(&w.t, NULL, &s, NULL), 0);
	/* Configured stages are checked even while disabled. */
	s.nstages = 1;
	s.stages[0].required = 1;
	assert_int_equal(lb_settings_check(&w.t, NULL, &s, NULL), LB_ERR_INVALID_STAGES);
}

static void
test_settings_stage_structure(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.nstages = 1;
	w.s.stages[0].required = 0;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	w.s.stages[0].required = -1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	w.s.stages[0].required = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	/* Named approver not designated. */
	SET(w.s.stages[0].approvers[0], "ga9");
	w.s.stages[0].napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	SET(w.s.stages[0].approvers[0], "ap1");
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	/* The same person twice in one stage. */
	SET(w.s.stages[0].approvers[1], "ap1");
	w.s.stages[0].napprovers = 2;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	/* Four stages. */
	w.s.stages[0].napprovers = 0;
	w.s.nstages = LB_STAGES_MAX + 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
}

static void
test_settings_stage_satisfiable(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);       /* ga1, ap1, ap2 */
	w.s.nstages = 1;
	w.s.stages[0].required = 3;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	w.s.stages[0].required = 4;                  /* only three people */
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	/* A stage naming one person cannot need two. */
	w.s.stages[0].required = 2;
	SET(w.s.stages[0].approvers[0], "ap1");
	w.s.stages[0].napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	/* Sum over stages: 2 + 2 > 3 distinct people. */
	w.s.stages[0].napprovers = 0;
	w.s.nstages = 2;
	w.s.stages[1].required = 2;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	w.s.stages[1].required = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	/* Two stages both naming only ap1: one person cannot fill both. */
	w.s.stages[0].required = 1;
	SET(w.s.stages[0].approvers[0], "ap1");
	w.s.stages[0].napprovers = 1;
	SET(w.s.stages[1].approvers[0], "ap1");
	w.s.stages[1].napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	/*
	 * Three stages: {ap1}, {ap1}, everyone.  Each stage alone is fine and
	 * 3 <= 3 people, yet stages 1 and 2 both need ap1.
	 */
	w.s.nstages = 3;
	w.s.stages[2].required = 1;
	w.s.stages[2].napprovers = 0;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	SET(w.s.stages[1].approvers[0], "ap2");
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
}

static void
test_settings_gcc_high_needs_two_people(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	w.s.napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	w.s.napprovers = 2;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	w.t.cloud = LB_CLOUD_DOD;
	w.s.napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
	w.t.cloud = LB_CLOUD_GCC;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
}

static void
test_settings_check_order(void **state)
{
	struct world w;
	struct lb_tenant e3;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	e3 = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);
	/* retention before everything */
	w.s.retention_days = 10;
	w.s.napprovers = LB_APPROVERS_MAX + 1;
	assert_int_equal(check_all(&e3, NULL, &w.s, 0), LB_ERR_INVALID_RETENTION);
	/* then the approver count */
	w.s.retention_days = 90;
	assert_int_equal(check_all(&e3, NULL, &w.s, 0), LB_ERR_TOO_MANY_APPROVERS);
	/* then duplicates, before roles */
	w.s.napprovers = 3;
	SET(w.s.approvers[2], "ga1");
	assert_int_equal(check_all(&e3, NULL, &w.s, 0), LB_ERR_INVALID_VALUE);
	/* then roles, before licence */
	SET(w.s.approvers[2], "ap2");
	assert_int_equal(check_all(&e3, NULL, &w.s, LB_ROLE_READER), LB_ERR_APPROVER_ROLE);
	/* then licence, before stages */
	w.s.nstages = 1;
	w.s.stages[0].required = 0;
	assert_int_equal(check_all(&e3, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_LICENSE_REQUIRED);
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), LB_ERR_INVALID_STAGES);
}

/* -------------------------------------------------------------- create */

static void
test_create_pending_with_lockbox(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_string_equal(r.id, "req_1");
	assert_string_equal(r.tenant, "contoso");
	assert_string_equal(r.case_id, "case_1");
	assert_string_equal(r.requester, "eng1");
	assert_string_equal(r.workload, "exchange");
	assert_int_equal(r.nresources, 1);
	assert_string_equal(r.resources[0], "mailbox/alice@contoso.example");
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_false(r.internal_required);
	assert_int_equal(r.duration_minutes, 720);
	assert_int_equal(r.created_ms, T0);
	assert_int_equal(r.pending_expires_ms, T0 + 12 * HOUR);
	assert_int_equal(r.access_starts_ms, 0);
	assert_int_equal(r.access_expires_ms, 0);
	assert_int_equal(r.ndecisions, 0);
	assert_int_equal(r.version, 1);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 1);
}

static void
test_create_internal_without_lockbox(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, false);
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_int_equal(r.status, LB_ST_PENDING_INTERNAL);
	assert_true(r.internal_required);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 0);
}

static void
test_create_internal_by_provider_setting(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.ps.require_internal_approval = true;
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_int_equal(r.status, LB_ST_PENDING_INTERNAL);
	assert_true(r.internal_required);
	/* NULL provider settings means "not required". */
	assert_int_equal(lb_request_create("req_2", &w.in, &w.eng, &w.t, &w.s, NULL,
	    &w.c, T0, &r), 0);
	assert_int_equal(r.status, LB_ST_PENDING);
}

static void
test_create_forbidden(void **state)
{
	struct world w;
	struct lb_request r;
	const struct lb_actor *nope[5];
	struct lb_actor tenant_eng;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	tenant_eng = mk_actor("eng1", "contoso", LB_ROLE_SUPPORT_ENGINEER);
	nope[0] = &w.mgr;
	nope[1] = &w.padmin;
	nope[2] = &w.ga1;
	nope[3] = &tenant_eng;                      /* right role, wrong realm */
	nope[4] = &w.gateway;
	for (size_t i = 0; i < 5; i++) {
		SET(w.c.assigned_to, nope[i]->id);
		assert_int_equal(lb_request_create("req_1", &w.in, nope[i], &w.t, &w.s,
		    &w.ps, &w.c, T0, &r), LB_ERR_FORBIDDEN);
	}
}

static void
test_create_case_checks(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	SET(w.c.tenant, "fabrikam");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_NOT_FOUND);
	SET(w.c.tenant, "contoso");
	SET(w.in.case_id, "case_2");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_NOT_FOUND);
	SET(w.in.case_id, "case_1");
	w.c.status = LB_CASE_CLOSED;
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_CASE_CLOSED);
	w.c.status = LB_CASE_OPEN;
	SET(w.c.assigned_to, "eng2");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_CASE_NOT_ASSIGNED);
	SET(w.c.assigned_to, "");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_CASE_NOT_ASSIGNED);
	/* closed beats not assigned */
	w.c.status = LB_CASE_CLOSED;
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_CASE_CLOSED);
}

static void
test_create_durations(void **state)
{
	static const struct {
		int minutes, rc, stored;
	} rows[] = {
		{ 0, 0, 720 }, { 59, LB_ERR_INVALID_DURATION, 0 }, { 60, 0, 60 },
		{ 240, 0, 240 }, { 720, 0, 720 }, { 721, LB_ERR_INVALID_DURATION, 0 },
		{ -60, LB_ERR_INVALID_DURATION, 0 }, { 1, LB_ERR_INVALID_DURATION, 0 },
	};
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		w.in.duration_minutes = rows[i].minutes;
		r.duration_minutes = -7;
		assert_int_equal(create_at(&w, T0, &r), rows[i].rc);
		assert_int_equal(r.duration_minutes, rows[i].rc == 0 ? rows[i].stored : -7);
	}
}

static void
test_create_resources(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.in.nresources = 0;
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_MISSING_FIELD);
	for (size_t i = 0; i < LB_RESOURCES_MAX; i++) {
		char p[32];
		snprintf(p, sizeof(p), "mailbox/user%zu", i);
		SET(w.in.resources[i], p);
	}
	w.in.nresources = LB_RESOURCES_MAX;
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_int_equal(r.nresources, LB_RESOURCES_MAX);
	assert_string_equal(r.resources[31], "mailbox/user31");
	w.in.nresources = LB_RESOURCES_MAX + 1;
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_TOO_MANY_ITEMS);
	w.in.nresources = 2;
	SET(w.in.resources[1], "mailbox/user0");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_VALUE);
	SET(w.in.resources[1], "mailbox/../admin");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_VALUE);
	SET(w.in.resources[1], "site/");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_VALUE);
	memset(w.in.resources[1], 'x', sizeof(w.in.resources[1]));   /* no NUL */
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_FIELD_TOO_LONG);
}

static void
test_create_workload_justification(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	SET(w.in.workload, "Exchange");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_VALUE);
	SET(w.in.workload, "");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_VALUE);
	SET(w.in.workload, "custom_crm");           /* provider-defined */
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_string_equal(r.workload, "custom_crm");
	SET(w.in.justification, "");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_MISSING_FIELD);
	SET(w.in.justification, " \t\n ");
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_MISSING_FIELD);
	memset(w.in.justification, 'j', sizeof(w.in.justification));
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_FIELD_TOO_LONG);
	memset(w.in.justification, 'j', LB_JUSTIFICATION_MAX);
	w.in.justification[LB_JUSTIFICATION_MAX] = '\0';
	assert_int_equal(create_at(&w, T0, &r), 0);
	assert_int_equal(strlen(r.justification), LB_JUSTIFICATION_MAX);
}

static void
test_create_bad_id_and_time(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	assert_int_equal(lb_request_create("", &w.in, &w.eng, &w.t, &w.s, &w.ps,
	    &w.c, T0, &r), LB_ERR_INVALID_VALUE);
	assert_int_equal(lb_request_create("req_0123456789012345678901234567890123456789",
	    &w.in, &w.eng, &w.t, &w.s, &w.ps, &w.c, T0, &r), LB_ERR_INVALID_VALUE);
	assert_int_equal(lb_request_create("req 1", &w.in, &w.eng, &w.t, &w.s, &w.ps,
	    &w.c, T0, &r), LB_ERR_INVALID_VALUE);
	assert_int_equal(create_at(&w, -1, &r), LB_ERR_INVALID_VALUE);
	assert_int_equal(create_at(&w, INT64_MAX, &r), LB_ERR_INVALID_VALUE);
}

static void
test_create_error_leaves_out_untouched(void **state)
{
	struct world w;
	struct lb_request r, before;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	memset(&r, 0x5a, sizeof(r));
	before = r;
	w.in.duration_minutes = 721;
	assert_int_equal(create_at(&w, T0, &r), LB_ERR_INVALID_DURATION);
	assert_memory_equal(&r, &before, sizeof(r));
}

/* ------------------------------------------------------ time and status */

static void
test_pending_expiry_exact_ms(void **state)
{
	struct world w;
	struct lb_request r;
	int op = LB_OP_NONE;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(lb_request_status_at(&r, T0), LB_ST_PENDING);
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR - 1), LB_ST_PENDING);
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR), LB_ST_EXPIRED);
	assert_int_equal(lb_request_status_at(&r, T0 + 100 * HOUR), LB_ST_EXPIRED);
	assert_int_equal(lb_request_tick(&r, T0 + 12 * HOUR - 1, &op), 0);
	assert_int_equal(op, LB_OP_NONE);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(lb_request_tick(&r, T0 + 12 * HOUR, &op), 1);
	assert_int_equal(op, LB_OP_EXPIRE);
	assert_int_equal(r.status, LB_ST_EXPIRED);
	assert_int_equal(r.version, 1);             /* tick changes the status only */
	/* Final: a second tick changes nothing. */
	op = LB_OP_NONE;
	assert_int_equal(lb_request_tick(&r, T0 + 200 * HOUR, &op), 0);
	assert_int_equal(op, LB_OP_NONE);
	assert_true(lb_status_final(r.status));
}

static void
test_pending_internal_expiry(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, false);
	r = new_request(&w);
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR - 1), LB_ST_PENDING_INTERNAL);
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR), LB_ST_EXPIRED);
	/* A partly approved request still expires 12 h after creation. */
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0 + 11 * HOUR, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR), LB_ST_EXPIRED);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0 + 12 * HOUR, &op),
	    LB_ERR_INVALID_STATE);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0 + 12 * HOUR - 1, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
}

static void
test_access_expiry_exact_ms(void **state)
{
	struct world w;
	struct lb_request r;
	int op = LB_OP_NONE;
	int64_t end;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = approved_request(&w);
	end = T0 + HOUR + 720 * MINUTE;
	assert_int_equal(r.access_starts_ms, T0 + HOUR);
	assert_int_equal(r.access_expires_ms, end);
	/* Approval after the pending window's start: access outlives it. */
	assert_int_equal(lb_request_status_at(&r, T0 + 12 * HOUR), LB_ST_APPROVED);
	assert_int_equal(lb_request_status_at(&r, end - 1), LB_ST_APPROVED);
	assert_int_equal(lb_request_status_at(&r, end), LB_ST_COMPLETED);
	assert_int_equal(lb_request_tick(&r, end - 1, &op), 0);
	assert_int_equal(lb_request_tick(&r, end, &op), 1);
	assert_int_equal(op, LB_OP_COMPLETE);
	assert_int_equal(r.status, LB_ST_COMPLETED);
	assert_int_equal(r.access_expires_ms, end);
	/* op may be NULL */
	r = approved_request(&w);
	assert_int_equal(lb_request_tick(&r, end, NULL), 1);
}

static void
test_status_names(void **state)
{
	static const char *const names[LB_ST_COUNT] = {
		"pending_internal", "pending", "approved", "denied", "expired",
		"revoked", "cancelled", "completed",
	};
	static const bool final[LB_ST_COUNT] = {
		false, false, false, true, true, true, true, true,
	};
	enum lb_status st = LB_ST_APPROVED;

	(void)state;
	for (int i = 0; i < LB_ST_COUNT; i++) {
		assert_string_equal(lb_status_name((enum lb_status)i), names[i]);
		assert_int_equal(lb_status_parse(names[i], &st), 0);
		assert_int_equal(st, i);
		assert_int_equal(lb_status_final((enum lb_status)i), final[i]);
	}
	st = LB_ST_APPROVED;
	assert_int_equal(lb_status_parse("Pending", &st), LB_ERR_INVALID_FIELD);
	assert_int_equal(lb_status_parse("", &st), LB_ERR_INVALID_FIELD);
	assert_int_equal(lb_status_parse(NULL, &st), LB_ERR_INVALID_FIELD);
	assert_int_equal(st, LB_ST_APPROVED);
	assert_string_equal(lb_status_name((enum lb_status)99), "unknown");
}

static void
test_op_and_decision_names(void **state)
{
	(void)state;
	assert_string_equal(lb_op_name(LB_OP_CREATE), "CreateRequest");
	assert_string_equal(lb_op_name(LB_OP_APPROVE_INTERNAL), "ApproveRequestInternal");
	assert_string_equal(lb_op_name(LB_OP_APPROVE_PARTIAL), "ApproveRequestPartial");
	assert_string_equal(lb_op_name(LB_OP_APPROVE), "ApproveRequest");
	assert_string_equal(lb_op_name(LB_OP_DENY), "DenyRequest");
	assert_string_equal(lb_op_name(LB_OP_REVOKE), "RevokeRequest");
	assert_string_equal(lb_op_name(LB_OP_CANCEL), "CancelRequest");
	assert_string_equal(lb_op_name(LB_OP_EXPIRE), "ExpireRequest");
	assert_string_equal(lb_op_name(LB_OP_COMPLETE), "CompleteRequest");
	assert_string_equal(lb_op_name(-1), "unknown");
	assert_string_equal(lb_op_name(LB_OP_COMPLETE + 1), "unknown");
	assert_string_equal(lb_decision_name(LB_DEC_APPROVE), "approve");
	assert_string_equal(lb_decision_name(LB_DEC_DENY), "deny");
	assert_string_equal(lb_decision_name(LB_DEC_REVOKE), "revoke");
	assert_string_equal(lb_decision_name(LB_DEC_CANCEL), "cancel");
	assert_string_equal(lb_decision_name((enum lb_decision_kind)9), "unknown");
}

/* ------------------------------------------------------------ decisions */

static void
test_approve_single_stage(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(lb_request_decide(&r, &w.ap1, LB_DEC_APPROVE, 0, "looks fine",
	    &w.t, &w.s, T0 + 30 * MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.status, LB_ST_APPROVED);
	assert_int_equal(r.access_starts_ms, T0 + 30 * MINUTE);
	assert_int_equal(r.access_expires_ms, T0 + 30 * MINUTE + 720 * MINUTE);
	assert_int_equal(r.ndecisions, 1);
	assert_string_equal(r.decisions[0].by, "ap1");
	assert_string_equal(r.decisions[0].realm, "contoso");
	assert_int_equal(r.decisions[0].stage, 1);
	assert_int_equal(r.decisions[0].kind, LB_DEC_APPROVE);
	assert_string_equal(r.decisions[0].comment, "looks fine");
	assert_int_equal(r.decisions[0].at_ms, T0 + 30 * MINUTE);
	assert_int_equal(r.decisions[0].duration_minutes, 720);
	assert_int_equal(r.version, 1);             /* the store bumps it */
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), -1);
	/* Approving again: not pending any more. */
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0 + HOUR, &op),
	    LB_ERR_INVALID_STATE);
}

static void
test_approve_shortens(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 240, T0, &op), 0);
	assert_int_equal(r.access_expires_ms, T0 + 240 * MINUTE);
	assert_int_equal(r.decisions[0].duration_minutes, 240);
	assert_int_equal(lb_request_granted_minutes(&r), 240);
	assert_int_equal(r.duration_minutes, 720);  /* the request is as asked */
}

static void
test_approve_duration_bounds(void **state)
{
	static const struct {
		int requested, given, rc;
	} rows[] = {
		{ 720, 59, LB_ERR_INVALID_DURATION },
		{ 720, 60, 0 },
		{ 720, 720, 0 },
		{ 720, 721, LB_ERR_INVALID_DURATION },
		{ 240, 241, LB_ERR_INVALID_DURATION },  /* never lengthen */
		{ 240, 240, 0 },
		{ 240, 0, 0 },                          /* keep */
		{ 60, 60, 0 },
		{ 60, 59, LB_ERR_INVALID_DURATION },
		{ 720, -1, LB_ERR_INVALID_DURATION },
	};
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		w.in.duration_minutes = rows[i].requested;
		r = new_request(&w);
		assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, rows[i].given, T0, &op),
		    rows[i].rc);
		if (rows[i].rc == 0) {
			int expect = rows[i].given ? rows[i].given : rows[i].requested;
			assert_int_equal(r.status, LB_ST_APPROVED);
			assert_int_equal(r.access_expires_ms, T0 + expect * MINUTE);
		} else {
			assert_int_equal(r.status, LB_ST_PENDING);
			assert_int_equal(r.ndecisions, 0);
		}
	}
}

static void
test_gcc_high_two_people(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	r = new_request(&w);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 1);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 120, T0 + MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(r.decisions[0].stage, 1);
	assert_int_equal(r.access_expires_ms, 0);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 2);
	assert_int_equal(lb_request_granted_minutes(&r), 120);
	/* The same person cannot complete stage 2. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0 + 2 * MINUTE, &op),
	    LB_ERR_ALREADY_APPROVED);
	/* A second approver cannot lengthen what the first shortened. */
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 180, T0 + 2 * MINUTE, &op),
	    LB_ERR_INVALID_DURATION);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0 + 2 * MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.status, LB_ST_APPROVED);
	assert_int_equal(r.decisions[1].stage, 2);
	assert_int_equal(r.decisions[1].duration_minutes, 120);
	assert_int_equal(r.access_starts_ms, T0 + 2 * MINUTE);
	assert_int_equal(r.access_expires_ms, T0 + 2 * MINUTE + 120 * MINUTE);
}

static void
test_dod_second_shortens_further(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_DOD, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 300, T0, &op), 0);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 90, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.access_expires_ms, T0 + 90 * MINUTE);
	assert_int_equal(lb_request_granted_minutes(&r), 90);
}

static void
test_stage_named_approvers(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.nstages = 2;
	w.s.stages[0].required = 1;
	SET(w.s.stages[0].approvers[0], "ap1");
	w.s.stages[0].napprovers = 1;
	w.s.stages[1].required = 1;
	SET(w.s.stages[1].approvers[0], "ap2");
	w.s.stages[1].napprovers = 1;
	assert_int_equal(check_all(&w.t, NULL, &w.s, LB_ROLE_GLOBAL_ADMIN), 0);
	r = new_request(&w);
	/* ap2 and ga1 are designated, but stage 1 names only ap1. */
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_DENY, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	/* Stage 2 names only ap2. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
}

static void
test_stage_requiring_two(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.nstages = 1;
	w.s.stages[0].required = 2;
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 1);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_ALREADY_APPROVED);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.decisions[1].stage, 1);
}

static void
test_not_designated_approver(void **state)
{
	struct world w;
	struct lb_request r, before;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	before = r;
	assert_int_equal(decide(&w, &r, &w.ga_nd, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.ga_nd, LB_DEC_DENY, 0, T0, &op), LB_ERR_NOT_APPROVER);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(op, -1);                   /* op untouched on error */
}

static void
test_forbidden_tenant_roles(void **state)
{
	struct world w;
	struct lb_request r;
	int op;
	struct lb_actor *who[3];

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	/* Even when named as approvers (settings_check would refuse that). */
	add_approver(&w.s, "rd1");
	add_approver(&w.s, "ca1");
	add_approver(&w.s, "sa1");
	who[0] = &w.reader;
	who[1] = &w.comp;
	who[2] = &w.sec;
	r = new_request(&w);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(decide(&w, &r, who[i], LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
		assert_int_equal(decide(&w, &r, who[i], LB_DEC_DENY, 0, T0, &op), LB_ERR_FORBIDDEN);
		assert_int_equal(decide(&w, &r, who[i], LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	}
	/* Another tenant's global admin with the same user id. */
	assert_int_equal(decide(&w, &r, &w.other, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	/* Provider roles other than support_manager. */
	assert_int_equal(decide(&w, &r, &w.padmin, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.incident, LB_DEC_DENY, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.gateway, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(r.ndecisions, 0);
}

static void
test_internal_approve_to_pending(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.ps.require_internal_approval = true;
	r = new_request(&w);
	assert_int_equal(r.status, LB_ST_PENDING_INTERNAL);
	/* A tenant approver cannot act before the internal stage. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 300, T0 + MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_INTERNAL);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(r.decisions[0].stage, 0);
	assert_string_equal(r.decisions[0].realm, "provider");
	assert_int_equal(r.decisions[0].duration_minutes, 300);
	assert_int_equal(r.access_expires_ms, 0);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 1);
	/* Now the support manager is out of place. */
	assert_int_equal(decide(&w, &r, &w.mgr2, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	/* The tenant may not lengthen what the manager granted. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 301, T0 + 2 * MINUTE, &op),
	    LB_ERR_INVALID_DURATION);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0 + 2 * MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.access_expires_ms, T0 + 2 * MINUTE + 300 * MINUTE);
	assert_int_equal(r.decisions[1].stage, 1);
}

static void
test_internal_approve_without_lockbox(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, false);
	w.t = mk_tenant("contoso", "M365_E3", LB_CLOUD_COMMERCIAL);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 0, T0 + 5 * MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.status, LB_ST_APPROVED);
	assert_int_equal(r.access_starts_ms, T0 + 5 * MINUTE);
	assert_int_equal(r.access_expires_ms, T0 + 5 * MINUTE + 720 * MINUTE);
	assert_int_equal(r.decisions[0].stage, 0);
	/* Manager durations follow the same bounds. */
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 59, T0, &op), LB_ERR_INVALID_DURATION);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 721, T0, &op), LB_ERR_INVALID_DURATION);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 60, T0, &op), 0);
	assert_int_equal(r.access_expires_ms, T0 + 60 * MINUTE);
}

static void
test_internal_self_approval(void **state)
{
	struct world w;
	struct lb_request r;
	struct lb_actor both;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, false);
	both = mk_actor("eng1", "provider",
	    LB_ROLE_SUPPORT_ENGINEER | LB_ROLE_SUPPORT_MANAGER);
	assert_int_equal(lb_request_create("req_1", &w.in, &both, &w.t, &w.s, &w.ps,
	    &w.c, T0, &r), 0);
	assert_int_equal(decide(&w, &r, &both, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_SELF_APPROVAL);
	assert_int_equal(decide(&w, &r, &both, LB_DEC_DENY, 0, T0, &op), LB_ERR_SELF_APPROVAL);
	assert_int_equal(r.status, LB_ST_PENDING_INTERNAL);
	/* The requester may still cancel their own request. */
	assert_int_equal(decide(&w, &r, &both, LB_DEC_CANCEL, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_CANCEL);
}

static void
test_internal_deny(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, false);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_DENY, 0, T0 + MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_DENY);
	assert_int_equal(r.status, LB_ST_DENIED);
	assert_int_equal(r.decisions[0].kind, LB_DEC_DENY);
	assert_int_equal(r.decisions[0].stage, 0);
	assert_int_equal(r.decisions[0].duration_minutes, 0);
	assert_int_equal(r.access_expires_ms, 0);
	assert_int_equal(decide(&w, &r, &w.mgr2, LB_DEC_APPROVE, 0, T0 + MINUTE, &op),
	    LB_ERR_INVALID_STATE);
}

static void
test_deny_at_pending(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(lb_request_decide(&r, &w.ap2, LB_DEC_DENY, 0, "no reason given",
	    &w.t, &w.s, T0 + HOUR, &op), 0);
	assert_int_equal(op, LB_OP_DENY);
	assert_int_equal(r.status, LB_ST_DENIED);
	assert_int_equal(r.decisions[0].stage, 1);
	assert_string_equal(r.decisions[0].comment, "no reason given");
	assert_int_equal(lb_request_status_at(&r, T0 + 100 * HOUR), LB_ST_DENIED);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), -1);
}

static void
test_deny_after_own_approval(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	/* Having approved stage 1 does not stop a denial at stage 2. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0 + MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_DENY);
	assert_int_equal(r.status, LB_ST_DENIED);
	assert_int_equal(r.decisions[1].stage, 2);
	assert_int_equal(r.ndecisions, 2);
}

static void
test_revoke_at_once(void **state)
{
	struct world w;
	struct lb_request r;
	int op;
	int64_t planned;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = approved_request(&w);
	planned = r.access_expires_ms;
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op), 0);
	assert_int_equal(op, LB_OP_REVOKE);
	assert_int_equal(r.status, LB_ST_REVOKED);
	assert_int_equal(r.access_expires_ms, planned);   /* the record keeps the plan */
	assert_int_equal(r.decisions[1].kind, LB_DEC_REVOKE);
	assert_int_equal(r.decisions[1].stage, -1);
	/* Revoked is revoked at once, and stays so past the planned end. */
	assert_int_equal(lb_request_status_at(&r, T0 + 2 * HOUR), LB_ST_REVOKED);
	assert_int_equal(lb_request_status_at(&r, planned + 1), LB_ST_REVOKED);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_INVALID_STATE);
}

static void
test_revoke_rules(void **state)
{
	struct world w;
	struct lb_request r, p;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = approved_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga_nd, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_NOT_APPROVER);
	assert_int_equal(decide(&w, &r, &w.comp, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.padmin, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.other, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_REVOKE, 60, T0 + 2 * HOUR, &op),
	    LB_ERR_INVALID_DURATION);
	/* A pending request cannot be revoked, and an approved one not denied. */
	p = new_request(&w);
	assert_int_equal(decide(&w, &p, &w.ga1, LB_DEC_REVOKE, 0, T0, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_INVALID_STATE);
	/* After the access window it is completed: too late to revoke. */
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_REVOKE, 0, r.access_expires_ms, &op),
	    LB_ERR_INVALID_STATE);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_REVOKE, 0, r.access_expires_ms - 1, &op), 0);
}

static void
test_cancel_by_requester(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_CANCEL, 0, T0 + MINUTE, &op), 0);
	assert_int_equal(op, LB_OP_CANCEL);
	assert_int_equal(r.status, LB_ST_CANCELLED);
	assert_int_equal(r.decisions[0].kind, LB_DEC_CANCEL);
	assert_int_equal(r.decisions[0].stage, 1);
	assert_string_equal(r.decisions[0].by, "eng1");
	/* pending_internal too */
	w.ps.require_internal_approval = true;
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_CANCEL, 0, T0, &op), 0);
	assert_int_equal(r.status, LB_ST_CANCELLED);
	assert_int_equal(r.decisions[0].stage, 0);
	/* Not once approved. */
	w.ps.require_internal_approval = false;
	r = approved_request(&w);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_CANCEL, 0, T0 + 2 * HOUR, &op),
	    LB_ERR_INVALID_STATE);
}

static void
test_cancel_by_others_forbidden(void **state)
{
	struct world w;
	struct lb_request r;
	struct lb_actor tenant_twin;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	tenant_twin = mk_actor("eng1", "contoso", LB_ROLE_GLOBAL_ADMIN);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.eng2, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.padmin, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(decide(&w, &r, &tenant_twin, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	assert_int_equal(r.status, LB_ST_PENDING);
}

/* Every kind by an actor fit for it, on a request in final status `st`. */
static void
expect_all_invalid_state(struct world *w, const struct lb_request *r, int64_t now)
{
	struct lb_request c = *r;
	int op;

	assert_int_equal(decide(w, &c, &w->ga1, LB_DEC_APPROVE, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(w, &c, &w->ap1, LB_DEC_DENY, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(w, &c, &w->mgr, LB_DEC_APPROVE, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(w, &c, &w->mgr, LB_DEC_DENY, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(w, &c, &w->ap2, LB_DEC_REVOKE, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_int_equal(decide(w, &c, &w->eng, LB_DEC_CANCEL, 0, now, &op), LB_ERR_INVALID_STATE);
	assert_memory_equal(&c, r, sizeof(c));
}

static void
test_final_states_invalid_state(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	/* denied */
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0, &op), 0);
	expect_all_invalid_state(&w, &r, T0 + MINUTE);
	/* cancelled */
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_CANCEL, 0, T0, &op), 0);
	expect_all_invalid_state(&w, &r, T0 + MINUTE);
	/* revoked */
	r = approved_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_REVOKE, 0, T0 + 2 * HOUR, &op), 0);
	expect_all_invalid_state(&w, &r, T0 + 3 * HOUR);
	/* expired by time, not yet stored */
	r = new_request(&w);
	expect_all_invalid_state(&w, &r, T0 + 12 * HOUR);
	/* expired and stored */
	assert_int_equal(lb_request_tick(&r, T0 + 12 * HOUR, &op), 1);
	expect_all_invalid_state(&w, &r, T0 + 12 * HOUR);
	/* completed by time */
	r = approved_request(&w);
	expect_all_invalid_state(&w, &r, r.access_expires_ms);
	/* completed and stored */
	assert_int_equal(lb_request_tick(&r, r.access_expires_ms, &op), 1);
	expect_all_invalid_state(&w, &r, r.access_expires_ms + HOUR);
}

static void
test_error_precedence(void **state)
{
	struct world w;
	struct lb_request r, q;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0, &op), 0);
	/* A reader on a final request: forbidden, not invalid_state. */
	assert_int_equal(decide(&w, &r, &w.reader, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	/* Not the requester cancelling a final request: forbidden. */
	assert_int_equal(decide(&w, &r, &w.eng2, LB_DEC_CANCEL, 0, T0, &op), LB_ERR_FORBIDDEN);
	/* A non-designated global admin on a final request: invalid_state. */
	assert_int_equal(decide(&w, &r, &w.ga_nd, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_INVALID_STATE);
	/* A bad duration on a final request: invalid_state. */
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 30, T0, &op), LB_ERR_INVALID_STATE);
	/* Time first: expired beats already_approved and a bad duration. */
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	q = new_request(&w);
	assert_int_equal(decide(&w, &q, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(decide(&w, &q, &w.ga1, LB_DEC_APPROVE, 30, T0 + 12 * HOUR, &op),
	    LB_ERR_INVALID_STATE);
	/* Pending: already_approved before invalid_duration. */
	assert_int_equal(decide(&w, &q, &w.ga1, LB_DEC_APPROVE, 30, T0, &op), LB_ERR_ALREADY_APPROVED);
	/* not_designated before already_approved does not arise; not_designated
	 * before invalid_duration does. */
	assert_int_equal(decide(&w, &q, &w.ga_nd, LB_DEC_APPROVE, 30, T0, &op), LB_ERR_NOT_APPROVER);
	/* A support manager at a tenant stage: forbidden, not not_designated. */
	assert_int_equal(decide(&w, &q, &w.mgr, LB_DEC_APPROVE, 0, T0, &op), LB_ERR_FORBIDDEN);
	/* Unknown kind. */
	assert_int_equal(decide(&w, &q, &w.ap1, (enum lb_decision_kind)17, 0, T0, &op),
	    LB_ERR_INVALID_VALUE);
	assert_int_equal(q.ndecisions, 1);
}

static void
test_failure_leaves_request_unchanged(void **state)
{
	struct world w;
	struct lb_request r, before;
	char long_comment[LB_COMMENT_MAX + 2];
	int op = 42;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	/* Past expiry: the tick happens on a copy; r is untouched. */
	before = r;
	assert_int_equal(lb_request_decide(&r, &w.ga1, LB_DEC_APPROVE, 0, NULL, &w.t, &w.s,
	    T0 + 13 * HOUR, &op), LB_ERR_INVALID_STATE);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(op, 42);
	/* A too-long comment fails after everything else passed. */
	memset(long_comment, 'c', sizeof(long_comment));
	long_comment[LB_COMMENT_MAX + 1] = '\0';
	assert_int_equal(lb_request_decide(&r, &w.ga1, LB_DEC_APPROVE, 0, long_comment,
	    &w.t, &w.s, T0, &op), LB_ERR_FIELD_TOO_LONG);
	assert_memory_equal(&r, &before, sizeof(r));
	/* Exactly LB_COMMENT_MAX is fine; NULL comment is empty. */
	long_comment[LB_COMMENT_MAX] = '\0';
	assert_int_equal(lb_request_decide(&r, &w.ga1, LB_DEC_APPROVE, 0, long_comment,
	    &w.t, &w.s, T0, &op), 0);
	assert_int_equal(strlen(r.decisions[0].comment), LB_COMMENT_MAX);
	assert_int_equal(lb_request_decide(&r, &w.ga1, LB_DEC_REVOKE, 0, NULL,
	    &w.t, &w.s, T0 + 1, &op), 0);
	assert_string_equal(r.decisions[1].comment, "");
}

static void
test_decisions_full(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	r.ndecisions = LB_DECISIONS_MAX;
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0, &op), LB_ERR_INVALID_STATE);
	r.ndecisions = LB_DECISIONS_MAX - 1;
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 0, T0, &op), 0);
	assert_int_equal(r.ndecisions, LB_DECISIONS_MAX);
}

static void
test_duration_on_other_kinds(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_DENY, 120, T0, &op), LB_ERR_INVALID_DURATION);
	assert_int_equal(decide(&w, &r, &w.eng, LB_DEC_CANCEL, 120, T0, &op), LB_ERR_INVALID_DURATION);
	assert_int_equal(r.status, LB_ST_PENDING);
}

static void
test_current_stage(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.nstages = 3;
	w.s.stages[0].required = 1;
	w.s.stages[1].required = 1;
	w.s.stages[2].required = 1;
	w.ps.require_internal_approval = true;
	r = new_request(&w);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 0);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 1);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 2);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), 3);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.decisions[3].stage, 3);
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), -1);
	assert_int_equal(lb_request_current_stage(NULL, &w.s, w.t.cloud), -1);
}

static void
test_settings_changed_under_pending(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.s.nstages = 1;
	w.s.stages[0].required = 2;
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	/* The tenant lowers the requirement: the stage is met already. */
	w.s.stages[0].required = 1;
	assert_int_equal(lb_request_current_stage(&r, &w.s, w.t.cloud), -1);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0 + 1, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.status, LB_ST_APPROVED);
	/* The tenant raises it: the pending request waits for more. */
	w.s.stages[0].required = 2;
	r = new_request(&w);
	w.s.stages[0].required = 3;
	assert_int_equal(decide(&w, &r, &w.ga1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(op, LB_OP_APPROVE);
}

static void
test_granted_minutes(void **state)
{
	struct world w;
	struct lb_request r;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	w.in.duration_minutes = 600;
	r = new_request(&w);
	assert_int_equal(lb_request_granted_minutes(&r), 600);
	r.decisions[0].kind = LB_DEC_APPROVE;
	r.decisions[0].duration_minutes = 500;
	r.decisions[1].kind = LB_DEC_DENY;
	r.decisions[1].duration_minutes = 100;      /* not an approval */
	r.decisions[2].kind = LB_DEC_APPROVE;
	r.decisions[2].duration_minutes = 0;        /* kept */
	r.ndecisions = 3;
	assert_int_equal(lb_request_granted_minutes(&r), 500);
	r.decisions[2].duration_minutes = 90;
	assert_int_equal(lb_request_granted_minutes(&r), 90);
	r.ndecisions = 2;
	assert_int_equal(lb_request_granted_minutes(&r), 500);
}

static void
test_visibility_matrix(void **state)
{
	struct world w;
	struct lb_request r;
	struct lb_actor fab_reader, no_role;

	(void)state;
	world_init(&w, LB_CLOUD_COMMERCIAL, true);
	r = new_request(&w);
	fab_reader = mk_actor("rd1", "fabrikam", LB_ROLE_READER);
	no_role = mk_actor("x", "contoso", 0);
	assert_true(lb_request_visible(&r, &w.padmin));
	assert_true(lb_request_visible(&r, &w.mgr));
	assert_true(lb_request_visible(&r, &w.incident));
	assert_true(lb_request_visible(&r, &w.eng));
	assert_false(lb_request_visible(&r, &w.eng2));
	assert_false(lb_request_visible(&r, &w.gateway));
	assert_true(lb_request_visible(&r, &w.ga1));
	assert_true(lb_request_visible(&r, &w.ap1));
	assert_true(lb_request_visible(&r, &w.ga_nd));
	assert_true(lb_request_visible(&r, &w.reader));
	assert_true(lb_request_visible(&r, &w.comp));
	assert_true(lb_request_visible(&r, &w.sec));
	assert_false(lb_request_visible(&r, &w.other));
	assert_false(lb_request_visible(&r, &fab_reader));
	assert_false(lb_request_visible(&r, &no_role));
	assert_false(lb_request_visible(&r, NULL));
	assert_false(lb_request_visible(NULL, &w.padmin));
}

static void
test_full_lifecycle_spec_table(void **state)
{
	struct world w;
	struct lb_request r;
	int op;

	(void)state;
	/* (new) -> pending_internal -> pending -> pending -> approved -> completed */
	world_init(&w, LB_CLOUD_GCC_HIGH, true);
	w.ps.require_internal_approval = true;
	r = new_request(&w);
	assert_int_equal(r.status, LB_ST_PENDING_INTERNAL);
	assert_int_equal(decide(&w, &r, &w.mgr, LB_DEC_APPROVE, 0, T0 + HOUR, &op), 0);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(op, LB_OP_APPROVE_INTERNAL);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0 + 2 * HOUR, &op), 0);
	assert_int_equal(r.status, LB_ST_PENDING);
	assert_int_equal(op, LB_OP_APPROVE_PARTIAL);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_APPROVE, 180, T0 + 3 * HOUR, &op), 0);
	assert_int_equal(r.status, LB_ST_APPROVED);
	assert_int_equal(op, LB_OP_APPROVE);
	assert_int_equal(r.ndecisions, 3);
	assert_int_equal(r.access_expires_ms, T0 + 6 * HOUR);
	assert_int_equal(lb_request_tick(&r, T0 + 6 * HOUR, &op), 1);
	assert_int_equal(r.status, LB_ST_COMPLETED);
	assert_int_equal(op, LB_OP_COMPLETE);
	/* pending -> denied at stage 2 by another approver */
	w.ps.require_internal_approval = false;
	r = new_request(&w);
	assert_int_equal(decide(&w, &r, &w.ap1, LB_DEC_APPROVE, 0, T0, &op), 0);
	assert_int_equal(decide(&w, &r, &w.ap2, LB_DEC_DENY, 0, T0, &op), 0);
	assert_int_equal(r.status, LB_ST_DENIED);
	assert_int_equal(r.decisions[1].stage, 2);
}

/* ------------------------------------------------------------------ time */

static void
test_time_format_known(void **state)
{
	static const struct {
		int64_t ms;
		const char *text;
	} rows[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.001Z" },
		{ 94694399000LL, "1972-12-31T23:59:59.000Z" },
		{ 951868800000LL, "2000-03-01T00:00:00.000Z" },
		{ 1709251199999LL, "2024-02-29T23:59:59.999Z" },
		{ 1767225600000LL, "2026-01-01T00:00:00.000Z" },
		{ 1795329110123LL, "2026-11-22T06:31:50.123Z" },
		{ 253402300799999LL, "9999-12-31T23:59:59.999Z" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(lb_time_format(rows[i].ms, buf, sizeof(buf)), 0);
		assert_string_equal(buf, rows[i].text);
	}
}

static void
test_time_format_errors(void **state)
{
	char buf[32];

	(void)state;
	memcpy(buf, "unchanged", 10);
	assert_int_equal(lb_time_format(-1, buf, sizeof(buf)), LB_ERR_INVALID_VALUE);
	assert_int_equal(lb_time_format(253402300800000LL, buf, sizeof(buf)), LB_ERR_INVALID_VALUE);
	assert_int_equal(lb_time_format(0, buf, 24), LB_ERR_FIELD_TOO_LONG);
	assert_string_equal(buf, "unchanged");
	assert_int_equal(lb_time_format(0, buf, 25), 0);
	assert_int_equal(strlen(buf), 24);
}

static void
test_time_round_trip(void **state)
{
	char buf[32];
	int64_t back;
	int64_t ms;

	(void)state;
	/* Walk the whole range with an odd step: every day boundary shape. */
	for (ms = 0; ms <= 253402300799999LL; ms += 86400000LL * 97 + 3600001LL * 7 + 13) {
		assert_int_equal(lb_time_format(ms, buf, sizeof(buf)), 0);
		assert_int_equal(lb_time_parse(buf, &back), 0);
		if (back != ms)
			fail_msg("round trip of %lld gave %lld (%s)", (long long)ms,
			    (long long)back, buf);
	}
	/* Around leap days and year ends. */
	for (ms = 951782400000LL - 2; ms < 951782400000LL + 86400000LL * 2; ms += 3600000LL) {
		assert_int_equal(lb_time_format(ms, buf, sizeof(buf)), 0);
		assert_int_equal(lb_time_parse(buf, &back), 0);
		assert_int_equal(back, ms);
	}
}

static void
test_time_parse_forms(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} rows[] = {
		{ "2026-11-22T06:31:50Z", 1795329110000LL },
		{ "2026-11-22T06:31:50.123Z", 1795329110123LL },
		{ "2026-11-22T06:31:50.1Z", 1795329110100LL },
		{ "2026-11-22T06:31:50.12Z", 1795329110120LL },
		{ "2026-11-22T06:31:50.123999999Z", 1795329110123LL },   /* truncated */
		{ "2026-11-22T06:31:50.999999Z", 1795329110999LL },
		{ "2026-11-22t06:31:50z", 1795329110000LL },
		{ "2026-11-22T07:31:50+01:00", 1795329110000LL },
		{ "2026-11-22T01:01:50-05:30", 1795329110000LL },
		{ "2026-11-22T06:31:50.123+00:00", 1795329110123LL },
		{ "2026-11-22T06:31:50-00:00", 1795329110000LL },
		{ "2024-02-29T23:59:59.999Z", 1709251199999LL },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T01:00:00+01:00", 0 },
		{ "2000-03-01T00:00:00Z", 951868800000LL },
	};
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ms = -5;
		if (lb_time_parse(rows[i].text, &ms) != 0)
			fail_msg("parse(\"%s\") failed", rows[i].text);
		assert_int_equal(ms, rows[i].ms);
	}
}

static void
test_time_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "2026", "2026-11-22", "2026-11-22T06:31:50",      /* no zone */
		"2026-11-22 06:31:50Z", "2026-11-22T06:31Z", "26-11-22T06:31:50Z",
		"2026-1-22T06:31:50Z", "2026-11-22T6:31:50Z",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-11-00T00:00:00Z", "2026-11-31T00:00:00Z",
		"2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",       /* not leap */
		"2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z",
		"2026-11-22T06:60:00Z", "2026-11-22T06:31:60Z",       /* leap second */
		"2026-11-22T06:31:50.Z", "2026-11-22T06:31:50.1234567890Z",
		"2026-11-22T06:31:50,123Z", "2026-11-22T06:31:50+0100",
		"2026-11-22T06:31:50+01", "2026-11-22T06:31:50+24:00",
		"2026-11-22T06:31:50+01:60", "2026-11-22T06:31:50Zjunk",
		"2026-11-22T06:31:50Z ", " 2026-11-22T06:31:50Z",
		"2026-11-22T06:31:50UTC", "+2026-11-22T06:31:50Z",
		"1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00+00:01",
		"2026-11-22T06:31:5aZ", "2026-11-22T06:31:50.12a3Z",
	};
	int64_t ms = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (lb_time_parse(bad[i], &ms) != LB_ERR_INVALID_VALUE)
			fail_msg("parse(\"%s\") should fail", bad[i]);
		assert_int_equal(ms, 77);
	}
	assert_int_equal(lb_time_parse(NULL, &ms), LB_ERR_INVALID_VALUE);
	/* Leap years that are: 2000, 2024; 2400 too. */
	assert_int_equal(lb_time_parse("2000-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(lb_time_parse("2400-02-29T00:00:00Z", &ms), 0);
}

static void
test_duration_parse_good(void **state)
{
	static const struct {
		const char *text;
		int minutes;
	} rows[] = {
		{ "90", 90 }, { "90m", 90 }, { "4h", 240 }, { "1h30m", 90 },
		{ "2h0m", 120 }, { "0h45m", 45 }, { "12h", 720 }, { "1", 1 },
		{ "060", 60 }, { "1000000", 1000000 }, { "16666h40m", 1000000 },
		{ "1h90m", 150 },
	};
	int m;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		m = -1;
		if (lb_duration_parse(rows[i].text, &m) != 0)
			fail_msg("duration \"%s\" failed", rows[i].text);
		assert_int_equal(m, rows[i].minutes);
	}
}

static void
test_duration_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "0", "0m", "0h", "0h0m", "-5", "-1h", "+5", " 5", "5 ", "h", "m",
		"hm", "1h30", "30m1h", "1h1h", "1m30m", "1.5h", "4H", "90M", "1d",
		"1000001", "16666h41m", "99999999999999999999", "2147483648",
		"1h-5m", "1h 5m", "5mm", "h30m", "0x10", "1e3",
	};
	int m = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (lb_duration_parse(bad[i], &m) != LB_ERR_INVALID_VALUE)
			fail_msg("duration \"%s\" should fail", bad[i]);
		assert_int_equal(m, 7);
	}
	assert_int_equal(lb_duration_parse(NULL, &m), LB_ERR_INVALID_VALUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_tenant_id_valid),
		cmocka_unit_test(test_email_valid),
		cmocka_unit_test(test_workload_valid),
		cmocka_unit_test(test_resource_valid),
		cmocka_unit_test(test_resource_covers_table),
		cmocka_unit_test(test_role_parse_and_name),
		cmocka_unit_test(test_roles_valid_for_realm),
		cmocka_unit_test(test_actor_is_provider),
		cmocka_unit_test(test_cloud_parse_and_name),
		cmocka_unit_test(test_licence_each_plan),
		cmocka_unit_test(test_licence_e3_addon),
		cmocka_unit_test(test_tenant_validate),
		cmocka_unit_test(test_settings_init),
		cmocka_unit_test(test_effective_stages_defaults),
		cmocka_unit_test(test_effective_stages_configured),
		cmocka_unit_test(test_settings_is_approver),
		cmocka_unit_test(test_settings_retention_bounds),
		cmocka_unit_test(test_settings_ten_and_eleven_approvers),
		cmocka_unit_test(test_settings_duplicates_and_bad_values),
		cmocka_unit_test(test_settings_approver_role_required),
		cmocka_unit_test(test_settings_licence_required),
		cmocka_unit_test(test_settings_no_approvers_vs_last_approver),
		cmocka_unit_test(test_settings_disabled_empty_valid),
		cmocka_unit_test(test_settings_stage_structure),
		cmocka_unit_test(test_settings_stage_satisfiable),
		cmocka_unit_test(test_settings_gcc_high_needs_two_people),
		cmocka_unit_test(test_settings_check_order),
		cmocka_unit_test(test_create_pending_with_lockbox),
		cmocka_unit_test(test_create_internal_without_lockbox),
		cmocka_unit_test(test_create_internal_by_provider_setting),
		cmocka_unit_test(test_create_forbidden),
		cmocka_unit_test(test_create_case_checks),
		cmocka_unit_test(test_create_durations),
		cmocka_unit_test(test_create_resources),
		cmocka_unit_test(test_create_workload_justification),
		cmocka_unit_test(test_create_bad_id_and_time),
		cmocka_unit_test(test_create_error_leaves_out_untouched),
		cmocka_unit_test(test_pending_expiry_exact_ms),
		cmocka_unit_test(test_pending_internal_expiry),
		cmocka_unit_test(test_access_expiry_exact_ms),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_op_and_decision_names),
		cmocka_unit_test(test_approve_single_stage),
		cmocka_unit_test(test_approve_shortens),
		cmocka_unit_test(test_approve_duration_bounds),
		cmocka_unit_test(test_gcc_high_two_people),
		cmocka_unit_test(test_dod_second_shortens_further),
		cmocka_unit_test(test_stage_named_approvers),
		cmocka_unit_test(test_stage_requiring_two),
		cmocka_unit_test(test_not_designated_approver),
		cmocka_unit_test(test_forbidden_tenant_roles),
		cmocka_unit_test(test_internal_approve_to_pending),
		cmocka_unit_test(test_internal_approve_without_lockbox),
		cmocka_unit_test(test_internal_self_approval),
		cmocka_unit_test(test_internal_deny),
		cmocka_unit_test(test_deny_at_pending),
		cmocka_unit_test(test_deny_after_own_approval),
		cmocka_unit_test(test_revoke_at_once),
		cmocka_unit_test(test_revoke_rules),
		cmocka_unit_test(test_cancel_by_requester),
		cmocka_unit_test(test_cancel_by_others_forbidden),
		cmocka_unit_test(test_final_states_invalid_state),
		cmocka_unit_test(test_error_precedence),
		cmocka_unit_test(test_failure_leaves_request_unchanged),
		cmocka_unit_test(test_decisions_full),
		cmocka_unit_test(test_duration_on_other_kinds),
		cmocka_unit_test(test_current_stage),
		cmocka_unit_test(test_settings_changed_under_pending),
		cmocka_unit_test(test_granted_minutes),
		cmocka_unit_test(test_visibility_matrix),
		cmocka_unit_test(test_full_lifecycle_spec_table),
		cmocka_unit_test(test_time_format_known),
		cmocka_unit_test(test_time_format_errors),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_time_parse_forms),
		cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_duration_parse_good),
		cmocka_unit_test(test_duration_parse_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
