/*
 * The daemon's Ed25519 signing keys: the key ring that signs grants and
 * verifies them, kept on disk in DATA_DIR/keys/.
 *
 * One key is one file "<kid>.key" (mode 0600, in a directory of mode 0700,
 * both owned by the daemon's user), a few lines of text:
 *
 *     lockbox-ed25519-key 1
 *     created_ms 1767225600000
 *     retired_ms 0
 *     secret <128 lowercase hex digits: libsodium's 64-byte secret key>
 *
 * The metadata lives in the key's own file, so a key and its state are
 * written together by one atomic rename (temp file, fsync, rename, fsync of
 * the directory) and there is no index that can disagree with the keys.
 * The kid is the first 16 characters of base64url(SHA-256(public key)):
 * derived from the key, so it is checked against the file name on load.
 * A file or directory that group or others can reach, that is not ours, or
 * that does not parse exactly, stops the daemon (LB_ERR_UNAVAILABLE, with
 * the reason logged, never the content): a signing key that someone else
 * could have read or written is not a key to trust.
 *
 * In memory the secret keys live in sodium_malloc'd pages (guarded, locked
 * against swapping) and are wiped on close.  A pthread rwlock protects the
 * ring: signing and verifying take it shared, rotation exclusive.
 *
 * Retired keys keep verifying, and stay in the JWKS, until their
 * retired_ms + LB_KEY_GRACE_MS; after that they are neither used nor
 * published, and their files are deleted at the next open or rotation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "authz/authz.h"
#include "sys/sys.h"

#define KEYS_MAX        32      /* live keys held at once */
#define KID_LEN         16
#define KID_HASH_BYTES  12      /* 12 bytes: exactly 16 base64url characters */
#define KEY_FILE_MAX    512     /* a key file is about 220 bytes */
#define KEY_MAGIC       "lockbox-ed25519-key 1\n"
#define KEY_SUFFIX      ".key"
#define TMP_SUFFIX      ".key.tmp"

struct key {
	char kid[LB_KID_MAX + 1];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char *sk;      /* sodium_malloc'd, crypto_sign_SECRETKEYBYTES */
	int64_t created_ms;
	int64_t retired_ms;     /* 0 for the current key */
};

struct lb_keyring {
	pthread_rwlock_t lock;
	int dirfd;              /* DATA_DIR/keys, held open for the ring's life */
	struct key keys[KEYS_MAX];
	size_t n;
	size_t current;         /* index into keys */
	struct lb_pubkeys *archive;     /* every public key ever used */
};

/* ------------------------------------------------------------- one key */

static void
key_wipe(struct key *k)
{
	if (k->sk != NULL) {
		sodium_memzero(k->sk, crypto_sign_SECRETKEYBYTES);
		sodium_free(k->sk);
	}
	sodium_memzero(k, sizeof(*k));
}

static bool
key_live(const struct key *k, int64_t now_ms)
{
	return k->retired_ms == 0 || k->retired_ms + LB_KEY_GRACE_MS > now_ms;
}

