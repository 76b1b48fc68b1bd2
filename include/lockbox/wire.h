/*
 * Wire constants shared by the daemon and the CLI: the limits every input is
 * held to, and the numbers of SPEC section 2.  A limit lives here once so
 * the server refuses exactly what the client would refuse.
 */
#ifndef LOCKBOX_WIRE_H
#define LOCKBOX_WIRE_H

#define LB_API_PREFIX           "/v1"
#define LB_DEFAULT_LISTEN       "127.0.0.1:8420"
#define LB_PROVIDER_REALM       "provider"
#define LB_WORKLOAD_NAME        "CustomerLockbox"

/* Sizes of inputs (bytes, excluding the NUL). */
#define LB_BODY_MAX             (64 * 1024)
#define LB_ID_MAX               64      /* tenant, user, case ids */
#define LB_REQID_MAX            40      /* generated ids */
#define LB_NAME_MAX             200     /* tenant name, display name, case title */
#define LB_EMAIL_MAX            254
#define LB_PLAN_MAX             40
#define LB_ADDONS_MAX           16
#define LB_WORKLOAD_MAX         40
#define LB_RESOURCE_MAX         512
#define LB_RESOURCES_MAX        32
#define LB_JUSTIFICATION_MAX    2000
#define LB_COMMENT_MAX          1000
#define LB_ROLES_MAX            10
#define LB_NOTIFY_EMAILS_MAX    10
#define LB_TOKEN_LABEL_MAX      100
#define LB_HEADER_MAX           8192

/* SPEC section 2. */
#define LB_APPROVERS_MAX        10
#define LB_STAGES_MAX           3
#define LB_DURATION_MIN         60      /* minutes */
#define LB_DURATION_MAX         720
#define LB_DURATION_DEFAULT     720
#define LB_PENDING_TTL_MS       (12LL * 60 * 60 * 1000)
#define LB_RETENTION_MIN        90      /* days */
#define LB_RETENTION_MAX        3650
#define LB_RETENTION_DEFAULT    90
#define LB_EMERGENCY_NOTICE_MS  (48LL * 60 * 60 * 1000)

/* Lists. */
#define LB_PAGE_SIZE_DEFAULT    100
#define LB_PAGE_SIZE_MAX        1000

/* API tokens: 32 random bytes, shown once as "lbt_" + base64url(32). */
#define LB_TOKEN_PREFIX         "lbt_"
#define LB_TOKEN_BYTES          32

#endif
