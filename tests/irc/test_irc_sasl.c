/* Unit tests for irc_sasl.h: every mechanism against published vectors
 * (RFC 7677 for SCRAM-SHA-256; SCRAM-SHA-512 with the same inputs, computed by
 * an independent implementation), and servers that lie: a bad signature, a
 * nonce that does not extend ours, iteration counts of 0 or absurdly large,
 * malformed messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "irc/irc_sasl.h"

/* RFC 7677, section 3. */
#define V_USER "user"
#define V_PASSWORD "pencil"
#define V_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define V_SERVER_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define V256_CLIENT_FINAL \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define V256_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
#define V512_CLIENT_FINAL                                                                                    \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+"  \
    "xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
#define V512_SERVER_FINAL \
    "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw=="

typedef struct step_out {
    int rc;
    char text[1024];
    size_t len;
    base_error err;
} step_out;

static step_out step(irc_sasl *x, const char *in)
{
    step_out o;
    memset(&o, 0, sizeof o);
    unsigned char *out = NULL;
    size_t out_len = 0;
    o.rc = irc_sasl_step(x, (const unsigned char *)in, strlen(in), &out, &out_len, &o.err);
    if (o.rc == IRC_SASL_CONTINUE) {
        assert_true(out_len < sizeof o.text);
        if (out_len)
            memcpy(o.text, out, out_len);
        o.len = out_len;
        irc_sasl_response_free(out, out_len);
    } else {
        assert_null(out);
    }
    return o;
}

static irc_sasl *scram(irc_sasl_mech m, const char *password)
{
    irc_sasl_credentials c = {V_USER, password, NULL};
    base_error err;
    irc_sasl *x = irc_sasl_new(m, &c, &err);
    assert_non_null(x);
    assert_int_equal(irc_sasl_set_nonce(x, V_CNONCE), BASE_OK);
    step_out o = step(x, "");
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_string_equal(o.text, "n,,n=user,r=" V_CNONCE);
    return x;
}

static void check_vector(irc_sasl_mech m, const char *client_final, const char *server_final)
{
    irc_sasl *x = scram(m, V_PASSWORD);
    step_out o = step(x, V_SERVER_FIRST);
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_string_equal(o.text, client_final);
    assert_false(irc_sasl_complete(x));
    o = step(x, server_final);
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_int_equal(o.len, 0); /* the empty response: "AUTHENTICATE +" */
    assert_true(irc_sasl_complete(x));
    /* Anything more from the server is refused. */
    o = step(x, "v=more");
    assert_int_equal(o.rc, IRC_SASL_FAILED);
    irc_sasl_free(x);
}

static void test_scram_sha256_rfc7677(void **state)
{
    (void)state;
    check_vector(IRC_SASL_SCRAM_SHA256, V256_CLIENT_FINAL, V256_SERVER_FINAL);
}

static void test_scram_sha512(void **state)
{
    (void)state;
    check_vector(IRC_SASL_SCRAM_SHA512, V512_CLIENT_FINAL, V512_SERVER_FINAL);
}

static void test_scram_random_nonce_and_escaped_name(void **state)
{
    (void)state;
    irc_sasl_credentials c = {"we,ird=name", "pw", NULL};
    irc_sasl *a = irc_sasl_new(IRC_SASL_SCRAM_SHA256, &c, NULL), *b = irc_sasl_new(IRC_SASL_SCRAM_SHA256, &c, NULL);
    assert_non_null(a);
    assert_non_null(b);
    step_out oa = step(a, ""), ob = step(b, "");
    assert_true(strncmp(oa.text, "n,,n=we=2Cird=3Dname,r=", 23) == 0);
    assert_true(strlen(oa.text) >= 23 + 24);
    assert_string_not_equal(oa.text, ob.text); /* a fresh nonce each time */
    assert_null(strchr(oa.text + 23, ','));
    irc_sasl_free(a);
    irc_sasl_free(b);
}

static void expect_refused(const char *server_first, const char *needle)
{
    irc_sasl *x = scram(IRC_SASL_SCRAM_SHA256, V_PASSWORD);
    step_out o = step(x, server_first);
    if (o.rc != IRC_SASL_FAILED)
        fail_msg("accepted server-first \"%s\"", server_first);
    if (!strstr(o.err.text, needle))
        fail_msg("error \"%s\" does not say \"%s\"", o.err.text, needle);
    irc_sasl_free(x);
}

