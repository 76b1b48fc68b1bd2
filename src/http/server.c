/*
 * libmicrohttpd glue: accept, read a bounded body, route, answer.
 *
 * The body of a call is read into a buffer of at most LB_BODY_MAX bytes; a
 * declared Content-Length beyond it is answered 413 before the body is
 * read, and a chunked body that grows past it is discarded and answered
 * 413.  libmicrohttpd's own percent-decoding of the path is turned off so
 * that "%2F" can never become a path separator: the router splits the raw
 * path on '/' and decodes each segment on its own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "http/http.h"

struct route {
	const char *method;
	const char *pattern;    /* "{}" captures one segment */
	int (*fn)(struct lb_ctx *c);
	bool auth;              /* needs a bearer token */
};

static const struct route routes[] = {
	{ "GET", "/healthz", h_healthz, false },
	{ "GET", "/readyz", h_readyz, false },
	{ "GET", "/metrics", h_metrics, false },
	{ "GET", "/v1/me", h_me, true },
	{ "POST", "/v1/tenants", h_tenant_create, true },
	{ "GET", "/v1/tenants", h_tenant_list, true },
	{ "GET", "/v1/tenants/{}", h_tenant_get, true },
	{ "GET", "/v1/provider/settings", h_provider_settings_get, true },
	{ "PATCH", "/v1/provider/settings", h_provider_settings_patch, true },
	{ "POST", "/v1/users", h_user_create, true },
	{ "GET", "/v1/users", h_user_list, true },
	{ "GET", "/v1/users/{}/{}", h_user_get, true },
	{ "POST", "/v1/users/{}/{}/tokens", h_token_create, true },
	{ "GET", "/v1/users/{}/{}/tokens", h_token_list, true },
	{ "DELETE", "/v1/tokens/{}", h_token_revoke, true },
	{ "GET", "/v1/tenants/{}/lockbox/settings", h_settings_get, true },
	{ "PATCH", "/v1/tenants/{}/lockbox/settings", h_settings_patch, true },
	{ "POST", "/v1/tenants/{}/cases", h_case_create, true },
	{ "GET", "/v1/tenants/{}/cases", h_case_list, true },
	{ "GET", "/v1/tenants/{}/cases/{}", h_case_get, true },
	{ "POST", "/v1/tenants/{}/cases/{}/assign", h_case_assign, true },
	{ "POST", "/v1/tenants/{}/cases/{}/close", h_case_close, true },
	{ "POST", "/v1/tenants/{}/requests", h_request_create, true },
	{ "GET", "/v1/tenants/{}/requests", h_request_list_tenant, true },
	{ "GET", "/v1/tenants/{}/requests/{}", h_request_get, true },
	{ "POST", "/v1/tenants/{}/requests/{}/approve", h_request_approve, true },
	{ "POST", "/v1/tenants/{}/requests/{}/deny", h_request_deny, true },
	{ "POST", "/v1/tenants/{}/requests/{}/revoke", h_request_revoke, true },
	{ "POST", "/v1/tenants/{}/requests/{}/cancel", h_request_cancel, true },
	{ "GET", "/v1/tenants/{}/requests/{}/grant", h_request_grant, true },
	{ "GET", "/v1/requests", h_request_list_all, true },
	{ "GET", "/v1/authz", h_authz_get, false },
	{ "POST", "/v1/authz", h_authz_post, true },
	{ "GET", "/.well-known/jwks.json", h_jwks, false },
	{ "GET", "/.well-known/lockbox-audit-keys.json", h_audit_keys, false },
	{ "POST", "/v1/keys/rotate", h_keys_rotate, true },
	{ "GET", "/v1/tenants/{}/notifications", h_notification_list_tenant, true },
	{ "GET", "/v1/notifications", h_notification_list_all, true },
	{ "POST", "/v1/tenants/{}/webhooks", h_webhook_create_tenant, true },
	{ "GET", "/v1/tenants/{}/webhooks", h_webhook_list_tenant, true },
	{ "DELETE", "/v1/tenants/{}/webhooks/{}", h_webhook_delete_tenant, true },
	{ "POST", "/v1/provider/webhooks", h_webhook_create_provider, true },
	{ "GET", "/v1/provider/webhooks", h_webhook_list_provider, true },
	{ "DELETE", "/v1/provider/webhooks/{}", h_webhook_delete_provider, true },
	{ "GET", "/v1/tenants/{}/audit", h_audit_search, true },
	{ "GET", "/v1/tenants/{}/audit/export", h_audit_export, true },
	{ "GET", "/v1/tenants/{}/audit/verify", h_audit_verify, true },
	{ "GET", "/v1/tenants/{}/audit/checkpoints", h_audit_checkpoints_list, true },
	{ "POST", "/v1/tenants/{}/audit/checkpoints", h_audit_checkpoints_create, true },
	{ "GET", "/v1/provider/audit", h_provider_audit_search, true },
	{ "GET", "/v1/provider/audit/export", h_provider_audit_export, true },
	{ "GET", "/v1/provider/audit/verify", h_provider_audit_verify, true },
	{ "GET", "/v1/provider/audit/checkpoints", h_provider_audit_checkpoints_list, true },
	{ "POST", "/v1/provider/audit/checkpoints", h_provider_audit_checkpoints_create, true },
	/* Break-glass (emergency.c). */
	{ "POST", "/v1/incidents", h_incident_create, true },
	{ "GET", "/v1/incidents", h_incident_list, true },
	{ "GET", "/v1/incidents/{}", h_incident_get, true },
	{ "POST", "/v1/incidents/{}/close", h_incident_close, true },
	{ "POST", "/v1/emergency-access", h_emergency_create, true },
	{ "GET", "/v1/emergency-access", h_emergency_list_all, true },
	{ "GET", "/v1/emergency-access/{}", h_emergency_get, true },
	{ "POST", "/v1/emergency-access/{}/approve", h_emergency_approve, true },
	{ "POST", "/v1/emergency-access/{}/end", h_emergency_end, true },
	{ "GET", "/v1/emergency-access/{}/grant", h_emergency_grant, true },
	{ "POST", "/v1/emergency-access/{}/review", h_emergency_review, true },
	{ "GET", "/v1/tenants/{}/emergency-access", h_emergency_list_tenant, true },
	{ "GET", "/v1/tenants/{}/emergency-access/{}", h_emergency_get_tenant, true },
	{ "POST", "/v1/tenants/{}/emergency-access/{}/object", h_emergency_object, true },
	/* Console sign-in (session.c); GET and DELETE are the cookie's own calls. */
	{ "POST", "/v1/session", h_session_create, false },
	{ "GET", "/v1/session", h_session_get, true },
	{ "DELETE", "/v1/session", h_session_delete, true },
	{ "POST", "/v1/users/{}/{}/password", h_password_set, true },
};

