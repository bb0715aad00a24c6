/* One Matrix account: the lifecycle. Start checks the token with
 * /account/whoami (or logs in with the password), creates the sync filter,
 * then long-polls /sync for ever; each batch is decided by matrix_batch.c and
 * its actions applied here. A 401 anywhere (the client reports it) leads back
 * to a login when there is a password, or stops this account (only) when
 * there is none. Stop lets replies in flight finish, closes the client, and
 * has the sender write the state one last time.
 *
 * Who owns what: the client (matrix_client.c) the HTTP client and the token;
 * the sender (matrix_sender.c) the outbox, joins and lookups and the state
 * file; this file the phases, the reply gate, the listen rooms and the
 * profile. */
#include "matrix/matrix_network.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "chat/gate.h"
#include "chat/operator.h"
#include "chat/runtime_state.h"
#include "matrix/matrix_api.h"
#include "matrix/matrix_batch.h"
#include "matrix/matrix_client.h"
#include "matrix/matrix_sender.h"

#define REQUEST_TIMEOUT 30.0   /* seconds, for everything but /sync */
#define SYNC_MARGIN 30.0       /* a long-poll may take this much over its timeout */
#define INITIAL_TIMELINE 1     /* the first sync answers nothing: one event per room is plenty */
#define LIVE_TIMELINE 30       /* later ones: enough to cover a short absence */
#define STOP_GRACE_MS 2000     /* replies in flight get this long to finish on stop */
#define MEMBER_NAMES_MAX 5000  /* display names kept for replies; past this, they start over */
#define RUNTIME_FILE "runtime.json" /* operators' changes, in the state directory */
#define RELOADS_WAITING 4      /* admins' !reload commands waiting for their loop turn, at most */

enum phase {
    PHASE_IDLE,   /* not started */
    PHASE_LOGIN,  /* POST /login */
    PHASE_WHOAMI, /* GET /account/whoami */
    PHASE_FILTER, /* POST /user/{userId}/filter */
    PHASE_SYNC,   /* GET /sync, again and again */
    PHASE_FAILED  /* stopped for good; waits for matrix_network_stop */
};

struct matrix_network {
    uv_loop_t *loop;
    matrix_network_config cfg;
    char who[96];                 /* "matrix.NAME" for log lines */
    core_bot *bot;                /* borrowed: its knowledge base's texts (the encryption notice) */
    chat_gate *gate;              /* who gets an answer, within which limits */
    matrix_client *client;        /* NULL once closed */
    matrix_sender *sender;
    char *display_name;           /* the account's display name, for "Name: question" */
    char *filter_id;
    matrix_strset listen_rooms;   /* room ids of cfg.listen, aliases once resolved */
    matrix_strset unknown_rooms;  /* room ids of cfg.answer_unknown_commands, likewise */
    matrix_strmap member_names;   /* "room\037user" -> display name: lazy-loaded members come once */
    chat_op_hooks op_hooks;       /* !status and !reload, from the application */
    chat_runtime runtime;         /* operators' joins, parts and ignores */
    uv_timer_t reload_timer;      /* !reload runs on a loop turn of its own: it may restart this account */
    matrix_batch_op reloads[RELOADS_WAITING];
    size_t n_reloads;

    int phase;
    uint64_t phase_req;           /* the phase's request in flight, 0 none: answers to others are stale */
    matrix_retry_counter retry;   /* failures in a row, per kind, until a request of the phases succeeds */
    int sync_live;                /* the sync in flight had a since token: its messages are answered */
    int sync_had_filter_id;       /* ... and named the stored filter (not an inline one) */
    int inline_filter;            /* the server refused the stored filter twice: send it inline */
    int filter_refusals;
    int timeline_limit;           /* events per room a live sync asks for; less after a batch too large */
    int blocked;                  /* refusals of the account in a row (locked, suspended...): 0 none */
    int fresh_position;           /* next_batch comes from a first sync, no live sync since */
    int flows_checked;            /* the server's login flows offer m.login.password */
    int profile_checked;          /* the display name was looked up in this run */
    int synced;                   /* for the status report: the last /sync succeeded, */
    double status_since;          /* since when (or since when not), */
    double last_heard;            /* and when the last sync answer came */

    uv_timer_t phase_timer;       /* retries of the phase's request; the failure report */
    uv_timer_t grace_timer;       /* how long stop waits for replies in flight */
    int handles_ready;
    int pending;                  /* closes that still point at us */
    int stopping, freeing, client_closing, failed_reported;
    void (*done_cb)(void *ctx);
    void *done_ctx;
    void (*failed_cb)(void *ctx);
    void *failed_ctx;
};

static void run_phase(matrix_network *n);

static double now(const matrix_network *n)
{
    return (double)uv_now(n->loop) / 1000.0;
}

static double jitter(void)
{
    return (double)rand() / RAND_MAX;
}

/* Starts a request of this account; 0 when it could not start (logged). */
static uint64_t call(matrix_network *n, const char *method, const char *path, const char *body, double timeout,
                     matrix_client_done_cb done)
{
    if (!n->client || n->client_closing)
        return 0;
    if (!path) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory starting a request");
        return 0;
    }
    base_error err = {0};
    matrix_call c = {method, path, body, timeout, done, n, NULL, 0, 0};
    if (strcmp(path, "/login") == 0 && body)
        c.secret = 1; /* the password goes out, the token comes back */
    if (strncmp(path, "/sync", 5) == 0)
        c.max_body = MATRIX_SYNC_BODY_MAX;
    uint64_t id = matrix_client_request(n->client, &c, &err);
    if (id == 0)
        base_log(BASE_LOG_ERROR, n->who, "%s", err.text);
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

