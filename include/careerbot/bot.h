/* The bot's core: one message and its context in, one reply out. No I/O and
 * no protocol: every transport (console, IRC, Matrix) calls this. */
#ifndef CAREERBOT_BOT_H
#define CAREERBOT_BOT_H

#include <stddef.h>

#include "base/error.h"
#include "careerbot/kb.h"

typedef struct core_bot core_bot;

typedef struct core_bot_options {
    const char *command_prefixes; /* characters that start a command; NULL: "/!" */
    size_t max_conversations;     /* 0: 4096 */
    double conversation_ttl;      /* seconds; 0: 1800 */
} core_bot_options;

typedef struct core_request {
    const char *network; /* "console", an IRC network or a Matrix homeserver name */
    const char *room;    /* channel or room; the user again for a direct message */
    const char *user;
    double now;          /* seconds on a monotonic clock, for conversation expiry */
    const char *text;    /* any bytes; need not be NUL-terminated */
    size_t len;
    const char *command_prefixes; /* NULL: the bot's own */
    int brief;           /* a group channel: long answers are shortened, the rest on "more" */
    int unasked;         /* nobody addressed the bot (a listen room's chatter): never an unanswered question */
    const char *network_kind; /* "irc", "matrix", "console": for the unanswered log; NULL: "chat" */
} core_request;

/* What a reply is (the JSON contract's "kind"). */
typedef enum core_reply_kind {
    CORE_REPLY_DECLINE, /* off-topic or not understood: the polite "I can only help with ..." */
    CORE_REPLY_ANSWER,  /* an answer about the career: a topic, one of its facets, a follow-up */
    CORE_REPLY_CLARIFY, /* a question back: which of two topics was meant, "next after what?" */
    CORE_REPLY_SOCIAL,  /* small talk answered in kind: a greeting, thanks, goodbye */
    CORE_REPLY_COMMAND, /* the reply to a command */
} core_reply_kind;

typedef struct core_reply {
    core_reply_kind kind;
    int matched;         /* 1 only for CORE_REPLY_ANSWER */
    const char *topic;   /* id of the topic answered (owned by the bot's kb), or NULL */
    double score;
    int fallback;        /* answered by a search of the topics' texts, not by a keyword rule */
    int asks;            /* the message was shaped as a question ("what...", "can...", "...?") */
    int personal;        /* it asks a person about themselves ("did you ...?", "..., jess?") */
    int about_career;    /* it holds a word of the career ("coder", "coding") */
    const char *candidates[3]; /* the topics that came closest (ids, owned by the kb), best first */
    double candidate_scores[3];
    size_t n_candidates;
    char *text;          /* the reply, lines separated by '\n'; owned by the caller */
} core_reply;

/* Creates a bot that owns kb. On failure kb is freed too. */
core_bot *core_bot_new(core_kb *kb, const core_bot_options *opts, base_error *err);
void core_bot_free(core_bot *bot);

/* Answers one message. Returns BASE_OK, or BASE_ERR only when out of memory. */
int core_bot_reply(core_bot *bot, const core_request *req, core_reply *out);
void core_reply_clear(core_reply *reply);

/* A question the bot declined or was unsure of (kind decline or clarify,
 * or an answer from the passage search), for the knowledge maintainers. */
typedef struct core_unanswered {
    const core_request *request;
    const core_reply *reply;
} core_unanswered;

typedef void (*core_unanswered_cb)(void *ctx, const core_unanswered *u);

/* Calls cb for every unanswered question from now on (NULL: stop). cb must
 * not call back into the bot. */
void core_bot_on_unanswered(core_bot *bot, core_unanswered_cb cb, void *ctx);

/* "answer", "clarify", "decline", "social" or "command". */
const char *core_reply_kind_name(core_reply_kind kind);

/* Swaps in a new knowledge base (the bot owns it on success; on failure the
 * old one stays and kb is freed). Conversations are kept. */
int core_bot_replace_kb(core_bot *bot, core_kb *kb, base_error *err);
const core_kb *core_bot_kb(const core_bot *bot);

/* True when text (after leading spaces) is a command, e.g. "!salary";
 * prefixes NULL means the bot's own. */
int core_bot_is_command(const core_bot *bot, const char *prefixes, const char *text, size_t len);

#endif
