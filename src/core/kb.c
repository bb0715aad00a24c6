/* The knowledge base as a value: an empty one with the lexicon's defaults,
 * finishing one that was read, lookups, and freeing. Reading is in
 * kb_json.c and kb_dir.c, the whole-base checks in kb_validate.c. */
#include "base/str.h"
#include "base/strmap.h"
#include "core/kb_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

core_kb *core_kb_new_empty(void)
{
    core_kb *kb = calloc(1, sizeof *kb);
    if (!kb)
        return NULL;
    kb->lexicon.threshold = 1.0;
    kb->lexicon.offtopic_penalty = 1.5;
    kb->lexicon.clarify_ratio = 0.9;
    return kb;
}

static int fill_default_texts(core_kb *kb)
{
    core_bot_texts *t = &kb->texts;
    if (!t->name && !(t->name = base_strdup("this career")))
        return BASE_ERR;
    if (!t->decline && !(t->decline = base_strdup("Sorry, I can only help with questions about this career. Try /help.")))
        return BASE_ERR;
    if (!t->help && !(t->help = base_strdup("Ask me anything about this career, or use a command:")))
        return BASE_ERR;
    if (!t->about && !(t->about = base_strdup("A career advisor bot.")))
        return BASE_ERR;
    if (!t->sources && !(t->sources = base_strdup("Ask a question first, then /source tells where the answer comes from.")))
        return BASE_ERR;
    return BASE_OK;
}

int core_kb_finish(core_kb *kb, const char *where, base_error *err)
{
    if (core_kb_validate(kb, where, err) != BASE_OK)
        return BASE_ERR;
    if (fill_default_texts(kb) != BASE_OK)
        return base_error_set(err, "%s: out of memory", where);
    return BASE_OK;
}

int core_kb_locate(base_error *err, const char *file, int line, int column)
{
    if (err && file && line > 0) {
        snprintf(err->file, sizeof err->file, "%s", file);
        err->line = line;
        err->column = column > 0 ? column : 0;
    }
    return BASE_ERR;
}

void core_kb_topic_free(core_topic *t)
{
    free(t->id);
    free(t->title);
    free(t->command);
    for (size_t i = 0; i < t->n_keywords; i++)
        base_strv_free(t->keywords[i].phrases, t->keywords[i].n_phrases);
    free(t->keywords);
    base_strv_free(t->examples, t->n_examples);
    free(t->answer);
    free(t->details);
    base_strv_free(t->related, t->n_related);
    free(t->source);
    free(t->file);
    memset(t, 0, sizeof *t);
}

static void free_list(core_string_list *l)
{
    base_strv_free(l->items, l->n);
    l->items = NULL;
    l->n = 0;
}

void core_kb_free(core_kb *kb)
{
    if (!kb)
        return;
    for (size_t i = 0; i < kb->n_topics; i++)
        core_kb_topic_free(&kb->topics[i]);
    free(kb->topics);
    core_lexicon *lx = &kb->lexicon;
    for (size_t i = 0; i < lx->n_synonyms; i++)
        base_strv_free(lx->synonyms[i].words, lx->synonyms[i].n);
    free(lx->synonyms);
    for (size_t i = 0; i < lx->n_exact; i++)
        base_strv_free(lx->exact[i].words, lx->exact[i].n);
    free(lx->exact);
    free_list(&lx->domain);
    free_list(&lx->offtopic);
    free_list(&lx->stopwords);
    free_list(&lx->common);
    free_list(&lx->follow_next);
    free_list(&lx->follow_more);
    free(lx->default_topic);
    free(kb->texts.name);
    free(kb->texts.about);
    free(kb->texts.help);
    free(kb->texts.decline);
    free(kb->texts.sources);
    free(kb->dir);
    base_strmap_free(kb->by_id);
    base_strmap_free(kb->by_command);
    free(kb);
}

const core_topic *core_kb_find(const core_kb *kb, const char *id)
{
    int i;
    return base_strmap_get(kb->by_id, id, strlen(id), &i) ? &kb->topics[i] : NULL;
}

const core_topic *core_kb_find_command(const core_kb *kb, const char *command)
{
    int i;
    return base_strmap_get(kb->by_command, command, strlen(command), &i) ? &kb->topics[i] : NULL;
}

const core_topic *core_kb_step(const core_kb *kb, int n)
{
    for (size_t i = 0; i < kb->n_topics; i++)
        if (n > 0 && kb->topics[i].step == n)
            return &kb->topics[i];
    return NULL;
}

int core_kb_step_count(const core_kb *kb)
{
    int n = 0;
    while (core_kb_step(kb, n + 1))
        n++;
    return n;
}
