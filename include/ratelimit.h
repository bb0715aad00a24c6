/* Token buckets for flood control, with time passed in so they are pure and
 * testable: one per connection for output, one per user for questions. */
#ifndef CB_RATELIMIT_H
#define CB_RATELIMIT_H

#include <stddef.h>

typedef struct cb_bucket {
    double tokens;
    double capacity; /* the burst */
    double rate;     /* tokens added per second */
    double last;     /* time of the last refill */
} cb_bucket;

void cb_bucket_init(cb_bucket *b, double capacity, double rate, double now);
/* Takes cost tokens and returns 0 when there are enough; otherwise takes
 * nothing and returns the seconds until there will be. A cost above the
 * capacity is capped to it, so a long line still goes out eventually. */
double cb_bucket_take(cb_bucket *b, double cost, double now);

/* Buckets per user, at most `capacity` users remembered (the least recently
 * seen is forgotten first; a forgotten user starts with a full bucket). */
typedef struct cb_user_limits cb_user_limits;

cb_user_limits *cb_user_limits_new(size_t capacity, double burst, double rate);
void cb_user_limits_free(cb_user_limits *l);
/* Like cb_bucket_take for user's bucket. */
double cb_user_limits_take(cb_user_limits *l, const char *user, double cost, double now);

#endif
