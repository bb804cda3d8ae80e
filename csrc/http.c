/* HTTP transport over libcurl (see http.h). */
#define _GNU_SOURCE
#include "http.h"

#include <poll.h>

#include "h1.h"
#include "headers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct smrt_conn {
    smrt_response r; /* first: what the caller reads */
    CURL *curl; /* NULL between connections in direct mode */
    const smrt_http_config *cfg; /* the pool's */
    CURLM *multi; /* drives the transfer so the read timeout is exact */
    int have_proxy;
    smrt_signer signer; /* smrt_conn_signer */
    /* Request scratch, reused across calls. */
    smrt_buf fwd_url; /* proxy_forwarding: the proxy's origin and the request's path */
    smrt_buf hdr_buf; /* "Name: value" lines, NUL-separated */
    size_t hdr_offsets[SMRT_MAX_REQUEST_HEADERS];
    unsigned char hdr_kind[SMRT_MAX_REQUEST_HEADERS]; /* SMRT_HDR_* */
    size_t n_hdr;
    /* Direct mode (no proxy): libcurl connects (TCP, TLS) and we frame HTTP/1.1 ourselves:
     * libcurl formats every header byte through its printf engine, costing more per call
     * than all the rest of our work. */
    int direct;
    int connected;
    curl_socket_t sock;
    smrt_buf origin; /* scheme://host[:port] of the open connection */
    smrt_buf req;    /* the request head (and a small body) as sent */
    struct curl_slist slist[SMRT_MAX_REQUEST_HEADERS];
    smrt_buf scratch[2]; /* smrt_conn_scratch */
    /* The response being read. */
    int reading;       /* a response is open: its head returned, its body not all read */
    smrt_h1 h1;        /* direct mode: the parser's state */
    size_t received;   /* direct mode: bytes received for this response */
    int reused;        /* direct mode: the request went on a kept-alive connection */
    int upload_cut;    /* direct mode: the server answered before the upload ended */
    int have_early;    /* direct mode: `early` is the answer's first byte, read while sending */
    char early;
    int in_multi;      /* proxy mode: the transfer is still in c->multi */
    smrt_read_mode read_mode;
    curl_off_t upload_len, uploaded; /* proxy mode: the request body, and how much went */
    long header_status; /* proxy mode: status line of the response whose headers are read */
    /* Read-timeout tracking (progress callback). */
    long read_timeout_ms;
    curl_off_t last_bytes;
    int64_t last_progress_ns;
    int read_timed_out;
    int resend_refused; /* libcurl wanted to re-send the request on a new connection */
    smrt_interrupt_fn interrupt; /* NULL: never asked */
    void *interrupt_ud;
    int interrupted;             /* the callback said stop */
    int64_t asked_ns;            /* when the callback was last asked */
    int sock_timeo_ms;           /* SO_RCVTIMEO/SO_SNDTIMEO of the (blocking) direct socket */
    int connect_failed;          /* direct mode: the connect could not start */
    /* Non-blocking mode (smrt_conn_set_nonblocking): where a transfer stopped to wait. */
    int nb;
    int phase;         /* PH_*: what smrt_conn_resume goes on with */
    int until;         /* PH_READ, PH_CURL: RUN_TO_* */
    size_t want;
    const char *send_p; /* PH_SEND: what is left of the piece being sent */
    size_t send_n;
    const char *send_body; /* a large body, sent in place after the head (NULL: none left) */
    size_t send_body_len;
    smrt_watch watch[SMRT_MAX_WATCH]; /* libcurl's sockets (its socket callback) */
    int n_watch;
    int64_t curl_timer_ns; /* libcurl's timer (-1: none) */
    int ready_fd, ready_ev; /* smrt_conn_ready */
    smrt_buf curl_url; /* proxy mode: the URL libcurl has (set again only when it changes) */
    uint64_t rng[2]; /* xorshift128+ state, seeded from getrandom() */
    uint64_t fork_gen;
    struct smrt_conn *next_idle;
};

/* Where a transfer is (non-blocking mode resumes it there). */
enum { PH_IDLE = 0, PH_CONNECT, PH_SEND, PH_READ, PH_CURL };

struct smrt_pool {
    pthread_mutex_t lock;
    smrt_conn *idle;
    size_t n_idle;
    smrt_http_config cfg; /* strings owned by the pool */
    struct smrt_pool *reg_prev, *reg_next;
};

/* Every live pool, so the fork handlers can reach them. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static smrt_pool *registry;
static uint64_t fork_generation; /* bumped in each forked child */

static void atfork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (smrt_pool *p = registry; p; p = p->reg_next) {
        pthread_mutex_lock(&p->lock);
    }
}

static void atfork_parent(void)
{
    for (smrt_pool *p = registry; p; p = p->reg_next) {
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

static void atfork_child(void)
{
    fork_generation++;
    for (smrt_pool *p = registry; p; p = p->reg_next) {
        /* The parent still owns these connections: drop them without closing. */
        p->idle = NULL;
        p->n_idle = 0;
        pthread_mutex_init(&p->lock, NULL);
    }
    pthread_mutex_init(&registry_lock, NULL);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_status = SMRT_OK;

static void global_init_once(void)
{
    if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0) {
        global_status = SMRT_ECURL;
    }
}

int smrt_http_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_status;
}

int64_t smrt_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t smrt_conn_random(smrt_conn *c)
{
    /* xorshift128+ */
    uint64_t s1 = c->rng[0];
    const uint64_t s0 = c->rng[1];
    c->rng[0] = s0;
    s1 ^= s1 << 23;
    c->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return c->rng[1] + s0;
}

/* ---- callbacks: they only write into the conn's C buffers ------------------------------ */

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata)
{
    smrt_conn *c = userdata;
    size_t n = size * nitems;
    long long want;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 100-continue or a proxy's CONNECT reply): start over. */
        smrt_buf_clear(&c->r.head);
        smrt_buf_clear(&c->r.body);
        c->r.body_pos = 0;
        c->r.body_seen = 0;
        c->r.headers_done = 0;
        c->r.content_length = -1;
        c->header_status = smrt_parse_status_line(data, n);
    } else if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
        if (c->header_status >= 200) {
            c->r.headers_done = 1;
        }
    } else if (smrt_parse_content_length(data, n, &want)) {
        c->r.content_length = want;
        /* Pre-size the body buffer, within reason: the header is the peer's claim. A streamed
         * body is taken as it comes: no room for all of it. */
        if (want > 0 && want <= (64LL << 20) && c->read_mode == SMRT_READ_ALL) {
            smrt_buf_reserve(&c->r.body, (size_t)want);
        }
    }
    c->last_progress_ns = smrt_monotonic_ns();
    if (smrt_buf_append(&c->r.head, data, n) != SMRT_OK) {
        return 0;
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    smrt_conn *c = userdata;
    size_t n = size * nmemb;
    if (smrt_buf_append(&c->r.body, data, n) != SMRT_OK) {
        return 0; /* CURLE_WRITE_ERROR */
    }
    c->r.body_seen += n;
    return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)ultotal;
    smrt_conn *c = userdata;
    c->uploaded = ulnow;
    curl_off_t bytes = dlnow + ulnow;
    if (bytes != c->last_bytes) {
        c->last_bytes = bytes;
        c->last_progress_ns = smrt_monotonic_ns();
    }
    return 0;
}

/* Called once the connection is ready (new or reused), before the request is sent: the
 * read timeout counts from here, the connect timeout until here. */
static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    smrt_conn *c = userdata;
    if (c->read_timed_out >= 0) {
        /* A second request in one transfer: libcurl re-sends on a fresh connection when a
         * reused one died before any response byte. The request may have been received and
         * acted on (an inference run): refuse, and let botocore's retry policy decide, as
         * botocore sees a ConnectionClosedError there. (Idle connections that died are
         * dropped by libcurl before reuse, as urllib3 does: that case never gets here.) */
        c->resend_refused = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    c->last_progress_ns = smrt_monotonic_ns();
    c->read_timed_out = 0; /* a sentinel: -1 means "not connected yet" */
    return CURL_PREREQFUNC_OK;
}

