/* The runner: engine calls (engine.h) run to completion by a pool of worker threads, for
 * drivers that keep many calls in flight (the batch runner; next, the asyncio client).
 *
 *   driver: smrt_call_init + smrt_runner_submit --> queued --> a worker steps the call:
 *       WAIT      the worker sleeps it (cut short by smrt_runner_cancel), steps again
 *       CLASSIFY  handed back: the driver takes it (smrt_runner_take_classify), parses the
 *                 error response as its language does, smrt_call_classified, then
 *                 smrt_runner_resume puts it first in the queue
 *       RESPONSE, FAILED, ABORTED: the response moves out of the connection into the job
 *                 (smrt_response_move), the call finishes (its connection goes back to the
 *                 pool at once), the job is DONE; but a RESPONSE of a SMRT_READ_HEAD call whose
 *                 body is still arriving keeps its connection in the call, for the driver to
 *                 take (smrt_call_take_conn).
 *
 * At most `limit` calls are in flight at a time, from their first send to DONE (waiting for
 * classification or sleeping a backoff included: the workers beyond it wait); the limit may
 * change while calls run (adaptive concurrency: smrt_adapt below). No Python.h; nothing here
 * needs the GIL. A driver waits for its jobs with smrt_runner_wait, which it calls with the
 * GIL released. Jobs belong to the driver: the runner only links them.
 *
 * Evented (smrt_runner_init_evented): one thread steps every call, none blocking. A call's
 * transfer that would wait (SMRT_STEP_IO) registers its sockets in the runner's epoll set with
 * its deadline, and the thread goes on with the others; a ready socket or a passed deadline
 * steps it again. Backoffs are timers of the same loop (or handed back). The limit then bounds
 * calls in flight, not threads: there is one. */
#ifndef SMRT_RUNNER_H
#define SMRT_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine.h"

typedef enum smrt_job_state {
    SMRT_JOB_IDLE = 0, /* not submitted (or delivered) */
    SMRT_JOB_QUEUED,
    SMRT_JOB_RUNNING,
    SMRT_JOB_CLASSIFY, /* waits for the driver's smrt_call_classified */
    SMRT_JOB_WAIT,     /* handed back (handback_waits): the driver waits call.delay, resumes it */
    SMRT_JOB_DONE,
} smrt_job_state;

typedef struct smrt_job {
    smrt_call call;      /* initialised by the driver (smrt_call_init) before submitting */
    smrt_job_state state; /* read and written under the runner's lock */
    smrt_step outcome;   /* DONE: RESPONSE, FAILED or ABORTED */
    smrt_response resp;  /* DONE with RESPONSE or FAILED: the last attempt's response */
    int64_t started_ns;  /* when a worker first stepped it */
    int64_t done_ns;
    int counted;           /* started: counts against the limit until DONE */
    /* A read job instead of a call (`call` unused): smrt_conn_read(read_conn, read_want), its
     * outcome in call.kind. For a driver that reads a live body elsewhere (aio.c). */
    smrt_conn *read_conn;
    size_t read_want;
    atomic_int cancelled;  /* smrt_runner_cancel_job: its transfer stops, it ends ABORTED */
    /* Evented runner: the sockets it waits on (epoll data points at an entry), and until when. */
    struct smrt_job_reg {
        struct smrt_job *job;
        int fd;
        int events;
    } reg[SMRT_MAX_WATCH];
    int n_reg;
    int in_io;          /* waiting in the loop (on sockets, a deadline, or a backoff) */
    int sleeping;       /* the wait is a backoff (call.delay) */
    int64_t io_deadline; /* -1: none */
    struct smrt_job *io_prev, *io_next;
    atomic_int *runner_cancel; /* its runner's flag (set at submit) */
    struct smrt_job *next; /* the runner's queues */
} smrt_job;

typedef struct smrt_runner {
    smrt_engine *eng;
    pthread_mutex_t lock;
    pthread_cond_t work_cv;   /* workers: a job queued, the limit raised, cancel */
    pthread_cond_t driver_cv; /* the driver: its awaited job is done, or one to classify */
    pthread_cond_t sleep_cv;  /* workers sleeping a WAIT: cancel */
    int ready;                /* what init made: 1 lock, 2 cvs */
    smrt_job *queue, *queue_tail;
    smrt_job *classify, *classify_tail; /* handed back: CLASSIFY, and WAIT/DONE when asked */
    const smrt_job *awaited; /* the driver wakes for this one (or any classification) */
    int limit;               /* calls in flight at a time */
    int active;              /* calls started and not DONE (a classification or a backoff included) */
    int n_threads, max_threads;
    pthread_t *threads;
    atomic_int cancel;
    atomic_int backing_off; /* calls sleeping a retry's backoff now */
    /* Set before submitting. handback_waits: a WAIT step is handed back (the driver sleeps it
     * its own way, e.g. an event-loop timer) instead of slept by the worker. handback_done:
     * DONE jobs are handed back too (a driver that does not wait for one job at a time).
     * notify_fd >= 0: 8 bytes (an eventfd's 1) are written to it when the hand-back list
     * becomes non-empty; the driver drains it before taking the list. */
    int handback_waits;
    int handback_done;
    int notify_fd;
    int spawn_error; /* a worker could not be started (fewer run) */
    /* Evented mode. */
    int evented;
    int epfd, wake_fd;
    int io_sleeping, io_kicked; /* under the lock: the thread waits in epoll, it was woken */
    smrt_job *io_head;          /* jobs waiting in the loop */
    struct smrt_job_reg wake_reg;
    void *batch_events;         /* the epoll batch being handled (struct epoll_event *) */
    int batch_i, batch_n;
} smrt_runner;

