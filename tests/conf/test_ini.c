/* conf_ini.c: the file's syntax. Every event is recorded as one line of text
 * ("LINE kind name=value") so a test compares the whole reading at once. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "conf/conf_ini.h"
#include "test_files.h"

static int record(void *ctx, const conf_ini_event *ev)
{
    base_strbuf *b = ctx;
    switch (ev->kind) {
    case CONF_INI_SECTION:
        base_strbuf_addf(b, "%d [%s]\n", ev->line, ev->name);
        break;
    case CONF_INI_KEY:
        base_strbuf_addf(b, "%d %s=%s\n", ev->line, ev->name, ev->value);
        break;
    case CONF_INI_CONTINUATION:
        base_strbuf_addf(b, "%d +%s\n", ev->line, ev->value);
        break;
    case CONF_INI_ERROR:
        base_strbuf_addf(b, "%d %s%s\n", ev->line, ev->header ? "header error: " : "error: ", ev->value);
        break;
    }
    return 0;
}

/* The events of len bytes of text, as text (caller frees). */
static char *events_n(const char *text, size_t len)
{
    base_strbuf b = {0};
    assert_int_equal(conf_ini_parse(text, len, record, &b), 0);
    char *out = base_strbuf_take(&b);
    assert_non_null(out);
    return out;
}

static void expect(const char *text, const char *want)
{
    char *got = events_n(text, strlen(text));
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "input:\n%s\ngot:\n%s\nwanted:\n%s\n", text, got, want);
        free(got);
        fail();
    }
    free(got);
}

static void test_sections_and_keys(void **state)
{
    (void)state;
    expect("[bot]\nnick = careerbot\n\n  [ irc.x ]  \nhost=irc.example.org\nempty =\n",
           "1 [bot]\n2 nick=careerbot\n4 [irc.x]\n5 host=irc.example.org\n6 empty=\n");
    /* Everything after the first '=' is the value, ';' and '#' included:
     * passwords may hold them. */
    expect("[a]\npassword = x=y ; not a comment # nor this\n", "1 [a]\n2 password=x=y ; not a comment # nor this\n");
    /* Spaces inside keys and values stay; around them they go. */
    expect("[a]\n\t key  one \t=\t two  words \t\n", "1 [a]\n2 key  one=two  words\n");
}

static void test_comments(void **state)
{
    (void)state;
    expect("; one\n# two\n[a]\n   ; indented, after a header\nk = v\n\n  # indented, after a blank line\n",
           "3 [a]\n5 k=v\n");
    /* A comment line ends a value: the indented line after it is a comment. */
    expect("[a]\nk = v\n; note\n  ; more\n", "1 [a]\n2 k=v\n");
    /* Comments are not checked for UTF-8 (a Latin-1 remark is harmless). */
    expect("; caf\xe9\n[a]\n", "2 [a]\n");
}

static void test_continuation(void **state)
{
    (void)state;
    /* Indented lines go on with the value above, '#' lines too (channels). */
    expect("[irc.x]\nchannels = #a, #b\n  #c, #d\n\t#e\nport = 1\n",
           "1 [irc.x]\n2 channels=#a, #b\n3 +#c, #d\n4 +#e\n5 port=1\n");
    /* A blank line ends the value; an indented key after it is a key. */
    expect("[a]\nk = v\n\n  other = w\n", "1 [a]\n2 k=v\n4 other=w\n");
    /* Right after a key, an indented line goes on with its value whatever it
     * looks like (as in Python's configparser). */
    expect("[a]\nk = v\n  [b]\n  j = w\n", "1 [a]\n2 k=v\n3 +[b]\n4 +j = w\n");
    /* After a header there is no value to go on with. */
    expect("[a]\n  k = v\n  more\n", "1 [a]\n2 k=v\n3 +more\n");
}

