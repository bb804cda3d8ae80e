/* Shared declarations of the CPython binding (module.c, client.c, nested.c, body.c, errors.c,
 * log.c, operations.c).
 * These are the only C files that include Python.h. Unless a comment says otherwise,
 * every function here needs the GIL, and a function returning NULL or -1 has set a
 * Python exception. */
#ifndef SMRT_BINDING_H
#define SMRT_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "engine.h"
#include "eventstream.h"
#include "http.h"
#include "operations.h"
#include "retry.h"

/* Interned strings used on the call path (dict keys, keyword names). */
#define SMRT_INTERNED(X)                                                                                               \
    X(ResponseMetadata)                                                                                                \
    X(RequestId)                                                                                                       \
    X(HostId)                                                                                                          \
    X(HTTPStatusCode)                                                                                                  \
    X(HTTPHeaders)                                                                                                     \
    X(RetryAttempts)                                                                                                   \
    X(MaxAttemptsReached)                                                                                              \
    X(RetryQuotaReached)                                                                                               \
    X(Body)                                                                                                            \
    X(ContentType)                                                                                                     \
    X(CustomAttributes)                                                                                                \
    X(InvokedProductionVariant)                                                                                        \
    X(NewSessionId)                                                                                                    \
    X(ClosedSessionId)                                                                                                 \
    X(read)                                                                                                            \
    X(_random)                                                                                                         \
    X(_sleep)                                                                                                          \
    X(logging)

/* Response header names common enough to keep as interned keys (hash computed once). */
#define SMRT_KNOWN_HEADERS(X)                                                                                          \
    X(CONTENT_TYPE, "content-type")                                                                                    \
    X(CONTENT_LENGTH, "content-length")                                                                                \
    X(DATE, "date")                                                                                                    \
    X(CONNECTION, "connection")                                                                                        \
    X(SERVER, "server")                                                                                                \
    X(KEEP_ALIVE, "keep-alive")                                                                                        \
    X(TRANSFER_ENCODING, "transfer-encoding")                                                                          \
    X(AMZN_REQUESTID, "x-amzn-requestid")                                                                              \
    X(AMZ_REQUEST_ID, "x-amz-request-id")                                                                              \
    X(AMZ_ID_2, "x-amz-id-2")                                                                                          \
    X(AMZN_ERRORTYPE, "x-amzn-errortype")                                                                              \
    X(INVOKED_VARIANT, "x-amzn-invoked-production-variant")                                                            \
    X(CUSTOM_ATTRIBUTES, "x-amzn-sagemaker-custom-attributes")                                                         \
    X(NEW_SESSION_ID, "x-amzn-sagemaker-new-session-id")                                                               \
    X(CLOSED_SESSION_ID, "x-amzn-sagemaker-closed-session-id")

/* The hooks object the Python layer installs (sagemaker_rt_c/_client.py HOOKS, handed to
 * _core._install): the functions the C core calls on its slow paths, resolved once at install
 * (a missing one fails the install), called through st->hook[SMRT_HOOK_*]. */
#define SMRT_HOOKS(X)                                                                                                  \
    X(validation_failed) /* (operation name, params dict, detail, validation on) -> raises */                        \
    X(no_credentials)    /* () -> the NoCredentialsError to raise */                                                   \
    X(parse_error)       /* (status, headers, body) -> (code, retry_after_s or None, parsed) */                       \
    X(client_error)      /* (parsed, operation name) -> the ClientError to raise */                                    \
    X(transport_error)   /* (client, kind, url, message, tls detail) -> the exception to raise */                     \
    X(call_error)        /* (client, label value) -> raises what botocore raises when no request can be made */       \
    X(refresh_credentials) /* (client) -> None: runs botocore's refresh windows, sets the credentials */              \
    X(json_output)       /* (operation name, body bytes) -> dict: the output members a JSON body carries */          \
    X(event_stream)      /* (reader, raw) -> the response's EventStream (sagemaker_rt_c.response) */                \
    X(event_message)     /* (operation name, headers, payload) -> event dict, None (skip) or the exception */        \
    X(stream_break)      /* (exception from the RawStream, or None: ended mid-event) -> the exception to raise */   \
    X(log_refresh)       /* () -> None: recompute whether the call path logs (log.c) */                                \
    X(log_request)                                                                                                     \
    X(log_attempt)                                                                                                     \
    X(log_response)

