/* A hash map from byte strings to ints: open addressing, keys copied and owned.
 * Lookups take (pointer, length) so callers can probe with slices of a buffer. */
#ifndef BASE_STRMAP_H
#define BASE_STRMAP_H

#include <stddef.h>

typedef struct base_strmap base_strmap;

base_strmap *base_strmap_new(size_t expected);
void base_strmap_free(base_strmap *map);
/* Returns 1 and sets *value when key is present, 0 otherwise. */
int base_strmap_get(const base_strmap *map, const char *key, size_t len, int *value);
/* Inserts or overwrites. Returns 0, or -1 when out of memory. */
int base_strmap_put(base_strmap *map, const char *key, size_t len, int value);
/* Removes key when present; returns 1 when it was there. */
int base_strmap_remove(base_strmap *map, const char *key, size_t len);
size_t base_strmap_count(const base_strmap *map);
/* Removes every entry, keeping the table's memory. */
void base_strmap_clear(base_strmap *map);

#endif
