/* Log lines on stderr: "2026-11-25T08:00:00Z WARN irc.libera: text".
 * The one set of levels for the whole program; the values are syslog's
 * priorities, so they can go to journald as they are. */
#ifndef BASE_LOG_H
#define BASE_LOG_H

typedef enum base_log_level {
    BASE_LOG_ERROR = 3,
    BASE_LOG_WARN = 4,
    BASE_LOG_NOTICE = 5,
    BASE_LOG_INFO = 6,
    BASE_LOG_DEBUG = 7,
} base_log_level;

/* Lines less important than this level are not written (default
 * BASE_LOG_INFO; the environment variable CAREERBOT_DEBUG=1 makes it
 * BASE_LOG_DEBUG). */
void base_log_set_level(int level);
void base_log(int level, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
