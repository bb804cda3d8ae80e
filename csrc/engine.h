/* The call engine: one state machine that runs every operation of the generated table
 * (operations.h), and raw requests built by the driver (smrt_raw_request), through signing,
 * the transport and botocore's retry policy.
 *
 *     build + sign + send --> response (< 300) ................................ RESPONSE
 *            ^           \--> HTTP error --> CLASSIFY (the driver names its code) --\
 *            |            \--> transport error -------------------------------------+--> decide
 *            |                                                                       |
 *            \----------------------- BACKOFF (the driver sleeps) <-- retry ---------+
 *                                                                      give up --> FAILED
 *
 * No Python.h; no function here needs the GIL or sets a Python exception. A driver (the sync
 * client's binding, later the batch runner and the asyncio client) owns the waits: it sleeps
 * for BACKOFF and WAIT however suits it (a blocking sleep, an event-loop timer), parses error
 * bodies into its exceptions, and turns the response into its result. The retry policy stays
 * the pure functions of retry.h (docs/retries.md).
 *
 * A smrt_engine is shared by every thread calling through one client (fixed after set-up, but
 * for its credentials, which are swapped under a lock). A smrt_call belongs to one driver. */
#ifndef SMRT_ENGINE_H
#define SMRT_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http.h"
#include "operations.h"
#include "retry.h"
#include "sigv4.h"

/* Signing credentials: immutable once made, shared by reference so that a refresh never tears
 * a call's view. */
typedef struct smrt_creds {
    char *access_key;
    size_t access_key_len;
    char *secret_key;
    size_t secret_key_len;
    char *token; /* NULL without a session token */
    size_t token_len;
    uint64_t gen; /* set by smrt_engine_set_creds: keys the signing-key cache */
    atomic_int refs;
} smrt_creds;

/* New credentials with one reference (copies of the strings; `token` may be NULL), or NULL
 * when out of memory. */
smrt_creds *smrt_creds_new(const char *access_key, size_t access_key_len, const char *secret_key,
                           size_t secret_key_len, const char *token, size_t token_len);
/* Drop a reference; the last one wipes the secret and frees. Safe on NULL. */
void smrt_creds_release(smrt_creds *c);

typedef struct smrt_engine {
    smrt_pool *pool;
    smrt_retry *retry;
    /* Where requests go (the resolved endpoint URL). All strings are owned (malloc'd). */
    char *url_prefix; /* scheme://netloc + the endpoint URL's path, without a trailing '/' */
    size_t url_prefix_len;
    char *base_path; /* that path alone (for the canonical request) */
    size_t base_path_len;
    char *url_query; /* the endpoint URL's query, or NULL */
    size_t url_query_len;
    char *host; /* the Host header, exactly as signed */
    size_t host_len;
    /* What urllib3 sends when it differs from what botocore signs (an endpoint URL with
     * characters a request target can't carry, user info, no scheme ...): NULL otherwise. */
    char *wire_prefix; /* scheme://host[:port] + the encoded base path */
    size_t wire_prefix_len;
    char *wire_query; /* the encoded query (with wire_prefix), or NULL */
    size_t wire_query_len;
    char *wire_host; /* the Host header sent, or NULL: `host` */
    size_t wire_host_len;
    int wire_label_escape; /* send each '%' of the encoded label as %25 */
    char *region;
    char *service;
    char *user_agent;
    size_t user_agent_len;
    double read_timeout_s;
    int retry_read_timeouts;
    int unsigned_requests; /* signature_version=UNSIGNED: no credentials, no signature */
    /* Seconds a driver's test hook "slept" instead of sleeping: the limiter's clock counts
     * them (written by the driver only, with its own serialisation). */
    double clock_offset;
    pthread_mutex_t creds_lock;
    int creds_lock_ready;
    smrt_creds *creds;
    uint64_t creds_gen;
} smrt_engine;

/* Zero `e` and make its lock. SMRT_OK or SMRT_ENOMEM; on failure `e` still goes to
 * smrt_engine_destroy. */
int smrt_engine_init(smrt_engine *e);
/* Free what `e` owns (pool, retry state, strings, credentials). Safe on a zeroed or
 * half-built engine; idempotent. Calls still running on it must be over. */
