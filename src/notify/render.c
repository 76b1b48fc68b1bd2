/*
 * What a notification email says, and how it is encoded.
 *
 * A message is built from the stored request (not from the text of the
 * outbox row alone), so an approver sees what they need to decide:
 * engineer, case, workload, resources, justification, requested duration
 * and time left, with a short fingerprint to compare with the console.
 *
 * Safety of the encoding is the point of this file.  Only fixed header
 * names are ever written; every header value passes notify_header_encode,
 * which turns control characters into spaces (CR/LF in user text cannot
 * end a header) and writes anything beyond printable ASCII as RFC 2047
 * encoded-words.  Recipients come only from the caller's validated
 * address, never from the payload.  User text goes only into the bodies,
 * which are quoted-printable, so no line of theirs can be mistaken for a
 * header, a MIME boundary (the boundary starts with "=_", which QP output
 * never contains) or the end of the SMTP data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "notify/notify.h"

#define MAIL_MAX        (1024 * 1024)   /* no message is larger */
#define QP_LINE         76
#define EW_RAW          45              /* bytes per encoded-word: 60 base64 chars */

/* ----------------------------------------------------------- text buffer */

struct sb {
	char *p;
	size_t len, cap;
	bool bad;
};

static void
sb_addn(struct sb *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > MAIL_MAX) {
		b->bad = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_add(struct sb *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_fmt(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sb *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->bad = true;
		return;
	}
	sb_addn(b, tmp, (size_t)n);
}

/* Hands the text to *out (or frees it on failure). */
static int
sb_take(struct sb *b, char **out)
{
	if (b->bad || b->p == NULL) {
		free(b->p);
		b->p = NULL;
		return b->bad ? LB_ERR_TOO_LARGE : LB_ERR_NOMEM;
	}
	*out = b->p;
	b->p = NULL;
	return 0;
}

/* ------------------------------------------------------------ encodings */

void
notify_fingerprint(const char *request_id, int64_t created_ms, char out[9])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char ts[32] = "";

	if (lb_time_format(created_ms, ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)request_id, strlen(request_id));
	crypto_hash_sha256_update(&st, (const unsigned char *)ts, strlen(ts));
	crypto_hash_sha256_final(&st, h);
	/* 5 bytes = 40 bits = 8 base32 characters. */
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = (v << 8) | h[i];
	for (int i = 0; i < LB_FINGERPRINT_LEN; i++)
		out[i] = b32[(v >> (35 - 5 * i)) & 31];
	out[LB_FINGERPRINT_LEN] = '\0';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * The value with control characters as spaces and invalid UTF-8 as '?',
 * runs of spaces kept; *ascii tells whether it is all printable ASCII.
 */
static int
header_clean(const char *in, char **out, bool *ascii)
{
	size_t n = strlen(in), o = 0;
	char *s = malloc(n + 1);
	bool a = true;

	if (s == NULL)
		return LB_ERR_NOMEM;
	for (size_t i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)in + i;
		size_t l = utf8_len(u);
		if (l == 0) {
			s[o++] = '?';
			i++;
			continue;
		}
		if (l == 1) {
			s[o++] = (u[0] < 0x20 || u[0] == 0x7f) ? ' ' : (char)u[0];
		} else if (l == 2 && u[0] == 0xc2 && u[1] < 0xa0) {
			s[o++] = ' ';           /* C1 controls, NEL among them */
			i += 2;
			continue;
		} else {
			memcpy(s + o, u, l);
			o += l;
			a = false;
		}
		i += l;
	}
	s[o] = '\0';
	/* "=?" in plain text would read as an encoded-word: encode it too. */
	if (strstr(s, "=?") != NULL)
		a = false;
	*ascii = a;
	*out = s;
	return 0;
}

int
notify_header_encode(const char *value, char **out)
{
	struct sb b = { 0 };
	char *clean = NULL, b64[128];
	bool ascii;
	int rc;

	if ((rc = header_clean(value, &clean, &ascii)) != 0)
		return rc;
	if (ascii) {
		*out = clean;
		return 0;
	}
	/* Encoded-words of whole characters, each at most 75 characters long. */
	size_t n = strlen(clean), i = 0;
	bool first = true;
	while (i < n) {
		size_t take = 0;
		while (i + take < n) {
			size_t l = utf8_len((const unsigned char *)clean + i + take);
			if (l == 0)
				l = 1;
			if (take + l > EW_RAW)
				break;
			take += l;
		}
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)clean + i, take,
		    sodium_base64_VARIANT_ORIGINAL);
		if (!first)
			sb_add(&b, "\r\n ");
		sb_add(&b, "=?UTF-8?B?");
		sb_add(&b, b64);
		sb_add(&b, "?=");
		first = false;
		i += take;
	}
	free(clean);
	if (b.p == NULL && !b.bad)
		sb_add(&b, "");
	return sb_take(&b, out);
}

