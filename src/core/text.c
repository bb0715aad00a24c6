#include "core/text.h"

#include <string.h>

size_t core_utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned c = s[0];
    *cp = c;
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        need = 2, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return need;
}

size_t core_utf8_valid_prefix(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        size_t n = core_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0)
            break;
        i += n;
    }
    return i;
}

/* Letters and digits make words; so do code points of scripts we cannot fold.
 * Punctuation, symbols, spaces and emoji separate them. */
static int is_word_cp(unsigned cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7)
        return 0; /* Latin-1 symbols and spaces */
    if (cp >= 0x2000 && cp <= 0x2BFF)
        return 0; /* general punctuation, arrows, math, dingbats */
    if (cp >= 0x3000 && cp <= 0x303F)
        return 0; /* CJK punctuation */
    if (cp >= 0xFE00 && cp <= 0xFE0F)
        return 0; /* variation selectors */
    if (cp >= 0x1F000)
        return 0; /* emoji and other pictographs */
    return 1;
}

static int is_apostrophe(unsigned cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x60;
}

static unsigned fold_cp(unsigned cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    return cp;
}

static size_t encode_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int core_text_has_word(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = core_utf8_decode(s + i, len - i, &cp);
        if (n > 0 && is_word_cp(cp))
            return 1;
        i += n ? n : 1;
    }
    return 0;
}

static void push(core_words *out, const char *w, size_t len)
{
    if (out->n >= CORE_MAX_WORDS || len == 0)
        return;
    if (len > CORE_MAX_WORD_LEN)
        len = core_utf8_valid_prefix(w, CORE_MAX_WORD_LEN);
    memcpy(out->word[out->n], w, len);
    out->word[out->n][len] = '\0';
    out->len[out->n] = (unsigned char)len;
    out->n++;
}

static void push_str(core_words *out, const char *w)
{
    push(out, w, strlen(w));
}

/* Chat spellings that stand for several words, or for a word the stemmer
 * would not recognise. Single-word synonyms live in the knowledge base. */
static const char *const shorthand[][3] = {
    {"whats", "what", "is"},     {"wats", "what", "is"},      {"wat", "what", NULL},
    {"hows", "how", "is"},       {"wheres", "where", "is"},   {"whos", "who", "is"},
    {"dont", "do", "not"},       {"doesnt", "does", "not"},   {"didnt", "did", "not"},
    {"cant", "can", "not"},      {"cannot", "can", "not"},    {"isnt", "is", "not"},
    {"arent", "are", "not"},     {"wouldnt", "would", "not"}, {"shouldnt", "should", "not"},
    {"im", "i", "am"},           {"ive", "i", "have"},        {"u", "you", NULL},
    {"ur", "your", NULL},        {"r", "are", NULL},          {"wanna", "want", "to"},
    {"gonna", "going", "to"},    {"gotta", "have", "to"},     {"thx", "thanks", NULL},
    {"pls", "please", NULL},     {"plz", "please", NULL},     {"yrs", "years", NULL},
    {"yr", "year", NULL},        {"w/", "with", NULL},        {"hs", "high", "school"},
};

static int expand_shorthand(core_words *out, const char *w, size_t len)
{
    if (len > 8)
        return 0; /* no shorthand is longer: most words stop here */
    for (size_t i = 0; i < sizeof shorthand / sizeof shorthand[0]; i++) {
        if (shorthand[i][0][0] == w[0] && strlen(shorthand[i][0]) == len && memcmp(shorthand[i][0], w, len) == 0) {
            push_str(out, shorthand[i][1]);
            if (shorthand[i][2])
                push_str(out, shorthand[i][2]);
            return 1;
        }
    }
    return 0;
}

/* Words after which "'s" means "is" rather than a possessive. */
static int s_means_is(const char *w, size_t len)
{
    static const char *const words[] = {"what", "where", "who", "how", "that", "there",
                                        "it", "he", "she", "here", "when", "why", "which"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == len && memcmp(words[i], w, len) == 0)
            return 1;
    return 0;
}

/* w is a folded word that contained apostrophes, given as base (before the
 * first apostrophe) and suffix (after it, apostrophes removed). */
static void push_contraction(core_words *out, const char *base, size_t blen, const char *suf, size_t slen)
{
#define SUFFIX(lit) (slen == sizeof(lit) - 1 && memcmp(suf, lit, slen) == 0)
    if (SUFFIX("t") && blen > 1 && base[blen - 1] == 'n') {
        /* don't, isn't; can't and won't keep or change their stem */
        if (blen == 3 && memcmp(base, "won", 3) == 0)
            push_str(out, "will");
        else if (blen == 3 && memcmp(base, "can", 3) == 0)
            push_str(out, "can");
        else if (blen == 4 && memcmp(base, "shan", 4) == 0)
            push_str(out, "shall");
        else
            push(out, base, blen - 1);
        push_str(out, "not");
    } else if (SUFFIX("s")) {
        push(out, base, blen);
        if (s_means_is(base, blen))
            push_str(out, "is");
    } else if (SUFFIX("re")) {
        push(out, base, blen);
        push_str(out, "are");
    } else if (SUFFIX("m")) {
        push(out, base, blen);
        push_str(out, "am");
    } else if (SUFFIX("ve")) {
        push(out, base, blen);
        push_str(out, "have");
    } else if (SUFFIX("ll")) {
        push(out, base, blen);
        push_str(out, "will");
    } else if (SUFFIX("d")) {
        push(out, base, blen);
        push_str(out, "would");
    } else if (slen == 0) {
        push(out, base, blen); /* doctors' */
    } else {
        /* o'clock, rock'n'roll: keep it as one word */
        char joined[2 * CORE_MAX_WORD_LEN + 2];
        memcpy(joined, base, blen);
        memcpy(joined + blen, suf, slen);
        push(out, joined, blen + slen);
    }
#undef SUFFIX
}

size_t core_text_words(const char *text, size_t len, core_words *out)
{
    const unsigned char *s = (const unsigned char *)text;
    char word[CORE_MAX_WORD_LEN + 8];
    size_t wlen = 0, apos_at = 0; /* apos_at: wlen at the first apostrophe + 1 */
    out->n = 0;
    for (size_t i = 0; i <= len && out->n < CORE_MAX_WORDS;) {
        unsigned cp = 0;
        size_t n = 1;
        if (i < len) {
            n = core_utf8_decode(s + i, len - i, &cp);
            if (n == 0) {
                n = 1;
                cp = ' '; /* invalid byte: a separator */
            }
        }
        int at_end = (i == len);
        int apostrophe = !at_end && is_apostrophe(cp) && wlen > 0 && !apos_at;
        if (!at_end && (is_word_cp(cp) || apostrophe)) {
            if (apostrophe) {
                apos_at = wlen + 1;
            } else {
                char enc[4];
                size_t elen = encode_utf8(fold_cp(cp), enc);
                if (wlen + elen <= CORE_MAX_WORD_LEN) { /* longer words are cut on a character */
                    memcpy(word + wlen, enc, elen);
                    wlen += elen;
                }
            }
        } else if (wlen > 0) {
            if (apos_at) {
                size_t blen = apos_at - 1;
                push_contraction(out, word, blen, word + blen, wlen - blen);
            } else if (!expand_shorthand(out, word, wlen)) {
                push(out, word, wlen);
            }
            wlen = 0;
            apos_at = 0;
        }
        if (at_end)
            break;
        i += n;
    }
    return out->n;
}
