#include "irc/irc_session.h"

#include "base/str.h"
#include "base/log.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/address.h"
#include "irc/irc_message.h"
#include "base/ratelimit.h"

#define MAX_CHANNELS 64
#define MAX_NICK 64
#define SASL_CHUNK 400
#define REJOIN_FIRST 10.0     /* seconds after a kick */
#define REJOIN_MAX 900.0      /* bans and repeated kicks back off up to this */
#define REJOIN_FORGIVE 600.0  /* seconds in a channel after which the backoff starts over */
#define UNKNOWN_HOST_LEN 63   /* a host name can be this long: assume it until we know ours */
/* CTCP replies go out through the send hook, ahead of the flood-controlled chat
 * queue, so they have a small bucket of their own: a few at once, then one every
 * CTCP_EVERY seconds. Otherwise anyone could flood the bot off a network that
 * kills clients for excess flood by sending it CTCP VERSION requests. */
#define CTCP_BURST 3.0
#define CTCP_EVERY 2.0

/* Capabilities we ask for when the server offers them. */
enum { CAP_SASL = 1, CAP_MULTI_PREFIX = 2, CAP_MESSAGE_TAGS = 4, CAP_SERVER_TIME = 8 };
static const struct {
    const char *name;
    unsigned bit;
} wanted_caps[] = {
    {"sasl", CAP_SASL},
    {"multi-prefix", CAP_MULTI_PREFIX},
    {"message-tags", CAP_MESSAGE_TAGS},
    {"server-time", CAP_SERVER_TIME},
};

typedef enum phase { PH_OFFLINE, PH_CAP, PH_SASL, PH_REGISTER, PH_ONLINE } phase;

typedef struct channel {
    char *name;
    char *key;
    int joined;
    double retry_at;  /* 0: no retry pending */
    double backoff;   /* next retry delay */
    double joined_at; /* when the last join succeeded */
} channel;

struct irc_session {
    irc_session_hooks hooks;
    char *nick, *username, *realname, *password;
    char **alt_nicks;
    size_t n_alt_nicks;
    char *sasl_user, *sasl_password, *nickserv_password, *version;
    int sasl_required;
    double sasl_timeout, register_timeout, ping_after, ping_timeout, regain_interval;
    channel channels[MAX_CHANNELS];
    size_t n_channels;

    /* per connection */
    phase phase;
    unsigned caps_offered, caps_acked;
    int sasl_done;
    double phase_since, last_rx, ping_sent, last_regain;
    double lag;           /* the last PING's round trip; < 0 before any */
    char current_nick[MAX_NICK];
    size_t nick_attempt;
    char bot_mode;        /* the BOT ISUPPORT mode letter, 0 when not offered */
    chat_casemap casemap; /* from ISUPPORT CASEMAPPING; rfc1459 until the server says */
    size_t own_prefix_len; /* len("nick!user@host") once seen, 0 while unknown */
    base_bucket ctcp_bucket; /* CTCP replies bypass the chat queue: they have a bucket of their own */
    char **ignore;         /* nicks whose messages, CTCP included, get nothing */
    size_t n_ignore;
};

/* ---- helpers ------------------------------------------------------------ */

