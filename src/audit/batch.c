/*
 * The group-commit writer for access decisions.
 *
 * The access check must not answer before its audit record is durable, and
 * it is asked thousands of times a second.  One fsync per decision would
 * cap it at the disk's flush rate, so callers queue their record and wait;
 * one writer thread takes everything queued, appends it all in one write
 * transaction (reading each chain's head once), commits, and wakes every
 * waiter with the result of that commit.  While it commits, the next batch
 * gathers.  If the commit fails, every record of the batch failed, and
 * every waiting caller refuses: no allow is ever answered without its
 * record.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/batch.h"
#include "sys/sys.h"

/* Waiting callers beyond this are refused at once (fail closed, bounded). */
#define QUEUE_MAX 8192

struct item {
	struct item *next;
	struct lb_actor actor;
	struct lb_audit_event ev;
	char tenant[LB_ID_MAX + 1];
	char record_type[48];
	char operation[48];
	char object_id[LB_REQID_MAX + LB_ID_MAX + 2];
	char result[16];
	char client_ip[64];
	char *details;
	char receipt_request[LB_REQID_MAX + 1];
	char receipt_resource[LB_RESOURCE_MAX + 1];
	bool allowed;
	bool done;
	int rc;
	void (*cb)(void *arg, int rc);  /* async: called instead of a waiter */
	void *cb_arg;
};

struct lb_auditq {
	struct lb_store *st;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;         /* writer waits for items */
	pthread_cond_t done_cv;         /* callers wait for their batch */
	struct item *head, *tail;
	size_t queued;
	bool stopping;
	pthread_t thread;
	struct lb_auditq_stats stats;
};

static void
observe(struct lb_auditq *q, size_t n, bool ok)
{
	static const size_t bounds[LB_AUDITQ_BUCKETS] = { 1, 4, 16, 64, 256, 512 };
	size_t b = 0;

	while (b < LB_AUDITQ_BUCKETS - 1 && n > bounds[b])
		b++;
	atomic_fetch_add(&q->stats.size_bucket[b], 1);
	atomic_fetch_add(&q->stats.batches, 1);
	atomic_fetch_add(&q->stats.records, n);
	if (!ok)
		atomic_fetch_add(&q->stats.failed_batches, 1);
}

/* Writes one batch in one transaction; returns the commit's result. */
static int
write_batch(struct lb_auditq *q, struct item *batch)
{
	struct lb_audit_head head = { .valid = false };
	struct lb_tx *tx = NULL;
	int rc;

	if ((rc = store_begin(q->st, true, &tx)) != 0)
		return rc;
	for (struct item *it = batch; it != NULL; it = it->next) {
		if ((rc = audit_append_text(tx, &it->ev, it->details, &head)) != 0)
			goto fail;
		if (it->receipt_request[0] != '\0' &&
		    (rc = store_receipt_add(tx, it->receipt_request, it->receipt_resource,
		    it->allowed, it->ev.time_ms)) != 0)
			goto fail;
	}
	return store_commit(tx);
fail:
	store_rollback(tx);
	return rc;
}

static void *
writer_main(void *arg)
{
	struct lb_auditq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->work_cv, &q->mu);
		if (q->head == NULL && q->stopping)
			break;
		/* Take up to LB_AUDITQ_BATCH_MAX items. */
		struct item *batch = q->head, *last = q->head;
		size_t n = 1;
		while (last->next != NULL && n < LB_AUDITQ_BATCH_MAX) {
			last = last->next;
			n++;
		}
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		q->queued -= n;
		pthread_mutex_unlock(&q->mu);

		int rc = write_batch(q, batch);
		if (rc != 0)
			log_warn("audit", "msg=\"access records not written; the decisions are refused\" "
			    "records=%zu error=%s", n, lb_err_code(rc));
		observe(q, n, rc == 0);

		/* Waiters are woken under the lock; callbacks run outside it. */
		struct item *async = NULL, *next;
		pthread_mutex_lock(&q->mu);
		for (struct item *it = batch; it != NULL; it = next) {
			next = it->next;
			if (it->cb != NULL) {
				it->next = async;
				async = it;
				continue;
			}
			it->rc = rc;
			it->done = true;
		}
		pthread_cond_broadcast(&q->done_cv);
		pthread_mutex_unlock(&q->mu);
		for (struct item *it = async; it != NULL; it = next) {
			next = it->next;
			it->cb(it->cb_arg, rc);
			free(it->details);
			free(it);
		}
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int
auditq_start(struct lb_store *st, struct lb_auditq **out)
{
	struct lb_auditq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return LB_ERR_NOMEM;
	q->st = st;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->done_cv, NULL);
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
		pthread_cond_destroy(&q->work_cv);
		pthread_cond_destroy(&q->done_cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return LB_ERR_INTERNAL;
	}
	*out = q;
	return 0;
}

