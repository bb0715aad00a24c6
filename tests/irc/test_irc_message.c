/* Unit tests for irc_message.h: real server lines, malformed input, the command
 * builder, parsed lines built back into commands, and injection attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "irc/irc_message.h"

/* Parses a NUL-terminated line, asserting success. */
static void parse_ok(const char *line, irc_message *m)
{
    int rc = irc_message_parse(line, strlen(line), m);
    if (rc != IRC_OK)
        fail_msg("parse of \"%s\" failed: %s", line, irc_strerror(rc));
}

/* Parses a line that must fail with the given error, and checks the message is zeroed. */
static void parse_fails(const char *line, size_t len, int want)
{
    irc_message m;
    int rc = irc_message_parse(line, len, &m);

    assert_int_equal(rc, want);
    assert_null(m.verb);
    assert_null(m.source);
    assert_null(m.storage_);
    assert_int_equal(m.n_params, 0);
    assert_int_equal(m.n_tags, 0);
    irc_message_free(&m); /* harmless on a zeroed message */
}

/* ------------------------------------------------------------ real-world lines */

static void test_ping(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("PING :irc.libera.chat\r\n", &m);
    assert_null(m.source);
    assert_string_equal(m.verb, "PING");
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0], "irc.libera.chat");
    assert_int_equal(m.n_tags, 0);
    irc_message_free(&m);
    assert_null(m.verb);
}

static void test_privmsg_with_tags(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("@badge-info=;badges=broadcaster/1;msgid=abc-123;+draft/reply=x\\sy "
             ":alice!~al@host.example PRIVMSG #careers :careerbot: what does a coder earn?\r\n",
             &m);
    assert_int_equal(m.n_tags, 4);
    assert_string_equal(m.tags[0].key, "badge-info");
    assert_string_equal(m.tags[0].value, "");
    assert_string_equal(m.tags[1].key, "badges");
    assert_string_equal(m.tags[1].value, "broadcaster/1");
    assert_string_equal(irc_message_tag(&m, "msgid"), "abc-123");
    assert_string_equal(irc_message_tag(&m, "+draft/reply"), "x y");
    assert_null(irc_message_tag(&m, "account"));
    assert_string_equal(m.source, "alice!~al@host.example");
    assert_string_equal(m.verb, "PRIVMSG");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[0], "#careers");
    assert_string_equal(m.params[1], "careerbot: what does a coder earn?");
    irc_message_free(&m);
}

static void test_numerics(void **state)
{
    irc_message m;

    (void)state;
    parse_ok(":tantalum.libera.chat 001 careerbot :Welcome to the Libera.Chat Internet Relay "
             "Chat Network careerbot\r\n", &m);
    assert_string_equal(m.source, "tantalum.libera.chat");
    assert_string_equal(m.verb, "001");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[0], "careerbot");
    assert_string_equal(m.params[1],
                        "Welcome to the Libera.Chat Internet Relay Chat Network careerbot");
    irc_message_free(&m);

    parse_ok(":srv 005 careerbot CALLERID=g WHOX ETRACE FNC SAFELIST ELIST=CMNTU "
             "KNOCK MONITOR=100 CHANTYPES=# EXCEPTS INVEX CHANMODES=eIbq,k,flj,CFLMPQRSTcgimnprstuz "
             ":are supported by this server\r\n", &m);
    assert_string_equal(m.verb, "005");
    assert_int_equal(m.n_params, 14);
    assert_string_equal(m.params[0], "careerbot");
    assert_string_equal(m.params[6], "ELIST=CMNTU");
    assert_string_equal(m.params[12], "CHANMODES=eIbq,k,flj,CFLMPQRSTcgimnprstuz");
    assert_string_equal(m.params[13], "are supported by this server");
    irc_message_free(&m);

    parse_ok(":srv 433 * careerbot :Nickname is already in use.\r\n", &m);
    assert_string_equal(m.verb, "433");
    assert_int_equal(m.n_params, 3);
    assert_string_equal(m.params[0], "*");
    assert_string_equal(m.params[1], "careerbot");
    assert_string_equal(m.params[2], "Nickname is already in use.");
    irc_message_free(&m);

    parse_ok(":srv 904 careerbot :SASL authentication failed", &m);
    assert_string_equal(m.verb, "904");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[1], "SASL authentication failed");
    irc_message_free(&m);
}

