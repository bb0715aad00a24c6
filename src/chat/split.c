#include "chat/split.h"

#include <stdlib.h>
#include <string.h>

/* Copies text without control characters into buf (tab -> space). */
static size_t clean(const char *text, size_t len, char *buf)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\t')
            buf[n++] = ' ';
        else if (c >= 0x20 && c != 0x7f)
            buf[n++] = (char)c;
    }
    return n;
}

/* Largest cut <= max that does not split a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

static size_t emit_paragraph(const char *s, size_t len, size_t max, chat_line_cb fn, void *ctx, int *stop)
{
    size_t lines = 0;
    while (len > 0 && !*stop) {
        while (len > 0 && *s == ' ')
            s++, len--;
        if (len == 0)
            break;
        size_t take = len;
        if (len > max) {
            take = 0;
            for (size_t i = max; i > max / 2; i--) /* the last space in the second half */
                if (s[i] == ' ') {
                    take = i;
                    break;
                }
            if (take == 0)
                take = utf8_cut(s, max);
            if (take == 0)
                take = max; /* not UTF-8 at all: cut anyway */
        }
        size_t out = take;
        while (out > 0 && s[out - 1] == ' ')
            out--;
        if (out > 0) {
            if (fn(ctx, s, out) != 0)
                *stop = 1;
            lines++;
        }
        s += take;
        len -= take;
    }
    return lines;
}

size_t chat_split_lines(const char *text, size_t len, size_t max, chat_line_cb fn, void *ctx)
{
    if (max < 8)
        max = 8;
    char *buf = malloc(len + 1);
    if (!buf)
        return 0;
    size_t lines = 0;
    int stop = 0;
    while (len > 0 && !stop) {
        const char *nl = memchr(text, '\n', len);
        size_t plen = nl ? (size_t)(nl - text) : len;
        lines += emit_paragraph(buf, clean(text, plen, buf), max, fn, ctx, &stop);
        if (!nl)
            break;
        len -= plen + 1;
        text = nl + 1;
    }
    free(buf);
    return lines;
}
