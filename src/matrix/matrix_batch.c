/* One sync batch: remember direct chats and encrypted rooms, join the rooms
 * allowed inviters ask for, and answer the messages meant for the bot.
 *
 * The account's state is only read. What this batch learns goes into the
 * actions, and every later step of the same batch sees it there as well:
 * a room that an invite marks as direct is direct for the messages after
 * it, and a reply queued earlier in the batch counts against the queue and
 * is not queued twice. */
#include "matrix/matrix_batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "base/strbuf.h"
#include "matrix/matrix_config.h"
#include "matrix/matrix_policy.h"

typedef struct batch {
    const matrix_batch_account *acct;
    const matrix_sync *sync;
    matrix_batch_actions *out;
} batch;

static void add_log(batch *b, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add_log(batch *b, int level, const char *fmt, ...)
{
    matrix_batch_actions *out = b->out;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    matrix_batch_log *grown = n >= 0 ? realloc(out->logs, (out->n_logs + 1) * sizeof *grown) : NULL;
    char *text = grown ? malloc((size_t)n + 1) : NULL;
    if (grown)
        out->logs = grown;
    if (!text) {
        out->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->logs[out->n_logs++] = (matrix_batch_log){level, text};
}

static void add_room(batch *b, matrix_strset *set, const char *room)
{
    if (matrix_strset_add(set, room) < 0)
        b->out->oom = 1;
}

/* ---- what the account knows, with what this batch has learnt ------------------- */

static int is_direct(const batch *b, const char *room)
{
    const matrix_state *st = b->acct->state;
    const matrix_strset *account = b->out->replace_direct_account ? &b->out->direct_account : &st->direct_account;
    return matrix_strset_has(&st->direct_invites, room) || matrix_strset_has(&b->out->direct, room) ||
           matrix_strset_has(account, room);
}

static int known_encrypted(const batch *b, const char *room)
{
    return matrix_strset_has(&b->acct->state->encrypted, room) || matrix_strset_has(&b->out->encrypted, room);
}

static int already_queued(const batch *b, const char *txn)
{
    const matrix_outbox *o = &b->acct->state->outbox;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->items[i].txn_id, txn) == 0)
            return 1;
    for (size_t i = 0; i < b->out->n_sends; i++)
        if (strcmp(b->out->sends[i].txn_id, txn) == 0)
            return 1;
    return 0;
}

static size_t queue_used(const batch *b)
{
    return b->acct->state->outbox.n + b->out->n_sends;
}

/* Queues a send, taking content (freed here when not queued). Returns 1
 * when queued; 0 when already queued, the queue is full, or on OOM. */
static int queue(batch *b, const char *room_id, char kind, const char *event_id, char *content)
{
    matrix_batch_actions *out = b->out;
    matrix_batch_send send = {.kind = kind, .content = content};
    matrix_txn_id(send.txn_id, kind, room_id, event_id);
    if (already_queued(b, send.txn_id)) {
        free(content); /* this batch came again after a restart: already queued */
        return 0;
    }
    if (queue_used(b) >= b->acct->queue_max) {
        if (chat_gate_dropped(b->acct->gate))
            add_log(b, BASE_LOG_WARN, "send queue full (%zu replies): not answering until it drains",
                    b->acct->queue_max);
        free(content);
        return 0;
    }
    size_t dropped = chat_gate_recovered(b->acct->gate);
    if (dropped)
        add_log(b, BASE_LOG_WARN, "send queue draining again; %zu answers were dropped", dropped);
    matrix_batch_send *grown = realloc(out->sends, (out->n_sends + 1) * sizeof *grown);
    if (grown)
        out->sends = grown;
    if (!grown || !(send.room_id = base_strdup(room_id))) {
        out->oom = 1;
        add_log(b, BASE_LOG_ERROR, "out of memory queueing a reply to %s", room_id);
        free(content);
        return 0;
    }
    out->sends[out->n_sends++] = send;
    return 1;
}

/* ---- the parts of a batch -------------------------------------------------------- */

static void remember_direct(batch *b)
{
    const matrix_sync *s = b->sync;
    if (!s->has_direct)
        return;
    /* m.direct comes whole: the latest one replaces what we had. */
    matrix_strset_free(&b->out->direct_account);
    b->out->replace_direct_account = 1;
    for (size_t i = 0; i < s->n_direct_rooms; i++)
        add_room(b, &b->out->direct_account, s->direct_rooms[i]);
}

