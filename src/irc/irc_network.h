/* One IRC network: connection, session and the bot glue (who gets answered,
 * flood control, line splitting, reconnects); its settings are in
 * irc/irc_config.h. */
#ifndef IRC_NETWORK_H
#define IRC_NETWORK_H

#include <stddef.h>
#include <uv.h>

#include "careerbot/bot.h"
#include "chat/operator.h"
#include "chat/status.h"
#include "irc/irc_config.h"
#include "irc/irc_session.h"

typedef struct irc_network irc_network;

/* Creates the network (it borrows bot and copies nothing it does not own:
 * config is taken over and freed with the network). */
irc_network *irc_network_new(uv_loop_t *loop, irc_network_config *config, core_bot *bot);
/* What !status and !reload do (the application's); before start. */
void irc_network_set_operator_hooks(irc_network *n, const chat_op_hooks *hooks);
/* Connects, and keeps reconnecting until irc_network_stop. */
void irc_network_start(irc_network *n);
/* Sends QUIT, flushes, closes; done_cb runs when the connection is closed. */
void irc_network_stop(irc_network *n, const char *message, void (*done_cb)(void *ctx), void *ctx);
/* Fills out with the network's state for the status report (pointers into
 * the network: valid until it changes or is freed). */
void irc_network_status(const irc_network *n, chat_status *out);
/* Frees a stopped network (after its done_cb). */
void irc_network_free(irc_network *n);

#endif
