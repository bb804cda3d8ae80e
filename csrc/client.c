/* The Client type: invoke_endpoint's whole call path (parse, validate, sign, send, retry,
 * build the response) without a Python frame on success. The Python subclass
 * (sagemaker_rt_c._client.SageMakerRuntime) adds the rest of boto3's client surface. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "binding.h"
#include "headers.h"
#include "retry.h"

#include <structmember.h>

/* ---- credentials -------------------------------------------------------------------------- */

/* Immutable once published; shared by reference so a refresh never tears a call's view. */
typedef struct smrt_creds {
    char *access_key;
    size_t access_key_len;
    char *secret_key;
    size_t secret_key_len;
    char *token; /* NULL without a session token */
    size_t token_len;
    uint64_t gen;
    atomic_int refs;
} smrt_creds;

static void creds_release(smrt_creds *c)
{
    if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1) {
        return;
    }
    if (c->secret_key) {
        memset(c->secret_key, 0, c->secret_key_len);
    }
    free(c->access_key);
    free(c->secret_key);
    free(c->token);
    free(c);
}

/* ---- the object ----------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    /* Set once __init__ has completed (with the GIL held): the fields below it sets are then
     * fixed for the life of the client. A second __init__ is refused, and the methods that
     * need them refuse a client that was never initialised (made by __new__ alone, or whose
     * __init__ failed). */
    int ready;
    smrt_pool *pool;
    smrt_retry *retry;
    pthread_mutex_t creds_lock;
    int creds_lock_ready;
    smrt_creds *creds;
    uint64_t creds_gen;
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
    int wire_label_escape; /* send each '%' of the encoded EndpointName as %25 */
    int call_error;        /* no request can be sent: calls raise self._call_error(EndpointName) */
    char *region;
    char *service;
    char *user_agent;
    size_t user_agent_len;
    int retry_read_timeouts;
    int parameter_validation;
    int unsigned_requests; /* Config(signature_version=UNSIGNED): no credentials, no signature */
    double read_timeout_s;
    double clock_offset; /* seconds a test's _sleep hook "slept": the limiter's clock counts them */
    double refresh_at;   /* wall-clock time from which calls first run _refresh_credentials (0: never) */
    /* Presigning runs with the GIL held: one signer (crypto context, signing-key cache,
     * buffers) and one URL buffer suffice, used with the GIL held only. The signer is made
     * at the first presign (client_presign). */
    smrt_signer presigner;
    int presigner_ready;
    smrt_buf presign_url;
    PyObject *weakrefs;
} ClientObject;

/* getattr that treats a missing attribute as NULL without an exception (-1 on other errors). */
static int get_optional_attr(PyObject *obj, PyObject *name, PyObject **out)
{
    *out = PyObject_GetAttr(obj, name);
    if (*out == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
    }
    return 0;
}

/* 0 if `self` is initialised; -1 with RuntimeError if its __init__ never completed. */
static int check_ready(ClientObject *self)
{
    if (self->ready) {
        return 0;
    }
    PyErr_Format(PyExc_RuntimeError,
                 "this %.100s is not initialised: its __init__ was never called, or failed; make clients "
                 "with sagemaker_rt_c.client()",
                 Py_TYPE(self)->tp_name);
    return -1;
}

/* ---- parameters --------------------------------------------------------------------------- */

/* InvokeEndpoint as operations.h describes it (generated from botocore's model by
 * tools/gen_operations.py): its input members are the parameters, indexed by P(Member), in the
 * model's order, the order header parameters are written in. */
#define OP (&SMRT_OPERATIONS[SMRT_OP_InvokeEndpoint])
#define PARAMS SMRT_InvokeEndpoint_IN
#define P(member) SMRT_InvokeEndpoint_IN_##member
#define P_COUNT SMRT_InvokeEndpoint_IN_COUNT
/* Each member index j set in `mask`, in increasing order (the model's). */
#define FOR_EACH_MEMBER(j, mask)                                                                                       \
    for (unsigned m_ = (mask), j; m_ && (j = (unsigned)__builtin_ctz(m_), 1); m_ &= m_ - 1)

/* One call's arguments, converted. Pointers borrow from objects the call keeps alive. */
typedef struct call_args {
    unsigned present;          /* bit j: parameter j was given */
    PyObject *values[P_COUNT]; /* borrowed from the caller */
    const char *str[P_COUNT];  /* UTF-8 of str parameters */
    Py_ssize_t len[P_COUNT];
    const char *body;
    Py_ssize_t body_len;
    PyObject *body_owner; /* new reference keeping `body` alive */
    Py_buffer view;       /* when the body came through the buffer protocol */
    int have_view;
} call_args;

static void call_args_release(call_args *a)
{
    if (a->have_view) {
        PyBuffer_Release(&a->view);
        a->have_view = 0;
    }
    Py_CLEAR(a->body_owner);
}

/* The slow path: let the Python validator (botocore's messages) explain what is wrong.
 * Always returns -1 with an exception set. */
static int validation_failed(ClientObject *self, PyObject *const *args, PyObject *kwnames, const char *detail)
{
    PyObject *params = PyDict_New();
    if (params == NULL) {
        return -1;
    }
    Py_ssize_t n = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyDict_SetItem(params, PyTuple_GET_ITEM(kwnames, i), args[i]) < 0) {
            Py_DECREF(params);
            return -1;
        }
    }
    smrt_raise_from_hook(self->st, "_validation_failed",
                         Py_BuildValue("(ONsi)", self->st->s_InvokeEndpoint, params, detail,
                                       self->parameter_validation));
    return -1;
}

/* Header values: printable ASCII only. CR/LF would split the request, NUL truncates it,
 * and non-ASCII is mangled on the wire by boto3; we refuse all of them. */
