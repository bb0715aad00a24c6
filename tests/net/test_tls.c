/* Tests for tls.h against a real OpenSSL server living in the same process: a
 * second SSL object in server mode on memory BIOs, with bytes pumped by hand between
 * the two. Certificates (EC P-256) are made with the OpenSSL API when the group starts
 * and written to a mkdtemp folder for the ca_file and fingerprint cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/tls.h"

/* ------------------------------------------------------------------ certificates */

typedef struct cert {
    EVP_PKEY *key;
    X509 *x;
    char path[512];                      /* PEM file holding x */
    char fp[NET_TLS_FINGERPRINT_SIZE];    /* "AB:CD:..." computed here, not by the module */
} cert;

static struct {
    char dir[256];
    cert ca;    /* test CA */
    cert good;  /* CN=localhost, DNS:localhost, IP:127.0.0.1, signed by ca */
    cert other; /* CN=other.example, DNS:other.example, signed by ca */
    cert self;  /* self-signed CN=localhost, DNS:localhost */
    cert expired; /* like good, but its validity ended yesterday */
} certs;

static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);

    assert_non_null(e);
    assert_int_equal(X509_add_ext(x, e, -1), 1);
    X509_EXTENSION_free(e);
}

static void fingerprint_of(X509 *x, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    assert_int_equal(X509_digest(x, EVP_sha256(), md, &len), 1);
    assert_int_equal(len, 32);
    for (unsigned int i = 0; i < len; i++)
        sprintf(out + 3 * i, i + 1 < len ? "%02X:" : "%02X", md[i]);
}

/* Makes c: a fresh key and a certificate for cn, signed by issuer (NULL: self-signed). */
static void make_cert(cert *c, const char *file, const char *cn, const char *san,
                      const cert *issuer, int is_ca, long days_left)
{
    static long serial = 1;
    X509V3_CTX v3;
    X509_NAME *name;
    FILE *f;

    c->key = EVP_EC_gen("P-256");
    c->x = X509_new();
    assert_non_null(c->key);
    assert_non_null(c->x);
    X509_set_version(c->x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c->x), -2 * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c->x), days_left * 86400);
    X509_set_pubkey(c->x, c->key);
    name = X509_get_subject_name(c->x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : name);

    X509V3_set_ctx(&v3, issuer ? issuer->x : c->x, c->x, NULL, NULL, 0);
    if (is_ca) {
        add_ext(c->x, &v3, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c->x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else if (issuer) {
        add_ext(c->x, &v3, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c->x, &v3, NID_ext_key_usage, "serverAuth");
    }
    if (san)
        add_ext(c->x, &v3, NID_subject_alt_name, san);
    assert_true(X509_sign(c->x, issuer ? issuer->key : c->key, EVP_sha256()) > 0);

    snprintf(c->path, sizeof c->path, "%s/%s", certs.dir, file);
    f = fopen(c->path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, c->x), 1);
    assert_int_equal(fclose(f), 0);
    fingerprint_of(c->x, c->fp);
}

static void free_cert(cert *c)
{
    if (c->path[0])
        unlink(c->path);
    X509_free(c->x);
    EVP_PKEY_free(c->key);
}

static int make_certs(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    snprintf(certs.dir, sizeof certs.dir, "%s/careerbot-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(certs.dir))
        return -1;
    make_cert(&certs.ca, "ca.pem", "careerbot test CA", NULL, NULL, 1, 1);
    make_cert(&certs.good, "good.pem", "localhost", "DNS:localhost,IP:127.0.0.1", &certs.ca, 0, 1);
    make_cert(&certs.other, "other.pem", "other.example", "DNS:other.example", &certs.ca, 0, 1);
    make_cert(&certs.self, "self.pem", "localhost", "DNS:localhost", NULL, 0, 1);
    make_cert(&certs.expired, "expired.pem", "localhost", "DNS:localhost", &certs.ca, 0, -1);
    return 0;
}

static int free_certs(void **state)
{
    (void)state;
    free_cert(&certs.ca);
    free_cert(&certs.good);
    free_cert(&certs.other);
    free_cert(&certs.self);
    free_cert(&certs.expired);
    rmdir(certs.dir);
    return 0;
}

/* ---------------------------------------------------------------- byte buffers */

typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static int bytes_equal(const bytes *b, const void *data, size_t len)
{
    return b->len == len && (len == 0 || memcmp(b->data, data, len) == 0);
}

/* A deterministic pattern, so a misplaced or lost chunk shows. */
static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *p = malloc(len);

    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)((i * 31 + seed + i / 251) & 0xff);
    return p;
}

