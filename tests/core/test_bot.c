/* bot.c's reply policy through core_bot_reply with a fixed clock: questions,
 * follow-ups per conversation, clarification, declines, expiry, and
 * swapping the knowledge base. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "careerbot/bot.h"
#include "test_util.h"

#define CLARIFY_KB CAREERBOT_TEST_DATA "/kb-clarify"
#define SALARY_ANSWER "The median pay was $100 in the test year."
#define GROWTH_ANSWER "Jobs grow 10% in the test decade."
#define STEP1_ANSWER "Step 1: go to school and learn anatomy."
#define STEP2_ANSWER "Step 2: work in a hospital."
#define DECLINE "I only know about the test career. Try /help."
#define CPC_ANSWER "The CPC exam is the coder exam of the AAPC."
#define CCS_ANSWER "The CCS exam is the coder exam of AHIMA."

static core_bot *new_bot(const char *dir, size_t max_conversations, double ttl)
{
    core_bot_options opts = {.max_conversations = max_conversations, .conversation_ttl = ttl};
    base_error err = {0};
    core_bot *bot = core_bot_new(tu_load(dir), &opts, &err);
    if (!bot)
        fail_msg("core_bot_new: %s", err.text);
    return bot;
}

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

static const core_reply *ask(core_bot *bot, const char *user, const char *text)
{
    return tu_say_in(bot, "net", "#room", user, 500.0, text);
}

#define assert_answer(r, topic_id, text) assert_answer_at((r), (topic_id), (text), __LINE__)

/* An answer to a question (kind answer, matched), or a topic shown by its
 * command (kind command: matched is for answers only). */
static void assert_answer_at(const core_reply *r, const char *topic, const char *text, int line)
{
    if (strcmp(r->text, text) != 0)
        fail_msg("line %d: reply \"%s\"\n  expected \"%s\"", line, r->text, text);
    int shown = r->kind == CORE_REPLY_COMMAND ? !r->matched : r->matched && r->kind == CORE_REPLY_ANSWER;
    if (!shown || !r->topic || strcmp(r->topic, topic) != 0)
        fail_msg("line %d: expected matched topic %s, got matched %d topic %s", line, topic, r->matched,
                 r->topic ? r->topic : "(null)");
}

static void test_question_answers(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = ask(bot, "q", "What does a medical coder earn?");
    assert_answer(r, "salary", SALARY_ANSWER);
    assert_true(r->score >= 1.0);
    /* Addressed messages answer the same way. */
    r = ask(bot, "q", "careerbot: what is the salary");
    assert_answer(r, "salary", SALARY_ANSWER);
    assert_true(r->score == 2.0);
    /* The reply's topic points into the bot's knowledge base. */
    assert_ptr_equal(r->topic, core_kb_find(core_bot_kb(bot), "salary")->id);
    /* Two parts, two answers, one reply. */
    r = ask(bot, "q", "what is the salary and the job growth");
    assert_answer(r, "growth", GROWTH_ANSWER "\n" SALARY_ANSWER);
    /* Passage answers count as answers. */
    r = ask(bot, "q", "coding anatomy");
    assert_answer(r, "learn", STEP1_ANSWER);
}

static void test_decline(void **state)
{
    core_bot *bot = *state;
    const char *offtopic[] = {"what's the weather like", "how much does a nurse make", "tell me a joke about pancakes",
                              "", "   ", "?!", "\xFF\xFE\xFD", "wie viel verdient ein Kodierer"};
    for (size_t i = 0; i < sizeof offtopic / sizeof offtopic[0]; i++) {
        const core_reply *r = ask(bot, "decline", offtopic[i]);
        if (strcmp(r->text, DECLINE) != 0 || r->matched || r->topic)
            fail_msg("\"%s\" -> matched %d \"%s\"", offtopic[i], r->matched, r->text);
    }
    /* A NULL text is an empty message. */
    core_request req = {.network = "net", .room = "#room", .user = "decline", .now = 500, .text = NULL, .len = 7};
    core_reply out;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_string_equal(out.text, DECLINE);
    assert_int_equal(out.matched, 0);
    core_reply_clear(&out);
    assert_null(out.text);
}

