/* Chat commands (commands.c, answers.c, the command parser of bot.c), through
 * core_bot_reply with a fixed clock, over the kb-mini fixture. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/answers.h"
#include "careerbot/bot.h"
#include "test_util.h"

#define STEP_HELP "There are 2 steps: use /step 1 to /step 2, or /steps for all of them."
#define SALARY_ANSWER "The median pay was $100 in the test year."
#define STEP1_ANSWER "Step 1: go to school and learn anatomy."
#define STEP2_ANSWER "Step 2: work in a hospital."
#define DECLINE "I only know about the test career. Try /help."

static int setup(void **state)
{
    *state = tu_mini_bot(NULL);
    return 0;
}

static int teardown(void **state)
{
    tu_say_clear();
    core_bot_free(*state);
    return 0;
}

/* Each test talks as its own user, so conversations do not leak between tests. */
static const core_reply *say(core_bot *bot, const char *user, const char *text)
{
    return tu_say_in(bot, "net", "#room", user, 1000.0, text);
}

/* Every reply to a command is of kind "command" (matched is for answers to
 * questions only), except an unknown command's, which declines. */
static void assert_reply(const core_reply *r, core_reply_kind kind, const char *topic, const char *text)
{
    if (strcmp(r->text, text) != 0)
        fail_msg("reply \"%s\"\n  expected \"%s\"", r->text, text);
    assert_int_equal(r->kind, kind);
    assert_int_equal(r->matched, kind == CORE_REPLY_ANSWER);
    if (topic) {
        assert_non_null(r->topic);
        assert_string_equal(r->topic, topic);
    } else {
        assert_null(r->topic);
    }
}

static void test_help(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = say(bot, "help", "/help");
    assert_reply(r, CORE_REPLY_COMMAND, NULL,
                 "Ask me about the test career.\n"
                 "Commands: /help, /topics, /steps, /step N, /next, /more, /source, /about, /why\n"
                 "Topics: /salary, /growth");
    /* Hints use the prefix the user typed. */
    r = say(bot, "help", "!help");
    assert_true(tu_contains(r->text, "Commands: !help, !topics, !steps, !step N"));
    assert_true(tu_contains(r->text, "Topics: !salary, !growth"));
    assert_false(tu_contains(r->text, "/"));
}

static void test_topics(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = say(bot, "topics", "/topics");
    assert_reply(r, CORE_REPLY_COMMAND, NULL,
                 "I can tell you about: Pay (/salary), Job growth (/growth), The steps (/steps), "
                 "Learn (/learn), Work (/work)");
}

static void test_steps_and_step(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "steps", "/steps"), CORE_REPLY_COMMAND, "steps", "1. Learn. 2. Work.");
    assert_reply(say(bot, "steps", "/step 1"), CORE_REPLY_COMMAND, "learn", STEP1_ANSWER);
    assert_reply(say(bot, "steps", "/step 2"), CORE_REPLY_COMMAND, "work", STEP2_ANSWER);
    assert_reply(say(bot, "steps", "/step   2  "), CORE_REPLY_COMMAND, "work", STEP2_ANSWER);
    assert_reply(say(bot, "steps", "/step\t1"), CORE_REPLY_COMMAND, "learn", STEP1_ANSWER);
    /* Out of range, not a number, or missing: one clear message. */
    const char *bad[] = {"/step 0", "/step 3", "/step 6", "/step -1", "/step abc", "/step", "/step ",
                         "/step 1.5", "/step 2abc", "/step 1 2", "/step 99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const core_reply *r = say(bot, "steps", bad[i]);
        if (strcmp(r->text, STEP_HELP) != 0)
            fail_msg("\"%s\" -> \"%s\"", bad[i], r->text);
        assert_int_equal(r->matched, 0);
        assert_null(r->topic);
    }
    assert_reply(say(bot, "steps", "!step 9"), CORE_REPLY_COMMAND, NULL,
                 "There are 2 steps: use !step 1 to !step 2, or !steps for all of them.");
}

