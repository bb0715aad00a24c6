/* The terminal transport: an interactive chat, or one JSON object per input
 * line when the output is for a program. Also the one-shot --ask. */
#ifndef CB_CONSOLE_H
#define CB_CONSOLE_H

#include <stdio.h>

#include "bot.h"

typedef enum cb_format { CB_FORMAT_TEXT, CB_FORMAT_JSON } cb_format;

/* Chats over in/out until end of input. Returns a process exit status. */
int cb_console_run(cb_bot *bot, FILE *in, FILE *out, cb_format format, int interactive);
/* Answers one question and prints it. Returns a process exit status. */
int cb_console_ask(cb_bot *bot, const char *question, FILE *out, cb_format format);
/* Prints a reply as the JSON object of the --format json contract. */
int cb_reply_print_json(const cb_reply *reply, FILE *out);

#endif
