/* The glue between one IRC connection and the bot: who gets an answer, how
 * answers are cut to fit the line limit, and how fast they go out. */
#include "irc/irc_network.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/ratelimit.h"
#include "base/strbuf.h"
#include "chat/gate.h"
#include "chat/split.h"
#include "irc/irc_message.h"
#include "net/line_conn.h"

#define BACKOFF_FIRST 2.0
#define STABLE_AFTER 60.0   /* a connection that lasted this long resets the backoff */

typedef struct out_line {
    struct out_line *next;
    size_t len;
    char text[];
} out_line;

struct irc_network {
    uv_loop_t *loop;
    irc_network_config cfg;
    core_bot *bot;
    irc_session *session;
    net_line_conn *conn;
    uv_timer_t tick;        /* once a second: session timeouts */
    uv_timer_t drain;       /* sends queued chat lines as the bucket allows */
    uv_timer_t reconnect;
    int timers_open;
    char who[80];           /* "irc.NAME" for log lines */
    out_line *head, *tail;  /* chat lines waiting for the flood bucket */
    size_t queued;
    base_bucket bucket;
    chat_gate *gate;        /* who gets an answer, within which limits */
    double backoff;
    double connected_at;
    double status_since;    /* for the status report: when it last registered or lost the connection */
    double last_heard;      /* and when the server last sent a line */
    int stopping;
    void (*done_cb)(void *ctx);
    void *done_ctx;
};

static double now_s(const irc_network *n)
{
    return (double)uv_now(n->loop) / 1000.0;
}

static void log_hook(void *ctx, int level, const char *text)
{
    irc_network *n = ctx;
    base_log(level, n->who, "%s", text);
}

/* ---- output --------------------------------------------------------------- */

static void send_now(void *ctx, const char *line)
{
    irc_network *n = ctx;
    if (net_line_conn_send(n->conn, line, strlen(line)) != 0)
        base_log(BASE_LOG_DEBUG, n->who, "not connected; a line was not sent");
}

/* Long lines cost more: servers count bytes as well as lines. */
static double line_cost(size_t len)
{
    return 1.0 + (len > 200 ? (double)(len - 200) / 300.0 : 0.0);
}

static void clear_queue(irc_network *n)
{
    while (n->head) {
        out_line *l = n->head;
        n->head = l->next;
        free(l);
    }
    n->tail = NULL;
    n->queued = 0;
}

static void on_drain(uv_timer_t *t);

/* Sends the queued lines the bucket allows, all in one write. */
static void drain(irc_network *n)
{
    base_strbuf batch = {0};
    while (n->head && net_line_conn_is_open(n->conn)) {
        if (n->cfg.flood_control) {
            double wait = base_bucket_take(&n->bucket, line_cost(n->head->len), now_s(n));
            if (wait > 0) {
                uv_timer_start(&n->drain, on_drain, (uint64_t)(wait * 1000) + 1, 0);
                break;
            }
        }
        out_line *l = n->head;
        n->head = l->next;
        if (!n->head)
            n->tail = NULL;
        n->queued--;
        base_strbuf_addn(&batch, l->text, l->len);
        base_strbuf_add(&batch, "\r\n");
        free(l);
    }
    if (batch.len > 0 && net_line_conn_write(n->conn, batch.data, batch.len) != 0)
        base_log(BASE_LOG_WARN, n->who, "could not send %zu bytes of replies", batch.len);
    if (batch.failed)
        base_log(BASE_LOG_ERROR, n->who, "out of memory sending replies");
    base_strbuf_free(&batch);
}

static void on_drain(uv_timer_t *t)
{
    drain(t->data);
}

static int enqueue(irc_network *n, const char *line, size_t len)
{
    if (n->queued >= n->cfg.queue_max) {
        if (chat_gate_dropped(n->gate))
            base_log(BASE_LOG_WARN, n->who, "output queue full (%zu lines): dropping replies until it drains",
                     n->cfg.queue_max);
        return -1;
    }
    size_t dropped = chat_gate_recovered(n->gate);
    if (dropped)
        base_log(BASE_LOG_WARN, n->who, "output queue draining again; %zu lines were dropped", dropped);
    out_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return -1;
    l->next = NULL;
    l->len = len;
    memcpy(l->text, line, len);
    l->text[len] = '\0';
    if (n->tail)
        n->tail->next = l;
    else
        n->head = l;
    n->tail = l;
    n->queued++;
    return 0;
}