enum {
#define SMRT_HOOK_ENUM(name) SMRT_HOOK_##name,
    SMRT_HOOKS(SMRT_HOOK_ENUM)
#undef SMRT_HOOK_ENUM
        SMRT_HOOK_COUNT
};

enum {
#define SMRT_KNOWN_ENUM(id, text) SMRT_H_##id,
    SMRT_KNOWN_HEADERS(SMRT_KNOWN_ENUM)
#undef SMRT_KNOWN_ENUM
        SMRT_H_COUNT
};

/* How a response body broke after its headers arrived (RawStream raises at the break). */
enum {
    SMRT_BODY_OK = 0,
    SMRT_BODY_INCOMPLETE = 1, /* the connection ended before the whole body */
    SMRT_BODY_RESET = 2,      /* the connection was reset */
    SMRT_BODY_TIMEOUT = 3,    /* no byte for read_timeout seconds */
};

typedef struct smrt_state {
    PyTypeObject *client_type;
    PyTypeObject *nested_type; /* nested.c's NestedClient */
    PyTypeObject *raw_type;
    PyTypeObject *es_type;     /* _core.EventStreamDecoder */
    PyTypeObject *reader_type; /* _core.EventReader */
    PyTypeObject *batch_type;  /* _core.Batch */
    PyTypeObject *aio_type;    /* _core.AsyncEngine */
    PyObject *raw_protocol_type; /* _core.ProtocolError */
    PyObject *raw_timeout_type;  /* _core.ReadTimeout */
    /* Installed by sagemaker_rt_c._client at import (_core._install): */
    PyObject *body_class;      /* sagemaker_rt_c.response.StreamingBody */
    PyObject *body_slot_raw;   /* its member descriptors: _raw_stream, */
    PyObject *body_slot_length; /* _content_length, */
    PyObject *body_slot_read;  /* _amount_read */
    PyObject *hooks;           /* the installed hooks object */
    PyObject *hook[SMRT_HOOK_COUNT]; /* its functions (SMRT_HOOKS) */
    PyObject *empty_bytes;
    PyObject *empty_tuple;
    PyObject *zero;
    PyObject *known_headers[SMRT_H_COUNT];
    /* Call logging (log.c): the "sagemaker_rt_c" logger's `_cache` dict, NULL until logging
     * is imported; its log_key entry says whether calls log. */
    PyObject *log_cache;
    PyObject *log_key;
#define SMRT_DECLARE_STR(name) PyObject *s_##name;
    SMRT_INTERNED(SMRT_DECLARE_STR)
#undef SMRT_DECLARE_STR
    /* Per operation (SMRT_OP_*): its name, its parameter names (interned keyword names,
     * indexed as its member table in operations.h), and for each output member that is a
     * header its result key and the header's lower-case name (else NULL). */
    PyObject *op_name[SMRT_OP_COUNT];
    PyObject *op_params[SMRT_OP_COUNT][SMRT_MAX_MEMBERS];
    PyObject *op_out_key[SMRT_OP_COUNT][SMRT_MAX_MEMBERS];
    PyObject *op_out_header[SMRT_OP_COUNT][SMRT_MAX_MEMBERS];
} smrt_state;

/* Waiting without the GIL while still seeing Ctrl-C: a transfer's interrupt callback
 * (http.h) that takes the GIL back, runs Python's signal handlers (as a blocking call in the
 * interpreter does) and releases it again; nonzero (stop) when a handler raised, its
 * exception left set. `ud` is a smrt_gil_ctx whose `ts` the waiting thread saved. */
typedef struct smrt_gil_ctx {
    PyThreadState *ts;
} smrt_gil_ctx;
int smrt_ask_signals(void *ud); /* called without the GIL */
/* Whether this thread runs signal handlers (the main thread): other threads' waits need not
 * take the GIL to ask. */
int smrt_handles_signals(void);

/* module.c */
extern PyModuleDef smrt_module_def;
/* The state of our module, found from a type (ours or a Python subclass of ours). */
smrt_state *smrt_state_from_type(PyTypeObject *type);

/* operations.c: _core._operations(), the generated tables as Python data (for tests). */
PyObject *smrt_operations_dump(PyObject *module, PyObject *ignored);

