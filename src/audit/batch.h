/*
 * Group commit for access-decision records: many decisions a second share
 * one transaction and one fsync, and each caller still learns whether its
 * own record is durable before it answers.
 */
#ifndef LOCKBOX_AUDIT_BATCH_H
#define LOCKBOX_AUDIT_BATCH_H

#include <stdatomic.h>

#include "audit/audit.h"

#define LB_AUDITQ_BATCH_MAX 512

struct lb_auditq;

/* Batch-size histogram buckets: <=1, <=4, <=16, <=64, <=256, <=512. */
#define LB_AUDITQ_BUCKETS 6
struct lb_auditq_stats {
	atomic_ullong batches;
	atomic_ullong records;
	atomic_ullong failed_batches;
	atomic_ullong size_bucket[LB_AUDITQ_BUCKETS];
};

int auditq_start(struct lb_store *st, struct lb_auditq **out);
/* Commits what is queued, then stops the writer thread.  NULL is fine. */
void auditq_stop(struct lb_auditq *q);
const struct lb_auditq_stats *auditq_stats(const struct lb_auditq *q);

/*
 * Queues one record (and, when receipt_request is not NULL, one access
 * receipt count for that request and resource) and waits until the batch
 * holding it has committed.  Returns 0 only when the record is durable;
 * any failure (storage, a full queue, shutdown) returns a negative error
 * and the caller must refuse the access.  `details` is canonical JSON
 * text; everything is copied.
 */
int auditq_append(struct lb_auditq *q, const struct lb_audit_event *ev, const char *details,
    const char *receipt_request, const char *receipt_resource, bool allowed);

/*
 * As auditq_append, without waiting: `done(arg, rc)` is called once, from
 * the writer thread, after the batch holding the record has committed (rc
 * 0) or failed.  Returns 0 when queued; a negative error (full queue,
 * shutdown) when not, and then `done` is never called.
 */
int auditq_submit(struct lb_auditq *q, const struct lb_audit_event *ev, const char *details,
    const char *receipt_request, const char *receipt_resource, bool allowed,
    void (*done)(void *arg, int rc), void *arg);

#endif
