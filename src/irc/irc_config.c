/* [irc.NAME] sections: every key, its default and its check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/irc_network.h"

#include "base/str.h"

typedef struct ctx {
    const conf_config *cfg;
    const conf_section *s;
    base_error *err;
} ctx;

static int bad(const ctx *c, const conf_entry *e, const char *why)
{
    return base_error_set(c->err, "%s:%d: [irc.%s] %s: %s", c->cfg->path ? c->cfg->path : "config",
                        e ? e->line : c->s->line, c->s->name, e ? e->key : "", why);
}

/* Splits "a, b c, d" on commas into trimmed items. */
static int valid_word(const char *v)
{
    if (!*v)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v <= ' ' || *v == ',' || *v == ':')
            return 0;
    return 1;
}

static int read_channels(const ctx *c, const conf_entry *e, irc_network_config *o)
{
    char **items = NULL;
    size_t n = 0;
    if (conf_split_list(e->value, 0, &items, &n) != 0) {
        base_strv_free(items, n);
        return bad(c, e, "out of memory");
    }
    o->channels = calloc(n ? n : 1, sizeof *o->channels);
    int rc = o->channels ? BASE_OK : bad(c, e, "out of memory");
    for (size_t i = 0; rc == BASE_OK && i < n; i++) {
        char *name = items[i], *space = strchr(name, ' ');
        char *key = NULL;
        if (space) {
            *space = '\0';
            key = space + 1;
            while (*key == ' ')
                key++;
        }
        if (!strchr("#&+!", name[0]) || !valid_word(name + 1) || strlen(name) > 64 ||
            (key && !valid_word(key))) {
            rc = bad(c, e, "each channel is \"#name\" or \"#name key\", separated by commas");
            break;
        }
        o->channels[i].name = base_strdup(name);
        o->channels[i].key = key ? base_strdup(key) : NULL;
        o->n_channels++;
    }
    base_strv_free(items, n);
    return rc;
}