/* ------------------------------------------------------------------ the server */

typedef struct server {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out;
    bytes got;     /* plaintext received from the client */
    int done;      /* handshake finished */
    int failed;    /* handshake or read failed */
    int closed;    /* close_notify received */
} server;

static void server_init(server *s, const cert *c, int max_version)
{
    memset(s, 0, sizeof *s);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    if (max_version)
        assert_int_equal(SSL_CTX_set_max_proto_version(s->ctx, max_version), 1);
    if (max_version && max_version < TLS1_2_VERSION) {
        /* Let this server speak an obsolete protocol, so the client can refuse it. */
        SSL_CTX_set_min_proto_version(s->ctx, 0);
        SSL_CTX_set_security_level(s->ctx, 0);
        assert_int_equal(SSL_CTX_set_cipher_list(s->ctx, "DEFAULT:@SECLEVEL=0"), 1);
    }
    assert_int_equal(SSL_CTX_use_certificate(s->ctx, c->x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, c->key), 1);
    SSL_CTX_set_num_tickets(s->ctx, 3); /* TLS 1.3 tickets after every handshake */
    s->ssl = SSL_new(s->ctx);
    s->in = BIO_new(BIO_s_mem());
    s->out = BIO_new(BIO_s_mem());
    assert_non_null(s->ssl);
    BIO_set_mem_eof_return(s->in, -1);
    BIO_set_mem_eof_return(s->out, -1);
    SSL_set_bio(s->ssl, s->in, s->out);
    SSL_set_accept_state(s->ssl);
}

static void server_free(server *s)
{
    SSL_free(s->ssl);
    SSL_CTX_free(s->ctx);
    free(s->got.data);
}

/* Handshake, then read everything the client sent. */
static void server_step(server *s)
{
    unsigned char buf[8192];
    size_t n;

    if (s->failed || s->closed)
        return;
    if (!s->done) {
        int rc = SSL_do_handshake(s->ssl);
        if (rc != 1) {
            int e = SSL_get_error(s->ssl, rc);
            s->failed = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
            ERR_clear_error();
            return;
        }
        s->done = 1;
    }
    while (SSL_read_ex(s->ssl, buf, sizeof buf, &n) == 1)
        bytes_add(&s->got, buf, n);
    int e = SSL_get_error(s->ssl, 0);
    if (e == SSL_ERROR_ZERO_RETURN)
        s->closed = 1;
    else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        s->failed = 1;
    ERR_clear_error();
}

static void server_send(server *s, const void *data, size_t len)
{
    size_t n = 0;

    assert_int_equal(SSL_write_ex(s->ssl, data, len, &n), 1);
    assert_int_equal(n, len);
}

/* --------------------------------------------------------- client, server, pump */

typedef struct pair {
    net_tls *c;
    server s;
    bytes got;     /* plaintext the client read */
    int last_read; /* what the client's last net_tls_read returned */
} pair;

static net_tls *client_new(const char *name, int verify, const char *ca_file, const char *pin)
{
    net_tls_options o = {.server_name = name, .verify = verify, .ca_file = ca_file,
                        .pin_sha256 = pin};
    base_error err;
    net_tls *t = net_tls_client_new(&o, &err);

    if (!t)
        fail_msg("net_tls_client_new: %s", err.text);
    return t;
}

static void pair_init(pair *p, const cert *server_cert, int max_version, const char *name,
                      int verify, const char *ca_file, const char *pin)
{
    memset(p, 0, sizeof *p);
    server_init(&p->s, server_cert, max_version);
    p->c = client_new(name, verify, ca_file, pin);
}

static void pair_free(pair *p)
{
    net_tls_free(p->c);
    server_free(&p->s);
    free(p->got.data);
}

static void client_step(pair *p)
{
    unsigned char buf[4096];
    int n;

    while ((n = net_tls_read(p->c, buf, sizeof buf)) > 0)
        bytes_add(&p->got, buf, (size_t)n);
    p->last_read = n;
}