static void test_follow_next(void **state)
{
    core_bot *bot = *state;
    assert_answer(ask(bot, "next", "what is step 1"), "learn", STEP1_ANSWER);
    assert_answer(ask(bot, "next", "what's next?"), "work", STEP2_ANSWER);
    const core_reply *r = ask(bot, "next", "and after that?");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "last of the 2 steps"));
    /* A follow-up that names the step it follows. */
    assert_answer(ask(bot, "next", "what comes next after step 1"), "work", STEP2_ANSWER);
    /* After the overview, next is step 1; after a topic, its related topic. */
    ask(bot, "next", "how do i become a coder");
    assert_answer(ask(bot, "next", "then what"), "learn", STEP1_ANSWER);
    ask(bot, "next", "what is the salary");
    assert_answer(ask(bot, "next", "next"), "growth", GROWTH_ANSWER);
    /* Next with nothing before it. */
    r = ask(bot, "next-fresh", "what's next");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "Next after what?"));
    /* Nothing follows the last step: a question naming it gets that step. */
    assert_answer(ask(bot, "next-last", "what's next after step 2"), "work", STEP2_ANSWER);
    /* With no earlier answer, "next" in a question about a topic means that topic. */
    assert_answer(ask(bot, "next-topic", "what is the salary, and what comes next"), "salary", SALARY_ANSWER);
}

static void test_follow_more(void **state)
{
    core_bot *bot = *state;
    const core_reply *r = ask(bot, "more", "tell me more");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "More about what?"));
    assert_answer(ask(bot, "more", "what is the salary"), "salary", SALARY_ANSWER);
    /* Details first, then related topics, then the end. */
    assert_answer(ask(bot, "more", "tell me more"), "salary", "More about pay: it varies.");
    assert_answer(ask(bot, "more", "go on"), "growth", "Related: Job growth. " GROWTH_ANSWER);
    r = ask(bot, "more", "more");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "That is all I know on that"));
    /* "tell me more about X" answers X when X is not the last answer. */
    assert_answer(ask(bot, "more", "tell me more about growth"), "growth", GROWTH_ANSWER);
    /* A topic without details goes straight to its related topics. */
    assert_answer(ask(bot, "more", "tell me more"), "salary", "Related: Pay. " SALARY_ANSWER);
    /* A longer question with a clear topic is a question of its own. */
    ask(bot, "more", "what is the salary");
    assert_answer(ask(bot, "more", "tell me more about what the salary is for coders in general"), "salary",
                  SALARY_ANSWER);
}

static void test_conversations_are_separate(void **state)
{
    core_bot *bot = *state;
    assert_answer(tu_say_in(bot, "libera", "#coders", "alice", 10, "what is step 1"), "learn", STEP1_ANSWER);
    /* Another user in the same room, the same user in another room or on
     * another network: no previous answer there. */
    const char *where[][3] = {{"libera", "#coders", "bob"},
                              {"libera", "#other", "alice"},
                              {"oftc", "#coders", "alice"},
                              {"matrix.org", "!room:matrix.org", "alice"}};
    for (size_t i = 0; i < 4; i++) {
        const core_reply *r = tu_say_in(bot, where[i][0], where[i][1], where[i][2], 11, "what's next");
        if (r->matched || !tu_contains(r->text, "Next after what?"))
            fail_msg("%s %s %s: \"%s\"", where[i][0], where[i][1], where[i][2], r->text);
    }
    /* Alice's own conversation still follows on. */
    assert_answer(tu_say_in(bot, "libera", "#coders", "alice", 12, "what's next"), "work", STEP2_ANSWER);
    /* Direct messages (room = user) are conversations too. */
    tu_say_in(bot, "libera", "carol", "carol", 13, "/step 1");
    assert_answer(tu_say_in(bot, "libera", "carol", "carol", 14, "next"), "work", STEP2_ANSWER);
    /* NULL network, room and user are allowed. */
    core_request req = {.now = 15, .text = "/step 1", .len = 7};
    core_reply out;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_string_equal(out.text, STEP1_ANSWER);
    core_reply_clear(&out);
    req.text = "next";
    req.len = 4;
    assert_int_equal(core_bot_reply(bot, &req, &out), BASE_OK);
    assert_string_equal(out.text, STEP2_ANSWER);
    core_reply_clear(&out);
}

