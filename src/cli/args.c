/*
 * Turns argv and the environment into a struct cli_inv: the global options
 * (accepted before or after the command), the command row, its positional
 * arguments, and the body, query and local values its flags fill in.
 *
 * Everything a person can get wrong is caught here, before anything is
 * sent: unknown commands and options, missing arguments, values that do
 * not parse (durations, numbers, true|false), two flags that set the same
 * field.  Each such mistake is a usage error, exit status 1.  The JSON
 * body is built with jansson from the flags' declared types, never by
 * pasting text together.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"

enum gopt { G_URL, G_TOKEN, G_TENANT, G_JSON, G_HELP, G_VERSION, G_LIMIT,
	G_PAGE_SIZE };

static const struct {
	const char *name;
	bool takes_value;
	enum gopt id;
} globals[] = {
	{ "url", true, G_URL },
	{ "token", true, G_TOKEN },
	{ "tenant", true, G_TENANT },
	{ "json", false, G_JSON },
	{ "help", false, G_HELP },
	{ "version", false, G_VERSION },
	{ "limit", true, G_LIMIT },
	{ "page-size", true, G_PAGE_SIZE },
};

/* A non-negative decimal number of at most `max`; false otherwise. */
static bool
parse_count(const char *s, long max, long *out)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/* The object a flag writes into. */
static json_t *
target_of(struct cli_inv *inv, const struct cli_flag *f)
{
	if (f->fl & CLI_FL_QUERY)
		return inv->query;
	if (f->fl & CLI_FL_LOCAL)
		return inv->local;
	return inv->body;
}

static bool
repeatable(const struct cli_flag *f)
{
	return f->type == CLI_F_LIST || f->type == CLI_F_STAGE;
}

/* Refuses a second flag for a field, or a single-valued flag twice. */
static int
check_conflict(struct cli_inv *inv, const struct cli_flag *f)
{
	for (size_t i = 0; i < inv->nset; i++) {
		const struct cli_flag *g = inv->setby[i];
		if (strcmp(g->field, f->field) != 0 ||
		    target_of(inv, g) != target_of(inv, f))
			continue;
		if (g != f)
			return cli_usage_error(inv, "--%s and --%s cannot be "
			    "used together", g->name, f->name);
		if (!repeatable(f))
			return cli_usage_error(inv, "--%s given twice",
			    f->name);
		return CLI_EXIT_OK;
	}
	if (inv->nset == sizeof(inv->setby) / sizeof(inv->setby[0]))
		return cli_usage_error(inv, "too many options");
	inv->setby[inv->nset++] = f;
	return CLI_EXIT_OK;
}

/* Appends v (stolen) to the array `field` of obj, creating it. */
static bool
append(json_t *obj, const char *field, json_t *v)
{
	json_t *arr = json_object_get(obj, field);

	if (v == NULL)
		return false;
	if (arr == NULL) {
		if (json_object_set_new(obj, field, json_array()) != 0) {
			json_decref(v);
			return false;
		}
		arr = json_object_get(obj, field);
	}
	return json_array_append_new(arr, v) == 0;
}

/* "REQUIRED[:USER,USER...]" as {"required": n, "approvers": [...]}. */
static json_t *
parse_stage(const char *s)
{
	json_t *st = NULL, *who = NULL, *out = NULL;
	const char *colon = strchr(s, ':'), *p, *comma;
	char num[16];
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	long req;

	if (n == 0 || n >= sizeof(num))
		goto out;
	memcpy(num, s, n);
	num[n] = '\0';
	if (!parse_count(num, LB_APPROVERS_MAX, &req) || req < 1)
		goto out;
	if ((st = json_object()) == NULL ||
	    json_object_set_new(st, "required", json_integer(req)) != 0)
		goto out;
	if (colon != NULL) {
		if ((who = json_array()) == NULL)
			goto out;
		for (p = colon + 1;; p = comma + 1) {
			comma = strchr(p, ',');
			n = comma != NULL ? (size_t)(comma - p) : strlen(p);
			if (n == 0 || json_array_append_new(who,
			    json_stringn(p, n)) != 0)
				goto out;
			if (comma == NULL)
				break;
		}
		if (json_object_set(st, "approvers", who) != 0)
			goto out;
	}
	out = st;
	st = NULL;
out:
	json_decref(who);
	json_decref(st);
	return out;
}