/* Abandons the phase's request: its answer, when it comes, is stale. */
static void abandon_phase_request(matrix_network *n)
{
    if (n->phase_req && n->client)
        matrix_client_cancel(n->client, n->phase_req);
    n->phase_req = 0;
    uv_timer_stop(&n->phase_timer);
}

/* Stops the account for good with a log line that says why. */
static void fail(matrix_network *n, const char *why)
{
    if (n->phase == PHASE_FAILED)
        return;
    base_log(BASE_LOG_ERROR, n->who, "%s; this Matrix account stops (other networks keep running)", why);
    n->synced = 0;
    n->status_since = now(n);
    n->phase = PHASE_FAILED;
    abandon_phase_request(n);
    matrix_sender_set_authorized(n->sender, 0);
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
    run_phase(n);
}

static void wait_then_run(matrix_network *n, double delay)
{
    uv_timer_start(&n->phase_timer, on_phase_timer, (uint64_t)(delay * 1000), 0);
}

/* The status report's connected state. */
static void set_synced(matrix_network *n, int synced)
{
    if (n->synced != synced)
        n->status_since = now(n);
    n->synced = synced;
}

/* Waits before the next try of the phase's request: within half a second
 * and five minutes, longer after each failure of the same kind. */
static void retry_phase(matrix_network *n, const matrix_result *r, const char *what)
{
    set_synced(n, 0);
    double delay = matrix_retry_next(&n->retry, r, jitter());
    base_log(r->kind == MATRIX_RATE_LIMITED ? BASE_LOG_INFO : BASE_LOG_WARN, n->who, "%s: %s%s%s; retrying in %.1f s",
             what, r->errcode, r->errcode[0] ? " " : "", r->error, delay);
    wait_then_run(n, delay);
}

/* A request of the phases went through: failures start counting afresh. */
static void phase_succeeded(matrix_network *n)
{
    matrix_retry_reset(&n->retry);
    if (n->blocked)
        base_log(BASE_LOG_INFO, n->who, "the homeserver accepts this account again");
    n->blocked = 0;
}

/* The server refuses the account itself (locked, suspended, deactivated,
 * forbidden): one clear line, then only long waits (a minute, doubling to
 * an hour) until it lets the account in again; nothing is retried once a
 * second. */
static void account_refused(matrix_network *n, const matrix_result *r, const char *what)
{
    double delay = matrix_blocked_delay(n->blocked, jitter());
    if (n->blocked == 0)
        base_log(BASE_LOG_ERROR, n->who, "%s: the homeserver refuses this account (%s%s%s); it stops answering and "
                 "asks again every few minutes, then hourly, until the account is usable (other networks keep "
                 "running)", what, r->errcode, r->errcode[0] ? ": " : "", r->error);
    else
        base_log(BASE_LOG_DEBUG, n->who, "%s: still refused (%s); next try in %.0f s", what, r->errcode, delay);
    if (n->blocked < 1000)
        n->blocked++;
    wait_then_run(n, delay);
}

/* The answer to the phase's request, unless it was abandoned meanwhile. */
static int current(matrix_network *n, const matrix_response *resp)
{
    if (resp->id != n->phase_req || n->stopping || n->phase == PHASE_FAILED)
        return 0;
    n->phase_req = 0;
    return 1;
}

/* Common handling of errors; returns 1 when the answer was an error (handled). */
static int phase_error(matrix_network *n, const matrix_response *resp, const char *what)
{
    const matrix_result *r = &resp->result;
    if (r->kind == MATRIX_OK)
        return 0;
    if (r->kind == MATRIX_UNAUTHORIZED) {
        /* A fresh 401 has already led to a login (on_unauthorized); one to a
         * token replaced since goes again with the new one. */
        if (resp->token_replaced)
            run_phase(n);
    } else {
        retry_phase(n, r, what);
    }
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

/* The homeserver named the device: keep it, so a password login reuses it. */
static void remember_device(matrix_network *n, const char *device)
{
    matrix_state *st = matrix_sender_state(n->sender);
    if (!device || (st->device_id && strcmp(device, st->device_id) == 0))
        return;
    free(st->device_id);
    st->device_id = base_strdup(device);
    matrix_sender_save(n->sender);
}

static void after_authorized(matrix_network *n);

/* Wipes the strings at obj[key] in place: jansson frees them unwiped. */
static void wipe_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        base_secret_wipe((char *)json_string_value(v), json_string_length(v));
}

static void on_login(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    const matrix_result *r = &resp->result;
    if (!current(n, resp))
        return;
    if (r->kind == MATRIX_FAILED && matrix_account_refused(r) && strcmp(r->errcode, "M_FORBIDDEN") != 0) {
        account_refused(n, r, "login"); /* locked or suspended: a password will not change that */
        return;
    }
    if (r->kind == MATRIX_FAILED) {
        char why[400];
        snprintf(why, sizeof why, "login as %s failed: %s %s (check the password)", n->cfg.user_id, r->errcode,
                 r->error);
        fail(n, why);
        return;
    }
    if (r->kind == MATRIX_UNAUTHORIZED) {
        fail(n, "login refused (M_UNKNOWN_TOKEN)");
        return;
    }
    if (phase_error(n, resp, "login"))
        return;
    json_t *root = parse_object(resp->body, resp->len);
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
        fail(n, why);
        return;
    }
    int rc = matrix_client_set_token(n->client, token, NULL);
    remember_device(n, device);
    wipe_member(root, "access_token");
    wipe_member(root, "refresh_token");
    json_decref(root);
    phase_succeeded(n);
    if (rc != BASE_OK) {
        fail(n, "out of memory");
        return;
    }
    const char *saved = matrix_sender_state(n->sender)->device_id;
    base_log(BASE_LOG_INFO, n->who, "logged in as %s (device %s)", n->cfg.user_id, saved ? saved : "?");
    after_authorized(n);
}

