#include "conf/conf.h"

#include "base/str.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_ctx {
    conf_config *cfg;
    FILE *file;
    int line;          /* line being handled: counted by our reader */
    int continued;     /* that line starts with a space: it continues the previous value */
    char *raw;         /* getline's buffer */
    size_t raw_cap;
    size_t pending;    /* bytes of raw still to hand over: a line longer than inih's buffer */
    size_t pending_at;
    char last_key[64]; /* key of the last "key = value" line, for continuation lines */
    char *value;       /* the whole value of the key being read, across its pieces */
    base_error *err;
    int failed;
} parse_ctx;

static int set_str(char **slot, const char *value)
{
    char *copy = base_strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

int conf_defaults(conf_config *cfg, const char *default_knowledge, base_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->conversation_ttl = 1800;
    cfg->max_conversations = 4096;
    if (set_str(&cfg->nick, "careerbot") || set_str(&cfg->command_prefixes, "/!") ||
        set_str(&cfg->knowledge, default_knowledge)) {
        conf_free(cfg);
        return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

char *conf_resolve(const conf_config *cfg, const char *path)
{
    if (!cfg->path || path[0] == '/')
        return base_strdup(path);
    const char *slash = strrchr(cfg->path, '/');
    if (!slash)
        return base_strdup(path);
    size_t dlen = (size_t)(slash - cfg->path);
    char *out = malloc(dlen + strlen(path) + 2);
    if (out)
        sprintf(out, "%.*s/%s", (int)dlen, cfg->path, path);
    return out;
}

static int bad(parse_ctx *c, const char *section, const char *key, const char *why)
{
    base_error_set(c->err, "%s:%d: [%s] %s: %s", c->cfg->path, c->line, section, key, why);
    c->failed = 1;
    return 0; /* tells inih to report this line; we already did */
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
    conf_config *cfg = c->cfg;
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
        if (!(resolved = conf_resolve(cfg, value)))
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
        if (conf_parse_number(value, 1, 7 * 86400, &num) != 0)
            return bad(c, "bot", key, "must be a number of seconds from 1 to 604800");
        cfg->conversation_ttl = num;
        return 1;
    }
    if (strcmp(key, "max_conversations") == 0) {
        if (conf_parse_number(value, 1, 1000000, &num) != 0 || num != (double)(size_t)num)
            return bad(c, "bot", key, "must be a whole number from 1 to 1000000");
        cfg->max_conversations = (size_t)num;
        return 1;
    }
    return bad(c, "bot", key, "unknown key (known: nick, knowledge, state_dir, command_prefixes, "
               "conversation_ttl, max_conversations)");
}

static conf_section *section_for(parse_ctx *c, const char *section)
{
    conf_config *cfg = c->cfg;
    const char *dot = strchr(section, '.');
    size_t kind_len = dot ? (size_t)(dot - section) : 0;
    for (size_t i = 0; i < cfg->n_sections; i++) {
        conf_section *s = &cfg->sections[i];
        if (strlen(s->kind) == kind_len && strncmp(s->kind, section, kind_len) == 0 &&
            strcmp(s->name, dot + 1) == 0)
            return s;
    }
    conf_section *grown = realloc(cfg->sections, (cfg->n_sections + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    cfg->sections = grown;
    conf_section *s = &cfg->sections[cfg->n_sections];
    memset(s, 0, sizeof *s);
    s->kind = malloc(kind_len + 1);
    s->name = base_strdup(dot + 1);
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

static int network_key(parse_ctx *c, const char *section, const char *key, const char *value, int replace)
{
    const char *dot = strchr(section, '.');
    if (!dot[1])
        return bad(c, section, key, "a network section needs a name, e.g. [irc.libera]");
    conf_section *s = section_for(c, section);
    if (!s)
        return bad(c, section, key, "out of memory");
    conf_entry *prev = (conf_entry *)conf_find(s, key);
    if (prev && replace) {
        char *copy = base_strdup(value);
        if (!copy)
            return bad(c, section, key, "out of memory");
        free(prev->value);
        prev->value = copy;
        return 1;
    }
    if (prev)
        return bad(c, section, key, "given twice");
    conf_entry *grown = realloc(s->entries, (s->n_entries + 1) * sizeof *grown);
    if (!grown)
        return bad(c, section, key, "out of memory");
    s->entries = grown;
    conf_entry *e = &s->entries[s->n_entries];
    e->key = base_strdup(key);
    e->value = base_strdup(value);
    e->line = c->line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return bad(c, section, key, "out of memory");
    }
    s->n_entries++;
    return 1;
}

/* A value arrives in pieces when its line was long (marker PIECE: glued as
 * is) or continued on indented lines (glued with ", ", for lists such as
 * channels). The whole value is then handled again, replacing the old one. */
#define PIECE '\001'
#define LIST_CONTINUATION '\002'

static int handle_value(parse_ctx *c, const char *section, const char *key, const char *value, int replace);

static int handle(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx *c = user;
    if (c->failed)
        return 0;
    int piece = value[0] == PIECE, listed = value[0] == LIST_CONTINUATION;
    if (!piece && !listed && !c->continued) {
        free(c->value);
        c->value = base_strdup(value);
        return c->value ? handle_value(c, section, key, value, 0) : bad(c, section, key, "out of memory");
    }
    const char *add = piece || listed ? value + 1 : value;
    size_t n = (c->value ? strlen(c->value) : 0) + strlen(add) + 3;
    char *joined = malloc(n);
    if (!joined)
        return bad(c, section, key, "out of memory");
    snprintf(joined, n, "%s%s%s", c->value ? c->value : "", piece || !c->value ? "" : ", ", add);
    free(c->value);
    c->value = joined;
    return handle_value(c, section, key, joined, 1);
}

static int handle_value(parse_ctx *c, const char *section, const char *key, const char *value, int replace)
{
    if (section[0] == '\0')
        return bad(c, "", key, "keys must come after a section header such as [bot]");
    if (strcmp(section, "bot") == 0)
        return bot_key(c, key, value);
    if (strncmp(section, "irc.", 4) == 0 || strncmp(section, "matrix.", 7) == 0)
        return network_key(c, section, key, value, replace);
    return bad(c, section, key, "unknown section (known: [bot], [irc.NAME], [matrix.NAME])");
}

/* Where to cut a long line so that no piece starts or ends with a space
 * (inih trims them) or starts with ';' (an inline comment). */
static size_t cut_at(const char *s, size_t max)
{
    for (size_t i = max; i > max / 2; i--)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != ';' && s[i - 1] != ' ' && s[i - 1] != '\t')
            return i;
    return max;
}

static int is_list_key(const char *key)
{
    return !strcmp(key, "channels") || !strcmp(key, "listen") || !strcmp(key, "ignore") ||
           !strcmp(key, "alt_nicks") || !strcmp(key, "allowed_inviters");
}

static void remember_key(parse_ctx *c, const char *line)
{
    const char *eq = strchr(line, '=');
    if (line[0] == '[' || line[0] == ';' || line[0] == '#' || !eq) {
        c->last_key[0] = '\0';
        return;
    }
    size_t n = (size_t)(eq - line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    snprintf(c->last_key, sizeof c->last_key, "%.*s", (int)n, line);
}

/* inih's reader callback. Counting lines here tells the handler where it is.
 * inih's line buffer is small (200 bytes in Debian's build), so a longer line
 * is handed over in pieces marked PIECE that the handler glues back; and an
 * indented "#chan" under a list key is a continuation, not a comment. */
static char *read_line(char *buf, int size, void *stream)
{
    parse_ctx *c = stream;
    size_t room = (size_t)size - 4; /* a space, a marker, the newline and the NUL */
    if (c->pending) {
        const char *rest = c->raw + c->pending_at;
        size_t take = c->pending <= room ? c->pending : cut_at(rest, room);
        buf[0] = ' ';
        buf[1] = PIECE;
        memcpy(buf + 2, rest, take);
        memcpy(buf + 2 + take, "\n", 2);
        c->pending -= take;
        c->pending_at += take;
        return buf;
    }
    ssize_t n = getline(&c->raw, &c->raw_cap, c->file);
    if (n < 0)
        return NULL;
    c->line++;
    size_t len = (size_t)n;
    while (len > 0 && (c->raw[len - 1] == '\n' || c->raw[len - 1] == '\r'))
        len--;
    c->raw[len] = '\0';
    c->continued = c->raw[0] == ' ' || c->raw[0] == '\t';
    const char *text = c->raw;
    while (*text == ' ' || *text == '\t')
        text++;
    if (c->continued && *text == '#' && is_list_key(c->last_key)) {
        size_t off = (size_t)(text - c->raw), tlen = len - off;
        size_t take = tlen <= room ? tlen : cut_at(text, room);
        buf[0] = ' ';
        buf[1] = LIST_CONTINUATION;
        memcpy(buf + 2, text, take);
        memcpy(buf + 2 + take, "\n", 2);
        c->pending = tlen - take;
        c->pending_at = off + take;
        return buf;
    }
    if (!c->continued)
        remember_key(c, c->raw);
    size_t take = len <= room + 2 ? len : cut_at(c->raw, room + 2);
    memcpy(buf, c->raw, take);
    memcpy(buf + take, "\n", 2);
    c->pending = len - take;
    c->pending_at = take;
    return buf;
}

int conf_load(conf_config *cfg, const char *path, base_error *err)
{
    if (set_str(&cfg->path, path) != 0)
        return base_error_set(err, "out of memory");
    parse_ctx c = {.cfg = cfg, .file = fopen(path, "r"), .err = err};
    if (!c.file)
        return base_error_set(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = ini_parse_stream(read_line, &c, handle, &c);
    fclose(c.file);
    free(c.raw);
    free(c.value);
    if (c.failed)
        return BASE_ERR;
    if (rc != 0)
        return base_error_set(err, "%s:%d: not valid INI syntax (expected [section] or key = value)", path,
                            rc > 0 ? rc : c.line);
    return BASE_OK;
}

int conf_parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

int conf_parse_number(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !(d >= lo && d <= hi)) /* !(..) also refuses NaN */
        return -1;
    *out = d;
    return 0;
}

int conf_split_list(const char *v, int words, char ***items, size_t *n)
{
    base_strv_free(*items, *n);
    *items = NULL;
    *n = 0;
    const char *seps = words ? ", \t" : ",";
    for (const char *p = v; *p;) {
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
        char **grown = realloc(*items, (*n + 1) * sizeof *grown);
        if (!grown)
            return -1;
        *items = grown;
        size_t len = (size_t)(end - start);
        if (!((*items)[*n] = malloc(len + 1)))
            return -1;
        memcpy((*items)[*n], start, len);
        (*items)[*n][len] = '\0';
        (*n)++;
    }
    return 0;
}

const conf_entry *conf_find(const conf_section *s, const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

void conf_free(conf_config *cfg)
{
    free(cfg->path);
    free(cfg->nick);
    free(cfg->knowledge);
    free(cfg->state_dir);
    free(cfg->command_prefixes);
    for (size_t i = 0; i < cfg->n_sections; i++) {
        conf_section *s = &cfg->sections[i];
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
