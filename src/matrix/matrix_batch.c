/* One sync batch: remember direct chats and encrypted rooms, join the rooms
 * allowed inviters ask for, and answer the messages meant for the bot.
 * Replies go to the outbox; next_batch moves on in the same state write, so
 * a batch is never answered twice and never lost (see matrix_state.h). */
#include "matrix/matrix_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "matrix/matrix_format.h"
#include "matrix/matrix_policy.h"

#define BUSY_NOTICE_EVERY 60.0

static const char encrypted_notice[] =
    "I can't read messages in this room: it is end-to-end encrypted, and I don't support encryption. "
    "To ask me about becoming a medical coder, invite me to a room without encryption, or start a direct "
    "chat with encryption turned off. (The operator can also run me behind an E2EE proxy such as Pantalaimon.)";

static int is_direct(const matrix_network *n, const char *room_id)
{
    return matrix_strset_has(&n->state.direct_invites, room_id) ||
           matrix_strset_has(&n->state.direct_account, room_id);
}

/* Queues a send; logs when the outbox is full. Returns 1 when queued. */
static int queue(matrix_network *n, const char *room_id, char kind, const char *event_id, const char *content)
{
    char txn[MATRIX_TXN_MAX];
    matrix_txn_id(txn, kind, room_id, event_id);
    if (matrix_outbox_find(&n->state.outbox, txn))
        return 0; /* this batch came again after a restart: already queued */
    if (n->state.outbox.n >= n->cfg.queue_max) {
        if (n->shed++ == 0)
            base_log(BASE_LOG_WARN, n->who, "send queue full (%zu replies): not answering until it drains",
                   n->cfg.queue_max);
        return 0;
    }
    if (n->shed) {
        base_log(BASE_LOG_WARN, n->who, "send queue draining again; %zu answers were dropped", n->shed);
        n->shed = 0;
    }
    if (mx_queue_send(n, room_id, txn, content) < 0) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory queueing a reply to %s", room_id);
        return 0;
    }
    return 1;
}

static void remember_direct(matrix_network *n, const matrix_sync *s)
{
    if (!s->has_direct)
        return;
    /* m.direct comes whole: the latest one replaces what we had. */
    matrix_strset_free(&n->state.direct_account);
    for (size_t i = 0; i < s->n_direct_rooms; i++)
        matrix_strset_add(&n->state.direct_account, s->direct_rooms[i]);
}

static void handle_invites(matrix_network *n, const matrix_sync *s)
{
    for (size_t i = 0; i < s->n_invites; i++) {
        const matrix_invite *inv = &s->invites[i];
        if (!matrix_inviter_allowed(n->cfg.allowed_inviters, n->cfg.n_allowed_inviters, inv->inviter)) {
            base_log(BASE_LOG_INFO, n->who, "ignoring the invite to %s from %s: not in allowed_inviters", inv->room_id,
                   inv->inviter);
            continue;
        }
        if (inv->is_direct)
            matrix_strset_add(&n->state.direct_invites, inv->room_id);
        if (inv->encrypted)
            matrix_strset_add(&n->state.encrypted, inv->room_id);
        base_log(BASE_LOG_INFO, n->who, "%s invites me to %s%s; joining", inv->inviter, inv->room_id,
               inv->is_direct ? " (direct chat)" : "");
        mx_add_task(n, MX_TASK_JOIN, inv->room_id);
    }
}

static void handle_encryption(matrix_network *n, const matrix_sync *s, int live)
{
    for (size_t i = 0; i < s->n_encrypted_rooms; i++) {
        const char *room = s->encrypted_rooms[i];
        if (matrix_strset_add(&n->state.encrypted, room) > 0)
            base_log(BASE_LOG_INFO, n->who, "%s is encrypted: I cannot read it", room);
        /* Said once per room, ever (told_encrypted is saved), and only in a
         * live batch: the first sync answers nothing. */
        if (!live || matrix_strset_has(&n->state.told_encrypted, room))
            continue;
        char *content = matrix_notice_content(encrypted_notice);
        if (content && queue(n, room, 'e', NULL, content))
            matrix_strset_add(&n->state.told_encrypted, room);
        free(content);
    }
}

