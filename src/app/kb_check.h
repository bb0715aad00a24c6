/* --check-kb: load a knowledge directory and replay every topic's examples. */
#ifndef APP_KB_CHECK_H
#define APP_KB_CHECK_H

#include <stdio.h>

/* Prints one line per problem to err and a summary to out. Returns the
 * number of problems (0 when the knowledge base is good). */
int app_kb_check(const char *dir, FILE *out, FILE *err);

#endif
