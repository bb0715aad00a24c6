/* Replies, joins, lookups and the state file of one account.
 *
 * A reply goes out only once the state file that holds it is on disk
 * (item->gen <= durable_gen): see matrix_state.h for why. Its transaction
 * id never changes, so a retry after a timeout, a 429 or a restart posts it
 * at most once. */
#include "matrix/matrix_sender.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"

#define REQUEST_TIMEOUT 30.0
#define TASK_ATTEMPTS 10         /* a join or lookup gives up after this many failures */
#define WRITE_RETRY 5.0          /* seconds between tries when the state cannot be written */
#define READY_BATCH 64

typedef enum task_kind {
    TASK_JOIN,    /* POST /join/{room} */
    TASK_RESOLVE, /* GET /directory/room/{alias} */
    TASK_LEAVE,   /* POST /rooms/{room}/leave with a reason: an invite rejected */
    TASK_DIRECT,  /* GET, then PUT, the bot's m.direct with the room under its user */
} task_kind;

/* A request that retries on its own. */
typedef struct task {
    task_kind kind;
    char *target;      /* room id or alias; also the key of its request */
    char *extra;       /* TASK_LEAVE: the reason; TASK_DIRECT: the other user */
    int attempts;
    double next_try;
    int in_flight;
    char *direct;      /* TASK_DIRECT, once read: the new m.direct content to PUT */
} task;

struct matrix_sender {
    uv_loop_t *loop;
    matrix_client *client;
    char *state_dir;
    char who[96];
    matrix_sender_hooks hooks;
    char *user_id;                /* for the typing and account-data paths */
    int typing;                   /* show typing while a reply waits behind a 429 */
    matrix_strset typing_rooms;   /* rooms where the bot shows as typing */

    matrix_state state;
    int persist;                  /* the state file was read and is ours: it may be written */
    int authorized;
    int stopping, freeing, timer_closed;
    size_t sends_in_flight;

    task *tasks;
    size_t n_tasks;
    uv_timer_t pump_timer;        /* sends, tasks and writes waiting for their time */

    /* The state file, written on a worker thread. */
    uint64_t state_gen;           /* generation of the state in memory that a save was asked for */
    uint64_t durable_gen;         /* generation known to be on disk */
    uint64_t writing_gen;
    int writing, write_again, flush_wanted;
    double write_retry_at;
    uv_work_t write_work;
    char *write_data;
    int write_rc;
    base_error write_err;
};

static double now(const matrix_sender *s)
{
    return (double)uv_now(s->loop) / 1000.0;
}

static double jitter(void)
{
    return (double)rand() / RAND_MAX;
}

/* ---- the object ------------------------------------------------------------------ */

matrix_sender *matrix_sender_new(uv_loop_t *loop, matrix_client *client, const char *state_dir, const char *who,
                                 const matrix_sender_hooks *hooks)
{
    matrix_sender *s = calloc(1, sizeof *s);
    if (!s || !(s->state_dir = base_strdup(state_dir))) {
        free(s);
        return NULL;
    }
    s->loop = loop;
    s->client = client;
    snprintf(s->who, sizeof s->who, "%s", who);
    if (hooks)
        s->hooks = *hooks;
    uv_timer_init(loop, &s->pump_timer);
    s->pump_timer.data = s;
    return s;
}

int matrix_sender_load(matrix_sender *s, const char *user_id, base_error *err)
{
    if (matrix_state_dir_create(s->state_dir, err) != BASE_OK || matrix_state_load(s->state_dir, &s->state, err) != BASE_OK)
        return BASE_ERR;
    if (s->state.user_id && strcmp(s->state.user_id, user_id) != 0) {
        base_error_set(err, "the state directory %.200s belongs to %.120s, not %.120s: give each account its own "
                       "state_dir", s->state_dir, s->state.user_id, user_id);
        matrix_state_free(&s->state); /* not ours: never overwrite it */
        return BASE_ERR;
    }
    s->persist = 1;
    return BASE_OK;
}

matrix_state *matrix_sender_state(matrix_sender *s)
{
    return &s->state;
}

size_t matrix_sender_in_flight(const matrix_sender *s)
{
    return s->sends_in_flight;
}