/* Moves bytes both ways until neither side has anything to say. Server-to-client
 * ciphertext is fed in pieces of at most `chunk` bytes, to exercise partial records. */
static void pump_chunked(pair *p, size_t chunk)
{
    unsigned char buf[4096];

    for (int round = 0; round < 10000; round++) {
        size_t moved = 0, n;
        int k;

        while ((n = net_tls_take_output(p->c, buf, sizeof buf)) > 0) {
            assert_int_equal(BIO_write(p->s.in, buf, (int)n), (int)n);
            moved += n;
        }
        server_step(&p->s);
        while ((k = BIO_read(p->s.out, buf, (int)(chunk < sizeof buf ? chunk : sizeof buf))) > 0) {
            net_tls_feed(p->c, buf, (size_t)k);
            client_step(p);
            moved += (size_t)k;
        }
        client_step(p);
        if (!moved && net_tls_output_pending(p->c) == 0)
            return;
    }
    fail_msg("pump did not settle");
}

static void pump(pair *p)
{
    pump_chunked(p, SIZE_MAX);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* The client refused the server: error set, not done, and every call keeps failing. */
static void assert_refused(pair *p)
{
    char buf[16];

    assert_false(net_tls_handshake_done(p->c));
    assert_int_equal(p->last_read, NET_TLS_ERROR);
    assert_true(net_tls_error(p->c)[0] != '\0');
    print_message("refused: %s\n", net_tls_error(p->c)); /* shows what an operator reads */
    assert_int_equal(net_tls_read(p->c, buf, sizeof buf), NET_TLS_ERROR);
    assert_int_equal(net_tls_write(p->c, "x", 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_feed(p->c, "x", 1), NET_TLS_ERROR);
    assert_false(p->s.done && p->s.got.len > 0);
}

static void assert_ok(pair *p)
{
    if (!net_tls_handshake_done(p->c))
        fail_msg("handshake not done: %s", net_tls_error(p->c));
    assert_string_equal(net_tls_error(p->c), "");
    assert_true(p->s.done);
}

/* ---------------------------------------------------------------------- cases */

static void test_good_certificate(void **state)
{
    static const char hello[] = "NICK careerbot\r\nUSER careerbot 0 * :bot\r\n";
    static const char ping[] = "PING :irc.test\r\n";
    char fp[NET_TLS_FINGERPRINT_SIZE];
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    assert_false(net_tls_handshake_done(p.c));
    assert_string_equal(net_tls_protocol(p.c), "");
    assert_true(net_tls_output_pending(p.c) > 0); /* the ClientHello */
    assert_int_equal(net_tls_write(p.c, hello, strlen(hello)), NET_TLS_OK);
    pump(&p);

    assert_ok(&p);
    assert_string_equal(net_tls_protocol(p.c), "TLSv1.3");
    assert_string_equal(SSL_get_servername(p.s.ssl, TLSEXT_NAMETYPE_host_name), "localhost");
    assert_true(bytes_equal(&p.s.got, hello, strlen(hello)));
    assert_int_equal(net_tls_peer_fingerprint(p.c, fp, sizeof fp), NET_TLS_OK);
    assert_string_equal(fp, certs.good.fp);

    server_send(&p.s, ping, strlen(ping));
    pump(&p);
    assert_true(bytes_equal(&p.got, ping, strlen(ping)));
    assert_int_equal(p.last_read, 0);
    pair_free(&p);
}

/* 100 KB each way: the client's written before the handshake, the server's fed back one
 * 700-byte piece at a time so records arrive split. */
static void test_large_transfer(void **state)
{
    const size_t len = 100 * 1024;
    unsigned char *up = pattern(len, 1), *down = pattern(len, 2);
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    assert_int_equal(net_tls_write(p.c, up, len / 2), NET_TLS_OK);
    assert_int_equal(net_tls_write(p.c, up + len / 2, len - len / 2), NET_TLS_OK);
    pump(&p);
    assert_ok(&p);
    assert_true(bytes_equal(&p.s.got, up, len));

    server_send(&p.s, down, len);
    pump_chunked(&p, 700);
    assert_true(bytes_equal(&p.got, down, len));
    free(up);
    free(down);
    pair_free(&p);
}

/* Handshake fed one byte at a time: every step must survive WANT_READ. */
static void test_one_byte_at_a_time(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    assert_int_equal(net_tls_write(p.c, "early\r\n", 7), NET_TLS_OK);
    pump_chunked(&p, 1);
    assert_ok(&p);
    assert_true(bytes_equal(&p.s.got, "early\r\n", 7));
    server_send(&p.s, "late\r\n", 6);
    pump_chunked(&p, 1);
    assert_true(bytes_equal(&p.got, "late\r\n", 6));
    pair_free(&p);
}

/* An absolute name ("localhost.") is the same host: the dot is not sent or checked. */
static void test_trailing_dot(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost.", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    assert_string_equal(SSL_get_servername(p.s.ssl, TLSEXT_NAMETYPE_host_name), "localhost");
    pair_free(&p);
}

static void test_ip_address(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "127.0.0.1", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    assert_null(SSL_get_servername(p.s.ssl, TLSEXT_NAMETYPE_host_name)); /* no SNI for IPs */
    pair_free(&p);
}

static void test_ip_address_mismatch(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "[::1]", 1, certs.ca.path, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "host name mismatch");
    assert_contains(net_tls_error(p.c), "expected ::1,");
    assert_contains(net_tls_error(p.c), "127.0.0.1");
    pair_free(&p);
}

static void test_wrong_host_name(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "irc.example.org", 1, certs.ca.path, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "host name mismatch");
    assert_contains(net_tls_error(p.c), "expected irc.example.org");
    assert_contains(net_tls_error(p.c), "localhost, 127.0.0.1");
    assert_string_equal(SSL_get_servername(p.s.ssl, TLSEXT_NAMETYPE_host_name),
                        "irc.example.org");
    pair_free(&p);
}

