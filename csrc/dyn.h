/* libcurl and libcrypto, loaded in the background.
 *
 * Debian's libcurl drags in some thirty shared libraries: loading them costs about 4 ms
 * and libcrypto 2 ms more, which would make `import sagemaker_rt_c` and the first client
 * slower than this package promises. So _core does not link them: a loader thread,
 * started when _core is imported, dlopens them and fills a table of function pointers,
 * while Python goes on. Code that needs them calls smrt_dyn_wait() first (instant once
 * loaded; the first invocation may wait for the rest of the load).
 *
 * Fork safety. OpenSSL 3 has no fork handlers: a lock one of its calls holds in a thread of
 * the parent when another thread forks stays held, for ever, in the child. And the first
 * fetch of an algorithm in a process takes global locks for writing (the method store's,
 * the name map's), as does a thread's first call that needs OpenSSL's per-thread state
 * (and that thread's exit). So the loader also does all of OpenSSL's and libcurl's global
 * initialisation (curl_global_init, the SHA-256 and HMAC fetches, one digest and one HMAC)
 * and makes the objects every smrt_crypto copies (smrt_dyn_shared): a smrt_crypto is then
 * made without any OpenSSL lock or per-thread state. The loader drops its own per-thread
 * state before it reports done, and a fork waits for the loader. The libcurl calls that
 * take global locks (a handle's creation and cleanup: its TLS objects) run inside a fork
 * gate (smrt_dyn_enter/leave), which a fork takes exclusively, so none is in progress in
 * another thread at fork time. Not covered: a TLS handshake in progress in another thread
 * at fork time (inside curl_easy_perform, which may wait on the network for long).
 *
 * Every use of a libcurl or OpenSSL function in csrc/ goes through this header; with
 * SMRT_DIRECT_LINK defined (the fuzz harness) they are ordinary linked calls instead.
 * No Python.h; no GIL needed. */
#ifndef SMRT_DYN_H
#define SMRT_DYN_H

#define CURL_DISABLE_TYPECHECK /* its macros would wrap curl_easy_setopt around our table */
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SMRT_CRYPTO_FUNCS(X)                                                                                           \
    X(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX *, const char *, const char *))                                            \
    X(void, EVP_MD_free, (EVP_MD *))                                                                                   \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void))                                                                            \
    X(void, EVP_MD_CTX_free, (EVP_MD_CTX *))                                                                           \
    X(int, EVP_DigestInit_ex2, (EVP_MD_CTX *, const EVP_MD *, const OSSL_PARAM *))                                     \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t))                                                     \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))                                        \
    X(EVP_MAC *, EVP_MAC_fetch, (OSSL_LIB_CTX *, const char *, const char *))                                          \
    X(void, EVP_MAC_free, (EVP_MAC *))                                                                                 \
    X(EVP_MAC_CTX *, EVP_MAC_CTX_new, (EVP_MAC *))                                                                     \
    X(void, EVP_MAC_CTX_free, (EVP_MAC_CTX *))                                                                         \
    X(int, EVP_MAC_CTX_set_params, (EVP_MAC_CTX *, const OSSL_PARAM *))                                                \
    X(int, EVP_MAC_init, (EVP_MAC_CTX *, const unsigned char *, size_t, const OSSL_PARAM *))                           \
    X(int, EVP_MAC_update, (EVP_MAC_CTX *, const unsigned char *, size_t))                                             \
    X(int, EVP_MAC_final, (EVP_MAC_CTX *, unsigned char *, size_t *, size_t))                                          \
    X(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char *, char *, size_t))                                    \
    X(OSSL_PARAM, OSSL_PARAM_construct_end, (void))                                                                    \
    X(EVP_MAC_CTX *, EVP_MAC_CTX_dup, (const EVP_MAC_CTX *))                                                           \
    X(int, EVP_MD_up_ref, (EVP_MD *))                                                                                  \
    X(int, EVP_MAC_up_ref, (EVP_MAC *))                                                                                \
    X(void, OPENSSL_thread_stop, (void))                                                                               \
    X(void, OPENSSL_cleanse, (void *, size_t))                                                                         \
    X(int, CRYPTO_memcmp, (const void *, const void *, size_t))                                                        \
    X(unsigned long, ERR_get_error, (void))                                                                            \
    X(const char *, ERR_reason_error_string, (unsigned long))                                                          \
    X(const char *, ERR_lib_error_string, (unsigned long))                                                             \
    X(void, ERR_clear_error, (void))                                                                                   \
    X(const char *, OpenSSL_version, (int))                                                                         \
    X(const char *, X509_verify_cert_error_string, (long))                                                             \
    X(int, X509_verify_cert, (X509_STORE_CTX *))                                                                       \
    X(X509 *, X509_STORE_CTX_get0_cert, (const X509_STORE_CTX *))                                                     \
    X(void, X509_STORE_CTX_set_error, (X509_STORE_CTX *, int))                                                         \
    X(int, X509_STORE_CTX_get_error, (const X509_STORE_CTX *))                                                         \
    X(void *, X509_get_ext_d2i, (const X509 *, int, int *, int *))                                                     \
    X(void, GENERAL_NAMES_free, (GENERAL_NAMES *))                                                                     \
    X(int, OPENSSL_sk_num, (const OPENSSL_STACK *))                                                                    \
    X(void *, OPENSSL_sk_value, (const OPENSSL_STACK *, int))                                                          \
    X(const unsigned char *, ASN1_STRING_get0_data, (const ASN1_STRING *))                                             \
    X(int, ASN1_STRING_length, (const ASN1_STRING *))                                                                  \
    X(int, ASN1_STRING_to_UTF8, (unsigned char **, const ASN1_STRING *))                                               \
    X(X509_NAME *, X509_get_subject_name, (const X509 *))                                                              \
    X(int, X509_NAME_get_index_by_NID, (const X509_NAME *, int, int))                                                  \
    X(X509_NAME_ENTRY *, X509_NAME_get_entry, (const X509_NAME *, int))                                                \
    X(ASN1_STRING *, X509_NAME_ENTRY_get_data, (const X509_NAME_ENTRY *))                                              \
    X(void, CRYPTO_free, (void *, const char *, int))

