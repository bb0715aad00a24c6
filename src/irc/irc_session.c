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
#include "irc/irc_sts.h"

#define MAX_CHANNELS IRC_SESSION_MAX_CHANNELS
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
/* Commands the server's messages trigger (taking back the nick when its holder
 * leaves, joining on INVITE) have a bucket too: a few at once, then one every
 * TRIGGERED_EVERY seconds, so that a server or a user cannot make the bot
 * storm the network with NICK or JOIN commands. */
#define TRIGGERED_BURST 3.0
#define TRIGGERED_EVERY 10.0
/* Kick warnings: a few, then one a minute, with a count of those not logged. */
#define KICK_LOG_BURST 3.0
#define KICK_LOG_EVERY 60.0
#define MAX_ACCOUNTS 1024   /* nicks whose services account is remembered */
#define MAX_AUTH_IN 8192    /* base64 bytes of one server SASL message */
#define WHOX_TOKEN "714"    /* marks the bot's own WHOX queries (the 354 replies to them) */

/* Capabilities we ask for when the server offers them. */
enum {
    CAP_SASL = 1,
    CAP_MULTI_PREFIX = 2,
    CAP_MESSAGE_TAGS = 4,
    CAP_SERVER_TIME = 8,
    CAP_ACCOUNT_TAG = 16,
    CAP_EXTENDED_JOIN = 32,
    CAP_ACCOUNT_NOTIFY = 64,
    CAP_CHGHOST = 128,
    CAP_AWAY_NOTIFY = 256,
    CAP_STS = 512, /* read, never requested */
};
static const struct {
    const char *name;
    unsigned bit;
} wanted_caps[] = {
    {"sasl", CAP_SASL},
    {"multi-prefix", CAP_MULTI_PREFIX},
    {"message-tags", CAP_MESSAGE_TAGS},
    {"server-time", CAP_SERVER_TIME},
    {"account-tag", CAP_ACCOUNT_TAG},
    {"extended-join", CAP_EXTENDED_JOIN},
    {"account-notify", CAP_ACCOUNT_NOTIFY},
    {"chghost", CAP_CHGHOST},
    {"away-notify", CAP_AWAY_NOTIFY},
};

static const irc_sasl_mech default_mechs[] = {IRC_SASL_EXTERNAL, IRC_SASL_ECDSA, IRC_SASL_SCRAM_SHA512,
                                              IRC_SASL_SCRAM_SHA256, IRC_SASL_PLAIN};

typedef enum phase { PH_OFFLINE, PH_CAP, PH_SASL, PH_REGISTER, PH_ONLINE } phase;

typedef struct channel {
    char *name;
    char *key;
    int joined;
    double retry_at;  /* 0: no retry pending */
    double backoff;   /* next retry delay */
    double joined_at; /* when the last join succeeded */
    double invite_join_at; /* when an INVITE last made us join; 0: never */
} channel;

typedef struct account_entry {
    char *nick;
    char *account;
} account_entry;

struct irc_session {
    irc_session_hooks hooks;
    char *nick, *username, *realname, *password;
    char **alt_nicks;
    size_t n_alt_nicks;
    char *sasl_user, *sasl_password, *sasl_ecdsa_key, *nickserv_password, *version;
    int sasl_required, client_cert, ignore_sts;
    irc_sasl_mech mechs[IRC_SASL_N_MECHS];
    size_t n_mechs;
    double sasl_timeout, register_timeout, ping_after, ping_timeout, regain_interval;
    channel channels[MAX_CHANNELS];
    size_t n_channels;

    base_bucket triggered_bucket; /* NICK and JOIN caused by the server's messages */
    base_bucket kick_log;
    base_bucket invite_log; /* invites to channels we do not keep */
    size_t kicks_not_logged;
    account_entry accounts[MAX_ACCOUNTS];
    size_t n_accounts;

    /* per connection */
    phase phase;
    int tls;               /* this connection is TLS */
    unsigned caps_offered, caps_acked;
    int sasl_done;
    unsigned mechs_offered; /* IRC_SASL_BITs from CAP LS sasl= or 908 */
    int mechs_known;        /* the server said which it offers */
    unsigned mechs_tried;
    irc_sasl *sasl;         /* the exchange in progress */
    irc_sasl_mech sasl_mech;
    char *auth_in;          /* the server's AUTHENTICATE pieces so far */
    size_t auth_in_len;
    int sts_upgrading;      /* asked to move to TLS: registration stops here */
    double phase_since, last_rx, ping_sent, last_regain;
    double lag;           /* the last PING's round trip; < 0 before any */
    char current_nick[MAX_NICK];
    size_t nick_attempt;
    char bot_mode;        /* the BOT ISUPPORT mode letter, 0 when not offered */
    int whox;             /* ISUPPORT WHOX: WHO can say a user's account */
    chat_casemap casemap; /* from ISUPPORT CASEMAPPING; rfc1459 until the server says */
    size_t own_prefix_len; /* len("nick!user@host") once seen, 0 while unknown */
    base_bucket ctcp_bucket; /* CTCP replies bypass the chat queue: they have a bucket of their own */
    char **ignore;         /* nicks whose messages, CTCP included, get nothing */
    size_t n_ignore;
};

