/* The homeserver client against a small homeserver on loopback, served on
 * the same loop: the URL and the bearer token it sends, the keys it hands
 * back, token generations (a 401 to a token replaced since is not reported
 * as unauthorized, a 401 to the current one is, before the request's own
 * callback), close, and how paths are escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "matrix/matrix_client.h"

#define WAIT_MS 10000

/* ---- the homeserver: answers each GET when released ------------------------------- */

#define MAX_CONNS 8

typedef struct conn {
    uv_tcp_t tcp;
    char buf[4096];
    size_t len;
    int answered, used;
} conn;

typedef struct server {
    uv_tcp_t listener;
    int port;
    const char *good_token;   /* "Bearer <this>" gets 200, anything else 401 */
    int hold;                 /* keep requests waiting until server_release */
    conn conns[MAX_CONNS];
    char last_target[512];    /* the request target of the last complete request */
    char last_auth[256];
    int requests;             /* complete requests read */
} server;

static void on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;
    c->used = 0;
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    conn *c = w->data;
    free(w);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void header(const char *req, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(req, name);
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
}

static void answer(server *s, conn *c)
{
    static char reply[1024];
    char auth[256], expected[256];
    header(c->buf, "Authorization:", auth, sizeof auth);
    snprintf(expected, sizeof expected, "Bearer %s", s->good_token ? s->good_token : "");
    const char *body = strcmp(auth, expected) == 0 ? "{\"ok\":true}"
                                                   : "{\"errcode\":\"M_UNKNOWN_TOKEN\",\"error\":\"bad token\"}";
    const char *status = body[2] == 'o' ? "200 OK" : "401 Unauthorized";
    snprintf(reply, sizeof reply,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             status, strlen(body), body);
    uv_write_t *w = malloc(sizeof *w);
    assert_non_null(w);
    w->data = c;
    uv_buf_t b = uv_buf_init(reply, (unsigned)strlen(reply));
    c->answered = 1;
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void server_release(server *s)
{
    s->hold = 0;
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].used && !s->conns[i].answered && strstr(s->conns[i].buf, "\r\n\r\n"))
            answer(s, &s->conns[i]);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    conn *c = h->data;
    b->base = c->buf + c->len;
    b->len = sizeof c->buf - 1 - c->len;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    conn *c = st->data;
    server *s = st->loop->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)st))
            uv_close((uv_handle_t *)st, on_conn_closed);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (c->answered || !strstr(c->buf, "\r\n\r\n"))
        return;
    s->requests++;
    uv_stop(st->loop);
    sscanf(c->buf, "%*s %511s", s->last_target);
    header(c->buf, "Authorization:", s->last_auth, sizeof s->last_auth);
    if (!s->hold)
        answer(s, c);
}

