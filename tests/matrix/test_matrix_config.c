/* [matrix.NAME] sections: defaults, every check, and errors that name the
 * file, the line and the key. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "matrix/matrix_config.h"
#include "test_files.h"

static char *dir;
static char path[1100];

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp();
    snprintf(path, sizeof path, "%s/careerbot.ini", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_remove_dir(dir);
    free(dir);
    return 0;
}

/* Loads text and reads its first section. */
static int read_section(const char *text, matrix_network_config *out, base_error *err)
{
    conf_config cfg;
    tu_write(dir, "careerbot.ini", text);
    assert_int_equal(conf_defaults(&cfg, "/kb", err), BASE_OK);
    int rc = conf_load(&cfg, path, err);
    if (rc == BASE_OK) {
        assert_true(cfg.n_sections >= 1);
        rc = matrix_network_config_read(&cfg, &cfg.sections[0], out, err);
    }
    conf_free(&cfg);
    return rc;
}

static void expect_ok(const char *text, matrix_network_config *out)
{
    base_error err = {0};
    if (read_section(text, out, &err) != BASE_OK)
        fail_msg("%s", err.text);
}

/* Expects "PATH:line: [matrix.hs] key: ..." containing needle. */
static void expect_error(const char *text, int line, const char *key, const char *needle)
{
    matrix_network_config c;
    base_error err = {0};
    if (read_section(text, &c, &err) == BASE_OK) {
        matrix_network_config_free(&c);
        fail_msg("read, expected an error with \"%s\"", needle);
    }
    char prefix[1300];
    snprintf(prefix, sizeof prefix, "%s:%d: [matrix.hs] %s: ", path, line, key);
    if (strncmp(err.text, prefix, strlen(prefix)) != 0 || !strstr(err.text, needle))
        fail_msg("message \"%s\"\n  expected to start with \"%s\" and contain \"%s\"", err.text, prefix, needle);
}

#define BOT "[bot]\nstate_dir = /var/lib/careerbot\n"
#define HS "[matrix.hs]\nhomeserver = https://matrix.example.org/\nuser_id = @careerbot:example.org\n"

static void test_defaults(void **state)
{
    (void)state;
    matrix_network_config c;
    expect_ok(BOT HS "access_token = syt_abc\n", &c);
    assert_string_equal(c.name, "hs");
    assert_string_equal(c.homeserver, "https://matrix.example.org"); /* no trailing slash */
    assert_string_equal(c.user_id, "@careerbot:example.org");
    assert_string_equal(c.access_token, "syt_abc");
    assert_null(c.password);
    assert_string_equal(c.state_dir, "/var/lib/careerbot/matrix-hs");
    assert_string_equal(c.command_prefixes, "!");
    assert_int_equal(c.n_allowed_inviters, 1);
    assert_string_equal(c.allowed_inviters[0], "example.org");
    assert_true(c.sync_timeout == 30);
    assert_true(c.listen_min_score > 0);
    assert_true(c.user_burst >= 1 && c.room_burst >= 1);
    assert_true(c.queue_max > 0);
    assert_null(c.ca_file);
    matrix_network_config_free(&c);
}

static void test_every_key(void **state)
{
    (void)state;
    matrix_network_config c;
    tu_write(dir, "ca.pem", "not really a certificate\n");
    expect_ok("[matrix.hs]\nhomeserver = https://hs.example.org:8448\nuser_id = @bot:example.org\n"
              "password = secret\ndevice_id = CAREERBOT\nstate_dir = state\ncommand_prefixes = !?\n"
              "allowed_inviters = @alice:example.org, other.org\nlisten = !abc:example.org #coders:example.org\n"
              "listen_min_score = 3.5\nuser_burst = 2\nuser_rate = 0.5\nroom_burst = 4\nroom_rate = 1\n"
              "queue_max = 50\nca_file = ca.pem\nsync_timeout = 10\ndisplay_name = Career Bot\n"
              "admins = @alice:example.org @ops:other.org\n",
              &c);
    assert_int_equal(c.n_admins, 2);
    assert_string_equal(c.admins[1], "@ops:other.org");
    assert_null(c.access_token);
    assert_string_equal(c.password, "secret");
    assert_string_equal(c.device_id, "CAREERBOT");
    char want[1200];
    snprintf(want, sizeof want, "%s/state", dir); /* relative to the config's folder */
    assert_string_equal(c.state_dir, want);
    snprintf(want, sizeof want, "%s/ca.pem", dir);
    assert_string_equal(c.ca_file, want);
    assert_string_equal(c.command_prefixes, "!?");
    assert_int_equal(c.n_allowed_inviters, 2);
    assert_string_equal(c.allowed_inviters[1], "other.org");
    assert_int_equal(c.n_listen, 2);
    assert_string_equal(c.listen[1], "#coders:example.org");
    assert_true(c.listen_min_score == 3.5 && c.user_burst == 2 && c.user_rate == 0.5);
    assert_true(c.room_burst == 4 && c.room_rate == 1 && c.sync_timeout == 10);
    assert_int_equal(c.queue_max, 50);
    assert_string_equal(c.display_name, "Career Bot");
    matrix_network_config_free(&c);
}