static void set_pair(batch *b, matrix_strmap *map, const char *key, const char *value)
{
    if (matrix_strmap_set(map, key, value) < 0)
        b->out->oom = 1;
}

static void handle_invites(batch *b)
{
    const matrix_batch_account *a = b->acct;
    for (size_t i = 0; i < b->sync->n_invites; i++) {
        const matrix_invite *inv = &b->sync->invites[i];
        if (!matrix_inviter_allowed(a->allowed_inviters, a->n_allowed_inviters, inv->inviter)) {
            /* Rejected, not left pending: the inviter sees the answer. */
            add_log(b, BASE_LOG_INFO, "rejecting the invite to %s from %s: not in allowed_inviters", inv->room_id,
                    inv->inviter);
            set_pair(b, &b->out->leaves, inv->room_id, "this bot only joins rooms its operator allows");
            continue;
        }
        if (a->runtime && chat_runtime_is_parted(a->runtime, inv->room_id)) {
            add_log(b, BASE_LOG_INFO, "declining the invite to %s from %s: an operator took the bot out of it",
                    inv->room_id, inv->inviter);
            set_pair(b, &b->out->leaves, inv->room_id, "an operator took this bot out of this room");
            continue;
        }
        if (inv->is_direct) {
            add_room(b, &b->out->direct, inv->room_id);
            set_pair(b, &b->out->direct_writes, inv->room_id, inv->inviter);
        }
        if (inv->encrypted && !known_encrypted(b, inv->room_id))
            add_room(b, &b->out->encrypted, inv->room_id);
        add_log(b, BASE_LOG_INFO, "%s invites me to %s%s; joining", inv->inviter, inv->room_id,
                inv->is_direct ? " (direct chat)" : "");
        add_room(b, &b->out->joins, inv->room_id);
    }
}

static void handle_encryption(batch *b)
{
    const matrix_batch_account *a = b->acct;
    for (size_t i = 0; i < b->sync->n_encrypted_rooms; i++) {
        const char *room = b->sync->encrypted_rooms[i];
        if (!known_encrypted(b, room)) {
            add_room(b, &b->out->encrypted, room);
            add_log(b, BASE_LOG_INFO, "%s is encrypted: I cannot read it", room);
        }
        /* Said once per room, ever (told_encrypted is saved), and only in a
         * live batch: the first sync answers nothing. */
        if (!a->live || !a->encrypted_notice || matrix_strset_has(&a->state->told_encrypted, room))
            continue;
        char *content = matrix_notice_content(a->encrypted_notice);
        if (!content)
            b->out->oom = 1;
        else
            queue(b, room, 'e', NULL, content);
    }
}

/* A room the bot has just joined: it was not among the rooms known so far
 * (and those are all known). Whatever it brings is old history unless the
 * bot's own join is in this batch to tell old from new. */
static int newly_joined(const batch *b, const char *room)
{
    const matrix_state *st = b->acct->state;
    return st->rooms_known && !matrix_strset_has(&st->rooms, room);
}

static int join_in_batch(const batch *b, const char *room)
{
    for (size_t i = 0; i < b->sync->n_own_join_rooms; i++)
        if (strcmp(b->sync->own_join_rooms[i], room) == 0)
            return 1;
    return 0;
}

/* The bot's display name in room: this batch's member event, else the one
 * kept, else NULL (the global one applies). */
static const char *room_name(const batch *b, const char *room)
{
    const matrix_sync *s = b->sync;
    for (size_t i = s->n_own_names; i-- > 0;)
        if (strcmp(s->own_names[i].room_id, room) == 0)
            return s->own_names[i].text;
    return matrix_strmap_get(&b->acct->state->room_names, room);
}

static void handle_tombstones(batch *b)
{
    const matrix_state *st = b->acct->state;
    for (size_t i = 0; i < b->sync->n_tombstones; i++) {
        const matrix_room_text *t = &b->sync->tombstones[i];
        if (matrix_strset_has(&st->rooms, t->text) || matrix_strmap_get(&b->out->upgrades, t->room_id))
            continue; /* already there, or already on the way */
        add_log(b, BASE_LOG_INFO, "%s was upgraded to %s; following it", t->room_id, t->text);
        set_pair(b, &b->out->upgrades, t->room_id, t->text);
        add_room(b, &b->out->joins, t->text);
    }
}

