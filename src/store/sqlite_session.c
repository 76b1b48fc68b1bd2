/*
 * SQLite rows for console sign-in: passwords and sessions (migration 6,
 * schema.c; src/http/session.c is the only caller).
 *
 * A session row is found by the hex SHA-256 of the session id (the primary
 * key, one index probe); the caller compares the hash again in constant
 * time, as for API tokens.  A password row holds the string libsodium's
 * crypto_pwhash_str made, which carries its own algorithm, limits and
 * salt; the store never sees a password.  Patterns are those of
 * sqlite_objects.c: values bound by name, a get writes the caller's struct
 * only when every column decoded.
 */
#include <string.h>

#include "store/sqlite_impl.h"

#define SESSION_COLS "id_hash, realm, user_id, csrf, created_ms, idle_expires_ms," \
	" expires_ms, ended_ms"

int
sq_session_insert(struct lb_tx *base, const struct lb_session *s)
{
	struct sq_q q = { 0 };
	char hex[65];
	int err;

	lb_store_hex_encode(s->id_hash, sizeof(s->id_hash), hex);
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO sessions (" SESSION_COLS ") VALUES"
	    " (:hash, :realm, :user, :csrf, :created, :idle, :expires, :ended)", &q));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	SQ_TRY(sq_bind_text(&q, ":realm", s->realm, sizeof(s->realm)));
	SQ_TRY(sq_bind_text(&q, ":user", s->user_id, sizeof(s->user_id)));
	SQ_TRY(sq_bind_text(&q, ":csrf", s->csrf, sizeof(s->csrf)));
	SQ_TRY(sq_bind_i64(&q, ":created", s->created_ms));
	SQ_TRY(sq_bind_i64(&q, ":idle", s->idle_expires_ms));
	SQ_TRY(sq_bind_i64(&q, ":expires", s->expires_ms));
	SQ_TRY(sq_bind_i64(&q, ":ended", s->ended_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_session_find(struct lb_tx *base, const uint8_t hash[32], struct lb_session *out,
    struct lb_user *user)
{
	struct sq_q q = { 0 };
	struct lb_session s;
	struct lb_user u;
	const char *h;
	char hex[65];
	int err, rc;

	memset(&s, 0, sizeof(s));
	lb_store_hex_encode(hash, 32, hex);
	SQ_TRY(sq_prepare(sq_tx(base), "SELECT " SESSION_COLS " FROM sessions"
	    " WHERE id_hash = :hash", &q));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	if ((h = sq_col_str(&q, 0)) == NULL) {
		err = LB_ERR_NOMEM;
		goto out;
	}
	SQ_TRY(lb_store_hex_decode(h, s.id_hash, sizeof(s.id_hash)));
	SQ_TRY(sq_col_text(&q, 1, s.realm, sizeof(s.realm)));
	SQ_TRY(sq_col_text(&q, 2, s.user_id, sizeof(s.user_id)));
	SQ_TRY(sq_col_text(&q, 3, s.csrf, sizeof(s.csrf)));
	s.created_ms = sq_col_i64(&q, 4);
	s.idle_expires_ms = sq_col_i64(&q, 5);
	s.expires_ms = sq_col_i64(&q, 6);
	s.ended_ms = sq_col_i64(&q, 7);
	sq_finish(&q);
	/* The user as it is now: roles changed since sign-in apply at once. */
	SQ_TRY(sq_user_get(base, s.realm, s.user_id, &u));
	*out = s;
	*user = u;
out:
	sq_finish(&q);
	return err;
}

int
sq_session_touch(struct lb_tx *base, const uint8_t hash[32], int64_t idle_expires_ms)
{
	struct sq_q q = { 0 };
	char hex[65];
	int err;

	lb_store_hex_encode(hash, 32, hex);
	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE sessions SET idle_expires_ms = :idle"
	    " WHERE id_hash = :hash AND ended_ms = 0", &q));
	SQ_TRY(sq_bind_i64(&q, ":idle", idle_expires_ms));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0)
		err = LB_ERR_NOT_FOUND;
