/* STS: the capability value's parser, and the policy store in a folder
 * (atomic writes, expiry, removal, damaged lines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "irc/irc_sts.h"

static void test_parse(void **state)
{
    (void)state;
    irc_sts_value v;
    assert_int_equal(irc_sts_parse("port=6697,duration=2592000,preload", &v), BASE_OK);
    assert_int_equal(v.port, 6697);
    assert_int_equal(v.duration, 2592000);
    assert_true(v.preload);
    assert_int_equal(irc_sts_parse("duration=0", &v), BASE_OK);
    assert_int_equal(v.port, 0);
    assert_int_equal(v.duration, 0);
    assert_int_equal(irc_sts_parse("future=1,port=1", &v), BASE_OK); /* unknown keys skipped */
    assert_int_equal(v.port, 1);
    assert_int_equal(v.duration, -1);
    assert_int_equal(irc_sts_parse("", &v), BASE_OK);
    static const char *const bad[] = {"port=", "port=0", "port=65536", "port=66x", "duration=-1", "duration=1e9",
                                      "duration=9999999999999", "port=+1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (irc_sts_parse(bad[i], &v) != BASE_ERR)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(irc_sts_parse(NULL, &v), BASE_ERR);
}

static void test_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/careerbot-sts-XXXXXX", path[100];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/irc-sts", dir);
    int port = 0;
    base_error err;
    /* No file: no policy. */
    assert_int_equal(irc_sts_store_lookup(path, "irc.example.org", 1000, &port, &err), 0);
    assert_int_equal(irc_sts_store_set(path, "IRC.Example.org", 6697, 2000, 1000, &err), BASE_OK);
    assert_int_equal(irc_sts_store_set(path, "other.example", 7000, 5000, 1000, &err), BASE_OK);
    assert_int_equal(irc_sts_store_lookup(path, "irc.example.ORG", 1500, &port, &err), 1);
    assert_int_equal(port, 6697);
    /* Expired: gone. */
    assert_int_equal(irc_sts_store_lookup(path, "irc.example.org", 2000, &port, &err), 0);
    /* Renewed, then removed (duration=0). */
    assert_int_equal(irc_sts_store_set(path, "irc.example.org", 6698, 9000, 1500, &err), BASE_OK);
    assert_int_equal(irc_sts_store_lookup(path, "irc.example.org", 8000, &port, &err), 1);
    assert_int_equal(port, 6698);
    assert_int_equal(irc_sts_store_set(path, "irc.example.org", 6698, 0, 1500, &err), BASE_OK);
    assert_int_equal(irc_sts_store_lookup(path, "irc.example.org", 1500, &port, &err), 0);
    assert_int_equal(irc_sts_store_lookup(path, "other.example", 1500, &port, &err), 1);
    assert_int_equal(port, 7000);
    /* Only the bot may write it; no temporary file is left. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    char tmp[120];
    snprintf(tmp, sizeof tmp, "%.*s/.irc-sts.tmp", (int)(strrchr(path, '/') - path), path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* Damaged lines cost only themselves. */
    FILE *f = fopen(path, "a");
    fputs("garbage\nbad host 1 99999\nok.example 6697 99999\n\n", f);
    fclose(f);
    assert_int_equal(irc_sts_store_lookup(path, "ok.example", 1500, &port, &err), 1);
    assert_int_equal(irc_sts_store_lookup(path, "bad", 1500, &port, &err), 0);
    /* Bad input to set. */
    assert_int_equal(irc_sts_store_set(path, "", 6697, 9000, 1, &err), BASE_ERR);
    assert_int_equal(irc_sts_store_set(path, "h", 0, 9000, 1, &err), BASE_ERR);
    assert_int_equal(irc_sts_store_set(path, "a b", 1, 9000, 1, &err), BASE_ERR);
    /* A folder that cannot be written: an error, not a crash. */
    assert_int_equal(irc_sts_store_set("/nonexistent/dir/irc-sts", "h", 1, 9000, 1, &err), BASE_ERR);
    assert_non_null(strstr(err.text, "cannot create"));
    /* Bounded: the policy that ends first goes. */
    for (int i = 0; i < IRC_STS_MAX_POLICIES + 10; i++) {
        char host[40];
        snprintf(host, sizeof host, "h%d.example", i);
        assert_int_equal(irc_sts_store_set(path, host, 6697, 10000 + i, 1, &err), BASE_OK);
    }
    assert_int_equal(irc_sts_store_lookup(path, "h0.example", 2, &port, &err), 0);
    assert_int_equal(irc_sts_store_lookup(path, "h265.example", 2, &port, &err), 1);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
