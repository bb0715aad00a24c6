#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/str.h"

#define LINE_MAX_BYTES 4096  /* a longer line is cut (and says so) */
#define SECRETS_MAX 64
#define SECRET_MIN 4

static int max_level = -1; /* the least important level written; -1: not set yet */
static base_log_style style = BASE_LOG_STYLE_AUTO;
static int journal = -1;   /* the style found for AUTO; -1: not looked at yet */
static FILE *output;       /* NULL: stderr */
static char *secrets[SECRETS_MAX];
static size_t n_secrets;

void base_log_set_level(int level)
{
    max_level = level;
}

int base_log_get_level(void)
{
    if (max_level < 0) {
        const char *d = getenv("CAREERBOT_DEBUG");
        max_level = d && *d && *d != '0' ? BASE_LOG_DEBUG : BASE_LOG_INFO;
    }
    return max_level;
}

int base_log_level_from_name(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"error", BASE_LOG_ERROR}, {"warn", BASE_LOG_WARN},  {"warning", BASE_LOG_WARN},
                 {"notice", BASE_LOG_NOTICE}, {"info", BASE_LOG_INFO}, {"debug", BASE_LOG_DEBUG}};
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].level;
    return -1;
}

const char *base_log_level_name(int level)
{
    switch (level) {
    case BASE_LOG_WARN:
        return "warn";
    case BASE_LOG_NOTICE:
        return "notice";
    case BASE_LOG_INFO:
        return "info";
    case BASE_LOG_DEBUG:
        return "debug";
    default:
        return level < BASE_LOG_WARN ? "error" : "debug";
    }
}

void base_log_set_style(base_log_style s)
{
    style = s;
    journal = -1;
}

void base_log_set_output(FILE *out)
{
    output = out;
    journal = -1;
}

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * to stdout and stderr; only when ours is that one do its readers see our
 * priority prefixes (a redirected stderr gets plain lines). */
static int journal_style(FILE *out)
{
    if (style != BASE_LOG_STYLE_AUTO)
        return style == BASE_LOG_STYLE_JOURNAL;
    if (journal >= 0)
        return journal;
    journal = 0;
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && fstat(fileno(out), &st) == 0)
        journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    return journal;
}

int base_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < SECRET_MIN)
        return 0;
    for (size_t i = 0; i < n_secrets; i++)
        if (strcmp(secrets[i], secret) == 0)
            return 0;
    if (n_secrets >= SECRETS_MAX)
        return -1;
    char *copy = base_strdup(secret);
    if (!copy)
        return -1;
    secrets[n_secrets++] = copy;
    return 0;
}

void base_log_forget_secrets(void)
{
    for (size_t i = 0; i < n_secrets; i++) {
        base_secret_free(secrets[i]);
        secrets[i] = NULL;
    }
    n_secrets = 0;
}

/* ---- building one line ------------------------------------------------------ */

typedef struct line {
    char buf[LINE_MAX_BYTES];
    size_t len;
    int cut;
} line;

static void put(line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof l->buf) {
        n = sizeof l->buf - 1 - l->len;
        l->cut = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void puts_(line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* The secret that starts at s, or NULL. */
static const char *secret_at(const char *s, size_t *len)
{
    for (size_t i = 0; i < n_secrets; i++) {
        size_t n = strlen(secrets[i]);
        if (strncmp(s, secrets[i], n) == 0) {
            *len = n;
            return secrets[i];
        }
    }
    return NULL;
}

/* Copies text with control characters escaped (\n, \r, \t, \xNN), a
 * backslash and a quote escaped too when quoted, and secrets hidden. */
static void put_escaped(line *l, const char *s, int quoted)
{
    while (*s && !l->cut) {
        size_t n;
        if (n_secrets && secret_at(s, &n)) {
            puts_(l, "***");
            s += n;
            continue;
        }
        unsigned char c = (unsigned char)*s++;
        char esc[8];
        if (c == '\n')
            puts_(l, "\\n");
        else if (c == '\r')
            puts_(l, "\\r");
        else if (c == '\t')
            puts_(l, "\\t");
        else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            puts_(l, esc);
        } else if (quoted && (c == '"' || c == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
}

/* A value needs quotes when it is empty or holds a space, a quote, '=', a
 * backslash or a control character (the ": " before the text has a space,
 * so it is never inside an unquoted value). */
static int needs_quotes(const char *v)
{
    if (!*v)
        return 1;
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
            return 1;
    }
    return 0;
}

static void put_field(line *l, const char *key, const char *value)
{
    if (l->len > 0 && l->buf[l->len - 1] != ' ' && l->buf[l->len - 1] != '>')
        puts_(l, " ");
    puts_(l, key);
    puts_(l, "=");
    int q = needs_quotes(value);
    if (q)
        puts_(l, "\"");
    put_escaped(l, value, q);
    if (q)
        puts_(l, "\"");
}

/* "irc.libera" and "matrix.home" are networks; a word with '=' is context
 * written out already; any other word (the program's own "careerbot") is
 * shown as it is. */
static void put_who(line *l, const char *who)
{
    if (!who || !*who)
        return;
    if (strchr(who, '=')) {
        if (l->len > 0 && l->buf[l->len - 1] != '>')
            puts_(l, " ");
        put_escaped(l, who, 0);
    } else if (strchr(who, '.')) {
        put_field(l, "network", who);
    } else {
        if (l->len > 0 && l->buf[l->len - 1] != '>')
            puts_(l, " ");
        put_escaped(l, who, 0);
    }
}

static void put_stamp(line *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[40];
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    puts_(l, stamp);
}

static void write_line(int level, const char *who, const char *const *fields, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void write_line(int level, const char *who, const char *const *fields, const char *fmt, va_list ap)
{
    if (level > base_log_get_level())
        return;
    FILE *out = output ? output : stderr;
    line l;
    l.len = 0;
    l.cut = 0;
    l.buf[0] = '\0';
    char prefix[16];
    if (journal_style(out)) {
        snprintf(prefix, sizeof prefix, "<%d>", level < 0 ? 0 : level > 7 ? 7 : level);
        puts_(&l, prefix);
    } else {
        put_stamp(&l);
        const char *name = base_log_level_name(level);
        for (size_t i = 0; name[i] && i < sizeof prefix - 1; i++)
            prefix[i] = (char)(name[i] - 'a' + 'A');
        prefix[strlen(name) < sizeof prefix ? strlen(name) : sizeof prefix - 1] = '\0';
        puts_(&l, prefix);
    }
    put_who(&l, who);
    for (size_t i = 0; fields && fields[i]; i += 2)
        if (fields[i + 1])
            put_field(&l, fields[i], fields[i + 1]);
    puts_(&l, ": ");
    char text[LINE_MAX_BYTES];
    vsnprintf(text, sizeof text, fmt, ap);
    put_escaped(&l, text, 0);
    if (l.cut) {
        static const char more[] = " [cut]";
        l.len = sizeof l.buf - sizeof more;
        memcpy(l.buf + l.len, more, sizeof more);
        l.len += sizeof more - 1;
    }
    /* One write per line, so lines from different parts never interleave. */
    fprintf(out, "%s\n", l.buf);
    fflush(out);
    base_secret_wipe(text, sizeof text);
}

void base_log(int level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, who, NULL, fmt, ap);
    va_end(ap);
}

void base_log_kv(int level, const char *who, const char *const *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(level, who, fields, fmt, ap);
    va_end(ap);
}
