#include "net/line_conn.h"

#include "base/str.h"
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF 65536
#define OUT_BATCH 16384 /* bytes gathered into one write while a read is handled */
#define SHUTDOWN_GRACE_MS 2000


typedef enum state { ST_IDLE, ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING } state;

struct net_line_conn {
    uv_loop_t *loop;
    net_line_conn_hooks hooks;
    state state;
    int freeing;       /* net_line_conn_free was called */
    int pending;       /* uv requests and handles still to call back */
    char *host;
    char port[8];
    net_tls_options tls_opts;
    int use_tls;
    char *ca_file, *pin, *cert_file, *key_file;
    net_tls *tls;
    double connect_timeout;
    uv_getaddrinfo_t resolver;
    struct addrinfo *addrs, *next_addr;
    uv_tcp_t *tcp;     /* the current attempt's socket, NULL when none */
    uv_timer_t timer;  /* connect timeout and shutdown grace */
    int timer_ready;
    char *reason;      /* why we are closing, for the closed hook */
    size_t write_pending;
    size_t write_limit; /* bytes waiting to be written at most; past it the peer is not reading */
    char *out;          /* OUT_BATCH bytes: writes gathered while a read is handled */
    size_t out_len;
    int batching;       /* inside on_read */
    char *inbuf;       /* partial line */
    size_t in_len, max_line;
    int discarding;    /* inside an overlong line: drop until its end */
    char readbuf[READ_BUF];
};

typedef struct write_req {
    uv_write_t req;
    net_line_conn *conn;
    size_t len;
    char data[];
} write_req;

static void logf_(net_line_conn *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(net_line_conn *c, int level, const char *fmt, ...)
{
    if (!c->hooks.log || c->freeing)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->hooks.log(c->hooks.ctx, level, text);
}

static void drop_out(net_line_conn *c)
{
    if (c->out)
        base_secret_wipe(c->out, c->out_len);
    c->out_len = 0;
}

static void release_if_done(net_line_conn *c)
{
    if (!c->freeing || c->pending > 0)
        return;
    free(c->host);
    free(c->ca_file);
    free(c->pin);
    free(c->cert_file);
    free(c->key_file);
    free(c->reason);
    free(c->inbuf);
    drop_out(c);
    free(c->out);
    free(c);
}

net_line_conn *net_line_conn_new(uv_loop_t *loop, const net_line_conn_hooks *hooks, size_t max_line)
{
    net_line_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->hooks = *hooks;
    c->max_line = max_line ? max_line : 8192;
    c->write_limit = NET_LINE_CONN_WRITE_LIMIT;
    c->inbuf = malloc(c->max_line + 1);
    if (!c->inbuf || uv_timer_init(loop, &c->timer) != 0) {
        free(c->inbuf);
        free(c);
        return NULL;
    }
    c->timer.data = c;
    c->timer_ready = 1;
    return c;
}

/* ---- closing ------------------------------------------------------------- */

static void finish_close(net_line_conn *c)
{
    /* Everything of this connection is closed: report once, then idle. */
    c->state = ST_IDLE;
    if (c->addrs) { /* a graceful close does not pass through fail() */
        uv_freeaddrinfo(c->addrs);
        c->addrs = c->next_addr = NULL;
    }
    net_tls_free(c->tls);
    c->tls = NULL;
    c->in_len = 0;
    c->discarding = 0;
    char *reason = c->reason;
    c->reason = NULL;
    if (!c->freeing && c->hooks.closed)
        c->hooks.closed(c->hooks.ctx, reason ? reason : "closed");
    free(reason);
    release_if_done(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
    net_line_conn *c = h->data;
    free(h);
    c->pending--;
    if (c->state == ST_CLOSING && !c->tcp)
        finish_close(c);
    else
        release_if_done(c);
}

static void close_tcp(net_line_conn *c)
{
    if (!c->tcp)
        return;
    uv_tcp_t *t = c->tcp;
    c->tcp = NULL;
    c->write_pending = 0;
    drop_out(c);
    uv_close((uv_handle_t *)t, on_tcp_closed); /* pending++ was done when it was made */
}

static void set_reason(net_line_conn *c, const char *reason)
{
    if (c->reason)
        return; /* the first reason is the real one */
    c->reason = base_strdup(reason);
}

/* Abort: close the socket now. */
static void fail(net_line_conn *c, const char *reason)
{
    if (c->state == ST_IDLE)
        return;
    set_reason(c, reason);
    if (c->timer_ready)
        uv_timer_stop(&c->timer);
    if (c->addrs) {
        uv_freeaddrinfo(c->addrs);
        c->addrs = c->next_addr = NULL;
    }
    int resolving = c->state == ST_RESOLVING;
    c->state = ST_CLOSING;
    if (c->tcp)
        close_tcp(c);
    else if (!resolving)
        finish_close(c);
    else
        uv_cancel((uv_req_t *)&c->resolver); /* its callback finishes the close */
}

/* ---- writing ----------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    net_line_conn *c = w->conn;
    c->pending--;
    if (c->write_pending >= w->len)
        c->write_pending -= w->len;
    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != ST_CLOSING && c->state != ST_IDLE)
        fail(c, uv_strerror(status));
    release_if_done(c);
}

/* Hands bytes to libuv in one write request (which keeps its own copy). */
static int submit(net_line_conn *c, const void *data, size_t len)
{
    write_req *w = malloc(sizeof *w + len);
    if (!w)
        return -1;
    w->conn = c;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)c->tcp, &buf, 1, on_written);
    if (rc != 0) {
        free(w);
        fail(c, uv_strerror(rc));
        return -1;
    }
    c->pending++;
    c->write_pending += len;
    return 0;
}

