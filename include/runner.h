/* Runs the networks of a configuration on one libuv loop until SIGINT or
 * SIGTERM; SIGHUP reloads the knowledge base. */
#ifndef CB_RUNNER_H
#define CB_RUNNER_H

#include <stdio.h>

#include "bot.h"
#include "config.h"

/* Returns a process exit status. Configuration errors are reported before
 * anything connects. */
int cb_runner_run(const cb_config *cfg, cb_bot *bot);

/* Reads every network section as cb_runner_run would, without connecting;
 * prints the first error or a summary to out. Returns an exit status. */
int cb_runner_check(const cb_config *cfg, FILE *out);

#endif
