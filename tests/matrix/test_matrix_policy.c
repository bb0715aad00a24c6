/* Who gets an answer in Matrix: ignored events, direct chats, commands,
 * mentions (m.mentions, pills, name prefixes) and listen rooms. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "careerbot/kb.h"
#include "matrix/matrix_policy.h"

#define ME "@careerbot:example.org"

static core_bot *bot;
static const matrix_identity me = {ME, "Career Bot"};

static int setup(void **state)
{
    (void)state;
    core_kb *kb;
    base_error err;
    if (core_kb_load(CAREERBOT_TEST_KB, &kb, &err) != BASE_OK)
        fail_msg("%s", err.text);
    bot = core_bot_new(kb, NULL, &err);
    assert_non_null(bot);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    core_bot_free(bot);
    return 0;
}

/* A message with body (and optional HTML and mentions). */
static matrix_message msg(const char *body, const char *html, char **mentions, size_t n_mentions)
{
    matrix_message m;
    memset(&m, 0, sizeof m);
    m.room_id = "!room:example.org";
    m.event_id = "$e";
    m.sender = "@alice:example.org";
    m.msgtype = "m.text";
    m.body = (char *)body;
    m.formatted_body = (char *)html;
    m.mentions = mentions;
    m.n_mentions = n_mentions;
    return m;
}

static matrix_addressing address(const matrix_message *m, int direct, int listen)
{
    matrix_addressing a;
    matrix_address(m, &me, direct, listen, bot, "!", &a);
    return a;
}

static void expect_text(const matrix_addressing *a, const char *text)
{
    if (a->len != strlen(text) || strncmp(a->text, text, a->len) != 0)
        fail_msg("asked \"%.*s\", expected \"%s\"", (int)a->len, a->text, text);
}

static void test_ignored(void **state)
{
    (void)state;
    matrix_message m = msg("hello", NULL, NULL, 0);
    assert_null(matrix_ignore_reason(&m, ME, 1));
    assert_non_null(matrix_ignore_reason(&m, ME, 0)); /* first sync: recorded only */
    m.sender = ME;
    assert_string_equal(matrix_ignore_reason(&m, ME, 1), "own event");
    m = msg("hello", NULL, NULL, 0);
    m.msgtype = "m.notice";
    assert_non_null(strstr(matrix_ignore_reason(&m, ME, 1), "notice"));
    m.msgtype = "m.image";
    assert_string_equal(matrix_ignore_reason(&m, ME, 1), "not text");
    m.msgtype = NULL;
    assert_non_null(matrix_ignore_reason(&m, ME, 1));
    m = msg("* fixed", NULL, NULL, 0);
    m.is_edit = 1;
    assert_string_equal(matrix_ignore_reason(&m, ME, 1), "an edit");
    m = msg(NULL, NULL, NULL, 0);
    assert_string_equal(matrix_ignore_reason(&m, ME, 1), "redacted");
    m = msg("x", NULL, NULL, 0);
    m.redacted = 1;
    assert_string_equal(matrix_ignore_reason(&m, ME, 1), "redacted");
    m = msg("old", NULL, NULL, 0);
    m.before_own_join = 1;
    assert_non_null(matrix_ignore_reason(&m, ME, 1));
}

static void test_direct_chat_answers_everything(void **state)
{
    (void)state;
    matrix_message m = msg("what does a coder earn?", NULL, NULL, 0);
    matrix_addressing a = address(&m, 1, 0);
    assert_int_equal(a.action, MATRIX_ANSWER);
    assert_string_equal(a.why, "direct chat");
    expect_text(&a, "what does a coder earn?");
}

static void test_group_room_needs_addressing(void **state)
{
    (void)state;
    matrix_message m = msg("what does a coder earn?", NULL, NULL, 0);
    matrix_addressing a = address(&m, 0, 0);
    assert_int_equal(a.action, MATRIX_SKIP);
    a = address(&m, 0, 1); /* listen room: only when confident */
    assert_int_equal(a.action, MATRIX_ANSWER_IF_CONFIDENT);
}

static void test_commands(void **state)
{
    (void)state;
    matrix_message m = msg("!salary", NULL, NULL, 0);
    matrix_addressing a = address(&m, 0, 0);
    assert_int_equal(a.action, MATRIX_ANSWER);
    assert_string_equal(a.why, "command");
    m = msg("/salary", NULL, NULL, 0); /* "/" is not a prefix here */
    assert_int_equal(address(&m, 0, 0).action, MATRIX_SKIP);
    m = msg("careerbot: !steps", NULL, NULL, 0);
    a = address(&m, 0, 0);
    assert_string_equal(a.why, "command");
    expect_text(&a, "!steps");
}