/* A certificate from the trusted CA, but for another name. */
static void test_certificate_for_other_name(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.other, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "host name mismatch (expected localhost");
    assert_contains(net_tls_error(p.c), "other.example");
    pair_free(&p);
}

static void test_untrusted_self_signed(void **state)
{
    char fp[NET_TLS_FINGERPRINT_SIZE];
    pair p;

    (void)state;
    pair_init(&p, &certs.self, 0, "localhost", 1, NULL, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "untrusted certificate");
    assert_contains(net_tls_error(p.c), "self-signed");
    assert_contains(net_tls_error(p.c), "CN=localhost");
    assert_contains(net_tls_error(p.c), certs.self.fp);
    /* "pin this": the fingerprint is known even though the handshake failed */
    assert_int_equal(net_tls_peer_fingerprint(p.c, fp, sizeof fp), NET_TLS_OK);
    assert_string_equal(fp, certs.self.fp);
    pair_free(&p);
}

/* Signed by a CA the client does not know (the system store lacks the test CA). */
static void test_untrusted_unknown_ca(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, NULL, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "untrusted certificate");
    assert_contains(net_tls_error(p.c), "local issuer");
    pair_free(&p);
}

static void test_expired(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.expired, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "certificate has expired");
    assert_contains(net_tls_error(p.c), "CN=localhost");
    pair_free(&p);
}

/* The usual fix for a self-signed server: its own certificate as ca_file. */
static void test_self_signed_in_ca_file(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.self, 0, "localhost", 1, certs.self.path, NULL);
    pump(&p);
    assert_ok(&p);
    pair_free(&p);
}

/* Every accepted spelling of the pin; the name and chain are not checked. */
static void test_pin_match(void **state)
{
    char lower[NET_TLS_FINGERPRINT_SIZE], bare[80], prefixed[128];
    size_t j = 0;

    (void)state;
    for (size_t i = 0; certs.self.fp[i]; i++) {
        lower[i] = (char)(certs.self.fp[i] >= 'A' && certs.self.fp[i] <= 'F'
                              ? certs.self.fp[i] + 32 : certs.self.fp[i]);
        lower[i + 1] = '\0';
        if (certs.self.fp[i] != ':')
            bare[j++] = lower[i];
    }
    bare[j] = '\0';
    snprintf(prefixed, sizeof prefixed, "sha256=%s", certs.self.fp);

    const char *pins[] = {certs.self.fp, lower, bare, prefixed};
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
        pair p;
        pair_init(&p, &certs.self, 0, "not-this-name.example", 1, NULL, pins[i]);
        pump(&p);
        assert_ok(&p);
        server_send(&p.s, "hi", 2);
        pump(&p);
        assert_true(bytes_equal(&p.got, "hi", 2));
        pair_free(&p);
    }
}

