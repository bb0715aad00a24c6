#include "chat/address.h"

#include <string.h>

chat_casemap chat_casemap_from_name(const char *name)
{
    if (name && strcmp(name, "ascii") == 0)
        return CHAT_CASE_ASCII;
    if (name && strcmp(name, "strict-rfc1459") == 0)
        return CHAT_CASE_STRICT_RFC1459;
    return CHAT_CASE_RFC1459;
}

int chat_fold(unsigned char c, chat_casemap map)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    /* RFC 1459 made [ ] \ the upper case of { } |, and most servers add ~ ^. */
    if (map == CHAT_CASE_RFC1459 && c >= '[' && c <= '^')
        return c + 32;
    if (map == CHAT_CASE_STRICT_RFC1459 && c >= '[' && c <= ']')
        return c + 32;
    return c;
}

int chat_name_equal(const char *a, const char *b, chat_casemap map)
{
    for (; *a && *b; a++, b++)
        if (chat_fold((unsigned char)*a, map) != chat_fold((unsigned char)*b, map))
            return 0;
    return *a == *b;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *chat_addressed_to(const char *text, size_t len, const char *name, chat_casemap map,
                              size_t *rest_len)
{
    size_t n = name ? strlen(name) : 0, i = 0;
    if (n == 0)
        return NULL;
    while (i < len && is_space(text[i]))
        i++;
    if (i < len && text[i] == '@' && name[0] != '@')
        i++;
    if (len - i < n)
        return NULL;
    for (size_t k = 0; k < n; k++)
        if (chat_fold((unsigned char)text[i + k], map) != chat_fold((unsigned char)name[k], map))
            return NULL;
    i += n;
    if (i < len && (text[i] == ':' || text[i] == ',' || text[i] == ';'))
        i++;
    else if (i < len && !is_space(text[i]))
        return NULL; /* "careerbots" is not "careerbot" */
    while (i < len && (is_space(text[i]) || text[i] == '-'))
        i++;
    *rest_len = len - i;
    return text + i;
}
