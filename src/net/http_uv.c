/* HTTP on the libuv loop: libcurl's multi interface in "socket" mode.
 *
 * libcurl tells us which sockets to watch (on_socket: one uv_poll_t each)
 * and when it next wants a timeout (on_timer_request: one uv_timer_t). When
 * libuv reports activity we call curl_multi_socket_action, then read the
 * finished transfers with curl_multi_info_read.
 *
 * Two rules shape the code:
 * - libcurl must never be called from inside its own callbacks, and user
 *   code may call us back from a done callback. So our curl callbacks only
 *   touch libuv handles and buffers; finished transfers are queued and
 *   delivered (deliver) after curl_multi_socket_action has returned.
 * - A uv handle's memory must outlive its close callback, and the loop must
 *   stay alive until curl_multi_cleanup is done. So net_http_free cleans up
 *   curl first, then closes the handles, and h is released in the last
 *   close callback. */
#include "net/http_uv.h"

#include "base/str.h"

#include <curl/curl.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CAREERBOT_VERSION
#define CAREERBOT_VERSION "dev"
#endif

/* A response larger than this fails rather than growing without bound (a
 * Matrix /sync after a long absence can be big, but not this big); a request
 * may ask for a smaller cap. */
#define BODY_CAP ((size_t)32 * 1024 * 1024)
/* After a body this large is freed, the allocator gives the memory back to
 * the system (glibc keeps freed memory in its arenas otherwise). */
#define TRIM_AFTER ((size_t)1024 * 1024)
#define RETRY_AFTER_MAX 1e9 /* seconds: a silly value stays large but finite */
#define DEFAULT_TIMEOUT_S 60.0
#define MAX_TIMEOUT_S (24.0 * 86400.0) /* keeps the milliseconds inside an int */
#define MAX_METHOD_LEN 16

static const char cancelled_text[] = "cancelled";

typedef enum tstate {
    T_ACTIVE,     /* in the multi handle */
    T_QUEUED,     /* finished, waiting for deliver */
    T_DELIVERING  /* its done callback is running */
} tstate;

typedef struct transfer {
    struct transfer *prev, *next; /* in h->active or h->queue */
    uint64_t id;
    tstate state;
    CURL *easy;
    struct curl_slist *headers;   /* must outlive easy */
    net_http_done_cb done;
    void *ctx;
    char *body;                   /* NUL-terminated when not NULL */
    size_t body_len, body_cap;
    size_t max_body;              /* the cap for this request */
    char *req_body;               /* our copy of the request body (libcurl reads it in place) */
    size_t req_body_len;
    int secret;                   /* wipe req_body, body and the headers before freeing them */
    int retried;                  /* already sent again on a fresh connection */
    int hit_cap;                  /* failed on the body cap */
    int too_large, no_memory;     /* why on_body refused data */
    long status;
    double retry_after;
    const char *error;            /* errbuf, a static string, or NULL */
    char errbuf[CURL_ERROR_SIZE];
} transfer;

typedef struct tlist {
    transfer *head, *tail;
    size_t count;
} tlist;

/* One watched socket. Lives until its poll handle's close callback. */
typedef struct sock_ctx {
    uv_poll_t poll;
    net_http *h;
    curl_socket_t fd;
    int closing;
    struct sock_ctx *prev, *next; /* in h->socks while not closing */
} sock_ctx;

struct net_http {
    uv_loop_t *loop;
    CURLM *multi;               /* NULL once curl_multi_cleanup ran */
    uv_timer_t timer;           /* libcurl's timeout */
    uv_timer_t kick;            /* delivers cancellations on the next loop turn */
    char *ca_file;
    char *proxy;                /* NULL: no proxy, whatever the environment says */
    uint64_t next_id;
    tlist active, queue;
    sock_ctx *socks;
    size_t open_handles;        /* uv handles whose close callback is still due */
    int delivering;             /* inside deliver: done callbacks are running */
    int freeing;                /* net_http_free was called */
    void (*closed)(void *ctx);
    void *closed_ctx;
};

/* ---- small helpers ---- */

/* libcurl's global state, set up once for the process (the bot has one
 * thread, so the order of the first calls is all that matters). */
static int curl_ready(base_error *err)
{
    static int state; /* 0 not yet, 1 ready, -1 failed */
    if (state == 0)
        state = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 1 : -1;
    if (state < 0)
        return base_error_set(err, "http: libcurl cannot be initialised");
    return BASE_OK;
}

