/* The sagemaker_rt_c._core module: multi-phase init (PEP 489), heap types, module state.
 * Also the low-level signing entry points that sagemaker_rt_c.auth wraps. */
#include "binding.h"

#include <strings.h>


static smrt_state *get_state(PyObject *module)
{
    return (smrt_state *)PyModule_GetState(module);
}

smrt_state *smrt_state_from_type(PyTypeObject *type)
{
    /* `type` may be a Python subclass of one of our types: walk to ours. */
    for (PyTypeObject *t = type; t != NULL; t = t->tp_base) {
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            continue;
        }
        PyObject *m = PyType_GetModule(t);
        if (m == NULL) {
            PyErr_Clear();
            continue;
        }
        if (PyModule_GetDef(m) == &smrt_module_def) {
            return get_state(m);
        }
    }
    PyErr_SetString(PyExc_TypeError, "not a sagemaker_rt_c._core type");
    return NULL;
}

/* ---- _install: the Python layer hands over its classes and error builders ------------------ */

static PyObject *mod_install(PyObject *module, PyObject *args)
{
    PyObject *body_class, *hooks;
    if (!PyArg_ParseTuple(args, "OO:_install", &body_class, &hooks)) {
        return NULL;
    }
    smrt_state *st = get_state(module);
    if (!PyType_Check(body_class)) {
        PyErr_SetString(PyExc_TypeError, "body_class must be a class");
        return NULL;
    }
    /* The slots botocore's StreamingBody.__init__ sets: set them directly, no __init__ call. */
    static const char *const names[] = {"_raw_stream", "_content_length", "_amount_read"};
    PyObject *slots[3];
    for (int i = 0; i < 3; i++) {
        slots[i] = PyObject_GetAttrString(body_class, names[i]);
        if (slots[i] == NULL || Py_TYPE(slots[i])->tp_descr_set == NULL) {
            for (int k = 0; k <= i; k++) {
                Py_XDECREF(slots[k]);
            }
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "body_class needs a __slots__ entry %s", names[i]);
            }
            return NULL;
        }
    }
    Py_XSETREF(st->body_slot_raw, slots[0]);
    Py_XSETREF(st->body_slot_length, slots[1]);
    Py_XSETREF(st->body_slot_read, slots[2]);
    /* io.IOBase would close the body at collection, running Python code for every response
     * (botocore's __del__ only stops it closing): no finalizer at all. */
    ((PyTypeObject *)body_class)->tp_finalize = NULL;
    PyType_Modified((PyTypeObject *)body_class);
    Py_INCREF(body_class);
    Py_XSETREF(st->body_class, body_class);
    /* The hooks object declares every function the core calls: resolve them all now. */
    static const char *const hook_names[] = {
#define SMRT_HOOK_NAME(name) #name,
        SMRT_HOOKS(SMRT_HOOK_NAME)
#undef SMRT_HOOK_NAME
    };
    PyObject *fns[SMRT_HOOK_COUNT];
    for (int i = 0; i < SMRT_HOOK_COUNT; i++) {
        fns[i] = PyObject_GetAttrString(hooks, hook_names[i]);
        if (fns[i] == NULL || !PyCallable_Check(fns[i])) {
            for (int k = 0; k <= i; k++) {
                Py_XDECREF(fns[k]);
            }
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "the hooks object needs a callable %s", hook_names[i]);
            return NULL;
        }
    }
    for (int i = 0; i < SMRT_HOOK_COUNT; i++) {
        Py_XSETREF(st->hook[i], fns[i]);
    }
    Py_INCREF(hooks);
    Py_XSETREF(st->hooks, hooks);
    Py_RETURN_NONE;
}

/* ---- signing entry points (the module's signer: used with the GIL held) -------------------- */

/* Wait (without the GIL) for the background load of libcurl and libcrypto: 0, or -1 with
 * an ImportError set. */
static int wait_loaded(void)
{
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = smrt_dyn_wait();
    Py_END_ALLOW_THREADS
    if (rc != SMRT_OK) {
        smrt_raise_status(rc, "loading libcurl and OpenSSL");
        return -1;
    }
    return 0;
}

/* The signer of the entry points (sigv4.h: its crypto context, its one-entry signing-key
 * cache, keyed by a digest of the secret since these callers have no credentials
 * generation, and its buffers), made at their first use. Read and written with the GIL
 * held only (and smrt_signer_init, once the libraries are loaded, does not release it): the
 * first callers of several threads find it made once. Never freed: the process keeps it as
 * it keeps the libraries. */
