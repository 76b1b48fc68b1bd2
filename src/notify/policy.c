/*
 * The notifier's decisions, with time and randomness passed in: when to
 * retry a failed delivery, when to give up on it, when an emergency notice
 * is overdue and when a reminder is due.  No clock, no I/O, libc only, so
 * the 24-hour horizon and the 48-hour rule are tested to the millisecond
 * (tests/unit/test_notify.c).
 */
#include "notify/notify.h"

int64_t
notify_backoff_ms(const struct lb_notify_policy *p, int attempts, uint32_t rnd)
{
	int64_t d = p->base_ms > 0 ? p->base_ms : 1;
	int64_t cap = p->max_ms > 0 ? p->max_ms : d;

	/* Doubling stops at the cap (and long before int64 overflows). */
	for (int i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Equal jitter: half fixed, half random, so the delay is in [d/2, d]. */
	int64_t half = d / 2;
	int64_t span = d - half;
	return half + (int64_t)(rnd % (uint64_t)(span + 1));
}

enum lb_notify_verdict
notify_after_failure(const struct lb_notify_policy *p, int64_t created_ms, int attempts,
    int64_t now_ms, uint32_t rnd, int64_t *next_ms)
{
	int64_t last = created_ms + p->horizon_ms;
	int64_t next;

	if (now_ms >= last)
		return LB_NOTIFY_DEAD;
	next = now_ms + notify_backoff_ms(p, attempts, rnd);
	*next_ms = next < last ? next : last;
	return LB_NOTIFY_RETRY;
}

bool
notify_notice_overdue(int64_t started_ms, int64_t delivered_ms, int64_t now_ms)
{
	int64_t deadline = started_ms + LB_EMERGENCY_NOTICE_MS;

	if (delivered_ms != 0 && delivered_ms < deadline)
		return false;
	return now_ms >= deadline;
}

bool
notify_reminder_due(int64_t expires_ms, int64_t lead_ms, int64_t now_ms)
{
	return lead_ms > 0 && now_ms < expires_ms && now_ms >= expires_ms - lead_ms;
}
