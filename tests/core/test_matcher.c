/* matcher.c over the kb-mini and kb-clarify fixtures: scores, thresholds,
 * penalties, two-part questions, clarification, passages, follow-ups, and
 * hostile input. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/matcher.h"
#include "test_util.h"

typedef struct fixture {
    core_kb *kb;
    core_matcher *m;
    core_kb *ckb;     /* kb-clarify */
    core_matcher *cm;
} fixture;

static int setup(void **state)
{
    static fixture f;
    base_error err = {0};
    if (core_kb_load(TU_MINI_KB, &f.kb, &err) != BASE_OK ||
        core_kb_load(CAREERBOT_TEST_DATA "/kb-clarify", &f.ckb, &err) != BASE_OK) {
        print_error("%s\n", err.text);
        return -1;
    }
    f.m = core_matcher_new(f.kb, &err);
    f.cm = f.m ? core_matcher_new(f.ckb, &err) : NULL;
    if (!f.m || !f.cm) {
        print_error("core_matcher_new: %s\n", err.text);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    core_matcher_free(f->m);
    core_matcher_free(f->cm);
    core_kb_free(f->kb);
    core_kb_free(f->ckb);
    return 0;
}

static core_match match(core_matcher *m, const char *q)
{
    core_match out;
    memset(&out, 0x5a, sizeof out); /* the matcher must fill everything */
    core_matcher_match(m, q, strlen(q), &out);
    return out;
}

static const char *topic_id(const core_match *r)
{
    return r->topic ? r->topic->id : "(none)";
}

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6)

#define assert_declined(r) assert_declined_at((r), __LINE__)
#define assert_topic(r, id) assert_topic_at((r), (id), __LINE__)

static void assert_declined_at(const core_match *r, int line)
{
    if (r->kind != CORE_MATCH_NONE)
        fail_msg("line %d: expected a decline, got kind %d topic %s score %g", line, (int)r->kind,
                 topic_id(r), r->score);
    assert_null(r->topic);
    assert_null(r->second);
}

static void assert_topic_at(const core_match *r, const char *id, int line)
{
    if (r->kind != CORE_MATCH_TOPIC || !r->topic || strcmp(r->topic->id, id) != 0)
        fail_msg("line %d: expected topic %s, got kind %d topic %s score %g", line, id, (int)r->kind,
                 topic_id(r), r->score);
}

static void test_keyword_question(void **state)
{
    fixture *f = *state;
    assert_ptr_equal(core_matcher_kb(f->m), f->kb);
    core_match r = match(f->m, "What is the salary?");
    assert_topic(&r, "salary");
    assert_ptr_equal(r.topic, core_kb_find(f->kb, "salary"));
    assert_near(r.score, 2.0);
    assert_null(r.second);
    assert_string_equal(r.evidence, "salary");
    assert_int_equal(r.n_words, 4);
    assert_int_equal(r.has_domain, 0);
    assert_int_equal(r.n_offtopic, 0);
    assert_int_equal(r.follow, CORE_FOLLOW_NONE);

    /* Hints add up; the domain word backs them; evidence lists the keywords. */
    r = match(f->m, "how much do coders make");
    assert_topic(&r, "salary");
    assert_near(r.score, 1.1);
    assert_int_equal(r.has_domain, 1);
    assert_string_equal(r.evidence, "how much, make");

    /* A keyword counts once however often it occurs. */
    r = match(f->m, "salary salary salary salary");
    assert_near(r.score, 2.0);

    /* Stemming, synonyms (pay, earn) and typo correction reach the keyword. */
    r = match(f->m, "what are the salaries");
    assert_topic(&r, "salary");
    r = match(f->m, "what's the pay");
    assert_topic(&r, "salary");
    r = match(f->m, "what do they earn");
    assert_topic(&r, "salary");
    r = match(f->m, "what is the salery");
    assert_topic(&r, "salary");
    /* A phrase synonym of a keyword. */
    r = match(f->m, "what does a coder bring home");
    assert_topic(&r, "salary");
    assert_string_equal(r.evidence, "make");
    /* Synonyms of the keyword in the KB: demand, outlook -> growth. */
    r = match(f->m, "what is the outlook");
    assert_topic(&r, "growth");
    r = match(f->m, "what is step 1");
    assert_topic(&r, "learn");
    assert_near(r.score, 3.0);
    assert_string_equal(r.evidence, "step 1");
}

