/* conf_keys.c: the typed keys, read from a table by the one reader, and the
 * problems of a whole file collected with their lines. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "conf/conf.h"
#include "conf/conf_keys.h"
#include "test_files.h"

/* A section with one key of every shared type. */
typedef struct demo {
    char *name;
    char *text, *nick, *secret, *file, *dir, *required;
    int flag, port;
    double num;
    size_t whole;
    char **items, **words, **codes;
    size_t n_items, n_words, n_codes;
    int finished;
} demo;

static const char *check_upper(const char *v)
{
    return v[0] >= 'A' && v[0] <= 'Z' ? NULL : "must start with a capital letter";
}

#define F(field) offsetof(demo, field), 0
#define L(field) offsetof(demo, field), offsetof(demo, n_##field)
static const conf_key demo_keys[] = {
    {"text", &conf_string, NULL, 0, 0, NULL, F(text), 0, "any text"},
    {"nick", &conf_string, "bot", 0, 0, conf_check_nick, F(nick), 0, "a nick"},
    {"secret", &conf_string, NULL, 0, 0, check_upper, F(secret), CONF_SECRET, "a password"},
    {"file", &conf_file, NULL, 0, 0, NULL, F(file), 0, "a file"},
    {"dir", &conf_dir, NULL, 0, 0, NULL, F(dir), 0, "a directory"},
    {"required", &conf_string, NULL, 0, 0, NULL, F(required), CONF_REQUIRED, "must be there"},
    {"flag", &conf_bool, "yes", 0, 0, NULL, F(flag), 0, "yes or no"},
    {"port", &conf_port, NULL, 0, 0, NULL, F(port), 0, "a port"},
    {"num", &conf_number, "2.5", 0.5, 1000000, NULL, F(num), 0, "a number"},
    {"whole", &conf_whole, "7", 1, 100, NULL, F(whole), 0, "a whole number"},
    {"items", &conf_list, "a, b", 0, 0, NULL, L(items), 0, "a list"},
    {"words", &conf_words, NULL, 0, 0, check_upper, L(words), 0, "words"},
    {"codes", &conf_list, NULL, 0, 0, check_upper, L(codes), CONF_SECRET, "secret codes"},
};
#undef F
#undef L

/* A default from [bot]. */
static int demo_begin(const conf_config *cfg, const conf_section *s, void *obj)
{
    demo *d = obj;
    d->text = strdup(cfg->nick);
    return d->text ? BASE_OK : BASE_ERR;
}

/* A check across keys: flag = no does not go with a port. */
static int demo_finish(const conf_config *cfg, const conf_section *s, void *obj, conf_problems *p)
{
    demo *d = obj;
    d->finished = 1;
    if (!d->flag && conf_find(s, "port"))
        return conf_key_problem(p, cfg, s, "port", "needs flag = yes");
    return BASE_OK;
}

static const conf_schema demo_schema = {"irc", demo_keys, sizeof demo_keys / sizeof *demo_keys, sizeof(demo),
                                        offsetof(demo, name), demo_begin, demo_finish};

static char *dir;
static char path[1100];

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    snprintf(path, sizeof path, "%s/t.ini", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

/* Every problem of text (file and its first section read with the demo
 * table), one a line, with the file's path shown as "F". */
static char *problems_of(const char *text, demo *out)
{
    conf_config cfg;
    conf_problems p = {0};
    base_error err;
    tu_write(dir, "t.ini", text);
    assert_int_equal(conf_defaults(&cfg, "/kb", &err), BASE_OK);
    conf_read(&cfg, path, &p);
    demo d;
    int ok = 0;
    if (cfg.n_sections > 0)
        ok = conf_section_read(&cfg, &cfg.sections[0], &demo_schema, &d, &p) == BASE_OK;
    if (ok && out)
        *out = d;
    else if (ok)
        conf_section_free(&demo_schema, &d);
    conf_problems_sort(&p);
    base_strbuf b = {0};
    for (size_t i = 0; i < p.n; i++) {
        const char *t = p.items[i].text;
        if (strncmp(t, path, strlen(path)) == 0) {
            base_strbuf_add(&b, "F");
            t += strlen(path);
        }
        base_strbuf_addf(&b, "%s\n", t);
    }
    conf_problems_free(&p);
    conf_free(&cfg);
    char *s = base_strbuf_take(&b);
    assert_non_null(s);
    return s;
}

static void expect_problems(const char *text, const char *want)
{
    char *got = problems_of(text, NULL);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "input:\n%s\ngot:\n%s\nwanted:\n%s\n", text, got, want);
        free(got);
        fail();
    }
    free(got);
}

