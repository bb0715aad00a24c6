#include "base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char *key; /* NULL: empty */
    size_t len;
    uint32_t hash;
    int value;
} slot;

struct base_strmap {
    slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a: short keys, good enough spread */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

base_strmap *base_strmap_new(size_t expected)
{
    base_strmap *map = calloc(1, sizeof *map);
    if (!map)
        return NULL;
    size_t cap = 16;
    while (cap < expected * 2)
        cap *= 2;
    map->slots = calloc(cap, sizeof *map->slots);
    if (!map->slots) {
        free(map);
        return NULL;
    }
    map->cap = cap;
    return map;
}

void base_strmap_clear(base_strmap *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->cap; i++) {
        free(map->slots[i].key);
        map->slots[i].key = NULL;
    }
    map->count = 0;
}

void base_strmap_free(base_strmap *map)
{
    if (!map)
        return;
    base_strmap_clear(map);
    free(map->slots);
    free(map);
}

static slot *find_slot(slot *slots, size_t cap, const char *key, size_t len, uint32_t hash)
{
    size_t i = hash & (cap - 1);
    for (;;) {
        slot *s = &slots[i];
        if (!s->key || (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

int base_strmap_get(const base_strmap *map, const char *key, size_t len, int *value)
{
    const slot *s = find_slot(map->slots, map->cap, key, len, hash_bytes(key, len));
    if (!s->key)
        return 0;
    if (value)
        *value = s->value;
    return 1;
}

static int grow(base_strmap *map)
{
    size_t cap = map->cap * 2;
    slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < map->cap; i++) {
        slot *old = &map->slots[i];
        if (old->key)
            *find_slot(slots, cap, old->key, old->len, old->hash) = *old;
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    return 0;
}

int base_strmap_put(base_strmap *map, const char *key, size_t len, int value)
{
    if ((map->count + 1) * 4 > map->cap * 3 && grow(map) != 0)
        return -1;
    uint32_t hash = hash_bytes(key, len);
    slot *s = find_slot(map->slots, map->cap, key, len, hash);
    if (!s->key) {
        char *copy = malloc(len + 1);
        if (!copy)
            return -1;
        memcpy(copy, key, len);
        copy[len] = '\0';
        s->key = copy;
        s->len = len;
        s->hash = hash;
        map->count++;
    }
    s->value = value;
    return 0;
}

int base_strmap_remove(base_strmap *map, const char *key, size_t len)
{
    slot *s = find_slot(map->slots, map->cap, key, len, hash_bytes(key, len));
    if (!s->key)
        return 0;
    free(s->key);
    s->key = NULL;
    map->count--;
    /* Backward-shift deletion: move later entries of the probe run into the
     * hole when their home slot allows it, so lookups never stop early. */
    size_t hole = (size_t)(s - map->slots), mask = map->cap - 1;
    for (size_t i = (hole + 1) & mask; map->slots[i].key; i = (i + 1) & mask) {
        size_t home = map->slots[i].hash & mask;
        size_t dist_i = (i - home) & mask, dist_hole = (hole - home) & mask;
        if (dist_hole <= dist_i) {
            map->slots[hole] = map->slots[i];
            map->slots[i].key = NULL;
            hole = i;
        }
    }
    return 1;
}

size_t base_strmap_count(const base_strmap *map)
{
    return map->count;
}
