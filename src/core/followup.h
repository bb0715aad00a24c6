/* Reading a question in the light of the conversation: a pending "did you
 * mean A or B?", the steps sequence ("the 4th one", "and the last?"), "next"
 * and "more", and follow-ups on the last answer ("is that per year?", "who
 * runs those exams?", "why?"), which its facets answer. A question that
 * clearly names another topic is left to be answered on its own. */
#ifndef CORE_FOLLOWUP_H
#define CORE_FOLLOWUP_H

#include "core/answers.h"
#include "core/matcher.h"

/* While a clarifying question is pending: "the first", "both", "which is
 * better?", or a word of one of the options picks the answer. The pending
 * question is gone afterwards either way. Returns 1 when it answered (the
 * reply in out, *rc its status), 0 when the question is one of its own. */
int core_followup_clarify(const core_matcher *m, const core_turn *t, const core_match *match, core_reply *out,
                          int *rc);

/* After an answer: the same, for follow-ups on it. */
int core_followup(const core_matcher *m, const core_turn *t, const core_match *match, core_reply *out, int *rc);

/* A question that names its topic and clearly asks for one of its facets
 * ("how long does the training take?", "what would a supervisor earn?") gets
 * that facet rather than the whole answer. Same returns. */
int core_followup_facet_of(const core_matcher *m, const core_turn *t, const core_match *match,
                           const core_topic *topic, core_reply *out, int *rc);

#endif
