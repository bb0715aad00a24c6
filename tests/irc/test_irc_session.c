/* Unit tests for irc_session.h: the IRC client protocol state machine,
 * driven through its API with fake hooks that record what it sends, the
 * messages it passes on, its log lines and reconnect requests, and a fake
 * clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "irc/irc_message.h"
#include "irc/irc_sasl.h"
#include "irc/irc_session.h"

/* ---- the fake world ------------------------------------------------------- */

#define MAX_REC 512

typedef struct rec_pm {
    char *from, *from_mask, *target, *text, *account;
    int direct, from_bot;
} rec_pm;

typedef struct fake {
    char *sent[MAX_REC];
    size_t n_sent;
    rec_pm pms[MAX_REC];
    size_t n_pms;
    char *logs[MAX_REC];
    int log_levels[MAX_REC];
    size_t n_logs;
    char *reconnect_reason;
    int reconnects;
    int registered;
    int auto_pong; /* run_until answers our lag-check PINGs, as a live server would */
    int sts_port;  /* from the sts_upgrade hook, 0 when not called */
    long long sts_duration; /* from the sts_persist hook, -1 when not called */
    char whox_nick[64], whox_account[64]; /* the last whox hook call ("-": no account) */
    int whox_calls, whox_ends;
    double now;
    irc_session *s;
} fake;

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

static void on_send(void *ctx, const char *line)
{
    fake *f = ctx;
    assert_true(f->n_sent < MAX_REC);
    /* Nothing the session sends may carry a line break or be over the limit. */
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\n'));
    assert_true(strlen(line) <= IRC_BODY_MAX);
    f->sent[f->n_sent++] = dup_str(line);
}

static void on_privmsg(void *ctx, const irc_privmsg *m)
{
    fake *f = ctx;
    assert_true(f->n_pms < MAX_REC);
    rec_pm *r = &f->pms[f->n_pms++];
    r->from = dup_str(m->from);
    r->from_mask = dup_str(m->from_mask);
    r->target = dup_str(m->target);
    r->text = dup_str(m->text);
    r->account = dup_str(m->account);
    r->direct = m->direct;
    r->from_bot = m->from_bot;
}

static void on_log(void *ctx, int level, const char *text)
{
    fake *f = ctx;
    if (f->n_logs >= MAX_REC)
        return;
    f->log_levels[f->n_logs] = level;
    f->logs[f->n_logs++] = dup_str(text);
}

static void on_reconnect(void *ctx, const char *reason)
{
    fake *f = ctx;
    f->reconnects++;
    free(f->reconnect_reason);
    f->reconnect_reason = dup_str(reason);
}

static void on_registered(void *ctx)
{
    ((fake *)ctx)->registered++;
}

static void on_sts_upgrade(void *ctx, int port)
{
    ((fake *)ctx)->sts_port = port;
}

static void on_sts_persist(void *ctx, long long duration)
{
    ((fake *)ctx)->sts_duration = duration;
}

static void on_whox(void *ctx, const char *nick, const char *account, int end)
{
    fake *f = ctx;
    f->whox_calls++;
    f->whox_ends += end;
    snprintf(f->whox_nick, sizeof f->whox_nick, "%s", nick);
    snprintf(f->whox_account, sizeof f->whox_account, "%s", account ? account : "-");
}

static void clear_sent(fake *f)
{
    for (size_t i = 0; i < f->n_sent; i++)
        free(f->sent[i]);
    f->n_sent = 0;
}

static void clear_logs(fake *f)
{
    for (size_t i = 0; i < f->n_logs; i++)
        free(f->logs[i]);
    f->n_logs = 0;
}

static void clear_pms(fake *f)
{
    for (size_t i = 0; i < f->n_pms; i++) {
        free(f->pms[i].from);
        free(f->pms[i].from_mask);
        free(f->pms[i].target);
        free(f->pms[i].text);
        free(f->pms[i].account);
    }
    f->n_pms = 0;
}

static const irc_channel_conf default_channels[] = {{"#careers", NULL}, {"#secret", "hunter2"}};
static const char *const default_alts[] = {"careerbot_", "careerbot__"};

static irc_session_config default_config(void)
{
    irc_session_config c = {
        .nick = "careerbot",
        .alt_nicks = default_alts,
        .n_alt_nicks = 2,
        .username = "cb",
        .realname = "careerbot: advice on becoming a medical coder",
        .channels = default_channels,
        .n_channels = 2,
        .version = "careerbot 9.9",
    };
    return c;
}

static fake *fake_new(const irc_session_config *c)
{
    fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = 1000.0; /* not 0: the session may treat 0 as "never" */
    f->auto_pong = 1;
    f->sts_duration = -1;
    irc_session_hooks h = {f, on_send, on_privmsg, on_log, on_reconnect, on_registered, on_sts_upgrade,
                           on_sts_persist, on_whox};
    f->s = irc_session_new(c, &h);
    assert_non_null(f->s);
    return f;
}

static void fake_free(fake *f)
{
    irc_session_free(f->s);
    clear_sent(f);
    clear_logs(f);
    clear_pms(f);
    free(f->reconnect_reason);
    free(f);
}

static void feed(fake *f, const char *line)
{
    irc_session_line(f->s, line, strlen(line), f->now);
}

static void tick_at(fake *f, double t)
{
    f->now = t;
    irc_session_tick(f->s, t);
}

static void answer_pings(fake *f, size_t from)
{
    for (size_t i = from; f->auto_pong && i < f->n_sent; i++)
        if (strncmp(f->sent[i], "PING ", 5) == 0) {
            char pong[300];
            snprintf(pong, sizeof pong, ":irc.test PONG irc.test :%s", f->sent[i] + 5);
            feed(f, pong);
        }
}

/* Ticks once a second from now to t (as the network code does). */
static void run_until(fake *f, double t)
{
    while (f->now < t) {
        size_t before = f->n_sent;
        tick_at(f, f->now + 1.0 <= t ? f->now + 1.0 : t);
        answer_pings(f, before);
    }
}

/* Does sent line i parse to verb with exactly the given params (NULL-terminated)? */
static int sent_is(fake *f, size_t i, const char *verb, ...)
{
    if (i >= f->n_sent)
        return 0;
    irc_message m;
    if (irc_message_parse(f->sent[i], strlen(f->sent[i]), &m) != IRC_OK)
        return 0;
    int ok = strcmp(m.verb, verb) == 0;
    va_list ap;
    va_start(ap, verb);
    size_t n = 0;
    for (const char *p; ok && (p = va_arg(ap, const char *)) != NULL; n++)
        ok = n < m.n_params && strcmp(m.params[n], p) == 0;
    va_end(ap);
    ok = ok && n == m.n_params;
    irc_message_free(&m);
    return ok;
}

