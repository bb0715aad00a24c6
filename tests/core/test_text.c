/* text.c: raw bytes to folded words. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "core/text.h"

/* Joins the words of text with single spaces into buf. */
static const char *words_of(const char *text, size_t len, char *buf, size_t cap)
{
    core_words w;
    size_t n = core_text_words(text, len, &w);
    assert_int_equal(n, w.n);
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < w.n; i++) {
        assert_int_equal(strlen(w.word[i]), w.len[i]);
        assert_true(w.len[i] > 0 && w.len[i] <= CORE_MAX_WORD_LEN);
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", w.word[i]);
        assert_true(used < cap);
    }
    return buf;
}

static char joined[8192];

#define WORDS(lit) words_of((lit), strlen(lit), joined, sizeof joined)

static void test_case_folding(void **state)
{
    (void)state;
    assert_string_equal(WORDS("What Does A CODER Earn"), "what does a coder earn");
    /* Latin-1 capitals fold to their small letters: É -> é, À -> à, Ö -> ö. */
    assert_string_equal(WORDS("\xC3\x89T\xC3\x89 CAF\xC3\x89"), "\xC3\xA9t\xC3\xA9 caf\xC3\xA9");
    assert_string_equal(WORDS("\xC3\x80\xC3\x96\xC3\x9E"), "\xC3\xA0\xC3\xB6\xC3\xBE");
    /* × (U+00D7) is a symbol, not a capital: it separates words. */
    assert_string_equal(WORDS("3\xC3\x97" "4"), "3 4");
}

static void test_contractions(void **state)
{
    (void)state;
    assert_string_equal(WORDS("what's the pay"), "what is the pay");
    assert_string_equal(WORDS("I don't know"), "i do not know");
    assert_string_equal(WORDS("isn't it"), "is not it");
    assert_string_equal(WORDS("I'm new"), "i am new");
    assert_string_equal(WORDS("you're right"), "you are right");
    assert_string_equal(WORDS("I've been"), "i have been");
    assert_string_equal(WORDS("they'll"), "they will");
    assert_string_equal(WORDS("I'd like"), "i would like");
    /* A curly apostrophe (U+2019) works like a straight one. */
    assert_string_equal(WORDS("what\xE2\x80\x99s next"), "what is next");
    assert_string_equal(WORDS("it's"), "it is");
}

static void test_possessives(void **state)
{
    (void)state;
    assert_string_equal(WORDS("the doctor's office"), "the doctor office");
    assert_string_equal(WORDS("the doctors' notes"), "the doctors notes");
    assert_string_equal(WORDS("AHIMA's exam"), "ahima exam");
    /* Other apostrophes keep the word whole. */
    assert_string_equal(WORDS("five o'clock"), "five oclock");
    /* A leading apostrophe is a quote mark, not part of a word. */
    assert_string_equal(WORDS("'coding'"), "coding");
}

/* Regression (reported, fixed): "can't" and "won't" lose a letter ("ca not", "wo not"). */
static void test_cant_wont(void **state)
{
    (void)state;
    assert_string_equal(WORDS("I can't"), "i can not");
    assert_string_equal(WORDS("it won't"), "it will not");
}

static void test_shorthand(void **state)
{
    (void)state;
    assert_string_equal(WORDS("whats the pay"), "what is the pay");
    assert_string_equal(WORDS("can u help"), "can you help");
    assert_string_equal(WORDS("ur salary"), "your salary");
    assert_string_equal(WORDS("after hs"), "after high school");
    assert_string_equal(WORDS("i dont know"), "i do not know");
    assert_string_equal(WORDS("cant"), "can not");
    assert_string_equal(WORDS("im here"), "i am here");
    /* Only whole words are shorthand: "umbrella" and "hsa" stay. */
    assert_string_equal(WORDS("umbrella hsa"), "umbrella hsa");
}