static void test_conversation_expiry(void **state)
{
    (void)state;
    core_bot *bot = new_bot(TU_MINI_KB, 0, 60);
    tu_say_in(bot, "n", "r", "u", 1000, "what is step 1");
    assert_answer(tu_say_in(bot, "n", "r", "u", 1059, "what's next"), "work", STEP2_ANSWER);
    /* More than 60 s of quiet: the conversation is forgotten. */
    const core_reply *r = tu_say_in(bot, "n", "r", "u", 1120, "what's next");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "Next after what?"));
    tu_say_clear();
    core_bot_free(bot);
}

static void test_conversation_limit(void **state)
{
    (void)state;
    core_bot *bot = new_bot(TU_MINI_KB, 2, 0);
    tu_say_in(bot, "n", "r", "alice", 1, "what is step 1");
    tu_say_in(bot, "n", "r", "bob", 2, "what is step 1");
    tu_say_in(bot, "n", "r", "carol", 3, "what is step 1");
    /* Alice was the least recent of three in a bot that keeps two. */
    assert_true(tu_contains(tu_say_in(bot, "n", "r", "alice", 4, "what's next")->text, "Next after what?"));
    tu_say_in(bot, "n", "r", "dave", 5, "hello");
    /* Carol (touched at 3) survives; bob (2) was dropped for alice. */
    assert_answer(tu_say_in(bot, "n", "r", "dave", 6, "/step 1"), "learn", STEP1_ANSWER);
    tu_say_clear();
    core_bot_free(bot);
}

static void test_clarify_then_pick(void **state)
{
    (void)state;
    core_bot *bot = new_bot(CLARIFY_KB, 0, 0);
    const core_reply *r = tu_say(bot, "which exam should i take");
    assert_int_equal(r->matched, 0);
    assert_null(r->topic);
    assert_string_equal(r->text, "Do you mean The CPC exam, or The CCS exam? Say \"the first\" or \"the second\", "
                                 "or ask again in other words.");
    assert_answer(tu_say(bot, "the first"), "exam-cpc", CPC_ANSWER);
    /* The choice is remembered like any answer. */
    assert_true(tu_contains(tu_say(bot, "/source")->text, "The CPC exam"));

    tu_say(bot, "exam");
    assert_answer(tu_say(bot, "the second one"), "exam-ccs", CCS_ANSWER);
    tu_say(bot, "exam");
    assert_answer(tu_say(bot, "2"), "exam-ccs", CCS_ANSWER);
    /* Naming one of them picks it too. */
    tu_say(bot, "exam");
    assert_answer(tu_say(bot, "ccs"), "exam-ccs", CCS_ANSWER);
    /* Another question after a clarification is simply answered, and the
     * pending choice is gone. */
    tu_say(bot, "exam");
    assert_answer(tu_say(bot, "what do the fees cost"), "fees", "Each exam costs a few hundred dollars.");
    r = tu_say(bot, "the first");
    assert_int_equal(r->matched, 0);
    /* The choice belongs to the conversation that was asked. */
    tu_say_in(bot, "net", "#room", "bob", 100, "exam");
    r = tu_say_in(bot, "net", "#room", "carol", 100, "the first");
    assert_int_equal(r->matched, 0);
    assert_answer(tu_say_in(bot, "net", "#room", "bob", 100, "the first"), "exam-cpc", CPC_ANSWER);
    tu_say_clear();
    core_bot_free(bot);
}

/* Regression (reported, fixed): while a clarification is pending, any question with
 * "1", "2", "first" or "second" among its first four words is taken as the
 * choice: "what is step 2" answers the second exam instead of step 2. */
