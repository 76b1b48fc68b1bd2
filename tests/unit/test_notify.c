/*
 * Unit tests of notification delivery's pure parts and encodings:
 * backoff (monotonic, capped, jitter bounds) and the dead letter at the
 * retry horizon on a fake clock, the 48-hour overdue boundary to the
 * millisecond, reminders, the rendered MIME message (exact header set; CR/LF
 * and non-ASCII user text stay in the body), RFC 2047 subjects,
 * quoted-printable, the Standard Webhooks signature against the
 * standardwebhooks README's test vector, and sealed webhook secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "notify/notify.h"

#define MIN_MS  (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)

static const struct lb_notify_policy pol = {
	.base_ms = 30000, .max_ms = HOUR_MS, .horizon_ms = 24 * HOUR_MS,
};

/* ------------------------------------------------------------- backoff */

static void
test_backoff_bounds(void **state)
{
	static const uint32_t rnds[] = { 0, 1, 7, 12345, 0x7fffffffu, 0xffffffffu };
	(void)state;

	for (int a = 1; a <= 40; a++) {
		int64_t d = 30000;
		for (int i = 1; i < a && d < HOUR_MS; i++)
			d *= 2;
		if (d > HOUR_MS)
			d = HOUR_MS;
		for (size_t r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
			int64_t v = notify_backoff_ms(&pol, a, rnds[r]);
			assert_true(v >= d / 2);        /* jitter never below half */
			assert_true(v <= d);            /* ... nor above the step */
			assert_true(v <= HOUR_MS);      /* capped */
		}
	}
	/* rnd 0 gives exactly half, the largest rnd at most the step. */
	assert_int_equal(notify_backoff_ms(&pol, 1, 0), 15000);
	assert_int_equal(notify_backoff_ms(&pol, 2, 0), 30000);
	assert_int_equal(notify_backoff_ms(&pol, 3, 0), 60000);
	assert_int_equal(notify_backoff_ms(&pol, 30, 0), HOUR_MS / 2);
}

static void
test_backoff_monotonic(void **state)
{
	(void)state;
	/* For any fixed random value the delays never shrink until the cap. */
	for (uint32_t seed = 0; seed < 2000; seed++) {
		uint32_t rnd = seed * 2654435761u;
		int64_t prev = 0;
		for (int a = 1; a <= 7; a++) {          /* 30 s .. 32 min: below the cap */
			int64_t v = notify_backoff_ms(&pol, a, rnd);
			assert_true(v >= prev);
			prev = v;
		}
	}
	/* And the lower bound of each step is the upper bound of the one before. */
	for (int a = 1; a < 7; a++)
		assert_true(notify_backoff_ms(&pol, a + 1, 0) >=
		    notify_backoff_ms(&pol, a, 0xffffffffu));
}

/* The whole retry schedule on a fake clock: each retry at its time, then dead. */
static void
test_dead_letter_after_horizon(void **state)
{
	int64_t created = 1700000000000LL, now = created, next = 0, last_next = 0;
	int attempts = 0, rounds = 0;
	(void)state;

	for (;;) {
		attempts++;
		enum lb_notify_verdict v = notify_after_failure(&pol, created, attempts, now,
		    (uint32_t)attempts * 40503u, &next);
		if (v == LB_NOTIFY_DEAD)
			break;
		assert_true(next > now);
		assert_true(next <= created + pol.horizon_ms);
		assert_true(next - now <= pol.max_ms);
		last_next = next;
		now = next;                     /* the fake clock jumps to the retry */
		assert_true(++rounds < 1000);
	}
	/* Dead only at (or after) the horizon, and the last try was at it. */
	assert_true(now >= created + pol.horizon_ms);
	assert_int_equal(last_next, created + pol.horizon_ms);
	assert_true(attempts > 10);
	/* One millisecond before the horizon is still a retry, at the horizon. */
	assert_int_equal(notify_after_failure(&pol, created, 3, created + pol.horizon_ms - 1,
	    0xffffffffu, &next), LB_NOTIFY_RETRY);
	assert_int_equal(next, created + pol.horizon_ms);
	next = 42;
	assert_int_equal(notify_after_failure(&pol, created, 3, created + pol.horizon_ms, 0,
	    &next), LB_NOTIFY_DEAD);
	assert_int_equal(next, 42);             /* not written on DEAD */
}

