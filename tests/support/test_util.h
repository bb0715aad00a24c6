/* Helpers shared by the unit tests: temporary knowledge directories, the
 * fixture knowledge base, and a one-call way to ask the bot something. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>

#include "careerbot/bot.h"
#include "careerbot/kb.h"
#include "test_files.h"

#define TU_MINI_KB CAREERBOT_TEST_DATA "/kb-mini"


/* Loads a directory and fails the test with the loader's message on error. */
core_kb *tu_load(const char *dir);
/* Loads one JSON document and fails the test on error. */
core_kb *tu_load_string(const char *json);
/* A bot over the kb-mini fixture (prefixes NULL for the default "/!"). */
core_bot *tu_mini_bot(const char *prefixes);

/* Sends text as user in room "#room" of network "net" at time now. The reply
 * text stays valid until the next tu_say or tu_say_clear. */
const core_reply *tu_say_in(core_bot *bot, const char *network, const char *room, const char *user,
                          double now, const char *text);
const core_reply *tu_say(core_bot *bot, const char *text);
void tu_say_clear(void);

/* Reads a whole stream from its start into a malloc'd string. */
char *tu_slurp(void *file);


/* 1 when haystack contains needle. */
int tu_contains(const char *haystack, const char *needle);

#endif
