/* What the bot sends to Matrix: m.notice contents with a plain body and an
 * HTML formatted_body, and the transaction ids that make a send idempotent.
 * Pure: no I/O. */
#ifndef MATRIX_FORMAT_H
#define MATRIX_FORMAT_H

#include <stddef.h>

#define MATRIX_TXN_MAX 40

/* text with invalid UTF-8 replaced by U+FFFD and control characters other
 * than '\n' dropped (a tab becomes a space). Caller frees; NULL on OOM. */
char *matrix_clean_text(const char *text, size_t len);

/* text with & < > " ' escaped for HTML. Caller frees; NULL on OOM. */
char *matrix_html_escape(const char *text, size_t len);

/* The HTML for a reply: one <p> per line, runs of "1. ..." lines as an
 * <ol>, a line ending in ':' just before a list and a leading "Step N:" in
 * <strong>. Caller frees; NULL on OOM. */
char *matrix_reply_html(const char *text);

/* The content of an m.room.message for a reply, as compact JSON: msgtype
 * m.notice, body, format org.matrix.custom.html and formatted_body.
 * reply_to: the event answered (NULL: none, as in a direct chat); it goes in
 * m.relates_to.m.in_reply_to. mention (NULL: nobody) is the user to ping: in
 * m.mentions, and as a pill in front of the HTML ("Name: " in front of the
 * body), with mention_name the name shown (NULL: the user id's localpart).
 * thread_root: the thread the question was in (NULL: none). Caller frees;
 * NULL on OOM. */
char *matrix_reply_content(const char *text, const char *reply_to, const char *mention, const char *mention_name,
                           const char *thread_root);

/* A plain m.notice with only a body (no formatting, no relation). */
char *matrix_notice_content(const char *text);

/* A transaction id derived from what the message answers (kind: 'r' a
 * reply, 'e' the encryption notice, 'b' a busy notice; event_id may be
 * NULL), so the same answer keeps the same id across retries and restarts
 * and the homeserver posts it once. Only [A-Za-z0-9-] characters. */
void matrix_txn_id(char out[MATRIX_TXN_MAX], char kind, const char *room_id, const char *event_id);

#endif
