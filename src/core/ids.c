/*
 * Syntax of the names Lockbox accepts from outside: ids, tenant ids, email
 * addresses, workloads and resource paths, and the one rule that decides
 * whether a grant covers a path.
 *
 * These checks stand between user input and everything else (SQL, audit
 * records, mail headers, the reverse proxy's URIs), so they accept a small,
 * explicit alphabet rather than reject a list of known-bad characters.  All
 * of them are bounded: they never read more than their limit plus one byte,
 * so a caller may hand them an unterminated fixed-size array.  Character
 * classes are ASCII only and never go through <ctype.h>, whose answer
 * depends on the locale and is undefined for negative chars.
 */
#include <string.h>

#include "core/core.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || is_lower(c) || is_upper(c);
}

/* Control characters: C0, DEL.  Bytes >= 0x80 (UTF-8) are not control. */
static bool
is_ctl(char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x20 || u == 0x7f;
}

/*
 * Length of `s` when it is 1..max bytes long, else 0.  Reads at most
 * max + 1 bytes.
 */
static size_t
bounded_len(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	return n > max ? 0 : n;
}

bool
lb_id_valid(const char *s)
{
	size_t n = bounded_len(s, LB_ID_MAX);

	if (n == 0 || !is_alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_alnum(c) && c != '.' && c != '_' && c != '@' && c != '-')
			return false;
	}
	return true;
}

bool
lb_tenant_id_valid(const char *s)
{
	size_t n = bounded_len(s, LB_ID_MAX);

	if (n == 0 || !(is_lower(s[0]) || is_digit(s[0])))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return false;
	return strcmp(s, LB_PROVIDER_REALM) != 0;
}

/*
 * A plausible address, not an RFC 5322 parser: a non-empty local part, one
 * '@', a domain of dot-separated non-empty labels.  Spaces, control
 * characters and the characters that carry meaning in a mail header
 * ("<>()[],;:\\\"") are refused, so an address can be placed in a header
 * without quoting and can never smuggle a second recipient.
 */
bool
lb_email_valid(const char *s)
{
	size_t n = bounded_len(s, LB_EMAIL_MAX);
	const char *at;
	size_t ats = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_ctl(c) || c == ' ' || strchr("<>()[],;:\\\"", c) != NULL)
			return false;
		if (c == '@')
			ats++;
	}
	if (ats != 1)
		return false;
	at = strchr(s, '@');
	if (at == s)
		return false;                   /* empty local part */
	at++;
	if (*at == '\0' || *at == '.' || s[n - 1] == '.')
		return false;                   /* empty or dotted domain ends */
	return strstr(at, "..") == NULL;
}

bool
lb_workload_valid(const char *s)
{
	size_t n = bounded_len(s, LB_WORKLOAD_MAX);

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/*
 * See core.h.  Every segment is checked as it ends, so "a//b", "/a", "a/",
 * "a/./b" and "a/../b" are refused, as are '%' (no second decoding can
 * change the path), '\\' (no alternate separator), '?' and '#' (no query or
 * fragment pretending to be part of the path).  Spaces and UTF-8 bytes are
 * allowed: they are ordinary characters of a name.
 */
bool
lb_resource_valid(const char *s)
{
	size_t n = bounded_len(s, LB_RESOURCE_MAX);
	size_t seg = 0;                 /* start of the current segment */

	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '/' || c == '\0') {
			size_t len = i - seg;
			if (len == 0)
				return false;
			if (len == 1 && s[seg] == '.')
				return false;
			if (len == 2 && s[seg] == '.' && s[seg + 1] == '.')
				return false;
			seg = i + 1;
			continue;
		}
		if (is_ctl(c) || c == '%' || c == '\\' || c == '?' || c == '#')
			return false;
	}
	return true;
}

/*
 * True when `path` equals `grant` or lies below it at a '/' boundary:
 * "site/fin" covers "site/fin" and "site/fin/q3" but not "site/finance".
 * Both must be valid resource paths; anything else (a trailing '/', a ".."
 * segment that would climb out of the grant, NULL) is not covered, so the
 * access check fails closed on input it does not understand.
 */
bool
lb_resource_covers(const char *grant, const char *path)
{
	size_t glen;

	if (!lb_resource_valid(grant) || !lb_resource_valid(path))
		return false;
	glen = strlen(grant);
	if (strncmp(grant, path, glen) != 0)
		return false;
	return path[glen] == '\0' || path[glen] == '/';
}

int
lb_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strnlen(src, cap);
	if (n == cap)
		return LB_ERR_FIELD_TOO_LONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int
lb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