/* libcurl's sockets and timer, for a non-blocking transfer's caller to wait on. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    smrt_conn *c = userp;
    if (!c->nb) {
        return 0; /* curl_multi_perform's transfers: libcurl waits on its sockets itself */
    }
    int i = 0;
    while (i < c->n_watch && c->watch[i].fd != s) {
        i++;
    }
    if (what == CURL_POLL_REMOVE) {
        if (i < c->n_watch) {
            c->watch[i] = c->watch[--c->n_watch];
        }
        return 0;
    }
    if (i == c->n_watch) {
        if (i == SMRT_MAX_WATCH) {
            return -1;
        }
        c->n_watch++;
        c->watch[i].fd = s;
    }
    c->watch[i].events = ((what & CURL_POLL_IN) ? SMRT_WATCH_IN : 0) | ((what & CURL_POLL_OUT) ? SMRT_WATCH_OUT : 0);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    smrt_conn *c = userp;
    c->curl_timer_ns = timeout_ms < 0 ? -1 : smrt_monotonic_ns() + (int64_t)timeout_ms * 1000000LL;
    return 0;
}

/* Ask the caller's interrupt callback; remembers a stop. */
static int interrupted(smrt_conn *c)
{
    c->asked_ns = smrt_monotonic_ns();
    if (!c->interrupted && c->interrupt != NULL && c->interrupt(c->interrupt_ud)) {
        c->interrupted = 1;
    }
    return c->interrupted;
}

/* Ask when a slice has passed since the last question: a transfer that keeps moving (a slow
 * trickle of bytes) never waits long enough for a wait to come back empty. */
static int interrupt_due(smrt_conn *c, int64_t now)
{
    return c->interrupt != NULL && now - c->asked_ns >= (int64_t)SMRT_WAIT_SLICE_MS * 1000000LL && interrupted(c);
}

/* ---- TLS: the origin's name, checked by urllib3's rules (tls.h) --------------------------- */

/* The host of the connection being made (from the request URL, or in direct mode the
 * origin being connected), as urllib3 compares it: no brackets, no zone, no trailing dot.
 * 0 when it does not fit. */
static int tls_host(const smrt_conn *c, char *out, size_t cap)
{
    const smrt_buf *u = c->direct ? &c->origin : &c->curl_url; /* the URL libcurl connects to */
    const char *p = u->data ? strstr(u->data, "://") : NULL;
    if (p == NULL) {
        return 0;
    }
    p += 3;
    size_t n;
    if (*p == '[') {
        const char *end = strchr(++p, ']');
        if (end == NULL) {
            return 0;
        }
        n = (size_t)(end - p);
        const char *zone = memchr(p, '%', n);
        if (zone) {
            n = (size_t)(zone - p);
        }
    } else {
        n = strcspn(p, ":/?#");
    }
    while (n > 0 && p[n - 1] == '.') {
        n--;
    }
    if (n == 0 || n >= cap || memchr(p, '\0', n)) {
        return 0;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

/* Installed in place of OpenSSL's chain verification: the chain first, as botocore's
 * handshake does, then the name, as urllib3 does right after that handshake. */
static int on_verify_cert(X509_STORE_CTX *store, void *arg)
{
    smrt_conn *c = arg;
    int ok = X509_verify_cert(store);
    if (ok <= 0) {
        /* Kept here: inside a proxy's TLS libcurl may report only a broken connection. */
        c->r.tls_error = SMRT_TLS_VERIFY;
        c->r.tls_verify_result = X509_STORE_CTX_get_error(store);
        return ok;
    }
    char host[512];
    int r = tls_host(c, host, sizeof(host)) ? smrt_tls_match_host(X509_STORE_CTX_get0_cert(store), host, &c->r.tls_names)
                                            : SMRT_TLS_HOSTNAME;
    if (r == SMRT_TLS_NONE) {
        return 1;
    }
    /* Anything else (no match, or no memory to say so) refuses the peer. */
    c->r.tls_error = r == SMRT_ENOMEM ? SMRT_TLS_HOSTNAME : r;
    X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
    return 0;
}

/* libcurl made the SSL_CTX of a new TLS connection. Through a proxy the first may be the
 * proxy's own (libcurl checks its name): the origin's comes once the tunnel is up. */
static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *userdata)
{
    smrt_conn *c = userdata;
    if (c->direct) {
        /* We read the responses: one recv for a record's 5-byte header and its body. */
        SSL_CTX_set_read_ahead((SSL_CTX *)sslctx, 1);
    }
    if (!c->cfg->verify) {
        return CURLE_OK;
    }
    long tunnel = 0;
    if (c->have_proxy && !c->cfg->proxy_forwarding && c->cfg->proxy && strncmp(c->cfg->proxy, "https://", 8) == 0 &&
        curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &tunnel) == CURLE_OK && tunnel == 0) {
        return CURLE_OK;
    }
    SSL_CTX_set_cert_verify_callback(sslctx, on_verify_cert, c);
    return CURLE_OK;
}

/* ---- connections -------------------------------------------------------------------------- */

static void direct_close(smrt_conn *c);
static void conn_abandon(smrt_conn *c);

static void conn_destroy(smrt_conn *c)
{
    if (c == NULL) {
        return;
    }
    conn_abandon(c);
    if (c->direct) {
        direct_close(c);
    }
    if (c->curl) {
        curl_easy_cleanup(c->curl);
    }
    if (c->multi) {
        curl_multi_cleanup(c->multi);
    }
    smrt_signer_destroy(&c->signer); /* wipes the cached signing key */
    smrt_buf_destroy(&c->r.url);
    smrt_buf_destroy(&c->origin);
    smrt_buf_destroy(&c->req);
    smrt_buf_destroy(&c->hdr_buf);
    smrt_buf_destroy(&c->scratch[0]);
    smrt_buf_destroy(&c->scratch[1]);
    smrt_buf_destroy(&c->r.head);
    smrt_buf_destroy(&c->r.body);
    smrt_buf_destroy(&c->r.tls_names);
    smrt_buf_destroy(&c->fwd_url);
    smrt_buf_destroy(&c->curl_url);
    free(c);
}

#define SETOPT(opt, val)                                                                                               \
    do {                                                                                                               \
        if (curl_easy_setopt(h, opt, val) != CURLE_OK)                                                                 \
            goto error;                                                                                                \
    } while (0)

/* Make and configure the easy handle of `c`: at creation, and in direct mode again for each
 * new connection (libcurl loses track of a CONNECT_ONLY connection that the handle moves on
 * from; cleaning the handle up is how such a connection is closed). */
