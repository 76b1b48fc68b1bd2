/*
 * The access check: GET /v1/authz for nginx auth_request, POST /v1/authz for
 * programmatic gateways, and the public keys that verify grants.
 *
 * The hot path reads no row: the gateway's and engineers' API tokens come
 * from the token cache, a grant's signature is checked once and then
 * remembered by the digest of its text, and the grant's window and
 * resources come from the live grants in memory.  The one thing every
 * decision waits for is its audit record, which the group-commit writer
 * makes durable together with the other decisions of the same instant.
 * If that record cannot be written, the answer is 403: never an allow
 * without its record, and never a 5xx that a proxy might treat as "try
 * elsewhere".
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "audit/batch.h"
#include "http/http.h"

/* A verified grant is remembered this long (its live entry decides anyway). */
#define GRANT_CACHE_MS 60000

struct authz_in {
	const char *cred;               /* the engineer's token text, or NULL */
	bool resolved;
	struct lb_uri_target target;
	enum lb_refusal pre;            /* unmapped or hostile URI */
	const char *method;             /* GET, HEAD, ... */
	const char *uri;                /* the raw URI, for the record; may be NULL */
	char gateway_ip[64];            /* when client_ip came from X-Real-IP */
};

struct authz_out {
	enum lb_refusal reason;
	int status;
	char rid[LB_REQID_MAX + 1];
	struct lb_actor engineer;
	bool identified;
};

/* Identifies the engineer from a grant or an API token. */
static enum lb_refusal
identify(struct lb_ctx *c, const char *cred, struct authz_out *o, bool *is_grant,
    struct lb_grant_seen *seen)
{
	struct lb_app *app = c->app;
	uint8_t digest[32];
	json_t *claims = NULL;
	struct lb_grant_claims *g;

	*is_grant = false;
	if (cred == NULL || cred[0] == '\0')
		return LB_REF_NO_GRANT;
	if (strncmp(cred, LB_TOKEN_PREFIX, strlen(LB_TOKEN_PREFIX)) == 0) {
		if (auth_token(app, cred, &o->engineer) != 0)
			return LB_REF_INVALID_GRANT;
		o->identified = true;
		return LB_REF_NONE;
	}
	size_t len = strnlen(cred, LB_JWS_MAX + 1);
	if (len > LB_JWS_MAX)
		return LB_REF_INVALID_GRANT;
	crypto_hash_sha256(digest, (const unsigned char *)cred, len);
	if (!cache_get(app->grant_cache, digest, seen, clock_mono_ms(), GRANT_CACHE_MS)) {
		if (jws_verify(app->keys, cred, len, c->now_ms, &claims) != 0)
			return LB_REF_INVALID_GRANT;
		if ((g = malloc(sizeof(*g))) == NULL) {
			json_decref(claims);
			return LB_REF_INVALID_GRANT;
		}
		int rc = grant_claims_parse(claims, g);
		json_decref(claims);
		if (rc == 0) {
			memset(seen, 0, sizeof(*seen));
			memcpy(seen->rid, g->rid, sizeof(seen->rid));
			memcpy(seen->tenant, g->tenant, sizeof(seen->tenant));
			memcpy(seen->sub, g->sub, sizeof(seen->sub));
			seen->exp_s = g->exp_s;
		}
		free(g);
		if (rc != 0)
			return LB_REF_INVALID_GRANT;
		cache_put(app->grant_cache, digest, seen, clock_mono_ms());
	}
	memset(&o->engineer, 0, sizeof(o->engineer));
	memcpy(o->engineer.id, seen->sub, sizeof(seen->sub));
	memcpy(o->engineer.realm, LB_PROVIDER_REALM, sizeof(LB_PROVIDER_REALM));
	o->engineer.roles = LB_ROLE_SUPPORT_ENGINEER;
	o->engineer.type = LB_ACTOR_USER;
	memcpy(o->rid, seen->rid, sizeof(o->rid));
	o->identified = true;
	*is_grant = true;
	return LB_REF_NONE;
}

