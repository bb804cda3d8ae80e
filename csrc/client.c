/* The Client type: the binding of the call engine (engine.h). It converts a call's keyword
 * arguments into the engine's input, drives the engine's steps (releasing the GIL for each,
 * sleeping its waits, asking the Python layer to parse error bodies) and converts its
 * outcome into boto3's response dict or exception, without a Python frame on success. The
 * Python subclass (sagemaker_rt_c._client.SageMakerRuntime) adds the rest of boto3's client
 * surface. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "binding.h"
#include "headers.h"
#include "retry.h"

#include <structmember.h>

/* ---- the object ----------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    /* Set once __init__ has completed (with the GIL held): the engine's settings are then
     * fixed for the life of the client. A second __init__ is refused, and the methods that
     * need them refuse a client that was never initialised (made by __new__ alone, or whose
     * __init__ failed). */
    int ready;
    smrt_engine eng;
    int engine_ready;
    int call_error;        /* no request can be sent: calls raise through the call_error hook */
    int parameter_validation;
    double refresh_at;     /* wall-clock time from which calls first refresh credentials (0: never) */
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

/* ---- waiting without the GIL ---------------------------------------------------------------- */

int smrt_ask_signals(void *ud)
{
    smrt_gil_ctx *ctx = ud;
    PyEval_RestoreThread(ctx->ts);
    int stop = PyErr_CheckSignals() < 0;
    ctx->ts = PyEval_SaveThread();
    return stop;
}

int smrt_handles_signals(void)
{
#if PY_VERSION_HEX < 0x030D0000
    return _PyOS_IsMainThread();
#else
    return 1; /* no public test; PyErr_CheckSignals does nothing in other threads */
#endif
}

/* ---- parameters --------------------------------------------------------------------------- */

/* Each member index j set in `mask`, in increasing order (the model's). */
#define FOR_EACH_MEMBER(j, mask)                                                                                       \
    for (unsigned m_ = (mask), j; m_ && (j = (unsigned)__builtin_ctz(m_), 1); m_ &= m_ - 1)

void smrt_call_args_release(smrt_call_args *a)
{
    if (a->have_view) {
        PyBuffer_Release(&a->view);
        a->have_view = 0;
    }
    Py_CLEAR(a->body_owner);
}

/* The slow path: let the Python validator (botocore's messages) explain what is wrong.
 * Always returns -1 with an exception set. */
static int validation_failed(ClientObject *self, int op, PyObject *const *args, PyObject *kwnames, const char *detail)
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
    smrt_raise_from_hook(self->st, SMRT_HOOK_validation_failed,
                         Py_BuildValue("(ONsi)", self->st->op_name[op], params, detail, self->parameter_validation));
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

/* The payload member: bytes, bytearray, str and file-like objects as botocore; any contiguous
 * buffer beyond it. Bytes-like bodies are sent in place, never copied. */
static int parse_body(ClientObject *self, PyObject *const *args, PyObject *kwnames, smrt_call_args *a, PyObject *body)
{
    int op = a->op;
    smrt_call_input *in = &a->in;
    Py_ssize_t n = 0;
    if (PyBytes_Check(body)) {
        in->body = PyBytes_AS_STRING(body);
        in->body_len = (size_t)PyBytes_GET_SIZE(body);
        a->body_owner = Py_NewRef(body);
        return 0;
    }
    if (PyUnicode_Check(body)) {
        if ((in->body = PyUnicode_AsUTF8AndSize(body, &n)) == NULL) {
            PyErr_Clear();
            return validation_failed(self, op, args, kwnames, "Body cannot be encoded as UTF-8");
        }
        in->body_len = (size_t)n;
        a->body_owner = Py_NewRef(body);
        return 0;
    }
    if (!PyByteArray_Check(body) && !PyMemoryView_Check(body)) {
        PyObject *read = NULL;
        if (get_optional_attr(body, self->st->s_read, &read) < 0) {
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
            a->body_owner = data;
            if (PyUnicode_Check(data)) {
                if ((in->body = PyUnicode_AsUTF8AndSize(data, &n)) == NULL) {
                    return -1;
                }
                in->body_len = (size_t)n;
                return 0;
            }
            if (PyBytes_Check(data)) {
                in->body = PyBytes_AS_STRING(data);
                in->body_len = (size_t)PyBytes_GET_SIZE(data);
                return 0;
            }
            body = data; /* a bytearray or other buffer from read(): below */
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
            return validation_failed(self, op, args, kwnames, "Body buffer is not C-contiguous");
        }
        a->have_view = 1;
        in->body = a->view.buf;
        in->body_len = (size_t)a->view.len;
        return 0;
    }
    if (a->body_owner) {
        PyErr_Format(PyExc_TypeError, "the read() method of parameter Body returned %.100s, not bytes or str",
                     Py_TYPE(body)->tp_name);
        return -1;
    }
    return validation_failed(self, op, args, kwnames, "invalid type for Body");
}

/* Keyword arguments of operation `a->op` into `a`: names matched against the generated member
 * table, types and bounds checked as botocore's validator checks them (its messages come from
 * the Python validator, on the slow path). */