static void logf_(irc_session *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(irc_session *s, int level, const char *fmt, ...)
{
    if (!s->hooks.log)
        return;
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s->hooks.log(s->hooks.ctx, level, text);
}

/* Sends one command built from params; a param that cannot be sent is logged. */
static void send_cmd(irc_session *s, const char *verb, const char *const *params, size_t n)
{
    char line[IRC_FORMAT_MAX];
    int rc = irc_format_command(line, sizeof line, verb, params, n);
    if (rc < 0) {
        logf_(s, BASE_LOG_WARN, "not sending %s: %s", verb, irc_strerror(rc));
        return;
    }
    s->hooks.send(s->hooks.ctx, line);
}

static void send1(irc_session *s, const char *verb, const char *a)
{
    send_cmd(s, verb, (const char *[]){a}, a ? 1 : 0);
}

static void send2(irc_session *s, const char *verb, const char *a, const char *b)
{
    send_cmd(s, verb, (const char *[]){a, b}, 2);
}

int irc_session_name_equal(const irc_session *s, const char *a, const char *b)
{
    return a && b && chat_name_equal(a, b, s->casemap);
}

chat_casemap irc_session_casemap(const irc_session *s)
{
    return s->casemap;
}

static channel *find_channel(irc_session *s, const char *name)
{
    for (size_t i = 0; i < s->n_channels; i++)
        if (irc_session_name_equal(s, s->channels[i].name, name))
            return &s->channels[i];
    return NULL;
}

int irc_session_is_our_channel(const irc_session *s, const char *name)
{
    return find_channel((irc_session *)s, name) != NULL;
}

static int is_me(const irc_session *s, const char *nick)
{
    return irc_session_name_equal(s, s->current_nick, nick);
}

static void source_nick(const char *source, char *out, size_t cap)
{
    size_t n = 0;
    if (source)
        while (source[n] && source[n] != '!' && source[n] != '@' && n + 1 < cap)
            n++;
    memcpy(out, source ? source : "", n);
    out[n] = '\0';
}

/* ---- lifecycle ------------------------------------------------------------ */

irc_session *irc_session_new(const irc_session_config *c, const irc_session_hooks *hooks)
{
    irc_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->hooks = *hooks;
    s->casemap = CHAT_CASE_RFC1459;
    s->lag = -1;
    s->nick = base_strdup(c->nick);
    s->username = base_strdup(c->username ? c->username : c->nick);
    s->realname = base_strdup(c->realname ? c->realname : c->nick);
    s->password = base_strdup(c->password);
    s->sasl_user = base_strdup(c->sasl_user);
    s->sasl_password = base_strdup(c->sasl_password);
    s->nickserv_password = base_strdup(c->nickserv_password);
    s->version = base_strdup(c->version ? c->version : "careerbot");
    s->sasl_required = c->sasl_required;
    s->sasl_timeout = c->sasl_timeout > 0 ? c->sasl_timeout : 20;
    s->register_timeout = c->register_timeout > 0 ? c->register_timeout : 60;
    s->ping_after = c->ping_after > 0 ? c->ping_after : 60;
    s->ping_timeout = c->ping_timeout > 0 ? c->ping_timeout : 60;
    s->regain_interval = c->regain_interval > 0 ? c->regain_interval : 60;
    int ok = s->nick && s->username && s->realname && s->version &&
             (!c->password || s->password) && (!c->sasl_user || s->sasl_user) &&
             (!c->sasl_password || s->sasl_password) && (!c->nickserv_password || s->nickserv_password);
    if (ok && c->n_alt_nicks) {
        s->alt_nicks = calloc(c->n_alt_nicks, sizeof *s->alt_nicks);
        ok = s->alt_nicks != NULL;
        for (size_t i = 0; ok && i < c->n_alt_nicks; i++, s->n_alt_nicks++)
            ok = (s->alt_nicks[i] = base_strdup(c->alt_nicks[i])) != NULL;
    }
    if (ok && c->n_ignore) {
        s->ignore = calloc(c->n_ignore, sizeof *s->ignore);
        ok = s->ignore != NULL;
        for (size_t i = 0; ok && i < c->n_ignore; i++, s->n_ignore++)
            ok = (s->ignore[i] = base_strdup(c->ignore[i])) != NULL;
    }
    for (size_t i = 0; ok && i < c->n_channels && i < MAX_CHANNELS; i++, s->n_channels++) {
        s->channels[i].name = base_strdup(c->channels[i].name);
        s->channels[i].key = base_strdup(c->channels[i].key);
        ok = s->channels[i].name && (!c->channels[i].key || s->channels[i].key);
        s->channels[i].backoff = REJOIN_FIRST;
    }
    if (!ok) {
        irc_session_free(s);
        return NULL;
    }
    snprintf(s->current_nick, sizeof s->current_nick, "%s", s->nick);
    base_bucket_init(&s->ctcp_bucket, CTCP_BURST, 1.0 / CTCP_EVERY, 0);
    return s;
}

void irc_session_free(irc_session *s)
{
    if (!s)
        return;
    free(s->nick);
    free(s->username);
    free(s->realname);
    base_secret_free(s->password);
    free(s->sasl_user);
    base_secret_free(s->sasl_password);
    base_secret_free(s->nickserv_password);
    free(s->version);
    for (size_t i = 0; i < s->n_alt_nicks; i++)
        free(s->alt_nicks[i]);
    free(s->alt_nicks);
    for (size_t i = 0; i < s->n_ignore; i++)
        free(s->ignore[i]);
    free(s->ignore);
    for (size_t i = 0; i < s->n_channels; i++) {
        free(s->channels[i].name);
        free(s->channels[i].key);
    }
    free(s);
}

static void set_phase(irc_session *s, phase p, double now)
{
    s->phase = p;
    s->phase_since = now;
}

void irc_session_connected(irc_session *s, double now)
{
    irc_session_disconnected(s);
    set_phase(s, PH_CAP, now);
    s->last_rx = now;
    snprintf(s->current_nick, sizeof s->current_nick, "%s", s->nick);
    /* CAP LS first, so registration waits for CAP END. */
    send2(s, "CAP", "LS", "302");
    if (s->password)
        send1(s, "PASS", s->password);
    send1(s, "NICK", s->current_nick);
    send_cmd(s, "USER", (const char *[]){s->username, "0", "*", s->realname}, 4);
}

void irc_session_disconnected(irc_session *s)
{
    s->phase = PH_OFFLINE;
    s->caps_offered = s->caps_acked = 0;
    s->sasl_done = 0;
    s->ping_sent = 0;
    s->nick_attempt = 0;
    s->bot_mode = 0;
    s->casemap = CHAT_CASE_RFC1459;
    s->own_prefix_len = 0;
    for (size_t i = 0; i < s->n_channels; i++) {
        s->channels[i].joined = 0;
        s->channels[i].retry_at = 0;
    }
}

void irc_session_quit(irc_session *s, const char *message)
{
    if (s->phase != PH_OFFLINE)
        send1(s, "QUIT", message ? message : "bye");
}

int irc_session_is_registered(const irc_session *s)
{
    return s->phase == PH_ONLINE;
}

const char *irc_session_nick(const irc_session *s)
{
    return s->current_nick;
}

size_t irc_session_relay_overhead(const irc_session *s, const char *target, const char *verb)
{
    size_t prefix = s->own_prefix_len;
    if (prefix == 0) /* nick!~user@host, the longest the server could make it */
        prefix = strlen(s->current_nick) + 2 + strlen(s->username) + 1 + 1 + UNKNOWN_HOST_LEN;
    /* ":" prefix " " verb " " target " :" ... "\r\n" */
    return 1 + prefix + 1 + strlen(verb) + 1 + strlen(target) + 2 + 2;
}

/* ---- registration ---------------------------------------------------------- */

static void cap_end(irc_session *s, double now)
{
    send1(s, "CAP", "END");
    if (s->phase == PH_CAP || s->phase == PH_SASL)
        set_phase(s, PH_REGISTER, now);
}

static void parse_caps(const char *list, unsigned *bits)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '=')
            p++;
        size_t n = (size_t)(p - start);
        for (size_t i = 0; i < sizeof wanted_caps / sizeof wanted_caps[0]; i++)
            if (strlen(wanted_caps[i].name) == n && strncmp(wanted_caps[i].name, start, n) == 0)
                *bits |= wanted_caps[i].bit;
        while (*p && *p != ' ')
            p++;
    }
}

