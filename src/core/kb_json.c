/* One knowledge-base JSON document to topics, lexicon and bot texts. Every
 * problem is reported as "file:line: message"; jansson gives positions for
 * syntax errors, and for the content of a topic we point at the line of its
 * "id". Checks that need more than one topic are in kb_validate.c. */
#include "base/str.h"
#include "core/kb_internal.h"
#include "core/text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE_BYTES 400

typedef struct load_ctx {
    core_kb *kb;
    const char *file;  /* name used in messages */
    const char *text;  /* raw file text, to find lines */
    size_t len;
    base_error *err;
    size_t id_cursor;  /* topics come in file order: search for the next id from here */
    int id_cursor_line;
} load_ctx;

static int line_at(const char *text, size_t len, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        if (text[i] == '\n')
            line++;
    return line;
}

/* Position of the first `"id": "<id>"` at or after from, or NULL. */
static const char *find_id(const char *from, const char *id)
{
    size_t idlen = strlen(id);
    for (const char *p = from; (p = strstr(p, "\"id\"")) != NULL; p += 4) {
        const char *q = p + 4;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q != ':')
            continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q == '"' && strncmp(q + 1, id, idlen) == 0 && q[1 + idlen] == '"')
            return p;
    }
    return NULL;
}

/* Line of a topic's id in the file; 0 when it cannot be found. Topics are
 * read in file order, so the search resumes where the last one ended and
 * the whole file is scanned once. */
static int line_of_id(load_ctx *c, const char *id)
{
    if (c->id_cursor_line == 0)
        c->id_cursor_line = 1;
    const char *p = find_id(c->text + c->id_cursor, id);
    if (!p) /* out of order (a repeated id): search from the top */
        return (p = find_id(c->text, id)) ? line_at(c->text, c->len, (size_t)(p - c->text)) : 0;
    size_t at = (size_t)(p - c->text);
    for (size_t i = c->id_cursor; i < at; i++)
        if (c->text[i] == '\n')
            c->id_cursor_line++;
    c->id_cursor = at + 4; /* past this "id": the next topic's id comes later */
    return c->id_cursor_line;
}

static int fail(const load_ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(const load_ctx *c, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    base_error_set(c->err, "%s:%d: %s", c->file, line, msg);
    return core_kb_locate(c->err, c->file, line, 0);
}

/* ---- small typed readers ---------------------------------------------- */

static int read_string(const load_ctx *c, int line, json_t *obj, const char *key, int required,
                       char **out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return fail(c, line, "missing field \"%s\"", key);
        return BASE_OK;
    }
    if (!json_is_string(v))
        return fail(c, line, "field \"%s\" must be a string", key);
    if (required && json_string_length(v) == 0)
        return fail(c, line, "field \"%s\" must not be empty", key);
    free(*out);
    *out = base_strdup(json_string_value(v));
    return *out ? BASE_OK : fail(c, line, "out of memory");
}


static int read_string_array(const load_ctx *c, int line, json_t *obj, const char *key,
                             int required, char ***items, size_t *n)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return fail(c, line, "missing field \"%s\"", key);
        return BASE_OK;
    }
    if (!json_is_array(v))
        return fail(c, line, "field \"%s\" must be an array of strings", key);
    size_t count = json_array_size(v);
    if (required && count == 0)
        return fail(c, line, "field \"%s\" must not be empty", key);
    char **arr = calloc(count ? count : 1, sizeof *arr);
    if (!arr)
        return fail(c, line, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) == 0) {
            base_strv_free(arr, i);
            return fail(c, line, "field \"%s\" must hold non-empty strings only", key);
        }
        if (!(arr[i] = base_strdup(json_string_value(s)))) {
            base_strv_free(arr, i);
            return fail(c, line, "out of memory");
        }
    }
    base_strv_free(*items, *n);
    *items = arr;
    *n = count;
    return BASE_OK;
}

static int check_keys(const load_ctx *c, int line, json_t *obj, const char *what,
                      const char *const *allowed, size_t n_allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        size_t i = 0;
        while (i < n_allowed && strcmp(allowed[i], key) != 0)
            i++;
        if (i == n_allowed)
            return fail(c, line, "unknown field \"%s\" in %s", key, what);
    }
    return BASE_OK;
}