/* ------------------------------------------------------------ 48 hours */

static void
test_overdue_boundary(void **state)
{
	int64_t start = 1700000000000LL;
	int64_t h48 = 48 * HOUR_MS;
	(void)state;

	/* 47:59:59.999 is not overdue; 48:00:00.000 is. */
	assert_false(notify_notice_overdue(start, 0, start + h48 - 1));
	assert_true(notify_notice_overdue(start, 0, start + h48));
	assert_true(notify_notice_overdue(start, 0, start + h48 + 1));
	assert_false(notify_notice_overdue(start, 0, start));
	/* Delivered in time: never overdue, however late we look. */
	assert_false(notify_notice_overdue(start, start + h48 - 1, start + 100 * h48));
	assert_false(notify_notice_overdue(start, start + 1, start + h48));
	/* Delivered at or after the deadline: it was overdue at the deadline. */
	assert_true(notify_notice_overdue(start, start + h48, start + h48));
	assert_true(notify_notice_overdue(start, start + h48 + 5, start + h48 + 10));
	assert_false(notify_notice_overdue(start, start + h48 + 5, start + h48 - 1));
}

static void
test_reminder_due(void **state)
{
	int64_t exp = 1700000000000LL;
	(void)state;

	assert_false(notify_reminder_due(exp, 2 * HOUR_MS, exp - 2 * HOUR_MS - 1));
	assert_true(notify_reminder_due(exp, 2 * HOUR_MS, exp - 2 * HOUR_MS));
	assert_true(notify_reminder_due(exp, 2 * HOUR_MS, exp - 1));
	assert_false(notify_reminder_due(exp, 2 * HOUR_MS, exp));
	assert_false(notify_reminder_due(exp, 0, exp - 1));
}

/* ------------------------------------------------------------ encodings */

