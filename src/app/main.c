/* careerbot's command line: console chat, one-shot questions, knowledge-base
 * checks, and (with network sections in the config) the chat networks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/log.h"
#include "base/str.h"
#include "careerbot/bot.h"
#include "conf/conf.h"
#include "console/console.h"
#include "net/tls.h"
#include "app/config_check.h"
#include "app/kb_check.h"
#include "app/metrics.h"
#include "app/notify.h"
#include "app/paths.h"
#include "app/runner.h"
#include "app/setup.h"
#include "app/unanswered.h"

typedef struct options {
    const char *ask;
    const char *config;
    const char *knowledge;
    const char *check_dir;
    const char *report;     /* --report-unanswered PATH */
    int check;
    int check_config;
    int console;
    int serve;
    int allow_root;
    int verbose, quiet;
    console_format format;
} options;

/* What the bot is comes from its knowledge base, so another career's base
 * describes itself; without a loadable base, a plain line. */
static void print_tagline(FILE *out, const char *knowledge)
{
    core_kb *kb = NULL;
    if (knowledge && core_kb_load(knowledge, &kb, NULL) == BASE_OK)
        fprintf(out, "careerbot: %s.\n", kb->texts.tagline);
    else
        fprintf(out, "careerbot: a chat bot that answers from a career knowledge base.\n");
    core_kb_free(kb);
}

static void usage(FILE *out)
{
    app_knowledge_origin origin = APP_KNOWLEDGE_CWD;
    char *knowledge = app_paths_default_knowledge(&origin);
    fprintf(out, "Usage: careerbot [OPTIONS]\n");
    print_tagline(out, knowledge);
    fprintf(out,
            "\n"
            "  --console            chat in the terminal (the default without network sections)\n"
            "  --ask QUESTION       answer one question and exit\n"
            "  --format text|json   reply format; json prints {\"matched\",\"kind\",\"topic\",\"score\",\"listen\",\"reply\"}\n"
            "                       (one object per input line in the console)\n"
            "  --config FILE        read settings and networks from an INI file\n"
            "  --serve              run the networks of --config as a service: an error when none is enabled\n"
            "  --knowledge DIR      knowledge directory; without it, [bot] knowledge in the config,\n"
            "                       else $CAREERBOT_KNOWLEDGE, else the installed data directory,\n"
            "                       else the source tree when run from the build folder\n"
            "                       now: %s\n"
            "                       (%s)\n"
            "  --check-kb [DIR]     validate a knowledge directory and replay its examples\n"
            "  --report-unanswered FILE  group the questions of an unanswered log ([bot] unanswered_log)\n"
            "                       by the words they share, biggest group first\n"
            "  --check-config       with --config: report every problem of the file and what it names, then exit\n"
            "  --print-certfp FILE  print the SHA-256 and SHA-512 fingerprints of a PEM certificate (tls_cert),\n"
            "                       as services ask for them (NickServ CERT ADD), then exit\n"
            "  -v, --verbose        log everything (debug), over [bot] log_level\n"
            "  -q, --quiet          log only warnings and errors (-qq: errors), over [bot] log_level\n"
            "  --allow-root         run the networks even as root (better: a user of its own)\n"
            "  --help               show this help\n"
            "  --version            show the version\n"
            "\n"
            "Signals: SIGHUP reloads the configuration and the knowledge base, SIGUSR1 logs each\n"
            "network's status, SIGINT and SIGTERM quit. See careerbot(1).\n",
            knowledge ? knowledge : "?", app_paths_origin_name(origin));
    free(knowledge);
}

