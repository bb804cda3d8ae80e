/* The concurrent floor: one thread, one curl_multi handle, CONCURRENCY easy handles each
 * POSTing the same body over its own keep-alive connection, back to back, no signing.
 * Usage: curl_multi URL BODY_BYTES CONCURRENCY CALLS [HEADER_FILE [CA_FILE]] -> calls per second.
 * HEADER_FILE and CA_FILE as for curl_loop (the client's request headers, sent verbatim; the
 * CA bundle for an https URL). Every handle
 * first makes two warm-up calls (connections opened), then CALLS transfers in all are timed. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run transfers on all handles until `calls` have completed (each handle restarts as soon as
 * it finishes while more are wanted). Returns 0 or exits on an error. */
static int run(CURLM *m, CURL **hs, int n, long calls)
{
    long started = 0, done = 0;
    for (int i = 0; i < n && started < calls; i++, started++) {
        curl_multi_add_handle(m, hs[i]);
    }
    while (done < calls) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            fprintf(stderr, "curl_multi_perform failed\n");
            exit(1);
        }
        CURLMsg *msg;
        int left;
        int finished = 0;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            if (msg->data.result != CURLE_OK) {
                fprintf(stderr, "curl: %s\n", curl_easy_strerror(msg->data.result));
                exit(1);
            }
            CURL *h = msg->easy_handle;
            curl_multi_remove_handle(m, h);
            done++;
            finished++;
            if (started < calls) {
                curl_multi_add_handle(m, h);
                started++;
            }
        }
        if (finished == 0 && done < calls) {
            curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: %s URL BODY_BYTES CONCURRENCY CALLS [HEADER_FILE [CA_FILE]]\n", argv[0]);
        return 2;
    }
    size_t len = strtoul(argv[2], NULL, 10);
    int n = atoi(argv[3]);
    long calls = strtol(argv[4], NULL, 10);
    if (n < 1 || calls < 1) {
        fprintf(stderr, "CONCURRENCY and CALLS must be positive\n");
        return 2;
    }
    char *body = malloc(len + 1);
    memset(body, 'x', len);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *hdrs = NULL;
    if (argc >= 6 && strcmp(argv[5], "-") != 0) {
        FILE *f = fopen(argv[5], "r");
        char line[4096];
        if (f == NULL) {
            perror(argv[5]);
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
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 4);
    CURL **hs = calloc((size_t)n, sizeof(*hs));
    for (int i = 0; i < n; i++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, argv[1]);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        if (argc == 7) {
            curl_easy_setopt(h, CURLOPT_CAINFO, argv[6]);
        }
        hs[i] = h;
    }
    run(m, hs, n, 2L * n); /* warm-up: every connection open */
    double a = now_s();
    run(m, hs, n, calls);
    double b = now_s();
    printf("%.3f\n", (double)calls / (b - a));
    for (int i = 0; i < n; i++) {
        curl_easy_cleanup(hs[i]);
    }
    free(hs);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    free(body);
    return 0;
}