void
auditq_stop(struct lb_auditq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->work_cv);
	pthread_cond_destroy(&q->done_cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

const struct lb_auditq_stats *
auditq_stats(const struct lb_auditq *q)
{
	return &q->stats;
}

/* A queue item holding copies of everything the record needs. */
static int
item_new(const struct lb_audit_event *ev, const char *details, const char *receipt_request,
    const char *receipt_resource, bool allowed, struct item **out)
{
	struct item *it = calloc(1, sizeof(*it));
	int rc;

	if (it == NULL)
		return LB_ERR_NOMEM;
	it->actor = *ev->actor;
	if ((rc = lb_copy(it->tenant, sizeof(it->tenant), ev->tenant)) != 0 ||
	    (rc = lb_copy(it->record_type, sizeof(it->record_type), ev->record_type)) != 0 ||
	    (rc = lb_copy(it->operation, sizeof(it->operation), ev->operation)) != 0 ||
	    (rc = lb_copy(it->object_id, sizeof(it->object_id), ev->object_id)) != 0 ||
	    (rc = lb_copy(it->result, sizeof(it->result), ev->result ? ev->result : "success")) != 0 ||
	    (rc = lb_copy(it->client_ip, sizeof(it->client_ip), ev->client_ip)) != 0 ||
	    (rc = lb_copy(it->receipt_request, sizeof(it->receipt_request), receipt_request)) != 0 ||
	    (rc = lb_copy(it->receipt_resource, sizeof(it->receipt_resource), receipt_resource)) != 0) {
		free(it);
		return rc;
	}
	if ((it->details = strdup(details ? details : "{}")) == NULL) {
		free(it);
		return LB_ERR_NOMEM;
	}
	it->allowed = allowed;
	it->ev = (struct lb_audit_event){
		.tenant = it->tenant, .record_type = it->record_type, .operation = it->operation,
		.actor = &it->actor, .object_id = it->object_id, .result = it->result,
		.client_ip = it->client_ip, .details = NULL, .time_ms = ev->time_ms,
	};
	*out = it;
	return 0;
}

/* Appends `it` to the queue; LB_ERR_UNAVAILABLE when stopping or full. */
static int
enqueue(struct lb_auditq *q, struct item *it)
{
	if (q->stopping || q->queued >= QUEUE_MAX)
		return LB_ERR_UNAVAILABLE;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->queued++;
	pthread_cond_signal(&q->work_cv);
	return 0;
}

int
auditq_submit(struct lb_auditq *q, const struct lb_audit_event *ev, const char *details,
    const char *receipt_request, const char *receipt_resource, bool allowed,
    void (*done)(void *arg, int rc), void *arg)
{
	struct item *it = NULL;
	int rc;

	if ((rc = item_new(ev, details, receipt_request, receipt_resource, allowed, &it)) != 0)
		return rc;
	it->cb = done;
	it->cb_arg = arg;
	pthread_mutex_lock(&q->mu);
	rc = enqueue(q, it);
	pthread_mutex_unlock(&q->mu);
	if (rc != 0) {
		free(it->details);
		free(it);
	}
	return rc;
}

int
auditq_append(struct lb_auditq *q, const struct lb_audit_event *ev, const char *details,
    const char *receipt_request, const char *receipt_resource, bool allowed)
{
	struct item *it = NULL;
	int rc;

	if ((rc = item_new(ev, details, receipt_request, receipt_resource, allowed, &it)) != 0)
		return rc;

	pthread_mutex_lock(&q->mu);
	if ((rc = enqueue(q, it)) != 0) {
		pthread_mutex_unlock(&q->mu);
		free(it->details);
		free(it);
		return rc;
	}
	/*
	 * No deadline of our own: the writer always finishes a batch (storage
	 * calls are bounded by the busy timeout), and waiting for it keeps
	 * the answer and the record in agreement.
	 */
	while (!it->done)
		pthread_cond_wait(&q->done_cv, &q->mu);
	rc = it->rc;
	pthread_mutex_unlock(&q->mu);
	free(it->details);
	free(it);
	return rc;
}
