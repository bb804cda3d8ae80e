/* _core.AsyncEngine: the asyncio client's driver of the call engine (sagemaker_rt_c/aio).
 *
 * Calls run on an evented runner (runner.h): one thread steps every call in flight over
 * non-blocking connections (epoll), and hands back everything the driver must act on:
 * error responses to classify, backoffs to wait, and finished calls. The runner writes to an
 * eventfd when its hand-back list fills; the event loop watches that descriptor
 * (loop.add_reader) and calls take(), which classifies error responses with the client's own
 * parser (retry decisions as the sync client's), returns the backoffs for the loop to sleep
 * (loop.call_later, then resume()) and the results. No call blocks the loop: the loop thread
 * only converts arguments, parses error responses and builds results.
 *
 * Each call is an `ajob`, found by its token (an int) in `jobs`: a token that is no longer
 * there (the call is over, or was cancelled) is ignored, so a late resume() or cancel() from
 * the loop is harmless. Every function here needs the GIL. */
#include "binding.h"

#include <structmember.h>

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runner.h"

typedef struct ajob {
    smrt_job job; /* first: the runner's part */
    smrt_pyrequest rq;
    PyObject *parsed; /* the last error response parsed for classification */
    long long token;
    int parked;       /* a backoff handed back: the loop's timer will resume() it */
    int submitted;
    PyObject *raw;    /* a read job: the live RawStream whose connection it reads */
} ajob;

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    PyObject *client;
    smrt_runner runner;
    int runner_ready;
    int efd;
    long long next_token;
    PyObject *jobs; /* token -> capsule of the ajob */
    int closed;
    PyObject *weakrefs;
} EngineObject;

static void ajob_free(ajob *a)
{
    if (a->raw != NULL) {
        /* A read never taken: the stream gets its connection back (closed: cut off). */
        if (smrt_raw_wait_end(a->raw, SMRT_XFER_INTERRUPTED) < 0) {
            PyErr_Clear();
        }
        Py_CLEAR(a->raw);
        a->submitted = 0;
    }
    if (a->submitted) {
        smrt_call_finish(&a->job.call); /* safe when the worker finished it already */
    }
    smrt_pyrequest_release(&a->rq);
    Py_CLEAR(a->parsed);
    smrt_response_release(&a->job.resp);
    PyMem_Free(a);
}

/* The job of `token` into *out (borrowed; NULL when it is not live). 0, or -1 with an
 * exception. */
static int lookup(EngineObject *self, PyObject *token, ajob **out)
{
    PyObject *cap = PyDict_GetItemWithError(self->jobs, token);
    *out = cap ? PyCapsule_GetPointer(cap, NULL) : NULL;
    return cap == NULL && PyErr_Occurred() ? -1 : 0;
}

/* Forget `a` (its token leaves `jobs`) and free it. */
static int forget(EngineObject *self, ajob *a)
{
    PyObject *key = PyLong_FromLongLong(a->token);
    int rc = key ? PyDict_DelItem(self->jobs, key) : -1;
    Py_XDECREF(key);
    ajob_free(a);
    return rc;
}

/* Give `a` a token in `jobs`: the token (new reference), or NULL with an exception. */
static PyObject *enlist(EngineObject *self, ajob *a)
{
    a->token = self->next_token++;
    PyObject *key = PyLong_FromLongLong(a->token);
    PyObject *cap = key ? PyCapsule_New(a, NULL, NULL) : NULL;
    if (cap == NULL || PyDict_SetItem(self->jobs, key, cap) < 0) {
        Py_XDECREF(key);
        Py_XDECREF(cap);
        return NULL;
    }
    Py_DECREF(cap);
    return key;
}

/* read_stream(raw) -> token, or None: wait on a worker for bytes of a live RawStream that has
 * none buffered (take() then reports the read done: (token, 0, None), or its exception). */
