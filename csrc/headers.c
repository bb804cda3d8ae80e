/* Parsing HTTP response headers and dates (see headers.h). */
#define _DEFAULT_SOURCE
#include "headers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void smrt_header_iter_init(smrt_header_iter *it, const char *data, size_t len)
{
    it->p = data ? data : "";
    it->end = it->p + (data ? len : 0);
    it->started = 0;
}

int smrt_header_next(smrt_header_iter *it, smrt_header_line *out)
{
    while (it->p < it->end) {
        const char *line = it->p;
        const char *eol = memchr(line, '\n', (size_t)(it->end - line));
        const char *line_end = eol ? eol : it->end;
        it->p = eol ? eol + 1 : it->end;
        if (line_end > line && line_end[-1] == '\r') {
            line_end--;
        }
        if (!it->started) { /* the status line */
            it->started = 1;
            continue;
        }
        if (line_end == line) {
            it->p = it->end; /* the blank line ends the block */
            return 0;
        }
        if (*line == ' ' || *line == '\t') {
            const char *v = line;
            while (v < line_end && (*v == ' ' || *v == '\t')) {
                v++;
            }
            *out = (smrt_header_line){line, 0, v, (size_t)(line_end - v), 1};
            return 1;
        }
        const char *colon = memchr(line, ':', (size_t)(line_end - line));
        if (colon == NULL) {
            continue;
        }
        const char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t')) {
            v++;
        }
        *out = (smrt_header_line){line, (size_t)(colon - line), v, (size_t)(line_end - v), 0};
        return 1;
    }
    return 0;
}

long smrt_parse_status_line(const char *s, size_t n)
{
    const char *sp = memchr(s, ' ', n);
    if (sp == NULL) {
        return 0;
    }
    long code = 0;
    size_t i = (size_t)(sp - s) + 1;
    int digits = 0;
    for (; i < n && digits < 3 && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        code = code * 10 + (s[i] - '0');
    }
    return digits == 3 ? code : 0;
}

int smrt_parse_content_length(const char *s, size_t n, long long *out)
{
    if (n < 15 || strncasecmp(s, "content-length:", 15) != 0) {
        return 0;
    }
    size_t i = 15;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    long long v = 0;
    int digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (v > (0x7fffffffffffffffLL - 9) / 10) {
            return 0; /* absurdly large: ignore */
        }
        v = v * 10 + (s[i] - '0');
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
    }
    if (digits == 0 || i != n) {
        return 0;
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); a day
 * past the month's end runs into the next month, as timegm does. Arithmetic only: timegm
 * takes glibc's time-zone lock, which a fork leaves locked in the child when another thread
 * held it at that moment. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                      /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* from March 1st */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int smrt_parse_http_date(const char *s, size_t n, double *out)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    char buf[64];
    if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char wday[4], mon[4], zone[8];
    int day, year, hh, mm, ss, used = 0;
    if (sscanf(buf, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %7[A-Za-z]%n", wday, &day, mon, &year, &hh, &mm, &ss,
               zone, &used) != 8 ||
        (size_t)used != n) {
        return -1;
    }
    if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0) {
        return -1;
    }
    int m = -1;
    for (int k = 0; k < 12; k++) {
        if (strncasecmp(mon, months[k], 3) == 0) {
            m = k;
        }
    }
    if (m < 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 61 || year < 1) {
        return -1;
    }
    long long days = days_from_civil(year, (unsigned)m + 1, (unsigned)day);
    *out = (double)(days * 86400 + hh * 3600 + mm * 60 + ss);
    return 0;
}
