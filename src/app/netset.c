#include "app/netset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "conf/conf_keys.h"
#include "irc/irc_config.h"
#include "irc/irc_network.h"
#include "matrix/matrix_config.h"
#include "matrix/matrix_network.h"

typedef enum net_kind { NET_IRC, NET_MATRIX } net_kind;

/* ---- the plan: every section read and checked ------------------------------------ */

typedef struct planned {
    net_kind kind;
    char label[80];     /* "irc.NAME" */
    char *fingerprint;  /* what the settings come to; may hold secrets */
    irc_network_config irc;
    matrix_network_config mx;
} planned;

struct app_netset_plan {
    planned *items;
    size_t n;
};

static const conf_schema *schema_of(net_kind kind)
{
    return kind == NET_IRC ? &irc_network_schema : &matrix_network_schema;
}

static void *settings_of(planned *p)
{
    return p->kind == NET_IRC ? (void *)&p->irc : (void *)&p->mx;
}

static int is_string_type(const conf_type *t)
{
    return t == &conf_string || t == &conf_dir || t == &conf_file;
}

/* Appends s to buf (NULL: only counts). */
static void add(char *buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (buf)
        memcpy(buf + *len, s, n);
    *len += n;
}

/* The keys as written, and every text setting as read: the latter catches
 * what the section inherits ([bot] nick, [bot] state_dir) and what it
 * fetches (a token from a file or the environment). Measured, then written
 * once, so no copy of a secret is left behind by a realloc. */
static size_t write_fingerprint(char *buf, const conf_config *cfg, const conf_section *s, const conf_schema *schema,
                                const void *obj)
{
    size_t len = 0;
    add(buf, &len, cfg->path ? cfg->path : "");
    add(buf, &len, "\n");
    for (size_t i = 0; i < s->n_entries; i++) {
        add(buf, &len, s->entries[i].key);
        add(buf, &len, "=");
        add(buf, &len, s->entries[i].value);
        add(buf, &len, "\n");
    }
    for (size_t i = 0; i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        if (!is_string_type(k->type))
            continue;
        const char *v = *(char *const *)((const char *)obj + k->offset);
        add(buf, &len, "#");
        add(buf, &len, k->name);
        add(buf, &len, v ? "=" : "-");
        add(buf, &len, v ? v : "");
        add(buf, &len, "\n");
    }
    if (buf)
        buf[len] = '\0';
    return len;
}

static char *fingerprint(const conf_config *cfg, const conf_section *s, const conf_schema *schema, const void *obj)
{
    size_t n = write_fingerprint(NULL, cfg, s, schema, obj);
    char *buf = malloc(n + 1);
    if (buf)
        write_fingerprint(buf, cfg, s, schema, obj);
    return buf;
}

/* Passwords and tokens, so the log never shows them. */
static void hide_secrets(const conf_schema *schema, const void *obj)
{
    for (size_t i = 0; i < schema->n_keys; i++) {
        const conf_key *k = &schema->keys[i];
        if ((k->flags & CONF_SECRET) && k->type == &conf_string)
            base_log_add_secret(*(char *const *)((const char *)obj + k->offset));
    }
}

static void planned_free(planned *p)
{
    base_secret_free(p->fingerprint);
    p->fingerprint = NULL;
    conf_section_free(schema_of(p->kind), settings_of(p));
}

void app_netset_plan_free(app_netset_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++)
        planned_free(&plan->items[i]);
    free(plan->items);
    free(plan);
}

size_t app_netset_plan_size(const app_netset_plan *plan)
{
    return plan ? plan->n : 0;
}