static int header_value_ok(const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static int parse_args(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      call_args *a)
{
    smrt_state *st = self->st;
    if (nargs > 0) {
        PyErr_SetString(PyExc_TypeError, "invoke_endpoint() only accepts keyword arguments.");
        return -1;
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int found = -1;
        for (int j = 0; j < P_COUNT; j++) {
            if (name == st->invoke_params[j]) {
                found = j;
                break;
            }
        }
        if (found < 0) {
            /* Not the interned object: compare by value (e.g. a **kwargs dict built at run time). */
            for (int j = 0; j < P_COUNT; j++) {
                int eq = PyUnicode_Compare(name, st->invoke_params[j]);
                if (eq == -1 && PyErr_Occurred()) {
                    return -1;
                }
                if (eq == 0) {
                    found = j;
                    break;
                }
            }
        }
        if (found < 0) {
            return validation_failed(self, args, kwnames, "unknown parameter");
        }
        a->values[found] = args[i];
        a->present |= 1u << found;
    }
    if ((a->present & OP->required_mask) != OP->required_mask) {
        return validation_failed(self, args, kwnames, "missing required parameter");
    }
    /* Every member but the payload is a string: a URI label or a header
     * (tests/test_operations_gen.py checks that the model says so). */
    FOR_EACH_MEMBER(j, a->present & ~(1u << OP->payload))
    {
        PyObject *v = a->values[j];
        if (!PyUnicode_Check(v)) {
            return validation_failed(self, args, kwnames, "invalid type");
        }
        a->str[j] = PyUnicode_AsUTF8AndSize(v, &a->len[j]);
        if (a->str[j] == NULL) {
            /* e.g. lone surrogates: not encodable */
            PyErr_Clear();
            return validation_failed(self, args, kwnames, "value cannot be encoded as UTF-8");
        }
        if (!(OP->header_mask >> j & 1)) {
            continue;
        }
        if (!header_value_ok(a->str[j], a->len[j])) {
            return validation_failed(self, args, kwnames, "invalid header value");
        }
        /* Printable ASCII: its UTF-8 length is botocore's len(). */
        if (self->parameter_validation && PARAMS[j].has_min && a->len[j] < PARAMS[j].min) {
            return validation_failed(self, args, kwnames, "invalid length");
        }
    }
    /* Body: bytes, bytearray, str and file-like objects as botocore; any contiguous buffer
     * beyond it. Bytes-like bodies are sent in place, never copied. */
    PyObject *body = a->values[OP->payload];
    if (PyBytes_Check(body)) {
        a->body = PyBytes_AS_STRING(body);
        a->body_len = PyBytes_GET_SIZE(body);
        Py_INCREF(body);
        a->body_owner = body;
        return 0;
    }
    if (PyUnicode_Check(body)) {
        a->body = PyUnicode_AsUTF8AndSize(body, &a->body_len);
        if (a->body == NULL) {
            PyErr_Clear();
            return validation_failed(self, args, kwnames, "Body cannot be encoded as UTF-8");
        }
        Py_INCREF(body);
        a->body_owner = body;
        return 0;
    }
    if (!PyByteArray_Check(body) && !PyMemoryView_Check(body)) {
        PyObject *read = NULL;
        if (get_optional_attr(body, st->s_read, &read) < 0) {
            return -1;
        }
        if (read != NULL) {
            /* A file-like object: read it from its current position, once; retries resend
             * the same bytes. */
            PyObject *data = PyObject_CallNoArgs(read);
            Py_DECREF(read);
            if (data == NULL) {
                return -1;
            }
            if (PyUnicode_Check(data)) {
                a->body = PyUnicode_AsUTF8AndSize(data, &a->body_len);
                if (a->body == NULL) {
                    Py_DECREF(data);
                    return -1;
                }
                a->body_owner = data;
                return 0;
            }
            if (PyBytes_Check(data)) {
                a->body = PyBytes_AS_STRING(data);
                a->body_len = PyBytes_GET_SIZE(data);
                a->body_owner = data;
                return 0;
            }
            body = data; /* a bytearray or other buffer from read(): below */
            a->body_owner = data;
        }
    }
    if (PyObject_CheckBuffer(body)) {
        if (PyObject_GetBuffer(body, &a->view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            if (a->body_owner) {
                PyErr_Format(PyExc_TypeError,
                             "the read() method of parameter Body returned %.100s, not bytes or str",
                             Py_TYPE(body)->tp_name);
                return -1;
            }
            return validation_failed(self, args, kwnames, "Body buffer is not C-contiguous");
        }
        a->have_view = 1;
        a->body = a->view.buf;
        a->body_len = a->view.len;
        return 0;
    }
    if (a->body_owner) {
        PyErr_Format(PyExc_TypeError, "the read() method of parameter Body returned %.100s, not bytes or str",
                     Py_TYPE(body)->tp_name);
        return -1;
    }
    return validation_failed(self, args, kwnames, "invalid type for Body");
}

/* ---- one attempt, without the GIL ---------------------------------------------------------- */

typedef struct attempt_ctx {
    ClientObject *self;
    call_args *a;
    smrt_creds *creds;
    char payload_hash[SMRT_SHA256_HEX_LEN + 1];
    char invocation_id[37];
    int status; /* SMRT_OK, or why the request could not be built */
    PyThreadState *ts; /* this thread's state while the GIL is released */
} attempt_ctx;

/* The transport's interrupt callback (http.h): runs Python's signal handlers, as a blocking
 * call in the interpreter does, so that Ctrl-C (KeyboardInterrupt) or any exception a handler
 * raises stops the wait; the exception stays set for the caller. */
static int ask_signals(void *ud)
{
    attempt_ctx *ctx = ud;
    PyEval_RestoreThread(ctx->ts);
    int stop = PyErr_CheckSignals() < 0;
    ctx->ts = PyEval_SaveThread();
    return stop;
}

/* Only the main thread runs signal handlers: other threads' waits need not take the GIL to
 * ask. Call with the GIL held. */
static int handles_signals(void)
{
#if PY_VERSION_HEX < 0x030D0000
    return _PyOS_IsMainThread();
#else
    return 1; /* no public test; PyErr_CheckSignals does nothing in other threads */
#endif
}

static void format_uuid4(smrt_conn *c, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    uint64_t r0 = smrt_conn_random(c), r1 = smrt_conn_random(c);
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

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        int rc_ = (expr);                                                                                              \
        if (rc_ != SMRT_OK) {                                                                                          \
            ctx->status = rc_;                                                                                         \
            return SMRT_XFER_NOMEM;                                                                                    \
        }                                                                                                              \
    } while (0)

/* Build, sign and send one attempt on `conn`. Runs without the GIL: touches only C data. */
static smrt_xfer_kind run_attempt(attempt_ctx *ctx, smrt_conn *conn, smrt_retry *retry, int attempt,
                                  const char *ttl)
{
    ClientObject *self = ctx->self;
    call_args *a = ctx->a;
    smrt_creds *cr = ctx->creds;
    smrt_buf *path = &conn->scratch;

    /* URL path: the endpoint's base path + the request URI (/endpoints/{EndpointName}/invocations),
     * with the label percent-encoded as botocore does (nothing but unreserved characters kept). */
    const char *label = a->str[OP->uri_label];
    size_t label_len = (size_t)a->len[OP->uri_label];
    smrt_buf_clear(path);
    const char *sign_path, *sign_query = self->url_query;
    size_t sign_path_len, sign_query_len = self->url_query_len;
    if (self->wire_prefix == NULL) {
        TRY(smrt_buf_append(path, self->url_prefix, self->url_prefix_len));
        size_t path_start = self->url_prefix_len - self->base_path_len;
        TRY(smrt_buf_append(path, OP->uri_before, OP->uri_before_len));
        TRY(smrt_uri_encode(path, label, label_len, 0));
        TRY(smrt_buf_append(path, OP->uri_after, OP->uri_after_len));
        sign_path = path->data + path_start;
        sign_path_len = path->len - path_start;
        if (self->url_query) {
            TRY(smrt_buf_append_char(path, '?'));
            TRY(smrt_buf_append(path, self->url_query, self->url_query_len));
        }
    } else {
        /* botocore signs its URL's path; urllib3 sends it percent-encoded. */
        smrt_buf *sp = &conn->sign_path;
        smrt_buf_clear(sp);
        TRY(smrt_buf_append(sp, self->base_path, self->base_path_len));
        TRY(smrt_buf_append(sp, OP->uri_before, OP->uri_before_len));
        size_t label_start = sp->len;
        TRY(smrt_uri_encode(sp, label, label_len, 0));
        size_t label_end = sp->len;
        TRY(smrt_buf_append(sp, OP->uri_after, OP->uri_after_len));
        TRY(smrt_buf_append(path, self->wire_prefix, self->wire_prefix_len));
        TRY(smrt_buf_append(path, OP->uri_before, OP->uri_before_len));
        for (size_t i = label_start; i < label_end; i++) {
            TRY(smrt_buf_append_char(path, sp->data[i]));
            if (sp->data[i] == '%' && self->wire_label_escape) {
                TRY(smrt_buf_append(path, "25", 2));
            }
        }
        TRY(smrt_buf_append(path, OP->uri_after, OP->uri_after_len));
        if (self->wire_query) {
            TRY(smrt_buf_append_char(path, '?'));
            TRY(smrt_buf_append(path, self->wire_query, self->wire_query_len));
        }
        sign_path = sp->data;
        sign_path_len = sp->len;
    }

    char amz_date[SMRT_AMZ_DATE_LEN + 1];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    smrt_amz_date((long long)now.tv_sec, amz_date);
    if (cr == NULL) {
        goto headers; /* unsigned requests (signature_version=UNSIGNED) */
    }

    smrt_header sh[P_COUNT + 1];
    size_t nsh = 0;
    sh[nsh++] = (smrt_header){"host", 4, self->host, self->host_len};
    FOR_EACH_MEMBER(j, a->present & OP->header_mask)
    {
        sh[nsh++] = (smrt_header){PARAMS[j].wire, PARAMS[j].wire_len, a->str[j], (size_t)a->len[j]};
    }
    const smrt_sigv4_creds sc = {cr->access_key, cr->access_key_len, cr->secret_key, cr->secret_key_len,
                                 cr->token,      cr->token_len,      cr->gen};
    const smrt_sigv4_request rq = {
        .mode = SMRT_SIGV4_HEADERS,
        .flags = SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH | SMRT_SIGN_RAW_QUERY,
        .method = OP->http_method,
        .path = sign_path,
        .path_len = sign_path_len,
        .query = sign_query,
        .query_len = sign_query_len,
        .headers = sh,
        .n_headers = nsh,
        .payload_hash = ctx->payload_hash,
        .creds = &sc,
        .region = self->region,
        .service = self->service,
        .amz_date = amz_date,
    };
    TRY(smrt_sigv4_sign(&conn->signer, &rq));

headers:;
    char sdk_request[64];
    smrt_retry_sdk_request(retry, attempt, ttl, sdk_request, sizeof(sdk_request));

    /* Headers in the order boto3 sends them. A bare "Name:" stops libcurl adding its own
     * default (Accept: *\/\*, a form Content-Type, Expect: 100-continue). */
    smrt_conn_headers_reset(conn);
    if (self->wire_host) {
        TRY(smrt_conn_header_add(conn, "Host", 4, self->wire_host, self->wire_host_len));
    } else {
        TRY(smrt_conn_header_add(conn, "Host", 4, self->host, self->host_len));
    }
    TRY(smrt_conn_header_add(conn, "Accept-Encoding", 15, "identity", 8));
    FOR_EACH_MEMBER(j, a->present & OP->header_mask)
    {
        TRY(smrt_conn_header_add(conn, PARAMS[j].wire, PARAMS[j].wire_len, a->str[j], (size_t)a->len[j]));
    }
    if (!a->str[P(ContentType)]) {
        TRY(smrt_conn_header_add(conn, "Content-Type", 12, NULL, 0));
    }
    if (!a->str[P(Accept)]) {
        TRY(smrt_conn_header_add(conn, "Accept", 6, NULL, 0));
    }
    TRY(smrt_conn_header_add(conn, "User-Agent", 10, self->user_agent, self->user_agent_len));
    if (cr != NULL) {
        TRY(smrt_conn_header_add(conn, "X-Amz-Date", 10, amz_date, SMRT_AMZ_DATE_LEN));
        if (conn->signer.send_token) {
            TRY(smrt_conn_header_add(conn, "X-Amz-Security-Token", 20, cr->token, cr->token_len));
        }
        TRY(smrt_conn_header_add(conn, "Authorization", 13, conn->signer.result.data, conn->signer.result.len));
    }
    TRY(smrt_conn_header_add(conn, "amz-sdk-invocation-id", 21, ctx->invocation_id, 36));
    TRY(smrt_conn_header_add(conn, "amz-sdk-request", 15, sdk_request, strlen(sdk_request)));
    TRY(smrt_conn_header_add(conn, "Expect", 6, NULL, 0));

    /* The URL is the start of `path` (prefix + path + query). */
    return smrt_conn_perform(conn, OP->http_method, path->data, path->len, a->body, (size_t)a->body_len);
}

#undef TRY

/* ---- responses ------------------------------------------------------------------------------ */

/* Response headers as botocore shows them: lower-case names, values as http.client parses
 * them (leading blanks dropped), repeated headers joined with ", ". Latin-1, as http.client. */
static PyObject *headers_dict(smrt_state *st, smrt_conn *conn)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    smrt_header_iter it;
    smrt_header_line h;
    PyObject *last_key = NULL; /* borrowed from d */
    PyObject *key, *val = NULL;
    char name_buf[256];
    smrt_header_iter_init(&it, conn->resp_headers.data, conn->resp_headers.len);
    while (smrt_header_next(&it, &h)) {
        if (h.continuation) {
            if (last_key == NULL) {
                continue;
            }
            /* An obsolete folded line: join it to the previous value with a space. */
            PyObject *prev = PyDict_GetItemWithError(d, last_key);
            PyObject *more = prev ? PyUnicode_DecodeLatin1(h.value, (Py_ssize_t)h.value_len, NULL) : NULL;
            val = more ? PyUnicode_FromFormat("%U %U", prev, more) : NULL;
            Py_XDECREF(more);
            if (val == NULL || PyDict_SetItem(d, last_key, val) < 0) {
                goto error_val;
            }
            Py_DECREF(val);
            continue;
        }
        if (h.name_len < sizeof(name_buf)) {
            for (size_t i = 0; i < h.name_len; i++) {
                char ch = h.name[i];
                name_buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
            key = NULL;
            for (int k = 0; k < SMRT_H_COUNT; k++) {
                PyObject *known = st->known_headers[k];
                if ((size_t)PyUnicode_GET_LENGTH(known) == h.name_len &&
                    memcmp(PyUnicode_DATA(known), name_buf, h.name_len) == 0) {
                    key = Py_NewRef(known);
                    break;
                }
            }
            if (key == NULL) {
                key = PyUnicode_DecodeLatin1(name_buf, (Py_ssize_t)h.name_len, NULL);
            }
        } else {
            PyObject *raw = PyUnicode_DecodeLatin1(h.name, (Py_ssize_t)h.name_len, NULL);
            key = raw ? PyObject_CallMethod(raw, "lower", NULL) : NULL;
            Py_XDECREF(raw);
        }
        if (key == NULL) {
            Py_DECREF(d);
            return NULL;
        }
        val = PyUnicode_DecodeLatin1(h.value, (Py_ssize_t)h.value_len, NULL);
        PyObject *prev = val ? PyDict_GetItemWithError(d, key) : NULL;
        if (prev) {
            PyObject *joined = PyUnicode_FromFormat("%U, %U", prev, val);
            Py_DECREF(val);
            val = joined;
        } else if (PyErr_Occurred()) {
            Py_CLEAR(val);
        }
        if (val == NULL || PyDict_SetItem(d, key, val) < 0) {
            Py_DECREF(key);
            goto error_val;
        }
        Py_DECREF(val);
        last_key = key;
        Py_DECREF(key); /* d holds it */
    }
    return d;
error_val:
    Py_XDECREF(val);
    Py_DECREF(d);
    return NULL;
}

static int copy_header(PyObject *result, PyObject *headers, PyObject *lower_name, PyObject *member)
{
    PyObject *v = PyDict_GetItemWithError(headers, lower_name);
    if (v == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return PyDict_SetItem(result, member, v);
}

static PyObject *build_response(ClientObject *self, smrt_conn *conn, int retries, int max_reached, int broken)
{
    smrt_state *st = self->st;
    PyObject *headers = NULL, *meta = NULL, *result = NULL, *status = NULL, *data = NULL, *body = NULL;
    PyObject *retry_obj = NULL;
    headers = headers_dict(st, conn);
    if (headers == NULL) {
        goto error;
    }
    meta = PyDict_New();
    result = PyDict_New();
    status = PyLong_FromLong(conn->status);
    retry_obj = PyLong_FromLong(retries);
    if (meta == NULL || result == NULL || status == NULL || retry_obj == NULL) {
        goto error;
    }
    PyObject **kh = st->known_headers;
    PyObject *rid = PyDict_GetItemWithError(headers, kh[SMRT_H_AMZN_REQUESTID]);
    if (rid) {
        if (PyDict_SetItem(meta, st->s_RequestId, rid) < 0) {
            goto error;
        }
    } else if ((rid = PyDict_GetItemWithError(headers, kh[SMRT_H_AMZ_REQUEST_ID])) != NULL) {
        PyObject *host_id = PyDict_GetItemWithError(headers, kh[SMRT_H_AMZ_ID_2]);
        PyObject *empty = NULL;
        if (host_id == NULL) {
            host_id = empty = PyUnicode_FromStringAndSize("", 0);
            if (empty == NULL) {
                goto error;
            }
        }
        int rc = PyDict_SetItem(meta, st->s_RequestId, rid) < 0 || PyDict_SetItem(meta, st->s_HostId, host_id) < 0;
        Py_XDECREF(empty);
        if (rc) {
            goto error;
        }
    }
    if (PyDict_SetItem(meta, st->s_HTTPStatusCode, status) < 0 || PyDict_SetItem(meta, st->s_HTTPHeaders, headers) < 0 ||
        (max_reached && PyDict_SetItem(meta, st->s_MaxAttemptsReached, Py_True) < 0) ||
        PyDict_SetItem(meta, st->s_RetryAttempts, retry_obj) < 0 || PyDict_SetItem(result, st->s_ResponseMetadata, meta) < 0) {
        goto error;
    }
    if (PyErr_Occurred() || copy_header(result, headers, kh[SMRT_H_CONTENT_TYPE], st->s_ContentType) < 0 ||
        copy_header(result, headers, kh[SMRT_H_INVOKED_VARIANT], st->s_InvokedProductionVariant) < 0 ||
        copy_header(result, headers, kh[SMRT_H_CUSTOM_ATTRIBUTES], st->s_CustomAttributes) < 0 ||
        copy_header(result, headers, kh[SMRT_H_NEW_SESSION_ID], st->s_NewSessionId) < 0 ||
        copy_header(result, headers, kh[SMRT_H_CLOSED_SESSION_ID], st->s_ClosedSessionId) < 0) {
        goto error;
    }
    data = PyBytes_FromStringAndSize(conn->body.data, (Py_ssize_t)conn->body.len);
    if (data == NULL) {
        goto error;
    }
    PyObject *url = NULL;
    if (broken == SMRT_BODY_TIMEOUT) {
        url = PyUnicode_DecodeLatin1(conn->url.data ? conn->url.data : "", (Py_ssize_t)conn->url.len, NULL);
        if (url == NULL) {
            goto error;
        }
    }
    body = smrt_body_new(st, data, PyDict_GetItemWithError(headers, kh[SMRT_H_CONTENT_LENGTH]), broken, url);
    Py_XDECREF(url);
    if (body == NULL || PyDict_SetItem(result, st->s_Body, body) < 0) {
        goto error;
    }
    Py_DECREF(headers);
    Py_DECREF(meta);
    Py_DECREF(status);
    Py_DECREF(retry_obj);
    Py_DECREF(data);
    Py_DECREF(body);
    return result;
error:
    Py_XDECREF(headers);
    Py_XDECREF(meta);
    Py_XDECREF(result);
    Py_XDECREF(status);
    Py_XDECREF(retry_obj);
    Py_XDECREF(data);
    Py_XDECREF(body);
    return NULL;
}

static const char *xfer_kind_name(smrt_xfer_kind k)
{
    switch (k) {
    case SMRT_XFER_CONNECT_ERROR:
        return "connect";
    case SMRT_XFER_CONNECT_TIMEOUT:
        return "connect_timeout";
    case SMRT_XFER_READ_TIMEOUT:
        return "read_timeout";
    case SMRT_XFER_CLOSED:
        return "closed";
    case SMRT_XFER_PARTIAL:
        return "partial";
    case SMRT_XFER_SSL_ERROR:
        return "ssl";
    case SMRT_XFER_PROXY_ERROR:
        return "proxy";
    default:
        return "other";
    }
}

/* Why the TLS set-up failed, for the Python layer to word (tls.h): None, or (what, detail):
 * ("verify", X509_V_ERR_* code), ("hostname", the certificate's names), ("wildcards",
 * (the refused name,)), ("ca_file", None), ("client_cert", None). */
static PyObject *tls_detail(const smrt_conn *conn)
{
    switch (conn->tls_error) {
    case SMRT_TLS_CA_FILE:
        return Py_BuildValue("(sO)", "ca_file", Py_None);
    case SMRT_TLS_CLIENT_CERT:
        return Py_BuildValue("(sO)", "client_cert", Py_None);
    case SMRT_TLS_VERIFY:
        return Py_BuildValue("(sl)", "verify", conn->tls_verify_result);
    case SMRT_TLS_HOSTNAME:
    case SMRT_TLS_WILDCARDS:
        break;
    default:
        Py_RETURN_NONE;
    }
    PyObject *names = PyList_New(0);
    const smrt_buf *b = &conn->tls_names;
    for (size_t at = 0; names && at + sizeof(uint32_t) <= b->len;) {
        uint32_t len;
        memcpy(&len, b->data + at, sizeof(len));
        at += sizeof(len);
        if (len > b->len - at) {
            break;
        }
        /* As Python's getpeercert() decodes them; "replace" where it would fail outright. */
        PyObject *name = PyUnicode_DecodeUTF8(b->data + at, (Py_ssize_t)len, "replace");
        if (name == NULL || PyList_Append(names, name) < 0) {
            Py_XDECREF(name);
            Py_CLEAR(names);
            break;
        }
        Py_DECREF(name);
        at += len;
    }
    if (names == NULL) {
        return NULL;
    }
    PyObject *detail = Py_BuildValue("(sN)", conn->tls_error == SMRT_TLS_HOSTNAME ? "hostname" : "wildcards",
                                     PyList_AsTuple(names));
    Py_DECREF(names);
    return detail;
}

/* The exception for a transport failure, from the Python layer (botocore's classes). */
static PyObject *transport_exception(ClientObject *self, smrt_conn *conn, smrt_xfer_kind kind)
{
    PyObject *fn = PyObject_GetAttrString((PyObject *)self, "_transport_error");
    if (fn == NULL) {
        return NULL;
    }
    PyObject *tls = kind == SMRT_XFER_SSL_ERROR ? tls_detail(conn) : Py_NewRef(Py_None);
    PyObject *exc = NULL;
    if (tls != NULL) {
        exc = PyObject_CallFunction(fn, "ss#sO", xfer_kind_name(kind), conn->url.data ? conn->url.data : "",
                                    (Py_ssize_t)conn->url.len, conn->errbuf, tls);
        Py_DECREF(tls);
    }
    Py_DECREF(fn);
    return exc;
}

/* InvokeEndpoint's modeled errors: a 429 with another code counts as throttling (botocore 1.44
 * retries/standard.py ThrottlingStatusCodeChecker). */
static int is_modeled_error(const char *code)
{
    static const char *const MODELED[] = {
        "InternalFailure", "ServiceUnavailable", "ValidationError", "ModelError", "InternalDependencyException",
        "ModelNotReadyException", NULL,
    };
    for (const char *const *m = MODELED; *m; m++) {
        if (strcmp(code, *m) == 0) {
            return 1;
        }
    }
    return 0;
}

static double draw_random(ClientObject *self, smrt_conn *conn, int *err)
{
    PyObject *hook = NULL;
    if (get_optional_attr((PyObject *)self, self->st->s__random, &hook) < 0) {
        *err = 1;
        return 0.0;
    }
    if (hook != NULL && hook != Py_None) {
        PyObject *v = PyObject_CallNoArgs(hook);
        Py_DECREF(hook);
        double d = v ? PyFloat_AsDouble(v) : -1.0;
        Py_XDECREF(v);
        if (d == -1.0 && PyErr_Occurred()) {
            *err = 1;
        }
        return d;
    }
    Py_XDECREF(hook);
    return (double)(smrt_conn_random(conn) >> 11) * (1.0 / 9007199254740992.0);
}

/* Sleep `seconds` with the GIL released, or hand the delay to a test's _sleep hook. */
static int do_sleep(ClientObject *self, double seconds)
{
    PyObject *hook = NULL;
    if (get_optional_attr((PyObject *)self, self->st->s__sleep, &hook) < 0) {
        return -1;
    }
    if (hook != NULL && hook != Py_None) {
        PyObject *r = PyObject_CallFunction(hook, "d", seconds);
        Py_DECREF(hook);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
        if (seconds > 0) {
            self->clock_offset += seconds;
        }
        return 0;
    }
    Py_XDECREF(hook);
    /* In slices, running signal handlers between them: Ctrl-C ends a backoff at once. */
    int64_t end = smrt_monotonic_ns() + (int64_t)(seconds * 1e9);
    for (;;) {
        int64_t left = end - smrt_monotonic_ns();
        if (left <= 0) {
            return 0;
        }
        if (left > (int64_t)SMRT_WAIT_SLICE_MS * 1000000LL) {
            left = (int64_t)SMRT_WAIT_SLICE_MS * 1000000LL;
        }
        struct timespec ts = {.tv_sec = (time_t)(left / 1000000000LL), .tv_nsec = (long)(left % 1000000000LL)};
        Py_BEGIN_ALLOW_THREADS
        nanosleep(&ts, NULL); /* a signal cuts it short: handled just below */
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0) {
            return -1;
        }
    }
}

static smrt_creds *creds_acquire(ClientObject *self)
{
    pthread_mutex_lock(&self->creds_lock);
    smrt_creds *c = self->creds;
    if (c) {
        atomic_fetch_add(&c->refs, 1);
    }
    pthread_mutex_unlock(&self->creds_lock);
    return c;
}

/* Seconds on the clock the adaptive limiter uses (monotonic, plus what a test hook slept). */
static double limiter_clock(ClientObject *self)
{
    return (double)smrt_monotonic_ns() / 1e9 + self->clock_offset;
}

static double realtime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The Date header of the response in `conn`, as UNIX seconds. */
static int response_date(smrt_conn *conn, double *out)
{
    smrt_header_iter it;
    smrt_header_line h;
    smrt_header_iter_init(&it, conn->resp_headers.data, conn->resp_headers.len);
    while (smrt_header_next(&it, &h)) {
        if (h.name_len == 4 && strncasecmp(h.name, "date", 4) == 0) {
            return smrt_parse_http_date(h.value, h.value_len, out);
        }
    }
    return -1;
}

/* The exception for a body that broke after the headers arrived (botocore has returned the
 * response by then: reading the StreamingBody raises it). */
/* How the body broke after the headers (SMRT_BODY_*). */
static int body_break(smrt_conn *conn, smrt_xfer_kind kind)
{
    if (kind == SMRT_XFER_READ_TIMEOUT) {
        return SMRT_BODY_TIMEOUT;
    }
    if (kind == SMRT_XFER_CLOSED && strstr(conn->errbuf, "reset by peer") != NULL) {
        return SMRT_BODY_RESET;
    }
    return SMRT_BODY_INCOMPLETE;
}

static PyObject *body_exception(ClientObject *self, smrt_conn *conn, smrt_xfer_kind kind)
{
    if (body_break(conn, kind) == SMRT_BODY_RESET) {
        snprintf(conn->errbuf, sizeof(conn->errbuf),
                 "(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", "
                 "ConnectionResetError(104, 'Connection reset by peer'))");
        return transport_exception(self, conn, SMRT_XFER_PARTIAL);
    }
    if (kind == SMRT_XFER_CLOSED) {
        kind = SMRT_XFER_PARTIAL;
    }
    if (kind == SMRT_XFER_PARTIAL && conn->content_length >= 0 && (long long)conn->body.len < conn->content_length) {
        long long more = conn->content_length - (long long)conn->body.len;
        snprintf(conn->errbuf, sizeof(conn->errbuf),
                 "('Connection broken: IncompleteRead(%zu bytes read, %lld more expected)', "
                 "IncompleteRead(%zu bytes read, %lld more expected))",
                 conn->body.len, more, conn->body.len, more);
    }
    return transport_exception(self, conn, kind);
}

static PyObject *client_invoke_endpoint(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    smrt_state *st = self->st;
    call_args a;
    memset(&a, 0, sizeof(a));
    if (check_ready(self) < 0) {
        return NULL;
    }
    if (parse_args(self, args, nargs, kwnames, &a) < 0) {
        call_args_release(&a);
        return NULL;
    }
    if (self->call_error) {
        /* No request can be made: botocore gets this far (parameters checked), then fails.
         * The hook raises its exception, credentials checked where botocore checks them. */
        PyObject *r = PyObject_CallMethod((PyObject *)self, "_call_error", "s#", a.str[OP->uri_label],
                                          a.len[OP->uri_label]);
        call_args_release(&a);
        if (r != NULL) {
            Py_DECREF(r);
            PyErr_SetString(PyExc_SystemError, "_call_error returned instead of raising");
        }
        return NULL;
    }
    /* Temporary credentials near their end: the Python layer refreshes them with botocore's
     * windows (one caller refreshes, the others go on with the still-valid ones). */
    if (!self->unsigned_requests && self->refresh_at > 0 && realtime_now() >= self->refresh_at) {
        PyObject *r = PyObject_CallMethod((PyObject *)self, "_refresh_credentials", NULL);
        if (r == NULL) {
            call_args_release(&a);
            return NULL;
        }
        Py_DECREF(r);
    }
    attempt_ctx ctx = {.self = self, .a = &a};
    ctx.creds = self->unsigned_requests ? NULL : creds_acquire(self);
    if (ctx.creds == NULL && !self->unsigned_requests) {
        call_args_release(&a);
        return smrt_raise_from_hook(st, "_no_credentials", PyTuple_New(0));
    }

    PyObject *result = NULL;
    smrt_conn *conn = NULL;
    smrt_retry *retry = self->retry;
    smrt_retry_call rcall = {0, 0};
    int hashed = 0;
    char ttl[SMRT_AMZ_DATE_LEN + 1] = "";
    /* Read once per call (one dict lookup while logging is off: log.c). */
    int log_on = smrt_log_enabled(st);
    if (log_on < 0 || (log_on && smrt_log_request(st, (PyObject *)self, args, kwnames, a.body_len) < 0)) {
        creds_release(ctx.creds);
        call_args_release(&a);
        return NULL;
    }
    for (int attempt = 1;; attempt++) {
        if (smrt_retry_get_mode(retry) == SMRT_RETRY_ADAPTIVE) {
            double wait = smrt_retry_send_delay(retry, limiter_clock(self));
            if (wait > 0 && do_sleep(self, wait) < 0) {
                break;
            }
        }
        smrt_xfer_kind kind = SMRT_XFER_NOMEM;
        smrt_interrupt_fn interrupt = handles_signals() ? ask_signals : NULL;
        ctx.ts = PyEval_SaveThread();
        if (conn == NULL) {
            conn = smrt_pool_borrow(self->pool);
        }
        if (conn != NULL) {
            conn->interrupt = interrupt;
            conn->interrupt_ud = &ctx;
            if (!hashed) {
                /* Hash the body once, in place, without the GIL (6 MiB takes milliseconds). */
                ctx.status = smrt_sha256_hex(&conn->signer.crypto, a.body, (size_t)a.body_len, ctx.payload_hash);
                format_uuid4(conn, ctx.invocation_id);
                hashed = ctx.status == SMRT_OK;
            }
            if (hashed) {
                kind = run_attempt(&ctx, conn, retry, attempt, ttl);
            }
            conn->interrupt = NULL;
        }
        PyEval_RestoreThread(ctx.ts);
        if (conn == NULL) {
            if (smrt_dyn_error()) {
                smrt_raise_status(SMRT_ELOAD, "sagemaker_rt_c");
            } else {
                PyErr_NoMemory();
            }
            break;
        }
        if (ctx.status != SMRT_OK) {
            smrt_raise_status(ctx.status, "signing the request");
            break;
        }
        if (kind == SMRT_XFER_NOMEM) {
            PyErr_NoMemory();
            break;
        }
        if (kind == SMRT_XFER_INTERRUPTED) {
            /* A signal handler's exception (KeyboardInterrupt) is set; conn is closed. */
            if (!PyErr_Occurred()) {
                PyErr_SetNone(PyExc_KeyboardInterrupt);
            }
            break;
        }
        smrt_attempt at = {.attempt = attempt, .kind = kind, .status = conn->status};

        /* The headers came, then the body broke or stalled: botocore has already handed the
         * response back by then (a StreamingBody), so nothing is retried; the break shows when
         * the body is read. An error body is read at once: its break is raised now. */
        if (kind != SMRT_XFER_OK && kind != SMRT_XFER_OTHER && conn->headers_done && conn->content_length >= 0 &&
            (long long)conn->body.len == conn->content_length) {
            /* The whole response arrived, then the upload failed (the server answered early
             * and closed): the response stands, as it does for urllib3. */
            kind = at.kind = SMRT_XFER_OK;
        }
        if (kind == SMRT_XFER_PARTIAL && conn->headers_done && conn->status >= 300 && conn->content_length >= 0) {
            /* botocore 1.44 reads with enforce_content_length=False: an error body cut short by
             * a clean close is parsed from what arrived, and retried by the usual rules. */
            kind = at.kind = SMRT_XFER_OK;
        }
        if ((kind == SMRT_XFER_PARTIAL || kind == SMRT_XFER_READ_TIMEOUT || kind == SMRT_XFER_CLOSED) &&
            conn->headers_done) {
            if (conn->status < 300) {
                int flagged = smrt_retry_on_success(retry, &rcall, &at);
                smrt_retry_record_response(retry, 0, limiter_clock(self));
                result = build_response(self, conn, attempt - 1, flagged, body_break(conn, kind));
            } else {
                PyObject *exc = body_exception(self, conn, kind);
                if (exc) {
                    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                    Py_DECREF(exc);
                }
            }
            break;
        }
        if (kind == SMRT_XFER_PARTIAL) {
            kind = at.kind = SMRT_XFER_CLOSED;
        }
        if (kind == SMRT_XFER_OK && conn->status < 300) {
            int flagged = smrt_retry_on_success(retry, &rcall, &at);
            smrt_retry_record_response(retry, 0, limiter_clock(self));
            result = build_response(self, conn, attempt - 1, flagged, SMRT_BODY_OK);
            break;
        }

        PyObject *parsed = NULL; /* (code, retry_after, parsed response) for HTTP errors */
        if (kind == SMRT_XFER_OK) {
            PyObject *headers = headers_dict(st, conn);
            if (headers == NULL) {
                break;
            }
            PyObject *fn = PyObject_GetAttrString(st->hooks, "_parse_error");
            parsed = fn ? PyObject_CallFunction(fn, "lOy#", conn->status, headers, conn->body.data ? conn->body.data : "",
                                                (Py_ssize_t)conn->body.len)
                        : NULL;
            Py_XDECREF(fn);
            Py_DECREF(headers);
            if (parsed == NULL) {
                break;
            }
            if (!PyTuple_Check(parsed) || PyTuple_GET_SIZE(parsed) != 3) {
                Py_DECREF(parsed);
                PyErr_SetString(PyExc_SystemError, "_parse_error must return (code, retry_after, parsed)");
                break;
            }
            PyObject *code = PyTuple_GET_ITEM(parsed, 0);
            PyObject *retry_after = PyTuple_GET_ITEM(parsed, 1);
            at.error_code = PyUnicode_Check(code) ? PyUnicode_AsUTF8(code) : NULL;
            at.modeled = at.error_code != NULL && is_modeled_error(at.error_code);
            at.retry_after_s = PyFloat_Check(retry_after) ? PyFloat_AS_DOUBLE(retry_after) : -1.0;
            if (PyErr_Occurred()) {
                Py_DECREF(parsed);
                break;
            }
        }
        smrt_retry_record_response(retry, smrt_retry_is_throttling(retry, &at), limiter_clock(self));
        smrt_retry_decision d = {0, 0.0, -1.0, 0, 0};
        if (!(kind == SMRT_XFER_READ_TIMEOUT && !self->retry_read_timeouts)) {
            d = smrt_retry_on_failure(retry, &rcall, &at);
        }
        /* The jitter is drawn as the retry is decided, so the log can say the delay. */
        int err = 0;
        double delay = d.retry ? smrt_retry_delay(&d, draw_random(self, conn, &err)) : 0.0;
        if (!err && log_on) {
            err = smrt_log_attempt(st, (PyObject *)self, conn, retry, &at, xfer_kind_name(kind), d.retry, delay,
                                   parsed) < 0;
        }
        if (err) {
            Py_XDECREF(parsed);
            break;
        }
        if (d.retry) {
            double date = 0;
            int have_date = kind == SMRT_XFER_OK && response_date(conn, &date) == 0;
            Py_XDECREF(parsed);
            if (do_sleep(self, delay) < 0) {
                break;
            }
            if (have_date) {
                /* botocore's ttl, both clocks read after the backoff (endpoint.py _set_ttl):
                 * now + read_timeout + (Date - now). */
                double received = realtime_now();
                double t = realtime_now() + self->read_timeout_s + (date - received);
                smrt_amz_date((long long)floor(t), ttl);
            }
            continue;
        }
        /* Give up: raise what this attempt produced. */
        if (parsed != NULL) {
            PyObject *p = PyTuple_GET_ITEM(parsed, 2);
            PyObject *meta = PyDict_GetItemWithError(p, st->s_ResponseMetadata);
            PyObject *n = PyLong_FromLong(attempt - 1);
            if (meta && n && PyDict_Check(meta) &&
                (!d.max_attempts_reached || PyDict_SetItem(meta, st->s_MaxAttemptsReached, Py_True) == 0) &&
                (!d.quota_reached || PyDict_SetItem(meta, st->s_RetryQuotaReached, Py_True) == 0) &&
                PyDict_SetItem(meta, st->s_RetryAttempts, n) == 0) {
                smrt_raise_from_hook(st, "_client_error", Py_BuildValue("(OO)", p, st->s_InvokeEndpoint));
            } else if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_SystemError, "parsed error response without ResponseMetadata");
            }
            Py_XDECREF(n);
            Py_DECREF(parsed);
        } else {
            PyObject *exc = transport_exception(self, conn, kind);
            if (exc) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
        }
        break;
    }
    if (log_on && result != NULL && smrt_log_response(st, (PyObject *)self, conn, result) < 0) {
        Py_CLEAR(result);
    }
    if (conn) {
        smrt_pool_return(self->pool, conn);
    }
    creds_release(ctx.creds);
    call_args_release(&a);
    return result;
}


