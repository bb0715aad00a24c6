#include "core/lexer.h"

#include <libstemmer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/strmap.h"
#include "core/spelling.h"
#include "core/wordnet.h"

/* Question words resolved at run time are cached; the cache is dropped when
 * it reaches this size, which bounds memory on a long-running bot. */
#define RUNTIME_CACHE_MAX 8192
#define MIN_TYPO_LEN 4
#define MAX_ENTRY_LEN 40

/* A surface entry packs (term + 1) above four CORE_WORD_* bits. */
#define PACK(term, wflags) ((((term) + 1) << 4) | (int)(wflags))
#define PACK_TERM(v) (((v) >> 4) - 1)
#define PACK_FLAGS(v) ((unsigned)(v) & 15u)

/* A vocabulary word with some letters deleted, reduced to a hash: the index
 * stays at 8 bytes a variant, and a hash collision only costs one more edit
 * distance check. */
typedef struct variant {
    uint32_t hash;
    uint32_t word;
} variant;

struct core_lexer {
    struct sb_stemmer *stemmer;
    base_strmap *terms;    /* canonical stem -> term */
    char **names;        /* term -> canonical stem */
    unsigned *flags;     /* term -> CORE_TERM_* */
    size_t n_terms, cap_terms;
    base_strmap *synonyms; /* stem -> term of its group's first word */
    base_strmap *surface;  /* knowledge-base word -> packed entry */
    base_strmap *cache;    /* question word -> packed entry */
    /* typo index: (hash of a delete-variant, vocabulary word), sorted */
    variant *variants;
    size_t n_variants, cap_variants;
    char **vocab;        /* surface words eligible as corrections */
    int *vocab_entry;    /* their packed entries */
    size_t n_vocab, cap_vocab;
    uint64_t *topics;    /* term -> bit (topic % 64) of each topic whose keywords use it */
    size_t cap_topics;
    char **dictionaries; /* hunspell dictionaries the lexicon asks for */
    size_t n_dictionaries;
    core_spelling *spelling; /* loaded by core_lexer_freeze; NULL when off or missing */
    int use_wordnet;     /* the lexicon asks for WordNet links */
    int wordnet_links;   /* links made; -1 when off or the database is missing */
};

static int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap * 2 : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *p = realloc(*arr, cap2 * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = cap2;
    return 0;
}