static void test_line_ends(void **state)
{
    (void)state;
    expect("[a]\r\nk = v\r\n  more\r\n", "1 [a]\n2 k=v\n3 +more\n");
    /* The last line needs no newline; a byte order mark is skipped. */
    expect("\xef\xbb\xbf[a]\nk = v", "1 [a]\n2 k=v\n");
    /* A lone CR inside a line is a control character. */
    expect("[a]\nk = a\rb\n", "1 [a]\n2 error: holds a control character (byte 0x0d at column 6)\n");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect("[a]\nthis is not ini\nk = v\n",
           "1 [a]\n2 error: not valid INI syntax (expected [section] or key = value)\n3 k=v\n");
    expect("[a\nk = v\n", "1 header error: not valid INI syntax (a section header is [name])\n2 k=v\n");
    expect("[  ]\n", "1 header error: not valid INI syntax (the section header has no name)\n");
    expect("[a]\n= v\n", "1 [a]\n2 error: not valid INI syntax (no key before the =)\n");
    /* A key before any section is the caller's business: the reader reports it as a key. */
    expect("k = v\n[a]\n", "1 k=v\n2 [a]\n");
    /* An error ends a value: the indented line after it is read on its own. */
    expect("[a]\nk = v\nbad\n  x = y\n",
           "1 [a]\n2 k=v\n3 error: not valid INI syntax (expected [section] or key = value)\n4 x=y\n");
    /* Duplicate keys are the caller's business too (see test_config.c). */
    expect("[a]\nk = 1\nk = 2\n", "1 [a]\n2 k=1\n3 k=2\n");
}

static void test_empty(void **state)
{
    (void)state;
    expect("", "");
    expect("\n\n   \n\t\n", "");
    char *got = events_n(NULL, 0);
    assert_string_equal(got, "");
    free(got);
}

