/*
 * The two audit commands that are more than one call shown as a table.
 *
 * `audit export` streams the daemon's answer into a file (or standard
 * output) as it arrives, so an export of millions of records never sits in
 * memory; a stream cut short is reported and its partial file removed.
 *
 * `audit verify --file` checks an export with src/audit/verify.c, the same
 * code the daemon runs, reading the file line by line: it needs only the
 * public keys (a JWKS file, or the JWKS fetched from a URL without sending
 * the API token), never the daemon's database or secrets.  `audit verify`
 * without --file shows the daemon's own verification.  Both print one line
 * and exit 0 when the trail verifies, or CLI_EXIT_VERIFY (10) saying where
 * and why it does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/verify.h"
#include "cli/cli.h"
#include "lockbox/wire.h"

#define JWKS_FILE_MAX (1024 * 1024)

static int
oom(void)
{
	fprintf(stderr, "lockbox: out of memory\n");
	return CLI_EXIT_OTHER;
}

static const char *
local_str(const struct cli_inv *inv, const char *key)
{
	return json_string_value(json_object_get(inv->local, key));
}

bool
cli_audit_offline(const struct cli_inv *inv)
{
	const struct cli_cmd *c = inv->cmd;

	return c != NULL && strcmp(c->group, "audit") == 0 && c->verb != NULL &&
	    strcmp(c->verb, "verify") == 0 && local_str(inv, "file") != NULL;
}

/* ---------------------------------------------------------------- export */

static int
run_export(struct cli_inv *inv, struct cli_http *h, const char *target)
{
	const char *path = local_str(inv, "output");
	struct cli_resp err = { 0, NULL, 0 };
	unsigned long long bytes = 0;
	FILE *out = stdout;
	int fd = -1, rc;

	if (path != NULL) {
		/* Audit data is sensitive: the file is the caller's alone. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "lockbox: cannot write %s: %s\n", path,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			return CLI_EXIT_OTHER;
		}
	}
	rc = cli_http_download(h, target, out, &err, &bytes);
	if (rc == CLI_EXIT_OK && (err.status < 200 || err.status > 299))
		rc = cli_print_http_error(&err);
	if (fflush(out) != 0 && rc == CLI_EXIT_OK) {
		fprintf(stderr, "lockbox: cannot write the output\n");
		rc = CLI_EXIT_OTHER;
	}
	if (path != NULL) {
		if (fsync(fileno(out)) != 0 && rc == CLI_EXIT_OK) {
			fprintf(stderr, "lockbox: cannot write %s: %s\n", path,
			    strerror(errno));
			rc = CLI_EXIT_OTHER;
		}
		if (fclose(out) != 0 && rc == CLI_EXIT_OK) {
			fprintf(stderr, "lockbox: cannot write %s\n", path);
			rc = CLI_EXIT_OTHER;
		}
		if (rc != CLI_EXIT_OK)
			unlink(path);   /* a partial export must not pass for one */
		else
			fprintf(stderr, "lockbox: wrote %llu bytes to %s\n", bytes, path);
	}
	cli_resp_free(&err);
	return rc;
}

/* ---------------------------------------------------------------- verify */