/* The one problem of a demo section holding only "required = x" and line. */
static void expect_bad(const char *line, const char *want)
{
    char text[600], full[800];
    snprintf(text, sizeof text, "[irc.d]\nrequired = x\n%s\n", line);
    snprintf(full, sizeof full, "F:3: [irc.d] %s\n", want);
    expect_problems(text, full);
}

static void test_defaults(void **state)
{
    (void)state;
    demo d;
    char *none = problems_of("[irc.d]\nrequired = x\n", &d);
    assert_string_equal(none, "");
    free(none);
    assert_string_equal(d.name, "d");
    assert_string_equal(d.nick, "bot");
    assert_true(d.flag == 1 && d.num == 2.5 && d.whole == 7 && d.port == 0);
    assert_int_equal(d.n_items, 2);
    assert_string_equal(d.items[1], "b");
    assert_string_equal(d.text, "careerbot"); /* from [bot] nick */
    assert_null(d.words);
    assert_true(d.finished);
    conf_section_free(&demo_schema, &d);
    assert_null(d.items);
    assert_null(d.name);
    /* Freeing twice is harmless: every field was cleared. */
    conf_section_free(&demo_schema, &d);
}

static void test_every_type(void **state)
{
    (void)state;
    tu_write(dir, "a.pem", "x\n");
    demo d;
    char *none = problems_of("[irc.d]\nrequired = x\ntext = two words; and more\nnick = a[b]\nsecret = Hunter2\n"
                             "file = a.pem\ndir = /srv/kb\nflag = off\nnum = 1e3\nwhole = 100\n"
                             "items = one, two words,, three\nwords = A B,C\ncodes = X\n",
                             &d);
    assert_string_equal(none, "");
    free(none);
    assert_string_equal(d.text, "two words; and more");
    assert_string_equal(d.nick, "a[b]");
    assert_string_equal(d.secret, "Hunter2");
    char want[1200];
    snprintf(want, sizeof want, "%s/a.pem", dir); /* relative to the file's folder */
    assert_string_equal(d.file, want);
    assert_string_equal(d.dir, "/srv/kb");
    assert_true(d.flag == 0 && d.num == 1000 && d.whole == 100);
    assert_int_equal(d.n_items, 3); /* empty items dropped, spaces inside kept */
    assert_string_equal(d.items[1], "two words");
    assert_int_equal(d.n_words, 3);
    assert_string_equal(d.words[2], "C");
    conf_section_free(&demo_schema, &d);

    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    for (int i = 0; i < 4; i++) {
        char text[200];
        snprintf(text, sizeof text, "[irc.d]\nrequired = x\nflag = %s\n", yes[i]);
        char *p = problems_of(text, &d);
        assert_string_equal(p, "");
        free(p);
        assert_int_equal(d.flag, 1);
        conf_section_free(&demo_schema, &d);
        snprintf(text, sizeof text, "[irc.d]\nrequired = x\nflag = %s\n", no[i]);
        p = problems_of(text, &d);
        assert_string_equal(p, "");
        free(p);
        assert_int_equal(d.flag, 0);
        conf_section_free(&demo_schema, &d);
    }
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("text =", "text: must not be empty");
    expect_bad("nick = 9lives", "nick: must be 1-30 letters, digits or -_[]\\`^{}| and not start with a digit or -");
    expect_bad("file =", "file: must name a file");
    expect_bad("dir =", "dir: must name a directory");
    expect_bad("flag = maybe", "flag: must be yes or no");
    expect_bad("flag = YES", "flag: must be yes or no");
    expect_bad("port = 0", "port: must be a port number from 1 to 65535");
    expect_bad("port = 65536", "port: must be a port number from 1 to 65535");
    expect_bad("port = 80.5", "port: must be a port number from 1 to 65535");
    expect_bad("num = 0.25", "num: must be a number from 0.5 to 1000000");
    expect_bad("num = nan", "num: must be a number from 0.5 to 1000000");
    expect_bad("num = 10s", "num: must be a number from 0.5 to 1000000");
    expect_bad("num =", "num: must be a number from 0.5 to 1000000");
    expect_bad("whole = 1.5", "whole: must be a whole number from 1 to 100");
    expect_bad("whole = 101", "whole: must be a whole number from 1 to 100");
    expect_bad("words = Good bad", "words: must start with a capital letter (not \"bad\")");
    /* A secret is never shown, not even in part. */
    expect_bad("secret = hunter2", "secret: must start with a capital letter");
    expect_bad("codes = X, y-secret", "codes: must start with a capital letter");
}

