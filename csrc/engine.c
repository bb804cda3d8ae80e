/* The call engine (see engine.h). */
#define _GNU_SOURCE
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "headers.h"

/* ---- credentials ---------------------------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

smrt_creds *smrt_creds_new(const char *access_key, size_t access_key_len, const char *secret_key,
                           size_t secret_key_len, const char *token, size_t token_len)
{
    smrt_creds *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->access_key_len = access_key_len;
    c->secret_key_len = secret_key_len;
    c->token_len = token ? token_len : 0;
    if (!(c->access_key = dup_n(access_key, access_key_len)) || !(c->secret_key = dup_n(secret_key, secret_key_len)) ||
        (token && !(c->token = dup_n(token, token_len)))) {
        smrt_creds_release(c);
        return NULL;
    }
    return c;
}

void smrt_creds_release(smrt_creds *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) {
        return;
    }
    if (c->secret_key) {
        explicit_bzero(c->secret_key, c->secret_key_len);
    }
    free(c->access_key);
    free(c->secret_key);
    free(c->token);
    free(c);
}

/* ---- the engine ------------------------------------------------------------------------------- */

int smrt_engine_init(smrt_engine *e)
{
    memset(e, 0, sizeof(*e));
    if (pthread_mutex_init(&e->creds_lock, NULL) != 0) {
        return SMRT_ENOMEM;
    }
    e->creds_lock_ready = 1;
    return SMRT_OK;
}

void smrt_engine_clear_settings(smrt_engine *e)
{
    smrt_pool_destroy(e->pool);
    e->pool = NULL;
    smrt_retry_destroy(e->retry);
    e->retry = NULL;
    char **strings[] = {&e->url_prefix,  &e->base_path, &e->url_query, &e->host,    &e->wire_prefix,
                        &e->wire_query,  &e->wire_host, &e->region,    &e->service, &e->user_agent};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    e->url_prefix_len = e->base_path_len = e->url_query_len = e->host_len = 0;
    e->wire_prefix_len = e->wire_query_len = e->wire_host_len = e->user_agent_len = 0;
}

void smrt_engine_destroy(smrt_engine *e)
{
    smrt_engine_clear_settings(e);
    smrt_creds_release(e->creds);
    e->creds = NULL;
    if (e->creds_lock_ready) {
        pthread_mutex_destroy(&e->creds_lock);
        e->creds_lock_ready = 0;
    }
}

void smrt_engine_set_creds(smrt_engine *e, smrt_creds *c)
{
    pthread_mutex_lock(&e->creds_lock);
    smrt_creds *old = e->creds;
    if (c) {
        c->gen = ++e->creds_gen;
    }
    e->creds = c;
    pthread_mutex_unlock(&e->creds_lock);
    smrt_creds_release(old);
}

smrt_creds *smrt_engine_creds(smrt_engine *e)
{
    pthread_mutex_lock(&e->creds_lock);
    smrt_creds *c = e->creds;
    if (c) {
        atomic_fetch_add(&c->refs, 1);
    }
    pthread_mutex_unlock(&e->creds_lock);
    return c;
}

double smrt_engine_clock(const smrt_engine *e)
{
    return (double)smrt_monotonic_ns() / 1e9 + e->clock_offset;
}

static double realtime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- building one attempt --------------------------------------------------------------------- */

/* Each member index j set in `mask`, in increasing order (the model's). */
#define FOR_EACH_MEMBER(j, mask)                                                                                       \
    for (unsigned m_ = (mask), j; m_ && (j = (unsigned)__builtin_ctz(m_), 1); m_ &= m_ - 1)

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        int rc_ = (expr);                                                                                              \
        if (rc_ != SMRT_OK) {                                                                                          \
            c->error = rc_;                                                                                            \
            return SMRT_XFER_NOMEM;                                                                                    \
        }                                                                                                              \
    } while (0)

static void format_uuid4(smrt_conn *conn, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    uint64_t r0 = smrt_conn_random(conn), r1 = smrt_conn_random(conn);
    memcpy(b, &r0, 8);
    memcpy(b + 8, &r1, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 15];
    }
    out[k] = '\0';
}

