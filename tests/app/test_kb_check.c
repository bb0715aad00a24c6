/* kb_check.c: --check-kb replays every example and names the file, line and
 * topic of each one that selects something else. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/kb_check.h"
#include "test_util.h"

typedef struct result {
    int problems;
    char *out;
    char *err;
} result;

static result check(const char *dir)
{
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    result r;
    r.problems = app_kb_check(dir, out, err);
    r.out = tu_slurp(out);
    r.err = tu_slurp(err);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

static void test_fixtures_pass(void **state)
{
    (void)state;
    result r = check(TU_MINI_KB);
    assert_int_equal(r.problems, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "5 topics, 9 examples replayed, 0 problems"));
    result_free(&r);
    r = check(CAREERBOT_TEST_DATA "/kb-clarify");
    assert_int_equal(r.problems, 0);
    assert_non_null(strstr(r.out, "3 topics, 3 examples replayed, 0 problems"));
    result_free(&r);
}

#define TOPIC(id, kw, examples)                                                                   \
    "{\"id\": \"" id "\", \"title\": \"Title " id "\", \"keywords\": [{\"phrase\": \"" kw "\", " \
    "\"weight\": 2}], \"examples\": [" examples "], \"answer\": \"Answer " id ".\", \"source\": \"S\"}"

static void test_example_selects_other_topic(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "a.json", "{\"topics\": [\n" TOPIC("alpha", "alpha", "\"alpha\"") "\n]}\n");
    tu_write(dir, "b.json", "{\"topics\": [\n"
                            TOPIC("beta", "beta", "\"beta\"") ",\n"
                            TOPIC("gamma", "gamma", "\"gamma\", \"tell me about alpha\", \"zebra\"") "\n]}\n");
    result r = check(dir);
    assert_int_equal(r.problems, 2);
    char want[1200];
    snprintf(want, sizeof want,
             "%s/b.json:3: topic \"gamma\": example \"tell me about alpha\" answered with topic \"alpha\"", dir);
    if (!strstr(r.err, want))
        fail_msg("stderr \"%s\"\n  lacks \"%s\"", r.err, want);
    snprintf(want, sizeof want, "%s/b.json:3: topic \"gamma\": example \"zebra\" was declined", dir);
    if (!strstr(r.err, want))
        fail_msg("stderr \"%s\"\n  lacks \"%s\"", r.err, want);
    assert_non_null(strstr(r.out, "3 topics, 5 examples replayed, 2 problems"));
    result_free(&r);
    tu_rmtree(dir);
}

static void test_clarify_and_two_parts(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    /* An example that asks to clarify is a problem; a two-part example that
     * leads with its own topic is not. */
    tu_write(dir, "t.json", "{\"lexicon\": {\"clarify_ratio\": 0.8},\n \"topics\": [\n"
                            "{\"id\": \"x\", \"title\": \"X\", \"keywords\": [{\"phrase\": \"exam\", \"weight\": 1.5}],"
                            " \"examples\": [\"exam\"], \"answer\": \"X.\", \"source\": \"S\"},\n"
                            "{\"id\": \"y\", \"title\": \"Y\", \"keywords\": [{\"phrase\": \"exam\", \"weight\": 1.4},"
                            " {\"phrase\": \"fee\", \"weight\": 3}],"
                            " \"examples\": [\"exam fee\", \"the fee and the exam\"], \"answer\": \"Y.\", \"source\": \"S\"},\n"
                            "{\"id\": \"z\", \"title\": \"Z\", \"keywords\": [{\"phrase\": \"zulu\", \"weight\": 2}],"
                            " \"examples\": [\"zulu and fee\"], \"answer\": \"Z.\", \"source\": \"S\"}\n]}\n");
    result r = check(dir);
    assert_int_equal(r.problems, 2);
    assert_non_null(strstr(r.err, ":3: topic \"x\": example \"exam\" asked to clarify with topic \"x\""));
    assert_non_null(strstr(r.err, ":5: topic \"z\": example \"zulu and fee\" answered as two parts with topic \"y\""));
    result_free(&r);
    tu_rmtree(dir);
}

static void test_broken_directory(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "t.json", "{\"topics\": [\n" TOPIC("a", "a", "\"a\"") ",\n{\"id\": \"b\"}\n]}\n");
    result r = check(dir);
    assert_true(r.problems > 0);
    char want[1200];
    snprintf(want, sizeof want, "%s/t.json:3: ", dir);
    if (!strstr(r.err, want))
        fail_msg("stderr \"%s\"\n  lacks \"%s\"", r.err, want);
    result_free(&r);
    tu_rmtree(dir);

    r = check("/nonexistent/careerbot-kb");
    assert_true(r.problems > 0);
    assert_non_null(strstr(r.err, "/nonexistent/careerbot-kb"));
    result_free(&r);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_pass),
        cmocka_unit_test(test_example_selects_other_topic),
        cmocka_unit_test(test_clarify_and_two_parts),
        cmocka_unit_test(test_broken_directory),
    };
    return cmocka_run_group_tests_name("kb_check", tests, NULL, NULL);
}