static void test_cap_ls_multiline(void **state)
{
    irc_message m;

    (void)state;
    parse_ok(":srv CAP * LS * :account-notify away-notify chghost extended-join "
             "multi-prefix sasl=PLAIN,EXTERNAL server-time\r\n", &m);
    assert_string_equal(m.verb, "CAP");
    assert_int_equal(m.n_params, 4);
    assert_string_equal(m.params[0], "*");
    assert_string_equal(m.params[1], "LS");
    assert_string_equal(m.params[2], "*"); /* more lines follow */
    assert_string_equal(m.params[3], "account-notify away-notify chghost extended-join "
                                     "multi-prefix sasl=PLAIN,EXTERNAL server-time");
    irc_message_free(&m);

    parse_ok(":srv CAP careerbot LS :userhost-in-names\r\n", &m); /* the last line */
    assert_int_equal(m.n_params, 3);
    assert_string_equal(m.params[1], "LS");
    assert_string_equal(m.params[2], "userhost-in-names");
    irc_message_free(&m);
}

static void test_authenticate_plus(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("AUTHENTICATE +\r\n", &m);
    assert_string_equal(m.verb, "AUTHENTICATE");
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0], "+");
    irc_message_free(&m);
}

static void test_join_with_and_without_trailing(void **state)
{
    irc_message a, b;

    (void)state;
    parse_ok(":bob!b@h JOIN #careers\r\n", &a);
    parse_ok(":bob!b@h JOIN :#careers\r\n", &b);
    assert_string_equal(a.verb, "JOIN");
    assert_int_equal(a.n_params, 1);
    assert_int_equal(b.n_params, 1);
    assert_string_equal(a.params[0], "#careers");
    assert_string_equal(b.params[0], "#careers");
    irc_message_free(&a);
    irc_message_free(&b);

    /* extended-join: account and realname */
    parse_ok(":bob!b@h JOIN #careers bobacct :Bob Smith", &a);
    assert_int_equal(a.n_params, 3);
    assert_string_equal(a.params[1], "bobacct");
    assert_string_equal(a.params[2], "Bob Smith");
    irc_message_free(&a);
}

static void test_server_notice(void **state)
{
    irc_message m;

    (void)state;
    parse_ok(":tantalum.libera.chat NOTICE * :*** Checking Ident\r\n", &m);
    assert_string_equal(m.source, "tantalum.libera.chat");
    assert_string_equal(m.verb, "NOTICE");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[0], "*");
    assert_string_equal(m.params[1], "*** Checking Ident");
    irc_message_free(&m);

    parse_ok("NOTICE AUTH :*** Looking up your hostname...", &m); /* no source at all */
    assert_null(m.source);
    assert_string_equal(m.params[0], "AUTH");
    irc_message_free(&m);
}

static void test_server_time_tag(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("@time=2024-03-01T12:34:56.789Z :carol!c@h PRIVMSG careerbot :hi\r\n", &m);
    assert_int_equal(m.n_tags, 1);
    assert_string_equal(irc_message_tag(&m, "time"), "2024-03-01T12:34:56.789Z");
    assert_string_equal(m.params[0], "careerbot");
    assert_string_equal(m.params[1], "hi");
    irc_message_free(&m);
}