static int parse_args(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, smrt_call_args *a)
{
    smrt_state *st = self->st;
    int op_i = a->op;
    const smrt_operation *op = &SMRT_OPERATIONS[op_i];
    PyObject *const *names = st->op_params[op_i];
    smrt_call_input *in = &a->in;
    if (nargs > 0) {
        PyErr_Format(PyExc_TypeError, "%s() only accepts keyword arguments.", op->python_name);
        return -1;
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int found = -1;
        for (int j = 0; j < op->n_members; j++) {
            if (name == names[j]) {
                found = j;
                break;
            }
        }
        if (found < 0) {
            /* Not the interned object: compare by value (e.g. a **kwargs dict built at run time). */
            for (int j = 0; j < op->n_members; j++) {
                int eq = PyUnicode_Compare(name, names[j]);
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
            return validation_failed(self, op_i, args, kwnames, "unknown parameter");
        }
        a->values[found] = args[i];
        in->present |= 1u << found;
    }
    if ((in->present & op->required_mask) != op->required_mask) {
        return validation_failed(self, op_i, args, kwnames, "missing required parameter");
    }
    unsigned payload_bit = op->payload >= 0 ? 1u << op->payload : 0;
    FOR_EACH_MEMBER(j, in->present & ~payload_bit)
    {
        PyObject *v = a->values[j];
        const smrt_member *m = &op->members[j];
        if (m->type == SMRT_TYPE_INTEGER || m->type == SMRT_TYPE_LONG) {
            /* botocore: an int (bool included) within the model's range; sent as str() gives it. */
            if (!PyLong_Check(v)) {
                return validation_failed(self, op_i, args, kwnames, "invalid type");
            }
            int overflow = 0;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if ((x == -1 && PyErr_Occurred()) || overflow) {
                PyErr_Clear();
                return validation_failed(self, op_i, args, kwnames, "integer out of range");
            }
            /* botocore checks a minimum only. */
            if (self->parameter_validation && m->has_min && x < m->min) {
                return validation_failed(self, op_i, args, kwnames, "invalid range");
            }
            int len = PyBool_Check(v) ? snprintf(a->num[j], sizeof(a->num[j]), "%s", x ? "True" : "False")
                                      : snprintf(a->num[j], sizeof(a->num[j]), "%lld", x);
            in->str[j] = a->num[j];
            in->len[j] = (size_t)len;
            continue;
        }
        if (m->type != SMRT_TYPE_STRING || !PyUnicode_Check(v)) {
            return validation_failed(self, op_i, args, kwnames, "invalid type");
        }
        Py_ssize_t n;
        in->str[j] = PyUnicode_AsUTF8AndSize(v, &n);
        if (in->str[j] == NULL) {
            /* e.g. lone surrogates: not encodable */
            PyErr_Clear();
            return validation_failed(self, op_i, args, kwnames, "value cannot be encoded as UTF-8");
        }
        in->len[j] = (size_t)n;
        if (!(op->header_mask >> j & 1)) {
            continue;
        }
        if (!header_value_ok(in->str[j], n)) {
            return validation_failed(self, op_i, args, kwnames, "invalid header value");
        }
        /* Printable ASCII: its UTF-8 length is botocore's len(); botocore checks a minimum only. */
        if (self->parameter_validation && m->has_min && n < m->min) {
            return validation_failed(self, op_i, args, kwnames, "invalid length");
        }
    }
    if (op->payload >= 0 && (in->present & payload_bit)) {
        return parse_body(self, args, kwnames, a, a->values[op->payload]);
    }
    in->body = ""; /* no payload member given: an empty body, as botocore sends */
    in->body_len = 0;
    return 0;
}

/* ---- responses ------------------------------------------------------------------------------ */

/* Response headers as botocore shows them: lower-case names, values as http.client parses
 * them (leading blanks dropped), repeated headers joined with ", ". Latin-1, as http.client. */
static PyObject *headers_dict(smrt_state *st, const smrt_response *r)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    smrt_header_iter it;
    smrt_header_line h;
    /* The last header's name, a reference of ours: for a repeated name the dict keeps the
     * key object it had, and ours would be freed (an obs-fold line then looked it up). */
    PyObject *last_key = NULL;
    PyObject *key, *val = NULL;
    char name_buf[256];
    smrt_header_iter_init(&it, r->head.data, r->head.len);
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
            Py_XDECREF(last_key);
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
        Py_XSETREF(last_key, key);
    }
    Py_XDECREF(last_key);
    return d;
error_val:
    Py_XDECREF(val);
    Py_XDECREF(last_key);
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

/* How the body broke after the headers (SMRT_BODY_*). */
static int body_break(const smrt_response *r, smrt_xfer_kind kind)
{
    if (kind == SMRT_XFER_READ_TIMEOUT) {
        return SMRT_BODY_TIMEOUT;
    }
    if (kind == SMRT_XFER_CLOSED && strstr(r->errbuf, "reset by peer") != NULL) {
        return SMRT_BODY_RESET;
    }
    return SMRT_BODY_INCOMPLETE;
}

/* The response dict of a call that succeeded: ResponseMetadata, the operation's header
 * members, and its payload (a StreamingBody: of the bytes received, or live over the
 * connection while the body is still arriving, which the call then hands over). */
