/* Operator commands: the parser (every command, the prefixes, bad
 * arguments with their messages, IRC and Matrix names) and who is an admin
 * (accounts only, under the casemap on IRC and exactly on Matrix, only in a
 * direct message). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chat/operator.h"

static chat_op op;

static chat_op_kind parse(const char *text, chat_op_syntax syntax)
{
    return chat_op_parse(text, strlen(text), "!/", syntax, &op);
}

static void expect_ok(const char *text, chat_op_syntax syntax, chat_op_kind kind, const char *target)
{
    if (parse(text, syntax) != kind || op.error)
        fail_msg("\"%s\": kind %d, error %s", text, op.kind, op.error ? op.error : "none");
    assert_string_equal(op.target, target);
}

static void expect_error(const char *text, chat_op_syntax syntax, const char *needle)
{
    if (parse(text, syntax) == CHAT_OP_NONE || !op.error || !strstr(op.error, needle))
        fail_msg("\"%s\": expected an error with \"%s\", got %s", text, needle, op.error ? op.error : "none");
}

static void test_irc_commands(void **state)
{
    (void)state;
    expect_ok("!join #ops", CHAT_OP_IRC, CHAT_OP_JOIN, "#ops");
    assert_string_equal(op.key, "");
    expect_ok("  /JOIN   #ops  s3cret ", CHAT_OP_IRC, CHAT_OP_JOIN, "#ops");
    assert_string_equal(op.key, "s3cret");
    expect_ok("!part &local", CHAT_OP_IRC, CHAT_OP_PART, "&local");
    expect_ok("!ignore Spam[bot]", CHAT_OP_IRC, CHAT_OP_IGNORE, "Spam[bot]");
    expect_ok("!unignore spambot", CHAT_OP_IRC, CHAT_OP_UNIGNORE, "spambot");
    expect_ok("!say #ops  hello,  world  ", CHAT_OP_IRC, CHAT_OP_SAY, "#ops");
    assert_string_equal(op.text, "hello,  world");
    expect_ok("!status", CHAT_OP_IRC, CHAT_OP_STATUS, "");
    expect_ok("!reload", CHAT_OP_IRC, CHAT_OP_RELOAD, "");
    expect_ok("!help", CHAT_OP_IRC, CHAT_OP_HELP, "");
    expect_ok("!help salary", CHAT_OP_IRC, CHAT_OP_HELP, "");
    assert_string_equal(chat_op_name(CHAT_OP_UNIGNORE), "unignore");
}

static void test_not_operator_commands(void **state)
{
    (void)state;
    const char *const texts[] = {"", "join #ops", "!salary", "!joined #ops", "!joinx", "how do I !join", "!",
                                 "?join #ops", "!statusreport"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (parse(texts[i], CHAT_OP_IRC) != CHAT_OP_NONE)
            fail_msg("\"%s\" read as an operator command", texts[i]);
    /* Only the network's prefixes. */
    assert_int_equal(chat_op_parse("/join #a", 8, "!", CHAT_OP_IRC, &op), CHAT_OP_NONE);
    assert_int_equal(chat_op_parse("!join #a", 8, "!", CHAT_OP_IRC, &op), CHAT_OP_JOIN);
    /* Not NUL-terminated: only len bytes count. */
    assert_int_equal(chat_op_parse("!status and more", 7, NULL, CHAT_OP_IRC, &op), CHAT_OP_STATUS);
    assert_null(op.error);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    expect_error("!join", CHAT_OP_IRC, "!join #channel [key]");
    expect_error("!join ops", CHAT_OP_IRC, "needs a channel");
    expect_error("!join #a,#b", CHAT_OP_IRC, "needs a channel");
    expect_error("!join # ", CHAT_OP_IRC, "needs a channel");
    expect_error("!join #a key extra", CHAT_OP_IRC, "needs a channel");
    expect_error("!part", CHAT_OP_IRC, "!part #channel");
    expect_error("!ignore", CHAT_OP_IRC, "needs a nick");
    expect_error("!ignore #chan", CHAT_OP_IRC, "needs a nick");
    expect_error("!ignore a*b", CHAT_OP_IRC, "needs a nick");
    expect_error("!ignore a b", CHAT_OP_IRC, "needs a nick");
    expect_error("!say #ops", CHAT_OP_IRC, "needs a channel and a text");
    expect_error("!say hello", CHAT_OP_IRC, "needs a channel and a text");
    expect_error("!say #ops one\ntwo", CHAT_OP_IRC, "one line");
    expect_error("!status now", CHAT_OP_IRC, "takes nothing");
    expect_error("!reload please", CHAT_OP_IRC, "takes nothing");
    char longsay[600] = "!say #ops ";
    memset(longsay + strlen(longsay), 'x', 450);
    expect_error(longsay, CHAT_OP_IRC, "at most 400");
    char longname[400] = "!join #";
    memset(longname + 7, 'c', 300);
    expect_error(longname, CHAT_OP_IRC, "needs a channel");
    char bell[] = "!join #a\007b";
    expect_error(bell, CHAT_OP_IRC, "needs a channel");
}

