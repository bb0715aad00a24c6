#include "core/spelling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CAREERBOT_HUNSPELL_DIR
#define CAREERBOT_HUNSPELL_DIR "/usr/share/hunspell"
#endif

const char *core_spelling_dir(void)
{
    /* hunspell's DICPATH may list several folders; the first is used. */
    static char first[1024];
    const char *path = getenv("DICPATH");
    if (!path || !*path)
        return CAREERBOT_HUNSPELL_DIR;
    size_t n = strcspn(path, ":");
    if (n >= sizeof first)
        return CAREERBOT_HUNSPELL_DIR;
    memcpy(first, path, n);
    first[n] = '\0';
    return first;
}

#ifdef CAREERBOT_HAVE_HUNSPELL

#include <dlfcn.h>
#include <hunspell/hunspell.h>
#include <unistd.h>

/* libhunspell is loaded when a lexicon first asks for it: linked, it and
 * the C++ runtime it needs would add about 1.2 MB to every process, also
 * when spelling help is off. Loaded once, kept for the process. */
static struct hunspell_api {
    void *lib;
    Hunhandle *(*create)(const char *, const char *);
    void (*destroy)(Hunhandle *);
    int (*add_dic)(Hunhandle *, const char *);
    int (*add)(Hunhandle *, const char *);
    int (*spell)(Hunhandle *, const char *);
    int (*suggest)(Hunhandle *, char ***, const char *);
    void (*free_list)(Hunhandle *, char ***, int);
} api;

static int load_symbol(void *fn_ptr, const char *name)
{
    void *sym = dlsym(api.lib, name);
    memcpy(fn_ptr, &sym, sizeof sym); /* POSIX: a data pointer from dlsym holds a function */
    return sym ? 0 : -1;
}

static int load_api(base_error *err)
{
    if (api.lib)
        return BASE_OK;
    void *lib = dlopen(CAREERBOT_HUNSPELL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return base_error_set(err, "cannot load %s", CAREERBOT_HUNSPELL_LIBRARY);
    api.lib = lib;
    if (load_symbol(&api.create, "Hunspell_create") || load_symbol(&api.destroy, "Hunspell_destroy") ||
        load_symbol(&api.add_dic, "Hunspell_add_dic") || load_symbol(&api.add, "Hunspell_add") ||
        load_symbol(&api.spell, "Hunspell_spell") || load_symbol(&api.suggest, "Hunspell_suggest") ||
        load_symbol(&api.free_list, "Hunspell_free_list")) {
        dlclose(lib);
        memset(&api, 0, sizeof api);
        return base_error_set(err, "%s lacks the hunspell functions", CAREERBOT_HUNSPELL_LIBRARY);
    }
    return BASE_OK;
}

struct core_spelling {
    Hunhandle *h;
};

static int dictionary_path(char *out, size_t cap, const char *dir, const char *name, const char *ext)
{
    if (strchr(name, '/') || (size_t)snprintf(out, cap, "%s/%s.%s", dir, name, ext) >= cap)
        return -1;
    return access(out, R_OK);
}

core_spelling *core_spelling_new(const char *dir, const char *const *names, size_t n, base_error *err)
{
    char aff[1024], dic[1024];
    if (n == 0) {
        base_error_set(err, "no hunspell dictionary named");
        return NULL;
    }
    /* hunspell itself reports a missing file on standard error only: look first. */
    if (dictionary_path(aff, sizeof aff, dir, names[0], "aff") != 0 ||
        dictionary_path(dic, sizeof dic, dir, names[0], "dic") != 0) {
        base_error_set(err, "no hunspell dictionary %s (.aff and .dic) in %s", names[0], dir);
        return NULL;
    }
    if (load_api(err) != BASE_OK)
        return NULL;
    core_spelling *sp = calloc(1, sizeof *sp);
    if (!sp || !(sp->h = api.create(aff, dic))) {
        free(sp);
        base_error_set(err, "cannot load the hunspell dictionary %s", dic);
        return NULL;
    }
    for (size_t i = 1; i < n; i++) {
        if (dictionary_path(dic, sizeof dic, dir, names[i], "dic") != 0 || api.add_dic(sp->h, dic) != 0) {
            base_error_set(err, "no hunspell word list %s.dic in %s", names[i], dir);
            core_spelling_free(sp);
            return NULL;
        }
    }
    return sp;
}

void core_spelling_free(core_spelling *sp)
{
    if (!sp)
        return;
    api.destroy(sp->h);
    free(sp);
}

int core_spelling_add(core_spelling *sp, const char *word)
{
    return api.add(sp->h, word) == 0 ? 0 : -1;
}

int core_spelling_is_right(core_spelling *sp, const char *word)
{
    if (api.spell(sp->h, word))
        return 1;
    /* Questions arrive case-folded: "texas" is Texas and "mcat" is MCAT,
     * names hunspell knows only with their capitals. */
    char buf[64];
    size_t n = strlen(word);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, word, n + 1);
    buf[0] = (char)(buf[0] >= 'a' && buf[0] <= 'z' ? buf[0] - 32 : buf[0]);
    if (api.spell(sp->h, buf))
        return 1;
    for (size_t i = 1; i < n; i++)
        buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
    return api.spell(sp->h, buf) != 0;
}

static int is_lower_word(const char *s)
{
    for (; *s; s++)
        if (*s < 'a' || *s > 'z')
            return 0;
    return 1;
}

int core_spelling_suggest(core_spelling *sp, const char *word, int max,
                          int (*accept)(void *ctx, const char *suggestion, size_t len), void *ctx)
{
    char **list = NULL;
    int n = api.suggest(sp->h, &list, word), found = -1, seen = 0;
    for (int i = 0; i < n && seen < max && found < 0; i++) {
        if (!is_lower_word(list[i])) /* "Valery", "me dial", "k-odder" */
            continue;
        seen++;
        if (accept(ctx, list[i], strlen(list[i])))
            found = i;
    }
    if (list)
        api.free_list(sp->h, &list, n);
    return found;
}

#else /* built without hunspell */

core_spelling *core_spelling_new(const char *dir, const char *const *names, size_t n, base_error *err)
{
    (void)dir;
    (void)names;
    (void)n;
    base_error_set(err, "built without hunspell");
    return NULL;
}

void core_spelling_free(core_spelling *sp)
{
    (void)sp;
}

int core_spelling_add(core_spelling *sp, const char *word)
{
    (void)sp;
    (void)word;
    return -1;
}

int core_spelling_is_right(core_spelling *sp, const char *word)
{
    (void)sp;
    (void)word;
    return 0;
}

int core_spelling_suggest(core_spelling *sp, const char *word, int max,
                          int (*accept)(void *ctx, const char *suggestion, size_t len), void *ctx)
{
    (void)sp;
    (void)word;
    (void)max;
    (void)accept;
    (void)ctx;
    return -1;
}

#endif
