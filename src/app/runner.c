#include "app/runner.h"

#include <signal.h>
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

static int read_networks(runner *r)
{
    r->irc = calloc(r->cfg->n_sections + 1, sizeof *r->irc);
    if (!r->irc)
        return -1;
    r->matrix = calloc(r->cfg->n_sections + 1, sizeof *r->matrix);
    if (!r->matrix)
        return -1;
    for (size_t i = 0; i < r->cfg->n_sections; i++) {
        const conf_section *s = &r->cfg->sections[i];
        base_error err;
        if (strcmp(s->kind, "irc") == 0) {
            irc_network_config nc;
            if (irc_network_config_read(r->cfg, s, &nc, &err) != BASE_OK) {
                base_log(BASE_LOG_ERROR, "careerbot", "%s", err.text);
                return -1;
            }
            irc_network *n = irc_network_new(r->loop, &nc, r->bot);
            if (!n) {
                base_log(BASE_LOG_ERROR, "careerbot", "out of memory");
                return -1;
            }
            r->irc[r->n_irc++] = n;
        } else if (strcmp(s->kind, "matrix") == 0) {
            matrix_network_config mc;
            if (matrix_network_config_read(r->cfg, s, &mc, &err) != BASE_OK) {
                base_log(BASE_LOG_ERROR, "careerbot", "%s", err.text);
                return -1;
            }
            matrix_network *m = matrix_network_new(r->loop, &mc, r->bot);
            if (!m) {
                base_log(BASE_LOG_ERROR, "careerbot", "cannot set up [matrix.%s]", s->name);
                return -1;
            }
            matrix_network_on_failure(m, network_failed, r);
            r->matrix[r->n_matrix++] = m;
        } else {
            base_log(BASE_LOG_ERROR, "careerbot", "%s:%d: [%s.%s]: this build has no %s support", r->cfg->path,
                   s->line, s->kind, s->name, s->kind);
            return -1;
        }
    }
    return 0;
}

int app_runner_check(const conf_config *cfg, FILE *out)
{
    size_t irc = 0, matrix = 0;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        const conf_section *s = &cfg->sections[i];
        base_error err;
        int rc = BASE_ERR;
        if (strcmp(s->kind, "irc") == 0) {
            irc_network_config nc;
            if ((rc = irc_network_config_read(cfg, s, &nc, &err)) == BASE_OK)
                irc_network_config_free(&nc), irc++;
        } else if (strcmp(s->kind, "matrix") == 0) {
            matrix_network_config mc;
            if ((rc = matrix_network_config_read(cfg, s, &mc, &err)) == BASE_OK)
                matrix_network_config_free(&mc), matrix++;
        } else {
            base_error_set(&err, "%s:%d: [%s.%s]: unknown kind of network", cfg->path, s->line, s->kind, s->name);
        }
        if (rc != BASE_OK) {
            fprintf(out, "%s\n", err.text);
            return 2;
        }
    }
    fprintf(out, "%s: %zu IRC network%s, %zu Matrix account%s: ok\n", cfg->path ? cfg->path : "defaults", irc,
            irc == 1 ? "" : "s", matrix, matrix == 1 ? "" : "s");
    return 0;
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