static PyObject *build_response(ClientObject *self, smrt_call *call, const smrt_response *r, int whole)
{
    smrt_state *st = self->st;
    int op_i = (int)(call->op - SMRT_OPERATIONS);
    const smrt_operation *op = call->op;
    PyObject *headers = NULL, *meta = NULL, *result = NULL, *status = NULL, *body = NULL, *retry_obj = NULL;
    headers = headers_dict(st, r);
    if (headers == NULL) {
        goto error;
    }
    meta = PyDict_New();
    result = PyDict_New();
    status = PyLong_FromLong(r->status);
    retry_obj = PyLong_FromLong(call->attempt - 1);
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
        (call->max_reached && PyDict_SetItem(meta, st->s_MaxAttemptsReached, Py_True) < 0) ||
        PyDict_SetItem(meta, st->s_RetryAttempts, retry_obj) < 0 || PyDict_SetItem(result, st->s_ResponseMetadata, meta) < 0) {
        goto error;
    }
    if (PyErr_Occurred()) {
        goto error;
    }
    for (int k = 0; k < op->n_output_members; k++) {
        if (st->op_out_header[op_i][k] != NULL &&
            copy_header(result, headers, st->op_out_header[op_i][k], st->op_out_key[op_i][k]) < 0) {
            goto error;
        }
    }
    if (op->response_body == SMRT_BODY_JSON) {
        /* Read whole (SMRT_READ_ALL): the members it carries, parsed as botocore parses them. */
        PyObject *fn = st->hook[SMRT_HOOK_json_output];
        PyObject *members = fn ? PyObject_CallFunction(fn, "Oy#", st->op_name[op_i], r->body.data ? r->body.data : "",
                                                       (Py_ssize_t)r->body.len)
                               : NULL;
        if (members == NULL || !PyDict_Check(members) || PyDict_Update(result, members) < 0) {
            if (members != NULL && !PyErr_Occurred()) {
                PyErr_SetString(PyExc_SystemError, "json_output must return a dict");
            }
            Py_XDECREF(members);
            goto error;
        }
        Py_DECREF(members);
        goto done;
    }
    PyObject *cl = PyDict_GetItemWithError(headers, kh[SMRT_H_CONTENT_LENGTH]);
    if (cl == NULL && PyErr_Occurred()) {
        goto error;
    }
    if (op->response_body == SMRT_BODY_EVENT_STREAM) {
        /* Its events, read as they arrive from a RawStream (live unless all is in). */
        long long length = -1;
        if (cl != NULL && PyUnicode_Check(cl)) {
            const char *s = PyUnicode_AsUTF8(cl);
            char *end = NULL;
            long long v = s && *s ? strtoll(s, &end, 10) : -1;
            length = end && *end == '\0' && v >= 0 ? v : -1;
            PyErr_Clear();
        }
        PyObject *url = PyUnicode_DecodeLatin1(r->url.data ? r->url.data : "", (Py_ssize_t)r->url.len, NULL);
        PyObject *raw = NULL;
        if (url != NULL && !r->complete && !call->body_broke) {
            raw = smrt_raw_new_live(st, (PyObject *)self, self->eng.pool, smrt_call_take_conn(call), length, url);
        } else if (url != NULL) {
            PyObject *data = PyBytes_FromStringAndSize(r->body.data ? r->body.data + r->body_pos : "",
                                                       (Py_ssize_t)(r->body.len - r->body_pos));
            raw = data ? smrt_raw_new(st, data, length, call->body_broke ? body_break(r, call->kind) : SMRT_BODY_OK,
                                      url)
                       : NULL;
            Py_XDECREF(data);
        }
        Py_XDECREF(url);
        body = raw ? smrt_event_stream_new(st, op_i, raw) : NULL;
        Py_XDECREF(raw);
    } else if (whole && r->complete && !call->body_broke) {
        /* A batch's result: the bytes themselves. */
        body = PyBytes_FromStringAndSize(r->body.data ? r->body.data + r->body_pos : "",
                                         (Py_ssize_t)(r->body.len - r->body_pos));
    } else if (!r->complete && !call->body_broke) {
        /* The body is still arriving: the caller reads it from the connection. */
        PyObject *url = PyUnicode_DecodeLatin1(r->url.data ? r->url.data : "", (Py_ssize_t)r->url.len, NULL);
        if (url == NULL) {
            goto error;
        }
        body = smrt_body_new_live(st, (PyObject *)self, self->eng.pool, smrt_call_take_conn(call), cl, url);
        Py_DECREF(url);
    } else {
        int broken = call->body_broke ? body_break(r, call->kind) : SMRT_BODY_OK;
        PyObject *data = PyBytes_FromStringAndSize(r->body.data ? r->body.data + r->body_pos : "",
                                                   (Py_ssize_t)(r->body.len - r->body_pos));
        PyObject *url = NULL;
        if (data != NULL && broken == SMRT_BODY_TIMEOUT) {
            url = PyUnicode_DecodeLatin1(r->url.data ? r->url.data : "", (Py_ssize_t)r->url.len, NULL);
        }
        if (data != NULL && (broken != SMRT_BODY_TIMEOUT || url != NULL)) {
            body = smrt_body_new(st, data, cl, broken, url);
        }
        Py_XDECREF(data);
        Py_XDECREF(url);
    }
    if (body == NULL || PyDict_SetItem(result, st->s_Body, body) < 0) {
        goto error;
    }
done:
    Py_DECREF(headers);
    Py_DECREF(meta);
    Py_DECREF(status);
    Py_DECREF(retry_obj);
    Py_XDECREF(body);
    return result;
error:
    Py_XDECREF(headers);
    Py_XDECREF(meta);
    Py_XDECREF(result);
    Py_XDECREF(status);
    Py_XDECREF(retry_obj);
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
static PyObject *tls_detail(const smrt_response *conn)
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
static PyObject *transport_exception(ClientObject *self, const smrt_response *r, smrt_xfer_kind kind)
{
    PyObject *tls = kind == SMRT_XFER_SSL_ERROR ? tls_detail(r) : Py_NewRef(Py_None);
    if (tls == NULL) {
        return NULL;
    }
    PyObject *fn = self->st->hook[SMRT_HOOK_transport_error];
    PyObject *exc = fn ? PyObject_CallFunction(fn, "Oss#sN", (PyObject *)self, xfer_kind_name(kind),
                                               r->url.data ? r->url.data : "", (Py_ssize_t)r->url.len, r->errbuf, tls)
                       : NULL;
    if (fn == NULL) {
        Py_DECREF(tls);
        PyErr_SetString(PyExc_RuntimeError, "sagemaker_rt_c._core is used without sagemaker_rt_c._client");
    }
    return exc;
}

