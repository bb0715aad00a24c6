/* Checks over the whole knowledge base, after every document is read: what
 * no single topic can check alone. Builds the id and command indexes that
 * core_kb_find and core_kb_find_command use. */
#include "base/strmap.h"
#include "core/kb_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const builtin_commands[] = {"help", "topics", "step", "next",
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

int core_kb_validate(core_kb *kb, const char *where, base_error *err)
{
    if (kb->n_topics == 0)
        return base_error_set(err, "%s: no topics found", where);
    if (index_topics(kb, where, err) != BASE_OK)
        return BASE_ERR;
    int max_step = 0;
    char step_taken[100] = {0}; /* steps are 1..99, checked when read */
    for (size_t i = 0; i < kb->n_topics; i++) {
        const core_topic *t = &kb->topics[i];
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
