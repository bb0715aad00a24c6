/* [matrix.NAME] sections: every key, its default and its check, in one table. */
#include "matrix/matrix_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/str.h"

#define TOKEN_FILE_MAX 4096

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
    if (!colon || colon == v + 1 || conf_check_printable(v + 1))
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
static const char *check_homeserver(const char *v)
{
    const char *host;
    int plain = 0;
    if (strncmp(v, "https://", 8) == 0)
        host = v + 8;
    else if (strncmp(v, "http://", 7) == 0)
        host = v + 7, plain = 1;
    else
        return "must be an https:// URL, e.g. https://matrix.example.org";
    size_t host_len = strcspn(host, "/");
    const char *colon = host[0] == '[' ? strchr(host, ']') : NULL;
    size_t name_len = colon ? (size_t)(colon - host) + 1 : strcspn(host, ":/");
    if (name_len > host_len)
        name_len = host_len;
    if (host_len == 0 || name_len == 0 || conf_check_printable(v) || memchr(host, '@', host_len) ||
        strpbrk(v, "?#"))
        return "must be a URL like https://matrix.example.org (no user, query or fragment)";
    if (plain && !is_loopback_host(host, name_len))
        return "plain http:// is allowed only on loopback (localhost, 127.0.0.1, [::1]); use https://";
    return NULL;
}

static const char *check_user_id(const char *v)
{
    return valid_matrix_id(v, '@') ? NULL : "must be a full user id like @careerbot:example.org";
}

static const char *check_token(const char *v)
{
    return conf_check_printable(v) ? "the access token must be one word of printable ASCII" : NULL;
}

static const char *check_device(const char *v)
{
    return conf_check_printable(v) || strlen(v) > 128 ? "must be one word of printable ASCII (at most 128)" : NULL;
}

static const char *check_inviter(const char *v)
{
    if (v[0] == '@' ? valid_matrix_id(v, '@') : valid_server_name(v))
        return NULL;
    return "each item is a user (@name:example.org) or a server (example.org)";
}

static const char *check_admin(const char *v)
{
    return valid_matrix_id(v, '@') ? NULL : "each item is a full user id like @admin:example.org";
}

/* http://, https:// or socks proxies, as libcurl names them. */
static const char *check_proxy(const char *v)
{
    static const char *const schemes[] = {"http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"};
    if (conf_check_printable(v))
        return "must be a proxy URL like http://proxy.example.org:3128";
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        if (strncmp(v, schemes[i], strlen(schemes[i])) == 0 && v[strlen(schemes[i])])
            return NULL;
    return "must start with http://, https://, socks5:// or socks5h:// (also socks4:// or socks4a://)";
}

static const char *check_room(const char *v)
{
    if (valid_matrix_id(v, '!') || valid_matrix_id(v, '#'))
        return NULL;
    return "each item is a room id (!abc:example.org) or an alias (#room:example.org)";
}

/* ---- the token from a file or the environment ----------------------------- */

/* Both store into the access token's field (the key's offset). */
static void token_release(const conf_key *k, void *obj)
{
    char **slot = (char **)((char *)obj + k->offset);
    base_secret_free(*slot);
    *slot = NULL;
}

static const char *set_token(const conf_key *k, void *obj, const char *token)
{
    const char *why = check_token(token);
    if (why)
        return why;
    char *copy = base_strdup(token);
    if (!copy)
        return "out of memory";
    token_release(k, obj);
    *(char **)((char *)obj + k->offset) = copy;
    return NULL;
}