static void tlist_push(tlist *l, transfer *t)
{
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->count++;
}

static void tlist_remove(tlist *l, transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    l->count--;
}

static transfer *tlist_find(const tlist *l, uint64_t id)
{
    for (transfer *t = l->head; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

/* ---- sockets: one uv_poll_t per socket libcurl asks us to watch ---- */

static void release_if_done(net_http *h);

static void on_sock_closed(uv_handle_t *handle)
{
    sock_ctx *s = handle->data;
    net_http *h = s->h;
    free(s);
    h->open_handles--;
    release_if_done(h);
}

/* Stops watching now (libcurl may close the fd right after we return) and
 * frees the context in the close callback. Safe to call twice. */
static void sock_close(net_http *h, sock_ctx *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static sock_ctx *sock_open(net_http *h, curl_socket_t fd)
{
    sock_ctx *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
        free(s); /* libuv did not initialise the handle: nothing to close */
        return NULL;
    }
    s->poll.data = s;
    s->h = h;
    s->fd = fd;
    s->next = h->socks;
    if (h->socks)
        h->socks->prev = s;
    h->socks = s;
    h->open_handles++;
    return s;
}

static sock_ctx *sock_find(net_http *h, curl_socket_t fd)
{
    for (sock_ctx *s = h->socks; s; s = s->next)
        if (s->fd == fd)
            return s;
    return NULL;
}

static void close_all_socks(net_http *h)
{
    while (h->socks)
        sock_close(h, h->socks);
}

/* ---- driving libcurl ---- */

static void on_poll(uv_poll_t *poll, int status, int events);

/* CURLMOPT_SOCKETFUNCTION. Only libuv calls and curl_multi_assign (which
 * libcurl allows from its callbacks) happen here. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    net_http *h = userp;
    sock_ctx *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s)
            sock_close(h, s);
        return 0;
    }
    if (h->freeing)
        return 0; /* only during curl_multi_cleanup: nothing left to wait for */
    /* Failures below return 0 all the same: returning -1 would make libcurl
     * abort every transfer of this multi handle for good, while an unwatched
     * socket only lets its own transfer run into its timeout, which reports
     * an error through done as usual. */
    if (!s || s->closing) {
        s = sock_open(h, fd);
        if (!s)
            return 0;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION. libcurl normally sends CURL_POLL_REMOVE first;
 * this is the backstop that guarantees no poll handle outlives its fd (a
 * reused fd number would otherwise collide with the stale watcher). */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
    net_http *h = clientp;
    sock_ctx *s = sock_find(h, fd);
    if (s)
        sock_close(h, s);
    return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the uv timer; a timeout of 0 fires on
 * the next loop turn, so socket_action is never called from in here. */
static void on_timer(uv_timer_t *timer);

static int on_timer_request(CURLM *multi, long timeout_ms, void *userp)
{
    net_http *h = userp;
    (void)multi;
    if (h->freeing || timeout_ms < 0) {
        uv_timer_stop(&h->timer);
        return 0;
    }
    uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0); /* fails only when closing */
    return 0;
}

static const char *result_error(transfer *t, CURLcode rc)
{
    if (rc == CURLE_OK)
        return NULL;
    if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        t->hit_cap = 1;
        snprintf(t->errbuf, sizeof t->errbuf, "response body larger than %zu %s",
                 t->max_body >= 1024 * 1024 ? t->max_body / (1024 * 1024) : t->max_body / 1024,
                 t->max_body >= 1024 * 1024 ? "MiB" : "KiB");
        return t->errbuf;
    }
    if (t->no_memory)
        return "out of memory for the response body";
    if (t->errbuf[0])
        return t->errbuf;
    return curl_easy_strerror(rc);
}

/* Frees a header list, wiping each line first: one may hold the token. */
static void headers_free(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i; i = i->next)
        if (i->data)
            base_secret_wipe(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

static void free_buffer(char **p, size_t len, int secret)
{
    if (*p && secret)
        base_secret_wipe(*p, len);
    free(*p);
    *p = NULL;
}

/* Takes t out of libcurl and queues it for delivery. */
static void retire(net_http *h, transfer *t)
{
    curl_multi_remove_handle(h->multi, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
    headers_free(t->headers);
    t->headers = NULL;
    free_buffer(&t->req_body, t->req_body_len, t->secret);
    tlist_remove(&h->active, t);
    tlist_push(&h->queue, t);
    t->state = T_QUEUED;
}

/* A failed transfer's partial body is dropped: nobody should parse
 * truncated JSON by mistake. */
static void drop_body(transfer *t)
{
    free_buffer(&t->body, t->body_cap, t->secret);
    t->body_len = t->body_cap = 0;
}

static void mark_cancelled(transfer *t)
{
    t->error = cancelled_text;
    t->status = 0;
    t->retry_after = -1;
    drop_body(t);
}

/* Nothing came back on a connection kept alive from an earlier request:
 * the server closed it (a FIN or a reset) just as this request went out,
 * so the request most likely never reached it. Worth one more try on a
 * fresh connection rather than a failure and a backoff. libcurl retries
 * some of these itself; a reset while reading is not among them. */
static int worth_resending(transfer *t, CURLcode rc, long status)
{
    long connects = -1;
    if (t->retried || status != 0 || t->body_len > 0)
        return 0;
    if (rc != CURLE_GOT_NOTHING && rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR)
        return 0;
    return curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects == 0;
}

static int resend(net_http *h, transfer *t)
{
    curl_multi_remove_handle(h->multi, t->easy);
    t->retried = 1;
    t->errbuf[0] = '\0';
    t->retry_after = -1;
    drop_body(t);
    if (curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK)
        return 0;
    return curl_multi_add_handle(h->multi, t->easy) == CURLM_OK;
}

static void complete(net_http *h, transfer *t, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (worth_resending(t, rc, status) && resend(h, t))
        return;
    t->status = status;
    t->error = result_error(t, rc);
    if (t->error)
        drop_body(t);
    retire(h, t);
}

/* Reads every finished transfer; only called outside libcurl's callbacks. */
static void collect(net_http *h)
{
    CURLMsg *msg;
    int left;
    while (h->multi && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg dies in remove_handle: copy first */
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        transfer *t = (transfer *)(void *)priv;
        if (t && t->state == T_ACTIVE)
            complete(h, t, rc);
    }
}

/* Runs the done callbacks of queued transfers. A callback may send, cancel
 * or free re-entrantly: whatever it queues is picked up by this same loop,
 * and the transfer being reported is off every list while its callback
 * runs, so nothing can free it underneath us. */
static void deliver(net_http *h)
{
    if (h->delivering)
        return;
    h->delivering = 1;
    transfer *t;
    while ((t = h->queue.head) != NULL) {
        tlist_remove(&h->queue, t);
        t->state = T_DELIVERING;
        net_http_response r = {
            .status = t->status,
            .body = t->body ? t->body : "",
            .body_len = t->body ? t->body_len : 0,
            .retry_after = t->retry_after,
            .error = t->error,
            .too_large = t->error && (t->too_large || t->hit_cap),
        };
        t->done(t->ctx, &r);
        size_t cap = t->body_cap;
        free_buffer(&t->body, t->body_cap, t->secret);
        free(t);
#ifdef __GLIBC__
        if (cap >= TRIM_AFTER)
            malloc_trim(0);
#endif
    }
    h->delivering = 0;
}

/* Everything after curl_multi_socket_action is ordinary code again; note
 * that a done callback may have freed the client, so h is not touched after
 * deliver. */
static void drive(net_http *h, curl_socket_t fd, int flags)
{
    int running = 0;
    curl_multi_socket_action(h->multi, fd, flags, &running);
    collect(h);
    deliver(h);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    sock_ctx *s = poll->data;
    net_http *h = s->h;
    if (s->closing || h->freeing)
        return;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    drive(h, s->fd, flags); /* s may be gone after this */
}

static void on_timer(uv_timer_t *timer)
{
    net_http *h = timer->data;
    if (!h->freeing)
        drive(h, CURL_SOCKET_TIMEOUT, 0);
}

static void on_kick(uv_timer_t *timer)
{
    deliver(timer->data);
}

/* Cancellations are reported on the next loop turn, never from inside
 * net_http_cancel; inside deliver, the running loop picks them up. */
static void schedule_delivery(net_http *h)
{
    if (!h->delivering && !h->freeing)
        uv_timer_start(&h->kick, on_kick, 0, 0);
}

/* ---- release ---- */

/* The last close callback releases h: by then curl_multi_cleanup is done
 * and no uv handle refers to h's memory. Cancelled requests not yet reported
 * are reported first, then closed() runs. */
static void release_if_done(net_http *h)
{
    if (!h->freeing || h->open_handles > 0 || h->delivering)
        return;
    deliver(h);
    void (*closed)(void *) = h->closed;
    void *ctx = h->closed_ctx;
    free(h->ca_file);
    free(h->proxy);
    free(h);
    if (closed)
        closed(ctx);
}

static void on_timer_closed(uv_handle_t *handle)
{
    net_http *h = handle->data;
    h->open_handles--;
    release_if_done(h);
}

/* ---- the response, as libcurl hands it over ---- */

static int body_reserve(transfer *t, size_t need)
{
    if (need <= t->body_cap)
        return 1;
    if (need > t->max_body + 1)
        return 0; /* on_body checks first; this keeps the loop below finite regardless */
    size_t cap = t->body_cap ? t->body_cap : 16384;
    while (cap < need)
        cap = cap > t->max_body / 2 ? t->max_body + 1 : cap * 2;
    char *p;
    if (t->secret) {
        /* realloc would leave the old copy behind unwiped */
        if (!(p = malloc(cap)))
            return 0;
        if (t->body)
            memcpy(p, t->body, t->body_len + 1);
        free_buffer(&t->body, t->body_cap, 1);
    } else if (!(p = realloc(t->body, cap))) {
        return 0;
    }
    t->body = p;
    t->body_cap = cap;
    return 1;
}

/* CURLOPT_WRITEFUNCTION. Returning less than given makes libcurl fail the
 * transfer (CURLE_WRITE_ERROR); the flags say why. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    size_t n = size * nmemb; /* size is always 1 */
    if (n > t->max_body - t->body_len) {
        t->too_large = 1;
        return 0;
    }
    if (!body_reserve(t, t->body_len + n + 1)) {
        t->no_memory = 1;
        return 0;
    }
    memcpy(t->body + t->body_len, data, n);
    t->body_len += n;
    t->body[t->body_len] = '\0';
    return n;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The HTTP-date form ("Wed, 21 Oct 2015 07:28:00 GMT"): seconds from now
 * until then, 0 when it has passed, -1 when it is not a date. */
static double retry_date(const char *value, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    time_t when = curl_getdate(buf, NULL);
    if (when == (time_t)-1)
        return -1;
    double d = difftime(when, time(NULL));
    return d < 0 ? 0 : d > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : d;
}

double net_http_parse_retry_after(const char *line, size_t len)
{
    static const char name[] = "retry-after:";
    size_t nlen = sizeof name - 1, i;
    if (len < nlen)
        return -1;
    for (i = 0; i < nlen; i++)
        if (ascii_lower((unsigned char)line[i]) != name[i])
            return -1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t end = len;
    while (end > i && strchr(" \t\r\n", line[end - 1]))
        end--;
    double v = 0;
    size_t digits = 0, j = i;
    for (; j < end && line[j] >= '0' && line[j] <= '9'; j++, digits++)
        if (v < RETRY_AFTER_MAX)
            v = v * 10 + (line[j] - '0');
    if (digits > 0 && j == end)
        return v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : v;
    return digits == 0 ? retry_date(line + i, end - i) : -1;
}

/* CURLOPT_HEADERFUNCTION: one header line at a time. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
    transfer *t = userp;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        t->retry_after = -1; /* a new response (after 100 Continue): start over */
    } else {
        double v = net_http_parse_retry_after(line, n);
        if (v >= 0)
            t->retry_after = v;
    }
    return n;
}

/* ---- building a request ---- */

/* Header values must not smuggle in a line break (header injection) or
 * other control bytes. */
static int header_value_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int method_ok(const char *m)
{
    size_t n = 0;
    for (; m[n]; n++)
        if (m[n] < 'A' || m[n] > 'Z' || n >= MAX_METHOD_LEN)
            return 0;
    return n > 0;
}

static long timeout_ms(double seconds)
{
    if (!(seconds > 0)) /* also catches NaN */
        seconds = DEFAULT_TIMEOUT_S;
    if (seconds > MAX_TIMEOUT_S)
        seconds = MAX_TIMEOUT_S;
    long ms = (long)(seconds * 1000.0);
    return ms < 1 ? 1 : ms;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line)
        return 0;
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(*list, line);
    base_secret_wipe(line, n); /* it may hold the access token */
    free(line);
    if (!l)
        return 0;
    *list = l;
    return 1;
}

