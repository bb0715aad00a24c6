/* Runs the public ircdocs parser test vectors against irc_message.h: msg-split against
 * the parser, and the msg-join vectors that describe a command the bot could send (no
 * tags, no source) against the command builder. The bot keeps a source whole, so
 * userhost-split has nothing to test. The vectors stay outside the repository: the
 * folder comes from argv[1] or, failing that, the IRC_VECTORS_DIR compile definition.
 * When the folder is missing every test is skipped; when it is there every vector that
 * applies must pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "irc/irc_message.h"

#ifndef IRC_VECTORS_DIR
#define IRC_VECTORS_DIR "../shared/irc-parser-tests"
#endif

static const char *vectors_dir = IRC_VECTORS_DIR;

static int dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Loads DIR/name and returns its "tests" array (the root is kept alive through *root). */
static json_t *load_tests(const char *name, json_t **root)
{
    char path[4096];
    json_error_t err;
    json_t *tests;

    if (!dir_exists(vectors_dir))
        skip();
    snprintf(path, sizeof path, "%s/%s", vectors_dir, name);
    *root = json_load_file(path, 0, &err);
    if (!*root)
        fail_msg("%s:%d: %s", path, err.line, err.text);
    tests = json_object_get(*root, "tests");
    assert_true(json_is_array(tests));
    assert_true(json_array_size(tests) > 0);
    return tests;
}

/* NULL-safe string equality: both absent, or both present and equal. */
static int same_str(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ------------------------------------------------------------ msg-split */

/* Returns NULL when the parse matches atoms, else a static description of the mismatch. */
static const char *split_mismatch(const irc_message *m, json_t *atoms)
{
    json_t *tags = json_object_get(atoms, "tags");
    json_t *params = json_object_get(atoms, "params");
    const char *key;
    json_t *val;
    size_t i;

    if (!same_str(m->source, json_string_value(json_object_get(atoms, "source"))))
        return "source";
    if (!same_str(m->verb, json_string_value(json_object_get(atoms, "verb"))))
        return "verb";
    if (m->n_params != json_array_size(params))
        return "param count";
    for (i = 0; i < m->n_params; i++)
        if (!same_str(m->params[i], json_string_value(json_array_get(params, i))))
            return "param";
    if (m->n_tags != json_object_size(tags))
        return "tag count";
    json_object_foreach(tags, key, val) {
        /* the vectors write a missing value as null or "", which we both read as "" */
        const char *want = json_is_string(val) ? json_string_value(val) : "";
        if (!same_str(irc_message_tag(m, key), want))
            return "tag value";
    }
    return NULL;
}

static void test_msg_split(void **state)
{
    json_t *root;
    json_t *tests = load_tests("msg-split.json", &root);
    size_t i, failed = 0;
    json_t *t;

    (void)state;
    json_array_foreach(tests, i, t) {
        const char *input = json_string_value(json_object_get(t, "input"));
        irc_message m;
        int rc;
        const char *why;

        assert_non_null(input);
        rc = irc_message_parse(input, strlen(input), &m);
        why = rc == IRC_OK ? split_mismatch(&m, json_object_get(t, "atoms"))
                           : irc_strerror(rc);
        if (why) {
            print_error("msg-split #%zu \"%s\": %s\n", i, input, why);
            failed++;
        }
        irc_message_free(&m);
    }
    json_decref(root);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------ msg-join */

/* Fills params from the atoms and returns their count; NULL verb when the vector has tags
 * or a source, which the builder never writes. */
static const char *command_from_atoms(json_t *atoms, const char **params, size_t *n)
{
    json_t *list = json_object_get(atoms, "params");
    size_t i;

    *n = 0;
    if (json_object_get(atoms, "tags") || json_object_get(atoms, "source"))
        return NULL;
    assert_true(json_array_size(list) <= IRC_PARAMS_MAX);
    for (i = 0; i < json_array_size(list); i++)
        params[i] = json_string_value(json_array_get(list, i));
    *n = json_array_size(list);
    return json_string_value(json_object_get(atoms, "verb"));
}

static void test_msg_join(void **state)
{
    json_t *root;
    json_t *tests = load_tests("msg-join.json", &root);
    size_t i, j, failed = 0, applied = 0;
    json_t *t, *match;

    (void)state;
    json_array_foreach(tests, i, t) {
        const char *params[IRC_PARAMS_MAX];
        char out[IRC_FORMAT_MAX];
        size_t n;
        int rc, ok = 0;
        const char *verb = command_from_atoms(json_object_get(t, "atoms"), params, &n);

        if (!verb)
            continue;
        applied++;
        rc = irc_format_command(out, sizeof out, verb, params, n);
        if (rc >= 0) {
            json_array_foreach(json_object_get(t, "matches"), j, match)
                ok |= strcmp(out, json_string_value(match)) == 0;
        }
        if (!ok) {
            print_error("msg-join #%zu (%s): got \"%s\" (%s)\n", i,
                        json_string_value(json_object_get(t, "desc")), out,
                        rc >= 0 ? "no match" : irc_strerror(rc));
            failed++;
        }
    }
    json_decref(root);
    assert_true(applied >= 4); /* the file has several plain commands: a lost vector shows */
    assert_int_equal(failed, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_split),
        cmocka_unit_test(test_msg_join),
    };

    if (argc > 1)
        vectors_dir = argv[1];
    if (!dir_exists(vectors_dir))
        print_message("irc vectors not found at %s: skipping\n", vectors_dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