static void request_caps(irc_session *s, double now)
{
    char req[200] = "";
    for (size_t i = 0; i < sizeof wanted_caps / sizeof wanted_caps[0]; i++) {
        unsigned bit = wanted_caps[i].bit;
        if (!(s->caps_offered & bit) || (bit == CAP_SASL && !s->sasl_user))
            continue;
        if (req[0])
            strcat(req, " ");
        strcat(req, wanted_caps[i].name);
    }
    if (s->sasl_user && !(s->caps_offered & CAP_SASL))
        logf_(s, s->sasl_required ? BASE_LOG_ERROR : BASE_LOG_WARN, "the server does not offer SASL%s",
              s->sasl_required ? "; sasl_required is set, giving up this connection" : "; going on without it");
    if (s->sasl_user && !(s->caps_offered & CAP_SASL) && s->sasl_required) {
        s->hooks.reconnect(s->hooks.ctx, "SASL not offered");
        return;
    }
    if (req[0])
        send2(s, "CAP", "REQ", req);
    else
        cap_end(s, now);
}

static void sasl_failed(irc_session *s, const char *why, double now)
{
    logf_(s, BASE_LOG_ERROR, "SASL login as %s failed: %s%s", s->sasl_user ? s->sasl_user : "?", why,
          s->sasl_required ? "; sasl_required is set, giving up this connection" : "; going on without it");
    if (s->sasl_required) {
        s->hooks.reconnect(s->hooks.ctx, "SASL failed");
        return;
    }
    cap_end(s, now);
}

