/* Errors are values: a function that can fail returns an int status and fills a cb_error. */
#ifndef CB_ERROR_H
#define CB_ERROR_H

#include <stddef.h>

enum { CB_OK = 0, CB_ERR = -1 };

typedef struct cb_error {
    char text[512]; /* "file:line: what went wrong", always NUL-terminated */
} cb_error;

/* Formats into err (when err is not NULL) and returns CB_ERR, so callers can
 * write `return cb_error_set(err, "...")`. */
int cb_error_set(cb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
