/* Temporary directories and files for the tests, removed even when a
 * failing test skips its own clean-up. */
#include "test_files.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories made and not yet removed: a failing test longjmps past its
 * clean-up, so whatever is left is removed when the program exits. */
#define MAX_TEMP_DIRS 64
static char *temp_dirs[MAX_TEMP_DIRS];

static void untrack_dir(const char *dir);

void tu_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                tu_remove_dir(path); /* tests may make nested state directories */
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    untrack_dir(dir);
}

static void remove_left_over_dirs(void)
{
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (temp_dirs[i]) {
            char *dir = temp_dirs[i];
            temp_dirs[i] = NULL;
            tu_remove_dir(dir);
            free(dir);
        }
    }
}

static void track_dir(const char *dir)
{
    static int registered;
    if (!registered) {
        atexit(remove_left_over_dirs);
        registered = 1;
    }
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (!temp_dirs[i]) {
            temp_dirs[i] = strdup(dir);
            return;
        }
    }
}

static void untrack_dir(const char *dir)
{
    for (int i = 0; i < MAX_TEMP_DIRS; i++) {
        if (temp_dirs[i] && !strcmp(temp_dirs[i], dir)) {
            free(temp_dirs[i]);
            temp_dirs[i] = NULL;
        }
    }
}

char *tu_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/careerbot-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *made = mkdtemp(path);
    assert_non_null(made);
    char *out = strdup(made);
    assert_non_null(out);
    track_dir(out);
    return out;
}

void tu_write(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

void tu_rmtree(char *dir)
{
    if (!dir)
        return;
    tu_remove_dir(dir);
    free(dir);
}

char *tu_read(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}