/* Password login exists only where the server offers it: a homeserver that
 * delegates login to OAuth 2.0 (Matrix Authentication Service) does not. */
static int offers_password(const json_t *root)
{
    size_t i;
    const json_t *flow;
    json_array_foreach(json_object_get(root, "flows"), i, flow) {
        const char *type = json_string_value(json_object_get(flow, "type"));
        if (type && strcmp(type, "m.login.password") == 0)
            return 1;
    }
    return 0;
}

static void start_login(matrix_network *n);

static void on_flows(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    if (!current(n, resp))
        return;
    json_t *root = resp->result.kind == MATRIX_OK ? parse_object(resp->body, resp->len) : NULL;
    int listed = json_is_array(json_object_get(root, "flows"));
    int password = offers_password(root);
    json_decref(root);
    if (listed && !password) {
        char why[600];
        snprintf(why, sizeof why,
                 "the homeserver does not offer password login (m.login.password): it delegates login to OAuth 2.0 "
                 "(e.g. Matrix Authentication Service). Get a long-lived access token for %.200s from its "
                 "administrator (a compatibility token, e.g. mas-cli manage issue-compatibility-token) and give it as "
                 "access_token_file in [matrix.%.60s]; see the README", n->cfg.user_id, n->cfg.name);
        fail(n, why);
        return;
    }
    /* Listed with a password flow, or not listed at all (then just try). */
    n->flows_checked = 1;
    start_login(n);
}

static void start_login(matrix_network *n)
{
    if (!n->flows_checked) {
        n->phase_req = call(n, "GET", "/login", NULL, REQUEST_TIMEOUT, on_flows);
        return;
    }
    const char *device = n->cfg.device_id ? n->cfg.device_id : matrix_sender_state(n->sender)->device_id;
    char *body = matrix_login_body(n->cfg.user_id, n->cfg.password, device, "careerbot");
    if (!body) {
        fail(n, "cannot build the login request (is the password valid UTF-8?)");
        return;
    }
    n->phase_req = call(n, "POST", "/login", body, REQUEST_TIMEOUT, on_login);
    base_secret_free(body); /* it holds the password */
}

static void on_whoami(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    const matrix_result *r = &resp->result;
    if (!current(n, resp))
        return;
    if (r->kind == MATRIX_FAILED && matrix_account_refused(r)) {
        account_refused(n, r, "whoami");
        return;
    }
    if (r->kind == MATRIX_FAILED) {
        char why[400];
        snprintf(why, sizeof why, "the homeserver rejected the access token check: %s %s", r->errcode, r->error);
        fail(n, why);
        return;
    }
    if (phase_error(n, resp, "whoami"))
        return;
    phase_succeeded(n);
    json_t *root = parse_object(resp->body, resp->len);
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
        fail(n, why);
        return;
    }
    remember_device(n, device);
    json_decref(root);
    base_log(BASE_LOG_INFO, n->who, "access token checked: %s", n->cfg.user_id);
    after_authorized(n);
}

static void on_filter(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    const matrix_result *r = &resp->result;
    if (!current(n, resp))
        return;
    if (r->kind == MATRIX_FAILED) {
        /* A server without filter storage still takes the filter inline. */
        base_log(BASE_LOG_WARN, n->who, "cannot create a sync filter (%s %s); sending it with each sync",
                 r->errcode, r->error);
        enter(n, PHASE_SYNC);
        return;
    }
    if (phase_error(n, resp, "creating the sync filter"))
        return;
    json_t *root = parse_object(resp->body, resp->len);
    const char *id = json_string_value(json_object_get(root, "filter_id"));
    if (!id || !*id) {
        json_decref(root);
        bad_response(n, "creating the sync filter");
        return;
    }
    free(n->filter_id);
    n->filter_id = base_strdup(id);
    json_decref(root);
    phase_succeeded(n);
    enter(n, PHASE_SYNC);
}

/* What the batch says about the rooms the bot is in, its name in each, and
 * the names of the people there. */
static void remember_rooms(matrix_network *n, const matrix_sync *s, int live)
{
    matrix_state *st = matrix_sender_state(n->sender);
    int oom = 0;
    for (size_t i = 0; i < s->n_members; i++) {
        char key[600];
        snprintf(key, sizeof key, "%s\037%s", s->members[i].room_id, s->members[i].user_id);
        if (n->member_names.n >= MEMBER_NAMES_MAX && !matrix_strmap_get(&n->member_names, key))
            matrix_strmap_free(&n->member_names); /* bounded: a pill then shows the localpart */
        oom |= matrix_strmap_set(&n->member_names, key, s->members[i].name) < 0;
    }
    for (size_t i = 0; i < s->n_joined_rooms; i++)
        oom |= matrix_strset_add(&st->rooms, s->joined_rooms[i]) < 0;
    for (size_t i = 0; i < s->n_left_rooms; i++) {
        matrix_strset_remove(&st->rooms, s->left_rooms[i]);
        matrix_strmap_set(&st->room_names, s->left_rooms[i], NULL);
    }
    if (!live)
        st->rooms_known = 1; /* a first sync names every room */
    /* Kept only where it differs from the global name. */
    for (size_t i = 0; i < s->n_own_names; i++) {
        const char *name = s->own_names[i].text;
        int same = !name || (n->display_name && strcmp(name, n->display_name) == 0);
        oom |= matrix_strmap_set(&st->room_names, s->own_names[i].room_id, same ? NULL : name) < 0;
    }
    if (oom)
        base_log(BASE_LOG_ERROR, n->who, "out of memory keeping the rooms");
}

/* ---- operator commands ------------------------------------------------------------ */

/* A reply to an admin's command, in the direct chat, with a transaction id
 * of its own so a retried batch never sends it twice. */
