/* The runner: worker threads stepping engine calls (runner.h). */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Workers run the call path only (signing, libcurl, OpenSSL): a small stack is plenty. */
#define WORKER_STACK (512 * 1024)

static struct timespec deadline_after(int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + (ns > 0 ? ns : 0);
    ts.tv_sec = (time_t)(t / 1000000000LL);
    ts.tv_nsec = (long)(t % 1000000000LL);
    return ts;
}

static int init_cv(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        return -1;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

static void kick_locked(smrt_runner *r);

/* The lock and condition variables, for both kinds of runner: `ready` says what was made (1 the
 * lock, 2 all), for smrt_runner_destroy. SMRT_OK or SMRT_ENOMEM. */
static int init_cv(pthread_cond_t *cv);
static int init_sync(smrt_runner *r)
{
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        return SMRT_ENOMEM;
    }
    r->ready = 1;
    if (init_cv(&r->work_cv) < 0) {
        return SMRT_ENOMEM;
    }
    if (init_cv(&r->driver_cv) < 0) {
        pthread_cond_destroy(&r->work_cv);
        return SMRT_ENOMEM;
    }
    if (init_cv(&r->sleep_cv) < 0) {
        pthread_cond_destroy(&r->work_cv);
        pthread_cond_destroy(&r->driver_cv);
        return SMRT_ENOMEM;
    }
    r->ready = 2;
    return SMRT_OK;
}

static int job_cancelled(smrt_job *j)
{
    return atomic_load_explicit(&j->cancelled, memory_order_relaxed) ||
           atomic_load_explicit(j->runner_cancel, memory_order_relaxed);
}

static int interrupted(void *ud)
{
    return job_cancelled(ud);
}

