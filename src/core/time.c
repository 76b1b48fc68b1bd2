/*
 * Time as text: RFC 3339 timestamps in and out, and durations typed by
 * people ("4h", "1h30m").
 *
 * The core keeps time as int64 milliseconds since the Unix epoch, UTC, and
 * never reads a clock.  Conversion to and from the calendar is done here
 * with pure integer arithmetic (Howard Hinnant's days_from_civil and
 * civil_from_days), not timegm()/gmtime_r(), so the result depends neither
 * on the C library's range nor on the TZ environment, and the same code
 * serves the daemon, the CLI and the tests.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define MS_PER_SEC  1000LL
#define MS_PER_DAY  (86400LL * MS_PER_SEC)
/* 9999-12-31T23:59:59.999Z, the last instant with a four-digit year. */
#define TIME_MAX_MS 253402300799999LL
#define DURATION_MAX_MINUTES 1000000

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                    /* [0, 399] */
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;   /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/*
 * Formats `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes and a NUL) into
 * `buf`.  LB_ERR_INVALID_VALUE for a time before 1970 or after year 9999;
 * LB_ERR_FIELD_TOO_LONG when `len` < 25.  `buf` is written only on success.
 */
int
lb_time_format(int64_t ms, char *buf, size_t len)
{
	char tmp[32];
	int64_t days, rem, y;
	int mo, d, n;

	if (buf == NULL)
		return LB_ERR_INTERNAL;
	if (ms < 0 || ms > TIME_MAX_MS)
		return LB_ERR_INVALID_VALUE;
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	civil_from_days(days, &y, &mo, &d);
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (int)y, mo, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	if (n != 24)
		return LB_ERR_INTERNAL;
	if (len < (size_t)n + 1)
		return LB_ERR_FIELD_TOO_LONG;
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}

/* Reads exactly `n` digits at *p into *out and advances *p. */
static bool
read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* Consumes the character `c` at *p. */
static bool
expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * Parses RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", an optional fraction
 * of 1..9 digits (truncated to milliseconds), then "Z" or "+hh:mm" /
 * "-hh:mm".  'T' and 'Z' may be lower case, as the RFC's ABNF allows; no
 * space separator, no leap second (:60), nothing after the offset.  The
 * result must not lie before 1970 (the core's times are never negative).
 */
int
lb_time_parse(const char *s, int64_t *out_ms)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0;
	int64_t t;

	if (s == NULL || out_ms == NULL)
		return LB_ERR_INVALID_VALUE;
	if (strnlen(s, 64) >= 64)
		return LB_ERR_INVALID_VALUE;
	if (!read_digits(&p, 4, &y) || !expect(&p, '-') ||
	    !read_digits(&p, 2, &mo) || !expect(&p, '-') ||
	    !read_digits(&p, 2, &d))
		return LB_ERR_INVALID_VALUE;
	if (*p != 'T' && *p != 't')
		return LB_ERR_INVALID_VALUE;
	p++;
	if (!read_digits(&p, 2, &h) || !expect(&p, ':') ||
	    !read_digits(&p, 2, &mi) || !expect(&p, ':') ||
	    !read_digits(&p, 2, &sec))
		return LB_ERR_INVALID_VALUE;
	if (*p == '.') {
		int ndig = 0;
		p++;
		while (is_digit(*p)) {
			if (ndig < 3)
				ms = ms * 10 + (*p - '0');
			ndig++;
			p++;
		}
		if (ndig < 1 || ndig > 9)
			return LB_ERR_INVALID_VALUE;
		for (int i = ndig; i < 3; i++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (!read_digits(&p, 2, &oh) || !expect(&p, ':') ||
		    !read_digits(&p, 2, &om))
			return LB_ERR_INVALID_VALUE;
		if (oh > 23 || om > 59)
			return LB_ERR_INVALID_VALUE;
	} else {
		return LB_ERR_INVALID_VALUE;
	}
	if (*p != '\0')
		return LB_ERR_INVALID_VALUE;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return LB_ERR_INVALID_VALUE;

	t = days_from_civil(y, mo, d) * MS_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + sec) * MS_PER_SEC + ms;
	t -= (int64_t)sign * ((int64_t)oh * 3600 + om * 60) * MS_PER_SEC;
	if (t < 0)
		return LB_ERR_INVALID_VALUE;
	*out_ms = t;
	return 0;
}

/*
 * Reads a run of digits at *p as a number no greater than
 * DURATION_MAX_MINUTES; false when there is no digit or the number is
 * larger (the check runs per digit, so nothing overflows).
 */
static bool
read_number(const char **p, int *out)
{
	int v = 0;
	const char *q = *p;

	if (!is_digit(*q))
		return false;
	for (; is_digit(*q); q++) {
		v = v * 10 + (*q - '0');
		if (v > DURATION_MAX_MINUTES)
			return false;
	}
	*p = q;
	*out = v;
	return true;
}

/*
 * See core.h.  The grammar is  minutes | hours "h" [minutes "m"] |
 * minutes "m", digits only (no sign, space or upper case).  The total must
 * be 1..1,000,000 minutes.
 */
int
lb_duration_parse(const char *s, int *out_minutes)
{
	const char *p = s;
	int a, b = 0;
	long long total;

	if (s == NULL || out_minutes == NULL)
		return LB_ERR_INVALID_VALUE;
	if (!read_number(&p, &a))
		return LB_ERR_INVALID_VALUE;
	if (*p == '\0' || (p[0] == 'm' && p[1] == '\0')) {
		total = a;
	} else if (*p == 'h') {
		p++;
		if (*p != '\0') {
			if (!read_number(&p, &b) || p[0] != 'm' || p[1] != '\0')
				return LB_ERR_INVALID_VALUE;
		}
		total = (long long)a * 60 + b;
	} else {
		return LB_ERR_INVALID_VALUE;
	}
	if (total < 1 || total > DURATION_MAX_MINUTES)
		return LB_ERR_INVALID_VALUE;
	*out_minutes = (int)total;
	return 0;
}
