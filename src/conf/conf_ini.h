/* The INI reader: the file's syntax, nothing about what the keys mean.
 *
 *   ; a comment          (';' or '#' first on the line, after any indentation)
 *   [section]
 *   key = value          (spaces around the key and the value are dropped;
 *                         everything after the first '=' is the value, ';' and '#' included)
 *     more, of the value (an indented line right after a key line, or after
 *                         another such line, goes on with that key's value)
 *
 * Blank lines and comment lines end a value: an indented line after them is a
 * comment when it starts with ';' or '#', and an error otherwise. Lines end in
 * LF or CRLF; a UTF-8 byte order mark at the start is skipped. Every event
 * carries its 1-based line number. A line may not hold a NUL byte (the rest
 * of the file is not read: it is not text), a control character other than
 * tab, or bytes that are not UTF-8 (comments excepted); nor be longer than
 * CONF_INI_LINE_MAX bytes. Each such line is reported and skipped, and
 * reading goes on. */
#ifndef CONF_CONF_INI_H
#define CONF_CONF_INI_H

#include <stddef.h>

#include "base/error.h"

#define CONF_INI_LINE_MAX 65536         /* bytes in one line, without its end */
#define CONF_INI_FILE_MAX (2u << 20)   /* bytes in a file: 2 MiB */

typedef enum conf_ini_kind {
    CONF_INI_SECTION,      /* name: what is between the brackets, trimmed */
    CONF_INI_KEY,          /* name: the key; value: the value ("" when none) */
    CONF_INI_CONTINUATION, /* value: the indented line's text, trimmed */
    CONF_INI_ERROR,        /* value: what is wrong with the line */
} conf_ini_kind;

typedef struct conf_ini_event {
    conf_ini_kind kind;
    int line;
    const char *name;
    const char *value;
    int header;  /* ERROR: the line was meant as a section header */
} conf_ini_event;

/* Called once per event, in file order; the strings live until it returns.
 * Returns 0 to go on, anything else to stop reading. */
typedef int (*conf_ini_cb)(void *ctx, const conf_ini_event *ev);

/* Reads len bytes of text (no NUL needed). Returns 0 when the whole text was
 * read (syntax errors are events, not failures), what cb returned when it
 * stopped the reading, or -1 when memory ran out. */
int conf_ini_parse(const char *text, size_t len, conf_ini_cb cb, void *ctx);

/* Reads a whole file of at most CONF_INI_FILE_MAX bytes into *text (malloc'd,
 * NUL-terminated, the caller frees) and its length into *len. */
int conf_ini_read_file(const char *path, char **text, size_t *len, base_error *err);

#endif
