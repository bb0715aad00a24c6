#include "conf/conf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "conf/conf_ini.h"
#include "conf/conf_keys.h"

/* ---- problems ------------------------------------------------------------- */

static void push(conf_problems *p, const base_error *e)
{
    if (p->n >= CONF_PROBLEMS_MAX) {
        p->dropped++;
        return;
    }
    if (p->n % 16 == 0) {
        base_error *grown = realloc(p->items, (p->n + 16) * sizeof *grown);
        if (!grown) {
            p->dropped++;
            return;
        }
        p->items = grown;
    }
    p->items[p->n++] = *e;
}

int conf_problem(conf_problems *p, const char *file, int line, const char *section, const char *key,
                 const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    base_error e;
    if (section && key)
        base_error_at(&e, file ? file : "config", line, 0, "[%s] %s: %s", section, key, text);
    else if (section)
        base_error_at(&e, file ? file : "config", line, 0, "[%s]: %s", section, text);
    else if (key)
        base_error_at(&e, file ? file : "config", line, 0, "%s: %s", key, text);
    else
        base_error_at(&e, file ? file : "config", line, 0, "%s", text);
    push(p, &e);
    return BASE_ERR;
}

size_t conf_problems_count(const conf_problems *p)
{
    return p->n + p->dropped;
}

void conf_problems_sort(conf_problems *p)
{
    /* Insertion sort: stable, and there are at most CONF_PROBLEMS_MAX. */
    for (size_t i = 1; i < p->n; i++) {
        base_error e = p->items[i];
        size_t j = i;
        for (; j > 0 && p->items[j - 1].line > e.line; j--)
            p->items[j] = p->items[j - 1];
        p->items[j] = e;
    }
}

int conf_problems_first(const conf_problems *p, base_error *err)
{
    if (p->n == 0 && p->dropped == 0)
        return BASE_OK;
    if (err && p->n > 0)
        *err = p->items[0];
    else if (p->n == 0)
        base_error_set(err, "out of memory");
    return BASE_ERR;
}

void conf_problems_free(conf_problems *p)
{
    free(p->items);
    memset(p, 0, sizeof *p);
}

/* ---- [bot] ---------------------------------------------------------------- */

static const char *check_log_level(const char *v)
{
    return base_log_level_from_name(v) >= 0 ? NULL : "must be error, warn, notice, info or debug";
}

int conf_listen_split(const char *value, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value)
        return BASE_ERR;
    const char *h = value, *h_end = colon;
    if (*h == '[') { /* [v6]:port */
        if (h_end[-1] != ']')
            return BASE_ERR;
        h++;
        h_end--;
    }
    size_t n = (size_t)(h_end - h);
    if (n == 0 || n >= cap || n >= 64)
        return BASE_ERR;
    char addr[64];
    memcpy(addr, h, n);
    addr[n] = '\0';
    unsigned char bin[16];
    int v6 = value[0] == '[';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
        return BASE_ERR;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || p < 1 || p > 65535)
        return BASE_ERR;
    memcpy(host, addr, n + 1);
    *port = (int)p;
    return BASE_OK;
}

static const char *check_listen(const char *v)
{
    char host[64];
    int port;
    return conf_listen_split(v, host, sizeof host, &port) == BASE_OK
               ? NULL
               : "must be an IP address and a port, e.g. 127.0.0.1:9464 or [::1]:9464";
}

#define F(field) offsetof(conf_config, field), 0