/* Applies one command flag with its value (NULL for switches). */
static int
apply_flag(struct cli_inv *inv, const struct cli_flag *f, const char *val)
{
	json_t *obj = target_of(inv, f), *v = NULL;
	long n;
	int minutes, rc;

	if ((rc = check_conflict(inv, f)) != CLI_EXIT_OK)
		return rc;
	switch (f->type) {
	case CLI_F_STR:
		if ((v = json_string(val)) == NULL)
			return cli_usage_error(inv, "--%s is not valid UTF-8",
			    f->name);
		break;
	case CLI_F_LIST:
		if ((v = json_string(val)) == NULL)
			return cli_usage_error(inv, "--%s is not valid UTF-8",
			    f->name);
		if (!append(obj, f->field, v))
			goto oom;
		return CLI_EXIT_OK;
	case CLI_F_BOOLWORD:
		if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0)
			return cli_usage_error(inv, "--%s takes true or false",
			    f->name);
		v = json_boolean(strcmp(val, "true") == 0);
		break;
	case CLI_F_TRUE:
		v = json_true();
		break;
	case CLI_F_FALSE:
		v = json_false();
		break;
	case CLI_F_CONST:
		v = json_string(f->value);
		break;
	case CLI_F_CLEAR:
		v = json_array();
		break;
	case CLI_F_INT:
		if (!parse_count(val, INT_MAX, &n))
			return cli_usage_error(inv, "--%s takes a whole number",
			    f->name);
		v = json_integer(n);
		break;
	case CLI_F_DURATION:
		if (lb_duration_parse(val, &minutes) != 0)
			return cli_usage_error(inv, "--%s takes a duration such "
			    "as 4h, 90m, 1h30m or a number of minutes",
			    f->name);
		v = json_integer(minutes);
		break;
	case CLI_F_STAGE:
		if ((v = parse_stage(val)) == NULL)
			return cli_usage_error(inv, "--%s takes REQUIRED or "
			    "REQUIRED:USER,USER (REQUIRED 1..%d)", f->name,
			    LB_APPROVERS_MAX);
		if (!append(obj, f->field, v))
			goto oom;
		return CLI_EXIT_OK;
	case CLI_F_STAGES:
		if (!parse_count(val, LB_STAGES_MAX, &n) || n < 1)
			return cli_usage_error(inv, "--%s takes 1 to %d",
			    f->name, LB_STAGES_MAX);
		if ((v = json_array()) == NULL)
			goto oom;
		for (long i = 0; i < n; i++)
			if (json_array_append_new(v, json_pack("{s:i}",
			    "required", 1)) != 0) {
				json_decref(v);
				goto oom;
			}
		break;
	default:
		return cli_usage_error(inv, "--%s: unknown flag type", f->name);
	}
	if (v == NULL || json_object_set_new(obj, f->field, v) != 0)
		goto oom;
	return CLI_EXIT_OK;
oom:
	fprintf(stderr, "lockbox: out of memory\n");
	return CLI_EXIT_OTHER;
}

static int
apply_global(struct cli_inv *inv, enum gopt id, const char *val)
{
	switch (id) {
	case G_URL:
		inv->url = val;
		break;
	case G_TOKEN:
		inv->token = val;
		break;
	case G_TENANT:
		inv->tenant = val;
		break;
	case G_JSON:
		inv->json = true;
		break;
	case G_HELP:
		inv->help = true;
		break;
	case G_VERSION:
		inv->version = true;
		break;
	case G_LIMIT:
		if (!parse_count(val, LONG_MAX, &inv->limit))
			return cli_usage_error(inv, "--limit takes a whole "
			    "number (0: all)");
		break;
	case G_PAGE_SIZE:
		if (!parse_count(val, LB_PAGE_SIZE_MAX, &inv->page_size) ||
		    inv->page_size < 1)
			return cli_usage_error(inv, "--page-size takes 1 to %d",
			    LB_PAGE_SIZE_MAX);
		break;
	}
	return CLI_EXIT_OK;
}

/* A word that is not an option: the group, the verb or an argument. */
static int
take_word(struct cli_inv *inv, const char *w)
{
	if (inv->group == NULL) {
		if ((inv->group = cli_group_find(w)) == NULL)
			return cli_usage_error(inv, "unknown command '%s'", w);
		inv->cmd = cli_cmd_find(w, NULL);
		return CLI_EXIT_OK;
	}
	if (inv->cmd == NULL) {
		if ((inv->cmd = cli_cmd_find(inv->group->name, w)) == NULL)
			return cli_usage_error(inv, "unknown command '%s %s'",
			    inv->group->name, w);
		return CLI_EXIT_OK;
	}
	if (inv->npos == CLI_ARGS_MAX || inv->npos == cli_cmd_nargs(inv->cmd))
		return cli_usage_error(inv, "unexpected argument '%s'", w);
	inv->pos[inv->npos++] = w;
	return CLI_EXIT_OK;
}

