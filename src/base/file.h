/* Small files the bot keeps about itself: read whole with a size bound, and
 * replaced atomically (a temporary file beside it, fsync, rename, fsync of
 * the folder), so that a crash leaves the old file or the new one, never
 * half of one. Errors are values; nothing is logged here. */
#ifndef BASE_FILE_H
#define BASE_FILE_H

#include <stddef.h>

#include "base/error.h"

/* Writes data as dir/name, mode 0600, through dir/.name.tmp. */
int base_file_replace(const char *dir, const char *name, const char *data, size_t len, base_error *err);

/* Reads path whole into *out (malloc'd, NUL-terminated; *len its length).
 * Returns BASE_OK; 1 when the file does not exist (*out NULL); BASE_ERR
 * with err filled when it cannot be read or holds more than max bytes. */
int base_file_read(const char *path, size_t max, char **out, size_t *len, base_error *err);

#endif
