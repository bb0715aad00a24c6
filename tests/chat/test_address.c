/* Addressing by name and name comparison under each casemapping: what every
 * transport relies on to know who is talking to the bot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat/address.h"

static const char *rest_in(const char *text, const char *name, chat_casemap map)
{
    static char out[256];
    size_t n;
    const char *r = chat_addressed_to(text, strlen(text), name, map, &n);
    if (!r)
        return NULL;
    snprintf(out, sizeof out, "%.*s", (int)n, r);
    return out;
}

static const char *rest_of(const char *text, const char *nick)
{
    return rest_in(text, nick, CHAT_CASE_RFC1459);
}

static void test_addressed(void **state)
{
    (void)state;
    assert_string_equal(rest_of("careerbot: how much?", "careerbot"), "how much?");
    assert_string_equal(rest_of("careerbot, how much?", "careerbot"), "how much?");
    assert_string_equal(rest_of("  CareerBot:how much?", "careerbot"), "how much?");
    assert_string_equal(rest_of("@careerbot how much?", "careerbot"), "how much?");
    assert_string_equal(rest_of("careerbot - how much?", "careerbot"), "how much?");
    assert_string_equal(rest_of("careerbot:", "careerbot"), "");
    /* rfc1459 case mapping: [] and {} are the same letter */
    assert_string_equal(rest_of("bot{x}: hi", "BOT[X]"), "hi");
    /* A longer nick that starts the same is someone else. */
    assert_null(rest_of("careerbot2: hi", "careerbot"));
    assert_null(rest_of("careerbots are cool", "careerbot"));
    assert_null(rest_of("hi careerbot", "careerbot"));
    assert_null(rest_of("", "careerbot"));
    assert_null(rest_of("careerbot: hi", ""));
    assert_null(rest_of("careerbot: hi", NULL));
    assert_null(rest_of("career", "careerbot"));
}

/* Matrix names: a display name with a space, a full user id, ASCII case. */
static void test_addressed_matrix_names(void **state)
{
    (void)state;
    assert_string_equal(rest_in("Career Bot: what is the pay?", "Career Bot", CHAT_CASE_ASCII), "what is the pay?");
    assert_string_equal(rest_in("career bot, what is the pay?", "Career Bot", CHAT_CASE_ASCII), "what is the pay?");
    assert_string_equal(rest_in("@careerbot:example.org: what is the pay?", "@careerbot:example.org", CHAT_CASE_ASCII),
                        "what is the pay?");
    assert_string_equal(rest_in("\n careerbot\n- pay?", "careerbot", CHAT_CASE_ASCII), "pay?");
    assert_null(rest_in("Career Botany: pay?", "Career Bot", CHAT_CASE_ASCII));
    /* Under ASCII, [ and { differ. */
    assert_null(rest_in("bot{x}: hi", "BOT[X]", CHAT_CASE_ASCII));
}

static void test_casemaps(void **state)
{
    (void)state;
    assert_true(chat_name_equal("careerbot", "CareerBot", CHAT_CASE_RFC1459));
    assert_true(chat_name_equal("Care[rbot]", "care{rbot}", CHAT_CASE_RFC1459));
    assert_true(chat_name_equal("a\\b", "A|B", CHAT_CASE_RFC1459));
    assert_true(chat_name_equal("x~", "X^", CHAT_CASE_RFC1459));
    assert_true(chat_name_equal("", "", CHAT_CASE_RFC1459));
    assert_false(chat_name_equal("abc", "abcd", CHAT_CASE_RFC1459));
    /* strict-rfc1459: [ ] \ fold, ~ and ^ do not */
    assert_true(chat_name_equal("a[b]\\", "A{B}|", CHAT_CASE_STRICT_RFC1459));
    assert_false(chat_name_equal("x~", "X^", CHAT_CASE_STRICT_RFC1459));
    /* ascii: only letters fold */
    assert_true(chat_name_equal("CareerBot", "careerbot", CHAT_CASE_ASCII));
    assert_false(chat_name_equal("a[", "A{", CHAT_CASE_ASCII));
    assert_int_equal(chat_casemap_from_name("ascii"), CHAT_CASE_ASCII);
    assert_int_equal(chat_casemap_from_name("strict-rfc1459"), CHAT_CASE_STRICT_RFC1459);
    assert_int_equal(chat_casemap_from_name("rfc1459"), CHAT_CASE_RFC1459);
    assert_int_equal(chat_casemap_from_name(NULL), CHAT_CASE_RFC1459);
    assert_int_equal(chat_casemap_from_name("rfc7613"), CHAT_CASE_RFC1459);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addressed),
        cmocka_unit_test(test_addressed_matrix_names),
        cmocka_unit_test(test_casemaps),
    };
    return cmocka_run_group_tests_name("chat_address", tests, NULL, NULL);
}
