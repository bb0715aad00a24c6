#include "app/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#ifdef CAREERBOT_HAVE_MICROHTTPD
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CONNECTIONS_MAX 16      /* a scraper or two; more wait in the backlog */
#define CONNECTION_TIMEOUT_S 10 /* an idle client is dropped after this */
#define MEMORY_PER_CONNECTION (16 * 1024)

struct app_metrics {
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    int port;
    app_metrics_page_cb page;
    void *ctx;
};

static void schedule(app_metrics *m);

static void run(app_metrics *m)
{
    MHD_run(m->daemon);
    schedule(m);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run(p->data);
}

/* MHD says when it next has something to do without new input (a timeout). */
static void schedule(app_metrics *m)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(m->daemon, &ms) == MHD_YES)
        uv_timer_start(&m->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&m->timer);
}

static enum MHD_Result respond(struct MHD_Connection *c, int status, const char *type, const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req)
{
    app_metrics *m = cls;
    static int seen;
    (void)version;
    (void)upload;
    if (*req == NULL) { /* the headers are in; answer on the next call, once any body is read */
        *req = &seen;
        return MHD_YES;
    }
    if (*upload_size) { /* a body on GET: read and ignored */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char text[] = "only GET and HEAD\n";
        return respond(c, 405, "text/plain; charset=utf-8", text, sizeof text - 1);
    }
    base_strbuf body = {0};
    const char *type = "text/plain; charset=utf-8";
    int status = m->page(m->ctx, url, &body, &type);
    if (status == 404)
        base_strbuf_add(&body, "not found: try /metrics or /healthz\n");
    base_log(BASE_LOG_DEBUG, "metrics", "%s %.200s: %d", method, url, status);
    char *text = base_strbuf_take(&body);
    enum MHD_Result rc =
        text ? respond(c, status, type, text, strlen(text)) : respond(c, 500, type, "out of memory\n", 14);
    free(text);
    return rc;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[300];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    base_log(BASE_LOG_DEBUG, "metrics", "%s", text);
}

int app_metrics_available(void)
{
    return 1;
}

app_metrics *app_metrics_start(uv_loop_t *loop, const char *host, int port, app_metrics_page_cb page, void *ctx,
                               base_error *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        base_error_set(err, "metrics_listen: %s is not an IP address", host);
        return NULL;
    }
    app_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        base_error_set(err, "out of memory");
        return NULL;
    }
    m->page = page;
    m->ctx = ctx;
    m->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, m,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_PER_CONNECTION,
                                 MHD_OPTION_END);
    const union MHD_DaemonInfo *fd = m->daemon ? MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!fd) {
        base_error_set(err, "cannot listen on %s%s%s:%d for metrics (is the port taken?)", v6->sin6_family ? "[" : "",
                       host, v6->sin6_family ? "]" : "", port);
        if (m->daemon)
            MHD_stop_daemon(m->daemon);
        free(m);
        return NULL;
    }
    const union MHD_DaemonInfo *bound = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = bound ? bound->port : port;
    uv_poll_init(loop, &m->poll, fd->epoll_fd);
    uv_timer_init(loop, &m->timer);
    m->poll.data = m->timer.data = m;
    m->open_handles = 2;
    uv_poll_start(&m->poll, UV_READABLE, on_poll);
    schedule(m);
    return m;
}

int app_metrics_port(const app_metrics *m)
{
    return m->port;
}

static void on_closed(uv_handle_t *h)
{
    app_metrics *m = h->data;
    if (--m->open_handles == 0)
        free(m);
}

void app_metrics_stop(app_metrics *m)
{
    if (!m)
        return;
    /* The poll handle goes before the descriptor it watches is closed. */
    uv_poll_stop(&m->poll);
    uv_timer_stop(&m->timer);
    MHD_stop_daemon(m->daemon);
    m->daemon = NULL;
    uv_close((uv_handle_t *)&m->poll, on_closed);
    uv_close((uv_handle_t *)&m->timer, on_closed);
}

#else

int app_metrics_available(void)
{
    return 0;
}

app_metrics *app_metrics_start(uv_loop_t *loop, const char *host, int port, app_metrics_page_cb page, void *ctx,
                               base_error *err)
{
    (void)loop;
    (void)host;
    (void)port;
    (void)page;
    (void)ctx;
    base_error_set(err, "this careerbot was built without libmicrohttpd: metrics_listen is not available");
    return NULL;
}

int app_metrics_port(const app_metrics *m)
{
    (void)m;
    return 0;
}

void app_metrics_stop(app_metrics *m)
{
    (void)m;
}

#endif
