/* The state file of a Matrix account: JSON in, JSON out, and an atomic,
 * durable replace. */
#include "matrix/matrix_state.h"

#include "base/file.h"
#include "base/str.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION 1
#define STATE_FILE_MAX (64u << 20)

int matrix_strset_has(const matrix_strset *s, const char *item)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i], item) == 0)
            return 1;
    return 0;
}

int matrix_strset_add(matrix_strset *s, const char *item)
{
    if (matrix_strset_has(s, item))
        return 0;
    char **grown = realloc(s->items, (s->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->items = grown;
    if (!(grown[s->n] = base_strdup(item)))
        return -1;
    s->n++;
    return 1;
}

int matrix_strset_remove(matrix_strset *s, const char *item)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i], item) == 0) {
            free(s->items[i]);
            s->items[i] = s->items[--s->n];
            return 1;
        }
    return 0;
}

void matrix_strset_free(matrix_strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

const char *matrix_strmap_get(const matrix_strmap *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->values[i];
    return NULL;
}

int matrix_strmap_set(matrix_strmap *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->keys[i], key) != 0)
            continue;
        if (!value) {
            free(m->keys[i]);
            free(m->values[i]);
            m->keys[i] = m->keys[--m->n];
            m->values[i] = m->values[m->n];
            return 0;
        }
        char *copy = base_strdup(value);
        if (!copy)
            return -1;
        free(m->values[i]);
        m->values[i] = copy;
        return 0;
    }
    if (!value)
        return 0;
    char **keys = realloc(m->keys, (m->n + 1) * sizeof *keys);
    if (keys)
        m->keys = keys;
    char **values = keys ? realloc(m->values, (m->n + 1) * sizeof *values) : NULL;
    if (values)
        m->values = values;
    char *k = values ? base_strdup(key) : NULL, *v = k ? base_strdup(value) : NULL;
    if (!v) {
        free(k);
        return -1;
    }
    m->keys[m->n] = k;
    m->values[m->n++] = v;
    return 0;
}

void matrix_strmap_free(matrix_strmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof *m);
}

void matrix_state_free(matrix_state *s)
{
    free(s->user_id);
    free(s->device_id);
    free(s->next_batch);
    matrix_strset_free(&s->encrypted);
    matrix_strset_free(&s->told_encrypted);
    matrix_strset_free(&s->direct_invites);
    matrix_strset_free(&s->direct_account);
    matrix_strset_free(&s->rooms);
    matrix_strmap_free(&s->room_names);
    matrix_outbox_free(&s->outbox);
    memset(s, 0, sizeof *s);
}

/* ---- JSON ------------------------------------------------------------------ */

static int set_list(json_t *root, const char *key, const matrix_strset *set)
{
    json_t *list = json_array();
    if (!list || json_object_set_new(root, key, list) != 0)
        return -1;
    for (size_t i = 0; i < set->n; i++)
        if (json_array_append_new(list, json_string(set->items[i])) != 0)
            return -1;
    return 0;
}

static int set_opt_string(json_t *root, const char *key, const char *value)
{
    return json_object_set_new(root, key, value ? json_string(value) : json_null());
}

char *matrix_state_to_json(const matrix_state *s)
{
    json_t *root = json_object(), *outbox = json_array();
    int failed = !root || !outbox || json_object_set_new(root, "outbox", outbox) != 0;
    if (failed) {
        json_decref(root);
        if (!root)
            json_decref(outbox);
        return NULL;
    }
    failed |= json_object_set_new(root, "version", json_integer(STATE_VERSION)) != 0;
    failed |= set_opt_string(root, "user_id", s->user_id) != 0;
    failed |= set_opt_string(root, "device_id", s->device_id) != 0;
    failed |= set_opt_string(root, "next_batch", s->next_batch) != 0;
    failed |= set_list(root, "encrypted", &s->encrypted) != 0;
    failed |= set_list(root, "told_encrypted", &s->told_encrypted) != 0;
    failed |= set_list(root, "direct_invites", &s->direct_invites) != 0;
    failed |= set_list(root, "direct_account", &s->direct_account) != 0;
    if (s->rooms_known)
        failed |= set_list(root, "rooms", &s->rooms) != 0;
    json_t *names = json_object();
    failed |= !names || json_object_set_new(root, "room_names", names) != 0;
    for (size_t i = 0; !failed && i < s->room_names.n; i++)
        failed |= json_object_set_new(names, s->room_names.keys[i], json_string(s->room_names.values[i])) != 0;
    for (size_t i = 0; !failed && i < s->outbox.n; i++) {
        const matrix_outbox_item *it = &s->outbox.items[i];
        json_t *content = json_loads(it->content, 0, NULL);
        json_t *item = content ? json_pack("{s:s, s:s, s:o}", "room_id", it->room_id, "txn_id", it->txn_id,
                                           "content", content)
                               : NULL;
        failed = !item || json_array_append_new(outbox, item) != 0;
    }
    char *text = failed ? NULL : json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    return text;
}

static int read_opt_string(const json_t *root, const char *key, char **out, base_error *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v))
        return BASE_OK;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return base_error_set(err, "%s is not a string", key);
    return (*out = base_strdup(json_string_value(v))) ? BASE_OK : base_error_set(err, "out of memory");
}

