/* The configuration file: its sections with their keys and line numbers, the
 * [bot] settings, and the problems found in it.
 *
 * The file is read with the project's own INI reader (conf_ini.h). Every
 * section kind has one table of typed keys (conf_keys.h): [bot] is checked
 * from its table here; [irc.NAME] and [matrix.NAME] are kept as key/value
 * lists with their lines for the transport that owns the section to check
 * from its own table, with the same reader. */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stddef.h>

#include "base/error.h"

typedef struct conf_entry {
    char *key;
    char *value;   /* indented continuation lines are joined to it with ", " */
    int line;
    int continued; /* line of the first continuation line, 0 when none */
} conf_entry;

typedef struct conf_section {
    char *kind;  /* "bot", "irc" or "matrix" */
    char *name;  /* the part after the dot; "" for [bot] */
    int line;    /* line of its first key (its header's when it has none): where a
                    missing key or a problem of the whole section is reported */
    conf_entry *entries;
    size_t n_entries;
    int disabled;      /* network sections: "enabled = no" (read here, not kept among the entries) */
    int enabled_line;  /* the line of "enabled", 0 when not given */
} conf_section;

typedef struct conf_config {
    char *path;             /* the file read, NULL when defaults only */
    char *nick;             /* [bot] nick, default "careerbot" */
    char *knowledge;        /* knowledge directory, resolved against the file's folder */
    char *state_dir;        /* resolved likewise; NULL when not set */
    char *command_prefixes; /* default "/!" */
    double conversation_ttl;
    size_t max_conversations;
    char *unanswered_log;   /* where declined and unsure questions are appended (opt-in), or NULL */
    int unanswered_log_users; /* ... with who asked */
    char *log_level;        /* "error", "warn", "notice", "info" or "debug"; default "info" */
    char *metrics_listen;   /* "127.0.0.1:9464", "[::1]:9464"; NULL: no metrics listener */
    conf_section bot;       /* the [bot] keys as written, for their lines */
    conf_section *sections; /* [irc.NAME] and [matrix.NAME], in the order of the file */
    size_t n_sections;
} conf_config;

/* Limits that keep a hostile or broken file from costing much. */
#define CONF_SECTIONS_MAX 256
#define CONF_KEYS_MAX 128       /* per section */
#define CONF_PROBLEMS_MAX 200   /* kept; more are only counted */

/* The problems found in a file, each as "FILE:LINE: [section] key: message"
 * (the line part left out when the problem is not on one line). Start from
 * {0}; conf_problems_free releases. */
typedef struct conf_problems {
    base_error *items; /* text, file and line of each */
    size_t n;
    size_t dropped;    /* problems past CONF_PROBLEMS_MAX (or past the memory): counted only */
} conf_problems;

/* Adds a problem. section is "bot", "irc.NAME", ... (NULL: none); key may be
 * NULL. file NULL reads as "config". Returns BASE_ERR, for `return conf_problem(...)`. */
int conf_problem(conf_problems *p, const char *file, int line, const char *section, const char *key,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
size_t conf_problems_count(const conf_problems *p);
/* Puts the problems in the order of their lines (stable: the order found
 * among those on one line). */
void conf_problems_sort(conf_problems *p);
/* Copies the first problem into err. Returns BASE_ERR when there is one,
 * BASE_OK when there is none. */
int conf_problems_first(const conf_problems *p, base_error *err);
void conf_problems_free(conf_problems *p);

/* Fills cfg with defaults (knowledge = default_knowledge; state_dir = the
 * first folder of $STATE_DIRECTORY, which systemd sets for a service with
 * StateDirectory=, when it is set). */
int conf_defaults(conf_config *cfg, const char *default_knowledge, base_error *err);
/* Reads path over the defaults: every section's keys, and the [bot] keys
 * checked against their table. Every problem goes to problems, in the order
 * of the lines; what could be read is kept in cfg either way. Returns BASE_OK
 * when there was no problem. */
int conf_read(conf_config *cfg, const char *path, conf_problems *problems);
/* conf_read, reporting only the first problem, in err. */
int conf_load(conf_config *cfg, const char *path, base_error *err);
void conf_free(conf_config *cfg);

/* Value of key in a section, or NULL. */
const conf_entry *conf_find(const conf_section *s, const char *key);
/* path resolved against the folder of the config file (absolute paths and
 * NULL config paths return a copy). Caller frees. */
char *conf_resolve(const conf_config *cfg, const char *path);
/* Splits "127.0.0.1:9464" or "[::1]:9464" (an IP address, not a name, and
 * a port) into host and port. BASE_ERR when it is not such a value. */
int conf_listen_split(const char *value, char *host, size_t cap, int *port);
/* Network sections that are not disabled. */
size_t conf_enabled_sections(const conf_config *cfg);

/* "bot", or "irc.NAME" for a network section, into buf. */
const char *conf_section_label(const conf_section *s, char *buf, size_t cap);

#endif
