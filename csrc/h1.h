/* An HTTP/1.1 response parser, incremental, with http.client's rules and limits (what
 * botocore reads responses with): a status line "HTTP/1.x NNN reason", at most 100 header
 * fields of at most 65536 bytes a line, then a body framed by chunked transfer coding, by
 * Content-Length, or by the end of the connection.
 *
 * No Python.h; no GIL. Takes untrusted input of any length and content (fuzzed: fuzz/). */
#ifndef SMRT_H1_H
#define SMRT_H1_H

#include <stddef.h>

#include "buf.h"

#define SMRT_H1_MAX_LINE 65536
#define SMRT_H1_MAX_HEADERS 100

enum {
    SMRT_H1_MORE = 0,     /* feed more bytes */
    SMRT_H1_DONE = 1,     /* the response is complete */
    SMRT_H1_BAD = -10,    /* not an HTTP/1.x response (http.client: BadStatusLine and kin) */
    SMRT_H1_TOO_LONG = -11 /* a header line over 64 KiB or more than 100 fields */
};

typedef struct smrt_h1 {
    int state;
    long status;
    int http10;
    int chunked;
    int conn_close;          /* the server will close: do not reuse the connection */
    long long content_length; /* -1 when absent */
    long long remaining;     /* of the body (Content-Length) or of the current chunk */
    size_t line_start;       /* where the line being read starts, in the head buffer */
    int fields;
    int headers_done;        /* the final (non-1xx) response's header block is complete */
    int cl_conflict;         /* Content-Length values that differ: urllib3 refuses the response */
} smrt_h1;

/* The values of every `name` header (case-insensitive) in `head`, joined by ", " as urllib3's
 * HTTPHeaderDict joins them, into out (NUL-terminated, truncated to cap). */
void smrt_h1_joined_header(const smrt_buf *head, const char *name, char *out, size_t cap);

/* Start a new response. */
void smrt_h1_init(smrt_h1 *p);

/* Feed `n` bytes. Header lines of the final response go to `head` (status line first,
 * CRLF kept, the blank line included: what libcurl's header callback would have seen),
 * body bytes to `body`. `*used` is set to the bytes consumed (a complete response may be
 * followed by bytes that belong to nothing). Returns SMRT_H1_MORE, SMRT_H1_DONE, an error
 * (negative), or SMRT_ENOMEM. */
int smrt_h1_feed(smrt_h1 *p, const char *data, size_t n, smrt_buf *head, smrt_buf *body, size_t *used);

/* The connection ended (recv returned 0). Returns SMRT_H1_DONE when that completes the
 * response (a body read to the end of the connection), else SMRT_H1_MORE (cut short). */
int smrt_h1_eof(smrt_h1 *p);

#endif