static void test_next_command(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = say(bot, "nextcmd", "/next");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "Next after what?"));
    assert_reply(say(bot, "nextcmd", "/step 1"), CORE_REPLY_COMMAND, "learn", STEP1_ANSWER);
    assert_reply(say(bot, "nextcmd", "/next"), CORE_REPLY_COMMAND, "work", STEP2_ANSWER);
    r = say(bot, "nextcmd", "/next");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "last of the 2 steps"));
    /* After the steps overview, next is step 1. */
    say(bot, "nextcmd", "/steps");
    assert_reply(say(bot, "nextcmd", "/next"), CORE_REPLY_COMMAND, "learn", STEP1_ANSWER);
    /* After a topic that is not a step, next is its first related topic. */
    say(bot, "nextcmd", "/salary");
    assert_reply(say(bot, "nextcmd", "/next"), CORE_REPLY_COMMAND, "growth", "Jobs grow 10% in the test decade.");
}

static void test_source(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "source", "/source"), CORE_REPLY_COMMAND, NULL, "Test sources.");
    say(bot, "source", "what is the salary");
    assert_reply(say(bot, "source", "/source"), CORE_REPLY_COMMAND, NULL, "My last answer (Pay) comes from: Test bureau");
    assert_reply(say(bot, "source", "!sources"), CORE_REPLY_COMMAND, NULL, "My last answer (Pay) comes from: Test bureau");
    say(bot, "source", "/step 2");
    assert_reply(say(bot, "source", "/source"), CORE_REPLY_COMMAND, NULL, "My last answer (Work) comes from: Test article");
    /* A declined question does not change the last answer. */
    say(bot, "source", "what's the weather like");
    assert_reply(say(bot, "source", "/source"), CORE_REPLY_COMMAND, NULL, "My last answer (Work) comes from: Test article");
}

static void test_about(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = say(bot, "about", "/about");
    assert_string_equal(r->text, "A test bot.");
    assert_int_equal(r->kind, CORE_REPLY_COMMAND);
    assert_null(r->topic);
}

static void test_why(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "why", "/why"), CORE_REPLY_COMMAND, NULL, "I have not answered anything in this conversation yet.");
    say(bot, "why", "what is the salary");
    assert_reply(say(bot, "why", "/why"), CORE_REPLY_COMMAND, NULL,
                 "My last answer came from the topic \"Pay\" (salary), score 2.00, chosen because of: salary.");
    say(bot, "why", "how much do coders make");
    const core_reply *r = say(bot, "why", "!why");
    assert_true(tu_contains(r->text, "(salary)"));
    assert_true(tu_contains(r->text, "score 1.10"));
    assert_true(tu_contains(r->text, "how much, make"));
    say(bot, "why", "/step 1");
    r = say(bot, "why", "/why");
    assert_true(tu_contains(r->text, "(learn)"));
    assert_true(tu_contains(r->text, "the step command"));
}

