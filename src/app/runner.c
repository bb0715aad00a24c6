/* The service: the networks of the configuration on one libuv loop, the
 * signals (SIGINT and SIGTERM stop, SIGHUP reloads the configuration and the
 * knowledge base, SIGUSR1 logs the status), systemd's notifications and
 * watchdog, and the metrics listener. */
#include "app/runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "app/metrics.h"
#include "app/netset.h"
#include "app/notify.h"
#include "app/status.h"
#include "base/log.h"
#include "base/str.h"

#define STOP_GRACE_MS 5000
#define STATUS_EVERY_MS 15000 /* STATUS= to systemd, when there is no watchdog to go with */

typedef struct runner {
    uv_loop_t *loop;
    const app_config_source *source;
    conf_config *cfg;            /* in force; replaced on a good SIGHUP */
    core_bot *bot;
    app_netset *nets;
    app_metrics *metrics;
    char *metrics_listen;        /* what it listens on, to see a change */
    uv_signal_t sigint, sigterm, sighup, sigusr1;
    uv_timer_t stop_timer, tick;
    int stopping;
    int status;                  /* exit status */
    double started;              /* Unix time */
    size_t reloads, reload_failures;
    char last_status[200];       /* the last STATUS= sent */
} runner;

static double wall_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* ---- status ------------------------------------------------------------------ */

/* The statuses of the networks, malloc'd (caller frees); *n their count. */
static chat_status *gather(runner *r, size_t *n, app_process_info *p)
{
    size_t count = app_netset_count(r->nets);
    chat_status *sts = calloc(count ? count : 1, sizeof *sts);
    *n = sts ? app_netset_status(r->nets, sts, count) : 0;
    memset(p, 0, sizeof *p);
    uv_update_time(r->loop);
    p->loop_now = (double)uv_now(r->loop) / 1000.0;
    p->wall_now = wall_now();
    p->started = r->started;
    p->version = CAREERBOT_VERSION;
    p->reloads = r->reloads;
    p->reload_failures = r->reload_failures;
    app_process_memory(&p->rss_bytes, &p->peak_bytes);
    return sts;
}

static void log_status(runner *r)
{
    size_t n;
    app_process_info p;
    chat_status *sts = gather(r, &n, &p);
    app_status_log(sts, n, &p);
    free(sts);
}

static int metrics_page(void *ctx, const char *path, base_strbuf *body, const char **content_type)
{
    runner *r = ctx;
    int metrics = strcmp(path, "/metrics") == 0;
    if (!metrics && strcmp(path, "/healthz") != 0)
        return 404;
    size_t n;
    app_process_info p;
    chat_status *sts = gather(r, &n, &p);
    int status = 200;
    if (metrics) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        app_status_prometheus(sts, n, &p, body);
    } else {
        status = app_status_health(sts, n, body);
    }
    free(sts);
    return status;
}

/* "2 of 3 networks connected" for systemctl status, sent when it changes. */
static void tell_systemd(runner *r)
{
    size_t n, up = 0;
    app_process_info p;
    chat_status *sts = gather(r, &n, &p);
    for (size_t i = 0; i < n; i++)
        up += sts[i].connected;
    free(sts);
    char text[sizeof r->last_status];
    snprintf(text, sizeof text, "%zu of %zu network%s connected", up, n, n == 1 ? "" : "s");
    if (strcmp(text, r->last_status) != 0) {
        memcpy(r->last_status, text, sizeof text);
        app_notify_status(text);
    }
}

/* The watchdog hears from the loop itself: a loop stuck anywhere stops the
 * pings, and systemd restarts the service. */
static void on_tick(uv_timer_t *t)
{
    runner *r = t->data;
    app_notify_watchdog();
    tell_systemd(r);
}

/* ---- metrics ------------------------------------------------------------------ */

