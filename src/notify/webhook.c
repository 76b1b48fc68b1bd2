/*
 * Webhooks: Standard Webhooks signatures, endpoint secrets and delivery.
 *
 * A delivery is a POST of the event's JSON with the three headers of the
 * Standard Webhooks convention: webhook-id (the outbox row id, the same on
 * every retry, so receivers deduplicate on it), webhook-timestamp (seconds
 * of this attempt) and webhook-signature ("v1," + base64 HMAC-SHA256 of
 * "{id}.{timestamp}.{body}" keyed with the secret's bytes).  Any 2xx is a
 * delivery; anything else, or a transport error, is retried.
 *
 * Secrets must be kept to sign, so they cannot be stored as hashes the way
 * API tokens are.  They are stored sealed instead (XSalsa20-Poly1305 with
 * a key in the data directory, DATA_DIR/notify.key, mode 0600): a copy of
 * the database alone does not give them away.  A secret is shown once,
 * when its endpoint is created, and never reaches a log or audit record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "notify/notify.h"

#define SECRET_BYTES    24
#define SEAL_PREFIX     "sb1:"

static uint8_t seal_key[crypto_secretbox_KEYBYTES];
static bool seal_key_set;

/* ------------------------------------------------------------ signatures */

int
notify_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp_s,
    const char *body, size_t body_len, char *out, size_t outlen)
{
	uint8_t key[64], mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char ts[32], b64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	const char *k = secret;
	size_t klen = 0;
	int rc = LB_ERR_INVALID_VALUE;

	if (strncmp(k, "whsec_", 6) == 0)
		k += 6;
	if (sodium_base642bin(key, sizeof(key), k, strlen(k), NULL, &klen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || klen == 0)
		goto out;
	snprintf(ts, sizeof(ts), "%lld", (long long)timestamp_s);
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	if (strlen(b64) + 4 > outlen)
		goto out;
	memcpy(out, "v1,", 3);
	memcpy(out + 3, b64, strlen(b64) + 1);
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
	return rc;
}

void
notify_webhook_secret_new(char *out, size_t len)
{
	uint8_t raw[SECRET_BYTES];
	char b64[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "whsec_%s", b64);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
}

/* --------------------------------------------------------------- sealing */

void
notify_key_set(const uint8_t key[32])
{
	memcpy(seal_key, key, sizeof(seal_key));
	seal_key_set = true;
}

int
notify_key_load(const char *data_dir)
{
	char path[LB_PATH_MAX + 32];
	uint8_t key[crypto_secretbox_KEYBYTES];
	int fd = -1, rc = LB_ERR_UNAVAILABLE;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/notify.key", data_dir) >= sizeof(path))
		return LB_ERR_INVALID_VALUE;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, key, sizeof(key));
		if (n != (ssize_t)sizeof(key))
			goto out;
	} else if (errno == ENOENT) {
		randombytes_buf(key, sizeof(key));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
		    fsync(fd) != 0)
			goto out;
	} else {
		goto out;
	}
	notify_key_set(key);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int