/* The asker's display name: from this batch, else from an earlier one. */
static const char *sender_name(const batch *b, const matrix_message *m)
{
    if (m->sender_name)
        return m->sender_name;
    for (size_t i = b->sync->n_members; i-- > 0;) {
        const matrix_member *mm = &b->sync->members[i];
        if (strcmp(mm->room_id, m->room_id) == 0 && strcmp(mm->user_id, m->sender) == 0)
            return mm->name;
    }
    if (!b->acct->member_names)
        return NULL;
    char key[600];
    snprintf(key, sizeof key, "%s\037%s", m->room_id, m->sender);
    return matrix_strmap_get(b->acct->member_names, key);
}

/* The log's copy of a server's words: one line, at most max bytes. */
static void add_server_notice(batch *b, const matrix_message *m)
{
    char *clean = matrix_clean_text(m->body, strlen(m->body));
    if (!clean) {
        b->out->oom = 1;
        return;
    }
    for (char *p = clean; *p; p++)
        if (*p == '\n')
            *p = ' ';
    add_log(b, BASE_LOG_WARN, "server notice from %s: %.500s", m->sender, clean);
    free(clean);
}

static void add_op(batch *b, const matrix_message *m, const chat_op *op)
{
    matrix_batch_actions *out = b->out;
    matrix_batch_op *grown = realloc(out->ops, (out->n_ops + 1) * sizeof *grown);
    if (grown)
        out->ops = grown;
    matrix_batch_op o = {base_strdup(m->room_id), base_strdup(m->event_id), base_strdup(m->sender), *op};
    if (!grown || !o.room_id || !o.event_id || !o.sender) {
        free(o.room_id);
        free(o.event_id);
        free(o.sender);
        out->oom = 1;
        return;
    }
    out->ops[out->n_ops++] = o;
}

/* An admin's command in a direct chat: 1 when it is for the network (in
 * ops); *help set for !help, which the gate answers with the operator
 * commands added. Anyone else's goes to the gate as it is. */
static int operator_command(batch *b, const matrix_message *m, const char *text, size_t len, int direct, int *help)
{
    const matrix_batch_account *a = b->acct;
    chat_op op;
    *help = 0;
    if (!direct || !a->n_admins ||
        chat_op_parse(text, len, a->command_prefixes ? a->command_prefixes : "!", CHAT_OP_MATRIX, &op) ==
            CHAT_OP_NONE ||
        !chat_op_is_admin((const char *const *)a->admins, a->n_admins, m->sender, 1, CHAT_CASE_ASCII, 1))
        return 0;
    if (op.kind == CHAT_OP_HELP) {
        *help = 1;
        return 0;
    }
    add_op(b, m, &op);
    return 1;
}

/* The ordinary help, then the operator commands. */
static void add_operator_help(batch *b, chat_decision *d)
{
    base_strbuf t = {0};
    base_strbuf_add(&t, d->text);
    base_strbuf_add(&t, "\n");
    const char *prefixes = b->acct->command_prefixes ? b->acct->command_prefixes : "!";
    chat_op_help(prefixes[0], CHAT_OP_MATRIX, &t);
    char *text = base_strbuf_take(&t);
    if (!text) {
        b->out->oom = 1;
        return;
    }
    free(d->text);
    d->text = text;
}

/* The gate decides; this only turns the event into facts and the decision
 * into an m.notice in the room. */
