/* Tests for http_uv.h against a real HTTP server on loopback:
 * tests/net/http_test_server.py (Python stdlib), started when the group
 * starts and killed when it ends. When the openssl tool is available, a
 * self-signed certificate is made in a mkdtemp folder and the server also
 * speaks HTTPS on a second port.
 *
 * Every wait is bounded by a uv timer (wait_for); each test runs its own
 * loop and checks at the end that the loop closes cleanly (no handle left),
 * so under ASan/LSan a leak in the client shows up here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/http_uv.h"

#ifndef HTTP_TEST_SERVER
#error "HTTP_TEST_SERVER must name tests/net/http_test_server.py"
#endif

#define TOKEN "syt_c2VjcmV0_s3cr3tT0ken"
#define WAIT_MS 10000 /* the longest any single wait may take */

/* ------------------------------------------------------------------ the server */

static struct {
    pid_t pid;
    int port, tls_port;
    char dir[256];              /* certificate folder, "" when none */
    char cert[300], key[300];
} srv;

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A self-signed certificate for 127.0.0.1, or nothing (the TLS cases then skip). */
static void make_certificate(void)
{
    snprintf(srv.dir, sizeof srv.dir, "/tmp/cb-http-test-XXXXXX");
    if (!mkdtemp(srv.dir)) {
        srv.dir[0] = '\0';
        return;
    }
    snprintf(srv.cert, sizeof srv.cert, "%s/cert.pem", srv.dir);
    snprintf(srv.key, sizeof srv.key, "%s/key.pem", srv.dir);
    char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", srv.key, "-out", srv.cert,
                    NULL};
    if (run_quiet(argv) != 0) {
        unlink(srv.cert);
        unlink(srv.key);
        srv.cert[0] = srv.key[0] = '\0';
    }
}

static int read_ports(int fd)
{
    char buf[64];
    size_t len = 0;
    while (len < sizeof buf - 1 && !memchr(buf, '\n', len)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 15000) <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return sscanf(buf, "%d %d", &srv.port, &srv.tls_port) == 2 && srv.port > 0 ? 0 : -1;
}