notify_secret_seal(const char *secret, char *out, size_t outlen)
{
	size_t n = strlen(secret);
	uint8_t buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
	    LB_WEBHOOK_SECRET_MAX];
	char b64[sodium_base64_ENCODED_LEN(sizeof(buf), sodium_base64_VARIANT_ORIGINAL)];
	int rc = LB_ERR_INVALID_VALUE;

	if (!seal_key_set)
		return LB_ERR_UNAVAILABLE;
	if (n >= LB_WEBHOOK_SECRET_MAX)
		return LB_ERR_INVALID_VALUE;
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)secret,
	    n, buf, seal_key);
	size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	sodium_bin2base64(b64, sizeof(b64), buf, total, sodium_base64_VARIANT_ORIGINAL);
	if (strlen(b64) + sizeof(SEAL_PREFIX) > outlen)
		goto out;
	memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
	memcpy(out + sizeof(SEAL_PREFIX) - 1, b64, strlen(b64) + 1);
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int
notify_secret_open(const char *sealed, char *out, size_t outlen)
{
	uint8_t buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
	    LB_WEBHOOK_SECRET_MAX];
	uint8_t plain[LB_WEBHOOK_SECRET_MAX];
	size_t n = 0;
	int rc = LB_ERR_UNAVAILABLE;

	if (!seal_key_set)
		return LB_ERR_UNAVAILABLE;
	if (strncmp(sealed, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0)
		return LB_ERR_UNAVAILABLE;
	sealed += sizeof(SEAL_PREFIX) - 1;
	if (sodium_base642bin(buf, sizeof(buf), sealed, strlen(sealed), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		goto out;
	size_t plen = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	if (plen + 1 > outlen ||
	    crypto_secretbox_open_easy(plain, buf + crypto_secretbox_NONCEBYTES,
	    n - crypto_secretbox_NONCEBYTES, buf, seal_key) != 0)
		goto out;
	memcpy(out, plain, plen);
	out[plen] = '\0';
	rc = 0;
out:
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* ------------------------------------------------------------------ URLs */

bool
notify_url_valid(const char *url)
{
	size_t n = strlen(url);
	const char *host;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return false;
	if (n > LB_RESOURCE_MAX || host[0] == '\0' || host[0] == '/' || host[0] == '?')
		return false;
	for (const char *s = url; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' ||
		    *s == '<' || *s == '>' || *s == '\\')
			return false;
	return true;
}

void
notify_url_redact(const char *url, char *out, size_t len)
{
	const char *scheme_end = strstr(url, "://");
	const char *rest = scheme_end ? scheme_end + 3 : url;
	const char *end = rest + strcspn(rest, "/?#");
	const char *at = memchr(rest, '@', (size_t)(end - rest));
	size_t o = 0;

	if (len == 0)
		return;
	/* scheme://host[:port] only: userinfo, path and query may hold secrets. */
	for (const char *s = url; s < rest && o + 1 < len; s++)
		out[o++] = *s;
	if (at != NULL)
		rest = at + 1;
	for (const char *s = rest; s < end && o + 1 < len; s++)
		out[o++] = *s;
	out[o] = '\0';
}

/* ---------------------------------------------------------------- delivery */

static size_t
discard_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	(void)buf;
	(void)arg;
	return size * nmemb;
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

/* Says "out of memory" and goes to the one cleanup label. */
#define nomem_out do { snprintf(err, errlen, "out of memory"); rc = LB_ERR_NOMEM; \
	goto out; } while (0)

int
notify_webhook_post(const char *url, const char *secret, const char *msg_id,
    int64_t timestamp_s, const char *body, long timeout_ms, const atomic_bool *abort,
    char *err, size_t errlen)
{
	struct curl_slist *h = NULL, *nh;
	char line[256], sig[128];
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	int rc = LB_ERR_UNAVAILABLE;

	if (!notify_url_valid(url)) {
		snprintf(err, errlen, "webhook: not an http(s) URL");
		return LB_ERR_INVALID_VALUE;
	}
	if ((c = curl_easy_init()) == NULL)
		nomem_out;
	static const char *const fixed[] = { "Content-Type: application/json",
		"User-Agent: Lockbox-Webhooks/1", "Expect:" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if ((nh = curl_slist_append(h, fixed[i])) == NULL)
			nomem_out;
		h = nh;
	}
	snprintf(line, sizeof(line), "webhook-id: %s", msg_id);
	if ((nh = curl_slist_append(h, line)) == NULL)
		nomem_out;
	h = nh;
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)timestamp_s);
	if ((nh = curl_slist_append(h, line)) == NULL)
		nomem_out;
	h = nh;
	if (secret != NULL && secret[0] != '\0') {
		if (notify_webhook_sign(secret, msg_id, timestamp_s, body, strlen(body), sig,
		    sizeof(sig)) != 0) {
			snprintf(err, errlen, "webhook: the endpoint's secret is unusable");
			rc = LB_ERR_INVALID_VALUE;
			goto out;
		}
		snprintf(line, sizeof(line), "webhook-signature: %s", sig);
		nh = curl_slist_append(h, line);
		sodium_memzero(line, sizeof(line));
		if (nh == NULL)
			nomem_out;
		h = nh;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)(uintptr_t)abort);
	cc = curl_easy_perform(c);
	sodium_memzero(sig, sizeof(sig));
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "webhook: %s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code <= 299) {
		rc = 0;
		goto out;
	}
	snprintf(err, errlen, "webhook: HTTP %ld", code);
out:
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}
