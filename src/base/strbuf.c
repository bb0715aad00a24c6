#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(base_strbuf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void base_strbuf_addn(base_strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void base_strbuf_add(base_strbuf *b, const char *s)
{
    base_strbuf_addn(b, s, strlen(s));
}

void base_strbuf_addf(base_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *base_strbuf_take(base_strbuf *b)
{
    if (!b->failed && reserve(b, 0) == 0) {
        char *out = b->data;
        out[b->len] = '\0';
        memset(b, 0, sizeof *b);
        return out;
    }
    base_strbuf_free(b);
    return NULL;
}

void base_strbuf_free(base_strbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
