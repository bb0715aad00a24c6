/* The IRC client protocol as a state machine, without I/O: lines in, lines
 * out through hooks, time passed in. Registration (CAP LS 302; SASL EXTERNAL,
 * ECDSA-NIST256P-CHALLENGE, SCRAM-SHA-512/256 and PLAIN, only as the server
 * offers them; NickServ), STS, services accounts (account-tag, extended-join,
 * account-notify), nick collisions and regain, PING/PONG and the lag check,
 * joins, kicks, bans and invites, CTCP VERSION/PING. The connection code feeds
 * it lines and a tick; the bot glue receives the messages worth answering.
 * Text from the server is cleaned of control bytes before it reaches a log
 * line. */
#ifndef IRC_SESSION_H
#define IRC_SESSION_H

#include <stddef.h>

#include "base/log.h"
#include "chat/address.h"
#include "irc/irc_sasl.h"

/* Channels one network keeps, configured and joined at run time together. */
#define IRC_SESSION_MAX_CHANNELS 64

typedef struct irc_channel_conf {
    const char *name;
    const char *key;  /* NULL when none */
} irc_channel_conf;

typedef struct irc_session_config {
    const char *nick;
    const char *const *alt_nicks;
    size_t n_alt_nicks;
    const char *username;
    const char *realname;
    const char *password;          /* server PASS, NULL when none */
    const char *sasl_user;         /* the account for SASL (ECDSA, SCRAM, PLAIN) */
    const char *sasl_password;     /* SCRAM and PLAIN */
    const char *sasl_ecdsa_key_pem;/* ECDSA-NIST256P-CHALLENGE: the private key, PEM text */
    int client_cert;               /* a TLS client certificate is configured: EXTERNAL */
    /* Mechanisms in order of preference; NULL: EXTERNAL (with a client
     * certificate), ECDSA-NIST256P-CHALLENGE (with a key), SCRAM-SHA-512,
     * SCRAM-SHA-256, PLAIN. Only those the credentials allow are tried. */
    const irc_sasl_mech *sasl_mechanisms;
    size_t n_sasl_mechanisms;
    int sasl_required;             /* QUIT and reconnect when SASL fails */
    int ignore_sts;                /* never follow STS policies (test servers only) */
    const char *nickserv_password; /* IDENTIFY after registration when SASL did not log in */
    const irc_channel_conf *channels;
    size_t n_channels;
    const char *const *ignore;     /* nicks that get no answer, not even to CTCP */
    size_t n_ignore;
    const char *version;           /* CTCP VERSION reply */
    double sasl_timeout;           /* seconds; 0: 20 */
    double register_timeout;       /* seconds until 001; 0: 60 */
    double ping_after;             /* seconds of silence before our PING; 0: 60 */
    double ping_timeout;           /* seconds to wait for its PONG; 0: 60 */
    double regain_interval;        /* seconds between attempts at the wanted nick; 0: 60 */
} irc_session_config;

/* A PRIVMSG the bot may answer. */
typedef struct irc_privmsg {
    const char *from;      /* sender's nick */
    const char *from_mask; /* nick!user@host as sent, may be just the nick */
    const char *target;    /* channel, or our nick for a direct message */
    int direct;            /* 1: sent to us alone */
    int from_bot;          /* the message carries the IRCv3 "bot" tag */
    const char *account;   /* the sender's services account (account-tag, or as
                              tracked from extended-join and account-notify); NULL
                              when not logged in or not known */
    const char *text;
} irc_privmsg;

typedef struct irc_session_hooks {
    void *ctx;
    /* A protocol line (no CRLF) to send now, ahead of any queued chat lines. */
    void (*send)(void *ctx, const char *line);
    void (*privmsg)(void *ctx, const irc_privmsg *m);
    void (*log)(void *ctx, int level, const char *text); /* level: a base_log_level */
    /* The session wants the connection closed and made again (lag, failed SASL). */
    void (*reconnect)(void *ctx, const char *reason);
    /* Registration finished (001 received). */
    void (*registered)(void *ctx);
    /* STS on a plaintext connection: close it and connect with TLS to port now. */
    void (*sts_upgrade)(void *ctx, int port);
    /* STS on a TLS connection: keep the policy for duration seconds from now
     * (0: remove it). */
    void (*sts_persist)(void *ctx, long long duration);
    /* The answer to irc_session_who_account: nick's account (NULL: not
     * logged in); end = 1 when the server finished answering about nick (a
     * nick that got no account line before it is nobody's). May be NULL. */
    void (*whox)(void *ctx, const char *nick, const char *account, int end);
} irc_session_hooks;

