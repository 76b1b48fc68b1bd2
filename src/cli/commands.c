/*
 * Every command of the CLI as one row of data: its HTTP method and path
 * template (docs/api.md), the flags that fill the body or the query, how
 * the answer is shown and the help text.  Keeping the calls as data means
 * one engine (run.c) sends them all the same way, and the help, the
 * argument checks and docs/cli.md cannot drift from what is sent.
 *
 * Path templates: {t} is the tenant (--tenant, LOCKBOX_TENANT or the
 * caller's own realm), {0}, {1} the positional arguments; each is
 * percent-encoded when the path is built.
 */
#include <string.h>

#include "cli/cli.h"

#define END { NULL, NULL, CLI_F_STR, NULL, NULL, 0, NULL }
#define REQ CLI_FL_REQUIRED
#define QRY CLI_FL_QUERY

static const struct cli_flag no_flags[] = { END };

static const struct cli_flag tenants_create[] = {
	{ "id", "ID", CLI_F_STR, "id", NULL, REQ,
	  "tenant id: lowercase letters, digits and '-'" },
	{ "name", "NAME", CLI_F_STR, "name", NULL, REQ, "display name" },
	{ "plan", "PLAN", CLI_F_STR, "plan", NULL, REQ,
	  "licence plan, e.g. M365_E5 or M365_E3" },
	{ "addon", "ADDON", CLI_F_LIST, "addons", NULL, 0,
	  "an add-on, e.g. customer_lockbox (repeatable)" },
	{ "cloud", "CLOUD", CLI_F_STR, "cloud", NULL, 0,
	  "commercial (default), gcc, gcc_high or dod" },
	END
};

static const struct cli_flag provider_set[] = {
	{ "require-internal-approval", "true|false", CLI_F_BOOLWORD,
	  "require_internal_approval", NULL, REQ,
	  "require a support_manager's approval before the tenant's" },
	END
};

static const struct cli_flag users_create[] = {
	{ "id", "ID", CLI_F_STR, "id", NULL, REQ, "user id" },
	{ "realm", "REALM", CLI_F_STR, "realm", NULL, REQ,
	  "provider, or a tenant id" },
	{ "role", "ROLE", CLI_F_LIST, "roles", NULL, REQ,
	  "a role of that realm (repeatable)" },
	{ "email", "EMAIL", CLI_F_STR, "email", NULL, 0, "email address" },
	{ "display-name", "NAME", CLI_F_STR, "display_name", NULL, 0,
	  "name shown to people" },
	{ "service", NULL, CLI_F_CONST, "type", "service", 0,
	  "a service principal (e.g. the gateway), not a person" },
	END
};

static const struct cli_flag users_list[] = {
	{ "realm", "REALM", CLI_F_STR, "realm", NULL, REQ | QRY,
	  "the realm whose users to list" },
	END
};

static const struct cli_flag tokens_create[] = {
	{ "label", "LABEL", CLI_F_STR, "label", NULL, 0,
	  "a note saying what the token is for" },
	END
};

static const struct cli_flag settings_set[] = {
	{ "enable", NULL, CLI_F_TRUE, "enabled", NULL, 0, "turn Lockbox on" },
	{ "disable", NULL, CLI_F_FALSE, "enabled", NULL, 0, "turn Lockbox off" },
	{ "approver", "USER", CLI_F_LIST, "approvers", NULL, 0,
	  "a designated approver (repeatable; replaces the whole list)" },
	{ "clear-approvers", NULL, CLI_F_CLEAR, "approvers", NULL, 0,
	  "designate no approver" },
	{ "notification-email", "EMAIL", CLI_F_LIST, "notification_emails",
	  NULL, 0, "an address told of requests (repeatable; replaces the list)" },
	{ "clear-notification-emails", NULL, CLI_F_CLEAR,
	  "notification_emails", NULL, 0, "notify no extra address" },
	{ "stages", "N", CLI_F_STAGES, "approval_stages", NULL, 0,
	  "N stages of one approval each, by any designated approver" },
	{ "stage", "REQUIRED[:USER,...]", CLI_F_STAGE, "approval_stages", NULL,
	  0, "one stage needing REQUIRED approvals, optionally only from "
	  "the named approvers (repeatable, in order)" },
	{ "retention-days", "DAYS", CLI_F_INT, "audit_retention_days", NULL, 0,
	  "keep the audit log this many days (90..3650)" },
	END
};

static const struct cli_flag cases_open[] = {
	{ "title", "TITLE", CLI_F_STR, "title", NULL, REQ,
	  "what the support case is about" },
	END
};

static const struct cli_flag cases_list[] = {
	{ "assigned-to", "USER", CLI_F_STR, "assigned_to", NULL, QRY,
	  "only cases assigned to this engineer" },
	END
};

static const struct cli_flag cases_assign[] = {
	{ "engineer", "USER", CLI_F_STR, "engineer", NULL, REQ,
	  "a provider user holding support_engineer" },
	END
};