/* Is `name` among the headers? */
static int has_header(const smrt_header *hs, size_t n, const char *name, size_t name_len)
{
    for (size_t i = 0; i < n; i++) {
        if (hs[i].name_len == name_len && strncasecmp(hs[i].name, name, name_len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Sign (unless the request goes unsigned) and send c->conn's request: `url` the whole URL,
 * `sign_path`/`sign_query` what botocore signs, `hs` the request's own headers (an operation's
 * header members in model order, or a raw request's), the rest in the order boto3 sends them.
 * A bare "Name:" stops libcurl adding its own default (Accept: *\/\*, a form Content-Type,
 * Expect: 100-continue). */
static smrt_xfer_kind sign_and_send(smrt_call *c, const char *method, const smrt_buf *url, const char *sign_path,
                                    size_t sign_path_len, const char *sign_query, size_t sign_query_len,
                                    const smrt_header *hs, size_t nhs, unsigned sign_flags, const void *body,
                                    size_t body_len)
{
    const smrt_engine *e = c->eng;
    smrt_conn *conn = c->conn;
    smrt_creds *cr = c->creds;
    char amz_date[SMRT_AMZ_DATE_LEN + 1];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    smrt_amz_date((long long)now.tv_sec, amz_date);
    smrt_signer *signer = smrt_conn_signer(conn);
    if (cr != NULL) {
        smrt_header sh[SMRT_MAX_MEMBERS + 1];
        size_t nsh = 0;
        sh[nsh++] = (smrt_header){"host", 4, e->host, e->host_len};
        for (size_t i = 0; i < nhs; i++) {
            sh[nsh++] = hs[i];
        }
        const smrt_sigv4_creds sc = {cr->access_key, cr->access_key_len, cr->secret_key, cr->secret_key_len,
                                     cr->token,      cr->token_len,      cr->gen};
        const smrt_sigv4_request rq = {
            .mode = SMRT_SIGV4_HEADERS,
            .flags = sign_flags,
            .method = method,
            .path = sign_path,
            .path_len = sign_path_len,
            .query = sign_query,
            .query_len = sign_query ? sign_query_len : 0,
            .headers = sh,
            .n_headers = nsh,
            .payload_hash = c->payload_hash,
            .creds = &sc,
            .region = e->region,
            .service = e->service,
            .amz_date = amz_date,
        };
        TRY(smrt_sigv4_sign(signer, &rq));
    }

    char sdk_request[64];
    smrt_retry_sdk_request(e->retry, c->attempt, c->ttl, sdk_request, sizeof(sdk_request));

    smrt_conn_headers_reset(conn);
    if (e->wire_host) {
        TRY(smrt_conn_header_add(conn, "Host", 4, e->wire_host, e->wire_host_len));
    } else {
        TRY(smrt_conn_header_add(conn, "Host", 4, e->host, e->host_len));
    }
    TRY(smrt_conn_header_add(conn, "Accept-Encoding", 15, "identity", 8));
    for (size_t i = 0; i < nhs; i++) {
        TRY(smrt_conn_header_add(conn, hs[i].name, hs[i].name_len, hs[i].value, hs[i].value_len));
    }
    if (!has_header(hs, nhs, "Content-Type", 12)) {
        TRY(smrt_conn_header_add(conn, "Content-Type", 12, NULL, 0));
    }
    if (!has_header(hs, nhs, "Accept", 6)) {
        TRY(smrt_conn_header_add(conn, "Accept", 6, NULL, 0));
    }
    TRY(smrt_conn_header_add(conn, "User-Agent", 10, e->user_agent, e->user_agent_len));
    if (cr != NULL) {
        TRY(smrt_conn_header_add(conn, "X-Amz-Date", 10, amz_date, SMRT_AMZ_DATE_LEN));
        if (signer->send_token) {
            TRY(smrt_conn_header_add(conn, "X-Amz-Security-Token", 20, cr->token, cr->token_len));
        }
        TRY(smrt_conn_header_add(conn, "Authorization", 13, signer->result.data, signer->result.len));
    }
    TRY(smrt_conn_header_add(conn, "amz-sdk-invocation-id", 21, c->invocation_id, 36));
    TRY(smrt_conn_header_add(conn, "amz-sdk-request", 15, sdk_request, strlen(sdk_request)));
    TRY(smrt_conn_header_add(conn, "Expect", 6, NULL, 0));
    return smrt_conn_send(conn, method, url->data, url->len, body, body_len, c->mode);
}

/* Build, sign and send one attempt on c->conn. */
static smrt_xfer_kind send_attempt(smrt_call *c)
{
    const smrt_engine *e = c->eng;
    const smrt_operation *op = c->op;
    const smrt_call_input *in = c->in;
    smrt_conn *conn = c->conn;
    smrt_buf *path = smrt_conn_scratch(conn, 0);

    /* URL path: the endpoint's base path + the request URI, its label percent-encoded as
     * botocore does (nothing but unreserved characters kept). */
    const char *label = in->str[op->uri_label];
    size_t label_len = in->len[op->uri_label];
    smrt_buf_clear(path);
    const char *sign_path, *sign_query = e->url_query;
    size_t sign_path_len, sign_query_len = e->url_query_len;
    if (e->wire_prefix == NULL) {
        TRY(smrt_buf_append(path, e->url_prefix, e->url_prefix_len));
        size_t path_start = e->url_prefix_len - e->base_path_len;
        TRY(smrt_buf_append(path, op->uri_before, op->uri_before_len));
        TRY(smrt_uri_encode(path, label, label_len, 0));
        TRY(smrt_buf_append(path, op->uri_after, op->uri_after_len));
        sign_path = path->data + path_start;
        sign_path_len = path->len - path_start;
        if (e->url_query) {
            TRY(smrt_buf_append_char(path, '?'));
            TRY(smrt_buf_append(path, e->url_query, e->url_query_len));
        }
    } else {
        /* botocore signs its URL's path; urllib3 sends it percent-encoded. */
        smrt_buf *sp = smrt_conn_scratch(conn, 1);
        smrt_buf_clear(sp);
        TRY(smrt_buf_append(sp, e->base_path, e->base_path_len));
        TRY(smrt_buf_append(sp, op->uri_before, op->uri_before_len));
        size_t label_start = sp->len;
        TRY(smrt_uri_encode(sp, label, label_len, 0));
        size_t label_end = sp->len;
        TRY(smrt_buf_append(sp, op->uri_after, op->uri_after_len));
        TRY(smrt_buf_append(path, e->wire_prefix, e->wire_prefix_len));
        TRY(smrt_buf_append(path, op->uri_before, op->uri_before_len));
        for (size_t i = label_start; i < label_end; i++) {
            TRY(smrt_buf_append_char(path, sp->data[i]));
            if (sp->data[i] == '%' && e->wire_label_escape) {
                TRY(smrt_buf_append(path, "25", 2));
            }
        }
        TRY(smrt_buf_append(path, op->uri_after, op->uri_after_len));
        if (e->wire_query) {
            TRY(smrt_buf_append_char(path, '?'));
            TRY(smrt_buf_append(path, e->wire_query, e->wire_query_len));
        }
        sign_path = sp->data;
        sign_path_len = sp->len;
    }

    smrt_header hs[SMRT_MAX_MEMBERS];
    size_t nhs = 0;
    FOR_EACH_MEMBER(j, in->present & op->header_mask)
    {
        hs[nhs++] = (smrt_header){op->members[j].wire, op->members[j].wire_len, in->str[j], in->len[j]};
    }
    /* The URL is the start of `path` (prefix + path + query). */
    return sign_and_send(c, op->http_method, path, sign_path, sign_path_len, sign_query, sign_query_len, hs, nhs,
                         SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH | SMRT_SIGN_RAW_QUERY, in->body,
                         in->body_len);
}

/* Build, sign and send one attempt of a raw request on c->conn. */
static smrt_xfer_kind send_raw_attempt(smrt_call *c)
{
    const smrt_engine *e = c->eng;
    const smrt_raw_request *rq = c->raw;
    smrt_conn *conn = c->conn;
    if (rq->refuse != NULL) {
        /* Nothing leaves: what urllib3 refuses before sending (a botocore HTTPClientError). */
        smrt_response *r = smrt_conn_response(conn);
        snprintf(r->errbuf, sizeof(r->errbuf), "%s", rq->refuse);
        return SMRT_XFER_OTHER;
    }
    if (rq->n_headers > SMRT_MAX_MEMBERS) {
        c->error = SMRT_EINVAL;
        return SMRT_XFER_NOMEM;
    }
    /* The URL: the origin, then the request line's target. */
    smrt_buf *url = smrt_conn_scratch(conn, 0);
    smrt_buf_clear(url);
    TRY(smrt_buf_append(url, e->url_prefix, e->url_prefix_len));
    if (rq->target != NULL) {
        TRY(smrt_buf_append(url, rq->target, rq->target_len));
    } else {
        if (rq->path_len == 0) {
            TRY(smrt_buf_append_char(url, '/'));
        }
        TRY(smrt_buf_append(url, rq->path, rq->path_len));
        if (rq->query != NULL) {
            TRY(smrt_buf_append_char(url, '?'));
            TRY(smrt_buf_append(url, rq->query, rq->query_len));
        }
    }

    return sign_and_send(c, rq->method, url, rq->path, rq->path_len, rq->query, rq->query_len, rq->headers,
                         rq->n_headers, rq->sign_flags, rq->body, rq->body_len);
}

#undef TRY

/* ---- the state machine ---------------------------------------------------------------------- */

enum {
    ST_NEXT = 0,  /* send the next attempt (after the limiter's wait, in adaptive mode) */
    ST_SEND,      /* send now */
    ST_CLASSIFY,  /* waiting for smrt_call_classified */
    ST_DECIDE,    /* classified: decide */
    ST_BACKOFF,   /* the driver is sleeping before a retry */
    ST_XFER,      /* non-blocking: the attempt's transfer waits */
    ST_ERRBODY,   /* non-blocking: an error response's body is being read */
    ST_DONE,
};

void smrt_call_init(smrt_call *c, smrt_engine *e, const smrt_operation *op, const smrt_call_input *in,
                    smrt_creds *creds, smrt_read_mode mode)
{
    memset(c, 0, sizeof(*c));
    c->eng = e;
    c->op = op;
    c->in = in;
    c->creds = creds;
    c->mode = mode;
    c->state = ST_NEXT;
}

void smrt_call_init_raw(smrt_call *c, smrt_engine *e, const smrt_raw_request *rq, smrt_creds *creds,
                        smrt_read_mode mode)
{
    smrt_call_init(c, e, NULL, NULL, creds, mode);
    c->raw = rq;
}

double smrt_call_random(smrt_call *c)
{
    uint64_t bits;
    if (c->conn != NULL) {
        bits = smrt_conn_random(c->conn);
    } else {
        bits = (uint64_t)smrt_monotonic_ns() * 0x9E3779B97F4A7C15ULL;
    }
    return (double)(bits >> 11) * (1.0 / 9007199254740992.0);
}

static int is_modeled_error(const smrt_operation *op, const char *code)
{
    for (int i = 0; i < op->n_errors; i++) {
        if (strcmp(code, SMRT_ERRORS[op->errors[i]].code) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_raw_modeled_error(const smrt_raw_request *rq, const char *code)
{
    for (const char *const *m = rq->modeled_errors; m && *m; m++) {
        if (strcmp(code, *m) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The Date header of the response, as UNIX seconds. */
static int response_date(const smrt_response *r, double *out)
{
    smrt_header_iter it;
    smrt_header_line h;
    smrt_header_iter_init(&it, r->head.data, r->head.len);
    while (smrt_header_next(&it, &h)) {
        if (h.name_len == 4 && strncasecmp(h.name, "date", 4) == 0) {
            return smrt_parse_http_date(h.value, h.value_len, out);
        }
    }
    return -1;
}

/* An attempt failed (transport error, or an HTTP error classified): ask the retry policy. */
static smrt_step decide(smrt_call *c)
{
    smrt_engine *e = c->eng;
    smrt_retry_record_response(e->retry, smrt_retry_is_throttling(e->retry, &c->at), smrt_engine_clock(e));
    smrt_retry_decision d = {0, 0.0, -1.0, 0, 0};
    if (!(c->kind == SMRT_XFER_READ_TIMEOUT && !e->retry_read_timeouts)) {
        d = smrt_retry_on_failure(e->retry, &c->rcall, &c->at);
    }
    c->decision = d;
    if (!d.retry) {
        c->state = ST_DONE;
        return SMRT_STEP_FAILED;
    }
    c->delay = smrt_retry_delay(&d, smrt_call_random(c));
    c->retrying = 1;
    c->have_date = c->kind == SMRT_XFER_OK && c->conn && response_date(smrt_conn_response(c->conn), &c->date) == 0;
    c->state = ST_BACKOFF;
    return SMRT_STEP_WAIT;
}

void smrt_call_set_jitter(smrt_call *c, double r)
{
    if (c->state == ST_BACKOFF) {
        c->delay = smrt_retry_delay(&c->decision, r);
    }
}

void smrt_call_classified(smrt_call *c, const char *code, double retry_after_s)
{
    if (c->state != ST_CLASSIFY) {
        return;
    }
    c->at.error_code = code;
    c->at.modeled = code != NULL && (c->raw ? is_raw_modeled_error(c->raw, code) : is_modeled_error(c->op, code));
    c->at.retry_after_s = retry_after_s;
    c->state = ST_DECIDE;
}

/* A response below 300 ends the call. */
static smrt_step success(smrt_call *c)
{
    smrt_engine *e = c->eng;
    c->max_reached = smrt_retry_on_success(e->retry, &c->rcall, &c->at);
    smrt_retry_record_response(e->retry, 0, smrt_engine_clock(e));
    c->state = ST_DONE;
    return SMRT_STEP_RESPONSE;
}

static smrt_step sent(smrt_call *c, smrt_xfer_kind kind);
static smrt_step received(smrt_call *c, smrt_xfer_kind kind);

/* Send an attempt and sort out what came back. */
static smrt_step attempt(smrt_call *c)
{
    smrt_engine *e = c->eng;
    c->retrying = 0;
    c->body_broke = 0;
    if (c->conn == NULL && (c->conn = smrt_pool_borrow(e->pool)) == NULL) {
        c->error = smrt_dyn_error() ? SMRT_ELOAD : SMRT_ENOMEM;
        c->state = ST_DONE;
        return SMRT_STEP_ABORTED;
    }
    smrt_conn *conn = c->conn;
    if (!c->prepared) {
        /* Hash the body once, in place (6 MiB takes milliseconds). */
        const void *body = c->raw ? c->raw->body : c->in->body;
        size_t body_len = c->raw ? c->raw->body_len : c->in->body_len;
        c->error = smrt_sha256_hex(&smrt_conn_signer(conn)->crypto, body, body_len, c->payload_hash);
        if (c->error != SMRT_OK) {
            c->state = ST_DONE;
            return SMRT_STEP_ABORTED;
        }
        format_uuid4(conn, c->invocation_id);
        c->prepared = 1;
    }
    smrt_conn_set_nonblocking(conn, c->nonblocking);
    smrt_conn_set_interrupt(conn, c->interrupt, c->interrupt_ud);
    smrt_xfer_kind kind = c->raw ? send_raw_attempt(c) : send_attempt(c);
    return sent(c, kind);
}

/* The attempt's request went (or its transfer went on: `kind`): read an error body whole,
 * then sort out what came back. */
static smrt_step sent(smrt_call *c, smrt_xfer_kind kind)
{
    smrt_conn *conn = c->conn;
    if (kind == SMRT_XFER_AGAIN) {
        c->state = ST_XFER;
        return SMRT_STEP_IO;
    }
    smrt_response *r = smrt_conn_response(conn);
    if (kind == SMRT_XFER_OK && r->status >= 300 && !r->complete) {
        /* an error body is parsed whole */
        kind = c->nonblocking ? smrt_conn_read_nb(conn, SIZE_MAX) : smrt_conn_read(conn, SIZE_MAX);
        if (kind == SMRT_XFER_AGAIN) {
            c->state = ST_ERRBODY;
            return SMRT_STEP_IO;
        }
    }
    return received(c, kind);
}

/* What the attempt's transfer ended with (`kind`, the response in the connection). */
static smrt_step received(smrt_call *c, smrt_xfer_kind kind)
{
    smrt_conn *conn = c->conn;
    smrt_response *r = smrt_conn_response(conn);
    smrt_conn_set_interrupt(conn, NULL, NULL);
    c->kind = kind;
    if (kind == SMRT_XFER_NOMEM) {
        c->error = c->error ? c->error : SMRT_ENOMEM;
        c->state = ST_DONE;
        return SMRT_STEP_ABORTED;
    }
    if (kind == SMRT_XFER_INTERRUPTED) {
        c->state = ST_DONE;
        return SMRT_STEP_ABORTED;
    }
    c->at = (smrt_attempt){.attempt = c->attempt, .kind = kind, .status = r->status, .retry_after_s = -1.0};
    if (c->raw) {
        c->at.rules = c->raw->rules;
    }

    if (kind != SMRT_XFER_OK && kind != SMRT_XFER_OTHER && r->headers_done && r->content_length >= 0 &&
        r->body_seen == (unsigned long long)r->content_length) {
        /* The whole response arrived, then the upload failed (the server answered early
         * and closed): the response stands, as it does for urllib3. Its body is whole: the
         * driver must not make it a live body over the closed connection, whose reads would
         * find nothing more and never an end (readline looped forever). */
        kind = c->kind = c->at.kind = SMRT_XFER_OK;
        r->complete = 1;
    }
    if (kind == SMRT_XFER_PARTIAL && r->headers_done && r->status >= 300 && r->content_length >= 0) {
        /* botocore 1.44 reads with enforce_content_length=False: an error body cut short by
         * a clean close is parsed from what arrived, and retried by the usual rules. */
        kind = c->kind = c->at.kind = SMRT_XFER_OK;
    }
    /* A raw request's whole_body, and an operation whose output is parsed whole (a JSON body:
     * botocore reads it inside its send, stream_output false), as the invoke operations'
     * streamed bodies are not. */
    int whole_body = c->raw ? c->raw->whole_body : c->op->response_body == SMRT_BODY_JSON;
    if (whole_body && r->headers_done) {
        /* Output read within the attempt: a body cut short by a clean close is taken as it
         * came; any other break is the attempt's transport error (below, retried), never a
         * response parsed from what arrived. */
        if (kind == SMRT_XFER_PARTIAL && r->content_length >= 0) {
            kind = c->kind = c->at.kind = SMRT_XFER_OK;
        }
    } else if ((kind == SMRT_XFER_PARTIAL || kind == SMRT_XFER_READ_TIMEOUT || kind == SMRT_XFER_CLOSED) &&
               r->headers_done) {
        /* The headers came, then the body broke or stalled: botocore has already handed the
         * response back by then (a StreamingBody), so nothing is retried; the break shows when
         * the body is read. An error body is read at once: its break is raised now. */
        c->body_broke = 1;
        if (r->status < 300) {
            return success(c);
        }
        c->state = ST_DONE;
        return SMRT_STEP_FAILED;
    }
    if (kind == SMRT_XFER_PARTIAL) {
        kind = c->kind = c->at.kind = SMRT_XFER_CLOSED;
    }
    if (kind == SMRT_XFER_OK && r->status < 300) {
        return success(c);
    }
    if (kind == SMRT_XFER_OK) {
        c->state = ST_CLASSIFY;
        return SMRT_STEP_CLASSIFY;
    }
    return decide(c);
}

smrt_step smrt_call_step(smrt_call *c)
{
    smrt_engine *e = c->eng;
    switch (c->state) {
    case ST_BACKOFF:
        if (c->have_date) {
            /* botocore's ttl, both clocks read after the backoff (endpoint.py _set_ttl):
             * now + read_timeout + (Date - now). */
            double received = realtime_now();
            double t = realtime_now() + e->read_timeout_s + (c->date - received);
            smrt_amz_date((long long)floor(t), c->ttl);
        }
        /* fall through */
    case ST_NEXT:
        c->attempt++;
        if (smrt_retry_get_mode(e->retry) == SMRT_RETRY_ADAPTIVE) {
            double wait = smrt_retry_send_delay(e->retry, smrt_engine_clock(e));
            if (wait > 0) {
                c->delay = wait;
                c->retrying = 0;
                c->state = ST_SEND;
                return SMRT_STEP_WAIT;
            }
        }
        return attempt(c);
    case ST_SEND:
        return attempt(c);
    case ST_XFER:
    case ST_ERRBODY: {
        smrt_conn *conn = c->conn;
        smrt_conn_set_interrupt(conn, c->interrupt, c->interrupt_ud);
        smrt_xfer_kind kind = smrt_conn_resume(conn);
        if (kind == SMRT_XFER_AGAIN) {
            return SMRT_STEP_IO;
        }
        return c->state == ST_XFER ? sent(c, kind) : received(c, kind);
    }
    case ST_DECIDE:
        return decide(c);
    case ST_CLASSIFY:
        /* Not classified: the driver had nothing to say; decide on the status alone. */
        return decide(c);
    default:
        c->error = SMRT_EINVAL;
        return SMRT_STEP_ABORTED;
    }
}

smrt_conn *smrt_call_conn(smrt_call *c)
{
    return c->conn;
}

smrt_conn *smrt_call_take_conn(smrt_call *c)
{
    smrt_conn *conn = c->conn;
    c->conn = NULL;
    return conn;
}

void smrt_call_finish(smrt_call *c)
{
    if (c->conn) {
        smrt_pool_return(c->eng->pool, c->conn);
        c->conn = NULL;
    }
    smrt_creds_release(c->creds);
    c->creds = NULL;
    c->state = ST_DONE;
}