/* ---- helpers ------------------------------------------------------------ */

/* Log lines carry text from the server (nicks, reasons, channel names): its
 * control bytes (C0, DEL, and C1 as UTF-8) become '?', so that nobody can
 * forge a log line, colour a terminal or hide text from an operator. */
void irc_clean_log_text(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
        else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            p[0] = '?';
            p[1] = '?';
            p++;
        }
    }
}

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
    irc_clean_log_text(text);
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
    s->sasl_ecdsa_key = base_strdup(c->sasl_ecdsa_key_pem);
    s->client_cert = c->client_cert;
    s->ignore_sts = c->ignore_sts;
    const irc_sasl_mech *mechs = c->sasl_mechanisms ? c->sasl_mechanisms : default_mechs;
    size_t n_mechs = c->sasl_mechanisms ? c->n_sasl_mechanisms : sizeof default_mechs / sizeof *default_mechs;
    for (size_t i = 0; i < n_mechs && s->n_mechs < IRC_SASL_N_MECHS; i++)
        if (mechs[i] > IRC_SASL_NONE && mechs[i] < IRC_SASL_N_MECHS)
            s->mechs[s->n_mechs++] = mechs[i];
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
             (!c->sasl_password || s->sasl_password) && (!c->sasl_ecdsa_key_pem || s->sasl_ecdsa_key) &&
             (!c->nickserv_password || s->nickserv_password);
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
    base_bucket_init(&s->triggered_bucket, TRIGGERED_BURST, 1.0 / TRIGGERED_EVERY, 0);
    base_bucket_init(&s->kick_log, KICK_LOG_BURST, 1.0 / KICK_LOG_EVERY, 0);
    base_bucket_init(&s->invite_log, KICK_LOG_BURST, 1.0 / KICK_LOG_EVERY, 0);
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
    base_secret_free(s->sasl_ecdsa_key);
    base_secret_free(s->nickserv_password);
    irc_sasl_free(s->sasl);
    if (s->auth_in)
        base_secret_wipe(s->auth_in, MAX_AUTH_IN + 1);
    free(s->auth_in);
    for (size_t i = 0; i < s->n_accounts; i++) {
        free(s->accounts[i].nick);
        free(s->accounts[i].account);
    }
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

void irc_session_set_tls(irc_session *s, int tls)
{
    s->tls = tls != 0;
}

static void forget_accounts(irc_session *s)
{
    for (size_t i = 0; i < s->n_accounts; i++) {
        free(s->accounts[i].nick);
        free(s->accounts[i].account);
    }
    s->n_accounts = 0;
}

static void sasl_reset(irc_session *s)
{
    irc_sasl_free(s->sasl);
    s->sasl = NULL;
    s->sasl_mech = IRC_SASL_NONE;
    s->auth_in_len = 0;
    if (s->auth_in)
        base_secret_wipe(s->auth_in, MAX_AUTH_IN + 1);
}

void irc_session_disconnected(irc_session *s)
{
    s->phase = PH_OFFLINE;
    s->caps_offered = s->caps_acked = 0;
    s->sasl_done = 0;
    s->mechs_offered = 0;
    s->mechs_known = 0;
    s->mechs_tried = 0;
    s->sts_upgrading = 0;
    sasl_reset(s);
    forget_accounts(s);
    s->ping_sent = 0;
    s->nick_attempt = 0;
    s->bot_mode = 0;
    s->whox = 0;
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

/* Reads a CAP LS/NEW list: the wanted capabilities into bits, the SASL
 * mechanisms from "sasl=..." and the STS policy from "sts=...". */
static void parse_caps(irc_session *s, const char *list, unsigned *bits, char *sts, size_t sts_cap)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != '=')
            p++;
        size_t n = (size_t)(p - start);
        const char *value = NULL;
        size_t vlen = 0;
        if (*p == '=') {
            value = ++p;
            while (*p && *p != ' ')
                p++;
            vlen = (size_t)(p - value);
        }
        for (size_t i = 0; i < sizeof wanted_caps / sizeof wanted_caps[0]; i++)
            if (strlen(wanted_caps[i].name) == n && strncmp(wanted_caps[i].name, start, n) == 0)
                *bits |= wanted_caps[i].bit;
        if (n == 4 && strncmp(start, "sasl", 4) == 0 && value && vlen > 0) {
            char mechs[400];
            snprintf(mechs, sizeof mechs, "%.*s", (int)vlen, value);
            s->mechs_offered = irc_sasl_parse_mechs(mechs);
            s->mechs_known = 1;
        }
        if (n == 3 && strncmp(start, "sts", 3) == 0 && sts) {
            *bits |= CAP_STS;
            snprintf(sts, sts_cap, "%.*s", (int)vlen, value ? value : "");
        }
    }
}

