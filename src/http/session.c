/*
 * Console sign-in: passwords, sessions and their cookie, CSRF tokens, and
 * the limit on failed sign-ins (docs/api.md "Console sign-in",
 * docs/internals/session.md).
 *
 * People sign in to the web console with a password; scripts keep their
 * API tokens.  A password is stored only as libsodium's Argon2id string
 * (crypto_pwhash_str, interactive limits).  A session is 32 random bytes
 * in the HttpOnly, SameSite=Strict cookie `lockbox_session`; only the
 * SHA-256 of its text is stored, beside a CSRF token that every
 * state-changing call made with the cookie must echo in X-CSRF-Token.
 *
 * A sign-in with a wrong realm, an unknown user, a user without a password
 * or a wrong password is one and the same 401, after one Argon2id
 * verification each (against a fixed dummy hash when there is nothing to
 * verify), so neither the answer nor its time says which it was.  Failures
 * are counted in memory per user and per client address, in a fixed-size
 * table (bounded memory whatever the callers send); past the limit the
 * answer is 429 before any password is looked at.
 *
 * session_start() takes a principal already authenticated, by password
 * today; a single sign-on callback would call it the same way.  Secrets
 * (passwords, session ids) are wiped after use and never reach a log line
 * or an audit record.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "audit/audit.h"
#include "http/http.h"

_Static_assert(crypto_pwhash_STRBYTES <= LB_PWHASH_MAX, "LB_PWHASH_MAX too small");

#define PASSWORD_MIN            12
#define PASSWORD_MAX            1024
#define SESSION_ID_BYTES        32
#define SESSION_ID_TEXT         43      /* base64url of 32 bytes, no padding */
/* The idle expiry is written at most this often (not on every call). */
#define TOUCH_EVERY_MS          60000LL

/* Failed sign-ins: per user and per client address, in a window. */
#define RL_SLOTS                4096
#define RL_PROBE                8
#define RL_WINDOW_MS            (15LL * 60 * 1000)
#define RL_USER_MAX             5
#define RL_ADDR_MAX             20

/* Argon2id with interactive limits takes 64 MiB: so many at a time. */
#define HASHING_MAX             2

static const char *const state_changing[] = { "POST", "PATCH", "PUT", "DELETE", NULL };

/* --------------------------------------------------------- hashing gate */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_busy;

static void
gate_enter(void)
{
	pthread_mutex_lock(&gate_mu);
	while (gate_busy >= HASHING_MAX)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_busy++;
	pthread_mutex_unlock(&gate_mu);
}