void smrt_raise_exception_object(PyObject *exc)
{
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

/* The exception for a body that broke after the headers arrived, when it is an error body
 * (read at once, so its break is raised now). */
static PyObject *body_exception(ClientObject *self, smrt_response *r, smrt_xfer_kind kind)
{
    if (body_break(r, kind) == SMRT_BODY_RESET) {
        snprintf(r->errbuf, sizeof(r->errbuf),
                 "(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", "
                 "ConnectionResetError(104, 'Connection reset by peer'))");
        return transport_exception(self, r, SMRT_XFER_PARTIAL);
    }
    if (kind == SMRT_XFER_CLOSED) {
        kind = SMRT_XFER_PARTIAL;
    }
    if (kind == SMRT_XFER_PARTIAL && r->content_length >= 0 && (long long)r->body_seen < r->content_length) {
        long long more = r->content_length - (long long)r->body_seen;
        snprintf(r->errbuf, sizeof(r->errbuf),
                 "('Connection broken: IncompleteRead(%llu bytes read, %lld more expected)', "
                 "IncompleteRead(%llu bytes read, %lld more expected))",
                 r->body_seen, more, r->body_seen, more);
    }
    return transport_exception(self, r, kind);
}

double smrt_driver_jitter(smrt_state *st, PyObject *owner, int *err)
{
    PyObject *hook = NULL;
    if (get_optional_attr(owner, st->s__random, &hook) < 0) {
        *err = 1;
        return 0.0;
    }
    if (hook == NULL || hook == Py_None) {
        Py_XDECREF(hook);
        return -1.0; /* no test hook: the engine's draw stands */
    }
    PyObject *v = PyObject_CallNoArgs(hook);
    Py_DECREF(hook);
    double d = v ? PyFloat_AsDouble(v) : -1.0;
    Py_XDECREF(v);
    if (d == -1.0 && PyErr_Occurred()) {
        *err = 1;
    }
    return d;
}

int smrt_driver_sleep(smrt_state *st, PyObject *owner, smrt_engine *e, double seconds)
{
    PyObject *hook = NULL;
    if (get_optional_attr(owner, st->s__sleep, &hook) < 0) {
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
            e->clock_offset += seconds; /* with the GIL held: the drivers' serialisation */
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

void smrt_driver_raise_aborted(const smrt_call *call)
{
    if (call->kind == SMRT_XFER_INTERRUPTED && call->error == SMRT_OK) {
        /* A signal handler's exception (KeyboardInterrupt) is set; the connection is closed. */
        if (!PyErr_Occurred()) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
    } else if (call->error == SMRT_ELOAD) {
        smrt_raise_status(SMRT_ELOAD, "sagemaker_rt_c");
    } else if (call->error == SMRT_ENOMEM || call->error == SMRT_OK) {
        PyErr_NoMemory();
    } else {
        smrt_raise_status(call->error, "signing the request");
    }
}

static double realtime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An HTTP error response, parsed by the Python layer as botocore parses it: (code,
 * retry_after, parsed response), or NULL with an exception. */
static PyObject *parse_error(smrt_state *st, const smrt_response *r)
{
    PyObject *headers = headers_dict(st, r);
    if (headers == NULL) {
        return NULL;
    }
    PyObject *fn = st->hook[SMRT_HOOK_parse_error];
    PyObject *parsed = fn ? PyObject_CallFunction(fn, "lOy#", r->status, headers, r->body.data ? r->body.data : "",
                                                  (Py_ssize_t)r->body.len)
                          : NULL;
    Py_DECREF(headers);
    if (parsed == NULL) {
        if (fn == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "sagemaker_rt_c._core is used without sagemaker_rt_c._client");
        }
        return NULL;
    }
    if (!PyTuple_Check(parsed) || PyTuple_GET_SIZE(parsed) != 3) {
        Py_DECREF(parsed);
        PyErr_SetString(PyExc_SystemError, "parse_error must return (code, retry_after, parsed)");
        return NULL;
    }
    return parsed;
}

/* Raise the ClientError of the parsed error response the call gave up on. */
static void raise_client_error(ClientObject *self, const smrt_call *call, PyObject *parsed)
{
    smrt_state *st = self->st;
    PyObject *p = PyTuple_GET_ITEM(parsed, 2);
    PyObject *meta = PyDict_Check(p) ? PyDict_GetItemWithError(p, st->s_ResponseMetadata) : NULL;
    PyObject *n = PyLong_FromLong(call->attempt - 1);
    if (meta && n && PyDict_Check(meta) &&
        (!call->decision.max_attempts_reached || PyDict_SetItem(meta, st->s_MaxAttemptsReached, Py_True) == 0) &&
        (!call->decision.quota_reached || PyDict_SetItem(meta, st->s_RetryQuotaReached, Py_True) == 0) &&
        PyDict_SetItem(meta, st->s_RetryAttempts, n) == 0) {
        int op_i = (int)(call->op - SMRT_OPERATIONS);
        smrt_raise_from_hook(st, SMRT_HOOK_client_error, Py_BuildValue("(OO)", p, st->op_name[op_i]));
    } else if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_SystemError, "parsed error response without ResponseMetadata");
    }
    Py_XDECREF(n);
}