static int mech_usable(const irc_session *s, irc_sasl_mech m)
{
    irc_sasl_credentials c = {s->sasl_user, s->sasl_password, s->sasl_ecdsa_key};
    return irc_sasl_usable(m, &c, s->client_cert && s->tls);
}

/* Does the configuration give SASL anything to log in with? */
static int wants_sasl(const irc_session *s)
{
    for (size_t i = 0; i < s->n_mechs; i++)
        if (mech_usable(s, s->mechs[i]))
            return 1;
    return 0;
}

static void mech_list(const irc_session *s, unsigned bits, int ours, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int m = IRC_SASL_NONE + 1; m < IRC_SASL_N_MECHS; m++) {
        int in = 0;
        if (ours)
            for (size_t i = 0; i < s->n_mechs; i++)
                in |= s->mechs[i] == (irc_sasl_mech)m && mech_usable(s, (irc_sasl_mech)m);
        else
            in = (bits & IRC_SASL_BIT(m)) != 0;
        if (in && used + 30 < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", irc_sasl_mech_name(m));
    }
    if (!used)
        snprintf(out, cap, ours ? "none configured" : "none we know");
}

/* The account named in log lines: the SASL user, or the certificate's. */
static const char *sasl_who(const irc_session *s)
{
    return s->sasl_user ? s->sasl_user : "(the client certificate's account)";
}

/* SASL did not log in. sasl_required: QUIT (said properly, so the server
 * knows why) and ask for a new connection; otherwise on without it. */
static void sasl_failed(irc_session *s, const char *why, double now)
{
    logf_(s, BASE_LOG_ERROR, "SASL login as %s failed: %s%s", sasl_who(s), why,
          s->sasl_required ? "; sasl_required is set, giving up this connection" : "; going on without it");
    sasl_reset(s);
    if (s->sasl_required) {
        set_phase(s, PH_REGISTER, now); /* no more SASL on this connection */
        send1(s, "QUIT", "SASL login failed");
        s->hooks.reconnect(s->hooks.ctx, "SASL failed");
        return;
    }
    cap_end(s, now);
}

/* The first mechanism we prefer that the credentials allow, that the server
 * offers (when it said) and that has not failed on this connection. */
static irc_sasl_mech next_mech(const irc_session *s)
{
    for (size_t i = 0; i < s->n_mechs; i++) {
        irc_sasl_mech m = s->mechs[i];
        if (!mech_usable(s, m) || (s->mechs_tried & IRC_SASL_BIT(m)))
            continue;
        if (s->mechs_known && !(s->mechs_offered & IRC_SASL_BIT(m)))
            continue;
        return m;
    }
    return IRC_SASL_NONE;
}

static void sasl_start(irc_session *s, double now)
{
    sasl_reset(s);
    irc_sasl_mech m = next_mech(s);
    if (m == IRC_SASL_NONE) {
        char offered[200], ours[200], why[450];
        mech_list(s, s->mechs_offered, 0, offered, sizeof offered);
        mech_list(s, 0, 1, ours, sizeof ours);
        snprintf(why, sizeof why, "the server offers %s; none of ours (%s) fits", offered, ours);
        sasl_failed(s, why, now);
        return;
    }
    irc_sasl_credentials c = {s->sasl_user, s->sasl_password, s->sasl_ecdsa_key};
    base_error err;
    s->sasl = irc_sasl_new(m, &c, &err);
    s->mechs_tried |= IRC_SASL_BIT(m);
    if (!s->sasl) {
        logf_(s, BASE_LOG_ERROR, "cannot use SASL %s: %s", irc_sasl_mech_name(m), err.text);
        sasl_start(s, now); /* the next one, if any */
        return;
    }
    s->sasl_mech = m;
    set_phase(s, PH_SASL, now);
    logf_(s, BASE_LOG_INFO, "SASL: logging in as %s with %s", sasl_who(s), irc_sasl_mech_name(m));
    send1(s, "AUTHENTICATE", irc_sasl_mech_name(m));
}

