/*
 * gen_audit: builds the audit benchmark's fixture, a Lockbox database with
 * many real audit records, through the store and the audit code the daemon
 * uses (store_open, audit_append_text): every record has its true seq,
 * prev_hash and SHA-256 hash, and every chain ends on a checkpoint signed
 * with the data directory's keys, so the daemon serves, exports and
 * verifies it like any other.
 *
 *   gen_audit DATA_DIR RECORDS TENANTS DAYS
 *
 * Tenants t0001..tN are created; t0001 is the busy one (a tenth of all
 * records), the rest share the remainder with a falling weight.  Each
 * chain's record times ascend evenly over the last DAYS days.  Chains are
 * written one after the other (so the B-tree pages an insert touches are
 * the ones the last insert touched), 100,000 records to a write
 * transaction.  The store runs with its usual synchronous=FULL: with
 * so few commits the fsyncs cost nothing worth avoiding.  Each chain's
 * head is cached by the generator across transactions, which is sound only
 * because it is the database's sole writer while it runs.
 *
 * Prints the append rate (records/s, hashing and indexes included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit/audit.h"
#include "authz/authz.h"
#include "store/store.h"
#include "sys/sys.h"

#define TX_RECORDS 100000

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
arg_long(const char *s, long min, long max)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "gen_audit: '%s' is not a number in %ld..%ld\n", s, min, max);
		exit(2);
	}
	return v;
}

/* A small deterministic generator (xorshift64*): the fixture is repeatable. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

struct kind {
	const char *record_type;
	const char *operation;
	const char *result;
	int weight;                     /* out of 100 */
};

static const struct kind kinds[] = {
	{ LB_RT_ACCESS, "AccessContent", "allowed", 55 },
	{ LB_RT_ACCESS, "AccessContent", "denied", 10 },
	{ LB_RT_ACCESS, "AccessMetadata", "allowed", 8 },
	{ LB_RT_REQUEST, "CreateRequest", "success", 8 },
	{ LB_RT_REQUEST, "ApproveRequest", "success", 6 },
	{ LB_RT_REQUEST, "DenyRequest", "success", 2 },
	{ LB_RT_REQUEST, "ExpireRequest", "success", 2 },
	{ LB_RT_REQUEST, "CompleteRequest", "success", 4 },
	{ LB_RT_SETTINGS, "SetCustomerLockboxSetting", "success", 2 },
	{ LB_RT_ADMIN, "OpenCase", "success", 3 },
};

static const struct kind *
pick_kind(void)
{
	int u = (int)(rng() % 100), acc = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		acc += kinds[i].weight;
		if (u < acc)
			return &kinds[i];
	}
	return &kinds[0];
}

