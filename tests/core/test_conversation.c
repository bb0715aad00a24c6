/* Conversation: small talk, follow-ups answered by facets, honest silence,
 * topic switches, the steps sequence, clarifications, brief answers with
 * "more", and a declined aside followed up on the career. Uses the
 * kb-conversation fixture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define CONV_KB CAREERBOT_TEST_DATA "/kb-conversation"

static core_reply last; /* the last turn's reply, kept until the next (or teardown) */

static int setup(void **state)
{
    base_error err;
    core_bot *bot = core_bot_new(tu_load(CONV_KB), NULL, &err);
    assert_non_null(bot);
    *state = bot;
    return 0;
}

static int teardown(void **state)
{
    core_reply_clear(&last);
    core_bot_free(*state);
    return 0;
}

static double clock_now = 100;

/* One turn of the conversation named by user; brief: as in a group channel. */
static const core_reply *turn(core_bot *bot, const char *user, int brief, const char *text)
{
    core_reply_clear(&last);
    core_request req = {"net", "#room", user, clock_now += 1, text, strlen(text), NULL, brief, 0, NULL};
    assert_int_equal(core_bot_reply(bot, &req, &last), BASE_OK);
    assert_non_null(last.text);
    return &last;
}

#define expect(r, k, topic_id, needle) expect_at((r), (k), (topic_id), (needle), __LINE__)

static void expect_at(const core_reply *r, core_reply_kind kind, const char *topic, const char *needle, int line)
{
    if (r->kind != kind)
        fail_msg("line %d: kind %s, expected %s: \"%s\"", line, core_reply_kind_name(r->kind),
                 core_reply_kind_name(kind), r->text);
    assert_int_equal(r->matched, kind == CORE_REPLY_ANSWER);
    if (topic && (!r->topic || strcmp(r->topic, topic) != 0))
        fail_msg("line %d: topic %s, expected %s: \"%s\"", line, r->topic ? r->topic : "(none)", topic, r->text);
    if (needle && !strstr(r->text, needle))
        fail_msg("line %d: \"%s\" lacks \"%s\"", line, r->text, needle);
}

static void test_small_talk_in_kind(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "s", 0, "hi"), CORE_REPLY_SOCIAL, NULL, "Hello one.");
    expect(turn(bot, "s", 0, "hello!"), CORE_REPLY_SOCIAL, NULL, "Hello two."); /* the replies take turns */
    expect(turn(bot, "s", 0, "thank you"), CORE_REPLY_SOCIAL, NULL, "Thanks");
    expect(turn(bot, "s", 0, "ok bye"), CORE_REPLY_SOCIAL, NULL, "Bye"); /* the kind listed first wins */
    expect(turn(bot, "s", 0, "cool"), CORE_REPLY_SOCIAL, NULL, "Ack one.");
    /* The kind that covers more of the words wins over the one listed first. */
    expect(turn(bot, "s", 0, "thank you, bye"), CORE_REPLY_SOCIAL, NULL, "Thanks");
    /* Small talk around a question: the question is answered. */
    expect(turn(bot, "s", 0, "hi, what is the pay?"), CORE_REPLY_ANSWER, "pay", "$100");
    expect(turn(bot, "s", 0, "cool, and certification?"), CORE_REPLY_ANSWER, "cert", "voluntary");
    /* Small talk keeps the conversation's subject. */
    expect(turn(bot, "s2", 0, "what is the pay"), CORE_REPLY_ANSWER, "pay", NULL);
    expect(turn(bot, "s2", 0, "thanks"), CORE_REPLY_SOCIAL, NULL, NULL);
    expect(turn(bot, "s2", 0, "is that per year?"), CORE_REPLY_ANSWER, "pay", "yearly");
    /* Social replies state no topic. */
    assert_null(turn(bot, "s2", 0, "bye")->topic);
}