static void release(matrix_sender *s)
{
    if (s->writing || !s->timer_closed)
        return;
    matrix_state_free(&s->state);
    for (size_t i = 0; i < s->n_tasks; i++) {
        free(s->tasks[i].target);
        free(s->tasks[i].extra);
        free(s->tasks[i].direct);
    }
    free(s->tasks);
    free(s->user_id);
    matrix_strset_free(&s->typing_rooms);
    free(s->write_data);
    free(s->state_dir);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    matrix_sender *s = h->data;
    s->timer_closed = 1;
    release(s);
}

void matrix_sender_free(matrix_sender *s)
{
    if (!s)
        return;
    s->freeing = 1;
    memset(&s->hooks, 0, sizeof s->hooks);
    uv_close((uv_handle_t *)&s->pump_timer, on_timer_closed);
}

/* ---- the state file ---------------------------------------------------------- */

static void start_write(matrix_sender *s);

static void write_work(uv_work_t *w)
{
    /* On a worker thread: touches only write_data, the (fixed) state_dir
     * and the result fields, which the loop leaves alone meanwhile. */
    matrix_sender *s = w->data;
    s->write_rc = matrix_state_write_file(s->state_dir, MATRIX_STATE_FILE, s->write_data, strlen(s->write_data),
                                          &s->write_err);
}

/* Shutting down: blocking here is fine, and the last word counts. */
static void final_save(matrix_sender *s)
{
    if (!s->persist || (!s->write_again && s->state_gen == s->durable_gen))
        return;
    base_error err;
    if (matrix_state_save(s->state_dir, &s->state, &err) != BASE_OK)
        base_log(BASE_LOG_ERROR, s->who, "cannot save the state on shutdown: %s", err.text);
    else
        s->durable_gen = s->state_gen;
    s->write_again = 0;
}

static void write_done(uv_work_t *w, int status)
{
    matrix_sender *s = w->data;
    s->writing = 0;
    free(s->write_data);
    s->write_data = NULL;
    if (s->freeing) {
        release(s);
        return;
    }
    int ok = status == 0 && s->write_rc == BASE_OK;
    if (ok)
        s->durable_gen = s->writing_gen;
    if (s->stopping) {
        /* The final flush was waiting for this write to leave the file alone. */
        if (s->flush_wanted) {
            s->flush_wanted = 0;
            final_save(s);
            if (s->hooks.flushed)
                s->hooks.flushed(s->hooks.ctx);
        }
        return;
    }
    if (!ok) {
        base_log(BASE_LOG_ERROR, s->who, "cannot save the state: %s; replies wait until it can be saved (retrying in "
                 "%.0f s)", status ? uv_strerror(status) : s->write_err.text, WRITE_RETRY);
        s->write_again = 1;
        s->write_retry_at = now(s) + WRITE_RETRY;
    }
    if (s->write_again && now(s) >= s->write_retry_at)
        start_write(s);
    matrix_sender_pump(s);
}

static void start_write(matrix_sender *s)
{
    char *data = matrix_state_to_json(&s->state);
    if (!data) {
        base_log(BASE_LOG_ERROR, s->who, "out of memory saving the state");
        s->write_again = 1;
        s->write_retry_at = now(s) + WRITE_RETRY;
        return;
    }
    s->write_data = data;
    s->writing_gen = s->state_gen;
    s->write_again = 0;
    s->write_work.data = s;
    if (uv_queue_work(s->loop, &s->write_work, write_work, write_done) != 0) {
        free(s->write_data);
        s->write_data = NULL;
        s->write_again = 1;
        s->write_retry_at = now(s) + WRITE_RETRY;
        return;
    }
    s->writing = 1;
}

void matrix_sender_save(matrix_sender *s)
{
    if (!s->persist)
        return;
    s->state_gen++;
    if (s->writing || s->stopping)
        s->write_again = 1; /* the write in flight has an older snapshot; stop writes the last one */
    else
        start_write(s);
}

size_t matrix_sender_stop(matrix_sender *s)
{
    s->stopping = 1;
    uv_timer_stop(&s->pump_timer);
    return s->sends_in_flight;
}

int matrix_sender_flush(matrix_sender *s)
{
    if (s->writing) {
        s->flush_wanted = 1; /* write_done finishes it */
        return 0;
    }
    final_save(s);
    return 1;
}

/* ---- typing and receipts: one try each, nothing waits for them ------------------ */

int matrix_sender_set_account(matrix_sender *s, const char *user_id, int typing)
{
    char *copy = base_strdup(user_id);
    if (!copy)
        return BASE_ERR;
    free(s->user_id);
    s->user_id = copy;
    s->typing = typing;
    return BASE_OK;
}