/* Stems word into out (NUL-terminated); returns the stem's length. */
static size_t stem_word(core_lexer *lex, const char *word, size_t len, char *out, size_t cap)
{
    const sb_symbol *s = sb_stemmer_stem(lex->stemmer, (const sb_symbol *)word, (int)len);
    size_t n = s ? (size_t)sb_stemmer_length(lex->stemmer) : 0;
    if (!s) { /* out of memory inside the stemmer: use the word itself */
        s = (const sb_symbol *)word;
        n = len;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

size_t core_lexer_stem(core_lexer *lex, const char *word, size_t len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    return stem_word(lex, word, len, out, cap);
}

static int intern(core_lexer *lex, const char *stem, size_t len)
{
    int term;
    if (base_strmap_get(lex->terms, stem, len, &term))
        return term;
    size_t cap_names = lex->cap_terms, cap_flags = lex->cap_terms;
    if (grow_array((void **)&lex->names, &cap_names, lex->n_terms + 1, sizeof *lex->names) ||
        grow_array((void **)&lex->flags, &cap_flags, lex->n_terms + 1, sizeof *lex->flags))
        return -1;
    lex->cap_terms = cap_names < cap_flags ? cap_names : cap_flags;
    char *name = malloc(len + 1);
    if (!name)
        return -1;
    memcpy(name, stem, len);
    name[len] = '\0';
    term = (int)lex->n_terms;
    if (base_strmap_put(lex->terms, stem, len, term) != 0) {
        free(name);
        return -1;
    }
    lex->names[term] = name;
    lex->flags[term] = 0;
    lex->n_terms++;
    return term;
}

static int is_ascii_alpha_word(const char *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (w[i] < 'a' || w[i] > 'z')
            return 0;
    return 1;
}

static int add_vocab(core_lexer *lex, const char *word, size_t len, int entry)
{
    if (len < 3 || len > MAX_ENTRY_LEN || !is_ascii_alpha_word(word, len))
        return 0;
    if (grow_array((void **)&lex->vocab, &lex->cap_vocab, lex->n_vocab + 1, sizeof *lex->vocab))
        return -1;
    /* vocab_entry always has the same capacity as vocab */
    int *entries = realloc(lex->vocab_entry, lex->cap_vocab * sizeof *entries);
    if (!entries)
        return -1;
    lex->vocab_entry = entries;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, word, len);
    copy[len] = '\0';
    lex->vocab[lex->n_vocab] = copy;
    lex->vocab_entry[lex->n_vocab] = entry;
    lex->n_vocab++;
    return 0;
}

/* Records a surface word. A word already known keeps its term unless a term
 * is now given; word flags accumulate. */
/* correctable: a misspelling of this word may be corrected to it. Words
 * that only occur in answer texts are not: they would make the typo index
 * several times larger for little gain. */
static int set_surface(core_lexer *lex, const char *word, size_t len, int term, unsigned wflags, int correctable)
{
    int old;
    if (base_strmap_get(lex->surface, word, len, &old)) {
        if (term < 0)
            term = PACK_TERM(old);
        wflags |= PACK_FLAGS(old);
    } else if (term >= 0 && correctable) {
        if (add_vocab(lex, word, len, 0) != 0)
            return -1;
        wflags |= CORE_WORD_CORRECTABLE;
    }
    return base_strmap_put(lex->surface, word, len, PACK(term, wflags | CORE_WORD_KNOWN));
}

/* Lower-cases a knowledge-base word into buf (the JSON may say "AHIMA"). */
static size_t fold_ascii(const char *word, size_t len, char *buf, size_t cap)
{
    if (len >= cap)
        len = cap - 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (word[i] >= 'A' && word[i] <= 'Z') ? (char)(word[i] + 32) : word[i];
    buf[len] = '\0';
    return len;
}

/* Typos are corrected to keyword and phrase words, not to words that only
 * occur in answers or that only signal how a question leans on the last one
 * ("fast" must not become "last"). */
static int corrects_to(unsigned flags)
{
    return (flags & ~(unsigned)(CORE_TERM_PASSAGE | CORE_TERM_SIGNAL)) != 0 || flags == 0;
}

int core_lexer_define(core_lexer *lex, const char *word, size_t len, unsigned flags)
{
    char folded[MAX_ENTRY_LEN + 1], stem[MAX_ENTRY_LEN + 1];
    len = fold_ascii(word, len, folded, sizeof folded);
    int term, entry;
    if (base_strmap_get(lex->surface, folded, len, &entry) && PACK_TERM(entry) >= 0) {
        /* Seen before (or an exact word, which keeps its own term whatever
         * its stem): no need to stem it again. */
        term = PACK_TERM(entry);
        lex->flags[term] |= flags;
        if (corrects_to(flags) && !(PACK_FLAGS(entry) & CORE_WORD_CORRECTABLE)) {
            if (add_vocab(lex, folded, len, 0) != 0)
                return -1;
            return base_strmap_put(lex->surface, folded, len, entry | CORE_WORD_CORRECTABLE) == 0 ? term : -1;
        }
        return term;
    }
    size_t slen = stem_word(lex, folded, len, stem, sizeof stem);
    if (!base_strmap_get(lex->synonyms, stem, slen, &term) && (term = intern(lex, stem, slen)) < 0)
        return -1;
    lex->flags[term] |= flags;
    if (set_surface(lex, folded, len, term, 0, corrects_to(flags)) != 0)
        return -1;
    return term;
}

int core_lexer_note_topic(core_lexer *lex, int term, int topic)
{
    if (term < 0 || (size_t)term >= lex->n_terms || topic < 0)
        return 0;
    size_t cap = lex->cap_topics;
    if (grow_array((void **)&lex->topics, &cap, lex->n_terms, sizeof *lex->topics))
        return -1;
    memset(lex->topics + lex->cap_topics, 0, (cap - lex->cap_topics) * sizeof *lex->topics);
    lex->cap_topics = cap;
    lex->topics[term] |= (uint64_t)1 << (topic % 64);
    return 0;
}

static uint64_t term_topics(const core_lexer *lex, int term)
{
    return term >= 0 && (size_t)term < lex->cap_topics ? lex->topics[term] : 0;
}

static int define_synonyms(core_lexer *lex, const core_synonym_group *g)
{
    char folded[MAX_ENTRY_LEN + 1], stem[MAX_ENTRY_LEN + 1];
    size_t len = fold_ascii(g->words[0], strlen(g->words[0]), folded, sizeof folded);
    size_t slen = stem_word(lex, folded, len, stem, sizeof stem);
    int canon;
    if (!base_strmap_get(lex->synonyms, stem, slen, &canon) && (canon = intern(lex, stem, slen)) < 0)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        len = fold_ascii(g->words[i], strlen(g->words[i]), folded, sizeof folded);
        slen = stem_word(lex, folded, len, stem, sizeof stem);
        if (base_strmap_put(lex->synonyms, stem, slen, canon) != 0 ||
            set_surface(lex, folded, len, canon, 0, 1) != 0)
            return -1;
    }
    return 0;
}

