#include "conf/conf_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"

static void *field(const conf_key *k, void *obj)
{
    return (char *)obj + k->offset;
}

static const char *show_number(double d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", d);
    return buf;
}

/* ---- strings and paths ---------------------------------------------------- */

static void string_release(const conf_key *k, void *obj)
{
    char **slot = field(k, obj);
    if (k->flags & CONF_SECRET)
        base_secret_free(*slot);
    else
        free(*slot);
    *slot = NULL;
}

/* Stores a copy of value, or resolved against the config file's folder. */
static const char *store_string(const conf_key *k, const conf_config *cfg, const char *value, void *obj, int path)
{
    char *copy = path && cfg ? conf_resolve(cfg, value) : base_strdup(value);
    if (!copy)
        return "out of memory";
    string_release(k, obj);
    *(char **)field(k, obj) = copy;
    return NULL;
}

static const char *string_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj, char *buf,
                                size_t cap)
{
    if (!*value)
        return "must not be empty";
    const char *why = k->check ? k->check(value) : NULL;
    return why ? why : store_string(k, cfg, value, obj, 0);
}

static const char *dir_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj, char *buf,
                             size_t cap)
{
    if (!*value)
        return "must name a directory";
    return store_string(k, cfg, value, obj, 1);
}

static const char *file_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj, char *buf,
                              size_t cap)
{
    if (!*value)
        return "must name a file";
    return store_string(k, cfg, value, obj, 1);
}

const conf_type conf_string = {0, string_parse, string_release};
const conf_type conf_dir = {0, dir_parse, string_release};
const conf_type conf_file = {0, file_parse, string_release};
const conf_type conf_output_file = {0, file_parse, string_release};

/* ---- yes/no and numbers --------------------------------------------------- */

static const char *bool_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                              size_t cap)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
            *(int *)field(k, obj) = strcmp(v, yes[i]) == 0;
            return NULL;
        }
    }
    return "must be yes or no";
}

static void plain_release(const conf_key *k, void *obj)
{
}

/* A decimal number within [lo, hi]; NaN, "10s" and "" are refused. */
static int parse_number(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !(d >= lo && d <= hi)) /* !(..) also refuses NaN */
        return -1;
    *out = d;
    return 0;
}

/* "must be a number from 1 to 100" for what (a "number", a "whole number"). */
static const char *out_of_range(const conf_key *k, const char *what, char *buf, size_t cap)
{
    char lo[32], hi[32];
    snprintf(buf, cap, "must be a %s from %s to %s", what, show_number(k->min, lo, sizeof lo),
             show_number(k->max, hi, sizeof hi));
    return buf;
}

static const char *number_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                                size_t cap)
{
    double d;
    if (parse_number(v, k->min, k->max, &d) != 0)
        return out_of_range(k, "number", buf, cap);
    *(double *)field(k, obj) = d;
    return NULL;
}

static const char *whole_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                               size_t cap)
{
    double d;
    if (parse_number(v, k->min, k->max, &d) != 0 || d != (double)(size_t)d)
        return out_of_range(k, "whole number", buf, cap);
    *(size_t *)field(k, obj) = (size_t)d;
    return NULL;
}

static const char *port_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                              size_t cap)
{
    double d;
    if (parse_number(v, 1, 65535, &d) != 0 || d != (int)d)
        return "must be a port number from 1 to 65535";
    *(int *)field(k, obj) = (int)d;
    return NULL;
}

const conf_type conf_bool = {0, bool_parse, plain_release};
const conf_type conf_number = {0, number_parse, plain_release};
const conf_type conf_whole = {0, whole_parse, plain_release};
const conf_type conf_port = {0, port_parse, plain_release};

/* ---- lists ---------------------------------------------------------------- */

static void list_release(const conf_key *k, void *obj)
{
    char ***items = field(k, obj);
    size_t *n = (size_t *)((char *)obj + k->count_offset);
    for (size_t i = 0; *items && i < *n; i++) {
        if (k->flags & CONF_SECRET)
            base_secret_free((*items)[i]);
        else
            free((*items)[i]);
    }
    free(*items);
    *items = NULL;
    *n = 0;
}

/* Splits on commas (and blanks when words is set), drops empty items, checks
 * each; only a value that is good as a whole replaces the old one. */
