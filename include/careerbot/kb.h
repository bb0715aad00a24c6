/* The knowledge base: topics, their selecting keywords, and the lexicon that
 * tells the matcher how people phrase things. Loaded from JSON files in one
 * directory; immutable once loaded. See knowledge/README.md for the format. */
#ifndef CAREERBOT_KB_H
#define CAREERBOT_KB_H

#include <stddef.h>

#include "base/error.h"

typedef struct core_keyword {
    char **phrases;   /* the phrase and its synonyms, each one or more words */
    size_t n_phrases;
    double weight;
} core_keyword;

/* A short answer to one of the questions people ask next about a topic
 * ("is that per year?", "who runs the exams?"). It is chosen by the
 * follow-up's words: the cues of its lexicon kind, and its own cues. */
typedef struct core_facet {
    char *kind_name;  /* the lexicon facet kind it answers ("when"), or NULL: its own cues only */
    int kind;         /* index of that kind in the lexicon's facet kinds, -1 when none */
    char **cues;      /* phrases of its own that ask for it ("small facility"); may be none */
    size_t n_cues;
    char *answer;
} core_facet;

typedef struct core_topic {
    char *id;
    char *title;
    char *command;    /* chat command that shows this topic, e.g. "salary" */
    int step;         /* position among the ordered steps, 1-based; 0 when not a step */
    core_keyword *keywords;
    size_t n_keywords;
    char **examples;  /* questions that must select this topic */
    size_t n_examples;
    char *answer;     /* chat-sized reply; lines separated by '\n' */
    char *details;    /* optional longer text for "tell me more"; may be NULL */
    char *brief;      /* optional one- or two-line form for group channels; NULL: the answer's first lines */
    core_facet *facets;
    size_t n_facets;
    char **related;   /* ids of related topics */
    size_t n_related;
    char *source;     /* where the facts come from */
    char *file;       /* file the topic was read from, for messages */
    int line;         /* line of the topic's "id" in that file */
} core_topic;

typedef struct core_string_list {
    char **items;
    size_t n;
} core_string_list;

/* A kind of follow-up question ("when", "who", "how long"): the phrases that
 * ask it, and what to say when a topic has no facet of that kind. */
typedef struct core_facet_kind {
    char *name;
    char **cues;
    size_t n_cues;
    char *silent;     /* "The article doesn't say how long that takes." */
    int details;      /* a topic without such a facet answers with its details instead
                         ("what does that mean?" is answered by saying more) */
    int explains;     /* its facets say what a topic's own words mean ("median"): they answer a
                         weak follow-up that only repeats the topic's words ("is that the average?") */
} core_facet_kind;

/* Words that mean the same, first one canonical (single words only). */
typedef struct core_synonym_group {
    char **words;
    size_t n;
} core_synonym_group;

typedef struct core_lexicon {
    core_synonym_group *synonyms;
    size_t n_synonyms;
    core_synonym_group *exact;   /* words kept apart from their stem: ["certificate", "certificates"] */
    size_t n_exact;
    core_string_list domain;     /* words that show a question is about this career */
    core_string_list offtopic;   /* words that show it is not (weather, jokes, ...) */
    core_string_list stopwords;  /* function words: never typo-corrected, no evidence */
    core_string_list common;     /* ordinary words that must never be "corrected" */
    core_string_list follow_next; /* "what's next", "after that", ... */
    core_string_list follow_more; /* "tell me more", "go on", ... */
    double threshold;          /* minimum score to answer */
    double offtopic_penalty;   /* subtracted from every topic per off-topic word */
    double unknown_penalty;    /* subtracted per word the knowledge base does not know, unless a domain word is seen */
    double clarify_ratio;      /* second best within this ratio of the best: ask */
    char *default_topic;       /* answers a question about the career that names no topic; may be NULL */
    /* Conversation: how people refer back to what was said. */
    core_facet_kind *facet_kinds;
    size_t n_facet_kinds;
    core_string_list anaphora;      /* "it", "that", "they": the question leans on the last answer */
    core_string_list continuations; /* "and", "what about": the same, at the start of a question */
    core_synonym_group *ordinals;   /* ["first", "1st", ...], ["second", ...]: position i is i + 1 */
    size_t n_ordinals;
    core_string_list last;          /* "last", "final": the last of a sequence */
    core_string_list both;          /* "both": the two options of a clarifying question */
    core_string_list compare;       /* "which is better": compare the two options */
    core_string_list question_starts; /* "what", "how", "can": a line that starts so asks something */
    core_string_list fillers;       /* "please", "I mean": words that add nothing to a choice */
    core_string_list person_talk;   /* "did you", "are you still": a line that starts so asks a person
                                       about themselves, not the bot (listen rooms stay out of it) */
    /* General language resources; each is off unless the lexicon turns it on. */
    int wordnet;                    /* WordNet synonyms and derived forms of the vocabulary's words */
    int hunspell;                   /* hunspell's spelling help */
    core_string_list hunspell_dictionaries; /* its dictionaries, the first with its affix file
                                               ("en_US", "en_med_glut"); empty: "en_US" */
} core_lexicon;

/* Small talk of one kind (greetings, thanks, goodbyes, ...): the phrases
 * that make it up and the replies, used in turn. */
typedef struct core_social {
    char *kind;
    char **phrases;
    size_t n_phrases;
    char **replies;
    size_t n_replies;
} core_social;

/* Texts the bot speaks that are not topic answers. */
typedef struct core_bot_texts {
    char *name;        /* the career, e.g. "insurance (medical) coder" */
    char *about;       /* reply to /about */
    char *help;        /* first line(s) of /help */
    char *decline;     /* polite decline for off-topic or unclear questions */
    char *sources;     /* reply to /source when no answer was given yet */
    char *tagline;     /* what the bot is, in a few words: IRC realname, --help */
    char *encrypted;   /* told once in a room the bot cannot read (end-to-end encrypted) */
    char *more_hint;   /* added to a shortened answer: how to get the rest */
    char *compare;     /* before the two options when asked which is better */
    core_social *social; /* small talk, in order of precedence */
    size_t n_social;
} core_bot_texts;

typedef struct core_kb {
    core_topic *topics;
    size_t n_topics;
    core_lexicon lexicon;
    core_bot_texts texts;
    char *dir;
    struct base_strmap *by_id;      /* id -> topic index */
    struct base_strmap *by_command; /* command -> topic index */
} core_kb;

/* Loads every *.json file of dir, in name order. On failure returns BASE_ERR
 * with "file:line: message" in err and *out untouched. */
int core_kb_load(const char *dir, core_kb **out, base_error *err);
/* Same, from one JSON document in memory (name is used in messages). */
int core_kb_load_string(const char *json, size_t len, const char *name, core_kb **out, base_error *err);
void core_kb_free(core_kb *kb);

const core_topic *core_kb_find(const core_kb *kb, const char *id);
const core_topic *core_kb_find_command(const core_kb *kb, const char *command);
/* The topic at step n (1-based), or NULL. */
const core_topic *core_kb_step(const core_kb *kb, int n);
int core_kb_step_count(const core_kb *kb);

#endif
