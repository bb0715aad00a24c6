/* Requests to one homeserver's Client-Server API (v3) on the libuv loop.
 * The client owns the HTTP client and the access token: it builds the URL,
 * sends the token only in the Authorization header, and classifies every
 * answer (matrix_retry.h) before handing it back.
 *
 * Token generations: every new token starts a generation. A 401 to a request
 * sent with the current token is reported to the owner once, through the
 * unauthorized callback, before the request's own callback runs; a 401 to a
 * request sent with a token that has been replaced since says nothing about
 * the new one, so it only comes back marked token_replaced (send it again)
 * and the owner hears nothing. Otherwise each login would make the requests
 * still in flight with the old token trigger another login, for ever.
 *
 * It knows nothing of rooms or syncs and logs nothing. Single-threaded: every
 * call comes from the loop's thread. */
#ifndef MATRIX_CLIENT_H
#define MATRIX_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "matrix/matrix_retry.h"

typedef struct matrix_client matrix_client;

/* What came back. Valid only during the callback: copy what you keep. */
typedef struct matrix_response {
    uint64_t id;          /* what matrix_client_request returned for it */
    matrix_result result; /* what the answer means: done, retry, log in again, give up */
    int token_replaced;   /* a 401 to a token a login has replaced since: just send it again */
    const char *body;     /* the raw body, NUL-terminated; "" when none */
    size_t len;
    const char *key;      /* the request's key (matrix_call.key), or NULL */
    int too_large;        /* the answer was over the request's max_body (result: transient) */
} matrix_response;

typedef void (*matrix_client_done_cb)(void *ctx, const matrix_response *response);
/* A request sent with the current token got a 401 (M_UNKNOWN_TOKEN or
 * M_MISSING_TOKEN): the token is no good any more. */
typedef void (*matrix_client_unauthorized_cb)(void *ctx, const matrix_result *result);

typedef struct matrix_call {
    const char *method;    /* "GET", "POST", "PUT" */
    const char *path;      /* after /_matrix/client/v3, already escaped (matrix_client_path) */
    const char *body;      /* JSON text, or NULL; copied */
    double timeout;        /* seconds for the whole request */
    matrix_client_done_cb done;
    void *ctx;
    const char *key;       /* copied and handed back in the response (a txn id, a room), or NULL */
    size_t max_body;       /* the largest answer taken (bytes); 0: the HTTP client's cap */
    int secret;            /* the body or the answer holds a secret: the HTTP copies are wiped */
} matrix_call;

/* homeserver: the base URL without a trailing slash; ca_file: an extra CA
 * bundle or NULL. Both are copied. NULL on failure, with err filled. */
matrix_client *matrix_client_new(uv_loop_t *loop, const char *homeserver, const char *ca_file, base_error *err);
void matrix_client_on_unauthorized(matrix_client *c, matrix_client_unauthorized_cb cb, void *ctx);
/* Requests go through this proxy (NULL: none, whatever the environment
 * says; see net_http_set_proxy). */
int matrix_client_set_proxy(matrix_client *c, const char *proxy, base_error *err);

/* Replaces the token (copied; the old copy is wiped) and starts a new
 * generation. NULL: no token. BASE_ERR when out of memory (no token then). */
int matrix_client_set_token(matrix_client *c, const char *token, base_error *err);
int matrix_client_has_token(const matrix_client *c);

/* Starts a request. call->done runs exactly once, later, from the loop,
 * unless the client is closed first (then never). Returns the request's id,
 * or 0 when it could not start (done is then not called), with err filled;
 * err's text names the method and path, never the token. */
uint64_t matrix_client_request(matrix_client *c, const matrix_call *call, base_error *err);
/* The request's done reports "cancelled" (later), unless it has already run.
 * Unknown or finished ids are ignored. */
void matrix_client_cancel(matrix_client *c, uint64_t id);

/* Cancels everything and closes the HTTP client. From now on no callback of
 * a request or of on_unauthorized runs, so their contexts may go; closed
 * (NULL: none) runs once the HTTP handles are closed and c is released. The
 * loop must keep running until then. */
void matrix_client_close(matrix_client *c, void (*closed)(void *ctx), void *ctx);

/* A path from fmt, whose only conversions are %s (each argument, a string,
 * is percent-encoded as a path segment or query value) and %%. Caller
 * frees; NULL when out of memory or a conversion is not %s. */
char *matrix_client_path(const char *fmt, ...);

#endif
