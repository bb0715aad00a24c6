/* lexer.c: stemming, synonyms, typo correction, edit distance. The lexicon
 * is built by hand here, so these tests do not depend on any JSON. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/lexer.h"
#include "test_util.h"

static char *salary_words[] = {"salary", "pay", "wage", "income"};
static char *job_words[] = {"job", "work", "employment"};
static core_synonym_group groups[] = {{salary_words, 4}, {job_words, 3}};
static char *certificate_words[] = {"certificate", "certificates"};
static core_synonym_group exact_groups[] = {{certificate_words, 2}};
static char *domain[] = {"coder", "coding", "AHIMA"};
static char *offtopic[] = {"weather", "nurse"};
static char *stopwords[] = {"the", "what", "is", "do", "a", "how"};
static char *common[] = {"time", "bake"};

static core_lexicon make_lexicon(void)
{
    core_lexicon lx;
    memset(&lx, 0, sizeof lx);
    lx.synonyms = groups;
    lx.n_synonyms = 2;
    lx.exact = exact_groups;
    lx.n_exact = 1;
    lx.domain = (core_string_list){domain, 3};
    lx.offtopic = (core_string_list){offtopic, 2};
    lx.stopwords = (core_string_list){stopwords, 6};
    lx.common = (core_string_list){common, 2};
    lx.threshold = 1;
    lx.offtopic_penalty = 1.5;
    lx.clarify_ratio = 0.9;
    return lx;
}

typedef struct fixture {
    core_lexer *lex;
    int salary, earn, certification, make, tame, anatomy, nurse, hospital;
} fixture;

static int define(core_lexer *lex, const char *w, unsigned flags)
{
    int t = core_lexer_define(lex, w, strlen(w), flags);
    assert_true(t >= 0);
    return t;
}

static int setup(void **state)
{
    static fixture f;
    core_lexicon lx = make_lexicon();
    base_error err = {0};
    f.lex = core_lexer_new(&lx, &err);
    if (!f.lex) {
        print_error("core_lexer_new: %s\n", err.text);
        return -1;
    }
    f.salary = define(f.lex, "salary", CORE_TERM_KEYWORD);
    f.earn = define(f.lex, "earn", CORE_TERM_KEYWORD);
    f.certification = define(f.lex, "certification", CORE_TERM_KEYWORD);
    f.make = define(f.lex, "make", CORE_TERM_KEYWORD);
    f.tame = define(f.lex, "tame", CORE_TERM_KEYWORD);
    f.anatomy = define(f.lex, "anatomy", CORE_TERM_KEYWORD);
    f.hospital = define(f.lex, "hospital", CORE_TERM_PASSAGE);
    f.nurse = define(f.lex, "nurse", 0);
    if (core_lexer_freeze(f.lex, &err) != BASE_OK) {
        print_error("core_lexer_freeze: %s\n", err.text);
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    core_lexer_free(f->lex);
    return 0;
}

static int lookup(fixture *f, const char *w, unsigned *flags)
{
    unsigned dummy;
    return core_lexer_lookup(f->lex, w, strlen(w), flags ? flags : &dummy);
}

static void test_define_returns_stable_terms(void **state)
{
    fixture *f = *state;
    assert_int_not_equal(f->salary, f->earn);
    assert_int_not_equal(f->make, f->tame);
    /* Defining the same word, or another form of it, gives the same term. */
    assert_int_equal(core_lexer_define(f->lex, "salary", 6, 0), f->salary);
    assert_int_equal(core_lexer_define(f->lex, "earns", 5, 0), f->earn);
    assert_int_equal(core_lexer_define(f->lex, "SALARY", 6, 0), f->salary);
    assert_string_equal(core_lexer_term_name(f->lex, f->earn), "earn");
    assert_string_equal(core_lexer_term_name(f->lex, -1), "");
    assert_string_equal(core_lexer_term_name(f->lex, (int)core_lexer_term_count(f->lex)), "");
    assert_true(core_lexer_term_count(f->lex) >= 7);
}

