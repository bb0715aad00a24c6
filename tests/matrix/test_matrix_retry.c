/* Homeserver answers sorted into what to do next, and the backoff. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "matrix/matrix_retry.h"

static matrix_result classify(long status, const char *body, double header, const char *transport)
{
    matrix_result r;
    matrix_classify(status, body, body ? strlen(body) : 0, header, transport, &r);
    return r;
}

static void test_ok(void **state)
{
    (void)state;
    matrix_result r = classify(200, "{\"event_id\":\"$e\"}", -1, NULL);
    assert_int_equal(r.kind, MATRIX_OK);
}

static void test_rate_limited(void **state)
{
    (void)state;
    matrix_result r = classify(429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too many\",\"retry_after_ms\":2500}",
                               7, NULL);
    assert_int_equal(r.kind, MATRIX_RATE_LIMITED);
    assert_string_equal(r.errcode, "M_LIMIT_EXCEEDED");
    assert_true(r.retry_after == 7); /* the header wins over the deprecated body field */
    assert_true(matrix_retry_delay(&r, 5, 0.3) == 7);
    r = classify(429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":2500}", -1, NULL);
    assert_true(r.retry_after == 2.5); /* the body alone */
    assert_true(matrix_retry_delay(&r, 5, 0.3) == 2.5);

    r = classify(429, "{\"errcode\":\"M_LIMIT_EXCEEDED\"}", 3, NULL);
    assert_true(r.retry_after == 3); /* Retry-After alone */
    r = classify(429, "not json", -1, NULL);
    assert_int_equal(r.kind, MATRIX_RATE_LIMITED);
    assert_true(r.retry_after < 0);
    double d = matrix_retry_delay(&r, 0, 1.0); /* no hint: back off */
    assert_true(d >= 0.5 && d <= 1.0);
    /* Whatever the server asks, the wait stays within half a second and
     * five minutes: an hour would stop the account, 0 would flood. */
    r = classify(429, "{\"retry_after_ms\":1e12}", -1, NULL);
    assert_true(matrix_retry_delay(&r, 0, 0.5) == MATRIX_BACKOFF_MAX);
    r = classify(429, "{\"retry_after_ms\":3600000}", -1, NULL);
    assert_true(matrix_retry_delay(&r, 0, 0.5) == 300.0);
    r = classify(429, "{\"retry_after_ms\":0}", -1, NULL);
    assert_true(matrix_retry_delay(&r, 0, 0.5) == MATRIX_RETRY_MIN);
    r = classify(429, "{}", 0, NULL);
    assert_true(matrix_retry_delay(&r, 0, 0.5) == 0.5);
    r = classify(429, "{}", 1e9, NULL);
    assert_true(matrix_retry_delay(&r, 0, 0.5) == 300.0);
    /* 100 answers of "retry now" take at least 50 seconds, not 5. */
    double total = 0;
    r = classify(429, "{\"retry_after_ms\":0}", -1, NULL);
    for (int i = 0; i < 100; i++)
        total += matrix_retry_delay(&r, i, 0.0);
    assert_true(total >= 50);
}

static void test_counter_per_kind(void **state)
{
    (void)state;
    matrix_retry_counter c = {0};
    matrix_result t = classify(502, NULL, -1, NULL), rl = classify(429, "{}", -1, NULL);
    for (int i = 0; i < 6; i++)
        matrix_retry_next(&c, &t, 1.0);
    assert_true(matrix_retry_next(&c, &t, 1.0) == 64.0);
    /* A first 429 after six 5xx waits as a first one does. */
    assert_true(matrix_retry_next(&c, &rl, 1.0) == 1.0);
    assert_true(matrix_retry_next(&c, &rl, 1.0) == 2.0);
    assert_true(matrix_retry_next(&c, &t, 1.0) == 128.0);
    matrix_retry_reset(&c);
    assert_true(matrix_retry_next(&c, &t, 1.0) == 1.0);
}

