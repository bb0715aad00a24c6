/* Arbitrary server lines through the IRC session state machine: registration,
 * CAP and SASL (every mechanism), nick collisions, joins, kicks, invites, STS,
 * accounts, CTCP, PRIVMSG dispatch, with the clock moving between lines. No
 * crash, no unbounded output: the lines the session sends are counted and must
 * stay few per input line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "irc/irc_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sent;

static void on_send(void *ctx, const char *line)
{
    (void)ctx;
    if (strchr(line, '\r') || strchr(line, '\n'))
        abort(); /* a line the session sends never carries a line break */
    sent++;
}

static void on_privmsg(void *ctx, const irc_privmsg *m)
{
    (void)ctx;
    if (!m->from || !m->target || !m->text)
        abort();
}

static void on_log(void *ctx, int level, const char *text)
{
    (void)ctx;
    (void)level;
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            abort(); /* server text is cleaned before it reaches the log */
}

static void on_nothing(void *ctx) { (void)ctx; }
static void on_reason(void *ctx, const char *why) { (void)ctx; (void)why; }
static void on_port(void *ctx, int port) { (void)ctx; (void)port; }
static void on_duration(void *ctx, long long d) { (void)ctx; (void)d; }
static void on_whox(void *ctx, const char *nick, const char *account, int end)
{
    (void)ctx;
    (void)strlen(nick);
    (void)(account ? strlen(account) : 0);
    (void)end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const irc_channel_conf channels[] = {{"#careers", NULL}, {"#coding", "key"}};
    static const char *const alts[] = {"careerbot_"};
    static const char *const ignore[] = {"otherbot"};
    /* The first byte picks the credentials, so every SASL mechanism is reached. */
    uint8_t pick = size ? data[0] : 0;
    irc_session_config c = {
        .nick = "careerbot", .alt_nicks = alts, .n_alt_nicks = 1, .username = "cb", .realname = "fuzz",
        .sasl_user = pick & 1 ? "bot" : NULL, .sasl_password = pick & 1 ? "pass" : NULL,
        .client_cert = (pick & 2) != 0, .sasl_required = (pick & 4) != 0, .ignore_sts = (pick & 8) != 0,
        .nickserv_password = pick & 16 ? "ns" : NULL, .channels = channels, .n_channels = 2,
        .ignore = ignore, .n_ignore = 1, .version = "careerbot fuzz",
    };
    irc_session_hooks h = {NULL, on_send, on_privmsg, on_log, on_reason, on_nothing, on_port, on_duration, on_whox};
    irc_session *s = irc_session_new(&c, &h);
    if (!s)
        return 0;
    irc_session_set_tls(s, (pick & 32) != 0);
    double now = 1000;
    irc_session_connected(s, now);
    size_t lines = 1;
    sent = 0;
    const uint8_t *p = data + (size ? 1 : 0), *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        irc_session_line(s, (const char *)p, n, now);
        lines++;
        now += (n % 7) * 0.5; /* time moves on between lines: timeouts and buckets */
        irc_session_tick(s, now);
        p += n + (nl ? 1 : 0);
    }
    if (sent > 40 * lines + 64)
        abort(); /* a storm of lines from a few input lines */
    irc_session_disconnected(s);
    irc_session_free(s);
    return 0;
}
