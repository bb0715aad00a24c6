/* paths.c: the knowledge directory found at run time, over a fake
 * installation prefix and a fake build folder in a temporary directory. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/paths.h"
#include "test_util.h"

typedef struct layout {
    char *root;       /* the temporary directory */
    char prefix[512]; /* root/prefix: bin/ and, when installed, share/careerbot/knowledge/ */
    char exe[600];    /* root/prefix/bin/careerbot (the file need not exist) */
    char build[512];  /* root/build: another folder a binary could run from */
    char source[512]; /* root/src, holding knowledge/ */
} layout;

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0)
        fail_msg("mkdir %s failed", path);
}

static int setup(void **state)
{
    static layout l;
    char path[700];
    l.root = tu_mkdtemp();
    snprintf(l.prefix, sizeof l.prefix, "%s/prefix", l.root);
    snprintf(l.exe, sizeof l.exe, "%s/bin/careerbot", l.prefix);
    snprintf(l.build, sizeof l.build, "%s/build", l.root);
    snprintf(l.source, sizeof l.source, "%s/src", l.root);
    make_dir(l.prefix);
    snprintf(path, sizeof path, "%s/bin", l.prefix);
    make_dir(path);
    make_dir(l.build);
    make_dir(l.source);
    snprintf(path, sizeof path, "%s/knowledge", l.source);
    make_dir(path);
    *state = &l;
    return 0;
}

static int teardown(void **state)
{
    layout *l = *state;
    tu_rmtree(l->root);
    return 0;
}

/* Creates prefix/share/careerbot/knowledge, as `cmake --install` does. */
static void install_knowledge(const layout *l)
{
    char path[700];
    snprintf(path, sizeof path, "%s/share", l->prefix);
    make_dir(path);
    snprintf(path, sizeof path, "%s/share/careerbot", l->prefix);
    make_dir(path);
    snprintf(path, sizeof path, "%s/share/careerbot/knowledge", l->prefix);
    make_dir(path);
}

/* Runs the lookup and checks both the path and the rule that chose it. */
static void expect(const app_paths_input *in, const char *want, app_knowledge_origin want_origin)
{
    app_knowledge_origin origin = (app_knowledge_origin)-1;
    char *got = app_paths_knowledge(in, &origin);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(origin, want_origin);
    free(got);
}

static void test_environment_first(void **state)
{
    layout *l = *state;
    install_knowledge(l);
    app_paths_input in = {"/elsewhere/kb", l->exe, "share/careerbot", l->build, l->source};
    /* taken as it is, even when it does not exist: the loader then says so */
    expect(&in, "/elsewhere/kb", APP_KNOWLEDGE_ENV);
    in.env = ""; /* set but empty: as if unset */
    char want[700];
    snprintf(want, sizeof want, "%s/share/careerbot/knowledge", l->prefix);
    expect(&in, want, APP_KNOWLEDGE_INSTALLED);
}

static void test_installed_data_directory(void **state)
{
    layout *l = *state;
    install_knowledge(l);
    char want[700];
    snprintf(want, sizeof want, "%s/share/careerbot/knowledge", l->prefix);
    app_paths_input in = {NULL, l->exe, "share/careerbot", l->build, l->source};
    expect(&in, want, APP_KNOWLEDGE_INSTALLED);
    /* installed comes first even when the executable's folder is its build folder */
    char bin[700];
    snprintf(bin, sizeof bin, "%s/bin", l->prefix);
    in.build_dir = bin;
    expect(&in, want, APP_KNOWLEDGE_INSTALLED);
    /* an absolute data directory is used as it is */
    in.build_dir = l->build;
    in.data_subdir = l->source;
    snprintf(want, sizeof want, "%s/knowledge", l->source);
    expect(&in, want, APP_KNOWLEDGE_INSTALLED);
}

