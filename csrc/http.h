/* HTTP transport over libcurl: a pool of easy handles with keep-alive connections.
 *
 * No Python.h. None of these functions needs the GIL or sets a Python exception; call
 * them with the GIL released. A smrt_conn is used by one thread at a time: borrow it from
 * the pool, perform, read the response out of it, return it.
 *
 * Fork: a child process never uses, nor cleanly closes, connections inherited from its
 * parent (a TLS close_notify or a read on a shared socket would corrupt the parent's
 * stream). An atfork handler drops (leaks) every idle handle in the child and resets the
 * pool locks; handles borrowed at fork time belonged to threads that do not exist there. */
#ifndef SMRT_HTTP_H
#define SMRT_HTTP_H

#include <stdint.h>

#include "dyn.h"

#include "buf.h"
#include "sigv4.h"
#include "tls.h"

/* Transport settings, copied into the pool at creation (the pool owns its copies). */
typedef struct smrt_http_config {
    long connect_timeout_ms; /* 0: libcurl's default */
    long read_timeout_ms;    /* no byte moved for this long aborts the transfer; 0: none */
    int tcp_keepalive;
    int verify;            /* verify the peer certificate and host name */
    const char *ca_bundle; /* CA file or directory; NULL: libcurl's default store */
    const char *proxy;     /* proxy URL; NULL: no proxy (the environment is not consulted) */
    const char *proxy_ca_bundle; /* NULL: libcurl's default store */
    int proxy_verify;            /* verify an https proxy's certificate and name */
    const char *proxy_client_cert; /* for an https proxy: PEM certificate (and key) */
    const char *proxy_client_key;
    /* An https proxy to which requests for https URLs are sent in absolute form over TLS
     * (urllib3's use_forwarding_for_https): no CONNECT tunnel. `proxy` is then NULL,
     * `proxy_forwarding` the proxy's scheme://host:port, and the TLS settings (verify,
     * ca_bundle, client_cert) are those of the connection to the proxy. */
    const char *proxy_forwarding;
    const char *proxy_authorization; /* its Proxy-Authorization value, or NULL (a secret) */
    const char *client_cert; /* PEM certificate (and key, if client_key is NULL) */
    const char *client_key;
    size_t max_idle; /* idle handles kept for reuse (max_pool_connections) */
} smrt_http_config;

/* How a transfer ended, in the terms botocore's exceptions use. */
typedef enum smrt_xfer_kind {
    SMRT_XFER_OK = 0,          /* a complete HTTP response (any status) */
    SMRT_XFER_CONNECT_ERROR,   /* refused, unreachable, unresolvable: EndpointConnectionError */
    SMRT_XFER_CONNECT_TIMEOUT, /* ConnectTimeoutError */
    SMRT_XFER_READ_TIMEOUT,    /* ReadTimeoutError */
    SMRT_XFER_CLOSED,          /* reset, empty or garbled reply: ConnectionClosedError */
    SMRT_XFER_PARTIAL,         /* the body ended before Content-Length: fails on read */
    SMRT_XFER_SSL_ERROR,       /* SSLError */
    SMRT_XFER_PROXY_ERROR,     /* ProxyConnectionError */
    SMRT_XFER_NOMEM,
    SMRT_XFER_OTHER,       /* HTTPClientError */
    SMRT_XFER_INTERRUPTED, /* the interrupt callback asked to stop: the connection is closed */
    SMRT_XFER_AGAIN,       /* non-blocking mode: the transfer waits (smrt_conn_waits), go on
                            * with smrt_conn_resume; never an outcome in blocking mode */
} smrt_xfer_kind;

/* The longest a transfer waits without asking its interrupt callback (Ctrl-C within 0.2 s:
 * a wait may run one slice past a due question). */
#define SMRT_WAIT_SLICE_MS 50

/* Asked, with whatever lock state the caller set up, at least every SMRT_WAIT_SLICE_MS while
 * a transfer waits (and whenever a wait is cut short by a signal); nonzero abandons the
 * transfer. The callback may block briefly (the binding takes the GIL to run Python's signal
 * handlers) and must not use the connection. */
typedef int (*smrt_interrupt_fn)(void *ud);

#define SMRT_MAX_REQUEST_HEADERS 32

/* Receive buffers larger than this are freed when a connection goes back to the pool. */
#define SMRT_IDLE_BUF_MAX (256 * 1024)

typedef struct smrt_pool smrt_pool;

