/* Pure helpers every chat transport needs: recognising a message addressed
 * to the bot, and cutting a reply into lines that fit the protocol. */
#ifndef CHAT_TEXT_H
#define CHAT_TEXT_H

#include <stddef.h>

/* When text starts by addressing nick ("careerbot: hi", "careerbot, hi",
 * "@careerbot hi", case-insensitive), returns the rest (leading spaces
 * skipped) and its length in *rest_len; otherwise NULL. */
const char *chat_addressed_to(const char *text, size_t len, const char *nick, size_t *rest_len);

/* True when text mentions nick as a whole word anywhere. */
int chat_mentions(const char *text, size_t len, const char *nick);

typedef int (*chat_line_cb)(void *ctx, const char *line, size_t len);

/* Cuts text into lines of at most max bytes (max >= 8): first at '\n', then
 * at the last space that fits, never inside a UTF-8 sequence. CR, NUL and
 * other control characters are dropped (a tab becomes a space), so no line
 * can carry a protocol line break. Empty lines are skipped. Stops when fn
 * returns non-zero. Returns the number of lines emitted. */
size_t chat_split_lines(const char *text, size_t len, size_t max, chat_line_cb fn, void *ctx);

#endif