static void busy(matrix_network *n, const matrix_message *m, const char *why)
{
    double now = mx_now(n);
    base_log(BASE_LOG_INFO, n->who, "not answering %s in %s: %s", m->sender, m->room_id, why);
    if (n->last_busy_notice > 0 && now - n->last_busy_notice < BUSY_NOTICE_EVERY)
        return;
    n->last_busy_notice = now;
    char text[400];
    snprintf(text, sizeof text, "%.255s, please give me a moment: %s.", m->sender, why);
    char *content = matrix_notice_content(text);
    if (content)
        queue(n, m->room_id, 'b', m->event_id, content);
    free(content);
}

static void answer(matrix_network *n, const matrix_message *m, const matrix_identity *me)
{
    const char *ignored = matrix_ignore_reason(m, me->user_id, 1);
    if (ignored) {
        base_log(BASE_LOG_DEBUG, n->who, "skipping %s in %s: %s", m->event_id, m->room_id, ignored);
        return;
    }
    int direct = is_direct(n, m->room_id);
    matrix_addressing a;
    matrix_address(m, me, direct, matrix_strset_has(&n->listen_rooms, m->room_id), n->bot, n->cfg.command_prefixes,
                   &a);
    if (a.action == MATRIX_SKIP)
        return;
    double now = mx_now(n);
    /* In a listen room only a confident answer costs the asker anything;
     * addressed questions are counted before the bot thinks. */
    if (a.action == MATRIX_ANSWER) {
        if (base_limits_take(n->users, m->sender, 1.0, now) > 0) {
            busy(n, m, "you are asking faster than I answer");
            return;
        }
        if (base_limits_take(n->rooms, m->room_id, 1.0, now) > 0) {
            base_log(BASE_LOG_INFO, n->who, "not answering %s in %s: this room is asking faster than I answer",
                   m->sender, m->room_id);
            return;
        }
    }
    core_request req = {n->cfg.name, m->room_id, m->sender, now, a.text, a.len, n->cfg.command_prefixes};
    core_reply reply;
    if (core_bot_reply(n->bot, &req, &reply) != BASE_OK) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory answering %s", m->sender);
        return;
    }
    int go = 1;
    if (a.action == MATRIX_ANSWER_IF_CONFIDENT) {
        go = reply.matched && reply.topic && reply.score >= n->cfg.listen_min_score &&
             base_limits_take(n->users, m->sender, 1.0, now) == 0 &&
             base_limits_take(n->rooms, m->room_id, 1.0, now) == 0;
    }
    if (go && reply.text && *reply.text) {
        /* In a group room the answer quotes the question and pings the
         * asker; a direct chat needs neither. */
        char *content = matrix_reply_content(reply.text, direct ? NULL : m->event_id, direct ? NULL : m->sender,
                                             m->thread_root);
        if (!content)
            base_log(BASE_LOG_ERROR, n->who, "out of memory formatting a reply");
        else if (queue(n, m->room_id, 'r', m->event_id, content))
            base_log(BASE_LOG_INFO, n->who, "answering %s in %s (%s%s%s)", m->sender, m->room_id, a.why,
                   reply.topic ? ": " : "", reply.topic ? reply.topic : "");
        free(content);
    }
    core_reply_clear(&reply);
}

void mx_handle_batch(matrix_network *n, const matrix_sync *s, int live)
{
    matrix_identity me = {n->cfg.user_id, n->display_name};
    remember_direct(n, s);
    handle_invites(n, s);
    handle_encryption(n, s, live);
    for (size_t i = 0; live && i < s->n_limited_rooms; i++)
        base_log(BASE_LOG_WARN, n->who, "%s: more messages arrived than one sync returns; the older ones are not "
               "answered", s->limited_rooms[i]);
    for (size_t i = 0; i < s->n_left_rooms; i++)
        base_log(BASE_LOG_INFO, n->who, "left %s", s->left_rooms[i]);
    for (size_t i = 0; live && i < s->n_messages; i++)
        answer(n, &s->messages[i], &me);
    char *next = strdup(s->next_batch);
    if (!next) {
        base_log(BASE_LOG_ERROR, n->who, "out of memory keeping the sync position");
        return;
    }
    free(n->state.next_batch);
    n->state.next_batch = next;
    /* The replies and the new position go to disk together; sends start
     * when that write is done (mx_pump from the write's completion). */
    mx_save_state(n);
    mx_pump(n);
}
