/* Conversation state: what the bot said last in each conversation, so that
 * "what's next?" and "tell me more" can follow it. Bounded in size (least
 * recently used conversations are dropped) and expiring after a quiet time. */
#ifndef CB_DIALOG_H
#define CB_DIALOG_H

#include <stddef.h>

#define CB_DIALOG_ID_MAX 64

typedef struct cb_dialog_state {
    char last_topic[CB_DIALOG_ID_MAX]; /* "" when nothing answered yet */
    double last_score;
    char evidence[256];
    char clarify[2][CB_DIALOG_ID_MAX]; /* pending "did you mean A or B?" */
    int more_given;                    /* follow-ups given on last_topic */
} cb_dialog_state;

typedef struct cb_dialog cb_dialog;

cb_dialog *cb_dialog_new(size_t capacity, double ttl_seconds);
void cb_dialog_free(cb_dialog *d);
/* The state of a conversation at time now (seconds): a fresh one when the
 * key is new or its state expired. NULL only when out of memory. */
cb_dialog_state *cb_dialog_get(cb_dialog *d, const char *key, double now);
/* Like cb_dialog_get but never creates: NULL when absent or expired. */
cb_dialog_state *cb_dialog_peek(cb_dialog *d, const char *key, double now);
size_t cb_dialog_count(const cb_dialog *d);
void cb_dialog_clear(cb_dialog *d);

#endif
