/* The lexer's general language resources: WordNet links onto the
 * vocabulary, and hunspell's spelling help. Each test skips when the
 * database or the dictionaries are not installed (Debian's wordnet-base,
 * hunspell-en-us and hunspell-en-med). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/lexer.h"
#include "test_util.h"

static char *salary_words[] = {"salary", "wage"};
static core_synonym_group groups[] = {{salary_words, 2}};
static char *domain[] = {"coder", "coding"};
static char *offtopic[] = {"weather", "cops"};
static char *stopwords[] = {"the", "what", "is", "do", "a", "how", "much"};
static char *common[] = {"time"};
static char *english[] = {"en_US"};
static char *english_medical[] = {"en_US", "en_med_glut"};

enum { PAY, COMPUTERS, TRAINING, JOBS, N_TOPICS };

typedef struct lexer_case {
    core_lexer *lex;
    int salary, make, techy, course, work, pay, cops;
} lexer_case;

static int keyword(core_lexer *lex, const char *w, int topic)
{
    int t = core_lexer_define(lex, w, strlen(w), CORE_TERM_KEYWORD | CORE_TERM_WORD);
    assert_true(t >= 0);
    assert_int_equal(core_lexer_note_topic(lex, t, topic), 0);
    return t;
}

/* A small knowledge base: keywords of four topics, as the matcher defines them. */
static lexer_case build(int wordnet, char **dictionaries, size_t n_dictionaries)
{
    core_lexicon lx;
    memset(&lx, 0, sizeof lx);
    lx.synonyms = groups;
    lx.n_synonyms = 1;
    lx.domain = (core_string_list){domain, 2};
    lx.offtopic = (core_string_list){offtopic, 2};
    lx.stopwords = (core_string_list){stopwords, 7};
    lx.common = (core_string_list){common, 1};
    lx.threshold = 1;
    lx.wordnet = wordnet;
    lx.hunspell = n_dictionaries > 0;
    lx.hunspell_dictionaries = (core_string_list){dictionaries, n_dictionaries};
    base_error err = {0};
    lexer_case c = {0};
    c.lex = core_lexer_new(&lx, &err);
    assert_non_null(c.lex);
    c.salary = keyword(c.lex, "salary", PAY);
    keyword(c.lex, "wage", PAY);
    c.make = keyword(c.lex, "make", PAY);
    c.techy = keyword(c.lex, "techy", COMPUTERS);
    keyword(c.lex, "computer", COMPUTERS);
    c.course = keyword(c.lex, "course", TRAINING);
    keyword(c.lex, "school", TRAINING);
    keyword(c.lex, "class", TRAINING);
    c.work = keyword(c.lex, "work", JOBS);
    c.pay = keyword(c.lex, "pay", JOBS); /* on purpose in another topic than salary */
    c.cops = core_lexer_define(c.lex, "cops", 4, CORE_TERM_OFFTOPIC);
    assert_int_equal(core_lexer_freeze(c.lex, &err), BASE_OK);
    return c;
}

static int lookup(const lexer_case *c, const char *w, unsigned *flags)
{
    unsigned dummy;
    return core_lexer_lookup(c->lex, w, strlen(w), flags ? flags : &dummy);
}

/* ---- WordNet --------------------------------------------------------------- */

static int wordnet_case(lexer_case *c)
{
    *c = build(1, NULL, 0);
    if (core_lexer_wordnet_links(c->lex) < 0) {
        core_lexer_free(c->lex);
        return 0;
    }
    return 1;
}

static void test_wordnet_synonym_reaches_keyword(void **state)
{
    (void)state;
    lexer_case c;
    if (!wordnet_case(&c))
        skip();
    assert_true(core_lexer_wordnet_links(c.lex) > 0);
    unsigned fl;
    /* {wage, pay, earnings, remuneration, salary}: the first sense of both
     * words, and "wage" beside it is a word of the same topic. */
    assert_int_equal(lookup(&c, "remuneration", &fl), c.salary);
    assert_true(fl & CORE_WORD_KNOWN);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(&c, "remunerations", NULL), c.salary); /* through the stemmer */
    core_lexer_free(c.lex);
}

