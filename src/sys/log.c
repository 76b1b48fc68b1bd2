/*
 * One-line structured logs on stderr.
 *
 * Every line is "time level event text" where text is key=value pairs the
 * caller formats.  The whole line is built first and control characters
 * are escaped, so no input (a URL, a header) can forge a second line.
 * Secrets never reach here: callers log ids, never tokens.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "sys/sys.h"

static int min_level = LB_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int
log_set_level(const char *name)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			min_level = i;
			return 0;
		}
	}
	return -1;
}

void
log_msg(enum lb_log_level lvl, const char *event, const char *fmt, ...)
{
	char text[1024], line[2200], ts[32];
	va_list ap;
	size_t o = 0;

	if ((int)lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (lb_time_format(clock_now_ms(), ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	int n = snprintf(line, sizeof(line), "%s %s %s ", ts, level_names[lvl], event);
	if (n < 0)
		return;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)text; *p && o + 5 < sizeof(line); p++) {
		if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", *p);
		} else {
			line[o++] = (char)*p;
		}
	}
	line[o++] = '\n';
	fwrite(line, 1, o, stderr);
}