static int start_server(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* as the bot does: a peer closing must not kill us */
    make_certificate();
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    srv.pid = fork();
    if (srv.pid < 0)
        return -1;
    if (srv.pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (srv.cert[0])
            execlp("python3", "python3", HTTP_TEST_SERVER, srv.cert, srv.key, (char *)NULL);
        else
            execlp("python3", "python3", HTTP_TEST_SERVER, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    int rc = read_ports(fds[0]);
    close(fds[0]);
    if (rc != 0)
        fprintf(stderr, "test_http_uv: the test server did not start (python3 %s)\n", HTTP_TEST_SERVER);
    return rc;
}

static int stop_server(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        int status;
        int waited = 0;
        while (waitpid(srv.pid, &status, WNOHANG) == 0) {
            if (++waited > 300) { /* 3 s */
                kill(srv.pid, SIGKILL);
                waitpid(srv.pid, &status, 0);
                break;
            }
            nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
        }
        srv.pid = 0;
    }
    if (srv.dir[0]) {
        unlink(srv.cert);
        unlink(srv.key);
        rmdir(srv.dir);
    }
    return 0;
}

/* ------------------------------------------------------------------ loop and client */

typedef struct env {
    int fds_before;       /* open descriptors before the loop and client existed */
    uv_loop_t loop;
    uv_timer_t watchdog;
    int timed_out;
    net_http *http;
    int done_total;       /* done callbacks, all requests */
    int closed_calls;
    int done_when_closed; /* done_total when closed() ran */
} env;

/* What one request's done callback saw. */
typedef struct call {
    env *e;
    int calls;
    long status;
    char *body;
    size_t body_len;
    int nul_terminated;
    double retry_after;
    char *error;
    void (*then)(struct call *c); /* run inside the done callback */
    void *user;
} call;

static void on_watchdog(uv_timer_t *t)
{
    env *e = t->data;
    e->timed_out = 1;
    uv_stop(&e->loop);
}

/* Open file descriptors, or -1 without /proc: after a test, the same number
 * as before shows that every socket (kept-alive connections included) was
 * closed. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void env_init(env *e, const char *ca_file)
{
    memset(e, 0, sizeof *e);
    e->fds_before = count_fds();
    assert_int_equal(uv_loop_init(&e->loop), 0);
    uv_timer_init(&e->loop, &e->watchdog);
    e->watchdog.data = e;
    base_error err;
    e->http = net_http_new(&e->loop, ca_file, &err);
    assert_non_null(e->http);
}

/* Runs the loop until *counter reaches target or ms pass. Every done and
 * closed callback stops the loop (uv_stop) so the counter is looked at
 * again; UV_RUN_ONCE would not do, as it may block in the poll phase after
 * a timer callback already did the work. */
static int wait_for(env *e, const int *counter, int target, uint64_t ms)
{
    e->timed_out = 0;
    uv_timer_start(&e->watchdog, on_watchdog, ms, 0);
    while (*counter < target && !e->timed_out)
        if (uv_run(&e->loop, UV_RUN_DEFAULT) == 0)
            break; /* nothing left that could change it */
    uv_timer_stop(&e->watchdog);
    return *counter >= target;
}

static void sleep_loop(env *e, uint64_t ms)
{
    int never = 0;
    wait_for(e, &never, 1, ms);
}

static void on_closed(void *ctx)
{
    env *e = ctx;
    e->closed_calls++;
    e->done_when_closed = e->done_total;
    uv_stop(&e->loop);
}

/* Lets the loop run to its natural end: it must, within ms, with the
 * watchdog not holding it open. Returns 1 when it did. */
static int loop_ends(env *e, uint64_t ms)
{
    e->timed_out = 0;
    uv_timer_start(&e->watchdog, on_watchdog, ms, 0);
    uv_unref((uv_handle_t *)&e->watchdog);
    while (uv_run(&e->loop, UV_RUN_DEFAULT) != 0 && !e->timed_out)
        ; /* a callback's uv_stop ends uv_run early: carry on */
    uv_timer_stop(&e->watchdog);
    uv_ref((uv_handle_t *)&e->watchdog);
    return !e->timed_out;
}

/* Frees the client (unless the test did) and checks that the loop ends and
 * closes with no handle left. */
static void env_finish(env *e)
{
    if (e->http) {
        net_http_free(e->http, on_closed, e);
        e->http = NULL;
    }
    assert_true(loop_ends(e, WAIT_MS));
    assert_int_equal(e->closed_calls, 1);
    uv_close((uv_handle_t *)&e->watchdog, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    assert_int_equal(count_fds(), e->fds_before);
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void on_done(void *ctx, const net_http_response *r)
{
    call *c = ctx;
    c->calls++;
    c->e->done_total++;
    uv_stop(&c->e->loop); /* let wait_for look at the counters */
    c->status = r->status;
    c->retry_after = r->retry_after;
    c->nul_terminated = r->body && r->body[r->body_len] == '\0';
    free(c->body);
    c->body = r->body ? dup_bytes(r->body, r->body_len) : NULL;
    c->body_len = r->body_len;
    free(c->error);
    c->error = r->error ? dup_bytes(r->error, strlen(r->error)) : NULL;
    if (c->then)
        c->then(c);
}

static void call_reset(call *c)
{
    free(c->body);
    free(c->error);
    memset(c, 0, sizeof *c);
}

static uint64_t send_url(env *e, call *c, const char *method, const char *url, const char *body,
                         const char *token, double timeout)
{
    net_http_request req = {
        .method = method,
        .url = url,
        .bearer_token = token,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout = timeout,
    };
    c->e = e;
    return net_http_send(e->http, &req, on_done, c);
}

/* The URL lives on this stack frame only: the client must copy it. */
static uint64_t send_path(env *e, call *c, const char *method, const char *path, const char *body,
                          const char *token, double timeout)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
    return send_url(e, c, method, url, body, token, timeout);
}

/* One request, waited for; the call must have completed exactly once. */
static void fetch(env *e, call *c, const char *method, const char *path, const char *body,
                  const char *token, double timeout)
{
    assert_true(send_path(e, c, method, path, body, token, timeout) > 0);
    assert_true(wait_for(e, &c->calls, 1, WAIT_MS));
    assert_int_equal(c->calls, 1);
    assert_true(c->nul_terminated);
}

/* ------------------------------------------------------------------ methods and bodies */

static void test_get_json(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    fetch(&e, &c, "GET", "/json", NULL, NULL, 5);
    assert_null(c.error);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "{\"ok\": true}");
    assert_int_equal(c.body_len, 12);
    assert_true(c.retry_after == -1);
    assert_int_equal(net_http_active(e.http), 0);
    env_finish(&e);
    call_reset(&c);
}

static void test_post_echo(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    const char *body = "{\"msgtype\": \"m.notice\", \"body\": \"hi\"}";
    fetch(&e, &c, "POST", "/echo/send?x=1", body, TOKEN, 5);
    assert_null(c.error);
    assert_int_equal(c.status, 200);
    /* The token arrives in the header, and only there: the path is as sent. */
    assert_string_equal(c.body, "method: POST\n"
                                "path: /echo/send?x=1\n"
                                "auth: Bearer " TOKEN "\n"
                                "content-type: application/json\n"
                                "accept: application/json\n"
                                "body: {\"msgtype\": \"m.notice\", \"body\": \"hi\"}\n");
    env_finish(&e);
    call_reset(&c);
}

static void test_put_and_empty_bodies(void **state)
{
    (void)state;
    env e;
    call put = {0}, post = {0}, get = {0};
    env_init(&e, NULL);

    net_http_request req = {.method = "PUT", .body = "hello", .body_len = 5, .timeout = 5,
                           .content_type = "text/plain; charset=utf-8", .bearer_token = TOKEN};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo/txn1", srv.port);
    req.url = url;
    put.e = &e;
    assert_true(net_http_send(e.http, &req, on_done, &put) > 0);
    assert_true(wait_for(&e, &put.calls, 1, WAIT_MS));
    assert_null(put.error);
    assert_string_equal(put.body, "method: PUT\npath: /echo/txn1\nauth: Bearer " TOKEN "\n"
                                  "content-type: text/plain; charset=utf-8\n"
                                  "accept: application/json\nbody: hello\n");

    /* No body: no made-up form Content-Type, an empty body, no token header. */
    fetch(&e, &post, "POST", "/echo/join", NULL, NULL, 5);
    assert_null(post.error);
    assert_string_equal(post.body, "method: POST\npath: /echo/join\nauth: (none)\n"
                                   "content-type: (none)\naccept: application/json\nbody: \n");

    fetch(&e, &get, NULL, "/echo", NULL, "", 5); /* NULL method is GET, "" token is none */
    assert_null(get.error);
    assert_string_equal(get.body, "method: GET\npath: /echo\nauth: (none)\n"
                                  "content-type: (none)\naccept: application/json\nbody: \n");
    env_finish(&e);
    call_reset(&put);
    call_reset(&post);
    call_reset(&get);
}

static void test_status_and_retry_after(void **state)
{
    (void)state;
    env e;
    call limited = {0}, dated = {0}, failed = {0}, missing = {0}, hinted = {0};
    env_init(&e, NULL);

    fetch(&e, &limited, "GET", "/429", NULL, TOKEN, 5);
    assert_null(limited.error); /* an HTTP error status is not a transport error */
    assert_int_equal(limited.status, 429);
    assert_true(limited.retry_after == 2.0);
    assert_non_null(strstr(limited.body, "M_LIMIT_EXCEEDED"));

    fetch(&e, &dated, "GET", "/retry-date", NULL, NULL, 5);
    assert_int_equal(dated.status, 503);
    assert_true(dated.retry_after == 0); /* an HTTP-date in the past: retry now */

    fetch(&e, &failed, "POST", "/500", "{}", NULL, 5);
    assert_null(failed.error);
    assert_int_equal(failed.status, 500);
    assert_true(failed.retry_after == -1);

    fetch(&e, &missing, "GET", "/nowhere", NULL, NULL, 5);
    assert_int_equal(missing.status, 404);

    /* A Retry-After on an interim 1xx response is not the final response's. */
    fetch(&e, &hinted, "GET", "/early-hints", NULL, NULL, 5);
    assert_null(hinted.error);
    assert_int_equal(hinted.status, 200);
    assert_true(hinted.retry_after == -1);
    assert_string_equal(hinted.body, "{\"ok\": true}");
    env_finish(&e);
    call_reset(&hinted);
    call_reset(&limited);
    call_reset(&dated);
    call_reset(&failed);
    call_reset(&missing);
}

static void test_retry_after_forms(void **state)
{
    (void)state;
    env e;
    call future = {0};
    env_init(&e, NULL);
    fetch(&e, &future, "GET", "/retry-future", NULL, NULL, 5);
    assert_int_equal(future.status, 429);
    assert_true(future.retry_after > 100 && future.retry_after <= 121);
    env_finish(&e);
    call_reset(&future);

    static const struct {
        const char *line;
        double want;
    } cases[] = {
        {"Retry-After: 7\r\n", 7},
        {"retry-after:\t0 \r\n", 0},
        {"Retry-After: 99999999999999999999\r\n", 1e9},
        {"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n", 0},
        {"Retry-After: 12abc\r\n", -1},
        {"Retry-After: soon\r\n", -1},
        {"Retry-After: \r\n", -1},
        {"Retry-Later: 5\r\n", -1},
        {"Retry", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_true(net_http_parse_retry_after(cases[i].line, strlen(cases[i].line)) == cases[i].want);
}

/* A server that drops a kept-alive connection just as the next request goes
 * out: that request is sent again on a fresh connection, and succeeds. */
static void test_keepalive_closed_by_the_server(void **state)
{
    (void)state;
    env e;
    call first = {0}, second = {0}, third = {0};
    env_init(&e, NULL);
    fetch(&e, &first, "GET", "/reset-next", NULL, TOKEN, 5);
    assert_int_equal(first.status, 200);
    fetch(&e, &second, "POST", "/echo", "{\"n\":2}", TOKEN, 5);
    assert_null(second.error);
    assert_int_equal(second.status, 200);
    assert_non_null(strstr(second.body, "body: {\"n\":2}"));
    /* Once only: a connection that fails on a fresh connect is an error. */
    fetch(&e, &third, "GET", "/json", NULL, NULL, 5);
    assert_int_equal(third.status, 200);
    env_finish(&e);
    call_reset(&first);
    call_reset(&second);
    call_reset(&third);
}

/* http_proxy in the environment is not used: a token must not go to a
 * proxy nobody configured. A configured proxy is. */
static void test_proxy_only_when_configured(void **state)
{
    (void)state;
    env e;
    call direct = {0}, proxied = {0}, secret = {0};
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", srv.port);
    setenv("http_proxy", "http://127.0.0.1:1", 1); /* nothing listens there */
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    env_init(&e, NULL);
    fetch(&e, &direct, "GET", "/echo", NULL, TOKEN, 5);
    assert_null(direct.error);
    assert_int_equal(direct.status, 200);
    assert_non_null(strstr(direct.body, "path: /echo"));

    base_error err;
    assert_int_equal(net_http_set_proxy(e.http, proxy, &err), BASE_OK);
    assert_true(send_url(&e, &proxied, "GET", "http://proxied.invalid/where", NULL, NULL, 5) > 0);
    assert_true(wait_for(&e, &proxied.calls, 1, WAIT_MS));
    assert_null(proxied.error);
    assert_non_null(strstr(proxied.body, "proxied http://proxied.invalid/where"));
    assert_int_equal(net_http_set_proxy(e.http, NULL, &err), BASE_OK);

    /* A request marked secret works the same way (its buffers are wiped). */
    net_http_request req = {.method = "POST", .url = NULL, .body = "{\"password\":\"pw\"}", .secret = 1};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", srv.port);
    req.url = url;
    secret.e = &e;
    assert_true(net_http_send(e.http, &req, on_done, &secret) > 0);
    assert_true(wait_for(&e, &secret.calls, 1, WAIT_MS));
    assert_non_null(strstr(secret.body, "body: {\"password\":\"pw\"}"));
    env_finish(&e);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    call_reset(&direct);
    call_reset(&proxied);
    call_reset(&secret);
}

static void test_large_and_capped_bodies(void **state)
{
    (void)state;
    env e;
    call large = {0}, huge = {0}, stream = {0};
    env_init(&e, NULL);

    fetch(&e, &large, "GET", "/large", NULL, NULL, 20);
    assert_null(large.error);
    assert_int_equal(large.status, 200);
    assert_int_equal(large.body_len, 5 * 1024 * 1024);
    const char *pattern = "0123456789abcdef";
    size_t bad = 0;
    for (size_t i = 0; i < large.body_len; i++)
        bad += large.body[i] != pattern[i % 16];
    assert_int_equal(bad, 0);

    /* Over the 32 MiB cap: with a Content-Length, and without one. */
    fetch(&e, &huge, "GET", "/huge", NULL, NULL, 20);
    assert_non_null(huge.error);
    assert_non_null(strstr(huge.error, "32 MiB"));
    assert_int_equal(huge.body_len, 0);

    fetch(&e, &stream, "GET", "/huge-stream", NULL, NULL, 20);
    assert_non_null(stream.error);
    assert_non_null(strstr(stream.error, "32 MiB"));
    assert_int_equal(stream.body_len, 0); /* no partial body with an error */
    assert_string_equal(stream.body, "");

    /* A request may ask for a smaller cap (a Matrix /sync does). */
    call capped = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/large", srv.port);
    net_http_request req = {.url = url, .max_body = 1024 * 1024};
    capped.e = &e;
    assert_true(net_http_send(e.http, &req, on_done, &capped) > 0);
    assert_true(wait_for(&e, &capped.calls, 1, WAIT_MS));
    assert_non_null(capped.error);
    assert_non_null(strstr(capped.error, "larger than 1 MiB"));
    assert_int_equal(capped.body_len, 0);
    call_reset(&capped);
    env_finish(&e);
    call_reset(&large);
    call_reset(&huge);
    call_reset(&stream);
}

/* ------------------------------------------------------------------ concurrency */

#define MANY 50

static void test_many_concurrent(void **state)
{
    (void)state;
    env e;
    static call calls[MANY];
    env_init(&e, NULL);
    memset(calls, 0, sizeof calls);
    for (int i = 0; i < MANY; i++) {
        char path[64];
        snprintf(path, sizeof path, "/echo?delay=50&n=%d", i);
        assert_true(send_path(&e, &calls[i], "GET", path, NULL, TOKEN, 20) > 0);
    }
    assert_int_equal(net_http_active(e.http), MANY);
    assert_true(wait_for(&e, &e.done_total, MANY, 20000));
    sleep_loop(&e, 100); /* a second report would show up here */
    assert_int_equal(e.done_total, MANY);
    assert_int_equal(net_http_active(e.http), 0);
    for (int i = 0; i < MANY; i++) {
        char want[64];
        snprintf(want, sizeof want, "path: /echo?delay=50&n=%d\n", i);
        assert_int_equal(calls[i].calls, 1);
        assert_null(calls[i].error);
        assert_int_equal(calls[i].status, 200);
        assert_non_null(strstr(calls[i].body, want));
    }
    env_finish(&e);
    for (int i = 0; i < MANY; i++)
        call_reset(&calls[i]);
}

/* ------------------------------------------------------------------ failures */

static void test_timeout(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    uv_update_time(&e.loop);
    uint64_t start = uv_now(&e.loop);
    fetch(&e, &c, "GET", "/slow?ms=5000", NULL, NULL, 0.3);
    uint64_t took = uv_now(&e.loop) - start;
    assert_int_equal(c.status, 0);
    assert_non_null(c.error);
    assert_non_null(strstr(c.error, "timed out"));
    assert_true(took >= 250 && took < 3000);
    env_finish(&e);
    call_reset(&c);
}

static void test_connection_refused(void **state)
{
    (void)state;
    /* A bound socket that does not listen: connecting to it is refused, and
     * holding it keeps the port from being reused meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);

    env e;
    call c = {0};
    env_init(&e, NULL);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json", ntohs(a.sin_port));
    assert_true(send_url(&e, &c, "GET", url, NULL, TOKEN, 5) > 0);
    assert_true(wait_for(&e, &c.calls, 1, WAIT_MS));
    assert_int_equal(c.status, 0);
    assert_non_null(c.error);
    assert_true(strlen(c.error) > 0);
    assert_null(strstr(c.error, TOKEN));
    env_finish(&e);
    call_reset(&c);
    close(fd);
}

static void test_dropped_connection(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    fetch(&e, &c, "GET", "/drop", NULL, NULL, 5);
    assert_non_null(c.error);
    assert_true(strlen(c.error) > 0);
    assert_int_equal(c.status, 200); /* the status line did arrive */
    assert_int_equal(c.body_len, 0); /* the 10 bytes of 1000 are not handed over */
    env_finish(&e);
    call_reset(&c);
}

static void test_https_to_plain_port(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/json", srv.port);
    assert_true(send_url(&e, &c, "GET", url, NULL, TOKEN, 5) > 0);
    assert_true(wait_for(&e, &c.calls, 1, WAIT_MS));
    assert_int_equal(c.status, 0);
    assert_non_null(c.error);
    assert_true(strlen(c.error) > 0);
    env_finish(&e);
    call_reset(&c);
}

static void test_tls_verification(void **state)
{
    (void)state;
    if (!srv.tls_port || !srv.cert[0])
        skip(); /* no openssl tool: no certificate to test with */
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", srv.tls_port);

    /* Verification is on: a self-signed server is refused by default... */
    env e;
    call c = {0};
    env_init(&e, NULL);
    assert_true(send_url(&e, &c, "GET", url, NULL, TOKEN, 5) > 0);
    assert_true(wait_for(&e, &c.calls, 1, WAIT_MS));
    assert_int_equal(c.status, 0);
    assert_non_null(c.error);
    env_finish(&e);
    call_reset(&c);

    /* ...and accepted once its certificate is the configured CA file. */
    env_init(&e, srv.cert);
    assert_true(send_url(&e, &c, "GET", url, NULL, TOKEN, 5) > 0);
    assert_true(wait_for(&e, &c.calls, 1, WAIT_MS));
    assert_null(c.error);
    assert_int_equal(c.status, 200);
    assert_non_null(strstr(c.body, "auth: Bearer " TOKEN "\n"));
    env_finish(&e);
    call_reset(&c);
}

static void test_other_protocols_refused(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    assert_true(send_url(&e, &c, "GET", "file:///etc/passwd", NULL, NULL, 5) > 0);
    assert_true(wait_for(&e, &c.calls, 1, WAIT_MS));
    assert_non_null(c.error);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.body_len, 0);
    env_finish(&e);
    call_reset(&c);
}

/* ------------------------------------------------------------------ cancel and free */

static uint64_t cancel_target;

static void cancel_timer(uv_timer_t *t)
{
    env *e = t->data;
    net_http_cancel(e->http, cancel_target);
}

static void test_cancel(void **state)
{
    (void)state;
    env e;
    call slow = {0}, early = {0};
    env_init(&e, NULL);

    /* Cancelled while in flight, from another loop callback. */
    cancel_target = send_path(&e, &slow, "GET", "/slow?ms=5000", NULL, NULL, 10);
    assert_true(cancel_target > 0);
    uv_timer_t t;
    uv_timer_init(&e.loop, &t);
    t.data = &e;
    uv_timer_start(&t, cancel_timer, 100, 0);
    assert_true(wait_for(&e, &slow.calls, 1, WAIT_MS));
    assert_string_equal(slow.error, "cancelled");
    assert_int_equal(slow.status, 0);

    /* Cancelled before the loop ever ran: reported later, not inside cancel. */
    uint64_t id = send_path(&e, &early, "GET", "/json", NULL, NULL, 5);
    assert_true(id > 0 && id != cancel_target);
    net_http_cancel(e.http, id);
    assert_int_equal(early.calls, 0);
    assert_true(wait_for(&e, &early.calls, 1, WAIT_MS));
    assert_string_equal(early.error, "cancelled");

    /* Cancelling again, or an unknown id, does nothing. */
    net_http_cancel(e.http, cancel_target);
    net_http_cancel(e.http, id);
    net_http_cancel(e.http, 0);
    net_http_cancel(e.http, 987654);
    sleep_loop(&e, 200);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(early.calls, 1);
    assert_int_equal(net_http_active(e.http), 0);

    uv_close((uv_handle_t *)&t, NULL);
    env_finish(&e);
    call_reset(&slow);
    call_reset(&early);
}

/* The first report cancels the second request, which finished in the same
 * curl_multi_socket_action call and waits for delivery. */
static void cancel_other(call *c)
{
    net_http_cancel(c->e->http, (uint64_t)(uintptr_t)c->user);
}

static void test_cancel_finished_but_unreported(void **state)
{
    (void)state;
    env e;
    call first = {0}, second = {0};
    env_init(&e, NULL);
    /* Both fail at once in the first socket_action (no such protocol), so
     * both are queued together before either is reported. */
    assert_true(send_url(&e, &first, "GET", "gopher://127.0.0.1/", NULL, NULL, 5) > 0);
    uint64_t id = send_url(&e, &second, "GET", "gopher://127.0.0.1/", NULL, NULL, 5);
    assert_true(id > 0);
    first.then = cancel_other;
    first.user = (void *)(uintptr_t)id;
    assert_true(wait_for(&e, &e.done_total, 2, WAIT_MS));
    assert_non_null(first.error);
    assert_string_not_equal(first.error, "cancelled");
    assert_string_equal(second.error, "cancelled"); /* cancel wins over the stale result */
    sleep_loop(&e, 50);
    assert_int_equal(first.calls, 1);
    assert_int_equal(second.calls, 1);
    env_finish(&e);
    call_reset(&first);
    call_reset(&second);
}

static void free_timer(uv_timer_t *t)
{
    env *e = t->data;
    net_http_free(e->http, on_closed, e);
    e->http = NULL;
    uv_close((uv_handle_t *)t, NULL);
}

static void test_free_with_requests_in_flight(void **state)
{
    (void)state;
    env e;
    call slow[5] = {{0}}, quick = {0};
    env_init(&e, NULL);
    for (int i = 0; i < 5; i++)
        assert_true(send_path(&e, &slow[i], "POST", "/slow?ms=5000", "{}", TOKEN, 10) > 0);
    fetch(&e, &quick, "GET", "/json", NULL, NULL, 5); /* leaves a kept-alive connection */

    uv_timer_t t;
    uv_timer_init(&e.loop, &t);
    t.data = &e;
    uv_timer_start(&t, free_timer, 100, 0);
    /* Nothing but the client keeps the loop alive: it must end on its own. */
    assert_true(loop_ends(&e, WAIT_MS));
    assert_null(e.http);
    assert_int_equal(e.closed_calls, 1);
    assert_int_equal(e.done_when_closed, 6); /* every done ran before closed */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(slow[i].calls, 1);
        assert_string_equal(slow[i].error, "cancelled");
    }
    env_finish(&e);
    for (int i = 0; i < 5; i++)
        call_reset(&slow[i]);
    call_reset(&quick);
}

static void test_free_at_once(void **state)
{
    (void)state;
    /* Freed before the loop ever ran, with and without a request. */
    env e;
    call c = {0};
    env_init(&e, NULL);
    assert_true(send_path(&e, &c, "GET", "/json", NULL, NULL, 5) > 0);
    net_http_free(e.http, on_closed, &e);
    e.http = NULL;
    assert_int_equal(c.calls, 0); /* reported from the loop, not from inside free */
    assert_int_equal(e.closed_calls, 0);
    env_finish(&e);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.error, "cancelled");
    call_reset(&c);

    env_init(&e, NULL);
    env_finish(&e);
}