static void
observe(struct lb_app *app, bool allowed, enum lb_refusal r, int64_t us)
{
	static const int64_t bounds_us[] = { 100, 250, 500, 1000, 2500, 5000, 10000, 25000,
		50000, 100000, 250000 };
	size_t b = 0;

	atomic_fetch_add(&app->metrics.authz[allowed ? 1 : 0][r], 1);
	while (b < sizeof(bounds_us) / sizeof(bounds_us[0]) && us > bounds_us[b])
		b++;
	atomic_fetch_add(&app->metrics.authz_duration_bucket[b], 1);
	atomic_fetch_add(&app->metrics.authz_duration_sum_us, (unsigned long long)us);
}

/*
 * One access decision in flight.  It lives from the handler, through the
 * suspended connection while its record waits for the group commit, to
 * the answer; everything the record and the answer need is in here.
 */
struct authz_job {
	struct lb_ctx *c;
	struct lb_actor gateway;
	struct authz_in in;
	struct authz_out o;
	char cred[LB_JWS_MAX + 1];      /* POST: the body's token (GET: a header) */
	enum lb_refusal r;
	bool content, emergency;
	char *text;                     /* the record's details, canonical */
	int64_t started_us;
	int rc;                         /* the commit's result */
};

/* Decides (everything but the record) and prepares the record's details. */
static int
decide_prepare(struct authz_job *j)
{
	struct lb_ctx *c = j->c;
	const struct authz_in *in = &j->in;
	struct authz_out *o = &j->o;
	struct lb_grant_seen seen;
	bool is_grant = false;
	enum lb_refusal r;

	j->content = !in->resolved || in->target.kind == LB_URI_CONTENT;
	memset(o, 0, sizeof(*o));
	r = identify(c, in->cred, o, &is_grant, &seen);
	if (r == LB_REF_NONE && in->pre != LB_REF_NONE)
		r = in->pre;
	bool read = strcmp(in->method, "GET") == 0 || strcmp(in->method, "HEAD") == 0;
	if (r == LB_REF_NONE && !j->content) {
		/* Metadata: any support engineer, by grant or by own token; read only. */
		if (!is_grant && !(strcmp(o->engineer.realm, LB_PROVIDER_REALM) == 0 &&
		    (o->engineer.roles & LB_ROLE_SUPPORT_ENGINEER)))
			r = LB_REF_NOT_ENGINEER;
		else if (!read)
			r = LB_REF_METHOD;
		else if (is_grant && seen.exp_s * 1000 <= c->now_ms)
			r = LB_REF_NOT_LIVE;
	} else if (r == LB_REF_NONE) {
		if (!is_grant)
			r = LB_REF_NO_GRANT;
		else if (!read)
			r = LB_REF_METHOD;
		else
			r = live_check_kind(c->app->live, seen.rid, seen.sub, in->target.tenant,
			    in->target.workload, in->target.path, c->now_ms, &j->emergency);
	}
	j->r = r;

	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}",
	    "kind", j->content ? "content" : "metadata",
	    "resource", in->resolved ? in->target.path : "",
	    "workload", in->resolved ? in->target.workload : "",
	    "method", in->method,
	    "reason", r == LB_REF_NONE ? "" : lb_refusal_name(r),
	    "request_id", o->rid[0] ? json_string(o->rid) : json_null(),
	    "engineer", o->identified ? json_string(o->engineer.id) : json_null(),
	    "gateway", j->gateway.id);
	if (d != NULL && in->gateway_ip[0] != '\0')
		json_object_set_new(d, "gateway_ip", json_string(in->gateway_ip));
	if (d != NULL && in->uri != NULL) {
		char uri[LB_RESOURCE_MAX + 1];
		size_t n = strnlen(in->uri, sizeof(uri) - 1);
		memcpy(uri, in->uri, n);
		uri[n] = '\0';
		/* Stored as data: an invalid UTF-8 URI is recorded as its length only. */
		json_t *u = json_string(uri);
		json_object_set_new(d, "uri", u ? u : json_integer((json_int_t)strlen(in->uri)));
	}
	j->text = d ? audit_json_canonical(d) : NULL;
	json_decref(d);
	/* Emergency ids are "emg_...": still named so once the entry is gone. */
	if (o->rid[0] != '\0' && strncmp(o->rid, LB_EMERGENCY_ID_PREFIX "_",
	    strlen(LB_EMERGENCY_ID_PREFIX) + 1) == 0)
		j->emergency = true;
	return j->text != NULL ? 0 : LB_ERR_NOMEM;
}

