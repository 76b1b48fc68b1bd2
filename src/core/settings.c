/*
 * A tenant's Lockbox settings: their defaults, the approval stages in
 * force, and the rules of SPEC section 2 that any change must pass
 * (licence, approvers, retention, stages).
 *
 * lb_settings_check is the only gate between a PATCH and the stored
 * settings, so it checks the whole resulting value, not the diff: whatever
 * it accepts, the request state machine can work with.  In particular the
 * approval stages are checked for satisfiability with an exact matching
 * of stage slots to distinct approvers, because one person approves at most
 * once per request and a stage nobody can complete would leave every
 * request to expire.
 */
#include <string.h>

#include "core/core.h"

void
lb_settings_init(struct lb_settings *s)
{
	if (s == NULL)
		return;
	memset(s, 0, sizeof(*s));
	s->enabled = false;
	s->retention_days = LB_RETENTION_DEFAULT;
}

/*
 * See core.h.  Configured stages are copied as they are (at most
 * LB_STAGES_MAX); with none configured the cloud decides: gcc_high and dod
 * two stages of one approval, the others one stage of one approval, all
 * drawing on every designated approver.
 */
size_t
lb_settings_effective_stages(const struct lb_settings *s, enum lb_cloud cloud,
    struct lb_stage_cfg out[LB_STAGES_MAX])
{
	size_t n;

	if (s != NULL && s->nstages > 0) {
		n = s->nstages < LB_STAGES_MAX ? s->nstages : LB_STAGES_MAX;
		for (size_t i = 0; i < n; i++)
			out[i] = s->stages[i];
		return n;
	}
	n = (cloud == LB_CLOUD_GCC_HIGH || cloud == LB_CLOUD_DOD) ? 2 : 1;
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].required = 1;
	}
	return n;
}

bool
lb_settings_is_approver(const struct lb_settings *s, const char *user)
{
	size_t n;

	if (s == NULL || user == NULL)
		return false;
	n = s->napprovers < LB_APPROVERS_MAX ? s->napprovers : LB_APPROVERS_MAX;
	for (size_t i = 0; i < n; i++)
		if (strncmp(s->approvers[i], user, sizeof(s->approvers[i])) == 0)
			return true;
	return false;
}

/* ASCII case-insensitive equality, for email duplicates. */
static bool
ascii_case_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

/* Index of `id` in the designated approvers of `s`, or -1. */
static int
approver_index(const struct lb_settings *s, const char *id)
{
	for (size_t i = 0; i < s->napprovers; i++)
		if (strcmp(s->approvers[i], id) == 0)
			return (int)i;
	return -1;
}

/*
 * Matching of stage slots to approvers.  A slot is one approval a stage
 * needs; slot k may be taken by approver p when eligible[k] has bit p.
 * owner[p] is the slot approver p is matched to, or -1.
 */
#define MAX_SLOTS (LB_STAGES_MAX * LB_APPROVERS_MAX)

struct matching {
	unsigned eligible[MAX_SLOTS];
	size_t nslots;
	int owner[LB_APPROVERS_MAX];
	size_t npeople;
};

/* Kuhn's augmenting path from `slot`; depth is at most npeople. */
static bool
match_slot(struct matching *m, size_t slot, unsigned *seen)
{
	for (size_t p = 0; p < m->npeople; p++) {
		if (!(m->eligible[slot] & (1u << p)) || (*seen & (1u << p)))
			continue;
		*seen |= 1u << p;
		if (m->owner[p] < 0 || match_slot(m, (size_t)m->owner[p], seen)) {
			m->owner[p] = (int)slot;
			return true;
		}
	}
	return false;
}

/*
 * Structure of the configured stages: at most LB_STAGES_MAX, each needing
 * 1..LB_APPROVERS_MAX approvals and naming at most LB_APPROVERS_MAX
 * distinct designated approvers.  Then, when `satisfiable` is asked for,
 * whether distinct approvers can fill every stage of `stages`.
 */