/* AUTHENTICATE payloads go in 400-byte pieces; a payload that is an exact
 * multiple of 400 ends with "+". */
static void send_sasl_plain(irc_session *s)
{
    size_t ulen = strlen(s->sasl_user), plen = strlen(s->sasl_password ? s->sasl_password : "");
    size_t raw_len = ulen + 1 + ulen + 1 + plen;
    unsigned char *raw = malloc(raw_len);
    char *b64 = malloc(4 * ((raw_len + 2) / 3) + 1);
    if (!raw || !b64) {
        free(raw);
        free(b64);
        send1(s, "AUTHENTICATE", "*");
        return;
    }
    memcpy(raw, s->sasl_user, ulen);
    raw[ulen] = 0;
    memcpy(raw + ulen + 1, s->sasl_user, ulen);
    raw[2 * ulen + 1] = 0;
    memcpy(raw + 2 * ulen + 2, s->sasl_password ? s->sasl_password : "", plen);
    int n = EVP_EncodeBlock((unsigned char *)b64, raw, (int)raw_len);
    size_t len = n > 0 ? (size_t)n : 0;
    char chunk[SASL_CHUNK + 1];
    for (size_t at = 0; at < len; at += SASL_CHUNK) {
        size_t take = len - at < SASL_CHUNK ? len - at : SASL_CHUNK;
        memcpy(chunk, b64 + at, take);
        chunk[take] = '\0';
        send1(s, "AUTHENTICATE", chunk);
    }
    if (len % SASL_CHUNK == 0)
        send1(s, "AUTHENTICATE", "+");
    OPENSSL_cleanse(raw, raw_len);
    OPENSSL_cleanse(b64, len);
    free(raw);
    free(b64);
}

static void on_cap(irc_session *s, const irc_message *m, double now)
{
    if (m->n_params < 3)
        return;
    const char *sub = m->params[1];
    const char *list = m->params[m->n_params - 1];
    if (strcmp(sub, "LS") == 0) {
        parse_caps(list, &s->caps_offered);
        int more = m->n_params >= 4 && strcmp(m->params[2], "*") == 0;
        if (!more && s->phase == PH_CAP)
            request_caps(s, now);
    } else if (strcmp(sub, "ACK") == 0) {
        parse_caps(list, &s->caps_acked);
        if (s->phase != PH_CAP)
            return;
        if ((s->caps_acked & CAP_SASL) && s->sasl_user) {
            set_phase(s, PH_SASL, now);
            send1(s, "AUTHENTICATE", "PLAIN");
        } else {
            cap_end(s, now);
        }
    } else if (strcmp(sub, "NAK") == 0) {
        logf_(s, BASE_LOG_WARN, "the server refused capabilities: %s", list);
        if (s->phase == PH_CAP) {
            if (s->sasl_user && s->sasl_required)
                sasl_failed(s, "the sasl capability was refused", now);
            else
                cap_end(s, now);
        }
    }
}

/* ---- after registration ------------------------------------------------------ */

static void join(irc_session *s, channel *c)
{
    if (c->key)
        send2(s, "JOIN", c->name, c->key);
    else
        send1(s, "JOIN", c->name);
}

static void on_welcome(irc_session *s, const irc_message *m, double now)
{
    if (m->n_params >= 1)
        snprintf(s->current_nick, sizeof s->current_nick, "%s", m->params[0]);
    set_phase(s, PH_ONLINE, now);
    s->last_regain = now;
    logf_(s, BASE_LOG_INFO, "registered as %s", s->current_nick);
    if (s->nickserv_password && !s->sasl_done) {
        char identify[300];
        snprintf(identify, sizeof identify, "IDENTIFY %s", s->nickserv_password);
        send2(s, "PRIVMSG", "NickServ", identify);
        OPENSSL_cleanse(identify, sizeof identify);
        logf_(s, BASE_LOG_INFO, "identifying to NickServ");
    }
    if (s->hooks.registered)
        s->hooks.registered(s->hooks.ctx);
    for (size_t i = 0; i < s->n_channels; i++)
        join(s, &s->channels[i]);
}

