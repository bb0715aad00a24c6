/* What a Matrix account keeps between runs, in one JSON file in its state
 * directory: the sync position (next_batch), the replies not yet confirmed
 * by the homeserver (with their transaction ids), the device id, and what
 * the bot learnt about rooms (encrypted ones and whether it told them so,
 * direct chats).
 *
 * Why one file: next_batch and the send queue must change together. The
 * network code hands a batch's replies to the outbox and sets next_batch in
 * memory, then writes both in one atomic replace (temporary file, fsync,
 * rename, fsync of the directory). Replies are sent only once the file that
 * holds them is on disk. So a crash before the rename leaves the old file
 * and no reply of that batch has gone out: the batch is fetched again and
 * answered then. A crash after it finds the replies in the file and sends
 * them with their saved transaction ids; one that had reached the server
 * before the crash has the same transaction id (derived from the question's
 * event id), so the server does not post it twice. No message is answered
 * twice and none is lost silently. */
#ifndef MATRIX_STATE_H
#define MATRIX_STATE_H

#include <stddef.h>

#include "base/error.h"
#include "matrix/matrix_outbox.h"

#define MATRIX_STATE_FILE "state.json"

/* A small set of strings (room ids); linear, as an account is in few rooms. */
typedef struct matrix_strset {
    char **items;
    size_t n;
} matrix_strset;

/* Returns 1 when added, 0 when already there, -1 when out of memory. */
int matrix_strset_add(matrix_strset *s, const char *item);
int matrix_strset_has(const matrix_strset *s, const char *item);
int matrix_strset_remove(matrix_strset *s, const char *item);
void matrix_strset_free(matrix_strset *s);

/* Pairs of strings (room id -> a name), linear too. */
typedef struct matrix_strmap {
    char **keys, **values;
    size_t n;
} matrix_strmap;

/* value NULL removes key. Returns 0, or -1 when out of memory. */
int matrix_strmap_set(matrix_strmap *m, const char *key, const char *value);
const char *matrix_strmap_get(const matrix_strmap *m, const char *key);
void matrix_strmap_free(matrix_strmap *m);

typedef struct matrix_state {
    char *user_id;             /* whose state this is: a state dir serves one account */
    char *device_id;           /* kept so a password login reuses the device */
    char *next_batch;          /* NULL before the first sync */
    matrix_strset encrypted;   /* rooms known to be encrypted */
    matrix_strset told_encrypted; /* rooms already told that the bot cannot read them */
    matrix_strset direct_invites; /* direct chats from is_direct invites */
    matrix_strset direct_account; /* the rooms of the latest m.direct account data */
    matrix_strset rooms;       /* the rooms the bot is in, as the syncs so far have told */
    int rooms_known;           /* rooms holds them all (a first sync filled it): a room not in it
                                  has just been joined, and what it brings is old history */
    matrix_strmap room_names;  /* the bot's display name in rooms where it differs per room */
    matrix_outbox outbox;
} matrix_state;

/* Serialises s (the outbox without its in-memory fields). Caller frees. */
char *matrix_state_to_json(const matrix_state *s);
/* Reads text into an empty s; on error s stays empty. */
int matrix_state_from_json(const char *text, size_t len, matrix_state *s, base_error *err);
void matrix_state_free(matrix_state *s);

/* Creates dir and its parents (mode 0700) when missing. A directory that
 * group or others may write is refused, with the chmod that fixes it:
 * whoever can write the outbox there can make the bot post anything. */
int matrix_state_dir_create(const char *dir, base_error *err);
/* Reads dir/state.json into an empty s; a missing file is an empty state.
 * A state file that group or others may write is refused, as its folder. */
int matrix_state_load(const char *dir, matrix_state *s, base_error *err);
/* Replaces dir/name with data atomically and durably. Blocking; uses only
 * its arguments, so it may run on a worker thread. */
int matrix_state_write_file(const char *dir, const char *name, const char *data, size_t len, base_error *err);
/* matrix_state_to_json + matrix_state_write_file. */
int matrix_state_save(const char *dir, const matrix_state *s, base_error *err);

#endif
