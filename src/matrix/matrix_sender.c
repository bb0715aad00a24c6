/* Getting things to the homeserver: replies from the outbox (PUT
 * /rooms/{roomId}/send/m.room.message/{txnId}, one in flight per room, in
 * order), joins and alias lookups that retry on their own, and the state
 * file, written on libuv's worker pool so the loop never waits on fsync.
 *
 * A reply goes out only once the state file that holds it is on disk
 * (item->gen <= durable_gen): see matrix_state.h for why. Its transaction
 * id never changes, so a retry after a timeout, a 429 or a restart posts it
 * at most once. */
#include "matrix/matrix_internal.h"

#include "base/str.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define REQUEST_TIMEOUT 30.0
#define TASK_ATTEMPTS 10         /* a join or lookup gives up after this many failures */
#define WRITE_RETRY 5.0          /* seconds between tries when the state cannot be written */
#define READY_BATCH 64

/* ---- the state file ---------------------------------------------------------- */

static void start_write(matrix_network *n);

static void write_work(uv_work_t *w)
{
    /* On a worker thread: touches only write_data, the (fixed) state_dir
     * and the result fields, which the loop leaves alone meanwhile. */
    matrix_network *n = w->data;
    n->write_rc = matrix_state_write_file(n->cfg.state_dir, MATRIX_STATE_FILE, n->write_data,
                                          strlen(n->write_data), &n->write_err);
}

static void write_done(uv_work_t *w, int status)
{
    matrix_network *n = w->data;
    n->writing = 0;
    n->pending--;
    free(n->write_data);
    n->write_data = NULL;
    if (n->freeing || n->stopping) {
        mx_write_finished(n);
        return;
    }
    if (status == 0 && n->write_rc == BASE_OK) {
        n->durable_gen = n->writing_gen;
    } else {
        base_log(BASE_LOG_ERROR, n->who, "cannot save the state: %s; replies wait until it can be saved (retrying in "
               "%.0f s)", status ? uv_strerror(status) : n->write_err.text, WRITE_RETRY);
        n->write_again = 1;
        n->write_retry_at = mx_now(n) + WRITE_RETRY;
    }
    if (n->write_again && mx_now(n) >= n->write_retry_at)
        start_write(n);
    mx_pump(n);
}

static void start_write(matrix_network *n)
{
    char *data = matrix_state_to_json(&n->state);
    if (!data) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory saving the state");
        n->write_again = 1;
        n->write_retry_at = mx_now(n) + WRITE_RETRY;
        return;
    }
    n->write_data = data;
    n->writing_gen = n->state_gen;
    n->write_again = 0;
    n->write_work.data = n;
    if (uv_queue_work(n->loop, &n->write_work, write_work, write_done) != 0) {
        free(n->write_data);
        n->write_data = NULL;
        n->write_again = 1;
        n->write_retry_at = mx_now(n) + WRITE_RETRY;
        return;
    }
    n->writing = 1;
    n->pending++;
}

void mx_save_state(matrix_network *n)
{
    if (!n->state_loaded)
        return;
    n->state_gen++;
    if (n->writing || n->stopping)
        n->write_again = 1; /* the write in flight has an older snapshot; stop writes the last one */
    else
        start_write(n);
}

int mx_flush_state(matrix_network *n)
{
    if (n->writing)
        return 0; /* write_done calls back */
    if (n->state_loaded && (n->write_again || n->state_gen != n->durable_gen)) {
        base_error err;
        /* Shutting down: blocking here is fine, and the last word counts. */
        if (matrix_state_save(n->cfg.state_dir, &n->state, &err) != BASE_OK)
            base_log(BASE_LOG_ERROR, n->who, "cannot save the state on shutdown: %s", err.text);
        else
            n->durable_gen = n->state_gen;
        n->write_again = 0;
    }
    return 1;
}

/* ---- replies ------------------------------------------------------------------- */

int mx_queue_send(matrix_network *n, const char *room_id, const char *txn_id, const char *content)
{
    /* gen: the generation of the save that mx_save_state is about to ask for. */
    return matrix_outbox_add(&n->state.outbox, room_id, txn_id, content, n->state_gen + 1);
}

