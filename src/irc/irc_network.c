/* The glue between one IRC connection and the bot: who gets an answer, how
 * answers are cut to fit the line limit, and how fast they go out. */
#include "irc/irc_network.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "base/ratelimit.h"
#include "base/strbuf.h"
#include "chat/gate.h"
#include "chat/operator.h"
#include "chat/runtime_state.h"
#include "chat/split.h"
#include "base/str.h"
#include "irc/irc_message.h"
#include "irc/irc_sts.h"
#include "net/line_conn.h"

#define BACKOFF_FIRST 2.0
#define STABLE_AFTER 60.0   /* a connection that lasted this long resets the backoff */
#define CONTROL_MAX 64      /* the session's own lines waiting for the bucket, at most */
/* The second and later lines of an answer leave this many tokens in the
 * bucket: the burst is kept for the first lines of people who are asking at
 * the same moment, so that each of them hears something at once. */
#define CONTINUATION_RESERVE 3.0
#define MAX_KEY_FILE (64 * 1024)
#define STS_FILE "irc-sts"
#define WHOX_WAIT 5.0       /* seconds an operator command waits for the server to say who sent it */
#define WHOX_PENDING 8      /* operator commands waiting so, at most */

/* A direct message that looks like an operator command from someone whose
 * account is not known yet: held until the WHOX answer (or WHOX_WAIT). */
typedef struct held_command {
    char *nick, *text;
    double deadline;
} held_command;

typedef struct out_line {
    struct out_line *next;
    size_t len;
    int first;        /* the first line of an answer */
    char text[];
} out_line;

/* The lines of one asker's replies to one target. Streams take turns, one
 * line each, so that ten people asking at once each get their first line
 * early instead of waiting for everyone before them to get whole answers. */
typedef struct stream {
    struct stream *next; /* the next stream in turn */
    out_line *head, *tail;
    char key[];          /* target, a space, the asker */
} stream;

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
    stream *turn_head, *turn_tail; /* streams with chat lines waiting, in turn */
    size_t queued;          /* chat lines in all streams */
    out_line *ctl_head, *ctl_tail; /* the session's own lines, ahead of chat lines */
    size_t ctl_queued;
    int ctl_dropping;       /* the control queue was full: said once */
    char pong[IRC_FORMAT_MAX]; /* the newest PONG not yet sent ("" none): older ones are moot */
    base_bucket bucket;     /* the one flood bucket for every line after registration */
    irc_sasl_mech mechs[IRC_SASL_N_MECHS];
    size_t n_mechs;
    char *ecdsa_key_pem;    /* the sasl_ecdsa_key file's text (a secret) */
    int use_tls, use_port;  /* what the next connection uses: the config, or an STS upgrade */
    int sts_reconnect;      /* the connection closes for an STS upgrade: reconnect at once */
    char *sts_path;         /* the STS policy file, NULL without a state directory */
    chat_gate *gate;        /* who gets an answer, within which limits */
    chat_runtime runtime;   /* operators' joins, parts and ignores */
    char runtime_file[128]; /* its name in cfg.state_dir */
    chat_op_hooks op_hooks; /* !status and !reload, from the application */
    held_command held[WHOX_PENDING];
    int accounts_checked;   /* this connection was checked for account information */
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