/* A connection: an easy handle, its keep-alive connection, and the buffers of one request and
 * its response. Opaque: only http.c reads its fields; callers see what it received through
 * smrt_conn_response. */
typedef struct smrt_conn smrt_conn;

/* What the last transfer on a connection received, owned by the connection. Valid until its
 * next send or its return to the pool. */
typedef struct smrt_response {
    long status;
    int headers_done;         /* the final response's header block is complete */
    long long content_length; /* its Content-Length, or -1 */
    smrt_buf head;            /* header lines of the final response, CRLF kept */
    /* Body bytes received. The reader takes them from `body_pos` on (smrt_conn_consume); once
     * all are taken the buffer starts over, so a streamed body holds one network read. */
    smrt_buf body;
    size_t body_pos;
    unsigned long long body_seen; /* body bytes received in all, consumed ones included */
    int complete;                 /* the whole body has been received (nothing more to read) */
    smrt_buf url;                 /* the request's URL (botocore's error messages name it) */
    char errbuf[CURL_ERROR_SIZE]; /* why the transfer failed, in libcurl's (or our) words */
    /* TLS: why the last transfer's TLS set-up failed (smrt_tls_error), the X509_V_ERR_* code
     * for SMRT_TLS_VERIFY, the certificate's names for SMRT_TLS_HOSTNAME/WILDCARDS (tls.h). */
    int tls_error;
    long tls_verify_result;
    smrt_buf tls_names;
} smrt_response;

/* Create a pool. `cfg` strings are copied. Returns NULL on allocation or libcurl failure. */
smrt_pool *smrt_pool_new(const smrt_http_config *cfg);
/* Destroy the pool and its idle handles (closing their connections: call only in the
 * process that created them; a forked child's pool leaks them instead). Handles still
 * borrowed must have been returned. Safe on NULL. */
void smrt_pool_destroy(smrt_pool *pool);

/* Borrow a handle: an idle one (its connection kept alive) or a new one. Never blocks on
 * other borrowers; the pool bounds idle handles, not concurrency (as urllib3 with
 * block=False). Returns NULL when a new handle cannot be made. */
smrt_conn *smrt_pool_borrow(smrt_pool *pool);
/* Give a handle back; kept if the pool has room, destroyed otherwise. A response not read to
 * its end closes the connection (urllib3 discards such a connection too). */
void smrt_pool_return(smrt_pool *pool, smrt_conn *conn);

/* Close every idle handle (their connections too); later borrows make new ones. */
void smrt_pool_drain(smrt_pool *pool);
/* Keep at least `n` idle handles from now on (a batch at concurrency n reuses all of its
 * connections instead of closing those beyond max_pool_connections). Never lowers the bound. */
void smrt_pool_keep_idle(smrt_pool *pool, size_t n);

/* Move a response out of its connection (`src`, smrt_conn_response) into `dst`, so that the
 * connection can go back to the pool while its response is still wanted: the head and body
 * buffers are swapped (`dst`'s old ones go to the connection, to be reused), the rest copied.
 * The body kept is what was not consumed. Frees nothing; no locks. */
void smrt_response_move(smrt_response *dst, smrt_response *src);
/* Free a moved response's buffers (smrt_response_move's `dst`); it stays valid and empty. */
void smrt_response_release(smrt_response *r);

enum { SMRT_HDR_VALUE = 0, SMRT_HDR_SUPPRESS = 1, SMRT_HDR_BLANK = 2 };

/* Header list building for one request (replaces the previous request's list). */
void smrt_conn_headers_reset(smrt_conn *c);
/* Add "name: value". A NULL value sends nothing and stops libcurl adding its own default
 * for that name; an empty (or all-blank) value sends the header with an empty value. */
int smrt_conn_header_add(smrt_conn *c, const char *name, size_t name_len, const char *value, size_t value_len);

/* How much of the response smrt_conn_send waits for. */
typedef enum smrt_read_mode {
    SMRT_READ_ALL = 0,  /* the whole response */
    SMRT_READ_HEAD = 1, /* its head, and whatever body bytes came with it: the rest is read
                         * with smrt_conn_read while the connection stays borrowed */
} smrt_read_mode;

/* Send a request with the headers added since smrt_conn_headers_reset, and read the response
 * (all of it, or its head). `url` is NUL-terminated; `body` must stay valid until this
 * returns. Fills smrt_conn_response(c). Returns the outcome: after SMRT_XFER_OK the head is in
 * and r->complete says whether the body is too; any other kind closed the connection.
 * Every wait (DNS, connect, TLS handshake, send, response) asks the interrupt callback at
 * least every SMRT_WAIT_SLICE_MS; SMRT_XFER_INTERRUPTED when it said stop. */
