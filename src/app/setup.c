#include "app/setup.h"

#include <stdlib.h>

#include "base/log.h"
#include "base/str.h"

int app_config_read(const app_config_source *src, conf_config *cfg, conf_problems *problems)
{
    base_error err;
    size_t before = conf_problems_count(problems);
    if (conf_defaults(cfg, src->default_knowledge, &err) != BASE_OK)
        return conf_problem(problems, src->path, 0, NULL, NULL, "%s", err.text);
    if (src->path)
        conf_read(cfg, src->path, problems);
    if (src->knowledge) { /* the command line wins over the file */
        char *copy = base_strdup(src->knowledge);
        if (!copy)
            return conf_problem(problems, src->path, 0, NULL, NULL, "out of memory");
        free(cfg->knowledge);
        cfg->knowledge = copy;
    }
    return conf_problems_count(problems) == before ? BASE_OK : BASE_ERR;
}

void app_log_level_apply(const app_config_source *src, const conf_config *cfg)
{
    int level = src->log_level;
    if (level < 0 && cfg && cfg->log_level && conf_find(&cfg->bot, "log_level"))
        level = base_log_level_from_name(cfg->log_level);
    if (level < 0) {
        const char *d = getenv("CAREERBOT_DEBUG");
        level = d && *d && *d != '0' ? BASE_LOG_DEBUG : BASE_LOG_INFO;
    }
    base_log_set_level(level);
}
