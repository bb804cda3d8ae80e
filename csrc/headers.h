/* Parsing what an HTTP server sends back: header lines and dates. No Python.h; no GIL.
 * These take untrusted input of any length and content; they are fuzzed (fuzz/). */
#ifndef SMRT_HEADERS_H
#define SMRT_HEADERS_H

#include <stddef.h>

/* One line of a response header block. For an obsolete folded continuation line
 * (starting with a blank) `continuation` is set, `name` is empty and `value` holds the text. */
typedef struct smrt_header_line {
    const char *name;
    size_t name_len;
    const char *value; /* leading blanks skipped; trailing blanks kept, as http.client does */
    size_t value_len;
    int continuation;
} smrt_header_line;

/* Walks a header block as libcurl hands it over: the status line, then "Name: value"
 * lines ending in CRLF (or LF), up to the first empty line. */
typedef struct smrt_header_iter {
    const char *p;
    const char *end;
    int started;
} smrt_header_iter;

void smrt_header_iter_init(smrt_header_iter *it, const char *data, size_t len);
/* Next header line into *out: 1, or 0 at the end of the block. Lines without a colon
 * (which http.client would reject) are skipped. */
int smrt_header_next(smrt_header_iter *it, smrt_header_line *out);

/* The status code of a status line ("HTTP/1.1 200 OK"), or 0 if there is none. */
long smrt_parse_status_line(const char *s, size_t n);

/* If the line is a Content-Length header with a valid value, store it and return 1. */
int smrt_parse_content_length(const char *s, size_t n, long long *out);

/* An HTTP date as botocore's strptime('%a, %d %b %Y %H:%M:%S %Z') accepts it, zone GMT or
 * UTC, into UNIX seconds. Returns 0, or -1 if it does not parse. */
int smrt_parse_http_date(const char *s, size_t n, double *out);

#endif