static void op_reply(matrix_network *n, const matrix_batch_op *o, char kind, const char *text)
{
    char txn[MATRIX_TXN_MAX];
    matrix_txn_id(txn, kind, o->room_id, o->event_id);
    char *content = matrix_notice_content(text);
    if (!content || matrix_sender_queue(n->sender, o->room_id, txn, content) < 0)
        base_log(BASE_LOG_ERROR, n->who, "out of memory answering an operator command");
    free(content);
}

static void save_runtime(matrix_network *n, const matrix_batch_op *o)
{
    base_error err;
    if (chat_runtime_save(&n->runtime, n->cfg.state_dir, RUNTIME_FILE, &err) != BASE_OK) {
        base_log(BASE_LOG_ERROR, n->who, "cannot keep the operators' changes: %s", err.text);
        op_reply(n, o, 'w', "Done, but it could not be saved for the next start (see the log).");
    }
}

static int apply_ignores(matrix_network *n)
{
    return chat_gate_set_ignore(n->gate, (const char *const *)n->runtime.ignored, n->runtime.n_ignored);
}

static void op_change(matrix_network *n, const matrix_batch_op *o)
{
    const chat_op *op = &o->op;
    const matrix_state *st = matrix_sender_state(n->sender);
    char text[CHAT_OP_NAME_MAX + 80];
    int rc = BASE_OK;
    switch (op->kind) {
    case CHAT_OP_JOIN:
        rc = chat_runtime_join(&n->runtime, op->target, NULL, 0);
        if (rc == BASE_OK)
            matrix_sender_join(n->sender, op->target);
        snprintf(text, sizeof text, "Joining %s.", op->target);
        break;
    case CHAT_OP_PART:
        if (op->target[0] != '!') {
            op_reply(n, o, 'o', "!part needs the room id (!id:server), as the room's settings show it.");
            return;
        }
        if (!matrix_strset_has(&st->rooms, op->target)) {
            snprintf(text, sizeof text, "I am not in %s.", op->target);
            op_reply(n, o, 'o', text);
            return;
        }
        /* Every room the bot is in counts as kept: parted, invites to it are declined. */
        rc = chat_runtime_part(&n->runtime, op->target, 1);
        if (rc == BASE_OK)
            matrix_sender_leave(n->sender, op->target, "asked to leave by an operator");
        snprintf(text, sizeof text, "Left %s.", op->target);
        break;
    default:
        rc = op->kind == CHAT_OP_IGNORE ? chat_runtime_ignore(&n->runtime, op->target, 0)
                                        : chat_runtime_unignore(&n->runtime, op->target, 0);
        if (rc == BASE_OK)
            rc = apply_ignores(n);
        snprintf(text, sizeof text, op->kind == CHAT_OP_IGNORE ? "Ignoring %s." : "No longer ignoring %s.",
                 op->target);
        break;
    }
    if (rc != BASE_OK) {
        op_reply(n, o, 'o', "Cannot: out of memory, or too many runtime changes.");
        return;
    }
    save_runtime(n, o);
    op_reply(n, o, 'o', text);
}

static void on_reload_timer(uv_timer_t *t)
{
    matrix_network *n = t->data;
    /* Taken off the list first: the reload may stop this account, never free it here. */
    matrix_batch_op waiting[RELOADS_WAITING];
    size_t count = n->n_reloads;
    memcpy(waiting, n->reloads, count * sizeof *waiting);
    n->n_reloads = 0;
    for (size_t i = 0; i < count; i++) {
        base_strbuf out = {0};
        n->op_hooks.reload(n->op_hooks.ctx, &out);
        /* Queued and saved even when the reload stopped this account: the
         * final flush keeps it, and it goes out after the restart. */
        op_reply(n, &waiting[i], 'o', out.failed || !out.data ? "out of memory" : out.data);
        base_strbuf_free(&out);
        free(waiting[i].room_id);
        free(waiting[i].event_id);
        free(waiting[i].sender);
    }
    matrix_sender_save(n->sender);
    matrix_sender_pump(n->sender);
}

/* An admin's command (from the batch), logged at notice level. Replies are
 * queued now and go out with the batch's save. */
static void run_op(matrix_network *n, matrix_batch_op *o)
{
    const chat_op *op = &o->op;
    base_log(BASE_LOG_NOTICE, n->who, "operator command from %s: %s%s%s%s", o->sender, chat_op_name(op->kind),
             op->target[0] ? " " : "", op->target, op->error ? " (refused: bad arguments)" : "");
    if (op->error) {
        op_reply(n, o, 'o', op->error);
        return;
    }
    char text[CHAT_OP_NAME_MAX + 80];
    base_strbuf out = {0};
    switch (op->kind) {
    case CHAT_OP_SAY:
        if (!matrix_strset_has(&matrix_sender_state(n->sender)->rooms, op->target)) {
            snprintf(text, sizeof text, "I am not in %s (give the room id, !id:server).", op->target);
            op_reply(n, o, 'o', text);
            break;
        }
        char txn[MATRIX_TXN_MAX];
        matrix_txn_id(txn, 's', op->target, o->event_id);
        char *content = matrix_notice_content(op->text);
        if (!content || matrix_sender_queue(n->sender, op->target, txn, content) < 0)
            op_reply(n, o, 'o', "Cannot: out of memory.");
        free(content);
        break;
    case CHAT_OP_STATUS:
        if (!n->op_hooks.status) {
            op_reply(n, o, 'o', "Not available here.");
            break;
        }
        n->op_hooks.status(n->op_hooks.ctx, &out);
        op_reply(n, o, 'o', out.failed || !out.data ? "out of memory" : out.data);
        break;
    case CHAT_OP_RELOAD:
        if (!n->op_hooks.reload || n->n_reloads == RELOADS_WAITING) {
            op_reply(n, o, 'o', n->op_hooks.reload ? "A reload is already waiting." : "Not available here.");
            break;
        }
        n->reloads[n->n_reloads++] = *o; /* moved */
        o->room_id = o->event_id = o->sender = NULL;
        uv_timer_start(&n->reload_timer, on_reload_timer, 0, 0);
        break;
    default:
        op_change(n, o);
        break;
    }
    base_strbuf_free(&out);
}

