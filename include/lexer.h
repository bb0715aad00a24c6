/* The lexer turns one question word into a term of the knowledge base:
 * stemming (Snowball English), synonyms, and typo correction against the
 * knowledge base's vocabulary (symmetric-delete candidates, then an exact
 * edit distance). Terms are small ints; the matcher indexes topics by them. */
#ifndef CB_LEXER_H
#define CB_LEXER_H

#include <stddef.h>

#include "cb_error.h"
#include "kb.h"

typedef struct cb_lexer cb_lexer;

/* What a term is evidence of. */
enum {
    CB_TERM_DOMAIN = 1,   /* the question is about this career */
    CB_TERM_OFFTOPIC = 2, /* the question is about something else */
    CB_TERM_KEYWORD = 4,  /* some topic keyword uses it */
    CB_TERM_PASSAGE = 8,  /* some topic text uses it */
    CB_TERM_EXACT = 16,   /* from an exact group: matched by its listed words only */
};

/* What a looked-up word was. */
enum {
    CB_WORD_STOP = 1,      /* a function word */
    CB_WORD_KNOWN = 2,     /* stop word, common word or vocabulary */
    CB_WORD_CORRECTED = 4, /* found through typo correction */
    CB_WORD_CORRECTABLE = 8, /* a knowledge-base word that typos are corrected to */
};

/* Builds the lexer from the lexicon (synonyms first, then word lists). */
cb_lexer *cb_lexer_new(const cb_lexicon *lx, cb_error *err);
void cb_lexer_free(cb_lexer *lex);

/* Adds a knowledge-base word to the vocabulary and returns its term, or -1
 * when out of memory. flags are CB_TERM_* bits added to the term. */
int cb_lexer_define(cb_lexer *lex, const char *word, size_t len, unsigned flags);
/* Builds the typo index; call once after the last cb_lexer_define. */
int cb_lexer_freeze(cb_lexer *lex, cb_error *err);

/* The term of a question word (already case-folded), or -1 when the word is
 * not in the vocabulary. *word_flags receives CB_WORD_* bits. */
int cb_lexer_lookup(cb_lexer *lex, const char *word, size_t len, unsigned *word_flags);

/* True when word is one of the lexicon's stop words. */
int cb_lexer_is_stopword(const cb_lexer *lex, const char *word, size_t len);

unsigned cb_lexer_term_flags(const cb_lexer *lex, int term);
const char *cb_lexer_term_name(const cb_lexer *lex, int term);
size_t cb_lexer_term_count(const cb_lexer *lex);

/* Edit distance with adjacent transpositions (optimal string alignment),
 * stopping early: returns max + 1 when the distance exceeds max. */
int cb_edit_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

#endif