/* An exact group: its words form one term of their own, named "=first", so
 * "certificate" stays apart from "certification" although both stem to
 * "certif". Only these surface forms reach it. */
static int define_exact(core_lexer *lex, const core_synonym_group *g)
{
    char name[MAX_ENTRY_LEN + 2], folded[MAX_ENTRY_LEN + 1];
    size_t len = fold_ascii(g->words[0], strlen(g->words[0]), folded, sizeof folded);
    name[0] = '=';
    memcpy(name + 1, folded, len + 1);
    int term = intern(lex, name, len + 1);
    if (term < 0)
        return -1;
    lex->flags[term] |= CORE_TERM_EXACT;
    for (size_t i = 0; i < g->n; i++) {
        len = fold_ascii(g->words[i], strlen(g->words[i]), folded, sizeof folded);
        if (set_surface(lex, folded, len, term, 0, 1) != 0)
            return -1;
    }
    return 0;
}

static int define_list(core_lexer *lex, const core_string_list *l, unsigned term_flags, unsigned wflags)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strchr(l->items[i], ' '))
            continue; /* a phrase: the matcher looks for it as a whole */
        if (term_flags) {
            if (core_lexer_define(lex, l->items[i], strlen(l->items[i]), term_flags) < 0)
                return -1;
        } else {
            char folded[MAX_ENTRY_LEN + 1];
            size_t len = fold_ascii(l->items[i], strlen(l->items[i]), folded, sizeof folded);
            if (set_surface(lex, folded, len, -1, wflags, 0) != 0)
                return -1;
        }
    }
    return 0;
}

core_lexer *core_lexer_new(const core_lexicon *lx, base_error *err)
{
    core_lexer *lex = calloc(1, sizeof *lex);
    if (!lex) {
        base_error_set(err, "out of memory");
        return NULL;
    }
    lex->stemmer = sb_stemmer_new("english", NULL);
    lex->terms = base_strmap_new(1024);
    lex->synonyms = base_strmap_new(256);
    lex->surface = base_strmap_new(2048);
    lex->cache = base_strmap_new(1024);
    lex->use_wordnet = lx->wordnet;
    lex->wordnet_links = -1;
    /* hunspell's dictionaries: the lexicon's, or the English one. */
    static char *const english[] = {"en_US"};
    const core_string_list *dicts = &lx->hunspell_dictionaries;
    char *const *names = dicts->n ? dicts->items : english;
    size_t n_names = !lx->hunspell ? 0 : dicts->n ? dicts->n : 1;
    lex->dictionaries = calloc(n_names + 1, sizeof *lex->dictionaries);
    int ok = lex->dictionaries != NULL;
    for (size_t i = 0; ok && i < n_names; i++)
        ok = (lex->dictionaries[lex->n_dictionaries++] = base_strdup(names[i])) != NULL;
    ok = ok && lex->stemmer && lex->terms && lex->synonyms && lex->surface && lex->cache;
    for (size_t i = 0; ok && i < lx->n_exact; i++)
        ok = define_exact(lex, &lx->exact[i]) == 0;
    for (size_t i = 0; ok && i < lx->n_synonyms; i++)
        ok = define_synonyms(lex, &lx->synonyms[i]) == 0;
    ok = ok && define_list(lex, &lx->domain, CORE_TERM_DOMAIN, 0) == 0 &&
         define_list(lex, &lx->offtopic, CORE_TERM_OFFTOPIC, 0) == 0 &&
         define_list(lex, &lx->stopwords, 0, CORE_WORD_STOP) == 0 &&
         define_list(lex, &lx->common, 0, CORE_WORD_KNOWN) == 0;
    if (!ok) {
        base_error_set(err, lex->stemmer ? "out of memory" : "the Snowball English stemmer is unavailable");
        core_lexer_free(lex);
        return NULL;
    }
    return lex;
}