static int build_headers(transfer *t, const net_http_request *req, int has_body)
{
    struct curl_slist *l = NULL;
    t->headers = NULL;
    if (!add_header(&l, "Accept", "application/json"))
        goto fail;
    /* libcurl would send "Expect: 100-continue" for large bodies and wait for
     * the server's go-ahead; Matrix servers answer directly. */
    if (!(l = curl_slist_append(l, "Expect:")))
        goto fail;
    if (req->bearer_token && req->bearer_token[0]) {
        size_t n = strlen(req->bearer_token) + 8;
        char *value = malloc(n);
        if (!value)
            goto fail;
        snprintf(value, n, "Bearer %s", req->bearer_token);
        int ok = add_header(&l, "Authorization", value);
        base_secret_wipe(value, n);
        free(value);
        if (!ok)
            goto fail;
    }
    if (req->content_type) {
        if (!add_header(&l, "Content-Type", req->content_type))
            goto fail;
    } else if (has_body) {
        if (!add_header(&l, "Content-Type", "application/json"))
            goto fail;
    } else if (!(l = curl_slist_append(l, "Content-Type:"))) {
        /* without this, a POST with no body would claim a form encoding */
        goto fail;
    }
    t->headers = l;
    return 1;
fail:
    headers_free(l);
    return 0;
}

