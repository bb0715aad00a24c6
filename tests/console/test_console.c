/* console.c: the JSON-lines contract of --console --format json, text mode,
 * the interactive banner, and --ask. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "test_util.h"

static int setup(void **state)
{
    *state = tu_mini_bot(NULL);
    return 0;
}

static int teardown(void **state)
{
    core_bot_free(*state);
    return 0;
}

/* Runs the console over input (len bytes) and returns everything it printed. */
static char *run_console(core_bot *bot, const char *input, size_t len, console_format format, int interactive,
                         int *status)
{
    FILE *in = fmemopen((void *)input, len ? len : 1, "r");
    assert_non_null(in);
    if (len == 0)
        fgetc(in); /* fmemopen needs a size; an empty input is at end at once */
    FILE *out = tmpfile();
    assert_non_null(out);
    *status = console_run(bot, in, out, format, interactive);
    char *text = tu_slurp(out);
    fclose(in);
    fclose(out);
    return text;
}

/* Splits text into lines (in place); returns the count. */
static size_t split_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;
    char *p = text;
    while (*p && n < max) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        *nl = '\0';
        lines[n++] = p;
        p = nl + 1;
    }
    return n;
}

/* Parses one line as the contract's object and checks its keys and types. */
static json_t *parse_reply(const char *line)
{
    json_error_t jerr;
    json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        fail_msg("not JSON (%s): %s", jerr.text, line);
    assert_true(json_is_object(obj));
    assert_int_equal(json_object_size(obj), 6);
    assert_true(json_is_boolean(json_object_get(obj, "matched")));
    assert_true(json_is_boolean(json_object_get(obj, "listen")));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    assert_non_null(kind);
    assert_true(!strcmp(kind, "answer") || !strcmp(kind, "clarify") || !strcmp(kind, "decline") ||
                !strcmp(kind, "social") || !strcmp(kind, "command"));
    /* matched only for answers, and an answer names its topic */
    if (json_is_true(json_object_get(obj, "matched")))
        assert_string_equal(kind, "answer");
    if (!strcmp(kind, "answer"))
        assert_true(json_is_string(json_object_get(obj, "topic")));
    json_t *topic = json_object_get(obj, "topic");
    assert_true(json_is_string(topic) || json_is_null(topic));
    assert_true(json_is_number(json_object_get(obj, "score")));
    assert_true(json_is_string(json_object_get(obj, "reply")));
    /* declines name no topic */
    if (!strcmp(kind, "decline"))
        assert_true(json_is_null(topic));
    return obj;
}

static const char *str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_json_lines(void **state)
{
    core_bot *bot = *state;
    static const char input[] = "what is step 1\n"
                                "what's next\n"
                                "/help\n"
                                "\n"
                                "what's the weather like?\n"
                                "bad \xFF\xFE utf-8 \xC3\n"
                                "the salary, with \"quotes\" and \\ backslash\r\n"
                                "/why\n"
                                "tell me more"; /* no newline at the end */
    int status = -1;
    char *text = run_console(bot, input, sizeof input - 1, CONSOLE_FORMAT_JSON, 0, &status);
    assert_int_equal(status, 0);
    char *lines[32];
    size_t n = split_lines(text, lines, 32);
    assert_int_equal(n, 9); /* one object per input line, blank ones too */
    json_t *objs[9];
    for (size_t i = 0; i < n; i++)
        objs[i] = parse_reply(lines[i]);

    assert_true(json_is_true(json_object_get(objs[0], "matched")));
    assert_string_equal(str(objs[0], "topic"), "learn");
    assert_true(json_real_value(json_object_get(objs[0], "score")) == 3.0);
    assert_string_equal(str(objs[0], "reply"), "Step 1: go to school and learn anatomy.");
    /* The conversation carries from line to line. */
    assert_string_equal(str(objs[1], "topic"), "work");
    assert_string_equal(str(objs[1], "reply"), "Step 2: work in a hospital.");
    /* Commands go through the same path; multi-line replies stay one object. */
    assert_string_equal(str(objs[2], "kind"), "command");
    assert_true(json_is_null(json_object_get(objs[2], "topic")));
    assert_non_null(strstr(str(objs[2], "reply"), "\nCommands: /help"));
    /* Blank and off-topic lines decline. */
    assert_true(json_is_false(json_object_get(objs[3], "matched")));
    assert_true(json_is_false(json_object_get(objs[4], "matched")));
    assert_string_equal(str(objs[4], "reply"), "I only know about the test career. Try /help.");
    assert_true(json_is_false(json_object_get(objs[5], "matched")));
    /* Quotes and backslashes in the question do not break the output; CR is dropped. */
    assert_string_equal(str(objs[6], "topic"), "salary");
    assert_true(json_real_value(json_object_get(objs[6], "score")) == 2.0);
    assert_non_null(strstr(str(objs[7], "reply"), "(salary)"));
    assert_string_equal(str(objs[8], "reply"), "More about pay: it varies.");
    for (size_t i = 0; i < n; i++)
        json_decref(objs[i]);
    free(text);
}

