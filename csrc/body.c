/* StreamingBodyBase: the C half of the response `Body` (botocore's StreamingBody).
 * The transfer has already received the whole body into a bytes object; reads slice it.
 * The Python subclass (sagemaker_rt_c.response.StreamingBody) adds iter_lines,
 * iter_chunks and the rest of botocore's conveniences. */
#include "binding.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *data;           /* bytes */
    Py_ssize_t pos;           /* bytes already read */
    PyObject *content_length; /* the Content-Length header (str) or None */
    PyObject *error;          /* raised at the end of data (truncated transfer), or NULL */
    int closed;
    PyObject *weakrefs;
} BodyObject;

PyObject *smrt_body_new(smrt_state *st, PyObject *data, PyObject *content_length, PyObject *error)
{
    PyTypeObject *cls = (PyTypeObject *)(st->body_class ? st->body_class : (PyObject *)st->body_type);
    BodyObject *b = (BodyObject *)cls->tp_alloc(cls, 0);
    if (b == NULL) {
        return NULL;
    }
    Py_INCREF(data);
    b->data = data;
    b->content_length = content_length ? content_length : Py_None;
    Py_INCREF(b->content_length);
    Py_XINCREF(error);
    b->error = error;
    if (error == NULL) {
        /* Only bytes and str inside: it cannot be part of a cycle, so spare the collector. */
        PyObject_GC_UnTrack(b);
    }
    return (PyObject *)b;
}

static int body_traverse(BodyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->data);
    Py_VISIT(self->content_length);
    Py_VISIT(self->error);
    return 0;
}

static int body_clear(BodyObject *self)
{
    Py_CLEAR(self->data);
    Py_CLEAR(self->content_length);
    Py_CLEAR(self->error);
    return 0;
}

static void body_dealloc(BodyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    body_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *body_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"data", "content_length", NULL};
    PyObject *data = NULL, *content_length = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|O:StreamingBody", kwlist, &PyBytes_Type, &data,
                                     &content_length)) {
        return NULL;
    }
    BodyObject *b = (BodyObject *)type->tp_alloc(type, 0);
    if (b == NULL) {
        return NULL;
    }
    Py_INCREF(data);
    b->data = data;
    Py_INCREF(content_length);
    b->content_length = content_length;
    return (PyObject *)b;
}

static Py_ssize_t remaining(BodyObject *self)
{
    if (self->closed || self->data == NULL) {
        return 0;
    }
    return PyBytes_GET_SIZE(self->data) - self->pos;
}

/* At the end of the data: raise the transfer's error, if it was cut short. */
static int check_end(BodyObject *self)
{
    if (self->error != NULL && !self->closed) {
        PyErr_SetObject((PyObject *)Py_TYPE(self->error), self->error);
        return -1;
    }
    return 0;
}

static PyObject *body_read(BodyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"amt"};
    PyObject *amt_obj = Py_None;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1) {
        PyErr_SetString(PyExc_TypeError, "read() takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1) {
        amt_obj = args[0];
    } else if (nkw == 1) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), names[0]) != 0) {
            PyErr_Format(PyExc_TypeError, "read() got an unexpected keyword argument '%U'",
                         PyTuple_GET_ITEM(kwnames, 0));
            return NULL;
        }
        amt_obj = args[0];
    }
    Py_ssize_t left = remaining(self);
    Py_ssize_t amt = left;
    int all = 1;
    if (amt_obj != Py_None) {
        Py_ssize_t want = PyNumber_AsSsize_t(amt_obj, PyExc_OverflowError);
        if (want == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (want >= 0) { /* as file objects: a negative size reads everything */
            all = 0;
            amt = want < left ? want : left;
            if (amt == 0 && want > 0 && check_end(self) < 0) {
                return NULL;
            }
        }
    }
    /* urllib3 raises on a truncated body when asked for all of it: so does botocore. */
    if (all && check_end(self) < 0) {
        return NULL;
    }
    if (amt == 0) {
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    if (self->pos == 0 && amt == PyBytes_GET_SIZE(self->data)) {
        /* The whole body in one read: hand out the bytes object itself, no copy. */
        self->pos = amt;
        Py_INCREF(self->data);
        return self->data;
    }
    PyObject *out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(self->data) + self->pos, amt);
    if (out) {
        self->pos += amt;
    }
    return out;
}