static void metrics_update(runner *r, const char *listen)
{
    if ((listen == NULL) == (r->metrics_listen == NULL) && (!listen || strcmp(listen, r->metrics_listen) == 0))
        return; /* unchanged */
    if (r->metrics) {
        base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "metrics", NULL},
                    "no longer serving metrics on %s", r->metrics_listen);
        app_metrics_stop(r->metrics);
        r->metrics = NULL;
    }
    free(r->metrics_listen);
    r->metrics_listen = NULL;
    if (!listen)
        return;
    char host[64];
    int port;
    base_error err;
    if (conf_listen_split(listen, host, sizeof host, &port) != BASE_OK) {
        base_log(BASE_LOG_ERROR, "careerbot", "metrics_listen = %s: not an address and a port", listen);
        return;
    }
    r->metrics = app_metrics_start(r->loop, host, port, metrics_page, r, &err);
    if (!r->metrics) {
        base_log_kv(BASE_LOG_ERROR, "careerbot", (const char *[]){"event", "metrics", NULL}, "%s", err.text);
        return;
    }
    r->metrics_listen = base_strdup(listen);
    base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "metrics", "listen", listen, NULL},
                "serving /metrics and /healthz on %s", listen);
}

/* ---- stopping ------------------------------------------------------------------ */

static void close_all(runner *r)
{
    uv_timer_stop(&r->stop_timer);
    uv_timer_stop(&r->tick);
    uv_signal_stop(&r->sigint);
    uv_signal_stop(&r->sigterm);
    uv_signal_stop(&r->sighup);
    uv_signal_stop(&r->sigusr1);
    uv_stop(r->loop);
}

static void on_stop_timeout(uv_timer_t *t)
{
    base_log(BASE_LOG_WARN, "careerbot", "networks did not close in time; exiting anyway");
    close_all(t->data);
}

static void on_all_stopped(void *ctx)
{
    close_all(ctx);
}

static void stop(runner *r, const char *why)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    app_notify_stopping();
    base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "stop", NULL}, "%s: quitting", why);
    uv_timer_start(&r->stop_timer, on_stop_timeout, STOP_GRACE_MS, 0);
    app_netset_stop_all(r->nets);
}

/* A network stopped for good (a Matrix token refused): the others go on;
 * with none left, the process exits with an error. */
static void on_failed(void *ctx, const char *label)
{
    runner *r = ctx;
    if (!r->stopping && app_netset_alive(r->nets) == 0) {
        r->status = 1;
        stop(r, "no network left running");
    }
}

/* ---- reloading ------------------------------------------------------------------ */

/* The problems go to the log and, for an operator's !reload, to reply. */
static void log_problems(const conf_problems *p, base_strbuf *reply)
{
    for (size_t i = 0; i < p->n; i++) {
        base_log_kv(BASE_LOG_ERROR, "careerbot", (const char *[]){"event", "reload", NULL}, "%s", p->items[i].text);
        if (reply && i < 10)
            base_strbuf_addf(reply, "%s\n", p->items[i].text);
    }
    if (p->dropped)
        base_log(BASE_LOG_ERROR, "careerbot", "... and %zu more problems", p->dropped);
    if (reply && (p->n > 10 || p->dropped))
        base_strbuf_addf(reply, "... and %zu more problems (see the log)\n", p->n - (p->n > 10 ? 10 : p->n) + p->dropped);
}

/* [bot] settings the bot was made with: they take effect at the next start. */
static void note_restart_only(const conf_config *old, const conf_config *now)
{
    const char *changed[5];
    size_t n = 0;
    if (strcmp(old->command_prefixes, now->command_prefixes) != 0)
        changed[n++] = "command_prefixes";
    if (old->conversation_ttl != now->conversation_ttl)
        changed[n++] = "conversation_ttl";
    if (old->max_conversations != now->max_conversations)
        changed[n++] = "max_conversations";
    if (!base_str_eq_null(old->unanswered_log, now->unanswered_log))
        changed[n++] = "unanswered_log";
    if (old->unanswered_log_users != now->unanswered_log_users)
        changed[n++] = "unanswered_log_users";
    for (size_t i = 0; i < n; i++)
        base_log_kv(BASE_LOG_WARN, "careerbot", (const char *[]){"event", "reload", "key", changed[i], NULL},
                    "[bot] %s changed: it takes effect when careerbot is restarted", changed[i]);
}