#define assert_sent(f, i, ...)                                                                        \
    do {                                                                                              \
        if (!sent_is((f), (i), __VA_ARGS__, NULL))                                                    \
            fail_msg("sent line %zu is \"%s\", expected %s", (size_t)(i),                            \
                     (size_t)(i) < (f)->n_sent ? (f)->sent[(i)] : "(nothing)", #__VA_ARGS__);         \
    } while (0)

/* Index of the first sent line from `from` on with that verb, or -1. */
static int find_sent(fake *f, size_t from, const char *verb)
{
    size_t vlen = strlen(verb);
    for (size_t i = from; i < f->n_sent; i++)
        if (strncmp(f->sent[i], verb, vlen) == 0 && (f->sent[i][vlen] == ' ' || f->sent[i][vlen] == '\0'))
            return (int)i;
    return -1;
}

static int count_sent(fake *f, const char *verb)
{
    int n = 0;
    for (int i = 0; (i = find_sent(f, (size_t)i, verb)) >= 0; i++)
        n++;
    return n;
}

/* Is there a log line at level >= min containing all the words (NULL-terminated)? */
static int logged(fake *f, int min, ...)
{
    for (size_t i = 0; i < f->n_logs; i++) {
        if (f->log_levels[i] < min)
            continue;
        va_list ap;
        va_start(ap, min);
        int ok = 1;
        for (const char *w; ok && (w = va_arg(ap, const char *)) != NULL;)
            ok = strstr(f->logs[i], w) != NULL;
        va_end(ap);
        if (ok)
            return 1;
    }
    return 0;
}

#define assert_logged(f, min, ...)                                                                    \
    do {                                                                                              \
        if (!logged((f), (min), __VA_ARGS__, NULL)) {                                                 \
            for (size_t i_ = 0; i_ < (f)->n_logs; i_++)                                               \
                print_message("log %d: %s\n", (f)->log_levels[i_], (f)->logs[i_]);                    \
            fail_msg("no log line with %s", #__VA_ARGS__);                                            \
        }                                                                                             \
    } while (0)

/* Connects and registers (no caps but multi-prefix), as nick; sent lines cleared. */
static void go_online_as(fake *f, const char *nick)
{
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :multi-prefix");
    feed(f, ":irc.test CAP * ACK :multi-prefix");
    char welcome[200];
    snprintf(welcome, sizeof welcome, ":irc.test 001 %s :Welcome to the test network %s", nick, nick);
    feed(f, welcome);
    assert_true(irc_session_is_registered(f->s));
    clear_sent(f);
    clear_logs(f);
}

static void go_online(fake *f)
{
    go_online_as(f, "careerbot");
}

/* ---- registration ------------------------------------------------------------- */

static void test_registration_sends_cap_nick_user(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    assert_false(irc_session_is_registered(f->s));
    irc_session_connected(f->s, f->now);
    assert_int_equal(f->n_sent, 3);
    assert_sent(f, 0, "CAP", "LS", "302");
    assert_sent(f, 1, "NICK", "careerbot");
    assert_sent(f, 2, "USER", "cb", "0", "*", "careerbot: advice on becoming a medical coder");
    assert_false(irc_session_is_registered(f->s));
    fake_free(f);

    /* With a server password, PASS comes before NICK and USER. */
    c.password = "server secret";
    c.username = NULL; /* defaults to the nick */
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    assert_int_equal(f->n_sent, 4);
    assert_sent(f, 0, "CAP", "LS", "302");
    assert_sent(f, 1, "PASS", "server secret");
    assert_sent(f, 2, "NICK", "careerbot");
    assert_sent(f, 3, "USER", "careerbot", "0", "*", "careerbot: advice on becoming a medical coder");
    fake_free(f);
}

static void test_cap_ls_multiline_requests_only_offered_wanted_caps(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS * :away-notify multi-prefix sasl=PLAIN,EXTERNAL account-tag");
    assert_int_equal(f->n_sent, 0); /* more to come: no REQ yet */
    feed(f, ":irc.test CAP * LS :chghost server-time extended-join");
    assert_int_equal(f->n_sent, 1);
    /* sasl is offered but no sasl_user is configured; message-tags is not offered. */
    assert_sent(f, 0, "CAP", "REQ", "multi-prefix server-time account-tag extended-join chghost away-notify");
    feed(f, ":irc.test CAP * ACK :multi-prefix server-time account-tag extended-join chghost away-notify");
    assert_int_equal(f->n_sent, 2);
    assert_sent(f, 1, "CAP", "END");
    feed(f, ":irc.test 001 careerbot :Welcome");
    assert_true(irc_session_is_registered(f->s));
    assert_int_equal(f->registered, 1);
    fake_free(f);

    /* All four wanted, offered with values and in another order. */
    c.sasl_user = "acct";
    c.sasl_password = "pw";
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :server-time message-tags=x sasl multi-prefix");
    assert_sent(f, 0, "CAP", "REQ", "sasl multi-prefix message-tags server-time");
    fake_free(f);

    /* Nothing wanted on offer: CAP END at once. */
    c = default_config();
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :invite-notify echo-message");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "CAP", "END");
    fake_free(f);

    /* NAK: registration goes on. */
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :multi-prefix");
    feed(f, ":irc.test CAP * NAK :multi-prefix");
    assert_sent(f, 1, "CAP", "END");
    assert_logged(f, BASE_LOG_WARN, "refused", "multi-prefix");
    fake_free(f);
}

/* Runs CAP up to AUTHENTICATE PLAIN for a session configured with SASL. */
static fake *sasl_session(const char *user, const char *password, int required)
{
    irc_session_config c = default_config();
    c.sasl_user = user;
    c.sasl_password = password;
    c.sasl_required = required;
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :multi-prefix sasl=PLAIN");
    assert_sent(f, 0, "CAP", "REQ", "sasl multi-prefix");
    feed(f, ":irc.test CAP careerbot ACK :sasl multi-prefix");
    assert_int_equal(f->n_sent, 2);
    assert_sent(f, 1, "AUTHENTICATE", "PLAIN");
    clear_sent(f);
    return f;
}

/* Feeds "AUTHENTICATE +", checks the chunks and returns the decoded payload length. */
static void check_sasl_payload(fake *f, const char *user, const char *password)
{
    feed(f, "AUTHENTICATE +");
    assert_true(f->n_sent >= 1);
    size_t ulen = strlen(user), plen = strlen(password);
    size_t raw_len = 2 * ulen + 2 + plen;
    size_t b64_len = 4 * ((raw_len + 2) / 3);
    char *joined = calloc(1, b64_len + 1);
    assert_non_null(joined);
    size_t at = 0, chunks = 0;
    for (size_t i = 0; i < f->n_sent; i++) {
        irc_message m;
        assert_int_equal(irc_message_parse(f->sent[i], strlen(f->sent[i]), &m), IRC_OK);
        assert_string_equal(m.verb, "AUTHENTICATE");
        assert_int_equal(m.n_params, 1);
        size_t n = strlen(m.params[0]);
        assert_true(n <= 400);
        if (strcmp(m.params[0], "+") == 0) {
            /* Only after a full 400-byte chunk, as the last line. */
            assert_int_equal(i, f->n_sent - 1);
            assert_true(at > 0 && at % 400 == 0);
        } else {
            if (i + 1 < f->n_sent)
                assert_int_equal(n, 400); /* every chunk but the last is full */
            assert_true(at + n <= b64_len);
            memcpy(joined + at, m.params[0], n);
            at += n;
            chunks++;
        }
        irc_message_free(&m);
    }
    assert_int_equal(at, b64_len);
    assert_int_equal(chunks, (b64_len + 399) / 400);
    if (b64_len % 400 == 0)
        assert_sent(f, f->n_sent - 1, "AUTHENTICATE", "+");
    unsigned char *raw = malloc(b64_len);
    assert_non_null(raw);
    int n = EVP_DecodeBlock(raw, (const unsigned char *)joined, (int)b64_len);
    assert_true(n >= (int)raw_len); /* DecodeBlock counts padding bytes too */
    assert_memory_equal(raw, user, ulen);
    assert_int_equal(raw[ulen], 0);
    assert_memory_equal(raw + ulen + 1, user, ulen);
    assert_int_equal(raw[2 * ulen + 1], 0);
    assert_memory_equal(raw + 2 * ulen + 2, password, plen);
    free(raw);
    free(joined);
}

static void test_sasl_plain_success(void **state)
{
    (void)state;
    fake *f = sasl_session("user", "pass", 1);
    feed(f, "AUTHENTICATE +");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "AUTHENTICATE", "dXNlcgB1c2VyAHBhc3M="); /* base64("user\0user\0pass") */
    feed(f, ":irc.test 900 careerbot careerbot!cb@host user :You are now logged in as user");
    feed(f, ":irc.test 903 careerbot :SASL authentication successful");
    assert_int_equal(f->n_sent, 2);
    assert_sent(f, 1, "CAP", "END");
    assert_logged(f, BASE_LOG_INFO, "logged in as user");
    assert_int_equal(f->reconnects, 0);
    fake_free(f);
}

static void test_sasl_payload_chunks(void **state)
{
    (void)state;
    /* Payload over 400 bytes: 400 + the rest. */
    char long_pw[401];
    memset(long_pw, 'p', 400);
    long_pw[400] = '\0';
    fake *f = sasl_session("user", long_pw, 1);
    check_sasl_payload(f, "user", long_pw);
    assert_int_equal(f->n_sent, 2);
    fake_free(f);

    /* Exactly 400 bytes of base64 (300 raw: 10 for "user\0user\0", 290 of password): one chunk, then "+". */
    char pw290[291];
    memset(pw290, 'x', 290);
    pw290[290] = '\0';
    f = sasl_session("user", pw290, 1);
    check_sasl_payload(f, "user", pw290);
    assert_int_equal(f->n_sent, 2);
    assert_sent(f, 1, "AUTHENTICATE", "+");
    fake_free(f);

    /* Exactly 800: two full chunks, then "+". */
    char pw590[591];
    memset(pw590, 'y', 590);
    pw590[590] = '\0';
    f = sasl_session("user", pw590, 1);
    check_sasl_payload(f, "user", pw590);
    assert_int_equal(f->n_sent, 3);
    fake_free(f);
}

static void test_sasl_failure_goes_on_when_not_required(void **state)
{
    (void)state;
    fake *f = sasl_session("user", "wrong", 0);
    feed(f, "AUTHENTICATE +");
    clear_sent(f);
    feed(f, ":irc.test 904 careerbot :SASL authentication failed");
    assert_logged(f, BASE_LOG_ERROR, "SASL", "user", "failed", "SASL authentication failed");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "CAP", "END");
    assert_int_equal(f->reconnects, 0);
    fake_free(f);

    /* Every SASL failure numeric is handled the same way. */
    static const char *const numerics[] = {"902", "905", "906", "907"};
    for (size_t i = 0; i < sizeof numerics / sizeof numerics[0]; i++) {
        f = sasl_session("user", "pw", 0);
        char line[100];
        snprintf(line, sizeof line, ":irc.test %s careerbot :nope %s", numerics[i], numerics[i]);
        feed(f, line);
        assert_logged(f, BASE_LOG_ERROR, "SASL", "failed");
        assert_sent(f, 0, "CAP", "END");
        fake_free(f);
    }
}

static void test_sasl_failure_reconnects_when_required(void **state)
{
    (void)state;
    fake *f = sasl_session("user", "wrong", 1);
    feed(f, "AUTHENTICATE +");
    clear_sent(f);
    feed(f, ":irc.test 904 careerbot :SASL authentication failed");
    assert_logged(f, BASE_LOG_ERROR, "SASL", "failed", "sasl_required");
    assert_int_equal(f->reconnects, 1);
    assert_int_equal(count_sent(f, "CAP"), 0);
    /* Said properly before the connection goes, never just closed. */
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "QUIT", "SASL login failed");
    fake_free(f);
}

