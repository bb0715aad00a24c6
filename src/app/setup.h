/* Reading the configuration as the command line asks, the same way at start
 * and on SIGHUP: the defaults, the file, then what the command line says
 * over it; and the log level that results. */
#ifndef APP_SETUP_H
#define APP_SETUP_H

#include "conf/conf.h"

typedef struct app_config_source {
    const char *path;              /* --config FILE; NULL: defaults only */
    const char *knowledge;         /* --knowledge DIR, which wins over the file; NULL: none */
    const char *default_knowledge; /* the knowledge directory found at run time (paths.h) */
    int log_level;                 /* from -v or -q; -1: the file's log_level */
} app_config_source;

/* Fills cfg from src; every problem of the file goes to problems. cfg may
 * be given to conf_free whatever happens. Returns BASE_OK when there was no
 * problem. */
int app_config_read(const app_config_source *src, conf_config *cfg, conf_problems *problems);

/* Sets the log level: -v or -q, else [bot] log_level when the file sets it,
 * else debug when CAREERBOT_DEBUG=1, else info. */
void app_log_level_apply(const app_config_source *src, const conf_config *cfg);

#endif