/* True when the text holds at least one word as the matcher reads words:
 * a phrase of only punctuation or emoji could never match anything. */
static int has_words(const char *s)
{
    return core_text_has_word(s, strlen(s));
}

/* ---- topics ------------------------------------------------------------- */


static int read_keyword(const load_ctx *c, int line, const char *id, json_t *k, core_keyword *out)
{
    static const char *const allowed[] = {"phrase", "weight", "synonyms"};
    if (!json_is_object(k))
        return fail(c, line, "topic \"%s\": each keyword must be an object", id);
    if (check_keys(c, line, k, "keyword", allowed, 3) != BASE_OK)
        return BASE_ERR;
    json_t *phrase = json_object_get(k, "phrase");
    json_t *weight = json_object_get(k, "weight");
    if (!json_is_string(phrase) || !has_words(json_string_value(phrase)))
        return fail(c, line, "topic \"%s\": keyword needs a \"phrase\" with words", id);
    if (!json_is_number(weight) || json_number_value(weight) <= 0 || json_number_value(weight) > 100)
        return fail(c, line, "topic \"%s\": keyword \"%s\" needs a \"weight\" between 0 and 100",
                    id, json_string_value(phrase));
    char **syn = NULL;
    size_t n_syn = 0;
    if (read_string_array(c, line, k, "synonyms", 0, &syn, &n_syn) != BASE_OK)
        return BASE_ERR;
    for (size_t i = 0; i < n_syn; i++)
        if (!has_words(syn[i])) {
            fail(c, line, "topic \"%s\": synonym \"%s\" of keyword \"%s\" needs a phrase with words", id, syn[i],
                 json_string_value(phrase));
            base_strv_free(syn, n_syn);
            return BASE_ERR;
        }
    out->phrases = calloc(n_syn + 1, sizeof *out->phrases);
    if (!out->phrases) {
        base_strv_free(syn, n_syn);
        return fail(c, line, "out of memory");
    }
    out->phrases[0] = base_strdup(json_string_value(phrase));
    for (size_t i = 0; i < n_syn; i++)
        out->phrases[i + 1] = syn[i];
    free(syn);
    out->n_phrases = n_syn + 1;
    out->weight = json_number_value(weight);
    return out->phrases[0] ? BASE_OK : fail(c, line, "out of memory");
}

static int check_answer_lines(const load_ctx *c, int line, const char *id, const char *field,
                              const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n > MAX_LINE_BYTES)
            return fail(c, line, "topic \"%s\": a line of \"%s\" is longer than 400 bytes", id, field);
        p += n + (nl ? 1 : 0);
    }
    return BASE_OK;
}

/* Phrases (cues, social phrases) must hold words, as keywords must. */
static int check_phrases(const load_ctx *c, int line, const char *what, char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!has_words(items[i]))
            return fail(c, line, "%s: \"%s\" needs words", what, items[i]);
    return BASE_OK;
}

static int read_facet(const load_ctx *c, int line, const char *id, json_t *f, core_facet *out)
{
    static const char *const allowed[] = {"kind", "cues", "answer"};
    char what[160];
    snprintf(what, sizeof what, "topic \"%.100s\": facet", id);
    out->kind = -1;
    if (!json_is_object(f))
        return fail(c, line, "%s must be an object", what);
    if (check_keys(c, line, f, what, allowed, 3) != BASE_OK ||
        read_string(c, line, f, "kind", 0, &out->kind_name) != BASE_OK ||
        read_string_array(c, line, f, "cues", 0, &out->cues, &out->n_cues) != BASE_OK ||
        read_string(c, line, f, "answer", 1, &out->answer) != BASE_OK ||
        check_phrases(c, line, what, out->cues, out->n_cues) != BASE_OK ||
        check_answer_lines(c, line, id, "facet answer", out->answer) != BASE_OK)
        return BASE_ERR;
    if (!out->kind_name && out->n_cues == 0)
        return fail(c, line, "%s needs a \"kind\" or \"cues\"", what);
    return BASE_OK;
}