static int conn_setup_curl(smrt_conn *c)
{
    const smrt_http_config *cfg = c->cfg;
    CURL *h = c->curl = curl_easy_init();
    if (h == NULL) {
        return SMRT_ECURL;
    }
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    /* An interrupted lookup is left to its resolver thread instead of waited for. */
    curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
    SETOPT(CURLOPT_TCP_NODELAY, 1L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_PATH_AS_IS, 1L); /* send the path botocore would send, dot segments too */
    SETOPT(CURLOPT_MAXCONNECTS, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, c->r.errbuf);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, c);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, c);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(CURLOPT_XFERINFODATA, c);
    SETOPT(CURLOPT_PREREQFUNCTION, on_prereq);
    SETOPT(CURLOPT_PREREQDATA, c);
    if (c->direct) {
        SETOPT(CURLOPT_CONNECT_ONLY, 1L);
    }
    if (cfg->connect_timeout_ms > 0) {
        SETOPT(CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
    }
    if (cfg->tcp_keepalive) {
        SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    }
    SETOPT(CURLOPT_SSL_VERIFYPEER, cfg->verify ? 1L : 0L);
    /* botocore's name check is urllib3's, not libcurl's: made in on_verify_cert when the
     * SSL_CTX can be hooked; libcurl's own otherwise (never neither). */
    int hookable = smrt_tls_hookable();
    int own_name_check = cfg->verify && hookable;
    if (own_name_check || (hookable && c->direct)) {
        SETOPT(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        SETOPT(CURLOPT_SSL_CTX_DATA, c);
    }
    SETOPT(CURLOPT_SSL_VERIFYHOST, cfg->verify && !own_name_check ? 2L : 0L);
    if (cfg->ca_bundle) {
        SETOPT(CURLOPT_CAINFO, cfg->ca_bundle);
    }
    /* An empty proxy string stops libcurl from reading proxy variables itself: the Python
     * layer resolved the proxy as botocore would. */
    SETOPT(CURLOPT_PROXY, cfg->proxy ? cfg->proxy : "");
    if (cfg->proxy) {
        SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
        /* The policy botocore (urllib3) applies to an https proxy, decided by the Python layer. */
        SETOPT(CURLOPT_PROXY_SSL_VERIFYPEER, cfg->proxy_verify ? 1L : 0L);
        SETOPT(CURLOPT_PROXY_SSL_VERIFYHOST, cfg->proxy_verify ? 2L : 0L);
        if (cfg->proxy_ca_bundle) {
            SETOPT(CURLOPT_PROXY_CAINFO, cfg->proxy_ca_bundle);
        }
        if (cfg->proxy_client_cert) {
            SETOPT(CURLOPT_PROXY_SSLCERT, cfg->proxy_client_cert);
            if (cfg->proxy_client_key) {
                SETOPT(CURLOPT_PROXY_SSLKEY, cfg->proxy_client_key);
            }
        }
    }
    if (cfg->client_cert) {
        SETOPT(CURLOPT_SSLCERT, cfg->client_cert);
        if (cfg->client_key) {
            SETOPT(CURLOPT_SSLKEY, cfg->client_key);
        }
    }
    return SMRT_OK;
error:
    curl_easy_cleanup(h);
    c->curl = NULL;
    return SMRT_ECURL;
}

static smrt_conn *conn_new(const smrt_http_config *cfg)
{
    if (smrt_dyn_wait() != SMRT_OK) {
        return NULL;
    }
    smrt_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->cfg = cfg;
    c->fork_gen = fork_generation;
    c->read_timeout_ms = cfg->read_timeout_ms;
    if (getrandom(c->rng, sizeof(c->rng), 0) != (ssize_t)sizeof(c->rng)) {
        c->rng[0] = (uint64_t)smrt_monotonic_ns() ^ ((uint64_t)getpid() << 32);
        c->rng[1] = (uint64_t)(uintptr_t)c * 0x9E3779B97F4A7C15ULL;
    }
    if (c->rng[0] == 0 && c->rng[1] == 0) {
        c->rng[1] = 1;
    }
    c->have_proxy = cfg->proxy != NULL || cfg->proxy_forwarding != NULL;
    c->direct = !c->have_proxy;
    c->sock = CURL_SOCKET_BAD;
    if (smrt_signer_init(&c->signer) != SMRT_OK) {
        goto error;
    }
    c->curl_timer_ns = -1;
    c->ready_fd = -1;
    c->multi = curl_multi_init();
    if (c->multi == NULL || conn_setup_curl(c) != SMRT_OK) {
        goto error;
    }

    return c;
error:
    conn_destroy(c);
    return NULL;
}

/* The config's strings, for copying and freeing them alike. */
#define CONFIG_STRINGS(cfg)                                                                                            \
    {&(cfg)->ca_bundle,         &(cfg)->proxy,            &(cfg)->proxy_ca_bundle,                                     \
     &(cfg)->proxy_client_cert, &(cfg)->proxy_client_key, &(cfg)->proxy_forwarding,                                    \
     &(cfg)->proxy_authorization, &(cfg)->client_cert,    &(cfg)->client_key}

static void config_free(smrt_http_config *cfg)
{
    const char **strings[] = CONFIG_STRINGS(cfg);
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (*strings[i] && strings[i] == &cfg->proxy_authorization) {
            explicit_bzero((char *)*strings[i], strlen(*strings[i])); /* a credential */
        }
        free((char *)*strings[i]);
    }
    memset(cfg, 0, sizeof(*cfg));
}

smrt_pool *smrt_pool_new(const smrt_http_config *cfg)
{
    if (smrt_http_global_init() != SMRT_OK) {
        return NULL;
    }
    smrt_pool *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->cfg = *cfg;
    const char **copies[] = CONFIG_STRINGS(&p->cfg);
    int failed = 0;
    for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
        if (*copies[i] && (*copies[i] = strdup(*copies[i])) == NULL) {
            failed = 1;
        }
    }
    if (failed) {
        config_free(&p->cfg);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_lock(&registry_lock);
    p->reg_next = registry;
    if (registry) {
        registry->reg_prev = p;
    }
    registry = p;
    pthread_mutex_unlock(&registry_lock);
    return p;
}

void smrt_pool_destroy(smrt_pool *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&registry_lock);
    if (p->reg_prev) {
        p->reg_prev->reg_next = p->reg_next;
    } else {
        registry = p->reg_next;
    }
    if (p->reg_next) {
        p->reg_next->reg_prev = p->reg_prev;
    }
    pthread_mutex_unlock(&registry_lock);
    smrt_conn *c = p->idle;
    while (c) {
        smrt_conn *next = c->next_idle;
        conn_destroy(c);
        c = next;
    }
    pthread_mutex_destroy(&p->lock);
    config_free(&p->cfg);
    free(p);
}

void smrt_pool_drain(smrt_pool *p)
{
    pthread_mutex_lock(&p->lock);
    smrt_conn *c = p->idle;
    p->idle = NULL;
    p->n_idle = 0;
    pthread_mutex_unlock(&p->lock);
    while (c) {
        smrt_conn *next = c->next_idle;
        conn_destroy(c);
        c = next;
    }
}

void smrt_pool_keep_idle(smrt_pool *p, size_t n)
{
    pthread_mutex_lock(&p->lock);
    if (p->cfg.max_idle < n) {
        p->cfg.max_idle = n;
    }
    pthread_mutex_unlock(&p->lock);
}

