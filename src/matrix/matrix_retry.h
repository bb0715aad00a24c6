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

#define MATRIX_KINDS 5

#define MATRIX_BACKOFF_MAX 300.0 /* seconds: no wait is longer, whatever the server asks */
#define MATRIX_RETRY_MIN 0.5     /* nor shorter, even when it says 0 */
#define MATRIX_BLOCKED_FIRST 60.0   /* an account the server refuses: long waits, from a minute */
#define MATRIX_BLOCKED_MAX 3600.0   /* to an hour */

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
 * no response arrived. The header wins over the body's retry_after_ms (which
 * the spec deprecates); either is kept as given, and bounded when used
 * (matrix_retry_delay). */
void matrix_classify(long status, const char *body, size_t len, double retry_after_header, const char *transport_error,
                     matrix_result *out);

/* Exponential backoff with jitter: first * 2^attempt, capped at cap, then
 * scaled by a factor in [0.5, 1] taken from jitter (0..1), so many clients
 * do not retry in step. */
double matrix_backoff(int attempt, double first, double cap, double jitter);

/* The wait before retrying after r (attempt: failures so far): the server's
 * Retry-After or retry_after_ms for a 429, else the backoff; always within
 * [MATRIX_RETRY_MIN, MATRIX_BACKOFF_MAX]. */
double matrix_retry_delay(const matrix_result *r, int attempt, double jitter);

/* Failures in a row, counted per kind: a 429 after a run of 5xx answers does
 * not wait as long as the sixth 5xx would, and the reverse. */
typedef struct matrix_retry_counter {
    int attempts[MATRIX_KINDS];
} matrix_retry_counter;

/* The wait before retrying after r; counts the failure. */
double matrix_retry_next(matrix_retry_counter *c, const matrix_result *r, double jitter);
void matrix_retry_reset(matrix_retry_counter *c);
/* The failures counted since the last reset, of every kind. */
int matrix_retry_failures(const matrix_retry_counter *c);

/* What a persistent error (MATRIX_FAILED) means for the account. */
typedef enum matrix_refusal {
    MATRIX_REFUSAL_NONE,        /* not a MATRIX_FAILED answer */
    MATRIX_REFUSAL_STALE_SINCE, /* the sync position is unknown to the server: start afresh */
    MATRIX_REFUSAL_FILTER,      /* the filter is unknown or refused: make it again, or send it inline */
    MATRIX_REFUSAL_BLOCKED,     /* the account is locked, suspended, deactivated or forbidden, or the
                                   server keeps refusing for a reason not known here: wait long */
} matrix_refusal;

/* Sorts a failed /sync: sent_since and sent_filter_id say what the request
 * carried, so a 400 that can only be about one of them is read as such. */
matrix_refusal matrix_sync_refusal(const matrix_result *r, int sent_since, int sent_filter_id);

/* True for the errors that say the account itself is refused (M_USER_LOCKED,
 * M_USER_SUSPENDED, M_USER_DEACTIVATED, M_FORBIDDEN, any 403). */
int matrix_account_refused(const matrix_result *r);

/* The long wait for an account the server refuses (attempt: refusals so far). */
double matrix_blocked_delay(int attempt, double jitter);

#endif
