/* Homeserver answers sorted into what to do next. */
#include "matrix/matrix_retry.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


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
    if (out->retry_after < 0 && json_is_number(ms) && json_number_value(ms) >= 0)
        out->retry_after = json_number_value(ms) / 1000.0;
    out->soft_logout = json_is_true(json_object_get(root, "soft_logout"));
    json_decref(root);
    if (out->retry_after > 1e9) /* kept finite for the log */
        out->retry_after = 1e9;
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

static double clamp(double d, double lo, double hi)
{
    if (!(d >= lo)) /* also NaN */
        return lo;
    return d > hi ? hi : d;
}

double matrix_retry_delay(const matrix_result *r, int attempt, double jitter)
{
    double d = r->kind == MATRIX_RATE_LIMITED && r->retry_after >= 0
                   ? r->retry_after
                   : matrix_backoff(attempt, 1.0, MATRIX_BACKOFF_MAX, jitter);
    return clamp(d, MATRIX_RETRY_MIN, MATRIX_BACKOFF_MAX);
}

double matrix_retry_next(matrix_retry_counter *c, const matrix_result *r, double jitter)
{
    int k = r->kind >= 0 && r->kind < MATRIX_KINDS ? r->kind : MATRIX_TRANSIENT;
    double d = matrix_retry_delay(r, c->attempts[k], jitter);
    if (c->attempts[k] < 1000)
        c->attempts[k]++;
    return d;
}

void matrix_retry_reset(matrix_retry_counter *c)
{
    memset(c, 0, sizeof *c);
}

int matrix_retry_failures(const matrix_retry_counter *c)
{
    int sum = 0;
    for (int k = 0; k < MATRIX_KINDS; k++)
        sum += c->attempts[k];
    return sum;
}

int matrix_account_refused(const matrix_result *r)
{
    static const char *const codes[] = {"M_USER_LOCKED", "M_USER_SUSPENDED", "M_USER_DEACTIVATED", "M_FORBIDDEN"};
    if (r->kind != MATRIX_FAILED)
        return 0;
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (strcmp(r->errcode, codes[i]) == 0)
            return 1;
    return r->status == 403;
}

static int mentions(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return 1;
    return 0;
}

matrix_refusal matrix_sync_refusal(const matrix_result *r, int sent_since, int sent_filter_id)
{
    if (r->kind != MATRIX_FAILED)
        return MATRIX_REFUSAL_NONE;
    if (matrix_account_refused(r))
        return MATRIX_REFUSAL_BLOCKED;
    if (strcmp(r->errcode, "M_UNKNOWN_POS") == 0)
        return sent_since ? MATRIX_REFUSAL_STALE_SINCE : MATRIX_REFUSAL_BLOCKED;
    if (r->status == 400 || r->status == 404) {
        /* The server's words say which parameter, when they can. */
        if (mentions(r->error, "filter") && sent_filter_id)
            return MATRIX_REFUSAL_FILTER;
        if ((mentions(r->error, "since") || mentions(r->error, "token") || mentions(r->error, "stream")) &&
            sent_since)
            return MATRIX_REFUSAL_STALE_SINCE;
        if (sent_filter_id)
            return MATRIX_REFUSAL_FILTER;
        if (sent_since)
            return MATRIX_REFUSAL_STALE_SINCE;
    }
    return MATRIX_REFUSAL_BLOCKED;
}

double matrix_blocked_delay(int attempt, double jitter)
{
    return matrix_backoff(attempt, MATRIX_BLOCKED_FIRST, MATRIX_BLOCKED_MAX, jitter);
}
