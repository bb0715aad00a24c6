#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int max_level = -1; /* the least important level written */

void base_log_set_level(int level)
{
    max_level = level;
}

static const char *level_name(int level)
{
    switch (level) {
    case BASE_LOG_ERROR:
        return "ERROR";
    case BASE_LOG_WARN:
        return "WARN";
    case BASE_LOG_NOTICE:
        return "NOTICE";
    case BASE_LOG_INFO:
        return "INFO";
    default:
        return level < BASE_LOG_ERROR ? "ERROR" : "DEBUG";
    }
}

void base_log(int level, const char *who, const char *fmt, ...)
{
    if (max_level < 0) {
        const char *d = getenv("CAREERBOT_DEBUG");
        max_level = d && *d && *d != '0' ? BASE_LOG_DEBUG : BASE_LOG_INFO;
    }
    if (level > max_level)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One fprintf per line, so lines from different parts never interleave. */
    fprintf(stderr, "%s %s %s: %s\n", stamp, level_name(level), who, text);
}