static const struct cli_flag requests_create[] = {
	{ "case", "CASE_ID", CLI_F_STR, "case_id", NULL, REQ,
	  "an open support case of the tenant assigned to you" },
	{ "workload", "WORKLOAD", CLI_F_STR, "workload", NULL, REQ,
	  "exchange, sharepoint, teams or a provider-defined one" },
	{ "resource", "PATH", CLI_F_LIST, "resources", NULL, REQ,
	  "a resource path, e.g. mailbox/alice@contoso.example (repeatable)" },
	{ "justification", "TEXT", CLI_F_STR, "justification", NULL, REQ,
	  "why the access is needed" },
	{ "duration", "DURATION", CLI_F_DURATION, "duration_minutes", NULL, 0,
	  "how long: 4h, 90m, 1h30m or minutes (default 12h)" },
	END
};

static const struct cli_flag requests_list[] = {
	{ "status", "STATUS", CLI_F_STR, "status", NULL, QRY,
	  "pending_internal, pending, approved, denied, expired, revoked, "
	  "cancelled or completed" },
	{ "all-tenants", NULL, CLI_F_TRUE, "all_tenants", NULL, CLI_FL_LOCAL,
	  "every tenant's requests (GET /v1/requests; provider roles)" },
	END
};

static const struct cli_flag requests_approve[] = {
	{ "duration", "DURATION", CLI_F_DURATION, "duration_minutes", NULL, 0,
	  "grant less than requested: 4h, 90m, 1h30m or minutes" },
	{ "comment", "TEXT", CLI_F_STR, "comment", NULL, 0,
	  "a note kept with the decision" },
	END
};

static const struct cli_flag comment_only[] = {
	{ "comment", "TEXT", CLI_F_STR, "comment", NULL, 0,
	  "a note kept with the decision" },
	END
};

const struct cli_group cli_groups[] = {
	{ "me", "show who the token belongs to" },
	{ "tenants", "create and read tenants (provider)" },
	{ "provider-settings", "provider-wide settings" },
	{ "users", "create and read users and service principals" },
	{ "tokens", "create, list and revoke API tokens" },
	{ "settings", "a tenant's Customer Lockbox settings" },
	{ "cases", "support cases of a tenant" },
	{ "requests", "Lockbox requests: create, read, decide" },
	{ "health", "is the daemon alive (GET /healthz)" },
	{ "ready", "can the daemon serve (GET /readyz)" },
	{ "metrics", "the daemon's Prometheus metrics" },
};
const size_t cli_ngroups = sizeof(cli_groups) / sizeof(cli_groups[0]);

#define T "/v1/tenants/{t}"