static PyObject *engine_read_stream(EngineObject *self, PyObject *raw)
{
    if (self->closed) {
        PyErr_SetString(PyExc_RuntimeError, "the client is closed");
        return NULL;
    }
    if (!PyObject_TypeCheck(raw, self->st->raw_type)) {
        PyErr_SetString(PyExc_TypeError, "read_stream() takes a RawStream");
        return NULL;
    }
    smrt_conn *conn = smrt_raw_wait_begin(raw);
    if (conn == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    ajob *a = PyMem_Calloc(1, sizeof(ajob));
    if (a == NULL) {
        smrt_raw_wait_end(raw, SMRT_XFER_NOMEM);
        PyErr_Clear();
        return PyErr_NoMemory();
    }
    a->raw = Py_NewRef(raw);
    a->job.read_conn = conn;
    a->job.read_want = 1;
    PyObject *key = enlist(self, a);
    if (key == NULL) {
        ajob_free(a);
        return NULL;
    }
    smrt_runner_submit(&self->runner, &a->job);
    return key;
}

static PyObject *engine_submit(EngineObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyLong_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "submit(op, params)");
        return NULL;
    }
    if (self->closed) {
        PyErr_SetString(PyExc_RuntimeError, "the client is closed");
        return NULL;
    }
    int op = (int)PyLong_AsLong(args[0]);
    if (op < 0 || op >= SMRT_OP_COUNT) {
        PyErr_SetString(PyExc_ValueError, "no such operation");
        return NULL;
    }
    ajob *a = PyMem_Calloc(1, sizeof(ajob));
    if (a == NULL) {
        return PyErr_NoMemory();
    }
    smrt_creds *creds = NULL;
    if (smrt_pyrequest_prepare(self->client, op, args[1], -1, &a->rq, &creds) < 0) {
        ajob_free(a);
        return NULL;
    }
    PyObject *key = enlist(self, a);
    if (key == NULL) {
        smrt_creds_release(creds);
        ajob_free(a);
        return NULL;
    }
    const smrt_operation *o = &SMRT_OPERATIONS[op];
    /* An event stream is read as it arrives (read_stream); other bodies whole, by the worker. */
    smrt_call_init(&a->job.call, smrt_client_engine(self->client), o, &a->rq.a.in, creds,
                   o->response_body == SMRT_BODY_EVENT_STREAM ? SMRT_READ_HEAD : SMRT_READ_ALL);
    a->submitted = 1;
    smrt_runner_submit(&self->runner, &a->job);
    return key;
}

/* take() -> [(token, kind, value)]: kind 0 a result (value: the response dict), 1 an
 * exception (value: it), 2 a backoff (value: seconds; resume(token) after them), 3 a call
 * that was cancelled ended (value None). */