static PyObject *body_readinto(BodyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        return NULL;
    }
    Py_ssize_t n = remaining(self);
    if (n > view.len) {
        n = view.len;
    }
    if (n == 0 && view.len > 0 && check_end(self) < 0) {
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

static PyObject *body_next(BodyObject *self)
{
    Py_ssize_t n = remaining(self);
    if (n == 0) {
        if (check_end(self) < 0) {
            return NULL;
        }
        return NULL; /* StopIteration */
    }
    if (n > 1024) {
        n = 1024;
    }
    PyObject *out = PyBytes_FromStringAndSize(PyBytes_AS_STRING(self->data) + self->pos, n);
    if (out) {
        self->pos += n;
    }
    return out;
}

static PyObject *body_tell(BodyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->pos);
}

static PyObject *body_close(BodyObject *self, PyObject *Py_UNUSED(ignored))
{
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *body_readable(BodyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(!self->closed);
}

static PyObject *body_enter(BodyObject *self, PyObject *Py_UNUSED(ignored))
{
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *body_exit(BodyObject *self, PyObject *args)
{
    (void)args;
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyObject *body_get_closed(BodyObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->closed);
}

static PyObject *body_get_content_length(BodyObject *self, void *Py_UNUSED(closure))
{
    Py_INCREF(self->content_length);
    return self->content_length;
}

static PyObject *body_get_amount_read(BodyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->pos);
}

static PyMethodDef body_methods[] = {
    {"read", (PyCFunction)(void (*)(void))body_read, METH_FASTCALL | METH_KEYWORDS,
     "read($self, /, amt=None)\n--\n\nRead at most amt bytes (all that is left when amt is None)."},
    {"readinto", (PyCFunction)body_readinto, METH_O,
     "readinto($self, b, /)\n--\n\nRead into a writable buffer; return the number of bytes read."},
    {"tell", (PyCFunction)body_tell, METH_NOARGS, "tell($self, /)\n--\n\nBytes read so far."},
    {"close", (PyCFunction)body_close, METH_NOARGS, "close($self, /)\n--\n\nClose the body."},
    {"readable", (PyCFunction)body_readable, METH_NOARGS, "readable($self, /)\n--\n\nTrue until closed."},
    {"__enter__", (PyCFunction)body_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)body_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef body_getset[] = {
    {"closed", (getter)body_get_closed, NULL, "True once close() was called.", NULL},
    {"_content_length", (getter)body_get_content_length, NULL, "The Content-Length header.", NULL},
    {"_amount_read", (getter)body_get_amount_read, NULL, "Bytes read so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef body_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(BodyObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot body_slots[] = {
    {Py_tp_doc, "StreamingBodyBase(data, content_length=None)\n--\n\n"
                "The response body of an invocation: already received in full, read like a file."},
    {Py_tp_new, body_tp_new},
    {Py_tp_dealloc, body_dealloc},
    {Py_tp_traverse, body_traverse},
    {Py_tp_clear, body_clear},
    {Py_tp_iternext, body_next},
    {Py_tp_methods, body_methods},
    {Py_tp_getset, body_getset},
    {Py_tp_members, body_members},
    {0, NULL},
};

static PyType_Spec body_spec = {
    .name = "sagemaker_rt_c._core.StreamingBodyBase",
    .basicsize = sizeof(BodyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = body_slots,
};

int smrt_body_type_add(PyObject *module, smrt_state *st)
{
    st->body_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &body_spec, NULL);
    if (st->body_type == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "StreamingBodyBase", (PyObject *)st->body_type);
}
