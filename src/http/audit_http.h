/*
 * What src/http/audit.c (search, verify, checkpoints) and
 * src/http/audit_export.c (export) share: who may read a chain, the
 * record every read writes, and the time range of a request.
 */
#ifndef LOCKBOX_HTTP_AUDIT_H
#define LOCKBOX_HTTP_AUDIT_H

#include "http/http.h"

#define RT_AUDIT_READ           "CustomerLockboxAudit"
#define AUDIT_TENANT_ROLES      (LB_ROLE_GLOBAL_ADMIN | LB_ROLE_COMPLIANCE_ADMIN)
#define AUDIT_PROVIDER_ROLES    LB_ROLE_PROVIDER_ADMIN
#define EXPORT_BATCH            1000            /* records per read transaction */
#define EXPORT_BLOCK            (64 * 1024)     /* bytes per chunk */
#define CP_PAGE_MAX             1000
#define SEQ_TOKEN_ID            "seq"           /* page tokens: "<seq>.seq" */
#define CP_TOKEN_ID             "cp"

/* The filters of a search, with their own storage. */
struct filters {
	struct lb_audit_filter f;
	char record_type[48];
	char operation[48];
	char actor[LB_ID_MAX + 1];
	char object[LB_REQID_MAX + LB_ID_MAX + 2];
	char result[16];
	json_t *echo;           /* the filter as given, for the read's record */
};

/*
 * The chain a route names, into chain[]: the provider's ("") for
 * /v1/provider/audit (provider_admin only), else tenant params[0] as the
 * caller may read it (another tenant's principal: 404; a role other than
 * global_admin or compliance_admin: 403).
 */
int audit_open_chain(struct lb_ctx *c, struct lb_tx *tx, bool provider,
    char chain[LB_ID_MAX + 1]);
/* Records a read of `chain` before the answer; refuses (503) if it cannot. */
int audit_record_read(struct lb_ctx *c, const char *chain, const char *op, json_t *details);
/* The start and end query parameters into fl (an export's time range). */
int audit_parse_range(struct lb_ctx *c, struct filters *fl);

#endif
