/* [matrix.NAME] sections: every key, its default and its check. */
#include "matrix/matrix_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

#define TOKEN_FILE_MAX 4096

typedef struct ctx {
    const conf_config *cfg;
    const conf_section *s;
    base_error *err;
} ctx;

static int bad(const ctx *c, const conf_entry *e, const char *why)
{
    return base_error_set(c->err, "%s:%d: [matrix.%s] %s: %s", c->cfg->path ? c->cfg->path : "config",
                        e ? e->line : c->s->line, c->s->name, e ? e->key : "", why);
}

/* Like bad() for a key given by name (NULL entry when the key is absent). */
static int bad_key(const ctx *c, const char *key, const char *why)
{
    const conf_entry *e = conf_find(c->s, key);
    if (e)
        return bad(c, e, why);
    return base_error_set(c->err, "%s:%d: [matrix.%s] %s: %s", c->cfg->path ? c->cfg->path : "config", c->s->line,
                        c->s->name, key, why);
}

/* Splits "a, b c, d" on commas and spaces into items (Matrix ids hold neither). */
/* Printable ASCII without spaces: safe in an HTTP header or a JSON string. */
static int printable_word(const char *v)
{
    if (!*v)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 0x7f)
            return 0;
    return 1;
}

/* A server name: host or host:port, no path, no spaces. */
static int valid_server_name(const char *v)
{
    if (!*v || strlen(v) > 255)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || (unsigned char)*v >= 0x7f || strchr("/@#!?,", *v))
            return 0;
    return 1;
}

/* "@localpart:server", or with sigil '!' (room id) or '#' (alias). */
static int valid_matrix_id(const char *v, char sigil)
{
    if (v[0] != sigil || strlen(v) > 255)
        return 0;
    const char *colon = strchr(v + 1, ':');
    if (!colon || colon == v + 1 || !printable_word(v + 1))
        return 0;
    return valid_server_name(colon + 1);
}

const char *matrix_user_server(const char *user_id)
{
    const char *colon = user_id ? strchr(user_id, ':') : NULL;
    return colon && colon[1] ? colon + 1 : NULL;
}

int matrix_inviter_allowed(char *const *allowed, size_t n, const char *inviter)
{
    const char *server = matrix_user_server(inviter);
    for (size_t i = 0; i < n; i++) {
        if (allowed[i][0] == '@' ? strcmp(allowed[i], inviter) == 0
                                 : server && strcmp(allowed[i], server) == 0)
            return 1;
    }
    return 0;
}

static int is_loopback_host(const char *host, size_t len)
{
    if ((len == 9 && strncmp(host, "localhost", 9) == 0) || (len == 5 && strncmp(host, "[::1]", 5) == 0))
        return 1;
    /* 127.0.0.0/8, written as four dotted numbers */
    if (len < 9 || strncmp(host, "127.", 4) != 0)
        return 0;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (host[i] == '.')
            dots++;
        else if (host[i] < '0' || host[i] > '9')
            return 0;
    }
    return dots == 3;
}

/* https://host[:port][/path]; plain http only on loopback, where nobody can
 * read the access token on the wire. */
static int read_homeserver(const ctx *c, const conf_entry *e, matrix_network_config *o)
{
    const char *v = e->value, *host;
    int plain = 0;
    if (strncmp(v, "https://", 8) == 0)
        host = v + 8;
    else if (strncmp(v, "http://", 7) == 0)
        host = v + 7, plain = 1;
    else
        return bad(c, e, "must be an https:// URL, e.g. https://matrix.example.org");
    size_t host_len = strcspn(host, "/");
    const char *colon = host[0] == '[' ? strchr(host, ']') : NULL;
    size_t name_len = colon ? (size_t)(colon - host) + 1 : strcspn(host, ":/");
    if (name_len > host_len)
        name_len = host_len;
    if (host_len == 0 || name_len == 0 || !printable_word(v) || memchr(host, '@', host_len) || strpbrk(v, "?#"))
        return bad(c, e, "must be a URL like https://matrix.example.org (no user, query or fragment)");
    if (plain && !is_loopback_host(host, name_len))
        return bad(c, e, "plain http:// is allowed only on loopback (localhost, 127.0.0.1, [::1]); use https://");
    free(o->homeserver);
    o->homeserver = base_strdup(v);
    if (!o->homeserver)
        return bad(c, e, "out of memory");
    size_t n = strlen(o->homeserver);
    while (n > 0 && o->homeserver[n - 1] == '/')
        o->homeserver[--n] = '\0';
    return BASE_OK;
}

static int set_token(const ctx *c, const conf_entry *e, matrix_network_config *o, const char *token)
{
    if (!printable_word(token))
        return bad(c, e, "the access token must be one word of printable ASCII");
    free(o->access_token);
    o->access_token = base_strdup(token);
    return o->access_token ? BASE_OK : bad(c, e, "out of memory");
}

