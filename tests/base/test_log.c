/* log.c: levels, the plain and journal styles, key=value context, quoting,
 * one line per event whatever the text holds, and secrets never written. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "test_util.h"

static FILE *out;

static int setup(void **state)
{
    (void)state;
    out = tmpfile();
    base_log_set_output(out);
    base_log_set_style(BASE_LOG_STYLE_PLAIN);
    base_log_set_level(BASE_LOG_INFO);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    base_log_set_output(NULL);
    base_log_set_style(BASE_LOG_STYLE_AUTO);
    base_log_forget_secrets();
    fclose(out);
    return 0;
}

/* Everything written so far, and the file emptied. */
static char *take(void)
{
    char *text = tu_slurp(out);
    assert_non_null(text);
    fclose(out);
    out = tmpfile();
    base_log_set_output(out);
    base_log_set_style(BASE_LOG_STYLE_PLAIN);
    return text;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    int rc = regexec(&rx, text, 0, NULL, 0);
    regfree(&rx);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
}

static void test_plain_line(void **state)
{
    (void)state;
    base_log(BASE_LOG_WARN, "irc.libera", "disconnected: %s", "timeout");
    char *text = take();
    assert_matches(text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                         "WARN network=irc\\.libera: disconnected: timeout\n$");
    free(text);
    base_log(BASE_LOG_INFO, "careerbot", "running %d networks", 2);
    text = take();
    assert_matches(text, "Z INFO careerbot: running 2 networks\n$");
    free(text);
}

static void test_context_fields(void **state)
{
    (void)state;
    base_log_kv(BASE_LOG_INFO, "irc.libera", (const char *[]){"channel", "#careers", "event", "join", NULL},
                "joined %s", "#careers");
    char *text = take();
    assert_matches(text, "Z INFO network=irc\\.libera channel=#careers event=join: joined #careers\n$");
    free(text);
    /* A NULL value leaves its pair out; values with spaces, quotes or colons are quoted. */
    base_log_kv(BASE_LOG_INFO, NULL,
                (const char *[]){"room", NULL, "event", "status", "why", "say \"hi\": now", "empty", "", NULL},
                "x");
    text = take();
    assert_matches(text, "Z INFO event=status why=\"say \\\\\"hi\\\\\": now\" empty=\"\": x\n$");
    free(text);
}

static void test_levels(void **state)
{
    (void)state;
    base_log(BASE_LOG_DEBUG, "irc.a", "hidden");
    base_log_set_level(BASE_LOG_DEBUG);
    base_log(BASE_LOG_DEBUG, "irc.a", "shown");
    base_log_set_level(BASE_LOG_WARN);
    base_log(BASE_LOG_INFO, "irc.a", "hidden too");
    base_log(BASE_LOG_ERROR, "irc.a", "an error");
    assert_int_equal(base_log_get_level(), BASE_LOG_WARN);
    char *text = take();
    assert_false(tu_contains(text, "hidden"));
    assert_matches(text, "DEBUG network=irc\\.a: shown\n");
    assert_matches(text, "ERROR network=irc\\.a: an error\n");
    free(text);
    assert_int_equal(base_log_level_from_name("debug"), BASE_LOG_DEBUG);
    assert_int_equal(base_log_level_from_name("warning"), BASE_LOG_WARN);
    assert_int_equal(base_log_level_from_name("error"), BASE_LOG_ERROR);
    assert_int_equal(base_log_level_from_name("notice"), BASE_LOG_NOTICE);
    assert_int_equal(base_log_level_from_name("info"), BASE_LOG_INFO);
    assert_int_equal(base_log_level_from_name("loud"), -1);
    assert_int_equal(base_log_level_from_name(NULL), -1);
    assert_string_equal(base_log_level_name(BASE_LOG_NOTICE), "notice");
}

/* journald reads "<N>" as the priority and stamps the time itself. */
static void test_journal_style(void **state)
{
    (void)state;
    base_log_set_style(BASE_LOG_STYLE_JOURNAL);
    base_log(BASE_LOG_ERROR, "matrix.home", "a");
    base_log(BASE_LOG_WARN, "matrix.home", "b");
    base_log(BASE_LOG_INFO, "careerbot", "c");
    base_log_set_level(BASE_LOG_DEBUG);
    base_log(BASE_LOG_NOTICE, NULL, "d");
    base_log(BASE_LOG_DEBUG, NULL, "e");
    char *text = take();
    assert_string_equal(text, "<3>network=matrix.home: a\n<4>network=matrix.home: b\n<6>careerbot: c\n<5>: d\n<7>: e\n");
    free(text);
}

/* AUTO picks the journal style only when JOURNAL_STREAM names the stream. */
static void test_journal_stream_detected(void **state)
{
    (void)state;
    base_log_set_style(BASE_LOG_STYLE_AUTO);
    setenv("JOURNAL_STREAM", "1:2", 1);
    base_log(BASE_LOG_INFO, "irc.a", "not the journal's stream");
    struct stat st;
    assert_int_equal(fstat(fileno(out), &st), 0);
    char v[64];
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
    base_log_set_style(BASE_LOG_STYLE_AUTO); /* looks again */
    base_log(BASE_LOG_INFO, "irc.a", "the journal's stream");
    unsetenv("JOURNAL_STREAM");
    char *text = tu_slurp(out);
    assert_matches(text, "^[0-9-]+T[0-9:.]+Z INFO network=irc\\.a: not the journal's stream\n"
                         "<6>network=irc\\.a: the journal's stream\n$");
    free(text);
}

/* Whatever a server sends, one event is one line. */
static void test_one_line_per_event(void **state)
{
    (void)state;
    base_log(BASE_LOG_INFO, "irc.a", "from server: %s", "line1\r\nFAKE INFO line2\x01\x7f\ttab");
    char *text = take();
    assert_matches(text, "^[^\n]*: from server: line1\\\\r\\\\nFAKE INFO line2\\\\x01\\\\x7f\\\\ttab\n$");
    free(text);
    char big[10000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    base_log(BASE_LOG_INFO, "irc.a", "%s", big);
    text = take();
    assert_true(strlen(text) < 4200);
    assert_matches(text, "^[^\n]*x \\[cut\\]\n$");
    free(text);
}

static void test_secrets_never_written(void **state)
{
    (void)state;
    assert_int_equal(base_log_add_secret("hunter2-password"), 0);
    assert_int_equal(base_log_add_secret("syt_token_value"), 0);
    assert_int_equal(base_log_add_secret("abc"), 0); /* too short to hide: kept out */
    base_log_kv(BASE_LOG_INFO, "irc.a", (const char *[]){"arg", "xsyt_token_valuex", NULL},
                "PASS hunter2-password and hunter2-password; abc stays");
    char *text = take();
    assert_false(tu_contains(text, "hunter2"));
    assert_false(tu_contains(text, "syt_token"));
    assert_matches(text, "arg=x\\*\\*\\*x: PASS \\*\\*\\* and \\*\\*\\*; abc stays\n$");
    free(text);
    base_log_forget_secrets();
    base_log(BASE_LOG_INFO, "irc.a", "hunter2-password");
    text = take();
    assert_true(tu_contains(text, "hunter2-password"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_style, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_stream_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_line_per_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_never_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
