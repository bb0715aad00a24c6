/* What a homeserver answers, as values: the Retry-After header line parser
 * and the classification of a status and body. Waits stay within the
 * bounds, every error kind is one the caller handles, and the server's words
 * are one printable line. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matrix/matrix_retry.h"
#include "net/http_uv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    /* bytes 0-1: the status; then a header line and a body, split at the first NUL. */
    long status = 100 + (long)((data[0] << 8 | data[1]) % 500);
    const char *rest = (const char *)data + 2;
    size_t len = size - 2;
    const char *nul = memchr(rest, '\0', len);
    size_t header_len = nul ? (size_t)(nul - rest) : len;
    double header = net_http_parse_retry_after(rest, header_len);
    if (isnan(header) || (header < 0 && header != -1))
        abort();
    const char *body = nul ? nul + 1 : NULL;
    size_t body_len = nul ? len - header_len - 1 : 0;
    matrix_result r;
    matrix_classify(status, body, body_len, header, NULL, &r);
    if (r.kind < MATRIX_OK || r.kind > MATRIX_FAILED)
        abort();
    for (const char *p = r.error; *p; p++)
        if ((unsigned char)*p < 0x20)
            abort();
    for (int attempt = 0; attempt < 40; attempt += 13) {
        double d = matrix_retry_delay(&r, attempt, (double)(data[0]) / 255.0);
        if (!(d >= 0.5 - 1e-9 && d <= 300 + 1e-9))
            abort(); /* 0.5 s to 5 minutes, whatever the server said */
    }
    return 0;
}
