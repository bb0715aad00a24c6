/* dialog.c: conversation state with expiry and least-recently-used eviction. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/dialog.h"
#include "test_util.h"

static void test_get_creates_peek_does_not(void **state)
{
    (void)state;
    core_dialog *d = core_dialog_new(8, 60);
    assert_non_null(d);
    assert_int_equal(core_dialog_count(d), 0);
    assert_null(core_dialog_peek(d, "alice", 0));
    assert_int_equal(core_dialog_count(d), 0);

    core_dialog_state *a = core_dialog_get(d, "alice", 0);
    assert_non_null(a);
    assert_int_equal(core_dialog_count(d), 1);
    /* A fresh state is empty. */
    assert_string_equal(a->last_topic, "");
    assert_string_equal(a->clarify[0], "");
    assert_int_equal(a->more_given, 0);
    strcpy(a->last_topic, "salary");
    a->more_given = 2;

    /* The same key gives the same state, by get or by peek. */
    assert_ptr_equal(core_dialog_get(d, "alice", 1), a);
    assert_ptr_equal(core_dialog_peek(d, "alice", 2), a);
    assert_string_equal(a->last_topic, "salary");
    assert_int_equal(core_dialog_count(d), 1);

    core_dialog_state *b = core_dialog_get(d, "bob", 3);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_string_equal(b->last_topic, "");
    assert_int_equal(core_dialog_count(d), 2);
    /* Keys are compared whole. */
    assert_null(core_dialog_peek(d, "alic", 3));
    assert_null(core_dialog_peek(d, "alice2", 3));
    assert_int_equal(core_dialog_count(d), 2);
    core_dialog_free(d);
    core_dialog_free(NULL);
}

static void test_expiry(void **state)
{
    (void)state;
    core_dialog *d = core_dialog_new(8, 10);
    core_dialog_state *a = core_dialog_get(d, "alice", 100);
    strcpy(a->last_topic, "salary");
    /* Within the ttl it is kept, and every touch restarts the clock. */
    assert_non_null(core_dialog_peek(d, "alice", 110));
    assert_non_null(core_dialog_peek(d, "alice", 119));
    assert_string_equal(core_dialog_peek(d, "alice", 129)->last_topic, "salary");
    /* A quiet time longer than the ttl forgets it. */
    assert_null(core_dialog_peek(d, "alice", 139.5));
    assert_int_equal(core_dialog_count(d), 0);
    /* get then starts afresh. */
    a = core_dialog_get(d, "alice", 140);
    assert_non_null(a);
    assert_string_equal(a->last_topic, "");

    /* Expiry drops every quiet conversation, not only the one asked for. */
    core_dialog_get(d, "a", 200);
    core_dialog_get(d, "b", 201);
    core_dialog_get(d, "c", 209);
    assert_int_equal(core_dialog_count(d), 3); /* "alice" expired in passing */
    assert_null(core_dialog_peek(d, "zzz", 211.5));
    assert_int_equal(core_dialog_count(d), 1);
    assert_non_null(core_dialog_peek(d, "c", 211.5));
    assert_null(core_dialog_peek(d, "a", 211.5));
    core_dialog_free(d);
}

static void test_lru_eviction(void **state)
{
    (void)state;
    core_dialog *d = core_dialog_new(3, 1e9);
    core_dialog_get(d, "a", 1);
    core_dialog_get(d, "b", 2);
    core_dialog_get(d, "c", 3);
    assert_int_equal(core_dialog_count(d), 3);
    /* Touch "a": now "b" is the least recently used. */
    strcpy(core_dialog_get(d, "a", 4)->last_topic, "kept");
    core_dialog_state *dd = core_dialog_get(d, "d", 5);
    assert_non_null(dd);
    assert_int_equal(core_dialog_count(d), 3);
    assert_null(core_dialog_peek(d, "b", 6));
    assert_non_null(core_dialog_peek(d, "c", 7));
    assert_non_null(core_dialog_peek(d, "d", 8));
    assert_string_equal(core_dialog_peek(d, "a", 9)->last_topic, "kept");
    /* Order now (most recent first): a, d, c -> "c" goes next. */
    core_dialog_get(d, "e", 10);
    assert_null(core_dialog_peek(d, "c", 11));
    assert_non_null(core_dialog_peek(d, "a", 11));
    assert_non_null(core_dialog_peek(d, "d", 11));
    assert_non_null(core_dialog_peek(d, "e", 11));
    assert_int_equal(core_dialog_count(d), 3);
    /* A fresh state replaces the evicted one: no leftovers. */
    core_dialog_get(d, "f", 12); /* evicts a (peeked first at 11) */
    assert_null(core_dialog_peek(d, "a", 13));
    assert_string_equal(core_dialog_get(d, "a", 14)->last_topic, "");
    core_dialog_free(d);
}

static void test_capacity_one_and_many(void **state)
{
    (void)state;
    core_dialog *d = core_dialog_new(1, 100);
    core_dialog_get(d, "a", 0);
    core_dialog_get(d, "b", 1);
    assert_int_equal(core_dialog_count(d), 1);
    assert_null(core_dialog_peek(d, "a", 2));
    assert_non_null(core_dialog_peek(d, "b", 2));
    core_dialog_free(d);

    /* Capacity 0 is taken as 1. */
    d = core_dialog_new(0, 100);
    assert_non_null(core_dialog_get(d, "x", 0));
    assert_non_null(core_dialog_get(d, "y", 0));
    assert_int_equal(core_dialog_count(d), 1);
    core_dialog_free(d);

    /* Many conversations through a small table: the newest 50 survive. */
    d = core_dialog_new(50, 1e9);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        core_dialog_state *s = core_dialog_get(d, key, i);
        assert_non_null(s);
        snprintf(s->last_topic, sizeof s->last_topic, "t%d", i);
        assert_true(core_dialog_count(d) <= 50);
    }
    assert_int_equal(core_dialog_count(d), 50);
    for (int i = 4950; i < 5000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        core_dialog_state *s = core_dialog_peek(d, key, 6000);
        assert_non_null(s);
        char want[16];
        snprintf(want, sizeof want, "t%d", i);
        assert_string_equal(s->last_topic, want);
    }
    assert_null(core_dialog_peek(d, "user4949", 6000));
    assert_null(core_dialog_peek(d, "user0", 6000));
    core_dialog_free(d);
}

static void test_clear(void **state)
{
    (void)state;
    core_dialog *d = core_dialog_new(4, 100);
    core_dialog_get(d, "a", 0);
    core_dialog_get(d, "b", 0);
    core_dialog_get(d, "c", 0);
    core_dialog_clear(d);
    assert_int_equal(core_dialog_count(d), 0);
    assert_null(core_dialog_peek(d, "a", 1));
    /* Full capacity is usable again after clearing. */
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        assert_non_null(core_dialog_get(d, key, 2));
    }
    assert_int_equal(core_dialog_count(d), 4);
    assert_non_null(core_dialog_peek(d, "k0", 3));
    core_dialog_free(d);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_creates_peek_does_not),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_capacity_one_and_many),
        cmocka_unit_test(test_clear),
    };
    return cmocka_run_group_tests_name("dialog", tests, NULL, NULL);
}