static smrt_signer module_signer_storage;
static int module_signer_ready;

/* The module's signer, or NULL with an exception set. */
static smrt_signer *module_signer(void)
{
    if (module_signer_ready) {
        return &module_signer_storage;
    }
    /* The loader thread may still be at work: wait for it without the GIL. Other threads
     * may get here meanwhile; whoever holds the GIL first after the wait makes the signer. */
    if (wait_loaded() < 0) {
        return NULL;
    }
    if (!module_signer_ready) {
        int rc = smrt_signer_init(&module_signer_storage);
        if (rc != SMRT_OK) {
            smrt_signer_destroy(&module_signer_storage);
            smrt_raise_status(rc, "initialising OpenSSL");
            return NULL;
        }
        module_signer_ready = 1;
    }
    return &module_signer_storage;
}

static PyObject *mod_sha256_hex(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    char hex[SMRT_SHA256_HEX_LEN + 1];
    int rc;
    if (view.len >= 65536) {
        /* Large inputs: hash without the GIL, with a context of our own. */
        smrt_crypto c;
        Py_BEGIN_ALLOW_THREADS
        rc = smrt_crypto_init(&c);
        if (rc == SMRT_OK) {
            rc = smrt_sha256_hex(&c, view.buf, (size_t)view.len, hex);
        }
        smrt_crypto_destroy(&c);
        Py_END_ALLOW_THREADS
    } else {
        smrt_signer *signer = module_signer();
        if (signer == NULL) {
            PyBuffer_Release(&view);
            return NULL;
        }
        rc = smrt_sha256_hex(&signer->crypto, view.buf, (size_t)view.len, hex);
    }
    PyBuffer_Release(&view);
    if (rc != SMRT_OK) {
        return smrt_raise_status(rc, "sha256");
    }
    return PyUnicode_FromStringAndSize(hex, SMRT_SHA256_HEX_LEN);
}

static int is_amz_date(const char *s, Py_ssize_t n)
{
    if (n != SMRT_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z') {
        return 0;
    }
    for (int i = 0; i < 15; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }
    return 1;
}

/* Headers botocore never signs (auth.UNSIGNED_HEADERS mirrors this list). */
static int unsigned_header(const char *name, size_t n)
{
    static const char *const names[] = {
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "amz-sdk-invocation-id", "amz-sdk-request",
        NULL,
    };
    for (const char *const *p = names; *p; p++) {
        if (strlen(*p) == n && strncasecmp(*p, name, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The (name, value) str pairs of `seq` (a PySequence_Fast) into hs[]: all of them, or with
 * `skip_unsigned` those botocore signs. Sets *have_host when a Host header is among them.
 * Returns the count, or -1 with TypeError set. The strings borrow from `seq`. */
static Py_ssize_t header_pairs(PyObject *seq, smrt_header *hs, int skip_unsigned, int *have_host)
{
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(seq), ns = 0;
    for (Py_ssize_t i = 0; i < nh; i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t nl, vl;
        const char *n, *v;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !(n = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 0), &nl)) ||
            !(v = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 1), &vl))) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_TypeError, "headers must be (str, str) pairs");
            }
            return -1;
        }
        if (have_host && nl == 4 && strncasecmp(n, "host", 4) == 0) {
            *have_host = 1;
        }
        if (!skip_unsigned || !unsigned_header(n, (size_t)nl)) {
            hs[ns++] = (smrt_header){n, (size_t)nl, v, (size_t)vl};
        }
    }
    return ns;
}

/* The outputs of the module signer's last call, as new str objects in out[] (0), or -1 with
 * an exception set. Call it right after smrt_sigv4_sign, before making any object the
 * garbage collector tracks (a tuple, a list): a collection can run finalizers, and one of
 * them could sign again (or let another thread do it) and overwrite the signer's buffers.
 * Making str objects never starts a collection. */
enum { OUT_RESULT, OUT_CANONICAL, OUT_STS, OUT_SIGNATURE, OUT_SIGNED_HEADERS, SIGNER_OUTPUTS };