static int read_key(const ctx *c, const conf_entry *e, irc_network_config *o)
{
    const char *k = e->key, *v = e->value;
    double d;
#define STR(name, field)                                  \
    if (strcmp(k, name) == 0) {                           \
        free(o->field);                                   \
        o->field = base_strdup(v);                        \
        return o->field ? BASE_OK : bad(c, e, "out of memory"); \
    }
#define BOOL(name, field)                                                        \
    if (strcmp(k, name) == 0)                                                    \
        return conf_parse_bool(v, &o->field) == 0 ? BASE_OK : bad(c, e, "must be yes or no");
#define NUM(name, field, lo, hi)                                                 \
    if (strcmp(k, name) == 0) {                                                  \
        if (conf_parse_number(v, lo, hi, &d) != 0)                                    \
            return bad(c, e, "must be a number from " #lo " to " #hi);           \
        o->field = d;                                                            \
        return BASE_OK;                                                            \
    }
    STR("host", host)
    BOOL("tls", tls)
    BOOL("tls_verify", tls_verify)
    STR("tls_ca_file", tls_ca_file)
    STR("tls_fingerprint", tls_fingerprint)
    STR("username", username)
    STR("realname", realname)
    STR("password", password)
    STR("sasl_user", sasl_user)
    STR("sasl_password", sasl_password)
    BOOL("sasl_required", sasl_required)
    STR("nickserv_password", nickserv_password)
    BOOL("flood_control", flood_control)
    NUM("flood_burst", flood_burst, 1, 100)
    NUM("flood_rate", flood_rate, 0.05, 1000)
    NUM("user_burst", user_burst, 1, 1000000)
    NUM("user_rate", user_rate, 0.001, 1000000)
    NUM("room_burst", room_burst, 1, 1000000)
    NUM("room_rate", room_rate, 0.001, 1000000)
    NUM("listen_min_score", listen_min_score, 0, 100)
    NUM("ping_after", ping_after, 5, 3600)
    NUM("ping_timeout", ping_timeout, 5, 3600)
    NUM("connect_timeout", connect_timeout, 1, 300)
    NUM("reconnect_max", reconnect_max, 1, 86400)
    NUM("regain_interval", regain_interval, 5, 86400)
#undef STR
#undef BOOL
#undef NUM
    if (strcmp(k, "port") == 0) {
        if (conf_parse_number(v, 1, 65535, &d) != 0 || d != (int)d)
            return bad(c, e, "must be a port number from 1 to 65535");
        o->port = (int)d;
        return BASE_OK;
    }
    if (strcmp(k, "queue_max") == 0) {
        if (conf_parse_number(v, 1, 100000, &d) != 0 || d != (size_t)d)
            return bad(c, e, "must be a whole number from 1 to 100000");
        o->queue_max = (size_t)d;
        return BASE_OK;
    }
    if (strcmp(k, "nick") == 0) {
        if (!valid_word(v) || strlen(v) > 30)
            return bad(c, e, "must be one word of at most 30 characters");
        free(o->nick);
        o->nick = base_strdup(v);
        return o->nick ? BASE_OK : bad(c, e, "out of memory");
    }
    if (strcmp(k, "command_prefixes") == 0) {
        if (!*v || strlen(v) > 8)
            return bad(c, e, "must be 1-8 punctuation characters, e.g. /!");
        free(o->command_prefixes);
        o->command_prefixes = base_strdup(v);
        return BASE_OK;
    }
    if (strcmp(k, "channels") == 0)
        return read_channels(c, e, o);
    if (strcmp(k, "alt_nicks") == 0)
        return conf_split_list(v, 0, &o->alt_nicks, &o->n_alt_nicks) == 0 ? BASE_OK : bad(c, e, "out of memory");
    if (strcmp(k, "listen") == 0)
        return conf_split_list(v, 0, &o->listen, &o->n_listen) == 0 ? BASE_OK : bad(c, e, "out of memory");
    if (strcmp(k, "ignore") == 0)
        return conf_split_list(v, 0, &o->ignore, &o->n_ignore) == 0 ? BASE_OK : bad(c, e, "out of memory");
    return bad(c, e, "unknown key (see config.example.ini for the [irc.NAME] keys)");
}

int irc_network_config_read(const conf_config *cfg, const conf_section *s, irc_network_config *o,
                            base_error *err)
{
    ctx c = {cfg, s, err};
    memset(o, 0, sizeof *o);
    o->name = base_strdup(s->name);
    o->nick = base_strdup(cfg->nick);
    o->tls = 1;
    o->tls_verify = 1;
    o->sasl_required = 1;
    o->flood_control = 1;
    o->flood_burst = 4;
    o->flood_rate = 1;
    o->user_burst = 5;
    o->user_rate = 0.2;
    o->command_prefixes = base_strdup("!/"); /* IRC clients swallow "/": hints show "!" */
    o->room_burst = 10;
    o->room_rate = 0.5;
    o->queue_max = 60;
    o->listen_min_score = 1.5;
    o->ping_after = 60;
    o->ping_timeout = 60;
    o->connect_timeout = 15;
    o->reconnect_max = 300;
    o->regain_interval = 60;
    if (!o->name || !o->nick || !o->command_prefixes) {
        irc_network_config_free(o);
        return base_error_set(err, "out of memory");
    }
    for (size_t i = 0; i < s->n_entries; i++)
        if (read_key(&c, &s->entries[i], o) != BASE_OK) {
            irc_network_config_free(o);
            return BASE_ERR;
        }
    int rc = BASE_OK;
    if (!o->host)
        rc = bad(&c, NULL, "host is required");
    else if ((o->sasl_user == NULL) != (o->sasl_password == NULL))
        rc = bad(&c, conf_find(s, o->sasl_user ? "sasl_user" : "sasl_password"),
                 "sasl_user and sasl_password go together");
    else if (!o->tls && (o->tls_ca_file || o->tls_fingerprint))
        rc = bad(&c, conf_find(s, o->tls_ca_file ? "tls_ca_file" : "tls_fingerprint"),
                 "needs tls = yes");
    if (rc == BASE_OK && o->tls_ca_file) {
        char *resolved = conf_resolve(cfg, o->tls_ca_file);
        free(o->tls_ca_file);
        o->tls_ca_file = resolved;
    }
    if (rc == BASE_OK && o->port == 0)
        o->port = o->tls ? 6697 : 6667;
    if (rc != BASE_OK)
        irc_network_config_free(o);
    return rc;
}

void irc_network_config_free(irc_network_config *o)
{
    free(o->name);
    free(o->host);
    free(o->tls_ca_file);
    free(o->tls_fingerprint);
    free(o->nick);
    free(o->username);
    free(o->realname);
    free(o->password);
    base_strv_free(o->alt_nicks, o->n_alt_nicks);
    free(o->sasl_user);
    free(o->sasl_password);
    free(o->nickserv_password);
    for (size_t i = 0; i < o->n_channels; i++) {
        free((char *)o->channels[i].name);
        free((char *)o->channels[i].key);
    }
    free(o->channels);
    base_strv_free(o->listen, o->n_listen);
    base_strv_free(o->ignore, o->n_ignore);
    free(o->command_prefixes);
    memset(o, 0, sizeof *o);
}