static void test_token_file_and_env(void **state)
{
    (void)state;
    matrix_network_config c;
    tu_write(dir, "token", "syt_from_file  \n# ignored\n");
    char token_path[1200];
    snprintf(token_path, sizeof token_path, "%s/token", dir);
    /* A token others may read is refused, with the fix. */
    chmod(token_path, 0644);
    expect_error(BOT HS "access_token_file = token\n", 6, "access_token_file", "run: chmod 600");
    chmod(token_path, 0640);
    expect_error(BOT HS "access_token_file = token\n", 6, "access_token_file", "its group");
    chmod(token_path, 0600);
    expect_ok(BOT HS "access_token_file = token\n", &c);
    assert_string_equal(c.access_token, "syt_from_file");
    matrix_network_config_free(&c);

    setenv("CAREERBOT_TEST_TOKEN", "syt_from_env", 1);
    expect_ok(BOT HS "access_token_env = CAREERBOT_TEST_TOKEN\n", &c);
    assert_string_equal(c.access_token, "syt_from_env");
    matrix_network_config_free(&c);

    expect_error(BOT HS "access_token_file = missing\n", 6, "access_token_file", "cannot open");
    tu_write(dir, "empty", "\n");
    snprintf(token_path, sizeof token_path, "%s/empty", dir);
    chmod(token_path, 0600);
    expect_error(BOT HS "access_token_file = empty\n", 6, "access_token_file", "no token");
    unsetenv("CAREERBOT_TEST_UNSET");
    expect_error(BOT HS "access_token_env = CAREERBOT_TEST_UNSET\n", 6, "access_token_env", "not set");
    expect_error(BOT HS "access_token = syt_a\naccess_token_env = CAREERBOT_TEST_TOKEN\n", 7, "access_token_env",
                 "only one of");
    expect_error(BOT HS "access_token = two words\n", 6, "access_token", "printable");
}

static void test_receipts_typing_proxy_unknown_commands(void **state)
{
    (void)state;
    matrix_network_config c;
    expect_ok(BOT HS "access_token = syt_a\n", &c);
    assert_true(c.read_receipts);
    assert_true(c.typing);
    assert_null(c.proxy); /* none: the environment's are not used either */
    assert_int_equal(c.n_answer_unknown_commands, 0);
    matrix_network_config_free(&c);
    expect_ok(BOT HS "access_token = syt_a\nread_receipts = no\ntyping_notifications = no\n"
              "proxy = socks5h://127.0.0.1:1080\nanswer_unknown_commands = #a:example.org, !b:example.org\n", &c);
    assert_false(c.read_receipts);
    assert_false(c.typing);
    assert_string_equal(c.proxy, "socks5h://127.0.0.1:1080");
    assert_int_equal(c.n_answer_unknown_commands, 2);
    assert_string_equal(c.answer_unknown_commands[1], "!b:example.org");
    matrix_network_config_free(&c);
    expect_error(BOT HS "access_token = syt_a\nproxy = ftp://x\n", 7, "proxy", "must start with");
    expect_error(BOT HS "access_token = syt_a\nanswer_unknown_commands = #general\n", 7, "answer_unknown_commands",
                 "room id");
}

