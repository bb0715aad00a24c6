/* SASL mechanisms over decoded payloads (see irc_sasl.h), crypto by OpenSSL. */
#include "irc/irc_sasl.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define NONCE_BYTES 18   /* 24 base64 characters */
#define MAX_NONCE 256
#define MAX_SALT 1024

static const char *const names[IRC_SASL_N_MECHS] = {
    [IRC_SASL_NONE] = "",
    [IRC_SASL_EXTERNAL] = "EXTERNAL",
    [IRC_SASL_ECDSA] = "ECDSA-NIST256P-CHALLENGE",
    [IRC_SASL_SCRAM_SHA512] = "SCRAM-SHA-512",
    [IRC_SASL_SCRAM_SHA256] = "SCRAM-SHA-256",
    [IRC_SASL_PLAIN] = "PLAIN",
};

const char *irc_sasl_mech_name(irc_sasl_mech m)
{
    return m > IRC_SASL_NONE && m < IRC_SASL_N_MECHS ? names[m] : "";
}

irc_sasl_mech irc_sasl_mech_from_name(const char *name, size_t len)
{
    for (int m = IRC_SASL_NONE + 1; m < IRC_SASL_N_MECHS; m++)
        if (strlen(names[m]) == len && strncasecmp(names[m], name, len) == 0)
            return (irc_sasl_mech)m;
    return IRC_SASL_NONE;
}

unsigned irc_sasl_parse_mechs(const char *list)
{
    unsigned bits = 0;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ", ");
        irc_sasl_mech m = irc_sasl_mech_from_name(p, n);
        if (m != IRC_SASL_NONE)
            bits |= IRC_SASL_BIT(m);
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return bits;
}

int irc_sasl_usable(irc_sasl_mech m, const irc_sasl_credentials *c, int client_cert)
{
    int user = c->user && c->user[0];
    switch (m) {
    case IRC_SASL_EXTERNAL:
        return client_cert;
    case IRC_SASL_ECDSA:
        return user && c->ecdsa_key_pem && c->ecdsa_key_pem[0];
    case IRC_SASL_SCRAM_SHA512:
    case IRC_SASL_SCRAM_SHA256:
    case IRC_SASL_PLAIN:
        return user && c->password;
    default:
        return 0;
    }
}

/* ---- buffers ------------------------------------------------------------- */

void irc_sasl_response_free(unsigned char *out, size_t len)
{
    if (!out)
        return;
    OPENSSL_cleanse(out, len);
    free(out);
}

static void secret_free(char *s)
{
    if (s)
        irc_sasl_response_free((unsigned char *)s, strlen(s));
}

static char *secret_dup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

char *irc_sasl_b64_encode(const unsigned char *data, size_t len)
{
    if (len > INT_MAX / 4 * 3 - 3)
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n > 0 ? n : 0] = '\0';
    return out;
}

static int b64_char(int c)
{
    return isalnum(c) || c == '+' || c == '/';
}

int irc_sasl_b64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0 || len > INT_MAX)
        return BASE_ERR;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)text[i];
        if (c == '=' && i + 2 >= len) {
            pad++;
        } else if (!b64_char(c) || pad) {
            return BASE_ERR; /* OpenSSL would skip spaces; a payload has none */
        }
    }
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    if (!buf)
        return BASE_ERR;
    int n = len ? EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len) : 0;
    if (n < 0 || (size_t)n < pad) {
        irc_sasl_response_free(buf, len / 4 * 3 + 1);
        return BASE_ERR;
    }
    *out = buf;
    *out_len = (size_t)n - pad; /* DecodeBlock counts the padding as bytes */
    return BASE_OK;
}

/* ---- the exchange ---------------------------------------------------------- */

struct irc_sasl {
    irc_sasl_mech mech;
    int step;
    int complete;
    char *user, *password;
    EVP_PKEY *key;
    /* SCRAM */
    const EVP_MD *md;
    char nonce[MAX_NONCE];
    char *client_first_bare;
    unsigned char server_sig[EVP_MAX_MD_SIZE];
    size_t sig_len;
};

