/* libFuzzer harness for every parser of the C core that reads untrusted bytes:
 * response header lines, status lines, Content-Length, HTTP dates (headers.c), the HTTP/1.1
 * response parser (h1.c), and the SigV4 canonicaliser's path normalisation, query parsing
 * and header folding (sigv4.c).
 * Built with ASan and UBSan by `make fuzz` (and briefly by the test suite). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
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