/* Ed25519 key `kid` from a JWKS document {"keys": [{kid, x, ...}]}. */
static int
jwks_key(void *ctx, const char *kid, unsigned char pk[32])
{
	json_t *keys = json_object_get((json_t *)ctx, "keys"), *k;
	size_t i, len = 0;

	json_array_foreach(keys, i, k) {
		const char *id = json_string_value(json_object_get(k, "kid"));
		const char *x = json_string_value(json_object_get(k, "x"));
		const char *crv = json_string_value(json_object_get(k, "crv"));
		if (id == NULL || x == NULL || strcmp(id, kid) != 0)
			continue;
		if (crv != NULL && strcmp(crv, "Ed25519") != 0)
			return -1;
		if (sodium_base642bin(pk, 32, x, strlen(x), NULL, &len, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || len != 32)
			return -1;
		return 0;
	}
	return -1;
}

/* The public keys: --key FILE, else the JWKS at --jwks or the daemon's. */
static int
load_keys(struct cli_inv *inv, json_t **out)
{
	const char *file = local_str(inv, "key"), *url = local_str(inv, "jwks");
	struct cli_http *h = NULL;
	struct cli_resp r = { 0, NULL, 0 };
	struct cli_buf def;
	json_error_t e;
	json_t *doc = NULL;
	FILE *f = NULL;
	int rc = CLI_EXIT_OTHER;

	cli_buf_init(&def, CLI_URL_MAX);
	if (file != NULL && url != NULL) {
		rc = cli_usage_error(inv, "--key and --jwks cannot be used together");
		goto out;
	}
	if (file != NULL) {
		struct stat sb;
		if ((f = fopen(file, "r")) == NULL || fstat(fileno(f), &sb) != 0) {
			fprintf(stderr, "lockbox: cannot read %s: %s\n", file, strerror(errno));
			goto out;
		}
		if (sb.st_size > JWKS_FILE_MAX) {
			fprintf(stderr, "lockbox: %s is larger than %d bytes\n", file,
			    JWKS_FILE_MAX);
			goto out;
		}
		if ((doc = json_loadf(f, 0, &e)) == NULL) {
			fprintf(stderr, "lockbox: %s is not JSON: %s\n", file, e.text);
			goto out;
		}
	} else {
		if (url == NULL) {
			cli_buf_add(&def, inv->url);
			while (def.len > 0 && def.p[def.len - 1] == '/')
				def.p[--def.len] = '\0';
			cli_buf_add(&def, "/.well-known/lockbox-audit-keys.json");
			if (def.bad) {
				rc = oom();
				goto out;
			}
			url = def.p;
		}
		/* No token: the keys are public, and the URL may be anyone's. */
		if ((rc = cli_http_new(url, NULL, &h)) != CLI_EXIT_OK)
			goto out;
		rc = CLI_EXIT_OTHER;
		if ((rc = cli_http_call(h, "GET", "", NULL, &r)) != CLI_EXIT_OK)
			goto out;
		if (r.status < 200 || r.status > 299) {
			fprintf(stderr, "lockbox: fetching the keys answered HTTP %ld\n", r.status);
			rc = CLI_EXIT_TRANSPORT;
			goto out;
		}
		if ((doc = json_loadb(r.body, r.len, 0, &e)) == NULL) {
			fprintf(stderr, "lockbox: the keys are not JSON: %s\n", e.text);
			rc = CLI_EXIT_OTHER;
			goto out;
		}
	}
	if (!json_is_array(json_object_get(doc, "keys"))) {
		fprintf(stderr, "lockbox: the keys are not a JWKS ({\"keys\": [...]})\n");
		rc = CLI_EXIT_OTHER;
		goto out;
	}
	*out = doc;
	doc = NULL;
	rc = CLI_EXIT_OK;
out:
	if (f != NULL)
		fclose(f);
	json_decref(doc);
	cli_resp_free(&r);
	cli_http_free(h);
	cli_buf_free(&def);
	return rc;
}

/* Prints a result as one line (or JSON); returns 0 or CLI_EXIT_VERIFY. */
static int
report(const struct cli_inv *inv, bool ok, json_int_t records, json_int_t checkpoints,
    json_int_t first, json_int_t last, const char *problem, json_int_t bad_seq,
    json_int_t bad_line, const char *reason)
{
	struct cli_buf clean;
	int rc = ok ? CLI_EXIT_OK : CLI_EXIT_VERIFY;

	if (inv->json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
		    "ok", ok, "records", records, "checkpoints", checkpoints,
		    "first_seq", first, "last_seq", last,
		    "problem", ok || problem == NULL ? json_null() : json_string(problem),
		    "bad_seq", ok || bad_seq < 0 ? json_null() : json_integer(bad_seq),
		    "bad_line", ok || bad_line < 0 ? json_null() : json_integer(bad_line),
		    "reason", ok || reason == NULL ? json_null() : json_string(reason));
		int prc = o != NULL ? cli_print_json(o) : oom();
		json_decref(o);
		return prc != CLI_EXIT_OK ? prc : rc;
	}
	if (ok) {
		printf("OK: %lld records, %lld checkpoints, seq %lld..%lld\n",
		    (long long)records, (long long)checkpoints, (long long)first,
		    (long long)last);
		return rc;
	}
	cli_buf_init(&clean, 4096);
	cli_sanitize(&clean, reason != NULL ? reason : "");
	printf("FAILED");
	if (bad_line >= 0)
		printf(" at line %lld", (long long)bad_line);
	if (bad_seq >= 0)
		printf(bad_line >= 0 ? " (seq %lld)" : " at seq %lld", (long long)bad_seq);
	printf(": %s: %s\n", problem != NULL ? problem : "unknown",
	    clean.bad ? "(reason too long)" : cli_buf_str(&clean));
	cli_buf_free(&clean);
	return rc;
}

