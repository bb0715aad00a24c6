/* SASL for IRC (IRCv3 sasl-3.1/3.2), without I/O: the mechanisms' exchanges
 * as pure functions over the decoded payloads, and the base64 helpers that the
 * AUTHENTICATE command needs. The session (irc_session.c) chooses the
 * mechanism, cuts payloads into 400-byte AUTHENTICATE lines and joins the
 * server's pieces; this file only computes.
 *
 * Mechanisms:
 *   EXTERNAL                  the TLS client certificate logs in; the response is empty
 *   ECDSA-NIST256P-CHALLENGE  the account name, then an ECDSA P-256 signature of the
 *                             server's challenge with the configured key
 *   SCRAM-SHA-512/256         RFC 5802 with RFC 7677's hashes: client nonce, salted
 *                             password (PBKDF2), client proof, and a check of the
 *                             server's signature (a server that cannot prove it knows
 *                             the password is refused)
 *   PLAIN                     authzid NUL authcid NUL password
 * Every buffer that held a secret is wiped before it is freed. */
#ifndef IRC_SASL_H
#define IRC_SASL_H

#include <stddef.h>

#include "base/error.h"

typedef enum irc_sasl_mech {
    IRC_SASL_NONE = 0,
    IRC_SASL_EXTERNAL,
    IRC_SASL_ECDSA,
    IRC_SASL_SCRAM_SHA512,
    IRC_SASL_SCRAM_SHA256,
    IRC_SASL_PLAIN,
    IRC_SASL_N_MECHS
} irc_sasl_mech;

#define IRC_SASL_BIT(m) (1u << (unsigned)(m))

/* Limits a server's SCRAM parameters must keep to. */
#define IRC_SASL_SCRAM_MAX_ITERATIONS 1000000
#define IRC_SASL_MAX_MESSAGE 8192 /* decoded bytes of one server message */

/* "SCRAM-SHA-256" and so on; "" for IRC_SASL_NONE. */
const char *irc_sasl_mech_name(irc_sasl_mech m);
/* The mechanism named by the first len bytes of name (any case), or IRC_SASL_NONE. */
irc_sasl_mech irc_sasl_mech_from_name(const char *name, size_t len);
/* A comma-separated list ("PLAIN,EXTERNAL,SCRAM-SHA-256") as IRC_SASL_BITs;
 * names this file does not know are skipped. */
unsigned irc_sasl_parse_mechs(const char *list);

typedef struct irc_sasl_credentials {
    const char *user;          /* the account (authcid); NULL for EXTERNAL */
    const char *password;      /* SCRAM and PLAIN */
    const char *ecdsa_key_pem; /* ECDSA-NIST256P-CHALLENGE: the private key, PEM text */
} irc_sasl_credentials;

/* Can mechanism m log in with these credentials (client_cert: a TLS client
 * certificate is in use on this connection)? */
int irc_sasl_usable(irc_sasl_mech m, const irc_sasl_credentials *c, int client_cert);

typedef struct irc_sasl irc_sasl;

enum {
    IRC_SASL_CONTINUE = 0, /* send the response (possibly empty: "+") */
    IRC_SASL_FAILED = -1,  /* give up: err says why */
};

/* One exchange with mechanism m. Copies the credentials it needs. NULL with err
 * filled on a bad key or missing credentials. */
irc_sasl *irc_sasl_new(irc_sasl_mech m, const irc_sasl_credentials *c, base_error *err);
/* Tests only: the SCRAM client nonce to use instead of a random one (printable ASCII, no comma). */
int irc_sasl_set_nonce(irc_sasl *x, const char *nonce);
/* One step: in is the server's decoded message (empty for "+"). On
 * IRC_SASL_CONTINUE *out holds the response (*out_len bytes, *out NULL when
 * empty), to be released with irc_sasl_response_free. */
int irc_sasl_step(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                  base_error *err);
/* 1 once the exchange is complete as far as the client can tell: for SCRAM,
 * the server's signature was checked; for the others, the response was sent. */
int irc_sasl_complete(const irc_sasl *x);
/* Wipes and frees a response. */
void irc_sasl_response_free(unsigned char *out, size_t len);
/* Wipes and frees. NULL is fine. */
void irc_sasl_free(irc_sasl *x);

/* Base64 (RFC 4648, with padding). encode returns a NUL-terminated string to
 * free with irc_sasl_response_free(p, strlen(p)) (it may encode a secret), or
 * NULL. decode returns BASE_OK and a buffer to free the same way, or BASE_ERR
 * for anything that is not base64. */
char *irc_sasl_b64_encode(const unsigned char *data, size_t len);
int irc_sasl_b64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len);

#endif
