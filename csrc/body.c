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
 *  - close() makes later reads find nothing; iteration yields lines.
 *
 * A live stream (smrt_body_new_live) holds the response's connection while the body is still
 * arriving: reads wait for the bytes they need (without the GIL, Ctrl-C seen), the connection
 * goes back to the pool when the body ends, and closes when the stream is closed or dropped
 * before its end. From the end (or a break) on it reads as above. */
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
    /* Live streams only: */
    smrt_conn *conn;    /* borrowed from `pool` until the body ends, breaks or is dropped */
    smrt_pool *pool;
    PyObject *owner;    /* keeps `pool` alive (the client) */
    Py_ssize_t base;    /* bytes consumed before those in `data` */
    int busy;           /* a read is waiting for bytes (the GIL released) */
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
    if (whole >= 0 && self->length >= 0 && (long long)(self->base + self->pos) < self->length && self->broken &&
        !self->closed) {
        long long more = self->length - (long long)(self->base + self->pos);
        PyErr_Format(st->raw_protocol_type,
                     "('Connection broken: IncompleteRead(%zd bytes read, %lld more expected)', "
                     "IncompleteRead(%zd bytes read, %lld more expected))",
                     whole, more, whole, more);
        return -1;
    }
    if (self->broken == SMRT_BODY_INCOMPLETE && !self->closed && self->length < 0) {
        /* No Content-Length (a chunked body cut short). */
        PyErr_Format(st->raw_protocol_type,
                     "('Connection broken: IncompleteRead(%zd bytes read)', IncompleteRead(%zd bytes read))",
                     self->base + self->pos, self->base + self->pos);
        return -1;
    }
    return 0;
}

static PyObject *slice(RawObject *self, Py_ssize_t n);

/* ---- live streams ------------------------------------------------------------------------ */

/* The connection's part is over (the body ended or broke): give it back. */
static void live_release(RawObject *self)
{
    if (self->conn != NULL) {
        smrt_pool_return(self->pool, self->conn); /* closes it unless the body ended cleanly */
        self->conn = NULL;
    }
    Py_CLEAR(self->owner);
}

/* Move the bytes the connection has buffered to the end of `data`. 0, or -1 (MemoryError). */
static int live_take(RawObject *self)
{
    smrt_response *r = smrt_conn_response(self->conn);
    size_t have = r->body.len - r->body_pos;
    if (have == 0) {
        return 0;
    }
    Py_ssize_t keep = PyBytes_GET_SIZE(self->data) - self->pos;
    PyObject *d = PyBytes_FromStringAndSize(NULL, keep + (Py_ssize_t)have);
    if (d == NULL) {
        return -1;
    }
    memcpy(PyBytes_AS_STRING(d), PyBytes_AS_STRING(self->data) + self->pos, (size_t)keep);
    memcpy(PyBytes_AS_STRING(d) + keep, r->body.data + r->body_pos, have);
    smrt_conn_consume(self->conn, have);
    self->base += self->pos;
    self->pos = 0;
    Py_SETREF(self->data, d);
    return 0;
}

/* How a live body's read ended badly: mark the stream broken as a transfer that broke before
 * returning would have (read on from there as urllib3 reads), or raise. 0 or -1. */
static int live_failed(RawObject *self, smrt_xfer_kind kind)
{
    smrt_response *r = smrt_conn_response(self->conn);
    switch (kind) {
    case SMRT_XFER_INTERRUPTED:
        if (!PyErr_Occurred()) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
        return -1;
    case SMRT_XFER_NOMEM:
        PyErr_NoMemory();
        return -1;
    case SMRT_XFER_READ_TIMEOUT:
        self->broken = SMRT_BODY_TIMEOUT;
        break;
    case SMRT_XFER_OTHER:
        /* Nothing more comes (a forked child never reads the parent's connection): the end a
         * later read finds is a break, not the body's end (a chunked body read on as if whole). */
        self->broken = SMRT_BODY_INCOMPLETE;
        PyErr_Format(PyExc_RuntimeError, "cannot read the response body: %s", r->errbuf);
        return -1;
    default:
        self->broken = strstr(r->errbuf, "reset by peer") != NULL ? SMRT_BODY_RESET : SMRT_BODY_INCOMPLETE;
        break;
    }
    return 0;
}

/* After smrt_conn_read returned `kind`: take what arrived, mark a break, give the connection
 * back at the end. 0, or -1 with an exception. */
