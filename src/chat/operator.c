#include "chat/operator.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    chat_op_kind kind;
} commands[] = {
    {"join", CHAT_OP_JOIN},     {"part", CHAT_OP_PART},     {"ignore", CHAT_OP_IGNORE},
    {"unignore", CHAT_OP_UNIGNORE}, {"say", CHAT_OP_SAY},   {"status", CHAT_OP_STATUS},
    {"reload", CHAT_OP_RELOAD}, {"help", CHAT_OP_HELP},
};

const char *chat_op_name(chat_op_kind kind)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (commands[i].kind == kind)
            return commands[i].name;
    return "none";
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The next blank-separated word of [*p, end), copied into buf (cap bytes);
 * *p moves past it. Returns its length, 0 when there is none, or cap when
 * it does not fit. */
static size_t next_word(const char **p, const char *end, char *buf, size_t cap)
{
    while (*p < end && is_blank(**p))
        (*p)++;
    const char *start = *p;
    while (*p < end && !is_blank(**p))
        (*p)++;
    size_t n = (size_t)(*p - start);
    if (n >= cap) {
        buf[0] = '\0';
        return cap;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return n;
}

/* Printable, no control bytes (UTF-8 above 0x7f is fine), none of bad. */
static int clean(const char *s, const char *bad)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || strchr(bad, *s))
            return 0;
    return 1;
}

/* localpart:server after a sigil, as Matrix ids are written. */
static int matrix_id(const char *s, char sigil)
{
    if (s[0] != sigil)
        return 0;
    const char *colon = strchr(s + 1, ':');
    return colon && colon > s + 1 && colon[1] && clean(s, " ,") && strlen(s) <= 255;
}

static int valid_room(const char *s, chat_op_syntax syntax)
{
    if (syntax == CHAT_OP_MATRIX)
        return matrix_id(s, '!') || matrix_id(s, '#');
    /* RFC 2812 channels: # or &, no blank, comma or BEL */
    return (s[0] == '#' || s[0] == '&') && s[1] && strlen(s) <= 200 && clean(s, " ,");
}

static int valid_person(const char *s, chat_op_syntax syntax)
{
    if (syntax == CHAT_OP_MATRIX)
        return matrix_id(s, '@');
    return s[0] && s[0] != '#' && s[0] != '&' && strlen(s) <= 64 && clean(s, " ,:!@*?");
}

static const char *usage(chat_op_kind kind, chat_op_syntax syntax)
{
    int mx = syntax == CHAT_OP_MATRIX;
    switch (kind) {
    case CHAT_OP_JOIN:
        return mx ? "!join needs a room: !join #alias:server or !join !roomid:server"
                  : "!join needs a channel: !join #channel [key]";
    case CHAT_OP_PART:
        return mx ? "!part needs the id of a room the bot is in: !part !roomid:server"
                  : "!part needs a channel: !part #channel";
    case CHAT_OP_IGNORE:
        return mx ? "!ignore needs a user id: !ignore @name:server" : "!ignore needs a nick: !ignore NICK";
    case CHAT_OP_UNIGNORE:
        return mx ? "!unignore needs a user id: !unignore @name:server" : "!unignore needs a nick: !unignore NICK";
    case CHAT_OP_SAY:
        return mx ? "!say needs a room id and a text: !say !roomid:server TEXT"
                  : "!say needs a channel and a text: !say #channel TEXT";
    case CHAT_OP_STATUS:
        return "!status takes nothing after it";
    case CHAT_OP_RELOAD:
        return "!reload takes nothing after it";
    default:
        return NULL;
    }
}

/* The rest of the line, trimmed, as the text of !say: NULL when it is
 * fine, "" when there is none, else what is wrong. */