static int read_facets(const load_ctx *c, int line, json_t *obj, core_topic *t)
{
    json_t *arr = json_object_get(obj, "facets");
    if (!arr)
        return BASE_OK;
    if (!json_is_array(arr))
        return fail(c, line, "topic \"%s\": \"facets\" must be an array", t->id);
    t->facets = calloc(json_array_size(arr) + 1, sizeof *t->facets);
    if (!t->facets)
        return fail(c, line, "out of memory");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        int rc = read_facet(c, line, t->id, json_array_get(arr, i), &t->facets[i]);
        t->n_facets++; /* counted even when half read, so that it is freed */
        if (rc != BASE_OK)
            return BASE_ERR;
    }
    return BASE_OK;
}

static int read_topic(load_ctx *c, size_t index, json_t *obj, core_topic *t)
{
    static const char *const allowed[] = {"id", "title", "command", "step", "keywords", "examples",
                                          "answer", "details", "brief", "facets", "related", "source"};
    char where[64];
    snprintf(where, sizeof where, "topic #%zu", index + 1);
    if (!json_is_object(obj))
        return fail(c, 0, "%s must be an object", where);
    json_t *id = json_object_get(obj, "id");
    if (!json_is_string(id) || json_string_length(id) == 0)
        return fail(c, 0, "%s: missing field \"id\"", where);
    t->id = base_strdup(json_string_value(id));
    if (!t->id)
        return fail(c, 0, "out of memory");
    int line = t->line = line_of_id(c, t->id);
    if (!(t->file = base_strdup(c->file)))
        return fail(c, line, "out of memory");
    if (check_keys(c, line, obj, "a topic", allowed, sizeof allowed / sizeof allowed[0]) != BASE_OK ||
        read_string(c, line, obj, "title", 1, &t->title) != BASE_OK ||
        read_string(c, line, obj, "command", 0, &t->command) != BASE_OK ||
        read_string(c, line, obj, "answer", 1, &t->answer) != BASE_OK ||
        read_string(c, line, obj, "details", 0, &t->details) != BASE_OK ||
        read_string(c, line, obj, "brief", 0, &t->brief) != BASE_OK ||
        read_string(c, line, obj, "source", 1, &t->source) != BASE_OK ||
        read_string_array(c, line, obj, "examples", 1, &t->examples, &t->n_examples) != BASE_OK ||
        read_string_array(c, line, obj, "related", 0, &t->related, &t->n_related) != BASE_OK)
        return BASE_ERR;
    if (!t->command && !(t->command = base_strdup(t->id)))
        return fail(c, line, "out of memory");
    if (check_answer_lines(c, line, t->id, "answer", t->answer) != BASE_OK ||
        (t->details && check_answer_lines(c, line, t->id, "details", t->details) != BASE_OK) ||
        (t->brief && check_answer_lines(c, line, t->id, "brief", t->brief) != BASE_OK) ||
        read_facets(c, line, obj, t) != BASE_OK)
        return BASE_ERR;
    json_t *step = json_object_get(obj, "step");
    if (step) {
        if (!json_is_integer(step) || json_integer_value(step) < 1 || json_integer_value(step) > 99)
            return fail(c, line, "topic \"%s\": \"step\" must be a whole number from 1 to 99", t->id);
        t->step = (int)json_integer_value(step);
    }
    json_t *kw = json_object_get(obj, "keywords");
    if (!json_is_array(kw) || json_array_size(kw) == 0)
        return fail(c, line, "topic \"%s\": \"keywords\" must be a non-empty array", t->id);
    t->keywords = calloc(json_array_size(kw), sizeof *t->keywords);
    if (!t->keywords)
        return fail(c, line, "out of memory");
    for (size_t i = 0; i < json_array_size(kw); i++) {
        if (read_keyword(c, line, t->id, json_array_get(kw, i), &t->keywords[i]) != BASE_OK)
            return BASE_ERR;
        t->n_keywords++;
    }
    return BASE_OK;
}

static int read_topics(load_ctx *c, json_t *arr)
{
    if (!json_is_array(arr))
        return fail(c, 1, "\"topics\" must be an array");
    core_kb *kb = c->kb;
    size_t add = json_array_size(arr);
    core_topic *grown = realloc(kb->topics, (kb->n_topics + add + 1) * sizeof *grown);
    if (!grown)
        return fail(c, 1, "out of memory");
    kb->topics = grown;
    for (size_t i = 0; i < add; i++) {
        core_topic *t = &kb->topics[kb->n_topics];
        memset(t, 0, sizeof *t);
        int rc = read_topic(c, i, json_array_get(arr, i), t);
        if (rc != BASE_OK) {
            core_kb_topic_free(t);
            return rc;
        }
        kb->n_topics++;
    }
    return BASE_OK;
}