int smrt_client_prepare(PyObject *client, smrt_call_args *a, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames, smrt_creds **creds_out)
{
    ClientObject *self = (ClientObject *)client;
    smrt_state *st = self->st;
    const smrt_operation *op = &SMRT_OPERATIONS[a->op];
    *creds_out = NULL;
    if (check_ready(self) < 0 || parse_args(self, args, nargs, kwnames, a) < 0) {
        return -1;
    }
    if (self->call_error) {
        /* No request can be made: botocore gets this far (parameters checked), then fails.
         * The hook raises its exception, credentials checked where botocore checks them. */
        smrt_raise_from_hook(st, SMRT_HOOK_call_error,
                             Py_BuildValue("(Os#)", (PyObject *)self, a->in.str[op->uri_label],
                                           (Py_ssize_t)a->in.len[op->uri_label]));
        return -1;
    }
    /* Temporary credentials near their end: the Python layer refreshes them with botocore's
     * windows (one caller refreshes, the others go on with the still-valid ones). */
    if (!self->eng.unsigned_requests && self->refresh_at > 0 && realtime_now() >= self->refresh_at) {
        PyObject *fn = st->hook[SMRT_HOOK_refresh_credentials];
        PyObject *r = fn ? PyObject_CallOneArg(fn, (PyObject *)self) : NULL;
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    if (!self->eng.unsigned_requests && (*creds_out = smrt_engine_creds(&self->eng)) == NULL) {
        smrt_raise_from_hook(st, SMRT_HOOK_no_credentials, PyTuple_New(0));
        return -1;
    }
    return 0;
}

/* Raise what a call that gave up (SMRT_STEP_FAILED) produced: its body's break, the parsed
 * HTTP error it was classified on last, or its transport error. */
static void raise_failure(ClientObject *self, const smrt_call *call, smrt_response *r, PyObject *parsed)
{
    if (call->body_broke) {
        smrt_raise_exception_object(body_exception(self, r, call->kind));
    } else if (parsed != NULL) {
        raise_client_error(self, call, parsed);
    } else {
        smrt_raise_exception_object(transport_exception(self, r, call->kind));
    }
}

smrt_engine *smrt_client_engine(PyObject *client)
{
    return &((ClientObject *)client)->eng;
}

PyObject *smrt_client_parse_error(PyObject *client, const smrt_response *r)
{
    return parse_error(((ClientObject *)client)->st, r);
}

PyObject *smrt_client_outcome(PyObject *client, smrt_call *call, smrt_step step, smrt_response *r,
                              PyObject *parsed)
{
    ClientObject *self = (ClientObject *)client;
    if (step == SMRT_STEP_RESPONSE) {
        PyObject *result = build_response(self, call, r, 1);
        if (result == NULL || !call->body_broke) {
            return result;
        }
        /* The body broke after the head: the exception its read() raises, as a caller of
         * invoke_endpoint would meet it. */
        PyObject *body = PyDict_GetItemWithError(result, self->st->s_Body);
        PyObject *data = body ? PyObject_CallMethodNoArgs(body, self->st->s_read) : NULL;
        if (data != NULL && PyDict_SetItem(result, self->st->s_Body, data) == 0) {
            Py_DECREF(data);
            return result;
        }
        Py_XDECREF(data);
        Py_DECREF(result);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError, "response without Body");
        }
        return NULL;
    }
    if (step == SMRT_STEP_FAILED) {
        raise_failure(self, call, r, parsed);
    } else {
        smrt_driver_raise_aborted(call);
    }
    return NULL;
}

/* Run operation `op_i` with the caller's keyword arguments: the whole call path. */
static PyObject *client_call(ClientObject *self, int op_i, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    smrt_state *st = self->st;
    smrt_call_args a;
    memset(&a, 0, sizeof(a));
    a.op = op_i;
    const smrt_operation *op = &SMRT_OPERATIONS[op_i];
    smrt_creds *creds = NULL;
    if (smrt_client_prepare((PyObject *)self, &a, args, nargs, kwnames, &creds) < 0) {
        smrt_call_args_release(&a);
        return NULL;
    }
    /* Read once per call (one dict lookup while logging is off: log.c). */
    int log_on = smrt_log_enabled(st);
    if (log_on < 0 ||
        (log_on && smrt_log_request(st, (PyObject *)self, args, kwnames, (Py_ssize_t)a.in.body_len) < 0)) {
        smrt_creds_release(creds);
        smrt_call_args_release(&a);
        return NULL;
    }
    smrt_call call;
    /* A blob or event-stream body is handed over as it arrives; a JSON one is parsed whole. */
    smrt_call_init(&call, &self->eng, op, &a.in, creds,
                   op->response_body == SMRT_BODY_JSON ? SMRT_READ_ALL : SMRT_READ_HEAD);
    smrt_gil_ctx gctx;
    PyObject *result = NULL;
    PyObject *parsed = NULL; /* the last HTTP error response, parsed */
    smrt_conn *resp_conn = NULL;
    for (;;) {
        call.interrupt = smrt_handles_signals() ? smrt_ask_signals : NULL;
        call.interrupt_ud = &gctx;
        gctx.ts = PyEval_SaveThread();
        smrt_step step = smrt_call_step(&call);
        PyEval_RestoreThread(gctx.ts);
        smrt_conn *conn = smrt_call_conn(&call);
        if (step == SMRT_STEP_RESPONSE) {
            resp_conn = conn; /* alive while the result is: a live body holds it */
            result = build_response(self, &call, smrt_conn_response(conn), 0);
            break;
        }
        if (step == SMRT_STEP_ABORTED) {
            smrt_driver_raise_aborted(&call);
            break;
        }
        if (step == SMRT_STEP_CLASSIFY) {
            Py_CLEAR(parsed);
            if ((parsed = parse_error(st, smrt_conn_response(conn))) == NULL) {
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
                /* The jitter is drawn as the retry is decided, so the log can say the delay. */
                int err = 0;
                double r = smrt_driver_jitter(st, (PyObject *)self, &err);
                if (!err && r >= 0) {
                    smrt_call_set_jitter(&call, r);
                }
                if (!err && log_on) {
                    err = smrt_log_attempt(st, (PyObject *)self, conn, self->eng.retry, &call.at,
                                           xfer_kind_name(call.kind), 1, call.delay, parsed) < 0;
                }
                Py_CLEAR(parsed);
                if (err) {
                    break;
                }
            }
            if (smrt_driver_sleep(st, (PyObject *)self, &self->eng, call.delay) < 0) {
                break;
            }
            continue;
        }
        /* SMRT_STEP_FAILED: raise what the last attempt produced. */
        if (!call.body_broke && log_on &&
            smrt_log_attempt(st, (PyObject *)self, conn, self->eng.retry, &call.at, xfer_kind_name(call.kind), 0,
                             0.0, parsed) < 0) {
            break;
        }
        raise_failure(self, &call, smrt_conn_response(conn), parsed);
        break;
    }
    if (log_on && result != NULL && smrt_log_response(st, (PyObject *)self, resp_conn, result) < 0) {
        Py_CLEAR(result);
    }
    Py_XDECREF(parsed);
    smrt_call_finish(&call);
    smrt_call_args_release(&a);
    return result;
}

static PyObject *client_invoke_endpoint(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return client_call(self, SMRT_OP_InvokeEndpoint, args, nargs, kwnames);
}

