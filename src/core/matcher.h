/* The matcher: scores a question against every topic through an inverted
 * index built once from the knowledge base, and decides what to do with it. */
#ifndef CORE_MATCHER_H
#define CORE_MATCHER_H

#include <stddef.h>

#include "base/error.h"
#include "careerbot/kb.h"

typedef struct core_matcher core_matcher;

typedef enum core_match_kind {
    CORE_MATCH_NONE,    /* decline: off-topic or nothing recognised */
    CORE_MATCH_TOPIC,   /* one topic answers */
    CORE_MATCH_TWO,     /* the question had two parts: topic and second */
    CORE_MATCH_CLARIFY, /* topic and second are close on the same words: ask */
    CORE_MATCH_PASSAGE, /* no keyword rule fired; topic's own text matched */
} core_match_kind;

typedef enum core_follow {
    CORE_FOLLOW_NONE,
    CORE_FOLLOW_NEXT, /* "what's next", "and after that" */
    CORE_FOLLOW_MORE, /* "tell me more" */
} core_follow;

typedef struct core_match {
    core_match_kind kind;
    const core_topic *topic;  /* best topic, NULL for CORE_MATCH_NONE */
    const core_topic *second; /* CORE_MATCH_TWO / CORE_MATCH_CLARIFY */
    double score;           /* best topic's score */
    double second_score;
    int has_domain;         /* a domain word was seen */
    int n_offtopic;         /* off-topic words seen */
    int n_unknown;          /* words that are neither vocabulary, stop words nor common words */
    size_t n_words;         /* words in the question (after normalisation) */
    core_follow follow;
    char evidence[256];     /* the keywords that selected topic, comma-separated */
} core_match;

/* Builds the index. The matcher borrows kb, which must outlive it. */
core_matcher *core_matcher_new(const core_kb *kb, base_error *err);
void core_matcher_free(core_matcher *m);

/* Matches one question (any bytes). Never fails: unknown input declines. */
void core_matcher_match(core_matcher *m, const char *text, size_t len, core_match *out);

/* The score topic got in the last core_matcher_match (0 when not touched). */
double core_matcher_last_score(const core_matcher *m, const core_topic *topic);

const core_kb *core_matcher_kb(const core_matcher *m);

#endif