/* The token on the file's first line; trailing spaces and newlines dropped. */
static int read_token_file(const ctx *c, const conf_entry *e, matrix_network_config *o)
{
    char *path = conf_resolve(c->cfg, e->value);
    if (!path)
        return bad(c, e, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        char why[600];
        snprintf(why, sizeof why, "cannot open %.400s: %s", path, strerror(errno));
        free(path);
        return bad(c, e, why);
    }
    free(path);
    char buf[TOKEN_FILE_MAX];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        buf[--len] = '\0';
    if (len == 0)
        return bad(c, e, "the file holds no token (the token goes on its first line)");
    int rc = set_token(c, e, o, buf);
    memset(buf, 0, sizeof buf);
    return rc;
}

static int read_token_env(const ctx *c, const conf_entry *e, matrix_network_config *o)
{
    if (!printable_word(e->value))
        return bad(c, e, "must name an environment variable");
    const char *token = getenv(e->value);
    if (!token || !*token) {
        char why[300];
        snprintf(why, sizeof why, "the environment variable %.200s is not set", e->value);
        return bad(c, e, why);
    }
    return set_token(c, e, o, token);
}

static int valid_prefixes(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 8)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f || (v[i] >= 'a' && v[i] <= 'z') ||
            (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9'))
            return 0;
    return 1;
}