/* The token on the file's first line; trailing spaces and newlines dropped. */
static const char *token_file_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj,
                                    char *buf, size_t cap)
{
    if (!*value)
        return "must name a file";
    char *path = cfg ? conf_resolve(cfg, value) : base_strdup(value);
    if (!path)
        return "out of memory";
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(buf, cap, "cannot open %.200s: %s", path, strerror(errno));
        free(path);
        return buf;
    }
    /* A token others can read is a token others can use. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        snprintf(buf, cap, "%.200s may be read by %s (mode %04o): the token in it lets anyone post as the bot; "
                 "run: chmod 600 %.200s", path, st.st_mode & S_IRWXO ? "anyone" : "its group",
                 (unsigned)(st.st_mode & 07777), path);
        fclose(f);
        free(path);
        return buf;
    }
    free(path);
    char token[TOKEN_FILE_MAX];
    size_t n = fread(token, 1, sizeof token - 1, f);
    fclose(f);
    token[n] = '\0';
    token[strcspn(token, "\r\n")] = '\0';
    size_t len = strlen(token);
    while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
        token[--len] = '\0';
    const char *why = len ? set_token(k, obj, token) : "the file holds no token (the token goes on its first line)";
    base_secret_wipe(token, sizeof token);
    return why;
}

static const char *token_env_parse(const conf_key *k, const conf_config *cfg, const char *value, void *obj,
                                   char *buf, size_t cap)
{
    if (conf_check_printable(value))
        return "must name an environment variable";
    const char *token = getenv(value);
    if (!token || !*token) {
        snprintf(buf, cap, "the environment variable %.200s is not set", value);
        return buf;
    }
    return set_token(k, obj, token);
}

static const conf_type token_file = {0, token_file_parse, token_release};
static const conf_type token_env = {0, token_env_parse, token_release};

/* ---- the table ------------------------------------------------------------ */

#define F(field) offsetof(matrix_network_config, field), 0
#define L(field) offsetof(matrix_network_config, field), offsetof(matrix_network_config, n_##field)

static const conf_key matrix_keys[] = {
    /* name, type, default, min, max, check, field, flags, help */
    {"homeserver", &conf_string, NULL, 0, 0, check_homeserver, F(homeserver), CONF_REQUIRED,
     "the homeserver's URL, e.g. https://matrix.example.org; plain http:// only on loopback"},
    {"user_id", &conf_string, NULL, 0, 0, check_user_id, F(user_id), CONF_REQUIRED,
     "the bot's full user id, e.g. @careerbot:example.org"},
    {"access_token", &conf_string, NULL, 0, 0, check_token, F(access_token), CONF_SECRET,
     "the access token (better: access_token_file or access_token_env)"},
    {"access_token_file", &token_file, NULL, 0, 0, NULL, F(access_token), 0,
     "a file with the access token on its first line"},
    {"access_token_env", &token_env, NULL, 0, 0, NULL, F(access_token), 0,
     "an environment variable that holds the access token"},
    {"password", &conf_string, NULL, 0, 0, NULL, F(password), CONF_SECRET,
     "the account's password, to log in (again when the token is refused)"},
    {"device_id", &conf_string, NULL, 0, 0, check_device, F(device_id), 0,
     "the device to log in as; default the last login's, or the server's choice"},
    {"state_dir", &conf_dir, NULL, 0, 0, NULL, F(state_dir), 0,
     "where the sync position and unsent replies are kept; default [bot] state_dir + /matrix-NAME"},
    {"command_prefixes", &conf_string, "!", 0, 0, conf_check_prefixes, F(command_prefixes), 0,
     "characters that start a command"},
    {"allowed_inviters", &conf_words, NULL, 0, 0, check_inviter, L(allowed_inviters), 0,
     "users or servers whose invites are accepted; default the bot's own server"},
    {"admins", &conf_words, NULL, 0, 0, check_admin, L(admins), 0,
     "user ids that may give operator commands in a direct chat"},
    {"listen", &conf_words, NULL, 0, 0, check_room, L(listen), 0,
     "rooms where confident unaddressed questions are answered"},
    {"listen_min_score", &conf_number, "1.5", 0, 100, NULL, F(listen_min_score), 0,
     "the score an unaddressed question needs to be answered"},
    {"user_burst", &conf_number, "5", 1, 1000000, NULL, F(user_burst), 0, "questions one person may ask at once"},
    {"user_rate", &conf_number, "0.2", 0.001, 1000000, NULL, F(user_rate), 0,
     "questions a second one person may ask after the burst"},
    {"room_burst", &conf_number, "10", 1, 1000, NULL, F(room_burst), 0, "answers one room may get at once"},
    {"room_rate", &conf_number, "0.5", 0.001, 1000, NULL, F(room_rate), 0,
     "answers a second one room may get after the burst"},
    {"queue_max", &conf_whole, "200", 1, 100000, NULL, F(queue_max), 0, "replies waiting to be sent, at most"},
    {"ca_file", &conf_file, NULL, 0, 0, NULL, F(ca_file), 0,
     "a CA bundle (PEM) for a homeserver with a private certificate authority"},
    {"sync_timeout", &conf_number, "30", 1, 300, NULL, F(sync_timeout), 0,
     "seconds one /sync long-poll may wait for news"},
    {"display_name", &conf_string, NULL, 0, 0, conf_check_line, F(display_name), 0,
     "the account's display name, set at start; default the one it has"},
    {"answer_unknown_commands", &conf_words, NULL, 0, 0, check_room, L(answer_unknown_commands), 0,
     "rooms where an unknown !command gets a reply (elsewhere it is left to other bots)"},
    {"read_receipts", &conf_bool, "yes", 0, 0, NULL, F(read_receipts), 0,
     "mark each message the bot answers as read"},
    {"typing_notifications", &conf_bool, "yes", 0, 0, NULL, F(typing), 0,
     "show the bot typing while a reply waits behind the homeserver's rate limit"},
    {"proxy", &conf_string, NULL, 0, 0, check_proxy, F(proxy), 0,
     "a proxy for the homeserver's requests (http://, https://, socks5h://...); default none, whatever "
     "the environment says"},
};