static void test_pin_mismatch(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.self, 0, "localhost", 1, NULL, certs.good.fp);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "fingerprint mismatch");
    assert_contains(net_tls_error(p.c), certs.self.fp);
    assert_contains(net_tls_error(p.c), certs.good.fp);
    pair_free(&p);
}

/* A pin also refuses a certificate that ordinary verification would accept. */
static void test_pin_overrides_ca(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, certs.self.fp);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "fingerprint mismatch");
    pair_free(&p);
}

static void test_verify_off(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.self, 0, "wrong.example", 0, NULL, NULL);
    pump(&p);
    assert_ok(&p);
    pair_free(&p);

    pair_init(&p, &certs.other, 0, NULL, 0, NULL, NULL); /* no name at all is fine too */
    pump(&p);
    assert_ok(&p);
    assert_null(SSL_get_servername(p.s.ssl, TLSEXT_NAMETYPE_host_name));
    pair_free(&p);
}

static void test_bad_options(void **state)
{
    base_error err;
    net_tls_options o = {.server_name = "localhost", .verify = 1};

    (void)state;
    assert_null(net_tls_client_new(NULL, &err));
    assert_true(err.text[0] != '\0');

    o.pin_sha256 = "AB:CD";
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "pin_sha256");
    o.pin_sha256 = NULL;

    o.ca_file = "/nonexistent/ca.pem";
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "/nonexistent/ca.pem");
    print_message("refused: %s\n", err.text);
    o.ca_file = NULL;

    o.server_name = NULL;
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "server_name");
    assert_null(net_tls_client_new(&o, NULL)); /* no room for a message is fine */
}

/* A plaintext server (an HTTP or IRC port without TLS) answering the ClientHello. */
static void test_garbage_during_handshake(void **state)
{
    static const char reply[] = "ERROR :Closing link (TLS on a plain port)\r\n";
    unsigned char buf[4096];
    net_tls *t;

    (void)state;
    t = client_new("localhost", 1, certs.ca.path, NULL);
    while (net_tls_take_output(t, buf, sizeof buf) > 0)
        ;
    assert_int_equal(net_tls_feed(t, reply, strlen(reply)), NET_TLS_ERROR);
    assert_contains(net_tls_error(t), "TLS handshake failed");
    print_message("refused: %s\n", net_tls_error(t));
    assert_int_equal(net_tls_read(t, buf, sizeof buf), NET_TLS_ERROR);
    assert_false(net_tls_handshake_done(t));
    net_tls_take_output(t, buf, sizeof buf); /* an alert, maybe: harmless */
    net_tls_close(t);
    net_tls_free(t);
}

/* Random bytes, with and without a plausible record header: never a crash or a hang. */
static void test_random_garbage(void **state)
{
    unsigned char buf[2048], scratch[4096];
    uint32_t seed = 12345;

    (void)state;
    for (int round = 0; round < 200; round++) {
        /* verification is never reached; loading the system store 200 times is slow */
        net_tls *t = client_new("localhost", round % 20 == 0, certs.ca.path, NULL);
        size_t len = 1 + (size_t)round * 37 % (sizeof buf - 1);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (unsigned char)(seed >> 16);
        }
        if (round % 2) { /* handshake record, TLS 1.2, some length */
            buf[0] = 0x16;
            buf[1] = 0x03;
            if (len > 2)
                buf[2] = 0x03;
        }
        while (net_tls_take_output(t, scratch, sizeof scratch) > 0)
            ;
        net_tls_feed(t, buf, len);
        while (net_tls_read(t, buf, sizeof buf) > 0)
            ;
        assert_false(net_tls_handshake_done(t));
        net_tls_free(t);
    }
}

/* A corrupted record after the handshake: a clean error, not plaintext. */
static void test_garbage_after_handshake(void **state)
{
    unsigned char rec[64], buf[256];
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    server_send(&p.s, "PING :x\r\n", 9);
    int n = BIO_read(p.s.out, rec, sizeof rec);
    assert_true(n > 10);
    rec[n - 1] ^= 0x55; /* flip bits in the authentication tag */
    assert_int_equal(net_tls_feed(p.c, rec, (size_t)n), NET_TLS_OK);
    assert_int_equal(net_tls_read(p.c, buf, sizeof buf), NET_TLS_ERROR);
    assert_contains(net_tls_error(p.c), "TLS read failed");
    print_message("refused: %s\n", net_tls_error(p.c));
    assert_int_equal(p.got.len, 0);
    pair_free(&p);
}