static EVP_PKEY *load_ecdsa_key(const char *pem, base_error *err)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (!k) {
        base_error_set(err, "the ECDSA key is not a PEM private key");
        return NULL;
    }
    char group[64] = "";
    size_t glen = 0;
    if (!EVP_PKEY_is_a(k, "EC") || !EVP_PKEY_get_group_name(k, group, sizeof group, &glen) ||
        (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
        EVP_PKEY_free(k);
        base_error_set(err, "the ECDSA key must be an EC key on the P-256 (prime256v1) curve");
        return NULL;
    }
    return k;
}

irc_sasl *irc_sasl_new(irc_sasl_mech m, const irc_sasl_credentials *c, base_error *err)
{
    if (m == IRC_SASL_NONE || m >= IRC_SASL_N_MECHS) {
        base_error_set(err, "unknown SASL mechanism");
        return NULL;
    }
    if (m != IRC_SASL_EXTERNAL && !irc_sasl_usable(m, c, 0)) {
        base_error_set(err, "%s needs an account and %s", names[m], m == IRC_SASL_ECDSA ? "a key" : "a password");
        return NULL;
    }
    irc_sasl *x = calloc(1, sizeof *x);
    if (!x) {
        base_error_set(err, "out of memory");
        return NULL;
    }
    x->mech = m;
    x->user = secret_dup(c->user);
    x->password = secret_dup(c->password);
    if ((c->user && !x->user) || (c->password && !x->password)) {
        irc_sasl_free(x);
        base_error_set(err, "out of memory");
        return NULL;
    }
    if (m == IRC_SASL_ECDSA && !(x->key = load_ecdsa_key(c->ecdsa_key_pem, err))) {
        irc_sasl_free(x);
        return NULL;
    }
    if (m == IRC_SASL_SCRAM_SHA256 || m == IRC_SASL_SCRAM_SHA512) {
        x->md = m == IRC_SASL_SCRAM_SHA256 ? EVP_sha256() : EVP_sha512();
        unsigned char raw[NONCE_BYTES];
        char *b64 = NULL;
        if (RAND_bytes(raw, sizeof raw) != 1 || !(b64 = irc_sasl_b64_encode(raw, sizeof raw))) {
            irc_sasl_free(x);
            base_error_set(err, "cannot make a SCRAM nonce");
            return NULL;
        }
        snprintf(x->nonce, sizeof x->nonce, "%s", b64);
        free(b64);
    }
    return x;
}

int irc_sasl_set_nonce(irc_sasl *x, const char *nonce)
{
    size_t n = strlen(nonce);
    if (n == 0 || n >= sizeof x->nonce)
        return BASE_ERR;
    for (size_t i = 0; i < n; i++)
        if (nonce[i] <= ' ' || nonce[i] > '~' || nonce[i] == ',')
            return BASE_ERR;
    memcpy(x->nonce, nonce, n + 1);
    return BASE_OK;
}

void irc_sasl_free(irc_sasl *x)
{
    if (!x)
        return;
    secret_free(x->user);
    secret_free(x->password);
    secret_free(x->client_first_bare);
    EVP_PKEY_free(x->key);
    OPENSSL_cleanse(x, sizeof *x);
    free(x);
}

int irc_sasl_complete(const irc_sasl *x)
{
    return x && x->complete;
}

/* A copy of n bytes in a fresh buffer (the response). */
static int respond(const void *data, size_t n, unsigned char **out, size_t *out_len, base_error *err)
{
    *out = NULL;
    *out_len = n;
    if (n == 0)
        return IRC_SASL_CONTINUE;
    if (!(*out = malloc(n)))
        return base_error_set(err, "out of memory");
    memcpy(*out, data, n);
    return IRC_SASL_CONTINUE;
}

