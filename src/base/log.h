/* Log lines on stderr, one line per event:
 *
 *   2026-11-25T08:00:00.123Z WARN network=irc.libera: disconnected: timeout
 *   2026-11-25T08:00:01.002Z INFO network=irc.libera channel=#careers event=join: joined #careers
 *
 * Under journald (JOURNAL_STREAM names stderr) the time stamp and the level
 * word give way to the priority prefix journald reads: "<4>network=...: ...".
 *
 * The one set of levels for the whole program; the values are syslog's
 * priorities, so they go to journald as they are. The context is key=value
 * pairs: `who` ("irc.NAME", "matrix.NAME") becomes network=NAME, and
 * base_log_kv adds more (channel or room, event). Values with spaces or
 * quotes are quoted; control characters in the text (a server's words may
 * hold any) are escaped, so a line is always one line. Registered secrets are
 * replaced by "***" wherever they would appear. */
#ifndef BASE_LOG_H
#define BASE_LOG_H

#include <stdio.h>

typedef enum base_log_level {
    BASE_LOG_ERROR = 3,
    BASE_LOG_WARN = 4,
    BASE_LOG_NOTICE = 5,
    BASE_LOG_INFO = 6,
    BASE_LOG_DEBUG = 7,
} base_log_level;

/* Lines less important than this level are not written (default
 * BASE_LOG_INFO; the environment variable CAREERBOT_DEBUG=1 makes it
 * BASE_LOG_DEBUG until a level is set). */
void base_log_set_level(int level);
int base_log_get_level(void);
/* "error", "warn" (or "warning"), "notice", "info", "debug" -> the level;
 * -1 for anything else. */
int base_log_level_from_name(const char *name);
/* The level's lower-case name ("warn"). */
const char *base_log_level_name(int level);

/* How lines look: BASE_LOG_STYLE_AUTO (the default) picks the journal style
 * when JOURNAL_STREAM names the stream written to, else plain. */
typedef enum base_log_style { BASE_LOG_STYLE_AUTO, BASE_LOG_STYLE_PLAIN, BASE_LOG_STYLE_JOURNAL } base_log_style;
void base_log_set_style(base_log_style style);
/* Where lines go (default stderr; NULL: stderr again). For tests. */
void base_log_set_output(FILE *out);

/* A password or token that must never reach the log: every later line has
 * "***" in its place. Strings shorter than 4 bytes are not kept (they would
 * blot out ordinary words). The copy is wiped by base_log_forget_secrets.
 * Returns 0, or -1 when the list is full or memory ran out. */
int base_log_add_secret(const char *secret);
void base_log_forget_secrets(void);

void base_log(int level, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* base_log with more context: fields is NULL, or pairs of key and value
 * ended by a NULL key, e.g. (const char *[]){"channel", "#c", "event", "join", NULL}.
 * A pair whose value is NULL is left out. */
void base_log_kv(int level, const char *who, const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
