/* _core.EventStreamDecoder: the event-stream decoder (eventstream.h) for Python, with what
 * botocore 1.44.8's EventStreamBuffer gives: each message as (headers, payload), headers a dict
 * in wire order with botocore's values (bool; int for byte, short, integer, long and timestamp,
 * the timestamp in milliseconds as botocore leaves it; bytes for byte arrays and uuids; str),
 * and botocore's exceptions, by the same class names and messages: ChecksumMismatch,
 * InvalidHeadersLength, InvalidPayloadLength, DuplicateHeader (sagemaker_rt_c._protocol.eventstream,
 * imported at the first error), and where botocore's unpacking fails on a malformed header,
 * the same UnicodeDecodeError, KeyError or struct.error. An error is raised again by every
 * later call, as botocore's buffer does.
 *
 * Fed bytes objects are read in place (a reference is kept until the decoder has read all it
 * can from them); other buffers are copied, as botocore copies them. Every function needs the
 * GIL; a decoder refuses (RuntimeError) to be used by code that runs inside one of its own
 * calls (a finalizer, another thread while an import runs). */
#include "binding.h"

#include "eventstream.h"

/* Header names and short string values repeat from message to message (":event-type",
 * "PayloadPart" ...): the last few ASCII ones are kept and handed out again. */
#define STR_CACHE 16
#define STR_CACHE_MAX_LEN 64

typedef struct {
    PyObject_HEAD
    smrt_es_decoder dec;
    PyObject *borrowed; /* the bytes the decoder may still read from, or NULL */
    PyObject *strs[STR_CACHE];
    unsigned next_str;
    /* In feed or next: code they may run (a finalizer, an import) must not use the decoder
     * while its buffer is being read. */
    int busy;
} EsObject;

static int enter(EsObject *self)
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "EventStreamDecoder is in use by another call");
        return -1;
    }
    self->busy = 1;
    return 0;
}

static PyObject *es_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":EventStreamDecoder", kwlist)) {
        return NULL;
    }
    EsObject *self = (EsObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    smrt_es_init(&self->dec);
    return (PyObject *)self;
}

static void es_dealloc(EsObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    smrt_es_destroy(&self->dec);
    Py_CLEAR(self->borrowed);
    for (int i = 0; i < STR_CACHE; i++) {
        Py_CLEAR(self->strs[i]);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *feed_impl(EsObject *self, PyObject *data)
{
    if (PyBytes_CheckExact(data)) {
        if (PyBytes_GET_SIZE(data) == 0) {
            Py_RETURN_NONE;
        }
        /* The decoder copies what it has not read of the last bytes, and borrows these. */
        if (smrt_es_feed(&self->dec, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data)) != SMRT_OK) {
            return PyErr_NoMemory();
        }
        Py_XSETREF(self->borrowed, Py_NewRef(data));
        Py_RETURN_NONE;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    int rc = smrt_es_feed(&self->dec, view.buf, (size_t)view.len);
    if (rc == SMRT_OK) {
        rc = smrt_es_detach(&self->dec);
    }
    PyBuffer_Release(&view);
    if (rc != SMRT_OK) {
        return PyErr_NoMemory();
    }
    Py_CLEAR(self->borrowed);
    Py_RETURN_NONE;
}

/* bytes.decode('utf-8') of p[0 .. n), from the cache when it is there. */
static PyObject *decode_str(EsObject *self, const char *p, size_t n)
{
    if (n <= STR_CACHE_MAX_LEN) {
        for (int i = 0; i < STR_CACHE; i++) {
            PyObject *s = self->strs[i];
            if (s != NULL && (size_t)PyUnicode_GET_LENGTH(s) == n && memcmp(PyUnicode_DATA(s), p, n) == 0) {
                return Py_NewRef(s); /* (an ASCII str: its data are its UTF-8 bytes) */
            }
        }
    }
    PyObject *s = PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL);
    if (s != NULL && n <= STR_CACHE_MAX_LEN && PyUnicode_IS_ASCII(s)) {
        Py_XSETREF(self->strs[self->next_str], Py_NewRef(s));
        self->next_str = (self->next_str + 1) % STR_CACHE;
    }
    return s;
}

static PyObject *header_value(EsObject *self, const smrt_es_header *h)
{
    switch (h->type) {
    case SMRT_ES_TRUE:
        Py_RETURN_TRUE;
    case SMRT_ES_FALSE:
        Py_RETURN_FALSE;
    case SMRT_ES_BYTES:
    case SMRT_ES_UUID:
        return PyBytes_FromStringAndSize((const char *)h->value, (Py_ssize_t)h->value_len);
    case SMRT_ES_STRING:
        return decode_str(self, (const char *)h->value, h->value_len);
    default:
        return PyLong_FromLongLong(h->num);
    }
}

/* Headers into a new dict, in order: names and strings decoded as botocore decodes them (so a
 * UnicodeDecodeError comes from the same header). */
static PyObject *headers_dict(EsObject *self, const smrt_es_header *hs, size_t n)
{
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *name = decode_str(self, hs[i].name, hs[i].name_len);
        if (name == NULL) {
            goto error;
        }
        PyObject *value = header_value(self, &hs[i]);
        if (value == NULL) {
            Py_DECREF(name);
            goto error;
        }
        int rc = PyDict_SetItem(d, name, value);
        Py_DECREF(name);
        Py_DECREF(value);
        if (rc < 0) {
            goto error;
        }
    }
    return d;
error:
    Py_DECREF(d);
    return NULL;
}

