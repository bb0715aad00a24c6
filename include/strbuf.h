/* A growable string. Appends never fail loudly: on out-of-memory the buffer
 * remembers it, and cb_strbuf_take returns NULL. */
#ifndef CB_STRBUF_H
#define CB_STRBUF_H

#include <stddef.h>

typedef struct cb_strbuf {
    char *data;
    size_t len, cap;
    int failed;
} cb_strbuf;

void cb_strbuf_add(cb_strbuf *b, const char *s);
void cb_strbuf_addn(cb_strbuf *b, const char *s, size_t n);
void cb_strbuf_addf(cb_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands over the text (NUL-terminated; "" when empty) and resets b; NULL on
 * out-of-memory. */
char *cb_strbuf_take(cb_strbuf *b);
void cb_strbuf_free(cb_strbuf *b);

#endif