/* The client says goodbye: the server sees close_notify after the last data. */
static void test_client_close(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    assert_int_equal(net_tls_write(p.c, "QUIT :bye\r\n", 11), NET_TLS_OK);
    assert_int_equal(net_tls_close(p.c), NET_TLS_OK);
    assert_int_equal(net_tls_close(p.c), NET_TLS_OK); /* twice is harmless */
    assert_int_equal(net_tls_write(p.c, "late", 4), NET_TLS_ERROR);
    pump(&p);
    assert_true(p.s.closed);
    assert_true(bytes_equal(&p.s.got, "QUIT :bye\r\n", 11));

    /* the server answers with its own close_notify: the client reads the end */
    assert_true(SSL_shutdown(p.s.ssl) >= 0);
    pump(&p);
    assert_int_equal(p.last_read, NET_TLS_CLOSED);
    assert_string_equal(net_tls_error(p.c), "");
    pair_free(&p);
}

/* The server says goodbye: the client reads the data, then NET_TLS_CLOSED, repeatedly. */
static void test_server_close(void **state)
{
    char buf[64];
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    server_send(&p.s, "ERROR :bye\r\n", 12);
    assert_int_equal(SSL_shutdown(p.s.ssl), 0);
    pump(&p);
    assert_true(bytes_equal(&p.got, "ERROR :bye\r\n", 12));
    assert_int_equal(p.last_read, NET_TLS_CLOSED);
    assert_int_equal(net_tls_read(p.c, buf, sizeof buf), NET_TLS_CLOSED);
    assert_int_equal(net_tls_close(p.c), NET_TLS_OK);
    pump(&p);
    assert_true(p.s.closed);
    pair_free(&p);
}

/* Closing before the handshake finished sends nothing and frees cleanly. */
static void test_close_before_handshake(void **state)
{
    unsigned char buf[4096];
    net_tls *t;

    (void)state;
    t = client_new("localhost", 1, certs.ca.path, NULL);
    while (net_tls_take_output(t, buf, sizeof buf) > 0)
        ;
    assert_int_equal(net_tls_write(t, "NICK x\r\n", 8), NET_TLS_OK);
    assert_int_equal(net_tls_close(t), NET_TLS_OK);
    assert_int_equal(net_tls_take_output(t, buf, sizeof buf), 0);
    net_tls_free(t);
}

/* TLS 1.3 KeyUpdate from the server (asking for one back) in the middle of traffic. */
static void test_key_update(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_ok(&p);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(SSL_key_update(p.s.ssl, SSL_KEY_UPDATE_REQUESTED), 1);
        server_send(&p.s, "A", 1);
        pump(&p);
        assert_int_equal(net_tls_write(p.c, "B", 1), NET_TLS_OK);
        pump(&p);
    }
    assert_true(bytes_equal(&p.got, "AAA", 3));
    assert_true(bytes_equal(&p.s.got, "BBB", 3));
    assert_false(p.s.failed);
    pair_free(&p);
}

/* TLS 1.2 with a server-initiated renegotiation; the client writes while its new
 * handshake is in flight, so SSL_write asks to be retried and must be, later. */