static void refuse(runner *r, const char *why, base_strbuf *reply)
{
    r->reload_failures++;
    if (reply)
        base_strbuf_addf(reply, "Reload refused, the old configuration is kept: %s", why);
    base_log_kv(BASE_LOG_ERROR, "careerbot", (const char *[]){"event", "reload", NULL},
                "keeping the old configuration: %s", why);
}

/* SIGHUP or an operator's !reload (by names it in the log; reply gets what
 * an operator hears): the file again, then the knowledge base it names.
 * Nothing changes unless both are good; then the networks follow the new
 * file. */
static void reload(runner *r, const char *by, base_strbuf *reply)
{
    app_notify_reloading();
    base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "reload", NULL},
                "%s: reading %s and the knowledge base again", by, r->source->path ? r->source->path : "the defaults");
    conf_config *next = calloc(1, sizeof *next);
    conf_problems problems = {0};
    app_netset_plan *plan = NULL;
    core_kb *kb = NULL;
    base_error err;
    if (!next) {
        refuse(r, "out of memory", reply);
    } else if (app_config_read(r->source, next, &problems) != BASE_OK ||
               !(plan = app_netset_plan_read(next, &problems))) {
        if (reply)
            base_strbuf_add(reply, "Reload refused, the old configuration is kept. Problems:\n");
        log_problems(&problems, reply);
        refuse(r, "the new one has problems (above)", NULL);
    } else if (app_netset_plan_size(plan) == 0) {
        refuse(r, "the new one runs no network (every section is missing or has enabled = no)", reply);
    } else if (core_kb_load(next->knowledge, &kb, &err) != BASE_OK) {
        base_log(BASE_LOG_ERROR, "careerbot", "keeping the old knowledge base: %s", err.text);
        if (reply)
            base_strbuf_addf(reply, "%s\n", err.text);
        refuse(r, "its knowledge base does not load", reply);
    } else {
        size_t topics = kb->n_topics;
        if (core_bot_replace_kb(r->bot, kb, &err) != BASE_OK) {
            base_log(BASE_LOG_ERROR, "careerbot", "keeping the old knowledge base: %s", err.text);
            if (reply)
            base_strbuf_addf(reply, "%s\n", err.text);
        refuse(r, "its knowledge base does not load", reply);
        } else {
            base_log(BASE_LOG_INFO, "careerbot", "knowledge base reloaded: %zu topics", topics);
            note_restart_only(r->cfg, next);
            app_log_level_apply(r->source, next);
            metrics_update(r, next->metrics_listen);
            app_netset_changes c;
            if (app_netset_apply(r->nets, plan, &c) != BASE_OK)
                base_log(BASE_LOG_ERROR, "careerbot", "out of memory setting up a network");
            plan = NULL;
            conf_free(r->cfg);
            *r->cfg = *next; /* moved */
            memset(next, 0, sizeof *next);
            r->reloads++;
            char started[24], stopped[24], restarted[24], kept[24];
            snprintf(started, sizeof started, "%zu", c.started);
            snprintf(stopped, sizeof stopped, "%zu", c.stopped);
            snprintf(restarted, sizeof restarted, "%zu", c.restarted);
            snprintf(kept, sizeof kept, "%zu", c.kept);
            base_log_kv(BASE_LOG_INFO, "careerbot",
                        (const char *[]){"event", "reload", "started", started, "stopped", stopped, "restarted",
                                         restarted, "unchanged", kept, NULL},
                        "configuration reloaded");
            if (reply)
                base_strbuf_addf(reply, "Reloaded: %zu kept, %zu started, %zu stopped, %zu restarted; knowledge base: "
                                 "%zu topics.", c.kept, c.started, c.stopped, c.restarted, topics);
        }
    }
    app_netset_plan_free(plan);
    conf_problems_free(&problems);
    if (next)
        conf_free(next);
    free(next);
    r->last_status[0] = '\0';
    tell_systemd(r);
    app_notify_ready(r->last_status);
}

