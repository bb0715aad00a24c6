/* Runs the public ircdocs parser test vectors (msg-split, msg-join, userhost-split) against
 * irc_message.h. The vectors stay outside the repository: the folder comes from
 * argv[1] or, failing that, the IRC_VECTORS_DIR compile definition. When the folder is
 * missing every test is skipped; when it is there every vector must pass. */
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes line to out with the ';'-separated items of a leading tag section sorted, so
 * two lines that differ only in tag order come out equal. line is cut up by strtok. */
static void sort_tags(char *line, char *out, size_t cap)
{
    char *items[IRC_TAGS_MAX / 2 + 1];
    char *rest, *p;
    size_t n = 0, i, off;

    rest = line[0] == '@' ? strchr(line, ' ') : NULL;
    if (!rest) {
        snprintf(out, cap, "%s", line);
        return;
    }
    *rest++ = '\0';
    for (p = strtok(line + 1, ";"); p && n < sizeof items / sizeof *items;
         p = strtok(NULL, ";"))
        items[n++] = p;
    qsort(items, n, sizeof *items, cmp_str);
    off = (size_t)snprintf(out, cap, "@");
    for (i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? ";" : "", items[i]);
    if (off < cap)
        snprintf(out + off, cap - off, " %s", rest);
}

static int same_line_any_tag_order(const char *got, const char *want)
{
    char a[IRC_FORMAT_MAX], b[IRC_FORMAT_MAX];
    char sa[IRC_FORMAT_MAX + 8], sb[IRC_FORMAT_MAX + 8];

    if (strcmp(got, want) == 0)
        return 1;
    if (strlen(got) >= sizeof a || strlen(want) >= sizeof b)
        return 0;
    strcpy(a, got);
    strcpy(b, want);
    sort_tags(a, sa, sizeof sa);
    sort_tags(b, sb, sizeof sb);
    return strcmp(sa, sb) == 0;
}

/* Fills m from the atoms; tag storage is the caller's array of cap entries. */
static void message_from_atoms(json_t *atoms, irc_message *m, irc_tag *tags, size_t cap)
{
    json_t *params = json_object_get(atoms, "params");
    const char *key;
    json_t *val;
    size_t i;

    memset(m, 0, sizeof *m);
    m->source = json_string_value(json_object_get(atoms, "source"));
    m->verb = json_string_value(json_object_get(atoms, "verb"));
    assert_true(json_array_size(params) <= IRC_PARAMS_MAX);
    for (i = 0; i < json_array_size(params); i++)
        m->params[i] = json_string_value(json_array_get(params, i));
    m->n_params = json_array_size(params);
    json_object_foreach(json_object_get(atoms, "tags"), key, val) {
        assert_true(m->n_tags < cap);
        tags[m->n_tags].key = key;
        tags[m->n_tags].value = json_string_value(val); /* NULL for null: no value */
        m->n_tags++;
    }
    m->tags = tags;
}

static void test_msg_join(void **state)
{
    json_t *root;
    json_t *tests = load_tests("msg-join.json", &root);
    size_t i, j, failed = 0;
    json_t *t, *match;

    (void)state;
    json_array_foreach(tests, i, t) {
        irc_tag tags[32];
        irc_message m;
        char out[IRC_FORMAT_MAX];
        int rc, ok = 0;

        message_from_atoms(json_object_get(t, "atoms"), &m, tags, 32);
        rc = irc_message_format(&m, out, sizeof out);
        if (rc >= 0) {
            json_array_foreach(json_object_get(t, "matches"), j, match)
                ok |= same_line_any_tag_order(out, json_string_value(match));
        }
        if (!ok) {
            print_error("msg-join #%zu (%s): got \"%s\" (%s)\n", i,
                        json_string_value(json_object_get(t, "desc")), out,
                        rc >= 0 ? "no match" : irc_strerror(rc));
            failed++;
        }
    }
    json_decref(root);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------ userhost-split */

static void test_userhost_split(void **state)
{
    json_t *root;
    json_t *tests = load_tests("userhost-split.json", &root);
    size_t i, failed = 0;
    json_t *t;

    (void)state;
    json_array_foreach(tests, i, t) {
        const char *source = json_string_value(json_object_get(t, "source"));
        json_t *atoms = json_object_get(t, "atoms");
        irc_source s;
        int rc;

        assert_non_null(source);
        rc = irc_source_split(source, &s);
        if (rc != IRC_OK ||
            !same_str(s.nick, json_string_value(json_object_get(atoms, "nick"))) ||
            !same_str(s.user, json_string_value(json_object_get(atoms, "user"))) ||
            !same_str(s.host, json_string_value(json_object_get(atoms, "host")))) {
            print_error("userhost-split #%zu \"%s\": %s\n", i, source,
                        rc == IRC_OK ? "mismatch" : irc_strerror(rc));
            failed++;
        }
        irc_source_free(&s);
    }
    json_decref(root);
    assert_int_equal(failed, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_split),
        cmocka_unit_test(test_msg_join),
        cmocka_unit_test(test_userhost_split),
    };

    if (argc > 1)
        vectors_dir = argv[1];
    if (!dir_exists(vectors_dir))
        print_message("irc vectors not found at %s: skipping\n", vectors_dir);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
