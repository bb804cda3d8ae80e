/* AWS Signature Version 4: the one signer of the C core (smrt_sigv4_sign), its signing-key
 * cache, and the primitives it is made of (canonical requests, key derivation, signatures).
 *
 * No Python.h. None of these functions needs the GIL; none sets a Python exception.
 * Every function returns SMRT_OK or a negative SMRT_E* status (status.h); no status, and
 * nothing a caller may turn into an error message, carries a secret.
 *
 * A smrt_crypto holds reusable OpenSSL contexts (OpenSSL 3 one-shot calls fetch the
 * algorithm on every call, which costs several times the hashing of a small input).
 * A smrt_crypto is used by one thread at a time. */
#ifndef SMRT_SIGV4_H
#define SMRT_SIGV4_H

#include <stddef.h>
#include <stdint.h>

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
    /* smrt_sigv4_sign, header mode: sign X-Amz-Content-Sha256 (the payload hash) too. */
    SMRT_SIGN_CONTENT_SHA256 = 1 << 3,
    /* smrt_sigv4_sign: the session token goes on the request unsigned (header mode: the
     * caller adds X-Amz-Security-Token after signing; query mode: X-Amz-Security-Token
     * follows the signed parameters in the query but is left out of the canonical query). */
    SMRT_SIGN_TOKEN_UNSIGNED = 1 << 4,
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
 * headers. The canonicaliser alone (the fuzz harness): signing goes through smrt_sigv4_sign. */
int smrt_sigv4_canonical_request(const smrt_sign_input *in, smrt_buf *out, smrt_buf *signed_headers);

/* ---- the signer ----------------------------------------------------------------------------
 *
 * smrt_sigv4_sign is the only code that signs: the call path (client.c run_attempt), the
 * presigning fast path (client.c client_presign) and the auth entry points (module.c
 * sign_request and sigv4, behind sagemaker_rt_c.auth and the Python presigner) all call it.
 *
 * Ownership and threads. A smrt_signer is a plain struct owned by whoever embeds it; it
 * has no lock and needs no GIL: its owner makes sure one thread at a time uses it (its
 * crypto context, its key cache and its buffers together). The owners:
 *   - each connection (smrt_conn.signer): used by the thread that borrowed the connection
 *     from the pool, without the GIL (the pool hands a connection to one borrower at a time);
 *   - each client (ClientObject.presigner): used with the GIL held (client_presign);
 *   - the module (module.c): used with the GIL held.
 * Its outputs (canonical, sts, signed_headers, result, signature, send_token) are the last
 * call's and stay valid until the next call on the same signer. */

/* One derived signing key, remembered for the scope and credentials it was derived for.
 * The credentials are named by their generation (smrt_sigv4_creds.gen), or, when the
 * caller has none (gen 0), by a SHA-256 digest of the secret: the secret itself is never
 * kept. Part of a smrt_signer, so it shares its owner's thread rule. */
#define SMRT_SIGV4_KEY_SCOPE_MAX 160 /* longer scopes (very long region names) are not cached */

typedef struct smrt_sigv4_key_cache {
    int valid;
    uint64_t gen;                                /* 0: named by secret_digest */
    unsigned char secret_digest[SMRT_SHA256_LEN];
    size_t scope_len;
    char scope[SMRT_SIGV4_KEY_SCOPE_MAX]; /* "date8/region/service/aws4_request" */
    unsigned char key[SMRT_SHA256_LEN];   /* secret: wiped when replaced or freed */
} smrt_sigv4_key_cache;

/* The canonicaliser's scratch buffers (a normalised path, query pairs). */
typedef struct smrt_sigv4_scratch {
    smrt_buf path, enc, tmp, pairs;
} smrt_sigv4_scratch;

typedef struct smrt_signer {
    smrt_crypto crypto; /* also usable by the owner for other digests (a body's hash) */
    smrt_sigv4_key_cache keys;
    /* Outputs of the last smrt_sigv4_sign. */
    smrt_buf canonical;      /* the canonical request */
    smrt_buf sts;            /* the string to sign */
    smrt_buf signed_headers; /* "host;x-amz-date" ... */
    smrt_buf result;         /* header mode: the Authorization value; query mode: the query */
    char signature[SMRT_SHA256_HEX_LEN + 1];
    int send_token; /* header mode: the request carries X-Amz-Security-Token (signed or not) */
    /* Scratch, reused across calls. */
    smrt_buf scope;
    smrt_sigv4_scratch scratch;
} smrt_signer;

