/* TLS client over memory BIOs (see tls.h).
 *
 * OpenSSL reads ciphertext from `in` (filled by net_tls_feed) and writes ciphertext to
 * `out` (drained by net_tls_take_output). Both are growable memory BIOs that report
 * "retry" rather than EOF when empty, so OpenSSL answers SSL_ERROR_WANT_READ and we just
 * wait for the next feed: the same code works on any event loop.
 *
 * Plaintext goes through our own `pending` buffer rather than straight into SSL_write:
 * it lets the caller write before the handshake is done (IRC registration goes out as
 * soon as the connection is up) and during a TLS 1.2 renegotiation, when SSL_write says
 * WANT_READ and must later be retried with the same arguments. */
#include "net/tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define FP_BYTES 32       /* SHA-256 digest */
#define NAME_MAX_LEN 253  /* longest DNS name */
#define NAMES_TEXT 200    /* room for a certificate's names in an error message */

struct net_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in;  /* ciphertext from the network; owned by ssl */
    BIO *out; /* ciphertext for the network; owned by ssl */

    unsigned char *pending; /* plaintext not yet taken by SSL_write */
    size_t pending_len, pending_cap;
    size_t retry_len; /* length of an SSL_write that asked to be retried, 0: none */

    int handshake_done;
    int failed;
    int closing;     /* net_tls_close was called */
    int peer_closed; /* close_notify received */

    int have_pin;
    unsigned char pin[FP_BYTES];
    int have_peer_fp;
    unsigned char peer_fp[FP_BYTES];

    char server_name[NAME_MAX_LEN + 1];
    char verify_err[512]; /* first certificate problem, from the callbacks */
    char err[512];
};

/* ------------------------------------------------------------------ small helpers */

/* Marks the session failed and keeps the first message: later ones are consequences. */
__attribute__((format(printf, 2, 3))) static int fail(net_tls *t, const char *fmt, ...)
{
    t->failed = 1;
    if (!t->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->err, sizeof t->err, fmt, ap);
        va_end(ap);
    }
    return NET_TLS_ERROR;
}

/* Keeps the first certificate problem found; a long one is cut, which is fine for a log. */
__attribute__((format(printf, 2, 3))) static void set_verify_err(net_tls *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->verify_err, sizeof t->verify_err, fmt, ap);
    va_end(ap);
}

/* The earliest error on OpenSSL's queue, in words, then clears the queue. The earliest
 * one is the cause; the rest are callers reporting it. */
static const char *openssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    if (e && ERR_SYSTEM_ERROR(e)) { /* errno from fopen and friends: "No such file..." */
        if (strerror_r((int)ERR_GET_REASON(e), buf, cap) != 0)
            snprintf(buf, cap, "system error %d", (int)ERR_GET_REASON(e));
    } else if (r)
        snprintf(buf, cap, "%s", r);
    else if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "unknown error");
    ERR_clear_error();
    return buf;
}

/* Copies n bytes of untrusted text (certificate contents) into out at *used, replacing
 * control and non-ASCII bytes so a certificate cannot forge log lines. */
static void append_clean(char *out, size_t cap, size_t *used, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *used + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[(*used)++] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
    }
    out[*used] = '\0';
}

