#include "chat/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"

#define PEOPLE_REMEMBERED 4096 /* per-person and per-room buckets kept, least recent forgotten */
#define BUSY_NOTICE_EVERY 60.0 /* seconds: each person hears "give me a moment" at most this often */
#define BUSY_NOTICES_BURST 3.0 /* and everyone together at most this many a minute */

struct chat_gate {
    core_bot *bot;
    char *network;
    char *network_kind;
    char *prefixes;             /* NULL: the bot's */
    char **ignore;
    size_t n_ignore;
    double listen_min_score;
    int limits;
    chat_casemap casemap;
    base_limits *people, *rooms;
    base_limits *notices;       /* busy notices per person */
    base_bucket notice_bucket;  /* busy notices for everyone together */
    size_t dropped;             /* answers the transport could not queue, in the current run */
    chat_gate_counts counts;    /* what was decided since the gate was made */
};

/* Copies n strings into *out (counted in *n as they are copied, so a
 * failure half-way still frees right). Returns 1, or 0 when out of memory. */
static int copy_list(char ***out, size_t *n, const char *const *items, size_t count)
{
    if (count == 0)
        return 1;
    if (!(*out = calloc(count, sizeof **out)))
        return 0;
    for (size_t i = 0; i < count; i++, (*n)++)
        if (!((*out)[i] = base_strdup(items[i])))
            return 0;
    return 1;
}

chat_gate *chat_gate_new(core_bot *bot, const chat_gate_config *c)
{
    chat_gate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->bot = bot;
    g->network = base_strdup(c->network ? c->network : "");
    g->network_kind = base_strdup(c->network_kind ? c->network_kind : "chat");
    g->prefixes = c->command_prefixes ? base_strdup(c->command_prefixes) : NULL;
    g->listen_min_score = c->listen_min_score;
    g->limits = c->limits;
    g->casemap = c->casemap;
    g->people = base_limits_new(PEOPLE_REMEMBERED, c->user_burst, c->user_rate);
    g->rooms = base_limits_new(PEOPLE_REMEMBERED, c->room_burst, c->room_rate);
    g->notices = base_limits_new(PEOPLE_REMEMBERED, 1, 1.0 / BUSY_NOTICE_EVERY);
    base_bucket_init(&g->notice_bucket, BUSY_NOTICES_BURST, BUSY_NOTICES_BURST / BUSY_NOTICE_EVERY, 0);
    int ok = g->network && g->network_kind && (!c->command_prefixes || g->prefixes) && g->people && g->rooms && g->notices;
    ok = ok && copy_list(&g->ignore, &g->n_ignore, c->ignore, c->n_ignore);
    if (!ok) {
        chat_gate_free(g);
        return NULL;
    }
    return g;
}

void chat_gate_free(chat_gate *g)
{
    if (!g)
        return;
    free(g->network);
    free(g->network_kind);
    free(g->prefixes);
    base_strv_free(g->ignore, g->n_ignore);
    base_limits_free(g->people);
    base_limits_free(g->rooms);
    base_limits_free(g->notices);
    free(g);
}

int chat_gate_set_ignore(chat_gate *g, const char *const *items, size_t n)
{
    char **list = NULL;
    size_t got = 0;
    if (!copy_list(&list, &got, items, n)) {
        base_strv_free(list, got);
        return BASE_ERR;
    }
    base_strv_free(g->ignore, g->n_ignore);
    g->ignore = list;
    g->n_ignore = got;
    return BASE_OK;
}

void chat_gate_set_casemap(chat_gate *g, chat_casemap map)
{
    g->casemap = map;
}

void chat_decision_clear(chat_decision *d)
{
    free(d->text);
    memset(d, 0, sizeof *d);
}

const char *chat_via_name(chat_via via)
{
    switch (via) {
    case CHAT_VIA_DIRECT:
        return "direct";
    case CHAT_VIA_NAME:
        return "name";
    case CHAT_VIA_MENTION:
        return "mention";
    case CHAT_VIA_COMMAND:
        return "command";
    case CHAT_VIA_LISTEN:
        return "listen";
    case CHAT_VIA_NONE:
        break;
    }
    return "none";
}

static void count_reply(chat_gate *g, core_reply_kind kind)
{
    if (kind == CORE_REPLY_ANSWER)
        g->counts.answered++;
    else if (kind == CORE_REPLY_DECLINE)
        g->counts.declined++;
    else if (kind == CORE_REPLY_CLARIFY)
        g->counts.clarified++;
    else
        g->counts.other++;
}

void chat_gate_get_counts(const chat_gate *g, chat_gate_counts *out)
{
    *out = g->counts;
}

int chat_gate_dropped(chat_gate *g)
{
    return g->dropped++ == 0;
}

size_t chat_gate_recovered(chat_gate *g)
{
    size_t n = g->dropped;
    g->dropped = 0;
    return n;
}

int chat_gate_listen_answers(const core_reply *reply, double min_score)
{
    /* Only a question, answered by a keyword rule with clear confidence:
     * "my boss says the salary here is bad" shares words but asks nothing. */
    double needed = reply->about_career ? min_score * 2 / 3 : min_score; /* a career word backs it up */
    return reply->kind == CORE_REPLY_ANSWER && reply->matched && reply->topic && reply->asks && !reply->fallback &&
           !reply->personal && reply->score >= needed;
}

static int ignored(const chat_gate *g, const char *sender)
{
    for (size_t i = 0; i < g->n_ignore; i++)
        if (chat_name_equal(g->ignore[i], sender, g->casemap))
            return 1;
    return 0;
}

