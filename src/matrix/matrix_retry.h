/* What a homeserver's answer means for the caller: done, wait and retry,
 * log in again, or give up. Pure: the response comes in as values. */
#ifndef MATRIX_RETRY_H
#define MATRIX_RETRY_H

#include <stddef.h>

enum {
    MATRIX_OK,           /* 2xx */
    MATRIX_RATE_LIMITED, /* 429: wait retry_after (or back off when it is < 0) and retry */
    MATRIX_TRANSIENT,    /* no response, 5xx, 408: back off and retry */
    MATRIX_UNAUTHORIZED, /* 401 M_UNKNOWN_TOKEN or M_MISSING_TOKEN: log in again, or stop */
    MATRIX_FAILED        /* any other error: retrying will not help */
};

#define MATRIX_BACKOFF_MAX 300.0 /* seconds */

typedef struct matrix_result {
    int kind;
    long status;          /* HTTP status, 0 without a response */
    char errcode[64];     /* "M_LIMIT_EXCEEDED", ... or "" */
    char error[200];      /* the server's or the transport's words, for the log */
    double retry_after;   /* seconds; -1 when the server gave none */
    int soft_logout;      /* 401 with soft_logout: the device survives a new login */
} matrix_result;

/* Classifies a response. body may be NULL; retry_after_header is the
 * Retry-After header in seconds (-1: none); transport_error is non-NULL when
 * no response arrived. retry_after_ms in the body wins over the header. */
void matrix_classify(long status, const char *body, size_t len, double retry_after_header, const char *transport_error,
                     matrix_result *out);

/* Exponential backoff with jitter: first * 2^attempt, capped at cap, then
 * scaled by a factor in [0.5, 1] taken from jitter (0..1), so many clients
 * do not retry in step. */
double matrix_backoff(int attempt, double first, double cap, double jitter);

/* The wait before retrying after r (attempt: failures so far). */
double matrix_retry_delay(const matrix_result *r, int attempt, double jitter);

#endif
