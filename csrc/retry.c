/* botocore's retry modes (see retry.h and docs/retries.md). */
#define _POSIX_C_SOURCE 200809L
#include "retry.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* botocore 1.44 retries/standard.py: RetryQuotaChecker, ExponentialBackoff. */
#define QUOTA_INITIAL 500
#define QUOTA_RETRY_COST 14
#define QUOTA_THROTTLING_COST 5
#define QUOTA_NO_RETRY_INCREMENT 1
#define STANDARD_MAX_BACKOFF 20.0
#define THROTTLING_BASE_SCALE 1.0
#define NON_THROTTLING_BASE_SCALE 0.05
#define RETRY_AFTER_MAX_ADDITIONAL 5.0

/* Adaptive mode's client-side rate limiter (botocore/retries/{adaptive,bucket,throttling}.py). */
#define MIN_FILL_RATE 0.5
#define MAX_RATE_ADJUST_SCALE 2.0
#define CUBIC_SCALE 0.4
#define CUBIC_BETA 0.7
#define CLOCK_SMOOTHING 0.8
#define CLOCK_BUCKET_SCALE 2.0 /* 1 / 0.5 s buckets */

struct smrt_retry {
    smrt_retry_mode mode;
    int max_attempts;
    pthread_mutex_t lock;
    int quota; /* standard and adaptive modes */
    /* adaptive */
    int limiter_enabled; /* after the first throttling response */
    double fill_rate, max_capacity, capacity, last_refill;
    int have_last_refill;
    double w_max, k, last_fail;
    double measured_rate, last_bucket;
    long count;
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
    /* TokenBucket(max_rate=1), CubicCalculator(starting_max_rate=0), RateClocker. */
    double now = (double)smrt_monotonic_ns() / 1e9;
    r->fill_rate = 1.0;
    r->max_capacity = 1.0;
    r->capacity = 0.0;
    r->w_max = 0.0;
    r->k = 0.0;
    r->last_fail = now;
    r->last_bucket = floor(now);
    /* TokenBucket.__init__ sets max_rate, whose setter refills: the clock starts now. */
    r->have_last_refill = 1;
    r->last_refill = now;
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

int smrt_retry_is_throttling(const smrt_retry *r, const smrt_attempt *a)
{
    if (a->kind != SMRT_XFER_OK) {
        return 0;
    }
    if (r->mode == SMRT_RETRY_LEGACY) {
        return a->status == 429 || (a->status == 400 && code_in(a->error_code, LEGACY_THROTTLING_400));
    }
    /* ThrottlingErrorDetector: the fixed codes, else (no modeled error of this operation has a
     * retryable trait) ThrottlingStatusCodeChecker: a 429 the model does not cover. */
    return code_in(a->error_code, STANDARD_THROTTLING) || (a->status == 429 && !a->modeled);
}

/* ---- service rules ---------------------------------------------------------------------------- */

/* botocore 1.44.8: data/_retry.json "sts" (policy idp_unreachable_error: the code with status
 * 400, legacy mode) and retries/special.py RetryIDPCommunicationError (standard and adaptive:
 * the code, any status). It is not a throttle: it costs the quota 14 and backs off from 0.05 s. */
static const smrt_retry_rule STS_RULES[] = {
    {"IDPCommunicationError", 400, 1, "idp"},
    {NULL, 0, 0, NULL},
};

const smrt_retry_rule *smrt_retry_service_rules(const char *service_name)
{
    if (service_name != NULL && strcmp(service_name, "sts") == 0) {
        return STS_RULES;
    }
    return NULL;
}

/* The attempt's service rule for the mode (legacy: its code with its status), or NULL. */
static const smrt_retry_rule *service_rule(const smrt_attempt *a, int legacy)
{
    if (a->rules == NULL || a->error_code == NULL || a->kind != SMRT_XFER_OK) {
        return NULL;
    }
    for (const smrt_retry_rule *rule = a->rules; rule->code; rule++) {
        if (strcmp(rule->code, a->error_code) == 0 &&
            (legacy ? rule->legacy_status != 0 && rule->legacy_status == a->status : rule->standard)) {
            return rule;
        }
    }
    return NULL;
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
        return code_in(a->error_code, LEGACY_THROTTLING_400) || service_rule(a, 1) != NULL;
    default:
        return service_rule(a, 1) != NULL;
    }
}

