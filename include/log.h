/* Log lines on stderr: "2026-11-25T08:00:00Z WARN irc.libera: text". */
#ifndef CB_LOG_H
#define CB_LOG_H

enum { CB_LOG_DEBUG, CB_LOG_INFO, CB_LOG_WARN, CB_LOG_ERROR };

/* Lines below this level are not written (default CB_LOG_INFO; the
 * environment variable CAREERBOT_DEBUG=1 lowers it to CB_LOG_DEBUG). */
void cb_log_set_level(int level);
void cb_log(int level, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
