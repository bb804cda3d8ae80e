/* The floor: a bare libcurl loop POSTing the same body to the same keep-alive server, no
 * signing. Usage: curl_loop URL BODY_BYTES CALLS [HEADER_FILE] -> microseconds per call.
 * HEADER_FILE holds one "Name: value" line per header, sent as they are on every call
 * (precomputed once: the same request bytes as the client under test, without its work). */
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

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s URL BODY_BYTES CALLS [HEADER_FILE]\n", argv[0]);
        return 2;
    }
    size_t len = strtoul(argv[2], NULL, 10);
    long calls = strtol(argv[3], NULL, 10);
    char *body = malloc(len + 1);
    memset(body, 'x', len);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    if (argc == 5) {
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
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < calls; i++) {
        CURLcode rc = curl_easy_perform(h);
        if (rc != CURLE_OK) {
            fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / (double)calls;
    printf("%.3f\n", us);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(body);
    return 0;
}
