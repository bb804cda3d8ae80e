/* AWS Signature Version 4 (see sigv4.h). */
#define _POSIX_C_SOURCE 200809L
#include "sigv4.h"

#include "dyn.h"

static const char HEX[] = "0123456789abcdef";

/* Zero secret bytes in a way the compiler keeps. Needs no library: it runs on structs that
 * are freed before libcrypto has loaded (OPENSSL_cleanse is reached through dyn.h). */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) {
        *v++ = 0;
    }
}

void smrt_hex_encode(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int smrt_crypto_init(smrt_crypto *c)
{
    memset(c, 0, sizeof(*c));
    /* Before any OpenSSL call: the loader makes the shared objects copied here. */
    if (smrt_dyn_wait() != SMRT_OK) {
        return SMRT_ELOAD;
    }
    /* References and copies only: no fetch, no parameter parsing. Those take OpenSSL's
     * global locks and make per-thread state, which a fork in another thread could leave
     * locked for ever in the child (dyn.h). */
    const smrt_dyn_shared_crypto *sh = smrt_dyn_shared();
    if (!EVP_MD_up_ref(sh->sha256)) {
        goto error;
    }
    c->sha256 = sh->sha256;
    if (!EVP_MAC_up_ref(sh->hmac)) {
        goto error;
    }
    c->hmac = sh->hmac;
    c->md_ctx = EVP_MD_CTX_new();
    c->mac_ctx = EVP_MAC_CTX_dup(sh->hmac_sha256);
    c->sig_ctx = EVP_MAC_CTX_dup(sh->hmac_sha256);
    if (c->md_ctx == NULL || c->mac_ctx == NULL || c->sig_ctx == NULL) {
        goto error;
    }
    return SMRT_OK;
error:
    return SMRT_ECRYPTO;
}

void smrt_crypto_destroy(smrt_crypto *c)
{
    if (c->sha256 == NULL && c->md_ctx == NULL && c->hmac == NULL) {
        memset(c, 0, sizeof(*c));
        return; /* never initialised (perhaps the libraries never loaded) */
    }
    wipe(c->sig_key, sizeof(c->sig_key)); /* a signing key */
    EVP_MAC_CTX_free(c->sig_ctx);
    EVP_MAC_CTX_free(c->mac_ctx);
    EVP_MAC_free(c->hmac);
    EVP_MD_CTX_free(c->md_ctx);
    EVP_MD_free(c->sha256);
    memset(c, 0, sizeof(*c));
}

int smrt_sha256(smrt_crypto *c, const void *data, size_t len, unsigned char out[SMRT_SHA256_LEN])
{
    unsigned int n = 0;
    if (!EVP_DigestInit_ex2(c->md_ctx, c->sha256, NULL) || !EVP_DigestUpdate(c->md_ctx, data, len) ||
        !EVP_DigestFinal_ex(c->md_ctx, out, &n)) {
        return SMRT_ECRYPTO;
    }
    return SMRT_OK;
}

int smrt_sha256_hex(smrt_crypto *c, const void *data, size_t len, char out[SMRT_SHA256_HEX_LEN + 1])
{
    unsigned char md[SMRT_SHA256_LEN];
    int rc = smrt_sha256(c, data, len, md);
    if (rc == SMRT_OK) {
        smrt_hex_encode(md, sizeof(md), out);
    }
    return rc;
}

static int mac_run(EVP_MAC_CTX *ctx, const void *key, size_t key_len, const void *msg, size_t msg_len,
                   unsigned char out[SMRT_SHA256_LEN])
{
    size_t n = 0;
    if (!EVP_MAC_init(ctx, key, key_len, NULL) || !EVP_MAC_update(ctx, msg, msg_len) ||
        !EVP_MAC_final(ctx, out, &n, SMRT_SHA256_LEN)) {
        return SMRT_ECRYPTO;
    }
    return SMRT_OK;
}

int smrt_hmac_sha256(smrt_crypto *c, const void *key, size_t key_len, const void *msg, size_t msg_len,
                     unsigned char out[SMRT_SHA256_LEN])
{
    /* A zero-length key must still be passed as non-NULL: NULL means "reuse the last key". */
    static const unsigned char empty = 0;
    return mac_run(c->mac_ctx, key_len ? key : &empty, key_len, msg, msg_len, out);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date8), region), service), "aws4_request").
 * The copies of the secret and the intermediate keys are wiped. */
