/* The reply policy: commands go to the command table, everything else to
 * the matcher, with the conversation's state deciding follow-ups. */
#include "bot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "dialog.h"
#include "matcher.h"
#include "strbuf.h"
#include "text.h"

#define MAX_COMMAND_NAME 32
#define SHORT_QUESTION 6 /* words; a short "what's next?" is a follow-up, not a topic */

struct cb_bot {
    cb_kb *kb;
    cb_matcher *matcher;
    cb_dialog *dialog;
    char prefixes[16];
};

cb_bot *cb_bot_new(cb_kb *kb, const cb_bot_options *opts, cb_error *err)
{
    cb_bot *bot = calloc(1, sizeof *bot);
    if (!bot) {
        cb_kb_free(kb);
        cb_error_set(err, "out of memory");
        return NULL;
    }
    const char *prefixes = opts && opts->command_prefixes ? opts->command_prefixes : "/!";
    snprintf(bot->prefixes, sizeof bot->prefixes, "%s", prefixes);
    size_t max = opts && opts->max_conversations ? opts->max_conversations : 4096;
    double ttl = opts && opts->conversation_ttl > 0 ? opts->conversation_ttl : 1800;
    bot->kb = kb;
    bot->dialog = cb_dialog_new(max, ttl);
    bot->matcher = cb_matcher_new(kb, err);
    if (!bot->dialog || !bot->matcher) {
        if (!bot->dialog)
            cb_error_set(err, "out of memory");
        cb_bot_free(bot);
        return NULL;
    }
    return bot;
}

void cb_bot_free(cb_bot *bot)
{
    if (!bot)
        return;
    cb_matcher_free(bot->matcher);
    cb_dialog_free(bot->dialog);
    cb_kb_free(bot->kb);
    free(bot);
}

int cb_bot_replace_kb(cb_bot *bot, cb_kb *kb, cb_error *err)
{
    cb_matcher *m = cb_matcher_new(kb, err);
    if (!m) {
        cb_kb_free(kb);
        return CB_ERR;
    }
    cb_matcher_free(bot->matcher);
    cb_kb_free(bot->kb);
    bot->matcher = m;
    bot->kb = kb;
    return CB_OK;
}

const cb_kb *cb_bot_kb(const cb_bot *bot)
{
    return bot->kb;
}

void cb_reply_clear(cb_reply *reply)
{
    free(reply->text);
    memset(reply, 0, sizeof *reply);
}

/* ---- commands ----------------------------------------------------------- */

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    return s;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Splits "!Step 3" into prefix '!', name "step", args "3". */
static int parse_command(const cb_bot *bot, const char *prefixes, const char *text, size_t len, char *prefix,
                         char *name, const char **args, const char **args_end)
{
    const char *end = text + len;
    const char *p = skip_space(text, end);
    if (!prefixes)
        prefixes = bot->prefixes;
    if (p + 1 >= end || *p == '\0' || !strchr(prefixes, *p) || !is_name_char(p[1]))
        return 0;
    *prefix = *p++;
    size_t n = 0;
    for (; p < end && is_name_char(*p); p++)
        if (n < MAX_COMMAND_NAME)
            name[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    name[n] = '\0';
    if (p < end && !(*p == ' ' || *p == '\t' || *p == '?' || *p == '!' || *p == '.'))
        return 0; /* "/usr/bin" or "!important:" is not a command */
    *args = skip_space(p, end);
    *args_end = end;
    return 1;
}

int cb_bot_is_command(const cb_bot *bot, const char *prefixes, const char *text, size_t len)
{
    char prefix, name[MAX_COMMAND_NAME + 1];
    const char *args, *args_end;
    return parse_command(bot, prefixes, text, len, &prefix, name, &args, &args_end);
}

static int run_command(cb_bot *bot, cb_dialog_state *st, char prefix, const char *name, const char *args,
                       const char *args_end, cb_reply *out)
{
    char argbuf[64];
    size_t n = (size_t)(args_end - args);
    if (n >= sizeof argbuf)
        n = sizeof argbuf - 1;
    memcpy(argbuf, args, n);
    argbuf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (argbuf[i] == '\0')
            argbuf[i] = ' ';
    return cb_command_run(bot->kb, st, prefix, name, argbuf, out);
}

/* ---- questions ------------------------------------------------------------ */

/* After "did you mean A or B?", a reply naming one of them (or "the first")
 * picks it. Returns the chosen topic or NULL. */
static const cb_topic *pick_clarified(cb_bot *bot, cb_dialog_state *st, const cb_match *m)
{
    if (!st->clarify[0][0])
        return NULL;
    const cb_topic *a = cb_kb_find(bot->kb, st->clarify[0]);
    const cb_topic *b = cb_kb_find(bot->kb, st->clarify[1]);
    st->clarify[0][0] = st->clarify[1][0] = '\0';
    if (!a || !b)
        return NULL;
    if (m->kind == CB_MATCH_TOPIC && (m->topic == a || m->topic == b))
        return m->topic;
    double sa = cb_matcher_last_score(bot->matcher, a), sb = cb_matcher_last_score(bot->matcher, b);
    if (sa > sb && sa > 0)
        return a;
    if (sb > sa && sb > 0)
        return b;
    return NULL;
}

/* "the first one", "2", "the latter, please": a reply made only of these
 * words picks an option; "what is step 2" does not. */
static int ordinal_of(const char *w)
{
    static const char *const first[] = {"first", "1", "former", "1st"};
    static const char *const second[] = {"second", "2", "latter", "2nd"};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        if (!strcmp(w, first[i]))
            return 1;
        if (!strcmp(w, second[i]))
            return 2;
    }
    return 0;
}

