/* _core.EventReader: the events of a streaming response (InvokeEndpointWithResponseStream) as
 * botocore's EventStream yields them, each as soon as its last byte arrives.
 *
 * It reads the response's RawStream (live over the connection while the body arrives: a read
 * waits without the GIL and sees Ctrl-C), feeds an EventStreamDecoder (evstream.c, botocore's
 * rules and exceptions) and turns each message into botocore's event: the common one, an event
 * whose shape is a blob payload ({'PayloadPart': {'Bytes': b'...'}}), made here; any other
 * message (an exception or error event, an unknown or non-blob event, a header that is not
 * ASCII) by the event_message hook, which parses it as botocore's EventStreamJSONParser does and
 * returns the event, None (botocore yields nothing for it) or the exception to raise.
 *
 * After an exception event, a parser error or a broken body, iteration is over (botocore's
 * generator is finished by then). Unlike botocore, a body that ends inside an event, or before
 * its Content-Length, raises (the stream_break hook words it) instead of ending the iteration
 * silently. Every function needs the GIL. */
#include "binding.h"

#include <structmember.h>

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    int op;             /* SMRT_OP_* */
    PyObject *raw;      /* the RawStream */
    PyObject *decoder;  /* an _core.EventStreamDecoder */
    /* Per event type of the operation (its `events` table): the type's name as a str, and for
     * a blob-payload event its payload member's name (NULL: the hook makes that event). */
    PyObject *event_name[8];
    PyObject *payload_key[8];
    int n_events;
    int done;           /* iteration is over */
    int nowait;         /* _next_nowait: stop where a read would wait */
    int busy;
    PyObject *weakrefs;
} ReaderObject;

static int reader_traverse(ReaderObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->raw);
    Py_VISIT(self->decoder);
    return 0;
}

static int reader_clear(ReaderObject *self)
{
    Py_CLEAR(self->raw);
    Py_CLEAR(self->decoder);
    for (int i = 0; i < 8; i++) {
        Py_CLEAR(self->event_name[i]);
        Py_CLEAR(self->payload_key[i]);
    }
    return 0;
}

static void reader_dealloc(ReaderObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    reader_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int name_is(const smrt_es_header *h, const char *name, size_t n)
{
    return h->name_len == n && memcmp(h->name, name, n) == 0;
}

static int ascii(const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        if (s[i] & 0x80) {
            return 0;
        }
    }
    return 1;
}

/* The event for message `m` made here, NULL with no exception when the hook must make it,
 * NULL with an exception on failure. */
static PyObject *fast_event(ReaderObject *self, const smrt_es_message *m, int *handled)
{
    const smrt_es_header *event_type = NULL;
    *handled = 0;
    for (size_t i = 0; i < m->n_headers; i++) {
        const smrt_es_header *h = &m->headers[i];
        /* botocore decodes every name and string as UTF-8: leave anything else to it. */
        if (!ascii(h->name, h->name_len) || (h->type == SMRT_ES_STRING && !ascii(h->value, h->value_len))) {
            return NULL;
        }
        if (name_is(h, ":message-type", 13)) {
            if (h->type != SMRT_ES_STRING || h->value_len != 5 || memcmp(h->value, "event", 5) != 0) {
                return NULL; /* an exception or error event */
            }
        } else if (name_is(h, ":event-type", 11)) {
            event_type = h;
        }
    }
    if (event_type == NULL || event_type->type != SMRT_ES_STRING) {
        return NULL;
    }
    for (int k = 0; k < self->n_events; k++) {
        PyObject *name = self->event_name[k];
        if (self->payload_key[k] != NULL && (size_t)PyUnicode_GET_LENGTH(name) == event_type->value_len &&
            memcmp(PyUnicode_DATA(name), event_type->value, event_type->value_len) == 0) {
            *handled = 1;
            PyObject *payload = PyBytes_FromStringAndSize((const char *)m->payload, (Py_ssize_t)m->payload_len);
            PyObject *inner = payload ? PyDict_New() : NULL;
            PyObject *outer = inner ? PyDict_New() : NULL;
            if (outer == NULL || PyDict_SetItem(inner, self->payload_key[k], payload) < 0 ||
                PyDict_SetItem(outer, name, inner) < 0) {
                Py_CLEAR(outer);
            }
            Py_XDECREF(payload);
            Py_XDECREF(inner);
            return outer;
        }
    }
    return NULL;
}

/* Raise the exception a hook returned (or propagate the one it raised). */
static void raise_returned(PyObject *exc)
{
    if (exc == NULL) {
        return;
    }
    if (PyExceptionInstance_Check(exc)) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    } else {
        PyErr_Format(PyExc_SystemError, "a hook returned %R, not an exception", exc);
    }
    Py_DECREF(exc);
}

