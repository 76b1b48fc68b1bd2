/*
 * The engine that runs any row of the command table: it finds the tenant,
 * builds the path and query (every segment and value percent-encoded),
 * sends the call, follows next_page_token for lists, and shows the answer.
 *
 * Lists ask for exactly as many items as are still wanted
 * (min(--page-size, --limit - shown)), so the next_page_token printed with
 * --json always continues right after the last item printed.  An error
 * answer is printed as `lockbox: <code>: <message> (HTTP <status>)` and
 * mapped to the exit status documented in --help.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lockbox/wire.h"

static int
oom(void)
{
	fprintf(stderr, "lockbox: out of memory\n");
	return CLI_EXIT_OTHER;
}

/* Parses a 2xx answer as JSON; CLI_EXIT_OTHER when it is not. */
static int
parse_answer(const struct cli_resp *r, json_t **out)
{
	json_error_t e;

	*out = json_loadb(r->body, r->len, 0, &e);
	if (*out == NULL) {
		fprintf(stderr, "lockbox: the answer (HTTP %ld) is not JSON: "
		    "%s\n", r->status, e.text);
		return CLI_EXIT_OTHER;
	}
	return CLI_EXIT_OK;
}

/* GET `target`; on success *out holds the parsed JSON answer. */
static int
get_json(struct cli_http *h, const char *target, json_t **out)
{
	struct cli_resp r = { 0, NULL, 0 };
	int rc = cli_http_call(h, "GET", target, NULL, &r);

	if (rc != CLI_EXIT_OK)
		goto out;
	if (r.status < 200 || r.status > 299) {
		rc = cli_print_http_error(&r);
		goto out;
	}
	rc = parse_answer(&r, out);
out:
	cli_resp_free(&r);
	return rc;
}

/*
 * The tenant of a tenant-scoped command: --tenant / LOCKBOX_TENANT, else
 * the caller's realm when it is a tenant (GET /v1/me).  *out is NULL for a
 * provider principal; *owned is what the caller frees.
 */
static int
resolve_tenant(const struct cli_inv *inv, struct cli_http *h,
    const char **out, char **owned)
{
	json_t *me = NULL;
	const char *realm;
	int rc;

	*out = inv->tenant;
	if (inv->tenant != NULL)
		return CLI_EXIT_OK;
	if ((rc = get_json(h, LB_API_PREFIX "/me", &me)) != CLI_EXIT_OK)
		goto out;
	realm = json_string_value(json_object_get(me, "realm"));
	if (realm == NULL) {
		fprintf(stderr, "lockbox: GET /v1/me gave no realm\n");
		rc = CLI_EXIT_OTHER;
		goto out;
	}
	if (strcmp(realm, LB_PROVIDER_REALM) != 0) {
		if ((*owned = strdup(realm)) == NULL) {
			rc = oom();
			goto out;
		}
		*out = *owned;
	}
out:
	json_decref(me);
	return rc;
}

/* Expands {t} and {N} of a path template, percent-encoding each value. */
static void
build_path(struct cli_http *h, struct cli_buf *b, const char *tmpl,
    const char *tenant, const struct cli_inv *inv)
{
	const char *p = tmpl, *open, *close;

	while ((open = strchr(p, '{')) != NULL &&
	    (close = strchr(open, '}')) != NULL) {
		cli_buf_addn(b, p, (size_t)(open - p));
		if (open[1] == 't')
			cli_http_escape(h, b, tenant);
		else if (open[1] >= '0' && open[1] <= '9' &&
		    (size_t)(open[1] - '0') < inv->npos)
			cli_http_escape(h, b, inv->pos[open[1] - '0']);
		else
			b->bad = true;
		p = close + 1;
	}
	cli_buf_add(b, p);
}

