/* _core.Batch: client.invoke_endpoint_batch's iterator. Requests are pulled lazily from the
 * caller's iterable into a ring of slots (at most `window` ahead of the result being waited
 * for), converted and checked with the GIL held exactly as invoke_endpoint converts them, then
 * run by a runner (runner.h): worker threads stepping engine calls without the GIL, each
 * response moved out of its connection as it completes, so connections go back to the pool at
 * once whatever the order. Results come out in input order: the response dict with Body as
 * bytes, or in place the exception the call raised.
 *
 * The thread iterating is the driver: it parses error responses the workers hand back
 * (CLASSIFY) with the client's own parser, so retry decisions are invoke_endpoint's, and
 * builds each result. It waits for the next result without the GIL, in slices, running signal
 * handlers between them: Ctrl-C cancels every call in flight (their transfers are interrupted,
 * their backoffs cut short) and raises KeyboardInterrupt from next().
 *
 * With adaptive concurrency the runner's limit follows smrt_adapt: grown while latency stays
 * near its floor, cut on throttling (429, 503, ThrottlingException, ModelNotReadyException).
 * Every function here needs the GIL. */
#include "binding.h"

#include <structmember.h>

#include "runner.h"

typedef struct slot {
    smrt_job job; /* the runner's part */
    smrt_pyrequest rq;
    PyObject *item;   /* the result, when it was settled before sending (an exception) */
    PyObject *parsed; /* the last error response parsed for classification */
    int submitted;    /* its call was initialised (and handed to the runner) */
} slot;

typedef struct {
    PyObject_HEAD
    smrt_state *st;
    PyObject *client;
    PyObject *source;       /* the requests' iterator; NULL once exhausted */
    PyObject *source_error; /* what the iterator raised: raised after the results before it */
    slot *slots;
    size_t cap;
    unsigned long long head, tail; /* sequence numbers: next to deliver, next to fill */
    smrt_runner runner;
    int runner_ready;
    int adaptive;
    smrt_adapt adapt;
    int max_concurrency;
    unsigned long long done, errors, throttled;
    int finished;
    int busy;
    int64_t started_ns;
    double last_latency; /* of the result yielded last, seconds; < 0: it was never sent */
    PyObject *weakrefs;
} BatchObject;

#define SLOT(b, seq) (&(b)->slots[(seq) % (b)->cap])

PyObject *smrt_take_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

static void slot_release(slot *s)
{
    smrt_pyrequest_release(&s->rq);
    Py_CLEAR(s->item);
    Py_CLEAR(s->parsed);
    /* Keep small buffers for the next request through this slot; large ones go. */
    if (s->job.resp.body.cap > 65536 || s->job.resp.head.cap > 65536) {
        smrt_response_release(&s->job.resp);
    }
    s->submitted = 0;
    s->job.state = SMRT_JOB_IDLE;
    s->job.started_ns = 0;
    s->job.done_ns = 0;
}

void smrt_pyrequest_release(smrt_pyrequest *rq)
{
    smrt_call_args_release(&rq->a);
    for (Py_ssize_t i = 0; i < rq->n_vals; i++) {
        Py_CLEAR(rq->vals[i]);
    }
    rq->n_vals = 0;
    Py_CLEAR(rq->kwnames);
}

int smrt_pyrequest_prepare(PyObject *client, int op, PyObject *req, long long index, smrt_pyrequest *rq,
                           smrt_creds **creds)
{
    const smrt_operation *o = &SMRT_OPERATIONS[op];
    memset(&rq->a, 0, sizeof(rq->a));
    rq->a.op = op;
    *creds = NULL;
    char where[48] = "the request";
    if (index >= 0) {
        snprintf(where, sizeof(where), "requests[%lld]", index);
    }
    if (!PyDict_Check(req)) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a dict of %s parameters, not %.100s",
                     index >= 0 ? "invoke_endpoint_batch" : o->python_name, where, o->python_name,
                     Py_TYPE(req)->tp_name);
        return -1;
    }
    Py_ssize_t n = PyDict_GET_SIZE(req);
    if (n > SMRT_MAX_MEMBERS) {
        PyErr_Format(PyExc_TypeError, "%s has %zd keys; %s has %d parameters", where, n, o->python_name,
                     o->n_members);
        return -1;
    }
    if ((rq->kwnames = PyTuple_New(n)) == NULL) {
        return -1;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    while (i < n && PyDict_Next(req, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "%s has a key that is not a str: %.100R", where, key);
            return -1;
        }
        PyTuple_SET_ITEM(rq->kwnames, i, Py_NewRef(key));
        rq->vals[i] = Py_NewRef(value);
        rq->n_vals = ++i;
    }
    return smrt_client_prepare(client, &rq->a, rq->vals, 0, rq->kwnames, creds);
}