static void on_best_effort(void *ctx, const matrix_response *resp)
{
    matrix_sender *s = ctx;
    if (resp->result.kind != MATRIX_OK)
        base_log(BASE_LOG_DEBUG, s->who, "%s: %s %s (not retried)", resp->key ? resp->key : "?",
                 resp->result.errcode, resp->result.error);
}

/* A request that is not retried; key names it in the debug log. */
static void best_effort(matrix_sender *s, const char *method, char *path, const char *body, const char *key)
{
    if (!path || !s->authorized || s->stopping || s->freeing) {
        free(path);
        return;
    }
    matrix_call call = {method, path, body, REQUEST_TIMEOUT, on_best_effort, s, key, 0, 0};
    base_error err = {0};
    if (!matrix_client_request(s->client, &call, &err))
        base_log(BASE_LOG_DEBUG, s->who, "%s: %s", key, err.text);
    free(path);
}

void matrix_sender_receipt(matrix_sender *s, const char *room_id, const char *event_id)
{
    best_effort(s, "POST", matrix_client_path("/rooms/%s/receipt/m.read/%s", room_id, event_id), "{}",
                "read receipt");
}

static void set_typing(matrix_sender *s, const char *room_id, int on, double seconds)
{
    if (!s->typing || !s->user_id)
        return;
    if (on ? matrix_strset_add(&s->typing_rooms, room_id) < 0 : !matrix_strset_remove(&s->typing_rooms, room_id))
        return;
    char body[80];
    if (on)
        snprintf(body, sizeof body, "{\"typing\":true,\"timeout\":%ld}", (long)(seconds * 1000));
    else
        snprintf(body, sizeof body, "{\"typing\":false}");
    best_effort(s, "PUT", matrix_client_path("/rooms/%s/typing/%s", room_id, s->user_id), body, "typing");
}

/* ---- replies ------------------------------------------------------------------- */

int matrix_sender_queue(matrix_sender *s, const char *room_id, const char *txn_id, const char *content)
{
    /* gen: the generation of the save that matrix_sender_save is about to ask for. */
    return matrix_outbox_add(&s->state.outbox, room_id, txn_id, content, s->state_gen + 1);
}

/* What the homeserver said to a send of it. */
static void settle_send(matrix_sender *s, matrix_outbox_item *it, const matrix_response *resp)
{
    const matrix_result *r = &resp->result;
    if (r->kind == MATRIX_OK) {
        json_t *root = json_loadb(resp->body, resp->len, 0, NULL);
        const char *event_id = json_string_value(json_object_get(root, "event_id"));
        base_log(BASE_LOG_INFO, s->who, "sent to %s: %s (txn %s)", it->room_id, event_id ? event_id : "?",
                 it->txn_id);
        json_decref(root);
        char *room = base_strdup(it->room_id);
        matrix_outbox_remove(&s->state.outbox, resp->key);
        matrix_sender_save(s);
        if (room && matrix_outbox_count_room(&s->state.outbox, room) == 0)
            set_typing(s, room, 0, 0);
        free(room);
    } else if (r->kind == MATRIX_FAILED) {
        base_log(BASE_LOG_ERROR, s->who, "cannot send to %s: %s %s; this reply is dropped", it->room_id, r->errcode,
                 r->error);
        matrix_outbox_remove(&s->state.outbox, resp->key);
        matrix_sender_save(s);
    } else if (r->kind == MATRIX_UNAUTHORIZED) {
        /* The reply waits for the (new) login, then goes again; a token
         * replaced meanwhile means it goes again at once. */
    } else {
        double delay = matrix_retry_delay(r, it->attempts++, jitter());
        it->next_try = now(s) + delay;
        base_log(r->kind == MATRIX_RATE_LIMITED ? BASE_LOG_INFO : BASE_LOG_WARN, s->who,
                 "sending to %s: %s%s%s; retrying in %.1f s (same txn %s)", it->room_id, r->errcode,
                 r->errcode[0] ? " " : "", r->error, delay, it->txn_id);
        /* The reply is on its way, only held up: say so as a person would. */
        if (r->kind == MATRIX_RATE_LIMITED)
            set_typing(s, it->room_id, 1, delay + 5 < 30 ? delay + 5 : 30);
    }
}