/* The operators' changes kept in the state directory; a damaged file is
 * said and left alone. */
static void load_runtime(matrix_network *n)
{
    chat_runtime_init(&n->runtime, CHAT_CASE_ASCII, 1);
    if (!n->cfg.state_dir)
        return;
    char path[4096];
    base_error err;
    snprintf(path, sizeof path, "%s/%s", n->cfg.state_dir, RUNTIME_FILE);
    if (chat_runtime_load(&n->runtime, path, &err) != BASE_OK)
        base_log(BASE_LOG_WARN, n->who, "ignoring the operators' saved changes: %s", err.text);
}

/* Carries out what the batch decided, then saves the state with next_batch
 * moved on: the replies and the new position go to disk together, and the
 * sends start when that write is done. */
static void apply_batch(matrix_network *n, const matrix_sync *s, int live)
{
    matrix_state *st = matrix_sender_state(n->sender);
    matrix_batch_account account = {
        .user_id = n->cfg.user_id,
        .display_name = n->display_name,
        .allowed_inviters = n->cfg.allowed_inviters,
        .n_allowed_inviters = n->cfg.n_allowed_inviters,
        .listen = &n->listen_rooms,
        .unknown_commands = &n->unknown_rooms,
        .read_receipts = n->cfg.read_receipts,
        .member_names = &n->member_names,
        .state = st,
        .queue_max = n->cfg.queue_max,
        .encrypted_notice = core_bot_kb(n->bot)->texts.encrypted, /* the knowledge base's words */
        .gate = n->gate,
        .now = now(n),
        .live = live,
        .admins = n->cfg.admins,
        .n_admins = n->cfg.n_admins,
        .command_prefixes = n->cfg.command_prefixes,
        .runtime = &n->runtime,
    };
    matrix_batch_actions a;
    if (matrix_batch_decide(&account, s, &a) != BASE_OK)
        base_log(BASE_LOG_ERROR, n->who, "out of memory handling a sync batch: part of it is not answered");
    for (size_t i = 0; i < a.n_logs; i++)
        base_log(a.logs[i].level, n->who, "%s", a.logs[i].text);
    if (a.replace_direct_account) {
        matrix_strset_free(&st->direct_account);
        st->direct_account = a.direct_account; /* moved */
        memset(&a.direct_account, 0, sizeof a.direct_account);
    }
    for (size_t i = 0; i < a.direct.n; i++)
        matrix_strset_add(&st->direct_invites, a.direct.items[i]);
    for (size_t i = 0; i < a.encrypted.n; i++)
        matrix_strset_add(&st->encrypted, a.encrypted.items[i]);
    for (size_t i = 0; i < a.n_sends; i++) {
        const matrix_batch_send *send = &a.sends[i];
        int rc = matrix_sender_queue(n->sender, send->room_id, send->txn_id, send->content);
        if (rc < 0)
            base_log(BASE_LOG_ERROR, n->who, "out of memory queueing a reply to %s", send->room_id);
        else if (rc > 0 && send->kind == 'e')
            matrix_strset_add(&st->told_encrypted, send->room_id);
    }
    for (size_t i = 0; i < a.joins.n; i++)
        matrix_sender_join(n->sender, a.joins.items[i]);
    for (size_t i = 0; i < a.leaves.n; i++)
        matrix_sender_leave(n->sender, a.leaves.keys[i], a.leaves.values[i]);
    for (size_t i = 0; i < a.direct_writes.n; i++)
        matrix_sender_mark_direct(n->sender, a.direct_writes.keys[i], a.direct_writes.values[i]);
    for (size_t i = 0; i < a.receipts.n; i++)
        matrix_sender_receipt(n->sender, a.receipts.keys[i], a.receipts.values[i]);
    /* An upgraded room keeps what the old one was: listened to, direct. */
    for (size_t i = 0; i < a.upgrades.n; i++) {
        const char *from = a.upgrades.keys[i], *to = a.upgrades.values[i];
        if (matrix_strset_has(&n->listen_rooms, from))
            matrix_strset_add(&n->listen_rooms, to);
        if (matrix_strset_has(&n->unknown_rooms, from))
            matrix_strset_add(&n->unknown_rooms, to);
        if (matrix_strset_has(&st->direct_invites, from) || matrix_strset_has(&st->direct_account, from))
            matrix_strset_add(&st->direct_invites, to);
    }
    remember_rooms(n, s, live);
    for (size_t i = 0; i < a.n_ops; i++)
        run_op(n, &a.ops[i]);
    matrix_batch_actions_free(&a);
    char *next = base_strdup(s->next_batch);
    if (!next) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory keeping the sync position");
        return;
    }
    free(st->next_batch);
    st->next_batch = next;
    matrix_sender_save(n->sender);
    matrix_sender_pump(n->sender);
}

/* A /sync the server refuses for good (a 4xx other than 429 and 401), as
 * the spec says to read it. */
