#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int base_error_set(base_error *err, const char *fmt, ...)
{
    if (err) {
        memset(err, 0, sizeof *err);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return BASE_ERR;
}

int base_error_at(base_error *err, const char *file, int line, int column, const char *fmt, ...)
{
    if (!err)
        return BASE_ERR;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line > 0 ? line : 0;
    err->column = line > 0 && column > 0 ? column : 0;
    int n;
    if (err->column)
        n = snprintf(err->text, sizeof err->text, "%s:%d:%d: ", err->file, err->line, err->column);
    else if (err->line)
        n = snprintf(err->text, sizeof err->text, "%s:%d: ", err->file, err->line);
    else
        n = snprintf(err->text, sizeof err->text, "%s: ", err->file);
    if (n < 0 || (size_t)n >= sizeof err->text)
        return BASE_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text + n, sizeof err->text - (size_t)n, fmt, ap);
    va_end(ap);
    return BASE_ERR;
}