static int step_plain(irc_sasl *x, unsigned char **out, size_t *out_len, base_error *err)
{
    size_t u = strlen(x->user), p = strlen(x->password);
    size_t n = u + 1 + u + 1 + p;
    unsigned char *buf = malloc(n);
    if (!buf)
        return base_error_set(err, "out of memory");
    memcpy(buf, x->user, u);
    buf[u] = 0;
    memcpy(buf + u + 1, x->user, u);
    buf[2 * u + 1] = 0;
    memcpy(buf + 2 * u + 2, x->password, p);
    *out = buf;
    *out_len = n;
    x->complete = 1;
    return IRC_SASL_CONTINUE;
}

static int step_ecdsa(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                      base_error *err)
{
    if (x->step == 1)
        return respond(x->user, strlen(x->user), out, out_len, err);
    /* The challenge is signed as it is (it plays the part of the digest). */
    if (in_len < 16 || in_len > 64)
        return base_error_set(err, "the server's ECDSA challenge has %zu bytes (expected 32)", in_len);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(x->key, NULL);
    size_t sig_len = 0;
    unsigned char *sig = NULL;
    int ok = ctx && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_sign(ctx, NULL, &sig_len, in, in_len) == 1 &&
             (sig = malloc(sig_len)) && EVP_PKEY_sign(ctx, sig, &sig_len, in, in_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        free(sig);
        return base_error_set(err, "cannot sign the ECDSA challenge");
    }
    *out = sig;
    *out_len = sig_len;
    x->complete = 1;
    return IRC_SASL_CONTINUE;
}

/* ---- SCRAM (RFC 5802, RFC 7677) -------------------------------------------- */

/* saslname: "=" and "," escaped as "=3D" and "=2C". */
static char *saslname(const char *user)
{
    size_t n = 0;
    for (const char *p = user; *p; p++)
        n += (*p == '=' || *p == ',') ? 3 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = user; *p; p++) {
        if (*p == '=' || *p == ',') {
            memcpy(o, *p == '=' ? "=3D" : "=2C", 3);
            o += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int scram_first(irc_sasl *x, unsigned char **out, size_t *out_len, base_error *err)
{
    char *name = saslname(x->user);
    if (!name)
        return base_error_set(err, "out of memory");
    size_t n = strlen(name) + strlen(x->nonce) + 8;
    x->client_first_bare = malloc(n);
    if (!x->client_first_bare) {
        free(name);
        return base_error_set(err, "out of memory");
    }
    snprintf(x->client_first_bare, n, "n=%s,r=%s", name, x->nonce);
    free(name);
    /* gs2 header "n,,": no channel binding, no authzid. */
    char *msg = malloc(strlen(x->client_first_bare) + 4);
    if (!msg)
        return base_error_set(err, "out of memory");
    sprintf(msg, "n,,%s", x->client_first_bare);
    *out = (unsigned char *)msg;
    *out_len = strlen(msg);
    return IRC_SASL_CONTINUE;
}

typedef struct scram_server_first {
    const char *nonce;
    size_t nonce_len;
    const char *salt;
    size_t salt_len;
    long iterations;
} scram_server_first;

/* r=...,s=...,i=...[,ext...] with nothing before r= (a mandatory extension m=
 * is refused, as RFC 5802 says). */
static int parse_server_first(const char *msg, size_t len, scram_server_first *sf, base_error *err)
{
    memset(sf, 0, sizeof *sf);
    sf->iterations = -1;
    const char *p = msg, *end = msg + len;
    int field = 0;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        size_t n = (size_t)(stop - p);
        if (n < 2 || p[1] != '=')
            return base_error_set(err, "malformed SCRAM server-first message");
        char k = p[0];
        const char *v = p + 2;
        size_t vn = n - 2;
        if (field == 0 && k == 'm')
            return base_error_set(err, "the server requires a SCRAM extension we do not support");
        if (k == 'e')
            return base_error_set(err, "the server refused SCRAM: %.*s", (int)(vn > 100 ? 100 : vn), v);
        if (field == 0 && k != 'r')
            return base_error_set(err, "malformed SCRAM server-first message (no nonce first)");
        if (k == 'r' && field == 0) {
            sf->nonce = v;
            sf->nonce_len = vn;
        } else if (k == 's' && field == 1) {
            sf->salt = v;
            sf->salt_len = vn;
        } else if (k == 'i' && field == 2) {
            long it = 0;
            if (vn == 0 || vn > 9)
                return base_error_set(err, "the server's SCRAM iteration count is out of range");
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return base_error_set(err, "the server's SCRAM iteration count is not a number");
                it = it * 10 + (v[i] - '0');
            }
            sf->iterations = it;
        } else if (field < 3) {
            return base_error_set(err, "malformed SCRAM server-first message (r, s, i out of order)");
        }
        field++;
        p = comma ? comma + 1 : end;
    }
    if (!sf->nonce || !sf->salt || sf->iterations < 0)
        return base_error_set(err, "malformed SCRAM server-first message (r, s or i missing)");
    return BASE_OK;
}

