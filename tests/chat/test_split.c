/* Reply splitting: every line within the protocol's limit, whole UTF-8
 * characters, no control characters that could end a protocol line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat/split.h"
#include "core/text.h"

typedef struct collected {
    char lines[1024][600];
    size_t n;
    int stop_after;
} collected;

static int collect(void *ctx, const char *line, size_t len)
{
    collected *c = ctx;
    assert_true(len < sizeof c->lines[0]);
    assert_true(c->n < sizeof c->lines / sizeof c->lines[0]);
    memcpy(c->lines[c->n], line, len);
    c->lines[c->n][len] = '\0';
    c->n++;
    return c->stop_after && (int)c->n >= c->stop_after;
}

static collected *split(const char *text, size_t max)
{
    static collected c;
    memset(&c, 0, sizeof c);
    size_t n = chat_split_lines(text, strlen(text), max, collect, &c);
    assert_int_equal(n, c.n);
    return &c;
}

static void test_split_on_newlines_and_words(void **state)
{
    (void)state;
    collected *c = split("first line\nsecond line\n\n  third  ", 100);
    assert_int_equal(c->n, 3);
    assert_string_equal(c->lines[0], "first line");
    assert_string_equal(c->lines[1], "second line");
    assert_string_equal(c->lines[2], "third");
    c = split("aaaa bbbb cccc dddd", 10);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->lines[0], "aaaa bbbb");
    assert_string_equal(c->lines[1], "cccc dddd");
}

static void test_split_never_exceeds_max(void **state)
{
    (void)state;
    char text[3000];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    text[sizeof text - 1] = '\0';
    for (size_t max = 8; max < 500; max += 37) {
        collected *c = split(text, max);
        size_t total = 0;
        for (size_t i = 0; i < c->n; i++) {
            assert_true(strlen(c->lines[i]) <= max);
            assert_true(strlen(c->lines[i]) > 0);
            total += strlen(c->lines[i]);
        }
        assert_true(total > 2000); /* nothing but spaces was dropped */
    }
}

static void test_split_keeps_utf8_whole(void **state)
{
    (void)state;
    /* "é" is two bytes; a word of them must be cut between characters. */
    char text[401];
    for (int i = 0; i < 200; i++)
        memcpy(text + 2 * i, "\xc3\xa9", 2);
    text[400] = '\0';
    for (size_t max = 9; max < 60; max++) {
        collected *c = split(text, max);
        for (size_t i = 0; i < c->n; i++) {
            size_t len = strlen(c->lines[i]);
            assert_true(len <= max);
            assert_int_equal(core_utf8_valid_prefix(c->lines[i], len), len);
        }
    }
}

static void test_split_drops_control_characters(void **state)
{
    (void)state;
    collected *c = split("hi\r\nQUIT :bye\x01\x7f ok\tthere", 100);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->lines[0], "hi");
    assert_string_equal(c->lines[1], "QUIT :bye ok there");
    for (size_t i = 0; i < c->n; i++)
        for (const char *p = c->lines[i]; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    /* Only control characters: nothing to send. */
    c = split("\r\r\n\x01\x02", 100);
    assert_int_equal(c->n, 0);
}

static void test_split_stops_when_asked(void **state)
{
    (void)state;
    static collected c;
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    size_t n = chat_split_lines("a\nb\nc\nd", 7, 100, collect, &c);
    assert_int_equal(n, 2);
    assert_int_equal(c.n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_on_newlines_and_words),
        cmocka_unit_test(test_split_never_exceeds_max),
        cmocka_unit_test(test_split_keeps_utf8_whole),
        cmocka_unit_test(test_split_drops_control_characters),
        cmocka_unit_test(test_split_stops_when_asked),
    };
    return cmocka_run_group_tests_name("chat_split", tests, NULL, NULL);
}
