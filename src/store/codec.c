/*
 * How values the columns cannot hold directly are written as text.
 *
 * Every backend stores enums by name, small arrays as compact JSON, and
 * byte strings as hex, so this file is shared rather than repeated per
 * backend.  It also keeps the store independent of the core's .c files: the
 * name tables below are the wire names of SPEC 3 and 4, duplicated on
 * purpose (a change of a wire name is a schema change and needs a
 * migration anyway).  Decoding treats anything unexpected as a corrupt
 * row: LB_ERR_UNAVAILABLE, never a truncated value.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_impl.h"

static const char *const status_names[LB_ST_COUNT] = {
	[LB_ST_PENDING_INTERNAL] = "pending_internal",
	[LB_ST_PENDING] = "pending",
	[LB_ST_APPROVED] = "approved",
	[LB_ST_DENIED] = "denied",
	[LB_ST_EXPIRED] = "expired",
	[LB_ST_REVOKED] = "revoked",
	[LB_ST_CANCELLED] = "cancelled",
	[LB_ST_COMPLETED] = "completed",
};

static const char *const decision_names[] = {
	[LB_DEC_APPROVE] = "approve",
	[LB_DEC_DENY] = "deny",
	[LB_DEC_REVOKE] = "revoke",
	[LB_DEC_CANCEL] = "cancel",
};

static const char *const actor_type_names[] = {
	[LB_ACTOR_USER] = "user",
	[LB_ACTOR_SERVICE] = "service",
	[LB_ACTOR_SYSTEM] = "system",
};

static const char *const case_status_names[] = {
	[LB_CASE_OPEN] = "open",
	[LB_CASE_CLOSED] = "closed",
};

static const char *const cloud_names[] = {
	[LB_CLOUD_COMMERCIAL] = "commercial",
	[LB_CLOUD_GCC] = "gcc",
	[LB_CLOUD_GCC_HIGH] = "gcc_high",
	[LB_CLOUD_DOD] = "dod",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return NULL;
	return names[v];
}

/* Writes the index of `s` in `names` to *out; LB_ERR_UNAVAILABLE if absent. */
static int
index_of(const char *const *names, size_t n, const char *s, int *out)
{
	if (s == NULL)
		return LB_ERR_UNAVAILABLE;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return LB_ERR_UNAVAILABLE;
}

const char *
lb_store_status_name(int s)
{
	return name_of(status_names, NELEM(status_names), s);
}

int
lb_store_status_parse(const char *s, enum lb_status *out)
{
	int v, err;

	if ((err = index_of(status_names, NELEM(status_names), s, &v)) == 0)
		*out = (enum lb_status)v;
	return err;
}

const char *
lb_store_decision_name(int k)
{
	return name_of(decision_names, NELEM(decision_names), k);
}

int
lb_store_decision_parse(const char *s, enum lb_decision_kind *out)
{
	int v, err;

	if ((err = index_of(decision_names, NELEM(decision_names), s, &v)) == 0)
		*out = (enum lb_decision_kind)v;
	return err;
}

const char *
lb_store_actor_type_name(int t)
{
	return name_of(actor_type_names, NELEM(actor_type_names), t);
}

int
lb_store_actor_type_parse(const char *s, enum lb_actor_type *out)
{
	int v, err;

	if ((err = index_of(actor_type_names, NELEM(actor_type_names), s, &v)) == 0)
		*out = (enum lb_actor_type)v;
	return err;
}

const char *
lb_store_case_status_name(int s)
{
	return name_of(case_status_names, NELEM(case_status_names), s);
}

int
lb_store_case_status_parse(const char *s, enum lb_case_status *out)
{
	int v, err;

	if ((err = index_of(case_status_names, NELEM(case_status_names), s, &v)) == 0)
		*out = (enum lb_case_status)v;
	return err;
}

const char *
lb_store_cloud_name(int c)
{
	return name_of(cloud_names, NELEM(cloud_names), c);
}

int
lb_store_cloud_parse(const char *s, enum lb_cloud *out)
{
	int v, err;

	if ((err = index_of(cloud_names, NELEM(cloud_names), s, &v)) == 0)
		*out = (enum lb_cloud)v;
	return err;
}

bool
lb_store_terminated(const char *s, size_t cap)
{
	return s != NULL && memchr(s, '\0', cap) != NULL;
}

/* A JSON array of the strings in rows; NULL (and *err set) on failure. */
static json_t *
strings_to_json(const char *base, size_t stride, size_t n, int *err)
{
	json_t *arr = json_array(), *ret = NULL;

	if (arr == NULL) {
		*err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = base + i * stride;

		if (!lb_store_terminated(s, stride)) {
			*err = LB_ERR_FIELD_TOO_LONG;
			goto out;
		}
		/* json_string() refuses invalid UTF-8 too. */
		if (json_array_append_new(arr, json_string(s)) != 0) {
			*err = LB_ERR_INVALID_VALUE;
			goto out;
		}
	}
	ret = arr;
	arr = NULL;
out:
	json_decref(arr);
	return ret;
}

