/*
 * JSON in and out of the API.
 *
 * Readers take one field at a time with its type and its limit, and name
 * the field in the error, so every handler refuses bad input the same way
 * and the caller learns which field was wrong.  Writers give each object
 * its one wire form (docs/api.md), shared by every route that returns it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "http/http.h"
#include "notify/notify.h"

int
http_fail(struct lb_ctx *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

int
http_reply(struct lb_ctx *c, int status, json_t *body)
{
	json_decref(c->resp);
	c->status = status;
	c->resp = body;
	return body ? 0 : LB_ERR_NOMEM;
}

json_t *
json_time(int64_t ms)
{
	char ts[32];

	if (ms == 0 || lb_time_format(ms, ts, sizeof(ts)) != 0)
		return json_null();
	return json_string(ts);
}

int
json_body(struct lb_ctx *c, json_t **out)
{
	json_error_t e;
	json_t *o;

	if (c->body_len == 0)
		return http_fail(c, LB_ERR_MALFORMED, "a JSON object body is required");
	o = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL)
		return http_fail(c, LB_ERR_MALFORMED, "malformed JSON at line %d column %d: %s",
		    e.line, e.column, e.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return http_fail(c, LB_ERR_MALFORMED, "the body must be a JSON object");
	}
	*out = o;
	return 0;
}

int
json_only(struct lb_ctx *c, json_t *o, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok)
			return http_fail(c, LB_ERR_UNKNOWN_FIELD, "unknown field '%.64s'", key);
	}
	return 0;
}

static bool
has_control(const char *s, size_t n, bool allow_newlines)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == 0)
			return true;
		if (allow_newlines && (ch == '\n' || ch == '\t' || ch == '\r'))
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}

/* Free-text fields (justification, comment, title) may hold newlines. */
static bool
free_text(const char *key)
{
	return strcmp(key, "justification") == 0 || strcmp(key, "comment") == 0 ||
	    strcmp(key, "title") == 0;
}

