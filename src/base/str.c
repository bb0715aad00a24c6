#include "base/str.h"

#include <stdlib.h>
#include <string.h>

char *base_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void base_strv_free(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

void base_secret_wipe(void *p, size_t n)
{
    /* Stores through a volatile pointer are side effects: they are kept
     * even though the memory is freed right after. */
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

void base_secret_free(char *s)
{
    if (!s)
        return;
    base_secret_wipe(s, strlen(s));
    free(s);
}

int base_str_eq_null(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}
