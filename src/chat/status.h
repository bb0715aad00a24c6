/* What a network tells its operator about itself: the struct every transport
 * fills (irc_network_status, matrix_network_status) for the status report
 * (SIGUSR1), the metrics and /healthz. Times are seconds on the loop's
 * clock (uv_now / 1000); the reporter turns them into dates. */
#ifndef CHAT_STATUS_H
#define CHAT_STATUS_H

#include <stddef.h>

#include "chat/gate.h"

typedef struct chat_status {
    const char *kind;        /* "irc" or "matrix" */
    const char *name;        /* the NAME of [kind.NAME]; owned by the network */
    int connected;           /* IRC: registered on the server; Matrix: the last /sync succeeded */
    const char *state;       /* one word: "connecting", "registering", "online", "syncing", "retrying",
                                "failed", "stopping" (static text) */
    double since;            /* when it became connected or stopped being so (or started); 0: never */
    double lag;              /* IRC: the last PING's round trip, in seconds; < 0: not measured */
    double last_heard;       /* the last data from the server; 0: none yet */
    size_t rooms;            /* channels or rooms joined now */
    size_t rooms_wanted;     /* channels configured (IRC); 0 when it does not apply */
    size_t queued;           /* lines (IRC) or replies (Matrix) waiting to be sent */
    size_t queue_max;
    chat_gate_counts counts; /* replies since the network was made */
} chat_status;

#endif
