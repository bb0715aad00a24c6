/* The reply policy: commands go to the command table, everything else to
 * the matcher, with the conversation's state deciding follow-ups. */
#include "careerbot/bot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/answers.h"
#include "core/dialog.h"
#include "core/matcher.h"
#include "base/strbuf.h"
#include "core/followup.h"
#include "core/text.h"

#define MAX_COMMAND_NAME 32

struct core_bot {
    core_kb *kb;
    core_matcher *matcher;
    core_dialog *dialog;
    char prefixes[16];
    core_unanswered_cb unanswered;
    void *unanswered_ctx;
};

core_bot *core_bot_new(core_kb *kb, const core_bot_options *opts, base_error *err)
{
    core_bot *bot = calloc(1, sizeof *bot);
    if (!bot) {
        core_kb_free(kb);
        base_error_set(err, "out of memory");
        return NULL;
    }
    const char *prefixes = opts && opts->command_prefixes ? opts->command_prefixes : "/!";
    snprintf(bot->prefixes, sizeof bot->prefixes, "%s", prefixes);
    size_t max = opts && opts->max_conversations ? opts->max_conversations : 4096;
    double ttl = opts && opts->conversation_ttl > 0 ? opts->conversation_ttl : 1800;
    bot->kb = kb;
    bot->dialog = core_dialog_new(max, ttl);
    bot->matcher = core_matcher_new(kb, err);
    if (!bot->dialog || !bot->matcher) {
        if (!bot->dialog)
            base_error_set(err, "out of memory");
        core_bot_free(bot);
        return NULL;
    }
    return bot;
}

void core_bot_free(core_bot *bot)
{
    if (!bot)
        return;
    core_matcher_free(bot->matcher);
    core_dialog_free(bot->dialog);
    core_kb_free(bot->kb);
    free(bot);
}

int core_bot_replace_kb(core_bot *bot, core_kb *kb, base_error *err)
{
    core_matcher *m = core_matcher_new(kb, err);
    if (!m) {
        core_kb_free(kb);
        return BASE_ERR;
    }
    core_matcher_free(bot->matcher);
    core_kb_free(bot->kb);
    bot->matcher = m;
    bot->kb = kb;
    return BASE_OK;
}

const core_kb *core_bot_kb(const core_bot *bot)
{
    return bot->kb;
}

void core_bot_on_unanswered(core_bot *bot, core_unanswered_cb cb, void *ctx)
{
    bot->unanswered = cb;
    bot->unanswered_ctx = ctx;
}

const char *core_reply_kind_name(core_reply_kind kind)
{
    switch (kind) {
    case CORE_REPLY_ANSWER:
        return "answer";
    case CORE_REPLY_CLARIFY:
        return "clarify";
    case CORE_REPLY_SOCIAL:
        return "social";
    case CORE_REPLY_COMMAND:
        return "command";
    case CORE_REPLY_DECLINE:
        break;
    }
    return "decline";
}

void core_reply_clear(core_reply *reply)
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
static int parse_command(const core_bot *bot, const char *prefixes, const char *text, size_t len, char *prefix,
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

int core_bot_is_command(const core_bot *bot, const char *prefixes, const char *text, size_t len)
{
    char prefix, name[MAX_COMMAND_NAME + 1];
    const char *args, *args_end;
    return parse_command(bot, prefixes, text, len, &prefix, name, &args, &args_end);
}

static int run_command(const core_turn *t, const char *name, const char *args, const char *args_end,
                       core_reply *out)
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
    return core_command_run(t, name, argbuf, out);
}

/* ---- questions ------------------------------------------------------------ */

static int ask_which(const core_turn *t, const core_match *m, core_reply *out)
{
    char text[400];
    snprintf(text, sizeof text, "Do you mean %s, or %s? Say \"the first\" or \"the second\", or ask again "
             "in other words.", m->topic->title, m->second->title);
    snprintf(t->st->clarify[0], sizeof t->st->clarify[0], "%s", m->topic->id);
    snprintf(t->st->clarify[1], sizeof t->st->clarify[1], "%s", m->second->id);
    int rc = core_answer_text(text, CORE_REPLY_CLARIFY, out);
    out->score = m->score;
    return rc;
}

/* Small talk alone is answered in kind; small talk around a question
 * ("thanks! and the pay?") is dropped and the rest read again. Returns 1
 * when it answered. */
static int small_talk(core_bot *bot, const core_turn *t, core_match *m, core_reply *out, int *rc)
{
    if (m->social < 0)
        return 0;
    /* "is that good?" after an answer asks about it; "good!" is small talk. */
    if (m->social_only && m->question && m->anaphor && core_followup(bot->matcher, t, m, out, rc))
        return 1;
    if (m->social_only) {
        *rc = core_answer_social(t, (size_t)m->social, out);
        return 1;
    }
    char rest[CORE_MAX_WORDS * (CORE_MAX_WORD_LEN + 1) + 1];
    size_t len = core_matcher_residual(bot->matcher, m, rest, sizeof rest);
    if (len == 0 || len + 1 >= sizeof rest)
        return 0;
    int question = m->question;
    size_t before = m->n_words;
    core_match again;
    core_matcher_match(bot->matcher, rest, len, &again);
    if (again.n_words < before) { /* something was taken off: read the rest */
        again.question |= question;
        *m = again;
    }
    return 0;
}

