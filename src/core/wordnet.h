/* Links from English words to the knowledge base's own words through
 * WordNet: synonyms that share a sense, and derivationally related forms
 * ("remuneration" -> "salary", "anatomical" -> "anatomy").
 *
 * Reads the database files of Princeton WordNet 3.0 (index.POS and
 * data.POS, format in wndb(5); Debian's wordnet-base installs them in
 * /usr/share/wordnet): one pass over the index files for the targets, one
 * read per synset looked at, and the candidates found again in the index
 * through entries remembered on the way. libwordnet's own lookups cost a
 * binary search through file reads per word, and its synset reader looks up
 * every member's sense number: about 0.3 s for a few hundred words, against
 * under 10 ms here. Runs once, when the lexer is built.
 *
 * Which links count (the rule, and why):
 * - only the first sense of both words, in the main part of speech of both
 *   (the one in which WordNet gives the word most senses): WordNet orders
 *   senses by frequency, so both words mean this by default ("wage" and
 *   "salary"), while a rarer sense ("course" as the adverb "of course") or
 *   a rarer reading of the other word ("permit" is mostly a verb) stays out;
 * - only when the sense is close to the domain: another member of the
 *   synset, or a word of its definition, is a knowledge-base word of the
 *   target's own topics (the caller's is_close), so a word that WordNet
 *   knows in another sense only ("techy" = irritable) links to nothing;
 * - synonyms in the synset and derivationally related forms of the target
 *   word itself; never hypernyms, hyponyms or other relations, which lead
 *   to broader or narrower ideas, not the same one;
 * - only words the caller does not know yet (is_free): a known word keeps
 *   its own meaning. */
#ifndef CORE_WORDNET_H
#define CORE_WORDNET_H

#include <stddef.h>

#include "base/error.h"

typedef struct core_wordnet_query {
    void *ctx;
    /* The words to link to (lower-case ASCII). */
    const char *const *targets;
    size_t n_targets;
    /* True when word (lower-case ASCII letters) may receive a link. */
    int (*is_free)(void *ctx, const char *word, size_t len);
    /* True when text (the synset's other one-word members and its
     * definition) uses a knowledge-base word of target's topics, other
     * than target itself. */
    int (*is_close)(void *ctx, const char *target, const char *text, size_t len);
    /* One link: word is to be read as target. Returns 0, or -1 to stop (out
     * of memory). Each word is linked once, to its closest target. */
    int (*link)(void *ctx, const char *word, size_t len, const char *target, int derived);
} core_wordnet_query;

/* Where the database is: $WNSEARCHDIR (as for WordNet's own tools), else
 * the build's default (CAREERBOT_WORDNET_DIR). */
const char *core_wordnet_dir(void);

/* Makes the links of query from the database in dir. Returns BASE_OK, or
 * BASE_ERR with err set when the database cannot be read or memory runs
 * out; links already made stay made. *n_links receives their count. */
int core_wordnet_link(const char *dir, const core_wordnet_query *query, size_t *n_links, base_error *err);

#endif