smrt_conn *smrt_pool_borrow(smrt_pool *p)
{
    pthread_mutex_lock(&p->lock);
    smrt_conn *c = p->idle;
    if (c) {
        p->idle = c->next_idle;
        p->n_idle--;
        c->next_idle = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (c == NULL) {
        c = conn_new(&p->cfg);
    }
    return c;
}

void smrt_pool_return(smrt_pool *p, smrt_conn *c)
{
    if (c == NULL) {
        return;
    }
    if (c->fork_gen != fork_generation) {
        return; /* made before a fork, in the parent: leak it, never close it here */
    }
    conn_abandon(c);
    /* A large response must not stay behind in an idle connection (boto3 keeps nothing). */
    if (c->r.body.cap > SMRT_IDLE_BUF_MAX) {
        smrt_buf_destroy(&c->r.body);
    }
    if (c->r.head.cap > SMRT_IDLE_BUF_MAX) {
        smrt_buf_destroy(&c->r.head);
    }
    pthread_mutex_lock(&p->lock);
    if (p->n_idle < p->cfg.max_idle) {
        c->next_idle = p->idle;
        p->idle = c;
        p->n_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    conn_destroy(c); /* the pool is full: urllib3 discards such a connection too */
}

/* ---- requests ------------------------------------------------------------------------------ */

void smrt_conn_headers_reset(smrt_conn *c)
{
    smrt_buf_clear(&c->hdr_buf);
    c->n_hdr = 0;
}

int smrt_conn_header_add(smrt_conn *c, const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (c->n_hdr >= SMRT_MAX_REQUEST_HEADERS) {
        return SMRT_EINVAL;
    }
    c->hdr_offsets[c->n_hdr] = c->hdr_buf.len;
    if (smrt_buf_reserve(&c->hdr_buf, name_len + value_len + 3) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    size_t blank = 0;
    while (value && blank < value_len && (value[blank] == ' ' || value[blank] == '\t')) {
        blank++;
    }
    c->hdr_kind[c->n_hdr] = value == NULL ? SMRT_HDR_SUPPRESS : blank == value_len ? SMRT_HDR_BLANK : SMRT_HDR_VALUE;
    smrt_buf_append(&c->hdr_buf, name, name_len);
    if (value) {
        smrt_buf_append(&c->hdr_buf, ": ", 2);
        smrt_buf_append(&c->hdr_buf, value, value_len);
    } else {
        smrt_buf_append_char(&c->hdr_buf, ':');
    }
    /* Lines are NUL-separated: the NUL smrt_buf keeps after `len` becomes part of it. */
    c->hdr_buf.len++;
    c->n_hdr++;
    return SMRT_OK;
}

/* A TLS set-up that failed: whose it was, and what the Python layer needs to word it as
 * botocore does (c->r.tls_error and the rest, http.h). */
static smrt_xfer_kind tls_failure(smrt_conn *c, CURLcode rc, int have_proxy)
{
    long tunnel = 0;
    if (have_proxy && (c->cfg->proxy_forwarding || c->curl == NULL ||
                       curl_easy_getinfo(c->curl, CURLINFO_HTTP_CONNECTCODE, &tunnel) != CURLE_OK || tunnel == 0)) {
        /* No tunnel yet (or none to be made): the TLS was the proxy's. urllib3 makes any
         * failure before it has connected to the proxy a ProxyError. */
        c->r.tls_error = SMRT_TLS_NONE;
        return SMRT_XFER_PROXY_ERROR;
    }
    if (c->r.tls_error == SMRT_TLS_VERIFY) { /* on_verify_cert saw it */
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s", X509_verify_cert_error_string(c->r.tls_verify_result));
        return SMRT_XFER_SSL_ERROR;
    }
    if (c->r.tls_error == SMRT_TLS_HOSTNAME || c->r.tls_error == SMRT_TLS_WILDCARDS) {
        return SMRT_XFER_SSL_ERROR;
    }
    long result = X509_V_OK;
    switch (rc) {
    case CURLE_SSL_CACERT_BADFILE:
        c->r.tls_error = SMRT_TLS_CA_FILE;
        break;
    case CURLE_SSL_CERTPROBLEM:
        c->r.tls_error = SMRT_TLS_CLIENT_CERT;
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        /* libcurl's own verification (its SSL_CTX could not be hooked). */
        if (c->curl && curl_easy_getinfo(c->curl, CURLINFO_SSL_VERIFYRESULT, &result) == CURLE_OK &&
            result != X509_V_OK) {
            /* Python's ssl module words it with the same OpenSSL string. */
            c->r.tls_error = SMRT_TLS_VERIFY;
            c->r.tls_verify_result = result;
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s", X509_verify_cert_error_string(result));
        }
        break;
    default:
        break;
    }
    return SMRT_XFER_SSL_ERROR;
}

static smrt_xfer_kind classify(smrt_conn *c, CURLcode rc, int have_proxy)
{
    switch (rc) {
    case CURLE_OK:
        return SMRT_XFER_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
        return SMRT_XFER_CONNECT_ERROR;
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SMRT_XFER_PROXY_ERROR;
    case CURLE_COULDNT_CONNECT:
        return have_proxy ? SMRT_XFER_PROXY_ERROR : SMRT_XFER_CONNECT_ERROR;
    case CURLE_OPERATION_TIMEDOUT:
        return c->read_timed_out < 0 ? SMRT_XFER_CONNECT_TIMEOUT : SMRT_XFER_READ_TIMEOUT;
    case CURLE_PARTIAL_FILE:
        return SMRT_XFER_PARTIAL;
    case CURLE_UNSUPPORTED_PROTOCOL: /* "Received HTTP/0.9": not HTTP at all */
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return SMRT_XFER_CLOSED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return tls_failure(c, rc, have_proxy);
    case CURLE_PROXY:
        return SMRT_XFER_PROXY_ERROR;
    case CURLE_OUT_OF_MEMORY:
        return SMRT_XFER_NOMEM;
    case CURLE_WRITE_ERROR:
        /* Our callbacks refuse data only when a buffer cannot grow. */
        return SMRT_XFER_NOMEM;
    default:
        return SMRT_XFER_OTHER;
    }
}

/* Where multi_run may return before the transfer ends (CURLE_AGAIN, the handle still added). */
enum { RUN_TO_END = 0, RUN_TO_HEAD = 1, RUN_TO_WANT = 2 };

static int body_buffered_enough(const smrt_conn *c, size_t want)
{
    return c->r.body.len - c->r.body_pos >= want;
}

/* Drive c->curl, already added to c->multi, until its transfer ends (or, with `until`, until
 * the head is in or `want` unconsumed body bytes are: CURLE_AGAIN); the handle stays added.
 * A multi loop rather than curl_easy_perform: libcurl calls the progress callback only about
 * once a second when idle, while this loop wakes when the read deadline passes, and at least
 * every SMRT_WAIT_SLICE_MS to ask the interrupt callback (CURLE_ABORTED_BY_CALLBACK, with
 * c->interrupted set, when it says stop). */
static CURLcode multi_run(smrt_conn *c, int until, size_t want)
{
    CURLM *m = c->multi;
    int64_t limit = (int64_t)c->read_timeout_ms * 1000000LL;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            return CURLE_OUT_OF_MEMORY;
        }
        if (!running) {
            CURLMsg *msg;
            int left;
            CURLcode rc = CURLE_GOT_NOTHING;
            while ((msg = curl_multi_info_read(m, &left)) != NULL) {
                if (msg->msg == CURLMSG_DONE) {
                    rc = msg->data.result;
                }
            }
            return rc;
        }
        /* At the head only once the request body is all sent: it is the caller's memory. */
        if ((until == RUN_TO_HEAD && c->r.headers_done && c->uploaded >= c->upload_len) ||
            (until == RUN_TO_WANT && body_buffered_enough(c, want))) {
            return CURLE_AGAIN;
        }
        int wait_ms = SMRT_WAIT_SLICE_MS;
        int64_t now = smrt_monotonic_ns();
        if (limit > 0 && c->read_timed_out == 0) {
            int64_t idle = now - c->last_progress_ns;
            if (idle >= limit) {
                c->read_timed_out = 1;
                snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Read timed out. (read timeout=%g)",
                         (double)c->read_timeout_ms / 1000.0);
                return CURLE_OPERATION_TIMEDOUT;
            }
            int64_t left_ms = (limit - idle + 999999) / 1000000;
            if (left_ms < wait_ms) {
                wait_ms = (int)left_ms;
            }
        }
        /* Asked by time, not per wake-up: a busy transfer wakes often, and asking may mean
         * taking the GIL. */
        if (interrupt_due(c, now)) {
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
            return CURLE_ABORTED_BY_CALLBACK;
        }
        if (curl_multi_poll(m, NULL, 0, wait_ms, NULL) != CURLM_OK) {
            return CURLE_OUT_OF_MEMORY;
        }
    }
}

/* multi_run for a non-blocking connection: act on what smrt_conn_ready said (or on libcurl's
 * timer), then return at once: 1 with *rc as multi_run would have returned, 0 when the
 * transfer waits (smrt_conn_waits). The interrupt callback is asked each time. */
static int multi_nb(smrt_conn *c, int until, size_t want, CURLcode *rc)
{
    int running = 0, fd = c->ready_fd, ev = c->ready_ev;
    c->ready_fd = -1;
    c->ready_ev = 0;
    CURLMcode mc = fd >= 0 ? curl_multi_socket_action(c->multi, fd,
                                                      ((ev & SMRT_WATCH_IN) ? CURL_CSELECT_IN : 0) |
                                                          ((ev & SMRT_WATCH_OUT) ? CURL_CSELECT_OUT : 0),
                                                      &running)
                           : curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK) {
        *rc = CURLE_OUT_OF_MEMORY;
        return 1;
    }
    CURLMsg *msg;
    int left, done = 0;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            *rc = msg->data.result;
            done = 1;
        }
    }
    if (done || !running) {
        if (!done) {
            *rc = CURLE_GOT_NOTHING;
        }
        return 1;
    }
    if ((until == RUN_TO_HEAD && c->r.headers_done && c->uploaded >= c->upload_len) ||
        (until == RUN_TO_WANT && body_buffered_enough(c, want))) {
        *rc = CURLE_AGAIN;
        return 1;
    }
    int64_t limit = (int64_t)c->read_timeout_ms * 1000000LL;
    if (limit > 0 && c->read_timed_out == 0 && smrt_monotonic_ns() - c->last_progress_ns >= limit) {
        c->read_timed_out = 1;
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Read timed out. (read timeout=%g)",
                 (double)c->read_timeout_ms / 1000.0);
        *rc = CURLE_OPERATION_TIMEDOUT;
        return 1;
    }
    if (interrupted(c)) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
        *rc = CURLE_ABORTED_BY_CALLBACK;
        return 1;
    }
    return 0;
}

/* Drive the transfer in the connection's mode: 0 when a non-blocking one waits. */
static int multi_drive(smrt_conn *c, int until, size_t want, CURLcode *rc)
{
    if (c->nb) {
        return multi_nb(c, until, want, rc);
    }
    *rc = multi_run(c, until, want);
    return 1;
}

/* The libcurl transfer stopped (rc from multi_run, not CURLE_AGAIN): take it out of the multi
 * handle and say how it ended. */
