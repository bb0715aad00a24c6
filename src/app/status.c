#include "app/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

void app_process_memory(size_t *rss_bytes, size_t *peak_bytes)
{
    *rss_bytes = *peak_bytes = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    unsigned long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %lu kB", &kb) == 1)
            *rss_bytes = (size_t)kb * 1024;
        else if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
            *peak_bytes = (size_t)kb * 1024;
    }
    fclose(f);
}

double app_status_wall(const app_process_info *p, double loop_time)
{
    return loop_time > 0 ? p->wall_now - (p->loop_now - loop_time) : 0;
}

static void iso_time(double t, char *buf, size_t cap)
{
    if (t <= 0) {
        snprintf(buf, cap, "never");
        return;
    }
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One network's fields, as the log line and the !status reply show them. */
typedef struct network_line {
    char network[96], since[32], lag[32], heard[32], rooms[48], queue[48], answered[24], declined[24],
        clarified[24], other[24], busy[24];
    const char *kv[32];
} network_line;

static void network_fields(const chat_status *st, const app_process_info *p, network_line *l)
{
    snprintf(l->network, sizeof l->network, "%s.%s", st->kind, st->name);
    iso_time(app_status_wall(p, st->since), l->since, sizeof l->since);
    if (st->lag >= 0)
        snprintf(l->lag, sizeof l->lag, "%.3f", st->lag);
    else
        snprintf(l->lag, sizeof l->lag, "-");
    if (st->last_heard > 0)
        snprintf(l->heard, sizeof l->heard, "%.0f", p->loop_now - st->last_heard);
    else
        snprintf(l->heard, sizeof l->heard, "-");
    if (st->rooms_wanted)
        snprintf(l->rooms, sizeof l->rooms, "%zu/%zu", st->rooms, st->rooms_wanted);
    else
        snprintf(l->rooms, sizeof l->rooms, "%zu", st->rooms);
    snprintf(l->queue, sizeof l->queue, "%zu/%zu", st->queued, st->queue_max);
    snprintf(l->answered, sizeof l->answered, "%zu", st->counts.answered);
    snprintf(l->declined, sizeof l->declined, "%zu", st->counts.declined);
    snprintf(l->clarified, sizeof l->clarified, "%zu", st->counts.clarified);
    snprintf(l->other, sizeof l->other, "%zu", st->counts.other);
    snprintf(l->busy, sizeof l->busy, "%zu", st->counts.busy);
    int irc = strcmp(st->kind, "irc") == 0;
    const char *kv[] = {"event", "status", "connected", st->connected ? "yes" : "no", "state", st->state,
                        "since", l->since, "lag", l->lag, "heard_s_ago", l->heard, irc ? "channels" : "rooms",
                        l->rooms, "answered", l->answered, "declined", l->declined, "clarified", l->clarified,
                        "other", l->other, "busy", l->busy, "queue", l->queue, NULL};
    memcpy(l->kv, kv, sizeof kv);
}

/* The process's fields; *text gets the line's text. */
typedef struct process_line {
    char rss[32], peak[32], uptime[32], networks[48], started[32], text[160];
    const char *kv[16];
} process_line;

static void process_fields(const chat_status *sts, size_t n, const app_process_info *p, process_line *l)
{
    size_t up = 0;
    for (size_t i = 0; i < n; i++)
        up += sts[i].connected;
    snprintf(l->rss, sizeof l->rss, "%.1fMiB", p->rss_bytes / 1048576.0);
    snprintf(l->peak, sizeof l->peak, "%.1fMiB", p->peak_bytes / 1048576.0);
    snprintf(l->uptime, sizeof l->uptime, "%.0f", p->wall_now - p->started);
    snprintf(l->networks, sizeof l->networks, "%zu/%zu", up, n);
    iso_time(p->started, l->started, sizeof l->started);
    snprintf(l->text, sizeof l->text, "%zu of %zu network%s connected; up since %s", up, n, n == 1 ? "" : "s",
             l->started);
    const char *kv[] = {"event", "status", "connected", l->networks, "rss", l->rss, "peak_rss", l->peak,
                        "uptime_s", l->uptime, NULL};
    memcpy(l->kv, kv, sizeof kv);
}

void app_status_log(const chat_status *sts, size_t n, const app_process_info *p)
{
    network_line l;
    for (size_t i = 0; i < n; i++) {
        network_fields(&sts[i], p, &l);
        base_log_kv(BASE_LOG_INFO, l.network, l.kv, "%s since %s", sts[i].connected ? "connected" : sts[i].state,
                    l.since);
    }
    process_line pl;
    process_fields(sts, n, p, &pl);
    base_log_kv(BASE_LOG_INFO, "careerbot", pl.kv, "%s", pl.text);
}

/* "name: text (key=value ...)", the event key left out. */
static void text_line(base_strbuf *out, const char *name, const char *text, const char *const *kv)
{
    base_strbuf_addf(out, "%s: %s (", name, text);
    for (size_t i = 2; kv[i]; i += 2)
        base_strbuf_addf(out, "%s%s=%s", i > 2 ? " " : "", kv[i], kv[i + 1]);
    base_strbuf_add(out, ")\n");
}

void app_status_text(const chat_status *sts, size_t n, const app_process_info *p, base_strbuf *out)
{
    network_line l;
    char text[96];
    for (size_t i = 0; i < n; i++) {
        network_fields(&sts[i], p, &l);
        snprintf(text, sizeof text, "%s since %s", sts[i].connected ? "connected" : sts[i].state, l.since);
        text_line(out, l.network, text, l.kv);
    }
    process_line pl;
    process_fields(sts, n, p, &pl);
    text_line(out, "careerbot", pl.text, pl.kv);
}

/* ---- Prometheus ------------------------------------------------------------------ */

static void label_value(base_strbuf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            base_strbuf_addf(out, "\\%c", *v);
        else if (*v == '\n')
            base_strbuf_add(out, "\\n");
        else
            base_strbuf_addn(out, v, 1);
    }
}

