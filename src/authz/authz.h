/*
 * Enforcement: signing keys, grant tokens, the live grants held in memory,
 * and the access check that a reverse proxy asks before serving content.
 */
#ifndef LOCKBOX_AUTHZ_H
#define LOCKBOX_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

/* ---------------------------------------------------------------- keys.c */

/*
 * The daemon's Ed25519 signing keys, kept in DATA_DIR/keys/ (directory
 * 0700, each secret key file 0600).  The first key is created on first
 * start.  Rotation makes a new key current; a retired key stays in the JWKS
 * (and keeps verifying) for LB_KEY_GRACE_MS after it was retired, longer
 * than any grant it signed can live.
 */
#define LB_KID_MAX       32
#define LB_KEY_GRACE_MS  ((LB_DURATION_MAX + 60) * 60LL * 1000)

struct lb_keyring;

/* Opens (creating if needed) the keys under data_dir.  Thread-safe after. */
int keys_open(const char *data_dir, int64_t now_ms, struct lb_keyring **out);
void keys_close(struct lb_keyring *kr);                 /* NULL is fine */
/* A new current key; the old one is retired at now_ms.  Writes its kid. */
int keys_rotate(struct lb_keyring *kr, int64_t now_ms, char kid[LB_KID_MAX + 1]);
/* {"keys":[{kty:OKP, crv:Ed25519, x, kid, alg:EdDSA, use:sig}, ...]} */
json_t *keys_jwks(struct lb_keyring *kr, int64_t now_ms);
/*
 * Every key this ring has ever used, public half only, as a JWKS (with
 * created_at): what verifies audit checkpoints for the trail's whole
 * retention, long after a key has stopped verifying grants.
 */
json_t *keys_audit_jwks(struct lb_keyring *kr);

/* pubkeys.c: the archive behind keys_audit_jwks (used by keys.c). */
struct lb_pubkeys;
int pubkeys_open(int dirfd, struct lb_pubkeys **out);
void pubkeys_close(struct lb_pubkeys *p);                /* NULL is fine */
/* Adds the key unless present; persists atomically. */
int pubkeys_note(struct lb_pubkeys *p, const char *kid, const unsigned char pk[32],
    int64_t created_ms);
json_t *pubkeys_jwks(struct lb_pubkeys *p);

/* The current key's id. */
int keys_current_kid(struct lb_keyring *kr, char kid[LB_KID_MAX + 1]);
/*
 * Signs msg with key `kid` (Ed25519, detached).  The ring never hands out
 * a secret key, only signatures.
 */
int keys_sign_kid(struct lb_keyring *kr, const char *kid,
    const unsigned char *msg, size_t len, unsigned char sig[64]);
/* 0 when sig is kid's valid signature of msg and kid is live at now_ms. */
int keys_verify_kid(struct lb_keyring *kr, const char *kid, int64_t now_ms,
    const unsigned char *msg, size_t len, const unsigned char sig[64]);

/* ----------------------------------------------------------------- jws.c */

/* Largest token accepted anywhere (header + payload + signature). */
#define LB_JWS_MAX 8192

/*
 * Signs `claims` as a compact JWS (RFC 7515) with the current key:
 * header {"alg":"EdDSA","kid":KID,"typ":"JWT"}.  *out is malloc'd.
 */
int jws_sign(struct lb_keyring *kr, json_t *claims, char **out);
/*
 * Verifies a compact JWS: three base64url (no padding) parts, a header
 * that is a JSON object with alg "EdDSA" and a known kid (and nothing
 * that changes processing: "crit" is refused), a valid Ed25519 signature
 * over "header.payload" with that key (retired keys within their grace),
 * a payload that is a JSON object.  No time checks here.  On success
 * *claims is the payload (owned by the caller).  LB_ERR_UNAUTHENTICATED
 * for anything wrong; never reads past `len`.
 */
int jws_verify(struct lb_keyring *kr, const char *token, size_t len, int64_t now_ms,
    json_t **claims);

/* A grant's claims, as Lockbox issues them. */
struct lb_grant_claims {
	char rid[LB_REQID_MAX + 1];             /* request id ("rid") */
	char tenant[LB_ID_MAX + 1];             /* "tenant" */
	char sub[LB_ID_MAX + 1];                /* the engineer ("sub") */
	char workload[LB_WORKLOAD_MAX + 1];     /* "wl" */
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1]; /* "res" */
	size_t nresources;
	int64_t nbf_s, exp_s, iat_s;            /* NumericDate seconds */
	char jti[LB_REQID_MAX + 1];
	bool emergency;                         /* "emg": true; absent when false */
};

