/* Homeserver answers sorted into what to do next. */
#include "matrix/matrix_retry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define RETRY_AFTER_MAX 3600.0 /* a server asking for more gets an hour */

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
    /* The text goes into a log line: keep it on one line. */
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

void matrix_classify(long status, const char *body, size_t len, double retry_after_header, const char *transport_error,
                     matrix_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = status;
    out->retry_after = retry_after_header >= 0 ? retry_after_header : -1;
    if (transport_error || status <= 0) {
        out->kind = MATRIX_TRANSIENT;
        copy(out->error, sizeof out->error, transport_error ? transport_error : "no response");
        return;
    }
    if (status >= 200 && status < 300) {
        out->kind = MATRIX_OK;
        return;
    }
    json_t *root = body && len ? json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
    copy(out->errcode, sizeof out->errcode, json_string_value(json_object_get(root, "errcode")));
    const char *error = json_string_value(json_object_get(root, "error"));
    if (error)
        copy(out->error, sizeof out->error, error);
    else
        snprintf(out->error, sizeof out->error, "HTTP %ld", status);
    const json_t *ms = json_object_get(root, "retry_after_ms");
    if (json_is_number(ms) && json_number_value(ms) >= 0)
        out->retry_after = json_number_value(ms) / 1000.0;
    out->soft_logout = json_is_true(json_object_get(root, "soft_logout"));
    json_decref(root);
    if (out->retry_after > RETRY_AFTER_MAX)
        out->retry_after = RETRY_AFTER_MAX;
    if (status == 429 || strcmp(out->errcode, "M_LIMIT_EXCEEDED") == 0)
        out->kind = MATRIX_RATE_LIMITED;
    else if (status == 401 &&
             (strcmp(out->errcode, "M_UNKNOWN_TOKEN") == 0 || strcmp(out->errcode, "M_MISSING_TOKEN") == 0))
        out->kind = MATRIX_UNAUTHORIZED;
    else if (status >= 500 || status == 408)
        out->kind = MATRIX_TRANSIENT;
    else
        out->kind = MATRIX_FAILED;
}

double matrix_backoff(int attempt, double first, double cap, double jitter)
{
    double d = first;
    for (int i = 0; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    if (jitter < 0)
        jitter = 0;
    if (jitter > 1)
        jitter = 1;
    return d * (0.5 + 0.5 * jitter);
}

double matrix_retry_delay(const matrix_result *r, int attempt, double jitter)
{
    if (r->kind == MATRIX_RATE_LIMITED && r->retry_after >= 0)
        return r->retry_after;
    return matrix_backoff(attempt, 1.0, MATRIX_BACKOFF_MAX, jitter);
}