/* AUTHENTICATE payloads go in 400-byte pieces; a payload that is an exact
 * multiple of 400 (or empty) ends with "+". */
static void send_sasl_response(irc_session *s, const unsigned char *data, size_t len)
{
    char *b64 = len ? irc_sasl_b64_encode(data, len) : NULL;
    if (len && !b64) {
        send1(s, "AUTHENTICATE", "*");
        return;
    }
    size_t n = b64 ? strlen(b64) : 0;
    char chunk[SASL_CHUNK + 1];
    for (size_t at = 0; at < n; at += SASL_CHUNK) {
        size_t take = n - at < SASL_CHUNK ? n - at : SASL_CHUNK;
        memcpy(chunk, b64 + at, take);
        chunk[take] = '\0';
        send1(s, "AUTHENTICATE", chunk);
    }
    if (n % SASL_CHUNK == 0)
        send1(s, "AUTHENTICATE", "+");
    base_secret_wipe(chunk, sizeof chunk);
    if (b64)
        irc_sasl_response_free((unsigned char *)b64, n);
}

/* One AUTHENTICATE line from the server: pieces of 400 bytes are joined until
 * a shorter one (or "+") ends the message, which the mechanism answers. */
static void on_authenticate(irc_session *s, const irc_message *m, double now)
{
    if (s->phase != PH_SASL || !s->sasl || m->n_params < 1)
        return;
    const char *piece = m->params[0];
    size_t n = strlen(piece);
    int plus = strcmp(piece, "+") == 0;
    if (!s->auth_in && !(s->auth_in = malloc(MAX_AUTH_IN + 1))) {
        send1(s, "AUTHENTICATE", "*");
        sasl_failed(s, "out of memory", now);
        return;
    }
    if (!plus) {
        if (n > SASL_CHUNK || s->auth_in_len + n > MAX_AUTH_IN) {
            send1(s, "AUTHENTICATE", "*");
            sasl_failed(s, "the server's SASL message is too long", now);
            return;
        }
        memcpy(s->auth_in + s->auth_in_len, piece, n);
        s->auth_in_len += n;
        if (n == SASL_CHUNK)
            return; /* more to come */
    }
    unsigned char *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    base_error err;
    int rc = irc_sasl_b64_decode(s->auth_in, s->auth_in_len, &in, &in_len);
    base_secret_wipe(s->auth_in, s->auth_in_len);
    s->auth_in_len = 0;
    if (rc != BASE_OK) {
        base_error_set(&err, "the server's SASL message is not base64");
    } else {
        rc = irc_sasl_step(s->sasl, in, in_len, &out, &out_len, &err);
        irc_sasl_response_free(in, in_len);
    }
    if (rc != BASE_OK) {
        send1(s, "AUTHENTICATE", "*"); /* abort; the 906 that follows finds us past SASL */
        sasl_failed(s, err.text, now);
        return;
    }
    send_sasl_response(s, out, out_len);
    irc_sasl_response_free(out, out_len);
}

/* 904 (and 905, 906, 907, 902): the mechanism was refused. When the server
 * has just told us (908) that it does not offer it, or never said which it
 * offers, the next one we have is tried; when it offers it, the credentials
 * were wrong, which another mechanism will not change. */
static void on_sasl_error(irc_session *s, const irc_message *m, const char *v, double now)
{
    if (s->phase != PH_SASL)
        return;
    const char *why = m->n_params ? m->params[m->n_params - 1] : v;
    int not_offered = !s->mechs_known || !(s->mechs_offered & IRC_SASL_BIT(s->sasl_mech));
    if (!strcmp(v, "904") && s->sasl_mech != IRC_SASL_NONE && not_offered && next_mech(s) != IRC_SASL_NONE) {
        logf_(s, BASE_LOG_INFO, "SASL %s is not offered here; trying the next mechanism",
              irc_sasl_mech_name(s->sasl_mech));
        sasl_start(s, now);
        return;
    }
    sasl_failed(s, why, now);
}