static void on_sent(void *ctx, const matrix_response *resp)
{
    matrix_sender *s = ctx;
    s->sends_in_flight--;
    matrix_outbox_item *it = matrix_outbox_find(&s->state.outbox, resp->key);
    if (it) {
        it->in_flight = 0;
        settle_send(s, it, resp);
    }
    if (!s->stopping)
        matrix_sender_pump(s);
    else if (s->sends_in_flight == 0 && s->hooks.drained)
        s->hooks.drained(s->hooks.ctx);
}

static void send_item(matrix_sender *s, matrix_outbox_item *it)
{
    char *path = matrix_client_path("/rooms/%s/send/m.room.message/%s", it->room_id, it->txn_id);
    base_error err = {0};
    matrix_call call = {"PUT", path, it->content, REQUEST_TIMEOUT, on_sent, s, it->txn_id, 0, 0};
    if (!path)
        base_error_set(&err, "out of memory");
    uint64_t id = path ? matrix_client_request(s->client, &call, &err) : 0;
    free(path);
    if (id) {
        it->in_flight = 1;
        s->sends_in_flight++;
    } else {
        base_log(BASE_LOG_ERROR, s->who, "sending to %s: %s", it->room_id, err.text);
        it->next_try = now(s) + matrix_backoff(it->attempts++, 1.0, MATRIX_BACKOFF_MAX, jitter());
    }
}

/* ---- joins and alias lookups --------------------------------------------------------- */

static void add_task(matrix_sender *s, task_kind kind, const char *target, const char *extra)
{
    for (size_t i = 0; i < s->n_tasks; i++)
        if (s->tasks[i].kind == kind && strcmp(s->tasks[i].target, target) == 0)
            return;
    task *grown = realloc(s->tasks, (s->n_tasks + 1) * sizeof *grown);
    char *copy = base_strdup(target), *more = extra ? base_strdup(extra) : NULL;
    if (!grown || !copy || (extra && !more)) {
        free(copy);
        free(more);
        if (grown)
            s->tasks = grown;
        base_log(BASE_LOG_ERROR, s->who, "out of memory queueing %s", target);
        return;
    }
    s->tasks = grown;
    s->tasks[s->n_tasks++] = (task){kind, copy, more, 0, 0, 0, NULL};
}

void matrix_sender_join(matrix_sender *s, const char *room_id)
{
    add_task(s, TASK_JOIN, room_id, NULL);
}

void matrix_sender_resolve(matrix_sender *s, const char *alias)
{
    add_task(s, TASK_RESOLVE, alias, NULL);
}

void matrix_sender_leave(matrix_sender *s, const char *room_id, const char *reason)
{
    add_task(s, TASK_LEAVE, room_id, reason ? reason : "");
}

void matrix_sender_mark_direct(matrix_sender *s, const char *room_id, const char *user_id)
{
    add_task(s, TASK_DIRECT, room_id, user_id);
}

static const char *task_what(task_kind kind)
{
    switch (kind) {
    case TASK_JOIN:
        return "joining";
    case TASK_RESOLVE:
        return "looking up";
    case TASK_LEAVE:
        return "rejecting the invite to";
    default:
        return "recording as a direct chat";
    }
}

/* m.direct as read (body; "" when the server has none) with room added
 * under user, as JSON text to PUT; NULL when it is there already (done) or
 * the content is not an object of lists (then *bad is set). */
static char *direct_with(const char *body, size_t len, const char *user, const char *room, int *bad)
{
    json_t *content = len ? json_loadb(body, len, 0, NULL) : json_object();
    *bad = 0;
    if (!json_is_object(content)) {
        json_decref(content);
        *bad = 1;
        return NULL;
    }
    json_t *rooms = json_object_get(content, user);
    if (rooms && !json_is_array(rooms)) {
        json_decref(content);
        *bad = 1;
        return NULL;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rooms, i, r)
        if (json_is_string(r) && strcmp(json_string_value(r), room) == 0) {
            json_decref(content);
            return NULL;
        }
    if (!rooms && json_object_set_new(content, user, rooms = json_array()) != 0)
        rooms = NULL;
    char *out = rooms && json_array_append_new(rooms, json_string(room)) == 0 ? json_dumps(content, JSON_COMPACT)
                                                                                : NULL;
    json_decref(content);
    return out;
}