static int
check_stages(const struct lb_settings *next, const struct lb_stage_cfg *stages,
    size_t nstages, bool satisfiable)
{
	struct matching m;

	if (next->nstages > LB_STAGES_MAX)
		return LB_ERR_INVALID_STAGES;
	for (size_t i = 0; i < next->nstages; i++) {
		const struct lb_stage_cfg *st = &next->stages[i];
		if (st->required < 1 || st->required > LB_APPROVERS_MAX)
			return LB_ERR_INVALID_STAGES;
		if (st->napprovers > LB_APPROVERS_MAX)
			return LB_ERR_INVALID_STAGES;
		for (size_t j = 0; j < st->napprovers; j++) {
			if (strnlen(st->approvers[j], sizeof(st->approvers[j])) ==
			    sizeof(st->approvers[j]))
				return LB_ERR_FIELD_TOO_LONG;
			if (approver_index(next, st->approvers[j]) < 0)
				return LB_ERR_INVALID_STAGES;
			for (size_t k = 0; k < j; k++)
				if (strcmp(st->approvers[j], st->approvers[k]) == 0)
					return LB_ERR_INVALID_STAGES;
		}
	}
	if (!satisfiable)
		return 0;

	memset(&m, 0, sizeof(m));
	m.npeople = next->napprovers;
	for (size_t p = 0; p < LB_APPROVERS_MAX; p++)
		m.owner[p] = -1;
	for (size_t i = 0; i < nstages; i++) {
		unsigned set = 0;
		if (stages[i].napprovers == 0) {
			set = (1u << m.npeople) - 1;
		} else {
			for (size_t j = 0; j < stages[i].napprovers; j++)
				set |= 1u << approver_index(next, stages[i].approvers[j]);
		}
		for (int k = 0; k < stages[i].required; k++)
			m.eligible[m.nslots++] = set;
	}
	for (size_t k = 0; k < m.nslots; k++) {
		unsigned seen = 0;
		if (!match_slot(&m, k, &seen))
			return LB_ERR_INVALID_STAGES;
	}
	return 0;
}

/*
 * See core.h.  The checks run in this order and the first failure is the
 * answer:
 *   1. retention 90..3650                       invalid_retention
 *   2. at most 10 approvers                     too_many_approvers
 *   3. approver ids valid and distinct; at most 10 valid, distinct
 *      notification emails                      invalid_value
 *                                               (field_too_long, too_many_items)
 *   4. every approver holds global_admin or lockbox_approver (0 roles: no
 *      such user)                               approver_role_required
 *   5. when enabling: licence                   license_required
 *      and at least one approver                last_approver if the
 *      previous settings were enabled with approvers, else no_approvers
 *   6. stages: structure always; satisfiability by distinct approvers when
 *      enabled or when stages are configured    invalid_stages
 * `prev` may be NULL (a tenant without stored settings: the defaults).
 */
int
lb_settings_check(const struct lb_tenant *t, const struct lb_settings *prev,
    const struct lb_settings *next, const unsigned *approver_roles)
{
	struct lb_stage_cfg stages[LB_STAGES_MAX];
	size_t nstages;

	if (t == NULL || next == NULL)
		return LB_ERR_INTERNAL;

	if (next->retention_days < LB_RETENTION_MIN ||
	    next->retention_days > LB_RETENTION_MAX)
		return LB_ERR_INVALID_RETENTION;

	if (next->napprovers > LB_APPROVERS_MAX)
		return LB_ERR_TOO_MANY_APPROVERS;
	for (size_t i = 0; i < next->napprovers; i++) {
		if (strnlen(next->approvers[i], sizeof(next->approvers[i])) ==
		    sizeof(next->approvers[i]))
			return LB_ERR_FIELD_TOO_LONG;
		if (!lb_id_valid(next->approvers[i]))
			return LB_ERR_INVALID_VALUE;
		for (size_t j = 0; j < i; j++)
			if (strcmp(next->approvers[i], next->approvers[j]) == 0)
				return LB_ERR_INVALID_VALUE;
	}
	if (next->nemails > LB_NOTIFY_EMAILS_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	for (size_t i = 0; i < next->nemails; i++) {
		if (strnlen(next->notification_emails[i],
		    sizeof(next->notification_emails[i])) ==
		    sizeof(next->notification_emails[i]))
			return LB_ERR_FIELD_TOO_LONG;
		if (!lb_email_valid(next->notification_emails[i]))
			return LB_ERR_INVALID_VALUE;
		for (size_t j = 0; j < i; j++)
			if (ascii_case_equal(next->notification_emails[i],
			    next->notification_emails[j]))
				return LB_ERR_INVALID_VALUE;
	}

	for (size_t i = 0; i < next->napprovers; i++) {
		unsigned roles = approver_roles != NULL ? approver_roles[i] : 0;
		if ((roles & LB_ROLES_APPROVER) == 0)
			return LB_ERR_APPROVER_ROLE;
	}

	if (next->enabled) {
		if (!lb_tenant_licensed(t))
			return LB_ERR_LICENSE_REQUIRED;
		if (next->napprovers == 0) {
			if (prev != NULL && prev->enabled && prev->napprovers > 0)
				return LB_ERR_LAST_APPROVER;
			return LB_ERR_NO_APPROVERS;
		}
	}

	if (next->nstages > LB_STAGES_MAX)
		return LB_ERR_INVALID_STAGES;
	nstages = lb_settings_effective_stages(next, t->cloud, stages);
	return check_stages(next, stages, nstages,
	    next->enabled || next->nstages > 0);
}