static void
kid_derive(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
    char kid[LB_KID_MAX + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pk, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2base64(kid, LB_KID_MAX + 1, h, KID_HASH_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool
kid_shaped(const char *s, size_t len)
{
	if (len != KID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Takes the literal `lit` at *p, or fails. */
static bool
take_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* A decimal int64 of 1..18 digits ended by '\n' (taken too). */
static bool
take_i64(const char **p, const char *end, int64_t *out)
{
	int64_t v = 0;
	size_t digits = 0;
	const char *q = *p;

	while (q < end && *q >= '0' && *q <= '9' && digits < 18) {
		v = v * 10 + (*q - '0');
		q++;
		digits++;
	}
	if (digits == 0 || q >= end || *q != '\n')
		return false;
	*p = q + 1;
	*out = v;
	return true;
}

/*
 * Parses a key file's text into k (whose sk is allocated) and checks the
 * secret against itself: the public half stored in libsodium's secret key
 * must be the one its seed makes.
 */
static int
key_parse(const char *buf, size_t len, struct key *k)
{
	const char *p = buf, *end = buf + len, *hex_end = NULL;
	unsigned char pk2[crypto_sign_PUBLICKEYBYTES];
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char *sk2 = NULL;
	size_t bin_len = 0;
	int rc = LB_ERR_UNAVAILABLE;

	if (!take_lit(&p, end, KEY_MAGIC) ||
	    !take_lit(&p, end, "created_ms ") || !take_i64(&p, end, &k->created_ms) ||
	    !take_lit(&p, end, "retired_ms ") || !take_i64(&p, end, &k->retired_ms) ||
	    !take_lit(&p, end, "secret "))
		goto out;
	if ((size_t)(end - p) != 2 * crypto_sign_SECRETKEYBYTES + 1 || end[-1] != '\n')
		goto out;
	if (sodium_hex2bin(k->sk, crypto_sign_SECRETKEYBYTES, p,
	    2 * crypto_sign_SECRETKEYBYTES, NULL, &bin_len, &hex_end) != 0 ||
	    bin_len != crypto_sign_SECRETKEYBYTES || hex_end != end - 1)
		goto out;
	if ((sk2 = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
	if (crypto_sign_seed_keypair(pk2, sk2, seed) != 0 ||
	    sodium_memcmp(sk2, k->sk, crypto_sign_SECRETKEYBYTES) != 0)
		goto out;
	memcpy(k->pk, pk2, sizeof(pk2));
	kid_derive(k->pk, k->kid);
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	if (sk2 != NULL)
		sodium_free(sk2);
	return rc;
}

/* Formats k's file text into buf (sodium_malloc'd by the caller). */
static int
key_format(const struct key *k, char *buf, size_t cap, size_t *out_len)
{
	int n = snprintf(buf, cap, KEY_MAGIC "created_ms %lld\nretired_ms %lld\nsecret ",
	    (long long)k->created_ms, (long long)k->retired_ms);
	size_t o;

	if (n < 0 || (size_t)n + 2 * crypto_sign_SECRETKEYBYTES + 2 > cap)
		return LB_ERR_INTERNAL;
	o = (size_t)n;
	sodium_bin2hex(buf + o, cap - o, k->sk, crypto_sign_SECRETKEYBYTES);
	o += 2 * crypto_sign_SECRETKEYBYTES;
	buf[o++] = '\n';
	*out_len = o;
	return 0;
}

/*
 * Writes k's file atomically: "<kid>.key.tmp" (0600), fsync, rename over
 * "<kid>.key", fsync of the directory.  A crash leaves the old file or the
 * new one, never half of either; a stale temp file is removed on open.
 */
static int
key_store(int dirfd, const struct key *k)
{
	char name[LB_KID_MAX + sizeof(TMP_SUFFIX)], tmp[LB_KID_MAX + sizeof(TMP_SUFFIX)];
	char *buf = NULL;
	size_t len = 0, off = 0;
	int fd = -1, rc, err = 0;

	snprintf(name, sizeof(name), "%s" KEY_SUFFIX, k->kid);
	snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, k->kid);
	if ((buf = sodium_malloc(KEY_FILE_MAX)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = key_format(k, buf, KEY_FILE_MAX, &len)) != 0)
		goto out;
	rc = LB_ERR_UNAVAILABLE;
	if (unlinkat(dirfd, tmp, 0) != 0 && errno != ENOENT) {
		err = errno;
		goto out;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		err = errno;
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		err = errno;
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0 || renameat(dirfd, tmp, dirfd, name) != 0 || fsync(dirfd) != 0) {
		err = errno;
		rc = LB_ERR_UNAVAILABLE;
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (err != 0) {
		log_error("key_write_failed", "kid=%s error=\"%s\"", k->kid, strerror(err));
		unlinkat(dirfd, tmp, 0);
	}
	if (buf != NULL) {
		sodium_memzero(buf, KEY_FILE_MAX);
		sodium_free(buf);
	}
	return rc;
}

/*
 * Loads "<kid>.key" into k, refusing a file that is not a regular file of
 * ours with mode 0600 or stricter, or whose key does not give its kid.
 */
static int
key_load(int dirfd, const char *name, const char *kid, struct key *k)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, rc = LB_ERR_UNAVAILABLE;
	const char *why = NULL;

	memset(k, 0, sizeof(*k));
	if ((k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL ||
	    (buf = sodium_malloc(KEY_FILE_MAX)) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		why = strerror(errno);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		why = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		goto out;
	}
	if (st.st_uid != geteuid()) {
		why = "not owned by the daemon's user";
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		why = "readable or writable by group or others (want 0600)";
		goto out;
	}
	if (st.st_size <= 0 || st.st_size >= KEY_FILE_MAX) {
		why = "wrong size";
		goto out;
	}
	while (len < KEY_FILE_MAX) {
		ssize_t r = read(fd, buf + len, KEY_FILE_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			why = strerror(errno);
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len >= KEY_FILE_MAX) {
		why = "wrong size";
		goto out;
	}
	if ((rc = key_parse(buf, len, k)) != 0) {
		why = "malformed";
		goto out;
	}
	rc = LB_ERR_UNAVAILABLE;
	if (strcmp(k->kid, kid) != 0) {
		why = "the key does not match its file name";
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && why != NULL)
		log_error("key_refused", "file=%s reason=\"%s\"", name, why);
	if (fd >= 0)
		close(fd);
	if (buf != NULL) {
		sodium_memzero(buf, KEY_FILE_MAX);
		sodium_free(buf);
	}
	if (rc != 0)
		key_wipe(k);
	return rc;
}

/* A fresh key made at now_ms. */
static int
key_generate(int64_t now_ms, struct key *k)
{
	memset(k, 0, sizeof(*k));
	if ((k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return LB_ERR_NOMEM;
	crypto_sign_keypair(k->pk, k->sk);
	kid_derive(k->pk, k->kid);
	k->created_ms = now_ms;
	k->retired_ms = 0;
	return 0;
}

/* --------------------------------------------------------------- the ring */

/* Removes keys past their grace from the ring and from disk. */
static void
ring_prune(struct lb_keyring *kr, int64_t now_ms)
{
	char cur[LB_KID_MAX + 1], name[LB_KID_MAX + sizeof(KEY_SUFFIX)];
	size_t j = 0;

	memcpy(cur, kr->keys[kr->current].kid, sizeof(cur));
	for (size_t i = 0; i < kr->n; i++) {
		if (!key_live(&kr->keys[i], now_ms)) {
			snprintf(name, sizeof(name), "%s" KEY_SUFFIX, kr->keys[i].kid);
			if (unlinkat(kr->dirfd, name, 0) != 0 && errno != ENOENT)
				log_warn("key_delete_failed", "kid=%s error=\"%s\"",
				    kr->keys[i].kid, strerror(errno));
			else
				log_info("key_deleted", "kid=%s reason=grace_over",
				    kr->keys[i].kid);
			key_wipe(&kr->keys[i]);
			continue;
		}
		if (j != i) {
			kr->keys[j] = kr->keys[i];
			memset(&kr->keys[i], 0, sizeof(kr->keys[i]));
		}
		if (strcmp(kr->keys[j].kid, cur) == 0)
			kr->current = j;
		j++;
	}
	kr->n = j;
	fsync(kr->dirfd);
}

static struct key *
ring_find(struct lb_keyring *kr, const char *kid)
{
	for (size_t i = 0; i < kr->n; i++)
		if (strcmp(kr->keys[i].kid, kid) == 0)
			return &kr->keys[i];
	return NULL;
}

/*
 * Makes the newest unretired key current.  After a crash in the middle of
 * a rotation two keys may be unretired: the older is retired as of the
 * newer's creation, and its file rewritten.
 */
static int
ring_settle(struct lb_keyring *kr)
{
	size_t best = kr->n;
	int rc;

	for (size_t i = 0; i < kr->n; i++) {
		const struct key *k = &kr->keys[i];
		if (k->retired_ms != 0)
			continue;
		if (best == kr->n || k->created_ms > kr->keys[best].created_ms ||
		    (k->created_ms == kr->keys[best].created_ms &&
		    strcmp(k->kid, kr->keys[best].kid) > 0))
			best = i;
	}
	if (best == kr->n)
		return LB_ERR_NOT_FOUND;
	for (size_t i = 0; i < kr->n; i++) {
		struct key *k = &kr->keys[i];
		if (i == best || k->retired_ms != 0)
			continue;
		k->retired_ms = kr->keys[best].created_ms > 0 ? kr->keys[best].created_ms : 1;
		log_warn("key_retired", "kid=%s reason=\"a newer current key exists\"", k->kid);
		if ((rc = key_store(kr->dirfd, k)) != 0)
			return rc;
	}
	kr->current = best;
	return 0;
}

/* Opens (creating) DATA_DIR/keys and checks it is ours and 0700 or less. */
static int
keys_dir_open(const char *data_dir, int *out)
{
	char path[LB_PATH_MAX];
	struct stat st;
	int fd = -1, n, rc = LB_ERR_UNAVAILABLE;
	const char *why = NULL;

	n = snprintf(path, sizeof(path), "%s/keys", data_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		why = "path too long";
		goto out;
	}
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
		why = strerror(errno);
		goto out;
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		why = strerror(errno);
		goto out;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		why = strerror(errno);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		why = "not owned by the daemon's user";
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		why = "reachable by group or others (want 0700)";
		goto out;
	}
	*out = fd;
	fd = -1;
	rc = 0;
out:
	if (rc != 0)
		log_error("keys_dir_refused", "path=%s reason=\"%s\"", path, why ? why : "");
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Loads every "<kid>.key" and removes stale "<kid>.key.tmp" files. */
static int
ring_load(struct lb_keyring *kr, int64_t now_ms)
{
	DIR *d = NULL;
	struct dirent *de;
	int fd, rc = 0;

	if ((fd = dup(kr->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		log_error("keys_dir_refused", "reason=\"%s\"", strerror(errno));
		return LB_ERR_UNAVAILABLE;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		char kid[LB_KID_MAX + 1];
		struct key k;

		if (len == KID_LEN + strlen(TMP_SUFFIX) && kid_shaped(name, KID_LEN) &&
		    strcmp(name + KID_LEN, TMP_SUFFIX) == 0) {
			unlinkat(kr->dirfd, name, 0);
			continue;
		}
		if (len != KID_LEN + strlen(KEY_SUFFIX) || !kid_shaped(name, KID_LEN) ||
		    strcmp(name + KID_LEN, KEY_SUFFIX) != 0)
			continue;       /* not ours: left alone */
		memcpy(kid, name, KID_LEN);
		kid[KID_LEN] = '\0';
		if ((rc = key_load(kr->dirfd, name, kid, &k)) != 0)
			break;
		if (kr->n == KEYS_MAX && key_live(&k, now_ms)) {
			log_error("keys_refused", "reason=\"more than %d live keys\"", KEYS_MAX);
			key_wipe(&k);
			rc = LB_ERR_UNAVAILABLE;
			break;
		}
		if (!key_live(&k, now_ms)) {
			if (unlinkat(kr->dirfd, name, 0) == 0)
				log_info("key_deleted", "kid=%s reason=grace_over", k.kid);
			key_wipe(&k);
			continue;
		}
		kr->keys[kr->n++] = k;
	}
	closedir(d);
	return rc;
}

int
keys_open(const char *data_dir, int64_t now_ms, struct lb_keyring **out)
{
	struct lb_keyring *kr = NULL;
	int rc;

	if (data_dir == NULL || out == NULL)
		return LB_ERR_INTERNAL;
	if (sodium_init() < 0)
		return LB_ERR_UNAVAILABLE;
	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return LB_ERR_NOMEM;
	kr->dirfd = -1;
	if (pthread_rwlock_init(&kr->lock, NULL) != 0) {
		free(kr);
		return LB_ERR_INTERNAL;
	}
	if ((rc = keys_dir_open(data_dir, &kr->dirfd)) != 0)
		goto out;
	if ((rc = ring_load(kr, now_ms)) != 0)
		goto out;
	rc = ring_settle(kr);
	if (rc == LB_ERR_NOT_FOUND) {
		/* No current key: the first start, or every key retired. */
		if (kr->n == KEYS_MAX) {
			rc = LB_ERR_UNAVAILABLE;
			goto out;
		}
		if ((rc = key_generate(now_ms, &kr->keys[kr->n])) != 0)
			goto out;
		kr->n++;
		if ((rc = key_store(kr->dirfd, &kr->keys[kr->n - 1])) != 0)
			goto out;
		kr->current = kr->n - 1;
		log_info("key_created", "kid=%s", kr->keys[kr->current].kid);
	} else if (rc != 0) {
		goto out;
	}
	/* Every key in the ring is in the archive before it signs anything. */
	if ((rc = pubkeys_open(kr->dirfd, &kr->archive)) != 0)
		goto out;
	for (size_t i = 0; i < kr->n; i++)
		if ((rc = pubkeys_note(kr->archive, kr->keys[i].kid, kr->keys[i].pk,
		    kr->keys[i].created_ms)) != 0)
			goto out;
	*out = kr;
	kr = NULL;
	rc = 0;
out:
	keys_close(kr);
	return rc;
}

void
keys_close(struct lb_keyring *kr)
{
	if (kr == NULL)
		return;
	for (size_t i = 0; i < kr->n; i++)
		key_wipe(&kr->keys[i]);
	pubkeys_close(kr->archive);
	pthread_rwlock_destroy(&kr->lock);
	if (kr->dirfd >= 0)
		close(kr->dirfd);
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
}

/*
 * The new key is written first, then the old one's file is rewritten as
 * retired; if that second write fails the new file is removed again, so
 * disk and memory agree.  (A crash between the two writes leaves two
 * unretired keys, which ring_settle resolves on the next open.)
 */
int
keys_rotate(struct lb_keyring *kr, int64_t now_ms, char kid[LB_KID_MAX + 1])
{
	struct key nk, *old;
	char name[LB_KID_MAX + sizeof(KEY_SUFFIX)];
	int rc;

	if (kr == NULL || kid == NULL)
		return LB_ERR_INTERNAL;
	memset(&nk, 0, sizeof(nk));
	pthread_rwlock_wrlock(&kr->lock);
	ring_prune(kr, now_ms);
	if (kr->n == KEYS_MAX) {
		log_warn("key_rotate_refused", "reason=\"%d keys still in their grace\"", KEYS_MAX);
		rc = LB_ERR_RATE_LIMITED;
		goto out;
	}
	if ((rc = key_generate(now_ms, &nk)) != 0)
		goto out;
	/* Published for the audit trail before it can sign anything. */
	if ((rc = pubkeys_note(kr->archive, nk.kid, nk.pk, nk.created_ms)) != 0)
		goto out;
	if ((rc = key_store(kr->dirfd, &nk)) != 0)
		goto out;
	old = &kr->keys[kr->current];
	old->retired_ms = now_ms > 0 ? now_ms : 1;
	if ((rc = key_store(kr->dirfd, old)) != 0) {
		old->retired_ms = 0;
		snprintf(name, sizeof(name), "%s" KEY_SUFFIX, nk.kid);
		unlinkat(kr->dirfd, name, 0);
		goto out;
	}
	kr->keys[kr->n] = nk;
	memset(&nk, 0, sizeof(nk));
	kr->current = kr->n++;
	memcpy(kid, kr->keys[kr->current].kid, LB_KID_MAX + 1);
	log_info("key_rotated", "kid=%s retired=%s", kid, old->kid);
	rc = 0;
out:
	pthread_rwlock_unlock(&kr->lock);
	key_wipe(&nk);
	return rc;
}

/* One RFC 8037 OKP JWK for k. */
static json_t *
jwk_of(const struct key *k)
{
	char x[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

	sodium_bin2base64(x, sizeof(x), k->pk, sizeof(k->pk),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP",
	    "crv", "Ed25519", "x", x, "kid", k->kid, "alg", "EdDSA", "use", "sig");
}

json_t *
keys_jwks(struct lb_keyring *kr, int64_t now_ms)
{
	json_t *doc = NULL, *arr = NULL, *res = NULL;

	if (kr == NULL)
		return NULL;
	pthread_rwlock_rdlock(&kr->lock);
	if ((arr = json_array()) == NULL)
		goto out;
	/* The current key first, then retired keys still in their grace. */
	if (json_array_append_new(arr, jwk_of(&kr->keys[kr->current])) != 0)
		goto out;
	for (size_t i = 0; i < kr->n; i++) {
		if (i == kr->current || !key_live(&kr->keys[i], now_ms))
			continue;
		if (json_array_append_new(arr, jwk_of(&kr->keys[i])) != 0)
			goto out;
	}
	if ((doc = json_pack("{s:O}", "keys", arr)) == NULL)
		goto out;
	res = doc;
out:
	pthread_rwlock_unlock(&kr->lock);
	json_decref(arr);
	return res;
}

json_t *
keys_audit_jwks(struct lb_keyring *kr)
{
	return kr != NULL && kr->archive != NULL ? pubkeys_jwks(kr->archive) : NULL;
}

int
keys_current_kid(struct lb_keyring *kr, char kid[LB_KID_MAX + 1])
{
	if (kr == NULL || kid == NULL)
		return LB_ERR_INTERNAL;
	pthread_rwlock_rdlock(&kr->lock);
	memcpy(kid, kr->keys[kr->current].kid, LB_KID_MAX + 1);
	pthread_rwlock_unlock(&kr->lock);
	return 0;
}

/*
 * Signs msg with the key named kid (the current one, or one just retired
 * by a rotation that ran after the caller read the kid: still valid).
 */
int
keys_sign_kid(struct lb_keyring *kr, const char *kid,
    const unsigned char *msg, size_t len, unsigned char sig[64])
{
	const struct key *k;
	int rc = LB_ERR_UNAVAILABLE;

	pthread_rwlock_rdlock(&kr->lock);
	if ((k = ring_find(kr, kid)) == NULL)
		goto out;
	if (crypto_sign_detached(sig, NULL, msg, len, k->sk) != 0)
		goto out;
	rc = 0;
out:
	pthread_rwlock_unlock(&kr->lock);
	return rc;
}

/* 0 when sig is kid's valid signature of msg and kid is live at now_ms. */
int
keys_verify_kid(struct lb_keyring *kr, const char *kid, int64_t now_ms,
    const unsigned char *msg, size_t len, const unsigned char sig[64])
{
	const struct key *k;
	int rc = LB_ERR_UNAUTHENTICATED;

	pthread_rwlock_rdlock(&kr->lock);
	if ((k = ring_find(kr, kid)) == NULL || !key_live(k, now_ms))
		goto out;
	if (crypto_sign_verify_detached(sig, msg, len, k->pk) != 0)
		goto out;
	rc = 0;
out:
	pthread_rwlock_unlock(&kr->lock);
	return rc;
}