/* From the writer thread: the record is durable (rc 0) or failed. */
static void
decide_recorded(void *arg, int rc)
{
	struct authz_job *j = arg;

	j->rc = rc;
	MHD_resume_connection(j->c->conn);
}

/* The record of a job, pointing into the job (valid while it lives). */
static struct lb_audit_event
job_event(const struct authz_job *j, const struct lb_ctx *c, bool *receipt)
{
	const struct authz_in *in = &j->in;
	const struct authz_out *o = &j->o;

	*receipt = in->resolved && o->rid[0] != '\0' && j->content;
	return (struct lb_audit_event){
		.tenant = in->resolved ? in->target.tenant : "",
		.record_type = j->emergency ? LB_RT_EMERGENCY : LB_RT_ACCESS,
		.operation = j->content ? "AccessContent" : "AccessMetadata",
		.actor = o->identified ? &o->engineer : &j->gateway,
		.object_id = o->rid,
		.result = j->r == LB_REF_NONE ? "allowed" : "denied",
		.client_ip = c->client_ip,
		.time_ms = c->now_ms,
	};
}

/* After the connection is suspended: queue the record, or fail at once. */
static void
decide_submit(struct lb_ctx *c)
{
	struct authz_job *j = c->defer;
	bool receipt;
	struct lb_audit_event ev = job_event(j, c, &receipt);
	int rc = auditq_submit(c->app->auditq, &ev, j->text, receipt ? j->o.rid : NULL,
	    receipt ? j->in.target.path : NULL, j->r == LB_REF_NONE, decide_recorded, j);

	if (rc != 0) {
		j->rc = rc;
		MHD_resume_connection(c->conn);
	}
}

static int answer(struct lb_ctx *c, const struct authz_in *in, const struct authz_out *o);

/* When resumed: the answer follows the record's fate. */
static int
decide_finish(struct lb_ctx *c)
{
	struct authz_job *j = c->defer;
	struct authz_out *o = &j->o;
	enum lb_refusal r = j->r;
	int rc;

	if (j->rc != 0) {
		atomic_fetch_add(&c->app->metrics.audit_failures, 1);
		r = LB_REF_AUDIT;
	}
	o->reason = r;
	if (r == LB_REF_NONE)
		o->status = 200;
	else if (r == LB_REF_NO_GRANT && !o->identified)
		o->status = 401;
	else if (r == LB_REF_INVALID_GRANT)
		o->status = 401;
	else
		o->status = 403;
	observe(c->app, r == LB_REF_NONE, r, clock_mono_us() - j->started_us);
	rc = answer(c, &j->in, o);
	c->defer = NULL;
	free(j->text);
	free(j);
	return rc;
}

/*
 * Decides now and answers once the decision's record is durable, without
 * holding a thread meanwhile: the connection is suspended and resumed by
 * the group-commit writer, so every check in flight joins the same batch.
 */
static int
decide(struct lb_ctx *c, const struct lb_actor *gateway, const struct authz_in *in)
{
	struct authz_job *j = calloc(1, sizeof(*j));
	int rc;

	if (j == NULL)
		return LB_ERR_NOMEM;
	j->c = c;
	j->started_us = clock_mono_us();
	j->gateway = *gateway;
	j->in = *in;
	if (in->cred != NULL) {
		size_t n = strnlen(in->cred, sizeof(j->cred));
		if (n < sizeof(j->cred)) {
			memcpy(j->cred, in->cred, n + 1);
			j->in.cred = j->cred;
		} else {
			j->in.cred = "";        /* too long: no usable token */
		}
	}
	if ((rc = decide_prepare(j)) != 0) {
		free(j->text);
		sodium_memzero(j->cred, sizeof(j->cred));
		free(j);
		return rc;
	}
	c->defer = j;
	c->defer_finish = decide_finish;
	if (atomic_load(&c->app->http_draining)) {
		/* Stopping: no new suspension; wait for the record in this thread. */
		bool receipt;
		struct lb_audit_event ev = job_event(j, c, &receipt);
		j->rc = auditq_append(c->app->auditq, &ev, j->text, receipt ? j->o.rid : NULL,
		    receipt ? j->in.target.path : NULL, j->r == LB_REF_NONE);
		return decide_finish(c);
	}
	c->defer_submit = decide_submit;
	return 0;
}

