/* The TLS checks botocore makes (see tls.h). */
#define _GNU_SOURCE
#include "tls.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

int smrt_tls_hookable(void)
{
    static atomic_int cached; /* 0 unknown, 1 yes, -1 no */
    int v = atomic_load(&cached);
    if (v == 0) {
        /* The SSL_CTX libcurl hands its callback belongs to libcurl's TLS library: only
         * OpenSSL 3 (whose libssl and libcrypto dyn.c loaded) may be touched with ours. */
        const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
        v = info && info->ssl_version && strncmp(info->ssl_version, "OpenSSL/3.", 10) == 0 ? 1 : -1;
        atomic_store(&cached, v);
    }
    return v > 0;
}

static int names_add(smrt_buf *names, const void *p, size_t n)
{
    uint32_t len = (uint32_t)n;
    if (n > UINT32_MAX || smrt_buf_append(names, &len, sizeof(len)) != SMRT_OK ||
        smrt_buf_append(names, p, n) != SMRT_OK) {
        return SMRT_ENOMEM;
    }
    return SMRT_OK;
}

static int ascii_lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

static int same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

static size_t first_label_len(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    return dot ? (size_t)(dot - s) : n;
}

/* urllib3's _dnsname_match (RFC 6125 6.4.3 as urllib3 reads it): 1 match, 0 not, -1 more
 * than one wildcard in the first label (urllib3 raises at once). Its regular expression
 * comes down to: the labels after the first compared literally, the first label matched
 * by '*' alone (one or more characters), by an A-label pattern literally, or by
 * prefix*suffix. */
static int dnsname_match(const char *dn, size_t dn_len, const char *host, size_t host_len)
{
    if (dn_len == 0) {
        return 0;
    }
    size_t left = first_label_len(dn, dn_len);
    size_t wildcards = 0;
    const char *star = NULL;
    for (size_t i = 0; i < left; i++) {
        if (dn[i] == '*') {
            wildcards++;
            star = dn + i;
        }
    }
    if (wildcards > 1) {
        return -1;
    }
    if (wildcards == 0) {
        return dn_len == host_len && same_ci(dn, host, dn_len);
    }
    size_t host_left = first_label_len(host, host_len);
    if (dn_len - left != host_len - host_left || !same_ci(dn + left, host + host_left, dn_len - left)) {
        return 0;
    }
    if (left == 1) {
        return host_left > 0;
    }
    if ((dn_len >= 4 && memcmp(dn, "xn--", 4) == 0) || (host_len >= 4 && memcmp(host, "xn--", 4) == 0)) {
        /* No wildcard inside an A-label: the '*' is a literal character. */
        return host_left == left && same_ci(dn, host, left);
    }
    size_t prefix = (size_t)(star - dn);
    size_t suffix = left - prefix - 1;
    return host_left >= prefix + suffix && same_ci(host, dn, prefix) &&
           same_ci(host + host_left - suffix, star + 1, suffix);
}

/* The host as an address (4 or 16 bytes, as ipaddress.ip_address reads it), or 0. */
static int host_address(const char *host, unsigned char *out)
{
    if (inet_pton(AF_INET, host, out) == 1) {
        return 4;
    }
    if (inet_pton(AF_INET6, host, out) == 1) {
        return 16;
    }
    return 0;
}

/* An iPAddress name as Python's getpeercert() writes it (urllib3 quotes those). */
static int format_address(const ASN1_OCTET_STRING *ip, char *out, size_t cap)
{
    const unsigned char *p = ASN1_STRING_get0_data(ip);
    int n = ASN1_STRING_length(ip);
    if (n == 4) {
        return snprintf(out, cap, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
    }
    if (n == 16) {
        return snprintf(out, cap, "%X:%X:%X:%X:%X:%X:%X:%X", p[0] << 8 | p[1], p[2] << 8 | p[3], p[4] << 8 | p[5],
                        p[6] << 8 | p[7], p[8] << 8 | p[9], p[10] << 8 | p[11], p[12] << 8 | p[13],
                        p[14] << 8 | p[15]);
    }
    return snprintf(out, cap, "<invalid>");
}

static int wildcard_refusal(smrt_buf *names, const void *dn, size_t n)
{
    smrt_buf_clear(names);
    return names_add(names, dn, n) == SMRT_OK ? SMRT_TLS_WILDCARDS : SMRT_ENOMEM;
}

int smrt_tls_match_host(X509 *cert, const char *host, smrt_buf *names)
{
    smrt_buf_clear(names);
    size_t host_len = strlen(host);
    unsigned char addr[16];
    int addr_len = host_address(host, addr);
    int listed = 0;
    int result = SMRT_TLS_HOSTNAME;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int n = gens ? OPENSSL_sk_num((const OPENSSL_STACK *)gens) : 0;
    for (int i = 0; i < n && result == SMRT_TLS_HOSTNAME; i++) {
        const GENERAL_NAME *g = OPENSSL_sk_value((const OPENSSL_STACK *)gens, i);
        if (g->type == GEN_DNS) {
            const char *dn = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
            size_t dn_len = (size_t)ASN1_STRING_length(g->d.dNSName);
            if (addr_len == 0) {
                int m = dnsname_match(dn, dn_len, host, host_len);
                if (m != 0) {
                    result = m > 0 ? SMRT_TLS_NONE : wildcard_refusal(names, dn, dn_len);
                    break;
                }
            }
            if (names_add(names, dn, dn_len) != SMRT_OK) {
                result = SMRT_ENOMEM;
            }
            listed++;
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = g->d.iPAddress;
            if (addr_len != 0 && ASN1_STRING_length(ip) == addr_len &&
                memcmp(ASN1_STRING_get0_data(ip), addr, (size_t)addr_len) == 0) {
                result = SMRT_TLS_NONE;
                break;
            }
            char text[64];
            int len = format_address(ip, text, sizeof(text));
            if (names_add(names, text, (size_t)len) != SMRT_OK) {
                result = SMRT_ENOMEM;
            }
            listed++;
        }
    }
    if (gens) {
        GENERAL_NAMES_free(gens);
    }
    if (result != SMRT_TLS_HOSTNAME || addr_len != 0 || listed > 0) {
        return result;
    }
    /* No DNS or IP name: botocore's SSLContext keeps hostname_checks_common_name on. */
    X509_NAME *subject = X509_get_subject_name(cert);
    for (int idx = -1; subject && result == SMRT_TLS_HOSTNAME;) {
        idx = X509_NAME_get_index_by_NID(subject, NID_commonName, idx);
        if (idx < 0) {
            break;
        }
        unsigned char *cn = NULL;
        int cn_len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
        if (cn_len < 0) {
            continue; /* Python's getpeercert() fails on such a name; nothing matches it */
        }
        int m = dnsname_match((const char *)cn, (size_t)cn_len, host, host_len);
        if (m > 0) {
            result = SMRT_TLS_NONE;
        } else if (m < 0) {
            result = wildcard_refusal(names, cn, (size_t)cn_len);
        } else if (names_add(names, cn, (size_t)cn_len) != SMRT_OK) {
            result = SMRT_ENOMEM;
        }
        OPENSSL_free(cn);
    }
    return result;
}
