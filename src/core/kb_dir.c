/* The knowledge directory: its *.json files, read whole in name order, each
 * handed to the JSON reader (kb_json.c). */
#include "base/str.h"
#include "core/kb_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KB_FILE_BYTES (16u * 1024 * 1024)

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
            base_strv_free(grown ? grown : list, n);
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
    core_kb *kb = core_kb_new_empty();
    int rc = kb ? BASE_OK : base_error_set(err, "%s: out of memory", dir);
    if (kb)
        kb->dir = base_strdup(dir);
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
        if (rc == BASE_OK)
            rc = core_kb_read_json(kb, path, text, len, err);
        free(text);
        free(path);
    }
    base_strv_free(names, n_names);
    if (rc == BASE_OK)
        rc = core_kb_finish(kb, dir, err);
    if (rc != BASE_OK)
        core_kb_free(kb);
    else
        *out = kb;
    return rc;
}