static void test_threshold(void **state)
{
    fixture *f = *state;
    /* One hint is not enough. */
    core_match r = match(f->m, "how much");
    assert_declined(&r);
    assert_near(r.score, 0.6);
    r = match(f->m, "what is the job");
    assert_declined(&r);
    assert_near(r.score, 0.4);
    /* A phrase keyword needs its words in a row ("bring home", weight 0.5). */
    r = match(f->m, "bring home");
    assert_declined(&r);
    assert_near(r.score, 0.5);
    r = match(f->m, "bring the home");
    assert_declined(&r);
    assert_near(r.score, 0.0);
    /* With a domain word half the threshold is enough. */
    r = match(f->m, "how much coder");
    assert_topic(&r, "salary");
    /* 0.4 < 0.5: not the keyword rule; the passage search finds "job" in a title. */
    r = match(f->m, "job coder");
    assert_int_equal(r.kind, CORE_MATCH_PASSAGE);
    assert_string_equal(topic_id(&r), "growth");
    r = match(f->m, "");
    assert_declined(&r);
    assert_int_equal(r.n_words, 0);
    assert_near(r.score, 0.0);
}

static void test_offtopic_penalty(void **state)
{
    fixture *f = *state;
    core_match r = match(f->m, "how much does a coder make");
    assert_topic(&r, "salary");
    /* The same question about a nurse is declined. */
    r = match(f->m, "how much does a nurse make");
    assert_declined(&r);
    assert_int_equal(r.n_offtopic, 1);
    assert_near(core_matcher_last_score(f->m, core_kb_find(f->kb, "salary")), 1.1 - 1.5);
    /* Even a strong keyword falls below the threshold: 2.0 - 1.5 < 1. */
    r = match(f->m, "what is the salary of a nurse");
    assert_declined(&r);
    r = match(f->m, "nurses salary");
    assert_declined(&r);
    /* Each off-topic word counts. */
    r = match(f->m, "weather pancakes nurse");
    assert_declined(&r);
    assert_int_equal(r.n_offtopic, 3);
    /* A domain word does not bring the passage search back when off-topic words are there. */
    r = match(f->m, "coding anatomy weather");
    assert_declined(&r);
    /* An off-topic phrase counts as a whole; its words alone do not. */
    r = match(f->m, "what is the salary for car insurance");
    assert_declined(&r);
    assert_int_equal(r.n_offtopic, 1);
    r = match(f->m, "what is the salary for a car");
    assert_topic(&r, "salary");
    assert_int_equal(r.n_offtopic, 0);
}

static void test_two_part_question(void **state)
{
    fixture *f = *state;
    core_match r = match(f->m, "what is the salary and the job growth");
    assert_int_equal(r.kind, CORE_MATCH_TWO);
    assert_non_null(r.topic);
    assert_non_null(r.second);
    assert_string_equal(r.topic->id, "growth");
    assert_string_equal(r.second->id, "salary");
    assert_near(r.score, 2.4);
    assert_near(r.second_score, 2.0);
    assert_string_equal(r.evidence, "job, growth"); /* in the order of the question */

    r = match(f->cm, "the fees and the cpc exam");
    assert_int_equal(r.kind, CORE_MATCH_TWO);
    assert_string_equal(r.topic->id, "exam-cpc");
    assert_string_equal(r.second->id, "fees");
}

static void test_clarify(void **state)
{
    fixture *f = *state;
    /* "exam" selects both exams with the same word and close scores. */
    core_match r = match(f->cm, "which exam");
    assert_int_equal(r.kind, CORE_MATCH_CLARIFY);
    assert_string_equal(r.topic->id, "exam-cpc");
    assert_string_equal(r.second->id, "exam-ccs");
    assert_near(r.score, 1.5);
    assert_near(r.second_score, 1.4);
    /* A word of its own makes one of them clear. */
    r = match(f->cm, "the cpc exam");
    assert_topic(&r, "exam-cpc");
    assert_null(r.second);
    r = match(f->cm, "the ccs exam");
    assert_topic(&r, "exam-ccs");
    assert_near(r.score, 3.4);
    /* Both topics get scores the caller can read. */
    r = match(f->cm, "exam");
    assert_int_equal(r.kind, CORE_MATCH_CLARIFY);
    assert_near(core_matcher_last_score(f->cm, core_kb_find(f->ckb, "exam-cpc")), 1.5);
    assert_near(core_matcher_last_score(f->cm, core_kb_find(f->ckb, "exam-ccs")), 1.4);
    assert_near(core_matcher_last_score(f->cm, core_kb_find(f->ckb, "fees")), 0.0);
}

