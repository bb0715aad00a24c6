/* Reading and validating knowledge-base JSON. Every problem is reported as
 * "file:line: message"; jansson gives positions for syntax errors, and for
 * the content of a topic we point at the line of its "id". */
#include "careerbot/kb.h"

#include "base/str.h"
#include "base/strmap.h"
#include "core/text.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE_BYTES 400
#define MAX_KB_FILE_BYTES (16u * 1024 * 1024)

static const char *const builtin_commands[] = {"help", "topics", "step", "next",
                                                "source", "sources", "about", "why"};

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
    return base_error_set(c->err, "%s:%d: %s", c->file, line, msg);
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

static void free_strings(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
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
            free_strings(arr, i);
            return fail(c, line, "field \"%s\" must hold non-empty strings only", key);
        }
        if (!(arr[i] = base_strdup(json_string_value(s)))) {
            free_strings(arr, i);
            return fail(c, line, "out of memory");
        }
    }
    free_strings(*items, *n);
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

static void free_topic(core_topic *t)
{
    free(t->id);
    free(t->title);
    free(t->command);
    for (size_t i = 0; i < t->n_keywords; i++)
        free_strings(t->keywords[i].phrases, t->keywords[i].n_phrases);
    free(t->keywords);
    free_strings(t->examples, t->n_examples);
    free(t->answer);
    free(t->details);
    free_strings(t->related, t->n_related);
    free(t->source);
    free(t->file);
    memset(t, 0, sizeof *t);
}

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
            free_strings(syn, n_syn);
            return BASE_ERR;
        }
    out->phrases = calloc(n_syn + 1, sizeof *out->phrases);
    if (!out->phrases) {
        free_strings(syn, n_syn);
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

static int read_topic(load_ctx *c, size_t index, json_t *obj, core_topic *t)
{
    static const char *const allowed[] = {"id", "title", "command", "step", "keywords", "examples",
                                          "answer", "details", "related", "source"};
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
        read_string(c, line, obj, "source", 1, &t->source) != BASE_OK ||
        read_string_array(c, line, obj, "examples", 1, &t->examples, &t->n_examples) != BASE_OK ||
        read_string_array(c, line, obj, "related", 0, &t->related, &t->n_related) != BASE_OK)
        return BASE_ERR;
    if (!t->command && !(t->command = base_strdup(t->id)))
        return fail(c, line, "out of memory");
    if (check_answer_lines(c, line, t->id, "answer", t->answer) != BASE_OK ||
        (t->details && check_answer_lines(c, line, t->id, "details", t->details) != BASE_OK))
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
            free_topic(t);
            return rc;
        }
        kb->n_topics++;
    }
    return BASE_OK;
}

/* ---- lexicon and bot texts ---------------------------------------------- */

static void free_list(core_string_list *l)
{
    free_strings(l->items, l->n);
    l->items = NULL;
    l->n = 0;
}

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
            free_strings(g.words, g.n);
            return fail(c, 1, "out of memory");
        }
        *groups = grown;
        (*groups)[(*n)++] = g;
    }
    return BASE_OK;
}

static int read_lexicon(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"threshold", "offtopic_penalty", "clarify_ratio",
                                          "synonyms", "domain", "offtopic", "stopwords",
                                          "common", "follow_next", "follow_more", "default_topic", "exact",
                                          "unknown_penalty"};
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
        read_string_array(c, 1, obj, "follow_more", 0, &lx->follow_more.items, &lx->follow_more.n) != BASE_OK)
        return BASE_ERR;
    return read_groups(c, obj, "synonyms", &lx->synonyms, &lx->n_synonyms) != BASE_OK ||
                   read_groups(c, obj, "exact", &lx->exact, &lx->n_exact) != BASE_OK
               ? BASE_ERR
               : BASE_OK;
}

static int read_bot(const load_ctx *c, json_t *obj)
{
    static const char *const allowed[] = {"name", "about", "help", "decline", "sources"};
    core_bot_texts *t = &c->kb->texts;
    if (!json_is_object(obj))
        return fail(c, 1, "\"bot\" must be an object");
    if (check_keys(c, 1, obj, "\"bot\"", allowed, sizeof allowed / sizeof allowed[0]) != BASE_OK ||
        read_string(c, 1, obj, "name", 0, &t->name) != BASE_OK ||
        read_string(c, 1, obj, "about", 0, &t->about) != BASE_OK ||
        read_string(c, 1, obj, "help", 0, &t->help) != BASE_OK ||
        read_string(c, 1, obj, "decline", 0, &t->decline) != BASE_OK ||
        read_string(c, 1, obj, "sources", 0, &t->sources) != BASE_OK)
        return BASE_ERR;
    return BASE_OK;
}