typedef struct irc_session irc_session;

/* Copies everything it needs from config. NULL when out of memory. */
irc_session *irc_session_new(const irc_session_config *config, const irc_session_hooks *hooks);
void irc_session_free(irc_session *s);

/* Whether the next connection is TLS (for STS and EXTERNAL); default no. */
void irc_session_set_tls(irc_session *s, int tls);
/* A new connection is up: starts registration. */
void irc_session_connected(irc_session *s, double now);
/* The connection is gone: forget per-connection state (joins, caps). */
void irc_session_disconnected(irc_session *s);
/* One line from the server (without CRLF; malformed lines are logged and ignored). */
void irc_session_line(irc_session *s, const char *line, size_t len, double now);
/* Call about once a second: timeouts, lag check, rejoins, nick regain. */
void irc_session_tick(irc_session *s, double now);

/* QUIT with a message (the caller flushes and closes afterwards). */
void irc_session_quit(irc_session *s, const char *message);

int irc_session_is_registered(const irc_session *s);
const char *irc_session_nick(const irc_session *s);
/* Bytes the server adds when relaying our PRIVMSG to target: ":nick!user@host
 * PRIVMSG target :" plus CRLF, with a pessimistic host while ours is unknown. */
size_t irc_session_relay_overhead(const irc_session *s, const char *target, const char *verb);
/* True when name is a channel we are configured for (case-insensitive). */
int irc_session_is_our_channel(const irc_session *s, const char *name);
/* True when a and b are the same nick or channel under the server's
 * casemapping (ISUPPORT CASEMAPPING; rfc1459 until the server names one).
 * NULL is nobody's name. */
int irc_session_name_equal(const irc_session *s, const char *a, const char *b);
chat_casemap irc_session_casemap(const irc_session *s);
/* Replaces control bytes (C0, DEL, C1 in UTF-8) in a log line with '?', in place. */
void irc_clean_log_text(char *text);
/* The services account of nick as far as the session knows (see
 * irc_privmsg.account); NULL when not logged in or unknown. */
const char *irc_session_account(const irc_session *s, const char *nick);
/* For the status report: the round trip of the last answered PING in
 * seconds (< 0 before any), and how many configured channels are joined. */
double irc_session_lag(const irc_session *s);

/* Operators' changes. join keeps the channel (rejoined after kicks, joined
 * on INVITE) and joins it now when online; -1 when out of room or memory.
 * part sends PART and forgets the channel; -1 when it was not kept. */
int irc_session_join(irc_session *s, const char *name, const char *key);
int irc_session_part(irc_session *s, const char *name, const char *reason);
/* True when the bot is in the channel now (a kept channel, joined). */
int irc_session_in_channel(const irc_session *s, const char *name);
/* How many channels are kept (configured and joined by operators). */
size_t irc_session_channels(const irc_session *s);
/* Replaces the nicks that get nothing, not even CTCP; -1 when out of memory. */
int irc_session_set_ignore(irc_session *s, const char *const *nicks, size_t n);
/* What the server says about accounts: account-tag is on for this
 * connection; the server offers WHOX (ISUPPORT). */
int irc_session_has_account_tag(const irc_session *s);
int irc_session_has_whox(const irc_session *s);
/* Asks the server for nick's account (WHO nick %tna,TOKEN); the answer comes
 * through hooks.whox. -1 when the server has no WHOX or is not online. */
int irc_session_who_account(irc_session *s, const char *nick);
size_t irc_session_joined(const irc_session *s);

#endif
