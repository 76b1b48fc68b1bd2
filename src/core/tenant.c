/*
 * Tenants: the syntax of a tenant record, its cloud, and the licence rule
 * of SPEC section 2 that decides whether Lockbox may be enabled at all.
 *
 * The licence list is written out here once.  It is compared exactly
 * (plans are identifiers, not prose), so "m365_e5" is not a licence; the
 * API layer refuses such a plan at tenant creation rather than guessing.
 */
#include <string.h>

#include "core/core.h"

static const char *const cloud_names[] = {
	[LB_CLOUD_COMMERCIAL] = "commercial",
	[LB_CLOUD_GCC] = "gcc",
	[LB_CLOUD_GCC_HIGH] = "gcc_high",
	[LB_CLOUD_DOD] = "dod",
};

#define NCLOUDS (sizeof(cloud_names) / sizeof(cloud_names[0]))

/* Plans that include Customer Lockbox (SPEC 2 "Licence"). */
static const char *const licensed_plans[] = {
	"M365_E5", "M365_E5_COMPLIANCE", "M365_E5_IPG", "O365_E5", "M365_A5",
	"M365_G5",
};

#define LOCKBOX_ADDON "customer_lockbox"

/* Unknown cloud names answer invalid_field: it is a bad enum value. */
int
lb_cloud_parse(const char *s, enum lb_cloud *out)
{
	if (s == NULL || out == NULL)
		return LB_ERR_INVALID_FIELD;
	for (size_t i = 0; i < NCLOUDS; i++) {
		if (strcmp(cloud_names[i], s) == 0) {
			*out = (enum lb_cloud)i;
			return 0;
		}
	}
	return LB_ERR_INVALID_FIELD;
}

/* "commercial" etc.; "unknown" for a value outside the enum, never NULL. */
const char *
lb_cloud_name(enum lb_cloud c)
{
	if ((unsigned)c >= NCLOUDS)
		return "unknown";
	return cloud_names[c];
}

/*
 * A plan or addon name: 1..LB_PLAN_MAX of [A-Za-z0-9_-].  Returns 0,
 * LB_ERR_MISSING_FIELD when empty, LB_ERR_FIELD_TOO_LONG when the array is
 * not terminated within its size, LB_ERR_INVALID_VALUE otherwise.
 */
static int
check_plan_word(const char s[LB_PLAN_MAX + 1])
{
	size_t n = strnlen(s, LB_PLAN_MAX + 1);

	if (n == 0)
		return LB_ERR_MISSING_FIELD;
	if (n > LB_PLAN_MAX)
		return LB_ERR_FIELD_TOO_LONG;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return LB_ERR_INVALID_VALUE;
	}
	return 0;
}

/*
 * Checks the syntax of a tenant record: a valid tenant id, a name of
 * 1..LB_NAME_MAX bytes without control characters, a plan word, at most
 * LB_ADDONS_MAX distinct addon words and a known cloud.  Does not check
 * licensing (a tenant without Lockbox is a normal tenant).
 */
int
lb_tenant_validate(const struct lb_tenant *t)
{
	size_t n;
	int rc;

	if (t == NULL)
		return LB_ERR_INTERNAL;
	if (strnlen(t->id, sizeof(t->id)) == sizeof(t->id))
		return LB_ERR_FIELD_TOO_LONG;
	if (t->id[0] == '\0')
		return LB_ERR_MISSING_FIELD;
	if (!lb_tenant_id_valid(t->id))
		return LB_ERR_INVALID_VALUE;

	n = strnlen(t->name, sizeof(t->name));
	if (n == sizeof(t->name))
		return LB_ERR_FIELD_TOO_LONG;
	if (n == 0)
		return LB_ERR_MISSING_FIELD;
	for (size_t i = 0; i < n; i++) {
		unsigned char u = (unsigned char)t->name[i];
		if (u < 0x20 || u == 0x7f)
			return LB_ERR_INVALID_VALUE;
	}

	if ((rc = check_plan_word(t->plan)) != 0)
		return rc;
	if (t->naddons > LB_ADDONS_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	for (size_t i = 0; i < t->naddons; i++) {
		if ((rc = check_plan_word(t->addons[i])) != 0)
			return rc == LB_ERR_MISSING_FIELD ? LB_ERR_INVALID_VALUE : rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->addons[i], t->addons[j]) == 0)
				return LB_ERR_INVALID_VALUE;
	}
	if ((unsigned)t->cloud >= NCLOUDS)
		return LB_ERR_INVALID_VALUE;
	return 0;
}

/* SPEC 2 "Licence": an E5-family plan, or the customer_lockbox addon. */
bool
lb_tenant_licensed(const struct lb_tenant *t)
{
	size_t naddons;

	if (t == NULL)
		return false;
	for (size_t i = 0; i < sizeof(licensed_plans) / sizeof(licensed_plans[0]); i++)
		if (strncmp(t->plan, licensed_plans[i], sizeof(t->plan)) == 0)
			return true;
	naddons = t->naddons < LB_ADDONS_MAX ? t->naddons : LB_ADDONS_MAX;
	for (size_t i = 0; i < naddons; i++)
		if (strncmp(t->addons[i], LOCKBOX_ADDON, sizeof(t->addons[i])) == 0)
			return true;
	return false;
}