static task *find_task(matrix_sender *s, task_kind kind, const char *target)
{
    for (size_t i = 0; target && i < s->n_tasks; i++)
        if (s->tasks[i].kind == kind && strcmp(s->tasks[i].target, target) == 0)
            return &s->tasks[i];
    return NULL;
}

static void remove_task(matrix_sender *s, task *t)
{
    size_t i = (size_t)(t - s->tasks);
    free(t->target);
    free(t->extra);
    free(t->direct);
    memmove(&s->tasks[i], &s->tasks[i + 1], (s->n_tasks - i - 1) * sizeof *t);
    s->n_tasks--;
}

/* A successful request of a task; body is the homeserver's answer. Returns
 * 0 when the task is done, 1 when it goes on (m.direct: read, then write). */
static int task_step(matrix_sender *s, task *t, const char *body, size_t len, long status)
{
    if (t->kind == TASK_DIRECT && !t->direct) {
        int bad;
        t->direct = direct_with(status == 404 ? "" : body, status == 404 ? 0 : len, t->extra, t->target, &bad);
        if (bad)
            base_log(BASE_LOG_WARN, s->who, "the account's m.direct is not what the spec describes; %s is not "
                     "added to it", t->target);
        return t->direct != NULL;
    }
    if (t->kind == TASK_DIRECT)
        base_log(BASE_LOG_INFO, s->who, "%s is recorded as a direct chat with %s", t->target, t->extra);
    return 0;
}

/* A finished task; body is the homeserver's last answer. */
static void task_succeeded(matrix_sender *s, const task *t, const char *body, size_t len)
{
    if (t->kind == TASK_JOIN) {
        base_log(BASE_LOG_INFO, s->who, "joined %s", t->target);
        return;
    }
    if (t->kind == TASK_LEAVE) {
        base_log(BASE_LOG_INFO, s->who, "rejected the invite to %s", t->target);
        return;
    }
    if (t->kind == TASK_DIRECT)
        return;
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *room_id = json_string_value(json_object_get(root, "room_id"));
    if (room_id && room_id[0] == '!') {
        base_log(BASE_LOG_INFO, s->who, "listen room %s is %s", t->target, room_id);
        if (s->hooks.resolved)
            s->hooks.resolved(s->hooks.ctx, t->target, room_id);
    } else {
        base_log(BASE_LOG_WARN, s->who, "looking up %s: no room_id in the answer", t->target);
    }
    json_decref(root);
}

static void task_done(matrix_sender *s, task_kind kind, const matrix_response *resp)
{
    task *t = find_task(s, kind, resp->key);
    if (!t)
        return;
    t->in_flight = 0;
    const matrix_result *r = &resp->result;
    const char *what = task_what(t->kind);
    /* No m.direct yet is an empty one. */
    int none_yet = t->kind == TASK_DIRECT && !t->direct && r->status == 404 && strcmp(r->errcode, "M_NOT_FOUND") == 0;
    if ((r->kind == MATRIX_OK || none_yet) && task_step(s, t, resp->body, resp->len, r->status)) {
        t->attempts = 0; /* on to the next request, at once */
        t->next_try = 0;
    } else if (r->kind == MATRIX_OK || none_yet) {
        /* Off the list first: the resolved hook may add tasks. */
        task done = *t;
        t->target = NULL;
        remove_task(s, t);
        task_succeeded(s, &done, resp->body, resp->len);
        free(done.target);
    } else if (r->kind == MATRIX_UNAUTHORIZED) {
        /* Waits for the (new) login, as a reply does. */
    } else if (r->kind == MATRIX_FAILED || t->attempts + 1 >= TASK_ATTEMPTS) {
        base_log(BASE_LOG_WARN, s->who, "%s %s failed: %s %s; giving up", what, t->target, r->errcode, r->error);
        remove_task(s, t);
    } else {
        double delay = matrix_retry_delay(r, t->attempts++, jitter());
        t->next_try = now(s) + delay;
        base_log(BASE_LOG_INFO, s->who, "%s %s: %s%s%s; retrying in %.1f s", what, t->target, r->errcode,
                 r->errcode[0] ? " " : "", r->error, delay);
    }
    if (!s->stopping)
        matrix_sender_pump(s);
}

static void on_joined(void *ctx, const matrix_response *resp)
{
    task_done(ctx, TASK_JOIN, resp);
}

