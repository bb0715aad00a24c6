/* Errors are values, as jansson's json_error_t: a function that can fail
 * returns a status (BASE_OK or BASE_ERR, or NULL for a constructor) and
 * fills a base_error that the caller passes (or NULL, when it does not care).
 * Low-level code never logs: it fills the error, and the layer above decides
 * what to say. */
#ifndef BASE_ERROR_H
#define BASE_ERROR_H

#include <stddef.h>

enum { BASE_OK = 0, BASE_ERR = -1 };

typedef struct base_error {
    char text[512]; /* ready for a log line: "file:line: what went wrong" when there is a
                       location, else just what went wrong; always NUL-terminated */
    char file[256]; /* the file the error is about, "" when none */
    int line;       /* 1-based line in file, 0 when none */
    int column;     /* 1-based column, 0 when none */
} base_error;

/* Formats into err (when err is not NULL), with no location, and returns
 * BASE_ERR, so callers can write `return base_error_set(err, "...")`. */
int base_error_set(base_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same with a location: text becomes "file:line: ..." ("file:line:column:"
 * when column > 0, "file: ..." when line is 0) and the fields are set. */
int base_error_at(base_error *err, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