/* From libssl (the one libcurl uses, already in the process once libcurl is loaded). */
#define SMRT_SSL_FUNCS(X)                                                                                              \
    X(void, SSL_CTX_set_cert_verify_callback, (SSL_CTX *, int (*)(X509_STORE_CTX *, void *), void *))               \
    X(long, SSL_CTX_ctrl, (SSL_CTX *, int, long, void *))

#define SMRT_CURL_FUNCS(X)                                                                                             \
    X(CURLcode, curl_global_init, (long))                                                                              \
    X(CURL *, curl_easy_init, (void))                                                                                  \
    X(void, curl_easy_cleanup, (CURL *))                                                                               \
    X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...))                                                           \
    X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...))                                                            \
    X(const char *, curl_easy_strerror, (CURLcode))                                                                    \
    X(CURLcode, curl_easy_perform, (CURL *))                                                                           \
    X(CURLcode, curl_easy_send, (CURL *, const void *, size_t, size_t *))                                              \
    X(CURLcode, curl_easy_recv, (CURL *, void *, size_t, size_t *))                                                    \
    X(CURLM *, curl_multi_init, (void))                                                                                \
    X(CURLMcode, curl_multi_cleanup, (CURLM *))                                                                        \
    X(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *))                                                             \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *))                                                          \
    X(CURLMcode, curl_multi_perform, (CURLM *, int *))                                                                 \
    X(CURLMcode, curl_multi_poll, (CURLM *, struct curl_waitfd *, unsigned int, int, int *))                           \
    X(CURLMsg *, curl_multi_info_read, (CURLM *, int *))                                                               \
    X(CURLMcode, curl_multi_setopt, (CURLM *, CURLMoption, ...))                                                       \
    X(CURLMcode, curl_multi_socket_action, (CURLM *, curl_socket_t, int, int *))                                       \
    X(char *, curl_version, (void))                                                                                    \
    X(curl_version_info_data *, curl_version_info, (CURLversion))

