/* Reply builders shared by the question path and the commands. They write
 * into a cb_reply and update the conversation state the reply belongs to. */
#ifndef CB_ANSWERS_H
#define CB_ANSWERS_H

#include "bot.h"
#include "dialog.h"
#include "kb.h"

/* The topic's answer; records it as the conversation's last answer. */
int cb_answer_topic(const cb_kb *kb, cb_dialog_state *st, const cb_topic *t, double score,
                    const char *evidence, cb_reply *out);
/* Two topics in one reply (a two-part question). */
int cb_answer_two(const cb_kb *kb, cb_dialog_state *st, const cb_topic *a, const cb_topic *b,
                  double score, const char *evidence, cb_reply *out);
/* What follows the last answer: the next step, or a related topic. */
int cb_answer_next(const cb_kb *kb, cb_dialog_state *st, cb_reply *out);
/* More on the last answer: its details, then its related topics. */
int cb_answer_more(const cb_kb *kb, cb_dialog_state *st, cb_reply *out);
/* A reply that answers nothing (decline, error message): matched = 0. */
int cb_answer_text(const char *text, cb_reply *out);

/* Runs a command (name without prefix, args after it). prefix is the
 * character to show in hints. */
int cb_command_run(const cb_kb *kb, cb_dialog_state *st, char prefix, const char *name,
                   const char *args, cb_reply *out);

#endif