static void hex_colons(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        out[3 * i] = digits[md[i] >> 4];
        out[3 * i + 1] = digits[md[i] & 15];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "sha256=AB:cd ..." or "abcd..." -> 32 bytes. Returns 0, or -1 unless exactly 64 hex
 * digits (separated by any colons and spaces) are found. */
static int parse_pin(const char *s, unsigned char out[FP_BYTES])
{
    size_t n = 0;
    int high = -1;

    if (strncasecmp(s, "sha256", 6) == 0 && (s[6] == '=' || s[6] == ':'))
        s += 7;
    for (; *s; s++) {
        if (*s == ':' || *s == ' ')
            continue;
        int v = hex_value(*s);
        if (v < 0 || n == FP_BYTES)
            return -1;
        if (high < 0) {
            high = v;
        } else {
            out[n++] = (unsigned char)(high << 4 | v);
            high = -1;
        }
    }
    return n == FP_BYTES && high < 0 ? 0 : -1;
}

static int fingerprint(X509 *x, unsigned char md[FP_BYTES])
{
    unsigned int len = 0;

    return X509_digest(x, EVP_sha256(), md, &len) == 1 && len == FP_BYTES ? 0 : -1;
}

/* The subject as "CN=x,O=y", cleaned for a log line. */
static void subject_text(X509 *x, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n = 0;
    size_t used = 0;

    out[0] = '\0';
    if (b && X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_get_mem_data(b, &data);
    if (data && n > 0)
        append_clean(out, cap, &used, data, (size_t)n);
    else
        snprintf(out, cap, "(no subject)");
    BIO_free(b);
}

static void append_general_name(const GENERAL_NAME *g, char *out, size_t cap, size_t *used)
{
    char ip[INET6_ADDRSTRLEN] = "";
    const char *sep = *used ? ", " : "";

    if (g->type == GEN_DNS) {
        append_clean(out, cap, used, sep, strlen(sep));
        append_clean(out, cap, used, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                     (size_t)ASN1_STRING_length(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
        int len = ASN1_STRING_length(g->d.iPAddress);
        const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
        int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
        if (af < 0 || !inet_ntop(af, a, ip, sizeof ip))
            snprintf(ip, sizeof ip, "(bad IP)");
        append_clean(out, cap, used, sep, strlen(sep));
        append_clean(out, cap, used, ip, strlen(ip));
    }
}

/* The names a certificate is valid for: its DNS and IP subject alternative names, or
 * its subject when it has none (what the operator needs to see on a mismatch). */
static void cert_names(X509 *x, char *out, size_t cap)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++)
        append_general_name(sk_GENERAL_NAME_value(names, i), out, cap, &used);
    GENERAL_NAMES_free(names);
    if (!used)
        subject_text(x, out, cap);
}

static int is_ip_literal(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* ------------------------------------------------------------ certificate checks */

static void remember_peer(net_tls *t, X509 *leaf)
{
    if (leaf && fingerprint(leaf, t->peer_fp) == 0)
        t->have_peer_fp = 1;
}

static int is_untrusted_error(int code)
{
    switch (code) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return 1;
    default:
        return 0;
    }
}

/* Writes the operator-facing reason for the verification error now on store. */
static void describe_verify_error(net_tls *t, X509_STORE_CTX *store)
{
    int code = X509_STORE_CTX_get_error(store);
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    X509 *bad = X509_STORE_CTX_get_current_cert(store);
    char text[NAMES_TEXT] = "", fp[NET_TLS_FINGERPRINT_SIZE] = "?";

    if (t->have_peer_fp)
        hex_colons(t->peer_fp, FP_BYTES, fp);
    if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        if (leaf)
            cert_names(leaf, text, sizeof text);
        set_verify_err(t,
                       "certificate verify failed: host name mismatch (expected %s, the "
                       "certificate is for %s)",
                       t->server_name, text);
    } else if (is_untrusted_error(code)) {
        if (leaf)
            subject_text(leaf, text, sizeof text);
        set_verify_err(t,
                       "certificate verify failed: untrusted certificate (%s): %s, sha256=%s; "
                       "trust its CA (a CA file option) or pin this fingerprint",
                       X509_verify_cert_error_string(code), text, fp);
    } else {
        if (bad)
            subject_text(bad, text, sizeof text);
        set_verify_err(t, "certificate verify failed: %s (%s, depth %d)",
                       X509_verify_cert_error_string(code), text,
                       X509_STORE_CTX_get_error_depth(store));
    }
}

/* Normal verification: OpenSSL decides (chain, dates, host name), we only keep the
 * first problem in words, because SSL's own error is a bare "certificate verify failed". */
static int on_verify(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    net_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;

    if (!t)
        return ok;
    remember_peer(t, X509_STORE_CTX_get0_cert(store));
    if (!ok && !t->verify_err[0])
        describe_verify_error(t, store);
    return ok;
}

/* Pinned verification replaces OpenSSL's whole chain check: the certificate is trusted
 * because it is this exact certificate, whoever signed it and whatever names it holds. */
static int on_verify_pin(X509_STORE_CTX *store, void *arg)
{
    net_tls *t = arg;
    char got[NET_TLS_FINGERPRINT_SIZE], want[NET_TLS_FINGERPRINT_SIZE];

    remember_peer(t, X509_STORE_CTX_get0_cert(store));
    if (!t->have_peer_fp) {
        set_verify_err(t, "certificate verify failed: the server sent no usable certificate");
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    if (CRYPTO_memcmp(t->peer_fp, t->pin, FP_BYTES) == 0) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    hex_colons(t->peer_fp, FP_BYTES, got);
    hex_colons(t->pin, FP_BYTES, want);
    set_verify_err(t, "certificate fingerprint mismatch: got sha256=%s, expected sha256=%s",
                   got, want);
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

/* ------------------------------------------------------------------- the engine */

/* Turns a failed SSL call into the session's error message. */
static int fail_ssl(net_tls *t, int ssl_error, const char *what)
{
    char reason[256];
    long vr = SSL_get_verify_result(t->ssl);

    if (t->verify_err[0]) {
        ERR_clear_error();
        return fail(t, "%s", t->verify_err);
    }
    if (vr != X509_V_OK && !t->handshake_done && SSL_get_verify_mode(t->ssl) != SSL_VERIFY_NONE) {
        ERR_clear_error();
        return fail(t, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
    }
    if (ssl_error == SSL_ERROR_ZERO_RETURN)
        return fail(t, "%s: the server closed the TLS session", what);
    return fail(t, "%s: %s", what, openssl_reason(reason, sizeof reason));
}

/* Drops the first n bytes of pending plaintext. */
static void pending_consume(net_tls *t, size_t n)
{
    if (n == 0)
        return;
    memmove(t->pending, t->pending + n, t->pending_len - n);
    t->pending_len -= n;
}

/* Hands pending plaintext to SSL_write. With SSL_MODE_ENABLE_PARTIAL_WRITE each call
 * takes at least one record; WANT_READ (renegotiation in progress) leaves the rest for
 * later, and the retry uses the same length as OpenSSL requires. */
static int flush_pending(net_tls *t)
{
    size_t done = 0;
    int rc = NET_TLS_OK;

    while (t->handshake_done && done < t->pending_len) {
        size_t len = t->retry_len ? t->retry_len : t->pending_len - done;
        size_t n = 0;

        ERR_clear_error();
        if (SSL_write_ex(t->ssl, t->pending + done, len, &n) == 1) {
            done += n;
            t->retry_len = 0;
            continue;
        }
        int e = SSL_get_error(t->ssl, 0);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            t->retry_len = len;
        else
            rc = fail_ssl(t, e, "TLS write failed");
        break;
    }
    pending_consume(t, done);
    return rc;
}

static int on_handshake_done(net_tls *t)
{
    t->handshake_done = 1;
    remember_peer(t, SSL_get0_peer_certificate(t->ssl));
    return flush_pending(t);
}

/* Moves the session forward as far as the input allows: handshake first, then any
 * plaintext that was waiting for it. */
static int advance(net_tls *t)
{
    if (t->failed)
        return NET_TLS_ERROR;
    if (t->handshake_done)
        return flush_pending(t);

    ERR_clear_error(); /* SSL_get_error reads the thread's queue: start it clean */
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1)
        return on_handshake_done(t);
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return NET_TLS_OK;
    return fail_ssl(t, e, "TLS handshake failed");
}

/* ---------------------------------------------------------------------- set-up */

/* Trust settings on the context: none, the pin, or the system store plus ca_file. */
static int setup_verify(net_tls *t, const net_tls_options *o)
{
    char reason[256];

    if (t->have_pin) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_cert_verify_callback(t->ctx, on_verify_pin, t);
        return NET_TLS_OK;
    }
    if (!o->verify) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
        return NET_TLS_OK;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, on_verify);
    /* A missing system store is not fatal: ca_file alone may be enough. */
    SSL_CTX_set_default_verify_paths(t->ctx);
    ERR_clear_error();
    if (o->ca_file && o->ca_file[0] && !SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL))
        return fail(t, "cannot load ca_file %s: %s", o->ca_file,
                    openssl_reason(reason, sizeof reason));
    return NET_TLS_OK;
}