static void test_sasl_timeout(void **state)
{
    (void)state;
    fake *f = sasl_session("user", "pw", 0);
    double start = f->now;
    run_until(f, start + 19);
    assert_int_equal(f->n_sent, 0);
    run_until(f, start + 21);
    assert_true(f->n_sent >= 2);
    assert_sent(f, 0, "AUTHENTICATE", "*");
    assert_sent(f, 1, "CAP", "END");
    assert_logged(f, BASE_LOG_ERROR, "SASL", "no answer");
    assert_int_equal(f->reconnects, 0);
    fake_free(f);

    /* Required: the timeout gives up the connection. */
    f = sasl_session("user", "pw", 1);
    start = f->now;
    run_until(f, start + 21);
    assert_sent(f, 0, "AUTHENTICATE", "*");
    assert_int_equal(f->reconnects, 1);
    fake_free(f);
}

static void test_sasl_not_offered(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.sasl_user = "user";
    c.sasl_password = "pw";
    c.sasl_required = 1;
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :multi-prefix");
    assert_int_equal(f->reconnects, 1);
    assert_logged(f, BASE_LOG_ERROR, "does not offer SASL");
    assert_int_equal(count_sent(f, "CAP"), 0);
    fake_free(f);

    /* Not required: a warning, and on without it (NickServ after 001). */
    c.sasl_required = 0;
    c.nickserv_password = "ns-secret";
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :multi-prefix");
    assert_int_equal(f->reconnects, 0);
    assert_logged(f, BASE_LOG_WARN, "does not offer SASL", "without");
    assert_sent(f, 0, "CAP", "REQ", "multi-prefix");
    feed(f, ":irc.test CAP * ACK :multi-prefix");
    feed(f, ":irc.test 001 careerbot :Welcome");
    int i = find_sent(f, 0, "PRIVMSG");
    assert_true(i >= 0);
    assert_sent(f, (size_t)i, "PRIVMSG", "NickServ", "IDENTIFY ns-secret");
    fake_free(f);
}

static void test_no_nickserv_after_sasl_login(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.sasl_user = "user";
    c.sasl_password = "pw";
    c.nickserv_password = "ns-secret";
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :sasl=PLAIN");
    feed(f, ":irc.test CAP * ACK :sasl");
    feed(f, "AUTHENTICATE +");
    feed(f, ":irc.test 903 careerbot :SASL authentication successful");
    feed(f, ":irc.test 001 careerbot :Welcome");
    assert_int_equal(count_sent(f, "PRIVMSG"), 0);
    fake_free(f);
}

static void test_welcome_joins_channels_with_keys(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :");
    clear_sent(f);
    assert_int_equal(f->registered, 0);
    feed(f, ":irc.test 001 careerbot :Welcome to the network");
    assert_int_equal(f->registered, 1);
    assert_true(irc_session_is_registered(f->s));
    assert_string_equal(irc_session_nick(f->s), "careerbot");
    assert_int_equal(f->n_sent, 2);
    assert_sent(f, 0, "JOIN", "#careers");
    assert_sent(f, 1, "JOIN", "#secret", "hunter2");
    assert_true(irc_session_is_our_channel(f->s, "#CAREERS"));
    assert_true(irc_session_is_our_channel(f->s, "#Secret"));
    assert_false(irc_session_is_our_channel(f->s, "#other"));
    fake_free(f);
}

static void test_registration_timeout(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    double start = f->now;
    irc_session_connected(f->s, start);
    feed(f, ":irc.test CAP * LS :");
    run_until(f, start + 59);
    assert_int_equal(f->reconnects, 0);
    run_until(f, start + 62);
    assert_true(f->reconnects >= 1);
    assert_string_equal(f->reconnect_reason, "registration timeout");
    fake_free(f);
}

static void test_isupport_bot_mode(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":irc.test 005 careerbot CHANTYPES=# NICKLEN=30 :are supported by this server");
    assert_int_equal(f->n_sent, 0);
    feed(f, ":irc.test 005 careerbot CASEMAPPING=rfc1459 BOT=B PREFIX=(ov)@+ :are supported by this server");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "MODE", "careerbot", "+B");
    fake_free(f);

    /* Another letter, and the token without a value. */
    f = fake_new(&c);
    go_online(f);
    feed(f, ":irc.test 005 careerbot BOT=b :are supported by this server");
    assert_sent(f, 0, "MODE", "careerbot", "+b");
    clear_sent(f);
    feed(f, ":irc.test 005 careerbot BOTX=1 ROBOT=Q :are supported by this server");
    assert_int_equal(f->n_sent, 0);
    fake_free(f);
}

/* ---- nicks ------------------------------------------------------------------------- */

static void test_nick_in_use_before_registration(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test 433 * careerbot :Nickname is already in use");
    assert_sent(f, 0, "NICK", "careerbot_");
    feed(f, ":irc.test 433 * careerbot_ :Nickname is already in use");
    assert_sent(f, 1, "NICK", "careerbot__");
    feed(f, ":irc.test 432 * careerbot__ :Erroneous nickname");
    assert_sent(f, 2, "NICK", "careerbot1");
    feed(f, ":irc.test 437 * careerbot1 :Nick/channel is temporarily unavailable");
    assert_sent(f, 3, "NICK", "careerbot2");
    assert_logged(f, BASE_LOG_WARN, "careerbot_");
    feed(f, ":irc.test CAP * LS :");
    feed(f, ":irc.test 001 careerbot2 :Welcome");
    assert_string_equal(irc_session_nick(f->s), "careerbot2");
    fake_free(f);

    /* Without alternatives: straight to the numbered nick. */
    c.alt_nicks = NULL;
    c.n_alt_nicks = 0;
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test 433 * careerbot :Nickname is already in use");
    assert_sent(f, 0, "NICK", "careerbot1");
    fake_free(f);
}

static void test_nick_regain(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    double start = f->now;
    go_online_as(f, "careerbot_");
    assert_string_equal(irc_session_nick(f->s), "careerbot_");

    /* Periodically (every 60 s by default). */
    run_until(f, start + 59);
    assert_int_equal(count_sent(f, "NICK"), 0);
    run_until(f, start + 61);
    assert_int_equal(count_sent(f, "NICK"), 1);
    assert_sent(f, (size_t)find_sent(f, 0, "NICK"), "NICK", "careerbot");
    /* Still taken: keep the nick we have, no loop of NICK commands. */
    clear_sent(f);
    feed(f, ":irc.test 433 careerbot_ careerbot :Nickname is already in use");
    assert_int_equal(f->n_sent, 0);
    assert_string_equal(irc_session_nick(f->s), "careerbot_");
    run_until(f, f->now + 30);
    assert_int_equal(count_sent(f, "NICK"), 0);

    /* At once when the holder quits ... */
    feed(f, ":careerbot!someone@host QUIT :Quit: bye");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "NICK", "careerbot");
    feed(f, ":irc.test 433 careerbot_ careerbot :Nickname is already in use"); /* someone was faster */
    clear_sent(f);
    /* ... or changes nick (case-insensitively the wanted one). */
    feed(f, ":CareerBot!someone@host NICK :other");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "NICK", "careerbot");
    /* Someone else quitting or renaming changes nothing. */
    clear_sent(f);
    feed(f, ":alice!a@host QUIT :bye");
    feed(f, ":bob!b@host NICK :robert");
    assert_int_equal(f->n_sent, 0);

    /* The server confirms our change. */
    feed(f, ":careerbot_!cb@host NICK :careerbot");
    assert_string_equal(irc_session_nick(f->s), "careerbot");
    assert_logged(f, BASE_LOG_INFO, "now known as careerbot");
    run_until(f, f->now + 130);
    assert_int_equal(count_sent(f, "NICK"), 0); /* nothing more to regain */
    fake_free(f);
}

/* ---- liveness ---------------------------------------------------------------------- */

static void test_ping_pong(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, "PING :irc.test");  /* answered even before registration */
    assert_sent(f, 0, "PONG", "irc.test");
    go_online(f);
    feed(f, "PING :token with spaces");
    assert_sent(f, 0, "PONG", "token with spaces");
    feed(f, ":irc.test PING 12345");
    assert_sent(f, 1, "PONG", "12345");
    fake_free(f);
}

