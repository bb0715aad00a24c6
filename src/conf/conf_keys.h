/* Typed keys: one table per section kind says, for each key, its type, its
 * default, its range or check, where its value is stored, whether it is a
 * secret, and one line of help. One reader (conf_section_read) checks any
 * section from its table, so a key that two sections share is refused or
 * accepted alike in both.
 *
 *   static const conf_key keys[] = {
 *       {"port", &conf_port, NULL, 0, 0, NULL, offsetof(my_config, port), 0, 0, "the server's port"},
 *       {"tls", &conf_bool, "yes", 0, 0, NULL, offsetof(my_config, tls), 0, 0, "connect with TLS"},
 *   };
 *   const conf_schema my_schema = {"irc", keys, 2, sizeof(my_config), offsetof(my_config, name), NULL, finish};
 *
 *   my_config c;
 *   conf_problems p = {0};
 *   if (conf_section_read(cfg, section, &my_schema, &c, &p) == BASE_OK) ... conf_section_free(&my_schema, &c);
 */
#ifndef CONF_CONF_KEYS_H
#define CONF_CONF_KEYS_H

#include <stddef.h>

#include "conf/conf.h"

typedef struct conf_key conf_key;

/* A kind of value. parse reads value into the field(s) the key names inside
 * obj, releasing what was there (a default, or an earlier key that shares the
 * field); it returns NULL, or what the value must be (a constant or text put
 * in buf). release frees the field and clears it, so it may run twice. cfg
 * is NULL while defaults are parsed. */
typedef struct conf_type {
    int list; /* the value may go on over indented lines */
    const char *(*parse)(const conf_key *k, const conf_config *cfg, const char *value, void *obj, char *buf,
                         size_t cap);
    void (*release)(const conf_key *k, void *obj);
} conf_type;

/* A check of one value (of each item, for a list): NULL when it is fine,
 * else what it must be ("must be ..."). */
typedef const char *(*conf_check_fn)(const char *value);

enum {
    CONF_SECRET = 1 << 0,   /* a password or token: wiped when freed, never shown in a message */
    CONF_REQUIRED = 1 << 1, /* the section is refused without it */
};

struct conf_key {
    const char *name;
    const conf_type *type;
    const char *def;      /* the default as it is written in the file; NULL: none, or one
                             worked out from other settings (the help says which) */
    double min, max;      /* numbers: the range (both ends included) */
    conf_check_fn check;  /* NULL: the type's own checks only */
    size_t offset;        /* offsetof the field in the section's struct */
    size_t count_offset;  /* lists: offsetof the size_t count beside it */
    unsigned flags;       /* CONF_SECRET, CONF_REQUIRED */
    const char *help;     /* one line */
};

typedef struct conf_schema {
    const char *kind;     /* "bot", "irc", "matrix" */
    const conf_key *keys;
    size_t n_keys;
    size_t size;          /* of the struct the keys are stored in */
    size_t name_offset;   /* the char * that gets the NAME of [kind.NAME], or CONF_NO_NAME */
    /* Defaults that come from other sections ([irc.NAME] nick from [bot]
     * nick), set before the keys are read, into fields of the table. Returns
     * BASE_ERR when memory runs out. May be NULL. */
    int (*begin)(const conf_config *cfg, const conf_section *s, void *obj);
    /* Checks across keys, after every key was read, reported with
     * conf_key_problem. Returns BASE_ERR when it reported one. May be NULL. */
    int (*finish)(const conf_config *cfg, const conf_section *s, void *obj, conf_problems *p);
} conf_schema;

#define CONF_NO_NAME ((size_t)-1)

/* The value types every section uses. A list's items are separated by
 * commas (words: by commas or spaces) and stored as char ** with a size_t
 * count; numbers as double, whole numbers as size_t, ports and yes/no as int,
 * strings and paths as char * (paths resolved against the config file's
 * folder; conf_file names a file to read, conf_output_file one the bot
 * writes (it need not exist yet), conf_dir a directory: see
 * conf_section_check_files). Strings, paths and list items are never empty;
 * a bool is yes/no, true/false, on/off or 1/0. */
extern const conf_type conf_string, conf_bool, conf_number, conf_whole, conf_port, conf_list, conf_words,
    conf_file, conf_output_file, conf_dir;

/* The [bot] table (its struct is conf_config itself). */
extern const conf_schema conf_bot_schema;

/* Checks shared by the sections. */
const char *conf_check_nick(const char *v);     /* an IRC nick: 1-30 letters, digits or -_[]\`^{}| */
const char *conf_check_prefixes(const char *v); /* 1-8 punctuation characters */
const char *conf_check_word(const char *v);     /* no spaces, commas or colons */
const char *conf_check_printable(const char *v);/* printable ASCII, no spaces */
const char *conf_check_line(const char *v);     /* 1-255 bytes, no tab */

/* Clears obj, puts every default and the section's NAME in it, runs begin, then reads every key of s
 * (unknown keys, bad values, keys on indented lines that are not lists, and
 * missing required keys are each reported), then finish. On any problem obj
 * is freed and BASE_ERR returned. */
int conf_section_read(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                      conf_problems *p);
/* conf_section_read, reporting only the first problem, in err. */
int conf_section_load(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                      base_error *err);
/* The key-reading part alone, over an obj that already holds its defaults
 * (the [bot] settings live in conf_config itself). */
int conf_section_apply(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                       conf_problems *p);
/* Puts every key's default in obj. BASE_ERR when memory runs out. */
int conf_section_defaults(const conf_schema *schema, void *obj);
/* Frees every field of the table (secrets wiped) and the NAME. */
void conf_section_free(const conf_schema *schema, void *obj);

/* Reports every file that a conf_file key of s names and that cannot be
 * read, whether or not the rest of the section is good (for --check-config;
 * when the bot runs, the module that opens a file reports it). Returns
 * BASE_ERR when it reported one. */
int conf_section_check_files(const conf_config *cfg, const conf_section *s, const conf_schema *schema,
                             conf_problems *p);

/* The row for key in the table, or NULL. */
const conf_key *conf_schema_key(const conf_schema *schema, const char *key);

/* Reports a problem of section s at key's line (at the section's line when
 * the key is not in it). Returns BASE_ERR. */
int conf_key_problem(conf_problems *p, const conf_config *cfg, const conf_section *s, const char *key,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