/* Convert request `req` into slot `s` and hand it to the runner; a request that cannot be
 * sent gets its exception as the slot's item. -1 only for KeyboardInterrupt (or another
 * exception that must stop the batch), with it set. */
static int slot_start(BatchObject *b, slot *s, PyObject *req, unsigned long long index)
{
    smrt_creds *creds = NULL;
    if (smrt_pyrequest_prepare(b->client, SMRT_OP_InvokeEndpoint, req, (long long)index, &s->rq, &creds) < 0) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
            return -1;
        }
        s->item = smrt_take_exception();
        return s->item != NULL ? 0 : -1;
    }
    smrt_call_init(&s->job.call, smrt_client_engine(b->client), &SMRT_OPERATIONS[SMRT_OP_InvokeEndpoint],
                   &s->rq.a.in, creds, SMRT_READ_ALL);
    s->submitted = 1;
    smrt_runner_submit(&b->runner, &s->job);
    return 0;
}

/* Pull requests until the window is full or the source is exhausted. */
static int fill(BatchObject *b)
{
    while (b->source != NULL && b->tail - b->head < b->cap) {
        PyObject *req = PyIter_Next(b->source);
        if (req == NULL) {
            if (PyErr_Occurred()) {
                if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
                    return -1;
                }
                b->source_error = smrt_take_exception();
            }
            Py_CLEAR(b->source);
            break;
        }
        slot *s = SLOT(b, b->tail);
        unsigned long long index = b->tail++;
        int rc = slot_start(b, s, req, index);
        Py_DECREF(req);
        if (rc < 0) {
            return -1;
        }
    }
    return 0;
}

static int is_throttling(long status, PyObject *code)
{
    if (status == 429 || status == 503) {
        return 1;
    }
    if (code == NULL || !PyUnicode_Check(code)) {
        return 0;
    }
    static const char *const names[] = {"ThrottlingException", "ModelNotReadyException", "Throttling",
                                        "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
                                        NULL};
    for (int i = 0; names[i]; i++) {
        if (PyUnicode_CompareWithASCIIString(code, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A worker handed back an error response: parse it as the client does, let the engine decide,
 * and requeue the call. */
static int classify(BatchObject *b, smrt_job *j)
{
    slot *s = (slot *)j;
    smrt_response *r = smrt_conn_response(smrt_call_conn(&j->call));
    PyObject *parsed = smrt_client_parse_error(b->client, r);
    if (parsed == NULL) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
            return -1;
        }
        /* The call ends with the parser's exception (its connection back to the pool). */
        s->item = smrt_take_exception();
        smrt_call_finish(&j->call);
        return s->item != NULL ? 0 : -1;
    }
    Py_XSETREF(s->parsed, parsed);
    PyObject *code = PyTuple_GET_ITEM(parsed, 0);
    PyObject *retry_after = PyTuple_GET_ITEM(parsed, 1);
    const char *code_s = PyUnicode_Check(code) ? PyUnicode_AsUTF8(code) : NULL;
    if (code_s == NULL && PyErr_Occurred()) {
        s->item = smrt_take_exception();
        smrt_call_finish(&j->call);
        return s->item != NULL ? 0 : -1;
    }
    if (is_throttling(r->status, code)) {
        b->throttled++;
        if (b->adaptive) {
            double now = (double)smrt_monotonic_ns() / 1e9;
            smrt_runner_set_limit(&b->runner, smrt_adapt_throttled(&b->adapt, now));
        }
    }
    /* code_s lives in s->parsed until the next classification or the slot's release. */
    smrt_call_classified(&j->call, code_s, PyFloat_Check(retry_after) ? PyFloat_AS_DOUBLE(retry_after) : -1.0);
    smrt_runner_resume(&b->runner, j);
    return 0;
}

/* Stop every call, wait for the workers, settle what is left (GIL released while joining). */
static void batch_stop(BatchObject *b)
{
    if (b->runner_ready) {
        Py_BEGIN_ALLOW_THREADS
        smrt_runner_destroy(&b->runner);
        Py_END_ALLOW_THREADS
        b->runner_ready = 0;
    }
    for (unsigned long long q = b->head; b->slots != NULL && q < b->tail; q++) {
        slot *s = SLOT(b, q);
        if (s->submitted) {
            smrt_call_finish(&s->job.call); /* a queued or classified call's connection and credentials */
        }
        slot_release(s);
    }
    b->head = b->tail;
    Py_CLEAR(b->source);
    b->finished = 1;
}

static PyObject *batch_iternext(BatchObject *self)
{
    if (self->finished) {
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "invoke_endpoint_batch: the results are being read in another thread");
        return NULL;
    }
    self->busy = 1;
    PyObject *item = NULL;
    if (fill(self) < 0) {
        goto stop;
    }
    if (self->head == self->tail) {
        PyObject *err = self->source_error;
        self->source_error = NULL;
        batch_stop(self);
        self->busy = 0;
        if (err != NULL) {
            smrt_raise_exception_object(err);
        }
        return NULL;
    }
    slot *s = SLOT(self, self->head);
    for (;;) {
        smrt_job *j;
        while ((j = smrt_runner_take_classify(&self->runner)) != NULL) {
            if (classify(self, j) < 0) {
                goto stop;
            }
        }
        if (s->item != NULL || !s->submitted || smrt_runner_state(&self->runner, &s->job) == SMRT_JOB_DONE) {
            break;
        }
        int ready;
        Py_BEGIN_ALLOW_THREADS
        ready = smrt_runner_wait(&self->runner, &s->job, (int64_t)SMRT_WAIT_SLICE_MS * 1000000LL);
        Py_END_ALLOW_THREADS
        if (!ready && PyErr_CheckSignals() < 0) {
            goto stop;
        }
    }
    self->last_latency = -1.0;
    if (s->item != NULL) {
        item = s->item;
        s->item = NULL;
    } else {
        smrt_job *j = &s->job;
        if (j->started_ns > 0 && j->done_ns >= j->started_ns) {
            self->last_latency = (double)(j->done_ns - j->started_ns) / 1e9;
        }
        item = smrt_client_outcome(self->client, &j->call, j->outcome, &j->resp, s->parsed);
        if (item == NULL) {
            if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
                goto stop;
            }
            item = smrt_take_exception();
            if (item == NULL) {
                goto stop;
            }
        } else if (self->adaptive && j->outcome == SMRT_STEP_RESPONSE && j->call.attempt == 1) {
            double latency = (double)(j->done_ns - j->started_ns) / 1e9;
            int may_grow = atomic_load(&self->runner.backing_off) == 0;
            smrt_runner_set_limit(&self->runner, smrt_adapt_success(&self->adapt, latency, may_grow));
        }
    }
    self->done++;
    if (!PyDict_Check(item)) {
        self->errors++;
    }
    slot_release(s);
    self->head++;
    self->busy = 0;
    return item;
stop:
    /* Ctrl-C (or no memory to report with): every call stops; the exception propagates. */
    batch_stop(self);
    self->busy = 0;
    return NULL;
}