/* Builds the claims object of a grant (iss "lockbox", typ via header). */
json_t *grant_claims_json(const struct lb_grant_claims *g);
/* Strictly parses claims made by grant_claims_json (types, limits). */
int grant_claims_parse(json_t *claims, struct lb_grant_claims *out);

/* ---------------------------------------------------------------- live.c */

/*
 * The live grants, held in memory so the access check reads no row: one
 * entry per approved request, added when the approval commits, removed at
 * once when a revoke commits, and ignored from the millisecond its window
 * ends.  Loaded from storage at start.
 */
struct lb_live_grant {
	char rid[LB_REQID_MAX + 1];
	char tenant[LB_ID_MAX + 1];
	char requester[LB_ID_MAX + 1];
	char workload[LB_WORKLOAD_MAX + 1];
	char resources[LB_RESOURCES_MAX][LB_RESOURCE_MAX + 1];
	size_t nresources;
	int64_t starts_ms;
	int64_t expires_ms;
	bool emergency;                 /* an emergency access (break-glass), rid its id */
};

struct lb_live;

int live_new(struct lb_live **out);
void live_free(struct lb_live *lv);                     /* NULL is fine */
/* Adds or replaces the grant of g->rid. */
int live_put(struct lb_live *lv, const struct lb_live_grant *g);
void live_remove(struct lb_live *lv, const char *rid);
/* Grants whose window holds now_ms; drops the ended ones. */
size_t live_count(struct lb_live *lv, int64_t now_ms);

/* Why the access check refused (or "" when it allowed). */
enum lb_refusal {
	LB_REF_NONE = 0,
	LB_REF_NO_GRANT,
	LB_REF_INVALID_GRANT,
	LB_REF_NOT_LIVE,
	LB_REF_WRONG_TENANT,
	LB_REF_WRONG_WORKLOAD,
	LB_REF_RESOURCE,
	LB_REF_METHOD,
	LB_REF_UNMAPPED,
	LB_REF_HOSTILE,
	LB_REF_NOT_ENGINEER,
	LB_REF_AUDIT,
	LB_REF_GATEWAY,
};
#define LB_REF_COUNT (LB_REF_GATEWAY + 1)
const char *lb_refusal_name(enum lb_refusal r);

/*
 * Checks request `rid` for an access by `engineer` to `path` of `tenant`
 * and `workload` ("" matches any) at now_ms, under the lock, without
 * copying the grant.  Returns LB_REF_NONE when the grant is live (starts
 * <= now < expires), belongs to that engineer and tenant, and one of its
 * resources covers the path.
 */
enum lb_refusal live_check(struct lb_live *lv, const char *rid, const char *engineer,
    const char *tenant, const char *workload, const char *path, int64_t now_ms);
/*
 * live_check, also telling whether the entry found is an emergency access
 * (*emergency false when no entry exists), so the access check records it
 * under record type CustomerLockboxEmergencyAccess.
 */
enum lb_refusal live_check_kind(struct lb_live *lv, const char *rid, const char *engineer,
    const char *tenant, const char *workload, const char *path, int64_t now_ms,
    bool *emergency);

/* --------------------------------------------------------------- cache.c */

/*
 * A small direct-mapped cache keyed by a 32-byte digest (of a token), with
 * fixed-size values and an age limit.  Used to remember verified grants
 * and authenticated API tokens so the hot path neither checks a signature
 * nor reads a row on every call.  Thread-safe.
 */
struct lb_cache;

int cache_new(size_t slots, size_t value_size, struct lb_cache **out);
void cache_free(struct lb_cache *c);                    /* NULL is fine */
/* 1 and the value copied to out when present and younger than max_age_ms. */
int cache_get(struct lb_cache *c, const uint8_t key[32], void *out, int64_t now_mono_ms,
    int64_t max_age_ms);
void cache_put(struct lb_cache *c, const uint8_t key[32], const void *value,
    int64_t now_mono_ms);
void cache_clear(struct lb_cache *c);

#endif