void core_lexer_free(core_lexer *lex)
{
    if (!lex)
        return;
    if (lex->stemmer)
        sb_stemmer_delete(lex->stemmer);
    for (size_t i = 0; i < lex->n_terms; i++)
        free(lex->names[i]);
    free(lex->names);
    free(lex->flags);
    for (size_t i = 0; i < lex->n_vocab; i++)
        free(lex->vocab[i]);
    free(lex->vocab);
    free(lex->vocab_entry);
    free(lex->variants);
    free(lex->topics);
    base_strv_free(lex->dictionaries, lex->n_dictionaries);
    core_spelling_free(lex->spelling);
    base_strmap_free(lex->terms);
    base_strmap_free(lex->synonyms);
    base_strmap_free(lex->surface);
    base_strmap_free(lex->cache);
    free(lex);
}

static int link_wordnet(core_lexer *lex, base_error *err);
static int load_spelling(core_lexer *lex);

/* ---- typo index ------------------------------------------------------------ */

static int max_typos(size_t len)
{
    return len < MIN_TYPO_LEN ? 0 : len < 8 ? 1 : 2;
}

static uint32_t variant_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Sorts by hash, then by word, in place, so that the index needs no copy of
 * itself while it is built (a counting sort's copy and counts took more
 * memory than the index): an American flag sort, a byte of the hash at a
 * time from the top, each byte's buckets filled by a cycle of swaps, and
 * insertion for the few variants left in a bucket. Equal hashes end in word
 * order, as a stable sort of the variants as they were made would leave them. */
static int variant_before(variant a, variant b)
{
    return a.hash < b.hash || (a.hash == b.hash && a.word < b.word);
}