static void test_loopback_http_only(void **state)
{
    (void)state;
    matrix_network_config c;
    static const char *const ok[] = {"http://127.0.0.1:8008", "http://localhost:8008/", "http://[::1]:8008",
                                     "https://matrix.org"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char text[600];
        snprintf(text, sizeof text, BOT "[matrix.hs]\nhomeserver = %s\nuser_id = @a:b\naccess_token = t\n", ok[i]);
        expect_ok(text, &c);
        matrix_network_config_free(&c);
    }
    expect_error(BOT "[matrix.hs]\nhomeserver = http://matrix.example.org\n", 4, "homeserver", "loopback");
    expect_error(BOT "[matrix.hs]\nhomeserver = http://127.0.0.1.example.org\n", 4, "homeserver", "loopback");
    expect_error(BOT "[matrix.hs]\nhomeserver = matrix.example.org\n", 4, "homeserver", "https://");
    expect_error(BOT "[matrix.hs]\nhomeserver = https://user:pw@example.org\n", 4, "homeserver", "URL");
    expect_error(BOT "[matrix.hs]\nhomeserver = https://example.org/?a=b\n", 4, "homeserver", "URL");
}

/* A missing key is reported at the section (config.c counts a section from
 * its first key's line). */
static void test_required_keys(void **state)
{
    (void)state;
    expect_error(BOT "[matrix.hs]\nuser_id = @a:b\naccess_token = t\n", 4, "homeserver", "required");
    expect_error(BOT "[matrix.hs]\nhomeserver = https://b\naccess_token = t\n", 4, "user_id", "required");
    expect_error(BOT HS, 4, "access_token", "or a password");
    /* No state_dir anywhere: next_batch could not persist. */
    expect_error(HS "access_token = t\n", 2, "state_dir", "state directory is required");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error(BOT HS "access_token = t\nuser_burst = 0\n", 7, "user_burst", "number from 1");
    expect_error(BOT HS "access_token = t\nsync_timeout = 30s\n", 7, "sync_timeout", "number");
    expect_error(BOT HS "access_token = t\nlisten = coders\n", 7, "listen", "room id");
    expect_error(BOT HS "access_token = t\nallowed_inviters = @nobody\n", 7, "allowed_inviters", "user");
    expect_error(BOT HS "access_token = t\nadmins = alice\n", 7, "admins", "full user id");
    expect_error(BOT HS "access_token = t\nadmins = @alice:example.org, example.org\n", 7, "admins", "user id");
    expect_error(BOT HS "access_token = t\ncommand_prefixes = abc\n", 7, "command_prefixes", "punctuation");
    expect_error(BOT HS "access_token = t\ncolour = blue\n", 7, "colour", "unknown key");
    expect_error(BOT HS "access_token = t\nqueue_max = 2.5\n", 7, "queue_max", "whole number");
    expect_error(BOT "[matrix.hs]\nhomeserver = https://b\nuser_id = careerbot\n", 5, "user_id", "@careerbot");
    expect_error(BOT "[matrix.hs]\nhomeserver = http://127.0.0.1:1\nuser_id = @a:b\naccess_token = t\n"
                 "ca_file = x.pem\n", 7, "ca_file", "https");
}

static void test_section_name(void **state)
{
    (void)state;
    matrix_network_config c;
    base_error err = {0};
    /* The name becomes part of a directory name: no slashes. */
    assert_int_equal(read_section(BOT "[matrix.a/b]\naccess_token = t\n", &c, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "section name"));
}

static void test_inviters(void **state)
{
    (void)state;
    char *allowed[] = {"@alice:example.org", "trusted.org"};
    assert_true(matrix_inviter_allowed(allowed, 2, "@alice:example.org"));
    assert_false(matrix_inviter_allowed(allowed, 2, "@bob:example.org"));
    assert_true(matrix_inviter_allowed(allowed, 2, "@bob:trusted.org"));
    assert_false(matrix_inviter_allowed(allowed, 2, "@bob:untrusted.org"));
    assert_false(matrix_inviter_allowed(allowed, 2, "@bob:trusted.org.evil"));
    assert_false(matrix_inviter_allowed(allowed, 2, "no-colon"));
    assert_string_equal(matrix_user_server("@a:b.org:8448"), "b.org:8448");
    assert_null(matrix_user_server("@a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_and_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipts_typing_proxy_unknown_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_http_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_name, setup, teardown),
        cmocka_unit_test(test_inviters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
