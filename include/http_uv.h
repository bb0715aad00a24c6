/* An HTTP client on the libuv loop: libcurl's multi interface driven by
 * uv_poll (CURLMOPT_SOCKETFUNCTION) and one uv_timer (CURLMOPT_TIMERFUNCTION).
 * It knows nothing of Matrix. TLS verification stays on; a CA file can be
 * added for a private server. Completion callbacks never run inside libcurl's
 * own callbacks, so they may start new requests. */
#ifndef CB_HTTP_UV_H
#define CB_HTTP_UV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct cb_http cb_http;

typedef struct cb_http_request {
    const char *method;       /* "GET", "POST", "PUT" */
    const char *url;
    const char *bearer_token; /* sent as "Authorization: Bearer ..."; never logged, never in the URL */
    const char *content_type; /* NULL: none (with a body: application/json) */
    const char *body;         /* NULL: no body */
    size_t body_len;
    double timeout;           /* whole request, seconds; 0: 60 */
} cb_http_request;

typedef struct cb_http_response {
    long status;              /* HTTP status, 0 when the request failed before one arrived */
    const char *body;         /* NUL-terminated; "" when none */
    size_t body_len;
    double retry_after;       /* seconds from a Retry-After header, -1 when absent */
    const char *error;        /* transport error text (DNS, connect, TLS, timeout, cancelled), NULL on success */
} cb_http_response;

typedef void (*cb_http_done)(void *ctx, const cb_http_response *response);

/* ca_file: extra CA bundle (PEM) or NULL. NULL on failure, with a message in err. */
cb_http *cb_http_new(uv_loop_t *loop, const char *ca_file, char *err, size_t errlen);

/* Starts a request. done is called exactly once, later, from the loop (with
 * error "cancelled" when cancelled or freed). Returns an id > 0, or 0 when the
 * request could not be started (done is then not called). */
uint64_t cb_http_send(cb_http *h, const cb_http_request *req, cb_http_done done, void *ctx);
void cb_http_cancel(cb_http *h, uint64_t id);
/* Requests in flight. */
size_t cb_http_active(const cb_http *h);

/* Cancels everything and closes the handles; closed(ctx) runs once everything
 * (including curl_multi_cleanup) is done and h has been released. */
void cb_http_free(cb_http *h, void (*closed)(void *ctx), void *ctx);

/* Percent-encodes s for use in a URL path segment or query value. Caller frees. */
char *cb_http_escape(const char *s);

#endif
