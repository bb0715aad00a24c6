/* The three section kinds together: [bot], [irc.NAME] and [matrix.NAME] are
 * read by one reader from their tables, so a key they share is refused or
 * accepted alike, with the same words; config.example.ini documents every
 * key of every table with its default; and the [irc.NAME] table's own rules. */
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
#include "conf/conf_ini.h"
#include "conf/conf_keys.h"
#include "irc/irc_config.h"
#include "matrix/matrix_config.h"
#include "test_files.h"

static const conf_schema *const schemas[] = {&conf_bot_schema, &irc_network_schema, &matrix_network_schema};
#define N_SCHEMAS (sizeof schemas / sizeof *schemas)

/* "listen" names channels on IRC and rooms on Matrix: the same word for two
 * different things, each with its own check. Every other shared name means
 * the same everywhere. */
static int same_meaning(const char *key)
{
    /* Both name channels on IRC and rooms on Matrix; admins are services
     * accounts on IRC and user ids on Matrix. */
    return strcmp(key, "listen") != 0 && strcmp(key, "answer_unknown_commands") != 0 && strcmp(key, "admins") != 0;
}

static void test_tables(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SCHEMAS; i++) {
        const conf_schema *s = schemas[i];
        /* Every default parses; a row that does not would stop every start. */
        char *obj = calloc(1, s->size);
        assert_non_null(obj);
        assert_int_equal(conf_section_defaults(s, obj), BASE_OK);
        conf_section_free(s, obj);
        free(obj);
        for (size_t j = 0; j < s->n_keys; j++) {
            const conf_key *k = &s->keys[j];
            assert_true(k->help && strlen(k->help) > 5);
            assert_true(k->offset < s->size);
            if (k->type->list)
                assert_true(k->count_offset > 0 && k->count_offset < s->size);
            if (k->type == &conf_number || k->type == &conf_whole)
                assert_true(k->min < k->max);
            for (size_t m = j + 1; m < s->n_keys; m++)
                assert_string_not_equal(k->name, s->keys[m].name);
        }
    }
}

/* A key two tables share has one definition: type, range, check, flags. */
static void test_shared_keys_agree(void **state)
{
    (void)state;
    size_t shared = 0;
    for (size_t i = 0; i < N_SCHEMAS; i++)
        for (size_t j = i + 1; j < N_SCHEMAS; j++)
            for (size_t n = 0; n < schemas[i]->n_keys; n++) {
                const conf_key *a = &schemas[i]->keys[n];
                const conf_key *b = conf_schema_key(schemas[j], a->name);
                if (!b || !same_meaning(a->name))
                    continue;
                shared++;
                if (a->type != b->type || a->min != b->min || a->max != b->max || a->check != b->check ||
                    a->flags != b->flags)
                    fail_msg("%s is not the same in [%s] and [%s]", a->name, schemas[i]->kind, schemas[j]->kind);
            }
    /* command_prefixes (3 tables), nick, state_dir, password, listen_min_score,
     * user_burst, user_rate, queue_max */
    assert_true(shared >= 9);
}

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

/* The problems of one file, the network sections read with their tables. */
static conf_problems read_all(const char *text)
{
    conf_config cfg;
    conf_problems p = {0};
    base_error err;
    tu_write(dir, "t.ini", text);
    assert_int_equal(conf_defaults(&cfg, "/kb", &err), BASE_OK);
    conf_read(&cfg, path, &p);
    for (size_t i = 0; i < cfg.n_sections; i++) {
        const conf_section *s = &cfg.sections[i];
        if (strcmp(s->kind, "irc") == 0) {
            irc_network_config c;
            if (conf_section_read(&cfg, s, &irc_network_schema, &c, &p) == BASE_OK)
                irc_network_config_free(&c);
        } else {
            matrix_network_config c;
            if (conf_section_read(&cfg, s, &matrix_network_schema, &c, &p) == BASE_OK)
                matrix_network_config_free(&c);
        }
    }
    conf_free(&cfg);
    return p;
}