static int flush_out(net_line_conn *c)
{
    if (c->out_len == 0 || !c->tcp)
        return 0;
    size_t n = c->out_len;
    c->out_len = 0;
    int rc = submit(c, c->out, n);
    base_secret_wipe(c->out, n); /* plaintext connections may carry a password */
    return rc;
}

/* While a read is being handled, the lines it makes us send (a PONG for each
 * of a thousand PINGs) are gathered into one write at its end: one request
 * instead of thousands. */
static int write_raw(net_line_conn *c, const void *data, size_t len)
{
    if (!c->tcp || len == 0)
        return c->tcp ? 0 : -1;
    /* What the kernel would not take waits in libuv's queue: a peer that does
     * not read (or a link that stalls) would make it grow without end. */
    size_t waiting = uv_stream_get_write_queue_size((uv_stream_t *)c->tcp) + c->out_len;
    if (waiting + len > c->write_limit) {
        char why[200];
        snprintf(why, sizeof why,
                 "the server is not reading: %zu bytes are waiting to be written (the limit is %zu); "
                 "dropping the connection",
                 waiting + len, c->write_limit);
        fail(c, why);
        return -1;
    }
    if (!c->batching)
        return submit(c, data, len);
    if (c->out_len + len > OUT_BATCH && flush_out(c) != 0)
        return -1;
    if (len > OUT_BATCH)
        return submit(c, data, len);
    if (!c->out && !(c->out = malloc(OUT_BATCH)))
        return submit(c, data, len);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Sends whatever ciphertext TLS has produced. */
static int flush_tls(net_line_conn *c)
{
    char buf[16384];
    size_t n;
    while (c->tls && (n = net_tls_take_output(c->tls, buf, sizeof buf)) > 0)
        if (write_raw(c, buf, n) != 0)
            return -1;
    return 0;
}

int net_line_conn_write(net_line_conn *c, const char *data, size_t len)
{
    if (c->state != ST_OPEN && c->state != ST_HANDSHAKE)
        return -1;
    if (!c->tls)
        return write_raw(c, data, len);
    int rc = net_tls_write(c->tls, data, len) < 0 ? -1 : flush_tls(c);
    if (rc != 0 && c->state != ST_CLOSING && c->state != ST_IDLE)
        fail(c, net_tls_error(c->tls));
    return rc;
}

int net_line_conn_send(net_line_conn *c, const char *line, size_t len)
{
    char *buf = malloc(len + 2);
    if (!buf)
        return -1;
    memcpy(buf, line, len);
    buf[len] = '\r';
    buf[len + 1] = '\n';
    int rc = net_line_conn_write(c, buf, len + 2);
    free(buf);
    return rc;
}

size_t net_line_conn_pending(const net_line_conn *c)
{
    return c->tcp ? uv_stream_get_write_queue_size((uv_stream_t *)c->tcp) : 0;
}

void net_line_conn_set_write_limit(net_line_conn *c, size_t bytes)
{
    c->write_limit = bytes ? bytes : NET_LINE_CONN_WRITE_LIMIT;
}

/* ---- reading ----------------------------------------------------------------- */

static void deliver_bytes(net_line_conn *c, const char *data, size_t len)
{
    for (size_t i = 0; i < len && c->state == ST_OPEN && !c->freeing; i++) {
        char ch = data[i];
        if (ch == '\n') {
            if (!c->discarding) {
                size_t n = c->in_len;
                if (n > 0 && c->inbuf[n - 1] == '\r')
                    n--;
                c->inbuf[n] = '\0';
                c->in_len = 0;
                c->hooks.line(c->hooks.ctx, c->inbuf, n);
            }
            c->discarding = 0;
            c->in_len = 0;
        } else if (!c->discarding) {
            if (c->in_len >= c->max_line) {
                logf_(c, BASE_LOG_WARN, "dropping a line longer than %zu bytes from the server", c->max_line);
                c->discarding = 1;
                c->in_len = 0;
            } else {
                c->inbuf[c->in_len++] = ch;
            }
        }
    }
}

static void became_open(net_line_conn *c)
{
    c->state = ST_OPEN;
    if (c->hooks.connected)
        c->hooks.connected(c->hooks.ctx);
}

static void read_tls(net_line_conn *c, const char *data, size_t len)
{
    if (net_tls_feed(c->tls, data, len) < 0) {
        flush_tls(c); /* the alert that tells the server why */
        flush_out(c);
        fail(c, net_tls_error(c->tls));
        return;
    }
    char plain[16384];
    int n;
    while (c->tls && (n = net_tls_read(c->tls, plain, sizeof plain)) != 0) {
        if (n < 0) {
            fail(c, n == NET_TLS_CLOSED ? "the server closed the TLS session" : net_tls_error(c->tls));
            return;
        }
        if (c->state == ST_HANDSHAKE)
            became_open(c);
        deliver_bytes(c, plain, (size_t)n);
        if (c->state != ST_OPEN)
            return;
    }
    if (c->tls && c->state == ST_HANDSHAKE && net_tls_handshake_done(c->tls)) {
        logf_(c, BASE_LOG_INFO, "TLS established with %s", c->host);
        became_open(c);
    }
    if (c->tls && flush_tls(c) != 0)
        return;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net_line_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->readbuf, sizeof c->readbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    net_line_conn *c = s->data;
    if (n == 0 || (uv_tcp_t *)s != c->tcp)
        return;
    if (n < 0) {
        fail(c, n == UV_EOF ? "the server closed the connection" : uv_strerror((int)n));
        return;
    }
    c->batching = 1;
    if (c->tls)
        read_tls(c, buf->base, (size_t)n);
    else
        deliver_bytes(c, buf->base, (size_t)n);
    c->batching = 0;
    if (c->tcp && (c->state == ST_OPEN || c->state == ST_HANDSHAKE))
        flush_out(c);
}

/* ---- connecting ---------------------------------------------------------------- */

static void try_next_address(net_line_conn *c);

static void on_timeout(uv_timer_t *t)
{
    net_line_conn *c = t->data;
    if (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE) {
        logf_(c, BASE_LOG_WARN, "connecting to %s:%s timed out", c->host, c->port);
        if (c->state == ST_CONNECTING && c->next_addr) {
            close_tcp(c);
            try_next_address(c);
        } else {
            fail(c, "connection timed out");
        }
    } else if (c->state == ST_CLOSING) {
        close_tcp(c); /* the graceful shutdown took too long */
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    uv_tcp_t *tcp = (uv_tcp_t *)req->handle;
    net_line_conn *c = tcp->data;
    free(req);
    c->pending--;
    if (tcp != c->tcp || c->state != ST_CONNECTING) {
        release_if_done(c);
        return; /* an attempt we already gave up on */
    }
    if (status < 0) {
        logf_(c, BASE_LOG_WARN, "cannot connect to %s:%s: %s", c->host, c->port, uv_strerror(status));
        close_tcp(c);
        try_next_address(c);
        return;
    }
    /* Connected: the other addresses are no longer needed. */
    uv_freeaddrinfo(c->addrs);
    c->addrs = c->next_addr = NULL;
    uv_read_start((uv_stream_t *)c->tcp, on_alloc, on_read);
    if (!c->use_tls) {
        uv_timer_stop(&c->timer);
        became_open(c);
        return;
    }
    base_error err;
    c->tls = net_tls_client_new(&c->tls_opts, &err);
    if (!c->tls) {
        fail(c, err.text);
        return;
    }
    c->state = ST_HANDSHAKE;
    flush_tls(c);
}

static void try_next_address(net_line_conn *c)
{
    while (c->next_addr) {
        struct addrinfo *a = c->next_addr;
        c->next_addr = a->ai_next;
        if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
            continue;
        uv_tcp_t *tcp = malloc(sizeof *tcp);
        uv_connect_t *req = malloc(sizeof *req);
        if (!tcp || !req || uv_tcp_init(c->loop, tcp) != 0) {
            free(tcp);
            free(req);
            fail(c, "out of memory");
            return;
        }
        tcp->data = c;
        c->tcp = tcp;
        c->pending++; /* the handle */
        uv_tcp_nodelay(tcp, 1);
        int rc = uv_tcp_connect(req, tcp, a->ai_addr, on_connect);
        if (rc != 0) {
            free(req);
            logf_(c, BASE_LOG_WARN, "cannot connect to %s:%s: %s", c->host, c->port, uv_strerror(rc));
            close_tcp(c);
            continue;
        }
        c->pending++; /* the connect request */
        c->state = ST_CONNECTING;
        uv_timer_start(&c->timer, on_timeout, (uint64_t)(c->connect_timeout * 1000), 0);
        return;
    }
    fail(c, "no address of the server accepted a connection");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    net_line_conn *c = req->data;
    c->pending--;
    if (c->state != ST_RESOLVING) { /* closed meanwhile */
        if (res)
            uv_freeaddrinfo(res);
        if (c->state == ST_CLOSING)
            finish_close(c);
        else
            release_if_done(c);
        return;
    }
    if (status < 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot resolve %s: %s", c->host, uv_strerror(status));
        c->state = ST_CONNECTING; /* not resolving any more: fail closes directly */
        fail(c, why);
        return;
    }
    c->addrs = c->next_addr = res;
    try_next_address(c);
}

int net_line_conn_open(net_line_conn *c, const char *host, int port, const net_tls_options *tls,
                      double connect_timeout)
{
    if (c->state != ST_IDLE || c->freeing)
        return -1;
    free(c->host);
    free(c->ca_file);
    free(c->pin);
    free(c->cert_file);
    free(c->key_file);
    c->host = base_strdup(host);
    c->ca_file = tls ? base_strdup(tls->ca_file) : NULL;
    c->pin = tls ? base_strdup(tls->pin_sha256) : NULL;
    c->cert_file = tls ? base_strdup(tls->cert_file) : NULL;
    c->key_file = tls ? base_strdup(tls->key_file) : NULL;
    c->use_tls = tls != NULL;
    if (tls) {
        c->tls_opts = *tls;
        c->tls_opts.server_name = c->host;
        c->tls_opts.ca_file = c->ca_file;
        c->tls_opts.pin_sha256 = c->pin;
        c->tls_opts.cert_file = c->cert_file;
        c->tls_opts.key_file = c->key_file;
    }
    snprintf(c->port, sizeof c->port, "%d", port);
    c->connect_timeout = connect_timeout > 0 ? connect_timeout : 15;
    if (!c->host)
        return -1;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->resolver.data = c;
    c->state = ST_RESOLVING;
    int rc = uv_getaddrinfo(c->loop, &c->resolver, on_resolved, c->host, c->port, &hints);
    if (rc != 0) {
        c->state = ST_CONNECTING;
        char why[300];
        snprintf(why, sizeof why, "cannot resolve %s: %s", c->host, uv_strerror(rc));
        fail(c, why);
        return 0;
    }
    c->pending++;
    return 0;
}

/* ---- graceful close ----------------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    net_line_conn *c = req->data;
    free(req);
    c->pending--;
    (void)status;
    close_tcp(c);
    release_if_done(c);
}

void net_line_conn_close(net_line_conn *c, int graceful, const char *reason)
{
    if (c->state == ST_IDLE || c->state == ST_CLOSING)
        return;
    if (!graceful || !c->tcp || (c->state != ST_OPEN && c->state != ST_HANDSHAKE)) {
        fail(c, reason);
        return;
    }
    set_reason(c, reason);
    if (c->tls) {
        net_tls_close(c->tls);
        flush_tls(c);
    }
    c->state = ST_CLOSING;
    if (flush_out(c) != 0) /* what a read made us say (a QUIT) goes before the shutdown */
        return;
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)c->tcp, on_shutdown) != 0) {
        free(req);
        close_tcp(c);
        return;
    }
    req->data = c;
    c->pending++;
    uv_timer_start(&c->timer, on_timeout, SHUTDOWN_GRACE_MS, 0);
}

int net_line_conn_is_open(const net_line_conn *c)
{
    return c->state == ST_OPEN;
}

static void on_timer_closed(uv_handle_t *h)
{
    net_line_conn *c = h->data;
    c->pending--;
    release_if_done(c);
}

void net_line_conn_free(net_line_conn *c)
{
    if (!c)
        return;
    c->freeing = 1;
    if (c->state != ST_IDLE)
        fail(c, "shutting down");
    if (c->timer_ready) {
        c->timer_ready = 0;
        c->pending++;
        uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    }
    release_if_done(c);
}
