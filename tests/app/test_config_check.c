/* config_check.c: --check-config reports every problem of a file, with its
 * file, line and key, including what only the files it names can tell (the
 * knowledge base, CA files, pins, state directories), then a summary. */
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

#include "app/config_check.h"
#include "test_util.h"

static char *dir;
static char path[1100];

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    snprintf(path, sizeof path, "%s/c.ini", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

/* Runs the check on text as main does; returns the output with the file's
 * path shown as "F" and puts the status in *status. */
static char *check(const char *text, int *status)
{
    tu_write(dir, "c.ini", text);
    conf_config cfg;
    base_error err;
    assert_int_equal(conf_defaults(&cfg, TU_MINI_KB, &err), BASE_OK);
    conf_problems p = {0};
    conf_read(&cfg, path, &p);
    FILE *out = tmpfile();
    assert_non_null(out);
    *status = app_config_check(&cfg, &p, out);
    char *raw = tu_slurp(out);
    fclose(out);
    conf_problems_free(&p);
    conf_free(&cfg);
    /* path -> F */
    char *s = malloc(strlen(raw) + 1);
    assert_non_null(s);
    char *o = s;
    for (const char *r = raw; *r;) {
        if (strncmp(r, path, strlen(path)) == 0) {
            *o++ = 'F';
            r += strlen(path);
        } else {
            *o++ = *r++;
        }
    }
    *o = '\0';
    free(raw);
    return s;
}

static void expect_output(const char *text, int status, const char *want)
{
    int got_status;
    char *got = check(text, &got_status);
    if (strcmp(got, want) != 0 || got_status != status) {
        fprintf(stderr, "input:\n%s\ngot (status %d):\n%s\nwanted (status %d):\n%s\n", text, got_status, got,
                status, want);
        free(got);
        fail();
    }
    free(got);
}

static void test_good_file(void **state)
{
    (void)state;
    expect_output("[irc.a]\nhost = irc.example.org\n", 0, "F: 1 IRC network, 0 Matrix accounts: ok\n");
    tu_write(dir, "token", "syt_x\n");
    char token[1200];
    snprintf(token, sizeof token, "%s/token", dir);
    chmod(token, 0600); /* a token file others may read is refused */
    expect_output("[bot]\nstate_dir = state\n[irc.a]\nhost = a\n[irc.b]\nhost = b\n[matrix.m]\n"
                  "homeserver = https://m.org\nuser_id = @bot:m.org\naccess_token_file = token\n",
                  0, "F: 2 IRC networks, 1 Matrix account: ok\n");
    expect_output("", 0, "F: 0 IRC networks, 0 Matrix accounts: ok\n");
}

/* Every problem, from the syntax to the sections' checks, in line order. */
static void test_every_problem(void **state)
{
    (void)state;
    expect_output("[bot]\n"                          /* 1 */
                  "nick = 1abc\n"                    /* 2 */
                  "[irc.a]\n"                        /* 3 */
                  "host = h\n"                       /* 4 */
                  "port = 0\n"                       /* 5 */
                  "command_prefixes = ab\n"          /* 6 */
                  "oops\n"                           /* 7 */
                  "[matrix.m]\n"                     /* 8 */
                  "homeserver = http://m.org\n"      /* 9 */
                  "command_prefixes = ab\n",         /* 10 */
                  2,
                  "F:2: [bot] nick: must be 1-30 letters, digits or -_[]\\`^{}| and not start with a digit or -\n"
                  "F:5: [irc.a] port: must be a port number from 1 to 65535\n"
                  "F:6: [irc.a] command_prefixes: must be 1-8 punctuation characters, e.g. /!\n"
                  "F:7: not valid INI syntax (expected [section] or key = value)\n"
                  "F:9: [matrix.m] homeserver: plain http:// is allowed only on loopback (localhost, 127.0.0.1, "
                  "[::1]); use https://\n"
                  "F:9: [matrix.m] user_id: is required (the bot's full user id, e.g. @careerbot:example.org)\n"
                  "F:9: [matrix.m] access_token: an access token (access_token, access_token_file or "
                  "access_token_env) or a password is required\n"
                  "F:9: [matrix.m] state_dir: a state directory is required (here or as [bot] state_dir): the sync "
                  "position must survive restarts so no message is answered twice\n"
                  "F:10: [matrix.m] command_prefixes: must be 1-8 punctuation characters, e.g. /!\n"
                  "F: 1 IRC network, 1 Matrix account: 9 problems\n");
}

static void test_knowledge(void **state)
{
    (void)state;
    int status;
    char *out = check("[bot]\nnick = bot\nknowledge = missing\n", &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "F:3: [bot] knowledge: cannot load the knowledge base: "));
    assert_non_null(strstr(out, "missing"));
    assert_non_null(strstr(out, "F: 0 IRC networks, 0 Matrix accounts: 1 problem\n"));
    free(out);
    /* A broken file in it: the loader's own message, with the file's name. */
    char kb[1200];
    snprintf(kb, sizeof kb, "%s/kb", dir);
    assert_int_equal(mkdir(kb, 0700), 0);
    tu_write(kb, "broken.json", "{ not json");
    out = check("[bot]\nknowledge = kb\n", &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "F:2: [bot] knowledge: cannot load the knowledge base: "));
    assert_non_null(strstr(out, "broken.json"));
    free(out);
}