/* Start the loader thread (idempotent, returns at once). */
void smrt_dyn_start(void);
/* Wait until the libraries are loaded and initialised: SMRT_OK, or SMRT_ELOAD (see
 * smrt_dyn_error). */
int smrt_dyn_wait(void);
/* Why loading failed (static storage), or NULL. */
const char *smrt_dyn_error(void);

/* OpenSSL objects made once by the loader and never freed, for smrt_crypto_init to take
 * references to (up_ref) or duplicate: read-only, shared by every thread. Valid once
 * smrt_dyn_wait() returned SMRT_OK. */
typedef struct smrt_dyn_shared_crypto {
    EVP_MD *sha256;
    EVP_MAC *hmac;
    EVP_MAC_CTX *hmac_sha256; /* an HMAC context with its digest set to SHA-256, never keyed */
} smrt_dyn_shared_crypto;
const smrt_dyn_shared_crypto *smrt_dyn_shared(void);

/* The fork gate: a short section that may take libcurl's or OpenSSL's global locks runs
 * between smrt_dyn_enter() and smrt_dyn_leave() (shared with other such sections); fork()
 * waits for the sections in progress and holds new ones back until it is done. A section
 * must not block on the network, take another lock of ours, or enter the gate again. */
void smrt_dyn_enter(void);
void smrt_dyn_leave(void);

#ifndef SMRT_DIRECT_LINK
typedef struct smrt_dyn_table {
#define SMRT_DYN_FIELD(ret, name, args) ret(*name) args;
    SMRT_CRYPTO_FUNCS(SMRT_DYN_FIELD) SMRT_CURL_FUNCS(SMRT_DYN_FIELD) SMRT_SSL_FUNCS(SMRT_DYN_FIELD)
#undef SMRT_DYN_FIELD
} smrt_dyn_table;

extern smrt_dyn_table smrt_dyn;

