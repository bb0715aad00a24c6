/* Small string helpers shared by every module. */
#ifndef BASE_STR_H
#define BASE_STR_H

#include <stddef.h>

/* A malloc'd copy of s; NULL when s is NULL or memory runs out. */
char *base_strdup(const char *s);
/* Frees n strings and the array that holds them (NULL is fine). */
void base_strv_free(char **items, size_t n);
/* True when a and b are both NULL or hold the same text. */
int base_str_eq_null(const char *a, const char *b);

/* Secrets (passwords, tokens) are wiped before their memory goes back to the
 * allocator, in a way the compiler may not leave out. */
void base_secret_wipe(void *p, size_t n);
/* Wipes the string s up to its NUL, then frees it (NULL is fine). */
void base_secret_free(char *s);

#endif