static void test_line_endings(void **state)
{
    irc_message m;
    const char *endings[] = {"", "\n", "\r\n", "\r", "\r\r\n\n"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof endings / sizeof *endings; i++) {
        char line[64];
        snprintf(line, sizeof line, "PRIVMSG #c :x y%s", endings[i]);
        parse_ok(line, &m);
        assert_int_equal(m.n_params, 2);
        assert_string_equal(m.params[1], "x y"); /* no CR or LF left in the text */
        irc_message_free(&m);
    }
}

static void test_len_not_nul_terminated(void **state)
{
    const char buf[] = {'P', 'I', 'N', 'G', ' ', 'a', 'b', 'X', 'X'};
    irc_message m;

    (void)state;
    assert_int_equal(irc_message_parse(buf, 7, &m), IRC_OK);
    assert_string_equal(m.verb, "PING");
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.params[0], "ab");
    irc_message_free(&m);
}

static void test_spaces_collapse(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("  :src   MODE   #c   +o   nick   ", &m);
    assert_string_equal(m.source, "src");
    assert_string_equal(m.verb, "MODE");
    assert_int_equal(m.n_params, 3);
    assert_string_equal(m.params[2], "nick");
    irc_message_free(&m);
}

static void test_tag_escapes(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("@a=semi\\:colon;b=sp\\sace;c=back\\\\slash;d=cr\\rlf\\n;e=unk\\nown\\x;f=trail\\ "
             "FOO", &m);
    assert_int_equal(m.n_tags, 6);
    assert_string_equal(irc_message_tag(&m, "a"), "semi;colon");
    assert_string_equal(irc_message_tag(&m, "b"), "sp ace");
    assert_string_equal(irc_message_tag(&m, "c"), "back\\slash");
    assert_string_equal(irc_message_tag(&m, "d"), "cr\rlf\n");
    assert_string_equal(irc_message_tag(&m, "e"), "unk\nownx");
    assert_string_equal(irc_message_tag(&m, "f"), "trail");
    irc_message_free(&m);
}

static void test_tag_duplicates_and_empties(void **state)
{
    irc_message m;

    (void)state;
    parse_ok("@a=1;;b;=orphan;a=2;c= FOO", &m);
    assert_int_equal(m.n_tags, 3);
    assert_string_equal(m.tags[0].key, "a");
    assert_string_equal(m.tags[0].value, "2"); /* last wins, first position kept */
    assert_string_equal(m.tags[1].key, "b");
    assert_string_equal(m.tags[1].value, "");
    assert_string_equal(m.tags[2].key, "c");
    assert_string_equal(m.tags[2].value, "");
    irc_message_free(&m);
}

static void test_invalid_utf8_passes_through(void **state)
{
    const char line[] = "@k=\xff\xfe :n\xc3!u@h PRIVMSG #c \xe2\x82 :caf\xc3\xa9 \xc0\x80 \xed\xa0\x80";
    irc_message m;
    char out[IRC_FORMAT_MAX];

    (void)state;
    parse_ok(line, &m);
    assert_string_equal(irc_message_tag(&m, "k"), "\xff\xfe");
    assert_string_equal(m.source, "n\xc3!u@h");
    assert_int_equal(m.n_params, 3);
    assert_string_equal(m.params[1], "\xe2\x82");
    assert_string_equal(m.params[2], "caf\xc3\xa9 \xc0\x80 \xed\xa0\x80");
    /* and back out byte for byte (without the tags and source a client never sends) */
    const char *body = strstr(line, "PRIVMSG");
    assert_int_equal(irc_format_command(out, sizeof out, m.verb, m.params, m.n_params),
                     (int)strlen(body));
    assert_string_equal(out, body);
    irc_message_free(&m);
}