static void test_sync_refusals(void **state)
{
    (void)state;
    matrix_result r = classify(401, "{\"errcode\":\"M_USER_LOCKED\",\"error\":\"locked\",\"soft_logout\":true}", -1,
                               NULL);
    assert_int_equal(r.kind, MATRIX_FAILED); /* not a token problem: logging in again will not help */
    assert_true(matrix_account_refused(&r));
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_BLOCKED);
    r = classify(403, "{\"errcode\":\"M_FORBIDDEN\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_BLOCKED);
    r = classify(403, "{\"errcode\":\"M_USER_SUSPENDED\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 0, 0), MATRIX_REFUSAL_BLOCKED);
    r = classify(400, "{\"errcode\":\"M_UNKNOWN_POS\",\"error\":\"Unknown position\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_STALE_SINCE);
    r = classify(400, "{\"errcode\":\"M_INVALID_PARAM\",\"error\":\"Invalid stream token\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_STALE_SINCE);
    r = classify(400, "{\"errcode\":\"M_INVALID_PARAM\",\"error\":\"Invalid filter ID\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_FILTER);
    r = classify(404, "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"No such filter\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 0, 1), MATRIX_REFUSAL_FILTER);
    r = classify(400, "{\"errcode\":\"M_UNKNOWN\"}", -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 0, 0), MATRIX_REFUSAL_BLOCKED); /* nothing left to drop */
    r = classify(502, NULL, -1, NULL);
    assert_int_equal(matrix_sync_refusal(&r, 1, 1), MATRIX_REFUSAL_NONE);
    /* Long waits for a refused account: a minute first, an hour at most. */
    assert_true(matrix_blocked_delay(0, 1.0) == 60.0);
    assert_true(matrix_blocked_delay(50, 1.0) == 3600.0);
}

static void test_unauthorized(void **state)
{
    (void)state;
    matrix_result r = classify(401, "{\"errcode\":\"M_UNKNOWN_TOKEN\",\"error\":\"Invalid token\",\"soft_logout\":true}",
                               -1, NULL);
    assert_int_equal(r.kind, MATRIX_UNAUTHORIZED);
    assert_true(r.soft_logout);
    assert_string_equal(r.error, "Invalid token");
    r = classify(401, "{\"errcode\":\"M_MISSING_TOKEN\"}", -1, NULL);
    assert_int_equal(r.kind, MATRIX_UNAUTHORIZED);
    assert_false(r.soft_logout);
    r = classify(401, "{\"errcode\":\"M_FORBIDDEN\"}", -1, NULL); /* e.g. a wrong password */
    assert_int_equal(r.kind, MATRIX_FAILED);
}

static void test_transient_and_failed(void **state)
{
    (void)state;
    assert_int_equal(classify(502, "<html>bad gateway</html>", -1, NULL).kind, MATRIX_TRANSIENT);
    assert_int_equal(classify(500, "{\"errcode\":\"M_UNKNOWN\"}", -1, NULL).kind, MATRIX_TRANSIENT);
    assert_int_equal(classify(408, NULL, -1, NULL).kind, MATRIX_TRANSIENT);
    matrix_result r = classify(0, NULL, -1, "Connection refused");
    assert_int_equal(r.kind, MATRIX_TRANSIENT);
    assert_string_equal(r.error, "Connection refused");
    assert_int_equal(classify(403, "{\"errcode\":\"M_FORBIDDEN\"}", -1, NULL).kind, MATRIX_FAILED);
    assert_int_equal(classify(404, NULL, -1, NULL).kind, MATRIX_FAILED);
    r = classify(400, "{\"errcode\":\"M_BAD_JSON\",\"error\":\"line\\nbreak\"}", -1, NULL);
    assert_null(strchr(r.error, '\n')); /* safe for a log line */
}

static void test_backoff(void **state)
{
    (void)state;
    assert_true(matrix_backoff(0, 1, 300, 1.0) == 1.0);
    assert_true(matrix_backoff(3, 1, 300, 1.0) == 8.0);
    assert_true(matrix_backoff(3, 1, 300, 0.0) == 4.0); /* jitter scales into [0.5, 1] */
    assert_true(matrix_backoff(20, 1, 300, 1.0) == 300.0);
    assert_true(matrix_backoff(1000000, 1, 300, 1.0) == 300.0);
    assert_true(matrix_backoff(2, 1, 300, 7.0) == 4.0); /* out-of-range jitter is clamped */
    matrix_result r = classify(503, NULL, -1, NULL);
    double d = matrix_retry_delay(&r, 30, 0.5);
    assert_true(d <= MATRIX_BACKOFF_MAX && d >= MATRIX_BACKOFF_MAX / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_unauthorized),
        cmocka_unit_test(test_transient_and_failed),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_counter_per_kind),
        cmocka_unit_test(test_sync_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
