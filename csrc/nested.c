/* The NestedClient type: the credential chain's small clients (STS, SSO, SSO OIDC) on the
 * call engine (engine.h). Each has its own engine (connection pool, retry state and quota,
 * settings) made from the nested client's settings; its one method runs one raw request
 * (smrt_raw_request: the Python layer builds the method, path, query, headers and body)
 * through the engine's states with the GIL released for each step, sleeping its backoffs in
 * slices that let Ctrl-C through, asking the Python layer to parse error bodies, and returns
 * the response or raises botocore's exceptions. The retry policy is retry.c's, the service's
 * own rules included (smrt_retry_service_rules): there is no other.
 *
 * Made only by _core.nested_client(settings, service_name), fully set up: the type is not
 * exported, cannot be instantiated or subclassed from Python, so no object of it is ever
 * half-initialised. Each call names its owner (sagemaker_rt_c/credentials/_nested.py's
 * NestedClient), the object asked on the slow paths: _transport_error (through the
 * transport_error hook, as for the Client), _client_error, and the test hooks _sleep and
 * _random. The owner is not kept between calls: no reference cycle holds the pool. */
#define _GNU_SOURCE
#include <stdint.h>
#include <time.h>

#include "binding.h"
#include "retry.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    smrt_engine eng;
    int engine_ready;
    const smrt_retry_rule *rules; /* the service's retry rules (retry.h), or NULL */
    PyObject *weakrefs;
} NestedObject;

/* ---- the object ----------------------------------------------------------------------------- */

/* Set up a new object's engine from `settings` (a CoreSettings whose url_prefix is the
 * endpoint's origin: requests carry their whole path), as a client's engine is set up. */
static int nested_setup(NestedObject *self, PyObject *settings, PyObject *service_name)
{
    smrt_core_settings cs;
    memset(&cs, 0, sizeof(cs));
    int rc = -1;
    const char *service = service_name == Py_None ? NULL : PyUnicode_AsUTF8(service_name);
    if ((service != NULL || service_name == Py_None) && smrt_settings_read(settings, &cs, "NestedClient") == 0 &&
        smrt_engine_configure(&self->eng, &cs) == 0) {
        self->rules = smrt_retry_service_rules(service);
        rc = 0;
    }
    smrt_settings_release(&cs);
    return rc;
}