static void test_fifteen_params(void **state)
{
    irc_message m;
    char out[IRC_FORMAT_MAX];

    (void)state;
    /* 20 words: the 15th param takes the rest of the line, as RFC 2812 reads it. */
    parse_ok("FOO 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16  17 18 19 20", &m);
    assert_int_equal(m.n_params, IRC_PARAMS_MAX);
    assert_string_equal(m.params[0], "1");
    assert_string_equal(m.params[13], "14");
    assert_string_equal(m.params[14], "15 16  17 18 19 20");
    assert_true(irc_format_command(out, sizeof out, m.verb, m.params, m.n_params) > 0);
    assert_string_equal(out, "FOO 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16  17 18 19 20");
    irc_message_free(&m);

    parse_ok("FOO 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16", &m);
    assert_int_equal(m.n_params, 15);
    assert_string_equal(m.params[14], "15 16");
    irc_message_free(&m);

    parse_ok("FOO 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", &m);
    assert_int_equal(m.n_params, 15);
    assert_string_equal(m.params[14], "15");
    irc_message_free(&m);
}

/* ------------------------------------------------------------ malformed lines */

static void test_malformed(void **state)
{
    (void)state;
    parse_fails("", 0, IRC_ERR_EMPTY);
    parse_fails("\r\n", 2, IRC_ERR_EMPTY);
    parse_fails("     ", 5, IRC_ERR_EMPTY);
    parse_fails("   \r\n", 5, IRC_ERR_EMPTY);
    parse_fails("@", 1, IRC_ERR_NO_VERB);
    parse_fails("@a=b", 4, IRC_ERR_NO_VERB);
    parse_fails("@a=b;c   ", 9, IRC_ERR_NO_VERB);
    parse_fails("@a=b :src", 9, IRC_ERR_NO_VERB);
    parse_fails(":src", 4, IRC_ERR_NO_VERB);
    parse_fails(":src   \r\n", 9, IRC_ERR_NO_VERB);
    parse_fails(":", 1, IRC_ERR_BAD_SOURCE);
    parse_fails(": PING", 6, IRC_ERR_BAD_SOURCE);
    parse_fails("PRIVMSG #c :a\r\nQUIT", 19, IRC_ERR_BAD_CHAR);
    parse_fails("PRIVMSG #c :a\nQUIT\r\n", 20, IRC_ERR_BAD_CHAR);
    parse_fails("PRIVMSG #c :a\rb", 15, IRC_ERR_BAD_CHAR);
    parse_fails("PRIVMSG #c :a\0b", 15, IRC_ERR_BAD_CHAR);
    parse_fails("@a=b\nc PING", 11, IRC_ERR_BAD_CHAR);
    parse_fails(":src :PRIVMSG x", 15, IRC_ERR_BAD_VERB);
    parse_fails("PRIV-MSG x", 10, IRC_ERR_BAD_VERB);
    parse_fails("0001 x", 6, IRC_ERR_BAD_VERB);
    parse_fails("12 x", 4, IRC_ERR_BAD_VERB);
    parse_fails("1a2 x", 5, IRC_ERR_BAD_VERB);
}

static void test_null_arguments(void **state)
{
    irc_message m;

    (void)state;
    assert_int_equal(irc_message_parse(NULL, 4, &m), IRC_ERR_ARG);
    assert_null(m.storage_);
    assert_int_equal(irc_message_parse("PING", 4, NULL), IRC_ERR_ARG);
    irc_message_free(NULL);
    assert_int_equal(irc_format_command(NULL, 0, NULL, NULL, 0), IRC_ERR_ARG);
    assert_null(irc_message_tag(NULL, "a"));
}

/* Builds "PRIVMSG #c :xxxx..." whose body (everything, no tags) is body_len bytes. */
static size_t make_body(char *buf, size_t body_len)
{
    const char *head = "PRIVMSG #c :";
    size_t n = strlen(head);

    memcpy(buf, head, n);
    memset(buf + n, 'x', body_len - n);
    buf[body_len] = '\0';
    return body_len;
}

