/* An incremental HTTP/1.1 response parser with http.client's rules (see h1.h). */
#include "h1.h"

#include <string.h>
#include <strings.h>

#include "status.h"

enum {
    ST_STATUS,     /* reading the status line */
    ST_HEADERS,    /* reading header lines */
    ST_LENGTH,     /* a Content-Length body */
    ST_CHUNK_SIZE, /* a chunk-size line */
    ST_CHUNK_DATA, /* chunk data */
    ST_CHUNK_CRLF, /* the CRLF after chunk data */
    ST_TRAILERS,   /* trailer lines after the last chunk */
    ST_EOF_BODY,   /* a body that runs to the end of the connection */
    ST_DONE,
};

void smrt_h1_init(smrt_h1 *p)
{
    memset(p, 0, sizeof(*p));
    p->state = ST_STATUS;
    p->content_length = -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* http.client._read_status: "HTTP/1.x" version, an int status in 100..999. */
static int parse_status(smrt_h1 *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_blank(s[i])) {
        i++;
    }
    size_t v = i;
    while (i < n && !is_blank(s[i])) {
        i++;
    }
    size_t vlen = i - v;
    if (vlen < 5 || memcmp(s + v, "HTTP/", 5) != 0) {
        return SMRT_H1_BAD;
    }
    while (i < n && is_blank(s[i])) {
        i++;
    }
    /* int(): optional sign, digits (leading zeros allowed), nothing else in the token. */
    size_t d = i;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    long status = 0;
    int digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (status < 100000) {
            status = status * 10 + (s[i] - '0');
        }
        i++;
        digits++;
    }
    if (digits == 0 || (i < n && !is_blank(s[i])) || d == i) {
        return SMRT_H1_BAD;
    }
    if (neg) {
        status = -status;
    }
    if (status < 100 || status > 999) {
        return SMRT_H1_BAD;
    }
    if (vlen == 8 && (memcmp(s + v, "HTTP/1.0", 8) == 0 || memcmp(s + v, "HTTP/0.9", 8) == 0)) {
        p->http10 = 1;
    } else if (!(vlen >= 7 && memcmp(s + v, "HTTP/1.", 7) == 0)) {
        return SMRT_H1_BAD; /* UnknownProtocol, e.g. "HTTP/2" */
    }
    p->status = status;
    return SMRT_H1_MORE;
}

/* The value of header `name` (case-insensitive) among the lines of `head` from *pos on; the
 * next occurrence, *pos moved past its line. */
static const char *next_header(const smrt_buf *head, size_t *pos, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = head->data + *pos, *end = head->data + head->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t')) {
                v++;
            }
            const char *ve = le;
            while (ve > v && is_blank(ve[-1])) {
                ve--;
            }
            *len = (size_t)(ve - v);
            *pos = (size_t)((eol ? eol + 1 : end) - head->data);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    *pos = head->len;
    return NULL;
}

/* The first occurrence, as http.client's HTTPMessage.get. */
static const char *find_header(const smrt_buf *head, size_t from, const char *name, size_t *len)
{
    return next_header(head, &from, name, len);
}

static int py_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0;
}

/* Python's int() of s[0..n) (blanks, a sign, digits with single underscores between them) as
 * a canonical string into out: its length, or -1 when int() would raise ValueError. */
static int canonical_int(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (n > 0 && py_space((unsigned char)s[n - 1])) {
        n--;
    }
    while (i < n && py_space((unsigned char)s[i])) {
        i++;
    }
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == n || s[i] < '0' || s[i] > '9') {
        return -1;
    }
    out[o++] = neg ? '-' : '+';
    int leading = 1;
    for (; i < n; i++) {
        if (s[i] == '_') {
            if (i + 1 == n || s[i + 1] < '0' || s[i + 1] > '9') {
                return -1;
            }
            continue;
        }
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        if (leading && s[i] == '0') {
            continue;
        }
        leading = 0;
        if (o + 1 >= cap) {
            return -1; /* over int()'s 4300-digit limit: ValueError too */
        }
        out[o++] = s[i];
    }
    if (leading) {
        o = 0;
        out[o++] = '+';
        out[o++] = '0';
    }
    return (int)o;
}

