/* Small string helpers shared by every module. */
#ifndef BASE_STR_H
#define BASE_STR_H

#include <stddef.h>

/* A malloc'd copy of s; NULL when s is NULL or memory runs out. */
char *base_strdup(const char *s);
/* Frees n strings and the array that holds them (NULL is fine). */
void base_strv_free(char **items, size_t n);

#endif
