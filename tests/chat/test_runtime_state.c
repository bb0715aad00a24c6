/* What operators change at runtime: joins and parts against the configured
 * channels, ignores and unignores, the ignore list in force, the file (a
 * round trip, mode 0600, no temporary file left, a damaged or oversized
 * file refused and nothing taken from it), and the bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "chat/runtime_state.h"
#include "test_files.h"

static void test_changes(void **state)
{
    (void)state;
    chat_runtime rt;
    chat_runtime_init(&rt, CHAT_CASE_RFC1459, 0);
    /* configured #careers parted, then joined again: no change left */
    assert_int_equal(chat_runtime_part(&rt, "#careers", 1), BASE_OK);
    assert_true(chat_runtime_is_parted(&rt, "#CAREERS"));
    assert_int_equal(chat_runtime_join(&rt, "#Careers", NULL, 1), BASE_OK);
    assert_false(chat_runtime_is_parted(&rt, "#careers"));
    assert_int_equal(rt.n_joined, 0);
    /* a new channel joined with a key, the key changed, then parted: nothing left */
    assert_int_equal(chat_runtime_join(&rt, "#ops", "k1", 0), BASE_OK);
    assert_int_equal(chat_runtime_join(&rt, "#OPS", "k2", 0), BASE_OK);
    assert_int_equal(rt.n_joined, 1);
    assert_string_equal(rt.joined_keys[0], "k2");
    assert_int_equal(chat_runtime_part(&rt, "#ops", 0), BASE_OK);
    assert_int_equal(rt.n_joined, 0);
    assert_int_equal(rt.n_parted, 0); /* not configured: nothing to remember */
    /* ignores: a configured one removed, a new one added */
    assert_int_equal(chat_runtime_unignore(&rt, "OtherBot", 1), BASE_OK);
    assert_int_equal(chat_runtime_ignore(&rt, "spam[1]", 0), BASE_OK);
    assert_int_equal(chat_runtime_ignore(&rt, "SPAM{1}", 0), BASE_OK); /* the same nick under rfc1459 */
    assert_int_equal(rt.n_ignored, 1);
    const char *const configured[] = {"otherbot", "helperbot"};
    const char *list[8];
    size_t n = chat_runtime_ignores(&rt, configured, 2, list);
    assert_int_equal(n, 2);
    assert_string_equal(list[0], "helperbot");
    assert_string_equal(list[1], "spam[1]");
    assert_int_equal(chat_runtime_ignore(&rt, "otherbot", 1), BASE_OK); /* back as configured */
    assert_int_equal(chat_runtime_unignore(&rt, "spam[1]", 0), BASE_OK);
    assert_int_equal(chat_runtime_ignores(&rt, configured, 2, list), 2);
    assert_int_equal(rt.n_ignored + rt.n_unignored, 0);
    chat_runtime_free(&rt);

    /* Matrix ids compare exactly. */
    chat_runtime_init(&rt, CHAT_CASE_ASCII, 1);
    assert_int_equal(chat_runtime_ignore(&rt, "@a:example.org", 0), BASE_OK);
    assert_int_equal(chat_runtime_ignore(&rt, "@A:example.org", 0), BASE_OK);
    assert_int_equal(rt.n_ignored, 2);
    chat_runtime_free(&rt);
}