/* ---- presigning: the common case in C ------------------------------------------------------ */

/* generate_presigned_url('invoke_endpoint', ...) when botocore's path is simple: valid
 * parameters, an empty Body (a JSON body moves into the query string: Python does that),
 * no query in the endpoint URL, credentials at hand. Returns the URL, or None when the
 * Python implementation must take over (it also produces botocore's errors). */
static PyObject *client_presign(ClientObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    if (nargs != 3 || !PyDict_Check(args[0]) || !PyLong_CheckExact(args[1])) {
        Py_RETURN_NONE;
    }
    PyObject *params = args[0], *method_obj = args[2];
    long long expires = PyLong_AsLongLong(args[1]);
    if (expires == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    const char *method = OP->http_method;
    if (method_obj != Py_None) {
        if (!PyUnicode_Check(method_obj) || !(method = PyUnicode_AsUTF8(method_obj))) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        for (const char *m = method; *m; m++) {
            if (*m < 'A' || *m > 'Z') {
                Py_RETURN_NONE; /* botocore upper-cases for the signature only: keep its path */
            }
        }
    }
    if (self->url_query || (self->refresh_at > 0 && realtime_now() >= self->refresh_at)) {
        Py_RETURN_NONE;
    }
    /* Only an empty in-memory Body here: a file would be consumed by a try. */
    PyObject *body = PyDict_GetItemWithError(params, self->st->s_Body);
    if (body == NULL || !(PyBytes_CheckExact(body) || PyUnicode_CheckExact(body) || PyByteArray_CheckExact(body)) ||
        PyObject_Length(body) != 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    /* The dict's items as keyword arguments, through the invoke path's parser. */
    Py_ssize_t n = PyDict_GET_SIZE(params);
    if (n > P_COUNT) {
        Py_RETURN_NONE;
    }
    PyObject *values[P_COUNT];
    PyObject *names = PyTuple_New(n);
    if (names == NULL) {
        return NULL;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *v;
    while (PyDict_Next(params, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            Py_DECREF(names);
            Py_RETURN_NONE;
        }
        PyTuple_SET_ITEM(names, i, Py_NewRef(k));
        values[i++] = v;
    }
    call_args a;
    memset(&a, 0, sizeof(a));
    int ok = parse_args(self, values, 0, names, &a) == 0;
    Py_DECREF(names);
    if (!ok) {
        /* Let the Python path raise botocore's error (it validates the same way). */
        PyErr_Clear();
        call_args_release(&a);
        Py_RETURN_NONE;
    }
    /* a.str[] point into the dict's str values, alive for this call. */
    const char **str = a.str;
    const Py_ssize_t *len = a.len;
    smrt_creds *cr = creds_acquire(self);
    if (cr == NULL) {
        call_args_release(&a);
        Py_RETURN_NONE;
    }
    PyObject *result = NULL;
    int rc = SMRT_OK;
    if (!self->presigner_ready) {
        /* The libraries may still be loading: wait without the GIL. Other threads may get
         * here meanwhile; the first to hold the GIL again makes the signer, once. */
        Py_BEGIN_ALLOW_THREADS
        rc = smrt_dyn_wait();
        Py_END_ALLOW_THREADS
        if (rc == SMRT_OK && !self->presigner_ready) {
            rc = smrt_signer_init(&self->presigner); /* quick, and never waits now */
            if (rc == SMRT_OK) {
                self->presigner_ready = 1;
            } else {
                smrt_signer_destroy(&self->presigner);
            }
        }
        if (rc != SMRT_OK) {
            smrt_raise_status(rc, "presigning");
            goto done;
        }
    }
    char amz_date[SMRT_AMZ_DATE_LEN + 1];
    smrt_amz_date((long long)realtime_now(), amz_date);
    smrt_header sh[P_COUNT + 1];
    size_t nsh = 0;
    sh[nsh++] = (smrt_header){"host", 4, self->host, self->host_len};
    FOR_EACH_MEMBER(j, a.present & OP->header_mask)
    {
        sh[nsh++] = (smrt_header){PARAMS[j].wire, PARAMS[j].wire_len, str[j], (size_t)len[j]};
    }
    /* The URL: scheme://netloc, the path (signed), '?', the signer's query string. */
    smrt_buf *url = &self->presign_url;
    smrt_buf_clear(url);
    size_t prefix_len = self->url_prefix_len - self->base_path_len;
    if ((rc = smrt_buf_append(url, self->url_prefix, prefix_len)) != SMRT_OK ||
        (rc = smrt_buf_append(url, self->base_path, self->base_path_len)) != SMRT_OK ||
        (rc = smrt_buf_append(url, OP->uri_before, OP->uri_before_len)) != SMRT_OK ||
        (rc = smrt_uri_encode(url, str[OP->uri_label], (size_t)len[OP->uri_label], 0)) != SMRT_OK ||
        (rc = smrt_buf_append(url, OP->uri_after, OP->uri_after_len)) != SMRT_OK) {
        smrt_raise_status(rc, "presigning");
        goto done;
    }
    /* str(ExpiresIn), without printf's machinery. */
    char expires_s[24];
    char *e = expires_s + sizeof(expires_s);
    unsigned long long mag = expires < 0 ? 0ULL - (unsigned long long)expires : (unsigned long long)expires;
    do {
        *--e = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    if (expires < 0) {
        *--e = '-';
    }
    const smrt_sigv4_creds sc = {cr->access_key, cr->access_key_len, cr->secret_key, cr->secret_key_len,
                                 cr->token,      cr->token_len,      cr->gen};
    const smrt_sigv4_request rq = {
        .mode = SMRT_SIGV4_QUERY,
        .flags = SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH | SMRT_SIGN_RAW_QUERY,
        .method = method,
        .path = url->data + prefix_len,
        .path_len = url->len - prefix_len,
        .headers = sh,
        .n_headers = nsh,
        .payload_hash = SMRT_EMPTY_SHA256_HEX,
        .creds = &sc,
        .region = self->region,
        .service = self->service,
        .amz_date = amz_date,
        .expires = &(const smrt_span){e, (size_t)(expires_s + sizeof(expires_s) - e)},
        .n_expires = 1,
    };
    if ((rc = smrt_sigv4_sign(&self->presigner, &rq)) != SMRT_OK ||
        (rc = smrt_buf_append_char(url, '?')) != SMRT_OK ||
        (rc = smrt_buf_append(url, self->presigner.result.data, self->presigner.result.len)) != SMRT_OK) {
        smrt_raise_status(rc, "presigning");
        goto done;
    }
    result = PyUnicode_FromStringAndSize(url->data, (Py_ssize_t)url->len);
done:
    creds_release(cr);
    call_args_release(&a);
    return result;
}

/* ---- construction and the rest ------------------------------------------------------------ */

static char *dup_str(PyObject *o, size_t *len_out)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == NULL) {
        return NULL;
    }
    char *d = malloc((size_t)n + 1);
    if (d == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(d, s, (size_t)n + 1);
    if (len_out) {
        *len_out = (size_t)n;
    }
    return d;
}

static PyObject *client_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    ClientObject *self = (ClientObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = smrt_state_from_type(type);
    if (self->st == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    if (pthread_mutex_init(&self->creds_lock, NULL) != 0) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_RuntimeError, "cannot create a mutex");
        return NULL;
    }
    self->creds_lock_ready = 1;
    return (PyObject *)self;
}

static void client_free_config(ClientObject *self)
{
    smrt_pool_destroy(self->pool);
    self->pool = NULL;
    smrt_retry_destroy(self->retry);
    self->retry = NULL;
    free(self->url_prefix);
    free(self->base_path);
    free(self->url_query);
    free(self->host);
    free(self->wire_prefix);
    free(self->wire_query);
    free(self->wire_host);
    free(self->region);
    free(self->service);
    free(self->user_agent);
    self->url_prefix = self->base_path = self->url_query = self->host = NULL;
    self->wire_prefix = self->wire_query = self->wire_host = NULL;
    self->region = self->service = self->user_agent = NULL;
}

/* Refuse a second __init__: other threads may be using the pool, the retry state and the
 * strings this would replace. -1 with RuntimeError set, or 0. */
static int refuse_reinit(ClientObject *self)
{
    if (!self->ready) {
        return 0;
    }
    PyErr_Format(PyExc_RuntimeError,
                 "this %.100s is already initialised: __init__ cannot be called again (make a new client)",
                 Py_TYPE(self)->tp_name);
    return -1;
}

static int client_tp_init(ClientObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"url_prefix",       "base_path",    "url_query",       "host",
                             "region",           "service",      "user_agent",      "connect_timeout",
                             "read_timeout",     "max_pool_connections", "tcp_keepalive", "verify",
                             "ca_bundle",        "proxy",        "proxy_ca_bundle", "client_cert",
                             "client_key",       "retry_mode",   "max_attempts",    "retry_read_timeouts",
                             "parameter_validation", "unsigned_requests", "wire_prefix", "wire_query",
                             "wire_host",        "wire_label_escape", "call_error", "proxy_verify",
                             "proxy_client_cert", "proxy_client_key", "proxy_forwarding", "proxy_authorization",
                             NULL};
    /* The strings are required; the rest default to botocore's defaults. */
    PyObject *url_prefix = NULL, *base_path = NULL, *url_query = Py_None, *host = NULL, *region = NULL,
             *service = NULL, *user_agent = NULL;
    PyObject *wire_prefix = Py_None, *wire_query = Py_None, *wire_host = Py_None;
    int wire_label_escape = 0, call_error = 0;
    double connect_timeout = 60.0, read_timeout = 60.0;
    Py_ssize_t max_pool = 10;
    int tcp_keepalive = 0, verify = 1, retry_read_timeouts = 1, parameter_validation = 1, unsigned_requests = 0;
    const char *ca_bundle = NULL, *proxy = NULL, *proxy_ca = NULL, *client_cert = NULL, *client_key = NULL;
    const char *proxy_client_cert = NULL, *proxy_client_key = NULL, *proxy_forwarding = NULL, *proxy_auth = NULL;
    int proxy_verify = 1;
    const char *retry_mode = "standard";
    int max_attempts = 3;
    if (refuse_reinit(self) < 0) {
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$UUOUUUUddnppzzzzzsipppOOOpppzzzz:Client", kwlist, &url_prefix, &base_path,
                                     &url_query, &host, &region, &service, &user_agent, &connect_timeout,
                                     &read_timeout, &max_pool, &tcp_keepalive, &verify, &ca_bundle, &proxy, &proxy_ca,
                                     &client_cert, &client_key, &retry_mode, &max_attempts, &retry_read_timeouts,
                                     &parameter_validation, &unsigned_requests, &wire_prefix, &wire_query,
                                     &wire_host, &wire_label_escape, &call_error, &proxy_verify,
                                     &proxy_client_cert, &proxy_client_key, &proxy_forwarding, &proxy_auth)) {
        return -1;
    }
    PyObject *const required[] = {url_prefix, base_path, host, region, service, user_agent};
    static const char *const required_names[] = {"url_prefix", "base_path", "host", "region", "service",
                                                  "user_agent"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (required[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "Client() missing required keyword argument '%s'", required_names[i]);
            return -1;
        }
    }
    /* Parsing may have run Python code (a __float__ ...), and so let another thread finish an
     * __init__ of this object. From here to the end the GIL is never released. */
    if (refuse_reinit(self) < 0) {
        return -1;
    }
    client_free_config(self); /* what a failed __init__ left */
    smrt_retry_mode mode;
    if (strcmp(retry_mode, "legacy") == 0) {
        mode = SMRT_RETRY_LEGACY;
    } else if (strcmp(retry_mode, "standard") == 0) {
        mode = SMRT_RETRY_STANDARD;
    } else if (strcmp(retry_mode, "adaptive") == 0) {
        mode = SMRT_RETRY_ADAPTIVE;
    } else {
        PyErr_Format(PyExc_ValueError, "retry_mode must be legacy, standard or adaptive, not %s", retry_mode);
        goto error;
    }
    if (proxy && proxy_forwarding) {
        PyErr_SetString(PyExc_ValueError, "proxy and proxy_forwarding are exclusive (forwarding needs no tunnel)");
        goto error;
    }
    if (max_attempts < 1 || max_pool < 0 || connect_timeout < 0 || read_timeout < 0) {
        PyErr_SetString(PyExc_ValueError, "max_attempts, max_pool_connections and timeouts must be positive");
        goto error;
    }
    if (!(self->url_prefix = dup_str(url_prefix, &self->url_prefix_len)) ||
        !(self->base_path = dup_str(base_path, &self->base_path_len)) ||
        !(self->host = dup_str(host, &self->host_len)) || !(self->region = dup_str(region, NULL)) ||
        !(self->service = dup_str(service, NULL)) || !(self->user_agent = dup_str(user_agent, &self->user_agent_len))) {
        goto error;
    }
    if (url_query != Py_None) {
        if (!PyUnicode_Check(url_query)) {
            PyErr_SetString(PyExc_TypeError, "url_query must be str or None");
            goto error;
        }
        if (!(self->url_query = dup_str(url_query, &self->url_query_len))) {
            goto error;
        }
    }
    struct {
        PyObject *obj;
        char **out;
        size_t *len;
        const char *name;
    } optional[] = {{wire_prefix, &self->wire_prefix, &self->wire_prefix_len, "wire_prefix"},
                    {wire_query, &self->wire_query, &self->wire_query_len, "wire_query"},
                    {wire_host, &self->wire_host, &self->wire_host_len, "wire_host"}};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        if (optional[i].obj == Py_None) {
            continue;
        }
        if (!PyUnicode_Check(optional[i].obj)) {
            PyErr_Format(PyExc_TypeError, "%s must be str or None", optional[i].name);
            goto error;
        }
        if (!(*optional[i].out = dup_str(optional[i].obj, optional[i].len))) {
            goto error;
        }
    }
    if (self->wire_query && !self->wire_prefix) {
        PyErr_SetString(PyExc_ValueError, "wire_query needs wire_prefix");
        goto error;
    }
    self->wire_label_escape = wire_label_escape;
    self->call_error = call_error;
    if (self->base_path_len > self->url_prefix_len ||
        memcmp(self->url_prefix + self->url_prefix_len - self->base_path_len, self->base_path, self->base_path_len)) {
        PyErr_SetString(PyExc_ValueError, "base_path must end url_prefix");
        goto error;
    }
    self->retry_read_timeouts = retry_read_timeouts;
    self->unsigned_requests = unsigned_requests;
    self->read_timeout_s = read_timeout;
    self->parameter_validation = parameter_validation;
    self->retry = smrt_retry_new(mode, max_attempts);
    smrt_http_config cfg = {
        .connect_timeout_ms = (long)(connect_timeout * 1000.0 + 0.5),
        .read_timeout_ms = (long)(read_timeout * 1000.0 + 0.5),
        .tcp_keepalive = tcp_keepalive,
        .verify = verify,
        .ca_bundle = ca_bundle,
        .proxy = proxy,
        .proxy_ca_bundle = proxy_ca,
        .proxy_verify = proxy_verify,
        .proxy_client_cert = proxy_client_cert,
        .proxy_client_key = proxy_client_key,
        .proxy_forwarding = proxy_forwarding,
        .proxy_authorization = proxy_auth,
        .client_cert = client_cert,
        .client_key = client_key,
        .max_idle = (size_t)max_pool,
    };
    if (connect_timeout > 0 && cfg.connect_timeout_ms == 0) {
        cfg.connect_timeout_ms = 1;
    }
    if (read_timeout > 0 && cfg.read_timeout_ms == 0) {
        cfg.read_timeout_ms = 1;
    }
    self->pool = smrt_pool_new(&cfg);
    if (self->retry == NULL || self->pool == NULL) {
        PyErr_SetString(PyExc_MemoryError, "cannot create the connection pool");
        goto error;
    }
    self->ready = 1;
    return 0;
