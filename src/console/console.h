/* The terminal transport: an interactive chat, or one JSON object per input
 * line when the output is for a program. Also the one-shot --ask. */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdio.h>

#include "careerbot/bot.h"

typedef enum console_format { CONSOLE_FORMAT_TEXT, CONSOLE_FORMAT_JSON } console_format;

/* Chats over in/out until end of input. Returns a process exit status.
 * interactive: a person at a terminal (a banner and a prompt). Then, when in
 * is a terminal and the build has libedit, lines are edited (arrows,
 * Ctrl-A/E, Ctrl-R) and kept in console_history_path(); when out is a
 * terminal, answers are wrapped to its width, with a little colour unless
 * NO_COLOR is set. Anything else (piped input, --format json) is read and
 * written plainly, line by line. */
int console_run(core_bot *bot, FILE *in, FILE *out, console_format format, int interactive);
/* Answers one question and prints it. Returns a process exit status. */
int console_ask(core_bot *bot, const char *question, FILE *out, console_format format);
/* Prints a reply as the JSON object of the --format json contract. */
int console_print_json(const core_reply *reply, FILE *out);

/* 1 when this build edits lines with libedit. */
int console_line_editing_available(void);
/* Where the history is kept: $XDG_STATE_HOME/careerbot/history, else
 * $HOME/.local/state/careerbot/history. Caller frees; NULL without either. */
char *console_history_path(void);

/* How a reply is shown on a terminal. */
typedef struct console_view {
    size_t width; /* wrap to this many columns; 0: no wrapping */
    int color;    /* ANSI colour for titles, list numbers and commands */
} console_view;

/* text wrapped at spaces to width columns (UTF-8 characters counted as one;
 * a word longer than a line is left whole). Line breaks in text are kept;
 * the lines of a list item ("1. ", "- ") go on under its text. Caller frees;
 * NULL when out of memory. */
char *console_wrap(const char *text, size_t width);
/* text with colour: a title at the start of a line ("Commands:") and list
 * numbers in bold, commands ("/help", "!step") in cyan. Caller frees. */
char *console_paint(const char *text);

#endif