/* Raise botocore's exception for an error of smrt_es_next. Returns NULL. */
static PyObject *raise_error(EsObject *self, int rc, const smrt_es_message *m)
{
    if (rc == SMRT_ENOMEM) {
        return PyErr_NoMemory();
    }
    PyObject *mod = NULL, *exc = NULL, *headers = NULL, *name = NULL;
    if (rc == SMRT_ES_E_DUPLICATE_HEADER || rc == SMRT_ES_E_MALFORMED_HEADER) {
        /* botocore parses the headers before the failing one first (all of a duplicate). */
        headers = headers_dict(self, m->headers, m->n_headers);
        if (headers == NULL) {
            goto error;
        }
        if (rc == SMRT_ES_E_DUPLICATE_HEADER) {
            const smrt_es_header *h = &m->headers[m->n_headers - 1];
            if ((name = PyUnicode_DecodeUTF8(h->name, (Py_ssize_t)h->name_len, NULL)) == NULL) {
                goto error;
            }
        }
    }
    if (rc == SMRT_ES_E_MALFORMED_HEADER || rc == SMRT_ES_E_SHORT_MESSAGE) {
        if (rc == SMRT_ES_E_MALFORMED_HEADER) {
            name = PyUnicode_DecodeUTF8(m->bad_name, (Py_ssize_t)m->bad_name_len, NULL);
            if (name == NULL) {
                goto error;
            }
            if (m->bad_type >= 0) {
                /* _HEADER_TYPE_MAP[header_type] */
                PyObject *key = PyLong_FromLong(m->bad_type);
                if (key != NULL) {
                    PyErr_SetObject(PyExc_KeyError, key);
                    Py_DECREF(key);
                }
                goto error;
            }
        }
        mod = PyImport_ImportModule("struct");
        PyObject *cls = mod ? PyObject_GetAttrString(mod, "error") : NULL;
        if (cls != NULL) {
            PyErr_Format(cls, "unpack requires a buffer of %zu bytes", rc == SMRT_ES_E_SHORT_MESSAGE ? 4 : m->need);
            Py_DECREF(cls);
        }
        goto error;
    }
    mod = PyImport_ImportModule("sagemaker_rt_c._protocol.eventstream");
    if (mod == NULL) {
        goto error;
    }
    switch (rc) {
    case SMRT_ES_E_PRELUDE_CRC:
    case SMRT_ES_E_MESSAGE_CRC:
        exc = PyObject_CallMethod(mod, "ChecksumMismatch", "kk", (unsigned long)m->expected,
                                  (unsigned long)m->calculated);
        break;
    case SMRT_ES_E_HEADERS_LENGTH:
        exc = PyObject_CallMethod(mod, "InvalidHeadersLength", "L", (long long)m->length);
        break;
    case SMRT_ES_E_PAYLOAD_LENGTH:
        exc = PyObject_CallMethod(mod, "InvalidPayloadLength", "L", (long long)m->length);
        break;
    case SMRT_ES_E_DUPLICATE_HEADER:
        exc = PyObject_CallMethod(mod, "DuplicateHeader", "O", name);
        break;
    case SMRT_ES_E_HEADERS_OVERRUN:
        exc = PyObject_CallMethod(mod, "_headers_overrun", "kk", (unsigned long)m->headers_length,
                                  (unsigned long)m->total_length);
        break;
    default:
        PyErr_Format(PyExc_SystemError, "event-stream decoder: unknown status %d", rc);
        break;
    }
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    }
error:
    Py_XDECREF(exc);
    Py_XDECREF(mod);
    Py_XDECREF(headers);
    Py_XDECREF(name);
    return NULL;
}

