#include "app/runner.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "irc/irc_network.h"
#include "base/log.h"
#include "matrix/matrix_network.h"

#define STOP_GRACE_MS 5000

typedef struct runner {
    uv_loop_t *loop;
    const conf_config *cfg;
    core_bot *bot;
    irc_network **irc;
    size_t n_irc;
    matrix_network **matrix;
    size_t n_matrix;
    size_t running;      /* networks not yet stopped */
    size_t alive;        /* networks that have not failed for good */
    int status;          /* exit status */
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t stop_timer;
    int stopping;
} runner;

static void close_all(runner *r);

static void network_done(void *ctx)
{
    runner *r = ctx;
    if (r->running > 0 && --r->running == 0)
        close_all(r);
}

static void on_stop_timeout(uv_timer_t *t)
{
    runner *r = t->data;
    base_log(BASE_LOG_WARN, "careerbot", "networks did not close in time; exiting anyway");
    close_all(r);
}

static void close_all(runner *r)
{
    uv_timer_stop(&r->stop_timer);
    uv_signal_stop(&r->sigint);
    uv_signal_stop(&r->sigterm);
    uv_signal_stop(&r->sighup);
    uv_stop(r->loop);
}

static void stop(runner *r, const char *why)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    base_log(BASE_LOG_INFO, "careerbot", "%s: quitting", why);
    uv_timer_start(&r->stop_timer, on_stop_timeout, STOP_GRACE_MS, 0);
    size_t n = r->n_irc;
    for (size_t i = 0; i < n; i++)
        irc_network_stop(r->irc[i], "careerbot is going offline", network_done, r);
    for (size_t i = 0; i < r->n_matrix; i++)
        matrix_network_stop(r->matrix[i], network_done, r);
}

/* A Matrix account stopped for good (e.g. its token was rejected): the
 * others go on; with none left, the process exits with an error. */