static void test_punctuation_and_digits(void **state)
{
    (void)state;
    assert_string_equal(WORDS("pay?!...growth,demand;"), "pay growth demand");
    assert_string_equal(WORDS("well-paid full-time"), "well paid full time");
    assert_string_equal(WORDS("$34,970 a year, 22% growth"), "34 970 a year 22 growth");
    assert_string_equal(WORDS("step 3 of 5"), "step 3 of 5");
    assert_string_equal(WORDS("cpc2024"), "cpc2024");
    assert_string_equal(WORDS("  \t\n  pay \r\n"), "pay");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* Lone continuation bytes, a truncated lead byte, 0xFF: each separates. */
    static const char bad[] = "co\x80" "der pay\xFF" "ment \xC3 x\xE2\x82";
    core_words w;
    core_text_words(bad, sizeof bad - 1, &w);
    assert_int_equal(w.n, 5);
    assert_string_equal(w.word[0], "co");
    assert_string_equal(w.word[1], "der");
    assert_string_equal(w.word[2], "pay");
    assert_string_equal(w.word[3], "ment");
    assert_string_equal(w.word[4], "x");
    for (size_t i = 0; i < w.n; i++)
        assert_int_equal(core_utf8_valid_prefix(w.word[i], w.len[i]), w.len[i]);
    /* An overlong encoding of 'A' (C1 81) is not a letter. */
    assert_string_equal(words_of("x\xC1\x81y", 4, joined, sizeof joined), "x y");
    /* Encoded surrogate halves (ED A0 80) are not letters either. */
    assert_string_equal(words_of("a\xED\xA0\x80" "b", 5, joined, sizeof joined), "a b");
}

static void test_invalid_utf8_never_in_words(void **state)
{
    (void)state;
    /* Every byte value at every position: no word ever holds invalid UTF-8. */
    char buf[16];
    for (int b = 0; b < 256; b++) {
        for (int pos = 0; pos < 6; pos++) {
            memcpy(buf, "abcdef", 6);
            buf[pos] = (char)b;
            core_words w;
            core_text_words(buf, 6, &w);
            for (size_t i = 0; i < w.n; i++)
                assert_int_equal(core_utf8_valid_prefix(w.word[i], w.len[i]), w.len[i]);
        }
    }
}

static void test_nul_bytes_separate(void **state)
{
    (void)state;
    assert_string_equal(words_of("pay\0growth", 10, joined, sizeof joined), "pay growth");
}

static void test_long_words_cut_on_boundary(void **state)
{
    (void)state;
    /* 60 ASCII letters: cut, never longer than CORE_MAX_WORD_LEN. */
    char text[256];
    memset(text, 'a', 60);
    text[60] = '\0';
    core_words w;
    core_text_words(text, 60, &w);
    assert_int_equal(w.n, 1);
    assert_true(w.len[0] <= CORE_MAX_WORD_LEN);
    assert_true(w.len[0] >= CORE_MAX_WORD_LEN - 4);
    /* 30 x "é" (60 bytes): cut between characters, never inside one. */
    for (int i = 0; i < 30; i++)
        memcpy(text + 2 * i, "\xC3\xA9", 2);
    core_text_words(text, 60, &w);
    assert_int_equal(w.n, 1);
    assert_true(w.len[0] <= CORE_MAX_WORD_LEN);
    assert_int_equal(w.len[0] % 2, 0);
    assert_int_equal(core_utf8_valid_prefix(w.word[0], w.len[0]), w.len[0]);
    /* Three-byte letters (U+4E2D) too. */
    for (int i = 0; i < 20; i++)
        memcpy(text + 3 * i, "\xE4\xB8\xAD", 3);
    core_text_words(text, 60, &w);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.len[0] % 3, 0);
    assert_int_equal(core_utf8_valid_prefix(w.word[0], w.len[0]), w.len[0]);
    /* The word after a cut one is intact. */
    memset(text, 'b', 100);
    strcpy(text + 100, " coder");
    core_text_words(text, strlen(text), &w);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.word[1], "coder");
}

/* Regression (reported, fixed): header says words are cut past CORE_MAX_WORD_LEN (40)
 * bytes, but ASCII words are cut at 37, so a 40-letter word loses 3 letters. */
static void test_word_of_max_len_kept(void **state)
{
    (void)state;
    char text[CORE_MAX_WORD_LEN + 1];
    memset(text, 'z', CORE_MAX_WORD_LEN);
    text[CORE_MAX_WORD_LEN] = '\0';
    core_words w;
    core_text_words(text, CORE_MAX_WORD_LEN, &w);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.len[0], CORE_MAX_WORD_LEN);
}

