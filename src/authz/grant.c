/*
 * The claims of a grant: what Lockbox signs when a tenant approves a
 * request, and what it reads back from a verified token.
 *
 * {"iss":"lockbox","sub":ENGINEER,"tenant":T,"rid":REQUEST,"wl":WORKLOAD,
 *  "res":[RESOURCE,...],"nbf":S,"iat":S,"exp":S,"jti":ID}
 * and, for an emergency access (break-glass; rid is its id), "emg":true.
 *
 * The parser is strict even though it only ever reads what a verified
 * signature vouches for: a grant is the one thing that opens a tenant's
 * content, so a claim that is missing, of the wrong JSON type (a number
 * must be a JSON integer, not 1.0 or "1"), too long, not a valid name,
 * unknown, or that makes the window run backwards (nbf > exp) refuses the
 * whole grant.  Both directions apply the same checks (claims_valid), so
 * Lockbox never signs what it would refuse to read.
 */
#include <string.h>

#include "authz/authz.h"

/* NumericDate bounds: 0 to 9999-12-31T23:59:59Z. */
#define NUMERIC_DATE_MAX 253402300799LL

enum {
	C_ISS = 1 << 0, C_SUB = 1 << 1, C_TENANT = 1 << 2, C_RID = 1 << 3,
	C_WL = 1 << 4, C_RES = 1 << 5, C_NBF = 1 << 6, C_IAT = 1 << 7,
	C_EXP = 1 << 8, C_JTI = 1 << 9,
	C_ALL = (1 << 10) - 1,
};

/* A request id or grant id: an id of at most LB_REQID_MAX characters. */
static bool
reqid_valid(const char *s)
{
	return strnlen(s, LB_REQID_MAX + 1) <= LB_REQID_MAX && lb_id_valid(s);
}

static bool
date_valid(int64_t s)
{
	return s >= 0 && s <= NUMERIC_DATE_MAX;
}

/* Every rule a grant's claims obey, on the struct. */
static int
claims_valid(const struct lb_grant_claims *g)
{
	if (!lb_id_valid(g->sub) || !lb_tenant_id_valid(g->tenant) ||
	    !reqid_valid(g->rid) || !reqid_valid(g->jti) ||
	    !lb_workload_valid(g->workload))
		return LB_ERR_INVALID_VALUE;
	if (g->nresources == 0 || g->nresources > LB_RESOURCES_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	for (size_t i = 0; i < g->nresources; i++)
		if (!lb_resource_valid(g->resources[i]))
			return LB_ERR_INVALID_VALUE;
	if (!date_valid(g->nbf_s) || !date_valid(g->exp_s) || !date_valid(g->iat_s) ||
	    g->nbf_s > g->exp_s)
		return LB_ERR_INVALID_VALUE;
	return 0;
}

json_t *
grant_claims_json(const struct lb_grant_claims *g)
{
	json_t *res = NULL, *obj = NULL;

	if (g == NULL || claims_valid(g) != 0)
		return NULL;
	if ((res = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < g->nresources; i++)
		if (json_array_append_new(res, json_string(g->resources[i])) != 0)
			goto out;
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:I, s:I, s:s}",
	    "iss", "lockbox", "sub", g->sub, "tenant", g->tenant, "rid", g->rid,
	    "wl", g->workload, "res", res, "nbf", (json_int_t)g->nbf_s,
	    "iat", (json_int_t)g->iat_s, "exp", (json_int_t)g->exp_s, "jti", g->jti);
	/* An emergency access's grant says so; other grants carry no "emg". */
	if (obj != NULL && g->emergency && json_object_set_new(obj, "emg", json_true()) != 0) {
		json_decref(obj);
		obj = NULL;
	}
out:
	json_decref(res);
	return obj;
}