static void test_stemming(void **state)
{
    fixture *f = *state;
    unsigned fl;
    assert_int_equal(lookup(f, "earn", &fl), f->earn);
    assert_int_equal(lookup(f, "earning", &fl), f->earn);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_true(fl & CORE_WORD_KNOWN);
    assert_int_equal(lookup(f, "earned", NULL), f->earn);
    assert_int_equal(lookup(f, "earns", NULL), f->earn);
    assert_int_equal(lookup(f, "earnings", NULL), f->earn);
    assert_int_equal(lookup(f, "certifications", NULL), f->certification);
    assert_int_equal(lookup(f, "making", NULL), f->make);
}

static void test_synonyms(void **state)
{
    fixture *f = *state;
    unsigned fl;
    /* Every word of a group, in any form, is the group's first word. */
    assert_int_equal(lookup(f, "pay", &fl), f->salary);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "wage", NULL), f->salary);
    assert_int_equal(lookup(f, "wages", NULL), f->salary);
    assert_int_equal(lookup(f, "salaries", NULL), f->salary);
    assert_int_equal(lookup(f, "income", NULL), f->salary);
    int job = lookup(f, "job", NULL);
    assert_true(job >= 0);
    assert_int_not_equal(job, f->salary);
    assert_int_equal(lookup(f, "work", NULL), job);
    assert_int_equal(lookup(f, "working", NULL), job);
    assert_int_equal(lookup(f, "employment", NULL), job);
    /* Defining a synonym later joins the same term. */
    assert_int_equal(core_lexer_define(f->lex, "pay", 3, CORE_TERM_KEYWORD), f->salary);
}

/* Exact groups keep words apart from others with the same stem:
 * "certificate" and "certification" both stem to "certif". */
static void test_exact_groups(void **state)
{
    fixture *f = *state;
    unsigned fl;
    int cert = lookup(f, "certificate", &fl);
    assert_true(cert >= 0);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_not_equal(cert, f->certification);
    assert_int_equal(lookup(f, "certificates", NULL), cert);
    assert_true(core_lexer_term_flags(f->lex, cert) & CORE_TERM_EXACT);
    assert_string_equal(core_lexer_term_name(f->lex, cert), "=certificate");
    /* Other forms of the stem still reach the stemmed term. */
    assert_int_equal(lookup(f, "certifications", NULL), f->certification);
    /* Defining an exact word (from a keyword) keeps its own term. */
    assert_int_equal(core_lexer_define(f->lex, "certificate", 11, CORE_TERM_KEYWORD), cert);
    assert_true(core_lexer_term_flags(f->lex, cert) & CORE_TERM_KEYWORD);
}

static void test_term_flags(void **state)
{
    fixture *f = *state;
    assert_true(core_lexer_term_flags(f->lex, f->salary) & CORE_TERM_KEYWORD);
    assert_true(core_lexer_term_flags(f->lex, f->hospital) & CORE_TERM_PASSAGE);
    assert_false(core_lexer_term_flags(f->lex, f->hospital) & CORE_TERM_KEYWORD);
    int coder = lookup(f, "coder", NULL);
    assert_true(coder >= 0);
    assert_true(core_lexer_term_flags(f->lex, coder) & CORE_TERM_DOMAIN);
    assert_true(core_lexer_term_flags(f->lex, lookup(f, "coders", NULL)) & CORE_TERM_DOMAIN);
    assert_true(core_lexer_term_flags(f->lex, lookup(f, "coding", NULL)) & CORE_TERM_DOMAIN);
    /* Knowledge-base words are case-folded: "AHIMA" in the lexicon. */
    assert_true(core_lexer_term_flags(f->lex, lookup(f, "ahima", NULL)) & CORE_TERM_DOMAIN);
    assert_int_equal(lookup(f, "nurse", NULL), f->nurse);
    assert_true(core_lexer_term_flags(f->lex, f->nurse) & CORE_TERM_OFFTOPIC);
    assert_true(core_lexer_term_flags(f->lex, lookup(f, "nurses", NULL)) & CORE_TERM_OFFTOPIC);
    assert_int_equal(core_lexer_term_flags(f->lex, -1), 0);
    assert_int_equal(core_lexer_term_flags(f->lex, 1 << 20), 0);
}