static void on_isupport(irc_session *s, const irc_message *m)
{
    /* 005 nick TOKEN TOKEN ... :are supported by this server */
    for (size_t i = 1; i + 1 < m->n_params; i++) {
        const char *t = m->params[i];
        if (strncmp(t, "CASEMAPPING=", 12) == 0)
            s->casemap = chat_casemap_from_name(t + 12);
        if (strncmp(t, "BOT", 3) == 0 && (t[3] == '=' || t[3] == '\0')) {
            s->bot_mode = t[3] == '=' && t[4] ? t[4] : 'B';
            char mode[3] = {'+', s->bot_mode, '\0'};
            send2(s, "MODE", s->current_nick, mode);
        }
    }
}

static void next_nick(irc_session *s, const char *why)
{
    size_t k = s->nick_attempt++;
    if (k < s->n_alt_nicks) {
        snprintf(s->current_nick, sizeof s->current_nick, "%s", s->alt_nicks[k]);
    } else {
        /* Out of alternatives: the wanted nick with a number, which keeps it recognisable. */
        snprintf(s->current_nick, sizeof s->current_nick, "%.20s%zu", s->nick, k - s->n_alt_nicks + 1);
    }
    logf_(s, BASE_LOG_WARN, "nick unavailable (%s); trying %s", why, s->current_nick);
    send1(s, "NICK", s->current_nick);
}

static void on_nick_error(irc_session *s, const irc_message *m)
{
    const char *why = m->n_params ? m->params[m->n_params - 1] : "in use";
    if (s->phase != PH_ONLINE) {
        next_nick(s, why);
        return;
    }
    /* Online, this answers our regain attempt: keep the nick we have. */
    logf_(s, BASE_LOG_DEBUG, "wanted nick %s still unavailable: %s", s->nick, why);
}

static void try_regain(irc_session *s, double now)
{
    if (irc_session_name_equal(s, s->current_nick, s->nick))
        return;
    s->last_regain = now;
    send1(s, "NICK", s->nick);
}

static void on_nick(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 1)
        return;
    if (is_me(s, from)) {
        snprintf(s->current_nick, sizeof s->current_nick, "%s", m->params[0]);
        s->own_prefix_len = 0;
        logf_(s, BASE_LOG_INFO, "now known as %s", s->current_nick);
    } else if (irc_session_name_equal(s, from, s->nick) && s->phase == PH_ONLINE) {
        try_regain(s, now); /* whoever had our nick just left it */
    }
}

static void schedule_rejoin(irc_session *s, channel *c, double now, double delay)
{
    c->joined = 0;
    c->retry_at = now + delay;
    logf_(s, BASE_LOG_INFO, "will try to join %s again in %.0f s", c->name, delay);
}

static void on_join(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 1 || !is_me(s, from))
        return;
    channel *c = find_channel(s, m->params[0]);
    if (m->source && strchr(m->source, '!'))
        s->own_prefix_len = strlen(m->source);
    if (!c)
        return; /* joined through someone else's doing: fine, but we keep no state */
    c->joined = 1;
    c->retry_at = 0;
    c->joined_at = now;
    logf_(s, BASE_LOG_INFO, "joined %s", c->name);
}

static void on_kick(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 2 || !is_me(s, m->params[1]))
        return;
    channel *c = find_channel(s, m->params[0]);
    logf_(s, BASE_LOG_WARN, "kicked from %s by %s: %s", m->params[0], from,
          m->n_params > 2 ? m->params[2] : "");
    if (!c)
        return;
    /* Each kick doubles the wait, so a channel that keeps kicking is not stormed. */
    schedule_rejoin(s, c, now, c->backoff);
    c->backoff = c->backoff * 2 > REJOIN_MAX ? REJOIN_MAX : c->backoff * 2;
}

static void on_join_error(irc_session *s, const irc_message *m, double now)
{
    if (m->n_params < 2)
        return;
    channel *c = find_channel(s, m->params[1]);
    logf_(s, BASE_LOG_WARN, "cannot join %s: %s", m->params[1], m->params[m->n_params - 1]);
    if (!c)
        return;
    schedule_rejoin(s, c, now, c->backoff * 6 > REJOIN_MAX ? REJOIN_MAX : c->backoff * 6);
    c->backoff = c->backoff * 2 > REJOIN_MAX ? REJOIN_MAX : c->backoff * 2;
}

