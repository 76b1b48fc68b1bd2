/*
 * The daemon's system services: configuration, logging, the clock, random
 * identifiers and API tokens.  Grouped by file, as OpenBSD daemons do, so a
 * reader finds a prototype and its file together.
 */
#ifndef LOCKBOX_SYS_H
#define LOCKBOX_SYS_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockbox/wire.h"

/* ---------------------------------------------------------------- config.c */

#define LB_PATH_MAX 1024
#define LB_URL_MAX  1024

struct lb_config {
	char listen[256];               /* HOST:PORT */
	char data_dir[LB_PATH_MAX];
	char database[LB_URL_MAX];      /* sqlite:PATH or postgresql://... */
	char smtp_url[LB_URL_MAX];
	char mail_from[LB_EMAIL_MAX + 1];
	char webhook_url[LB_URL_MAX];   /* provider-wide webhook */
	char webhook_secret[128];       /* whsec_... signing the provider-wide webhook */
	char console_url[LB_URL_MAX];   /* shown in notification email; "" for none */
	char smtp_user[LB_EMAIL_MAX + 1];
	char smtp_password[256];        /* never logged */
	bool smtp_starttls;             /* require STARTTLS on smtp:// */
	long notify_retry_horizon_ms;   /* retry for this long, then dead letter */
	long notify_backoff_base_ms;    /* first retry delay */
	long notify_backoff_max_ms;     /* longest retry delay */
	long notify_poll_ms;            /* how often the notifier looks for due rows */
	long notify_reminder_ms;        /* remind approvers this long before expiry; 0: never */
	long notify_timeout_ms;         /* one delivery attempt at most */
	char test_clock[LB_PATH_MAX];
	char authz_map[LB_PATH_MAX];
	char log_level[16];
	char config_file[LB_PATH_MAX];
	long threads;
	long sweep_interval_ms;
	bool demo_print;
	char web_dir[LB_PATH_MAX];      /* the console's static files, served at /ui/ */
	long session_idle_minutes;      /* a console session ends this long unused */
	long session_max_hours;         /* and this long after sign-in in all */
	bool secure_cookies;            /* Secure on the session cookie (TLS in front) */
};

/*
 * Fills `cfg` from, in rising precedence: built-in defaults, the file named
 * by --config or LOCKBOX_CONFIG, the environment (LOCKBOX_<NAME>), and the
 * flags.  Returns 0, 1 when --help or --version was printed (exit 0), or
 * -1 after printing a usage error to stderr.
 */
int config_load(int argc, char **argv, struct lb_config *cfg);
void config_usage(FILE *fp);

/* ------------------------------------------------------------------- log.c */

enum lb_log_level { LB_LOG_DEBUG, LB_LOG_INFO, LB_LOG_WARN, LB_LOG_ERROR };

int log_set_level(const char *name);
/*
 * One line on stderr: time, level, event and the formatted key=value text.
 * Control characters in the text are escaped, so user input cannot start a
 * new line.  Callers never pass secrets.
 */
void log_msg(enum lb_log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_debug(ev, ...) log_msg(LB_LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_msg(LB_LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_msg(LB_LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LB_LOG_ERROR, ev, __VA_ARGS__)

/* ----------------------------------------------------------------- clock.c */

/* Milliseconds since the epoch: real time, plus the test offset if set. */
int64_t clock_now_ms(void);
/* Real monotonic milliseconds, for durations and timeouts. */
int64_t clock_mono_ms(void);
/* Real monotonic microseconds, for latency metrics. */
int64_t clock_mono_us(void);
/*
 * Test clock: the offset in ms is read from `path` (re-read at most every
 * 50 ms).  Only honoured when LOCKBOX_ALLOW_TEST_CLOCK=1; returns -1 else.
 */
int clock_use_offset_file(const char *path);

/* ------------------------------------------------------------------- ids.c */

/*
 * A new random identifier "<prefix>_" followed by 26 lowercase base32
 * characters (128 bits).  buf must hold LB_REQID_MAX + 1.
 */
void ids_new(const char *prefix, char *buf, size_t len);

/* ----------------------------------------------------------------- token.c */

#define LB_TOKEN_TEXT_MAX 64   /* "lbt_" + 43 base64url characters */

/* A new API token of LB_TOKEN_BYTES random bytes. out: LB_TOKEN_TEXT_MAX+1. */
void token_generate(char *out, size_t len);
/* True when `s` has the shape of a token (prefix, length, alphabet). */
bool token_well_formed(const char *s);
/* SHA-256 of the token text: the only form stored. */
void token_hash(const char *token, uint8_t out[32]);

#endif
