/* The metrics listener: a small HTTP server (libmicrohttpd) serving
 * /metrics and /healthz, driven from the libuv loop: MHD runs without a
 * thread of its own, its epoll descriptor watched by a uv_poll and its
 * timeouts by a uv_timer, so pages are made on the loop, beside the networks
 * they describe. GET and HEAD only; every other path is 404. */
#ifndef APP_METRICS_H
#define APP_METRICS_H

#include <uv.h>

#include "base/error.h"
#include "base/strbuf.h"

/* Fills body for path ("/metrics", "/healthz"); returns the HTTP status
 * (404 for a path it does not serve) and sets *content_type. */
typedef int (*app_metrics_page_cb)(void *ctx, const char *path, base_strbuf *body, const char **content_type);

typedef struct app_metrics app_metrics;

/* 1 when this build has the listener (libmicrohttpd). */
int app_metrics_available(void);
/* Listens on host (an IP address) and port. NULL with err set when it
 * cannot (the port is taken, no libmicrohttpd). */
app_metrics *app_metrics_start(uv_loop_t *loop, const char *host, int port, app_metrics_page_cb page, void *ctx,
                               base_error *err);
/* The port listened on. */
int app_metrics_port(const app_metrics *m);
/* Stops listening and closes open connections; the memory goes once the
 * loop has closed the handles. NULL is fine. */
void app_metrics_stop(app_metrics *m);

#endif