void smrt_h1_joined_header(const smrt_buf *head, const char *name, char *out, size_t cap)
{
    size_t pos = 0, n, o = 0;
    const char *v;
    if (cap == 0) {
        return;
    }
    while ((v = next_header(head, &pos, name, &n)) != NULL) {
        if (o > 0 && o + 2 < cap) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        size_t take = n < cap - 1 - o ? n : cap - 1 - o;
        memcpy(out + o, v, take);
        o += take;
    }
    out[o] = '\0';
}

/* urllib3 2.x (HTTPResponse._init_length): the Content-Length headers' values, each split at
 * commas, that are all integers and not all equal make it raise InvalidHeader. */
static int content_length_conflict(const smrt_buf *head, size_t from)
{
    char first[4304], cur[4304];
    int first_len = -1, conflict = 0;
    size_t pos = from, n;
    const char *v;
    while ((v = next_header(head, &pos, "content-length", &n)) != NULL) {
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && v[i] != ',') {
                continue;
            }
            int len = canonical_int(v + start, i - start, first_len < 0 ? first : cur, sizeof(cur));
            if (len < 0) {
                return 0; /* ValueError: urllib3 keeps no length */
            }
            if (first_len < 0) {
                first_len = len;
            } else if (len != first_len || memcmp(first, cur, (size_t)len) != 0) {
                conflict = 1;
            }
            start = i + 1;
        }
    }
    return conflict;
}

/* The framing of the body, as http.client's begin() decides it. */
static void after_headers(smrt_h1 *p, const smrt_buf *head, size_t from)
{
    size_t n;
    const char *te = find_header(head, from, "transfer-encoding", &n);
    p->chunked = te && n == 7 && strncasecmp(te, "chunked", 7) == 0;
    const char *conn = find_header(head, from, "connection", &n);
    int has_close = 0, has_keep_alive = 0;
    for (size_t i = 0; conn && i + 5 <= n; i++) {
        has_close |= strncasecmp(conn + i, "close", 5) == 0;
    }
    for (size_t i = 0; conn && i + 10 <= n; i++) {
        has_keep_alive |= strncasecmp(conn + i, "keep-alive", 10) == 0;
    }
    p->conn_close = p->http10 ? !has_keep_alive : has_close;
    p->content_length = -1;
    p->cl_conflict = !p->chunked && content_length_conflict(head, from);
    if (!p->chunked) {
        const char *cl = find_header(head, from, "content-length", &n);
        /* int(): optional blanks and sign, digits; anything else leaves no length. */
        size_t i = 0;
        int neg = 0, digits = 0;
        long long v = 0;
        if (cl && i < n && (cl[i] == '+' || cl[i] == '-')) {
            neg = cl[i] == '-';
            i++;
        }
        int too_big = 0;
        while (cl && i < n && cl[i] >= '0' && cl[i] <= '9') {
            if (v > (0x7fffffffffffffffLL - 9) / 10) {
                too_big = 1; /* no body that size: treat the header as unusable */
            } else {
                v = v * 10 + (cl[i] - '0');
            }
            i++;
            digits++;
        }
        if (too_big) {
            digits = 0;
        }
        if (cl && digits > 0 && i == n && !neg) {
            p->content_length = v;
        }
    }
    if (p->status == 204 || p->status == 304 || (p->status >= 100 && p->status < 200)) {
        p->content_length = 0;
        p->chunked = 0;
    }
    if (!p->conn_close && !p->chunked && p->content_length < 0) {
        p->conn_close = 1;
    }
    p->headers_done = 1;
    if (p->chunked) {
        p->state = ST_CHUNK_SIZE;
    } else if (p->content_length >= 0) {
        p->remaining = p->content_length;
        p->state = p->remaining ? ST_LENGTH : ST_DONE;
    } else {
        p->state = ST_EOF_BODY;
    }
}

