/*
 * The help a person reads: `lockbox --help`, `lockbox GROUP --help` and
 * `lockbox GROUP VERB --help`, all generated from the command table so a
 * flag cannot exist without being documented, plus the one-line usage
 * errors (exit status 1) that point at the right --help.
 */
#include <stdarg.h>
#include <string.h>

#include "cli/cli.h"

#define WRAP 78

static const char exit_codes[] =
    "exit status:\n"
    "  0  ok\n"
    "  1  usage error (bad command, option or value; nothing was sent)\n"
    "  2  connection or transport error (cannot reach the daemon, answer\n"
    "     too large or cut short)\n"
    "  3  unauthenticated: missing, unknown or revoked token (HTTP 401)\n"
    "  4  forbidden: your role does not allow it (HTTP 403)\n"
    "  5  not found, or another tenant's (HTTP 404)\n"
    "  6  conflict: the object's state does not allow it (HTTP 409)\n"
    "  7  refused input: a rule was violated or a value is invalid\n"
    "     (HTTP 422, 400, 413)\n"
    "  8  server unavailable (HTTP 503 and other 5xx)\n"
    "  9  anything else (HTTP 405, 429, an unreadable answer, out of "
    "memory)\n"
    "  10 audit verify: the audit trail or export does not verify\n";

static const char global_opts[] =
    "global options (before or after the command):\n"
    "  --url URL         the daemon (env LOCKBOX_URL; default "
    CLI_DEFAULT_URL ")\n"
    "  --token TOKEN     API token (env LOCKBOX_TOKEN, preferred: arguments\n"
    "                    are visible to other users of the machine)\n"
    "  --tenant T        the tenant of tenant-scoped commands (env\n"
    "                    LOCKBOX_TENANT; default: your own tenant)\n"
    "  --json            print the server's JSON, for scripts\n"
    "  -h, --help        help, also for every command and subcommand\n"
    "  --version         print the version\n";

static const char list_opts[] =
    "list options:\n"
    "  --limit N         show at most N items (default 100; 0: all),\n"
    "                    following next_page_token as needed\n"
    "  --page-size N     items asked for per call (1..1000)\n";

/* Prints `text` wrapped at WRAP columns, continuation lines indented. */
static void
print_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
	const char *p = text;
	bool first = true;

	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (!first && col + 1 + n > WRAP) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		first = false;
		fwrite(p, 1, n, out);
		col += n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

/* The path template with {N} shown as the name of argument N. */
static void
print_path(FILE *out, const struct cli_cmd *c)
{
	for (const char *p = c->path; *p != '\0'; p++) {
		const char *a = c->args;
		int n;

		if (p[0] != '{' || p[1] < '0' || p[1] > '9' || p[2] != '}' ||
		    a == NULL) {
			fputc(*p, out);
			continue;
		}
		for (n = p[1] - '0'; n > 0 && a != NULL; n--)
			if ((a = strchr(a, ' ')) != NULL)
				a++;
		if (a == NULL)
			a = "?";
		fprintf(out, "{%.*s}", (int)strcspn(a, " "), a);
		p += 2;
	}
}

void
cli_help_top(FILE *out)
{
	fprintf(out, "usage: lockbox [options] COMMAND [SUBCOMMAND] [ARGS] "
	    "[options]\n\n"
	    "lockbox talks to a Lockbox daemon (Customer Lockbox): tenants, "
	    "users,\ntokens, settings, support cases and access requests.\n\n"
	    "commands:\n");
	for (size_t g = 0; g < cli_ngroups; g++) {
		struct cli_buf b;
		size_t n = 0;

		cli_buf_init(&b, 256);
		cli_buf_add(&b, cli_groups[g].name);
		for (size_t i = 0; i < cli_ncmds; i++) {
			if (strcmp(cli_cmds[i].group, cli_groups[g].name) != 0 ||
			    cli_cmds[i].verb == NULL)
				continue;
			cli_buf_add(&b, n++ == 0 ? " " : "|");
			cli_buf_add(&b, cli_cmds[i].verb);
		}
		if (b.len > 34)
			fprintf(out, "  %s\n  %-34s %s\n", cli_buf_str(&b), "",
			    cli_groups[g].summary);
		else
			fprintf(out, "  %-34s %s\n", cli_buf_str(&b),
			    cli_groups[g].summary);
		cli_buf_free(&b);
	}
	fprintf(out, "\n%s\n%s\n%s\n"
	    "Run 'lockbox COMMAND --help' for a command's arguments.\n",
	    global_opts, list_opts, exit_codes);
}