int
json_str(struct lb_ctx *c, json_t *o, const char *key, bool required, char *dst, size_t cap)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			return http_fail(c, LB_ERR_MISSING_FIELD, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be a string", key);
	size_t n = json_string_length(v);
	if (n >= cap)
		return http_fail(c, LB_ERR_FIELD_TOO_LONG, "field '%s' is longer than %zu bytes",
		    key, cap - 1);
	if (has_control(json_string_value(v), n, free_text(key)))
		return http_fail(c, LB_ERR_INVALID_VALUE, "field '%s' contains control characters", key);
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

int
json_int(struct lb_ctx *c, json_t *o, const char *key, bool required, int *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			return http_fail(c, LB_ERR_MISSING_FIELD, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_integer(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be an integer", key);
	json_int_t n = json_integer_value(v);
	if (n < -1000000000 || n > 1000000000)
		return http_fail(c, LB_ERR_INVALID_VALUE, "field '%s' is out of range", key);
	*out = (int)n;
	return 0;
}

int
json_bool(struct lb_ctx *c, json_t *o, const char *key, bool required, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		if (required)
			return http_fail(c, LB_ERR_MISSING_FIELD, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_boolean(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
json_strs(struct lb_ctx *c, json_t *o, const char *key, bool required, char *dst,
    size_t cap, size_t max, size_t *n, int too_many_err)
{
	json_t *v = json_object_get(o, key), *e;
	size_t i;

	if (v == NULL) {
		if (required)
			return http_fail(c, LB_ERR_MISSING_FIELD, "field '%s' is required", key);
		return 0;
	}
	if (!json_is_array(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be an array of strings", key);
	if (json_array_size(v) > max)
		return http_fail(c, too_many_err, "field '%s' has more than %zu items", key, max);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be an array of strings", key);
		size_t len = json_string_length(e);
		if (len >= cap)
			return http_fail(c, LB_ERR_FIELD_TOO_LONG, "an item of '%s' is longer than %zu bytes",
			    key, cap - 1);
		if (has_control(json_string_value(e), len, false))
			return http_fail(c, LB_ERR_INVALID_VALUE, "an item of '%s' contains control characters", key);
	}
	json_array_foreach(v, i, e)
		memcpy(dst + i * cap, json_string_value(e), json_string_length(e) + 1);
	*n = json_array_size(v);
	return 0;
}

/* ------------------------------------------------------------- query */

int
http_query(struct lb_ctx *c, const char *key, char *buf, size_t cap)
{
	const char *raw = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, key);
	size_t o = 0;

	if (raw == NULL)
		return 0;
	for (size_t i = 0; raw[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)raw[i];
		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			int h = raw[i + 1] ? lb_hex_digit(raw[i + 1]) : -1;
			int l = h >= 0 && raw[i + 2] ? lb_hex_digit(raw[i + 2]) : -1;
			if (h < 0 || l < 0)
				return http_fail(c, LB_ERR_INVALID_FIELD, "query parameter '%s' is badly encoded", key);
			ch = (unsigned char)(h * 16 + l);
			i += 2;
		}
		if (ch < 0x20 || ch == 0x7f)
			return http_fail(c, LB_ERR_INVALID_FIELD, "query parameter '%s' has control characters", key);
		if (o + 1 >= cap)
			return http_fail(c, LB_ERR_FIELD_TOO_LONG, "query parameter '%s' is too long", key);
		buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return 1;
}

/* ------------------------------------------------------------- paging */

/*
 * A page token is base64url("<ms>.<id>"): opaque to clients, checked on the
 * way back in so a forged token is refused, never passed through to SQL
 * unchecked (it is bound as a parameter anyway).
 */
char *
http_page_token(int64_t ms, const char *id)
{
	char raw[256], *out;
	int n = snprintf(raw, sizeof(raw), "%lld.%s", (long long)ms, id);
	size_t cap;

	if (n < 0 || (size_t)n >= sizeof(raw))
		return NULL;
	cap = sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((out = malloc(cap)) == NULL)
		return NULL;
	sodium_bin2base64(out, cap, (const unsigned char *)raw, (size_t)n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

int
http_page(struct lb_ctx *c, struct lb_page *pg)
{
	char buf[400], raw[300];
	size_t rawlen;
	int rc;

	memset(pg, 0, sizeof(*pg));
	pg->limit = LB_PAGE_SIZE_DEFAULT;
	if ((rc = http_query(c, "page_size", buf, 16)) < 0)
		return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_size must be 1 to %d", LB_PAGE_SIZE_MAX);
	if (rc == 1) {
		char *end;
		long v = strtol(buf, &end, 10);
		if (end == buf || *end != '\0' || v < 1 || v > LB_PAGE_SIZE_MAX)
			return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_size must be 1 to %d",
			    LB_PAGE_SIZE_MAX);
		pg->limit = (size_t)v;
	}
	if ((rc = http_query(c, "page_token", buf, sizeof(buf))) < 0)
		return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
	if (rc == 0 || buf[0] == '\0')
		return 0;
	if (sodium_base642bin((unsigned char *)raw, sizeof(raw) - 1, buf, strlen(buf), NULL,
	    &rawlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
	raw[rawlen] = '\0';
	char *dot = memchr(raw, '.', rawlen), *end;
	if (dot == NULL)
		return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
	*dot = '\0';
	long long ms = strtoll(raw, &end, 10);
	size_t idlen = strlen(dot + 1);
	if (end == raw || *end != '\0' || ms < 0 || idlen == 0 || idlen >= sizeof(pg->after_id) ||
	    idlen != rawlen - (size_t)(dot + 1 - raw))
		return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
	for (size_t i = 0; i < idlen; i++) {
		unsigned char ch = (unsigned char)dot[1 + i];
		if (ch < 0x20 || ch == 0x7f)
			return http_fail(c, LB_ERR_BAD_PAGE_TOKEN, "page_token is not valid");
	}
	pg->after_ms = ms;
	memcpy(pg->after_id, dot + 1, idlen + 1);
	return 0;
}

json_t *
http_list(json_t *items, bool more, int64_t last_ms, const char *last_id)
{
	json_t *o = json_object();
	char *tok = more ? http_page_token(last_ms, last_id) : NULL;

	json_object_set_new(o, "items", items);
	json_object_set_new(o, "next_page_token", tok ? json_string(tok) : json_null());
	free(tok);
	return o;
}

/* ------------------------------------------------------------- objects */

static json_t *
roles_json(unsigned roles)
{
	json_t *a = json_array();

	for (unsigned bit = 1; bit != 0 && bit <= LB_ROLE_READER; bit <<= 1)
		if ((roles & bit) && lb_role_name(bit) != NULL)
			json_array_append_new(a, json_string(lb_role_name(bit)));
	return a;
}

json_t *
json_tenant(const struct lb_tenant *t)
{
	json_t *addons = json_array();

	for (size_t i = 0; i < t->naddons; i++)
		json_array_append_new(addons, json_string(t->addons[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}", "id", t->id, "name", t->name,
	    "plan", t->plan, "addons", addons, "cloud", lb_cloud_name(t->cloud),
	    "created_at", json_time(t->created_ms));
}

json_t *
json_user(const struct lb_user *u)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o}", "id", u->id, "realm", u->realm,
	    "type", u->type == LB_ACTOR_SERVICE ? "service" : "user", "roles", roles_json(u->roles),
	    "email", u->email, "display_name", u->display_name, "created_at", json_time(u->created_ms));
}

json_t *
json_token(const struct lb_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", t->id, "realm", t->realm,
	    "user", t->user_id, "label", t->label, "created_at", json_time(t->created_ms),
	    "revoked_at", json_time(t->revoked_ms));
}

json_t *
json_case(const struct lb_case *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", c->id, "tenant", c->tenant,
	    "status", c->status == LB_CASE_OPEN ? "open" : "closed", "title", c->title,
	    "assigned_to", c->assigned_to[0] ? json_string(c->assigned_to) : json_null(),
	    "opened_by", c->opened_by, "created_at", json_time(c->created_ms));
}

static json_t *
ids_json(const char (*ids)[LB_ID_MAX + 1], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

json_t *
json_settings(const struct lb_settings *s, enum lb_cloud cloud)
{
	struct lb_stage_cfg st[LB_STAGES_MAX];
	size_t nst = lb_settings_effective_stages(s, cloud, st);
	json_t *stages = json_array(), *emails = json_array();

	for (size_t i = 0; i < nst; i++)
		json_array_append_new(stages, json_pack("{s:i, s:o}", "required", st[i].required,
		    "approvers", ids_json((const char (*)[LB_ID_MAX + 1])st[i].approvers, st[i].napprovers)));
	for (size_t i = 0; i < s->nemails; i++)
		json_array_append_new(emails, json_string(s->notification_emails[i]));
	return json_pack("{s:b, s:o, s:o, s:o, s:i}", "enabled", s->enabled,
	    "approvers", ids_json((const char (*)[LB_ID_MAX + 1])s->approvers, s->napprovers),
	    "notification_emails", emails, "approval_stages", stages,
	    "audit_retention_days", s->retention_days);
}

json_t *
json_request(const struct lb_request *r, const struct lb_settings *s,
    enum lb_cloud cloud, int64_t now_ms)
{
	json_t *res = json_array(), *decs = json_array();
	enum lb_status st = lb_request_status_at(r, now_ms);
	struct lb_request view = *r;

	view.status = st;
	for (size_t i = 0; i < r->nresources; i++)
		json_array_append_new(res, json_string(r->resources[i]));
	for (size_t i = 0; i < r->ndecisions; i++) {
		const struct lb_decision *d = &r->decisions[i];
		json_t *jd = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o}", "by", d->by, "realm", d->realm,
		    "stage", d->stage >= 0 ? json_integer(d->stage) : json_null(),
		    "decision", lb_decision_name(d->kind), "comment", d->comment,
		    "at", json_time(d->at_ms));
		if (jd == NULL)
			continue;
		json_object_set_new(jd, "duration_minutes",
		    d->kind == LB_DEC_APPROVE ? json_integer(d->duration_minutes) : json_null());
		json_array_append_new(decs, jd);
	}
	int stage = (st == LB_ST_PENDING || st == LB_ST_PENDING_INTERNAL) ?
	    lb_request_current_stage(&view, s, cloud) : -1;
	char fp[9];
	notify_fingerprint(r->id, r->created_ms, fp);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:i, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
	    "id", r->id, "fingerprint", fp, "tenant", r->tenant, "case_id", r->case_id, "requester", r->requester,
	    "workload", r->workload, "resources", res, "justification", r->justification,
	    "status", lb_status_name(st), "duration_minutes", r->duration_minutes,
	    "created_at", json_time(r->created_ms), "pending_expires_at", json_time(r->pending_expires_ms),
	    "internal_required", r->internal_required,
	    "current_stage", stage >= 0 ? json_integer(stage) : json_null(),
	    "decisions", decs,
	    "access_starts_at", json_time(r->access_starts_ms),
	    "access_expires_at", json_time(r->access_expires_ms));
}