/* The client certificate and its key, checked to belong together now rather
 * than found out from a server's refusal. */
static int setup_client_cert(net_tls *t, const net_tls_options *o)
{
    char reason[256];
    const char *key = o->key_file && o->key_file[0] ? o->key_file : o->cert_file;

    if (!o->cert_file || !o->cert_file[0])
        return NET_TLS_OK;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1)
        return fail(t, "cannot load the client certificate %s: %s", o->cert_file,
                    openssl_reason(reason, sizeof reason));
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            return fail(t, "the client key %s does not belong to the certificate %s", key, o->cert_file);
        }
        return fail(t, "cannot load the client key %s: %s", key, openssl_reason(reason, sizeof reason));
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1)
        return fail(t, "the client key %s does not belong to the certificate %s", key, o->cert_file);
    ERR_clear_error();
    return NET_TLS_OK;
}

static int setup_ctx(net_tls *t, const net_tls_options *o)
{
    char reason[256];

    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx)
        return fail(t, "cannot create TLS context: %s", openssl_reason(reason, sizeof reason));
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (setup_client_cert(t, o) != NET_TLS_OK)
        return NET_TLS_ERROR;
    return setup_verify(t, o);
}

/* Copies server_name without IPv6 brackets or a final dot (neither belongs in SNI or
 * in the name check). */
