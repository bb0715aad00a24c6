/* Homeserver requests: URL, token, classification, token generations. */
#include "matrix/matrix_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strbuf.h"
#include "net/http_uv.h"

struct matrix_client {
    net_http *http;
    char *homeserver;
    char *token;          /* only ever in the Authorization header; wiped when replaced */
    uint64_t token_gen;   /* bumped by every new token */
    int closing;          /* matrix_client_close was called: report nothing more */
    matrix_client_unauthorized_cb unauthorized;
    void *unauthorized_ctx;
    void (*closed)(void *ctx);
    void *closed_ctx;
};

/* One request in flight; freed once net_http has reported it. */
typedef struct pending_call {
    matrix_client *c;
    matrix_client_done_cb done;
    void *ctx;
    char *key;
    uint64_t id;
    uint64_t token_gen; /* the generation of the token it was sent with */
} pending_call;

matrix_client *matrix_client_new(uv_loop_t *loop, const char *homeserver, const char *ca_file, base_error *err)
{
    matrix_client *c = calloc(1, sizeof *c);
    if (!c || !(c->homeserver = base_strdup(homeserver))) {
        free(c);
        base_error_set(err, "out of memory");
        return NULL;
    }
    c->http = net_http_new(loop, ca_file, err);
    if (!c->http) {
        free(c->homeserver);
        free(c);
        return NULL;
    }
    return c;
}

void matrix_client_on_unauthorized(matrix_client *c, matrix_client_unauthorized_cb cb, void *ctx)
{
    c->unauthorized = cb;
    c->unauthorized_ctx = ctx;
}

int matrix_client_set_proxy(matrix_client *c, const char *proxy, base_error *err)
{
    return net_http_set_proxy(c->http, proxy, err);
}

int matrix_client_set_token(matrix_client *c, const char *token, base_error *err)
{
    base_secret_free(c->token);
    c->token = NULL;
    c->token_gen++;
    if (token && !(c->token = base_strdup(token)))
        return base_error_set(err, "out of memory");
    return BASE_OK;
}

int matrix_client_has_token(const matrix_client *c)
{
    return c->token != NULL;
}

static void on_http_done(void *ctx, const net_http_response *resp)
{
    pending_call *pc = ctx;
    matrix_client *c = pc->c;
    if (!c->closing) {
        matrix_response r = {
            .id = pc->id,
            .body = resp->body ? resp->body : "",
            .len = resp->body ? resp->body_len : 0,
            .key = pc->key,
            .too_large = resp->too_large,
        };
        matrix_classify(resp->status, resp->body, resp->body_len, resp->retry_after, resp->error, &r.result);
        if (r.result.kind == MATRIX_UNAUTHORIZED) {
            if (pc->token_gen != c->token_gen)
                r.token_replaced = 1;
            else if (c->unauthorized)
                c->unauthorized(c->unauthorized_ctx, &r.result);
        }
        /* The owner may have closed the client from its unauthorized callback. */
        if (!c->closing)
            pc->done(pc->ctx, &r);
    }
    free(pc->key);
    free(pc);
}

uint64_t matrix_client_request(matrix_client *c, const matrix_call *call, base_error *err)
{
    if (c->closing) {
        base_error_set(err, "%s %.200s: the client is closed", call->method, call->path);
        return 0;
    }
    pending_call *pc = calloc(1, sizeof *pc);
    base_strbuf url = {0};
    base_strbuf_addf(&url, "%s/_matrix/client/v3%s", c->homeserver, call->path);
    char *u = base_strbuf_take(&url);
    if (!pc || !u || (call->key && !(pc->key = base_strdup(call->key)))) {
        if (pc)
            free(pc->key);
        free(pc);
        free(u);
        base_error_set(err, "out of memory starting %s %.200s", call->method, call->path);
        return 0;
    }
    pc->c = c;
    pc->done = call->done;
    pc->ctx = call->ctx;
    pc->token_gen = c->token_gen;
    net_http_request req = {
        .method = call->method,
        .url = u,
        .bearer_token = c->token,
        .content_type = call->body ? "application/json" : NULL,
        .body = call->body,
        .body_len = call->body ? strlen(call->body) : 0,
        .timeout = call->timeout,
        .max_body = call->max_body,
        .secret = call->secret,
    };
    uint64_t id = net_http_send(c->http, &req, on_http_done, pc);
    free(u);
    pc->id = id; /* done never runs before net_http_send has returned */
    if (id == 0) {
        /* The path is safe to name: ids only, never the token. */
        base_error_set(err, "could not start %s %.200s", call->method, call->path);
        free(pc->key);
        free(pc);
    }
    return id;
}

void matrix_client_cancel(matrix_client *c, uint64_t id)
{
    if (!c->closing)
        net_http_cancel(c->http, id);
}

static void on_http_closed(void *ctx)
{
    matrix_client *c = ctx;
    void (*closed)(void *) = c->closed;
    void *closed_ctx = c->closed_ctx;
    base_secret_free(c->token);
    free(c->homeserver);
    free(c);
    if (closed)
        closed(closed_ctx);
}

void matrix_client_close(matrix_client *c, void (*closed)(void *ctx), void *ctx)
{
    if (!c || c->closing)
        return;
    c->closing = 1;
    c->closed = closed;
    c->closed_ctx = ctx;
    net_http_free(c->http, on_http_closed, c);
}

char *matrix_client_path(const char *fmt, ...)
{
    base_strbuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    int bad = 0;
    for (const char *p = fmt; *p && !bad; p++) {
        if (*p != '%') {
            base_strbuf_addn(&b, p, 1);
        } else if (p[1] == '%') {
            base_strbuf_addn(&b, "%", 1);
            p++;
        } else if (p[1] == 's') {
            char *escaped = net_http_escape(va_arg(ap, const char *));
            if (!escaped)
                bad = 1;
            else
                base_strbuf_add(&b, escaped);
            free(escaped);
            p++;
        } else {
            bad = 1;
        }
    }
    va_end(ap);
    char *out = base_strbuf_take(&b);
    if (bad) {
        free(out);
        return NULL;
    }
    return out;
}
