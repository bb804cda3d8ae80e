/* Turning C failures into Python exceptions (see binding.h). */
#include "binding.h"

#include "dyn.h"

static const char *const hook_names[] = {
#define SMRT_HOOK_NAME(name) #name,
    SMRT_HOOKS(SMRT_HOOK_NAME)
#undef SMRT_HOOK_NAME
};

PyObject *smrt_raise_from_hook(smrt_state *st, int which, PyObject *args)
{
    if (args == NULL) {
        return NULL;
    }
    if (st->hook[which] == NULL) {
        Py_DECREF(args);
        PyErr_SetString(PyExc_RuntimeError, "sagemaker_rt_c._core is used without sagemaker_rt_c._client");
        return NULL;
    }
    PyObject *exc = PyObject_Call(st->hook[which], args, NULL);
    Py_DECREF(args);
    const char *name = hook_names[which];
    if (exc == NULL) {
        return NULL; /* the hook raised: keep its exception */
    }
    if (PyExceptionInstance_Check(exc)) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    } else {
        PyErr_Format(PyExc_SystemError, "hook %s returned %R, not an exception", name, exc);
    }
    Py_DECREF(exc);
    return NULL;
}

PyObject *smrt_raise_openssl(void)
{
    if (smrt_dyn_error() != NULL) {
        PyErr_SetString(PyExc_ImportError, smrt_dyn_error());
        return NULL;
    }
    unsigned long e = ERR_get_error();
    if (PyErr_Occurred()) {
        ERR_clear_error();
        return NULL;
    }
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    const char *lib = e ? ERR_lib_error_string(e) : NULL;
    if (reason && lib) {
        PyErr_Format(PyExc_RuntimeError, "OpenSSL error: [%s] %s", lib, reason);
    } else if (reason) {
        PyErr_Format(PyExc_RuntimeError, "OpenSSL error: %s", reason);
    } else {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL error (no reason given)");
    }
    ERR_clear_error();
    return NULL;
}

PyObject *smrt_raise_status(int status, const char *what)
{
    if (PyErr_Occurred()) {
        return NULL;
    }
    switch (status) {
    case SMRT_ENOMEM:
        return PyErr_NoMemory();
    case SMRT_ECRYPTO:
        return smrt_raise_openssl();
    case SMRT_EINVAL:
        PyErr_Format(PyExc_ValueError, "%s: invalid input", what);
        return NULL;
    case SMRT_ELOAD:
        PyErr_Format(PyExc_ImportError, "%s: %s", what, smrt_dyn_error() ? smrt_dyn_error() : "libraries not loaded");
        return NULL;
    case SMRT_ECURL:
        PyErr_Format(PyExc_RuntimeError, "%s: libcurl failed", what);
        return NULL;
    default:
        PyErr_Format(PyExc_SystemError, "%s: status %d", what, status);
        return NULL;
    }
}
