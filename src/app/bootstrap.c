/*
 * The first principal.  On a database that has never been bootstrapped,
 * LOCKBOX_BOOTSTRAP_TOKEN creates provider principal `admin` with role
 * provider_admin and that token (stored only as its hash).  Afterwards the
 * variable is ignored, so leaving it set cannot recreate or reset `admin`.
 */
#include <string.h>

#include <sodium.h>

#include "app/app.h"
#include "audit/audit.h"

int
app_bootstrap(struct lb_app *app, const char *token)
{
	struct lb_tx *tx = NULL;
	struct lb_user u;
	struct lb_token t;
	uint8_t hash[32];
	char done[16];
	int rc;

	if ((rc = store_begin(app->store, true, &tx)) != 0)
		return rc;
	rc = store_meta_get(tx, "bootstrap_done", done, sizeof(done));
	if (rc == 0) {
		if (token != NULL && token[0] != '\0')
			log_info("bootstrap", "msg=\"database already bootstrapped; LOCKBOX_BOOTSTRAP_TOKEN ignored\"");
		store_rollback(tx);
		return 0;
	}
	if (rc != LB_ERR_NOT_FOUND)
		goto out;
	if (token == NULL || token[0] == '\0') {
		log_warn("bootstrap", "msg=\"new database and no LOCKBOX_BOOTSTRAP_TOKEN: no principal can sign in\"");
		store_rollback(tx);
		return 0;
	}
	if (!token_well_formed(token)) {
		log_error("bootstrap", "msg=\"LOCKBOX_BOOTSTRAP_TOKEN must be lbt_ followed by 43 base64url characters\"");
		rc = LB_ERR_INVALID_VALUE;
		goto out;
	}
	int64_t now = clock_now_ms();
	memset(&u, 0, sizeof(u));
	memcpy(u.id, "admin", 6);
	memcpy(u.realm, LB_PROVIDER_REALM, sizeof(LB_PROVIDER_REALM));
	u.roles = LB_ROLE_PROVIDER_ADMIN;
	u.type = LB_ACTOR_USER;
	memcpy(u.display_name, "Provider administrator", 23);
	u.created_ms = now;
	memset(&t, 0, sizeof(t));
	ids_new("tok", t.id, sizeof(t.id));
	memcpy(t.realm, u.realm, sizeof(LB_PROVIDER_REALM));
	memcpy(t.user_id, u.id, 6);
	memcpy(t.label, "bootstrap", 10);
	t.created_ms = now;
	token_hash(token, hash);
	if ((rc = store_user_insert(tx, &u)) != 0 ||
	    (rc = store_token_insert(tx, &t, hash)) != 0 ||
	    (rc = store_meta_put(tx, "bootstrap_done", "1")) != 0)
		goto out;
	json_t *d = json_pack("{s:s, s:s, s:[s]}", "realm", u.realm, "user", u.id,
	    "roles", "provider_admin");
	struct lb_audit_event ev = {
		.tenant = "", .record_type = LB_RT_ADMIN, .operation = "CreateUser",
		.actor = &app_system_actor, .object_id = "provider/admin",
		.details = d, .time_ms = now,
	};
	rc = audit_append(tx, &ev);
	json_decref(d);
	if (rc != 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0)
		log_info("bootstrap", "msg=\"created provider principal admin\" token_id=%s", t.id);
out:
	sodium_memzero(hash, sizeof(hash));
	store_rollback(tx);
	return rc;
}
