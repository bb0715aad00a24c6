/* Tests for line_conn.h on a real loopback socket: a peer that accepts and
 * never reads makes the bytes waiting to be written grow until the write
 * limit drops the connection, with the reason in the closed hook; and a peer
 * that does read gets every line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/line_conn.h"

typedef struct world {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_tcp_t *peer;
    int reading;          /* the peer reads what it gets */
    size_t peer_got;      /* bytes the peer read */
    net_line_conn *conn;
    int connected, closed;
    char reason[300];
    size_t written;       /* bytes the client handed to net_line_conn_write */
    size_t max_pending;   /* the most net_line_conn_pending said */
    uv_timer_t writer, deadline;
    char chunk[8192];
} world;

static void on_peer_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)h;
    static char b[65536];
    (void)size;
    *buf = uv_buf_init(b, sizeof b);
}

static void on_peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    world *w = s->data;
    (void)buf;
    if (n > 0)
        w->peer_got += (size_t)n;
}

static void on_peer(uv_stream_t *server, int status)
{
    world *w = server->data;
    assert_int_equal(status, 0);
    w->peer = malloc(sizeof *w->peer);
    uv_tcp_init(&w->loop, w->peer);
    w->peer->data = w;
    assert_int_equal(uv_accept(server, (uv_stream_t *)w->peer), 0);
    if (w->reading)
        uv_read_start((uv_stream_t *)w->peer, on_peer_alloc, on_peer_read);
}

static void on_write_tick(uv_timer_t *t)
{
    world *w = t->data;
    if (!w->connected || w->closed)
        return;
    for (int i = 0; i < (w->reading ? 1 : 8) && !w->closed; i++) {
        if (net_line_conn_write(w->conn, w->chunk, sizeof w->chunk) != 0)
            break;
        w->written += sizeof w->chunk;
        size_t p = net_line_conn_pending(w->conn);
        if (p > w->max_pending)
            w->max_pending = p;
    }
    if (w->reading && w->written >= 1024 * 1024)
        net_line_conn_close(w->conn, 1, "enough");
}

static void hook_connected(void *ctx)
{
    ((world *)ctx)->connected = 1;
}

static void hook_line(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

static void hook_closed(void *ctx, const char *reason)
{
    world *w = ctx;
    w->closed = 1;
    snprintf(w->reason, sizeof w->reason, "%s", reason);
    uv_timer_stop(&w->writer);
    uv_timer_stop(&w->deadline);
    uv_close((uv_handle_t *)&w->server, NULL);
    if (w->peer)
        uv_close((uv_handle_t *)w->peer, NULL);
}

static void on_deadline(uv_timer_t *t)
{
    world *w = t->data;
    snprintf(w->reason, sizeof w->reason, "deadline");
    net_line_conn_close(w->conn, 0, "deadline");
}

static void free_handle(uv_handle_t *h)
{
    (void)h;
}

static void run(world *w, int reading)
{
    memset(w, 0, sizeof *w);
    w->reading = reading;
    memset(w->chunk, 'x', sizeof w->chunk);
    for (size_t i = 99; i < sizeof w->chunk; i += 100) {
        w->chunk[i - 1] = '\r';
        w->chunk[i] = '\n';
    }
    assert_int_equal(uv_loop_init(&w->loop), 0);
    uv_tcp_init(&w->loop, &w->server);
    w->server.data = w;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&w->server, (const struct sockaddr *)&addr, 0), 0);
    uv_os_fd_t fd;
    uv_fileno((uv_handle_t *)&w->server, &fd);
    int small = 4096; /* accepted sockets inherit it: the peer's window stays small */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    assert_int_equal(uv_listen((uv_stream_t *)&w->server, 4, on_peer), 0);
    struct sockaddr_in bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&w->server, (struct sockaddr *)&bound, &len);

    net_line_conn_hooks hooks = {w, hook_connected, hook_line, hook_closed, NULL};
    w->conn = net_line_conn_new(&w->loop, &hooks, 512);
    assert_non_null(w->conn);
    net_line_conn_set_write_limit(w->conn, 64 * 1024);
    assert_int_equal(net_line_conn_open(w->conn, "127.0.0.1", ntohs(bound.sin_port), NULL, 5), 0);
    uv_timer_init(&w->loop, &w->writer);
    uv_timer_init(&w->loop, &w->deadline);
    w->writer.data = w->deadline.data = w;
    uv_timer_start(&w->writer, on_write_tick, 1, 1);
    uv_timer_start(&w->deadline, on_deadline, 20000, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    net_line_conn_free(w->conn);
    uv_close((uv_handle_t *)&w->writer, free_handle);
    uv_close((uv_handle_t *)&w->deadline, free_handle);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    free(w->peer);
    assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void test_peer_that_never_reads_is_dropped(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    run(w, 0);
    print_message("closed after %zu bytes: %s\n", w->written, w->reason);
    assert_true(w->closed);
    assert_non_null(strstr(w->reason, "the server is not reading"));
    assert_non_null(strstr(w->reason, "the limit is 65536"));
    assert_true(w->max_pending <= 64 * 1024);
    /* What the kernel holds plus the limit: bounded, far from unbounded growth. */
    assert_true(w->written < 32 * 1024 * 1024);
    free(w);
}

static void test_peer_that_reads_is_kept(void **state)
{
    (void)state;
    world *w = calloc(1, sizeof *w);
    run(w, 1);
    assert_true(w->closed);
    assert_string_equal(w->reason, "enough");
    assert_true(w->written >= 1024 * 1024);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_that_never_reads_is_dropped),
        cmocka_unit_test(test_peer_that_reads_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
