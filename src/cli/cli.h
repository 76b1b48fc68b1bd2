/*
 * The lockbox command-line client, grouped by file.
 *
 * The CLI is one table of commands (commands.c) and a small engine that
 * turns a row of that table plus argv into one HTTP call or a run of paged
 * calls (run.c), sends it with libcurl (http.c) and shows the answer as the
 * server's JSON or as tables for people (output.c, views.c).  Adding a call
 * of docs/api.md means adding a row, not a function.  Every function that
 * can fail returns one of the exit statuses below, already having told the
 * user why on stderr, so main() only has to pass the status on.
 */
#ifndef LOCKBOX_CLI_H
#define LOCKBOX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define LOCKBOX_VERSION         "0.1.0"
#define CLI_DEFAULT_URL         "http://127.0.0.1:8420"
#define CLI_RESPONSE_MAX        (16u * 1024 * 1024)  /* bytes of one answer */
#define CLI_URL_MAX             (64u * 1024)         /* bytes of one URL */
#define CLI_ARGS_MAX            4                    /* positional arguments */
#define CLI_LIMIT_DEFAULT       100                  /* items a list shows */

/* Exit statuses: scripts test these (docs/cli.md, `lockbox --help`). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 1,        /* bad arguments; nothing was sent */
	CLI_EXIT_TRANSPORT = 2,    /* could not connect, or a bad answer */
	CLI_EXIT_UNAUTH = 3,       /* 401 */
	CLI_EXIT_FORBIDDEN = 4,    /* 403 */
	CLI_EXIT_NOT_FOUND = 5,    /* 404 */
	CLI_EXIT_CONFLICT = 6,     /* 409 */
	CLI_EXIT_INVALID = 7,      /* 400, 413, 422 */
	CLI_EXIT_UNAVAILABLE = 8,  /* 503 and other 5xx */
	CLI_EXIT_OTHER = 9,        /* anything else, out of memory */
	CLI_EXIT_VERIFY = 10,      /* audit verify: the trail does not verify */
};

/* ------------------------------------------------------- commands.c */

/* How one flag of a command turns into the body, the query or a local. */
enum cli_ftype {
	CLI_F_STR,       /* --x V: field = "V" */
	CLI_F_LIST,      /* --x V, repeatable: field = [..., "V"] */
	CLI_F_BOOLWORD,  /* --x true|false: field = true|false */
	CLI_F_TRUE,      /* switch: field = true */
	CLI_F_FALSE,     /* switch: field = false */
	CLI_F_CONST,     /* switch: field = flag->value */
	CLI_F_CLEAR,     /* switch: field = [] */
	CLI_F_INT,       /* --x N: field = N (a non-negative integer) */
	CLI_F_DURATION,  /* --x 4h: field = minutes (lb_duration_parse) */
	CLI_F_STAGE,     /* --x REQUIRED[:a,b], repeatable: field = [..., {}] */
	CLI_F_STAGES,    /* --x N: field = N stages of {"required": 1} */
};

#define CLI_FL_REQUIRED 0x1u   /* the command cannot run without it */
#define CLI_FL_QUERY    0x2u   /* goes into the query string */
#define CLI_FL_LOCAL    0x4u   /* read by the CLI itself, never sent */

struct cli_flag {
	const char *name;       /* "comment" for --comment */
	const char *metavar;    /* "TEXT"; NULL for switches */
	enum cli_ftype type;
	const char *field;      /* JSON field, query parameter or local name */
	const char *value;      /* CLI_F_CONST: the value it sets */
	unsigned fl;
	const char *help;
};

/* How an answer is shown to people (views.c). */
enum cli_view {
	CLI_V_RAW,          /* text as received (/metrics) */
	CLI_V_STATUS,       /* {"status": ...} of /healthz, /readyz */
	CLI_V_USER,
	CLI_V_TENANT,
	CLI_V_TOKEN,
	CLI_V_SETTINGS,
	CLI_V_PROVIDER,
	CLI_V_CASE,
	CLI_V_REQUEST,
	CLI_V_AUDIT,        /* an audit record */
	CLI_V_CHECKPOINT,   /* a signed checkpoint of an audit chain */
	CLI_V_NOTIFICATION, /* an outbox row: a notification and its delivery */
	CLI_V_WEBHOOK,      /* a webhook endpoint */
	CLI_V_INCIDENT,     /* a service incident (break-glass) */
	CLI_V_EMERGENCY,    /* an emergency access (break-glass) */
	CLI_V_GRANT,        /* a signed grant */
};

