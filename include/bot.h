/* The bot's core: one message and its context in, one reply out. No I/O and
 * no protocol: every transport (console, IRC, Matrix) calls this. */
#ifndef CB_BOT_H
#define CB_BOT_H

#include <stddef.h>

#include "cb_error.h"
#include "kb.h"

typedef struct cb_bot cb_bot;

typedef struct cb_bot_options {
    const char *command_prefixes; /* characters that start a command; NULL: "/!" */
    size_t max_conversations;     /* 0: 4096 */
    double conversation_ttl;      /* seconds; 0: 1800 */
} cb_bot_options;

typedef struct cb_request {
    const char *network; /* "console", an IRC network or a Matrix homeserver name */
    const char *room;    /* channel or room; the user again for a direct message */
    const char *user;
    double now;          /* seconds on a monotonic clock, for conversation expiry */
    const char *text;    /* any bytes; need not be NUL-terminated */
    size_t len;
    const char *command_prefixes; /* NULL: the bot's own */
} cb_request;

typedef struct cb_reply {
    int matched;         /* 0 when the bot declined or could not tell */
    const char *topic;   /* id of the topic answered (owned by the bot's kb), or NULL */
    double score;
    char *text;          /* the reply, lines separated by '\n'; owned by the caller */
} cb_reply;

/* Creates a bot that owns kb. On failure kb is freed too. */
cb_bot *cb_bot_new(cb_kb *kb, const cb_bot_options *opts, cb_error *err);
void cb_bot_free(cb_bot *bot);

/* Answers one message. Returns CB_OK, or CB_ERR only when out of memory. */
int cb_bot_reply(cb_bot *bot, const cb_request *req, cb_reply *out);
void cb_reply_clear(cb_reply *reply);

/* Swaps in a new knowledge base (the bot owns it on success; on failure the
 * old one stays and kb is freed). Conversations are kept. */
int cb_bot_replace_kb(cb_bot *bot, cb_kb *kb, cb_error *err);
const cb_kb *cb_bot_kb(const cb_bot *bot);

/* True when text (after leading spaces) is a command, e.g. "!salary";
 * prefixes NULL means the bot's own. */
int cb_bot_is_command(const cb_bot *bot, const char *prefixes, const char *text, size_t len);

#endif
