#include "console/console.h"

#include "chat/gate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int print_reply(const core_reply *reply, FILE *out, console_format format)
{
    if (format == CONSOLE_FORMAT_JSON)
        return console_print_json(reply, out);
    fprintf(out, "%s\n", reply->text);
    return fflush(out) == 0 ? 0 : -1;
}

static int answer(core_bot *bot, const char *text, size_t len, FILE *out, console_format format)
{
    core_request req = {"console", "console", "you", now_seconds(), text, len, NULL, 0, 0, "console"};
    core_reply reply;
    if (core_bot_reply(bot, &req, &reply) != BASE_OK) {
        fprintf(stderr, "careerbot: out of memory\n");
        return 1;
    }
    int rc = print_reply(&reply, out, format);
    core_reply_clear(&reply);
    return rc == 0 ? 0 : 1;
}

int console_ask(core_bot *bot, const char *question, FILE *out, console_format format)
{
    return answer(bot, question, strlen(question), out, format);
}

int console_run(core_bot *bot, FILE *in, FILE *out, console_format format, int interactive)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (interactive) {
        fprintf(out, "careerbot %s: ask me about becoming an %s. Type /help for commands, Ctrl-D to quit.\n",
                CAREERBOT_VERSION, core_bot_kb(bot)->texts.name);
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
        int blank = 1;
        for (size_t i = 0; i < len && blank; i++)
            blank = line[i] == ' ' || line[i] == '\t';
        if (!(blank && interactive) && answer(bot, line, len, out, format) != 0) {
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
