#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

int base_error_set(base_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return BASE_ERR;
}
