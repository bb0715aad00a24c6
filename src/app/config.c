#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_ctx {
    cb_config *cfg;
    FILE *file;
    int line;          /* line being handled: counted by our reader */
    int continued;     /* that line starts with a space: it continues the previous value */
    char *raw;         /* getline's buffer */
    size_t raw_cap;
    cb_error *err;
    int failed;
} parse_ctx;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int set_str(char **slot, const char *value)
{
    char *copy = dup_str(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

int cb_config_defaults(cb_config *cfg, const char *default_knowledge, cb_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->conversation_ttl = 1800;
    cfg->max_conversations = 4096;
    if (set_str(&cfg->nick, "careerbot") || set_str(&cfg->command_prefixes, "/!") ||
        set_str(&cfg->knowledge, default_knowledge)) {
        cb_config_free(cfg);
        return cb_error_set(err, "out of memory");
    }
    return CB_OK;
}

char *cb_config_resolve(const cb_config *cfg, const char *path)
{
    if (!cfg->path || path[0] == '/')
        return dup_str(path);
    const char *slash = strrchr(cfg->path, '/');
    if (!slash)
        return dup_str(path);
    size_t dlen = (size_t)(slash - cfg->path);
    char *out = malloc(dlen + strlen(path) + 2);
    if (out)
        sprintf(out, "%.*s/%s", (int)dlen, cfg->path, path);
    return out;
}

static int bad(parse_ctx *c, const char *section, const char *key, const char *why)
{
    cb_error_set(c->err, "%s:%d: [%s] %s: %s", c->cfg->path, c->line, section, key, why);
    c->failed = 1;
    return 0; /* tells inih to report this line; we already did */
}

static int parse_number(const char *value, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int valid_prefixes(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 8)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f ||
            (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9'))
            return 0;
    return 1;
}

static int valid_nick(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 30 || (v[0] >= '0' && v[0] <= '9') || v[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
              strchr("-_[]\\`^{}|", v[i])))
            return 0;
    return 1;
}

static int bot_key(parse_ctx *c, const char *key, const char *value)
{
    cb_config *cfg = c->cfg;
    double num;
    char *resolved;
    if (strcmp(key, "nick") == 0) {
        if (!valid_nick(value))
            return bad(c, "bot", key, "must be 1-30 letters, digits or -_[]\\`^{}| and not start with a digit");
        return set_str(&cfg->nick, value) == 0 ? 1 : bad(c, "bot", key, "out of memory");
    }
    if (strcmp(key, "knowledge") == 0 || strcmp(key, "state_dir") == 0) {
        if (!*value)
            return bad(c, "bot", key, "must name a directory");
        if (!(resolved = cb_config_resolve(cfg, value)))
            return bad(c, "bot", key, "out of memory");
        char **slot = key[0] == 'k' ? &cfg->knowledge : &cfg->state_dir;
        free(*slot);
        *slot = resolved;
        return 1;
    }
    if (strcmp(key, "command_prefixes") == 0) {
        if (!valid_prefixes(value))
            return bad(c, "bot", key, "must be 1-8 punctuation characters, e.g. /!");
        return set_str(&cfg->command_prefixes, value) == 0 ? 1 : bad(c, "bot", key, "out of memory");
    }
    if (strcmp(key, "conversation_ttl") == 0) {
        if (parse_number(value, 1, 7 * 86400, &num) != 0)
            return bad(c, "bot", key, "must be a number of seconds from 1 to 604800");
        cfg->conversation_ttl = num;
        return 1;
    }
    if (strcmp(key, "max_conversations") == 0) {
        if (parse_number(value, 1, 1000000, &num) != 0 || num != (double)(size_t)num)
            return bad(c, "bot", key, "must be a whole number from 1 to 1000000");
        cfg->max_conversations = (size_t)num;
        return 1;
    }
    return bad(c, "bot", key, "unknown key (known: nick, knowledge, state_dir, command_prefixes, "
               "conversation_ttl, max_conversations)");
}

static cb_config_section *section_for(parse_ctx *c, const char *section)
{
    cb_config *cfg = c->cfg;
    const char *dot = strchr(section, '.');
    size_t kind_len = dot ? (size_t)(dot - section) : 0;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        cb_config_section *s = &cfg->sections[i];
        if (strlen(s->kind) == kind_len && strncmp(s->kind, section, kind_len) == 0 &&
            strcmp(s->name, dot + 1) == 0)
            return s;
    }
    cb_config_section *grown = realloc(cfg->sections, (cfg->n_sections + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    cfg->sections = grown;
    cb_config_section *s = &cfg->sections[cfg->n_sections];
    memset(s, 0, sizeof *s);
    s->kind = malloc(kind_len + 1);
    s->name = dup_str(dot + 1);
    if (!s->kind || !s->name) {
        free(s->kind);
        free(s->name);
        return NULL;
    }
    memcpy(s->kind, section, kind_len);
    s->kind[kind_len] = '\0';
    s->line = c->line;
    cfg->n_sections++;
    return s;
}

static int network_key(parse_ctx *c, const char *section, const char *key, const char *value)
{
    const char *dot = strchr(section, '.');
    if (!dot[1])
        return bad(c, section, key, "a network section needs a name, e.g. [irc.libera]");
    cb_config_section *s = section_for(c, section);
    if (!s)
        return bad(c, section, key, "out of memory");
    cb_config_entry *prev = (cb_config_entry *)cb_config_find(s, key);
    if (prev && c->continued) {
        /* A continuation line adds to a list: "channels = #a, #b" then "  #c". */
        size_t n = strlen(prev->value) + strlen(value) + 3;
        char *joined = malloc(n);
        if (!joined)
            return bad(c, section, key, "out of memory");
        snprintf(joined, n, "%s, %s", prev->value, value);
        free(prev->value);
        prev->value = joined;
        return 1;
    }
    if (prev)
        return bad(c, section, key, "given twice");
    cb_config_entry *grown = realloc(s->entries, (s->n_entries + 1) * sizeof *grown);
    if (!grown)
        return bad(c, section, key, "out of memory");
    s->entries = grown;
    cb_config_entry *e = &s->entries[s->n_entries];
    e->key = dup_str(key);
    e->value = dup_str(value);
    e->line = c->line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return bad(c, section, key, "out of memory");
    }
    s->n_entries++;
    return 1;
}

static int handle(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *c = user;
    if (c->failed)
        return 0;
    if (section[0] == '\0')
        return bad(c, "", key, "keys must come after a section header such as [bot]");
    if (strcmp(section, "bot") == 0)
        return bot_key(c, key, value);
    if (strncmp(section, "irc.", 4) == 0 || strncmp(section, "matrix.", 7) == 0)
        return network_key(c, section, key, value);
    return bad(c, section, key, "unknown section (known: [bot], [irc.NAME], [matrix.NAME])");
}

/* inih's reader callback: counting lines here tells the handler where it is.
 * inih's line buffer is small (200 bytes in Debian's build); a longer line is
 * refused with its number instead of being cut into pieces. */
static char *read_line(char *buf, int size, void *stream)
{
    parse_ctx *c = stream;
    ssize_t n = getline(&c->raw, &c->raw_cap, c->file);
    if (n < 0)
        return NULL;
    c->line++;
    c->continued = c->raw[0] == ' ' || c->raw[0] == '\t';
    size_t len = (size_t)n;
    while (len > 0 && (c->raw[len - 1] == '\n' || c->raw[len - 1] == '\r'))
        len--;
    if (len + 2 > (size_t)size) {
        if (!c->failed)
            cb_error_set(c->err, "%s:%d: line is longer than %d bytes; continue a long list on the next "
                         "line, indented by a space", c->cfg->path, c->line, size - 2);
        c->failed = 1;
        buf[0] = '\0';
        return buf;
    }
    memcpy(buf, c->raw, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    return buf;
}

int cb_config_load(cb_config *cfg, const char *path, cb_error *err)
{
    if (set_str(&cfg->path, path) != 0)
        return cb_error_set(err, "out of memory");
    parse_ctx c = {cfg, fopen(path, "r"), 0, 0, NULL, 0, err, 0};
    if (!c.file)
        return cb_error_set(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = ini_parse_stream(read_line, &c, handle, &c);
    fclose(c.file);
    free(c.raw);
    if (c.failed)
        return CB_ERR;
    if (rc != 0)
        return cb_error_set(err, "%s:%d: not valid INI syntax (expected [section] or key = value)", path,
                            rc > 0 ? rc : c.line);
    return CB_OK;
}

const cb_config_entry *cb_config_find(const cb_config_section *s, const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

void cb_config_free(cb_config *cfg)
{
    free(cfg->path);
    free(cfg->nick);
    free(cfg->knowledge);
    free(cfg->state_dir);
    free(cfg->command_prefixes);
    for (size_t i = 0; i < cfg->n_sections; i++) {
        cb_config_section *s = &cfg->sections[i];
        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->kind);
        free(s->name);
    }
    free(cfg->sections);
    memset(cfg, 0, sizeof *cfg);
}