static void on_sent(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body, size_t len)
{
    matrix_outbox_item *it = matrix_outbox_find(&n->state.outbox, rq->data);
    n->sends_in_flight--;
    if (!it) {
        mx_sends_drained(n);
        return;
    }
    it->in_flight = 0;
    if (r->kind == MATRIX_OK) {
        json_t *root = json_loadb(body, len, 0, NULL);
        const char *event_id = json_string_value(json_object_get(root, "event_id"));
        base_log(BASE_LOG_INFO, n->who, "sent to %s: %s (txn %s)", it->room_id, event_id ? event_id : "?", it->txn_id);
        json_decref(root);
        matrix_outbox_remove(&n->state.outbox, rq->data);
        mx_save_state(n);
    } else if (r->kind == MATRIX_FAILED) {
        base_log(BASE_LOG_ERROR, n->who, "cannot send to %s: %s %s; this reply is dropped", it->room_id, r->errcode,
               r->error);
        matrix_outbox_remove(&n->state.outbox, rq->data);
        mx_save_state(n);
    } else if (r->kind == MATRIX_UNAUTHORIZED) {
        mx_unauthorized(n, rq, r); /* the reply waits for the (new) login, then goes again */
    } else {
        double delay = matrix_retry_delay(r, it->attempts++, mx_jitter());
        it->next_try = mx_now(n) + delay;
        base_log(r->kind == MATRIX_RATE_LIMITED ? BASE_LOG_INFO : BASE_LOG_WARN, n->who,
               "sending to %s: %s%s%s; retrying in %.1f s (same txn %s)", it->room_id, r->errcode,
               r->errcode[0] ? " " : "", r->error, delay, it->txn_id);
    }
    if (n->stopping)
        mx_sends_drained(n);
    else
        mx_pump(n);
}

static void send_item(matrix_network *n, matrix_outbox_item *it)
{
    char *room = mx_escape(it->room_id), *txn = mx_escape(it->txn_id);
    size_t cap = (room ? strlen(room) : 0) + (txn ? strlen(txn) : 0) + 64;
    char *path = malloc(cap);
    uint64_t id = 0;
    if (room && txn && path) {
        snprintf(path, cap, "/rooms/%s/send/m.room.message/%s", room, txn);
        id = mx_call(n, "PUT", path, it->content, REQUEST_TIMEOUT, on_sent, it->txn_id);
    }
    free(room), free(txn), free(path);
    if (id) {
        it->in_flight = 1;
        n->sends_in_flight++;
    } else {
        it->next_try = mx_now(n) + matrix_backoff(it->attempts++, 1.0, MATRIX_BACKOFF_MAX, mx_jitter());
    }
}

/* ---- joins and alias lookups --------------------------------------------------------- */

void mx_add_task(matrix_network *n, int kind, const char *target)
{
    for (size_t i = 0; i < n->n_tasks; i++)
        if (n->tasks[i].kind == kind && strcmp(n->tasks[i].target, target) == 0)
            return;
    mx_task *grown = realloc(n->tasks, (n->n_tasks + 1) * sizeof *grown);
    char *copy = base_strdup(target);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            n->tasks = grown;
        base_log(BASE_LOG_ERROR, n->who, "out of memory queueing %s", target);
        return;
    }
    n->tasks = grown;
    n->tasks[n->n_tasks++] = (mx_task){kind, copy, 0, 0, 0};
}

static mx_task *find_task(matrix_network *n, const char *data)
{
    for (size_t i = 0; i < n->n_tasks; i++)
        if (n->tasks[i].kind == data[0] && strcmp(n->tasks[i].target, data + 1) == 0)
            return &n->tasks[i];
    return NULL;
}

static void remove_task(matrix_network *n, mx_task *t)
{
    size_t i = (size_t)(t - n->tasks);
    free(t->target);
    memmove(&n->tasks[i], &n->tasks[i + 1], (n->n_tasks - i - 1) * sizeof *t);
    n->n_tasks--;
}