static void test_json_edge_input(void **state)
{
    core_bot *bot = *state;
    /* Empty input: no output. */
    int status = -1;
    char *text = run_console(bot, "", 0, CONSOLE_FORMAT_JSON, 0, &status);
    assert_int_equal(status, 0);
    assert_string_equal(text, "");
    free(text);

    /* A 200 KB line, a line with a NUL byte, and control characters. */
    size_t big = 200 * 1024;
    char *input = malloc(big + 64);
    assert_non_null(input);
    for (size_t i = 0; i < big; i++)
        input[i] = "pay "[i % 4];
    size_t len = big;
    input[len++] = '\n';
    static const char tail[] = "sal\0ary\n\x01\x02\x1b[0m salary\x07\n";
    memcpy(input + len, tail, sizeof tail - 1);
    len += sizeof tail - 1;
    text = run_console(bot, input, len, CONSOLE_FORMAT_JSON, 0, &status);
    assert_int_equal(status, 0);
    char *lines[8];
    assert_int_equal(split_lines(text, lines, 8), 3);
    json_t *a = parse_reply(lines[0]), *b = parse_reply(lines[1]), *c = parse_reply(lines[2]);
    assert_string_equal(str(a, "topic"), "salary");
    assert_true(json_is_false(json_object_get(b, "matched")));
    assert_string_equal(str(c, "topic"), "salary");
    json_decref(a);
    json_decref(b);
    json_decref(c);
    free(text);
    free(input);
}

static void test_text_mode(void **state)
{
    core_bot *bot = *state;
    static const char input[] = "what is step 1\nnext\nwhat's the weather\n";
    int status = -1;
    char *text = run_console(bot, input, sizeof input - 1, CONSOLE_FORMAT_TEXT, 0, &status);
    assert_int_equal(status, 0);
    assert_string_equal(text, "Step 1: go to school and learn anatomy.\n"
                              "Step 2: work in a hospital.\n"
                              "I only know about the test career. Try /help.\n");
    free(text);
}

static void test_interactive(void **state)
{
    core_bot *bot = *state;
    static const char input[] = "what is the salary\n\n   \n/about\n";
    int status = -1;
    char *text = run_console(bot, input, sizeof input - 1, CONSOLE_FORMAT_TEXT, 1, &status);
    assert_int_equal(status, 0);
    /* A banner naming the career, a prompt per line, blank lines skipped. */
    assert_true(strncmp(text, "careerbot ", 10) == 0);
    assert_non_null(strstr(text, "test career"));
    assert_non_null(strstr(text, "> The median pay was $100 in the test year.\n> > > A test bot.\n> \n"));
    free(text);
}

static void test_ask(void **state)
{
    core_bot *bot = *state;
    FILE *out = tmpfile();
    assert_int_equal(console_ask(bot, "how much do coders make", out, CONSOLE_FORMAT_JSON), 0);
    char *text = tu_slurp(out);
    fclose(out);
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    assert_ptr_equal(strchr(text, '\n'), text + len - 1); /* exactly one line */
    json_t *obj = parse_reply(text);
    assert_true(json_is_true(json_object_get(obj, "matched")));
    assert_string_equal(str(obj, "topic"), "salary");
    double score = json_number_value(json_object_get(obj, "score"));
    assert_true(score > 1.09 && score < 1.11);
    json_decref(obj);
    free(text);

    out = tmpfile();
    assert_int_equal(console_ask(bot, "what is the weather", out, CONSOLE_FORMAT_JSON), 0);
    text = tu_slurp(out);
    fclose(out);
    obj = parse_reply(text);
    assert_true(json_is_false(json_object_get(obj, "matched")));
    assert_true(json_is_null(json_object_get(obj, "topic")));
    json_decref(obj);
    free(text);

    out = tmpfile();
    assert_int_equal(console_ask(bot, "/salary", out, CONSOLE_FORMAT_TEXT), 0);
    text = tu_slurp(out);
    fclose(out);
    assert_string_equal(text, "The median pay was $100 in the test year.\n");
    free(text);
}