static void test_passage_fallback(void **state)
{
    fixture *f = *state;
    /* "anatomy" is no keyword, only a word of the learn topic's answer. */
    core_match r = match(f->m, "coding anatomy");
    assert_int_equal(r.kind, CORE_MATCH_PASSAGE);
    assert_string_equal(topic_id(&r), "learn");
    assert_true(r.score > 0);
    assert_string_equal(r.evidence, "words of its text");
    assert_int_equal(r.has_domain, 1);
    /* "decade" is in the growth answer only; "bureau" in two sources (not searched). */
    r = match(f->m, "medical coder decade");
    assert_int_equal(r.kind, CORE_MATCH_PASSAGE);
    assert_string_equal(topic_id(&r), "growth");
    /* Without a domain word one shared word is too little ... */
    r = match(f->m, "anatomy");
    assert_declined(&r);
    /* ... but two are enough: "learn" and "anatomy" are both in that answer. */
    r = match(f->m, "learn anatomy");
    assert_int_equal(r.kind, CORE_MATCH_PASSAGE);
    assert_string_equal(topic_id(&r), "learn");
    assert_int_equal(r.has_domain, 0);
    /* A domain word alone has nothing to search with. */
    r = match(f->m, "coder");
    assert_declined(&r);
    assert_int_equal(r.has_domain, 1);
}

static void test_follow_detection(void **state)
{
    fixture *f = *state;
    core_match r = match(f->m, "next");
    assert_int_equal(r.follow, CORE_FOLLOW_NEXT);
    assert_declined(&r);
    r = match(f->m, "what's next?");
    assert_int_equal(r.follow, CORE_FOLLOW_NEXT);
    r = match(f->m, "and after that");
    assert_int_equal(r.follow, CORE_FOLLOW_NEXT);
    r = match(f->m, "ok, then what");
    assert_int_equal(r.follow, CORE_FOLLOW_NEXT);
    r = match(f->m, "tell me more");
    assert_int_equal(r.follow, CORE_FOLLOW_MORE);
    r = match(f->m, "Go on!");
    assert_int_equal(r.follow, CORE_FOLLOW_MORE);
    r = match(f->m, "more");
    assert_int_equal(r.follow, CORE_FOLLOW_MORE);
    /* "after" alone, or "that" alone, is not a follow-up phrase. */
    r = match(f->m, "after school");
    assert_int_equal(r.follow, CORE_FOLLOW_NONE);
    r = match(f->m, "what is the salary");
    assert_int_equal(r.follow, CORE_FOLLOW_NONE);
    /* A follow-up with a topic names both. */
    r = match(f->m, "step 1, then what");
    assert_int_equal(r.follow, CORE_FOLLOW_NEXT);
    assert_topic(&r, "learn");
    r = match(f->m, "tell me more about the salary");
    assert_int_equal(r.follow, CORE_FOLLOW_MORE);
    assert_topic(&r, "salary");
}

static void test_last_score(void **state)
{
    fixture *f = *state;
    const core_topic *salary = core_kb_find(f->kb, "salary"), *growth = core_kb_find(f->kb, "growth");
    core_match r = match(f->m, "what is the salary");
    (void)r;
    assert_near(core_matcher_last_score(f->m, salary), 2.0);
    assert_near(core_matcher_last_score(f->m, growth), 0.0);
    r = match(f->m, "job growth");
    assert_near(core_matcher_last_score(f->m, growth), 2.4);
    /* Scores of the previous question are not kept. */
    assert_near(core_matcher_last_score(f->m, salary), 0.0);
    /* A topic of another knowledge base is not touched. */
    assert_near(core_matcher_last_score(f->m, core_kb_find(f->ckb, "fees")), 0.0);
}