static void
test_rfc2047(void **state)
{
	char *out = NULL;
	(void)state;

	assert_int_equal(notify_header_encode("plain ascii", &out), 0);
	assert_string_equal(out, "plain ascii");
	free(out);
	/* CR/LF never survive: a header cannot be ended from inside. */
	assert_int_equal(notify_header_encode("a\r\nBcc: evil@x", &out), 0);
	assert_string_equal(out, "a  Bcc: evil@x");
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\n'));
	free(out);
	/* Non-ASCII becomes UTF-8 B encoded-words. */
	assert_int_equal(notify_header_encode("Contöso", &out), 0);
	assert_string_equal(out, "=?UTF-8?B?Q29udMO2c28=?=");
	free(out);
	/* Long values: several words of at most 75 characters, folded. */
	char big[400];
	size_t o = 0;
	for (int i = 0; i < 60; i++) {
		memcpy(big + o, "é\n", 3);      /* and a LF each time */
		o += 3;
	}
	big[o] = '\0';
	assert_int_equal(notify_header_encode(big, &out), 0);
	char *save = NULL, *copy = strdup(out);
	size_t words = 0, raw = 0;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *w = line;
		if (words > 0) {
			assert_int_equal(w[0], ' ');    /* folded with CRLF SP */
			w++;
		}
		size_t n = strlen(w);
		if (n > 0 && w[n - 1] == '\r')
			w[--n] = '\0';
		assert_true(n <= 75);
		assert_memory_equal(w, "=?UTF-8?B?", 10);
		assert_string_equal(w + n - 2, "?=");
		unsigned char dec[128];
		size_t dl = 0;
		w[n - 2] = '\0';
		assert_int_equal(sodium_base642bin(dec, sizeof(dec), w + 10, strlen(w + 10), NULL,
		    &dl, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		/* Each word holds whole characters: "é" (2 bytes) or " ". */
		for (size_t i = 0; i < dl;) {
			if (dec[i] == ' ') {
				i++;
				continue;
			}
			assert_true(i + 1 < dl);
			assert_int_equal(dec[i], 0xc3);
			assert_int_equal(dec[i + 1], 0xa9);
			i += 2;
		}
		raw += dl;
		words++;
	}
	assert_true(words > 1);
	assert_int_equal(raw, 60 * 3);          /* é + the LF turned into a space */
	free(copy);
	free(out);
	/* "=?" in plain text would read as an encoded word: it is encoded. */
	assert_int_equal(notify_header_encode("x =?utf-8?q?y?=", &out), 0);
	assert_memory_equal(out, "=?UTF-8?B?", 10);
	free(out);
}

static void
test_qp(void **state)
{
	char *out = NULL;
	(void)state;

	assert_int_equal(notify_qp_encode("a=b ü\r\nend \n.dot", &out), 0);
	assert_string_equal(out, "a=3Db =C3=BC\r\nend=20\r\n=2Edot");
	free(out);
	/* Soft breaks keep every line within 76 characters. */
	char line[300];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(notify_qp_encode(line, &out), 0);
	for (char *s = out, *e; *s != '\0'; s = e + (*e ? 2 : 0)) {
		e = strstr(s, "\r\n");
		if (e == NULL)
			e = s + strlen(s);
		assert_true(e - s <= 76);
	}
	free(out);
}

static void
test_fingerprint(void **state)
{
	char a[9], b[9], c[9];
	(void)state;

	notify_fingerprint("req_abc", 1700000000000LL, a);
	notify_fingerprint("req_abc", 1700000000000LL, b);
	notify_fingerprint("req_abc", 1700000000001LL, c);
	assert_int_equal(strlen(a), 8);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	for (int i = 0; i < 8; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", a[i]));
	/* The definition: base32 of SHA-256("req_abc" "2023-11-14T22:13:20.000Z"). */
	unsigned char h[32];
	const char *in = "req_abc2023-11-14T22:13:20.000Z";
	crypto_hash_sha256(h, (const unsigned char *)in, strlen(in));
	uint64_t v = 0;
	for (int i = 0; i < 5; i++)
		v = (v << 8) | h[i];
	for (int i = 0; i < 8; i++)
		assert_int_equal(a[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(v >> (35 - 5 * i)) & 31]);
}

/* --------------------------------------------------------------- MIME */

/* Splits a rendered message into its header names; returns the body. */
static const char *
headers_of(const char *msg, char names[16][32], size_t *n, char *subject, size_t slen)
{
	const char *p = msg;
	*n = 0;
	subject[0] = '\0';
	for (;;) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		if (e == p)
			return e + 2;           /* headers end at the first empty line */
		if (*p == ' ' || *p == '\t') {  /* a folded continuation */
			p = e + 2;
			continue;
		}
		const char *colon = memchr(p, ':', (size_t)(e - p));
		assert_non_null(colon);
		assert_true(*n < 16);
		size_t l = (size_t)(colon - p);
		assert_true(l < 32);
		memcpy(names[*n], p, l);
		names[*n][l] = '\0';
		if (strcmp(names[*n], "Subject") == 0) {
			size_t sl = (size_t)(e - colon - 2);
			if (sl >= slen)
				sl = slen - 1;
			memcpy(subject, colon + 2, sl);
			subject[sl] = '\0';
		}
		(*n)++;
		p = e + 2;
	}
}

static void
mk_request(struct lb_request *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "req_testtesttesttesttesttest");
	snprintf(r->tenant, sizeof(r->tenant), "contoso");
	snprintf(r->case_id, sizeof(r->case_id), "case_1");
	snprintf(r->requester, sizeof(r->requester), "eng1");
	snprintf(r->workload, sizeof(r->workload), "exchange");
	snprintf(r->resources[0], sizeof(r->resources[0]), "mailbox/alice@contoso.example");
	r->nresources = 1;
	snprintf(r->justification, sizeof(r->justification),
	    "Ticket 42\r\nBcc: evil@x\r\nTo: evil2@x\r\n\r\n--=_lockbox_msg_1\r\n.\r\nFür Ünïcødé");
	r->status = LB_ST_PENDING;
	r->duration_minutes = 240;
	r->created_ms = 1700000000000LL;
	r->pending_expires_ms = r->created_ms + 12 * HOUR_MS;
}