/* setopt can fail only on out-of-memory or an option this libcurl lacks;
 * either way the request is refused. */
#define SETOPT(e, opt, val)                                                    \
    do {                                                                       \
        if (curl_easy_setopt((e), (opt), (val)) != CURLE_OK)                   \
            return 0;                                                          \
    } while (0)

static int set_method(CURL *e, transfer *t, const char *method, const net_http_request *req, size_t body_len)
{
    if (strcmp(method, "GET") == 0) {
        SETOPT(e, CURLOPT_HTTPGET, 1L);
        return 1;
    }
    /* Every other method sends a body (maybe empty, so Content-Length: 0):
     * POSTFIELDS makes libcurl send it, CUSTOMREQUEST renames the method.
     * The body is our copy, which libcurl reads in place (COPYPOSTFIELDS
     * would make a copy of its own that nobody wipes: a login's password). */
    if (!(t->req_body = malloc(body_len + 1)))
        return 0;
    if (body_len)
        memcpy(t->req_body, req->body, body_len);
    t->req_body[body_len] = '\0';
    t->req_body_len = body_len;
    SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    SETOPT(e, CURLOPT_POSTFIELDS, t->req_body);
    if (strcmp(method, "POST") != 0)
        SETOPT(e, CURLOPT_CUSTOMREQUEST, method);
    return 1;
}