/* What is said about key = value in a section of the given kind, after
 * "key: " ("" when the value is fine). The other keys make a good section. */
static void verdict(const char *kind, const char *key, const char *value, char *out, size_t cap)
{
    char text[800];
    int line;
    if (strcmp(kind, "bot") == 0) {
        snprintf(text, sizeof text, "[bot]\n%s = %s\n", key, value);
        line = 2;
    } else if (strcmp(kind, "irc") == 0) {
        snprintf(text, sizeof text, "[irc.x]\nhost = irc.example.org\n%s = %s\n", key, value);
        line = 3;
    } else {
        snprintf(text, sizeof text,
                 "[bot]\nstate_dir = /tmp\n[matrix.x]\nhomeserver = https://h.org\nuser_id = @a:h.org\n"
                 "access_token = t\n%s = %s\n",
                 key, value);
        line = 7;
    }
    conf_problems p = read_all(text);
    char prefix[1300];
    snprintf(prefix, sizeof prefix, "%s:%d: [", path, line);
    out[0] = '\0';
    for (size_t i = 0; i < p.n; i++) {
        const char *t = p.items[i].text, *at;
        char needle[200];
        snprintf(needle, sizeof needle, "] %s: ", key);
        if (strncmp(t, prefix, strlen(prefix)) == 0 && (at = strstr(t, needle)) != NULL)
            snprintf(out, cap, "%s", at + strlen(needle));
        else
            fail_msg("unexpected problem: %s", t);
    }
    conf_problems_free(&p);
}

/* The same value gets the same answer in every section that has the key. */
static void test_same_value_same_verdict(void **state)
{
    (void)state;
    static const char *const values[] = {"",   "ab",    "!",  "/!",     "0",   "-1",  "1",       "1.5",
                                         "60", "1e9",   "x y", "nan",   "yes", "a,b", "!!!!!!!!!", "caf\xc3\xa9",
                                         "#c", "careerbot", "9lives", "/tmp", "0.0001"};
    size_t compared = 0;
    for (size_t i = 0; i < N_SCHEMAS; i++)
        for (size_t n = 0; n < schemas[i]->n_keys; n++) {
            const char *key = schemas[i]->keys[n].name;
            if (!same_meaning(key))
                continue;
            for (size_t j = i + 1; j < N_SCHEMAS; j++) {
                if (!conf_schema_key(schemas[j], key))
                    continue;
                for (size_t v = 0; v < sizeof values / sizeof *values; v++) {
                    char a[400], b[400];
                    verdict(schemas[i]->kind, key, values[v], a, sizeof a);
                    verdict(schemas[j]->kind, key, values[v], b, sizeof b);
                    if (strcmp(a, b) != 0)
                        fail_msg("%s = \"%s\": [%s] says \"%s\", [%s] says \"%s\"", key, values[v],
                                 schemas[i]->kind, a, schemas[j]->kind, b);
                    compared++;
                }
            }
        }
    assert_true(compared > 100);
}

/* The disagreement that started it: command_prefixes = ab was accepted in
 * [irc.NAME] alone. */
static void test_command_prefixes_everywhere(void **state)
{
    (void)state;
    static const char *const kinds[] = {"bot", "irc", "matrix"};
    for (size_t i = 0; i < 3; i++) {
        char said[400];
        verdict(kinds[i], "command_prefixes", "ab", said, sizeof said);
        assert_string_equal(said, "must be 1-8 punctuation characters, e.g. /!");
        verdict(kinds[i], "command_prefixes", "!?", said, sizeof said);
        assert_string_equal(said, "");
    }
}

/* ---- config.example.ini --------------------------------------------------- */

typedef struct example {
    char section[64];     /* "bot", "irc", "matrix" of the current header */
    base_strbuf set;      /* "kind key=value\n" of every key set */
} example;