static int is_filler(const char *w)
{
    static const char *const filler[] = {"the", "one", "option", "please", "i", "mean", "meant", "that",
                                         "number", "no", "yes", "ok", "okay", "thanks", "a"};
    for (size_t i = 0; i < sizeof filler / sizeof filler[0]; i++)
        if (!strcmp(w, filler[i]))
            return 1;
    return 0;
}

static const cb_topic *pick_by_ordinal(const cb_kb *kb, const cb_dialog_state *st, const char *text,
                                       size_t len)
{
    if (!st->clarify[0][0])
        return NULL;
    cb_words w;
    cb_text_words(text, len, &w);
    int choice = 0;
    for (size_t i = 0; i < w.n; i++) {
        int o = ordinal_of(w.word[i]);
        if (o && !choice)
            choice = o;
        else if (o || !is_filler(w.word[i]))
            return NULL; /* more than a choice: a question of its own */
    }
    return choice ? cb_kb_find(kb, st->clarify[choice - 1]) : NULL;
}

static int ask_which(cb_dialog_state *st, const cb_match *m, cb_reply *out)
{
    char text[400];
    snprintf(text, sizeof text, "Do you mean %s, or %s? Say \"the first\" or \"the second\", or ask again "
             "in other words.", m->topic->title, m->second->title);
    snprintf(st->clarify[0], sizeof st->clarify[0], "%s", m->topic->id);
    snprintf(st->clarify[1], sizeof st->clarify[1], "%s", m->second->id);
    int rc = cb_answer_text(text, out);
    out->score = m->score;
    return rc;
}

static int follow_up(cb_bot *bot, cb_dialog_state *st, const cb_match *m, cb_reply *out)
{
    const cb_topic *t = m->kind == CB_MATCH_TOPIC || m->kind == CB_MATCH_PASSAGE ? m->topic : NULL;
    if (m->follow == CB_FOLLOW_NEXT) {
        /* "what comes after step 2?" names the step it follows */
        if (t && t->step > 0 && t->step < cb_kb_step_count(bot->kb)) {
            const cb_topic *next = cb_kb_step(bot->kb, t->step + 1);
            return cb_answer_topic(bot->kb, st, next, m->score, m->evidence, out);
        }
        /* Nothing follows the last step; and a question that names another
         * topic than the last answer ("salary after certification") is
         * about that topic, not about what follows the last answer. */
        if (t && (t->step > 0 || strcmp(t->id, st->last_topic) != 0))
            return cb_answer_topic(bot->kb, st, t, m->score, m->evidence, out);
        return cb_answer_next(bot->kb, st, out);
    }
    if (t && strcmp(t->id, st->last_topic) != 0) {
        /* "tell me more about pay": answer that topic, then its details */
        return cb_answer_topic(bot->kb, st, t, m->score, m->evidence, out);
    }
    return cb_answer_more(bot->kb, st, out);
}

static int is_follow_up(const cb_match *m)
{
    if (m->follow == CB_FOLLOW_NONE)
        return 0;
    if (m->kind == CB_MATCH_NONE || m->kind == CB_MATCH_PASSAGE || m->n_words <= SHORT_QUESTION)
        return 1;
    /* A longer question with a clear topic is a question of its own, unless it
     * asks what follows a step. */
    return m->follow == CB_FOLLOW_NEXT && m->topic && m->topic->step > 0;
}

