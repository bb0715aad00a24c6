/* Reply builders shared by the question path and the commands. They write
 * into a core_reply and update the conversation state the reply belongs to. */
#ifndef CORE_ANSWERS_H
#define CORE_ANSWERS_H

#include "careerbot/bot.h"
#include "careerbot/kb.h"
#include "core/dialog.h"

/* One turn of a conversation: what every reply builder needs. */
typedef struct core_turn {
    const core_kb *kb;
    core_dialog_state *st; /* the conversation's state (never NULL) */
    int brief;             /* a group channel: long answers are shortened, the rest on "more" */
    char prefix;           /* the command prefix to show in hints */
} core_turn;

/* The topic's answer (its brief form, or its first two lines, when the turn
 * is brief); records it as the conversation's last answer. */
int core_answer_topic(const core_turn *t, const core_topic *topic, double score, const char *evidence,
                      core_reply *out);
/* Two topics in one reply (a two-part question, or "both"). */
int core_answer_two(const core_turn *t, const core_topic *a, const core_topic *b, double score,
                    const char *evidence, core_reply *out);
/* One facet of the last topic ("is that per year?"); the topic stays the
 * conversation's subject. */
int core_answer_facet(const core_turn *t, const core_topic *topic, size_t facet, core_reply *out);
/* A follow-up the article does not answer: the facet kind's honest reply. */
int core_answer_silent(const core_turn *t, const core_topic *topic, size_t kind, core_reply *out);
/* Which of two is better: the knowledge base's "can't rank" line and each
 * one's short form. */
int core_answer_compare(const core_turn *t, const core_topic *a, const core_topic *b, core_reply *out);
/* What follows the last answer: the next step, or a related topic. */
int core_answer_next(const core_turn *t, core_reply *out);
/* More on the last answer: the rest of a shortened answer, then its
 * details, then its related topics. */
int core_answer_more(const core_turn *t, core_reply *out);
/* Small talk of the given kind (an index into the bot texts' social). */
int core_answer_social(const core_turn *t, size_t social, core_reply *out);
/* A reply made of text alone, of the given kind (matched only for an answer). */
int core_answer_text(const char *text, core_reply_kind kind, core_reply *out);

/* Runs a command (name without prefix, args after it). */
int core_command_run(const core_turn *t, const char *name, const char *args, core_reply *out);

#endif
