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
	  "require_internal_approval", NULL, 0,
	  "require a support_manager's approval before the tenant's" },
	{ "emergency-cap", "N", CLI_F_INT, "emergency_cap", NULL, 0,
	  "at most N emergency accesses per tenant in the window (1..1000)" },
	{ "emergency-window-hours", "H", CLI_F_INT, "emergency_window_hours",
	  NULL, 0, "the window of the emergency cap, in hours (1..8760)" },
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

/* Break-glass (docs/break-glass.md).  Their own --tenant wins over the global. */
static const struct cli_flag incidents_declare[] = {
	{ "title", "TITLE", CLI_F_STR, "title", NULL, REQ, "what is broken" },
	{ "severity", "SEVERITY", CLI_F_STR, "severity", NULL, REQ,
	  "low, medium, high or critical (only critical allows emergency access)" },
	{ "tenant", "TENANT", CLI_F_LIST, "tenants", NULL, REQ,
	  "an affected tenant (repeatable)" },
	END
};

static const struct cli_flag incidents_list[] = {
	{ "open", NULL, CLI_F_CONST, "status", "open", QRY, "only open incidents" },
	END
};

static const struct cli_flag emergency_request[] = {
	{ "incident", "ID", CLI_F_STR, "incident", NULL, REQ,
	  "an open critical incident that lists the tenant" },
	{ "tenant", "TENANT", CLI_F_STR, "tenant", NULL, REQ, "the tenant" },
	{ "workload", "WORKLOAD", CLI_F_STR, "workload", NULL, REQ,
	  "exchange, sharepoint, teams or a provider-defined one" },
	{ "resource", "PATH", CLI_F_LIST, "resources", NULL, REQ,
	  "a resource path (repeatable)" },
	{ "justification", "TEXT", CLI_F_STR, "justification", NULL, REQ,
	  "why the emergency needs the tenant's content" },
	{ "duration", "DURATION", CLI_F_DURATION, "duration_minutes", NULL, 0,
	  "how long: 1h to 12h (default 4h)" },
	END
};

static const struct cli_flag emergency_list[] = {
	{ "status", "STATUS", CLI_F_STR, "status", NULL, QRY,
	  "pending_approval, active, ended or expired" },
	{ "incident", "ID", CLI_F_STR, "incident", NULL, QRY,
	  "only accesses under this incident" },
	END
};

static const struct cli_flag emergency_object[] = {
	{ "comment", "TEXT", CLI_F_STR, "comment", NULL, REQ,
	  "the tenant's objection, for the provider to answer" },
	END
};

static const struct cli_flag emergency_review[] = {
	{ "response", "TEXT", CLI_F_STR, "response", NULL, REQ,
	  "the provider's answer to the tenant's objection" },
	END
};

#define AUDIT_PROVIDER_FLAG \
	{ "provider", NULL, CLI_F_TRUE, "all_tenants", NULL, CLI_FL_LOCAL, \
	  "the provider's own audit log (provider_admin), even when a " \
	  "tenant is known" }

static const struct cli_flag audit_search[] = {
	{ "start", "TIME", CLI_F_STR, "start", NULL, QRY,
	  "records at or after this RFC 3339 time" },
	{ "end", "TIME", CLI_F_STR, "end", NULL, QRY,
	  "records before this RFC 3339 time" },
	{ "record-type", "TYPE", CLI_F_STR, "record_type", NULL, QRY,
	  "e.g. CustomerLockboxRequest, CustomerLockboxAccess" },
	{ "operation", "OP", CLI_F_STR, "operation", NULL, QRY,
	  "e.g. ApproveRequest, AccessContent, SearchAuditLog" },
	{ "actor", "USER", CLI_F_STR, "actor", NULL, QRY,
	  "the id of who acted" },
	{ "object", "ID", CLI_F_STR, "object", NULL, QRY,
	  "the object acted on, e.g. a request id" },
	{ "result", "RESULT", CLI_F_STR, "result", NULL, QRY,
	  "success, failure, allowed or denied" },
	AUDIT_PROVIDER_FLAG,
	END
};

