/* The reply gate's decisions: who is answered, how the message reached the
 * bot, listen-room confidence, per-person and per-room limits, the queue,
 * busy notices and their own limits, bots and ignored senders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat/gate.h"
#include "test_util.h"

#define PAY "The median pay was $100"

typedef struct fixture {
    core_bot *bot;
    chat_gate *gate;
    chat_gate_config cfg;
} fixture;

static chat_decision last; /* the last decision, kept until the next call (or teardown) */

static const char *const irc_names[] = {"careerbot"};
static const char *const matrix_names[] = {"@careerbot:example.org", "Career Bot", "careerbot"};

static chat_gate_config default_config(void)
{
    chat_gate_config c = {
        .network = "net",
        .command_prefixes = "!",
        .listen_min_score = 1.5,
        .limits = 1,
        .user_burst = 100, .user_rate = 100,
        .room_burst = 100, .room_rate = 100,
        .casemap = CHAT_CASE_RFC1459,
    };
    return c;
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    f.bot = tu_mini_bot(NULL);
    f.cfg = default_config();
    f.gate = chat_gate_new(f.bot, &f.cfg);
    assert_non_null(f.gate);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    chat_decision_clear(&last);
    chat_gate_free(f->gate);
    core_bot_free(f->bot);
    return 0;
}

/* Replaces the fixture's gate with one made from cfg. */
static void regate(fixture *f, const chat_gate_config *cfg)
{
    chat_gate_free(f->gate);
    f->cfg = *cfg;
    f->gate = chat_gate_new(f->bot, cfg);
    assert_non_null(f->gate);
}

/* A group message from alice in #room at time 0, addressed to nobody. */
static chat_message group(const char *text)
{
    chat_message m = {
        .room = "#room",
        .sender = "alice",
        .text = text,
        .len = text ? strlen(text) : 0,
        .names = irc_names,
        .n_names = 1,
    };
    return m;
}

static chat_message direct(const char *text)
{
    chat_message m = group(text);
    m.room = "alice";
    m.direct = 1;
    return m;
}

/* Decides m and keeps the decision until the next call. */
static const chat_decision *decide(fixture *f, const chat_message *m)
{
    chat_decision_clear(&last);
    assert_int_equal(chat_gate_decide(f->gate, m, &last), BASE_OK);
    if (last.action == CHAT_SILENT)
        assert_null(last.text);
    else
        assert_non_null(last.text);
    assert_non_null(last.why);
    return &last;
}

static void expect_answer(fixture *f, const chat_message *m, chat_via via, const char *needle)
{
    const chat_decision *d = decide(f, m);
    if (d->action != CHAT_ANSWER)
        fail_msg("\"%.*s\": expected an answer, got action %d (%s)", (int)m->len, m->text, d->action, d->why);
    assert_int_equal(d->via, via);
    if (needle && !strstr(d->text, needle))
        fail_msg("\"%.*s\": answer \"%s\" lacks \"%s\"", (int)m->len, m->text, d->text, needle);
}

static void expect_silent(fixture *f, const chat_message *m, const char *why)
{
    const chat_decision *d = decide(f, m);
    if (d->action != CHAT_SILENT)
        fail_msg("\"%.*s\": expected silence, got action %d (%s)", (int)m->len, m->text, d->action, d->why);
    if (why && !strstr(d->why, why))
        fail_msg("\"%.*s\": silent because \"%s\", expected \"%s\"", (int)m->len, m->text, d->why, why);
}

static void expect_busy(fixture *f, const chat_message *m, const char *why)
{
    const chat_decision *d = decide(f, m);
    if (d->action != CHAT_BUSY)
        fail_msg("\"%.*s\": expected a busy notice, got action %d (%s)", (int)m->len, m->text, d->action, d->why);
    assert_non_null(strstr(d->why, why));
    assert_non_null(strstr(d->text, m->sender)); /* the notice names who waits */
    assert_non_null(strstr(d->text, "give me a moment"));
    assert_non_null(strstr(d->text, why));
}

