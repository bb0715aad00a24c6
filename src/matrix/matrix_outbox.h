/* The replies waiting to be sent, in order, each with the transaction id it
 * keeps across retries and restarts. Sends are ordered per room: only the
 * oldest item of a room (its head) may be in flight, so a 429 or a retry
 * never reorders a room's answers; different rooms proceed independently.
 * Pure: times are passed in. */
#ifndef MATRIX_OUTBOX_H
#define MATRIX_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

typedef struct matrix_outbox_item {
    char *room_id;
    char *txn_id;
    char *content;     /* the event content as JSON text */
    /* Kept in memory only: */
    uint64_t gen;      /* state generation that first holds the item; it is sent only once that is on disk */
    double next_try;   /* monotonic seconds; 0: now */
    int attempts;      /* failed tries so far, for the backoff */
    int in_flight;
} matrix_outbox_item;

typedef struct matrix_outbox {
    matrix_outbox_item *items; /* oldest first */
    size_t n, cap;
} matrix_outbox;

/* Appends a copy. Returns 1 when added, 0 when an item with txn_id is
 * already waiting (the same answer queued twice), -1 when out of memory. */
int matrix_outbox_add(matrix_outbox *o, const char *room_id, const char *txn_id, const char *content, uint64_t gen);
matrix_outbox_item *matrix_outbox_find(matrix_outbox *o, const char *txn_id);
/* Removes the item with txn_id; returns 1 when it was there. */
int matrix_outbox_remove(matrix_outbox *o, const char *txn_id);

/* The heads that may be sent now (not in flight, next_try <= now, gen <=
 * durable_gen), oldest first, at most max of them into out. Returns how
 * many. Pointers stay valid until the outbox changes. */
size_t matrix_outbox_ready(matrix_outbox *o, double now, uint64_t durable_gen, matrix_outbox_item **out, size_t max);
/* The earliest next_try of a head that waits only for time, or -1 when none. */
double matrix_outbox_next_wake(const matrix_outbox *o, uint64_t durable_gen);
/* Items of room_id waiting (for the per-room queue limit). */
size_t matrix_outbox_count_room(const matrix_outbox *o, const char *room_id);

void matrix_outbox_free(matrix_outbox *o);

#endif