/* Initialise `s` (caller-owned storage): smrt_crypto_init, so it waits for the background
 * load (dyn.h) and must be called where waiting is allowed (without the GIL, or once the
 * load is known to be over). On failure `s` must still be passed to smrt_signer_destroy. */
int smrt_signer_init(smrt_signer *s);
/* Wipe the cached key and free everything. Safe on a zeroed or half-built struct. */
void smrt_signer_destroy(smrt_signer *s);
/* Forget the cached key (wiped). */
void smrt_sigv4_key_cache_clear(smrt_sigv4_key_cache *kc);

typedef enum {
    SMRT_SIGV4_HEADERS = 0, /* an Authorization header */
    SMRT_SIGV4_QUERY = 1,   /* a presigned query string */
} smrt_sigv4_mode;

typedef struct smrt_span {
    const char *data;
    size_t len;
} smrt_span;

/* Borrowed for the call. */
typedef struct smrt_sigv4_creds {
    const char *access_key;
    size_t access_key_len;
    const char *secret_key;
    size_t secret_key_len;
    const char *token; /* NULL: no session token */
    size_t token_len;
    /* Nonzero: these credentials' generation, different for every credentials set the
     * signer's owner may see (a client's counter); the key cache then trusts it. 0: unknown,
     * the cache compares a digest of the secret. */
    uint64_t gen;
} smrt_sigv4_creds;

typedef struct smrt_sigv4_request {
    smrt_sigv4_mode mode;
    int flags;          /* SMRT_SIGN_* */
    const char *method; /* NUL-terminated, as signed */
    const char *path;   /* as in the URL, without the query; "" means "/" */
    size_t path_len;
    /* The request's own query, without '?'; NULL for none. Query mode puts the auth
     * parameters after it and a '&' (any non-NULL query, even empty, as botocore joins
     * them), or alone after a NULL one. */
    const char *query;
    size_t query_len;
    /* Headers to sign, at most SMRT_MAX_SIGNED_HEADERS. Header mode adds x-amz-date, then
     * x-amz-content-sha256 (SMRT_SIGN_CONTENT_SHA256), then x-amz-security-token (a
     * non-empty token, without SMRT_SIGN_TOKEN_UNSIGNED) to them; query mode adds none. */
    const smrt_header *headers;
    size_t n_headers;
    const char *payload_hash; /* NUL-terminated: 64 hex digits or SMRT_UNSIGNED_PAYLOAD */
    const smrt_sigv4_creds *creds;
    const char *region; /* NUL-terminated */
    const char *service;
    const char *amz_date; /* SMRT_AMZ_DATE_LEN characters, YYYYMMDDTHHMMSSZ */
    /* Query mode: the X-Amz-Expires value, as text (percent-encoded here). One, normally:
     * botocore's query encoder repeats the parameter for each item of a list, and leaves
     * it out for an empty one, so a caller mirroring that passes n_expires values. */
    const smrt_span *expires;
    size_t n_expires;
} smrt_sigv4_request;

/* Sign `rq` with `s`, leaving the outputs in `s`:
 *   header mode: result = "AWS4-HMAC-SHA256 Credential=AK/scope, SignedHeaders=...,
 *     Signature=..."; send_token says whether the request carries X-Amz-Security-Token
 *     (botocore's header signer: only a non-empty token). The caller sends X-Amz-Date
 *     (rq->amz_date), X-Amz-Content-Sha256 (when asked) and the token itself.
 *   query mode: result = the request's query and '&' (when not NULL), then X-Amz-Algorithm,
 *     X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 *     X-Amz-Security-Token (any token, even empty: botocore's query signer) and, last,
 *     X-Amz-Signature, percent-encoded, in botocore's order.
 * Both: canonical, sts, signed_headers and signature. The signing key comes from the
 * cache when its date, region, service and credentials match, else is derived and cached.
 * SMRT_EINVAL when there are too many headers or amz_date is short; SMRT_ENOMEM;
 * SMRT_ECRYPTO. Needs no GIL; sets no Python exception. */
int smrt_sigv4_sign(smrt_signer *s, const smrt_sigv4_request *rq);

/* Format a UNIX time (seconds) as YYYYMMDDTHHMMSSZ into out[17]. */
void smrt_amz_date(long long unix_seconds, char out[SMRT_AMZ_DATE_LEN + 1]);

/* Percent-encode every byte outside A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash). */
int smrt_uri_encode(smrt_buf *out, const char *s, size_t n, int keep_slash);

#endif
