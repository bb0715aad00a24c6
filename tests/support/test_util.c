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

core_kb *tu_load(const char *dir)
{
    core_kb *kb = NULL;
    base_error err = {0};
    if (core_kb_load(dir, &kb, &err) != BASE_OK)
        fail_msg("core_kb_load(%s) failed: %s", dir, err.text);
    assert_non_null(kb);
    return kb;
}

core_kb *tu_load_string(const char *json)
{
    core_kb *kb = NULL;
    base_error err = {0};
    if (core_kb_load_string(json, strlen(json), "inline.json", &kb, &err) != BASE_OK)
        fail_msg("core_kb_load_string failed: %s", err.text);
    assert_non_null(kb);
    return kb;
}

core_bot *tu_mini_bot(const char *prefixes)
{
    core_bot_options opts = {.command_prefixes = prefixes};
    base_error err = {0};
    core_bot *bot = core_bot_new(tu_load(TU_MINI_KB), &opts, &err);
    if (!bot)
        fail_msg("core_bot_new failed: %s", err.text);
    return bot;
}

static core_reply last_reply;

void tu_say_clear(void)
{
    core_reply_clear(&last_reply);
}

const core_reply *tu_say_in(core_bot *bot, const char *network, const char *room, const char *user,
                          double now, const char *text)
{
    tu_say_clear();
    core_request req = {.network = network, .room = room, .user = user, .now = now, .text = text,
                      .len = strlen(text)};
    assert_int_equal(core_bot_reply(bot, &req, &last_reply), BASE_OK);
    assert_non_null(last_reply.text);
    return &last_reply;
}

const core_reply *tu_say(core_bot *bot, const char *text)
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