static int read_document(load_ctx *c)
{
    json_error_t jerr;
    json_t *root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return base_error_set(c->err, "%s:%d:%d: %s", c->file, jerr.line, jerr.column, jerr.text);
    int rc = BASE_OK;
    if (!json_is_object(root)) {
        rc = fail(c, 1, "the file must hold one JSON object");
    } else {
        static const char *const allowed[] = {"bot", "lexicon", "topics"};
        json_t *v;
        rc = check_keys(c, 1, root, "the file (expected bot, lexicon, topics)", allowed, 3);
        if (rc == BASE_OK && (v = json_object_get(root, "bot")))
            rc = read_bot(c, v);
        if (rc == BASE_OK && (v = json_object_get(root, "lexicon")))
            rc = read_lexicon(c, v);
        if (rc == BASE_OK && (v = json_object_get(root, "topics")))
            rc = read_topics(c, v);
    }
    json_decref(root);
    return rc;
}

/* ---- whole-base checks ---------------------------------------------------- */

static int topic_fail(base_error *err, const core_topic *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int topic_fail(base_error *err, const core_topic *t, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return base_error_set(err, "%s:%d: topic \"%s\": %s", t->file, t->line, t->id, msg);
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

static int validate(core_kb *kb, const char *where, base_error *err)
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

static void set_defaults(core_kb *kb)
{
    kb->lexicon.threshold = 1.0;
    kb->lexicon.offtopic_penalty = 1.5;
    kb->lexicon.clarify_ratio = 0.9;
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

static int finish(core_kb *kb, const char *where, core_kb **out, base_error *err)
{
    if (validate(kb, where, err) != BASE_OK)
        return BASE_ERR;
    if (fill_default_texts(kb) != BASE_OK)
        return base_error_set(err, "%s: out of memory", where);
    *out = kb;
    return BASE_OK;
}

int core_kb_load_string(const char *json, size_t len, const char *name, core_kb **out, base_error *err)
{
    core_kb *kb = calloc(1, sizeof *kb);
    if (!kb)
        return base_error_set(err, "%s: out of memory", name);
    set_defaults(kb);
    char *text = malloc(len + 1); /* NUL-terminated, for finding lines */
    if (!text) {
        core_kb_free(kb);
        return base_error_set(err, "%s: out of memory", name);
    }
    memcpy(text, json, len);
    text[len] = '\0';
    load_ctx c = {kb, name, text, len, err, 0, 0};
    int rc = read_document(&c);
    free(text);
    if (rc != BASE_OK || finish(kb, name, out, err) != BASE_OK) {
        core_kb_free(kb);
        return BASE_ERR;
    }
    return BASE_OK;
}

static int read_file(const char *path, char **text, size_t *len, base_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return base_error_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1)
            break;
        if (cap >= MAX_KB_FILE_BYTES) {
            free(buf);
            fclose(f);
            return base_error_set(err, "%s: larger than 16 MiB", path);
        }
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return base_error_set(err, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return base_error_set(err, "%s: read error", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return BASE_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

/* Sorted names of the *.json files in dir. */
static int list_json_files(const char *dir, char ***names, size_t *count, base_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return base_error_set(err, "%s: cannot open knowledge directory: %s", dir, strerror(errno));
    char **list = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with_json(e->d_name))
            continue;
        char **grown = realloc(list, (n + 1) * sizeof *grown);
        if (!grown || !(grown[n] = base_strdup(e->d_name))) {
            free_strings(grown ? grown : list, n);
            closedir(d);
            return base_error_set(err, "%s: out of memory", dir);
        }
        list = grown;
        n++;
    }
    closedir(d);
    if (n == 0) {
        free(list);
        return base_error_set(err, "%s: no .json files in the knowledge directory", dir);
    }
    qsort(list, n, sizeof *list, cmp_names);
    *names = list;
    *count = n;
    return BASE_OK;
}

int core_kb_load(const char *dir, core_kb **out, base_error *err)
{
    char **names = NULL;
    size_t n_names = 0;
    if (list_json_files(dir, &names, &n_names, err) != BASE_OK)
        return BASE_ERR;
    core_kb *kb = calloc(1, sizeof *kb);
    int rc = kb ? BASE_OK : base_error_set(err, "%s: out of memory", dir);
    if (kb) {
        set_defaults(kb);
        kb->dir = base_strdup(dir);
    }
    for (size_t i = 0; rc == BASE_OK && i < n_names; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        char *text = NULL;
        size_t len = 0;
        if (!path) {
            rc = base_error_set(err, "%s: out of memory", dir);
            break;
        }
        snprintf(path, plen, "%s/%s", dir, names[i]);
        rc = read_file(path, &text, &len, err);
        if (rc == BASE_OK) {
            load_ctx c = {kb, path, text, len, err, 0, 0};
            rc = read_document(&c);
        }
        free(text);
        free(path);
    }
    free_strings(names, n_names);
    if (rc == BASE_OK)
        rc = finish(kb, dir, out, err);
    if (rc != BASE_OK)
        core_kb_free(kb);
    return rc;
}

void core_kb_free(core_kb *kb)
{
    if (!kb)
        return;
    for (size_t i = 0; i < kb->n_topics; i++)
        free_topic(&kb->topics[i]);
    free(kb->topics);
    core_lexicon *lx = &kb->lexicon;
    for (size_t i = 0; i < lx->n_synonyms; i++)
        free_strings(lx->synonyms[i].words, lx->synonyms[i].n);
    free(lx->synonyms);
    for (size_t i = 0; i < lx->n_exact; i++)
        free_strings(lx->exact[i].words, lx->exact[i].n);
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
