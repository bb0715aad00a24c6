/* [irc.NAME] sections: one IRC network's settings, read from the section's
 * table of typed keys (irc_config.c) with the shared reader of conf. */
#ifndef IRC_IRC_CONFIG_H
#define IRC_IRC_CONFIG_H

#include <stddef.h>

#include "base/error.h"
#include "conf/conf.h"
#include "conf/conf_keys.h"
#include "irc/irc_session.h"

typedef struct irc_network_config {
    char *name;               /* the NAME of [irc.NAME] */
    char *host;
    int port;                 /* 0 in the table: 6697 with TLS, 6667 without */
    int tls, tls_verify;
    char *tls_ca_file, *tls_fingerprint;
    char *tls_cert, *tls_key;       /* client certificate (CertFP, SASL EXTERNAL) and its key */
    char *nick, *username, *realname, *password;
    char **alt_nicks;
    size_t n_alt_nicks;
    char *sasl_user, *sasl_password, *nickserv_password;
    char *sasl_ecdsa_key;           /* ECDSA-NIST256P-CHALLENGE key file */
    char **sasl_mechanisms;         /* preference order; none: the default order */
    size_t n_sasl_mechanisms;
    int sasl_required;
    int allow_plaintext_credentials; /* passwords over tls = no (test servers only) */
    int ignore_sts;                 /* never follow STS (test servers only) */
    char *state_dir;                /* for the STS policies; default [bot] state_dir; NULL when unset */
    irc_channel_conf *channels;
    size_t n_channels;
    char **listen;            /* channels where confident unaddressed questions are answered */
    size_t n_listen;
    char **answer_unknown_commands; /* channels where unknown commands get a reply */
    size_t n_answer_unknown_commands;
    double listen_min_score;
    char **ignore;            /* nicks never answered (other bots) */
    size_t n_ignore;
    char **admins;            /* services accounts that may give operator commands */
    size_t n_admins;
    char *command_prefixes;   /* default "!/": hints show "!" */
    int flood_control;
    double flood_burst, flood_rate;   /* lines, lines per second */
    double user_burst, user_rate;     /* questions per user */
    double room_burst, room_rate;     /* answers per channel */
    size_t queue_max;                 /* chat lines waiting at most */
    double ping_after, ping_timeout, connect_timeout, reconnect_max, regain_interval;
} irc_network_config;

/* The table of [irc.NAME] keys, for conf_section_read (every problem) and
 * the tests. */
extern const conf_schema irc_network_schema;

/* Reads an [irc.NAME] section; defaults from the [bot] settings. On error,
 * err holds the first problem ("file:line: [irc.NAME] key: message"). */
int irc_network_config_read(const conf_config *cfg, const conf_section *s, irc_network_config *out,
                            base_error *err);
void irc_network_config_free(irc_network_config *c);

#endif