const struct cli_cmd cli_cmds[] = {
	{ "me", NULL, NULL, "GET", "/v1/me", NULL, no_flags, CLI_V_USER, 0,
	  "show the user the token belongs to", NULL },

	{ "tenants", "create", NULL, "POST", "/v1/tenants", NULL,
	  tenants_create, CLI_V_TENANT, 0, "create a tenant",
	  "Needs provider_admin." },
	{ "tenants", "list", NULL, "GET", "/v1/tenants", NULL, no_flags,
	  CLI_V_TENANT, CLI_C_LIST, "list tenants", "Provider roles." },
	{ "tenants", "get", "ID", "GET", "/v1/tenants/{0}", NULL, no_flags,
	  CLI_V_TENANT, 0, "show a tenant", NULL },

	{ "provider-settings", "get", NULL, "GET", "/v1/provider/settings",
	  NULL, no_flags, CLI_V_PROVIDER, 0, "show the provider settings",
	  NULL },
	{ "provider-settings", "set", NULL, "PATCH", "/v1/provider/settings",
	  NULL, provider_set, CLI_V_PROVIDER, CLI_C_CHANGE,
	  "change the provider settings", "Needs provider_admin." },

	{ "users", "create", NULL, "POST", "/v1/users", NULL, users_create,
	  CLI_V_USER, CLI_C_SECRET, "create a user and its first API token",
	  "The token is printed once, here; store it now.  provider_admin "
	  "creates users of any realm, a global_admin those of their own "
	  "tenant." },
	{ "users", "list", NULL, "GET", "/v1/users", NULL, users_list,
	  CLI_V_USER, CLI_C_LIST, "list the users of a realm", NULL },
	{ "users", "get", "REALM ID", "GET", "/v1/users/{0}/{1}", NULL,
	  no_flags, CLI_V_USER, 0, "show a user", NULL },

	{ "tokens", "create", "REALM USER", "POST", "/v1/users/{0}/{1}/tokens",
	  NULL, tokens_create, CLI_V_TOKEN, CLI_C_SECRET,
	  "create another API token for a user",
	  "The token is printed once, here; store it now." },
	{ "tokens", "list", "REALM USER", "GET", "/v1/users/{0}/{1}/tokens",
	  NULL, no_flags, CLI_V_TOKEN, CLI_C_LIST,
	  "list a user's tokens (never their secrets)", NULL },
	{ "tokens", "revoke", "TOKEN_ID", "DELETE", "/v1/tokens/{0}", NULL,
	  no_flags, CLI_V_TOKEN, 0, "revoke a token at once",
	  "TOKEN_ID is the token's id (tok_...), not its secret." },

	{ "settings", "get", NULL, "GET", T "/lockbox/settings", NULL,
	  no_flags, CLI_V_SETTINGS, CLI_C_TENANT,
	  "show the tenant's Lockbox settings", NULL },
	{ "settings", "set", NULL, "PATCH", T "/lockbox/settings", NULL,
	  settings_set, CLI_V_SETTINGS, CLI_C_TENANT | CLI_C_CHANGE,
	  "change the tenant's Lockbox settings",
	  "Only the settings named are changed.  --approver and "
	  "--notification-email replace the whole list.  Needs global_admin "
	  "of the tenant." },

	{ "cases", "open", NULL, "POST", T "/cases", NULL, cases_open,
	  CLI_V_CASE, CLI_C_TENANT, "open a support case", NULL },
	{ "cases", "list", NULL, "GET", T "/cases", NULL, cases_list,
	  CLI_V_CASE, CLI_C_TENANT | CLI_C_LIST, "list support cases", NULL },
	{ "cases", "get", "ID", "GET", T "/cases/{0}", NULL, no_flags,
	  CLI_V_CASE, CLI_C_TENANT, "show a support case", NULL },
	{ "cases", "assign", "ID", "POST", T "/cases/{0}/assign", NULL,
	  cases_assign, CLI_V_CASE, CLI_C_TENANT,
	  "assign a case to a support engineer",
	  "Needs support_manager or provider_admin." },
	{ "cases", "close", "ID", "POST", T "/cases/{0}/close", NULL,
	  no_flags, CLI_V_CASE, CLI_C_TENANT, "close a support case", NULL },

	{ "requests", "create", NULL, "POST", T "/requests", NULL,
	  requests_create, CLI_V_REQUEST, CLI_C_TENANT,
	  "ask for access to a tenant's content",
	  "Needs support_engineer and an open case assigned to you." },
	{ "requests", "list", NULL, "GET", T "/requests", "/v1/requests",
	  requests_list, CLI_V_REQUEST, CLI_C_TENANT_OPT | CLI_C_LIST,
	  "list requests, newest first",
	  "Lists the tenant's requests.  With --all-tenants, or when no tenant "
	  "is known (a provider principal without --tenant), lists every "
	  "request the caller may see." },
	{ "requests", "get", "ID", "GET", T "/requests/{0}", NULL, no_flags,
	  CLI_V_REQUEST, CLI_C_TENANT, "show a request and its decisions",
	  NULL },
	{ "requests", "approve", "ID", "POST", T "/requests/{0}/approve", NULL,
	  requests_approve, CLI_V_REQUEST, CLI_C_TENANT, "approve a request",
	  "Designated approvers at the tenant's stages; a support_manager "
	  "other than the requester at the internal stage." },
	{ "requests", "deny", "ID", "POST", T "/requests/{0}/deny", NULL,
	  comment_only, CLI_V_REQUEST, CLI_C_TENANT,
	  "deny a request (final)", NULL },
	{ "requests", "revoke", "ID", "POST", T "/requests/{0}/revoke", NULL,
	  comment_only, CLI_V_REQUEST, CLI_C_TENANT,
	  "end approved access at once", NULL },
	{ "requests", "cancel", "ID", "POST", T "/requests/{0}/cancel", NULL,
	  comment_only, CLI_V_REQUEST, CLI_C_TENANT,
	  "withdraw your own pending request", NULL },

	{ "health", NULL, NULL, "GET", "/healthz", NULL, no_flags,
	  CLI_V_STATUS, 0, "is the daemon alive", NULL },
	{ "ready", NULL, NULL, "GET", "/readyz", NULL, no_flags, CLI_V_STATUS,
	  0, "can the daemon serve (storage up)", NULL },
	{ "metrics", NULL, NULL, "GET", "/metrics", NULL, no_flags, CLI_V_RAW,
	  CLI_C_TEXT, "print the Prometheus metrics", NULL },
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);

const struct cli_group *
cli_group_find(const char *name)
{
	for (size_t i = 0; i < cli_ngroups; i++)
		if (strcmp(cli_groups[i].name, name) == 0)
			return &cli_groups[i];
	return NULL;
}

const struct cli_cmd *
cli_cmd_find(const char *group, const char *verb)
{
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *c = &cli_cmds[i];
		if (strcmp(c->group, group) != 0)
			continue;
		if (verb == NULL ? c->verb == NULL :
		    c->verb != NULL && strcmp(c->verb, verb) == 0)
			return c;
	}
	return NULL;
}

const struct cli_flag *
cli_flag_find(const struct cli_cmd *c, const char *name)
{
	for (const struct cli_flag *f = c->flags; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

size_t
cli_cmd_nargs(const struct cli_cmd *c)
{
	size_t n = 0;
	bool in_word = false;

	if (c->args == NULL)
		return 0;
	for (const char *p = c->args; *p != '\0'; p++) {
		if (*p == ' ') {
			in_word = false;
		} else if (!in_word) {
			in_word = true;
			n++;
		}
	}
	return n;
}