static int store_server_name(net_tls *t, const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len >= 2 && name[0] == '[' && name[len - 1] == ']') {
        name++;
        len -= 2;
    }
    if (len > 1 && name[len - 1] == '.')
        len--;
    if (len > NAME_MAX_LEN)
        return fail(t, "server_name is too long (%zu bytes)", len);
    memcpy(t->server_name, name ? name : "", len);
    t->server_name[len] = '\0';
    return NET_TLS_OK;
}

/* SNI for names only; the host name or IP address check when verifying without a pin. */
static int setup_peer_name(net_tls *t, const net_tls_options *o)
{
    const char *name = t->server_name;
    int check = o->verify && !t->have_pin;
    int ip = name[0] && is_ip_literal(name);

    if (check && !name[0])
        return fail(t, "server_name is required to verify the certificate");
    if (name[0] && !ip && !SSL_set_tlsext_host_name(t->ssl, name))
        return fail(t, "bad server_name \"%s\" for SNI", name);
    if (!check)
        return NET_TLS_OK;
    if (ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) != 1)
            return fail(t, "bad IP address \"%s\"", name);
        return NET_TLS_OK;
    }
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(t->ssl, name) != 1)
        return fail(t, "bad server_name \"%s\"", name);
    return NET_TLS_OK;
}

static int setup_ssl(net_tls *t, const net_tls_options *o)
{
    char reason[256];
    BIO *in, *out;

    t->ssl = SSL_new(t->ctx);
    if (!t->ssl)
        return fail(t, "cannot create TLS session: %s", openssl_reason(reason, sizeof reason));
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    if (!in || !out) {
        BIO_free(in);
        BIO_free(out);
        return fail(t, "out of memory");
    }
    /* Empty means "no data yet", not end of stream: OpenSSL then says WANT_READ. */
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(t->ssl, in, out); /* the session owns both BIOs from here */
    t->in = in;
    t->out = out;
    SSL_set_app_data(t->ssl, t);
    SSL_set_connect_state(t->ssl);
    return setup_peer_name(t, o);
}