static void test_one_typo(void **state)
{
    fixture *f = *state;
    unsigned fl = 0;
    assert_int_equal(lookup(f, "salery", &fl), f->salary);
    assert_true(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "slaary", &fl), f->salary); /* transposition */
    assert_true(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "salaryy", NULL), f->salary); /* insertion */
    assert_int_equal(lookup(f, "anatmy", NULL), f->anatomy); /* deletion */
    /* Words found only in answer texts are matched as written, never as corrections. */
    assert_int_equal(lookup(f, "hospital", NULL), f->hospital);
    assert_int_equal(lookup(f, "hospitl", NULL), -1);
    assert_int_equal(lookup(f, "maek", &fl), f->make);
    assert_true(fl & CORE_WORD_CORRECTED);
    /* A correct word is not flagged. */
    assert_int_equal(lookup(f, "salary", &fl), f->salary);
    assert_false(fl & CORE_WORD_CORRECTED);
    /* The same answer from the cache. */
    assert_int_equal(lookup(f, "salery", &fl), f->salary);
    assert_true(fl & CORE_WORD_CORRECTED);
}

static void test_two_typos_on_long_words(void **state)
{
    fixture *f = *state;
    unsigned fl = 0;
    assert_int_equal(lookup(f, "certifcaton", &fl), f->certification);
    assert_true(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "certifcation", NULL), f->certification);
    assert_int_equal(lookup(f, "sertificatoin", NULL), f->certification);
    /* Two typos are too many for a word under eight letters. */
    assert_int_equal(lookup(f, "slery", &fl), -1);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "sallerry", NULL), -1);
    /* Three typos are too many for any word. */
    assert_int_equal(lookup(f, "crtfcaton", NULL), -1);
}

static void test_no_correction_cases(void **state)
{
    fixture *f = *state;
    unsigned fl = 0;
    /* A short word with another first letter is not a typo: "rake" is not "make". */
    assert_int_equal(lookup(f, "rake", &fl), -1);
    assert_false(fl & CORE_WORD_CORRECTED);
    /* Common words are never corrected ("bake" is one letter from "make", "time" from "tame"). */
    assert_int_equal(lookup(f, "bake", &fl), -1);
    assert_true(fl & CORE_WORD_KNOWN);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_int_equal(lookup(f, "time", &fl), -1);
    assert_true(fl & CORE_WORD_KNOWN);
    assert_false(fl & CORE_WORD_CORRECTED);
    /* ... while an uncommon word just as close is: "tome" -> "tame". */
    assert_int_equal(lookup(f, "tome", &fl), f->tame);
    assert_true(fl & CORE_WORD_CORRECTED);
    /* Stop words are known, flagged and never corrected. */
    assert_int_equal(lookup(f, "what", &fl), -1);
    assert_true(fl & CORE_WORD_STOP);
    assert_true(fl & CORE_WORD_KNOWN);
    assert_false(fl & CORE_WORD_CORRECTED);
    assert_true(core_lexer_is_stopword(f->lex, "the", 3));
    assert_false(core_lexer_is_stopword(f->lex, "salary", 6));
    assert_false(core_lexer_is_stopword(f->lex, "time", 4));
    /* Words under four letters are never corrected. */
    assert_int_equal(lookup(f, "mak", NULL), -1);
    assert_int_equal(lookup(f, "pya", NULL), -1);
    /* Words with digits or non-ASCII letters are not corrected. */
    assert_int_equal(lookup(f, "salary1", NULL), -1);
    assert_int_equal(lookup(f, "sal\xC3\xA1ry", NULL), -1);
    /* Unknown words are unknown. */
    assert_int_equal(lookup(f, "zebra", &fl), -1);
    assert_int_equal(fl, 0);
    /* Empty and over-long words. */
    fl = 99;
    assert_int_equal(core_lexer_lookup(f->lex, "", 0, &fl), -1);
    assert_int_equal(fl, 0);
    char longword[100];
    memset(longword, 'a', sizeof longword);
    assert_int_equal(core_lexer_lookup(f->lex, longword, sizeof longword, &fl), -1);
}