static PyObject *next_event(ReaderObject *self)
{
    smrt_state *st = self->st;
    for (;;) {
        if (self->done) {
            return NULL;
        }
        smrt_es_message m;
        int rc = smrt_esobj_next(self->decoder, &m);
        if (rc < 0) {
            self->done = 1; /* a malformed stream: botocore's parser error is set */
            return NULL;
        }
        if (rc == SMRT_ES_MESSAGE) {
            int handled;
            PyObject *ev = fast_event(self, &m, &handled);
            if (ev != NULL || handled) {
                if (ev == NULL) {
                    self->done = 1;
                }
                return ev;
            }
            if (PyErr_Occurred()) {
                self->done = 1;
                return NULL;
            }
            PyObject *headers = smrt_esobj_headers(self->decoder, &m);
            if (headers == NULL) {
                self->done = 1;
                return NULL;
            }
            PyObject *r = PyObject_CallFunction(st->hook[SMRT_HOOK_event_message], "ONy#", st->op_name[self->op],
                                                headers, (const char *)m.payload, (Py_ssize_t)m.payload_len);
            if (r == NULL) {
                self->done = 1;
                return NULL;
            }
            if (r == Py_None) {
                Py_DECREF(r); /* botocore yields nothing for it */
                continue;
            }
            if (PyExceptionInstance_Check(r)) {
                self->done = 1;
                raise_returned(r);
                return NULL;
            }
            return r;
        }
        if (self->nowait && smrt_raw_must_wait(self->raw)) {
            return Py_NewRef(Py_False); /* the asyncio client reads them (aio.c) */
        }
        /* More bytes: wait for them (without the GIL, in the RawStream). */
        PyObject *chunk = smrt_raw_read_some(self->raw);
        if (chunk == NULL) {
            self->done = 1;
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (value != NULL && (PyErr_GivenExceptionMatches(type, st->raw_protocol_type) ||
                                  PyErr_GivenExceptionMatches(type, st->raw_timeout_type))) {
                raise_returned(PyObject_CallOneArg(st->hook[SMRT_HOOK_stream_break], value));
                Py_XDECREF(type);
                Py_XDECREF(value);
                Py_XDECREF(tb);
            } else {
                PyErr_Restore(type, value, tb);
            }
            return NULL;
        }
        if (PyBytes_GET_SIZE(chunk) == 0) {
            Py_DECREF(chunk);
            self->done = 1;
            if (smrt_esobj_pending(self->decoder) > 0 || smrt_raw_cut_short(self->raw)) {
                raise_returned(PyObject_CallOneArg(st->hook[SMRT_HOOK_stream_break], Py_None));
            }
            return NULL; /* StopIteration */
        }
        int fed = smrt_esobj_feed(self->decoder, chunk);
        Py_DECREF(chunk);
        if (fed < 0) {
            self->done = 1;
            return NULL;
        }
    }
}

static PyObject *reader_iternext(ReaderObject *self)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the event stream is being read in another thread");
        return NULL;
    }
    self->busy = 1;
    PyObject *ev = next_event(self);
    self->busy = 0;
    return ev;
}

static PyObject *reader_next_nowait(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the event stream is being read already");
        return NULL;
    }
    self->busy = 1;
    self->nowait = 1;
    PyObject *ev = next_event(self);
    self->nowait = 0;
    self->busy = 0;
    if (ev == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return ev;
}

static PyObject *reader_iter(PyObject *self)
{
    return Py_NewRef(self);
}

static PyObject *reader_close(ReaderObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the event stream is being read in another thread");
        return NULL;
    }
    self->done = 1;
    return PyObject_CallMethod(self->raw, "close", NULL);
}

static PyMethodDef reader_methods[] = {
    {"_next_nowait", (PyCFunction)reader_next_nowait, METH_NOARGS,
     "_next_nowait($self, /)\n--\n\nThe next event; False when it needs bytes not received yet (the asyncio "
     "client waits for them); None at the end."},
    {"close", (PyCFunction)reader_close, METH_NOARGS,
     "close($self, /)\n--\n\nEnd the stream: its connection closes, iteration is over."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef reader_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ReaderObject, weakrefs), READONLY, NULL},
    {"_raw", T_OBJECT, offsetof(ReaderObject, raw), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot reader_slots[] = {
    {Py_tp_doc, "The events of a streaming response, decoded as they arrive (made by the client)."},
    {Py_tp_dealloc, reader_dealloc},
    {Py_tp_traverse, reader_traverse},
    {Py_tp_clear, reader_clear},
    {Py_tp_iter, reader_iter},
    {Py_tp_iternext, reader_iternext},
    {Py_tp_methods, reader_methods},
    {Py_tp_members, reader_members},
    {0, NULL},
};

static PyType_Spec reader_spec = {
    .name = "sagemaker_rt_c._core.EventReader",
    .basicsize = sizeof(ReaderObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = reader_slots,
};

int smrt_stream_type_add(PyObject *module, smrt_state *st)
{
    st->reader_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &reader_spec, NULL);
    if (st->reader_type == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "EventReader", (PyObject *)st->reader_type);
}

PyObject *smrt_event_stream_new(smrt_state *st, int op_i, PyObject *raw)
{
    const smrt_operation *op = &SMRT_OPERATIONS[op_i];
    ReaderObject *r = PyObject_GC_New(ReaderObject, st->reader_type);
    if (r == NULL) {
        return NULL;
    }
    r->st = st;
    r->op = op_i;
    r->raw = Py_NewRef(raw);
    r->decoder = NULL;
    r->n_events = 0;
    r->done = r->busy = r->nowait = 0;
    r->weakrefs = NULL;
    for (int i = 0; i < 8; i++) {
        r->event_name[i] = r->payload_key[i] = NULL;
    }
    PyObject_GC_Track(r);
    if ((r->decoder = smrt_esobj_new(st)) == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    for (int k = 0; k < op->n_events && k < 8; k++) {
        const smrt_event *ev = &op->events[k];
        if ((r->event_name[k] = PyUnicode_InternFromString(ev->name)) == NULL) {
            Py_DECREF(r);
            return NULL;
        }
        r->n_events = k + 1;
        /* Made here: a non-exception event whose one member is its blob payload. */
        if (!ev->exception && ev->n_members == 1 && ev->members[0].location == SMRT_LOC_PAYLOAD &&
            ev->members[0].type == SMRT_TYPE_BLOB &&
            (r->payload_key[k] = PyUnicode_InternFromString(ev->members[0].name)) == NULL) {
            Py_DECREF(r);
            return NULL;
        }
    }
    PyObject *stream = PyObject_CallFunctionObjArgs(st->hook[SMRT_HOOK_event_stream], (PyObject *)r, raw, NULL);
    Py_DECREF(r);
    return stream;
}
