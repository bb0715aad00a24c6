#include "core/answers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

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
    if (!st)
        return;
    copy_id(st->last_topic, t->id);
    st->last_score = score;
    snprintf(st->evidence, sizeof st->evidence, "%s", evidence ? evidence : "");
    st->clarify[0][0] = st->clarify[1][0] = '\0';
    st->more_given = 0;
}

int core_answer_text(const char *text, core_reply_kind kind, core_reply *out)
{
    base_strbuf b = {0};
    base_strbuf_add(&b, text);
    return finish(&b, kind, NULL, 0, out);
}

int core_answer_topic(const core_kb *kb, core_dialog_state *st, const core_topic *t, double score,
                    const char *evidence, core_reply *out)
{
    (void)kb;
    base_strbuf b = {0};
    base_strbuf_add(&b, t->answer);
    remember(st, t, score, evidence);
    return finish(&b, CORE_REPLY_ANSWER, t, score, out);
}

int core_answer_two(const core_kb *kb, core_dialog_state *st, const core_topic *a, const core_topic *c,
                  double score, const char *evidence, core_reply *out)
{
    (void)kb;
    base_strbuf b = {0};
    base_strbuf_add(&b, a->answer);
    base_strbuf_add(&b, "\n");
    base_strbuf_add(&b, c->answer);
    remember(st, a, score, evidence);
    return finish(&b, CORE_REPLY_ANSWER, a, score, out);
}

static const core_topic *last_topic(const core_kb *kb, const core_dialog_state *st)
{
    return st && st->last_topic[0] ? core_kb_find(kb, st->last_topic) : NULL;
}

int core_answer_next(const core_kb *kb, core_dialog_state *st, core_reply *out)
{
    const core_topic *last = last_topic(kb, st);
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
    return core_answer_topic(kb, st, next, 1.0, "follows the previous answer", out);
}

int core_answer_more(const core_kb *kb, core_dialog_state *st, core_reply *out)
{
    const core_topic *last = last_topic(kb, st);
    if (!last)
        return core_answer_text("More about what? Ask me a question first, or try /topics.", CORE_REPLY_CLARIFY, out);
    int given = st->more_given;
    /* First the topic's details, then its related topics one by one. */
    if (last->details && given == 0) {
        base_strbuf b = {0};
        base_strbuf_add(&b, last->details);
        st->more_given++;
        return finish(&b, CORE_REPLY_ANSWER, last, st->last_score, out);
    }
    size_t rel = (size_t)(given - (last->details ? 1 : 0));
    if (rel < last->n_related) {
        const core_topic *r = core_kb_find(kb, last->related[rel]);
        if (r) {
            base_strbuf b = {0};
            base_strbuf_addf(&b, "Related: %s. ", r->title);
            base_strbuf_add(&b, r->answer);
            st->more_given++;
            return finish(&b, CORE_REPLY_ANSWER, r, st->last_score, out);
        }
    }
    return core_answer_text("That is all I know on that. Try /topics to see what else I can tell you.",
                            CORE_REPLY_CLARIFY, out);
}