static void sort_variants(variant *v, size_t n, int shift)
{
    if (n <= 32 || shift < 0) {
        for (size_t i = 1; i < n; i++) {
            variant x = v[i];
            size_t j = i;
            for (; j > 0 && variant_before(x, v[j - 1]); j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    size_t start[257] = {0}, next[256];
    for (size_t i = 0; i < n; i++)
        start[((v[i].hash >> shift) & 255) + 1]++;
    for (size_t b = 0; b < 256; b++) {
        start[b + 1] += start[b];
        next[b] = start[b];
    }
    /* Buckets before b are complete: what is left belongs to b or later. */
    for (size_t b = 0; b < 256; b++)
        while (next[b] < start[b + 1]) {
            variant x = v[next[b]];
            for (size_t d; (d = (x.hash >> shift) & 255) != b;) {
                variant y = v[next[d]];
                v[next[d]++] = x;
                x = y;
            }
            v[next[b]++] = x;
        }
    for (size_t b = 0; b < 256; b++)
        sort_variants(v + start[b], start[b + 1] - start[b], shift - 8);
}

/* Calls fn for s and every variant of s with up to depth characters deleted. */
typedef int (*variant_fn)(void *ctx, const char *variant, size_t len);

static int each_deletion(const char *s, size_t len, int depth, size_t from, variant_fn fn, void *ctx)
{
    if (fn(ctx, s, len) != 0)
        return -1;
    if (depth == 0 || len <= 1)
        return 0;
    char buf[MAX_ENTRY_LEN + 1];
    for (size_t i = from; i < len; i++) {
        memcpy(buf, s, i);
        memcpy(buf + i, s + i + 1, len - i - 1);
        if (each_deletion(buf, len - 1, depth - 1, i, fn, ctx) != 0)
            return -1;
    }
    return 0;
}

static int index_variant(void *ctx, const char *v, size_t len)
{
    core_lexer *lex = ctx;
    if (grow_array((void **)&lex->variants, &lex->cap_variants, lex->n_variants + 1, sizeof *lex->variants))
        return -1;
    lex->variants[lex->n_variants++] = (variant){variant_hash(v, len), lex->n_vocab};
    return 0;
}

/* How many times each_deletion calls its function for a word of len bytes. */
static size_t deletion_count(size_t len, int depth)
{
    size_t n = 1;
    if (depth >= 1 && len > 1)
        n += len;
    if (depth >= 2 && len > 2)
        n += len * (len - 1) / 2;
    return n;
}

int core_lexer_freeze(core_lexer *lex, base_error *err)
{
    size_t n_vocab = lex->n_vocab, need = lex->n_variants;
    /* The index is made at its final size: doubling it would leave a
     * quarter of it unused on average, and copy it at every step. */
    for (size_t i = 0; i < n_vocab; i++)
        need += deletion_count(strlen(lex->vocab[i]), max_typos(strlen(lex->vocab[i])));
    if (need > lex->cap_variants) {
        variant *grown = realloc(lex->variants, need * sizeof *grown);
        if (!grown)
            return base_error_set(err, "out of memory");
        lex->variants = grown;
        lex->cap_variants = need;
    }
    for (size_t i = 0; i < n_vocab; i++) {
        const char *w = lex->vocab[i];
        size_t len = strlen(w);
        base_strmap_get(lex->surface, w, len, &lex->vocab_entry[i]);
        /* Two deletions are needed on this side only when the word itself
         * allows two typos: a longer question word reaches a shorter one by
         * deletions on its own side. */
        lex->n_vocab = i; /* index_variant tags variants with this word */
        if (each_deletion(w, len, max_typos(len), 0, index_variant, lex) != 0) {
            lex->n_vocab = n_vocab;
            return base_error_set(err, "out of memory");
        }
    }
    lex->n_vocab = n_vocab;
    sort_variants(lex->variants, lex->n_variants, 24);
    size_t out = 0; /* the same deletion reached twice, e.g. "aa" -> "a" */
    for (size_t i = 0; i < lex->n_variants; i++) {
        const variant *prev = out ? &lex->variants[out - 1] : NULL;
        if (!prev || prev->hash != lex->variants[i].hash || prev->word != lex->variants[i].word)
            lex->variants[out++] = lex->variants[i];
    }
    lex->n_variants = out;
    if (out > 0 && out < lex->cap_variants) { /* the same deletion reached twice took room */
        variant *fit = realloc(lex->variants, out * sizeof *fit);
        if (fit) {
            lex->variants = fit;
            lex->cap_variants = out;
        }
    }
    if (lex->n_dictionaries > 0 && load_spelling(lex) != BASE_OK)
        return base_error_set(err, "out of memory");
    return lex->use_wordnet ? link_wordnet(lex, err) : BASE_OK;
}

int core_edit_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
    if (alen > MAX_ENTRY_LEN || blen > MAX_ENTRY_LEN)
        return max + 1;
    if ((alen > blen ? alen - blen : blen - alen) > (size_t)max)
        return max + 1;
    if (alen == 0 || blen == 0) /* all insertions: the length difference, checked above */
        return (int)(alen + blen);
    int d[MAX_ENTRY_LEN + 1][MAX_ENTRY_LEN + 1];
    for (size_t i = 0; i <= alen; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= blen; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        int row_min = max + 1;
        for (size_t j = 1; j <= blen; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > max)
            return max + 1;
    }
    return d[alen][blen] > max ? max + 1 : d[alen][blen];
}

typedef struct correct_ctx {
    core_lexer *lex;
    const char *word;
    size_t len;
    int max;
    int best, best_dist, best_rank;
} correct_ctx;

/* Lower rank wins among equal distances: a matching first letter, then a
 * keyword word, then a length closer to the typed word. */
static int candidate_rank(const correct_ctx *c, int v)
{
    const char *w = c->lex->vocab[v];
    size_t wl = strlen(w);
    int term = PACK_TERM(c->lex->vocab_entry[v]);
    int rank = (w[0] != c->word[0]) * 4;
    rank += (term < 0 || !(c->lex->flags[term] & CORE_TERM_KEYWORD)) * 2;
    rank += wl != c->len;
    return rank;
}

static void consider_word(correct_ctx *c, int v)
{
    const char *w = c->lex->vocab[v];
    int dist = core_edit_distance(c->word, c->len, w, strlen(w), c->max);
    if (dist > c->max)
        return;
    /* Short words keep their first letter: "bake" is not a typo of "make". */
    if (c->len < 6 && w[0] != c->word[0])
        return;
    int rank = candidate_rank(c, v);
    if (c->best < 0 || dist < c->best_dist || (dist == c->best_dist && rank < c->best_rank) ||
        (dist == c->best_dist && rank == c->best_rank && v < c->best)) {
        c->best = v;
        c->best_dist = dist;
        c->best_rank = rank;
    }
}

static int consider_variant(void *ctx, const char *v, size_t len)
{
    correct_ctx *c = ctx;
    const variant *vs = c->lex->variants;
    uint32_t h = variant_hash(v, len);
    size_t lo = 0, hi = c->lex->n_variants;
    while (lo < hi) { /* first variant with this hash */
        size_t mid = lo + (hi - lo) / 2;
        if (vs[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < c->lex->n_variants && vs[lo].hash == h; lo++)
        consider_word(c, (int)vs[lo].word);
    return 0;
}

static int correct(core_lexer *lex, const char *word, size_t len)
{
    int max = max_typos(len);
    if (max == 0 || len > MAX_ENTRY_LEN || !is_ascii_alpha_word(word, len))
        return -1;
    correct_ctx c = {lex, word, len, max, -1, 0, 0};
    each_deletion(word, len, max, 0, consider_variant, &c);
    return c.best < 0 ? -1 : lex->vocab_entry[c.best];
}

/* ---- lookups -------------------------------------------------------------------- */

/* The entry of a word known without correction: a knowledge-base word, a
 * word whose stem is a term (or a WordNet link's), or a stop or common word
 * (or a word whose stem is one: "doing"). Returns 1 and sets *out, or 0. */
static int resolve_known(core_lexer *lex, const char *word, size_t len, int *out)
{
    int entry, known = 0;
    if (base_strmap_get(lex->surface, word, len, &entry)) {
        if (PACK_TERM(entry) >= 0) {
            *out = entry;
            return 1;
        }
        known = 1; /* a stop or common word: never corrected, but its stem may be a term ("working") */
    }
    char stem[MAX_ENTRY_LEN + 1];
    size_t slen = stem_word(lex, word, len, stem, sizeof stem);
    int term;
    if (base_strmap_get(lex->synonyms, stem, slen, &term) || base_strmap_get(lex->terms, stem, slen, &term)) {
        *out = PACK(term, CORE_WORD_KNOWN | (known ? PACK_FLAGS(entry) : 0));
        return 1;
    }
    if (known || (base_strmap_get(lex->surface, stem, slen, &entry) && PACK_TERM(entry) < 0)) {
        *out = entry;
        return 1;
    }
    return 0;
}

static int spell(core_lexer *lex, const char *word, size_t len);

static int resolve(core_lexer *lex, const char *word, size_t len)
{
    int entry;
    if (resolve_known(lex, word, len, &entry))
        return entry;
    entry = correct(lex, word, len);
    if (entry < 0 && lex->spelling)
        entry = spell(lex, word, len);
    if (entry >= 0)
        return PACK(PACK_TERM(entry), PACK_FLAGS(entry) | CORE_WORD_CORRECTED);
    return PACK(-1, 0);
}

/* ---- hunspell ------------------------------------------------------------------ */

#define SPELL_MIN_LEN 3      /* "mak" */
#define SPELL_SUGGESTIONS 8  /* hunspell's first suggestions looked at ("mak": mach, kam, mal, ma, mk, make) */

/* Loads the dictionaries and adds the vocabulary to them; missing
 * dictionaries leave spelling off. Returns BASE_ERR when out of memory. */
static int load_spelling(core_lexer *lex)
{
    base_error why;
    lex->spelling = core_spelling_new(core_spelling_dir(), (const char *const *)lex->dictionaries,
                                      lex->n_dictionaries, &why);
    for (size_t i = 0; lex->spelling && i < lex->n_vocab; i++)
        if (core_spelling_add(lex->spelling, lex->vocab[i]) != 0)
            return BASE_ERR;
    return BASE_OK;
}

typedef struct spell_ctx {
    core_lexer *lex;
    int entry;
} spell_ctx;

/* A suggestion counts when it lands on a word the knowledge base knows:
 * vocabulary, or a stop or common word ("mcuh" -> "much"). */
static int accept_suggestion(void *ctx, const char *word, size_t len)
{
    spell_ctx *c = ctx;
    return len <= MAX_ENTRY_LEN && resolve_known(c->lex, word, len, &c->entry);
}

/* hunspell's help for a word the typo corrector left alone: nothing when
 * hunspell finds it spelt right (medical words, with hunspell-en-med). */
static int spell(core_lexer *lex, const char *word, size_t len)
{
    char buf[MAX_ENTRY_LEN + 1];
    if (len < SPELL_MIN_LEN || len > MAX_ENTRY_LEN || !is_ascii_alpha_word(word, len))
        return -1;
    memcpy(buf, word, len);
    buf[len] = '\0';
    if (core_spelling_is_right(lex->spelling, buf))
        return -1;
    spell_ctx c = {lex, -1};
    return core_spelling_suggest(lex->spelling, buf, SPELL_SUGGESTIONS, accept_suggestion, &c) >= 0 ? c.entry : -1;
}

int core_lexer_has_spelling(const core_lexer *lex)
{
    return lex->spelling != NULL;
}

/* ---- WordNet links ------------------------------------------------------------- */

/* The term of a vocabulary word, or -1. */
static int surface_term(const core_lexer *lex, const char *word, size_t len)
{
    int entry;
    return base_strmap_get(lex->surface, word, len, &entry) ? PACK_TERM(entry) : -1;
}

/* A word that selects or hints at a topic on its own: a one-word keyword
 * (or, for the closeness of a sense, a domain word too), and no off-topic
 * word or conversation signal. Words that only occur inside phrases
 * ("screw" of "screw up", "dead" of "dead end") do not carry the phrase's
 * meaning alone. Domain words receive no links: they make any question look
 * like one about the career, and WordNet's "medical" is also a checkup. */
static int is_topic_word(unsigned flags, unsigned kinds)
{
    return (flags & kinds) && !(flags & (CORE_TERM_OFFTOPIC | CORE_TERM_SIGNAL));
}

static int wordnet_is_free(void *ctx, const char *word, size_t len)
{
    int entry;
    return !resolve_known(ctx, word, len, &entry);
}

/* A sense is close to the domain when another member of its synset, or a
 * word of its definition, is a keyword of one of the target's own topics
 * (not the target again in another form, and no stop or common word):
 * "wage" and "pay" beside "salary", but not "determine" in the definition
 * of "outlook" as a state of mind. */
static int wordnet_is_close(void *ctx, const char *target, const char *text, size_t len)
{
    core_lexer *lex = ctx;
    char self[MAX_ENTRY_LEN + 1], stem[MAX_ENTRY_LEN + 1];
    size_t self_len = stem_word(lex, target, strlen(target), self, sizeof self);
    uint64_t topics = term_topics(lex, surface_term(lex, target, strlen(target)));
    for (size_t i = 0; i < len && topics;) {
        while (i < len && !(text[i] >= 'a' && text[i] <= 'z'))
            i++;
        size_t start = i;
        while (i < len && text[i] >= 'a' && text[i] <= 'z')
            i++;
        int entry, term;
        if (i - start < 3 || i - start > MAX_ENTRY_LEN ||
            (base_strmap_get(lex->surface, text + start, i - start, &entry) && PACK_TERM(entry) < 0) ||
            !resolve_known(lex, text + start, i - start, &entry))
            continue; /* short, a stop or common word, or unknown */
        term = PACK_TERM(entry);
        if (term < 0 || !(term_topics(lex, term) & topics) ||
            !is_topic_word(lex->flags[term], CORE_TERM_WORD | CORE_TERM_DOMAIN))
            continue;
        if (stem_word(lex, text + start, i - start, stem, sizeof stem) != self_len || memcmp(stem, self, self_len))
            return 1;
    }
    return 0;
}

/* word is read as target: its stem joins target's term, as a synonym's. */
static int wordnet_link(void *ctx, const char *word, size_t len, const char *target, int derived)
{
    core_lexer *lex = ctx;
    char stem[MAX_ENTRY_LEN + 1];
    int term = surface_term(lex, target, strlen(target)), old;
    size_t slen = stem_word(lex, word, len, stem, sizeof stem);
    if (term < 0 || base_strmap_get(lex->synonyms, stem, slen, &old) || base_strmap_get(lex->terms, stem, slen, &old))
        return 0; /* another link took this stem first */
    return base_strmap_put(lex->synonyms, stem, slen, term);
}

/* Links WordNet's words to the vocabulary's topic words: keywords, domain
 * words and facet cues, never off-topic words (a loose link must not turn
 * a question away) nor conversation signals. */
static int link_wordnet(core_lexer *lex, base_error *err)
{
    const char **targets = malloc((lex->n_vocab + 1) * sizeof *targets);
    if (!targets)
        return base_error_set(err, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < lex->n_vocab; i++) {
        int term = PACK_TERM(lex->vocab_entry[i]);
        if (term >= 0 && is_topic_word(lex->flags[term], CORE_TERM_WORD))
            targets[n++] = lex->vocab[i];
    }
    core_wordnet_query q = {lex, targets, n, wordnet_is_free, wordnet_is_close, wordnet_link};
    size_t links = 0;
    base_error why;
    int rc = core_wordnet_link(core_wordnet_dir(), &q, &links, &why);
    free(targets);
    lex->wordnet_links = rc == BASE_OK ? (int)links : -1;
    return BASE_OK; /* a missing database leaves WordNet off, as on a build without it */
}

int core_lexer_wordnet_links(const core_lexer *lex)
{
    return lex->wordnet_links;
}

int core_lexer_lookup(core_lexer *lex, const char *word, size_t len, unsigned *word_flags)
{
    int entry;
    if (len == 0 || len > MAX_ENTRY_LEN) {
        *word_flags = 0;
        return -1;
    }
    if (!base_strmap_get(lex->cache, word, len, &entry)) {
        entry = resolve(lex, word, len);
        if (base_strmap_count(lex->cache) >= RUNTIME_CACHE_MAX)
            base_strmap_clear(lex->cache);
        base_strmap_put(lex->cache, word, len, entry); /* a failed put only costs speed */
    }
    *word_flags = PACK_FLAGS(entry);
    return PACK_TERM(entry);
}

int core_lexer_is_stopword(const core_lexer *lex, const char *word, size_t len)
{
    int entry;
    return base_strmap_get(lex->surface, word, len, &entry) && (PACK_FLAGS(entry) & CORE_WORD_STOP);
}

unsigned core_lexer_term_flags(const core_lexer *lex, int term)
{
    return term >= 0 && (size_t)term < lex->n_terms ? lex->flags[term] : 0;
}

const char *core_lexer_term_name(const core_lexer *lex, int term)
{
    return term >= 0 && (size_t)term < lex->n_terms ? lex->names[term] : "";
}

size_t core_lexer_term_count(const core_lexer *lex)
{
    return lex->n_terms;
}