smrt_xfer_kind smrt_conn_send(smrt_conn *c, const char *method, const char *url, size_t url_len, const void *body,
                              size_t body_len, smrt_read_mode mode);

/* smrt_conn_send(..., SMRT_READ_ALL). */
smrt_xfer_kind smrt_conn_perform(smrt_conn *c, const char *method, const char *url, size_t url_len,
                                 const void *body, size_t body_len);

/* Read more of a response whose head smrt_conn_send returned: until at least `want` bytes
 * that the reader has not consumed are buffered, or the body is complete (SIZE_MAX: to the
 * end). SMRT_XFER_OK, or how the body broke (SMRT_XFER_PARTIAL, _CLOSED, _READ_TIMEOUT,
 * _INTERRUPTED, ...: the connection is closed, r->errbuf says why, the bytes that did arrive
 * stay readable). In a forked child a connection of the parent's is never read:
 * SMRT_XFER_OTHER. */
smrt_xfer_kind smrt_conn_read(smrt_conn *c, size_t want);

/* The reader has taken `n` more body bytes (at most those buffered). */
void smrt_conn_consume(smrt_conn *c, size_t n);

/* What the connection received. Never NULL. */
smrt_response *smrt_conn_response(smrt_conn *c);

/* The connection's signer (sigv4.h): its crypto context (the body's hash too), signing-key
 * cache and buffers, for the thread that borrowed the connection, without the GIL. */
smrt_signer *smrt_conn_signer(smrt_conn *c);

/* Scratch buffers for building a request, reused across calls (index 0 or 1). */
smrt_buf *smrt_conn_scratch(smrt_conn *c, int which);

/* Set the interrupt callback for the transfers that follow (NULL: never asked). */
void smrt_conn_set_interrupt(smrt_conn *c, smrt_interrupt_fn fn, void *ud);

/* Random bits for invocation ids and backoff jitter (not for secrets). */
uint64_t smrt_conn_random(smrt_conn *c);

/* ---- non-blocking mode: many transfers on one thread (runner.h's evented runner) ----------

   With smrt_conn_set_nonblocking(c, 1), smrt_conn_send and smrt_conn_read_nb return
   SMRT_XFER_AGAIN where a blocking transfer would wait: the caller waits for what
   smrt_conn_waits names (sockets, a deadline), says what happened with smrt_conn_ready, and
   calls smrt_conn_resume, until an outcome other than SMRT_XFER_AGAIN. The read timeout is
   the caller's deadline to honour: resuming after it ends the transfer SMRT_XFER_READ_TIMEOUT.
   The interrupt callback is asked at each resume. Switch modes only between transfers. */

enum { SMRT_WATCH_IN = 1, SMRT_WATCH_OUT = 2 };
#define SMRT_MAX_WATCH 4

typedef struct smrt_watch {
    int fd;
    int events; /* SMRT_WATCH_* */
} smrt_watch;

/* Blocking (0, the default of a borrowed handle) or non-blocking (1) transfers. */
void smrt_conn_set_nonblocking(smrt_conn *c, int on);
/* What a transfer that returned SMRT_XFER_AGAIN waits for: up to SMRT_MAX_WATCH sockets into
 * `out` (the count returned), and the monotonic time (ns) by which to resume even if none is
 * ready (*deadline_ns; -1: none). */
int smrt_conn_waits(smrt_conn *c, smrt_watch *out, int cap, int64_t *deadline_ns);
/* Socket `fd` is ready for `events` (SMRT_WATCH_*, 0 with fd -1: the deadline passed). */
void smrt_conn_ready(smrt_conn *c, int fd, int events);
/* Go on with the waiting transfer: an outcome as smrt_conn_send's or smrt_conn_read's, or
 * SMRT_XFER_AGAIN again. */
smrt_xfer_kind smrt_conn_resume(smrt_conn *c);
/* smrt_conn_read for a non-blocking connection (SMRT_XFER_AGAIN: resume later). */
smrt_xfer_kind smrt_conn_read_nb(smrt_conn *c, size_t want);

/* Monotonic clock in nanoseconds. */
int64_t smrt_monotonic_ns(void);

/* One-time fork-handler setup, before any pool (libcurl itself is set up by dyn.c). */
int smrt_http_global_init(void);

#endif