/* A log line that holds text from the server: control bytes cleaned first. */
static void logc(irc_network *n, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logc(irc_network *n, int level, const char *fmt, ...)
{
    char text[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    irc_clean_log_text(text);
    base_log(level, n->who, "%s", text);
}

/* ---- output --------------------------------------------------------------- */

static void drain(irc_network *n);

static out_line *line_new(const char *text, size_t len)
{
    out_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return NULL;
    l->next = NULL;
    l->len = len;
    l->first = 0;
    memcpy(l->text, text, len);
    l->text[len] = '\0';
    return l;
}

static void write_line_now(irc_network *n, const char *line)
{
    if (net_line_conn_send(n->conn, line, strlen(line)) != 0)
        base_log(BASE_LOG_DEBUG, n->who, "not connected; a line was not sent");
}

/* The session's own lines. Before registration, and always for QUIT, they go
 * out at once (registration is short and bounded; a server flooding PINGs then
 * meets line_conn's write limit). After it they share the flood bucket with the
 * chat lines, ahead of them; only the newest PONG is kept, and at most
 * CONTROL_MAX lines wait. */
static void send_now(void *ctx, const char *line)
{
    irc_network *n = ctx;
    if (!n->cfg.flood_control || !irc_session_is_registered(n->session) || strncmp(line, "QUIT", 4) == 0) {
        write_line_now(n, line);
        return;
    }
    if (strncmp(line, "PONG ", 5) == 0) {
        snprintf(n->pong, sizeof n->pong, "%s", line);
    } else if (n->ctl_queued >= CONTROL_MAX) {
        if (!n->ctl_dropping)
            base_log(BASE_LOG_WARN, n->who, "%d protocol lines are waiting to be sent: dropping more until they go",
                     CONTROL_MAX);
        n->ctl_dropping = 1;
        return;
    } else {
        out_line *l = line_new(line, strlen(line));
        if (!l)
            return;
        if (n->ctl_tail)
            n->ctl_tail->next = l;
        else
            n->ctl_head = l;
        n->ctl_tail = l;
        n->ctl_queued++;
    }
    drain(n);
}

/* Every line costs one token, whatever its length (at most 512 bytes): servers
 * pace clients by lines, and ten people asking at once then each get their
 * first line within the burst plus six seconds. */
static double line_cost(size_t len)
{
    (void)len;
    return 1.0;
}

static void free_lines(out_line *l)
{
    while (l) {
        out_line *next = l->next;
        free(l);
        l = next;
    }
}

static void clear_queue(irc_network *n)
{
    while (n->turn_head) {
        stream *st = n->turn_head;
        n->turn_head = st->next;
        free_lines(st->head);
        free(st);
    }
    n->turn_tail = NULL;
    n->queued = 0;
    free_lines(n->ctl_head);
    n->ctl_head = n->ctl_tail = NULL;
    n->ctl_queued = 0;
    n->ctl_dropping = 0;
    n->pong[0] = '\0';
}

/* The next line to send, without taking it: the PONG, the session's lines,
 * then the first line of the earliest answer in turn that has not begun, and
 * otherwise the stream whose turn it is. *pick is the chat stream (NULL for
 * the PONG and the session's lines), *prev the one before it in turn. */
static const out_line *peek_line(const irc_network *n, stream **pick, stream **prev)
{
    *pick = *prev = NULL;
    if (n->ctl_head)
        return n->ctl_head;
    stream *before = NULL;
    for (stream *st = n->turn_head; st; before = st, st = st->next)
        if (st->head->first) {
            *pick = st;
            *prev = before;
            return st->head;
        }
    *pick = n->turn_head;
    return n->turn_head ? n->turn_head->head : NULL;
}

/* Takes the line peek_line chose; a chat stream with more lines goes to the
 * back of the turn. The caller frees the line. */
static out_line *take_line(irc_network *n, stream *st, stream *prev)
{
    if (!st) {
        out_line *l = n->ctl_head;
        n->ctl_head = l->next;
        if (!n->ctl_head)
            n->ctl_tail = NULL;
        n->ctl_queued--;
        n->ctl_dropping = 0;
        return l;
    }
    out_line *l = st->head;
    st->head = l->next;
    if (!st->head)
        st->tail = NULL;
    /* out of the turn ... */
    if (prev)
        prev->next = st->next;
    else
        n->turn_head = st->next;
    if (n->turn_tail == st)
        n->turn_tail = prev;
    n->queued--;
    /* ... and to its back while it has lines */
    if (st->head) {
        st->next = NULL;
        if (n->turn_tail)
            n->turn_tail->next = st;
        else
            n->turn_head = st;
        n->turn_tail = st;
    } else {
        free(st);
    }
    return l;
}

static void on_drain(uv_timer_t *t);

/* Takes a line's cost from the bucket, or returns the seconds to wait. A
 * later line of an answer must leave CONTINUATION_RESERVE tokens behind. */
static double take_tokens(irc_network *n, size_t len, int continuation)
{
    double reserve = continuation ? CONTINUATION_RESERVE : 0;
    if (reserve > n->cfg.flood_burst - 1)
        reserve = n->cfg.flood_burst - 1;
    double wait = base_bucket_take(&n->bucket, line_cost(len) + reserve, now_s(n));
    if (wait == 0)
        n->bucket.tokens += reserve; /* only the line's own cost is spent */
    return wait;
}

/* Sends the queued lines the bucket allows, all in one write: the newest
 * PONG first, then the session's own lines, then the answers in turn. */
static void drain(irc_network *n)
{
    base_strbuf batch = {0};
    if (n->pong[0] && net_line_conn_is_open(n->conn) &&
        (!n->cfg.flood_control || take_tokens(n, strlen(n->pong), 0) == 0)) {
        base_strbuf_add(&batch, n->pong);
        base_strbuf_add(&batch, "\r\n");
        n->pong[0] = '\0';
    }
    const out_line *next;
    stream *st, *prev;
    while (!n->pong[0] && (next = peek_line(n, &st, &prev)) && net_line_conn_is_open(n->conn)) {
        if (n->cfg.flood_control) {
            double wait = take_tokens(n, next->len, st && !next->first);
            if (wait > 0) {
                uv_timer_start(&n->drain, on_drain, (uint64_t)(wait * 1000) + 1, 0);
                break;
            }
        }
        base_strbuf_addn(&batch, next->text, next->len);
        base_strbuf_add(&batch, "\r\n");
        free(take_line(n, st, prev));
    }
    if (n->pong[0] && n->cfg.flood_control) /* waiting for a token */
        uv_timer_start(&n->drain, on_drain, 1000 / (n->cfg.flood_rate > 0 ? n->cfg.flood_rate : 1) + 1, 0);
    if (batch.len > 0 && net_line_conn_write(n->conn, batch.data, batch.len) != 0)
        base_log(BASE_LOG_WARN, n->who, "could not send %zu bytes", batch.len);
    if (batch.failed)
        base_log(BASE_LOG_ERROR, n->who, "out of memory sending replies");
    base_strbuf_free(&batch);
}

static void on_drain(uv_timer_t *t)
{
    drain(t->data);
}

/* Adds a chat line to the stream of key (made when there is none). */
static int enqueue(irc_network *n, const char *key, const char *line, size_t len, int first)
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
    stream *st = n->turn_head;
    while (st && strcmp(st->key, key) != 0)
        st = st->next;
    out_line *l = line_new(line, len);
    if (!l)
        return -1;
    l->first = first;
    if (!st) {
        size_t klen = strlen(key);
        if (!(st = calloc(1, sizeof *st + klen + 1))) {
            free(l);
            return -1;
        }
        memcpy(st->key, key, klen + 1);
        if (n->turn_tail)
            n->turn_tail->next = st;
        else
            n->turn_head = st;
        n->turn_tail = st;
    }
    if (st->tail)
        st->tail->next = l;
    else
        st->head = l;
    st->tail = l;
    n->queued++;
    return 0;
}

typedef struct reply_ctx {
    irc_network *n;
    const char *verb;
    const char *target;
    const char *prefix; /* "nick: " for answers in a channel */
    char key[160];      /* the stream: target and asker */
    int lines;          /* queued so far */
    int failed;
} reply_ctx;

static int queue_line(void *ctx, const char *text, size_t len)
{
    reply_ctx *r = ctx;
    char body[1024], line[IRC_FORMAT_MAX];
    snprintf(body, sizeof body, "%s%.*s", r->prefix, (int)len, text);
    int rc = irc_format_command(line, sizeof line, r->verb, (const char *[]){r->target, body}, 2);
    if (rc < 0 || enqueue(r->n, r->key, line, (size_t)rc, r->lines++ == 0) != 0) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

/* Cuts text to lines that stay under 512 bytes as the server relays them,
 * queued in the stream of (target, asker). */
static int send_reply(irc_network *n, const char *verb, const char *target, const char *asker, const char *prefix,
                      const char *text)
{
    size_t overhead = irc_session_relay_overhead(n->session, target, verb) + strlen(prefix);
    size_t max = overhead < 512 - 64 ? 512 - overhead : 64;
    reply_ctx r = {n, verb, target, prefix, "", 0, 0};
    snprintf(r.key, sizeof r.key, "%s %s", target, asker);
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
static void answer(irc_network *n, const irc_privmsg *pm, int admin_help /* an admin's !help: add ours */)
{
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
    if (pm->account)
        logc(n, BASE_LOG_DEBUG, "message from %s (account %s) to %s", pm->from, pm->account, pm->target);
    if (d.action == CHAT_ANSWER && admin_help) {
        base_strbuf text = {0};
        base_strbuf_add(&text, d.text);
        base_strbuf_add(&text, "\n");
        chat_op_help(n->cfg.command_prefixes[0], CHAT_OP_IRC, &text);
        if (!text.failed)
            send_reply(n, "PRIVMSG", pm->from, pm->from, "", text.data);
        base_strbuf_free(&text);
    } else if (d.action == CHAT_ANSWER && pm->direct) {
        send_reply(n, "PRIVMSG", pm->from, pm->from, "", d.text);
    } else if (d.action == CHAT_ANSWER) {
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s: ", pm->from);
        send_reply(n, "PRIVMSG", pm->target, pm->from, prefix, d.text);
    } else if (d.via != CHAT_VIA_NONE && d.via != CHAT_VIA_LISTEN) {
        /* Someone asked and gets no answer: the operator should see why. */
        logc(n, BASE_LOG_INFO, "not answering %s%s%s%s: %s", pm->from, pm->account ? " (account " : "",
             pm->account ? pm->account : "", pm->account ? ")" : "", d.why);
        if (d.action == CHAT_BUSY)
            send_reply(n, "NOTICE", pm->from, pm->from, "", d.text);
    }
    chat_decision_clear(&d);
}

/* ---- operator commands ----------------------------------------------------- */

static void op_reply(irc_network *n, const char *nick, const char *text)
{
    send_reply(n, "PRIVMSG", nick, nick, "", text);
}

static void save_runtime(irc_network *n, const char *nick)
{
    base_error err;
    if (!n->cfg.state_dir) {
        base_log(BASE_LOG_WARN, n->who, "no state_dir: this change lasts until careerbot stops");
        return;
    }
    if (chat_runtime_save(&n->runtime, n->cfg.state_dir, n->runtime_file, &err) != BASE_OK) {
        base_log(BASE_LOG_ERROR, n->who, "cannot keep the operators' changes: %s", err.text);
        op_reply(n, nick, "Done, but it could not be saved for the next start (see the log).");
    }
}

/* The ignore list in force goes to the gate and to the session (CTCP). */
static int apply_ignores(irc_network *n)
{
    const char **list = malloc((n->cfg.n_ignore + n->runtime.n_ignored + 1) * sizeof *list);
    if (!list)
        return -1;
    size_t count = chat_runtime_ignores(&n->runtime, (const char *const *)n->cfg.ignore, n->cfg.n_ignore, list);
    int rc = chat_gate_set_ignore(n->gate, list, count) == BASE_OK &&
                     irc_session_set_ignore(n->session, list, count) == 0
                 ? 0
                 : -1;
    free(list);
    return rc;
}

static int configured_channel(const irc_network *n, const char *name)
{
    for (size_t i = 0; i < n->cfg.n_channels; i++)
        if (irc_session_name_equal(n->session, n->cfg.channels[i].name, name))
            return 1;
    return 0;
}

static void op_ignore(irc_network *n, const char *nick, const chat_op *op)
{
    int configured = in_list(n, n->cfg.ignore, n->cfg.n_ignore, op->target);
    int rc = op->kind == CHAT_OP_IGNORE ? chat_runtime_ignore(&n->runtime, op->target, configured)
                                        : chat_runtime_unignore(&n->runtime, op->target, configured);
    if (rc != BASE_OK || apply_ignores(n) != 0) {
        op_reply(n, nick, "Cannot: out of memory, or too many runtime changes.");
        return;
    }
    save_runtime(n, nick);
    char text[CHAT_OP_NAME_MAX + 64];
    snprintf(text, sizeof text, op->kind == CHAT_OP_IGNORE ? "Ignoring %s." : "No longer ignoring %s.", op->target);
    op_reply(n, nick, text);
}

static void op_join_part(irc_network *n, const char *nick, const chat_op *op)
{
    char text[CHAT_OP_NAME_MAX + 64];
    int configured = configured_channel(n, op->target);
    if (op->kind == CHAT_OP_JOIN) {
        if (irc_session_join(n->session, op->target, op->key) != 0 ||
            chat_runtime_join(&n->runtime, op->target, op->key, configured) != BASE_OK) {
            op_reply(n, nick, "Cannot: too many channels, or out of memory.");
            return;
        }
        snprintf(text, sizeof text, "Joining %s.", op->target);
    } else {
        if (irc_session_part(n->session, op->target, "asked to leave") != 0) {
            snprintf(text, sizeof text, "I am not in %s.", op->target);
            op_reply(n, nick, text);
            return;
        }
        if (chat_runtime_part(&n->runtime, op->target, configured) != BASE_OK) {
            op_reply(n, nick, "Left, but cannot remember it: too many runtime changes.");
            return;
        }
        snprintf(text, sizeof text, "Left %s.", op->target);
    }
    save_runtime(n, nick);
    op_reply(n, nick, text);
}

/* An admin's command, logged at notice level (never a channel key). */
static void run_op(irc_network *n, const irc_privmsg *pm, const char *account, const chat_op *op)
{
    logc(n, BASE_LOG_NOTICE, "operator command from %s (account %s): %s%s%s%s", pm->from, account,
         chat_op_name(op->kind), op->target[0] ? " " : "", op->target, op->error ? " (refused: bad arguments)" : "");
    if (op->error) {
        op_reply(n, pm->from, op->error);
        return;
    }
    base_strbuf out = {0};
    char text[CHAT_OP_NAME_MAX + 64];
    switch (op->kind) {
    case CHAT_OP_JOIN:
    case CHAT_OP_PART:
        op_join_part(n, pm->from, op);
        break;
    case CHAT_OP_IGNORE:
    case CHAT_OP_UNIGNORE:
        op_ignore(n, pm->from, op);
        break;
    case CHAT_OP_SAY:
        if (!irc_session_in_channel(n->session, op->target)) {
            snprintf(text, sizeof text, "I am not in %s.", op->target);
            op_reply(n, pm->from, text);
        } else if (send_reply(n, "PRIVMSG", op->target, pm->from, "", op->text) != 0) {
            op_reply(n, pm->from, "Cannot: the output queue is full.");
        }
        break;
    case CHAT_OP_STATUS:
    case CHAT_OP_RELOAD:
        if (op->kind == CHAT_OP_STATUS ? !n->op_hooks.status : !n->op_hooks.reload) {
            op_reply(n, pm->from, "Not available here.");
            break;
        }
        if (op->kind == CHAT_OP_STATUS)
            n->op_hooks.status(n->op_hooks.ctx, &out);
        else
            n->op_hooks.reload(n->op_hooks.ctx, &out);
        op_reply(n, pm->from, out.failed || !out.data ? "out of memory" : out.data);
        break;
    case CHAT_OP_HELP:
        answer(n, pm, 1);
        break;
    default:
        break;
    }
    base_strbuf_free(&out);
}

/* A direct message that may be an admin's command: carried out when the
 * account is an admin's; otherwise it goes to the gate like any other. */
static void decide(irc_network *n, const irc_privmsg *pm, const char *account)
{
    chat_op op;
    if (pm->direct && !pm->from_bot &&
        chat_op_parse(pm->text, strlen(pm->text), n->cfg.command_prefixes, CHAT_OP_IRC, &op) != CHAT_OP_NONE &&
        chat_op_is_admin((const char *const *)n->cfg.admins, n->cfg.n_admins, account, 1,
                         irc_session_casemap(n->session), 0)) {
        run_op(n, pm, account, &op);
        return;
    }
    answer(n, pm, 0);
}

static void release_held(held_command *h)
{
    free(h->nick);
    free(h->text);
    memset(h, 0, sizeof *h);
}

/* The account of a held command's sender is known (or known to be none). */
static void run_held(irc_network *n, held_command *h, const char *account)
{
    irc_privmsg pm = {.from = h->nick, .from_mask = h->nick, .target = irc_session_nick(n->session), .direct = 1,
                      .account = account, .text = h->text};
    decide(n, &pm, account);
    release_held(h);
}

static void on_whox(void *ctx, const char *nick, const char *account, int end)
{
    irc_network *n = ctx;
    for (size_t i = 0; i < WHOX_PENDING; i++)
        if (n->held[i].nick && irc_session_name_equal(n->session, n->held[i].nick, nick))
            run_held(n, &n->held[i], end ? NULL : account);
}

static void expire_held(irc_network *n, double now, int all)
{
    for (size_t i = 0; i < WHOX_PENDING; i++)
        if (n->held[i].nick && (all || now >= n->held[i].deadline)) {
            if (!all)
                logc(n, BASE_LOG_INFO, "no account information for %s in %.0f s: not an admin", n->held[i].nick,
                     WHOX_WAIT);
            run_held(n, &n->held[i], NULL);
        }
}

/* Without account-tag the account may be unknown: ask the server (WHOX)
 * and hold the command until it answers. Returns 1 when held. */
static int hold_for_whox(irc_network *n, const irc_privmsg *pm)
{
    chat_op op;
    if (!pm->direct || pm->account || pm->from_bot || !n->cfg.n_admins ||
        irc_session_has_account_tag(n->session) || !irc_session_has_whox(n->session) ||
        chat_op_parse(pm->text, strlen(pm->text), n->cfg.command_prefixes, CHAT_OP_IRC, &op) == CHAT_OP_NONE)
        return 0;
    for (size_t i = 0; i < WHOX_PENDING; i++) {
        held_command *h = &n->held[i];
        if (h->nick)
            continue;
        h->nick = base_strdup(pm->from);
        h->text = base_strdup(pm->text);
        h->deadline = now_s(n) + WHOX_WAIT;
        if (!h->nick || !h->text || irc_session_who_account(n->session, pm->from) != 0) {
            release_held(h);
            return 0;
        }
        logc(n, BASE_LOG_DEBUG, "asking the server who %s is (WHOX) before reading their command", pm->from);
        return 1;
    }
    return 0; /* too many waiting: this one is nobody's */
}

static void on_privmsg(void *ctx, const irc_privmsg *pm)
{
    irc_network *n = ctx;
    if (!hold_for_whox(n, pm))
        decide(n, pm, pm->account);
}

/* Once per connection, a few seconds in (ISUPPORT comes after 001): the
 * casemap for the runtime names, and a warning when admins are named but
 * nothing can prove an account here. */
static void check_account_info(irc_network *n)
{
    if (n->accounts_checked || !irc_session_is_registered(n->session) || now_s(n) - n->status_since < 3)
        return;
    n->accounts_checked = 1;
    n->runtime.casemap = irc_session_casemap(n->session); /* names compare as the server says from now on */
    if (n->cfg.n_admins && !irc_session_has_account_tag(n->session) && !irc_session_has_whox(n->session))
        base_log(BASE_LOG_WARN, n->who,
                 "admins is set, but this server tells no accounts (no account-tag, no WHOX): nobody can give "
                 "operator commands here");
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
    base_log(BASE_LOG_INFO, n->who, "connected to %s:%d%s", n->cfg.host, n->use_port, n->use_tls ? " (TLS)" : "");
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
    n->accounts_checked = 0;
    expire_held(n, now_s(n), 1);
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
    if (n->sts_reconnect) { /* the server asked for TLS: at once, and no backoff for it */
        n->sts_reconnect = 0;
        uv_timer_start(&n->reconnect, on_reconnect_timer, 0, 0);
        return;
    }
    schedule_reconnect(n);
}

/* A live STS policy in the state directory makes a plaintext network use TLS
 * on the policy's port; never the other way round. */
static void apply_sts_policy(irc_network *n)
{
    if (n->use_tls || n->cfg.ignore_sts || !n->sts_path)
        return;
    int port = 0;
    base_error err;
    int rc = irc_sts_store_lookup(n->sts_path, n->cfg.host, (double)time(NULL), &port, &err);
    if (rc < 0) {
        base_log(BASE_LOG_WARN, n->who, "STS policies: %s", err.text);
    } else if (rc == 1) {
        base_log(BASE_LOG_INFO, n->who, "%s has an STS policy: connecting with TLS to port %d", n->cfg.host, port);
        n->use_tls = 1;
        n->use_port = port;
    }
}

static void connect_now(irc_network *n)
{
    if (n->stopping)
        return;
    apply_sts_policy(n);
    net_tls_options tls = {
        .server_name = n->cfg.host,
        .verify = n->cfg.tls_verify,
        .ca_file = n->cfg.tls_ca_file,
        .pin_sha256 = n->cfg.tls_fingerprint,
        .cert_file = n->cfg.tls_cert,
        .key_file = n->cfg.tls_key,
    };
    irc_session_set_tls(n->session, n->use_tls);
    base_log(BASE_LOG_INFO, n->who, "connecting to %s:%d", n->cfg.host, n->use_port);
    if (net_line_conn_open(n->conn, n->cfg.host, n->use_port, n->use_tls ? &tls : NULL, n->cfg.connect_timeout) != 0)
        schedule_reconnect(n);
}

static void on_reconnect_request(void *ctx, const char *reason)
{
    irc_network *n = ctx;
    net_line_conn_close(n->conn, 1, reason); /* graceful: a QUIT the session sent still goes out */
}

static void on_sts_upgrade(void *ctx, int port)
{
    irc_network *n = ctx;
    n->use_tls = 1;
    n->use_port = port;
    n->sts_reconnect = 1;
    net_line_conn_close(n->conn, 0, "moving to TLS (STS)");
}

static void on_sts_persist(void *ctx, long long duration)
{
    irc_network *n = ctx;
    double now = (double)time(NULL);
    if (!n->sts_path) {
        if (duration > 0)
            base_log(BASE_LOG_INFO, n->who, "STS policy for %s (%lld s) kept while the bot runs: no state_dir to "
                     "keep it in", n->cfg.host, duration);
        return;
    }
    base_error err;
    if (irc_sts_store_set(n->sts_path, n->cfg.host, n->use_port, duration > 0 ? now + (double)duration : 0, now,
                          &err) != BASE_OK)
        base_log(BASE_LOG_WARN, n->who, "cannot keep the STS policy: %s", err.text);
    else if (duration == 0)
        base_log(BASE_LOG_INFO, n->who, "%s removed its STS policy", n->cfg.host);
    else
        base_log(BASE_LOG_DEBUG, n->who, "STS policy for %s: TLS on port %d for %lld s", n->cfg.host, n->use_port,
                 duration);
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
    expire_held(n, now_s(n), 0);
    check_account_info(n);
}

/* The text of a small key file (a secret: free with base_secret_free), or
 * NULL with an error logged; SASL then goes on with the other mechanisms. */
static char *read_key_file(irc_network *n, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        base_log(BASE_LOG_ERROR, n->who, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(MAX_KEY_FILE + 1);
    size_t len = text ? fread(text, 1, MAX_KEY_FILE + 1, f) : 0;
    fclose(f);
    if (!text || len > MAX_KEY_FILE) {
        base_log(BASE_LOG_ERROR, n->who, "%s is not a key file (too large)", path);
        if (text)
            base_secret_wipe(text, len);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

/* The operators' changes from the state directory, and the channels in
 * force (configured - parted + joined, NULL-terminated, pointing into the
 * config and the runtime state; the caller frees the array). NULL when out
 * of memory. */
static irc_channel_conf *load_runtime(irc_network *n)
{
    chat_runtime_init(&n->runtime, CHAT_CASE_RFC1459, 0);
    snprintf(n->runtime_file, sizeof n->runtime_file, "irc-%s.runtime.json", n->cfg.name);
    if (n->cfg.state_dir) {
        char path[4096];
        base_error err;
        snprintf(path, sizeof path, "%s/%s", n->cfg.state_dir, n->runtime_file);
        if (chat_runtime_load(&n->runtime, path, &err) != BASE_OK)
            base_log(BASE_LOG_WARN, n->who, "ignoring the operators' saved changes: %s", err.text);
    }
    chat_runtime *rt = &n->runtime;
    irc_channel_conf *list = calloc(n->cfg.n_channels + rt->n_joined + 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; list && i < n->cfg.n_channels; i++) {
        int joined_anew = 0; /* a runtime join with a new key replaces the configured entry */
        for (size_t j = 0; j < rt->n_joined; j++)
            joined_anew |= chat_name_equal(rt->joined[j], n->cfg.channels[i].name, rt->casemap);
        if (!joined_anew && !chat_runtime_is_parted(rt, n->cfg.channels[i].name))
            list[k++] = n->cfg.channels[i];
    }
    for (size_t j = 0; list && j < rt->n_joined; j++)
        list[k++] = (irc_channel_conf){rt->joined[j], rt->joined_keys[j]};
    return list;
}

void irc_network_set_operator_hooks(irc_network *n, const chat_op_hooks *hooks)
{
    n->op_hooks = *hooks;
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
    n->use_tls = n->cfg.tls;
    n->use_port = n->cfg.port;
    for (size_t i = 0; i < n->cfg.n_sasl_mechanisms && n->n_mechs < IRC_SASL_N_MECHS; i++) {
        const char *name = n->cfg.sasl_mechanisms[i];
        irc_sasl_mech m = irc_sasl_mech_from_name(name, strlen(name));
        if (m != IRC_SASL_NONE)
            n->mechs[n->n_mechs++] = m;
    }
    if (n->cfg.sasl_ecdsa_key)
        n->ecdsa_key_pem = read_key_file(n, n->cfg.sasl_ecdsa_key);
    if (n->cfg.state_dir) {
        size_t len = strlen(n->cfg.state_dir) + sizeof STS_FILE + 2;
        if ((n->sts_path = malloc(len)))
            snprintf(n->sts_path, len, "%s/%s", n->cfg.state_dir, STS_FILE);
    }
    irc_channel_conf *channels = load_runtime(n);
    size_t n_channels = 0;
    while (channels && channels[n_channels].name)
        n_channels++;
    irc_session_config sc = {
        .nick = n->cfg.nick,
        .alt_nicks = (const char *const *)n->cfg.alt_nicks,
        .n_alt_nicks = n->cfg.n_alt_nicks,
        .username = n->cfg.username,
        .realname = n->cfg.realname ? n->cfg.realname : core_bot_kb(bot)->texts.tagline,
        .password = n->cfg.password,
        .sasl_user = n->cfg.sasl_user,
        .sasl_password = n->cfg.sasl_password,
        .sasl_ecdsa_key_pem = n->ecdsa_key_pem,
        .client_cert = n->cfg.tls_cert != NULL,
        .sasl_mechanisms = n->n_mechs ? n->mechs : NULL,
        .n_sasl_mechanisms = n->n_mechs,
        .ignore_sts = n->cfg.ignore_sts,
        .sasl_required = n->cfg.sasl_required,
        .nickserv_password = n->cfg.nickserv_password,
        .channels = channels,
        .n_channels = n_channels,
        .ignore = (const char *const *)n->cfg.ignore,
        .n_ignore = n->cfg.n_ignore,
        .regain_interval = n->cfg.regain_interval,
        .version = "careerbot " CAREERBOT_VERSION,
        .ping_after = n->cfg.ping_after,
        .ping_timeout = n->cfg.ping_timeout,
    };
    irc_session_hooks sh = {n,        send_now,      on_privmsg,    log_hook, on_reconnect_request, on_registered,
                            on_sts_upgrade, on_sts_persist, on_whox};
    net_line_conn_hooks ch = {n, on_connected, on_line, on_closed, log_hook};
    n->session = irc_session_new(&sc, &sh);
    int channels_ok = channels != NULL;
    free(channels);
    if (n->ecdsa_key_pem) { /* the session has its own copy */
        base_secret_free(n->ecdsa_key_pem);
        n->ecdsa_key_pem = NULL;
    }
    n->conn = net_line_conn_new(loop, &ch, IRC_LINE_MAX);
    chat_gate_config gc = {
        .network = n->cfg.name,
        .network_kind = "irc",
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
    if (!n->session || !n->conn || !n->gate || !channels_ok || apply_ignores(n) != 0) {
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

/* A key (or a certificate file holding one) that others may read: the
 * operator gets the command that fixes it. */
static void check_private_file(irc_network *n, const char *key, const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return;
    if (st.st_mode & 077)
        base_log(BASE_LOG_WARN, n->who, "%s %s can be read by other users (mode %03o): run chmod 600 %s", key, path,
                 (unsigned)(st.st_mode & 0777), path);
}

/* What an operator must hear at every start: the settings that weaken security. */
static void warn_settings(irc_network *n)
{
    if (n->cfg.tls && !n->cfg.tls_verify && !n->cfg.tls_fingerprint)
        base_log(BASE_LOG_WARN, n->who,
                 "tls_verify = no: the server's certificate is not checked, so anyone on the path can read and "
                 "change this connection (set tls_ca_file or tls_fingerprint instead)");
    if (!n->cfg.tls && n->cfg.allow_plaintext_credentials &&
        (n->cfg.password || n->cfg.sasl_password || n->cfg.nickserv_password))
        base_log(BASE_LOG_WARN, n->who,
                 "allow_plaintext_credentials = yes: passwords go to %s without TLS (test servers only)", n->cfg.host);
    if (n->cfg.ignore_sts)
        base_log(BASE_LOG_WARN, n->who, "ignore_sts = yes: the server's STS policy is not followed (test servers only)");
    check_private_file(n, n->cfg.tls_key ? "tls_key" : "tls_cert", n->cfg.tls_key ? n->cfg.tls_key : n->cfg.tls_cert);
    check_private_file(n, "sasl_ecdsa_key", n->cfg.sasl_ecdsa_key);
}

void irc_network_start(irc_network *n)
{
    warn_settings(n);
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
    out->rooms_wanted = irc_session_channels(n->session);
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
    base_secret_free(n->ecdsa_key_pem);
    free(n->sts_path);
    chat_gate_free(n->gate);
    for (size_t i = 0; i < WHOX_PENDING; i++)
        release_held(&n->held[i]);
    chat_runtime_free(&n->runtime);
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