error:
    client_free_config(self); /* not initialised: the methods refuse it, __init__ may be tried again */
    return -1;
}

static PyObject *client_set_credentials(ClientObject *self, PyObject *args)
{
    PyObject *ak = Py_None, *sk = Py_None, *tok = Py_None;
    double refresh_at = 0.0;
    if (!PyArg_ParseTuple(args, "|OOOd:_set_credentials", &ak, &sk, &tok, &refresh_at)) {
        return NULL;
    }
    smrt_creds *c = NULL;
    if (ak != Py_None) {
        if (!PyUnicode_Check(ak) || !PyUnicode_Check(sk) || (tok != Py_None && !PyUnicode_Check(tok))) {
            PyErr_SetString(PyExc_TypeError, "credentials must be str");
            return NULL;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            return PyErr_NoMemory();
        }
        atomic_init(&c->refs, 1);
        if (!(c->access_key = dup_str(ak, &c->access_key_len)) || !(c->secret_key = dup_str(sk, &c->secret_key_len)) ||
            (tok != Py_None && !(c->token = dup_str(tok, &c->token_len)))) {
            creds_release(c);
            return NULL;
        }
        if (!header_value_ok(c->access_key, (Py_ssize_t)c->access_key_len) ||
            (c->token && !header_value_ok(c->token, (Py_ssize_t)c->token_len))) {
            creds_release(c);
            PyErr_SetString(PyExc_ValueError,
                            "the access key and session token must be printable ASCII (they are sent in headers)");
            return NULL;
        }
    }
    pthread_mutex_lock(&self->creds_lock);
    smrt_creds *old = self->creds;
    if (c) {
        c->gen = ++self->creds_gen;
    }
    self->creds = c;
    pthread_mutex_unlock(&self->creds_lock);
    self->refresh_at = refresh_at; /* read and written with the GIL held */
    creds_release(old);
    Py_RETURN_NONE;
}

