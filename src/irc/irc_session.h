/* The IRC client protocol as a state machine, without I/O: lines in, lines
 * out through hooks, time passed in. Registration (CAP LS 302, SASL PLAIN,
 * NickServ), nick collisions and regain, PING/PONG and the lag check, joins,
 * kicks, bans and invites, CTCP VERSION/PING. The connection code feeds it
 * lines and a tick; the bot glue receives the messages worth answering. */
#ifndef IRC_SESSION_H
#define IRC_SESSION_H

#include <stddef.h>

#include "base/log.h"
#include "chat/address.h"

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
    const char *sasl_user;         /* SASL PLAIN when set */
    const char *sasl_password;
    int sasl_required;             /* give up the connection when SASL fails */
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
} irc_session_hooks;

typedef struct irc_session irc_session;

/* Copies everything it needs from config. NULL when out of memory. */
irc_session *irc_session_new(const irc_session_config *config, const irc_session_hooks *hooks);
void irc_session_free(irc_session *s);

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
/* For the status report: the round trip of the last answered PING in
 * seconds (< 0 before any), and how many configured channels are joined. */
double irc_session_lag(const irc_session *s);
size_t irc_session_joined(const irc_session *s);

#endif
