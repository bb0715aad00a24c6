/* [irc.NAME] rules added for real networks: no password over plaintext unless
 * allowed, client certificates need TLS, SASL mechanisms and keys checked,
 * state_dir from [bot], the channel count bounded. The file goes through the real reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "irc/irc_config.h"

static char dir[256], path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/careerbot-irc-config-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.ini", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static int read_irc(const char *text, irc_network_config *out, base_error *err)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    conf_config cfg;
    assert_int_equal(conf_defaults(&cfg, "/kb", err), BASE_OK);
    int rc = conf_load(&cfg, path, err);
    if (rc == BASE_OK)
        rc = irc_network_config_read(&cfg, &cfg.sections[cfg.n_sections - 1], out, err);
    conf_free(&cfg);
    return rc;
}

static void expect_ok(const char *text)
{
    irc_network_config c;
    base_error err;
    if (read_irc(text, &c, &err) != BASE_OK)
        fail_msg("refused: %s\n%s", err.text, text);
    irc_network_config_free(&c);
}

static void expect_error(const char *text, const char *key, const char *needle)
{
    irc_network_config c;
    base_error err = {0};
    if (read_irc(text, &c, &err) == BASE_OK) {
        irc_network_config_free(&c);
        fail_msg("accepted, expected an error with \"%s\":\n%s", needle, text);
    }
    char k[100];
    snprintf(k, sizeof k, "] %s: ", key);
    if (!strstr(err.text, k) || !strstr(err.text, needle))
        fail_msg("message \"%s\" should name %s and say \"%s\"", err.text, key, needle);
}

static void test_no_passwords_in_the_clear(void **state)
{
    (void)state;
    expect_error("[irc.x]\nhost = h\ntls = no\nsasl_user = u\nsasl_password = p\n", "sasl_password", "in the clear");
    expect_error("[irc.x]\nhost = h\ntls = no\npassword = p\n", "password", "allow_plaintext_credentials = yes");
    expect_error("[irc.x]\nhost = h\ntls = no\nnickserv_password = p\n", "nickserv_password", "tls = yes");
    expect_ok("[irc.x]\nhost = h\ntls = no\nsasl_user = u\nsasl_password = p\nallow_plaintext_credentials = yes\n");
    expect_ok("[irc.x]\nhost = h\nsasl_user = u\nsasl_password = p\n");
    expect_ok("[irc.x]\nhost = h\ntls = no\n");
}

static void test_client_certificate_keys(void **state)
{
    (void)state;
    expect_error("[irc.x]\nhost = h\ntls = no\ntls_cert = c.pem\n", "tls_cert", "needs tls = yes");
    expect_error("[irc.x]\nhost = h\ntls_key = c.key\n", "tls_key", "needs tls_cert");
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc("[irc.x]\nhost = h\ntls_cert = c.pem\ntls_key = /abs/c.key\n", &c, &err), BASE_OK);
    char want[400];
    snprintf(want, sizeof want, "%s/c.pem", dir); /* relative to the config file */
    assert_string_equal(c.tls_cert, want);
    assert_string_equal(c.tls_key, "/abs/c.key");
    irc_network_config_free(&c);
}

static void test_sasl_keys(void **state)
{
    (void)state;
    expect_error("[irc.x]\nhost = h\nsasl_mechanisms = PLAIN, SCRAM-SHA-1\n", "sasl_mechanisms", "SCRAM-SHA-256");
    expect_error("[irc.x]\nhost = h\nsasl_ecdsa_key = k.pem\n", "sasl_ecdsa_key", "needs sasl_user");
    expect_error("[irc.x]\nhost = h\nadmins = al:ice\n", "admins", "colons");
    expect_error("[irc.x]\nhost = h\nsasl_user = u\n", "sasl_user", "go together");
    expect_ok("[irc.x]\nhost = h\nsasl_user = u\nsasl_ecdsa_key = k.pem\n");
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc("[irc.x]\nhost = h\nsasl_mechanisms = external scram-sha-256, PLAIN\n", &c, &err),
                     BASE_OK);
    assert_int_equal(c.n_sasl_mechanisms, 3);
    assert_string_equal(c.sasl_mechanisms[1], "scram-sha-256");
    assert_false(c.ignore_sts);
    assert_false(c.allow_plaintext_credentials);
    irc_network_config_free(&c);
}

/* The session keeps 64 channels: a list naming more is refused whole, rather
 * than its tail going unjoined without a word. */
static void test_channel_count_bound(void **state)
{
    (void)state;
    char text[4096] = "[irc.x]\nhost = h\nchannels = ";
    for (int i = 0; i < IRC_SESSION_MAX_CHANNELS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s#c%d", i ? ", " : "", i);
    strcat(text, "\n");
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc(text, &c, &err), BASE_OK);
    assert_int_equal(c.n_channels, IRC_SESSION_MAX_CHANNELS);
    irc_network_config_free(&c);
    text[strlen(text) - 1] = '\0';
    strcat(text, ", #one-more\n");
    expect_error(text, "channels", "at most 64 channels (not 65)");
}

static void test_state_dir_from_bot(void **state)
{
    (void)state;
    irc_network_config c;
    base_error err;
    assert_int_equal(read_irc("[bot]\nstate_dir = /var/lib/cb\n[irc.x]\nhost = h\n", &c, &err), BASE_OK);
    assert_string_equal(c.state_dir, "/var/lib/cb");
    irc_network_config_free(&c);
    assert_int_equal(read_irc("[bot]\nstate_dir = /var/lib/cb\n[irc.x]\nhost = h\nstate_dir = /srv/irc\n", &c, &err),
                     BASE_OK);
    assert_string_equal(c.state_dir, "/srv/irc");
    irc_network_config_free(&c);
    assert_int_equal(read_irc("[irc.x]\nhost = h\n", &c, &err), BASE_OK);
    assert_null(c.state_dir);
    irc_network_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_passwords_in_the_clear),
        cmocka_unit_test(test_client_certificate_keys),
        cmocka_unit_test(test_sasl_keys),
        cmocka_unit_test(test_state_dir_from_bot),
        cmocka_unit_test(test_channel_count_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