static int signer_outputs(const smrt_signer *signer, PyObject *out[SIGNER_OUTPUTS])
{
    const smrt_buf *bufs[SIGNER_OUTPUTS] = {&signer->result, &signer->canonical, &signer->sts, NULL,
                                            &signer->signed_headers};
    for (int i = 0; i < SIGNER_OUTPUTS; i++) {
        if (i == OUT_SIGNATURE) {
            out[i] = PyUnicode_FromStringAndSize(signer->signature, SMRT_SHA256_HEX_LEN);
        } else {
            out[i] = PyUnicode_FromStringAndSize(bufs[i]->data ? bufs[i]->data : "", (Py_ssize_t)bufs[i]->len);
        }
        if (out[i] == NULL) {
            for (int k = 0; k < i; k++) {
                Py_DECREF(out[k]);
            }
            return -1;
        }
    }
    return 0;
}

PyDoc_STRVAR(mod_sigv4_doc,
             "sigv4(query_mode, method, path, query, headers, payload_hash, amz_date, region, service,\n"
             "      access_key, secret_key, session_token, flags, expires=None, /)\n"
             "--\n\n"
             "Sign a request with AWS Signature Version 4 (the C core's one signer).\n\n"
             "headers is a sequence of (name, value) pairs to sign; flags combines NORMALIZE_PATH,\n"
             "ENCODE_PATH, RAW_QUERY, CONTENT_SHA256 and TOKEN_UNSIGNED. Header mode signs\n"
             "X-Amz-Date, X-Amz-Content-Sha256 (CONTENT_SHA256) and a non-empty session token\n"
             "besides the headers, and its result is the Authorization value; query mode (expires\n"
             "given as text) adds the X-Amz-* parameters to the query (None: none of its own), and\n"
             "its result is the query string to send, X-Amz-Signature last. Returns (result,\n"
             "canonical_request, string_to_sign, signature, signed_headers).");

static PyObject *mod_sigv4(PyObject *module, PyObject *args)
{
    (void)module;
    const char *method, *path, *query = NULL, *payload_hash, *amz_date, *region, *service, *ak, *sk, *token = NULL;
    Py_ssize_t path_len, query_len = 0, amz_len, ak_len, sk_len, token_len = 0;
    PyObject *headers_obj, *expires_obj = Py_None;
    int query_mode, flags;
    if (!PyArg_ParseTuple(args, "pss#z#Oss#sss#s#z#i|O:sigv4", &query_mode, &method, &path, &path_len, &query,
                          &query_len, &headers_obj, &payload_hash, &amz_date, &amz_len, &region, &service, &ak,
                          &ak_len, &sk, &sk_len, &token, &token_len, &flags, &expires_obj)) {
        return NULL;
    }
    if (!is_amz_date(amz_date, amz_len)) {
        PyErr_SetString(PyExc_ValueError, "amz_date must look like 20150830T123600Z");
        return NULL;
    }
    if (strlen(region) > 64 || strlen(service) > 64) {
        PyErr_SetString(PyExc_ValueError, "region and service must be at most 64 characters");
        return NULL;
    }
    /* X-Amz-Expires: a str, or a list of them (the parameter repeated, botocore's way). */
    smrt_span one_expires, *expires = NULL;
    size_t n_expires = 0;
    if (PyUnicode_Check(expires_obj)) {
        Py_ssize_t n;
        if ((one_expires.data = PyUnicode_AsUTF8AndSize(expires_obj, &n)) == NULL) {
            return NULL;
        }
        one_expires.len = (size_t)n;
        expires = &one_expires;
        n_expires = 1;
    } else if (PyList_CheckExact(expires_obj)) {
        n_expires = (size_t)PyList_GET_SIZE(expires_obj);
        expires = PyMem_Calloc(n_expires ? n_expires : 1, sizeof(*expires));
        if (expires == NULL) {
            return PyErr_NoMemory();
        }
        for (size_t i = 0; i < n_expires; i++) {
            PyObject *item = PyList_GET_ITEM(expires_obj, (Py_ssize_t)i);
            Py_ssize_t n;
            if (!PyUnicode_Check(item) || (expires[i].data = PyUnicode_AsUTF8AndSize(item, &n)) == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_TypeError, "expires must be a str or a list of str");
                }
                PyMem_Free(expires);
                return NULL;
            }
            expires[i].len = (size_t)n;
        }
    } else if (query_mode) {
        PyErr_SetString(PyExc_TypeError, "query mode needs expires: a str or a list of str");
        return NULL;
    }
    PyObject *result = NULL, *seq = PySequence_Fast(headers_obj, "headers must be a sequence of (name, value) pairs");
    if (seq == NULL) {
        goto done;
    }
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(seq);
    if (nh > SMRT_MAX_SIGNED_HEADERS) {
        PyErr_Format(PyExc_ValueError, "at most %d headers can be signed", SMRT_MAX_SIGNED_HEADERS);
        goto done;
    }
    smrt_header hs[SMRT_MAX_SIGNED_HEADERS];
    smrt_signer *signer = NULL;
    if (header_pairs(seq, hs, 0, NULL) < 0 || (signer = module_signer()) == NULL) {
        goto done;
    }
    const smrt_sigv4_creds creds = {ak, (size_t)ak_len, sk, (size_t)sk_len, token, (size_t)token_len, 0};
    const smrt_sigv4_request rq = {
        .mode = query_mode ? SMRT_SIGV4_QUERY : SMRT_SIGV4_HEADERS,
        .flags = flags,
        .method = method,
        .path = path,
        .path_len = (size_t)path_len,
        .query = query,
        .query_len = (size_t)query_len,
        .headers = hs,
        .n_headers = (size_t)nh,
        .payload_hash = payload_hash,
        .creds = &creds,
        .region = region,
        .service = service,
        .amz_date = amz_date,
        .expires = expires,
        .n_expires = n_expires,
    };
    int rc = smrt_sigv4_sign(signer, &rq);
    if (rc != SMRT_OK) {
        smrt_raise_status(rc, "signing");
        goto done;
    }
    PyObject *out[SIGNER_OUTPUTS];
    if (signer_outputs(signer, out) < 0) {
        goto done;
    }
    result = PyTuple_Pack(SIGNER_OUTPUTS, out[OUT_RESULT], out[OUT_CANONICAL], out[OUT_STS], out[OUT_SIGNATURE],
                          out[OUT_SIGNED_HEADERS]);
    for (int i = 0; i < SIGNER_OUTPUTS; i++) {
        Py_DECREF(out[i]);
    }