static const char *read_text(const char *p, const char *end, chat_op *out)
{
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    size_t n = (size_t)(end - p);
    if (n == 0)
        return "";
    if (n > CHAT_OP_TEXT_MAX)
        return "!say takes at most 400 bytes of text";
    if (memchr(p, '\r', n) || memchr(p, '\n', n) || memchr(p, '\0', n))
        return "!say takes one line of text";
    memcpy(out->text, p, n);
    out->text[n] = '\0';
    return NULL;
}

static const char *read_args(chat_op_kind kind, const char *p, const char *end, chat_op_syntax syntax, chat_op *out)
{
    const char *bad = usage(kind, syntax);
    char extra[8];
    switch (kind) {
    case CHAT_OP_HELP:
        return NULL;
    case CHAT_OP_STATUS:
    case CHAT_OP_RELOAD:
        return next_word(&p, end, extra, sizeof extra) ? bad : NULL;
    case CHAT_OP_JOIN:
    case CHAT_OP_PART:
    case CHAT_OP_SAY:
        if (next_word(&p, end, out->target, sizeof out->target) == 0 || !valid_room(out->target, syntax))
            return bad;
        if (kind == CHAT_OP_SAY) {
            const char *why = read_text(p, end, out);
            return why && !*why ? bad : why;
        }
        if (kind == CHAT_OP_JOIN && syntax == CHAT_OP_IRC) {
            size_t n = next_word(&p, end, out->key, sizeof out->key);
            if (n == sizeof out->key || (n && !clean(out->key, " ,")))
                return "!join: that channel key cannot be used";
        }
        return next_word(&p, end, extra, sizeof extra) ? bad : NULL;
    case CHAT_OP_IGNORE:
    case CHAT_OP_UNIGNORE:
        if (next_word(&p, end, out->target, sizeof out->target) == 0 || !valid_person(out->target, syntax))
            return bad;
        return next_word(&p, end, extra, sizeof extra) ? bad : NULL;
    default:
        return NULL;
    }
}

chat_op_kind chat_op_parse(const char *text, size_t len, const char *prefixes, chat_op_syntax syntax,
                           chat_op *out)
{
    memset(out, 0, sizeof *out);
    const char *p = text, *end = text + len;
    while (p < end && is_blank(*p))
        p++;
    if (p == end || *p == '\0' || !strchr(prefixes ? prefixes : "!/", *p))
        return CHAT_OP_NONE;
    p++;
    char word[16];
    size_t n = 0;
    while (p < end && !is_blank(*p) && n < sizeof word - 1)
        word[n++] = lower(*p++);
    word[n] = '\0';
    if (p < end && !is_blank(*p))
        return CHAT_OP_NONE; /* a longer word than any command */
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(word, commands[i].name) != 0)
            continue;
        out->kind = commands[i].kind;
        out->error = read_args(out->kind, p, end, syntax, out);
        return out->kind;
    }
    return CHAT_OP_NONE;
}

int chat_op_is_admin(const char *const *admins, size_t n, const char *account, int direct, chat_casemap map,
                     int exact)
{
    if (!direct || !account || !account[0])
        return 0;
    for (size_t i = 0; i < n; i++)
        if (exact ? strcmp(admins[i], account) == 0 : chat_name_equal(admins[i], account, map))
            return 1;
    return 0;
}

void chat_op_help(char p, chat_op_syntax syntax, base_strbuf *out)
{
    /* Matrix joins by id or alias (the homeserver resolves it), but the
     * bot knows the rooms it is in by id, so leaving and speaking take one. */
    int mx = syntax == CHAT_OP_MATRIX;
    const char *join = mx ? "!roomid:server or #alias:server" : "#channel [key]";
    const char *room = mx ? "!roomid:server" : "#channel";
    const char *who = mx ? "@user:server" : "NICK";
    base_strbuf_addf(out,
                     "Operator commands (here, in a direct message): %cjoin %s, %cpart %s, %cignore %s, "
                     "%cunignore %s, %csay %s TEXT, %cstatus, %creload.",
                     p, join, p, room, p, who, p, who, p, room, p, p);
}
