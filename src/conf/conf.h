/* The configuration file (INI, read with inih). [bot] settings are checked
 * here; network sections are kept as key/value lists with their line numbers
 * for the transport that owns them to check. */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stddef.h>

#include "base/error.h"

typedef struct conf_entry {
    char *key;
    char *value;
    int line;
} conf_entry;

typedef struct conf_section {
    char *kind;  /* "irc" or "matrix" */
    char *name;  /* the part after the dot */
    int line;
    conf_entry *entries;
    size_t n_entries;
} conf_section;

typedef struct conf_config {
    char *path;             /* the file read, NULL when defaults only */
    char *nick;             /* [bot] nick, default "careerbot" */
    char *knowledge;        /* knowledge directory, resolved against the file's folder */
    char *state_dir;        /* resolved likewise; NULL when not set */
    char *command_prefixes; /* default "/!" */
    double conversation_ttl;
    size_t max_conversations;
    conf_section *sections;
    size_t n_sections;
} conf_config;

/* Fills cfg with defaults (knowledge = default_knowledge). */
int conf_defaults(conf_config *cfg, const char *default_knowledge, base_error *err);
/* Reads path over the defaults. Errors name the file, line and key. */
int conf_load(conf_config *cfg, const char *path, base_error *err);
void conf_free(conf_config *cfg);

/* Value helpers for the sections' readers. Each returns 0, or -1 when the
 * value is not of the kind asked for (or memory runs out). */
int conf_parse_bool(const char *value, int *out);        /* yes/no, true/false, on/off, 1/0 */
int conf_parse_number(const char *value, double lo, double hi, double *out);
/* Splits a comma-separated list into trimmed items (also on spaces when
 * words is set); replaces *items, which the caller frees with base_strv_free. */
int conf_split_list(const char *value, int words, char ***items, size_t *n);

/* Value of key in a section, or NULL. */
const conf_entry *conf_find(const conf_section *s, const char *key);
/* path resolved against the folder of the config file (absolute paths and
 * NULL config paths return a copy). Caller frees. */
char *conf_resolve(const conf_config *cfg, const char *path);

#endif
