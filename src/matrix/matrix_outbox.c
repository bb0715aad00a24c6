/* The ordered send queue: per-room heads, nothing else. */
#include "matrix/matrix_outbox.h"

#include "base/str.h"

#include <stdlib.h>
#include <string.h>

static void item_free(matrix_outbox_item *it)
{
    free(it->room_id);
    free(it->txn_id);
    free(it->content);
}

int matrix_outbox_add(matrix_outbox *o, const char *room_id, const char *txn_id, const char *content, uint64_t gen)
{
    if (matrix_outbox_find(o, txn_id))
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        matrix_outbox_item *grown = realloc(o->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        o->items = grown;
        o->cap = cap;
    }
    matrix_outbox_item it = {base_strdup(room_id), base_strdup(txn_id), base_strdup(content), gen, 0, 0, 0};
    if (!it.room_id || !it.txn_id || !it.content) {
        item_free(&it);
        return -1;
    }
    o->items[o->n++] = it;
    return 1;
}

matrix_outbox_item *matrix_outbox_find(matrix_outbox *o, const char *txn_id)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->items[i].txn_id, txn_id) == 0)
            return &o->items[i];
    return NULL;
}

int matrix_outbox_remove(matrix_outbox *o, const char *txn_id)
{
    matrix_outbox_item *it = matrix_outbox_find(o, txn_id);
    if (!it)
        return 0;
    size_t i = (size_t)(it - o->items);
    item_free(it);
    memmove(&o->items[i], &o->items[i + 1], (o->n - i - 1) * sizeof *it);
    o->n--;
    return 1;
}

/* True when an item before index i belongs to the same room. */
static int behind_another(const matrix_outbox *o, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(o->items[k].room_id, o->items[i].room_id) == 0)
            return 1;
    return 0;
}

size_t matrix_outbox_ready(matrix_outbox *o, double now, uint64_t durable_gen, matrix_outbox_item **out, size_t max)
{
    size_t found = 0;
    for (size_t i = 0; i < o->n && found < max; i++) {
        matrix_outbox_item *it = &o->items[i];
        if (it->in_flight || it->gen > durable_gen || it->next_try > now || behind_another(o, i))
            continue;
        out[found++] = it;
    }
    return found;
}

double matrix_outbox_next_wake(const matrix_outbox *o, uint64_t durable_gen)
{
    double wake = -1;
    for (size_t i = 0; i < o->n; i++) {
        const matrix_outbox_item *it = &o->items[i];
        if (it->in_flight || it->gen > durable_gen || behind_another(o, i))
            continue;
        if (wake < 0 || it->next_try < wake)
            wake = it->next_try;
    }
    return wake;
}

size_t matrix_outbox_count_room(const matrix_outbox *o, const char *room_id)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++)
        n += strcmp(o->items[i].room_id, room_id) == 0;
    return n;
}

void matrix_outbox_free(matrix_outbox *o)
{
    for (size_t i = 0; i < o->n; i++)
        item_free(&o->items[i]);
    free(o->items);
    memset(o, 0, sizeof *o);
}