static int live_after_read(RawObject *self, smrt_xfer_kind k)
{
    int rc = 0;
    if (k != SMRT_XFER_OK) {
        rc = live_failed(self, k);
    }
    if (live_take(self) < 0) {
        rc = -1;
    }
    if (self->conn != NULL && (k != SMRT_XFER_OK || smrt_conn_response(self->conn)->complete)) {
        if (k == SMRT_XFER_INTERRUPTED) {
            /* The transfer was abandoned: what arrived stays readable, nothing more comes. */
            self->broken = SMRT_BODY_INCOMPLETE;
        }
        live_release(self);
    }
    return rc;
}

/* Wait until `want` bytes are ready to read (SIZE_MAX: the whole body) or the body is over.
 * 0, or -1 with an exception (Ctrl-C, out of memory, a read from another thread). */
static int live_fill(RawObject *self, size_t want)
{
    if (self->conn == NULL || self->closed || (size_t)avail(self) >= want) {
        return 0;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the response body is being read in another thread");
        return -1;
    }
    size_t need = want == SIZE_MAX ? SIZE_MAX : want - (size_t)avail(self);
    smrt_gil_ctx ctx;
    smrt_conn_set_interrupt(self->conn, smrt_handles_signals() ? smrt_ask_signals : NULL, &ctx);
    self->busy = 1;
    ctx.ts = PyEval_SaveThread();
    smrt_xfer_kind k = smrt_conn_read(self->conn, need);
    PyEval_RestoreThread(ctx.ts);
    self->busy = 0;
    smrt_conn_set_interrupt(self->conn, NULL, NULL);
    return live_after_read(self, k);
}

smrt_conn *smrt_raw_wait_begin(PyObject *raw)
{
    RawObject *self = (RawObject *)raw;
    if (self->conn == NULL || self->closed || avail(self) > 0) {
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the response body is being read already");
        return NULL;
    }
    self->busy = 1;
    return self->conn;
}

int smrt_raw_wait_end(PyObject *raw, smrt_xfer_kind kind)
{
    RawObject *self = (RawObject *)raw;
    if (!self->busy) {
        return 0;
    }
    self->busy = 0;
    smrt_conn_set_interrupt(self->conn, NULL, NULL);
    return live_after_read(self, kind);
}

int smrt_raw_must_wait(PyObject *raw)
{
    RawObject *self = (RawObject *)raw;
    return self->conn != NULL && !self->closed && avail(self) == 0;
}

/* What read() of a live body allocates ahead of the bytes' arrival. The Content-Length is the
 * peer's claim (a server may say 10^18): the buffer starts at most this far ahead of what is
 * in, and grows as the bytes come (by doubling: past this size realloc moves pages, it does
 * not copy them). */
#define LIVE_READ_AHEAD ((Py_ssize_t)64 << 20)

/* read() of everything left in a live body of known length, into one bytes object filled as
 * the bytes arrive (never the whole body held twice). NULL with an exception. */