static int read_key(const ctx *c, const conf_entry *e, matrix_network_config *o)
{
    const char *k = e->key, *v = e->value;
    double d;
#define NUM(name, field, lo, hi)                                                 \
    if (strcmp(k, name) == 0) {                                                  \
        if (conf_parse_number(v, lo, hi, &d) != 0)                                    \
            return bad(c, e, "must be a number from " #lo " to " #hi);           \
        o->field = d;                                                            \
        return BASE_OK;                                                            \
    }
    NUM("listen_min_score", listen_min_score, 0, 100)
    NUM("user_burst", user_burst, 1, 1000)
    NUM("user_rate", user_rate, 0.001, 1000)
    NUM("room_burst", room_burst, 1, 1000)
    NUM("room_rate", room_rate, 0.001, 1000)
    NUM("sync_timeout", sync_timeout, 1, 300)
#undef NUM
    if (strcmp(k, "homeserver") == 0)
        return read_homeserver(c, e, o);
    if (strcmp(k, "user_id") == 0) {
        if (!valid_matrix_id(v, '@'))
            return bad(c, e, "must be a full user id like @careerbot:example.org");
        free(o->user_id);
        return (o->user_id = base_strdup(v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "access_token") == 0)
        return set_token(c, e, o, v);
    if (strcmp(k, "access_token_file") == 0)
        return read_token_file(c, e, o);
    if (strcmp(k, "access_token_env") == 0)
        return read_token_env(c, e, o);
    if (strcmp(k, "password") == 0) {
        if (!*v)
            return bad(c, e, "must not be empty");
        free(o->password);
        return (o->password = base_strdup(v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "device_id") == 0) {
        if (!printable_word(v) || strlen(v) > 128)
            return bad(c, e, "must be one word of printable ASCII");
        free(o->device_id);
        return (o->device_id = base_strdup(v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "state_dir") == 0 || strcmp(k, "ca_file") == 0) {
        if (!*v)
            return bad(c, e, k[0] == 's' ? "must name a directory" : "must name a file");
        char **slot = k[0] == 's' ? &o->state_dir : &o->ca_file;
        free(*slot);
        return (*slot = conf_resolve(c->cfg, v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "command_prefixes") == 0) {
        if (!valid_prefixes(v))
            return bad(c, e, "must be 1-8 punctuation characters, e.g. !");
        free(o->command_prefixes);
        return (o->command_prefixes = base_strdup(v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "allowed_inviters") == 0) {
        if (conf_split_list(v, 1, &o->allowed_inviters, &o->n_allowed_inviters) != 0)
            return bad(c, e, "out of memory");
        for (size_t i = 0; i < o->n_allowed_inviters; i++) {
            const char *item = o->allowed_inviters[i];
            if (item[0] == '@' ? !valid_matrix_id(item, '@') : !valid_server_name(item))
                return bad(c, e, "each item is a user (@name:example.org) or a server (example.org)");
        }
        return BASE_OK;
    }
    if (strcmp(k, "listen") == 0) {
        if (conf_split_list(v, 1, &o->listen, &o->n_listen) != 0)
            return bad(c, e, "out of memory");
        for (size_t i = 0; i < o->n_listen; i++)
            if (!valid_matrix_id(o->listen[i], '!') && !valid_matrix_id(o->listen[i], '#'))
                return bad(c, e, "each item is a room id (!abc:example.org) or an alias (#room:example.org)");
        return BASE_OK;
    }
    if (strcmp(k, "queue_max") == 0) {
        if (conf_parse_number(v, 1, 100000, &d) != 0 || d != (double)(size_t)d)
            return bad(c, e, "must be a whole number from 1 to 100000");
        o->queue_max = (size_t)d;
        return BASE_OK;
    }
    if (strcmp(k, "display_name") == 0) {
        size_t n = strlen(v);
        if (n == 0 || n > 255 || strpbrk(v, "\r\n\t"))
            return bad(c, e, "must be 1-255 bytes on one line");
        free(o->display_name);
        return (o->display_name = base_strdup(v)) ? BASE_OK : bad(c, e, "out of memory");
    }
    return bad(c, e, "unknown key (see config.example.ini for the [matrix.NAME] keys)");
}

static int valid_section_name(const char *v)
{
    if (!*v || strlen(v) > 64)
        return 0;
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || *v == '-' ||
              *v == '_'))
            return 0;
    return 1;
}

/* Checks that need the whole section: required keys and combinations. */
static int check(const ctx *c, const conf_config *cfg, matrix_network_config *o)
{
    int token_sources = !!conf_find(c->s, "access_token") + !!conf_find(c->s, "access_token_file") +
                        !!conf_find(c->s, "access_token_env");
    if (!o->homeserver)
        return bad_key(c, "homeserver", "is required (the homeserver's URL, e.g. https://matrix.example.org)");
    if (!o->user_id)
        return bad_key(c, "user_id", "is required (the bot's full user id, e.g. @careerbot:example.org)");
    if (token_sources > 1)
        return bad_key(c, conf_find(c->s, "access_token_env") ? "access_token_env" : "access_token_file",
                       "give only one of access_token, access_token_file and access_token_env");
    if (!o->access_token && !o->password)
        return bad_key(c, "access_token", "an access token (access_token, access_token_file or "
                       "access_token_env) or a password is required");
    if (o->ca_file && strncmp(o->homeserver, "https://", 8) != 0)
        return bad_key(c, "ca_file", "needs an https:// homeserver");
    if (!o->state_dir) {
        if (!cfg->state_dir)
            return bad_key(c, "state_dir", "a state directory is required (here or as [bot] state_dir): "
                           "the sync position must survive restarts so no message is answered twice");
        size_t n = strlen(cfg->state_dir) + strlen(o->name) + 16;
        if (!(o->state_dir = malloc(n)))
            return bad(c, NULL, "out of memory");
        snprintf(o->state_dir, n, "%s/matrix-%s", cfg->state_dir, o->name);
    }
    if (o->n_allowed_inviters == 0) {
        const char *own = matrix_user_server(o->user_id);
        if (!(o->allowed_inviters = malloc(sizeof *o->allowed_inviters)) ||
            !(o->allowed_inviters[0] = base_strdup(own)))
            return bad(c, NULL, "out of memory");
        o->n_allowed_inviters = 1;
    }
    return BASE_OK;
}

int matrix_network_config_read(const conf_config *cfg, const conf_section *s, matrix_network_config *o,
                               base_error *err)
{
    ctx c = {cfg, s, err};
    memset(o, 0, sizeof *o);
    if (!valid_section_name(s->name))
        return bad(&c, NULL, "the section name may hold only letters, digits, - and _");
    o->name = base_strdup(s->name);
    o->command_prefixes = base_strdup("!");
    o->listen_min_score = 1.5;
    o->user_burst = 5;
    o->user_rate = 0.2;
    o->room_burst = 10;
    o->room_rate = 0.5;
    o->queue_max = 200;
    o->sync_timeout = 30;
    if (!o->name || !o->command_prefixes) {
        matrix_network_config_free(o);
        return base_error_set(err, "out of memory");
    }
    int rc = BASE_OK;
    for (size_t i = 0; rc == BASE_OK && i < s->n_entries; i++)
        rc = read_key(&c, &s->entries[i], o);
    if (rc == BASE_OK)
        rc = check(&c, cfg, o);
    if (rc != BASE_OK)
        matrix_network_config_free(o);
    return rc;
}

/* Secrets are wiped before their memory goes back to the allocator. */
static void free_secret(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

void matrix_network_config_free(matrix_network_config *o)
{
    free(o->name);
    free(o->homeserver);
    free(o->user_id);
    free_secret(o->access_token);
    free_secret(o->password);
    free(o->device_id);
    free(o->state_dir);
    free(o->command_prefixes);
    base_strv_free(o->allowed_inviters, o->n_allowed_inviters);
    base_strv_free(o->listen, o->n_listen);
    free(o->ca_file);
    free(o->display_name);
    memset(o, 0, sizeof *o);
}