static int answer_matched(core_bot *bot, const core_turn *t, core_match *m, core_reply *out);

static int answer_question(core_bot *bot, const core_turn *t, const char *text, size_t len, core_reply *out)
{
    core_match m;
    core_matcher_match(bot->matcher, text, len, &m);
    int rc = answer_matched(bot, t, &m, out);
    out->asks = m.question;
    out->personal = m.personal;
    out->about_career = m.has_domain;
    for (size_t i = 0; i < m.n_candidates; i++) {
        out->candidates[i] = m.candidates[i]->id;
        out->candidate_scores[i] = m.candidate_scores[i];
    }
    out->n_candidates = m.n_candidates;
    return rc;
}

static int answer_matched(core_bot *bot, const core_turn *t, core_match *mp, core_reply *out)
{
    int rc;
    if (small_talk(bot, t, mp, out, &rc) || core_followup_clarify(bot->matcher, t, mp, out, &rc) ||
        core_followup(bot->matcher, t, mp, out, &rc))
        return rc;
    const core_match m = *mp;
    switch (m.kind) {
    case CORE_MATCH_TOPIC:
        if (core_followup_facet_of(bot->matcher, t, &m, m.topic, out, &rc))
            return rc;
        return core_answer_topic(t, m.topic, m.score, m.evidence, out);
    case CORE_MATCH_PASSAGE:
        rc = core_answer_topic(t, m.topic, m.score, m.evidence, out);
        out->fallback = 1;
        return rc;
    case CORE_MATCH_TWO:
        return core_answer_two(t, m.topic, m.second, m.score, m.evidence, out);
    case CORE_MATCH_CLARIFY:
        return ask_which(t, &m, out);
    case CORE_MATCH_NONE:
        break;
    }
    rc = core_answer_text(bot->kb->texts.decline, CORE_REPLY_DECLINE, out);
    out->score = m.score;
    if (m.aside)
        snprintf(t->st->aside, sizeof t->st->aside, "%s", m.aside->id);
    return rc;
}

static int is_command_name(const core_bot *bot, const char *name)
{
    static const char *const builtin[] = {"help", "topics", "steps", "step", "next", "more", "source", "about", "why"};
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(builtin[i], name))
            return 1;
    return core_kb_find_command(bot->kb, name) != NULL;
}

/* The knowledge base writes commands as "/help". They are shown with the
 * first of the prefixes (on IRC and Matrix "!": their clients swallow a
 * leading "/"), so every hint the bot gives can be followed. */
static int show_prefix(const core_bot *bot, const char *prefixes, core_reply *out)
{
    if (!prefixes)
        prefixes = bot->prefixes;
    if (prefixes[0] == '/' || !prefixes[0] || !out->text || !strchr(out->text, '/'))
        return BASE_OK;
    base_strbuf b = {0};
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
                base_strbuf_addn(&b, prefixes, 1);
                continue;
            }
        }
        base_strbuf_addn(&b, p, 1);
    }
    char *text = base_strbuf_take(&b);
    if (!text)
        return BASE_ERR;
    free(out->text);
    out->text = text;
    return BASE_OK;
}

int core_bot_reply(core_bot *bot, const core_request *req, core_reply *out)
{
    memset(out, 0, sizeof *out);
    base_strbuf key = {0}; /* the conversation: network, room, user */
    base_strbuf_addf(&key, "%s\x1f%s\x1f%s", req->network ? req->network : "", req->room ? req->room : "",
                   req->user ? req->user : "");
    char *k = base_strbuf_take(&key);
    core_dialog_state *st = k ? core_dialog_get(bot->dialog, k, req->now) : NULL;
    free(k);
    if (!st)
        return BASE_ERR;
    const char *text = req->text ? req->text : "";
    size_t len = req->text ? req->len : 0;
    char prefix, name[MAX_COMMAND_NAME + 1];
    const char *args, *args_end;
    const char *prefixes = req->command_prefixes ? req->command_prefixes : bot->prefixes;
    core_turn turn = {bot->kb, st, req->brief, prefixes[0] ? prefixes[0] : '/'};
    int rc, question = 0;
    if (parse_command(bot, req->command_prefixes, text, len, &prefix, name, &args, &args_end)) {
        turn.prefix = prefix;
        rc = run_command(&turn, name, args, args_end, out);
        if (out->kind != CORE_REPLY_DECLINE)
            out->kind = CORE_REPLY_COMMAND; /* a topic shown by its command too */
        out->matched = 0;
    } else {
        rc = answer_question(bot, &turn, text, len, out);
        question = 1;
    }
    if (rc == BASE_OK && show_prefix(bot, req->command_prefixes, out) != BASE_OK) {
        core_reply_clear(out);
        return BASE_ERR;
    }
    int unsure = out->kind == CORE_REPLY_DECLINE || out->kind == CORE_REPLY_CLARIFY || out->fallback;
    if (rc == BASE_OK && question && unsure && bot->unanswered && !req->unasked && len > 0) {
        core_unanswered u = {req, out};
        bot->unanswered(bot->unanswered_ctx, &u);
    }
    return rc;
}
