/* Reply contents for Matrix: plain body, HTML formatted_body, relations. */
#include "matrix/matrix_format.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* overlong forms, surrogates and code points past U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

char *matrix_clean_text(const char *text, size_t len)
{
    base_strbuf b = {0};
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            base_strbuf_add(&b, "\xEF\xBF\xBD"); /* U+FFFD */
            i++;
        } else if (n == 1 && s[i] == '\t') {
            base_strbuf_addn(&b, " ", 1), i++;
        } else if (n == 1 && ((s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f)) {
            i++;
        } else {
            base_strbuf_addn(&b, text + i, n);
            i += n;
        }
    }
    return base_strbuf_take(&b);
}

static void add_escaped(base_strbuf *b, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (text[i]) {
        case '&': base_strbuf_add(b, "&amp;"); break;
        case '<': base_strbuf_add(b, "&lt;"); break;
        case '>': base_strbuf_add(b, "&gt;"); break;
        case '"': base_strbuf_add(b, "&quot;"); break;
        case '\'': base_strbuf_add(b, "&#39;"); break;
        default: base_strbuf_addn(b, text + i, 1);
        }
    }
}

char *matrix_html_escape(const char *text, size_t len)
{
    base_strbuf b = {0};
    add_escaped(&b, text, len);
    return base_strbuf_take(&b);
}

/* "12. rest": the item number (1-999) and where the rest starts, or 0. */
static int list_number(const char *line, size_t len, size_t *rest)
{
    size_t i = 0;
    int n = 0;
    while (i < len && i < 3 && line[i] >= '0' && line[i] <= '9')
        n = n * 10 + (line[i++] - '0');
    if (i == 0 || n == 0 || i + 1 >= len || line[i] != '.' || line[i + 1] != ' ')
        return 0;
    *rest = i + 2;
    return n;
}

/* Length of a leading "Step N:" label, or 0. */
static size_t step_label(const char *line, size_t len)
{
    size_t i = 5;
    if (len < 7 || strncmp(line, "Step ", 5) != 0)
        return 0;
    while (i < len && i < 8 && line[i] >= '0' && line[i] <= '9')
        i++;
    return i > 5 && i < len && line[i] == ':' ? i + 1 : 0;
}

typedef struct line {
    const char *s;
    size_t len;
} line;

/* The next non-empty line at or after *pos, or len 0 at the end. */
static line next_line(const char *text, size_t *pos)
{
    line l = {NULL, 0};
    size_t total = strlen(text);
    while (*pos < total) {
        const char *start = text + *pos, *nl = strchr(start, '\n');
        size_t n = nl ? (size_t)(nl - start) : strlen(start);
        *pos += n + (nl ? 1 : 0);
        while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\r'))
            n--;
        if (n > 0) {
            l.s = start;
            l.len = n;
            return l;
        }
    }
    return l;
}

char *matrix_reply_html(const char *text)
{
    base_strbuf b = {0};
    size_t pos = 0, rest;
    line cur = next_line(text, &pos);
    int in_list = 0;
    while (cur.len) {
        line next = next_line(text, &pos);
        int number = list_number(cur.s, cur.len, &rest);
        if (number) {
            if (!in_list) {
                if (number == 1)
                    base_strbuf_add(&b, "<ol>");
                else
                    base_strbuf_addf(&b, "<ol start=\"%d\">", number);
                in_list = 1;
            }
            base_strbuf_add(&b, "<li>");
            add_escaped(&b, cur.s + rest, cur.len - rest);
            base_strbuf_add(&b, "</li>");
        } else {
            if (in_list)
                base_strbuf_add(&b, "</ol>");
            in_list = 0;
            size_t label = step_label(cur.s, cur.len);
            int title = cur.s[cur.len - 1] == ':' && next.len && list_number(next.s, next.len, &rest);
            if (title)
                label = cur.len;
            base_strbuf_add(&b, "<p>");
            if (label) {
                base_strbuf_add(&b, "<strong>");
                add_escaped(&b, cur.s, label);
                base_strbuf_add(&b, "</strong>");
            }
            add_escaped(&b, cur.s + label, cur.len - label);
            base_strbuf_add(&b, "</p>");
        }
        cur = next;
    }
    if (in_list)
        base_strbuf_add(&b, "</ol>");
    return base_strbuf_take(&b);
}

/* Serialises content and releases it. */
static char *dump(json_t *content)
{
    if (!content)
        return NULL;
    char *out = json_dumps(content, JSON_COMPACT);
    json_decref(content);
    return out;
}

