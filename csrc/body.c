/* RawStream: the response body as urllib3's HTTPResponse presents it to botocore's
 * StreamingBody (sagemaker_rt_c.response.StreamingBody wraps one, as botocore wraps
 * urllib3's). The transfer has already received the body; reads slice it, and a transfer
 * that broke after the headers fails at the same read, with the same words, as urllib3.
 *
 * urllib3 (2.x) semantics as botocore 1.44 uses it (enforce_content_length=False):
 *  - read() returns the rest; on a broken transfer it raises after consuming it (http.client
 *    reads a Content-Length body whole and raises IncompleteRead when it ends short);
 *  - read(n), readinto, readline return what there is; when nothing is left they raise if the
 *    connection was reset, timed out or a chunked body broke off, and return b"" when a
 *    Content-Length body simply ended short (botocore's StreamingBody then raises
 *    IncompleteReadError);
 *  - close() makes later reads find nothing; iteration yields lines. */
#include "binding.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    PyObject *data;     /* bytes received */
    Py_ssize_t pos;     /* bytes consumed */
    long long length;   /* Content-Length, or -1 */
    int broken;         /* SMRT_BODY_* */
    int closed;
    PyObject *url;      /* for a read timeout's message */
    PyObject *weakrefs;
} RawObject;

static Py_ssize_t avail(RawObject *self)
{
    if (self->closed || self->data == NULL) {
        return 0;
    }
    return PyBytes_GET_SIZE(self->data) - self->pos;
}

/* Raise what urllib3 raises when a read finds no data. `whole` >= 0: a read() of everything,
 * which got that many bytes (http.client counts only those in IncompleteRead); -1: any other
 * read. Returns -1 with an exception set, or 0 when the read should just return b"". */
static int at_end(RawObject *self, Py_ssize_t whole)
{
    smrt_state *st = self->st;
    if (self->broken == SMRT_BODY_TIMEOUT && !self->closed) {
        PyObject *exc = PyObject_CallFunction(st->raw_timeout_type, "s", "Read timed out.");
        if (exc) {
            if (PyObject_SetAttrString(exc, "url", self->url ? self->url : Py_None) == 0) {
                PyErr_SetObject(st->raw_timeout_type, exc);
            }
            Py_DECREF(exc);
        }
        return -1;
    }
    if (self->broken == SMRT_BODY_RESET && !self->closed) {
        PyErr_SetString(st->raw_protocol_type,
                        "(\"Connection broken: ConnectionResetError(104, 'Connection reset by peer')\", "
                        "ConnectionResetError(104, 'Connection reset by peer'))");
        return -1;
    }
    if (whole >= 0 && self->length >= 0 && (long long)self->pos < self->length && self->broken && !self->closed) {
        long long more = self->length - (long long)self->pos;
        PyErr_Format(st->raw_protocol_type,
                     "('Connection broken: IncompleteRead(%zd bytes read, %lld more expected)', "
                     "IncompleteRead(%zd bytes read, %lld more expected))",
                     whole, more, whole, more);
        return -1;
    }
    if (self->broken == SMRT_BODY_INCOMPLETE && !self->closed && self->length < 0) {
        /* No Content-Length (a chunked body cut short). */
        PyErr_Format(st->raw_protocol_type,
                     "('Connection broken: IncompleteRead(%zd bytes read)', IncompleteRead(%zd bytes read))", self->pos,
                     self->pos);
        return -1;
    }
    return 0;
}

PyObject *smrt_raw_new(smrt_state *st, PyObject *data, long long length, int broken, PyObject *url)
{
    RawObject *r = (RawObject *)st->raw_type->tp_alloc(st->raw_type, 0);
    if (r == NULL) {
        return NULL;
    }
    r->st = st;
    r->data = Py_NewRef(data);
    r->length = length;
    r->broken = broken;
    r->url = Py_XNewRef(url);
    /* Bytes and str inside only: it cannot be part of a cycle; spare the collector. */
    PyObject_GC_UnTrack(r);
    return (PyObject *)r;
}

static int raw_traverse(RawObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->data);
    Py_VISIT(self->url);
    return 0;
}

static int raw_clear(RawObject *self)
{
    Py_CLEAR(self->data);
    Py_CLEAR(self->url);
    return 0;
}

static void raw_dealloc(RawObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    raw_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *raw_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"data", "content_length", NULL};
    PyObject *data = NULL;
    long long length = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|L:RawStream", kwlist, &PyBytes_Type, &data, &length)) {
        return NULL;
    }
    smrt_state *st = smrt_state_from_type(type);
    if (st == NULL) {
        return NULL;
    }
    RawObject *r = (RawObject *)type->tp_alloc(type, 0);
    if (r == NULL) {
        return NULL;
    }
    r->st = st;
    r->data = Py_NewRef(data);
    r->length = length;
    return (PyObject *)r;
}