static const char *split(const conf_key *k, const char *v, void *obj, int words, char *buf, size_t cap)
{
    const char *seps = words ? ", \t" : ",";
    char **items = NULL;
    size_t n = 0;
    const char *why = NULL;
    for (const char *p = v; *p && !why;) {
        while (*p && (strchr(seps, *p) || *p == ' ' || *p == '\t'))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !strchr(seps, *p))
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t len = (size_t)(end - start);
        char *item = malloc(len + 1);
        char **grown = item ? realloc(items, (n + 1) * sizeof *grown) : NULL;
        if (!grown) {
            free(item);
            why = "out of memory";
            break;
        }
        items = grown;
        memcpy(item, start, len);
        item[len] = '\0';
        items[n++] = item;
        const char *bad = k->check ? k->check(item) : NULL;
        if (bad && (k->flags & CONF_SECRET))
            why = bad;
        else if (bad) {
            snprintf(buf, cap, "%s (not \"%.80s\")", bad, item);
            why = buf;
        }
    }
    if (why) {
        base_strv_free(items, n);
        return why;
    }
    list_release(k, obj);
    *(char ***)field(k, obj) = items;
    *(size_t *)((char *)obj + k->count_offset) = n;
    return NULL;
}

static const char *list_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                              size_t cap)
{
    return split(k, v, obj, 0, buf, cap);
}

static const char *words_parse(const conf_key *k, const conf_config *cfg, const char *v, void *obj, char *buf,
                               size_t cap)
{
    return split(k, v, obj, 1, buf, cap);
}

const conf_type conf_list = {1, list_parse, list_release};
const conf_type conf_words = {1, words_parse, list_release};

/* ---- shared checks -------------------------------------------------------- */

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *conf_check_nick(const char *v)
{
    size_t n = strlen(v);
    int ok = n > 0 && n <= 30 && !(v[0] >= '0' && v[0] <= '9') && v[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = is_alnum(v[i]) || strchr("-_[]\\`^{}|", v[i]);
    return ok ? NULL : "must be 1-30 letters, digits or -_[]\\`^{}| and not start with a digit or -";
}

const char *conf_check_prefixes(const char *v)
{
    size_t n = strlen(v);
    int ok = n > 0 && n <= 8;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)v[i] > ' ' && (unsigned char)v[i] < 0x7f && !is_alnum(v[i]);
    return ok ? NULL : "must be 1-8 punctuation characters, e.g. /!";
}

const char *conf_check_word(const char *v)
{
    int ok = *v != '\0';
    for (; ok && *v; v++)
        ok = (unsigned char)*v > ' ' && *v != ',' && *v != ':';
    return ok ? NULL : "must be one word (no spaces, commas or colons)";
}

const char *conf_check_printable(const char *v)
{
    int ok = *v != '\0';
    for (; ok && *v; v++)
        ok = (unsigned char)*v > ' ' && (unsigned char)*v < 0x7f;
    return ok ? NULL : "must be one word of printable ASCII";
}

const char *conf_check_line(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && n <= 255 && !strchr(v, '\t') ? NULL : "must be 1-255 bytes on one line";
}

/* ---- reading a section ---------------------------------------------------- */

const conf_key *conf_schema_key(const conf_schema *schema, const char *key)
{
    for (size_t i = 0; i < schema->n_keys; i++)
        if (strcmp(schema->keys[i].name, key) == 0)
            return &schema->keys[i];
    return NULL;
}

/* Edit distance of two short strings (longer ones: "far"). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_key(conf_problems *p, const conf_config *cfg, const conf_section *s, const conf_schema *schema,
                       const conf_entry *e)
{
    const conf_key *near = NULL;
    size_t best = 3; /* a typo: at most two edits */
    for (size_t i = 0; i < schema->n_keys; i++) {
        size_t d = distance(e->key, schema->keys[i].name);
        if (d < best)
            best = d, near = &schema->keys[i];
    }
    char label[96];
    conf_section_label(s, label, sizeof label);
    if (near)
        return conf_problem(p, cfg->path, e->line, label, e->key, "unknown key; did you mean %s, %s?", near->name,
                            near->help);
    return conf_problem(p, cfg->path, e->line, label, e->key,
                        "unknown key (config.example.ini shows every key of [%s%s])", schema->kind,
                        strcmp(schema->kind, "bot") == 0 ? "" : ".NAME");
}