static void test_tls12_renegotiation(void **state)
{
    unsigned char buf[4096];
    int n;
    pair p;

    (void)state;
    pair_init(&p, &certs.good, TLS1_2_VERSION, "localhost", 1, certs.ca.path, NULL);
    assert_int_equal(net_tls_write(p.c, "one\r\n", 5), NET_TLS_OK);
    pump(&p);
    assert_ok(&p);
    assert_string_equal(net_tls_protocol(p.c), "TLSv1.2");
    assert_true(bytes_equal(&p.s.got, "one\r\n", 5));

    assert_int_equal(SSL_renegotiate(p.s.ssl), 1);
    SSL_do_handshake(p.s.ssl); /* queues HelloRequest */
    ERR_clear_error();
    server_send(&p.s, "two\r\n", 5);
    while ((n = BIO_read(p.s.out, buf, sizeof buf)) > 0) /* HelloRequest and "two" */
        assert_int_equal(net_tls_feed(p.c, buf, (size_t)n), NET_TLS_OK);
    client_step(&p); /* reads "two", answers with a ClientHello */
    assert_int_equal(p.last_read, 0);
    assert_int_equal(net_tls_write(p.c, "three\r\n", 7), NET_TLS_OK); /* mid-handshake */
    pump(&p);
    assert_int_equal(net_tls_write(p.c, "four\r\n", 6), NET_TLS_OK);
    server_send(&p.s, "five\r\n", 6);
    pump(&p);
    assert_false(p.s.failed);
    assert_int_equal(SSL_renegotiate_pending(p.s.ssl), 0);
    assert_int_equal(SSL_total_renegotiations(p.s.ssl), 1);
    assert_true(bytes_equal(&p.s.got, "one\r\nthree\r\nfour\r\n", 18));
    assert_true(bytes_equal(&p.got, "two\r\nfive\r\n", 11));
    assert_string_equal(net_tls_error(p.c), "");
    pair_free(&p);
}

static void test_old_protocol_refused(void **state)
{
    pair p;

    (void)state;
    pair_init(&p, &certs.good, TLS1_1_VERSION, "localhost", 1, certs.ca.path, NULL);
    pump(&p);
    assert_refused(&p);
    assert_contains(net_tls_error(p.c), "TLS handshake failed");
    pair_free(&p);
}

static void test_fingerprint_file(void **state)
{
    char fp[NET_TLS_FINGERPRINT_SIZE];

    (void)state;
    assert_int_equal(net_tls_fingerprint_sha256(certs.self.path, fp, sizeof fp), NET_TLS_OK);
    assert_string_equal(fp, certs.self.fp);
    assert_int_equal(strlen(fp), 95);
    assert_int_equal(net_tls_fingerprint_sha256(certs.self.path, fp, 95), NET_TLS_ERROR);
    assert_int_equal(net_tls_fingerprint_sha256("/nonexistent.pem", fp, sizeof fp), NET_TLS_ERROR);
    assert_int_equal(net_tls_fingerprint_sha256(NULL, fp, sizeof fp), NET_TLS_ERROR);
    assert_int_equal(net_tls_fingerprint_sha256(certs.dir, fp, sizeof fp), NET_TLS_ERROR);
}

/* ------------------------------------------------------------ client certificates */

