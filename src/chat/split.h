/* Cutting a reply into lines that fit a protocol's line limit. */
#ifndef CHAT_SPLIT_H
#define CHAT_SPLIT_H

#include <stddef.h>

/* Receives one line (not NUL-terminated); returns non-zero to stop. */
typedef int (*chat_line_cb)(void *ctx, const char *line, size_t len);

/* Cuts text into lines of at most max bytes (max >= 8): first at '\n', then
 * at the last space that fits, never inside a UTF-8 sequence. CR, NUL and
 * other control characters are dropped (a tab becomes a space), so no line
 * can carry a protocol line break. Empty lines are skipped. Stops when fn
 * returns non-zero. Returns the number of lines emitted. */
size_t chat_split_lines(const char *text, size_t len, size_t max, chat_line_cb fn, void *ctx);

#endif