static const struct cli_flag audit_export[] = {
	{ "format", "jsonl|csv", CLI_F_STR, "format", NULL, REQ | QRY,
	  "jsonl: the whole chain with its checkpoints, verifiable offline; "
	  "csv: records for a spreadsheet" },
	{ "output", "FILE", CLI_F_STR, "output", NULL, CLI_FL_LOCAL,
	  "write to FILE (created 0600, replaced if present) instead of "
	  "standard output" },
	{ "start", "TIME", CLI_F_STR, "start", NULL, QRY,
	  "csv only: records at or after this RFC 3339 time" },
	{ "end", "TIME", CLI_F_STR, "end", NULL, QRY,
	  "csv only: records before this RFC 3339 time" },
	AUDIT_PROVIDER_FLAG,
	END
};

static const struct cli_flag audit_verify[] = {
	{ "file", "FILE", CLI_F_STR, "file", NULL, CLI_FL_LOCAL,
	  "verify this JSONL export offline instead of asking the daemon" },
	{ "jwks", "URL", CLI_F_STR, "jwks", NULL, CLI_FL_LOCAL,
	  "with --file: the public keys' JWKS URL (default: "
	  "LOCKBOX_URL/.well-known/lockbox-audit-keys.json)" },
	{ "key", "FILE", CLI_F_STR, "key", NULL, CLI_FL_LOCAL,
	  "with --file: the public keys as a JWKS JSON file (no network)" },
	AUDIT_PROVIDER_FLAG,
	END
};

static const struct cli_flag audit_checkpoints[] = {
	AUDIT_PROVIDER_FLAG,
	END
};

static const struct cli_flag notifications_list[] = {
	{ "status", "STATUS", CLI_F_STR, "status", NULL, QRY,
	  "pending, delivered or dead" },
	{ "all-tenants", NULL, CLI_F_TRUE, "all_tenants", NULL, CLI_FL_LOCAL,
	  "every notification (GET /v1/notifications; provider_admin)" },
	END
};

#define WEBHOOK_PROVIDER_FLAG \
	{ "provider", NULL, CLI_F_TRUE, "all_tenants", NULL, CLI_FL_LOCAL, \
	  "the provider's endpoints (provider_admin), even when a tenant is known" }

static const struct cli_flag webhooks_add[] = {
	{ "url", "URL", CLI_F_STR, "url", NULL, REQ,
	  "the http:// or https:// endpoint receiving signed JSON events" },
	WEBHOOK_PROVIDER_FLAG,
	END
};