/* The fingerprints a network's services take for CertFP (SASL EXTERNAL). */
static int print_certfp(const char *file)
{
    char sha256[65], sha512[129];
    if (net_tls_cert_fingerprints(file, sha256, sha512) != NET_TLS_OK) {
        fprintf(stderr, "careerbot: %s holds no PEM certificate that can be read\n", file);
        return 1;
    }
    printf("SHA-256: %s\nSHA-512: %s\n", sha256, sha512);
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("careerbot %s\nfeatures:%s%s%s\n", CAREERBOT_VERSION, app_notify_available() ? " sd-notify" : "",
                   app_metrics_available() ? " metrics" : "", console_line_editing_available() ? " line-editing" : "");
            exit(0);
        } else if (!strcmp(a, "--print-certfp")) {
            if (!next) {
                fprintf(stderr, "careerbot: --print-certfp needs a certificate file\n");
                return -1;
            }
            exit(print_certfp(next));
        } else if (!strcmp(a, "--check-config")) {
            o->check_config = 1;
        } else if (!strcmp(a, "--console")) {
            o->console = 1;
        } else if (!strcmp(a, "--serve")) {
            o->serve = 1;
        } else if (!strcmp(a, "--allow-root")) {
            o->allow_root = 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose++;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet++;
        } else if (!strcmp(a, "-qq")) {
            o->quiet += 2;
        } else if (!strcmp(a, "--check-kb")) {
            o->check = 1;
            if (next && next[0] != '-')
                o->check_dir = argv[++i];
        } else if ((!strcmp(a, "--ask") || !strcmp(a, "--config") || !strcmp(a, "--knowledge") ||
                    !strcmp(a, "--format") || !strcmp(a, "--report-unanswered")) && !next) {
            fprintf(stderr, "careerbot: %s needs a value\n", a);
            return -1;
        } else if (!strcmp(a, "--report-unanswered")) {
            o->report = argv[++i];
        } else if (!strcmp(a, "--ask")) {
            o->ask = argv[++i];
        } else if (!strcmp(a, "--config")) {
            o->config = argv[++i];
        } else if (!strcmp(a, "--knowledge")) {
            o->knowledge = argv[++i];
        } else if (!strcmp(a, "--format")) {
            const char *f = argv[++i];
            if (!strcmp(f, "json"))
                o->format = CONSOLE_FORMAT_JSON;
            else if (!strcmp(f, "text"))
                o->format = CONSOLE_FORMAT_TEXT;
            else {
                fprintf(stderr, "careerbot: --format must be text or json, not \"%s\"\n", f);
                return -1;
            }
        } else {
            fprintf(stderr, "careerbot: unknown argument \"%s\" (see --help)\n", a);
            return -1;
        }
    }
    if (o->verbose && o->quiet) {
        fprintf(stderr, "careerbot: -v and -q do not go together\n");
        return -1;
    }
    if (o->serve && !o->config) {
        fprintf(stderr, "careerbot: --serve needs --config FILE\n");
        return -1;
    }
    return 0;
}

static int cli_log_level(const options *o)
{
    if (o->verbose)
        return BASE_LOG_DEBUG;
    if (o->quiet)
        return o->quiet > 1 ? BASE_LOG_ERROR : BASE_LOG_WARN;
    return -1;
}

static core_bot *make_bot(const conf_config *cfg)
{
    core_kb *kb;
    base_error err;
    if (core_kb_load(cfg->knowledge, &kb, &err) != BASE_OK) {
        fprintf(stderr, "careerbot: cannot load the knowledge base: %s\n", err.text);
        return NULL;
    }
    core_bot_options bo = {cfg->command_prefixes, cfg->max_conversations, cfg->conversation_ttl};
    core_bot *bot = core_bot_new(kb, &bo, &err);
    if (!bot)
        fprintf(stderr, "careerbot: cannot start: %s\n", err.text);
    return bot;
}

/* [bot] unanswered_log: every declined or unsure question appended there
 * (*out stays NULL when the key is unset). -1 when the file cannot be opened. */
static int open_unanswered_log(const conf_config *cfg, core_bot *bot, app_unanswered_log **out)
{
    *out = NULL;
    if (!cfg->unanswered_log)
        return 0;
    base_error err;
    if (!(*out = app_unanswered_open(cfg->unanswered_log, cfg->unanswered_log_users, &err))) {
        fprintf(stderr, "careerbot: %s\n", err.text);
        return -1;
    }
    core_bot_on_unanswered(bot, app_unanswered_record, *out);
    return 0;
}

/* The networks run for months on the open internet: not as root, unless the
 * operator says so (a container with nothing else in it). */