static void test_lag_check(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.alt_nicks = NULL;
    c.n_alt_nicks = 0;
    fake *f = fake_new(&c);
    f->auto_pong = 0;
    go_online(f);
    double quiet_since = f->now;
    run_until(f, quiet_since + 59);
    assert_int_equal(count_sent(f, "PING"), 0);
    run_until(f, quiet_since + 61);
    assert_int_equal(count_sent(f, "PING"), 1);
    double pinged = f->now;
    /* Unanswered: reconnect after ping_timeout (60 s). */
    run_until(f, pinged + 59);
    assert_int_equal(f->reconnects, 0);
    assert_int_equal(count_sent(f, "PING"), 1); /* one PING, not one a second */
    run_until(f, pinged + 61);
    assert_int_equal(f->reconnects, 1);
    assert_string_equal(f->reconnect_reason, "ping timeout");
    assert_logged(f, BASE_LOG_WARN, "PING");
    fake_free(f);

    /* Answered (any line will do): no reconnect, and the next check waits for silence again. */
    c.ping_after = 30;
    c.ping_timeout = 10;
    f = fake_new(&c);
    f->auto_pong = 0;
    go_online(f);
    double t = f->now;
    run_until(f, t + 31);
    int i = find_sent(f, 0, "PING");
    assert_true(i >= 0);
    irc_message m;
    assert_int_equal(irc_message_parse(f->sent[i], strlen(f->sent[i]), &m), IRC_OK);
    char pong[200];
    snprintf(pong, sizeof pong, ":irc.test PONG irc.test :%s", m.params[0]);
    irc_message_free(&m);
    feed(f, pong);
    run_until(f, t + 31 + 25);
    assert_int_equal(f->reconnects, 0);
    assert_int_equal(count_sent(f, "PING"), 1);
    run_until(f, t + 31 + 32);
    assert_int_equal(count_sent(f, "PING"), 2);
    feed(f, ":alice!a@h PRIVMSG #careers :hello"); /* not a PONG, but the link is alive */
    run_until(f, f->now + 15);
    assert_int_equal(f->reconnects, 0);
    fake_free(f);
}

/* ---- channels ---------------------------------------------------------------------- */

static void test_kick_rejoins_with_doubling_delay(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":careerbot!cb@host JOIN #careers");
    feed(f, ":careerbot!cb@host JOIN #secret");
    double t = f->now;
    feed(f, ":op!o@host KICK #secret careerbot :go away");
    assert_logged(f, BASE_LOG_WARN, "kicked from #secret by op", "go away");
    assert_int_equal(f->n_sent, 0); /* never at once */
    run_until(f, t + 9);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    run_until(f, t + 10);
    assert_int_equal(count_sent(f, "JOIN"), 1);
    assert_sent(f, 0, "JOIN", "#secret", "hunter2");
    feed(f, ":careerbot!cb@host JOIN #secret");
    clear_sent(f);

    /* Again: 20 s, then 40 s. */
    t = f->now;
    feed(f, ":op!o@host KICK #secret careerbot :again");
    run_until(f, t + 19);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    run_until(f, t + 20);
    assert_int_equal(count_sent(f, "JOIN"), 1);
    feed(f, ":careerbot!cb@host JOIN #secret");
    clear_sent(f);
    t = f->now;
    feed(f, ":op!o@host KICK #secret careerbot :and again");
    run_until(f, t + 39);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    run_until(f, t + 40);
    assert_int_equal(count_sent(f, "JOIN"), 1);
    clear_sent(f);

    /* Someone else kicked, or us from a channel we do not keep: nothing. */
    feed(f, ":op!o@host KICK #careers alice :bye");
    feed(f, ":op!o@host KICK #elsewhere careerbot :bye");
    run_until(f, f->now + 1000);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    fake_free(f);
}

static void test_ban_retries_later(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":careerbot!cb@host JOIN #careers");
    double t = f->now;
    feed(f, ":irc.test 474 careerbot #secret :Cannot join channel (+b)");
    assert_logged(f, BASE_LOG_WARN, "cannot join #secret");
    assert_int_equal(f->n_sent, 0);
    run_until(f, t + 59);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    run_until(f, t + 60);
    assert_int_equal(count_sent(f, "JOIN"), 1);
    assert_sent(f, 0, "JOIN", "#secret", "hunter2");
    clear_sent(f);
    /* Banned again: longer. */
    t = f->now;
    feed(f, ":irc.test 474 careerbot #secret :Cannot join channel (+b)");
    run_until(f, t + 100);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    run_until(f, t + 120);
    assert_int_equal(count_sent(f, "JOIN"), 1);
    clear_sent(f);
    /* Other join errors are handled alike. */
    t = f->now;
    feed(f, ":irc.test 473 careerbot #careers :Cannot join channel (+i)");
    feed(f, ":irc.test 475 careerbot #secret :Cannot join channel (+k)");
    assert_int_equal(f->n_sent, 0);
    run_until(f, t + 1000);
    assert_int_equal(count_sent(f, "JOIN"), 2);
    fake_free(f);
}

static void test_invite(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":careerbot!cb@host JOIN #careers");
    feed(f, ":irc.test 473 careerbot #secret :Cannot join channel (+i)");
    clear_sent(f);
    /* Invited to a configured channel we are not in: join now. */
    feed(f, ":op!o@host INVITE careerbot :#secret");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "JOIN", "#secret", "hunter2");
    assert_logged(f, BASE_LOG_INFO, "invited to #secret by op");
    feed(f, ":careerbot!cb@host JOIN #secret");
    clear_sent(f);
    /* The delayed retry from the 473 was cancelled. */
    run_until(f, f->now + 200);
    assert_int_equal(count_sent(f, "JOIN"), 0);
    clear_sent(f);
    /* Already there: nothing. Not configured: ignored, with a log line. */
    feed(f, ":op!o@host INVITE careerbot :#careers");
    feed(f, ":spammer!s@host INVITE careerbot :#freestuff");
    assert_int_equal(f->n_sent, 0);
    assert_logged(f, BASE_LOG_INFO, "ignoring invite from spammer to #freestuff");
    fake_free(f);
}

/* ---- messages ---------------------------------------------------------------------- */

static void test_privmsg_hook(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":alice!a@example.org PRIVMSG #careers :careerbot: what is the pay?");
    assert_int_equal(f->n_pms, 1);
    assert_string_equal(f->pms[0].from, "alice");
    assert_string_equal(f->pms[0].from_mask, "alice!a@example.org");
    assert_string_equal(f->pms[0].target, "#careers");
    assert_string_equal(f->pms[0].text, "careerbot: what is the pay?");
    assert_false(f->pms[0].direct);
    assert_false(f->pms[0].from_bot);

    feed(f, ":alice!a@example.org PRIVMSG CareerBot :hello there");
    assert_int_equal(f->n_pms, 2);
    assert_true(f->pms[1].direct);
    assert_string_equal(f->pms[1].text, "hello there");

    /* The IRCv3 bot tag (and its draft name) marks other bots. */
    feed(f, "@bot;time=2024-01-01T00:00:00.000Z :otherbot!o@h PRIVMSG #careers :careerbot: hi");
    feed(f, "@draft/bot= :otherbot!o@h PRIVMSG careerbot :hi");
    assert_int_equal(f->n_pms, 4);
    assert_true(f->pms[2].from_bot);
    assert_true(f->pms[3].from_bot);
    assert_true(f->pms[3].direct);
    feed(f, "@inspircd.org/bot :otherbot!o@h PRIVMSG careerbot :hi"); /* InspIRCd 3 */
    assert_int_equal(f->n_pms, 5);
    assert_true(f->pms[4].from_bot);

    /* Our own messages (echoes) and messages without a sender are dropped. */
    feed(f, ":careerbot!cb@host PRIVMSG #careers :my own answer");
    feed(f, ":CAREERBOT!cb@host PRIVMSG careerbot :talking to myself");
    feed(f, "PRIVMSG #careers :no source");
    assert_int_equal(f->n_pms, 5);

    /* NOTICEs are never passed on or answered. */
    feed(f, ":alice!a@h NOTICE careerbot :what is the pay?");
    feed(f, ":alice!a@h NOTICE #careers :careerbot: what is the pay?");
    feed(f, ":alice!a@h NOTICE careerbot :\001VERSION\001");
    assert_int_equal(f->n_pms, 5);
    assert_int_equal(f->n_sent, 0);
    fake_free(f);
}

static void test_own_messages_after_nick_change(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online_as(f, "careerbot_");
    feed(f, ":careerbot_!cb@host PRIVMSG #careers :echo");
    assert_int_equal(f->n_pms, 0);
    feed(f, ":alice!a@h PRIVMSG careerbot_ :hi");
    assert_int_equal(f->n_pms, 1);
    assert_true(f->pms[0].direct);
    fake_free(f);
}

static void test_ctcp(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":alice!a@h PRIVMSG careerbot :\001VERSION\001");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "NOTICE", "alice", "\001VERSION careerbot 9.9\001");
    f->now += 10;
    feed(f, ":alice!a@h PRIVMSG careerbot :\001PING 1700000000 123\001");
    assert_sent(f, 1, "NOTICE", "alice", "\001PING 1700000000 123\001");
    f->now += 10;
    feed(f, ":alice!a@h PRIVMSG #careers :\001VERSION\001"); /* to a channel: answered to the sender */
    assert_sent(f, 2, "NOTICE", "alice", "\001VERSION careerbot 9.9\001");
    clear_sent(f);
    f->now += 10;
    feed(f, ":alice!a@h PRIVMSG careerbot :\001ACTION waves\001");
    feed(f, ":alice!a@h PRIVMSG #careers :\001ACTION waves\001");
    feed(f, ":alice!a@h PRIVMSG careerbot :\001CLIENTINFO\001");
    feed(f, ":alice!a@h PRIVMSG careerbot :\001DCC SEND x 1 2 3\001");
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(f->n_pms, 0); /* CTCP is never a question */
    fake_free(f);
}

