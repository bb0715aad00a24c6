/* Chat commands. Built-ins first; then one command per knowledge-base topic,
 * so a new topic brings its command without any change here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/answers.h"
#include "base/strbuf.h"

#define MAX_LINE 380 /* list replies wrap before the ~400-byte chat line */

typedef struct command_ctx {
    const core_turn *turn;
    const core_kb *kb;
    core_dialog_state *st;
    char prefix;
    const char *args;
} command_ctx;

static int finish(base_strbuf *b, core_reply *out)
{
    out->text = base_strbuf_take(b);
    out->kind = CORE_REPLY_COMMAND;
    out->matched = 0;
    out->topic = NULL;
    out->score = 1.0;
    return out->text ? BASE_OK : BASE_ERR;
}

/* Appends item to a list reply, starting a new line before MAX_LINE. */
static void add_item(base_strbuf *b, size_t *line_start, const char *item)
{
    size_t line_len = b->len - *line_start;
    if (line_len > 0 && line_len + strlen(item) + 2 > MAX_LINE) {
        base_strbuf_add(b, "\n");
        *line_start = b->len;
    } else if (line_len > 0) {
        base_strbuf_add(b, ", ");
    }
    base_strbuf_add(b, item);
}

static int cmd_help(const command_ctx *c, core_reply *out)
{
    char p = c->prefix;
    base_strbuf b = {0};
    base_strbuf_add(&b, c->kb->texts.help);
    base_strbuf_addf(&b, "\nCommands: %chelp, %ctopics, %csteps, %cstep N, %cnext, %cmore, %csource, %cabout, %cwhy",
                     p, p, p, p, p, p, p, p, p);
    base_strbuf_addf(&b, "\nTopics:");
    size_t line_start = b.len - strlen("Topics:");
    int first = 1;
    for (size_t i = 0; i < c->kb->n_topics; i++) {
        const core_topic *t = &c->kb->topics[i];
        if (t->step || strcmp(t->command, "steps") == 0)
            continue;
        char item[80];
        snprintf(item, sizeof item, "%s%c%s", first ? " " : "", p, t->command);
        if (first) {
            base_strbuf_add(&b, item);
            first = 0;
        } else {
            add_item(&b, &line_start, item);
        }
    }
    return finish(&b, out);
}

static int cmd_topics(const command_ctx *c, core_reply *out)
{
    base_strbuf b = {0};
    size_t line_start = 0;
    base_strbuf_add(&b, "I can tell you about:");
    for (size_t i = 0; i < c->kb->n_topics; i++) {
        const core_topic *t = &c->kb->topics[i];
        char item[200];
        snprintf(item, sizeof item, "%s%s (%c%s)", i == 0 ? " " : "", t->title, c->prefix, t->command);
        if (i == 0)
            base_strbuf_add(&b, item);
        else
            add_item(&b, &line_start, item);
    }
    return finish(&b, out);
}

static int cmd_steps(const command_ctx *c, core_reply *out)
{
    const core_topic *overview = core_kb_find_command(c->kb, "steps");
    if (overview)
        return core_answer_topic(c->turn, overview, 1.0, "the steps command", out);
    int n = core_kb_step_count(c->kb);
    if (n == 0)
        return core_answer_text("This knowledge base has no ordered steps.", CORE_REPLY_COMMAND, out);
    base_strbuf b = {0};
    for (int s = 1; s <= n; s++)
        base_strbuf_addf(&b, "%s%d. %s", s > 1 ? "\n" : "", s, core_kb_step(c->kb, s)->title);
    return finish(&b, out);
}

static int cmd_step(const command_ctx *c, core_reply *out)
{
    int n = core_kb_step_count(c->kb);
    char text[200];
    if (n == 0)
        return core_answer_text("This knowledge base has no ordered steps.", CORE_REPLY_COMMAND, out);
    const char *a = c->args;
    while (isspace((unsigned char)*a))
        a++;
    char *end;
    errno = 0;
    long want = strtol(a, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == a || *end || errno || want < 1 || want > n) {
        snprintf(text, sizeof text, "There are %d steps: use %cstep 1 to %cstep %d, or %csteps for all of them.",
                 n, c->prefix, c->prefix, n, c->prefix);
        return core_answer_text(text, CORE_REPLY_COMMAND, out);
    }
    return core_answer_topic(c->turn, core_kb_step(c->kb, (int)want), 1.0, "the step command", out);
}

static int cmd_source(const command_ctx *c, core_reply *out)
{
    const core_topic *last = c->st && c->st->last_topic[0] ? core_kb_find(c->kb, c->st->last_topic) : NULL;
    base_strbuf b = {0};
    if (last)
        base_strbuf_addf(&b, "My last answer (%s) comes from: %s", last->title, last->source);
    else
        base_strbuf_add(&b, c->kb->texts.sources);
    return finish(&b, out);
}

static int cmd_why(const command_ctx *c, core_reply *out)
{
    const core_topic *last = c->st && c->st->last_topic[0] ? core_kb_find(c->kb, c->st->last_topic) : NULL;
    if (!last)
        return core_answer_text("I have not answered anything in this conversation yet.", CORE_REPLY_COMMAND, out);
    base_strbuf b = {0};
    base_strbuf_addf(&b, "My last answer came from the topic \"%s\" (%s), score %.2f", last->title, last->id,
                   c->st->last_score);
    if (c->st->evidence[0])
        base_strbuf_addf(&b, ", chosen because of: %s", c->st->evidence);
    base_strbuf_add(&b, ".");
    return finish(&b, out);
}

int core_command_run(const core_turn *turn, const char *name, const char *args, core_reply *out)
{
    const core_kb *kb = turn->kb;
    char prefix = turn->prefix;
    command_ctx c = {turn, kb, turn->st, prefix, args ? args : ""};
    if (strcmp(name, "help") == 0)
        return cmd_help(&c, out);
    if (strcmp(name, "topics") == 0)
        return cmd_topics(&c, out);
    if (strcmp(name, "step") == 0)
        return cmd_step(&c, out);
    if (strcmp(name, "next") == 0)
        return core_answer_next(turn, out);
    if (strcmp(name, "more") == 0)
        return core_answer_more(turn, out);
    if (strcmp(name, "source") == 0 || strcmp(name, "sources") == 0)
        return cmd_source(&c, out);
    if (strcmp(name, "about") == 0) {
        base_strbuf b = {0};
        base_strbuf_add(&b, kb->texts.about);
        return finish(&b, out);
    }
    if (strcmp(name, "why") == 0)
        return cmd_why(&c, out);
    if (strcmp(name, "steps") == 0)
        return cmd_steps(&c, out);
    const core_topic *t = core_kb_find_command(kb, name);
    if (t)
        return core_answer_topic(turn, t, 1.0, "its command", out);
    char text[200];
    snprintf(text, sizeof text, "I don't know the command %c%.40s. Try %chelp for the list.", prefix, name,
             prefix);
    return core_answer_text(text, CORE_REPLY_DECLINE, out);
}