static int derive_key(smrt_crypto *c, const char *secret, size_t secret_len, const char *date8, const char *region,
                      size_t region_len, const char *service, size_t service_len, unsigned char key[SMRT_SHA256_LEN])
{
    unsigned char k[SMRT_SHA256_LEN];
    smrt_buf seed = {0};
    int rc = smrt_buf_append(&seed, "AWS4", 4);
    if (rc == SMRT_OK) {
        rc = smrt_buf_append(&seed, secret, secret_len);
    }
    if (rc == SMRT_OK) {
        rc = smrt_hmac_sha256(c, seed.data, seed.len, date8, 8, k);
    }
    if (rc == SMRT_OK) {
        rc = smrt_hmac_sha256(c, k, sizeof(k), region, region_len, k);
    }
    if (rc == SMRT_OK) {
        rc = smrt_hmac_sha256(c, k, sizeof(k), service, service_len, k);
    }
    if (rc == SMRT_OK) {
        rc = smrt_hmac_sha256(c, k, sizeof(k), "aws4_request", 12, key);
    }
    /* The seed holds the secret: wipe it before freeing. */
    if (seed.data) {
        OPENSSL_cleanse(seed.data, seed.cap);
    }
    OPENSSL_cleanse(k, sizeof(k));
    smrt_buf_destroy(&seed);
    return rc;
}

/* Hex HMAC of `sts` under `key`. The key is kept in a pre-keyed context: signing again
 * with the same key skips the key setup. */
static int signature(smrt_crypto *c, const unsigned char key[SMRT_SHA256_LEN], const char *sts, size_t sts_len,
                     char out[SMRT_SHA256_HEX_LEN + 1])
{
    unsigned char md[SMRT_SHA256_LEN];
    const unsigned char *init_key = NULL;
    if (!c->sig_key_set || memcmp(c->sig_key, key, SMRT_SHA256_LEN) != 0) {
        init_key = key;
    }
    if (mac_run(c->sig_ctx, init_key, init_key ? SMRT_SHA256_LEN : 0, sts, sts_len, md) != SMRT_OK) {
        c->sig_key_set = 0;
        return SMRT_ECRYPTO;
    }
    if (init_key) {
        memcpy(c->sig_key, key, SMRT_SHA256_LEN);
        c->sig_key_set = 1;
    }
    smrt_hex_encode(md, sizeof(md), out);
    return SMRT_OK;
}

/* ---- canonical request ---------------------------------------------------------------- */

