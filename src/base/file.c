#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int base_file_replace(const char *dir, const char *name, const char *data, size_t len, base_error *err)
{
    char path[4096], tmp[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp)
        return base_error_set(err, "state path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return base_error_set(err, "cannot create %s: %s", tmp, strerror(errno));
    /* The data must be on disk before the rename makes it the file. */
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return base_error_set(err, "cannot write %s: %s", tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return base_error_set(err, "cannot write %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return base_error_set(err, "cannot replace %s: %s", path, strerror(e));
    }
    /* And the rename itself must survive a power cut: sync the directory. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return base_error_set(err, "cannot open %s to sync it: %s", dir, strerror(errno));
    int rc = fsync(dfd) == 0 ? BASE_OK : base_error_set(err, "cannot sync %s: %s", dir, strerror(errno));
    close(dfd);
    return rc;
}

int base_file_read(const char *path, size_t max, char **out, size_t *len, base_error *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return base_error_set(err, "cannot read %s: %s", path, strerror(errno));
    }
    char *buf = malloc(max + 1);
    size_t n = 0;
    int rc = buf ? BASE_OK : base_error_set(err, "out of memory");
    /* One byte more than max tells a file that is too large. */
    while (rc == BASE_OK && n <= max) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = base_error_set(err, "cannot read %s: %s", path, strerror(errno));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == BASE_OK && n > max)
        rc = base_error_set(err, "%s is larger than %zu bytes", path, max);
    if (rc != BASE_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return BASE_OK;
}