static smrt_xfer_kind curl_finish(smrt_conn *c, CURLcode rc)
{
    CURL *h = c->curl;
    curl_multi_remove_handle(c->multi, h); /* mid-transfer, this closes the connection */
    c->in_multi = 0;
    c->reading = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->r.status);
    if (c->interrupted) {
        return SMRT_XFER_INTERRUPTED;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && c->read_timed_out == 1) {
        return SMRT_XFER_READ_TIMEOUT;
    }
    if (c->resend_refused) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Connection closed by the server before a response arrived");
        return SMRT_XFER_CLOSED;
    }
    if (rc != CURLE_OK && c->r.errbuf[0] == '\0') {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s", curl_easy_strerror(rc));
    }
    smrt_xfer_kind kind = classify(c, rc, c->have_proxy);
    c->r.complete = kind == SMRT_XFER_OK;
    return kind;
}

/* Go on with the libcurl transfer (proxy mode) to c->until: SMRT_XFER_AGAIN while a
 * non-blocking one waits. */
static smrt_xfer_kind curl_go(smrt_conn *c)
{
    CURLcode rc;
    if (!multi_drive(c, c->until, c->want, &rc)) {
        return SMRT_XFER_AGAIN;
    }
    c->phase = PH_IDLE;
    if (rc == CURLE_AGAIN) {
        /* The head is in (or the bytes wanted); the body follows as the reader asks for it
         * (the POSTFIELDS body was all sent before the response began, or libcurl would not
         * be reading it). */
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->r.status);
        c->reading = 1;
        return SMRT_XFER_OK;
    }
    return curl_finish(c, rc);
}

/* A request through libcurl to `url`; errors name `report_url` (the request's own URL). */
static smrt_xfer_kind curl_perform(smrt_conn *c, const char *method, const char *url, size_t url_len,
                                   const char *report_url, size_t report_len, const void *body, size_t body_len)
{
    CURL *h = c->curl;
    c->header_status = 0;
    c->resend_refused = 0;
    c->read_timed_out = -1; /* set to 0 by on_prereq once connected */
    c->last_bytes = 0;
    c->uploaded = 0;
    c->upload_len = strcmp(method, "POST") == 0 ? (curl_off_t)body_len : 0;
    c->last_progress_ns = smrt_monotonic_ns();

    if (c->r.url.len != report_len || memcmp(c->r.url.data, report_url, report_len) != 0) {
        smrt_buf_clear(&c->r.url);
        if (smrt_buf_append(&c->r.url, report_url, report_len) != SMRT_OK) {
            return SMRT_XFER_NOMEM;
        }
    }
    /* Setting the URL makes libcurl parse it: skip when unchanged. */
    if (c->curl_url.len != url_len || memcmp(c->curl_url.data, url, url_len) != 0) {
        smrt_buf_clear(&c->curl_url);
        if (smrt_buf_append(&c->curl_url, url, url_len) != SMRT_OK) {
            return SMRT_XFER_NOMEM;
        }
        if (curl_easy_setopt(h, CURLOPT_URL, c->curl_url.data) != CURLE_OK) {
            smrt_buf_clear(&c->curl_url);
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "libcurl rejected the URL");
            return SMRT_XFER_OTHER;
        }
    }
    for (size_t i = 0; i < c->n_hdr; i++) {
        char *line = c->hdr_buf.data + c->hdr_offsets[i];
        if (c->hdr_kind[i] == SMRT_HDR_BLANK) {
            /* libcurl drops "Name: " (nothing but blanks); "Name;" sends an empty value. */
            char *colon = strchr(line, ':');
            colon[0] = ';';
            colon[1] = '\0';
        }
        c->slist[i].data = line;
        c->slist[i].next = i + 1 < c->n_hdr ? &c->slist[i + 1] : NULL;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->n_hdr ? c->slist : NULL);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_len ? body : "");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }

    if (curl_multi_add_handle(c->multi, h) != CURLM_OK) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "libcurl could not start the transfer");
        return SMRT_XFER_OTHER;
    }
    c->in_multi = 1;
    c->phase = PH_CURL;
    c->until = c->read_mode == SMRT_READ_HEAD ? RUN_TO_HEAD : RUN_TO_END;
    c->want = 0;
    if (c->nb) {
        c->n_watch = 0;
        c->ready_fd = -1;
    }
    return curl_go(c);
}

/* ---- direct mode: libcurl connects, we speak HTTP/1.1 --------------------------------------- */

/* The direct socket is blocking once connected: a recv then waits in the kernel and returns
 * with the whole answer, one system call where a non-blocking socket needs recv (EAGAIN),
 * poll, recv. SO_RCVTIMEO/SO_SNDTIMEO bound each wait (CURLE_AGAIN when they pass, or when a
 * signal cuts the wait short) so that the read deadline and the interrupt callback are seen.
 * In non-blocking mode (one thread, many connections) it is O_NONBLOCK and the caller waits. */
static void sock_set_timeo(smrt_conn *c, int ms)
{
    if (ms < 1) {
        ms = 1;
    }
    if (c->sock_timeo_ms == ms) {
        return;
    }
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->sock_timeo_ms = ms;
}

static void sock_set_blocking(smrt_conn *c, int blocking)
{
    int fl = fcntl(c->sock, F_GETFL);
    if (fl >= 0) {
        fcntl(c->sock, F_SETFL, blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK));
    }
}

/* Back to the socket mode of the connection's mode, after a look without waiting. */
static void sock_restore(smrt_conn *c)
{
    if (!c->nb) {
        sock_set_blocking(c, 1);
    }
}

static void direct_close(smrt_conn *c)
{
    /* Closing the handle closes its connection; the next connect makes a new handle. */
    if (c->curl) {
        if (c->connected) {
            /* libcurl reads a last TLS record on close, assuming a non-blocking socket. */
            sock_set_blocking(c, 0);
        }
        /* Removing a CONNECT_ONLY handle from its multi closes the connection (TLS objects
         * freed): inside the fork gate, as the cleanup. */
        smrt_dyn_enter();
        curl_multi_remove_handle(c->multi, c->curl);
        smrt_dyn_leave();
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
    }
    c->connected = 0;
    c->sock = CURL_SOCKET_BAD;
    c->sock_timeo_ms = 0;
    c->n_watch = 0;
    c->phase = PH_IDLE;
    smrt_buf_clear(&c->origin);
}

/* A wait on the direct socket came back empty (its timeout passed, or a signal; in
 * non-blocking mode, nothing to do yet): 1 to wait again, 2 for a non-blocking transfer to
 * return SMRT_XFER_AGAIN, 0 when the read deadline has passed (`what` timed out; errbuf set),
 * -1 when the interrupt callback said stop. Narrows the socket timeout to the deadline. */
static int direct_waited(smrt_conn *c, const char *what)
{
    if (interrupted(c)) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
        return -1;
    }
    if (c->read_timeout_ms > 0) {
        int64_t left = (int64_t)c->read_timeout_ms * 1000000LL - (smrt_monotonic_ns() - c->last_progress_ns);
        if (left <= 0) {
            c->read_timed_out = 1;
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s timed out. (read timeout=%g)", what,
                     (double)c->read_timeout_ms / 1000.0);
            return 0;
        }
        int64_t ms = (left + 999999) / 1000000;
        if (!c->nb) {
            sock_set_timeo(c, ms < SMRT_WAIT_SLICE_MS ? (int)ms : SMRT_WAIT_SLICE_MS);
        }
    }
    return c->nb ? 2 : 1;
}

/* Is the idle connection still usable? A readable idle socket means the peer closed it (or
 * sent something unasked): urllib3 and libcurl both drop such a connection before reuse. */
static int direct_alive(smrt_conn *c)
{
    struct pollfd pfd = {.fd = c->sock, .events = POLLIN};
    if (poll(&pfd, 1, 0) == 0) {
        return 1;
    }
    char probe[1];
    size_t got = 0;
    /* Over TLS a readable socket may hold only a session ticket: let libcurl look, without
     * waiting for more. */
    sock_set_blocking(c, 0);
    int alive = curl_easy_recv(c->curl, probe, sizeof(probe), &got) == CURLE_AGAIN;
    sock_restore(c);
    return alive;
}

/* Start connecting to the origin (the first origin_len bytes of url): SMRT_XFER_OK with the
 * connect under way (PH_CONNECT, driven by direct_connect_run), or why it could not start. */