static void sync_refused(matrix_network *n, const matrix_result *r)
{
    matrix_state *st = matrix_sender_state(n->sender);
    matrix_refusal why = matrix_sync_refusal(r, n->sync_live, n->sync_had_filter_id);
    /* A position refused as soon as the server gave it: starting afresh
     * again would only loop. */
    if (why == MATRIX_REFUSAL_STALE_SINCE && n->fresh_position)
        why = MATRIX_REFUSAL_BLOCKED;
    switch (why) {
    case MATRIX_REFUSAL_STALE_SINCE:
        /* Start afresh: a first sync again, which answers nothing, so the
         * history in between is never replayed. */
        base_log(BASE_LOG_WARN, n->who, "sync: the homeserver no longer knows the sync position (%s %s); starting "
                 "afresh (messages sent meanwhile are not answered)", r->errcode, r->error);
        free(st->next_batch);
        st->next_batch = NULL;
        matrix_sender_save(n->sender);
        wait_then_run(n, matrix_retry_next(&n->retry, r, jitter()));
        return;
    case MATRIX_REFUSAL_FILTER:
        /* Made again once; refused again, it goes inline with every sync. */
        free(n->filter_id);
        n->filter_id = NULL;
        if (++n->filter_refusals >= 2)
            n->inline_filter = 1;
        else
            n->phase = PHASE_FILTER;
        retry_phase(n, r, "sync (the filter was refused)");
        return;
    default:
        account_refused(n, r, "sync");
    }
}

/* A batch larger than the bot can take: ask for fewer events per room. */
static void sync_too_large(matrix_network *n, const char *why)
{
    int before = n->timeline_limit;
    n->timeline_limit = before > 1 ? before / 2 : 1;
    matrix_result r = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
    snprintf(r.error, sizeof r.error, "%.120s; asking for %d event%s per room", why, n->timeline_limit,
             n->timeline_limit == 1 ? "" : "s");
    retry_phase(n, &r, "sync");
}

static void on_sync(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    const matrix_result *r = &resp->result;
    if (!current(n, resp))
        return;
    if (r->kind == MATRIX_FAILED) {
        sync_refused(n, r);
        return;
    }
    if (resp->too_large) {
        sync_too_large(n, r->error);
        return;
    }
    if (phase_error(n, resp, "sync"))
        return;
    matrix_sync s;
    base_error err;
    if (matrix_sync_parse(resp->body, resp->len, n->cfg.user_id, &s, &err) != BASE_OK) {
        if (s.too_large) {
            sync_too_large(n, err.text);
            return;
        }
        matrix_result bad = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
        snprintf(bad.error, sizeof bad.error, "response skipped: %.170s", err.text);
        retry_phase(n, &bad, "sync");
        return;
    }
    if (s.skipped)
        base_log(BASE_LOG_WARN, n->who, "sync: left out %zu malformed part%s (first: %s)", s.skipped,
                 s.skipped == 1 ? "" : "s", s.first_skip);
    phase_succeeded(n);
    n->timeline_limit = LIVE_TIMELINE; /* the backlog is through: the usual size again */
    n->fresh_position = !n->sync_live;
    set_synced(n, 1);
    n->last_heard = now(n);
    if (!n->sync_live)
        base_log(BASE_LOG_INFO, n->who, "first sync: %zu room%s; answering new messages from now on",
                 s.n_joined_rooms, s.n_joined_rooms == 1 ? "" : "s");
    apply_batch(n, &s, n->sync_live);
    matrix_sync_free(&s);
    run_phase(n);
}

static void start_sync(matrix_network *n)
{
    const char *next_batch = matrix_sender_state(n->sender)->next_batch;
    n->sync_live = next_batch != NULL;
    char *inline_filter = NULL;
    const char *filter = n->filter_id;
    if (!n->sync_live || !filter || n->inline_filter || n->timeline_limit != LIVE_TIMELINE)
        filter = inline_filter = matrix_filter_json(n->sync_live ? n->timeline_limit : INITIAL_TIMELINE);
    n->sync_had_filter_id = filter == n->filter_id;
    /* The first sync returns at once (timeout 0): it is only recorded. */
    char timeout_ms[32];
    snprintf(timeout_ms, sizeof timeout_ms, "%ld", n->sync_live ? (long)(n->cfg.sync_timeout * 1000) : 0L);
    char *path = !filter ? NULL
                 : n->sync_live ? matrix_client_path("/sync?filter=%s&timeout=%s&since=%s", filter, timeout_ms,
                                                     next_batch)
                                : matrix_client_path("/sync?filter=%s&timeout=%s", filter, timeout_ms);
    free(inline_filter);
    if (!path) {
        fail(n, "out of memory");
        return;
    }
    n->phase_req = call(n, "GET", path, NULL, n->cfg.sync_timeout + SYNC_MARGIN, on_sync);
    free(path);
}

static void start_filter(matrix_network *n)
{
    if (n->inline_filter) {
        enter(n, PHASE_SYNC);
        return;
    }
    char *filter = matrix_filter_json(LIVE_TIMELINE);
    char *path = matrix_client_path("/user/%s/filter", n->cfg.user_id);
    if (filter && path)
        n->phase_req = call(n, "POST", path, filter, REQUEST_TIMEOUT, on_filter);
    free(filter);
    free(path);
}

static void run_phase(matrix_network *n)
{
    if (n->stopping || n->phase == PHASE_FAILED)
        return;
    switch (n->phase) {
    case PHASE_LOGIN:
        start_login(n);
        break;
    case PHASE_WHOAMI:
        n->phase_req = call(n, "GET", "/account/whoami", NULL, REQUEST_TIMEOUT, on_whoami);
        break;
    case PHASE_FILTER:
        start_filter(n);
        break;
    case PHASE_SYNC:
        start_sync(n);
        break;
    default:
        return;
    }
    if (n->phase_req == 0 && !n->stopping && n->phase != PHASE_FAILED) {
        /* Could not even start the request: try again later. */
        matrix_result r = {.kind = MATRIX_TRANSIENT, .retry_after = -1};
        snprintf(r.error, sizeof r.error, "request not started");
        retry_phase(n, &r, "starting a request");
    }
}

/* ---- after the token is known good: profile, sends, filter ---------------------- */