static int read_list(const json_t *root, const char *key, matrix_strset *set, base_error *err)
{
    const json_t *list = json_object_get(root, key);
    size_t i;
    const json_t *v;
    if (!list)
        return BASE_OK;
    if (!json_is_array(list))
        return base_error_set(err, "%s is not a list", key);
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return base_error_set(err, "%s[%zu] is not a string", key, i);
        if (matrix_strset_add(set, json_string_value(v)) < 0)
            return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

static int read_outbox(const json_t *root, matrix_outbox *o, base_error *err)
{
    const json_t *list = json_object_get(root, "outbox");
    size_t i;
    const json_t *v;
    if (!list)
        return BASE_OK;
    if (!json_is_array(list))
        return base_error_set(err, "outbox is not a list");
    json_array_foreach(list, i, v) {
        const char *room = json_string_value(json_object_get(v, "room_id"));
        const char *txn = json_string_value(json_object_get(v, "txn_id"));
        const json_t *content = json_object_get(v, "content");
        if (!room || !txn || !*txn || !json_is_object(content))
            return base_error_set(err, "outbox[%zu] needs room_id, txn_id and content", i);
        char *text = json_dumps(content, JSON_COMPACT);
        int rc = text ? matrix_outbox_add(o, room, txn, text, 0) : -1;
        free(text);
        if (rc < 0)
            return base_error_set(err, "out of memory");
    }
    return BASE_OK;
}

int matrix_state_from_json(const char *text, size_t len, matrix_state *s, base_error *err)
{
    memset(s, 0, sizeof *s);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return base_error_set(err, "not JSON (line %d: %s)", jerr.line, jerr.text);
    int rc = BASE_OK;
    const json_t *version = json_object_get(root, "version");
    if (!json_is_object(root) || !json_is_integer(version) || json_integer_value(version) != STATE_VERSION)
        rc = base_error_set(err, "not a version %d state file", STATE_VERSION);
    if (rc == BASE_OK)
        rc = read_opt_string(root, "user_id", &s->user_id, err);
    if (rc == BASE_OK)
        rc = read_opt_string(root, "device_id", &s->device_id, err);
    if (rc == BASE_OK)
        rc = read_opt_string(root, "next_batch", &s->next_batch, err);
    if (rc == BASE_OK)
        rc = read_list(root, "encrypted", &s->encrypted, err);
    if (rc == BASE_OK)
        rc = read_list(root, "told_encrypted", &s->told_encrypted, err);
    if (rc == BASE_OK)
        rc = read_list(root, "direct_invites", &s->direct_invites, err);
    if (rc == BASE_OK)
        rc = read_list(root, "direct_account", &s->direct_account, err);
    if (rc == BASE_OK)
        rc = read_list(root, "rooms", &s->rooms, err);
    s->rooms_known = json_is_array(json_object_get(root, "rooms"));
    const json_t *names = json_object_get(root, "room_names");
    if (rc == BASE_OK && names && !json_is_object(names))
        rc = base_error_set(err, "room_names is not an object");
    const char *room;
    const json_t *name;
    json_object_foreach((json_t *)names, room, name) {
        if (rc == BASE_OK && json_is_string(name) &&
            matrix_strmap_set(&s->room_names, room, json_string_value(name)) < 0)
            rc = base_error_set(err, "out of memory");
    }
    if (rc == BASE_OK)
        rc = read_outbox(root, &s->outbox, err);
    json_decref(root);
    if (rc != BASE_OK)
        matrix_state_free(s);
    return rc;
}

/* ---- files ----------------------------------------------------------------- */

int matrix_state_dir_create(const char *dir, base_error *err)
{
    char *path = base_strdup(dir);
    if (!path)
        return base_error_set(err, "out of memory");
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char was = *p;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = base_error_set(err, "cannot create the state directory %s: %s", path, strerror(e));
            free(path);
            return rc;
        }
        *p = was;
        if (!was)
            break;
    }
    free(path);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return base_error_set(err, "the state directory %s is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return base_error_set(err, "cannot write in the state directory %s: %s", dir, strerror(errno));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return base_error_set(err, "the state directory %s may be written by %s (mode %04o): whoever can write "
                              "there can make the bot post anything; run: chmod go-w %s", dir,
                              st.st_mode & S_IWOTH ? "anyone" : "its group", (unsigned)(st.st_mode & 07777), dir);
    return BASE_OK;
}

int matrix_state_load(const char *dir, matrix_state *s, base_error *err)
{
    memset(s, 0, sizeof *s);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, MATRIX_STATE_FILE) >= sizeof path)
        return base_error_set(err, "state directory path too long");
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? BASE_OK : base_error_set(err, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
        fclose(f);
        return base_error_set(err, "%s may be written by %s (mode %04o): whoever can write it can make the bot "
                              "post anything; run: chmod go-w %s", path, st.st_mode & S_IWOTH ? "anyone" : "its group",
                              (unsigned)(st.st_mode & 07777), path);
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = BASE_OK;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = cap <= STATE_FILE_MAX ? realloc(text, cap) : NULL;
            if (!grown) {
                rc = base_error_set(err, "%s is too large", path);
                break;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (rc == BASE_OK && ferror(f))
        rc = base_error_set(err, "cannot read %s", path);
    fclose(f);
    if (rc == BASE_OK) {
        base_error inner;
        if (matrix_state_from_json(text, len, s, &inner) != BASE_OK)
            rc = base_error_set(err, "%s is damaged (%s); move it away to start over (the bot then skips the "
                              "messages sent while it was away)", path, inner.text);
    }
    free(text);
    return rc;
}

int matrix_state_write_file(const char *dir, const char *name, const char *data, size_t len, base_error *err)
{
    return base_file_replace(dir, name, data, len, err);
}

int matrix_state_save(const char *dir, const matrix_state *s, base_error *err)
{
    char *text = matrix_state_to_json(s);
    if (!text)
        return base_error_set(err, "out of memory");
    int rc = matrix_state_write_file(dir, MATRIX_STATE_FILE, text, strlen(text), err);
    free(text);
    return rc;
}