static void test_matrix_names(void **state)
{
    (void)state;
    expect_ok("!join #coders:example.org", CHAT_OP_MATRIX, CHAT_OP_JOIN, "#coders:example.org");
    expect_ok("!join !abc:example.org", CHAT_OP_MATRIX, CHAT_OP_JOIN, "!abc:example.org");
    expect_ok("!part !abc:example.org", CHAT_OP_MATRIX, CHAT_OP_PART, "!abc:example.org");
    expect_ok("!ignore @spam:example.org", CHAT_OP_MATRIX, CHAT_OP_IGNORE, "@spam:example.org");
    expect_ok("!say !abc:example.org hi there", CHAT_OP_MATRIX, CHAT_OP_SAY, "!abc:example.org");
    assert_string_equal(op.text, "hi there");
    expect_error("!join #coders", CHAT_OP_MATRIX, "needs a room");
    expect_error("!ignore spam", CHAT_OP_MATRIX, "needs a user id");
    expect_error("!ignore @spam", CHAT_OP_MATRIX, "needs a user id");
    expect_error("!ignore @:example.org", CHAT_OP_MATRIX, "needs a user id");
    /* A Matrix !join takes no key. */
    expect_error("!join #a:example.org key", CHAT_OP_MATRIX, "needs a room");
}

static void test_who_is_an_admin(void **state)
{
    (void)state;
    const char *const irc[] = {"Boss", "ops[1]"};
    assert_true(chat_op_is_admin(irc, 2, "boss", 1, CHAT_CASE_RFC1459, 0));
    assert_true(chat_op_is_admin(irc, 2, "OPS{1}", 1, CHAT_CASE_RFC1459, 0));
    assert_false(chat_op_is_admin(irc, 2, "OPS{1}", 1, CHAT_CASE_ASCII, 0)); /* ascii: {} are not [] */
    assert_false(chat_op_is_admin(irc, 2, "boss", 0, CHAT_CASE_RFC1459, 0)); /* in a channel: nobody */
    assert_false(chat_op_is_admin(irc, 2, NULL, 1, CHAT_CASE_RFC1459, 0));   /* a nick alone: no account */
    assert_false(chat_op_is_admin(irc, 2, "", 1, CHAT_CASE_RFC1459, 0));
    assert_false(chat_op_is_admin(irc, 2, "bossy", 1, CHAT_CASE_RFC1459, 0));
    assert_false(chat_op_is_admin(NULL, 0, "boss", 1, CHAT_CASE_RFC1459, 0));
    const char *const mx[] = {"@alice:example.org"};
    assert_true(chat_op_is_admin(mx, 1, "@alice:example.org", 1, CHAT_CASE_ASCII, 1));
    assert_false(chat_op_is_admin(mx, 1, "@Alice:example.org", 1, CHAT_CASE_ASCII, 1));
    assert_false(chat_op_is_admin(mx, 1, "@alice:example.org.evil", 1, CHAT_CASE_ASCII, 1));
}

static void test_help(void **state)
{
    (void)state;
    base_strbuf b = {0};
    chat_op_help('!', CHAT_OP_IRC, &b);
    assert_non_null(strstr(b.data, "!join #channel [key]"));
    assert_non_null(strstr(b.data, "!reload"));
    base_strbuf_free(&b);
    chat_op_help('/', CHAT_OP_MATRIX, &b);
    assert_non_null(strstr(b.data, "/ignore @user:server"));
    assert_null(strstr(b.data, "[key]"));
    base_strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irc_commands),   cmocka_unit_test(test_not_operator_commands),
        cmocka_unit_test(test_bad_arguments),  cmocka_unit_test(test_matrix_names),
        cmocka_unit_test(test_who_is_an_admin), cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