/* Appends "?k=v&..." from the query flags, page_size and page_token. */
static void
build_query(struct cli_http *h, struct cli_buf *b, json_t *query,
    long page_size, const char *page_token)
{
	const char *k;
	json_t *v;
	char num[32];
	bool first = true;

	json_object_foreach(query, k, v) {
		cli_buf_add(b, first ? "?" : "&");
		first = false;
		cli_http_escape(h, b, k);
		cli_buf_add(b, "=");
		cli_http_escape(h, b, json_string_value(v));
	}
	if (page_size > 0) {
		snprintf(num, sizeof(num), "%ld", page_size);
		cli_buf_add(b, first ? "?page_size=" : "&page_size=");
		cli_buf_add(b, num);
		first = false;
	}
	if (page_token != NULL) {
		cli_buf_add(b, first ? "?page_token=" : "&page_token=");
		cli_http_escape(h, b, page_token);
	}
}

/* Text answers (/metrics), line by line through cli_sanitize. */
static int
print_text(const struct cli_resp *r)
{
	size_t start = 0;
	int rc = CLI_EXIT_OK;

	while (start < r->len && rc == CLI_EXIT_OK) {
		struct cli_buf line, clean;
		const char *nl = memchr(r->body + start, '\n', r->len - start);
		size_t end = nl != NULL ? (size_t)(nl - r->body) : r->len;

		cli_buf_init(&line, CLI_RESPONSE_MAX);
		cli_buf_init(&clean, CLI_RESPONSE_MAX);
		cli_buf_addn(&line, r->body + start, end - start);
		cli_sanitize(&clean, cli_buf_str(&line));
		if (line.bad || clean.bad)
			rc = oom();
		else
			printf("%s\n", cli_buf_str(&clean));
		cli_buf_free(&line);
		cli_buf_free(&clean);
		start = end + 1;
	}
	return rc;
}

/* One call of `method` with an object (or text) for an answer. */
static int
run_one(struct cli_inv *inv, struct cli_http *h, const char *method,
    const char *target)
{
	const struct cli_cmd *c = inv->cmd;
	struct cli_resp r = { 0, NULL, 0 };
	const json_t *body = NULL;
	json_t *ans = NULL;
	int rc;

	/* POST and PATCH always carry a JSON object, if only {}. */
	if (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0)
		body = inv->body;
	if ((rc = cli_http_call(h, method, target, body, &r)) != CLI_EXIT_OK)
		goto out;
	if (r.status < 200 || r.status > 299) {
		rc = cli_print_http_error(&r);
		goto out;
	}
	if (c->opts & CLI_C_TEXT) {
		rc = print_text(&r);
		goto out;
	}
	if (r.len == 0)
		goto out;
	if ((rc = parse_answer(&r, &ans)) != CLI_EXIT_OK)
		goto out;
	if (inv->json) {
		rc = cli_print_json(ans);
		goto out;
	}
	rc = cli_view_block(c->view, ans);
	if (rc == CLI_EXIT_OK && (c->opts & CLI_C_SECRET))
		fprintf(stderr, "\nThe TOKEN above is shown only this once; "
		    "store it now.\n");
out:
	json_decref(ans);
	cli_resp_free(&r);
	return rc;
}