int
notify_qp_encode(const char *text, char **out)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sb b = { 0 };
	size_t col = 0;

	sb_add(&b, "");
	for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
		char enc[4];
		size_t elen;
		bool brk = *s == '\n' || *s == '\r';

		if (brk) {
			if (*s == '\r' && s[1] == '\n')
				s++;
			sb_add(&b, "\r\n");
			col = 0;
			continue;
		}
		bool at_eol = s[1] == '\0' || s[1] == '\n' || s[1] == '\r';
		if ((*s >= 33 && *s <= 126 && *s != '=' && !(*s == '.' && col == 0)) ||
		    ((*s == ' ' || *s == '\t') && !at_eol)) {
			enc[0] = (char)*s;
			elen = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[*s >> 4];
			enc[2] = hex[*s & 15];
			elen = 3;
		}
		/* Keep room for the '=' of a soft break. */
		if (col + elen > QP_LINE - 1) {
			sb_add(&b, "=\r\n");
			col = 0;
			if (elen == 1 && enc[0] == '.') {
				enc[0] = '=';
				enc[1] = '2';
				enc[2] = 'E';
				elen = 3;
			}
		}
		sb_addn(&b, enc, elen);
		col += elen;
	}
	return sb_take(&b, out);
}

/* ------------------------------------------------------------- content */

/* HTML-escaped text; line breaks become <br>. */
static void
html_text(struct sb *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': sb_add(b, "&amp;"); break;
		case '<': sb_add(b, "&lt;"); break;
		case '>': sb_add(b, "&gt;"); break;
		case '"': sb_add(b, "&quot;"); break;
		case '\'': sb_add(b, "&#39;"); break;
		case '\r':
			if (s[1] == '\n')
				s++;
			sb_add(b, "<br>");
			break;
		case '\n': sb_add(b, "<br>"); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t')
				sb_add(b, " ");
			else
				sb_addn(b, s, 1);
		}
	}
}

/* Plain text with its line breaks indented under a label. */
static void
plain_text(struct sb *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n') {
			if (*s == '\r' && s[1] == '\n')
				s++;
			sb_add(b, "\n    ");
		} else if ((unsigned char)*s < 0x20 && *s != '\t') {
			sb_add(b, " ");
		} else {
			sb_addn(b, s, 1);
		}
	}
}

/* Both parts are built side by side, one labelled row at a time. */
struct parts {
	struct sb text, html;
};

static void
row(struct parts *p, const char *label, const char *value)
{
	sb_fmt(&p->text, "%-15s ", label);
	plain_text(&p->text, value);
	sb_add(&p->text, "\n");
	sb_add(&p->html, "<tr><th align=\"left\" valign=\"top\">");
	html_text(&p->html, label);
	sb_add(&p->html, "</th><td>");
	html_text(&p->html, value);
	sb_add(&p->html, "</td></tr>\n");
}

static void
para(struct parts *p, const char *text)
{
	plain_text(&p->text, text);
	sb_add(&p->text, "\n\n");
	sb_add(&p->html, "<p>");
	html_text(&p->html, text);
	sb_add(&p->html, "</p>\n");
}

static void
fmt_time(int64_t ms, char *buf, size_t len)
{
	if (ms == 0 || lb_time_format(ms, buf, len) != 0)
		snprintf(buf, len, "-");
}

static void
fmt_left(int64_t ms, char *buf, size_t len)
{
	if (ms <= 0) {
		snprintf(buf, len, "none (expired)");
		return;
	}
	long long min = (long long)(ms / 60000);
	snprintf(buf, len, "%lld h %02lld min", min / 60, min % 60);
}

static const char *
decision_verb(enum lb_decision_kind k)
{
	switch (k) {
	case LB_DEC_APPROVE: return "approved";
	case LB_DEC_DENY: return "denied";
	case LB_DEC_REVOKE: return "revoked";
	case LB_DEC_CANCEL: return "cancelled";
	}
	return "decided";
}

