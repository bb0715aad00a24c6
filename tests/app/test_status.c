/* status.c: the Prometheus text, /healthz, the loop clock turned into dates,
 * and the status log lines. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/status.h"
#include "base/log.h"
#include "test_util.h"

static app_process_info info(void)
{
    app_process_info p = {.loop_now = 1000, .wall_now = 1800000000, .started = 1799999000, .rss_bytes = 14680064,
                          .peak_bytes = 15728640, .version = "9.9.9", .reloads = 2, .reload_failures = 1};
    return p;
}

static void two(chat_status *sts)
{
    memset(sts, 0, 2 * sizeof *sts);
    sts[0] = (chat_status){.kind = "irc", .name = "libera", .connected = 1, .state = "online", .since = 900,
                           .lag = 0.25, .last_heard = 998, .rooms = 2, .rooms_wanted = 3, .queued = 4, .queue_max = 60,
                           .counts = {.answered = 7, .declined = 2, .clarified = 1, .other = 3, .busy = 5}};
    sts[1] = (chat_status){.kind = "matrix", .name = "home", .connected = 0, .state = "retrying", .since = 0,
                           .lag = -1, .rooms = 0, .queue_max = 200};
}

static void test_prometheus(void **state)
{
    (void)state;
    chat_status sts[2];
    two(sts);
    app_process_info p = info();
    base_strbuf out = {0};
    app_status_prometheus(sts, 2, &p, &out);
    char *text = base_strbuf_take(&out);
    static const char *const want[] = {
        "# TYPE careerbot_network_connected gauge\n",
        "careerbot_network_connected{network=\"irc.libera\",kind=\"irc\"} 1\n",
        "careerbot_network_connected{network=\"matrix.home\",kind=\"matrix\"} 0\n",
        /* since: 100 s before now on the loop clock is 100 s before now on the wall */
        "careerbot_network_state_since_seconds{network=\"irc.libera\",kind=\"irc\"} 1799999900\n",
        "careerbot_network_state_since_seconds{network=\"matrix.home\",kind=\"matrix\"} 0\n",
        "careerbot_network_lag_seconds{network=\"irc.libera\",kind=\"irc\"} 0.25\n",
        "careerbot_network_rooms_joined{network=\"irc.libera\",kind=\"irc\"} 2\n",
        "careerbot_network_queue_length{network=\"irc.libera\",kind=\"irc\"} 4\n",
        "careerbot_network_queue_capacity{network=\"matrix.home\",kind=\"matrix\"} 200\n",
        "# TYPE careerbot_replies_total counter\n",
        "careerbot_replies_total{network=\"irc.libera\",kind=\"irc\",reply=\"answered\"} 7\n",
        "careerbot_replies_total{network=\"irc.libera\",kind=\"irc\",reply=\"declined\"} 2\n",
        "careerbot_replies_total{network=\"irc.libera\",kind=\"irc\",reply=\"clarified\"} 1\n",
        "careerbot_replies_total{network=\"irc.libera\",kind=\"irc\",reply=\"other\"} 3\n",
        "careerbot_replies_total{network=\"irc.libera\",kind=\"irc\",reply=\"busy\"} 5\n",
        "careerbot_replies_total{network=\"matrix.home\",kind=\"matrix\",reply=\"answered\"} 0\n",
        "careerbot_build_info{version=\"9.9.9\"} 1\n",
        "careerbot_start_time_seconds 1799999000.000\n",
        "careerbot_resident_memory_bytes 14680064\n",
        "careerbot_resident_memory_peak_bytes 15728640\n",
        "careerbot_config_reloads_total 2\n",
        "careerbot_config_reload_failures_total 1\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(text, want[i]))
            fail_msg("no \"%s\" in:\n%s", want[i], text);
    /* No lag for the account that has none. */
    assert_null(strstr(text, "careerbot_network_lag_seconds{network=\"matrix.home\""));
    free(text);
}

/* A label value is escaped as the format says. */
static void test_label_escaping(void **state)
{
    (void)state;
    chat_status st = {.kind = "irc", .name = "a\"b\\c\nd", .state = "online", .lag = -1};
    app_process_info p = info();
    p.version = "1\"2";
    base_strbuf out = {0};
    app_status_prometheus(&st, 1, &p, &out);
    char *text = base_strbuf_take(&out);
    assert_non_null(strstr(text, "{network=\"irc.a\\\"b\\\\c\\nd\",kind=\"irc\"} 0\n"));
    assert_non_null(strstr(text, "careerbot_build_info{version=\"1\\\"2\"} 1\n"));
    free(text);
}

static void test_health(void **state)
{
    (void)state;
    chat_status sts[2];
    two(sts);
    base_strbuf out = {0};
    assert_int_equal(app_status_health(sts, 2, &out), 503);
    char *text = base_strbuf_take(&out);
    assert_string_equal(text, "irc.libera ok\nmatrix.home retrying\ndegraded\n");
    free(text);
    assert_int_equal(app_status_health(sts, 1, &out), 200);
    text = base_strbuf_take(&out);
    assert_string_equal(text, "irc.libera ok\nok\n");
    free(text);
}

static void test_log_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    base_log_set_output(f);
    base_log_set_style(BASE_LOG_STYLE_JOURNAL);
    base_log_set_level(BASE_LOG_INFO);
    chat_status sts[2];
    two(sts);
    app_process_info p = info();
    app_status_log(sts, 2, &p);
    char *text = tu_slurp(f);
    base_log_set_output(NULL);
    base_log_set_style(BASE_LOG_STYLE_AUTO);
    fclose(f);
    const char *want =
        "<6>network=irc.libera event=status connected=yes state=online since=2027-01-15T07:58:20Z lag=0.250 "
        "heard_s_ago=2 channels=2/3 answered=7 declined=2 clarified=1 other=3 busy=5 queue=4/60: connected since "
        "2027-01-15T07:58:20Z\n"
        "<6>network=matrix.home event=status connected=no state=retrying since=never lag=- heard_s_ago=- rooms=0 "
        "answered=0 declined=0 clarified=0 other=0 busy=0 queue=0/200: retrying since never\n"
        "<6>careerbot event=status connected=1/2 rss=14.0MiB peak_rss=15.0MiB uptime_s=1000: 1 of 2 networks "
        "connected; up since 2027-01-15T07:43:20Z\n";
    if (strcmp(text, want) != 0)
        fail_msg("got:\n%s\nwanted:\n%s", text, want);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