static void on_signal(uv_signal_t *s, int signum)
{
    runner *r = s->data;
    if (r->stopping)
        return;
    if (signum == SIGHUP)
        reload(r, "SIGHUP", NULL);
    else if (signum == SIGUSR1)
        log_status(r);
    else
        stop(r, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- operator commands (through the networks) ---------------------------------- */

static void op_status(void *ctx, base_strbuf *out)
{
    runner *r = ctx;
    size_t n;
    app_process_info p;
    chat_status *sts = gather(r, &n, &p);
    app_status_text(sts, n, &p, out);
    free(sts);
}

static void op_reload(void *ctx, base_strbuf *out)
{
    runner *r = ctx;
    if (r->stopping) {
        base_strbuf_add(out, "careerbot is stopping.");
        return;
    }
    reload(r, "an operator's !reload", out);
}

/* ---- the run ----------------------------------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void start_signal(runner *r, uv_signal_t *s, int signum)
{
    uv_signal_init(r->loop, s);
    s->data = r;
    uv_signal_start(s, on_signal, signum);
}

int app_runner_run(const app_runner_options *o)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.loop = uv_default_loop();
    r.source = o->source;
    r.cfg = o->cfg;
    r.bot = o->bot;
    r.started = wall_now();
    /* A peer closing its socket must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    conf_problems problems = {0};
    app_netset_plan *plan = app_netset_plan_read(r.cfg, &problems);
    if (!plan) {
        for (size_t i = 0; i < problems.n; i++)
            base_log(BASE_LOG_ERROR, "careerbot", "%s", problems.items[i].text);
        if (problems.dropped)
            base_log(BASE_LOG_ERROR, "careerbot", "... and %zu more problems", problems.dropped);
        conf_problems_free(&problems);
        return 2;
    }
    app_netset_hooks hooks = {&r, on_failed, on_all_stopped};
    r.nets = app_netset_new(r.loop, r.bot, &hooks);
    chat_op_hooks op = {&r, op_status, op_reload};
    if (r.nets)
        app_netset_set_operator_hooks(r.nets, &op);
    if (!r.nets) {
        app_netset_plan_free(plan);
        base_log(BASE_LOG_ERROR, "careerbot", "out of memory");
        return 1;
    }
    start_signal(&r, &r.sigint, SIGINT);
    start_signal(&r, &r.sigterm, SIGTERM);
    start_signal(&r, &r.sighup, SIGHUP);
    start_signal(&r, &r.sigusr1, SIGUSR1);
    uv_timer_init(r.loop, &r.stop_timer);
    uv_timer_init(r.loop, &r.tick);
    r.stop_timer.data = r.tick.data = &r;
    size_t n = app_netset_plan_size(plan);
    app_netset_changes c;
    if (app_netset_apply(r.nets, plan, &c) != BASE_OK)
        r.status = 1;
    metrics_update(&r, r.cfg->metrics_listen);
    base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "start", NULL}, "running %zu network%s", n,
                n == 1 ? "" : "s");
    uint64_t watchdog = app_notify_watchdog_usec();
    if (watchdog)
        uv_timer_start(&r.tick, on_tick, watchdog / 2000 ? watchdog / 2000 : 1, watchdog / 2000 ? watchdog / 2000 : 1);
    else if (getenv("NOTIFY_SOCKET"))
        uv_timer_start(&r.tick, on_tick, STATUS_EVERY_MS, STATUS_EVERY_MS);
    char ready[64];
    snprintf(ready, sizeof ready, "running %zu network%s", n, n == 1 ? "" : "s");
    app_notify_ready(ready);
    if (app_netset_alive(r.nets) == 0) /* nothing could be set up */
        stop(&r, "no network could start");
    uv_run(r.loop, UV_RUN_DEFAULT);
    /* Close what is left (handles of networks, signals, timers) and let the
     * close callbacks run, so memory is released before exit. */
    app_netset_free(r.nets);
    app_metrics_stop(r.metrics);
    free(r.metrics_listen);
    uv_walk(r.loop, close_walk, NULL);
    uv_run(r.loop, UV_RUN_DEFAULT);
    uv_loop_close(r.loop);
    base_log_kv(BASE_LOG_INFO, "careerbot", (const char *[]){"event", "stop", NULL}, "stopped");
    return r.status;
}
