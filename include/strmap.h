/* A hash map from byte strings to ints: open addressing, keys copied and owned.
 * Lookups take (pointer, length) so callers can probe with slices of a buffer. */
#ifndef CB_STRMAP_H
#define CB_STRMAP_H

#include <stddef.h>

typedef struct cb_strmap cb_strmap;

cb_strmap *cb_strmap_new(size_t expected);
void cb_strmap_free(cb_strmap *map);
/* Returns 1 and sets *value when key is present, 0 otherwise. */
int cb_strmap_get(const cb_strmap *map, const char *key, size_t len, int *value);
/* Inserts or overwrites. Returns 0, or -1 when out of memory. */
int cb_strmap_put(cb_strmap *map, const char *key, size_t len, int value);
/* Removes key when present; returns 1 when it was there. */
int cb_strmap_remove(cb_strmap *map, const char *key, size_t len);
size_t cb_strmap_count(const cb_strmap *map);
/* Removes every entry, keeping the table's memory. */
void cb_strmap_clear(cb_strmap *map);

#endif