static void
gate_leave(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_busy--;
	pthread_cond_signal(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* The hash a sign-in verifies against when there is no real one. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];
static bool dummy_ok;

static void
dummy_make(void)
{
	unsigned char pw[32];

	randombytes_buf(pw, sizeof(pw));
	dummy_ok = crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
	sodium_memzero(pw, sizeof(pw));
}

/*
 * True when `pw` matches `hash`; with hash NULL, spends the same time on
 * the dummy hash and answers false.
 */
static bool
password_verify(const char *hash, const char *pw, size_t len)
{
	bool ok = false;
	int rc = -1;

	pthread_once(&dummy_once, dummy_make);
	gate_enter();
	if (hash != NULL)
		ok = (rc = crypto_pwhash_str_verify(hash, pw, len)) == 0;
	else if (dummy_ok)
		rc = crypto_pwhash_str_verify(dummy_hash, pw, len);
	gate_leave();
	(void)rc;               /* the dummy's answer means nothing */
	return ok;
}

/* Argon2id string of `pw` into out (LB_PWHASH_MAX). */
static int
password_hash(const char *pw, size_t len, char *out)
{
	char h[crypto_pwhash_STRBYTES];
	int rc;

	gate_enter();
	rc = crypto_pwhash_str(h, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE);
	gate_leave();
	if (rc != 0)
		return LB_ERR_NOMEM;
	memcpy(out, h, strlen(h) + 1);
	sodium_memzero(h, sizeof(h));
	return 0;
}

/* ---------------------------------------------------------- rate limit */

struct rl_slot {
	uint8_t key[16];                /* keyed BLAKE2b of the user or address */
	int64_t start_ms;               /* the window's first failure */
	uint32_t count;
	bool used;
};

static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rl_slot rl_users[RL_SLOTS], rl_addrs[RL_SLOTS];
static uint8_t rl_secret[crypto_generichash_KEYBYTES];
static pthread_once_t rl_once = PTHREAD_ONCE_INIT;

static void
rl_init(void)
{
	randombytes_buf(rl_secret, sizeof(rl_secret));
}

/* Keyed, so a caller cannot aim names at one slot of the table. */
static void
rl_key(const char *text, uint8_t key[16])
{
	pthread_once(&rl_once, rl_init);
	crypto_generichash(key, 16, (const unsigned char *)text, strlen(text), rl_secret,
	    sizeof(rl_secret));
}

/*
 * The slot of `key` (its window restarted when over), or with `create` a
 * new one replacing, among the probed slots, a free or stale one, else the
 * one with the fewest failures (then the oldest): a flood of new names
 * evicts single failures before it evicts a count close to the limit.
 * Called with rl_mu held.
 */
static struct rl_slot *
rl_find(struct rl_slot *table, const uint8_t key[16], int64_t now_ms, bool create)
{
	uint64_t h;
	struct rl_slot *victim = NULL;
	bool victim_stale = false;

	memcpy(&h, key, sizeof(h));
	for (size_t i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &table[(h + i) % RL_SLOTS];
		bool stale = !s->used || now_ms - s->start_ms >= RL_WINDOW_MS ||
		    now_ms < s->start_ms;
		if (s->used && memcmp(s->key, key, 16) == 0) {
			if (stale) {
				s->count = 0;
				s->start_ms = now_ms;
			}
			return s;
		}
		if (victim_stale)
			continue;
		if (victim == NULL || stale || s->count < victim->count ||
		    (s->count == victim->count && s->start_ms < victim->start_ms)) {
			victim = s;
			victim_stale = stale;
		}
	}
	if (!create || victim == NULL)
		return NULL;
	memcpy(victim->key, key, 16);
	victim->start_ms = now_ms;
	victim->count = 0;
	victim->used = true;
	return victim;
}

static bool
rl_limited(const char *user_key, const char *addr, int64_t now_ms)
{
	uint8_t uk[16], ak[16];
	bool limited = false;

	rl_key(user_key, uk);
	rl_key(addr, ak);
	pthread_mutex_lock(&rl_mu);
	struct rl_slot *u = rl_find(rl_users, uk, now_ms, false);
	struct rl_slot *a = rl_find(rl_addrs, ak, now_ms, false);
	if ((u != NULL && u->count >= RL_USER_MAX) || (a != NULL && a->count >= RL_ADDR_MAX))
		limited = true;
	pthread_mutex_unlock(&rl_mu);
	return limited;
}

static void
rl_fail(const char *user_key, const char *addr, int64_t now_ms)
{
	uint8_t uk[16], ak[16];

	rl_key(user_key, uk);
	rl_key(addr, ak);
	pthread_mutex_lock(&rl_mu);
	struct rl_slot *u = rl_find(rl_users, uk, now_ms, true);
	struct rl_slot *a = rl_find(rl_addrs, ak, now_ms, true);
	if (u != NULL && u->count < UINT32_MAX)
		u->count++;
	if (a != NULL && a->count < UINT32_MAX)
		a->count++;
	pthread_mutex_unlock(&rl_mu);
}

/* A success forgets the user's failures (not the address's). */
static void
rl_clear_user(const char *user_key, int64_t now_ms)
{
	uint8_t uk[16];

	rl_key(user_key, uk);
	pthread_mutex_lock(&rl_mu);
	struct rl_slot *u = rl_find(rl_users, uk, now_ms, false);
	if (u != NULL)
		u->used = false;
	pthread_mutex_unlock(&rl_mu);
}

/* ------------------------------------------------------------- helpers */

static const char *
chain_of(const char *realm)
{
	return strcmp(realm, LB_PROVIDER_REALM) == 0 ? "" : realm;
}

static bool
b64url_text(const char *s, size_t want)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char ch = s[n];
		if (n >= want || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return n == want;
}

/* 32 random bytes as base64url text (SESSION_ID_TEXT + 1 bytes). */
static void
random_text(char *out, size_t len)
{
	unsigned char raw[SESSION_ID_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, len, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void
id_hash(const char *text, uint8_t out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)text, strlen(text));
}

static bool
is_state_changing(const char *method)
{
	for (size_t i = 0; state_changing[i] != NULL; i++)
		if (strcmp(method, state_changing[i]) == 0)
			return true;
	return false;
}

/* "realm/user" for object ids and the limiter's user key. */
static void
principal_key(const char *realm, const char *user, char *out, size_t len)
{
	size_t rl = strlen(realm), ul = strlen(user);

	if (rl + 1 + ul + 1 > len) {
		out[0] = '\0';
		return;
	}
	memcpy(out, realm, rl);
	out[rl] = '/';
	memcpy(out + rl + 1, user, ul + 1);
}

/* The Set-Cookie value: the session, or an expired empty one to clear it. */
static int
cookie_text(const struct lb_ctx *c, const char *id, char *out, size_t len)
{
	const char *secure = c->app->cfg->secure_cookies ? "; Secure" : "";
	int n;

	if (id != NULL)
		n = snprintf(out, len, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s",
		    LB_SESSION_COOKIE, id, secure);
	else
		n = snprintf(out, len, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s",
		    LB_SESSION_COOKIE, secure);
	return n < 0 || (size_t)n >= len ? LB_ERR_INTERNAL : 0;
}

/*
 * Answers `status` with `body` (owned; NULL: no body) and a Set-Cookie
 * header, through the streamed-answer path that carries its own headers.
 */
static int
reply_cookie(struct lb_ctx *c, int status, json_t *body, const char *cookie)
{
	struct MHD_Response *r;
	char *text = NULL;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text == NULL)
			return LB_ERR_NOMEM;
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	} else {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL) {
		free(text);
		return LB_ERR_NOMEM;
	}
	if (text != NULL)
		MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (c->resp_stream != NULL)
		MHD_destroy_response(c->resp_stream);
	c->resp_stream = r;
	c->status = status;
	return 0;
}

