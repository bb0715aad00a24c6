#include "chat/runtime_state.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/str.h"

#define NAME_MAX_LEN 255

void chat_runtime_init(chat_runtime *rt, chat_casemap map, int exact)
{
    memset(rt, 0, sizeof *rt);
    rt->casemap = map;
    rt->exact = exact;
}

static void clear(chat_runtime *rt)
{
    for (size_t i = 0; i < rt->n_joined; i++)
        free(rt->joined_keys[i]);
    free(rt->joined_keys);
    base_strv_free(rt->joined, rt->n_joined);
    base_strv_free(rt->parted, rt->n_parted);
    base_strv_free(rt->ignored, rt->n_ignored);
    base_strv_free(rt->unignored, rt->n_unignored);
    rt->joined = rt->joined_keys = rt->parted = rt->ignored = rt->unignored = NULL;
    rt->n_joined = rt->n_parted = rt->n_ignored = rt->n_unignored = 0;
}

void chat_runtime_free(chat_runtime *rt)
{
    clear(rt);
}

static int same(const chat_runtime *rt, const char *a, const char *b)
{
    return rt->exact ? strcmp(a, b) == 0 : chat_name_equal(a, b, rt->casemap);
}

static size_t find(const chat_runtime *rt, char *const *items, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (same(rt, items[i], name))
            return i;
    return (size_t)-1;
}

/* Adds a copy of name (and of key, into keys when keys is not NULL) unless
 * it is there; an entry that is there gets the new key. */
static int add(const chat_runtime *rt, char ***items, char ***keys, size_t *n, const char *name, const char *key)
{
    size_t at = find(rt, *items, *n, name);
    char *kcopy = key && *key ? base_strdup(key) : NULL;
    if (key && *key && !kcopy)
        return BASE_ERR;
    if (at != (size_t)-1) {
        if (keys) {
            free((*keys)[at]);
            (*keys)[at] = kcopy;
        }
        return BASE_OK;
    }
    char *copy = *n < CHAT_RUNTIME_MAX ? base_strdup(name) : NULL;
    char **grown = copy ? realloc(*items, (*n + 1) * sizeof *grown) : NULL;
    if (grown)
        *items = grown;
    char **kgrown = grown && keys ? realloc(*keys, (*n + 1) * sizeof *kgrown) : NULL;
    if (kgrown)
        *keys = kgrown;
    if (!grown || (keys && !kgrown)) {
        free(copy);
        free(kcopy);
        return BASE_ERR;
    }
    (*items)[*n] = copy;
    if (keys)
        (*keys)[*n] = kcopy;
    (*n)++;
    return BASE_OK;
}

static void drop(const chat_runtime *rt, char **items, char **keys, size_t *n, const char *name)
{
    size_t at = find(rt, items, *n, name);
    if (at == (size_t)-1)
        return;
    free(items[at]);
    items[at] = items[*n - 1];
    if (keys) {
        free(keys[at]);
        keys[at] = keys[*n - 1];
    }
    (*n)--;
}

int chat_runtime_join(chat_runtime *rt, const char *name, const char *key, int configured)
{
    /* A configured channel needs only its part undone, unless a new key came. */
    if (!configured || (key && *key)) {
        if (add(rt, &rt->joined, &rt->joined_keys, &rt->n_joined, name, key ? key : "") != BASE_OK)
            return BASE_ERR;
    }
    drop(rt, rt->parted, NULL, &rt->n_parted, name);
    return BASE_OK;
}

int chat_runtime_part(chat_runtime *rt, const char *name, int configured)
{
    if (configured && add(rt, &rt->parted, NULL, &rt->n_parted, name, NULL) != BASE_OK)
        return BASE_ERR;
    drop(rt, rt->joined, rt->joined_keys, &rt->n_joined, name);
    return BASE_OK;
}

int chat_runtime_ignore(chat_runtime *rt, const char *who, int configured)
{
    if (!configured && add(rt, &rt->ignored, NULL, &rt->n_ignored, who, NULL) != BASE_OK)
        return BASE_ERR;
    drop(rt, rt->unignored, NULL, &rt->n_unignored, who);
    return BASE_OK;
}

int chat_runtime_unignore(chat_runtime *rt, const char *who, int configured)
{
    if (configured && add(rt, &rt->unignored, NULL, &rt->n_unignored, who, NULL) != BASE_OK)
        return BASE_ERR;
    drop(rt, rt->ignored, NULL, &rt->n_ignored, who);
    return BASE_OK;
}

int chat_runtime_is_parted(const chat_runtime *rt, const char *name)
{
    return find(rt, rt->parted, rt->n_parted, name) != (size_t)-1;
}

int chat_runtime_is_unignored(const chat_runtime *rt, const char *who)
{
    return find(rt, rt->unignored, rt->n_unignored, who) != (size_t)-1;
}