static PyObject *live_read_all(RawObject *self, Py_ssize_t *got_out)
{
    long long expect = self->length - (long long)(self->base + self->pos);
    if (expect < avail(self)) {
        expect = avail(self);
    }
    Py_ssize_t cap = expect - avail(self) > LIVE_READ_AHEAD ? avail(self) + LIVE_READ_AHEAD : (Py_ssize_t)expect;
    PyObject *out = PyBytes_FromStringAndSize(NULL, cap);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t got = avail(self);
    memcpy(PyBytes_AS_STRING(out), PyBytes_AS_STRING(self->data) + self->pos, (size_t)got);
    self->pos += got;
    while (self->conn != NULL && got < (Py_ssize_t)expect) {
        if (got == cap) {
            Py_ssize_t more = cap > LIVE_READ_AHEAD ? cap : LIVE_READ_AHEAD;
            cap = (Py_ssize_t)expect - cap > more ? cap + more : (Py_ssize_t)expect;
            if (_PyBytes_Resize(&out, cap) < 0) {
                return NULL;
            }
        }
        /* Up to 1 MiB at a time through the connection's buffer. */
        Py_ssize_t step = cap - got;
        if (live_fill(self, step < (1 << 20) ? (size_t)step : (size_t)(1 << 20)) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        Py_ssize_t n = avail(self);
        if (n > cap - got) {
            n = cap - got;
        }
        memcpy(PyBytes_AS_STRING(out) + got, PyBytes_AS_STRING(self->data) + self->pos, (size_t)n);
        self->pos += n;
        got += n;
        if (n == 0 && self->conn == NULL) {
            break;
        }
    }
    if (got < cap && _PyBytes_Resize(&out, got) < 0) {
        return NULL;
    }
    *got_out = got;
    return out;
}

PyObject *smrt_raw_new_live(smrt_state *st, PyObject *owner, smrt_pool *pool, smrt_conn *conn, long long length,
                            PyObject *url)
{
    PyObject *raw = smrt_raw_new(st, st->empty_bytes, length, SMRT_BODY_OK, url);
    if (raw == NULL) {
        smrt_pool_return(pool, conn);
        return NULL;
    }
    RawObject *r = (RawObject *)raw;
    r->conn = conn;
    r->pool = pool;
    r->owner = Py_NewRef(owner);
    /* Holds the client now: the collector must see it. */
    PyObject_GC_Track(r);
    if (live_take(r) < 0) {
        Py_DECREF(raw);
        return NULL;
    }
    return raw;
}

PyObject *smrt_raw_read_some(PyObject *raw)
{
    RawObject *self = (RawObject *)raw;
    if (avail(self) == 0 && live_fill(self, 1) < 0) {
        return NULL;
    }
    Py_ssize_t n = avail(self);
    if (n == 0) {
        if (at_end(self, -1) < 0) {
            return NULL;
        }
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    return slice(self, n);
}

int smrt_raw_cut_short(PyObject *raw)
{
    RawObject *self = (RawObject *)raw;
    return !self->closed && self->length >= 0 && (long long)(self->base + self->pos) < self->length;
}

PyObject *smrt_body_new_live(smrt_state *st, PyObject *owner, smrt_pool *pool, smrt_conn *conn,
                             PyObject *content_length, PyObject *url)
{
    PyObject *body = smrt_body_new(st, st->empty_bytes, content_length, SMRT_BODY_OK, url);
    if (body == NULL) {
        smrt_pool_return(pool, conn);
        return NULL;
    }
    PyObject *raw = body;
    if (st->body_class != NULL) {
        raw = Py_TYPE(st->body_slot_raw)->tp_descr_get(st->body_slot_raw, body, (PyObject *)Py_TYPE(body));
        if (raw == NULL) {
            Py_DECREF(body);
            smrt_pool_return(pool, conn);
            return NULL;
        }
        Py_DECREF(raw); /* the body holds it */
    }
    RawObject *r = (RawObject *)raw;
    r->conn = conn;
    r->pool = pool;
    r->owner = Py_NewRef(owner);
    /* Holds the client now: the collector must see it. */
    PyObject_GC_Track(r);
    if (live_take(r) < 0) {
        Py_DECREF(body);
        return NULL;
    }
    return body;
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
    Py_VISIT(self->owner);
    return 0;
}

static int raw_clear(RawObject *self)
{
    live_release(self);
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
    if (amt < 0 && self->conn != NULL && self->length >= 0 && !self->closed) {
        Py_ssize_t got = 0;
        PyObject *out = live_read_all(self, &got);
        if (out && self->broken && at_end(self, got) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        return out;
    }
    if (live_fill(self, amt < 0 ? SIZE_MAX : (size_t)amt) < 0) {
        return NULL;
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
    if (live_fill(self, (size_t)view.len) < 0) {
        PyBuffer_Release(&view);
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
    /* A live body: wait until a line (or `limit` bytes) is in, or the body ends. */
    while (self->conn != NULL && !self->closed) {
        Py_ssize_t have = avail(self);
        if ((limit >= 0 && have >= limit) ||
            (have > 0 && memchr(PyBytes_AS_STRING(self->data) + self->pos, '\n', (size_t)have) != NULL)) {
            break;
        }
        if (live_fill(self, (size_t)have + 1) < 0) {
            return NULL;
        }
    }
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
    return PyLong_FromSsize_t(self->base + self->pos);
}

static PyObject *raw_close(RawObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "the response body is being read in another thread");
        return NULL;
    }
    self->closed = 1;
    live_release(self);
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
    return raw_close(self, NULL);
}

static PyObject *raw_get_closed(RawObject *self, void *Py_UNUSED(closure))
{
    /* urllib3 reports closed once the connection is released: after close(), or when the
     * whole body has been read. */
    return PyBool_FromLong(self->closed || (self->conn == NULL && avail(self) == 0 && !self->broken));
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