static void on_task_done(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body,
                         size_t len)
{
    mx_task *t = find_task(n, rq->data);
    if (!t)
        return;
    t->in_flight = 0;
    const char *what = t->kind == MX_TASK_JOIN ? "joining" : "looking up";
    if (r->kind == MATRIX_OK) {
        json_t *root = json_loadb(body, len, 0, NULL);
        const char *room_id = json_string_value(json_object_get(root, "room_id"));
        if (t->kind == MX_TASK_JOIN) {
            base_log(BASE_LOG_INFO, n->who, "joined %s", t->target);
        } else if (room_id && room_id[0] == '!') {
            base_log(BASE_LOG_INFO, n->who, "listen room %s is %s", t->target, room_id);
            matrix_strset_add(&n->listen_rooms, room_id);
        } else {
            base_log(BASE_LOG_WARN, n->who, "looking up %s: no room_id in the answer", t->target);
        }
        json_decref(root);
        remove_task(n, t);
    } else if (r->kind == MATRIX_UNAUTHORIZED) {
        mx_unauthorized(n, rq, r);
    } else if (r->kind == MATRIX_FAILED || t->attempts + 1 >= TASK_ATTEMPTS) {
        base_log(BASE_LOG_WARN, n->who, "%s %s failed: %s %s; giving up", what, t->target, r->errcode, r->error);
        remove_task(n, t);
    } else {
        double delay = matrix_retry_delay(r, t->attempts++, mx_jitter());
        t->next_try = mx_now(n) + delay;
        base_log(BASE_LOG_INFO, n->who, "%s %s: %s%s%s; retrying in %.1f s", what, t->target, r->errcode,
               r->errcode[0] ? " " : "", r->error, delay);
    }
    if (!n->stopping)
        mx_pump(n);
}

static void start_task(matrix_network *n, mx_task *t)
{
    char *target = mx_escape(t->target);
    size_t cap = (target ? strlen(target) : 0) + 32;
    char *path = malloc(cap), *data = malloc(strlen(t->target) + 2);
    uint64_t id = 0;
    if (target && path && data) {
        data[0] = (char)t->kind;
        strcpy(data + 1, t->target);
        if (t->kind == MX_TASK_JOIN) {
            snprintf(path, cap, "/join/%s", target);
            id = mx_call(n, "POST", path, "{}", REQUEST_TIMEOUT, on_task_done, data);
        } else {
            snprintf(path, cap, "/directory/room/%s", target);
            id = mx_call(n, "GET", path, NULL, REQUEST_TIMEOUT, on_task_done, data);
        }
    }
    free(target), free(path), free(data);
    if (id)
        t->in_flight = 1;
    else
        t->next_try = mx_now(n) + matrix_backoff(t->attempts++, 1.0, MATRIX_BACKOFF_MAX, mx_jitter());
}

/* ---- the pump ------------------------------------------------------------------------ */

static void on_pump_timer(uv_timer_t *t)
{
    mx_pump(t->data);
}

void mx_pump(matrix_network *n)
{
    if (n->stopping || n->freeing || n->phase == MX_FAILED)
        return;
    double now = mx_now(n), wake = -1;
    if (n->write_again && !n->writing) {
        if (now >= n->write_retry_at)
            start_write(n);
        else
            wake = n->write_retry_at;
    }
    if (n->authorized) {
        matrix_outbox_item *ready[READY_BATCH];
        size_t k = matrix_outbox_ready(&n->state.outbox, now, n->durable_gen, ready, READY_BATCH);
        /* send_item may not change the outbox, so the pointers stay valid. */
        for (size_t i = 0; i < k; i++)
            send_item(n, ready[i]);
        double next = matrix_outbox_next_wake(&n->state.outbox, n->durable_gen);
        if (next >= 0 && (wake < 0 || next < wake))
            wake = next;
        for (size_t i = 0; i < n->n_tasks; i++) {
            mx_task *t = &n->tasks[i];
            if (!t->in_flight && t->next_try <= now)
                start_task(n, t);
            if (!t->in_flight && (wake < 0 || t->next_try < wake))
                wake = t->next_try;
        }
    }
    uv_timer_stop(&n->pump_timer);
    if (wake >= 0) {
        double delay = wake - now;
        uv_timer_start(&n->pump_timer, on_pump_timer, delay > 0 ? (uint64_t)(delay * 1000) + 1 : 1, 0);
    }
}