int
main(int argc, char **argv)
{
	struct lb_store *st = NULL;
	struct lb_keyring *kr = NULL;
	struct lb_tx *tx = NULL;
	struct lb_audit_head *heads = NULL;
	long *share = NULL;
	char url[4200], (*tids)[LB_ID_MAX + 1] = NULL;
	int rc = 1, err;

	if (argc != 5) {
		fprintf(stderr, "usage: gen_audit DATA_DIR RECORDS TENANTS DAYS\n");
		return 2;
	}
	const char *dir = argv[1];
	long nrec = arg_long(argv[2], 1, 1000000000L);
	size_t nten = (size_t)arg_long(argv[3], 1, 100000);
	long days = arg_long(argv[4], 1, 3650);
	int64_t now = clock_now_ms();
	int64_t t0 = now - (int64_t)days * 86400000LL;
	double span = (double)(now - 60000 - t0);

	if (sodium_init() < 0)
		return 1;
	snprintf(url, sizeof(url), "sqlite:%s/lockbox.db", dir);
	if ((err = store_open(url, &st)) != 0 || (err = keys_open(dir, now, &kr)) != 0) {
		fprintf(stderr, "gen_audit: cannot open %s: %s\n", dir, lb_err_code(err));
		goto out;
	}
	heads = calloc(nten, sizeof(*heads));
	share = calloc(nten, sizeof(*share));
	tids = calloc(nten, sizeof(*tids));
	if (heads == NULL || share == NULL || tids == NULL)
		goto out;
	/* 10% to t0001, the rest weighted ~1/(i+1); rounding left to t0001. */
	double total = 0;
	long given = 0;
	for (size_t i = 1; i < nten; i++)
		total += 1.0 / (double)(i + 1);
	for (size_t i = 1; i < nten; i++) {
		share[i] = (long)(0.9 * (double)nrec * (1.0 / (double)(i + 1)) / total);
		given += share[i];
	}
	share[0] = nrec - given;

	if ((err = store_begin(st, true, &tx)) != 0)
		goto fail;
	for (size_t i = 0; i < nten; i++) {
		struct lb_tenant t;
		memset(&t, 0, sizeof(t));
		snprintf(tids[i], sizeof(tids[i]), "t%04zu", i + 1);
		memcpy(t.id, tids[i], sizeof(t.id));
		snprintf(t.name, sizeof(t.name), "Tenant %zu", i + 1);
		memcpy(t.plan, "M365_E5", 8);
		t.cloud = LB_CLOUD_COMMERCIAL;
		t.created_ms = t0 - 1000;
		if ((err = store_tenant_insert(tx, &t)) != 0 && err != LB_ERR_ALREADY_EXISTS)
			goto fail;
	}
	if ((err = store_commit(tx)) != 0) {
		tx = NULL;
		goto fail;
	}
	tx = NULL;

	double began = mono_s();
	size_t ti = 0;
	long j = 0;             /* records written of tenant ti */
	for (long i = 0; i < nrec; i++, j++) {
		if (tx == NULL && (err = store_begin(st, true, &tx)) != 0)
			goto fail;
		while (j >= share[ti]) {
			ti++;
			j = 0;
		}
		const struct kind *k = pick_kind();
		struct lb_actor actor;
		char details[512], object[64];
		unsigned eng = (unsigned)(rng() % 40), user = (unsigned)(rng() % 5000);
		unsigned req = (unsigned)(rng() % 100000);

		memset(&actor, 0, sizeof(actor));
		snprintf(object, sizeof(object), "req_bench%06u", req);
		if (strcmp(k->record_type, LB_RT_ACCESS) == 0) {
			snprintf(actor.id, sizeof(actor.id), "gw1");
			memcpy(actor.realm, "provider", 9);
			actor.type = LB_ACTOR_SERVICE;
			snprintf(details, sizeof(details),
			    "{\"engineer\":\"eng%u\",\"kind\":\"%s\",\"method\":\"GET\","
			    "\"reason\":\"%s\",\"request_id\":\"%s\",\"resource\":"
			    "\"mailbox/user%u@%s.example\",\"workload\":\"exchange\"}",
			    eng, strcmp(k->operation, "AccessMetadata") == 0 ? "metadata" : "content",
			    strcmp(k->result, "denied") == 0 ? "no_grant" : "", object, user,
			    tids[ti]);
		} else if (strcmp(k->record_type, LB_RT_REQUEST) == 0) {
			snprintf(actor.id, sizeof(actor.id), "%s",
			    strcmp(k->operation, "CreateRequest") == 0 ? "eng1" : "ga1");
			snprintf(actor.realm, sizeof(actor.realm), "%s",
			    strcmp(k->operation, "CreateRequest") == 0 ? "provider" : tids[ti]);
			actor.type = LB_ACTOR_USER;
			snprintf(details, sizeof(details),
			    "{\"case_id\":\"case_bench%u\",\"duration_minutes\":720,"
			    "\"justification\":\"Customer ticket %u: mailbox does not sync\","
			    "\"request_id\":\"%s\",\"requester\":\"eng%u\",\"resources\":"
			    "[\"mailbox/user%u@%s.example\"],\"status\":\"pending\","
			    "\"workload\":\"exchange\"}", req, req, object, eng, user, tids[ti]);
		} else {
			memcpy(actor.id, "ga1", 4);
			snprintf(actor.realm, sizeof(actor.realm), "%s", tids[ti]);
			actor.type = LB_ACTOR_USER;
			snprintf(details, sizeof(details), "{\"title\":\"Case %u\"}", req);
		}
		struct lb_audit_event ev = {
			.tenant = tids[ti], .record_type = k->record_type,
			.operation = k->operation, .actor = &actor, .object_id = object,
			.result = k->result, .client_ip = "10.0.0.7", .details = NULL,
			.time_ms = t0 + (int64_t)((double)j * span / (double)share[ti]),
		};
		if ((err = audit_append_text(tx, &ev, details, &heads[ti])) != 0)
			goto fail;
		if ((i + 1) % TX_RECORDS == 0 || i + 1 == nrec) {
			err = store_commit(tx);
			tx = NULL;
			if (err != 0)
				goto fail;
			fprintf(stderr, "\rgen_audit: %ld records", i + 1);
		}
	}
	double took = mono_s() - began;
	fprintf(stderr, "\n");
	int ncp = audit_checkpoint_all(st, kr, clock_now_ms());
	if (ncp < 0) {
		err = ncp;
		goto fail;
	}
	printf("append_records %ld\nappend_seconds %.2f\nappend_rate %.0f\ncheckpoints %d\n",
	    nrec, took, (double)nrec / took, ncp);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "gen_audit: failed: %s\n", lb_err_code(err));
out:
	store_rollback(tx);
	keys_close(kr);
	store_close(st);
	free(heads);
	free(share);
	free(tids);
	return rc;
}