static void test_clarify_ordinal_needs_a_bare_choice(void **state)
{
    (void)state;
    core_kb *kb = tu_load_string(
        "{\"lexicon\": {\"threshold\": 1.0, \"clarify_ratio\": 0.8, \"stopwords\": [\"what\", \"is\", \"the\"]},"
        " \"topics\": ["
        "{\"id\": \"exam-cpc\", \"title\": \"The CPC exam\", \"keywords\": [{\"phrase\": \"exam\", \"weight\": 1.5},"
        " {\"phrase\": \"cpc\", \"weight\": 2}], \"examples\": [\"cpc exam\"], \"answer\": \"CPC.\", \"source\": \"S\"},"
        "{\"id\": \"exam-ccs\", \"title\": \"The CCS exam\", \"keywords\": [{\"phrase\": \"exam\", \"weight\": 1.4},"
        " {\"phrase\": \"ccs\", \"weight\": 2}], \"examples\": [\"ccs exam\"], \"answer\": \"CCS.\", \"source\": \"S\"},"
        "{\"id\": \"s1\", \"title\": \"Step one\", \"step\": 1, \"keywords\": [{\"phrase\": \"step 1\", \"weight\": 3}],"
        " \"examples\": [\"step 1\"], \"answer\": \"Step one.\", \"source\": \"S\"},"
        "{\"id\": \"s2\", \"title\": \"Step two\", \"step\": 2, \"keywords\": [{\"phrase\": \"step 2\", \"weight\": 3}],"
        " \"examples\": [\"step 2\"], \"answer\": \"Step two.\", \"source\": \"S\"}]}");
    base_error err;
    core_bot *bot = core_bot_new(kb, NULL, &err);
    assert_non_null(bot);
    assert_int_equal(tu_say(bot, "exam")->matched, 0); /* the clarifying question */
    const core_reply *r = tu_say(bot, "what is step 2");
    char got[64];
    snprintf(got, sizeof got, "%s", r->topic ? r->topic : "(none)");
    /* Replies made of a choice and filler words still pick. */
    static const char *const picks[][2] = {{"the first one", "exam-cpc"}, {"2", "exam-ccs"},
                                          {"the latter, please", "exam-ccs"}, {"1st", "exam-cpc"}};
    char picked[4][64];
    for (int i = 0; i < 4; i++) {
        tu_say(bot, "exam");
        r = tu_say(bot, picks[i][0]);
        snprintf(picked[i], sizeof picked[i], "%s", r->topic ? r->topic : "(none)");
    }
    /* "step 1" after a clarification is a question about step 1. */
    tu_say(bot, "exam");
    r = tu_say(bot, "step 1");
    char step1[64];
    snprintf(step1, sizeof step1, "%s", r->topic ? r->topic : "(none)");
    tu_say_clear();
    core_bot_free(bot);
    assert_string_equal(got, "s2");
    for (int i = 0; i < 4; i++)
        assert_string_equal(picked[i], picks[i][1]);
    assert_string_equal(step1, "s1");
}

static void test_replace_kb(void **state)
{
    (void)state;
    core_bot *bot = new_bot(TU_MINI_KB, 0, 0);
    tu_say(bot, "what is step 1");
    /* Same content, new knowledge base: the conversation goes on. */
    core_kb *fresh = tu_load(TU_MINI_KB);
    base_error err = {0};
    assert_int_equal(core_bot_replace_kb(bot, fresh, &err), BASE_OK);
    assert_ptr_equal(core_bot_kb(bot), fresh);
    const core_reply *r = tu_say(bot, "what's next");
    assert_answer(r, "work", STEP2_ANSWER);
    assert_ptr_equal(r->topic, core_kb_find(fresh, "work")->id);
    assert_answer(tu_say(bot, "what is the salary"), "salary", SALARY_ANSWER);

    /* Another knowledge base: new topics and commands, old ones gone. */
    core_kb *other = tu_load(CLARIFY_KB);
    assert_int_equal(core_bot_replace_kb(bot, other, &err), BASE_OK);
    assert_ptr_equal(core_bot_kb(bot), other);
    assert_answer(tu_say(bot, "/cpc"), "exam-cpc", CPC_ANSWER);
    assert_answer(tu_say(bot, "what is the ccs exam"), "exam-ccs", CCS_ANSWER);
    r = tu_say(bot, "/salary");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "I don't know the command /salary"));
    assert_string_equal(tu_say(bot, "what is the weather")->text, "I only know about exams. Try /help.");
    /* A conversation whose last topic no longer exists does not crash. */
    tu_say_in(bot, "net", "#room", "alice", 200, "/ccs");
    assert_int_equal(core_bot_replace_kb(bot, tu_load(TU_MINI_KB), &err), BASE_OK);
    r = tu_say_in(bot, "net", "#room", "alice", 201, "what's next");
    assert_int_equal(r->matched, 0);
    r = tu_say_in(bot, "net", "#room", "alice", 202, "/why");
    assert_int_equal(r->matched, 0);
    r = tu_say_in(bot, "net", "#room", "alice", 203, "tell me more");
    assert_int_equal(r->matched, 0);
    assert_answer(tu_say(bot, "what is step 1"), "learn", STEP1_ANSWER);
    tu_say_clear();
    core_bot_free(bot);
}