/*
 * nginx's auth_request never reads the body of the answer, so a body costs
 * the keep-alive connection to Lockbox on every check.  A gateway that
 * sends "X-Lockbox-Brief: 1" (the shipped nginx example does) gets the
 * status and the X-Lockbox-Reason header only.
 */
static bool
brief(struct lb_ctx *c)
{
	const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Lockbox-Brief");

	return h != NULL && strcmp(h, "1") == 0;
}

static int
answer(struct lb_ctx *c, const struct authz_in *in, const struct authz_out *o)
{
	json_t *body;

	c->resp_reason = lb_refusal_name(o->reason);
	if (brief(c)) {
		c->status = o->status;
		c->resp_type = "text/plain";
		c->resp_text = strdup("");
		return c->resp_text != NULL ? 0 : LB_ERR_NOMEM;
	}
	if (o->status == 200)
		body = json_pack("{s:s, s:o, s:s, s:s, s:s}", "decision", "allow",
		    "request_id", o->rid[0] ? json_string(o->rid) : json_null(),
		    "engineer", o->engineer.id,
		    "tenant", in->resolved ? in->target.tenant : "",
		    "resource", in->resolved ? in->target.path : "");
	else
		body = json_pack("{s:{s:s, s:s, s:s}}", "error",
		    "code", o->status == 401 ? "unauthenticated" : "access_denied",
		    "message", o->status == 401 ? "a grant (or for metadata, your token) is required" :
		    "access refused by Lockbox",
		    "reason", lb_refusal_name(o->reason));
	return http_reply(c, o->status, body);
}

/* The gateway principal of a GET /v1/authz, from its own header. */
static int
gateway_of(struct lb_ctx *c, struct lb_actor *gw)
{
	const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    "X-Lockbox-Gateway-Token");

	if (h == NULL || auth_token(c->app, h, gw) != 0) {
		c->resp_reason = lb_refusal_name(LB_REF_GATEWAY);
		log_warn("authz", "msg=\"gateway token missing or invalid\" ip=%s", c->client_ip);
		return http_reply(c, 401, json_pack("{s:{s:s, s:s, s:s}}", "error", "code",
		    "unauthenticated", "message", "the gateway's token is missing or invalid",
		    "reason", lb_refusal_name(LB_REF_GATEWAY))) == 0 ? 1 : LB_ERR_NOMEM;
	}
	if (strcmp(gw->realm, LB_PROVIDER_REALM) != 0 || !(gw->roles & LB_ROLE_GATEWAY))
		return LB_ERR_FORBIDDEN;
	return 0;
}

int
h_authz_get(struct lb_ctx *c)
{
	struct authz_in in = { .pre = LB_REF_NONE };
	struct lb_actor gw;
	int rc;

	c->now_ms = clock_now_ms();
	if ((rc = gateway_of(c, &gw)) != 0)
		return rc > 0 ? 0 : rc;
	c->authed = true;
	c->actor = gw;
	const char *uri = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Original-URI");
	const char *method = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    "X-Original-Method");
	const char *authz = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz != NULL && strncmp(authz, "Bearer ", 7) == 0)
		in.cred = authz + 7;
	in.method = method != NULL ? method : "GET";
	if (strlen(in.method) > 16)
		in.method = "INVALID";
	/*
	 * The engineer's address as the gateway saw it.  Trusted only because
	 * the caller is an authenticated gateway; kept only when it parses as
	 * an IPv4 or IPv6 address.  The gateway's own address goes to details.
	 */
	const char *real = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Real-IP");
	unsigned char addr[sizeof(struct in6_addr)];
	if (real != NULL && strlen(real) < sizeof(c->client_ip) &&
	    (inet_pton(AF_INET, real, addr) == 1 || inet_pton(AF_INET6, real, addr) == 1)) {
		memcpy(in.gateway_ip, c->client_ip, sizeof(in.gateway_ip));
		memcpy(c->client_ip, real, strlen(real) + 1);
	}
	in.uri = uri;
	if (uri == NULL) {
		in.pre = LB_REF_UNMAPPED;
	} else {
		rc = lb_uri_resolve(&c->app->uri_map, uri, &in.target);
		if (rc == 0)
			in.resolved = true;
		else
			in.pre = rc == LB_ERR_NOT_FOUND ? LB_REF_UNMAPPED : LB_REF_HOSTILE;
	}
	return decide(c, &gw, &in);
}

