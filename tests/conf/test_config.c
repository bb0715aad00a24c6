/* conf.c: defaults, [bot] keys, network sections with line numbers, and
 * errors that name the file, the line and the key. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "test_util.h"

typedef struct fixture {
    char *dir;
    char path[1100];
} fixture;

static int setup(void **state)
{
    static fixture f;
    f.dir = tu_mkdtemp();
    snprintf(f.path, sizeof f.path, "%s/careerbot.ini", f.dir);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->dir);
    f->dir = NULL;
    return 0;
}

/* Writes text as the config file and loads it over the defaults. */
static int load(fixture *f, const char *text, conf_config *cfg, base_error *err)
{
    tu_write(f->dir, "careerbot.ini", text);
    assert_int_equal(conf_defaults(cfg, "/default/knowledge", err), BASE_OK);
    return conf_load(cfg, f->path, err);
}

/* Loads text, expects failure with "PATH:line:" (line 0: "PATH:") and needle
 * in the message. */
static void expect_error(fixture *f, const char *text, int line, const char *needle)
{
    conf_config cfg;
    base_error err = {0};
    int rc = load(f, text, &cfg, &err);
    conf_free(&cfg);
    if (rc == BASE_OK)
        fail_msg("loaded, expected an error with \"%s\"", needle);
    char prefix[1200];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%d:", f->path, line);
    else
        snprintf(prefix, sizeof prefix, "%s:", f->path);
    if (strncmp(err.text, prefix, strlen(prefix)) != 0 || !strstr(err.text, needle))
        fail_msg("message \"%s\"\n  expected to start with \"%s\" and contain \"%s\"", err.text, prefix, needle);
}