static void test_wordnet_loose_links_do_not_count(void **state)
{
    (void)state;
    lexer_case c;
    if (!wordnet_case(&c))
        skip();
    unsigned fl;
    /* WordNet's only "techy" is irritable: nothing of its topic's words is
     * in that sense, so "irritable" is no computer word. */
    assert_int_equal(lookup(&c, "irritable", &fl), -1);
    assert_false(fl & CORE_WORD_KNOWN);
    assert_int_equal(lookup(&c, "testy", NULL), -1);
    /* "course" is mainly a noun: its adverb sense {naturally, of course}
     * is not looked at. */
    assert_int_equal(lookup(&c, "naturally", NULL), -1);
    /* A known word keeps its own meaning: "pay" stays the jobs topic's
     * word although WordNet puts it beside "salary". */
    assert_int_equal(lookup(&c, "pay", NULL), c.pay);
    assert_int_not_equal(c.pay, c.salary);
    core_lexer_free(c.lex);
}

static void test_wordnet_switched_off(void **state)
{
    (void)state;
    lexer_case c = build(0, NULL, 0);
    assert_int_equal(core_lexer_wordnet_links(c.lex), -1);
    assert_int_equal(lookup(&c, "remuneration", NULL), -1);
    core_lexer_free(c.lex);
}

/* ---- hunspell ------------------------------------------------------------- */

static int spelling_case(lexer_case *c, char **dictionaries, size_t n)
{
    *c = build(0, dictionaries, n);
    if (!core_lexer_has_spelling(c->lex)) {
        core_lexer_free(c->lex);
        return 0;
    }
    return 1;
}

static void test_hunspell_lands_on_vocabulary(void **state)
{
    (void)state;
    lexer_case c;
    if (!spelling_case(&c, english_medical, 2))
        skip();
    unsigned fl;
    /* Too short for the typo corrector; hunspell's suggestions reach them. */
    assert_int_equal(lookup(&c, "mak", &fl), c.make);
    assert_true(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(&c, "wrk", NULL), c.work);
    /* A suggestion may land on a stop word: "mcuh" is "much". */
    assert_int_equal(lookup(&c, "mcuh", &fl), -1);
    assert_true(fl & CORE_WORD_STOP);
    assert_true(fl & CORE_WORD_CORRECTED);
    /* One that lands on a word the knowledge base does not know counts for
     * nothing: "guitr" is a guitar, and stays unknown. */
    assert_int_equal(lookup(&c, "guitr", &fl), -1);
    assert_false(fl & CORE_WORD_KNOWN);
    core_lexer_free(c.lex);
}

static void test_hunspell_leaves_medical_words(void **state)
{
    (void)state;
    lexer_case c;
    if (!spelling_case(&c, english_medical, 2))
        skip();
    unsigned fl;
    /* "acops" is a medical word; English alone would make it "cops", an
     * off-topic word (checked below). */
    assert_int_equal(lookup(&c, "acops", &fl), -1);
    assert_false(fl & (CORE_WORD_CORRECTED | CORE_WORD_KNOWN));
    assert_int_equal(lookup(&c, "appendectomy", &fl), -1);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(&c, "hypertension", &fl), -1);
    assert_false(fl & CORE_WORD_CORRECTED);
    /* Names are spelt right with their capitals: "texas" is not "tax". */
    assert_int_equal(lookup(&c, "texas", &fl), -1);
    assert_false(fl & CORE_WORD_CORRECTED);
    core_lexer_free(c.lex);

    lexer_case en;
    if (!spelling_case(&en, english, 1))
        skip();
    assert_int_equal(lookup(&en, "acops", &fl), en.cops);
    assert_true(fl & CORE_WORD_CORRECTED);
    core_lexer_free(en.lex);
}

static void test_hunspell_switched_off_or_missing(void **state)
{
    (void)state;
    lexer_case c = build(0, NULL, 0);
    assert_false(core_lexer_has_spelling(c.lex));
    assert_int_equal(lookup(&c, "mak", NULL), -1);
    core_lexer_free(c.lex);
    /* A dictionary that is not there leaves spelling help off. */
    static char *missing[] = {"xx_NOPE"};
    c = build(0, missing, 1);
    assert_false(core_lexer_has_spelling(c.lex));
    assert_int_equal(lookup(&c, "mak", NULL), -1);
    core_lexer_free(c.lex);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordnet_synonym_reaches_keyword),
        cmocka_unit_test(test_wordnet_loose_links_do_not_count),
        cmocka_unit_test(test_wordnet_switched_off),
        cmocka_unit_test(test_hunspell_lands_on_vocabulary),
        cmocka_unit_test(test_hunspell_leaves_medical_words),
        cmocka_unit_test(test_hunspell_switched_off_or_missing),
    };
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("language", tests, NULL, NULL);
}
