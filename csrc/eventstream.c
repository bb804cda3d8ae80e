/* The AWS event-stream decoder with botocore's rules (see eventstream.h), and CRC-32.
 *
 * CRC-32 is ours rather than zlib's: _core does not link zlib (libz comes into the process
 * only with libcurl, which a background thread dlopens: csrc/dyn.h), and the decoder should
 * neither wait for that load nor depend on libcurl's dependencies. Ours is also the faster:
 * folding with carry-less multiplication (PCLMULQDQ, Intel's "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction", 2009, with its bit-reflected constants for
 * CRC-32/IEEE) on x86-64 CPUs that have it, the CRC32 instructions on AArch64 CPUs that have
 * them (Graviton), slicing-by-8 tables elsewhere and for x86-64's short tails. */
#include "eventstream.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SMRT_ES_CLMUL 1
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__) && !defined(__AARCH64EB__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define SMRT_ES_ARMCRC 1
#include <sys/auxv.h>
#define SMRT_HWCAP_CRC32 (1UL << 7) /* HWCAP_CRC32 of <asm/hwcap.h> */
#endif

/* ---- CRC-32 ----------------------------------------------------------------------------- */

static uint32_t crc_table[8][256];
static int crc_have_clmul; /* x86-64: PCLMULQDQ and SSE4.1 */
static int crc_have_arm;   /* AArch64: the CRC32 instructions (ARMv8.1 makes them mandatory) */
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init_once(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++) {
        for (int i = 0; i < 256; i++) {
            uint32_t c = crc_table[t - 1][i];
            crc_table[t][i] = (c >> 8) ^ crc_table[0][c & 0xff];
        }
    }
#ifdef SMRT_ES_CLMUL
    unsigned int a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        crc_have_clmul = (c & bit_PCLMUL) && (c & bit_SSE4_1);
    }
#endif
#ifdef SMRT_ES_ARMCRC
    crc_have_arm = (getauxval(AT_HWCAP) & SMRT_HWCAP_CRC32) != 0;
#endif
    (void)crc_have_clmul;
    (void)crc_have_arm;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Slicing-by-8 over the inverted CRC state. */
static uint32_t crc_slice8(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint32_t one = le32(p) ^ crc, two = le32(p + 4);
        crc = crc_table[7][one & 0xff] ^ crc_table[6][(one >> 8) & 0xff] ^ crc_table[5][(one >> 16) & 0xff] ^
              crc_table[4][one >> 24] ^ crc_table[3][two & 0xff] ^ crc_table[2][(two >> 8) & 0xff] ^
              crc_table[1][(two >> 16) & 0xff] ^ crc_table[0][two >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) {
        crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
    }
    return crc;
}

#ifdef SMRT_ES_CLMUL
/* The inverted CRC state after n bytes (n >= 64, a multiple of 16): four 128-bit lanes folded
 * 64 bytes at a time, folded into one, then 16 bytes at a time, reduced to 64 bits and to 32
 * (Barrett). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t crc, const unsigned char *p, size_t n)
{
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 0x00));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 0x10));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 0x20));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 0x30));
    __m128i x5, x6, x7, x8;
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        x5 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
        x6 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        x7 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
        x8 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(p + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(p + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(p + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(p + 0x30)));
        p += 64;
        n -= 64;
    }
    /* Four lanes into one. */
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
    while (n >= 16) {
        x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k3k4, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, _mm_loadu_si128((const __m128i *)p)), x5);
        p += 16;
        n -= 16;
    }
    /* 128 bits to 64. */
    x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, mask32);
    x1 = _mm_clmulepi64_si128(x1, k5k0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    /* Barrett reduction to 32 bits. */
    x2 = _mm_and_si128(x1, mask32);
    x2 = _mm_clmulepi64_si128(x2, poly, 0x10);
    x2 = _mm_and_si128(x2, mask32);
    x2 = _mm_clmulepi64_si128(x2, poly, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

#ifdef SMRT_ES_ARMCRC
/* The inverted CRC state after n bytes, by CRC32X/CRC32B: the same polynomial, bit order and
 * state as zlib's tables. Inline assembly rather than <arm_acle.h>, whose intrinsics need the
 * whole file built for +crc with some compilers; .arch_extension enables just these. */
static uint32_t crc_arm(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        __asm__(".arch_extension crc\n\tcrc32x %w0, %w0, %x1" : "+r"(crc) : "r"(v));
        p += 8;
        n -= 8;
    }
    while (n--) {
        uint32_t v = *p++;
        __asm__(".arch_extension crc\n\tcrc32b %w0, %w0, %w1" : "+r"(crc) : "r"(v));
    }
    return crc;
}
#endif

uint32_t smrt_es_crc32_portable(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init_once);
    return ~crc_slice8(~crc, data, n);
}

