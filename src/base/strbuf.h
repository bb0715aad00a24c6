/* A growable string. Appends never fail loudly: on out-of-memory the buffer
 * remembers it, and base_strbuf_take returns NULL. */
#ifndef BASE_STRBUF_H
#define BASE_STRBUF_H

#include <stddef.h>

typedef struct base_strbuf {
    char *data;
    size_t len, cap;
    int failed;
} base_strbuf;

void base_strbuf_add(base_strbuf *b, const char *s);
void base_strbuf_addn(base_strbuf *b, const char *s, size_t n);
void base_strbuf_addf(base_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands over the text (NUL-terminated; "" when empty) and resets b; NULL on
 * out-of-memory. */
char *base_strbuf_take(base_strbuf *b);
void base_strbuf_free(base_strbuf *b);

#endif