/* A paged list: follows next_page_token until --limit items or the end. */
static int
run_list(struct cli_inv *inv, struct cli_http *h, const char *path)
{
	json_t *all = json_array(), *page = NULL, *items, *next, *out = NULL;
	char *token = NULL;
	struct cli_buf target;
	size_t have = 0;
	bool more = false;
	int rc = CLI_EXIT_OK;

	cli_buf_init(&target, CLI_URL_MAX);
	if (all == NULL) {
		rc = oom();
		goto out;
	}
	for (;;) {
		long want = inv->page_size > 0 ? inv->page_size :
		    LB_PAGE_SIZE_DEFAULT;
		const char *nt;
		size_t i;

		if (inv->limit > 0 && (long)(inv->limit - (long)have) < want)
			want = inv->limit - (long)have;
		cli_buf_free(&target);
		cli_buf_init(&target, CLI_URL_MAX);
		cli_buf_add(&target, path);
		build_query(h, &target, inv->query, want, token);
		if (target.bad) {
			fprintf(stderr, "lockbox: the request URL is too long\n");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		json_decref(page);
		page = NULL;
		if ((rc = get_json(h, target.p, &page)) != CLI_EXIT_OK)
			goto out;
		items = json_object_get(page, "items");
		next = json_object_get(page, "next_page_token");
		if (!json_is_array(items) || (next != NULL &&
		    !json_is_null(next) && !json_is_string(next))) {
			fprintf(stderr, "lockbox: the answer is not a list\n");
			rc = CLI_EXIT_OTHER;
			goto out;
		}
		for (i = 0; i < json_array_size(items); i++) {
			if (inv->limit > 0 && have == (size_t)inv->limit)
				break;
			if (json_array_append(all, json_array_get(items, i))) {
				rc = oom();
				goto out;
			}
			have++;
		}
		nt = json_string_value(next);
		more = nt != NULL || i < json_array_size(items);
		if (nt == NULL || (inv->limit > 0 && have >= (size_t)inv->limit))
			break;
		if (token != NULL && strcmp(token, nt) == 0) {
			fprintf(stderr, "lockbox: the server repeated a page "
			    "token; stopping\n");
			rc = CLI_EXIT_OTHER;
			goto out;
		}
		free(token);
		if ((token = strdup(nt)) == NULL) {
			rc = oom();
			goto out;
		}
	}
	if (inv->json) {
		out = json_pack("{s:O,s:O}", "items", all, "next_page_token",
		    more ? json_object_get(page, "next_page_token") :
		    json_null());
		rc = out != NULL ? cli_print_json(out) : oom();
		goto out;
	}
	rc = cli_view_table(inv->cmd->view, all);
	if (rc == CLI_EXIT_OK && more)
		fprintf(stderr, "lockbox: showing the first %zu; more exist "
		    "(--limit 0 shows all)\n", have);
out:
	free(token);
	cli_buf_free(&target);
	json_decref(out);
	json_decref(page);
	json_decref(all);
	return rc;
}

int
cli_run(struct cli_inv *inv)
{
	const struct cli_cmd *c = inv->cmd;
	struct cli_http *h = NULL;
	struct cli_buf target;
	const char *tenant = NULL, *tmpl = c->path;
	char *owned = NULL;
	/* `audit checkpoints create` is the POST of the same path. */
	bool create = (c->opts & CLI_C_ACTION) && inv->npos > 0 &&
	    strcmp(inv->pos[0], "create") == 0;
	int rc;

	if (cli_audit_offline(inv))
		return cli_audit_verify_file(inv);
	cli_buf_init(&target, CLI_URL_MAX);
	if ((rc = cli_http_new(inv->url, inv->token, &h)) != CLI_EXIT_OK)
		goto out;
	if ((c->opts & CLI_C_TENANT_OPT) &&
	    json_is_true(json_object_get(inv->local, "all_tenants"))) {
		tmpl = c->alt_path;
	} else if (c->opts & (CLI_C_TENANT | CLI_C_TENANT_OPT)) {
		rc = resolve_tenant(inv, h, &tenant, &owned);
		if (rc != CLI_EXIT_OK)
			goto out;
		if (tenant == NULL && (c->opts & CLI_C_TENANT_OPT)) {
			tmpl = c->alt_path;
		} else if (tenant == NULL) {
			rc = cli_usage_error(inv, "this command needs a tenant: "
			    "pass --tenant T or set LOCKBOX_TENANT");
			goto out;
		}
	}
	build_path(h, &target, tmpl, tenant, inv);
	if (target.bad) {
		fprintf(stderr, "lockbox: cannot build the request path\n");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((c->opts & CLI_C_LIST) && !create) {
		rc = run_list(inv, h, target.p);
	} else if (c->opts & CLI_C_CUSTOM) {
		build_query(h, &target, inv->query, 0, NULL);
		rc = target.bad ? oom() : cli_audit_run(inv, h, target.p);
	} else {
		build_query(h, &target, inv->query, 0, NULL);
		rc = target.bad ? oom() : run_one(inv, h,
		    create ? "POST" : c->method, target.p);
	}
out:
	free(owned);
	cli_buf_free(&target);
	cli_http_free(h);
	return rc;
}