static void answer(batch *b, const matrix_message *m)
{
    const matrix_batch_account *a = b->acct;
    if (m->msgtype && strcmp(m->msgtype, "m.server_notice") == 0 && m->body && strcmp(m->sender, a->user_id) != 0 &&
        !m->redacted) {
        add_server_notice(b, m);
        return;
    }
    const char *ignored = matrix_ignore_reason(m, a->user_id, 1);
    if (!ignored && newly_joined(b, m->room_id) && !join_in_batch(b, m->room_id))
        ignored = "history from before the bot joined";
    if (ignored) {
        add_log(b, BASE_LOG_DEBUG, "skipping %s in %s: %s", m->event_id, m->room_id, ignored);
        return;
    }
    int direct = is_direct(b, m->room_id);
    size_t len;
    const char *text = matrix_strip_reply_fallback(m->body, strlen(m->body), &len);
    int admin_help;
    if (operator_command(b, m, text, len, direct, &admin_help))
        return;
    char local[256], pill[256];
    int mentioned = matrix_mentions_user(m, a->user_id);
    /* The names people use at the start of a line, however the client wrote
     * it: the id, the display name in this room and the global one, the
     * localpart, and the text of a pill in front. When m.mentions says the
     * bot is not mentioned, no name in a group room counts. */
    const char *names[] = {a->user_id, room_name(b, m->room_id), a->display_name,
                           matrix_localpart(a->user_id, local, sizeof local),
                           matrix_leading_pill(m->formatted_body, a->user_id, pill, sizeof pill)};
    size_t n_names = m->has_mentions && !mentioned && !direct ? 0 : sizeof names / sizeof *names;
    chat_message cm = {
        .room = m->room_id,
        .sender = m->sender,
        .text = text,
        .len = len,
        .direct = direct,
        .mentioned = mentioned,
        .listen = a->listen && matrix_strset_has(a->listen, m->room_id),
        .unknown_commands = a->unknown_commands && matrix_strset_has(a->unknown_commands, m->room_id),
        .names = names,
        .n_names = n_names,
        .queue_used = queue_used(b),
        .queue_max = a->queue_max,
        .now = a->now,
    };
    chat_decision d;
    if (chat_gate_decide(a->gate, &cm, &d) != BASE_OK) {
        b->out->oom = 1;
        add_log(b, BASE_LOG_ERROR, "out of memory answering %s", m->sender);
    }
    if (d.action == CHAT_ANSWER && admin_help)
        add_operator_help(b, &d);
    if (d.action == CHAT_ANSWER) {
        /* In a group room the answer quotes the question and pings the
         * asker; a direct chat needs neither. */
        char *content = matrix_reply_content(d.text, direct ? NULL : m->event_id, direct ? NULL : m->sender,
                                             direct ? NULL : sender_name(b, m), m->thread_root);
        if (!content) {
            b->out->oom = 1;
            add_log(b, BASE_LOG_ERROR, "out of memory formatting a reply");
        } else if (queue(b, m->room_id, 'r', m->event_id, content)) {
            add_log(b, BASE_LOG_INFO, "answering %s in %s (%s%s%s)", m->sender, m->room_id, d.why,
                    d.topic ? ": " : "", d.topic ? d.topic : "");
            if (a->read_receipts)
                set_pair(b, &b->out->receipts, m->room_id, m->event_id);
        }
    } else if (d.via != CHAT_VIA_NONE && d.via != CHAT_VIA_LISTEN) {
        add_log(b, BASE_LOG_INFO, "not answering %s in %s: %s", m->sender, m->room_id, d.why);
        if (d.action == CHAT_BUSY) {
            char *content = matrix_notice_content(d.text);
            if (!content)
                b->out->oom = 1;
            else
                queue(b, m->room_id, 'b', m->event_id, content);
        }
    }
    chat_decision_clear(&d);
}

int matrix_batch_decide(const matrix_batch_account *account, const matrix_sync *s, matrix_batch_actions *out)
{
    memset(out, 0, sizeof *out);
    batch b = {account, s, out};
    remember_direct(&b);
    handle_invites(&b);
    handle_encryption(&b);
    handle_tombstones(&b);
    /* A room just joined comes limited (its history): nothing is lost there. */
    for (size_t i = 0; account->live && i < s->n_limited_rooms; i++)
        if (!newly_joined(&b, s->limited_rooms[i]))
            add_log(&b, BASE_LOG_WARN, "%s: more messages arrived than one sync returns; the older ones are not "
                    "answered", s->limited_rooms[i]);
    for (size_t i = 0; i < s->n_left_rooms; i++)
        add_log(&b, BASE_LOG_INFO, "left %s", s->left_rooms[i]);
    for (size_t i = 0; account->live && i < s->n_messages; i++)
        answer(&b, &s->messages[i]);
    return out->oom ? BASE_ERR : BASE_OK;
}

void matrix_batch_actions_free(matrix_batch_actions *a)
{
    matrix_strset_free(&a->joins);
    matrix_strmap_free(&a->leaves);
    matrix_strmap_free(&a->direct_writes);
    matrix_strmap_free(&a->upgrades);
    matrix_strmap_free(&a->receipts);
    matrix_strset_free(&a->direct);
    matrix_strset_free(&a->direct_account);
    matrix_strset_free(&a->encrypted);
    for (size_t i = 0; i < a->n_sends; i++) {
        free(a->sends[i].room_id);
        free(a->sends[i].content);
    }
    free(a->sends);
    for (size_t i = 0; i < a->n_ops; i++) {
        free(a->ops[i].room_id);
        free(a->ops[i].event_id);
        free(a->ops[i].sender);
    }
    free(a->ops);
    for (size_t i = 0; i < a->n_logs; i++)
        free(a->logs[i].text);
    free(a->logs);
    memset(a, 0, sizeof *a);
}
