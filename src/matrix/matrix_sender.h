/* Getting things to the homeserver for one account, over its matrix_client:
 * replies from the outbox (PUT /rooms/{roomId}/send/m.room.message/{txnId},
 * one in flight per room, in order, retried with the same transaction id),
 * joins and alias lookups that retry on their own, and the account's state
 * file (matrix_state.h), which the sender loads, owns and writes on libuv's
 * worker pool so the loop never waits on fsync.
 *
 * A reply goes out only once the state file that holds it is on disk: see
 * matrix_state.h for why. Nothing is sent while the account is not
 * authorized (its token is being checked or replaced). */
#ifndef MATRIX_SENDER_H
#define MATRIX_SENDER_H

#include <stddef.h>
#include <uv.h>

#include "base/error.h"
#include "matrix/matrix_client.h"
#include "matrix/matrix_state.h"

typedef struct matrix_sender matrix_sender;

typedef struct matrix_sender_hooks {
    void *ctx;
    /* An alias lookup (matrix_sender_resolve) found its room. */
    void (*resolved)(void *ctx, const char *alias, const char *room_id);
    /* After matrix_sender_stop: the last send in flight has finished. */
    void (*drained)(void *ctx);
    /* After matrix_sender_flush returned 0: the state is saved now. */
    void (*flushed)(void *ctx);
} matrix_sender_hooks;

/* A sender over client (borrowed: it must outlive the sender's use of it,
 * that is until matrix_sender_stop or matrix_sender_free). state_dir and who
 * ("matrix.NAME", for log lines) are copied; hooks too. NULL when out of
 * memory. */
matrix_sender *matrix_sender_new(uv_loop_t *loop, matrix_client *client, const char *state_dir, const char *who,
                                 const matrix_sender_hooks *hooks);
/* Creates the state directory when missing and reads the state file. A
 * state that belongs to another account than user_id is refused (and never
 * overwritten). Until this succeeds nothing is ever written. */
int matrix_sender_load(matrix_sender *s, const char *user_id, base_error *err);
/* The state the sender keeps (owned by the sender). Change it, then call
 * matrix_sender_save; the outbox changes through matrix_sender_queue only. */
matrix_state *matrix_sender_state(matrix_sender *s);
/* The state changed: write it (on a worker thread, or at the final flush
 * once stopping). */
void matrix_sender_save(matrix_sender *s);

/* Queues a reply (content: JSON text) in the outbox, to go out once the
 * next save is on disk. Returns 1 when queued, 0 when already queued, -1
 * when out of memory. */
int matrix_sender_queue(matrix_sender *s, const char *room_id, const char *txn_id, const char *content);
/* Joins room_id / looks up the room of alias, retrying on their own, unless
 * the same one is already waiting. */
void matrix_sender_join(matrix_sender *s, const char *room_id);
void matrix_sender_resolve(matrix_sender *s, const char *alias);
/* Rejects the invite to room_id (leaves it, with the reason), retrying on
 * its own. */
void matrix_sender_leave(matrix_sender *s, const char *room_id, const char *reason);
/* Adds room_id to the account's m.direct under user_id (reads it, then
 * writes it back with the room added; one such change at a time). */
void matrix_sender_mark_direct(matrix_sender *s, const char *room_id, const char *user_id);
/* Marks event_id read in room_id (one try: nothing waits for it). */
void matrix_sender_receipt(matrix_sender *s, const char *room_id, const char *event_id);
/* The account's user id (copied; for m.direct and typing) and whether the
 * bot shows as typing while a reply waits behind a rate limit. */
int matrix_sender_set_account(matrix_sender *s, const char *user_id, int typing);

/* Whether the token is known good: sends, joins and lookups go only then.
 * Becoming authorized starts what waits. */
void matrix_sender_set_authorized(matrix_sender *s, int authorized);
/* Starts what may go now and arms a timer for what waits for its time. */
void matrix_sender_pump(matrix_sender *s);
/* Sends whose answer has not come yet. */
size_t matrix_sender_in_flight(const matrix_sender *s);

/* Starts nothing new from now on (saves wait for matrix_sender_flush).
 * Returns the sends still in flight: when not 0, hooks.drained runs once
 * they have finished (or never, if the client is closed first). */
size_t matrix_sender_stop(matrix_sender *s);
/* After matrix_sender_stop, once the client is closed: writes the last
 * state (blocking: shutting down, and the last word counts). Returns 1 when
 * done; 0 when a write is still in flight on the worker pool: then
 * hooks.flushed runs when the state has been saved. */
int matrix_sender_flush(matrix_sender *s);

/* Frees the sender; no hook runs after this. Its memory (and the state) goes
 * once its timer has closed and a write in flight has finished, so the loop
 * must keep running until then. */
void matrix_sender_free(matrix_sender *s);

#endif
