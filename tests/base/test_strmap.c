/* strmap.c (open addressing, backward-shift deletion) and strbuf.c. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strmap.h"
#include "test_util.h"

static int get(const base_strmap *m, const char *key)
{
    int v = -12345;
    if (!base_strmap_get(m, key, strlen(key), &v))
        return -1;
    return v;
}

static void test_put_get_overwrite(void **state)
{
    (void)state;
    base_strmap *m = base_strmap_new(0);
    assert_non_null(m);
    assert_int_equal(base_strmap_count(m), 0);
    assert_int_equal(get(m, "salary"), -1);
    assert_int_equal(base_strmap_put(m, "salary", 6, 7), 0);
    assert_int_equal(base_strmap_put(m, "growth", 6, 8), 0);
    assert_int_equal(get(m, "salary"), 7);
    assert_int_equal(get(m, "growth"), 8);
    assert_int_equal(base_strmap_count(m), 2);
    /* Overwrite keeps the count. */
    assert_int_equal(base_strmap_put(m, "salary", 6, 70), 0);
    assert_int_equal(get(m, "salary"), 70);
    assert_int_equal(base_strmap_count(m), 2);
    /* Lookups by slice: only len bytes of the key count. */
    assert_int_equal(base_strmap_get(m, "salary-and-more", 6, NULL), 1);
    assert_int_equal(base_strmap_get(m, "sal", 3, NULL), 0);
    /* The map copies keys: the caller's buffer may change. */
    char buf[8] = "temp";
    assert_int_equal(base_strmap_put(m, buf, 4, 1), 0);
    strcpy(buf, "xxxx");
    assert_int_equal(get(m, "temp"), 1);
    assert_int_equal(get(m, "xxxx"), -1);
    /* The empty key is a key like any other. */
    assert_int_equal(base_strmap_put(m, "", 0, 5), 0);
    assert_int_equal(get(m, ""), 5);
    base_strmap_free(m);
    base_strmap_free(NULL);
}

static void test_growth(void **state)
{
    (void)state;
    base_strmap *m = base_strmap_new(1);
    char key[32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(base_strmap_put(m, key, (size_t)len, i * 3), 0);
    }
    assert_int_equal(base_strmap_count(m), (size_t)n);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_int_equal(get(m, key), i * 3);
    }
    assert_int_equal(get(m, "key-20000"), -1);
    base_strmap_free(m);
}

/* Deterministic xorshift, so a failure is reproducible. */
static uint32_t rng_state = 2463534242u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_remove_backward_shift(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        /* A small table keeps probe runs long, where backward shift matters. */
        const int n = 500 + round * 300;
        base_strmap *m = base_strmap_new(4);
        char key[32];
        int *order = malloc((size_t)n * sizeof *order);
        char *present = calloc((size_t)n, 1);
        assert_non_null(order);
        assert_non_null(present);
        for (int i = 0; i < n; i++) {
            int len = snprintf(key, sizeof key, "w%d", i);
            assert_int_equal(base_strmap_put(m, key, (size_t)len, i), 0);
            order[i] = i;
            present[i] = 1;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(rnd() % (uint32_t)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        /* Remove in random order; after every few removals, every key still
         * present must be found and every removed key must be gone. */
        for (int r = 0; r < n; r++) {
            int victim = order[r];
            int len = snprintf(key, sizeof key, "w%d", victim);
            assert_int_equal(base_strmap_remove(m, key, (size_t)len), 1);
            assert_int_equal(base_strmap_remove(m, key, (size_t)len), 0);
            present[victim] = 0;
            assert_int_equal(base_strmap_count(m), (size_t)(n - r - 1));
            if (r % 37 == 0 || r > n - 20) {
                for (int k = 0; k < n; k++) {
                    snprintf(key, sizeof key, "w%d", k);
                    assert_int_equal(get(m, key), present[k] ? k : -1);
                }
            }
        }
        assert_int_equal(base_strmap_count(m), 0);
        /* The emptied map still works. */
        assert_int_equal(base_strmap_put(m, "again", 5, 9), 0);
        assert_int_equal(get(m, "again"), 9);
        free(order);
        free(present);
        base_strmap_free(m);
    }
}

static void test_remove_then_reinsert(void **state)
{
    (void)state;
    base_strmap *m = base_strmap_new(4);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(key, sizeof key, "k%d", i);
        base_strmap_put(m, key, (size_t)len, i);
    }
    for (int i = 0; i < 1000; i += 2) {
        int len = snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(base_strmap_remove(m, key, (size_t)len), 1);
    }
    for (int i = 0; i < 1000; i += 2) {
        int len = snprintf(key, sizeof key, "k%d", i);
        base_strmap_put(m, key, (size_t)len, -i);
    }
    assert_int_equal(base_strmap_count(m), 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(get(m, key) , i % 2 ? i : -i);
    }
    assert_int_equal(base_strmap_remove(m, "absent", 6), 0);
    base_strmap_free(m);
}