static void on_displayname_set(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    if (resp->result.kind != MATRIX_OK)
        base_log(BASE_LOG_WARN, n->who, "cannot set the display name: %s %s", resp->result.errcode,
                 resp->result.error);
}

static void on_displayname(void *ctx, const matrix_response *resp)
{
    matrix_network *n = ctx;
    json_t *root = resp->result.kind == MATRIX_OK ? parse_object(resp->body, resp->len) : NULL;
    const char *current_name = json_string_value(json_object_get(root, "displayname"));
    if (n->cfg.display_name && (!current_name || strcmp(current_name, n->cfg.display_name) != 0)) {
        /* Only when it differs: every change shows in every room. */
        json_t *req = json_pack("{s:s}", "displayname", n->cfg.display_name);
        char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        char *path = matrix_client_path("/profile/%s/displayname", n->cfg.user_id);
        if (text)
            call(n, "PUT", path, text, REQUEST_TIMEOUT, on_displayname_set);
        json_decref(req);
        free(text);
        free(path);
    } else if (!n->cfg.display_name && current_name && *current_name) {
        free(n->display_name);
        n->display_name = base_strdup(current_name);
    }
    json_decref(root);
}

static void after_authorized(matrix_network *n)
{
    matrix_state *st = matrix_sender_state(n->sender);
    if (!st->user_id) {
        /* From now on this state directory belongs to this account. */
        st->user_id = base_strdup(n->cfg.user_id);
        matrix_sender_save(n->sender);
    }
    if (!n->profile_checked) {
        n->profile_checked = 1;
        char *path = matrix_client_path("/profile/%s/displayname", n->cfg.user_id);
        call(n, "GET", path, NULL, REQUEST_TIMEOUT, on_displayname);
        free(path);
    }
    enter(n, n->filter_id ? PHASE_SYNC : PHASE_FILTER);
    matrix_sender_set_authorized(n->sender, 1); /* replies saved by the last run go out now */
}

/* The client says the token in use was rejected. */
static void on_unauthorized(void *ctx, const matrix_result *r)
{
    matrix_network *n = ctx;
    if (n->phase == PHASE_LOGIN || n->phase == PHASE_FAILED || n->stopping)
        return; /* already logging in (or done) */
    matrix_sender_set_authorized(n->sender, 0);
    abandon_phase_request(n);
    if (!n->cfg.password) {
        char why[500];
        snprintf(why, sizeof why,
                 "the homeserver rejected the access token (%s: %s). Give a valid access_token, "
                 "access_token_file or access_token_env, or a password, in [matrix.%s]",
                 r->errcode, r->error, n->cfg.name);
        fail(n, why);
        return;
    }
    base_log(BASE_LOG_WARN, n->who, "the access token was rejected (%s%s); logging in again with the password",
             r->errcode, r->soft_logout ? ", soft logout" : "");
    enter(n, PHASE_LOGIN);
}

/* ---- the sender's reports --------------------------------------------------------- */

static int listed(char *const *items, size_t n, const char *item)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], item) == 0)
            return 1;
    return 0;
}

/* An alias of listen or answer_unknown_commands (or both) is known now. */
static void on_resolved(void *ctx, const char *alias, const char *room_id)
{
    matrix_network *n = ctx;
    int oom = 0;
    if (listed(n->cfg.listen, n->cfg.n_listen, alias))
        oom |= matrix_strset_add(&n->listen_rooms, room_id) < 0;
    if (listed(n->cfg.answer_unknown_commands, n->cfg.n_answer_unknown_commands, alias))
        oom |= matrix_strset_add(&n->unknown_rooms, room_id) < 0;
    if (oom)
        base_log(BASE_LOG_ERROR, n->who, "out of memory keeping the room %s", room_id);
}

static void close_client(matrix_network *n);
static void finish_stop(matrix_network *n);

static void on_drained(void *ctx)
{
    matrix_network *n = ctx;
    if (n->stopping && !n->client_closing) {
        uv_timer_stop(&n->grace_timer);
        close_client(n);
    }
}

static void on_flushed(void *ctx)
{
    finish_stop(ctx);
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
    snprintf(n->who, sizeof n->who, "matrix.%s", n->cfg.name);
    chat_gate_config gc = {
        .network = n->cfg.name,
        .network_kind = "matrix",
        .command_prefixes = n->cfg.command_prefixes,
        .listen_min_score = n->cfg.listen_min_score,
        .limits = 1,
        .user_burst = n->cfg.user_burst,
        .user_rate = n->cfg.user_rate,
        .room_burst = n->cfg.room_burst,
        .room_rate = n->cfg.room_rate,
        .casemap = CHAT_CASE_ASCII,
    };
    n->bot = bot;
    n->gate = chat_gate_new(bot, &gc);
    load_runtime(n);
    if (n->cfg.display_name)
        n->display_name = base_strdup(n->cfg.display_name);
    n->timeline_limit = LIVE_TIMELINE;
    uv_timer_init(loop, &n->phase_timer);
    uv_timer_init(loop, &n->grace_timer);
    uv_timer_init(loop, &n->reload_timer);
    n->phase_timer.data = n->grace_timer.data = n->reload_timer.data = n;
    n->handles_ready = 1;
    base_error err = {0};
    n->client = matrix_client_new(loop, n->cfg.homeserver, n->cfg.ca_file, &err);
    if (!n->client)
        base_log(BASE_LOG_ERROR, n->who, "cannot start HTTP: %s", err.text);
    else
        matrix_client_on_unauthorized(n->client, on_unauthorized, n);
    if (n->client && matrix_client_set_proxy(n->client, n->cfg.proxy, &err) != BASE_OK)
        base_log(BASE_LOG_ERROR, n->who, "%s", err.text);
    matrix_sender_hooks hooks = {n, on_resolved, on_drained, on_flushed};
    if (n->client)
        n->sender = matrix_sender_new(loop, n->client, n->cfg.state_dir, n->who, &hooks);
    if (!n->gate || !n->client || !n->sender || apply_ignores(n) != BASE_OK ||
        matrix_sender_set_account(n->sender, n->cfg.user_id, n->cfg.typing) != BASE_OK ||
        (n->cfg.access_token && matrix_client_set_token(n->client, n->cfg.access_token, NULL) != BASE_OK) ||
        (n->cfg.display_name && !n->display_name)) {
        matrix_network_free(n);
        return NULL;
    }
    return n;
}

