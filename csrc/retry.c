/* botocore's retry modes (see retry.h and docs/retries.md). */
#define _POSIX_C_SOURCE 200809L
#include "retry.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_INITIAL 500
#define QUOTA_RETRY_COST 5
#define QUOTA_TIMEOUT_COST 10
#define QUOTA_NO_RETRY_INCREMENT 1
#define STANDARD_MAX_BACKOFF 20.0

struct smrt_retry {
    smrt_retry_mode mode;
    int max_attempts;
    pthread_mutex_t lock;
    int quota; /* standard and adaptive modes */
};

smrt_retry *smrt_retry_new(smrt_retry_mode mode, int max_attempts)
{
    smrt_retry *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->mode = mode;
    r->max_attempts = max_attempts < 1 ? 1 : max_attempts;
    r->quota = QUOTA_INITIAL;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void smrt_retry_destroy(smrt_retry *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

smrt_retry_mode smrt_retry_get_mode(const smrt_retry *r)
{
    return r->mode;
}

int smrt_retry_max_attempts(const smrt_retry *r)
{
    return r->max_attempts;
}

static int code_in(const char *code, const char *const *list)
{
    if (code == NULL) {
        return 0;
    }
    for (; *list; list++) {
        if (strcmp(code, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

/* botocore/data/_retry.json: these codes count only with HTTP 400. */
static const char *const LEGACY_THROTTLING_400[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "ProvisionedThroughputExceededException", NULL,
};

/* botocore/retries/standard.py ThrottledRetryableChecker. */
static const char *const STANDARD_THROTTLING[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL,
};

/* botocore/retries/standard.py TransientRetryableChecker. */
static const char *const STANDARD_TRANSIENT_CODES[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", NULL,
};

int smrt_retry_is_throttling(const smrt_retry *r, long status, const char *code)
{
    if (r->mode == SMRT_RETRY_LEGACY) {
        return status == 429 || (status == 400 && code_in(code, LEGACY_THROTTLING_400));
    }
    return code_in(code, STANDARD_THROTTLING);
}

static int legacy_retryable(const smrt_attempt *a)
{
    switch (a->kind) {
    case SMRT_XFER_OK:
        break;
    case SMRT_XFER_CONNECT_ERROR:
    case SMRT_XFER_CONNECT_TIMEOUT:
    case SMRT_XFER_READ_TIMEOUT:
    case SMRT_XFER_CLOSED:
    case SMRT_XFER_SSL_ERROR:
    case SMRT_XFER_PROXY_ERROR:
        return 1; /* botocore.exceptions.ConnectionError and its kin */
    default:
        return 0;
    }
    switch (a->status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 509:
        return 1;
    case 400:
        return code_in(a->error_code, LEGACY_THROTTLING_400);
    default:
        return 0;
    }
}

static int standard_retryable(const smrt_attempt *a)
{
    switch (a->kind) {
    case SMRT_XFER_OK:
        break;
    case SMRT_XFER_NOMEM:
        return 0;
    default:
        return 1; /* ConnectionError and HTTPClientError */
    }
    if (a->status == 500 || a->status == 502 || a->status == 503 || a->status == 504) {
        return 1;
    }
    return code_in(a->error_code, STANDARD_TRANSIENT_CODES) || code_in(a->error_code, STANDARD_THROTTLING);
}

smrt_retry_decision smrt_retry_on_failure(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a,
                                          double rand01)
{
    smrt_retry_decision d = {0, 0.0, 0};
    if (r->mode == SMRT_RETRY_LEGACY) {
        if (!legacy_retryable(a)) {
            return d;
        }
        if (a->attempt >= r->max_attempts) {
            d.max_attempts_reached = 1;
            return d;
        }
        d.retry = 1;
        d.delay = rand01 * ldexp(1.0, a->attempt - 1);
        return d;
    }
    if (!standard_retryable(a)) {
        return d;
    }
    if (a->attempt >= r->max_attempts) {
        d.max_attempts_reached = 1;
        return d;
    }
    int cost = (a->kind == SMRT_XFER_READ_TIMEOUT || a->kind == SMRT_XFER_CONNECT_TIMEOUT) ? QUOTA_TIMEOUT_COST
                                                                                            : QUOTA_RETRY_COST;
    pthread_mutex_lock(&r->lock);
    int ok = r->quota >= cost;
    if (ok) {
        r->quota -= cost;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        return d;
    }
    call->quota_held = cost;
    call->took_retry = 1;
    d.retry = 1;
    double cap = ldexp(1.0, a->attempt - 1);
    d.delay = rand01 * (cap < STANDARD_MAX_BACKOFF ? cap : STANDARD_MAX_BACKOFF);
    return d;
}

void smrt_retry_on_success(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a)
{
    (void)a;
    if (r->mode == SMRT_RETRY_LEGACY) {
        return;
    }
    int amount = call->took_retry ? call->quota_held : QUOTA_NO_RETRY_INCREMENT;
    pthread_mutex_lock(&r->lock);
    r->quota += amount;
    if (r->quota > QUOTA_INITIAL) {
        r->quota = QUOTA_INITIAL;
    }
    pthread_mutex_unlock(&r->lock);
}

double smrt_retry_send_delay(smrt_retry *r, double now_s)
{
    (void)r;
    (void)now_s;
    return 0.0;
}

void smrt_retry_sdk_request(const smrt_retry *r, int attempt, char *out, size_t n)
{
    if (r->mode == SMRT_RETRY_LEGACY) {
        snprintf(out, n, "attempt=%d", attempt);
    } else {
        snprintf(out, n, "attempt=%d; max=%d", attempt, r->max_attempts);
    }
}