static void test_direct_messages_are_all_answered(void **state)
{
    fixture *f = *state;
    chat_message m = direct("what is the salary");
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    m = direct("nice weather today"); /* answered too: with the decline */
    expect_answer(f, &m, CHAT_VIA_DIRECT, "only know");
    m = direct("careerbot: what is the salary"); /* the name is still taken off */
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    m = direct("!growth");
    expect_answer(f, &m, CHAT_VIA_DIRECT, "10%");
}

static void test_group_needs_addressing(void **state)
{
    fixture *f = *state;
    chat_message m = group("what is the salary");
    expect_silent(f, &m, "not addressed");
    assert_int_equal(decide(f, &m)->via, CHAT_VIA_NONE);
    static const char *const addressed[] = {"careerbot: what is the salary", "CareerBot, what is the salary",
                                            "@careerbot what is the salary", "  careerbot - what is the salary"};
    for (size_t i = 0; i < sizeof addressed / sizeof *addressed; i++) {
        m = group(addressed[i]);
        expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    }
    static const char *const not_addressed[] = {"careerbots are great", "ask careerbot about the salary",
                                                "careerbot2: what is the salary", ""};
    for (size_t i = 0; i < sizeof not_addressed / sizeof *not_addressed; i++) {
        m = group(not_addressed[i]);
        expect_silent(f, &m, "not addressed");
    }
}

/* What Matrix passes: a user id, a display name with a space, a localpart,
 * compared as ASCII. */
static void test_matrix_names(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.casemap = CHAT_CASE_ASCII;
    regate(f, &c);
    static const char *const bodies[] = {"careerbot: what is the pay?", "CareerBot, what is the pay?",
                                         "@careerbot what is the pay?", "Career Bot: what is the pay?",
                                         "@careerbot:example.org: what is the pay?",
                                         "  careerbot - what is the pay?"};
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        chat_message m = group(bodies[i]);
        m.names = matrix_names;
        m.n_names = 3;
        expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    }
    /* A name that is not known (NULL display name) is skipped. */
    const char *const some[] = {"@careerbot:example.org", NULL, "careerbot"};
    chat_message m = group("careerbot: what is the pay?");
    m.names = some;
    m.n_names = 3;
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
}

static void test_commands(void **state)
{
    fixture *f = *state;
    chat_message m = group("!salary");
    expect_answer(f, &m, CHAT_VIA_COMMAND, PAY);
    m = group("/salary"); /* "/" is not a prefix of this gate */
    expect_silent(f, &m, "not addressed");
    m = group("careerbot: !steps");
    expect_answer(f, &m, CHAT_VIA_COMMAND, "Learn");
}

static void test_unknown_commands_in_groups(void **state)
{
    fixture *f = *state;
    chat_message m = group("!seen bob"); /* another bot's command */
    expect_silent(f, &m, "not a command of mine");
    assert_int_equal(decide(f, &m)->via, CHAT_VIA_COMMAND);
    m.unknown_commands = 1; /* a channel that wants to hear */
    expect_answer(f, &m, CHAT_VIA_COMMAND, "don't know the command");
    m = direct("!seen bob");
    expect_answer(f, &m, CHAT_VIA_DIRECT, "don't know the command");
    m = group("careerbot: !seen bob"); /* addressed by name, still a command */
    expect_silent(f, &m, "not a command of mine");
}

static void test_mentions(void **state)
{
    fixture *f = *state;
    chat_message m = group("hey, what is the salary?");
    m.mentioned = 1;
    expect_answer(f, &m, CHAT_VIA_MENTION, PAY);
}

static void test_bots_and_ignored_senders(void **state)
{
    fixture *f = *state;
    chat_message m = direct("what is the salary");
    m.from_bot = 1;
    expect_silent(f, &m, "bot");
    m = group("!salary");
    m.from_bot = 1;
    expect_silent(f, &m, "bot");

    const char *const ignore[] = {"OtherBot", "bot[1]"};
    chat_gate_config c = default_config();
    c.ignore = ignore;
    c.n_ignore = 2;
    regate(f, &c);
    m = direct("what is the salary");
    m.sender = "otherbot";
    expect_silent(f, &m, "ignore");
    m.sender = "BOT{1}"; /* rfc1459: {} are the lower case of [] */
    expect_silent(f, &m, "ignore");
    m.sender = "bot1";
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
}