static void test_cache_overflow_keeps_answers(void **state)
{
    fixture *f = *state;
    /* Many distinct unknown words overflow the run-time cache; lookups stay right. */
    char w[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(w, sizeof w, "zq%dx", i);
        assert_int_equal(lookup(f, w, NULL), -1);
        if (i % 997 == 0) {
            unsigned fl;
            assert_int_equal(lookup(f, "salery", &fl), f->salary);
            assert_true(fl & CORE_WORD_CORRECTED);
            assert_int_equal(lookup(f, "earning", NULL), f->earn);
        }
    }
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(core_edit_distance("salary", 6, "salary", 6, 2), 0);
    assert_int_equal(core_edit_distance("salary", 6, "salery", 6, 2), 1);
    /* An adjacent transposition is one edit. */
    assert_int_equal(core_edit_distance("ab", 2, "ba", 2, 2), 1);
    assert_int_equal(core_edit_distance("coder", 5, "cdoer", 5, 2), 1);
    assert_int_equal(core_edit_distance("", 0, "abc", 3, 5), 3);
    assert_int_equal(core_edit_distance("", 0, "", 0, 0), 0);
    assert_int_equal(core_edit_distance("kitten", 6, "sitting", 7, 5), 3);
    /* Over max: max + 1, whether by length or by content. */
    assert_int_equal(core_edit_distance("kitten", 6, "sitting", 7, 2), 3);
    assert_int_equal(core_edit_distance("kitten", 6, "sitting", 7, 1), 2);
    assert_int_equal(core_edit_distance("a", 1, "abcdef", 6, 2), 3);
    assert_int_equal(core_edit_distance("abcdef", 6, "uvwxyz", 6, 2), 3);
    assert_int_equal(core_edit_distance("abcdef", 6, "uvwxyz", 6, 0), 1);
    /* Only len bytes count. */
    assert_int_equal(core_edit_distance("salaryXYZ", 6, "salary", 6, 1), 0);
    /* Symmetric. */
    assert_int_equal(core_edit_distance("certification", 13, "certifcaton", 11, 2), 2);
    assert_int_equal(core_edit_distance("certifcaton", 11, "certification", 13, 2), 2);
}

/* Regression (reported, fixed): with an empty second string the row loop never runs,
 * row_min stays max + 1 and the early exit returns max + 1 instead of alen. */
static void test_edit_distance_empty_second(void **state)
{
    (void)state;
    assert_int_equal(core_edit_distance("abc", 3, "", 0, 5), 3);
    assert_int_equal(core_edit_distance("a", 1, "", 0, 1), 1);
}

/* Regression (reported, fixed): with no vocabulary word at all the typo
 * index is empty, and freezing it passed a NULL array to memcpy (undefined
 * behaviour even for 0 bytes; UBSan aborts). A lexer without vocabulary
 * still freezes and answers lookups. */
static void test_freeze_without_vocabulary(void **state)
{
    (void)state;
    core_lexicon lx;
    memset(&lx, 0, sizeof lx);
    base_error err = {0};
    core_lexer *lex = core_lexer_new(&lx, &err);
    assert_non_null(lex);
    int c = define(lex, "c", CORE_TERM_KEYWORD); /* too short to be a correction target */
    assert_int_equal(core_lexer_freeze(lex, &err), BASE_OK);
    unsigned flags = 0;
    assert_int_equal(core_lexer_lookup(lex, "c", 1, &flags), c);
    assert_int_equal(core_lexer_lookup(lex, "salary", 6, &flags), -1);
    core_lexer_free(lex);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_define_returns_stable_terms),
        cmocka_unit_test(test_stemming),
        cmocka_unit_test(test_synonyms),
        cmocka_unit_test(test_exact_groups),
        cmocka_unit_test(test_term_flags),
        cmocka_unit_test(test_one_typo),
        cmocka_unit_test(test_two_typos_on_long_words),
        cmocka_unit_test(test_no_correction_cases),
        cmocka_unit_test(test_cache_overflow_keeps_answers),
        cmocka_unit_test(test_edit_distance),
        cmocka_unit_test(test_edit_distance_empty_second),
        cmocka_unit_test(test_freeze_without_vocabulary),
    };
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("lexer", tests, setup, teardown);
}
