/* TLS client over memory buffers: OpenSSL with no sockets and no event loop.
 *
 * The module never touches a file descriptor. The connection code owns the socket (a
 * uv_tcp stream) and moves bytes in both directions:
 *
 *   t = net_tls_client_new(&opts, &err);                 ClientHello is now queued
 *   net_tls_write(t, "NICK ...\r\n", n);                 fine before the handshake: buffered
 *   on connect:     send what net_tls_take_output() gives
 *   on socket data: net_tls_feed(t, data, n);
 *                   while ((n = net_tls_read(t, buf, sizeof buf)) > 0) handle(buf, n);
 *                   n == NET_TLS_CLOSED: the server said close_notify (clean end)
 *                   n == NET_TLS_ERROR:  log net_tls_error(t) and drop the connection
 *                   send what net_tls_take_output() gives
 *   to send:        net_tls_write(t, data, n); send what net_tls_take_output() gives
 *   to quit:        net_tls_close(t); send what net_tls_take_output() gives; close the socket
 *   net_tls_free(t);
 *
 * Rule: after every call into this module, drain net_tls_take_output() to the socket
 * (handshake messages, KeyUpdate replies, renegotiation and alerts appear there at any
 * time, not only after net_tls_write). And after every net_tls_feed, call net_tls_read until
 * it returns <= 0: post-handshake messages (TLS 1.3 session tickets, KeyUpdate, TLS 1.2
 * renegotiation) are processed there, and a read that returns 0 is not an error.
 *
 * A TCP end-of-stream before net_tls_read returned NET_TLS_CLOSED means the stream was cut
 * (possibly truncated by an attacker); IRC has its own framing, so log it and reconnect.
 *
 * Certificate checks (TLS 1.2 is the minimum version):
 *   pin_sha256 set      only the server certificate's SHA-256 fingerprint counts: a match
 *                       is accepted (self-signed, expired, any name), anything else is
 *                       refused. verify and ca_file are ignored.
 *   verify = 1          the chain must lead to the system store or ca_file, and the
 *                       certificate must be for server_name (DNS name, or an IP address
 *                       literal checked against the IP SANs).
 *   verify = 0          no check at all (explicit opt-out; the connection is encrypted
 *                       but not authenticated).
 * SNI carries server_name unless it is an IP literal (RFC 6066 forbids IPs there).
 *
 * Errors are values: functions return NET_TLS_ERROR (or NULL) and net_tls_error() holds a
 * message fit for an operator's log, e.g.
 *   "certificate verify failed: host name mismatch (expected irc.example.org, the
 *    certificate is for other.example, 192.0.2.1)"
 *   "certificate verify failed: untrusted certificate (self-signed certificate): CN=x,
 *    sha256=AB:CD:...; add its CA with ca_file or pin this fingerprint"
 *   "certificate fingerprint mismatch: got sha256=AB:..., expected sha256=12:..."
 * After an error every call keeps failing (except take_output, which may still hold the
 * alert OpenSSL queued for the server, and free). Nothing here exits or aborts; every
 * function accepts a NULL net_tls. */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stddef.h>

#include "base/error.h"

enum {
    NET_TLS_OK = 0,
    NET_TLS_ERROR = -1,  /* fatal: see net_tls_error() */
    NET_TLS_CLOSED = -2, /* net_tls_read: the server sent close_notify */
};

/* Buffer size for a fingerprint in the form "AB:CD:...:EF" (32 bytes as 95 characters
 * plus the NUL). */
#define NET_TLS_FINGERPRINT_SIZE 96

typedef struct net_tls net_tls;

typedef struct net_tls_options {
    const char *server_name; /* SNI and the name to verify: "irc.example.org", "127.0.0.1",
                                "::1" (brackets and one trailing dot are accepted). Required
                                when verify is on and no pin is set; may be NULL otherwise. */
    int verify;              /* 1: verify chain and host name (what the config defaults to);
                                0: accept any certificate */
    const char *ca_file;     /* PEM bundle trusted in addition to the system store (e.g. a
                                self-signed server certificate or a private CA); NULL: none */
    const char *pin_sha256;  /* SHA-256 of the server certificate (DER): 64 hex digits, any
                                case, colons or spaces allowed, optional "sha256=" prefix;
                                NULL or "": no pin */
    const char *cert_file;   /* a client certificate (PEM, chain allowed) shown to the server,
                                e.g. for CertFP and SASL EXTERNAL; NULL: none */
    const char *key_file;    /* its private key (PEM); NULL: the key is in cert_file */
} net_tls_options;

