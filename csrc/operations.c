/* The generated operation tables (operations.h) as Python data: _core._operations(), for
 * tests/test_operations_gen.py to check the C tables against botocore's model and against
 * sagemaker_rt_c/_protocol/operations.py. Not on any call path. It also holds the one
 * definition of the tables every file uses (operations.h declares them elsewhere). */
#define SMRT_OPERATIONS_DEFINE
#include "binding.h"

static PyObject *str_or_none(const char *s)
{
    return s ? PyUnicode_FromString(s) : Py_NewRef(Py_None);
}

static PyObject *limit(int has, long long value)
{
    return has ? PyLong_FromLongLong(value) : Py_NewRef(Py_None);
}

static PyObject *member_dict(const smrt_member *m)
{
    PyObject *enums = Py_None;
    Py_INCREF(enums);
    if (m->enum_values) {
        Py_ssize_t n = 0;
        while (m->enum_values[n]) {
            n++;
        }
        Py_DECREF(enums);
        if ((enums = PyTuple_New(n)) == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = PyUnicode_FromString(m->enum_values[i]);
            if (v == NULL) {
                Py_DECREF(enums);
                return NULL;
            }
            PyTuple_SET_ITEM(enums, i, v);
        }
    }
    /* Keys in sagemaker_rt_c/_protocol/operations.py's order. */
    return Py_BuildValue("{s:s#,s:s,s:s#,s:s,s:s,s:N,s:N,s:N,s:O,s:N,s:O}", "name", m->name,
                         (Py_ssize_t)m->name_len, "location", SMRT_LOCATION_NAMES[m->location], "wire_name", m->wire,
                         (Py_ssize_t)m->wire_len, "shape", m->shape, "type", SMRT_TYPE_NAMES[m->type], "min",
                         limit(m->has_min, m->min), "max", limit(m->has_max, m->max), "pattern",
                         str_or_none(m->pattern), "required", m->required ? Py_True : Py_False, "enum", enums,
                         "sensitive", m->sensitive ? Py_True : Py_False);
}

static PyObject *members_tuple(const smrt_member *ms, int n)
{
    PyObject *t = PyTuple_New(n);
    for (int i = 0; t && i < n; i++) {
        PyObject *d = member_dict(&ms[i]);
        if (d == NULL) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, d);
    }
    return t;
}

static PyObject *member_name(const smrt_member *ms, int i)
{
    return i < 0 ? Py_NewRef(Py_None) : PyUnicode_FromStringAndSize(ms[i].name, (Py_ssize_t)ms[i].name_len);
}

static PyObject *operation_dict(const smrt_operation *op)
{
    PyObject *events = PyTuple_New(op->n_events);
    for (int i = 0; events && i < op->n_events; i++) {
        const smrt_event *ev = &op->events[i];
        PyObject *d = Py_BuildValue("{s:s,s:s,s:O,s:N}", "name", ev->name, "shape", ev->shape, "exception",
                                    ev->exception ? Py_True : Py_False, "members",
                                    members_tuple(ev->members, ev->n_members));
        if (d == NULL) {
            Py_CLEAR(events);
            break;
        }
        PyTuple_SET_ITEM(events, i, d);
    }
    PyObject *required = events ? PyTuple_New(op->n_required) : NULL;
    for (int i = 0; required && i < op->n_required; i++) {
        PyObject *name = member_name(op->members, op->required[i]);
        if (name == NULL) {
            Py_CLEAR(required);
            break;
        }
        PyTuple_SET_ITEM(required, i, name);
    }
    PyObject *errors = required ? PyTuple_New(op->n_errors) : NULL;
    for (int i = 0; errors && i < op->n_errors; i++) {
        PyObject *name = PyUnicode_FromString(SMRT_ERRORS[op->errors[i]].name);
        if (name == NULL) {
            Py_CLEAR(errors);
            break;
        }
        PyTuple_SET_ITEM(errors, i, name);
    }
    if (errors == NULL) {
        Py_XDECREF(events);
        Py_XDECREF(required);
        return NULL;
    }
    /* The C-only facts (the URI template split at its label, the member masks) under "c". */
    return Py_BuildValue(
        "{s:s,s:s,s:s#,s:s,s:s,s:N,s:N,s:s,s:N,s:s,s:i,s:N,s:s,s:N,s:N,s:N,s:{s:s#,s:N,s:s#,s:I,s:I,s:I}}", "name", op->name,
        "python_name", op->python_name, "http_method", op->http_method, (Py_ssize_t)op->http_method_len,
        "request_uri", op->request_uri, "input_shape", op->input_shape, "required", required, "payload",
        member_name(op->members, op->payload), "request_body", SMRT_BODY_MODE_NAMES[op->request_body], "members",
        members_tuple(op->members, op->n_members), "output_shape", op->output_shape, "status_code",
        op->status_code, "output_payload", member_name(op->output_members, op->output_payload), "response_body",
        SMRT_BODY_MODE_NAMES[op->response_body], "output_members",
        members_tuple(op->output_members, op->n_output_members), "events", events, "errors", errors, "c",
        "uri_before", op->uri_before, (Py_ssize_t)op->uri_before_len, "uri_label",
        member_name(op->members, op->uri_label), "uri_after", op->uri_after, (Py_ssize_t)op->uri_after_len, "required_mask", op->required_mask,
        "header_mask", op->header_mask, "label_mask", op->label_mask);
}

PyObject *smrt_operations_dump(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    PyObject *ops = PyDict_New(), *errors = PyDict_New();
    for (int i = 0; ops && errors && i < SMRT_OP_COUNT; i++) {
        PyObject *d = operation_dict(&SMRT_OPERATIONS[i]);
        if (d == NULL || PyDict_SetItemString(ops, SMRT_OPERATIONS[i].name, d) < 0) {
            Py_XDECREF(d);
            Py_CLEAR(ops);
            break;
        }
        Py_DECREF(d);
    }
    for (int i = 0; ops && errors && i < SMRT_ERR_COUNT; i++) {
        const smrt_error_shape *e = &SMRT_ERRORS[i];
        PyObject *status = e->http_status ? PyLong_FromLong(e->http_status) : Py_NewRef(Py_None);
        PyObject *d = Py_BuildValue("{s:s,s:s,s:N,s:s,s:N}", "name", e->name, "code", e->code, "http_status", status,
                                    "fault", e->server_fault ? "server" : "client", "members",
                                    members_tuple(e->members, e->n_members));
        if (d == NULL || PyDict_SetItemString(errors, e->name, d) < 0) {
            Py_XDECREF(d);
            Py_CLEAR(errors);
            break;
        }
        Py_DECREF(d);
    }
    if (ops == NULL || errors == NULL) {
        Py_XDECREF(ops);
        Py_XDECREF(errors);
        return NULL;
    }
    return Py_BuildValue("{s:s,s:N,s:N}", "botocore_version", SMRT_BOTOCORE_VERSION, "operations", ops, "errors",
                         errors);
}