static smrt_xfer_kind direct_connect_start(smrt_conn *c, const char *url, size_t origin_len)
{
    if (c->curl == NULL && conn_setup_curl(c) != SMRT_OK) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "libcurl could not make a handle");
        return SMRT_XFER_NOMEM;
    }
    smrt_buf_clear(&c->origin);
    if (smrt_buf_append(&c->origin, url, origin_len) != SMRT_OK || smrt_buf_append_char(&c->origin, '/') != SMRT_OK) {
        return SMRT_XFER_NOMEM;
    }
    c->read_timed_out = -1;
    curl_easy_setopt(c->curl, CURLOPT_URL, c->origin.data);
    c->origin.len--; /* drop the '/': the origin is compared with request URLs */
    c->origin.data[c->origin.len] = '\0';
    /* Connected through the conn's multi handle (which the handle stays in, as libcurl
     * requires for curl_easy_send/recv) so that DNS, connect and the TLS handshake wait in
     * slices that ask the interrupt callback, or on the caller's loop (non-blocking). */
    c->n_watch = 0;
    c->ready_fd = -1;
    c->curl_timer_ns = -1;
    c->phase = PH_CONNECT;
    c->connect_failed = curl_multi_add_handle(c->multi, c->curl) != CURLM_OK;
    return SMRT_XFER_OK;
}

/* Drive the connect: SMRT_XFER_OK once connected, SMRT_XFER_AGAIN while a non-blocking one
 * waits, or how it failed (the handle closed). */
static smrt_xfer_kind direct_connect_run(smrt_conn *c)
{
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (!c->connect_failed && !multi_drive(c, RUN_TO_END, 0, &rc)) {
        return SMRT_XFER_AGAIN;
    }
    if (!c->connect_failed && rc == CURLE_OK &&
        curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &c->sock) == CURLE_OK && c->sock != CURL_SOCKET_BAD) {
        c->connected = 1;
        c->n_watch = 0; /* from here on, the socket is ours to wait on */
        if (c->nb) {
            sock_set_blocking(c, 0);
        } else {
            sock_set_blocking(c, 1);
            sock_set_timeo(c, SMRT_WAIT_SLICE_MS);
        }
        return SMRT_XFER_OK;
    }
    smrt_xfer_kind kind = c->interrupted ? SMRT_XFER_INTERRUPTED : classify(c, rc, 0);
    if (c->r.errbuf[0] == '\0') {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s", curl_easy_strerror(rc));
    }
    c->sock = CURL_SOCKET_BAD;
    direct_close(c);
    return kind;
}

/* The socket turned readable while a request was being sent: has the server answered (or
 * closed)? Over TLS a readable socket may hold only a record with no data for us (TLS 1.3's
 * NewSessionTicket, which the server sends after the handshake and nothing has read yet):
 * that is no answer, and the upload must go on (taking it for one cut every large upload on a
 * fresh TLS 1.3 connection at the first full send buffer, then waited for an answer the
 * server never sent). A byte of a real answer is kept for direct_read. */
static int direct_answered(smrt_conn *c)
{
    size_t got = 0;
    sock_set_blocking(c, 0);
    CURLcode rc = curl_easy_recv(c->curl, &c->early, 1, &got);
    sock_restore(c);
    if (rc == CURLE_AGAIN) {
        return 0;
    }
    c->have_early = rc == CURLE_OK && got == 1;
    return 1;
}

/* Send what is left of the piece being sent (c->send_p, c->send_n). Returns SMRT_XFER_OK,
 * SMRT_XFER_READ_TIMEOUT, SMRT_XFER_INTERRUPTED, SMRT_XFER_AGAIN (non-blocking: the send
 * buffer is full), or SMRT_XFER_PARTIAL when the upload stopped early: the server answered
 * (or closed) before reading it all, and its answer must still be read, as urllib3 does. */
static smrt_xfer_kind direct_send(smrt_conn *c)
{
    while (c->send_n > 0) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(c->curl, c->send_p, c->send_n, &sent);
        if (rc == CURLE_AGAIN) {
            /* The send buffer stayed full for a slice: has the server answered instead? */
            struct pollfd pfd = {.fd = c->sock, .events = POLLIN};
            if (poll(&pfd, 1, 0) > 0 && direct_answered(c)) {
                return SMRT_XFER_PARTIAL; /* an early answer, or the peer is gone */
            }
            int w = direct_waited(c, "Write");
            if (w <= 0) {
                return w < 0 ? SMRT_XFER_INTERRUPTED : SMRT_XFER_READ_TIMEOUT;
            }
            if (w == 2) {
                return SMRT_XFER_AGAIN;
            }
            continue;
        }
        if (rc != CURLE_OK) {
            /* urllib3 swallows EPIPE and ECONNRESET here: the server may have answered. */
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Send failure: %s", curl_easy_strerror(rc));
            return SMRT_XFER_PARTIAL;
        }
        c->send_p += sent;
        c->send_n -= sent;
        c->last_progress_ns = smrt_monotonic_ns();
        if (c->send_n > 0 && interrupt_due(c, c->last_progress_ns)) {
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
            return SMRT_XFER_INTERRUPTED;
        }
    }
    return SMRT_XFER_OK;
}

/* The response on the direct connection stopped being read (complete, or broken: `result`):
 * close the connection unless it can carry the next request. */
static smrt_xfer_kind direct_finish(smrt_conn *c, smrt_xfer_kind result)
{
    c->reading = 0;
    c->phase = PH_IDLE;
    c->r.complete = result == SMRT_XFER_OK;
    if (result != SMRT_XFER_OK || c->h1.conn_close || c->upload_cut) {
        direct_close(c);
    }
    return result;
}

/* Read the response on the direct connection: to its end, to its head (RUN_TO_HEAD), or until
 * c->want unconsumed body bytes are buffered (RUN_TO_WANT), as c->until says. SMRT_XFER_AGAIN
 * when a non-blocking read waits (PH_READ kept). */
static smrt_xfer_kind direct_read(smrt_conn *c)
{
    smrt_h1 *p = &c->h1;
    char chunk[65536];
    smrt_xfer_kind result = SMRT_XFER_OK;
    int until = c->until;
    size_t want = c->want;
    c->phase = PH_READ;
    for (;;) {
        if ((until == RUN_TO_HEAD && p->headers_done) || (until == RUN_TO_WANT && body_buffered_enough(c, want))) {
            c->reading = 1;
            c->phase = PH_IDLE;
            return SMRT_XFER_OK;
        }
        size_t got = 0;
        CURLcode rc = CURLE_OK;
        if (c->have_early) {
            chunk[0] = c->early; /* read by direct_answered */
            got = 1;
            c->have_early = 0;
        } else {
            rc = curl_easy_recv(c->curl, chunk, sizeof(chunk), &got);
        }
        if (rc == CURLE_AGAIN) {
            int w = direct_waited(c, "Read");
            if (w <= 0) {
                result = w < 0 ? SMRT_XFER_INTERRUPTED : SMRT_XFER_READ_TIMEOUT;
                break;
            }
            if (w == 2) {
                return SMRT_XFER_AGAIN;
            }
            continue;
        }
        if (rc != CURLE_OK) {
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Recv failure: %s",
                     rc == CURLE_RECV_ERROR && errno == ECONNRESET ? "Connection reset by peer" : curl_easy_strerror(rc));
            result = SMRT_XFER_CLOSED;
            break;
        }
        if (got == 0) {
            /* The peer closed. Complete if the body runs to the end of the connection. */
            if (smrt_h1_eof(p) == SMRT_H1_DONE) {
                p->conn_close = 1;
                break;
            }
            if (c->received == 0) {
                snprintf(c->r.errbuf, sizeof(c->r.errbuf),
                         c->reused ? "Connection closed by the server before a response arrived"
                                   : "Empty reply from server");
                result = SMRT_XFER_CLOSED;
            } else {
                snprintf(c->r.errbuf, sizeof(c->r.errbuf), "transfer closed with outstanding read data remaining");
                result = p->headers_done ? SMRT_XFER_PARTIAL : SMRT_XFER_CLOSED;
            }
            break;
        }
        c->received += got;
        c->last_progress_ns = smrt_monotonic_ns();
        if (interrupt_due(c, c->last_progress_ns)) {
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
            result = SMRT_XFER_INTERRUPTED;
            break;
        }
        int had_head = p->headers_done;
        size_t used = 0, before = c->r.body.len;
        int st = smrt_h1_feed(p, chunk, got, &c->r.head, &c->r.body, &used);
        c->r.body_seen += c->r.body.len - before;
        if (p->headers_done && !had_head) {
            c->r.status = p->status;
            c->r.headers_done = 1;
            c->r.content_length = p->content_length;
            if (p->cl_conflict) {
                /* urllib3 refuses it before reading the body: HTTPClientError in botocore. */
                char values[200];
                smrt_h1_joined_header(&c->r.head, "content-length", values, sizeof(values));
                snprintf(c->r.errbuf, sizeof(c->r.errbuf), "Content-Length contained multiple unmatching values (%s)",
                         values);
                result = SMRT_XFER_OTHER;
                break;
            }
        }
        if (st == SMRT_H1_DONE) {
            if (used < got) {
                p->conn_close = 1; /* bytes after the response: do not trust the connection */
            }
            break;
        }
        if (st == SMRT_ENOMEM) {
            result = SMRT_XFER_NOMEM;
            break;
        }
        if (st < 0) {
            snprintf(c->r.errbuf, sizeof(c->r.errbuf), "%s",
                     st == SMRT_H1_TOO_LONG ? "response header too long or too many header fields"
                                            : "malformed HTTP response");
            result = p->headers_done ? SMRT_XFER_PARTIAL : SMRT_XFER_CLOSED;
            break;
        }
    }
    c->r.status = p->status;
    c->r.headers_done = p->headers_done;
    c->r.content_length = p->content_length;
    return direct_finish(c, result);
}