void matrix_network_set_operator_hooks(matrix_network *n, const chat_op_hooks *hooks)
{
    n->op_hooks = *hooks;
}

void matrix_network_on_failure(matrix_network *n, void (*failed_cb)(void *ctx), void *ctx)
{
    n->failed_cb = failed_cb;
    n->failed_ctx = ctx;
}

void matrix_network_start(matrix_network *n)
{
    n->status_since = now(n);
    base_error err;
    if (matrix_sender_load(n->sender, n->cfg.user_id, &err) != BASE_OK) {
        fail(n, err.text);
        return;
    }
    for (size_t i = 0; i < n->cfg.n_listen; i++) {
        if (n->cfg.listen[i][0] == '!')
            matrix_strset_add(&n->listen_rooms, n->cfg.listen[i]);
        else
            matrix_sender_resolve(n->sender, n->cfg.listen[i]);
    }
    for (size_t i = 0; i < n->cfg.n_answer_unknown_commands; i++) {
        const char *room = n->cfg.answer_unknown_commands[i];
        if (room[0] == '!')
            matrix_strset_add(&n->unknown_rooms, room);
        else
            matrix_sender_resolve(n->sender, room); /* once, if listen names it too */
    }
    const matrix_state *st = matrix_sender_state(n->sender);
    base_log(BASE_LOG_INFO, n->who, "starting as %s on %s%s", n->cfg.user_id, n->cfg.homeserver,
             st->next_batch ? "" : " (first run: old messages will not be answered)");
    if (st->outbox.n)
        base_log(BASE_LOG_INFO, n->who, "%zu repl%s from the last run still to send", st->outbox.n,
                 st->outbox.n == 1 ? "y" : "ies");
    enter(n, matrix_client_has_token(n->client) ? PHASE_WHOAMI : PHASE_LOGIN);
}

void matrix_network_status(const matrix_network *n, chat_status *out)
{
    memset(out, 0, sizeof *out);
    out->kind = "matrix";
    out->name = n->cfg.name;
    out->connected = n->synced && n->phase == PHASE_SYNC && !n->stopping;
    out->state = n->stopping                  ? "stopping"
                 : n->phase == PHASE_FAILED   ? "failed"
                 : out->connected             ? "syncing"
                 : matrix_retry_failures(&n->retry) > 0 || n->blocked ? "retrying"
                                              : "connecting";
    out->since = n->status_since;
    out->lag = -1;
    out->last_heard = n->last_heard;
    out->rooms = n->sender ? matrix_sender_state(n->sender)->rooms.n : 0;
    out->queued = n->sender ? matrix_sender_state(n->sender)->outbox.n : 0;
    out->queue_max = n->cfg.queue_max;
    chat_gate_get_counts(n->gate, &out->counts);
}

/* ---- stop and free ---------------------------------------------------------------- */

/* Done once the client is closed and the last state is on disk. */
static void finish_stop(matrix_network *n)
{
    if (!n->stopping || n->client || !matrix_sender_flush(n->sender) || !n->done_cb)
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
    free(n->display_name);
    free(n->filter_id);
    matrix_strset_free(&n->listen_rooms);
    matrix_strset_free(&n->unknown_rooms);
    matrix_strmap_free(&n->member_names);
    chat_gate_free(n->gate);
    chat_runtime_free(&n->runtime);
    for (size_t i = 0; i < n->n_reloads; i++) {
        free(n->reloads[i].room_id);
        free(n->reloads[i].event_id);
        free(n->reloads[i].sender);
    }
    free(n);
}

static void on_client_closed(void *ctx)
{
    matrix_network *n = ctx;
    n->client = NULL;
    n->pending--;
    if (n->freeing)
        release(n);
    else
        finish_stop(n);
}

static void close_client(matrix_network *n)
{
    if (!n->client || n->client_closing)
        return;
    n->client_closing = 1;
    n->pending++;
    matrix_client_close(n->client, on_client_closed, n);
}

static void on_grace_timer(uv_timer_t *t)
{
    matrix_network *n = t->data;
    size_t left = matrix_sender_in_flight(n->sender);
    if (left)
        base_log(BASE_LOG_INFO, n->who, "%zu repl%s still in flight; they go out after the restart", left,
                 left == 1 ? "y" : "ies");
    close_client(n);
}

void matrix_network_stop(matrix_network *n, void (*done_cb)(void *ctx), void *ctx)
{
    if (n->stopping)
        return;
    n->stopping = 1;
    n->done_cb = done_cb;
    n->done_ctx = ctx;
    abandon_phase_request(n);
    if (matrix_sender_stop(n->sender) && n->client)
        uv_timer_start(&n->grace_timer, on_grace_timer, STOP_GRACE_MS, 0);
    else
        close_client(n);
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
    /* The client first: from then on no request reports to the sender or to us. */
    close_client(n);
    matrix_sender_free(n->sender);
    n->sender = NULL;
    if (n->handles_ready) {
        n->pending += 3;
        uv_close((uv_handle_t *)&n->phase_timer, on_handle_closed);
        uv_close((uv_handle_t *)&n->grace_timer, on_handle_closed);
        uv_close((uv_handle_t *)&n->reload_timer, on_handle_closed);
        return;
    }
    release(n);
}
