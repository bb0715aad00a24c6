/* One sync batch, decided: the account's state and a parsed batch in,
 * actions out. Which rooms to join (invites from allowed inviters), which
 * rooms to remember as direct or encrypted, which replies and notices to
 * queue (each with its transaction id), and what to log. The reply gate
 * (chat/gate.h) decides who is answered: this turns each event into a
 * chat_message and the decision into an m.notice. Pure: no I/O, time passed
 * in, log lines returned as data; only the gate's limits change.
 *
 * The caller applies the actions in one go and then writes the state, with
 * next_batch moved on, so a batch is never answered twice and never lost
 * (see matrix_state.h). */
#ifndef MATRIX_BATCH_H
#define MATRIX_BATCH_H

#include <stddef.h>

#include "chat/gate.h"
#include "chat/operator.h"
#include "chat/runtime_state.h"
#include "matrix/matrix_format.h"
#include "matrix/matrix_state.h"
#include "matrix/matrix_sync.h"

/* What the batch is decided against; nothing here is changed but the gate. */
typedef struct matrix_batch_account {
    const char *user_id;            /* the bot's own */
    const char *display_name;       /* also an address, or NULL */
    char *const *allowed_inviters;  /* matrix_inviter_allowed */
    size_t n_allowed_inviters;
    const matrix_strset *listen;    /* room ids where confident unaddressed questions are answered */
    const matrix_strset *unknown_commands; /* room ids where an unknown command gets an answer */
    int read_receipts;              /* mark each answered message read */
    const matrix_strmap *member_names; /* "room\037user" -> display name, from earlier batches */
    const matrix_state *state;      /* direct and encrypted rooms known so far, the rooms the bot is
                                       in, its display names per room, the outbox */
    size_t queue_max;               /* the outbox holds at most this many */
    const char *encrypted_notice;   /* said once in each encrypted room; NULL: nothing */
    chat_gate *gate;                /* decides who is answered (its limits move on) */
    double now;                     /* monotonic seconds, for the gate */
    int live;                       /* 0: the account's first sync, whose messages are only recorded */
    char *const *admins;            /* user ids whose direct-chat commands are operator commands */
    size_t n_admins;
    const char *command_prefixes;   /* NULL: "!" */
    const chat_runtime *runtime;    /* operators' changes: invites to rooms they parted are declined */
} matrix_batch_account;

/* An admin's operator command, for the network to carry out (it needs the
 * server and the application); !help is answered here. */
typedef struct matrix_batch_op {
    char *room_id, *event_id, *sender;
    chat_op op;
} matrix_batch_op;

/* A reply or notice to queue in the outbox. */
typedef struct matrix_batch_send {
    char *room_id;
    char txn_id[MATRIX_TXN_MAX];
    char kind;                      /* 'r' an answer, 'b' a busy notice, 'e' the encryption notice */
    char *content;                  /* the event content, JSON text */
} matrix_batch_send;

typedef struct matrix_batch_log {
    int level;                      /* a base_log_level */
    char *text;
} matrix_batch_log;

typedef struct matrix_batch_actions {
    matrix_strset joins;            /* rooms to join (the inviter is allowed, or a room the bot is in
                                       was upgraded to it) */
    matrix_strmap leaves;           /* invites to reject: room -> the reason given */
    matrix_strmap direct_writes;    /* direct chats joined: room -> the user, for m.direct */
    matrix_strmap upgrades;         /* tombstones followed: old room -> new room */
    matrix_strmap receipts;         /* room -> the last message answered there, to mark read */
    matrix_strset direct;           /* rooms newly known as direct chats (from invites) */
    int replace_direct_account;     /* m.direct came: direct_account replaces the saved one */
    matrix_strset direct_account;
    matrix_strset encrypted;        /* rooms newly known to be encrypted */
    matrix_batch_send *sends;       /* in the order they are to go out; once an 'e' send is
                                       queued, its room counts as told (told_encrypted) */
    size_t n_sends;
    matrix_batch_op *ops;           /* admins' commands, in order */
    size_t n_ops;
    matrix_batch_log *logs;         /* in order */
    size_t n_logs;
    int oom;                        /* memory ran out: some actions or log lines are missing */
} matrix_batch_actions;

/* Decides batch s for the account into out (which it initialises; free it
 * with matrix_batch_actions_free, also after an error). Returns BASE_OK, or
 * BASE_ERR when memory ran out (out->oom is set; what it holds is still
 * right to apply, only incomplete). */
int matrix_batch_decide(const matrix_batch_account *account, const matrix_sync *s, matrix_batch_actions *out);
void matrix_batch_actions_free(matrix_batch_actions *a);

#endif