static const conf_key bot_keys[] = {
    /* name, type, default, min, max, check, field, flags, help */
    {"nick", &conf_string, "careerbot", 0, 0, conf_check_nick, F(nick), 0,
     "the bot's name: messages that start with it are addressed to it; the IRC nick by default"},
    {"knowledge", &conf_dir, NULL, 0, 0, NULL, F(knowledge), 0,
     "the knowledge directory (every *.json file in it is read)"},
    {"state_dir", &conf_dir, NULL, 0, 0, NULL, F(state_dir), 0,
     "where the bot keeps state between runs; unset: nothing is written"},
    {"command_prefixes", &conf_string, "/!", 0, 0, conf_check_prefixes, F(command_prefixes), 0,
     "characters that start a command"},
    {"conversation_ttl", &conf_number, "1800", 1, 604800, NULL, F(conversation_ttl), 0,
     "seconds of quiet after which a conversation's context is forgotten"},
    {"max_conversations", &conf_whole, "4096", 1, 1000000, NULL, F(max_conversations), 0,
     "conversations remembered at most; the least recently active go first"},
    {"unanswered_log", &conf_output_file, NULL, 0, 0, NULL, F(unanswered_log), 0,
     "append every declined or unsure question here (it stores what users wrote); unset: off"},
    {"unanswered_log_users", &conf_bool, "no", 0, 0, NULL, F(unanswered_log_users), 0,
     "also store who asked (nick or user id) in the unanswered log"},
    {"log_level", &conf_string, "info", 0, 0, check_log_level, F(log_level), 0,
     "the least important log lines written: error, warn, notice, info or debug (-v and -q override it)"},
    {"metrics_listen", &conf_string, NULL, 0, 0, check_listen, F(metrics_listen), 0,
     "an address and port to serve /metrics (Prometheus) and /healthz on, e.g. 127.0.0.1:9464; unset: none"},
};

#undef F

const conf_schema conf_bot_schema = {"bot", bot_keys, sizeof bot_keys / sizeof *bot_keys, sizeof(conf_config),
                                     CONF_NO_NAME, NULL, NULL};

static int set_str(char **slot, const char *value)
{
    char *copy = base_strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* A service with StateDirectory= gets its folder in $STATE_DIRECTORY (a
 * colon-separated list when there are several: the first is ours). */
static int state_directory(conf_config *cfg)
{
    const char *v = getenv("STATE_DIRECTORY");
    if (!v || v[0] != '/')
        return 0;
    size_t n = strcspn(v, ":");
    char *dir = malloc(n + 1);
    if (!dir)
        return -1;
    memcpy(dir, v, n);
    dir[n] = '\0';
    free(cfg->state_dir);
    cfg->state_dir = dir;
    return 0;
}

int conf_defaults(conf_config *cfg, const char *default_knowledge, base_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (conf_section_defaults(&conf_bot_schema, cfg) != BASE_OK || set_str(&cfg->knowledge, default_knowledge) ||
        set_str(&cfg->bot.kind, "bot") || set_str(&cfg->bot.name, "") || state_directory(cfg) != 0) {
        conf_free(cfg);
        return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

size_t conf_enabled_sections(const conf_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_sections; i++)
        n += !cfg->sections[i].disabled;
    return n;
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

const char *conf_section_label(const conf_section *s, char *buf, size_t cap)
{
    if (s->name && *s->name)
        snprintf(buf, cap, "%s.%.64s", s->kind, s->name);
    else
        snprintf(buf, cap, "%s", s->kind ? s->kind : "");
    return buf;
}

const conf_entry *conf_find(const conf_section *s, const char *key)
{
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

/* ---- reading the file ----------------------------------------------------- */

typedef struct loader {
    conf_config *cfg;
    conf_problems *p;
    conf_section *cur;     /* where keys go; NULL: nowhere (see refused) */
    char label[96];        /* the current header's name, for messages */
    const char *refused;   /* why the current section is refused; reported once, at its first key */
    int refused_line;      /* its header's line; 0 once reported */
    int orphans_reported;  /* keys before any header: reported once */
    int full_reported;     /* the current section's key limit was reported */
    conf_entry *last;      /* what an indented line goes on with; NULL: nothing */
    size_t last_len, last_cap;
} loader;

static int valid_network_name(const char *v)
{
    if (!*v || strlen(v) > 64)
        return 0;
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || *v == '-' ||
              *v == '_'))
            return 0;
    return 1;
}

static void report_refused(loader *l, int line)
{
    if (l->refused && l->refused_line) {
        conf_problem(l->p, l->cfg->path, line, l->label, NULL, "%s", l->refused);
        l->refused_line = 0;
    }
}

static conf_section *network_section(loader *l, const char *kind, const char *name, int line)
{
    conf_config *cfg = l->cfg;
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].kind, kind) == 0 && strcmp(cfg->sections[i].name, name) == 0)
            return &cfg->sections[i];
    if (cfg->n_sections >= CONF_SECTIONS_MAX) {
        l->refused = "too many sections (at most 256)";
        return NULL;
    }
    conf_section *grown = realloc(cfg->sections, (cfg->n_sections + 1) * sizeof *grown);
    if (!grown) {
        l->refused = "out of memory";
        return NULL;
    }
    cfg->sections = grown;
    conf_section *s = &cfg->sections[cfg->n_sections];
    memset(s, 0, sizeof *s);
    s->kind = base_strdup(kind);
    s->name = base_strdup(name);
    s->line = line;
    if (!s->kind || !s->name) {
        free(s->kind);
        free(s->name);
        l->refused = "out of memory";
        return NULL;
    }
    cfg->n_sections++;
    return s;
}