#undef F
#undef L

/* Checks across keys, by what the section says (a key given with a bad value
 * is reported once, as bad, not again as missing), then the defaults that
 * come from other keys. */
static int finish(const conf_config *cfg, const conf_section *s, void *obj, conf_problems *p)
{
    matrix_network_config *o = obj;
    int rc = BASE_OK;
    int token_sources = !!conf_find(s, "access_token") + !!conf_find(s, "access_token_file") +
                        !!conf_find(s, "access_token_env");
    if (token_sources > 1)
        rc = conf_key_problem(p, cfg, s, conf_find(s, "access_token_env") ? "access_token_env" : "access_token_file",
                              "give only one of access_token, access_token_file and access_token_env");
    if (token_sources == 0 && !conf_find(s, "password"))
        rc = conf_key_problem(p, cfg, s, "access_token",
                              "an access token (access_token, access_token_file or access_token_env) or a password "
                              "is required");
    if (o->homeserver && conf_find(s, "ca_file") && strncmp(o->homeserver, "https://", 8) != 0)
        rc = conf_key_problem(p, cfg, s, "ca_file", "needs an https:// homeserver");
    if (!conf_find(s, "state_dir") && !cfg->state_dir)
        rc = conf_key_problem(p, cfg, s, "state_dir",
                              "a state directory is required (here or as [bot] state_dir): the sync position must "
                              "survive restarts so no message is answered twice");
    if (rc != BASE_OK)
        return rc;
    size_t n = o->homeserver ? strlen(o->homeserver) : 0;
    while (n > 0 && o->homeserver[n - 1] == '/')
        o->homeserver[--n] = '\0';
    if (!o->state_dir && cfg->state_dir) {
        n = strlen(cfg->state_dir) + strlen(o->name) + 16;
        if (!(o->state_dir = malloc(n)))
            return conf_key_problem(p, cfg, s, "state_dir", "out of memory");
        snprintf(o->state_dir, n, "%s/matrix-%s", cfg->state_dir, o->name);
    }
    const char *own = matrix_user_server(o->user_id);
    if (o->n_allowed_inviters == 0 && own) {
        if (!(o->allowed_inviters = malloc(sizeof *o->allowed_inviters)) ||
            !(o->allowed_inviters[0] = base_strdup(own)))
            return conf_key_problem(p, cfg, s, "allowed_inviters", "out of memory");
        o->n_allowed_inviters = 1;
    }
    return BASE_OK;
}

const conf_schema matrix_network_schema = {"matrix", matrix_keys, sizeof matrix_keys / sizeof *matrix_keys,
                                           sizeof(matrix_network_config), offsetof(matrix_network_config, name),
                                           NULL, finish};

int matrix_network_config_read(const conf_config *cfg, const conf_section *s, matrix_network_config *o,
                               base_error *err)
{
    return conf_section_load(cfg, s, &matrix_network_schema, o, err);
}

void matrix_network_config_free(matrix_network_config *o)
{
    conf_section_free(&matrix_network_schema, o);
    memset(o, 0, sizeof *o);
}
