/* The background loader of libcurl and libcrypto (see dyn.h). */
#define SMRT_DYN_IMPL
#include "dyn.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

#ifdef SMRT_DIRECT_LINK

void smrt_dyn_start(void)
{
}

int smrt_dyn_wait(void)
{
    return SMRT_OK;
}

const char *smrt_dyn_error(void)
{
    return NULL;
}

#else

#include <dlfcn.h>
#include <stdatomic.h>

#ifndef SMRT_LIBCURL_SONAME
#define SMRT_LIBCURL_SONAME "libcurl.so.4"
#endif
#ifndef SMRT_LIBCRYPTO_SONAME
#define SMRT_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

smrt_dyn_table smrt_dyn;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static atomic_int state; /* 0 not started, 1 loading, 2 loaded, -1 failed */
static char error[512];

static int load_all(void)
{
    void *crypto = dlopen(SMRT_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (crypto == NULL) {
        snprintf(error, sizeof(error), "cannot load OpenSSL's %s (Debian: libssl3): %s", SMRT_LIBCRYPTO_SONAME,
                 dlerror());
        return -1;
    }
    void *curl = dlopen(SMRT_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (curl == NULL) {
        snprintf(error, sizeof(error), "cannot load %s (Debian: libcurl4): %s", SMRT_LIBCURL_SONAME, dlerror());
        return -1;
    }
    void *sym;
#define SMRT_DYN_LOAD(handle, soname, name)                                                                            \
    sym = dlsym(handle, #name);                                                                                        \
    if (sym == NULL) {                                                                                                 \
        snprintf(error, sizeof(error), "%s lacks %s: %s", soname, #name, dlerror());                                   \
        return -1;                                                                                                     \
    }                                                                                                                  \
    memcpy(&smrt_dyn.name, &sym, sizeof(sym));
#define SMRT_DYN_LOAD_CRYPTO(ret, name, args) SMRT_DYN_LOAD(crypto, SMRT_LIBCRYPTO_SONAME, name)
#define SMRT_DYN_LOAD_CURL(ret, name, args) SMRT_DYN_LOAD(curl, SMRT_LIBCURL_SONAME, name)
    SMRT_CRYPTO_FUNCS(SMRT_DYN_LOAD_CRYPTO)
    SMRT_CURL_FUNCS(SMRT_DYN_LOAD_CURL)
#undef SMRT_DYN_LOAD_CURL
#undef SMRT_DYN_LOAD_CRYPTO
#undef SMRT_DYN_LOAD
    /* The handles stay open for the life of the process: the table points into them. */
    if (smrt_dyn.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(error, sizeof(error), "curl_global_init failed");
        return -1;
    }
    return 0;
}

static void *loader(void *arg)
{
    (void)arg;
    int ok = load_all() == 0;
    pthread_mutex_lock(&lock);
    atomic_store(&state, ok ? 2 : -1);
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* A fork must not happen in the middle of a dlopen (the child would inherit the dynamic
 * loader's lock, held by a thread it does not have). */
static void before_fork(void)
{
    if (atomic_load(&state) == 1) {
        smrt_dyn_wait();
    }
}

void smrt_dyn_start(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
        return;
    }
    pthread_atfork(before_fork, NULL, NULL);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, loader, NULL) != 0) {
        loader(NULL); /* no thread: load here */
    }
    pthread_attr_destroy(&attr);
}

int smrt_dyn_wait(void)
{
    int s = atomic_load(&state);
    if (s == 2) {
        return SMRT_OK;
    }
    if (s == 0) {
        smrt_dyn_start();
    }
    pthread_mutex_lock(&lock);
    while ((s = atomic_load(&state)) == 1) {
        pthread_cond_wait(&done, &lock);
    }
    pthread_mutex_unlock(&lock);
    return s == 2 ? SMRT_OK : SMRT_ELOAD;
}

const char *smrt_dyn_error(void)
{
    return atomic_load(&state) == -1 ? error : NULL;
}

#endif
