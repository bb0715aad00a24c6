#include "core/answers.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

#define BRIEF_LINES 2 /* what a group channel gets at once */

static void copy_id(char *dst, const char *src)
{
    snprintf(dst, CORE_DIALOG_ID_MAX, "%s", src ? src : "");
}

static int finish(base_strbuf *b, core_reply_kind kind, const core_topic *t, double score, core_reply *out)
{
    out->text = base_strbuf_take(b);
    out->kind = kind;
    out->matched = kind == CORE_REPLY_ANSWER;
    out->topic = t ? t->id : NULL;
    out->score = score;
    return out->text ? BASE_OK : BASE_ERR;
}

static void remember(core_dialog_state *st, const core_topic *t, double score, const char *evidence)
{
    copy_id(st->last_topic, t->id);
    st->last_score = score;
    snprintf(st->evidence, sizeof st->evidence, "%s", evidence ? evidence : "");
    st->clarify[0][0] = st->clarify[1][0] = '\0';
    st->more_given = 0;
    st->rest_line = 0;
}

/* Appends lines from..from+max-1 (0-based, '\n'-separated) of text. Returns
 * the index of the first line left out, or -1 when none was. */
static int add_lines(base_strbuf *b, const char *text, int from, int max)
{
    int line = 0, added = 0;
    for (const char *p = text; *p; line++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (line >= from) {
            if (added == max)
                return line;
            if (added++ > 0)
                base_strbuf_add(b, "\n");
            base_strbuf_addn(b, p, n);
        }
        p += n + (nl ? 1 : 0);
    }
    return -1;
}

static void add_more_hint(const core_turn *t, base_strbuf *b)
{
    base_strbuf_add(b, " ");
    base_strbuf_add(b, t->kb->texts.more_hint);
}

/* A topic's text as this turn shows it: whole, or shortened with the rest
 * held for "more" (rest_line, when not NULL, receives where the rest starts:
 * 1-based, 0 when nothing is held back). */
static void add_topic_text(const core_turn *t, base_strbuf *b, const core_topic *topic, int *rest_line)
{
    int rest = 0;
    if (!t->brief) {
        base_strbuf_add(b, topic->answer);
    } else if (topic->brief) {
        base_strbuf_add(b, topic->brief);
        rest = 1; /* "more" shows the whole answer */
    } else {
        int left_out = add_lines(b, topic->answer, 0, BRIEF_LINES);
        rest = left_out >= 0 ? left_out + 1 : 0;
    }
    if (rest && rest_line)
        add_more_hint(t, b);
    if (rest_line)
        *rest_line = rest;
}

/* A topic's shortest form: its brief, or its first line. */
static void add_short_form(base_strbuf *b, const core_topic *topic)
{
    if (topic->brief)
        base_strbuf_add(b, topic->brief);
    else
        add_lines(b, topic->answer, 0, 1);
}

int core_answer_text(const char *text, core_reply_kind kind, core_reply *out)
{
    base_strbuf b = {0};
    base_strbuf_add(&b, text);
    return finish(&b, kind, NULL, 0, out);
}

int core_answer_topic(const core_turn *t, const core_topic *topic, double score, const char *evidence,
                      core_reply *out)
{
    base_strbuf b = {0};
    remember(t->st, topic, score, evidence);
    add_topic_text(t, &b, topic, &t->st->rest_line);
    return finish(&b, CORE_REPLY_ANSWER, topic, score, out);
}

int core_answer_two(const core_turn *t, const core_topic *a, const core_topic *c, double score,
                    const char *evidence, core_reply *out)
{
    base_strbuf b = {0};
    if (t->brief) {
        add_short_form(&b, a);
        base_strbuf_add(&b, "\n");
        add_short_form(&b, c);
    } else {
        base_strbuf_add(&b, a->answer);
        base_strbuf_add(&b, "\n");
        base_strbuf_add(&b, c->answer);
    }
    remember(t->st, a, score, evidence);
    return finish(&b, CORE_REPLY_ANSWER, a, score, out);
}

int core_answer_facet(const core_turn *t, const core_topic *topic, size_t facet, core_reply *out)
{
    base_strbuf b = {0};
    base_strbuf_add(&b, topic->facets[facet].answer);
    copy_id(t->st->last_topic, topic->id); /* still the subject: more follow-ups may come */
    t->st->rest_line = 0;
    return finish(&b, CORE_REPLY_ANSWER, topic, t->st->last_score > 0 ? t->st->last_score : 1.0, out);
}

