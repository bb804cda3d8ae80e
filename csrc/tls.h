/* The TLS checks botocore makes, in libcurl's OpenSSL handshakes.
 *
 * botocore verifies the chain with OpenSSL (Python's ssl module) and then, with its own
 * SSLContext's check_hostname off, lets urllib3's match_hostname decide whether the
 * certificate names the host. libcurl's own host check follows other rules (a CN for an IP
 * address, no partial wildcards ...), so when this module can hook libcurl's SSL_CTX the
 * origin's name is checked here instead, by urllib3's rules, right after OpenSSL verified
 * the chain: the same certificates are accepted, and a refusal lists the same names.
 *
 * No Python.h; no GIL needed. */
#ifndef SMRT_TLS_H
#define SMRT_TLS_H

#include "buf.h"
#include "dyn.h"

/* Why a TLS connection failed, for the Python layer to word as botocore does. */
typedef enum smrt_tls_error {
    SMRT_TLS_NONE = 0,
    SMRT_TLS_CA_FILE,     /* the CA bundle could not be loaded */
    SMRT_TLS_CLIENT_CERT, /* the client certificate or its key could not be loaded */
    SMRT_TLS_VERIFY,      /* the chain did not verify (an X509_V_ERR_* code says why) */
    SMRT_TLS_HOSTNAME,    /* no name of the certificate matches the host: the names, listed */
    SMRT_TLS_WILDCARDS,   /* a name with more than one '*' in its first label: that name */
} smrt_tls_error;

/* Can libcurl's SSL_CTX be hooked: is its TLS library the OpenSSL 3 whose libssl we use? */
int smrt_tls_hookable(void);

/* urllib3's match_hostname(cert, host) with botocore's context (common name checked when
 * the certificate has no DNS or IP name): SMRT_TLS_NONE on a match; else SMRT_TLS_HOSTNAME
 * with `names` holding the names urllib3 lists (in its words: an IP address as Python's
 * getpeercert() writes it), or SMRT_TLS_WILDCARDS with `names` holding the name it refused;
 * SMRT_ENOMEM when `names` cannot grow. `host` is NUL-terminated, without brackets, zone or
 * trailing dot. Entries in `names`: a 4-byte length (host order), then the bytes. */
int smrt_tls_match_host(X509 *cert, const char *host, smrt_buf *names);

#endif
