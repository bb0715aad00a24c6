/* The knowledge directory found at run time; the rules are in paths.h. */
#include "app/paths.h"

#include "base/str.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Compiled in by src/app/CMakeLists.txt; these defaults only serve a build
 * made some other way. */
#ifndef CAREERBOT_DATA_SUBDIR
#define CAREERBOT_DATA_SUBDIR "share/careerbot"
#endif
#ifndef CAREERBOT_BUILD_DIR
#define CAREERBOT_BUILD_DIR ""
#endif
#ifndef CAREERBOT_SOURCE_DIR
#define CAREERBOT_SOURCE_DIR ""
#endif

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* a + "/" + b (+ "/" + c when c is not NULL), malloc'd; one slash between parts. */
static char *join(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a);
    while (na > 1 && a[na - 1] == '/')
        na--;
    size_t n = na + strlen(b) + (c ? strlen(c) + 1 : 0) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%.*s%s%s%s%s", (int)na, a, na == 1 && a[0] == '/' ? "" : "/", b,
                 c ? "/" : "", c ? c : "");
    return p;
}

/* The folder that holds path's last part: "/a/b/c" -> "/a/b", "/c" -> "/". */
static char *parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return base_strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, path, n);
        p[n] = '\0';
    }
    return p;
}

/* True when both name the same existing folder, however they are spelled
 * (symbolic links, "..", a trailing slash). */
static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && *a && *b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISDIR(sa.st_mode) &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* <exe's folder>/../<data_subdir>/knowledge, written without the "..". */
static char *installed_dir(const char *exe_dir, const char *data_subdir)
{
    if (data_subdir[0] == '/')
        return join(data_subdir, "knowledge", NULL);
    char *prefix = parent(exe_dir);
    char *dir = prefix ? join(prefix, data_subdir, "knowledge") : NULL;
    free(prefix);
    return dir;
}

static char *chosen(char *path, app_knowledge_origin origin, app_knowledge_origin *out)
{
    if (path && out)
        *out = origin;
    return path;
}

char *app_paths_knowledge(const app_paths_input *in, app_knowledge_origin *origin)
{
    if (in->env && *in->env)
        return chosen(base_strdup(in->env), APP_KNOWLEDGE_ENV, origin);
    if (!in->exe || in->exe[0] != '/')
        return chosen(base_strdup("knowledge"), APP_KNOWLEDGE_CWD, origin);
    char *exe_dir = parent(in->exe);
    if (!exe_dir)
        return NULL;
    const char *subdir = in->data_subdir && *in->data_subdir ? in->data_subdir : CAREERBOT_DATA_SUBDIR;
    char *installed = installed_dir(exe_dir, subdir);
    char *result = installed;
    app_knowledge_origin from = APP_KNOWLEDGE_INSTALLED;
    if (installed && !is_dir(installed) && in->source_dir && *in->source_dir &&
        same_dir(exe_dir, in->build_dir)) {
        result = join(in->source_dir, "knowledge", NULL);
        from = APP_KNOWLEDGE_SOURCE;
        free(installed);
    }
    free(exe_dir);
    return chosen(result, from, origin);
}

char *app_paths_default_knowledge(app_knowledge_origin *origin)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0)
        exe[n] = '\0';
    app_paths_input in = {
        .env = getenv("CAREERBOT_KNOWLEDGE"),
        .exe = n > 0 ? exe : NULL,
        .data_subdir = CAREERBOT_DATA_SUBDIR,
        .build_dir = CAREERBOT_BUILD_DIR,
        .source_dir = CAREERBOT_SOURCE_DIR,
    };
    return app_paths_knowledge(&in, origin);
}

const char *app_paths_origin_name(app_knowledge_origin origin)
{
    switch (origin) {
    case APP_KNOWLEDGE_ENV: return "set by CAREERBOT_KNOWLEDGE";
    case APP_KNOWLEDGE_INSTALLED: return "the installed data directory";
    case APP_KNOWLEDGE_SOURCE: return "the source tree: this binary runs from its build folder";
    case APP_KNOWLEDGE_CWD: return "relative to the working directory";
    }
    return "";
}
