/* Helpers for the Matrix unit tests: temporary directories and files. */
#ifndef MX_TEST_H
#define MX_TEST_H

#include <stddef.h>

/* A fresh directory under $TMPDIR or /tmp; caller frees the string after
 * mx_rmtree. Fails the test on error. */
char *mx_mkdtemp(void);
/* Writes text to dir/name. */
void mx_write(const char *dir, const char *name, const char *text);
/* Reads dir/name whole (NULL when missing); caller frees. */
char *mx_read(const char *dir, const char *name);
/* Removes the files in dir (one level) and dir itself. */
void mx_rmtree(const char *dir);

#endif