int core_answer_silent(const core_turn *t, const core_topic *topic, size_t kind, core_reply *out)
{
    base_strbuf b = {0};
    base_strbuf_add(&b, t->kb->lexicon.facet_kinds[kind].silent);
    copy_id(t->st->last_topic, topic->id);
    t->st->rest_line = 0;
    return finish(&b, CORE_REPLY_ANSWER, topic, t->st->last_score > 0 ? t->st->last_score : 1.0, out);
}

int core_answer_compare(const core_turn *t, const core_topic *a, const core_topic *c, core_reply *out)
{
    base_strbuf b = {0};
    base_strbuf_add(&b, t->kb->texts.compare);
    base_strbuf_addf(&b, "\n%s: ", a->title);
    add_short_form(&b, a);
    base_strbuf_addf(&b, "\n%s: ", c->title);
    add_short_form(&b, c);
    remember(t->st, a, 1.0, "your comparison");
    return finish(&b, CORE_REPLY_ANSWER, a, 1.0, out);
}

int core_answer_social(const core_turn *t, size_t social, core_reply *out)
{
    const core_social *s = &t->kb->texts.social[social];
    base_strbuf b = {0};
    base_strbuf_add(&b, s->replies[t->st->social_turns++ % s->n_replies]);
    return finish(&b, CORE_REPLY_SOCIAL, NULL, 0, out);
}

static const core_topic *last_topic(const core_turn *t)
{
    return t->st->last_topic[0] ? core_kb_find(t->kb, t->st->last_topic) : NULL;
}

int core_answer_next(const core_turn *t, core_reply *out)
{
    const core_kb *kb = t->kb;
    const core_topic *last = last_topic(t);
    int steps = core_kb_step_count(kb);
    char text[300];
    if (!last) {
        if (steps > 0) {
            snprintf(text, sizeof text,
                     "Next after what? Ask me a question first, or start with the steps: say \"step 1\" "
                     "or use the steps command.");
            return core_answer_text(text, CORE_REPLY_CLARIFY, out);
        }
        return core_answer_text("Next after what? Ask me a question first.", CORE_REPLY_CLARIFY, out);
    }
    const core_topic *next = NULL;
    if (last->step > 0 && last->step < steps)
        next = core_kb_step(kb, last->step + 1);
    else if (last->step == 0 && strcmp(last->command, "steps") == 0 && steps > 0)
        next = core_kb_step(kb, 1);
    else if (last->step == 0 && last->n_related > 0)
        next = core_kb_find(kb, last->related[0]);
    if (!next) {
        if (last->step == steps && steps > 0) {
            snprintf(text, sizeof text,
                     "That was the last of the %d steps. Ask about anything else, or say \"step 1\" to "
                     "start over.", steps);
            return core_answer_text(text, CORE_REPLY_CLARIFY, out);
        }
        return core_answer_text("There is nothing that follows that answer. Try /topics to see what "
                                "else I know.", CORE_REPLY_CLARIFY, out);
    }
    return core_answer_topic(t, next, 1.0, "follows the previous answer", out);
}

int core_answer_more(const core_turn *t, core_reply *out)
{
    core_dialog_state *st = t->st;
    const core_topic *last = last_topic(t);
    if (!last)
        return core_answer_text("More about what? Ask me a question first, or try /topics.", CORE_REPLY_CLARIFY, out);
    base_strbuf b = {0};
    /* First what a shortened answer held back, then the details, then the
     * related topics one by one. */
    if (st->rest_line > 0) {
        int left_out = add_lines(&b, last->answer, st->rest_line - 1, t->brief ? BRIEF_LINES : INT_MAX);
        st->rest_line = left_out >= 0 ? left_out + 1 : 0;
        if (st->rest_line)
            add_more_hint(t, &b);
        return finish(&b, CORE_REPLY_ANSWER, last, st->last_score, out);
    }
    int given = st->more_given;
    if (last->details && given == 0) {
        base_strbuf_add(&b, last->details);
        st->more_given++;
        return finish(&b, CORE_REPLY_ANSWER, last, st->last_score, out);
    }
    size_t rel = (size_t)(given - (last->details ? 1 : 0));
    if (rel < last->n_related) {
        const core_topic *r = core_kb_find(t->kb, last->related[rel]);
        if (r) {
            base_strbuf_addf(&b, "Related: %s. ", r->title);
            add_topic_text(t, &b, r, NULL);
            st->more_given++;
            return finish(&b, CORE_REPLY_ANSWER, r, st->last_score, out);
        }
    }
    return core_answer_text("That is all I know on that. Try /topics to see what else I can tell you.",
                            CORE_REPLY_CLARIFY, out);
}
