/* Token buckets: the burst, the refill, the cap on a long line's cost, and
 * per-user buckets that forget the least recently seen user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "base/ratelimit.h"

static void test_burst_then_rate(void **state)
{
    (void)state;
    base_bucket b;
    base_bucket_init(&b, 4, 1, 100.0);
    for (int i = 0; i < 4; i++)
        assert_true(base_bucket_take(&b, 1, 100.0) == 0);
    double wait = base_bucket_take(&b, 1, 100.0);
    assert_true(wait > 0.99 && wait < 1.01);
    assert_true(base_bucket_take(&b, 1, 100.5) > 0.49); /* half a token is not enough */
    assert_true(base_bucket_take(&b, 1, 101.0) == 0);
    /* A long quiet time refills up to the burst only. */
    for (int i = 0; i < 4; i++)
        assert_true(base_bucket_take(&b, 1, 1000.0) == 0);
    assert_true(base_bucket_take(&b, 1, 1000.0) > 0);
}

static void test_costly_lines(void **state)
{
    (void)state;
    base_bucket b;
    base_bucket_init(&b, 4, 2, 0);
    assert_true(base_bucket_take(&b, 2.5, 0) == 0);
    double wait = base_bucket_take(&b, 2.5, 0);
    assert_true(wait > 0.49 && wait < 0.51); /* 1.5 left, 1 more token at 2 a second */
    /* A cost above the burst is capped, so it still goes out eventually. */
    base_bucket_init(&b, 4, 1, 0);
    assert_true(base_bucket_take(&b, 10, 0) == 0);
    assert_true(base_bucket_take(&b, 10, 3.9) > 0);
    assert_true(base_bucket_take(&b, 10, 4.0) == 0);
    /* Time going backwards never adds tokens. */
    assert_true(base_bucket_take(&b, 1, 1.0) > 0);
}

static void test_user_limits(void **state)
{
    (void)state;
    base_limits *l = base_limits_new(2, 3, 0.5);
    assert_non_null(l);
    for (int i = 0; i < 3; i++)
        assert_true(base_limits_take(l, "alice", 1, 0) == 0);
    assert_true(base_limits_take(l, "alice", 1, 0) > 0);
    /* Another user has a bucket of their own. */
    assert_true(base_limits_take(l, "bob", 1, 0) == 0);
    assert_true(base_limits_take(l, "alice", 1, 2.0) == 0); /* refilled one */
    /* A third user pushes out the least recently seen (bob, at time 0). */
    assert_true(base_limits_take(l, "carol", 1, 3.0) == 0);
    for (int i = 0; i < 3; i++)
        assert_true(base_limits_take(l, "bob", 1, 3.0) == 0); /* a fresh, full bucket */
    base_limits_free(l);
}

static void test_many_users_bounded(void **state)
{
    (void)state;
    base_limits *l = base_limits_new(16, 1, 1);
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "user%d", i);
        assert_true(base_limits_take(l, name, 1, i) == 0);
    }
    assert_true(base_limits_take(l, "user9999", 1, 9999) > 0);
    base_limits_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_costly_lines),
        cmocka_unit_test(test_user_limits),
        cmocka_unit_test(test_many_users_bounded),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