/* Copies the strings of `arr` into rows; LB_ERR_UNAVAILABLE if they do not fit. */
static int
json_to_strings(const json_t *arr, char *base, size_t stride, size_t max, size_t *n)
{
	size_t count;

	if (!json_is_array(arr) || (count = json_array_size(arr)) > max)
		return LB_ERR_UNAVAILABLE;
	for (size_t i = 0; i < count; i++) {
		const json_t *v = json_array_get(arr, i);
		size_t len;

		if (!json_is_string(v))
			return LB_ERR_UNAVAILABLE;
		len = json_string_length(v);
		if (len >= stride || strlen(json_string_value(v)) != len)
			return LB_ERR_UNAVAILABLE;
		memcpy(base + i * stride, json_string_value(v), len + 1);
	}
	*n = count;
	return 0;
}

static int
dump(json_t *v, char **out)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text == NULL)
		return LB_ERR_NOMEM;
	*out = text;
	return 0;
}

int
lb_store_strings_encode(const char *base, size_t stride, size_t n, char **out)
{
	json_t *arr;
	int err = 0;

	if ((arr = strings_to_json(base, stride, n, &err)) == NULL)
		goto out;
	err = dump(arr, out);
out:
	json_decref(arr);
	return err;
}

int
lb_store_strings_decode(const char *text, char *base, size_t stride, size_t max, size_t *n)
{
	json_t *arr = NULL;
	char *tmp = NULL;
	size_t count = 0;
	int err;

	if (text == NULL || (arr = json_loads(text, 0, NULL)) == NULL) {
		err = LB_ERR_UNAVAILABLE;
		goto out;
	}
	/* Decode into scratch space so the rows are written only on success. */
	if ((tmp = calloc(max ? max : 1, stride)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	if ((err = json_to_strings(arr, tmp, stride, max, &count)) != 0)
		goto out;
	memcpy(base, tmp, count * stride);
	*n = count;
out:
	free(tmp);
	json_decref(arr);
	return err;
}

int
lb_store_stages_encode(const struct lb_stage_cfg *stages, size_t n, char **out)
{
	json_t *arr = json_array(), *obj, *apv;
	int err = 0;

	if (arr == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (stages[i].napprovers > LB_APPROVERS_MAX) {
			err = LB_ERR_TOO_MANY_ITEMS;
			goto out;
		}
		if ((apv = strings_to_json(&stages[i].approvers[0][0],
		    sizeof(stages[i].approvers[0]), stages[i].napprovers, &err)) == NULL)
			goto out;
		if ((obj = json_pack("{s:i,s:o}", "required", stages[i].required,
		    "approvers", apv)) == NULL) {
			err = LB_ERR_NOMEM;
			goto out;
		}
		if (json_array_append_new(arr, obj) != 0) {
			err = LB_ERR_NOMEM;
			goto out;
		}
	}
	err = dump(arr, out);
out:
	json_decref(arr);
	return err;
}

int
lb_store_stages_decode(const char *text, struct lb_stage_cfg *stages, size_t max, size_t *n)
{
	json_t *arr = NULL;
	struct lb_stage_cfg *tmp = NULL;
	size_t count = 0;
	int err = LB_ERR_UNAVAILABLE;

	if (text == NULL || (arr = json_loads(text, 0, NULL)) == NULL)
		goto out;
	if (!json_is_array(arr) || (count = json_array_size(arr)) > max)
		goto out;
	if ((tmp = calloc(max ? max : 1, sizeof(*tmp))) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const json_t *obj = json_array_get(arr, i);
		const json_t *req = json_object_get(obj, "required");
		const json_t *apv = json_object_get(obj, "approvers");
		json_int_t r;

		if (!json_is_integer(req) || (r = json_integer_value(req)) < 0 || r > 1000)
			goto out;
		tmp[i].required = (int)r;
		if ((err = json_to_strings(apv, &tmp[i].approvers[0][0],
		    sizeof(tmp[i].approvers[0]), LB_APPROVERS_MAX, &tmp[i].napprovers)) != 0)
			goto out;
		err = LB_ERR_UNAVAILABLE;
	}
	memcpy(stages, tmp, count * sizeof(*tmp));
	*n = count;
	err = 0;
out:
	free(tmp);
	json_decref(arr);
	return err;
}

void
lb_store_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
lb_store_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	uint8_t tmp[64];

	if (hex == NULL || n > sizeof(tmp) || strlen(hex) != 2 * n)
		return LB_ERR_UNAVAILABLE;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return LB_ERR_UNAVAILABLE;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, tmp, n);
	return 0;
}