/* client.c */
/* The settings a client's engine is made from: the attributes of one object
 * (sagemaker_rt_c._client.CoreSettings), read by a table (CFG_FIELDS). */
typedef enum { CFG_STR, CFG_OPT_STR, CFG_FLOAT, CFG_INT, CFG_BOOL } cfg_kind;

typedef struct smrt_core_settings {
    PyObject *url_prefix, *base_path, *url_query, *host, *region, *service, *user_agent;
    PyObject *wire_prefix, *wire_query, *wire_host;
    PyObject *ca_bundle, *proxy, *proxy_ca_bundle, *client_cert, *client_key, *retry_mode;
    PyObject *proxy_client_cert, *proxy_client_key, *proxy_forwarding, *proxy_authorization;
    double connect_timeout, read_timeout;
    long long max_pool_connections, max_attempts;
    int tcp_keepalive, verify, retry_read_timeouts, parameter_validation, unsigned_requests;
    int wire_label_escape, call_error, proxy_verify;
} smrt_core_settings;
/* What every driver of the engine (client.c, nested.c) does between steps. `owner` is the
 * object whose test hooks are asked (_random, _sleep: attributes, None or missing when off). */
/* The backoff jitter from owner._random(), or -1.0 when there is no such hook (the engine's
 * draw stands); *err set (an exception too) when the hook failed. */
double smrt_driver_jitter(smrt_state *st, PyObject *owner, int *err);
/* Wait `seconds`: owner._sleep(seconds) when set (the seconds then count on e's limiter clock),
 * else a sleep in SMRT_WAIT_SLICE_MS slices with the GIL released, signal handlers run between
 * them (Ctrl-C ends a backoff at once). 0, or -1 with an exception. */
int smrt_driver_sleep(smrt_state *st, PyObject *owner, smrt_engine *e, double seconds);
/* Raise for a call that ended SMRT_STEP_ABORTED (interrupted, out of memory, signing failed,
 * the libraries missing). */
void smrt_driver_raise_aborted(const smrt_call *call);
/* Raise `exc` (a new reference, consumed; NULL: an exception is already set). */
void smrt_raise_exception_object(PyObject *exc);

/* Read `obj`'s settings into `cs` (zeroed first by the caller; new references in its object
 * fields: smrt_settings_release, also after a failure). 0, or -1 with TypeError naming the
 * attribute and `who`. */
int smrt_settings_read(PyObject *obj, smrt_core_settings *cs, const char *who);
void smrt_settings_release(smrt_core_settings *cs);
/* Set `e` up from `cs` (its previous settings cleared first): strings, retry state, pool.
 * 0, or -1 with an exception and `e`'s settings cleared. */
int smrt_engine_configure(smrt_engine *e, const smrt_core_settings *cs);

int smrt_client_type_add(PyObject *module, smrt_state *st);

/* One call's arguments, converted. Pointers borrow from objects the caller keeps alive. */
typedef struct smrt_call_args {
    int op;                             /* SMRT_OP_*: set before smrt_client_prepare */
    PyObject *values[SMRT_MAX_MEMBERS]; /* borrowed from the caller */
    smrt_call_input in;                 /* what the engine sends */
    char num[SMRT_MAX_MEMBERS][24];     /* integer members, formatted */
    PyObject *body_owner; /* new reference keeping `in.body` alive */
    Py_buffer view;       /* when the body came through the buffer protocol */
    int have_view;
} smrt_call_args;
/* Release what smrt_client_prepare took (safe on a zeroed or failed one). Needs the GIL. */
void smrt_call_args_release(smrt_call_args *a);
/* Everything before a call of `a->op` is sent, as the client's methods do it: keyword
 * arguments converted and checked (botocore's validation errors), no-request-possible
 * errors, a credentials refresh when due, the credentials (a new reference into *creds;
 * NULL for unsigned clients). 0, or -1 with an exception set. Needs the GIL. `client` is a
 * _core.Client. */
int smrt_client_prepare(PyObject *client, smrt_call_args *a, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames, smrt_creds **creds);
/* An HTTP error response parsed as the client's methods parse it: (code, retry_after,
 * parsed), or NULL with an exception. Needs the GIL. */
