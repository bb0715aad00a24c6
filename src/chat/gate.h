/* The reply gate: the one place that decides whether and how the bot
 * answers a chat message, for every transport. A transport turns its
 * protocol into facts (a chat_message: direct or group, mentioned by the
 * protocol, the sender, a bot tag, the room's listen setting, its queue,
 * the clock) and turns the decision back into protocol (a reply line, a
 * notice, nothing). Addressing by name, commands, listen-mode confidence,
 * per-person and per-room limits and busy notices live here, so IRC and
 * Matrix behave alike. Pure: no I/O, time passed in, nothing logged (the
 * decision says why, and the transport logs it). */
#ifndef CHAT_GATE_H
#define CHAT_GATE_H

#include <stddef.h>

#include "base/error.h"
#include "careerbot/bot.h"
#include "chat/address.h"

/* The default least score a listen room answers unasked (listen_min_score). */
#define CHAT_LISTEN_MIN_SCORE 1.5

typedef struct chat_gate_config {
    const char *network;          /* the network's name, part of every conversation's key */
    const char *network_kind;     /* "irc", "matrix": what the unanswered log records; NULL: "chat" */
    const char *command_prefixes; /* NULL: the bot's own */
    double listen_min_score;      /* listen rooms: the least score answered unaddressed */
    int limits;                   /* 0: no limits at all (private servers, benchmarks) */
    double user_burst, user_rate; /* questions per person: a burst, then this many a second */
    double room_burst, room_rate; /* answers per room */
    const char *const *ignore;    /* senders never answered (other bots), compared under casemap */
    size_t n_ignore;
    chat_casemap casemap;
} chat_gate_config;

typedef struct chat_gate chat_gate;

/* A gate over bot (borrowed: it must outlive the gate); config is copied.
 * NULL when out of memory. */
chat_gate *chat_gate_new(core_bot *bot, const chat_gate_config *config);
void chat_gate_free(chat_gate *g);
/* IRC learns the server's casemapping after connecting. */
void chat_gate_set_casemap(chat_gate *g, chat_casemap map);
/* Replaces the ignore list (an operator's !ignore and !unignore); items are
 * copied. BASE_ERR when out of memory (the old list stays). */
int chat_gate_set_ignore(chat_gate *g, const char *const *items, size_t n);

/* One message, as facts. */
typedef struct chat_message {
    const char *room;         /* channel or room id; for a direct message the conversation's own
                                 key (IRC: the sender's nick) */
    const char *sender;       /* nick or user id */
    const char *text;         /* the body, any bytes, after protocol clean-up (a Matrix reply
                                 fallback removed); need not be NUL-terminated */
    size_t len;
    int direct;               /* a one-to-one conversation: every message is for the bot */
    int mentioned;            /* the protocol says the bot was mentioned (Matrix m.mentions, a pill) */
    int from_bot;             /* the sender is a bot (IRCv3 bot tag): bots never answer bots */
    int listen;               /* the room answers confident unaddressed questions */
    int unknown_commands;     /* the room wants an answer to unknown commands too; elsewhere in a group
                                 "!seen bob" is left alone, being probably for another bot */
    const char *const *names; /* what people call the bot at the start of a line: nick, user id,
                                 localpart, display name (NULL entries are skipped) */
    size_t n_names;
    size_t queue_used;        /* the transport's output queue now, and its size: a nearly full */
    size_t queue_max;         /* queue sheds new work (0: no queue to watch) */
    double now;               /* seconds on a monotonic clock */
} chat_message;

typedef enum chat_action {
    CHAT_SILENT, /* say nothing (see why) */
    CHAT_ANSWER, /* send text as the answer */
    CHAT_BUSY,   /* tell the sender to wait: text is the notice */
} chat_action;

/* How the message reached the bot. */
typedef enum chat_via {
    CHAT_VIA_NONE,    /* it did not: not addressed */
    CHAT_VIA_DIRECT,  /* a direct message */
    CHAT_VIA_NAME,    /* "careerbot: ..." */
    CHAT_VIA_MENTION, /* the protocol's mention */
    CHAT_VIA_COMMAND, /* "!salary" */
    CHAT_VIA_LISTEN,  /* unaddressed, in a listen room */
} chat_via;

typedef struct chat_decision {
    chat_action action;
    chat_via via;
    const char *why;  /* for the log: why silent or busy, or how it was addressed (static text) */
    char *text;       /* CHAT_ANSWER: the reply; CHAT_BUSY: the notice; NULL when silent.
                         Owned by the decision: chat_decision_clear */
    int matched;      /* for the log: the reply answered a topic */
    const char *topic;/* its id (owned by the bot's knowledge base), or NULL */
    double score;
} chat_decision;

/* Decides what to do with m. Returns BASE_OK, or BASE_ERR when out of
 * memory (out is then silent). */
int chat_gate_decide(chat_gate *g, const chat_message *m, chat_decision *out);
void chat_decision_clear(chat_decision *d);

/* Whether a listen room would get this reply unasked: only a clear answer
 * (kind answer, a topic, from a keyword rule, score at least min_score, or
 * two thirds of it with a word of the career) to a message shaped as a
 * question and not put to a person ("did you ...?"). The JSON contract's
 * "listen" field uses it too, so precision can be measured without a
 * server. */
int chat_gate_listen_answers(const core_reply *reply, double min_score);

/* A short name for how the message came, for log lines ("direct", "name",
 * "mention", "command", "listen", "none"). */
const char *chat_via_name(chat_via via);

/* What the gate decided since it was made, for the status report: replies
 * sent, by the kind of reply, and "give me a moment" notices. */
typedef struct chat_gate_counts {
    size_t answered;  /* answers about the career */
    size_t declined;  /* off-topic or not understood: the polite "I can only help with ..." */
    size_t clarified; /* a question back ("which did you mean?") */
    size_t other;     /* small talk and replies to commands */
    size_t busy;      /* told to wait: the person, the room or the queue was over its limit */
} chat_gate_counts;
void chat_gate_get_counts(const chat_gate *g, chat_gate_counts *out);

/* The transport could not queue an answer or a notice (its queue was full).
 * Returns 1 when this starts a run of drops: log it once. */
int chat_gate_dropped(chat_gate *g);
/* The transport queued something again. Returns how many were dropped in
 * the run that just ended (0: none): log it when not 0. */
size_t chat_gate_recovered(chat_gate *g);

#endif