static void test_section_rules(void **state)
{
    (void)state;
    /* A missing required key is reported at the section's first key. */
    expect_problems("[irc.d]\n\nflag = no\n", "F:3: [irc.d] required: is required (must be there)\n");
    /* Unknown keys: a near one is suggested with its help. */
    expect_problems("[irc.d]\nrequired = x\nnmu = 3\n", "F:3: [irc.d] nmu: unknown key; did you mean num, a number?\n");
    expect_problems("[irc.d]\nrequired = x\ncolour = blue\n",
                    "F:3: [irc.d] colour: unknown key (config.example.ini shows every key of [irc.NAME])\n");
    /* Only lists go on over indented lines. */
    expect_problems("[irc.d]\nrequired = x\nitems = a,\n  b\ntext = t\n  more\n",
                    "F:6: [irc.d] text: only lists go on over indented lines (a comment starts its line)\n");
    /* The check across keys runs after the keys. */
    expect_problems("[irc.d]\nrequired = x\nport = 1\nflag = no\n", "F:3: [irc.d] port: needs flag = yes\n");
}

/* One file, many mistakes: each reported once, at its line, in line order. */
static void test_many_problems(void **state)
{
    (void)state;
    expect_problems("k = before any section\n"          /* 1 */
                    "[bot]\n"                           /* 2 */
                    "nick = 1abc\n"                     /* 3 */
                    "nick = again\n"                    /* 4 */
                    "no equals sign\n"                  /* 5 */
                    "[irc.d]\n"                         /* 6 */
                    "port = 0\n"                        /* 7 */
                    "whole = 0\n"                       /* 8 */
                    "[nowhere]\n"                       /* 9 */
                    "x = 1\n"                           /* 10 */
                    "y = 2\n"                           /* 11 */
                    "[irc.d\n"                          /* 12 */
                    "dropped = under a broken header\n" /* 13 */
                    "[irc.d]\n"                         /* 14 */
                    "port = 2\n"                        /* 15 */
                    "[bot]\n"                           /* 16 */
                    "conversation_ttl = forever\n"      /* 17 */
                    "[matrix.bad/name]\n",              /* 18 */
                    "F:1: k: keys must come after a section header such as [bot]\n"
                    "F:3: [bot] nick: must be 1-30 letters, digits or -_[]\\`^{}| and not start with a digit or -\n"
                    "F:4: [bot] nick: given twice (first on line 3)\n"
                    "F:5: not valid INI syntax (expected [section] or key = value)\n"
                    "F:7: [irc.d] port: must be a port number from 1 to 65535\n"
                    "F:7: [irc.d] required: is required (must be there)\n"
                    "F:8: [irc.d] whole: must be a whole number from 1 to 100\n"
                    "F:10: [nowhere]: unknown section (known: [bot], [irc.NAME], [matrix.NAME])\n"
                    "F:12: not valid INI syntax (a section header is [name])\n"
                    "F:15: [irc.d] port: given twice (first on line 7)\n"
                    "F:17: [bot] conversation_ttl: must be a number from 1 to 604800\n"
                    "F:18: [matrix.bad/name]: the section name may hold only letters, digits, - and _ (at most 64)\n");
}

