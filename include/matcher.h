/* The matcher: scores a question against every topic through an inverted
 * index built once from the knowledge base, and decides what to do with it. */
#ifndef CB_MATCHER_H
#define CB_MATCHER_H

#include <stddef.h>

#include "cb_error.h"
#include "kb.h"

typedef struct cb_matcher cb_matcher;

typedef enum cb_match_kind {
    CB_MATCH_NONE,    /* decline: off-topic or nothing recognised */
    CB_MATCH_TOPIC,   /* one topic answers */
    CB_MATCH_TWO,     /* the question had two parts: topic and second */
    CB_MATCH_CLARIFY, /* topic and second are close on the same words: ask */
    CB_MATCH_PASSAGE, /* no keyword rule fired; topic's own text matched */
} cb_match_kind;

typedef enum cb_follow {
    CB_FOLLOW_NONE,
    CB_FOLLOW_NEXT, /* "what's next", "and after that" */
    CB_FOLLOW_MORE, /* "tell me more" */
} cb_follow;

typedef struct cb_match {
    cb_match_kind kind;
    const cb_topic *topic;  /* best topic, NULL for CB_MATCH_NONE */
    const cb_topic *second; /* CB_MATCH_TWO / CB_MATCH_CLARIFY */
    double score;           /* best topic's score */
    double second_score;
    int has_domain;         /* a domain word was seen */
    int n_offtopic;         /* off-topic words seen */
    int n_unknown;          /* words that are neither vocabulary, stop words nor common words */
    size_t n_words;         /* words in the question (after normalisation) */
    cb_follow follow;
    char evidence[256];     /* the keywords that selected topic, comma-separated */
} cb_match;

/* Builds the index. The matcher borrows kb, which must outlive it. */
cb_matcher *cb_matcher_new(const cb_kb *kb, cb_error *err);
void cb_matcher_free(cb_matcher *m);

/* Matches one question (any bytes). Never fails: unknown input declines. */
void cb_matcher_match(cb_matcher *m, const char *text, size_t len, cb_match *out);

/* The score topic got in the last cb_matcher_match (0 when not touched). */
double cb_matcher_last_score(const cb_matcher *m, const cb_topic *topic);

const cb_kb *cb_matcher_kb(const cb_matcher *m);

#endif
