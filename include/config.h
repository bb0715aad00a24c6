/* The configuration file (INI, read with inih). [bot] settings are checked
 * here; network sections are kept as key/value lists with their line numbers
 * for the transport that owns them to check. */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include <stddef.h>

#include "cb_error.h"

typedef struct cb_config_entry {
    char *key;
    char *value;
    int line;
} cb_config_entry;

typedef struct cb_config_section {
    char *kind;  /* "irc" or "matrix" */
    char *name;  /* the part after the dot */
    int line;
    cb_config_entry *entries;
    size_t n_entries;
} cb_config_section;

typedef struct cb_config {
    char *path;             /* the file read, NULL when defaults only */
    char *nick;             /* [bot] nick, default "careerbot" */
    char *knowledge;        /* knowledge directory, resolved against the file's folder */
    char *state_dir;        /* resolved likewise; NULL when not set */
    char *command_prefixes; /* default "/!" */
    double conversation_ttl;
    size_t max_conversations;
    cb_config_section *sections;
    size_t n_sections;
} cb_config;

/* Fills cfg with defaults (knowledge = default_knowledge). */
int cb_config_defaults(cb_config *cfg, const char *default_knowledge, cb_error *err);
/* Reads path over the defaults. Errors name the file, line and key. */
int cb_config_load(cb_config *cfg, const char *path, cb_error *err);
void cb_config_free(cb_config *cfg);

/* Value helpers for the sections' readers. Each returns 0, or -1 when the
 * value is not of the kind asked for (or memory runs out). */
int cb_config_parse_bool(const char *value, int *out);        /* yes/no, true/false, on/off, 1/0 */
int cb_config_parse_number(const char *value, double lo, double hi, double *out);
/* Splits a comma-separated list into trimmed items (also on spaces when
 * words is set); replaces *items, which the caller frees with cb_strv_free. */
int cb_config_split_list(const char *value, int words, char ***items, size_t *n);

/* Value of key in a section, or NULL. */
const cb_config_entry *cb_config_find(const cb_config_section *s, const char *key);
/* path resolved against the folder of the config file (absolute paths and
 * NULL config paths return a copy). Caller frees. */
char *cb_config_resolve(const cb_config *cfg, const char *path);

#endif