/* One "--name[=value]" at argv[*i]; advances *i past a separate value. */
static int
take_option(struct cli_inv *inv, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *name = arg + 2, *eq, *val = NULL;
	const struct cli_flag *f = NULL;
	char buf[64];
	size_t n;
	bool takes_value;
	int g = -1;

	if (strcmp(arg, "-h") == 0)
		name = "help";
	eq = strchr(name, '=');
	n = eq != NULL ? (size_t)(eq - name) : strlen(name);
	if (n >= sizeof(buf))
		return cli_usage_error(inv, "unknown option %s", arg);
	memcpy(buf, name, n);
	buf[n] = '\0';
	for (size_t k = 0; k < sizeof(globals) / sizeof(globals[0]); k++)
		if (strcmp(globals[k].name, buf) == 0)
			g = (int)k;
	/* A command's own flag of a global's name (incidents declare --tenant) wins. */
	if (g >= 0 && inv->cmd != NULL && cli_flag_find(inv->cmd, buf) != NULL)
		g = -1;
	if (g < 0 && inv->cmd != NULL)
		f = cli_flag_find(inv->cmd, buf);
	if (g < 0 && f == NULL)
		return cli_usage_error(inv, "unknown option --%s", buf);
	takes_value = g >= 0 ? globals[g].takes_value : f->metavar != NULL;
	if (!takes_value && eq != NULL)
		return cli_usage_error(inv, "--%s takes no value", buf);
	if (takes_value) {
		if (eq != NULL)
			val = eq + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return cli_usage_error(inv, "--%s needs a value", buf);
	}
	if (g >= 0)
		return apply_global(inv, globals[g].id, val);
	return apply_flag(inv, f, val);
}

/* Reads an environment variable; empty counts as unset. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Checks after parsing: the command is complete and coherent. */
static int
check_complete(struct cli_inv *inv)
{
	const struct cli_cmd *c = inv->cmd;

	if (inv->group == NULL)
		return cli_usage_error(inv, "missing command");
	if (c == NULL)
		return cli_usage_error(inv, "missing subcommand for '%s'",
		    inv->group->name);
	if (inv->npos < cli_cmd_nargs_min(c) || inv->npos > cli_cmd_nargs(c))
		return cli_usage_error(inv, "expected argument%s %s",
		    cli_cmd_nargs(c) > 1 ? "s" : "", c->args);
	if ((c->opts & CLI_C_ACTION) && inv->npos > 0 &&
	    strcmp(inv->pos[0], "list") != 0 && strcmp(inv->pos[0], "create") != 0)
		return cli_usage_error(inv, "expected list or create, not '%s'",
		    inv->pos[0]);
	for (const struct cli_flag *f = c->flags; f->name != NULL; f++)
		if ((f->fl & CLI_FL_REQUIRED) &&
		    json_object_get(target_of(inv, f), f->field) == NULL)
			return cli_usage_error(inv, "--%s is required",
			    f->name);
	if ((c->opts & CLI_C_CHANGE) && json_object_size(inv->body) == 0)
		return cli_usage_error(inv, "nothing to change: name at least "
		    "one setting");
	if (!(c->opts & CLI_C_LIST) && (inv->limit >= 0 || inv->page_size > 0))
		return cli_usage_error(inv, "--limit and --page-size apply "
		    "to list commands only");
	if (inv->limit < 0)
		inv->limit = CLI_LIMIT_DEFAULT;
	/* A bearer token is printable ASCII; anything else could split a
	 * header.  The token itself is never echoed. */
	for (const char *p = inv->token; p != NULL && *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			return cli_usage_error(inv, "the token holds characters "
			    "that cannot be sent (check LOCKBOX_TOKEN/--token)");
	return CLI_EXIT_OK;
}

int
cli_args_parse(int argc, char **argv, struct cli_inv *inv)
{
	bool words_only = false;
	int rc = CLI_EXIT_OK;

	inv->limit = -1;
	inv->body = json_object();
	inv->query = json_object();
	inv->local = json_object();
	if (inv->body == NULL || inv->query == NULL || inv->local == NULL) {
		fprintf(stderr, "lockbox: out of memory\n");
		return CLI_EXIT_OTHER;
	}
	for (int i = 1; i < argc && rc == CLI_EXIT_OK; i++) {
		const char *a = argv[i];
		if (!words_only && strcmp(a, "--") == 0)
			words_only = true;
		else if (!words_only && (strcmp(a, "-h") == 0 ||
		    (strncmp(a, "--", 2) == 0 && a[2] != '\0')))
			rc = take_option(inv, argc, argv, &i);
		else if (!words_only && a[0] == '-' && a[1] != '\0')
			rc = cli_usage_error(inv, "unknown option %s", a);
		else
			rc = take_word(inv, a);
		/* Help asked for: show it for what is known so far. */
		if (inv->help || inv->version)
			return CLI_EXIT_OK;
	}
	if (rc != CLI_EXIT_OK)
		return rc;
	if (inv->url == NULL && (inv->url = env("LOCKBOX_URL")) == NULL)
		inv->url = CLI_DEFAULT_URL;
	if (inv->token == NULL)
		inv->token = env("LOCKBOX_TOKEN");
	if (inv->tenant == NULL)
		inv->tenant = env("LOCKBOX_TENANT");
	return check_complete(inv);
}

void
cli_inv_free(struct cli_inv *inv)
{
	if (inv == NULL)
		return;
	json_decref(inv->body);
	json_decref(inv->query);
	json_decref(inv->local);
	inv->body = inv->query = inv->local = NULL;
}
