#include "core/dialog.h"

#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"

typedef struct entry {
    char *key;
    double touched;
    int prev, next; /* LRU list, most recent at head */
    core_dialog_state state;
} entry;

struct core_dialog {
    entry *entries;   /* grows on demand up to capacity: most bots see few conversations */
    size_t allocated;
    size_t capacity, used;
    double ttl;
    base_strmap *index; /* key -> entry */
    int head, tail;
    int free_list;    /* unused entries chained through next */
};

core_dialog *core_dialog_new(size_t capacity, double ttl_seconds)
{
    if (capacity == 0)
        capacity = 1;
    core_dialog *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->index = base_strmap_new(capacity < 64 ? capacity : 64);
    if (!d->index) {
        core_dialog_free(d);
        return NULL;
    }
    d->capacity = capacity;
    d->ttl = ttl_seconds;
    core_dialog_clear(d);
    return d;
}

void core_dialog_clear(core_dialog *d)
{
    for (size_t i = 0; i < d->allocated; i++) {
        free(d->entries[i].key);
        d->entries[i].key = NULL;
        d->entries[i].next = i + 1 < d->allocated ? (int)i + 1 : -1;
    }
    base_strmap_clear(d->index);
    d->used = 0;
    d->head = d->tail = -1;
    d->free_list = d->allocated ? 0 : -1;
}

/* Adds entries to the free list, doubling the table up to capacity. */
static int grow(core_dialog *d)
{
    size_t n = d->allocated ? d->allocated * 2 : 16;
    if (n > d->capacity)
        n = d->capacity;
    if (n <= d->allocated)
        return -1;
    entry *grown = realloc(d->entries, n * sizeof *grown);
    if (!grown)
        return -1;
    memset(grown + d->allocated, 0, (n - d->allocated) * sizeof *grown);
    for (size_t i = d->allocated; i < n; i++)
        grown[i].next = i + 1 < n ? (int)i + 1 : d->free_list;
    d->free_list = (int)d->allocated;
    d->entries = grown;
    d->allocated = n;
    return 0;
}

void core_dialog_free(core_dialog *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->allocated; i++)
        free(d->entries[i].key);
    free(d->entries);
    base_strmap_free(d->index);
    free(d);
}

static void unlink_entry(core_dialog *d, int i)
{
    entry *e = &d->entries[i];
    if (e->prev >= 0)
        d->entries[e->prev].next = e->next;
    else
        d->head = e->next;
    if (e->next >= 0)
        d->entries[e->next].prev = e->prev;
    else
        d->tail = e->prev;
}

static void push_front(core_dialog *d, int i)
{
    entry *e = &d->entries[i];
    e->prev = -1;
    e->next = d->head;
    if (d->head >= 0)
        d->entries[d->head].prev = i;
    d->head = i;
    if (d->tail < 0)
        d->tail = i;
}

static void drop(core_dialog *d, int i)
{
    entry *e = &d->entries[i];
    unlink_entry(d, i);
    base_strmap_remove(d->index, e->key, strlen(e->key));
    free(e->key);
    e->key = NULL;
    e->next = d->free_list;
    d->free_list = i;
    d->used--;
}

/* Expired conversations sit at the tail: the least recently touched. */
static void expire(core_dialog *d, double now)
{
    while (d->tail >= 0 && now - d->entries[d->tail].touched > d->ttl)
        drop(d, d->tail);
}

core_dialog_state *core_dialog_peek(core_dialog *d, const char *key, double now)
{
    expire(d, now);
    int i;
    if (!base_strmap_get(d->index, key, strlen(key), &i))
        return NULL;
    unlink_entry(d, i);
    push_front(d, i);
    d->entries[i].touched = now;
    return &d->entries[i].state;
}

core_dialog_state *core_dialog_get(core_dialog *d, const char *key, double now)
{
    core_dialog_state *s = core_dialog_peek(d, key, now);
    if (s)
        return s;
    if (d->free_list < 0 && grow(d) != 0 && d->tail >= 0)
        drop(d, d->tail); /* full: forget the least recent conversation */
    if (d->free_list < 0)
        return NULL;
    int i = d->free_list;
    entry *e = &d->entries[i];
    size_t len = strlen(key);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, key, len + 1);
    if (base_strmap_put(d->index, key, len, i) != 0) {
        free(copy);
        return NULL;
    }
    d->free_list = e->next;
    e->key = copy;
    e->touched = now;
    memset(&e->state, 0, sizeof e->state);
    push_front(d, i);
    d->used++;
    return &e->state;
}

size_t core_dialog_count(const core_dialog *d)
{
    return d->used;
}