int
cli_audit_verify_file(struct cli_inv *inv)
{
	const char *path = local_str(inv, "file");
	struct lb_verify_result res;
	struct lb_verify *v = NULL;
	json_t *keys = NULL;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = (size_t)LB_VERIFY_LINE_MAX + 2;
	int rc;

	memset(&res, 0, sizeof(res));
	if (sodium_init() < 0) {
		fprintf(stderr, "lockbox: cannot initialise libsodium\n");
		return CLI_EXIT_OTHER;
	}
	if ((rc = load_keys(inv, &keys)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_OTHER;
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "lockbox: cannot read %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((line = malloc(cap)) == NULL) {
		rc = oom();
		goto out;
	}
	if (verify_new(jwks_key, keys, &v) != 0) {
		rc = oom();
		goto out;
	}
	/*
	 * Line by line in a buffer of fixed size: a line longer than any
	 * export holds is handed over at its cap, and the verifier refuses it.
	 */
	for (;;) {
		if (fgets(line, (int)cap, f) == NULL)
			break;
		size_t n = strlen(line);
		bool whole = n > 0 && line[n - 1] == '\n';
		if (whole)
			n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		int vr = verify_line(v, line, n);
		if (!whole && !feof(f)) {
			/* Too long: skip the rest of it; the verifier already has
			 * the first LB_VERIFY_LINE_MAX bytes to refuse. */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		}
		if (vr != 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "lockbox: cannot read %s\n", path);
		goto out;
	}
	verify_finish(v, &res);
	rc = report(inv, res.ok, res.records, res.checkpoints, res.first_seq, res.last_seq,
	    lb_verify_problem_name(res.problem), res.bad_seq, res.bad_line, res.reason);
out:
	if (f != NULL && f != stdin)
		fclose(f);
	verify_free(v);
	free(line);
	json_decref(keys);
	return rc;
}

/* audit verify without --file: the daemon's answer, shown the same way. */
static int
run_verify(struct cli_inv *inv, struct cli_http *h, const char *target)
{
	struct cli_resp r = { 0, NULL, 0 };
	json_t *o = NULL;
	json_error_t e;
	int rc;

	if (local_str(inv, "jwks") != NULL || local_str(inv, "key") != NULL)
		return cli_usage_error(inv, "--jwks and --key apply with --file only");
	if ((rc = cli_http_call(h, "GET", target, NULL, &r)) != CLI_EXIT_OK)
		goto out;
	if (r.status < 200 || r.status > 299) {
		rc = cli_print_http_error(&r);
		goto out;
	}
	if ((o = json_loadb(r.body, r.len, 0, &e)) == NULL || !json_is_object(o)) {
		fprintf(stderr, "lockbox: the answer is not a verification result\n");
		rc = CLI_EXIT_OTHER;
		goto out;
	}
	json_t *bad = json_object_get(o, "bad_seq");
	rc = report(inv, json_is_true(json_object_get(o, "ok")),
	    json_integer_value(json_object_get(o, "records")),
	    json_integer_value(json_object_get(o, "checkpoints")),
	    json_integer_value(json_object_get(o, "first_seq")),
	    json_integer_value(json_object_get(o, "last_seq")),
	    json_string_value(json_object_get(o, "problem")),
	    json_is_integer(bad) ? json_integer_value(bad) : -1, -1,
	    json_string_value(json_object_get(o, "reason")));
out:
	json_decref(o);
	cli_resp_free(&r);
	return rc;
}

int
cli_audit_run(struct cli_inv *inv, struct cli_http *h, const char *target)
{
	const char *verb = inv->cmd->verb != NULL ? inv->cmd->verb : "";

	if (strcmp(verb, "export") == 0)
		return run_export(inv, h, target);
	if (strcmp(verb, "verify") == 0)
		return run_verify(inv, h, target);
	fprintf(stderr, "lockbox: no runner for this command\n");
	return CLI_EXIT_OTHER;
}
