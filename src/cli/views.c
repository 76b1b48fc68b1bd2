/*
 * How each kind of object of docs/api.md looks to a person: which fields
 * make the columns of a list's table, which the lines of a single object's
 * block, and what they are called.  Like the command table, the views are
 * data; the two printers below (aligned table, labelled block) serve them
 * all.  Times are shown as the server's RFC 3339 strings, absent values
 * as "-", and every cell passes through cli_sanitize.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define CELL_MAX (64u * 1024)

#define IN_TABLE 0x1u   /* a column of the list's table */
#define IN_BLOCK 0x2u   /* a line of the object's block */
#define OPTIONAL 0x4u   /* block: left out when the field is absent */
#define BOTH (IN_TABLE | IN_BLOCK)

/* Writes a cell computed from the whole object (raw, not yet sanitised). */
typedef void cellfn(const json_t *obj, struct cli_buf *b);

struct col {
	const char *label;
	const char *field;
	unsigned fl;
	cellfn *fn;
};

struct view {
	enum cli_view id;
	const struct col *cols;
	size_t ncols;
	void (*extra)(const json_t *obj);
};

/* A JSON value as text: strings as they are, lists joined by ", ". */
static void
format_value(const json_t *v, struct cli_buf *b)
{
	char num[64];
	size_t i;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_STRING:
		cli_buf_add(b, json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		cli_buf_add(b, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		cli_buf_add(b, num);
		break;
	case JSON_TRUE:
		cli_buf_add(b, "true");
		break;
	case JSON_FALSE:
		cli_buf_add(b, "false");
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			cli_buf_add(b, "-");
		json_array_foreach(v, i, e) {
			if (i > 0)
				cli_buf_add(b, ", ");
			format_value(e, b);
		}
		break;
	case JSON_OBJECT:
		cli_buf_add(b, "{...}");
		break;
	case JSON_NULL:
	default:
		cli_buf_add(b, "-");
		break;
	}
}

/* The sanitised text of one cell into *out (malloc'd); false on OOM. */
static bool
cell_text(const struct col *c, const json_t *obj, char **out)
{
	struct cli_buf raw, clean;
	const json_t *v;
	bool ok = false;

	cli_buf_init(&raw, CELL_MAX);
	cli_buf_init(&clean, CELL_MAX);
	if (c->fn != NULL) {
		c->fn(obj, &raw);
	} else {
		v = json_object_get(obj, c->field);
		if (v == NULL)
			cli_buf_add(&raw, "-");
		else
			format_value(v, &raw);
	}
	if (raw.bad) {
		/* Too long for a cell: say so rather than cut it silently. */
		cli_buf_free(&raw);
		cli_buf_init(&raw, CELL_MAX);
		cli_buf_add(&raw, "(too long; see --json)");
	}
	cli_sanitize(&clean, cli_buf_str(&raw));
	if (clean.bad || (*out = strdup(cli_buf_str(&clean))) == NULL)
		goto out;
	ok = true;
out:
	cli_buf_free(&raw);
	cli_buf_free(&clean);
	return ok;
}

static void
pad(size_t n)
{
	while (n-- > 0)
		fputc(' ', stdout);
}

/*
 * Prints `items` as a table of the columns with `fl`, each line starting
 * with `indent`.  Columns are two spaces apart; the last is not padded.
 */
static int
print_table(const struct col *cols, size_t ncols, unsigned fl,
    const json_t *items, const char *indent)
{
	size_t nrows = json_array_size(items), idx[16], nc = 0, i, j;
	size_t width[16];
	char **cells = NULL;
	int rc = CLI_EXIT_OTHER;

	for (i = 0; i < ncols && nc < 16; i++)
		if (cols[i].fl & fl)
			idx[nc++] = i;
	if (nrows == 0) {
		printf("%s(none)\n", indent);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if ((cells = calloc(nrows * nc, sizeof(*cells))) == NULL)
		goto out;
	for (j = 0; j < nc; j++)
		width[j] = cli_width(cols[idx[j]].label);
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < nc; j++) {
			char **cell = &cells[i * nc + j];
			if (!cell_text(&cols[idx[j]], json_array_get(items, i),
			    cell))
				goto out;
			if (cli_width(*cell) > width[j])
				width[j] = cli_width(*cell);
		}
	}
	for (i = 0; i <= nrows; i++) {
		fputs(indent, stdout);
		for (j = 0; j < nc; j++) {
			const char *t = i == 0 ? cols[idx[j]].label :
			    cells[(i - 1) * nc + j];
			fputs(t, stdout);
			if (j + 1 < nc)
				pad(width[j] - cli_width(t) + 2);
		}
		fputc('\n', stdout);
	}
	rc = CLI_EXIT_OK;
out:
	if (rc != CLI_EXIT_OK)
		fprintf(stderr, "lockbox: out of memory\n");
	for (i = 0; cells != NULL && i < nrows * nc; i++)
		free(cells[i]);
	free(cells);
	return rc;
}