/* The name a pill shows: the given name on one line, or the localpart. */
static char *pill_name(const char *user_id, const char *name)
{
    if (name && *name) {
        char *clean = matrix_clean_text(name, strlen(name));
        for (char *p = clean; p && *p; p++)
            if (*p == '\n')
                *p = ' ';
        return clean;
    }
    const char *colon = strchr(user_id, ':');
    size_t n = colon && user_id[0] == '@' ? (size_t)(colon - user_id) - 1 : strlen(user_id);
    return matrix_clean_text(user_id + (colon && user_id[0] == '@'), n);
}

/* "Name: " in front of the body and a pill in front of the HTML (inside its
 * first paragraph when it starts with one). Takes and may replace *body and
 * *html; returns 0 on OOM. */
static int add_pill(char **body, char **html, const char *user_id, const char *name)
{
    char *shown = pill_name(user_id, name);
    char *esc_name = shown ? matrix_html_escape(shown, strlen(shown)) : NULL;
    char *esc_id = esc_name ? matrix_html_escape(user_id, strlen(user_id)) : NULL;
    base_strbuf b = {0}, h = {0};
    if (esc_id) {
        base_strbuf_addf(&b, "%s: %s", shown, *body);
        int para = strncmp(*html, "<p>", 3) == 0;
        base_strbuf_addf(&h, "<p><a href=\"https://matrix.to/#/%s\">%s</a>:%s%s", esc_id, esc_name,
                         para ? " " : "</p>", *html + (para ? 3 : 0));
    }
    free(shown);
    free(esc_name);
    free(esc_id);
    char *nb = base_strbuf_take(&b), *nh = base_strbuf_take(&h);
    if (!nb || !nh) {
        free(nb);
        free(nh);
        return 0;
    }
    free(*body);
    free(*html);
    *body = nb;
    *html = nh;
    return 1;
}

char *matrix_reply_content(const char *text, const char *reply_to, const char *mention, const char *mention_name,
                           const char *thread_root)
{
    char *clean = matrix_clean_text(text, strlen(text));
    char *html = clean ? matrix_reply_html(clean) : NULL;
    json_t *content = NULL;
    if (html && (!mention || add_pill(&clean, &html, mention, mention_name)))
        content = json_pack("{s:s, s:s, s:s, s:s}", "msgtype", "m.notice", "body", clean, "format",
                            "org.matrix.custom.html", "formatted_body", html);
    free(clean);
    free(html);
    if (!content)
        return NULL;
    json_t *users = json_array();
    json_t *mentions = json_object();
    int failed = !users || !mentions || json_object_set_new(mentions, "user_ids", users) != 0;
    if (!failed && mention)
        failed = json_array_append_new(users, json_string(mention)) != 0;
    /* m.mentions present (even empty) tells clients not to guess mentions
     * from the body, so an answer that repeats a name pings nobody else. */
    if (!failed)
        failed = json_object_set_new(content, "m.mentions", mentions) != 0;
    else
        json_decref(mentions);
    if (!failed && (reply_to || thread_root)) {
        json_t *rel = json_object();
        failed = !rel;
        if (rel && reply_to)
            failed |= json_object_set_new(rel, "m.in_reply_to", json_pack("{s:s}", "event_id", reply_to)) != 0;
        if (rel && thread_root) {
            /* Stay in the question's thread; is_falling_back keeps the reply
             * readable for clients without threads. */
            failed |= json_object_set_new(rel, "rel_type", json_string("m.thread")) != 0;
            failed |= json_object_set_new(rel, "event_id", json_string(thread_root)) != 0;
            failed |= json_object_set_new(rel, "is_falling_back", json_true()) != 0;
        }
        if (rel)
            failed |= json_object_set_new(content, "m.relates_to", rel) != 0;
    }
    if (failed) {
        json_decref(content);
        return NULL;
    }
    return dump(content);
}

char *matrix_notice_content(const char *text)
{
    char *clean = matrix_clean_text(text, strlen(text));
    if (!clean)
        return NULL;
    char *out = dump(json_pack("{s:s, s:s}", "msgtype", "m.notice", "body", clean));
    free(clean);
    return out;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void matrix_txn_id(char out[MATRIX_TXN_MAX], char kind, const char *room_id, const char *event_id)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, room_id);
    h = fnv1a(h ^ 0xff, event_id);
    /* A second, differently seeded hash makes a collision between two
     * answers (which would make the server drop one) vanishingly unlikely. */
    uint64_t h2 = fnv1a(fnv1a(0x84222325cbf29ce4ULL, event_id) ^ 0x5a, room_id);
    char k = (kind >= 'a' && kind <= 'z') ? kind : 'x';
    snprintf(out, MATRIX_TXN_MAX, "cb%c-%016llx%016llx", k, (unsigned long long)h, (unsigned long long)h2);
}
