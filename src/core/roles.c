/*
 * Roles and realms (SPEC section 1).
 *
 * A role is one bit of enum lb_role so that a principal's roles fit in an
 * unsigned and a rule reads as a mask test.  The wire names live in one
 * table here, used both ways, so parsing and printing cannot disagree.  A
 * principal belongs to exactly one realm: "provider" or a tenant id, and
 * holds only the roles of that side.
 */
#include <string.h>

#include "core/core.h"

static const struct {
	unsigned role;
	const char *name;
} role_names[] = {
	{ LB_ROLE_PROVIDER_ADMIN, "provider_admin" },
	{ LB_ROLE_SUPPORT_ENGINEER, "support_engineer" },
	{ LB_ROLE_SUPPORT_MANAGER, "support_manager" },
	{ LB_ROLE_INCIDENT_MANAGER, "incident_manager" },
	{ LB_ROLE_GATEWAY, "gateway" },
	{ LB_ROLE_GLOBAL_ADMIN, "global_admin" },
	{ LB_ROLE_LOCKBOX_APPROVER, "lockbox_approver" },
	{ LB_ROLE_COMPLIANCE_ADMIN, "compliance_admin" },
	{ LB_ROLE_SECURITY_ADMIN, "security_admin" },
	{ LB_ROLE_READER, "reader" },
};

#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

unsigned
lb_role_parse(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < NROLES; i++)
		if (strcmp(role_names[i].name, name) == 0)
			return role_names[i].role;
	return 0;
}

const char *
lb_role_name(unsigned role)
{
	for (size_t i = 0; i < NROLES; i++)
		if (role_names[i].role == role)
			return role_names[i].name;
	return NULL;
}

/*
 * True when `roles` is a non-empty set of known roles that all belong to
 * the side `realm` names: provider roles in "provider", tenant roles in a
 * valid tenant id.  An empty set is refused: a principal with no role could
 * do nothing, and the API takes 1..LB_ROLES_MAX roles.
 */
bool
lb_roles_valid_for_realm(unsigned roles, const char *realm)
{
	if (roles == 0 || realm == NULL)
		return false;
	if (strcmp(realm, LB_PROVIDER_REALM) == 0)
		return (roles & ~(unsigned)LB_ROLES_PROVIDER) == 0;
	if (!lb_tenant_id_valid(realm))
		return false;
	return (roles & ~(unsigned)LB_ROLES_TENANT) == 0;
}

bool
lb_actor_is_provider(const struct lb_actor *a)
{
	return a != NULL && strcmp(a->realm, LB_PROVIDER_REALM) == 0;
}