static const struct cli_flag webhooks_other[] = {
	WEBHOOK_PROVIDER_FLAG,
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
	{ "notifications", "email and webhook deliveries and failures" },
	{ "webhooks", "webhook endpoints receiving signed events" },
	{ "audit", "search, export and verify the audit trail" },
	{ "health", "is the daemon alive (GET /healthz)" },
	{ "ready", "can the daemon serve (GET /readyz)" },
	{ "metrics", "the daemon's Prometheus metrics" },
	{ "incidents", "service incidents (break-glass; incident_manager)" },
	{ "emergency", "emergency access under a critical incident (break-glass)" },
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
	{ "requests", "grant", "ID", "GET", T "/requests/{0}/grant", NULL,
	  no_flags, CLI_V_GRANT, CLI_C_TENANT | CLI_C_SECRET,
	  "fetch the signed grant of your approved request",
	  "Only the requester, while the request is approved.  Prints the "
	  "grant (a JWS): send it as 'Authorization: Bearer GRANT' to the "
	  "content gateway.  With --json, prints the token with its request, "
	  "resources and expiry." },
	{ "keys", "rotate", NULL, "POST", "/v1/keys/rotate", NULL, no_flags,
	  CLI_V_RAW, 0, "make a new signing key current",
	  "Needs provider_admin.  Grants signed by the old key keep verifying "
	  "until they end." },

	{ "audit", "search", NULL, "GET", T "/audit", "/v1/provider/audit",
	  audit_search, CLI_V_AUDIT, CLI_C_TENANT_OPT | CLI_C_LIST,
	  "search the audit trail, newest first",
	  "Every filter must match (exact match; times are RFC 3339).  Needs "
	  "global_admin or compliance_admin of the tenant, or provider_admin; "
	  "a provider principal without --tenant searches the provider's own "
	  "log.  The search itself is recorded (SearchAuditLog)." },
	{ "audit", "export", NULL, "GET", T "/audit/export",
	  "/v1/provider/audit/export", audit_export, CLI_V_RAW,
	  CLI_C_TENANT_OPT | CLI_C_CUSTOM,
	  "export the audit trail as JSON Lines or CSV",
	  "Streams the export to --output (or standard output) as it "
	  "arrives, never holding it in memory.  The JSONL form ends on a "
	  "signed checkpoint and can be checked later with 'lockbox audit "
	  "verify --file'.  The export itself is recorded (ExportAuditLog)." },
	{ "audit", "verify", NULL, "GET", T "/audit/verify",
	  "/v1/provider/audit/verify", audit_verify, CLI_V_RAW,
	  CLI_C_TENANT_OPT | CLI_C_CUSTOM,
	  "verify the audit trail's hash chain and signed checkpoints",
	  "With --file, checks a JSONL export offline with nothing but the "
	  "public keys (--key FILE, or the JWKS from --jwks URL or "
	  "LOCKBOX_URL/.well-known/lockbox-audit-keys.json); no token is needed.  Without "
	  "--file, asks the daemon to verify the stored trail.  Prints 'OK: "
	  "N records, M checkpoints, seq A..B' and exits 0, or 'FAILED at "
	  "line L (seq S): PROBLEM: reason' and exits 10." },
	{ "audit", "checkpoints", "[list|create]", "GET",
	  T "/audit/checkpoints", "/v1/provider/audit/checkpoints",
	  audit_checkpoints, CLI_V_CHECKPOINT,
	  CLI_C_TENANT_OPT | CLI_C_LIST | CLI_C_ACTION,
	  "list the signed checkpoints, or sign one of the head now",
	  "'list' (the default) shows the checkpoints oldest first; 'create' "
	  "signs a checkpoint of the chain's current head (POST), or shows "
	  "the one it already has." },

	{ "notifications", "list", NULL, "GET", T "/notifications",
	  "/v1/notifications", notifications_list, CLI_V_NOTIFICATION,
	  CLI_C_TENANT_OPT | CLI_C_LIST,
	  "list recent notifications and their delivery, newest first",
	  "Tenant admins see their tenant's; with --all-tenants, or as a "
	  "provider principal without --tenant, provider_admin sees every "
	  "notification (GET /v1/notifications).  Dead ones were given up "
	  "after the retry horizon; LAST ERROR says why." },
	{ "webhooks", "add", NULL, "POST", T "/webhooks",
	  "/v1/provider/webhooks", webhooks_add, CLI_V_WEBHOOK,
	  CLI_C_TENANT_OPT | CLI_C_SECRET,
	  "add a webhook endpoint; prints its signing secret once",
	  "Events are POSTed as JSON signed per Standard Webhooks "
	  "(webhook-id, webhook-timestamp, webhook-signature).  The secret "
	  "(whsec_...) is shown here only; store it now.  A tenant's "
	  "endpoints need global_admin; the provider's (--provider, or a "
	  "provider principal without --tenant) need provider_admin." },
	{ "webhooks", "list", NULL, "GET", T "/webhooks",
	  "/v1/provider/webhooks", webhooks_other, CLI_V_WEBHOOK,
	  CLI_C_TENANT_OPT | CLI_C_LIST, "list webhook endpoints (never secrets)",
	  NULL },
	{ "webhooks", "remove", "ID", "DELETE", T "/webhooks/{0}",
	  "/v1/provider/webhooks/{0}", webhooks_other, CLI_V_WEBHOOK,
	  CLI_C_TENANT_OPT, "remove a webhook endpoint",
	  "Notifications still queued for it become dead letters." },

	{ "health", NULL, NULL, "GET", "/healthz", NULL, no_flags,
	  CLI_V_STATUS, 0, "is the daemon alive", NULL },
	{ "ready", NULL, NULL, "GET", "/readyz", NULL, no_flags, CLI_V_STATUS,
	  0, "can the daemon serve (storage up)", NULL },
	{ "metrics", NULL, NULL, "GET", "/metrics", NULL, no_flags, CLI_V_RAW,
	  CLI_C_TEXT, "print the Prometheus metrics", NULL },

	{ "incidents", "declare", NULL, "POST", "/v1/incidents", NULL,
	  incidents_declare, CLI_V_INCIDENT, 0, "declare a service incident",
	  "Needs incident_manager.  Only an open critical incident that lists "
	  "a tenant allows emergency access to that tenant." },
	{ "incidents", "list", NULL, "GET", "/v1/incidents", NULL, incidents_list,
	  CLI_V_INCIDENT, CLI_C_LIST, "list incidents, newest first",
	  "Provider roles." },
	{ "incidents", "get", "ID", "GET", "/v1/incidents/{0}", NULL, no_flags,
	  CLI_V_INCIDENT, 0, "show an incident and its emergency accesses", NULL },
	{ "incidents", "close", "ID", "POST", "/v1/incidents/{0}/close", NULL,
	  no_flags, CLI_V_INCIDENT, 0, "close an incident",
	  "Ends every pending or active emergency access under it at once.  "
	  "Needs incident_manager." },

	{ "emergency", "request", NULL, "POST", "/v1/emergency-access", NULL,
	  emergency_request, CLI_V_EMERGENCY, 0,
	  "ask for emergency access to a tenant's content",
	  "Needs incident_manager or support_engineer.  Refused (422) when the "
	  "incident is not critical, closed or not for the tenant, when the "
	  "tenant denied that scope in the last 7 days, or at the tenant's "
	  "cap; the refused attempt is recorded in the tenant's audit log." },
	{ "emergency", "approve", "ID", "POST", "/v1/emergency-access/{0}/approve",
	  NULL, no_flags, CLI_V_EMERGENCY, 0, "approve and start an emergency access",
	  "A different incident_manager than the requester.  The tenant is "
	  "notified at once." },
	{ "emergency", "grant", "ID", "GET", "/v1/emergency-access/{0}/grant",
	  NULL, no_flags, CLI_V_RAW, CLI_C_SECRET,
	  "fetch the grant token of your active emergency access", NULL },
	{ "emergency", "end", "ID", "POST", "/v1/emergency-access/{0}/end", NULL,
	  no_flags, CLI_V_EMERGENCY, 0, "end an emergency access now",
	  "An incident_manager or the requester." },
	{ "emergency", "list", NULL, "GET", T "/emergency-access",
	  "/v1/emergency-access", emergency_list, CLI_V_EMERGENCY,
	  CLI_C_TENANT_OPT | CLI_C_LIST, "list emergency accesses, newest first",
	  "With --tenant (or as a tenant principal) the tenant's; a provider "
	  "principal without --tenant lists every one it may see." },
	{ "emergency", "get", "ID", "GET", T "/emergency-access/{0}",
	  "/v1/emergency-access/{0}", no_flags, CLI_V_EMERGENCY, CLI_C_TENANT_OPT,
	  "show an emergency access, its notice and any objection", NULL },
	{ "emergency", "object", "ID", "POST", T "/emergency-access/{0}/object",
	  NULL, emergency_object, CLI_V_EMERGENCY, CLI_C_TENANT,
	  "object to an emergency access (the tenant)",
	  "global_admin or compliance_admin of the tenant; opens a review the "
	  "provider must answer." },
	{ "emergency", "review", "ID", "POST", "/v1/emergency-access/{0}/review",
	  NULL, emergency_review, CLI_V_EMERGENCY, 0,
	  "answer a tenant's objection (the provider)",
	  "provider_admin or incident_manager." },
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
cli_cmd_nargs_min(const struct cli_cmd *c)
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
			if (*p != '[')
				n++;
		}
	}
	return n;
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