static PyObject *client_invoke_endpoint_with_response_stream(ClientObject *self, PyObject *const *args,
                                                             Py_ssize_t nargs, PyObject *kwnames)
{
    return client_call(self, SMRT_OP_InvokeEndpointWithResponseStream, args, nargs, kwnames);
}

static PyObject *client_invoke_endpoint_async(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                              PyObject *kwnames)
{
    return client_call(self, SMRT_OP_InvokeEndpointAsync, args, nargs, kwnames);
}

#define OP (&SMRT_OPERATIONS[SMRT_OP_InvokeEndpoint])

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
    if (self->eng.url_query || (self->refresh_at > 0 && realtime_now() >= self->refresh_at)) {
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
    if (n > OP->n_members) {
        Py_RETURN_NONE;
    }
    PyObject *values[SMRT_MAX_MEMBERS];
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
    smrt_call_args a;
    memset(&a, 0, sizeof(a));
    a.op = SMRT_OP_InvokeEndpoint;
    int ok = parse_args(self, values, 0, names, &a) == 0;
    Py_DECREF(names);
    if (!ok) {
        /* Let the Python path raise botocore's error (it validates the same way). */
        PyErr_Clear();
        smrt_call_args_release(&a);
        Py_RETURN_NONE;
    }
    /* a.str[] point into the dict's str values, alive for this call. */
    const char *const *str = a.in.str;
    const size_t *len = a.in.len;
    smrt_creds *cr = smrt_engine_creds(&self->eng);
    if (cr == NULL) {
        smrt_call_args_release(&a);
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
    smrt_header sh[SMRT_MAX_MEMBERS + 1];
    size_t nsh = 0;
    sh[nsh++] = (smrt_header){"host", 4, self->eng.host, self->eng.host_len};
    FOR_EACH_MEMBER(j, a.in.present & OP->header_mask)
    {
        sh[nsh++] = (smrt_header){OP->members[j].wire, OP->members[j].wire_len, str[j], len[j]};
    }
    /* The URL: scheme://netloc, the path (signed), '?', the signer's query string. */
    smrt_buf *url = &self->presign_url;
    smrt_buf_clear(url);
    size_t prefix_len = self->eng.url_prefix_len - self->eng.base_path_len;
    if ((rc = smrt_buf_append(url, self->eng.url_prefix, prefix_len)) != SMRT_OK ||
        (rc = smrt_buf_append(url, self->eng.base_path, self->eng.base_path_len)) != SMRT_OK ||
        (rc = smrt_buf_append(url, OP->uri_before, OP->uri_before_len)) != SMRT_OK ||
        (rc = smrt_uri_encode(url, str[OP->uri_label], len[OP->uri_label], 0)) != SMRT_OK ||
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
        .region = self->eng.region,
        .service = self->eng.service,
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
    smrt_creds_release(cr);
    smrt_call_args_release(&a);
    return result;
}

#undef OP

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
    if (smrt_engine_init(&self->eng) != SMRT_OK) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_RuntimeError, "cannot create a mutex");
        return NULL;
    }
    self->engine_ready = 1;
    return (PyObject *)self;
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

/* The settings object __init__ takes (sagemaker_rt_c._client.CoreSettings): its attributes,
 * read once, by this table. */


#define CFG(kind, name) {#name, kind, offsetof(smrt_core_settings, name)}
static const struct {
    const char *name;
    cfg_kind kind;
    size_t offset;
} CFG_FIELDS[] = {
    CFG(CFG_STR, url_prefix),          CFG(CFG_STR, base_path),         CFG(CFG_OPT_STR, url_query),
    CFG(CFG_STR, host),                CFG(CFG_STR, region),            CFG(CFG_STR, service),
    CFG(CFG_STR, user_agent),          CFG(CFG_FLOAT, connect_timeout), CFG(CFG_FLOAT, read_timeout),
    CFG(CFG_INT, max_pool_connections), CFG(CFG_BOOL, tcp_keepalive),   CFG(CFG_BOOL, verify),
    CFG(CFG_OPT_STR, ca_bundle),       CFG(CFG_OPT_STR, proxy),         CFG(CFG_OPT_STR, proxy_ca_bundle),
    CFG(CFG_OPT_STR, client_cert),     CFG(CFG_OPT_STR, client_key),    CFG(CFG_STR, retry_mode),
    CFG(CFG_INT, max_attempts),        CFG(CFG_BOOL, retry_read_timeouts), CFG(CFG_BOOL, parameter_validation),
    CFG(CFG_BOOL, unsigned_requests),  CFG(CFG_OPT_STR, wire_prefix),   CFG(CFG_OPT_STR, wire_query),
    CFG(CFG_OPT_STR, wire_host),       CFG(CFG_BOOL, wire_label_escape), CFG(CFG_BOOL, call_error),
    CFG(CFG_BOOL, proxy_verify),       CFG(CFG_OPT_STR, proxy_client_cert), CFG(CFG_OPT_STR, proxy_client_key),
    CFG(CFG_OPT_STR, proxy_forwarding), CFG(CFG_OPT_STR, proxy_authorization),
};
#undef CFG

/* Read `obj`'s settings into `cs` (new references in its PyObject fields: release with
 * settings_release). 0, or -1 with TypeError naming the attribute. */
int smrt_settings_read(PyObject *obj, smrt_core_settings *cs, const char *who)
{
    for (size_t i = 0; i < sizeof(CFG_FIELDS) / sizeof(CFG_FIELDS[0]); i++) {
        char *field = (char *)cs + CFG_FIELDS[i].offset;
        PyObject *v = PyObject_GetAttrString(obj, CFG_FIELDS[i].name);
        if (v == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Format(PyExc_TypeError, "%s settings lack '%s'", who, CFG_FIELDS[i].name);
            }
            return -1;
        }
        int ok = 1;
        switch (CFG_FIELDS[i].kind) {
        case CFG_STR:
        case CFG_OPT_STR:
            ok = PyUnicode_Check(v) || (CFG_FIELDS[i].kind == CFG_OPT_STR && v == Py_None);
            if (ok) {
                *(PyObject **)field = Py_NewRef(v);
            }
            break;
        case CFG_FLOAT:
            *(double *)field = PyFloat_AsDouble(v);
            ok = !PyErr_Occurred();
            break;
        case CFG_INT:
            *(long long *)field = PyLong_AsLongLong(v);
            ok = !PyErr_Occurred();
            break;
        case CFG_BOOL: {
            int b = PyObject_IsTrue(v);
            *(int *)field = b;
            ok = b >= 0;
            break;
        }
        }
        Py_DECREF(v);
        if (!ok) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s setting '%s' has the wrong type", who, CFG_FIELDS[i].name);
            return -1;
        }
    }
    return 0;
}