/* Connected: the request goes out from here, and the read timeout counts from here, as
 * urllib3's socket timeout does. */
static void direct_begin_send(smrt_conn *c)
{
    c->read_timed_out = 0;
    c->last_progress_ns = smrt_monotonic_ns();
    c->have_early = 0;
    if (!c->nb) {
        sock_set_timeo(c, SMRT_WAIT_SLICE_MS); /* a no-op unless the last call narrowed it */
    }
    c->send_p = c->req.data;
    c->send_n = c->req.len;
    c->phase = PH_SEND;
}

/* Go on with the request on the direct connection from where it stopped (c->phase): connect,
 * send, read. SMRT_XFER_AGAIN while a non-blocking one waits. */
static smrt_xfer_kind direct_go(smrt_conn *c)
{
    smrt_xfer_kind k;
    switch (c->phase) {
    case PH_CONNECT:
        k = direct_connect_run(c);
        if (k != SMRT_XFER_OK) {
            return k;
        }
        direct_begin_send(c);
        /* fall through */
    case PH_SEND:
        for (;;) {
            k = direct_send(c);
            if (k != SMRT_XFER_OK || c->send_body == NULL) {
                break;
            }
            /* A large body is sent in place, after the head. */
            c->send_p = c->send_body;
            c->send_n = c->send_body_len;
            c->send_body = NULL;
        }
        if (k == SMRT_XFER_AGAIN) {
            return k;
        }
        c->send_body = NULL;
        if (k == SMRT_XFER_READ_TIMEOUT || k == SMRT_XFER_INTERRUPTED) {
            direct_close(c);
            return k;
        }
        c->upload_cut = k == SMRT_XFER_PARTIAL; /* read the answer; never reuse this connection */
        smrt_h1_init(&c->h1);
        c->received = 0;
        c->until = c->read_mode == SMRT_READ_HEAD ? RUN_TO_HEAD : RUN_TO_END;
        c->want = 0;
        /* fall through */
    case PH_READ:
        return direct_read(c);
    default:
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "no transfer to go on with");
        return SMRT_XFER_OTHER;
    }
}

static smrt_xfer_kind direct_perform(smrt_conn *c, const char *method, const char *url, size_t url_len,
                                     const void *body, size_t body_len)
{
    /* scheme://netloc | /path?query */
    const char *sep = memchr(url, ':', url_len);
    const char *netloc = sep && (size_t)(sep - url) + 3 <= url_len ? sep + 3 : url;
    const char *target = memchr(netloc, '/', url_len - (size_t)(netloc - url));
    if (target == NULL) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "URL without a path");
        return SMRT_XFER_OTHER;
    }
    size_t origin_len = (size_t)(target - url);
    size_t target_len = url_len - origin_len;

    /* The request head, exactly as http.client writes it (small bodies ride along). */
    smrt_buf *req = &c->req;
    smrt_buf_clear(req);
    char cl[48];
    int cl_len = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", body_len);
    if (body_len == 0 && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0)) {
        /* botocore sets no Content-Length on these without a body (awsrequest.py), nor does
         * libcurl: the credential chain's SSO GetRoleCredentials. */
        cl_len = snprintf(cl, sizeof(cl), "\r\n");
    }
    if (smrt_buf_reserve(req, 64 + target_len + c->hdr_buf.len + 2 * c->n_hdr + (size_t)cl_len +
                                  (body_len <= 65536 ? body_len : 0)) != SMRT_OK) {
        return SMRT_XFER_NOMEM;
    }
    smrt_buf_append_str(req, method);
    smrt_buf_append_char(req, ' ');
    smrt_buf_append(req, target, target_len);
    smrt_buf_append(req, " HTTP/1.1\r\n", 11);
    for (size_t i = 0; i < c->n_hdr; i++) {
        if (c->hdr_kind[i] == SMRT_HDR_SUPPRESS) {
            continue; /* a libcurl-only instruction */
        }
        smrt_buf_append_str(req, c->hdr_buf.data + c->hdr_offsets[i]);
        smrt_buf_append(req, "\r\n", 2);
    }
    smrt_buf_append(req, cl, (size_t)cl_len);
    int body_inline = body_len <= 65536;
    if (body_inline && body_len) {
        smrt_buf_append(req, body, body_len);
    }
    c->send_body = body_inline ? NULL : body; /* large bodies are sent in place */
    c->send_body_len = body_inline ? 0 : body_len;

    if (c->connected && (c->origin.len != origin_len || memcmp(c->origin.data, url, origin_len) != 0 ||
                         !direct_alive(c))) {
        direct_close(c);
    }
    c->reused = c->connected;
    if (c->connected) {
        direct_begin_send(c);
    } else {
        smrt_xfer_kind k = direct_connect_start(c, url, origin_len);
        if (k != SMRT_XFER_OK) {
            c->send_body = NULL;
            return k;
        }
    }
    return direct_go(c);
}

/* urllib3's use_forwarding_for_https: the request goes over TLS to the proxy itself, the
 * whole URL as its target (absolute form), the Host header the origin's, the proxy's
 * credentials in a Proxy-Authorization header; no CONNECT. libcurl sees the proxy as the
 * server (its URL the proxy's, its request target ours). */
static smrt_xfer_kind forward_perform(smrt_conn *c, const char *method, const char *url, size_t url_len,
                                      const void *body, size_t body_len)
{
    const char *netloc = strstr(url, "://");
    const char *path = netloc ? memchr(netloc + 3, '/', url_len - (size_t)(netloc + 3 - url)) : NULL;
    if (path == NULL) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "URL without a path");
        return SMRT_XFER_OTHER;
    }
    smrt_buf_clear(&c->fwd_url);
    if (smrt_buf_append_str(&c->fwd_url, c->cfg->proxy_forwarding) != SMRT_OK ||
        smrt_buf_append(&c->fwd_url, path, url_len - (size_t)(path - url)) != SMRT_OK) {
        return SMRT_XFER_NOMEM;
    }
    const char *auth = c->cfg->proxy_authorization;
    if (auth && smrt_conn_header_add(c, "Proxy-Authorization", 19, auth, strlen(auth)) != SMRT_OK) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "too many request headers");
        return SMRT_XFER_OTHER;
    }
    if (curl_easy_setopt(c->curl, CURLOPT_REQUEST_TARGET, url) != CURLE_OK) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "libcurl rejected the request target");
        return SMRT_XFER_OTHER;
    }
    /* Errors name the request's URL, as botocore's do. */
    return curl_perform(c, method, c->fwd_url.data, c->fwd_url.len, url, url_len, body, body_len);
}

/* A response still open on the connection is abandoned: its connection closes. */
static void conn_abandon(smrt_conn *c)
{
    if (!c->reading && c->phase == PH_IDLE) {
        return;
    }
    c->reading = 0;
    if (c->direct) {
        direct_close(c);
    } else if (c->in_multi) {
        curl_multi_remove_handle(c->multi, c->curl); /* closes the connection mid-transfer */
        c->in_multi = 0;
    }
    c->phase = PH_IDLE;
    c->send_body = NULL;
}