static void on_connection(uv_stream_t *l, int status)
{
    assert_int_equal(status, 0);
    server *s = l->data;
    conn *c = NULL;
    for (int i = 0; i < MAX_CONNS && !c; i++)
        if (!s->conns[i].used)
            c = &s->conns[i];
    assert_non_null(c);
    memset(c, 0, sizeof *c);
    c->used = 1;
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- the test's loop, client and callbacks ----------------------------------------- */

typedef struct env {
    uv_loop_t loop;
    uv_timer_t watchdog;
    int timed_out;
    server srv;
    matrix_client *client;
    char url[64];
    int events;              /* every callback, in order: */
    char log[512];           /* "U" unauthorized, "D<key><r|t>" done (replaced or not), "C" closed */
    int last_kind;
} env;

static void note(env *e, const char *what)
{
    e->events++;
    strncat(e->log, what, sizeof e->log - strlen(e->log) - 1);
    uv_stop(&e->loop);
}

static void on_watchdog(uv_timer_t *t)
{
    env *e = t->data;
    e->timed_out = 1;
    uv_stop(&e->loop);
}

/* Runs the loop until *counter reaches target (every callback and every
 * request the server reads stops the loop so it is looked at again). */
static int wait_for(env *e, const int *counter, int target)
{
    e->timed_out = 0;
    uv_timer_start(&e->watchdog, on_watchdog, WAIT_MS, 0);
    while (*counter < target && !e->timed_out)
        if (uv_run(&e->loop, UV_RUN_DEFAULT) == 0)
            break;
    uv_timer_stop(&e->watchdog);
    return *counter >= target;
}

static int wait_events(env *e, int target)
{
    return wait_for(e, &e->events, target);
}

static void on_unauthorized(void *ctx, const matrix_result *r)
{
    env *e = ctx;
    assert_string_equal(r->errcode, "M_UNKNOWN_TOKEN");
    note(e, "U");
}

static void on_done(void *ctx, const matrix_response *resp)
{
    env *e = ctx;
    char what[64];
    snprintf(what, sizeof what, "D%s%s ", resp->key ? resp->key : "-", resp->token_replaced ? "r" : "");
    e->last_kind = resp->result.kind;
    note(e, what);
}

static void on_closed(void *ctx)
{
    note(ctx, "C");
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    e->loop.data = &e->srv;
    uv_timer_init(&e->loop, &e->watchdog);
    e->watchdog.data = e;
    uv_tcp_init(&e->loop, &e->srv.listener);
    e->srv.listener.data = &e->srv;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&e->srv.listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&e->srv.listener, 16, on_connection), 0);
    struct sockaddr_in bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&e->srv.listener, (struct sockaddr *)&bound, &len);
    e->srv.port = ntohs(bound.sin_port);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d", e->srv.port);
    base_error err = {0};
    e->client = matrix_client_new(&e->loop, e->url, NULL, &err);
    assert_non_null(e->client);
    matrix_client_on_unauthorized(e->client, on_unauthorized, e);
    *state = e;
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int teardown(void **state)
{
    env *e = *state;
    if (e->client) {
        matrix_client_close(e->client, on_closed, e);
        int target = e->events + 1;
        assert_true(wait_events(e, target));
    }
    uv_walk(&e->loop, close_walk, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    free(e);
    return 0;
}

static uint64_t get(env *e, const char *path, const char *key)
{
    matrix_call c = {"GET", path, NULL, 10, on_done, e, key, 0, 0};
    base_error err = {0};
    uint64_t id = matrix_client_request(e->client, &c, &err);
    if (!id)
        fail_msg("request not started: %s", err.text);
    return id;
}

/* ---- the tests ------------------------------------------------------------------- */

static void test_url_token_and_key(void **state)
{
    env *e = *state;
    e->srv.good_token = "tok1";
    assert_int_equal(matrix_client_set_token(e->client, "tok1", NULL), BASE_OK);
    assert_true(matrix_client_has_token(e->client));
    get(e, "/account/whoami", "k1");
    assert_true(wait_events(e, 1));
    assert_string_equal(e->log, "Dk1 ");
    assert_int_equal(e->last_kind, MATRIX_OK);
    assert_string_equal(e->srv.last_target, "/_matrix/client/v3/account/whoami");
    assert_string_equal(e->srv.last_auth, "Bearer tok1");
    /* Without a token, no Authorization header at all; the server's 401
     * (M_MISSING_TOKEN on a real one) is about the token in use: none. */
    assert_int_equal(matrix_client_set_token(e->client, NULL, NULL), BASE_OK);
    assert_false(matrix_client_has_token(e->client));
    get(e, "/account/whoami", NULL);
    assert_true(wait_events(e, 3));
    assert_string_equal(e->log, "Dk1 UD- ");
    assert_string_equal(e->srv.last_auth, "");
}

static void test_401_to_the_current_token_is_reported_once_first(void **state)
{
    env *e = *state;
    e->srv.good_token = "other";
    matrix_client_set_token(e->client, "tok1", NULL);
    get(e, "/sync", "a");
    assert_true(wait_events(e, 2));
    /* The owner hears first (and may start a login), then the request. */
    assert_string_equal(e->log, "UDa ");
    assert_int_equal(e->last_kind, MATRIX_UNAUTHORIZED);
}

static void test_401_to_a_replaced_token_is_not_reported(void **state)
{
    env *e = *state;
    e->srv.good_token = "new";
    e->srv.hold = 1;
    matrix_client_set_token(e->client, "old", NULL);
    get(e, "/sync", "a");
    get(e, "/rooms/x/send/m.room.message/t", "b");
    /* Both reach the server with the old token; then a login replaces it. */
    assert_true(wait_for(e, &e->srv.requests, 2));
    assert_int_equal(e->events, 0);
    assert_string_equal(e->srv.last_auth, "Bearer old");
    matrix_client_set_token(e->client, "new", NULL);
    server_release(&e->srv);
    assert_true(wait_events(e, 2));
    /* Neither 401 says anything about the new token: no "U", both marked. */
    assert_non_null(strstr(e->log, "Dar "));
    assert_non_null(strstr(e->log, "Dbr "));
    assert_null(strchr(e->log, 'U'));
    /* Sent again, they go with the new token and succeed. */
    e->log[0] = '\0';
    get(e, "/sync", "a");
    assert_true(wait_events(e, 3));
    assert_string_equal(e->log, "Da ");
    assert_int_equal(e->last_kind, MATRIX_OK);
    assert_string_equal(e->srv.last_auth, "Bearer new");
}

static void test_close_reports_nothing_more(void **state)
{
    env *e = *state;
    e->srv.good_token = "tok";
    e->srv.hold = 1;
    matrix_client_set_token(e->client, "tok", NULL);
    get(e, "/sync", "a");
    uint64_t b = get(e, "/sync", "b");
    matrix_client_cancel(e->client, b);
    matrix_client_close(e->client, on_closed, e);
    e->client = NULL;
    assert_true(wait_events(e, 1));
    /* Neither the cancelled nor the pending request reports after close. */
    assert_string_equal(e->log, "C");
}

static void test_cancel_reports_cancelled(void **state)
{
    env *e = *state;
    e->srv.hold = 1;
    uint64_t a = get(e, "/sync", "a");
    matrix_client_cancel(e->client, a);
    assert_true(wait_events(e, 1));
    assert_string_equal(e->log, "Da ");
    assert_int_equal(e->last_kind, MATRIX_TRANSIENT);
}

static void test_paths_are_escaped(void **state)
{
    (void)state;
    char *p = matrix_client_path("/rooms/%s/send/m.room.message/%s", "!room:example.org", "t 1/2");
    assert_string_equal(p, "/rooms/%21room%3Aexample.org/send/m.room.message/t%201%2F2");
    free(p);
    p = matrix_client_path("/sync?filter=%s&timeout=%s", "{\"a\":1}", "30000");
    assert_string_equal(p, "/sync?filter=%7B%22a%22%3A1%7D&timeout=30000");
    free(p);
    p = matrix_client_path("/a%%b/%s", "#alias:example.org");
    assert_string_equal(p, "/a%b/%23alias%3Aexample.org");
    free(p);
    assert_null(matrix_client_path("/user/%d", 3));   /* only %s */
    assert_null(matrix_client_path("/user/%s", NULL)); /* nothing to escape */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_url_token_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_to_the_current_token_is_reported_once_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_401_to_a_replaced_token_is_not_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_reports_nothing_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_reports_cancelled, setup, teardown),
        cmocka_unit_test(test_paths_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