static void test_scram_malicious_server_first(void **state)
{
    (void)state;
    /* A nonce that is not ours, that is only ours, or a prefix of ours. */
    expect_refused("r=someoneelse%hvYDpWUa,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend");
    expect_refused("r=" V_CNONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend");
    expect_refused("r=rOprNG,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "does not extend");
    /* Iteration counts of 0, absurdly large, negative or not a number. */
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", "out of range");
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967296", "out of range");
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001", "out of range");
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1", "not a number");
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=", "out of range");
    /* Missing or malformed fields, a mandatory extension, an error. */
    expect_refused("r=" V_CNONCE "xyz,i=4096", "out of order");
    expect_refused("r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==", "missing");
    expect_refused("r=" V_CNONCE "xyz,s=not*base64,i=4096", "salt");
    expect_refused("r=" V_CNONCE "xyz,s=,i=4096", "salt");
    expect_refused("m=ext,r=" V_CNONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "extension");
    expect_refused("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=" V_CNONCE "xyz,i=4096", "nonce first");
    expect_refused("e=unknown-user", "refused SCRAM: unknown-user");
    expect_refused("garbage", "malformed");
    expect_refused("", "malformed");
    expect_refused("r=" V_CNONCE "x\001y,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "printable");
    /* Extensions after i= are allowed. */
    irc_sasl *x = scram(IRC_SASL_SCRAM_SHA256, V_PASSWORD);
    step_out o = step(x, V_SERVER_FIRST ",x=ext");
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    irc_sasl_free(x);
}

static void test_scram_bad_server_signature(void **state)
{
    (void)state;
    static const char *const finals[] = {
        "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",         /* one bit off */
        "v=" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",         /* another signature */
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9",             /* cut */
        "v=",                                                      /* empty */
        "v=!!!!",                                                  /* not base64 */
        "e=invalid-proof",                                         /* the server says no */
        "x=1",                                                     /* not a server-final */
        "",
    };
    for (size_t i = 0; i < sizeof finals / sizeof *finals; i++) {
        irc_sasl *x = scram(IRC_SASL_SCRAM_SHA256, V_PASSWORD);
        step_out o = step(x, V_SERVER_FIRST);
        assert_int_equal(o.rc, IRC_SASL_CONTINUE);
        o = step(x, finals[i]);
        if (o.rc != IRC_SASL_FAILED)
            fail_msg("accepted server-final \"%s\"", finals[i]);
        assert_false(irc_sasl_complete(x));
        irc_sasl_free(x);
    }
    /* The right signature for another password (the server does not know ours). */
    irc_sasl *x = scram(IRC_SASL_SCRAM_SHA256, "not pencil");
    step_out o = step(x, V_SERVER_FIRST);
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_string_not_equal(o.text, V256_CLIENT_FINAL);
    o = step(x, V256_SERVER_FINAL);
    assert_int_equal(o.rc, IRC_SASL_FAILED);
    assert_non_null(strstr(o.err.text, "signature is wrong"));
    irc_sasl_free(x);
}

static void test_plain_and_external(void **state)
{
    (void)state;
    irc_sasl_credentials c = {"user", "pass", NULL};
    irc_sasl *x = irc_sasl_new(IRC_SASL_PLAIN, &c, NULL);
    assert_non_null(x);
    step_out o = step(x, "");
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_int_equal(o.len, 14);
    assert_memory_equal(o.text, "user\0user\0pass", 14);
    assert_true(irc_sasl_complete(x));
    irc_sasl_free(x);

    /* The server speaks first with data: refused. */
    x = irc_sasl_new(IRC_SASL_PLAIN, &c, NULL);
    assert_int_equal(step(x, "hello").rc, IRC_SASL_FAILED);
    irc_sasl_free(x);

    irc_sasl_credentials none = {NULL, NULL, NULL};
    x = irc_sasl_new(IRC_SASL_EXTERNAL, &none, NULL);
    assert_non_null(x);
    o = step(x, "");
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_int_equal(o.len, 0);
    assert_true(irc_sasl_complete(x));
    irc_sasl_free(x);

    /* Credentials that do not fit the mechanism. */
    base_error err;
    assert_null(irc_sasl_new(IRC_SASL_PLAIN, &none, &err));
    assert_null(irc_sasl_new(IRC_SASL_SCRAM_SHA512, &none, &err));
    assert_null(irc_sasl_new(IRC_SASL_ECDSA, &c, &err));
    assert_false(irc_sasl_usable(IRC_SASL_EXTERNAL, &c, 0));
    assert_true(irc_sasl_usable(IRC_SASL_EXTERNAL, &none, 1));
    assert_true(irc_sasl_usable(IRC_SASL_SCRAM_SHA256, &c, 0));
    assert_false(irc_sasl_usable(IRC_SASL_ECDSA, &c, 1));
}

static char *new_p256_key_pem(EVP_PKEY **key_out)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *pem = calloc(1, (size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    BIO_free(b);
    *key_out = k;
    return pem;
}

static void test_ecdsa_challenge(void **state)
{
    (void)state;
    EVP_PKEY *k;
    char *pem = new_p256_key_pem(&k);
    irc_sasl_credentials c = {"botaccount", NULL, pem};
    base_error err;
    irc_sasl *x = irc_sasl_new(IRC_SASL_ECDSA, &c, &err);
    assert_non_null(x);
    step_out o = step(x, "");
    assert_int_equal(o.rc, IRC_SASL_CONTINUE);
    assert_int_equal(o.len, 10);
    assert_memory_equal(o.text, "botaccount", 10);
    unsigned char challenge[32];
    for (int i = 0; i < 32; i++)
        challenge[i] = (unsigned char)(i * 7 + 1);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    assert_int_equal(irc_sasl_step(x, challenge, sizeof challenge, &sig, &sig_len, &err), IRC_SASL_CONTINUE);
    assert_true(irc_sasl_complete(x));
    /* The signature checks out with the public key, over the raw challenge. */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    assert_int_equal(EVP_PKEY_verify(ctx, sig, sig_len, challenge, sizeof challenge), 1);
    challenge[0] ^= 1;
    assert_int_not_equal(EVP_PKEY_verify(ctx, sig, sig_len, challenge, sizeof challenge), 1);
    EVP_PKEY_CTX_free(ctx);
    irc_sasl_response_free(sig, sig_len);
    irc_sasl_free(x);

    /* A challenge of the wrong size is refused. */
    x = irc_sasl_new(IRC_SASL_ECDSA, &c, &err);
    step(x, "");
    assert_int_equal(step(x, "short").rc, IRC_SASL_FAILED);
    irc_sasl_free(x);

    /* Not a key, or a key on another curve. */
    irc_sasl_credentials bad = {"botaccount", NULL, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"};
    assert_null(irc_sasl_new(IRC_SASL_ECDSA, &bad, &err));
    assert_non_null(strstr(err.text, "PEM"));
    EVP_PKEY *k384 = EVP_EC_gen("P-384");
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k384, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *pem384 = calloc(1, (size_t)n + 1);
    memcpy(pem384, data, (size_t)n);
    bad.ecdsa_key_pem = pem384;
    assert_null(irc_sasl_new(IRC_SASL_ECDSA, &bad, &err));
    assert_non_null(strstr(err.text, "P-256"));
    free(pem384);
    BIO_free(b);
    EVP_PKEY_free(k384);
    EVP_PKEY_free(k);
    free(pem);
}

static void test_mech_names_and_lists(void **state)
{
    (void)state;
    assert_int_equal(irc_sasl_mech_from_name("scram-sha-256", 13), IRC_SASL_SCRAM_SHA256);
    assert_int_equal(irc_sasl_mech_from_name("PLAINX", 6), IRC_SASL_NONE);
    assert_string_equal(irc_sasl_mech_name(IRC_SASL_ECDSA), "ECDSA-NIST256P-CHALLENGE");
    unsigned bits = irc_sasl_parse_mechs("PLAIN,EXTERNAL,SCRAM-SHA-1,SCRAM-SHA-512");
    assert_int_equal(bits, IRC_SASL_BIT(IRC_SASL_PLAIN) | IRC_SASL_BIT(IRC_SASL_EXTERNAL) |
                               IRC_SASL_BIT(IRC_SASL_SCRAM_SHA512));
    assert_int_equal(irc_sasl_parse_mechs(""), 0);
    assert_int_equal(irc_sasl_parse_mechs(",,,"), 0);
}

static void test_base64(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(irc_sasl_b64_decode("dXNlcgB1c2VyAHBhc3M=", 20, &out, &n), BASE_OK);
    assert_int_equal(n, 14);
    assert_memory_equal(out, "user\0user\0pass", 14);
    irc_sasl_response_free(out, n);
    assert_int_equal(irc_sasl_b64_decode("", 0, &out, &n), BASE_OK);
    assert_int_equal(n, 0);
    irc_sasl_response_free(out, 1);
    static const char *const bad[] = {"abc", "ab c", "a===", "ab=c", "ab\ncd==", "****"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(irc_sasl_b64_decode(bad[i], strlen(bad[i]), &out, &n), BASE_ERR);
    char *e = irc_sasl_b64_encode((const unsigned char *)"n,,", 3);
    assert_string_equal(e, "biws");
    irc_sasl_response_free((unsigned char *)e, strlen(e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_sha256_rfc7677),
        cmocka_unit_test(test_scram_sha512),
        cmocka_unit_test(test_scram_random_nonce_and_escaped_name),
        cmocka_unit_test(test_scram_malicious_server_first),
        cmocka_unit_test(test_scram_bad_server_signature),
        cmocka_unit_test(test_plain_and_external),
        cmocka_unit_test(test_ecdsa_challenge),
        cmocka_unit_test(test_mech_names_and_lists),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
