/*
 * Configuration: one table of options, read from four places.
 *
 * Every option has a flag (--name), an environment variable (LOCKBOX_NAME)
 * and a config-file key (name = value).  Precedence rises from the
 * built-in default, to the file, to the environment, to the flag, so an
 * operator can keep a file and override one value for a run.  The table is
 * also what --help prints, so help cannot fall out of step.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"

enum opt_type { OPT_STR, OPT_LONG, OPT_BOOL };

struct opt {
	const char *name;       /* flag and file key; env is LOCKBOX_ + upper */
	enum opt_type type;
	size_t off;
	size_t cap;             /* OPT_STR: size of the field */
	long lo, hi;            /* OPT_LONG bounds */
	const char *def;
	const char *help;
};

#define S(f) offsetof(struct lb_config, f), sizeof(((struct lb_config *)0)->f)
#define L(f) offsetof(struct lb_config, f), 0
static const struct opt opts[] = {
	{ "config", OPT_STR, S(config_file), 0, 0, "",
	  "read options from FILE (lines of `name = value`, # comments)" },
	{ "listen", OPT_STR, S(listen), 0, 0, LB_DEFAULT_LISTEN,
	  "HOST:PORT to serve the API, console and access check on" },
	{ "data-dir", OPT_STR, S(data_dir), 0, 0, "./var",
	  "directory for the SQLite database and the signing keys" },
	{ "database", OPT_STR, S(database), 0, 0, "",
	  "sqlite:PATH (default sqlite:DATA_DIR/lockbox.db); postgresql:// is not built yet" },
	{ "smtp-url", OPT_STR, S(smtp_url), 0, 0, "",
	  "smtp://HOST:PORT or smtps://HOST:PORT for email notifications" },
	{ "mail-from", OPT_STR, S(mail_from), 0, 0, "lockbox@localhost",
	  "sender address of notification email" },
	{ "webhook-url", OPT_STR, S(webhook_url), 0, 0, "",
	  "provider-wide webhook receiving every event (and alerts)" },
	{ "webhook-secret", OPT_STR, S(webhook_secret), 0, 0, "",
	  "whsec_... secret signing --webhook-url deliveries (Standard Webhooks)" },
	{ "console-url", OPT_STR, S(console_url), 0, 0, "",
	  "console URL put in notification email (default: none, a fingerprint only)" },
	{ "smtp-user", OPT_STR, S(smtp_user), 0, 0, "",
	  "SMTP AUTH user (or user:pass in --smtp-url)" },
	{ "smtp-password", OPT_STR, S(smtp_password), 0, 0, "",
	  "SMTP AUTH password (prefer the environment or the config file)" },
	{ "smtp-starttls", OPT_BOOL, offsetof(struct lb_config, smtp_starttls), 0, 0, 0, "false",
	  "require STARTTLS on smtp:// (smtps:// is TLS from the start)" },
	{ "notify-retry-horizon-ms", OPT_LONG, L(notify_retry_horizon_ms), 1000, 2592000000L,
	  "86400000", "retry a notification this long, then mark it dead (default 24 h)" },
	{ "notify-backoff-base-ms", OPT_LONG, L(notify_backoff_base_ms), 10, 3600000, "30000",
	  "first retry delay; doubles per attempt, with jitter" },
	{ "notify-backoff-max-ms", OPT_LONG, L(notify_backoff_max_ms), 10, 86400000, "3600000",
	  "longest retry delay" },
	{ "notify-poll-ms", OPT_LONG, L(notify_poll_ms), 10, 60000, "500",
	  "how often the notifier looks for due notifications" },
	{ "notify-reminder-ms", OPT_LONG, L(notify_reminder_ms), 0, 43200000, "7200000",
	  "remind approvers this long before a pending request expires (0: never)" },
	{ "notify-timeout-ms", OPT_LONG, L(notify_timeout_ms), 1000, 300000, "15000",
	  "longest time one delivery attempt may take" },
	{ "authz-map", OPT_STR, S(authz_map), 0, 0, "",
	  "URI map FILE for the access check (default: /content/{tenant}/{workload}/{path}, "
	  "/metadata/{tenant}/{workload}/{path})" },
	{ "threads", OPT_LONG, L(threads), 1, 256, "8",
	  "HTTP worker threads" },
	{ "sweep-interval-ms", OPT_LONG, L(sweep_interval_ms), 10, 60000, "1000",
	  "how often expiries and window ends are written" },
	{ "log-level", OPT_STR, S(log_level), 0, 0, "info",
	  "debug, info, warn or error" },
	{ "web-dir", OPT_STR, S(web_dir), 0, 0, "./web",
	  "directory of the web console's static files, served at /ui/" },
	{ "session-idle-minutes", OPT_LONG, L(session_idle_minutes), 1, 1440, "30",
	  "a console session ends after this many minutes unused" },
	{ "session-max-hours", OPT_LONG, L(session_max_hours), 1, 720, "12",
	  "a console session ends this many hours after sign-in, used or not" },
	{ "secure-cookies", OPT_BOOL, offsetof(struct lb_config, secure_cookies), 0, 0, 0, "false",
	  "mark the session cookie Secure (set when TLS terminates in front of lockboxd)" },
	{ "test-clock", OPT_STR, S(test_clock), 0, 0, "",
	  "tests only (needs LOCKBOX_ALLOW_TEST_CLOCK=1): add the ms offset in FILE to the clock" },
};
#undef S
#undef L
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

