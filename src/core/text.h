/* Text normalisation: raw message bytes to lower-case words. UTF-8 safe: an
 * invalid byte separates words, it never reaches the stemmer. */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stddef.h>

#define CORE_MAX_WORDS 128    /* words looked at per message; the rest is ignored */
#define CORE_MAX_WORD_LEN 40  /* bytes; longer words are cut */

typedef struct core_words {
    size_t n;
    char word[CORE_MAX_WORDS][CORE_MAX_WORD_LEN + 1];
    unsigned char len[CORE_MAX_WORDS];
} core_words;

/* Splits text into words: case-folded (ASCII and Latin-1 letters), apostrophe
 * contractions expanded ("what's" -> "what is", "don't" -> "do not"), possessive
 * 's dropped, chat shorthand spelled out ("whats", "u"). Returns out->n. */
size_t core_text_words(const char *text, size_t len, core_words *out);

/* True when text holds at least one word as core_text_words reads words. */
int core_text_has_word(const char *text, size_t len);

/* Length of the longest prefix of s (at most len bytes) that is valid UTF-8. */
size_t core_utf8_valid_prefix(const char *s, size_t len);

/* Decodes one code point at s; returns its byte length (1..4), or 0 when the
 * bytes at s are not valid UTF-8 (then *cp is the byte value). */
size_t core_utf8_decode(const unsigned char *s, size_t len, unsigned *cp);

#endif
