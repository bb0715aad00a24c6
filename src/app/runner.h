/* Runs the networks of a configuration on one libuv loop until SIGINT or
 * SIGTERM. SIGHUP reads the configuration and the knowledge base again and
 * applies them (networks added, dropped or changed are started, stopped or
 * reconnected; the others keep their connections), or keeps the old ones
 * when anything is wrong with the new; SIGUSR1 logs every network's status.
 * Tells systemd when it is ready, reloading or stopping, and pings its
 * watchdog from the loop; serves /metrics and /healthz on metrics_listen. */
#ifndef APP_RUNNER_H
#define APP_RUNNER_H

#include "app/setup.h"
#include "careerbot/bot.h"
#include "conf/conf.h"

typedef struct app_runner_options {
    const app_config_source *source; /* how to read the configuration again */
    conf_config *cfg;  /* the configuration in force: its contents are replaced by a good reload;
                          the caller frees it afterwards */
    core_bot *bot;     /* borrowed; its knowledge base is replaced by a good reload */
} app_runner_options;

/* Returns a process exit status. Configuration errors are reported before
 * anything connects. */
int app_runner_run(const app_runner_options *o);

#endif