static void test_clear(void **state)
{
    (void)state;
    base_strmap *m = base_strmap_new(8);
    char key[32];
    for (int i = 0; i < 100; i++) {
        int len = snprintf(key, sizeof key, "c%d", i);
        base_strmap_put(m, key, (size_t)len, i);
    }
    base_strmap_clear(m);
    assert_int_equal(base_strmap_count(m), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "c%d", i);
        assert_int_equal(get(m, key), -1);
    }
    /* Usable after clearing. */
    for (int i = 0; i < 100; i++) {
        int len = snprintf(key, sizeof key, "d%d", i);
        assert_int_equal(base_strmap_put(m, key, (size_t)len, i + 1), 0);
    }
    assert_int_equal(base_strmap_count(m), 100);
    assert_int_equal(get(m, "d99"), 100);
    base_strmap_clear(NULL);
    base_strmap_free(m);
}

static void test_binary_keys(void **state)
{
    (void)state;
    base_strmap *m = base_strmap_new(4);
    /* Keys that differ only after a NUL byte are different keys. */
    assert_int_equal(base_strmap_put(m, "a\0b", 3, 1), 0);
    assert_int_equal(base_strmap_put(m, "a\0c", 3, 2), 0);
    assert_int_equal(base_strmap_put(m, "a", 1, 3), 0);
    assert_int_equal(base_strmap_put(m, "a\0", 2, 4), 0);
    assert_int_equal(base_strmap_count(m), 4);
    int v = 0;
    assert_int_equal(base_strmap_get(m, "a\0b", 3, &v), 1);
    assert_int_equal(v, 1);
    assert_int_equal(base_strmap_get(m, "a\0c", 3, &v), 1);
    assert_int_equal(v, 2);
    assert_int_equal(base_strmap_get(m, "a", 1, &v), 1);
    assert_int_equal(v, 3);
    assert_int_equal(base_strmap_get(m, "a\0", 2, &v), 1);
    assert_int_equal(v, 4);
    assert_int_equal(base_strmap_get(m, "a\0d", 3, &v), 0);
    assert_int_equal(base_strmap_remove(m, "a\0b", 3), 1);
    assert_int_equal(base_strmap_get(m, "a\0c", 3, &v), 1);
    assert_int_equal(v, 2);
    /* High bytes are fine too. */
    assert_int_equal(base_strmap_put(m, "\xFF\xFE\x80", 3, 9), 0);
    assert_int_equal(base_strmap_get(m, "\xFF\xFE\x80", 3, &v), 1);
    assert_int_equal(v, 9);
    base_strmap_free(m);
}

/* ---- strbuf ---------------------------------------------------------------- */

static void test_strbuf_add_addf_take(void **state)
{
    (void)state;
    base_strbuf b = {0};
    base_strbuf_add(&b, "Step ");
    base_strbuf_addf(&b, "%d of %d: %s", 2, 5, "work");
    base_strbuf_addn(&b, "!!!", 1);
    assert_int_equal(b.len, strlen("Step 2 of 5: work!"));
    char *s = base_strbuf_take(&b);
    assert_string_equal(s, "Step 2 of 5: work!");
    /* take resets the buffer for reuse. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(s);
    base_strbuf_add(&b, "again");
    s = base_strbuf_take(&b);
    assert_string_equal(s, "again");
    free(s);
}

static void test_strbuf_empty_take(void **state)
{
    (void)state;
    base_strbuf b = {0};
    char *s = base_strbuf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    base_strbuf_add(&b, "");
    base_strbuf_addf(&b, "%s", "");
    s = base_strbuf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_strbuf_large(void **state)
{
    (void)state;
    base_strbuf b = {0};
    for (int i = 0; i < 10000; i++)
        base_strbuf_addf(&b, "%04d,", i % 10000);
    assert_int_equal(b.len, 50000);
    char *big = malloc(3000);
    memset(big, 'x', 2999);
    big[2999] = '\0';
    base_strbuf_addf(&b, "[%s]", big); /* one addf far bigger than the first block */
    free(big);
    char *s = base_strbuf_take(&b);
    assert_int_equal(strlen(s), 50000 + 3001);
    assert_memory_equal(s, "0000,0001,", 10);
    assert_memory_equal(s + 49995, "9999,[x", 7);
    assert_string_equal(s + 50000 + 3000, "]");
    free(s);
    /* free on a used buffer releases and resets it. */
    base_strbuf_add(&b, "x");
    base_strbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_overwrite),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_remove_backward_shift),
        cmocka_unit_test(test_remove_then_reinsert),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_binary_keys),
        cmocka_unit_test(test_strbuf_add_addf_take),
        cmocka_unit_test(test_strbuf_empty_take),
        cmocka_unit_test(test_strbuf_large),
    };
    return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
