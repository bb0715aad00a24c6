#include "app/kb_check.h"

#include "careerbot/kb.h"
#include "core/matcher.h"

static const char *kind_name(core_match_kind k)
{
    switch (k) {
    case CORE_MATCH_NONE:
        return "declined";
    case CORE_MATCH_TOPIC:
        return "answered";
    case CORE_MATCH_TWO:
        return "answered as two parts";
    case CORE_MATCH_CLARIFY:
        return "asked to clarify";
    case CORE_MATCH_PASSAGE:
        return "answered from passages";
    }
    return "?";
}

int app_kb_check(const char *dir, FILE *out, FILE *err)
{
    core_kb *kb;
    base_error e;
    if (core_kb_load(dir, &kb, &e) != BASE_OK) {
        fprintf(err, "%s\n", e.text);
        return 1;
    }
    core_matcher *m = core_matcher_new(kb, &e);
    if (!m) {
        fprintf(err, "%s: %s\n", dir, e.text);
        core_kb_free(kb);
        return 1;
    }
    int problems = 0;
    size_t examples = 0;
    for (size_t i = 0; i < kb->n_topics; i++) {
        const core_topic *t = &kb->topics[i];
        for (size_t x = 0; x < t->n_examples; x++, examples++) {
            core_match r;
            const char *q = t->examples[x];
            size_t len = 0;
            while (q[len])
                len++;
            core_matcher_match(m, q, len, &r);
            int ok = (r.kind == CORE_MATCH_TOPIC || r.kind == CORE_MATCH_TWO) && r.topic == t;
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
    core_matcher_free(m);
    core_kb_free(kb);
    return problems;
}