static int hmac(const EVP_MD *md, const void *key, size_t key_len, const void *data, size_t len,
                unsigned char *out)
{
    unsigned int n = 0;
    return HMAC(md, key, (int)key_len, data, len, out, &n) != NULL ? (int)n : -1;
}

static int scram_final(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                       base_error *err)
{
    scram_server_first sf;
    if (parse_server_first((const char *)in, in_len, &sf, err) != BASE_OK)
        return IRC_SASL_FAILED;
    size_t cn = strlen(x->nonce);
    if (sf.nonce_len <= cn || sf.nonce_len >= MAX_NONCE || memcmp(sf.nonce, x->nonce, cn) != 0)
        return base_error_set(err, "the server's SCRAM nonce does not extend ours");
    for (size_t i = 0; i < sf.nonce_len; i++)
        if (sf.nonce[i] <= ' ' || sf.nonce[i] > '~')
            return base_error_set(err, "the server's SCRAM nonce is not printable");
    if (sf.iterations < 1 || sf.iterations > IRC_SASL_SCRAM_MAX_ITERATIONS)
        return base_error_set(err, "the server's SCRAM iteration count %ld is out of range (1-%d)", sf.iterations,
                              IRC_SASL_SCRAM_MAX_ITERATIONS);
    unsigned char *salt = NULL;
    size_t salt_len = 0;
    if (sf.salt_len > MAX_SALT * 4 / 3 + 4 || irc_sasl_b64_decode(sf.salt, sf.salt_len, &salt, &salt_len) != BASE_OK ||
        salt_len == 0) {
        irc_sasl_response_free(salt, salt_len);
        return base_error_set(err, "the server's SCRAM salt is not base64");
    }

    const EVP_MD *md = x->md;
    int hlen = EVP_MD_get_size(md);
    unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE], stored_key[EVP_MAX_MD_SIZE],
        client_sig[EVP_MAX_MD_SIZE], server_key[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
    unsigned int slen = 0;
    int ok = PKCS5_PBKDF2_HMAC(x->password, (int)strlen(x->password), salt, (int)salt_len, (int)sf.iterations, md,
                               hlen, salted) == 1;
    irc_sasl_response_free(salt, salt_len);

    /* client-final-message-without-proof, then AuthMessage. */
    char *without_proof = malloc(sf.nonce_len + 16);
    size_t am_len = strlen(x->client_first_bare) + 1 + in_len + 1 + sf.nonce_len + 16;
    char *auth_message = malloc(am_len);
    char *proof_b64 = NULL, *msg = NULL;
    if (!without_proof || !auth_message)
        ok = 0;
    if (auth_message)
        auth_message[0] = '\0';
    if (ok) {
        snprintf(without_proof, sf.nonce_len + 16, "c=biws,r=%.*s", (int)sf.nonce_len, sf.nonce);
        snprintf(auth_message, am_len, "%s,%.*s,%s", x->client_first_bare, (int)in_len, (const char *)in,
                 without_proof);
        size_t al = strlen(auth_message);
        ok = hmac(md, salted, (size_t)hlen, "Client Key", 10, client_key) == hlen &&
             EVP_Digest(client_key, (size_t)hlen, stored_key, &slen, md, NULL) == 1 &&
             hmac(md, stored_key, (size_t)hlen, auth_message, al, client_sig) == hlen &&
             hmac(md, salted, (size_t)hlen, "Server Key", 10, server_key) == hlen &&
             hmac(md, server_key, (size_t)hlen, auth_message, al, x->server_sig) == hlen;
        x->sig_len = (size_t)hlen;
    }
    if (ok) {
        for (int i = 0; i < hlen; i++)
            proof[i] = client_key[i] ^ client_sig[i];
        ok = (proof_b64 = irc_sasl_b64_encode(proof, (size_t)hlen)) != NULL;
    }
    if (ok) {
        size_t n = strlen(without_proof) + 3 + strlen(proof_b64) + 1;
        if ((msg = malloc(n)))
            snprintf(msg, n, "%s,p=%s", without_proof, proof_b64);
        ok = msg != NULL;
    }
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(stored_key, sizeof stored_key);
    OPENSSL_cleanse(client_sig, sizeof client_sig);
    OPENSSL_cleanse(server_key, sizeof server_key);
    OPENSSL_cleanse(proof, sizeof proof);
    secret_free(proof_b64);
    free(without_proof);
    if (auth_message)
        irc_sasl_response_free((unsigned char *)auth_message, strlen(auth_message));
    ERR_clear_error();
    if (!ok)
        return base_error_set(err, "SCRAM computation failed");
    *out = (unsigned char *)msg;
    *out_len = strlen(msg);
    return IRC_SASL_CONTINUE;
}