/* The session object of docs/api.md. */
static json_t *
session_json(const struct lb_user *u, const struct lb_session *s)
{
	return json_pack("{s:o, s:s, s:o, s:o}", "user", json_user(u), "csrf_token", s->csrf,
	    "idle_expires_at", json_time(s->idle_expires_ms), "expires_at",
	    json_time(s->expires_ms));
}

/* A short, non-secret reference to a session for its records. */
static void
session_ref(const uint8_t hash[32], char out[17])
{
	uint8_t h[32];

	crypto_hash_sha256(h, hash, 32);
	sodium_bin2hex(out, 17, h, 8);
}

static int64_t
idle_ms(const struct lb_ctx *c)
{
	return (int64_t)c->app->cfg->session_idle_minutes * 60000;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------- authentication */

bool
session_cookie_present(const struct lb_ctx *c)
{
	return MHD_lookup_connection_value(c->conn, MHD_COOKIE_KIND, LB_SESSION_COOKIE) != NULL;
}

/* Moves the idle expiry forward, at most once a minute; best effort. */
static void
session_touch(struct lb_ctx *c, struct lb_session *s, bool force)
{
	struct lb_tx *tx = NULL;
	int64_t want = min64(c->now_ms + idle_ms(c), s->expires_ms);

	if (want <= s->idle_expires_ms || (!force && want - s->idle_expires_ms < TOUCH_EVERY_MS))
		return;
	if (store_begin(c->app->store, true, &tx) != 0)
		return;
	if (store_session_touch(tx, s->id_hash, want) != 0) {
		store_rollback(tx);
		return;
	}
	if (store_commit(tx) == 0)
		s->idle_expires_ms = want;
}

int
session_auth(struct lb_ctx *c)
{
	const char *cookie = MHD_lookup_connection_value(c->conn, MHD_COOKIE_KIND,
	    LB_SESSION_COOKIE);
	const char *csrf;
	struct lb_session s;
	struct lb_user u;
	struct lb_tx *tx = NULL;
	uint8_t hash[32];
	int rc;

	if (cookie == NULL || !b64url_text(cookie, SESSION_ID_TEXT))
		return http_fail(c, LB_ERR_UNAUTHENTICATED,
		    "sign in (POST /v1/session) or send Authorization: Bearer <token>");
	id_hash(cookie, hash);
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = store_session_find(tx, hash, &s, &u);
	store_rollback(tx);
	if (rc == LB_ERR_NOT_FOUND || (rc == 0 && sodium_memcmp(hash, s.id_hash, 32) != 0))
		rc = LB_ERR_UNAUTHENTICATED;
	if (rc == 0 && (s.ended_ms != 0 || c->now_ms >= s.idle_expires_ms ||
	    c->now_ms >= s.expires_ms || u.type != LB_ACTOR_USER))
		rc = LB_ERR_UNAUTHENTICATED;
	if (rc == LB_ERR_UNAUTHENTICATED)
		return http_fail(c, rc, "the console session has ended; sign in again");
	if (rc != 0)
		return rc;
	if (is_state_changing(c->method)) {
		csrf = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-CSRF-Token");
		if (csrf == NULL || strlen(csrf) != strlen(s.csrf) ||
		    sodium_memcmp(csrf, s.csrf, strlen(s.csrf)) != 0)
			return http_fail(c, LB_ERR_CSRF,
			    "send the session's csrf_token in X-CSRF-Token");
	}
	session_touch(c, &s, false);
	memset(&c->actor, 0, sizeof(c->actor));
	memcpy(c->actor.id, u.id, sizeof(u.id));
	memcpy(c->actor.realm, u.realm, sizeof(u.realm));
	c->actor.roles = u.roles;
	c->actor.type = u.type;
	c->authed = true;
	c->session = s;
	c->via_session = true;
	return 0;
}

/* ------------------------------------------------------------- sign-in */

int
session_start(struct lb_ctx *c, const struct lb_user *u, const char *method)
{
	char id[SESSION_ID_TEXT + 1], cookie[160], ref[17], obj[LB_ID_MAX * 2 + 2];
	const char *old = MHD_lookup_connection_value(c->conn, MHD_COOKIE_KIND,
	    LB_SESSION_COOKIE);
	struct lb_session s;
	struct lb_tx *tx = NULL;
	uint8_t old_hash[32];
	json_t *d = NULL, *out;
	int rc;

	memset(&s, 0, sizeof(s));
	random_text(id, sizeof(id));
	id_hash(id, s.id_hash);
	random_text(s.csrf, sizeof(s.csrf));
	memcpy(s.realm, u->realm, sizeof(s.realm));
	memcpy(s.user_id, u->id, sizeof(s.user_id));
	s.created_ms = c->now_ms;
	s.expires_ms = c->now_ms + (int64_t)c->app->cfg->session_max_hours * 3600000;
	s.idle_expires_ms = min64(c->now_ms + idle_ms(c), s.expires_ms);
	if ((rc = cookie_text(c, id, cookie, sizeof(cookie))) != 0)
		goto out;
	memset(&c->actor, 0, sizeof(c->actor));
	memcpy(c->actor.id, u->id, sizeof(u->id));
	memcpy(c->actor.realm, u->realm, sizeof(u->realm));
	c->actor.roles = u->roles;
	c->actor.type = u->type;
	c->authed = true;
	session_ref(s.id_hash, ref);
	principal_key(u->realm, u->id, obj, sizeof(obj));
	d = json_pack("{s:s, s:s, s:o}", "method", method, "session", ref,
	    "expires_at", json_time(s.expires_ms));
	if (d == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = store_session_prune(tx, c->now_ms, NULL)) != 0)
		goto out;
	/* A browser signing in again leaves no second session behind. */
	if (old != NULL && b64url_text(old, SESSION_ID_TEXT)) {
		id_hash(old, old_hash);
		if ((rc = store_session_end(tx, old_hash, c->now_ms)) != 0 &&
		    rc != LB_ERR_NOT_FOUND)
			goto out;
	}
	if ((rc = store_session_insert(tx, &s)) != 0 ||
	    (rc = http_audit(c, tx, chain_of(u->realm), LB_RT_SIGNIN, "SignIn", obj, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		c->session = s;
		c->via_session = true;
		if ((out = session_json(u, &s)) == NULL)
			rc = LB_ERR_NOMEM;
		else
			rc = reply_cookie(c, 200, out, cookie);
	}
out:
	sodium_memzero(id, sizeof(id));
	sodium_memzero(cookie, sizeof(cookie));
	store_rollback(tx);
	json_decref(d);
	return rc;
}

/*
 * Records a failed sign-in in the claimed realm's chain (the provider's
 * when that realm does not exist); the actor is the claimed principal when
 * its names have the shape of ids.  Best effort: the caller answers the
 * failure whatever happens here.
 */
static void
signin_failed(struct lb_ctx *c, const char *realm, const char *user, bool realm_known,
    const char *reason)
{
	struct lb_tx *tx = NULL;
	char obj[LB_ID_MAX * 2 + 2] = "";
	json_t *d = json_pack("{s:s}", "reason", reason);

	memset(&c->actor, 0, sizeof(c->actor));
	c->actor.type = LB_ACTOR_USER;
	if (lb_id_valid(realm) && lb_id_valid(user)) {
		memcpy(c->actor.id, user, strlen(user) + 1);
		memcpy(c->actor.realm, realm, strlen(realm) + 1);
		principal_key(realm, user, obj, sizeof(obj));
	}
	if (d == NULL || store_begin(c->app->store, true, &tx) != 0)
		goto out;
	struct lb_audit_event ev = {
		.tenant = realm_known ? chain_of(realm) : "", .record_type = LB_RT_SIGNIN,
		.operation = "SignIn", .actor = &c->actor, .object_id = obj,
		.result = "failure", .client_ip = c->client_ip, .details = d,
		.time_ms = c->now_ms,
	};
	if (audit_append(tx, &ev) != 0) {
		atomic_fetch_add(&c->app->metrics.audit_failures, 1);
		goto out;
	}
	if (store_commit(tx) != 0)
		atomic_fetch_add(&c->app->metrics.audit_failures, 1);
	tx = NULL;
out:
	store_rollback(tx);
	json_decref(d);
}

/* A required string field of at most `cap` - 1 bytes; longer: *too_long. */
static int
str_field(struct lb_ctx *c, json_t *o, const char *key, char *dst, size_t cap, bool *too_long)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (v == NULL)
		return http_fail(c, LB_ERR_MISSING_FIELD, "field '%s' is required", key);
	if (!json_is_string(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be a string", key);
	n = json_string_length(v);
	*too_long = n >= cap;
	if (*too_long) {
		dst[0] = '\0';
		return 0;
	}
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

int
h_session_create(struct lb_ctx *c)
{
	static const char *const keys[] = { "realm", "user", "password", NULL };
	char realm[LB_ID_MAX + 1], user[LB_ID_MAX + 1], pw[PASSWORD_MAX + 1];
	char hash[LB_PWHASH_MAX], ukey[LB_ID_MAX * 2 + 2];
	const char *ctype = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	bool long_realm, long_user, long_pw, realm_known = false, have_hash = false;
	struct lb_user u;
	struct lb_tenant t;
	struct lb_tx *tx = NULL;
	json_t *o = NULL;
	size_t pwlen = 0;
	int rc;

	memset(pw, 0, sizeof(pw));
	memset(hash, 0, sizeof(hash));
	memset(&u, 0, sizeof(u));
	/* A cross-site form can post text/plain, never application/json. */
	if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0 ||
	    (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' ')) {
		rc = http_fail(c, LB_ERR_MALFORMED, "send the body as Content-Type: application/json");
		goto out;
	}
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0 ||
	    (rc = str_field(c, o, "realm", realm, sizeof(realm), &long_realm)) != 0 ||
	    (rc = str_field(c, o, "user", user, sizeof(user), &long_user)) != 0 ||
	    (rc = str_field(c, o, "password", pw, sizeof(pw), &long_pw)) != 0)
		goto out;
	if (!long_pw)
		pwlen = strlen(pw);
	principal_key(realm, user, ukey, sizeof(ukey));
	if (rl_limited(ukey, c->client_ip, c->now_ms)) {
		if (!long_realm && lb_id_valid(realm) && (rc = store_begin(c->app->store, false,
		    &tx)) == 0) {
			realm_known = strcmp(realm, LB_PROVIDER_REALM) == 0 ||
			    store_tenant_get(tx, realm, &t) == 0;
			store_rollback(tx);
			tx = NULL;
		}
		signin_failed(c, realm, user, realm_known, "rate_limited");
		rc = http_fail(c, LB_ERR_RATE_LIMITED,
		    "too many failed sign-ins; wait 15 minutes and try again");
		goto out;
	}
	/* Look everything up whatever the shape, so every failure costs the same. */
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		goto out;
	if (!long_realm && !long_user && lb_id_valid(realm) && lb_id_valid(user)) {
		realm_known = strcmp(realm, LB_PROVIDER_REALM) == 0 ||
		    (rc = store_tenant_get(tx, realm, &t)) == 0;
		if (rc != 0 && rc != LB_ERR_NOT_FOUND)
			goto out;
		if ((rc = store_user_get(tx, realm, user, &u)) == 0)
			rc = store_password_get(tx, realm, user, hash, sizeof(hash));
		have_hash = rc == 0 && u.type == LB_ACTOR_USER;
		if (rc != 0 && rc != LB_ERR_NOT_FOUND)
			goto out;
	}
	store_rollback(tx);
	tx = NULL;
	/* One verification whatever failed before it: the same time for all. */
	if (!password_verify(have_hash && !long_pw && pwlen > 0 ? hash : NULL, pw, pwlen)) {
		rl_fail(ukey, c->client_ip, c->now_ms);
		signin_failed(c, realm, user, realm_known, "bad_credentials");
		rc = http_fail(c, LB_ERR_UNAUTHENTICATED, "the realm, user or password is wrong");
		goto out;
	}
	rl_clear_user(ukey, c->now_ms);
	rc = session_start(c, &u, "password");
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(hash, sizeof(hash));
	store_rollback(tx);
	session_wipe(c, o);
	json_decref(o);
	return rc;
}

int
h_session_get(struct lb_ctx *c)
{
	struct lb_user u;
	struct lb_tx *tx = NULL;
	int rc;

	if (!c->via_session)
		return http_fail(c, LB_ERR_UNAUTHENTICATED,
		    "no console session: sign in with POST /v1/session");
	session_touch(c, &c->session, true);
	if ((rc = store_begin(c->app->store, false, &tx)) != 0)
		return rc;
	rc = store_user_get(tx, c->actor.realm, c->actor.id, &u);
	store_rollback(tx);
	if (rc != 0)
		return rc;
	return http_reply(c, 200, session_json(&u, &c->session));
}

int
h_session_delete(struct lb_ctx *c)
{
	char cookie[160], ref[17], obj[LB_ID_MAX * 2 + 2];
	struct lb_tx *tx = NULL;
	json_t *d = NULL;
	int rc;

	if (!c->via_session)
		return http_fail(c, LB_ERR_UNAUTHENTICATED,
		    "no console session: sign in with POST /v1/session");
	session_ref(c->session.id_hash, ref);
	principal_key(c->actor.realm, c->actor.id, obj, sizeof(obj));
	if ((rc = cookie_text(c, NULL, cookie, sizeof(cookie))) != 0)
		return rc;
	if ((d = json_pack("{s:s}", "session", ref)) == NULL)
		return LB_ERR_NOMEM;
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = store_session_end(tx, c->session.id_hash, c->now_ms)) != 0 ||
	    (rc = http_audit(c, tx, chain_of(c->actor.realm), LB_RT_SIGNIN, "SignOut",
	    obj, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = reply_cookie(c, 204, NULL, cookie);
out:
	store_rollback(tx);
	json_decref(d);
	return rc == LB_ERR_NOT_FOUND ? LB_ERR_UNAUTHENTICATED : rc;
}

/* ------------------------------------------------------------ passwords */

/* Wipes a string member in place (jansson frees without wiping). */
static void
wipe_member(json_t *o, const char *key)
{
	json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	if (v != NULL && json_is_string(v))
		sodium_memzero((void *)(uintptr_t)json_string_value(v), json_string_length(v));
}

void
session_wipe(struct lb_ctx *c, json_t *o)
{
	wipe_member(o, "password");
	wipe_member(o, "current_password");
	/* The request body is server.c's buffer, freed after the answer. */
	if (c->body_len > 0)
		sodium_memzero((void *)(uintptr_t)c->body, c->body_len);
}

int
session_password_field(struct lb_ctx *c, json_t *o, const char *key, bool *given,
    char *out)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	*given = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return http_fail(c, LB_ERR_INVALID_FIELD, "field '%s' must be a string", key);
	n = json_string_length(v);
	if (n > PASSWORD_MAX)
		return http_fail(c, LB_ERR_FIELD_TOO_LONG, "field '%s' is longer than %d bytes",
		    key, PASSWORD_MAX);
	if (n < PASSWORD_MIN)
		return http_fail(c, LB_ERR_INVALID_VALUE, "field '%s' needs at least %d bytes",
		    key, PASSWORD_MIN);
	int rc = password_hash(json_string_value(v), n, out);
	if (rc == 0)
		*given = true;
	return rc;
}

/* As users.c may_manage, with the caller never the target. */
static int
may_set_password(const struct lb_ctx *c, const char *realm)
{
	bool is_provider = strcmp(c->actor.realm, LB_PROVIDER_REALM) == 0;

	if (auth_provider(c, LB_ROLE_PROVIDER_ADMIN))
		return 0;
	if (!is_provider && strcmp(c->actor.realm, realm) != 0)
		return LB_ERR_NOT_FOUND;
	if (!is_provider && (c->actor.roles & LB_ROLE_GLOBAL_ADMIN))
		return 0;
	return LB_ERR_FORBIDDEN;
}

int
h_password_set(struct lb_ctx *c)
{
	static const char *const keys[] = { "password", "current_password", NULL };
	const char *realm = c->params[0], *user = c->params[1];
	char hash[LB_PWHASH_MAX], stored[LB_PWHASH_MAX], obj[LB_ID_MAX * 2 + 2];
	bool self = strcmp(c->actor.realm, realm) == 0 && strcmp(c->actor.id, user) == 0;
	bool given = false, have_stored = false;
	struct lb_user u;
	struct lb_tx *tx = NULL;
	json_t *o = NULL, *d = NULL, *cur;
	int64_t ended = 0;
	int rc;

	memset(hash, 0, sizeof(hash));
	memset(stored, 0, sizeof(stored));
	if (!self && (rc = may_set_password(c, realm)) != 0)
		goto out;
	if ((rc = json_body(c, &o)) != 0 || (rc = json_only(c, o, keys)) != 0)
		goto out;
	if (json_object_get(o, "password") == NULL) {
		rc = http_fail(c, LB_ERR_MISSING_FIELD, "field 'password' is required");
		goto out;
	}
	cur = json_object_get(o, "current_password");
	if (cur != NULL && !json_is_string(cur)) {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "field 'current_password' must be a string");
		goto out;
	}
	if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
	    (rc = store_user_get(tx, realm, user, &u)) != 0)
		goto out;
	rc = store_password_get(tx, realm, user, stored, sizeof(stored));
	if (rc != 0 && rc != LB_ERR_NOT_FOUND)
		goto out;
	have_stored = rc == 0;
	store_rollback(tx);
	tx = NULL;
	if (u.type != LB_ACTOR_USER) {
		rc = http_fail(c, LB_ERR_INVALID_VALUE, "service principals sign in with tokens only");
		goto out;
	}
	/* Changing one's own password needs the current one (a stolen session is not enough). */
	if (self && have_stored) {
		char ukey[LB_ID_MAX * 2 + 2];
		principal_key(realm, user, ukey, sizeof(ukey));
		if (cur == NULL) {
			rc = http_fail(c, LB_ERR_MISSING_FIELD, "field 'current_password' is required");
			goto out;
		}
		if (rl_limited(ukey, c->client_ip, c->now_ms)) {
			rc = http_fail(c, LB_ERR_RATE_LIMITED,
			    "too many failed attempts; wait 15 minutes and try again");
			goto out;
		}
		if (json_string_length(cur) > PASSWORD_MAX || !password_verify(stored,
		    json_string_value(cur), json_string_length(cur))) {
			rl_fail(ukey, c->client_ip, c->now_ms);
			rc = http_fail(c, LB_ERR_FORBIDDEN, "field 'current_password' is wrong");
			goto out;
		}
	}
	if ((rc = session_password_field(c, o, "password", &given, hash)) != 0)
		goto out;
	principal_key(realm, user, obj, sizeof(obj));
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = store_password_put(tx, realm, user, hash, c->now_ms)) != 0 ||
	    (rc = store_session_end_user(tx, realm, user,
	    self && c->via_session ? c->session.id_hash : NULL, c->now_ms, &ended)) != 0)
		goto out;
	d = json_pack("{s:s, s:s, s:I}", "realm", realm, "user", user, "sessions_ended",
	    (json_int_t)ended);
	if (d == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = http_audit(c, tx, chain_of(realm), LB_RT_SIGNIN, "SetPassword", obj, d)) != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		rc = reply_cookie(c, 204, NULL, NULL);
out:
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(stored, sizeof(stored));
	store_rollback(tx);
	session_wipe(c, o);
	json_decref(o);
	json_decref(d);
	return rc;
}