static void test_hostile_input(void **state)
{
    fixture *f = *state;
    /* 100 KB of one keyword: only the first CORE_MAX_WORDS words are read. */
    size_t big = 100 * 1024;
    char *text = malloc(big + 1);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = "salary "[i % 7];
    text[big] = '\0';
    core_match r;
    core_matcher_match(f->m, text, big, &r);
    assert_topic(&r, "salary");
    assert_int_equal(r.n_words, 128);
    /* 100 KB of one word with no spaces, and 100 KB of random bytes. */
    memset(text, 'a', big);
    core_matcher_match(f->m, text, big, &r);
    assert_declined(&r);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        text[i] = (char)(x >> 16);
    }
    for (int round = 0; round < 20; round++)
        core_matcher_match(f->m, text + round * 4000, big - (size_t)round * 4000, &r);
    /* 100 KB of off-topic and domain words alternating. */
    for (size_t i = 0; i < big; i++)
        text[i] = "coder weather salary "[i % 21];
    core_matcher_match(f->m, text, big, &r);
    assert_true(r.n_offtopic > 0);
    free(text);

    /* Invalid UTF-8 around a keyword separates words; it does not hide them. */
    r = match(f->m, "\xFF\xFEsalary\xC3");
    assert_topic(&r, "salary");
    r = match(f->m, "\xC0\xAF\xED\xA0\x80\xF8\x88\x80\x80\x80");
    assert_declined(&r);
    /* Only punctuation. */
    r = match(f->m, "?!?!... ,,; -- ()");
    assert_declined(&r);
    assert_int_equal(r.n_words, 0);
    /* Control characters and escape sequences. */
    r = match(f->m, "\x01\x02\x1b[31m\tsalary\x1b[0m\x07");
    assert_topic(&r, "salary");
    r = match(f->m, "\x01\x02\x03\x04\x7f");
    assert_declined(&r);
    /* A NUL byte inside the text splits the word. */
    core_matcher_match(f->m, "sal\0ary", 7, &r);
    assert_declined(&r);
    /* Non-English sentences. */
    r = match(f->m, "Wie viel verdient ein Kodierer im Jahr?");
    assert_declined(&r);
    r = match(f->m, "\xC2\xBF" "Cu\xC3\xA1nto gana un codificador?");
    assert_declined(&r);
    r = match(f->m, "\xE5\x8C\xBB\xE7\x96\x97\xE7\xBC\x96\xE7\xA0\x81\xE5\x91\x98\xE7\x9A\x84\xE5\xB7\xA5\xE8\xB5\x84");
    assert_declined(&r);
    /* A NULL text is an empty question. */
    core_matcher_match(f->m, NULL, 10, &r);
    assert_declined(&r);
    assert_int_equal(r.n_words, 0);
    /* Many distinct words, each with a typo, exercise the correction path. */
    char q[64];
    for (int i = 0; i < 500; i++) {
        snprintf(q, sizeof q, "salxry%d hospitel%c anatomi", i, 'a' + i % 26);
        core_matcher_match(f->m, q, strlen(q), &r);
    }
    /* And the matcher still answers normally afterwards. */
    r = match(f->m, "what is the salary");
    assert_topic(&r, "salary");
    assert_near(r.score, 2.0);
}

static void test_evidence_fits(void **state)
{
    (void)state;
    /* A topic with many long keywords: the evidence is cut, never overflows. */
    char json[16384];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"topics\": [{\"id\": \"t\", \"title\": \"T\", \"keywords\": [");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(json + n, sizeof json - n, "%s{\"phrase\": \"longkeywordnumber%c%c\", \"weight\": 1}",
                              i ? ", " : "", 'a' + i / 26, 'a' + i % 26);
    snprintf(json + n, sizeof json - n, "], \"examples\": [\"x\"], \"answer\": \"A\", \"source\": \"S\"}]}");
    core_kb *kb = tu_load_string(json);
    base_error err;
    core_matcher *m = core_matcher_new(kb, &err);
    assert_non_null(m);
    char q[4096];
    size_t qn = 0;
    for (int i = 0; i < 40; i++)
        qn += (size_t)snprintf(q + qn, sizeof q - qn, "longkeywordnumber%c%c ", 'a' + i / 26, 'a' + i % 26);
    core_match r;
    core_matcher_match(m, q, qn, &r);
    assert_int_equal(r.kind, CORE_MATCH_TOPIC);
    assert_near(r.score, 40.0);
    assert_true(strlen(r.evidence) < sizeof r.evidence);
    assert_true(strncmp(r.evidence, "longkeywordnumberaa, longkeywordnumberab", 40) == 0);
    core_matcher_free(m);
    core_kb_free(kb);
}

