/* AWS Signature Version 4: canonical requests, key derivation, signatures.
 *
 * No Python.h. None of these functions needs the GIL; none sets a Python exception.
 * Every function returns SMRT_OK or a negative SMRT_E* status (status.h).
 *
 * A smrt_crypto holds reusable OpenSSL contexts (OpenSSL 3 one-shot calls fetch the
 * algorithm on every call, which costs several times the hashing of a small input).
 * A smrt_crypto is used by one thread at a time. */
#ifndef SMRT_SIGV4_H
#define SMRT_SIGV4_H

#include <stddef.h>

#include "buf.h"

#define SMRT_SHA256_LEN 32
#define SMRT_SHA256_HEX_LEN 64
#define SMRT_AMZ_DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */

/* SHA-256 of the empty string, the payload hash of a request without a body. */
#define SMRT_EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SMRT_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct smrt_crypto {
    struct evp_md_st *sha256;         /* a reference to the loader's (dyn.h) */
    struct evp_md_ctx_st *md_ctx;     /* reused for every digest */
    struct evp_mac_st *hmac;          /* a reference to the loader's */
    struct evp_mac_ctx_st *mac_ctx;   /* re-keyed for each key-derivation step */
    struct evp_mac_ctx_st *sig_ctx;   /* keyed once per signing key, reused per signature */
    unsigned char sig_key[SMRT_SHA256_LEN];
    int sig_key_set;
} smrt_crypto;

/* Initialise `c` (caller-owned storage): waits for the background load (dyn.h), then takes
 * references to and copies of the shared objects the loader made, a few microseconds, with
 * no OpenSSL lock taken. On failure `c` is half-built and must still be passed to
 * smrt_crypto_destroy. */
int smrt_crypto_init(smrt_crypto *c);
/* Free the contexts. Safe on a zeroed or half-built struct; idempotent. */
void smrt_crypto_destroy(smrt_crypto *c);

int smrt_sha256(smrt_crypto *c, const void *data, size_t len, unsigned char out[SMRT_SHA256_LEN]);
/* Lower-case hex digest; writes 65 bytes (64 digits and a NUL). */
int smrt_sha256_hex(smrt_crypto *c, const void *data, size_t len, char out[SMRT_SHA256_HEX_LEN + 1]);
int smrt_hmac_sha256(smrt_crypto *c, const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[SMRT_SHA256_LEN]);

void smrt_hex_encode(const unsigned char *in, size_t len, char *out /* 2*len+1 bytes */);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date8), region), service), "aws4_request"). */
int smrt_sigv4_derive_key(smrt_crypto *c, const char *secret, size_t secret_len, const char *date8,
                          const char *region, const char *service, unsigned char key[SMRT_SHA256_LEN]);

/* One header to sign. Names may be any case; values are canonicalised (trimmed, inner
 * whitespace runs collapsed to one space) and same-named headers are joined with ','. */
typedef struct smrt_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} smrt_header;

enum {
    /* Remove '.', '..' and empty path segments before encoding (all services but S3). */
    SMRT_SIGN_NORMALIZE_PATH = 1 << 0,
    /* Percent-encode the (already URL-encoded) path again, as every service but S3 wants. */
    SMRT_SIGN_ENCODE_PATH = 1 << 1,
    /* Query given as on the wire: sort the raw key=value pairs by key then value, as
     * botocore does. Without it the pairs are decoded and re-encoded canonically first. */
    SMRT_SIGN_RAW_QUERY = 1 << 2,
};

typedef struct smrt_sign_input {
    const char *method;
    const char *path; /* as in the URL, without the query; "" means "/" */
    size_t path_len;
    const char *query; /* without the '?'; may be NULL */
    size_t query_len;
    const smrt_header *headers;
    size_t n_headers; /* at most SMRT_MAX_SIGNED_HEADERS */
    const char *payload_hash; /* 64 hex digits or SMRT_UNSIGNED_PAYLOAD */
    int flags;
} smrt_sign_input;

#define SMRT_MAX_SIGNED_HEADERS 64

/* Append the canonical request to `out` and the ';'-joined lower-case signed header
 * names to `signed_headers` (both cleared first). SMRT_EINVAL if there are too many
 * headers. */
int smrt_sigv4_canonical_request(const smrt_sign_input *in, smrt_buf *out, smrt_buf *signed_headers);

/* Append "date8/region/service/aws4_request" to `out` (not cleared). */
int smrt_sigv4_scope(smrt_buf *out, const char *amz_date, const char *region, const char *service);

/* Write the string to sign for `canonical` into `out` (cleared first). */
int smrt_sigv4_string_to_sign(smrt_crypto *c, smrt_buf *out, const char *amz_date, const char *scope,
                              size_t scope_len, const char *canonical, size_t canonical_len);

/* Hex HMAC of `sts` under `key`. The key is kept in a pre-keyed context: signing again
 * with the same key skips the key setup. */
int smrt_sigv4_signature(smrt_crypto *c, const unsigned char key[SMRT_SHA256_LEN], const char *sts,
                         size_t sts_len, char out[SMRT_SHA256_HEX_LEN + 1]);

/* Format a UNIX time (seconds) as YYYYMMDDTHHMMSSZ into out[17]. */
void smrt_amz_date(long long unix_seconds, char out[SMRT_AMZ_DATE_LEN + 1]);

/* Percent-encode every byte outside A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash). */
int smrt_uri_encode(smrt_buf *out, const char *s, size_t n, int keep_slash);

#endif
