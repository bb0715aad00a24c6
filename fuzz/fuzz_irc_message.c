/* libFuzzer target for irc_message.h. Any bytes go to the parser; whatever it
 * accepts must hold unique tag keys, and its verb and params must build into a command
 * that parses back to the same verb and params and builds to the same line again (a
 * fixed point). The same bytes also drive irc_format_command as untrusted text (no CR/LF
 * may survive) and irc_ctcp_split. Any broken property aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/irc_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_irc_message: %s\n", what);
        abort();
    }
}

static void check_same_command(const irc_message *a, const irc_message *b)
{
    size_t i;

    check(strcmp(a->verb, b->verb) == 0, "verb changed");
    check(a->n_params == b->n_params, "param count changed");
    for (i = 0; i < a->n_params; i++)
        check(strcmp(a->params[i], b->params[i]) == 0, "param changed");
}

static void check_round_trip(const uint8_t *data, size_t size)
{
    static char out1[IRC_FORMAT_MAX], out2[IRC_FORMAT_MAX];
    irc_message a, b;
    size_t i;
    int n1, n2;

    if (irc_message_parse((const char *)data, size, &a) != IRC_OK) {
        check(a.storage_ == NULL && a.verb == NULL, "failed parse left state behind");
        return;
    }
    for (i = 0; i < a.n_tags; i++) /* keys are unique: a lookup finds this very tag */
        check(irc_message_tag(&a, a.tags[i].key) == a.tags[i].value, "duplicate tag key");
    n1 = irc_format_command(out1, sizeof out1, a.verb, a.params, a.n_params);
    if (n1 == IRC_ERR_TOO_LONG) {
        /* Building drops tags and source, collapses spaces and adds at most the one ':' of
         * a joined 15th param, so only input already near the send limit can get here. */
        check(size >= IRC_BODY_MAX, "command too long for a short input");
        irc_message_free(&a);
        return;
    }
    check(n1 >= 0, "a parsed message failed to build");
    check((size_t)n1 == strlen(out1), "command length wrong");
    check(strpbrk(out1, "\r\n") == NULL, "command holds a line break");

    check(irc_message_parse(out1, (size_t)n1, &b) == IRC_OK, "built line does not parse");
    check(b.n_tags == 0 && b.source == NULL, "built line has tags or a source");
    check_same_command(&a, &b);
    n2 = irc_format_command(out2, sizeof out2, b.verb, b.params, b.n_params);
    check(n2 == n1 && memcmp(out1, out2, (size_t)n1) == 0, "building is not a fixed point");
    irc_message_free(&a);
    irc_message_free(&b);
}

/* Copies s without CR and LF into out (which has room). */
static void strip_breaks(const char *s, char *out)
{
    for (; *s; s++)
        if (*s != '\r' && *s != '\n')
            *out++ = *s;
    *out = '\0';
}

/* The NUL-separated pieces of text are params of a PRIVMSG built from untrusted text. */
static void check_format_command(const char *text, size_t size)
{
    static char out[IRC_FORMAT_MAX], want[IRC_LINE_MAX];
    const char *params[IRC_PARAMS_MAX];
    size_t n = 0, off = 0, i;
    irc_message m;
    int rc;

    while (off <= size && n < IRC_PARAMS_MAX) {
        params[n++] = text + off;
        off += strlen(text + off) + 1;
    }
    rc = irc_format_command(out, sizeof out, "PRIVMSG", params, n);
    if (rc < 0) {
        check(rc == IRC_ERR_BAD_PARAM || rc == IRC_ERR_TOO_LONG, "unexpected command error");
        check(out[0] == '\0', "error left output behind");
        return;
    }
    check(strpbrk(out, "\r\n") == NULL, "command holds a line break");
    check(irc_message_parse(out, (size_t)rc, &m) == IRC_OK, "command does not parse");
    check(strcmp(m.verb, "PRIVMSG") == 0, "command verb changed");
    check(m.n_params == n, "command param count changed");
    for (i = 0; i < n; i++) {
        strip_breaks(params[i], want);
        check(strcmp(m.params[i], want) == 0, "command param changed");
    }
    irc_message_free(&m);
}

static void check_ctcp(const char *text)
{
    size_t len = strlen(text);
    irc_ctcp c;

    if (!irc_ctcp_split(text, &c))
        return;
    check(text[0] == '\x01' && c.verb == text + 1 && c.verb_len > 0, "ctcp verb");
    check(memchr(c.verb, ' ', c.verb_len) == NULL, "ctcp verb holds a space");
    check(memchr(c.verb, '\x01', c.verb_len) == NULL, "ctcp verb holds \\x01");
    check(c.args >= c.verb + c.verb_len && c.args + c.args_len <= text + len, "ctcp bounds");
    check(memchr(c.args, '\x01', c.args_len) == NULL, "ctcp args hold \\x01");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size > IRC_LINE_MAX)
        return 0; /* longer lines are refused up front; nothing more to learn */
    check_round_trip(data, size);

    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_format_command(text, size);
    check_ctcp(text);
    free(text);
    return 0;
}
