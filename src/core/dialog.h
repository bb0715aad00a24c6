/* Conversation state: what the bot said last in each conversation, so that
 * "what's next?" and "tell me more" can follow it. Bounded in size (least
 * recently used conversations are dropped) and expiring after a quiet time. */
#ifndef CORE_DIALOG_H
#define CORE_DIALOG_H

#include <stddef.h>

#define CORE_DIALOG_ID_MAX 64

typedef struct core_dialog_state {
    char last_topic[CORE_DIALOG_ID_MAX]; /* "" when nothing answered yet */
    double last_score;
    char evidence[256];
    char clarify[2][CORE_DIALOG_ID_MAX]; /* pending "did you mean A or B?" */
    int more_given;                    /* follow-ups given on last_topic */
    int rest_line;                     /* a shortened answer of last_topic: the line "more" goes on
                                          from (1-based; 0: nothing held back) */
    unsigned social_turns;             /* small-talk replies so far: they take turns */
    char aside[CORE_DIALOG_ID_MAX];    /* the last question was declined as off-topic but asked
                                          about this topic: "and a coder?" can follow it */
} core_dialog_state;

typedef struct core_dialog core_dialog;

core_dialog *core_dialog_new(size_t capacity, double ttl_seconds);
void core_dialog_free(core_dialog *d);
/* The state of a conversation at time now (seconds): a fresh one when the
 * key is new or its state expired. NULL only when out of memory. */
core_dialog_state *core_dialog_get(core_dialog *d, const char *key, double now);
/* Like core_dialog_get but never creates: NULL when absent or expired. */
core_dialog_state *core_dialog_peek(core_dialog *d, const char *key, double now);
size_t core_dialog_count(const core_dialog *d);
void core_dialog_clear(core_dialog *d);

#endif