static void test_length_limits(void **state)
{
    static char line[IRC_TAGS_MAX + IRC_BODY_MAX_IN + 64];
    irc_message m;
    size_t n;

    (void)state;
    n = make_body(line, IRC_BODY_MAX_IN);
    assert_int_equal(irc_message_parse(line, n, &m), IRC_OK);
    irc_message_free(&m);
    n = make_body(line, IRC_BODY_MAX_IN + 1);
    parse_fails(line, n, IRC_ERR_TOO_LONG);
    /* the line terminator does not count */
    n = make_body(line, IRC_BODY_MAX_IN);
    memcpy(line + n, "\r\n", 3);
    assert_int_equal(irc_message_parse(line, n + 2, &m), IRC_OK);
    irc_message_free(&m);

    /* tag section: '@' + tags + one space <= IRC_TAGS_MAX */
    line[0] = '@';
    memset(line + 1, 'k', IRC_TAGS_MAX - 2);
    memcpy(line + IRC_TAGS_MAX - 1, " PING", 6);
    assert_int_equal(irc_message_parse(line, strlen(line), &m), IRC_OK);
    assert_int_equal(m.n_tags, 1);
    assert_int_equal(strlen(m.tags[0].key), IRC_TAGS_MAX - 2);
    irc_message_free(&m);
    memset(line + 1, 'k', IRC_TAGS_MAX - 1);
    memcpy(line + IRC_TAGS_MAX, " PING", 6);
    parse_fails(line, strlen(line), IRC_ERR_TOO_LONG);

    /* both at their maximum at once */
    line[0] = '@';
    memset(line + 1, 'k', IRC_TAGS_MAX - 2);
    line[IRC_TAGS_MAX - 1] = ' ';
    n = make_body(line + IRC_TAGS_MAX, IRC_BODY_MAX_IN);
    assert_int_equal(irc_message_parse(line, IRC_TAGS_MAX + n, &m), IRC_OK);
    irc_message_free(&m);
    assert_true(IRC_TAGS_MAX + n + 2 <= IRC_LINE_MAX);

    /* extra spaces after the tag section count with the body, so the two limits add up */
    memcpy(line, "@a ", 3);
    memset(line + 3, ' ', 10);
    n = make_body(line + 13, IRC_BODY_MAX_IN - 10);
    assert_int_equal(irc_message_parse(line, 13 + n, &m), IRC_OK);
    assert_string_equal(m.verb, "PRIVMSG");
    irc_message_free(&m);
    memset(line + 3, ' ', 11);
    n = make_body(line + 14, IRC_BODY_MAX_IN - 10);
    parse_fails(line, 14 + n, IRC_ERR_TOO_LONG);
    /* and anything past both limits together is refused before it is even scanned */
    memset(line, 'x', sizeof line);
    parse_fails(line, IRC_TAGS_MAX + IRC_BODY_MAX_IN + 1, IRC_ERR_TOO_LONG);
}

/* ------------------------------------------------------------ command builder */

/* Builds verb with the n params into out (IRC_FORMAT_MAX bytes) and returns the result. */
static int build(char *out, const char *verb, const char *const *params, size_t n)
{
    return irc_format_command(out, IRC_FORMAT_MAX, verb, params, n);
}

static void test_command_basic(void **state)
{
    char out[IRC_FORMAT_MAX];

    (void)state;
    assert_int_equal(build(out, "PRIVMSG", (const char *const[]){"#c", "hello"}, 2), 16);
    assert_string_equal(out, "PRIVMSG #c hello");
    /* ':' before the last param exactly when it is empty, holds a space or starts with ':' */
    build(out, "PRIVMSG", (const char *const[]){"#c", ""}, 2);
    assert_string_equal(out, "PRIVMSG #c :");
    build(out, "PRIVMSG", (const char *const[]){"#c", ":-)"}, 2);
    assert_string_equal(out, "PRIVMSG #c ::-)");
    build(out, "PRIVMSG", (const char *const[]){"#c", "two words"}, 2);
    assert_string_equal(out, "PRIVMSG #c :two words");
    build(out, "PRIVMSG", (const char *const[]){"#c", " lead"}, 2);
    assert_string_equal(out, "PRIVMSG #c : lead");
    assert_int_equal(build(out, "001", NULL, 0), 3);
    assert_string_equal(out, "001");
    /* bytes >= 0x80 and other control bytes are written as they are */
    build(out, "PRIVMSG", (const char *const[]){"#c", "caf\xc3\xa9\x01\t"}, 2);
    assert_string_equal(out, "PRIVMSG #c caf\xc3\xa9\x01\t");
}