done:
    Py_XDECREF(seq);
    if (expires != &one_expires) {
        PyMem_Free(expires);
    }
    return result;
}


/* The body's SHA-256 (hex): bytes-like or str (UTF-8); None is empty. Large bodies are
 * hashed without the GIL, with a context of their own. */
static int body_hash(smrt_crypto *c, PyObject *body, char out[SMRT_SHA256_HEX_LEN + 1])
{
    if (body == Py_None) {
        memcpy(out, SMRT_EMPTY_SHA256_HEX, SMRT_SHA256_HEX_LEN + 1);
        return 0;
    }
    if (PyUnicode_Check(body)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(body, &n);
        if (s == NULL) {
            return -1;
        }
        int rc = smrt_sha256_hex(c, s, (size_t)n, out);
        return rc == SMRT_OK ? 0 : (smrt_raise_status(rc, "hashing the body"), -1);
    }
    Py_buffer view;
    if (PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    int rc;
    if (view.len >= 65536) {
        smrt_crypto own;
        Py_BEGIN_ALLOW_THREADS
        rc = smrt_crypto_init(&own);
        if (rc == SMRT_OK) {
            rc = smrt_sha256_hex(&own, view.buf, (size_t)view.len, out);
        }
        smrt_crypto_destroy(&own);
        Py_END_ALLOW_THREADS
    } else {
        rc = smrt_sha256_hex(c, view.buf, (size_t)view.len, out);
    }
    PyBuffer_Release(&view);
    return rc == SMRT_OK ? 0 : (smrt_raise_status(rc, "hashing the body"), -1);
}

PyDoc_STRVAR(mod_sign_request_doc,
             "sign_request(method, url, headers, body, access_key, secret_key, session_token, region, service,\n"
             "             amz_date, /)\n--\n\n"
             "sagemaker_rt_c.auth.sign_request with its default options, in one C call. Returns\n"
             "(headers, canonical_request, string_to_sign, signature, authorization).");

static PyObject *mod_sign_request(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "sign_request takes 10 arguments");
        return NULL;
    }
    const char *method, *url, *ak, *sk, *token = NULL, *region, *service, *amz_date;
    Py_ssize_t url_len, ak_len, sk_len, token_len = 0, amz_len;
    if (!(method = PyUnicode_AsUTF8(args[0])) || !(url = PyUnicode_AsUTF8AndSize(args[1], &url_len)) ||
        !(ak = PyUnicode_AsUTF8AndSize(args[4], &ak_len)) || !(sk = PyUnicode_AsUTF8AndSize(args[5], &sk_len)) ||
        (args[6] != Py_None && !(token = PyUnicode_AsUTF8AndSize(args[6], &token_len))) ||
        !(region = PyUnicode_AsUTF8(args[7])) || !(service = PyUnicode_AsUTF8(args[8])) ||
        !(amz_date = PyUnicode_AsUTF8AndSize(args[9], &amz_len))) {
        return NULL;
    }
    if (token && token_len == 0) {
        token = NULL; /* botocore signs with a token only when it is truthy */
    }
    if (!is_amz_date(amz_date, amz_len) || strlen(region) > 64 || strlen(service) > 64) {
        PyErr_SetString(PyExc_ValueError, "bad timestamp, region or service");
        return NULL;
    }
    /* scheme://netloc/path?query#fragment */
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        PyErr_Format(PyExc_ValueError, "url %R has no scheme", args[1]);
        return NULL;
    }
    size_t scheme_len = (size_t)(sep - url);
    const char *netloc = sep + 3, *end = url + url_len;
    const char *hash = memchr(netloc, '#', (size_t)(end - netloc));
    if (hash) {
        end = hash;
    }
    const char *p = netloc;
    while (p < end && *p != '/' && *p != '?') {
        p++;
    }
    const char *netloc_end = p, *path = p, *qmark = memchr(p, '?', (size_t)(end - p));
    const char *path_end = qmark ? qmark : end;
    const char *query = qmark ? qmark + 1 : NULL;
    size_t query_len = qmark ? (size_t)(end - qmark - 1) : 0;

    PyObject *seq = PySequence_Fast(args[2], "headers must be a sequence of (name, value) pairs");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t nh = PySequence_Fast_GET_SIZE(seq);
    if (nh > SMRT_MAX_SIGNED_HEADERS - 3) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many headers to sign");
        return NULL;
    }
    smrt_header hs[SMRT_MAX_SIGNED_HEADERS];
    int have_host = 0;
    Py_ssize_t got = header_pairs(seq, hs, 1, &have_host);
    if (got < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    size_t ns = (size_t)got;
    /* botocore's Host: the host lower-cased, its port unless it is the scheme's default. */
    char host[512];
    size_t host_len = 0;
    if (!have_host) {
        const char *h = netloc, *he = netloc_end;
        const char *at = NULL;
        for (const char *q = h; q < he; q++) {
            if (*q == '@') {
                at = q;
            }
        }
        if (at) {
            h = at + 1;
        }
        const char *colon = NULL;
        if (h < he && *h == '[') {
            const char *rb = memchr(h, ']', (size_t)(he - h));
            colon = (rb && rb + 1 < he && rb[1] == ':') ? rb + 1 : NULL;
        } else {
            colon = memchr(h, ':', (size_t)(he - h));
        }
        const char *hend = colon ? colon : he;
        if ((size_t)(he - h) >= sizeof(host)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "host name too long");
            return NULL;
        }
        for (const char *q = h; q < hend; q++) {
            host[host_len++] = (*q >= 'A' && *q <= 'Z') ? (char)(*q + 32) : *q;
        }
        if (colon) {
            const char *port = colon + 1;
            size_t plen = (size_t)(he - port);
            int is_default = (scheme_len == 4 && strncasecmp(url, "http", 4) == 0 && plen == 2 &&
                              memcmp(port, "80", 2) == 0) ||
                             (scheme_len == 5 && strncasecmp(url, "https", 5) == 0 && plen == 3 &&
                              memcmp(port, "443", 3) == 0);
            if (plen && !is_default) {
                host[host_len++] = ':';
                memcpy(host + host_len, port, plen);
                host_len += plen;
            }
        }
        hs[ns++] = (smrt_header){"Host", 4, host, host_len};
    }
    smrt_signer *signer = module_signer();
    char payload[SMRT_SHA256_HEX_LEN + 1];
    if (signer == NULL || body_hash(&signer->crypto, args[3], payload) < 0) {
        Py_DECREF(seq);
        return NULL;
    }
    const smrt_sigv4_creds creds = {ak, (size_t)ak_len, sk, (size_t)sk_len, token, (size_t)token_len, 0};
    const smrt_sigv4_request rq = {
        .mode = SMRT_SIGV4_HEADERS,
        .flags = SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH,
        .method = method,
        .path = path,
        .path_len = (size_t)(path_end - path),
        .query = query,
        .query_len = query_len,
        .headers = hs,
        .n_headers = ns,
        .payload_hash = payload,
        .creds = &creds,
        .region = region,
        .service = service,
        .amz_date = amz_date,
    };
    PyObject *result = NULL, *out_headers = NULL, *out[SIGNER_OUTPUTS] = {NULL};
    int rc = smrt_sigv4_sign(signer, &rq);
    if (rc != SMRT_OK) {
        smrt_raise_status(rc, "signing");
        goto done;
    }
    int send_token = signer->send_token;
    if (signer_outputs(signer, out) < 0) {
        out[0] = NULL;
        goto done;
    }
    /* The headers to send: Host (when added) first, the caller's, then the signer's. */
    out_headers = PyList_New(0);
    if (out_headers == NULL) {
        goto done;
    }
    if (!have_host) {
        PyObject *item = Py_BuildValue("(ss#)", "Host", host, (Py_ssize_t)host_len);
        int bad = item == NULL || PyList_Append(out_headers, item) < 0;
        Py_XDECREF(item);
        if (bad) {
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < nh; i++) {
        if (PyList_Append(out_headers, PySequence_Fast_GET_ITEM(seq, i)) < 0) {
            goto done;
        }
    }
    PyObject *extra[3] = {
        Py_BuildValue("(ss)", "X-Amz-Date", amz_date),
        send_token ? Py_BuildValue("(ss#)", "X-Amz-Security-Token", token, token_len) : NULL,
        Py_BuildValue("(sO)", "Authorization", out[OUT_RESULT]),
    };
    int failed = extra[0] == NULL || extra[2] == NULL || (send_token && extra[1] == NULL);
    for (int i = 0; i < 3; i++) {
        if (!failed && extra[i] && PyList_Append(out_headers, extra[i]) < 0) {
            failed = 1;
        }
        Py_XDECREF(extra[i]);
    }
    if (failed) {
        goto done;
    }
    result = PyTuple_Pack(5, out_headers, out[OUT_CANONICAL], out[OUT_STS], out[OUT_SIGNATURE], out[OUT_RESULT]);
done:
    Py_XDECREF(out_headers);
    if (out[0] != NULL) {
        for (int i = 0; i < SIGNER_OUTPUTS; i++) {
            Py_DECREF(out[i]);
        }
    }
    Py_DECREF(seq);
    return result;
}