static void on_sasl_success(irc_session *s, double now)
{
    if (s->phase != PH_SASL)
        return;
    if (s->sasl && !irc_sasl_complete(s->sasl)) {
        /* A server that cannot prove it knows the password (SCRAM's signature)
         * may be anyone: the login does not count. */
        sasl_failed(s, "the server said the login succeeded before the exchange was complete", now);
        return;
    }
    s->sasl_done = 1;
    logf_(s, BASE_LOG_INFO, "SASL login succeeded (%s)", irc_sasl_mech_name(s->sasl_mech));
    sasl_reset(s);
    cap_end(s, now);
}

static void request_caps(irc_session *s, double now)
{
    int sasl = wants_sasl(s);
    char req[300] = "";
    for (size_t i = 0; i < sizeof wanted_caps / sizeof wanted_caps[0]; i++) {
        unsigned bit = wanted_caps[i].bit;
        if (!(s->caps_offered & bit) || (bit == CAP_SASL && !sasl))
            continue;
        if (req[0])
            strcat(req, " ");
        strcat(req, wanted_caps[i].name);
    }
    if (sasl && !(s->caps_offered & CAP_SASL))
        logf_(s, s->sasl_required ? BASE_LOG_ERROR : BASE_LOG_WARN, "the server does not offer SASL%s",
              s->sasl_required ? "; sasl_required is set, giving up this connection" : "; going on without it");
    if (sasl && !(s->caps_offered & CAP_SASL) && s->sasl_required) {
        send1(s, "QUIT", "SASL is not offered");
        s->hooks.reconnect(s->hooks.ctx, "SASL not offered");
        return;
    }
    if (req[0])
        send2(s, "CAP", "REQ", req);
    else
        cap_end(s, now);
}

/* The sts capability (IRCv3): on plaintext, move to TLS at once; on TLS,
 * keep the policy. Returns 1 when this connection is being given up. */
static int on_sts(irc_session *s, const char *value)
{
    if (s->ignore_sts)
        return 0;
    irc_sts_value v;
    if (irc_sts_parse(value, &v) != BASE_OK) {
        logf_(s, BASE_LOG_WARN, "ignoring a malformed STS policy: %s", value);
        return 0;
    }
    if (!s->tls) {
        if (v.port == 0)
            return 0; /* a plaintext policy without a port means nothing */
        logf_(s, BASE_LOG_INFO, "the server requires TLS (STS): reconnecting with TLS to port %d", v.port);
        s->sts_upgrading = 1;
        if (s->hooks.sts_upgrade)
            s->hooks.sts_upgrade(s->hooks.ctx, v.port);
        return 1;
    }
    if (v.duration >= 0 && s->hooks.sts_persist)
        s->hooks.sts_persist(s->hooks.ctx, v.duration);
    return 0;
}

