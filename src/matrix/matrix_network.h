/* One Matrix account on one homeserver: login or token check, the /sync
 * long-poll, invites, the bot glue (who gets answered, rate limits) and the
 * ordered, idempotent send queue, all on the libuv loop through net_http. */
#ifndef MATRIX_NETWORK_H
#define MATRIX_NETWORK_H

#include <uv.h>

#include "careerbot/bot.h"
#include "chat/operator.h"
#include "chat/status.h"
#include "matrix/matrix_config.h"

typedef struct matrix_network matrix_network;

/* Creates the network. It borrows bot and takes over config (freed with the
 * network). NULL when out of memory (config is freed then too). */
matrix_network *matrix_network_new(uv_loop_t *loop, matrix_network_config *config, core_bot *bot);
/* failed_cb runs once, from the loop, when the account stops for good on its
 * own (token rejected without a password, wrong user, unusable state
 * directory). The other networks are not affected. */
void matrix_network_on_failure(matrix_network *n, void (*failed_cb)(void *ctx), void *ctx);
/* What !status and !reload do (the application's); before start. */
void matrix_network_set_operator_hooks(matrix_network *n, const chat_op_hooks *hooks);
/* Checks the token (or logs in), then syncs and answers until stopped. */
void matrix_network_start(matrix_network *n);
/* Lets replies in flight finish (briefly), saves the state, and runs done_cb
 * once nothing is left in flight. Also fine on a failed network. */
void matrix_network_stop(matrix_network *n, void (*done_cb)(void *ctx), void *ctx);
/* Fills out with the account's state for the status report (pointers into
 * the network: valid until it changes or is freed). */
void matrix_network_status(const matrix_network *n, chat_status *out);
/* Frees the network; the memory goes once its handles have closed. */
void matrix_network_free(matrix_network *n);

#endif