app_netset_plan *app_netset_plan_read(const conf_config *cfg, conf_problems *problems)
{
    app_netset_plan *plan = calloc(1, sizeof *plan);
    if (plan && cfg->n_sections)
        plan->items = calloc(cfg->n_sections, sizeof *plan->items);
    if (!plan || (cfg->n_sections && !plan->items)) {
        free(plan);
        conf_problem(problems, cfg->path, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    size_t before = conf_problems_count(problems);
    for (size_t i = 0; i < cfg->n_sections; i++) {
        const conf_section *s = &cfg->sections[i];
        if (s->disabled)
            continue;
        planned *p = &plan->items[plan->n];
        memset(p, 0, sizeof *p);
        if (strcmp(s->kind, "irc") == 0)
            p->kind = NET_IRC;
        else if (strcmp(s->kind, "matrix") == 0)
            p->kind = NET_MATRIX;
        else
            continue;
        const conf_schema *schema = schema_of(p->kind);
        if (conf_section_read(cfg, s, schema, settings_of(p), problems) != BASE_OK)
            continue;
        conf_section_label(s, p->label, sizeof p->label);
        hide_secrets(schema, settings_of(p));
        plan->n++;
        if (!(p->fingerprint = fingerprint(cfg, s, schema, settings_of(p))))
            conf_problem(problems, cfg->path, s->line, p->label, NULL, "out of memory");
    }
    if (conf_problems_count(problems) > before) {
        app_netset_plan_free(plan);
        return NULL;
    }
    return plan;
}

/* ---- the running networks ----------------------------------------------------------- */

typedef struct net net;
struct net {
    app_netset *set;
    net_kind kind;
    char label[80];
    char *fingerprint;
    irc_network *irc;
    matrix_network *mx;
    int started;       /* start was called */
    int stopping;      /* stop was called; its done callback has not come yet */
    int stopped;       /* closed: freed by the reaper */
    int failed;        /* stopped for good on its own */
    int dropping;      /* removed or replaced: it does not come back */
    net *successor;    /* replaces this one once it has stopped */
    net *predecessor;  /* the one this waits for */
};

struct app_netset {
    uv_loop_t *loop;
    core_bot *bot;
    app_netset_hooks hooks;
    chat_op_hooks op_hooks;
    net **nets;
    size_t n, cap;
    uv_timer_t reaper;  /* frees stopped networks on a fresh loop turn */
    int stopping_all;
    int stopped_told;
    size_t applied;     /* plans applied: the first starts everything quietly */
};

app_netset *app_netset_new(uv_loop_t *loop, core_bot *bot, const app_netset_hooks *hooks)
{
    app_netset *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    set->loop = loop;
    set->bot = bot;
    set->hooks = *hooks;
    uv_timer_init(loop, &set->reaper);
    set->reaper.data = set;
    return set;
}

void app_netset_set_operator_hooks(app_netset *set, const chat_op_hooks *hooks)
{
    set->op_hooks = *hooks;
}

static void on_reaper(uv_timer_t *t);

static void kick_reaper(app_netset *set)
{
    uv_timer_start(&set->reaper, on_reaper, 0, 0);
}

static void on_done(void *ctx)
{
    net *n = ctx;
    n->stopping = 0;
    n->stopped = 1;
    kick_reaper(n->set);
}

static void on_failed(void *ctx)
{
    net *n = ctx;
    n->failed = 1;
    if (n->set->hooks.failed && !n->dropping)
        n->set->hooks.failed(n->set->hooks.ctx, n->label);
}

static void start(net *n)
{
    n->started = 1;
    if (n->kind == NET_IRC)
        irc_network_start(n->irc);
    else
        matrix_network_start(n->mx);
}

/* Stops n (why goes in the IRC QUIT). A network that never started is
 * closed at once. */
static void stop(net *n, const char *why)
{
    if (n->stopping || n->stopped)
        return;
    if (!n->started) {
        n->stopped = 1;
        kick_reaper(n->set);
        return;
    }
    n->stopping = 1;
    if (n->kind == NET_IRC)
        irc_network_stop(n->irc, why, on_done, n);
    else
        matrix_network_stop(n->mx, on_done, n);
}

static void net_free(net *n)
{
    if (n->kind == NET_IRC)
        irc_network_free(n->irc);
    else
        matrix_network_free(n->mx);
    base_secret_free(n->fingerprint);
    free(n);
}

static int push(app_netset *set, net *n)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        net **grown = realloc(set->nets, cap * sizeof *grown);
        if (!grown)
            return -1;
        set->nets = grown;
        set->cap = cap;
    }
    set->nets[set->n++] = n;
    return 0;
}

/* A network from its settings (taken over, also on failure). */
static net *make(app_netset *set, planned *p)
{
    net *n = calloc(1, sizeof *n);
    if (!n) {
        planned_free(p);
        return NULL;
    }
    n->set = set;
    n->kind = p->kind;
    memcpy(n->label, p->label, sizeof n->label);
    n->fingerprint = p->fingerprint;
    p->fingerprint = NULL;
    if (p->kind == NET_IRC) {
        n->irc = irc_network_new(set->loop, &p->irc, set->bot);
        if (n->irc)
            irc_network_set_operator_hooks(n->irc, &set->op_hooks);
    } else {
        n->mx = matrix_network_new(set->loop, &p->mx, set->bot);
        if (n->mx) {
            matrix_network_on_failure(n->mx, on_failed, n);
            matrix_network_set_operator_hooks(n->mx, &set->op_hooks);
        }
    }
    if ((!n->irc && !n->mx) || push(set, n) != 0) {
        base_log(BASE_LOG_ERROR, n->label, "cannot set up this network: out of memory");
        net_free(n);
        return NULL;
    }
    return n;
}

