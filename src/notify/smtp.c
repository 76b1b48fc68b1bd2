/*
 * Email delivery over SMTP with libcurl.
 *
 * One message, one envelope recipient, one connection: the outbox holds one
 * row per recipient, so a bad address fails its own row and never the
 * others.  smtp:// may be upgraded with STARTTLS (required when
 * --smtp-starttls is set: CURLOPT_USE_SSL = CURLUSESSL_ALL); smtps:// is
 * TLS from the first byte.  AUTH uses user:pass from the URL (libcurl reads
 * it there) or --smtp-user / --smtp-password.  libcurl escapes a line that
 * starts with "." itself, so the message needs no dot-stuffing here.
 *
 * Errors are reported as libcurl's fixed text plus the SMTP reply code:
 * never the URL (it may hold a password) and never a reply text the
 * server chose.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "notify/notify.h"

struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb;

	if (n > r->left)
		n = r->left;
	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

static int
progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const atomic_bool *abort_flag = arg;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return abort_flag != NULL && atomic_load(abort_flag) ? 1 : 0;
}

/* No output from libcurl on stdout: replies are not kept. */
static size_t
discard_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nmemb;
}

int
notify_smtp_send(const struct lb_smtp_cfg *cfg, const char *from, const char *to,
    const char *message, char *err, size_t errlen)
{
	struct reader rd = { .p = message, .left = strlen(message) };
	struct curl_slist *rcpt = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	int rc = LB_ERR_UNAVAILABLE;

	if (cfg->url == NULL || (strncmp(cfg->url, "smtp://", 7) != 0 &&
	    strncmp(cfg->url, "smtps://", 8) != 0)) {
		snprintf(err, errlen, "smtp-url must be smtp:// or smtps://");
		return LB_ERR_INVALID_VALUE;
	}
	if ((c = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, to)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = LB_ERR_NOMEM;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg->timeout_ms < 5000 ? cfg->timeout_ms :
	    5000L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)cfg->abort);
	if (cfg->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (cfg->user != NULL && cfg->user[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK) {
		rc = 0;
		goto out;
	}
	if (code != 0)
		snprintf(err, errlen, "smtp: %s (reply %ld)", curl_easy_strerror(cc), code);
	else
		snprintf(err, errlen, "smtp: %s", curl_easy_strerror(cc));
out:
	curl_slist_free_all(rcpt);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}
