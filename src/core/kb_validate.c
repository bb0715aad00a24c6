/* Checks over the whole knowledge base, after every document is read: what
 * no single topic can check alone. Builds the id and command indexes that
 * core_kb_find and core_kb_find_command use. */
#include "base/strmap.h"
#include "core/kb_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const builtin_commands[] = {"help", "topics", "step", "next", "more",
                                                "source", "sources", "about", "why"};

static int topic_fail(base_error *err, const core_topic *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int topic_fail(base_error *err, const core_topic *t, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    base_error_set(err, "%s:%d: topic \"%s\": %s", t->file, t->line, t->id, msg);
    return core_kb_locate(err, t->file, t->line, 0);
}

static int is_builtin(const char *command)
{
    for (size_t i = 0; i < sizeof builtin_commands / sizeof builtin_commands[0]; i++)
        if (strcmp(builtin_commands[i], command) == 0)
            return 1;
    return 0;
}

static int index_topics(core_kb *kb, const char *where, base_error *err)
{
    kb->by_id = base_strmap_new(kb->n_topics);
    kb->by_command = base_strmap_new(kb->n_topics);
    if (!kb->by_id || !kb->by_command)
        return base_error_set(err, "%s: out of memory", where);
    for (size_t i = 0; i < kb->n_topics; i++) {
        const core_topic *t = &kb->topics[i];
        int other;
        if (base_strmap_get(kb->by_id, t->id, strlen(t->id), &other))
            return topic_fail(err, t, "duplicate id (first defined in %s)", kb->topics[other].file);
        if (base_strmap_get(kb->by_command, t->command, strlen(t->command), &other))
            return topic_fail(err, t, "command \"%s\" is used by another topic", t->command);
        if (is_builtin(t->command))
            return topic_fail(err, t, "command \"%s\" is a built-in command", t->command);
        if (base_strmap_put(kb->by_id, t->id, strlen(t->id), (int)i) != 0 ||
            base_strmap_put(kb->by_command, t->command, strlen(t->command), (int)i) != 0)
            return base_error_set(err, "%s: out of memory", where);
    }
    return BASE_OK;
}

/* Each facet's kind name becomes the index of that lexicon kind. */
static int resolve_facets(core_kb *kb, core_topic *t, base_error *err)
{
    const core_lexicon *lx = &kb->lexicon;
    for (size_t f = 0; f < t->n_facets; f++) {
        core_facet *fc = &t->facets[f];
        fc->kind = -1;
        if (!fc->kind_name)
            continue;
        for (size_t k = 0; k < lx->n_facet_kinds && fc->kind < 0; k++)
            if (strcmp(lx->facet_kinds[k].name, fc->kind_name) == 0)
                fc->kind = (int)k;
        if (fc->kind < 0)
            return topic_fail(err, t, "facet kind \"%s\" is not among the lexicon's facet_kinds", fc->kind_name);
        for (size_t g = 0; g < f; g++)
            if (t->facets[g].kind == fc->kind && fc->n_cues == 0 && t->facets[g].n_cues == 0)
                return topic_fail(err, t, "two facets of kind \"%s\"", fc->kind_name);
    }
    return BASE_OK;
}

int core_kb_validate(core_kb *kb, const char *where, base_error *err)
{
    if (kb->n_topics == 0)
        return base_error_set(err, "%s: no topics found", where);
    if (index_topics(kb, where, err) != BASE_OK)
        return BASE_ERR;
    int max_step = 0;
    char step_taken[100] = {0}; /* steps are 1..99, checked when read */
    for (size_t i = 0; i < kb->n_topics; i++) {
        core_topic *t = &kb->topics[i];
        if (resolve_facets(kb, t, err) != BASE_OK)
            return BASE_ERR;
        for (size_t r = 0; r < t->n_related; r++)
            if (!core_kb_find(kb, t->related[r]))
                return topic_fail(err, t, "related topic \"%s\" does not exist", t->related[r]);
        if (t->step) {
            if (step_taken[t->step])
                return topic_fail(err, t, "%s: another topic has the same step number", "step");
            step_taken[t->step] = 1;
            if (t->step > max_step)
                max_step = t->step;
        }
    }
    if (kb->lexicon.default_topic && !core_kb_find(kb, kb->lexicon.default_topic))
        return base_error_set(err, "%s: lexicon \"default_topic\" names topic \"%s\", which does not exist", where,
                            kb->lexicon.default_topic);
    for (int s = 1; s <= max_step; s++) {
        if (step_taken[s])
            continue;
        const core_topic *after = NULL; /* point at the step that follows the gap */
        for (int a = s + 1; a <= max_step && !after; a++)
            after = core_kb_step(kb, a);
        return topic_fail(err, after, "step %d is missing (steps must be numbered 1 to %d)", s, max_step);
    }
    return BASE_OK;
}
