/* doc/careerbot.1.in documents every configuration key of every table (and
 * nothing the tables lack), in the section of its kind, so the manual cannot
 * drift from the code; and every option, signal and environment variable the
 * program knows. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_keys.h"
#include "irc/irc_config.h"
#include "matrix/matrix_config.h"
#include "test_files.h"

static char *page;

static int setup(void **state)
{
    (void)state;
    page = tu_read(CAREERBOT_TEST_DATA "/../../doc", "careerbot.1.in");
    return page ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(page);
    return 0;
}

/* The text of the .SS section named title, up to the next .SS or .SH. */
static char *section(const char *title)
{
    char head[80];
    snprintf(head, sizeof head, "\n.SS \"%s\"\n", title);
    const char *start = strstr(page, head);
    if (!start)
        fail_msg("the manual has no section %s", title);
    start += strlen(head);
    const char *end = start;
    while ((end = strchr(end, '\n')) && strncmp(end, "\n.SS", 4) != 0 && strncmp(end, "\n.SH", 4) != 0)
        end++;
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *s = malloc(n + 1);
    memcpy(s, start, n);
    s[n] = '\0';
    return s;
}

static int documented(const char *text, const char *key)
{
    char entry[120];
    snprintf(entry, sizeof entry, ".TP\n.B %s\n", key);
    return strstr(text, entry) != NULL;
}

static void check_kind(const char *title, const conf_schema *schema, int network)
{
    char *text = section(title);
    for (size_t i = 0; i < schema->n_keys; i++)
        if (!documented(text, schema->keys[i].name))
            fail_msg("careerbot(1) %s does not document %s (add \".TP\\n.B %s\\n...\")", title, schema->keys[i].name,
                     schema->keys[i].name);
    if (network && !documented(text, "enabled"))
        fail_msg("careerbot(1) %s does not document enabled", title);
    /* And nothing the table does not have. */
    for (const char *p = text; (p = strstr(p, ".TP\n.B ")) != NULL;) {
        p += 7;
        char key[80];
        size_t n = strcspn(p, "\n");
        snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), p);
        if (!conf_schema_key(schema, key) && !(network && strcmp(key, "enabled") == 0))
            fail_msg("careerbot(1) %s documents %s, which the table does not have", title, key);
    }
    free(text);
}

static void test_every_key(void **state)
{
    (void)state;
    check_kind("[bot]", &conf_bot_schema, 0);
    check_kind("[irc.NAME]", &irc_network_schema, 1);
    check_kind("[matrix.NAME]", &matrix_network_schema, 1);
}

/* Each default in the manual is the table's. */
static void test_defaults(void **state)
{
    (void)state;
    const conf_schema *schemas[] = {&conf_bot_schema, &irc_network_schema, &matrix_network_schema};
    const char *titles[] = {"[bot]", "[irc.NAME]", "[matrix.NAME]"};
    for (size_t s = 0; s < 3; s++) {
        char *text = section(titles[s]);
        for (size_t i = 0; i < schemas[s]->n_keys; i++) {
            const conf_key *k = &schemas[s]->keys[i];
            if (!k->def)
                continue;
            char entry[120];
            snprintf(entry, sizeof entry, ".TP\n.B %s\n", k->name);
            const char *e = strstr(text, entry);
            const char *next = e ? strstr(e + 1, ".TP\n") : NULL;
            char want[160], escaped[120];
            size_t o = 0;
            for (const char *c = k->def; *c && o + 3 < sizeof escaped; c++) {
                if (*c == '-' || *c == '\\')
                    escaped[o++] = '\\';
                escaped[o++] = *c == '\\' ? 'e' : *c;
            }
            escaped[o] = '\0';
            snprintf(want, sizeof want, "(default: %s)", escaped);
            const char *found = e ? strstr(e, want) : NULL;
            if (!found || (next && found > next))
                fail_msg("careerbot(1) %s %s: the default should read %s", titles[s], k->name, want);
        }
        free(text);
    }
}

static void test_signals_and_environment(void **state)
{
    (void)state;
    static const char *const words[] = {
        ".B SIGHUP\n", ".B SIGUSR1\n", ".BR SIGINT \", \" SIGTERM\n", ".B CAREERBOT_KNOWLEDGE\n",
        ".B CAREERBOT_ALLOW_ROOT\n", ".B CAREERBOT_DEBUG\n", ".B STATE_DIRECTORY\n", ".B NO_COLOR\n",
        "JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "XDG_STATE_HOME", "/metrics", "/healthz",
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strstr(page, words[i]))
            fail_msg("careerbot(1) does not mention %s", words[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_signals_and_environment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