static void on_section(loader *l, const char *header, int line)
{
    report_refused(l, l->refused_line);
    l->cur = NULL;
    l->last = NULL;
    l->refused = NULL;
    l->full_reported = 0;
    snprintf(l->label, sizeof l->label, "%.80s", header);
    const char *dot = strchr(header, '.');
    size_t kind_len = dot ? (size_t)(dot - header) : strlen(header);
    if (strcmp(header, "bot") == 0) {
        l->cur = &l->cfg->bot;
        if (l->cur->n_entries == 0)
            l->cur->line = line;
    } else if (dot && ((kind_len == 3 && strncmp(header, "irc", 3) == 0) ||
                       (kind_len == 6 && strncmp(header, "matrix", 6) == 0))) {
        char kind[8];
        snprintf(kind, sizeof kind, "%.*s", (int)kind_len, header);
        if (!dot[1])
            l->refused = "a network section needs a name, e.g. [irc.libera]";
        else if (!valid_network_name(dot + 1))
            l->refused = "the section name may hold only letters, digits, - and _ (at most 64)";
        else
            l->cur = network_section(l, kind, dot + 1, line);
    } else {
        l->refused = "unknown section (known: [bot], [irc.NAME], [matrix.NAME])";
    }
    l->refused_line = l->refused ? line : 0;
}

/* "enabled = no" keeps a network section in the file, checked, without
 * running it. The key is the reader's, not a transport's: it is not kept
 * among the entries its table reads. */
static int on_enabled(loader *l, conf_section *s, const char *value, int line)
{
    if (s->enabled_line) {
        conf_problem(l->p, l->cfg->path, line, l->label, "enabled", "given twice (first on line %d)", s->enabled_line);
        return 0;
    }
    s->enabled_line = line;
    conf_key k = {"enabled", &conf_bool, "yes", 0, 0, NULL, 0, 0, 0, NULL};
    int enabled = 1;
    char buf[64];
    const char *why = conf_bool.parse(&k, l->cfg, value, &enabled, buf, sizeof buf);
    if (why)
        conf_problem(l->p, l->cfg->path, line, l->label, "enabled", "%s", why);
    s->disabled = !why && !enabled;
    return 0;
}