static void on_reaper(uv_timer_t *t)
{
    app_netset *set = t->data;
    size_t kept = 0;
    for (size_t i = 0; i < set->n; i++) {
        net *n = set->nets[i];
        if (!n->stopped) {
            set->nets[kept++] = n;
            continue;
        }
        net *next = n->successor;
        if (n->predecessor)
            n->predecessor->successor = next;
        if (next)
            next->predecessor = n->predecessor;
        net_free(n);
        /* The one replacing it starts once the old one is gone (its
         * connection closed, its state saved), never beside it. */
        if (next && !next->predecessor && !next->started && !next->stopped && !set->stopping_all)
            start(next);
    }
    set->n = kept;
    if (set->stopping_all && set->n == 0 && !set->stopped_told) {
        set->stopped_told = 1;
        if (set->hooks.stopped)
            set->hooks.stopped(set->hooks.ctx);
    }
}

/* The network now standing for label: the newest that is not dropped. */
static net *current(app_netset *set, const char *label)
{
    for (size_t i = set->n; i-- > 0;)
        if (!set->nets[i]->dropping && strcmp(set->nets[i]->label, label) == 0)
            return set->nets[i];
    return NULL;
}

static planned *find_planned(app_netset_plan *plan, const char *label)
{
    for (size_t i = 0; i < plan->n; i++)
        if (plan->items[i].fingerprint && strcmp(plan->items[i].label, label) == 0)
            return &plan->items[i];
    return NULL;
}

int app_netset_apply(app_netset *set, app_netset_plan *plan, app_netset_changes *changes)
{
    memset(changes, 0, sizeof *changes);
    int rc = BASE_OK;
    size_t existing = set->n;
    for (size_t i = 0; i < existing; i++) {
        net *old = set->nets[i];
        if (old->dropping || current(set, old->label) != old)
            continue;
        planned *p = find_planned(plan, old->label);
        if (p && !old->failed && strcmp(p->fingerprint, old->fingerprint) == 0) {
            planned_free(p); /* unchanged: it keeps its connection */
            changes->kept++;
            continue;
        }
        old->dropping = 1;
        if (!p) {
            base_log_kv(BASE_LOG_INFO, old->label, (const char *[]){"event", "remove", NULL},
                        "no longer in the configuration: stopping");
            stop(old, "careerbot is going offline");
            changes->stopped++;
            continue;
        }
        base_log_kv(BASE_LOG_INFO, old->label, (const char *[]){"event", "restart", NULL},
                    old->failed ? "starting again" : "settings changed: reconnecting with the new ones");
        net *fresh = make(set, p);
        if (!fresh) {
            rc = BASE_ERR;
        } else {
            old->successor = fresh;
            fresh->predecessor = old;
        }
        stop(old, "careerbot is reconnecting with new settings"); /* one that never ran goes at once */
        changes->restarted++;
    }
    for (size_t i = 0; i < plan->n; i++) {
        planned *p = &plan->items[i];
        if (!p->fingerprint)
            continue; /* kept or used above */
        net *n = make(set, p);
        if (!n) {
            rc = BASE_ERR;
            continue;
        }
        if (set->applied)
            base_log_kv(BASE_LOG_INFO, n->label, (const char *[]){"event", "add", NULL}, "new in the configuration: starting");
        start(n);
        changes->started++;
    }
    free(plan->items);
    free(plan);
    set->applied++;
    return rc;
}

size_t app_netset_alive(const app_netset *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += !set->nets[i]->dropping && !set->nets[i]->failed && !set->nets[i]->stopped;
    return n;
}

size_t app_netset_count(const app_netset *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++)
        n += !set->nets[i]->dropping;
    return n;
}

size_t app_netset_status(const app_netset *set, chat_status *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < set->n && n < cap; i++) {
        const net *x = set->nets[i];
        if (x->dropping)
            continue;
        if (x->kind == NET_IRC)
            irc_network_status(x->irc, &out[n]);
        else
            matrix_network_status(x->mx, &out[n]);
        if (!x->started)
            out[n].state = "waiting";
        n++;
    }
    return n;
}

void app_netset_stop_all(app_netset *set)
{
    set->stopping_all = 1;
    for (size_t i = 0; i < set->n; i++) {
        set->nets[i]->dropping = 1;
        stop(set->nets[i], "careerbot is going offline");
    }
    kick_reaper(set);
}

static void on_reaper_closed(uv_handle_t *h)
{
    free(h->data);
}

void app_netset_free(app_netset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        net_free(set->nets[i]);
    free(set->nets);
    set->nets = NULL;
    set->n = 0;
    uv_close((uv_handle_t *)&set->reaper, on_reaper_closed);
}