uint32_t smrt_es_crc32(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    pthread_once(&crc_once, crc_init_once);
    crc = ~crc;
#ifdef SMRT_ES_CLMUL
    if (n >= 64 && crc_have_clmul) {
        size_t bulk = n & ~(size_t)15;
        crc = crc_clmul(crc, p, bulk);
        p += bulk;
        n -= bulk;
    }
#endif
#ifdef SMRT_ES_ARMCRC
    if (crc_have_arm) {
        return ~crc_arm(crc, p, n);
    }
#endif
    return ~crc_slice8(crc, p, n);
}

/* ---- the decoder -------------------------------------------------------------------------- */

/* Keep at most this much buffer memory between frames (a larger one was for a large frame). */
#define KEEP_BUFFER (4u * 1024 * 1024)
/* Messages with more headers than this find duplicates through a hash table. */
#define LINEAR_HEADERS 16

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

void smrt_es_init(smrt_es_decoder *d)
{
    memset(d, 0, sizeof(*d));
}

void smrt_es_destroy(smrt_es_decoder *d)
{
    free(d->buf);
    free(d->headers);
    free(d->slots);
    memset(d, 0, sizeof(*d));
}

size_t smrt_es_pending(const smrt_es_decoder *d)
{
    return d->len - d->start + d->in_len;
}

/* Room for `extra` more bytes after buf[len]: moves the undecoded bytes to the front first. */
static int reserve(smrt_es_decoder *d, size_t extra)
{
    if (d->cap - d->len >= extra) {
        return SMRT_OK;
    }
    if (d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->len - d->start);
        d->len -= d->start;
        d->start = 0;
        if (d->cap - d->len >= extra) {
            return SMRT_OK;
        }
    }
    if (extra > SIZE_MAX / 2 - d->len) {
        return SMRT_ENOMEM;
    }
    size_t need = d->len + extra, cap = d->cap * 2;
    if (cap < need) {
        cap = need;
    }
    if (cap < 256) {
        cap = 256;
    }
    unsigned char *p = realloc(d->buf, cap);
    if (p == NULL) {
        return SMRT_ENOMEM;
    }
    d->buf = p;
    d->cap = cap;
    return SMRT_OK;
}

