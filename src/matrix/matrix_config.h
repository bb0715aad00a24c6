/* [matrix.NAME] sections: one Matrix account on one homeserver. Reading a
 * section checks every key, resolves paths against the config file's folder
 * and fetches the access token from a file or the environment when asked to,
 * so a bad setting stops the bot before anything connects. */
#ifndef MATRIX_CONFIG_H
#define MATRIX_CONFIG_H

#include <stddef.h>

#include "base/error.h"
#include "conf/conf.h"
#include "conf/conf_keys.h"

typedef struct matrix_network_config {
    char *name;              /* the NAME of [matrix.NAME]: letters, digits, - and _ */
    char *homeserver;        /* base URL, no trailing slash; http:// only on loopback */
    char *user_id;           /* "@localpart:server" */
    char *access_token;      /* from access_token, access_token_file or access_token_env; NULL: log in */
    char *password;          /* for m.login.password, and to log in again when the token dies */
    char *device_id;         /* NULL: the one saved in state_dir, or the server's choice */
    char *state_dir;         /* where next_batch and the send queue persist */
    char *command_prefixes;  /* default "!" (Element eats "/") */
    char **allowed_inviters; /* "@user:server" or "server"; default: the bot's own server */
    size_t n_allowed_inviters;
    char **admins;           /* user ids that may give operator commands in a direct chat */
    size_t n_admins;
    char **listen;           /* room ids or aliases where confident unaddressed questions are answered */
    size_t n_listen;
    double listen_min_score;
    double user_burst, user_rate; /* questions per user */
    double room_burst, room_rate; /* answers per room */
    size_t queue_max;        /* replies waiting to be sent, at most */
    char *ca_file;           /* extra CA bundle for a private homeserver */
    double sync_timeout;     /* seconds a /sync long-poll may wait */
    char *display_name;      /* set on the account at start; also recognised as an address */
    char **answer_unknown_commands; /* room ids or aliases where an unknown !command gets a reply */
    size_t n_answer_unknown_commands;
    int read_receipts;       /* mark each answered message read */
    int typing;              /* show typing while a reply waits behind a rate limit */
    char *proxy;             /* HTTP(S) or SOCKS proxy URL; NULL: none (the environment's are ignored) */
} matrix_network_config;

/* The table of [matrix.NAME] keys, for conf_section_read (every problem)
 * and the tests. */
extern const conf_schema matrix_network_schema;

/* Reads a [matrix.NAME] section with defaults from [bot]. On error, err
 * holds the first problem: "file:line: [matrix.NAME] key: message". */
int matrix_network_config_read(const conf_config *cfg, const conf_section *s, matrix_network_config *out,
                               base_error *err);
void matrix_network_config_free(matrix_network_config *c);

/* The server part of a user id ("example.org" of "@bot:example.org"), or
 * NULL when user_id has none. Points into user_id. */
const char *matrix_user_server(const char *user_id);
/* True when inviter is allowed by the list ("@user:server" exact, or a bare
 * server name matching the inviter's server). */
int matrix_inviter_allowed(char *const *allowed, size_t n, const char *inviter);

#endif
