/* Operator commands: what an admin may tell the bot in a direct message
 * (!join, !part, !ignore, !unignore, !say, !status, !reload, and !help with
 * the operator commands listed after the ordinary help), and who is an
 * admin. Pure: text in, a typed command out; the transports carry it out
 * and the application gives them the status and reload hooks.
 *
 * Only the account proves who someone is (an IRC services account, a
 * Matrix user id), never a nick, and only in a direct message: anyone else,
 * or an admin in a channel, gets exactly what the gate says to an unknown
 * command, so nobody learns that these exist. */
#ifndef CHAT_OPERATOR_H
#define CHAT_OPERATOR_H

#include <stddef.h>

#include "base/strbuf.h"
#include "chat/address.h"

typedef enum chat_op_kind {
    CHAT_OP_NONE,     /* not an operator command (an ordinary one, or a question) */
    CHAT_OP_JOIN,     /* target, key (may be "") */
    CHAT_OP_PART,     /* target */
    CHAT_OP_IGNORE,   /* target: a nick or a user id */
    CHAT_OP_UNIGNORE, /* target */
    CHAT_OP_SAY,      /* target, text */
    CHAT_OP_STATUS,
    CHAT_OP_RELOAD,
    CHAT_OP_HELP,     /* !help: the ordinary help, then the operator commands */
} chat_op_kind;

/* How names are written where the command runs. */
typedef enum chat_op_syntax {
    CHAT_OP_IRC,    /* channels #name (or &name), nicks */
    CHAT_OP_MATRIX, /* rooms !id:server or #alias:server, users @name:server */
} chat_op_syntax;

#define CHAT_OP_NAME_MAX 256
#define CHAT_OP_TEXT_MAX 400

typedef struct chat_op {
    chat_op_kind kind;
    char target[CHAT_OP_NAME_MAX];
    char key[CHAT_OP_NAME_MAX];
    char text[CHAT_OP_TEXT_MAX + 1];
    const char *error; /* the arguments are wrong: what to say back (static text); NULL when fine */
} chat_op;

/* Reads text (len bytes, need not be NUL-terminated) as an operator
 * command after one of prefixes (NULL: "!/"). Returns its kind: NONE when it
 * is not one; otherwise out is filled, and out->error says what is wrong
 * with its arguments ("!join needs a channel: !join #chan [key]"). */
chat_op_kind chat_op_parse(const char *text, size_t len, const char *prefixes, chat_op_syntax syntax,
                           chat_op *out);

/* The command's name without its prefix ("join"), for log lines. */
const char *chat_op_name(chat_op_kind kind);

/* Whether account is one of admins, for a message that came as described:
 * only a direct message, only an account (NULL or "" is nobody). IRC
 * accounts compare under the server's casemapping (exact = 0), Matrix user
 * ids exactly (exact = 1). */
int chat_op_is_admin(const char *const *admins, size_t n, const char *account, int direct, chat_casemap map,
                     int exact);

/* What the application does for !status and !reload (the transports are
 * below it): the SIGUSR1 status lines, and a SIGHUP reload whose summary
 * ("reloaded: 2 kept, 1 started") or problems (the old configuration kept)
 * go back to the admin. Either may be NULL. */
typedef struct chat_op_hooks {
    void *ctx;
    void (*status)(void *ctx, base_strbuf *out);
    void (*reload)(void *ctx, base_strbuf *out);
} chat_op_hooks;

/* Appends the operator commands' help to out, with prefix as the command
 * character. */
void chat_op_help(char prefix, chat_op_syntax syntax, base_strbuf *out);

#endif
