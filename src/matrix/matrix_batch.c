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
#include "chat/gate.h"

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
        if (chat_gate_dropped(n->gate))
            base_log(BASE_LOG_WARN, n->who, "send queue full (%zu replies): not answering until it drains",
                     n->cfg.queue_max);
        return 0;
    }
    size_t dropped = chat_gate_recovered(n->gate);
    if (dropped)
        base_log(BASE_LOG_WARN, n->who, "send queue draining again; %zu answers were dropped", dropped);
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

/* The gate decides; this only turns the event into facts and the decision
 * into an m.notice in the room. */
static void answer(matrix_network *n, const matrix_message *m)
{
    const char *ignored = matrix_ignore_reason(m, n->cfg.user_id, 1);
    if (ignored) {
        base_log(BASE_LOG_DEBUG, n->who, "skipping %s in %s: %s", m->event_id, m->room_id, ignored);
        return;
    }
    int direct = is_direct(n, m->room_id);
    size_t len;
    const char *text = matrix_strip_reply_fallback(m->body, strlen(m->body), &len);
    char local[256];
    const char *names[] = {n->cfg.user_id, n->display_name, matrix_localpart(n->cfg.user_id, local, sizeof local)};
    chat_message cm = {
        .room = m->room_id,
        .sender = m->sender,
        .text = text,
        .len = len,
        .direct = direct,
        .mentioned = matrix_mentions_user(m, n->cfg.user_id),
        .listen = matrix_strset_has(&n->listen_rooms, m->room_id),
        .names = names,
        .n_names = 3,
        .queue_used = n->state.outbox.n,
        .queue_max = n->cfg.queue_max,
        .now = mx_now(n),
    };
    chat_decision d;
    if (chat_gate_decide(n->gate, &cm, &d) != BASE_OK)
        base_log(BASE_LOG_ERROR, n->who, "out of memory answering %s", m->sender);
    if (d.action == CHAT_ANSWER) {
        /* In a group room the answer quotes the question and pings the
         * asker; a direct chat needs neither. */
        char *content = matrix_reply_content(d.text, direct ? NULL : m->event_id, direct ? NULL : m->sender,
                                             m->thread_root);
        if (!content)
            base_log(BASE_LOG_ERROR, n->who, "out of memory formatting a reply");
        else if (queue(n, m->room_id, 'r', m->event_id, content))
            base_log(BASE_LOG_INFO, n->who, "answering %s in %s (%s%s%s)", m->sender, m->room_id, d.why,
                     d.topic ? ": " : "", d.topic ? d.topic : "");
        free(content);
    } else if (d.via != CHAT_VIA_NONE && d.via != CHAT_VIA_LISTEN) {
        base_log(BASE_LOG_INFO, n->who, "not answering %s in %s: %s", m->sender, m->room_id, d.why);
        char *content = d.action == CHAT_BUSY ? matrix_notice_content(d.text) : NULL;
        if (content)
            queue(n, m->room_id, 'b', m->event_id, content);
        free(content);
    }
    chat_decision_clear(&d);
}

void mx_handle_batch(matrix_network *n, const matrix_sync *s, int live)
{
    remember_direct(n, s);
    handle_invites(n, s);
    handle_encryption(n, s, live);
    for (size_t i = 0; live && i < s->n_limited_rooms; i++)
        base_log(BASE_LOG_WARN, n->who, "%s: more messages arrived than one sync returns; the older ones are not "
               "answered", s->limited_rooms[i]);
    for (size_t i = 0; i < s->n_left_rooms; i++)
        base_log(BASE_LOG_INFO, n->who, "left %s", s->left_rooms[i]);
    for (size_t i = 0; live && i < s->n_messages; i++)
        answer(n, &s->messages[i]);
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
