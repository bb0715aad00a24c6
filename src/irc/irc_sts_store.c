/* STS policies in a small text file, written atomically (see irc_sts.h). */
#include "irc/irc_sts.h"

#include "base/file.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_HOST 255
#define MAX_FILE (64 * 1024)

typedef struct policy {
    char host[MAX_HOST + 1];
    int port;
    double expires;
} policy;

static int valid_host(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > MAX_HOST)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && !strchr(".-_:[]", h[i]))
            return 0;
    return 1;
}

/* Reads every well-formed line (others are skipped: a damaged line costs one
 * policy, not all). Returns the count, or BASE_ERR when the file exists and
 * cannot be read. */
static int load(const char *path, policy *out, size_t cap, base_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return base_error_set(err, "cannot read %s: %s", path, strerror(errno));
    }
    char line[MAX_HOST + 64];
    size_t n = 0, bytes = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        bytes += strlen(line);
        if (bytes > MAX_FILE)
            break;
        char host[MAX_HOST + 1];
        int port;
        double expires;
        if (sscanf(line, "%255s %d %lf", host, &port, &expires) != 3 || port < 1 || port > 65535 ||
            !valid_host(host))
            continue;
        snprintf(out[n].host, sizeof out[n].host, "%s", host);
        out[n].port = port;
        out[n].expires = expires;
        n++;
    }
    fclose(f);
    return (int)n;
}

int irc_sts_store_lookup(const char *path, const char *host, double now, int *port, base_error *err)
{
    policy *p = calloc(IRC_STS_MAX_POLICIES, sizeof *p);
    if (!p)
        return base_error_set(err, "out of memory");
    int n = load(path, p, IRC_STS_MAX_POLICIES, err), found = 0;
    for (int i = 0; i < n && !found; i++)
        if (strcasecmp(p[i].host, host) == 0 && p[i].expires > now) {
            *port = p[i].port;
            found = 1;
        }
    free(p);
    return n < 0 ? BASE_ERR : found;
}

/* One line per policy, replaced atomically (base_file_replace): a crash
 * leaves the old file or the new one, never half of one. */
static int save(const char *path, const policy *p, size_t n, base_error *err)
{
    base_strbuf text = {0};
    for (size_t i = 0; i < n; i++)
        base_strbuf_addf(&text, "%s %d %.0f\n", p[i].host, p[i].port, p[i].expires);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *name = slash ? path + (slash - dir) + 1 : path;
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int rc = text.failed ? base_error_set(err, "out of memory")
                         : base_file_replace(dir, name, text.data ? text.data : "", text.len, err);
    base_strbuf_free(&text);
    return rc;
}

int irc_sts_store_set(const char *path, const char *host, int port, double expires, double now, base_error *err)
{
    if (!valid_host(host) || port < 1 || port > 65535)
        return base_error_set(err, "not a host and port for an STS policy");
    policy *p = calloc(IRC_STS_MAX_POLICIES + 1, sizeof *p);
    if (!p)
        return base_error_set(err, "out of memory");
    int n = load(path, p, IRC_STS_MAX_POLICIES, err);
    if (n < 0) {
        free(p);
        return BASE_ERR;
    }
    size_t kept = 0;
    for (int i = 0; i < n; i++) /* drop this host's old policy and every expired one */
        if (strcasecmp(p[i].host, host) != 0 && p[i].expires > now)
            p[kept++] = p[i];
    if (expires > now) {
        if (kept == IRC_STS_MAX_POLICIES) { /* full: the policy that ends first goes */
            size_t first = 0;
            for (size_t i = 1; i < kept; i++)
                if (p[i].expires < p[first].expires)
                    first = i;
            p[first] = p[--kept];
        }
        snprintf(p[kept].host, sizeof p[kept].host, "%s", host);
        for (char *c = p[kept].host; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        p[kept].port = port;
        p[kept].expires = expires;
        kept++;
    }
    int rc = save(path, p, kept, err);
    free(p);
    return rc;
}