static PyObject *mod_uri_encode(PyObject *module, PyObject *args)
{
    (void)module;
    const char *s;
    Py_ssize_t n;
    int keep_slash = 0;
    if (!PyArg_ParseTuple(args, "s#|p:uri_encode", &s, &n, &keep_slash)) {
        return NULL;
    }
    smrt_buf out = {0};
    if (smrt_uri_encode(&out, s, (size_t)n, keep_slash) != SMRT_OK) {
        smrt_buf_destroy(&out);
        return PyErr_NoMemory();
    }
    PyObject *r = PyUnicode_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    smrt_buf_destroy(&out);
    return r;
}

static PyObject *mod_amz_date(PyObject *module, PyObject *arg)
{
    (void)module;
    long long t = PyLong_AsLongLong(arg);
    if (t == -1 && PyErr_Occurred()) {
        return NULL;
    }
    char out[SMRT_AMZ_DATE_LEN + 1];
    smrt_amz_date(t, out);
    return PyUnicode_FromStringAndSize(out, SMRT_AMZ_DATE_LEN);
}

static PyObject *mod_versions(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (wait_loaded() < 0) {
        return NULL;
    }
    return Py_BuildValue("{ssss}", "libcurl", curl_version(), "openssl", OpenSSL_version(OPENSSL_VERSION));
}