/* The subject line and opening paragraph for a topic. */
static void
headline(const struct lb_mail_in *in, const char *fp, char *subj, size_t slen,
    char *intro, size_t ilen)
{
	const struct lb_request *r = in->req;
	const char *tn = in->tenant_name && in->tenant_name[0] ? in->tenant_name :
	    (r ? r->tenant : "your tenant");
	char left[64] = "";

	if (r != NULL)
		fmt_left(r->pending_expires_ms - in->now_ms, left, sizeof(left));
	if (r != NULL && strcmp(in->topic, "request.pending") == 0) {
		snprintf(subj, slen, "[Lockbox] %s: access request %s needs a decision", tn, fp);
		snprintf(intro, ilen, "A support engineer asks for access to content of %s. "
		    "Please approve or deny it in the Lockbox console. Check that the "
		    "fingerprint %s matches the request you decide on. Time left: %s.",
		    tn, fp, left);
	} else if (r != NULL && strcmp(in->topic, "request.reminder") == 0) {
		snprintf(subj, slen, "[Lockbox] Reminder: access request %s for %s expires in %s",
		    fp, tn, left);
		snprintf(intro, ilen, "This access request is still waiting for a decision. "
		    "Without one it expires (which counts as a denial) in %s.", left);
	} else if (r != NULL && strcmp(in->topic, "request.completed") == 0) {
		snprintf(subj, slen, "[Lockbox] %s: access window ended, receipt for %s", tn, fp);
		snprintf(intro, ilen, "The approved access window of this request has ended. "
		    "Below is what was accessed under it.");
	} else if (r != NULL && strncmp(in->topic, "request.", 8) == 0) {
		snprintf(subj, slen, "[Lockbox] Your access request %s for %s was %s", fp, tn,
		    in->topic + 8);
		snprintf(intro, ilen, "Your Lockbox request for access to content of %s was %s.",
		    tn, in->topic + 8);
	} else if (strcmp(in->topic, "emergency.started") == 0) {
		snprintf(subj, slen, "[Lockbox] %s: emergency access to your content started", tn);
		snprintf(intro, ilen, "Emergency (break-glass) access to content of %s started "
		    "under a declared critical incident. This notice is required within 48 "
		    "hours of the access.", tn);
	} else {
		snprintf(subj, slen, "[Lockbox] %s: %s", tn, in->topic);
		snprintf(intro, ilen, "Lockbox event %s.", in->topic);
	}
}

static void
request_rows(struct parts *p, const struct lb_mail_in *in, const char *fp)
{
	const struct lb_request *r = in->req;
	char buf[2048], t1[32], t2[32];

	row(p, "Request", r->id);
	snprintf(buf, sizeof(buf), "%s (compare it with the console)", fp);
	row(p, "Fingerprint", buf);
	if (in->tenant_name && in->tenant_name[0])
		snprintf(buf, sizeof(buf), "%s (%s)", in->tenant_name, r->tenant);
	else
		snprintf(buf, sizeof(buf), "%s", r->tenant);
	row(p, "Tenant", buf);
	row(p, "Engineer", r->requester);
	row(p, "Support case", r->case_id);
	row(p, "Workload", r->workload);
	for (size_t i = 0; i < r->nresources; i++)
		row(p, i == 0 ? "Resources" : "", r->resources[i]);
	snprintf(buf, sizeof(buf), "%d minutes (%d h %02d min)", r->duration_minutes,
	    r->duration_minutes / 60, r->duration_minutes % 60);
	row(p, "Duration", buf);
	row(p, "Status", lb_status_name(lb_request_status_at(r, in->now_ms)));
	fmt_time(r->pending_expires_ms, t1, sizeof(t1));
	if (strcmp(in->topic, "request.pending") == 0 ||
	    strcmp(in->topic, "request.reminder") == 0) {
		fmt_left(r->pending_expires_ms - in->now_ms, t2, sizeof(t2));
		snprintf(buf, sizeof(buf), "%s (time left: %s)", t1, t2);
		row(p, "Decide by", buf);
	}
	row(p, "Justification", r->justification);
	if (r->ndecisions > 0) {
		const struct lb_decision *d = &r->decisions[r->ndecisions - 1];
		fmt_time(d->at_ms, t1, sizeof(t1));
		snprintf(buf, sizeof(buf), "%s by %s at %s", decision_verb(d->kind), d->by, t1);
		row(p, "Last decision", buf);
		if (d->comment[0] != '\0')
			row(p, "Comment", d->comment);
	}
	if (r->access_starts_ms != 0) {
		fmt_time(r->access_starts_ms, t1, sizeof(t1));
		fmt_time(r->access_expires_ms, t2, sizeof(t2));
		snprintf(buf, sizeof(buf), "%s to %s", t1, t2);
		row(p, "Access window", buf);
	}
	if (strcmp(in->topic, "request.completed") == 0) {
		if (in->nreceipts == 0)
			row(p, "Accessed", "nothing: no access was made under this request");
		for (size_t i = 0; i < in->nreceipts; i++) {
			const struct lb_receipt *rc = &in->receipts[i];
			fmt_time(rc->first_ms, t1, sizeof(t1));
			fmt_time(rc->last_ms, t2, sizeof(t2));
			snprintf(buf, sizeof(buf), "%s: %lld allowed, %lld refused, first %s, last %s",
			    rc->resource, (long long)rc->allowed, (long long)rc->refused, t1, t2);
			row(p, i == 0 ? "Accessed" : "", buf);
		}
	}
}