static int on_example(void *ctx, const conf_ini_event *ev)
{
    example *x = ctx;
    if (ev->kind == CONF_INI_SECTION)
        snprintf(x->section, sizeof x->section, "%.*s", (int)strcspn(ev->name, "."), ev->name);
    else if (ev->kind == CONF_INI_KEY)
        base_strbuf_addf(&x->set, "%s %s=%s\n", x->section, ev->name, ev->value);
    else if (ev->kind == CONF_INI_ERROR)
        fail_msg("config.example.ini:%d: %s", ev->line, ev->value);
    return 0;
}

/* Every key of every table is in the example, set or shown in a comment
 * ("; key = ..."), and a key with a default that is set shows that default. */
static void test_example_documents_every_key(void **state)
{
    (void)state;
    char *text = tu_read(CAREERBOT_TEST_DATA "/../..", "config.example.ini");
    assert_non_null(text);
    example x = {{0}, {0}};
    assert_int_equal(conf_ini_parse(text, strlen(text), on_example, &x), 0);
    char *set = base_strbuf_take(&x.set);
    assert_non_null(set);
    for (size_t i = 0; i < N_SCHEMAS; i++) {
        const conf_schema *s = schemas[i];
        char header[80];
        snprintf(header, sizeof header, strcmp(s->kind, "bot") == 0 ? "\n[%s]\n" : "\n[%s.", s->kind);
        const char *part = strstr(text, header);
        assert_non_null(part);
        const char *end = strstr(part + 1, "\n[");
        size_t part_len = end ? (size_t)(end - part) : strlen(part);
        for (size_t n = 0; n < s->n_keys; n++) {
            const conf_key *k = &s->keys[n];
            char line[200], commented[200], with_default[300];
            snprintf(line, sizeof line, "\n%s = ", k->name);
            snprintf(commented, sizeof commented, "\n; %s =", k->name);
            int found = 0;
            for (const char *p = part; p < part + part_len && !found; p++)
                found = strncmp(p, line, strlen(line)) == 0 || strncmp(p, commented, strlen(commented)) == 0;
            if (!found)
                fail_msg("config.example.ini does not document [%s] %s", s->kind, k->name);
            snprintf(line, sizeof line, "%s %s=", s->kind, k->name);
            const char *given = strstr(set, line);
            snprintf(with_default, sizeof with_default, "%s %s=%s\n", s->kind, k->name, k->def ? k->def : "");
            if (given && k->def && strncmp(given, with_default, strlen(with_default)) != 0)
                fail_msg("config.example.ini sets [%s] %s, but not to its default %s", s->kind, k->name, k->def);
        }
    }
    free(set);
    free(text);
}

/* ---- [irc.NAME] ----------------------------------------------------------- */

static int read_irc(const char *text, irc_network_config *out, base_error *err)
{
    conf_config cfg;
    tu_write(dir, "t.ini", text);
    assert_int_equal(conf_defaults(&cfg, "/kb", err), BASE_OK);
    int rc = conf_load(&cfg, path, err);
    if (rc == BASE_OK)
        rc = irc_network_config_read(&cfg, &cfg.sections[0], out, err);
    conf_free(&cfg);
    return rc;
}

static void expect_irc_error(const char *text, int line, const char *key, const char *needle)
{
    irc_network_config c;
    base_error err = {0};
    if (read_irc(text, &c, &err) == BASE_OK) {
        irc_network_config_free(&c);
        fail_msg("read, expected an error with \"%s\"", needle);
    }
    char prefix[1300];
    snprintf(prefix, sizeof prefix, "%s:%d: [irc.x] %s: ", path, line, key);
    if (strncmp(err.text, prefix, strlen(prefix)) != 0 || !strstr(err.text, needle))
        fail_msg("message \"%s\"\n  expected to start with \"%s\" and contain \"%s\"", err.text, prefix, needle);
}

