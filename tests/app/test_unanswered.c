/* The unanswered log: which questions reach it (declined, unsure, asked;
 * not answers, commands, small talk or listen-room chatter), what a line
 * holds (no user unless asked), its file mode, and the report's groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "app/unanswered.h"
#include "test_util.h"

#define CONV_KB CAREERBOT_TEST_DATA "/kb-conversation"

static char *dir;
static char path[1200];

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    snprintf(path, sizeof path, "%s/unanswered.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

static void ask(core_bot *bot, const char *text, int unasked)
{
    core_request req = {"libera", "#careers", "alice", 1, text, strlen(text), NULL, 0, unasked, "irc"};
    core_reply r;
    assert_int_equal(core_bot_reply(bot, &req, &r), BASE_OK);
    core_reply_clear(&r);
}

static char *run(int with_users)
{
    base_error err;
    core_bot *bot = core_bot_new(tu_load(CONV_KB), NULL, &err);
    assert_non_null(bot);
    app_unanswered_log *log = app_unanswered_open(path, with_users, &err);
    if (!log)
        fail_msg("%s", err.text);
    core_bot_on_unanswered(bot, app_unanswered_record, log);
    ask(bot, "what does a pharmacist earn", 0); /* declined: logged */
    ask(bot, "what is the pay", 0);             /* answered */
    ask(bot, "!nope", 0);                       /* a command */
    ask(bot, "hi", 0);                          /* small talk */
    ask(bot, "the weather is nice", 1);         /* a listen room's chatter */
    ask(bot, "how is the weather", 0);          /* declined: logged */
    core_bot_free(bot);
    app_unanswered_close(log);
    return tu_read(dir, "unanswered.log");
}

static void test_what_is_logged(void **state)
{
    (void)state;
    char *text = run(0);
    assert_non_null(text);
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 2);
    assert_non_null(strstr(text, "\"network\":\"irc\""));
    assert_non_null(strstr(text, "\"kind\":\"decline\""));
    assert_non_null(strstr(text, "\"question\":\"what does a pharmacist earn\""));
    assert_non_null(strstr(text, "{\"topic\":\"pay\",\"score\":2"));
    assert_null(strstr(text, "alice")); /* nobody's name unless asked */
    assert_null(strstr(text, "what is the pay"));
    assert_null(strstr(text, "nice"));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(text);
    /* Appended, and with who asked when asked to. */
    text = run(1);
    assert_non_null(strstr(text, "\"user\":\"alice\""));
    free(text);
}

static void test_report_groups(void **state)
{
    (void)state;
    tu_write(dir, "unanswered.log",
             "{\"question\":\"how much does a pharmacist earn\",\"candidates\":[{\"topic\":\"pay\",\"score\":1}]}\n"
             "{\"question\":\"pharmacists pay\",\"candidates\":[{\"topic\":\"pay\",\"score\":1}]}\n"
             "not json at all\n"
             "{\"question\":\"\"}\n"
             "{\"question\":\"is it rainy\"}\n"
             "{\"question\":\"what do pharmacists do\",\"candidates\":[{\"topic\":\"cert\",\"score\":0.5}]}\n");
    base_error err;
    core_kb *kb = tu_load(CONV_KB);
    FILE *out = tmpfile(), *errf = tmpfile();
    assert_int_equal(app_unanswered_report(path, kb, out, errf), 0);
    char *text = tu_slurp(out);
    fclose(out);
    fclose(errf);
    core_kb_free(kb);
    (void)err;
    /* The pharmacists group first (three questions: the stem joins them), then the rest. */
    assert_non_null(strstr(text, "4 questions in 2 groups"));
    assert_non_null(strstr(text, "left out"));
    const char *big = strstr(text, "    3  pharmacist:");
    const char *small = strstr(text, "    1  rainy:");
    assert_non_null(big);
    assert_non_null(small);
    assert_true(big < small);
    assert_non_null(strstr(big, "closest topic: pay"));
    free(text);
}

static void test_report_errors(void **state)
{
    (void)state;
    FILE *out = tmpfile(), *errf = tmpfile();
    assert_int_equal(app_unanswered_report("/nonexistent/unanswered.log", NULL, out, errf), 1);
    char *text = tu_slurp(errf);
    assert_non_null(strstr(text, "/nonexistent/unanswered.log"));
    free(text);
    fclose(out);
    fclose(errf);
    base_error err;
    assert_null(app_unanswered_open("/nonexistent/dir/log", 0, &err));
    assert_non_null(strstr(err.text, "/nonexistent/dir/log"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_what_is_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_errors, setup, teardown),
    };
    return cmocka_run_group_tests_name("unanswered", tests, NULL, NULL);
}
