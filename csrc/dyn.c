/* The background loader of libcurl and libcrypto, OpenSSL's shared objects and the fork
 * gate (see dyn.h). */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#define SMRT_DYN_IMPL
#include "dyn.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

#ifdef SMRT_DIRECT_LINK
#define F(name) name
#else
#define F(name) (smrt_dyn.name)
#endif

static smrt_dyn_shared_crypto shared;

/* Make the shared objects, and run one digest and one HMAC with them so that whatever
 * OpenSSL sets up lazily on first use is set up now. 0, or -1 (nothing is freed: the
 * process keeps what it made, as it keeps the libraries). */
static int shared_init(void)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        F(OSSL_PARAM_construct_utf8_string)(OSSL_MAC_PARAM_DIGEST, digest, 0),
        F(OSSL_PARAM_construct_end)(),
    };
    shared.sha256 = F(EVP_MD_fetch)(NULL, "SHA256", NULL);
    shared.hmac = F(EVP_MAC_fetch)(NULL, "HMAC", NULL);
    if (shared.sha256 == NULL || shared.hmac == NULL) {
        return -1;
    }
    shared.hmac_sha256 = F(EVP_MAC_CTX_new)(shared.hmac);
    if (shared.hmac_sha256 == NULL || !F(EVP_MAC_CTX_set_params)(shared.hmac_sha256, params)) {
        return -1;
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    size_t mac_len = 0;
    EVP_MD_CTX *md = F(EVP_MD_CTX_new)();
    EVP_MAC_CTX *mac = F(EVP_MAC_CTX_dup)(shared.hmac_sha256);
    int ok = md != NULL && mac != NULL && F(EVP_DigestInit_ex2)(md, shared.sha256, NULL) &&
             F(EVP_DigestUpdate)(md, "x", 1) && F(EVP_DigestFinal_ex)(md, out, &md_len) &&
             F(EVP_MAC_init)(mac, (const unsigned char *)"k", 1, NULL) &&
             F(EVP_MAC_update)(mac, (const unsigned char *)"x", 1) &&
             F(EVP_MAC_final)(mac, out, &mac_len, sizeof(out));
    F(EVP_MAC_CTX_free)(mac);
    F(EVP_MD_CTX_free)(md);
    return ok ? 0 : -1;
}

const smrt_dyn_shared_crypto *smrt_dyn_shared(void)
{
    return &shared;
}

#ifdef SMRT_DIRECT_LINK

/* Linked directly (the fuzz harness): no loader, no libcurl; the shared objects are made at
 * the first wait. */
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static int shared_status = SMRT_OK;

static void shared_init_once(void)
{
    shared_status = shared_init() == 0 ? SMRT_OK : SMRT_ELOAD;
}

void smrt_dyn_start(void)
{
}

int smrt_dyn_wait(void)
{
    pthread_once(&shared_once, shared_init_once);
    return shared_status;
}

const char *smrt_dyn_error(void)
{
    return shared_status == SMRT_OK ? NULL : "OpenSSL's SHA-256 or HMAC is not available";
}

void smrt_dyn_enter(void)
{
}

void smrt_dyn_leave(void)
{
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
#ifndef SMRT_LIBSSL_SONAME
#define SMRT_LIBSSL_SONAME "libssl.so.3"
#endif

smrt_dyn_table smrt_dyn;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static atomic_int state; /* 0 not started, 1 loading, 2 loaded, -1 failed */
static char error[512];

/* The fork gate. Writer-preferring, so that a steady stream of sections cannot starve a
 * fork (and so a section must never enter it twice). */
static pthread_rwlock_t gate;

static void gate_init(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&gate, &attr);
    pthread_rwlockattr_destroy(&attr);
}

void smrt_dyn_enter(void)
{
    pthread_rwlock_rdlock(&gate);
}

void smrt_dyn_leave(void)
{
    pthread_rwlock_unlock(&gate);
}