smrt_xfer_kind smrt_conn_send(smrt_conn *c, const char *method, const char *url, size_t url_len, const void *body,
                              size_t body_len, smrt_read_mode mode)
{
    conn_abandon(c);
    c->read_mode = mode;
    c->r.errbuf[0] = '\0';
    c->r.status = 0;
    c->r.headers_done = 0;
    c->r.content_length = -1;
    c->r.complete = 0;
    c->r.body_pos = 0;
    c->r.body_seen = 0;
    c->r.tls_error = SMRT_TLS_NONE;
    c->r.tls_verify_result = 0;
    c->interrupted = 0;
    c->asked_ns = smrt_monotonic_ns();
    smrt_buf_clear(&c->r.head);
    smrt_buf_clear(&c->r.body);
    if (c->cfg->proxy_forwarding) {
        return forward_perform(c, method, url, url_len, body, body_len);
    }
    if (!c->direct) {
        return curl_perform(c, method, url, url_len, url, url_len, body, body_len);
    }
    c->resend_refused = 0;
    if (c->r.url.len != url_len || memcmp(c->r.url.data, url, url_len) != 0) {
        /* Kept for error messages (botocore names the request URL). */
        smrt_buf_clear(&c->r.url);
        if (smrt_buf_append(&c->r.url, url, url_len) != SMRT_OK) {
            return SMRT_XFER_NOMEM;
        }
    }
    return direct_perform(c, method, url, url_len, body, body_len);
}

smrt_xfer_kind smrt_conn_perform(smrt_conn *c, const char *method, const char *url, size_t url_len,
                                 const void *body, size_t body_len)
{
    return smrt_conn_send(c, method, url, url_len, body, body_len, SMRT_READ_ALL);
}

/* smrt_conn_read in the connection's mode. */
static smrt_xfer_kind conn_read(smrt_conn *c, size_t want)
{
    if (c->fork_gen != fork_generation) {
        /* The parent's connection: reading it here would take the parent's bytes. */
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "the response belongs to the parent process (read after fork)");
        return SMRT_XFER_OTHER;
    }
    if (!c->reading || body_buffered_enough(c, want)) {
        return SMRT_XFER_OK;
    }
    /* Taken bytes make room: the buffer holds what the reader has not had yet. */
    if (c->r.body_pos > 0) {
        size_t left = c->r.body.len - c->r.body_pos;
        memmove(c->r.body.data, c->r.body.data + c->r.body_pos, left);
        c->r.body.len = left;
        c->r.body_pos = 0;
    }
    c->interrupted = 0;
    c->asked_ns = smrt_monotonic_ns();
    /* The read timeout counts from this read (urllib3's socket timeout is per recv), in both
     * modes: the time the reader spent between reads is not the server's stall. */
    c->last_progress_ns = smrt_monotonic_ns();
    c->until = want == SIZE_MAX ? RUN_TO_END : RUN_TO_WANT;
    c->want = want;
    if (c->direct) {
        return direct_read(c);
    }
    c->phase = PH_CURL;
    return curl_go(c);
}

smrt_xfer_kind smrt_conn_read(smrt_conn *c, size_t want)
{
    smrt_conn_set_nonblocking(c, 0);
    return conn_read(c, want);
}

smrt_xfer_kind smrt_conn_read_nb(smrt_conn *c, size_t want)
{
    smrt_conn_set_nonblocking(c, 1);
    return conn_read(c, want);
}

void smrt_conn_set_nonblocking(smrt_conn *c, int on)
{
    on = on != 0;
    if (c->nb == on || c->fork_gen != fork_generation) {
        return; /* a parent's socket: its flags are the parent's too (one file description) */
    }
    c->nb = on;
    /* libcurl's sockets and timer reach us only for curl_multi_socket_action's transfers:
     * curl_multi_perform's wait on their own. */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on ? on_socket : NULL);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, on ? c : NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on ? on_timer : NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, on ? c : NULL);
    if (c->direct && c->connected) {
        sock_set_blocking(c, !on);
        if (!on) {
            c->sock_timeo_ms = 0;
            sock_set_timeo(c, SMRT_WAIT_SLICE_MS);
        }
    }
}

int smrt_conn_waits(smrt_conn *c, smrt_watch *out, int cap, int64_t *deadline_ns)
{
    int n = 0;
    int64_t read_deadline = -1;
    if (c->read_timeout_ms > 0 && c->read_timed_out == 0) {
        read_deadline = c->last_progress_ns + (int64_t)c->read_timeout_ms * 1000000LL;
    }
    *deadline_ns = -1;
    switch (c->phase) {
    case PH_CONNECT:
    case PH_CURL:
        for (int i = 0; i < c->n_watch && n < cap; i++) {
            out[n++] = c->watch[i];
        }
        *deadline_ns = c->curl_timer_ns;
        if (c->phase == PH_CURL && read_deadline >= 0 && (*deadline_ns < 0 || read_deadline < *deadline_ns)) {
            *deadline_ns = read_deadline;
        }
        break;
    case PH_SEND:
    case PH_READ:
        if (cap > 0) {
            /* Sending, a readable socket may be an early answer. */
            out[n++] = (smrt_watch){c->sock, c->phase == PH_SEND ? SMRT_WATCH_IN | SMRT_WATCH_OUT : SMRT_WATCH_IN};
        }
        *deadline_ns = read_deadline;
        break;
    default:
        break;
    }
    return n;
}

void smrt_conn_ready(smrt_conn *c, int fd, int events)
{
    c->ready_fd = fd;
    c->ready_ev = events;
}

smrt_xfer_kind smrt_conn_resume(smrt_conn *c)
{
    if (c->phase == PH_IDLE) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "no transfer to go on with");
        return SMRT_XFER_OTHER;
    }
    if (interrupted(c)) {
        snprintf(c->r.errbuf, sizeof(c->r.errbuf), "interrupted");
        conn_abandon(c); /* closes the connection */
        return SMRT_XFER_INTERRUPTED;
    }
    if (c->direct) {
        return direct_go(c);
    }
    smrt_xfer_kind k = curl_go(c);
    return k;
}

void smrt_conn_consume(smrt_conn *c, size_t n)
{
    size_t left = c->r.body.len - c->r.body_pos;
    c->r.body_pos += n < left ? n : left;
    if (c->r.body_pos == c->r.body.len) {
        smrt_buf_clear(&c->r.body);
        c->r.body_pos = 0;
    }
}

void smrt_response_move(smrt_response *dst, smrt_response *src)
{
    smrt_buf head = dst->head, body = dst->body;
    smrt_buf_clear(&head);
    smrt_buf_clear(&body);
    dst->status = src->status;
    dst->headers_done = src->headers_done;
    dst->content_length = src->content_length;
    dst->head = src->head;
    src->head = head;
    if (src->body_pos > 0) {
        /* Consumed bytes go (rare: a body is read here whole or not at all). */
        src->body.len -= src->body_pos;
        memmove(src->body.data, src->body.data + src->body_pos, src->body.len);
        src->body.data[src->body.len] = '\0';
        src->body_pos = 0;
    }
    dst->body = src->body;
    src->body = body;
    dst->body_pos = 0;
    dst->body_seen = src->body_seen;
    dst->complete = src->complete;
    smrt_buf_clear(&dst->url);
    smrt_buf_clear(&dst->tls_names);
    /* Small: copied, so that the connection's cached URL stays. On no memory they stay empty
     * (only error messages read them). */
    (void)smrt_buf_append(&dst->url, src->url.data ? src->url.data : "", src->url.len);
    (void)smrt_buf_append(&dst->tls_names, src->tls_names.data ? src->tls_names.data : "", src->tls_names.len);
    memcpy(dst->errbuf, src->errbuf, sizeof(dst->errbuf));
    dst->tls_error = src->tls_error;
    dst->tls_verify_result = src->tls_verify_result;
}

void smrt_response_release(smrt_response *r)
{
    smrt_buf_destroy(&r->head);
    smrt_buf_destroy(&r->body);
    smrt_buf_destroy(&r->url);
    smrt_buf_destroy(&r->tls_names);
    r->body_pos = 0;
}

smrt_response *smrt_conn_response(smrt_conn *c)
{
    return &c->r;
}

smrt_signer *smrt_conn_signer(smrt_conn *c)
{
    return &c->signer;
}

smrt_buf *smrt_conn_scratch(smrt_conn *c, int which)
{
    return &c->scratch[which ? 1 : 0];
}

void smrt_conn_set_interrupt(smrt_conn *c, smrt_interrupt_fn fn, void *ud)
{
    c->interrupt = fn;
    c->interrupt_ud = ud;
}