static void test_ctcp_flood_is_limited(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    for (int i = 0; i < 50; i++)
        feed(f, ":flooder!f@h PRIVMSG careerbot :\001VERSION\001");
    size_t burst = f->n_sent;
    assert_true(burst >= 1 && burst <= 4);
    /* Later, answered again, at a bounded rate. */
    f->now += 10;
    for (int i = 0; i < 50; i++)
        feed(f, ":flooder!f@h PRIVMSG careerbot :\001PING x\001");
    assert_true(f->n_sent > burst);
    assert_true(f->n_sent <= burst + 4);
    fake_free(f);
}

static void test_malformed_lines_are_ignored(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    static const char *const lines[] = {
        "", " ", "   ", ":", ": ", ":src", ":src ", "@", "@a=b", "@a=b :src", "123", "1234 x", "PR!VMSG #a :x",
        "PRIVMSG", "PRIVMSG #careers", ":alice!a@h PRIVMSG", ":alice!a@h PRIVMSG #careers",
        ":alice!a@h PRIVMSG :", "KICK", ":op!o@h KICK", ":op!o@h KICK #careers", "INVITE", ":op!o@h INVITE careerbot",
        "JOIN", ":careerbot!c@h JOIN", "PART", ":careerbot!c@h PART", "NICK", ":careerbot!c@h NICK", "QUIT",
        "CAP", "CAP *", "CAP * LS", "CAP * ACK", ":irc.test 001", ":irc.test 005", ":irc.test 005 careerbot",
        ":irc.test 433", ":irc.test 474", ":irc.test 474 careerbot", ":irc.test 904", "AUTHENTICATE",
        "ERROR", "PING", "PONG", ":irc.test 396", ":alice!a@h PRIVMSG careerbot :\001", ":alice!a@h PRIVMSG careerbot :\001\001",
        ":alice!a@h PRIVMSG careerbot :\001 \001", ":!@ PRIVMSG careerbot :x", ":a!b@c PRIVMSG careerbot :\xff\xfe\xc3",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        feed(f, lines[i]);
    /* Embedded NUL, CR and LF; an overlong line; a line of only tags. */
    static const char nul_line[] = ":alice!a@h PRIVMSG careerbot :a\0b";
    irc_session_line(f->s, nul_line, sizeof nul_line - 1, f->now);
    feed(f, ":alice!a@h PRIVMSG careerbot :a\rb");
    feed(f, ":alice!a@h PRIVMSG careerbot :a\nPRIVMSG #x :b");
    char *big = malloc(20000);
    assert_non_null(big);
    memset(big, 'A', 19999);
    big[19999] = '\0';
    memcpy(big, ":alice!a@h PRIVMSG careerbot :", 30);
    feed(f, big);
    memset(big, 'x', 19999);
    big[0] = '@';
    feed(f, big);
    free(big);
    /* Still working, and nothing above was taken for a question except well-formed ones. */
    for (size_t i = 0; i < f->n_pms; i++)
        assert_non_null(f->pms[i].text);
    clear_sent(f);
    feed(f, "PING :still-alive");
    assert_sent(f, 0, "PONG", "still-alive");
    assert_true(irc_session_is_registered(f->s));
    size_t before = f->n_pms;
    feed(f, ":alice!a@h PRIVMSG careerbot :a real question");
    assert_int_equal(f->n_pms, before + 1);
    fake_free(f);
}

/* ---- sizes and names ------------------------------------------------------------- */

static void test_relay_overhead(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    /* Unknown host: assume the longest (63), with an ident "~". */
    size_t pessimistic = irc_session_relay_overhead(f->s, "#careers", "PRIVMSG");
    size_t worst_prefix = strlen("careerbot!~cb@") + 63;
    size_t fixed = strlen(": PRIVMSG #careers :\r\n");
    assert_true(pessimistic >= worst_prefix + fixed);
    assert_true(pessimistic <= worst_prefix + fixed + 2);

    /* After our own JOIN echo the exact prefix is known. */
    const char *mask = "careerbot!~cb@gateway/web/x.example";
    char join[200];
    snprintf(join, sizeof join, ":%s JOIN #careers", mask);
    feed(f, join);
    size_t exact = irc_session_relay_overhead(f->s, "#careers", "PRIVMSG");
    const char *text = "hello";
    char relayed[600];
    int n = snprintf(relayed, sizeof relayed, ":%s PRIVMSG #careers :%s\r\n", mask, text);
    assert_true(exact < pessimistic);
    assert_true(exact >= (size_t)n - strlen(text));
    assert_true(exact <= (size_t)n - strlen(text) + 2);
    /* The verb and target count. */
    assert_int_equal(irc_session_relay_overhead(f->s, "alice", "NOTICE"),
                     exact - strlen("PRIVMSG") - strlen("#careers") + strlen("NOTICE") + strlen("alice"));

    /* Someone else's JOIN teaches nothing. */
    feed(f, ":alice!averyveryveryverylongusername@a.much.longer.host.name.example JOIN #careers");
    assert_int_equal(irc_session_relay_overhead(f->s, "#careers", "PRIVMSG"), exact);

    /* Our host changed (396) or our nick did: back to the pessimistic guess until the next JOIN. */
    feed(f, ":irc.test 396 careerbot new.host.example :is now your displayed host");
    assert_true(irc_session_relay_overhead(f->s, "#careers", "PRIVMSG") > exact);
    feed(f, join);
    assert_int_equal(irc_session_relay_overhead(f->s, "#careers", "PRIVMSG"), exact);
    feed(f, ":careerbot!~cb@gateway/web/x.example NICK :careerbot_");
    assert_true(irc_session_relay_overhead(f->s, "#careers", "PRIVMSG") > exact);
    fake_free(f);
}

static void test_nick_equal_casemapping(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    irc_session *s = f->s;
    /* rfc1459 until the server names its casemapping */
    assert_true(irc_session_name_equal(s, "careerbot", "CareerBot"));
    assert_true(irc_session_name_equal(s, "Care[rbot]", "care{rbot}"));
    assert_true(irc_session_name_equal(s, "a\\b", "A|B"));
    assert_true(irc_session_name_equal(s, "x~", "X^"));
    assert_true(irc_session_name_equal(s, "", ""));
    assert_false(irc_session_name_equal(s, "careerbot", "careerbot_"));
    assert_false(irc_session_name_equal(s, "careerbot_", "careerbot"));
    assert_false(irc_session_name_equal(s, "abc", "abd"));
    assert_false(irc_session_name_equal(s, "a_", "a-"));
    assert_false(irc_session_name_equal(s, NULL, "x"));
    assert_false(irc_session_name_equal(s, "x", NULL));
    assert_false(irc_session_name_equal(s, NULL, NULL));
    feed(f, ":irc.test 005 careerbot CASEMAPPING=ascii :are supported by this server");
    assert_int_equal(irc_session_casemap(s), CHAT_CASE_ASCII);
    assert_true(irc_session_name_equal(s, "careerbot", "CareerBot"));
    assert_false(irc_session_name_equal(s, "Care[rbot]", "care{rbot}"));
    feed(f, ":irc.test 005 careerbot CASEMAPPING=strict-rfc1459 :are supported by this server");
    assert_true(irc_session_name_equal(s, "a\\b", "A|B"));
    assert_false(irc_session_name_equal(s, "x~", "X^"));
    /* A new connection starts from rfc1459 again. */
    irc_session_disconnected(s);
    assert_int_equal(irc_session_casemap(s), CHAT_CASE_RFC1459);
    fake_free(f);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void test_quit_and_reconnect(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_quit(f->s, "bye"); /* offline: nothing to say */
    assert_int_equal(f->n_sent, 0);
    go_online_as(f, "careerbot_");
    irc_session_quit(f->s, "careerbot is going offline");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "QUIT", "careerbot is going offline");

    /* Disconnected: not registered; a new connection starts over with the wanted nick. */
    irc_session_disconnected(f->s);
    assert_false(irc_session_is_registered(f->s));
    clear_sent(f);
    irc_session_tick(f->s, f->now + 1000); /* offline ticks do nothing */
    assert_int_equal(f->n_sent, 0);
    irc_session_connected(f->s, f->now);
    assert_sent(f, 0, "CAP", "LS", "302");
    assert_sent(f, 1, "NICK", "careerbot");
    assert_string_equal(irc_session_nick(f->s), "careerbot");
    /* The nick-in-use sequence starts from the first alternative again. */
    feed(f, ":irc.test 433 * careerbot :Nickname is already in use");
    assert_sent(f, 3, "NICK", "careerbot_");
    fake_free(f);
}

static void test_server_error_is_logged(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, "ERROR :Closing Link: careerbot (Excess Flood)");
    assert_logged(f, BASE_LOG_WARN, "Excess Flood");
    fake_free(f);
}

/* ---- SASL mechanisms -------------------------------------------------------- */

static const char *last_auth(fake *f)
{
    int i = -1;
    for (int k = 0; (k = find_sent(f, (size_t)k, "AUTHENTICATE")) >= 0; k++)
        i = k;
    return i >= 0 ? f->sent[i] + strlen("AUTHENTICATE ") : NULL;
}

/* Connects a session with c and gets to CAP ACK with the server offering ls. */
static fake *sasl_offer(irc_session_config *c, const char *ls, int tls)
{
    fake *f = fake_new(c);
    irc_session_set_tls(f->s, tls);
    irc_session_connected(f->s, f->now);
    char line[300];
    snprintf(line, sizeof line, ":irc.test CAP * LS :%s", ls);
    feed(f, line);
    feed(f, ":irc.test CAP * ACK :sasl");
    return f;
}

