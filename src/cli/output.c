/*
 * What the CLI prints that is not a table: the server's JSON for scripts,
 * the one-line error for people, and the exit status a script can test.
 *
 * It also owns cli_sanitize: everything shown to a person comes from the
 * server and, before that, from other people (a justification, a comment,
 * a case title).  Such text must not be able to move the cursor, clear the
 * screen or fake a line of output on an approver's terminal, so control
 * characters never reach it.
 */
#include <string.h>

#include "cli/cli.h"
#include "lockbox/err.h"

int
cli_exit_for_status(long status)
{
	switch (status) {
	case 400:
	case 413:
	case 422:
		return CLI_EXIT_INVALID;
	case 401:
		return CLI_EXIT_UNAUTH;
	case 403:
		return CLI_EXIT_FORBIDDEN;
	case 404:
		return CLI_EXIT_NOT_FOUND;
	case 409:
		return CLI_EXIT_CONFLICT;
	default:
		break;
	}
	if (status >= 500 && status <= 599)
		return CLI_EXIT_UNAVAILABLE;
	if (status >= 200 && status <= 299)
		return CLI_EXIT_OK;
	return CLI_EXIT_OTHER;
}

int
cli_print_http_error(const struct cli_resp *r)
{
	json_t *root = NULL, *err;
	const char *code = NULL, *msg = NULL;
	struct cli_buf c, m;

	cli_buf_init(&c, 256);
	cli_buf_init(&m, 2048);
	root = json_loadb(r->body, r->len, 0, NULL);
	err = json_object_get(root, "error");
	code = json_string_value(json_object_get(err, "code"));
	msg = json_string_value(json_object_get(err, "message"));
	if (code == NULL) {
		/* Not our daemon's answer: a proxy's page, or nothing. */
		code = "http_error";
		msg = "the server's answer is not a Lockbox error";
	} else if (msg == NULL || msg[0] == '\0') {
		msg = lb_err_message(lb_err_from_code(code));
	}
	cli_sanitize(&c, code);
	cli_sanitize(&m, msg);
	fprintf(stderr, "lockbox: %s: %s (HTTP %ld)\n",
	    c.bad ? code : cli_buf_str(&c), m.bad ? "(message too long)" :
	    cli_buf_str(&m), r->status);
	cli_buf_free(&c);
	cli_buf_free(&m);
	json_decref(root);
	return cli_exit_for_status(r->status);
}

int
cli_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2)) != 0 ||
	    fputc('\n', stdout) == EOF) {
		fprintf(stderr, "lockbox: cannot write the output\n");
		return CLI_EXIT_OTHER;
	}
	return CLI_EXIT_OK;
}

void
cli_sanitize(struct cli_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;

	/* Copies runs of harmless bytes at once, replacing the rest. */
	for (size_t i = 0; p[i] != '\0'; i++) {
		const char *rep = NULL;
		size_t skip = 0;

		if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r')
			rep = " ";
		else if (p[i] < 0x20 || p[i] == 0x7f)
			rep = "?";
		else if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			rep = "?";      /* C1 controls, e.g. U+009B (CSI) */
			skip = 1;
		}
		if (rep == NULL)
			continue;
		cli_buf_addn(b, s + run, i - run);
		cli_buf_add(b, rep);
		i += skip;
		run = i + 1;
	}
	cli_buf_add(b, s + run);
}

size_t
cli_width(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			n++;
	return n;
}
