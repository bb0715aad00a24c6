/* How people address the bot by name at the start of a message, and how
 * names compare: the one definition every transport uses. */
#ifndef CHAT_ADDRESS_H
#define CHAT_ADDRESS_H

#include <stddef.h>

/* Which letters count as the same. IRC servers announce theirs in ISUPPORT
 * CASEMAPPING; Matrix display names and ids compare as ASCII. */
typedef enum chat_casemap {
    CHAT_CASE_ASCII,           /* A-Z are a-z */
    CHAT_CASE_RFC1459,         /* also []\~ are {}|^ (IRC's traditional default) */
    CHAT_CASE_STRICT_RFC1459,  /* also []\ are {}| (not ~ and ^) */
} chat_casemap;

/* The casemap an IRC server names in ISUPPORT ("ascii", "rfc1459",
 * "strict-rfc1459"); anything else (NULL, "rfc7613", unknown) is rfc1459. */
chat_casemap chat_casemap_from_name(const char *name);

/* c folded to lower case under map. */
int chat_fold(unsigned char c, chat_casemap map);

/* True when a and b are the same name under map. */
int chat_name_equal(const char *a, const char *b, chat_casemap map);

/* When text starts by addressing name ("careerbot: hi", "careerbot, hi",
 * "@careerbot hi", "Career Bot - hi", case folded under map; leading
 * white space skipped), returns the rest with leading white space and
 * dashes skipped, and its length in *rest_len; otherwise NULL. The name must
 * end there: "careerbots" and "careerbot2:" are someone else. A name that
 * starts with '@' (a Matrix user id) is matched as it is. NULL or "" names
 * never match. */
const char *chat_addressed_to(const char *text, size_t len, const char *name, chat_casemap map,
                              size_t *rest_len);

#endif
