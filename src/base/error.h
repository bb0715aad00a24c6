/* Errors are values: a function that can fail returns an int status and fills a base_error. */
#ifndef BASE_ERROR_H
#define BASE_ERROR_H

#include <stddef.h>

enum { BASE_OK = 0, BASE_ERR = -1 };

typedef struct base_error {
    char text[512]; /* "file:line: what went wrong", always NUL-terminated */
} base_error;

/* Formats into err (when err is not NULL) and returns BASE_ERR, so callers can
 * write `return base_error_set(err, "...")`. */
int base_error_set(base_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
