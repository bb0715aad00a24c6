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
    if (!t->tagline && !(t->tagline = base_strdup("a career advisor bot")))
        return BASE_ERR;
    if (!t->encrypted && !(t->encrypted = base_strdup("I can't read messages in this room: it is end-to-end encrypted, "
                                                      "and I don't support encryption. Invite me to a room without "
                                                      "encryption to ask me something.")))
        return BASE_ERR;
    if (!t->more_hint && !(t->more_hint = base_strdup("(say /more for the rest)")))
        return BASE_ERR;
    if (!t->compare && !(t->compare = base_strdup("I can't rank them; here is what I know of each:")))
        return BASE_ERR;
    return BASE_OK;
}

/* English defaults for the words a conversation leans on, for a knowledge
 * base that does not set its own. */
static int default_list(core_string_list *l, const char *const *words, size_t n)
{
    if (l->n)
        return BASE_OK;
    l->items = calloc(n, sizeof *l->items);
    if (!l->items)
        return BASE_ERR;
    for (size_t i = 0; i < n; i++, l->n++)
        if (!(l->items[i] = base_strdup(words[i])))
            return BASE_ERR;
    return BASE_OK;
}

#define DEFAULT_LIST(list, ...)                                                                \
    do {                                                                                       \
        static const char *const words_[] = {__VA_ARGS__};                                     \
        if (default_list(&(list), words_, sizeof words_ / sizeof words_[0]) != BASE_OK)        \
            return BASE_ERR;                                                                   \
    } while (0)

static int fill_default_lexicon(core_lexicon *lx)
{
    DEFAULT_LIST(lx->anaphora, "it", "that", "this", "they", "them", "those", "these", "there", "one");
    DEFAULT_LIST(lx->continuations, "and", "what about", "how about", "so", "but", "also");
    DEFAULT_LIST(lx->last, "last", "final");
    DEFAULT_LIST(lx->both, "both", "both of them");
    DEFAULT_LIST(lx->compare, "better", "best", "compare", "difference");
    DEFAULT_LIST(lx->fillers, "please", "option", "i mean", "i meant", "number", "yes", "ok", "okay", "thanks", "a",
                 "the", "one", "pls", "plz");
    DEFAULT_LIST(lx->person_talk, "did you", "have you", "are you still", "were you", "do you still", "did u",
                 "have u", "how was your", "how is your", "hows your", "how did your", "are you going", "did your");
    DEFAULT_LIST(lx->question_starts, "what", "how", "where", "when", "who", "why", "which", "is", "are", "do",
                 "does", "can", "could", "should", "would", "will");
    if (lx->n_ordinals == 0) {
        static const char *const ordinals[][4] = {{"first", "1st", "1", "former"}, {"second", "2nd", "2", "latter"},
                                                  {"third", "3rd", "3", NULL}, {"fourth", "4th", "4", NULL},
                                                  {"fifth", "5th", "5", NULL}};
        size_t n = sizeof ordinals / sizeof ordinals[0];
        if (!(lx->ordinals = calloc(n, sizeof *lx->ordinals)))
            return BASE_ERR;
        for (size_t i = 0; i < n; i++, lx->n_ordinals++) {
            core_string_list l = {0};
            size_t k = ordinals[i][3] ? 4 : 3;
            if (default_list(&l, ordinals[i], k) != BASE_OK) {
                base_strv_free(l.items, l.n);
                return BASE_ERR;
            }
            lx->ordinals[i].words = l.items;
            lx->ordinals[i].n = l.n;
        }
    }
    return BASE_OK;
}

int core_kb_finish(core_kb *kb, const char *where, base_error *err)
{
    if (core_kb_validate(kb, where, err) != BASE_OK)
        return BASE_ERR;
    if (fill_default_texts(kb) != BASE_OK || fill_default_lexicon(&kb->lexicon) != BASE_OK)
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
    free(t->brief);
    for (size_t i = 0; i < t->n_facets; i++) {
        free(t->facets[i].kind_name);
        base_strv_free(t->facets[i].cues, t->facets[i].n_cues);
        free(t->facets[i].answer);
    }
    free(t->facets);
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

void core_kb_social_free(core_social *social, size_t n)
{
    for (size_t i = 0; social && i < n; i++) {
        free(social[i].kind);
        base_strv_free(social[i].phrases, social[i].n_phrases);
        base_strv_free(social[i].replies, social[i].n_replies);
    }
    free(social);
}

void core_kb_facet_kinds_free(core_facet_kind *kinds, size_t n)
{
    for (size_t i = 0; kinds && i < n; i++) {
        free(kinds[i].name);
        base_strv_free(kinds[i].cues, kinds[i].n_cues);
        free(kinds[i].silent);
    }
    free(kinds);
}

static void free_groups(core_synonym_group *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        base_strv_free(g[i].words, g[i].n);
    free(g);
}

void core_kb_free(core_kb *kb)
{
    if (!kb)
        return;
    for (size_t i = 0; i < kb->n_topics; i++)
        core_kb_topic_free(&kb->topics[i]);
    free(kb->topics);
    core_lexicon *lx = &kb->lexicon;
    free_groups(lx->synonyms, lx->n_synonyms);
    free_groups(lx->exact, lx->n_exact);
    free_groups(lx->ordinals, lx->n_ordinals);
    core_kb_facet_kinds_free(lx->facet_kinds, lx->n_facet_kinds);
    free_list(&lx->anaphora);
    free_list(&lx->continuations);
    free_list(&lx->last);
    free_list(&lx->both);
    free_list(&lx->compare);
    free_list(&lx->question_starts);
    free_list(&lx->fillers);
    free_list(&lx->person_talk);
    free_list(&lx->hunspell_dictionaries);
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
    free(kb->texts.tagline);
    free(kb->texts.encrypted);
    free(kb->texts.more_hint);
    free(kb->texts.compare);
    core_kb_social_free(kb->texts.social, kb->texts.n_social);
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