void smrt_settings_release(smrt_core_settings *cs)
{
    for (size_t i = 0; i < sizeof(CFG_FIELDS) / sizeof(CFG_FIELDS[0]); i++) {
        if (CFG_FIELDS[i].kind == CFG_STR || CFG_FIELDS[i].kind == CFG_OPT_STR) {
            Py_CLEAR(*(PyObject **)((char *)cs + CFG_FIELDS[i].offset));
        }
    }
}

/* UTF-8 of an optional str setting (borrowed from it), or NULL for None. */
static const char *opt_utf8(PyObject *o)
{
    return o == NULL || o == Py_None ? NULL : PyUnicode_AsUTF8(o);
}

int smrt_engine_configure(smrt_engine *e, const smrt_core_settings *cs)
{
    smrt_engine_clear_settings(e); /* what a failed set-up left */
    const char *retry_mode = PyUnicode_AsUTF8(cs->retry_mode);
    const char *opt[] = {opt_utf8(cs->ca_bundle),         opt_utf8(cs->proxy),           opt_utf8(cs->proxy_ca_bundle),
                         opt_utf8(cs->client_cert),       opt_utf8(cs->client_key),      opt_utf8(cs->proxy_client_cert),
                         opt_utf8(cs->proxy_client_key),  opt_utf8(cs->proxy_forwarding), opt_utf8(cs->proxy_authorization)};
    if (retry_mode == NULL || PyErr_Occurred()) {
        goto error;
    }
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
    if (opt[1] && opt[7]) {
        PyErr_SetString(PyExc_ValueError, "proxy and proxy_forwarding are exclusive (forwarding needs no tunnel)");
        goto error;
    }
    if (cs->max_attempts < 1 || cs->max_attempts > 1000000 || cs->max_pool_connections < 0 || cs->connect_timeout < 0 ||
        cs->read_timeout < 0) {
        PyErr_SetString(PyExc_ValueError, "max_attempts, max_pool_connections and timeouts must be positive");
        goto error;
    }
    if (!(e->url_prefix = dup_str(cs->url_prefix, &e->url_prefix_len)) ||
        !(e->base_path = dup_str(cs->base_path, &e->base_path_len)) || !(e->host = dup_str(cs->host, &e->host_len)) ||
        !(e->region = dup_str(cs->region, NULL)) || !(e->service = dup_str(cs->service, NULL)) ||
        !(e->user_agent = dup_str(cs->user_agent, &e->user_agent_len))) {
        goto error;
    }
    struct {
        PyObject *obj;
        char **out;
        size_t *len;
    } optional[] = {{cs->url_query, &e->url_query, &e->url_query_len},
                    {cs->wire_prefix, &e->wire_prefix, &e->wire_prefix_len},
                    {cs->wire_query, &e->wire_query, &e->wire_query_len},
                    {cs->wire_host, &e->wire_host, &e->wire_host_len}};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        if (optional[i].obj != Py_None && !(*optional[i].out = dup_str(optional[i].obj, optional[i].len))) {
            goto error;
        }
    }
    if (e->wire_query && !e->wire_prefix) {
        PyErr_SetString(PyExc_ValueError, "wire_query needs wire_prefix");
        goto error;
    }
    if (e->base_path_len > e->url_prefix_len ||
        memcmp(e->url_prefix + e->url_prefix_len - e->base_path_len, e->base_path, e->base_path_len)) {
        PyErr_SetString(PyExc_ValueError, "base_path must end url_prefix");
        goto error;
    }
    e->wire_label_escape = cs->wire_label_escape;
    e->retry_read_timeouts = cs->retry_read_timeouts;
    e->unsigned_requests = cs->unsigned_requests;
    e->read_timeout_s = cs->read_timeout;
    e->retry = smrt_retry_new(mode, (int)cs->max_attempts);
    smrt_http_config cfg = {
        .connect_timeout_ms = (long)(cs->connect_timeout * 1000.0 + 0.5),
        .read_timeout_ms = (long)(cs->read_timeout * 1000.0 + 0.5),
        .tcp_keepalive = cs->tcp_keepalive,
        .verify = cs->verify,
        .ca_bundle = opt[0],
        .proxy = opt[1],
        .proxy_ca_bundle = opt[2],
        .proxy_verify = cs->proxy_verify,
        .proxy_client_cert = opt[5],
        .proxy_client_key = opt[6],
        .proxy_forwarding = opt[7],
        .proxy_authorization = opt[8],
        .client_cert = opt[3],
        .client_key = opt[4],
        .max_idle = (size_t)cs->max_pool_connections,
    };
    if (cs->connect_timeout > 0 && cfg.connect_timeout_ms == 0) {
        cfg.connect_timeout_ms = 1;
    }
    if (cs->read_timeout > 0 && cfg.read_timeout_ms == 0) {
        cfg.read_timeout_ms = 1;
    }
    e->pool = smrt_pool_new(&cfg);
    if (e->retry == NULL || e->pool == NULL) {
        PyErr_SetString(PyExc_MemoryError, "cannot create the connection pool");
        goto error;
    }
    return 0;
error:
    smrt_engine_clear_settings(e); /* not set up: __init__ may be tried again */
    return -1;
}

