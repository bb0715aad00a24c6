#include "cb_error.h"

#include <stdarg.h>
#include <stdio.h>

int cb_error_set(cb_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return CB_ERR;
}