static void test_command_buffer_bounds(void **state)
{
    char out[16];
    const char *const params[] = {"#c", "hello"};

    (void)state;
    /* "PRIVMSG #c hello" is 16 bytes: needs 17 with the NUL */
    memset(out, 'Z', sizeof out);
    assert_int_equal(irc_format_command(out, 16, "PRIVMSG", params, 2), IRC_ERR_NOSPACE);
    assert_string_equal(out, "");
    memset(out, 'Z', sizeof out);
    assert_int_equal(irc_format_command(out, 1, "PRIVMSG", params, 2), IRC_ERR_NOSPACE);
    assert_int_equal(out[0], '\0');
    assert_int_equal(out[1], 'Z'); /* nothing written past cap */
    assert_int_equal(irc_format_command(NULL, 0, "PRIVMSG", params, 2), IRC_ERR_NOSPACE);
    assert_int_equal(irc_format_command(NULL, 16, "PRIVMSG", params, 2), IRC_ERR_ARG);
    assert_int_equal(irc_format_command(out, 16, "PRIVMSG", (const char *const[]){"#c", "hell"}, 2),
                     15);
    assert_string_equal(out, "PRIVMSG #c hell");
}

static void test_command_length_limit(void **state)
{
    static char text[IRC_BODY_MAX + 16];
    static char out[IRC_BODY_MAX + 64];
    const char *const params[] = {"#c", text};
    const size_t head = strlen("PRIVMSG #c :");

    (void)state;
    memset(text, 'x', sizeof text);
    text[0] = ' '; /* needs the ':' */
    text[IRC_BODY_MAX - head] = '\0';
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG", params, 2), IRC_BODY_MAX);
    /* IRC_FORMAT_MAX is always enough */
    assert_int_equal(irc_format_command(out, IRC_FORMAT_MAX, "PRIVMSG", params, 2), IRC_BODY_MAX);
    text[IRC_BODY_MAX - head] = 'x';
    text[IRC_BODY_MAX - head + 1] = '\0';
    memset(out, 'Z', sizeof out);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG", params, 2), IRC_ERR_TOO_LONG);
    assert_string_equal(out, ""); /* nothing half-written is left behind */
    /* stripped line breaks do not count */
    text[1] = '\r';
    text[2] = '\n';
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG", params, 2), IRC_BODY_MAX - 1);
}

/* ------------------------------------------------------------ parsed, then built back */

/* What the bot receives it can send back as a command (PONG, say): the verb and params
 * survive; tags and the source are left out. */
static void test_parse_then_build(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"PING :irc.example", "PING irc.example"},
        {"PING irc.example", "PING irc.example"},
        {"@time=2024-01-01T00:00:00Z;msgid=x :n!u@h PRIVMSG #c :hi there\r\n",
         "PRIVMSG #c :hi there"},
        {"@a=;b=1\\s2;a=3 FOO", "FOO"},
        {"  :src   MODE  #c +o  n  ", "MODE #c +o n"},
        {":srv CAP * LS * :sasl server-time", "CAP * LS * :sasl server-time"},
        {"FOO a :", "FOO a :"},
        {"FOO a ::b", "FOO a ::b"},
        {"@ PING x", "PING x"},
        {"@;; PING x", "PING x"},
    };
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        irc_message a, b;
        char out[IRC_FORMAT_MAX];
        int n;

        parse_ok(cases[i].in, &a);
        n = build(out, a.verb, a.params, a.n_params);
        assert_int_equal(n, (int)strlen(cases[i].out));
        assert_string_equal(out, cases[i].out);
        parse_ok(out, &b);
        assert_string_equal(a.verb, b.verb);
        assert_int_equal(a.n_params, b.n_params);
        for (j = 0; j < a.n_params; j++)
            assert_string_equal(a.params[j], b.params[j]);
        irc_message_free(&a);
        irc_message_free(&b);
    }
}

