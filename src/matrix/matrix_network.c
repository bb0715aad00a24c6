/* One Matrix account: the lifecycle. Start checks the token with
 * /account/whoami (or logs in with the password), creates the sync filter,
 * then long-polls /sync for ever; each batch goes to matrix_batch.c. A 401
 * anywhere leads back to a login when there is a password, or stops this
 * account (only) when there is none. Stop lets replies in flight finish,
 * tears down HTTP, and writes the state one last time. */
#include "matrix/matrix_internal.h"

#include "base/str.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "matrix/matrix_api.h"

#define REQUEST_TIMEOUT 30.0   /* seconds, for everything but /sync */
#define SYNC_MARGIN 30.0       /* a long-poll may take this much over its timeout */
#define INITIAL_TIMELINE 1     /* the first sync answers nothing: one event per room is plenty */
#define LIVE_TIMELINE 30       /* later ones: enough to cover a short absence */
#define STOP_GRACE_MS 2000     /* replies in flight get this long to finish on stop */

static void run_phase(matrix_network *n);

double mx_now(const matrix_network *n)
{
    return (double)uv_now(n->loop) / 1000.0;
}

double mx_jitter(void)
{
    return (double)rand() / RAND_MAX;
}

char *mx_escape(const char *s)
{
    return net_http_escape(s);
}

/* ---- requests ---------------------------------------------------------------- */

static void on_http_done(void *ctx, const net_http_response *resp)
{
    mx_request *rq = ctx;
    matrix_network *n = rq->n;
    if (!n->freeing && !n->http_closing) {
        matrix_result r;
        matrix_classify(resp->status, resp->body, resp->body_len, resp->retry_after, resp->error, &r);
        rq->done(n, rq, &r, resp->body ? resp->body : "", resp->body ? resp->body_len : 0);
    }
    free(rq->data);
    free(rq);
}

uint64_t mx_call(matrix_network *n, const char *method, const char *path, const char *body, double timeout,
                 mx_done_fn done, const char *data)
{
    if (!n->http || n->http_closing)
        return 0;
    size_t url_len = strlen(n->cfg.homeserver) + strlen(path) + 32;
    char *url = malloc(url_len);
    mx_request *rq = calloc(1, sizeof *rq);
    if (!url || !rq || (data && !(rq->data = base_strdup(data)))) {
        free(url);
        if (rq)
            free(rq->data);
        free(rq);
        base_log(BASE_LOG_ERROR, n->who, "out of memory starting a request");
        return 0;
    }
    snprintf(url, url_len, "%s/_matrix/client/v3%s", n->cfg.homeserver, path);
    rq->n = n;
    rq->done = done;
    rq->seq = n->phase_seq;
    rq->token_gen = n->token_gen;
    net_http_request req = {method, url, n->token, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
                           timeout};
    uint64_t id = net_http_send(n->http, &req, on_http_done, rq);
    if (id == 0) {
        /* The path is safe to log: ids only, never the token. */
        base_log(BASE_LOG_ERROR, n->who, "could not start %s %s", method, path);
        free(rq->data);
        free(rq);
    }
    free(url);
    return id;
}

/* ---- failure ----------------------------------------------------------------- */

static void on_failed_timer(uv_timer_t *t)
{
    matrix_network *n = t->data;
    if (n->failed_cb && !n->failed_reported) {
        n->failed_reported = 1;
        n->failed_cb(n->failed_ctx);
    }
}

void mx_fail(matrix_network *n, const char *why)
{
    if (n->phase == MX_FAILED)
        return;
    base_log(BASE_LOG_ERROR, n->who, "%s; this Matrix account stops (other networks keep running)", why);
    n->phase = MX_FAILED;
    n->phase_seq++;
    n->authorized = 0;
    if (n->phase_req)
        net_http_cancel(n->http, n->phase_req);
    n->phase_req = 0;
    uv_timer_stop(&n->pump_timer);
    /* Tell the runner from a fresh loop turn, not from inside a callback. */
    if (!n->stopping)
        uv_timer_start(&n->phase_timer, on_failed_timer, 0, 0);
}

/* ---- the phases: login, whoami, filter, sync ----------------------------------- */

