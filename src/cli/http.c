/*
 * The CLI's only door to the network: a thin libcurl wrapper that sends one
 * call of docs/api.md and collects the answer.
 *
 * It exists to keep the few rules about talking to the daemon in one
 * place: only http and https; no redirects (a redirect could carry the
 * bearer token elsewhere); the token is sent as `Authorization: Bearer`
 * and never printed, and the URL shown in messages has any user:password
 * removed; an answer larger than CLI_RESPONSE_MAX is refused rather than
 * held in memory; bodies are jansson values serialised here, never text
 * pasted together.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"

#define CONNECT_TIMEOUT_S 10L
#define TOTAL_TIMEOUT_S   120L

struct cli_http {
	CURL *curl;
	char *base;             /* without a trailing '/' */
	char *shown;            /* base without credentials, for messages */
	const char *token;      /* not owned; NULL: send none */
	char errbuf[CURL_ERROR_SIZE];
};

struct sink {
	struct cli_buf buf;
	bool too_big;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (n > CLI_RESPONSE_MAX - s->buf.len) {
		s->too_big = true;
		return 0;
	}
	cli_buf_addn(&s->buf, ptr, n);
	return s->buf.bad ? 0 : n;
}

/* The base URL with user and password removed, for messages. */
static char *
redact_url(const char *url)
{
	CURLU *u = curl_url();
	char *got = NULL, *out = NULL;

	if (u == NULL)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &got, 0) != CURLUE_OK)
		goto out;
	out = strdup(got);
out:
	curl_free(got);
	curl_url_cleanup(u);
	return out;
}

static int
oom(void)
{
	fprintf(stderr, "lockbox: out of memory\n");
	return CLI_EXIT_OTHER;
}

