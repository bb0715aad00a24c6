/* Temporary directories and files for the tests (cmocka assertions on
 * failure). Shared by the unit tests and the Matrix tests. */
#ifndef TEST_FILES_H
#define TEST_FILES_H

/* A fresh empty directory under $TMPDIR (or /tmp); caller frees the string
 * and removes the directory with tu_rmtree. Left-over directories are removed
 * when the program exits. Fails the test on error. */
char *tu_mkdtemp(void);
/* Writes text to dir/name (creating or replacing it). */
void tu_write(const char *dir, const char *name, const char *text);
/* Reads dir/name whole (NULL when missing); caller frees. */
char *tu_read(const char *dir, const char *name);
/* Removes dir and everything in it. */
void tu_remove_dir(const char *dir);
/* tu_remove_dir, then frees dir. */
void tu_rmtree(char *dir);

#endif