static void test_unknown_penalty(void **state)
{
    (void)state;
    core_kb *kb = tu_load_string(
        "{\"lexicon\": {\"threshold\": 1.0, \"unknown_penalty\": 0.5, \"domain\": [\"coder\"],"
        " \"stopwords\": [\"the\", \"for\", \"a\"]},"
        " \"topics\": [{\"id\": \"pay\", \"title\": \"Pay\", \"keywords\": [{\"phrase\": \"salary\", \"weight\": 1.2}],"
        " \"examples\": [\"salary\"], \"answer\": \"Money.\", \"source\": \"S\"}]}");
    base_error err;
    core_matcher *m = core_matcher_new(kb, &err);
    assert_non_null(m);
    core_match r = match(m, "the salary");
    assert_topic(&r, "pay");
    assert_int_equal(r.n_unknown, 0);
    assert_near(r.score, 1.2);
    /* A word the knowledge base has never seen costs 0.5. */
    r = match(m, "salary for a dentist");
    assert_declined(&r);
    assert_int_equal(r.n_unknown, 1);
    assert_near(r.score, 0.7);
    /* ... unless a domain word says the question is about this career. */
    r = match(m, "salary for a coder dentist");
    assert_topic(&r, "pay");
    assert_near(r.score, 1.2);
    /* Typo-corrected words are not unknown. */
    r = match(m, "the salery");
    assert_topic(&r, "pay");
    assert_int_equal(r.n_unknown, 0);
    core_matcher_free(m);
    core_kb_free(kb);
}

static void test_default_topic(void **state)
{
    (void)state;
    core_kb *kb = tu_load_string(
        "{\"lexicon\": {\"domain\": [\"coder\"], \"default_topic\": \"overview\"},"
        " \"topics\": [{\"id\": \"overview\", \"title\": \"The job\", \"keywords\": [{\"phrase\": \"job\", \"weight\": 2}],"
        " \"examples\": [\"the job\"], \"answer\": \"It is a job.\", \"source\": \"S\"},"
        " {\"id\": \"pay\", \"title\": \"Pay\", \"keywords\": [{\"phrase\": \"salary\", \"weight\": 2}],"
        " \"examples\": [\"salary\"], \"answer\": \"Money.\", \"source\": \"S\"}]}");
    base_error err;
    core_matcher *m = core_matcher_new(kb, &err);
    assert_non_null(m);
    /* About the career, about nothing in particular: the default topic. */
    core_match r = match(m, "coder?");
    assert_int_equal(r.kind, CORE_MATCH_PASSAGE);
    assert_string_equal(topic_id(&r), "overview");
    assert_string_equal(r.evidence, "a question about the career in general");
    /* A topic named wins; no domain word, no default. */
    r = match(m, "coder salary");
    assert_topic(&r, "pay");
    r = match(m, "hello there");
    assert_declined(&r);
    core_matcher_free(m);
    core_kb_free(kb);
}

/* Regression (reported, fixed): building the matcher ran into undefined
 * behaviour in the lexer (memcpy with NULL, UBSan aborts) when the knowledge
 * base has no vocabulary word: here one topic whose only keyword phrase is
 * "C++" (its one word "c" is too short to be a typo-correction target). It
 * loads, builds its matcher and answers its own example. */
static void test_knowledge_base_without_vocabulary(void **state)
{
    (void)state;
    core_kb *kb = tu_load_string("{\"topics\": [{\"id\": \"cpp\", \"title\": \"C++\", "
                                 "\"keywords\": [{\"phrase\": \"C++\", \"weight\": 1}], "
                                 "\"examples\": [\"c++?\"], \"answer\": \"A.\", \"source\": \"S\"}]}");
    base_error err = {0};
    core_matcher *m = core_matcher_new(kb, &err);
    assert_non_null(m);
    core_match match;
    core_matcher_match(m, "c++?", 4, &match);
    assert_int_equal(match.kind, CORE_MATCH_TOPIC);
    assert_string_equal(match.topic->id, "cpp");
    core_matcher_free(m);
    core_kb_free(kb);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyword_question),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_offtopic_penalty),
        cmocka_unit_test(test_two_part_question),
        cmocka_unit_test(test_clarify),
        cmocka_unit_test(test_passage_fallback),
        cmocka_unit_test(test_follow_detection),
        cmocka_unit_test(test_last_score),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_evidence_fits),
        cmocka_unit_test(test_unknown_penalty),
        cmocka_unit_test(test_default_topic),
        cmocka_unit_test(test_knowledge_base_without_vocabulary),
    };
    return cmocka_run_group_tests_name("matcher", tests, setup, teardown);
}