/* Creates a client session and starts the handshake (the ClientHello is then waiting in
 * net_tls_take_output). Returns NULL on bad options, a CA file that cannot be loaded, or
 * a client certificate or key that cannot be loaded or do not belong together, with the
 * reason in err (which may be NULL). */
net_tls *net_tls_client_new(const net_tls_options *o, base_error *err);

/* Releases everything; buffered plaintext is wiped first. NULL is fine. Sends nothing:
 * call net_tls_close first for a clean end. */
void net_tls_free(net_tls *t);

/* Ciphertext received from the network. Advances the handshake; returns NET_TLS_OK, or
 * NET_TLS_ERROR when the bytes made the session fail (bad certificate, garbage, alert). */
int net_tls_feed(net_tls *t, const void *data, size_t len);

/* Plaintext received: returns the number of bytes copied (> 0, at most cap and INT_MAX),
 * 0 when there is nothing yet (feed more ciphertext), NET_TLS_CLOSED once the server has
 * sent close_notify, or NET_TLS_ERROR. One call returns at most one TLS record (16 KiB):
 * loop until it returns <= 0. */
int net_tls_read(net_tls *t, void *buf, size_t cap);

/* Plaintext to send. Always takes all len bytes: they are encrypted at once when the
 * handshake is done, otherwise kept and sent right after it (in order). Returns NET_TLS_OK,
 * or NET_TLS_ERROR (the session failed, or net_tls_close was called). */
int net_tls_write(net_tls *t, const void *data, size_t len);

/* Ciphertext waiting for the network: copies up to cap bytes into buf and returns how
 * many (0: none). Loop until it returns 0. */
size_t net_tls_take_output(net_tls *t, void *buf, size_t cap);

/* Bytes net_tls_take_output would give right now (to size a buffer or skip a write). */
size_t net_tls_output_pending(const net_tls *t);

/* 1 once the handshake has completed (and the certificate passed the checks), else 0. */
int net_tls_handshake_done(const net_tls *t);

/* The negotiated protocol, "TLSv1.2" or "TLSv1.3", or "" before the handshake. */
const char *net_tls_protocol(const net_tls *t);

/* Why the session failed; "" while it has not. The first error is kept (later ones are
 * its consequences), so the string stays valid and unchanged until net_tls_free. */
const char *net_tls_error(const net_tls *t);

/* Queues close_notify (sent through net_tls_take_output) after any plaintext already
 * written. Further net_tls_write calls fail; net_tls_read still returns what the server
 * sends until its own close_notify. Before the handshake is done there is nothing to
 * say: buffered plaintext is dropped and nothing is queued. Returns NET_TLS_OK or
 * NET_TLS_ERROR. Calling it twice is harmless. */
int net_tls_close(net_tls *t);

/* The server certificate's SHA-256 fingerprint as "AB:CD:..." (what pin_sha256 takes),
 * known once the handshake is done, or once verification has seen the certificate (so
 * also after an "untrusted certificate" failure: log it as "pin this: sha256=..."). Returns
 * NET_TLS_OK, or NET_TLS_ERROR when unknown or cap < NET_TLS_FINGERPRINT_SIZE. */
int net_tls_peer_fingerprint(const net_tls *t, char *out, size_t cap);

/* The fingerprint, in the same form, of the first certificate in a PEM file. Returns
 * NET_TLS_OK, or NET_TLS_ERROR (unreadable file, no certificate, cap too small). */
int net_tls_fingerprint_sha256(const char *pem_file, char *out, size_t cap);

/* The SHA-256 and SHA-512 fingerprints of the first certificate in a PEM file, as
 * lower-case hex without separators (what services such as NickServ's CERT ADD take):
 * sha256 needs 65 bytes, sha512 129. Returns NET_TLS_OK or NET_TLS_ERROR. */
int net_tls_cert_fingerprints(const char *pem_file, char sha256[65], char sha512[129]);

#endif