/* Copies a JSON string of 1..max bytes without NUL into dst[max + 1]. */
static int
take_string(json_t *v, char *dst, size_t max)
{
	size_t n;

	if (!json_is_string(v))
		return LB_ERR_INVALID_FIELD;
	n = json_string_length(v);
	if (n > max)
		return LB_ERR_FIELD_TOO_LONG;
	if (n == 0 || strlen(json_string_value(v)) != n)
		return LB_ERR_INVALID_VALUE;
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

static int
take_date(json_t *v, int64_t *out)
{
	if (!json_is_integer(v))
		return LB_ERR_INVALID_FIELD;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int
take_resources(json_t *v, struct lb_grant_claims *g)
{
	json_t *e;
	size_t i;
	int rc;

	if (!json_is_array(v))
		return LB_ERR_INVALID_FIELD;
	if (json_array_size(v) == 0 || json_array_size(v) > LB_RESOURCES_MAX)
		return LB_ERR_TOO_MANY_ITEMS;
	json_array_foreach(v, i, e) {
		if ((rc = take_string(e, g->resources[i], LB_RESOURCE_MAX)) != 0)
			return rc;
	}
	g->nresources = json_array_size(v);
	return 0;
}

int
grant_claims_parse(json_t *claims, struct lb_grant_claims *out)
{
	struct lb_grant_claims g;
	const char *name;
	json_t *v;
	unsigned seen = 0, bit;
	int rc = LB_ERR_MALFORMED;

	memset(&g, 0, sizeof(g));
	if (!json_is_object(claims) || out == NULL)
		goto out;
	json_object_foreach(claims, name, v) {
		char iss[sizeof("lockbox")];

		if (strcmp(name, "iss") == 0) {
			bit = C_ISS;
			rc = take_string(v, iss, sizeof(iss) - 1);
			if (rc == 0 && strcmp(iss, "lockbox") != 0)
				rc = LB_ERR_INVALID_VALUE;
			else if (rc == LB_ERR_FIELD_TOO_LONG)
				rc = LB_ERR_INVALID_VALUE;
		} else if (strcmp(name, "sub") == 0) {
			bit = C_SUB;
			rc = take_string(v, g.sub, LB_ID_MAX);
		} else if (strcmp(name, "tenant") == 0) {
			bit = C_TENANT;
			rc = take_string(v, g.tenant, LB_ID_MAX);
		} else if (strcmp(name, "rid") == 0) {
			bit = C_RID;
			rc = take_string(v, g.rid, LB_REQID_MAX);
		} else if (strcmp(name, "wl") == 0) {
			bit = C_WL;
			rc = take_string(v, g.workload, LB_WORKLOAD_MAX);
		} else if (strcmp(name, "res") == 0) {
			bit = C_RES;
			rc = take_resources(v, &g);
		} else if (strcmp(name, "nbf") == 0) {
			bit = C_NBF;
			rc = take_date(v, &g.nbf_s);
		} else if (strcmp(name, "iat") == 0) {
			bit = C_IAT;
			rc = take_date(v, &g.iat_s);
		} else if (strcmp(name, "exp") == 0) {
			bit = C_EXP;
			rc = take_date(v, &g.exp_s);
		} else if (strcmp(name, "jti") == 0) {
			bit = C_JTI;
			rc = take_string(v, g.jti, LB_REQID_MAX);
		} else if (strcmp(name, "emg") == 0) {
			/* Optional: only ever true (absent means not an emergency). */
			bit = 0;
			rc = json_is_true(v) ? 0 : json_is_boolean(v) ? LB_ERR_INVALID_VALUE :
			    LB_ERR_INVALID_FIELD;
			g.emergency = rc == 0;
		} else {
			rc = LB_ERR_UNKNOWN_FIELD;
			goto out;
		}
		if (rc != 0)
			goto out;
		seen |= bit;
	}
	if (seen != C_ALL) {
		rc = LB_ERR_MISSING_FIELD;
		goto out;
	}
	if ((rc = claims_valid(&g)) != 0)
		goto out;
	*out = g;
out:
	return rc;
}