void
config_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: lockboxd [options]\n\n"
	    "Lockbox daemon: the HTTP API, the web console and the access check.\n"
	    "Each option may also be set as LOCKBOX_<NAME> in the environment or\n"
	    "as `name = value` in the --config file; flags win over the\n"
	    "environment, which wins over the file.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char env[64];
		size_t k = 0;
		for (const char *p = opts[i].name; *p && k < sizeof(env) - 1; p++)
			env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		env[k] = '\0';
		fprintf(fp, "  --%-20s %s\n  %-22s env LOCKBOX_%s%s%s\n", opts[i].name,
		    opts[i].help, "", env, opts[i].def[0] ? ", default " : "", opts[i].def);
	}
	fprintf(fp,
	    "  --%-20s %s\n  --%-20s %s\n\n"
	    "Environment only:\n"
	    "  LOCKBOX_BOOTSTRAP_TOKEN  on a new database, create provider principal `admin`\n"
	    "                           (provider_admin) with this API token (lbt_ + 43 base64url)\n",
	    "help", "print this help", "version", "print the version");
}

static const struct opt *
find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int
set_opt(struct lb_config *cfg, const struct opt *o, const char *val, const char *from)
{
	char *base = (char *)cfg;

	switch (o->type) {
	case OPT_STR: {
		size_t n = strlen(val);
		if (n >= o->cap) {
			fprintf(stderr, "lockboxd: %s: value of %s is too long (max %zu)\n",
			    from, o->name, o->cap - 1);
			return -1;
		}
		memcpy(base + o->off, val, n + 1);
		return 0;
	}
	case OPT_LONG: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || v < o->lo || v > o->hi) {
			fprintf(stderr, "lockboxd: %s: %s must be a number from %ld to %ld\n",
			    from, o->name, o->lo, o->hi);
			return -1;
		}
		*(long *)(void *)(base + o->off) = v;
		return 0;
	}
	case OPT_BOOL:
		*(bool *)(void *)(base + o->off) = strcmp(val, "1") == 0 ||
		    strcmp(val, "true") == 0 || strcmp(val, "yes") == 0;
		return 0;
	}
	return -1;
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int
load_file(struct lb_config *cfg, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[2048], where[LB_PATH_MAX + 32];
	int lineno = 0, rc = 0;

	if (fp == NULL) {
		fprintf(stderr, "lockboxd: cannot read config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			fprintf(stderr, "lockboxd: %s:%d: line too long\n", path, lineno);
			rc = -1;
			break;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			fprintf(stderr, "lockboxd: %s:%d: expected `name = value`\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		const struct opt *o = find_opt(key);
		if (o == NULL || o == &opts[0]) {
			fprintf(stderr, "lockboxd: %s:%d: unknown option `%s`\n", path, lineno, key);
			rc = -1;
			break;
		}
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (set_opt(cfg, o, val, where) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(fp);
	return rc;
}

static void
env_name(const struct opt *o, char *buf, size_t len)
{
	size_t k = snprintf(buf, len, "LOCKBOX_") > 0 ? 8 : 0;
	for (const char *p = o->name; *p && k < len - 1; p++)
		buf[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	buf[k] = '\0';
}

int
config_load(int argc, char **argv, struct lb_config *cfg)
{
	struct lb_config c;
	char env[64];
	const char *file = NULL;

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < NOPTS; i++)
		if (set_opt(&c, &opts[i], opts[i].def, "default") != 0)
			return -1;

	/* First pass over the flags: only --help, --version and --config. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			config_usage(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("lockboxd 0.1.0\n");
			return 1;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			file = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			file = argv[i] + 9;
	}
	if (file == NULL)
		file = getenv("LOCKBOX_CONFIG");
	if (file != NULL && *file != '\0') {
		if (load_file(&c, file) != 0)
			return -1;
		if (set_opt(&c, &opts[0], file, "config") != 0)
			return -1;
	}
	for (size_t i = 1; i < NOPTS; i++) {
		env_name(&opts[i], env, sizeof(env));
		const char *v = getenv(env);
		if (v != NULL && set_opt(&c, &opts[i], v, env) != 0)
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		char name[64];
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "lockboxd: unexpected argument `%s` (see --help)\n", a);
			return -1;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nlen >= sizeof(name)) {
			fprintf(stderr, "lockboxd: unknown option `%s` (see --help)\n", a);
			return -1;
		}
		memcpy(name, a + 2, nlen);
		name[nlen] = '\0';
		const struct opt *o = find_opt(name);
		if (o == NULL) {
			fprintf(stderr, "lockboxd: unknown option `%s` (see --help)\n", a);
			return -1;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "lockboxd: option --%s needs a value\n", name);
			return -1;
		}
		if (set_opt(&c, o, val, "flag") != 0)
			return -1;
	}
	if (c.database[0] == '\0') {
		int n = snprintf(c.database, sizeof(c.database), "sqlite:%s/lockbox.db", c.data_dir);
		if (n < 0 || (size_t)n >= sizeof(c.database)) {
			fprintf(stderr, "lockboxd: data dir path too long\n");
			return -1;
		}
	}
	*cfg = c;
	return 0;
}