int conf_section_apply(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                       conf_problems *p)
{
    char label[96];
    conf_section_label(s, label, sizeof label);
    int failed = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const conf_entry *e = &s->entries[i];
        const conf_key *k = conf_schema_key(schema, e->key);
        char buf[400];
        const char *why;
        if (!k) {
            failed = unknown_key(p, cfg, s, schema, e);
        } else if (e->continued && !k->type->list) {
            failed = conf_problem(p, cfg->path, e->continued, label, e->key,
                                  "only lists go on over indented lines (a comment starts its line)");
        } else if ((why = k->type->parse(k, cfg, e->value, obj, buf, sizeof buf)) != NULL) {
            failed = conf_problem(p, cfg->path, e->line, label, e->key, "%s", why);
        }
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        if ((k->flags & CONF_REQUIRED) && !conf_find(s, k->name))
            failed = conf_problem(p, cfg->path, s->line, label, k->name, "is required (%s)", k->help);
    }
    if (schema->finish && schema->finish(cfg, s, obj, p) != BASE_OK)
        failed = BASE_ERR;
    return failed ? BASE_ERR : BASE_OK;
}

int conf_section_defaults(const conf_schema *schema, void *obj)
{
    for (size_t i = 0; i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        char buf[400];
        /* A default that does not parse is a bug in the table; the tests read every one. */
        if (k->def && k->type->parse(k, NULL, k->def, obj, buf, sizeof buf) != NULL)
            return BASE_ERR;
    }
    return BASE_OK;
}

int conf_section_read(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                      conf_problems *p)
{
    memset(obj, 0, schema->size);
    char **name = schema->name_offset != CONF_NO_NAME ? (char **)((char *)obj + schema->name_offset) : NULL;
    if (conf_section_defaults(schema, obj) != BASE_OK || (name && !(*name = base_strdup(s->name))) ||
        (schema->begin && schema->begin(cfg, s, obj) != BASE_OK)) {
        conf_section_free(schema, obj);
        return conf_problem(p, cfg->path, s->line, NULL, NULL, "out of memory");
    }
    if (conf_section_apply(cfg, s, schema, obj, p) != BASE_OK) {
        conf_section_free(schema, obj);
        return BASE_ERR;
    }
    return BASE_OK;
}

int conf_section_load(const conf_config *cfg, const conf_section *s, const conf_schema *schema, void *obj,
                      base_error *err)
{
    conf_problems p = {0};
    conf_section_read(cfg, s, schema, obj, &p);
    int rc = conf_problems_first(&p, err);
    conf_problems_free(&p);
    return rc;
}

void conf_section_free(const conf_schema *schema, void *obj)
{
    for (size_t i = 0; i < schema->n_keys; i++)
        schema->keys[i].type->release(&schema->keys[i], obj);
    if (schema->name_offset != CONF_NO_NAME) {
        char **name = (char **)((char *)obj + schema->name_offset);
        free(*name);
        *name = NULL;
    }
}

int conf_section_check_files(const conf_config *cfg, const conf_section *s, const conf_schema *schema,
                             conf_problems *p)
{
    int rc = BASE_OK;
    for (size_t i = 0; i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        const conf_entry *e = k->type == &conf_file ? conf_find(s, k->name) : NULL;
        if (!e || !*e->value)
            continue; /* not given, or already reported as empty */
        char *path = conf_resolve(cfg, e->value);
        struct stat st;
        if (!path)
            rc = conf_key_problem(p, cfg, s, k->name, "out of memory");
        else if (stat(path, &st) != 0 || access(path, R_OK) != 0)
            rc = conf_key_problem(p, cfg, s, k->name, "cannot read %s: %s", path, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = conf_key_problem(p, cfg, s, k->name, "%s is a directory, not a file", path);
        free(path);
    }
    return rc;
}

int conf_key_problem(conf_problems *p, const conf_config *cfg, const conf_section *s, const char *key,
                     const char *fmt, ...)
{
    char label[96], text[400];
    const conf_entry *e = conf_find(s, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return conf_problem(p, cfg->path, e ? e->line : s->line, conf_section_label(s, label, sizeof label), key, "%s",
                        text);
}
