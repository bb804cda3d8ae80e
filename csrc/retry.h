/* botocore's retry behaviour: legacy, standard and adaptive modes (docs/retries.md).
 *
 * No Python.h; no GIL needed. A smrt_retry is shared by every thread calling through one
 * client: its quota and rate limiter are guarded by an internal mutex; the per-call
 * state lives in a smrt_retry_call on the caller's stack. */
#ifndef SMRT_RETRY_H
#define SMRT_RETRY_H

#include <stddef.h>

#include "http.h"

typedef enum smrt_retry_mode {
    SMRT_RETRY_LEGACY = 0,
    SMRT_RETRY_STANDARD = 1,
    SMRT_RETRY_ADAPTIVE = 2,
} smrt_retry_mode;

typedef struct smrt_retry smrt_retry;

/* Per-call retry state. Zero it before the first attempt. */
typedef struct smrt_retry_call {
    int quota_held;   /* capacity taken from the quota by the last retry */
    int took_retry;   /* at least one retry drew on the quota */
} smrt_retry_call;

/* A retry rule of one service, beyond the common ones (docs/retries.md §9): botocore 1.44.8's
 * per-service policies of data/_retry.json (legacy mode) and retries/special.py's checkers
 * (standard and adaptive modes). A list of them ends with a NULL `code`. */
typedef struct smrt_retry_rule {
    const char *code;   /* the error code it retries */
    long legacy_status; /* legacy mode: retried with this HTTP status only (0: never) */
    int standard;       /* standard and adaptive modes: retried whatever the status */
    const char *reason; /* smrt_retry_reason's token for it in standard and adaptive modes */
} smrt_retry_rule;

/* The rules of a service, by botocore's service name ("sts"), or NULL when it has none. Only
 * the services this package calls are known (sts; sso and sso-oidc have none). */
const smrt_retry_rule *smrt_retry_service_rules(const char *service_name);

/* What one attempt produced. */
typedef struct smrt_attempt {
    int attempt;             /* 1-based */
    smrt_xfer_kind kind;     /* transport outcome */
    long status;             /* HTTP status when kind == SMRT_XFER_OK */
    const char *error_code;  /* the parsed error code when status >= 300, else NULL */
    int modeled;             /* error_code names one of the operation's modeled errors */
    double retry_after_s;    /* x-amz-retry-after in seconds (parsed as botocore does), or < 0 */
    const smrt_retry_rule *rules; /* the service's own rules (smrt_retry_service_rules), or NULL */
} smrt_attempt;

typedef struct smrt_retry_decision {
    int retry;                /* back off, then send again */
    double backoff_cap;       /* the delay is a uniform draw t in [0, backoff_cap) ... */
    double retry_after_s;     /* ... raised to min(retry_after_s, t + 5) when >= 0 (smrt_retry_delay) */
    int max_attempts_reached; /* ResponseMetadata['MaxAttemptsReached'] */
    int quota_reached;        /* ResponseMetadata['RetryQuotaReached'] */
} smrt_retry_decision;

/* Returns NULL on allocation failure. `max_attempts` counts the first attempt. */
smrt_retry *smrt_retry_new(smrt_retry_mode mode, int max_attempts);
void smrt_retry_destroy(smrt_retry *r); /* safe on NULL */

smrt_retry_mode smrt_retry_get_mode(const smrt_retry *r);
int smrt_retry_max_attempts(const smrt_retry *r);

/* After an attempt that failed (a transport error, or a status of 300 or more). */
smrt_retry_decision smrt_retry_on_failure(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a);

/* Which of the mode's rules makes the attempt retryable, as a fixed token for the logs
 * (sagemaker_rt_c/_log.py words them): "exception", "transient status", "transient code",
 * "throttling code", "throttling status" or a service rule's own token (standard and adaptive),
 * or "exception", "status", "status and code" (legacy); NULL when no rule matches. It says nothing of attempts left or
 * of the quota: smrt_retry_on_failure decides. */
const char *smrt_retry_reason(const smrt_retry *r, const smrt_attempt *a);

/* The delay for decision `d` given a uniform draw `r` in [0, 1). */
double smrt_retry_delay(const smrt_retry_decision *d, double r);

/* After an attempt that got a response below 300 (the call's outcome): refunds the retry
 * quota; returns 1 when standard mode flags the response MaxAttemptsReached (it does for
 * any response on the last allowed attempt). */
int smrt_retry_on_success(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a);

/* Adaptive mode: how long to wait before sending an attempt (0 when no wait, or when
 * the mode is not adaptive). Call right before each send; `now_s` is monotonic seconds. */
double smrt_retry_send_delay(smrt_retry *r, double now_s);

/* Adaptive mode: feed the rate limiter after every attempt's outcome (botocore's
 * needs-retry event), `throttled` as smrt_retry_is_throttling says. */
void smrt_retry_record_response(smrt_retry *r, int throttled, double now_s);

/* The amz-sdk-request header value for `attempt` into out (NUL-terminated):
 * "[ttl=YYYYMMDDTHHMMSSZ; ]attempt=N; max=M", where legacy mode's first attempt is just
 * "attempt=1" (botocore 1.44 seeds `max` only in standard and adaptive modes). `ttl` may be
 * NULL or "". */
void smrt_retry_sdk_request(const smrt_retry *r, int attempt, const char *ttl, char *out, size_t n);

/* Is the attempt a throttling error by the mode's rules? (standard and adaptive: a throttling
 * code, or a 429 whose code is not one of the operation's modeled errors.) */
int smrt_retry_is_throttling(const smrt_retry *r, const smrt_attempt *a);

#endif