static void test_topic_commands(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "topiccmd", "!salary"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    assert_reply(say(bot, "topiccmd", "/salary"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    assert_reply(say(bot, "topiccmd", "/growth"), CORE_REPLY_COMMAND, "growth", "Jobs grow 10% in the test decade.");
    /* A topic without a "command" is reached by its id. */
    assert_reply(say(bot, "topiccmd", "/learn"), CORE_REPLY_COMMAND, "learn", STEP1_ANSWER);
    /* Trailing punctuation and arguments do not matter. */
    assert_reply(say(bot, "topiccmd", "!salary?"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    assert_reply(say(bot, "topiccmd", "!salary please"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    assert_reply(say(bot, "topiccmd", "   /salary"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
}

static void test_case_insensitive(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "case", "!SALARY"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    assert_reply(say(bot, "case", "/Step 2"), CORE_REPLY_COMMAND, "work", STEP2_ANSWER);
    assert_true(tu_contains(say(bot, "case", "/HeLp")->text, "Commands: /help"));
}

static void test_unknown_command(void **state)
{
    core_bot *bot = *state;
    assert_reply(say(bot, "unknown", "/nope"), CORE_REPLY_DECLINE, NULL, "I don't know the command /nope. Try /help for the list.");
    assert_reply(say(bot, "unknown", "!Salaries"), CORE_REPLY_DECLINE, NULL,
                 "I don't know the command !salaries. Try !help for the list.");
    /* A very long name is cut in the reply. */
    char cmd[300] = "/";
    memset(cmd + 1, 'z', 200);
    cmd[201] = '\0';
    const core_reply *r = say(bot, "unknown", cmd);
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "I don't know the command /zzzz"));
    assert_true(tu_contains(r->text, "Try /help"));
    assert_true(strlen(r->text) < 120);
}

static void test_not_commands(void **state)
{
    core_bot *bot = *state;
    /* Paths and emphasis are not commands: they go to the matcher, which declines. */
    const char *texts[] = {"/usr/bin", "/usr/local/bin", "!important: the weather", "/", "!", "/ help",
                           "!!", "/?", "\xE2\x9C\x93/help", "-help"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_false(core_bot_is_command(bot, NULL, texts[i], strlen(texts[i])));
        const core_reply *r = say(bot, "notcmd", texts[i]);
        if (strcmp(r->text, DECLINE) != 0)
            fail_msg("\"%s\" -> \"%s\"", texts[i], r->text);
    }
    /* A path with a topic word in it is a question about that word. */
    assert_false(core_bot_is_command(bot, NULL, "/usr/bin/salary", 15));
    const core_reply *r = say(bot, "notcmd", "/usr/bin/salary");
    assert_reply(r, CORE_REPLY_ANSWER, "salary", SALARY_ANSWER);
    assert_true(r->score == 2.0);

    assert_true(core_bot_is_command(bot, NULL, "/help", 5));
    assert_true(core_bot_is_command(bot, NULL, "  !salary", 9));
    assert_true(core_bot_is_command(bot, NULL, "/step 3", 7));
    assert_true(core_bot_is_command(bot, NULL, "!nope", 5)); /* unknown, but a command */
    assert_true(core_bot_is_command(bot, NULL, "/help!", 6));
    /* Only len bytes count. */
    assert_false(core_bot_is_command(bot, NULL, "/help", 1));
    assert_true(core_bot_is_command(bot, NULL, "/helpxyz", 5));
    assert_false(core_bot_is_command(bot, NULL, "", 0));
    assert_false(core_bot_is_command(bot, NULL, "what is /help", 13));
}

static void test_custom_prefixes(void **state)
{
    (void)state;
    core_bot *bot = tu_mini_bot(".");
    assert_true(core_bot_is_command(bot, NULL, ".help", 5));
    assert_false(core_bot_is_command(bot, NULL, "/help", 5));
    assert_false(core_bot_is_command(bot, NULL, "!salary", 7));
    const core_reply *r = say(bot, "dot", ".help");
    assert_true(tu_contains(r->text, "Commands: .help, .topics"));
    r = say(bot, "dot", "/help");
    /* Hints show commands with a prefix that works here. */
    assert_string_equal(r->text, "I only know about the test career. Try .help.");
    /* "!salary" is a question containing the word salary. */
    r = say(bot, "dot", "!salary");
    assert_int_equal(r->kind, CORE_REPLY_ANSWER);
    assert_int_equal(r->matched, 1);
    assert_string_equal(r->topic, "salary");
    assert_reply(say(bot, "dot", ".step 9"), CORE_REPLY_COMMAND, NULL,
                 "There are 2 steps: use .step 1 to .step 2, or .steps for all of them.");
    tu_say_clear();
    core_bot_free(bot);

    bot = tu_mini_bot("#$");
    assert_true(core_bot_is_command(bot, NULL, "#salary", 7));
    assert_true(core_bot_is_command(bot, NULL, "$salary", 7));
    assert_false(core_bot_is_command(bot, NULL, "/salary", 7));
    assert_reply(say(bot, "hash", "$salary"), CORE_REPLY_COMMAND, "salary", SALARY_ANSWER);
    tu_say_clear();
    core_bot_free(bot);
}

/* A transport may give its own prefixes per message (e.g. "!" only in rooms). */
static void test_prefixes_per_request(void **state)
{
    core_bot *bot = *state;
    assert_true(core_bot_is_command(bot, ".", ".help", 5));
    assert_false(core_bot_is_command(bot, ".", "/help", 5));
    assert_false(core_bot_is_command(bot, "!", "/help", 5));
    assert_true(core_bot_is_command(bot, "!", "!help", 5));
    core_request req = {.network = "net", .room = "#room", .user = "perreq", .now = 1000, .text = "/help",
                      .len = 5, .command_prefixes = "!"};
    core_reply out;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    int hint_ok = strcmp(out.text, "I only know about the test career. Try !help.") == 0;
    core_reply_clear(&out);
    assert_true(hint_ok);
    req.text = "!help";
    req.len = 5;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_true(tu_contains(out.text, "Commands: !help"));
    core_reply_clear(&out);
    req.text = ".salary";
    req.len = 7;
    req.command_prefixes = ".";
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_string_equal(out.text, SALARY_ANSWER);
    core_reply_clear(&out);
    /* NULL: the bot's own ("/!"). */
    req.text = "/salary";
    req.len = 7;
    req.command_prefixes = NULL;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_string_equal(out.text, SALARY_ANSWER);
    core_reply_clear(&out);
}

static void test_command_run_direct(void **state)
{
    core_bot *bot = *state;
    const core_kb *kb = core_bot_kb(bot);
    core_reply out;
    /* A fresh conversation. */
    core_dialog_state fresh;
    memset(&fresh, 0, sizeof fresh);
    core_turn t = {kb, &fresh, 0, '/'};
    assert_int_equal(core_command_run(&t, "salary", "", &out), BASE_OK);
    assert_string_equal(out.text, SALARY_ANSWER);
    assert_string_equal(out.topic, "salary");
    core_reply_clear(&out);
    memset(&fresh, 0, sizeof fresh);
    t.prefix = '!';
    assert_int_equal(core_command_run(&t, "source", NULL, &out), BASE_OK);
    assert_string_equal(out.text, "Test sources.");
    core_reply_clear(&out);
    assert_int_equal(core_command_run(&t, "why", NULL, &out), BASE_OK);
    assert_int_equal(out.matched, 0);
    core_reply_clear(&out);
    assert_int_equal(core_command_run(&t, "next", NULL, &out), BASE_OK);
    assert_int_equal(out.matched, 0);
    core_reply_clear(&out);
    /* The command records the answer for follow-ups. */
    core_dialog_state st;
    memset(&st, 0, sizeof st);
    core_turn t2 = {kb, &st, 0, '/'};
    assert_int_equal(core_command_run(&t2, "step", "1", &out), BASE_OK);
    assert_string_equal(st.last_topic, "learn");
    core_reply_clear(&out);
    assert_int_equal(core_answer_next(&t2, &out), BASE_OK);
    assert_string_equal(out.text, STEP2_ANSWER);
    assert_string_equal(st.last_topic, "work");
    core_reply_clear(&out);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_steps_and_step),
        cmocka_unit_test(test_next_command),
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_about),
        cmocka_unit_test(test_why),
        cmocka_unit_test(test_topic_commands),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_not_commands),
        cmocka_unit_test(test_custom_prefixes),
        cmocka_unit_test(test_prefixes_per_request),
        cmocka_unit_test(test_command_run_direct),
    };
    return cmocka_run_group_tests_name("commands", tests, setup, teardown);
}