static int scram_verify(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                        base_error *err)
{
    const char *msg = (const char *)in;
    if (in_len >= 2 && msg[0] == 'e' && msg[1] == '=')
        return base_error_set(err, "the server refused the SCRAM proof: %.*s", (int)(in_len > 102 ? 100 : in_len - 2),
                              msg + 2);
    if (in_len < 2 || msg[0] != 'v' || msg[1] != '=')
        return base_error_set(err, "malformed SCRAM server-final message");
    size_t vn = strcspn(msg + 2, ",");
    if (vn > in_len - 2)
        vn = in_len - 2;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    if (irc_sasl_b64_decode(msg + 2, vn, &sig, &sig_len) != BASE_OK)
        return base_error_set(err, "malformed SCRAM server signature");
    int good = sig_len == x->sig_len && CRYPTO_memcmp(sig, x->server_sig, sig_len) == 0;
    irc_sasl_response_free(sig, sig_len);
    if (!good)
        return base_error_set(err, "the server's SCRAM signature is wrong: it does not know the password "
                                   "(or someone is in the middle)");
    x->complete = 1;
    return respond(NULL, 0, out, out_len, err);
}

static int step_scram(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                      base_error *err)
{
    if (x->step == 1)
        return scram_first(x, out, out_len, err);
    if (x->step == 2)
        return scram_final(x, in, in_len, out, out_len, err);
    return scram_verify(x, in, in_len, out, out_len, err);
}

int irc_sasl_step(irc_sasl *x, const unsigned char *in, size_t in_len, unsigned char **out, size_t *out_len,
                  base_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!x)
        return base_error_set(err, "no SASL exchange");
    if (in_len > IRC_SASL_MAX_MESSAGE)
        return base_error_set(err, "the server's SASL message is too long (%zu bytes)", in_len);
    if (x->complete)
        return base_error_set(err, "the server sent more after %s was done", names[x->mech]);
    x->step++;
    /* The first server message of every mechanism here is empty ("+"). */
    if (x->step == 1 && in_len != 0)
        return base_error_set(err, "the server sent data before %s began", names[x->mech]);
    switch (x->mech) {
    case IRC_SASL_EXTERNAL:
        x->complete = 1;
        return respond(NULL, 0, out, out_len, err);
    case IRC_SASL_PLAIN:
        return step_plain(x, out, out_len, err);
    case IRC_SASL_ECDSA:
        return step_ecdsa(x, in, in_len, out, out_len, err);
    case IRC_SASL_SCRAM_SHA256:
    case IRC_SASL_SCRAM_SHA512:
        return step_scram(x, in, in_len, out, out_len, err);
    default:
        return base_error_set(err, "unknown SASL mechanism");
    }
}