static int on_key(loader *l, const char *key, const char *value, int line)
{
    l->last = NULL;
    if (l->refused) {
        report_refused(l, line);
        return 0;
    }
    conf_section *s = l->cur;
    if (!s) {
        if (!l->orphans_reported && !l->label[0])
            conf_problem(l->p, l->cfg->path, line, NULL, key, "keys must come after a section header such as [bot]");
        l->orphans_reported = 1;
        return 0; /* before any header, or under a broken one (already reported) */
    }
    if (s != &l->cfg->bot && strcmp(key, "enabled") == 0)
        return on_enabled(l, s, value, line);
    const conf_entry *first = conf_find(s, key);
    if (first) {
        conf_problem(l->p, l->cfg->path, line, l->label, key, "given twice (first on line %d)", first->line);
        return 0;
    }
    if (s->n_entries >= CONF_KEYS_MAX) {
        if (!l->full_reported)
            conf_problem(l->p, l->cfg->path, line, l->label, key, "too many keys in one section (at most %d)",
                         CONF_KEYS_MAX);
        l->full_reported = 1;
        return 0;
    }
    conf_entry *grown = realloc(s->entries, (s->n_entries + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->entries = grown;
    conf_entry *e = &s->entries[s->n_entries];
    memset(e, 0, sizeof *e);
    e->key = base_strdup(key);
    e->value = base_strdup(value);
    e->line = line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return -1;
    }
    if (s->n_entries == 0)
        s->line = line;
    s->n_entries++;
    l->last = e;
    l->last_len = strlen(value);
    l->last_cap = l->last_len + 1;
    return 0;
}

/* Joins an indented line to the value it goes on with; the buffer grows
 * geometrically, so a long list costs linear time. */
static int on_continuation(loader *l, const char *text, int line)
{
    conf_entry *e = l->last;
    if (!e)
        return 0; /* the key it goes with was dropped (and reported) */
    size_t add = strlen(text), need = l->last_len + 2 + add + 1;
    if (need > l->last_cap) {
        size_t cap = l->last_cap * 2 > need ? l->last_cap * 2 : need;
        char *grown = realloc(e->value, cap);
        if (!grown)
            return -1;
        e->value = grown;
        l->last_cap = cap;
    }
    if (l->last_len > 0) {
        memcpy(e->value + l->last_len, ", ", 2);
        l->last_len += 2;
    }
    memcpy(e->value + l->last_len, text, add + 1);
    l->last_len += add;
    if (!e->continued)
        e->continued = line;
    return 0;
}

static int on_event(void *ctx, const conf_ini_event *ev)
{
    loader *l = ctx;
    switch (ev->kind) {
    case CONF_INI_SECTION:
        on_section(l, ev->name, ev->line);
        return 0;
    case CONF_INI_KEY:
        return on_key(l, ev->name, ev->value, ev->line);
    case CONF_INI_CONTINUATION:
        return on_continuation(l, ev->value, ev->line);
    case CONF_INI_ERROR:
        conf_problem(l->p, l->cfg->path, ev->line, NULL, NULL, "%s", ev->value);
        l->last = NULL;
        if (ev->header) {
            /* The keys below belong to the section meant here: dropped, not
             * filed under the one before. */
            report_refused(l, l->refused_line);
            l->cur = NULL;
            l->refused = NULL;
            snprintf(l->label, sizeof l->label, "?");
        }
        return 0;
    }
    return 0;
}

int conf_read(conf_config *cfg, const char *path, conf_problems *problems)
{
    if (set_str(&cfg->path, path) != 0)
        return conf_problem(problems, path, 0, NULL, NULL, "out of memory");
    char *text;
    size_t len;
    base_error err;
    if (conf_ini_read_file(path, &text, &len, &err) != BASE_OK) {
        push(problems, &err);
        return BASE_ERR;
    }
    size_t before = conf_problems_count(problems);
    loader l = {.cfg = cfg, .p = problems};
    int rc = conf_ini_parse(text, len, on_event, &l);
    free(text);
    if (rc != 0)
        return conf_problem(problems, path, 0, NULL, NULL, "out of memory");
    report_refused(&l, l.refused_line);
    conf_section_apply(cfg, &cfg->bot, &conf_bot_schema, cfg, problems);
    conf_problems_sort(problems);
    return conf_problems_count(problems) == before ? BASE_OK : BASE_ERR;
}

int conf_load(conf_config *cfg, const char *path, base_error *err)
{
    conf_problems p = {0};
    conf_read(cfg, path, &p);
    int rc = conf_problems_first(&p, err);
    conf_problems_free(&p);
    return rc;
}

static void section_free(conf_section *s)
{
    for (size_t j = 0; j < s->n_entries; j++) {
        /* Values may be passwords or tokens. */
        base_secret_free(s->entries[j].value);
        free(s->entries[j].key);
    }
    free(s->entries);
    free(s->kind);
    free(s->name);
}

void conf_free(conf_config *cfg)
{
    free(cfg->path);
    conf_section_free(&conf_bot_schema, cfg);
    section_free(&cfg->bot);
    for (size_t i = 0; i < cfg->n_sections; i++)
        section_free(&cfg->sections[i]);
    free(cfg->sections);
    memset(cfg, 0, sizeof *cfg);
}