size_t chat_runtime_ignores(const chat_runtime *rt, const char *const *configured, size_t n_configured,
                            const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < n_configured; i++)
        if (!chat_runtime_is_unignored(rt, configured[i]))
            out[n++] = configured[i];
    for (size_t i = 0; i < rt->n_ignored; i++)
        out[n++] = rt->ignored[i];
    return n;
}

/* ---- the file --------------------------------------------------------------- */

static json_t *string_array(char *const *items, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(items[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

char *chat_runtime_to_json(const chat_runtime *rt)
{
    json_t *joined = json_array();
    for (size_t i = 0; joined && i < rt->n_joined; i++) {
        json_t *o = rt->joined_keys[i] ? json_pack("{s:s,s:s}", "name", rt->joined[i], "key", rt->joined_keys[i])
                                       : json_pack("{s:s}", "name", rt->joined[i]);
        if (!o || json_array_append_new(joined, o) != 0) {
            json_decref(joined);
            joined = NULL;
        }
    }
    json_t *root = joined ? json_pack("{s:i,s:o,s:o*,s:o*,s:o*}", "version", 1, "joined", joined, "parted",
                                      string_array(rt->parted, rt->n_parted), "ignored",
                                      string_array(rt->ignored, rt->n_ignored), "unignored",
                                      string_array(rt->unignored, rt->n_unignored))
                          : NULL;
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return text;
}

/* A name as this module writes them: 1-255 bytes, no control bytes or blanks. */
static const char *name_of(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > NAME_MAX_LEN)
        return NULL;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return NULL;
    return s;
}

static int read_list(chat_runtime *rt, const json_t *root, const char *field, char ***items, size_t *n,
                     base_error *err)
{
    const json_t *a = json_object_get(root, field);
    if (!a)
        return BASE_OK;
    if (!json_is_array(a) || json_array_size(a) > CHAT_RUNTIME_MAX)
        return base_error_set(err, "\"%s\" must be a list of at most %d names", field, CHAT_RUNTIME_MAX);
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = name_of(v);
        if (!s)
            return base_error_set(err, "\"%s\" item %zu is not a name", field, i + 1);
        if (add(rt, items, NULL, n, s, NULL) != BASE_OK)
            return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

static int read_joined(chat_runtime *rt, const json_t *root, base_error *err)
{
    const json_t *a = json_object_get(root, "joined");
    if (!a)
        return BASE_OK;
    if (!json_is_array(a) || json_array_size(a) > CHAT_RUNTIME_MAX)
        return base_error_set(err, "\"joined\" must be a list of at most %d channels", CHAT_RUNTIME_MAX);
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v) {
        const char *name = name_of(json_object_get(v, "name"));
        const json_t *k = json_object_get(v, "key");
        const char *key = k ? name_of(k) : "";
        if (!name || !key)
            return base_error_set(err, "\"joined\" item %zu is not a channel with an optional key", i + 1);
        if (add(rt, &rt->joined, &rt->joined_keys, &rt->n_joined, name, key) != BASE_OK)
            return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

int chat_runtime_from_json(chat_runtime *rt, const char *text, size_t len, base_error *err)
{
    clear(rt);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return base_error_set(err, "not JSON (line %d: %s)", jerr.line, jerr.text);
    int rc = BASE_OK;
    if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1)
        rc = base_error_set(err, "not a careerbot runtime state file (version 1)");
    if (rc == BASE_OK)
        rc = read_joined(rt, root, err);
    if (rc == BASE_OK)
        rc = read_list(rt, root, "parted", &rt->parted, &rt->n_parted, err);
    if (rc == BASE_OK)
        rc = read_list(rt, root, "ignored", &rt->ignored, &rt->n_ignored, err);
    if (rc == BASE_OK)
        rc = read_list(rt, root, "unignored", &rt->unignored, &rt->n_unignored, err);
    json_decref(root);
    if (rc != BASE_OK)
        clear(rt);
    return rc;
}

int chat_runtime_load(chat_runtime *rt, const char *path, base_error *err)
{
    clear(rt);
    char *text;
    size_t len;
    int rc = base_file_read(path, CHAT_RUNTIME_FILE_MAX, &text, &len, err);
    if (rc == 1)
        return BASE_OK;
    if (rc != BASE_OK)
        return BASE_ERR;
    base_error inner;
    rc = chat_runtime_from_json(rt, text, len, &inner);
    free(text);
    if (rc != BASE_OK)
        return base_error_set(err, "%s is damaged: %s", path, inner.text);
    return BASE_OK;
}

int chat_runtime_save(const chat_runtime *rt, const char *dir, const char *name, base_error *err)
{
    char *text = chat_runtime_to_json(rt);
    if (!text)
        return base_error_set(err, "out of memory");
    int rc = base_file_replace(dir, name, text, strlen(text), err);
    free(text);
    return rc;
}