#define CLI_C_LIST        0x01u  /* a paged list: --limit, --page-size */
#define CLI_C_TENANT      0x02u  /* the path names {t}: needs a tenant */
#define CLI_C_TENANT_OPT  0x04u  /* without a tenant, use alt_path */
#define CLI_C_CHANGE      0x08u  /* at least one body flag must be given */
#define CLI_C_TEXT        0x10u  /* the answer is text, not JSON */
#define CLI_C_SECRET      0x20u  /* the answer holds a new token: shown once */
#define CLI_C_CUSTOM      0x40u  /* run by cli_audit_run (audit.c), not the engine */
#define CLI_C_ACTION      0x80u  /* optional argument list|create: create POSTs */

struct cli_cmd {
	const char *group;      /* "requests" */
	const char *verb;       /* "approve"; NULL when the group is the command */
	const char *args;       /* positional names: "REALM USER"; NULL: none */
	const char *method;     /* "GET", "POST", "PATCH", "DELETE" */
	const char *path;       /* "/v1/tenants/{t}/requests/{0}/approve" */
	const char *alt_path;   /* CLI_C_TENANT_OPT: the path with no tenant */
	const struct cli_flag *flags;   /* ends with a zeroed row */
	enum cli_view view;
	unsigned opts;
	const char *summary;    /* one line */
	const char *help;       /* a paragraph; may be NULL */
};

struct cli_group {
	const char *name;
	const char *summary;
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;
extern const struct cli_group cli_groups[];
extern const size_t cli_ngroups;

const struct cli_group *cli_group_find(const char *name);
/* The command `group verb`; verb NULL finds a group that is a command. */
const struct cli_cmd *cli_cmd_find(const char *group, const char *verb);
const struct cli_flag *cli_flag_find(const struct cli_cmd *c, const char *name);
/* Number of positional arguments the command takes ("[X]" is optional). */
size_t cli_cmd_nargs(const struct cli_cmd *c);
/* How many of them are required (those not written "[X]"). */
size_t cli_cmd_nargs_min(const struct cli_cmd *c);

/* ----------------------------------------------------------- args.c */

/* Everything argv said.  Strings point into argv or the environment. */
struct cli_inv {
	const char *url;
	const char *token;
	const char *tenant;
	bool json;
	bool help;
	bool version;
	long limit;             /* items; 0 = all */
	long page_size;         /* 0 = server default */
	const struct cli_group *group;
	const struct cli_cmd *cmd;
	const char *pos[CLI_ARGS_MAX];
	size_t npos;
	json_t *body;           /* object: fields for the body */
	json_t *query;          /* object of strings: query parameters */
	json_t *local;          /* object: CLI_FL_LOCAL flags */
	/* Which flag set each field first, to refuse two flags for one field. */
	const struct cli_flag *setby[32];
	size_t nset;
};

/*
 * Parses argv (globals anywhere, then the command's flags and arguments)
 * into *inv, which the caller zeroes and later frees with cli_inv_free.
 * Returns CLI_EXIT_OK or CLI_EXIT_USAGE after saying why.
 */
int cli_args_parse(int argc, char **argv, struct cli_inv *inv);
void cli_inv_free(struct cli_inv *inv);

/* ----------------------------------------------------------- help.c */

void cli_help_top(FILE *out);
void cli_help_group(FILE *out, const struct cli_group *g);
void cli_help_cmd(FILE *out, const struct cli_cmd *c);
/* Prints "lockbox: <msg>" and a hint to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_inv *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ buf.c */

/* A growing string with a hard limit; on overflow or OOM it turns bad. */
struct cli_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
	bool bad;
};