static void test_bounded(void **state)
{
    (void)state;
    chat_runtime rt;
    chat_runtime_init(&rt, CHAT_CASE_RFC1459, 0);
    char name[32];
    for (int i = 0; i < CHAT_RUNTIME_MAX; i++) {
        snprintf(name, sizeof name, "nick%d", i);
        assert_int_equal(chat_runtime_ignore(&rt, name, 0), BASE_OK);
    }
    assert_int_equal(chat_runtime_ignore(&rt, "onemore", 0), BASE_ERR);
    assert_int_equal(rt.n_ignored, CHAT_RUNTIME_MAX);
    assert_int_equal(chat_runtime_ignore(&rt, "nick7", 0), BASE_OK); /* already there: fine */
    chat_runtime_free(&rt);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/irc-x.runtime.json", dir);
    chat_runtime rt, back;
    chat_runtime_init(&rt, CHAT_CASE_RFC1459, 0);
    chat_runtime_init(&back, CHAT_CASE_RFC1459, 0);
    base_error err;
    /* No file yet: nothing changed, no error. */
    assert_int_equal(chat_runtime_load(&back, path, &err), BASE_OK);
    assert_int_equal(back.n_joined + back.n_parted + back.n_ignored + back.n_unignored, 0);
    assert_int_equal(chat_runtime_join(&rt, "#ops", "key", 0), BASE_OK);
    assert_int_equal(chat_runtime_join(&rt, "#open", NULL, 0), BASE_OK);
    assert_int_equal(chat_runtime_part(&rt, "#careers", 1), BASE_OK);
    assert_int_equal(chat_runtime_ignore(&rt, "spam", 0), BASE_OK);
    assert_int_equal(chat_runtime_unignore(&rt, "otherbot", 1), BASE_OK);
    assert_int_equal(chat_runtime_save(&rt, dir, "irc-x.runtime.json", &err), BASE_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *tmp = tu_read(dir, ".irc-x.runtime.json.tmp");
    assert_null(tmp); /* written through a temporary file, renamed over */
    assert_int_equal(chat_runtime_load(&back, path, &err), BASE_OK);
    assert_int_equal(back.n_joined, 2);
    assert_string_equal(back.joined[0], "#ops");
    assert_string_equal(back.joined_keys[0], "key");
    assert_string_equal(back.joined[1], "#open");
    assert_null(back.joined_keys[1]);
    assert_true(chat_runtime_is_parted(&back, "#careers"));
    assert_int_equal(back.n_ignored, 1);
    assert_string_equal(back.ignored[0], "spam");
    assert_true(chat_runtime_is_unignored(&back, "otherbot"));
    /* Saved again over the old one. */
    assert_int_equal(chat_runtime_part(&rt, "#ops", 0), BASE_OK);
    assert_int_equal(chat_runtime_save(&rt, dir, "irc-x.runtime.json", &err), BASE_OK);
    assert_int_equal(chat_runtime_load(&back, path, &err), BASE_OK);
    assert_int_equal(back.n_joined, 1);
    chat_runtime_free(&rt);
    chat_runtime_free(&back);
    /* A folder that is not there: an error, not a crash. */
    assert_int_equal(chat_runtime_save(&rt, "/nonexistent/dir", "x.json", &err), BASE_ERR);
    tu_rmtree(dir);
}

static void test_broken_files(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/s.json", dir);
    static const char *const bad[] = {
        "{not json",
        "[]",
        "{\"version\": 2}",
        "{\"version\": 1, \"joined\": \"#a\"}",
        "{\"version\": 1, \"joined\": [{\"key\": \"k\"}]}",
        "{\"version\": 1, \"joined\": [{\"name\": \"#a\", \"key\": 5}]}",
        "{\"version\": 1, \"parted\": [\"\"]}",
        "{\"version\": 1, \"ignored\": [\"two words\"]}",
        "{\"version\": 1, \"ignored\": [\"a\\u0001b\"]}",
        "{\"version\": 1, \"unignored\": [7]}",
        "{\"version\": 1, \"ignored\": [\"a\"], \"ignored\": [\"b\"]}",
    };
    chat_runtime rt;
    chat_runtime_init(&rt, CHAT_CASE_RFC1459, 0);
    base_error err;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_write(dir, "s.json", bad[i]);
        if (chat_runtime_load(&rt, path, &err) != BASE_ERR)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(err.text, "damaged"));
        assert_int_equal(rt.n_joined + rt.n_parted + rt.n_ignored + rt.n_unignored, 0);
    }
    /* Too many items, and too large a file. */
    size_t cap = CHAT_RUNTIME_FILE_MAX + 100;
    char *big = malloc(cap + 1);
    assert_non_null(big);
    size_t len = (size_t)snprintf(big, cap, "{\"version\": 1, \"ignored\": [");
    for (int i = 0; i <= CHAT_RUNTIME_MAX; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s\"n%d\"", i ? "," : "", i);
    snprintf(big + len, cap - len, "]}");
    tu_write(dir, "s.json", big);
    assert_int_equal(chat_runtime_load(&rt, path, &err), BASE_ERR);
    memset(big, ' ', cap);
    big[cap] = '\0';
    tu_write(dir, "s.json", big);
    assert_int_equal(chat_runtime_load(&rt, path, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "larger than"));
    free(big);
    /* A file that cannot be read (a folder in its place). */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/dir.json", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(chat_runtime_load(&rt, sub, &err), BASE_ERR);
    chat_runtime_free(&rt);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_broken_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
