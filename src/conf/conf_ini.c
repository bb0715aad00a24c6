#include "conf/conf_ini.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when it is not
 * one: overlong forms, surrogates and code points past U+10FFFF are refused. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, min = 0x80, cp = s[0] & 0x1fu;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = s[0] & 0x0fu;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, min = 0x10000, cp = s[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* NULL when text is fine, else what is wrong (in buf). */
static const char *check_text(const char *text, char *buf, size_t cap)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
            snprintf(buf, cap, "holds a control character (byte 0x%02x at column %zu)", s[i], i + 1);
            return buf;
        }
        size_t len = utf8_length(s + i, n - i);
        if (len == 0) {
            snprintf(buf, cap, "is not valid UTF-8 (byte 0x%02x at column %zu)", s[i], i + 1);
            return buf;
        }
        i += len;
    }
    return NULL;
}

typedef struct reader {
    conf_ini_cb cb;
    void *ctx;
    int line;
    int in_value; /* the last line was a key or went on with one: an indented line continues it */
} reader;

static int emit_event(reader *r, conf_ini_kind kind, const char *name, const char *value, int header)
{
    conf_ini_event ev = {kind, r->line, name, value, header};
    if (kind != CONF_INI_KEY && kind != CONF_INI_CONTINUATION)
        r->in_value = 0;
    return r->cb(r->ctx, &ev);
}

static int emit(reader *r, conf_ini_kind kind, const char *name, const char *value)
{
    return emit_event(r, kind, name, value, 0);
}

/* A broken [header]: the keys under it are not the previous section's. */
static int emit_header_error(reader *r, const char *why)
{
    return emit_event(r, CONF_INI_ERROR, NULL, why, 1);
}

static char *trim(char *s)
{
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One line, NUL-terminated in a buffer of its own (so it may be cut up). */
static int read_line(reader *r, char *line)
{
    char why[96];
    int indented = is_blank(line[0]);
    char *p = trim(line);
    if (!*p) {
        r->in_value = 0;
        return 0;
    }
    if (indented && r->in_value) {
        const char *bad = check_text(p, why, sizeof why);
        return bad ? emit(r, CONF_INI_ERROR, NULL, bad) : emit(r, CONF_INI_CONTINUATION, NULL, p);
    }
    if (*p == ';' || *p == '#') {
        r->in_value = 0;
        return 0;
    }
    const char *bad = check_text(p, why, sizeof why);
    if (bad)
        return emit(r, CONF_INI_ERROR, NULL, bad);
    if (*p == '[') {
        size_t n = strlen(p);
        if (p[n - 1] != ']')
            return emit_header_error(r, "not valid INI syntax (a section header is [name])");
        p[n - 1] = '\0';
        char *name = trim(p + 1);
        if (!*name)
            return emit_header_error(r, "not valid INI syntax (the section header has no name)");
        return emit(r, CONF_INI_SECTION, name, NULL);
    }
    char *eq = strchr(p, '=');
    if (!eq)
        return emit(r, CONF_INI_ERROR, NULL, "not valid INI syntax (expected [section] or key = value)");
    *eq = '\0';
    char *key = trim(p), *value = trim(eq + 1);
    if (!*key)
        return emit(r, CONF_INI_ERROR, NULL, "not valid INI syntax (no key before the =)");
    r->in_value = 1;
    return emit(r, CONF_INI_KEY, key, value);
}

int conf_ini_parse(const char *text, size_t len, conf_ini_cb cb, void *ctx)
{
    reader r = {cb, ctx, 0, 0};
    char *line = NULL;
    size_t pos = 0;
    int rc = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (rc == 0 && pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        r.line++;
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (memchr(start, '\0', n)) {
            /* A NUL byte: binary data, not a mistake on one line. */
            rc = emit(&r, CONF_INI_ERROR, NULL, "holds a NUL byte: this is not a text file");
            break;
        }
        if (n > CONF_INI_LINE_MAX) {
            char why[96];
            snprintf(why, sizeof why, "is longer than %d bytes", CONF_INI_LINE_MAX);
            rc = emit(&r, CONF_INI_ERROR, NULL, why);
            continue;
        }
        if (!line && !(line = malloc(CONF_INI_LINE_MAX + 1)))
            return -1;
        memcpy(line, start, n);
        line[n] = '\0';
        rc = read_line(&r, line);
    }
    free(line);
    return rc;
}

int conf_ini_read_file(const char *path, char **text, size_t *len, base_error *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return base_error_at(err, path, 0, 0, "cannot open: %s", strerror(errno));
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int rc = BASE_OK;
    for (;;) {
        if (n == cap) {
            /* One byte past the limit tells a file at the limit from a larger one. */
            size_t want = cap ? cap * 2 : 8192;
            if (want > (size_t)CONF_INI_FILE_MAX + 1)
                want = (size_t)CONF_INI_FILE_MAX + 1;
            if (want == cap) {
                rc = base_error_at(err, path, 0, 0, "is larger than %u MiB: not a configuration file",
                                   CONF_INI_FILE_MAX >> 20);
                break;
            }
            char *grown = realloc(buf, want + 1);
            if (!grown) {
                rc = base_error_at(err, path, 0, 0, "out of memory");
                break;
            }
            buf = grown;
            cap = want;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = base_error_at(err, path, 0, 0, "cannot read: %s", strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc != BASE_OK) {
        free(buf);
        return rc;
    }
    if (!buf && !(buf = malloc(1)))
        return base_error_at(err, path, 0, 0, "out of memory");
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return BASE_OK;
}