/* ------------------------------------------------------- cell functions */

/* When access ends, or when an undecided request expires. */
static void
cell_expires(const json_t *obj, struct cli_buf *b)
{
	const char *st = json_string_value(json_object_get(obj, "status"));
	const json_t *v = json_object_get(obj, "access_expires_at");

	if (!json_is_string(v) && st != NULL && strncmp(st, "pending", 7) == 0)
		v = json_object_get(obj, "pending_expires_at");
	format_value(json_is_string(v) ? v : json_null(), b);
}

static void
cell_duration(const json_t *obj, struct cli_buf *b)
{
	const json_t *v = json_object_get(obj, "duration_minutes");

	format_value(v != NULL ? v : json_null(), b);
	if (json_is_integer(v))
		cli_buf_add(b, " min");
}

static void
cell_stage(const json_t *obj, struct cli_buf *b)
{
	const json_t *v = json_object_get(obj, "current_stage");

	format_value(v != NULL ? v : json_null(), b);
	if (json_is_integer(v) && json_integer_value(v) == 0)
		cli_buf_add(b, " (provider's internal approval)");
}

/* "1: 1 approval of any approver; 2: 2 approvals of ap1, ap2". */
static void
cell_stages(const json_t *obj, struct cli_buf *b)
{
	const json_t *stages = json_object_get(obj, "approval_stages");
	const json_t *st, *who;
	char num[32];
	size_t i;

	if (json_array_size(stages) == 0)
		cli_buf_add(b, "-");
	json_array_foreach(stages, i, st) {
		if (i > 0)
			cli_buf_add(b, "; ");
		snprintf(num, sizeof(num), "%zu: ", i + 1);
		cli_buf_add(b, num);
		format_value(json_object_get(st, "required"), b);
		cli_buf_add(b, " of ");
		who = json_object_get(st, "approvers");
		if (json_array_size(who) == 0)
			cli_buf_add(b, "any approver");
		else
			format_value(who, b);
	}
}

/* "realm/id" of an audit record's actor. */
static void
cell_actor(const json_t *obj, struct cli_buf *b)
{
	const json_t *a = json_object_get(obj, "actor");
	const char *realm = json_string_value(json_object_get(a, "realm"));
	const char *id = json_string_value(json_object_get(a, "id"));

	if (id == NULL) {
		cli_buf_add(b, "-");
		return;
	}
	if (realm != NULL && realm[0] != '\0') {
		cli_buf_add(b, realm);
		cli_buf_add(b, "/");
	}
	cli_buf_add(b, id);
}

/* An audit record's details as compact JSON. */
static void
cell_details(const json_t *obj, struct cli_buf *b)
{
	char *text = json_dumps(json_object_get(obj, "details"),
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	cli_buf_add(b, text != NULL ? text : "-");
	free(text);
}

/* ----------------------------------------------------------------- views */

static const struct col status_cols[] = {
	{ "STATUS", "status", BOTH, NULL },
};

static const struct col user_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "REALM", "realm", BOTH, NULL },
	{ "TYPE", "type", BOTH, NULL },
	{ "ROLES", "roles", BOTH, NULL },
	{ "EMAIL", "email", BOTH, NULL },
	{ "DISPLAY NAME", "display_name", IN_BLOCK, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
	{ "TOKEN", "token", IN_BLOCK | OPTIONAL, NULL },
};

static const struct col tenant_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "NAME", "name", BOTH, NULL },
	{ "PLAN", "plan", BOTH, NULL },
	{ "ADDONS", "addons", BOTH, NULL },
	{ "CLOUD", "cloud", BOTH, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
};