static void network_failed(void *ctx)
{
    runner *r = ctx;
    if (r->alive > 0 && --r->alive == 0) {
        r->status = 1;
        stop(r, "no network left running");
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    runner *r = s->data;
    if (signum == SIGHUP) {
        core_kb *kb;
        base_error err;
        base_log(BASE_LOG_INFO, "careerbot", "SIGHUP: reloading the knowledge base from %s", r->cfg->knowledge);
        if (core_kb_load(r->cfg->knowledge, &kb, &err) != BASE_OK) {
            base_log(BASE_LOG_ERROR, "careerbot", "keeping the old knowledge base: %s", err.text);
            return;
        }
        size_t topics = kb->n_topics;
        if (core_bot_replace_kb(r->bot, kb, &err) != BASE_OK) {
            base_log(BASE_LOG_ERROR, "careerbot", "keeping the old knowledge base: %s", err.text);
            return;
        }
        base_log(BASE_LOG_INFO, "careerbot", "knowledge base reloaded: %zu topics", topics);
        return;
    }
    stop(r, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Every section is read before anything connects, and every problem is
 * logged, not only the first. */
static int read_networks(runner *r)
{
    const conf_config *cfg = r->cfg;
    size_t n = cfg->n_sections;
    r->irc = calloc(n + 1, sizeof *r->irc);
    r->matrix = calloc(n + 1, sizeof *r->matrix);
    irc_network_config *ircs = calloc(n + 1, sizeof *ircs);
    matrix_network_config *mxs = calloc(n + 1, sizeof *mxs);
    size_t n_irc = 0, n_mx = 0;
    conf_problems problems = {0};
    int rc = r->irc && r->matrix && ircs && mxs ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const conf_section *s = &cfg->sections[i];
        if (strcmp(s->kind, "irc") == 0 &&
            conf_section_read(cfg, s, &irc_network_schema, &ircs[n_irc], &problems) == BASE_OK)
            n_irc++;
        else if (strcmp(s->kind, "matrix") == 0 &&
                 conf_section_read(cfg, s, &matrix_network_schema, &mxs[n_mx], &problems) == BASE_OK)
            n_mx++;
    }
    if (rc != 0)
        base_log(BASE_LOG_ERROR, "careerbot", "out of memory");
    else if (conf_problems_count(&problems) > 0)
        rc = -1;
    for (size_t i = 0; i < problems.n; i++)
        base_log(BASE_LOG_ERROR, "careerbot", "%s", problems.items[i].text);
    if (problems.dropped)
        base_log(BASE_LOG_ERROR, "careerbot", "... and %zu more problems", problems.dropped);
    conf_problems_free(&problems);
    /* The networks take their settings over (and free them when they fail). */
    for (size_t i = 0; i < n_irc; i++) {
        irc_network *net = rc == 0 ? irc_network_new(r->loop, &ircs[i], r->bot) : NULL;
        if (rc == 0 && !net) {
            base_log(BASE_LOG_ERROR, "careerbot", "out of memory");
            rc = -1;
        } else if (net) {
            r->irc[r->n_irc++] = net;
        } else {
            irc_network_config_free(&ircs[i]);
        }
    }
    for (size_t i = 0; i < n_mx; i++) {
        char name[80];
        snprintf(name, sizeof name, "%.64s", mxs[i].name);
        matrix_network *m = rc == 0 ? matrix_network_new(r->loop, &mxs[i], r->bot) : NULL;
        if (rc == 0 && !m) {
            base_log(BASE_LOG_ERROR, "careerbot", "cannot set up [matrix.%s]", name);
            rc = -1;
        } else if (m) {
            matrix_network_on_failure(m, network_failed, r);
            r->matrix[r->n_matrix++] = m;
        } else {
            matrix_network_config_free(&mxs[i]);
        }
    }
    free(ircs);
    free(mxs);
    return rc;
}

static void free_networks(runner *r)
{
    for (size_t i = 0; i < r->n_irc; i++)
        irc_network_free(r->irc[i]);
    free(r->irc);
    for (size_t i = 0; i < r->n_matrix; i++)
        matrix_network_free(r->matrix[i]);
    free(r->matrix);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int app_runner_run(const conf_config *cfg, core_bot *bot)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.loop = uv_default_loop();
    r.cfg = cfg;
    r.bot = bot;
    /* A peer closing its socket must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (read_networks(&r) != 0) {
        free_networks(&r);
        return 2;
    }
    uv_signal_init(r.loop, &r.sigint);
    uv_signal_init(r.loop, &r.sigterm);
    uv_signal_init(r.loop, &r.sighup);
    uv_timer_init(r.loop, &r.stop_timer);
    r.sigint.data = r.sigterm.data = r.sighup.data = r.stop_timer.data = &r;
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);
    uv_signal_start(&r.sighup, on_signal, SIGHUP);
    r.running = r.n_irc;
    for (size_t i = 0; i < r.n_irc; i++)
        irc_network_start(r.irc[i]);
    r.running += r.n_matrix;
    for (size_t i = 0; i < r.n_matrix; i++)
        matrix_network_start(r.matrix[i]);
    r.alive = r.running;
    base_log(BASE_LOG_INFO, "careerbot", "running %zu network%s", r.running, r.running == 1 ? "" : "s");
    uv_run(r.loop, UV_RUN_DEFAULT);
    /* Close what is left (handles of networks, signals, timers) and let the
     * close callbacks run, so memory is released before exit. */
    free_networks(&r);
    uv_close((uv_handle_t *)&r.sigint, NULL);
    uv_close((uv_handle_t *)&r.sigterm, NULL);
    uv_close((uv_handle_t *)&r.sighup, NULL);
    uv_close((uv_handle_t *)&r.stop_timer, NULL);
    uv_walk(r.loop, close_walk, NULL);
    uv_run(r.loop, UV_RUN_DEFAULT);
    uv_loop_close(r.loop);
    base_log(BASE_LOG_INFO, "careerbot", "stopped");
    return r.status;
}