/* An operator's !ignore and !unignore replace the list while the gate runs. */
static void test_ignore_list_replaced(void **state)
{
    fixture *f = *state;
    chat_message m = direct("what is the salary");
    m.sender = "dave";
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    const char *const added[] = {"Dave", "erin"};
    assert_int_equal(chat_gate_set_ignore(f->gate, added, 2), BASE_OK);
    expect_silent(f, &m, "ignore");
    m.sender = "erin";
    expect_silent(f, &m, "ignore");
    const char *const fewer[] = {"erin"};
    assert_int_equal(chat_gate_set_ignore(f->gate, fewer, 1), BASE_OK);
    m.sender = "dave";
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    assert_int_equal(chat_gate_set_ignore(f->gate, NULL, 0), BASE_OK);
    m.sender = "erin";
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
}

static void test_listen_rooms_answer_only_confident_questions(void **state)
{
    fixture *f = *state;
    chat_message m = group("what is the salary");
    m.listen = 1;
    expect_answer(f, &m, CHAT_VIA_LISTEN, PAY);
    m = group("nice weather today");
    m.listen = 1;
    expect_silent(f, &m, "not confident");
    assert_int_equal(decide(f, &m)->via, CHAT_VIA_LISTEN);
    /* A weak match (a 0.5 keyword) is below listen_min_score. */
    m = group("make time");
    m.listen = 1;
    expect_silent(f, &m, "not confident");
    /* Addressed, the same weak question is answered as well as the bot can. */
    m = group("careerbot: nice weather today");
    m.listen = 1;
    expect_answer(f, &m, CHAT_VIA_NAME, "only know");
}

static void test_person_limit(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.user_burst = 2;
    c.user_rate = 0.1;
    regate(f, &c);
    chat_message m = group("careerbot: what is the salary");
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    expect_busy(f, &m, "you are asking faster than I answer");
    /* One notice a minute per person: the next is silent, with the same why. */
    m.now = 1;
    expect_silent(f, &m, "you are asking faster than I answer");
    assert_int_equal(decide(f, &m)->via, CHAT_VIA_NAME);
    /* Someone else is not held back. */
    m.sender = "bob";
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    /* Ten seconds refill one question. */
    m.sender = "alice";
    m.now = 12;
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    /* Direct messages count against the same person. */
    m = direct("what is the salary");
    m.now = 12;
    expect_silent(f, &m, "asking faster");
    m.now = 70; /* the bucket is full again, and a minute after the last notice it comes again */
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    expect_busy(f, &m, "asking faster");
}

/* Chatter in a listen room spends the person's budget but is never told to
 * wait; a question asked afterwards is. */
static void test_listen_chatter_is_never_told_to_wait(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.user_burst = 3;
    c.user_rate = 0.01;
    regate(f, &c);
    chat_message m = group("ha, that is what I said about the pizza");
    m.listen = 1;
    for (int i = 0; i < 6; i++) {
        const chat_decision *d = decide(f, &m);
        assert_int_equal(d->action, CHAT_SILENT);
    }
    m = group("what is the salary"); /* confident, but over the budget: silent too */
    m.listen = 1;
    expect_silent(f, &m, "asking faster");
    m = group("careerbot: what is the salary");
    expect_busy(f, &m, "asking faster");
}

static void test_room_limit(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.room_burst = 2;
    c.room_rate = 0.1;
    regate(f, &c);
    static const char *const people[] = {"alice", "bob", "carol", "dave"};
    chat_message m = group("careerbot: what is the salary");
    m.sender = people[0];
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    m.sender = people[1];
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    m.sender = people[2];
    expect_busy(f, &m, "this room is asking faster than I answer");
    /* Another room, and direct messages, have budgets of their own. */
    m.room = "#other";
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    m = direct("what is the salary");
    m.sender = m.room = people[3];
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    /* In a listen room, only a confident answer spends the room's budget. */
    m = group("nice weather today");
    m.room = "#listen";
    m.listen = 1;
    for (int i = 0; i < 5; i++) {
        m.sender = people[i % 4];
        expect_silent(f, &m, "not confident");
    }
    m = group("what is the salary");
    m.room = "#listen";
    m.listen = 1;
    expect_answer(f, &m, CHAT_VIA_LISTEN, PAY);
    m.sender = "bob";
    expect_answer(f, &m, CHAT_VIA_LISTEN, PAY);
    m.sender = "carol";
    expect_silent(f, &m, "this room is asking faster");
}