static void test_facets_answer_follow_ups(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "f", 0, "what is the pay"), CORE_REPLY_ANSWER, "pay", "$100");
    expect(turn(bot, "f", 0, "is that per year?"), CORE_REPLY_ANSWER, "pay", "It is a yearly figure.");
    expect(turn(bot, "f", 0, "which year is that from?"), CORE_REPLY_ANSWER, "pay", "It is for 2013.");
    expect(turn(bot, "f", 0, "and starting pay?"), CORE_REPLY_ANSWER, "pay", "No starting pay is given.");
    /* A facet kind the topic has none for: the kind's honest line. */
    expect(turn(bot, "f", 0, "who says so?"), CORE_REPLY_ANSWER, "pay", "Nobody is named for that.");
    /* "is that good?" is a follow-up, not small talk. */
    expect(turn(bot, "f", 0, "is that good?"), CORE_REPLY_ANSWER, "pay", "No comparison.");
    /* A weak follow-up in the topic's own words: what they mean. */
    expect(turn(bot, "f", 0, "the median?"), CORE_REPLY_ANSWER, "pay", "Median means the middle.");
}

static void test_follow_ups_keep_the_subject_against_weak_words(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "r", 0, "tell me about certification"), CORE_REPLY_ANSWER, "cert", NULL);
    /* "required" is also a training keyword, but here it asks about certification. */
    expect(turn(bot, "r", 0, "is it required?"), CORE_REPLY_ANSWER, "cert", "No, it is voluntary.");
    expect(turn(bot, "r", 0, "who runs the exams?"), CORE_REPLY_ANSWER, "cert", "AAA runs the exams.");
    /* Without that context the same words are a question of their own. */
    expect(turn(bot, "r2", 0, "is training required?"), CORE_REPLY_ANSWER, "training", NULL);
}

static void test_naming_another_topic_switches(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "w", 0, "what is the pay"), CORE_REPLY_ANSWER, "pay", NULL);
    expect(turn(bot, "w", 0, "what about certification?"), CORE_REPLY_ANSWER, "cert", "voluntary");
    expect(turn(bot, "w", 0, "and the pay?"), CORE_REPLY_ANSWER, "pay", "$100");
    /* An off-topic word ends a follow-up. */
    expect(turn(bot, "w", 0, "and the weather?"), CORE_REPLY_DECLINE, NULL, "only know");
}

static void test_steps_sequence(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "st", 0, "what are the steps"), CORE_REPLY_ANSWER, "steps", "1. School.");
    expect(turn(bot, "st", 0, "the second one"), CORE_REPLY_ANSWER, "work", "Step 2");
    expect(turn(bot, "st", 0, "and the last?"), CORE_REPLY_ANSWER, "advance", "Step 3");
    expect(turn(bot, "st", 0, "and the first step?"), CORE_REPLY_ANSWER, "school", "Step 1");
    expect(turn(bot, "st", 0, "next"), CORE_REPLY_ANSWER, "work", NULL);
    expect(turn(bot, "st", 0, "and then"), CORE_REPLY_ANSWER, "advance", NULL);
    expect(turn(bot, "st", 0, "next"), CORE_REPLY_CLARIFY, NULL, "last of the 3 steps");
    /* Ordinals mean steps only in the steps' context. */
    expect(turn(bot, "st2", 0, "what is the pay"), CORE_REPLY_ANSWER, "pay", NULL);
    assert_int_not_equal(turn(bot, "st2", 0, "the second one")->kind, CORE_REPLY_ANSWER);
}

