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
 * ("FILE: 1 IRC network, 1 Matrix account: ok", or ": 3 problems"). A
 * disabled section ("enabled = no") is checked too, but what it lacks is
 * reported as what to fill in before enabling it, not as a problem.
 * Returns the exit status: 0 when there was no problem, else 2. */
int app_config_check(const conf_config *cfg, conf_problems *problems, FILE *out);

/* For each network section with "enabled = no": its line, its required keys
 * as they stand, and (indented) what would stop it once enabled; each line
 * after prefix. */
void app_config_report_disabled(const conf_config *cfg, const char *prefix, FILE *out);

/* Prints every problem, one a line after prefix, and how many more were only
 * counted. */
void app_config_print(const conf_problems *problems, const char *prefix, FILE *out);

#endif