static void test_queue_fill(void **state)
{
    fixture *f = *state;
    chat_message m = group("careerbot: what is the salary");
    m.queue_max = 60;
    m.queue_used = 44;
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    m.queue_used = 45; /* three quarters */
    expect_busy(f, &m, "many people are asking right now");
    m = group("what is the salary");
    m.listen = 1;
    m.queue_max = 60;
    m.queue_used = 59;
    m.sender = "bob";
    expect_silent(f, &m, "many people");
    m.queue_max = 0; /* no queue to watch */
    expect_answer(f, &m, CHAT_VIA_LISTEN, PAY);
}

static void test_busy_notices_for_everyone_together(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.user_burst = 1;
    c.user_rate = 0.001;
    regate(f, &c);
    static const char *const people[] = {"p1", "p2", "p3", "p4", "p5"};
    chat_message m = group("careerbot: what is the salary");
    for (size_t i = 0; i < 5; i++) {
        m.sender = people[i];
        expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    }
    /* Everyone asks again: three notices a minute in all, then silence. */
    int notices = 0;
    for (size_t i = 0; i < 5; i++) {
        m.sender = people[i];
        const chat_decision *d = decide(f, &m);
        assert_int_not_equal(d->action, CHAT_ANSWER);
        notices += d->action == CHAT_BUSY;
    }
    assert_int_equal(notices, 3);
}

static void test_no_limits(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.limits = 0;
    c.user_burst = c.room_burst = 1;
    c.user_rate = c.room_rate = 0.001;
    regate(f, &c);
    chat_message m = group("careerbot: what is the salary");
    m.queue_max = 10;
    m.queue_used = 10;
    for (int i = 0; i < 20; i++)
        expect_answer(f, &m, CHAT_VIA_NAME, PAY);
}

static void test_conversations_are_per_room_and_person(void **state)
{
    fixture *f = *state;
    chat_message m = group("careerbot: what is the salary");
    expect_answer(f, &m, CHAT_VIA_NAME, PAY);
    m = group("careerbot: tell me more");
    expect_answer(f, &m, CHAT_VIA_NAME, "More about pay");
    m = group("careerbot: tell me more");
    m.room = "#elsewhere"; /* nothing asked there yet */
    const chat_decision *d = decide(f, &m);
    assert_int_equal(d->action, CHAT_ANSWER);
    assert_null(strstr(d->text, "More about pay"));
    m = group("careerbot: tell me more");
    m.sender = "bob";
    d = decide(f, &m);
    assert_null(strstr(d->text, "More about pay"));
}

static void test_odd_input(void **state)
{
    fixture *f = *state;
    chat_message m = group(NULL);
    expect_silent(f, &m, "not addressed");
    m = direct(NULL);
    const chat_decision *d = decide(f, &m);
    assert_int_equal(d->action, CHAT_ANSWER);
    m = direct("what is the salary");
    m.sender = NULL;
    m.room = NULL;
    d = decide(f, &m);
    assert_int_equal(d->action, CHAT_ANSWER);
    char binary[300];
    for (size_t i = 0; i < sizeof binary; i++)
        binary[i] = (char)(i * 37);
    m = group("x");
    m.text = binary;
    m.len = sizeof binary;
    m.listen = 1;
    d = decide(f, &m);
    assert_int_not_equal(d->action, CHAT_BUSY);
    m.names = NULL;
    m.n_names = 0;
    decide(f, &m);
}

static void test_drop_runs(void **state)
{
    fixture *f = *state;
    assert_int_equal(chat_gate_recovered(f->gate), 0);
    assert_int_equal(chat_gate_dropped(f->gate), 1); /* a run starts: log it */
    assert_int_equal(chat_gate_dropped(f->gate), 0);
    assert_int_equal(chat_gate_dropped(f->gate), 0);
    assert_int_equal(chat_gate_recovered(f->gate), 3);
    assert_int_equal(chat_gate_recovered(f->gate), 0);
    assert_int_equal(chat_gate_dropped(f->gate), 1);
}

