/* Arbitrary bytes as a configuration file: the reader and every section's
 * table must report problems or give a configuration, never crash, and
 * every problem must say where it is. The bytes go through a real file,
 * as the bot reads one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "irc/irc_config.h"
#include "matrix/matrix_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/careerbot-fuzz-config-%ld.ini", (long)getpid());
        /* Secrets from the environment are a key type too. */
        setenv("FUZZ_TOKEN", "fuzz-token", 1);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    conf_config cfg;
    base_error err;
    if (conf_defaults(&cfg, "/nonexistent/knowledge", &err) != BASE_OK)
        abort();
    conf_problems problems = {0};
    conf_read(&cfg, path, &problems);
    for (size_t i = 0; i < problems.n; i++)
        if (!problems.items[i].text[0])
            abort(); /* every problem explains itself */
    for (size_t i = 0; i < cfg.n_sections; i++) {
        const conf_section *s = &cfg.sections[i];
        if (strcmp(s->kind, "irc") == 0) {
            irc_network_config c;
            if (irc_network_config_read(&cfg, s, &c, &err) == BASE_OK)
                irc_network_config_free(&c);
        } else if (strcmp(s->kind, "matrix") == 0) {
            matrix_network_config c;
            if (matrix_network_config_read(&cfg, s, &c, &err) == BASE_OK)
                matrix_network_config_free(&c);
        }
    }
    conf_problems_free(&problems);
    conf_free(&cfg);
    return 0;
}