static PyObject *client_close_connections(ClientObject *self, PyObject *Py_UNUSED(ignored))
{
    /* botocore's close(): drop idle keep-alive connections; later calls open new ones. */
    if (self->pool) {
        Py_BEGIN_ALLOW_THREADS
        smrt_pool_drain(self->pool);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static int client_traverse(ClientObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    (void)self;
    (void)arg;
    return 0;
}

static void client_dealloc(ClientObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    client_free_config(self);
    creds_release(self->creds);
    self->creds = NULL;
    smrt_signer_destroy(&self->presigner);
    smrt_buf_destroy(&self->presign_url);
    if (self->creds_lock_ready) {
        pthread_mutex_destroy(&self->creds_lock);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef client_methods[] = {
    {"invoke_endpoint", (PyCFunction)(void (*)(void))client_invoke_endpoint, METH_FASTCALL | METH_KEYWORDS,
     "invoke_endpoint($self, /, *, EndpointName, Body, ContentType=..., Accept=..., CustomAttributes=..., "
     "TargetModel=..., TargetVariant=..., TargetContainerHostname=..., InferenceId=..., "
     "EnableExplanations=..., InferenceComponentName=..., SessionId=..., PrefixAwareId=...)\n--\n\n"
     "Get an inference from the model hosted at an endpoint (SageMaker Runtime InvokeEndpoint).\n\n"
     "Returns a dict like boto3's: ResponseMetadata, ContentType, InvokedProductionVariant,\n"
     "CustomAttributes, NewSessionId, ClosedSessionId (when sent) and Body, a StreamingBody."},
    {"_set_credentials", (PyCFunction)client_set_credentials, METH_VARARGS,
     "_set_credentials($self, access_key=None, secret_key=None, token=None, refresh_at=0.0, /)\n--\n\n"
     "Replace the signing credentials (None: no credentials). From the wall-clock time\n"
     "refresh_at on (0: never), calls first run self._refresh_credentials()."},
    {"_close_connections", (PyCFunction)client_close_connections, METH_NOARGS, NULL},
    {"_presign", (PyCFunction)(void (*)(void))client_presign, METH_FASTCALL,
     "_presign($self, params, expires, http_method, /)\n--\n\n"
     "A presigned invoke_endpoint URL for the common case, or None for the Python path."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ClientObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot client_slots[] = {
    {Py_tp_doc, "The C core of a sagemaker-runtime client; use sagemaker_rt_c.client()."},
    {Py_tp_new, client_tp_new},
    {Py_tp_init, client_tp_init},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_methods, client_methods},
    {Py_tp_members, client_members},
    {0, NULL},
};

static PyType_Spec client_spec = {
    .name = "sagemaker_rt_c._core.Client",
    .basicsize = sizeof(ClientObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = client_slots,
};

int smrt_client_type_add(PyObject *module, smrt_state *st)
{
    st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (st->client_type == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Client", (PyObject *)st->client_type);
}
