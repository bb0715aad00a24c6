/* Shared between the files of one Matrix network (not a public header):
 * matrix_network.c runs the account (login, sync, stop), matrix_batch.c
 * turns a sync batch into joins and replies, matrix_sender.c sends them and
 * keeps the state file. */
#ifndef MATRIX_INTERNAL_H
#define MATRIX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "careerbot/bot.h"
#include "net/http_uv.h"
#include "matrix/matrix_config.h"
#include "matrix/matrix_network.h"
#include "matrix/matrix_retry.h"
#include "matrix/matrix_state.h"
#include "matrix/matrix_sync.h"
#include "chat/gate.h"

enum mx_phase {
    MX_IDLE,   /* not started */
    MX_LOGIN,  /* POST /login */
    MX_WHOAMI, /* GET /account/whoami */
    MX_FILTER, /* POST /user/{userId}/filter */
    MX_SYNC,   /* GET /sync, again and again */
    MX_FAILED  /* stopped for good; waits for matrix_network_stop */
};

enum mx_task_kind { MX_TASK_JOIN = 'J', MX_TASK_RESOLVE = 'R' };

/* A join or an alias lookup that retries on its own. */
typedef struct mx_task {
    int kind;
    char *target;      /* room id or alias */
    int attempts;
    double next_try;
    int in_flight;
} mx_task;

struct matrix_network {
    uv_loop_t *loop;
    matrix_network_config cfg;
    core_bot *bot;
    net_http *http;
    char who[96];                 /* "matrix.NAME" for log lines */
    char *token;                  /* the access token in use: only ever in the Authorization header */
    char *display_name;           /* the account's display name, for "Name: question" */
    char *filter_id;
    matrix_state state;
    int state_loaded;             /* the state file was read: it may be written */

    int phase;
    uint64_t phase_seq;           /* bumped whenever the phase's request is abandoned */
    uint64_t phase_req;           /* net_http id of the phase's request in flight, 0 none */
    int attempt;                  /* failures in a row in this phase */
    int authorized;               /* the token is known good: sends and joins may go */
    uint64_t token_gen;           /* bumped by every login: tells a stale 401 from a fresh one */
    int sync_live;                /* the sync in flight had a since token: its messages are answered */

    /* The state file, written on a worker thread (see matrix_sender.c). */
    uint64_t state_gen;           /* generation of the state in memory that a save was asked for */
    uint64_t durable_gen;         /* generation known to be on disk */
    uint64_t writing_gen;
    int writing, write_again;
    double write_retry_at;
    uv_work_t write_work;
    char *write_data;
    int write_rc;
    base_error write_err;

    mx_task *tasks;
    size_t n_tasks;
    matrix_strset listen_rooms;   /* room ids of cfg.listen, aliases once resolved */
    size_t sends_in_flight;
    chat_gate *gate;              /* who gets an answer, within which limits */

    uv_timer_t phase_timer;       /* retries of the phase's request */
    uv_timer_t pump_timer;        /* sends and tasks waiting for their time */
    uv_timer_t grace_timer;       /* how long stop waits for replies in flight */
    int handles_ready;
    int pending;                  /* closes, http teardown and writes that still point at us */
    int profile_checked;          /* the display name was looked up in this run */
    int stopping, freeing, http_closing, failed_reported;
    void (*done_cb)(void *ctx);
    void *done_ctx;
    void (*failed_cb)(void *ctx);
    void *failed_ctx;
};

typedef struct mx_request mx_request;
/* Completion of a request: r says what happened; body is the raw response. */
typedef void (*mx_done_fn)(matrix_network *n, const mx_request *rq, const matrix_result *r, const char *body,
                           size_t len);
struct mx_request {
    matrix_network *n;
    mx_done_fn done;
    char *data;       /* owned; freed after done returns */
    uint64_t seq;     /* n->phase_seq when sent */
    uint64_t token_gen; /* n->token_gen when sent */
};

/* Monotonic seconds on the loop's clock. */
double mx_now(const matrix_network *n);
double mx_jitter(void);

/* Sends METHOD homeserver/_matrix/client/v3 + path (already escaped) with
 * the token. data (may be NULL) is copied. Returns the request id, 0 when
 * it could not start (done is then not called). */
uint64_t mx_call(matrix_network *n, const char *method, const char *path, const char *body, double timeout,
                 mx_done_fn done, const char *data);
/* path segment, escaped for a URL. Caller frees. */
char *mx_escape(const char *s);

/* A request said the token is bad: log in again (with a password) or fail.
 * Returns 1 when the request had been sent with a token that a login has
 * replaced since: the caller simply retries it. */
int mx_unauthorized(matrix_network *n, const mx_request *rq, const matrix_result *r);
/* Stops the account for good with a log line that says why. */
void mx_fail(matrix_network *n, const char *why);

/* Tell matrix_network.c that the last send in flight finished, or that a
 * state write finished, so a stop (or free) waiting for them can go on. */
void mx_sends_drained(matrix_network *n);
void mx_write_finished(matrix_network *n);

/* matrix_batch.c: one parsed sync batch. live: answer its messages. */
void mx_handle_batch(matrix_network *n, const matrix_sync *s, int live);

/* matrix_sender.c */
/* Queues a send (content: JSON text) for the next state write; returns 1
 * when queued, 0 when already queued, -1 on failure. */
int mx_queue_send(matrix_network *n, const char *room_id, const char *txn_id, const char *content);
/* Adds a join or alias lookup unless the same one is waiting. */
void mx_add_task(matrix_network *n, int kind, const char *target);
/* Starts what may go now and arms the pump timer for the rest. */
void mx_pump(matrix_network *n);
/* Asks for the state to be written (on a worker thread). */
void mx_save_state(matrix_network *n);
/* Called by stop once http is gone: waits for a write in flight, then
 * writes the final state. Returns 1 when done. */
int mx_flush_state(matrix_network *n);

#endif