static int answer_question(cb_bot *bot, cb_dialog_state *st, const cb_request *req, cb_reply *out)
{
    cb_match m;
    const cb_topic *chosen = pick_by_ordinal(bot->kb, st, req->text, req->len);
    if (chosen)
        return cb_answer_topic(bot->kb, st, chosen, 1.0, "your choice", out);
    cb_matcher_match(bot->matcher, req->text, req->len, &m);
    chosen = pick_clarified(bot, st, &m);
    if (chosen)
        return cb_answer_topic(bot->kb, st, chosen, cb_matcher_last_score(bot->matcher, chosen), m.evidence, out);
    if (is_follow_up(&m))
        return follow_up(bot, st, &m, out);
    switch (m.kind) {
    case CB_MATCH_TOPIC:
    case CB_MATCH_PASSAGE:
        return cb_answer_topic(bot->kb, st, m.topic, m.score, m.evidence, out);
    case CB_MATCH_TWO:
        return cb_answer_two(bot->kb, st, m.topic, m.second, m.score, m.evidence, out);
    case CB_MATCH_CLARIFY:
        return ask_which(st, &m, out);
    case CB_MATCH_NONE:
        break;
    }
    int rc = cb_answer_text(bot->kb->texts.decline, out);
    out->score = m.score;
    return rc;
}

static int is_command_name(const cb_bot *bot, const char *name)
{
    static const char *const builtin[] = {"help", "topics", "steps", "step", "next", "source", "about", "why"};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(builtin[i], name))
            return 1;
    return cb_kb_find_command(bot->kb, name) != NULL;
}

/* The knowledge base writes commands as "/help". Where "/" is not a command
 * prefix (Matrix clients swallow it), they are shown with the first prefix
 * that works, so every hint the bot gives can be followed. */
static int show_prefix(const cb_bot *bot, const char *prefixes, cb_reply *out)
{
    if (!prefixes)
        prefixes = bot->prefixes;
    if (strchr(prefixes, '/') || !prefixes[0] || !out->text || !strchr(out->text, '/'))
        return CB_OK;
    cb_strbuf b = {0};
    for (const char *p = out->text; *p; p++) {
        int starts_word = p == out->text || strchr(" \n\t\"'(", p[-1]);
        if (*p == '/' && starts_word) {
            char name[MAX_COMMAND_NAME + 1];
            size_t n = 0;
            while (n < MAX_COMMAND_NAME && is_name_char(p[1 + n]) && !(p[1 + n] >= 'A' && p[1 + n] <= 'Z'))
                n++;
            memcpy(name, p + 1, n);
            name[n] = '\0';
            if (n > 0 && !is_name_char(p[1 + n]) && is_command_name(bot, name)) {
                cb_strbuf_addn(&b, prefixes, 1);
                continue;
            }
        }
        cb_strbuf_addn(&b, p, 1);
    }
    char *text = cb_strbuf_take(&b);
    if (!text)
        return CB_ERR;
    free(out->text);
    out->text = text;
    return CB_OK;
}

int cb_bot_reply(cb_bot *bot, const cb_request *req, cb_reply *out)
{
    memset(out, 0, sizeof *out);
    cb_strbuf key = {0}; /* the conversation: network, room, user */
    cb_strbuf_addf(&key, "%s\x1f%s\x1f%s", req->network ? req->network : "", req->room ? req->room : "",
                   req->user ? req->user : "");
    char *k = cb_strbuf_take(&key);
    cb_dialog_state *st = k ? cb_dialog_get(bot->dialog, k, req->now) : NULL;
    free(k);
    if (!st)
        return CB_ERR;
    const char *text = req->text ? req->text : "";
    size_t len = req->text ? req->len : 0;
    char prefix, name[MAX_COMMAND_NAME + 1];
    const char *args, *args_end;
    int rc;
    if (parse_command(bot, req->command_prefixes, text, len, &prefix, name, &args, &args_end)) {
        rc = run_command(bot, st, prefix, name, args, args_end, out);
    } else {
        cb_request q = *req;
        q.text = text;
        q.len = len;
        rc = answer_question(bot, st, &q, out);
    }
    if (rc == CB_OK && show_prefix(bot, req->command_prefixes, out) != CB_OK) {
        cb_reply_clear(out);
        return CB_ERR;
    }
    return rc;
}