PyObject *smrt_client_parse_error(PyObject *client, const smrt_response *r);
/* What a call that ended with `step` (RESPONSE, FAILED, ABORTED) gives its caller, from its
 * response `r` (moved out of its connection) and `parsed` (its last smrt_client_parse_error,
 * or NULL): the response dict with Body as bytes, or NULL with the call's exception raised.
 * Needs the GIL. */
PyObject *smrt_client_outcome(PyObject *client, smrt_call *call, smrt_step step, smrt_response *r,
                              PyObject *parsed);
/* The client's engine (borrowed; lives as long as the client). */
smrt_engine *smrt_client_engine(PyObject *client);
/* A request given as a dict of keyword arguments, converted for the engine (batch.c): what
 * keeps its strings alive, and its arguments. */
typedef struct smrt_pyrequest {
    smrt_call_args a;
    PyObject *kwnames;                /* the request's keys (tuple) */
    PyObject *vals[SMRT_MAX_MEMBERS]; /* its values: references keeping a.in's pointers valid */
    Py_ssize_t n_vals;
} smrt_pyrequest;
/* Convert `req` (a dict of operation `op`'s keyword arguments; `index` names it in messages,
 * < 0: not a batch) as the client's method converts its arguments (smrt_client_prepare). 0,
 * or -1 with the exception the method would raise set. Release with smrt_pyrequest_release
 * either way. Needs the GIL. */
int smrt_pyrequest_prepare(PyObject *client, int op, PyObject *req, long long index, smrt_pyrequest *rq,
                           smrt_creds **creds);
void smrt_pyrequest_release(smrt_pyrequest *rq);
/* The exception set, cleared and returned as an object (its traceback attached; NULL when
 * none was set). */
PyObject *smrt_take_exception(void);
/* The batch iterator type (batch.c). */
int smrt_batch_type_add(PyObject *module, smrt_state *st);
/* The asyncio client's engine type (aio.c). */
int smrt_aio_type_add(PyObject *module, smrt_state *st);
/* What client.c's driver makes of a response, shared with the other drivers (nested.c): the
 * headers dict as botocore shows it; why a TLS set-up failed (None or (what, detail)); a
 * transport outcome's name for the transport_error hook. */
PyObject *smrt_headers_dict(smrt_state *st, const smrt_response *r);
PyObject *smrt_tls_detail(const smrt_response *r);
const char *smrt_xfer_kind_name(smrt_xfer_kind k);

/* nested.c: _core.nested_client() and its NestedClient type (st->nested_type, not exported),
 * the credential chain's STS / SSO / SSO OIDC calls. */
int smrt_nested_type_add(PyObject *module, smrt_state *st);

/* body.c */
int smrt_body_type_add(PyObject *module, smrt_state *st);
/* A new RawStream over `data` (bytes; a new reference is taken): length is the
 * Content-Length (-1 if none), broken an SMRT_BODY_* kind, url (may be NULL) the request's. */
PyObject *smrt_raw_new(smrt_state *st, PyObject *data, long long length, int broken, PyObject *url);
/* A new StreamingBody around a new RawStream. `content_length` is the header (str) or
 * NULL. Without an installed body class, returns the RawStream itself. */
PyObject *smrt_body_new(smrt_state *st, PyObject *data, PyObject *content_length, int broken, PyObject *url);

/* A StreamingBody over a response whose body is still arriving on `conn` (borrowed from
 * `pool`, which `owner` keeps alive): reads wait for bytes, the connection goes back to the
 * pool at the body's end. Takes `conn` over, also on failure (NULL). */
PyObject *smrt_body_new_live(smrt_state *st, PyObject *owner, smrt_pool *pool, smrt_conn *conn,
                             PyObject *content_length, PyObject *url);

/* evstream.c: _core.EventStreamDecoder (eventstream.h for Python). */
int smrt_evstream_type_add(PyObject *module);

/* The RawStream alone, live over `conn` (as smrt_body_new_live; `length` the Content-Length
 * or -1). Takes `conn` over, also on failure (NULL). */
PyObject *smrt_raw_new_live(smrt_state *st, PyObject *owner, smrt_pool *pool, smrt_conn *conn, long long length,
                            PyObject *url);
/* The bytes a RawStream has ready, waiting (without the GIL) for at least one when it has none
 * and its body is still arriving; b"" at the body's end; NULL with the RawStream's exception
 * (ProtocolError, ReadTimeout ...) when the body broke. */
