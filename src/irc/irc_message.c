/* IRC message parser and command builder. The rules are documented in irc_message.h;
 * this file is the short, careful implementation: the parser is one pass over a private
 * copy of the line that cuts it into NUL-terminated pieces in place. */
#include "irc/irc_message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *irc_strerror(int err)
{
    switch (err) {
    case IRC_OK: return "success";
    case IRC_ERR_ARG: return "missing argument";
    case IRC_ERR_EMPTY: return "empty line";
    case IRC_ERR_TOO_LONG: return "line too long";
    case IRC_ERR_BAD_CHAR: return "NUL, CR or LF inside the line";
    case IRC_ERR_NO_VERB: return "no command";
    case IRC_ERR_BAD_VERB: return "command is not letters or a three-digit numeric";
    case IRC_ERR_BAD_SOURCE: return "empty or malformed source";
    case IRC_ERR_BAD_PARAM: return "parameter cannot be written on the wire";
    case IRC_ERR_NOSPACE: return "output buffer too small";
    case IRC_ERR_NOMEM: return "out of memory";
    default: return "unknown error";
    }
}

/* ---------------------------------------------------------------- shared checks */

static int is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Letters only, or exactly three digits: anything else could be mistaken for a source
 * or tag section when written back, and no real server sends it. */
static int verb_is_valid(const char *v)
{
    size_t n = strlen(v);
    size_t i;

    if (n == 0)
        return 0;
    if (is_digit(v[0])) {
        if (n != 3)
            return 0;
        return is_digit(v[1]) && is_digit(v[2]);
    }
    for (i = 0; i < n; i++)
        if (!is_letter(v[i]))
            return 0;
    return 1;
}

static int is_line_break(char c)
{
    return c == '\r' || c == '\n';
}

/* ---------------------------------------------------------------- parser */

/* In place: \: ; \s space \\ \ \r \n; unknown escapes lose the backslash, a lone trailing
 * backslash is dropped. Output never outgrows input, so the rewrite is safe. Returns the
 * new length. */
static size_t unescape_tag_value(char *s, size_t n)
{
    size_t i = 0, o = 0;

    while (i < n) {
        char c = s[i++];
        if (c != '\\') {
            s[o++] = c;
            continue;
        }
        if (i == n)
            break;
        c = s[i++];
        switch (c) {
        case ':': s[o++] = ';'; break;
        case 's': s[o++] = ' '; break;
        case 'r': s[o++] = '\r'; break;
        case 'n': s[o++] = '\n'; break;
        default: s[o++] = c; break; /* covers "\\" too */
        }
    }
    return o;
}

/* Orders tag pointers by key, then by position, so equal keys sit together, first first. */
static int cmp_tag_ptr(const void *a, const void *b)
{
    const irc_tag *x = *(const irc_tag *const *)a;
    const irc_tag *y = *(const irc_tag *const *)b;
    int c = strcmp(x->key, y->key);

    return c ? c : (x > y) - (x < y);
}

/* When a key repeats, the spec says the last value wins; we keep one entry per key (so
 * lookups are unambiguous) at the key's first position. Sorting keeps this O(n log n):
 * a hostile 8 KB tag section holds two thousand tags, too many for a pairwise scan.
 * order has room for n pointers. Returns the new count. */
static size_t dedupe_tags(irc_tag *tags, size_t n, irc_tag **order)
{
    size_t i, j, k, o = 0;

    for (i = 0; i < n; i++)
        order[i] = &tags[i];
    qsort(order, n, sizeof *order, cmp_tag_ptr);
    for (i = 0; i < n; i = j + 1) {
        for (j = i; j + 1 < n && strcmp(order[j + 1]->key, order[i]->key) == 0; j++)
            ;
        order[i]->value = order[j]->value;
        for (k = i + 1; k <= j; k++)
            order[k]->key = NULL; /* dropped by the compaction below */
    }
    for (i = 0; i < n; i++)
        if (tags[i].key)
            tags[o++] = tags[i];
    return o;
}

/* Cuts s[0..n) (the tag section without '@' and without the space) into tags. s[n] is
 * writable: it is the space after the section, or the copy's final NUL. */
