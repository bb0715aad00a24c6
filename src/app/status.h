/* The operator's view of a running bot, from the networks' chat_status:
 * one log line per network (SIGUSR1), Prometheus text for /metrics, and the
 * /healthz answer. Pure: the caller gathers the statuses and the clocks. */
#ifndef APP_STATUS_H
#define APP_STATUS_H

#include <stddef.h>

#include "base/strbuf.h"
#include "chat/status.h"

typedef struct app_process_info {
    double loop_now;      /* the loop's clock now (seconds), which chat_status times are on */
    double wall_now;      /* the same moment as Unix time */
    double started;       /* Unix time the process started */
    size_t rss_bytes;     /* resident memory now; 0: unknown */
    size_t peak_bytes;    /* its peak; 0: unknown */
    const char *version;
    size_t reloads;       /* configurations applied by SIGHUP */
    size_t reload_failures; /* configurations refused */
} app_process_info;

/* Reads the resident set and its peak from /proc/self/status (0 when it
 * cannot be read). */
void app_process_memory(size_t *rss_bytes, size_t *peak_bytes);

/* A loop-clock time as Unix time (0 stays 0: never). */
double app_status_wall(const app_process_info *p, double loop_time);

/* Logs one line per network, "event=status network=irc.NAME connected=yes
 * since=... lag=0.120 channels=2/3 answered=..", then one for the process
 * (memory, uptime). */
void app_status_log(const chat_status *sts, size_t n, const app_process_info *p);

/* The same lines as text, one per line ("irc.NAME: connected since ...
 * (connected=yes state=online ...)"), for an operator's !status. */
void app_status_text(const chat_status *sts, size_t n, const app_process_info *p, base_strbuf *out);

/* Prometheus text exposition format (version 0.0.4). */
void app_status_prometheus(const chat_status *sts, size_t n, const app_process_info *p, base_strbuf *out);

/* /healthz: 200 when every network is connected, else 503 (a network still
 * connecting, retrying or failed), with one line per network in out. */
int app_status_health(const chat_status *sts, size_t n, base_strbuf *out);

#endif
