/* IRCv3 Strict Transport Security (the "sts" capability): the policy a server
 * advertises, parsed without I/O, and the store that keeps the policies of TLS
 * connections across restarts (irc_sts_store.c, a file in the state directory).
 *
 * On a plaintext connection, a policy with a port means: reconnect with TLS to
 * that port now. On a TLS connection, a policy with a duration means: for that
 * many seconds, never connect to this host without TLS (0 removes the policy). */
#ifndef IRC_STS_H
#define IRC_STS_H

#include <stddef.h>

#include "base/error.h"

typedef struct irc_sts_value {
    int port;           /* 1-65535; 0 when the value names none */
    long long duration; /* seconds, >= 0; -1 when the value names none */
    int preload;        /* the "preload" key is present */
} irc_sts_value;

/* "port=6697,duration=2592000,preload" -> out. Unknown keys are skipped; a
 * malformed port or duration makes the whole value malformed (BASE_ERR), as the
 * specification says a client must ignore such a policy. */
int irc_sts_parse(const char *value, irc_sts_value *out);

/* ---- the store (file I/O; in the irc library, not the protocol one) ---- */

/* The policy file holds one line per host, "host port expires" (expires in
 * Unix seconds). It is small (at most IRC_STS_MAX_POLICIES lines) and written
 * atomically: a temporary file, fsync, rename, fsync of the folder. */
#define IRC_STS_MAX_POLICIES 256

/* A live policy for host (any case) at time now: returns 1 and sets *port;
 * 0 when there is none (or it expired); BASE_ERR with err filled when the
 * file exists but cannot be read. */
int irc_sts_store_lookup(const char *path, const char *host, double now, int *port, base_error *err);
/* Stores (expires > now) or removes (expires <= now) host's policy; expired
 * policies of other hosts are dropped on the way. BASE_OK or BASE_ERR. */
int irc_sts_store_set(const char *path, const char *host, int port, double expires, double now, base_error *err);

#endif