static int append(smrt_es_decoder *d, const unsigned char *p, size_t n)
{
    if (n == 0) {
        return SMRT_OK;
    }
    if (reserve(d, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return SMRT_OK;
}

/* Between frames, give back a buffer that grew for a large one. Only at the start of a call:
 * the last message may point into it until then. */
static void trim(smrt_es_decoder *d)
{
    if (d->start == d->len && d->cap > KEEP_BUFFER) {
        free(d->buf);
        d->buf = NULL;
        d->start = d->len = d->cap = 0;
    }
}

int smrt_es_detach(smrt_es_decoder *d)
{
    d->can_unread = 0;
    if (append(d, d->in, d->in_len) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    d->in = NULL;
    d->in_len = 0;
    return SMRT_OK;
}

int smrt_es_feed(smrt_es_decoder *d, const void *data, size_t n)
{
    d->can_unread = 0;
    if (d->failed || n == 0) {
        return SMRT_OK;
    }
    trim(d);
    if (d->in_len > 0 && smrt_es_detach(d) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    d->in = data;
    d->in_len = n;
    return SMRT_OK;
}

unsigned char *smrt_es_prepare(smrt_es_decoder *d, size_t want, size_t *room)
{
    d->can_unread = 0;
    trim(d);
    if (want == 0) {
        want = 1;
    }
    if (smrt_es_detach(d) != SMRT_OK || reserve(d, want) != SMRT_OK) {
        return NULL;
    }
    *room = d->cap - d->len;
    return d->buf + d->len;
}

void smrt_es_commit(smrt_es_decoder *d, size_t n)
{
    d->can_unread = 0;
    if (!d->failed && n <= d->cap - d->len) {
        d->len += n;
    }
}

/* Move up to `want` borrowed bytes to the end of the buffer. */
static int pull(smrt_es_decoder *d, size_t want)
{
    size_t n = want < d->in_len ? want : d->in_len;
    if (n == 0) {
        return SMRT_OK;
    }
    if (append(d, d->in, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    d->in += n;
    d->in_len -= n;
    return SMRT_OK;
}

/* botocore's _parse_prelude and _validate_prelude, on 12 bytes. */
static int check_prelude(const unsigned char *p, smrt_es_message *out)
{
    out->total_length = be32(p);
    out->headers_length = be32(p + 4);
    out->prelude_crc = be32(p + 8);
    uint32_t crc = smrt_es_crc32(0, p, 8);
    if (crc != out->prelude_crc) {
        out->expected = out->prelude_crc;
        out->calculated = crc;
        return SMRT_ES_E_PRELUDE_CRC;
    }
    if (out->headers_length > SMRT_ES_MAX_HEADERS_LENGTH) {
        out->length = out->headers_length;
        return SMRT_ES_E_HEADERS_LENGTH;
    }
    int64_t payload = (int64_t)out->total_length - out->headers_length - SMRT_ES_PRELUDE_LEN - 4;
    if (payload > SMRT_ES_MAX_PAYLOAD_LENGTH) {
        out->length = payload;
        return SMRT_ES_E_PAYLOAD_LENGTH;
    }
    return SMRT_OK;
}

/* The bytes a frame needs before it can be decoded (botocore needs 12, then total_length). */
static size_t frame_need(const smrt_es_message *m)
{
    return m->total_length > SMRT_ES_PRELUDE_LEN ? m->total_length : SMRT_ES_PRELUDE_LEN;
}

static int grow_headers(smrt_es_decoder *d)
{
    size_t cap = d->headers_cap ? d->headers_cap * 2 : 16;
    smrt_es_header *h = realloc(d->headers, cap * sizeof(*h));
    if (h == NULL) {
        return SMRT_ENOMEM;
    }
    d->headers = h;
    d->headers_cap = cap;
    return SMRT_OK;
}

static uint32_t name_hash(const smrt_es_header *h)
{
    uint32_t x = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < h->name_len; i++) {
        x = (x ^ (unsigned char)h->name[i]) * 16777619u;
    }
    return x;
}

static int same_name(const smrt_es_header *a, const smrt_es_header *b)
{
    return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0;
}

/* Insert header i into the table (open addressing; slots hold index + 1). 1 when a header of
 * the same name is there already. */
static int slot_insert(smrt_es_decoder *d, size_t i)
{
    size_t mask = d->slots_size - 1;
    for (size_t s = name_hash(&d->headers[i]) & mask;; s = (s + 1) & mask) {
        if (d->slots[s] == 0) {
            d->slots[s] = (uint32_t)i + 1;
            return 0;
        }
        if (same_name(&d->headers[d->slots[s] - 1], &d->headers[i])) {
            return 1;
        }
    }
}

/* Whether header n - 1 has the name of an earlier one (botocore's `name in headers`): 1, 0 or
 * SMRT_ENOMEM. Headers 0 .. n - 2 have distinct names. */
static int is_duplicate(smrt_es_decoder *d, size_t n)
{
    const smrt_es_header *h = &d->headers[n - 1];
    if (n <= LINEAR_HEADERS) {
        for (size_t i = 0; i + 1 < n; i++) {
            if (same_name(&d->headers[i], h)) {
                return 1;
            }
        }
        return 0;
    }
    if (n == LINEAR_HEADERS + 1 || 2 * n > d->slots_size) {
        /* (Re)build the table of headers 0 .. n - 2, at most half full. */
        size_t size = 64;
        while (size < 2 * n) {
            size *= 2;
        }
        if (size > d->slots_cap) {
            uint32_t *s = realloc(d->slots, size * sizeof(*s));
            if (s == NULL) {
                return SMRT_ENOMEM;
            }
            d->slots = s;
            d->slots_cap = size;
        }
        d->slots_size = size;
        memset(d->slots, 0, size * sizeof(*d->slots));
        for (size_t i = 0; i + 1 < n; i++) {
            slot_insert(d, i);
        }
    }
    return slot_insert(d, n - 1);
}

/* botocore's EventStreamHeaderParser over the block p[0 .. n). */
static int parse_headers(smrt_es_decoder *d, const unsigned char *p, size_t n, smrt_es_message *out)
{
    const unsigned char *end = p + n;
    size_t count = 0;
    while (p < end) {
        if (count == d->headers_cap && grow_headers(d) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
        smrt_es_header *h = &d->headers[count];
        /* The name: u8 length and bytes, cut short by the block's end as a slice is. */
        size_t avail = (size_t)(end - p) - 1;
        h->name = (const char *)p + 1;
        h->name_len = p[0] < avail ? p[0] : avail;
        p += 1 + h->name_len;
        h->value = NULL;
        h->value_len = 0;
        h->num = 0;
        size_t need = 0;
        int type = -1;
        if (p == end) {
            need = 1; /* unpack('!B') of nothing */
        } else {
            type = *p++;
            avail = (size_t)(end - p);
            switch (type) {
            case SMRT_ES_TRUE:
                h->num = 1;
                break;
            case SMRT_ES_FALSE:
                break;
            case SMRT_ES_BYTE:
                if (avail < 1) {
                    need = 1;
                    break;
                }
                h->num = (int8_t)p[0];
                p += 1;
                break;
            case SMRT_ES_SHORT:
                if (avail < 2) {
                    need = 2;
                    break;
                }
                h->num = (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
                p += 2;
                break;
            case SMRT_ES_INT:
                if (avail < 4) {
                    need = 4;
                    break;
                }
                h->num = (int32_t)be32(p);
                p += 4;
                break;
            case SMRT_ES_LONG:
            case SMRT_ES_TIMESTAMP:
                if (avail < 8) {
                    need = 8;
                    break;
                }
                h->num = (int64_t)be64(p);
                p += 8;
                break;
            case SMRT_ES_BYTES:
            case SMRT_ES_STRING: {
                if (avail < 2) {
                    need = 2;
                    break;
                }
                size_t len = (size_t)p[0] << 8 | p[1];
                p += 2;
                avail -= 2;
                h->value = p;
                h->value_len = len < avail ? len : avail;
                p += h->value_len;
                break;
            }
            case SMRT_ES_UUID:
                h->value = p;
                h->value_len = avail < 16 ? avail : 16;
                p += h->value_len;
                break;
            default:
                out->n_headers = count;
                out->bad_name = h->name;
                out->bad_name_len = h->name_len;
                out->bad_type = type;
                return SMRT_ES_E_MALFORMED_HEADER;
            }
        }
        if (need) {
            out->n_headers = count;
            out->bad_name = h->name;
            out->bad_name_len = h->name_len;
            out->bad_type = -1;
            out->need = need;
            return SMRT_ES_E_MALFORMED_HEADER;
        }
        h->type = type;
        count++;
        int dup = is_duplicate(d, count);
        if (dup != 0) {
            out->n_headers = count;
            return dup == 1 ? SMRT_ES_E_DUPLICATE_HEADER : SMRT_ENOMEM;
        }
    }
    out->n_headers = count;
    return SMRT_ES_MESSAGE;
}

/* botocore's _parse_message on a frame whose prelude passed and whose frame_need bytes are at
 * f: the message CRC, the headers, the payload. */
static int decode(smrt_es_decoder *d, const unsigned char *f, smrt_es_message *out)
{
    uint32_t total = out->total_length, hl = out->headers_length;
    if (total < 4) {
        return SMRT_ES_E_SHORT_MESSAGE;
    }
    /* The CRC of bytes 8 .. total - 4 chained from the prelude CRC (the CRC of bytes 0 .. 7),
     * as botocore computes it: no bytes when total < 12. */
    size_t end = total - 4;
    out->message_crc = be32(f + end);
    uint32_t crc = end > 8 ? smrt_es_crc32(out->prelude_crc, f + 8, end - 8) : out->prelude_crc;
    if (crc != out->message_crc) {
        out->expected = out->message_crc;
        out->calculated = crc;
        return SMRT_ES_E_MESSAGE_CRC;
    }
    size_t start = SMRT_ES_PRELUDE_LEN + (size_t)hl;
    if (hl > 0 && start > total) {
        return SMRT_ES_E_HEADERS_OVERRUN;
    }
    int rc = parse_headers(d, f + SMRT_ES_PRELUDE_LEN, hl, out);
    out->headers = d->headers; /* (parse_headers may have moved them) */
    if (rc != SMRT_ES_MESSAGE) {
        return rc;
    }
    out->payload = f + (start < end ? start : end);
    out->payload_len = start < end ? end - start : 0;
    return SMRT_ES_MESSAGE;
}

/* A frame that failed stays in the buffer, from d->start, so that the next call finds the
 * same error; bytes after it are dropped. */
static int fail(smrt_es_decoder *d, int rc, const unsigned char *borrowed, size_t n)
{
    if (borrowed != NULL) {
        if (append(d, borrowed, n) != SMRT_OK) {
            return SMRT_ENOMEM; /* not final: the frame is still in the borrowed bytes */
        }
    }
    d->in = NULL;
    d->in_len = 0;
    d->failed = 1;
    return rc;
}

int smrt_es_next(smrt_es_decoder *d, smrt_es_message *out)
{
    memset(out, 0, sizeof(*out));
    out->bad_type = -1;
    d->can_unread = 0;
    trim(d);
    if (d->len > d->start) {
        /* A frame begun in the buffer: complete it from the borrowed bytes. */
        size_t have = d->len - d->start;
        if (have < SMRT_ES_PRELUDE_LEN) {
            if (pull(d, SMRT_ES_PRELUDE_LEN - have) != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            have = d->len - d->start;
            if (have < SMRT_ES_PRELUDE_LEN) {
                return SMRT_ES_MORE;
            }
        }
        int rc = check_prelude(d->buf + d->start, out);
        if (rc != SMRT_OK) {
            return fail(d, rc, NULL, 0);
        }
        size_t need = frame_need(out);
        if (have < need) {
            if (pull(d, need - have) != SMRT_OK) {
                return SMRT_ENOMEM;
            }
            if (d->len - d->start < need) {
                return SMRT_ES_MORE;
            }
        }
        rc = decode(d, d->buf + d->start, out);
        if (rc != SMRT_ES_MESSAGE) {
            return rc == SMRT_ENOMEM ? rc : fail(d, rc, NULL, 0);
        }
        if (d->failed) {
            return SMRT_ES_E_REJECTED; /* a message put back for good */
        }
        d->can_unread = 1;
        d->last_in = NULL;
        d->last_start = d->start;
        d->last_len = d->len;
        d->last_total = out->total_length;
        d->start += out->total_length;
        if (d->start == d->len) {
            d->start = d->len = 0; /* the bytes stay until the next call */
        }
        return SMRT_ES_MESSAGE;
    }
    /* Straight from the borrowed bytes. */
    if (d->in_len < SMRT_ES_PRELUDE_LEN) {
        return smrt_es_detach(d) == SMRT_OK ? SMRT_ES_MORE : SMRT_ENOMEM;
    }
    int rc = check_prelude(d->in, out);
    if (rc != SMRT_OK) {
        return fail(d, rc, d->in, SMRT_ES_PRELUDE_LEN);
    }
    size_t need = frame_need(out);
    if (d->in_len < need) {
        if (reserve(d, need) != SMRT_OK) {
            return SMRT_ENOMEM;
        }
        return smrt_es_detach(d) == SMRT_OK ? SMRT_ES_MORE : SMRT_ENOMEM;
    }
    rc = decode(d, d->in, out);
    if (rc != SMRT_ES_MESSAGE) {
        if (rc == SMRT_ENOMEM || fail(d, rc, d->in, need) != rc) {
            return SMRT_ENOMEM;
        }
        return smrt_es_next(d, out); /* the same error, *out pointing into the copy */
    }
    d->can_unread = 1;
    d->last_in = d->in;
    d->last_total = out->total_length;
    d->in += out->total_length;
    d->in_len -= out->total_length;
    return SMRT_ES_MESSAGE;
}

int smrt_es_unread(smrt_es_decoder *d, int final)
{
    if (!d->can_unread) {
        return SMRT_EINVAL;
    }
    /* The bytes decode needs: the prelude, and a total_length under 12 does not cover it. */
    size_t need = d->last_total > SMRT_ES_PRELUDE_LEN ? d->last_total : SMRT_ES_PRELUDE_LEN;
    if (d->last_in != NULL) {
        if (final && append(d, d->last_in, need) != SMRT_OK) {
            return SMRT_ENOMEM; /* still unread-able */
        }
        d->in_len += (size_t)(d->in - d->last_in);
        d->in = d->last_in;
    } else {
        /* Nothing was called since: the buffer still holds the bytes where they were. */
        d->start = d->last_start;
        d->len = final ? d->start + need : d->last_len;
    }
    d->can_unread = 0;
    if (final) {
        d->in = NULL;
        d->in_len = 0;
        d->failed = 1;
    }
    return SMRT_OK;
}
