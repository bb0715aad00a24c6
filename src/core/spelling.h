/* Spelling help from hunspell: whether a word is spelt right, and what a
 * misspelt word may have been. The dictionaries are hunspell's own (Debian's
 * hunspell-en-us, and hunspell-en-med so that medical words count as spelt
 * right), with the knowledge base's vocabulary added, so that suggestions
 * can land on the domain's words ("ahmia" -> "ahima").
 *
 * Optional at build time (CAREERBOT_HUNSPELL): without hunspell,
 * core_spelling_new always fails and nothing else is ever called. */
#ifndef CORE_SPELLING_H
#define CORE_SPELLING_H

#include <stddef.h>

#include "base/error.h"

typedef struct core_spelling core_spelling;

/* Where the dictionaries are: $DICPATH (its first folder, as for hunspell's
 * own tools), else the build's default (CAREERBOT_HUNSPELL_DIR). */
const char *core_spelling_dir(void);

/* Loads dictionaries by name from dir: names[0] with its affix file
 * ("en_US" reads en_US.aff and en_US.dic), then the other word lists with
 * the same affixes ("en_med_glut"). NULL with err set when one cannot be
 * read or hunspell is not built in. */
core_spelling *core_spelling_new(const char *dir, const char *const *names, size_t n, base_error *err);
void core_spelling_free(core_spelling *sp);

/* Adds a word (lower-case, NUL-terminated) as spelt right. 0, or -1. */
int core_spelling_add(core_spelling *sp, const char *word);

/* True when word (lower-case ASCII, NUL-terminated) is spelt right. */
int core_spelling_is_right(core_spelling *sp, const char *word);

/* hunspell's suggestions for a misspelt word, best first, in turn to
 * accept (lower-case single words only, among the first max); returns the
 * index of the first one accept takes, or -1. */
int core_spelling_suggest(core_spelling *sp, const char *word, int max,
                          int (*accept)(void *ctx, const char *suggestion, size_t len), void *ctx);

#endif