static void test_files(void **state)
{
    (void)state;
    tu_write(dir, "garbage.pem", "not a certificate\n");
    int status;
    char *out = check("[irc.a]\nhost = h\ntls_ca_file = missing.pem\n[irc.b]\nhost = h\ntls_ca_file = garbage.pem\n"
                      "[irc.c]\nhost = h\ntls_fingerprint = AB:CD\n[matrix.m]\nhomeserver = https://m.org\n"
                      "user_id = @bot:m.org\npassword = pw\nstate_dir = c.ini\nca_file = garbage.pem\n",
                      &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "F:3: [irc.a] tls_ca_file: cannot read "));
    assert_non_null(strstr(out, "F:6: [irc.b] tls_ca_file: "));
    assert_non_null(strstr(out, "F:9: [irc.c] tls_fingerprint: "));
    assert_non_null(strstr(out, "not a SHA-256 fingerprint"));
    assert_non_null(strstr(out, "F:14: [matrix.m] state_dir: "));
    assert_non_null(strstr(out, "is not a directory"));
    assert_non_null(strstr(out, "F:15: [matrix.m] ca_file: "));
    assert_non_null(strstr(out, "F: 3 IRC networks, 1 Matrix account: 5 problems\n"));
    free(out);
    /* A file that loads is fine. */
    static const char *const bundles[] = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"};
    for (size_t i = 0; i < 2; i++) {
        if (access(bundles[i], R_OK) != 0)
            continue;
        char text[600];
        snprintf(text, sizeof text,
                 "[irc.a]\nhost = h\ntls_ca_file = %s\ntls_fingerprint = sha256=%s\n", bundles[i],
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        expect_output(text, 0, "F: 1 IRC network, 0 Matrix accounts: ok\n");
        break;
    }
}

/* "enabled = no": checked, never a problem of the file, and what it lacks
 * is named as what to fill in. */
static void test_disabled_sections(void **state)
{
    (void)state;
    expect_output("[irc.a]\nenabled = no\nhost = irc.example.org\n"
                  "[matrix.m]\nhomeserver = https://m.org\nuser_id = @bot:m.org\nenabled = off\n"
                  "[irc.b]\nhost = b\nenabled = yes\n",
                  0,
                  "F:2: [irc.a]: not run (enabled = no); to run it, fill in host (now irc.example.org); then set "
                  "enabled = yes\n"
                  "F:7: [matrix.m]: not run (enabled = no); to run it, fill in homeserver (now https://m.org), "
                  "user_id (now @bot:m.org); then set enabled = yes\n"
                  "  F:5: [matrix.m] access_token: an access token (access_token, access_token_file or "
                  "access_token_env) or a password is required\n"
                  "  F:5: [matrix.m] state_dir: a state directory is required (here or as [bot] state_dir): the "
                  "sync position must survive restarts so no message is answered twice\n"
                  "F: 2 IRC networks, 1 Matrix account (2 disabled): ok\n");
    /* Its own value is checked like any yes/no, once. */
    expect_output("[irc.a]\nhost = a\nenabled = maybe\nenabled = no\n", 2,
                  "F:3: [irc.a] enabled: must be yes or no\n"
                  "F:4: [irc.a] enabled: given twice (first on line 3)\n"
                  "F: 1 IRC network, 0 Matrix accounts: 2 problems\n");
    /* In [bot] it is an unknown key like any other. */
    int status;
    char *out = check("[bot]\nenabled = no\n", &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "F:2: [bot] enabled: "));
    free(out);
}

/* The [bot] keys of operations: log_level and metrics_listen. */
static void test_operations_keys(void **state)
{
    (void)state;
    expect_output("[bot]\nlog_level = debug\nmetrics_listen = 127.0.0.1:9464\n", 0,
                  "F: 0 IRC networks, 0 Matrix accounts: ok\n");
    expect_output("[bot]\nmetrics_listen = [::1]:1\n", 0, "F: 0 IRC networks, 0 Matrix accounts: ok\n");
    expect_output("[bot]\nlog_level = loud\nmetrics_listen = localhost:9464\n", 2,
                  "F:2: [bot] log_level: must be error, warn, notice, info or debug\n"
                  "F:3: [bot] metrics_listen: must be an IP address and a port, e.g. 127.0.0.1:9464 or [::1]:9464\n"
                  "F: 0 IRC networks, 0 Matrix accounts: 2 problems\n");
    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80", "[::1:80",
                                      "::1:80", "1.2.3:80", "127.0.0.1:8x", "127.0.0.1:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[200];
        snprintf(text, sizeof text, "[bot]\nmetrics_listen = %s\n", bad[i]);
        int status;
        char *out = check(text, &status);
        if (status != 2 || !strstr(out, "metrics_listen: must be"))
            fail_msg("%s was taken: %s", bad[i], out);
        free(out);
    }
    char host[64];
    int port = 0;
    assert_int_equal(conf_listen_split("[::1]:9464", host, sizeof host, &port), BASE_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9464);
}

static void test_unreadable_config(void **state)
{
    (void)state;
    conf_config cfg;
    base_error err;
    assert_int_equal(conf_defaults(&cfg, TU_MINI_KB, &err), BASE_OK);
    conf_problems p = {0};
    char missing[1200];
    snprintf(missing, sizeof missing, "%s/nope.ini", dir);
    assert_int_equal(conf_read(&cfg, missing, &p), BASE_ERR);
    FILE *out = tmpfile();
    assert_int_equal(app_config_check(&cfg, &p, out), 2);
    char *text = tu_slurp(out);
    fclose(out);
    assert_non_null(strstr(text, "nope.ini: cannot open: No such file or directory\n"));
    assert_non_null(strstr(text, "nope.ini: 0 IRC networks, 0 Matrix accounts: 1 problem\n"));
    free(text);
    conf_problems_free(&p);
    conf_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operations_keys, setup, teardown),
    };
    return cmocka_run_group_tests_name("config_check", tests, NULL, NULL);
}