static void test_many_users_and_long_messages(void **state)
{
    core_bot *bot = *state;
    /* Long user and room names, and a long message, are handled. */
    char name[2000];
    memset(name, 'u', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_answer(tu_say_in(bot, name, name, name, 1, "what is the salary"), "salary", SALARY_ANSWER);
    size_t big = 200 * 1024;
    char *text = malloc(big + 1);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = "what is the salary? "[i % 20];
    text[big] = '\0';
    assert_answer(tu_say(bot, text), "salary", SALARY_ANSWER);
    /* A command followed by a huge argument. */
    memcpy(text, "/step 2     ", 12);
    const core_reply *r = tu_say(bot, text);
    assert_int_equal(r->matched, 0);
    free(text);
    char user[32];
    for (int i = 0; i < 6000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        tu_say_in(bot, "net", "#big", user, 2 + i * 0.001, i % 2 ? "/step 1" : "next");
    }
}

/* The real knowledge base, held to its stable facts only (its wording is
 * still being written). */
static void test_real_knowledge(void **state)
{
    (void)state;
    core_kb *kb = NULL;
    base_error err = {0};
    if (core_kb_load(CAREERBOT_TEST_KB, &kb, &err) != BASE_OK) {
        print_message("knowledge base does not load right now, skipping: %s\n", err.text);
        skip();
    }
    core_bot *bot = core_bot_new(kb, NULL, &err);
    assert_non_null(bot);
    const core_reply *r = tu_say(bot, "how much does a medical coder make?");
    assert_int_equal(r->matched, 1);
    assert_true(tu_contains(r->text, "$34,970"));
    r = tu_say(bot, "what is the job growth for medical coders?");
    assert_int_equal(r->matched, 1);
    assert_true(tu_contains(r->text, "22%"));
    r = tu_say(bot, "/step 5");
    assert_int_equal(r->kind, CORE_REPLY_COMMAND);
    assert_non_null(r->topic);
    r = tu_say(bot, "/step 6");
    assert_int_equal(r->matched, 0);
    assert_true(tu_contains(r->text, "5 steps"));
    r = tu_say(bot, "what's the weather like today?");
    assert_int_equal(r->matched, 0);
    assert_null(r->topic);
    tu_say_clear();
    core_bot_free(bot);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_question_answers),
        cmocka_unit_test(test_decline),
        cmocka_unit_test(test_follow_next),
        cmocka_unit_test(test_follow_more),
        cmocka_unit_test(test_conversations_are_separate),
        cmocka_unit_test(test_conversation_expiry),
        cmocka_unit_test(test_conversation_limit),
        cmocka_unit_test(test_clarify_then_pick),
        cmocka_unit_test(test_replace_kb),
        cmocka_unit_test(test_many_users_and_long_messages),
        cmocka_unit_test(test_real_knowledge),
        cmocka_unit_test(test_clarify_ordinal_needs_a_bare_choice),
    };
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("bot", tests, setup, teardown);
}
