#include "net/curl_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Debian's libcurl4 (OpenSSL flavour) and libcurl3-gnutls share the soname. */
static const char *const library_names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"};

static net_curl_api api;
static int loaded;

/* dlsym hands back an object pointer; POSIX guarantees it converts to a
 * function pointer, and copying the bytes keeps the compiler quiet about it. */
static int bind_symbol(void *lib, const char *name, void *slot, char *err, size_t errlen)
{
    void *sym = dlsym(lib, name);
    if (!sym) {
        snprintf(err, errlen, "http: libcurl lacks %s", name);
        return -1;
    }
    memcpy(slot, &sym, sizeof sym);
    return 0;
}

int net_curl_load(char *err, size_t errlen)
{
    if (loaded)
        return 0;
    void *lib = NULL;
    for (size_t i = 0; !lib && i < sizeof library_names / sizeof library_names[0]; i++)
        lib = dlopen(library_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "http: cannot load libcurl (install libcurl4): %s", dlerror());
        return -1;
    }
    net_curl_api a;
    if (bind_symbol(lib, "curl_global_init", &a.global_init, err, errlen) ||
        bind_symbol(lib, "curl_easy_init", &a.easy_init, err, errlen) ||
        bind_symbol(lib, "curl_easy_setopt", &a.easy_setopt, err, errlen) ||
        bind_symbol(lib, "curl_easy_getinfo", &a.easy_getinfo, err, errlen) ||
        bind_symbol(lib, "curl_easy_cleanup", &a.easy_cleanup, err, errlen) ||
        bind_symbol(lib, "curl_easy_strerror", &a.easy_strerror, err, errlen) ||
        bind_symbol(lib, "curl_easy_escape", &a.easy_escape, err, errlen) || bind_symbol(lib, "curl_free", &a.free, err, errlen) ||
        bind_symbol(lib, "curl_multi_init", &a.multi_init, err, errlen) ||
        bind_symbol(lib, "curl_multi_setopt", &a.multi_setopt, err, errlen) ||
        bind_symbol(lib, "curl_multi_add_handle", &a.multi_add_handle, err, errlen) ||
        bind_symbol(lib, "curl_multi_remove_handle", &a.multi_remove_handle, err, errlen) ||
        bind_symbol(lib, "curl_multi_assign", &a.multi_assign, err, errlen) ||
        bind_symbol(lib, "curl_multi_socket_action", &a.multi_socket_action, err, errlen) ||
        bind_symbol(lib, "curl_multi_info_read", &a.multi_info_read, err, errlen) ||
        bind_symbol(lib, "curl_multi_cleanup", &a.multi_cleanup, err, errlen) ||
        bind_symbol(lib, "curl_slist_append", &a.slist_append, err, errlen) ||
        bind_symbol(lib, "curl_slist_free_all", &a.slist_free_all, err, errlen)) {
        dlclose(lib);
        return -1;
    }
    /* curl_global_init is not thread-safe; careerbot runs on one thread. */
    if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "http: curl_global_init failed");
        dlclose(lib);
        return -1;
    }
    api = a;
    loaded = 1; /* the library stays loaded for the life of the process */
    return 0;
}

const net_curl_api *net_curl(void)
{
    return &api;
}
