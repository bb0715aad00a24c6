/* A line-oriented client connection on libuv: non-blocking DNS (IPv4 and
 * IPv6, each address tried in turn), TCP, optional TLS through the memory-BIO
 * wrapper, CRLF framing with bounded lines. Protocol-agnostic: the IRC
 * network code sits on top of it. */
#ifndef NET_LINE_CONN_H
#define NET_LINE_CONN_H

#include <stddef.h>
#include <uv.h>

#include "net/tls.h"

typedef struct net_line_conn net_line_conn;

/* Bytes that may wait to be written (beyond what the kernel took) before the
 * connection is dropped as "not reading": a few seconds of any sane output. */
#define NET_LINE_CONN_WRITE_LIMIT (256 * 1024)

typedef struct net_line_conn_hooks {
    void *ctx;
    void (*connected)(void *ctx);                        /* TCP up and TLS (if any) verified */
    void (*line)(void *ctx, const char *line, size_t len); /* one line, CR/LF stripped */
    void (*closed)(void *ctx, const char *reason);       /* after any failure or close; once per open */
    void (*log)(void *ctx, int level, const char *text);
} net_line_conn_hooks;

net_line_conn *net_line_conn_new(uv_loop_t *loop, const net_line_conn_hooks *hooks, size_t max_line);
/* Starts connecting; progress and failure arrive through the hooks. tls NULL
 * means plain TCP. Returns 0, or -1 when a connection is already open. */
int net_line_conn_open(net_line_conn *c, const char *host, int port, const net_tls_options *tls,
                      double connect_timeout);
/* Sends one line (CRLF added). Returns 0, or -1 when not connected or when
 * the peer is not reading (the connection is then dropped). */
int net_line_conn_send(net_line_conn *c, const char *line, size_t len);
/* Sends bytes that are already framed as lines (each ending in CRLF), in one
 * write: several lines leave together instead of one packet each. */
int net_line_conn_write(net_line_conn *c, const char *data, size_t len);
/* Bytes handed to the socket that the kernel has not taken yet. */
size_t net_line_conn_pending(const net_line_conn *c);
/* Past this many waiting bytes a write fails the connection (the closed hook
 * says why); 0: NET_LINE_CONN_WRITE_LIMIT. */
void net_line_conn_set_write_limit(net_line_conn *c, size_t bytes);
/* Closes: graceful flushes what was sent and shuts the socket down first. The
 * closed hook follows. */
void net_line_conn_close(net_line_conn *c, int graceful, const char *reason);
int net_line_conn_is_open(const net_line_conn *c);
/* Releases c once its handles are closed (immediately when idle). No hook
 * is called after this. */
void net_line_conn_free(net_line_conn *c);

#endif