/* ------------------------------------------------------------------ re-entrancy */

/* Each report starts the next request, from inside the done callback. */
static void chain_next(call *c)
{
    int *left = c->user;
    if (--*left > 0 && c->error == NULL) {
        char path[64];
        snprintf(path, sizeof path, "/echo?step=%d", *left);
        c->calls = 0; /* count the next link's report afresh */
        assert_true(send_path(c->e, c, "PUT", path, "{}", TOKEN, 5) > 0);
    }
}

/* The first report cancels the other request, then frees the client. */
static call *victim;

static void cancel_then_free(call *c)
{
    net_http_cancel(c->e->http, (uint64_t)(uintptr_t)c->user);
    net_http_free(c->e->http, on_closed, c->e);
    c->e->http = NULL;
    /* h is still usable memory until closed(), and refuses new work. */
    assert_int_equal(victim->calls, 0);
}

static void test_reentrant_calls(void **state)
{
    (void)state;
    env e;
    call c = {0};
    int left = 3;
    env_init(&e, NULL);
    c.then = chain_next;
    c.user = &left;
    assert_true(send_path(&e, &c, "GET", "/echo?step=3", NULL, TOKEN, 5) > 0);
    assert_true(wait_for(&e, &e.done_total, 3, WAIT_MS));
    assert_int_equal(left, 0);
    assert_null(c.error);
    assert_non_null(strstr(c.body, "path: /echo?step=1\n"));
    assert_non_null(strstr(c.body, "method: PUT\n"));
    env_finish(&e);
    call_reset(&c);

    /* Cancel and free from inside a done callback, another request in flight. */
    call first = {0}, slow = {0}, third = {0};
    env_init(&e, NULL);
    victim = &slow;
    uint64_t slow_id = send_path(&e, &slow, "GET", "/slow?ms=5000", NULL, NULL, 10);
    assert_true(slow_id > 0);
    assert_true(send_path(&e, &third, "GET", "/slow?ms=5000", NULL, NULL, 10) > 0);
    first.then = cancel_then_free;
    first.user = (void *)(uintptr_t)slow_id;
    assert_true(send_path(&e, &first, "GET", "/json", NULL, NULL, 5) > 0);
    assert_true(loop_ends(&e, WAIT_MS));
    assert_int_equal(e.closed_calls, 1);
    assert_int_equal(e.done_when_closed, 3);
    assert_int_equal(first.calls, 1);
    assert_null(first.error);
    assert_int_equal(slow.calls, 1);
    assert_string_equal(slow.error, "cancelled");
    assert_int_equal(third.calls, 1);
    assert_string_equal(third.error, "cancelled");
    env_finish(&e);
    call_reset(&first);
    call_reset(&slow);
    call_reset(&third);
}