static int standard_retryable(const smrt_retry *r, const smrt_attempt *a)
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
    return code_in(a->error_code, STANDARD_TRANSIENT_CODES) || smrt_retry_is_throttling(r, a) ||
           service_rule(a, 0) != NULL;
}

const char *smrt_retry_reason(const smrt_retry *r, const smrt_attempt *a)
{
    if (r->mode == SMRT_RETRY_LEGACY) {
        if (!legacy_retryable(a)) {
            return NULL;
        }
        if (a->kind != SMRT_XFER_OK) {
            return "exception";
        }
        switch (a->status) {
        case 429:
        case 500:
        case 502:
        case 503:
        case 504:
        case 509:
            return "status";
        default:
            return "status and code"; /* a throttling code or a service rule, with its status */
        }
    }
    if (!standard_retryable(r, a)) {
        return NULL;
    }
    if (a->kind != SMRT_XFER_OK) {
        return "exception";
    }
    /* standard_retryable's order: status, transient code, then throttling. */
    if (a->status == 500 || a->status == 502 || a->status == 503 || a->status == 504) {
        return "transient status";
    }
    if (code_in(a->error_code, STANDARD_TRANSIENT_CODES)) {
        return "transient code";
    }
    if (smrt_retry_is_throttling(r, a)) {
        return code_in(a->error_code, STANDARD_THROTTLING) ? "throttling code" : "throttling status";
    }
    return service_rule(a, 0)->reason; /* standard_retryable's last rule */
}

smrt_retry_decision smrt_retry_on_failure(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a)
{
    smrt_retry_decision d = {0, 0.0, -1.0, 0, 0};
    if (r->mode == SMRT_RETRY_LEGACY) {
        /* retryhandler.py: MaxAttemptsDecorator around the checkers; no cap on the delay. */
        if (!legacy_retryable(a)) {
            return d;
        }
        if (a->attempt >= r->max_attempts) {
            d.max_attempts_reached = a->kind == SMRT_XFER_OK;
            return d;
        }
        d.retry = 1;
        d.backoff_cap = ldexp(1.0, a->attempt - 1);
        return d;
    }
    /* retries/standard.py: the max-attempts check comes first and flags any response. */
    if (a->attempt >= r->max_attempts) {
        d.max_attempts_reached = a->kind == SMRT_XFER_OK;
        return d;
    }
    if (!standard_retryable(r, a)) {
        return d;
    }
    int throttled = smrt_retry_is_throttling(r, a);
    int cost = throttled ? QUOTA_THROTTLING_COST : QUOTA_RETRY_COST;
    pthread_mutex_lock(&r->lock);
    int ok = r->quota >= cost;
    if (ok) {
        r->quota -= cost;
    }
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        d.quota_reached = a->kind == SMRT_XFER_OK;
        return d;
    }
    call->quota_held = cost;
    call->took_retry = 1;
    d.retry = 1;
    double cap = (throttled ? THROTTLING_BASE_SCALE : NON_THROTTLING_BASE_SCALE) * ldexp(1.0, a->attempt - 1);
    d.backoff_cap = cap < STANDARD_MAX_BACKOFF ? cap : STANDARD_MAX_BACKOFF;
    d.retry_after_s = a->kind == SMRT_XFER_OK ? a->retry_after_s : -1.0;
    return d;
}

double smrt_retry_delay(const smrt_retry_decision *d, double r)
{
    double t = r * d->backoff_cap;
    if (d->retry_after_s >= 0) {
        double ra = d->retry_after_s < t + RETRY_AFTER_MAX_ADDITIONAL ? d->retry_after_s : t + RETRY_AFTER_MAX_ADDITIONAL;
        return ra > t ? ra : t;
    }
    return t;
}