static void on_invite(irc_session *s, const irc_message *m, const char *from)
{
    if (m->n_params < 2)
        return;
    channel *c = find_channel(s, m->params[1]);
    if (!c) {
        logf_(s, BASE_LOG_INFO, "ignoring invite from %s to %s (not a configured channel)", from, m->params[1]);
        return;
    }
    if (!c->joined) {
        logf_(s, BASE_LOG_INFO, "invited to %s by %s; joining", c->name, from);
        c->retry_at = 0;
        join(s, c);
    }
}

static void on_ctcp(irc_session *s, const char *from, const irc_ctcp *ctcp, double now)
{
    char reply[400];
    if (ctcp->verb_len == 7 && strncmp(ctcp->verb, "VERSION", 7) == 0)
        snprintf(reply, sizeof reply, "\001VERSION %s\001", s->version);
    else if (ctcp->verb_len == 4 && strncmp(ctcp->verb, "PING", 4) == 0)
        snprintf(reply, sizeof reply, "\001PING %.*s\001", (int)(ctcp->args_len > 300 ? 300 : ctcp->args_len),
                 ctcp->args);
    else
        return; /* ACTION and the rest need no answer */
    if (base_bucket_take(&s->ctcp_bucket, 1.0, now) > 0) {
        logf_(s, BASE_LOG_DEBUG, "not answering CTCP %.*s from %s: too many CTCP requests", (int)ctcp->verb_len,
              ctcp->verb, from);
        return;
    }
    send2(s, "NOTICE", from, reply);
}

static int ignored(const irc_session *s, const char *nick)
{
    for (size_t i = 0; i < s->n_ignore; i++)
        if (irc_session_name_equal(s, s->ignore[i], nick))
            return 1;
    return 0;
}

static void on_privmsg(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 2 || !from[0] || is_me(s, from))
        return;
    const char *text = m->params[1];
    int from_bot = irc_message_tag(m, "bot") != NULL || irc_message_tag(m, "draft/bot") != NULL;
    irc_ctcp ctcp;
    if (irc_ctcp_split(text, &ctcp)) {
        if (!from_bot && !ignored(s, from)) /* bots never talk to bots, not even in CTCP */
            on_ctcp(s, from, &ctcp, now);
        return;
    }
    irc_privmsg pm = {
        .from = from,
        .from_mask = m->source,
        .target = m->params[0],
        .direct = is_me(s, m->params[0]),
        .from_bot = from_bot,
        .text = text,
    };
    if (s->hooks.privmsg)
        s->hooks.privmsg(s->hooks.ctx, &pm);
}

/* ---- dispatch ---------------------------------------------------------------- */

static int verb_is(const irc_message *m, const char *v)
{
    return strcmp(m->verb, v) == 0;
}