/* A send from inside a done callback after net_http_free is refused. */
static int refused_after_free;

static void free_then_send(call *c)
{
    env *e = c->e;
    net_http *h = e->http;
    net_http_free(h, on_closed, e);
    e->http = NULL;
    net_http_request req = {.url = "http://127.0.0.1:1/"};
    refused_after_free = net_http_send(h, &req, on_done, c) == 0;
    assert_int_equal(net_http_active(h), 0);
}

static void test_send_after_free_refused(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    c.then = free_then_send;
    assert_true(send_path(&e, &c, "GET", "/json", NULL, NULL, 5) > 0);
    assert_true(loop_ends(&e, WAIT_MS));
    assert_true(refused_after_free);
    assert_int_equal(c.calls, 1);
    env_finish(&e);
    call_reset(&c);
}

/* ------------------------------------------------------------------ bad input */

static void test_bad_requests(void **state)
{
    (void)state;
    env e;
    call c = {0};
    env_init(&e, NULL);
    c.e = &e;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", srv.port);
    const net_http_request bad[] = {
        {.url = NULL},
        {.url = ""},
        {.url = url, .method = "GE T"},
        {.url = url, .method = "get"},
        {.url = url, .method = ""},
        {.url = url, .method = "POST\r\nX-Evil: 1"},
        {.url = url, .method = "VERYLONGMETHODNAMEX"},
        {.url = url, .bearer_token = "abc\r\nX-Evil: 1"},
        {.url = url, .method = "POST", .body = "{}", .content_type = "json\n"},
        {.url = url, .method = "GET", .body = "{}", .body_len = 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(net_http_send(e.http, &bad[i], on_done, &c), 0);
    net_http_request ok = {.url = url};
    assert_int_equal(net_http_send(NULL, &ok, on_done, &c), 0);
    assert_int_equal(net_http_send(e.http, NULL, on_done, &c), 0);
    assert_int_equal(net_http_send(e.http, &ok, NULL, &c), 0);
    assert_int_equal(net_http_active(e.http), 0);
    assert_int_equal(net_http_active(NULL), 0);
    net_http_cancel(NULL, 1);
    net_http_free(NULL, on_closed, &e);
    sleep_loop(&e, 50);
    assert_int_equal(c.calls, 0);
    assert_int_equal(e.closed_calls, 0);

    /* A body with body_len 0 is sent up to its NUL. */
    call strlen_body = {0};
    net_http_request req = {.method = "POST", .url = url, .body = "{\"a\":1}", .timeout = 5};
    strlen_body.e = &e;
    assert_true(net_http_send(e.http, &req, on_done, &strlen_body) > 0);
    assert_true(wait_for(&e, &strlen_body.calls, 1, WAIT_MS));
    assert_non_null(strstr(strlen_body.body, "body: {\"a\":1}\n"));
    env_finish(&e);
    call_reset(&c);
    call_reset(&strlen_body);
}

static void test_new_errors(void **state)
{
    (void)state;
    base_error err = {.text = "untouched"};
    uv_loop_t loop;
    assert_null(net_http_new(NULL, NULL, &err));
    assert_true(strlen(err.text) > 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_null(net_http_new(&loop, "/nonexistent/ca.pem", &err));
    assert_non_null(strstr(err.text, "/nonexistent/ca.pem"));
    assert_null(net_http_new(&loop, "/nonexistent/ca.pem", NULL)); /* no buffer: fine */
    assert_null(net_http_new(&loop, "/", &err));           /* a folder */
    assert_non_null(strstr(err.text, "CA file"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"abcXYZ019-._~", "abcXYZ019-._~"},
        {"!room:example.org", "%21room%3Aexample.org"},
        {"@bot:example.org", "%40bot%3Aexample.org"},
        {"a b/c?d&e=f#g", "a%20b%2Fc%3Fd%26e%3Df%23g"},
        {"caf\xc3\xa9", "caf%C3%A9"},
        {"100%", "100%25"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = net_http_escape(cases[i].in);
        assert_non_null(e);
        assert_string_equal(e, cases[i].out);
        free(e);
    }
    assert_null(net_http_escape(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_get_json),
        cmocka_unit_test(test_post_echo),
        cmocka_unit_test(test_put_and_empty_bodies),
        cmocka_unit_test(test_status_and_retry_after),
        cmocka_unit_test(test_large_and_capped_bodies),
        cmocka_unit_test(test_retry_after_forms),
        cmocka_unit_test(test_keepalive_closed_by_the_server),
        cmocka_unit_test(test_proxy_only_when_configured),
        cmocka_unit_test(test_many_concurrent),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_dropped_connection),
        cmocka_unit_test(test_https_to_plain_port),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_other_protocols_refused),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cancel_finished_but_unreported),
        cmocka_unit_test(test_free_with_requests_in_flight),
        cmocka_unit_test(test_free_at_once),
        cmocka_unit_test(test_reentrant_calls),
        cmocka_unit_test(test_send_after_free_refused),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