static void on_phase_timer(uv_timer_t *t)
{
    run_phase(t->data);
}

static void enter(matrix_network *n, int phase)
{
    n->phase = phase;
    n->attempt = 0;
    run_phase(n);
}

/* Waits before the next try of the phase's request. */
static void retry_phase(matrix_network *n, const matrix_result *r, const char *what)
{
    double delay = matrix_retry_delay(r, n->attempt, mx_jitter());
    n->attempt++;
    base_log(r->kind == MATRIX_RATE_LIMITED ? BASE_LOG_INFO : BASE_LOG_WARN, n->who, "%s: %s%s%s; retrying in %.1f s",
           what, r->errcode, r->errcode[0] ? " " : "", r->error, delay);
    uv_timer_start(&n->phase_timer, on_phase_timer, (uint64_t)(delay * 1000), 0);
}

/* A phase request's answer, unless it was abandoned meanwhile. */
static int current(matrix_network *n, const mx_request *rq)
{
    if (rq->seq != n->phase_seq || n->stopping || n->phase == MX_FAILED)
        return 0;
    n->phase_req = 0;
    return 1;
}

/* Common handling of errors; returns 1 when r was an error (handled). */
static int phase_error(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *what)
{
    if (r->kind == MATRIX_OK)
        return 0;
    if (r->kind == MATRIX_UNAUTHORIZED) {
        if (mx_unauthorized(n, rq, r))
            run_phase(n); /* sent with a token replaced since: again with the new one */
    } else
        retry_phase(n, r, what);
    return 1;
}