/* ---- lexicon and bot texts ---------------------------------------------- */

static int read_number(const load_ctx *c, json_t *obj, const char *key, double lo, double hi, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return BASE_OK;
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
        char range[64];
        snprintf(range, sizeof range, "%g to %g", lo, hi);
        return fail(c, 1, "lexicon \"%s\" must be a number from %s", key, range);
    }
    *out = json_number_value(v);
    return BASE_OK;
}

static int read_switch(const load_ctx *c, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return BASE_OK;
    if (!json_is_boolean(v))
        return fail(c, 1, "lexicon \"%s\" must be true or false", key);
    *out = json_is_true(v);
    return BASE_OK;
}

/* An array of arrays of words, such as the synonym groups. */
static int read_groups(const load_ctx *c, json_t *obj, const char *key, core_synonym_group **groups, size_t *n)
{
    json_t *arr = json_object_get(obj, key);
    if (!arr)
        return BASE_OK;
    if (!json_is_array(arr))
        return fail(c, 1, "lexicon \"%s\" must be an array of arrays of words", key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        core_synonym_group g = {0};
        json_t *wrap = json_object(); /* reuse the string-array reader and its messages */
        if (!wrap || json_object_set(wrap, key, json_array_get(arr, i)) != 0) {
            json_decref(wrap);
            return fail(c, 1, "lexicon \"%s\" must be an array of arrays of words", key);
        }
        int rc = read_string_array(c, 1, wrap, key, 1, &g.words, &g.n);
        json_decref(wrap);
        if (rc != BASE_OK)
            return BASE_ERR;
        core_synonym_group *grown = realloc(*groups, (*n + 1) * sizeof *grown);
        if (!grown) {
            base_strv_free(g.words, g.n);
            return fail(c, 1, "out of memory");
        }
        *groups = grown;
        (*groups)[(*n)++] = g;
    }
    return BASE_OK;
}

static int read_facet_kinds(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"kind", "cues", "silent", "details", "explains"};
    core_lexicon *lx = &c->kb->lexicon;
    json_t *arr = json_object_get(obj, "facet_kinds");
    if (!arr)
        return BASE_OK;
    if (!json_is_array(arr))
        return fail(c, 1, "lexicon \"facet_kinds\" must be an array of objects");
    core_facet_kind *kinds = calloc(json_array_size(arr) + 1, sizeof *kinds);
    if (!kinds)
        return fail(c, 1, "out of memory");
    core_kb_facet_kinds_free(lx->facet_kinds, lx->n_facet_kinds); /* a later document replaces them */
    lx->facet_kinds = kinds;
    lx->n_facet_kinds = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *k = json_array_get(arr, i);
        core_facet_kind *fk = &kinds[lx->n_facet_kinds++];
        if (!json_is_object(k))
            return fail(c, 1, "lexicon \"facet_kinds\" must be an array of objects");
        json_t *details = json_object_get(k, "details"), *explains = json_object_get(k, "explains");
        if ((details && !json_is_boolean(details)) || (explains && !json_is_boolean(explains)))
            return fail(c, 1, "lexicon \"facet_kinds\": \"details\" and \"explains\" must be true or false");
        fk->details = json_is_true(details);
        fk->explains = json_is_true(explains);
        if (check_keys(c, 1, k, "a facet kind", allowed, 5) != BASE_OK ||
            read_string(c, 1, k, "kind", 1, &fk->name) != BASE_OK ||
            read_string_array(c, 1, k, "cues", 1, &fk->cues, &fk->n_cues) != BASE_OK ||
            read_string(c, 1, k, "silent", 1, &fk->silent) != BASE_OK ||
            check_phrases(c, 1, "facet kind cue", fk->cues, fk->n_cues) != BASE_OK)
            return BASE_ERR;
        for (size_t j = 0; j + 1 < lx->n_facet_kinds; j++)
            if (strcmp(kinds[j].name, fk->name) == 0)
                return fail(c, 1, "lexicon \"facet_kinds\": \"%s\" is given twice", fk->name);
    }
    return BASE_OK;
}