static void test_utf8(void **state)
{
    (void)state;
    expect("[a]\nname = caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", "1 [a]\n2 name=caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
    expect("[a]\nname = caf\xe9\n", "1 [a]\n2 error: is not valid UTF-8 (byte 0xe9 at column 11)\n");
    /* Overlong, surrogate and past U+10FFFF. */
    expect("[a]\nk = \xc0\xaf\n", "1 [a]\n2 error: is not valid UTF-8 (byte 0xc0 at column 5)\n");
    expect("[a]\nk = \xed\xa0\x80\n", "1 [a]\n2 error: is not valid UTF-8 (byte 0xed at column 5)\n");
    expect("[a]\nk = \xf4\x90\x80\x80\n", "1 [a]\n2 error: is not valid UTF-8 (byte 0xf4 at column 5)\n");
    /* Cut short at the end of the line. */
    expect("[a]\nk = \xe2\x82\n", "1 [a]\n2 error: is not valid UTF-8 (byte 0xe2 at column 5)\n");
}

static void test_nul_bytes(void **state)
{
    (void)state;
    /* A NUL byte: the file is not text; the reading stops there. */
    static const char text[] = "[a]\nk = v\x00w\nother = 1\n";
    char *got = events_n(text, sizeof text - 1);
    assert_string_equal(got, "1 [a]\n2 error: holds a NUL byte: this is not a text file\n");
    free(got);
}

static void test_binary(void **state)
{
    (void)state;
    /* The start of an ELF file: reported once, at its first line. */
    static const char elf[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\n\x01\x02";
    char *got = events_n(elf, sizeof elf - 1);
    assert_string_equal(got, "1 error: holds a NUL byte: this is not a text file\n");
    free(got);
}

static void test_huge_lines(void **state)
{
    (void)state;
    /* A line at the limit is read whole; one byte more is refused, and the
     * lines after it keep their numbers. */
    size_t n = CONF_INI_LINE_MAX;
    char *text = malloc(2 * n + 64);
    assert_non_null(text);
    size_t len = (size_t)sprintf(text, "[a]\nk = ");
    memset(text + len, 'x', n - 4);
    len += n - 4;
    len += (size_t)sprintf(text + len, "\nj = ");
    memset(text + len, 'y', n - 3);
    len += n - 3;
    len += (size_t)sprintf(text + len, "\nafter = 1\n");
    char *got = events_n(text, len);
    free(text);
    const char *key = strstr(got, "2 k=xxx");
    assert_non_null(key);
    assert_int_equal(strcspn(key, "\n"), strlen("2 k=") + n - 4);
    char want[200];
    snprintf(want, sizeof want, "\n3 error: is longer than %d bytes\n4 after=1\n", CONF_INI_LINE_MAX);
    assert_non_null(strstr(got, want));
    free(got);
}

static void test_read_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[1200];
    char *text;
    size_t len;
    base_error err;
    tu_write(dir, "a.ini", "[a]\nk = v\n");
    snprintf(path, sizeof path, "%s/a.ini", dir);
    assert_int_equal(conf_ini_read_file(path, &text, &len, &err), BASE_OK);
    assert_int_equal(len, 10);
    assert_string_equal(text, "[a]\nk = v\n");
    free(text);

    tu_write(dir, "empty.ini", "");
    snprintf(path, sizeof path, "%s/empty.ini", dir);
    assert_int_equal(conf_ini_read_file(path, &text, &len, &err), BASE_OK);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);

    /* At the limit it is read; past it, refused with a clear message. */
    snprintf(path, sizeof path, "%s/big.ini", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char block[4096];
    memset(block, ';', sizeof block);
    for (size_t i = 0; i < CONF_INI_FILE_MAX / sizeof block; i++)
        assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    fclose(f);
    assert_int_equal(conf_ini_read_file(path, &text, &len, &err), BASE_OK);
    assert_int_equal(len, CONF_INI_FILE_MAX);
    free(text);
    f = fopen(path, "ab");
    fputc('\n', f);
    fclose(f);
    assert_int_equal(conf_ini_read_file(path, &text, &len, &err), BASE_ERR);
    assert_null(text);
    assert_non_null(strstr(err.text, path));
    assert_non_null(strstr(err.text, "larger than 2 MiB"));

    snprintf(path, sizeof path, "%s/missing.ini", dir);
    assert_int_equal(conf_ini_read_file(path, &text, &len, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "cannot open"));
    assert_int_equal(conf_ini_read_file(dir, &text, &len, &err), BASE_ERR); /* a directory */
    assert_non_null(strstr(err.text, "cannot read"));
    tu_rmtree(dir);
}

/* Any bytes at all: the reader never crashes, and every event's line is in
 * order and within the text. */
static int check_order(void *ctx, const conf_ini_event *ev)
{
    int *last = ctx;
    assert_true(ev->line >= *last && ev->line >= 1);
    *last = ev->line;
    if (ev->kind == CONF_INI_KEY)
        assert_true(ev->name[0] != '\0');
    return 0;
}

static void test_random_bytes(void **state)
{
    (void)state;
    static const char alphabet[] = "[]=;# \t\r\n\nab.\xc3\xa9\xff\x01";
    unsigned seed = 7;
    char text[512];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(seed % sizeof text);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        int last = 0;
        assert_int_equal(conf_ini_parse(text, len, check_order, &last), 0);
        seed = seed * 1103515245u + 12345u;
    }
}

/* The callback stops the reading. */
static int stop_at_key(void *ctx, const conf_ini_event *ev)
{
    (*(int *)ctx)++;
    return ev->kind == CONF_INI_KEY ? 42 : 0;
}

static void test_stop(void **state)
{
    (void)state;
    int calls = 0;
    assert_int_equal(conf_ini_parse("[a]\nk = v\nj = w\n", 16, stop_at_key, &calls), 42);
    assert_int_equal(calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_and_keys),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_huge_lines),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests_name("conf_ini", tests, NULL, NULL);
}
