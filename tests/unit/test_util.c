#include "test_util.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cb_kb *tu_load(const char *dir)
{
    cb_kb *kb = NULL;
    cb_error err = {{0}};
    if (cb_kb_load(dir, &kb, &err) != CB_OK)
        fail_msg("cb_kb_load(%s) failed: %s", dir, err.text);
    assert_non_null(kb);
    return kb;
}

cb_kb *tu_load_string(const char *json)
{
    cb_kb *kb = NULL;
    cb_error err = {{0}};
    if (cb_kb_load_string(json, strlen(json), "inline.json", &kb, &err) != CB_OK)
        fail_msg("cb_kb_load_string failed: %s", err.text);
    assert_non_null(kb);
    return kb;
}

cb_bot *tu_mini_bot(const char *prefixes)
{
    cb_bot_options opts = {.command_prefixes = prefixes};
    cb_error err = {{0}};
    cb_bot *bot = cb_bot_new(tu_load(TU_MINI_KB), &opts, &err);
    if (!bot)
        fail_msg("cb_bot_new failed: %s", err.text);
    return bot;
}

static cb_reply last_reply;

void tu_say_clear(void)
{
    cb_reply_clear(&last_reply);
}

const cb_reply *tu_say_in(cb_bot *bot, const char *network, const char *room, const char *user,
                          double now, const char *text)
{
    tu_say_clear();
    cb_request req = {.network = network, .room = room, .user = user, .now = now, .text = text,
                      .len = strlen(text)};
    assert_int_equal(cb_bot_reply(bot, &req, &last_reply), CB_OK);
    assert_non_null(last_reply.text);
    return &last_reply;
}

const cb_reply *tu_say(cb_bot *bot, const char *text)
{
    return tu_say_in(bot, "net", "#room", "alice", 100.0, text);
}

char *tu_slurp(void *file)
{
    FILE *f = file;
    assert_int_equal(fflush(f), 0);
    rewind(f);
    size_t cap = 1024, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    return buf;
}

int tu_contains(const char *haystack, const char *needle)
{
    return haystack && needle && strstr(haystack, needle) != NULL;
}

