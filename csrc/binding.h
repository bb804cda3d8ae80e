/* Shared declarations of the CPython binding (module.c, client.c, body.c, errors.c).
 * These are the only C files that include Python.h. Unless a comment says otherwise,
 * every function here needs the GIL, and a function returning NULL or -1 has set a
 * Python exception. */
#ifndef SMRT_BINDING_H
#define SMRT_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "http.h"

/* Interned strings used on the call path (dict keys, keyword names). */
#define SMRT_INTERNED(X)                                                                                               \
    X(ResponseMetadata)                                                                                                \
    X(RequestId)                                                                                                       \
    X(HostId)                                                                                                          \
    X(HTTPStatusCode)                                                                                                  \
    X(HTTPHeaders)                                                                                                     \
    X(RetryAttempts)                                                                                                   \
    X(MaxAttemptsReached)                                                                                              \
    X(RetryQuotaReached)                                                                                               \
    X(Body)                                                                                                            \
    X(EndpointName)                                                                                                    \
    X(ContentType)                                                                                                     \
    X(Accept)                                                                                                          \
    X(CustomAttributes)                                                                                                \
    X(TargetModel)                                                                                                     \
    X(TargetVariant)                                                                                                   \
    X(TargetContainerHostname)                                                                                         \
    X(InferenceId)                                                                                                     \
    X(EnableExplanations)                                                                                              \
    X(InferenceComponentName)                                                                                          \
    X(SessionId)                                                                                                       \
    X(InvokedProductionVariant)                                                                                        \
    X(NewSessionId)                                                                                                    \
    X(ClosedSessionId)                                                                                                 \
    X(InvokeEndpoint)                                                                                                  \
    X(read)                                                                                                            \
    X(_random)                                                                                                         \
    X(_sleep)

/* Response header names common enough to keep as interned keys (hash computed once). */
#define SMRT_KNOWN_HEADERS(X)                                                                                          \
    X(CONTENT_TYPE, "content-type")                                                                                    \
    X(CONTENT_LENGTH, "content-length")                                                                                \
    X(DATE, "date")                                                                                                    \
    X(CONNECTION, "connection")                                                                                        \
    X(SERVER, "server")                                                                                                \
    X(KEEP_ALIVE, "keep-alive")                                                                                        \
    X(TRANSFER_ENCODING, "transfer-encoding")                                                                          \
    X(AMZN_REQUESTID, "x-amzn-requestid")                                                                              \
    X(AMZ_REQUEST_ID, "x-amz-request-id")                                                                              \
    X(AMZ_ID_2, "x-amz-id-2")                                                                                          \
    X(AMZN_ERRORTYPE, "x-amzn-errortype")                                                                              \
    X(INVOKED_VARIANT, "x-amzn-invoked-production-variant")                                                            \
    X(CUSTOM_ATTRIBUTES, "x-amzn-sagemaker-custom-attributes")                                                         \
    X(NEW_SESSION_ID, "x-amzn-sagemaker-new-session-id")                                                               \
    X(CLOSED_SESSION_ID, "x-amzn-sagemaker-closed-session-id")

enum {
#define SMRT_KNOWN_ENUM(id, text) SMRT_H_##id,
    SMRT_KNOWN_HEADERS(SMRT_KNOWN_ENUM)
#undef SMRT_KNOWN_ENUM
        SMRT_H_COUNT
};

typedef struct smrt_state {
    PyTypeObject *client_type;
    PyTypeObject *body_type;
    /* Installed by sagemaker_rt_c._client at import (_core._install): */
    PyObject *body_class; /* the Python subclass of StreamingBodyBase that responses use */
    PyObject *hooks;      /* the sagemaker_rt_c._client module: error builders */
    PyObject *empty_bytes;
    PyObject *known_headers[SMRT_H_COUNT];
#define SMRT_DECLARE_STR(name) PyObject *s_##name;
    SMRT_INTERNED(SMRT_DECLARE_STR)
#undef SMRT_DECLARE_STR
} smrt_state;

/* module.c */
extern PyModuleDef smrt_module_def;
/* The state of our module, found from a type (ours or a Python subclass of ours). */
smrt_state *smrt_state_from_type(PyTypeObject *type);

/* client.c */
int smrt_client_type_add(PyObject *module, smrt_state *st);

/* body.c */
int smrt_body_type_add(PyObject *module, smrt_state *st);
/* A new StreamingBody over `data` (a bytes object; a new reference is taken).
 * `content_length` is the Content-Length header value (str) or NULL. `error`, if not
 * NULL, is raised when a read reaches the end of `data` (a truncated transfer). */
PyObject *smrt_body_new(smrt_state *st, PyObject *data, PyObject *content_length, PyObject *error);

/* errors.c */
/* Call hooks.<name>(*args) and raise the exception it returns (or propagate the one it
 * raised). Always returns NULL. */
PyObject *smrt_raise_from_hook(smrt_state *st, const char *name, PyObject *args);
/* Raise an exception for an OpenSSL failure, with the reason from its error queue (and
 * clear the queue). Keeps an exception that is already set. Returns NULL. */
PyObject *smrt_raise_openssl(void);
/* Raise for a non-OK smrt status (ENOMEM -> MemoryError, ECRYPTO -> OpenSSL, ...). */
PyObject *smrt_raise_status(int status, const char *what);

#endif
