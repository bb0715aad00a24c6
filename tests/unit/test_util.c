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

/* Directories made and not yet removed: a failing test longjmps past its
 * clean-up, so whatever is left is removed when the program exits. */
#define MAX_TEMP_DIRS 64
static char *temp_dirs[MAX_TEMP_DIRS];

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void remove_left_over_dirs(void)
{
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (temp_dirs[i]) {
            remove_dir(temp_dirs[i]);
            free(temp_dirs[i]);
            temp_dirs[i] = NULL;
        }
    }
}

static void track_dir(const char *dir)
{
    static int registered;
    if (!registered) {
        atexit(remove_left_over_dirs);
        registered = 1;
    }
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (!temp_dirs[i]) {
            temp_dirs[i] = strdup(dir);
            return;
        }
    }
}

static void untrack_dir(const char *dir)
{
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (temp_dirs[i] && !strcmp(temp_dirs[i], dir)) {
            free(temp_dirs[i]);
            temp_dirs[i] = NULL;
        }
    }
}

char *tu_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/careerbot-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *made = mkdtemp(path);
    assert_non_null(made);
    char *out = strdup(made);
    assert_non_null(out);
    track_dir(out);
    return out;
}

void tu_write(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

void tu_rmtree(char *dir)
{
    if (!dir)
        return;
    remove_dir(dir);
    untrack_dir(dir);
    free(dir);
}

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