static void test_source_tree_from_build_folder(void **state)
{
    layout *l = *state;
    char exe[700], want[700];
    snprintf(exe, sizeof exe, "%s/careerbot", l->build);
    snprintf(want, sizeof want, "%s/knowledge", l->source);
    app_paths_input in = {NULL, exe, "share/careerbot", l->build, l->source};
    expect(&in, want, APP_KNOWLEDGE_SOURCE);

    /* the same folder spelled differently (trailing slash, "..", a symbolic link) */
    char spelled[700];
    snprintf(spelled, sizeof spelled, "%s/", l->build);
    in.build_dir = spelled;
    expect(&in, want, APP_KNOWLEDGE_SOURCE);
    snprintf(spelled, sizeof spelled, "%s/src/../build", l->root);
    expect(&in, want, APP_KNOWLEDGE_SOURCE);
    char link[700];
    snprintf(link, sizeof link, "%s/link", l->root);
    assert_int_equal(symlink(l->build, link), 0);
    in.build_dir = link;
    expect(&in, want, APP_KNOWLEDGE_SOURCE);
    unlink(link);

    /* a build folder that no longer exists matches nothing */
    in.build_dir = "/nonexistent/careerbot/build";
    char installed[700];
    snprintf(installed, sizeof installed, "%s/share/careerbot/knowledge", l->root);
    expect(&in, installed, APP_KNOWLEDGE_INSTALLED);
}

static void test_nothing_found_names_the_installed_path(void **state)
{
    layout *l = *state;
    /* not installed, not in its build folder: the installed path, for the error message */
    char want[700];
    snprintf(want, sizeof want, "%s/share/careerbot/knowledge", l->prefix);
    app_paths_input in = {NULL, l->exe, "share/careerbot", l->build, l->source};
    expect(&in, want, APP_KNOWLEDGE_INSTALLED);
    /* no source tree compiled in */
    char exe[700];
    snprintf(exe, sizeof exe, "%s/careerbot", l->build);
    app_paths_input none = {NULL, exe, "share/careerbot", l->build, ""};
    snprintf(want, sizeof want, "%s/share/careerbot/knowledge", l->root);
    expect(&none, want, APP_KNOWLEDGE_INSTALLED);
    /* a binary at the top of the file system */
    app_paths_input top = {NULL, "/careerbot", "share/careerbot", NULL, NULL};
    expect(&top, "/share/careerbot/knowledge", APP_KNOWLEDGE_INSTALLED);
    /* the executable's path unknown: the working directory's knowledge/ */
    app_paths_input unknown = {NULL, NULL, "share/careerbot", l->build, l->source};
    expect(&unknown, "knowledge", APP_KNOWLEDGE_CWD);
    unknown.exe = "relative/careerbot";
    expect(&unknown, "knowledge", APP_KNOWLEDGE_CWD);
}

/* This process: its environment and /proc/self/exe. The test binary is not in
 * the build folder's top, so without the variable it is the installed path. */
static void test_this_process(void **state)
{
    (void)state;
    const char *old = getenv("CAREERBOT_KNOWLEDGE");
    char *saved = old ? strdup(old) : NULL;
    setenv("CAREERBOT_KNOWLEDGE", "/from/env", 1);
    app_knowledge_origin origin;
    char *got = app_paths_default_knowledge(&origin);
    assert_string_equal(got, "/from/env");
    assert_int_equal(origin, APP_KNOWLEDGE_ENV);
    free(got);

    unsetenv("CAREERBOT_KNOWLEDGE");
    got = app_paths_default_knowledge(&origin);
    assert_non_null(got);
    assert_true(got[0] == '/');
    assert_true(tu_contains(got, "/knowledge"));
    assert_true(origin == APP_KNOWLEDGE_INSTALLED || origin == APP_KNOWLEDGE_SOURCE);
    free(got);
    if (saved) {
        setenv("CAREERBOT_KNOWLEDGE", saved, 1);
        free(saved);
    }
    assert_string_equal(app_paths_origin_name(APP_KNOWLEDGE_ENV), "set by CAREERBOT_KNOWLEDGE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_environment_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_installed_data_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_tree_from_build_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_found_names_the_installed_path, setup, teardown),
        cmocka_unit_test(test_this_process),
    };
    return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