void smrt_engine_destroy(smrt_engine *e);
/* Free the settings (pool, retry state, strings) but keep the lock and credentials: a failed
 * set-up can be tried again. */
void smrt_engine_clear_settings(smrt_engine *e);
/* Install `c` (its reference moves into the engine; NULL: none). */
void smrt_engine_set_creds(smrt_engine *e, smrt_creds *c);
/* A new reference to the current credentials, or NULL. */
smrt_creds *smrt_engine_creds(smrt_engine *e);
/* The adaptive limiter's clock: monotonic seconds plus clock_offset. */
double smrt_engine_clock(const smrt_engine *e);

/* The most members an operation has (the masks are 32-bit). */
#define SMRT_MAX_MEMBERS 32

/* One call's arguments in wire form, borrowed for the life of the call: the URI label and
 * header members as the strings that go on the wire (numbers already formatted), the payload
 * member's bytes. Bit j of `present` says members[j] was given. */
typedef struct smrt_call_input {
    unsigned present;
    const char *str[SMRT_MAX_MEMBERS];
    size_t len[SMRT_MAX_MEMBERS];
    const void *body;
    size_t body_len;
} smrt_call_input;

/* A raw request: an operation that is not in the generated table (the credential chain's STS,
 * SSO and SSO OIDC calls), built by the driver, then run through the same states, signing,
 * transport and retry policy as the generated operations. Its engine's `url_prefix` is the
 * endpoint's origin alone (scheme://host[:port]; `base_path` and `url_query` empty, no
 * `wire_prefix`): the request's path and query are whole. Everything is borrowed for the
 * life of the call. */
typedef struct smrt_raw_request {
    const char *method;     /* NUL-terminated */
    const char *path;       /* the URL's path as botocore builds and signs it ("" is "/") */
    size_t path_len;
    const char *query;      /* its query (signed as sign_flags say), or NULL */
    size_t query_len;
    const char *target;     /* what goes on the request line when it differs from path?query */
    size_t target_len;      /* (urllib3's percent-encoding), or NULL */
    const smrt_header *headers; /* sent after Host and Accept-Encoding, in this order; signed */
    size_t n_headers;
    const void *body;
    size_t body_len;
    int sign_flags;         /* SMRT_SIGN_* (for a call with credentials) */
    const char *const *modeled_errors; /* the operation's modeled error codes, NULL-terminated */
    const smrt_retry_rule *rules;      /* the service's own retry rules (retry.h), or NULL */
    /* Output read within the attempt, as botocore reads a non-streaming operation's body
     * inside its send: a body that breaks (reset, stall) fails the attempt as a transport
     * error, retried by the usual rules; one cut short by a clean close is taken as it came
     * (botocore 1.44's enforce_content_length=False). Otherwise a streaming output: a break
     * after the head is never retried (the invoke operations). */
    int whole_body;
    /* Non-NULL: the request cannot be sent (a header value http.client refuses, a URL urllib3
     * cannot parse): every attempt fails before sending as SMRT_XFER_OTHER (botocore's
     * HTTPClientError, retried as such), with this reason in the response's errbuf. */
    const char *refuse;
} smrt_raw_request;

typedef enum smrt_step {
    /* A response below 300: smrt_call_response() holds its head and the body bytes read so far;
     * its body is complete unless the call was made with SMRT_READ_HEAD (then the driver may
     * take the connection, smrt_call_take_conn, and read the rest). */
    SMRT_STEP_RESPONSE,
    /* An HTTP error response, whole: the driver parses it and calls smrt_call_classified. */
    SMRT_STEP_CLASSIFY,
    /* Wait `delay` seconds, then smrt_call_step again: a retry's backoff (`retrying` set) or
     * the adaptive limiter's wait before a send. */
    SMRT_STEP_WAIT,
    /* Give up. `kind` SMRT_XFER_OK: the HTTP error classified last (the driver raises what it
     * parsed, with `decision`'s flags); otherwise the transport error `kind`. With
     * `body_broke` set, a response's headers came and its error body broke: `kind` says how. */
    SMRT_STEP_FAILED,
    /* Stopped: `error` (an SMRT_E* status: no memory, signing failed, no connection could be
     * made) or `kind` SMRT_XFER_INTERRUPTED (the interrupt callback said stop). */
    SMRT_STEP_ABORTED,
    /* A non-blocking call (`nonblocking` set) waits on its transfer: wait for what
     * smrt_conn_waits(smrt_call_conn(c), ...) names, say what happened (smrt_conn_ready), and
     * smrt_call_step again. */
    SMRT_STEP_IO,
} smrt_step;