static void test_irc_defaults(void **state)
{
    (void)state;
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc("[bot]\nnick = coder\n[irc.x]\nhost = irc.example.org\n", &c, &err), BASE_OK);
    assert_string_equal(c.name, "x");
    assert_string_equal(c.nick, "coder"); /* from [bot] */
    assert_int_equal(c.port, 6697);
    assert_true(c.tls && c.tls_verify && c.sasl_required && c.flood_control);
    assert_true(c.flood_burst == 4 && c.flood_rate == 1 && c.user_burst == 5 && c.user_rate == 0.2);
    assert_int_equal(c.queue_max, 60);
    assert_string_equal(c.command_prefixes, "!/"); /* hints show "!": IRC clients swallow "/" */
    assert_true(c.room_burst == 10 && c.room_rate == 0.5);
    assert_int_equal(c.n_channels, 0);
    irc_network_config_free(&c);
    assert_int_equal(read_irc("[irc.x]\nhost = h\ntls = no\n", &c, &err), BASE_OK);
    assert_int_equal(c.port, 6667);
    assert_string_equal(c.nick, "careerbot");
    irc_network_config_free(&c);
}

static void test_irc_channels(void **state)
{
    (void)state;
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc("[irc.x]\nhost = h\nchannels = #a, #secret hunter2,\n  #c\n  &d\nlisten = #a\n", &c, &err),
                     BASE_OK);
    assert_int_equal(c.n_channels, 4);
    assert_string_equal(c.channels[0].name, "#a");
    assert_null(c.channels[0].key);
    assert_string_equal(c.channels[1].name, "#secret");
    assert_string_equal(c.channels[1].key, "hunter2");
    assert_string_equal(c.channels[3].name, "&d");
    assert_int_equal(c.n_listen, 1);
    irc_network_config_free(&c);
    expect_irc_error("[irc.x]\nhost = h\nchannels = #a, careers\n", 3, "channels", "\"#name\" or \"#name key\"");
    /* A channel's key is a password: never shown. */
    expect_irc_error("[irc.x]\nhost = h\nchannels = #a hunter2 more\n", 3, "channels", "#name key");
    {
        base_error e;
        assert_int_equal(read_irc("[irc.x]\nhost = h\nchannels = #a hunter2 more\n", &c, &e), BASE_ERR);
        assert_null(strstr(e.text, "hunter2"));
    }
    expect_irc_error("[irc.x]\nhost = h\nlisten = careers\n", 3, "listen", "channel name");
}

static void test_irc_rules(void **state)
{
    (void)state;
    expect_irc_error("[irc.x]\nport = 6697\n", 2, "host", "is required");
    expect_irc_error("[irc.x]\nhost = h\nsasl_user = me\n", 3, "sasl_user", "go together");
    expect_irc_error("[irc.x]\nhost = h\nsasl_password = pw\n", 3, "sasl_password", "go together");
    expect_irc_error("[irc.x]\nhost = h\ntls = no\ntls_fingerprint = AB\n", 4, "tls_fingerprint", "needs tls = yes");
    expect_irc_error("[irc.x]\nhost = h\ntls = no\ntls_ca_file = ca.pem\n", 4, "tls_ca_file", "needs tls = yes");
    expect_irc_error("[irc.x]\nhost = h\nnick = has space\n", 3, "nick", "letters");
    expect_irc_error("[irc.x]\nhost = h\nalt_nicks = ok, 9bad\n", 3, "alt_nicks", "9bad");
    expect_irc_error("[irc.x]\nhost = h\npassword =\n", 3, "password", "must not be empty");
    expect_irc_error("[irc.x]\nhost = h\nflood_burst = 101\n", 3, "flood_burst", "number from 1 to 100");
    expect_irc_error("[irc.x]\nhost = h\nport = 6697\n  6698\n", 4, "port", "only lists");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_shared_keys_agree),
        cmocka_unit_test_setup_teardown(test_same_value_same_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_prefixes_everywhere, setup, teardown),
        cmocka_unit_test(test_example_documents_every_key),
        cmocka_unit_test_setup_teardown(test_irc_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irc_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irc_rules, setup, teardown),
    };
    return cmocka_run_group_tests_name("conf_sections", tests, NULL, NULL);
}
