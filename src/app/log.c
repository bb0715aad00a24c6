#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int min_level = -1;

void cb_log_set_level(int level)
{
    min_level = level;
}

void cb_log(int level, const char *who, const char *fmt, ...)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (min_level < 0) {
        const char *d = getenv("CAREERBOT_DEBUG");
        min_level = d && *d && *d != '0' ? CB_LOG_DEBUG : CB_LOG_INFO;
    }
    if (level < min_level)
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
    fprintf(stderr, "%s %s %s: %s\n", stamp, names[level < 0 ? 0 : level > 3 ? 3 : level], who, text);
}
