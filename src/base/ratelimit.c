#include "base/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "base/strmap.h"

void base_bucket_init(base_bucket *b, double capacity, double rate, double now)
{
    b->capacity = capacity > 0 ? capacity : 1;
    b->rate = rate > 0 ? rate : 1;
    b->tokens = b->capacity;
    b->last = now;
}

static void refill(base_bucket *b, double now)
{
    if (now > b->last) {
        b->tokens += (now - b->last) * b->rate;
        if (b->tokens > b->capacity)
            b->tokens = b->capacity;
    }
    b->last = now;
}

double base_bucket_take(base_bucket *b, double cost, double now)
{
    refill(b, now);
    if (cost > b->capacity)
        cost = b->capacity;
    if (b->tokens + 1e-9 >= cost) {
        b->tokens -= cost;
        return 0;
    }
    return (cost - b->tokens) / b->rate;
}

typedef struct user_slot {
    char *user;
    base_bucket bucket;
} user_slot;

struct base_limits {
    user_slot *slots;
    size_t capacity, used;
    double burst, rate;
    base_strmap *index; /* user -> slot */
};

base_limits *base_limits_new(size_t capacity, double burst, double rate)
{
    base_limits *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->capacity = capacity ? capacity : 1;
    l->slots = calloc(l->capacity, sizeof *l->slots);
    l->index = base_strmap_new(l->capacity);
    l->burst = burst;
    l->rate = rate;
    if (!l->slots || !l->index) {
        base_limits_free(l);
        return NULL;
    }
    return l;
}

void base_limits_free(base_limits *l)
{
    if (!l)
        return;
    if (l->slots)
        for (size_t i = 0; i < l->used; i++)
            free(l->slots[i].user);
    free(l->slots);
    base_strmap_free(l->index);
    free(l);
}

/* The slot seen longest ago: the one whose bucket refilled last earliest. */
static size_t oldest(const base_limits *l)
{
    size_t o = 0;
    for (size_t i = 1; i < l->used; i++)
        if (l->slots[i].bucket.last < l->slots[o].bucket.last)
            o = i;
    return o;
}

double base_limits_take(base_limits *l, const char *user, double cost, double now)
{
    int at;
    size_t len = strlen(user);
    if (!base_strmap_get(l->index, user, len, &at)) {
        char *copy = malloc(len + 1);
        if (!copy)
            return 0; /* out of memory: do not hold the user back */
        memcpy(copy, user, len + 1);
        size_t i = l->used < l->capacity ? l->used++ : oldest(l);
        if (l->slots[i].user) {
            base_strmap_remove(l->index, l->slots[i].user, strlen(l->slots[i].user));
            free(l->slots[i].user);
        }
        l->slots[i].user = copy;
        base_bucket_init(&l->slots[i].bucket, l->burst, l->rate, now);
        if (base_strmap_put(l->index, user, len, (int)i) != 0) {
            free(copy);
            l->slots[i].user = NULL;
            return 0;
        }
        at = (int)i;
    }
    return base_bucket_take(&l->slots[at].bucket, cost, now);
}