static PyObject *slice(RawObject *self, Py_ssize_t n)
{
    if (self->pos == 0 && n == PyBytes_GET_SIZE(self->data)) {
        self->pos = n; /* the whole body in one read: the bytes object itself, no copy */
        return Py_NewRef(self->data);
    }
    PyObject *out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(self->data) + self->pos, n);
    if (out) {
        self->pos += n;
    }
    return out;
}

static PyObject *raw_read(RawObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *amt_obj = Py_None;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1) {
        PyErr_SetString(PyExc_TypeError, "read() takes at most 1 argument");
        return NULL;
    }
    if (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "amt") != 0) {
        PyErr_Format(PyExc_TypeError, "read() got an unexpected keyword argument '%U'", PyTuple_GET_ITEM(kwnames, 0));
        return NULL;
    }
    if (nargs + nkw == 1) {
        amt_obj = args[0];
    }
    Py_ssize_t amt = -1;
    if (amt_obj != Py_None) {
        if (!PyLong_Check(amt_obj)) {
            PyErr_Format(PyExc_TypeError, "'%.100s' object cannot be interpreted as an integer",
                         Py_TYPE(amt_obj)->tp_name);
            return NULL;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(amt_obj, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            return NULL;
        }
        /* Any size is fine: a huge one reads what there is, a negative one reads it all. */
        amt = overflow > 0 || v > PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : overflow < 0 || v < 0 ? -1 : (Py_ssize_t)v;
    }
    Py_ssize_t left = avail(self);
    if (amt < 0) {
        if (self->closed) {
            return PyBytes_FromStringAndSize(NULL, 0);
        }
        PyObject *out = slice(self, left);
        if (out && self->broken && at_end(self, left) < 0) {
            Py_DECREF(out); /* urllib3 loses what it read when the stream breaks */
            return NULL;
        }
        return out;
    }
    if (amt == 0) {
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    if (left > 0) {
        return slice(self, amt < left ? amt : left);
    }
    if (at_end(self, -1) < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize(NULL, 0);
}

static PyObject *raw_readinto(RawObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        return NULL;
    }
    Py_ssize_t n = avail(self);
    if (n > view.len) {
        n = view.len;
    }
    if (n == 0 && view.len > 0 && at_end(self, -1) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    if (n > 0) {
        memcpy(view.buf, PyBytes_AS_STRING(self->data) + self->pos, (size_t)n);
        self->pos += n;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(n);
}

/* One line (up to and including b"\n"), at most `limit` bytes (limit < 0: no limit). */
static PyObject *readline_impl(RawObject *self, Py_ssize_t limit)
{
    Py_ssize_t left = avail(self);
    if (left == 0) {
        if (at_end(self, -1) < 0) {
            return NULL;
        }
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    if (limit >= 0 && limit < left) {
        left = limit;
    }
    const char *start = PyBytes_AS_STRING(self->data) + self->pos;
    const char *nl = memchr(start, '\n', (size_t)left);
    return slice(self, nl ? (Py_ssize_t)(nl - start) + 1 : left);
}

static PyObject *raw_readline(RawObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t limit = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "readline() takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        limit = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (limit == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    return readline_impl(self, limit);
}

static PyObject *raw_readlines(RawObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    PyObject *lines = PyList_New(0);
    while (lines) {
        PyObject *line = readline_impl(self, -1);
        if (line == NULL) {
            Py_CLEAR(lines);
            break;
        }
        if (PyBytes_GET_SIZE(line) == 0) {
            Py_DECREF(line);
            break;
        }
        int rc = PyList_Append(lines, line);
        Py_DECREF(line);
        if (rc < 0) {
            Py_CLEAR(lines);
        }
    }
    return lines;
}

static PyObject *raw_iternext(RawObject *self)
{
    PyObject *line = readline_impl(self, -1);
    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static PyObject *raw_tell(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->pos);
}

static PyObject *raw_close(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *raw_true(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    (void)self;
    Py_RETURN_TRUE;
}

static PyObject *raw_false(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    (void)self;
    Py_RETURN_FALSE;
}

static PyObject *raw_enter(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

static PyObject *raw_exit(RawObject *self, PyObject *args)
{
    (void)args;
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *raw_get_closed(RawObject *self, void *Py_UNUSED(closure))
{
    /* urllib3 reports closed once the connection is released: after close(), or when the
     * whole body has been read. */
    return PyBool_FromLong(self->closed || (avail(self) == 0 && !self->broken));
}

static PyMethodDef raw_methods[] = {
    {"read", (PyCFunction)(void (*)(void))raw_read, METH_FASTCALL | METH_KEYWORDS,
     "read($self, /, amt=None)\n--\n\nRead at most amt bytes (the rest when amt is None)."},
    {"readinto", (PyCFunction)raw_readinto, METH_O,
     "readinto($self, b, /)\n--\n\nRead into a writable buffer; return the number of bytes."},
    {"readline", (PyCFunction)(void (*)(void))raw_readline, METH_FASTCALL,
     "readline($self, size=-1, /)\n--\n\nOne line, b'\\n' included."},
    {"readlines", (PyCFunction)(void (*)(void))raw_readlines, METH_FASTCALL,
     "readlines($self, hint=-1, /)\n--\n\nThe remaining lines."},
    {"tell", (PyCFunction)raw_tell, METH_NOARGS, "tell($self, /)\n--\n\nBytes read so far."},
    {"close", (PyCFunction)raw_close, METH_NOARGS, "close($self, /)\n--\n\nRelease the body."},
    {"readable", (PyCFunction)raw_true, METH_NOARGS, NULL},
    {"seekable", (PyCFunction)raw_false, METH_NOARGS, NULL},
    {"writable", (PyCFunction)raw_false, METH_NOARGS, NULL},
    {"isatty", (PyCFunction)raw_false, METH_NOARGS, NULL},
    {"__enter__", (PyCFunction)raw_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)raw_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef raw_getset[] = {
    {"closed", (getter)raw_get_closed, NULL, "True once released.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef raw_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(RawObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *raw_iter(PyObject *self)
{
    return Py_NewRef(self);
}

static PyType_Slot raw_slots[] = {
    {Py_tp_doc, "RawStream(data, content_length=-1)\n--\n\n"
                "A response body already received, read as urllib3's HTTPResponse reads."},
    {Py_tp_new, raw_tp_new},
    {Py_tp_dealloc, raw_dealloc},
    {Py_tp_traverse, raw_traverse},
    {Py_tp_clear, raw_clear},
    {Py_tp_iter, raw_iter},
    {Py_tp_iternext, raw_iternext},
    {Py_tp_methods, raw_methods},
    {Py_tp_getset, raw_getset},
    {Py_tp_members, raw_members},
    {0, NULL},
};

static PyType_Spec raw_spec = {
    .name = "sagemaker_rt_c._core.RawStream",
    .basicsize = sizeof(RawObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = raw_slots,
};

int smrt_body_type_add(PyObject *module, smrt_state *st)
{
    st->raw_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &raw_spec, NULL);
    st->raw_protocol_type = PyErr_NewExceptionWithDoc(
        "sagemaker_rt_c._core.ProtocolError",
        "The response body broke off (urllib3's ProtocolError: StreamingBody raises ResponseStreamingError).", NULL,
        NULL);
    st->raw_timeout_type = PyErr_NewExceptionWithDoc(
        "sagemaker_rt_c._core.ReadTimeout",
        "The response body stalled (urllib3's ReadTimeoutError: StreamingBody raises ReadTimeoutError).", NULL, NULL);
    if (st->raw_type == NULL || st->raw_protocol_type == NULL || st->raw_timeout_type == NULL) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "RawStream", (PyObject *)st->raw_type) < 0 ||
        PyModule_AddObjectRef(module, "ProtocolError", st->raw_protocol_type) < 0 ||
        PyModule_AddObjectRef(module, "ReadTimeout", st->raw_timeout_type) < 0) {
        return -1;
    }
    return 0;
}

/* A StreamingBody (the Python class installed by sagemaker_rt_c.response) around a
 * RawStream, made without running Python code: allocate, then set its three slots through
 * their member descriptors, as botocore's __init__ would. */
PyObject *smrt_body_new(smrt_state *st, PyObject *data, PyObject *content_length, int broken, PyObject *url)
{
    long long length = -1;
    if (content_length && PyUnicode_Check(content_length)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(content_length, &n);
        if (s == NULL) {
            return NULL;
        }
        char *end = NULL;
        long long v = n > 0 ? strtoll(s, &end, 10) : -1;
        if (end && end == s + n && v >= 0) {
            length = v;
        }
    }
    PyObject *raw = smrt_raw_new(st, data, length, broken, url);
    if (raw == NULL) {
        return NULL;
    }
    if (st->body_class == NULL) {
        return raw;
    }
    PyTypeObject *cls = (PyTypeObject *)st->body_class;
    PyObject *body = cls->tp_new(cls, st->empty_tuple, NULL);
    if (body == NULL) {
        Py_DECREF(raw);
        return NULL;
    }
    PyObject *cl = content_length ? content_length : Py_None;
    if (Py_TYPE(st->body_slot_raw)->tp_descr_set(st->body_slot_raw, body, raw) < 0 ||
        Py_TYPE(st->body_slot_length)->tp_descr_set(st->body_slot_length, body, cl) < 0 ||
        Py_TYPE(st->body_slot_read)->tp_descr_set(st->body_slot_read, body, st->zero) < 0) {
        Py_DECREF(raw);
        Py_DECREF(body);
        return NULL;
    }
    Py_DECREF(raw);
    return body;
}