/* Set up a runner for `eng` (borrowed; it must outlive the runner) with room for up to
 * `max_threads` workers, `limit` of them started now. SMRT_OK, or SMRT_ENOMEM / SMRT_EINVAL
 * (no worker could start); on failure the runner still goes to smrt_runner_destroy. */
int smrt_runner_init(smrt_runner *r, smrt_engine *eng, int max_threads, int limit);
/* The same, handing back what `handback_waits`/`handback_done` say and writing to `notify_fd`
 * (-1: none) as the hand-back list fills. */
int smrt_runner_init_handback(smrt_runner *r, smrt_engine *eng, int max_threads, int limit, int handback_waits,
                              int handback_done, int notify_fd);
/* An evented runner (see above): one thread, at most `limit` calls in flight; hand-backs as
 * smrt_runner_init_handback's. SMRT_OK, SMRT_ENOMEM or SMRT_EINVAL (no epoll, no thread);
 * on failure the runner still goes to smrt_runner_destroy. */
int smrt_runner_init_evented(smrt_runner *r, smrt_engine *eng, int limit, int handback_waits, int handback_done,
                             int notify_fd);
/* Cancel (below), wait for every worker to end, free the runner's own memory. Jobs still
 * queued or classified are left as they are (their calls not finished): the driver finishes
 * them. Safe on a zeroed or half-built runner; idempotent. */
void smrt_runner_destroy(smrt_runner *r);
/* Queue `j` (its call initialised). */
void smrt_runner_submit(smrt_runner *r, smrt_job *j);
/* The driver gives up a job it holds (handed back, not DONE: a backoff it was timing): its
 * place in the limit is freed. */
void smrt_runner_drop(smrt_runner *r, smrt_job *j);
/* After the driver classified `j`: back to the front of the queue. */
void smrt_runner_resume(smrt_runner *r, smrt_job *j);
/* A job handed back (waiting for classification; with handback_waits/handback_done also a
 * WAIT or DONE one: see its state), or NULL. */
smrt_job *smrt_runner_take_classify(smrt_runner *r);
/* Stop one job: queued, it ends ABORTED without sending; running, its transfer or backoff is
 * interrupted. It then ends as usual (DONE with ABORTED, kind INTERRUPTED). Any thread. */
void smrt_runner_cancel_job(smrt_runner *r, smrt_job *j);
/* Step at most `limit` calls at a time (1 .. max_threads; evented: any), starting workers as
 * needed. */
void smrt_runner_set_limit(smrt_runner *r, int limit);
/* The state of `j`, read under the lock. */
smrt_job_state smrt_runner_state(smrt_runner *r, const smrt_job *j);
/* Block until `awaited` is DONE, a job waits for classification, or `timeout_ns` passed.
 * Returns 1 when one of the first two holds, 0 on timeout. Call without the GIL. */
int smrt_runner_wait(smrt_runner *r, const smrt_job *awaited, int64_t timeout_ns);
/* Stop: calls being sent are interrupted (their jobs end ABORTED, kind INTERRUPTED), sleeps
 * end, no queued job starts. Any thread, any time. */
void smrt_runner_cancel(smrt_runner *r);

/* Adaptive concurrency, a small AIMD controller: the window grows by one each time a window's
 * worth of calls completes with latency near the lowest seen and no throttling; it is cut by a
 * quarter on throttling, at most once per latency period (a burst of 429s is one signal), and
 * then holds for eight windows' worth of calls before probing again, so that probing for
 * capacity costs few throttled calls (each one is retried, spending the retry quota). */
typedef struct smrt_adapt {
    int limit, min_limit, max_limit;
    double base_latency; /* the lowest smoothed latency seen, seconds (0: none yet) */
    double latency;      /* smoothed latency (EWMA) */
    int completed;       /* calls completed since the last change */
    int hold;            /* calls to complete before growing again */
    double last_cut;     /* when the window was last cut (seconds, any monotonic clock) */
    unsigned long long throttled; /* throttling responses seen */
    unsigned long long cuts;
} smrt_adapt;

void smrt_adapt_init(smrt_adapt *a, int start, int min_limit, int max_limit);
/* A call completed without throttling after `latency_s`; returns the new limit. `may_grow`
 * 0: hold (calls are still backing off after throttling: the window is not probed again until
 * they are through). */
int smrt_adapt_success(smrt_adapt *a, double latency_s, int may_grow);
/* A throttling response at time `now_s`; returns the new limit. */
int smrt_adapt_throttled(smrt_adapt *a, double now_s);

#endif