/* _core.nested_client(settings, service_name=None): a new NestedClient, set up. */
static PyObject *nested_new(PyObject *module, PyObject *args)
{
    PyObject *settings, *service_name = Py_None;
    if (!PyArg_ParseTuple(args, "O|O:nested_client", &settings, &service_name)) {
        return NULL;
    }
    if (service_name != Py_None && !PyUnicode_Check(service_name)) {
        PyErr_SetString(PyExc_TypeError, "service_name must be a str or None");
        return NULL;
    }
    smrt_state *st = PyModule_GetState(module);
    PyTypeObject *type = st->nested_type;
    NestedObject *self = (NestedObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    if (smrt_engine_init(&self->eng) != SMRT_OK) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_RuntimeError, "cannot create a mutex");
        return NULL;
    }
    self->engine_ready = 1;
    if (nested_setup(self, settings, service_name) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int nested_traverse(NestedObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void nested_dealloc(NestedObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    if (self->engine_ready) {
        smrt_engine_destroy(&self->eng);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* ---- outcomes ------------------------------------------------------------------------------- */

/* The exception for a transport failure, built by the Python layer (the transport_error hook:
 * owner._transport_error), naming botocore's request URL `url`. */
static PyObject *transport_exception(NestedObject *self, PyObject *owner, smrt_conn *conn, smrt_xfer_kind kind,
                                     PyObject *url)
{
    smrt_response *r = smrt_conn_response(conn);
    PyObject *tls = kind == SMRT_XFER_SSL_ERROR ? smrt_tls_detail(r) : Py_NewRef(Py_None);
    if (tls == NULL) {
        return NULL;
    }
    PyObject *fn = self->st->hook[SMRT_HOOK_transport_error];
    if (fn == NULL) {
        Py_DECREF(tls);
        PyErr_SetString(PyExc_RuntimeError, "sagemaker_rt_c._core is used without sagemaker_rt_c._client");
        return NULL;
    }
    return PyObject_CallFunction(fn, "OsOsN", owner, smrt_xfer_kind_name(kind), url, r->errbuf, tls);
}

/* The error response `conn` holds, parsed by `parse_error`: (code, retry_after_s or None,
 * parsed), or NULL with an exception. */
static PyObject *parse_error_response(smrt_state *st, smrt_conn *conn, PyObject *parse_error, PyObject **headers_out)
{
    smrt_response *r = smrt_conn_response(conn);
    PyObject *headers = smrt_headers_dict(st, r);
    if (headers == NULL) {
        return NULL;
    }
    PyObject *parsed = PyObject_CallFunction(parse_error, "lOy#", r->status, headers,
                                             r->body.data ? r->body.data + r->body_pos : "",
                                             (Py_ssize_t)(r->body.len - r->body_pos));
    if (parsed != NULL && (!PyTuple_Check(parsed) || PyTuple_GET_SIZE(parsed) != 3)) {
        Py_CLEAR(parsed);
        PyErr_SetString(PyExc_SystemError, "parse_error must return (code, retry_after, parsed)");
    }
    if (parsed == NULL) {
        Py_DECREF(headers);
        return NULL;
    }
    *headers_out = headers;
    return parsed;
}

/* report(attempt, status, headers, code, exception, reason, retried, delay) for the log: the
 * attempt's outcome (`headers` and `parsed` of an HTTP error, `exc` of a transport failure;
 * none of them for a success, whose `reason` is NULL) and the retry decision. */
static int report_attempt(PyObject *report, const smrt_attempt *at, const char *reason, PyObject *headers,
                          PyObject *parsed, PyObject *exc, int retried, double delay)
{
    PyObject *code = parsed ? PyTuple_GET_ITEM(parsed, 0) : Py_None;
    PyObject *status = at->kind == SMRT_XFER_OK ? PyLong_FromLong(at->status) : Py_NewRef(Py_None);
    if (status == NULL) {
        return -1;
    }
    PyObject *r = PyObject_CallFunction(report, "iNOOOzOd", at->attempt, status, headers ? headers : Py_None, code,
                                        exc ? exc : Py_None, reason, retried ? Py_True : Py_False, delay);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Raise the modeled or generic error of the error response the call gave up on: its parsed
 * dict gets botocore's retry metadata, then owner._client_error(parsed, operation) makes the
 * exception. */
static void raise_client_error(NestedObject *self, PyObject *owner, const smrt_call *call, PyObject *parsed,
                               PyObject *operation)
{
    PyObject *p = PyTuple_GET_ITEM(parsed, 2);
    smrt_state *st = self->st;
    PyObject *meta = PyDict_Check(p) ? PyDict_GetItemWithError(p, st->s_ResponseMetadata) : NULL;
    if (meta == NULL && !PyErr_Occurred() && PyDict_Check(p)) {
        PyObject *fresh = PyDict_New();
        if (fresh == NULL || PyDict_SetItem(p, st->s_ResponseMetadata, fresh) < 0) {
            Py_XDECREF(fresh);
            return;
        }
        meta = fresh;
        Py_DECREF(fresh); /* p holds it */
    }
    if (meta == NULL || !PyDict_Check(meta)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError, "parsed error response without ResponseMetadata");
        }
        return;
    }
    PyObject *n = PyLong_FromLong(call->attempt - 1);
    if (n == NULL || PyDict_SetItem(meta, st->s_RetryAttempts, n) < 0 ||
        (call->decision.max_attempts_reached && PyDict_SetItem(meta, st->s_MaxAttemptsReached, Py_True) < 0) ||
        (call->decision.quota_reached && PyDict_SetItem(meta, st->s_RetryQuotaReached, Py_True) < 0)) {
        Py_XDECREF(n);
        return;
    }
    Py_DECREF(n);
    PyObject *exc = PyObject_CallMethod(owner, "_client_error", "OO", p, operation);
    if (exc == NULL) {
        return;
    }
    if (PyExceptionInstance_Check(exc)) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    } else {
        PyErr_Format(PyExc_SystemError, "_client_error returned %R, not an exception", exc);
    }
    Py_DECREF(exc);
}

/* ---- the call ------------------------------------------------------------------------------- */

/* UTF-8 of a str (borrowed from it), or NULL with TypeError naming `what`. */
static const char *utf8_of(PyObject *o, Py_ssize_t *n, const char *what)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str", what);
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(o, n);
}

static PyObject *nested_call(NestedObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"owner",   "operation",   "method",  "url",         "path",   "query",  "target",
                             "headers", "body",        "credentials", "modeled", "parse_error", "refuse", "report",
                             NULL};
    PyObject *owner, *operation, *url, *path, *query, *target, *headers_in, *body, *credentials, *modeled_in;
    PyObject *parse_error, *refuse = Py_None, *report = Py_None;
    const char *method;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OUsUUOOOOOOO|OO:call", kwlist, &owner, &operation, &method, &url,
                                     &path, &query, &target, &headers_in, &body, &credentials, &modeled_in,
                                     &parse_error, &refuse, &report)) {
        return NULL;
    }
    if (!PyCallable_Check(parse_error) || (report != Py_None && !PyCallable_Check(report))) {
        PyErr_SetString(PyExc_TypeError, "parse_error and report must be callable");
        return NULL;
    }
    if (body != Py_None && !PyBytes_Check(body)) {
        PyErr_SetString(PyExc_TypeError, "body must be bytes or None");
        return NULL;
    }
    smrt_state *st = self->st;
    smrt_raw_request rq;
    memset(&rq, 0, sizeof(rq));
    smrt_header hdrs[SMRT_MAX_REQUEST_HEADERS];
    const char *modeled[SMRT_MAX_MEMBERS + 1];
    PyObject *headers = NULL, *modeled_t = NULL, *result = NULL, *parsed = NULL, *resp_headers = NULL;
    smrt_creds *creds = NULL;
    Py_ssize_t n;
    rq.method = method;
    if (!(rq.path = utf8_of(path, &n, "path"))) {
        return NULL;
    }
    rq.path_len = (size_t)n;
    if (query != Py_None) {
        if (!(rq.query = utf8_of(query, &n, "query"))) {
            return NULL;
        }
        rq.query_len = (size_t)n;
    }
    if (target != Py_None) {
        if (!(rq.target = utf8_of(target, &n, "target"))) {
            return NULL;
        }
        rq.target_len = (size_t)n;
    }
    if (refuse != Py_None && !(rq.refuse = utf8_of(refuse, &n, "refuse"))) {
        return NULL;
    }
    if (body != Py_None) {
        rq.body = PyBytes_AS_STRING(body);
        rq.body_len = (size_t)PyBytes_GET_SIZE(body);
    }
    /* Tuples of our own: the strings they hold stay alive whatever the caller does. */
    if (!(headers = PySequence_Tuple(headers_in)) || !(modeled_t = PySequence_Tuple(modeled_in))) {
        goto done;
    }
    /* Room for the engine's own headers (a dozen) among the connection's SMRT_MAX_REQUEST_HEADERS. */
    if (PyTuple_GET_SIZE(headers) > SMRT_MAX_REQUEST_HEADERS - 16 || PyTuple_GET_SIZE(modeled_t) > SMRT_MAX_MEMBERS) {
        PyErr_SetString(PyExc_ValueError, "too many headers or modeled errors");
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(headers); i++) {
        PyObject *pair = PyTuple_GET_ITEM(headers, i);
        Py_ssize_t kn, vn;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "headers must be (name, value) pairs");
            goto done;
        }
        const char *k = utf8_of(PyTuple_GET_ITEM(pair, 0), &kn, "a header name");
        const char *v = k ? utf8_of(PyTuple_GET_ITEM(pair, 1), &vn, "a header value") : NULL;
        if (v == NULL) {
            goto done;
        }
        hdrs[i] = (smrt_header){k, (size_t)kn, v, (size_t)vn};
    }
    rq.headers = hdrs;
    rq.n_headers = (size_t)PyTuple_GET_SIZE(headers);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(modeled_t); i++) {
        if (!(modeled[i] = utf8_of(PyTuple_GET_ITEM(modeled_t, i), &n, "a modeled error code"))) {
            goto done;
        }
    }
    modeled[PyTuple_GET_SIZE(modeled_t)] = NULL;
    rq.modeled_errors = modeled;
    rq.rules = self->rules;
    rq.whole_body = 1;
    rq.sign_flags = SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH;
    if (credentials != Py_None) {
        PyObject *ak, *sk, *tok = Py_None;
        if (!PyArg_ParseTuple(credentials, "UU|O:credentials", &ak, &sk, &tok)) {
            goto done;
        }
        Py_ssize_t akn, skn, tokn = 0;
        const char *aks = PyUnicode_AsUTF8AndSize(ak, &akn), *sks = PyUnicode_AsUTF8AndSize(sk, &skn);
        const char *toks = tok == Py_None ? NULL : utf8_of(tok, &tokn, "the session token");
        if (aks == NULL || sks == NULL || (tok != Py_None && toks == NULL)) {
            goto done;
        }
        if (toks != NULL && tokn == 0) {
            toks = NULL; /* an empty token is none (botocore's signer) */
        }
        if ((creds = smrt_creds_new(aks, (size_t)akn, sks, (size_t)skn, toks, (size_t)tokn)) == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }

    smrt_call call;
    smrt_call_init_raw(&call, &self->eng, &rq, creds, SMRT_READ_ALL);
    creds = NULL; /* the call's now */
    smrt_gil_ctx gctx;
    for (;;) {
        call.interrupt = smrt_handles_signals() ? smrt_ask_signals : NULL;
        call.interrupt_ud = &gctx;
        gctx.ts = PyEval_SaveThread();
        smrt_step step = smrt_call_step(&call);
        PyEval_RestoreThread(gctx.ts);
        smrt_conn *conn = smrt_call_conn(&call);
        if (step == SMRT_STEP_RESPONSE) {
            smrt_response *r = smrt_conn_response(conn);
            PyObject *h = smrt_headers_dict(st, r);
            PyObject *data = h ? PyBytes_FromStringAndSize(r->body.data ? r->body.data + r->body_pos : "",
                                                           (Py_ssize_t)(r->body.len - r->body_pos))
                               : NULL;
            if (data != NULL && report != Py_None &&
                report_attempt(report, &call.at, NULL, h, NULL, NULL, 0, 0.0) < 0) {
                Py_CLEAR(data);
            }
            if (data != NULL) {
                result = Py_BuildValue("(lONiO)", r->status, h, data, call.attempt - 1,
                                       call.max_reached ? Py_True : Py_False);
            }
            Py_XDECREF(h);
            break;
        }
        if (step == SMRT_STEP_ABORTED) {
            smrt_driver_raise_aborted(&call);
            break;
        }
        if (step == SMRT_STEP_CLASSIFY) {
            Py_CLEAR(parsed);
            Py_CLEAR(resp_headers);
            if ((parsed = parse_error_response(st, conn, parse_error, &resp_headers)) == NULL) {
                break;
            }
            PyObject *code = PyTuple_GET_ITEM(parsed, 0);
            PyObject *retry_after = PyTuple_GET_ITEM(parsed, 1);
            const char *code_s = PyUnicode_Check(code) ? PyUnicode_AsUTF8(code) : NULL;
            if (PyErr_Occurred()) {
                break;
            }
            /* code_s lives in `parsed`, kept until the next classification or the end. */
            smrt_call_classified(&call, code_s, PyFloat_Check(retry_after) ? PyFloat_AS_DOUBLE(retry_after) : -1.0);
            continue;
        }
        if (step == SMRT_STEP_WAIT) {
            if (call.retrying) {
                int err = 0;
                double r = smrt_driver_jitter(st, owner, &err);
                if (!err && r >= 0) {
                    smrt_call_set_jitter(&call, r);
                }
                if (!err && report != Py_None) {
                    PyObject *exc = call.at.kind == SMRT_XFER_OK ? NULL : transport_exception(self, owner, conn, call.kind, url);
                    err = (call.at.kind != SMRT_XFER_OK && exc == NULL) ||
                          report_attempt(report, &call.at, smrt_retry_reason(self->eng.retry, &call.at),
                                         resp_headers, parsed, exc, 1, call.delay) < 0;
                    Py_XDECREF(exc);
                }
                Py_CLEAR(parsed);
                Py_CLEAR(resp_headers);
                if (err) {
                    break;
                }
            }
            if (smrt_driver_sleep(st, owner, &self->eng, call.delay) < 0) {
                break;
            }
            continue;
        }
        /* SMRT_STEP_FAILED: raise what the last attempt produced. */
        if (parsed != NULL && !call.body_broke) {
            if (report == Py_None ||
                report_attempt(report, &call.at, smrt_retry_reason(self->eng.retry, &call.at), resp_headers,
                               parsed, NULL, 0, 0.0) == 0) {
                raise_client_error(self, owner, &call, parsed, operation);
            }
            break;
        }
        PyObject *exc = transport_exception(self, owner, conn, call.kind, url);
        if (exc != NULL && report != Py_None &&
            report_attempt(report, &call.at, smrt_retry_reason(self->eng.retry, &call.at), NULL, NULL, exc, 0, 0.0) <
                0) {
            Py_CLEAR(exc);
        }
        smrt_raise_exception_object(exc);
        break;
    }
    smrt_call_finish(&call);
done:
    smrt_creds_release(creds);
    Py_XDECREF(parsed);
    Py_XDECREF(resp_headers);
    Py_XDECREF(headers);
    Py_XDECREF(modeled_t);
    return result;
}

