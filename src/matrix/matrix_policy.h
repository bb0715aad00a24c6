/* Who gets an answer in Matrix: which messages are ignored outright, and
 * whether a message is addressed to the bot (direct chat, command, mention,
 * or a listen room's unaddressed question). Pure: no I/O. */
#ifndef MATRIX_POLICY_H
#define MATRIX_POLICY_H

#include <stddef.h>

#include "careerbot/bot.h"
#include "matrix/matrix_sync.h"

typedef struct matrix_identity {
    const char *user_id;      /* "@careerbot:example.org" */
    const char *display_name; /* NULL when unknown */
} matrix_identity;

/* Why m is not looked at (own event, notice, edit, redacted, not text, old
 * history), or NULL when it may be answered. live is 0 for the first sync
 * of an account, whose messages are only recorded. */
const char *matrix_ignore_reason(const matrix_message *m, const char *own_user_id, int live);

enum { MATRIX_SKIP, MATRIX_ANSWER, MATRIX_ANSWER_IF_CONFIDENT };

typedef struct matrix_addressing {
    int action;       /* MATRIX_SKIP, MATRIX_ANSWER or MATRIX_ANSWER_IF_CONFIDENT */
    const char *why;  /* "direct chat", "command", "mention", "listen room", "not addressed" */
    const char *text; /* what the bot is asked: a slice of m->body */
    size_t len;
} matrix_addressing;

/* Decides whether m (not ignored) is for the bot. direct: the room is a
 * direct chat; listen: the room is in listen mode. */
void matrix_address(const matrix_message *m, const matrix_identity *me, int direct, int listen, const core_bot *bot,
                    const char *prefixes, matrix_addressing *out);

/* True when m mentions user_id: in m.mentions, as a matrix.to or matrix: link
 * in formatted_body (a pill), or as the full user id in body. */
int matrix_mentions_user(const matrix_message *m, const char *user_id);

/* The body without a rich-reply fallback (leading "> " lines and the blank
 * line after them). */
const char *matrix_strip_reply_fallback(const char *body, size_t len, size_t *rest_len);

/* When text starts with name followed by ':', ',', ';' or a space
 * ("careerbot: hi", "@careerbot hi", "Career Bot, hi"; ASCII case ignored),
 * returns the rest with leading spaces skipped; otherwise NULL. */
const char *matrix_addressed_to(const char *text, size_t len, const char *name, size_t *rest_len);

#endif