static PyObject *batch_close(BatchObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "invoke_endpoint_batch: the results are being read in another thread");
        return NULL;
    }
    batch_stop(self);
    Py_CLEAR(self->source_error);
    Py_RETURN_NONE;
}

static PyObject *batch_enter(BatchObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

static PyObject *batch_exit(BatchObject *self, PyObject *args)
{
    (void)args;
    PyObject *r = batch_close(self, NULL);
    Py_XDECREF(r);
    return r ? Py_NewRef(Py_False) : NULL;
}

static PyObject *batch_iter(PyObject *self)
{
    return Py_NewRef(self);
}

static PyObject *batch_get_concurrency(BatchObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->adaptive ? self->adapt.limit : self->max_concurrency);
}

static PyObject *batch_get_in_flight(BatchObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromUnsignedLongLong(self->tail - self->head);
}

static PyObject *batch_get_elapsed(BatchObject *self, void *Py_UNUSED(closure))
{
    return PyFloat_FromDouble((double)(smrt_monotonic_ns() - self->started_ns) / 1e9);
}

static PyObject *batch_get_last_latency(BatchObject *self, void *Py_UNUSED(closure))
{
    if (self->last_latency < 0) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(self->last_latency);
}

static PyGetSetDef batch_getset[] = {
    {"last_latency", (getter)batch_get_last_latency, NULL,
     "Seconds the result yielded last took, from its first send to its response (retries and their "
     "backoffs included; queueing in the batch not); None when it was never sent.",
     NULL},
    {"concurrency", (getter)batch_get_concurrency, NULL, "Calls sent at a time now (adaptive: the current window).",
     NULL},
    {"in_flight", (getter)batch_get_in_flight, NULL, "Requests taken from the input and not yet yielded.", NULL},
    {"elapsed", (getter)batch_get_elapsed, NULL, "Seconds since the batch started.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef batch_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(BatchObject, weakrefs), READONLY, NULL},
    {"done", T_ULONGLONG, offsetof(BatchObject, done), READONLY, "Results yielded."},
    {"errors", T_ULONGLONG, offsetof(BatchObject, errors), READONLY, "Results yielded that are exceptions."},
    {"throttled", T_ULONGLONG, offsetof(BatchObject, throttled), READONLY,
     "Throttling responses received (429, 503, ThrottlingException, ModelNotReadyException), retried or not."},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef batch_methods[] = {
    {"close", (PyCFunction)batch_close, METH_NOARGS,
     "close($self, /)\n--\n\nStop: calls in flight are cancelled, nothing more is read from the requests."},
    {"__enter__", (PyCFunction)batch_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)batch_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static int batch_traverse(BatchObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->client);
    Py_VISIT(self->source);
    Py_VISIT(self->source_error);
    for (unsigned long long q = self->head; self->slots != NULL && q < self->tail; q++) {
        slot *s = SLOT(self, q);
        Py_VISIT(s->rq.kwnames);
        Py_VISIT(s->item);
        Py_VISIT(s->parsed);
        for (Py_ssize_t i = 0; i < s->rq.n_vals; i++) {
            Py_VISIT(s->rq.vals[i]);
        }
    }
    return 0;
}

static int batch_clear(BatchObject *self)
{
    batch_stop(self);
    Py_CLEAR(self->source_error);
    Py_CLEAR(self->client);
    return 0;
}

static void batch_dealloc(BatchObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    batch_stop(self);
    for (size_t i = 0; self->slots != NULL && i < self->cap; i++) {
        smrt_response_release(&self->slots[i].job.resp);
    }
    PyMem_Free(self->slots);
    Py_CLEAR(self->source_error);
    Py_CLEAR(self->client);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Batch(client, requests, max_concurrency, adaptive) */
static PyObject *batch_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    smrt_state *st = smrt_state_from_type(type);
    PyObject *client, *requests;
    int max_concurrency, adaptive;
    static char *kwlist[] = {"client", "requests", "max_concurrency", "adaptive", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!Oip:Batch", kwlist, st->client_type, &client, &requests,
                                     &max_concurrency, &adaptive)) {
        return NULL;
    }
    if (max_concurrency < 1 || max_concurrency > 1024) {
        PyErr_Format(PyExc_ValueError, "max_concurrency must be between 1 and 1024, not %d", max_concurrency);
        return NULL;
    }
    PyObject *it = PyObject_GetIter(requests);
    if (it == NULL) {
        return NULL;
    }
    BatchObject *self = (BatchObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(it);
        return NULL;
    }
    self->st = st;
    self->client = Py_NewRef(client);
    self->source = it;
    self->max_concurrency = max_concurrency;
    self->adaptive = adaptive;
    self->started_ns = smrt_monotonic_ns();
    self->last_latency = -1.0;
    /* Room to run ahead of a slow result: 4 windows (at least 64 slots). */
    self->cap = (size_t)max_concurrency * 4 < 64 ? 64 : (size_t)max_concurrency * 4;
    self->slots = PyMem_Calloc(self->cap, sizeof(slot));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    smrt_engine *eng = smrt_client_engine(client);
    if (eng->pool == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "invoke_endpoint_batch: the client is not initialised");
        goto error;
    }
    int start = max_concurrency;
    if (adaptive) {
        smrt_adapt_init(&self->adapt, max_concurrency < 8 ? max_concurrency : 8, 1, max_concurrency);
        start = self->adapt.limit;
    }
    int rc = smrt_runner_init(&self->runner, eng, max_concurrency, start);
    self->runner_ready = 1;
    if (rc != SMRT_OK) {
        PyErr_SetString(PyExc_RuntimeError, "invoke_endpoint_batch: could not start worker threads");
        goto error;
    }
    /* Every connection the workers open stays for the next call. */
    smrt_pool_keep_idle(eng->pool, (size_t)max_concurrency);
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static PyType_Slot batch_slots[] = {
    {Py_tp_doc, "Batch(client, requests, max_concurrency, adaptive)\n--\n\n"
                "The results of client.invoke_endpoint_batch, in input order (made by the client)."},
    {Py_tp_new, batch_new},
    {Py_tp_dealloc, batch_dealloc},
    {Py_tp_traverse, batch_traverse},
    {Py_tp_clear, batch_clear},
    {Py_tp_iter, batch_iter},
    {Py_tp_iternext, batch_iternext},
    {Py_tp_methods, batch_methods},
    {Py_tp_members, batch_members},
    {Py_tp_getset, batch_getset},
    {0, NULL},
};

static PyType_Spec batch_spec = {
    .name = "sagemaker_rt_c._core.Batch",
    .basicsize = sizeof(BatchObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = batch_slots,
};

int smrt_batch_type_add(PyObject *module, smrt_state *st)
{
    st->batch_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &batch_spec, NULL);
    if (st->batch_type == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Batch", (PyObject *)st->batch_type);
}