static PyObject *nested_close_connections(NestedObject *self, PyObject *Py_UNUSED(ignored))
{
    smrt_pool *pool = self->eng.pool;
    if (pool) {
        Py_BEGIN_ALLOW_THREADS
        smrt_pool_drain(pool);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyMethodDef nested_methods[] = {
    {"call", (PyCFunction)(void (*)(void))nested_call, METH_VARARGS | METH_KEYWORDS,
     "call($self, owner, operation, method, url, path, query, target, headers, body, credentials, "
     "modeled, parse_error, refuse=None, report=None)\n--\n\n"
     "Run one request through the call engine, with botocore's retries (csrc/retry.c).\n\n"
     "owner: asked on the slow paths (_transport_error, _client_error, _sleep, _random);\n"
     "url: the request URL botocore names in its errors; path and query: what is signed;\n"
     "target: the request line's target when it differs from path?query (or None);\n"
     "headers: (name, value) pairs, sent as UTF-8 and signed; body: bytes or None;\n"
     "credentials: (access_key, secret_key, token or None), or None: unsigned;\n"
     "modeled: the operation's modeled error codes; parse_error(status, headers, body) ->\n"
     "(code, retry_after_s or None, parsed dict); refuse: the reason every attempt fails\n"
     "unsent (HTTPClientError), or None; report(attempt, status, headers, code, exception,\n"
     "reason, retried, delay): called after each attempt (for the log).\n\n"
     "Returns (status, headers, body, retry_attempts, max_attempts_reached) for a response\n"
     "below 300; raises owner._client_error(parsed, operation) for an error response, and\n"
     "botocore's transport exceptions (owner._transport_error) otherwise."},
    {"_close_connections", (PyCFunction)nested_close_connections, METH_NOARGS,
     "_close_connections($self, /)\n--\n\nClose the idle connections."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef nested_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(NestedObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot nested_slots[] = {
    {Py_tp_doc, "The C core of one of the credential chain's STS, SSO and SSO OIDC clients: its own\n"
                "connection pool and retry state. Made by _core.nested_client(settings, service_name)."},
    {Py_tp_dealloc, nested_dealloc},
    {Py_tp_traverse, nested_traverse},
    {Py_tp_methods, nested_methods},
    {Py_tp_members, nested_members},
    {0, NULL},
};

static PyType_Spec nested_spec = {
    .name = "sagemaker_rt_c._core.NestedClient",
    .basicsize = sizeof(NestedObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = nested_slots,
};

static PyMethodDef nested_functions[] = {
    {"nested_client", nested_new, METH_VARARGS,
     "nested_client(settings, service_name=None, /)\n--\n\n"
     "The C core of a credential-chain client (STS, SSO, SSO OIDC): its own connection pool\n"
     "and retry state, from a CoreSettings whose url_prefix is the endpoint's origin\n"
     "(scheme://host[:port]); service_name (botocore's) selects the service's retry rules."},
    {NULL, NULL, 0, NULL},
};

int smrt_nested_type_add(PyObject *module, smrt_state *st)
{
    /* The type stays out of the module's namespace: objects come from nested_client only. */
    st->nested_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &nested_spec, NULL);
    if (st->nested_type == NULL) {
        return -1;
    }
    return PyModule_AddFunctions(module, nested_functions);
}
