/* An HTTP client on the libuv loop: libcurl's multi interface driven by
 * uv_poll (CURLMOPT_SOCKETFUNCTION) and one uv_timer (CURLMOPT_TIMERFUNCTION).
 * It knows nothing of Matrix and logs nothing. TLS verification stays on; a
 * CA file can be added for a private server. Only http and https URLs are
 * fetched, and redirects are not followed (a 3xx is reported as it is).
 * Completion callbacks never run inside libcurl's own callbacks, so they may
 * start new requests, cancel others, or free the client.
 * Single-threaded: every call must come from the loop's thread. */
#ifndef NET_HTTP_UV_H
#define NET_HTTP_UV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"

typedef struct net_http net_http;

typedef struct net_http_request {
    const char *method;       /* "GET" (NULL means GET), "POST", "PUT"; any upper-case
                                 token works (DELETE...). GET cannot carry a body. */
    const char *url;          /* copied: need not outlive net_http_send */
    const char *bearer_token; /* sent as "Authorization: Bearer ..."; never logged, never in the URL */
    const char *content_type; /* NULL: none (with a body: application/json) */
    const char *body;         /* NULL: no body (POST/PUT then send Content-Length: 0); copied */
    size_t body_len;          /* 0 with a body: strlen(body) */
    double timeout;           /* whole request, seconds; 0: 60 */
    size_t max_body;          /* the largest response body taken, bytes; 0: 32 MiB (the most) */
    int secret;               /* the request or its answer holds a secret (a password, a token):
                                 our copies of both bodies are wiped before they are freed */
} net_http_request;

/* Valid only during the done callback: copy what you keep. Check error
 * first: a 4xx/5xx is a response (error NULL), while a transfer that failed
 * after the status line (connection dropped, body over the cap) has error
 * set AND the status that arrived; its partial body is not handed over.
 *
 * A request that got nothing back on a kept-alive connection (the server
 * closed it just as the request went out) is sent once more, on a fresh
 * connection, before any error is reported. */
typedef struct net_http_response {
    long status;              /* HTTP status, 0 when the request failed before one arrived */
    const char *body;         /* NUL-terminated; "" when none or when error is set */
    size_t body_len;
    double retry_after;       /* seconds from a Retry-After header (a number, or an HTTP-date: the time
                                 until then, 0 when past), -1 when absent or malformed */
    const char *error;        /* transport error text (DNS, connect, TLS, timeout, "cancelled",
                                 body too large), NULL on success; never contains the token */
    int too_large;            /* the error is the body cap (net_http_request.max_body) */
} net_http_response;

typedef void (*net_http_done_cb)(void *ctx, const net_http_response *response);

/* ca_file: CA bundle (PEM) to trust, e.g. a private homeserver's CA, or NULL;
 * it replaces libcurl's default bundle file and must be readable now. NULL on
 * failure, with a message in err. */
net_http *net_http_new(uv_loop_t *loop, const char *ca_file, base_error *err);

/* Requests go through this proxy (a URL libcurl understands: http://,
 * https://, socks5h://...; copied). Without one, none is used: the
 * http_proxy, https_proxy and ALL_PROXY environment variables are ignored,
 * so a bearer token never goes to a proxy nobody configured. NULL or "":
 * no proxy. BASE_ERR when out of memory. */
int net_http_set_proxy(net_http *h, const char *proxy, base_error *err);

/* Starts a request. done is called exactly once, later, from the loop (with
 * error "cancelled" when cancelled or freed). Returns an id > 0, or 0 when the
 * request could not be started (done is then not called): bad arguments, a
 * CR/LF or other control byte in the token or content type, a GET with a
 * body, out of memory, or after net_http_free. */
uint64_t net_http_send(net_http *h, const net_http_request *req, net_http_done_cb done, void *ctx);
/* After this, the request's done reports "cancelled" (later, never from
 * inside net_http_cancel) unless it has already been called. Unknown or
 * finished ids are ignored. */
void net_http_cancel(net_http *h, uint64_t id);
/* Requests whose done has not been called yet. */
size_t net_http_active(const net_http *h);

/* Cancels everything and closes the handles; closed(ctx) runs once everything
 * (including curl_multi_cleanup) is done and h has been released. The loop
 * must keep running until then. Every pending done ("cancelled") runs before
 * closed; h may not be used after this call except by those done callbacks,
 * where net_http_send returns 0. h NULL: nothing happens (closed is not called). */
void net_http_free(net_http *h, void (*closed)(void *ctx), void *ctx);

/* A Retry-After header line ("Retry-After: 120", or with an HTTP-date; not
 * NUL-terminated): the seconds to wait, or -1 when the line is not one or is
 * malformed. Exposed for the tests and the fuzzer. */
double net_http_parse_retry_after(const char *line, size_t len);

/* Percent-encodes s for use in a URL path segment or query value. Caller frees. */
char *net_http_escape(const char *s);

#endif