static void test_word_cap(void **state)
{
    (void)state;
    size_t n = 1000;
    char *text = malloc(n * 2 + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        memcpy(text + 2 * i, "x ", 2);
    text[2 * n] = '\0';
    core_words w;
    assert_int_equal(core_text_words(text, 2 * n, &w), CORE_MAX_WORDS);
    assert_int_equal(w.n, CORE_MAX_WORDS);
    /* Shorthand that expands to two words does not overflow at the cap. */
    for (size_t i = 0; i < n; i++)
        memcpy(text + 2 * i, "u ", 2);
    memcpy(text, "hs hs hs ", 9);
    assert_int_equal(core_text_words(text, 2 * n, &w), CORE_MAX_WORDS);
    assert_string_equal(w.word[0], "high");
    assert_string_equal(w.word[1], "school");
    assert_string_equal(w.word[CORE_MAX_WORDS - 1], "you");
    free(text);
    /* Exactly at the cap with a trailing expansion. */
    char buf[CORE_MAX_WORDS * 2 + 16];
    size_t len = 0;
    for (size_t i = 0; i < CORE_MAX_WORDS - 1; i++)
        len += (size_t)sprintf(buf + len, "a ");
    len += (size_t)sprintf(buf + len, "whats");
    assert_int_equal(core_text_words(buf, len, &w), CORE_MAX_WORDS);
    assert_string_equal(w.word[CORE_MAX_WORDS - 1], "what");
    assert_string_equal(w.word[CORE_MAX_WORDS - 2], "a");
}

static void test_empty_and_separators_only(void **state)
{
    (void)state;
    core_words w;
    w.n = 99;
    assert_int_equal(core_text_words("", 0, &w), 0);
    assert_int_equal(w.n, 0);
    assert_int_equal(core_text_words("?!., ;:-'\"()[]", 14, &w), 0);
    /* Emoji (U+1F600, U+2764 U+FE0F) separate words and are never words. */
    assert_string_equal(WORDS("coder\xF0\x9F\x98\x80pay \xE2\x9D\xA4\xEF\xB8\x8F"), "coder pay");
    assert_int_equal(core_text_words("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 8, &w), 0);
    /* Curly quotes and the em dash are punctuation too. */
    assert_string_equal(WORDS("\xE2\x80\x9Cpay\xE2\x80\x9D\xE2\x80\x94growth"), "pay growth");
}

static void test_utf8_decode(void **state)
{
    (void)state;
    unsigned cp;
    assert_int_equal(core_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);

    /* Overlong forms. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xC0\xAF", 2, &cp), 0);
    assert_int_equal(cp, 0xC0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xC1\xBF", 2, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xE0\x80\xAF", 3, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF0\x80\x80\xAF", 4, &cp), 0);
    /* Surrogates U+D800 and U+DFFF. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &cp), 0);
    assert_int_equal(cp, 0xED);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xED\xBF\xBF", 3, &cp), 0);
    /* Beyond U+10FFFF, and lead bytes F5..FF. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF8\x88\x80\x80\x80", 5, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xFF", 1, &cp), 0);
    assert_int_equal(cp, 0xFF);
    /* Truncated: the length says the sequence is cut even when bytes follow. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xE2\x82\xAC", 2, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xF0\x9F\x98", 3, &cp), 0);
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xC3", 1, &cp), 0);
    /* A continuation byte that is not one. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\xC3(", 2, &cp), 0);
    /* A lone continuation byte. */
    assert_int_equal(core_utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
    assert_int_equal(cp, 0x80);
}

static void test_utf8_valid_prefix(void **state)
{
    (void)state;
    assert_int_equal(core_utf8_valid_prefix("", 0), 0);
    assert_int_equal(core_utf8_valid_prefix("abc", 3), 3);
    assert_int_equal(core_utf8_valid_prefix("caf\xC3\xA9", 5), 5);
    /* Cut in the middle of é. */
    assert_int_equal(core_utf8_valid_prefix("caf\xC3\xA9", 4), 3);
    assert_int_equal(core_utf8_valid_prefix("ab\xFF" "cd", 5), 2);
    assert_int_equal(core_utf8_valid_prefix("\xE2\x82\xAC\xE2\x82", 5), 3);
    assert_int_equal(core_utf8_valid_prefix("\x80", 1), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_folding),
        cmocka_unit_test(test_contractions),
        cmocka_unit_test(test_possessives),
        cmocka_unit_test(test_shorthand),
        cmocka_unit_test(test_punctuation_and_digits),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_invalid_utf8_never_in_words),
        cmocka_unit_test(test_nul_bytes_separate),
        cmocka_unit_test(test_long_words_cut_on_boundary),
        cmocka_unit_test(test_word_cap),
        cmocka_unit_test(test_empty_and_separators_only),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_utf8_valid_prefix),
        cmocka_unit_test(test_cant_wont),
        cmocka_unit_test(test_word_of_max_len_kept),
    };
    /* Bugs reported to the lead engineer: these fail until fixed. */
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
