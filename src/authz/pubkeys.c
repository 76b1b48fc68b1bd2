/*
 * The public-key archive: every signing key this daemon has ever used,
 * public half only, kept for as long as the data directory lives.
 *
 * The JWKS (/.well-known/jwks.json) lists only the keys that may still
 * verify grants: a retired key leaves it once every grant it signed has
 * ended, and its secret is deleted.  Audit checkpoints, though, must stay
 * verifiable for the whole retention of the trail (up to ten years), so
 * the public half of every key is kept here, in DATA_DIR/keys/
 * public-keys.json, and published at /.well-known/lockbox-audit-keys.json.
 * Keys are only ever added; the file is rewritten atomically (temp file,
 * fsync, rename, fsync of the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "authz/authz.h"
#include "sys/sys.h"

#define ARCHIVE      "public-keys.json"
#define ARCHIVE_TMP  "public-keys.json.tmp"
#define ARCHIVE_MAX  (1024 * 1024)

struct lb_pubkeys {
	pthread_mutex_t mu;
	int dirfd;              /* borrowed from the keyring */
	json_t *doc;            /* {"keys": [jwk, ...]} */
};

static json_t *
jwk(const char *kid, const unsigned char pk[32], int64_t created_ms)
{
	char x[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char ts[32];

	sodium_bin2base64(x, sizeof(x), pk, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (lb_time_format(created_ms, ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519",
	    "x", x, "kid", kid, "alg", "EdDSA", "use", "sig", "created_at", ts);
}

/* Loads the archive; an absent file is an empty archive. */
static int
load(int dirfd, json_t **out)
{
	json_error_t e;
	json_t *doc, *keys;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = LB_ERR_UNAVAILABLE;

	fd = openat(dirfd, ARCHIVE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return LB_ERR_UNAVAILABLE;
		*out = json_pack("{s:[]}", "keys");
		return *out ? 0 : LB_ERR_NOMEM;
	}
	if ((buf = malloc(ARCHIVE_MAX + 1)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, ARCHIVE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > ARCHIVE_MAX)
			goto out;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	keys = doc ? json_object_get(doc, "keys") : NULL;
	if (!json_is_array(keys)) {
		json_decref(doc);
		log_error("keys_archive_refused", "file=" ARCHIVE " reason=\"not a JWKS\"");
		goto out;
	}
	*out = doc;
	rc = 0;
out:
	close(fd);
	free(buf);
	return rc;
}

static int
save(int dirfd, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	size_t len, off = 0;
	int fd = -1, rc = LB_ERR_UNAVAILABLE;

	if (text == NULL)
		return LB_ERR_NOMEM;
	len = strlen(text);
	unlinkat(dirfd, ARCHIVE_TMP, 0);
	fd = openat(dirfd, ARCHIVE_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, ARCHIVE_TMP, dirfd, ARCHIVE) != 0 || fsync(dirfd) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		log_error("keys_archive_write_failed", "error=\"%s\"", strerror(errno));
		unlinkat(dirfd, ARCHIVE_TMP, 0);
	}
	free(text);
	return rc;
}

int
pubkeys_open(int dirfd, struct lb_pubkeys **out)
{
	struct lb_pubkeys *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return LB_ERR_NOMEM;
	if ((rc = load(dirfd, &p->doc)) != 0) {
		free(p);
		return rc;
	}
	p->dirfd = dirfd;
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

void
pubkeys_close(struct lb_pubkeys *p)
{
	if (p == NULL)
		return;
	json_decref(p->doc);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static json_t *
find(json_t *doc, const char *kid)
{
	json_t *keys = json_object_get(doc, "keys"), *k;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *s = json_string_value(json_object_get(k, "kid"));
		if (s != NULL && strcmp(s, kid) == 0)
			return k;
	}
	return NULL;
}

int
pubkeys_note(struct lb_pubkeys *p, const char *kid, const unsigned char pk[32],
    int64_t created_ms)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (find(p->doc, kid) == NULL) {
		json_t *k = jwk(kid, pk, created_ms);
		if (k == NULL || json_array_append_new(json_object_get(p->doc, "keys"), k) != 0)
			rc = LB_ERR_NOMEM;
		else
			rc = save(p->dirfd, p->doc);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

json_t *
pubkeys_jwks(struct lb_pubkeys *p)
{
	json_t *copy;

	pthread_mutex_lock(&p->mu);
	copy = json_deep_copy(p->doc);
	pthread_mutex_unlock(&p->mu);
	return copy;
}
