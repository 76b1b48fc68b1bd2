/*
 * Exporting the audit trail: GET /v1/tenants/{t}/audit/export and
 * /v1/provider/audit/export, streamed as JSON Lines (the verifiable form of
 * docs/audit-format.md) or CSV for spreadsheets, in constant memory: each
 * time libmicrohttpd wants more bytes, one short read transaction reads the
 * next batch by seq, up to the last seq fixed when the export began.
 * Records are written without printf and without jansson (an export
 * formats every record of a chain), in exactly the canonical form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "audit/audit.h"
#include "audit/batch.h"
#include "http/audit_http.h"
#include "http/http.h"

/* A growing byte buffer; `bad` after an allocation failure. */
struct out {
	char *p;
	size_t len, cap;
	bool bad;
};

/* Grows o to hold n more bytes; false (and o bad) when it cannot. */
static bool
out_grow(struct out *o, size_t n)
{
	if (o->bad)
		return false;
	if (o->len + n + 1 > o->cap) {
		size_t ncap = o->cap ? o->cap : 4096;
		while (ncap < o->len + n + 1)
			ncap *= 2;
		char *np = realloc(o->p, ncap);
		if (np == NULL) {
			o->bad = true;
			return false;
		}
		o->p = np;
		o->cap = ncap;
	}
	return true;
}

/* Appends n bytes (not NUL-terminated: the buffer goes out by length). */
static inline void
out_addn(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap && !out_grow(o, n))
		return;
	if (o->bad)
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* A string literal, its length known at compile time. */
#define OUT_LIT(o, lit) out_addn((o), (lit), sizeof(lit) - 1)

static void
out_add(struct out *o, const char *s)
{
	out_addn(o, s, strlen(s));
}

static void
out_i64(struct out *o, int64_t v)
{
	char num[24];
	size_t i = sizeof(num);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		num[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		num[--i] = '-';
	out_addn(o, num + i, sizeof(num) - i);
}

/*
 * ms since the epoch as "2026-11-22T06:31:50.123Z", exactly as
 * lb_time_format writes it, without printf: an export formats one per
 * record.  (Days to civil date: H. Hinnant's algorithm; years 0..9999.)
 */
static void
out_time(struct out *o, int64_t ms)
{
	char b[24];
	int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t msec = ms - s * 1000, days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	int64_t sod = s - days * 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t v[] = { m, d, sod / 3600, sod / 60 % 60, sod % 60 };

	if (m <= 2)
		y++;
	if (y < 0 || y > 9999) {
		OUT_LIT(o, "\"\"");
		return;
	}
	b[0] = '"';
	b[1] = (char)('0' + y / 1000);
	b[2] = (char)('0' + y / 100 % 10);
	b[3] = (char)('0' + y / 10 % 10);
	b[4] = (char)('0' + y % 10);
	for (int i = 0; i < 5; i++) {
		b[5 + 3 * i] = "--T::"[i];
		b[6 + 3 * i] = (char)('0' + v[i] / 10);
		b[7 + 3 * i] = (char)('0' + v[i] % 10);
	}
	b[20] = '.';
	b[21] = (char)('0' + msec / 100);
	b[22] = (char)('0' + msec / 10 % 10);
	b[23] = (char)('0' + msec % 10);
	out_addn(o, b, sizeof(b));
	OUT_LIT(o, "Z\"");
}

/*
 * s as a JSON string: quotes, backslashes and control characters escaped
 * as RFC 8785 does (short forms, else \u00xx in lowercase hex); other
 * bytes as they are.  A record's text can therefore never end its line.
 */
static void
out_json_str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	out_addn(o, "\"", 1);
	for (;; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[7];
		size_t n = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		if (ch == '\0')
			break;
		out_addn(o, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (ch) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			n = 6;
			break;
		}
		out_addn(o, esc, n);
	}
	out_addn(o, run, (size_t)(s - run));
	out_addn(o, "\"", 1);
}

/* ---------------------------------------------------------------- export */

enum phase { PH_HEADER, PH_CHECKPOINTS, PH_RECORDS, PH_DONE };

/* One export in flight: lives from the handler to libmicrohttpd's free. */
struct export {
	struct lb_store *store;
	char chain[LB_ID_MAX + 1];
	bool csv;
	enum phase phase;
	int64_t exported_ms;
	int64_t first_seq, last_seq;    /* the records exported */
	int64_t next_seq;               /* the next record to read */
	int64_t next_cp;                /* the next checkpoint seq to read from */
	int64_t start_ms, end_ms;       /* CSV only: time bounds (0: none) */
	struct out buf;                 /* bytes not yet handed out */
	size_t off;
	size_t ncp;                     /* checkpoints read in this batch */
	bool gap;                       /* a record was missing under us */
};