static PyObject *engine_take(EngineObject *self, PyObject *Py_UNUSED(ignored))
{
    uint64_t n;
    while (read(self->efd, &n, sizeof(n)) < 0 && errno == EINTR) {
    }
    PyObject *out = PyList_New(0);
    if (out == NULL || !self->runner_ready) {
        return out;
    }
    smrt_job *j;
    while ((j = smrt_runner_take_classify(&self->runner)) != NULL) {
        ajob *a = (ajob *)j;
        PyObject *item = NULL;
        if (j->state == SMRT_JOB_CLASSIFY) {
            smrt_response *r = smrt_conn_response(smrt_call_conn(&j->call));
            PyObject *parsed = smrt_client_parse_error(self->client, r);
            if (parsed != NULL) {
                Py_XSETREF(a->parsed, parsed);
                PyObject *code = PyTuple_GET_ITEM(parsed, 0);
                PyObject *retry_after = PyTuple_GET_ITEM(parsed, 1);
                const char *code_s = PyUnicode_Check(code) ? PyUnicode_AsUTF8(code) : NULL;
                if (code_s != NULL || !PyErr_Occurred()) {
                    smrt_call_classified(&j->call, code_s,
                                         PyFloat_Check(retry_after) ? PyFloat_AS_DOUBLE(retry_after) : -1.0);
                    smrt_runner_resume(&self->runner, j);
                    continue;
                }
            }
            /* The parser failed: the call ends with its exception. */
            PyObject *exc = smrt_take_exception();
            item = Py_BuildValue("(LiN)", a->token, 1, exc ? exc : Py_NewRef(Py_None));
            if (item == NULL || PyList_Append(out, item) < 0 || forget(self, a) < 0) {
                Py_XDECREF(item);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(item);
            continue;
        }
        if (j->state == SMRT_JOB_WAIT) {
            a->parked = 1;
            item = Py_BuildValue("(Lid)", a->token, 2, j->call.delay);
        } else if (a->raw != NULL) {
            /* A read: the stream takes the bytes (or the break). */
            PyObject *raw = a->raw;
            a->raw = NULL;
            int rc = smrt_raw_wait_end(raw, j->call.kind);
            Py_DECREF(raw);
            if (atomic_load(&j->cancelled)) {
                PyErr_Clear();
                item = Py_BuildValue("(LiO)", a->token, 3, Py_None);
            } else if (rc < 0) {
                PyObject *exc = smrt_take_exception();
                item = Py_BuildValue("(LiN)", a->token, 1, exc ? exc : Py_NewRef(Py_None));
            } else {
                item = Py_BuildValue("(LiO)", a->token, 0, Py_None);
            }
        } else if (atomic_load(&j->cancelled)) {
            item = Py_BuildValue("(LiO)", a->token, 3, Py_None);
        } else {
            smrt_conn *live = smrt_call_conn(&j->call); /* a body still arriving: the result takes it */
            PyObject *res = smrt_client_outcome(self->client, &j->call, j->outcome,
                                                live ? smrt_conn_response(live) : &j->resp, a->parsed);
            int kind = 0;
            if (res == NULL) {
                res = smrt_take_exception();
                kind = 1;
            }
            item = Py_BuildValue("(LiN)", a->token, kind, res ? res : Py_NewRef(Py_None));
        }
        if (item == NULL || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(item);
        if (j->state == SMRT_JOB_DONE && forget(self, a) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

static PyObject *engine_resume(EngineObject *self, PyObject *token)
{
    ajob *a;
    if (lookup(self, token, &a) < 0) {
        return NULL;
    }
    if (a != NULL && a->parked && !self->closed) {
        a->parked = 0;
        smrt_runner_resume(&self->runner, &a->job);
    }
    Py_RETURN_NONE;
}

static PyObject *engine_cancel(EngineObject *self, PyObject *token)
{
    ajob *a;
    if (lookup(self, token, &a) < 0) {
        return NULL;
    }
    if (a == NULL) {
        Py_RETURN_NONE;
    }
    if (a->parked) {
        /* Waiting for the loop's timer: no worker has it. Its connection (kept for the next
         * attempt, the error response read whole) goes back to the pool, its place in the
         * limit to the next call. */
        smrt_runner_drop(&self->runner, &a->job);
        if (forget(self, a) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    smrt_runner_cancel_job(&self->runner, &a->job); /* ends as "cancelled" in a later take() */
    Py_RETURN_NONE;
}

static PyObject *engine_fileno(EngineObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(self->efd);
}

static void engine_stop(EngineObject *self)
{
    self->closed = 1;
    if (self->runner_ready) {
        Py_BEGIN_ALLOW_THREADS
        smrt_runner_destroy(&self->runner);
        Py_END_ALLOW_THREADS
        self->runner_ready = 0;
    }
    if (self->jobs != NULL) {
        PyObject *key, *cap;
        Py_ssize_t pos = 0;
        while (PyDict_Next(self->jobs, &pos, &key, &cap)) {
            ajob_free(PyCapsule_GetPointer(cap, NULL));
        }
        PyDict_Clear(self->jobs);
    }
}

static PyObject *engine_close(EngineObject *self, PyObject *Py_UNUSED(ignored))
{
    engine_stop(self);
    Py_RETURN_NONE;
}

static PyObject *engine_get_pending(EngineObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->jobs ? PyDict_GET_SIZE(self->jobs) : 0);
}

static PyGetSetDef engine_getset[] = {
    {"pending", (getter)engine_get_pending, NULL, "Calls submitted and not yet taken.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef engine_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))engine_submit, METH_FASTCALL,
     "submit($self, op, params, /)\n--\n\nStart a call of operation `op` (an index) with `params`; its token."},
    {"read_stream", (PyCFunction)engine_read_stream, METH_O,
     "read_stream($self, raw, /)\n--\n\nWait for more bytes of a live RawStream; its token, or None."},
    {"take", (PyCFunction)engine_take, METH_NOARGS,
     "take($self, /)\n--\n\nWhat the calls handed back: [(token, kind, value)]."},
    {"resume", (PyCFunction)engine_resume, METH_O, "resume($self, token, /)\n--\n\nA backoff is over."},
    {"cancel", (PyCFunction)engine_cancel, METH_O, "cancel($self, token, /)\n--\n\nStop a call."},
    {"fileno", (PyCFunction)engine_fileno, METH_NOARGS,
     "fileno($self, /)\n--\n\nThe descriptor that becomes readable when take() has something."},
    {"close", (PyCFunction)engine_close, METH_NOARGS, "close($self, /)\n--\n\nStop every call."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef engine_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EngineObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static int engine_traverse(EngineObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->client);
    Py_VISIT(self->jobs);
    return 0;
}

static void engine_dealloc(EngineObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    engine_stop(self);
    Py_CLEAR(self->jobs);
    if (self->efd >= 0) {
        close(self->efd);
    }
    Py_CLEAR(self->client);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* AsyncEngine(client, limit) */
static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    smrt_state *st = smrt_state_from_type(type);
    PyObject *client;
    int threads;
    static char *kwlist[] = {"client", "limit", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!i:AsyncEngine", kwlist, st->client_type, &client, &threads)) {
        return NULL;
    }
    if (threads < 1 || threads > 1024) {
        PyErr_Format(PyExc_ValueError, "limit must be between 1 and 1024, not %d", threads);
        return NULL;
    }
    smrt_engine *eng = smrt_client_engine(client);
    if (eng->pool == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "AsyncEngine: the client is not initialised");
        return NULL;
    }
    EngineObject *self = (EngineObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->st = st;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->client = Py_NewRef(client);
    self->jobs = PyDict_New();
    self->next_token = 1;
    if (self->efd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    if (self->jobs == NULL) {
        goto error;
    }
    /* One thread for every call: at most `threads` (max_pool_connections) in flight. */
    int rc = smrt_runner_init_evented(&self->runner, eng, threads, 1, 1, self->efd);
    self->runner_ready = 1;
    if (rc != SMRT_OK) {
        PyErr_SetString(PyExc_RuntimeError, "AsyncEngine: could not start its I/O thread");
        goto error;
    }
    smrt_pool_keep_idle(eng->pool, (size_t)threads);
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static PyType_Slot engine_slots[] = {
    {Py_tp_doc, "AsyncEngine(client, limit)\n--\n\nThe asyncio client's calls on the engine (sagemaker_rt_c.aio)."},
    {Py_tp_new, engine_new},
    {Py_tp_dealloc, engine_dealloc},
    {Py_tp_traverse, engine_traverse},
    {Py_tp_methods, engine_methods},
    {Py_tp_members, engine_members},
    {Py_tp_getset, engine_getset},
    {0, NULL},
};

static PyType_Spec engine_spec = {
    .name = "sagemaker_rt_c._core.AsyncEngine",
    .basicsize = sizeof(EngineObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = engine_slots,
};

int smrt_aio_type_add(PyObject *module, smrt_state *st)
{
    st->aio_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &engine_spec, NULL);
    if (st->aio_type == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "AsyncEngine", (PyObject *)st->aio_type);
}