static PyObject *mod_wait_loaded(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    if (wait_loaded() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *mod_wait_at_exit(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    Py_BEGIN_ALLOW_THREADS
    smrt_dyn_wait(); /* a failed load has nothing left running: nothing to report here */
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_wait_at_exit", mod_wait_at_exit, METH_NOARGS, NULL},
    {"_operations", smrt_operations_dump, METH_NOARGS,
     "_operations()\n--\n\nThe generated operation tables (csrc/operations.h) as Python data."},
    {"versions", mod_versions, METH_NOARGS, "versions()\n--\n\nThe libcurl and OpenSSL versions in use."},
    {"wait_loaded", mod_wait_loaded, METH_NOARGS,
     "wait_loaded()\n--\n\nWait until libcurl and OpenSSL are loaded (they load in the background)."},
    {"_install", mod_install, METH_VARARGS, "_install(body_class, hooks, /)\n--\n\nConnect the Python layer."},
    {"sha256_hex", mod_sha256_hex, METH_O, "sha256_hex(data, /)\n--\n\nHex SHA-256 of a bytes-like object."},
    {"sigv4", mod_sigv4, METH_VARARGS, mod_sigv4_doc},
    {"sign_request", (PyCFunction)(void (*)(void))mod_sign_request, METH_FASTCALL, mod_sign_request_doc},
    {"uri_encode", mod_uri_encode, METH_VARARGS,
     "uri_encode(s, keep_slash=False, /)\n--\n\nPercent-encode all but A-Z a-z 0-9 -._~ (and / if asked)."},
    {"amz_date", mod_amz_date, METH_O, "amz_date(unix_seconds, /)\n--\n\nFormat as YYYYMMDDTHHMMSSZ."},
    {NULL, NULL, 0, NULL},
};

/* ---- module lifecycle ------------------------------------------------------------------------ */

static int module_exec(PyObject *module)
{
    smrt_state *st = get_state(module);
    /* libcurl and libcrypto load in a background thread from here on (dyn.h). */
    smrt_dyn_start();
    if (smrt_http_global_init() != SMRT_OK) {
        PyErr_SetString(PyExc_ImportError, "cannot register the fork handlers");
        return -1;
    }
#define SMRT_INIT_STR(name)                                                                                            \
    if ((st->s_##name = PyUnicode_InternFromString(#name)) == NULL)                                                    \
        return -1;
    SMRT_INTERNED(SMRT_INIT_STR)
#undef SMRT_INIT_STR
    for (int o = 0; o < SMRT_OP_COUNT; o++) {
        const smrt_operation *op = &SMRT_OPERATIONS[o];
        if ((st->op_name[o] = PyUnicode_InternFromString(op->name)) == NULL) {
            return -1;
        }
        for (int i = 0; i < op->n_members; i++) {
            if ((st->op_params[o][i] = PyUnicode_InternFromString(op->members[i].name)) == NULL) {
                return -1;
            }
        }
        for (int i = 0; i < op->n_output_members; i++) {
            const smrt_member *m = &op->output_members[i];
            if (m->location != SMRT_LOC_HEADER) {
                continue;
            }
            char lower[128];
            size_t n = m->wire_len < sizeof(lower) - 1 ? m->wire_len : sizeof(lower) - 1;
            for (size_t k = 0; k < n; k++) {
                char ch = m->wire[k];
                lower[k] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
            }
            lower[n] = '\0';
            if ((st->op_out_key[o][i] = PyUnicode_InternFromString(m->name)) == NULL ||
                (st->op_out_header[o][i] = PyUnicode_InternFromString(lower)) == NULL) {
                return -1;
            }
        }
    }
    static const char *const known[] = {
#define SMRT_KNOWN_TEXT(id, text) text,
        SMRT_KNOWN_HEADERS(SMRT_KNOWN_TEXT)
#undef SMRT_KNOWN_TEXT
    };
    for (int i = 0; i < SMRT_H_COUNT; i++) {
        if ((st->known_headers[i] = PyUnicode_InternFromString(known[i])) == NULL) {
            return -1;
        }
    }
    if ((st->log_key = PyUnicode_InternFromString(SMRT_LOG_KEY)) == NULL) {
        return -1;
    }
    st->empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    st->empty_tuple = PyTuple_New(0);
    st->zero = PyLong_FromLong(0);
    if (st->empty_bytes == NULL || st->empty_tuple == NULL || st->zero == NULL) {
        return -1;
    }
    if (smrt_body_type_add(module, st) < 0 || smrt_client_type_add(module, st) < 0 || smrt_nested_type_add(module, st) < 0) {
        return -1;
    }
    if (smrt_evstream_type_add(module) < 0 || smrt_stream_type_add(module, st) < 0 ||
        smrt_batch_type_add(module, st) < 0 || smrt_aio_type_add(module, st) < 0) {
        return -1;
    }
    /* An exit while the loader thread is still inside dlopen or curl_global_init would run
     * the libraries' teardown under its feet: make interpreter exit wait for it first. */
    PyObject *atexit_mod = PyImport_ImportModule("atexit");
    PyObject *waiter = PyObject_GetAttrString(module, "_wait_at_exit");
    PyObject *r = (atexit_mod && waiter) ? PyObject_CallMethod(atexit_mod, "register", "O", waiter) : NULL;
    Py_XDECREF(atexit_mod);
    Py_XDECREF(waiter);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    if (PyModule_AddIntConstant(module, "NORMALIZE_PATH", SMRT_SIGN_NORMALIZE_PATH) < 0 ||
        PyModule_AddIntConstant(module, "ENCODE_PATH", SMRT_SIGN_ENCODE_PATH) < 0 ||
        PyModule_AddIntConstant(module, "RAW_QUERY", SMRT_SIGN_RAW_QUERY) < 0 ||
        PyModule_AddIntConstant(module, "CONTENT_SHA256", SMRT_SIGN_CONTENT_SHA256) < 0 ||
        PyModule_AddIntConstant(module, "TOKEN_UNSIGNED", SMRT_SIGN_TOKEN_UNSIGNED) < 0) {
        return -1;
    }
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    smrt_state *st = get_state(module);
    Py_VISIT(st->client_type);
    Py_VISIT(st->batch_type);
    Py_VISIT(st->aio_type);
    Py_VISIT(st->nested_type);
    Py_VISIT(st->raw_type);
    Py_VISIT(st->es_type);
    Py_VISIT(st->reader_type);
    Py_VISIT(st->raw_protocol_type);
    Py_VISIT(st->raw_timeout_type);
    Py_VISIT(st->body_class);
    Py_VISIT(st->body_slot_raw);
    Py_VISIT(st->body_slot_length);
    Py_VISIT(st->body_slot_read);
    Py_VISIT(st->hooks);
    for (int i = 0; i < SMRT_HOOK_COUNT; i++) {
        Py_VISIT(st->hook[i]);
    }
    Py_VISIT(st->log_cache);
    return 0;
}

static int module_clear(PyObject *module)
{
    smrt_state *st = get_state(module);
    Py_CLEAR(st->client_type);
    Py_CLEAR(st->batch_type);
    Py_CLEAR(st->aio_type);
    Py_CLEAR(st->nested_type);
    Py_CLEAR(st->raw_type);
    Py_CLEAR(st->es_type);
    Py_CLEAR(st->reader_type);
    Py_CLEAR(st->raw_protocol_type);
    Py_CLEAR(st->raw_timeout_type);
    Py_CLEAR(st->body_class);
    Py_CLEAR(st->body_slot_raw);
    Py_CLEAR(st->body_slot_length);
    Py_CLEAR(st->body_slot_read);
    Py_CLEAR(st->hooks);
    for (int i = 0; i < SMRT_HOOK_COUNT; i++) {
        Py_CLEAR(st->hook[i]);
    }
    Py_CLEAR(st->log_cache);
    Py_CLEAR(st->log_key);
    Py_CLEAR(st->empty_bytes);
    Py_CLEAR(st->empty_tuple);
    Py_CLEAR(st->zero);
    for (int i = 0; i < SMRT_H_COUNT; i++) {
        Py_CLEAR(st->known_headers[i]);
    }
#define SMRT_CLEAR_STR(name) Py_CLEAR(st->s_##name);
    SMRT_INTERNED(SMRT_CLEAR_STR)
#undef SMRT_CLEAR_STR
    for (int o = 0; o < SMRT_OP_COUNT; o++) {
        Py_CLEAR(st->op_name[o]);
        for (int i = 0; i < SMRT_MAX_MEMBERS; i++) {
            Py_CLEAR(st->op_params[o][i]);
            Py_CLEAR(st->op_out_key[o][i]);
            Py_CLEAR(st->op_out_header[o][i]);
        }
    }
    return 0;
}

static void module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

PyModuleDef smrt_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sagemaker_rt_c._core",
    .m_doc = "The C core of sagemaker_rt_c: SigV4 signing (OpenSSL) and HTTP (libcurl).",
    .m_size = sizeof(smrt_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&smrt_module_def);
}