static void test_sasl_only_offered_mechanisms(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.sasl_user = "user";
    c.sasl_password = "pw";
    /* The server lists PLAIN and EXTERNAL: PLAIN, although SCRAM is preferred. */
    fake *f = sasl_offer(&c, "sasl=PLAIN,EXTERNAL", 0);
    assert_string_equal(last_auth(f), "PLAIN");
    fake_free(f);
    /* SCRAM-SHA-256 over PLAIN when offered (SCRAM-SHA-512 is not). */
    f = sasl_offer(&c, "sasl=PLAIN,SCRAM-SHA-256", 0);
    assert_string_equal(last_auth(f), "SCRAM-SHA-256");
    fake_free(f);
    f = sasl_offer(&c, "sasl=SCRAM-SHA-256,SCRAM-SHA-512", 0);
    assert_string_equal(last_auth(f), "SCRAM-SHA-512");
    fake_free(f);
    /* The operator's order. */
    static const irc_sasl_mech plain_first[] = {IRC_SASL_PLAIN, IRC_SASL_SCRAM_SHA256};
    c.sasl_mechanisms = plain_first;
    c.n_sasl_mechanisms = 2;
    f = sasl_offer(&c, "sasl=SCRAM-SHA-256,PLAIN", 0);
    assert_string_equal(last_auth(f), "PLAIN");
    fake_free(f);
    c.sasl_mechanisms = NULL;
    c.n_sasl_mechanisms = 0;

    /* Nothing fits, required: a clear line, QUIT, a new connection. */
    c.sasl_required = 1;
    f = sasl_offer(&c, "sasl=EXTERNAL,ECDSA-NIST256P-CHALLENGE", 0);
    assert_null(last_auth(f));
    assert_logged(f, BASE_LOG_ERROR, "offers EXTERNAL, ECDSA-NIST256P-CHALLENGE",
                  "none of ours (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN)", "sasl_required");
    assert_int_equal(find_sent(f, 0, "QUIT") >= 0, 1);
    assert_int_equal(f->reconnects, 1);
    assert_int_equal(find_sent(f, 0, "CAP") >= 0 && sent_is(f, (size_t)find_sent(f, 3, "CAP"), "CAP", "END", NULL), 0);
    fake_free(f);
    /* Not required: CAP END and on without it. */
    c.sasl_required = 0;
    f = sasl_offer(&c, "sasl=EXTERNAL", 0);
    assert_null(last_auth(f));
    assert_logged(f, BASE_LOG_ERROR, "none of ours", "going on without it");
    assert_sent(f, f->n_sent - 1, "CAP", "END");
    assert_int_equal(f->reconnects, 0);
    fake_free(f);
}

static void test_sasl_external_with_client_certificate(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.client_cert = 1;
    c.sasl_required = 1;
    /* With TLS: EXTERNAL, an empty response, and the login. */
    fake *f = sasl_offer(&c, "sasl=PLAIN,EXTERNAL multi-prefix", 1);
    assert_string_equal(last_auth(f), "EXTERNAL");
    clear_sent(f);
    feed(f, "AUTHENTICATE +");
    assert_int_equal(f->n_sent, 1);
    assert_sent(f, 0, "AUTHENTICATE", "+");
    feed(f, ":irc.test 900 careerbot careerbot!cb@h certacct :You are now logged in as certacct");
    feed(f, ":irc.test 903 careerbot :SASL authentication successful");
    assert_sent(f, 1, "CAP", "END");
    assert_logged(f, BASE_LOG_INFO, "SASL login succeeded (EXTERNAL)");
    fake_free(f);
    /* EXTERNAL first when a password is also set. */
    c.sasl_user = "user";
    c.sasl_password = "pw";
    f = sasl_offer(&c, "sasl=PLAIN,EXTERNAL", 1);
    assert_string_equal(last_auth(f), "EXTERNAL");
    fake_free(f);
    /* Without TLS there is no certificate to show: not EXTERNAL. */
    f = sasl_offer(&c, "sasl=PLAIN,EXTERNAL", 0);
    assert_string_equal(last_auth(f), "PLAIN");
    fake_free(f);
}

static void test_sasl_908_moves_to_the_next_mechanism(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    c.sasl_user = "user";
    c.sasl_password = "pass";
    c.sasl_required = 1;
    /* No list in CAP LS: the first preference, then what 908 says. */
    fake *f = sasl_offer(&c, "sasl", 0);
    assert_string_equal(last_auth(f), "SCRAM-SHA-512");
    feed(f, ":irc.test 908 careerbot PLAIN,EXTERNAL :are available SASL mechanisms");
    feed(f, ":irc.test 904 careerbot :SASL authentication failed");
    assert_string_equal(last_auth(f), "PLAIN");
    assert_int_equal(f->reconnects, 0);
    clear_sent(f);
    feed(f, "AUTHENTICATE +");
    assert_sent(f, 0, "AUTHENTICATE", "dXNlcgB1c2VyAHBhc3M=");
    feed(f, ":irc.test 903 careerbot :SASL authentication successful");
    assert_sent(f, 1, "CAP", "END");
    fake_free(f);

    /* An offered mechanism that fails: the password is wrong, nothing else is tried. */
    f = sasl_offer(&c, "sasl=PLAIN,SCRAM-SHA-256", 0);
    assert_string_equal(last_auth(f), "SCRAM-SHA-256");
    clear_sent(f);
    feed(f, ":irc.test 904 careerbot :SASL authentication failed");
    assert_int_equal(count_sent(f, "AUTHENTICATE"), 0);
    assert_int_equal(f->reconnects, 1);
    assert_sent(f, 0, "QUIT", "SASL login failed");
    fake_free(f);
}

/* A SCRAM server in the test, from RFC 5802's formulas, for the session's
 * side of a whole exchange. */
static void b64(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static size_t unb64(const char *in, unsigned char *out)
{
    size_t n = strlen(in), pad = n >= 2 && in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
    int r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    assert_true(r >= 0);
    out[r - pad] = '\0';
    return (size_t)r - pad;
}

static void scram_server_sig(const char *password, const char *auth_message, unsigned char *sig)
{
    unsigned char salted[32], server_key[32];
    unsigned int n;
    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (const unsigned char *)"saltsalt", 8, 4096,
                                       EVP_sha256(), 32, salted),
                     1);
    HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10, server_key, &n);
    HMAC(EVP_sha256(), server_key, 32, (const unsigned char *)auth_message, strlen(auth_message), sig, &n);
}

static void test_sasl_scram_exchange(void **state)
{
    (void)state;
    for (int lie = 0; lie < 3; lie++) {
        irc_session_config c = default_config();
        c.sasl_user = "user";
        c.sasl_password = "pencil";
        c.sasl_required = 1;
        fake *f = sasl_offer(&c, "sasl=SCRAM-SHA-256", 1);
        clear_sent(f);
        feed(f, "AUTHENTICATE +");
        unsigned char client_first[200];
        unb64(last_auth(f), client_first);
        assert_true(strncmp((char *)client_first, "n,,n=user,r=", 12) == 0);
        const char *cnonce = (char *)client_first + 12;
        /* server-first with a long extension: more than 400 bytes of base64, in pieces. */
        char server_first[1000], ext[400];
        memset(ext, 'x', sizeof ext - 1);
        ext[sizeof ext - 1] = '\0';
        snprintf(server_first, sizeof server_first, "r=%sSERVERPART,s=%s,i=4096,x=%s", cnonce, "c2FsdHNhbHQ=", ext);
        char sf_b64[1400];
        b64((unsigned char *)server_first, strlen(server_first), sf_b64);
        assert_true(strlen(sf_b64) > 400);
        char line[1500];
        snprintf(line, sizeof line, "AUTHENTICATE %.400s", sf_b64);
        clear_sent(f);
        feed(f, line);
        assert_int_equal(f->n_sent, 0); /* a full piece: more to come */
        snprintf(line, sizeof line, "AUTHENTICATE %s", sf_b64 + 400);
        feed(f, line);
        assert_int_equal(f->n_sent, 1);
        unsigned char client_final[300];
        unb64(last_auth(f), client_final);
        char want[400];
        snprintf(want, sizeof want, "c=biws,r=%sSERVERPART,p=", cnonce);
        assert_true(strncmp((char *)client_final, want, strlen(want)) == 0);
        char auth_message[2000];
        snprintf(auth_message, sizeof auth_message, "%s,%s,c=biws,r=%sSERVERPART", (char *)client_first + 3,
                 server_first, cnonce);
        unsigned char sig[32];
        scram_server_sig(lie == 1 ? "not the password" : "pencil", auth_message, sig);
        char final[100] = "v=", final_b64[200];
        b64(sig, 32, final + 2);
        b64((unsigned char *)final, strlen(final), final_b64);
        clear_sent(f);
        if (lie == 2) {
            /* Success claimed before the server proved anything. */
            feed(f, ":irc.test 903 careerbot :SASL authentication successful");
            assert_logged(f, BASE_LOG_ERROR, "SASL", "before the exchange was complete");
            assert_int_equal(f->reconnects, 1);
            fake_free(f);
            continue;
        }
        snprintf(line, sizeof line, "AUTHENTICATE %s", final_b64);
        feed(f, line);
        if (lie == 1) {
            assert_sent(f, 0, "AUTHENTICATE", "*");
            assert_logged(f, BASE_LOG_ERROR, "SASL", "signature is wrong");
            assert_int_equal(f->reconnects, 1);
            feed(f, ":irc.test 906 careerbot :SASL authentication aborted"); /* harmless now */
            assert_int_equal(f->reconnects, 1);
        } else {
            assert_sent(f, 0, "AUTHENTICATE", "+");
            feed(f, ":irc.test 903 careerbot :SASL authentication successful");
            assert_sent(f, 1, "CAP", "END");
            assert_logged(f, BASE_LOG_INFO, "SASL login succeeded (SCRAM-SHA-256)");
            assert_int_equal(f->reconnects, 0);
        }
        fake_free(f);
    }
}

