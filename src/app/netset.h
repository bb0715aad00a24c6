/* The networks a configuration names, kept in step with it: the first
 * configuration starts them all; a later one (SIGHUP) starts the networks it
 * adds, stops those it drops, restarts those whose settings changed, and
 * leaves the others connected. Each network is known by its section
 * ("irc.NAME", "matrix.NAME") and what its settings come to. */
#ifndef APP_NETSET_H
#define APP_NETSET_H

#include <stddef.h>
#include <uv.h>

#include "careerbot/bot.h"
#include "chat/operator.h"
#include "chat/status.h"
#include "conf/conf.h"

typedef struct app_netset app_netset;

typedef struct app_netset_hooks {
    void *ctx;
    /* A network stopped for good on its own (a Matrix token refused); the
     * others go on. From a fresh loop turn. */
    void (*failed)(void *ctx, const char *label);
    /* app_netset_stop_all finished: every network is closed. */
    void (*stopped)(void *ctx);
} app_netset_hooks;

/* The networks run on loop and answer through bot (borrowed). NULL when out
 * of memory. */
app_netset *app_netset_new(uv_loop_t *loop, core_bot *bot, const app_netset_hooks *hooks);

/* What every network does for an admin's !status and !reload (copied;
 * given to the networks made from then on). */
void app_netset_set_operator_hooks(app_netset *set, const chat_op_hooks *hooks);

/* The settings of every enabled section of cfg, read and checked, ready to
 * apply. Every problem goes to problems; NULL when there was one (nothing
 * is kept then). */
typedef struct app_netset_plan app_netset_plan;
app_netset_plan *app_netset_plan_read(const conf_config *cfg, conf_problems *problems);
void app_netset_plan_free(app_netset_plan *plan);
size_t app_netset_plan_size(const app_netset_plan *plan);

/* What applying a plan did, for the log. */
typedef struct app_netset_changes {
    size_t started, stopped, restarted, kept;
} app_netset_changes;

/* Makes the running networks what plan says (plan is used up). Networks
 * whose settings are unchanged keep running; a failed network is always
 * started again. A restarted network stops first (QUIT, state saved) and
 * starts when it has. Returns BASE_ERR when out of memory (the networks
 * set up so far run). */
int app_netset_apply(app_netset *set, app_netset_plan *plan, app_netset_changes *changes);

/* Networks running or about to run (not failed, not being dropped). */
size_t app_netset_alive(const app_netset *set);
/* The status of every network that is not being dropped, into out (up to
 * cap); returns how many there are. Pointers are valid until the loop runs
 * again. */
size_t app_netset_status(const app_netset *set, chat_status *out, size_t cap);
size_t app_netset_count(const app_netset *set);

/* Stops every network; hooks.stopped runs once all are closed (at once
 * when there are none). */
void app_netset_stop_all(app_netset *set);
/* Frees a set whose networks are stopped (after hooks.stopped), or all at
 * once when the loop is done; the memory of networks goes with their
 * handles. */
void app_netset_free(app_netset *set);

#endif