static int client_tp_init(ClientObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *settings;
    if (refuse_reinit(self) < 0) {
        return -1;
    }
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Client() takes its settings as one object");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O:Client", &settings)) {
        return -1;
    }
    smrt_core_settings cs;
    memset(&cs, 0, sizeof(cs));
    if (smrt_settings_read(settings, &cs, "Client") < 0) {
        smrt_settings_release(&cs);
        return -1;
    }
    /* Reading may have run Python code (a property ...), and so let another thread finish an
     * __init__ of this object. From here to the end the GIL is never released. */
    if (refuse_reinit(self) < 0) {
        smrt_settings_release(&cs);
        return -1;
    }
    smrt_engine *e = &self->eng;
    if (smrt_engine_configure(e, &cs) < 0) {
        goto error;
    }
    self->call_error = cs.call_error;
    self->parameter_validation = cs.parameter_validation;
    smrt_settings_release(&cs);
    self->ready = 1;
    return 0;
error:
    smrt_settings_release(&cs);
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
        Py_ssize_t akn, skn, tokn = 0;
        const char *aks = PyUnicode_AsUTF8AndSize(ak, &akn), *sks = PyUnicode_AsUTF8AndSize(sk, &skn);
        const char *toks = tok != Py_None ? PyUnicode_AsUTF8AndSize(tok, &tokn) : NULL;
        if (aks == NULL || sks == NULL || (tok != Py_None && toks == NULL)) {
            return NULL;
        }
        if (!header_value_ok(aks, akn) || (toks && !header_value_ok(toks, tokn))) {
            PyErr_SetString(PyExc_ValueError,
                            "the access key and session token must be printable ASCII (they are sent in headers)");
            return NULL;
        }
        if ((c = smrt_creds_new(aks, (size_t)akn, sks, (size_t)skn, toks, (size_t)tokn)) == NULL) {
            return PyErr_NoMemory();
        }
    }
    smrt_engine_set_creds(&self->eng, c);
    self->refresh_at = refresh_at; /* read and written with the GIL held */
    Py_RETURN_NONE;
}

static PyObject *client_close_connections(ClientObject *self, PyObject *Py_UNUSED(ignored))
{
    /* botocore's close(): drop idle keep-alive connections; later calls open new ones. */
    smrt_pool *pool = self->eng.pool;
    if (pool) {
        Py_BEGIN_ALLOW_THREADS
        smrt_pool_drain(pool);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static int client_traverse(ClientObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void client_dealloc(ClientObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    if (self->engine_ready) {
        smrt_engine_destroy(&self->eng);
    }
    smrt_signer_destroy(&self->presigner);
    smrt_buf_destroy(&self->presign_url);
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
     "CustomAttributes, NewSessionId, ClosedSessionId (when sent) and Body, a StreamingBody\n"
     "(returned when the response's head arrives; reading it waits for the rest)."},
    {"invoke_endpoint_with_response_stream", (PyCFunction)(void (*)(void))client_invoke_endpoint_with_response_stream,
     METH_FASTCALL | METH_KEYWORDS,
     "invoke_endpoint_with_response_stream($self, /, *, EndpointName, Body, ContentType=..., Accept=..., "
     "CustomAttributes=..., TargetVariant=..., TargetContainerHostname=..., InferenceId=..., "
     "InferenceComponentName=..., SessionId=..., PrefixAwareId=...)\n--\n\n"
     "Get an inference streamed as the model produces it (SageMaker Runtime\n"
     "InvokeEndpointWithResponseStream).\n\n"
     "Returns a dict like boto3's: ResponseMetadata, ContentType, InvokedProductionVariant,\n"
     "CustomAttributes and Body, an EventStream: iterating it yields {'PayloadPart': {'Bytes': b'...'}}\n"
     "as each event arrives; iter_payloads() and iter_lines() beyond boto3."},
    {"invoke_endpoint_async", (PyCFunction)(void (*)(void))client_invoke_endpoint_async,
     METH_FASTCALL | METH_KEYWORDS,
     "invoke_endpoint_async($self, /, *, EndpointName, ContentType=..., Accept=..., CustomAttributes=..., "
     "InferenceId=..., InputLocation=..., S3OutputPathExtension=..., Filename=..., RequestTTLSeconds=..., "
     "InvocationTimeoutSeconds=..., Body=...)\n--\n\n"
     "Queue an inference at an asynchronous endpoint (SageMaker Runtime InvokeEndpointAsync): the input\n"
     "from InputLocation (S3) or the inline Body.\n\n"
     "Returns a dict like boto3's: ResponseMetadata (HTTPStatusCode 202), InferenceId, OutputLocation,\n"
     "FailureLocation (when sent)."},
    {"_set_credentials", (PyCFunction)client_set_credentials, METH_VARARGS,
     "_set_credentials($self, access_key=None, secret_key=None, token=None, refresh_at=0.0, /)\n--\n\n"
     "Replace the signing credentials (None: no credentials). From the wall-clock time\n"
     "refresh_at on (0: never), calls first run the refresh_credentials hook."},
    {"_close_connections", (PyCFunction)client_close_connections, METH_NOARGS, NULL},
    {"_presign", (PyCFunction)(void (*)(void))client_presign, METH_FASTCALL,
     "_presign($self, params, expires, http_method, /)\n--\n\n"
     "A presigned invoke_endpoint URL for the common case, or None for the Python path."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ClientObject, weakrefs), READONLY, NULL},
    {"_refresh_at", T_DOUBLE, offsetof(ClientObject, refresh_at), READONLY,
     "Wall-clock time from which calls first refresh credentials (0: never)."},
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

/* ---- shared with the other drivers (binding.h) ------------------------------------------------ */

PyObject *smrt_headers_dict(smrt_state *st, const smrt_response *r)
{
    return headers_dict(st, r);
}

PyObject *smrt_tls_detail(const smrt_response *r)
{
    return tls_detail(r);
}

const char *smrt_xfer_kind_name(smrt_xfer_kind k)
{
    return xfer_kind_name(k);
}