static void test_sasl_malformed_server_messages(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "AUTHENTICATE !!!!",         /* not base64 */
        "AUTHENTICATE aGVsbG8=",     /* data where PLAIN expects "+" */
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        fake *f = sasl_session("user", "pw", 0);
        feed(f, lines[i]);
        assert_sent(f, 0, "AUTHENTICATE", "*");
        assert_sent(f, 1, "CAP", "END");
        assert_logged(f, BASE_LOG_ERROR, "SASL", "failed");
        fake_free(f);
    }
    /* A message that never ends (full pieces forever) is cut off. */
    fake *f = sasl_session("user", "pw", 0);
    char line[420] = "AUTHENTICATE ";
    memset(line + 13, 'A', 400);
    line[413] = '\0';
    for (int i = 0; i < 100 && f->n_sent == 0; i++)
        feed(f, line);
    assert_sent(f, 0, "AUTHENTICATE", "*");
    assert_logged(f, BASE_LOG_ERROR, "too long");
    fake_free(f);
}

/* ---- STS -------------------------------------------------------------------- */

static void test_sts(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    /* Plaintext with a port: upgrade now, nothing more on this connection. */
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :multi-prefix sts=port=6697,duration=300");
    assert_int_equal(f->sts_port, 6697);
    assert_int_equal(f->sts_duration, -1); /* a plaintext duration is not stored */
    assert_int_equal(f->n_sent, 0);
    feed(f, ":irc.test 001 careerbot :Welcome");
    feed(f, "PING :x");
    assert_int_equal(f->n_sent, 0);
    assert_false(irc_session_is_registered(f->s));
    assert_logged(f, BASE_LOG_INFO, "STS", "6697");
    fake_free(f);

    /* TLS: the policy is kept, registration goes on. */
    f = fake_new(&c);
    irc_session_set_tls(f->s, 1);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS * :sts=duration=2592000,port=6697,preload");
    feed(f, ":irc.test CAP * LS :multi-prefix");
    assert_int_equal(f->sts_port, 0);
    assert_int_equal(f->sts_duration, 2592000);
    assert_sent(f, 0, "CAP", "REQ", "multi-prefix");
    fake_free(f);
    f = fake_new(&c);
    irc_session_set_tls(f->s, 1);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :sts=duration=0");
    assert_int_equal(f->sts_duration, 0);
    fake_free(f);

    /* Malformed: ignored with a warning; a plaintext policy without a port means nothing. */
    static const char *const bad[] = {"sts=port=abc,duration=1", "sts=port=70000", "sts=duration=-5,port=1"};
    for (size_t i = 0; i < 3; i++) {
        f = fake_new(&c);
        irc_session_connected(f->s, f->now);
        clear_sent(f);
        char line[200];
        snprintf(line, sizeof line, ":irc.test CAP * LS :multi-prefix %s", bad[i]);
        feed(f, line);
        assert_int_equal(f->sts_port, 0);
        assert_logged(f, BASE_LOG_WARN, "malformed STS");
        assert_sent(f, 0, "CAP", "REQ", "multi-prefix");
        fake_free(f);
    }
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :sts=duration=300");
    assert_int_equal(f->sts_port, 0);
    assert_int_equal(f->sts_duration, -1);
    fake_free(f);

    /* Announced later (CAP NEW) on plaintext: upgrade too. */
    f = fake_new(&c);
    go_online(f);
    feed(f, ":irc.test CAP careerbot NEW :sts=port=6697,duration=60");
    assert_int_equal(f->sts_port, 6697);
    fake_free(f);

    /* ignore_sts (test servers only): nothing happens. */
    c.ignore_sts = 1;
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    clear_sent(f);
    feed(f, ":irc.test CAP * LS :sts=port=6697,duration=300");
    assert_int_equal(f->sts_port, 0);
    assert_sent(f, 0, "CAP", "END");
    fake_free(f);
}

/* ---- who is who ----------------------------------------------------------- */

static void test_accounts(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :account-tag extended-join account-notify chghost away-notify");
    feed(f, ":irc.test CAP * ACK :account-tag extended-join account-notify chghost away-notify");
    feed(f, ":irc.test 001 careerbot :Welcome");
    /* account-tag on the message itself. */
    feed(f, "@account=alice_acct :alice!a@h PRIVMSG careerbot :hello");
    assert_string_equal(f->pms[0].account, "alice_acct");
    assert_string_equal(irc_session_account(f->s, "ALICE"), "alice_acct");
    /* No tag: not logged in. */
    feed(f, ":bob!b@h PRIVMSG careerbot :hello");
    assert_null(f->pms[1].account);
    /* extended-join and account-notify. */
    feed(f, ":carol!c@h JOIN #careers carol_acct :Carol C");
    assert_string_equal(irc_session_account(f->s, "carol"), "carol_acct");
    feed(f, ":dave!d@h JOIN #careers * :Dave");
    assert_null(irc_session_account(f->s, "dave"));
    feed(f, ":dave!d@h ACCOUNT dave_acct");
    assert_string_equal(irc_session_account(f->s, "dave"), "dave_acct");
    feed(f, ":dave!d@h ACCOUNT *");
    assert_null(irc_session_account(f->s, "dave"));
    /* Renames carry the account; QUIT forgets it. */
    feed(f, ":carol!c@h NICK carol2");
    assert_null(irc_session_account(f->s, "carol"));
    assert_string_equal(irc_session_account(f->s, "carol2"), "carol_acct");
    feed(f, ":carol2!c@h QUIT :bye");
    assert_null(irc_session_account(f->s, "carol2"));
    /* AWAY (away-notify) changes nothing. */
    feed(f, "@account=alice_acct :alice!a@h AWAY :lunch");
    assert_string_equal(irc_session_account(f->s, "alice"), "alice_acct");
    /* chghost: our own host changed, so the relay overhead follows. */
    size_t before = irc_session_relay_overhead(f->s, "#careers", "PRIVMSG");
    feed(f, ":careerbot!cb@h CHGHOST cb a.very.much.longer.host.name.example.org");
    size_t after = irc_session_relay_overhead(f->s, "#careers", "PRIVMSG");
    assert_int_equal(after, 1 + strlen("careerbot!cb@a.very.much.longer.host.name.example.org") + 1 + 7 + 1 + 8 + 4);
    assert_int_not_equal(before, after);
    /* Without the caps acked, tags and JOIN params are not read as accounts. */
    fake_free(f);
    f = fake_new(&c);
    go_online(f);
    feed(f, "@account=mallory :eve!e@h PRIVMSG careerbot :hi");
    assert_null(f->pms[0].account);
    fake_free(f);
}

/* WHOX: asked only when the server offers it, the 354 with our token read
 * as the account ("0": none), other tokens and the end of WHO told apart. */
static void test_whox(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    assert_false(irc_session_has_account_tag(f->s));
    assert_false(irc_session_has_whox(f->s));
    assert_int_equal(irc_session_who_account(f->s, "boss"), -1); /* no WHOX: not asked */
    assert_int_equal(f->n_sent, 0);
    feed(f, ":irc.test 005 careerbot WHOX CASEMAPPING=ascii :are supported by this server");
    assert_true(irc_session_has_whox(f->s));
    assert_int_equal(irc_session_who_account(f->s, "boss"), 0);
    assert_sent(f, 0, "WHO", "boss", "%tna,714");
    assert_int_equal(irc_session_who_account(f->s, "a*"), -1); /* a mask would ask about many */
    feed(f, ":irc.test 354 careerbot 714 boss bossacct");
    assert_int_equal(f->whox_calls, 1);
    assert_string_equal(f->whox_nick, "boss");
    assert_string_equal(f->whox_account, "bossacct");
    assert_int_equal(f->whox_ends, 0);
    feed(f, ":irc.test 315 careerbot boss :End of /WHO list.");
    assert_int_equal(f->whox_ends, 1);
    /* not logged in */
    feed(f, ":irc.test 354 careerbot 714 eve 0");
    assert_string_equal(f->whox_account, "-");
    /* someone else's WHOX token, and short replies: not ours */
    feed(f, ":irc.test 354 careerbot 999 mallory mallory");
    feed(f, ":irc.test 354 careerbot 714 mallory");
    feed(f, ":irc.test 315 careerbot");
    assert_int_equal(f->whox_calls, 3);
    /* Gone with the connection. */
    irc_session_disconnected(f->s);
    assert_false(irc_session_has_whox(f->s));
    fake_free(f);

    /* account-tag acked: said so. */
    f = fake_new(&c);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :account-tag");
    feed(f, ":irc.test CAP * ACK :account-tag");
    feed(f, ":irc.test 001 careerbot :Welcome");
    assert_true(irc_session_has_account_tag(f->s));
    fake_free(f);
}

