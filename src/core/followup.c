#include "core/followup.h"

#include <string.h>

#define SHORT_QUESTION 6 /* words: a short "what's next?" is a follow-up, not a topic of its own */
#define SHORT_FOLLOWUP 2 /* content words: "where exactly?" leans on the last answer */

static int done(int status, int *rc)
{
    *rc = status;
    return 1;
}

static const core_topic *last_topic(const core_turn *t)
{
    return t->st->last_topic[0] ? core_kb_find(t->kb, t->st->last_topic) : NULL;
}

/* ---- "did you mean A or B?" ---------------------------------------------- */

int core_followup_clarify(const core_matcher *m, const core_turn *t, const core_match *match, core_reply *out,
                          int *rc)
{
    core_dialog_state *st = t->st;
    if (!st->clarify[0][0])
        return 0;
    const core_topic *a = core_kb_find(t->kb, st->clarify[0]);
    const core_topic *b = core_kb_find(t->kb, st->clarify[1]);
    st->clarify[0][0] = st->clarify[1][0] = '\0';
    if (!a || !b)
        return 0;
    if (match->both)
        return done(core_answer_two(t, a, b, 1.0, "you asked for both", out), rc);
    if (match->compare)
        return done(core_answer_compare(t, a, b, out), rc);
    /* "the second one", "2", "the latter, please": a bare choice. "what is
     * step 2" holds a word of its own and is a question. */
    if (match->n_free == 0 && (match->ordinal == 1 || match->ordinal == 2 || match->last)) {
        const core_topic *chosen = match->ordinal == 1 && !match->last ? a : b;
        return done(core_answer_topic(t, chosen, 1.0, "your choice", out), rc);
    }
    /* Naming one of them ("AHIMA", "the exam one") picks it. */
    if (match->kind == CORE_MATCH_TOPIC && (match->topic == a || match->topic == b))
        return done(core_answer_topic(t, match->topic, match->score, match->evidence, out), rc);
    double sa = core_matcher_last_score(m, a), sb = core_matcher_last_score(m, b);
    if (sa > sb && sa > 0)
        return done(core_answer_topic(t, a, sa, match->evidence, out), rc);
    if (sb > sa && sb > 0)
        return done(core_answer_topic(t, b, sb, match->evidence, out), rc);
    return 0;
}

/* ---- "next" and "more" ------------------------------------------------------ */

static int is_follow_on(const core_match *m)
{
    if (m->follow == CORE_FOLLOW_NONE)
        return 0;
    if (m->kind == CORE_MATCH_NONE || m->kind == CORE_MATCH_PASSAGE || m->n_words <= SHORT_QUESTION)
        return 1;
    /* A longer question with a clear topic is a question of its own, unless it
     * asks what follows a step. */
    return m->follow == CORE_FOLLOW_NEXT && m->topic && m->topic->step > 0;
}

static int follow_on(const core_turn *t, const core_match *m, core_reply *out)
{
    const core_topic *named = m->kind == CORE_MATCH_TOPIC || m->kind == CORE_MATCH_PASSAGE ? m->topic : NULL;
    if (m->follow == CORE_FOLLOW_NEXT) {
        /* "what comes after step 2?" names the step it follows */
        if (named && named->step > 0 && named->step < core_kb_step_count(t->kb))
            return core_answer_topic(t, core_kb_step(t->kb, named->step + 1), m->score, m->evidence, out);
        /* Nothing follows the last step; and a question that names another
         * topic than the last answer ("salary after certification") is
         * about that topic, not about what follows the last answer. */
        if (named && (named->step > 0 || strcmp(named->id, t->st->last_topic) != 0))
            return core_answer_topic(t, named, m->score, m->evidence, out);
        return core_answer_next(t, out);
    }
    if (named && strcmp(named->id, t->st->last_topic) != 0) {
        /* "tell me more about pay": answer that topic, then its details */
        return core_answer_topic(t, named, m->score, m->evidence, out);
    }
    return core_answer_more(t, out);
}

/* ---- follow-ups on the last answer ------------------------------------------ */

static int is_steps_overview(const core_topic *t)
{
    return t->step == 0 && strcmp(t->command, "steps") == 0;
}

static int related(const core_topic *a, const core_topic *b)
{
    for (size_t i = 0; i < a->n_related; i++)
        if (strcmp(a->related[i], b->id) == 0)
            return 1;
    for (size_t i = 0; i < b->n_related; i++)
        if (strcmp(b->related[i], a->id) == 0)
            return 1;
    return 0;
}

/* The topic the question clearly names other than the last one, counting
 * only its own words (not the follow-up's "who", "how long", "it"). A
 * related topic does not take over a question one of the last topic's own
 * facets answers ("who runs the exams?" after certification). */