/* Per-connection state while a body arrives. */
struct conn_state {
	struct lb_ctx *deferred;        /* a suspended call waiting for its answer */
	char *buf;
	size_t len;
	bool too_large;
	int64_t started_mono;
};

/*
 * Percent-decodes [s, s+n) into dst (cap bytes with NUL).  Refuses bad
 * escapes, NUL and control characters, and '/'.  Returns 0 or -1.
 */
static int
decode_segment(const char *s, size_t n, char *dst, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '%') {
			if (i + 2 >= n)
				return -1;
			int h = lb_hex_digit(s[i + 1]), l = lb_hex_digit(s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			ch = (unsigned char)(h * 16 + l);
			i += 2;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '/')
			return -1;
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return 0;
}

/*
 * Matches `path` against `pattern`, capturing {} segments into c->params.
 * Returns true on a match.
 */
static bool
match(const char *pattern, const char *path, struct lb_ctx *c)
{
	size_t np = 0;

	while (*pattern == '/' && *path == '/') {
		pattern++;
		path++;
		const char *pe = strchr(pattern, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
		size_t sl = se ? (size_t)(se - path) : strlen(path);
		if (pl == 2 && memcmp(pattern, "{}", 2) == 0) {
			if (sl == 0 || np >= LB_PARAMS_MAX ||
			    decode_segment(path, sl, c->params[np], sizeof(c->params[0])) != 0)
				return false;
			np++;
		} else if (pl != sl || memcmp(pattern, path, pl) != 0) {
			return false;
		}
		pattern += pl;
		path += sl;
	}
	if (*pattern != '\0' || *path != '\0')
		return false;
	c->nparams = np;
	return true;
}

static void
metrics_observe(struct lb_app *app, int status, int64_t us)
{
	static const int64_t bounds_us[] = { 500, 1000, 2500, 5000, 10000, 25000,
		50000, 100000, 250000, 500000, 1000000 };
	int cls = status / 100;

	atomic_fetch_add(&app->metrics.http_requests[cls >= 1 && cls <= 5 ? cls : 0], 1);
	size_t b = 0;
	while (b < sizeof(bounds_us) / sizeof(bounds_us[0]) && us > bounds_us[b])
		b++;
	atomic_fetch_add(&app->metrics.http_duration_bucket[b], 1);
	atomic_fetch_add(&app->metrics.http_duration_sum_us, (unsigned long long)us);
}

static enum MHD_Result
send_answer(struct lb_ctx *c)
{
	struct MHD_Response *resp;
	char *text = NULL;
	const char *type = c->resp_type ? c->resp_type : "application/json";
	enum MHD_Result ret;

	if (c->resp_stream != NULL) {
		/* A streamed answer (audit export) carries its own headers. */
		ret = MHD_queue_response(c->conn, (unsigned)c->status, c->resp_stream);
		MHD_destroy_response(c->resp_stream);
		c->resp_stream = NULL;
		return ret;
	}
	if (c->resp_text != NULL) {
		text = c->resp_text;
		c->resp_text = NULL;
	} else {
		text = json_dumps(c->resp ? c->resp : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (c->resp_reason != NULL && c->resp_reason[0] != '\0')
		MHD_add_response_header(resp, "X-Lockbox-Reason", c->resp_reason);
	ret = MHD_queue_response(c->conn, (unsigned)c->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
set_error(struct lb_ctx *c, int err)
{
	json_decref(c->resp);
	free(c->resp_text);
	c->resp_text = NULL;
	c->resp_type = NULL;
	if (c->resp_stream != NULL)
		MHD_destroy_response(c->resp_stream);
	c->resp_stream = NULL;
	c->status = lb_err_http_status(err);
	c->resp = json_pack("{s:{s:s, s:s}}", "error", "code", lb_err_code(err),
	    "message", c->errmsg[0] ? c->errmsg : lb_err_message(err));
}

static void
client_address(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	buf[0] = '\0';
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ci->client_addr;
		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
	} else if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ci->client_addr;
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len);
	}
}

static void
dispatch(struct lb_ctx *c)
{
	const struct route *found = NULL;
	bool path_known = false;
	const char *q = strchr(c->url, '?');
	char path[LB_HEADER_MAX];
	size_t plen = q ? (size_t)(q - c->url) : strlen(c->url);
	int rc;

	if (plen >= sizeof(path)) {
		set_error(c, LB_ERR_NO_ROUTE);
		return;
	}
	memcpy(path, c->url, plen);
	path[plen] = '\0';
	/* The console's static files (console.c): a prefix, not whole segments. */
	if (console_path(path)) {
		c->now_ms = clock_now_ms();
		if ((rc = h_console(c, path)) != 0)
			set_error(c, rc);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, path, c))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, c->method) == 0) {
			found = &routes[i];
			break;
		}
	}
	if (found == NULL) {
		set_error(c, path_known ? LB_ERR_METHOD : LB_ERR_NO_ROUTE);
		return;
	}
	/* Re-match: a later pattern may have overwritten the captures. */
	match(found->pattern, path, c);
	c->now_ms = clock_now_ms();
	if (found->auth && (rc = auth_bearer(c)) != 0) {
		set_error(c, rc);
		return;
	}
	rc = found->fn(c);
	if (rc != 0)
		set_error(c, rc);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct lb_app *app = cls;
	struct conn_state *st = *con_cls;
	struct lb_ctx *c = NULL;
	(void)version;

	if (st != NULL && st->deferred != NULL) {
		/* Resumed: the deferred work is done; build and send the answer. */
		c = st->deferred;
		st->deferred = NULL;
		atomic_fetch_sub(&app->deferred_inflight, 1);
		int rc = c->defer_finish(c);
		if (rc != 0)
			set_error(c, rc);
		goto answer;
	}
	if (st == NULL) {
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		st->started_mono = clock_mono_us();
		*con_cls = st;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			unsigned long long n = strtoull(cl, &end, 10);
			if (end == cl || *end != '\0' || n > LB_BODY_MAX)
				st->too_large = true;
		}
		if (!st->too_large)
			return MHD_YES;
		/* Answer 413 at once, without reading the body. */
	} else if (*upload_data_size > 0) {
		if (!st->too_large) {
			if (st->len + *upload_data_size > LB_BODY_MAX) {
				st->too_large = true;
				free(st->buf);
				st->buf = NULL;
				st->len = 0;
			} else {
				char *nb = realloc(st->buf, st->len + *upload_data_size + 1);
				if (nb == NULL)
					return MHD_NO;
				memcpy(nb + st->len, upload_data, *upload_data_size);
				st->buf = nb;
				st->len += *upload_data_size;
				st->buf[st->len] = '\0';
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MHD_NO;
	c->app = app;
	c->conn = conn;
	c->method = method;
	c->url = url;
	c->body = st->buf ? st->buf : "";
	c->body_len = st->len;
	client_address(conn, c->client_ip, sizeof(c->client_ip));
	if (st->too_large)
		set_error(c, LB_ERR_TOO_LARGE);
	else
		dispatch(c);
	if (c->defer_submit != NULL && c->resp == NULL && c->resp_text == NULL) {
		void (*submit)(struct lb_ctx *) = c->defer_submit;
		c->defer_submit = NULL;
		st->deferred = c;
		atomic_fetch_add(&app->deferred_inflight, 1);
		MHD_suspend_connection(conn);
		submit(c);
		return MHD_YES;
	}
answer:;
	int64_t us = clock_mono_us() - st->started_mono;
	metrics_observe(app, c->status, us);
	/* Access checks are on the audit trail; a log line each would only cost. */
	if (c->status >= 500 || (strncmp(url, "/v1/", 4) == 0 &&
	    strncmp(url, "/v1/authz", 9) != 0))
		log_info("http", "method=%s path=%.200s status=%d ms=%lld actor=%s/%s ip=%s",
		    method, url, c->status, (long long)(us / 1000),
		    c->authed ? c->actor.realm : "-", c->authed ? c->actor.id : "-", c->client_ip);
	enum MHD_Result ret = send_answer(c);
	json_decref(c->resp);
	free(c->resp_text);
	free(c);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;

	if (st != NULL) {
		free(st->buf);
		free(st);
		*con_cls = NULL;
	}
}

/* Keeps the raw path: the router decodes segment by segment. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int
parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
		return -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
		return -1;
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (void *)ss;
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (void *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		memcpy(host, "127.0.0.1", 10);
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
}

struct MHD_Daemon *
http_start(struct lb_app *app, const char *listen, long threads)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME;

	if (parse_listen(listen, &ss) != 0) {
		log_error("http", "msg=\"cannot parse listen address\" listen=%s", listen);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, app,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		log_error("http", "msg=\"cannot listen\" listen=%s", listen);
	return d;
}

void
http_stop(struct lb_app *app, struct MHD_Daemon *d)
{
	if (d == NULL)
		return;
	atomic_store(&app->http_draining, true);
	MHD_quiesce_daemon(d);
	for (int i = 0; i < 1000 && atomic_load(&app->deferred_inflight) > 0; i++) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&app->deferred_inflight) > 0)
		log_error("stop", "msg=\"access checks still waiting for their records\" n=%d",
		    atomic_load(&app->deferred_inflight));
	MHD_stop_daemon(d);
}
