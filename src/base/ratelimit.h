/* Token buckets for flood control, with time passed in so they are pure and
 * testable: one per connection for output, one per user for questions. */
#ifndef BASE_RATELIMIT_H
#define BASE_RATELIMIT_H

#include <stddef.h>

typedef struct base_bucket {
    double tokens;
    double capacity; /* the burst */
    double rate;     /* tokens added per second */
    double last;     /* time of the last refill */
} base_bucket;

void base_bucket_init(base_bucket *b, double capacity, double rate, double now);
/* Takes cost tokens and returns 0 when there are enough; otherwise takes
 * nothing and returns the seconds until there will be. A cost above the
 * capacity is capped to it, so a long line still goes out eventually. */
double base_bucket_take(base_bucket *b, double cost, double now);

/* Buckets per user, at most `capacity` users remembered (the least recently
 * seen is forgotten first; a forgotten user starts with a full bucket). */
typedef struct base_limits base_limits;

base_limits *base_limits_new(size_t capacity, double burst, double rate);
void base_limits_free(base_limits *l);
/* Like base_bucket_take for user's bucket. */
double base_limits_take(base_limits *l, const char *user, double cost, double now);

#endif