static const struct col token_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "REALM", "realm", BOTH, NULL },
	{ "USER", "user", BOTH, NULL },
	{ "LABEL", "label", BOTH, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
	{ "REVOKED", "revoked_at", BOTH, NULL },
	{ "TOKEN", "token", IN_BLOCK | OPTIONAL, NULL },
};

static const struct col settings_cols[] = {
	{ "ENABLED", "enabled", IN_BLOCK, NULL },
	{ "APPROVERS", "approvers", IN_BLOCK, NULL },
	{ "NOTIFICATION EMAILS", "notification_emails", IN_BLOCK, NULL },
	{ "APPROVAL STAGES", "approval_stages", IN_BLOCK, cell_stages },
	{ "AUDIT RETENTION DAYS", "audit_retention_days", IN_BLOCK, NULL },
};

static const struct col provider_cols[] = {
	{ "REQUIRE INTERNAL APPROVAL", "require_internal_approval", IN_BLOCK,
	  NULL },
};

static const struct col case_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "TENANT", "tenant", IN_BLOCK, NULL },
	{ "STATUS", "status", BOTH, NULL },
	{ "TITLE", "title", BOTH, NULL },
	{ "ASSIGNED TO", "assigned_to", BOTH, NULL },
	{ "OPENED BY", "opened_by", BOTH, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
};

static const struct col request_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "TENANT", "tenant", BOTH, NULL },
	{ "STATUS", "status", BOTH, NULL },
	{ "CASE", "case_id", IN_BLOCK, NULL },
	{ "REQUESTER", "requester", BOTH, NULL },
	{ "WORKLOAD", "workload", BOTH, NULL },
	{ "RESOURCES", "resources", BOTH, NULL },
	{ "JUSTIFICATION", "justification", IN_BLOCK, NULL },
	{ "DURATION", "duration_minutes", IN_BLOCK, cell_duration },
	{ "INTERNAL APPROVAL", "internal_required", IN_BLOCK, NULL },
	{ "CURRENT STAGE", "current_stage", IN_BLOCK, cell_stage },
	{ "CREATED", "created_at", BOTH, NULL },
	{ "PENDING EXPIRES", "pending_expires_at", IN_BLOCK, NULL },
	{ "ACCESS STARTS", "access_starts_at", IN_BLOCK, NULL },
	{ "ACCESS EXPIRES", "access_expires_at", IN_BLOCK, NULL },
	{ "EXPIRES", NULL, IN_TABLE, cell_expires },
};

static const struct col decision_cols[] = {
	{ "AT", "at", IN_TABLE, NULL },
	{ "BY", "by", IN_TABLE, NULL },
	{ "REALM", "realm", IN_TABLE, NULL },
	{ "STAGE", "stage", IN_TABLE, NULL },
	{ "DECISION", "decision", IN_TABLE, NULL },
	{ "MINUTES", "duration_minutes", IN_TABLE, NULL },
	{ "COMMENT", "comment", IN_TABLE, NULL },
};

static void
request_decisions(const json_t *obj)
{
	printf("\nDECISIONS\n");
	print_table(decision_cols, sizeof(decision_cols) /
	    sizeof(decision_cols[0]), IN_TABLE,
	    json_object_get(obj, "decisions"), "  ");
}

static const struct col audit_cols[] = {
	{ "TIME", "time", BOTH, NULL },
	{ "SEQ", "seq", IN_BLOCK, NULL },
	{ "ID", "id", IN_BLOCK, NULL },
	{ "TENANT", "tenant", IN_BLOCK, NULL },
	{ "RECORD TYPE", "record_type", BOTH, NULL },
	{ "OPERATION", "operation", BOTH, NULL },
	{ "ACTOR", NULL, BOTH, cell_actor },
	{ "OBJECT", "object_id", BOTH, NULL },
	{ "RESULT", "result", BOTH, NULL },
	{ "CLIENT IP", "client_ip", IN_BLOCK, NULL },
	{ "DETAILS", NULL, IN_BLOCK, cell_details },
	{ "HASH", "hash", IN_BLOCK, NULL },
};