/* ------------------------------------------------------------ injection */

static void test_format_command_strips_breaks(void **state)
{
    char out[IRC_FORMAT_MAX];
    irc_message m;
    int n;

    (void)state;
    n = irc_format_command(out, sizeof out, "PRIVMSG",
                           (const char *const[]){"#careers", "hi\r\nQUIT :pwned"}, 2);
    assert_true(n > 0);
    assert_string_equal(out, "PRIVMSG #careers :hiQUIT :pwned");
    assert_null(strchr(out, '\r'));
    assert_null(strchr(out, '\n'));
    /* it is still one well-formed message with the text in one param */
    parse_ok(out, &m);
    assert_string_equal(m.verb, "PRIVMSG");
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.params[1], "hiQUIT :pwned");
    irc_message_free(&m);

    /* breaks in the target too; stripping decides ':' on what is left */
    n = irc_format_command(out, sizeof out, "PRIVMSG",
                           (const char *const[]){"#c\r\n", "\n\r"}, 2);
    assert_true(n > 0);
    assert_string_equal(out, "PRIVMSG #c :");
    n = irc_format_command(out, sizeof out, "PRIVMSG",
                           (const char *const[]){"#c", "\n:x"}, 2);
    assert_string_equal(out, "PRIVMSG #c ::x");
    n = irc_format_command(out, sizeof out, "NICK", (const char *const[]){"bot\r\n"}, 1);
    assert_int_equal(n, 8);
    assert_string_equal(out, "NICK bot");
}

static void test_format_command_refuses(void **state)
{
    char out[IRC_FORMAT_MAX];

    (void)state;
    /* a middle param that would become two words, or vanish, cannot be fixed silently */
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){"#a #b", "x"}, 2),
                     IRC_ERR_BAD_PARAM);
    assert_string_equal(out, "");
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){"\r\n", "x"}, 2),
                     IRC_ERR_BAD_PARAM);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){"\n:x", "x"}, 2),
                     IRC_ERR_BAD_PARAM);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){":#a", "x"}, 2),
                     IRC_ERR_BAD_PARAM);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){"", "x"}, 2),
                     IRC_ERR_BAD_PARAM);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG",
                                        (const char *const[]){NULL, "x"}, 2),
                     IRC_ERR_ARG);
    assert_int_equal(irc_format_command(out, sizeof out, "PRIVMSG\r\nQUIT",
                                        (const char *const[]){"#c", "x"}, 2),
                     IRC_ERR_BAD_VERB);
    assert_string_equal(out, "");
    assert_int_equal(irc_format_command(out, sizeof out, "PRIV MSG", NULL, 0), IRC_ERR_BAD_VERB);
    assert_int_equal(irc_format_command(out, sizeof out, ":x", NULL, 0), IRC_ERR_BAD_VERB);
    assert_int_equal(irc_format_command(out, sizeof out, "", NULL, 0), IRC_ERR_BAD_VERB);
    assert_int_equal(irc_format_command(out, sizeof out, "12", NULL, 0), IRC_ERR_BAD_VERB);
    assert_int_equal(irc_format_command(out, sizeof out, NULL, NULL, 0), IRC_ERR_ARG);
    assert_int_equal(irc_format_command(out, sizeof out, "PING", NULL, 1), IRC_ERR_ARG);
    assert_int_equal(irc_format_command(out, sizeof out, "QUIT", NULL, 0), 4);
    assert_string_equal(out, "QUIT");
    assert_int_equal(irc_format_command(out, sizeof out, "FOO",
                                        (const char *const[]){"1", "2", "3", "4", "5", "6",
                                                              "7", "8", "9", "10", "11", "12",
                                                              "13", "14", "15", "16"},
                                        16),
                     IRC_ERR_BAD_PARAM);
}