PyObject *smrt_raw_read_some(PyObject *raw);
/* Did the body end before its Content-Length (a clean close, nothing raised by the reads)? */
int smrt_raw_cut_short(PyObject *raw);
/* For a driver that waits elsewhere (aio.c): a live RawStream with nothing buffered gives its
 * connection (marked busy: other reads refuse) for one smrt_conn_read on another thread; NULL
 * when there is nothing to wait for (no exception) or it is busy (RuntimeError). */
smrt_conn *smrt_raw_wait_begin(PyObject *raw);
/* After that read returned `kind`: the stream takes the bytes (a break marked, the connection
 * given back at the end). 0, or -1 with an exception. */
int smrt_raw_wait_end(PyObject *raw, smrt_xfer_kind kind);
/* A read of `raw` would wait for the network now. */
int smrt_raw_must_wait(PyObject *raw);

/* evstream.c: the decoder object's parts, for the response stream (stream.c). `dec` is an
 * _core.EventStreamDecoder. */
/* Feed `data` (bytes, kept until the decoder has read it). 0, or -1 with an exception. */
int smrt_esobj_feed(PyObject *dec, PyObject *data);
/* The next message: SMRT_ES_MESSAGE (*m valid until the next call), SMRT_ES_MORE, or -1 with
 * botocore's exception for a malformed stream set. */
int smrt_esobj_next(PyObject *dec, smrt_es_message *m);
/* The message's headers as botocore's decoder gives them (a dict), or NULL with its exception
 * (then the message is put back, as the Python API does). */
PyObject *smrt_esobj_headers(PyObject *dec, const smrt_es_message *m);
/* Bytes held that no message has used. */
size_t smrt_esobj_pending(PyObject *dec);
PyObject *smrt_esobj_new(smrt_state *st);

/* stream.c: the response stream of InvokeEndpointWithResponseStream. */
int smrt_stream_type_add(PyObject *module, smrt_state *st);
/* An EventStream (sagemaker_rt_c.response.EventStream) over `raw` (a RawStream) for operation
 * `op_i`: iteration yields the events as they arrive. */
PyObject *smrt_event_stream_new(smrt_state *st, int op_i, PyObject *raw);

/* log.c: debug logging of the call path through the hooks in sagemaker_rt_c/_log.py. */
/* The key _log_refresh stores its answer under (sagemaker_rt_c/_log.py _KEY). */
#define SMRT_LOG_KEY "sagemaker_rt_c: call path logs"
/* Whether this call logs: 1 or 0 (one dict lookup, unless logging's levels changed since the
 * last call), -1 with an exception. */
int smrt_log_enabled(smrt_state *st);
/* Only when smrt_log_enabled said 1. Each returns 0, or -1 with the hook's exception. */
/* Before the first attempt: the call's keyword arguments (Body by its size only). */
int smrt_log_request(smrt_state *st, PyObject *client, PyObject *const *args, PyObject *kwnames,
                     Py_ssize_t body_len);
/* After an attempt that failed, once the retry is decided: its outcome, the decision and
 * the delay before the next attempt (`parsed` is _parse_error's tuple, or NULL). */
int smrt_log_attempt(smrt_state *st, PyObject *client, smrt_conn *conn, const smrt_retry *retry,
                     const smrt_attempt *at, const char *kind_name, int retried, double delay, PyObject *parsed);
/* After the call succeeded: the response it returns, still in `conn`. */
int smrt_log_response(smrt_state *st, PyObject *client, smrt_conn *conn, PyObject *result);

/* errors.c */
/* Call hook `which` (SMRT_HOOK_*) with `args` (a new reference, consumed; NULL: an error is
 * set) and raise the exception it returns (or propagate the one it raised). Always NULL. */
PyObject *smrt_raise_from_hook(smrt_state *st, int which, PyObject *args);
/* Raise an exception for an OpenSSL failure, with the reason from its error queue (and
 * clear the queue). Keeps an exception that is already set. Returns NULL. */
PyObject *smrt_raise_openssl(void);
/* Raise for a non-OK smrt status (ENOMEM -> MemoryError, ECRYPTO -> OpenSSL, ...). */
PyObject *smrt_raise_status(int status, const char *what);

#endif