static int setup_easy(net_http *h, transfer *t, const net_http_request *req, const char *method,
                      size_t body_len)
{
    CURL *e = t->easy;
    SETOPT(e, CURLOPT_URL, req->url);
    SETOPT(e, CURLOPT_PRIVATE, (void *)t);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(e, CURLOPT_TIMEOUT_MS, timeout_ms(req->timeout));
    SETOPT(e, CURLOPT_ERRORBUFFER, t->errbuf);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(e, CURLOPT_WRITEDATA, (void *)t);
    SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(e, CURLOPT_HEADERDATA, (void *)t);
    SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body); /* fails early on a large Content-Length */
    SETOPT(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    SETOPT(e, CURLOPT_CLOSESOCKETDATA, (void *)h);
    SETOPT(e, CURLOPT_USERAGENT, "careerbot/" CAREERBOT_VERSION);
    SETOPT(e, CURLOPT_HTTPHEADER, t->headers);
    if (h->ca_file)
        SETOPT(e, CURLOPT_CAINFO, h->ca_file);
    /* "" disables proxies, the environment's included: a proxy only when
     * configured. */
    SETOPT(e, CURLOPT_PROXY, h->proxy ? h->proxy : "");
    /* Compressed responses if the server offers them (a big /sync shrinks a lot). */
    (void)curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* optional: fine without zlib */
    return set_method(e, t, method, req, body_len);
}

static int request_ok(const net_http_request *req, const char *method)
{
    if (!req->url || !req->url[0] || !method_ok(method))
        return 0;
    if (strcmp(method, "GET") == 0 && req->body)
        return 0; /* libcurl cannot send a GET body without turning it into a POST */
    if (req->bearer_token && !header_value_ok(req->bearer_token))
        return 0;
    if (req->content_type && !header_value_ok(req->content_type))
        return 0;
    return 1;
}

static void transfer_discard(transfer *t)
{
    if (t->easy)
        curl_easy_cleanup(t->easy);
    headers_free(t->headers);
    free_buffer(&t->req_body, t->req_body_len, t->secret);
    free(t);
}