static int read_lexicon(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"threshold", "offtopic_penalty", "clarify_ratio",
                                          "synonyms", "domain", "offtopic", "stopwords",
                                          "common", "follow_next", "follow_more", "default_topic", "exact",
                                          "unknown_penalty", "facet_kinds", "anaphora", "continuations",
                                          "ordinals", "last", "both", "compare", "question_starts", "fillers",
                                          "person_talk", "wordnet", "hunspell", "hunspell_dictionaries"};
    core_lexicon *lx = &c->kb->lexicon;
    if (!json_is_object(obj))
        return fail(c, 1, "\"lexicon\" must be an object");
    if (check_keys(c, 1, obj, "the lexicon", allowed, sizeof allowed / sizeof allowed[0]) != BASE_OK ||
        read_number(c, obj, "threshold", 0.01, 100, &lx->threshold) != BASE_OK ||
        read_number(c, obj, "offtopic_penalty", 0, 100, &lx->offtopic_penalty) != BASE_OK ||
        read_number(c, obj, "unknown_penalty", 0, 100, &lx->unknown_penalty) != BASE_OK ||
        read_number(c, obj, "clarify_ratio", 0.01, 1, &lx->clarify_ratio) != BASE_OK ||
        read_string(c, 1, obj, "default_topic", 0, &lx->default_topic) != BASE_OK ||
        read_string_array(c, 1, obj, "domain", 0, &lx->domain.items, &lx->domain.n) != BASE_OK ||
        read_string_array(c, 1, obj, "offtopic", 0, &lx->offtopic.items, &lx->offtopic.n) != BASE_OK ||
        read_string_array(c, 1, obj, "stopwords", 0, &lx->stopwords.items, &lx->stopwords.n) != BASE_OK ||
        read_string_array(c, 1, obj, "common", 0, &lx->common.items, &lx->common.n) != BASE_OK ||
        read_string_array(c, 1, obj, "follow_next", 0, &lx->follow_next.items, &lx->follow_next.n) != BASE_OK ||
        read_string_array(c, 1, obj, "follow_more", 0, &lx->follow_more.items, &lx->follow_more.n) != BASE_OK ||
        read_string_array(c, 1, obj, "anaphora", 0, &lx->anaphora.items, &lx->anaphora.n) != BASE_OK ||
        read_string_array(c, 1, obj, "continuations", 0, &lx->continuations.items, &lx->continuations.n) !=
            BASE_OK ||
        read_string_array(c, 1, obj, "last", 0, &lx->last.items, &lx->last.n) != BASE_OK ||
        read_string_array(c, 1, obj, "both", 0, &lx->both.items, &lx->both.n) != BASE_OK ||
        read_string_array(c, 1, obj, "compare", 0, &lx->compare.items, &lx->compare.n) != BASE_OK ||
        read_string_array(c, 1, obj, "question_starts", 0, &lx->question_starts.items, &lx->question_starts.n) !=
            BASE_OK ||
        read_string_array(c, 1, obj, "fillers", 0, &lx->fillers.items, &lx->fillers.n) != BASE_OK ||
        read_string_array(c, 1, obj, "person_talk", 0, &lx->person_talk.items, &lx->person_talk.n) != BASE_OK ||
        read_string_array(c, 1, obj, "hunspell_dictionaries", 0, &lx->hunspell_dictionaries.items,
                          &lx->hunspell_dictionaries.n) != BASE_OK ||
        read_switch(c, obj, "wordnet", &lx->wordnet) != BASE_OK ||
        read_switch(c, obj, "hunspell", &lx->hunspell) != BASE_OK || read_facet_kinds(c, obj) != BASE_OK)
        return BASE_ERR;
    return read_groups(c, obj, "synonyms", &lx->synonyms, &lx->n_synonyms) != BASE_OK ||
                   read_groups(c, obj, "exact", &lx->exact, &lx->n_exact) != BASE_OK ||
                   read_groups(c, obj, "ordinals", &lx->ordinals, &lx->n_ordinals) != BASE_OK
               ? BASE_ERR
               : BASE_OK;
}

