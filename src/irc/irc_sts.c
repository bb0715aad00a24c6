/* The sts capability's value (see irc_sts.h). */
#include "irc/irc_sts.h"

#include <string.h>

/* A decimal number of at most max_digits digits, the whole of v[0..n). */
static int parse_number(const char *v, size_t n, size_t max_digits, long long *out)
{
    if (n == 0 || n > max_digits)
        return BASE_ERR;
    long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return BASE_ERR;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return BASE_OK;
}

int irc_sts_parse(const char *value, irc_sts_value *out)
{
    out->port = 0;
    out->duration = -1;
    out->preload = 0;
    if (!value)
        return BASE_ERR;
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        const char *v = eq ? eq + 1 : p + n;
        size_t vlen = eq ? n - klen - 1 : 0;
        long long x;
        if (klen == 4 && strncmp(p, "port", 4) == 0) {
            if (parse_number(v, vlen, 5, &x) != BASE_OK || x < 1 || x > 65535)
                return BASE_ERR;
            out->port = (int)x;
        } else if (klen == 8 && strncmp(p, "duration", 8) == 0) {
            if (parse_number(v, vlen, 12, &x) != BASE_OK)
                return BASE_ERR;
            out->duration = x;
        } else if (klen == 7 && strncmp(p, "preload", 7) == 0) {
            out->preload = 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return BASE_OK;
}