/* ---- public functions ---- */

net_http *net_http_new(uv_loop_t *loop, const char *ca_file, base_error *err)
{
    if (!loop) {
        base_error_set(err, "http: no event loop");
        return NULL;
    }
    if (ca_file) {
        /* Fail at startup, not on the first request, when the file is wrong. */
        FILE *f = fopen(ca_file, "r");
        struct stat st;
        int ok = f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
        if (f)
            fclose(f);
        if (!ok) {
            base_error_set(err, "http: cannot read CA file %s", ca_file);
            return NULL;
        }
    }
    if (curl_ready(err) != BASE_OK)
        return NULL;
    net_http *h = calloc(1, sizeof *h);
    if (!h || (ca_file && !(h->ca_file = base_strdup(ca_file))) || !(h->multi = curl_multi_init())) {
        if (h)
            free(h->ca_file);
        free(h);
        base_error_set(err, "http: out of memory");
        return NULL;
    }
    h->loop = loop;
    h->next_id = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, (void *)h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_request);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, (void *)h);
    uv_timer_init(loop, &h->timer); /* cannot fail */
    uv_timer_init(loop, &h->kick);
    h->timer.data = h;
    h->kick.data = h;
    h->open_handles = 2;
    return h;
}

int net_http_set_proxy(net_http *h, const char *proxy, base_error *err)
{
    char *copy = NULL;
    if (proxy && *proxy && !(copy = base_strdup(proxy)))
        return base_error_set(err, "http: out of memory");
    free(h->proxy);
    h->proxy = copy;
    return BASE_OK;
}

uint64_t net_http_send(net_http *h, const net_http_request *req, net_http_done_cb done, void *ctx)
{
    if (!h || h->freeing || !req || !done)
        return 0;
    const char *method = req->method ? req->method : "GET";
    if (!request_ok(req, method))
        return 0;
    size_t body_len = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;

    transfer *t = calloc(1, sizeof *t);
    if (!t)
        return 0;
    t->done = done;
    t->ctx = ctx;
    t->retry_after = -1;
    t->secret = req->secret;
    t->max_body = req->max_body && req->max_body < BODY_CAP ? req->max_body : BODY_CAP;
    if (!(t->easy = curl_easy_init()) || !build_headers(t, req, req->body != NULL) ||
        !setup_easy(h, t, req, method, body_len)) {
        transfer_discard(t);
        return 0;
    }
    t->id = h->next_id++;
    t->state = T_ACTIVE;
    tlist_push(&h->active, t);
    if (curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
        tlist_remove(&h->active, t);
        transfer_discard(t);
        return 0;
    }
    return t->id;
}

void net_http_cancel(net_http *h, uint64_t id)
{
    if (!h || h->freeing || id == 0)
        return;
    transfer *t = tlist_find(&h->active, id);
    if (t) {
        retire(h, t);
        mark_cancelled(t);
        schedule_delivery(h);
        return;
    }
    /* Finished but not yet reported: report the cancellation instead, so
     * after net_http_cancel the caller sees "cancelled" or nothing new. */
    t = tlist_find(&h->queue, id);
    if (t)
        mark_cancelled(t);
}

size_t net_http_active(const net_http *h)
{
    return h ? h->active.count + h->queue.count : 0;
}

void net_http_free(net_http *h, void (*closed)(void *ctx), void *ctx)
{
    if (!h || h->freeing)
        return;
    h->freeing = 1;
    h->closed = closed;
    h->closed_ctx = ctx;
    /* User code never runs inside libcurl's callbacks, so libcurl may be
     * called from here, even when we are inside a done callback. */
    while (h->active.head) {
        transfer *t = h->active.head;
        retire(h, t);
        mark_cancelled(t);
    }
    for (transfer *t = h->queue.head; t; t = t->next)
        mark_cancelled(t);
    /* No transfer is left, so no socket needs watching; stop the polls
     * before curl_multi_cleanup closes the kept-alive connections. */
    close_all_socks(h);
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    close_all_socks(h);
    uv_timer_stop(&h->timer);
    uv_timer_stop(&h->kick);
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
    uv_close((uv_handle_t *)&h->kick, on_timer_closed);
    /* h is released in the last close callback (release_if_done). */
}

char *net_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* RFC 3986 unreserved characters stand for themselves. */
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        }
    }
    out[k] = '\0';
    return out;
}
