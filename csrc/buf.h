/* Growable byte buffer shared by the C core. No Python.h; no GIL needed.
 *
 * Ownership: a smrt_buf owns `data` (malloc'd). A zeroed struct is a valid empty
 * buffer, and smrt_buf_destroy is safe on it. The data is always NUL-terminated
 * once anything was appended (one spare byte is reserved), so it can be passed
 * to C string APIs; `len` excludes that NUL. */
#ifndef SMRT_BUF_H
#define SMRT_BUF_H

#include <stdlib.h>
#include <string.h>

#include "status.h"

typedef struct smrt_buf {
    char *data;
    size_t len;
    size_t cap;
} smrt_buf;

/* Make room for `extra` more bytes plus the NUL. Returns SMRT_OK or SMRT_ENOMEM
 * (the buffer is unchanged on failure). */
static inline int smrt_buf_reserve(smrt_buf *b, size_t extra)
{
    if (extra > ((size_t)-1) / 2 - b->len) {
        return SMRT_ENOMEM;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return SMRT_OK;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        return SMRT_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return SMRT_OK;
}

static inline int smrt_buf_append(smrt_buf *b, const void *p, size_t n)
{
    if (smrt_buf_reserve(b, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return SMRT_OK;
}

static inline int smrt_buf_append_str(smrt_buf *b, const char *s)
{
    return smrt_buf_append(b, s, strlen(s));
}

static inline int smrt_buf_append_char(smrt_buf *b, char c)
{
    return smrt_buf_append(b, &c, 1);
}

/* Empty the buffer but keep its memory for reuse. */
static inline void smrt_buf_clear(smrt_buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

static inline void smrt_buf_destroy(smrt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

#endif