/* The listen rule on its own: what a listen room would answer unasked. */
static void test_listen_rule(void **state)
{
    (void)state;
    core_reply r = {.kind = CORE_REPLY_ANSWER, .matched = 1, .topic = "pay", .score = 1.5, .asks = 1};
    assert_true(chat_gate_listen_answers(&r, 1.5));
    r.score = 1.2; /* below the bar ... */
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.about_career = 1; /* ... unless a career word backs it: two thirds of it */
    assert_true(chat_gate_listen_answers(&r, 1.5));
    r.score = 0.9;
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.score = 2.0;
    r.asks = 0; /* "my boss says the salary here is bad": no question */
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.asks = 1;
    r.personal = 1; /* "did you ever get certified, jess?" */
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.personal = 0;
    r.fallback = 1; /* the passage search is never enough unasked */
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.fallback = 0;
    r.kind = CORE_REPLY_CLARIFY;
    r.matched = 0;
    assert_false(chat_gate_listen_answers(&r, 1.5));
    r.kind = CORE_REPLY_SOCIAL;
    assert_false(chat_gate_listen_answers(&r, 1.5));
}

static void test_via_names(void **state)
{
    (void)state;
    assert_string_equal(chat_via_name(CHAT_VIA_DIRECT), "direct");
    assert_string_equal(chat_via_name(CHAT_VIA_LISTEN), "listen");
    assert_string_equal(chat_via_name(CHAT_VIA_NONE), "none");
    assert_string_equal(chat_via_name((chat_via)99), "none");
}

/* The status report's counts: replies by kind, and busy notices; silence
 * counts nothing. */
static void test_counts(void **state)
{
    fixture *f = *state;
    chat_gate_config c = default_config();
    c.user_burst = 5;
    c.user_rate = 0.001;
    regate(f, &c);
    chat_gate_counts n;
    chat_gate_get_counts(f->gate, &n);
    assert_int_equal(n.answered + n.declined + n.clarified + n.other + n.busy, 0);
    chat_message m = direct("what is the salary");
    expect_answer(f, &m, CHAT_VIA_DIRECT, PAY);
    m = direct("what should I cook for dinner tonight?");
    decide(f, &m);
    m = direct("!help");
    decide(f, &m);
    m = group("just chatting with friends"); /* not addressed: nothing */
    decide(f, &m);
    m = direct("what is the salary");
    decide(f, &m);
    m = direct("what is the salary");
    decide(f, &m);
    m = direct("what is the salary"); /* over the budget */
    expect_busy(f, &m, "asking faster");
    chat_gate_get_counts(f->gate, &n);
    assert_int_equal(n.answered, 3);
    assert_int_equal(n.declined, 1);
    assert_int_equal(n.other, 1);
    assert_int_equal(n.busy, 1);
    assert_int_equal(n.clarified, 0);

    /* A question back is counted as one. */
    chat_gate_free(f->gate);
    core_bot_free(f->bot);
    base_error err;
    f->bot = core_bot_new(tu_load(CAREERBOT_TEST_DATA "/kb-clarify"), NULL, &err);
    assert_non_null(f->bot);
    f->gate = chat_gate_new(f->bot, &f->cfg);
    m = direct("which exam should i take");
    decide(f, &m);
    chat_gate_get_counts(f->gate, &n);
    assert_int_equal(n.clarified, 1);
    assert_int_equal(n.answered + n.declined + n.other + n.busy, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_direct_messages_are_all_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_needs_addressing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matrix_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_commands_in_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mentions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bots_and_ignored_senders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ignore_list_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_rooms_answer_only_confident_questions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_person_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_chatter_is_never_told_to_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_notices_for_everyone_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversations_are_per_room_and_person, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_runs, setup, teardown),
        cmocka_unit_test(test_listen_rule),
        cmocka_unit_test(test_via_names),
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
    };
    return cmocka_run_group_tests_name("chat_gate", tests, NULL, NULL);
}
