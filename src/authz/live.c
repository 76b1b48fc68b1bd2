/*
 * The live grants: an in-memory table of approved requests, so an access
 * decision reads no row.
 *
 * The table is the daemon's own copy of what storage says; it is changed
 * only after the transaction that approved or revoked a request has
 * committed, and a revoke removes the entry before the revoke call
 * answers, so the next access check refuses.  Windows are compared with
 * the clock on every check, to the millisecond, so an entry past its end
 * is refused even before it is pruned.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "authz/authz.h"

#define BUCKETS 4096

struct entry {
	struct entry *next;
	struct lb_live_grant g;
};

struct lb_live {
	pthread_rwlock_t lock;
	struct entry *buckets[BUCKETS];
	size_t n;
};

static const char *const refusal_names[LB_REF_COUNT] = {
	[LB_REF_NONE] = "",
	[LB_REF_NO_GRANT] = "no_grant",
	[LB_REF_INVALID_GRANT] = "invalid_grant",
	[LB_REF_NOT_LIVE] = "grant_not_live",
	[LB_REF_WRONG_TENANT] = "wrong_tenant",
	[LB_REF_WRONG_WORKLOAD] = "wrong_workload",
	[LB_REF_RESOURCE] = "resource_not_granted",
	[LB_REF_METHOD] = "method_not_granted",
	[LB_REF_UNMAPPED] = "unmapped_uri",
	[LB_REF_HOSTILE] = "hostile_uri",
	[LB_REF_NOT_ENGINEER] = "not_support_engineer",
	[LB_REF_AUDIT] = "audit_unavailable",
	[LB_REF_GATEWAY] = "gateway_unauthenticated",
};

const char *
lb_refusal_name(enum lb_refusal r)
{
	if ((int)r < 0 || r >= LB_REF_COUNT)
		return "unknown";
	return refusal_names[r];
}

/* FNV-1a: request ids are random, any spreading hash does. */
static size_t
bucket(const char *rid)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)rid; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % BUCKETS;
}

int
live_new(struct lb_live **out)
{
	struct lb_live *lv = calloc(1, sizeof(*lv));

	if (lv == NULL)
		return LB_ERR_NOMEM;
	if (pthread_rwlock_init(&lv->lock, NULL) != 0) {
		free(lv);
		return LB_ERR_INTERNAL;
	}
	*out = lv;
	return 0;
}

void
live_free(struct lb_live *lv)
{
	if (lv == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		struct entry *e = lv->buckets[i];
		while (e != NULL) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
	}
	pthread_rwlock_destroy(&lv->lock);
	free(lv);
}

int
live_put(struct lb_live *lv, const struct lb_live_grant *g)
{
	struct entry *e = malloc(sizeof(*e));
	size_t b = bucket(g->rid);

	if (e == NULL)
		return LB_ERR_NOMEM;
	e->g = *g;
	pthread_rwlock_wrlock(&lv->lock);
	for (struct entry **pp = &lv->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->g.rid, g->rid) == 0) {
			struct entry *old = *pp;
			e->next = old->next;
			*pp = e;
			pthread_rwlock_unlock(&lv->lock);
			free(old);
			return 0;
		}
	}
	e->next = lv->buckets[b];
	lv->buckets[b] = e;
	lv->n++;
	pthread_rwlock_unlock(&lv->lock);
	return 0;
}

void
live_remove(struct lb_live *lv, const char *rid)
{
	struct entry *gone = NULL;
	size_t b = bucket(rid);

	pthread_rwlock_wrlock(&lv->lock);
	for (struct entry **pp = &lv->buckets[b]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->g.rid, rid) == 0) {
			gone = *pp;
			*pp = gone->next;
			lv->n--;
			break;
		}
	}
	pthread_rwlock_unlock(&lv->lock);
	free(gone);
}

size_t
live_count(struct lb_live *lv, int64_t now_ms)
{
	size_t n = 0;

	pthread_rwlock_wrlock(&lv->lock);
	for (size_t i = 0; i < BUCKETS; i++) {
		struct entry **pp = &lv->buckets[i];
		while (*pp != NULL) {
			if ((*pp)->g.expires_ms <= now_ms) {
				struct entry *gone = *pp;
				*pp = gone->next;
				lv->n--;
				free(gone);
				continue;
			}
			if ((*pp)->g.starts_ms <= now_ms)
				n++;
			pp = &(*pp)->next;
		}
	}
	pthread_rwlock_unlock(&lv->lock);
	return n;
}

enum lb_refusal
live_check(struct lb_live *lv, const char *rid, const char *engineer, const char *tenant,
    const char *workload, const char *path, int64_t now_ms)
{
	bool emergency;

	return live_check_kind(lv, rid, engineer, tenant, workload, path, now_ms, &emergency);
}

enum lb_refusal
live_check_kind(struct lb_live *lv, const char *rid, const char *engineer, const char *tenant,
    const char *workload, const char *path, int64_t now_ms, bool *emergency)
{
	enum lb_refusal r = LB_REF_NOT_LIVE;
	size_t b = bucket(rid);

	*emergency = false;
	pthread_rwlock_rdlock(&lv->lock);
	for (const struct entry *e = lv->buckets[b]; e != NULL; e = e->next) {
		const struct lb_live_grant *g = &e->g;
		if (strcmp(g->rid, rid) != 0)
			continue;
		*emergency = g->emergency;
		if (now_ms < g->starts_ms || now_ms >= g->expires_ms ||
		    strcmp(g->requester, engineer) != 0)
			r = LB_REF_NOT_LIVE;
		else if (strcmp(g->tenant, tenant) != 0)
			r = LB_REF_WRONG_TENANT;
		else if (workload[0] != '\0' && strcmp(g->workload, workload) != 0)
			r = LB_REF_WRONG_WORKLOAD;
		else {
			r = LB_REF_RESOURCE;
			for (size_t i = 0; i < g->nresources; i++)
				if (lb_resource_covers(g->resources[i], path))
					r = LB_REF_NONE;
		}
		break;
	}
	pthread_rwlock_unlock(&lv->lock);
	return r;
}
