#include "console/console.h"

#include "chat/gate.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef CAREERBOT_HAVE_LIBEDIT
#include <histedit.h>
#endif

#define HISTORY_SIZE 1000

#define MAX_INPUT_LINE (64 * 1024) /* longer lines are cut; the bot reads far less */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int console_print_json(const core_reply *reply, FILE *out)
{
    json_t *obj = json_object();
    if (!obj)
        return -1;
    json_object_set_new(obj, "matched", json_boolean(reply->matched));
    json_object_set_new(obj, "kind", json_string(core_reply_kind_name(reply->kind)));
    json_object_set_new(obj, "topic", reply->topic ? json_string(reply->topic) : json_null());
    json_object_set_new(obj, "score", json_real(reply->score));
    json_object_set_new(obj, "listen", json_boolean(chat_gate_listen_answers(reply, CHAT_LISTEN_MIN_SCORE)));
    json_t *text = json_string(reply->text ? reply->text : "");
    json_object_set_new(obj, "reply", text ? text : json_string("")); /* invalid UTF-8 never comes from the kb */
    char *dump = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    json_decref(obj);
    if (!dump)
        return -1;
    fprintf(out, "%s\n", dump);
    free(dump);
    return fflush(out) == 0 ? 0 : -1;
}

static const console_view plain_view = {0, 0};

static int print_reply(const core_reply *reply, FILE *out, console_format format, const console_view *view)
{
    if (format == CONSOLE_FORMAT_JSON)
        return console_print_json(reply, out);
    if (!view->width && !view->color) {
        fprintf(out, "%s\n", reply->text);
        return fflush(out) == 0 ? 0 : -1;
    }
    char *wrapped = view->width ? console_wrap(reply->text, view->width) : NULL;
    const char *text = wrapped ? wrapped : reply->text;
    char *painted = view->color ? console_paint(text) : NULL;
    fprintf(out, "%s\n", painted ? painted : text);
    free(painted);
    free(wrapped);
    return fflush(out) == 0 ? 0 : -1;
}

static int answer_in(core_bot *bot, const char *text, size_t len, FILE *out, console_format format,
                     const console_view *view)
{
    core_request req = {"console", "console", "you", now_seconds(), text, len, NULL, 0, 0, "console"};
    core_reply reply;
    if (core_bot_reply(bot, &req, &reply) != BASE_OK) {
        fprintf(stderr, "careerbot: out of memory\n");
        return 1;
    }
    int rc = print_reply(&reply, out, format, view);
    core_reply_clear(&reply);
    return rc == 0 ? 0 : 1;
}

static int answer(core_bot *bot, const char *text, size_t len, FILE *out, console_format format)
{
    return answer_in(bot, text, len, out, format, &plain_view);
}

int console_ask(core_bot *bot, const char *question, FILE *out, console_format format)
{
    return answer(bot, question, strlen(question), out, format);
}

/* Wrapping and colour only for a person reading a terminal. */
static console_view terminal_view(FILE *out)
{
    console_view v = {0, 0};
    int fd = fileno(out);
    if (fd < 0 || !isatty(fd))
        return v;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        v.width = ws.ws_col > 1 ? ws.ws_col - 1u : ws.ws_col;
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
    v.color = !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
    return v;
}

char *console_history_path(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char buf[4096];
    if (state && state[0] == '/')
        snprintf(buf, sizeof buf, "%s/careerbot/history", state);
    else if (home && home[0] == '/')
        snprintf(buf, sizeof buf, "%s/.local/state/careerbot/history", home);
    else
        return NULL;
    return strdup(buf);
}

static int blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    return 1;
}

static void banner(core_bot *bot, FILE *out, const console_view *view, int editing)
{
    const char *hint = editing ? " Up-arrow for earlier questions," : "";
    char text[600];
    snprintf(text, sizeof text, "careerbot %s: ask me about becoming an %s. Type /help for commands,%s Ctrl-D to quit.",
             CAREERBOT_VERSION, core_bot_kb(bot)->texts.name, hint);
    char *wrapped = view->width ? console_wrap(text, view->width) : NULL;
    char *painted = view->color ? console_paint(wrapped ? wrapped : text) : NULL;
    fprintf(out, "%s\n", painted ? painted : wrapped ? wrapped : text);
    free(painted);
    free(wrapped);
}

#ifdef CAREERBOT_HAVE_LIBEDIT

int console_line_editing_available(void)
{
    return 1;
}

static char *prompt(EditLine *el)
{
    (void)el;
    return "> ";
}

/* Makes the history's folder (private: questions can be personal). */
static int make_parents(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static void save_history(History *h, const char *path)
{
    HistEvent ev;
    if (!path)
        return;
    mode_t old = umask(077);
    history(h, &ev, H_SAVE, path);
    umask(old);
}

/* A person at a terminal: libedit reads the lines (emacs keys, Ctrl-R
 * searches back), the history is loaded and saved after every question. */
static int run_edited(core_bot *bot, FILE *in, FILE *out, console_format format, const console_view *view)
{
    EditLine *el = el_init("careerbot", in, out, stderr);
    History *h = history_init();
    if (!el || !h) {
        if (el)
            el_end(el);
        if (h)
            history_end(h);
        return -1;
    }
    HistEvent ev;
    history(h, &ev, H_SETSIZE, HISTORY_SIZE);
    history(h, &ev, H_SETUNIQUE, 1);
    char *path = console_history_path();
    if (path && make_parents(path) == 0)
        history(h, &ev, H_LOAD, path);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_SIGNAL, 1);
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, h);
    el_set(el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    el_source(el, NULL); /* the person's own ~/.editrc */
    banner(bot, out, view, 1);
    int status = 0, n;
    const char *line;
    while ((line = el_gets(el, &n)) != NULL && n >= 0) {
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len > MAX_INPUT_LINE)
            len = MAX_INPUT_LINE;
        if (blank(line, len))
            continue;
        char *entry = strndup(line, len);
        if (entry) {
            history(h, &ev, H_ENTER, entry);
            save_history(h, path);
        }
        int rc = answer_in(bot, entry ? entry : line, len, out, format, view);
        free(entry);
        if (rc != 0) {
            status = 1;
            break;
        }
    }
    fprintf(out, "\n");
    free(path);
    el_end(el);
    history_end(h);
    return status;
}

#else

int console_line_editing_available(void)
{
    return 0;
}

static int run_edited(core_bot *bot, FILE *in, FILE *out, console_format format, const console_view *view)
{
    return -1;
}

#endif

int console_run(core_bot *bot, FILE *in, FILE *out, console_format format, int interactive)
{
    console_view view = interactive && format == CONSOLE_FORMAT_TEXT ? terminal_view(out) : plain_view;
    if (interactive && fileno(in) >= 0 && isatty(fileno(in))) {
        int rc = run_edited(bot, in, out, format, &view);
        if (rc >= 0)
            return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (interactive) {
        banner(bot, out, &view, 0);
        fprintf(out, "> ");
        fflush(out);
    }
    int status = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len > MAX_INPUT_LINE)
            len = MAX_INPUT_LINE;
        if (!(blank(line, len) && interactive) && answer_in(bot, line, len, out, format, &view) != 0) {
            status = 1;
            break;
        }
        if (interactive) {
            fprintf(out, "> ");
            fflush(out);
        }
    }
    if (interactive)
        fprintf(out, "\n");
    free(line);
    return status;
}