static int setup(net_tls *t, const net_tls_options *o)
{
    if (o->pin_sha256 && o->pin_sha256[0]) {
        if (parse_pin(o->pin_sha256, t->pin) != 0)
            return fail(t, "pin_sha256 \"%.100s\" is not a SHA-256 fingerprint (64 hex digits)",
                        o->pin_sha256);
        t->have_pin = 1;
    }
    if (store_server_name(t, o->server_name) != NET_TLS_OK)
        return NET_TLS_ERROR;
    if (setup_ctx(t, o) != NET_TLS_OK || setup_ssl(t, o) != NET_TLS_OK)
        return NET_TLS_ERROR;
    return advance(t); /* queues the ClientHello */
}

/* --------------------------------------------------------------------- the API */

net_tls *net_tls_client_new(const net_tls_options *o, base_error *err)
{
    net_tls *t;

    if (!o) {
        base_error_set(err, "no TLS options");
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        base_error_set(err, "out of memory");
        return NULL;
    }
    if (setup(t, o) != NET_TLS_OK) {
        base_error_set(err, "%s", t->err);
        net_tls_free(t);
        return NULL;
    }
    return t;
}

void net_tls_free(net_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl); /* frees in and out too */
    SSL_CTX_free(t->ctx);
    if (t->pending) /* may hold a server or SASL password */
        OPENSSL_cleanse(t->pending, t->pending_cap);
    free(t->pending);
    free(t);
}

int net_tls_feed(net_tls *t, const void *data, size_t len)
{
    const unsigned char *p = data;

    if (!t || (!data && len))
        return NET_TLS_ERROR;
    if (t->failed)
        return NET_TLS_ERROR;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = BIO_write(t->in, p, chunk);
        if (n <= 0)
            return fail(t, "out of memory buffering TLS input");
        p += n;
        len -= (size_t)n;
    }
    return advance(t);
}

int net_tls_read(net_tls *t, void *buf, size_t cap)
{
    size_t n = 0;

    if (!t || (!buf && cap))
        return NET_TLS_ERROR;
    if (t->failed)
        return NET_TLS_ERROR;
    if (t->peer_closed)
        return NET_TLS_CLOSED;
    if (advance(t) != NET_TLS_OK)
        return NET_TLS_ERROR;
    if (!t->handshake_done || cap == 0)
        return 0;
    if (cap > INT_MAX)
        cap = INT_MAX;

    ERR_clear_error();
    if (SSL_read_ex(t->ssl, buf, cap, &n) == 1)
        return (int)n;
    int e = SSL_get_error(t->ssl, 0);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        /* Tickets, KeyUpdate or a renegotiation step were processed; the latter may
         * have unblocked writes that were waiting. */
        return flush_pending(t) == NET_TLS_OK ? 0 : NET_TLS_ERROR;
    case SSL_ERROR_ZERO_RETURN:
        t->peer_closed = 1;
        return NET_TLS_CLOSED;
    default:
        return fail_ssl(t, e, "TLS read failed");
    }
}

/* Makes room for extra more bytes of pending plaintext. Grows by copying, not realloc,
 * so the old block can be wiped: it may hold a password. */
static int pending_reserve(net_tls *t, size_t extra)
{
    size_t need, cap;
    unsigned char *p;

    if (extra > SIZE_MAX - t->pending_len)
        return -1;
    need = t->pending_len + extra;
    if (need <= t->pending_cap)
        return 0;
    cap = t->pending_cap ? t->pending_cap : 4096;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = malloc(cap);
    if (!p)
        return -1;
    if (t->pending) {
        memcpy(p, t->pending, t->pending_len);
        OPENSSL_cleanse(t->pending, t->pending_cap);
        free(t->pending);
    }
    t->pending = p;
    t->pending_cap = cap;
    return 0;
}