int
cli_http_new(const char *base_url, const char *token, struct cli_http **out)
{
	struct cli_http *h = NULL;
	size_t n = strlen(base_url);
	int rc = CLI_EXIT_OTHER;

	if ((strncmp(base_url, "http://", 7) != 0 &&
	    strncmp(base_url, "https://", 8) != 0) ||
	    strpbrk(base_url, "?# \t\r\n") != NULL || n > 2048) {
		fprintf(stderr, "lockbox: the URL must be http:// or https:// "
		    "followed by a host, without query or spaces\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		rc = oom();
		goto out;
	}
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	if ((h->base = strndup(base_url, n)) == NULL) {
		rc = oom();
		goto out;
	}
	if ((h->shown = redact_url(h->base)) == NULL) {
		fprintf(stderr, "lockbox: the URL is not valid\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((h->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "lockbox: cannot initialise libcurl\n");
		goto out;
	}
	h->token = token;
	*out = h;
	h = NULL;
	rc = CLI_EXIT_OK;
out:
	cli_http_free(h);
	return rc;
}

void
cli_http_free(struct cli_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->base);
	free(h->shown);
	free(h);
}

void
cli_resp_free(struct cli_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void
cli_http_escape(struct cli_http *h, struct cli_buf *b, const char *s)
{
	char *e;

	/* "." and ".." are left as they are by curl_easy_escape and would
	 * then be removed as dot-segments, changing the route. */
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		cli_buf_add(b, s[1] == '\0' ? "%2E" : "%2E%2E");
		return;
	}
	if ((e = curl_easy_escape(h->curl, s, 0)) == NULL) {
		b->bad = true;
		return;
	}
	cli_buf_add(b, e);
	curl_free(e);
}

/* Wipes and frees a header list that may hold the bearer token. */
static void
free_headers(struct curl_slist *hdrs)
{
	for (struct curl_slist *l = hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
}

/* Appends the headers of one call; false when out of memory. */
static bool
add_headers(const struct cli_http *h, bool has_body, struct curl_slist **hdrs)
{
	struct cli_buf auth;
	struct curl_slist *l = *hdrs, *n;
	bool ok = false;

	cli_buf_init(&auth, 4096);
	if ((n = curl_slist_append(l, "Accept: application/json")) == NULL)
		goto out;
	l = n;
	/* curl would otherwise wait for "100 Continue" on larger bodies. */
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto out;
	l = n;
	if (has_body) {
		n = curl_slist_append(l, "Content-Type: application/json");
		if (n == NULL)
			goto out;
		l = n;
	}
	if (h->token != NULL) {
		cli_buf_add(&auth, "Authorization: Bearer ");
		cli_buf_add(&auth, h->token);
		if (auth.bad || (n = curl_slist_append(l, auth.p)) == NULL)
			goto out;
		l = n;
	}
	ok = true;
out:
	*hdrs = l;
	if (auth.p != NULL)
		explicit_bzero(auth.p, auth.len);
	cli_buf_free(&auth);
	return ok;
}

int
cli_http_call(struct cli_http *h, const char *method, const char *target,
    const json_t *body, struct cli_resp *out)
{
	struct cli_buf url;
	struct sink sink;
	struct curl_slist *hdrs = NULL;
	char *json = NULL;
	CURL *c = h->curl;
	CURLcode cc;
	long status = 0;
	int rc = CLI_EXIT_TRANSPORT;

	cli_buf_init(&url, CLI_URL_MAX);
	cli_buf_init(&sink.buf, CLI_RESPONSE_MAX);
	sink.too_big = false;
	cli_buf_add(&url, h->base);
	cli_buf_add(&url, target);
	if (url.bad) {
		fprintf(stderr, "lockbox: the request URL is too long\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((body != NULL && (json = json_dumps(body, JSON_COMPACT)) == NULL) ||
	    !add_headers(h, body != NULL, &hdrs)) {
		rc = oom();
		goto out;
	}

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url.p);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TOTAL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lockbox/" LOCKBOX_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)CLI_RESPONSE_MAX);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (json != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(json));
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0 || json == NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

	cc = curl_easy_perform(c);
	if (sink.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		fprintf(stderr, "lockbox: the answer from %s is larger than "
		    "%u MiB; refused\n", h->shown, CLI_RESPONSE_MAX >> 20);
		goto out;
	}
	if (cc != CURLE_OK && !sink.buf.bad) {
		fprintf(stderr, "lockbox: cannot reach %s: %s\n", h->shown,
		    h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (sink.buf.p == NULL)
		cli_buf_add(&sink.buf, "");
	if (sink.buf.bad) {
		rc = oom();
		goto out;
	}
	out->status = status;
	out->body = sink.buf.p;
	out->len = sink.buf.len;
	sink.buf.p = NULL;
	rc = CLI_EXIT_OK;
out:
	/* The handle keeps a pointer to the list: drop it before freeing. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	free_headers(hdrs);
	free(json);
	cli_buf_free(&sink.buf);
	cli_buf_free(&url);
	return rc;
}

/* Where a download's bytes go: the file for 2xx, a bounded buffer else. */
struct dl_sink {
	CURL *curl;
	FILE *out;
	struct sink err;
	unsigned long long bytes;
	bool write_failed;
};

static size_t
on_download(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct dl_sink *s = ud;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return on_data(ptr, size, nmemb, &s->err);
	if (fwrite(ptr, 1, n, s->out) != n) {
		s->write_failed = true;
		return 0;
	}
	s->bytes += n;
	return n;
}

int
cli_http_download(struct cli_http *h, const char *target, FILE *out,
    struct cli_resp *err, unsigned long long *bytes)
{
	struct cli_buf url;
	struct dl_sink sink;
	struct curl_slist *hdrs = NULL;
	CURL *c = h->curl;
	CURLcode cc;
	long status = 0;
	int rc = CLI_EXIT_TRANSPORT;

	memset(&sink, 0, sizeof(sink));
	sink.curl = c;
	sink.out = out;
	cli_buf_init(&url, CLI_URL_MAX);
	cli_buf_init(&sink.err.buf, CLI_RESPONSE_MAX);
	cli_buf_add(&url, h->base);
	cli_buf_add(&url, target);
	if (url.bad) {
		fprintf(stderr, "lockbox: the request URL is too long\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (!add_headers(h, false, &hdrs)) {
		rc = oom();
		goto out;
	}
	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url.p);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* An export may take long; one that stalls for a minute is dead. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "lockbox/" LOCKBOX_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_download);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);

	cc = curl_easy_perform(c);
	if (sink.write_failed) {
		fprintf(stderr, "lockbox: cannot write the output\n");
		rc = CLI_EXIT_OTHER;
		goto out;
	}
	if (sink.err.too_big) {
		fprintf(stderr, "lockbox: the error answer from %s is too large\n", h->shown);
		goto out;
	}
	if (cc != CURLE_OK) {
		fprintf(stderr, "lockbox: the answer from %s was cut short: %s\n", h->shown,
		    h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (sink.err.buf.p == NULL)
		cli_buf_add(&sink.err.buf, "");
	if (sink.err.buf.bad) {
		rc = oom();
		goto out;
	}
	err->status = status;
	err->body = sink.err.buf.p;
	err->len = sink.err.buf.len;
	sink.err.buf.p = NULL;
	if (bytes != NULL)
		*bytes = sink.bytes;
	rc = CLI_EXIT_OK;
out:
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	free_headers(hdrs);
	cli_buf_free(&sink.err.buf);
	cli_buf_free(&url);
	return rc;
}
