#include "kb_check.h"

#include "kb.h"
#include "matcher.h"

static const char *kind_name(cb_match_kind k)
{
    switch (k) {
    case CB_MATCH_NONE:
        return "declined";
    case CB_MATCH_TOPIC:
        return "answered";
    case CB_MATCH_TWO:
        return "answered as two parts";
    case CB_MATCH_CLARIFY:
        return "asked to clarify";
    case CB_MATCH_PASSAGE:
        return "answered from passages";
    }
    return "?";
}

int cb_kb_check(const char *dir, FILE *out, FILE *err)
{
    cb_kb *kb;
    cb_error e;
    if (cb_kb_load(dir, &kb, &e) != CB_OK) {
        fprintf(err, "%s\n", e.text);
        return 1;
    }
    cb_matcher *m = cb_matcher_new(kb, &e);
    if (!m) {
        fprintf(err, "%s: %s\n", dir, e.text);
        cb_kb_free(kb);
        return 1;
    }
    int problems = 0;
    size_t examples = 0;
    for (size_t i = 0; i < kb->n_topics; i++) {
        const cb_topic *t = &kb->topics[i];
        for (size_t x = 0; x < t->n_examples; x++, examples++) {
            cb_match r;
            const char *q = t->examples[x];
            size_t len = 0;
            while (q[len])
                len++;
            cb_matcher_match(m, q, len, &r);
            int ok = (r.kind == CB_MATCH_TOPIC || r.kind == CB_MATCH_TWO) && r.topic == t;
            if (ok)
                continue;
            problems++;
            if (r.topic)
                fprintf(err, "%s:%d: topic \"%s\": example \"%s\" %s with topic \"%s\" (score %.2f)\n",
                        t->file, t->line, t->id, q, kind_name(r.kind), r.topic->id, r.score);
            else
                fprintf(err, "%s:%d: topic \"%s\": example \"%s\" was declined (score %.2f)\n", t->file,
                        t->line, t->id, q, r.score);
        }
    }
    fprintf(out, "%s: %zu topics, %zu examples replayed, %d problem%s\n", dir, kb->n_topics, examples,
            problems, problems == 1 ? "" : "s");
    cb_matcher_free(m);
    cb_kb_free(kb);
    return problems;
}