static const struct col checkpoint_cols[] = {
	{ "SEQ", "seq", BOTH, NULL },
	{ "TIME", "time", BOTH, NULL },
	{ "KID", "kid", BOTH, NULL },
	{ "ANCHOR", "anchor", BOTH, NULL },
	{ "HEAD HASH", "head_hash", BOTH, NULL },
	{ "TENANT", "tenant", IN_BLOCK, NULL },
	{ "SIGNATURE", "sig", IN_BLOCK, NULL },
};

static const struct col notification_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "TENANT", "tenant", IN_BLOCK, NULL },
	{ "CHANNEL", "channel", BOTH, NULL },
	{ "RECIPIENT", "recipient", BOTH, NULL },
	{ "ENDPOINT", "endpoint", IN_BLOCK | OPTIONAL, NULL },
	{ "TOPIC", "topic", BOTH, NULL },
	{ "STATUS", "status", BOTH, NULL },
	{ "ATTEMPTS", "attempts", BOTH, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
	{ "NEXT ATTEMPT", "next_attempt_at", IN_BLOCK, NULL },
	{ "DELIVERED", "delivered_at", BOTH, NULL },
	{ "DEADLINE", "deadline", IN_BLOCK | OPTIONAL, NULL },
	{ "OVERDUE", "overdue_at", IN_BLOCK | OPTIONAL, NULL },
	{ "LAST ERROR", "last_error", BOTH, NULL },
};

static const struct col webhook_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "TENANT", "tenant", BOTH, NULL },
	{ "URL", "url", BOTH, NULL },
	{ "CREATED BY", "created_by", BOTH, NULL },
	{ "CREATED", "created_at", BOTH, NULL },
	{ "SECRET", "secret", IN_BLOCK | OPTIONAL, NULL },
};

static const struct col grant_cols[] = {
	{ "REQUEST", "request_id", BOTH, NULL },
	{ "TENANT", "tenant", BOTH, NULL },
	{ "WORKLOAD", "workload", BOTH, NULL },
	{ "RESOURCES", "resources", BOTH, NULL },
	{ "NOT BEFORE", "not_before", BOTH, NULL },
	{ "EXPIRES", "expires_at", BOTH, NULL },
	{ "GRANT", "token", IN_BLOCK, NULL },
};

/* Break-glass: incidents and emergency access (docs/break-glass.md). */
static const struct col incident_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "SEVERITY", "severity", BOTH, NULL },
	{ "STATUS", "status", BOTH, NULL },
	{ "TITLE", "title", BOTH, NULL },
	{ "TENANTS", "tenants", BOTH, NULL },
	{ "DECLARED BY", "declared_by", IN_BLOCK, NULL },
	{ "STARTED", "started_at", BOTH, NULL },
	{ "ENDED", "ended_at", IN_BLOCK, NULL },
	{ "CLOSED BY", "closed_by", IN_BLOCK, NULL },
	{ "EMERGENCY ACCESS", "emergency_access", IN_BLOCK | OPTIONAL, NULL },
	{ "ENDED ACCESS", "ended_emergency_access", IN_BLOCK | OPTIONAL, NULL },
};

static const struct col emergency_cols[] = {
	{ "ID", "id", BOTH, NULL },
	{ "TENANT", "tenant", BOTH, NULL },
	{ "STATUS", "status", BOTH, NULL },
	{ "INCIDENT", "incident", BOTH, NULL },
	{ "REQUESTER", "requester", BOTH, NULL },
	{ "APPROVER", "approver", BOTH, NULL },
	{ "WORKLOAD", "workload", IN_BLOCK, NULL },
	{ "RESOURCES", "resources", BOTH, NULL },
	{ "JUSTIFICATION", "justification", IN_BLOCK, NULL },
	{ "DURATION", "duration_minutes", IN_BLOCK, cell_duration },
	{ "CREATED", "created_at", IN_BLOCK, NULL },
	{ "STARTS", "starts_at", IN_BLOCK, NULL },
	{ "EXPIRES", "expires_at", BOTH, NULL },
	{ "ENDED", "ended_at", IN_BLOCK, NULL },
	{ "END REASON", "end_reason", IN_BLOCK, NULL },
	{ "NOTICE DUE", "notification_due_at", IN_BLOCK, NULL },
	{ "NOTICE DELIVERED", "notification_delivered_at", IN_BLOCK, NULL },
	{ "NOTICE OVERDUE", "notice_overdue", BOTH, NULL },
	{ "REVIEW", "review_status", BOTH, NULL },
};