static const core_topic *names_another(const core_matcher *m, const core_turn *t, const core_match *match,
                                       const core_topic *last, uint64_t follow_words, int facet_found)
{
    if (match->kind != CORE_MATCH_TOPIC && match->kind != CORE_MATCH_TWO && match->kind != CORE_MATCH_CLARIFY)
        return NULL;
    if (match->topic == last || (facet_found && related(last, match->topic)))
        return NULL;
    double own = core_matcher_score_without(m, match->topic, follow_words);
    return own >= t->kb->lexicon.threshold ? match->topic : NULL;
}

/* "what does a pharmacist earn?" was declined; "and a medical coder?"
 * asks the same about the career. */
static int follow_aside(const core_turn *t, const core_match *match, core_reply *out, int *rc)
{
    const core_topic *aside = t->st->aside[0] ? core_kb_find(t->kb, t->st->aside) : NULL;
    t->st->aside[0] = '\0';
    if (!aside || match->n_offtopic > 0 || !match->has_domain)
        return 0;
    int names_none = match->kind == CORE_MATCH_NONE || match->kind == CORE_MATCH_PASSAGE ||
                     (match->kind == CORE_MATCH_TOPIC && match->score < t->kb->lexicon.threshold);
    if (!names_none || !(match->continuation || match->n_free <= SHORT_FOLLOWUP + 1))
        return 0;
    return done(core_answer_topic(t, aside, 1.0, "the question before, asked about the career", out), rc);
}

int core_followup(const core_matcher *m, const core_turn *t, const core_match *match, core_reply *out, int *rc)
{
    if (follow_aside(t, match, out, rc))
        return 1;
    const core_topic *last = last_topic(t);
    if (!last) {
        /* "tell me more", "next" with nothing before: say so */
        if (is_follow_on(match))
            return done(follow_on(t, match, out), rc);
        return 0;
    }
    int steps = core_kb_step_count(t->kb);
    /* In the steps: "the 4th one", "and the last step?", "what about the third". */
    const core_topic *other = names_another(m, t, match, last, match->signal_positions, 0);
    if ((last->step > 0 || is_steps_overview(last)) && (match->ordinal > 0 || match->last) &&
        match->n_free <= 1 && (!other || is_steps_overview(other))) {
        int n = match->last ? steps : match->ordinal;
        if (n >= 1 && n <= steps)
            return done(core_answer_topic(t, core_kb_step(t->kb, n), 1.0, "its place in the steps", out), rc);
    }
    if (is_follow_on(match))
        return done(follow_on(t, match, out), rc);
    core_facet_pick pick;
    core_matcher_pick_facet(m, last, &pick);
    if (match->offtopic_positions & ~pick.positions)
        return 0; /* "and car insurance?" is about something else ("which years does it cover?" is not) */
    int leans = match->anaphor || match->continuation || pick.strength > 0 || match->n_free <= SHORT_FOLLOWUP;
    if (!leans || names_another(m, t, match, last, pick.positions | match->signal_positions, pick.facet >= 0))
        return 0;
    if (pick.facet >= 0)
        return done(core_answer_facet(t, last, (size_t)pick.facet, out), rc);
    if (pick.kind >= 0 && t->kb->lexicon.facet_kinds[pick.kind].details && last->details && t->st->more_given == 0)
        return done(core_answer_more(t, out), rc);
    /* A kind the topic has no facet for, in a question that asks about the
     * topic on its own words ("how fast is the field growing?" after the
     * growth answer), is just that question again. */
    if (pick.kind >= 0 && match->topic == last &&
        core_matcher_score_without(m, last, pick.positions | match->signal_positions) >= t->kb->lexicon.threshold)
        return 0;
    if (pick.kind >= 0)
        return done(core_answer_silent(t, last, (size_t)pick.kind, out), rc);
    /* "is that the average?": too weak to stand alone, but about the last
     * answer's own subject: say what it means, or say it again. */
    if (match->candidate == last && match->kind == CORE_MATCH_NONE) {
        for (size_t f = 0; f < last->n_facets; f++) {
            int k = last->facets[f].kind;
            if (k >= 0 && t->kb->lexicon.facet_kinds[k].explains)
                return done(core_answer_facet(t, last, f, out), rc);
        }
        return done(core_answer_topic(t, last, match->candidate_score, match->evidence, out), rc);
    }
    return 0;
}

int core_followup_facet_of(const core_matcher *m, const core_turn *t, const core_match *match,
                           const core_topic *topic, core_reply *out, int *rc)
{
    core_facet_pick pick;
    core_matcher_pick_facet(m, topic, &pick);
    if (match->offtopic_positions & ~pick.positions)
        return 0;
    if (pick.facet < 0 || !pick.clear)
        return 0;
    /* The topic becomes the subject, as if its answer had been given. */
    *rc = core_answer_topic(t, topic, match->score, match->evidence, out);
    if (*rc != BASE_OK)
        return 1;
    core_reply_clear(out);
    return done(core_answer_facet(t, topic, (size_t)pick.facet, out), rc);
}