static void parse_tags(char *s, size_t n, irc_tag *tags, size_t *n_tags)
{
    size_t pos = 0;

    while (pos <= n) {
        char *item = s + pos;
        char *semi = memchr(item, ';', n - pos);
        size_t item_len = semi ? (size_t)(semi - item) : n - pos;
        char *eq = memchr(item, '=', item_len);
        char *value = item + item_len; /* the empty string once cut */

        pos += item_len + 1;
        item[item_len] = '\0';
        if (eq) {
            size_t vlen = unescape_tag_value(eq + 1, item_len - (size_t)(eq + 1 - item));
            eq[1 + vlen] = '\0';
            *eq = '\0';
            value = eq + 1;
        }
        if (item[0] != '\0') {
            tags[*n_tags].key = item;
            tags[*n_tags].value = value;
            (*n_tags)++;
        }
    }
}

/* Index of the first space at or after i, or len. */
static size_t word_end(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] != ' ')
        i++;
    return i;
}

static size_t skip_spaces(const char *s, size_t i, size_t len)
{
    while (i < len && s[i] == ' ')
        i++;
    return i;
}

/* NUL-terminates the word starting at *i and moves *i past it and the byte that ended it
 * (a space, now '\0'), so the next skip_spaces sees the following bytes. */
static char *cut_word(char *s, size_t *i, size_t len)
{
    char *word = s + *i;
    size_t end = word_end(s, *i, len);

    s[end] = '\0';
    *i = end < len ? end + 1 : len;
    return word;
}

/* Parses source, verb and params from s[i..len), cutting s in place. s[len] is '\0'. */
static int parse_body(char *s, size_t i, size_t len, irc_message *m)
{
    if (s[i] == ':') {
        i++;
        m->source = cut_word(s, &i, len);
        if (m->source[0] == '\0') {
            m->source = NULL;
            return IRC_ERR_BAD_SOURCE;
        }
        i = skip_spaces(s, i, len);
        if (i == len)
            return IRC_ERR_NO_VERB;
    }

    m->verb = cut_word(s, &i, len);
    if (!verb_is_valid(m->verb))
        return IRC_ERR_BAD_VERB;

    for (;;) {
        i = skip_spaces(s, i, len);
        if (i == len)
            break;
        /* After 14 middles the rest of the line is the 15th param (RFC 2812). */
        if (s[i] == ':' || m->n_params == IRC_PARAMS_MAX - 1) {
            if (s[i] == ':')
                i++;
            m->params[m->n_params++] = s + i; /* s[len] is already '\0' */
            break;
        }
        m->params[m->n_params++] = cut_word(s, &i, len);
    }
    return IRC_OK;
}