static const struct col objection_cols[] = {
	{ "WHAT", "what", IN_TABLE, NULL },
	{ "BY", "by", IN_TABLE, NULL },
	{ "AT", "at", IN_TABLE, NULL },
	{ "TEXT", "text", IN_TABLE, NULL },
};

/* The tenant's objection and the provider's answer, as a small table. */
static void
emergency_review(const json_t *obj)
{
	const json_t *ob = json_object_get(obj, "objection");
	const json_t *rv = json_object_get(obj, "review");
	json_t *rows = json_array();

	if (rows == NULL || !json_is_object(ob)) {
		json_decref(rows);
		return;
	}
	json_array_append_new(rows, json_pack("{s:s, s:O, s:O, s:O}", "what", "objection",
	    "by", json_object_get(ob, "by"), "at", json_object_get(ob, "at"),
	    "text", json_object_get(ob, "comment")));
	if (json_is_object(rv))
		json_array_append_new(rows, json_pack("{s:s, s:O, s:O, s:O}", "what", "review",
		    "by", json_object_get(rv, "by"), "at", json_object_get(rv, "at"),
		    "text", json_object_get(rv, "response")));
	printf("\nOBJECTION AND REVIEW\n");
	print_table(objection_cols, sizeof(objection_cols) / sizeof(objection_cols[0]),
	    IN_TABLE, rows, "  ");
	json_decref(rows);
}

#define VIEW(id, cols, extra) { id, cols, sizeof(cols) / sizeof(cols[0]), extra }

static const struct view views[] = {
	VIEW(CLI_V_STATUS, status_cols, NULL),
	VIEW(CLI_V_USER, user_cols, NULL),
	VIEW(CLI_V_TENANT, tenant_cols, NULL),
	VIEW(CLI_V_TOKEN, token_cols, NULL),
	VIEW(CLI_V_SETTINGS, settings_cols, NULL),
	VIEW(CLI_V_PROVIDER, provider_cols, NULL),
	VIEW(CLI_V_CASE, case_cols, NULL),
	VIEW(CLI_V_REQUEST, request_cols, request_decisions),
	VIEW(CLI_V_NOTIFICATION, notification_cols, NULL),
	VIEW(CLI_V_WEBHOOK, webhook_cols, NULL),
	VIEW(CLI_V_GRANT, grant_cols, NULL),
	VIEW(CLI_V_AUDIT, audit_cols, NULL),
	VIEW(CLI_V_CHECKPOINT, checkpoint_cols, NULL),
	VIEW(CLI_V_INCIDENT, incident_cols, NULL),
	VIEW(CLI_V_EMERGENCY, emergency_cols, emergency_review),
};

static const struct view *
view_find(enum cli_view id)
{
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (views[i].id == id)
			return &views[i];
	return NULL;
}

int
cli_view_block(enum cli_view id, const json_t *obj)
{
	const struct view *v = view_find(id);
	size_t w = 0, i;
	char *text = NULL;
	int rc = CLI_EXIT_OTHER;

	if (v == NULL || !json_is_object(obj)) {
		rc = cli_print_json(obj);
		goto out;
	}
	for (i = 0; i < v->ncols; i++)
		if ((v->cols[i].fl & IN_BLOCK) && cli_width(v->cols[i].label) > w)
			w = cli_width(v->cols[i].label);
	for (i = 0; i < v->ncols; i++) {
		const struct col *c = &v->cols[i];
		if (!(c->fl & IN_BLOCK))
			continue;
		if ((c->fl & OPTIONAL) && json_object_get(obj, c->field) == NULL)
			continue;
		if (!cell_text(c, obj, &text)) {
			fprintf(stderr, "lockbox: out of memory\n");
			goto out;
		}
		fputs(c->label, stdout);
		pad(w - cli_width(c->label) + 2);
		printf("%s\n", text);
		free(text);
		text = NULL;
	}
	if (v->extra != NULL)
		v->extra(obj);
	rc = CLI_EXIT_OK;
out:
	free(text);
	return rc;
}

int
cli_view_table(enum cli_view id, const json_t *items)
{
	const struct view *v = view_find(id);

	if (v == NULL)
		return cli_print_json(items);
	return print_table(v->cols, v->ncols, IN_TABLE, items, "");
}