void
cli_help_group(FILE *out, const struct cli_group *g)
{
	const struct cli_cmd *single = cli_cmd_find(g->name, NULL);

	if (single != NULL) {
		cli_help_cmd(out, single);
		return;
	}
	fprintf(out, "usage: lockbox %s SUBCOMMAND [ARGS] [options]\n\n%s.\n\n"
	    "subcommands:\n", g->name, g->summary);
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		if (strcmp(c->group, g->name) == 0)
			fprintf(out, "  %-12s %s\n", c->verb, c->summary);
	}
	fprintf(out, "\nRun 'lockbox %s SUBCOMMAND --help' for its options; "
	    "'lockbox --help' for\nthe global options and exit status.\n",
	    g->name);
}

void
cli_help_cmd(FILE *out, const struct cli_cmd *c)
{
	const struct cli_flag *f;
	struct cli_buf b;
	bool optional = false;

	cli_buf_init(&b, 4096);
	cli_buf_add(&b, "usage: lockbox ");
	cli_buf_add(&b, c->group);
	if (c->verb != NULL) {
		cli_buf_add(&b, " ");
		cli_buf_add(&b, c->verb);
	}
	if (c->args != NULL) {
		cli_buf_add(&b, " ");
		cli_buf_add(&b, c->args);
	}
	for (f = c->flags; f->name != NULL; f++) {
		if (!(f->fl & CLI_FL_REQUIRED)) {
			optional = true;
			continue;
		}
		cli_buf_add(&b, " --");
		cli_buf_add(&b, f->name);
		cli_buf_add(&b, " ");
		cli_buf_add(&b, f->metavar);
		if (f->type == CLI_F_LIST)
			cli_buf_add(&b, "...");
	}
	cli_buf_add(&b, optional ? " [options]" : " [global options]");
	print_wrapped(out, cli_buf_str(&b), 0, 8);
	fprintf(out, "\n");
	print_wrapped(out, c->summary, 0, 0);
	if (c->help != NULL) {
		fprintf(out, "\n");
		print_wrapped(out, c->help, 0, 0);
	}
	fprintf(out, "\ncalls: %s ", c->method);
	print_path(out, c);
	if (c->alt_path != NULL)
		fprintf(out, " or %s %s", c->method, c->alt_path);
	fprintf(out, "\n");
	if (c->opts & (CLI_C_TENANT | CLI_C_TENANT_OPT))
		fprintf(out, "{t} is --tenant, else LOCKBOX_TENANT, else your "
		    "own tenant (GET /v1/me).\n");
	if (c->flags[0].name != NULL)
		fprintf(out, "\noptions:\n");
	for (f = c->flags; f->name != NULL; f++) {
		struct cli_buf l;
		size_t w;

		cli_buf_init(&l, 256);
		cli_buf_add(&l, "  --");
		cli_buf_add(&l, f->name);
		if (f->metavar != NULL) {
			cli_buf_add(&l, " ");
			cli_buf_add(&l, f->metavar);
		}
		w = cli_width(cli_buf_str(&l));
		fputs(cli_buf_str(&l), out);
		if (w >= 29) {
			fprintf(out, "\n");
			w = 0;
		}
		fprintf(out, "%*s", (int)(30 - w), "");
		print_wrapped(out, f->help, 30, 30);
		cli_buf_free(&l);
	}
	if (c->opts & CLI_C_LIST)
		fprintf(out, "\n%s", list_opts);
	fprintf(out, "\n%s\n%s", global_opts, exit_codes);
	cli_buf_free(&b);
}

int
cli_usage_error(const struct cli_inv *inv, const char *fmt, ...)
{
	va_list ap;

	fputs("lockbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'lockbox", stderr);
	if (inv != NULL && inv->group != NULL)
		fprintf(stderr, " %s", inv->group->name);
	if (inv != NULL && inv->cmd != NULL && inv->cmd->verb != NULL)
		fprintf(stderr, " %s", inv->cmd->verb);
	fputs(" --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}