static void count_reply(chat_gate *g, core_reply_kind kind);

static int silent(chat_decision *out, const char *why)
{
    out->action = CHAT_SILENT;
    out->why = why;
    return BASE_OK;
}

/* A "give me a moment" notice, unless the sender (or everyone together)
 * heard one recently: the notices must not become a flood of their own. */
static int busy(chat_gate *g, const chat_message *m, const char *why, chat_decision *out)
{
    out->why = why;
    g->counts.busy++;
    if (base_limits_take(g->notices, m->sender, 1.0, m->now) > 0 ||
        base_bucket_take(&g->notice_bucket, 1.0, m->now) > 0)
        return silent(out, why);
    char text[400];
    snprintf(text, sizeof text, "%.255s, please give me a moment: %s.", m->sender, why);
    out->text = base_strdup(text);
    if (!out->text) {
        silent(out, why);
        return BASE_ERR;
    }
    out->action = CHAT_BUSY;
    return BASE_OK;
}

/* The person's budget: every message the bot thinks about costs one,
 * addressed or not, so nobody can make it think faster than the limits. */
static const char *person_limited(chat_gate *g, const chat_message *m)
{
    if (g->limits && base_limits_take(g->people, m->sender, 1.0, m->now) > 0)
        return "you are asking faster than I answer";
    return NULL;
}

/* The room's budget and the transport's queue: only answers count. */
static const char *room_limited(chat_gate *g, const chat_message *m)
{
    if (!g->limits)
        return NULL;
    if (!m->direct && base_limits_take(g->rooms, m->room, 1.0, m->now) > 0)
        return "this room is asking faster than I answer";
    if (m->queue_max && m->queue_used * 4 >= m->queue_max * 3)
        return "many people are asking right now; ask again in a minute";
    return NULL;
}

/* The message without "careerbot: " in front, when it starts so. */
static const char *strip_name(const chat_gate *g, const chat_message *m, size_t *len)
{
    for (size_t i = 0; m->text && m->names && i < m->n_names; i++) {
        const char *rest = chat_addressed_to(m->text, m->len, m->names[i], g->casemap, len);
        if (rest)
            return rest;
    }
    return NULL;
}

static chat_via route(const chat_gate *g, const chat_message *m, const char *text, size_t len, int by_name)
{
    if (m->direct)
        return CHAT_VIA_DIRECT;
    if (core_bot_is_command(g->bot, g->prefixes, text, len))
        return CHAT_VIA_COMMAND;
    if (by_name)
        return CHAT_VIA_NAME;
    if (m->mentioned)
        return CHAT_VIA_MENTION;
    return m->listen ? CHAT_VIA_LISTEN : CHAT_VIA_NONE;
}

int chat_gate_decide(chat_gate *g, const chat_message *message, chat_decision *out)
{
    memset(out, 0, sizeof *out);
    chat_message facts = *message; /* missing facts get harmless values */
    const chat_message *m = &facts;
    if (!facts.sender)
        facts.sender = "";
    if (!facts.room)
        facts.room = facts.sender;
    if (!facts.text)
        facts.len = 0;
    const char *sender = facts.sender;
    if (m->from_bot)
        return silent(out, "the sender is a bot");
    if (ignored(g, sender))
        return silent(out, "the sender is on the ignore list");
    size_t len = m->len;
    const char *text = m->text ? m->text : "";
    const char *rest = strip_name(g, m, &len);
    if (rest)
        text = rest;
    else
        len = m->len;
    out->via = route(g, m, text, len, rest != NULL);
    if (out->via == CHAT_VIA_NONE)
        return silent(out, "not addressed");
    /* In a listen room most lines are people talking to each other: when
     * the limits stop one of those, nobody is told to wait (that would
     * answer someone who never asked), and only a confident answer costs
     * the room anything. */
    int asked = out->via != CHAT_VIA_LISTEN;
    const char *held = person_limited(g, m);
    if (!held && asked)
        held = room_limited(g, m);
    if (held)
        return asked ? busy(g, m, held, out) : silent(out, held);
    /* In a group, answers are short, with the rest on "more". */
    core_request req = {g->network, m->room, sender, m->now, text, len, g->prefixes, !m->direct, !asked,
                        g->network_kind};
    core_reply reply;
    if (core_bot_reply(g->bot, &req, &reply) != BASE_OK) {
        silent(out, "out of memory");
        return BASE_ERR;
    }
    out->matched = reply.matched;
    out->topic = reply.topic;
    out->score = reply.score;
    if (!asked) {
        int confident = chat_gate_listen_answers(&reply, g->listen_min_score);
        held = confident ? room_limited(g, m) : "not confident enough to answer unasked";
        if (held) {
            core_reply_clear(&reply);
            return silent(out, held);
        }
    }
    /* "!seen bob" in a channel is for another bot: a command this bot does
     * not know is left alone there, unless the room wants to hear so. */
    if (out->via == CHAT_VIA_COMMAND && reply.kind == CORE_REPLY_DECLINE && !m->direct && !m->unknown_commands) {
        core_reply_clear(&reply);
        return silent(out, "not a command of mine");
    }
    if (!reply.text || !reply.text[0]) {
        core_reply_clear(&reply);
        return silent(out, "nothing to say");
    }
    out->action = CHAT_ANSWER;
    out->why = chat_via_name(out->via);
    count_reply(g, reply.kind);
    out->text = reply.text; /* handed over */
    reply.text = NULL;
    core_reply_clear(&reply);
    return BASE_OK;
}
