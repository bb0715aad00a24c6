/* The matcher: scores a question against every topic through an inverted
 * index built once from the knowledge base, and decides what to do with it. */
#ifndef CORE_MATCHER_H
#define CORE_MATCHER_H

#include <stddef.h>
#include <stdint.h>

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
    const core_topic *candidate; /* the best keyword topic, even below the threshold; NULL none */
    double candidate_score;
    const core_topic *candidates[3]; /* the best keyword topics before penalties, best first (for the
                                        unanswered log) */
    double candidate_scores[3];
    size_t n_candidates;
    int has_domain;         /* a domain word was seen */
    int n_offtopic;         /* off-topic words seen */
    int n_unknown;          /* words that are neither vocabulary, stop words nor common words */
    size_t n_words;         /* words in the question (after normalisation) */
    size_t n_content;       /* of them, words that are not stop words */
    size_t n_free;          /* content words that no signal below accounts for */
    core_follow follow;
    /* How the question leans on the conversation: */
    int anaphor;            /* "it", "that", "they" ... */
    int continuation;       /* starts with "and", "what about" ... */
    int question;           /* starts with a question word, or ends with '?' */
    int personal;           /* talk to a person: "did you ...", "..., jess?" */
    int ordinal;            /* "the second": 2; 0 when none */
    int last;               /* "the last one" */
    int both;               /* "both" */
    int compare;            /* "which is better" */
    uint64_t signal_positions; /* question words (mod 64) used by those signals and follow-ups */
    uint64_t offtopic_positions; /* question words (mod 64) that are off-topic */
    const core_topic *aside; /* with off-topic words: the topic the rest of the question asks about
                                ("what does a pharmacist earn?": salary), else NULL */
    int social;             /* small talk found: index of its kind in the bot texts, -1 none */
    int social_only;        /* nothing but small talk (and stop words) */
    uint64_t social_positions;
    char evidence[256];     /* the keywords that selected topic, comma-separated */
} core_match;

/* Builds the index. The matcher borrows kb, which must outlive it. */
core_matcher *core_matcher_new(const core_kb *kb, base_error *err);
void core_matcher_free(core_matcher *m);

/* Matches one question (any bytes). Never fails: unknown input declines. */
void core_matcher_match(core_matcher *m, const char *text, size_t len, core_match *out);

/* After core_matcher_match: the question's words without the small talk in
 * front ("thanks! and the pay?" -> "and the pay"), space-separated, into
 * buf. Returns its length. */
size_t core_matcher_residual(const core_matcher *m, const core_match *match, char *buf, size_t cap);

/* The facet of a topic a question asks for, found by cue phrases. */
typedef struct core_facet_pick {
    int facet;          /* index into topic->facets, -1 when none of its facets was asked for */
    int kind;           /* lexicon facet kind asked for (its cues were found), -1 when none */
    int strength;       /* cue words found for the pick, 0 when nothing */
    int clear;          /* the pick rests on a cue of the topic's own or on a cue of several words */
    uint64_t positions; /* question words (mod 64) the cues used */
} core_facet_pick;

/* After core_matcher_match: which facet of topic the same question asks for.
 * A topic's facet answers when its kind's cues or its own cues are found;
 * when only a kind is asked for and the topic has no such facet, kind is
 * set and facet is -1. */
void core_matcher_pick_facet(const core_matcher *m, const core_topic *topic, core_facet_pick *out);

/* After core_matcher_match: what topic scored from keywords that used none
 * of the question words in positions (penalties included). 0 when the topic
 * was not touched. */
double core_matcher_score_without(const core_matcher *m, const core_topic *topic, uint64_t positions);

/* The score topic got in the last core_matcher_match (0 when not touched). */
double core_matcher_last_score(const core_matcher *m, const core_topic *topic);

const core_kb *core_matcher_kb(const core_matcher *m);

#endif
