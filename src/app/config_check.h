/* --check-config: every problem of a configuration, without connecting. */
#ifndef APP_CONFIG_CHECK_H
#define APP_CONFIG_CHECK_H

#include <stdio.h>

#include "conf/conf.h"

/* Adds to problems (those found reading the file, kept as they are) what
 * reading every network section finds, and what the files it names say: the
 * knowledge base must load, CA files must load and pins parse, state
 * directories must be usable. Prints every problem, in the order of the
 * lines ("FILE:LINE: [section] key: message"), then a summary line
 * ("FILE: 1 IRC network, 1 Matrix account: ok", or ": 3 problems").
 * Returns the exit status: 0 when there was no problem, else 2. */
int app_config_check(const conf_config *cfg, conf_problems *problems, FILE *out);

/* Prints every problem, one a line after prefix, and how many more were only
 * counted. */
void app_config_print(const conf_problems *problems, const char *prefix, FILE *out);

#endif
