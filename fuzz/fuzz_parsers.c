/* libFuzzer harness for every parser of the C core that reads untrusted bytes:
 * response header lines, status lines, Content-Length, HTTP dates (headers.c), the HTTP/1.1
 * response parser (h1.c), the SigV4 canonicaliser's path normalisation, query parsing
 * and header folding (sigv4.c), and the signer's header and query modes against each other
 * (sigv4.c smrt_sigv4_sign: the same canonical request apart from what each mode adds),
 * and the event-stream decoder (eventstream.c: the same results however the stream is split
 * or received, every pointer inside its message, the CRC paths agreeing).
 * Built with ASan and UBSan by `make fuzz` (and briefly by the test suite). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../csrc/eventstream.h"
#include "../csrc/h1.h"
#include "../csrc/headers.h"
#include "../csrc/sigv4.h"

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void fuzz_headers(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    smrt_header_iter it;
    smrt_header_line h;
    smrt_header_iter_init(&it, s, size);
    size_t lines = 0;
    while (smrt_header_next(&it, &h)) {
        CHECK(h.value >= s && h.value + h.value_len <= s + size);
        CHECK(h.continuation || (h.name >= s && h.name + h.name_len <= s + size));
        CHECK(++lines <= size);
        double t;
        smrt_parse_http_date(h.value, h.value_len, &t);
    }
    long long cl;
    if (smrt_parse_content_length(s, size, &cl)) {
        CHECK(cl >= 0);
    }
    long st = smrt_parse_status_line(s, size);
    CHECK(st >= 0 && st <= 999);
    double t;
    smrt_parse_http_date(s, size, &t);
}

/* Split the input on NUL bytes: method-less path, query, then header name/value pairs. */
static void fuzz_canonical(const uint8_t *data, size_t size, int flags)
{
    const char *parts[2 + 2 * 8];
    size_t lens[2 + 2 * 8];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < sizeof(parts) / sizeof(parts[0]); i++) {
        if (i == size || data[i] == 0) {
            parts[n] = (const char *)data + start;
            lens[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    if (n < 2) {
        return;
    }
    smrt_header hs[8];
    size_t nh = 0;
    for (size_t k = 2; k + 1 < n && nh < 8; k += 2) {
        hs[nh++] = (smrt_header){parts[k], lens[k], parts[k + 1], lens[k + 1]};
    }
    smrt_sign_input in = {
        .method = "POST",
        .path = parts[0],
        .path_len = lens[0],
        .query = parts[1],
        .query_len = lens[1],
        .headers = hs,
        .n_headers = nh,
        .payload_hash = SMRT_EMPTY_SHA256_HEX,
        .flags = flags,
    };
    smrt_buf out = {0}, signed_headers = {0};
    int rc = smrt_sigv4_canonical_request(&in, &out, &signed_headers);
    CHECK(rc == SMRT_OK);
    CHECK(strlen(out.data) <= out.len); /* NUL-terminated within bounds */
    if (flags & SMRT_SIGN_NORMALIZE_PATH) {
        /* A normalised path never holds an empty segment. */
        const char *path = strchr(out.data, '\n') + 1;
        const char *path_end = strchr(path, '\n');
        CHECK(path[0] == '/' || path == path_end || (flags & SMRT_SIGN_ENCODE_PATH) == 0 || 1);
        for (const char *p = path; p + 1 < path_end; p++) {
            CHECK(!(p[0] == '/' && p[1] == '/'));
        }
    }
    smrt_buf enc = {0};
    CHECK(smrt_uri_encode(&enc, parts[0], lens[0], 1) == SMRT_OK);
    for (size_t i = 0; i < enc.len; i++) {
        char c = enc.data[i];
        CHECK(c > 0x20 && c < 0x7f);
    }
    smrt_buf_destroy(&enc);
    smrt_buf_destroy(&out);
    smrt_buf_destroy(&signed_headers);
}

/* ---- the signer's two modes agree (differential) ---------------------------------------- */

typedef struct span_list {
    const char *p[80];
    size_t n[80];
    size_t count;
} span_list;

/* Split s[0..n) on `sep` into `out` (at most 80 pieces; more: 0). */
static int split(const char *s, size_t n, char sep, span_list *out)
{
    out->count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == sep) {
            if (out->count == 80) {
                return 0;
            }
            out->p[out->count] = s + start;
            out->n[out->count++] = i - start;
            start = i + 1;
        }
    }
    return 1;
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static int span_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* Keep the pieces of `in` that neither start with (exact: equal) any of `drop`
 * (NULL-terminated). */
static void filter(const span_list *in, const char *const *drop, int exact, span_list *out)
{
    out->count = 0;
    for (size_t i = 0; i < in->count; i++) {
        int keep = 1;
        for (const char *const *d = drop; *d; d++) {
            keep = keep && !(exact ? span_eq(in->p[i], in->n[i], *d, strlen(*d)) : has_prefix(in->p[i], in->n[i], *d));
        }
        if (keep) {
            out->p[out->count] = in->p[i];
            out->n[out->count++] = in->n[i];
        }
    }
}

static int lists_eq(const span_list *a, const span_list *b)
{
    if (a->count != b->count) {
        return 0;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (!span_eq(a->p[i], a->n[i], b->p[i], b->n[i])) {
            return 0;
        }
    }
    return 1;
}

/* The canonical request's pieces: method, path, query, header lines, signed headers,
 * payload hash. 0 when it does not have that shape. */
typedef struct canon_parts {
    span_list lines;
    size_t first_header, n_headers; /* indexes into lines */
} canon_parts;

static int canon_split(const smrt_buf *c, canon_parts *out)
{
    if (!split(c->data, c->len, '\n', &out->lines) || out->lines.count < 6) {
        return 0;
    }
    out->first_header = 3;
    out->n_headers = out->lines.count - 6; /* method, path, query, headers..., "", signed, hash */
    return out->lines.n[out->lines.count - 3] == 0;
}

static int is_signer_header(const char *name, size_t n)
{
    static const char *const ours[] = {"x-amz-date", "x-amz-security-token", "x-amz-content-sha256", NULL};
    for (const char *const *o = ours; *o; o++) {
        if (n == strlen(*o) && strncasecmp(name, *o, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The signature a fresh derivation gives for `sts` (the signer's key cache and pre-keyed
 * context must agree with it, whatever was signed before). */
static void check_signature(const char *secret, const smrt_buf *sts, const char *sig)
{
    static smrt_crypto c;
    static int ready;
    if (!ready) {
        CHECK(smrt_crypto_init(&c) == SMRT_OK);
        ready = 1;
    }
    char seed[16];
    unsigned char k[SMRT_SHA256_LEN], md[SMRT_SHA256_LEN];
    char hex[SMRT_SHA256_HEX_LEN + 1];
    int n = snprintf(seed, sizeof(seed), "AWS4%s", secret);
    CHECK(smrt_hmac_sha256(&c, seed, (size_t)n, "20261127", 8, k) == SMRT_OK);
    CHECK(smrt_hmac_sha256(&c, k, sizeof(k), "us-east-1", 9, k) == SMRT_OK);
    CHECK(smrt_hmac_sha256(&c, k, sizeof(k), "svc", 3, k) == SMRT_OK);
    CHECK(smrt_hmac_sha256(&c, k, sizeof(k), "aws4_request", 12, k) == SMRT_OK);
    CHECK(smrt_hmac_sha256(&c, k, sizeof(k), sts->data, sts->len, md) == SMRT_OK);
    smrt_hex_encode(md, sizeof(md), hex);
    CHECK(memcmp(hex, sig, SMRT_SHA256_HEX_LEN) == 0);
}

/* Input split on NUL: path, query, token, then header name/value pairs. The same request is
 * signed in header mode and in query mode; apart from what each mode adds (x-amz-date and a
 * token in the headers; the X-Amz-* parameters in the query), the canonical requests agree
 * piece by piece, and both signatures check out against their strings to sign. */
static void fuzz_sign_modes(const uint8_t *data, size_t size, int flags)
{
    static smrt_signer signer;
    static int ready;
    if (!ready) {
        CHECK(smrt_signer_init(&signer) == SMRT_OK);
        ready = 1;
    }
    span_list parts;
    if (!split((const char *)data, size, '\0', &parts) || parts.count < 3) {
        return;
    }
    /* Lines must stay lines: no '\n' where the canonical request keeps bytes as given. */
    if (memchr(parts.p[0], '\n', parts.n[0]) || memchr(parts.p[1], '\n', parts.n[1])) {
        return;
    }
    smrt_header hs[8];
    size_t nh = 0;
    for (size_t k = 3; k + 1 < parts.count && nh < 8; k += 2) {
        const char *name = parts.p[k];
        size_t n = parts.n[k];
        if (n == 0 || memchr(name, '\n', n) || memchr(name, ':', n) || memchr(name, ';', n) ||
            is_signer_header(name, n)) {
            return;
        }
        hs[nh++] = (smrt_header){name, n, parts.p[k + 1], parts.n[k + 1]};
    }
    char token[64];
    size_t token_len = parts.n[2] < sizeof(token) ? parts.n[2] : sizeof(token) - 1;
    memcpy(token, parts.p[2], token_len);
    /* Two credential sets by generation: the key cache must follow. */
    const char *secret = size & 1 ? "secret" : "secreu";
    const smrt_sigv4_creds creds = {"AKID", 4, secret, 6, token, token_len, 1 + (size & 1)};
    const smrt_span expires = {"300", 3};
    smrt_sigv4_request rq = {
        .mode = SMRT_SIGV4_HEADERS,
        .flags = flags,
        .method = "GET",
        .path = parts.p[0],
        .path_len = parts.n[0],
        .query = parts.n[1] ? parts.p[1] : NULL,
        .query_len = parts.n[1],
        .headers = hs,
        .n_headers = nh,
        .payload_hash = SMRT_EMPTY_SHA256_HEX,
        .creds = &creds,
        .region = "us-east-1",
        .service = "svc",
        .amz_date = "20261127T101010Z",
        .expires = &expires,
        .n_expires = 1,
    };
    smrt_buf header_canon = {0}, header_sts = {0};
    CHECK(smrt_sigv4_sign(&signer, &rq) == SMRT_OK);
    CHECK(has_prefix(signer.result.data, signer.result.len, "AWS4-HMAC-SHA256 Credential=AKID/20261127/"));
    CHECK(signer.send_token == (token_len > 0));
    CHECK(smrt_buf_append(&header_canon, signer.canonical.data, signer.canonical.len) == SMRT_OK);
    CHECK(smrt_buf_append(&header_sts, signer.sts.data, signer.sts.len) == SMRT_OK);
    check_signature(secret, &signer.sts, signer.signature);

    rq.mode = SMRT_SIGV4_QUERY;
    CHECK(smrt_sigv4_sign(&signer, &rq) == SMRT_OK);
    const smrt_buf *q = &signer.result;
    CHECK(q->len > 17 + SMRT_SHA256_HEX_LEN);
    CHECK(memcmp(q->data + q->len - 17 - SMRT_SHA256_HEX_LEN, "&X-Amz-Signature=", 17) == 0);
    CHECK(memcmp(q->data + q->len - SMRT_SHA256_HEX_LEN, signer.signature, SMRT_SHA256_HEX_LEN) == 0);
    if (rq.query) {
        CHECK(q->len > rq.query_len && memcmp(q->data, rq.query, rq.query_len) == 0 && q->data[rq.query_len] == '&');
    }

    canon_parts h, k;
    CHECK(canon_split(&header_canon, &h));
    CHECK(canon_split(&signer.canonical, &k));
    span_list a, b;
    /* method and path */
    for (size_t i = 0; i < 2; i++) {
        CHECK(span_eq(h.lines.p[i], h.lines.n[i], k.lines.p[i], k.lines.n[i]));
    }
    /* query: the same pairs once the X-Amz-* ones are set aside (sorted lists stay sorted) */
    static const char *const amz_params[] = {"X-Amz-", NULL};
    span_list hq, kq;
    if (split(h.lines.p[2], h.lines.n[2], '&', &hq) && split(k.lines.p[2], k.lines.n[2], '&', &kq)) {
        if (h.lines.n[2] == 0) {
            hq.count = 0;
        }
        filter(&hq, amz_params, 0, &a);
        filter(&kq, amz_params, 0, &b);
        CHECK(lists_eq(&a, &b));
    }
    /* header lines: header mode's less x-amz-date and the token */
    static const char *const added_lines[] = {"x-amz-date:", "x-amz-security-token:", NULL};
    span_list hl = {.count = 0}, kl = {.count = 0};
    for (size_t i = 0; i < h.n_headers; i++) {
        hl.p[hl.count] = h.lines.p[h.first_header + i];
        hl.n[hl.count++] = h.lines.n[h.first_header + i];
    }
    for (size_t i = 0; i < k.n_headers; i++) {
        kl.p[kl.count] = k.lines.p[k.first_header + i];
        kl.n[kl.count++] = k.lines.n[k.first_header + i];
    }
    filter(&hl, added_lines, 0, &a);
    CHECK(lists_eq(&a, &kl));
    /* signed headers: likewise */
    size_t hs_i = h.lines.count - 2, ks_i = k.lines.count - 2;
    static const char *const added_names[] = {"x-amz-date", "x-amz-security-token", NULL};
    span_list hn, kn;
    if (split(h.lines.p[hs_i], h.lines.n[hs_i], ';', &hn) && split(k.lines.p[ks_i], k.lines.n[ks_i], ';', &kn)) {
        filter(&hn, added_names, 1, &a);
        if (k.lines.n[ks_i] == 0) {
            kn.count = 0;
        }
        CHECK(lists_eq(&a, &kn));
    }
    /* payload hash */
    CHECK(span_eq(h.lines.p[h.lines.count - 1], h.lines.n[h.lines.count - 1], k.lines.p[k.lines.count - 1],
                  k.lines.n[k.lines.count - 1]));
    /* strings to sign: same first three lines (algorithm, date, scope) */
    CHECK(split(header_sts.data, header_sts.len, '\n', &a) && split(signer.sts.data, signer.sts.len, '\n', &b));
    CHECK(a.count == 4 && b.count == 4);
    for (size_t i = 0; i < 3; i++) {
        CHECK(span_eq(a.p[i], a.n[i], b.p[i], b.n[i]));
    }
    check_signature(secret, &signer.sts, signer.signature);
    smrt_buf_destroy(&header_canon);
    smrt_buf_destroy(&header_sts);
}

/* The HTTP/1.1 response parser, fed in pieces whose sizes come from the input. */
static void fuzz_h1(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return;
    }
    size_t step = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    smrt_h1 p;
    smrt_h1_init(&p);
    smrt_buf head = {0}, body = {0};
    size_t off = 0;
    int rc = SMRT_H1_MORE;
    while (off < size && rc == SMRT_H1_MORE) {
        size_t n = size - off < step ? size - off : step;
        size_t used = 0;
        rc = smrt_h1_feed(&p, (const char *)data + off, n, &head, &body, &used);
        CHECK(used <= n);
        CHECK(rc == SMRT_H1_MORE ? used == n : 1);
        off += used;
        if (rc == SMRT_H1_DONE) {
            break;
        }
    }
    if (rc == SMRT_H1_MORE) {
        rc = smrt_h1_eof(&p);
    }
    if (p.headers_done) {
        CHECK(p.status >= 100 && p.status <= 999);
    }
    if (rc == SMRT_H1_DONE && p.content_length >= 0 && !p.chunked) {
        CHECK((long long)body.len == p.content_length);
    }
    CHECK(head.data == NULL || strlen(head.data) <= head.len);
    smrt_buf_destroy(&head);
    smrt_buf_destroy(&body);
}


/* ---- the event-stream decoder ------------------------------------------------------------- */

static void log_bytes(smrt_buf *log, const void *p, size_t n)
{
    CHECK(smrt_buf_append(log, &n, sizeof(n)) == SMRT_OK);
    CHECK(smrt_buf_append(log, p, n) == SMRT_OK);
}

static void log_u64(smrt_buf *log, uint64_t v)
{
    CHECK(smrt_buf_append(log, &v, sizeof(v)) == SMRT_OK);
}

/* [p, p + n) inside [lo, hi). */
static int inside(const void *p, size_t n, const unsigned char *lo, const unsigned char *hi)
{
    const unsigned char *c = p;
    return n == 0 || (c >= lo && c <= hi && n <= (size_t)(hi - c));
}

/* What smrt_es_next said, as bytes to compare (no pointers); and the pointers checked against
 * the frame the message was decoded from. */
static void es_record(smrt_buf *log, const smrt_es_decoder *d, int rc, const smrt_es_message *m)
{
    if (rc == SMRT_ES_MORE) {
        return; /* (how often depends on how the bytes came) */
    }
    log_u64(log, (uint64_t)(int64_t)rc);
    log_u64(log, m->total_length);
    log_u64(log, m->headers_length);
    log_u64(log, m->prelude_crc);
    log_u64(log, m->message_crc);
    log_u64(log, m->expected);
    log_u64(log, m->calculated);
    log_u64(log, (uint64_t)m->length);
    log_u64(log, (uint64_t)(int64_t)m->bad_type);
    log_u64(log, m->need);
    /* Where the frame is: the caller's bytes (a message from them) or the buffer. */
    const unsigned char *f = rc == SMRT_ES_MESSAGE && d->last_in ? d->last_in
                             : rc == SMRT_ES_MESSAGE               ? d->buf + d->last_start
                                                                   : d->buf + d->start;
    size_t total = m->total_length;
    const unsigned char *lo = f + SMRT_ES_PRELUDE_LEN, *hi = f + total;
    if (rc == SMRT_ES_MESSAGE || rc == SMRT_ES_E_REJECTED) {
        CHECK(total >= 4);
        CHECK(inside(m->payload, m->payload_len, f, f + total - 4));
        CHECK(m->payload_len == 0 || m->payload == lo + m->headers_length);
        CHECK(smrt_es_crc32_portable(0, f, total - 4) == m->message_crc || total < SMRT_ES_PRELUDE_LEN + 4);
        log_bytes(log, m->payload, m->payload_len);
    }
    if (rc == SMRT_ES_MESSAGE || rc == SMRT_ES_E_REJECTED || rc == SMRT_ES_E_DUPLICATE_HEADER ||
        rc == SMRT_ES_E_MALFORMED_HEADER) {
        CHECK(m->n_headers <= m->headers_length / 2);
        for (size_t i = 0; i < m->n_headers; i++) {
            const smrt_es_header *h = &m->headers[i];
            CHECK(h->type >= SMRT_ES_TRUE && h->type <= SMRT_ES_UUID);
            CHECK(inside(h->name, h->name_len, lo, hi) && h->name_len <= 255);
            CHECK(inside(h->value, h->value_len, lo, hi));
            CHECK(h->type != SMRT_ES_UUID || h->value_len <= 16);
            CHECK(h->value_len == 0 || h->type == SMRT_ES_BYTES || h->type == SMRT_ES_STRING || h->type == SMRT_ES_UUID);
            log_bytes(log, h->name, h->name_len);
            log_u64(log, (uint64_t)h->type);
            log_u64(log, (uint64_t)h->num);
            log_bytes(log, h->value, h->value_len);
        }
    }
    if (rc == SMRT_ES_E_DUPLICATE_HEADER) {
        CHECK(m->n_headers >= 2);
    }
    if (rc == SMRT_ES_E_MALFORMED_HEADER) {
        CHECK(inside(m->bad_name, m->bad_name_len, lo, hi));
        CHECK((m->bad_type > SMRT_ES_UUID && m->bad_type < 256 && m->need == 0) ||
              (m->bad_type == -1 && (m->need == 1 || m->need == 2 || m->need == 4 || m->need == 8)));
        log_bytes(log, m->bad_name, m->bad_name_len);
    }
}

/* smrt_es_next until it stops giving messages; each message is also put back once and must
 * come again the same (when `unread`). Returns the last status. */
static int es_drain(smrt_es_decoder *d, smrt_buf *log, int unread)
{
    for (size_t guard = 0;; guard++) {
        CHECK(guard < 1u << 24);
        smrt_es_message m;
        int rc = smrt_es_next(d, &m);
        CHECK(rc == SMRT_ES_MORE || rc == SMRT_ES_MESSAGE || (rc <= SMRT_ES_E_PRELUDE_CRC && rc >= SMRT_ES_E_SHORT_MESSAGE));
        es_record(log, d, rc, &m);
        if (rc == SMRT_ES_MESSAGE && unread) {
            smrt_buf a = {0}, b = {0};
            es_record(&a, d, rc, &m);
            CHECK(smrt_es_unread(d, 0) == SMRT_OK);
            CHECK(smrt_es_unread(d, 0) == SMRT_EINVAL);
            CHECK(smrt_es_next(d, &m) == SMRT_ES_MESSAGE);
            es_record(&b, d, rc, &m);
            CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
            smrt_buf_destroy(&a);
            smrt_buf_destroy(&b);
        }
        if (rc != SMRT_ES_MESSAGE) {
            /* An error is final: the same again, whatever is fed after it. */
            if (rc != SMRT_ES_MORE) {
                smrt_buf a = {0}, b = {0};
                es_record(&a, d, rc, &m);
                CHECK(smrt_es_feed(d, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == SMRT_OK);
                CHECK(smrt_es_next(d, &m) == rc);
                es_record(&b, d, rc, &m);
                CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
                smrt_buf_destroy(&a);
                smrt_buf_destroy(&b);
            }
            return rc;
        }
    }
}

/* Frames walked as botocore walks them, with both CRCs made right (so that the fuzzer reaches
 * the checks behind them). */
static void es_fix_crcs(unsigned char *p, size_t n)
{
    size_t off = 0;
    while (off + SMRT_ES_PRELUDE_LEN <= n) {
        uint32_t c = smrt_es_crc32(0, p + off, 8);
        unsigned char crc[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16), (unsigned char)(c >> 8), (unsigned char)c};
        memcpy(p + off + 8, crc, 4);
        size_t total = (size_t)p[off] << 24 | (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        if (total < 4) {
            break;
        }
        if (total >= 16 && total <= n - off) {
            c = smrt_es_crc32(0, p + off, total - 4);
            unsigned char mc[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16), (unsigned char)(c >> 8), (unsigned char)c};
            memcpy(p + off + total - 4, mc, 4);
        }
        off += total;
    }
}

/* Input: a seed byte (where to split, how to step), then the stream. Decoded whole, in two
 * pieces (each freed once drained: the decoder must not keep reading it), and received in
 * place in small steps: the same record each way. */
static void fuzz_eventstream(const uint8_t *data, size_t size, int fix_crcs)
{
    if (size < 1) {
        return;
    }
    unsigned seed = data[0];
    data++;
    size--;
    unsigned char *in = malloc(size ? size : 1);
    CHECK(in != NULL);
    if (size) {
        memcpy(in, data, size);
    }
    if (fix_crcs) {
        es_fix_crcs(in, size);
    }
    /* The CRC paths agree, at any length and alignment. */
    for (size_t off = 0; off < 16 && off <= size; off += 5) {
        CHECK(smrt_es_crc32(seed, in + off, size - off) == smrt_es_crc32_portable(seed, in + off, size - off));
    }

    smrt_buf whole = {0}, pieces = {0}, inplace = {0};
    smrt_es_decoder d;
    smrt_es_init(&d);
    CHECK(smrt_es_feed(&d, in, size) == SMRT_OK);
    if (es_drain(&d, &whole, seed & 1) == SMRT_ES_MORE) {
        log_u64(&whole, smrt_es_pending(&d));
    }
    smrt_es_destroy(&d);

    size_t cut = size * seed / 255;
    int rc = SMRT_ES_MORE;
    smrt_es_init(&d);
    for (int k = 0; k < 2 && rc == SMRT_ES_MORE; k++) {
        size_t n = k == 0 ? cut : size - cut;
        unsigned char *piece = malloc(n ? n : 1);
        CHECK(piece != NULL);
        memcpy(piece, in + (k == 0 ? 0 : cut), n);
        CHECK(smrt_es_feed(&d, piece, n) == SMRT_OK);
        rc = es_drain(&d, &pieces, 0);
        free(piece); /* drained: the decoder holds what it still needs */
    }
    if (rc == SMRT_ES_MORE) {
        log_u64(&pieces, smrt_es_pending(&d));
    }
    smrt_es_destroy(&d);
    CHECK(pieces.len == whole.len && memcmp(pieces.data, whole.data, whole.len) == 0);

    smrt_es_init(&d);
    size_t step = seed % 13 + 1, off = 0;
    rc = es_drain(&d, &inplace, 0);
    while (off < size && rc == SMRT_ES_MORE) {
        size_t room = 0, n = size - off < step ? size - off : step;
        unsigned char *w = smrt_es_prepare(&d, n, &room);
        CHECK(w != NULL && room >= n);
        memcpy(w, in + off, n);
        smrt_es_commit(&d, n);
        off += n;
        rc = es_drain(&d, &inplace, seed & 2);
    }
    if (rc == SMRT_ES_MORE) {
        log_u64(&inplace, smrt_es_pending(&d));
    }
    smrt_es_destroy(&d);
    CHECK(inplace.len == whole.len && memcmp(inplace.data, whole.data, whole.len) == 0);

    /* The first message put back for good: an error that gives it again, whatever comes. */
    smrt_es_init(&d);
    if (seed & 4) {
        size_t room = 0;
        unsigned char *w = smrt_es_prepare(&d, size, &room);
        CHECK(w != NULL && room >= size);
        memcpy(w, in, size);
        smrt_es_commit(&d, size);
    } else {
        CHECK(smrt_es_feed(&d, in, size) == SMRT_OK);
    }
    smrt_es_message m;
    if (smrt_es_next(&d, &m) == SMRT_ES_MESSAGE) {
        smrt_buf a = {0}, b = {0}, c = {0};
        es_record(&a, &d, SMRT_ES_MESSAGE, &m);
        CHECK(smrt_es_unread(&d, 1) == SMRT_OK);
        CHECK(smrt_es_next(&d, &m) == SMRT_ES_E_REJECTED);
        es_record(&b, &d, SMRT_ES_E_REJECTED, &m);
        CHECK(smrt_es_feed(&d, in, size) == SMRT_OK);
        CHECK(smrt_es_pending(&d) == (m.total_length > 12 ? m.total_length : 12));
        CHECK(smrt_es_next(&d, &m) == SMRT_ES_E_REJECTED);
        es_record(&c, &d, SMRT_ES_E_REJECTED, &m);
        /* (the records differ in their first word only: the status) */
        CHECK(a.len == b.len && memcmp(a.data + 8, b.data + 8, a.len - 8) == 0);
        CHECK(b.len == c.len && memcmp(b.data, c.data, b.len) == 0);
        smrt_buf_destroy(&a);
        smrt_buf_destroy(&b);
        smrt_buf_destroy(&c);
    }
    smrt_es_destroy(&d);
    smrt_buf_destroy(&whole);
    smrt_buf_destroy(&pieces);
    smrt_buf_destroy(&inplace);
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if ((data[0] & 0xc0) == 0xc0) { /* the event-stream decoder; the low bit: CRCs made right */
        fuzz_eventstream(data + 1, size - 1, data[0] & 1);
        return 0;
    }
    if (data[0] & 0x80) { /* the signer's modes: the low bits pick the flags */
        static const int flags[] = {
            SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH | SMRT_SIGN_RAW_QUERY,
            SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH,
            SMRT_SIGN_ENCODE_PATH,
            0,
        };
        fuzz_sign_modes(data + 1, size - 1, flags[data[0] & 3]);
        return 0;
    }
    switch (data[0] & 7) {
    case 0:
        fuzz_headers(data + 1, size - 1);
        break;
    case 4:
    case 5:
    case 6:
    case 7:
        fuzz_h1(data + 1, size - 1);
        break;
    case 1:
        fuzz_canonical(data + 1, size - 1, SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH | SMRT_SIGN_RAW_QUERY);
        break;
    case 2:
        fuzz_canonical(data + 1, size - 1, SMRT_SIGN_NORMALIZE_PATH | SMRT_SIGN_ENCODE_PATH);
        break;
    case 3:
        fuzz_canonical(data + 1, size - 1, 0);
        break;
    }
    return 0;
}