typedef struct reply_ctx {
    irc_network *n;
    const char *verb;
    const char *target;
    const char *prefix; /* "nick: " for answers in a channel */
    int failed;
} reply_ctx;

static int queue_line(void *ctx, const char *text, size_t len)
{
    reply_ctx *r = ctx;
    char body[1024], line[IRC_FORMAT_MAX];
    snprintf(body, sizeof body, "%s%.*s", r->prefix, (int)len, text);
    int rc = irc_format_command(line, sizeof line, r->verb, (const char *[]){r->target, body}, 2);
    if (rc < 0 || enqueue(r->n, line, (size_t)rc) != 0) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

/* Cuts text to lines that stay under 512 bytes as the server relays them. */
static int send_reply(irc_network *n, const char *verb, const char *target, const char *prefix, const char *text)
{
    size_t overhead = irc_session_relay_overhead(n->session, target, verb) + strlen(prefix);
    size_t max = overhead < 512 - 64 ? 512 - overhead : 64;
    reply_ctx r = {n, verb, target, prefix, 0};
    chat_split_lines(text, strlen(text), max, queue_line, &r);
    drain(n);
    return r.failed ? -1 : 0;
}

/* ---- input --------------------------------------------------------------- */

static int in_list(const irc_network *n, char **items, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (irc_session_name_equal(n->session, items[i], name))
            return 1;
    return 0;
}

/* The gate decides; this only turns IRC into facts and the decision back
 * into PRIVMSG and NOTICE lines. */
static void on_privmsg(void *ctx, const irc_privmsg *pm)
{
    irc_network *n = ctx;
    const char *names[] = {irc_session_nick(n->session)};
    chat_message m = {
        .room = pm->direct ? pm->from : pm->target, /* each person in each channel is a conversation */
        .sender = pm->from,
        .text = pm->text,
        .len = strlen(pm->text),
        .direct = pm->direct,
        .from_bot = pm->from_bot,
        .listen = !pm->direct && in_list(n, n->cfg.listen, n->cfg.n_listen, pm->target),
        .unknown_commands = !pm->direct && in_list(n, n->cfg.answer_unknown_commands,
                                                   n->cfg.n_answer_unknown_commands, pm->target),
        .names = names,
        .n_names = 1,
        .queue_used = n->queued,
        .queue_max = n->cfg.queue_max,
        .now = now_s(n),
    };
    chat_decision d;
    if (chat_gate_decide(n->gate, &m, &d) != BASE_OK)
        base_log(BASE_LOG_ERROR, n->who, "out of memory answering %s", pm->from);
    if (d.action == CHAT_ANSWER && pm->direct) {
        send_reply(n, "PRIVMSG", pm->from, "", d.text);
    } else if (d.action == CHAT_ANSWER) {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s: ", pm->from);
        send_reply(n, "PRIVMSG", pm->target, prefix, d.text);
    } else if (d.via != CHAT_VIA_NONE && d.via != CHAT_VIA_LISTEN) {
        /* Someone asked and gets no answer: the operator should see why. */
        base_log(BASE_LOG_INFO, n->who, "not answering %s: %s", pm->from, d.why);
        if (d.action == CHAT_BUSY)
            send_reply(n, "NOTICE", pm->from, "", d.text);
    }
    chat_decision_clear(&d);
}

/* ---- connection lifecycle --------------------------------------------------- */

static void connect_now(irc_network *n);

static void on_reconnect_timer(uv_timer_t *t)
{
    connect_now(t->data);
}

static void schedule_reconnect(irc_network *n)
{
    /* Exponential backoff with jitter, so many bots do not return in step. */
    double delay = n->backoff * (0.75 + 0.5 * ((double)rand() / RAND_MAX));
    n->backoff = n->backoff * 2 > n->cfg.reconnect_max ? n->cfg.reconnect_max : n->backoff * 2;
    base_log(BASE_LOG_INFO, n->who, "reconnecting in %.1f s", delay);
    uv_timer_start(&n->reconnect, on_reconnect_timer, (uint64_t)(delay * 1000), 0);
}

static void on_connected(void *ctx)
{
    irc_network *n = ctx;
    n->connected_at = now_s(n);
    base_log(BASE_LOG_INFO, n->who, "connected to %s:%d%s", n->cfg.host, n->cfg.port, n->cfg.tls ? " (TLS)" : "");
    base_bucket_init(&n->bucket, n->cfg.flood_burst, n->cfg.flood_rate, now_s(n));
    irc_session_connected(n->session, now_s(n));
}

static void on_line(void *ctx, const char *line, size_t len)
{
    irc_network *n = ctx;
    n->last_heard = now_s(n);
    irc_session_line(n->session, line, len, now_s(n));
}

static void on_closed(void *ctx, const char *reason)
{
    irc_network *n = ctx;
    base_log(n->stopping ? BASE_LOG_INFO : BASE_LOG_WARN, n->who, "disconnected: %s", reason);
    n->status_since = now_s(n);
    irc_session_disconnected(n->session);
    if (n->queued)
        base_log(BASE_LOG_INFO, n->who, "dropping %zu unsent lines", n->queued);
    clear_queue(n);
    if (n->stopping) {
        if (n->done_cb) {
            void (*cb)(void *) = n->done_cb;
            n->done_cb = NULL;
            cb(n->done_ctx);
        }
        return;
    }
    if (n->connected_at > 0 && now_s(n) - n->connected_at > STABLE_AFTER)
        n->backoff = BACKOFF_FIRST;
    n->connected_at = 0;
    schedule_reconnect(n);
}

static void connect_now(irc_network *n)
{
    if (n->stopping)
        return;
    net_tls_options tls = {
        .server_name = n->cfg.host,
        .verify = n->cfg.tls_verify,
        .ca_file = n->cfg.tls_ca_file,
        .pin_sha256 = n->cfg.tls_fingerprint,
    };
    base_log(BASE_LOG_INFO, n->who, "connecting to %s:%d", n->cfg.host, n->cfg.port);
    if (net_line_conn_open(n->conn, n->cfg.host, n->cfg.port, n->cfg.tls ? &tls : NULL, n->cfg.connect_timeout) != 0)
        schedule_reconnect(n);
}

static void on_reconnect_request(void *ctx, const char *reason)
{
    irc_network *n = ctx;
    net_line_conn_close(n->conn, 0, reason);
}

static void on_registered(void *ctx)
{
    irc_network *n = ctx;
    n->status_since = now_s(n);
    chat_gate_set_casemap(n->gate, irc_session_casemap(n->session));
    drain(n);
}

static void on_tick(uv_timer_t *t)
{
    irc_network *n = t->data;
    irc_session_tick(n->session, now_s(n));
}

irc_network *irc_network_new(uv_loop_t *loop, irc_network_config *config, core_bot *bot)
{
    irc_network *n = calloc(1, sizeof *n);
    if (!n) {
        irc_network_config_free(config);
        return NULL;
    }
    static int seeded;
    if (!seeded) {
        /* rand() drives the reconnect jitter: unseeded, every process would draw the
         * same delays and bots restarted together would reconnect in step. */
        srand((unsigned)(uv_hrtime() ^ (uint64_t)(uintptr_t)n));
        seeded = 1;
    }
    n->loop = loop;
    n->cfg = *config;
    memset(config, 0, sizeof *config);
    n->bot = bot;
    n->backoff = BACKOFF_FIRST;
    snprintf(n->who, sizeof n->who, "irc.%s", n->cfg.name);
    irc_session_config sc = {
        .nick = n->cfg.nick,
        .alt_nicks = (const char *const *)n->cfg.alt_nicks,
        .n_alt_nicks = n->cfg.n_alt_nicks,
        .username = n->cfg.username,
        .realname = n->cfg.realname ? n->cfg.realname : core_bot_kb(bot)->texts.tagline,
        .password = n->cfg.password,
        .sasl_user = n->cfg.sasl_user,
        .sasl_password = n->cfg.sasl_password,
        .sasl_required = n->cfg.sasl_required,
        .nickserv_password = n->cfg.nickserv_password,
        .channels = n->cfg.channels,
        .n_channels = n->cfg.n_channels,
        .ignore = (const char *const *)n->cfg.ignore,
        .n_ignore = n->cfg.n_ignore,
        .regain_interval = n->cfg.regain_interval,
        .version = "careerbot " CAREERBOT_VERSION,
        .ping_after = n->cfg.ping_after,
        .ping_timeout = n->cfg.ping_timeout,
    };
    irc_session_hooks sh = {n, send_now, on_privmsg, log_hook, on_reconnect_request, on_registered};
    net_line_conn_hooks ch = {n, on_connected, on_line, on_closed, log_hook};
    n->session = irc_session_new(&sc, &sh);
    n->conn = net_line_conn_new(loop, &ch, IRC_LINE_MAX);
    chat_gate_config gc = {
        .network = n->cfg.name,
        .command_prefixes = n->cfg.command_prefixes,
        .listen_min_score = n->cfg.listen_min_score,
        .limits = n->cfg.flood_control, /* flood_control = no lifts every limit */
        .user_burst = n->cfg.user_burst,
        .user_rate = n->cfg.user_rate,
        .room_burst = n->cfg.room_burst,
        .room_rate = n->cfg.room_rate,
        .ignore = (const char *const *)n->cfg.ignore,
        .n_ignore = n->cfg.n_ignore,
        .casemap = CHAT_CASE_RFC1459,
    };
    n->gate = chat_gate_new(bot, &gc);
    if (!n->session || !n->conn || !n->gate) {
        irc_network_free(n);
        return NULL;
    }
    uv_timer_init(loop, &n->tick);
    uv_timer_init(loop, &n->drain);
    uv_timer_init(loop, &n->reconnect);
    n->tick.data = n->drain.data = n->reconnect.data = n;
    n->timers_open = 1;
    return n;
}

void irc_network_start(irc_network *n)
{
    n->status_since = now_s(n);
    uv_timer_start(&n->tick, on_tick, 1000, 1000);
    connect_now(n);
}

void irc_network_stop(irc_network *n, const char *message, void (*done_cb)(void *ctx), void *ctx)
{
    n->stopping = 1;
    n->done_cb = done_cb;
    n->done_ctx = ctx;
    uv_timer_stop(&n->tick);
    uv_timer_stop(&n->drain);
    uv_timer_stop(&n->reconnect);
    if (!net_line_conn_is_open(n->conn)) {
        net_line_conn_close(n->conn, 0, "shutting down"); /* no-op when idle */
        if (n->done_cb) {
            n->done_cb = NULL;
            done_cb(ctx);
        }
        return;
    }
    irc_session_quit(n->session, message);
    net_line_conn_close(n->conn, 1, "quit");
}

void irc_network_status(const irc_network *n, chat_status *out)
{
    memset(out, 0, sizeof *out);
    int open = net_line_conn_is_open(n->conn);
    out->kind = "irc";
    out->name = n->cfg.name;
    out->connected = open && irc_session_is_registered(n->session);
    out->state = n->stopping ? "stopping" : out->connected ? "online" : open ? "registering" : "connecting";
    out->since = n->status_since;
    out->lag = irc_session_lag(n->session);
    out->last_heard = n->last_heard;
    out->rooms = irc_session_joined(n->session);
    out->rooms_wanted = n->cfg.n_channels;
    out->queued = n->queued;
    out->queue_max = n->cfg.queue_max;
    chat_gate_get_counts(n->gate, &out->counts);
}

static void on_timer_closed(uv_handle_t *h)
{
    irc_network *n = h->data;
    if (--n->timers_open == 0)
        free(n);
}

void irc_network_free(irc_network *n)
{
    if (!n)
        return;
    clear_queue(n);
    net_line_conn_free(n->conn);
    irc_session_free(n->session);
    chat_gate_free(n->gate);
    irc_network_config_free(&n->cfg);
    if (!n->timers_open) {
        free(n);
        return;
    }
    n->timers_open = 3; /* freed when the last timer is closed */
    uv_close((uv_handle_t *)&n->tick, on_timer_closed);
    uv_close((uv_handle_t *)&n->drain, on_timer_closed);
    uv_close((uv_handle_t *)&n->reconnect, on_timer_closed);
}