/* 1 for the unreserved bytes A-Z a-z 0-9 - . _ ~, 2 for '/'. */
static const unsigned char URI_CLASS[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['/'] = 2,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int smrt_uri_encode(smrt_buf *out, const char *s, size_t n, int keep_slash)
{
    static const char UHEX[] = "0123456789ABCDEF";
    if (smrt_buf_reserve(out, 3 * n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    char *w = out->data + out->len;
    const unsigned char keep = keep_slash ? 3 : 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (URI_CLASS[ch] & keep) {
            *w++ = (char)ch;
        } else {
            *w++ = '%';
            *w++ = UHEX[ch >> 4];
            *w++ = UHEX[ch & 15];
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return SMRT_OK;
}

/* botocore's remove_dot_segments: drop empty and '.' segments, apply '..', keep a leading
 * '/' and (when anything is left) a trailing '/'. */
static int normalize_path(smrt_buf *out, const char *p, size_t n)
{
    if (n == 0) {
        return smrt_buf_append_char(out, '/');
    }
    /* Reserve up front: a path of nothing but dots appends nothing, yet must end with NUL. */
    if (smrt_buf_reserve(out, n + 1) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    if (p[0] == '/' && smrt_buf_append_char(out, '/') != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    size_t root = out->len; /* segments start here */
    size_t nseg = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && p[j] != '/') {
            j++;
        }
        size_t len = j - i;
        if (len == 0 || (len == 1 && p[i] == '.')) {
            /* skip */
        } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (nseg > 0) {
                /* pop the last segment and its separator */
                size_t k = out->len;
                while (k > root && out->data[k - 1] != '/') {
                    k--;
                }
                if (k > root) {
                    k--; /* the '/' before the popped segment */
                }
                out->len = k;
                nseg--;
            }
        } else {
            if (nseg > 0 && smrt_buf_append_char(out, '/') != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            if (smrt_buf_append(out, p + i, len) != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            nseg++;
        }
        i = j + 1;
    }
    if (p[n - 1] == '/' && nseg > 0 && smrt_buf_append_char(out, '/') != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    out->data[out->len] = '\0';
    return SMRT_OK;
}

typedef struct qpair {
    size_t key_off, key_len, val_off, val_len; /* into a scratch buffer, or raw input */
    const char *base;
} qpair;

static int span_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int r = m ? memcmp(a, b, m) : 0;
    if (r != 0) {
        return r;
    }
    return (an > bn) - (an < bn);
}

static int qpair_cmp(const void *x, const void *y)
{
    const qpair *a = x, *b = y;
    int r = span_cmp(a->base + a->key_off, a->key_len, b->base + b->key_off, b->key_len);
    if (r != 0) {
        return r;
    }
    return span_cmp(a->base + a->val_off, a->val_len, b->base + b->val_off, b->val_len);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode %XX then encode canonically, appending to `out`. */
static int reencode(smrt_buf *out, smrt_buf *tmp, const char *s, size_t n)
{
    smrt_buf_clear(tmp);
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (smrt_buf_append_char(tmp, ch) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    }
    return smrt_uri_encode(out, tmp->data ? tmp->data : "", tmp->len, 0);
}

/* The canonical query of q[0..n) appended to `out`; the pairs' array and the re-encoded
 * pairs live in `sc` (reused across calls). */
static int canonical_query(smrt_buf *out, smrt_sigv4_scratch *sc, const char *q, size_t n, int raw)
{
    if (q == NULL || n == 0) {
        return SMRT_OK;
    }
    size_t count = 1;
    for (const char *p = q, *end = q + n; (p = memchr(p, '&', (size_t)(end - p))) != NULL; p++) {
        count++;
    }
    smrt_buf_clear(&sc->pairs);
    smrt_buf_clear(&sc->enc);
    if (count > ((size_t)-1) / 4 / sizeof(qpair) || smrt_buf_reserve(&sc->pairs, count * sizeof(qpair)) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    qpair *pairs = (qpair *)(void *)sc->pairs.data; /* malloc'd: aligned for any type */
    smrt_buf *enc = &sc->enc;
    /* Encoded pairs live in `enc`; take their base pointer only after it stops growing. */
    size_t np = 0, i = 0;
    while (i <= n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t j = amp ? (size_t)(amp - q) : n;
        const char *pair = q + i;
        size_t plen = j - i;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        const char *v = eq ? eq + 1 : pair + plen;
        size_t vlen = eq ? plen - klen - 1 : 0;
        if (raw) {
            pairs[np].base = q;
            pairs[np].key_off = (size_t)(pair - q);
            pairs[np].key_len = klen;
            pairs[np].val_off = (size_t)(v - q);
            pairs[np].val_len = vlen;
            np++;
        } else if (plen > 0) {
            pairs[np].key_off = enc->len;
            if (reencode(enc, &sc->tmp, pair, klen) != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            pairs[np].key_len = enc->len - pairs[np].key_off;
            pairs[np].val_off = enc->len;
            if (reencode(enc, &sc->tmp, v, vlen) != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            pairs[np].val_len = enc->len - pairs[np].val_off;
            np++;
        }
        i = j + 1;
    }
    if (!raw) {
        for (size_t k = 0; k < np; k++) {
            pairs[k].base = enc->data ? enc->data : "";
        }
    }
    if (np <= 16) { /* the usual few pairs: an insertion sort, without qsort's indirection */
        for (size_t x = 1; x < np; x++) {
            qpair t = pairs[x];
            size_t y = x;
            while (y > 0 && qpair_cmp(&pairs[y - 1], &t) > 0) {
                pairs[y] = pairs[y - 1];
                y--;
            }
            pairs[y] = t;
        }
    } else {
        qsort(pairs, np, sizeof(*pairs), qpair_cmp);
    }
    for (size_t k = 0; k < np; k++) {
        if ((k && smrt_buf_append_char(out, '&') != SMRT_OK) ||
            smrt_buf_append(out, pairs[k].base + pairs[k].key_off, pairs[k].key_len) != SMRT_OK ||
            smrt_buf_append_char(out, '=') != SMRT_OK ||
            smrt_buf_append(out, pairs[k].base + pairs[k].val_off, pairs[k].val_len) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    }
    return SMRT_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static int name_cmp_ci(const smrt_header *a, const smrt_header *b)
{
    size_t m = a->name_len < b->name_len ? a->name_len : b->name_len;
    for (size_t i = 0; i < m; i++) {
        unsigned char x = (unsigned char)lower(a->name[i]), y = (unsigned char)lower(b->name[i]);
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static int append_lower(smrt_buf *out, const char *s, size_t n)
{
    if (smrt_buf_reserve(out, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    char *w = out->data + out->len; /* a local pointer: no reload of out-> per byte */
    for (size_t i = 0; i < n; i++) {
        w[i] = lower(s[i]);
    }
    out->len += n;
    out->data[out->len] = '\0';
    return SMRT_OK;
}

/* Trim, and collapse each inner whitespace run to one space (botocore: ' '.join(v.split())). */
static int append_trimmed(smrt_buf *out, const char *s, size_t n)
{
    if (smrt_buf_reserve(out, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    char *w = out->data + out->len, *const start = w;
    int pending_space = 0, any = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i])) {
            pending_space = any;
            continue;
        }
        if (pending_space) {
            *w++ = ' ';
            pending_space = 0;
        }
        *w++ = s[i];
        any = 1;
    }
    out->len += (size_t)(w - start);
    out->data[out->len] = '\0';
    return SMRT_OK;
}

/* Order the headers by lower-cased name (stable: same-named headers keep their order) into
 * order[0..n), and write the ';'-joined lower-case names, each once, to `signed_headers`
 * (cleared first). */
static int sort_headers(const smrt_header *h, size_t n, size_t *order, smrt_buf *signed_headers)
{
    smrt_buf_clear(signed_headers);
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && name_cmp_ci(&h[order[j - 1]], &h[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < n; i++) {
        const smrt_header *x = &h[order[i]];
        if (i > 0 && name_cmp_ci(&h[order[i - 1]], x) == 0) {
            continue;
        }
        if ((signed_headers->len && smrt_buf_append_char(signed_headers, ';') != SMRT_OK) ||
            append_lower(signed_headers, x->name, x->name_len) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    }
    return SMRT_OK;
}

/* Write the canonical request into `out` (cleared first), the headers in `order` and their
 * names already in `signed_headers` (sort_headers). */
static int write_canonical(smrt_buf *out, smrt_sigv4_scratch *sc, const smrt_sign_input *in, const size_t *order,
                           const smrt_buf *signed_headers)
{
    smrt_buf_clear(out);
    if (smrt_buf_append_str(out, in->method) != SMRT_OK || smrt_buf_append_char(out, '\n') != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    /* Path */
    const char *p = in->path;
    size_t pn = in->path_len;
    if (in->flags & SMRT_SIGN_NORMALIZE_PATH) {
        smrt_buf_clear(&sc->path);
        if (normalize_path(&sc->path, p, pn) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
        p = sc->path.data;
        pn = sc->path.len;
    } else if (pn == 0) {
        p = "/";
        pn = 1;
    }
    if (in->flags & SMRT_SIGN_ENCODE_PATH) {
        if (smrt_uri_encode(out, p, pn, 1) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    } else if (smrt_buf_append(out, p, pn) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    if (smrt_buf_append_char(out, '\n') != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    /* Query */
    if (canonical_query(out, sc, in->query, in->query_len, in->flags & SMRT_SIGN_RAW_QUERY) != SMRT_OK ||
        smrt_buf_append_char(out, '\n') != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    /* Headers, same names joined with ','. */
    for (size_t i = 0; i < in->n_headers; i++) {
        const smrt_header *h = &in->headers[order[i]];
        if (i > 0 && name_cmp_ci(&in->headers[order[i - 1]], h) == 0) {
            out->len--; /* drop the '\n' of the previous line */
            if (smrt_buf_append_char(out, ',') != SMRT_OK) {
                return SMRT_ENOMEM;
            }
        } else if (append_lower(out, h->name, h->name_len) != SMRT_OK || smrt_buf_append_char(out, ':') != SMRT_OK) {
            return SMRT_ENOMEM;
        }
        if (append_trimmed(out, h->value, h->value_len) != SMRT_OK || smrt_buf_append_char(out, '\n') != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    }
    if (smrt_buf_append_char(out, '\n') != SMRT_OK ||
        smrt_buf_append(out, signed_headers->data ? signed_headers->data : "", signed_headers->len) != SMRT_OK ||
        smrt_buf_append_char(out, '\n') != SMRT_OK || smrt_buf_append_str(out, in->payload_hash) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    return SMRT_OK;
}

static void scratch_destroy(smrt_sigv4_scratch *sc)
{
    smrt_buf_destroy(&sc->path);
    smrt_buf_destroy(&sc->enc);
    smrt_buf_destroy(&sc->tmp);
    smrt_buf_destroy(&sc->pairs);
}

int smrt_sigv4_canonical_request(const smrt_sign_input *in, smrt_buf *out, smrt_buf *signed_headers)
{
    size_t order[SMRT_MAX_SIGNED_HEADERS];
    if (in->n_headers > SMRT_MAX_SIGNED_HEADERS) {
        return SMRT_EINVAL;
    }
    smrt_sigv4_scratch sc = {0};
    int rc = sort_headers(in->headers, in->n_headers, order, signed_headers);
    if (rc == SMRT_OK) {
        rc = write_canonical(out, &sc, in, order, signed_headers);
    }
    scratch_destroy(&sc);
    return rc;
}

/* ---- the signer ------------------------------------------------------------------------------ */

int smrt_signer_init(smrt_signer *s)
{
    memset(s, 0, sizeof(*s));
    return smrt_crypto_init(&s->crypto);
}

void smrt_sigv4_key_cache_clear(smrt_sigv4_key_cache *kc)
{
    wipe(kc, sizeof(*kc)); /* valid = 0 too */
}

void smrt_signer_destroy(smrt_signer *s)
{
    smrt_sigv4_key_cache_clear(&s->keys);
    smrt_crypto_destroy(&s->crypto); /* wipes the pre-keyed signature context's key copy */
    smrt_buf_destroy(&s->canonical);
    smrt_buf_destroy(&s->sts);
    smrt_buf_destroy(&s->signed_headers);
    smrt_buf_destroy(&s->result);
    smrt_buf_destroy(&s->scope);
    scratch_destroy(&s->scratch);
    memset(s, 0, sizeof(*s));
}

/* The signing key for s->scope and `cr`: the cached one, or derived (and cached when the
 * scope fits). Returns a pointer into the cache. */
static int signing_key(smrt_signer *s, const smrt_sigv4_request *rq, size_t region_len, size_t service_len,
                       const unsigned char **key)
{
    smrt_sigv4_key_cache *kc = &s->keys;
    const smrt_sigv4_creds *cr = rq->creds;
    unsigned char digest[SMRT_SHA256_LEN];
    int rc;
    if (cr->gen == 0 && (rc = smrt_sha256(&s->crypto, cr->secret_key, cr->secret_key_len, digest)) != SMRT_OK) {
        return rc;
    }
    if (kc->valid && kc->scope_len == s->scope.len && memcmp(kc->scope, s->scope.data, s->scope.len) == 0 &&
        kc->gen == cr->gen && (cr->gen != 0 || CRYPTO_memcmp(kc->secret_digest, digest, sizeof(digest)) == 0)) {
        *key = kc->key;
        return SMRT_OK;
    }
    smrt_sigv4_key_cache_clear(kc);
    rc = derive_key(&s->crypto, cr->secret_key, cr->secret_key_len, rq->amz_date, rq->region, region_len,
                    rq->service, service_len, kc->key);
    if (rc != SMRT_OK) {
        smrt_sigv4_key_cache_clear(kc);
        return rc;
    }
    if (s->scope.len < sizeof(kc->scope)) {
        memcpy(kc->scope, s->scope.data, s->scope.len);
        kc->scope_len = s->scope.len;
        kc->gen = cr->gen;
        if (cr->gen == 0) {
            memcpy(kc->secret_digest, digest, sizeof(digest));
        }
        kc->valid = 1;
    }
    *key = kc->key;
    return SMRT_OK;
}

static int append_param(smrt_buf *q, const char *name_eq, size_t name_eq_len, const char *v, size_t vn)
{
    if (smrt_buf_append(q, name_eq, name_eq_len) != SMRT_OK || smrt_uri_encode(q, v, vn, 0) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    return SMRT_OK;
}

#define LIT(s) (s), (sizeof(s) - 1)

static int append_expires(smrt_buf *q, const smrt_sigv4_request *rq)
{
    for (size_t i = 0; i < rq->n_expires; i++) {
        if (append_param(q, LIT("&X-Amz-Expires="), rq->expires[i].data, rq->expires[i].len) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
    }
    return SMRT_OK;
}

int smrt_sigv4_sign(smrt_signer *s, const smrt_sigv4_request *rq)
{
    const smrt_sigv4_creds *cr = rq->creds;
    const int query_mode = rq->mode == SMRT_SIGV4_QUERY;
    if (rq->n_headers > SMRT_MAX_SIGNED_HEADERS || rq->amz_date == NULL ||
        strnlen(rq->amz_date, SMRT_AMZ_DATE_LEN) != SMRT_AMZ_DATE_LEN) {
        return SMRT_EINVAL;
    }
    /* The headers to sign: the caller's, and in header mode the signer's own. */
    smrt_header hs[SMRT_MAX_SIGNED_HEADERS + 3];
    smrt_sign_input in = {
        .method = rq->method,
        .path = rq->path,
        .path_len = rq->path_len,
        .query = rq->query,
        .query_len = rq->query_len,
        .headers = rq->headers,
        .n_headers = rq->n_headers,
        .payload_hash = rq->payload_hash,
        .flags = rq->flags,
    };
    s->send_token = 0;
    if (!query_mode) {
        size_t n = rq->n_headers;
        if (n) {
            memcpy(hs, rq->headers, n * sizeof(*hs));
        }
        hs[n++] = (smrt_header){"x-amz-date", 10, rq->amz_date, SMRT_AMZ_DATE_LEN};
        if (rq->flags & SMRT_SIGN_CONTENT_SHA256) {
            hs[n++] = (smrt_header){"x-amz-content-sha256", 20, rq->payload_hash, strlen(rq->payload_hash)};
        }
        s->send_token = cr->token != NULL && cr->token_len > 0; /* botocore: `if credentials.token:` */
        if (s->send_token && !(rq->flags & SMRT_SIGN_TOKEN_UNSIGNED)) {
            hs[n++] = (smrt_header){"x-amz-security-token", 20, cr->token, cr->token_len};
        }
        in.headers = hs;
        in.n_headers = n;
    }
    size_t order[SMRT_MAX_SIGNED_HEADERS + 3];
    int rc = sort_headers(in.headers, in.n_headers, order, &s->signed_headers);
    if (rc != SMRT_OK) {
        return rc;
    }
    /* The credential scope. */
    size_t region_len = strlen(rq->region), service_len = strlen(rq->service);
    smrt_buf *scope = &s->scope;
    smrt_buf_clear(scope);
    if (smrt_buf_append(scope, rq->amz_date, 8) != SMRT_OK || smrt_buf_append_char(scope, '/') != SMRT_OK ||
        smrt_buf_append(scope, rq->region, region_len) != SMRT_OK || smrt_buf_append_char(scope, '/') != SMRT_OK ||
        smrt_buf_append(scope, rq->service, service_len) != SMRT_OK ||
        smrt_buf_append(scope, LIT("/aws4_request")) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    /* Query mode: the request's query and the auth parameters (SignedHeaders known now) are
     * both what is signed and what is sent. */
    smrt_buf *r = &s->result;
    smrt_buf_clear(r);
    const int token_param = query_mode && cr->token != NULL; /* botocore: `is not None` */
    if (query_mode) {
        if (rq->query && ((rq->query_len && smrt_buf_append(r, rq->query, rq->query_len) != SMRT_OK) ||
                          smrt_buf_append_char(r, '&') != SMRT_OK)) {
            return SMRT_ENOMEM;
        }
        if (smrt_buf_append(r, LIT("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=")) != SMRT_OK ||
            smrt_uri_encode(r, cr->access_key, cr->access_key_len, 0) != SMRT_OK ||
            smrt_buf_append(r, LIT("%2F")) != SMRT_OK || smrt_uri_encode(r, scope->data, scope->len, 0) != SMRT_OK ||
            append_param(r, LIT("&X-Amz-Date="), rq->amz_date, SMRT_AMZ_DATE_LEN) != SMRT_OK ||
            append_expires(r, rq) != SMRT_OK ||
            append_param(r, LIT("&X-Amz-SignedHeaders="), s->signed_headers.data ? s->signed_headers.data : "",
                         s->signed_headers.len) != SMRT_OK ||
            (token_param && !(rq->flags & SMRT_SIGN_TOKEN_UNSIGNED) &&
             append_param(r, LIT("&X-Amz-Security-Token="), cr->token, cr->token_len) != SMRT_OK)) {
            return SMRT_ENOMEM;
        }
        in.query = r->data;
        in.query_len = r->len;
    }
    if ((rc = write_canonical(&s->canonical, &s->scratch, &in, order, &s->signed_headers)) != SMRT_OK) {
        return rc;
    }
    /* The string to sign: algorithm, date, scope, hash of the canonical request. */
    char hex[SMRT_SHA256_HEX_LEN + 1];
    if ((rc = smrt_sha256_hex(&s->crypto, s->canonical.data, s->canonical.len, hex)) != SMRT_OK) {
        return rc;
    }
    smrt_buf *sts = &s->sts;
    smrt_buf_clear(sts);
    if (smrt_buf_append(sts, LIT("AWS4-HMAC-SHA256\n")) != SMRT_OK ||
        smrt_buf_append(sts, rq->amz_date, SMRT_AMZ_DATE_LEN) != SMRT_OK || smrt_buf_append_char(sts, '\n') != SMRT_OK ||
        smrt_buf_append(sts, scope->data, scope->len) != SMRT_OK || smrt_buf_append_char(sts, '\n') != SMRT_OK ||
        smrt_buf_append(sts, hex, SMRT_SHA256_HEX_LEN) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    const unsigned char *key = NULL;
    if ((rc = signing_key(s, rq, region_len, service_len, &key)) != SMRT_OK ||
        (rc = signature(&s->crypto, key, sts->data, sts->len, s->signature)) != SMRT_OK) {
        return rc;
    }
    if (query_mode) {
        if ((token_param && (rq->flags & SMRT_SIGN_TOKEN_UNSIGNED) &&
             append_param(r, LIT("&X-Amz-Security-Token="), cr->token, cr->token_len) != SMRT_OK) ||
            smrt_buf_append(r, LIT("&X-Amz-Signature=")) != SMRT_OK ||
            smrt_buf_append(r, s->signature, SMRT_SHA256_HEX_LEN) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
        return SMRT_OK;
    }
    if (smrt_buf_append(r, LIT("AWS4-HMAC-SHA256 Credential=")) != SMRT_OK ||
        smrt_buf_append(r, cr->access_key, cr->access_key_len) != SMRT_OK || smrt_buf_append_char(r, '/') != SMRT_OK ||
        smrt_buf_append(r, scope->data, scope->len) != SMRT_OK || smrt_buf_append(r, LIT(", SignedHeaders=")) != SMRT_OK ||
        smrt_buf_append(r, s->signed_headers.data ? s->signed_headers.data : "", s->signed_headers.len) != SMRT_OK ||
        smrt_buf_append(r, LIT(", Signature=")) != SMRT_OK ||
        smrt_buf_append(r, s->signature, SMRT_SHA256_HEX_LEN) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    return SMRT_OK;
}

#undef LIT

/* The proleptic Gregorian date of a count of days since 1970-01-01 (H. Hinnant's
 * civil_from_days). Arithmetic only: gmtime_r takes glibc's time-zone lock, which a fork
 * leaves locked in the child when another thread held it at that moment. */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);                      /* [0, 146096] */
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);           /* [0, 365] */
    const unsigned mp = (5 * doy + 2) / 153;                                /* [0, 11], from March */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

void smrt_amz_date(long long unix_seconds, char out[SMRT_AMZ_DATE_LEN + 1])
{
    long long days = unix_seconds / 86400, secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    long long y;
    unsigned mon, mday;
    civil_from_days(days, &y, &mon, &mday);
    int hour = (int)(secs / 3600), min = (int)(secs / 60 % 60), sec = (int)(secs % 60);
    char *w = out;
    w[0] = (char)('0' + (y / 1000) % 10);
    w[1] = (char)('0' + (y / 100) % 10);
    w[2] = (char)('0' + (y / 10) % 10);
    w[3] = (char)('0' + y % 10);
    w[4] = (char)('0' + mon / 10);
    w[5] = (char)('0' + mon % 10);
    w[6] = (char)('0' + mday / 10);
    w[7] = (char)('0' + mday % 10);
    w[8] = 'T';
    w[9] = (char)('0' + hour / 10);
    w[10] = (char)('0' + hour % 10);
    w[11] = (char)('0' + min / 10);
    w[12] = (char)('0' + min % 10);
    w[13] = (char)('0' + sec / 10);
    w[14] = (char)('0' + sec % 10);
    w[15] = 'Z';
    w[16] = '\0';
}