static int read_social(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"kind", "phrases", "replies"};
    core_bot_texts *t = &c->kb->texts;
    json_t *arr = json_object_get(obj, "social");
    if (!arr)
        return BASE_OK;
    if (!json_is_array(arr))
        return fail(c, 1, "bot \"social\" must be an array of objects");
    core_social *social = calloc(json_array_size(arr) + 1, sizeof *social);
    if (!social)
        return fail(c, 1, "out of memory");
    core_kb_social_free(t->social, t->n_social); /* a later document replaces it */
    t->social = social;
    t->n_social = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *k = json_array_get(arr, i);
        core_social *s = &social[t->n_social++];
        if (!json_is_object(k))
            return fail(c, 1, "bot \"social\" must be an array of objects");
        if (check_keys(c, 1, k, "a kind of small talk", allowed, 3) != BASE_OK ||
            read_string(c, 1, k, "kind", 1, &s->kind) != BASE_OK ||
            read_string_array(c, 1, k, "phrases", 1, &s->phrases, &s->n_phrases) != BASE_OK ||
            read_string_array(c, 1, k, "replies", 1, &s->replies, &s->n_replies) != BASE_OK ||
            check_phrases(c, 1, "small talk phrase", s->phrases, s->n_phrases) != BASE_OK)
            return BASE_ERR;
    }
    return BASE_OK;
}

static int read_bot(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"name", "about", "help", "decline", "sources", "tagline",
                                          "encrypted", "more_hint", "compare", "social"};
    core_bot_texts *t = &c->kb->texts;
    if (!json_is_object(obj))
        return fail(c, 1, "\"bot\" must be an object");
    if (check_keys(c, 1, obj, "\"bot\"", allowed, sizeof allowed / sizeof allowed[0]) != BASE_OK ||
        read_string(c, 1, obj, "name", 0, &t->name) != BASE_OK ||
        read_string(c, 1, obj, "about", 0, &t->about) != BASE_OK ||
        read_string(c, 1, obj, "help", 0, &t->help) != BASE_OK ||
        read_string(c, 1, obj, "decline", 0, &t->decline) != BASE_OK ||
        read_string(c, 1, obj, "sources", 0, &t->sources) != BASE_OK ||
        read_string(c, 1, obj, "tagline", 0, &t->tagline) != BASE_OK ||
        read_string(c, 1, obj, "encrypted", 0, &t->encrypted) != BASE_OK ||
        read_string(c, 1, obj, "more_hint", 0, &t->more_hint) != BASE_OK ||
        read_string(c, 1, obj, "compare", 0, &t->compare) != BASE_OK ||
        read_social(c, obj) != BASE_OK)
        return BASE_ERR;
    return BASE_OK;
}

/* ---- the document ------------------------------------------------------- */

int core_kb_read_json(core_kb *kb, const char *name, const char *text, size_t len, base_error *err)
{
    load_ctx c = {kb, name, text, len, err, 0, 0};
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        base_error_set(err, "%s:%d:%d: %s", name, jerr.line, jerr.column, jerr.text);
        return core_kb_locate(err, name, jerr.line, jerr.column);
    }
    int rc = BASE_OK;
    if (!json_is_object(root)) {
        rc = fail(&c, 1, "the file must hold one JSON object");
    } else {
        static const char *const allowed[] = {"bot", "lexicon", "topics"};
        json_t *v;
        rc = check_keys(&c, 1, root, "the file (expected bot, lexicon, topics)", allowed, 3);
        if (rc == BASE_OK && (v = json_object_get(root, "bot")))
            rc = read_bot(&c, v);
        if (rc == BASE_OK && (v = json_object_get(root, "lexicon")))
            rc = read_lexicon(&c, v);
        if (rc == BASE_OK && (v = json_object_get(root, "topics")))
            rc = read_topics(&c, v);
    }
    json_decref(root);
    return rc;
}

int core_kb_load_string(const char *json, size_t len, const char *name, core_kb **out, base_error *err)
{
    core_kb *kb = core_kb_new_empty();
    if (!kb)
        return base_error_set(err, "%s: out of memory", name);
    char *text = malloc(len + 1); /* NUL-terminated, for finding lines */
    if (!text) {
        core_kb_free(kb);
        return base_error_set(err, "%s: out of memory", name);
    }
    memcpy(text, json, len);
    text[len] = '\0';
    int rc = core_kb_read_json(kb, name, text, len, err);
    free(text);
    if (rc != BASE_OK || core_kb_finish(kb, name, err) != BASE_OK) {
        core_kb_free(kb);
        return BASE_ERR;
    }
    *out = kb;
    return BASE_OK;
}