static void test_limits(void **state)
{
    (void)state;
    base_strbuf b = {0};
    for (int i = 0; i < 300; i++)
        base_strbuf_add(&b, "nonsense\n");
    for (int i = 0; i < CONF_SECTIONS_MAX + 5; i++)
        base_strbuf_addf(&b, "[irc.n%d]\nhost = h\n", i);
    base_strbuf_add(&b, "[irc.n0]\n");
    for (int i = 0; i < CONF_KEYS_MAX + 5; i++)
        base_strbuf_addf(&b, "k%d = v\n", i);
    char *text = base_strbuf_take(&b);
    tu_write(dir, "t.ini", text);
    free(text);
    conf_config cfg;
    conf_problems p = {0};
    base_error err;
    assert_int_equal(conf_defaults(&cfg, "/kb", &err), BASE_OK);
    assert_int_equal(conf_read(&cfg, path, &p), BASE_ERR);
    /* 300 syntax errors, 5 sections and one key limit: the first kept, the rest counted. */
    assert_int_equal(p.n, CONF_PROBLEMS_MAX);
    assert_int_equal(conf_problems_count(&p), 300 + 5 + 1);
    assert_int_equal(cfg.n_sections, CONF_SECTIONS_MAX);
    assert_int_equal(cfg.sections[0].n_entries, CONF_KEYS_MAX);
    assert_int_equal(conf_problems_first(&p, &err), BASE_ERR);
    assert_non_null(strstr(err.text, ":1: not valid INI syntax"));
    conf_problems_free(&p);
    conf_free(&cfg);
}

static void test_check_files(void **state)
{
    (void)state;
    conf_config cfg;
    conf_problems p = {0};
    base_error err;
    tu_write(dir, "t.ini", "[irc.a]\nfile = missing.pem\n[irc.b]\nfile = .\n[irc.c]\nfile = t.ini\n");
    assert_int_equal(conf_defaults(&cfg, "/kb", &err), BASE_OK);
    assert_int_equal(conf_read(&cfg, path, &p), BASE_OK);
    assert_int_equal(conf_section_check_files(&cfg, &cfg.sections[0], &demo_schema, &p), BASE_ERR);
    assert_int_equal(conf_section_check_files(&cfg, &cfg.sections[1], &demo_schema, &p), BASE_ERR);
    assert_int_equal(conf_section_check_files(&cfg, &cfg.sections[2], &demo_schema, &p), BASE_OK);
    assert_int_equal(p.n, 2);
    assert_non_null(strstr(p.items[0].text, ":2: [irc.a] file: cannot read "));
    assert_non_null(strstr(p.items[0].text, "missing.pem: No such file"));
    assert_non_null(strstr(p.items[1].text, ":4: [irc.b] file: "));
    assert_non_null(strstr(p.items[1].text, "is a directory"));
    conf_problems_free(&p);
    conf_free(&cfg);
}

/* Every default in the tables parses (the tables of irc and matrix are
 * checked in test_sections.c). */
static void test_bot_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < conf_bot_schema.n_keys; i++) {
        const conf_key *k = &conf_bot_schema.keys[i];
        assert_non_null(k->help);
        assert_true(strlen(k->help) > 5);
        assert_true(k->type->parse != NULL && k->type->release != NULL);
    }
    assert_non_null(conf_schema_key(&conf_bot_schema, "knowledge"));
    assert_null(conf_schema_key(&conf_bot_schema, "knowlege"));
    expect_problems("[bot]\nknowlege = kb\n",
                    "F:2: [bot] knowlege: unknown key; did you mean knowledge, the knowledge directory "
                    "(every *.json file in it is read)?\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_table, setup, teardown),
    };
    return cmocka_run_group_tests_name("conf_keys", tests, NULL, NULL);
}