static void
test_render_email_headers_and_injection(void **state)
{
	struct lb_request r;
	char names[16][32], subject[512];
	char *msg = NULL;
	size_t n = 0;
	(void)state;

	mk_request(&r);
	struct lb_mail_in in = {
		.from = "lockbox@provider.example", .to = "ga1@contoso.example",
		.msg_id = "msg_1", .topic = "request.pending",
		.tenant_name = "Contöso\r\nBcc: evil@x", .req = &r,
		.now_ms = r.created_ms + HOUR_MS,
	};
	assert_int_equal(notify_render_email(&in, &msg), 0);
	const char *body = headers_of(msg, names, &n, subject, sizeof(subject));
	/* Exactly this header set, in this order: nothing added by user text. */
	static const char *const want[] = { "From", "To", "Subject", "Date", "Message-ID",
		"MIME-Version", "Content-Type", "Auto-Submitted" };
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], want[i]);
	assert_non_null(strstr(msg, "To: <ga1@contoso.example>\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <msg_1@lockbox>\r\n"));
	assert_memory_equal(subject, "=?UTF-8?B?", 10);
	/* The header block holds no trace of the injected text. */
	size_t hlen = (size_t)(body - msg);
	char *head = strndup(msg, hlen);
	assert_null(strstr(head, "evil"));
	free(head);
	/* The body has the text, quoted-printable; no bare line is a header. */
	assert_non_null(strstr(body, "Bcc: evil@x"));
	assert_null(strstr(body, "\r\nBcc:"));
	assert_null(strstr(body, "\r\nTo:"));
	/* The boundary appears only where the message puts it (2 parts + end). */
	size_t bounds = 0;
	for (const char *s = body; (s = strstr(s, "\r\n--=_lockbox_msg_1")) != NULL; s++)
		bounds++;
	assert_int_equal(bounds, 3);
	/* No line is a lone "." (end of SMTP data). */
	assert_null(strstr(body, "\r\n.\r\n"));
	/* Every byte of the message is 7-bit: UTF-8 was encoded. */
	for (const unsigned char *s = (const unsigned char *)msg; *s; s++)
		assert_true(*s < 0x80);
	/* What an approver needs is there. */
	assert_non_null(strstr(body, "eng1"));
	assert_non_null(strstr(body, "case_1"));
	assert_non_null(strstr(body, "exchange"));
	assert_non_null(strstr(body, "mailbox/alice@contoso.example"));
	assert_non_null(strstr(body, "240 minutes"));
	assert_non_null(strstr(body, "time left: 11 h 00 min"));
	char fp[9];
	notify_fingerprint(r.id, r.created_ms, fp);
	assert_non_null(strstr(body, fp));
	assert_non_null(strstr(body, "multipart") == NULL ? msg : body);
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8"));
	assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8"));
	free(msg);
}

static void
test_render_refuses_bad_addresses(void **state)
{
	struct lb_request r;
	char *msg = NULL;
	(void)state;

	mk_request(&r);
	struct lb_mail_in in = {
		.from = "lockbox@provider.example", .to = "ga1@contoso.example\r\nBcc: e@x",
		.msg_id = "msg_1", .topic = "request.pending", .req = &r, .now_ms = r.created_ms,
	};
	assert_int_equal(notify_render_email(&in, &msg), LB_ERR_INVALID_VALUE);
	in.to = "a@b.example, evil@x";
	assert_int_equal(notify_render_email(&in, &msg), LB_ERR_INVALID_VALUE);
	in.to = "ga1@contoso.example";
	in.msg_id = "msg_1>\r\nBcc: e@x";
	assert_int_equal(notify_render_email(&in, &msg), LB_ERR_INVALID_VALUE);
	assert_null(msg);
}

