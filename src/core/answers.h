/* Reply builders shared by the question path and the commands. They write
 * into a core_reply and update the conversation state the reply belongs to. */
#ifndef CORE_ANSWERS_H
#define CORE_ANSWERS_H

#include "careerbot/bot.h"
#include "core/dialog.h"
#include "careerbot/kb.h"

/* The topic's answer; records it as the conversation's last answer. */
int core_answer_topic(const core_kb *kb, core_dialog_state *st, const core_topic *t, double score,
                    const char *evidence, core_reply *out);
/* Two topics in one reply (a two-part question). */
int core_answer_two(const core_kb *kb, core_dialog_state *st, const core_topic *a, const core_topic *b,
                  double score, const char *evidence, core_reply *out);
/* What follows the last answer: the next step, or a related topic. */
int core_answer_next(const core_kb *kb, core_dialog_state *st, core_reply *out);
/* More on the last answer: its details, then its related topics. */
int core_answer_more(const core_kb *kb, core_dialog_state *st, core_reply *out);
/* A reply made of text alone, of the given kind (matched only for an answer). */
int core_answer_text(const char *text, core_reply_kind kind, core_reply *out);

/* Runs a command (name without prefix, args after it). prefix is the
 * character to show in hints. */
int core_command_run(const core_kb *kb, core_dialog_state *st, char prefix, const char *name,
                   const char *args, core_reply *out);

#endif