static size_t count_char(const char *s, size_t n, char c)
{
    size_t k = 0, i;

    for (i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

/* One allocation holds the tag array, the scratch pointers dedupe_tags sorts, then a copy
 * of the line, so a message is released with one free whatever its shape. */
static void *alloc_storage(size_t n_tags_max, const char *line, size_t len, char **copy)
{
    const size_t per_tag = sizeof(irc_tag) + sizeof(irc_tag *);
    size_t tag_bytes;
    char *block;

    if (n_tags_max > (SIZE_MAX - len - 1) / per_tag)
        return NULL;
    tag_bytes = n_tags_max * per_tag;
    block = malloc(tag_bytes + len + 1);
    if (!block)
        return NULL;
    *copy = block + tag_bytes;
    memcpy(*copy, line, len);
    (*copy)[len] = '\0';
    return block;
}

int irc_message_parse(const char *line, size_t len, irc_message *out)
{
    size_t i, tag_start = 0, tag_end = 0, body_start = 0, n_tags_max = 0;
    char *copy;
    int rc;

    if (!out)
        return IRC_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (!line)
        return IRC_ERR_ARG;

    while (len > 0 && is_line_break(line[len - 1]))
        len--;
    if (len > IRC_TAGS_MAX + IRC_BODY_MAX_IN)
        return IRC_ERR_TOO_LONG; /* cheap early bound; the exact limits follow */
    for (i = 0; i < len; i++)
        if (line[i] == '\0' || is_line_break(line[i]))
            return IRC_ERR_BAD_CHAR;

    i = skip_spaces(line, 0, len);
    if (i == len)
        return IRC_ERR_EMPTY;

    if (line[i] == '@') {
        tag_start = i + 1;
        tag_end = word_end(line, tag_start, len);
        /* Leading spaces count with the tag section, extra spaces after it with the body,
         * so the two limits add up to the whole line. */
        if (tag_end + 1 > IRC_TAGS_MAX)
            return IRC_ERR_TOO_LONG;
        body_start = tag_end < len ? tag_end + 1 : len;
        n_tags_max = count_char(line + tag_start, tag_end - tag_start, ';') + 1;
        i = skip_spaces(line, tag_end, len);
    }
    if (len - body_start > IRC_BODY_MAX_IN)
        return IRC_ERR_TOO_LONG;
    if (i == len)
        return IRC_ERR_NO_VERB;

    out->storage_ = alloc_storage(n_tags_max, line, len, &copy);
    if (!out->storage_)
        return IRC_ERR_NOMEM;

    if (n_tags_max > 0) {
        irc_tag *tags = out->storage_;
        size_t n = 0;
        parse_tags(copy + tag_start, tag_end - tag_start, tags, &n);
        out->n_tags = dedupe_tags(tags, n, (irc_tag **)(tags + n_tags_max));
        out->tags = tags;
    }
    rc = parse_body(copy, i, len, out);
    if (rc != IRC_OK)
        irc_message_free(out);
    return rc;
}

void irc_message_free(irc_message *m)
{
    if (!m)
        return;
    free(m->storage_);
    memset(m, 0, sizeof *m);
}

const char *irc_message_tag(const irc_message *m, const char *key)
{
    size_t i;

    if (!m || !key)
        return NULL;
    for (i = 0; i < m->n_tags; i++)
        if (strcmp(m->tags[i].key, key) == 0)
            return m->tags[i].value;
    return NULL;
}

/* ---------------------------------------------------------------- command builder */

/* Appends to a bounded buffer but keeps counting past the end, so one pass both writes
 * and measures; overflow is reported once at the end. */
typedef struct writer {
    char *buf;
    size_t cap;
    size_t len;
} writer;

static void put_char(writer *w, char c)
{
    if (w->len + 1 < w->cap)
        w->buf[w->len] = c;
    w->len++;
}

/* s as sent: without its CR and LF bytes. */
static void put_stripped(writer *w, const char *s)
{
    for (; *s; s++)
        if (!is_line_break(*s))
            put_char(w, *s);
}

/* A param once its CR and LF are gone: its first byte, whether it holds a space. */
typedef struct param_shape {
    char first;
    int has_space;
} param_shape;

static param_shape shape_of(const char *s)
{
    param_shape p = {0, 0};

    for (; *s; s++) {
        if (is_line_break(*s))
            continue;
        if (p.first == '\0')
            p.first = *s;
        if (*s == ' ')
            p.has_space = 1;
    }
    return p;
}

/* Empty, holding a space or starting with ':': only the last param can be that, with ':'. */
static int needs_colon(param_shape p)
{
    return p.first == '\0' || p.first == ':' || p.has_space;
}

static int check_command(char *buf, size_t cap, const char *verb, const char *const *params,
                         size_t n)
{
    size_t i;

    if (n > IRC_PARAMS_MAX)
        return IRC_ERR_BAD_PARAM;
    if (!verb || (n > 0 && !params) || (!buf && cap > 0))
        return IRC_ERR_ARG;
    if (!verb_is_valid(verb))
        return IRC_ERR_BAD_VERB;
    for (i = 0; i < n; i++) {
        if (!params[i])
            return IRC_ERR_ARG;
        if (i + 1 < n && needs_colon(shape_of(params[i])))
            return IRC_ERR_BAD_PARAM;
    }
    return IRC_OK;
}

int irc_format_command(char *buf, size_t cap, const char *verb, const char *const *params,
                       size_t n)
{
    writer w = {buf, cap, 0};
    size_t i;
    int rc = check_command(buf, cap, verb, params, n);

    if (rc == IRC_OK) {
        for (; *verb; verb++)
            put_char(&w, *verb);
        for (i = 0; i < n; i++) {
            put_char(&w, ' ');
            if (i + 1 == n && needs_colon(shape_of(params[i])))
                put_char(&w, ':');
            put_stripped(&w, params[i]);
        }
        rc = w.len > IRC_BODY_MAX ? IRC_ERR_TOO_LONG : w.len >= cap ? IRC_ERR_NOSPACE : (int)w.len;
    }
    if (buf && cap > 0)
        buf[rc < 0 ? 0 : w.len] = '\0';
    return rc;
}

/* ---------------------------------------------------------------- CTCP */

int irc_ctcp_split(const char *text, irc_ctcp *out)
{
    const char *p, *end;

    if (!out)
        return 0;
    memset(out, 0, sizeof *out);
    if (!text || text[0] != '\x01')
        return 0;
    p = text + 1;
    end = p + strcspn(p, "\x01"); /* closing \x01 or end of text */

    out->verb = p;
    while (p < end && *p != ' ')
        p++;
    out->verb_len = (size_t)(p - out->verb);
    if (out->verb_len == 0) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    if (p < end)
        p++; /* the one space between verb and args */
    out->args = p;
    out->args_len = (size_t)(end - p);
    return 1;
}