static void on_cap(irc_session *s, const irc_message *m, double now)
{
    if (m->n_params < 3)
        return;
    const char *sub = m->params[1];
    const char *list = m->params[m->n_params - 1];
    char sts[200] = "";
    if (strcmp(sub, "LS") == 0 || strcmp(sub, "NEW") == 0) {
        unsigned bits = 0;
        parse_caps(s, list, &bits, sts, sizeof sts);
        s->caps_offered |= bits;
        if ((bits & CAP_STS) && on_sts(s, sts))
            return;
        int more = strcmp(sub, "LS") == 0 && m->n_params >= 4 && strcmp(m->params[2], "*") == 0;
        if (!more && s->phase == PH_CAP)
            request_caps(s, now);
    } else if (strcmp(sub, "ACK") == 0) {
        unsigned bits = 0;
        parse_caps(s, list, &bits, NULL, 0);
        s->caps_acked |= bits;
        if (s->phase != PH_CAP)
            return;
        if ((s->caps_acked & CAP_SASL) && wants_sasl(s))
            sasl_start(s, now);
        else
            cap_end(s, now);
    } else if (strcmp(sub, "NAK") == 0) {
        logf_(s, BASE_LOG_WARN, "the server refused capabilities: %s", list);
        if (s->phase == PH_CAP) {
            if (wants_sasl(s) && s->sasl_required)
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
        if (strcmp(t, "WHOX") == 0 || strncmp(t, "WHOX=", 5) == 0)
            s->whox = 1;
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

/* The holder of our nick left or renamed: ask for it, within the bucket for
 * commands the server triggers (the periodic attempt still comes). */
static void regain_now(irc_session *s, double now)
{
    if (irc_session_name_equal(s, s->current_nick, s->nick))
        return;
    if (base_bucket_take(&s->triggered_bucket, 1.0, now) > 0) {
        logf_(s, BASE_LOG_DEBUG, "not asking for %s again yet: too many nick changes", s->nick);
        return;
    }
    try_regain(s, now);
}

/* ---- who is who: services accounts ---------------------------------------- */

static int verb_is(const irc_message *m, const char *v)
{
    return strcmp(m->verb, v) == 0;
}


static account_entry *find_account(const irc_session *s, const char *nick)
{
    for (size_t i = 0; i < s->n_accounts; i++)
        if (irc_session_name_equal(s, s->accounts[i].nick, nick))
            return (account_entry *)&s->accounts[i];
    return NULL;
}

static void forget_account(irc_session *s, const char *nick)
{
    account_entry *e = find_account(s, nick);
    if (!e)
        return;
    free(e->nick);
    free(e->account);
    *e = s->accounts[--s->n_accounts];
}

/* account "*" (or NULL, or empty) means logged out. */
static void set_account(irc_session *s, const char *nick, const char *account)
{
    if (!nick || !nick[0])
        return;
    if (!account || !account[0] || strcmp(account, "*") == 0) {
        forget_account(s, nick);
        return;
    }
    account_entry *e = find_account(s, nick);
    if (e && strcmp(e->account, account) == 0)
        return;
    char *copy = base_strdup(account);
    if (!copy)
        return;
    if (e) {
        free(e->account);
        e->account = copy;
        return;
    }
    if (s->n_accounts == MAX_ACCOUNTS) { /* full: the oldest entry goes */
        free(s->accounts[0].nick);
        free(s->accounts[0].account);
        memmove(&s->accounts[0], &s->accounts[1], (MAX_ACCOUNTS - 1) * sizeof s->accounts[0]);
        s->n_accounts--;
    }
    char *n = base_strdup(nick);
    if (!n) {
        free(copy);
        return;
    }
    s->accounts[s->n_accounts].nick = n;
    s->accounts[s->n_accounts].account = copy;
    s->n_accounts++;
}

const char *irc_session_account(const irc_session *s, const char *nick)
{
    const account_entry *e = nick ? find_account(s, nick) : NULL;
    return e ? e->account : NULL;
}

static void rename_account(irc_session *s, const char *from, const char *to)
{
    account_entry *e = find_account(s, from);
    if (!e)
        return;
    forget_account(s, to);
    e = find_account(s, from); /* forget_account may have moved it */
    char *n = base_strdup(to);
    if (!n) {
        forget_account(s, from);
        return;
    }
    free(e->nick);
    e->nick = n;
}

/* Every message from a user may carry account-tag: the freshest word there is. */
static void note_account_tag(irc_session *s, const irc_message *m, const char *from)
{
    if (!(s->caps_acked & CAP_ACCOUNT_TAG) || !from[0] || !m->source || !strchr(m->source, '!'))
        return;
    const char *acct = irc_message_tag(m, "account");
    /* Without the tag a user's message says "not logged in"; other lines
     * (JOIN, NICK, ACCOUNT) carry what they carry in their parameters. */
    if (acct || verb_is(m, "PRIVMSG") || verb_is(m, "NOTICE"))
        set_account(s, from, acct);
}

static void on_nick(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 1)
        return;
    rename_account(s, from, m->params[0]);
    if (is_me(s, from)) {
        snprintf(s->current_nick, sizeof s->current_nick, "%s", m->params[0]);
        s->own_prefix_len = 0;
        logf_(s, BASE_LOG_INFO, "now known as %s", s->current_nick);
    } else if (irc_session_name_equal(s, from, s->nick) && s->phase == PH_ONLINE) {
        regain_now(s, now); /* whoever had our nick just left it */
    }
}

static void schedule_rejoin(irc_session *s, channel *c, double now, double delay, int loud)
{
    c->joined = 0;
    c->retry_at = now + delay;
    logf_(s, loud ? BASE_LOG_INFO : BASE_LOG_DEBUG, "will try to join %s again in %.0f s", c->name, delay);
}

static void on_join(irc_session *s, const irc_message *m, const char *from, double now)
{
    /* extended-join: JOIN #chan account :realname ("*": not logged in). */
    if ((s->caps_acked & CAP_EXTENDED_JOIN) && m->n_params >= 2 && !is_me(s, from))
        set_account(s, from, m->params[1]);
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
    int logged = base_bucket_take(&s->kick_log, 1.0, now) == 0;
    if (logged) {
        char more[80] = "";
        if (s->kicks_not_logged)
            snprintf(more, sizeof more, " (and %zu more kicks not logged)", s->kicks_not_logged);
        s->kicks_not_logged = 0;
        logf_(s, BASE_LOG_WARN, "kicked from %s by %s: %s%s", m->params[0], from,
              m->n_params > 2 ? m->params[2] : "", more);
    } else {
        s->kicks_not_logged++;
    }
    if (!c)
        return;
    /* Each kick doubles the wait, so a channel that keeps kicking is not stormed. */
    schedule_rejoin(s, c, now, c->backoff, logged);
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
    schedule_rejoin(s, c, now, c->backoff * 6 > REJOIN_MAX ? REJOIN_MAX : c->backoff * 6, 1);
    c->backoff = c->backoff * 2 > REJOIN_MAX ? REJOIN_MAX : c->backoff * 2;
}

/* An INVITE to a channel we keep, and are not in, joins it: at most once per
 * the channel's backoff period (so a thousand INVITEs after a KICK give one
 * JOIN, not a thousand), and within the bucket for triggered commands. */
static void on_invite(irc_session *s, const irc_message *m, const char *from, double now)
{
    if (m->n_params < 2 || !is_me(s, m->params[0]))
        return;
    channel *c = find_channel(s, m->params[1]);
    if (!c) {
        if (base_bucket_take(&s->invite_log, 1.0, now) == 0)
            logf_(s, BASE_LOG_INFO, "ignoring invite from %s to %s (not a configured channel)", from, m->params[1]);
        return;
    }
    if (c->joined || s->phase != PH_ONLINE)
        return;
    if (c->invite_join_at > 0 && now - c->invite_join_at < c->backoff) {
        logf_(s, BASE_LOG_DEBUG, "ignoring another invite to %s from %s: joined on an invite %.0f s ago", c->name,
              from, now - c->invite_join_at);
        return;
    }
    if (base_bucket_take(&s->triggered_bucket, 1.0, now) > 0) {
        logf_(s, BASE_LOG_DEBUG, "ignoring an invite to %s from %s: too many triggered commands", c->name, from);
        return;
    }
    logf_(s, BASE_LOG_INFO, "invited to %s by %s; joining", c->name, from);
    c->invite_join_at = now;
    c->retry_at = 0;
    join(s, c);
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

/* ---- what operators change at runtime ------------------------------------------ */

int irc_session_join(irc_session *s, const char *name, const char *key)
{
    channel *c = find_channel(s, name);
    if (!c) {
        if (s->n_channels == MAX_CHANNELS)
            return -1;
        c = &s->channels[s->n_channels];
        memset(c, 0, sizeof *c);
        if (!(c->name = base_strdup(name)))
            return -1;
        c->backoff = REJOIN_FIRST;
        s->n_channels++;
    }
    if (key && *key) {
        char *copy = base_strdup(key);
        if (!copy)
            return -1;
        free(c->key);
        c->key = copy;
    }
    c->retry_at = 0;
    if (s->phase == PH_ONLINE && !c->joined)
        join(s, c);
    return 0;
}

int irc_session_part(irc_session *s, const char *name, const char *reason)
{
    channel *c = find_channel(s, name);
    if (!c)
        return -1;
    if (s->phase == PH_ONLINE && c->joined)
        send2(s, "PART", c->name, reason ? reason : "");
    free(c->name);
    free(c->key);
    *c = s->channels[--s->n_channels]; /* no longer kept: never rejoined */
    return 0;
}

int irc_session_in_channel(const irc_session *s, const char *name)
{
    const channel *c = find_channel((irc_session *)s, name);
    return c && c->joined;
}

size_t irc_session_channels(const irc_session *s)
{
    return s->n_channels;
}

int irc_session_set_ignore(irc_session *s, const char *const *nicks, size_t n)
{
    char **list = n ? calloc(n, sizeof *list) : NULL;
    size_t got = 0;
    for (; list && got < n; got++)
        if (!(list[got] = base_strdup(nicks[got])))
            break;
    if (n && got < n) {
        base_strv_free(list, got);
        return -1;
    }
    base_strv_free(s->ignore, s->n_ignore);
    s->ignore = list;
    s->n_ignore = n;
    return 0;
}

int irc_session_has_account_tag(const irc_session *s)
{
    return (s->caps_acked & CAP_ACCOUNT_TAG) != 0;
}

int irc_session_has_whox(const irc_session *s)
{
    return s->whox;
}

int irc_session_who_account(irc_session *s, const char *nick)
{
    if (!s->whox || s->phase != PH_ONLINE || !nick[0] || strpbrk(nick, " ,*?"))
        return -1;
    send2(s, "WHO", nick, "%tna," WHOX_TOKEN);
    return 0;
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
    /* The IRCv3 bot tag, its draft name, and InspIRCd 3's name for it. */
    int from_bot = irc_message_tag(m, "bot") != NULL || irc_message_tag(m, "draft/bot") != NULL ||
                   irc_message_tag(m, "inspircd.org/bot") != NULL;
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
        .account = (s->caps_acked & CAP_ACCOUNT_TAG) ? irc_message_tag(m, "account") : NULL,
        .text = text,
    };
    if (!pm.account)
        pm.account = irc_session_account(s, from);
    if (pm.account && (!pm.account[0] || strcmp(pm.account, "*") == 0))
        pm.account = NULL;
    if (s->hooks.privmsg)
        s->hooks.privmsg(s->hooks.ctx, &pm);
}

/* ---- dispatch ---------------------------------------------------------------- */

static void dispatch(irc_session *s, const irc_message *m, double now)
{
    char from[MAX_NICK];
    source_nick(m->source, from, sizeof from);
    const char *v = m->verb;
    if (s->sts_upgrading)
        return; /* this connection is being given up for a TLS one */
    note_account_tag(s, m, from);
    if (verb_is(m, "PING")) {
        send1(s, "PONG", m->n_params ? m->params[0] : "");
    } else if (verb_is(m, "PONG")) {
        if (s->ping_sent > 0)
            s->lag = now - s->ping_sent;
        s->ping_sent = 0;
    } else if (verb_is(m, "CAP")) {
        on_cap(s, m, now);
    } else if (verb_is(m, "AUTHENTICATE")) {
        on_authenticate(s, m, now);
    } else if (!strcmp(v, "900")) {
        logf_(s, BASE_LOG_INFO, "logged in as %s", m->n_params > 2 ? m->params[2] : "?");
    } else if (!strcmp(v, "903")) {
        on_sasl_success(s, now);
    } else if (!strcmp(v, "908")) {
        /* RPL_SASLMECHS: the mechanisms the server has; the 904 follows. */
        if (m->n_params >= 2) {
            s->mechs_offered = irc_sasl_parse_mechs(m->params[1]);
            s->mechs_known = 1;
        }
    } else if (!strcmp(v, "902") || !strcmp(v, "904") || !strcmp(v, "905") || !strcmp(v, "906") ||
               !strcmp(v, "907")) {
        on_sasl_error(s, m, v, now);
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
        forget_account(s, from);
        if (irc_session_name_equal(s, from, s->nick) && s->phase == PH_ONLINE)
            regain_now(s, now);
    } else if (verb_is(m, "ACCOUNT")) {
        /* account-notify: ":nick!u@h ACCOUNT name", "*" when logged out */
        if (m->n_params >= 1 && !is_me(s, from))
            set_account(s, from, m->params[0]);
    } else if (verb_is(m, "CHGHOST")) {
        /* chghost: our own user@host changed, so lines relayed from us grow or shrink */
        if (m->n_params >= 2 && is_me(s, from))
            s->own_prefix_len = strlen(s->current_nick) + 1 + strlen(m->params[0]) + 1 + strlen(m->params[1]);
    } else if (verb_is(m, "JOIN")) {
        on_join(s, m, from, now);
    } else if (verb_is(m, "PART")) {
        channel *c = is_me(s, from) && m->n_params ? find_channel(s, m->params[0]) : NULL;
        if (c)
            c->joined = 0;
    } else if (verb_is(m, "KICK")) {
        on_kick(s, m, from, now);
    } else if (verb_is(m, "INVITE")) {
        on_invite(s, m, from, now);
    } else if (verb_is(m, "PRIVMSG")) {
        on_privmsg(s, m, from, now);
    } else if (verb_is(m, "ERROR")) {
        logf_(s, BASE_LOG_WARN, "server says: %s", m->n_params ? m->params[0] : "ERROR");
    } else if (!strcmp(v, "354")) {
        /* WHOX, asked for as "%tna,TOKEN": me TOKEN nick account ("0": not logged in) */
        if (m->n_params >= 4 && strcmp(m->params[1], WHOX_TOKEN) == 0 && s->hooks.whox)
            s->hooks.whox(s->hooks.ctx, m->params[2], strcmp(m->params[3], "0") == 0 ? NULL : m->params[3], 0);
    } else if (!strcmp(v, "315")) {
        /* end of WHO: whoever was asked about and not in a 354 is nobody we know */
        if (m->n_params >= 2 && s->hooks.whox)
            s->hooks.whox(s->hooks.ctx, m->params[1], NULL, 1);
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