static void dispatch(irc_session *s, const irc_message *m, double now)
{
    char from[MAX_NICK];
    source_nick(m->source, from, sizeof from);
    const char *v = m->verb;
    if (verb_is(m, "PING")) {
        send1(s, "PONG", m->n_params ? m->params[0] : "");
    } else if (verb_is(m, "PONG")) {
        if (s->ping_sent > 0)
            s->lag = now - s->ping_sent;
        s->ping_sent = 0;
    } else if (verb_is(m, "CAP")) {
        on_cap(s, m, now);
    } else if (verb_is(m, "AUTHENTICATE")) {
        if (s->phase == PH_SASL && m->n_params && strcmp(m->params[0], "+") == 0)
            send_sasl_plain(s);
    } else if (!strcmp(v, "900")) {
        logf_(s, BASE_LOG_INFO, "logged in as %s", m->n_params > 2 ? m->params[2] : "?");
    } else if (!strcmp(v, "903")) {
        s->sasl_done = 1;
        logf_(s, BASE_LOG_INFO, "SASL login succeeded");
        if (s->phase == PH_SASL)
            cap_end(s, now);
    } else if (!strcmp(v, "902") || !strcmp(v, "904") || !strcmp(v, "905") || !strcmp(v, "906") ||
               !strcmp(v, "907") || !strcmp(v, "908")) {
        if (s->phase == PH_SASL)
            sasl_failed(s, m->n_params ? m->params[m->n_params - 1] : v, now);
    } else if (!strcmp(v, "001")) {
        on_welcome(s, m, now);
    } else if (!strcmp(v, "005")) {
        on_isupport(s, m);
    } else if (!strcmp(v, "432") || !strcmp(v, "433") || !strcmp(v, "436") || !strcmp(v, "437")) {
        on_nick_error(s, m);
    } else if (!strcmp(v, "471") || !strcmp(v, "473") || !strcmp(v, "474") || !strcmp(v, "475") ||
               !strcmp(v, "477") || !strcmp(v, "403") || !strcmp(v, "405")) {
        on_join_error(s, m, now);
    } else if (verb_is(m, "NICK")) {
        on_nick(s, m, from, now);
    } else if (verb_is(m, "QUIT")) {
        if (irc_session_name_equal(s, from, s->nick) && s->phase == PH_ONLINE)
            try_regain(s, now);
    } else if (verb_is(m, "JOIN")) {
        on_join(s, m, from, now);
    } else if (verb_is(m, "PART")) {
        channel *c = is_me(s, from) && m->n_params ? find_channel(s, m->params[0]) : NULL;
        if (c)
            c->joined = 0;
    } else if (verb_is(m, "KICK")) {
        on_kick(s, m, from, now);
    } else if (verb_is(m, "INVITE")) {
        on_invite(s, m, from);
    } else if (verb_is(m, "PRIVMSG")) {
        on_privmsg(s, m, from, now);
    } else if (verb_is(m, "ERROR")) {
        logf_(s, BASE_LOG_WARN, "server says: %s", m->n_params ? m->params[0] : "ERROR");
    } else if (!strcmp(v, "396")) {
        /* our displayed host changed: relearn it from the next JOIN */
        s->own_prefix_len = 0;
    }
    /* NOTICE and everything else: never answered. */
}

void irc_session_line(irc_session *s, const char *line, size_t len, double now)
{
    s->last_rx = now;
    s->ping_sent = 0; /* any line proves the link is alive */
    irc_message m;
    int rc = irc_message_parse(line, len, &m);
    if (rc < 0) {
        if (rc != IRC_ERR_EMPTY)
            logf_(s, BASE_LOG_DEBUG, "ignoring a malformed line from the server: %s", irc_strerror(rc));
        return;
    }
    dispatch(s, &m, now);
    irc_message_free(&m);
}

void irc_session_tick(irc_session *s, double now)
{
    if (s->phase == PH_OFFLINE)
        return;
    if (s->phase == PH_SASL && now - s->phase_since > s->sasl_timeout) {
        send1(s, "AUTHENTICATE", "*");
        sasl_failed(s, "no answer from the server in time", now);
        return;
    }
    if (s->phase != PH_ONLINE && now - s->phase_since > s->register_timeout &&
        s->phase != PH_SASL) {
        logf_(s, BASE_LOG_WARN, "registration did not finish within %.0f s", s->register_timeout);
        s->hooks.reconnect(s->hooks.ctx, "registration timeout");
        return;
    }
    if (s->ping_sent > 0 && now - s->ping_sent > s->ping_timeout) {
        logf_(s, BASE_LOG_WARN, "no answer to PING for %.0f s; reconnecting", s->ping_timeout);
        s->hooks.reconnect(s->hooks.ctx, "ping timeout");
        return;
    }
    if (s->ping_sent == 0 && now - s->last_rx > s->ping_after) {
        char token[32];
        snprintf(token, sizeof token, "lag-%.0f", now);
        send1(s, "PING", token);
        s->ping_sent = now;
    }
    if (s->phase != PH_ONLINE)
        return;
    for (size_t i = 0; i < s->n_channels; i++) {
        channel *c = &s->channels[i];
        /* Staying in a channel a while forgives its earlier kicks and bans. */
        if (c->joined && c->backoff > REJOIN_FIRST && now - c->joined_at > REJOIN_FORGIVE)
            c->backoff = REJOIN_FIRST;
        if (!c->joined && c->retry_at > 0 && now >= c->retry_at) {
            c->retry_at = 0;
            join(s, c);
        }
    }
    if (now - s->last_regain >= s->regain_interval)
        try_regain(s, now);
}

double irc_session_lag(const irc_session *s)
{
    return s->lag;
}

size_t irc_session_joined(const irc_session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_channels; i++)
        n += s->channels[i].joined;
    return n;
}
