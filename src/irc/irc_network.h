/* One IRC network: configuration, connection, session and the bot glue
 * (who gets answered, flood control, line splitting, reconnects). */
#ifndef IRC_NETWORK_H
#define IRC_NETWORK_H

#include <stddef.h>
#include <uv.h>

#include "careerbot/bot.h"
#include "base/error.h"
#include "conf/conf.h"
#include "irc/irc_session.h"

typedef struct irc_network_config {
    char *name;               /* the NAME of [irc.NAME] */
    char *host;
    int port;
    int tls, tls_verify;
    char *tls_ca_file, *tls_fingerprint;
    char *nick, *username, *realname, *password;
    char **alt_nicks;
    size_t n_alt_nicks;
    char *sasl_user, *sasl_password, *nickserv_password;
    int sasl_required;
    irc_channel_conf *channels;
    size_t n_channels;
    char **listen;            /* channels where confident unaddressed questions are answered */
    size_t n_listen;
    double listen_min_score;
    char **ignore;            /* nicks never answered (other bots) */
    size_t n_ignore;
    char *command_prefixes;   /* NULL: the bot's */
    int flood_control;
    double flood_burst, flood_rate;   /* lines, lines per second */
    double user_burst, user_rate;     /* questions per user */
    double room_burst, room_rate;     /* answers per channel */
    size_t queue_max;                 /* chat lines waiting at most */
    double ping_after, ping_timeout, connect_timeout, reconnect_max, regain_interval;
} irc_network_config;

/* Reads an [irc.NAME] section; defaults from the [bot] settings. Errors name
 * the file, line and key. */
int irc_network_config_read(const conf_config *cfg, const conf_section *s, irc_network_config *out,
                            base_error *err);
void irc_network_config_free(irc_network_config *c);

typedef struct irc_network irc_network;

/* Creates the network (it borrows bot and copies nothing it does not own:
 * config is taken over and freed with the network). */
irc_network *irc_network_new(uv_loop_t *loop, irc_network_config *config, core_bot *bot);
/* Connects, and keeps reconnecting until irc_network_stop. */
void irc_network_start(irc_network *n);
/* Sends QUIT, flushes, closes; done_cb runs when the connection is closed. */
void irc_network_stop(irc_network *n, const char *message, void (*done_cb)(void *ctx), void *ctx);
/* Frees a stopped network (after its done_cb). */
void irc_network_free(irc_network *n);

#endif