int
h_authz_post(struct lb_ctx *c)
{
	static const char *const keys[] = { "token", "tenant", "resource", "action",
		"workload", "kind", NULL };
	char token[LB_JWS_MAX + 1] = "", action[16] = "", kind[16] = "content";
	struct authz_in in = { .pre = LB_REF_NONE };
	json_t *b = NULL;
	int rc;

	if (!auth_provider(c, LB_ROLE_GATEWAY))
		return LB_ERR_FORBIDDEN;
	memset(&in.target, 0, sizeof(in.target));
	if ((rc = json_body(c, &b)) != 0 || (rc = json_only(c, b, keys)) != 0 ||
	    (rc = json_str(c, b, "token", false, token, sizeof(token))) != 0 ||
	    (rc = json_str(c, b, "tenant", true, in.target.tenant, sizeof(in.target.tenant))) != 0 ||
	    (rc = json_str(c, b, "resource", true, in.target.path, sizeof(in.target.path))) != 0 ||
	    (rc = json_str(c, b, "action", true, action, sizeof(action))) != 0 ||
	    (rc = json_str(c, b, "workload", false, in.target.workload,
	    sizeof(in.target.workload))) != 0 ||
	    (rc = json_str(c, b, "kind", false, kind, sizeof(kind))) != 0)
		goto out;
	if (strcmp(action, "read") == 0) {
		in.method = "GET";
	} else if (strcmp(action, "write") == 0) {
		in.method = "POST";
	} else {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "field 'action' must be read or write");
		goto out;
	}
	if (strcmp(kind, "content") == 0) {
		in.target.kind = LB_URI_CONTENT;
	} else if (strcmp(kind, "metadata") == 0) {
		in.target.kind = LB_URI_METADATA;
	} else {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "field 'kind' must be content or metadata");
		goto out;
	}
	if (!lb_tenant_id_valid(in.target.tenant) || !lb_resource_valid(in.target.path) ||
	    (in.target.workload[0] != '\0' && !lb_workload_valid(in.target.workload))) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE,
		    "tenant, resource or workload is not valid (resource paths: see docs/api.md)");
		goto out;
	}
	in.resolved = true;
	in.cred = token[0] ? token : NULL;
	struct lb_actor gw = c->actor;
	rc = decide(c, &gw, &in);
out:
	sodium_memzero(token, sizeof(token));
	json_decref(b);
	return rc;
}

int
h_jwks(struct lb_ctx *c)
{
	return http_reply(c, 200, keys_jwks(c->app->keys, c->now_ms));
}

int
h_audit_keys(struct lb_ctx *c)
{
	return http_reply(c, 200, keys_audit_jwks(c->app->keys));
}

int
h_keys_rotate(struct lb_ctx *c)
{
	char kid[LB_KID_MAX + 1];
	struct lb_tx *tx = NULL;
	json_t *d = NULL;
	int rc;

	if (!auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return LB_ERR_FORBIDDEN;
	/* Record first: a rotation that cannot be recorded does not happen. */
	if ((rc = store_begin(c->app->store, true, &tx)) != 0)
		return rc;
	if ((rc = keys_rotate(c->app->keys, c->now_ms, kid)) != 0)
		goto out;
	d = json_pack("{s:s, s:o}", "kid", kid, "created_at", json_time(c->now_ms));
	if ((rc = http_audit(c, tx, "", LB_RT_ADMIN, "RotateSigningKey", kid, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		log_info("keys", "msg=\"signing key rotated\" kid=%s", kid);
		rc = http_reply(c, 200, json_incref(d));
	}
out:
	store_rollback(tx);
	json_decref(d);
	return rc;
}