void cli_buf_init(struct cli_buf *b, size_t max);
void cli_buf_add(struct cli_buf *b, const char *s);
void cli_buf_addn(struct cli_buf *b, const char *s, size_t n);
/* The text so far; "" when nothing was added. */
const char *cli_buf_str(const struct cli_buf *b);
void cli_buf_free(struct cli_buf *b);

/* ----------------------------------------------------------- http.c */

struct cli_http;

struct cli_resp {
	long status;
	char *body;     /* NUL terminated; may hold NULs before len */
	size_t len;
};

/*
 * A connection to base_url (http:// or https://, no query) sending `token`
 * (may be NULL) as a bearer token.  Returns CLI_EXIT_OK, or CLI_EXIT_USAGE
 * for a bad URL, CLI_EXIT_OTHER when libcurl cannot be set up, having said
 * why.  The token is neither copied nor ever printed.
 */
int cli_http_new(const char *base_url, const char *token,
    struct cli_http **out);
void cli_http_free(struct cli_http *h);
/*
 * Sends `method` to base_url + `target` (path and query, already encoded)
 * with `body` as JSON when not NULL.  Any HTTP status is a success here;
 * returns CLI_EXIT_TRANSPORT (after saying why) when no complete answer of
 * at most CLI_RESPONSE_MAX bytes arrived.
 */
int cli_http_call(struct cli_http *h, const char *method, const char *target,
    const json_t *body, struct cli_resp *out);
void cli_resp_free(struct cli_resp *r);
/* Percent-encodes s into b (every byte but unreserved ones). */
void cli_http_escape(struct cli_http *h, struct cli_buf *b, const char *s);
/*
 * GET base_url + `target`, writing a 2xx answer's body to `out` as it
 * arrives (no size limit, constant memory; no total time limit, but an
 * answer that stalls for a minute is abandoned).  A non-2xx answer is
 * collected into *err instead (at most CLI_RESPONSE_MAX bytes) for
 * cli_print_http_error.  Returns CLI_EXIT_OK when a whole answer arrived
 * (check err->status), CLI_EXIT_TRANSPORT when it was cut short, or
 * CLI_EXIT_OTHER when `out` could not be written, having said why.
 */
int cli_http_download(struct cli_http *h, const char *target, FILE *out,
    struct cli_resp *err, unsigned long long *bytes);

/* ------------------------------------------------------------ run.c */

/* Runs a parsed command; returns the exit status. */
int cli_run(struct cli_inv *inv);

/* --------------------------------------------------------- output.c */

/* The exit status for an HTTP status >= 300. */
int cli_exit_for_status(long status);
/* Prints "lockbox: <code>: <message> (HTTP <status>)"; returns the exit. */
int cli_print_http_error(const struct cli_resp *r);
/* Pretty JSON of the server's answer on stdout. */
int cli_print_json(const json_t *v);
/*
 * Copies s into b for a terminal: newlines and tabs become spaces, other
 * control characters (C0, DEL, C1) '?', so text from the server cannot
 * drive the terminal.
 */
void cli_sanitize(struct cli_buf *b, const char *s);
/* Display width of UTF-8 text (code points). */
size_t cli_width(const char *s);

/* ---------------------------------------------------------- audit.c */

/*
 * The audit commands the engine cannot run as one call: `audit export`
 * (streams to a file) and `audit verify` (checks the result, or an export
 * offline).  `target` is the built path and query.
 */
int cli_audit_run(struct cli_inv *inv, struct cli_http *h, const char *target);
/* True when the command runs without the daemon (audit verify --file). */
bool cli_audit_offline(const struct cli_inv *inv);
/* audit verify --file: needs no token and no tenant. */
int cli_audit_verify_file(struct cli_inv *inv);

/* ---------------------------------------------------------- views.c */

/* One object as a labelled block for people. */
int cli_view_block(enum cli_view v, const json_t *obj);
/* A list of objects as an aligned table. */
int cli_view_table(enum cli_view v, const json_t *items);

#endif