/* Rows for a notice that is not about one request: the payload's fields. */
static void
payload_rows(struct parts *p, const struct lb_mail_in *in)
{
	const char *key;
	json_t *obj = NULL, *v;
	char buf[64];

	if (json_is_object(in->payload)) {
		obj = json_object_get(in->payload, "emergency");
		if (!json_is_object(obj))
			obj = json_object_get(in->payload, "data");
	}
	if (!json_is_object(obj))
		return;
	json_object_foreach(obj, key, v) {
		if (json_is_string(v)) {
			row(p, key, json_string_value(v));
		} else if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			row(p, key, buf);
		} else if (json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
				if (json_is_string(e))
					row(p, i == 0 ? key : "", json_string_value(e));
		}
	}
}

/* One header line "Name: value" with the value encoded. */
static int
header(struct sb *b, const char *name, const char *value)
{
	char *enc = NULL;
	int rc = notify_header_encode(value, &enc);

	if (rc != 0)
		return rc;
	sb_add(b, name);
	sb_add(b, ": ");
	sb_add(b, enc);
	sb_add(b, "\r\n");
	free(enc);
	return 0;
}

/* True for an address safe to put in To/From as it is. */
static bool
addr_ok(const char *a)
{
	if (a == NULL || !lb_email_valid(a))
		return false;
	for (const char *s = a; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == '<' || *s == '>' || *s == ',' ||
		    *s == ';' || *s == '"' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int
notify_render_email(const struct lb_mail_in *in, char **out)
{
	struct parts p = { 0 };
	struct sb m = { 0 };
	char fp[LB_FINGERPRINT_LEN + 1] = "", subj[600], intro[1200], date[64];
	char *qt = NULL, *qh = NULL;
	int rc;

	if (!addr_ok(in->from) || !addr_ok(in->to) || in->msg_id == NULL || in->topic == NULL)
		return LB_ERR_INVALID_VALUE;
	for (const char *s = in->msg_id; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		    *s == '-' || (*s >= 'A' && *s <= 'Z')))
			return LB_ERR_INVALID_VALUE;
	if (in->req != NULL)
		notify_fingerprint(in->req->id, in->req->created_ms, fp);
	headline(in, fp, subj, sizeof(subj), intro, sizeof(intro));

	sb_add(&p.html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
	para(&p, intro);
	sb_add(&p.html, "<table cellpadding=\"4\">\n");
	if (in->req != NULL)
		request_rows(&p, in, fp);
	else
		payload_rows(&p, in);
	if (in->console_url != NULL && in->console_url[0] != '\0')
		row(&p, "Console", in->console_url);
	sb_add(&p.html, "</table>\n");
	sb_add(&p.text, "\n-- \nSent by Lockbox. Notification id: ");
	sb_add(&p.text, in->msg_id);
	sb_add(&p.text, "\n");
	sb_add(&p.html, "<p style=\"color:#666\">Sent by Lockbox. Notification id: ");
	html_text(&p.html, in->msg_id);
	sb_add(&p.html, "</p>\n</body></html>\n");
	if (p.text.bad || p.html.bad) {
		rc = LB_ERR_TOO_LARGE;
		goto out;
	}
	if ((rc = notify_qp_encode(p.text.p, &qt)) != 0 ||
	    (rc = notify_qp_encode(p.html.p, &qh)) != 0)
		goto out;

	time_t secs = (time_t)(in->now_ms / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0) {
		rc = LB_ERR_INTERNAL;
		goto out;
	}
	sb_fmt(&m, "From: Lockbox <%s>\r\n", in->from);
	sb_fmt(&m, "To: <%s>\r\n", in->to);
	if ((rc = header(&m, "Subject", subj)) != 0)
		goto out;
	sb_fmt(&m, "Date: %s\r\n", date);
	sb_fmt(&m, "Message-ID: <%s@lockbox>\r\n", in->msg_id);
	sb_add(&m, "MIME-Version: 1.0\r\n");
	sb_fmt(&m, "Content-Type: multipart/alternative; boundary=\"=_lockbox_%s\"\r\n",
	    in->msg_id);
	sb_add(&m, "Auto-Submitted: auto-generated\r\n");
	sb_add(&m, "\r\n");
	sb_add(&m, "This is a MIME message in plain text and HTML.\r\n");
	sb_fmt(&m, "\r\n--=_lockbox_%s\r\n", in->msg_id);
	sb_add(&m, "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	sb_add(&m, qt);
	sb_fmt(&m, "\r\n--=_lockbox_%s\r\n", in->msg_id);
	sb_add(&m, "Content-Type: text/html; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	sb_add(&m, qh);
	sb_fmt(&m, "\r\n--=_lockbox_%s--\r\n", in->msg_id);
	rc = sb_take(&m, out);
out:
	free(m.p);
	free(p.text.p);
	free(p.html.p);
	free(qt);
	free(qh);
	return rc;
}