static int root_refused(const options *o)
{
    const char *env = getenv("CAREERBOT_ALLOW_ROOT");
    if (geteuid() != 0 || o->allow_root || (env && *env && *env != '0'))
        return 0;
    fprintf(stderr, "careerbot: refusing to run the networks as root: run it as a user of its own (the systemd unit\n"
                    "           does, with DynamicUser=yes), or pass --allow-root (or set CAREERBOT_ALLOW_ROOT=1)\n");
    return 1;
}

/* A config whose networks are all "enabled = no" (the shipped example):
 * say what is left to fill in. */
static int nothing_to_run(const conf_config *cfg)
{
    const char *path = cfg->path ? cfg->path : "the configuration";
    if (cfg->n_sections == 0) {
        fprintf(stderr, "careerbot: %s has no network to run: add an [irc.NAME] or [matrix.NAME] section\n"
                        "           (config.example.ini shows every key)\n", path);
        return EX_CONFIG;
    }
    fprintf(stderr, "careerbot: %s: no network to run, every one has enabled = no:\n", path);
    app_config_report_disabled(cfg, "  ", stderr);
    fprintf(stderr, "Fill in a network's section (its server, the bot's account) and set enabled = yes in it;\n"
                    "careerbot --config %s --check-config then checks the file.\n", path);
    return EX_CONFIG;
}

int main(int argc, char **argv)
{
    options o = {0};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    app_config_source src = {o.config, o.knowledge, NULL, cli_log_level(&o)};
    if (src.log_level >= 0)
        base_log_set_level(src.log_level);
    /* The knowledge directory: --knowledge, else the config's [bot] knowledge
     * (conf_load overrides the default), else what paths.c finds. */
    char *found_kb = o.knowledge ? NULL : app_paths_default_knowledge(NULL);
    src.default_knowledge = o.knowledge ? o.knowledge : found_kb;
    if (!src.default_knowledge) {
        fprintf(stderr, "careerbot: out of memory\n");
        return 1;
    }
    if (o.check) {
        int problems = app_kb_check(o.check_dir ? o.check_dir : src.default_knowledge, stdout, stderr);
        free(found_kb);
        return problems == 0 ? 0 : 1;
    }
    if (o.report) {
        core_kb *kb = NULL; /* its stop words keep "the" and "how" from making groups */
        core_kb_load(src.default_knowledge, &kb, NULL);
        int status = app_unanswered_report(o.report, kb, stdout, stderr);
        core_kb_free(kb);
        free(found_kb);
        return status;
    }

    conf_config cfg;
    conf_problems problems = {0};
    app_config_read(&src, &cfg, &problems);
    if (o.check_config || conf_problems_count(&problems) > 0) {
        int status = 2;
        if (o.check_config && cfg.bot.kind)
            status = app_config_check(&cfg, &problems, stdout);
        else
            app_config_print(&problems, "careerbot: ", stderr);
        conf_problems_free(&problems);
        conf_free(&cfg);
        free(found_kb);
        return status;
    }
    app_log_level_apply(&src, &cfg);
    int networks = !o.ask && (o.serve || (cfg.n_sections > 0 && !o.console));
    int status;
    core_bot *bot = NULL;
    app_unanswered_log *unanswered = NULL;
    if (networks && conf_enabled_sections(&cfg) == 0)
        status = nothing_to_run(&cfg);
    else if (networks && root_refused(&o))
        status = 1;
    else if (!(bot = make_bot(&cfg)))
        status = 1;
    else if (open_unanswered_log(&cfg, bot, &unanswered) != 0)
        status = 1;
    else if (o.ask)
        status = console_ask(bot, o.ask, stdout, o.format);
    else if (networks)
        status = app_runner_run(&(app_runner_options){&src, &cfg, bot});
    else {
        int tty = isatty(STDIN_FILENO);
        status = console_run(bot, stdin, stdout, o.format, tty && o.format == CONSOLE_FORMAT_TEXT);
    }
    core_bot_free(bot);
    app_unanswered_close(unanswered);
    conf_free(&cfg);
    free(found_kb);
    return status;
}