/* The message just decoded could not be made (an exception is set): put it back, for good when
 * its headers will never decode (botocore raises the same UnicodeDecodeError again). Returns
 * NULL. */
static PyObject *unread(EsObject *self)
{
    int final = PyErr_ExceptionMatches(PyExc_UnicodeDecodeError);
    if (smrt_es_unread(&self->dec, final) != SMRT_OK) {
        /* Out of memory copying it: it stays where it is, to be returned again. */
        smrt_es_unread(&self->dec, 0);
    }
    return NULL;
}

/* The next message as (headers, payload); NULL with no exception set when more bytes are
 * needed. */
static PyObject *next_impl(EsObject *self)
{
    smrt_es_message m;
    int rc = smrt_es_next(&self->dec, &m);
    if (rc == SMRT_ES_E_REJECTED) {
        /* Raise what decoding its headers raised the first time. */
        PyObject *again = headers_dict(self, m.headers, m.n_headers);
        if (again != NULL) {
            Py_DECREF(again);
            PyErr_SetString(PyExc_SystemError, "event-stream decoder: a rejected message decoded");
        }
        Py_CLEAR(self->borrowed);
        return NULL;
    }
    if (rc != SMRT_ES_MESSAGE) {
        if (rc != SMRT_ENOMEM) {
            Py_CLEAR(self->borrowed); /* the decoder holds what it has not read */
        }
        return rc == SMRT_ES_MORE ? NULL : raise_error(self, rc, &m);
    }
    PyObject *headers = headers_dict(self, m.headers, m.n_headers);
    if (headers == NULL) {
        return unread(self);
    }
    PyObject *payload = PyBytes_FromStringAndSize((const char *)m.payload, (Py_ssize_t)m.payload_len);
    if (payload == NULL) {
        Py_DECREF(headers);
        return unread(self);
    }
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(headers);
        Py_DECREF(payload);
        return unread(self);
    }
    PyTuple_SET_ITEM(t, 0, headers);
    PyTuple_SET_ITEM(t, 1, payload);
    return t;
}

static PyObject *es_feed(EsObject *self, PyObject *data)
{
    if (enter(self) < 0) {
        return NULL;
    }
    PyObject *r = feed_impl(self, data);
    self->busy = 0;
    return r;
}

static PyObject *es_next(EsObject *self)
{
    if (enter(self) < 0) {
        return NULL;
    }
    PyObject *r = next_impl(self);
    self->busy = 0;
    return r;
}