int net_tls_write(net_tls *t, const void *data, size_t len)
{
    if (!t || (!data && len))
        return NET_TLS_ERROR;
    if (t->failed)
        return NET_TLS_ERROR;
    if (t->closing)
        return NET_TLS_ERROR; /* a caller bug, not a broken session: reads go on */
    if (len == 0)
        return NET_TLS_OK;
    if (pending_reserve(t, len) != 0)
        return fail(t, "out of memory buffering %zu bytes of plaintext", len);
    memcpy(t->pending + t->pending_len, data, len);
    t->pending_len += len;
    return advance(t);
}

size_t net_tls_take_output(net_tls *t, void *buf, size_t cap)
{
    int n;

    if (!t || !buf || cap == 0)
        return 0;
    n = BIO_read(t->out, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    return n > 0 ? (size_t)n : 0;
}

size_t net_tls_output_pending(const net_tls *t)
{
    return t ? BIO_ctrl_pending(t->out) : 0;
}

int net_tls_handshake_done(const net_tls *t)
{
    return t && t->handshake_done && !t->failed;
}

const char *net_tls_protocol(const net_tls *t)
{
    return t && t->handshake_done ? SSL_get_version(t->ssl) : "";
}

const char *net_tls_error(const net_tls *t)
{
    return t ? t->err : "no TLS session";
}

int net_tls_close(net_tls *t)
{
    if (!t)
        return NET_TLS_ERROR;
    if (t->closing)
        return t->failed ? NET_TLS_ERROR : NET_TLS_OK;
    t->closing = 1;
    if (t->failed)
        return NET_TLS_ERROR;
    if (!t->handshake_done)
        return NET_TLS_OK;
    if (flush_pending(t) != NET_TLS_OK)
        return NET_TLS_ERROR;

    ERR_clear_error();
    int rc = SSL_shutdown(t->ssl); /* 0: close_notify queued, 1: both sides done */
    if (rc >= 0)
        return NET_TLS_OK;
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return NET_TLS_OK;
    return fail_ssl(t, e, "TLS close failed");
}

int net_tls_peer_fingerprint(const net_tls *t, char *out, size_t cap)
{
    if (!t || !out || cap < NET_TLS_FINGERPRINT_SIZE || !t->have_peer_fp)
        return NET_TLS_ERROR;
    hex_colons(t->peer_fp, FP_BYTES, out);
    return NET_TLS_OK;
}

int net_tls_fingerprint_sha256(const char *pem_file, char *out, size_t cap)
{
    unsigned char md[FP_BYTES];
    X509 *x = NULL;
    BIO *b;
    int rc = NET_TLS_ERROR;

    if (!pem_file || !out || cap < NET_TLS_FINGERPRINT_SIZE)
        return NET_TLS_ERROR;
    b = BIO_new_file(pem_file, "r");
    if (b)
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x && fingerprint(x, md) == 0) {
        hex_colons(md, FP_BYTES, out);
        rc = NET_TLS_OK;
    }
    X509_free(x);
    BIO_free(b);
    ERR_clear_error(); /* leave no stale errors for the next SSL call on this thread */
    return rc;
}

static void hex_lower(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

int net_tls_cert_fingerprints(const char *pem_file, char sha256[65], char sha512[129])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len256 = 0, len512 = 0;
    X509 *x = NULL;
    BIO *b;
    int rc = NET_TLS_ERROR;

    if (!pem_file || !sha256 || !sha512)
        return NET_TLS_ERROR;
    b = BIO_new_file(pem_file, "r");
    if (b)
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x && X509_digest(x, EVP_sha256(), md, &len256) == 1 && len256 == 32) {
        hex_lower(md, 32, sha256);
        if (X509_digest(x, EVP_sha512(), md, &len512) == 1 && len512 == 64) {
            hex_lower(md, 64, sha512);
            rc = NET_TLS_OK;
        }
    }
    X509_free(x);
    BIO_free(b);
    ERR_clear_error();
    return rc;
}