static int accept_any(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

static void write_key(const cert *c, const char *file, char *path, size_t cap)
{
    FILE *f;

    snprintf(path, cap, "%s/%s", certs.dir, file);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
}

static void test_client_certificate(void **state)
{
    char key_path[600], other_key[600], fp[NET_TLS_FINGERPRINT_SIZE];
    base_error err;
    pair p;

    (void)state;
    write_key(&certs.self, "self.key", key_path, sizeof key_path);
    write_key(&certs.other, "other.key", other_key, sizeof other_key);

    /* A server that wants a client certificate sees ours. */
    memset(&p, 0, sizeof p);
    server_init(&p.s, &certs.good, 0);
    SSL_set_verify(p.s.ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    net_tls_options o = {.server_name = "localhost", .verify = 1, .ca_file = certs.ca.path,
                         .cert_file = certs.self.path, .key_file = key_path};
    p.c = net_tls_client_new(&o, &err);
    if (!p.c)
        fail_msg("net_tls_client_new: %s", err.text);
    assert_int_equal(net_tls_write(p.c, "hello\r\n", 7), NET_TLS_OK);
    pump(&p);
    assert_ok(&p);
    X509 *peer = SSL_get0_peer_certificate(p.s.ssl);
    assert_non_null(peer);
    fingerprint_of(peer, fp);
    assert_string_equal(fp, certs.self.fp);
    assert_true(bytes_equal(&p.s.got, "hello\r\n", 7));
    pair_free(&p);

    /* Without one, that server refuses. */
    pair_init(&p, &certs.good, 0, "localhost", 1, certs.ca.path, NULL);
    SSL_set_verify(p.s.ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
    net_tls_write(p.c, "hello\r\n", 7);
    pump(&p);
    assert_true(p.s.failed);
    assert_int_equal(p.s.got.len, 0);
    pair_free(&p);

    /* A key of another certificate, or files that are not there: refused at once, in words. */
    o.key_file = other_key;
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "does not belong");
    o.key_file = "/nonexistent.key";
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "cannot load the client key /nonexistent.key");
    o.cert_file = "/nonexistent.pem";
    assert_null(net_tls_client_new(&o, &err));
    assert_contains(err.text, "cannot load the client certificate /nonexistent.pem");
    unlink(key_path);
    unlink(other_key);
}

static void test_cert_fingerprints(void **state)
{
    char sha256[65], sha512[129], want[65];
    size_t n = 0;

    (void)state;
    assert_int_equal(net_tls_cert_fingerprints(certs.self.path, sha256, sha512), NET_TLS_OK);
    for (const char *c = certs.self.fp; *c; c++)
        if (*c != ':')
            want[n++] = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
    want[n] = '\0';
    assert_string_equal(sha256, want);
    assert_int_equal(strlen(sha512), 128);
    unsigned char md[64];
    unsigned int len = 0;
    char hex[129];
    assert_int_equal(X509_digest(certs.self.x, EVP_sha512(), md, &len), 1);
    for (unsigned i = 0; i < len; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    assert_string_equal(sha512, hex);
    assert_int_equal(net_tls_cert_fingerprints("/nonexistent.pem", sha256, sha512), NET_TLS_ERROR);
    assert_int_equal(net_tls_cert_fingerprints(certs.dir, sha256, sha512), NET_TLS_ERROR);
}

static void test_null_session(void **state)
{
    char buf[NET_TLS_FINGERPRINT_SIZE];
    net_tls *t;

    (void)state;
    net_tls_free(NULL);
    assert_int_equal(net_tls_feed(NULL, "x", 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_read(NULL, buf, sizeof buf), NET_TLS_ERROR);
    assert_int_equal(net_tls_write(NULL, "x", 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_take_output(NULL, buf, sizeof buf), 0);
    assert_int_equal(net_tls_output_pending(NULL), 0);
    assert_false(net_tls_handshake_done(NULL));
    assert_string_equal(net_tls_protocol(NULL), "");
    assert_non_null(net_tls_error(NULL));
    assert_int_equal(net_tls_close(NULL), NET_TLS_ERROR);
    assert_int_equal(net_tls_peer_fingerprint(NULL, buf, sizeof buf), NET_TLS_ERROR);

    /* nothing known yet, NULL buffers with a length, zero-length calls */
    t = client_new("localhost", 1, certs.ca.path, NULL);
    assert_int_equal(net_tls_peer_fingerprint(t, buf, sizeof buf), NET_TLS_ERROR);
    assert_int_equal(net_tls_feed(t, NULL, 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_write(t, NULL, 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_read(t, NULL, 1), NET_TLS_ERROR);
    assert_int_equal(net_tls_feed(t, NULL, 0), NET_TLS_OK);
    assert_int_equal(net_tls_write(t, NULL, 0), NET_TLS_OK);
    assert_int_equal(net_tls_read(t, buf, 0), 0);
    assert_int_equal(net_tls_take_output(t, NULL, 10), 0);
    assert_string_equal(net_tls_error(t), "");
    net_tls_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_certificate),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_cert_fingerprints),
        cmocka_unit_test(test_large_transfer),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_trailing_dot),
        cmocka_unit_test(test_ip_address),
        cmocka_unit_test(test_ip_address_mismatch),
        cmocka_unit_test(test_wrong_host_name),
        cmocka_unit_test(test_certificate_for_other_name),
        cmocka_unit_test(test_untrusted_self_signed),
        cmocka_unit_test(test_untrusted_unknown_ca),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_self_signed_in_ca_file),
        cmocka_unit_test(test_pin_match),
        cmocka_unit_test(test_pin_mismatch),
        cmocka_unit_test(test_pin_overrides_ca),
        cmocka_unit_test(test_verify_off),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_garbage_during_handshake),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_garbage_after_handshake),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_server_close),
        cmocka_unit_test(test_close_before_handshake),
        cmocka_unit_test(test_key_update),
        cmocka_unit_test(test_tls12_renegotiation),
        cmocka_unit_test(test_old_protocol_refused),
        cmocka_unit_test(test_fingerprint_file),
        cmocka_unit_test(test_null_session),
    };

    return cmocka_run_group_tests(tests, make_certs, free_certs);
}