static PyObject *es_next_message(EsObject *self, PyObject *ignored)
{
    (void)ignored;
    PyObject *r = es_next(self);
    if (r == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return r;
}

static PyObject *es_iter(PyObject *self)
{
    return Py_NewRef(self);
}

static PyObject *es_crc32(PyObject *ignored, PyObject *args)
{
    (void)ignored;
    Py_buffer view;
    unsigned long crc = 0;
    int portable = 0;
    if (!PyArg_ParseTuple(args, "y*|kp:_crc32", &view, &crc, &portable)) {
        return NULL;
    }
    uint32_t r = portable ? smrt_es_crc32_portable((uint32_t)crc, view.buf, (size_t)view.len)
                          : smrt_es_crc32((uint32_t)crc, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(r);
}

static PyObject *es_get_pending(EsObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(smrt_es_pending(&self->dec));
}

static PyMethodDef es_methods[] = {
    {"feed", (PyCFunction)es_feed, METH_O,
     "feed(data, /)\n--\n\nAdd bytes to the stream (botocore's EventStreamBuffer.add_data)."},
    {"next_message", (PyCFunction)es_next_message, METH_NOARGS,
     "next_message()\n--\n\nThe next message as (headers, payload), or None until more bytes come."},
    {"_crc32", es_crc32, METH_VARARGS | METH_STATIC,
     "_crc32(data, crc=0, portable=False, /)\n--\n\nzlib's crc32, by the decoder's code (tests)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef es_getset[] = {
    {"pending", (getter)es_get_pending, NULL, "Bytes held that are not yet a message.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot es_slots[] = {
    {Py_tp_doc, "EventStreamDecoder()\n--\n\n"
                "An application/vnd.amazon.eventstream decoder with botocore's EventStreamBuffer's "
                "rules: feed() bytes, iterate for (headers, payload) messages."},
    {Py_tp_new, es_new},
    {Py_tp_dealloc, es_dealloc},
    {Py_tp_iter, es_iter},
    {Py_tp_iternext, es_next},
    {Py_tp_methods, es_methods},
    {Py_tp_getset, es_getset},
    {0, NULL},
};

static PyType_Spec es_spec = {
    .name = "sagemaker_rt_c._core.EventStreamDecoder",
    .basicsize = sizeof(EsObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = es_slots,
};

int smrt_evstream_type_add(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &es_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    smrt_state *st = PyModule_GetState(module);
    Py_XSETREF(st->es_type, (PyTypeObject *)Py_NewRef(type));
    int rc = PyModule_AddObjectRef(module, "EventStreamDecoder", type);
    Py_DECREF(type);
    return rc;
}

/* ---- for the response stream (stream.c) ---------------------------------------------------- */

PyObject *smrt_esobj_new(smrt_state *st)
{
    return PyObject_CallNoArgs((PyObject *)st->es_type);
}

int smrt_esobj_feed(PyObject *dec, PyObject *data)
{
    EsObject *self = (EsObject *)dec;
    if (enter(self) < 0) {
        return -1;
    }
    PyObject *r = feed_impl(self, data);
    self->busy = 0;
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

int smrt_esobj_next(PyObject *dec, smrt_es_message *m)
{
    EsObject *self = (EsObject *)dec;
    if (enter(self) < 0) {
        return -1;
    }
    int rc = smrt_es_next(&self->dec, m);
    if (rc == SMRT_ES_E_REJECTED) {
        PyObject *again = headers_dict(self, m->headers, m->n_headers);
        if (again != NULL) {
            Py_DECREF(again);
            PyErr_SetString(PyExc_SystemError, "event-stream decoder: a rejected message decoded");
        }
        Py_CLEAR(self->borrowed);
        rc = -1;
    } else if (rc != SMRT_ES_MESSAGE) {
        if (rc != SMRT_ENOMEM) {
            Py_CLEAR(self->borrowed); /* the decoder holds what it has not read */
        }
        if (rc != SMRT_ES_MORE) {
            raise_error(self, rc, m);
            rc = -1;
        }
    }
    self->busy = 0;
    return rc;
}

PyObject *smrt_esobj_headers(PyObject *dec, const smrt_es_message *m)
{
    EsObject *self = (EsObject *)dec;
    if (enter(self) < 0) {
        return NULL;
    }
    PyObject *h = headers_dict(self, m->headers, m->n_headers);
    if (h == NULL) {
        unread(self);
    }
    self->busy = 0;
    return h;
}

size_t smrt_esobj_pending(PyObject *dec)
{
    return smrt_es_pending(&((EsObject *)dec)->dec);
}
