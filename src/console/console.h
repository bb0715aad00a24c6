/* The terminal transport: an interactive chat, or one JSON object per input
 * line when the output is for a program. Also the one-shot --ask. */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdio.h>

#include "careerbot/bot.h"

typedef enum console_format { CONSOLE_FORMAT_TEXT, CONSOLE_FORMAT_JSON } console_format;

/* Chats over in/out until end of input. Returns a process exit status. */
int console_run(core_bot *bot, FILE *in, FILE *out, console_format format, int interactive);
/* Answers one question and prints it. Returns a process exit status. */
int console_ask(core_bot *bot, const char *question, FILE *out, console_format format);
/* Prints a reply as the JSON object of the --format json contract. */
int console_print_json(const core_reply *reply, FILE *out);

#endif