CURL *smrt_dyn_curl_easy_init(void)
{
    smrt_dyn_enter();
    CURL *h = smrt_dyn.curl_easy_init();
    smrt_dyn_leave();
    return h;
}

void smrt_dyn_curl_easy_cleanup(CURL *h)
{
    smrt_dyn_enter();
    smrt_dyn.curl_easy_cleanup(h);
    smrt_dyn_leave();
}

CURLM *smrt_dyn_curl_multi_init(void)
{
    smrt_dyn_enter();
    CURLM *m = smrt_dyn.curl_multi_init();
    smrt_dyn_leave();
    return m;
}

CURLMcode smrt_dyn_curl_multi_cleanup(CURLM *m)
{
    smrt_dyn_enter();
    CURLMcode rc = smrt_dyn.curl_multi_cleanup(m);
    smrt_dyn_leave();
    return rc;
}

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
    /* After libcurl, which brings it in: this only finds it. */
    void *ssl = dlopen(SMRT_LIBSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (ssl == NULL) {
        snprintf(error, sizeof(error), "cannot load OpenSSL's %s (Debian: libssl3): %s", SMRT_LIBSSL_SONAME, dlerror());
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
#define SMRT_DYN_LOAD_SSL(ret, name, args) SMRT_DYN_LOAD(ssl, SMRT_LIBSSL_SONAME, name)
    SMRT_CRYPTO_FUNCS(SMRT_DYN_LOAD_CRYPTO)
    SMRT_CURL_FUNCS(SMRT_DYN_LOAD_CURL)
    SMRT_SSL_FUNCS(SMRT_DYN_LOAD_SSL)
#undef SMRT_DYN_LOAD_SSL
#undef SMRT_DYN_LOAD_CURL
#undef SMRT_DYN_LOAD_CRYPTO
#undef SMRT_DYN_LOAD
    /* The handles stay open for the life of the process: the table points into them. */
    if (smrt_dyn.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(error, sizeof(error), "curl_global_init failed");
        return -1;
    }
    /* libcurl's first handles, and OpenSSL's algorithms, here rather than in a caller's
     * thread (dyn.h: fork safety). */
    CURLM *m = smrt_dyn.curl_multi_init();
    CURL *h = smrt_dyn.curl_easy_init();
    smrt_dyn.curl_easy_cleanup(h);
    smrt_dyn.curl_multi_cleanup(m);
    if (h == NULL || m == NULL) {
        snprintf(error, sizeof(error), "libcurl cannot make a handle");
        return -1;
    }
    if (shared_init() < 0) {
        snprintf(error, sizeof(error), "OpenSSL's SHA-256 or HMAC is not available");
        return -1;
    }
    return 0;
}

static void *loader(void *arg)
{
    (void)arg;
    int ok = load_all() == 0;
    if (smrt_dyn.OPENSSL_thread_stop) {
        /* This thread's OpenSSL state (its error queue, made by the initialisation above),
         * freed now: freed at thread exit it would take an OpenSSL lock after we report
         * done, when a fork no longer waits for us. */
        smrt_dyn.OPENSSL_thread_stop();
    }
    pthread_mutex_lock(&lock);
    atomic_store(&state, ok ? 2 : -1);
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    return NULL;
}

/* Fork: wait for the loader (the child would inherit the dynamic loader's or OpenSSL's
 * locks, held by a thread it does not have), then for the sections in the gate. */
static void before_fork(void)
{
    if (atomic_load(&state) == 1) {
        smrt_dyn_wait();
    }
    pthread_rwlock_wrlock(&gate);
}

static void after_fork_parent(void)
{
    pthread_rwlock_unlock(&gate);
}

static void after_fork_child(void)
{
    gate_init();
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&done, NULL);
}

void smrt_dyn_start(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&state, &expected, 1)) {
        return;
    }
    gate_init();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
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