int smrt_retry_on_success(smrt_retry *r, smrt_retry_call *call, const smrt_attempt *a)
{
    if (r->mode == SMRT_RETRY_LEGACY) {
        return 0;
    }
    if (a->status >= 200 && a->status < 300) {
        int amount = call->took_retry ? call->quota_held : QUOTA_NO_RETRY_INCREMENT;
        pthread_mutex_lock(&r->lock);
        r->quota += amount;
        if (r->quota > QUOTA_INITIAL) {
            r->quota = QUOTA_INITIAL;
        }
        pthread_mutex_unlock(&r->lock);
    }
    return a->attempt >= r->max_attempts;
}

static void bucket_refill(smrt_retry *r, double now)
{
    if (!r->have_last_refill) {
        r->have_last_refill = 1;
        r->last_refill = now;
        return;
    }
    double cap = r->capacity + (now - r->last_refill) * r->fill_rate;
    r->capacity = cap < r->max_capacity ? cap : r->max_capacity;
    r->last_refill = now;
}

static void bucket_set_max_rate(smrt_retry *r, double value, double now)
{
    bucket_refill(r, now);
    r->fill_rate = value > MIN_FILL_RATE ? value : MIN_FILL_RATE;
    r->max_capacity = value >= 1.0 ? value : 1.0;
    if (r->capacity > r->max_capacity) {
        r->capacity = r->max_capacity;
    }
}

double smrt_retry_send_delay(smrt_retry *r, double now_s)
{
    if (r->mode != SMRT_RETRY_ADAPTIVE) {
        return 0.0;
    }
    double wait = 0.0;
    pthread_mutex_lock(&r->lock);
    if (r->limiter_enabled) {
        bucket_refill(r, now_s);
        /* Take the token now, even into debt: concurrent senders queue up behind each other
         * instead of all waking when one token arrives (botocore waits on a condition). */
        r->capacity -= 1.0;
        if (r->capacity < 0) {
            wait = -r->capacity / r->fill_rate;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return wait;
}

void smrt_retry_record_response(smrt_retry *r, int throttled, double now_s)
{
    if (r->mode != SMRT_RETRY_ADAPTIVE) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    /* RateClocker.record */
    double bucket = floor(now_s * CLOCK_BUCKET_SCALE) / CLOCK_BUCKET_SCALE;
    r->count += 1;
    if (bucket > r->last_bucket) {
        double current = (double)r->count / (bucket - r->last_bucket);
        r->measured_rate = current * CLOCK_SMOOTHING + r->measured_rate * (1 - CLOCK_SMOOTHING);
        r->count = 0;
        r->last_bucket = bucket;
    }
    double measured = r->measured_rate;
    double new_rate;
    if (!throttled) {
        /* CubicCalculator.success_received */
        double dt = now_s - r->last_fail - r->k;
        new_rate = CUBIC_SCALE * dt * dt * dt + r->w_max;
    } else {
        double rate = measured;
        if (r->limiter_enabled && r->fill_rate < rate) {
            rate = r->fill_rate;
        }
        /* CubicCalculator.error_received */
        r->w_max = rate;
        r->k = cbrt(r->w_max * (1 - CUBIC_BETA) / CUBIC_SCALE);
        r->last_fail = now_s;
        new_rate = rate * CUBIC_BETA;
        r->limiter_enabled = 1;
    }
    double cap = MAX_RATE_ADJUST_SCALE * measured;
    bucket_set_max_rate(r, new_rate < cap ? new_rate : cap, now_s);
    pthread_mutex_unlock(&r->lock);
}

void smrt_retry_sdk_request(const smrt_retry *r, int attempt, const char *ttl, char *out, size_t n)
{
    if (attempt <= 1 && r->mode == SMRT_RETRY_LEGACY) {
        snprintf(out, n, "attempt=1");
    } else if (ttl && *ttl) {
        snprintf(out, n, "ttl=%s; attempt=%d; max=%d", ttl, attempt, r->max_attempts);
    } else {
        snprintf(out, n, "attempt=%d; max=%d", attempt, r->max_attempts);
    }
}