static void test_clarifications(void **state)
{
    core_kb *kb = tu_load(CAREERBOT_TEST_DATA "/kb-clarify");
    base_error err;
    core_bot *bot = core_bot_new(kb, NULL, &err);
    assert_non_null(bot);
    expect(turn(bot, "c", 0, "which exam should i take"), CORE_REPLY_CLARIFY, NULL, "Do you mean");
    const core_reply *r = turn(bot, "c", 0, "both");
    expect(r, CORE_REPLY_ANSWER, "exam-cpc", "CPC");
    assert_non_null(strstr(r->text, "CCS"));
    expect(turn(bot, "c", 0, "which exam should i take"), CORE_REPLY_CLARIFY, NULL, NULL);
    r = turn(bot, "c", 0, "which one is better?");
    expect(r, CORE_REPLY_ANSWER, NULL, "rank");
    assert_non_null(strstr(r->text, "CPC"));
    assert_non_null(strstr(r->text, "CCS"));
    expect(turn(bot, "c", 0, "which exam should i take"), CORE_REPLY_CLARIFY, NULL, NULL);
    expect(turn(bot, "c", 0, "the latter please"), CORE_REPLY_ANSWER, "exam-ccs", NULL);
    /* Small talk while a choice is pending leaves it pending. */
    expect(turn(bot, "c", 0, "which exam should i take"), CORE_REPLY_CLARIFY, NULL, NULL);
    core_bot_free(bot);
}

static void test_brief_answers_and_more(void **state)
{
    core_bot *bot = *state;
    /* A group channel gets the brief form and a hint; "more" gives the rest. */
    const core_reply *r = turn(bot, "b", 1, "what are the steps");
    expect(r, CORE_REPLY_ANSWER, "steps", "Three steps: school, work, advance. (say /more for the rest)");
    r = turn(bot, "b", 1, "more");
    expect(r, CORE_REPLY_ANSWER, "steps", "The three steps:\n1. School. (say /more for the rest)");
    r = turn(bot, "b", 1, "/more");
    expect(r, CORE_REPLY_COMMAND, "steps", "2. Work.");
    assert_string_equal(r->text, "2. Work.\n3. Advance.");
    /* Nothing held back any more: "more" goes on to other things. */
    assert_null(strstr(turn(bot, "b", 1, "more")->text, "/more for the rest"));
    /* A direct message or the console gets the whole answer. */
    r = turn(bot, "b2", 0, "what are the steps");
    assert_string_equal(r->text, "The three steps:\n1. School.\n2. Work.\n3. Advance.");
}

static void test_aside_followed_up_on_the_career(void **state)
{
    core_bot *bot = *state;
    expect(turn(bot, "a", 0, "what does a pharmacist earn"), CORE_REPLY_DECLINE, NULL, NULL);
    expect(turn(bot, "a", 0, "and a coder?"), CORE_REPLY_ANSWER, "pay", "$100");
    /* Only the next question can lean on it. */
    expect(turn(bot, "a2", 0, "what does a pharmacist earn"), CORE_REPLY_DECLINE, NULL, NULL);
    expect(turn(bot, "a2", 0, "what are the steps"), CORE_REPLY_ANSWER, "steps", NULL);
    const core_reply *r = turn(bot, "a2", 0, "and a coder?");
    assert_false(r->topic && strcmp(r->topic, "pay") == 0);
}

static void test_follow_ups_without_context(void **state)
{
    core_bot *bot = *state;
    static const char *const lonely[] = {"is it required?", "who says so?", "the second one", "and the last?", "it?",
                                         "is that good?", "what does that mean"};
    for (size_t i = 0; i < sizeof lonely / sizeof *lonely; i++) {
        const core_reply *r = turn(bot, lonely[i], 0, lonely[i]); /* each a fresh conversation */
        if (r->kind == CORE_REPLY_ANSWER && r->topic && strcmp(r->topic, "training") != 0 &&
            strcmp(r->topic, "cert") != 0)
            fail_msg("\"%s\" with no context answered %s: \"%s\"", lonely[i], r->topic, r->text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_talk_in_kind),
        cmocka_unit_test(test_facets_answer_follow_ups),
        cmocka_unit_test(test_follow_ups_keep_the_subject_against_weak_words),
        cmocka_unit_test(test_naming_another_topic_switches),
        cmocka_unit_test(test_steps_sequence),
        cmocka_unit_test(test_clarifications),
        cmocka_unit_test(test_brief_answers_and_more),
        cmocka_unit_test(test_aside_followed_up_on_the_career),
        cmocka_unit_test(test_follow_ups_without_context),
    };
    return cmocka_run_group_tests_name("conversation", tests, setup, teardown);
}
