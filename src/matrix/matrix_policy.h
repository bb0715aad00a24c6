/* The Matrix facts the reply gate needs: which events are not messages to
 * look at, whether one mentions the bot, and the text people typed. Pure: no
 * I/O. Whether to answer is the gate's decision (chat/gate.h). */
#ifndef MATRIX_POLICY_H
#define MATRIX_POLICY_H

#include <stddef.h>

#include "matrix/matrix_sync.h"

/* Why m is not looked at (own event, notice, edit, redacted, not text, old
 * history), or NULL when it may be answered. live is 0 for the first sync
 * of an account, whose messages are only recorded. */
const char *matrix_ignore_reason(const matrix_message *m, const char *own_user_id, int live);

/* True when m mentions user_id. When m.mentions is there it alone decides
 * (an empty one mentions nobody); without it, a matrix.to or matrix: link to
 * user_id in formatted_body (a pill) or the full user id in body does. */
int matrix_mentions_user(const matrix_message *m, const char *user_id);

/* When formatted_body starts with a pill to user_id (after white space and
 * an opening <p>), the pill's text as people see it (entities decoded) in
 * buf: what the body then starts with, however the client named the bot.
 * NULL otherwise. */
const char *matrix_leading_pill(const char *html, const char *user_id, char *buf, size_t cap);

/* The body without a rich-reply fallback (leading "> " lines and the blank
 * line after them). */
const char *matrix_strip_reply_fallback(const char *body, size_t len, size_t *rest_len);

/* The localpart of a user id ("careerbot" of "@careerbot:example.org"),
 * copied into buf; NULL when user_id has none or it does not fit. */
const char *matrix_localpart(const char *user_id, char *buf, size_t cap);

#endif