#ifndef SMRT_DYN_IMPL
/* From here on, these names call through the table. */
#define EVP_MD_fetch (smrt_dyn.EVP_MD_fetch)
#define EVP_MD_free (smrt_dyn.EVP_MD_free)
#define EVP_MD_CTX_new (smrt_dyn.EVP_MD_CTX_new)
#define EVP_MD_CTX_free (smrt_dyn.EVP_MD_CTX_free)
#define EVP_DigestInit_ex2 (smrt_dyn.EVP_DigestInit_ex2)
#define EVP_DigestUpdate (smrt_dyn.EVP_DigestUpdate)
#define EVP_DigestFinal_ex (smrt_dyn.EVP_DigestFinal_ex)
#define EVP_MAC_fetch (smrt_dyn.EVP_MAC_fetch)
#define EVP_MAC_free (smrt_dyn.EVP_MAC_free)
#define EVP_MAC_CTX_new (smrt_dyn.EVP_MAC_CTX_new)
#define EVP_MAC_CTX_free (smrt_dyn.EVP_MAC_CTX_free)
#define EVP_MAC_CTX_set_params (smrt_dyn.EVP_MAC_CTX_set_params)
#define EVP_MAC_init (smrt_dyn.EVP_MAC_init)
#define EVP_MAC_update (smrt_dyn.EVP_MAC_update)
#define EVP_MAC_final (smrt_dyn.EVP_MAC_final)
#define EVP_MAC_CTX_dup (smrt_dyn.EVP_MAC_CTX_dup)
#define EVP_MD_up_ref (smrt_dyn.EVP_MD_up_ref)
#define EVP_MAC_up_ref (smrt_dyn.EVP_MAC_up_ref)
#define OPENSSL_thread_stop (smrt_dyn.OPENSSL_thread_stop)
#define OSSL_PARAM_construct_utf8_string (smrt_dyn.OSSL_PARAM_construct_utf8_string)
#define OSSL_PARAM_construct_end (smrt_dyn.OSSL_PARAM_construct_end)
#undef OPENSSL_cleanse
#define OPENSSL_cleanse (smrt_dyn.OPENSSL_cleanse)
#define CRYPTO_memcmp (smrt_dyn.CRYPTO_memcmp)
#define ERR_get_error (smrt_dyn.ERR_get_error)
#define ERR_reason_error_string (smrt_dyn.ERR_reason_error_string)
#define ERR_lib_error_string (smrt_dyn.ERR_lib_error_string)
#define ERR_clear_error (smrt_dyn.ERR_clear_error)
#define OpenSSL_version (smrt_dyn.OpenSSL_version)
#define X509_verify_cert_error_string (smrt_dyn.X509_verify_cert_error_string)
#define X509_verify_cert (smrt_dyn.X509_verify_cert)
#define X509_STORE_CTX_get0_cert (smrt_dyn.X509_STORE_CTX_get0_cert)
#define X509_STORE_CTX_set_error (smrt_dyn.X509_STORE_CTX_set_error)
#define X509_STORE_CTX_get_error (smrt_dyn.X509_STORE_CTX_get_error)
#define X509_get_ext_d2i (smrt_dyn.X509_get_ext_d2i)
#define GENERAL_NAMES_free (smrt_dyn.GENERAL_NAMES_free)
#define OPENSSL_sk_num (smrt_dyn.OPENSSL_sk_num)
#define OPENSSL_sk_value (smrt_dyn.OPENSSL_sk_value)
#define ASN1_STRING_get0_data (smrt_dyn.ASN1_STRING_get0_data)
#define ASN1_STRING_length (smrt_dyn.ASN1_STRING_length)
#define ASN1_STRING_to_UTF8 (smrt_dyn.ASN1_STRING_to_UTF8)
#define X509_get_subject_name (smrt_dyn.X509_get_subject_name)
#define X509_NAME_get_index_by_NID (smrt_dyn.X509_NAME_get_index_by_NID)
#define X509_NAME_get_entry (smrt_dyn.X509_NAME_get_entry)
#define X509_NAME_ENTRY_get_data (smrt_dyn.X509_NAME_ENTRY_get_data)
#define CRYPTO_free (smrt_dyn.CRYPTO_free)
#define SSL_CTX_set_cert_verify_callback (smrt_dyn.SSL_CTX_set_cert_verify_callback)
#define SSL_CTX_ctrl (smrt_dyn.SSL_CTX_ctrl)
#define curl_global_init (smrt_dyn.curl_global_init)
/* Inside the fork gate (see above): */
#define curl_easy_init smrt_dyn_curl_easy_init
#define curl_easy_cleanup smrt_dyn_curl_easy_cleanup
#define curl_multi_init smrt_dyn_curl_multi_init
#define curl_multi_cleanup smrt_dyn_curl_multi_cleanup
#undef curl_easy_setopt
#define curl_easy_setopt (smrt_dyn.curl_easy_setopt)
#undef curl_easy_getinfo
#define curl_easy_getinfo (smrt_dyn.curl_easy_getinfo)
#define curl_easy_strerror (smrt_dyn.curl_easy_strerror)
#define curl_easy_perform (smrt_dyn.curl_easy_perform)
#define curl_easy_send (smrt_dyn.curl_easy_send)
#define curl_easy_recv (smrt_dyn.curl_easy_recv)
#define curl_multi_add_handle (smrt_dyn.curl_multi_add_handle)
#define curl_multi_remove_handle (smrt_dyn.curl_multi_remove_handle)
#define curl_multi_perform (smrt_dyn.curl_multi_perform)
#define curl_multi_poll (smrt_dyn.curl_multi_poll)
#define curl_multi_info_read (smrt_dyn.curl_multi_info_read)
#undef curl_multi_setopt
#define curl_multi_setopt (smrt_dyn.curl_multi_setopt)
#define curl_multi_socket_action (smrt_dyn.curl_multi_socket_action)
#define curl_version (smrt_dyn.curl_version)
#define curl_version_info (smrt_dyn.curl_version_info)
#endif /* SMRT_DYN_IMPL */

/* libcurl's handle constructors and destructors, inside the fork gate. */
CURL *smrt_dyn_curl_easy_init(void);
void smrt_dyn_curl_easy_cleanup(CURL *h);
CURLM *smrt_dyn_curl_multi_init(void);
CURLMcode smrt_dyn_curl_multi_cleanup(CURLM *m);
#endif /* SMRT_DIRECT_LINK */

#endif