static void on_resolved(void *ctx, const matrix_response *resp)
{
    task_done(ctx, TASK_RESOLVE, resp);
}

static void on_left(void *ctx, const matrix_response *resp)
{
    task_done(ctx, TASK_LEAVE, resp);
}

static void on_direct(void *ctx, const matrix_response *resp)
{
    task_done(ctx, TASK_DIRECT, resp);
}

static void start_task(matrix_sender *s, task *t)
{
    char *path = NULL, *body = NULL;
    matrix_call call = {0};
    switch (t->kind) {
    case TASK_JOIN:
        path = matrix_client_path("/join/%s", t->target);
        call = (matrix_call){"POST", path, "{}", REQUEST_TIMEOUT, on_joined, s, t->target, 0, 0};
        break;
    case TASK_RESOLVE:
        path = matrix_client_path("/directory/room/%s", t->target);
        call = (matrix_call){"GET", path, NULL, REQUEST_TIMEOUT, on_resolved, s, t->target, 0, 0};
        break;
    case TASK_LEAVE: {
        json_t *j = json_pack("{s:s}", "reason", t->extra);
        body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        path = body ? matrix_client_path("/rooms/%s/leave", t->target) : NULL;
        call = (matrix_call){"POST", path, body, REQUEST_TIMEOUT, on_left, s, t->target, 0, 0};
        break;
    }
    case TASK_DIRECT:
        path = s->user_id ? matrix_client_path("/user/%s/account_data/m.direct", s->user_id) : NULL;
        call = (matrix_call){t->direct ? "PUT" : "GET", path, t->direct, REQUEST_TIMEOUT, on_direct, s,
                             t->target, 0, 0};
        break;
    }
    base_error err = {0};
    if (!path)
        base_error_set(&err, "out of memory");
    uint64_t id = path ? matrix_client_request(s->client, &call, &err) : 0;
    free(path);
    free(body);
    if (id) {
        t->in_flight = 1;
    } else {
        base_log(BASE_LOG_ERROR, s->who, "%s: %s", t->target, err.text);
        t->next_try = now(s) + matrix_backoff(t->attempts++, 1.0, MATRIX_BACKOFF_MAX, jitter());
    }
}

/* ---- the pump ------------------------------------------------------------------------ */

static void on_pump_timer(uv_timer_t *t)
{
    matrix_sender_pump(t->data);
}

void matrix_sender_set_authorized(matrix_sender *s, int authorized)
{
    s->authorized = authorized;
    if (authorized)
        matrix_sender_pump(s); /* replies saved by the last run go out now */
}

void matrix_sender_pump(matrix_sender *s)
{
    if (s->stopping || s->freeing)
        return;
    double t_now = now(s), wake = -1;
    if (s->write_again && !s->writing) {
        if (t_now >= s->write_retry_at)
            start_write(s);
        else
            wake = s->write_retry_at;
    }
    if (s->authorized) {
        matrix_outbox_item *ready[READY_BATCH];
        size_t k = matrix_outbox_ready(&s->state.outbox, t_now, s->durable_gen, ready, READY_BATCH);
        /* send_item may not change the outbox, so the pointers stay valid. */
        for (size_t i = 0; i < k; i++)
            send_item(s, ready[i]);
        double next = matrix_outbox_next_wake(&s->state.outbox, s->durable_gen);
        if (next >= 0 && (wake < 0 || next < wake))
            wake = next;
        /* One m.direct change at a time: each reads, then writes, the whole. */
        int direct_busy = 0;
        for (size_t i = 0; i < s->n_tasks; i++)
            direct_busy |= s->tasks[i].kind == TASK_DIRECT && s->tasks[i].in_flight;
        for (size_t i = 0; i < s->n_tasks; i++) {
            task *t = &s->tasks[i];
            if (t->kind == TASK_DIRECT && !t->in_flight && direct_busy)
                continue;
            if (!t->in_flight && t->next_try <= t_now) {
                start_task(s, t);
                direct_busy |= t->kind == TASK_DIRECT && t->in_flight;
            }
            if (!t->in_flight && (wake < 0 || t->next_try < wake))
                wake = t->next_try;
        }
    }
    uv_timer_stop(&s->pump_timer);
    if (wake >= 0) {
        double delay = wake - t_now;
        uv_timer_start(&s->pump_timer, on_pump_timer, delay > 0 ? (uint64_t)(delay * 1000) + 1 : 1, 0);
    }
}
