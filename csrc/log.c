/* Debug logging of invoke_endpoint's call path (README "Debug logging").
 *
 * The messages are made in Python (sagemaker_rt_c/_log.py); this file decides, once per call,
 * whether to make them, and hands the hooks what only C knows. A call pays for logging only
 * when a call-path logger is enabled for DEBUG: otherwise one dict lookup, no Python frame.
 *
 * How that lookup stays right without asking logging every call: logging caches each
 * logger's isEnabledFor answers in its `_cache` dict and empties every logger's dict
 * whenever a level changes (Logger.setLevel, logging.disable: Manager._clear_cache, CPython
 * 3.7 on). _log_refresh stores our answer in the "sagemaker_rt_c" logger's dict under a key
 * of ours; while that key is there no level has changed since. Before `logging` is imported
 * nothing can be configured, so nothing is logged and `logging` is not imported for it.
 *
 * Secrets never cross into the hooks from here: they get the canonical request (its
 * x-amz-security-token line is redacted in Python before any record is made), never the
 * Authorization header, the signature or the keys. */
#include "binding.h"

int smrt_log_enabled(smrt_state *st)
{
    if (st->log_cache != NULL) {
        PyObject *on = PyDict_GetItemWithError(st->log_cache, st->log_key);
        if (on != NULL) {
            return on == Py_True;
        }
        if (PyErr_Occurred()) {
            return -1;
        }
    } else if (PyDict_GetItemWithError(PyImport_GetModuleDict(), st->s_logging) == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (st->hook[SMRT_HOOK_log_refresh] == NULL) {
        return 0;
    }
    /* Logging was just imported, or a level changed: ask again (a Python call, once). */
    PyObject *r = PyObject_CallNoArgs(st->hook[SMRT_HOOK_log_refresh]);
    if (r == NULL) {
        return -1;
    }
    PyObject *cache, *on;
    if (!PyArg_ParseTuple(r, "OO:_log_refresh", &cache, &on)) {
        Py_DECREF(r);
        return -1;
    }
    /* None: the dict can't be watched (a logging without `_cache`): refresh at every call. */
    Py_XSETREF(st->log_cache, PyDict_Check(cache) ? Py_NewRef(cache) : NULL);
    int enabled = PyObject_IsTrue(on);
    Py_DECREF(r);
    return enabled;
}

/* Call hooks.<name>(*args), `args` stolen. 0, or -1 with the hook's exception. */
static int call_hook(smrt_state *st, int which, PyObject *args)
{
    if (args == NULL) {
        return -1;
    }
    PyObject *fn = st->hook[which];
    PyObject *r = fn ? PyObject_Call(fn, args, NULL) : NULL;
    Py_DECREF(args);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *buf_bytes(const smrt_buf *b)
{
    if (b->data == NULL) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize(b->data, (Py_ssize_t)b->len);
}

static PyObject *buf_str(const smrt_buf *b)
{
    return PyUnicode_DecodeLatin1(b->data ? b->data : "", (Py_ssize_t)b->len, NULL);
}

int smrt_log_request(smrt_state *st, PyObject *client, PyObject *const *args, PyObject *kwnames,
                     Py_ssize_t body_len)
{
    /* The call's keyword arguments as given (the hook leaves Body out: only its size shows). */
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
    return call_hook(st, SMRT_HOOK_log_request, Py_BuildValue("(ONn)", client, params, body_len));
}

int smrt_log_attempt(smrt_state *st, PyObject *client, smrt_conn *conn, const smrt_retry *retry,
                     const smrt_attempt *at, const char *kind_name, int retried, double delay, PyObject *parsed)
{
    int response = at->kind == SMRT_XFER_OK;
    PyObject *code = Py_None;
    if (parsed != NULL && PyTuple_Check(parsed) && PyTuple_GET_SIZE(parsed) >= 1) {
        code = PyTuple_GET_ITEM(parsed, 0);
    }
    const char *reason = smrt_retry_reason(retry, at);
    const smrt_response *r = smrt_conn_response(conn);
    PyObject *headers = response ? buf_bytes(&r->head) : Py_NewRef(Py_None);
    PyObject *body = response ? buf_bytes(&r->body) : Py_NewRef(Py_None);
    PyObject *url = buf_str(&r->url);
    PyObject *canonical = buf_bytes(&smrt_conn_signer(conn)->canonical);
    if (headers == NULL || body == NULL || url == NULL || canonical == NULL) {
        Py_XDECREF(headers);
        Py_XDECREF(body);
        Py_XDECREF(url);
        Py_XDECREF(canonical);
        return -1;
    }
    return call_hook(st, SMRT_HOOK_log_attempt,
                     Py_BuildValue("(OislNNONsNNdz)", client, at->attempt, response ? "ok" : kind_name, at->status,
                                   headers, body, code,
                                   url, r->errbuf, canonical, PyBool_FromLong(retried), delay, reason));
}

int smrt_log_response(smrt_state *st, PyObject *client, smrt_conn *conn, PyObject *result)
{
    const smrt_response *r = smrt_conn_response(conn);
    PyObject *headers = buf_bytes(&r->head);
    PyObject *url = buf_str(&r->url);
    PyObject *canonical = buf_bytes(&smrt_conn_signer(conn)->canonical);
    if (headers == NULL || url == NULL || canonical == NULL) {
        Py_XDECREF(headers);
        Py_XDECREF(url);
        Py_XDECREF(canonical);
        return -1;
    }
    return call_hook(st, SMRT_HOOK_log_response, Py_BuildValue("(OONNN)", client, result, headers, url, canonical));
}