static void
jsonl_header(struct export *x)
{
	char ts[32];

	if (lb_time_format(x->exported_ms, ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	out_add(&x->buf, "{\"export\":{\"exported_at\":");
	out_json_str(&x->buf, ts);
	out_add(&x->buf, ",\"first_seq\":");
	out_i64(&x->buf, x->first_seq);
	out_add(&x->buf, ",\"last_seq\":");
	out_i64(&x->buf, x->last_seq);
	out_add(&x->buf, ",\"tenant\":");
	if (x->chain[0] != '\0')
		out_json_str(&x->buf, x->chain);
	else
		out_add(&x->buf, "null");
	out_add(&x->buf, ",\"version\":1}}\n");
}

static const char csv_columns[] =
    "time,seq,tenant,workload,record_type,operation,actor_id,actor_realm,actor_type,"
    "object_id,result,client_ip,justification,comment,details,prev_hash,hash\r\n";

static void
csv_header(struct export *x)
{
	out_add(&x->buf, csv_columns);
}

static int
each_checkpoint(void *ctx, const struct lb_checkpoint *cp)
{
	struct export *x = ctx;
	json_t *o;
	char *text;

	if (cp->seq > x->last_seq)
		return 1;                       /* made after the export began: stop */
	if (x->ncp == CP_PAGE_MAX)
		return 1;                       /* enough for one chunk: stop */
	if ((o = json_pack("{s:o}", "checkpoint", audit_checkpoint_json(cp))) == NULL)
		return LB_ERR_NOMEM;
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return LB_ERR_NOMEM;
	out_add(&x->buf, text);
	out_add(&x->buf, "\n");
	free(text);
	x->ncp++;
	x->next_cp = cp->seq + 1;
	return 0;
}

/* One record as a JSON line: its fields in RFC 8785 key order, plus hash. */
static void
jsonl_record(struct out *o, const struct lb_audit_rec *r)
{
	const char *details = r->details != NULL && r->details[0] != '\0' ? r->details : "{}";

	/* One allocation check for the record's usual size. */
	if (!out_grow(o, strlen(details) + 1024))
		return;
	OUT_LIT(o, "{\"actor\":{\"id\":");
	out_json_str(o, r->actor_id);
	OUT_LIT(o, ",\"realm\":");
	out_json_str(o, r->actor_realm);
	OUT_LIT(o, ",\"type\":");
	out_json_str(o, r->actor_type);
	OUT_LIT(o, "},\"client_ip\":");
	out_json_str(o, r->client_ip);
	OUT_LIT(o, ",\"details\":");
	/* Stored as canonical JSON text: copied as it is. */
	out_add(o, details);
	OUT_LIT(o, ",\"hash\":");
	out_json_str(o, r->hash);
	OUT_LIT(o, ",\"id\":");
	out_json_str(o, r->id);
	OUT_LIT(o, ",\"object_id\":");
	out_json_str(o, r->object_id);
	OUT_LIT(o, ",\"operation\":");
	out_json_str(o, r->operation);
	OUT_LIT(o, ",\"prev_hash\":");
	out_json_str(o, r->prev_hash);
	OUT_LIT(o, ",\"record_type\":");
	out_json_str(o, r->record_type);
	OUT_LIT(o, ",\"result\":");
	out_json_str(o, r->result);
	OUT_LIT(o, ",\"seq\":");
	out_i64(o, r->seq);
	OUT_LIT(o, ",\"tenant\":");
	if (r->chain[0] != '\0')
		out_json_str(o, r->chain);
	else
		OUT_LIT(o, "null");
	OUT_LIT(o, ",\"time\":");
	out_time(o, r->time_ms);
	OUT_LIT(o, ",\"workload\":");
	out_json_str(o, r->workload);
	OUT_LIT(o, "}\n");
}

/*
 * One CSV cell (RFC 4180).  A cell a spreadsheet would evaluate as a
 * formula (starting with =, +, -, @, tab or CR) gets a leading single
 * quote; a cell holding a comma, quote, CR or LF is quoted, quotes doubled.
 */
static void
csv_cell(struct out *o, const char *s, bool last)
{
	bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	    s[0] == '\t' || s[0] == '\r';
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		out_addn(o, "\"", 1);
	if (formula)
		out_addn(o, "'", 1);
	for (const char *p = s; *p != '\0';) {
		const char *q = quote ? strchr(p, '"') : NULL;
		size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
		out_addn(o, p, n);
		p += n;
		if (q != NULL) {
			out_addn(o, "\"\"", 2);
			p++;
		}
	}
	if (quote)
		out_addn(o, "\"", 1);
	out_add(o, last ? "\r\n" : ",");
}

/*
 * The free text people wrote, lifted out of details for a spreadsheet:
 * the justification of a request, and the comment of a decision.
 */
static void
csv_text_columns(struct out *o, const char *details)
{
	json_t *d = NULL;
	const char *just = "", *comment = "";

	if (details != NULL && (strstr(details, "\"justification\"") != NULL ||
	    strstr(details, "\"comment\"") != NULL) &&
	    (d = json_loads(details, 0, NULL)) != NULL) {
		json_t *dec = json_object_get(d, "decision");
		if (json_is_string(json_object_get(d, "justification")))
			just = json_string_value(json_object_get(d, "justification"));
		if (json_is_string(json_object_get(dec, "comment")))
			comment = json_string_value(json_object_get(dec, "comment"));
		else if (json_is_string(json_object_get(d, "comment")))
			comment = json_string_value(json_object_get(d, "comment"));
	}
	csv_cell(o, just, false);
	csv_cell(o, comment, false);
	json_decref(d);
}

static void
csv_record(struct out *o, const struct lb_audit_rec *r)
{
	char ts[32], seq[32];

	if (lb_time_format(r->time_ms, ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	csv_cell(o, ts, false);
	csv_cell(o, seq, false);
	csv_cell(o, r->chain, false);
	csv_cell(o, r->workload, false);
	csv_cell(o, r->record_type, false);
	csv_cell(o, r->operation, false);
	csv_cell(o, r->actor_id, false);
	csv_cell(o, r->actor_realm, false);
	csv_cell(o, r->actor_type, false);
	csv_cell(o, r->object_id, false);
	csv_cell(o, r->result, false);
	csv_cell(o, r->client_ip, false);
	csv_text_columns(o, r->details);
	csv_cell(o, r->details != NULL && r->details[0] != '\0' ? r->details : "{}", false);
	csv_cell(o, r->prev_hash, false);
	csv_cell(o, r->hash, true);
}

static int
each_exported(void *ctx, const struct lb_audit_rec *rec)
{
	struct export *x = ctx;

	if (rec->seq != x->next_seq) {
		x->gap = true;
		return 1;
	}
	x->next_seq++;
	if (x->csv) {
		if ((x->start_ms != 0 && rec->time_ms < x->start_ms) ||
		    (x->end_ms != 0 && rec->time_ms >= x->end_ms))
			return 0;
		csv_record(&x->buf, rec);
	} else {
		jsonl_record(&x->buf, rec);
	}
	return x->buf.bad ? LB_ERR_NOMEM : 0;
}

/* Fills x->buf with the next part of the export; 0, or an error. */
static int
export_refill(struct export *x)
{
	struct lb_tx *tx = NULL;
	int rc = 0;

	x->buf.len = 0;
	x->off = 0;
	switch (x->phase) {
	case PH_HEADER:
		if (x->csv) {
			csv_header(x);
			x->phase = PH_RECORDS;
		} else {
			jsonl_header(x);
			x->phase = PH_CHECKPOINTS;
		}
		break;
	case PH_CHECKPOINTS:
		x->ncp = 0;
		if ((rc = store_begin(x->store, false, &tx)) != 0)
			break;
		rc = store_checkpoint_list(tx, x->chain, x->next_cp, each_checkpoint, x);
		if (rc == 1)
			rc = 0;
		if (rc == 0 && x->ncp < CP_PAGE_MAX)
			x->phase = PH_RECORDS;
		break;
	case PH_RECORDS: {
		int64_t left = x->last_seq - x->next_seq + 1;
		if (left <= 0) {
			x->phase = PH_DONE;
			break;
		}
		if ((rc = store_begin(x->store, false, &tx)) != 0)
			break;
		int64_t before = x->next_seq;
		rc = store_audit_scan(tx, x->chain, x->next_seq,
		    (size_t)(left < EXPORT_BATCH ? left : EXPORT_BATCH), each_exported, x);
		if (rc == 1 || (rc == 0 && x->next_seq == before))
			x->gap = true;
		if (x->gap)
			rc = LB_ERR_UNAVAILABLE;
		break;
	}
	case PH_DONE:
		break;
	}
	store_rollback(tx);
	if (rc == 0 && x->buf.bad)
		rc = LB_ERR_NOMEM;
	return rc;
}

/* libmicrohttpd asks for up to `max` more bytes of the body. */
static ssize_t
export_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct export *x = cls;
	int rc;

	(void)pos;
	while (x->off == x->buf.len && x->phase != PH_DONE) {
		if ((rc = export_refill(x)) != 0) {
			/* The client sees a cut-off chunked body, never a short
			 * export that looks whole. */
			log_error("audit_export_failed", "chain=%s next_seq=%lld rc=%d gap=%d",
			    x->chain[0] ? x->chain : "provider", (long long)x->next_seq, rc,
			    x->gap ? 1 : 0);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	if (x->off == x->buf.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = x->buf.len - x->off;
	if (n > max)
		n = max;
	memcpy(buf, x->buf.p + x->off, n);
	x->off += n;
	return (ssize_t)n;
}

static void
export_free(void *cls)
{
	struct export *x = cls;

	if (x == NULL)
		return;
	free(x->buf.p);
	free(x);
}

static int
export_chain(struct lb_ctx *c, bool provider)
{
	struct filters fl;
	struct lb_checkpoint cp;
	struct lb_tx *tx = NULL;
	struct export *x = NULL;
	struct MHD_Response *resp = NULL;
	char format[16] = "jsonl", disp[160], ts[32];
	json_t *details = NULL;
	int rc;

	memset(&fl, 0, sizeof(fl));
	if ((fl.echo = json_object()) == NULL || (x = calloc(1, sizeof(*x))) == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	if ((rc = http_query(c, "format", format, sizeof(format))) < 0)
		goto out;
	if (strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0) {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "'format' must be jsonl or csv");
		goto out;
	}
	x->csv = strcmp(format, "csv") == 0;
	if ((rc = audit_parse_range(c, &fl)) != 0)
		goto out;
	if (!x->csv && (fl.f.start_ms != 0 || fl.f.end_ms != 0)) {
		rc = http_fail(c, LB_ERR_INVALID_FIELD, "'start' and 'end' apply to CSV exports only: "
		    "a JSONL export is the whole chain, so that it verifies");
		goto out;
	}
	if ((rc = store_begin(c->app->store, true, &tx)) != 0 ||
	    (rc = audit_open_chain(c, tx, provider, x->chain)) != 0)
		goto out;
	details = json_pack("{s:s, s:O}", "format", format, "filter", fl.echo);
	if (details == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	/* The export's own record, then a signed checkpoint that covers it. */
	if ((rc = http_audit(c, tx, x->chain, RT_AUDIT_READ, "ExportAuditLog", x->chain,
	    details)) != 0 ||
	    (rc = audit_checkpoint_head(tx, c->app->keys, x->chain, c->now_ms, &cp)) != 0 ||
	    (rc = store_audit_first_seq(tx, x->chain, &x->first_seq)) != 0)
		goto out;
	if ((rc = store_commit(tx)) != 0) {
		tx = NULL;
		goto out;
	}
	tx = NULL;
	x->store = c->app->store;
	x->exported_ms = c->now_ms;
	x->last_seq = cp.seq;
	x->next_seq = x->first_seq;
	/* An anchor at first_seq - 1 is where a purged chain verifies from. */
	x->next_cp = x->first_seq > 1 ? x->first_seq - 1 : 0;
	x->start_ms = fl.f.start_ms;
	x->end_ms = fl.f.end_ms;
	if (x->csv && (x->start_ms != 0 || x->end_ms != 0)) {
		/* Skip what lies wholly outside the range (times ascend with seq;
		 * each record is checked again as it is written). */
		int64_t before = 0, upto = 0;
		if ((rc = store_begin(c->app->store, false, &tx)) != 0 ||
		    (x->start_ms != 0 &&
		    (rc = store_audit_last_before(tx, x->chain, x->start_ms, &before)) != 0) ||
		    (x->end_ms != 0 &&
		    (rc = store_audit_last_before(tx, x->chain, x->end_ms, &upto)) != 0))
			goto out;
		if (before >= x->next_seq)
			x->next_seq = before + 1;
		if (x->end_ms != 0 && upto < x->last_seq)
			x->last_seq = upto;
		store_rollback(tx);
		tx = NULL;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EXPORT_BLOCK, export_read, x,
	    export_free);
	if (resp == NULL) {
		rc = LB_ERR_NOMEM;
		goto out;
	}
	x = NULL;               /* owned by the response now */
	if (lb_time_format(c->now_ms, ts, sizeof(ts)) != 0)
		ts[0] = '\0';
	for (char *p = ts; *p != '\0'; p++)
		if (*p == ':')
			*p = '-';
	int dn = snprintf(disp, sizeof(disp), "attachment; filename=\"audit-%.64s-%.31s.%.8s\"",
	    provider ? "provider" : c->params[0], ts, format);
	if (dn < 0 || (size_t)dn >= sizeof(disp))
		memcpy(disp, "attachment", sizeof("attachment"));
	MHD_add_response_header(resp, "Content-Type",
	    strcmp(format, "csv") == 0 ? "text/csv; charset=utf-8" : "application/x-ndjson");
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	c->status = 200;
	c->resp_stream = resp;
	rc = 0;
out:
	store_rollback(tx);
	export_free(x);
	json_decref(fl.echo);
	json_decref(details);
	return rc;
}

int
h_audit_export(struct lb_ctx *c)
{
	return export_chain(c, false);
}

int
h_provider_audit_export(struct lb_ctx *c)
{
	return export_chain(c, true);
}