static json_t *parse_object(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, JSON_DECODE_INT_AS_REAL, NULL);
    if (root && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static void bad_response(matrix_network *n, const char *what)
{
    matrix_result r = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
    snprintf(r.error, sizeof r.error, "the response is not the JSON the spec describes");
    retry_phase(n, &r, what);
}

static void after_authorized(matrix_network *n);

static void on_login(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body, size_t len)
{
    if (!current(n, rq))
        return;
    if (r->kind == MATRIX_FAILED) {
        char why[400];
        snprintf(why, sizeof why, "login as %s failed: %s %s (check the password)", n->cfg.user_id, r->errcode,
                 r->error);
        mx_fail(n, why);
        return;
    }
    if (r->kind == MATRIX_UNAUTHORIZED) {
        mx_fail(n, "login refused (M_UNKNOWN_TOKEN)");
        return;
    }
    if (phase_error(n, rq, r, "login"))
        return;
    json_t *root = parse_object(body, len);
    const char *token = json_string_value(json_object_get(root, "access_token"));
    const char *device = json_string_value(json_object_get(root, "device_id"));
    const char *user = json_string_value(json_object_get(root, "user_id"));
    if (!token || !*token) {
        json_decref(root);
        bad_response(n, "login");
        return;
    }
    if (user && strcmp(user, n->cfg.user_id) != 0) {
        char why[600];
        snprintf(why, sizeof why, "logged in as %.250s, but user_id is %.250s", user, n->cfg.user_id);
        json_decref(root);
        mx_fail(n, why);
        return;
    }
    base_secret_free(n->token);
    n->token = base_strdup(token);
    n->token_gen++;
    if (device && (!n->state.device_id || strcmp(device, n->state.device_id) != 0)) {
        free(n->state.device_id);
        n->state.device_id = base_strdup(device);
        mx_save_state(n);
    }
    json_decref(root);
    if (!n->token) {
        mx_fail(n, "out of memory");
        return;
    }
    base_log(BASE_LOG_INFO, n->who, "logged in as %s (device %s)", n->cfg.user_id,
           n->state.device_id ? n->state.device_id : "?");
    after_authorized(n);
}

static void start_login(matrix_network *n)
{
    const char *device = n->cfg.device_id ? n->cfg.device_id : n->state.device_id;
    char *body = matrix_login_body(n->cfg.user_id, n->cfg.password, device, "careerbot");
    if (!body) {
        mx_fail(n, "cannot build the login request (is the password valid UTF-8?)");
        return;
    }
    n->phase_req = mx_call(n, "POST", "/login", body, REQUEST_TIMEOUT, on_login, NULL);
    base_secret_free(body);
}

static void on_whoami(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body, size_t len)
{
    if (!current(n, rq))
        return;
    if (r->kind == MATRIX_FAILED) {
        char why[400];
        snprintf(why, sizeof why, "the homeserver rejected the access token check: %s %s", r->errcode, r->error);
        mx_fail(n, why);
        return;
    }
    if (phase_error(n, rq, r, "whoami"))
        return;
    json_t *root = parse_object(body, len);
    const char *user = json_string_value(json_object_get(root, "user_id"));
    const char *device = json_string_value(json_object_get(root, "device_id"));
    if (!user) {
        json_decref(root);
        bad_response(n, "whoami");
        return;
    }
    if (strcmp(user, n->cfg.user_id) != 0) {
        char why[600];
        snprintf(why, sizeof why, "the access token belongs to %.250s, but user_id is %.250s", user,
                 n->cfg.user_id);
        json_decref(root);
        mx_fail(n, why);
        return;
    }
    if (device && (!n->state.device_id || strcmp(device, n->state.device_id) != 0)) {
        free(n->state.device_id);
        n->state.device_id = base_strdup(device);
        mx_save_state(n);
    }
    json_decref(root);
    base_log(BASE_LOG_INFO, n->who, "access token checked: %s", n->cfg.user_id);
    after_authorized(n);
}

static void on_filter(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body, size_t len)
{
    if (!current(n, rq))
        return;
    if (r->kind == MATRIX_FAILED) {
        /* A server without filter storage still takes the filter inline. */
        base_log(BASE_LOG_WARN, n->who, "cannot create a sync filter (%s %s); sending it with each sync",
               r->errcode, r->error);
        enter(n, MX_SYNC);
        return;
    }
    if (phase_error(n, rq, r, "creating the sync filter"))
        return;
    json_t *root = parse_object(body, len);
    const char *id = json_string_value(json_object_get(root, "filter_id"));
    if (!id || !*id) {
        json_decref(root);
        bad_response(n, "creating the sync filter");
        return;
    }
    free(n->filter_id);
    n->filter_id = base_strdup(id);
    json_decref(root);
    enter(n, MX_SYNC);
}

static void on_sync(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body, size_t len)
{
    if (!current(n, rq))
        return;
    if (r->kind == MATRIX_FAILED) {
        /* A filter the server forgot, or a since token it no longer knows:
         * make a new filter and try again after a pause. */
        free(n->filter_id);
        n->filter_id = NULL;
        n->phase = MX_FILTER;
        retry_phase(n, r, "sync");
        return;
    }
    if (phase_error(n, rq, r, "sync"))
        return;
    matrix_sync s;
    base_error err;
    if (matrix_sync_parse(body, len, n->cfg.user_id, &s, &err) != BASE_OK) {
        matrix_result bad = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
        snprintf(bad.error, sizeof bad.error, "response skipped: %.170s", err.text);
        retry_phase(n, &bad, "sync");
        return;
    }
    if (s.skipped)
        base_log(BASE_LOG_WARN, n->who, "sync: left out %zu malformed part%s (first: %s)", s.skipped,
               s.skipped == 1 ? "" : "s", s.first_skip);
    n->attempt = 0;
    if (!n->sync_live)
        base_log(BASE_LOG_INFO, n->who, "first sync: %zu room%s; answering new messages from now on", s.n_joined_rooms,
               s.n_joined_rooms == 1 ? "" : "s");
    mx_handle_batch(n, &s, n->sync_live);
    matrix_sync_free(&s);
    run_phase(n);
}

static void start_sync(matrix_network *n)
{
    char *filter = NULL, *since = NULL, *inline_filter = NULL;
    n->sync_live = n->state.next_batch != NULL;
    if (n->sync_live && n->filter_id)
        filter = mx_escape(n->filter_id);
    else {
        inline_filter = matrix_filter_json(n->sync_live ? LIVE_TIMELINE : INITIAL_TIMELINE);
        filter = inline_filter ? mx_escape(inline_filter) : NULL;
    }
    if (n->sync_live)
        since = mx_escape(n->state.next_batch);
    size_t cap = (filter ? strlen(filter) : 0) + (since ? strlen(since) : 0) + 64;
    char *path = malloc(cap);
    if (!filter || (n->sync_live && !since) || !path) {
        free(filter), free(since), free(inline_filter), free(path);
        mx_fail(n, "out of memory");
        return;
    }
    /* The first sync returns at once (timeout 0): it is only recorded. */
    long timeout_ms = n->sync_live ? (long)(n->cfg.sync_timeout * 1000) : 0;
    snprintf(path, cap, "/sync?filter=%s&timeout=%ld%s%s", filter, timeout_ms, since ? "&since=" : "",
             since ? since : "");
    n->phase_req = mx_call(n, "GET", path, NULL, n->cfg.sync_timeout + SYNC_MARGIN, on_sync, NULL);
    free(filter), free(since), free(inline_filter), free(path);
}

static void run_phase(matrix_network *n)
{
    if (n->stopping || n->phase == MX_FAILED)
        return;
    char *user = NULL, *path = NULL;
    switch (n->phase) {
    case MX_LOGIN:
        start_login(n);
        break;
    case MX_WHOAMI:
        n->phase_req = mx_call(n, "GET", "/account/whoami", NULL, REQUEST_TIMEOUT, on_whoami, NULL);
        break;
    case MX_FILTER: {
        char *filter = matrix_filter_json(LIVE_TIMELINE);
        user = mx_escape(n->cfg.user_id);
        size_t cap = user ? strlen(user) + 32 : 0;
        path = user ? malloc(cap) : NULL;
        if (filter && path) {
            snprintf(path, cap, "/user/%s/filter", user);
            n->phase_req = mx_call(n, "POST", path, filter, REQUEST_TIMEOUT, on_filter, NULL);
        }
        free(filter);
        break;
    }
    case MX_SYNC:
        start_sync(n);
        break;
    default:
        return;
    }
    free(user);
    free(path);
    if (n->phase_req == 0 && !n->stopping && n->phase != MX_FAILED) {
        /* Could not even start the request: try again later. */
        matrix_result r = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
        snprintf(r.error, sizeof r.error, "request not started");
        retry_phase(n, &r, "starting a request");
    }
}

/* ---- after the token is known good: profile, listen aliases, filter ------------- */

static void on_displayname_set(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body,
                               size_t len)
{
    if (r->kind != MATRIX_OK)
        base_log(BASE_LOG_WARN, n->who, "cannot set the display name: %s %s", r->errcode, r->error);
}

static void on_displayname(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body,
                           size_t len)
{
    json_t *root = r->kind == MATRIX_OK ? parse_object(body, len) : NULL;
    const char *current_name = json_string_value(json_object_get(root, "displayname"));
    if (n->cfg.display_name && (!current_name || strcmp(current_name, n->cfg.display_name) != 0)) {
        /* Only when it differs: every change shows in every room. */
        json_t *req = json_pack("{s:s}", "displayname", n->cfg.display_name);
        char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        char *user = mx_escape(n->cfg.user_id);
        char path[600];
        if (text && user && snprintf(path, sizeof path, "/profile/%s/displayname", user) < (int)sizeof path)
            mx_call(n, "PUT", path, text, REQUEST_TIMEOUT, on_displayname_set, NULL);
        json_decref(req);
        free(text);
        free(user);
    } else if (!n->cfg.display_name && current_name && *current_name) {
        free(n->display_name);
        n->display_name = base_strdup(current_name);
    }
    json_decref(root);
}

static void after_authorized(matrix_network *n)
{
    n->authorized = 1;
    if (!n->state.user_id) {
        /* From now on this state directory belongs to this account. */
        n->state.user_id = base_strdup(n->cfg.user_id);
        mx_save_state(n);
    }
    if (!n->profile_checked) {
        n->profile_checked = 1;
        char *user = mx_escape(n->cfg.user_id);
        char path[600];
        if (user && snprintf(path, sizeof path, "/profile/%s/displayname", user) < (int)sizeof path)
            mx_call(n, "GET", path, NULL, REQUEST_TIMEOUT, on_displayname, NULL);
        free(user);
    }
    enter(n, n->filter_id ? MX_SYNC : MX_FILTER);
    mx_pump(n); /* replies saved by the last run go out now */
}

int mx_unauthorized(matrix_network *n, const mx_request *rq, const matrix_result *r)
{
    /* Requests in flight during a login still carry the old token; their
     * 401 says nothing about the new one. Logging in again for each of
     * them would kill the new token in turn, for ever. */
    if (rq->token_gen != n->token_gen)
        return 1;
    if (n->phase == MX_LOGIN || n->phase == MX_FAILED || n->stopping)
        return 0; /* already logging in (or done) */
    n->authorized = 0;
    n->phase_seq++;
    if (n->phase_req)
        net_http_cancel(n->http, n->phase_req);
    n->phase_req = 0;
    uv_timer_stop(&n->phase_timer);
    if (!n->cfg.password) {
        char why[500];
        snprintf(why, sizeof why,
                 "the homeserver rejected the access token (%s: %s). Give a valid access_token, "
                 "access_token_file or access_token_env, or a password, in [matrix.%s]",
                 r->errcode, r->error, n->cfg.name);
        mx_fail(n, why);
        return 0;
    }
    base_log(BASE_LOG_WARN, n->who, "the access token was rejected (%s%s); logging in again with the password",
           r->errcode, r->soft_logout ? ", soft logout" : "");
    enter(n, MX_LOGIN);
    return 0;
}

/* ---- the object ----------------------------------------------------------------- */

matrix_network *matrix_network_new(uv_loop_t *loop, matrix_network_config *config, core_bot *bot)
{
    matrix_network *n = calloc(1, sizeof *n);
    if (!n) {
        matrix_network_config_free(config);
        return NULL;
    }
    n->loop = loop;
    n->cfg = *config;
    memset(config, 0, sizeof *config);
    n->bot = bot;
    snprintf(n->who, sizeof n->who, "matrix.%s", n->cfg.name);
    chat_gate_config gc = {
        .network = n->cfg.name,
        .command_prefixes = n->cfg.command_prefixes,
        .listen_min_score = n->cfg.listen_min_score,
        .limits = 1,
        .user_burst = n->cfg.user_burst,
        .user_rate = n->cfg.user_rate,
        .room_burst = n->cfg.room_burst,
        .room_rate = n->cfg.room_rate,
        .casemap = CHAT_CASE_ASCII,
    };
    n->gate = chat_gate_new(bot, &gc);
    if (n->cfg.access_token)
        n->token = base_strdup(n->cfg.access_token);
    if (n->cfg.display_name)
        n->display_name = base_strdup(n->cfg.display_name);
    base_error err;
    n->http = net_http_new(loop, n->cfg.ca_file, &err);
    if (!n->http)
        base_log(BASE_LOG_ERROR, n->who, "cannot start HTTP: %s", err.text);
    if (!n->gate || !n->http || (n->cfg.access_token && !n->token) ||
        (n->cfg.display_name && !n->display_name)) {
        matrix_network_free(n);
        return NULL;
    }
    uv_timer_init(loop, &n->phase_timer);
    uv_timer_init(loop, &n->pump_timer);
    uv_timer_init(loop, &n->grace_timer);
    n->phase_timer.data = n->pump_timer.data = n->grace_timer.data = n;
    n->handles_ready = 1;
    return n;
}

void matrix_network_on_failure(matrix_network *n, void (*failed_cb)(void *ctx), void *ctx)
{
    n->failed_cb = failed_cb;
    n->failed_ctx = ctx;
}

void matrix_network_start(matrix_network *n)
{
    base_error err;
    if (matrix_state_dir_create(n->cfg.state_dir, &err) != BASE_OK ||
        matrix_state_load(n->cfg.state_dir, &n->state, &err) != BASE_OK) {
        mx_fail(n, err.text);
        return;
    }
    n->state_loaded = 1;
    if (n->state.user_id && strcmp(n->state.user_id, n->cfg.user_id) != 0) {
        char why[800];
        snprintf(why, sizeof why, "the state directory %.300s belongs to %.200s, not %.200s: give each account "
                 "its own state_dir", n->cfg.state_dir, n->state.user_id, n->cfg.user_id);
        n->state_loaded = 0; /* not ours: never overwrite it */
        mx_fail(n, why);
        return;
    }
    for (size_t i = 0; i < n->cfg.n_listen; i++) {
        if (n->cfg.listen[i][0] == '!')
            matrix_strset_add(&n->listen_rooms, n->cfg.listen[i]);
        else
            mx_add_task(n, MX_TASK_RESOLVE, n->cfg.listen[i]);
    }
    base_log(BASE_LOG_INFO, n->who, "starting as %s on %s%s", n->cfg.user_id, n->cfg.homeserver,
           n->state.next_batch ? "" : " (first run: old messages will not be answered)");
    if (n->state.outbox.n)
        base_log(BASE_LOG_INFO, n->who, "%zu repl%s from the last run still to send", n->state.outbox.n,
               n->state.outbox.n == 1 ? "y" : "ies");
    enter(n, n->token ? MX_WHOAMI : MX_LOGIN);
}

/* ---- stop and free ---------------------------------------------------------------- */

static void finish_stop(matrix_network *n)
{
    if (!n->stopping || n->http || !mx_flush_state(n) || !n->done_cb)
        return;
    void (*cb)(void *) = n->done_cb;
    n->done_cb = NULL;
    base_log(BASE_LOG_INFO, n->who, "stopped");
    cb(n->done_ctx);
}

static void release(matrix_network *n)
{
    if (n->pending > 0)
        return;
    matrix_network_config_free(&n->cfg);
    base_secret_free(n->token);
    free(n->display_name);
    free(n->filter_id);
    matrix_state_free(&n->state);
    for (size_t i = 0; i < n->n_tasks; i++)
        free(n->tasks[i].target);
    free(n->tasks);
    matrix_strset_free(&n->listen_rooms);
    chat_gate_free(n->gate);
    free(n->write_data);
    free(n);
}

static void on_http_closed(void *ctx)
{
    matrix_network *n = ctx;
    n->http = NULL;
    n->pending--;
    if (n->freeing)
        release(n);
    else
        finish_stop(n);
}

static void close_http(matrix_network *n)
{
    if (!n->http || n->http_closing)
        return;
    n->http_closing = 1;
    n->pending++;
    net_http_free(n->http, on_http_closed, n);
}

static void on_grace_timer(uv_timer_t *t)
{
    matrix_network *n = t->data;
    if (n->sends_in_flight)
        base_log(BASE_LOG_INFO, n->who, "%zu repl%s still in flight; they go out after the restart", n->sends_in_flight,
               n->sends_in_flight == 1 ? "y" : "ies");
    close_http(n);
}

void matrix_network_stop(matrix_network *n, void (*done_cb)(void *ctx), void *ctx)
{
    if (n->stopping)
        return;
    n->stopping = 1;
    n->done_cb = done_cb;
    n->done_ctx = ctx;
    n->phase_seq++;
    uv_timer_stop(&n->phase_timer);
    uv_timer_stop(&n->pump_timer);
    if (n->phase_req && n->http)
        net_http_cancel(n->http, n->phase_req);
    n->phase_req = 0;
    if (n->sends_in_flight && n->http)
        uv_timer_start(&n->grace_timer, on_grace_timer, STOP_GRACE_MS, 0);
    else
        close_http(n);
    finish_stop(n);
}

void mx_sends_drained(matrix_network *n)
{
    if (n->stopping && !n->http_closing && n->sends_in_flight == 0) {
        uv_timer_stop(&n->grace_timer);
        close_http(n);
    }
}

void mx_write_finished(matrix_network *n)
{
    if (n->freeing)
        release(n);
    else
        finish_stop(n);
}

static void on_handle_closed(uv_handle_t *h)
{
    matrix_network *n = h->data;
    n->pending--;
    release(n);
}

void matrix_network_free(matrix_network *n)
{
    if (!n)
        return;
    n->freeing = 1;
    n->done_cb = NULL;
    close_http(n);
    if (n->handles_ready) {
        n->pending += 3;
        uv_close((uv_handle_t *)&n->phase_timer, on_handle_closed);
        uv_close((uv_handle_t *)&n->pump_timer, on_handle_closed);
        uv_close((uv_handle_t *)&n->grace_timer, on_handle_closed);
        return;
    }
    release(n);
}