/* Operators' joins and parts: a joined channel is kept (rejoined after a
 * kick, joined on INVITE), a parted one forgotten (an INVITE no longer
 * joins it), the ignore list replaced. */
static void test_runtime_join_part_ignore(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    /* Offline: kept, joined once registered. */
    assert_int_equal(irc_session_join(f->s, "#early", NULL), 0);
    assert_int_equal(f->n_sent, 0);
    irc_session_connected(f->s, f->now);
    feed(f, ":irc.test CAP * LS :");
    clear_sent(f);
    feed(f, ":irc.test 001 careerbot :Welcome");
    assert_sent(f, 2, "JOIN", "#early");
    feed(f, ":careerbot!cb@host JOIN #careers");
    feed(f, ":careerbot!cb@host JOIN #early");
    clear_sent(f);
    assert_int_equal(irc_session_channels(f->s), 3);
    assert_int_equal(irc_session_join(f->s, "#ops", "k"), 0);
    assert_sent(f, 0, "JOIN", "#ops", "k");
    assert_false(irc_session_in_channel(f->s, "#ops"));
    feed(f, ":careerbot!cb@host JOIN #ops");
    assert_true(irc_session_in_channel(f->s, "#OPS"));
    assert_int_equal(irc_session_joined(f->s), 3);
    clear_sent(f);
    /* Already in it: no second JOIN. */
    assert_int_equal(irc_session_join(f->s, "#ops", NULL), 0);
    assert_int_equal(f->n_sent, 0);
    /* A kick rejoins it like a configured channel. */
    feed(f, ":op!o@h KICK #ops careerbot :out");
    run_until(f, f->now + 15);
    assert_true(find_sent(f, 0, "JOIN #ops") >= 0);
    feed(f, ":careerbot!cb@host JOIN #ops");
    clear_sent(f);
    /* Parted: PART sent, no longer kept. */
    assert_int_equal(irc_session_part(f->s, "#careers", "asked to leave"), 0);
    assert_sent(f, 0, "PART", "#careers", "asked to leave");
    assert_false(irc_session_is_our_channel(f->s, "#careers"));
    assert_int_equal(irc_session_part(f->s, "#careers", NULL), -1);
    assert_int_equal(irc_session_part(f->s, "#never", NULL), -1);
    feed(f, ":careerbot!cb@host PART #careers :asked to leave");
    clear_sent(f);
    feed(f, ":op!o@host INVITE careerbot :#careers");
    assert_int_equal(count_sent(f, "JOIN"), 0);
    /* Bounded: 64 channels at most. */
    char name[32];
    int refused = 0;
    for (int i = 0; i < 80; i++) {
        snprintf(name, sizeof name, "#c%d", i);
        refused += irc_session_join(f->s, name, NULL) != 0;
    }
    assert_true(refused > 0);
    assert_true(irc_session_channels(f->s) <= 64);
    /* The ignore list replaced: CTCP from them gets nothing. */
    const char *const ignore[] = {"pest"};
    assert_int_equal(irc_session_set_ignore(f->s, ignore, 1), 0);
    clear_sent(f);
    feed(f, ":pest!p@h PRIVMSG careerbot :\001VERSION\001");
    assert_int_equal(f->n_sent, 0);
    assert_int_equal(irc_session_set_ignore(f->s, NULL, 0), 0);
    feed(f, ":pest!p@h PRIVMSG careerbot :\001VERSION\001");
    assert_int_equal(count_sent(f, "NOTICE"), 1);
    fake_free(f);
}

/* ---- no command storms ---------------------------------------------------- */

static void test_invite_storm_after_kick(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, ":careerbot!cb@host JOIN #careers");
    feed(f, ":careerbot!cb@host JOIN #secret");
    clear_sent(f);
    feed(f, ":op!o@host KICK #secret careerbot :out");
    for (int i = 0; i < 1000; i++)
        feed(f, ":op!o@host INVITE careerbot :#secret");
    assert_int_equal(count_sent(f, "JOIN"), 1);
    /* Within the backoff period, more invites change nothing, and neither do
     * invites to other channels. */
    f->now += 5;
    for (int i = 0; i < 1000; i++) {
        feed(f, ":op!o@host INVITE careerbot :#secret");
        feed(f, ":op!o@host INVITE careerbot :#other");
    }
    assert_int_equal(count_sent(f, "JOIN"), 1);
    size_t loud = 0;
    for (size_t i = 0; i < f->n_logs; i++)
        loud += f->log_levels[i] <= BASE_LOG_INFO;
    assert_true(loud < 10);
    fake_free(f);
}

static void test_kick_warnings_are_rate_limited(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    for (int i = 0; i < 200; i++) {
        feed(f, ":careerbot!cb@host JOIN #careers");
        feed(f, ":op!o@host KICK #careers careerbot :again");
    }
    size_t warnings = 0;
    for (size_t i = 0; i < f->n_logs; i++)
        warnings += strstr(f->logs[i], "kicked from") != NULL;
    assert_int_equal(warnings, 3);
    f->now += 61;
    feed(f, ":op!o@host KICK #careers careerbot :later");
    assert_logged(f, BASE_LOG_WARN, "kicked from #careers", "later", "197 more kicks not logged");
    fake_free(f);
}

static void test_nick_storm(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online_as(f, "careerbot_");
    /* The holder of our nick leaves and comes back a thousand times. */
    for (int i = 0; i < 1000; i++) {
        feed(f, ":careerbot!x@h QUIT :bye");
        feed(f, ":irc.test 433 careerbot_ careerbot :Nickname is already in use");
        feed(f, ":other!x@h NICK careerbot");
        feed(f, ":careerbot!x@h NICK other");
    }
    assert_int_equal(count_sent(f, "NICK"), 3);
    fake_free(f);
}

static void test_log_lines_are_cleaned(void **state)
{
    (void)state;
    irc_session_config c = default_config();
    fake *f = fake_new(&c);
    go_online(f);
    feed(f, "ERROR :Closing link \x1b[31mred\x1b[0m \x03" "4colour\x07 \xc2\x9b" "2J \xe2\x82\xac done");
    feed(f, ":op\x01!o@host KICK #careers careerbot :bye\x1b]0;title\x07");
    assert_true(f->n_logs >= 2);
    for (size_t i = 0; i < f->n_logs; i++)
        for (const unsigned char *p = (const unsigned char *)f->logs[i]; *p; p++) {
            assert_true(*p >= 0x20 && *p != 0x7f);
            assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
        }
    assert_logged(f, BASE_LOG_WARN, "Closing link ?[31mred", "\xe2\x82\xac done"); /* UTF-8 text stays */
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_sends_cap_nick_user),
        cmocka_unit_test(test_cap_ls_multiline_requests_only_offered_wanted_caps),
        cmocka_unit_test(test_sasl_plain_success),
        cmocka_unit_test(test_sasl_payload_chunks),
        cmocka_unit_test(test_sasl_failure_goes_on_when_not_required),
        cmocka_unit_test(test_sasl_failure_reconnects_when_required),
        cmocka_unit_test(test_sasl_timeout),
        cmocka_unit_test(test_sasl_not_offered),
        cmocka_unit_test(test_no_nickserv_after_sasl_login),
        cmocka_unit_test(test_welcome_joins_channels_with_keys),
        cmocka_unit_test(test_registration_timeout),
        cmocka_unit_test(test_isupport_bot_mode),
        cmocka_unit_test(test_nick_in_use_before_registration),
        cmocka_unit_test(test_nick_regain),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_lag_check),
        cmocka_unit_test(test_kick_rejoins_with_doubling_delay),
        cmocka_unit_test(test_ban_retries_later),
        cmocka_unit_test(test_invite),
        cmocka_unit_test(test_privmsg_hook),
        cmocka_unit_test(test_own_messages_after_nick_change),
        cmocka_unit_test(test_ctcp),
        cmocka_unit_test(test_ctcp_flood_is_limited),
        cmocka_unit_test(test_malformed_lines_are_ignored),
        cmocka_unit_test(test_relay_overhead),
        cmocka_unit_test(test_nick_equal_casemapping),
        cmocka_unit_test(test_quit_and_reconnect),
        cmocka_unit_test(test_server_error_is_logged),
        cmocka_unit_test(test_sasl_only_offered_mechanisms),
        cmocka_unit_test(test_sasl_external_with_client_certificate),
        cmocka_unit_test(test_sasl_908_moves_to_the_next_mechanism),
        cmocka_unit_test(test_sasl_scram_exchange),
        cmocka_unit_test(test_sasl_malformed_server_messages),
        cmocka_unit_test(test_sts),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_whox),
        cmocka_unit_test(test_runtime_join_part_ignore),
        cmocka_unit_test(test_invite_storm_after_kick),
        cmocka_unit_test(test_kick_warnings_are_rate_limited),
        cmocka_unit_test(test_nick_storm),
        cmocka_unit_test(test_log_lines_are_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