static void test_name_prefixes(void **state)
{
    (void)state;
    static const char *const bodies[] = {"careerbot: what is the pay?", "CareerBot, what is the pay?",
                                         "@careerbot what is the pay?", "Career Bot: what is the pay?",
                                         "@careerbot:example.org: what is the pay?", "  careerbot - what is the pay?"};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        matrix_message m = msg(bodies[i], NULL, NULL, 0);
        matrix_addressing a = address(&m, 0, 0);
        assert_int_equal(a.action, MATRIX_ANSWER);
        assert_string_equal(a.why, "mention");
        expect_text(&a, "what is the pay?");
    }
    matrix_message m = msg("careerbots are great", NULL, NULL, 0);
    assert_int_equal(address(&m, 0, 0).action, MATRIX_SKIP);
    m = msg("ask careerbot about pay", NULL, NULL, 0); /* a name mid-sentence is not an address */
    assert_int_equal(address(&m, 0, 0).action, MATRIX_SKIP);
}

static void test_mentions(void **state)
{
    (void)state;
    char *mentions[] = {"@bob:example.org", ME};
    matrix_message m = msg("hey, what is the pay?", NULL, mentions, 2);
    matrix_addressing a = address(&m, 0, 0);
    assert_int_equal(a.action, MATRIX_ANSWER);
    assert_string_equal(a.why, "mention");
    m = msg("hey, what is the pay?", NULL, mentions, 1);
    assert_int_equal(address(&m, 0, 0).action, MATRIX_SKIP);

    /* Pills in the HTML, plain and percent-encoded, and the matrix: URI. */
    static const char *const pills[] = {
        "<a href=\"https://matrix.to/#/@careerbot:example.org\">Career Bot</a> pay?",
        "<a href=\"https://matrix.to/#/%40careerbot%3Aexample.org?via=example.org\">x</a> pay?",
        "<a href='matrix:u/careerbot:example.org'>x</a> pay?",
    };
    for (size_t i = 0; i < 3; i++) {
        m = msg("x pay?", pills[i], NULL, 0);
        assert_true(matrix_mentions_user(&m, ME));
    }
    m = msg("x pay?", "<a href=\"https://matrix.to/#/@careerbot:example.org.evil\">x</a>", NULL, 0);
    assert_false(matrix_mentions_user(&m, ME));
    m = msg("ping @careerbot:example.org please", NULL, NULL, 0);
    assert_true(matrix_mentions_user(&m, ME));
}

static void test_reply_fallback(void **state)
{
    (void)state;
    size_t len;
    const char *body = "> <@careerbot:example.org> The median salary was $34,970\n> second line\n\nand after that?";
    const char *rest = matrix_strip_reply_fallback(body, strlen(body), &len);
    assert_int_equal(len, strlen("and after that?"));
    assert_memory_equal(rest, "and after that?", len);
    rest = matrix_strip_reply_fallback("no quote", 8, &len);
    assert_int_equal(len, 8);
    rest = matrix_strip_reply_fallback("> only quote", 12, &len);
    assert_int_equal(len, 0);
    (void)rest;

    /* A reply to the bot mentions it (m.mentions) and asks the text after the quote. */
    char *mentions[] = {ME};
    matrix_message m = msg(body, NULL, mentions, 1);
    matrix_addressing a = address(&m, 0, 0);
    assert_int_equal(a.action, MATRIX_ANSWER);
    expect_text(&a, "and after that?");
}

static void test_addressed_to(void **state)
{
    (void)state;
    size_t len = 99;
    assert_non_null(matrix_addressed_to("careerbot", 9, "careerbot", &len));
    assert_int_equal(len, 0);
    assert_null(matrix_addressed_to("career", 6, "careerbot", &len));
    assert_null(matrix_addressed_to("", 0, "careerbot", &len));
    assert_null(matrix_addressed_to("careerbot: hi", 13, "", &len));
    assert_null(matrix_addressed_to("careerbot: hi", 13, NULL, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ignored),
        cmocka_unit_test(test_direct_chat_answers_everything),
        cmocka_unit_test(test_group_room_needs_addressing),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_name_prefixes),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_reply_fallback),
        cmocka_unit_test(test_addressed_to),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