/* Loads text and fails the test (after freeing) when it does not load. */
static void expect_ok(fixture *f, const char *text, conf_config *cfg)
{
    base_error err = {0};
    if (load(f, text, cfg, &err) != BASE_OK) {
        conf_free(cfg);
        fail_msg("%s", err.text);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    conf_config cfg;
    base_error err;
    assert_int_equal(conf_defaults(&cfg, "/opt/kb", &err), BASE_OK);
    assert_null(cfg.path);
    assert_string_equal(cfg.nick, "careerbot");
    assert_string_equal(cfg.knowledge, "/opt/kb");
    assert_null(cfg.state_dir);
    assert_string_equal(cfg.command_prefixes, "/!");
    assert_true(cfg.conversation_ttl == 1800);
    assert_int_equal(cfg.max_conversations, 4096);
    assert_int_equal(cfg.n_sections, 0);
    /* Without a file, paths are not resolved against anything. */
    char *p = conf_resolve(&cfg, "knowledge");
    assert_string_equal(p, "knowledge");
    free(p);
    conf_free(&cfg);
    assert_null(cfg.nick);
}

static void test_good_file(void **state)
{
    fixture *f = *state;
    const char *text = "; careerbot test configuration\n"          /* 1 */
                       "[bot]\n"                                   /* 2 */
                       "nick = coderbot\n"                         /* 3 */
                       "command_prefixes = !.\n"                   /* 4 */
                       "conversation_ttl = 600\n"                  /* 5 */
                       "max_conversations = 100\n"                 /* 6 */
                       "\n"                                        /* 7 */
                       "[irc.libera]\n"                            /* 8 */
                       "host = irc.libera.chat\n"                  /* 9 */
                       "port = 6697\n"                             /* 10 */
                       "# a comment\n"                             /* 11 */
                       "channels = #coders, #careers\n"            /* 12 */
                       "[matrix.home]\n"                           /* 13 */
                       "homeserver = http://127.0.0.1:8008\n"      /* 14 */
                       "user_id = @careerbot:localhost\n"          /* 15 */
                       "[irc.oftc]\n"                              /* 16 */
                       "host = irc.oftc.net\n";                    /* 17 */
    conf_config cfg;
    expect_ok(f, text, &cfg);
    assert_string_equal(cfg.path, f->path);
    assert_string_equal(cfg.nick, "coderbot");
    assert_string_equal(cfg.command_prefixes, "!.");
    assert_true(cfg.conversation_ttl == 600);
    assert_int_equal(cfg.max_conversations, 100);
    assert_string_equal(cfg.knowledge, "/default/knowledge"); /* not set: the default */

    assert_int_equal(cfg.n_sections, 3);
    const conf_section *irc = &cfg.sections[0];
    assert_string_equal(irc->kind, "irc");
    assert_string_equal(irc->name, "libera");
    assert_int_equal(irc->n_entries, 3);
    const conf_entry *e = conf_find(irc, "host");
    assert_non_null(e);
    assert_string_equal(e->value, "irc.libera.chat");
    assert_int_equal(e->line, 9);
    assert_int_equal(conf_find(irc, "port")->line, 10);
    assert_string_equal(conf_find(irc, "channels")->value, "#coders, #careers");
    assert_int_equal(conf_find(irc, "channels")->line, 12);
    assert_null(conf_find(irc, "tls"));
    assert_true(irc->line >= 8 && irc->line <= 9);

    const conf_section *mx = &cfg.sections[1];
    assert_string_equal(mx->kind, "matrix");
    assert_string_equal(mx->name, "home");
    assert_string_equal(conf_find(mx, "homeserver")->value, "http://127.0.0.1:8008");
    assert_int_equal(conf_find(mx, "user_id")->line, 15);
    assert_string_equal(cfg.sections[2].name, "oftc");
    assert_int_equal(conf_find(&cfg.sections[2], "host")->line, 17);
    conf_free(&cfg);
}

static void test_relative_paths(void **state)
{
    fixture *f = *state;
    conf_config cfg;
    expect_ok(f, "[bot]\nknowledge = kb\nstate_dir = ../state\n", &cfg);
    char want[1200];
    snprintf(want, sizeof want, "%s/kb", f->dir);
    assert_string_equal(cfg.knowledge, want);
    snprintf(want, sizeof want, "%s/../state", f->dir);
    assert_string_equal(cfg.state_dir, want);
    char *p = conf_resolve(&cfg, "x/y.json");
    snprintf(want, sizeof want, "%s/x/y.json", f->dir);
    assert_string_equal(p, want);
    free(p);
    p = conf_resolve(&cfg, "/abs/path");
    assert_string_equal(p, "/abs/path");
    free(p);
    conf_free(&cfg);

    /* Absolute paths stay as they are. */
    expect_ok(f, "[bot]\nknowledge = /srv/kb\n", &cfg);
    assert_string_equal(cfg.knowledge, "/srv/kb");
    conf_free(&cfg);
}

static void test_misspelt_key(void **state)
{
    fixture *f = *state;
    expect_error(f, "[bot]\nnick = coderbot\n\nknowlege = kb\n", 4, "knowlege");
    expect_error(f, "[bot]\nnick = coderbot\n\nknowlege = kb\n", 4, "unknown key");
    /* The first error wins; later lines are not reported over it. */
    expect_error(f, "[bot]\nnik = a\nknowlege = kb\n", 2, "nik");
}

static void test_bad_values(void **state)
{
    fixture *f = *state;
    expect_error(f, "[bot]\nnick = 1abc\n", 2, "nick");
    expect_error(f, "[bot]\n\nnick = -abc\n", 3, "nick");
    expect_error(f, "[bot]\nnick = has space\n", 2, "nick");
    expect_error(f, "[bot]\nnick = \n", 2, "nick");
    expect_error(f, "[bot]\ncommand_prefixes = ab\n", 2, "command_prefixes");
    expect_error(f, "[bot]\ncommand_prefixes = !!!!!!!!!\n", 2, "command_prefixes");
    expect_error(f, "[bot]\ncommand_prefixes = 1\n", 2, "command_prefixes");
    expect_error(f, "[bot]\nconversation_ttl = -3\n", 2, "conversation_ttl");
    expect_error(f, "[bot]\nconversation_ttl = 0\n", 2, "conversation_ttl");
    expect_error(f, "[bot]\nconversation_ttl = soon\n", 2, "conversation_ttl");
    expect_error(f, "[bot]\nconversation_ttl = 10s\n", 2, "conversation_ttl");
    expect_error(f, "[bot]\nconversation_ttl = 604801\n", 2, "conversation_ttl");
    expect_error(f, "[bot]\nmax_conversations = 1.5\n", 2, "max_conversations");
    expect_error(f, "[bot]\nmax_conversations = 0\n", 2, "max_conversations");
    expect_error(f, "[bot]\nknowledge =\n", 2, "knowledge");
    /* Edges that are fine. */
    conf_config cfg;
    expect_ok(f, "[bot]\nnick = a[b]_c\\d\nconversation_ttl = 1\nmax_conversations = 1000000\n"
                "command_prefixes = #\n", &cfg);
    assert_string_equal(cfg.nick, "a[b]_c\\d");
    assert_true(cfg.conversation_ttl == 1);
    assert_int_equal(cfg.max_conversations, 1000000);
    assert_string_equal(cfg.command_prefixes, "#");
    conf_free(&cfg);
}

static void test_sections(void **state)
{
    fixture *f = *state;
    expect_error(f, "[bot]\nnick = a\n[server]\nhost = x\n", 4, "unknown section");
    expect_error(f, "[irc]\nhost = x\n", 2, "unknown section");
    expect_error(f, "[irc.]\nhost = x\n", 2, "needs a name");
    expect_error(f, "[matrix.home]\nuser_id = a\nuser_id = b\n", 3, "given twice");
    /* Keys outside any section. */
    expect_error(f, "nick = a\n", 1, "section");
    expect_error(f, "\n\nnick = a\n[bot]\n", 3, "section");
    /* Broken syntax. */
    expect_error(f, "[bot]\nnick = a\nthis is not ini\n", 3, "not valid INI");
    expect_error(f, "[bot]\nnick = a\n\n[irc.x\n", 4, "not valid INI");
    /* A broken header followed by keys: reported at the header's line; the
     * keys under it are dropped, not filed under another section. */
    expect_error(f, "[bot\nnick = a\n", 0, "");
    /* A section given twice collects the keys of both parts. */
    conf_config cfg;
    expect_ok(f, "[irc.x]\nhost = h\n[bot]\nnick = n\n[irc.x]\nport = 1\n", &cfg);
    assert_int_equal(cfg.n_sections, 1);
    assert_int_equal(cfg.sections[0].n_entries, 2);
    assert_int_equal(conf_find(&cfg.sections[0], "port")->line, 6);
    conf_free(&cfg);
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    conf_config cfg;
    base_error err = {0};
    assert_int_equal(conf_defaults(&cfg, "/kb", &err), BASE_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/nope.ini", f->dir);
    assert_int_equal(conf_load(&cfg, path, &err), BASE_ERR);
    assert_true(tu_contains(err.text, path));
    assert_true(tu_contains(err.text, "cannot open"));
    conf_free(&cfg);
}

/* Long lines are read whole (there is no small line buffer), later lines
 * keep their numbers, and a long list continues on indented lines. */
static void test_long_lines(void **state)
{
    fixture *f = *state;
    char text[4096], channels[2048];
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(channels + n, sizeof channels - n, "%s#channel%02d", i ? "," : "", i);
    /* A long line is read whole, and later lines keep their numbers. */
    snprintf(text, sizeof text, "[bot]\nnick = ok\n[irc.big]\nchannels = %s\n[bot]\nnick_typo = x\n", channels);
    expect_error(f, text, 6, "nick_typo");
    {
        conf_config whole;
        snprintf(text, sizeof text, "[irc.big]\nchannels = %s\n", channels);
        expect_ok(f, text, &whole);
        const conf_entry *ch = conf_find(&whole.sections[0], "channels");
        int same = ch && strcmp(ch->value, channels) == 0;
        conf_free(&whole);
        assert_true(same);
    }
    /* A list continued on indented lines is one value. */
    conf_config cfg;
    expect_ok(f, "[irc.big]\nnicks = a, b\n  c, d\n\te\nport = 6697\n", &cfg);
    const conf_entry *e = conf_find(&cfg.sections[0], "nicks");
    char value[256];
    snprintf(value, sizeof value, "%s", e ? e->value : "(none)");
    int line = e ? e->line : 0, port_line = conf_find(&cfg.sections[0], "port")->line;
    conf_free(&cfg);
    assert_string_equal(value, "a, b, c, d, e");
    assert_int_equal(line, 2);
    assert_int_equal(port_line, 5);
    /* Line numbers after continuation lines stay right. */
    expect_error(f, "[irc.big]\nchannels = #a\n  #b\n  #c\n[bot]\nnick_typo = x\n", 6, "nick_typo");
    /* A line of about 200 bytes (a common fixed buffer size) is fine. */
    char longish[256];
    memset(longish, 'c', 180);
    longish[180] = '\0';
    snprintf(text, sizeof text, "[irc.x]\nchannels = #%s\n", longish);
    expect_ok(f, text, &cfg);
    assert_int_equal(strlen(conf_find(&cfg.sections[0], "channels")->value), 181);
    conf_free(&cfg);
}

/* An indented line right after a key goes on with its value even when it
 * starts with '#', so IRC channels can be continued ("  #c, #d"). */
static void test_continued_channels(void **state)
{
    fixture *f = *state;
    conf_config cfg;
    expect_ok(f, "[irc.big]\nchannels = #a, #b\n  #c, #d\nport = 6697\n", &cfg);
    const conf_entry *e = conf_find(&cfg.sections[0], "channels");
    char value[256];
    snprintf(value, sizeof value, "%s", e ? e->value : "(none)");
    conf_free(&cfg);
    assert_string_equal(value, "#a, #b, #c, #d");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misspelt_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continued_channels, setup, teardown),
    };
    (void)argc;
    (void)argv;
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
