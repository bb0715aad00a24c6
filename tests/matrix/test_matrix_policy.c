/* The Matrix facts behind the reply gate: ignored events, mentions
 * (m.mentions, pills, the user id), the reply fallback, the localpart.
 * Whether a message is answered is tested with the gate (tests/chat). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "matrix/matrix_policy.h"

#define ME "@careerbot:example.org"

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

static void test_mentions(void **state)
{
    (void)state;
    char *mentions[] = {"@bob:example.org", ME};
    matrix_message m = msg("hey, what is the pay?", NULL, mentions, 2);
    assert_true(matrix_mentions_user(&m, ME));
    m = msg("hey, what is the pay?", NULL, mentions, 1);
    assert_false(matrix_mentions_user(&m, ME));

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

static void test_m_mentions_alone_decides(void **state)
{
    (void)state;
    char *bob[] = {"@bob:x"};
    matrix_message m = msg("@careerbot:x: hi", "<a href=\"https://matrix.to/#/@careerbot:x\">bot</a>", bob, 1);
    assert_true(matrix_mentions_user(&m, "@careerbot:x")); /* no m.mentions: the pill counts */
    m.has_mentions = 1;
    assert_false(matrix_mentions_user(&m, "@careerbot:x")); /* m.mentions names bob only */
    m.n_mentions = 0;
    assert_false(matrix_mentions_user(&m, "@careerbot:x")); /* an empty one: nobody */
}

static void test_leading_pill(void **state)
{
    (void)state;
    char buf[64];
    const char *me = "@careerbot:x";
    assert_string_equal(matrix_leading_pill("<a href=\"https://matrix.to/#/@careerbot:x\">Career Bot</a>: hi", me, buf,
                                            sizeof buf), "Career Bot");
    assert_string_equal(matrix_leading_pill(" <p><a href='https://matrix.to/#/%40careerbot%3Ax'>A &amp; B</a> hi", me,
                                            buf, sizeof buf), "A & B");
    assert_string_equal(matrix_leading_pill("<a href=\"matrix:u/careerbot:x\">cb</a>", me, buf, sizeof buf), "cb");
    assert_null(matrix_leading_pill("hi <a href=\"https://matrix.to/#/@careerbot:x\">cb</a>", me, buf, sizeof buf));
    assert_null(matrix_leading_pill("<a href=\"https://matrix.to/#/@other:x\">cb</a>", me, buf, sizeof buf));
    assert_null(matrix_leading_pill("<a href=\"https://matrix.to/#/@careerbot:x\"><b>cb</b></a>", me, buf, sizeof buf));
    assert_null(matrix_leading_pill("<a href=\"https://matrix.to/#/@careerbot:x\">unterminated", me, buf, sizeof buf));
    assert_null(matrix_leading_pill("<a href=\"https://matrix.to/#/@careerbot:x\">far too long a name</a>", me, buf, 8));
    assert_null(matrix_leading_pill(NULL, me, buf, sizeof buf));
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

    /* A reply to the bot mentions it (m.mentions). */
    char *mentions[] = {ME};
    matrix_message m = msg(body, NULL, mentions, 1);
    assert_true(matrix_mentions_user(&m, ME));
}

static void test_localpart(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(matrix_localpart(ME, buf, sizeof buf), "careerbot");
    assert_null(matrix_localpart("careerbot:example.org", buf, sizeof buf));
    assert_null(matrix_localpart("@:example.org", buf, sizeof buf));
    assert_null(matrix_localpart("@nocolon", buf, sizeof buf));
    assert_null(matrix_localpart("@averyveryverylongname:example.org", buf, sizeof buf));
    assert_null(matrix_localpart(NULL, buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ignored),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_reply_fallback),
        cmocka_unit_test(test_m_mentions_alone_decides),
        cmocka_unit_test(test_leading_pill),
        cmocka_unit_test(test_localpart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