out:
	sq_finish(&q);
	return err;
}

int
sq_session_end(struct lb_tx *base, const uint8_t hash[32], int64_t now_ms)
{
	struct sq_q q = { 0 };
	char hex[65];
	int err;

	lb_store_hex_encode(hash, 32, hex);
	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE sessions SET ended_ms = :now"
	    " WHERE id_hash = :hash AND ended_ms = 0", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_text(&q, ":hash", hex, sizeof(hex)));
	SQ_TRY(sq_exec(&q));
	if (sq_changes(&q) == 0)
		err = LB_ERR_NOT_FOUND;
out:
	sq_finish(&q);
	return err;
}

int
sq_session_end_user(struct lb_tx *base, const char *realm, const char *user_id,
    const uint8_t *keep, int64_t now_ms, int64_t *ended)
{
	struct sq_q q = { 0 };
	char hex[65] = "";
	int err;

	if (keep != NULL)
		lb_store_hex_encode(keep, 32, hex);
	SQ_TRY(sq_prepare(sq_tx(base), "UPDATE sessions SET ended_ms = :now"
	    " WHERE realm = :realm AND user_id = :user AND ended_ms = 0"
	    " AND id_hash <> :keep", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	SQ_TRY(sq_bind_text(&q, ":user", user_id, 0));
	SQ_TRY(sq_bind_text(&q, ":keep", hex, sizeof(hex)));
	SQ_TRY(sq_exec(&q));
	if (ended != NULL)
		*ended = sq_changes(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_session_prune(struct lb_tx *base, int64_t now_ms, int64_t *deleted)
{
	struct sq_q q = { 0 };
	int err;

	SQ_TRY(sq_prepare(sq_tx(base), "DELETE FROM sessions WHERE ended_ms <> 0"
	    " OR idle_expires_ms <= :now OR expires_ms <= :now", &q));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	SQ_TRY(sq_exec(&q));
	if (deleted != NULL)
		*deleted = sq_changes(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_password_put(struct lb_tx *base, const char *realm, const char *user_id,
    const char *hash, int64_t now_ms)
{
	struct sq_q q = { 0 };
	int err;

	/* ON CONFLICT ... DO UPDATE: SQLite 3.24+ and PostgreSQL alike. */
	SQ_TRY(sq_prepare(sq_tx(base), "INSERT INTO passwords (realm, user_id, hash, set_ms)"
	    " VALUES (:realm, :user, :hash, :now) ON CONFLICT (realm, user_id)"
	    " DO UPDATE SET hash = excluded.hash, set_ms = excluded.set_ms", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	SQ_TRY(sq_bind_text(&q, ":user", user_id, 0));
	SQ_TRY(sq_bind_text(&q, ":hash", hash, LB_PWHASH_MAX));
	SQ_TRY(sq_bind_i64(&q, ":now", now_ms));
	err = sq_exec(&q);
out:
	sq_finish(&q);
	return err;
}

int
sq_password_get(struct lb_tx *base, const char *realm, const char *user_id,
    char *hash, size_t len)
{
	struct sq_q q = { 0 };
	char buf[LB_PWHASH_MAX];
	int err, rc;

	SQ_TRY(sq_prepare(sq_tx(base), "SELECT hash FROM passwords"
	    " WHERE realm = :realm AND user_id = :user", &q));
	SQ_TRY(sq_bind_text(&q, ":realm", realm, 0));
	SQ_TRY(sq_bind_text(&q, ":user", user_id, 0));
	if ((rc = sq_step(&q)) != 1) {
		err = rc < 0 ? rc : LB_ERR_NOT_FOUND;
		goto out;
	}
	SQ_TRY(sq_col_text(&q, 0, buf, sizeof(buf)));
	if (strlen(buf) >= len) {
		err = LB_ERR_FIELD_TOO_LONG;
		goto out;
	}
	memcpy(hash, buf, strlen(buf) + 1);
out:
	sq_finish(&q);
	return err;
}
