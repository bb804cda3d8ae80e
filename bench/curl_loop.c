/* The floor: a bare libcurl loop POSTing the same body to the same keep-alive server, no
 * signing. Usage: curl_loop URL BODY_BYTES CALLS [HEADER_FILE [CA_FILE]]
 *   -> "WALL USER SYS": microseconds per call, wall-clock time and this process's user and
 *      system CPU time (getrusage), over the CALLS timed calls only.
 * HEADER_FILE holds one "Name: value" line per header, sent as they are on every call
 * (precomputed once: the same request bytes as the client under test, without its work); "-"
 * for a minimal request. CA_FILE: the CA bundle that verifies an https URL.
 * One untimed call comes first: the clients it is compared with are timed on a connection
 * already open (and TLS already negotiated), so the loop's is too.
 * With SMRT_PERF_CTL="CTL_FD,ACK_FD" in the environment (perf stat --control fd:...,...), perf's
 * counters are enabled for the timed calls only. */
#define _GNU_SOURCE /* pwritev2, preadv2 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* Send "enable" or "disable" to perf stat's control fd and wait for its ack, when asked.
 * pwritev2 and preadv2 (offset -1: a plain write and read) because no HTTP client makes
 * them: the counter takes them out of the counts exactly (bench/context.py count_syscalls). */
static void perf_ctl(const char *cmd)
{
    const char *spec = getenv("SMRT_PERF_CTL");
    int ctl, ack;
    char buf[16];
    if (spec == NULL || sscanf(spec, "%d,%d", &ctl, &ack) != 2) {
        return;
    }
    struct iovec out = {.iov_base = (void *)cmd, .iov_len = strlen(cmd)};
    struct iovec in = {.iov_base = buf, .iov_len = sizeof(buf)};
    if (pwritev2(ctl, &out, 1, -1, 0) < 0 || preadv2(ack, &in, 1, -1, 0) <= 0) {
        perror("perf control");
        exit(1);
    }
}

static double tv_us(struct timeval t)
{
    return (double)t.tv_sec * 1e6 + (double)t.tv_usec;
}

static int call(CURL *h)
{
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s URL BODY_BYTES CALLS [HEADER_FILE [CA_FILE]]\n", argv[0]);
        return 2;
    }
    size_t len = strtoul(argv[2], NULL, 10);
    long calls = strtol(argv[3], NULL, 10);
    char *body = malloc(len + 1);
    memset(body, 'x', len);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    if (argc >= 5 && strcmp(argv[4], "-") != 0) {
        FILE *f = fopen(argv[4], "r");
        char line[4096];
        if (f == NULL) {
            perror(argv[4]);
            return 2;
        }
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0]) {
                hdrs = curl_slist_append(hdrs, line);
            }
        }
        fclose(f);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, argv[1]);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    if (argc == 6) {
        curl_easy_setopt(h, CURLOPT_CAINFO, argv[5]);
    }
    if (call(h)) {
        return 1;
    }
    struct timespec a, b;
    struct rusage ra, rb;
    getrusage(RUSAGE_SELF, &ra);
    perf_ctl("enable\n");
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < calls; i++) {
        if (call(h)) {
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    perf_ctl("disable\n");
    getrusage(RUSAGE_SELF, &rb);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / (double)calls;
    printf("%.3f %.3f %.3f\n", us, (tv_us(rb.ru_utime) - tv_us(ra.ru_utime)) / (double)calls,
           (tv_us(rb.ru_stime) - tv_us(ra.ru_stime)) / (double)calls);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(body);
    return 0;
}