typedef struct smrt_call {
    /* Set by smrt_call_init. */
    smrt_engine *eng;
    const smrt_operation *op;
    const smrt_call_input *in;
    smrt_creds *creds;     /* the call's reference; NULL for unsigned requests */
    smrt_read_mode mode;   /* how much of a success response a send waits for */
    const smrt_raw_request *raw; /* smrt_call_init_raw: the raw request (`op` and `in` NULL) */
    /* Set by the driver before each smrt_call_step: asked while the transfer waits. */
    smrt_interrupt_fn interrupt;
    void *interrupt_ud;
    /* Set by the driver before the first step: transfers never block (SMRT_STEP_IO instead);
     * the interrupt callback is then asked at each step, so must be cheap. */
    int nonblocking;
    /* Outcome of the last step. */
    int attempt;            /* 1-based, of the attempt last sent */
    smrt_xfer_kind kind;    /* its transport outcome */
    int error;              /* SMRT_ABORTED: the SMRT_E* status */
    int body_broke;         /* the headers came, then the body broke (SMRT_XFER_PARTIAL ...) */
    smrt_attempt at;        /* what the retry policy saw */
    smrt_retry_decision decision;
    double delay;           /* SMRT_STEP_WAIT */
    int retrying;           /* the wait is a retry's backoff */
    int max_reached;        /* RESPONSE: ResponseMetadata['MaxAttemptsReached'] */
    /* Private. */
    int state;
    smrt_retry_call rcall;
    smrt_conn *conn;
    int prepared;
    int have_date;
    double date;
    char ttl[SMRT_AMZ_DATE_LEN + 1];
    char payload_hash[SMRT_SHA256_HEX_LEN + 1];
    char invocation_id[37];
} smrt_call;

/* Start a call of `op` with `in` (borrowed until smrt_call_finish) and `creds` (a reference the
 * call takes over; NULL for unsigned requests). */
void smrt_call_init(smrt_call *c, smrt_engine *e, const smrt_operation *op, const smrt_call_input *in,
                    smrt_creds *creds, smrt_read_mode mode);
/* Start a call of the raw request `rq` (borrowed until smrt_call_finish); `creds` as above. */
void smrt_call_init_raw(smrt_call *c, smrt_engine *e, const smrt_raw_request *rq, smrt_creds *creds,
                        smrt_read_mode mode);
/* Run the call to the next point where its driver must act (see smrt_step). Blocks in the
 * transport (with the interrupt callback asked) unless `nonblocking`; never sleeps. */
smrt_step smrt_call_step(smrt_call *c);
/* After SMRT_STEP_CLASSIFY: the response's error code (NUL-terminated; NULL when it has none
 * that is a string) and x-amz-retry-after in seconds (< 0: none). The next smrt_call_step
 * decides whether to retry. */
void smrt_call_classified(smrt_call *c, const char *code, double retry_after_s);
/* After SMRT_STEP_WAIT for a retry: draw the backoff jitter from `r` in [0, 1) instead. */
void smrt_call_set_jitter(smrt_call *c, double r);
/* The connection of the last attempt (its response), or NULL. Owned by the call. */
smrt_conn *smrt_call_conn(smrt_call *c);
/* Take the connection of a RESPONSE: the caller reads the rest of the body and gives it back
 * with smrt_pool_return(e->pool, conn). */
smrt_conn *smrt_call_take_conn(smrt_call *c);
/* End the call: its connection goes back to the pool, its credentials reference is dropped.
 * Safe to call twice. */
void smrt_call_finish(smrt_call *c);

/* Random bits from the connection's generator, or a fixed source when none (backoff jitter
 * for drivers). */
double smrt_call_random(smrt_call *c);

#endif
