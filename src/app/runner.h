/* Runs the networks of a configuration on one libuv loop until SIGINT or
 * SIGTERM; SIGHUP reloads the knowledge base. */
#ifndef APP_RUNNER_H
#define APP_RUNNER_H

#include "careerbot/bot.h"
#include "conf/conf.h"

/* Returns a process exit status. Configuration errors are reported before
 * anything connects. */
int app_runner_run(const conf_config *cfg, core_bot *bot);

#endif