static void metric_head(base_strbuf *out, const char *name, const char *type, const char *help)
{
    base_strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void network_labels(base_strbuf *out, const chat_status *st)
{
    base_strbuf_add(out, "{network=\"");
    label_value(out, st->kind);
    base_strbuf_add(out, ".");
    label_value(out, st->name);
    base_strbuf_addf(out, "\",kind=\"%s\"", st->kind);
}

/* One gauge or counter with a value per network. */
static void per_network(base_strbuf *out, const chat_status *sts, size_t n, const char *name, const char *type,
                        const char *help, double (*value)(const chat_status *, const app_process_info *),
                        const app_process_info *p)
{
    metric_head(out, name, type, help);
    for (size_t i = 0; i < n; i++) {
        double v = value(&sts[i], p);
        if (isnan(v)) /* this network has no such value */
            continue;
        base_strbuf_add(out, name);
        network_labels(out, &sts[i]);
        base_strbuf_addf(out, "} %.15g\n", v);
    }
}

static double v_connected(const chat_status *s, const app_process_info *p)
{
    return s->connected;
}

static double v_since(const chat_status *s, const app_process_info *p)
{
    return app_status_wall(p, s->since);
}

static double v_lag(const chat_status *s, const app_process_info *p)
{
    return s->lag >= 0 ? s->lag : NAN;
}

static double v_rooms(const chat_status *s, const app_process_info *p)
{
    return (double)s->rooms;
}

static double v_queued(const chat_status *s, const app_process_info *p)
{
    return (double)s->queued;
}

static double v_queue_max(const chat_status *s, const app_process_info *p)
{
    return (double)s->queue_max;
}

void app_status_prometheus(const chat_status *sts, size_t n, const app_process_info *p, base_strbuf *out)
{
    metric_head(out, "careerbot_build_info", "gauge", "The running version.");
    base_strbuf_add(out, "careerbot_build_info{version=\"");
    label_value(out, p->version ? p->version : "");
    base_strbuf_add(out, "\"} 1\n");
    metric_head(out, "careerbot_start_time_seconds", "gauge", "When the process started (Unix time).");
    base_strbuf_addf(out, "careerbot_start_time_seconds %.3f\n", p->started);
    metric_head(out, "careerbot_resident_memory_bytes", "gauge", "Resident memory of the process.");
    base_strbuf_addf(out, "careerbot_resident_memory_bytes %zu\n", p->rss_bytes);
    metric_head(out, "careerbot_resident_memory_peak_bytes", "gauge", "Peak resident memory of the process.");
    base_strbuf_addf(out, "careerbot_resident_memory_peak_bytes %zu\n", p->peak_bytes);
    metric_head(out, "careerbot_config_reloads_total", "counter", "Configurations applied on SIGHUP.");
    base_strbuf_addf(out, "careerbot_config_reloads_total %zu\n", p->reloads);
    metric_head(out, "careerbot_config_reload_failures_total", "counter",
                "Configurations refused on SIGHUP (the old one was kept).");
    base_strbuf_addf(out, "careerbot_config_reload_failures_total %zu\n", p->reload_failures);
    per_network(out, sts, n, "careerbot_network_connected", "gauge",
                "1 when the network is connected (IRC: registered; Matrix: syncing).", v_connected, p);
    per_network(out, sts, n, "careerbot_network_state_since_seconds", "gauge",
                "When the network became connected or disconnected (Unix time).", v_since, p);
    per_network(out, sts, n, "careerbot_network_lag_seconds", "gauge", "The last PING round trip (IRC).", v_lag, p);
    per_network(out, sts, n, "careerbot_network_rooms_joined", "gauge", "Channels or rooms joined.", v_rooms, p);
    per_network(out, sts, n, "careerbot_network_queue_length", "gauge", "Lines or replies waiting to be sent.",
                v_queued, p);
    per_network(out, sts, n, "careerbot_network_queue_capacity", "gauge", "The most that may wait.", v_queue_max, p);
    metric_head(out, "careerbot_replies_total", "counter",
                "Replies sent since start, by kind (answered, declined, clarified, other), and busy notices.");
    for (size_t i = 0; i < n; i++) {
        const chat_gate_counts *c = &sts[i].counts;
        const struct {
            const char *kind;
            size_t n;
        } rows[] = {{"answered", c->answered}, {"declined", c->declined}, {"clarified", c->clarified},
                    {"other", c->other},       {"busy", c->busy}};
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
            base_strbuf_add(out, "careerbot_replies_total");
            network_labels(out, &sts[i]);
            base_strbuf_addf(out, ",reply=\"%s\"} %zu\n", rows[r].kind, rows[r].n);
        }
    }
}

int app_status_health(const chat_status *sts, size_t n, base_strbuf *out)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        ok = ok && sts[i].connected;
        base_strbuf_addf(out, "%s.%s %s\n", sts[i].kind, sts[i].name, sts[i].connected ? "ok" : sts[i].state);
    }
    base_strbuf_add(out, ok ? "ok\n" : "degraded\n");
    return ok ? 200 : 503;
}
