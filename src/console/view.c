/* How replies look on a terminal: wrapped to its width, a little colour. */
#include "console/console.h"

#include <ctype.h>
#include <string.h>

#include "base/strbuf.h"

#define BOLD "\033[1m"
#define CYAN "\033[36m"
#define RESET "\033[0m"

/* Columns of n bytes of UTF-8: one per character (continuation bytes
 * count nothing). */
static size_t columns(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* The bytes of a list item's marker and the space after it ("1. ", "- "), 0
 * when the line is no list item. */
static size_t list_marker(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && isdigit((unsigned char)line[i]))
        i++;
    if (i > 0 && i < 4 && i < len && line[i] == '.')
        i++;
    else if (i == 0 && len > 0 && (line[0] == '-' || line[0] == '*'))
        i = 1;
    else
        return 0;
    if (i >= len || line[i] != ' ')
        return 0;
    while (i < len && line[i] == ' ')
        i++;
    return i;
}

static void wrap_line(base_strbuf *out, const char *line, size_t len, size_t width)
{
    size_t lead = 0;
    while (lead < len && line[lead] == ' ')
        lead++;
    size_t hang = lead + list_marker(line + lead, len - lead);
    size_t col = 0, i = 0;
    if (hang > 0) { /* the marker and the indentation stay together */
        base_strbuf_addn(out, line, hang);
        col = columns(line, hang);
        i = hang;
    }
    int first = 1;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (i == start)
            break;
        size_t w = columns(line + start, i - start);
        if (first) {
            first = 0;
        } else if (col + 1 + w <= width) {
            base_strbuf_add(out, " ");
            col++;
        } else {
            base_strbuf_add(out, "\n");
            for (size_t s = 0; s < hang; s++)
                base_strbuf_add(out, " ");
            col = hang;
        }
        base_strbuf_addn(out, line + start, i - start);
        col += w;
    }
}

char *console_wrap(const char *text, size_t width)
{
    base_strbuf out = {0};
    if (width < 20) /* too narrow to help: as it is */
        width = (size_t)-1 / 2;
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        wrap_line(&out, p, len, width);
        if (!nl)
            break;
        base_strbuf_add(&out, "\n");
        p = nl + 1;
    }
    return base_strbuf_take(&out);
}

/* A title: a few words and a colon at the start of the line, then a space. */
static size_t title_at(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i <= 24 && (isalpha((unsigned char)line[i]) || line[i] == ' ' || line[i] == '-'))
        i++;
    if (i == 0 || i > 24 || i >= len || line[i] != ':' || !isalpha((unsigned char)line[0]))
        return 0;
    return i + 1 < len && line[i + 1] != ' ' ? 0 : i + 1;
}

static int starts_word(const char *line, size_t i)
{
    return i == 0 || strchr(" (\"'", line[i - 1]) != NULL;
}

static void paint_line(base_strbuf *out, const char *line, size_t len)
{
    size_t i = 0;
    size_t marker = list_marker(line, len);
    size_t title = marker ? 0 : title_at(line, len);
    size_t lead = marker ? marker - 1 : title;
    if (lead) {
        base_strbuf_add(out, BOLD);
        base_strbuf_addn(out, line, lead);
        base_strbuf_add(out, RESET);
        i = lead;
    }
    while (i < len) {
        if ((line[i] == '/' || line[i] == '!') && starts_word(line, i) && i + 1 < len &&
            isalpha((unsigned char)line[i + 1])) {
            size_t end = i + 1;
            while (end < len && (isalnum((unsigned char)line[end]) || line[end] == '-' || line[end] == '_'))
                end++;
            base_strbuf_add(out, CYAN);
            base_strbuf_addn(out, line + i, end - i);
            base_strbuf_add(out, RESET);
            i = end;
        } else {
            base_strbuf_addn(out, line + i, 1);
            i++;
        }
    }
}

char *console_paint(const char *text)
{
    base_strbuf out = {0};
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        paint_line(&out, p, len);
        if (!nl)
            break;
        base_strbuf_add(&out, "\n");
        p = nl + 1;
    }
    return base_strbuf_take(&out);
}
