/* The lexer turns one question word into a term of the knowledge base:
 * stemming (Snowball English), synonyms, and typo correction against the
 * knowledge base's vocabulary (symmetric-delete candidates, then an exact
 * edit distance). Terms are small ints; the matcher indexes topics by them. */
#ifndef CORE_LEXER_H
#define CORE_LEXER_H

#include <stddef.h>

#include "base/error.h"
#include "careerbot/kb.h"

typedef struct core_lexer core_lexer;

/* What a term is evidence of. */
enum {
    CORE_TERM_DOMAIN = 1,   /* the question is about this career */
    CORE_TERM_OFFTOPIC = 2, /* the question is about something else */
    CORE_TERM_KEYWORD = 4,  /* some topic keyword uses it */
    CORE_TERM_PASSAGE = 8,  /* some topic text uses it */
    CORE_TERM_SIGNAL = 32,  /* a conversation signal ("it", "last", "both"): never a typo's correction */
    CORE_TERM_EXACT = 16,   /* from an exact group: matched by its listed words only */
    CORE_TERM_WORD = 64,    /* a keyword of one word ("salary"), not only part of a phrase ("screw up") */
};

/* What a looked-up word was. */
enum {
    CORE_WORD_STOP = 1,      /* a function word */
    CORE_WORD_KNOWN = 2,     /* stop word, common word or vocabulary */
    CORE_WORD_CORRECTED = 4, /* found through typo correction */
    CORE_WORD_CORRECTABLE = 8, /* a knowledge-base word that typos are corrected to */
};

/* Builds the lexer from the lexicon (synonyms first, then word lists). */
core_lexer *core_lexer_new(const core_lexicon *lx, base_error *err);
void core_lexer_free(core_lexer *lex);

/* Adds a knowledge-base word to the vocabulary and returns its term, or -1
 * when out of memory. flags are CORE_TERM_* bits added to the term. */
int core_lexer_define(core_lexer *lex, const char *word, size_t len, unsigned flags);
/* Notes that term is a word of topic's keywords (topic >= 0): WordNet's
 * senses count as close to the domain by words of the same topics. Returns
 * 0, or -1 when out of memory. */
int core_lexer_note_topic(core_lexer *lex, int term, int topic);
/* Builds the typo index (and the WordNet links when the lexicon asks for
 * them); call once after the last core_lexer_define. */
int core_lexer_freeze(core_lexer *lex, base_error *err);

/* WordNet links made by core_lexer_freeze: -1 when the lexicon leaves
 * WordNet off or its database cannot be read. */
int core_lexer_wordnet_links(const core_lexer *lex);

/* True when hunspell's dictionaries are loaded (the lexicon names them and
 * they could be read). */
int core_lexer_has_spelling(const core_lexer *lex);

/* The term of a question word (already case-folded), or -1 when the word is
 * not in the vocabulary. *word_flags receives CORE_WORD_* bits. */
int core_lexer_lookup(core_lexer *lex, const char *word, size_t len, unsigned *word_flags);

/* The word's Snowball stem into out (NUL-terminated, cut to cap - 1 bytes).
 * Returns its length. */
size_t core_lexer_stem(core_lexer *lex, const char *word, size_t len, char *out, size_t cap);

/* True when word is one of the lexicon's stop words. */
int core_lexer_is_stopword(const core_lexer *lex, const char *word, size_t len);

unsigned core_lexer_term_flags(const core_lexer *lex, int term);
const char *core_lexer_term_name(const core_lexer *lex, int term);
size_t core_lexer_term_count(const core_lexer *lex);

/* Edit distance with adjacent transpositions (optimal string alignment),
 * stopping early: returns max + 1 when the distance exceeds max. */
int core_edit_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

#endif