static void
test_render_receipt(void **state)
{
	struct lb_request r;
	struct lb_receipt rc[2];
	char *msg = NULL;
	(void)state;

	mk_request(&r);
	r.status = LB_ST_COMPLETED;
	r.access_starts_ms = r.created_ms + HOUR_MS;
	r.access_expires_ms = r.created_ms + 5 * HOUR_MS;
	memset(rc, 0, sizeof(rc));
	snprintf(rc[0].resource, sizeof(rc[0].resource), "mailbox/alice@contoso.example");
	rc[0].allowed = 7;
	rc[0].refused = 1;
	struct lb_mail_in in = {
		.from = "lockbox@provider.example", .to = "ga1@contoso.example",
		.msg_id = "msg_2", .topic = "request.completed", .req = &r, .receipts = rc,
		.nreceipts = 1, .now_ms = r.access_expires_ms,
	};
	assert_int_equal(notify_render_email(&in, &msg), 0);
	assert_non_null(strstr(msg, "7 allowed, 1 refused"));
	free(msg);
}

/* ----------------------------------------------------------- webhooks */

static void
test_webhook_signature_vector(void **state)
{
	char sig[128];
	const char *body = "{\"test\": 2432232314}";
	(void)state;

	/* The standardwebhooks README's test vector. */
	assert_int_equal(notify_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig, sizeof(sig)), 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* Any change of id, time or body changes it. */
	assert_int_equal(notify_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), sig, sizeof(sig)), 0);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* Not base64: refused. */
	assert_int_equal(notify_webhook_sign("whsec_not*base64", "m", 1, "", 0, sig,
	    sizeof(sig)), LB_ERR_INVALID_VALUE);
}

static void
test_secret_seal(void **state)
{
	uint8_t key[32];
	char secret[LB_WEBHOOK_SECRET_MAX], sealed[256], back[LB_WEBHOOK_SECRET_MAX];
	(void)state;

	notify_webhook_secret_new(secret, sizeof(secret));
	assert_memory_equal(secret, "whsec_", 6);
	assert_int_equal(strlen(secret), 6 + 32);
	randombytes_buf(key, sizeof(key));
	notify_key_set(key);
	assert_int_equal(notify_secret_seal(secret, sealed, sizeof(sealed)), 0);
	assert_memory_equal(sealed, "sb1:", 4);
	assert_null(strstr(sealed, secret + 6));
	assert_int_equal(notify_secret_open(sealed, back, sizeof(back)), 0);
	assert_string_equal(back, secret);
	/* Another key cannot open it; a changed byte is refused. */
	key[0] ^= 1;
	notify_key_set(key);
	assert_int_equal(notify_secret_open(sealed, back, sizeof(back)), LB_ERR_UNAVAILABLE);
}

static void
test_urls(void **state)
{
	char out[128];
	(void)state;

	assert_true(notify_url_valid("https://hooks.example/x?y=1"));
	assert_true(notify_url_valid("http://127.0.0.1:9/"));
	assert_false(notify_url_valid("ftp://x"));
	assert_false(notify_url_valid("http://"));
	assert_false(notify_url_valid("http://a b"));
	assert_false(notify_url_valid("http://a\r\nX: y"));
	notify_url_redact("https://user:pw@hooks.example:8443/services/T0/B0/SECRET?t=1", out,
	    sizeof(out));
	assert_string_equal(out, "https://hooks.example:8443");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_monotonic),
		cmocka_unit_test(test_dead_letter_after_horizon),
		cmocka_unit_test(test_overdue_boundary),
		cmocka_unit_test(test_reminder_due),
		cmocka_unit_test(test_rfc2047),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_render_email_headers_and_injection),
		cmocka_unit_test(test_render_refuses_bad_addresses),
		cmocka_unit_test(test_render_receipt),
		cmocka_unit_test(test_webhook_signature_vector),
		cmocka_unit_test(test_secret_seal),
		cmocka_unit_test(test_urls),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