int smrt_h1_feed(smrt_h1 *p, const char *data, size_t n, smrt_buf *head, smrt_buf *body, size_t *used)
{
    size_t i = 0;
    int rc = SMRT_H1_MORE;
    while (i < n && p->state != ST_DONE) {
        switch (p->state) {
        case ST_STATUS:
        case ST_HEADERS:
        case ST_CHUNK_SIZE:
        case ST_CHUNK_CRLF:
        case ST_TRAILERS: {
            /* Line-oriented states: gather up to '\n' in the head buffer (chunk framing lines
             * are removed again once read). */
            const char *nl = memchr(data + i, '\n', n - i);
            size_t take = nl ? (size_t)(nl - (data + i)) + 1 : n - i;
            if (smrt_buf_append(head, data + i, take) != SMRT_OK) {
                *used = i;
                return SMRT_ENOMEM;
            }
            i += take;
            size_t line_len = head->len - p->line_start;
            if (line_len > SMRT_H1_MAX_LINE) {
                *used = i;
                return p->state == ST_CHUNK_SIZE || p->state == ST_CHUNK_CRLF ? SMRT_H1_BAD : SMRT_H1_TOO_LONG;
            }
            if (!nl) {
                break;
            }
            const char *line = head->data + p->line_start;
            if (p->state == ST_STATUS) {
                rc = parse_status(p, line, line_len);
                if (rc != SMRT_H1_MORE) {
                    *used = i;
                    return rc;
                }
                p->fields = 0;
                p->line_start = head->len;
                p->state = ST_HEADERS;
            } else if (p->state == ST_HEADERS) {
                int blank = line_len == 1 || (line_len == 2 && line[0] == '\r');
                if (++p->fields > SMRT_H1_MAX_HEADERS) { /* the blank line counts, as there */
                    *used = i;
                    return SMRT_H1_TOO_LONG;
                }
                if (!blank) {
                    p->line_start = head->len;
                    break;
                }
                if (p->status == 100) {
                    /* http.client skips a 100 Continue and reads the next response. */
                    smrt_buf_clear(head);
                    p->line_start = 0;
                    p->state = ST_STATUS;
                    break;
                }
                after_headers(p, head, 0);
                p->line_start = head->len;
            } else if (p->state == ST_CHUNK_SIZE) {
                /* hex digits, then optional ";extensions" */
                long long size = 0;
                int digits = 0;
                size_t k = 0;
                while (k < line_len && is_blank(line[k])) {
                    k++;
                }
                for (; k < line_len; k++) {
                    char ch = line[k];
                    int d = (ch >= '0' && ch <= '9') ? ch - '0'
                            : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                            : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                                       : -1;
                    if (d < 0) {
                        break;
                    }
                    if (size > 0x7ffffffffffffLL) {
                        *used = i;
                        return SMRT_H1_BAD;
                    }
                    size = size * 16 + d;
                    digits++;
                }
                while (k < line_len && is_blank(line[k])) {
                    k++;
                }
                if (digits == 0 || (k < line_len && line[k] != ';')) {
                    *used = i;
                    return SMRT_H1_BAD;
                }
                head->len = p->line_start; /* framing: not part of the header block */
                head->data[head->len] = '\0';
                p->remaining = size;
                p->state = size ? ST_CHUNK_DATA : ST_TRAILERS;
            } else if (p->state == ST_CHUNK_CRLF) {
                head->len = p->line_start;
                head->data[head->len] = '\0';
                p->state = ST_CHUNK_SIZE;
            } else { /* ST_TRAILERS */
                int blank = line_len == 1 || (line_len == 2 && line[0] == '\r');
                head->len = p->line_start;
                head->data[head->len] = '\0';
                if (blank) {
                    p->state = ST_DONE;
                }
            }
            break;
        }
        case ST_LENGTH:
        case ST_CHUNK_DATA: {
            size_t take = n - i;
            if ((long long)take > p->remaining) {
                take = (size_t)p->remaining;
            }
            if (smrt_buf_append(body, data + i, take) != SMRT_OK) {
                *used = i;
                return SMRT_ENOMEM;
            }
            i += take;
            p->remaining -= (long long)take;
            if (p->remaining == 0) {
                p->state = p->state == ST_LENGTH ? ST_DONE : ST_CHUNK_CRLF;
            }
            break;
        }
        case ST_EOF_BODY:
            if (smrt_buf_append(body, data + i, n - i) != SMRT_OK) {
                *used = i;
                return SMRT_ENOMEM;
            }
            i = n;
            break;
        default:
            break;
        }
    }
    *used = i;
    return p->state == ST_DONE ? SMRT_H1_DONE : SMRT_H1_MORE;
}

int smrt_h1_eof(smrt_h1 *p)
{
    if (p->state == ST_EOF_BODY) {
        p->state = ST_DONE;
    }
    return p->state == ST_DONE ? SMRT_H1_DONE : SMRT_H1_MORE;
}
