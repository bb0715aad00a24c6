/* Matrix events as facts for the reply gate. */
#include "matrix/matrix_policy.h"

#include <string.h>

const char *matrix_ignore_reason(const matrix_message *m, const char *own_user_id, int live)
{
    if (own_user_id && strcmp(m->sender, own_user_id) == 0)
        return "own event";
    if (m->redacted || !m->body)
        return "redacted";
    if (m->is_edit)
        return "an edit";
    if (!m->msgtype)
        return "no msgtype";
    if (strcmp(m->msgtype, "m.notice") == 0)
        return "a notice (bots answer no notices, so two bots never loop)";
    if (strcmp(m->msgtype, "m.text") != 0)
        return "not text";
    if (!live)
        return "history from before the bot started";
    if (m->before_own_join)
        return "history from before the bot joined";
    return NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

const char *matrix_strip_reply_fallback(const char *body, size_t len, size_t *rest_len)
{
    size_t i = 0;
    if (len < 2 || body[0] != '>' || body[1] != ' ') {
        *rest_len = len;
        return body;
    }
    /* Quoted lines up to the first blank line belong to the fallback. */
    while (i < len && body[i] == '>') {
        const char *nl = memchr(body + i, '\n', len - i);
        i = nl ? (size_t)(nl - body) + 1 : len;
    }
    if (i < len && body[i] == '\n')
        i++;
    *rest_len = len - i;
    return body + i;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)lower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads a link target starting at s (up to a quote, '?', '<', '>' or space),
 * percent-decoded, into out; returns its length or -1 when it does not fit. */
static int read_link(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && !strchr("\"'?<> &", *s); s++) {
        char c = *s;
        if (c == '%' && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0) {
            c = (char)(hex_value(s[1]) * 16 + hex_value(s[2]));
            s += 2;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

/* A pill: <a href="https://matrix.to/#/@bot:example.org">, also
 * percent-encoded, or the matrix: URI form matrix:u/bot:example.org. */
static int pill_for(const char *html, const char *user_id)
{
    char target[300];
    for (const char *p = html; (p = strstr(p, "matrix.to/#/")) != NULL; p += 12)
        if (read_link(p + 12, target, sizeof target) > 0 && strcmp(target, user_id) == 0)
            return 1;
    for (const char *p = html; (p = strstr(p, "matrix:u/")) != NULL; p += 9)
        if (read_link(p + 9, target + 1, sizeof target - 1) > 0) {
            target[0] = '@';
            if (strcmp(target, user_id) == 0)
                return 1;
        }
    return 0;
}

int matrix_mentions_user(const matrix_message *m, const char *user_id)
{
    for (size_t i = 0; i < m->n_mentions; i++)
        if (strcmp(m->mentions[i], user_id) == 0)
            return 1;
    if (m->has_mentions)
        return 0;
    if (m->formatted_body && pill_for(m->formatted_body, user_id))
        return 1;
    return m->body && strstr(m->body, user_id) != NULL;
}

const char *matrix_localpart(const char *user_id, char *buf, size_t cap)
{
    const char *colon = user_id ? strchr(user_id, ':') : NULL;
    size_t n = colon ? (size_t)(colon - user_id) - 1 : 0;
    if (!colon || user_id[0] != '@' || n == 0 || n >= cap)
        return NULL;
    memcpy(buf, user_id + 1, n);
    buf[n] = '\0';
    return buf;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

/* Decodes the few entities a client writes in a pill's text. */
static size_t decode_entity(const char *s, char *out)
{
    static const struct {
        const char *name;
        char c;
    } entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}, {"&#x27;", '\''}};
    for (size_t i = 0; i < sizeof entities / sizeof *entities; i++) {
        size_t n = strlen(entities[i].name);
        if (strncmp(s, entities[i].name, n) == 0) {
            *out = entities[i].c;
            return n;
        }
    }
    *out = *s;
    return 1;
}

const char *matrix_leading_pill(const char *html, const char *user_id, char *buf, size_t cap)
{
    char target[300];
    if (!html || !user_id || cap == 0)
        return NULL;
    const char *p = skip_space(html);
    if (strncmp(p, "<p>", 3) == 0)
        p = skip_space(p + 3);
    if (strncmp(p, "<a ", 3) != 0)
        return NULL;
    const char *close = strchr(p, '>');
    const char *href = strstr(p, "href=");
    if (!close || !href || href > close)
        return NULL;
    href += 5;
    if (*href == '"' || *href == '\'')
        href++;
    if (strncmp(href, "https://matrix.to/#/", 20) == 0) {
        if (read_link(href + 20, target, sizeof target) <= 0 || strcmp(target, user_id) != 0)
            return NULL;
    } else if (strncmp(href, "matrix:u/", 9) == 0) {
        target[0] = '@';
        if (read_link(href + 9, target + 1, sizeof target - 1) <= 0 || strcmp(target, user_id) != 0)
            return NULL;
    } else {
        return NULL;
    }
    /* The link's text, up to </a>, with no markup inside. */
    size_t n = 0;
    for (const char *t = close + 1; *t; ) {
        if (strncmp(t, "</a>", 4) == 0) {
            buf[n] = '\0';
            return n ? buf : NULL;
        }
        if (*t == '<' || n + 1 >= cap)
            return NULL;
        t += decode_entity(t, &buf[n++]);
    }
    return NULL;
}
