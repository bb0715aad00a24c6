#include "app/config_check.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "careerbot/kb.h"
#include "conf/conf_keys.h"
#include "irc/irc_config.h"
#include "matrix/matrix_config.h"
#include "net/tls.h"

/* A TLS client is set up only to see whether OpenSSL takes the CA file and
 * the pin as they are given; nothing is sent anywhere. */
static void check_tls(const conf_config *cfg, const conf_section *s, const char *key, const net_tls_options *o,
                      conf_problems *p)
{
    base_error err;
    net_tls *t = net_tls_client_new(o, &err);
    if (!t)
        conf_key_problem(p, cfg, s, key, "%s", err.text);
    net_tls_free(t);
}

/* A state directory is created when missing; one that is there must be a
 * directory the bot may write in. */
static void check_state_dir(const conf_config *cfg, const conf_section *s, const char *key, const char *dir,
                            conf_problems *p)
{
    struct stat st;
    if (!dir || stat(dir, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode))
        conf_key_problem(p, cfg, s, key, "%s is not a directory", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        conf_key_problem(p, cfg, s, key, "cannot write in %s: %s", dir, strerror(errno));
}

static void check_irc(const conf_config *cfg, const conf_section *s, conf_problems *p)
{
    irc_network_config c;
    int files = conf_section_check_files(cfg, s, &irc_network_schema, p);
    if (conf_section_read(cfg, s, &irc_network_schema, &c, p) != BASE_OK)
        return;
    if (c.tls && c.tls_ca_file && files == BASE_OK) {
        net_tls_options o = {.server_name = c.host, .verify = 1, .ca_file = c.tls_ca_file};
        check_tls(cfg, s, "tls_ca_file", &o, p);
    }
    if (c.tls && c.tls_fingerprint) {
        net_tls_options o = {.server_name = c.host, .pin_sha256 = c.tls_fingerprint};
        check_tls(cfg, s, "tls_fingerprint", &o, p);
    }
    irc_network_config_free(&c);
}

static void check_matrix(const conf_config *cfg, const conf_section *s, conf_problems *p)
{
    matrix_network_config c;
    int files = conf_section_check_files(cfg, s, &matrix_network_schema, p);
    if (conf_section_read(cfg, s, &matrix_network_schema, &c, p) != BASE_OK)
        return;
    if (c.ca_file && files == BASE_OK) {
        net_tls_options o = {.server_name = "localhost", .verify = 1, .ca_file = c.ca_file};
        check_tls(cfg, s, "ca_file", &o, p);
    }
    check_state_dir(cfg, s, "state_dir", c.state_dir, p);
    matrix_network_config_free(&c);
}

static void check_bot(const conf_config *cfg, conf_problems *p)
{
    core_kb *kb;
    base_error err;
    if (core_kb_load(cfg->knowledge, &kb, &err) != BASE_OK)
        conf_key_problem(p, cfg, &cfg->bot, "knowledge", "cannot load the knowledge base: %s", err.text);
    else
        core_kb_free(kb);
    check_state_dir(cfg, &cfg->bot, "state_dir", cfg->state_dir, p);
}

void app_config_print(const conf_problems *problems, const char *prefix, FILE *out)
{
    for (size_t i = 0; i < problems->n; i++)
        fprintf(out, "%s%s\n", prefix, problems->items[i].text);
    if (problems->dropped)
        fprintf(out, "%s... and %zu more problem%s\n", prefix, problems->dropped, problems->dropped == 1 ? "" : "s");
}

static void check_section(const conf_config *cfg, const conf_section *s, conf_problems *p)
{
    if (strcmp(s->kind, "irc") == 0)
        check_irc(cfg, s, p);
    else if (strcmp(s->kind, "matrix") == 0)
        check_matrix(cfg, s, p);
}

static const conf_schema *schema_of(const conf_section *s)
{
    if (strcmp(s->kind, "irc") == 0)
        return &irc_network_schema;
    if (strcmp(s->kind, "matrix") == 0)
        return &matrix_network_schema;
    return NULL;
}

/* One disabled section: where it is, the required keys as they stand, and
 * what would stop it from running once enabled. */
static void report_disabled(const conf_config *cfg, const conf_section *s, const char *prefix, FILE *out)
{
    char label[96];
    conf_section_label(s, label, sizeof label);
    fprintf(out, "%s%s:%d: [%s]: not run (enabled = no)", prefix, cfg->path ? cfg->path : "config",
            s->enabled_line ? s->enabled_line : s->line, label);
    const conf_schema *schema = schema_of(s);
    const char *sep = "; to run it, fill in ";
    for (size_t i = 0; schema && i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        if (!(k->flags & CONF_REQUIRED))
            continue;
        const conf_entry *e = conf_find(s, k->name);
        fprintf(out, "%s%s (%s%s)", sep, k->name, e ? "now " : "not set", e ? e->value : "");
        sep = ", ";
    }
    fprintf(out, "%sset enabled = yes\n", *sep == ';' ? "; to run it, " : "; then ");
    conf_problems p = {0};
    check_section(cfg, s, &p);
    conf_problems_sort(&p);
    char inner[120];
    snprintf(inner, sizeof inner, "%s  ", prefix);
    app_config_print(&p, inner, out);
    conf_problems_free(&p);
}

void app_config_report_disabled(const conf_config *cfg, const char *prefix, FILE *out)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (cfg->sections[i].disabled)
            report_disabled(cfg, &cfg->sections[i], prefix, out);
}

int app_config_check(const conf_config *cfg, conf_problems *problems, FILE *out)
{
    size_t irc = 0, matrix = 0, disabled = 0;
    check_bot(cfg, problems);
    for (size_t i = 0; i < cfg->n_sections; i++) {
        const conf_section *s = &cfg->sections[i];
        irc += strcmp(s->kind, "irc") == 0;
        matrix += strcmp(s->kind, "matrix") == 0;
        /* A disabled section's own problems are what to fill in, not errors. */
        if (s->disabled)
            disabled++;
        else
            check_section(cfg, s, problems);
    }
    conf_problems_sort(problems);
    app_config_print(problems, "", out);
    app_config_report_disabled(cfg, "", out);
    size_t n = conf_problems_count(problems);
    fprintf(out, "%s: %zu IRC network%s, %zu Matrix account%s", cfg->path ? cfg->path : "defaults", irc,
            irc == 1 ? "" : "s", matrix, matrix == 1 ? "" : "s");
    if (disabled)
        fprintf(out, " (%zu disabled)", disabled);
    if (n == 0)
        fprintf(out, ": ok\n");
    else
        fprintf(out, ": %zu problem%s\n", n, n == 1 ? "" : "s");
    return n == 0 ? 0 : 2;
}