/* Sleep `seconds` unless cancelled first: 0, or -1 when cancelled. */
static int sleep_unless_cancelled(smrt_runner *r, smrt_job *j, double seconds)
{
    struct timespec until = deadline_after((int64_t)(seconds * 1e9));
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    while (!job_cancelled(j)) {
        if (pthread_cond_timedwait(&r->sleep_cv, &r->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    if (job_cancelled(j)) {
        rc = -1;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* The call of `j` ended with `s` (RESPONSE, FAILED, ABORTED): DONE. */
static smrt_job_state job_ended(smrt_job *j, smrt_step s)
{
    smrt_conn *conn = smrt_call_conn(&j->call);
    if (s == SMRT_STEP_RESPONSE && j->call.mode == SMRT_READ_HEAD && !j->call.body_broke &&
        !smrt_conn_response(conn)->complete) {
        /* A body still arriving: the driver takes the connection with the call. */
        j->outcome = s;
        j->done_ns = smrt_monotonic_ns();
        return SMRT_JOB_DONE;
    }
    if (conn != NULL && s != SMRT_STEP_ABORTED) {
        smrt_response_move(&j->resp, smrt_conn_response(conn));
    }
    smrt_call_finish(&j->call); /* the connection goes back to the pool now */
    j->outcome = s;
    j->done_ns = smrt_monotonic_ns();
    return SMRT_JOB_DONE;
}

/* Step `j` until it is done or needs classifying; returns its next state. */
static smrt_job_state run_job(smrt_runner *r, smrt_job *j)
{
    if (j->started_ns == 0) {
        j->started_ns = smrt_monotonic_ns();
    }
    if (j->read_conn != NULL) {
        smrt_conn_set_interrupt(j->read_conn, interrupted, j);
        j->call.kind = job_cancelled(j) ? SMRT_XFER_INTERRUPTED : smrt_conn_read(j->read_conn, j->read_want);
        smrt_conn_set_interrupt(j->read_conn, NULL, NULL);
        j->outcome = SMRT_STEP_RESPONSE;
        j->done_ns = smrt_monotonic_ns();
        return SMRT_JOB_DONE;
    }
    for (;;) {
        j->call.interrupt = interrupted;
        j->call.interrupt_ud = j;
        smrt_step s = job_cancelled(j) ? SMRT_STEP_ABORTED : smrt_call_step(&j->call);
        if (s == SMRT_STEP_ABORTED && job_cancelled(j)) {
            j->call.kind = SMRT_XFER_INTERRUPTED;
            j->call.error = SMRT_OK;
        }
        if (s == SMRT_STEP_CLASSIFY) {
            return SMRT_JOB_CLASSIFY;
        }
        if (s == SMRT_STEP_WAIT && r->handback_waits) {
            return SMRT_JOB_WAIT;
        }
        if (s == SMRT_STEP_WAIT) {
            int retrying = j->call.retrying;
            if (retrying) {
                atomic_fetch_add(&r->backing_off, 1);
            }
            int rc = sleep_unless_cancelled(r, j, j->call.delay);
            if (retrying) {
                atomic_fetch_sub(&r->backing_off, 1);
            }
            if (rc == 0) {
                continue;
            }
            j->call.kind = SMRT_XFER_INTERRUPTED;
            j->call.error = SMRT_OK;
            s = SMRT_STEP_ABORTED;
        }
        return job_ended(j, s);
    }
}

/* With the lock held: `j` stopped at `next` (not RUNNING): hand it back as the driver asked. */
static void publish_locked(smrt_runner *r, smrt_job *j, smrt_job_state next)
{
    j->state = next;
    if (next == SMRT_JOB_DONE) {
        r->active--; /* this worker takes the next call itself */
    }
    if (next != SMRT_JOB_DONE || r->handback_done) {
        int was_empty = r->classify == NULL;
        if (r->classify_tail) {
            r->classify_tail->next = j;
        } else {
            r->classify = j;
        }
        r->classify_tail = j;
        pthread_cond_signal(&r->driver_cv);
        if (was_empty && r->notify_fd >= 0) {
            uint64_t one = 1;
            ssize_t w = write(r->notify_fd, &one, sizeof(one)); /* an eventfd: never short */
            (void)w;
        }
    } else if (j == r->awaited) {
        pthread_cond_signal(&r->driver_cv);
    }
}

static void *worker_main(void *arg)
{
    smrt_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        /* A resumed call (at the front) is in flight already; a new one needs room. */
        while (!atomic_load(&r->cancel) && (r->queue == NULL || (!r->queue->counted && r->active >= r->limit))) {
            pthread_cond_wait(&r->work_cv, &r->lock);
        }
        if (atomic_load(&r->cancel)) {
            break;
        }
        smrt_job *j = r->queue;
        r->queue = j->next;
        if (r->queue == NULL) {
            r->queue_tail = NULL;
        }
        j->next = NULL;
        j->state = SMRT_JOB_RUNNING;
        if (!j->counted) {
            j->counted = 1;
            r->active++;
        }
        pthread_mutex_unlock(&r->lock);
        smrt_job_state next = run_job(r, j);
        pthread_mutex_lock(&r->lock);
        publish_locked(r, j, next);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* With the lock held: start workers up to `n`. */
static void spawn_locked(smrt_runner *r, int n)
{
    if (n > r->max_threads) {
        n = r->max_threads;
    }
    pthread_attr_t attr;
    if (r->n_threads >= n || pthread_attr_init(&attr) != 0) {
        return;
    }
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    while (r->n_threads < n) {
        if (pthread_create(&r->threads[r->n_threads], &attr, worker_main, r) != 0) {
            r->spawn_error = 1;
            break;
        }
        r->n_threads++;
    }
    pthread_attr_destroy(&attr);
}

int smrt_runner_init(smrt_runner *r, smrt_engine *eng, int max_threads, int limit)
{
    return smrt_runner_init_handback(r, eng, max_threads, limit, 0, 0, -1);
}

int smrt_runner_init_handback(smrt_runner *r, smrt_engine *eng, int max_threads, int limit, int handback_waits,
                              int handback_done, int notify_fd)
{
    memset(r, 0, sizeof(*r));
    r->eng = eng;
    r->handback_waits = handback_waits;
    r->handback_done = handback_done;
    r->notify_fd = notify_fd;
    if (max_threads < 1 || limit < 1) {
        return SMRT_EINVAL;
    }
    if (init_sync(r) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    r->threads = calloc((size_t)max_threads, sizeof(pthread_t));
    if (r->threads == NULL) {
        return SMRT_ENOMEM;
    }
    r->max_threads = max_threads;
    r->limit = limit < max_threads ? limit : max_threads;
    pthread_mutex_lock(&r->lock);
    spawn_locked(r, r->limit);
    int n = r->n_threads;
    pthread_mutex_unlock(&r->lock);
    return n > 0 ? SMRT_OK : SMRT_EINVAL;
}

void smrt_runner_cancel_job(smrt_runner *r, smrt_job *j)
{
    atomic_store(&j->cancelled, 1);
    if (r->ready == 2) {
        pthread_mutex_lock(&r->lock);
        kick_locked(r);
        pthread_cond_broadcast(&r->sleep_cv);
        pthread_mutex_unlock(&r->lock);
    }
}

void smrt_runner_cancel(smrt_runner *r)
{
    if (r->ready < 2) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->cancel, 1);
    kick_locked(r);

    pthread_cond_broadcast(&r->work_cv);
    pthread_cond_broadcast(&r->sleep_cv);
    pthread_cond_broadcast(&r->driver_cv);
    pthread_mutex_unlock(&r->lock);
}

void smrt_runner_destroy(smrt_runner *r)
{
    if (r->ready == 2) {
        smrt_runner_cancel(r);
        for (int i = 0; i < r->n_threads; i++) {
            pthread_join(r->threads[i], NULL);
        }
        pthread_cond_destroy(&r->work_cv);
        pthread_cond_destroy(&r->driver_cv);
        pthread_cond_destroy(&r->sleep_cv);
    }
    if (r->ready >= 1) {
        pthread_mutex_destroy(&r->lock);
    }
    if (r->evented) {
        if (r->epfd >= 0) {
            close(r->epfd);
        }
        if (r->wake_fd >= 0) {
            close(r->wake_fd);
        }
        r->epfd = r->wake_fd = -1;
        r->evented = 0;
    }
    free(r->threads);
    r->threads = NULL;
    r->n_threads = 0;
    r->ready = 0;
}

void smrt_runner_submit(smrt_runner *r, smrt_job *j)
{
    pthread_mutex_lock(&r->lock);
    j->state = SMRT_JOB_QUEUED;
    j->counted = 0;
    j->runner_cancel = &r->cancel;
    atomic_store(&j->cancelled, 0);
    j->next = NULL;
    if (r->queue_tail) {
        r->queue_tail->next = j;
    } else {
        r->queue = j;
    }
    r->queue_tail = j;
    if (r->active < r->limit) {
        pthread_cond_signal(&r->work_cv);
        kick_locked(r);
    }
    pthread_mutex_unlock(&r->lock);
}

void smrt_runner_drop(smrt_runner *r, smrt_job *j)
{
    pthread_mutex_lock(&r->lock);
    if (j->counted && j->state != SMRT_JOB_DONE) {
        j->counted = 0;
        r->active--;
        pthread_cond_signal(&r->work_cv);
        kick_locked(r);
    }
    j->state = SMRT_JOB_IDLE;
    pthread_mutex_unlock(&r->lock);
}

void smrt_runner_resume(smrt_runner *r, smrt_job *j)
{
    pthread_mutex_lock(&r->lock);
    j->state = SMRT_JOB_QUEUED;
    j->next = r->queue;
    r->queue = j;
    if (r->queue_tail == NULL) {
        r->queue_tail = j;
    }
    /* A worker is free for it: at most `limit` calls are in flight, each on at most one. */
    pthread_cond_signal(&r->work_cv);
    kick_locked(r);
    pthread_mutex_unlock(&r->lock);
}

smrt_job *smrt_runner_take_classify(smrt_runner *r)
{
    pthread_mutex_lock(&r->lock);
    smrt_job *j = r->classify;
    if (j) {
        r->classify = j->next;
        if (r->classify == NULL) {
            r->classify_tail = NULL;
        }
        j->next = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    return j;
}

void smrt_runner_set_limit(smrt_runner *r, int limit)
{
    if (limit < 1) {
        limit = 1;
    }
    if (limit > r->max_threads && !r->evented) {
        limit = r->max_threads;
    }
    pthread_mutex_lock(&r->lock);
    int raised = limit > r->limit;
    r->limit = limit;
    if (!r->evented) {
        spawn_locked(r, limit);
    }
    if (raised) {
        pthread_cond_broadcast(&r->work_cv);
        kick_locked(r);
    }
    pthread_mutex_unlock(&r->lock);
}

smrt_job_state smrt_runner_state(smrt_runner *r, const smrt_job *j)
{
    pthread_mutex_lock(&r->lock);
    smrt_job_state s = j->state;
    pthread_mutex_unlock(&r->lock);
    return s;
}

int smrt_runner_wait(smrt_runner *r, const smrt_job *awaited, int64_t timeout_ns)
{
    struct timespec until = deadline_after(timeout_ns);
    int ok = 0;
    pthread_mutex_lock(&r->lock);
    r->awaited = awaited;
    for (;;) {
        if (r->classify != NULL || (awaited != NULL && awaited->state == SMRT_JOB_DONE) || atomic_load(&r->cancel)) {
            ok = 1;
            break;
        }
        if (pthread_cond_timedwait(&r->driver_cv, &r->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    r->awaited = NULL;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* ---- the evented runner: one thread, epoll ------------------------------------------------- */

#define EV_BATCH 256

/* With the lock held: wake the loop if it waits in epoll (once per wait). */
static void kick_locked(smrt_runner *r)
{
    if (r->evented && r->io_sleeping && !r->io_kicked) {
        r->io_kicked = 1;
        uint64_t one = 1;
        ssize_t w = write(r->wake_fd, &one, sizeof(one));
        (void)w;
    }
}

static void reg_ctl(smrt_runner *r, struct smrt_job_reg *g, int add)
{
    struct epoll_event ev = {.events = ((g->events & SMRT_WATCH_IN) ? EPOLLIN : 0) |
                                       ((g->events & SMRT_WATCH_OUT) ? EPOLLOUT : 0),
                             .data.ptr = g};
    /* A socket closed and another opened under the same number in one step: the old
     * registration went with the close (ENOENT), or the number is registered (EEXIST). */
    if (epoll_ctl(r->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, g->fd, &ev) < 0) {
        epoll_ctl(r->epfd, add ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, g->fd, &ev);
    }
}

/* `j` stops waiting: its sockets leave the epoll set, it leaves the loop's list, and events of
 * this batch that name it are dropped (the driver may free it once handed back). */
static void io_forget(smrt_runner *r, smrt_job *j)
{
    for (int i = 0; i < j->n_reg; i++) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, j->reg[i].fd, NULL); /* ENOENT/EBADF: closed already */
    }
    j->n_reg = 0;
    if (j->in_io) {
        if (j->io_prev) {
            j->io_prev->io_next = j->io_next;
        } else {
            r->io_head = j->io_next;
        }
        if (j->io_next) {
            j->io_next->io_prev = j->io_prev;
        }
        j->io_prev = j->io_next = NULL;
        j->in_io = 0;
    }
    struct epoll_event *evs = r->batch_events;
    for (int i = r->batch_i; i < r->batch_n; i++) {
        char *p = evs[i].data.ptr;
        if (p >= (char *)j->reg && p < (char *)(j->reg + SMRT_MAX_WATCH)) {
            evs[i].data.ptr = NULL;
        }
    }
}

/* `j` waits: on what its connection names (`conn`; NULL: only until the deadline). */
static void io_wait(smrt_runner *r, smrt_job *j, smrt_conn *conn, int64_t deadline)
{
    smrt_watch w[SMRT_MAX_WATCH];
    int n = 0;
    if (conn != NULL) {
        n = smrt_conn_waits(conn, w, SMRT_MAX_WATCH, &deadline);
    }
    /* Sockets no longer wanted leave the set; the rest are (re)registered. */
    for (int i = 0; i < j->n_reg; i++) {
        int kept = 0;
        for (int k = 0; k < n; k++) {
            kept |= w[k].fd == j->reg[i].fd;
        }
        if (!kept) {
            epoll_ctl(r->epfd, EPOLL_CTL_DEL, j->reg[i].fd, NULL);
        }
    }
    int old_n = j->n_reg;
    int old_fd[SMRT_MAX_WATCH];
    for (int i = 0; i < old_n; i++) {
        old_fd[i] = j->reg[i].fd;
    }
    for (int k = 0; k < n; k++) {
        int had = 0;
        for (int i = 0; i < old_n; i++) {
            had |= old_fd[i] == w[k].fd;
        }
        j->reg[k] = (struct smrt_job_reg){j, w[k].fd, w[k].events};
        reg_ctl(r, &j->reg[k], !had);
    }
    j->n_reg = n;
    j->io_deadline = deadline;
    if (!j->in_io) {
        j->in_io = 1;
        j->io_prev = NULL;
        j->io_next = r->io_head;
        if (r->io_head) {
            r->io_head->io_prev = j;
        }
        r->io_head = j;
    }
    /* Events of this batch for sockets it registered anew must not reach it twice: harmless
     * (a resume without readiness finds nothing and waits again). */
}

/* Step `j` (`fd` ready for `events`, or -1) until it waits or stops; a stop is handed back. */
static void ev_step(smrt_runner *r, smrt_job *j, int fd, int events)
{
    smrt_job_state next;
    if (j->started_ns == 0) {
        j->started_ns = smrt_monotonic_ns();
    }
    if (j->read_conn != NULL) {
        smrt_conn *conn = j->read_conn;
        smrt_xfer_kind k;
        smrt_conn_set_interrupt(conn, interrupted, j);
        if (job_cancelled(j) && !j->in_io) {
            k = SMRT_XFER_INTERRUPTED;
        } else if (j->in_io) {
            smrt_conn_ready(conn, fd, events);
            k = smrt_conn_resume(conn);
        } else {
            k = smrt_conn_read_nb(conn, j->read_want);
        }
        if (k == SMRT_XFER_AGAIN) {
            io_wait(r, j, conn, -1);
            return;
        }
        smrt_conn_set_interrupt(conn, NULL, NULL);
        io_forget(r, j);
        j->call.kind = k;
        j->outcome = SMRT_STEP_RESPONSE;
        j->done_ns = smrt_monotonic_ns();
        next = SMRT_JOB_DONE;
    } else {
        int transferring = j->in_io && !j->sleeping; /* a cancel stops it in the transport */
        if (j->sleeping) {
            /* A backoff's timer: done, or cut short by a cancel. */
            j->sleeping = 0;
            if (j->call.retrying) {
                atomic_fetch_sub(&r->backing_off, 1);
            }
        }
        for (;;) {
            j->call.interrupt = interrupted;
            j->call.interrupt_ud = j;
            j->call.nonblocking = 1;
            smrt_conn *conn = smrt_call_conn(&j->call);
            if (conn != NULL && fd >= 0) {
                smrt_conn_ready(conn, fd, events);
            }
            fd = -1;
            smrt_step s = job_cancelled(j) && !transferring ? SMRT_STEP_ABORTED : smrt_call_step(&j->call);
            if (s == SMRT_STEP_IO) {
                io_wait(r, j, smrt_call_conn(&j->call), -1);
                return;
            }
            io_forget(r, j);
            if (s == SMRT_STEP_ABORTED && job_cancelled(j)) {
                j->call.kind = SMRT_XFER_INTERRUPTED;
                j->call.error = SMRT_OK;
            }
            if (s == SMRT_STEP_CLASSIFY) {
                next = SMRT_JOB_CLASSIFY;
                break;
            }
            if (s == SMRT_STEP_WAIT && r->handback_waits) {
                next = SMRT_JOB_WAIT;
                break;
            }
            if (s == SMRT_STEP_WAIT) {
                if (job_cancelled(j)) {
                    j->call.kind = SMRT_XFER_INTERRUPTED;
                    j->call.error = SMRT_OK;
                    next = job_ended(j, SMRT_STEP_ABORTED);
                    break;
                }
                j->sleeping = 1;
                if (j->call.retrying) {
                    atomic_fetch_add(&r->backing_off, 1);
                }
                io_wait(r, j, NULL, smrt_monotonic_ns() + (int64_t)(j->call.delay * 1e9));
                return;
            }
            next = job_ended(j, s);
            break;
        }
    }
    pthread_mutex_lock(&r->lock);
    publish_locked(r, j, next);
    pthread_mutex_unlock(&r->lock);
}

static void *io_main(void *arg)
{
    smrt_runner *r = arg;
    struct epoll_event evs[EV_BATCH];
    r->batch_events = evs;
    pthread_mutex_lock(&r->lock);
    while (!atomic_load(&r->cancel)) {
        /* Start what the limit allows (a resumed call, at the front, is in flight already). */
        while (r->queue != NULL && (r->queue->counted || r->active < r->limit) && !atomic_load(&r->cancel)) {
            smrt_job *j = r->queue;
            r->queue = j->next;
            if (r->queue == NULL) {
                r->queue_tail = NULL;
            }
            j->next = NULL;
            j->state = SMRT_JOB_RUNNING;
            if (!j->counted) {
                j->counted = 1;
                r->active++;
            }
            pthread_mutex_unlock(&r->lock);
            ev_step(r, j, -1, 0);
            pthread_mutex_lock(&r->lock);
        }
        /* Until the nearest deadline; the wake fd brings new work and cancels. */
        int64_t now = smrt_monotonic_ns(), soonest = -1;
        for (smrt_job *j = r->io_head; j; j = j->io_next) {
            if (j->io_deadline >= 0 && (soonest < 0 || j->io_deadline < soonest)) {
                soonest = j->io_deadline;
            }
        }
        int timeout = -1;
        if (soonest >= 0) {
            int64_t ms = soonest > now ? (soonest - now + 999999) / 1000000 : 0;
            timeout = ms > 60000 ? 60000 : (int)ms;
        }
        if (r->queue != NULL && (r->queue->counted || r->active < r->limit)) {
            timeout = 0;
        }
        r->io_sleeping = 1;
        pthread_mutex_unlock(&r->lock);
        int n = epoll_wait(r->epfd, evs, EV_BATCH, timeout);
        pthread_mutex_lock(&r->lock);
        r->io_sleeping = 0;
        r->io_kicked = 0;
        pthread_mutex_unlock(&r->lock);
        r->batch_n = n > 0 ? n : 0;
        for (r->batch_i = 0; r->batch_i < r->batch_n;) {
            struct epoll_event *e = &evs[r->batch_i++];
            struct smrt_job_reg *g = e->data.ptr;
            if (g == NULL) {
                continue; /* its job stopped earlier in this batch */
            }
            if (g == &r->wake_reg) {
                uint64_t v;
                ssize_t rd = read(r->wake_fd, &v, sizeof(v));
                (void)rd;
                continue;
            }
            int ev = ((e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? SMRT_WATCH_IN : 0) |
                     ((e->events & (EPOLLOUT | EPOLLERR)) ? SMRT_WATCH_OUT : 0);
            ev_step(r, g->job, g->fd, ev);
        }
        r->batch_n = r->batch_i = 0;
        /* Deadlines passed, and calls cancelled while they wait. */
        now = smrt_monotonic_ns();
        for (smrt_job *j = r->io_head, *nx; j; j = nx) {
            nx = j->io_next;
            if ((j->io_deadline >= 0 && j->io_deadline <= now) || job_cancelled(j)) {
                ev_step(r, j, -1, 0);
            }
        }
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int smrt_runner_init_evented(smrt_runner *r, smrt_engine *eng, int limit, int handback_waits, int handback_done,
                             int notify_fd)
{
    memset(r, 0, sizeof(*r));
    r->epfd = r->wake_fd = -1;
    r->eng = eng;
    r->handback_waits = handback_waits;
    r->handback_done = handback_done;
    r->notify_fd = notify_fd;
    if (limit < 1) {
        return SMRT_EINVAL;
    }
    if (init_sync(r) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    r->evented = 1;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r->threads = calloc(1, sizeof(pthread_t));
    if (r->epfd < 0 || r->wake_fd < 0 || r->threads == NULL) {
        return r->threads == NULL ? SMRT_ENOMEM : SMRT_EINVAL;
    }
    r->wake_reg.fd = r->wake_fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &r->wake_reg};
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->wake_fd, &ev) < 0) {
        return SMRT_EINVAL;
    }
    r->max_threads = 1;
    r->limit = limit;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) {
        return SMRT_ENOMEM;
    }
    /* direct_read's 64 KiB chunk and libcurl/OpenSSL beneath: as the workers. */
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    int rc = pthread_create(&r->threads[0], &attr, io_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        r->spawn_error = 1;
        return SMRT_EINVAL;
    }
    r->n_threads = 1;
    return SMRT_OK;
}

/* ---- adaptive concurrency ------------------------------------------------------------------- */

void smrt_adapt_init(smrt_adapt *a, int start, int min_limit, int max_limit)
{
    memset(a, 0, sizeof(*a));
    a->min_limit = min_limit < 1 ? 1 : min_limit;
    a->max_limit = max_limit < a->min_limit ? a->min_limit : max_limit;
    a->limit = start < a->min_limit ? a->min_limit : start > a->max_limit ? a->max_limit : start;
    a->last_cut = -1e300;
}

int smrt_adapt_success(smrt_adapt *a, double latency_s, int may_grow)
{
    a->latency = a->latency > 0 ? 0.9 * a->latency + 0.1 * latency_s : latency_s;
    if (a->hold > 0) {
        a->hold--;
        return a->limit;
    }
    if (++a->completed < a->limit) {
        return a->limit;
    }
    /* A window's worth: its smoothed latency against the floor. */
    a->completed = 0;
    if (a->base_latency <= 0 || a->latency < a->base_latency) {
        a->base_latency = a->latency;
    }
    /* Queueing shows as latency: grow only while it stays within 1.5x the floor (plus 1 ms
     * of noise, loopback latencies being tens of microseconds). */
    if (may_grow && a->latency <= 1.5 * a->base_latency + 0.001 && a->limit < a->max_limit) {
        a->limit++;
    } else if (a->latency > 3.0 * a->base_latency + 0.002 && a->limit > a->min_limit) {
        a->limit--; /* queueing without throttling: back off gently */
    }
    return a->limit;
}

int smrt_adapt_throttled(smrt_adapt *a, double now_s)
{
    a->throttled++;
    a->completed = 0;
    /* One cut per latency period: the 429s of one burst are one signal. */
    double period = a->latency > 0 ? 2.0 * a->latency : 0.0;
    if (period < 0.005) {
        period = 0.005;
    }
    if (now_s - a->last_cut < period) {
        return a->limit;
    }
    a->last_cut = now_s;
    a->cuts++;
    int cut = (a->limit * 3) / 4;
    a->limit = cut < a->min_limit ? a->min_limit : cut;
    a->hold = 8 * a->limit;
    return a->limit;
}