static void test_print_json(void **state)
{
    (void)state;
    char reply_text[] = "line \"one\"\nline \\two\\ \t\xC3\xA9";
    core_reply r = {.kind = CORE_REPLY_ANSWER, .matched = 1, .topic = "t-1", .score = 1.23456, .text = reply_text};
    FILE *out = tmpfile();
    assert_int_equal(console_print_json(&r, out), 0);
    char *text = tu_slurp(out);
    fclose(out);
    json_t *obj = parse_reply(text);
    assert_string_equal(str(obj, "reply"), reply_text);
    assert_string_equal(str(obj, "topic"), "t-1");
    double score = json_number_value(json_object_get(obj, "score"));
    assert_true(score > 1.23 && score < 1.24);
    json_decref(obj);
    free(text);

    /* No topic and no text. */
    core_reply empty = {0};
    out = tmpfile();
    assert_int_equal(console_print_json(&empty, out), 0);
    text = tu_slurp(out);
    fclose(out);
    obj = parse_reply(text);
    assert_true(json_is_false(json_object_get(obj, "matched")));
    assert_true(json_is_null(json_object_get(obj, "topic")));
    assert_string_equal(str(obj, "reply"), "");
    json_decref(obj);
    free(text);

    /* Invalid UTF-8 in a reply still gives valid JSON. */
    char bad[] = "bad \xFF";
    core_reply b = {.matched = 0, .text = bad};
    out = tmpfile();
    assert_int_equal(console_print_json(&b, out), 0);
    text = tu_slurp(out);
    fclose(out);
    obj = parse_reply(text);
    json_decref(obj);
    free(text);
}

static void expect_wrap(const char *text, size_t width, const char *want)
{
    char *got = console_wrap(text, width);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("wrapping \"%s\" to %zu:\n%s\nwanted:\n%s", text, width, got, want);
    free(got);
}

/* Answers fit the terminal: words are never cut, line breaks stay, list
 * items go on under their text, UTF-8 counts characters. */
static void test_wrap(void **state)
{
    (void)state;
    expect_wrap("The median salary was $34,970 in 2013.", 20, "The median salary\nwas $34,970 in 2013.");
    expect_wrap("short", 20, "short");
    expect_wrap("one two\nthree four five six seven", 20, "one two\nthree four five six\nseven");
    expect_wrap("1. Finish high school, ideally with math and biology.\n2. Train.", 24,
                "1. Finish high school,\n   ideally with math and\n   biology.\n2. Train.");
    expect_wrap("- a list item that goes on for a while", 20, "- a list item that\n  goes on for a\n  while");
    expect_wrap("caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9", 20,
                "caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9\ncaf\xc3\xa9");
    expect_wrap("see https://www.example.org/a/very/long/path/that/never/ends here", 20,
                "see\nhttps://www.example.org/a/very/long/path/that/never/ends\nhere");
    expect_wrap("a  b", 20, "a b");
    expect_wrap("", 20, "");
    expect_wrap("too narrow to help", 5, "too narrow to help"); /* under 20 columns: as it is */
}

static void expect_paint(const char *text, const char *want)
{
    char *got = console_paint(text);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("painting \"%s\":\n%s\nwanted:\n%s", text, got, want);
    free(got);
}

/* Titles and list numbers in bold, commands in cyan; nothing else. */
static void test_paint(void **state)
{
    (void)state;
    expect_paint("Commands: /help, /topics, !step N",
                 "\033[1mCommands:\033[0m \033[36m/help\033[0m, \033[36m/topics\033[0m, \033[36m!step\033[0m N");
    expect_paint("1. Finish high school.\n2. Train.", "\033[1m1.\033[0m Finish high school.\n\033[1m2.\033[0m Train.");
    expect_paint("Say \"/next\" (or /more) and/or 3/4 of https://a.org/b!",
                 "Say \"\033[36m/next\033[0m\" (or \033[36m/more\033[0m) and/or 3/4 of https://a.org/b!");
    expect_paint("The median salary was $34,970: a figure.", "The median salary was $34,970: a figure.");
    expect_paint("", "");
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_edge_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interactive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ask, setup, teardown),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_paint),
        cmocka_unit_test(test_print_json),
    };
    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
