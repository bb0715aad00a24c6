/* IRC messages: the parser for what servers send, and the builder for the commands the
 * bot sends. Pure functions over one line, no I/O.
 *
 * Wire format (modern.ircdocs.horse, IRCv3 message-tags):
 *   ['@' tags SPACE] [':' source SPACE] verb *(SPACE param) [SPACE ':' trailing]
 *
 * What the parser accepts (liberal, but every input is bounded):
 *   - Any run of trailing CR and LF bytes is stripped first. A NUL, CR or LF anywhere
 *     else in the line is an error (IRC_ERR_BAD_CHAR).
 *   - Leading spaces and runs of spaces between words are skipped; trailing spaces after
 *     the last middle parameter are ignored (":src AWAY " has no parameters).
 *   - The tag section, from the start of the line to '@' .. tags and one space after
 *     them, may be at most IRC_TAGS_MAX bytes (the IRCv3 limit). Everything after that
 *     space (source, verb, params) may be at most IRC_BODY_MAX_IN bytes, not counting the
 *     stripped CR/LF. That is more than the 510 the protocol allows, because some servers
 *     overshoot; anything longer is IRC_ERR_TOO_LONG. IRC_LINE_MAX bounds a whole line,
 *     terminator included, for read buffers.
 *   - Tags: items are split on ';', a key on its first '='. A tag without '=' and a tag
 *     with an empty value both read as the empty string (the spec says they are the
 *     same). Empty items and items with an empty key are skipped. When a key repeats,
 *     the last value wins and the tag keeps its first position. Values are unescaped:
 *     \: -> ';'  \s -> ' '  \\ -> '\'  \r -> CR  \n -> LF; any other escaped byte stands
 *     for itself (the backslash is dropped) and a lone trailing backslash is dropped.
 *   - The source is kept whole ("nick!user@host", or a server name). What the bot needs
 *     of it is the nick, the part before the first '!' or '@': IRCv3 account-notify,
 *     extended-join and chghost name the user by that nick and carry the account, user
 *     and host as parameters, so no user@host splitter is needed.
 *   - The verb must be ASCII letters (any case, kept as sent) or exactly three digits.
 *   - At most IRC_PARAMS_MAX (15) parameters, as RFC 2812: after 14 middle parameters the
 *     rest of the line, spaces included, is the 15th ("extra words join the last one"),
 *     with a leading ':' removed if present. Nothing is ever silently dropped.
 *   - Bytes >= 0x80 (valid UTF-8 or not) and other control bytes pass through unchanged.
 *
 * What the command builder produces (conservative): a single line WITHOUT CR/LF, with no
 * tags and no source (the bot sends neither). ':' goes before the last parameter only
 * when it is needed (the parameter is empty, holds a space or starts with ':'). It
 * refuses anything that would not parse back to the same verb and parameters, and lines
 * longer than the protocol allows (IRC_BODY_MAX = 510 bytes). */
#ifndef IRC_MESSAGE_H
#define IRC_MESSAGE_H

#include <stddef.h>

#define IRC_PARAMS_MAX 15
#define IRC_TAGS_MAX 8191   /* '@' + tags + one space */
#define IRC_BODY_MAX 510    /* source + verb + params, without CRLF: the most we send */
#define IRC_BODY_MAX_IN 1024 /* the same, as far as we accept it from a server */
/* Longest line irc_message_parse accepts, terminator included: size read buffers with it. */
#define IRC_LINE_MAX (IRC_TAGS_MAX + IRC_BODY_MAX_IN + 2)
/* A buffer of this size always holds irc_format_command's output (plus its NUL). */
#define IRC_FORMAT_MAX (IRC_BODY_MAX + 1)

/* Errors are negative; 0 (or a length, for the builder) means success. */
enum {
    IRC_OK = 0,
    IRC_ERR_ARG = -1,        /* a NULL pointer where one is required */
    IRC_ERR_EMPTY = -2,      /* empty line, or only spaces */
    IRC_ERR_TOO_LONG = -3,   /* over the limits above */
    IRC_ERR_BAD_CHAR = -4,   /* NUL, CR or LF where it cannot be */
    IRC_ERR_NO_VERB = -5,    /* tags and/or source but no verb */
    IRC_ERR_BAD_VERB = -6,   /* verb is not letters or three digits */
    IRC_ERR_BAD_SOURCE = -7, /* empty source (a lone ':') */
    IRC_ERR_BAD_PARAM = -8,  /* builder: more than 15 params, or a middle param that is
                                empty, holds a space or starts with ':' */
    IRC_ERR_NOSPACE = -9,    /* output buffer too small */
    IRC_ERR_NOMEM = -10,
};

/* A short English description of an IRC_ERR_* code (static storage). */
const char *irc_strerror(int err);

typedef struct irc_tag {
    const char *key;
    const char *value; /* unescaped; "" when the tag had no value */
} irc_tag;

typedef struct irc_message {
    const irc_tag *tags; /* n_tags entries, in wire order */
    size_t n_tags;
    const char *source;  /* NULL when absent */
    const char *verb;
    const char *params[IRC_PARAMS_MAX];
    size_t n_params;
    void *storage_;      /* private: the parser's one allocation, released by irc_message_free */
} irc_message;

/* Parses one line of len bytes (it need not be NUL-terminated). On success returns 0 and
 * fills *out, whose strings all live in one allocation owned by *out: release it with
 * irc_message_free. On error returns an IRC_ERR_* code and leaves *out zeroed (freeing it
 * is then harmless). Never reads past len. */
int irc_message_parse(const char *line, size_t len, irc_message *out);

/* Releases what irc_message_parse allocated and zeroes *m. Safe on a zeroed message and on
 * NULL. */
void irc_message_free(irc_message *m);

/* Value of the first tag named key, "" for a tag without value, NULL when absent. */
const char *irc_message_tag(const irc_message *m, const char *key);

/* Builds an outgoing client command from untrusted text into buf (NUL-terminated), e.g.
 *   irc_format_command(buf, sizeof buf, "PRIVMSG", (const char *[]){"#chan", text}, 2)
 * Every CR and LF is removed from every param first (NUL ends a C string anyway), so no
 * user text can start a second protocol line. The last param gets ':' when it needs one.
 * After stripping, a middle param must still be a single non-empty word not starting
 * with ':' (else IRC_ERR_BAD_PARAM). Returns the length written, or a negative IRC_ERR_*
 * code (then buf, if cap > 0, holds ""). A buffer of IRC_FORMAT_MAX bytes is always
 * enough. */
int irc_format_command(char *buf, size_t cap, const char *verb, const char *const *params,
                       size_t n);

/* A CTCP request or reply inside PRIVMSG/NOTICE text: "\x01VERB args\x01". The closing
 * \x01 may be missing (ircdocs allows it); anything after it is ignored. Both views point
 * into the text they were split from; nothing is allocated. */
typedef struct irc_ctcp {
    const char *verb; /* not NUL-terminated: use verb_len */
    size_t verb_len;  /* >= 1 */
    const char *args; /* after the single space following the verb; args_len may be 0 */
    size_t args_len;
} irc_ctcp;

/* Returns 1 and fills *out when text is a CTCP message with a non-empty verb, 0 when it is
 * not (then *out is zeroed). "\x01ACTION waves\x01" -> verb "ACTION", args "waves". */
int irc_ctcp_split(const char *text, irc_ctcp *out);

#endif
