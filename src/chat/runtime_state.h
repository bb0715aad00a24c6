/* What operators changed at runtime on one network, kept across restarts:
 * channels or rooms joined and parted, people ignored and unignored, as
 * changes to the configuration (channels in force = configured - parted +
 * joined; ignored = configured + added - removed), so that editing the
 * configuration still means something. Kept as a small JSON file in the
 * state directory (mode 0600, replaced atomically). A file that cannot be
 * read or is damaged is reported and not used: the configuration alone
 * applies then. */
#ifndef CHAT_RUNTIME_STATE_H
#define CHAT_RUNTIME_STATE_H

#include <stddef.h>

#include "base/error.h"
#include "chat/address.h"

#define CHAT_RUNTIME_MAX 256             /* items in each list, at most */
#define CHAT_RUNTIME_FILE_MAX (64 * 1024) /* bytes of the file, at most */

typedef struct chat_runtime {
    char **joined, **joined_keys; /* a key per joined channel, NULL when none */
    size_t n_joined;
    char **parted;
    size_t n_parted;
    char **ignored;
    size_t n_ignored;
    char **unignored;
    size_t n_unignored;
    chat_casemap casemap; /* how names compare (IRC: the server's) */
    int exact;            /* Matrix: ids compare exactly */
} chat_runtime;

void chat_runtime_init(chat_runtime *rt, chat_casemap map, int exact);
void chat_runtime_free(chat_runtime *rt);

/* The changes; configured says whether the name is in the configuration.
 * BASE_ERR when out of memory or a list is full (nothing changes then). */
int chat_runtime_join(chat_runtime *rt, const char *name, const char *key, int configured);
int chat_runtime_part(chat_runtime *rt, const char *name, int configured);
int chat_runtime_ignore(chat_runtime *rt, const char *who, int configured);
int chat_runtime_unignore(chat_runtime *rt, const char *who, int configured);

/* A configured channel an operator parted, a configured ignore an operator
 * removed. */
int chat_runtime_is_parted(const chat_runtime *rt, const char *name);
int chat_runtime_is_unignored(const chat_runtime *rt, const char *who);

/* The ignore list in force, as borrowed pointers into configured and rt:
 * out must hold n_configured + rt->n_ignored. Returns how many. */
size_t chat_runtime_ignores(const chat_runtime *rt, const char *const *configured, size_t n_configured,
                            const char **out);

/* Reads path into rt (emptied first). A missing file is no change
 * (BASE_OK); one that cannot be read, is too large or is not what this
 * module writes is BASE_ERR with err filled, rt left empty. */
int chat_runtime_load(chat_runtime *rt, const char *path, base_error *err);
/* Writes rt as dir/name (mode 0600, through a temporary file). */
int chat_runtime_save(const chat_runtime *rt, const char *dir, const char *name, base_error *err);
/* The JSON text of rt (malloc'd), and rt from one; for the file and the tests. */
char *chat_runtime_to_json(const chat_runtime *rt);
int chat_runtime_from_json(chat_runtime *rt, const char *text, size_t len, base_error *err);

#endif