static void test_parse_refuses_injection(void **state)
{
    const char *line = "PRIVMSG #c :hi\r\nQUIT :bye\r\n";
    irc_message m;

    (void)state;
    /* a transport that failed to split lines hands us two: refuse, don't half-parse */
    assert_int_equal(irc_message_parse(line, strlen(line), &m), IRC_ERR_BAD_CHAR);
    assert_null(m.verb);
}

/* ------------------------------------------------------------ CTCP */

static void assert_ctcp(const char *text, const char *verb, const char *args)
{
    irc_ctcp c;

    assert_int_equal(irc_ctcp_split(text, &c), 1);
    assert_int_equal(c.verb_len, strlen(verb));
    assert_memory_equal(c.verb, verb, c.verb_len);
    assert_int_equal(c.args_len, strlen(args));
    if (c.args_len > 0)
        assert_memory_equal(c.args, args, c.args_len);
}

static void test_ctcp(void **state)
{
    irc_ctcp c;

    (void)state;
    assert_ctcp("\x01VERSION\x01", "VERSION", "");
    assert_ctcp("\x01" "ACTION waves at everyone\x01", "ACTION", "waves at everyone");
    assert_ctcp("\x01" "ACTION waves", "ACTION", "waves"); /* closing \x01 omitted */
    assert_ctcp("\x01PING 12345\x01 trailing junk", "PING", "12345");
    assert_ctcp("\x01" "ACTION \x01", "ACTION", "");
    assert_ctcp("\x01" "ACTION  two\x01", "ACTION", " two"); /* only one space eaten */

    assert_int_equal(irc_ctcp_split("hello \x01VERSION\x01", &c), 0);
    assert_null(c.verb);
    assert_int_equal(irc_ctcp_split("\x01\x01", &c), 0);
    assert_int_equal(irc_ctcp_split("\x01", &c), 0);
    assert_int_equal(irc_ctcp_split("\x01 x\x01", &c), 0);
    assert_int_equal(irc_ctcp_split("", &c), 0);
    assert_int_equal(irc_ctcp_split(NULL, &c), 0);
    assert_int_equal(irc_ctcp_split("\x01VERSION\x01", NULL), 0);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(irc_strerror(IRC_OK), "success");
    assert_string_equal(irc_strerror(IRC_ERR_TOO_LONG), "line too long");
    assert_string_equal(irc_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_privmsg_with_tags),
        cmocka_unit_test(test_numerics),
        cmocka_unit_test(test_cap_ls_multiline),
        cmocka_unit_test(test_authenticate_plus),
        cmocka_unit_test(test_join_with_and_without_trailing),
        cmocka_unit_test(test_server_notice),
        cmocka_unit_test(test_server_time_tag),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_len_not_nul_terminated),
        cmocka_unit_test(test_spaces_collapse),
        cmocka_unit_test(test_tag_escapes),
        cmocka_unit_test(test_tag_duplicates_and_empties),
        cmocka_unit_test(test_invalid_utf8_passes_through),
        cmocka_unit_test(test_fifteen_params),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_command_basic),
        cmocka_unit_test(test_command_buffer_bounds),
        cmocka_unit_test(test_command_length_limit),
        cmocka_unit_test(test_parse_then_build),
        cmocka_unit_test(test_format_command_strips_breaks),
        cmocka_unit_test(test_format_command_refuses),
        cmocka_unit_test(test_parse_refuses_injection),
        cmocka_unit_test(test_ctcp),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
